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

static int
jstring(struct jp *j, char *out, size_t outlen)
{
	size_t n = 0;
	char c;

	if (*j->p != '"')
		return -1;
	j->p++;
	while ((c = *j->p++) != '"') {
		if (c == '\0' || (unsigned char)c < 0x20)
			return -1;
		if (c == '\\') {
			c = *j->p++;
			switch (c) {
			case '"': case '\\': case '/':
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			default:
				return -1;
			}
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

int
peer_parse(const char *text, size_t len, const char *path,
    const char *folder, struct peer *p)
{
	struct jp j;
	char *buf, key[32], val[256];
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
			strlcpy(p->name, val, sizeof(p->name));
		else if (strcmp(key, "ip") == 0 && !isnum)
			strlcpy(p->ip, val, sizeof(p->ip));
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
	if (p->name[0] == '\0' || p->ip[0] == '\0') {
		log_warnx("%s: missing name or ip", path);
		goto out;
	}
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
