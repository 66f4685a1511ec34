// SPDX-License-Identifier: ISC
/* rootsh.c -- a device's root shell: log in, run scripts, put files */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki.h"
#include "rootsh.h"
#include "xmalloc.h"
#include "banned.h"

#define RE_CLI		"(^|\n)> $"
#define RE_USER		"\\$ $"
#define RE_ROOT		"# $"
#define RE_PASS		"[Pp]assword: ?$"
#define RE_SORRY	"(Sorry|incorrect|[Ff]ailure)[^\n]*\n([^\n]*\n)*[^\n]*\\$ $"

/* A fresh marker, "__SFCA_<16 hex>", that no file or prompt holds. */
static void
nonce(char out[32])
{
	unsigned char r[8];
	size_t i;

	arc4random_buf(r, sizeof(r));
	memcpy(out, "__SFCA_", 7);
	for (i = 0; i < sizeof(r); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", r[i]);
}

/*
 * Quiet the terminal and the shell: no echo, no CR before LF, no
 * prompts, no history expansion.  The marker is printed with a quote
 * inside, so the echo of the command itself (echo is still on while it
 * is being typed) cannot match.
 */
static int
quiet(struct sshc *c, int timeout_ms)
{
	char n[32], cmd[256], tag[40];

	nonce(n);
	snprintf(cmd, sizeof(cmd), "stty -echo -onlcr 2>/dev/null; "
	    "PS1= PS2= PROMPT_COMMAND=; set +o histexpand 2>/dev/null; "
	    "unset HISTFILE; echo %.10s\"%s\"_Q\n", n, n + 10);
	snprintf(tag, sizeof(tag), "%s_Q\n", n);
	if (sshc_puts(c, cmd) != SSHC_OK)
		return SSHC_EIO;
	return sshc_read_until(c, tag, timeout_ms, NULL, NULL);
}

/* From a fresh session to a root shell: 0 (SSHC_OK), or SSHC_EAUTH at sudo. */
static int
root_shell(struct sshc *c, const char *password, int timeout_ms)
{
	const char *first[] = { RE_CLI, RE_USER, RE_ROOT };
	const char *after_expert[] = { RE_USER, RE_ROOT };
	const char *after_sudo[] = { RE_PASS, RE_ROOT, RE_USER };
	/* "Password:" again: sudo refused it, and it is never sent twice */
	const char *after_pass[] = { RE_ROOT, RE_SORRY, RE_USER, RE_PASS };
	int rc, w;

	if ((rc = sshc_shell(c)) != SSHC_OK)
		return rc;
	if ((rc = sshc_expect(c, first, 3, timeout_ms, &w)) != SSHC_OK)
		return rc;
	if (w == 0) {
		if ((rc = sshc_puts(c, "expert\n")) != SSHC_OK ||
		    (rc = sshc_expect(c, after_expert, 2, timeout_ms, &w)) !=
		    SSHC_OK)
			return rc;
		w = w == 0 ? 1 : 2;
	}
	if (w == 1) {
		if ((rc = sshc_puts(c, "sudo su\n")) != SSHC_OK ||
		    (rc = sshc_expect(c, after_sudo, 3, timeout_ms, &w)) !=
		    SSHC_OK)
			return rc;
		if (w == 2)
			return SSHC_EAUTH;
		if (w == 0) {
			if ((rc = sshc_puts(c, password)) != SSHC_OK ||
			    (rc = sshc_puts(c, "\n")) != SSHC_OK ||
			    (rc = sshc_expect(c, after_pass, 4, timeout_ms,
			    &w)) != SSHC_OK)
				return rc;
			if (w != 0)
				return SSHC_EAUTH;
		}
	}
	return quiet(c, timeout_ms);
}

int
rootsh_login(struct sshc **out, struct rootsh_dev *d, enum rootsh_step *failed)
{
	char why[256];
	int rc;

	*failed = RS_CONNECT;
	if ((rc = sshc_open(out, d->name, d->addr, d->login, d->so)) !=
	    SSHC_OK)
		goto out;
	if (d->gate != NULL && !d->gate(d->gate_arg, 1)) {
		/*
		 * Waited too long for the gate: sshd hangs up on a
		 * connection that has not logged in within LoginGraceTime
		 * (120 s by default, less on a hardened device), so this
		 * one is closed and another opened once through the gate.
		 */
		sshc_free(*out);
		*out = NULL;
		(void)d->gate(d->gate_arg, 0);
		if ((rc = sshc_open(out, d->name, d->addr, d->login,
		    d->so)) != SSHC_OK)
			goto out;
	}
	*failed = RS_LOGIN;
	if ((rc = sshc_login(*out, d->password)) != SSHC_OK)
		goto out;
	*failed = RS_ROOT;
	rc = root_shell(*out, d->password, d->step_ms);
	if (rc == SSHC_EAUTH)
		sshc_seterr(*out, rc, "sudo su on %s refused the password",
		    d->name);
	else if (rc != SSHC_OK) {
		strlcpy(why, sshc_error(*out), sizeof(why));
		sshc_seterr(*out, rc, "cannot reach a root shell on %s: %s",
		    d->name, why);
	}
 out:
	explicit_bzero(d->password, strlen(d->password));
	return rc;
}

char *
rootsh_quote(const char *s)
{
	size_t n = 3, i;
	char *q, *p;

	for (i = 0; s[i] != '\0'; i++)
		n += s[i] == '\'' ? 4 : 1;
	p = q = xmalloc(n);
	*p++ = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else
			*p++ = *s;
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

/*
 * base64 of len bytes of data in 76-column lines, each ending in a
 * newline (a terminal's line buffer takes them whole, for base64 -d to
 * read), NUL-terminated; *outlen is its length, *lines their number.
 * The caller frees it with freezero(p, *outlen + 1).
 */
static char *
b64(const void *data, size_t len, size_t *outlen, size_t *lines)
{
	const unsigned char *in = data;
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t cap = (len + 2) / 3 * 4 + (len / 57 + 2) + 1, o = 0, i, col = 0;
	char *out = xmalloc(cap);

	*lines = 0;
	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t k = len - i;

		if (k > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = k > 1 ? tab[(v >> 6) & 63] : '=';
		out[o++] = k > 2 ? tab[v & 63] : '=';
		if ((col += 4) == 76) {
			out[o++] = '\n';
			col = 0;
			(*lines)++;
		}
	}
	if (col != 0) {
		out[o++] = '\n';
		(*lines)++;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * After "echo <n>_E $? <n>_Z" was sent: read to the end, and hand out
 * what was printed before it and the status.
 */
static int
ended(struct sshc *c, const char *n, int timeout_ms, const char **out,
    size_t *outlen, int *status)
{
	char etag[40], ztag[40], *end;
	const char *txt;
	size_t tlen, el, i;
	long st;
	int rc;

	snprintf(etag, sizeof(etag), "%s_E ", n);
	snprintf(ztag, sizeof(ztag), "%s_Z\n", n);
	if ((rc = sshc_read_until(c, ztag, timeout_ms, &txt, &tlen)) != SSHC_OK)
		return rc;
	/* txt is "<output><nonce>_E <status> ": find the last status tag. */
	el = strlen(etag);
	for (i = tlen >= el ? tlen - el + 1 : 0; i > 0; i--)
		if (memcmp(txt + i - 1, etag, el) == 0)
			break;
	if (i == 0)
		return sshc_seterr(c, SSHC_EIO, "the device's answer has no "
		    "status");
	*out = txt;
	*outlen = i - 1;
	st = strtol(txt + i - 1 + el, &end, 10);
	*status = end == txt + i - 1 + el ? 255 : (int)st;
	return SSHC_OK;
}

int
rootsh_run(struct sshc *c, const char *script, size_t len, int timeout_ms,
    const char **out, size_t *outlen, int *status)
{
	char n[32], head[256], tail[64], btag[40];
	char *b = NULL, *wrapped;
	size_t wlen, blen = 0, lines;
	int rc;

	nonce(n);
	wrapped = xmalloc(len + 32);
	memcpy(wrapped, "{\n", 2);
	memcpy(wrapped + 2, script, len);
	memcpy(wrapped + 2 + len, "\n} </dev/null\n", 14);
	wlen = len + 16;
	b = b64(wrapped, wlen, &blen, &lines);
	freezero(wrapped, len + 32);
	snprintf(head, sizeof(head), "echo %.10s\"%s\"_B; base64 -d <<'%s_S' | "
	    "/bin/bash 2>&1; echo %.10s\"%s\"_E $? %.10s\"%s\"_Z\n", n, n + 10,
	    n, n, n + 10, n, n + 10);
	snprintf(tail, sizeof(tail), "%s_S\n", n);
	snprintf(btag, sizeof(btag), "%s_B\n", n);
	if ((rc = sshc_puts(c, head)) != SSHC_OK ||
	    (rc = sshc_write(c, b, blen)) != SSHC_OK ||
	    (rc = sshc_puts(c, tail)) != SSHC_OK)
		goto out;
	if ((rc = sshc_read_until(c, btag, timeout_ms, NULL, NULL)) != SSHC_OK)
		goto out;
	rc = ended(c, n, timeout_ms, out, outlen, status);
 out:
	freezero(b, blen + 1);
	return rc;
}

/* The last line of a script's output, into the session's error. */
static int
device_failed(struct sshc *c, const char *out, size_t len)
{
	const char *p;

	while (len > 0 && out[len - 1] == '\n')
		len--;
	for (p = out + len; p > out && p[-1] != '\n'; p--)
		;
	if (p == out + len)
		return sshc_seterr(c, SSHC_EOTHER, "no output");
	return sshc_seterr(c, SSHC_EOTHER, "%.*s", (int)(len -
	    (size_t)(p - out)), p);
}

int
rootsh_put(struct sshc *c, const char *path, const void *data, size_t len,
    mode_t mode, int timeout_ms)
{
	char n[32], rtag[40], hex[65];
	char *b = NULL, *dir, *tmp, *qd, *qt, *qp, *cmd = NULL;
	const char *slash = strrchr(path, '/'), *out;
	size_t blen = 0, lines, outlen;
	int rc, st;

	if (path[0] != '/' || slash[1] == '\0')
		return sshc_seterr(c, SSHC_EOTHER, "%s: not an absolute path "
		    "of a file", path);
	dir = slash == path ? xstrdup("/") :
	    xasprintf("%.*s", (int)(slash - path), path);
	tmp = xasprintf("%.*s.%s.sfca-tmp", (int)(slash + 1 - path), path,
	    slash + 1);
	qd = rootsh_quote(dir);
	qt = rootsh_quote(tmp);
	qp = rootsh_quote(path);
	if (pki_sha256_hex(data, len, hex) == -1) {
		rc = sshc_seterr(c, SSHC_EOTHER, "%s: cannot compute its "
		    "SHA-256", path);
		goto out;
	}
	b = b64(data, len, &blen, &lines);
	/*
	 * One command, so one wait: head takes exactly our lines from the
	 * terminal (nothing of ours follows them before the end tag came
	 * back), and when the file cannot be written what reads from head
	 * drains it, so that no line of ours is left for the shell to run.
	 * Then the checks, and the rename.  Few processes: a device's CPU
	 * is slow.
	 *
	 * The terminal leaves canonical mode for the upload: an sshd that
	 * writes to a terminal with echo off and ICANON on answers each
	 * write with an SSH_MSG_IGNORE of the same size ("simulated echo"),
	 * and under load one write can pass the 256 KiB a packet may have,
	 * which ends the session ("Packet len too high").
	 */
	nonce(n);
	cmd = xasprintf("stty -icanon min 1 time 0 2>/dev/null; "
	    "echo %.10s\"%s\"_R; head -n %zu | {\n"
	    "D=%s T=%s P=%s\n"
	    "if [ ! -d \"$D\" ]; then e=\"$D: no such folder\"\n"
	    "elif ! e=$(umask 077; exec 2>&1; set -o pipefail; "
	    "rm -f -- \"$T\" && base64 -d | dd of=\"$T\" conv=excl,fsync "
	    "oflag=nofollow bs=65536 status=none); then "
	    "e=\"cannot write $T: ${e##*: }\"\n"
	    "else e=; fi\n"
	    "[ -z \"$e\" ] || cat >/dev/null\n"
	    "[ -n \"$e\" ] || { s=$(sha256sum <\"$T\") && "
	    "[ \"${s%%%% *}\" = %s ]; } 2>/dev/null || "
	    "e=\"$T: checksum mismatch after writing\"\n"
	    "[ -n \"$e\" ] || { chown 0:0 -- \"$T\" && chmod %o -- \"$T\"; } "
	    "2>/dev/null || e=\"cannot set the owner and mode of $T\"\n"
	    "[ -n \"$e\" ] || mv -f -T -- \"$T\" \"$P\" 2>/dev/null || "
	    "e=\"cannot rename $T to $P\"\n"
	    "if [ -n \"$e\" ]; then rm -f -- \"$T\"; printf '%%s\\n' \"$e\"; "
	    "exit 1; fi\n"
	    "}; r=$?; stty icanon 2>/dev/null; "
	    "echo %.10s\"%s\"_E $r %.10s\"%s\"_Z\n",
	    n, n + 10, lines, qd, qt, qp, hex, (unsigned)mode, n, n + 10, n,
	    n + 10);
	snprintf(rtag, sizeof(rtag), "%s_R\n", n);
	if ((rc = sshc_puts(c, cmd)) != SSHC_OK ||
	    (rc = sshc_read_until(c, rtag, timeout_ms, NULL, NULL)) !=
	    SSHC_OK ||
	    (rc = sshc_write(c, b, blen)) != SSHC_OK ||
	    (rc = ended(c, n, timeout_ms, &out, &outlen, &st)) != SSHC_OK)
		goto out;
	if (st != 0)
		rc = device_failed(c, out, outlen);
 out:
	if (b != NULL)
		freezero(b, blen + 1);
	free(cmd);
	free(qp);
	free(qt);
	free(qd);
	free(tmp);
	free(dir);
	return rc;
}
