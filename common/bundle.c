// SPDX-License-Identifier: ISC
/* bundle.c -- what an FMC issued for its peers: each peer's files chosen and checked */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "conf.h"
#include "log.h"
#include "peers.h"
#include "pki.h"
#include "root.h"
#include "xmalloc.h"
#include "banned.h"

const char *const bundle_names[BF_COUNT] = {
	PEERF_CACERT, PEERF_CERT, PEERF_KEY
};
const int bundle_modes[BF_COUNT] = { 0644, 0644, 0600 };

/* Which of the three files a destination path names; -1 if none. */
static int
which_file(const char *dest)
{
	const char *b = strrchr(dest, '/');
	int i;

	b = b == NULL ? dest : b + 1;
	for (i = 0; i < BF_COUNT; i++)
		if (strcmp(b, bundle_names[i]) == 0)
			return i;
	return -1;
}

static void
apply_failed_push(struct bundle *b, const struct bfile *fp)
{
	char uuid[64], name[64], ip[64], src[512], dst[512];
	const char *p = fp->data, *e;
	char line[1400];
	size_t i, n;
	int k;

	for (; p != NULL && *p != '\0'; p = e == NULL ? NULL : e + 1) {
		e = strchr(p, '\n');
		n = e == NULL ? strlen(p) : (size_t)(e - p);
		if (n >= sizeof(line))
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		if (sscanf(line, "%63s %63s %63s %511s %511s", uuid, name, ip,
		    src, dst) != 5 || (k = which_file(dst)) == -1)
			continue;
		for (i = 0; i < b->n; i++) {
			if (strcmp(b->p[i].uuid, uuid) != 0)
				continue;
			b->p[i].in_failed = 1;
			if ((b->p[i].f[k] = fileset_get(&b->fs, src)) == NULL)
				snprintf(b->p[i].err, sizeof(b->p[i].err),
				    "%.60s names %.100s, not on the FMC",
				    b->failed_push, src);
		}
	}
}

/* The key matches the certificate, which chains to the CA. */
static void
check_peer(struct bpeer *p)
{
	X509 *ca = NULL, *cert = NULL;
	EVP_PKEY *key = NULL;
	int verr = 0, i;

	for (i = 0; i < BF_COUNT; i++)
		if (p->f[i] == NULL || p->f[i]->len == 0) {
			if (p->err[0] == '\0')
				snprintf(p->err, sizeof(p->err), "no %s for %s "
				    "on the FMC", bundle_names[i], p->name);
			return;
		}
	if ((ca = pki_cert_from_pem(p->f[BF_CACERT]->data,
	    p->f[BF_CACERT]->len, p->f[BF_CACERT]->path)) == NULL ||
	    (cert = pki_cert_from_pem(p->f[BF_CERT]->data, p->f[BF_CERT]->len,
	    p->f[BF_CERT]->path)) == NULL ||
	    (key = pki_key_from_pem(p->f[BF_KEY]->data, p->f[BF_KEY]->len,
	    p->f[BF_KEY]->path)) == NULL)
		snprintf(p->err, sizeof(p->err), "unreadable certificate or "
		    "key for %s on the FMC", p->name);
	else if (!pki_key_matches(cert, key))
		snprintf(p->err, sizeof(p->err), "%s does not match %s",
		    p->f[BF_KEY]->path, p->f[BF_CERT]->path);
	else if (pki_chains_to(cert, ca, time(NULL), &verr, NULL) != 0)
		snprintf(p->err, sizeof(p->err), "%s does not chain to the "
		    "FMC's CA (%s)", p->f[BF_CERT]->path,
		    X509_verify_cert_error_string(verr));
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/*
 * The FMC's uuid and name from its ims.conf, read as generate_certs
 * reads it.
 */
static int
fmc_ident(struct bundle *b, const struct bfile *ims)
{
	struct conf *c = NULL;
	const char *v;
	int rc = -1;

	if (conf_parse(ims->data, ims->len, "/" RP_IMS_CONF, &c) == -1)
		return -1;
	if ((v = conf_get(c, "APPLIANCE_UUID")) == NULL ||
	    !peer_uuid_valid(v)) {
		log_warnx("/%s: no APPLIANCE_UUID on the FMC", RP_IMS_CONF);
		goto out;
	}
	strlcpy(b->fmc_uuid, v, sizeof(b->fmc_uuid));
	if ((v = conf_get(c, "HOSTNAME")) == NULL ||
	    strlen(v) >= sizeof(b->fmc_name))
		v = b->fmc_uuid;
	strlcpy(b->fmc_name, v, sizeof(b->fmc_name));
	rc = 0;
 out:
	conf_free(c);
	return rc;
}

/*
 * The peer a sftunnel.json describes, read as generate_certs reads it:
 * 1 when js is a peer folder's sftunnel.json (parsed into p), 0 when it
 * is not one, -1 when it is malformed.
 */
static int
peer_of(const struct bfile *js, struct bpeer *bp)
{
	char folder[PEER_UUID_LEN + 1], *path;
	const char *f = js->path + strlen(RP_PEERS "/");
	size_t fl = strcspn(f, "/");
	struct peer p;
	int rc;

	if (strncmp(js->path, RP_PEERS "/", strlen(RP_PEERS "/")) != 0 ||
	    fl != PEER_UUID_LEN || strcmp(f + fl, "/" PEERF_JSON) != 0)
		return 0;
	memcpy(folder, f, fl);
	folder[fl] = '\0';
	if (!peer_uuid_valid(folder))
		return 0;
	path = xasprintf("/%s", js->path);
	rc = peer_parse(js->data, js->len, path, folder, &p);
	free(path);
	if (rc == -1)
		return -1;
	memset(bp, 0, sizeof(*bp));
	strlcpy(bp->uuid, p.uuid, sizeof(bp->uuid));
	strlcpy(bp->name, p.name, sizeof(bp->name));
	strlcpy(bp->ip, p.ip, sizeof(bp->ip));
	strlcpy(bp->role, p.role, sizeof(bp->role));
	return 1;
}

int
bundle_build(struct bundle *b, struct fileset *fs)
{
	const struct bfile *ims, *ca, *fp = NULL;
	char *rel;
	size_t i, cap = 0;
	struct bpeer *p;
	int r;

	memset(b, 0, sizeof(*b));
	b->fs = *fs;
	memset(fs, 0, sizeof(*fs));
	if ((ims = fileset_get(&b->fs, RP_IMS_CONF)) == NULL) {
		log_warnx("/%s: no APPLIANCE_UUID on the FMC", RP_IMS_CONF);
		return -1;
	}
	if (fmc_ident(b, ims) == -1)
		return -1;
	if ((ca = fileset_get(&b->fs, RP_CA_CERT)) == NULL) {
		log_warnx("/%s: no CA certificate on the FMC", RP_CA_CERT);
		return -1;
	}
	for (i = 0; i < b->fs.n; i++) {
		const char *path = b->fs.f[i].path;
		size_t pl = strlen(path);

		if (strncmp(path, RP_CERTS_TMP "/", strlen(RP_CERTS_TMP) + 1)
		    == 0 && pl > 12 && strcmp(path + pl - 12, "/FAILED_PUSH") == 0)
			fp = &b->fs.f[i];
		if (b->n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			b->p = xreallocarray(b->p, cap, sizeof(*b->p));
		}
		p = &b->p[b->n];
		if ((r = peer_of(&b->fs.f[i], p)) == -1)
			return -1;
		if (r == 0)
			continue;
		p->f[BF_CACERT] = ca;
		rel = xasprintf("%s/%s/%s/%s", RP_PEERS, p->uuid, PEERF_PUSHED,
		    PEERF_CERT);
		if ((p->f[BF_CERT] = fileset_get(&b->fs, rel)) == NULL) {
			free(rel);
			rel = xasprintf("%s/%s/%s", RP_PEERS, p->uuid, PEERF_CERT);
			p->f[BF_CERT] = fileset_get(&b->fs, rel);
		}
		free(rel);
		rel = xasprintf("%s/%s/%s/%s", RP_PEERS, p->uuid, PEERF_PUSHED,
		    PEERF_KEY);
		if ((p->f[BF_KEY] = fileset_get(&b->fs, rel)) == NULL) {
			free(rel);
			rel = xasprintf("%s/%s/%s", RP_PEERS, p->uuid, PEERF_KEY);
			p->f[BF_KEY] = fileset_get(&b->fs, rel);
		}
		free(rel);
		b->n++;
	}
	if (fp != NULL) {
		snprintf(b->failed_push, sizeof(b->failed_push), "/%s",
		    fp->path);
		apply_failed_push(b, fp);
	}
	for (i = 0; i < b->n; i++)
		if (b->p[i].err[0] == '\0')
			check_peer(&b->p[i]);
	return 0;
}

void
bundle_release(struct bundle *b)
{
	free(b->p);
	fileset_release(&b->fs);
	memset(b, 0, sizeof(*b));
}

const struct bpeer *
bundle_find(const struct bundle *b, const char *uuid)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcasecmp(b->p[i].uuid, uuid) == 0)
			return &b->p[i];
	return NULL;
}
