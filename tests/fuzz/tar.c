// SPDX-License-Identifier: ISC
/* tar -- fuzz the archive a jump host fetches from the FMC (fileset_from_tar) */
#include <string.h>

#include "fileset.h"
#include "log.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-tar");
	log_quiet(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fileset fs;

	memset(&fs, 0, sizeof(fs));
	(void)fileset_from_tar(&fs, data, len);
	fileset_release(&fs);
	return 0;
}
