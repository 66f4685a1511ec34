// SPDX-License-Identifier: ISC
/* generate_certs-journal.c -- run folder, lock, backup, commit, resume */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "generate_certs.h"
#include "log.h"
#include "manifest.h"
#include "root.h"
#include "sdir.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

static void	sweep_markers(const char *);

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
	char *path;
	int dfd, fd, rc = -1;

	path = root_path("%s/%s", RP_RUNS, GC_LOCK);
	if ((dfd = sdir_open(RP_RUNS, SDIR_CREATE, 0700)) == -1)
		goto out;
	fd = openat(dfd, GC_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	close(dfd);
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
	free(path);
	return rc;
}

/* var/tmp/certs/<epoch>, "var/tmp/certs" alone when epoch is -1. */
static char *
report_rel(long long epoch)
{
	if (epoch == -1)
		return xstrdup("certs");
	return xasprintf("certs/%lld", epoch);
}

int
journal_check_report_dir(long long epoch)
{
	char *rel, *vt = root_path("var/tmp");
	int tfd, fd;

	/* /var/tmp itself is everyone's (sticky): only what is in it is ours */
	if ((tfd = sdir_open("var/tmp", 0, 0)) == -1) {
		free(vt);
		return errno == ENOENT ? 0 : -1;
	}
	rel = report_rel(epoch);
	fd = sdir_openat(tfd, vt, rel, SDIR_EXACT, 0);
	close(tfd);
	free(rel);
	free(vt);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	close(fd);
	return 0;
}

int
journal_report(const struct journal *j, const char *buf, size_t len)
{
	char *rel, *vt = root_path("var/tmp"), *dp;
	int tfd, fd, rc = -1;

	if ((tfd = sdir_open("var/tmp", len > 0 ? SDIR_CREATE : 0,
	    01777)) == -1) {
		free(vt);
		return len == 0 && errno == ENOENT ? 0 : -1;
	}
	rel = report_rel(j->epoch);
	dp = xasprintf("%s/%s", vt, rel);
	fd = sdir_openat(tfd, vt, rel, SDIR_EXACT |
	    (len > 0 ? SDIR_CREATE : 0), 0755);
	close(tfd);
	if (fd == -1) {
		if (len == 0 && errno == ENOENT)
			rc = 0;
		goto out;
	}
	if (len > 0)
		rc = sdir_write(fd, dp, GC_FAILED_PUSH, buf, len, 0644);
	else
		rc = sdir_rmtree(fd, dp, GC_FAILED_PUSH);
	close(fd);
 out:
	free(rel);
	free(dp);
	free(vt);
	return rc;
}

char *
journal_staged(const struct journal *j, const char *rel)
{
	char *flat, *p;

	if (!j->flat)
		return journal_path(j, "%s/%s", GC_NEW, rel);
	flat = xstrdup(rel);
	for (p = flat; (p = strchr(p, '/')) != NULL; p++)
		*p = '%';
	p = journal_path(j, "%s/%s", GC_NEW, flat);
	free(flat);
	return p;
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

/*
 * rm -r of name in j's run folder ("" for the run folder itself), a
 * missing one being fine; through the checked folders, following no link.
 */
static int
rmtree(const struct journal *j, const char *name)
{
	char *rel, *dp;
	int fd, rc;

	if (*name == '\0') {
		rel = xstrdup(RP_RUNS);
		name = strrchr(j->dir, '/') + 1;
	} else
		rel = xasprintf("%s/%lld", RP_RUNS, j->epoch);
	dp = root_path("%s", rel);
	if ((fd = sdir_open(rel, 0, 0)) == -1)
		rc = errno == ENOENT ? 0 : -1;
	else {
		rc = sdir_rmtree(fd, dp, name);
		close(fd);
	}
	free(rel);
	free(dp);
	return rc;
}

/* Its new/ goes and it is marked ABANDONED: nothing was replaced. */
static int
abandon(const struct journal *j)
{
	int rc;

	rc = rmtree(j, GC_NEW);
	if (rc == 0)
		rc = journal_mark(j, GC_ABANDONED);
	return rc;
}

int
journal_discard(const struct journal *j)
{
	if (rmtree(j, "") == 0) {
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
journal_manifest_clear(struct journal *j)
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
	static const char *const what[] = {
		[MANIFEST_NUL] = "a NUL byte",
		[MANIFEST_NOT_ALLOWED] = "not a file a renewal writes",
		[MANIFEST_TWICE] = "twice a file a renewal writes",
	};
	enum manifest_err err;
	char *p, *buf;
	size_t len, line;
	int rc = -1;

	p = journal_path(j, "%s", GC_MANIFEST);
	if (sfile_read(p, SFILE_BIG_CAP, &buf, &len) == -1) {
		free(p);
		return -1;
	}
	journal_manifest_clear(j);
	if (manifest_parse(buf, len, &j->manifest, &j->nmanifest, &line,
	    &err) == 0)
		rc = 0;
	else if (err == MANIFEST_TRUNCATED)
		log_warnx("%s: truncated", p);
	else
		log_warnx("%s:%zu: %s: the "
		    "interrupted renewal in %s is not completed; "
		    "this run changed nothing", p, line, what[err], j->dir);
	free(buf);
	free(p);
	return rc;
}

int
journal_find_pending(struct journal *j, int dry)
{
	struct dirent *de;
	struct journal t;
	struct stat st;
	char *dir, *best = NULL, *p;
	long long e, beste = -1;
	DIR *d;
	int fd, rfd, rc = -1;

	dir = root_path(RP_RUNS);
	/* only root can have made what is in it */
	if ((fd = sdir_open(RP_RUNS, 0, 0)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc == -1 && fd != -1) {
			log_warn("%s", dir);
			close(fd);
		}
		free(dir);
		return rc;
	}
	memset(&t, 0, sizeof(t));
	while ((de = readdir(d)) != NULL) {
		if (!all_digits(de->d_name) || strlen(de->d_name) > 18)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		/*
		 * runs/ is root's alone, so what is in it should be too; a
		 * run folder that is not (a link, another owner, a mode
		 * others can write) steers nothing: refused, named.
		 */
		if ((rfd = sdir_openat(fd, dir, de->d_name, SDIR_EXACT,
		    0)) == -1) {
			if (errno == ENOENT)	/* gone since readdir */
				continue;
			goto out;
		}
		close(rfd);
		t.dir = xasprintf("%s/%s", dir, de->d_name);
		t.epoch = e = strtoll(de->d_name, NULL, 10);
		if (!dry)
			sweep_markers(t.dir);
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
	char name[24], *p;
	int fd, rc;

	if ((fd = sdir_open(RP_RUNS, SDIR_CREATE, 0700)) == -1)
		return -1;
	journal_release(j);
	/* the epoch names the run; two runs in one second take the next */
	for (j->epoch = (long long)start; ; j->epoch++) {
		snprintf(name, sizeof(name), "%lld", j->epoch);
		if (mkdirat(fd, name, 0700) == 0)
			break;
		if (errno != EEXIST) {
			p = root_path("%s/%s", RP_RUNS, name);
			log_warn("%s", p);
			free(p);
			close(fd);
			return -1;
		}
	}
	j->dir = root_path("%s/%s", RP_RUNS, name);
	rc = 0;
	if (fsync(fd) == -1 && errno != EINVAL) {
		log_warn("%s", j->dir);
		rc = -1;
	}
	close(fd);
	return rc;
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
	journal_manifest_clear(j);
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

/*
 * Back up the live file src as dst, not flushed (synced once by the
 * caller).  The default mode copies, as it always has.  A renewal on the
 * same keys (by_link) gives a regular file a second name instead, as its
 * commit does (see link_one): that commit needs no room and frees none
 * (COMMITTED's room is taken before it, see premark_write), and no
 * certificate is written twice.  A live file is
 * only ever replaced by a rename, never written in place, so the second
 * name keeps the old bytes.  Another filesystem, or anything but a
 * regular file: a copy.
 */
static int
backup_one(const char *src, const char *dst, int by_link)
{
	struct stat st;

	if (by_link && lstat(src, &st) == 0 && S_ISREG(st.st_mode) &&
	    link(src, dst) == 0)
		return 0;
	return sfile_copy_nosync(src, dst);
}

int
journal_backup(const struct journal *j)
{
	char *src, *dst;
	size_t i, n = 0;
	int rc = 0, by_link;

	if (journal_has(j, GC_BACKED_UP))
		return 0;
	by_link = journal_has(j, GC_EXTEND);
	for (i = 0; i < j->nmanifest && rc == 0; i++) {
		src = root_path("%s", j->manifest[i]);
		dst = journal_path(j, "%s/%s", GC_BACKUP, j->manifest[i]);
		if (sfile_exists(src)) {
			if (mkparent(dst, 0700) == -1 ||
			    backup_one(src, dst, by_link) == -1)
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

/*
 * The commit, in two phases.  First every file of the manifest gets its
 * new content in a temporary next to it, with the mode and owner of the
 * file it replaces (a new file: the staged mode, root's); a full disk or
 * a read-only folder fails here, when nothing has been replaced, and the
 * temporaries go.  (A renewal on the same keys makes each temporary a
 * second name of its staged file instead, see link_one, as its backup
 * is one of the file replaced: no certificate is written again.)  Then
 * one syncfs(2) per filesystem makes every
 * temporary durable before the first rename.  Then the renames, which
 * need no room, in commit order: the peers' files in parallel, followed
 * by one syncfs per filesystem, then the FMC's own and the CA's one by
 * one, each folder fsynced after its rename, the CA certificate last.  So
 * a file is durably new only once every file before it in commit order
 * is, and COMMITTED is written only once every rename is durable.  A
 * failed commit is rolled back, or the renewal is committed; nothing in
 * between but a failed rename whose undo fails too.
 */
struct cfile {
	char	*dst;			/* the live file */
	char	*dir;			/* its folder */
	const char *base;		/* into dst */
	int	 dfd;			/* dir, open */
	dev_t	 dev;			/* dir's filesystem */
	char	 tmp[NAME_MAX + 1];	/* its temporary, "" when none */
	int	 in_place;		/* already new/'s file */
	int	 replaced;
};

struct commit {
	const struct journal *j;
	const char	*from;		/* GC_NEW, or GC_BACKUP to undo */
	int		 each;		/* fsync every file and folder */
	int		 by_link;	/* new/'s files by a second name */
	struct cfile	*f;
	size_t		 n;
};

/* The folder a missing file goes in: the CA key's is root's alone. */
static mode_t
dir_mode(const char *rel)
{
	return strcmp(rel, RP_CA_KEY) == 0 ? 0700 : 0755;
}

/*
 * The temporary of f as a second name of the staged file src (lstat sst;
 * the live file's lstat st when it exists), with the mode and owner
 * given.  A resumed commit may find the live file is src already: no
 * temporary then (the rename of one name of a file over another does
 * nothing, and would leave it).  0 done, -1 reported, 1 when src is on
 * another filesystem than f: nothing done, the caller copies.
 */
static int
link_one(struct cfile *f, const char *src, const struct stat *sst,
    const struct stat *st, mode_t mode, uid_t uid, gid_t gid)
{
	if (st != NULL && st->st_dev == sst->st_dev &&
	    st->st_ino == sst->st_ino) {
		f->in_place = 1;
		return 0;
	}
	if (sdir_linktemp(f->dfd, f->dir, f->base, src, f->tmp,
	    sizeof(f->tmp)) == -1)
		return errno == EXDEV ? 1 : -1;
	if (fchownat(f->dfd, f->tmp, uid, gid, AT_SYMLINK_NOFOLLOW) == -1 ||
	    fchmodat(f->dfd, f->tmp, mode, 0) == -1) {
		log_warn("%s/%s: owner and mode", f->dir, f->tmp);
		return -1;
	}
	return 0;
}

/* Write the temporary of file i from <from>/<rel>. */
static int
prepare_one(void *arg, size_t i)
{
	struct commit *c = arg;
	struct cfile *f = &c->f[i];
	const char *rel = c->j->manifest[i];
	struct stat st, sst;
	char *src, *buf = NULL;
	size_t len = 0;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int fd = -1, live, r, rc = -1;

	src = strcmp(c->from, GC_NEW) == 0 ? journal_staged(c->j, rel) :
	    journal_path(c->j, "%s/%s", c->from, rel);
	if (f->dfd == -1) {
		if (mkparent(f->dst, dir_mode(rel)) == -1)
			goto out;
		f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (f->dfd == -1 || fstat(f->dfd, &st) == -1) {
			log_warn("%s", f->dir);
			goto out;
		}
		f->dev = st.st_dev;
	}
	if (lstat(src, &sst) == -1) {
		log_warn("%s", src);
		goto out;
	}
	if ((live = fstatat(f->dfd, f->base, &st, AT_SYMLINK_NOFOLLOW) ==
	    0)) {
		if (!S_ISREG(st.st_mode)) {
			log_warnx("%s: not a regular file", f->dst);
			goto out;
		}
		mode = st.st_mode & 07777;
		uid = st.st_uid;
		gid = st.st_gid;
	} else if (errno == ENOENT) {
		mode = sst.st_mode & 07777;
		uid = geteuid();
		gid = getegid();
	} else {
		log_warn("%s", f->dst);
		goto out;
	}
	if (c->by_link && S_ISREG(sst.st_mode)) {
		r = link_one(f, src, &sst, live ? &st : NULL, mode, uid, gid);
		if (r == -1)
			goto out;
		if (r == 0)
			goto done;
		/* another filesystem: a copy, as below */
	}
	/* index.txt grows by a line a certificate at every --extend */
	if (sfile_read(src, SFILE_BIG_CAP, &buf, &len) == -1)
		goto out;
	if ((fd = sdir_mktemp(f->dfd, f->dir, f->base, f->tmp,
	    sizeof(f->tmp))) == -1)
		goto out;
	if (fchown(fd, uid, gid) == -1 || fchmod(fd, mode) == -1) {
		log_warn("%s/%s: owner and mode", f->dir, f->tmp);
		goto out;
	}
	/* durable with the others, by sync_all, unless each */
	if (sfile_write_fd(fd, buf, len) == -1 ||
	    (c->each && fsync(fd) == -1)) {
		log_warn("%s", f->dst);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_warn("%s", f->dst);
		goto out;
	}
	fd = -1;
 done:
	rc = 0;
	if (i == c->n / 2)
		gc_test_hook("commit-tmp");
 out:
	if (fd != -1)
		close(fd);
	if (buf != NULL)
		freezero(buf, len + 1);
	free(src);
	return rc;
}

/* Rename file i's temporary over it. */
static int
rename_one(void *arg, size_t i)
{
	struct commit *c = arg;
	struct cfile *f = &c->f[i];

	if (f->in_place) {
		f->replaced = 1;
		return 0;
	}
	if (renameat(f->dfd, f->tmp, f->dfd, f->base) == -1) {
		log_warn("%s: rename", f->dst);
		return -1;
	}
	f->tmp[0] = '\0';
	f->replaced = 1;
	if (c->each && fsync(f->dfd) == -1 && errno != EINVAL) {
		log_warn("%s: fsync", f->dir);
		return -1;
	}
	if (i == c->n / 2)
		gc_test_hook("mid-commit");
	return 0;
}

/*
 * One syncfs(2) on each filesystem that holds a folder of files from..to-1
 * of c: what was written or renamed there is then durable.
 */
static int
sync_all(struct commit *c, size_t from, size_t to)
{
	dev_t *seen = NULL;
	size_t i, k, nseen = 0;
	int rc = 0;

	for (i = from; i < to && rc == 0; i++) {
		if (c->f[i].dfd == -1)
			continue;
		for (k = 0; k < nseen && seen[k] != c->f[i].dev; k++)
			;
		if (k < nseen)
			continue;
		seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
		seen[nseen++] = c->f[i].dev;
		if (syncfs(c->f[i].dfd) == -1) {
			log_warn("%s: syncfs", c->f[i].dir);
			rc = -1;
		}
	}
	free(seen);
	return rc;
}

/* Remove every temporary still there. */
static void
drop_temps(struct commit *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->f[i].tmp[0] != '\0') {
			if (unlinkat(c->f[i].dfd, c->f[i].tmp, 0) == -1 &&
			    errno != ENOENT)
				log_warn("%s/%s", c->f[i].dir, c->f[i].tmp);
			c->f[i].tmp[0] = '\0';
		}
}

/*
 * A rename failed: put every replaced file back from backup/ (a file
 * that was absent goes), the same way.  0 when all are back.
 */
static int
undo(struct commit *c)
{
	char *b;
	size_t i;
	int rc = 0;

	drop_temps(c);
	c->from = GC_BACKUP;
	c->by_link = 0;
	c->each = 1;
	for (i = c->n; i-- > 0; ) {
		if (!c->f[i].replaced)
			continue;
		c->f[i].in_place = 0;
		b = journal_path(c->j, "%s/%s", GC_BACKUP, c->j->manifest[i]);
		if (sfile_exists(b)) {
			if (prepare_one(c, i) == -1 || rename_one(c, i) == -1)
				rc = -1;
		} else if (unlinkat(c->f[i].dfd, c->f[i].base, 0) == -1 &&
		    errno != ENOENT) {
			log_warn("%s", c->f[i].dst);
			rc = -1;
		}
		free(b);
	}
	drop_temps(c);
	return rc;
}

/*
 * Mark j ROLLED_BACK on a disk that may be full: STAGED is renamed to
 * ROLLED_BACK, which needs no room (the marker then holds the time of
 * the staging); a new file only when that fails.
 */
static int
mark_rolled_back(const struct journal *j)
{
	char *a = journal_path(j, "%s", GC_STAGED);
	char *b = journal_path(j, "%s", GC_ROLLED_BACK);
	int rc = -1;

	if (rename(a, b) == 0 && sfile_fsync_dir(j->dir) == 0) {
		log_info("%s: %s", j->dir, GC_ROLLED_BACK);
		rc = 0;
	} else
		rc = journal_mark(j, GC_ROLLED_BACK);
	free(a);
	free(b);
	return rc;
}

/*
 * A marker written ahead: its bytes in a flushed temporary of the run
 * folder now, its name later by a rename, which needs no room.
 */
struct premark {
	const char	*name;
	int		 dfd;			/* the run folder, open */
	char		 tmp[NAME_MAX + 1];	/* "" once renamed or gone */
};

static int
premark_write(const struct journal *j, const char *name, struct premark *m)
{
	char buf[32];

	m->name = name;
	m->tmp[0] = '\0';
	if ((m->dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("%s", j->dir);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%lld\n", (long long)time(NULL));
	return sdir_write_temp(m->dfd, j->dir, name, buf, strlen(buf), 0600,
	    m->tmp, sizeof(m->tmp));
}

/* Give the marker written ahead its name, durably. */
static int
premark_name(const struct journal *j, struct premark *m)
{
	if (sdir_install(m->dfd, j->dir, m->tmp, m->name) == -1)
		return -1;
	log_info("%s: %s", j->dir, m->name);
	return 0;
}

/* Remove the marker's temporary if it is still there. */
static void
premark_drop(struct premark *m)
{
	if (m->dfd == -1)
		return;
	if (m->tmp[0] != '\0')
		(void)unlinkat(m->dfd, m->tmp, 0);
	close(m->dfd);
	m->dfd = -1;
}

/* Files are prepared and renamed in any order over a few threads. */
#define GC_COMMIT_THREADS	8

int
journal_commit(const struct journal *j)
{
	struct commit c;
	struct premark mk;
	size_t i, npeer = 0;
	int rc = -1, undone;
	char *slash;

	if (journal_has(j, GC_COMMITTED))
		return 0;
	mk.dfd = -1;
	memset(&c, 0, sizeof(c));
	c.j = j;
	c.from = GC_NEW;
	c.by_link = journal_has(j, GC_EXTEND);
	c.n = j->nmanifest;
	c.f = xcalloc(c.n, sizeof(*c.f));
	for (i = 0; i < c.n; i++) {
		c.f[i].dfd = -1;
		c.f[i].dst = root_path("%s", j->manifest[i]);
		c.f[i].dir = xstrdup(c.f[i].dst);
		slash = strrchr(c.f[i].dir, '/');
		*slash = '\0';
		c.f[i].base = strrchr(c.f[i].dst, '/') + 1;
	}
	/*
	 * 1: every new content next to its file, durable; nothing replaced.
	 * COMMITTED is written now, under a temporary name: the renames need
	 * no room, and with --extend (second names) free none either.
	 */
	if (gc_par_run(&c, c.n, GC_COMMIT_THREADS, prepare_one) == -1 ||
	    sync_all(&c, 0, c.n) == -1 ||
	    premark_write(j, GC_COMMITTED, &mk) == -1) {
		drop_temps(&c);
		log_warnx("commit failed before any file was replaced: rolled "
		    "back, the previous files are in place");
		if (mark_rolled_back(j) == 0) {
			(void)rmtree(j, GC_NEW);
			log_warnx("nothing was changed; the next run starts "
			    "afresh");
		} else
			log_warnx("nothing was changed; the journal could not "
			    "say so: the next run completes this renewal");
		goto out;
	}
	/*
	 * 2: the renames.  The manifest lists the peers' files first; they
	 * go in parallel, then one flush.  The FMC's own files and the CA's
	 * follow one by one, in order, each flushed, the CA certificate last.
	 */
	while (npeer < c.n && strncmp(j->manifest[npeer], RP_PEERS "/",
	    sizeof(RP_PEERS)) == 0)
		npeer++;
	if (gc_par_run(&c, npeer, GC_COMMIT_THREADS, rename_one) == -1 ||
	    sync_all(&c, 0, npeer) == -1)
		goto undo;
	c.each = 1;
	for (i = npeer; i < c.n; i++)
		if (rename_one(&c, i) == -1)
			goto undo;
	log_info("replaced %zu files", c.n);
	if (premark_name(j, &mk) == -1) {
		log_warnx("committed: every file is the new one, but the "
		    "journal could not say so; run generate_certs again to "
		    "push them");
		goto out;
	}
	rc = 0;
	goto out;
 undo:
	for (i = 0, undone = 0; i < c.n; i++)
		undone += c.f[i].replaced;
	log_warnx("commit failed after %d of %zu files were replaced: "
	    "putting them back from %s/%s", undone, c.n, j->dir, GC_BACKUP);
	if (undo(&c) == 0 && mark_rolled_back(j) == 0) {
		(void)rmtree(j, GC_NEW);
		log_warnx("rolled back: the previous files are in place; "
		    "nothing was changed");
	} else
		log_warnx("could not put every file back: run generate_certs "
		    "again to complete the renewal");
 out:
	drop_temps(&c);
	premark_drop(&mk);
	for (i = 0; i < c.n; i++) {
		if (c.f[i].dfd != -1)
			close(c.f[i].dfd);
		free(c.f[i].dst);
		free(c.f[i].dir);
	}
	free(c.f);
	return rc;
}

/* Sweep the temporaries of base from the folder path, when it exists. */
static void
sweep_in(const char *path, const char *base)
{
	int fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	(void)sdir_sweep(fd, path, base);
	close(fd);
}

/* The markers' and MANIFEST's temporaries in the run folder dir. */
static void
sweep_markers(const char *dir)
{
	static const char *const names[] = {
		GC_MANIFEST, GC_EXTEND, GC_STAGED, GC_BACKED_UP, GC_COMMITTED,
		GC_DONE, GC_ABANDONED, GC_ROLLED_BACK,
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		sweep_in(dir, names[i]);
}

void
journal_sweep(const struct journal *j)
{
	static const char *const where[] = { NULL, GC_NEW, GC_BACKUP };
	char *dir, *path, *slash, *base, *vt;
	size_t i, k;
	int tfd, fd;

	for (i = 0; i < j->nmanifest; i++) {
		dir = xstrdup(j->manifest[i]);
		if ((slash = strrchr(dir, '/')) == NULL) {
			free(dir);
			continue;
		}
		*slash = '\0';
		for (k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
			if (where[k] != NULL && strcmp(where[k], GC_NEW) == 0 &&
			    j->flat) {
				/* new/<flat name>: its temporaries in new/ */
				path = journal_staged(j, j->manifest[i]);
				base = strrchr(path, '/');
				*base++ = '\0';
			} else {
				path = where[k] == NULL ? root_path("%s", dir) :
				    journal_path(j, "%s/%s", where[k], dir);
				base = slash + 1;
			}
			sweep_in(path, base);
			free(path);
		}
		free(dir);
	}
	sweep_markers(j->dir);
	/* FAILED_PUSH's, through the checked folders */
	if ((tfd = sdir_open("var/tmp", 0, 0)) == -1)
		return;
	vt = root_path("%s/%lld", RP_CERTS_TMP, j->epoch);
	path = xasprintf("certs/%lld", j->epoch);
	fd = sdir_openat(tfd, vt, path, SDIR_EXACT, 0);
	close(tfd);
	if (fd != -1) {
		(void)sdir_sweep(fd, vt, GC_FAILED_PUSH);
		close(fd);
	}
	free(path);
	free(vt);
}

static int
cmp_desc(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int
journal_prune(int keep)
{
	struct dirent *de;
	struct journal t;
	struct stat st;
	long long *e = NULL;
	size_t n = 0, i;
	char *dir, name[24];
	DIR *d;
	int fd, dfd, rc = 0;

	if ((fd = sdir_open(RP_RUNS, 0, 0)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			close(dfd);
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!all_digits(de->d_name) || strlen(de->d_name) > 18 ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		e = xreallocarray(e, n + 1, sizeof(*e));
		e[n++] = strtoll(de->d_name, NULL, 10);
	}
	closedir(d);
	qsort(e, n, sizeof(*e), cmp_desc);
	dir = root_path(RP_RUNS);
	memset(&t, 0, sizeof(t));
	for (i = (size_t)keep; i < n; i++) {
		snprintf(name, sizeof(name), "%lld", e[i]);
		t.dir = xasprintf("%s/%s", dir, name);
		/* a renewal still to complete is never removed */
		if (journal_has(&t, GC_STAGED) && !journal_has(&t, GC_DONE) &&
		    !journal_has(&t, GC_ABANDONED)) {
			free(t.dir);
			continue;
		}
		if (sdir_rmtree(fd, dir, name) == -1)
			rc = -1;
		else
			log_info("%s: removed, with its backup: the last %d "
			    "runs are kept", t.dir, keep);
		free(t.dir);
	}
	free(dir);
	free(e);
	close(fd);
	return rc;
}

int
journal_finish(const struct journal *j)
{
	if (journal_mark(j, GC_DONE) == -1)
		return -1;
	return rmtree(j, GC_NEW);
}
