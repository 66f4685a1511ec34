// SPDX-License-Identifier: ISC
/* peers.c -- the peers registry: one sftunnel.json per peer folder */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "peers.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

int
peer_uuid_valid(const char *s)
{
	size_t i;

	if (strlen(s) != PEER_UUID_LEN)
		return 0;
	for (i = 0; i < PEER_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int
peer_role_valid(const char *r)
{
	return strcmp(r, "ftd") == 0 || strcmp(r, "fmc") == 0 ||
	    strcmp(r, "fmc-ha") == 0;
}

/* A tiny reader for one flat JSON object of strings and integers. */
struct jp {
	const char *p;
};

static void
ws(struct jp *j)
{
	while (isspace((unsigned char)*j->p))
		j->p++;
}

/* Four hex digits of a \u escape; -1 when they are not. */
static long
hex4(struct jp *j)
{
	long v = 0;
	int i, c;

	for (i = 0; i < 4; i++) {
		c = (unsigned char)*j->p;
		if (!isxdigit(c))
			return -1;
		v = v * 16 + (isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
		j->p++;
	}
	return v;
}

/* The code point of a \u escape (after the "\u"), as UTF-8 in u. */
static int
junicode(struct jp *j, char *u, size_t *ulen)
{
	long cp, lo;

	if ((cp = hex4(j)) <= 0)	/* \u0000 would end the string */
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->p[0] != '\\' || j->p[1] != 'u')
			return -1;
		j->p += 2;
		if ((lo = hex4(j)) < 0xdc00 || lo > 0xdfff)
			return -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp < 0x80) {
		u[0] = (char)cp;
		*ulen = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		*ulen = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		*ulen = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		*ulen = 4;
	}
	return 0;
}

static int
jstring(struct jp *j, char *out, size_t outlen)
{
	size_t n = 0, ulen;
	char c, u[4];

	if (*j->p != '"')
		return -1;
	j->p++;
	while ((c = *j->p++) != '"') {
		if (c == '\0' || (unsigned char)c < 0x20)
			return -1;
		u[0] = c;
		ulen = 1;
		if (c == '\\') {
			switch ((c = *j->p++)) {
			case '"': case '\\': case '/':
				u[0] = c;
				break;
			case 'b':
				u[0] = '\b';
				break;
			case 'f':
				u[0] = '\f';
				break;
			case 'n':
				u[0] = '\n';
				break;
			case 'r':
				u[0] = '\r';
				break;
			case 't':
				u[0] = '\t';
				break;
			case 'u':
				if (junicode(j, u, &ulen) == -1)
					return -1;
				break;
			default:
				return -1;
			}
		}
		if (n + ulen >= outlen)
			return -1;
		memcpy(out + n, u, ulen);
		n += ulen;
	}
	out[n] = '\0';
	return 0;
}

int
peer_parse(const char *text, size_t len, const char *path,
    const char *folder, struct peer *p)
{
	struct jp j;
	char *buf, key[32], val[256], name[PEER_NAME_LEN + 1] = "";
	long long num;
	int rc = -1, isnum;
	char *end;

	memset(p, 0, sizeof(*p));
	p->port = SFTUNNEL_PORT;
	/* the reader stops at a NUL: one inside the text is malformed */
	buf = xmalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = '\0';
	j.p = buf;
	ws(&j);
	if (*j.p++ != '{')
		goto bad;
	ws(&j);
	while (*j.p != '}') {
		if (jstring(&j, key, sizeof(key)) == -1)
			goto bad;
		ws(&j);
		if (*j.p++ != ':')
			goto bad;
		ws(&j);
		isnum = 0;
		if (*j.p == '"') {
			if (jstring(&j, val, sizeof(val)) == -1)
				goto bad;
		} else {
			num = strtoll(j.p, &end, 10);
			if (end == j.p)
				goto bad;
			j.p = end;
			isnum = 1;
			snprintf(val, sizeof(val), "%lld", num);
		}
		if (strcmp(key, "uuid") == 0 && !isnum)
			strlcpy(p->uuid, val, sizeof(p->uuid));
		else if (strcmp(key, "name") == 0 && !isnum)
			strlcpy(name, val, sizeof(name));
		else if (strcmp(key, "ip") == 0 && !isnum)
			/* an address is unchanged; anything else is shown safely */
			esc_vis(p->ip, sizeof(p->ip), val);
		else if (strcmp(key, "role") == 0 && !isnum)
			strlcpy(p->role, val, sizeof(p->role));
		else if (strcmp(key, "port") == 0 && isnum) {
			if (num < 1 || num > 65535)
				goto bad;
			p->port = (int)num;
		}
		/* other keys are the vendor's and not ours */
		ws(&j);
		if (*j.p == ',') {
			j.p++;
			ws(&j);
			continue;
		}
		if (*j.p != '}')
			goto bad;
	}
	j.p++;
	ws(&j);
	if (j.p != buf + len)
		goto bad;
	if (!peer_uuid_valid(p->uuid)) {
		log_warnx("%s: missing or malformed uuid", path);
		goto out;
	}
	if (strcasecmp(p->uuid, folder) != 0) {
		log_warnx("%s: uuid %s does not match its folder", path,
		    p->uuid);
		goto out;
	}
	if (name[0] == '\0' || p->ip[0] == '\0') {
		log_warnx("%s: missing name or ip", path);
		goto out;
	}
	esc_vis(p->name, sizeof(p->name), name);
	if (!peer_role_valid(p->role)) {
		log_warnx("%s: role must be ftd, fmc or fmc-ha", path);
		goto out;
	}
	rc = 0;
	goto out;
 bad:
	log_warnx("%s: malformed JSON near byte %td", path, j.p - buf);
 out:
	free(buf);
	return rc;
}

int
peer_load(const char *path, const char *folder, struct peer *p)
{
	char *buf;
	size_t len;
	int rc;

	memset(p, 0, sizeof(*p));
	if (sfile_read(path, PEER_JSON_CAP, &buf, &len) == -1)
		return -1;
	rc = peer_parse(buf, len, path, folder, p);
	free(buf);
	return rc;
}

static int
peer_cmp(const void *a, const void *b)
{
	const struct peer *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->uuid, y->uuid);
}

int
peers_load(struct peer **out, size_t *n)
{
	struct peer *v = NULL;
	size_t cnt = 0;
	struct dirent *de;
	char *dir, *json;
	DIR *d;
	int rc = -1;

	*out = NULL;
	*n = 0;
	dir = root_path(RP_PEERS);
	if ((d = opendir(dir)) == NULL) {
		log_warn("%s", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!peer_uuid_valid(de->d_name))
			continue;
		json = xasprintf("%s/%s/%s", dir, de->d_name, PEERF_JSON);
		if (!sfile_exists(json)) {
			free(json);
			continue;
		}
		v = xreallocarray(v, cnt + 1, sizeof(*v));
		if (peer_load(json, de->d_name, &v[cnt]) == -1) {
			free(json);
			goto out;
		}
		free(json);
		v[cnt].dir = xasprintf("%s/%s", dir, de->d_name);
		cnt++;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), peer_cmp);
	*out = v;
	*n = cnt;
	v = NULL;		/* transferred */
	rc = 0;
 out:
	closedir(d);
	free(dir);
	if (v != NULL)
		peers_free(v, cnt);
	return rc;
}

void
peers_free(struct peer *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i].dir);
	free(v);
}

struct peer *
peers_find(struct peer *v, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i].uuid, key) == 0 ||
		    strcmp(v[i].ip, key) == 0)
			return &v[i];
	return NULL;
}
