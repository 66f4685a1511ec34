// SPDX-License-Identifier: ISC
/* fleet.c -- every device of devices.csv in parallel, with a bound, then the tally */
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devcheck.h"
#include "fleet.h"
#include "log.h"
#include "xmalloc.h"
#include "banned.h"

struct pool {
	struct csv		*c;
	struct dev_job		*jobs;
	ssize_t			 skip;
	const struct fleet_opts	*o;
	size_t			 next;
	size_t			 end;	/* rows next..end-1 are this round's */
	pthread_mutex_t		 mu;	/* next, dead addresses, nfailed */
	pthread_mutex_t		 out_mu;	/* the output, the tally */
	char			(*dead)[CSV_ADDR_MAX];
	size_t			 ndead;
	size_t			 nfailed;
	struct fleet_tally	 t;
	/* at most o->jobs devices logged in and worked on at once */
	pthread_mutex_t		 slot_mu;
	pthread_cond_t		 slot_cv;
	int			 slots;
};

/*
 * A slot; bounded, at most o->slot_wait_ms, 1 when taken and 0 when not
 * (the connection that waits for it is not logged in yet, and sshd
 * drops it past its LoginGraceTime: rootsh_login opens another).
 */
static int
slot_take(void *arg, int bounded)
{
	struct pool *p = arg;
	struct timespec ts;
	int taken;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += p->o->slot_wait_ms / 1000;
	ts.tv_nsec += (long)(p->o->slot_wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->slot_mu);
	while (p->slots == 0) {
		if (!bounded)
			pthread_cond_wait(&p->slot_cv, &p->slot_mu);
		else if (pthread_cond_timedwait(&p->slot_cv, &p->slot_mu,
		    &ts) == ETIMEDOUT)
			break;
	}
	if ((taken = p->slots > 0))
		p->slots--;
	pthread_mutex_unlock(&p->slot_mu);
	return taken;
}

static void
slot_give(struct pool *p)
{
	pthread_mutex_lock(&p->slot_mu);
	p->slots++;
	pthread_cond_signal(&p->slot_cv);
	pthread_mutex_unlock(&p->slot_mu);
}

static int
is_dead(struct pool *p, const char *addr)
{
	size_t i;
	int r = 0;

	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->ndead; i++)
		if (strcmp(p->dead[i], addr) == 0)
			r = 1;
	pthread_mutex_unlock(&p->mu);
	return r;
}

static void
mark_dead(struct pool *p, const char *addr)
{
	pthread_mutex_lock(&p->mu);
	strlcpy(p->dead[p->ndead++], addr, CSV_ADDR_MAX);
	pthread_mutex_unlock(&p->mu);
}

/* Call the tally hook; the caller holds out_mu. */
static void
tally_locked(struct pool *p)
{
	if (p->o->tally != NULL)
		p->o->tally(&p->t, p->o->tally_arg);
}

/* The tally from the jobs' states: only with no worker running. */
static void
tally_recount(struct pool *p)
{
	size_t i;

	memset(&p->t, 0, sizeof(p->t));
	for (i = 0; i < p->c->n; i++) {
		if ((ssize_t)i == p->skip)
			continue;
		switch (p->jobs[i].state) {
		case DEV_SKIPPED:
		case DEV_DONE:
			p->t.done++;
			break;
		case DEV_FAILED:
			p->t.failed++;
			break;
		case DEV_COPIED:
			p->t.running++;
			break;
		case DEV_NOTSTARTED:
			p->t.held++;
			break;
		default:
			p->t.waiting++;
		}
	}
	pthread_mutex_lock(&p->out_mu);
	tally_locked(p);
	pthread_mutex_unlock(&p->out_mu);
}

/* Take row i, or hold it back when halt_after devices have failed. */
static int
start(struct pool *p, struct dev_job *j)
{
	size_t failed;

	pthread_mutex_lock(&p->mu);
	failed = p->nfailed;
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_lock(&p->out_mu);
	p->t.waiting--;
	if (p->o->halt_after > 0 && failed >= (size_t)p->o->halt_after) {
		j->state = DEV_NOTSTARTED;
		snprintf(j->reason, sizeof(j->reason), "not started: %zu "
		    "device%s had failed (--halt-after %d)", failed,
		    failed == 1 ? "" : "s", p->o->halt_after);
		csv_row_wipe(j->row);
		p->t.held++;
	} else
		p->t.running++;
	tally_locked(p);
	pthread_mutex_unlock(&p->out_mu);
	return j->state != DEV_NOTSTARTED;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	struct dev_job *j;
	size_t i;
	char *text;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->end)
			break;
		if ((ssize_t)i == p->skip)
			continue;
		j = &p->jobs[i];
		if (!start(p, j))
			continue;
		if (is_dead(p, j->row->addr)) {
			blk_add(&j->out, "Attempting connection to %s",
			    j->row->name);
			blk_add(&j->out, "Could not connect to %s",
			    j->row->name);
			snprintf(j->reason, sizeof(j->reason), "could not "
			    "connect to %.120s (%s): unreachable earlier in this "
			    "run", j->row->name, j->row->addr);
			j->state = DEV_FAILED;
			j->unreachable = 1;
			csv_row_wipe(j->row);
			if (p->o->check)
				devcheck_unvisited(j);
		} else {
			j->gate = slot_take;
			j->gate_arg = p;
			if (p->o->check)
				devcheck_run(j, p->o->fmc_skew);
			else
				devcopy_run(j);
			if (j->gated)
				slot_give(p);
			if (j->unreachable)
				mark_dead(p, j->row->addr);
		}
		if (j->state == DEV_FAILED) {
			pthread_mutex_lock(&p->mu);
			p->nfailed++;
			pthread_mutex_unlock(&p->mu);
		}
		text = xasprintf("\n%.*s\n=====\n", (int)j->out.len,
		    j->out.s != NULL ? j->out.s : "");
		pthread_mutex_lock(&p->out_mu);
		p->o->emit(text, strlen(text), p->o->emit_arg);
		p->t.running--;
		if (j->state == DEV_FAILED)
			p->t.failed++;
		else if (j->state == DEV_COPIED)
			p->t.running++;		/* its tunnel is awaited */
		else
			p->t.done++;
		tally_locked(p);
		pthread_mutex_unlock(&p->out_mu);
		free(text);
	}
	return NULL;
}

static void
pool_init(struct pool *p, struct csv *c, const struct bundle *b,
    ssize_t skip_row, const struct fleet_opts *o)
{
	pthread_condattr_t ca;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->c = c;
	p->skip = skip_row;
	p->o = o;
	p->jobs = xcalloc(c->n, sizeof(*p->jobs));
	p->dead = xcalloc(c->n, sizeof(*p->dead));
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->out_mu, NULL);
	pthread_mutex_init(&p->slot_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->slot_cv, &ca);
	pthread_condattr_destroy(&ca);
	p->slots = o->jobs < 1 ? 1 : o->jobs;
	for (i = 0; i < c->n; i++) {
		p->jobs[i].row = &c->rows[i];
		p->jobs[i].b = b;
		p->jobs[i].so = &o->so;
		p->jobs[i].step_ms = o->step_ms;
		p->jobs[i].drop_after = -1;
		p->jobs[i].csv = c;
		p->jobs[i].nat = o->nat;
		if (o->drop_name != NULL &&
		    strcmp(o->drop_name, c->rows[i].name) == 0)
			p->jobs[i].drop_after = o->drop_after;
		if ((ssize_t)i != skip_row)
			p->t.waiting++;
	}
}

/* Work rows from..to-1; 0, or -1 when no worker thread could start. */
static int
pool_work(struct pool *p, size_t from, size_t to)
{
	pthread_t *th;
	size_t i, nth;
	int rc = 0;

	if (from >= to)
		return 0;
	p->next = from;
	p->end = to;
	/*
	 * More threads than slots: a device that never answers waits out
	 * its timeout in sshc_open, before taking a slot, so the others go
	 * on at full width.  Not with halt_after: a device connected to
	 * ahead would be started after the failure that should stop it.
	 */
	nth = p->o->halt_after > 0 ? (size_t)p->slots :
	    (size_t)FLEET_CONNECTING(p->slots);
	if (nth > to - from)
		nth = to - from;
	th = xcalloc(nth, sizeof(*th));
	for (i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, p) != 0) {
			log_warnx("cannot start a worker thread");
			nth = i;
			rc = -1;
			break;
		}
	if (nth == 0)
		worker(p);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	free(th);
	return rc;
}

static struct dev_job *
pool_release(struct pool *p)
{
	free(p->dead);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->out_mu);
	pthread_mutex_destroy(&p->slot_mu);
	pthread_cond_destroy(&p->slot_cv);
	return p->jobs;		/* transferred */
}

int
fleet_run(struct csv *c, const struct bundle *b, ssize_t skip_row,
    const struct fleet_opts *o, struct dev_job **out)
{
	struct pool p;
	int rc;

	pool_init(&p, c, b, skip_row, o);
	rc = pool_work(&p, 0, c->n);
	*out = pool_release(&p);
	return rc;
}

/* fleet_wait, the tally told each round (p is given, or NULL). */
static void
wait_jobs(struct pool *p, struct dev_job *jobs, size_t n, int wait_sec,
    fleet_up_fn up, void *arg)
{
	const char **uuids = xcalloc(n + 1, sizeof(*uuids));
	time_t *since = xcalloc(n + 1, sizeof(*since));
	size_t *idx = xcalloc(n + 1, sizeof(*idx)), k, i;
	int *isup = xcalloc(n + 1, sizeof(*isup));
	time_t deadline = time(NULL) + wait_sec;
	char err[256] = "";

	for (;;) {
		if (p != NULL)
			tally_recount(p);
		k = 0;
		for (i = 0; i < n; i++)
			if (jobs[i].state == DEV_COPIED) {
				uuids[k] = jobs[i].uuid;
				since[k] = jobs[i].restarted;
				idx[k++] = i;
			}
		if (k == 0)
			break;
		memset(isup, 0, k * sizeof(*isup));
		err[0] = '\0';
		if (up(arg, uuids, since, k, isup, err, sizeof(err)) == 0) {
			for (i = 0; i < k; i++)
				if (isup[i]) {
					jobs[idx[i]].state = DEV_DONE;
					strlcpy(jobs[idx[i]].reason,
					    "tunnel up on the new certificates",
					    sizeof(jobs[idx[i]].reason));
				}
		}
		if (time(NULL) >= deadline) {
			for (i = 0; i < k; i++) {
				struct dev_job *j = &jobs[idx[i]];

				if (j->state != DEV_COPIED)
					continue;
				j->state = DEV_FAILED;
				snprintf(j->reason, sizeof(j->reason),
				    "copied, but the tunnel was not seen up "
				    "within %d s%s%s", wait_sec,
				    err[0] != '\0' ? ": " : "", err);
			}
			if (p != NULL)
				tally_recount(p);
			break;
		}
		sleep(1);
	}
	free(uuids);
	free(since);
	free(idx);
	free(isup);
}

void
fleet_wait(struct dev_job *jobs, size_t n, int wait_sec, fleet_up_fn up,
    void *arg)
{
	wait_jobs(NULL, jobs, n, wait_sec, up, arg);
}

/* Rows from..n-1 (skip aside) held back because canary row ci failed. */
static size_t
hold_rest(struct pool *p, size_t from, size_t ci)
{
	size_t i, k = 0;

	for (i = from; i < p->c->n; i++) {
		struct dev_job *j = &p->jobs[i];

		if ((ssize_t)i == p->skip)
			continue;
		j->state = DEV_NOTSTARTED;
		snprintf(j->reason, sizeof(j->reason), "not started: canary "
		    "%.120s failed (--canary %d)", p->jobs[ci].row->name,
		    p->o->canary);
		csv_row_wipe(j->row);
		k++;
	}
	return k;
}

int
fleet_go(struct csv *c, const struct bundle *b, ssize_t skip_row,
    const struct fleet_opts *o, fleet_up_fn up, void *arg,
    struct dev_job **out, struct fleet_outcome *res)
{
	struct pool p;
	size_t from = 0, to, i, k, ndone = 0;
	ssize_t bad = -1;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	res->canary = o->canary;
	res->halt_after = o->halt_after;
	res->canary_failed = -1;
	pool_init(&p, c, b, skip_row, o);
	while (o->canary > 0 && ndone < (size_t)o->canary && from < c->n) {
		/* the next rows, as many as canaries are still wanted */
		for (to = from, k = 0; to < c->n &&
		    k < (size_t)o->canary - ndone; to++)
			if ((ssize_t)to != skip_row)
				k++;
		if (pool_work(&p, from, to) == -1)
			rc = -1;
		wait_jobs(&p, p.jobs + from, to - from, o->wait_sec, up, arg);
		for (i = from; i < to; i++) {
			if ((ssize_t)i == skip_row ||
			    p.jobs[i].state == DEV_SKIPPED)
				continue;
			p.jobs[i].canary = 1;
			if (p.jobs[i].state == DEV_DONE)
				ndone++;
			else if (bad == -1 || p.jobs[bad].state != DEV_FAILED)
				bad = (ssize_t)i;	/* the first failed */
		}
		from = to;
		if (bad != -1)
			break;
	}
	res->canary_done = ndone;
	if (bad != -1) {
		res->canary_failed = bad;
		res->canary_held = hold_rest(&p, from, (size_t)bad);
		tally_recount(&p);
		rc = FLEET_CANARY_FAILED;
	} else {
		if (pool_work(&p, from, c->n) == -1)
			rc = -1;
		wait_jobs(&p, p.jobs + from, c->n - from, o->wait_sec, up,
		    arg);
		for (i = 0; i < c->n; i++)
			if (p.jobs[i].state == DEV_NOTSTARTED)
				res->halt_held++;
	}
	*out = pool_release(&p);
	return rc;
}

char *
fleet_note(const struct fleet_outcome *r, const struct dev_job *jobs)
{
	char *canary = NULL, *halt = NULL, *s;

	if (r->canary_failed != -1)
		canary = xasprintf("Canary: %s failed (--canary %d): %zu "
		    "device%s not started, none connected to\n",
		    jobs[r->canary_failed].row->name, r->canary,
		    r->canary_held, r->canary_held == 1 ? "" : "s");
	else if (r->canary > 0)
		canary = xasprintf("Canary: %zu device%s done first "
		    "(--canary %d), then the rest\n", r->canary_done,
		    r->canary_done == 1 ? "" : "s", r->canary);
	if (r->halt_after > 0 && r->halt_held > 0)
		halt = xasprintf("Halted: %zu device%s not started "
		    "after %d failed (--halt-after %d)\n", r->halt_held,
		    r->halt_held == 1 ? "" : "s", r->halt_after,
		    r->halt_after);
	s = xasprintf("%s%s", canary != NULL ? canary : "",
	    halt != NULL ? halt : "");
	free(canary);
	free(halt);
	return s;
}

int
fleet_all_done(const struct dev_job *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (jobs[i].state != DEV_PENDING &&
		    jobs[i].state != DEV_DONE && jobs[i].state != DEV_SKIPPED)
			return 0;
	return 1;
}

char *
fleet_summary(const struct dev_job *jobs, size_t n, int *all_done)
{
	char *s, *t;
	size_t i, w = 6, ws = 7;

	*all_done = 1;
	for (i = 0; i < n; i++) {
		if (jobs[i].row != NULL && strlen(jobs[i].row->name) > w)
			w = strlen(jobs[i].row->name);
		if (jobs[i].state != DEV_PENDING &&
		    strlen(dev_state_name(jobs[i].state)) > ws)
			ws = strlen(dev_state_name(jobs[i].state));
	}
	s = xasprintf("\n%-*s  %-15s  %-*s  %s\n", (int)w, "DEVICE", "ADDRESS",
	    (int)ws, "RESULT", "REASON");
	for (i = 0; i < n; i++) {
		const struct dev_job *j = &jobs[i];

		if (j->state == DEV_PENDING)
			continue;
		if (j->state != DEV_DONE && j->state != DEV_SKIPPED)
			*all_done = 0;
		t = xasprintf("%s%-*s  %-15s  %-*s  %s\n", s, (int)w,
		    j->row->name, j->row->addr, (int)ws,
		    dev_state_name(j->state), j->reason);
		free(s);
		s = t;
	}
	return s;
}

void
fleet_free(struct dev_job *jobs, size_t n)
{
	size_t i;

	if (jobs == NULL)
		return;
	for (i = 0; i < n; i++) {
		blk_release(&jobs[i].out);
		devcheck_free(jobs[i].chk);
	}
	free(jobs);
}

void
fleet_progress(const struct fleet_tally *t, void *arg)
{
	char held[64] = "";

	if (t->held > 0)
		snprintf(held, sizeof(held), ", not started %zu", t->held);
	progress_show(arg, 1, "done %zu, failed %zu, running %zu, waiting %zu%s",
	    t->done, t->failed, t->running, t->waiting, held);
}

void
fleet_opts_init(struct fleet_opts *o, fleet_emit_fn emit, void *arg)
{
	memset(o, 0, sizeof(*o));
	o->jobs = 8;
	o->so.timeout = 20;
	o->step_ms = 20000;
	o->drop_after = -1;
	o->emit = emit;
	o->emit_arg = arg;
	o->wait_sec = 60;
	o->slot_wait_ms = FLEET_SLOT_WAIT_MS;
}

void
fleet_test_slot_wait(struct fleet_opts *o, const char *hook)
{
	const char *errstr;
	int ms;

	if (hook == NULL)
		return;
	ms = (int)strtonum(hook, 1, 600000, &errstr);
	if (errstr == NULL)
		o->slot_wait_ms = ms;
}

void
fleet_test_drop(struct fleet_opts *o, const char *hook)
{
	const char *errstr;
	char *colon;

	if (hook == NULL || (colon = strrchr(hook, ':')) == NULL)
		return;
	o->drop_after = (int)strtonum(colon + 1, 0, 2, &errstr);
	if (errstr != NULL)
		o->drop_after = -1;
	free(o->hook);
	o->drop_name = o->hook = xstrdup(hook);
	o->hook[colon - hook] = '\0';
}

/* strtonum into *v; -1 reported naming the option. */
static int
number(int *v, int ch, const char *arg, long long lo, long long hi)
{
	const char *errstr;
	int n;

	n = (int)strtonum(arg, lo, hi, &errstr);
	if (errstr != NULL) {
		log_warnx("-%c %s: %s", ch, arg, errstr);
		return -1;
	}
	*v = n;
	return 1;
}

int
fleet_opt(struct fleet_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'A':
		o->so.accept_new = 1;
		return 1;
	case 'C':
		return number(&o->canary, ch, arg, 1, 100000);
	case 'H':
		return number(&o->halt_after, ch, arg, 1, 100000);
	case 'j':
		return number(&o->jobs, ch, arg, 1, 256);
	case 'k':
		o->so.known_hosts = arg;
		return 1;
	case 'N':
		o->nat = 1;
		return 1;
	case 't':
		return number(&o->so.timeout, ch, arg, 1, 600);
	case 'w':
		return number(&o->wait_sec, ch, arg, 0, 3600);
	default:
		return 0;
	}
}

void
fleet_opts_release(struct fleet_opts *o)
{
	free(o->hook);
	o->hook = NULL;
	o->drop_name = NULL;
}
