// SPDX-License-Identifier: ISC
/* sftunneld-push.c -- the receiving end of a file push over the tunnel */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ctl.h"
#include "log.h"
#include "pki.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "sftunneld.h"
#include "banned.h"

/* Is this PEM what its name says (a certificate, or a key)? */
static int
pem_valid(int k, const char *name, const unsigned char *data, size_t len)
{
	EVP_PKEY *key;
	X509 *x;

	if (k == PEERF_I_KEY) {
		if ((key = pki_key_from_pem((const char *)data, len, name)) ==
		    NULL)
			return 0;
		EVP_PKEY_free(key);
		return 1;
	}
	if ((x = pki_cert_from_pem((const char *)data, len, name)) == NULL)
		return 0;
	X509_free(x);
	return 1;
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Keep the PUSH_BACKUPS newest folders of <pushdir>/backup (their names
 * are time stamps, so they sort by age): a peer that pushes again and
 * again fills no disk.  Nothing is followed: a link or anything but a
 * folder of plain files is left alone.
 */
static void
prune_backups(const char *pushdir)
{
	char *path, **names = NULL;
	struct dirent *de;
	size_t n = 0, i;
	DIR *d = NULL, *sub;
	int dfd, sfd;

	path = xasprintf("%s/backup", pushdir);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			close(dfd);
		free(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	qsort(names, n, sizeof(*names), namecmp);
	for (i = 0; i + PUSH_BACKUPS < n; i++) {
		if ((sfd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		if ((sub = fdopendir(sfd)) == NULL) {
			close(sfd);
			continue;
		}
		while ((de = readdir(sub)) != NULL)
			if (de->d_type == DT_REG)
				(void)unlinkat(sfd, de->d_name, 0);
		closedir(sub);
		if (unlinkat(dfd, names[i], AT_REMOVEDIR) == 0)
			sflog(&sd.log, SFLOG_INFO, "Removed old backup %s/%s",
			    path, names[i]);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	free(path);
}

/* Write one file; on success sha is the hash of what is on disk now. */
static const char *
store(struct tpeer *t, const char *name, const unsigned char *data,
    size_t len, const char *want, const char *stamp, char sha[65])
{
	char *path = NULL, *bdir = NULL, *cur = NULL;
	const char *why = NULL;
	size_t curlen = 0;
	int k;

	if ((k = peerf_index(name)) == -1)
		return "not a pushable file";
	if (pki_sha256_hex(data, len, sha) == -1 || strcmp(sha, want) != 0)
		return "sha256 mismatch in transit";
	if (!pem_valid(k, name, data, len))
		return "not a valid PEM file";
	path = xasprintf("%s/%s", t->pushdir, name);
	if (sfile_mkdirs(t->pushdir, 0755) == -1) {
		why = "cannot create the peer folder";
		goto out;
	}
	if (sfile_exists(path) &&
	    sfile_read(path, SFILE_CAP, &cur, &curlen) == 0 &&
	    curlen == len && memcmp(cur, data, len) == 0)
		goto out;	/* already there: nothing to write */
	bdir = xasprintf("%s/backup/%s", t->pushdir, stamp);
	if (sfile_backup(path, bdir) == -1) {
		why = "backup failed";
		goto out;
	}
	prune_backups(t->pushdir);
	if (sfile_write(path, data, len, peerf_modes[k]) == -1) {
		why = "write failed";
		goto out;
	}
	if (cur != NULL)
		freezero(cur, curlen);
	cur = NULL;
	if (sfile_read(path, SFILE_CAP, &cur, &curlen) == -1 ||
	    pki_sha256_hex(cur, curlen, sha) == -1 || strcmp(sha, want) != 0)
		why = "check after write failed";
 out:
	if (cur != NULL)
		freezero(cur, curlen);
	free(path);
	free(bdir);
	return why;
}

void
push_receive(struct conn *c, const unsigned char *p, size_t len)
{
	char sha[65], stamp[32], *line, *out = NULL;
	const unsigned char *end = p + len;
	struct frame_file f;
	unsigned id;
	size_t n, i, olen = 0, used;
	const char *why;
	struct tm tm;
	time_t now = time(NULL);

	if (frame_push_head(p, len, &id, &n, &used) != 1)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	out = xasprintf("%u\n", id);
	olen = strlen(out);
	p += used;
	for (i = 0; i < n; i++) {
		if (frame_file_head(p, (size_t)(end - p), &f, &used) != 1 ||
		    f.size > (size_t)(end - (p + used)))
			break;
		p += used;
		why = store(c->peer, f.name, p, f.size, f.sha, stamp, sha);
		p += f.size;
		if (why == NULL) {
			sflog(&sd.log, SFLOG_INFO, "Received %s from %s (%s)",
			    f.name, c->peer->p.name, c->peer->p.uuid);
			line = xasprintf("OK %s %s\n", f.name, sha);
		} else {
			sflog(&sd.log, SFLOG_ERROR, "Push of %s from %s "
			    "refused: %s", f.name, c->peer->p.name, why);
			line = xasprintf("ERR %s %s\n", f.name, why);
		}
		out = xreallocarray(out, 1, olen + strlen(line) + 1);
		memcpy(out + olen, line, strlen(line) + 1);
		olen += strlen(line);
		free(line);
	}
	for (; i < n; i++) {
		line = xasprintf("ERR file%zu malformed push\n", i);
		out = xreallocarray(out, 1, olen + strlen(line) + 1);
		memcpy(out + olen, line, strlen(line) + 1);
		olen += strlen(line);
		free(line);
	}
	out = xreallocarray(out, 1, olen + 5);
	memcpy(out + olen, "END\n", 5);
	olen += 4;
	(void)conn_send(c, FR_PUSHR, out, olen);
	free(out);
}
