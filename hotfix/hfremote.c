// SPDX-License-Identifier: ISC
/* hfremote -- the hotfix's SSH leg: copy a file to an FMC and run a command as root */
#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
 * the CLI offers no scp) into a folder made for it by mktemp -d, where
 * the command then runs; the folder goes when the command ends.
 */

#define STEP_MS		30000		/* each dialogue step */
#define RUN_MS		600000		/* the command */
#define UPLOAD_MS	120000		/* the upload's end: a slow pty */
#define UPLOAD_CAP	(256 * 1024 * 1024)
#define TMP_TEMPLATE	"/var/tmp/sfca-hotfix.XXXXXXXXXX"	/* ten X's */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: hfremote [-a] [-k known-hosts] [-p port] -l login "
	    "-P password-file\n"
	    "                [-u local:name] [--] host [command]\n");
	exit(status);
}

/*
 * A fresh folder for the upload, made by mktemp -d (0700, a name nobody
 * could make before us), so that nothing a local user of the host
 * placed in /var/tmp is written to, followed or run.  Its path, or NULL.
 */
static char *
make_folder(struct sshc *c)
{
	static const char script[] = "mktemp -d " TMP_TEMPLATE "\n";
	const char *out;
	size_t outlen, n = strlen(TMP_TEMPLATE);
	int st;

	if (rootsh_run(c, script, sizeof(script) - 1, STEP_MS, &out, &outlen,
	    &st) != SSHC_OK) {
		log_warnx("cannot make a folder for the upload: %s",
		    sshc_error(c));
		return NULL;
	}
	while (outlen > 0 && out[outlen - 1] == '\n')
		outlen--;
	/* the template's prefix, then the X's as letters and digits */
	if (st != 0 || outlen != n || memcmp(out, TMP_TEMPLATE, n - 10) != 0 ||
	    strspn(out + n - 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789") != 10) {
		log_warnx("cannot make a folder for the upload: mktemp -d "
		    "failed on the host");
		return NULL;
	}
	return xasprintf("%.*s", (int)outlen, out);
}

/* Remove the upload's folder (the session may be gone: then say so). */
static void
remove_folder(struct sshc *c, const char *dir)
{
	const char *out;
	char *q = rootsh_quote(dir), *s;
	size_t outlen;
	int st = 0;

	s = xasprintf("rm -rf -- %s\n", q);
	if (rootsh_run(c, s, strlen(s), STEP_MS, &out, &outlen, &st) !=
	    SSHC_OK || st != 0)
		log_warnx("%s: left on the host: %s", dir, st != 0 ?
		    "rm -rf failed" : sshc_error(c));
	free(s);
	free(q);
}

/* Put the file local at dir/name, 0600 (see rootsh_put). */
static int
upload(struct sshc *c, const char *local, const char *dir, const char *name)
{
	char *data = NULL, *path;
	size_t len;
	int rc = -1;

	path = xasprintf("%s/%s", dir, name);
	if (sfile_read(local, UPLOAD_CAP, &data, &len) == -1)
		goto out;
	if (rootsh_put(c, path, data, len, 0600, UPLOAD_MS) != SSHC_OK) {
		log_warnx("%s: upload failed: %s", local, sshc_error(c));
		goto out;
	}
	rc = 0;
 out:
	free(data);
	free(path);
	return rc;
}

#define PW_MAX	1024	/* a password file's first line, at most */

/*
 * The first line of path (a file, or /dev/stdin on a pipe), in an
 * xmalloc_secret block of *size bytes; read with read(2), not stdio,
 * whose buffer would be freed unwiped.
 */
static char *
read_password(const char *path, size_t *size)
{
	char *pw;
	size_t len = 0, n;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_warn("%s", path);
		return NULL;
	}
	*size = PW_MAX;
	pw = xmalloc_secret(PW_MAX);	/* zeroed: always NUL-terminated */
	while (len < PW_MAX - 1) {
		r = read(fd, pw + len, PW_MAX - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(pw + len - r, '\n', (size_t)r) != NULL)
			break;
	}
	close(fd);
	n = strcspn(pw, "\r\n");
	explicit_bzero(pw + n, PW_MAX - n);
	if (n == 0) {
		log_warnx("%s: no password", path);
		xfree_secret(pw, PW_MAX);
		return NULL;
	}
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
	char *upload_arg = NULL, *pw = NULL, *name = NULL, *dir = NULL;
	char *q, *script;
	size_t pwsize = 0;
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
		if ((name = strrchr(upload_arg, ':')) == NULL)
			usage(2);
		*name++ = '\0';
		if (*upload_arg == '\0' || *name == '\0' ||
		    strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			usage(2);
	}
	host = argv[0];
	if ((pw = read_password(pwfile, &pwsize)) == NULL)
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
	xfree_secret(pw, pwsize);
	pw = NULL;
	if (r == SSHC_EAUTH && step == RS_LOGIN) {
		log_warnx("%s: login refused", host);
		goto out;
	} else if (r != SSHC_OK) {
		log_warnx("%s", sshc_error(c));
		goto out;
	}
	if (upload_arg != NULL) {
		if ((dir = make_folder(c)) == NULL ||
		    upload(c, upload_arg, dir, name) == -1)
			goto out;
	}
	if (argc == 2) {
		/* in the upload's folder, when there is one */
		if (dir != NULL) {
			q = rootsh_quote(dir);
			script = xasprintf("cd -- %s || exit 1\n%s", q, argv[1]);
			free(q);
		} else
			script = xstrdup(argv[1]);
		r = rootsh_run(c, script, strlen(script), RUN_MS, &out,
		    &outlen, &st);
		free(script);
		if (r != SSHC_OK) {
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
	if (dir != NULL) {
		remove_folder(c, dir);
		free(dir);
	}
	xfree_secret(pw, pwsize);
	sshc_free(c);
	return rc;
}
