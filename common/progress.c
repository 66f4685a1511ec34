// SPDX-License-Identifier: ISC
/* progress.c -- one live line on stderr, only where a person watches a terminal */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"
#include "banned.h"

#define CLEAR	"\r\033[K"

/* All of buf to stderr; a terminal that refuses is not our failure. */
static void
put(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDERR_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static long
ms_since(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void
clear_locked(struct progress *p)
{
	if (p->shown)
		put(CLEAR, sizeof(CLEAR) - 1);
	p->shown = 0;
}

/* log.h's hook: the line goes before a diagnostic is written. */
static void
before_log(void *arg)
{
	progress_clear(arg);
}

void
progress_init(struct progress *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	p->on = isatty(STDERR_FILENO);
	if (p->on)
		log_before_stderr(before_log, p);
}

void
progress_show(struct progress *p, int force, const char *fmt, ...)
{
	struct timespec now;
	char line[512];
	va_list ap;
	long el;
	int n, m;

	if (!p->on)
		return;
	pthread_mutex_lock(&p->mu);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && p->shown && ms_since(&p->last, &now) < 100)
		goto out;
	el = ms_since(&p->t0, &now) / 1000;
	n = snprintf(line, sizeof(line), "\r");
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		goto out;
	n = (int)strlen(line);
	snprintf(line + n, sizeof(line) - (size_t)n, ", elapsed %ld:%02ld\033[K",
	    el / 60, el % 60);
	put(line, strlen(line));
	p->shown = 1;
	p->last = now;
 out:
	pthread_mutex_unlock(&p->mu);
}

void
progress_clear(struct progress *p)
{
	if (!p->on)
		return;
	pthread_mutex_lock(&p->mu);
	clear_locked(p);
	pthread_mutex_unlock(&p->mu);
}

void
progress_release(struct progress *p)
{
	if (p->on) {
		progress_clear(p);
		log_before_stderr(NULL, NULL);
	}
	pthread_mutex_destroy(&p->mu);
}
