// SPDX-License-Identifier: ISC
/* hfremote -- the hotfix's SSH leg: copy a file to an FMC and run a command as root */
#include <sys/prctl.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pki.h"
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
 * sudo su -> root shell).  The file goes through the root shell as
 * base64 (the CLI offers no scp), and is checked with sha256sum there.
 */

#define STEP_MS		30000		/* each dialogue step */
#define RUN_MS		600000		/* the command */
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

/*
 * Send local into remote: base64 lines typed into "base64 -d" on the
 * terminal, ended by ^D, into remote.part, renamed over remote once its
 * sha256 there matches ours.
 */
static int
upload(struct sshc *c, const char *local, const char *remote)
{
	char *data = NULL, *b64 = NULL, *q, *cmd;
	const char *out;
	char hex[65];
	size_t len, blen = 0, outlen;
	int rc = -1, st, status;

	q = rootsh_quote(remote);
	if (sfile_read(local, UPLOAD_CAP, &data, &len) == -1 ||
	    pki_sha256_hex(data, len, hex) == -1)
		goto out;
	b64 = rootsh_b64(data, len, &blen);
	/* the quotes keep the echo of the line from matching */
	cmd = xasprintf("echo SFCA_RE''ADY; base64 -d > %s.part; "
	    "echo SFCA_UP''LOADED\n", q);
	st = sshc_puts(c, cmd);
	free(cmd);
	if (st != SSHC_OK ||
	    sshc_read_until(c, "SFCA_READY\n", STEP_MS, NULL, NULL) !=
	    SSHC_OK ||
	    sshc_write(c, b64, blen) != SSHC_OK ||
	    sshc_write(c, "\004", 1) != SSHC_OK ||
	    sshc_read_until(c, "SFCA_UPLOADED\n", STEP_MS, NULL, NULL) !=
	    SSHC_OK) {
		log_warnx("%s: upload failed: %s", local, sshc_error(c));
		goto out;
	}
	cmd = xasprintf("if [ \"$(sha256sum < %s.part | cut -c1-64)\" = %s ]; "
	    "then mv -f %s.part %s; else rm -f %s.part; exit 1; fi\n", q, hex,
	    q, q, q);
	st = rootsh_run(c, cmd, strlen(cmd), STEP_MS, &out, &outlen, &status);
	free(cmd);
	if (st != SSHC_OK || status != 0) {
		log_warnx("%s: upload to %s failed (checksum)", local, remote);
		goto out;
	}
	rc = 0;
 out:
	free(b64);
	free(data);
	free(q);
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
	enum rootsh_landing landing;
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

	r = sshc_connect(&c, host, host, login, pw, &so);
	if (r == SSHC_EAUTH) {
		log_warnx("%s: login refused", host);
		goto out;
	} else if (r != SSHC_OK) {
		log_warnx("%s", sshc_error(c));
		goto out;
	}
	r = rootsh_open(c, pw, STEP_MS, &landing);
	freezero(pw, strlen(pw));
	pw = NULL;
	if (r == SSHC_EAUTH) {
		log_warnx("%s: sudo su: no root shell", host);
		goto out;
	} else if (r != SSHC_OK) {
		log_warnx("%s: no root shell: %s", host, sshc_error(c));
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
