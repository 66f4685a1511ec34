// SPDX-License-Identifier: ISC
/* devcopy.c -- one device: log in, find out what it is, put its three files in place */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "devcopy.h"
#include "esc.h"
#include "pki.h"
#include "root.h"
#include "rootsh.h"
#include "xmalloc.h"
#include "banned.h"

#define SCRIPT_MS	60000	/* a script on the device, restart included */
#define KEY_CAP		65536	/* the largest key file read from a device */

void
blk_add(struct blk *b, const char *fmt, ...)
{
	char ts[32], line[512];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	size_t n;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		strlcpy(ts, "0000-00-00 00:00:00", sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(ts) + 3 + strlen(line) + 2;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	b->len += (size_t)snprintf(b->s + b->len, b->cap - b->len, "%s - %s\n",
	    ts, line);
}

void
blk_release(struct blk *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

const char *
dev_state_name(enum dev_state s)
{
	switch (s) {
	case DEV_SKIPPED:
		return "skipped";
	case DEV_COPIED:
		return "copied";
	case DEV_DONE:
		return "done";
	case DEV_FAILED:
		return "failed";
	case DEV_NOTSTARTED:
		return "not started";
	default:
		return "not run";
	}
}

static void __attribute__((format(printf, 2, 3)))
failed(struct dev_job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->reason, sizeof(j->reason), fmt, ap);
	va_end(ap);
	j->state = DEV_FAILED;
}

/*
 * The first "SFCA_ERR text" line of a script's output, or its last line,
 * vis-encoded: the device's words never reach a terminal or log raw.
 */
static void
script_reason(const char *out, size_t len, char *buf, size_t buflen)
{
	const char *p = memmem(out, len, "SFCA_ERR ", 9), *e;
	char raw[256];

	if (p != NULL) {
		p += 9;
		e = memchr(p, '\n', len - (size_t)(p - out));
		snprintf(raw, sizeof(raw), "%.*s", (int)(e == NULL ?
		    len - (size_t)(p - out) : (size_t)(e - p)), p);
	} else {
		while (len > 0 && out[len - 1] == '\n')
			len--;
		for (p = out + len; p > out && p[-1] != '\n'; p--)
			;
		snprintf(raw, sizeof(raw), "%.*s",
		    (int)(len - (size_t)(p - out)), p);
	}
	esc_vist(buf, buflen, raw);
	if (buf[0] == '\0')
		strlcpy(buf, "no output", buflen);
}

/* j failed with what, for the session's answer rc. */
static void
session_failed(struct dev_job *j, struct sshc *c, int rc, const char *what)
{
	failed(j, "%s: %s", what, rc == SSHC_ETIMEOUT ?
	    "the device did not answer in time" : sshc_error(c));
}

/* Run a script; 0 when it ran and exited 0, else j is failed with what. */
static int
run(struct dev_job *j, struct sshc *c, const char *script, size_t len,
    const char *what, const char **out, size_t *outlen)
{
	const char *o = NULL;
	size_t ol = 0;
	char why[256];
	int rc, st = 0;

	rc = rootsh_run(c, script, len, SCRIPT_MS, &o, &ol, &st);
	if (rc != SSHC_OK) {
		session_failed(j, c, rc, what);
		return -1;
	}
	if (out != NULL) {
		*out = o;
		*outlen = ol;
	}
	if (st != 0) {
		script_reason(o, ol, why, sizeof(why));
		failed(j, "%s: %s", what, why);
		return -1;
	}
	return 0;
}

/*
 * Replace the files named in list (peerf_names, space-separated)
 * together, all or none.  Each real file that
 * differs from its staged one is backed up to "<name>.backup" (copy to a
 * temporary, then rename); each that exists is also copied to
 * ".<name>.sfca-old" for the rollback.  Then the staged files are
 * renamed over the real ones in peerf_names order (mv -T: never into a
 * folder in the way); when one rename fails, the ones already done are
 * put back from their .sfca-old copies (a file that did not exist is
 * removed) and the reason says which state the device was left in:
 * "rolled back: the device keeps its old files", or, if putting back
 * failed too, which files are new.  A hangup no longer stops it.
 */
char *
devcopy_commit_script(const char *qdest, const char *list)
{
	return xasprintf(
	    "trap '' HUP PIPE\n"
	    "D=%s\n"
	    "cd -- \"$D\" || { echo \"SFCA_ERR $D: no such folder; nothing "
	    "replaced\"; exit 3; }\n"
	    "L='%s'\n"
	    "clean() { for M in $L; do rm -f -- \".$M.sfca-new\" "
	    "\".$M.sfca-old\" \".$M.backup.sfca\"; done; }\n"
	    "for N in $L; do [ -f \".$N.sfca-new\" ] || { echo \"SFCA_ERR $D/.$N."
	    "sfca-new: missing; nothing replaced\"; exit 5; }; done\n"
	    "for N in $L; do\n"
	    "  [ -f \"$N\" ] || continue\n"
	    "  rm -f -- \".$N.sfca-old\"\n"
	    "  if ! e=$(cp -p -- \"$N\" \".$N.sfca-old\" 2>&1 && "
	    "sync -- \".$N.sfca-old\" 2>&1); then\n"
	    "    clean; echo \"SFCA_ERR cannot keep a copy of $D/$N: ${e##*: };"
	    " nothing replaced\"; exit 6\n"
	    "  fi\n"
	    "  [ \"$(sha256sum <\"$N\")\" = \"$(sha256sum <\".$N.sfca-new\")\" ] "
	    "&& continue\n"
	    "  rm -f -- \".$N.backup.sfca\"\n"
	    "  if ! e=$(cp -p -- \"$N\" \".$N.backup.sfca\" 2>&1 && "
	    "sync -- \".$N.backup.sfca\" 2>&1); then\n"
	    "    clean; echo \"SFCA_ERR cannot back up $D/$N: ${e##*: };"
	    " nothing replaced\"; exit 6\n"
	    "  fi\n"
	    "  mv -f -- \".$N.backup.sfca\" \"$N.backup\"\n"
	    "done\n"
	    "R=\n"
	    "for N in $L; do\n"
	    "  if e=$(mv -fT -- \".$N.sfca-new\" \"$N\" 2>&1); then R=\"$R $N\";"
	    " continue; fi\n"
	    "  why=\"cannot rename into $D/$N: ${e##*: }\" bad=\n"
	    "  for M in $R; do\n"
	    "    if [ -f \".$M.sfca-old\" ]; then mv -fT -- \".$M.sfca-old\" "
	    "\"$M\" 2>/dev/null || bad=\"$bad $M\"\n"
	    "    else rm -f -- \"$M\" 2>/dev/null || bad=\"$bad $M\"; fi\n"
	    "  done\n"
	    "  clean; sync -- . 2>/dev/null\n"
	    "  [ -z \"$bad\" ] && { echo \"SFCA_ERR $why; rolled back: the device"
	    " keeps its old files\"; exit 7; }\n"
	    "  echo \"SFCA_ERR $why; the rollback failed: new in $D:$bad, old:"
	    " the others\"; exit 8\n"
	    "done\n"
	    "for M in $L; do rm -f -- \".$M.sfca-old\"; done\n"
	    "sync -- . 2>/dev/null\n"
	    "echo SFCA_OK\n", qdest, list);
}

/* Only the lines we use, so that conf_parse sees KEY=value lines only. */
static const char identify_script[] =
    "grep -E '^[[:space:]]*(APPLIANCE_UUID|MODEL_TYPE|HOSTNAME)[[:space:]]*=' "
    "/etc/sf/ims.conf\n";

const char devcopy_restart_script[] =
    "pmtool restartbyid sftunnel </dev/null 2>&1\n";

/* Where the files go, or NULL with j failed or skipped. */
static char *
identify(struct dev_job *j, struct sshc *c)
{
	const char *out, *v;
	size_t outlen;
	char model[32] = "", uuid[64] = "";
	struct conf *cf = NULL;
	const struct bpeer *p;

	if (run(j, c, identify_script, sizeof(identify_script) - 1,
	    "cannot read /etc/sf/ims.conf", &out, &outlen) == -1)
		return NULL;
	/* a NUL is the one thing grep lets through that conf_parse refuses */
	if (memchr(out, '\0', outlen) != NULL) {
		failed(j, "/etc/sf/ims.conf: contains a NUL byte");
		return NULL;
	}
	if (conf_parse(out, outlen, "/etc/sf/ims.conf", &cf) == -1) {
		failed(j, "/etc/sf/ims.conf: unreadable");
		return NULL;
	}
	if ((v = conf_get(cf, "APPLIANCE_UUID")) != NULL &&
	    strlen(v) < sizeof(uuid))
		strlcpy(uuid, v, sizeof(uuid));
	if ((v = conf_get(cf, "MODEL_TYPE")) != NULL &&
	    strlen(v) < sizeof(model))
		strlcpy(model, v, sizeof(model));
	conf_free(cf);
	if (uuid[0] == '\0') {
		failed(j, "no APPLIANCE_UUID in /etc/sf/ims.conf");
		return NULL;
	}
	if (!peer_uuid_valid(uuid)) {
		/* the device's words: never shown raw */
		failed(j, "/etc/sf/ims.conf: malformed APPLIANCE_UUID");
		return NULL;
	}
	strlcpy(j->uuid, uuid, sizeof(j->uuid));
	p = bundle_find(j->b, uuid);
	if (strcasecmp(uuid, j->b->fmc_uuid) == 0 ||
	    (p != NULL && strcmp(p->role, "fmc-ha") != 0 &&
	    strcmp(model, "CONSOLE") == 0) ||
	    (p == NULL && strcmp(model, "CONSOLE") == 0)) {
		blk_add(&j->out, "%s is not an HA-peer. Certificates will not "
		    "be copied", j->row->name);
		j->state = DEV_SKIPPED;
		strlcpy(j->reason, "FMC, not the HA peer", sizeof(j->reason));
		return NULL;
	}
	if (p == NULL) {
		failed(j, "%s (%s) is not registered to this FMC (%s)",
		    j->row->name, uuid, j->b->fmc_uuid);
		return NULL;
	}
	if (p->err[0] != '\0') {
		failed(j, "%s", p->err);
		return NULL;
	}
	/* the FMC's records must agree that this device is p */
	if (bundle_vouch(j->b, j->csv, j->row, p, j->nat, j->reason,
	    sizeof(j->reason)) == -1) {
		j->state = DEV_FAILED;
		return NULL;
	}
	j->peer = p;
	if (strcmp(p->role, "fmc-ha") == 0)
		return xasprintf("/%s/%s/from_peer", RP_PEERS, j->b->fmc_uuid);
	return xasprintf("/%s/%s", RP_PEERS, j->b->fmc_uuid);
}

/*
 * public_only: whether the key the device holds next to its certificate
 * (qdest/sftunnel-key.pem, a regular file, not a link) is the private
 * half of the certificate the FMC renewed for it.  1 yes, 0 no, -1 when
 * it cannot be told (j failed: nothing is to be copied).  The key comes
 * back only when it was read whole; it lives in the session's buffer,
 * wiped on the next read, and here as an EVP_PKEY, freed.
 */
static int
device_key_matches(struct dev_job *j, struct sshc *c, const char *qdest)
{
	const struct bfile *cf = j->peer->f[PEERF_I_CERT];
	const char *out = NULL;
	size_t outlen = 0;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	char *s, *what;
	int rc = -1;

	s = xasprintf("K=%s/%s\n"
	    "if [ -L \"$K\" ] || [ ! -f \"$K\" ]; then\n"
	    "  echo \"SFCA_ERR $K: no such regular file\"; exit 3\n"
	    "fi\n"
	    "k=$(head -c %d -- \"$K\" 2>/dev/null) || "
	    "{ echo \"SFCA_ERR cannot read $K\"; exit 4; }\n"
	    "printf '%%s\\n' \"$k\"; k=\n", qdest, PEERF_KEY, KEY_CAP + 1);
	what = xasprintf("%s's %s", j->row->name, PEERF_KEY);
	if (run(j, c, s, strlen(s), "cannot read the device's key", &out,
	    &outlen) == -1)
		goto out;
	if (outlen > KEY_CAP) {
		failed(j, "%s: larger than %d bytes", what, KEY_CAP);
		goto out;
	}
	if ((cert = pki_cert_from_pem(cf->data, cf->len, cf->path)) == NULL ||
	    (key = pki_key_from_pem(out, outlen, what)) == NULL) {
		failed(j, "%s: %s", what, cert == NULL ? "unreadable "
		    "certificate on the FMC" : "not a readable private key");
		goto out;
	}
	rc = pki_key_matches(cert, key);
 out:
	X509_free(cert);
	EVP_PKEY_free(key);
	free(what);
	free(s);
	return rc;
}

/* 1 when the test hook closed the session, else 0. */
static int
copy(struct dev_job *j, struct sshc *c, const char *dest)
{
	char *q = rootsh_quote(dest), *s, list[128] = "";
	int idx[PEERF_NFILES], n = 0, i, k, rc, mismatch = 0;

	if (!j->b->public_only) {
		for (k = 0; k < PEERF_NFILES; k++)
			idx[n++] = k;
	} else {
		/* never a key: the certificate only if on the device's key */
		if ((rc = device_key_matches(j, c, q)) == -1) {
			strlcat(j->reason, "; nothing copied",
			    sizeof(j->reason));
			blk_add(&j->out, "Failed to copy certificates to %s",
			    j->row->name);
			free(q);
			return 0;
		}
		idx[n++] = PEERF_I_CACERT;
		if (rc == 1) {
			idx[n++] = PEERF_I_CERT;
			blk_add(&j->out, "The key on %s is the one of its "
			    "renewed certificate: copying cacert.pem and "
			    "sftunnel-cert.pem, no key", j->row->name);
		} else {
			mismatch = 1;
			blk_add(&j->out, "Key mismatch on %s: it holds another "
			    "key than the one of /%s, so only cacert.pem is "
			    "copied", j->row->name,
			    j->peer->f[PEERF_I_CERT]->path);
		}
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(list, " ", sizeof(list));
		strlcat(list, peerf_names[idx[i]], sizeof(list));
	}
	blk_add(&j->out, "Copying certificates to peer");
	for (i = 0; i < n; i++) {
		k = idx[i];
		if (j->drop_after == i) {
			/* Test hook: the connection drops mid-copy. */
			sshc_free(c);
			failed(j, "connection to %s lost while copying (after "
			    "%d of %d files staged); its files are unchanged",
			    j->row->name, i, n);
			blk_add(&j->out, "Failed to copy certificates to %s",
			    j->row->name);
			free(q);
			return 1;
		}
		/* staged as "<dest>/.<name>.sfca-new", the real file untouched */
		s = xasprintf("%s/.%s.sfca-new", dest, peerf_names[k]);
		rc = rootsh_put(c, s, j->peer->f[k]->data, j->peer->f[k]->len,
		    peerf_modes[k], SCRIPT_MS);
		free(s);
		if (rc != SSHC_OK) {
			session_failed(j, c, rc, "copy failed");
			goto fail;
		}
	}
	s = devcopy_commit_script(q, list);
	rc = run(j, c, s, strlen(s), "copy failed", NULL, NULL);
	free(s);
	if (rc == -1) {
		/* the script says which state it left; a lost session cannot */
		if (strstr(j->reason, "replaced") == NULL &&
		    strstr(j->reason, "rolled back") == NULL &&
		    strstr(j->reason, "rollback failed") == NULL)
			strlcat(j->reason, "; its files may be the old or the "
			    "new ones (the commit goes on after a hangup)",
			    sizeof(j->reason));
		free(q);
		blk_add(&j->out, "Failed to copy certificates to %s",
		    j->row->name);
		return 0;
	}
	free(q);
	blk_add(&j->out, "Successfully copied certificates to %s", j->row->name);
	blk_add(&j->out, "Restarting sftunnel for %s", j->row->name);
	j->restarted = time(NULL);
	if (run(j, c, devcopy_restart_script,
	    sizeof(devcopy_restart_script) - 1,
	    "pmtool restartbyid sftunnel failed", NULL, NULL) == -1) {
		blk_add(&j->out, "Failed to restart sftunnel for %s",
		    j->row->name);
		return 0;
	}
	if (mismatch) {
		failed(j, "key mismatch: %s holds another key than the one of "
		    "/%s; only cacert.pem was copied", j->row->name,
		    j->peer->f[PEERF_I_CERT]->path);
		return 0;
	}
	j->state = DEV_COPIED;
	return 0;
 fail:
	free(q);
	strlcat(j->reason, "; old files kept", sizeof(j->reason));
	blk_add(&j->out, "Failed to copy certificates to %s", j->row->name);
	return 0;
}

/* The job's gate, and a note that it was taken (the caller releases it). */
static int
gate(void *arg, int bounded)
{
	struct dev_job *j = arg;

	if (!j->gate(j->gate_arg, bounded))
		return 0;
	j->gated = 1;
	return 1;
}

int
devjob_login(struct dev_job *j, struct sshc **c, enum rootsh_step *step)
{
	struct rootsh_dev d;
	int rc;

	blk_add(&j->out, "Attempting connection to %s", j->row->name);
	memset(&d, 0, sizeof(d));
	d.name = j->row->name;
	d.addr = j->row->addr;
	d.login = j->row->login;
	d.password = j->row->password;
	d.so = j->so;
	d.step_ms = j->step_ms;
	if (j->gate != NULL) {
		d.gate = gate;
		d.gate_arg = j;
	}
	rc = rootsh_login(c, &d, step);
	csv_row_wipe(j->row);
	return rc;
}

void
devcopy_run(struct dev_job *j)
{
	struct sshc *c = NULL;
	enum rootsh_step step;
	char *dest = NULL;
	int rc;

	rc = devjob_login(j, &c, &step);
	if (rc != SSHC_OK && step != RS_ROOT) {
		failed(j, "%s", sshc_error(c));
		j->unreachable = rc == SSHC_ECONNECT;
		if (rc == SSHC_ECONNECT)
			blk_add(&j->out, "Could not connect to %s",
			    j->row->name);
		else
			blk_add(&j->out, "Could not connect to %s: %s",
			    j->row->name, sshc_error(c));
		sshc_free(c);
		return;
	}
	blk_add(&j->out, "Connected to %s", j->row->name);
	if (rc != SSHC_OK) {
		failed(j, "%s", sshc_error(c));
		blk_add(&j->out, "Could not get a root shell on %s",
		    j->row->name);
		goto close;
	}
	if ((dest = identify(j, c)) == NULL)
		goto close;
	if (copy(j, c, dest)) {
		free(dest);
		return;		/* the hook closed the session */
	}
 close:
	if (j->state == DEV_FAILED && j->peer == NULL && j->uuid[0] != '\0')
		blk_add(&j->out, "Certificates will not be copied to %s: %s",
		    j->row->name, j->reason);
	blk_add(&j->out, "Closing connection with %s", j->row->name);
	free(dest);
	sshc_free(c);
}
