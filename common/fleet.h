/* SPDX-License-Identifier: ISC */
/* fleet.h -- every device of devices.csv in parallel, with a bound, then the tally */
#ifndef SFCA_FLEET_H
#define SFCA_FLEET_H

#include <stddef.h>
#include <time.h>

#include "bundle.h"
#include "csv.h"
#include "devcopy.h"
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

struct fleet_opts {
	int		 jobs;		/* worker threads, >= 1 */
	struct sshc_opts so;
	int		 step_ms;
	int		 drop_after;	/* test hook, -1 none */
	const char	*drop_name;	/* ... for this device only */
	fleet_emit_fn	 emit;
	void		*emit_arg;
};

/*
 * Work the rows of c that are not skip_row (an index, or -1) through
 * devcopy_run on opts->jobs threads.  Each device's block is emitted
 * whole when it finishes (completion order).  A device whose address
 * already failed to connect in this run fails at once, so an
 * unreachable address costs its timeout once.  *out is an array of
 * c->n jobs (the skipped row's state is DEV_TODO) for fleet_free.
 */
int	fleet_run(struct csv *c, const struct bundle *b, ssize_t skip_row,
	    const struct fleet_opts *, struct dev_job **out);

/*
 * Poll up() once a second for the DEV_COPIED devices until each is seen
 * up (DEV_DONE) or wait_sec have passed (DEV_FAILED).
 */
void	fleet_wait(struct dev_job *, size_t n, int wait_sec, fleet_up_fn up,
	    void *arg);

/* The summary table, allocated, and whether every device is done. */
char	*fleet_summary(const struct dev_job *, size_t n, int *all_done);

void	fleet_free(struct dev_job *, size_t n);

#endif
