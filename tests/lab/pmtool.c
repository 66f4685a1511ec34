// SPDX-License-Identifier: ISC
/* pmtool -- the lab's process manager: restart sftunnel by id */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "root.h"
#include "sfile.h"
#include "version.h"
#include "banned.h"

#define WAIT_MS	10000

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: pmtool [-hV] [-r root] restartbyid id\n");
	exit(status);
}

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The daemon's pid from its pidfile, when it is alive; else -1. */
static pid_t
daemon_pid(void)
{
	char *path, *buf = NULL;
	size_t len;
	long pid = -1;

	path = root_path(RP_PIDFILE);
	if (sfile_exists(path)) {
		log_quiet(1);
		if (sfile_read(path, 64, &buf, &len) == 0)
			pid = strtol(buf, NULL, 10);
		log_quiet(0);
	}
	if (pid <= 0 || kill((pid_t)pid, 0) == -1) {
		log_warnx("sftunnel: not running (no live pid in %s)", path);
		pid = -1;
	}
	free(buf);
	free(path);
	return (pid_t)pid;
}

/* 0 with d filled when the daemon answers STATUS, else -1 (quietly). */
static int
status(struct ctl_daemon *d)
{
	struct ctl_peer *p = NULL;
	size_t n;
	int rc;

	log_quiet(1);
	rc = ctl_status(&p, &n, d);
	log_quiet(0);
	free(p);
	return rc == 0 ? 0 : -1;
}

static int
restart_sftunnel(void)
{
	struct ctl_daemon before, now;
	int have_before, waited;
	pid_t pid;

	if ((pid = daemon_pid()) == -1)
		return -1;
	memset(&before, 0, sizeof(before));
	have_before = status(&before) == 0;
	if (kill(pid, SIGHUP) == -1) {
		log_warn("sftunnel: pid %ld", (long)pid);
		return -1;
	}
	ctl_set_timeout(1);
	for (waited = 0; waited < WAIT_MS; waited += 100) {
		nap(100);
		if (status(&now) == 0 && now.pid == pid &&
		    (!have_before || now.gen != before.gen))
			return 0;
		if (kill(pid, 0) == -1) {
			log_warnx("sftunnel: pid %ld died while restarting",
			    (long)pid);
			return -1;
		}
	}
	log_warnx("sftunnel: no answer on the control socket %d seconds "
	    "after the restart", WAIT_MS / 1000);
	return -1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "root",	required_argument,	NULL, 'r' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *root = NULL;
	int ch;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "Vhr:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("pmtool (sfca) %s\n", SFCA_VERSION);
			return 0;
		case 'h':
			usage(0);
		case 'r':
			root = optarg;
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || strcmp(argv[0], "restartbyid") != 0)
		usage(2);
	if (strcmp(argv[1], "sftunnel") != 0) {
		log_warnx("%s: unknown process id", argv[1]);
		return 2;
	}
	if (root_set(root) == -1)
		return 2;
	return restart_sftunnel() == 0 ? 0 : 1;
}
