// SPDX-License-Identifier: ISC
/* ctl_request -- fuzz the lab daemon's control request parser (a PUSH and its files) */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct frame_ctlpush r;
	size_t i;

	if (frame_ctl_push(data, len, &r) != 1)
		return 0;
	/* What the daemon then forwards must lie inside the request. */
	if (r.n == 0 || r.n > FR_PUSH_FILES || r.end > len || r.hlen > r.end)
		abort();
	for (i = 0; i < r.n; i++)
		if (r.data[i] > r.end || r.f[i].size > r.end - r.data[i] ||
		    memchr(r.f[i].name, ' ', strlen(r.f[i].name)) != NULL)
			abort();
	return 0;
}
