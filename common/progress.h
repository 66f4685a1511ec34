/* SPDX-License-Identifier: ISC */
/* progress.h -- one live line on stderr, only where a person watches a terminal */
#ifndef SFCA_PROGRESS_H
#define SFCA_PROGRESS_H

#include <pthread.h>
#include <time.h>

/*
 * The line is written to stderr alone, rewritten in place ("\r", the text,
 * then "\033[K" to clear what a longer line left), and only when stderr is
 * a terminal: with stderr a file or a pipe every call is a no-op, so no
 * byte of it reaches a log.  stdout is never touched, so a transcript stays
 * byte for byte what it is without a terminal.  The text is the caller's
 * counts, never foreign bytes nor key material.  Every call is
 * thread-safe.  While a line is shown, a diagnostic of log.h removes it
 * first, so that the diagnostic starts at the beginning of a line.
 */
struct progress {
	int		 on;		/* stderr is a terminal */
	int		 shown;		/* a line is on the screen */
	struct timespec	 t0;		/* for the elapsed time */
	struct timespec	 last;		/* when the line was last written */
	pthread_mutex_t	 mu;
};

/*
 * Start the clock; on when stderr is a terminal (isatty).  At most one
 * progress is registered with log.h at a time: the last one initialised.
 */
void	progress_init(struct progress *);

/*
 * Show the text of fmt, then ", elapsed M:SS".  Unless force, a call
 * within 100 ms of the last shown line is dropped (a thousand devices
 * do not make a thousand writes a second).
 */
void	progress_show(struct progress *, int force, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Remove the line (the screen as before it); a no-op when none is shown. */
void	progress_clear(struct progress *);

/* Remove the line, unregister from log.h. */
void	progress_release(struct progress *);

#endif
