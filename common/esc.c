// SPDX-License-Identifier: ISC
/* esc.c -- untrusted text made safe to print: strvis(3) and its inverse */
#define LIBBSD_OPENBSD_VIS	/* the historical strnvis; we use neither */
#include <stdlib.h>
#include <string.h>
#include <vis.h>

#include "esc.h"
#include "xmalloc.h"
#include "banned.h"

#define ESC_FLAGS	(VIS_CSTYLE | VIS_OCTAL | VIS_WHITE | VIS_NOLOCALE)
#define ESC_TFLAGS	(VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL | VIS_NOLOCALE)

static char *
encode(char *dst, size_t dstlen, const char *s, int flags)
{
	char one[ESC_SIZE(1)], *e;
	size_t o = 0, n;

	if (ESC_SIZE(strlen(s)) <= dstlen) {
		strvis(dst, s, flags);
		return dst;
	}
	/* too long: encode one character at a time while it fits */
	for (; *s != '\0'; s++) {
		e = vis(one, (unsigned char)s[0], flags, (unsigned char)s[1]);
		n = (size_t)(e - one);
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, one, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}

char *
esc_vis(char *dst, size_t dstlen, const char *s)
{
	return encode(dst, dstlen, s, ESC_FLAGS);
}

char *
esc_vist(char *dst, size_t dstlen, const char *s)
{
	return encode(dst, dstlen, s, ESC_TFLAGS);
}

int
esc_unvis(char *dst, size_t dstlen, const char *s)
{
	char *tmp;
	int n, rc = -1;

	tmp = xmalloc(strlen(s) + 1);
	n = strunvis(tmp, s);
	/* a decoded NUL would cut the text short */
	if (n >= 0 && (size_t)n == strlen(tmp) && (size_t)n < dstlen) {
		memcpy(dst, tmp, (size_t)n + 1);
		rc = 0;
	}
	free(tmp);
	return rc;
}
