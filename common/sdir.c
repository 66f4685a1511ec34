// SPDX-License-Identifier: ISC
/* sdir.c -- folders only root can change: checked walks, and files in them by fd */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "root.h"
#include "sdir.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

/* "name (uid N)", or "uid N" when the uid has no name. */
static void
owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s (uid %lu)", pw->pw_name,
		    (unsigned long)uid);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
}

/* 0 when st is a folder that passes the check, else -1 with a message. */
static int
check(const char *path, const struct stat *st, int flags)
{
	char who[64];
	mode_t m = st->st_mode & 07777;

	owner_name(st->st_uid, who, sizeof(who));
	if (S_ISLNK(st->st_mode)) {
		log_warnx("%s: a symbolic link, owned by %s: refused", path,
		    who);
		return -1;
	}
	if (!S_ISDIR(st->st_mode)) {
		log_warnx("%s: not a folder, owned by %s: refused", path, who);
		return -1;
	}
	if (st->st_uid != 0) {
		log_warnx("%s: owned by %s, not by root: refused", path, who);
		return -1;
	}
	if ((flags & SDIR_EXACT) && m != 0700 && m != 0755) {
		log_warnx("%s: owned by %s, mode %04o, not 0700 or 0755: "
		    "refused", path, who, (unsigned)m);
		return -1;
	}
	if ((m & 022) != 0 && (m & S_ISVTX) == 0) {
		log_warnx("%s: owned by %s, mode %04o: writable by others "
		    "than root: refused", path, who, (unsigned)m);
		return -1;
	}
	return 0;
}

/* Open the component name of dfd (its path is path) and check it. */
static int
step(int dfd, const char *path, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd, made = 0, e;

 again:
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		if (e == ENOENT && (flags & SDIR_CREATE) && !made) {
			if (mkdirat(dfd, name, mode) == -1 &&
			    errno != EEXIST) {
				log_warn("%s", path);
				return -1;
			}
			made = 1;
			goto again;
		}
		if (e == ENOENT) {
			errno = ENOENT;
			return -1;
		}
		/* a link (ELOOP) or not a folder (ENOTDIR): say what it is */
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			(void)check(path, &st, flags);
			errno = EPERM;
			return -1;
		}
		errno = e;
		log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	if (check(path, &st, flags) == -1) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int
sdir_openat(int dfd, const char *dpath, const char *rel, int flags,
    mode_t mode)
{
	char buf[PATH_MAX], path[PATH_MAX], *comp, *next;
	int fd, nfd;

	if (strlcpy(buf, rel, sizeof(buf)) >= sizeof(buf)) {
		log_warnx("%s/%s: path too long", dpath, rel);
		errno = ENAMETOOLONG;
		return -1;
	}
	strlcpy(path, dpath, sizeof(path));
	if ((fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s", dpath);
		return -1;
	}
	for (comp = buf; comp != NULL; comp = next) {
		if ((next = strchr(comp, '/')) != NULL)
			*next++ = '\0';
		if (*comp == '\0' || strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			log_warnx("%s/%s: \"..\" in a checked path", dpath,
			    rel);
			close(fd);
			errno = EINVAL;
			return -1;
		}
		if (strcmp(path, "/") != 0)
			strlcat(path, "/", sizeof(path));
		strlcat(path, comp, sizeof(path));
		nfd = step(fd, path, comp, flags, mode);
		close(fd);
		if (nfd == -1)
			return -1;
		fd = nfd;
	}
	return fd;
}

int
sdir_open(const char *rel, int flags, mode_t mode)
{
	int rfd, fd, e;

	rfd = open(root_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd == -1) {
		log_warn("%s", root_dir());
		return -1;
	}
	fd = sdir_openat(rfd, root_dir(), rel, flags, mode);
	e = errno;
	close(rfd);
	errno = e;
	return fd;
}

/*
 * Make the temporary ".name.XXXXXX" of the folder dfd with make (0, or -1
 * with errno), trying new names while it says EEXIST.  0 with its name in
 * tmp; -1 (tmp empty) with errno as make left it, unreported; -2 when
 * reported here (a bad name, no free name).
 */
static int
temp_name(int dfd, const char *dpath, const char *name, char *tmp,
    size_t tmplen, int (*make)(int, const char *, void *), void *arg)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n, k;
	int tries;

	n = strlen(name);
	if (n + 9 > NAME_MAX || n + 9 > tmplen || strchr(name, '/') != NULL) {
		log_warnx("%s/%s: bad name", dpath, name);
		tmp[0] = '\0';
		errno = EINVAL;
		return -2;
	}
	for (tries = 0; tries < 100; tries++) {
		snprintf(tmp, tmplen, ".%s.XXXXXX", name);
		for (k = n + 2; tmp[k] != '\0'; k++)
			tmp[k] = set[arc4random_uniform(sizeof(set) - 1)];
		if (make(dfd, tmp, arg) == 0)
			return 0;
		if (errno != EEXIST) {
			tmp[0] = '\0';
			return -1;
		}
	}
	log_warnx("%s/%s: no free temporary name", dpath, name);
	tmp[0] = '\0';
	errno = EEXIST;
	return -2;
}

static int
make_file(int dfd, const char *tmp, void *arg)
{
	int *fd = arg;

	*fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	return *fd == -1 ? -1 : 0;
}

int
sdir_mktemp(int dfd, const char *dpath, const char *name, char *tmp,
    size_t tmplen)
{
	int fd = -1, r;

	if ((r = temp_name(dfd, dpath, name, tmp, tmplen, make_file,
	    &fd)) != 0) {
		if (r == -1)
			log_warn("%s/%s: temporary file", dpath, name);
		return -1;
	}
	return fd;
}

static int
make_link(int dfd, const char *tmp, void *arg)
{
	return linkat(AT_FDCWD, arg, dfd, tmp, 0);
}

int
sdir_linktemp(int dfd, const char *dpath, const char *name, const char *src,
    char *tmp, size_t tmplen)
{
	int r, e;

	r = temp_name(dfd, dpath, name, tmp, tmplen, make_link,
	    (void *)(uintptr_t)src);
	if (r == -1 && errno != EXDEV) {
		e = errno;
		log_warn("%s/%s: temporary link", dpath, name);
		errno = e;
	}
	return r == 0 ? 0 : -1;
}

int
sdir_write_temp(int dfd, const char *dpath, const char *name,
    const void *buf, size_t len, mode_t mode, char *tmp, size_t tmplen)
{
	int fd = -1, rc = -1;

	if ((fd = sdir_mktemp(dfd, dpath, name, tmp, tmplen)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1) {
		log_warn("%s/%s: chmod", dpath, tmp);
		goto out;
	}
	if (sfile_write_fd(fd, buf, len) == -1) {
		log_warn("%s/%s: write", dpath, name);
		goto out;
	}
	if (fsync(fd) == -1) {
		log_warn("%s/%s: fsync", dpath, name);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_warn("%s/%s: close", dpath, name);
		goto out;
	}
	fd = -1;
	rc = 0;
 out:
	if (fd != -1)
		close(fd);
	if (rc == -1) {
		(void)unlinkat(dfd, tmp, 0);
		tmp[0] = '\0';
	}
	return rc;
}

int
sdir_install(int dfd, const char *dpath, char *tmp, const char *name)
{
	if (renameat(dfd, tmp, dfd, name) == -1) {
		log_warn("%s/%s: rename", dpath, name);
		return -1;
	}
	tmp[0] = '\0';
	if (fsync(dfd) == -1 && errno != EINVAL) {
		log_warn("%s: fsync", dpath);
		return -1;
	}
	return 0;
}

int
sdir_write(int dfd, const char *dpath, const char *name, const void *buf,
    size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1];
	int rc;

	if (sdir_write_temp(dfd, dpath, name, buf, len, mode, tmp,
	    sizeof(tmp)) == -1)
		return -1;
	rc = sdir_install(dfd, dpath, tmp, name);
	if (tmp[0] != '\0')
		(void)unlinkat(dfd, tmp, 0);
	return rc;
}

int
sdir_read(int dfd, const char *dpath, const char *name, size_t cap,
    char **out, size_t *len)
{
	char *label;
	int fd, rc;

	*out = NULL;
	*len = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			log_warn("%s/%s", dpath, name);
		return -1;
	}
	label = xasprintf("%s/%s", dpath, name);
	rc = sfile_read_fd(fd, label, cap, out, len);
	free(label);
	if (rc == -1)
		errno = EIO;
	return rc;
}

int
sdir_has(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Empty the folder fd (path path), depth first, following no link. */
static int
empty_dir(int fd, const char *path, int depth)
{
	struct dirent *de;
	struct stat st;
	char *sub;
	DIR *d;
	int dup, cfd, rc = 0;

	if (depth > 64) {
		log_warnx("%s: too deep", path);
		return -1;
	}
	if ((dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(dup)) == NULL) {
		log_warn("%s", path);
		if (dup != -1)
			close(dup);
		return -1;
	}
	while ((de = readdir(d)) != NULL && rc == 0) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			log_warn("%s/%s", path, de->d_name);
			rc = -1;
			break;
		}
		sub = xasprintf("%s/%s", path, de->d_name);
		if (S_ISDIR(st.st_mode)) {
			cfd = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (cfd == -1) {
				log_warn("%s", sub);
				rc = -1;
			} else {
				rc = empty_dir(cfd, sub, depth + 1);
				close(cfd);
			}
			if (rc == 0 && unlinkat(fd, de->d_name,
			    AT_REMOVEDIR) == -1 && errno != ENOENT) {
				log_warn("%s", sub);
				rc = -1;
			}
		} else if (unlinkat(fd, de->d_name, 0) == -1 &&
		    errno != ENOENT) {
			log_warn("%s", sub);
			rc = -1;
		}
		free(sub);
	}
	closedir(d);
	return rc;
}

int
sdir_rmtree(int dfd, const char *dpath, const char *name)
{
	struct stat st;
	char *path;
	int fd, rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	path = xasprintf("%s/%s", dpath, name);
	if (S_ISDIR(st.st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1) {
			log_warn("%s", path);
			rc = -1;
		} else {
			rc = empty_dir(fd, path, 0);
			close(fd);
		}
		if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) == -1) {
			log_warn("%s", path);
			rc = -1;
		}
	} else if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT) {
		log_warn("%s", path);
		rc = -1;
	}
	if (rc == 0 && fsync(dfd) == -1 && errno != EINVAL) {
		log_warn("%s: fsync", dpath);
		rc = -1;
	}
	free(path);
	return rc;
}

/* ".<base>." and six characters of mkstemp's set */
static int
is_temporary(const char *name, const char *base)
{
	size_t n = strlen(base), k;

	if (name[0] != '.' || strncmp(name + 1, base, n) != 0 ||
	    name[n + 1] != '.' || strlen(name + n + 2) != 6)
		return 0;
	for (k = n + 2; name[k] != '\0'; k++)
		if (!((name[k] >= 'A' && name[k] <= 'Z') ||
		    (name[k] >= 'a' && name[k] <= 'z') ||
		    (name[k] >= '0' && name[k] <= '9')))
			return 0;
	return 1;
}

int
sdir_sweep(int dfd, const char *dpath, const char *base)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dup, n = 0;

	if ((dup = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(dup)) == NULL) {
		log_warn("%s", dpath);
		if (dup != -1)
			close(dup);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_temporary(de->d_name, base))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dfd, de->d_name, 0) == -1) {
			if (errno == ENOENT)
				continue;
			log_warn("%s/%s", dpath, de->d_name);
			closedir(d);
			return -1;
		}
		log_info("%s/%s: a temporary left by a killed run: removed",
		    dpath, de->d_name);
		n++;
	}
	closedir(d);
	return n;
}
