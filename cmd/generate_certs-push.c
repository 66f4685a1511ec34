// SPDX-License-Identifier: ISC
/* generate_certs-push.c -- push the new files through sftunneld, FAILED_PUSH */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "esc.h"
#include "generate_certs.h"
#include "log.h"
#include "pki.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

/*
 * The files a run pushes, as PEERF_I_* in the vendor's order: all three,
 * or with --extend the two public ones.
 */
static const int push_all_files[] = {
	PEERF_I_CACERT, PEERF_I_KEY, PEERF_I_CERT
};
static const int push_public_files[] = { PEERF_I_CACERT, PEERF_I_CERT };

static const int *
run_files(const struct gc *gc, int *n)
{
	if (gc->extend) {
		*n = 2;
		return push_public_files;
	}
	*n = PEERF_NFILES;
	return push_all_files;
}

int
gc_status(struct gc *gc, int *daemon_up)
{
	struct ctl_peer *cp = NULL;
	size_t n = 0, i, j;
	int r;

	*daemon_up = 0;
	for (i = 0; i < gc->nid; i++) {
		gc->id[i].up = 0;
		gc->id[i].session_cn[0] = gc->id[i].session_issuer[0] = '\0';
		gc->id[i].session_key[0] = '\0';
	}
	r = ctl_status(&cp, &n, NULL);
	if (r == CTL_NODAEMON) {
		log_info("sftunneld is not running: no tunnel is up");
		return 0;
	}
	if (r != 0)
		return -1;
	*daemon_up = 1;
	for (i = 0; i < gc->nid; i++)
		for (j = 0; j < n && gc->id[i].p != NULL; j++) {
			struct gc_id *g = &gc->id[i];

			if (strcasecmp(cp[j].uuid, g->uuid) != 0)
				continue;
			g->up = cp[j].up;
			strlcpy(g->session_cn, cp[j].session_cn,
			    sizeof(g->session_cn));
			strlcpy(g->session_issuer, cp[j].session_issuer,
			    sizeof(g->session_issuer));
			strlcpy(g->session_key, cp[j].session_key,
			    sizeof(g->session_key));
		}
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

/*
 * The peer's session shows which key it holds when the certificate it
 * presents names it and was issued by this FMC; the primary FMC of an HA
 * pair, seen from the secondary, presents the identity its own CA issued,
 * which says nothing of the key that goes with ours.
 */
enum gc_key
gc_key_state(const struct gc *gc, const struct gc_id *g, const char *cert,
    size_t len)
{
	char sum[65];
	X509 *c;
	int r;

	if (!g->up)
		return GC_KEY_DOWN;
	if (g->session_key[0] == '\0' ||
	    strcasecmp(g->session_cn, g->uuid) != 0 ||
	    strcasecmp(g->session_issuer, gc->uuid) != 0)
		return GC_KEY_UNSEEN;
	log_quiet(1);
	c = pki_cert_from_pem(cert, len, PEERF_CERT);
	log_quiet(0);
	if (c == NULL)
		return GC_KEY_UNSEEN;
	r = pki_pubkey_sha256(c, sum);
	X509_free(c);
	if (r == -1)
		return GC_KEY_UNSEEN;
	return strcmp(sum, g->session_key) == 0 ? GC_KEY_MATCH :
	    GC_KEY_MISMATCH;
}

static void
push_one(struct pushjob *pj, struct gc_id *g)
{
	struct ctl_file f[PEERF_NFILES];
	struct ctl_result res[PEERF_NFILES];
	char *path, *buf[PEERF_NFILES] = { NULL, NULL, NULL };
	char sum[65], why[ESC_SIZE(sizeof(res[0].reason))];
	size_t len[PEERF_NFILES] = { 0, 0, 0 };
	const int *set;
	int i, k, n, r;

	memset(res, 0, sizeof(res));
	set = run_files(pj->gc, &n);
	/* the CA is the run's; the peer's own come from certs_pushed/ */
	for (i = 0; i < n; i++) {
		if ((k = set[i]) == PEERF_I_CACERT)
			continue;
		path = xasprintf("%s/%s/%s", g->p->dir, PEERF_PUSHED,
		    peerf_names[k]);
		r = sfile_read(path, SFILE_CAP, &buf[k], &len[k]);
		free(path);
		if (r == -1) {
			snprintf(g->why, sizeof(g->why), "cannot read %s",
			    peerf_names[k]);
			goto out;
		}
	}
	if (pj->gc->extend) {
		/* never a certificate that does not go with the peer's key */
		g->keyst = gc_key_state(pj->gc, g, buf[PEERF_I_CERT],
		    len[PEERF_I_CERT]);
		if (g->keyst != GC_KEY_MATCH) {
			snprintf(g->why, sizeof(g->why), "%s: %s", PEERF_CERT,
			    g->keyst == GC_KEY_MISMATCH ? "the peer holds "
			    "another key" : "the peer's key is not seen");
			n = 1;		/* cacert.pem, first of the set */
		}
	}
	for (i = 0; i < n; i++) {
		k = set[i];
		f[i].name = peerf_names[k];
		f[i].data = k == PEERF_I_CACERT ? pj->ca : buf[k];
		f[i].len = k == PEERF_I_CACERT ? pj->calen : len[k];
	}
	r = ctl_push(g->p->uuid, f, (size_t)n, res, pj->gc->push_timeout);
	if (r != 0) {
		snprintf(g->why, sizeof(g->why), "%s", r == CTL_NODAEMON ?
		    "sftunneld not running" : "no answer from sftunneld");
		goto out;
	}
	for (i = 0; i < n; i++) {
		k = set[i];
		/* ok only when the receiver holds exactly what we sent */
		if (!res[i].ok) {
			/* the receiver's words: shown encoded */
			snprintf(g->why, sizeof(g->why), "%s: %s",
			    peerf_names[k],
			    esc_vist(why, sizeof(why), res[i].reason));
			continue;
		}
		if (pki_sha256_hex(f[i].data, f[i].len, sum) == -1)
			continue;
		if (strcmp(sum, res[i].sha256) != 0) {
			snprintf(g->why, sizeof(g->why), "%s: checksum "
			    "mismatch", peerf_names[k]);
			continue;
		}
		g->ok[k] = 1;
	}
 out:
	for (i = 0; i < PEERF_NFILES; i++)
		if (buf[i] != NULL)
			freezero(buf[i], len[i] + 1);
}

/* Every file sent to g is confirmed by its receiver. */
static int
acked(const struct gc *gc, const struct gc_id *g)
{
	const int *set;
	int i, n;

	set = run_files(gc, &n);
	if (gc->extend && g->keyst != GC_KEY_MATCH)
		return 0;	/* cacert.pem alone: not the whole push */
	for (i = 0; i < n; i++)
		if (!g->ok[set[i]])
			return 0;
	return 1;
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
		if (acked(gc, &gc->id[i]))
			gc_progress(gc, GC_STEP_PUSHED);
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
		gc->id[i].keyst = GC_KEY_DOWN;
		if (gc->id[i].up)
			nup++;
		else
			snprintf(gc->id[i].why, sizeof(gc->id[i].why),
			    "tunnel down");
	}
	if (nup == 0)
		return 0;
	gc->p_push = nup;
	gc_progress(gc, GC_STEP_SHOW);
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
 * Whether any file of the run's set failed for peer g: then every file
 * of the set is listed for it, so that whoever copies by hand copies
 * the files that go together, never a key without its certificate.
 */
static int
peer_failed(const struct gc_id *g, const int *set, int n)
{
	int j;

	if (g->p == NULL)
		return 0;
	for (j = 0; j < n; j++)
		if (!g->ok[set[j]])
			return 1;
	return 0;
}

/*
 * The vendor's report: one "Failed to push to NAME = DEST" per file
 * listed, by peer name and in the push order, and FAILED_PUSH with the
 * five fields "PEER_UUID PEER_NAME PEER_IP SOURCE_ON_FMC DEST_ON_PEER",
 * each vis-encoded (the name and address as peer_parse keeps them), so
 * that no byte of a peer's sftunnel.json can add a field or a line.
 * A peer any of whose files failed has every file of the run's set
 * listed (all three, with --extend the two public ones).  No failure,
 * no FAILED_PUSH (a stale one from an earlier attempt of the same run
 * goes).
 */
int
gc_report(struct gc *gc, int *nfailed)
{
	const int *set;
	char *buf = NULL, *p, *d, *s, vs[ESC_SIZE(256)], vd[ESC_SIZE(256)];
	size_t len = 0, i;
	FILE *f;
	int j, k, n, rc = 0;

	*nfailed = 0;
	set = run_files(gc, &n);
	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("open_memstream");
		return -1;
	}
	for (i = 0; i < gc->nid; i++) {
		struct gc_id *g = &gc->id[i];
		int bad = peer_failed(g, set, n);

		if (g->p == NULL)
			continue;
		for (j = 0; j < n && bad; j++) {
			k = set[j];
			(*nfailed)++;
			d = dest_path(gc, g, peerf_names[k]);
			s = source_path(g, peerf_names[k]);
			fprintf(f, "%s %s %s %s %s\n", g->p->uuid, g->p->name,
			    g->p->ip, esc_vis(vs, sizeof(vs), s),
			    esc_vis(vd, sizeof(vd), d));
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
	rc = journal_report(&gc->journal, buf, *nfailed > 0 ? len : 0);
	free(buf);
	if (rc == -1)
		return -1;
	for (i = 0; i < gc->nid; i++)
		for (j = 0; j < n && peer_failed(&gc->id[i], set, n); j++) {
			k = set[j];
			d = dest_path(gc, &gc->id[i], peerf_names[k]);
			printf("Failed to push to %s = %s\n",
			    gc->id[i].p->name, d);
			free(d);
		}
	/* --extend: the peers that got the CA but not their certificate */
	for (i = 0; i < gc->nid; i++) {
		struct gc_id *g = &gc->id[i];

		if (g->keyst != GC_KEY_MISMATCH && g->keyst != GC_KEY_UNSEEN)
			continue;
		d = root_apath("%s/%s/%s/%s", RP_PEERS, g->p->uuid,
		    PEERF_PUSHED, PEERF_KEY);
		if (g->keyst == GC_KEY_MISMATCH)
			printf("Key mismatch on %s: it holds another key than "
			    "%s, so only cacert.pem was pushed\n",
			    g->p->name, d);
		else
			printf("Key not seen on %s: its session does not show "
			    "which key it holds, so only cacert.pem was "
			    "pushed\n", g->p->name);
		log_info("%s (%s): %s: sftunnel-cert.pem not pushed",
		    g->p->name, g->p->uuid, g->keyst == GC_KEY_MISMATCH ?
		    "key mismatch" : "key not seen");
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
