/* SPDX-License-Identifier: ISC */
/* rootsh.h -- a device's login dialogue to a root shell, and scripts run there */
#ifndef SFCA_ROOTSH_H
#define SFCA_ROOTSH_H

#include <stddef.h>

#include "sshc.h"

/*
 * SPEC 1.4: a login lands in the CLI ("> "), in the expert shell
 * ("...$ ") or in a root shell ("...# ").  From the CLI, "expert"; from
 * the expert shell, "sudo su" and the password at "Password:".  In the
 * root shell the terminal's echo is turned off before anything else is
 * sent, so neither the password nor key material comes back.
 */
enum rootsh_landing { RS_CLI, RS_EXPERT, RS_ROOT };

/*
 * Open a shell on c and reach root.  *landing says where the login
 * landed.  Returns SSHC_OK or an SSHC_E* code, with sshc_error(c)
 * saying why (a refused sudo password is SSHC_EAUTH).
 */
int	rootsh_open(struct sshc *c, const char *password, int timeout_ms,
	    enum rootsh_landing *landing);

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
 * base64 of len bytes of data in 76-column lines, each ending in a
 * newline (a terminal's line buffer takes them whole, for base64 -d to
 * read), NUL-terminated; *outlen is its length.  The caller frees it,
 * with freezero(p, *outlen + 1) when data was secret.
 */
char	*rootsh_b64(const void *data, size_t len, size_t *outlen);

/* Shell-quote s into a new string ('...' with ' as '\''). */
char	*rootsh_quote(const char *s);

#endif
