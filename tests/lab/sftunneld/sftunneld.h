/* SPDX-License-Identifier: ISC */
/* sftunneld.h -- shared state of the sftunnel daemon's parts */
#ifndef SFTUNNELD_H
#define SFTUNNELD_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "frame.h"
#include "log.h"
#include "peers.h"

/*
 * One process, one poll() loop, non-blocking sockets and OpenSSL: an FMC
 * holds its peers' sessions without a thread per peer.  The parts:
 *	sftunneld.c		main, options, pidfile, signals, the loop
 *	sftunneld-peer.c	peers, identities, SSL_CTX (re)building, chain
 *	sftunneld-conn.c	connect, accept, handshake, frames, heartbeats
 *	sftunneld-ctl.c		the control socket (STATUS, PUSH, RELOAD)
 *	sftunneld-push.c	the receiving end of a file push
 *	frame.c			the framing of sftunnel(7), shared with the bench
 */

/* Tunnel frames (FR_*): frame.h. */
#define CTL_FILE_MAX	FR_FILE_MAX	/* a file pushed through the socket */
#define WBUF_MAX	(32 * 1024 * 1024)

/* Files watched for changes: cert, key, CA. */
struct ident {
	char		*path[3];
	struct stat	 st[3];
	SSL_CTX		*ctx;
	X509		*ca;		/* the CA as the files hold it now */
	unsigned	 gen;		/* bumped when ca changes */
};

enum cstate { C_CONNECTING, C_HANDSHAKE, C_UP };

struct conn;

/* What a file was when last read: a change of any field means re-read. */
struct fstamp {
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
};

/* A certificate file parsed once per change of the file. */
struct certcache {
	struct fstamp	 st;
	X509		*x;
};

struct tpeer {
	struct peer	 p;
	int		 outgoing;	/* we connect to it */
	struct ident	 id;		/* outgoing: this folder's identity */
	char		*hbpath;
	char		*pushdir;	/* where files pushed by it go */
	struct conn	*conn;		/* in progress or up */
	int		 up;
	time_t		 since, attempted, hb_sent, hb_recv, disc_time;
	time_t		 next_try;
	int		 backoff;
	char		 disc_reason[160];
	char		 cipher[64];
	int		 bits;
	char		 tls[16];
	X509		*pcert;		/* the certificate it presented */
	/* of pcert, taken when the tunnel comes up, for STATUS */
	char		 session_cn[64];
	char		 session_issuer[64];	/* the CN of its issuer */
	char		 session_key[65];	/* SHA-256 of its public key */
	time_t		 session_expires;
	int		 chain;		/* 1 yes, 0 no, -1 unknown */
	unsigned	 chain_gen;
	/*
	 * issued: the certificate in the peer folder chains to the CA on
	 * disk (an FMC's own, an FTD's cacert.pem for that FMC); 1 yes,
	 * 0 no, -1 unreadable.  Kept so that STATUS at 1000 peers parses
	 * only what changed.
	 */
	struct certcache issued_cert;
	struct certcache peer_ca;	/* an FTD's cacert.pem of that FMC */
	int		 issued;
};

struct pushwait;

struct conn {
	int		 fd;
	SSL		*ssl;
	enum cstate	 st;
	int		 incoming;
	int		 want_write;	/* OpenSSL asked for POLLOUT */
	char		 ip[46];
	time_t		 t0;
	struct tpeer	*peer;		/* NULL until an incoming CN is known */
	unsigned char	*rbuf;
	size_t		 rlen, rcap;
	unsigned char	*wbuf;
	size_t		 wlen, wcap;
	int		 verr, vdepth;	/* first verify failure */
	int		 dead;		/* closed at the end of this turn */
	int		 confirmed;	/* the other end accepted us too */
};

struct ctlc;

struct sftd {
	/* configuration */
	int		 hb;		/* heartbeat interval, seconds */
	int		 push_timeout;
	int		 backoff_cap;
	char		 uuid[37];
	char		 host[64];
	char		 addr[46];
	char		 kind[8];	/* fmc, ftd */
	int		 secondary;	/* HA_ROLE=secondary */
	unsigned	 gen;
	time_t		 started;
	char		**argv;
	struct sflog	 log;
	/* server side (an FMC) */
	int		 lfd;
	struct ident	 srv;
	/* peers and connections */
	struct tpeer	**peers;
	size_t		 npeers;
	struct conn	**conns;
	size_t		 nconns;
	/* control socket */
	int		 cfd;
	char		*sockpath;
	struct ctlc	**ctls;
	size_t		 nctls;
	unsigned	 push_seq;
};

extern struct sftd sd;

/* sftunneld-peer.c */
int	 peers_init(void);
int	 peers_rescan(void);
struct tpeer *tpeer_find(const char *uuid);
int	 ident_refresh(struct ident *, int server, int force);
void	 ident_release(struct ident *);
void	 tpeer_chain_update(struct tpeer *);
X509	*issued_ca(void);
void	 tpeer_issued_update(struct tpeer *, X509 *fmc_ca);
void	 certcache_release(struct certcache *);
void	 tpeers_free(void);
const char *verr_string(int);

/* sftunneld-conn.c */
void	 conn_connect(struct tpeer *, time_t now);
void	 conn_accept(int lfd, time_t now);
short	 conn_events(struct conn *);
void	 conn_io(struct conn *, short revents, time_t now);
void	 conn_timers(time_t now);
void	 conn_close(struct conn *, const char *reason, time_t now);
void	 conn_reap(void);
void	 conn_close_all(const char *reason);
int	 conn_send(struct conn *, int type, const void *, size_t);
void	 peer_lost(struct tpeer *, const char *reason, time_t now);

/* sftunneld-ctl.c */
int	 ctl_listen(void);
void	 ctl_accept(time_t now);
short	 ctl_events(struct ctlc *);
int	 ctl_fd(struct ctlc *);
void	 ctl_io(struct ctlc *, short revents, time_t now);
void	 ctl_timers(time_t now);
void	 ctl_push_result(struct tpeer *, const unsigned char *, size_t);
void	 ctl_peer_lost(struct tpeer *);
void	 ctl_reap(void);
void	 ctl_shutdown(void);

/* sftunneld-push.c */
void	 push_receive(struct conn *, const unsigned char *, size_t);

#endif
