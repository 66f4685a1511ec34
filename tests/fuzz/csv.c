// SPDX-License-Identifier: ISC
/* csv -- fuzz devices.csv (csv_parse) */
#include "csv.h"
#include "log.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-csv");
	log_quiet(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct csv *c = NULL;

	if (csv_parse((const char *)data, len, "devices.csv", &c) == 0)
		csv_free(c);
	return 0;
}
