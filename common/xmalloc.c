// SPDX-License-Identifier: ISC
/* xmalloc.c -- allocators that die on exhaustion */
#include <sys/mman.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "banned.h"

static void
oom(void)
{
	static const char msg[] = "sfca: out of memory\n";

	(void)write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t sz)
{
	void *q;

	if ((q = reallocarray(p, n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		oom();
	return q;
}

void *
xrecallocarray(void *p, size_t oldn, size_t n, size_t sz)
{
	void *q;

	if ((q = recallocarray(p, oldn, n == 0 ? 1 : n, sz == 0 ? 1 : sz)) ==
	    NULL)
		oom();
	return q;
}

static size_t
secret_size(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - pg)
		oom();
	return (n + pg - 1) / pg * pg;
}

void *
xmalloc_secret(size_t n)
{
	size_t len = secret_size(n);
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		oom();
	/* best effort: a failure leaves a secret that prctl still guards */
	(void)madvise(p, len, MADV_DONTDUMP);
	(void)mlock(p, len);
	return p;
}

void
xfree_secret(void *p, size_t n)
{
	size_t len;

	if (p == NULL)
		return;
	len = secret_size(n);
	explicit_bzero(p, len);
	(void)munlock(p, len);
	(void)munmap(p, len);
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return p;
}
