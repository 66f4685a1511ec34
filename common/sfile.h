/* SPDX-License-Identifier: ISC */
/* sfile.h -- safe files: capped reads, exclusive creates, atomic replaces */
#ifndef SFCA_SFILE_H
#define SFCA_SFILE_H

#include <sys/types.h>
#include <stddef.h>

/* Largest file the suite reads whole: PEM, JSON, config. */
#define SFILE_CAP	(1024 * 1024)
/* For a file that grows with the fleet (the CA's index.txt: a line a
 * certificate at every renewal). */
#define SFILE_BIG_CAP	(64 * SFILE_CAP)

/*
 * Read a regular file of at most cap bytes.  On success *out is a
 * NUL-terminated buffer the caller frees (freezero for secrets) and *len
 * its length.  The file is opened O_NOFOLLOW|O_NONBLOCK and its type
 * checked on the descriptor: a symbolic link, a FIFO, a device, a
 * directory, a missing file or one over the cap is reported naming the
 * path, at once; returns -1.  Every file the suite reads from a tree
 * comes through here.
 */
int	sfile_read(const char *path, size_t cap, char **out, size_t *len);
/*
 * sfile_read on fd, opened O_NONBLOCK by the caller (path names it in
 * messages): a regular file, at most cap bytes.  fd is closed.
 */
int	sfile_read_fd(int fd, const char *path, size_t cap, char **out,
	    size_t *len);

/*
 * Replace path atomically with len bytes of buf, mode mode: a temporary
 * file ".<name>.XXXXXX" in the same folder (O_EXCL|O_NOFOLLOW), fsync,
 * rename, fsync of the folder.  Readers see the old content or the new,
 * never a mix or an empty file; a link at path is replaced, not followed.
 * On failure the temporary file is removed and path is as it was.
 */
int	sfile_write(const char *path, const void *buf, size_t len, mode_t mode);

/*
 * The same without the fsync of the file and its folder, for files made
 * in bulk into a folder of our own (staging, backups) that a marker file
 * later declares complete: call sfile_syncfs() once before writing the
 * marker.  Never for a live file, which must be durable when renamed.
 */
int	sfile_write_nosync(const char *path, const void *buf, size_t len,
	    mode_t mode);
/* A copy of src (up to SFILE_BIG_CAP), with its mode, not flushed. */
int	sfile_copy_nosync(const char *src, const char *dst);

/* write(2) all of buf, again on EINTR and short writes; -1 with errno. */
int	sfile_write_fd(int fd, const void *buf, size_t len);

/* syncfs(2) of the file system that holds path: everything written so far. */
int	sfile_syncfs(const char *path);

/* Atomically copy src to dst, keeping src's mode; -1 on error. */
int	sfile_copy(const char *src, const char *dst);

/* mkdir -p with mode for the folders it creates. */
int	sfile_mkdirs(const char *path, mode_t mode);

/* fsync the folder that holds path (or path itself when a folder). */
int	sfile_fsync_dir(const char *dir);

/* 1 when path exists (lstat), 0 when not. */
int	sfile_exists(const char *path);

/* 1 when path is a directory. */
int	sfile_isdir(const char *path);

/*
 * Back up path into "<dir>/<basename>" (folders created 0700).
 * A missing path is not an error: there is nothing to back up.
 */
int	sfile_backup(const char *path, const char *dir);

#endif
