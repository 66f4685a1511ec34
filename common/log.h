/* SPDX-License-Identifier: ISC */
/* log.h -- diagnostics to stderr and a log file, and sftunnel syslog lines */
#ifndef SFCA_LOG_H
#define SFCA_LOG_H

#include <stdarg.h>

/*
 * Diagnostics: "prog: message" on stderr, and the same line, time-stamped,
 * in the log file when one is open.  log_warn appends strerror(errno).
 * The function that detects a failure reports it; callers pass -1 up.
 */
void	log_init(const char *prog);
const char *log_prog(void);
/* Open (append, 0640, created with its folders) the run log; -1 on error. */
int	log_open_file(const char *path);
void	log_close_file(void);
/*
 * fn(arg) is called before each diagnostic is written to stderr (a
 * progress line removes itself); NULL: none.
 */
void	log_before_stderr(void (*fn)(void *), void *arg);
/* Silence stderr (the log file still gets everything). */
void	log_quiet(int);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_vwarnx(const char *, va_list)
	    __attribute__((format(printf, 1, 0)));
/* Log file only: progress worth keeping, never key material. */
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * The vendor daemon's lines (SPEC 1.3):
 * "Mon dd HH:MM:SS host SF-IMS[pid]: [tid] sftunnel:sf_ssl [LEVEL] text".
 * Each line is one write(2) to an O_APPEND descriptor, so several
 * threads and processes may share the file.
 */
enum sflog_level { SFLOG_INFO, SFLOG_WARN, SFLOG_ERROR };

struct sflog {
	int	 fd;
	char	 host[64];
};

int	sflog_open(struct sflog *, const char *path, const char *host);
void	sflog_close(struct sflog *);
void	sflog(struct sflog *, enum sflog_level, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
