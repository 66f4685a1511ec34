// SPDX-License-Identifier: ISC
/* sfile.c -- safe files: capped reads, exclusive creates, atomic replaces */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

int
sfile_read_fd(int fd, const char *path, size_t cap, char **out,
    size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	ssize_t r;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		log_warnx("%s: is a directory", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		log_warn("%s", path);
		goto out;
	}
	if ((size_t)st.st_size > cap) {
		log_warnx("%s: larger than %zu bytes", path, cap);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (have < (size_t)st.st_size) {
		r = read(fd, buf + have, (size_t)st.st_size - have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_warn("%s", path);
			goto out;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	buf = NULL;		/* transferred */
	rc = 0;
 out:
	if (buf != NULL)
		freezero(buf, (size_t)st.st_size + 1);
	close(fd);
	return rc;
}


int
sfile_read(const char *path, size_t cap, char **out, size_t *len)
{
	int fd;

	*out = NULL;
	*len = 0;
	/*
	 * Never through a symbolic link, and without waiting: a FIFO or a
	 * device in place of a file would block open(2) (or read(2)) for
	 * good.  The type is checked on what was opened.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		if (errno == ELOOP)
			log_warnx("%s: is a symbolic link", path);
		else
			log_warn("%s", path);
		return -1;
	}
	return sfile_read_fd(fd, path, cap, out, len);
}

int
sfile_fsync_dir(const char *path)
{
	char tmp[PATH_MAX];
	const char *dir = path;
	int fd;

	if (!sfile_isdir(path)) {
		if (strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp)) {
			log_warnx("%s: path too long", path);
			return -1;
		}
		dir = dirname(tmp);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("%s", dir);
		return -1;
	}
	if (fsync(fd) == -1 && errno != EINVAL) {
		log_warn("%s: fsync", dir);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
sfile_write_fd(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    int sync)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *base;
	char *slash;
	int fd, rc = -1;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		base = slash + 1;
		if (dir[0] == '\0')
			strlcpy(dir, "/", sizeof(dir));
	} else {
		strlcpy(dir, ".", sizeof(dir));
		base = path;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >=
	    sizeof(tmp)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	/* mkostemp opens O_CREAT|O_EXCL; never through a link either */
	if ((fd = mkostemp(tmp, O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_warn("%s: temporary file", path);
		return -1;
	}
	if (fchmod(fd, mode) == -1) {
		log_warn("%s: chmod", tmp);
		goto out;
	}
	if (sfile_write_fd(fd, buf, len) == -1) {
		log_warn("%s: write", path);
		goto out;
	}
	if (sync && fsync(fd) == -1) {
		log_warn("%s: fsync", path);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_warn("%s: close", path);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		log_warn("%s: rename", path);
		goto out;
	}
	tmp[0] = '\0';
	if (sync && sfile_fsync_dir(dir) == -1)
		goto out;
	rc = 0;
 out:
	if (fd != -1)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	return rc;
}

int
sfile_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	return write_atomic(path, buf, len, mode, 1);
}

int
sfile_write_nosync(const char *path, const void *buf, size_t len,
    mode_t mode)
{
	return write_atomic(path, buf, len, mode, 0);
}

int
sfile_syncfs(const char *path)
{
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		log_warn("%s", path);
		return -1;
	}
	if (syncfs(fd) == -1) {
		log_warn("%s: syncfs", path);
		rc = -1;
	}
	close(fd);
	return rc;
}

static int
copy_atomic(const char *src, const char *dst, size_t cap, int sync)
{
	struct stat st;
	char *buf;
	size_t len;
	int rc;

	if (stat(src, &st) == -1) {
		log_warn("%s", src);
		return -1;
	}
	if (sfile_read(src, cap, &buf, &len) == -1)
		return -1;
	rc = write_atomic(dst, buf, len, st.st_mode & 07777, sync);
	freezero(buf, len + 1);
	return rc;
}

int
sfile_copy(const char *src, const char *dst)
{
	return copy_atomic(src, dst, SFILE_CAP, 1);
}

int
sfile_copy_nosync(const char *src, const char *dst)
{
	return copy_atomic(src, dst, SFILE_BIG_CAP, 0);
}

/*
 * mkdir -p of buf from the deepest folder up: one mkdir(2) per folder
 * made and one for the first that exists, not one per component.  buf is
 * changed while it runs and restored.
 */
static int
mkdirs_up(char *buf, mode_t mode)
{
	char *slash;
	int rc;

	if (mkdir(buf, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || (slash = strrchr(buf, '/')) == NULL ||
	    slash == buf) {
		log_warn("%s", buf);
		return -1;
	}
	*slash = '\0';
	rc = mkdirs_up(buf, mode);
	*slash = '/';
	if (rc == -1)
		return -1;
	if (mkdir(buf, mode) == -1 && errno != EEXIST) {
		log_warn("%s", buf);
		return -1;
	}
	return 0;
}

int
sfile_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	if (mkdirs_up(buf, mode) == -1)
		return -1;
	if (!sfile_isdir(path)) {
		log_warnx("%s: not a directory", path);
		return -1;
	}
	return 0;
}

int
sfile_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
sfile_isdir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
sfile_backup(const char *path, const char *dir)
{
	char dst[PATH_MAX];
	const char *base;

	if (!sfile_exists(path))
		return 0;
	if (sfile_mkdirs(dir, 0700) == -1)
		return -1;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, base) >=
	    sizeof(dst)) {
		log_warnx("%s: path too long", dir);
		return -1;
	}
	return sfile_copy(path, dst);
}
