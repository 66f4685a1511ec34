/* SPDX-License-Identifier: ISC */
/* sshc.h -- the suite's only SSH client (libssh): connect, check, talk */
#ifndef SFCA_SSHC_H
#define SFCA_SSHC_H

#include <stddef.h>

/*
 * One session to one device: TCP connect with a timeout, the host key
 * checked against a known_hosts file, password (or keyboard-interactive)
 * authentication, one interactive shell on a pty, and expect-style reads.
 * Failures are answers about a device, not program errors: nothing is
 * printed; each call returns an SSHC_E* code and fills the session's
 * error text (sshc_error), which never holds a secret.
 * Sessions are independent and may live in different threads.
 */
#define SSHC_OK		0
#define SSHC_ECONNECT	(-1)	/* refused, unreachable, no banner in time */
#define SSHC_EHOSTKEY	(-2)	/* changed, or unknown without accept-new */
#define SSHC_EAUTH	(-3)	/* login refused */
#define SSHC_EIO	(-4)	/* the connection dropped */
#define SSHC_ETIMEOUT	(-5)	/* no expected answer in time */
#define SSHC_EOTHER	(-6)
#define SSHC_EFLOOD	(-7)	/* sent more than rx_max without the answer */

/* What a device may send before the answer a read waits for. */
#define SSHC_RX_MAX	(4 * 1024 * 1024)
/* Keyboard-interactive rounds a login may take. */
#define SSHC_KBDINT_ROUNDS	4

struct sshc;

struct sshc_opts {
	const char	*known_hosts;	/* file; NULL: ~/.ssh/known_hosts */
	int		 accept_new;	/* record keys of unknown hosts */
	int		 timeout;	/* connect timeout, seconds */
	int		 port;		/* 0: 22 */
	const char	*accept_opt;	/* named in the unknown-key error;
					   NULL: "--accept-new" */
	size_t		 rx_max;	/* received and not yet consumed, at
					   most; 0: SSHC_RX_MAX */
};

/* Call once before threads start; 0/-1. */
int	sshc_init(void);

/*
 * Connect to addr as login in two steps: sshc_open (TCP, banner, key
 * exchange, host key check; the slow part with a dead device) and
 * sshc_login (authenticate with password, which libssh copies; the
 * caller keeps and wipes its own), so that a caller can bound the two
 * differently.  name labels the host in error texts.  *out is set even
 * on failure, so that sshc_error can be read; free it with sshc_free.
 * rootsh_login (rootsh.h) is the one caller: it adds the root shell.
 *
 * The password is sent once: by the "password" method when the device
 * offers it, else as the one answer of keyboard-interactive (at most
 * SSHC_KBDINT_ROUNDS rounds; a second question after the answer is a
 * refusal).  A refused password is never tried again on the session (a
 * device locks a user out after a few failed logins): SSHC_EAUTH.
 */
int	sshc_open(struct sshc **out, const char *name, const char *addr,
	    const char *login, const struct sshc_opts *);
int	sshc_login(struct sshc *, const char *password);

/*
 * What sshc_open learned of the device's host key, and of a failed
 * connect: for a caller that reports rather than acts (a read-only
 * check).  SSHC_HK_NONE until a key was seen; SSHC_HK_NEW is an unknown
 * key that was not recorded (no accept_new), SSHC_HK_RECORDED one that
 * was.  The fingerprint is OpenSSH's "SHA256:<base64>" of the key, or ""
 * before one was seen.
 */
enum sshc_hk {
	SSHC_HK_NONE,
	SSHC_HK_KNOWN,
	SSHC_HK_NEW,
	SSHC_HK_RECORDED,
	SSHC_HK_CHANGED
};
enum sshc_hk sshc_hostkey(const struct sshc *, const char **fingerprint);

/*
 * Why sshc_open could not connect (SSHC_ECONNECT): "refused" (nothing
 * listens), "no banner" (TCP connected, no SSH banner in time),
 * "timeout" (no TCP answer in time, or no route); "" otherwise.
 */
const char *sshc_connect_why(const struct sshc *);

/* Why the last call failed: "host key for NAME (IP) has changed", ... */
const char *sshc_error(const struct sshc *);

/*
 * Make the formatted text the session's error and return code: for a
 * module that talks over the session (rootsh), so that what it learns
 * about the device is told where sshc's own answers are.  Never a
 * secret in the text.
 */
int	sshc_seterr(struct sshc *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Open a pty and a shell on it. */
int	sshc_shell(struct sshc *);

/* Send len bytes to the shell. */
int	sshc_write(struct sshc *, const void *, size_t);
int	sshc_puts(struct sshc *, const char *);

/*
 * Every read below stops with SSHC_EFLOOD once more than the session's
 * rx_max bytes wait unconsumed (a device streaming output), the session
 * then being of no further use.
 *
 * Read until the tail of the received text (carriage returns dropped)
 * matches one of the n extended regular expressions (anchored with $ at
 * the end of what has arrived).  *which is the index that matched.  The
 * text up to the end of the match is consumed.
 */
int	sshc_expect(struct sshc *, const char *const *re, int n, int timeout_ms,
	    int *which);

/*
 * Read until tag has arrived; *out (may be NULL) then points at the text
 * received before tag, *outlen its length; it stays valid until the next
 * read and is wiped on it.  The text up to the end of tag is consumed.
 */
int	sshc_read_until(struct sshc *, const char *tag, int timeout_ms,
	    const char **out, size_t *outlen);

/* Close, wiping what was received; NULL is fine. */
void	sshc_free(struct sshc *);

#endif
