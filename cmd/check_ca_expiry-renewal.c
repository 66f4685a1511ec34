// SPDX-License-Identifier: ISC
/* check_ca_expiry-renewal -- what a renewal changed: the CA's key, the peers' certificates */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cahist.h"
#include "check_ca_expiry.h"
#include "esc.h"
#include "log.h"
#include "peers.h"
#include "pki.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

/*
 * Every string of the JSON goes through here: a certificate's subject
 * and CN are anyone's bytes, a peer's name is a device's.
 */
void
json_str(const char *s)
{
	char *j = esc_json(s);

	fputs(j, stdout);
	free(j);
}

/* The peer folders whose certificate goes with t's CA. */
static int
goes_with(const struct target *t, const struct peer *p)
{
	if (t->own)
		return 1;
	return t->fmc_uuid != NULL && strcasecmp(t->fmc_uuid, p->uuid) == 0;
}

int
renewal_load(const struct target *t, X509 *c, const struct peer *peers,
    size_t np, struct renewal *r)
{
	struct pcert *pc;
	char *path;
	size_t i;
	X509 *x;
	int bad = 0;

	memset(r, 0, sizeof(*r));
	if (cahist_compare(t->own ? c : NULL, &r->hist) == -1)
		bad++;
	r->pc = xcalloc(np == 0 ? 1 : np, sizeof(*r->pc));
	for (i = 0; i < np; i++) {
		if (!goes_with(t, &peers[i]))
			continue;
		pc = &r->pc[r->npc++];
		pc->p = &peers[i];
		pc->apath = root_apath("%s/%s/%s", RP_PEERS, peers[i].uuid,
		    PEERF_CERT);
		path = xasprintf("%s/%s", peers[i].dir, PEERF_CERT);
		/* a missing certificate is a fact to show; a bad one an error */
		if (!sfile_exists(path))
			pc->state = PC_MISSING;
		else if ((x = pki_load_cert(path)) == NULL ||
		    pki_validity(x, NULL, &pc->not_after) == -1) {
			if (x != NULL)
				log_warnx("%s: certificate validity", path);
			pc->state = PC_BAD;
			bad++;
			X509_free(x);
		} else {
			pc->state = PC_OK;
			X509_free(x);
		}
		free(path);
	}
	return bad;
}

void
renewal_release(struct renewal *r)
{
	size_t i;

	for (i = 0; i < r->npc; i++)
		free(r->pc[i].apath);
	free(r->pc);
	memset(r, 0, sizeof(*r));
}

static void
iso(time_t t)
{
	char buf[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strlcpy(buf, "?", sizeof(buf));
	printf("\"%s\"", buf);
}

void
renewal_json(const struct renewal *r, time_t now)
{
	const struct pcert *pc;
	size_t i;

	printf(", \"ca_key\": \"%s\", \"ca_key_run\": ",
	    cahist_word(r->hist.key));
	if (r->hist.run != -1)
		printf("%lld", r->hist.run);
	else
		printf("null");
	printf(", \"peers\": [");
	for (i = 0; i < r->npc; i++) {
		pc = &r->pc[i];
		printf("%s\n      {\"name\": ", i == 0 ? "" : ",");
		json_str(pc->p->name);
		printf(", \"uuid\": ");
		json_str(pc->p->uuid);
		printf(", \"ip\": ");
		json_str(pc->p->ip);
		printf(", \"role\": ");
		json_str(pc->p->role);
		printf(", \"cert\": ");
		json_str(pc->apath);
		printf(", \"cert_state\": \"%s\"", pc->state == PC_OK ? "ok" :
		    pc->state == PC_BAD ? "unreadable" : "missing");
		if (pc->state != PC_OK) {
			printf(", \"cert_not_after\": null, "
			    "\"cert_not_after_epoch\": null, "
			    "\"cert_days_left\": null, \"cert_expired\": null}");
			continue;
		}
		printf(", \"cert_not_after\": ");
		iso(pc->not_after);
		printf(", \"cert_not_after_epoch\": %lld, "
		    "\"cert_days_left\": %ld, \"cert_expired\": %s}",
		    (long long)pc->not_after, pki_days_until(pc->not_after,
		    now), pc->not_after <= now ? "true" : "false");
	}
	printf("%s]", r->npc > 0 ? "\n    " : "");
}

void
renewal_text(const struct target *t, const struct renewal *r, time_t now)
{
	const struct pcert *pc;
	char when[64], *runs;
	size_t i;

	runs = root_apath("%s", RP_RUNS);
	switch (r->hist.key) {
	case CAHIST_SAME:
		printf("CA key: same (as the CA replaced by the renewal "
		    "%s/%lld)\n", runs, r->hist.run);
		break;
	case CAHIST_NEW:
		printf("CA key: new (not the key of the CA replaced by the "
		    "renewal %s/%lld)\n", runs, r->hist.run);
		break;
	case CAHIST_REFUSED:
		printf("CA key: refused (a folder of %s failed the ownership "
		    "check and was not read)\n", runs);
		break;
	default:
		if (t->own)
			printf("CA key: unknown (no backup of a replaced CA "
			    "in %s)\n", runs);
		else
			printf("CA key: unknown (%s)\n", t->fmc_uuid != NULL ?
			    "renewals are recorded on the FMC" :
			    "not a CA of the tree");
	}
	free(runs);
	for (i = 0; i < r->npc; i++) {
		pc = &r->pc[i];
		/* names and addresses are vis-encoded by peers_load */
		printf("Peer certificate of %s (%s, %s): ", pc->p->name,
		    pc->p->uuid, pc->p->ip);
		if (pc->state != PC_OK) {
			printf("%s\n", pc->state == PC_BAD ? "unreadable" :
			    "missing");
			continue;
		}
		pki_fmt_time(pc->not_after, when, sizeof(when));
		if (pc->not_after <= now)
			printf("%s (EXPIRED %ld days ago)\n", when,
			    pki_days_until(now, pc->not_after));
		else
			printf("%s (%ld days left)\n", when,
			    pki_days_until(pc->not_after, now));
	}
	putchar('\n');
}
