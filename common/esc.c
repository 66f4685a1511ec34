// SPDX-License-Identifier: ISC
/* esc.c -- untrusted text made safe to print: strvis(3) and its inverse */
#define LIBBSD_OPENBSD_VIS	/* the historical strnvis; we use neither */
#include <stdio.h>
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

size_t
esc_utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;	/* no UTF-16 surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* nothing past U+10FFFF */
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

char *
esc_json(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char *out, *o;
	size_t n;

	/* at most six bytes per byte ("\u001f", "\ufffd"), two quotes */
	o = out = xmalloc(strlen(str) * 6 + 3);
	*o++ = '"';
	while (*s != '\0') {
		if (*s == '"' || *s == '\\') {
			*o++ = '\\';
			*o++ = (char)*s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			snprintf(o, 7, "\\u%04x", *s++);
			o += 6;
		} else if ((n = esc_utf8_len(s)) == 0) {
			memcpy(o, "\\ufffd", 6);
			o += 6;
			s++;
		} else {
			memcpy(o, s, n);
			o += n;
			s += n;
		}
	}
	*o++ = '"';
	*o = '\0';
	return out;
}
