// SPDX-License-Identifier: ISC
/* devcheck -- fuzz a device's answer to the read-only --check script */
#include <stdlib.h>
#include <string.h>

#include "devcheck.h"
#include "log.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-devcheck");
	log_quiet(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *buf = (const char *)data;
	struct dc_answer a;
	long long v;
	size_t bad, i, sum = 0;

	if (devcheck_parse(buf, len, &a, &bad) == -1) {
		if (bad > len)
			abort();
		return 0;
	}
	/* what it accepts lies inside the answer, within the caps */
	for (i = 0; i < DCT_N; i++) {
		const struct dc_item *it = &a.it[i];

		if (it->state != DCI_DATA) {
			if (it->p != NULL || it->len != 0)
				abort();
			continue;
		}
		if (it->p < buf || it->p + it->len > buf + len ||
		    it->len > 65536)
			abort();
		sum += it->len;
		if ((i == DCT_TIME || i == DCT_FREE || i == DCT_HFREE) &&
		    devcheck_number(it, &v) == 0 &&
		    (v < -(1LL << 40) || v > (1LL << 50)))
			abort();
	}
	/* ... and ends with END */
	if (len < 4 || memcmp(buf + len - 4, "END\n", 4) != 0 || sum > len)
		abort();
	return 0;
}
