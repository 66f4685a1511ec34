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

#endif
