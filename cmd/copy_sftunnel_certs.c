// SPDX-License-Identifier: ISC
/* copy_sftunnel_certs -- on the FMC: put each device's new certificates in place over SSH */
#include <sys/prctl.h>
#include <sys/types.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bundle.h"
#include "csv.h"
#include "ctl.h"
#include "devreport.h"
#include "fileset.h"
#include "fleet.h"
#include "kit.h"
#include "log.h"
#include "progress.h"
#include "root.h"
#include "sshc.h"
#include "version.h"
#include "xmalloc.h"
#include "banned.h"

/* A canary failed: no other device was connected to. */
#define EXIT_CANARY	5

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: copy_sftunnel_certs [-AchJNnV] [-C canary] "
	    "[-H halt_after] [-j jobs]\n"
	    "                           [-k known_hosts] [-r root] "
	    "[-t timeout] [-w wait]\n"
	    "                           devices.csv\n"
	    "       copy_sftunnel_certs -K dir [-r root] [devices.csv]\n");
	if (status == 0)
		fputs("\n"
		    "On the FMC: log in to each device of devices.csv over "
		    "SSH, copy the sftunnel\n"
		    "files this FMC issued for it, restart its tunnel and see "
		    "it come back.\n"
		    "\n"
		    "  -A, --accept-new               record an unknown "
		    "device's host key\n"
		    "  -C, --canary=canary            finish this many devices "
		    "first (tunnel up);\n"
		    "                                 if one fails, stop and "
		    "touch no other (exit 5)\n"
		    "  -c, --check                    visit every device "
		    "read-only, change nothing,\n"
		    "                                 and say what each needs "
		    "(current, copy,\n"
		    "                                 unreachable, refused)\n"
		    "  -H, --halt-after=halt_after    start no device once "
		    "this many have failed\n"
		    "  -h, --help                     print this help and exit "
		    "0\n"
		    "  -J, --json                     one JSON document on "
		    "stdout instead of the\n"
		    "                                 table, the blocks on "
		    "stderr (not with -n)\n"
		    "  -j, --jobs=jobs                devices at a time (1 to "
		    "256, default 8)\n"
		    "  -K, --kit=dir                  write a console kit "
		    "(sh script) per device\n"
		    "                                 into dir, for those "
		    "nothing reaches; no CSV:\n"
		    "                                 every device of the "
		    "newest FAILED_PUSH\n"
		    "  -k, --known-hosts=known_hosts  host keys (default "
		    "~/.ssh/known_hosts)\n"
		    "  -N, --nat                      accept a device the FMC "
		    "has at another address\n"
		    "                                 (behind NAT), unless "
		    "another row has that address\n"
		    "  -n, --dry-run                  print the plan and "
		    "connect nowhere\n"
		    "  -r, --root=root                the FMC's root (default "
		    "$SFCA_ROOT, else /)\n"
		    "  -t, --timeout=timeout          seconds to connect (1 to "
		    "600, default 20)\n"
		    "  -V, --version                  print the version and "
		    "exit 0\n"
		    "  -w, --wait=wait                seconds to wait for the "
		    "tunnels (default 60)\n"
		    "\n"
		    "Exit status: 0 every device done or skipped (with -K: "
		    "every kit written);\n"
		    "1 at least one device failed (no kit), or the FMC's files "
		    "could not be read\n"
		    "(or the kit folder was refused); 2 usage error, a "
		    "root that is not a\n"
		    "folder, or a malformed devices.csv (no device touched).  "
		    "With --check: 0\n"
		    "every device current, 3 some need the copy (the others "
		    "current), 4 some\n"
		    "are unreachable or refused; 1 and 2 as above.\n"
		    "With --halt-after, a device not started counts as failed "
		    "(1).  5 a canary\n"
		    "failed (--canary): no other device was connected to.\n"
		    "\n"
		    SFCA_HELP_MAN("copy_sftunnel_certs", "8")
		    "  its CSV: man -l " SFCA_MANDIR "/man5/devices.csv.5\n", f);
	exit(status);
}

/* A device's block, whole, the progress line (if any) out of its way. */
static void
emit(const char *text, size_t len, void *arg)
{
	progress_clear(arg);
	fwrite(text, 1, len, stdout);
	fflush(stdout);
}

/* --json: stdout holds the document alone, the blocks go to stderr. */
static void
emit_err(const char *text, size_t len, void *arg)
{
	progress_clear(arg);
	fwrite(text, 1, len, stderr);
	fflush(stderr);
}

/* The line the first block follows, where the blocks go. */
static void
blocks_start(int json)
{
	FILE *f = json ? stderr : stdout;

	fputs("\n=====\n", f);
	fflush(f);
}

/* The FMC's own daemon says which peers are up, and since when. */
static int
local_up(void *arg, const char *const *uuids, const time_t *since, size_t n,
    int *up, char *err, size_t errlen)
{
	struct ctl_peer *p = NULL;
	size_t np = 0, i, k;
	int rc;

	if ((rc = ctl_status(&p, &np, NULL)) != 0) {
		snprintf(err, errlen, "%s", rc == CTL_NODAEMON ?
		    "sftunnel is not running on this FMC" :
		    "cannot read sftunnel's status");
		return -1;
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < np; k++)
			if (strcasecmp(p[k].uuid, uuids[i]) == 0 && p[k].up &&
			    p[k].since >= since[i] - 1)
				up[i] = 1;
	free(p);
	return 0;
}

static void
plan(const struct csv *c, const struct bundle *b)
{
	size_t i;

	printf("FMC %s (%s)%s%s\n", b->fmc_name, b->fmc_uuid,
	    b->failed_push[0] != '\0' ? ", " : "", b->failed_push);
	if (b->public_only)
		printf("Renewal on the same keys (%s is --extend): would copy "
		    "cacert.pem and sftunnel-cert.pem only, each device's "
		    "certificate only if it holds its key; no key\n", b->run);
	else
		printf("Renewal with new keys%s%s%s: would copy cacert.pem, "
		    "sftunnel-key.pem and sftunnel-cert.pem\n",
		    b->run[0] != '\0' ? " (" : "", b->run,
		    b->run[0] != '\0' ? ")" : "");
	for (i = 0; i < c->n; i++) {
		const struct csv_row *r = &c->rows[i];
		size_t k;
		const char *what = "not a peer of this FMC by address";

		for (k = 0; k < b->n; k++)
			if (strcmp(b->p[k].ip, r->addr) == 0) {
				what = strcmp(b->p[k].role, "fmc-ha") == 0 ?
				    "HA peer" : "FTD";
				break;
			}
		printf("%s:%zu: %s %s as %s: %s\n", c->path, r->line, r->name,
		    r->addr, r->login, what);
	}
}

/* -K: a console kit per device, nothing else touched. */
static int
make_kits(const char *dir, const char *csvpath, struct progress *prog)
{
	struct csv *c = NULL;
	struct fileset fs;
	struct bundle b;
	int rc = 1;

	memset(&fs, 0, sizeof(fs));
	memset(&b, 0, sizeof(b));
	if (csvpath != NULL && csv_load(csvpath, &c) == -1)
		return 2;
	if (bundle_load_tree(&fs) == -1 || bundle_build(&b, &fs) == -1)
		goto out;
	rc = kit_write_all(dir, c, &b, emit, prog) == 0 ? 0 : 1;
 out:
	bundle_release(&b);
	fileset_release(&fs);
	csv_free(c);
	return rc;
}


/*
 * --check: every device visited read-only, then the table (or the JSON
 * document); the status devreport_status says.
 */
static int
check(struct csv *c, const struct bundle *b, struct fleet_opts *fo,
    int json)
{
	struct dev_job *jobs = NULL;
	time_t at = time(NULL);
	char *s;
	int rc;

	fo->check = 1;
	fo->fmc_skew = 0;
	if (json)
		fo->emit = emit_err;
	blocks_start(json);
	fleet_run(c, b, -1, fo, &jobs);
	progress_clear(fo->tally_arg);
	s = json ? devreport_json(b, jobs, c->n, at) :
	    devreport_table(jobs, c->n);
	fputs(s, stdout);
	free(s);
	rc = devreport_status(jobs, c->n);
	fleet_free(jobs, c->n);
	return rc;
}

static int
copy_certs(const char *csvpath, struct fleet_opts *fo, int dry, int chk,
    int json)
{
	struct csv *c = NULL;
	struct fileset fs;
	struct bundle b;
	struct dev_job *jobs = NULL;
	struct fleet_outcome res;
	time_t at;
	char *sum, *note;
	int all_done, go, rc = 2;

	memset(&fs, 0, sizeof(fs));
	memset(&b, 0, sizeof(b));
	if (csv_load(csvpath, &c) == -1)
		return 2;
	if (bundle_load_tree(&fs) == -1 || bundle_build(&b, &fs) == -1) {
		rc = 1;
		goto out;
	}
	if (dry) {
		plan(c, &b);
		rc = 0;
		goto out;
	}
	if (sshc_init() == -1) {
		log_warnx("cannot initialise libssh");
		rc = 1;
		goto out;
	}
	if (chk) {
		rc = check(c, &b, fo, json);
		goto out;
	}
	if (json)
		fo->emit = emit_err;
	blocks_start(json);
	at = time(NULL);
	go = fleet_go(c, &b, -1, fo, local_up, NULL, &jobs, &res);
	progress_clear(fo->tally_arg);
	all_done = fleet_all_done(jobs, c->n);
	rc = go == FLEET_CANARY_FAILED ? EXIT_CANARY : all_done ? 0 : 1;
	if (json) {
		sum = devreport_copy_json(&b, jobs, c->n, at, &res, rc);
		fputs(sum, stdout);
		free(sum);
		goto out;
	}
	sum = fleet_summary(jobs, c->n, &all_done);
	fputs("\n", stdout);
	fputs(sum, stdout);
	note = fleet_note(&res, jobs);
	if (note[0] != '\0')
		printf("\n%s", note);
	free(sum);
	free(note);
 out:
	if (jobs != NULL)
		fleet_free(jobs, c->n);
	bundle_release(&b);
	fileset_release(&fs);
	csv_free(c);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "accept-new",	no_argument,		NULL, 'A' },
		{ "canary",	required_argument,	NULL, 'C' },
		{ "check",	no_argument,		NULL, 'c' },
		{ "halt-after",	required_argument,	NULL, 'H' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, 'J' },
		{ "jobs",	required_argument,	NULL, 'j' },
		{ "kit",	required_argument,	NULL, 'K' },
		{ "known-hosts", required_argument,	NULL, 'k' },
		{ "nat",	no_argument,		NULL, 'N' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "root",	required_argument,	NULL, 'r' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "wait",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	struct fleet_opts fo;
	struct progress prog;
	const char *rootdir = NULL, *kitdir = NULL;
	int ch, dry = 0, chk = 0, json = 0, rc;

	log_init(argv[0]);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	progress_init(&prog);
	fleet_opts_init(&fo, emit, &prog);
	fo.tally = fleet_progress;
	fo.tally_arg = &prog;
#ifdef SFCA_TEST_HOOKS
	/* the test hook of the man page, read here, never in libsfca */
	fleet_test_drop(&fo, getenv("SFCA_TEST_DROP_AFTER"));
	fleet_test_slot_wait(&fo, getenv("SFCA_TEST_SLOT_WAIT_MS"));
#endif
	while ((ch = getopt_long(argc, argv, "AC:cH:hJj:K:k:Nnr:t:Vw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			chk = 1;
			break;
		case 'h':
			usage(0);
		case 'J':
			json = 1;
			break;
		case 'K':
			kitdir = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'r':
			rootdir = optarg;
			break;
		case 'V':
			printf("copy_sftunnel_certs (sfca) %s\n", SFCA_VERSION);
			exit(0);
		default:
			if (fleet_opt(&fo, ch, optarg) != 1)
				usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (kitdir != NULL ? argc > 1 || dry || chk || json : argc != 1)
		usage(2);
	if ((json && dry) || (chk && dry))
		usage(2);
	if (root_set(rootdir) == -1)
		exit(2);
	if (kitdir != NULL)
		rc = make_kits(kitdir, argc == 1 ? argv[0] : NULL, &prog);
	else
		rc = copy_certs(argv[0], &fo, dry, chk, json);
	fleet_opts_release(&fo);
	progress_release(&prog);
	return rc;
}
