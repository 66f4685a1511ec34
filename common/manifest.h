/* SPDX-License-Identifier: ISC */
/* manifest.h -- a renewal's MANIFEST: which files of the tree it replaces */
#ifndef SFCA_MANIFEST_H
#define SFCA_MANIFEST_H

#include <stddef.h>

/*
 * A MANIFEST lists, one per line, each ending in a newline, the paths
 * (from the tree's root) of the files a renewal replaces, in commit
 * order.  A resume believes it only as far as this allow-list goes: a
 * peer's key and certificate in its folder and in certs_pushed/, this
 * FMC's key and certificate, the CA's key, certificate, index, serial
 * and CRL; each at most once.
 */

/* Why manifest_parse refused its input. */
enum manifest_err {
	MANIFEST_OK,
	MANIFEST_TRUNCATED,	/* the last line has no newline */
	MANIFEST_NUL,		/* a NUL byte in a line */
	MANIFEST_NOT_ALLOWED,	/* not a file a renewal writes */
	MANIFEST_TWICE		/* a path already listed */
};

/* 1 when rel is one of the files a renewal writes, else 0. */
int	manifest_allowed(const char *rel);

/*
 * Parse len bytes of a MANIFEST (no NUL needed after them).  0 with
 * *out, *n the paths (allocated; manifest_free them).  -1 with *err and
 * *line (1-based; for MANIFEST_TRUNCATED the last line) saying why;
 * *out is then NULL.  Nothing is reported: the caller names the file.
 */
int	manifest_parse(const char *buf, size_t len, char ***out, size_t *n,
	    size_t *line, enum manifest_err *err);

/* Free what manifest_parse returned; NULL is fine. */
void	manifest_free(char **, size_t);

#endif
