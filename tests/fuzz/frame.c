// SPDX-License-Identifier: ISC
/* frame -- fuzz the sftunnel(7) stream: frames, push payloads and their FILE headers, push replies */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

/* Walk an FR_PUSH payload as sftunneld-push.c does. */
static void
push(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	struct frame_file f;
	size_t n, i, used;
	unsigned id;

	if (frame_push_head(p, len, &id, &n, &used) != 1)
		return;
	if (n > FR_PUSH_FILES || used > len)
		abort();
	p += used;
	for (i = 0; i < n; i++) {
		if (frame_file_head(p, (size_t)(end - p), &f, &used) != 1 ||
		    f.size > (size_t)(end - (p + used)))
			break;
		/* One line: no field from the next. */
		if (memchr(p, '\n', used - 1) != NULL ||
		    f.size > FR_FILE_MAX || f.name[0] == '\0')
			abort();
		p += used + f.size;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t off = 0, plen, used;
	unsigned id;
	int type, r;

	while ((r = frame_decode(data + off, len - off, &type, &plen)) == 1) {
		const unsigned char *p = data + off + FR_HDR;

		if (type == FR_PUSH)
			push(p, plen);
		else if (type == FR_PUSHR)
			(void)frame_pushr_head(p, plen, &id, &used);
		off += FR_HDR + plen;
	}
	/* And the whole input as one payload of either kind. */
	push(data, len);
	(void)frame_pushr_head(data, len, &id, &used);
	return 0;
}
