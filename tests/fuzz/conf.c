// SPDX-License-Identifier: ISC
/* conf -- fuzz ims.conf and sftunnel.conf as the commands read them (conf_parse) */
#include "conf.h"
#include "log.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-conf");
	log_quiet(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct conf *c = NULL;

	if (conf_parse((const char *)data, len, "ims.conf", &c) == 0) {
		(void)conf_get(c, "APPLIANCE_UUID");
		(void)conf_get(c, "HOSTNAME");
		conf_free(c);
	}
	return 0;
}
