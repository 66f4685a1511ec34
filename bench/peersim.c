// SPDX-License-Identifier: ISC
/* peersim -- many FTD ends of sftunnel in one process, for the benchmarks */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "frame.h"

/*
 * usage: peersim [-i heartbeat] [-T lifetime] labdir
 *
 * Plays every FTD of a lab made by mktree (hosts.txt, hosts/<name>/root)
 * against the FMC's real sftunneld, speaking sftunnel(7): one TLS 1.2+
 * client per FTD, bound to the FTD's own address, presenting the identity
 * in the FTD's var/sf/peers/<FMC>/ and trusting that folder's cacert.pem;
 * frames of one type byte, a 4-byte big-endian length and the payload,
 * through the daemon's own framing (tests/lab/sftunneld/frame.c).
 * It sends a heartbeat every interval, declares the FMC gone after three
 * silent intervals, answers each push by checking the SHA-256, writing the
 * file into the FTD's folder (temporary file, flushed, renamed; keys 0600;
 * one syncfs for all the files of a loop, as a thousand FTDs would fsync
 * at the same time) and acknowledging with the hash of what is on disk, and reconnects after a
 * loss (at once, then 1 s, 2 s) reading the files afresh, so that pushed
 * identities are used at the next handshake, with at most 32 handshakes
 * in flight (MAXHS).  No backup/ copies are kept:
 * that is the real daemon's job, not the protocol's.
 *
 * One process instead of a thousand daemons (a daemon is ~7 MB resident).
 * It stops by itself after lifetime seconds (default 1800), or on SIGTERM,
 * and prints a summary line on stderr.
 */

#define NFILES		3

enum st { S_IDLE, S_CONNECTING, S_HANDSHAKE, S_UP };

struct peer {
	char	 name[32];
	char	 addr[64];
	char	 dir[PATH_MAX];		/* var/sf/peers/<fmc>/ of the FTD */
	enum st	 st;
	int	 fd;
	int	 confirmed;		/* a frame of the FMC has arrived */
	SSL_CTX	*ctx;
	SSL	*ssl;
	unsigned char *rbuf, *wbuf;
	size_t	 rlen, rcap, wlen, wcap;
	int	 want_write;
	time_t	 t0, last_rx, hb_sent, next_try;
	int	 backoff;
};

static struct peer *peers;
static size_t	 npeers;
static char	 fmc_addr[64], fmc_uuid[64];
static int	 hb = 5;
static volatile sig_atomic_t stop;
static unsigned long n_conn, n_lost, n_push_files, n_push_err, n_hs_fail;

static const char *const pushable[NFILES] = {
	"cacert.pem", "sftunnel-cert.pem", "sftunnel-key.pem"
};

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
sha256_hex(const void *p, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		errx(1, "sha256 failed");
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
load_hosts(const char *lab)
{
	char path[PATH_MAX], line[512], name[32], role[16], addr[64], uuid[64];
	FILE *f;
	size_t cap = 0;
	struct peer *p;

	snprintf(path, sizeof(path), "%s/hosts.txt", lab);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' ||
		    sscanf(line, "%31s %15s %63s %63s", name, role, addr,
		    uuid) != 4)
			continue;
		if (strcmp(role, "fmc") == 0) {
			snprintf(fmc_addr, sizeof(fmc_addr), "%s", addr);
			snprintf(fmc_uuid, sizeof(fmc_uuid), "%s", uuid);
			continue;
		}
		if (strcmp(role, "ftd") != 0)
			continue;
		if (npeers == cap) {
			cap = cap ? cap * 2 : 256;
			if ((peers = reallocarray(peers, cap,
			    sizeof(*peers))) == NULL)
				err(1, NULL);
		}
		p = &peers[npeers++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", name);
		snprintf(p->addr, sizeof(p->addr), "%s", addr);
		p->fd = -1;
	}
	fclose(f);
	if (fmc_uuid[0] == '\0')
		errx(1, "%s: no fmc line", path);
	for (size_t i = 0; i < npeers; i++)
		if ((size_t)snprintf(peers[i].dir, sizeof(peers[i].dir),
		    "%s/hosts/%s/root/var/sf/peers/%s", lab, peers[i].name,
		    fmc_uuid) >= sizeof(peers[i].dir))
			errx(1, "%s: path too long", lab);
}

/* The TLS context from the files as they are now. */
static SSL_CTX *
ctx_build(struct peer *p)
{
	char c[PATH_MAX + 32], k[PATH_MAX + 32], ca[PATH_MAX + 32];
	SSL_CTX *ctx;

	snprintf(c, sizeof(c), "%s/sftunnel-cert.pem", p->dir);
	snprintf(k, sizeof(k), "%s/sftunnel-key.pem", p->dir);
	snprintf(ca, sizeof(ca), "%s/cacert.pem", p->dir);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_use_certificate_file(ctx, c, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, k, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		warnx("%s: cannot load the identity or the CA", p->name);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void
drop(struct peer *p, time_t now)
{
	if (p->st == S_UP && p->confirmed)
		n_lost++;
	SSL_free(p->ssl);
	p->ssl = NULL;
	SSL_CTX_free(p->ctx);
	p->ctx = NULL;
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	p->rlen = p->wlen = 0;
	p->want_write = 0;
	if (p->confirmed) {
		p->backoff = 1;
		p->next_try = now;
	} else {
		p->next_try = now + p->backoff;
		p->backoff = p->backoff >= 2 ? 2 : p->backoff * 2;
	}
	p->confirmed = 0;
	p->st = S_IDLE;
	ERR_clear_error();
}

static void
dial(struct peer *p, time_t now)
{
	struct sockaddr_in src, dst;

	p->t0 = now;
	if ((p->ctx = ctx_build(p)) == NULL) {
		drop(p, now);
		return;
	}
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.sin_family = dst.sin_family = AF_INET;
	dst.sin_port = htons(8305);
	if (inet_pton(AF_INET, p->addr, &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, fmc_addr, &dst.sin_addr) != 1)
		errx(1, "%s: bad address", p->name);
	if ((p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		warn("socket");
		drop(p, now);
		return;
	}
	if (bind(p->fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    (connect(p->fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS)) {
		drop(p, now);
		return;
	}
	p->st = S_CONNECTING;
}

static int
flush(struct peer *p, time_t now)
{
	int w, e;

	p->want_write = 0;
	while (p->wlen > 0) {
		w = SSL_write(p->ssl, p->wbuf,
		    p->wlen > INT_MAX ? INT_MAX : (int)p->wlen);
		if (w > 0) {
			memmove(p->wbuf, p->wbuf + w, p->wlen - (size_t)w);
			p->wlen -= (size_t)w;
			continue;
		}
		e = SSL_get_error(p->ssl, w);
		if (e == SSL_ERROR_WANT_WRITE)
			p->want_write = 1;
		else if (e != SSL_ERROR_WANT_READ) {
			drop(p, now);
			return -1;
		}
		break;
	}
	return 0;
}

static int
send_frame(struct peer *p, int type, const void *buf, size_t len,
    time_t now)
{
	if (p->wcap < p->wlen + FR_HDR + len) {
		p->wcap = p->wlen + FR_HDR + len + 4096;
		if ((p->wbuf = realloc(p->wbuf, p->wcap)) == NULL)
			err(1, NULL);
	}
	p->wlen += frame_encode(p->wbuf + p->wlen, type, buf, len);
	return flush(p, now);
}

static int
send_hb(struct peer *p, time_t now)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%lld", (long long)now);

	p->hb_sent = now;
	return send_frame(p, FR_HB, b, (size_t)n, now);
}

/*
 * A pushed file written to its temporary and not yet acknowledged: the
 * answers of a loop's pushes wait for one syncfs (flush_pending), then
 * the renames, then go out.  Each FTD would fsync its own disk at the
 * same time as the others; one fsync after the other in this process
 * would make the bench measure this machine's disk a thousand times over
 * (8 ms a file here, 16 s for a renewal's 2000 files).
 */
struct pend {
	struct peer	*p;
	unsigned	 id;
	char		 name[64];
	char		 sha[65];
	const char	*why;		/* NULL: OK once renamed */
	char		*tmp, *path;	/* NULL when nothing was written */
};
static struct pend *pend;
static size_t	 npend, cpend;
static int	 syncfd = -1;	/* the lab folder, for syncfs */

static struct pend *
pend_add(struct peer *p, unsigned id, const char *name)
{
	struct pend *e;

	if (npend == cpend) {
		cpend = cpend ? cpend * 2 : 256;
		if ((pend = realloc(pend, cpend * sizeof(*pend))) == NULL)
			err(1, NULL);
	}
	e = &pend[npend++];
	memset(e, 0, sizeof(*e));
	e->p = p;
	e->id = id;
	snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

/* Write one pushed file to its temporary, the way the daemon does. */
static void
store(struct pend *e, const unsigned char *data, size_t len,
    const char *want)
{
	char path[PATH_MAX + 80], tmp[PATH_MAX + 96];
	int i, known = 0, fd;
	int key = strcmp(e->name, "sftunnel-key.pem") == 0;
	ssize_t w;
	size_t off;

	for (i = 0; i < NFILES; i++)
		if (strcmp(e->name, pushable[i]) == 0)
			known = 1;
	if (!known) {
		e->why = "not a pushable file";
		return;
	}
	sha256_hex(data, len, e->sha);
	if (strcmp(e->sha, want) != 0) {
		e->why = "sha256 mismatch in transit";
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", e->p->dir, e->name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.peersim", e->p->dir, e->name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, key ? 0600 : 0644)) == -1) {
		e->why = "write failed";
		return;
	}
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(fd, data + off, len - off)) <= 0) {
			close(fd);
			unlink(tmp);
			e->why = "write failed";
			return;
		}
	if (close(fd) == -1) {
		unlink(tmp);
		e->why = "write failed";
		return;
	}
	if ((e->tmp = strdup(tmp)) == NULL || (e->path = strdup(path)) == NULL)
		err(1, NULL);
}

static void
push(struct peer *p, const unsigned char *b, size_t len)
{
	const unsigned char *end = b + len;
	struct frame_file f;
	unsigned id;
	size_t n, i, used;

	if (frame_push_head(b, len, &id, &n, &used) != 1)
		return;
	b += used;
	for (i = 0; i < n; i++) {
		if (frame_file_head(b, (size_t)(end - b), &f, &used) != 1 ||
		    f.size > (size_t)(end - (b + used)))
			break;
		b += used;
		store(pend_add(p, id, f.name), b, f.size, f.sha);
		b += f.size;
	}
	for (; i < n; i++) {
		char nm[32];

		snprintf(nm, sizeof(nm), "file%zu", i);
		pend_add(p, id, nm)->why = "malformed push";
	}
}

/*
 * Every file written in this loop to disk at once (syncfs), then each
 * renamed over its file, then each push answered, "OK name sha256" for
 * what is on disk: an answer still means the file is there to stay.
 */
static void
flush_pending(time_t now)
{
	char out[2048];
	size_t i, j, o;
	int synced;

	if (npend == 0)
		return;
	synced = syncfs(syncfd) == 0;
	for (i = 0; i < npend; i++) {
		struct pend *e = &pend[i];

		if (e->tmp == NULL)
			continue;
		if (!synced || rename(e->tmp, e->path) == -1) {
			unlink(e->tmp);
			e->why = "write failed";
		}
	}
	for (i = 0; i < npend; i = j) {
		struct peer *p = pend[i].p;

		o = (size_t)snprintf(out, sizeof(out), "%u\n", pend[i].id);
		for (j = i; j < npend && pend[j].p == p &&
		    pend[j].id == pend[i].id; j++) {
			struct pend *e = &pend[j];

			if (e->why == NULL) {
				n_push_files++;
				o += (size_t)snprintf(out + o, sizeof(out) - o,
				    "OK %s %s\n", e->name, e->sha);
			} else {
				n_push_err++;
				o += (size_t)snprintf(out + o, sizeof(out) - o,
				    "ERR %s %s\n", e->name, e->why);
			}
		}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "END\n");
		if (p->st == S_UP)
			(void)send_frame(p, FR_PUSHR, out, o, now);
	}
	for (i = 0; i < npend; i++) {
		free(pend[i].tmp);
		free(pend[i].path);
	}
	npend = 0;
}

static void
frames(struct peer *p, time_t now)
{
	size_t off = 0, len;
	int type, r;

	while (p->st == S_UP) {
		r = frame_decode(p->rbuf + off, p->rlen - off, &type, &len);
		if (r == -1) {
			drop(p, now);
			return;
		}
		if (r == 0)
			break;
		p->last_rx = now;
		if (!p->confirmed) {
			p->confirmed = 1;
			n_conn++;
		}
		if (type == FR_PUSH)
			push(p, p->rbuf + off + FR_HDR, len);
		else if (type != FR_HB) {
			drop(p, now);
			return;
		}
		off += FR_HDR + len;
	}
	if (p->st == S_UP && off > 0) {
		memmove(p->rbuf, p->rbuf + off, p->rlen - off);
		p->rlen -= off;
	}
}

static void
readable(struct peer *p, time_t now)
{
	int n, e;

	while (p->st == S_UP) {
		if (p->rcap - p->rlen < 16384) {
			p->rcap = p->rcap ? p->rcap * 2 : 32768;
			if (p->rcap > FR_MAX + FR_HDR + 65536) {
				drop(p, now);
				return;
			}
			if ((p->rbuf = realloc(p->rbuf, p->rcap)) == NULL)
				err(1, NULL);
		}
		n = SSL_read(p->ssl, p->rbuf + p->rlen,
		    (int)(p->rcap - p->rlen));
		if (n > 0) {
			p->rlen += (size_t)n;
			frames(p, now);
			continue;
		}
		e = SSL_get_error(p->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE)
			p->want_write = 1;
		else if (e != SSL_ERROR_WANT_READ) {
			if (!p->confirmed)
				n_hs_fail++;
			drop(p, now);
		}
		return;
	}
}

static void
handshake(struct peer *p, time_t now)
{
	char cn[128] = "";
	X509 *pc;
	int r, e;

	p->want_write = 0;
	ERR_clear_error();
	if ((r = SSL_do_handshake(p->ssl)) == 1) {
		pc = SSL_get1_peer_certificate(p->ssl);
		if (pc == NULL || X509_NAME_get_text_by_NID(
		    X509_get_subject_name(pc), NID_commonName, cn,
		    sizeof(cn)) <= 0 || strcasecmp(cn, fmc_uuid) != 0) {
			X509_free(pc);
			n_hs_fail++;
			drop(p, now);
			return;
		}
		X509_free(pc);
		p->st = S_UP;
		p->last_rx = now;
		(void)send_hb(p, now);
		return;
	}
	e = SSL_get_error(p->ssl, r);
	if (e == SSL_ERROR_WANT_WRITE)
		p->want_write = 1;
	else if (e != SSL_ERROR_WANT_READ) {
		n_hs_fail++;
		drop(p, now);
	}
}

static void
io(struct peer *p, short rev, time_t now)
{
	socklen_t sl;
	int e = 0;

	switch (p->st) {
	case S_CONNECTING:
		sl = sizeof(e);
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1 ||
		    e != 0) {
			drop(p, now);
			return;
		}
		if ((p->ssl = SSL_new(p->ctx)) == NULL ||
		    SSL_set_fd(p->ssl, p->fd) != 1) {
			drop(p, now);
			return;
		}
		SSL_set_connect_state(p->ssl);
		p->st = S_HANDSHAKE;
		handshake(p, now);
		break;
	case S_HANDSHAKE:
		handshake(p, now);
		break;
	case S_UP:
		if ((rev & POLLOUT) && flush(p, now) == -1)
			return;
		if (rev & (POLLIN | POLLHUP | POLLERR))
			readable(p, now);
		if (p->st == S_UP && !p->want_write && p->wlen > 0)
			(void)flush(p, now);
		break;
	default:
		break;
	}
}

/*
 * At most MAXHS handshakes in flight: the thousand FTDs share this
 * process and the machine's cores with the FMC, so a thousand at once
 * would each take longer than the handshake timeout on a busy machine,
 * all be dropped and all dial again, and none come up (a real fleet
 * brings a CPU per device).
 */
#define MAXHS	32

static void
timers(time_t now)
{
	size_t i, inflight = 0;

	for (i = 0; i < npeers; i++)
		if (peers[i].st == S_CONNECTING || peers[i].st == S_HANDSHAKE)
			inflight++;
	for (i = 0; i < npeers; i++) {
		struct peer *p = &peers[i];

		switch (p->st) {
		case S_IDLE:
			if (now >= p->next_try && inflight < MAXHS) {
				dial(p, now);
				if (p->st == S_CONNECTING)
					inflight++;
			}
			break;
		case S_CONNECTING:
		case S_HANDSHAKE:
			if (now - p->t0 >= 3 * hb) {
				n_hs_fail++;
				drop(p, now);
			}
			break;
		case S_UP:
			if (now - p->last_rx >= 3 * hb)
				drop(p, now);
			else if (now - p->hb_sent >= hb)
				(void)send_hb(p, now);
			break;
		}
	}
}

int
main(int argc, char *argv[])
{
	struct pollfd *pfd;
	struct sigaction sa;
	struct rlimit rl;
	size_t *idx, n, i;
	time_t now, end;
	long life = 1800;
	int ch;

	while ((ch = getopt(argc, argv, "i:T:")) != -1) {
		switch (ch) {
		case 'i':
			hb = atoi(optarg);
			break;
		case 'T':
			life = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || hb < 1 || life < 1)
		goto usage;
	load_hosts(argv[optind]);
	if ((syncfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		err(1, "%s", argv[optind]);
	rl.rlim_cur = rl.rlim_max = npeers + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < npeers + 256) {
		rl.rlim_cur = npeers + 256;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			warn("setrlimit RLIMIT_NOFILE %zu", npeers + 256);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((pfd = calloc(npeers, sizeof(*pfd))) == NULL ||
	    (idx = calloc(npeers, sizeof(*idx))) == NULL)
		err(1, NULL);
	now = time(NULL);
	end = now + life;
	for (i = 0; i < npeers; i++)
		peers[i].next_try = now + (time_t)(i % 2);	/* spread a little */
	while (!stop && now < end) {
		timers(now);
		for (i = n = 0; i < npeers; i++) {
			struct peer *p = &peers[i];

			if (p->st == S_IDLE || p->fd == -1)
				continue;
			pfd[n].fd = p->fd;
			if (p->st == S_CONNECTING)
				pfd[n].events = POLLOUT;
			else if (p->st == S_HANDSHAKE)
				pfd[n].events = p->want_write ? POLLOUT : POLLIN;
			else
				pfd[n].events = POLLIN | (p->wlen > 0 ||
				    p->want_write ? POLLOUT : 0);
			pfd[n].revents = 0;
			idx[n++] = i;
		}
		if (poll(pfd, n, 100) == -1 && errno != EINTR)
			err(1, "poll");
		now = time(NULL);
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				io(&peers[idx[i]], pfd[i].revents, now);
		flush_pending(now);
	}
	for (i = 0; i < npeers; i++)
		if (peers[i].st != S_IDLE)
			drop(&peers[i], now);
	fprintf(stderr, "peersim: %zu peers, %lu connections, %lu lost, "
	    "%lu handshakes failed, %lu files pushed, %lu refused\n", npeers,
	    n_conn, n_lost, n_hs_fail, n_push_files, n_push_err);
	return 0;
 usage:
	fprintf(stderr, "usage: peersim [-i heartbeat] [-T lifetime] labdir\n");
	return 2;
}
