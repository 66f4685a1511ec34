// SPDX-License-Identifier: ISC
/* manifest -- fuzz a renewal's MANIFEST as a resume reads it */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manifest.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-manifest");
	log_quiet(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	enum manifest_err err;
	char **v;
	size_t n, line, i, k;

	if (manifest_parse((const char *)data, len, &v, &n, &line,
	    &err) == 0) {
		/* what it accepts is only what a renewal writes, once */
		for (i = 0; i < n; i++) {
			if (!manifest_allowed(v[i]))
				abort();
			for (k = 0; k < i; k++)
				if (strcmp(v[i], v[k]) == 0)
					abort();
		}
		manifest_free(v, n);
	} else if (v != NULL || err == MANIFEST_OK || line == 0)
		abort();
	return 0;
}
