// SPDX-License-Identifier: ISC
/* generate_certs-journal.c -- run folder, lock, backup, commit, resume */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "generate_certs.h"
#include "log.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

char *
journal_path(const struct journal *j, const char *fmt, ...)
{
	char *rel, *p;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		rel = NULL;
	va_end(ap);
	p = path_join(j->dir, "%s", rel != NULL ? rel : "");
	free(rel);
	return p;
}

int
journal_lock(void)
{
	char *dir, *path;
	int fd, rc = -1;

	dir = root_path(RP_CERTS_TMP);
	path = root_path("%s/%s", RP_CERTS_TMP, GC_LOCK);
	if (sfile_mkdirs(dir, 0755) == -1)
		goto out;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("%s", path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			log_warnx("%s: another generate_certs is running",
			    path);
		else
			log_warn("%s: flock", path);
		close(fd);
		goto out;
	}
	/* held until the process ends, however it ends */
	rc = 0;
 out:
	free(dir);
	free(path);
	return rc;
}

int
journal_has(const struct journal *j, const char *marker)
{
	char *p = journal_path(j, "%s", marker);
	int r = sfile_exists(p);

	free(p);
	return r;
}

int
journal_mark(const struct journal *j, const char *marker)
{
	char buf[32], *p;
	int rc;

	snprintf(buf, sizeof(buf), "%lld\n", (long long)time(NULL));
	p = journal_path(j, "%s", marker);
	rc = sfile_write(p, buf, strlen(buf), 0600);
	free(p);
	if (rc == 0)
		log_info("%s: %s", j->dir, marker);
	return rc;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) == -1 && errno != ENOENT) {
		log_warn("%s: remove", path);
		return -1;
	}
	return 0;
}

/* rm -r path; a missing path is fine. */
static int
rmtree(const char *path)
{
	if (!sfile_exists(path))
		return 0;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return -1;
	return sfile_fsync_dir(path);
}

/* Its new/ goes and it is marked ABANDONED: nothing was replaced. */
static int
abandon(const struct journal *j)
{
	char *p;
	int rc;

	p = journal_path(j, "%s", GC_NEW);
	rc = rmtree(p);
	free(p);
	if (rc == 0)
		rc = journal_mark(j, GC_ABANDONED);
	return rc;
}

int
journal_discard(const struct journal *j)
{
	if (rmtree(j->dir) == 0) {
		log_info("%s: removed: nothing was replaced", j->dir);
		return 0;
	}
	return abandon(j);
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void
manifest_free(struct journal *j)
{
	size_t i;

	for (i = 0; i < j->nmanifest; i++)
		free(j->manifest[i]);
	free(j->manifest);
	j->manifest = NULL;
	j->nmanifest = 0;
}

static int
read_manifest(struct journal *j)
{
	char *p, *buf, *line, *nl;
	size_t len;

	p = journal_path(j, "%s", GC_MANIFEST);
	if (sfile_read(p, 64 * SFILE_CAP, &buf, &len) == -1) {
		free(p);
		return -1;
	}
	manifest_free(j);
	for (line = buf; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL) {
			log_warnx("%s: truncated", p);
			free(buf);
			free(p);
			return -1;
		}
		*nl = '\0';
		if (*line == '\0' || line[0] == '/' || strstr(line, "..")) {
			log_warnx("%s: bad line", p);
			free(buf);
			free(p);
			return -1;
		}
		journal_manifest_add(j, xstrdup(line));
	}
	free(buf);
	free(p);
	return 0;
}

int
journal_find_pending(struct journal *j, int dry)
{
	struct dirent *de;
	struct journal t;
	char *dir, *best = NULL, *p;
	long long e, beste = -1;
	DIR *d;
	int rc = -1;

	dir = root_path(RP_CERTS_TMP);
	if ((d = opendir(dir)) == NULL) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc == -1)
			log_warn("%s", dir);
		free(dir);
		return rc;
	}
	memset(&t, 0, sizeof(t));
	while ((de = readdir(d)) != NULL) {
		if (!all_digits(de->d_name) || strlen(de->d_name) > 18)
			continue;
		t.dir = xasprintf("%s/%s", dir, de->d_name);
		e = strtoll(de->d_name, NULL, 10);
		if (journal_has(&t, GC_DONE) || journal_has(&t, GC_ABANDONED) ||
		    journal_has(&t, GC_ROLLED_BACK)) {
			free(t.dir);
			continue;
		}
		if (!journal_has(&t, GC_STAGED)) {
			p = journal_path(&t, "%s", GC_NEW);
			if (sfile_exists(p) && !dry) {
				log_info("%s: staging never finished: "
				    "abandoned", t.dir);
				if (abandon(&t) == -1) {
					free(p);
					free(t.dir);
					goto out;
				}
			}
			free(p);
			free(t.dir);
			continue;
		}
		if (e > beste) {
			free(best);
			best = t.dir;
			beste = e;
		} else
			free(t.dir);
	}
	rc = 0;
	if (best != NULL) {
		journal_release(j);
		j->dir = best;
		j->epoch = beste;
		j->resumed = 1;
		best = NULL;
		if (read_manifest(j) == -1)
			rc = -1;
		else
			rc = 1;
	}
 out:
	free(best);
	closedir(d);
	free(dir);
	return rc;
}

int
journal_create(struct journal *j, time_t start)
{
	char *p;

	p = root_path(RP_CERTS_TMP);
	if (sfile_mkdirs(p, 0755) == -1) {
		free(p);
		return -1;
	}
	free(p);
	journal_release(j);
	/* the epoch names the run; two runs in one second take the next */
	for (j->epoch = (long long)start; ; j->epoch++) {
		p = root_path("%s/%lld", RP_CERTS_TMP, j->epoch);
		if (mkdir(p, 0700) == 0)
			break;
		if (errno != EEXIST) {
			log_warn("%s", p);
			free(p);
			return -1;
		}
		free(p);
	}
	j->dir = p;
	return sfile_fsync_dir(p);
}

void
journal_manifest_add(struct journal *j, char *rel)
{
	j->manifest = xreallocarray(j->manifest, j->nmanifest + 1,
	    sizeof(*j->manifest));
	j->manifest[j->nmanifest++] = rel;
}

void
journal_release(struct journal *j)
{
	manifest_free(j);
	free(j->dir);
	j->dir = NULL;
	j->epoch = 0;
	j->resumed = 0;
}

int
journal_manifest_write(const struct journal *j)
{
	char *buf = NULL, *p;
	size_t len = 0, i;
	FILE *f;
	int rc;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("open_memstream");
		return -1;
	}
	for (i = 0; i < j->nmanifest; i++)
		fprintf(f, "%s\n", j->manifest[i]);
	fclose(f);
	p = journal_path(j, "%s", GC_MANIFEST);
	rc = sfile_write(p, buf, len, 0600);
	free(p);
	free(buf);
	return rc;
}

/* The folder that holds path, made (0755) when missing. */
static int
mkparent(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *slash;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	if ((slash = strrchr(buf, '/')) == NULL || slash == buf)
		return 0;
	*slash = '\0';
	return sfile_isdir(buf) ? 0 : sfile_mkdirs(buf, mode);
}

int
journal_backup(const struct journal *j)
{
	char *src, *dst;
	size_t i, n = 0;
	int rc = 0;

	if (journal_has(j, GC_BACKED_UP))
		return 0;
	for (i = 0; i < j->nmanifest && rc == 0; i++) {
		src = root_path("%s", j->manifest[i]);
		dst = journal_path(j, "%s/%s", GC_BACKUP, j->manifest[i]);
		if (sfile_exists(src)) {
			if (mkparent(dst, 0700) == -1 ||
			    sfile_copy_nosync(src, dst) == -1)
				rc = -1;
			else
				n++;
		}
		free(src);
		free(dst);
	}
	/* one flush for the whole backup, before BACKED_UP says it is whole */
	if (rc == 0)
		rc = sfile_syncfs(j->dir);
	if (rc == 0)
		rc = journal_mark(j, GC_BACKED_UP);
	if (rc == 0)
		log_info("backed up %zu files into %s/%s", n, j->dir,
		    GC_BACKUP);
	return rc;
}

/* Put back files 0..upto-1 from backup/; a file that was absent goes. */
static int
rollback(const struct journal *j, size_t upto)
{
	char *src, *dst;
	size_t i;
	int rc = 0;

	for (i = upto; i-- > 0; ) {
		src = journal_path(j, "%s/%s", GC_BACKUP, j->manifest[i]);
		dst = root_path("%s", j->manifest[i]);
		if (sfile_exists(src)) {
			if (sfile_copy(src, dst) == -1)
				rc = -1;
		} else if (unlink(dst) == -1 && errno != ENOENT) {
			log_warn("%s", dst);
			rc = -1;
		}
		free(src);
		free(dst);
	}
	return rc;
}

/* Replace manifest path i with its staged copy; arg is the journal. */
static int
commit_one(void *arg, size_t i)
{
	const struct journal *j = arg;
	char *src, *dst;
	int rc = 0;

	src = journal_path(j, "%s/%s", GC_NEW, j->manifest[i]);
	dst = root_path("%s", j->manifest[i]);
	if (mkparent(dst, 0755) == -1 || sfile_copy(src, dst) == -1)
		rc = -1;
	free(src);
	free(dst);
	if (i == j->nmanifest / 2)
		gc_test_hook("mid-commit");
	return rc;
}

/* Peer files may be replaced in any order: bounded by fsync, not CPU. */
#define GC_COMMIT_THREADS	8

/*
 * Replace every manifest path with its staged copy, each atomically
 * (temporary file, fsync, rename).  Idempotent: new/ stays until DONE,
 * so a re-run after a kill copies again and ends in the same state.  On
 * a failure (a full disk) the replaced files are put back.
 */
int
journal_commit(const struct journal *j)
{
	size_t i, npeer = 0;
	char *p;

	if (journal_has(j, GC_COMMITTED))
		return 0;
	/*
	 * The manifest lists the peers' files first; they go in parallel.
	 * The FMC's own files and the CA's follow one by one, in order, the
	 * CA certificate last.
	 */
	while (npeer < j->nmanifest &&
	    strncmp(j->manifest[npeer], RP_PEERS "/",
	    sizeof(RP_PEERS)) == 0)
		npeer++;
	i = npeer;
	if (gc_par_run((void *)j, npeer, GC_COMMIT_THREADS,
	    commit_one) == -1)
		goto fail;
	for (; i < j->nmanifest; i++)
		if (commit_one((void *)j, i) == -1) {
			i++;
			goto fail;
		}
	log_info("replaced %zu files", j->nmanifest);
	return journal_mark(j, GC_COMMITTED);
 fail:
	log_warnx("commit failed after %zu of %zu files: restoring them from "
	    "%s/%s", i, j->nmanifest, j->dir, GC_BACKUP);
	if (rollback(j, i) == 0 && journal_mark(j, GC_ROLLED_BACK) == 0) {
		p = journal_path(j, "%s", GC_NEW);
		(void)rmtree(p);
		free(p);
		log_warnx("restored the previous files: nothing changed");
	} else
		log_warnx("could not restore every file: run generate_certs "
		    "again to complete the renewal");
	return -1;
}

int
journal_finish(const struct journal *j)
{
	char *p;
	int rc;

	if (journal_mark(j, GC_DONE) == -1)
		return -1;
	p = journal_path(j, "%s", GC_NEW);
	rc = rmtree(p);
	free(p);
	return rc;
}
