// SPDX-License-Identifier: ISC
/* log.c -- diagnostics to stderr and a log file, and sftunnel syslog lines */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sfile.h"
#include "banned.h"

static const char *prog = "sfca";
static int logfd = -1;
static int quiet;
static void (*before)(void *);
static void *before_arg;

void
log_init(const char *name)
{
	const char *p;

	if ((p = strrchr(name, '/')) != NULL)
		name = p + 1;
	prog = name;
}

const char *
log_prog(void)
{
	return prog;
}

void
log_before_stderr(void (*fn)(void *), void *arg)
{
	before = fn;
	before_arg = arg;
}

void
log_quiet(int q)
{
	quiet = q;
}

int
log_open_file(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (sfile_mkdirs(dir, 0755) == -1)
			return -1;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd == -1) {
		log_warn("%s", path);
		return -1;
	}
	log_close_file();
	logfd = fd;
	return 0;
}

void
log_close_file(void)
{
	if (logfd != -1)
		close(logfd);
	logfd = -1;
}

static void
stamp(char *buf, size_t len)
{
	struct tm tm;
	time_t now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		strlcpy(buf, "-", len);
}

static void
emit(int to_stderr, const char *msg)
{
	char line[2048], ts[32];
	int n;

	if (to_stderr && !quiet) {
		if (before != NULL)
			before(before_arg);
		dprintf(STDERR_FILENO, "%s: %s\n", prog, msg);
	}
	if (logfd != -1) {
		stamp(ts, sizeof(ts));
		n = snprintf(line, sizeof(line), "%s %s[%ld]: %s\n", ts, prog,
		    (long)getpid(), msg);
		if (n > 0)
			(void)write(logfd, line,
			    (size_t)n < sizeof(line) ? (size_t)n :
			    sizeof(line) - 1);
	}
}

void
log_vwarnx(const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(1, msg);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwarnx(fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char msg[1024], full[1200];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s: %s", msg, strerror(saved));
	emit(1, full);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(0, msg);
}

int
sflog_open(struct sflog *l, const char *path, const char *host)
{
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
	if (l->fd == -1) {
		log_warn("%s", path);
		return -1;
	}
	strlcpy(l->host, host, sizeof(l->host));
	return 0;
}

void
sflog_close(struct sflog *l)
{
	if (l != NULL && l->fd != -1)
		close(l->fd);
	if (l != NULL)
		l->fd = -1;
}

void
sflog(struct sflog *l, enum sflog_level lvl, const char *fmt, ...)
{
	static const char *names[] = { "INFO", "WARN", "ERROR" };
	char ts[32], text[1024], line[1400];
	struct tm tm;
	time_t now;
	va_list ap;
	int n;

	if (l == NULL || l->fd == -1)
		return;
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm) == 0)
		strlcpy(ts, "-", sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line),
	    "%s %s SF-IMS[%ld]: [%ld] sftunnel:sf_ssl [%s] %s\n", ts, l->host,
	    (long)getpid(), (long)syscall(SYS_gettid), names[lvl], text);
	if (n > 0)
		(void)write(l->fd, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
}
