/* SPDX-License-Identifier: ISC */
/* fileset.h -- appliance files held in memory: read from a tree or a fetched archive, kept */
#ifndef SFCA_FILESET_H
#define SFCA_FILESET_H

#include <stddef.h>

/*
 * A fileset is a set of appliance files held in memory, keyed by their
 * path relative to the appliance root ("etc/sf/ims.conf").  It is filled
 * either from the local tree (on the FMC) or from a tar stream fetched
 * from the FMC (on a jump host).  The set owns every buffer; each is
 * NUL-terminated and wiped when released.  A zeroed struct is an empty
 * set.
 */
struct bfile {
	char	*path;
	char	*data;		/* NUL-terminated */
	size_t	 len;
};

struct fileset {
	struct bfile	*f;
	size_t		 n;
	size_t		 cap;
};

/* Wipe and free every file; the set is empty again.  */
void	fileset_release(struct fileset *);

/*
 * The file at path (leading and doubled slashes ignored, as FAILED_PUSH
 * writes them), owned by the set; NULL when absent.
 */
const struct bfile *fileset_get(const struct fileset *, const char *path);

/* From the tree under root_dir(): what bundle_build needs.  0/-1. */
int	fileset_load_tree(struct fileset *);

/* From a ustar stream (data is copied).  0/-1 with a message. */
int	fileset_from_tar(struct fileset *, const void *tar, size_t len);

/* The same from the base64 text of the archive (whitespace ignored). */
int	fileset_from_b64tar(struct fileset *, const char *b64, size_t len);

/*
 * The bash script that, run as root on the FMC, prints the same files as
 * one line of base64 of a ustar archive.
 */
const char *fileset_fetch_script(void);

/*
 * Write every file under dir (created 0700) by its path, keys 0600,
 * others 0644; a path with ".." is skipped.  0/-1 with a message.
 */
int	fileset_keep(const struct fileset *, const char *dir);

#endif
