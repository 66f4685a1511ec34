// SPDX-License-Identifier: ISC
/* rootsh.c -- a device's login dialogue to a root shell, and scripts run there */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
rootsh_open(struct sshc *c, const char *password, int timeout_ms,
    enum rootsh_landing *landing)
{
	const char *first[] = { RE_CLI, RE_USER, RE_ROOT };
	const char *after_expert[] = { RE_USER, RE_ROOT };
	const char *after_sudo[] = { RE_PASS, RE_ROOT, RE_USER };
	const char *after_pass[] = { RE_ROOT, RE_SORRY, RE_USER };
	int rc, w;

	if ((rc = sshc_shell(c)) != SSHC_OK)
		return rc;
	if ((rc = sshc_expect(c, first, 3, timeout_ms, &w)) != SSHC_OK)
		return rc;
	*landing = w == 0 ? RS_CLI : w == 1 ? RS_EXPERT : RS_ROOT;
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
			    (rc = sshc_expect(c, after_pass, 3, timeout_ms,
			    &w)) != SSHC_OK)
				return rc;
			if (w != 0)
				return SSHC_EAUTH;
		}
	}
	return quiet(c, timeout_ms);
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

char *
rootsh_b64(const void *data, size_t len, size_t *outlen)
{
	const unsigned char *in = data;
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t cap = (len + 2) / 3 * 4 + (len / 57 + 2) + 1, o = 0, i, col = 0;
	char *out = xmalloc(cap);

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
		}
	}
	if (col != 0)
		out[o++] = '\n';
	out[o] = '\0';
	*outlen = o;
	return out;
}

int
rootsh_run(struct sshc *c, const char *script, size_t len, int timeout_ms,
    const char **out, size_t *outlen, int *status)
{
	char n[32], head[256], tail[64], btag[40], etag[40], ztag[40];
	char *b64 = NULL, *wrapped, *end;
	const char *txt;
	size_t wlen, blen = 0, tlen, el, i;
	long st;
	int rc;

	nonce(n);
	wrapped = xmalloc(len + 32);
	memcpy(wrapped, "{\n", 2);
	memcpy(wrapped + 2, script, len);
	memcpy(wrapped + 2 + len, "\n} </dev/null\n", 14);
	wlen = len + 16;
	b64 = rootsh_b64(wrapped, wlen, &blen);
	freezero(wrapped, len + 32);
	snprintf(head, sizeof(head), "echo %.10s\"%s\"_B; base64 -d <<'%s_S' | "
	    "/bin/bash 2>&1; echo %.10s\"%s\"_E $? %.10s\"%s\"_Z\n", n, n + 10,
	    n, n, n + 10, n, n + 10);
	snprintf(tail, sizeof(tail), "%s_S\n", n);
	snprintf(btag, sizeof(btag), "%s_B\n", n);
	snprintf(etag, sizeof(etag), "%s_E ", n);
	snprintf(ztag, sizeof(ztag), "%s_Z\n", n);
	if ((rc = sshc_puts(c, head)) != SSHC_OK ||
	    (rc = sshc_write(c, b64, blen)) != SSHC_OK ||
	    (rc = sshc_puts(c, tail)) != SSHC_OK)
		goto out;
	if ((rc = sshc_read_until(c, btag, timeout_ms, NULL, NULL)) != SSHC_OK)
		goto out;
	if ((rc = sshc_read_until(c, ztag, timeout_ms, &txt, &tlen)) != SSHC_OK)
		goto out;
	/* txt is "<output><nonce>_E <status> ": find the last status tag. */
	el = strlen(etag);
	for (i = tlen >= el ? tlen - el + 1 : 0; i > 0; i--)
		if (memcmp(txt + i - 1, etag, el) == 0)
			break;
	if (i == 0) {
		rc = SSHC_EIO;
		goto out;
	}
	*out = txt;
	*outlen = i - 1;
	st = strtol(txt + i - 1 + el, &end, 10);
	*status = end == txt + i - 1 + el ? 255 : (int)st;
	rc = SSHC_OK;
 out:
	if (b64 != NULL)
		freezero(b64, blen + 1);
	return rc;
}
