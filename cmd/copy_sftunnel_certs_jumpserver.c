// SPDX-License-Identifier: ISC
/* copy_sftunnel_certs_jumpserver -- from a jump host: fetch from the FMC, then copy to each device */
#include <sys/prctl.h>
#include <sys/types.h>

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "bundle.h"
#include "csv.h"
#include "devcopy.h"
#include "devreport.h"
#include "fileset.h"
#include "fleet.h"
#include "log.h"
#include "progress.h"
#include "rootsh.h"
#include "sshc.h"
#include "version.h"
#include "xmalloc.h"
#include "banned.h"

#define FETCH_MS	120000
/*
 * The FMC's answer to the fetch is every peer's files as base64 (about
 * 10 KB a peer): its session may send this much, a device 4 MiB.
 */
#define FETCH_RX_MAX	((size_t)512 * 1024 * 1024)

/* The FMC's session, kept open for the tunnel checks at the end. */
struct fmc {
	struct sshc	*c;
	long		 skew;		/* FMC clock minus ours, seconds */
	int		 ok;
};

/* A canary failed: no other device was connected to. */
#define EXIT_CANARY	5

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: copy_sftunnel_certs_jumpserver [-AchJNnV] [-C canary] "
	    "[-H halt_after]\n"
	    "                                      [-j jobs] [-K dir] "
	    "[-k known_hosts]\n"
	    "                                      [-t timeout] [-w wait] "
	    "devices.csv\n");
	if (status == 0)
		fputs("\n"
		    "From a jump host: fetch the FMC's sftunnel files over SSH "
		    "(the CSV row marked\n"
		    "fmc), then do what copy_sftunnel_certs does for every "
		    "other row.\n"
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
		    "  -K, --keep=dir                 also write the fetched "
		    "files under dir\n"
		    "  -k, --known-hosts=known_hosts  host keys (default "
		    "~/.ssh/known_hosts)\n"
		    "  -N, --nat                      accept a device the FMC "
		    "has at another address\n"
		    "                                 (behind NAT), unless "
		    "another row has that address\n"
		    "  -n, --dry-run                  print the plan from the "
		    "CSV, connect nowhere\n"
		    "  -t, --timeout=timeout          seconds to connect (1 to "
		    "600, default 20)\n"
		    "  -V, --version                  print the version and "
		    "exit 0\n"
		    "  -w, --wait=wait                seconds to wait for the "
		    "tunnels (default 60)\n"
		    "\n"
		    "Exit status: 0 every device done or skipped; 1 at least "
		    "one device failed,\n"
		    "or the FMC could not be reached or read; 2 usage error, a "
		    "malformed\n"
		    "devices.csv, or not exactly one row marked fmc (nothing "
		    "touched).\n"
		    "With --check: 0 every device current, 3 some need the "
		    "copy (the others\n"
		    "current), 4 some are unreachable or refused; 1 and 2 as "
		    "above.\n"
		    "With --halt-after, a device not started counts as failed "
		    "(1).  5 a canary\n"
		    "failed (--canary): no other device was connected to.\n"
		    "\n"
		    SFCA_HELP_MAN("copy_sftunnel_certs_jumpserver", "8")
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

/* The FMC's block, where the blocks go. */
static void
fmc_block(const struct dev_job *fj, int json)
{
	FILE *f = json ? stderr : stdout;
	char *text;

	text = xasprintf("\n%s\n=====\n", fj->out.s);
	fputs(text, f);
	fflush(f);
	free(text);
}

/*
 * Seen up: sftunnel_status --brief says up (when it is installed on the
 * FMC) and the peer's heartbeat file on the FMC was touched after the
 * device's restart (FMC clock).
 */
static int
remote_up(void *arg, const char *const *uuids, const time_t *since, size_t n,
    int *up, char *err, size_t errlen)
{
	struct fmc *f = arg;
	char *s, *t, line[128];
	const char *out, *p;
	size_t i, outlen;
	int st;

	if (!f->ok) {
		snprintf(err, errlen, "no session to the FMC");
		return -1;
	}
	s = xstrdup("st=$(command -v sftunnel_status)\nfor a in");
	for (i = 0; i < n; i++) {
		t = xasprintf("%s '%s:%lld'", s, uuids[i],
		    (long long)(since[i] + f->skew - 1));
		free(s);
		s = t;
	}
	t = xasprintf("%s; do\n"
	    "  u=${a%%:*} s=${a#*:}\n"
	    "  if [ -n \"$st\" ]; then \"$st\" --brief \"$u\" 2>/dev/null | "
	    "grep -q ' up$' || continue; fi\n"
	    "  m=$(stat -c %%Y \"/var/sf/peers/$u/sftunnel-heartbeat\" "
	    "2>/dev/null) || continue\n"
	    "  [ \"$m\" -ge \"$s\" ] && echo \"UP $u\"\n"
	    "done\nexit 0\n", s);
	free(s);
	if (rootsh_run(f->c, t, strlen(t), 30000, &out, &outlen, &st) !=
	    SSHC_OK) {
		snprintf(err, errlen, "%s", sshc_error(f->c));
		f->ok = 0;
		free(t);
		return -1;
	}
	free(t);
	for (p = out; p < out + outlen; ) {
		const char *e = memchr(p, '\n', out + outlen - p);
		size_t l = e == NULL ? (size_t)(out + outlen - p) :
		    (size_t)(e - p);

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		if (strncmp(line, "UP ", 3) == 0)
			for (i = 0; i < n; i++)
				if (strcmp(line + 3, uuids[i]) == 0)
					up[i] = 1;
		p += l + 1;
	}
	return 0;
}

#ifdef SFCA_TEST_HOOKS
/*
 * The test hook of the man page: SFCA_TEST_FETCHED names a file that
 * gets the path of every file the FMC sent, one a line, so that a test
 * sees what travelled.
 */
static void
fetched_names(const struct fileset *fs)
{
	const char *path = getenv("SFCA_TEST_FETCHED");
	FILE *fp;
	size_t i;
	int fd;

	if (path == NULL || (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return;
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return;
	}
	for (i = 0; i < fs->n; i++)
		if (fs->f[i].path != NULL)
			fprintf(fp, "%s\n", fs->f[i].path);
	fclose(fp);
}
#endif

/* Log in to the FMC, fetch the files; the FMC's block goes in j->out. */
static int
fetch(struct dev_job *j, const struct sshc_opts *so, int step_ms,
    struct fmc *f, struct fileset *fs)
{
	struct rootsh_dev d;
	struct sshc_opts fso = *so;
	enum rootsh_step step;
	const char *out, *nl;
	char *script;
	size_t outlen;
	long long fmcnow;
	int rc, st;

	blk_add(&j->out, "Attempting connection to %s", j->row->name);
	memset(&d, 0, sizeof(d));
	d.name = j->row->name;
	d.addr = j->row->addr;
	d.login = j->row->login;
	d.password = j->row->password;
	fso.rx_max = FETCH_RX_MAX;
	d.so = &fso;
	d.step_ms = step_ms;
	rc = rootsh_login(&f->c, &d, &step);
	csv_row_wipe(j->row);
	if (rc != SSHC_OK && step != RS_ROOT) {
		snprintf(j->reason, sizeof(j->reason), "%s",
		    sshc_error(f->c));
		blk_add(&j->out, "Could not connect to %s%s%s", j->row->name,
		    rc == SSHC_ECONNECT ? "" : ": ",
		    rc == SSHC_ECONNECT ? "" : sshc_error(f->c));
		return -1;
	}
	blk_add(&j->out, "Connected to %s", j->row->name);
	if (rc != SSHC_OK) {
		snprintf(j->reason, sizeof(j->reason), "%s",
		    sshc_error(f->c));
		blk_add(&j->out, "Could not get a root shell on %s",
		    j->row->name);
		return -1;
	}
	blk_add(&j->out, "Fetching certificates from %s", j->row->name);
	if (rootsh_run(f->c, "date +%s\n", 9, step_ms, &out, &outlen, &st) ==
	    SSHC_OK && st == 0 && sscanf(out, "%lld", &fmcnow) == 1)
		f->skew = (long)(fmcnow - (long long)time(NULL));
	script = bundle_fetch_script();
	rc = rootsh_run(f->c, script, strlen(script), FETCH_MS, &out, &outlen,
	    &st);
	free(script);
	if (rc == SSHC_OK && st == 3) {
		/* the FMC's FAILED_PUSH folder is not root's: its one line */
		while (outlen > 0 && out[outlen - 1] == '\n')
			outlen--;
		for (nl = out + outlen; nl > out && nl[-1] != '\n'; nl--)
			;
		(void)strnvisx(j->reason, sizeof(j->reason), nl,
		    outlen - (size_t)(nl - out), VIS_SAFE);
		blk_add(&j->out, "Could not fetch certificates from %s",
		    j->row->name);
		return -1;
	}
	if (rc != SSHC_OK || st != 0) {
		snprintf(j->reason, sizeof(j->reason), "cannot fetch the "
		    "certificates: %s", rc != SSHC_OK ? sshc_error(f->c) :
		    "tar failed on the FMC");
		blk_add(&j->out, "Could not fetch certificates from %s",
		    j->row->name);
		return -1;
	}
	/* The archive is the last line: skip anything tar warned. */
	while (outlen > 0 && out[outlen - 1] == '\n')
		outlen--;
	for (nl = out + outlen; nl > out && nl[-1] != '\n'; nl--)
		;
	if (fileset_from_b64tar(fs, nl, outlen - (size_t)(nl - out)) == -1) {
		snprintf(j->reason, sizeof(j->reason), "the fetched archive "
		    "is corrupt");
		return -1;
	}
#ifdef SFCA_TEST_HOOKS
	fetched_names(fs);
#endif
	f->ok = 1;
	return 0;
}

static int
jump(const char *csvpath, struct fleet_opts *fo, int dry,
    const char *keep, int chk, int json)
{
	struct csv *c = NULL;
	struct fileset fs;
	struct bundle b;
	struct dev_job *jobs = NULL, fj;
	struct fmc f;
	ssize_t fi = -1;
	size_t i;
	struct fleet_outcome res;
	time_t at;
	char *sum, *text, *note;
	int all_done, go, rc = 2;

	memset(&fs, 0, sizeof(fs));
	memset(&b, 0, sizeof(b));
	memset(&f, 0, sizeof(f));
	memset(&fj, 0, sizeof(fj));
	if (csv_load(csvpath, &c) == -1)
		return 2;
	for (i = 0; i < c->n; i++) {
		if (!c->rows[i].is_fmc)
			continue;
		if (fi != -1) {
			log_warnx("%s:%zu: a second row marked fmc", c->path,
			    c->rows[i].line);
			goto out;
		}
		fi = (ssize_t)i;
	}
	if (fi == -1) {
		log_warnx("%s: no row is marked fmc (fifth field)", c->path);
		goto out;
	}
	if (dry) {
		for (i = 0; i < c->n; i++)
			printf("%s:%zu: %s %s as %s: %s\n", c->path,
			    c->rows[i].line, c->rows[i].name, c->rows[i].addr,
			    c->rows[i].login, (ssize_t)i == fi ?
			    "the FMC (certificates are fetched from it)" :
			    "device");
		printf("The FMC's newest renewal, read once fetched, says "
		    "what is copied: after generate_certs --extend, "
		    "cacert.pem and sftunnel-cert.pem only, no key\n");
		rc = 0;
		goto out;
	}
	rc = 1;
	if (sshc_init() == -1) {
		log_warnx("cannot initialise libssh");
		goto out;
	}
	if (json)
		fo->emit = emit_err;
	fputs("\n=====\n", json ? stderr : stdout);
	at = time(NULL);
	fj.row = &c->rows[fi];
	if (fetch(&fj, &fo->so, fo->step_ms, &f, &fs) == -1 ||
	    bundle_build(&b, &fs) == -1) {
		if (fj.reason[0] == '\0')
			strlcpy(fj.reason, "the FMC's files are unusable",
			    sizeof(fj.reason));
		blk_add(&fj.out, "Closing connection with %s", fj.row->name);
		fmc_block(&fj, json);
		if (json)
			log_warnx("%s: %s; no device was touched",
			    fj.row->name, fj.reason);
		else
			printf("\n%s: %s: %s; no device was touched\n",
			    log_prog(), fj.row->name, fj.reason);
		goto out;
	}
	blk_add(&fj.out, "Fetched certificates for %zu peers of %s%s%s",
	    b.n, fj.row->name, b.failed_push[0] != '\0' ? " using " : "",
	    b.failed_push);
	if (b.public_only)
		blk_add(&fj.out, "Renewal on the same keys (%s is --extend): "
		    "copying cacert.pem and sftunnel-cert.pem only, each "
		    "device's certificate only if it holds its key; no key",
		    b.run);
	if (keep != NULL && fileset_keep(&b.fs, keep) == -1)
		goto out;
	fmc_block(&fj, json);
	blk_release(&fj.out);
	if (chk) {
		/* read-only: every device against the FMC's clock and files */
		fo->check = 1;
		fo->fmc_skew = f.skew;
		fleet_run(c, &b, fi, fo, &jobs);
		progress_clear(fo->tally_arg);
		blk_add(&fj.out, "Closing connection with %s", fj.row->name);
		fmc_block(&fj, json);
		text = json ? devreport_json(&b, jobs, c->n, at) :
		    devreport_table(jobs, c->n);
		fputs(text, stdout);
		free(text);
		rc = devreport_status(jobs, c->n);
		goto out;
	}
	go = fleet_go(c, &b, fi, fo, remote_up, &f, &jobs, &res);
	progress_clear(fo->tally_arg);
	jobs[fi].state = DEV_SKIPPED;
	snprintf(jobs[fi].reason, sizeof(jobs[fi].reason), "the FMC: "
	    "certificates fetched");
	blk_add(&fj.out, "Closing connection with %s", fj.row->name);
	fmc_block(&fj, json);
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
	sshc_free(f.c);
	blk_release(&fj.out);
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
		{ "keep",	required_argument,	NULL, 'K' },
		{ "known-hosts", required_argument,	NULL, 'k' },
		{ "nat",	no_argument,		NULL, 'N' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "wait",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	struct fleet_opts fo;
	struct progress prog;
	const char *keep = NULL;
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
	while ((ch = getopt_long(argc, argv, "AC:cH:hJK:j:k:Nnt:Vw:", longopts,
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
			keep = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'V':
			printf("copy_sftunnel_certs_jumpserver (sfca) %s\n",
			    SFCA_VERSION);
			exit(0);
		default:
			if (fleet_opt(&fo, ch, optarg) != 1)
				usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || (json && dry) || (chk && dry))
		usage(2);
	rc = jump(argv[0], &fo, dry, keep, chk, json);
	fleet_opts_release(&fo);
	progress_release(&prog);
	return rc;
}
