/* SPDX-License-Identifier: ISC */
/* fleet.h -- every device of devices.csv in parallel, with a bound, then the tally */
#ifndef SFCA_FLEET_H
#define SFCA_FLEET_H

#include <stddef.h>
#include <time.h>

#include "bundle.h"
#include "csv.h"
#include "devcopy.h"
#include "progress.h"
#include "sshc.h"

/* Called, under the output lock, with each text to print whole. */
typedef void (*fleet_emit_fn)(const char *text, size_t len, void *arg);

/*
 * Which of the n peers are seen up with a connection that started at or
 * after since[i]: set up[i] to 1.  0, or -1 when the state cannot be
 * read (why in errbuf).
 */
typedef int (*fleet_up_fn)(void *arg, const char *const *uuids,
	    const time_t *since, size_t n, int *up, char *errbuf,
	    size_t errlen);

/*
 * The fleet at a glance, for a progress line: every device but the
 * skipped row, each in one count.
 */
struct fleet_tally {
	size_t		 done;		/* done or skipped */
	size_t		 failed;
	size_t		 running;	/* being worked on, or its tunnel awaited */
	size_t		 waiting;	/* not started yet */
	size_t		 held;		/* will not be started (canary, halt) */
};

/* Called, under the output lock, each time the tally changes. */
typedef void (*fleet_tally_fn)(const struct fleet_tally *, void *arg);

/*
 * A fleet_tally_fn for progress.h: arg is a struct progress; the line
 * reads "done D, failed F, running R, waiting W" (", not started H"
 * when some are held back), only counts, never a device's name.
 */
void	fleet_progress(const struct fleet_tally *, void *arg);

struct fleet_opts {
	int		 jobs;		/* worker threads, >= 1 */
	struct sshc_opts so;
	int		 step_ms;
	int		 drop_after;	/* test hook, -1 none */
	const char	*drop_name;	/* ... for this device only */
	fleet_emit_fn	 emit;
	void		*emit_arg;
	int		 wait_sec;	/* for the tunnels (fleet_wait) */
	int		 nat;		/* -N: see bundle_vouch */
	int		 check;		/* --check: devcheck_run, not the copy */
	long		 fmc_skew;	/* ... the FMC's clock minus ours */
	int		 canary;	/* -C: done first, 0 none (fleet_go) */
	int		 halt_after;	/* -H: failures that stop starts, 0 none */
	int		 slot_wait_ms;	/* connected, before logging in: see
					   FLEET_SLOT_WAIT_MS */
	fleet_tally_fn	 tally;		/* NULL: none */
	void		*tally_arg;
	char		*hook;		/* owned: what drop_name points into */
};

/*
 * The copy tools' defaults: 8 jobs, 20 s to connect, 20 s a dialogue
 * step, 60 s to wait for the tunnels, no drop.  emit and arg are stored
 * as given.  Release with fleet_opts_release.
 */
void	fleet_opts_init(struct fleet_opts *, fleet_emit_fn emit, void *arg);

/*
 * The test hook of the copy tools' man pages, which the command reads
 * from SFCA_TEST_DROP_AFTER and passes here: "NAME:n" drops the session
 * of device NAME after n (0 to 2) files.  NULL, or a value without ':',
 * sets nothing; an n out of range names the device but drops nothing.
 * hook is copied (freed by fleet_opts_release).
 */
void	fleet_test_drop(struct fleet_opts *, const char *hook);

/*
 * One of the options both copy tools take, by its short name: -A
 * (accept new host keys), -C canary (1 to 100000), -H halt_after (1 to
 * 100000), -j jobs, -k known_hosts, -N (devices behind NAT, see
 * bundle_vouch), -t timeout, -w wait.
 * 1 when ch is one of them and taken, 0 when ch is none of them, -1 when
 * arg is out of range (reported); arg is kept, not copied.
 */
int	fleet_opt(struct fleet_opts *, int ch, const char *arg);

/* Free what fleet_opts_init allocated; the rest is the caller's. */
void	fleet_opts_release(struct fleet_opts *);

/*
 * How long a connected device waits for a slot before its connection is
 * closed and opened again once a slot is free: sshd drops a connection
 * that has not logged in within its LoginGraceTime, 120 s by default,
 * set lower on hardened devices.
 */
#define FLEET_SLOT_WAIT_MS	30000

/*
 * The test hook of the copy tools' man pages, which the command reads
 * from SFCA_TEST_SLOT_WAIT_MS: slot_wait_ms (1 to 600000; else nothing).
 */
void	fleet_test_slot_wait(struct fleet_opts *, const char *hook);

/* Connections under way at once for jobs slots: 4 per slot, 16 at least. */
#define FLEET_CONNECTING(jobs)	((jobs) * 4 > 16 ? (jobs) * 4 : 16)

/*
 * Work the rows of c that are not skip_row (an index, or -1) through
 * devcopy_run (devcheck_run with opts->check): at most opts->jobs logged in at once, up to
 * FLEET_CONNECTING(jobs) connecting.  Each device's block is emitted
 * whole when it finishes (completion order).  A device whose address
 * already failed to connect in this run fails at once, so an
 * unreachable address costs its timeout once.  With opts->halt_after,
 * no device is connected to before a slot is free (nothing connects
 * ahead), and once that many have failed the rows not yet started are
 * DEV_NOTSTARTED, their reason saying why.  *out is an array of c->n
 * jobs (the skipped row's state is DEV_PENDING) for fleet_free.
 */
int	fleet_run(struct csv *c, const struct bundle *b, ssize_t skip_row,
	    const struct fleet_opts *, struct dev_job **out);

/*
 * Poll up() once a second for the DEV_COPIED devices until each is seen
 * up (DEV_DONE) or wait_sec have passed (DEV_FAILED).
 */
void	fleet_wait(struct dev_job *, size_t n, int wait_sec, fleet_up_fn up,
	    void *arg);

/* fleet_go's answer when a canary failed. */
#define FLEET_CANARY_FAILED	1

/*
 * How --canary and --halt-after went, filled by fleet_go.  Which devices
 * were canaries is each job's canary flag.
 */
struct fleet_outcome {
	int		 canary;	/* opts->canary: asked for, 0 none */
	size_t		 canary_done;	/* canaries seen done */
	ssize_t		 canary_failed;	/* the first canary that failed, or -1 */
	size_t		 canary_held;	/* rows not started for it */
	int		 halt_after;	/* opts->halt_after, 0 none */
	size_t		 halt_held;	/* rows not started for it */
};

/*
 * fleet_run then fleet_wait(up, arg), with opts->canary: the first rows
 * (skip_row aside) are worked and waited for until opts->canary of them
 * are DEV_DONE (a skipped row counts for nothing, the next row takes its
 * place; the others worked then have their canary flag set), before any
 * other device is connected to; when one of them fails, every row not
 * started is DEV_NOTSTARTED and nothing else is connected to.  *out as
 * fleet_run's; *res says how the canaries and the halt went.  0,
 * FLEET_CANARY_FAILED, or -1 when a worker could not start (reported).
 */
int	fleet_go(struct csv *c, const struct bundle *b, ssize_t skip_row,
	    const struct fleet_opts *, fleet_up_fn up, void *arg,
	    struct dev_job **out, struct fleet_outcome *res);

/*
 * The lines the summary table is followed by for the canary and the
 * halt, allocated ("" when neither happened): "Canary: ..." and
 * "Halted: ...".
 */
char	*fleet_note(const struct fleet_outcome *, const struct dev_job *);

/* Every device worked is done or skipped. */
int	fleet_all_done(const struct dev_job *, size_t n);

/* The summary table, allocated, and whether every device is done. */
char	*fleet_summary(const struct dev_job *, size_t n, int *all_done);

void	fleet_free(struct dev_job *, size_t n);

#endif
