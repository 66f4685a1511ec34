// SPDX-License-Identifier: ISC
/* sshc.c -- the suite's only SSH client (libssh): connect, check, talk */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/libssh.h>

#include "esc.h"
#include "sshc.h"
#include "xmalloc.h"
#include "banned.h"

#define RX_CHUNK	16384
#define TAIL_MAX	512	/* prompts are matched on this much */

struct sshc {
	ssh_session	 s;
	ssh_channel	 ch;
	char		 name[256];	/* as given: a vis-encoded name */
	char		 addr[46];
	char		 err[512];
	char		 rerr[ESC_SIZE(128)];	/* see ssh_err */
	char		*buf;		/* received, CRs dropped */
	size_t		 len;
	size_t		 cap;
	size_t		 rx_max;	/* len never exceeds it */
	char		*prev;		/* what read_until last handed out */
	size_t		 prevlen;
	enum sshc_hk	 hk;
	char		 hkfp[128];
	const char	*cwhy;		/* see sshc_connect_why */
};

/* known_hosts is appended to from several threads. */
static pthread_mutex_t kh_mu = PTHREAD_MUTEX_INITIALIZER;

int
sshc_init(void)
{
	return ssh_init() == SSH_OK ? 0 : -1;
}

int
sshc_seterr(struct sshc *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return code;
}

/* sshc's own answers are set as rootsh's are (a shorter name). */
#define fail	sshc_seterr

/*
 * libssh's last error, vis-encoded: it may quote what the server sent (a
 * banner, a disconnect message).
 */
static const char *
ssh_err(struct sshc *c)
{
	char raw[128];

	strlcpy(raw, ssh_get_error(c->s), sizeof(raw));
	return esc_vist(c->rerr, sizeof(c->rerr), raw);
}

enum sshc_hk
sshc_hostkey(const struct sshc *c, const char **fingerprint)
{
	if (fingerprint != NULL)
		*fingerprint = c == NULL ? "" : c->hkfp;
	return c == NULL ? SSHC_HK_NONE : c->hk;
}

const char *
sshc_connect_why(const struct sshc *c)
{
	return c == NULL || c->cwhy == NULL ? "" : c->cwhy;
}

const char *
sshc_error(const struct sshc *c)
{
	return c == NULL ? "no session" : c->err;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The server key's "SHA256:..." fingerprint into c->hkfp, or "". */
static void
key_fingerprint(struct sshc *c)
{
	ssh_key k = NULL;
	unsigned char *h = NULL;
	size_t hl = 0;
	char *fp;

	c->hkfp[0] = '\0';
	if (ssh_get_server_publickey(c->s, &k) != SSH_OK)
		return;
	if (ssh_get_publickey_hash(k, SSH_PUBLICKEY_HASH_SHA256, &h,
	    &hl) == 0 && (fp = ssh_get_fingerprint_hash(
	    SSH_PUBLICKEY_HASH_SHA256, h, hl)) != NULL) {
		strlcpy(c->hkfp, fp, sizeof(c->hkfp));
		ssh_string_free_char(fp);
	}
	if (h != NULL)
		ssh_clean_pubkey_hash(&h);
	ssh_key_free(k);
}

static int
check_host_key(struct sshc *c, const struct sshc_opts *o)
{
	enum ssh_known_hosts_e st;
	int rc;

	key_fingerprint(c);
	st = ssh_session_is_known_server(c->s);
	switch (st) {
	case SSH_KNOWN_HOSTS_OK:
		c->hk = SSHC_HK_KNOWN;
		return SSHC_OK;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		c->hk = SSHC_HK_CHANGED;
		return fail(c, SSHC_EHOSTKEY, "host key for %s (%s) has changed",
		    c->name, c->addr);
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		c->hk = SSHC_HK_NEW;
		if (!o->accept_new)
			return fail(c, SSHC_EHOSTKEY, "host key for %s (%s) is "
			    "not known (first contact needs %s)", c->name,
			    c->addr, o->accept_opt != NULL ? o->accept_opt :
			    "--accept-new");
		pthread_mutex_lock(&kh_mu);
		rc = ssh_session_update_known_hosts(c->s);
		pthread_mutex_unlock(&kh_mu);
		if (rc != SSH_OK)
			return fail(c, SSHC_EOTHER, "cannot record the host "
			    "key of %s (%s): %s", c->name, c->addr,
			    ssh_err(c));
		c->hk = SSHC_HK_RECORDED;
		return SSHC_OK;
	default:
		return fail(c, SSHC_EOTHER, "cannot check the host key of %s "
		    "(%s): %s", c->name, c->addr, ssh_err(c));
	}
}

/*
 * Keyboard-interactive with one answer: the password, to the first round
 * that asks one question.  A round that asks again (the device's way of
 * saying "wrong password, try again"), asks several questions, or more
 * than SSHC_KBDINT_ROUNDS rounds are refusals: the password is never
 * sent twice.  An SSHC_* code, the error filled.
 */
static int
kbdint(struct sshc *c, const char *password)
{
	int rc, n, rounds = 0, answered = 0;

	while ((rc = ssh_userauth_kbdint(c->s, NULL, NULL)) ==
	    SSH_AUTH_INFO) {
		if (++rounds > SSHC_KBDINT_ROUNDS)
			return fail(c, SSHC_EAUTH, "login to %s refused: more "
			    "than %d keyboard-interactive rounds", c->name,
			    SSHC_KBDINT_ROUNDS);
		n = ssh_userauth_kbdint_getnprompts(c->s);
		if (n == 0)
			continue;	/* an informational round */
		if (answered)
			return fail(c, SSHC_EAUTH, "login to %s refused: wrong "
			    "login or password (not tried again)", c->name);
		if (n != 1)
			return fail(c, SSHC_EAUTH, "login to %s refused: it "
			    "asks %d questions, not a password", c->name, n);
		if (ssh_userauth_kbdint_setanswer(c->s, 0, password) < 0)
			return fail(c, SSHC_EOTHER, "login to %s: %s", c->name,
			    ssh_err(c));
		answered = 1;
	}
	if (rc == SSH_AUTH_SUCCESS)
		return SSHC_OK;
	if (rc == SSH_AUTH_ERROR)
		return fail(c, SSHC_EIO, "connection to %s lost during login: "
		    "%s", c->name, ssh_err(c));
	return fail(c, SSHC_EAUTH, "login to %s refused: wrong login or "
	    "password", c->name);
}

static int
authenticate(struct sshc *c, const char *password)
{
	int rc, methods;

	rc = ssh_userauth_none(c->s, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		return SSHC_OK;
	if (rc == SSH_AUTH_ERROR)
		return fail(c, SSHC_EIO, "connection to %s lost during login: "
		    "%s", c->name, ssh_err(c));
	methods = ssh_userauth_list(c->s, NULL);
	/*
	 * One method, one try: keyboard-interactive after a refused
	 * "password" would be a second failed login with the same password.
	 */
	if (methods & SSH_AUTH_METHOD_PASSWORD) {
		rc = ssh_userauth_password(c->s, NULL, password);
		if (rc == SSH_AUTH_SUCCESS)
			return SSHC_OK;
		if (rc == SSH_AUTH_ERROR)
			return fail(c, SSHC_EIO, "connection to %s lost during "
			    "login: %s", c->name, ssh_err(c));
		if (rc == SSH_AUTH_PARTIAL)
			return fail(c, SSHC_EAUTH, "login to %s refused: it "
			    "asks for more than a password", c->name);
		return fail(c, SSHC_EAUTH, "login to %s refused: wrong login "
		    "or password", c->name);
	}
	if (methods & SSH_AUTH_METHOD_INTERACTIVE)
		return kbdint(c, password);
	return fail(c, SSHC_EAUTH, "login to %s refused: it offers no "
	    "password login", c->name);
}

int
sshc_open(struct sshc **out, const char *name, const char *addr,
    const char *login, const struct sshc_opts *o)
{
	struct sshc *c;
	struct sockaddr_storage peer;
	socklen_t sl;
	socket_t fd;
	long timeout = o->timeout > 0 ? o->timeout : 20;
	int port = o->port > 0 ? o->port : 22, off = 0, rc;
	char *kh = NULL;
	const char *home;

	c = xcalloc(1, sizeof(*c));
	*out = c;
	c->rx_max = o->rx_max > 0 ? o->rx_max : SSHC_RX_MAX;
	strlcpy(c->name, name, sizeof(c->name));
	strlcpy(c->addr, addr, sizeof(c->addr));
	if ((c->s = ssh_new()) == NULL)
		return fail(c, SSHC_EOTHER, "out of memory");
	if (o->known_hosts != NULL)
		kh = xstrdup(o->known_hosts);
	else if ((home = getenv("HOME")) != NULL)
		kh = xasprintf("%s/.ssh/known_hosts", home);
	else
		kh = xstrdup("/root/.ssh/known_hosts");
	if (ssh_options_set(c->s, SSH_OPTIONS_PROCESS_CONFIG, &off) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_HOST, addr) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_PORT, &port) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_USER, login) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_KNOWNHOSTS, kh) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	    "/dev/null") < 0) {
		free(kh);
		return fail(c, SSHC_EOTHER, "%s: bad SSH options: %s", name,
		    ssh_err(c));
	}
	free(kh);
	c->cwhy = "";
	if (ssh_connect(c->s) != SSH_OK) {
		/*
		 * libssh keeps the socket of a connect that got that far,
		 * and also of one whose TCP connect itself timed out: only
		 * a socket with a peer got as far as the banner.
		 */
		sl = sizeof(peer);
		if ((fd = ssh_get_fd(c->s)) != SSH_INVALID_SOCKET &&
		    getpeername(fd, (struct sockaddr *)&peer, &sl) == 0)
			c->cwhy = "no banner";
		else if (strstr(ssh_get_error(c->s), "refused") != NULL)
			c->cwhy = "refused";
		else
			c->cwhy = "timeout";
		return fail(c, SSHC_ECONNECT, "could not connect to %s (%s): %s",
		    name, addr, ssh_err(c));
	}
	if ((rc = check_host_key(c, o)) != SSHC_OK)
		return rc;
	return SSHC_OK;
}

int
sshc_login(struct sshc *c, const char *password)
{
	return authenticate(c, password);
}

int
sshc_shell(struct sshc *c)
{
	if ((c->ch = ssh_channel_new(c->s)) == NULL ||
	    ssh_channel_open_session(c->ch) != SSH_OK ||
	    ssh_channel_request_pty_size(c->ch, "dumb", 200, 50) != SSH_OK ||
	    ssh_channel_request_shell(c->ch) != SSH_OK)
		return fail(c, SSHC_EIO, "%s: cannot open a shell: %s",
		    c->name, ssh_err(c));
	return SSHC_OK;
}

int
sshc_write(struct sshc *c, const void *p, size_t len)
{
	const char *q = p;
	int n;

	while (len > 0) {
		n = ssh_channel_write(c->ch, q, len > 32768 ? 32768 :
		    (uint32_t)len);
		if (n == SSH_ERROR || n == 0)
			return fail(c, SSHC_EIO, "connection to %s lost: %s",
			    c->name, ssh_err(c));
		q += n;
		len -= (size_t)n;
	}
	return SSHC_OK;
}

int
sshc_puts(struct sshc *c, const char *s)
{
	return sshc_write(c, s, strlen(s));
}

/* Append what arrived, dropping CRs; wipes every buffer it lets go. */
static void
append(struct sshc *c, const char *p, size_t n)
{
	size_t i;

	if (c->len + n + 1 > c->cap) {
		size_t ncap = c->cap == 0 ? 2 * RX_CHUNK : c->cap;

		while (c->len + n + 1 > ncap)
			ncap *= 2;
		/* the old block may hold a fetched key: wiped as it goes */
		c->buf = xrecallocarray(c->buf, c->cap, ncap, 1);
		c->cap = ncap;
	}
	for (i = 0; i < n; i++)
		if (p[i] != '\r')
			c->buf[c->len++] = p[i];
	c->buf[c->len] = '\0';
}

/* Drop the first n bytes of the buffer. */
static void
consume(struct sshc *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	explicit_bzero(c->buf + c->len - n, n);
	c->len -= n;
	c->buf[c->len] = '\0';
}

/* Read some; 1 when something arrived, 0 on timeout, <0 an SSHC_E*. */
static int
fill(struct sshc *c, long deadline)
{
	char chunk[RX_CHUNK];
	long left = deadline - now_ms();
	int n;

	if (left <= 0)
		return 0;
	n = ssh_channel_read_timeout(c->ch, chunk, sizeof(chunk), 0,
	    left > 1000 ? 1000 : (int)left);
	if (n == SSH_ERROR)
		return fail(c, SSHC_EIO, "connection to %s lost: %s", c->name,
		    ssh_err(c));
	if (n == 0 && (ssh_channel_is_eof(c->ch) ||
	    !ssh_channel_is_open(c->ch)))
		return fail(c, SSHC_EIO, "connection to %s lost (the device "
		    "closed the session)", c->name);
	if ((size_t)n > c->rx_max - c->len) {
		explicit_bzero(chunk, (size_t)n);
		return fail(c, SSHC_EFLOOD, "%s sent more than %zu bytes "
		    "without the expected answer", c->name, c->rx_max);
	}
	append(c, chunk, (size_t)n);
	explicit_bzero(chunk, (size_t)n);
	return n > 0;
}

int
sshc_expect(struct sshc *c, const char *const *re, int n, int timeout_ms,
    int *which)
{
	regex_t *rx;
	regmatch_t m;
	long deadline = now_ms() + timeout_ms;
	int i, rc = SSHC_ETIMEOUT, r;

	rx = xcalloc(n, sizeof(*rx));
	for (i = 0; i < n; i++)
		if (regcomp(&rx[i], re[i], REG_EXTENDED) != 0) {
			n = i;
			rc = fail(c, SSHC_EOTHER, "bad pattern %s", re[i]);
			goto out;
		}
	for (;;) {
		size_t off = c->len > TAIL_MAX ? c->len - TAIL_MAX : 0;

		for (i = 0; i < n; i++) {
			if (c->len > 0 &&
			    regexec(&rx[i], c->buf + off, 1, &m, 0) == 0) {
				*which = i;
				consume(c, off + (size_t)m.rm_eo);
				rc = SSHC_OK;
				goto out;
			}
		}
		if ((r = fill(c, deadline)) < 0) {
			rc = r;
			goto out;
		}
		if (r == 0 && now_ms() >= deadline) {
			rc = fail(c, SSHC_ETIMEOUT, "%s: no answer in %d s",
			    c->name, timeout_ms / 1000);
			goto out;
		}
	}
 out:
	for (i = 0; i < n; i++)
		regfree(&rx[i]);
	free(rx);
	return rc;
}

int
sshc_read_until(struct sshc *c, const char *tag, int timeout_ms,
    const char **out, size_t *outlen)
{
	long deadline = now_ms() + timeout_ms;
	size_t tl = strlen(tag), scanned = 0;
	char *hit;
	int r;

	if (c->prev != NULL) {
		freezero(c->prev, c->prevlen + 1);
		c->prev = NULL;
		c->prevlen = 0;
	}
	for (;;) {
		size_t from = scanned > tl ? scanned - tl : 0;

		if (c->len > 0 && (hit = memmem(c->buf + from, c->len - from,
		    tag, tl)) != NULL) {
			size_t n = (size_t)(hit - c->buf);

			c->prev = xmalloc(n + 1);
			memcpy(c->prev, c->buf, n);
			c->prev[n] = '\0';
			c->prevlen = n;
			consume(c, n + tl);
			if (out != NULL)
				*out = c->prev;
			if (outlen != NULL)
				*outlen = n;
			return SSHC_OK;
		}
		scanned = c->len;
		if ((r = fill(c, deadline)) < 0)
			return r;
		if (r == 0 && now_ms() >= deadline)
			return fail(c, SSHC_ETIMEOUT, "%s: no answer in %d s",
			    c->name, timeout_ms / 1000);
	}
}

void
sshc_free(struct sshc *c)
{
	if (c == NULL)
		return;
	if (c->ch != NULL) {
		if (ssh_channel_is_open(c->ch))
			ssh_channel_close(c->ch);
		ssh_channel_free(c->ch);
	}
	if (c->s != NULL) {
		ssh_disconnect(c->s);
		ssh_free(c->s);
	}
	if (c->buf != NULL)
		freezero(c->buf, c->cap);
	if (c->prev != NULL)
		freezero(c->prev, c->prevlen + 1);
	free(c);
}
