// SPDX-License-Identifier: ISC
/* check_ca_expiry -- tell how long the InternalCA has left, or a health alert */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_ca_expiry.h"
#include "conf.h"
#include "esc.h"
#include "log.h"
#include "peers.h"
#include "pki.h"
#include "root.h"
#include "version.h"
#include "xmalloc.h"
#include "banned.h"

#define VENDOR_SOON_DAYS 30

static int health_flag;

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
	    "usage: check_ca_expiry [-HhjpVv] [-c days] [-f cert] [-P file] "
	    "[-r root]\n"
	    "                       [-t time] [-w days]\n");
	if (status == 0)
		fputs("\n"
		    "Tell how long the InternalCA has left, in the vendor's "
		    "words; on an FTD, the\n"
		    "CA of each FMC it is registered with.\n"
		    "\n"
		    "  -c, --critical=days  with -H: critical when at most "
		    "days remain (default 0)\n"
		    "  -f, --file=cert      check this PEM certificate instead "
		    "of the tree's\n"
		    "  -H, --health         the FMC health alert's text, with "
		    "Nagios exit statuses\n"
		    "  -h, --help           print this help and exit 0\n"
		    "  -j, --json           one JSON object: validity, days "
		    "left, status, CA key,\n"
		    "                       peers' certificates (not -H)\n"
		    "  -P, --prom-file=file write the metrics of -p to file, "
		    "atomically (0644)\n"
		    "  -p, --prom           Prometheus metrics (text format) "
		    "on stdout (not -H, -j)\n"
		    "  -r, --root=root      the appliance root (default "
		    "$SFCA_ROOT, else /)\n"
		    "  -t, --at=time        at time, UTC: [@]epoch or "
		    "YYYY-MM-DD[( |T)HH:MM:SS[Z]]\n"
		    "  -V, --version        print the version and exit 0\n"
		    "  -v, --verbose        after the vendor's text: whether "
		    "the CA kept the key of\n"
		    "                       the CA it replaced (same, new, "
		    "unknown, refused), and\n"
		    "                       each peer certificate's expiry "
		    "(not -H, -j, -p)\n"
		    "  -w, --warning=days   with -H: warn when at most days "
		    "remain (default 90)\n"
		    "\n"
		    "Exit status: 0 valid for more than 30 days; 1 error (a "
		    "missing or bad\n"
		    "certificate, a tree that is neither FMC nor FTD); 2 usage "
		    "error, or a root\n"
		    "that is not a folder; 3 expires within the next 30 days; "
		    "4 expired.\n"
		    "With -H: 0 OK, 1 warning, 2 critical, 3 unknown (an "
		    "unreadable certificate,\n"
		    "a usage error).  With several certificates, the worst "
		    "status wins.\n"
		    "With -p or -P: 0 metrics written, 1 a certificate or the "
		    "tree could not be\n"
		    "read (the metrics say which: sfca_internal_ca_read_error, "
		    "written all the\n"
		    "same) or the file could not be written, 2 usage error "
		    "(nothing written).\n"
		    "\n"
		    SFCA_HELP_MAN("check_ca_expiry", "8"), f);
	if (status != 0 && health_flag)
		status = HC_UNKNOWN;
	exit(status);
}

/*
 * The five forms of check_ca_expiry.8, all UTC: "1729000000" or
 * "@1729000000", "2034-10-09", "2034-10-09T10:12:50Z",
 * "2034-10-09T10:12:50", "2034-10-09 10:12:50".
 */
static int
parse_time(const char *s, time_t *out)
{
	const char *formats[] = { "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S",
	    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", NULL };
	const char *errstr, *end;
	struct tm tm;
	size_t i;

	if (*s == '@')
		s++;
	if (*s != '\0' && strspn(s, "0123456789") == strlen(s)) {
		*out = (time_t)strtonum(s, 0, 253402300799LL, &errstr);
		return errstr == NULL ? 0 : -1;
	}
	for (i = 0; formats[i] != NULL; i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end != NULL && *end == '\0') {
			*out = timegm(&tm);
			return 0;
		}
	}
	return -1;
}

/* This FMC's APPLIANCE_UUID, allocated; NULL (reported) when unreadable. */
static char *
fmc_uuid(void)
{
	struct conf *cf;
	const char *v;
	char *path, *uuid = NULL;

	path = root_path(RP_IMS_CONF);
	if (conf_load(path, &cf) == 0) {
		if ((v = conf_get(cf, "APPLIANCE_UUID")) != NULL)
			uuid = xstrdup(v);
		else
			log_warnx("%s: no APPLIANCE_UUID", path);
		conf_free(cf);
	}
	free(path);
	return uuid;
}

/* Which CA certificates to look at: the FMC's own, or each FMC's on an FTD. */
static int
find_targets(const struct opts *o, struct target **out, size_t *n)
{
	struct target *t = NULL;
	struct peer *peers = NULL;
	size_t np = 0, cnt = 0, i;
	enum root_kind kind;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (o->file != NULL) {
		t = xcalloc(1, sizeof(*t));
		t->path = xstrdup(o->file);
		t->apath = xstrdup(o->file);
		*out = t;
		*n = 1;
		return 0;
	}
	switch ((kind = root_kind())) {
	case ROOT_FMC:
		t = xcalloc(1, sizeof(*t));
		t->path = root_path(RP_CA_CERT);
		t->apath = root_apath(RP_CA_CERT);
		t->own = 1;
		if (o->mode == M_PROM)		/* the metrics' label */
			t->fmc_uuid = fmc_uuid();
		cnt = 1;
		break;
	case ROOT_FTD:
		if (peers_load(&peers, &np) == -1)
			goto out;
		t = xcalloc(np == 0 ? 1 : np, sizeof(*t));
		for (i = 0; i < np; i++) {
			if (strcmp(peers[i].role, "fmc") != 0)
				continue;
			t[cnt].path = root_path("%s/%s/%s", RP_PEERS,
			    peers[i].uuid, PEERF_CACERT);
			t[cnt].apath = root_apath("%s/%s/%s", RP_PEERS,
			    peers[i].uuid, PEERF_CACERT);
			t[cnt].fmc = xstrdup(peers[i].name);
			t[cnt].fmc_uuid = xstrdup(peers[i].uuid);
			cnt++;
		}
		if (cnt == 0) {
			log_warnx("%s/%s: no FMC is registered on this FTD",
			    root_dir(), RP_PEERS);
			goto out;
		}
		break;
	default:
		log_warnx("%s: neither an FMC nor an FTD tree (no %s)",
		    root_dir(), RP_IMS_CONF);
		goto out;
	}
	*out = t;
	*n = cnt;
	t = NULL;		/* transferred */
	rc = 0;
 out:
	if (t != NULL) {
		for (i = 0; i < cnt; i++) {
			free(t[i].path);
			free(t[i].apath);
			free(t[i].fmc);
			free(t[i].fmc_uuid);
		}
		free(t);
	}
	peers_free(peers, np);
	return rc;
}

static void
iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strlcpy(buf, "?", len);
}

/*
 * The vendor one-liner's three outcomes (SPEC 2.1), word for word;
 * --verbose adds its lines after them (r), never among them.
 */
static int
report_text(const struct target *t, const struct pki_info *in, time_t now,
    int multi, const struct renewal *r)
{
	int st;

	long left = pki_days_until(in->not_after, now);
	char cn[ESC_SIZE(sizeof(in->cn))];

	/* the FMC's name (from sftunnel.json) is vis-encoded already */
	if (multi)
		printf("%s (%s, %s):\n", t->apath,
		    t->fmc != NULL ? t->fmc : "this FMC",
		    t->fmc_uuid != NULL ? t->fmc_uuid :
		    esc_vis(cn, sizeof(cn), in->cn));
	putchar('\n');
	if (in->not_after <= now) {
		printf("The certificate has expired %ld days ago.\n"
		    "In case the sftunnel communication with the FTD is not "
		    "yet lost, you need to take action immediately in renewing "
		    "the certificate.\n", pki_days_until(now, in->not_after));
		st = EX_EXPIRED;
	} else if (in->not_after <= now + VENDOR_SOON_DAYS * PKI_DAY) {
		printf("The certificate will expire within the next 30 days!\n"
		    "It is ONLY valid for %ld more days.\n"
		    "It is recommended to take action in renewing the "
		    "certificate as quickly as possible.\n", left);
		st = EX_SOON;
	} else {
		printf("The certificate is valid for more than 30 days.\n"
		    "It is valid for %ld more days.\n"
		    "There is no immediate need to perform action but this "
		    "depends on how far the expiry date is in the future.\n",
		    left);
		st = EX_VALID;
	}
	putchar('\n');
	if (r != NULL)
		renewal_text(t, r, now);
	return st;
}

/* The FMC health alert (SPEC 2.1); Nagios statuses. */
static int
report_health(const struct opts *o, const struct pki_info *in)
{
	long left = pki_days_until(in->not_after, o->now);

	if (in->not_after <= o->now) {
		printf("Firewall Management Center's internal root certificate "
		    "has expired. As a result, Firewall Threat Defense cannot "
		    "be managed and may experience degradation. Review the "
		    "Field Notice FN #74214 and regenerate the certificate.\n");
		return HC_CRITICAL;
	}
	if (in->not_after <= o->now + o->warn_days * PKI_DAY ||
	    in->not_after <= o->now + o->crit_days * PKI_DAY) {
		printf("Firewall Management Center's internal root certificate "
		    "is expiring in %ld days. If it expires, Firewall Threat "
		    "Defense cannot be managed and might experience "
		    "degradation. Review the Field Notice FN #74214 and "
		    "regenerate the certificate.\n", left);
		return in->not_after <= o->now + o->crit_days * PKI_DAY ?
		    HC_CRITICAL : HC_WARNING;
	}
	printf("Firewall Management Center's internal root certificate is "
	    "valid for %ld more days.\n", left);
	return HC_OK;
}

static int
report_json(const struct target *t, const struct pki_info *in, time_t now,
    int first, const struct renewal *r)
{
	char nb[32], na[32];
	long left = pki_days_until(in->not_after, now);
	int expired = in->not_after <= now;
	int soon = in->not_after <= now + VENDOR_SOON_DAYS * PKI_DAY;

	iso_time(in->not_before, nb, sizeof(nb));
	iso_time(in->not_after, na, sizeof(na));
	printf("%s\n    {\"path\": ", first ? "" : ",");
	json_str(t->apath);
	printf(", \"fmc\": ");
	if (t->fmc != NULL)
		json_str(t->fmc);
	else
		printf("null");
	printf(", \"subject\": ");
	json_str(in->subject);
	printf(", \"uuid\": ");
	json_str(in->cn);
	printf(", \"not_before\": \"%s\", \"not_after\": \"%s\", "
	    "\"not_after_epoch\": %lld, \"days_left\": %ld, "
	    "\"expired\": %s, \"status\": \"%s\"", nb, na,
	    (long long)in->not_after, left, expired ? "true" : "false",
	    expired ? "expired" : soon ? "expiring" : "valid");
	renewal_json(r, now);
	putchar('}');
	return expired ? EX_EXPIRED : soon ? EX_SOON : EX_VALID;
}

/* Worse of two statuses, in each mode's order. */
static int
worse(enum mode m, int a, int b)
{
	if (m == M_HEALTH) {
		/* UNKNOWN only wins over OK */
		if (a == HC_CRITICAL || b == HC_CRITICAL)
			return HC_CRITICAL;
		if (a == HC_WARNING || b == HC_WARNING)
			return HC_WARNING;
		return a > b ? a : b;
	}
	if (a == EX_ERROR || b == EX_ERROR)
		return EX_ERROR;
	return a > b ? a : b;
}

static int
check(const struct opts *o)
{
	struct target *t = NULL;
	struct pki_info in;
	struct renewal rn;
	struct peer *peers = NULL;
	size_t n = 0, np = 0, i;
	int status, r, printed = 0, more;
	X509 *c;

	status = o->mode == M_HEALTH ? HC_OK : EX_VALID;
	if (o->mode == M_PROM) {
		r = find_targets(o, &t, &n);
		status = prom_report(o, t, n, r == 0);
		goto out;
	}
	if (find_targets(o, &t, &n) == -1)
		return o->mode == M_HEALTH ? HC_UNKNOWN : EX_ERROR;
	/* what a renewal changed: the peers' certificates go with the CA */
	more = o->mode == M_JSON || (o->mode == M_TEXT && o->verbose);
	if (more && o->file == NULL && peers_load(&peers, &np) == -1) {
		status = EX_ERROR;
		goto out;
	}
	if (o->mode == M_JSON)
		printf("{\"now\": %lld, \"certificates\": [", (long long)o->now);
	for (i = 0; i < n; i++) {
		if ((c = pki_load_cert(t[i].path)) == NULL ||
		    pki_cert_info(c, &in) == -1) {
			r = o->mode == M_HEALTH ? HC_UNKNOWN : EX_ERROR;
		} else if (o->mode == M_HEALTH) {
			r = report_health(o, &in);
		} else if (more) {
			/* a problem here is said on stderr: not the CA's status */
			(void)renewal_load(&t[i], c, peers, np, &rn);
			if (o->mode == M_JSON)
				r = report_json(&t[i], &in, o->now,
				    printed++ == 0, &rn);
			else
				r = report_text(&t[i], &in, o->now, n > 1,
				    &rn);
			renewal_release(&rn);
		} else
			r = report_text(&t[i], &in, o->now, n > 1, NULL);
		X509_free(c);
		status = worse(o->mode, status, r);
	}
	if (o->mode == M_JSON)
		printf("\n]}\n");
 out:
	peers_free(peers, np);
	for (i = 0; i < n; i++) {
		free(t[i].path);
		free(t[i].apath);
		free(t[i].fmc);
		free(t[i].fmc_uuid);
	}
	free(t);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		return o->mode == M_HEALTH ? HC_UNKNOWN : EX_ERROR;
	}
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "critical",	required_argument,	NULL, 'c' },
		{ "file",	required_argument,	NULL, 'f' },
		{ "health",	no_argument,		NULL, 'H' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "prom",	no_argument,		NULL, 'p' },
		{ "prom-file",	required_argument,	NULL, 'P' },
		{ "root",	required_argument,	NULL, 'r' },
		{ "at",		required_argument,	NULL, 't' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "warning",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	struct opts o;
	const char *root = NULL, *errstr;
	int ch, bad = 0, help = 0, json = 0, version = 0;

	log_init(argv[0]);
	memset(&o, 0, sizeof(o));
	o.now = time(NULL);
	o.warn_days = 90;
	o.crit_days = 0;
	/*
	 * A usage error exits 3 (unknown) with -H, 2 without, wherever -H
	 * stands: so every option is parsed before any error is acted on.
	 */
	while ((ch = getopt_long(argc, argv, "HP:c:f:hjpr:t:Vvw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'H':
			health_flag = 1;
			break;
		case 'P':
			o.prom_file = optarg;
			break;
		case 'c':
			o.crit_days = strtonum(optarg, 0, 36500, &errstr);
			if (errstr != NULL) {
				log_warnx("--critical %s: %s", optarg, errstr);
				bad = 1;
			}
			break;
		case 'f':
			o.file = optarg;
			break;
		case 'h':
			help = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'p':
			o.prom_stdout = 1;
			break;
		case 'r':
			root = optarg;
			break;
		case 't':
			if (parse_time(optarg, &o.now) == -1) {
				log_warnx("--at %s: not [@]epoch seconds or "
				    "YYYY-MM-DD[( |T)HH:MM:SS[Z]]", optarg);
				bad = 1;
			}
			break;
		case 'V':
			version = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'w':
			o.warn_days = strtonum(optarg, 0, 36500, &errstr);
			if (errstr != NULL) {
				log_warnx("--warning %s: %s", optarg, errstr);
				bad = 1;
			}
			break;
		default:
			bad = 1;
		}
	}
	if (bad || optind != argc)
		usage(EX_USAGE);
	if (help)
		usage(0);
	if (version) {
		printf("check_ca_expiry (sfca) %s\n", SFCA_VERSION);
		return 0;
	}
	if (health_flag && json) {
		log_warnx("--health and --json exclude each other");
		usage(EX_USAGE);
	}
	if ((health_flag || json) && (o.prom_stdout || o.prom_file != NULL)) {
		log_warnx("--prom and --prom-file exclude --health and --json");
		usage(EX_USAGE);
	}
	if (o.verbose && (health_flag || json || o.prom_stdout ||
	    o.prom_file != NULL)) {
		log_warnx("--verbose is for the vendor's text: not with "
		    "--health, --json, --prom or --prom-file");
		usage(EX_USAGE);
	}
	if (o.prom_file != NULL && o.prom_file[0] == '\0') {
		log_warnx("--prom-file: empty path");
		usage(EX_USAGE);
	}
	o.mode = health_flag ? M_HEALTH : json ? M_JSON :
	    o.prom_stdout || o.prom_file != NULL ? M_PROM : M_TEXT;
	if (o.crit_days > o.warn_days) {
		log_warnx("--critical must not exceed --warning");
		usage(EX_USAGE);
	}
	/* a root that is not a folder is a usage error (3 with -H) */
	if (o.file == NULL && root_set(root) == -1)
		return o.mode == M_HEALTH ? HC_UNKNOWN : EX_USAGE;
	return check(&o);
}
