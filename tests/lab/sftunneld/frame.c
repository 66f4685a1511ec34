// SPDX-License-Identifier: ISC
/* frame -- sftunnel(7) framing, for the lab's daemon and bench/peersim.c */
#include <string.h>

#include "frame.h"
#include "banned.h"

size_t
frame_encode(unsigned char *out, int type, const void *payload, size_t len)
{
	out[0] = (unsigned char)type;
	out[1] = (unsigned char)(len >> 24);
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
	if (len > 0)
		memcpy(out + FR_HDR, payload, len);
	return FR_HDR + len;
}

int
frame_decode(const unsigned char *buf, size_t avail, int *type, size_t *len)
{
	size_t n;

	if (avail < FR_HDR)
		return 0;
	n = (size_t)buf[1] << 24 | (size_t)buf[2] << 16 |
	    (size_t)buf[3] << 8 | buf[4];
	if (n > FR_MAX)
		return -1;
	if (avail - FR_HDR < n)
		return 0;
	*type = buf[0];
	*len = n;
	return 1;
}
