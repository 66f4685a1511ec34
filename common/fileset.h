/* SPDX-License-Identifier: ISC */
/* fileset.h -- appliance files held in memory: read from a tree or a fetched archive, kept */
#ifndef SFCA_FILESET_H
#define SFCA_FILESET_H

#include <stddef.h>

/*
 * A fileset is a set of appliance files held in memory, keyed by their
 * path relative to the appliance root ("etc/sf/ims.conf").  It is filled
 * either from the local tree (on the FMC) or from a tar stream fetched
 * from the FMC (on a jump host); what it is filled with is the caller's
 * choice (glob patterns), what is done with it too.  The set owns every buffer; each is
 * NUL-terminated and wiped when released; a key (a path with "key" in
 * it, as fileset_keep decides) lives in its own xmalloc_secret block,
 * out of core dumps, for as long as the set holds it.  A zeroed struct
 * is an empty set.
 */
struct bfile {
	char	*path;
	char	*data;		/* NUL-terminated */
	size_t	 len;
	int	 secret;	/* a key: data is an xmalloc_secret block */
};

struct fileset {
	struct bfile	*f;
	size_t		 n;
	size_t		 cap;
};

/* Wipe and free every file; the set is empty again. */
void	fileset_release(struct fileset *);

/*
 * Wipe and free file i; its slot stays, with a NULL path, so pointers to
 * the other files stay valid.  fileset_get and fileset_keep skip it.
 */
void	fileset_drop(struct fileset *, size_t i);

/*
 * The file at path (leading and doubled slashes ignored, as FAILED_PUSH
 * writes them), owned by the set; NULL when absent.
 */
const struct bfile *fileset_get(const struct fileset *, const char *path);

/*
 * Add every file of the tree under root_dir() that matches one of the
 * npat glob(3) patterns pat (relative to the root, no spaces), in
 * pattern order and sorted within a pattern.  A pattern that matches
 * nothing is not an error; a match that is not a readable regular file
 * of at most SFILE_CAP bytes is.  0/-1 with a message.
 */
int	fileset_load(struct fileset *, const char *const *pat, size_t npat);

/* Add data (len bytes, NUL-terminated; taken over) as path. */
void	fileset_put(struct fileset *, const char *path, char *data,
	    size_t len);

/*
 * The bash script that, run as root on a remote appliance, prints the
 * regular files matching the same patterns, relative to its root, as one
 * line of base64 of a ustar archive (exit status: tar's).  A path that
 * matches the shell pattern in $skip, when a script run before this one
 * set it, is left out.  Allocated; the caller frees it.
 */
char	*fileset_fetch_script(const char *const *pat, size_t npat);

/* From a ustar stream (data is copied).  0/-1 with a message. */
int	fileset_from_tar(struct fileset *, const void *tar, size_t len);

/* The same from the base64 text of the archive (whitespace ignored). */
int	fileset_from_b64tar(struct fileset *, const char *b64, size_t len);

/*
 * Write every file under dir (created 0700) by its path, keys 0600,
 * others 0644; a path with ".." is skipped.  0/-1 with a message.
 */
int	fileset_keep(const struct fileset *, const char *dir);

#endif
