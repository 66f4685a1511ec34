// SPDX-License-Identifier: ISC
/* csv.c -- devices.csv: one device per row, parsed whole before any work */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "log.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

#define CSV_FIELDS_MIN	4
#define CSV_FIELDS_MAX	5

/* One field as parsed: a slice of a scratch buffer the caller wipes. */
struct field {
	char	*s;
	size_t	 len;
};

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/*
 * Split one line (no line end) into fields, unquoting into scratch,
 * which is at least len + 1 bytes.  Returns the field count, or -1 with
 * *why set.
 */
static int
split(const char *line, size_t len, char *scratch, struct field *f, int max,
    const char **why)
{
	size_t i = 0, o = 0;
	int nf = 0;

	for (;;) {
		size_t start;

		while (i < len && is_blank(line[i]))
			i++;
		if (nf == max) {
			*why = "too many fields";
			return -1;
		}
		start = o;
		if (i < len && line[i] == '"') {
			i++;
			for (;;) {
				if (i >= len) {
					*why = "unterminated quoted field";
					return -1;
				}
				if (line[i] == '"') {
					if (i + 1 < len && line[i + 1] == '"') {
						scratch[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				scratch[o++] = line[i++];
			}
			while (i < len && is_blank(line[i]))
				i++;
			if (i < len && line[i] != ',') {
				*why = "text after a closing quote";
				return -1;
			}
		} else {
			size_t end;

			while (i < len && line[i] != ',') {
				if (line[i] == '"') {
					*why = "quote inside an unquoted field";
					return -1;
				}
				scratch[o++] = line[i++];
			}
			end = o;
			while (end > start && is_blank(scratch[end - 1]))
				end--;
			o = end;
		}
		f[nf].s = scratch + start;
		f[nf].len = o - start;
		scratch[o++] = '\0';
		nf++;
		if (i >= len)
			break;
		i++;		/* the comma */
	}
	return nf;
}

static int
printable(const struct field *f)
{
	size_t i;

	for (i = 0; i < f->len; i++)
		if (iscntrl((unsigned char)f->s[i]))
			return 0;
	return 1;
}

/*
 * 1 when s is well-formed UTF-8 (RFC 3629): no stray continuation byte,
 * no overlong form, no surrogate, nothing past U+10FFFF.
 */
static int
utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k;
	unsigned long cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int
addr_valid(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static const char *const field_names[CSV_FIELDS_MAX] = {
	"device_name", "ipaddr", "login", "password", "role"
};

/* Fill row from the fields; why (whylen bytes) says what is wrong. */
static int
fill_row(struct csv *c, struct csv_row *r, struct field *f, int nf,
    char *why, size_t whylen)
{
	char vname[CSV_VNAME_MAX];
	int i;

	if (nf < CSV_FIELDS_MIN) {
		strlcpy(why, "expected device_name,ipaddr,login,password",
		    whylen);
		return -1;
	}
	for (i = 0; i < nf; i++)
		if (!utf8_valid(f[i].s, f[i].len)) {
			snprintf(why, whylen, "invalid UTF-8 in %s",
			    field_names[i]);
			return -1;
		}
	/* the name is shown, encoded, so that a bad one can be found */
	esc_vis(vname, sizeof(vname), f[0].s);
	if (f[0].len == 0 || f[0].len >= CSV_NAME_MAX || !printable(&f[0])) {
		snprintf(why, whylen, "bad device name \"%s\"", vname);
		return -1;
	}
	if (f[1].len >= sizeof(r->addr) || !addr_valid(f[1].s)) {
		strlcpy(why, "bad IP address", whylen);
		return -1;
	}
	if (f[2].len == 0 || f[2].len >= sizeof(r->login) ||
	    !printable(&f[2]) || strchr(f[2].s, ' ') != NULL) {
		strlcpy(why, "bad login", whylen);
		return -1;
	}
	if (f[3].len == 0 || f[3].len >= CSV_PASS_MAX || !printable(&f[3])) {
		strlcpy(why, f[3].len == 0 ? "empty password" : "bad password",
		    whylen);
		return -1;
	}
	if (nf == 5 && f[4].len != 0) {
		if (strcasecmp(f[4].s, "fmc") != 0) {
			strlcpy(why, "role must be empty or fmc", whylen);
			return -1;
		}
		r->is_fmc = 1;
	}
	strlcpy(r->name, vname, sizeof(r->name));
	strlcpy(r->addr, f[1].s, sizeof(r->addr));
	strlcpy(r->login, f[2].s, sizeof(r->login));
	/* a field and its separator: never more than the file holds */
	if (f[3].len + 1 > c->secretlen - c->secretused) {
		strlcpy(why, "bad password", whylen);
		return -1;
	}
	r->password = c->secret + c->secretused;
	r->passlen = f[3].len;
	memcpy(r->password, f[3].s, f[3].len + 1);
	c->secretused += f[3].len + 1;
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct csv_row *x = *(const struct csv_row *const *)a;
	const struct csv_row *y = *(const struct csv_row *const *)b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Names are unique: sort an index by name, then line, so that equal
 * names are neighbours (n log n, where comparing each row with every
 * earlier one took a quarter of an hour at a million rows).  The
 * duplicate reported is the one on the earliest line, naming the line
 * its name first appears on.
 */
static int
check_unique(const struct csv *c)
{
	const struct csv_row **ix;
	const struct csv_row *dup = NULL, *first = NULL, *grp;
	size_t i;

	if (c->n < 2)
		return 0;
	ix = xcalloc(c->n, sizeof(*ix));
	for (i = 0; i < c->n; i++)
		ix[i] = &c->rows[i];
	qsort(ix, c->n, sizeof(*ix), row_cmp);
	for (grp = ix[0], i = 1; i < c->n; i++) {
		if (strcmp(ix[i]->name, grp->name) != 0) {
			grp = ix[i];
			continue;
		}
		if (dup == NULL || ix[i]->line < dup->line) {
			dup = ix[i];
			first = grp;
		}
	}
	free(ix);
	if (dup == NULL)
		return 0;
	log_warnx("%s:%zu: duplicate device name %s (also on line %zu)",
	    c->path, dup->line, dup->name, first->line);
	return -1;
}

int
csv_parse(const char *buf, size_t len, const char *what, struct csv **out)
{
	struct csv *c;
	struct field f[CSV_FIELDS_MAX];
	char *scratch, why[CSV_VNAME_MAX + 64];
	const char *swhy = NULL, *p, *end, *nl;
	size_t lineno = 0, cap = 0, i, ll;
	int nf, rc = -1;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(what);
	c->secretlen = len + 1;
	c->secret = xmalloc_secret(c->secretlen);
	scratch = xmalloc(len + 1);
	p = buf;
	end = buf + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < end; p = nl + 1) {
		struct csv_row *r;

		lineno++;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (memchr(p, '\0', nl - p) != NULL) {
			strlcpy(why, "NUL byte", sizeof(why));
			goto bad;
		}
		ll = nl - p;
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		for (i = 0; i < ll && is_blank(p[i]); i++)
			;
		if (i == ll || p[i] == '#')
			continue;
		if ((nf = split(p, ll, scratch, f, CSV_FIELDS_MAX, &swhy)) ==
		    -1) {
			strlcpy(why, swhy, sizeof(why));
			goto bad;
		}
		if (c->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			c->rows = xreallocarray(c->rows, cap, sizeof(*c->rows));
		}
		r = &c->rows[c->n];
		memset(r, 0, sizeof(*r));
		r->line = lineno;
		if (fill_row(c, r, f, nf, why, sizeof(why)) == -1)
			goto bad;
		c->n++;
		explicit_bzero(scratch, ll + 1);
	}
	if (c->n == 0) {
		log_warnx("%s: no devices", what);
		goto out;
	}
	if (check_unique(c) == -1)
		goto out;
	*out = c;
	c = NULL;		/* transferred */
	rc = 0;
	goto out;
 bad:
	log_warnx("%s:%zu: %s", what, lineno, why);
 out:
	freezero(scratch, len + 1);
	csv_free(c);
	return rc;
}

int
csv_load(const char *path, struct csv **out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (sfile_read(path, SFILE_CAP, &buf, &len) == -1)
		return -1;
	if (stat(path, &st) == 0 && (st.st_mode & 044) != 0)
		log_warnx("%s: readable by group or others (chmod 600 it): "
		    "it holds passwords", path);
	rc = csv_parse(buf, len, path, out);
	freezero(buf, len + 1);
	return rc;
}

void
csv_row_wipe(struct csv_row *r)
{
	if (r->password != NULL)
		explicit_bzero(r->password, r->passlen + 1);
	r->password = NULL;
	r->passlen = 0;
}

void
csv_free(struct csv *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		csv_row_wipe(&c->rows[i]);
	xfree_secret(c->secret, c->secretlen);
	free(c->rows);
	free(c->path);
	free(c);
}
