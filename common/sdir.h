/* SPDX-License-Identifier: ISC */
/* sdir.h -- folders only root can change: checked walks, and files in them by fd */
#ifndef SFCA_SDIR_H
#define SFCA_SDIR_H

#include <sys/types.h>
#include <stddef.h>

/*
 * A root tool must not follow a path a local user can change.  These
 * functions walk a path one component at a time, each opened with
 * openat(O_NOFOLLOW|O_DIRECTORY) from the one before and checked with
 * fstat(2): a folder, not a symbolic link, owned by root (uid 0), and
 * writable by no one but its owner unless it is sticky (as /var/tmp).
 * What is then done in the last folder is done through its fd.
 */
#define SDIR_CREATE	0x01	/* make a missing component, with mode */
#define SDIR_EXACT	0x02	/* and its mode must be 0700 or 0755 */

/*
 * Open the folder rel ("var/sf/sfca/runs") under the folder dfd, whose
 * path dpath names it in messages.  flags apply to every component of
 * rel.  Returns an fd on the last one (O_CLOEXEC); -1 with one message
 * naming the path and its owner when a component fails the check, or -1
 * with errno ENOENT and no message when a component is missing and
 * SDIR_CREATE is not given.
 */
int	sdir_openat(int dfd, const char *dpath, const char *rel, int flags,
	    mode_t mode);

/* The same from root_dir(), itself opened as given (the operator's). */
int	sdir_open(const char *rel, int flags, mode_t mode);

/*
 * Replace the file name of the folder dfd (path dpath) atomically with
 * len bytes of buf, mode mode: a temporary ".name.XXXXXX" created
 * O_EXCL|O_NOFOLLOW, fsync, renameat, fsync of the folder.
 */
int	sdir_write(int dfd, const char *dpath, const char *name,
	    const void *buf, size_t len, mode_t mode);
/*
 * sdir_write in two steps.  sdir_write_temp: the temporary of name with
 * the bytes, mode and fsync; its name into tmp; -1 reported, nothing
 * left.  sdir_install: rename tmp (cleared once renamed) to name, fsync
 * of the folder; -1 reported, the temporary left to the caller.
 */
int	sdir_write_temp(int dfd, const char *dpath, const char *name,
	    const void *buf, size_t len, mode_t mode, char *tmp, size_t tmplen);
int	sdir_install(int dfd, const char *dpath, char *tmp, const char *name);

/*
 * Create the temporary ".name.XXXXXX" (six random characters) in the
 * folder dfd, O_EXCL|O_NOFOLLOW, mode 0600; its name into tmp.  An fd,
 * or -1 with a message.
 */
int	sdir_mktemp(int dfd, const char *dpath, const char *name, char *tmp,
	    size_t tmplen);
/*
 * Give the file src (a path, not followed when a link) a second name,
 * the temporary ".name.XXXXXX" of the folder dfd; its name into tmp.  0,
 * or -1 reported, but with errno EXDEV (src on another filesystem).
 */
int	sdir_linktemp(int dfd, const char *dpath, const char *name,
	    const char *src, char *tmp, size_t tmplen);

/* Remove name from the folder dfd: a file, or a folder and all in it,
 * never following a symbolic link; a missing name is fine. */
int	sdir_rmtree(int dfd, const char *dpath, const char *name);

/*
 * The temporaries sfile_write and sdir_write leave behind when killed
 * before their rename: ".<base>.XXXXXX" regular files in the folder dfd.
 * Removes them; returns how many, -1 on an error (with a message).
 */
int	sdir_sweep(int dfd, const char *dpath, const char *base);

/*
 * Read the regular file name of the folder dfd, opened
 * O_NOFOLLOW|O_NONBLOCK, at most cap bytes, into *out (NUL-terminated,
 * the caller frees) and *len.  -1 with errno ENOENT and no message when
 * it is missing, -1 with a message for anything else.
 */
int	sdir_read(int dfd, const char *dpath, const char *name, size_t cap,
	    char **out, size_t *len);

/* 1 when name is an entry of the folder dfd (not followed), else 0. */
int	sdir_has(int dfd, const char *name);

#endif
