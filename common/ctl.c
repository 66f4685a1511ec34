// SPDX-License-Identifier: ISC
/* ctl.c -- client of the sftunneld control socket (STATUS, PUSH, RELOAD) */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "pki.h"
#include "root.h"
#include "xmalloc.h"
#include "banned.h"

#define CTL_REPLY_CAP	(64 * 1024 * 1024)

static int ctl_timeout = 5;

void
ctl_set_timeout(int sec)
{
	ctl_timeout = sec > 0 ? sec : 5;
}

static int
pct_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("._:/@+-", c) != NULL;
}

size_t
ctl_pct_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char c;

	if (outlen == 0)
		return 0;
	for (; (c = (unsigned char)*in) != '\0'; in++) {
		if (c != '\0' && pct_ok(c)) {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				break;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
ctl_pct_decode(char *s)
{
	char *o = s;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '%' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0) {
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

/* Connect to the daemon's socket with send/receive timeouts of sec. */
static int
ctl_connect(int sec)
{
	struct sockaddr_un sun;
	struct timeval tv;
	char *path;
	int fd = -1, rc;

	path = root_path(RP_CTL_SOCK);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("%s: path too long", path);
		rc = -1;
		goto out;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		rc = -1;
		goto out;
	}
	tv.tv_sec = sec;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			rc = CTL_NODAEMON;
		else {
			log_warn("%s", path);
			rc = -1;
		}
		close(fd);
		goto out;
	}
	rc = fd;
 out:
	free(path);
	return rc;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		if ((w = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("control socket: send");
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read the whole reply (the daemon closes after it); NUL-terminated. */
static int
read_all(int fd, char **out, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t r;
	int rc = -1;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 16384 : cap * 2;
			if (cap > CTL_REPLY_CAP) {
				log_warnx("control socket: reply too long");
				goto out;
			}
			buf = xreallocarray(buf, 1, cap + 1);
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				log_warnx("control socket: no answer from "
				    "sftunneld");
			else
				log_warn("control socket: recv");
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;		/* transferred */
	rc = 0;
 out:
	free(buf);
	return rc;
}

/* Send req, read the reply.  fd < 0 passes CTL_NODAEMON/-1 through. */
static int
roundtrip(const char *req, size_t reqlen, const struct ctl_file *files,
    size_t nfiles, int sec, char **reply, size_t *len)
{
	size_t i;
	int fd, rc = -1;

	*reply = NULL;
	if ((fd = ctl_connect(sec)) < 0)
		return fd;
	if (write_all(fd, req, reqlen) == -1)
		goto out;
	for (i = 0; i < nfiles; i++) {
		char hdr[160];
		char sha[65];
		int n;

		if (pki_sha256_hex(files[i].data, files[i].len, sha) == -1)
			goto out;
		n = snprintf(hdr, sizeof(hdr), "FILE %s %zu %s\n",
		    files[i].name, files[i].len, sha);
		if (n < 0 || (size_t)n >= sizeof(hdr)) {
			log_warnx("%s: file name too long", files[i].name);
			goto out;
		}
		if (write_all(fd, hdr, (size_t)n) == -1 ||
		    write_all(fd, files[i].data, files[i].len) == -1)
			goto out;
	}
	(void)shutdown(fd, SHUT_WR);
	if (read_all(fd, reply, len) == -1)
		goto out;
	rc = 0;
 out:
	close(fd);
	return rc;
}

/* Next line of *p (NUL-terminated in place), or NULL at the end. */
static char *
next_line(char **p)
{
	char *s = *p, *nl;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else
		*p = s + strlen(s);
	return s;
}

static time_t
num(const char *v)
{
	return (time_t)strtoll(v, NULL, 10);
}

static void
set_daemon(struct ctl_daemon *d, const char *k, char *v)
{
	if (strcmp(k, "pid") == 0)
		d->pid = (pid_t)num(v);
	else if (strcmp(k, "started") == 0)
		d->started = num(v);
	else if (strcmp(k, "gen") == 0)
		d->gen = (unsigned)num(v);
	else if (strcmp(k, "uuid") == 0)
		strlcpy(d->uuid, v, sizeof(d->uuid));
	else if (strcmp(k, "host") == 0)
		strlcpy(d->host, v, sizeof(d->host));
	else if (strcmp(k, "addr") == 0)
		strlcpy(d->addr, v, sizeof(d->addr));
	else if (strcmp(k, "kind") == 0)
		strlcpy(d->kind, v, sizeof(d->kind));
	else if (strcmp(k, "hb") == 0)
		d->hb = (int)num(v);
	else if (strcmp(k, "peers") == 0)
		d->npeers = (size_t)num(v);
}

static void
set_peer(struct ctl_peer *p, const char *k, char *v)
{
	if (strcmp(k, "uuid") == 0)
		strlcpy(p->uuid, v, sizeof(p->uuid));
	else if (strcmp(k, "name") == 0)
		strlcpy(p->name, v, sizeof(p->name));
	else if (strcmp(k, "ip") == 0)
		strlcpy(p->ip, v, sizeof(p->ip));
	else if (strcmp(k, "role") == 0)
		strlcpy(p->role, v, sizeof(p->role));
	else if (strcmp(k, "state") == 0)
		p->up = strcmp(v, "up") == 0;
	else if (strcmp(k, "since") == 0)
		p->since = num(v);
	else if (strcmp(k, "attempted") == 0)
		p->attempted = num(v);
	else if (strcmp(k, "hb_sent") == 0)
		p->hb_sent = num(v);
	else if (strcmp(k, "hb_recv") == 0)
		p->hb_recv = num(v);
	else if (strcmp(k, "disc_time") == 0)
		p->disc_time = num(v);
	else if (strcmp(k, "disc_reason") == 0)
		strlcpy(p->disc_reason, v, sizeof(p->disc_reason));
	else if (strcmp(k, "cipher") == 0)
		strlcpy(p->cipher, v, sizeof(p->cipher));
	else if (strcmp(k, "cipher_bits") == 0)
		p->cipher_bits = (int)num(v);
	else if (strcmp(k, "tls") == 0)
		strlcpy(p->tls, v, sizeof(p->tls));
	else if (strcmp(k, "chain") == 0)
		strlcpy(p->chain, v, sizeof(p->chain));
	else if (strcmp(k, "issued") == 0)
		strlcpy(p->issued, v, sizeof(p->issued));
	else if (strcmp(k, "session_cn") == 0)
		strlcpy(p->session_cn, v, sizeof(p->session_cn));
	else if (strcmp(k, "session_issuer") == 0)
		strlcpy(p->session_issuer, v, sizeof(p->session_issuer));
	else if (strcmp(k, "session_key") == 0)
		strlcpy(p->session_key, v, sizeof(p->session_key));
	else if (strcmp(k, "session_expires") == 0)
		p->session_expires = num(v);
}

/* Walk the k=v words after the first word of line; unknown keys are skipped. */
static void
each_kv(char *line, void (*fn)(void *, const char *, char *), void *arg)
{
	char *w, *eq, *sp;

	if ((w = strchr(line, ' ')) == NULL)
		return;
	for (w++; w != NULL && *w != '\0'; w = sp) {
		if ((sp = strchr(w, ' ')) != NULL)
			*sp++ = '\0';
		if ((eq = strchr(w, '=')) == NULL)
			continue;
		*eq++ = '\0';
		ctl_pct_decode(eq);
		fn(arg, w, eq);
	}
}

static void
kv_daemon(void *a, const char *k, char *v)
{
	set_daemon(a, k, v);
}

static void
kv_peer(void *a, const char *k, char *v)
{
	set_peer(a, k, v);
}

/* A reply holding a NUL byte is malformed: it would end a line early. */
static int
reply_text(const char *reply, size_t len, const char *what)
{
	if (memchr(reply, '\0', len) != NULL) {
		log_warnx("control socket: %s: NUL byte in the reply", what);
		return -1;
	}
	return 0;
}

int
ctl_status_parse(char *reply, size_t len, struct ctl_peer **out, size_t *n,
    struct ctl_daemon *d)
{
	struct ctl_peer *v = NULL;
	struct ctl_daemon dd;
	size_t cnt = 0, cap = 0;
	char *p, *line;
	int rc = -1, done = 0;

	*out = NULL;
	*n = 0;
	memset(&dd, 0, sizeof(dd));
	if (reply_text(reply, len, "STATUS") == -1)
		return -1;
	p = reply;
	while ((line = next_line(&p)) != NULL) {
		if (strncmp(line, "DAEMON ", 7) == 0)
			each_kv(line, kv_daemon, &dd);
		else if (strncmp(line, "PEER ", 5) == 0) {
			if (cnt == CTL_PEERS_MAX) {
				log_warnx("control socket: STATUS: more than "
				    "%d peers", CTL_PEERS_MAX);
				goto out;
			}
			if (cnt == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				if (cap > CTL_PEERS_MAX)
					cap = CTL_PEERS_MAX;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			memset(&v[cnt], 0, sizeof(v[cnt]));
			strlcpy(v[cnt].chain, "unknown", sizeof(v[cnt].chain));
			each_kv(line, kv_peer, &v[cnt]);
			cnt++;
		} else if (strcmp(line, "OK") == 0) {
			done = 1;
			break;
		} else {
			log_warnx("control socket: STATUS: %.100s", line);
			goto out;
		}
	}
	if (!done) {
		log_warnx("control socket: STATUS: truncated reply");
		goto out;
	}
	if (d != NULL)
		*d = dd;
	*out = v;
	*n = cnt;
	v = NULL;		/* transferred */
	rc = 0;
 out:
	free(v);
	return rc;
}

int
ctl_status(struct ctl_peer **out, size_t *n, struct ctl_daemon *d)
{
	char *reply = NULL;
	size_t len;
	int rc;

	*out = NULL;
	*n = 0;
	rc = roundtrip("STATUS\n", 7, NULL, 0, ctl_timeout, &reply, &len);
	if (rc != 0)
		return rc;
	rc = ctl_status_parse(reply, len, out, n, d);
	free(reply);
	return rc;
}

int
ctl_push_parse(char *reply, size_t len, struct ctl_result *res, size_t n)
{
	char *p, *line, *w;
	size_t got = 0;
	int done = 0;

	if (reply_text(reply, len, "PUSH") == -1)
		return -1;
	p = reply;
	while ((line = next_line(&p)) != NULL) {
		if (strcmp(line, "END") == 0) {
			done = 1;
			break;
		}
		if (strncmp(line, "OK ", 3) == 0 && got < n) {
			w = line + 3;
			strlcpy(res[got].sha256, strchr(w, ' ') ?
			    strchr(w, ' ') + 1 : "", sizeof(res[got].sha256));
			res[got].ok = 1;
			res[got].reason[0] = '\0';
			got++;
		} else if (strncmp(line, "ERR ", 4) == 0 && got < n &&
		    (w = strchr(line + 4, ' ')) != NULL) {
			res[got].ok = 0;
			strlcpy(res[got].reason, w + 1,
			    sizeof(res[got].reason));
			got++;
		} else {
			log_warnx("control socket: PUSH: %.100s", line);
			return -1;
		}
	}
	if (!done || got != n) {
		log_warnx("control socket: PUSH: truncated reply");
		return -1;
	}
	return 0;
}

int
ctl_push(const char *peer_uuid, const struct ctl_file *files, size_t n,
    struct ctl_result *res, int timeout_sec)
{
	char req[128], *reply = NULL;
	size_t i, len;
	int rc;

	if (n == 0 || n > CTL_PUSH_MAX || strlen(peer_uuid) > 64) {
		log_warnx("push: bad request");
		return -1;
	}
	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		strlcpy(res[i].name, files[i].name, sizeof(res[i].name));
		strlcpy(res[i].reason, "no answer", sizeof(res[i].reason));
	}
	snprintf(req, sizeof(req), "PUSH %s %zu\n", peer_uuid, n);
	rc = roundtrip(req, strlen(req), files, n,
	    timeout_sec > 0 ? timeout_sec : 30, &reply, &len);
	if (rc != 0)
		return rc;
	rc = ctl_push_parse(reply, len, res, n);
	free(reply);
	return rc;
}

int
ctl_reload(void)
{
	char *reply = NULL;
	size_t len;
	int rc;

	rc = roundtrip("RELOAD\n", 7, NULL, 0, ctl_timeout, &reply, &len);
	if (rc != 0)
		return rc;
	if (strcmp(reply, "OK\n") != 0) {
		log_warnx("control socket: RELOAD: %.100s", reply);
		rc = -1;
	}
	free(reply);
	return rc;
}
