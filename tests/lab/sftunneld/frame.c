// SPDX-License-Identifier: ISC
/* frame -- sftunnel(7) framing and the lines inside it, for the lab's daemon and bench/peersim.c */
#include <limits.h>
#include <stdint.h>
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

/* The line at p: 1 with *n its length without the '\n'; 0 or -1. */
static int
line_at(const unsigned char *p, size_t avail, size_t *n)
{
	const unsigned char *nl;

	if ((nl = memchr(p, '\n', avail < FR_LINE_MAX ? avail :
	    FR_LINE_MAX)) == NULL)
		return avail < FR_LINE_MAX ? 0 : -1;
	*n = (size_t)(nl - p);
	return 1;
}

/*
 * A word of 1 to size-1 visible ASCII bytes at *pp, before end, copied
 * NUL-terminated to out; a single space after it is skipped unless it
 * is the last field, which must end the line.
 */
static int
word(const unsigned char **pp, const unsigned char *end, char *out,
    size_t size, int last)
{
	const unsigned char *p = *pp;
	size_t n = 0;

	while (p + n < end && p[n] > ' ' && p[n] < 0x7f)
		n++;
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	p += n;
	if (last ? p != end : p == end || *p++ != ' ')
		return -1;
	*pp = p;
	return 0;
}

/* A decimal number of at most max, as word() delimits it. */
static int
number(const unsigned char **pp, const unsigned char *end, uintmax_t max,
    uintmax_t *v, int last)
{
	char b[24];
	uintmax_t d;
	size_t i;

	if (word(pp, end, b, sizeof(b), last) == -1)
		return -1;
	*v = 0;
	for (i = 0; b[i] != '\0'; i++) {
		if (b[i] < '0' || b[i] > '9')
			return -1;
		d = (uintmax_t)(b[i] - '0');
		/* *v * 10 + d <= max, without wrapping (d may exceed max) */
		if (d > max || *v > (max - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	return 0;
}

int
frame_file_head(const void *buf, size_t avail, struct frame_file *f,
    size_t *used)
{
	const unsigned char *p = buf, *end;
	struct frame_file t;
	uintmax_t v;
	size_t n;
	int r;

	if ((r = line_at(p, avail, &n)) != 1)
		return r;
	end = p + n;
	if (n < 5 || memcmp(p, "FILE ", 5) != 0)
		return -1;
	p += 5;
	if (word(&p, end, t.name, sizeof(t.name), 0) == -1 ||
	    number(&p, end, FR_FILE_MAX, &v, 0) == -1 ||
	    word(&p, end, t.sha, sizeof(t.sha), 1) == -1)
		return -1;
	t.size = (size_t)v;
	*f = t;
	*used = n + 1;
	return 1;
}

int
frame_push_head(const void *buf, size_t avail, unsigned *id, size_t *n,
    size_t *used)
{
	const unsigned char *p = buf, *end;
	uintmax_t a, b;
	size_t len;
	int r;

	if ((r = line_at(p, avail, &len)) != 1)
		return r;
	end = p + len;
	if (number(&p, end, UINT_MAX, &a, 0) == -1 ||
	    number(&p, end, FR_PUSH_FILES, &b, 1) == -1)
		return -1;
	*id = (unsigned)a;
	*n = (size_t)b;
	*used = len + 1;
	return 1;
}

int
frame_pushr_head(const void *buf, size_t avail, unsigned *id, size_t *used)
{
	const unsigned char *p = buf, *end;
	uintmax_t a;
	size_t len;
	int r;

	if ((r = line_at(p, avail, &len)) != 1)
		return r;
	end = p + len;
	if (number(&p, end, UINT_MAX, &a, 1) == -1)
		return -1;
	*id = (unsigned)a;
	*used = len + 1;
	return 1;
}

int
frame_ctl_push(const void *buf, size_t len, struct frame_ctlpush *r)
{
	const unsigned char *p = buf, *q, *end;
	uintmax_t v;
	size_t n, i, off, used;
	int rv;

	memset(r, 0, sizeof(*r));
	if ((rv = line_at(p, len, &n)) != 1)
		return rv;
	q = p;
	end = p + n;
	if (n < 5 || memcmp(q, "PUSH ", 5) != 0)
		return -1;
	q += 5;
	if (word(&q, end, r->uuid, sizeof(r->uuid), 0) == -1 ||
	    number(&q, end, FR_PUSH_FILES, &v, 1) == -1 || v == 0)
		return -1;
	r->n = (size_t)v;
	r->hlen = off = n + 1;
	for (i = 0; i < r->n; i++) {
		if ((rv = frame_file_head(p + off, len - off, &r->f[i],
		    &used)) != 1)
			return rv;
		off += used;
		if (len - off < r->f[i].size)
			return 0;
		r->data[i] = off;
		off += r->f[i].size;
	}
	r->end = off;
	return 1;
}
