// SPDX-License-Identifier: ISC
/* sftunnel_status -- the state of every sftunnel peer, and its certificates */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cahist.h"
#include "conf.h"
#include "ctl.h"
#include "esc.h"
#include "log.h"
#include "peers.h"
#include "pki.h"
#include "root.h"
#include "sfile.h"
#include "version.h"
#include "xmalloc.h"
#include "banned.h"

enum mode { M_FULL, M_BRIEF, M_JSON };

/* What this command knows of one peer, from the files and the daemon. */
struct row {
	struct peer	*p;
	struct ctl_peer	*live;		/* NULL: the daemon does not know it */
	time_t		 ca_na;		/* the CA's expiry, 0 when unknown */
	int		 ca_ok;		/* the CA file parsed */
	int		 chains;	/* the peer's certificate chains to it */
	time_t		 cert_na;	/* the peer's certificate's expiry */
	int		 cert_ok;	/* it parsed */
	char		 sw[ESC_SIZE(31)];	/* vis-encoded: the peer's words */
};

/*
 * What the daemon relays from a peer (a disconnect reason, the cipher it
 * agreed) is shown vis-encoded, as names are; one buffer per field of a
 * row.
 */
struct vrow {
	char	 reason[ESC_SIZE(sizeof(((struct ctl_peer *)0)->disc_reason))];
	char	 cipher[ESC_SIZE(sizeof(((struct ctl_peer *)0)->cipher))];
	char	 tls[ESC_SIZE(sizeof(((struct ctl_peer *)0)->tls))];
};

static void
vrow_fill(struct vrow *v, const struct ctl_peer *l)
{
	esc_vist(v->reason, sizeof(v->reason), l != NULL ? l->disc_reason : "");
	esc_vist(v->cipher, sizeof(v->cipher), l != NULL ? l->cipher : "");
	esc_vist(v->tls, sizeof(v->tls), l != NULL ? l->tls : "");
}

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: sftunnel_status [-bhjV] [-r root] "
	    "[peer-ip | peer-uuid]\n");
	if (status == 0)
		fputs("\n"
		    "Per peer: name, UUID, address, role, tunnel state and "
		    "times, heartbeats,\n"
		    "cipher, CA expiry, its certificate's own expiry and "
		    "whether it chains to\n"
		    "the current CA; first, whether the CA kept the key of the "
		    "CA it replaced\n"
		    "(CA key: same, new, unknown or refused).\n"
		    "All peers, or the one named by its address or UUID.\n"
		    "\n"
		    "  -b, --brief        one line per peer: name uuid ip role "
		    "up|down\n"
		    "  -h, --help         print this help and exit 0\n"
		    "  -j, --json         one JSON object: a daemon object, "
		    "ca_key, a peers array\n"
		    "  -r, --root=root    the appliance root (default "
		    "$SFCA_ROOT, else /)\n"
		    "  -V, --version      print the version and exit 0\n"
		    "\n"
		    "Exit status: 0 every peer shown is connected; 1 at least "
		    "one is not, the\n"
		    "daemon is not running, or a file or run folder of the "
		    "tree cannot be used;\n"
		    "2 error (unknown peer, a root that is not a folder or not "
		    "an appliance tree)\n"
		    "or usage error.\n"
		    "\n"
		    SFCA_HELP_MAN("sftunnel_status", "8"), f);
	exit(status);
}

static void
fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		strlcpy(buf, "never", len);
}

static int
live_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct ctl_peer *)a)->uuid,
	    ((const struct ctl_peer *)b)->uuid);
}

/*
 * A file of the tree that is there but cannot be used (not a regular
 * file, a symbolic link, malformed): reported when read, and the exit
 * status says so.
 */
static int bad_files;

/*
 * Parse a certificate: a missing one is a fact to show, quietly; one
 * that is there and unusable is reported.
 */
static X509 *
load_cert(const char *path)
{
	X509 *x = NULL;

	if (sfile_exists(path) && (x = pki_load_cert(path)) == NULL)
		bad_files++;
	return x;
}

static X509 *
load_in(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	X509 *x;

	x = load_cert(path);
	free(path);
	return x;
}

static void
read_sw(struct row *r)
{
	char *path = xasprintf("%s/%s", r->p->dir, PEERF_SWVERSION), *buf = NULL;
	size_t len;

	strlcpy(r->sw, "unknown", sizeof(r->sw));
	if (sfile_exists(path)) {
		if (sfile_read(path, 256, &buf, &len) == -1)
			bad_files++;
		else {
			buf[strcspn(buf, "\r\n")] = '\0';
			if (buf[0] != '\0') {
				if (strlen(buf) > 31)
					buf[31] = '\0';
				esc_vist(r->sw, sizeof(r->sw), buf);
			}
		}
	}
	free(buf);
	free(path);
}

/*
 * Certificate facts.  On an FMC: the certificate issued in the peer
 * folder against our CA (parsed once, by the caller).  On an FTD: our
 * identity from that FMC against that FMC's cacert.pem.  The
 * certificate's own expiry in either case.
 */
static void
cert_facts(struct row *r, X509 *own_ca, int ftd)
{
	X509 *ca = own_ca, *cert;

	if (ftd)
		ca = load_in(r->p->dir, PEERF_CACERT);
	if (ca != NULL && pki_validity(ca, NULL, &r->ca_na) == 0)
		r->ca_ok = 1;
	cert = load_in(r->p->dir, PEERF_CERT);
	if (cert != NULL && pki_validity(cert, NULL, &r->cert_na) == 0)
		r->cert_ok = 1;
	/*
	 * A running daemon keeps this fact per file change: asking it saves
	 * a signature check per peer, most of the time at 1000 peers.
	 */
	if (r->live != NULL && r->live->issued[0] != '\0')
		r->chains = strcmp(r->live->issued, "yes") == 0;
	else
		r->chains = pki_signed_by(cert, ca);
	X509_free(cert);
	if (ftd)
		X509_free(ca);
}

/* An expiry as "CA expiry:" and "Peer certificate expiry:" show it. */
static void
expiry_line(int ok, time_t na, char *buf, size_t len)
{
	char when[64];
	long days;

	if (!ok) {
		strlcpy(buf, "missing or unreadable", len);
		return;
	}
	pki_fmt_time(na, when, sizeof(when));
	days = pki_days_until(na, time(NULL));
	if (na <= time(NULL))
		snprintf(buf, len, "%s (EXPIRED %ld days ago)", when,
		    (long)((time(NULL) - na) / PKI_DAY));
	else
		snprintf(buf, len, "%s (%ld days left)", when, days);
}

/* Whether this FMC's CA kept the key of the CA it replaced. */
static void
ca_key_line(const struct cahist *h, int ftd)
{
	char *runs = root_apath("%s", RP_RUNS);

	switch (h->key) {
	case CAHIST_SAME:
		printf("CA key: same (as the CA replaced by the renewal "
		    "%s/%lld)\n", runs, h->run);
		break;
	case CAHIST_NEW:
		printf("CA key: new (not the key of the CA replaced by the "
		    "renewal %s/%lld)\n", runs, h->run);
		break;
	case CAHIST_REFUSED:
		printf("CA key: refused (a folder of %s failed the ownership "
		    "check and was not read)\n", runs);
		break;
	default:
		if (ftd)
			printf("CA key: unknown (renewals are recorded on the "
			    "FMC)\n");
		else
			printf("CA key: unknown (no backup of a replaced CA "
			    "in %s)\n", runs);
	}
	free(runs);
}

static void
print_full(const struct row *r, int running)
{
	const struct ctl_peer *l = r->live;
	struct vrow v;
	char t[64], ca[128];

	vrow_fill(&v, l);
	printf("**RUN STATUS****%s*************\n", r->p->ip);
	printf("Peer: %s, UUID %s, role %s\n", r->p->name, r->p->uuid,
	    r->p->role);
	if (l != NULL && l->up) {
		printf("Cipher used = %s (strength:%d bits)\n", v.cipher,
		    l->cipher_bits);
		printf("ChannelA Connected: Yes, %s\n", v.tls);
		printf("Registration: Completed.\n");
		fmt_time(l->since, t, sizeof(t));
		printf("IPv4 Connection to peer '%s' Start Time: %s\n",
		    r->p->ip, t);
	} else {
		printf("ChannelA Connected: No\n");
		fmt_time(l != NULL ? l->attempted : 0, t, sizeof(t));
		printf("Connection to peer '%s' Attempted at %s\n", r->p->ip,
		    t);
		fmt_time(l != NULL ? l->disc_time : 0, t, sizeof(t));
		printf("Last disconnect time : %s\n", t);
		printf("Last disconnect reason : %s\n", !running ?
		    "sftunneld is not running" : l != NULL &&
		    l->disc_reason[0] != '\0' ? v.reason : "none");
	}
	printf("PEER INFO:\n");
	printf("sw_version %s\n", r->sw);
	if (l != NULL && l->up) {
		fmt_time(l->hb_sent, t, sizeof(t));
		printf("Heartbeat Send Time: %s UTC\n", t);
		fmt_time(l->hb_recv, t, sizeof(t));
		printf("Heartbeat Received Time: %s UTC\n", t);
	}
	expiry_line(r->ca_ok, r->ca_na, ca, sizeof(ca));
	printf("CA expiry: %s\n", ca);
	expiry_line(r->cert_ok, r->cert_na, ca, sizeof(ca));
	printf("Peer certificate expiry: %s\n", ca);
	printf("Peer certificate chains to current CA: %s\n",
	    r->chains ? "Yes" : "No");
	if (l != NULL && l->up)
		printf("Session certificate chains to current CA: %s\n",
		    strcmp(l->chain, "yes") == 0 ? "Yes" :
		    strcmp(l->chain, "no") == 0 ? "No" : "Unknown");
	printf("\n");
}

/* "k":"v" and a comma; v may be anyone's bytes (esc_json). */
static void
json_str(const char *k, const char *v, int comma)
{
	char *j = esc_json(v);

	printf("\"%s\":%s%s", k, j, comma ? "," : "");
	free(j);
}

static void
json_num(const char *k, long long v, int comma)
{
	printf("\"%s\":%lld%s", k, v, comma ? "," : "");
}

static void
print_json_row(const struct row *r, int first)
{
	const struct ctl_peer *l = r->live;
	int up = l != NULL && l->up;
	struct vrow v;

	vrow_fill(&v, l);
	printf("%s\n  {", first ? "" : ",");
	json_str("name", r->p->name, 1);
	json_str("uuid", r->p->uuid, 1);
	json_str("ip", r->p->ip, 1);
	json_str("role", r->p->role, 1);
	json_str("state", up ? "up" : "down", 1);
	json_num("since", up ? (long long)l->since : 0, 1);
	json_num("attempted", l != NULL ? (long long)l->attempted : 0, 1);
	json_num("hb_sent", up ? (long long)l->hb_sent : 0, 1);
	json_num("hb_recv", up ? (long long)l->hb_recv : 0, 1);
	json_num("disc_time", l != NULL ? (long long)l->disc_time : 0, 1);
	json_str("disc_reason", v.reason, 1);
	json_str("cipher", up ? v.cipher : "", 1);
	json_num("cipher_bits", up ? l->cipher_bits : 0, 1);
	json_str("tls", up ? v.tls : "", 1);
	json_str("sw_version", r->sw, 1);
	json_num("ca_not_after", (long long)r->ca_na, 1);
	printf("\"ca_expired\":%s,", r->ca_ok && r->ca_na <= time(NULL) ?
	    "true" : "false");
	json_num("ca_days_left", r->ca_ok ? pki_days_until(r->ca_na,
	    time(NULL)) : 0, 1);
	printf("\"cert_chains\":%s,", r->chains ? "true" : "false");
	if (r->cert_ok) {
		json_num("cert_not_after", (long long)r->cert_na, 1);
		printf("\"cert_expired\":%s,", r->cert_na <= time(NULL) ?
		    "true" : "false");
		json_num("cert_days_left", pki_days_until(r->cert_na,
		    time(NULL)), 1);
	} else
		printf("\"cert_not_after\":null,\"cert_expired\":null,"
		    "\"cert_days_left\":null,");
	json_str("session_chain", up ? l->chain : "unknown", 0);
	printf("}");
}

static int
status(enum mode mode, const char *sel)
{
	struct peer *peers = NULL, *one;
	struct ctl_peer *live = NULL, key;
	struct ctl_daemon d;
	struct conf *cf = NULL;
	struct row *rows = NULL;
	struct cahist hist;
	size_t npeers = 0, nlive = 0, nrows = 0, i;
	X509 *ca = NULL;
	char t[64], *path;
	int rc = 2, crc, running, ftd, all_up;

	path = root_path(RP_IMS_CONF);
	if (conf_load(path, &cf) == -1) {
		free(path);
		return 2;
	}
	free(path);
	ftd = root_kind() == ROOT_FTD;
	if (peers_load(&peers, &npeers) == -1)
		goto out;
	rows = xcalloc(npeers > 0 ? npeers : 1, sizeof(*rows));
	if (sel != NULL) {
		if ((one = peers_find(peers, npeers, sel)) == NULL) {
			log_warnx("%s: no such peer", sel);
			goto out;
		}
		rows[nrows++].p = one;
	} else
		for (i = 0; i < npeers; i++)
			rows[nrows++].p = &peers[i];

	ctl_set_timeout(2);
	memset(&d, 0, sizeof(d));
	crc = ctl_status(&live, &nlive, &d);
	running = crc == 0;
	if (crc == 0)
		qsort(live, nlive, sizeof(*live), live_cmp);
	if (!ftd) {
		path = root_path(RP_CA_CERT);
		ca = load_cert(path);
		free(path);
	}
	/* the renewals of this FMC's CA are in its run folders */
	memset(&hist, 0, sizeof(hist));
	hist.run = -1;
	if (mode != M_BRIEF && cahist_compare(ca, &hist) == -1)
		bad_files++;
	all_up = running;
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		strlcpy(key.uuid, r->p->uuid, sizeof(key.uuid));
		r->live = running ? bsearch(&key, live, nlive, sizeof(*live),
		    live_cmp) : NULL;
		if (r->live == NULL || !r->live->up)
			all_up = 0;
		if (mode != M_BRIEF) {
			cert_facts(r, ca, ftd);
			read_sw(r);
		}
	}

	if (mode == M_BRIEF) {
		if (!running)
			log_warnx("sftunneld is not running");
		for (i = 0; i < nrows; i++)
			printf("%s %s %s %s %s\n", rows[i].p->name,
			    rows[i].p->uuid, rows[i].p->ip, rows[i].p->role,
			    rows[i].live != NULL && rows[i].live->up ? "up" :
			    "down");
	} else if (mode == M_JSON) {
		printf("{\"daemon\":{\"running\":%s,", running ? "true" :
		    "false");
		json_num("pid", running ? (long long)d.pid : 0, 1);
		json_num("started", running ? (long long)d.started : 0, 1);
		json_str("host", conf_get(cf, "HOSTNAME") ?
		    conf_get(cf, "HOSTNAME") : "", 1);
		json_str("uuid", conf_get(cf, "APPLIANCE_UUID") ?
		    conf_get(cf, "APPLIANCE_UUID") : "", 1);
		json_str("kind", ftd ? "ftd" : "fmc", 0);
		printf("},\n");
		json_str("ca_key", cahist_word(hist.key), 1);
		if (hist.run != -1)
			json_num("ca_key_run", hist.run, 1);
		else
			printf("\"ca_key_run\":null,");
		printf("\n\"peers\":[");
		for (i = 0; i < nrows; i++)
			print_json_row(&rows[i], i == 0);
		printf("\n]}\n");
	} else {
		if (running) {
			fmt_time(d.started, t, sizeof(t));
			printf("SFTUNNEL Start Time: %s\n", t);
		} else
			printf("SFTUNNEL is not running: every peer is "
			    "down\n");
		ca_key_line(&hist, ftd);
		printf("***********************\n");
		for (i = 0; i < nrows; i++)
			print_full(&rows[i], running);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		goto out;
	}
	rc = all_up && bad_files == 0 ? 0 : 1;
 out:
	X509_free(ca);
	free(live);
	free(rows);
	peers_free(peers, npeers);
	conf_free(cf);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "brief",	no_argument,		NULL, 'b' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "root",	required_argument,	NULL, 'r' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *root = NULL;
	enum mode mode = M_FULL;
	int ch;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "Vbhjr:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'V':
			printf("sftunnel_status (sfca) %s\n", SFCA_VERSION);
			return 0;
		case 'b':
			if (mode == M_JSON)
				usage(2);
			mode = M_BRIEF;
			break;
		case 'h':
			usage(0);
		case 'j':
			if (mode == M_BRIEF)
				usage(2);
			mode = M_JSON;
			break;
		case 'r':
			root = optarg;
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(2);
	if (root_set(root) == -1)
		return 2;
	if (root_kind() == ROOT_UNKNOWN) {
		log_warnx("%s: not an FMC or FTD tree", root_dir());
		return 2;
	}
	return status(mode, argc == 1 ? argv[0] : NULL);
}
