// SPDX-License-Identifier: ISC
/* generate_certs -- renew the FMC's InternalCA and every sftunnel identity */
#include <sys/prctl.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "generate_certs.h"
#include "log.h"
#include "peers.h"
#include "pki.h"
#include "root.h"
#include "sfile.h"
#include "version.h"
#include "xmalloc.h"
#include "banned.h"

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: generate_certs [-fhknVy] [-b seconds] [-j jobs] "
	    "[-r root]\n"
	    "                      [-t seconds] [--keep-runs=n]\n"
	    "       generate_certs -e [-fhnVy] [-b seconds] [-d days] "
	    "[-j jobs] [-r root]\n"
	    "                      [-t seconds] [--keep-runs=n]\n");
	if (status == 0)
		fputs("\n"
		    "Renew the InternalCA and every sftunnel certificate, push "
		    "them over the\n"
		    "tunnel to every peer whose tunnel is up, list the others "
		    "in FAILED_PUSH.\n"
		    "With -e, renew on the same keys: only public files move.\n"
		    "\n"
		    "  -b, --backdate=seconds  start validity seconds before "
		    "the run (default 86400)\n"
		    "  -d, --days=days         with -e: days of validity (1 to "
		    "7300, default 3650)\n"
		    "  -e, --extend            renew on the same keys (not "
		    "with -k)\n"
		    "  -f, --force             on an HA secondary: renew "
		    "before the primary's run\n"
		    "  -h, --help              print this help and exit 0\n"
		    "  -j, --jobs=jobs         push to at most jobs peers at a "
		    "time (default 16)\n"
		    "  -k, --reuse-keys        reissue on the existing "
		    "sftunnel keys (CA: new key)\n"
		    "      --keep-runs=n       keep the run folders (backups) "
		    "of the last n runs (3)\n"
		    "  -n, --dry-run           print what would be done to "
		    "each peer, change nothing\n"
		    "  -r, --root=root         the appliance root (default "
		    "$SFCA_ROOT, else /)\n"
		    "  -t, --timeout=seconds   give up on a peer's push after "
		    "seconds (default 30)\n"
		    "  -V, --version           print the version and exit 0\n"
		    "  -y, --yes               answer yes to both prompts, for "
		    "scripts\n"
		    "\n"
		    "Exit status: 0 the renewal is complete (FAILED_PUSH lists "
		    "manual work left)\n"
		    "or the dry run ended; 1 the renewal did not happen or did "
		    "not complete (an\n"
		    "answer other than yes, not an FMC, a bad CA, a second "
		    "run, the HA order, a\n"
		    "full disk); 2 usage error, or a root that is not a "
		    "folder.\n"
		    "\n"
		    SFCA_HELP_MAN("generate_certs", "8"), f);
	exit(status);
}

/*
 * SFCA_TEST_KILL_AT=<step>: die by SIGKILL at that step, as a power cut
 * would.  A test hook, documented as such in generate_certs(8), compiled
 * only into the tests' build (SFCA_TEST_HOOKS): a no-op in what ships.
 */
void
gc_test_hook(const char *step)
{
#ifdef SFCA_TEST_HOOKS
	const char *at = getenv("SFCA_TEST_KILL_AT");

	if (at == NULL || strcmp(at, step) != 0)
		return;
	log_info("test hook: killed at %s", step);
	fflush(stdout);
	raise(SIGKILL);
#else
	(void)step;
#endif
}

/* "Do you want to continue? [yes/no]:" -- only "yes" goes on. */
static int
ask(const struct gc *gc)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int yes;

	printf("Do you want to continue? [yes/no]:");
	if (gc->yes) {
		printf("yes\n");
		return 1;
	}
	fflush(stdout);
	if ((n = getline(&line, &cap, stdin)) == -1) {
		free(line);
		printf("\n");
		return 0;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	yes = strcmp(line, "yes") == 0;
	log_info("answer: %s", yes ? "yes" : "not yes");
	free(line);
	return yes;
}

/*
 * "Current ca_root expires in N days - at <notAfter> GMT", the vendor's
 * sentence.  N is whole days left, rounded down; once the CA has expired
 * it is "-N", N being whole days since expiry rounded down (as
 * check_ca_expiry's "expired N days ago"), "-0" on the day of expiry.
 */
static void
print_expiry(const struct pki_info *cur)
{
	char when[40];
	time_t now = time(NULL);

	pki_fmt_time(cur->not_after, when, sizeof(when));
	if (cur->not_after > now)
		printf("Current ca_root expires in %ld days - at %s\n",
		    pki_days_until(cur->not_after, now), when);
	else
		printf("Current ca_root expires in -%ld days - at %s\n",
		    (long)((now - cur->not_after) / PKI_DAY), when);
	log_info("current CA serial %s, not after %s%s", cur->serial, when,
	    cur->not_after > now ? "" : " (expired)");
}

/* --extend: the renewed CA's end, in the words of the sentence above. */
static void
print_renewed(const struct gc *gc)
{
	char when[40];

	pki_fmt_time(gc->start + (time_t)gc->days * PKI_DAY, when,
	    sizeof(when));
	printf("Renewed ca_root will expire in %d days - at %s\n", gc->days,
	    when);
}

static X509 *
load_current_ca(struct pki_info *in)
{
	char *path = root_path(RP_CA_CERT);
	X509 *c;

	c = pki_load_cert(path);
	free(path);
	if (c != NULL && pki_cert_info(c, in) == -1) {
		X509_free(c);
		c = NULL;
	}
	return c;
}

/* The current CA and its key must be a pair: else this is no sane CA. */
static int
check_ca_pair(void)
{
	char *pc = root_path(RP_CA_CERT), *pk = root_path(RP_CA_KEY);
	EVP_PKEY *k;
	X509 *c;
	int rc;

	rc = pki_load_pair(pc, pk, &c, &k);
	X509_free(c);
	EVP_PKEY_free(k);
	free(pc);
	free(pk);
	return rc;
}

/*
 * On the HA secondary, the primary's renewal is done when the CA the
 * primary pushed to us (var/sf/peers/<primary>/from_peer/cacert.pem) is
 * the primary's InternalCA and was made after our own current CA: every
 * renewal makes a CA valid from a fixed time before its run until a time
 * after it, so this reads "the primary renewed since we last did".
 */
static int
ha_primary_done(struct gc *gc, const struct pki_info *own)
{
	struct pki_info pin;
	struct gc_id *prim = NULL;
	char *path, a[40], b[40];
	X509 *c;
	size_t i;
	int rc = -1;

	for (i = 0; i < gc->nid; i++)
		if (gc->id[i].ha)
			prim = &gc->id[i];
	if (prim == NULL) {
		log_warnx("HA_ROLE is secondary but no peer folder has role "
		    "fmc-ha");
		return -1;
	}
	path = xasprintf("%s/from_peer/%s", prim->p->dir, PEERF_CACERT);
	if ((c = pki_load_cert(path)) == NULL)
		goto out;
	if (pki_cert_info(c, &pin) == -1)
		goto out;
	if (!pin.is_ca || strcasecmp(pin.cn, prim->p->uuid) != 0) {
		log_warnx("%s: not the InternalCA of the primary %s", path,
		    prim->p->uuid);
		goto out;
	}
	/*
	 * Both start "backdate" before their run, or (as registration
	 * made them) at it; a renewal also ends later than the CA it
	 * followed.  Newer is either.
	 */
	if (pin.not_before <= own->not_before &&
	    pin.not_after <= own->not_after) {
		pki_fmt_time(pin.not_before, a, sizeof(a));
		pki_fmt_time(own->not_before, b, sizeof(b));
		log_warnx("this FMC is the HA secondary and the primary %s "
		    "has not renewed yet: its CA (%s) dates from %s, ours "
		    "from %s; run generate_certs on the primary first, or "
		    "use --force", prim->p->name, path, a, b);
		goto out;
	}
	log_info("HA: the primary's new CA (from %ld) has reached this "
	    "secondary", (long)pin.not_before);
	rc = 0;
 out:
	X509_free(c);
	free(path);
	return rc;
}

static int
in_manifest(const struct gc *gc, const char *uuid)
{
	char *rel = xasprintf("%s/%s/%s", RP_PEERS, uuid, PEERF_CERT);
	size_t i;
	int r = 0;

	for (i = 0; i < gc->journal.nmanifest && !r; i++)
		r = strcmp(gc->journal.manifest[i], rel) == 0;
	free(rel);
	return r;
}

/* gc.id: this FMC, then every peer the run renews. */
static int
load_ids(struct gc *gc)
{
	struct gc_id *id;
	size_t i;

	if (peers_load(&gc->peers, &gc->npeers) == -1)
		return -1;
	gc->id = xcalloc(gc->npeers + 1, sizeof(*gc->id));
	id = &gc->id[GC_SELF];
	id->uuid = gc->uuid;
	strlcpy(id->dir, RP_KEYS_DIR, sizeof(id->dir));
	gc->nid = 1;
	for (i = 0; i < gc->npeers; i++) {
		struct peer *p = &gc->peers[i];

		if (strcmp(p->role, "ftd") != 0 &&
		    strcmp(p->role, "fmc-ha") != 0) {
			log_warnx("%s/%s: role %s: an FMC's peer is ftd or "
			    "fmc-ha", p->dir, PEERF_JSON, p->role);
			return -1;
		}
		/* a completed run covers the peers it staged, no more */
		if (gc->journal.resumed && !in_manifest(gc, p->uuid)) {
			log_info("%s (%s): not part of the interrupted run: "
			    "left alone", p->name, p->uuid);
			continue;
		}
		id = &gc->id[gc->nid++];
		id->p = p;
		id->uuid = p->uuid;
		snprintf(id->dir, sizeof(id->dir), "%s/%s", RP_PEERS, p->uuid);
		id->ha = strcmp(p->role, "fmc-ha") == 0;
	}
	return 0;
}

/* --extend: what the push would do, judged on the certificate on disk. */
static void
dry_extend_peer(const struct gc *gc, const struct gc_id *g, const char *dest)
{
	enum gc_key ks = GC_KEY_DOWN;
	char *path, *buf = NULL;
	size_t len;

	path = xasprintf("%s/%s/%s", g->p->dir, PEERF_PUSHED, PEERF_CERT);
	log_quiet(1);
	if (g->up && sfile_read(path, SFILE_CAP, &buf, &len) == 0)
		ks = gc_key_state(gc, g, buf, len);
	else if (g->up)
		ks = GC_KEY_UNSEEN;
	log_quiet(0);
	printf("%s %s %s %s: %s certificate on its key; tunnel %s: %s %s\n",
	    g->p->name, g->p->uuid, g->p->ip, g->p->role,
	    gc->journal.resumed ? "staged" : "reissued",
	    ks == GC_KEY_DOWN ? "down" : ks == GC_KEY_MATCH ? "up" :
	    ks == GC_KEY_MISMATCH ? "up, key mismatch" : "up, key not seen",
	    ks == GC_KEY_DOWN ? "would list in FAILED_PUSH for" :
	    ks == GC_KEY_MATCH ? "would push cacert.pem, sftunnel-cert.pem "
	    "to" : "would push cacert.pem only to", dest);
	free(buf);
	free(path);
}

static void
dry_run(struct gc *gc, const struct pki_info *cur)
{
	char *d, *b;
	int up = 0;
	size_t i;

	printf("Dry run: nothing will be changed.\n");
	print_expiry(cur);
	if (gc->journal.resumed) {
		b = root_apath("%s/%lld", RP_RUNS, gc->journal.epoch);
		printf("Would complete the interrupted renewal in %s (%s)\n",
		    b, journal_has(&gc->journal, GC_COMMITTED) ?
		    "committed, pushing" :
		    journal_has(&gc->journal, GC_BACKED_UP) ?
		    "backed up, committing" :
		    "staged, committing");
		free(b);
	} else if (gc->extend) {
		printf("Would renew the InternalCA on its key: %s-%d, "
		    "SHA-256, %d days, subject %s\n", cur->keytype, cur->bits,
		    gc->days, cur->subject);
		printf("Would reissue the sftunnel certificate of this FMC "
		    "(%s) on its key\n", gc->uuid);
		b = root_apath("%s/<epoch>/%s", RP_RUNS, GC_BACKUP);
		printf("Would back up %zu files into %s and replace them; no "
		    "key\n", (gc->nid - 1) * 2 + 5, b);
		free(b);
	} else {
		printf("Would make a new InternalCA: RSA-2048, SHA-256, "
		    "%d days, subject /title=InternalCA/OU=%s/CN=%s/O=%s\n",
		    PKI_CA_DAYS, PKI_OU, gc->uuid, PKI_ORG);
		printf("Would issue a new sftunnel certificate and %s for "
		    "this FMC (%s)\n", gc->reuse ? "reuse its key" :
		    "key", gc->uuid);
		b = root_apath("%s/<epoch>/%s", RP_RUNS, GC_BACKUP);
		printf("Would back up %zu files into %s and replace them\n",
		    (gc->nid - 1) * 4 + 7, b);
		free(b);
	}
	if (gc_status(gc, &up) == -1 || !up)
		printf("sftunneld is not running: every tunnel counts as "
		    "down\n");
	for (i = 0; i < gc->nid; i++) {
		struct gc_id *g = &gc->id[i];

		if (g->p == NULL)
			continue;
		d = root_apath("%s/%s/%s", RP_PEERS, gc->uuid,
		    g->ha ? "from_peer/" : "");
		if (gc->extend) {
			dry_extend_peer(gc, g, d);
			free(d);
			continue;
		}
		printf("%s %s %s %s: %s certificate%s; tunnel %s: %s %s\n",
		    g->p->name, g->p->uuid, g->p->ip, g->p->role,
		    gc->journal.resumed ? "staged" : "new",
		    gc->reuse ? " on its key" : " and key",
		    g->up ? "up" : "down",
		    g->up ? "would push cacert.pem, sftunnel-key.pem, "
		    "sftunnel-cert.pem to" : "would list in FAILED_PUSH for",
		    d);
		free(d);
	}
}

void
gc_progress(struct gc *gc, enum gc_step step)
{
	size_t *n = NULL;
	int force = step == GC_STEP_SHOW;

	if (!gc->prog.on)
		return;
	pthread_mutex_lock(&gc->p_mu);
	switch (step) {
	case GC_STEP_KEY:
		n = &gc->p_keys;
		break;
	case GC_STEP_SIGNED:
		n = &gc->p_signed;
		break;
	case GC_STEP_PUSHED:
		n = &gc->p_pushed;
		break;
	default:
		break;
	}
	if (n != NULL)
		(*n)++;
	/* the last of a kind is always shown */
	if ((step == GC_STEP_KEY && gc->p_keys == gc->nid + 1) ||
	    (step == GC_STEP_SIGNED && gc->p_signed == gc->nid) ||
	    (step == GC_STEP_PUSHED && gc->p_pushed == gc->p_push))
		force = 1;
	if (gc->extend)
		progress_show(&gc->prog, force, "generate_certs: certificates "
		    "signed %zu/%zu, pushes acknowledged %zu/%zu", gc->p_signed,
		    gc->nid, gc->p_pushed, gc->p_push);
	else
		progress_show(&gc->prog, force, "generate_certs: keys made "
		    "%zu/%zu, certificates signed %zu/%zu, pushes acknowledged "
		    "%zu/%zu", gc->p_keys, gc->nid + 1, gc->p_signed, gc->nid,
		    gc->p_pushed, gc->p_push);
	pthread_mutex_unlock(&gc->p_mu);
}

static int
run(struct gc *gc)
{
	struct pki_info cur;
	struct conf *ims = NULL;
	const char *v;
	char *p;
	X509 *ca = NULL;
	int pending, nfailed = 0, up, fresh = 0, rc = 1;
	enum root_kind k;

	gc->start = time(NULL);
	if ((k = root_kind()) != ROOT_FMC) {
		log_warnx("%s: not an FMC (the tree is %s): generate_certs "
		    "runs on the management center", root_dir(),
		    k == ROOT_FTD ? "an FTD" : "of an unknown kind");
		return 1;
	}
	p = root_path(RP_IMS_CONF);
	if (conf_load(p, &ims) == -1) {
		free(p);
		return 1;
	}
	if ((v = conf_get(ims, "APPLIANCE_UUID")) == NULL ||
	    !peer_uuid_valid(v)) {
		log_warnx("%s: no valid APPLIANCE_UUID", p);
		free(p);
		goto out;
	}
	free(p);
	strlcpy(gc->uuid, v, sizeof(gc->uuid));
	if (!gc->dry && !gc->yes && !isatty(STDIN_FILENO)) {
		log_warnx("standard input is not a terminal: answer the "
		    "prompts on a terminal, or use --yes");
		goto out;
	}

	if (!gc->dry) {
		p = root_path(RP_GEN_LOG);
		if (log_open_file(p) == -1) {
			free(p);
			goto out;
		}
		free(p);
		p = root_apath(RP_GEN_LOG);
		printf("setting log file to %s\n", p);
		free(p);
		log_info("generate_certs %s started on %s (%s)", SFCA_VERSION,
		    root_dir(), gc->uuid);
	}
	/* where FAILED_PUSH goes must be root's before anything changes */
	if (journal_check_report_dir((long long)gc->start) == -1)
		goto out;
	if (!gc->dry && journal_lock() == -1)
		goto out;
	if ((pending = journal_find_pending(&gc->journal, gc->dry)) == -1)
		goto out;
	if (pending && journal_check_report_dir(gc->journal.epoch) == -1)
		goto out;
	if (pending) {
		/* the interrupted run's mode, whatever this one was asked */
		gc->extend = journal_has(&gc->journal, GC_EXTEND);
		/* staged flat, but by an earlier version in the tree's shape */
		gc->journal.flat = gc->extend &&
		    !journal_has(&gc->journal, GC_NEW "/etc");
		log_info("found an interrupted renewal%s in %s", gc->extend ?
		    " on the same keys" : "", gc->journal.dir);
		if (!gc->dry)
			journal_sweep(&gc->journal);
	}
	if (load_ids(gc) == -1)
		goto out;
	/* what a killed run staged is checked again before it is used */
	if (pending && gc_verify_resumed(gc) == -1) {
		log_warnx("the interrupted renewal in %s does not verify: "
		    "it is not completed; this run changed nothing",
		    gc->journal.dir);
		goto out;
	}
	if ((ca = load_current_ca(&cur)) == NULL)
		goto out;
	if (!pending) {
		if (gc->extend ? gc_extend_check(gc) == -1 :
		    check_ca_pair() == -1)
			goto out;
		v = conf_get(ims, "HA_ROLE");
		if (v != NULL && strcmp(v, "secondary") == 0) {
			if (!gc->force && ha_primary_done(gc, &cur) == -1)
				goto out;
			if (gc->force)
				log_info("HA secondary: --force: not "
				    "checking the primary's renewal");
		}
	}

	if (gc->dry) {
		dry_run(gc, &cur);
		rc = 0;
		goto out;
	}

	if (gc->extend)
		printf("You are about to renew the certificates for FMC and "
		    "devices on their existing keys.\n"
		    "After successful cert renewal, the CA and device certs "
		    "will be pushed automatically; no private key is changed "
		    "or pushed\n"
		    "If the connection between FMC and a device is down, it "
		    "keeps working until the current ca_root expires, then "
		    "user needs to copy cacert.pem and sftunnel-cert.pem onto "
		    "the device manually\n"
		    "For more details on disconnected devices, use "
		    "sftunnel_status.pl\n");
	else
		printf("You are about to generate new certificates for FMC "
		    "and devices.\n"
		    "After successful cert generation, device specific certs "
		    "will be pushed automatically\n"
		    "If the connection between FMC and a device is down, user "
		    "needs to copy the certificates onto the device manually\n"
		    "For more details on disconnected devices, use "
		    "sftunnel_status.pl\n");
	if (!ask(gc))
		goto abort;
	print_expiry(&cur);
	if (gc->extend && !pending)
		print_renewed(gc);
	if (!ask(gc))
		goto abort;

	if (!pending) {
		fresh = 1;
		if (journal_create(&gc->journal, gc->start) == -1 ||
		    journal_check_report_dir(gc->journal.epoch) == -1)
			goto out;
		log_info("run folder %s%s", gc->journal.dir, gc->extend ?
		    ": a renewal on the same keys" : "");
		if (gc->extend && journal_mark(&gc->journal, GC_EXTEND) == -1)
			goto out;
		gc->journal.flat = gc->extend;
		gc_manifest_build(gc);
		if (journal_manifest_write(&gc->journal) == -1)
			goto out;
		gc_progress(gc, GC_STEP_SHOW);
		if (gc->extend ? gc_extend_make(gc) == -1 ||
		    gc_extend_stage(gc) == -1 :
		    gc_make(gc) == -1 || gc_stage(gc) == -1)
			goto out;
		if (journal_mark(&gc->journal, GC_STAGED) == -1)
			goto out;
		gc_test_hook("staged");
	} else {
		p = root_apath("%s/%lld", RP_RUNS, gc->journal.epoch);
		printf("Completing the interrupted renewal in %s\n", p);
		free(p);
	}
	if (journal_backup(&gc->journal) == -1)
		goto out;
	fresh = 0;	/* from here on, the run folder is the journal */
	gc_test_hook("backed-up");
	if (journal_commit(&gc->journal) == -1)
		goto out;
	gc_test_hook("committed");
	gc_material_free(gc);
	if (gc_reload() == -1)
		log_warnx("sftunneld did not reload: new handshakes use the "
		    "old files until it restarts");
	if (gc_status(gc, &up) == -1)
		log_warnx("no status from sftunneld: every peer counts as "
		    "down");
	if (gc_push_all(gc) == -1)
		goto out;
	progress_clear(&gc->prog);
	gc_test_hook("pushed");
	/* committed: a full disk may still stop the report or DONE */
	if (gc_report(gc, &nfailed) == -1) {
		log_warnx("committed: every file is the new one, but the "
		    "report of the push could not be written; run "
		    "generate_certs again to push and report");
		goto out;
	}
	if (journal_finish(&gc->journal) == -1) {
		log_warnx("committed: every file is the new one and pushed, "
		    "but the journal could not say it is done; run "
		    "generate_certs again to finish");
		goto out;
	}
	log_info("renewal complete: %d files left to copy by hand", nfailed);
	if (journal_prune(gc->keep_runs) == -1)
		log_warnx("could not remove every old run folder");
	rc = 0;
	goto out;
 abort:
	log_warnx("aborted: nothing was changed");
 out:
	if (rc != 0 && fresh && gc->journal.dir != NULL) {
		/* staging failed: nothing was replaced; leave no trace */
		(void)journal_discard(&gc->journal);
	}
	if (rc != 0 && !gc->dry)
		log_info("generate_certs ended with status %d", rc);
	X509_free(ca);
	conf_free(ims);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "backdate",	required_argument,	NULL, 'b' },
		{ "days",	required_argument,	NULL, 'd' },
		{ "extend",	no_argument,		NULL, 'e' },
		{ "force",	no_argument,		NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "jobs",	required_argument,	NULL, 'j' },
		{ "keep-runs",	required_argument,	NULL, 'K' },
		{ "reuse-keys",	no_argument,		NULL, 'k' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "root",	required_argument,	NULL, 'r' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "yes",	no_argument,		NULL, 'y' },
		{ NULL,		0,			NULL, 0 }
	};
	struct gc gc;
	const char *root = NULL, *errstr;
	long n;
	int ch, rc;

	log_init(argv[0]);
	/* it holds every private key of the fleet: no core dumps */
	(void)prctl(PR_SET_DUMPABLE, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&gc, 0, sizeof(gc));
	progress_init(&gc.prog);
	pthread_mutex_init(&gc.p_mu, NULL);
	gc.jobs = 16;
	gc.push_timeout = 30;
	gc.backdate = PKI_DAY;
	gc.keep_runs = 3;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	gc.threads = n < 1 ? 1 : n > 256 ? 256 : (int)n;
	while ((ch = getopt_long(argc, argv, "Vb:d:efhj:knr:t:y", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("generate_certs (sfca) %s\n", SFCA_VERSION);
			exit(0);
		case 'b':
			gc.backdate = (long)strtonum(optarg, 0, 7 * PKI_DAY,
			    &errstr);
			if (errstr != NULL) {
				log_warnx("-b %s: %s", optarg, errstr);
				usage(2);
			}
			break;
		case 'd':
			gc.days = (int)strtonum(optarg, 1, 7300, &errstr);
			if (errstr != NULL) {
				log_warnx("-d %s: %s", optarg, errstr);
				usage(2);
			}
			break;
		case 'e':
			gc.extend = 1;
			break;
		case 'f':
			gc.force = 1;
			break;
		case 'h':
			usage(0);
		case 'j':
			gc.jobs = (int)strtonum(optarg, 1, 1024, &errstr);
			if (errstr != NULL) {
				log_warnx("-j %s: %s", optarg, errstr);
				usage(2);
			}
			break;
		case 'K':
			gc.keep_runs = (int)strtonum(optarg, 1, 1000, &errstr);
			if (errstr != NULL) {
				log_warnx("--keep-runs %s: %s", optarg,
				    errstr);
				usage(2);
			}
			break;
		case 'k':
			gc.reuse = 1;
			break;
		case 'n':
			gc.dry = 1;
			break;
		case 'r':
			root = optarg;
			break;
		case 't':
			gc.push_timeout = (int)strtonum(optarg, 1, 3600,
			    &errstr);
			if (errstr != NULL) {
				log_warnx("-t %s: %s", optarg, errstr);
				usage(2);
			}
			break;
		case 'y':
			gc.yes = 1;
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	/* -k belongs to the default mode, -d to --extend */
	if ((gc.extend && gc.reuse) || (!gc.extend && gc.days != 0))
		usage(2);
	if (gc.days == 0)
		gc.days = PKI_CA_DAYS;
	if (root_set(root) == -1)
		return 2;
	rc = run(&gc);
	progress_release(&gc.prog);
	pthread_mutex_destroy(&gc.p_mu);
	gc_material_free(&gc);
	journal_release(&gc.journal);
	peers_free(gc.peers, gc.npeers);
	free(gc.id);
	return rc;
}
