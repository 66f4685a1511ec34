// SPDX-License-Identifier: ISC
/* devcheck.c -- one device looked at, read-only: what the copy would find there */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "devcheck.h"
#include "esc.h"
#include "pki.h"
#include "root.h"
#include "rootsh.h"
#include "xmalloc.h"
#include "banned.h"

#define SCRIPT_MS	60000
#define HDR_MAX		32	/* "HKEYSUM 65536\n" and then some */

static const struct {
	const char	*tag;
	size_t		 cap;
} tags[DCT_N] = {
	[DCT_TIME] = { "TIME", 24 },
	[DCT_IMS] = { "IMS", 16384 },
	[DCT_CA] = { "CA", 65536 },
	[DCT_CERT] = { "CERT", 65536 },
	[DCT_KEYSUM] = { "KEYSUM", 64 },
	[DCT_KEYPUB] = { "KEYPUB", 64 },
	[DCT_FREE] = { "FREE", 24 },
	[DCT_HCA] = { "HCA", 65536 },
	[DCT_HCERT] = { "HCERT", 65536 },
	[DCT_HKEYSUM] = { "HKEYSUM", 64 },
	[DCT_HKEYPUB] = { "HKEYPUB", 64 },
	[DCT_HFREE] = { "HFREE", 24 },
};

int
devcheck_parse(const char *buf, size_t len, struct dc_answer *a,
    size_t *bad_at)
{
	const char *p = buf, *end = buf + len, *nl, *sp;
	size_t hl, tl, n, k;
	char num[16];
	int t;

	memset(a, 0, sizeof(*a));
	*bad_at = 0;
	while (p < end) {
		*bad_at = (size_t)(p - buf);
		if ((nl = memchr(p, '\n', (size_t)(end - p) < HDR_MAX ?
		    (size_t)(end - p) : HDR_MAX)) == NULL)
			return -1;
		hl = (size_t)(nl - p);
		if (hl == 3 && memcmp(p, "END", 3) == 0)
			return nl + 1 == end ? 0 : -1;
		if ((sp = memchr(p, ' ', hl)) == NULL)
			return -1;
		tl = (size_t)(sp - p);
		for (t = 0; t < DCT_N; t++)
			if (strlen(tags[t].tag) == tl &&
			    memcmp(tags[t].tag, p, tl) == 0)
				break;
		if (t == DCT_N || a->it[t].state != DCI_NONE)
			return -1;
		n = hl - tl - 1;
		if (n == 1 && (sp[1] == '-' || sp[1] == '!' || sp[1] == '+')) {
			a->it[t].state = sp[1] == '-' ? DCI_ABSENT :
			    sp[1] == '!' ? DCI_NOTFILE : DCI_BIG;
			p = nl + 1;
			continue;
		}
		if (n == 0 || n >= sizeof(num))
			return -1;
		for (k = 0; k < n; k++)
			if (sp[1 + k] < '0' || sp[1 + k] > '9')
				return -1;
		memcpy(num, sp + 1, n);
		num[n] = '\0';
		n = strtoul(num, NULL, 10);
		if (n > tags[t].cap || (size_t)(end - (nl + 1)) < n + 1 ||
		    nl[1 + n] != '\n')
			return -1;
		a->it[t].state = DCI_DATA;
		a->it[t].p = nl + 1;
		a->it[t].len = n;
		p = nl + 1 + n + 1;
	}
	*bad_at = len;
	return -1;
}

int
devcheck_number(const struct dc_item *it, long long *v)
{
	char num[24];
	const char *errstr;
	size_t k;

	if (it->state != DCI_DATA || it->len == 0 || it->len >= sizeof(num))
		return -1;
	for (k = 0; k < it->len; k++)
		if ((it->p[k] < '0' || it->p[k] > '9') &&
		    !(k == 0 && it->p[k] == '-' && it->len > 1))
			return -1;
	memcpy(num, it->p, it->len);
	num[it->len] = '\0';
	*v = strtonum(num, -(1LL << 40), 1LL << 50, &errstr);
	return errstr == NULL ? 0 : -1;
}

/*
 * The script run in the device's root shell: it only reads (test, head,
 * wc, sha256sum of the key, df, date, grep; no awk, which an appliance
 * may lack), and prints the records devcheck_parse reads, nothing else
 * (stderr is dropped: a warning would break the framing).  fmc is a
 * checked UUID.
 */
static char *
check_script(const char *fmc)
{
	return xasprintf(
	    "export LC_ALL=C\n"
	    "exec 2>/dev/null\n"
	    "set -o pipefail\n"
	    "D=/%s/%s\n"
	    "v() { printf '%%s %%s\\n%%s\\n' \"$1\" \"${#2}\" \"$2\"; }\n"
	    "f() {\n"
	    "  if [ -L \"$2\" ]; then echo \"$1 !\"; return; fi\n"
	    "  if [ ! -e \"$2\" ]; then echo \"$1 -\"; return; fi\n"
	    "  if [ ! -f \"$2\" ] || [ ! -r \"$2\" ]; then echo \"$1 !\"; "
	    "return; fi\n"
	    "  n=$(head -c $(($3 + 1)) -- \"$2\" 2>/dev/null | wc -c)\n"
	    "  if [ \"$n\" -gt \"$3\" ]; then echo \"$1 +\"; return; fi\n"
	    "  echo \"$1 $n\"; head -c \"$n\" -- \"$2\"; echo\n"
	    "}\n"
	    "k() {\n"
	    "  if [ -L \"$2\" ]; then echo \"$1 !\"; return; fi\n"
	    "  if [ ! -e \"$2\" ]; then echo \"$1 -\"; return; fi\n"
	    "  if [ ! -f \"$2\" ]; then echo \"$1 !\"; return; fi\n"
	    "  s=$(sha256sum <\"$2\" 2>/dev/null) && v \"$1\" \"${s%%%% *}\" || "
	    "echo \"$1 !\"\n"
	    "  s=$(openssl pkey -in \"$2\" -pubout -outform DER | sha256sum) && "
	    "v \"$3\" \"${s%%%% *}\" || echo \"$3 !\"\n"
	    "}\n"
	    "s() {\n"
	    "  p=$2\n"
	    "  while [ ! -d \"$p\" ]; do p=${p%%/*}; [ -n \"$p\" ] || p=/; done\n"
	    "  a=; { read -r x; read -r x x x a x; } "
	    "<<<\"$(df -Pk -- \"$p\")\"\n"
	    "  v \"$1\" \"$a\"\n"
	    "}\n"
	    "v TIME \"$(date +%%s)\"\n"
	    "{ i=$(grep -E '^[[:space:]]*(APPLIANCE_UUID|MODEL_TYPE|HOSTNAME)"
	    "[[:space:]]*=' /etc/sf/ims.conf | head -c 16385); } 2>/dev/null\n"
	    "if [ ${#i} -gt 16384 ]; then echo 'IMS +'; else v IMS \"$i\"; fi\n"
	    "f CA \"$D/%s\" 65536; f CERT \"$D/%s\" 65536; k KEYSUM \"$D/%s\" KEYPUB; "
	    "s FREE \"$D\"\n"
	    "if [ -d \"$D/from_peer\" ] && [ ! -L \"$D/from_peer\" ]; then\n"
	    "  f HCA \"$D/from_peer/%s\" 65536; f HCERT \"$D/from_peer/%s\" "
	    "65536\n"
	    "  k HKEYSUM \"$D/from_peer/%s\" HKEYPUB; s HFREE \"$D/from_peer\"\n"
	    "fi\n"
	    "echo END\n", RP_PEERS, fmc, PEERF_CACERT, PEERF_CERT, PEERF_KEY,
	    PEERF_CACERT, PEERF_CERT, PEERF_KEY);
}

const char *
devcheck_verdict_name(enum dc_verdict v)
{
	switch (v) {
	case DC_CURRENT:
		return "current";
	case DC_COPY:
		return "copy";
	case DC_UNREACHABLE:
		return "unreachable";
	default:
		return "refused";
	}
}

const char *
devcheck_ca_name(enum dc_ca c)
{
	switch (c) {
	case DC_CA_MISSING:
		return "missing";
	case DC_CA_BAD:
		return "unreadable";
	case DC_CA_CURRENT:
		return "current";
	case DC_CA_RENEWED:
		return "renewed";
	case DC_CA_OLDER:
		return "older";
	case DC_CA_FOREIGN:
		return "foreign";
	default:
		return "unknown";
	}
}

static void __attribute__((format(printf, 3, 4)))
verdict(struct dev_job *j, enum dc_verdict v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->chk->reason, sizeof(j->chk->reason), fmt, ap);
	va_end(ap);
	j->chk->verdict = v;
	strlcpy(j->reason, j->chk->reason, sizeof(j->reason));
	j->state = v == DC_CURRENT ? DEV_DONE : DEV_FAILED;
}

static struct devcheck *
chk_new(void)
{
	struct devcheck *d = xcalloc(1, sizeof(*d));

	d->hostkey = "";
	d->login = d->registered = d->addr_ok = DC_UNK;
	d->cert_present = d->cert_chains = d->cert_issued = DC_UNK;
	d->key_same = DC_UNK;
	d->free_kib = -1;
	return d;
}

void
devcheck_free(struct devcheck *d)
{
	free(d);
}

void
devcheck_unvisited(struct dev_job *j)
{
	if (j->chk == NULL)
		j->chk = chk_new();
	strlcpy(j->chk->conn_why, "earlier", sizeof(j->chk->conn_why));
	j->chk->verdict = DC_UNREACHABLE;
	strlcpy(j->chk->reason, j->reason, sizeof(j->chk->reason));
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "Oct  9 10:12:50 2034 GMT", or "unknown". */
static const char *
when(time_t t, char *buf, size_t len)
{
	if (t == 0)
		strlcpy(buf, "unknown", len);
	else
		pki_fmt_time(t, buf, len);
	return buf;
}

/* The device's CA (item) against the FMC's (fmcca). */
static void
look_ca(struct devcheck *d, const struct dc_item *it, X509 *fmcca,
    const char *fmc_uuid)
{
	struct pki_info in;
	X509 *x;

	if (it->state == DCI_NONE || it->state == DCI_ABSENT) {
		d->ca = DC_CA_MISSING;
		return;
	}
	if (it->state != DCI_DATA || (x = pki_cert_from_pem(it->p, it->len,
	    "the device's cacert.pem")) == NULL) {
		d->ca = DC_CA_BAD;
		return;
	}
	pki_cert_sha256(x, d->ca_sha256);
	pki_validity(x, NULL, &d->ca_not_after);
	if (pki_cert_equal(x, fmcca))
		d->ca = DC_CA_CURRENT;
	else if (pki_same_pubkey(x, fmcca))
		d->ca = DC_CA_RENEWED;
	else if (pki_cert_info(x, &in) == 0 &&
	    strcasecmp(in.cn, fmc_uuid) == 0)
		d->ca = DC_CA_OLDER;
	else
		d->ca = DC_CA_FOREIGN;
	X509_free(x);
}

/*
 * The device's sftunnel certificate and key against the FMC's records:
 * it (the certificate), ks and kp (SHA-256 of its key file, and of the
 * key's public half).  The key is the right one when its public half is
 * that of the certificate the FMC issued for the device (after a renewal
 * on the same keys the FMC has no copy of the key); a device without
 * openssl falls back to the key file's bytes against the FMC's copy.
 */
static void
look_cert(struct devcheck *d, const struct dc_item *it,
    const struct dc_item *ks, const struct dc_item *kp, X509 *fmcca,
    const struct bpeer *p)
{
	X509 *x = NULL, *mine = NULL;
	char hex[65];
	int verr = 0;

	if (p->f[PEERF_I_CERT] != NULL)
		mine = pki_cert_from_pem(p->f[PEERF_I_CERT]->data,
		    p->f[PEERF_I_CERT]->len, p->f[PEERF_I_CERT]->path);
	if (it->state == DCI_NONE || it->state == DCI_ABSENT) {
		d->cert_present = 0;
		goto key;
	}
	d->cert_present = 1;
	if (it->state != DCI_DATA || (x = pki_cert_from_pem(it->p, it->len,
	    "the device's sftunnel-cert.pem")) == NULL) {
		d->cert_chains = 0;
		strlcpy(d->cert_verr, "not a certificate",
		    sizeof(d->cert_verr));
		goto key;
	}
	pki_validity(x, NULL, &d->cert_not_after);
	if (pki_chains_to(x, fmcca, time(NULL), &verr, NULL) == 0)
		d->cert_chains = 1;
	else {
		d->cert_chains = 0;
		strlcpy(d->cert_verr, pki_verify_errstr(verr),
		    sizeof(d->cert_verr));
	}
	if (mine != NULL)
		d->cert_issued = pki_cert_equal(x, mine);
 key:
	if (kp->state == DCI_DATA && kp->len == 64 && mine != NULL &&
	    pki_pubkey_sha256(mine, hex) == 0)
		d->key_same = memcmp(hex, kp->p, 64) == 0;
	else if (ks->state == DCI_DATA && ks->len == 64 &&
	    p->f[PEERF_I_KEY] != NULL &&
	    pki_sha256_hex(p->f[PEERF_I_KEY]->data, p->f[PEERF_I_KEY]->len,
	    hex) == 0)
		d->key_same = memcmp(hex, ks->p, 64) == 0;
	else if (ks->state == DCI_ABSENT || ks->state == DCI_NONE)
		d->key_same = 0;
	X509_free(x);
	X509_free(mine);
}

/* KiB the copy needs where the files go: new, backups, rollback copies. */
static long long
needed_kib(const struct bpeer *p)
{
	long long n = 0;
	int k;

	for (k = 0; k < PEERF_NFILES; k++)
		if (p->f[k] != NULL)
			n += (long long)((p->f[k]->len + 4095) / 4096) * 4;
	return n * 3;
}

/* Why the device needs the copy, from its facts. */
static void
copy_reason(const struct devcheck *d, char *buf, size_t len)
{
	char exp[128];

	buf[0] = '\0';
	switch (d->ca) {
	case DC_CA_CURRENT:
		break;
	case DC_CA_MISSING:
		strlcat(buf, "no CA for this FMC", len);
		break;
	case DC_CA_BAD:
		strlcat(buf, "its CA cannot be read", len);
		break;
	case DC_CA_RENEWED:
		strlcat(buf, "its CA is this FMC's key before the renewal", len);
		break;
	case DC_CA_OLDER:
		strlcat(buf, "its CA is an older one of this FMC", len);
		break;
	default:
		strlcat(buf, "its CA is not this FMC's", len);
	}
	if (d->cert_chains != 1) {
		if (buf[0] != '\0')
			strlcat(buf, "; ", len);
		if (d->cert_present == 0)
			strlcat(buf, "no sftunnel certificate", len);
		else {
			snprintf(exp, sizeof(exp), "its certificate does not "
			    "chain to the current CA (%s)", d->cert_verr);
			strlcat(buf, exp, len);
		}
	} else if (d->cert_issued != 1 || d->key_same != 1) {
		if (buf[0] != '\0')
			strlcat(buf, "; ", len);
		strlcat(buf, "its certificate or key is not the one the FMC "
		    "issued", len);
	}
}

/* From the answer to the verdict; the lines of the block as it goes. */
static void
evaluate(struct dev_job *j, const struct dc_answer *a, long long dev_now,
    long long t0_ms, long long t1_ms, long fmc_skew)
{
	struct devcheck *d = j->chk;
	const struct bfile *caf;
	const struct bpeer *p;
	struct conf *cf = NULL;
	const struct dc_item *ca, *cert, *ks, *kp, *fr;
	char model[32] = "", uuid[64] = "", t1[64], t2[64], why[200];
	const char *v;
	long long freek, need;
	X509 *fmcca = NULL;

	if (dev_now != LLONG_MIN) {
		/*
		 * The device read its clock (whole seconds) between t0 and
		 * t1 of ours: a reading inside that window is no skew, one
		 * outside it is off by at least its distance to the window.
		 */
		d->clock_known = 1;
		dev_now -= fmc_skew;
		if (dev_now > t1_ms / 1000)
			d->skew = dev_now - t1_ms / 1000;
		else if (dev_now < t0_ms / 1000)
			d->skew = dev_now - t0_ms / 1000;
		else
			d->skew = 0;
		d->skew_warn = d->skew > DEVCHECK_SKEW_WARN ||
		    d->skew < -DEVCHECK_SKEW_WARN;
		blk_add(&j->out, "Clock of %s: %+lld s against the FMC%s",
		    j->row->name, d->skew, d->skew_warn ? " (WARNING: more "
		    "than 5 minutes)" : "");
	}
	if (a->it[DCT_IMS].state == DCI_BIG) {
		verdict(j, DC_REFUSED, "/etc/sf/ims.conf: too long");
		return;
	}
	if (a->it[DCT_IMS].state != DCI_DATA || a->it[DCT_IMS].len == 0 ||
	    memchr(a->it[DCT_IMS].p, '\0', a->it[DCT_IMS].len) != NULL ||
	    conf_parse(a->it[DCT_IMS].p, a->it[DCT_IMS].len,
	    "/etc/sf/ims.conf", &cf) == -1) {
		verdict(j, DC_REFUSED, "/etc/sf/ims.conf: no APPLIANCE_UUID");
		return;
	}
	if ((v = conf_get(cf, "APPLIANCE_UUID")) != NULL &&
	    strlen(v) < sizeof(uuid))
		strlcpy(uuid, v, sizeof(uuid));
	if ((v = conf_get(cf, "MODEL_TYPE")) != NULL &&
	    strlen(v) < sizeof(model))
		strlcpy(model, v, sizeof(model));
	conf_free(cf);
	if (uuid[0] == '\0' || !peer_uuid_valid(uuid)) {
		/* the device's words: never shown raw */
		verdict(j, DC_REFUSED, "/etc/sf/ims.conf: %s APPLIANCE_UUID",
		    uuid[0] == '\0' ? "no" : "malformed");
		return;
	}
	strlcpy(d->uuid, uuid, sizeof(d->uuid));
	strlcpy(j->uuid, uuid, sizeof(j->uuid));
	p = bundle_find(j->b, uuid);
	d->registered = p != NULL || strcasecmp(uuid, j->b->fmc_uuid) == 0;
	if (strcasecmp(uuid, j->b->fmc_uuid) == 0 ||
	    (p != NULL && strcmp(p->role, "fmc-ha") != 0 &&
	    strcmp(model, "CONSOLE") == 0) ||
	    (p == NULL && strcmp(model, "CONSOLE") == 0)) {
		blk_add(&j->out, "%s (%s) is an FMC, not the HA peer: the "
		    "copy skips it", j->row->name, uuid);
		verdict(j, DC_CURRENT, "an FMC, not the HA peer: the copy "
		    "skips it");
		j->state = DEV_SKIPPED;
		return;
	}
	if (p == NULL) {
		verdict(j, DC_REFUSED, "%s (%s) says it is %s, which is no "
		    "peer of this FMC (%s)", j->row->name, j->row->addr, uuid,
		    j->b->fmc_uuid);
		return;
	}
	strlcpy(d->role, p->role, sizeof(d->role));
	if (bundle_vouch(j->b, j->csv, j->row, p, j->nat, why,
	    sizeof(why)) == -1) {
		d->addr_ok = 0;
		verdict(j, DC_REFUSED, "%s", why);
		return;
	}
	d->addr_ok = 1;
	j->peer = p;
	blk_add(&j->out, "%s reports %s, the FMC's %s (%s) at %s: the "
	    "records agree", j->row->name, uuid, p->name, p->role, p->ip);
	if (strcmp(p->role, "fmc-ha") == 0) {
		snprintf(d->dest, sizeof(d->dest), "/%s/%s/from_peer",
		    RP_PEERS, j->b->fmc_uuid);
		ca = &a->it[DCT_HCA];
		cert = &a->it[DCT_HCERT];
		ks = &a->it[DCT_HKEYSUM];
		kp = &a->it[DCT_HKEYPUB];
		fr = a->it[DCT_HFREE].state == DCI_DATA ? &a->it[DCT_HFREE] :
		    &a->it[DCT_FREE];
	} else {
		snprintf(d->dest, sizeof(d->dest), "/%s/%s", RP_PEERS,
		    j->b->fmc_uuid);
		ca = &a->it[DCT_CA];
		cert = &a->it[DCT_CERT];
		ks = &a->it[DCT_KEYSUM];
		kp = &a->it[DCT_KEYPUB];
		fr = &a->it[DCT_FREE];
	}
	if ((caf = fileset_get(&j->b->fs, RP_CA_CERT)) == NULL ||
	    (fmcca = pki_cert_from_pem(caf->data, caf->len,
	    "/" RP_CA_CERT)) == NULL) {
		verdict(j, DC_REFUSED, "the FMC's CA cannot be read");
		return;
	}
	look_ca(d, ca, fmcca, j->b->fmc_uuid);
	look_cert(d, cert, ks, kp, fmcca, p);
	X509_free(fmcca);
	if (devcheck_number(fr, &freek) == 0)
		d->free_kib = freek;
	if (d->ca_sha256[0] != '\0')
		blk_add(&j->out, "CA %s/%s: SHA-256 %s, expires %s: %s",
		    d->dest, PEERF_CACERT, d->ca_sha256,
		    when(d->ca_not_after, t1, sizeof(t1)),
		    devcheck_ca_name(d->ca));
	else
		blk_add(&j->out, "CA %s/%s: %s", d->dest, PEERF_CACERT,
		    devcheck_ca_name(d->ca));
	if (d->cert_present == 1)
		blk_add(&j->out, "Certificate %s/%s: expires %s, %s%s%s; %s "
		    "the FMC issued, key %s", d->dest, PEERF_CERT,
		    when(d->cert_not_after, t2, sizeof(t2)),
		    d->cert_chains == 1 ? "chains to the current CA" :
		    "does not chain to the current CA (",
		    d->cert_chains == 1 ? "" : d->cert_verr,
		    d->cert_chains == 1 ? "" : ")",
		    d->cert_issued == 1 ? "the one" : "not the one",
		    d->key_same == 1 ? "the same" : "differs");
	else
		blk_add(&j->out, "Certificate %s/%s: missing", d->dest,
		    PEERF_CERT);
	if (d->free_kib >= 0)
		blk_add(&j->out, "Free space in %s: %lld KiB", d->dest,
		    d->free_kib);
	if (d->ca == DC_CA_CURRENT && d->cert_chains == 1 &&
	    d->cert_issued == 1 && d->key_same == 1) {
		verdict(j, DC_CURRENT, "CA and certificate current");
		return;
	}
	if (p->err[0] != '\0') {
		verdict(j, DC_REFUSED, "the FMC's files for it cannot be used: "
		    "%s", p->err);
		return;
	}
	if (j->b->public_only && d->key_same == 0) {
		/* the copy would put cacert.pem alone, and fail */
		verdict(j, DC_REFUSED, "key mismatch: it holds another key "
		    "than the one of the certificate the FMC renewed for it "
		    "(the copy would give it cacert.pem only)");
		return;
	}
	need = needed_kib(p);
	if (d->free_kib >= 0 && d->free_kib < need) {
		verdict(j, DC_REFUSED, "%lld KiB free in %s, the copy needs "
		    "about %lld", d->free_kib, d->dest, need);
		return;
	}
	copy_reason(d, why, sizeof(why));
	verdict(j, DC_COPY, "%s", why);
}

void
devcheck_run(struct dev_job *j, long fmc_skew)
{
	struct devcheck *d;
	struct sshc *c = NULL;
	enum rootsh_step step;
	struct dc_answer a;
	const char *out, *fp;
	enum sshc_hk hk;
	size_t outlen, bad = 0;
	long long t0, t1, dev_now = LLONG_MIN;
	char *script;
	int rc, st;

	d = j->chk = chk_new();
	rc = devjob_login(j, &c, &step);
	hk = sshc_hostkey(c, &fp);
	d->hostkey = hk == SSHC_HK_KNOWN ? "known" : hk == SSHC_HK_NEW ?
	    "new" : hk == SSHC_HK_RECORDED ? "recorded" :
	    hk == SSHC_HK_CHANGED ? "changed" : "";
	strlcpy(d->hkfp, fp, sizeof(d->hkfp));
	if (rc == SSHC_ECONNECT) {
		strlcpy(d->conn_why, sshc_connect_why(c), sizeof(d->conn_why));
		j->unreachable = 1;
		blk_add(&j->out, "Could not connect to %s: %s", j->row->name,
		    d->conn_why);
		verdict(j, DC_UNREACHABLE, "%s: %s", d->conn_why,
		    sshc_error(c));
		goto out;
	}
	d->reachable = hk != SSHC_HK_NONE;
	if (hk != SSHC_HK_NONE)
		blk_add(&j->out, "Host key of %s: %s%s (%s)", j->row->name,
		    d->hostkey, hk == SSHC_HK_NEW ? ", not recorded" : "", fp);
	if (rc != SSHC_OK && step == RS_CONNECT) {
		if (hk == SSHC_HK_NEW)
			verdict(j, DC_REFUSED, "host key %s of %s (%s) is not "
			    "known: not logged in (-A records it)", fp,
			    j->row->name, j->row->addr);
		else if (hk == SSHC_HK_CHANGED)
			verdict(j, DC_REFUSED, "host key for %s (%s) has "
			    "changed: not logged in", j->row->name,
			    j->row->addr);
		else
			verdict(j, DC_REFUSED, "%s", sshc_error(c));
		goto out;
	}
	if (rc != SSHC_OK) {
		/* one login attempt: a refused password is not tried again */
		d->login = 0;
		blk_add(&j->out, "Could not log in to %s: %s", j->row->name,
		    sshc_error(c));
		verdict(j, rc == SSHC_ETIMEOUT || rc == SSHC_EIO ?
		    DC_UNREACHABLE : DC_REFUSED,
		    "%s%s", sshc_error(c), rc == SSHC_EAUTH ?
		    " (not tried again)" : "");
		goto out;
	}
	d->login = 1;
	blk_add(&j->out, "Connected to %s", j->row->name);
	/*
	 * The clock first, alone: the window between asking and hearing is
	 * then a round trip, not the whole script's run.
	 */
	t0 = now_ms();
	rc = rootsh_run(c, "date +%s\n", 9, j->step_ms, &out, &outlen, &st);
	t1 = now_ms();
	if (rc == SSHC_OK && st == 0 && outlen > 0 && out[outlen - 1] == '\n') {
		struct dc_item it = { DCI_DATA, out, outlen - 1 };

		if (devcheck_number(&it, &dev_now) == -1)
			dev_now = LLONG_MIN;
	}
	script = check_script(j->b->fmc_uuid);
	if (dev_now == LLONG_MIN)
		t0 = now_ms();
	rc = rootsh_run(c, script, strlen(script), SCRIPT_MS, &out, &outlen,
	    &st);
	if (dev_now == LLONG_MIN)
		t1 = now_ms();
	free(script);
	if (rc != SSHC_OK) {
		verdict(j, DC_REFUSED, "the read-only check failed: %s",
		    rc == SSHC_ETIMEOUT ? "the device did not answer in time" :
		    sshc_error(c));
		goto close;
	}
	if (st != 0 || devcheck_parse(out, outlen, &a, &bad) == -1) {
		verdict(j, DC_REFUSED, "the device's answer to the read-only "
		    "check is malformed (status %d, byte %zu)", st, bad);
		goto close;
	}
	/* the script's own reading, only when the first one failed */
	if (dev_now == LLONG_MIN &&
	    devcheck_number(&a.it[DCT_TIME], &dev_now) == -1)
		dev_now = LLONG_MIN;
	evaluate(j, &a, dev_now, t0, t1, fmc_skew);
 close:
	blk_add(&j->out, "Closing connection with %s", j->row->name);
 out:
	blk_add(&j->out, "Verdict for %s: %s (%s)", j->row->name,
	    devcheck_verdict_name(d->verdict), d->reason);
	sshc_free(c);
}
