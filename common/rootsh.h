/* SPDX-License-Identifier: ISC */
/* rootsh.h -- a device's root shell: log in, run scripts, put files */
#ifndef SFCA_ROOTSH_H
#define SFCA_ROOTSH_H

#include <sys/types.h>

#include <stddef.h>

#include "sshc.h"

/*
 * SPEC 1.4: a login lands in the CLI ("> "), in the expert shell
 * ("...$ ") or in a root shell ("...# ").  From the CLI, "expert"; from
 * the expert shell, "sudo su" and the password at "Password:".  In the
 * root shell the terminal's echo is turned off before anything else is
 * sent, so neither the password nor key material comes back.
 *
 * Every call returns SSHC_OK or an SSHC_E* code (sshc.h) and leaves the
 * reason in sshc_error(c), worded here once for every caller; nothing
 * is printed.
 */

/* A device to log in to. */
struct rootsh_dev {
	const char	*name;		/* labels it in error texts */
	const char	*addr;
	const char	*login;
	char		*password;	/* wiped by rootsh_login */
	const struct sshc_opts *so;
	int		 step_ms;	/* each step of the dialogue */
	/*
	 * Called once the device answered and its host key was checked,
	 * before the password is sent (a caller's slot, see fleet.c):
	 * gate(gate_arg, 1) waits a bounded time and says whether it got
	 * through (1) or not (0); gate(gate_arg, 0) waits as long as it
	 * takes and gets through.  NULL: none.
	 */
	int		(*gate)(void *, int bounded);
	void		*gate_arg;
};

/* Where a login stopped. */
enum rootsh_step {
	RS_CONNECT,	/* TCP, banner, host key: sshc's reason */
	RS_LOGIN,	/* the SSH login: sshc's reason */
	RS_ROOT		/* expert, sudo su */
};

/*
 * Connect to d, log in, reach the root shell (sshc_open, d->gate,
 * sshc_login, the dialogue above).  When the bounded gate does not let
 * it through, the connection, not yet logged in, is closed (sshd drops
 * one that has not logged in within its LoginGraceTime), and opened
 * again once the unbounded gate has.  d->password is wiped
 * (explicit_bzero over its length) on every path, as soon as the
 * dialogue no longer needs it; the caller still frees it.  *out is set
 * even on failure, for sshc_error; free it with sshc_free.  On failure
 * *failed says at which step; at RS_ROOT the reason is "sudo su on NAME
 * refused the password" (SSHC_EAUTH) or "cannot reach a root shell on
 * NAME: why".
 */
int	rootsh_login(struct sshc **out, struct rootsh_dev *d,
	    enum rootsh_step *failed);

/*
 * Run script (bash, any bytes) in the root shell and collect what it
 * printed (stdout and stderr) and its exit status.  The script travels
 * base64-encoded through a here-document and runs as
 * "{ script } </dev/null" in a non-interactive bash, so it is neither
 * echoed nor kept on the device, nor passed in argv.  *out is the
 * session's buffer, valid until the next read (see sshc_read_until).
 */
int	rootsh_run(struct sshc *c, const char *script, size_t len,
	    int timeout_ms, const char **out, size_t *outlen, int *status);

/*
 * Put len bytes of data at path (absolute, of a file) on the device,
 * owner root, the given mode, in one command.  The bytes are typed as
 * base64 lines into a temporary beside path,
 * "<folder>/.<name>.sfca-tmp" (a leftover of that name removed first,
 * then created O_EXCL|O_NOFOLLOW under umask 077 by dd, which flushes
 * it), their SHA-256 there checked against ours, the temporary chowned,
 * chmoded and renamed over path (a link at path is replaced, never
 * followed).  Until the rename path is untouched; on a failure the
 * temporary is removed, except when the connection drops in the
 * middle: the next put to path replaces it.  The folder is not flushed
 * (an fsync each is what a device's slow disk feels): a caller that
 * needs the rename itself to survive a crash flushes the folder after
 * its last put, as devcopy's commit does.  The folder must be root's
 * alone: put does not race another writer of it (in a world-writable
 * folder that one can make put fail, not write elsewhere).
 * timeout_ms bounds each of its two waits (for the command to start,
 * for it to end once the bytes are sent).  A device that could not do
 * it is SSHC_EOTHER, its reason naming the file ("/x: no such folder",
 * "cannot write /x/.y.sfca-tmp: No space left on device",
 * "/x/.y.sfca-tmp: checksum mismatch after writing", ...).  The base64
 * copy of data is wiped.  The device needs GNU coreutils (head, base64,
 * dd, sha256sum, mv -T), as every appliance has.
 */
int	rootsh_put(struct sshc *c, const char *path, const void *data,
	    size_t len, mode_t mode, int timeout_ms);

/* Shell-quote s into a new string ('...' with ' as '\''). */
char	*rootsh_quote(const char *s);

#endif
