/* SPDX-License-Identifier: ISC */
/* xmalloc.h -- allocators that die on exhaustion */
#ifndef SFCA_XMALLOC_H
#define SFCA_XMALLOC_H

#include <stddef.h>

/*
 * The only functions of libsfca that exit: running out of memory is
 * fatal everywhere.  Each returns memory the caller owns and frees.
 */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Grow or shrink p (oldn elements of sz bytes) to n elements through
 * recallocarray(3): the old block is wiped before it is freed and the
 * new part is zeroed.  For every buffer that holds a key or a password;
 * free it with freezero(3).
 */
void	*xrecallocarray(void *p, size_t oldn, size_t n, size_t sz);

/*
 * A buffer for a secret that lives long (the passwords of a devices.csv,
 * a password read for a whole run): its own zeroed pages, kept out of
 * core dumps (MADV_DONTDUMP) and locked in memory where the limit allows
 * (best effort).  Free it with xfree_secret(p, n), n as allocated, which
 * wipes it; NULL is fine.
 */
void	*xmalloc_secret(size_t n);
void	 xfree_secret(void *p, size_t n);

#endif
