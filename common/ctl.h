/* SPDX-License-Identifier: ISC */
/* ctl.h -- client of the sftunneld control socket (STATUS, PUSH, RELOAD) */
#ifndef SFCA_CTL_H
#define SFCA_CTL_H

#include <sys/types.h>
#include <stddef.h>
#include <time.h>

/*
 * The socket is root_path(RP_CTL_SOCK): set the root (root_set) first.
 * One request per connection, ASCII lines, as doc/DESIGN.md and
 * sftunnel(7) describe.  Every call returns
 *	 0		the daemon answered (a PUSH may still hold per-file ERRs),
 *	-1		an error, reported once through log_warnx,
 *	CTL_NODAEMON	nobody listens on the socket (missing socket or
 *			connection refused); not reported: a daemon that is
 *			not running is an answer, not an error.
 * A daemon that accepts but does not answer within the timeout is -1.
 */
#define CTL_NODAEMON	(-2)

/* Seconds a request may take; 5 by default (PUSH uses its own). */
void	ctl_set_timeout(int sec);

/* The DAEMON line of STATUS. */
struct ctl_daemon {
	pid_t	 pid;
	time_t	 started;	/* this exec of the daemon */
	unsigned gen;		/* restarts (SIGHUP re-execs) since launch */
	char	 uuid[37];	/* APPLIANCE_UUID */
	char	 host[64];
	char	 addr[46];
	char	 kind[8];	/* fmc, ftd */
	int	 hb;		/* heartbeat interval, seconds */
	size_t	 npeers;
};

/* One PEER line of STATUS.  Times are epoch seconds, 0 = never. */
struct ctl_peer {
	char	 uuid[37];
	char	 name[64];
	char	 ip[46];
	char	 role[8];	/* ftd, fmc, fmc-ha */
	int	 up;		/* state=up */
	time_t	 since;		/* connection start (up) */
	time_t	 attempted;	/* last connection attempt */
	time_t	 hb_sent;
	time_t	 hb_recv;
	time_t	 disc_time;
	char	 disc_reason[160];
	char	 cipher[64];
	int	 cipher_bits;
	char	 tls[16];	/* "TLSv1.3" */
	char	 chain[8];	/* yes, no, unknown */
	/*
	 * The certificate in the peer folder chains to the CA on disk: yes,
	 * no, unknown (unreadable); "" from a daemon that does not say.
	 */
	char	 issued[8];
	/*
	 * Of the certificate the peer presented in the session that is up:
	 * its CN, its issuer's CN, the SHA-256 of its public key
	 * (pki_pubkey_sha256), its notAfter; "" and 0 when down or from a
	 * daemon that does not say.
	 */
	char	 session_cn[64];
	char	 session_issuer[64];
	char	 session_key[65];
	time_t	 session_expires;
};

/*
 * STATUS.  On 0, *out is an array of *n peers the caller frees with
 * free(), and *d (when not NULL) the daemon line.  On -1 or CTL_NODAEMON,
 * *out is NULL and *n 0.
 */
int	ctl_status(struct ctl_peer **out, size_t *n, struct ctl_daemon *d);

/*
 * The parser of the reply, for ctl_status (and the fuzz harness; the
 * PUSH reply's is ctl_push_parse): reply holds len bytes followed by a NUL, and is cut into
 * lines in place.  A NUL byte inside is malformed.  A STATUS reply of
 * more than CTL_PEERS_MAX peers is refused, so that a reply costs at most
 * that many struct ctl_peer whatever its size.  0, or -1 with one
 * message; results as ctl_status and ctl_push give them.
 */
#define CTL_PEERS_MAX	16384
int	ctl_status_parse(char *reply, size_t len, struct ctl_peer **out,
	    size_t *n, struct ctl_daemon *d);

/* A file to push: name is cacert.pem, sftunnel-cert.pem or sftunnel-key.pem. */
struct ctl_file {
	const char	*name;
	const void	*data;		/* caller's, wiped by the caller */
	size_t		 len;
};

/* What the receiver said about one file, in the order of the request. */
struct ctl_result {
	char	 name[32];
	int	 ok;		/* 1: written (or already identical) and checked */
	char	 sha256[65];	/* the receiver's sha256 when ok */
	char	 reason[160];	/* why not, when !ok ("peer down", ...) */
};

/*
 * PUSH the n files (n <= 8) to peer_uuid over its tunnel.  res has n
 * slots, filled in order.  0 when the daemon answered for every file:
 * check res[i].ok; a peer that is down or unknown yields ok = 0 with a
 * reason, not -1.  timeout_sec bounds the whole exchange (<= 0: 30).
 */
#define CTL_PUSH_MAX	8
int	ctl_push(const char *peer_uuid, const struct ctl_file *files, size_t n,
	    struct ctl_result *res, int timeout_sec);
/* Its reply's parser, as ctl_status_parse; res as ctl_push fills it. */
int	ctl_push_parse(char *reply, size_t len, struct ctl_result *res,
	    size_t n);

/* RELOAD: new handshakes use the certificate files as they are now. */
int	ctl_reload(void);

/*
 * Percent-encoding of STATUS values: every byte outside
 * [A-Za-z0-9._:/@+-] becomes %XX.  Encode returns the length written
 * (always NUL-terminated, truncated to fit); decode works in place.
 */
size_t	ctl_pct_encode(const char *in, char *out, size_t outlen);
void	ctl_pct_decode(char *s);

#endif
