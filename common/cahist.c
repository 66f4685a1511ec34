// SPDX-License-Identifier: ISC
/* cahist.c -- the InternalCA a renewal replaced: is the current one on its key */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cahist.h"
#include "log.h"
#include "pki.h"
#include "root.h"
#include "sdir.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

/* generate_certs.h's GC_COMMITTED and GC_BACKUP, and the CA's path in it */
#define CAHIST_COMMITTED	"COMMITTED"
#define CAHIST_BACKUP_CA_DIR	"backup/" RP_CA_DIR
#define CAHIST_CA_NAME		"cacert.pem"

/* Run folder names: an epoch, as journal_create makes them. */
#define CAHIST_MAX_DIGITS	18

const char *
cahist_word(enum cahist_key k)
{
	switch (k) {
	case CAHIST_SAME:
		return "same";
	case CAHIST_NEW:
		return "new";
	case CAHIST_REFUSED:
		return "refused";
	default:
		return "unknown";
	}
}

static int
epoch_name(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= CAHIST_MAX_DIGITS && s[n] == '\0';
}

static int
cmp_desc(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * The epochs of the entries of the folder fd (any type: a link or a file
 * named like a run is refused when opened, not skipped), newest first.
 */
static int
list_runs(int fd, const char *path, long long **out, size_t *n)
{
	struct dirent *de;
	long long *e = NULL;
	size_t cnt = 0;
	DIR *d;
	int dup;

	*out = NULL;
	*n = 0;
	if ((dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(dup)) == NULL) {
		log_warn("%s", path);
		if (dup != -1)
			close(dup);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!epoch_name(de->d_name))
			continue;
		e = xreallocarray(e, cnt + 1, sizeof(*e));
		e[cnt++] = strtoll(de->d_name, NULL, 10);
	}
	closedir(d);
	if (cnt > 1)
		qsort(e, cnt, sizeof(*e), cmp_desc);
	*out = e;
	*n = cnt;
	return 0;
}

/*
 * The run folder epoch of runs (runsfd at path runs): 1 with *old its CA
 * backup when committed with one, 0 when not (pass on), -1 reported with
 * out->key set.
 */
static int
run_backup(int runsfd, const char *runs, long long epoch, X509 **old,
    struct cahist *out)
{
	char name[24], *rpath = NULL, *cpath = NULL, *pem = NULL;
	size_t len;
	int rfd = -1, cfd = -1, rc = -1;

	*old = NULL;
	snprintf(name, sizeof(name), "%lld", epoch);
	rpath = xasprintf("%s/%s", runs, name);
	if ((rfd = sdir_openat(runsfd, runs, name, 0, 0)) == -1) {
		/* gone since the listing: nothing to read */
		if (errno == ENOENT)
			rc = 0;
		else {
			out->key = CAHIST_REFUSED;
			out->run = epoch;
		}
		goto out;
	}
	if (!sdir_has(rfd, CAHIST_COMMITTED)) {
		rc = 0;
		goto out;
	}
	cpath = xasprintf("%s/%s", rpath, CAHIST_BACKUP_CA_DIR);
	if ((cfd = sdir_openat(rfd, rpath, CAHIST_BACKUP_CA_DIR, 0, 0)) ==
	    -1) {
		if (errno == ENOENT)
			rc = 0;
		else {
			out->key = CAHIST_REFUSED;
			out->run = epoch;
		}
		goto out;
	}
	if (sdir_read(cfd, cpath, CAHIST_CA_NAME, SFILE_CAP, &pem, &len) ==
	    -1) {
		if (errno == ENOENT)
			rc = 0;
		goto out;
	}
	free(cpath);
	cpath = xasprintf("%s/%s/%s", rpath, CAHIST_BACKUP_CA_DIR,
	    CAHIST_CA_NAME);
	if ((*old = pki_cert_from_pem(pem, len, cpath)) == NULL)
		goto out;
	rc = 1;
 out:
	if (cfd != -1)
		close(cfd);
	if (rfd != -1)
		close(rfd);
	free(pem);
	free(cpath);
	free(rpath);
	return rc;
}

int
cahist_compare(X509 *cur, struct cahist *out)
{
	long long *e = NULL;
	size_t n = 0, i;
	char *runs = NULL;
	X509 *old = NULL;
	int fd = -1, r, rc = -1;

	out->key = CAHIST_UNKNOWN;
	out->run = -1;
	if (cur == NULL)
		return 0;
	runs = root_path(RP_RUNS);
	if ((fd = sdir_open(RP_RUNS, 0, 0)) == -1) {
		if (errno == ENOENT)
			rc = 0;		/* never renewed here */
		else
			out->key = CAHIST_REFUSED;
		goto out;
	}
	if (list_runs(fd, runs, &e, &n) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = run_backup(fd, runs, e[i], &old, out)) == -1)
			goto out;
		if (r == 1)
			break;
	}
	if (old != NULL) {
		out->key = pki_same_pubkey(cur, old) ? CAHIST_SAME :
		    CAHIST_NEW;
		out->run = e[i];
	}
	rc = 0;
 out:
	X509_free(old);
	if (fd != -1)
		close(fd);
	free(e);
	free(runs);
	return rc;
}
