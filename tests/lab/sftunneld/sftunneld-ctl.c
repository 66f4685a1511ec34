// SPDX-License-Identifier: ISC
/* sftunneld-ctl.c -- the control socket: STATUS, PUSH, RELOAD */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "sfile.h"
#include "xmalloc.h"
#include "sftunneld.h"
#include "root.h"
#include "banned.h"

#define CTL_REQ_MAX	(CTL_PUSH_MAX * (CTL_FILE_MAX + 256) + 256)
#define CTL_IDLE	10

struct control_client {
	int		 fd;
	char		*buf;		/* the request */
	size_t		 len, cap;
	char		*out;		/* the reply */
	size_t		 olen, ooff;
	time_t		 t0;
	struct tpeer	*pushpeer;	/* waiting for this peer's answer */
	unsigned	 pushid;
	time_t		 deadline;
	size_t		 nfiles;
	char		 names[CTL_PUSH_MAX][32];
	int		 dead;
};

int
control_listen(void)
{
	struct sockaddr_un sun;
	char *dir;
	mode_t om;
	int fd = -1, rc = -1;

	dir = root_path(RP_RUN);
	sd.sockpath = root_path(RP_CTL_SOCK);
	if (sfile_mkdirs(dir, 0700) == -1)
		goto out;
	if (chmod(dir, 0700) == -1) {
		log_warn("%s", dir);
		goto out;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sd.sockpath, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("%s: path too long", sd.sockpath);
		goto out;
	}
	/* The pidfile made us the only daemon of this root: a socket left
	 * here is stale. */
	(void)unlink(sd.sockpath);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("socket");
		goto out;
	}
	om = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(om);
		log_warn("%s", sd.sockpath);
		goto out;
	}
	umask(om);
	if (chmod(sd.sockpath, 0600) == -1 || listen(fd, 64) == -1) {
		log_warn("%s", sd.sockpath);
		goto out;
	}
	sd.cfd = fd;
	fd = -1;
	rc = 0;
 out:
	if (fd != -1)
		close(fd);
	free(dir);
	return rc;
}

void
control_accept(time_t now)
{
	struct ucred cr;
	socklen_t sl;
	struct control_client *cc;
	int fd;

	while ((fd = accept4(sd.cfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		sl = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) == -1 ||
		    cr.uid != 0) {
			(void)send(fd, "ERR permission denied\n", 22,
			    MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		cc = xcalloc(1, sizeof(*cc));
		cc->fd = fd;
		cc->t0 = now;
		sd.ctls = xreallocarray(sd.ctls, sd.nctls + 1,
		    sizeof(*sd.ctls));
		sd.ctls[sd.nctls++] = cc;
	}
	if (errno == EMFILE || errno == ENFILE)
		sd.accept_pause = now + ACCEPT_PAUSE;
}

int
control_fd(struct control_client *cc)
{
	return cc->fd;
}

short
control_events(struct control_client *cc)
{
	if (cc->out != NULL)
		return POLLOUT;
	if (cc->pushpeer != NULL)
		return 0;
	return POLLIN;
}

static void
reply(struct control_client *cc, char *out, size_t len)
{
	free(cc->out);
	cc->out = out;		/* transferred */
	cc->olen = len;
	cc->ooff = 0;
	cc->pushpeer = NULL;
}

static void
reply_str(struct control_client *cc, const char *s)
{
	reply(cc, xstrdup(s), strlen(s));
}

/* Every file of a pending or refused push gets the same ERR. */
static void
reply_push_err(struct control_client *cc, const char *why)
{
	char *out = NULL, *line;
	size_t len = 0, i;

	for (i = 0; i < cc->nfiles; i++) {
		line = xasprintf("ERR %s %s\n", cc->names[i], why);
		out = xreallocarray(out, 1, len + strlen(line) + 5);
		memcpy(out + len, line, strlen(line));
		len += strlen(line);
		free(line);
	}
	out = xreallocarray(out, 1, len + 5);
	memcpy(out + len, "END\n", 5);
	reply(cc, out, len + 4);
}

struct sbuf {
	char	*b;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *s, const char *k, const char *v)
{
	char enc[512];
	size_t n;

	n = ctl_pct_encode(v, enc, sizeof(enc));
	if (s->cap - s->len < n + strlen(k) + 4) {
		s->cap = (s->cap + n + strlen(k) + 4) * 2;
		s->b = xreallocarray(s->b, 1, s->cap);
	}
	s->len += (size_t)snprintf(s->b + s->len, s->cap - s->len, "%s%s=%s",
	    s->len > 0 && s->b[s->len - 1] != '\n' ? " " : "", k, enc);
}

static void
sb_num(struct sbuf *s, const char *k, long long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", v);
	sb_add(s, k, b);
}

static void
sb_raw(struct sbuf *s, const char *text)
{
	size_t n = strlen(text);

	if (s->cap - s->len < n + 1) {
		s->cap = (s->cap + n + 1) * 2;
		s->b = xreallocarray(s->b, 1, s->cap);
	}
	memcpy(s->b + s->len, text, n + 1);
	s->len += n;
}

static void
do_status(struct control_client *cc)
{
	static const char *chain[] = { "unknown", "no", "yes" };
	struct sbuf s = { NULL, 0, 0 };
	struct tpeer *t;
	X509 *ca;
	size_t i;

	if (strcmp(sd.kind, "fmc") == 0)
		(void)ident_refresh(&sd.srv, 1, 0);
	ca = issued_ca();	/* once for every peer of an FMC */
	sb_raw(&s, "DAEMON");
	sb_num(&s, "pid", (long long)getpid());
	sb_num(&s, "started", (long long)sd.started);
	sb_num(&s, "gen", sd.gen);
	sb_add(&s, "uuid", sd.uuid);
	sb_add(&s, "host", sd.host);
	sb_add(&s, "addr", sd.addr);
	sb_add(&s, "kind", sd.kind);
	sb_num(&s, "hb", sd.hb);
	sb_num(&s, "peers", (long long)sd.npeers);
	sb_raw(&s, "\n");
	for (i = 0; i < sd.npeers; i++) {
		t = sd.peers[i];
		if (t->outgoing)
			(void)ident_refresh(&t->id, 0, 0);
		tpeer_chain_update(t);
		tpeer_issued_update(t, ca);
		sb_raw(&s, "PEER");
		sb_add(&s, "uuid", t->p.uuid);
		sb_add(&s, "name", t->p.name);
		sb_add(&s, "ip", t->p.ip);
		sb_add(&s, "role", t->p.role);
		sb_add(&s, "state", t->up ? "up" : "down");
		sb_num(&s, "since", t->up ? (long long)t->since : 0);
		sb_num(&s, "attempted", (long long)t->attempted);
		sb_num(&s, "hb_sent", t->up ? (long long)t->hb_sent : 0);
		sb_num(&s, "hb_recv", t->up ? (long long)t->hb_recv : 0);
		sb_num(&s, "disc_time", (long long)t->disc_time);
		sb_add(&s, "disc_reason", t->disc_reason);
		sb_add(&s, "cipher", t->up ? t->cipher : "");
		sb_num(&s, "cipher_bits", t->up ? t->bits : 0);
		sb_add(&s, "tls", t->up ? t->tls : "");
		sb_add(&s, "chain", chain[t->chain + 1]);
		sb_add(&s, "issued", chain[t->issued + 1]);
		sb_add(&s, "session_cn", t->up ? t->session_cn : "");
		sb_add(&s, "session_issuer", t->up ? t->session_issuer : "");
		sb_add(&s, "session_key", t->up ? t->session_key : "");
		sb_num(&s, "session_expires", t->up ?
		    (long long)t->session_expires : 0);
		sb_raw(&s, "\n");
	}
	sb_raw(&s, "OK\n");
	reply(cc, s.b, s.len);
}

static void
do_reload(struct control_client *cc)
{
	size_t i;

	sflog(&sd.log, SFLOG_INFO, "Reloading certificates");
	(void)tpeers_rescan();
	if (strcmp(sd.kind, "fmc") == 0)
		(void)ident_refresh(&sd.srv, 1, 1);
	for (i = 0; i < sd.npeers; i++)
		if (sd.peers[i]->outgoing)
			(void)ident_refresh(&sd.peers[i]->id, 0, 1);
	reply_str(cc, "OK\n");
}

/*
 * A complete PUSH request is in cc->buf: "PUSH uuid n\n" and n files.
 * Returns 0 when incomplete, 1 when handled, -1 when malformed.
 */
static int
do_push(struct control_client *cc, time_t now)
{
	struct frame_ctlpush r;
	struct tpeer *t;
	char *p, *payload;
	size_t i, plen;
	int rv;

	if ((rv = frame_ctl_push(cc->buf, cc->len, &r)) != 1)
		return rv;
	for (i = 0; i < r.n; i++) {
		if (strlen(r.f[i].name) >= sizeof(cc->names[i]))
			return -1;
		strlcpy(cc->names[i], r.f[i].name, sizeof(cc->names[i]));
	}
	cc->nfiles = r.n;
	if ((t = tpeer_find(r.uuid)) == NULL) {
		reply_push_err(cc, "unknown peer");
		return 1;
	}
	if (!t->up) {
		reply_push_err(cc, "peer down");
		return 1;
	}
	cc->pushid = ++sd.push_seq;
	p = xasprintf("%u %zu\n", cc->pushid, r.n);
	plen = strlen(p) + r.end - r.hlen;
	payload = xmalloc(plen);
	memcpy(payload, p, strlen(p));
	memcpy(payload + strlen(p), cc->buf + r.hlen, r.end - r.hlen);
	if (conn_send(t->conn, FR_PUSH, payload, plen) == -1)
		reply_push_err(cc, "tunnel write failed");
	else {
		cc->pushpeer = t;
		cc->deadline = now + sd.push_timeout;
	}
	freezero(payload, plen);
	free(p);
	return 1;
}

/* 0 incomplete, 1 handled. */
static int
handle(struct control_client *cc, time_t now)
{
	char *nl;
	int r;

	if ((nl = memchr(cc->buf, '\n', cc->len)) == NULL) {
		if (cc->len > 256) {
			reply_str(cc, "ERR request line too long\n");
			return 1;
		}
		return 0;
	}
	if (strncmp(cc->buf, "STATUS\n", 7) == 0)
		do_status(cc);
	else if (strncmp(cc->buf, "RELOAD\n", 7) == 0)
		do_reload(cc);
	else if (strncmp(cc->buf, "PUSH ", 5) == 0) {
		if ((r = do_push(cc, now)) == 0)
			return 0;
		if (r == -1)
			reply_str(cc, "ERR malformed PUSH request\n");
	} else
		reply_str(cc, "ERR unknown request\n");
	return 1;
}

void
control_io(struct control_client *cc, short revents, time_t now)
{
	ssize_t r;

	if (cc->out != NULL) {
		r = send(cc->fd, cc->out + cc->ooff, cc->olen - cc->ooff,
		    MSG_NOSIGNAL);
		if (r > 0)
			cc->ooff += (size_t)r;
		if ((r == -1 && errno != EAGAIN && errno != EINTR) ||
		    cc->ooff == cc->olen)
			cc->dead = 1;
		return;
	}
	if (cc->pushpeer != NULL) {
		if (revents & (POLLHUP | POLLERR))
			cc->dead = 1;
		return;
	}
	if (cc->cap - cc->len < 65536) {
		cc->cap = cc->cap == 0 ? 65536 : cc->cap * 2;
		if (cc->cap > CTL_REQ_MAX + 65536) {
			cc->dead = 1;
			return;
		}
		cc->buf = xreallocarray(cc->buf, 1, cc->cap + 1);
	}
	r = recv(cc->fd, cc->buf + cc->len, cc->cap - cc->len, 0);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		cc->dead = 1;
		return;
	}
	cc->len += (size_t)r;
	cc->buf[cc->len] = '\0';
	(void)handle(cc, now);
}

void
control_timers(time_t now)
{
	size_t i;

	for (i = 0; i < sd.nctls; i++) {
		struct control_client *cc = sd.ctls[i];

		if (cc->pushpeer != NULL && now >= cc->deadline)
			reply_push_err(cc, "timeout");
		else if (cc->pushpeer == NULL && cc->out == NULL &&
		    now - cc->t0 > CTL_IDLE)
			cc->dead = 1;
	}
}

void
control_push_result(struct tpeer *t, const unsigned char *p, size_t len)
{
	unsigned id;
	size_t i, used;
	char *out;

	if (frame_pushr_head(p, len, &id, &used) != 1)
		return;
	for (i = 0; i < sd.nctls; i++) {
		struct control_client *cc = sd.ctls[i];

		if (cc->pushpeer != t || cc->pushid != id)
			continue;
		len -= used;
		out = xmalloc(len + 1);
		memcpy(out, p + used, len);
		out[len] = '\0';
		reply(cc, out, len);
		return;
	}
}

void
control_peer_lost(struct tpeer *t)
{
	size_t i;

	for (i = 0; i < sd.nctls; i++)
		if (sd.ctls[i]->pushpeer == t)
			reply_push_err(sd.ctls[i], "tunnel lost");
}

static void
control_client_free(struct control_client *cc)
{
	if (cc == NULL)
		return;
	close(cc->fd);
	/* requests carry keys: wipe them */
	if (cc->buf != NULL)
		freezero(cc->buf, cc->cap + 1);
	free(cc->out);
	free(cc);
}

void
control_reap(void)
{
	size_t i = 0;

	while (i < sd.nctls) {
		if (sd.ctls[i]->dead) {
			control_client_free(sd.ctls[i]);
			sd.ctls[i] = sd.ctls[--sd.nctls];
		} else
			i++;
	}
}

void
control_shutdown(void)
{
	size_t i;

	for (i = 0; i < sd.nctls; i++)
		control_client_free(sd.ctls[i]);
	free(sd.ctls);
	sd.ctls = NULL;
	sd.nctls = 0;
	if (sd.cfd != -1) {
		close(sd.cfd);
		(void)unlink(sd.sockpath);
	}
	sd.cfd = -1;
	free(sd.sockpath);
	sd.sockpath = NULL;
}
