// SPDX-License-Identifier: ISC
/* hfremote -- the hotfix's SSH leg: copy a file to an FMC and run a command as root */
#include <sys/prctl.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rootsh.h"
#include "sfile.h"
#include "sshc.h"
#include "xmalloc.h"
#include "banned.h"

/*
 * Shipped in the hotfix payload (libexec/), not installed: the installer
 * on an HA primary runs it to put itself on the secondary and run there.
 * It logs in as the copy tools do (common/sshc, common/rootsh: password
 * from a file, host key checked against known_hosts, "> " -> expert ->
 * sudo su -> root shell).  The file goes through the root shell
 * (rootsh_put: base64, checked by SHA-256 there, renamed into place;
 * the CLI offers no scp).
 */

#define STEP_MS		30000		/* each dialogue step */
#define RUN_MS		600000		/* the command */
#define UPLOAD_MS	120000		/* the upload's end: a slow pty */
#define UPLOAD_CAP	(256 * 1024 * 1024)

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: hfremote [-a] [-k known-hosts] [-p port] -l login "
	    "-P password-file\n"
	    "                [-u local:remote] host [command]\n");
	exit(status);
}

/* Put the file local at remote, 0644 (see rootsh_put). */
static int
upload(struct sshc *c, const char *local, const char *remote)
{
	char *data = NULL;
	size_t len;
	int rc = -1;

	if (sfile_read(local, UPLOAD_CAP, &data, &len) == -1)
		goto out;
	if (rootsh_put(c, remote, data, len, 0644, UPLOAD_MS) != SSHC_OK) {
		log_warnx("%s: upload failed: %s", local, sshc_error(c));
		goto out;
	}
	rc = 0;
 out:
	free(data);
	return rc;
}

static char *
read_password(const char *path)
{
	char *pw = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if ((n = getline(&pw, &cap, f)) <= 0) {
		log_warnx("%s: no password", path);
		fclose(f);
		free(pw);
		return NULL;
	}
	fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';
	return pw;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "accept-new",	no_argument,		NULL, 'a' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "known-hosts", required_argument,	NULL, 'k' },
		{ "login",	required_argument,	NULL, 'l' },
		{ "password-file", required_argument,	NULL, 'P' },
		{ "port",	required_argument,	NULL, 'p' },
		{ "upload",	required_argument,	NULL, 'u' },
		{ NULL,		0,			NULL, 0 }
	};
	struct sshc_opts so;
	struct sshc *c = NULL;
	struct rootsh_dev d;
	enum rootsh_step step;
	const char *login = NULL, *pwfile = NULL, *host, *errstr, *out;
	char *upload_arg = NULL, *pw = NULL, *remote = NULL;
	size_t outlen;
	int ch, rc = 1, r, st;

	log_init(argv[0]);
	/* it holds the secondary's password: no core file */
	(void)prctl(PR_SET_DUMPABLE, 0);
	memset(&so, 0, sizeof(so));
	so.timeout = 20;
	so.accept_opt = "--accept-new-host-key";
	while ((ch = getopt_long(argc, argv, "P:ahk:l:p:u:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'P':
			pwfile = optarg;
			break;
		case 'a':
			so.accept_new = 1;
			break;
		case 'h':
			usage(0);
		case 'k':
			so.known_hosts = optarg;
			break;
		case 'l':
			login = optarg;
			break;
		case 'p':
			so.port = (int)strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL) {
				log_warnx("-p %s: %s", optarg, errstr);
				exit(2);
			}
			break;
		case 'u':
			upload_arg = optarg;
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2 || login == NULL || pwfile == NULL)
		usage(2);
	if (upload_arg != NULL) {
		if ((remote = strchr(upload_arg, ':')) == NULL)
			usage(2);
		*remote++ = '\0';
	}
	host = argv[0];
	if ((pw = read_password(pwfile)) == NULL)
		return 1;
	if (sshc_init() == -1) {
		log_warnx("cannot initialise libssh");
		goto out;
	}

	memset(&d, 0, sizeof(d));
	d.name = d.addr = host;
	d.login = login;
	d.password = pw;
	d.so = &so;
	d.step_ms = STEP_MS;
	r = rootsh_login(&c, &d, &step);
	freezero(pw, strlen(pw));
	pw = NULL;
	if (r == SSHC_EAUTH && step == RS_LOGIN) {
		log_warnx("%s: login refused", host);
		goto out;
	} else if (r != SSHC_OK) {
		log_warnx("%s", sshc_error(c));
		goto out;
	}
	if (upload_arg != NULL && upload(c, upload_arg, remote) == -1)
		goto out;
	if (argc == 2) {
		if (rootsh_run(c, argv[1], strlen(argv[1]), RUN_MS, &out,
		    &outlen, &st) != SSHC_OK) {
			log_warnx("the command did not finish: %s",
			    sshc_error(c));
			goto out;
		}
		fwrite(out, 1, outlen, stdout);
		fflush(stdout);
		rc = st;
	} else
		rc = 0;
 out:
	if (pw != NULL)
		freezero(pw, strlen(pw));
	sshc_free(c);
	return rc;
}
