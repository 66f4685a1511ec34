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
gc_run_path(const struct gc *gc, const char *fmt, ...)
{
	char *rel, *p;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		rel = NULL;
	va_end(ap);
	p = path_join(gc->rundir, "%s", rel != NULL ? rel : "");
	free(rel);
	return p;
}

int
gc_lock(void)
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
gc_has(const struct gc *gc, const char *marker)
{
	char *p = gc_run_path(gc, "%s", marker);
	int r = sfile_exists(p);

	free(p);
	return r;
}

int
gc_mark(const struct gc *gc, const char *marker)
{
	char buf[32], *p;
	int rc;

	snprintf(buf, sizeof(buf), "%lld\n", (long long)time(NULL));
	p = gc_run_path(gc, "%s", marker);
	rc = sfile_write(p, buf, strlen(buf), 0600);
	free(p);
	if (rc == 0)
		log_info("%s: %s", gc->rundir, marker);
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

int
gc_abandon(const char *rundir)
{
	struct gc tmp;
	char *p;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	tmp.rundir = (char *)rundir;
	p = gc_run_path(&tmp, "%s", GC_NEW);
	rc = rmtree(p);
	free(p);
	if (rc == 0)
		rc = gc_mark(&tmp, GC_ABANDONED);
	return rc;
}

/* Remove this run's folder: staging failed and nothing was replaced. */
int
gc_discard(struct gc *gc)
{
	int rc = rmtree(gc->rundir);

	if (rc == 0)
		log_info("%s: removed: nothing was replaced", gc->rundir);
	return rc;
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

static int
read_manifest(struct gc *gc)
{
	char *p, *buf, *line, *nl;
	size_t len;

	p = gc_run_path(gc, "%s", GC_MANIFEST);
	if (sfile_read(p, 64 * SFILE_CAP, &buf, &len) == -1) {
		free(p);
		return -1;
	}
	gc_manifest_free(gc);
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
		gc->manifest = xreallocarray(gc->manifest, gc->nmanifest + 1,
		    sizeof(*gc->manifest));
		gc->manifest[gc->nmanifest++] = xstrdup(line);
	}
	free(buf);
	free(p);
	return 0;
}

/*
 * Look for an earlier run to complete: the newest run folder that is
 * STAGED but not DONE (nor ROLLED_BACK).  A folder whose staging never
 * finished replaced nothing; its new/ is removed and it is marked
 * ABANDONED (unless dry), so that no stray keys stay behind.  1 when a
 * run is pending (gc->rundir, epoch, manifest set), 0 when none.
 */
int
gc_find_pending(struct gc *gc)
{
	struct dirent *de;
	char *dir, *best = NULL, *p;
	long long e, beste = -1;
	struct gc t;
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
		t.rundir = xasprintf("%s/%s", dir, de->d_name);
		e = strtoll(de->d_name, NULL, 10);
		if (gc_has(&t, GC_DONE) || gc_has(&t, GC_ABANDONED) ||
		    gc_has(&t, GC_ROLLED_BACK)) {
			free(t.rundir);
			continue;
		}
		if (!gc_has(&t, GC_STAGED)) {
			p = gc_run_path(&t, "%s", GC_NEW);
			if (sfile_exists(p) && !gc->dry) {
				log_info("%s: staging never finished: "
				    "abandoned", t.rundir);
				if (gc_abandon(t.rundir) == -1) {
					free(p);
					free(t.rundir);
					goto out;
				}
			}
			free(p);
			free(t.rundir);
			continue;
		}
		if (e > beste) {
			free(best);
			best = t.rundir;
			beste = e;
		} else
			free(t.rundir);
	}
	rc = 0;
	if (best != NULL) {
		gc->rundir = best;
		gc->epoch = beste;
		gc->resumed = 1;
		best = NULL;
		if (read_manifest(gc) == -1)
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
gc_rundir_new(struct gc *gc)
{
	char *p;

	p = root_path(RP_CERTS_TMP);
	if (sfile_mkdirs(p, 0755) == -1) {
		free(p);
		return -1;
	}
	free(p);
	/* the epoch names the run; two runs in one second take the next */
	for (gc->epoch = (long long)gc->start; ; gc->epoch++) {
		p = root_path("%s/%lld", RP_CERTS_TMP, gc->epoch);
		if (mkdir(p, 0700) == 0)
			break;
		if (errno != EEXIST) {
			log_warn("%s", p);
			free(p);
			return -1;
		}
		free(p);
	}
	gc->rundir = p;
	return sfile_fsync_dir(p);
}

static void
madd(struct gc *gc, char *rel)
{
	gc->manifest = xreallocarray(gc->manifest, gc->nmanifest + 1,
	    sizeof(*gc->manifest));
	gc->manifest[gc->nmanifest++] = rel;
}

/*
 * Commit order: the peers' identities, this FMC's, the CA database, the
 * CA key and last the CA certificate.  So the tree's own cacert.pem is
 * the new one only once everything else is; the journal covers the rest.
 */
void
gc_manifest_build(struct gc *gc)
{
	size_t i;
	const char *u;

	gc_manifest_free(gc);
	for (i = 0; i < gc->npeers; i++) {
		u = gc->gp[i].p->uuid;
		madd(gc, xasprintf("%s/%s/%s/%s", RP_PEERS, u, PEERF_PUSHED,
		    PEERF_KEY));
		madd(gc, xasprintf("%s/%s/%s/%s", RP_PEERS, u, PEERF_PUSHED,
		    PEERF_CERT));
		madd(gc, xasprintf("%s/%s/%s", RP_PEERS, u, PEERF_KEY));
		madd(gc, xasprintf("%s/%s/%s", RP_PEERS, u, PEERF_CERT));
	}
	madd(gc, xstrdup(RP_OWN_KEY));
	madd(gc, xstrdup(RP_OWN_CERT));
	madd(gc, xstrdup(RP_CA_INDEX));
	madd(gc, xstrdup(RP_CA_SERIAL));
	madd(gc, xstrdup(RP_CA_CRL));
	madd(gc, xstrdup(RP_CA_KEY));
	madd(gc, xstrdup(RP_CA_CERT));
}

void
gc_manifest_free(struct gc *gc)
{
	size_t i;

	for (i = 0; i < gc->nmanifest; i++)
		free(gc->manifest[i]);
	free(gc->manifest);
	gc->manifest = NULL;
	gc->nmanifest = 0;
}

int
gc_manifest_write(const struct gc *gc)
{
	char *buf = NULL, *p;
	size_t len = 0, i;
	FILE *f;
	int rc;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("open_memstream");
		return -1;
	}
	for (i = 0; i < gc->nmanifest; i++)
		fprintf(f, "%s\n", gc->manifest[i]);
	fclose(f);
	p = gc_run_path(gc, "%s", GC_MANIFEST);
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

/*
 * Copy every file the commit replaces into backup/, once: a re-run after
 * BACKED_UP must not back up half-new files over the originals.
 */
int
gc_backup(struct gc *gc)
{
	char *src, *dst;
	size_t i, n = 0;
	int rc = 0;

	if (gc_has(gc, GC_BACKED_UP))
		return 0;
	for (i = 0; i < gc->nmanifest && rc == 0; i++) {
		src = root_path("%s", gc->manifest[i]);
		dst = gc_run_path(gc, "%s/%s", GC_BACKUP, gc->manifest[i]);
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
		rc = sfile_syncfs(gc->rundir);
	if (rc == 0)
		rc = gc_mark(gc, GC_BACKED_UP);
	if (rc == 0)
		log_info("backed up %zu files into %s/%s", n, gc->rundir,
		    GC_BACKUP);
	return rc;
}

/* Put back files 0..upto-1 from backup/; a file that was absent goes. */
static int
rollback(struct gc *gc, size_t upto)
{
	char *src, *dst;
	size_t i;
	int rc = 0;

	for (i = upto; i-- > 0; ) {
		src = gc_run_path(gc, "%s/%s", GC_BACKUP, gc->manifest[i]);
		dst = root_path("%s", gc->manifest[i]);
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

/* Replace manifest path i with its staged copy. */
static int
commit_one(struct gc *gc, size_t i)
{
	char *src, *dst;
	int rc = 0;

	src = gc_run_path(gc, "%s/%s", GC_NEW, gc->manifest[i]);
	dst = root_path("%s", gc->manifest[i]);
	if (mkparent(dst, 0755) == -1 || sfile_copy(src, dst) == -1)
		rc = -1;
	free(src);
	free(dst);
	if (i == gc->nmanifest / 2)
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
gc_commit(struct gc *gc)
{
	size_t i, npeer = 0;
	char *p;
	int rc = 0;

	if (gc_has(gc, GC_COMMITTED))
		return 0;
	/*
	 * The manifest lists the peers' files first; they go in parallel.
	 * The FMC's own files and the CA's follow one by one, in order, the
	 * CA certificate last.
	 */
	while (npeer < gc->nmanifest &&
	    strncmp(gc->manifest[npeer], RP_PEERS "/",
	    sizeof(RP_PEERS)) == 0)
		npeer++;
	i = npeer;
	if (gc_par_run(gc, npeer, GC_COMMIT_THREADS, commit_one) == -1)
		rc = -1;
	for (; rc == 0 && i < gc->nmanifest; i++)
		if (commit_one(gc, i) == -1) {
			rc = -1;
			i++;
		}
	if (rc == -1) {
		log_warnx("commit failed after %zu of %zu files: restoring "
		    "them from %s/%s", i, gc->nmanifest, gc->rundir,
		    GC_BACKUP);
		if (rollback(gc, i) == 0 &&
		    gc_mark(gc, GC_ROLLED_BACK) == 0) {
			p = gc_run_path(gc, "%s", GC_NEW);
			(void)rmtree(p);
			free(p);
			log_warnx("restored the previous files: nothing "
			    "changed");
		} else
			log_warnx("could not restore every file: run "
			    "generate_certs again to complete the renewal");
		return -1;
	}
	log_info("replaced %zu files", gc->nmanifest);
	return gc_mark(gc, GC_COMMITTED);
}

/* DONE; the staged keys go: the tree and backup/ hold what is needed. */
int
gc_finish(struct gc *gc)
{
	char *p;
	int rc;

	if (gc_mark(gc, GC_DONE) == -1)
		return -1;
	p = gc_run_path(gc, "%s", GC_NEW);
	rc = rmtree(p);
	free(p);
	return rc;
}
