// SPDX-License-Identifier: ISC
/* sftunneld-conn.c -- connect, accept, handshake, frames, heartbeats */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "pki.h"
#include "root.h"
#include "xmalloc.h"
#include "sftunneld.h"
#include "banned.h"

static int
hs_timeout(void)
{
	return sd.hb * 3 > 5 ? sd.hb * 3 : 5;
}

static struct conn *
conn_new(int fd, int incoming, const char *ip, time_t now)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->incoming = incoming;
	c->t0 = now;
	strlcpy(c->ip, ip, sizeof(c->ip));
	sd.conns = xreallocarray(sd.conns, sd.nconns + 1, sizeof(*sd.conns));
	sd.conns[sd.nconns++] = c;
	return c;
}

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

/* Free the connections closed during this turn of the loop. */
void
conn_reap(void)
{
	size_t i = 0;

	while (i < sd.nconns) {
		if (sd.conns[i]->dead) {
			conn_free(sd.conns[i]);
			sd.conns[i] = sd.conns[--sd.nconns];
		} else
			i++;
	}
}

void
tpeer_lost(struct tpeer *t, const char *reason, time_t now)
{
	int was_up = t->up;

	if (was_up)
		sflog(&sd.log, SFLOG_WARN, "Disconnected from %s: %s",
		    t->p.ip, reason);
	t->up = 0;
	t->conn = NULL;
	t->disc_time = now;
	strlcpy(t->disc_reason, reason, sizeof(t->disc_reason));
	t->chain = -1;
	if (t->outgoing) {
		if (was_up)
			t->backoff = 1;
		t->next_try = now + (was_up ? 0 : t->backoff);
		if (!was_up) {
			t->backoff *= 2;
			if (t->backoff > sd.backoff_cap)
				t->backoff = sd.backoff_cap;
		}
	}
	control_peer_lost(t);
}

/* Close now for I/O; freed by conn_reap.  Accounts for the peer. */
void
conn_close(struct conn *c, const char *reason, time_t now)
{
	if (c->dead)
		return;
	c->dead = 1;
	if (c->ssl != NULL && c->st == C_UP)
		(void)SSL_shutdown(c->ssl);	/* best effort, non-blocking */
	ERR_clear_error();
	if (c->peer != NULL && c->peer->conn == c)
		tpeer_lost(c->peer, reason, now);
}

void
conn_close_all(const char *reason)
{
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < sd.nconns; i++)
		conn_close(sd.conns[i], reason, now);
	conn_reap();
}

static void
ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r;

	if (e == 0)
		strlcpy(buf, "connection closed", len);
	else if ((r = ERR_reason_error_string(e)) != NULL)
		strlcpy(buf, r, len);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

static int
start_tls(struct conn *c, SSL_CTX *ctx)
{
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	SSL_set_app_data(c->ssl, c);
	if (c->incoming)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	c->st = C_HANDSHAKE;
	return 0;
}

/*
 * The lab's knob: a file no-tunnel beside the appliance tree
 * (hosts/NAME/no-tunnel) makes every outgoing connection fail, read at
 * each attempt, so a test can cut a host's tunnel and keep its SSH.
 */
static int
no_tunnel(void)
{
	struct stat st;
	char *path;
	int r;

	path = path_join(root_dir(), "../no-tunnel");
	r = lstat(path, &st) == 0;
	free(path);
	return r;
}

void
conn_connect(struct tpeer *t, time_t now)
{
	struct sockaddr_in src, dst;
	struct conn *c;
	char why[160];
	int fd;

	t->attempted = now;
	t->next_try = now + t->backoff;
	sflog(&sd.log, SFLOG_INFO, "Initiating IPv4 connection");
	if (ident_refresh(&t->id, 0, 0) == -1) {
		tpeer_lost(t, "cannot load the tunnel identity", now);
		return;
	}
	sflog(&sd.log, SFLOG_INFO, "Wait to connect to %d (IP: %s)",
	    t->p.port, t->p.ip);
	if (no_tunnel()) {
		/* the lab's knob: this host's tunnel is cut, its SSH is not */
		sflog(&sd.log, SFLOG_ERROR, "Connect to %s failed: %s",
		    t->p.ip, "no-tunnel (lab knob)");
		tpeer_lost(t, "connect: no-tunnel (lab knob)", now);
		return;
	}
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.sin_family = dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)t->p.port);
	if (inet_pton(AF_INET, sd.addr, &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, t->p.ip, &dst.sin_addr) != 1) {
		tpeer_lost(t, "bad IPv4 address", now);
		return;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		tpeer_lost(t, why, now);
		return;
	}
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS)) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		sflog(&sd.log, SFLOG_ERROR, "Connect to %s failed: %s",
		    t->p.ip, strerror(errno));
		close(fd);
		tpeer_lost(t, why, now);
		return;
	}
	c = conn_new(fd, 0, t->p.ip, now);
	c->peer = t;
	c->st = C_CONNECTING;
	t->conn = c;
}

/* Incoming handshakes in progress, in all and from ip. */
static void
pending(const char *ip, size_t *all, size_t *from)
{
	size_t i;

	*all = *from = 0;
	for (i = 0; i < sd.nconns; i++) {
		struct conn *c = sd.conns[i];

		if (c->dead || !c->incoming || c->st == C_UP)
			continue;
		(*all)++;
		if (strcmp(c->ip, ip) == 0)
			(*from)++;
	}
}

void
conn_accept(int lfd, time_t now)
{
	struct sockaddr_in sin;
	socklen_t slen;
	struct conn *c;
	char ip[INET_ADDRSTRLEN];
	size_t all, from;
	int fd, i;

	for (i = 0; i < 64; i++) {
		slen = sizeof(sin);
		fd = accept4(lfd, (struct sockaddr *)&sin, &slen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				if (sd.accept_pause < now)
					sflog(&sd.log, SFLOG_ERROR, "Accept: "
					    "%s; pausing", strerror(errno));
				sd.accept_pause = now + ACCEPT_PAUSE;
			}
			break;
		}
		if (inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip)) == NULL)
			strlcpy(ip, "?", sizeof(ip));
		pending(ip, &all, &from);
		if (all >= PENDING_MAX || from >= PENDING_PER_ADDR) {
			close(fd);
			continue;
		}
		/* New handshakes use the files as they are now. */
		if (ident_refresh(&sd.srv, 1, 0) == -1) {
			close(fd);
			continue;
		}
		c = conn_new(fd, 1, ip, now);
		if (start_tls(c, sd.srv.ctx) == -1)
			conn_close(c, "tls setup", now);
	}
}

short
conn_events(struct conn *c)
{
	if (c->st == C_CONNECTING)
		return POLLOUT;
	if (c->st == C_HANDSHAKE)
		return c->want_write ? POLLOUT : POLLIN;
	return POLLIN | (c->wlen > 0 || c->want_write ? POLLOUT : 0);
}

static void
flush(struct conn *c, time_t now)
{
	char why[160], r[128];
	size_t n;
	int w, e;

	c->want_write = 0;
	while (!c->dead && c->wlen > 0) {
		n = c->wlen > INT_MAX ? INT_MAX : c->wlen;
		w = SSL_write(c->ssl, c->wbuf, (int)n);
		if (w > 0) {
			memmove(c->wbuf, c->wbuf + w, c->wlen - (size_t)w);
			c->wlen -= (size_t)w;
			continue;
		}
		e = SSL_get_error(c->ssl, w);
		if (e == SSL_ERROR_WANT_WRITE)
			c->want_write = 1;
		else if (e != SSL_ERROR_WANT_READ) {
			ossl_reason(r, sizeof(r));
			snprintf(why, sizeof(why), "write failed: %s", r);
			conn_close(c, why, now);
		}
		break;
	}
}

int
conn_send(struct conn *c, int type, const void *buf, size_t len)
{
	if (c->dead || c->st != C_UP || len > FR_MAX ||
	    c->wlen + FR_HDR + len > WBUF_MAX)
		return -1;
	if (c->wcap < c->wlen + FR_HDR + len) {
		c->wcap = c->wlen + FR_HDR + len + 4096;
		c->wbuf = xreallocarray(c->wbuf, 1, c->wcap);
	}
	c->wlen += frame_encode(c->wbuf + c->wlen, type, buf, len);
	flush(c, time(NULL));
	return c->dead ? -1 : 0;
}

static void
send_hb(struct tpeer *t, time_t now)
{
	char b[32];
	int n;

	n = snprintf(b, sizeof(b), "%lld", (long long)now);
	if (conn_send(t->conn, FR_HB, b, (size_t)n) == 0)
		t->hb_sent = now;
}

static void
touch(const char *path)
{
	int fd;

	if (utimensat(AT_FDCWD, path, NULL, 0) == 0 || errno != ENOENT)
		return;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0644)) != -1)
		close(fd);
}

/*
 * What STATUS tells of the certificate the peer presented: its CN, its
 * public key (which key the peer holds, as generate_certs --extend must
 * know) and its own expiry.
 */
static void
session_facts(struct tpeer *t)
{
	struct pki_info in;

	t->session_cn[0] = t->session_issuer[0] = t->session_key[0] = '\0';
	t->session_expires = 0;
	if (t->pcert == NULL)
		return;
	log_quiet(1);
	if (pki_cert_info(t->pcert, &in) == 0) {
		strlcpy(t->session_cn, in.cn, sizeof(t->session_cn));
		if (X509_NAME_get_text_by_NID(X509_get_issuer_name(t->pcert),
		    NID_commonName, t->session_issuer,
		    sizeof(t->session_issuer)) < 0)
			t->session_issuer[0] = '\0';
		t->session_expires = in.not_after;
	}
	if (pki_pubkey_sha256(t->pcert, t->session_key) == -1)
		t->session_key[0] = '\0';
	log_quiet(0);
}

/* Both ends accepted each other: the tunnel is up. */
static void
go_up(struct conn *c, time_t now)
{
	struct tpeer *t = c->peer;
	const SSL_CIPHER *ci;

	c->confirmed = 1;
	t->up = 1;
	t->since = now;
	t->hb_recv = 0;
	t->backoff = 1;
	ci = SSL_get_current_cipher(c->ssl);
	strlcpy(t->cipher, ci != NULL ? SSL_CIPHER_get_name(ci) : "-",
	    sizeof(t->cipher));
	t->bits = ci != NULL ? SSL_CIPHER_get_bits(ci, NULL) : 0;
	strlcpy(t->tls, SSL_get_version(c->ssl), sizeof(t->tls));
	t->chain = 1;		/* it was just verified against the CA */
	t->chain_gen = (t->outgoing ? &t->id : &sd.srv)->gen;
	session_facts(t);
	sflog(&sd.log, SFLOG_INFO, "Connected to %s", c->ip);
	sflog(&sd.log, SFLOG_INFO, "Peer %s (%s) using %s, %s (%d bits)",
	    t->p.name, t->p.uuid, t->tls, t->cipher, t->bits);
	send_hb(t, now);
}

static void
established(struct conn *c, time_t now)
{
	struct tpeer *t;
	char cn[128] = "";
	X509 *pc;

	pc = SSL_get1_peer_certificate(c->ssl);
	if (pc == NULL || X509_NAME_get_text_by_NID(X509_get_subject_name(pc),
	    NID_commonName, cn, sizeof(cn)) <= 0)
		cn[0] = '\0';
	if (c->incoming) {
		if ((t = tpeer_find(cn)) == NULL && tpeers_rescan() == 0)
			t = tpeer_find(cn);
		if (t == NULL || t->outgoing) {
			sflog(&sd.log, SFLOG_ERROR, "Refused connection from "
			    "%s: unknown peer %s", c->ip, cn[0] ? cn : "-");
			X509_free(pc);
			conn_close(c, "unknown peer", now);
			return;
		}
		if (t->conn != NULL && t->conn != c)
			conn_close(t->conn, "replaced by a new connection",
			    now);
		c->peer = t;
		t->conn = c;
		t->attempted = now;
	} else {
		t = c->peer;
		if (strcasecmp(cn, t->p.uuid) != 0) {
			sflog(&sd.log, SFLOG_ERROR, "Connect:peer %s presented "
			    "certificate for %s", c->ip, cn[0] ? cn : "-");
			sflog(&sd.log, SFLOG_ERROR, "Connect:SSL handshake "
			    "failed");
			X509_free(pc);
			conn_close(c, "peer certificate is not the peer's", now);
			return;
		}
	}
	c->st = C_UP;
	X509_free(t->pcert);
	t->pcert = pc;
	/*
	 * A client's TLS 1.3 handshake completes before the server has
	 * checked the client's certificate: an outgoing tunnel is up when
	 * the first frame of the other end arrives.
	 */
	if (c->incoming)
		go_up(c, now);
}

/* An incoming handshake failed before a CN was known: by address. */
static void
tpeer_attempt_from(const char *ip, const char *why, time_t now)
{
	size_t i;

	for (i = 0; i < sd.npeers; i++) {
		struct tpeer *t = sd.peers[i];

		if (t->outgoing || strcmp(t->p.ip, ip) != 0)
			continue;
		t->attempted = now;
		if (!t->up)
			strlcpy(t->disc_reason, why, sizeof(t->disc_reason));
	}
}

static void
handshake_failed(struct conn *c, const char *r, time_t now)
{
	char why[200];

	if (c->verr != 0)
		snprintf(why, sizeof(why), "certificate verify failed: err "
		    "%d:%s", c->verr, verr_string(c->verr));
	else
		snprintf(why, sizeof(why), "SSL handshake failed: %s", r);
	if (c->incoming) {
		tpeer_attempt_from(c->ip, why, now);
		if (c->verr != 0)
			sflog(&sd.log, SFLOG_ERROR, "Refused connection from "
			    "%s: %s", c->ip, why);
		else
			sflog(&sd.log, SFLOG_ERROR, "Accept:SSL handshake "
			    "failed from %s: %s", c->ip, r);
	} else {
		sflog(&sd.log, SFLOG_ERROR, "Connect:SSL handshake failed");
		sflog(&sd.log, SFLOG_ERROR, "Connect to %s failed: %s",
		    c->ip, c->verr != 0 ? why : r);
	}
	conn_close(c, why, now);
}

static void
do_handshake(struct conn *c, time_t now)
{
	char r[128];
	int rv, e;

	c->want_write = 0;
	ERR_clear_error();
	if ((rv = SSL_do_handshake(c->ssl)) == 1) {
		established(c, now);
		return;
	}
	e = SSL_get_error(c->ssl, rv);
	if (e == SSL_ERROR_WANT_READ)
		return;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = 1;
		return;
	}
	ossl_reason(r, sizeof(r));
	handshake_failed(c, r, now);
}

static void
frame(struct conn *c, int type, const unsigned char *p, size_t len,
    time_t now)
{
	struct tpeer *t = c->peer;

	if (!c->confirmed)
		go_up(c, now);
	switch (type) {
	case FR_HB:
		t->hb_recv = now;
		touch(t->hbpath);
		break;
	case FR_PUSH:
		push_receive(c, p, len);
		break;
	case FR_PUSHR:
		control_push_result(t, p, len);
		break;
	default:
		conn_close(c, "protocol error: unknown frame", now);
	}
}

static void
parse_frames(struct conn *c, time_t now)
{
	size_t off = 0, len;
	int type, r;

	while (!c->dead) {
		r = frame_decode(c->rbuf + off, c->rlen - off, &type, &len);
		if (r == -1) {
			conn_close(c, "protocol error: frame too long", now);
			return;
		}
		if (r == 0)
			break;
		frame(c, type, c->rbuf + off + FR_HDR, len, now);
		off += FR_HDR + len;
	}
	if (off > 0 && !c->dead) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
}

static void
readable(struct conn *c, time_t now)
{
	char why[160], r[128];
	int n, e;

	while (!c->dead) {
		if (c->rcap - c->rlen < 16384) {
			c->rcap = c->rcap == 0 ? 32768 : c->rcap * 2;
			if (c->rcap > FR_MAX + FR_HDR + 65536) {
				conn_close(c, "protocol error: too much data",
				    now);
				return;
			}
			c->rbuf = xreallocarray(c->rbuf, 1, c->rcap);
		}
		n = SSL_read(c->ssl, c->rbuf + c->rlen,
		    (int)(c->rcap - c->rlen));
		if (n > 0) {
			c->rlen += (size_t)n;
			parse_frames(c, now);
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = 1;
			break;
		}
		if (!c->confirmed) {
			ossl_reason(r, sizeof(r));
			handshake_failed(c, r, now);
		} else if (e == SSL_ERROR_ZERO_RETURN)
			conn_close(c, "peer closed the connection", now);
		else {
			ossl_reason(r, sizeof(r));
			snprintf(why, sizeof(why), "connection lost: %s", r);
			conn_close(c, why, now);
		}
	}
}

void
conn_io(struct conn *c, short revents, time_t now)
{
	char why[160];
	socklen_t sl;
	int err = 0;

	if (c->dead)
		return;
	switch (c->st) {
	case C_CONNECTING:
		sl = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
			err = errno;
		if (err != 0) {
			sflog(&sd.log, SFLOG_ERROR, "Connect to %s failed: %s",
			    c->ip, strerror(err));
			snprintf(why, sizeof(why), "connect: %s",
			    strerror(err));
			conn_close(c, why, now);
			return;
		}
		if (start_tls(c, c->peer->id.ctx) == -1) {
			conn_close(c, "tls setup", now);
			return;
		}
		do_handshake(c, now);
		break;
	case C_HANDSHAKE:
		do_handshake(c, now);
		break;
	case C_UP:
		if (revents & POLLOUT)
			flush(c, now);
		if (!c->dead && (revents & (POLLIN | POLLHUP | POLLERR)))
			readable(c, now);
		if (!c->dead && c->want_write == 0 && c->wlen > 0)
			flush(c, now);
		break;
	}
}

void
conn_timers(time_t now)
{
	struct tpeer *t;
	time_t last;
	size_t i;

	for (i = 0; i < sd.nconns; i++) {
		struct conn *c = sd.conns[i];

		if (!c->dead && !c->confirmed &&
		    now - c->t0 >= hs_timeout()) {
			if (!c->incoming)
				sflog(&sd.log, SFLOG_ERROR, "Connect to %s "
				    "failed: handshake timeout", c->ip);
			conn_close(c, "handshake timeout", now);
		}
	}
	for (i = 0; i < sd.npeers; i++) {
		t = sd.peers[i];
		if (t->up) {
			last = t->hb_recv > t->since ? t->hb_recv : t->since;
			if (now - last >= 3 * sd.hb) {
				sflog(&sd.log, SFLOG_WARN, "Heartbeat timeout "
				    "from %s: no heartbeat for %lld seconds",
				    t->p.ip, (long long)(now - last));
				conn_close(t->conn, "heartbeat timeout", now);
			} else if (now - t->hb_sent >= sd.hb)
				send_hb(t, now);
		} else if (t->outgoing && t->conn == NULL &&
		    now >= t->next_try)
			conn_connect(t, now);
	}
}
