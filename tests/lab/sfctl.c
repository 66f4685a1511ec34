// SPDX-License-Identifier: ISC
/* sfctl -- lab tool: speak the sftunneld control protocol from the shell */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "root.h"
#include "sfile.h"
#include "version.h"
#include "banned.h"

/*
 * sfctl [-r root] status		the STATUS lines, decoded, one per peer
 * sfctl [-r root] reload		RELOAD
 * sfctl [-r root] push UUID FILE...	PUSH; the name pushed is FILE's
 *					basename; prints "OK name sha" or
 *					"ERR name reason" per file
 * Exit: 0 done (push: every file OK), 1 failure, 2 usage, 3 no daemon.
 */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: sfctl [-h] [-r root] status | reload | push uuid file ...\n");
	exit(status);
}

static int
do_status(void)
{
	struct ctl_peer *p = NULL;
	struct ctl_daemon d;
	size_t n, i;
	int rc;

	if ((rc = ctl_status(&p, &n, &d)) != 0)
		return rc;
	printf("daemon pid=%ld gen=%u kind=%s peers=%zu\n", (long)d.pid,
	    d.gen, d.kind, d.npeers);
	for (i = 0; i < n; i++)
		printf("%s %s %s %s chain=%s cn=%s issuer=%s key=%s "
		    "expires=%lld reason=%s\n", p[i].name, p[i].uuid,
		    p[i].up ? "up" : "down", p[i].tls, p[i].chain,
		    p[i].session_cn, p[i].session_issuer, p[i].session_key,
		    (long long)p[i].session_expires, p[i].disc_reason);
	free(p);
	return 0;
}

static int
do_push(const char *uuid, char **paths, size_t n)
{
	struct ctl_file f[CTL_PUSH_MAX];
	struct ctl_result res[CTL_PUSH_MAX];
	char *buf[CTL_PUSH_MAX];
	size_t len[CTL_PUSH_MAX], i, got = 0;
	const char *base;
	int rc = -1, allok = 1;

	if (n > CTL_PUSH_MAX)
		usage(2);
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < n; i++) {
		if (sfile_read(paths[i], SFILE_CAP, &buf[i], &len[i]) == -1)
			goto out;
		got = i + 1;
		base = strrchr(paths[i], '/');
		f[i].name = base != NULL ? base + 1 : paths[i];
		f[i].data = buf[i];
		f[i].len = len[i];
	}
	if ((rc = ctl_push(uuid, f, n, res, 30)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (res[i].ok)
			printf("OK %s %s\n", res[i].name, res[i].sha256);
		else {
			printf("ERR %s %s\n", res[i].name, res[i].reason);
			allok = 0;
		}
	}
	rc = allok ? 0 : -1;
 out:
	for (i = 0; i < got; i++)
		freezero(buf[i], len[i]);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "root",	required_argument,	NULL, 'r' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *root = NULL;
	int ch, rc;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "hr:", longopts, NULL)) != -1) {
		switch (ch) {
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
	if (argc < 1)
		usage(2);
	if (root_set(root) == -1)
		return 2;
	if (strcmp(argv[0], "status") == 0 && argc == 1)
		rc = do_status();
	else if (strcmp(argv[0], "reload") == 0 && argc == 1)
		rc = ctl_reload();
	else if (strcmp(argv[0], "push") == 0 && argc >= 3)
		rc = do_push(argv[1], argv + 2, (size_t)argc - 2);
	else
		usage(2);
	if (rc == CTL_NODAEMON) {
		log_warnx("sftunneld is not running");
		return 3;
	}
	return rc == 0 ? 0 : 1;
}
