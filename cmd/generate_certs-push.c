// SPDX-License-Identifier: ISC
/* generate_certs-push.c -- push the new files through sftunneld, FAILED_PUSH */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "generate_certs.h"
#include "log.h"
#include "pki.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

int
gc_status(struct gc *gc, int *daemon_up)
{
	struct ctl_peer *cp = NULL;
	size_t n = 0, i, j;
	int r;

	*daemon_up = 0;
	for (i = 0; i < gc->nid; i++)
		gc->id[i].up = 0;
	r = ctl_status(&cp, &n, NULL);
	if (r == CTL_NODAEMON) {
		log_info("sftunneld is not running: no tunnel is up");
		return 0;
	}
	if (r != 0)
		return -1;
	*daemon_up = 1;
	for (i = 0; i < gc->nid; i++)
		for (j = 0; j < n && gc->id[i].p != NULL; j++)
			if (strcasecmp(cp[j].uuid, gc->id[i].uuid) == 0)
				gc->id[i].up = cp[j].up;
	free(cp);
	return 0;
}

int
gc_reload(void)
{
	int r = ctl_reload();

	if (r == CTL_NODAEMON) {
		log_info("sftunneld is not running: nothing to reload");
		return 0;
	}
	if (r == 0)
		log_info("sftunneld reloaded: new handshakes use the new CA");
	return r == 0 ? 0 : -1;
}

struct pushjob {
	struct gc	*gc;
	const char	*ca;		/* the new CA, PEM */
	size_t		 calen;
	size_t		 next;
	pthread_mutex_t	 mu;
};

static void
push_one(struct pushjob *pj, struct gc_id *g)
{
	struct ctl_file f[PEERF_NFILES];
	struct ctl_result res[PEERF_NFILES];
	char *path, *buf[PEERF_NFILES] = { NULL, NULL, NULL };
	char sum[65];
	size_t len[PEERF_NFILES] = { 0, 0, 0 };
	int i, r;

	memset(res, 0, sizeof(res));
	/* the CA is the run's; the peer's own two come from certs_pushed/ */
	for (i = 0; i < PEERF_NFILES; i++) {
		if (i == PEERF_I_CACERT)
			continue;
		path = xasprintf("%s/%s/%s", g->p->dir, PEERF_PUSHED,
		    peerf_names[i]);
		r = sfile_read(path, SFILE_CAP, &buf[i], &len[i]);
		free(path);
		if (r == -1) {
			snprintf(g->why, sizeof(g->why), "cannot read %s",
			    peerf_names[i]);
			goto out;
		}
	}
	for (i = 0; i < PEERF_NFILES; i++) {
		f[i].name = peerf_names[i];
		f[i].data = i == PEERF_I_CACERT ? pj->ca : buf[i];
		f[i].len = i == PEERF_I_CACERT ? pj->calen : len[i];
	}
	r = ctl_push(g->p->uuid, f, PEERF_NFILES, res, pj->gc->push_timeout);
	if (r != 0) {
		snprintf(g->why, sizeof(g->why), "%s", r == CTL_NODAEMON ?
		    "sftunneld not running" : "no answer from sftunneld");
		goto out;
	}
	for (i = 0; i < PEERF_NFILES; i++) {
		/* ok only when the receiver holds exactly what we sent */
		if (!res[i].ok) {
			snprintf(g->why, sizeof(g->why), "%s: %s",
			    peerf_names[i], res[i].reason);
			continue;
		}
		if (pki_sha256_hex(f[i].data, f[i].len, sum) == -1)
			continue;
		if (strcmp(sum, res[i].sha256) != 0) {
			snprintf(g->why, sizeof(g->why), "%s: checksum "
			    "mismatch", peerf_names[i]);
			continue;
		}
		g->ok[i] = 1;
	}
 out:
	for (i = 0; i < PEERF_NFILES; i++)
		if (buf[i] != NULL)
			freezero(buf[i], len[i] + 1);
}

static void *
push_worker(void *arg)
{
	struct pushjob *pj = arg;
	struct gc *gc = pj->gc;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&pj->mu);
		/* this FMC is never up: STATUS lists peers only */
		while (pj->next < gc->nid && !gc->id[pj->next].up)
			pj->next++;
		i = pj->next++;
		pthread_mutex_unlock(&pj->mu);
		if (i >= gc->nid)
			break;
		push_one(pj, &gc->id[i]);
	}
	return NULL;
}

/*
 * Push to every peer that is up, at most gc->jobs at a time.  Each push
 * has its own timeout, so a dead peer holds one worker, not the others.
 */
int
gc_push_all(struct gc *gc)
{
	struct pushjob pj;
	pthread_t *th;
	char *path, *ca = NULL;
	size_t i, nup = 0, calen;
	int k, nth, started = 0;

	for (i = 0; i < gc->nid; i++) {
		memset(gc->id[i].ok, 0, sizeof(gc->id[i].ok));
		if (gc->id[i].up)
			nup++;
		else
			snprintf(gc->id[i].why, sizeof(gc->id[i].why),
			    "tunnel down");
	}
	if (nup == 0)
		return 0;
	path = root_path(RP_CA_CERT);
	if (sfile_read(path, SFILE_CAP, &ca, &calen) == -1) {
		free(path);
		return -1;
	}
	free(path);
	memset(&pj, 0, sizeof(pj));
	pj.gc = gc;
	pj.ca = ca;
	pj.calen = calen;
	pthread_mutex_init(&pj.mu, NULL);
	nth = gc->jobs;
	if ((size_t)nth > nup)
		nth = (int)nup;
	th = xcalloc((size_t)nth, sizeof(*th));
	for (k = 0; k < nth; k++) {
		if (pthread_create(&th[k], NULL, push_worker, &pj) != 0)
			break;
		started++;
	}
	if (started == 0)
		push_worker(&pj);
	for (k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	free(th);
	pthread_mutex_destroy(&pj.mu);
	free(ca);
	return 0;
}

static char *
dest_path(const struct gc *gc, const struct gc_id *g, const char *file)
{
	return root_apath("%s/%s/%s%s", RP_PEERS, gc->uuid,
	    g->ha ? "from_peer/" : "", file);
}

static char *
source_path(const struct gc_id *g, const char *file)
{
	if (strcmp(file, PEERF_CACERT) == 0)
		return root_apath("%s", RP_CA_CERT);
	/* the double slash is the vendor's */
	return root_apath("%s/%s/%s//%s", RP_PEERS, g->p->uuid, PEERF_PUSHED,
	    file);
}

/*
 * The vendor's report: one "Failed to push to NAME = DEST" per file not
 * pushed, by peer name and in the push order, and FAILED_PUSH with the
 * five fields "PEER_UUID PEER_NAME PEER_IP SOURCE_ON_FMC DEST_ON_PEER".
 * No failure, no FAILED_PUSH (a stale one from an earlier attempt of the
 * same run goes).
 */
int
gc_report(struct gc *gc, int *nfailed)
{
	char *buf = NULL, *p, *d, *s, *fp;
	size_t len = 0, i;
	FILE *f;
	int k, rc = 0;

	*nfailed = 0;
	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("open_memstream");
		return -1;
	}
	for (i = 0; i < gc->nid; i++) {
		struct gc_id *g = &gc->id[i];
		int bad = 0;

		if (g->p == NULL)
			continue;
		for (k = 0; k < PEERF_NFILES; k++) {
			if (g->ok[k])
				continue;
			bad = 1;
			(*nfailed)++;
			d = dest_path(gc, g, peerf_names[k]);
			s = source_path(g, peerf_names[k]);
			fprintf(f, "%s %s %s %s %s\n", g->p->uuid, g->p->name,
			    g->p->ip, s, d);
			free(s);
			free(d);
		}
		if (bad)
			log_info("push to %s (%s, %s) failed: %s", g->p->name,
			    g->p->uuid, g->p->ip, g->why);
		else
			log_info("pushed to %s (%s, %s)", g->p->name,
			    g->p->uuid, g->p->ip);
	}
	fclose(f);
	fp = journal_path(&gc->journal, "%s", GC_FAILED_PUSH);
	if (*nfailed > 0)
		rc = sfile_write(fp, buf, len, 0644);
	else if (sfile_exists(fp))
		(void)unlink(fp);
	free(fp);
	free(buf);
	if (rc == -1)
		return -1;
	for (i = 0; i < gc->nid; i++)
		for (k = 0; k < PEERF_NFILES && gc->id[i].p != NULL; k++) {
			if (gc->id[i].ok[k])
				continue;
			d = dest_path(gc, &gc->id[i], peerf_names[k]);
			printf("Failed to push to %s = %s\n",
			    gc->id[i].p->name, d);
			free(d);
		}
	if (*nfailed > 0) {
		p = root_apath("%s/%lld/%s", RP_CERTS_TMP, gc->journal.epoch,
		    GC_FAILED_PUSH);
		printf("Some files were failed to be pushed to remote peers. "
		    "For more details check %s\n", p);
		log_info("%d files were not pushed: see %s", *nfailed, p);
		free(p);
	} else
		log_info("pushed to every peer");
	fflush(stdout);
	return 0;
}
