// SPDX-License-Identifier: ISC
/* fileset.c -- appliance files held in memory: read from a tree or a fetched archive, kept */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileset.h"
#include "log.h"
#include "peers.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

static void
fileset_add(struct fileset *fs, const char *path, char *data, size_t len)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap == 0 ? 64 : fs->cap * 2;
		fs->f = xreallocarray(fs->f, fs->cap, sizeof(*fs->f));
	}
	fs->f[fs->n].path = xstrdup(path);
	fs->f[fs->n].data = data;
	fs->f[fs->n].len = len;
	fs->n++;
}

void
fileset_release(struct fileset *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->f[i].path);
		freezero(fs->f[i].data, fs->f[i].len + 1);
	}
	free(fs->f);
	memset(fs, 0, sizeof(*fs));
}

const struct bfile *
fileset_get(const struct fileset *fs, const char *path)
{
	char norm[1024];
	size_t i, o = 0;

	/* FAILED_PUSH writes "/var/sf/peers/<uuid>/certs_pushed//<file>". */
	while (*path == '/')
		path++;
	for (; *path != '\0' && o + 1 < sizeof(norm); path++)
		if (*path != '/' || path[1] != '/')
			norm[o++] = *path;
	norm[o] = '\0';
	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].path, norm) == 0)
			return &fs->f[i];
	return NULL;
}

/* Read rel when it is there; a missing file is not an error. */
static int
load_opt(struct fileset *fs, const char *rel)
{
	char *path = root_path("%s", rel), *buf = NULL;
	size_t len = 0;
	int rc = 0;

	if (sfile_exists(path)) {
		if (sfile_read(path, SFILE_CAP, &buf, &len) == -1)
			rc = -1;
		else
			fileset_add(fs, rel, buf, len);
	}
	free(path);
	return rc;
}

/* The newest var/tmp/certs/<epoch>/FAILED_PUSH, relative, or NULL. */
static char *
newest_failed_push(void)
{
	char *dir = root_path(RP_CERTS_TMP), *best = NULL, *p;
	long long bestn = -1, v;
	struct dirent *de;
	const char *errstr;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			v = strtonum(de->d_name, 0, LLONG_MAX, &errstr);
			if (errstr != NULL || v <= bestn)
				continue;
			p = root_path("%s/%s/FAILED_PUSH", RP_CERTS_TMP,
			    de->d_name);
			if (sfile_exists(p)) {
				free(best);
				best = xasprintf("%s/%s/FAILED_PUSH",
				    RP_CERTS_TMP, de->d_name);
				bestn = v;
			}
			free(p);
		}
		closedir(d);
	}
	free(dir);
	return best;
}

int
fileset_load_tree(struct fileset *fs)
{
	char *dir, *rel;
	struct dirent *de;
	DIR *d;
	int rc = -1;
	size_t i;
	static const char *const per_peer[] = {
		PEERF_JSON, PEERF_PUSHED "/" PEERF_CERT, PEERF_PUSHED "/" PEERF_KEY,
		PEERF_CERT, PEERF_KEY
	};

	if (load_opt(fs, RP_IMS_CONF) == -1 || load_opt(fs, RP_CA_CERT) == -1)
		return -1;
	if ((rel = newest_failed_push()) != NULL) {
		if (load_opt(fs, rel) == -1) {
			free(rel);
			return -1;
		}
		free(rel);
	}
	dir = root_path(RP_PEERS);
	if ((d = opendir(dir)) == NULL) {
		log_warn("%s", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!peer_uuid_valid(de->d_name))
			continue;
		for (i = 0; i < sizeof(per_peer) / sizeof(per_peer[0]); i++) {
			/* certs_pushed wins: skip the folder's own copies. */
			if (i >= 3 && fileset_get(fs, rel = xasprintf("%s/%s/%s",
			    RP_PEERS, de->d_name, per_peer[i - 2])) != NULL) {
				free(rel);
				continue;
			}
			if (i >= 3)
				free(rel);
			rel = xasprintf("%s/%s/%s", RP_PEERS, de->d_name,
			    per_peer[i]);
			if (load_opt(fs, rel) == -1) {
				free(rel);
				goto out;
			}
			free(rel);
		}
	}
	rc = 0;
 out:
	closedir(d);
	free(dir);
	return rc;
}

const char *
fileset_fetch_script(void)
{
	return
	    "cd / || exit 1\n"
	    "shopt -s nullglob\n"
	    "fp= best=-1\n"
	    "for d in var/tmp/certs/*/; do\n"
	    "  e=${d#var/tmp/certs/}; e=${e%/}\n"
	    "  case $e in ''|*[!0-9]*) continue;; esac\n"
	    "  [ -f \"${d}FAILED_PUSH\" ] || continue\n"
	    "  [ \"$e\" -gt \"$best\" ] && { best=$e; fp=${d}FAILED_PUSH; }\n"
	    "done\n"
	    "set -- etc/sf/ims.conf etc/sf/ca_root/cacert.pem $fp\n"
	    "for p in var/sf/peers/*-*-*-*-*/; do\n"
	    "  [ -f \"${p}sftunnel.json\" ] || continue\n"
	    "  set -- \"$@\" \"${p}sftunnel.json\"\n"
	    "  for f in sftunnel-cert.pem sftunnel-key.pem; do\n"
	    "    if [ -f \"${p}certs_pushed/$f\" ]; then\n"
	    "      set -- \"$@\" \"${p}certs_pushed/$f\"\n"
	    "    elif [ -f \"$p$f\" ]; then set -- \"$@\" \"$p$f\"; fi\n"
	    "  done\n"
	    "done\n"
	    "tar --format=ustar -cf - -- \"$@\" | base64 -w 0\n"
	    "s=${PIPESTATUS[0]}; echo; exit $s\n";
}

static unsigned long long
octal(const unsigned char *p, size_t n)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < n && p[i] == ' '; i++)
		;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		v = v * 8 + (p[i] - '0');
	return v;
}

int
fileset_from_tar(struct fileset *fs, const void *tar, size_t len)
{
	const unsigned char *t = tar, *h;
	char name[512], longname[512] = "";
	unsigned long long size;
	size_t off = 0, nl;
	char *data;

	while (off + 512 <= len) {
		h = t + off;
		if (h[0] == '\0')
			break;		/* end of archive */
		size = octal(h + 124, 12);
		if (size > SFILE_CAP || off + 512 + size > len) {
			log_warnx("fetched archive: truncated or corrupt");
			return -1;
		}
		if (longname[0] != '\0') {
			strlcpy(name, longname, sizeof(name));
			longname[0] = '\0';
		} else if (memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0')
			snprintf(name, sizeof(name), "%.155s/%.100s",
			    (const char *)h + 345, (const char *)h);
		else
			snprintf(name, sizeof(name), "%.100s",
			    (const char *)h);
		if (h[156] == 'L') {
			nl = size < sizeof(longname) ? size : sizeof(longname) - 1;
			memcpy(longname, h + 512, nl);
			longname[nl] = '\0';
		} else if (h[156] == '0' || h[156] == '\0') {
			data = xmalloc(size + 1);
			memcpy(data, h + 512, size);
			data[size] = '\0';
			fileset_add(fs, name, data, size);
		}
		off += 512 + (size + 511) / 512 * 512;
	}
	return 0;
}

int
fileset_from_b64tar(struct fileset *fs, const char *b64, size_t len)
{
	unsigned char *bin = xmalloc(len / 4 * 3 + 3);
	unsigned v = 0;
	size_t i, o = 0;
	int bits = 0, c, rc;

	for (i = 0; i < len; i++) {
		c = (unsigned char)b64[i];
		if (c >= 'A' && c <= 'Z')
			c -= 'A';
		else if (c >= 'a' && c <= 'z')
			c = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			c = c - '0' + 52;
		else if (c == '+')
			c = 62;
		else if (c == '/')
			c = 63;
		else if (c == '=' || c == ' ' || c == '\n' || c == '\r' ||
		    c == '\t')
			continue;
		else {
			freezero(bin, len / 4 * 3 + 3);
			log_warnx("fetched archive: not base64");
			return -1;
		}
		v = (v << 6) | (unsigned)c;
		if ((bits += 6) >= 8) {
			bits -= 8;
			bin[o++] = (unsigned char)(v >> bits);
		}
	}
	rc = fileset_from_tar(fs, bin, o);
	freezero(bin, len / 4 * 3 + 3);
	return rc;
}

int
fileset_keep(const struct fileset *fs, const char *dir)
{
	char *p, *slash;
	size_t i;
	int key;

	if (sfile_mkdirs(dir, 0700) == -1)
		return -1;
	if (chmod(dir, 0700) == -1) {
		log_warn("%s", dir);
		return -1;
	}
	for (i = 0; i < fs->n; i++) {
		if (strstr(fs->f[i].path, "..") != NULL)
			continue;
		p = xasprintf("%s/%s", dir, fs->f[i].path);
		slash = strrchr(p, '/');
		*slash = '\0';
		if (sfile_mkdirs(p, 0700) == -1) {
			free(p);
			return -1;
		}
		*slash = '/';
		key = strstr(fs->f[i].path, "key") != NULL;
		if (sfile_write(p, fs->f[i].data, fs->f[i].len,
		    key ? 0600 : 0644) == -1) {
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}
