// SPDX-License-Identifier: ISC
/* hfremote -- the hotfix's SSH leg: copy a file to an FMC and run a command as root */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>

#include "banned.h"

/*
 * Shipped in the hotfix payload (libexec/), not installed: the installer
 * on an HA primary runs it to put itself on the secondary and run there.
 * It logs in as the copy tool does (SPEC 1.4): password from a file, host
 * key checked against known_hosts, a pty shell, "> " -> expert -> "$ " ->
 * sudo su -> "Password:" -> "# ".  The file goes through the root shell
 * as base64 (the CLI offers no scp), and is checked with sha256sum there.
 */

#define STEP_TIMEOUT	30	/* seconds per dialogue step */
#define RUN_TIMEOUT	600	/* seconds for the command */

static ssh_channel ch;
static char buf[1 << 16];	/* transcript tail */
static size_t blen;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: hfremote [-a] [-k known-hosts] [-p port] -l login "
	    "-P password-file\n"
	    "                [-u local:remote] host [command]\n");
	exit(status);
}

/* Read until the transcript ends with one of pats; its index, or -1. */
static int
expect(const char **pats, int npat, int timeout)
{
	time_t end = time(NULL) + timeout;
	char tmp[4096];
	int n, i;

	for (;;) {
		for (i = 0; i < npat; i++) {
			size_t pl = strlen(pats[i]);

			if (blen >= pl &&
			    memcmp(buf + blen - pl, pats[i], pl) == 0)
				return i;
		}
		if (time(NULL) >= end)
			return -1;
		n = ssh_channel_read_timeout(ch, tmp, sizeof(tmp), 0, 1000);
		if (n == SSH_ERROR || (n == 0 && ssh_channel_is_eof(ch)))
			return -1;
		if (n <= 0)
			continue;
		if (blen + (size_t)n > sizeof(buf)) {
			/* keep the newer half */
			size_t keep = sizeof(buf) / 2;

			memmove(buf, buf + blen - keep, keep);
			blen = keep;
		}
		memcpy(buf + blen, tmp, (size_t)n);
		blen += (size_t)n;
	}
}

static int
chsend(const char *s, size_t len)
{
	if (ssh_channel_write(ch, s, (uint32_t)len) != (int)len)
		return -1;
	return 0;
}

static int
sendline(const char *s)
{
	if (chsend(s, strlen(s)) == -1 || chsend("\n", 1) == -1)
		return -1;
	return 0;
}

static int
step(const char *what, const char **pats, int npat)
{
	int m;

	if ((m = expect(pats, npat, STEP_TIMEOUT)) == -1)
		warnx("timed out or closed waiting for %s", what);
	return m;
}

/* Hex sha256 of a file into hex[65]; -1 on error. */
static int
file_sha256(const char *path, char hex[65], unsigned char **data,
    size_t *len)
{
	unsigned char md[32];
	struct stat st;
	unsigned char *p;
	ssize_t r;
	size_t off = 0;
	int fd, i;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		warn("%s", path);
		return -1;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		err(1, "malloc");
	while (off < (size_t)st.st_size) {
		if ((r = read(fd, p + off, (size_t)st.st_size - off)) <= 0) {
			warn("%s", path);
			close(fd);
			free(p);
			return -1;
		}
		off += (size_t)r;
	}
	close(fd);
	if (EVP_Digest(p, off, md, NULL, EVP_sha256(), NULL) != 1) {
		warnx("%s: sha256 failed", path);
		free(p);
		return -1;
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	*data = p;
	*len = off;
	return 0;
}

/* Send local as base64 into remote; checked with sha256sum there. */
static int
upload(const char *local, const char *remote)
{
	static const char *root[] = { "# " };
	unsigned char *data, b64[77 * 1000];
	char hex[65], cmd[1024], want[128];
	const char *ok[2], *ready[1];
	size_t len, off;
	int n;

	if (strchr(remote, '\'') != NULL) {
		warnx("%s: bad remote path", remote);
		return -1;
	}
	if (file_sha256(local, hex, &data, &len) == -1)
		return -1;
	snprintf(cmd, sizeof(cmd), "echo SFCA_RE''ADY; base64 -d > '%s.part'",
	    remote);
	blen = 0;
	ready[0] = "SFCA_READY\r\n";
	if (sendline(cmd) == -1 || step("the upload to start", ready, 1) == -1)
		goto fail;
	/* 76-column lines (the pty's line buffer), sent 1000 at a time */
	for (off = 0, n = 0; off < len; off += 57) {
		n += EVP_EncodeBlock(b64 + n, data + off,
		    (int)(len - off < 57 ? len - off : 57));
		b64[n++] = '\n';
		if (n > (int)sizeof(b64) - 80 || off + 57 >= len) {
			if (chsend((char *)b64, (size_t)n) == -1)
				goto fail;
			n = 0;
		}
	}
	if (chsend("\004", 1) == -1 || step("the upload", root, 1) == -1)
		goto fail;
	free(data);
	data = NULL;
	snprintf(cmd, sizeof(cmd), "if [ \"$(sha256sum < '%s.part' | cut -c1-64)"
	    "\" = %s ]; then mv -f '%s.part' '%s' && echo SFCA_UP''LOAD_OK; "
	    "else rm -f '%s.part'; echo SFCA_UP''LOAD_BAD; fi", remote, hex,
	    remote, remote, remote);
	snprintf(want, sizeof(want), "SFCA_UPLOAD_OK\r\n# ");
	ok[0] = want;
	ok[1] = "SFCA_UPLOAD_BAD\r\n# ";
	blen = 0;
	if (sendline(cmd) == -1)
		goto fail;
	n = expect(ok, 2, STEP_TIMEOUT);
	if (n != 0) {
		warnx("%s: upload to %s failed (checksum)", local, remote);
		return -1;
	}
	return 0;
fail:
	free(data);
	warnx("%s: upload failed", local);
	return -1;
}

/* Run cmd in the root shell; print its output; its status, or -1. */
static int
run(const char *cmd)
{
	static const char *end[] = { "\n# " };
	char *line, *b, *e, *p;
	size_t ll;
	int status;

	ll = strlen(cmd) + 128;
	if ((line = malloc(ll)) == NULL)
		err(1, "malloc");
	snprintf(line, ll, "echo SFCA_BE''GIN; %s </dev/null; "
	    "echo SFCA_END_$?", cmd);
	blen = 0;
	if (sendline(line) == -1) {
		free(line);
		return -1;
	}
	free(line);
	/* a "# " inside the output is not the end: wait for the marker */
	for (;;) {
		if (expect(end, 1, RUN_TIMEOUT) == -1) {
			warnx("the command did not finish");
			return -1;
		}
		if (memmem(buf, blen, "SFCA_END_", 9) != NULL)
			break;
		buf[blen - 1] = '\0';	/* not a match on the next round */
	}
	buf[blen - 1] = '\0';
	if ((b = strstr(buf, "SFCA_BEGIN\r\n")) == NULL ||
	    (e = strstr(b, "SFCA_END_")) == NULL)
		return -1;
	status = atoi(e + 9);
	for (p = b + 12; p < e; p++)
		if (*p != '\r')
			putchar(*p);
	fflush(stdout);
	return status;
}

static char *
read_password(const char *path)
{
	char *pw = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return NULL;
	}
	if ((n = getline(&pw, &cap, f)) <= 0) {
		warnx("%s: no password", path);
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
	static const char *cli[] = { "> ", "$ ", "# " };
	static const char *shell[] = { "$ " };
	static const char *pwp[] = { "Password: ", "# " };
	static const char *rootp[] = { "# ", "$ ", "Sorry, try again." };
	const char *known = NULL, *login = NULL, *pwfile = NULL, *host;
	const char *errstr;
	char *upload_arg = NULL, *pw = NULL, *remote;
	long timeout = 20;
	int ch_, accept_new = 0, port = 22, rc = 1, m, st;
	ssh_session s = NULL;

	while ((ch_ = getopt_long(argc, argv, "P:ahk:l:p:u:", longopts,
	    NULL)) != -1) {
		switch (ch_) {
		case 'P':
			pwfile = optarg;
			break;
		case 'a':
			accept_new = 1;
			break;
		case 'h':
			usage(0);
		case 'k':
			known = optarg;
			break;
		case 'l':
			login = optarg;
			break;
		case 'p':
			port = (int)strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(2, "-p %s: %s", optarg, errstr);
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
	host = argv[0];
	if ((pw = read_password(pwfile)) == NULL)
		return 1;

	if ((s = ssh_new()) == NULL)
		errx(1, "ssh_new");
	if (ssh_options_set(s, SSH_OPTIONS_HOST, host) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_USER, login) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != SSH_OK ||
	    (known != NULL && ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS,
	    known) != SSH_OK)) {
		warnx("%s: ssh options: %s", host, ssh_get_error(s));
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		warnx("%s: could not connect: %s", host, ssh_get_error(s));
		goto out;
	}
	switch (ssh_session_is_known_server(s)) {
	case SSH_KNOWN_HOSTS_OK:
		break;
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (!accept_new) {
			warnx("%s: unknown host key (first contact: pass "
			    "--accept-new-host-key)", host);
			goto out;
		}
		if (ssh_session_update_known_hosts(s) != SSH_OK) {
			warnx("%s: cannot record the host key", host);
			goto out;
		}
		break;
	default:
		warnx("%s: HOST KEY MISMATCH or unusable known_hosts", host);
		goto out;
	}
	if (ssh_userauth_password(s, NULL, pw) != SSH_AUTH_SUCCESS) {
		warnx("%s: login refused", host);
		goto out;
	}
	if ((ch = ssh_channel_new(s)) == NULL ||
	    ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_pty_size(ch, "vt100", 200, 50) != SSH_OK ||
	    ssh_channel_request_shell(ch) != SSH_OK) {
		warnx("%s: shell: %s", host, ssh_get_error(s));
		goto out;
	}
	if ((m = step("the CLI prompt", cli, 3)) == -1)
		goto out;
	if (m == 0 && (sendline("expert") == -1 ||
	    step("the expert prompt", shell, 1) == -1))
		goto out;
	if (m != 2) {
		blen = 0;
		if (sendline("sudo su") == -1 ||
		    (m = step("Password:", pwp, 2)) == -1)
			goto out;
		if (m == 0) {
			blen = 0;
			if (sendline(pw) == -1 ||
			    step("the root prompt", rootp, 3) != 0) {
				warnx("%s: sudo su: no root shell", host);
				goto out;
			}
		}
	}
	explicit_bzero(pw, strlen(pw));
	blen = 0;
	if (sendline("stty -echo; PS1='# '") == -1 ||
	    step("the root prompt", rootp, 1) == -1)
		goto out;
	if (upload_arg != NULL) {
		if ((remote = strchr(upload_arg, ':')) == NULL)
			usage(2);
		*remote++ = '\0';
		if (upload(upload_arg, remote) == -1)
			goto out;
	}
	if (argc == 2) {
		if ((st = run(argv[1])) == -1)
			goto out;
		rc = st;
	} else
		rc = 0;
	sendline("exit");
	sendline("exit");
	sendline("exit");
out:
	if (pw != NULL)
		explicit_bzero(pw, strlen(pw));
	free(pw);
	if (ch != NULL)
		ssh_channel_free(ch);
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	return rc;
}
