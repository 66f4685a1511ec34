// SPDX-License-Identifier: ISC
/* fileset.c -- appliance files held in memory: read from a tree or a fetched archive, kept */
#include <sys/stat.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileset.h"
#include "log.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

/* Take data (len + 1 bytes, NUL-terminated); a key moves to a secret block. */
static void
fileset_add(struct fileset *fs, const char *path, char *data, size_t len)
{
	struct bfile *f;

	if (fs->n == fs->cap) {
		fs->cap = fs->cap == 0 ? 64 : fs->cap * 2;
		fs->f = xreallocarray(fs->f, fs->cap, sizeof(*fs->f));
	}
	f = &fs->f[fs->n++];
	f->path = xstrdup(path);
	f->len = len;
	f->secret = strstr(path, "key") != NULL;
	if (f->secret) {
		f->data = xmalloc_secret(len + 1);
		memcpy(f->data, data, len + 1);
		freezero(data, len + 1);
	} else
		f->data = data;
}

void
fileset_put(struct fileset *fs, const char *path, char *data, size_t len)
{
	fileset_add(fs, path, data, len);
}

void
fileset_release(struct fileset *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		fileset_drop(fs, i);
	free(fs->f);
	memset(fs, 0, sizeof(*fs));
}

void
fileset_drop(struct fileset *fs, size_t i)
{
	free(fs->f[i].path);
	if (fs->f[i].secret)
		xfree_secret(fs->f[i].data, fs->f[i].len + 1);
	else if (fs->f[i].data != NULL)
		freezero(fs->f[i].data, fs->f[i].len + 1);
	memset(&fs->f[i], 0, sizeof(fs->f[i]));
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
		if (fs->f[i].path != NULL && strcmp(fs->f[i].path, norm) == 0)
			return &fs->f[i];
	return NULL;
}

/* s with glob(3)'s special characters escaped; allocated. */
static char *
glob_quote(const char *s)
{
	char *q = xmalloc(strlen(s) * 2 + 1), *o = q;

	for (; *s != '\0'; s++) {
		if (strchr("\\*?[", *s) != NULL)
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return q;
}

int
fileset_load(struct fileset *fs, const char *const *pat, size_t npat)
{
	const char *root = strcmp(root_dir(), "/") == 0 ? "" : root_dir();
	char *qroot = glob_quote(root), *full, *buf;
	size_t i, k, len;
	glob_t g;
	int r, rc = -1;

	for (i = 0; i < npat; i++) {
		full = xasprintf("%s/%s", qroot, pat[i]);
		r = glob(full, 0, NULL, &g);
		free(full);
		if (r == GLOB_NOMATCH)
			continue;
		if (r != 0) {
			log_warnx("%s/%s: cannot list", root, pat[i]);
			goto out;
		}
		for (k = 0; k < g.gl_pathc; k++) {
			if (sfile_read(g.gl_pathv[k], SFILE_CAP, &buf,
			    &len) == -1) {
				globfree(&g);
				goto out;
			}
			fileset_add(fs, g.gl_pathv[k] + strlen(root) + 1, buf,
			    len);
		}
		globfree(&g);
	}
	rc = 0;
 out:
	free(qroot);
	return rc;
}

char *
fileset_fetch_script(const char *const *pat, size_t npat)
{
	char *s, *t;
	size_t i;

	s = xstrdup(
	    "cd / || exit 1\n"
	    "shopt -s nullglob\n"
	    "a=()\n"
	    "for f in");
	for (i = 0; i < npat; i++) {
		t = xasprintf("%s %s", s, pat[i]);
		free(s);
		s = t;
	}
	t = xasprintf("%s; do\n"
	    "  case $f in ${skip-}) continue;; esac\n"
	    "  [ -f \"$f\" ] && [ ! -L \"$f\" ] && a+=(\"$f\")\n"
	    "done\n"
	    "tar --format=ustar -cf - -- \"${a[@]}\" | base64 -w 0\n"
	    "s=${PIPESTATUS[0]}; echo; exit $s\n", s);
	free(s);
	return t;
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
		if (fs->f[i].path == NULL ||
		    strstr(fs->f[i].path, "..") != NULL)
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
