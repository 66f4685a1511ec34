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
/*
 * What one peer, or one address before TLS says who it is, may cost:
 * handshakes in progress (over the bound a new connection is closed at
 * once), and the backups of its pushes kept (the oldest go).
 */
#define PENDING_MAX	64	/* incoming handshakes in progress */
#define PENDING_PER_ADDR 4	/* of them from one address */
#define PUSH_BACKUPS	3	/* backup/<stamp>/ folders per push folder */
#define ACCEPT_PAUSE	1	/* seconds without accept(2) after EMFILE */

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

struct control_client;

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
	/*
	 * Out of descriptors (EMFILE, ENFILE): neither listening socket is
	 * polled before this time, rather than spin on what cannot be
	 * accepted.
	 */
	time_t		 accept_pause;
	struct ident	 srv;
	/* peers and connections */
	struct tpeer	**peers;
	size_t		 npeers;
	struct conn	**conns;
	size_t		 nconns;
	/* control socket */
	int		 cfd;
	char		*sockpath;
	struct control_client **ctls;
	size_t		 nctls;
	unsigned	 push_seq;
};

extern struct sftd sd;

/*
 * Every function below runs on the one thread of the loop and works on
 * sd; none blocks.  Objects stay owned by sd (peers, connections, control
 * clients) and are freed by the *_reap, *_free and *_shutdown calls only.
 */

/* sftunneld-peer.c: the peer table sd.peers (libsfca's peers_* read folders) */

/*
 * Load the peer folders (peers_load) into sd.peers, then on an FMC build
 * the server identity sd.srv from the tree's own certificate, key and CA,
 * and take each peer's issued-certificate facts.  0, or -1 reported once
 * (the daemon cannot start).
 */
int	 tpeers_init(void);
/*
 * Add the peer folders that appeared since the last scan; known peers
 * and their connections stay as they are, none is removed.  0, or -1
 * when the folders cannot be read (reported; the table is unchanged).
 */
int	 tpeers_rescan(void);
/* The peer of that uuid (case aside), owned by sd.peers; NULL if none. */
struct tpeer *tpeer_find(const char *uuid);
/*
 * Make id->ctx match id's three files: rebuilt when any changed (by
 * stat) or force, and id->ca (id->gen bumped) when the CA file changed.
 * A failed rebuild keeps the previous context and is logged once per
 * change.  0 when id->ctx is usable, -1 when there is none.
 */
int	 ident_refresh(struct ident *, int server, int force);
/* Free what id holds (paths, context, CA) and clear it; id stays. */
void	 ident_release(struct ident *);
/*
 * Set t->chain: does the certificate t presented (t->pcert) chain to
 * the CA its side trusts now?  -1 when t is down or either is unknown;
 * worked out again only when that CA changed (its gen).
 */
void	 tpeer_chain_update(struct tpeer *);
/*
 * An FMC's own CA from the tree, cached until its file changes and owned
 * by the cache (not to be freed); NULL on an FTD or when unreadable.
 */
X509	*issued_ca(void);
/*
 * Set t->issued: 1 when the certificate in t's folder is signed by the
 * CA (fmc_ca from issued_ca() on an FMC; on an FTD that FMC's cacert.pem
 * in the folder), 0 when not, -1 when either cannot be read.  Files are
 * parsed again only when they changed.
 */
void	 tpeer_issued_update(struct tpeer *, X509 *fmc_ca);
/* Free the cached certificate and clear the cache. */
void	 certcache_release(struct certcache *);
/* Free every peer and sd.srv; the connections must be gone first. */
void	 tpeers_free(void);
/* OpenSSL's text for a verify error code (static storage). */
const char *verr_string(int);

/* sftunneld-conn.c: the tunnels, one struct conn each (sd.conns) */

/*
 * Start an outgoing connection to t from sd.addr (non-blocking) and
 * schedule the next try.  A failure (identity unreadable, socket,
 * connect) is logged the vendor's way and ends in tpeer_lost.
 */
void	 conn_connect(struct tpeer *, time_t now);
/*
 * Accept what is pending on the listening socket lfd (64 at most a
 * turn) and start the server side of TLS with the identity as the files
 * are now; the peer is known once its certificate's CN is.  A connection
 * over PENDING_MAX handshakes in progress, or PENDING_PER_ADDR from its
 * address, is closed at once; out of descriptors, accepting pauses for
 * ACCEPT_PAUSE seconds (sd.accept_pause).
 */
void	 conn_accept(int lfd, time_t now);
/* The poll(2) events c waits for in its state. */
short	 conn_events(struct conn *);
/*
 * Move c on after poll reported revents: connect, handshake, write what
 * is queued, read and act on whole frames.  Errors close c (conn_close),
 * never the daemon.
 */
void	 conn_io(struct conn *, short revents, time_t now);
/*
 * Once a turn: close handshakes older than 3 heartbeats (5 s at least),
 * close tunnels silent for 3 heartbeats, send due heartbeats, and
 * reconnect outgoing peers whose back-off has passed.
 */
void	 conn_timers(time_t now);
/*
 * Mark c dead (a TLS close is attempted once, without blocking) and, if
 * it was its peer's connection, account the loss with reason
 * (tpeer_lost).  c stays allocated until conn_reap; a second call does
 * nothing.
 */
void	 conn_close(struct conn *, const char *reason, time_t now);
/* Free the connections closed during this turn of the loop. */
void	 conn_reap(void);
/* conn_close every connection with reason, then conn_reap. */
void	 conn_close_all(const char *reason);
/*
 * Queue one frame of type with len payload bytes (copied) on an up c and
 * try to write it now.  -1 when c is not up or dead, len exceeds FR_MAX,
 * the queue would pass WBUF_MAX, or the write closed c.
 */
int	 conn_send(struct conn *, int type, const void *, size_t);
/*
 * t is down for reason: logged if it was up, disconnect time and reason
 * kept for STATUS, the back-off of an outgoing peer set (at once after a
 * loss, then doubling up to sd.backoff_cap), and a control client
 * waiting on a push to t answered (control_peer_lost).
 */
void	 tpeer_lost(struct tpeer *, const char *reason, time_t now);

/* sftunneld-ctl.c: the control socket's server (its client: libsfca's ctl_*) */

/*
 * Create the control socket (root_path RP_CTL_SOCK, 0600, in a 0700
 * folder made if needed; a stale socket is replaced) and listen on it,
 * as sd.cfd.  0, or -1 reported once.
 */
int	 control_listen(void);
/*
 * Accept the clients pending on sd.cfd into sd.ctls; a client that is
 * not uid 0 gets "ERR permission denied" and is closed.
 */
void	 control_accept(time_t now);
/* The poll(2) events cc waits for: none while its push is under way. */
short	 control_events(struct control_client *);
/* cc's socket, for poll(2). */
int	 control_fd(struct control_client *);
/*
 * Move cc on after poll reported revents: read its request and answer
 * STATUS, RELOAD or PUSH (a push is sent to the peer and answered by
 * control_push_result), or send the reply; cc is marked dead when done
 * or on error, freed by control_reap.
 */
void	 control_io(struct control_client *, short revents, time_t now);
/*
 * Once a turn: answer "timeout" to pushes past their deadline, drop
 * clients idle for more than CTL_IDLE seconds.
 */
void	 control_timers(time_t now);
/*
 * A push result frame (FR_PUSHR payload, len bytes) arrived from t:
 * hand it as the reply to the client waiting on that push id; ignored
 * when none waits or the payload has no id line.
 */
void	 control_push_result(struct tpeer *, const unsigned char *, size_t);
/* t's tunnel is gone: the clients waiting on a push to t get ERR. */
void	 control_peer_lost(struct tpeer *);
/* Free the clients marked dead, wiping their requests (they carry keys). */
void	 control_reap(void);
/* Free every client, close the socket and remove its file. */
void	 control_shutdown(void);

/* sftunneld-push.c */

/*
 * A push frame (FR_PUSH payload, len bytes) arrived on c: check each
 * file (a pushable name, its sha256, a valid PEM), back up what it
 * replaces and write it atomically into the peer's push folder, then
 * answer an FR_PUSHR frame with OK and the sha256 on disk, or ERR and
 * why, per file.  Headers are parsed by length (frame.h); a malformed
 * first line is ignored (the sender times out), a malformed FILE header
 * ends the push with ERR for it and the files after it.  The push folder
 * keeps the PUSH_BACKUPS newest backup folders.
 */
void	 push_receive(struct conn *, const unsigned char *, size_t);

#endif
