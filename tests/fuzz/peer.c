// SPDX-License-Identifier: ISC
/* peer -- fuzz sftunnel.json (peer_parse) */
#include "log.h"
#include "peers.h"
#include "fuzz.h"

#define FOLDER	"3c1a5a66-a8e1-11ee-9d7b-2d2a5b2c7f10"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-peer");
	log_quiet(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct peer p;

	(void)peer_parse((const char *)data, len, "sftunnel.json", FOLDER, &p);
	return 0;
}
