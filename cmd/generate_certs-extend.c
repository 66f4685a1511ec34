// SPDX-License-Identifier: ISC
/* generate_certs-extend.c -- renew the CA and reissue every certificate on the same keys */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "generate_certs.h"
#include "log.h"
#include "pki.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

/*
 * No key is made, staged, replaced or pushed here: the CA is renewed on
 * its own key (pki_renew_ca) and every sftunnel certificate is reissued
 * on the key next to it (pki_reissue), so that everything issued before
 * still chains, and only certificates move.
 */

int
gc_extend_check(struct gc *gc)
{
	char why[256], *pc, *pk;
	int rc = -1;

	pc = root_path(RP_CA_CERT);
	pk = root_path(RP_CA_KEY);
	if ((gc->oldca = pki_load_cert(pc)) == NULL ||
	    (gc->cakey = pki_load_key(pk)) == NULL)
		goto out;
	if (pki_renewable(gc->oldca, gc->cakey, why, sizeof(why)) == -1) {
		log_warnx("%s: cannot be renewed on its own key: %s; "
		    "generate_certs without --extend makes a new CA and new "
		    "keys", pc, why);
		goto out;
	}
	rc = 0;
 out:
	free(pc);
	free(pk);
	return rc;
}

static time_t
not_after(const struct gc *gc)
{
	return gc->start + (time_t)gc->days * PKI_DAY;
}

/*
 * Load the certificate and key of one folder (relative to the root) and
 * reissue the certificate on that key.  A certificate that does not
 * match its key is reissued on the key, which is what stays: so the
 * folder holds a pair again.
 */
static X509 *
reissue_in(struct gc *gc, const char *relcert, const char *relkey,
    unsigned long serial, EVP_PKEY **keyp)
{
	char *pc, *pk;
	EVP_PKEY *k = NULL;
	X509 *old = NULL, *c = NULL;

	pc = root_path("%s", relcert);
	pk = root_path("%s", relkey);
	if ((old = pki_load_cert(pc)) == NULL ||
	    (k = pki_load_key(pk)) == NULL)
		goto out;
	if (!pki_key_matches(old, k))
		log_info("%s: does not match %s: reissued on the key", pc, pk);
	c = pki_reissue(old, k, gc->ca, gc->cakey, serial,
	    gc->start - gc->backdate, not_after(gc));
	if (c != NULL) {
		*keyp = k;
		k = NULL;	/* transferred */
	}
 out:
	X509_free(old);
	EVP_PKEY_free(k);
	free(pc);
	free(pk);
	return c;
}

/*
 * Reissue id i's certificate on the key next to it and, for a peer, the
 * one in certs_pushed/ on its key: the same certificate when that is the
 * same key (the usual case), else one of its own, whose serial follows
 * all the others.
 */
static int
reissue_one(void *arg, size_t i)
{
	struct gc *gc = arg;
	struct gc_id *id = &gc->id[i];
	char *rc_, *rk, *pc, *pk, *path = NULL;
	int rc = -1;

	rc_ = xasprintf("%s/%s", id->dir, PEERF_CERT);
	rk = xasprintf("%s/%s", id->dir, PEERF_KEY);
	pc = xasprintf("%s/%s/%s", id->dir, PEERF_PUSHED, PEERF_CERT);
	pk = xasprintf("%s/%s/%s", id->dir, PEERF_PUSHED, PEERF_KEY);
	id->serial = gc->next_serial + 1 + i;
	if ((id->cert = reissue_in(gc, rc_, rk, id->serial, &id->key)) == NULL)
		goto out;
	if (id->p == NULL) {
		gc_progress(gc, GC_STEP_SIGNED);
		rc = 0;
		goto out;
	}
	/* certs_pushed/ without a key takes the folder's certificate */
	path = root_path("%s", pk);
	if (sfile_exists(path) && (id->pushed_key = pki_load_key(path)) ==
	    NULL)
		goto out;
	if (id->pushed_key == NULL || pki_key_equal(id->pushed_key, id->key)) {
		EVP_PKEY_free(id->pushed_key);
		id->pushed_key = NULL;
		if ((id->pushed = pki_cert_ref(id->cert)) == NULL ||
		    (id->pushed_key = pki_key_ref(id->key)) == NULL)
			goto out;
	} else {
		EVP_PKEY_free(id->pushed_key);
		id->pushed_key = NULL;
		log_info("%s: another key than %s: reissued apart", pk, rk);
		id->pushed = reissue_in(gc, pc, pk, gc->next_serial + gc->nid +
		    i, &id->pushed_key);
		if (id->pushed == NULL)
			goto out;
	}
	gc_progress(gc, GC_STEP_SIGNED);
	rc = 0;
 out:
	free(path);
	free(rc_);
	free(rk);
	free(pc);
	free(pk);
	return rc;
}

int
gc_extend_make(struct gc *gc)
{
	gc->threads = gc->threads > 0 ? gc->threads : 1;
	gc->next_serial = gc_old_serial();
	gc->ca = pki_renew_ca(gc->oldca, gc->cakey, gc->next_serial,
	    gc->start - gc->backdate, not_after(gc));
	if (gc->ca == NULL)
		return -1;
	log_info("renewed the InternalCA on its key (serial %lX); reissuing "
	    "the certificates of this FMC and %zu peers on their keys over "
	    "%d threads", gc->next_serial, gc->nid - 1, gc->threads);
	return gc_par_run(gc, gc->nid, gc->threads, reissue_one);
}

/*
 * Write one reissued certificate under new/ and read it back: it chains
 * to the renewed CA, names its holder, and its key is the one that stays
 * next to it.
 */
static int
stage_cert(struct gc *gc, const char *rel, X509 *c, EVP_PKEY *key,
    const char *uuid)
{
	char *pem = NULL, *p = NULL;
	size_t len;
	X509 *back = NULL;
	int rc = -1;

	if ((pem = pki_cert_pem(c, &len)) == NULL ||
	    gc_put_pem(gc, rel, pem, len, 0644) == -1)
		goto out;
	p = journal_path(&gc->journal, "%s/%s", GC_NEW, rel);
	if ((back = pki_load_cert(p)) == NULL)
		goto out;
	if (!pki_cert_equal(back, c) || !pki_key_matches(back, key)) {
		log_warnx("%s: not what was issued", p);
		goto out;
	}
	if (gc_check_issued(gc, p, back, uuid, "renewed") == -1)
		goto out;
	rc = 0;
 out:
	X509_free(back);
	free(pem);
	free(p);
	return rc;
}

static int
stage_one(void *arg, size_t i)
{
	struct gc *gc = arg;
	struct gc_id *id = &gc->id[i];
	char *rel;
	int rc;

	rel = xasprintf("%s/%s", id->dir, PEERF_CERT);
	rc = stage_cert(gc, rel, id->cert, id->key, id->uuid);
	free(rel);
	if (rc == -1 || id->p == NULL)
		return rc;
	rel = xasprintf("%s/%s/%s", id->dir, PEERF_PUSHED, PEERF_CERT);
	rc = stage_cert(gc, rel, id->pushed, id->pushed_key, id->uuid);
	free(rel);
	return rc;
}

/*
 * The CA database goes on: the old index.txt keeps its lines (what was
 * issued before is still valid) and gets one more per certificate; the
 * counter moves past every serial used; the CRL is signed again, by the
 * same key, until the renewed CA's end.
 */
static int
stage_ca(struct gc *gc)
{
	char *p = NULL, *old = NULL, *idx = NULL, buf[32];
	size_t oldlen = 0, idxlen = 0;
	X509 *back = NULL;
	FILE *f = NULL;
	int rc = -1;

	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_CERT);
	if (pki_write_cert(p, gc->ca) == -1)
		goto out;
	if ((back = pki_load_cert(p)) == NULL)
		goto out;
	if (!pki_cert_equal(back, gc->ca) || !pki_key_matches(back,
	    gc->cakey)) {
		log_warnx("%s: does not match the CA key", p);
		goto out;
	}
	free(p);
	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_CRL);
	if (pki_write_crl(p, gc->ca, gc->cakey, not_after(gc)) == -1)
		goto out;
	free(p);
	p = root_path(RP_CA_INDEX);
	if (sfile_exists(p) && sfile_read(p, 64 * SFILE_CAP, &old,
	    &oldlen) == -1)
		goto out;
	if ((f = open_memstream(&idx, &idxlen)) == NULL) {
		log_warn("open_memstream");
		goto out;
	}
	if (oldlen > 0)
		fprintf(f, "%s%s", old, old[oldlen - 1] == '\n' ? "" : "\n");
	if (gc_index_lines(gc, f) == -1)
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		log_warn("open_memstream");
		goto out;
	}
	f = NULL;
	free(p);
	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_INDEX);
	if (sfile_write_nosync(p, idx, idxlen, 0644) == -1)
		goto out;
	free(p);
	/* past the last serial reissue_one may have used */
	snprintf(buf, sizeof(buf), "%02lX\n",
	    gc->next_serial + 2 * (unsigned long)gc->nid);
	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_SERIAL);
	if (sfile_write_nosync(p, buf, strlen(buf), 0644) == -1)
		goto out;
	rc = 0;
 out:
	if (f != NULL)
		fclose(f);
	X509_free(back);
	free(idx);
	free(old);
	free(p);
	return rc;
}

int
gc_extend_stage(struct gc *gc)
{
	const struct journal *j = &gc->journal;
	char *p;
	size_t i;
	int rc;

	/* folders first, so the workers only write files */
	p = journal_path(j, "%s/%s", GC_NEW, RP_CA_DIR);
	rc = sfile_mkdirs(p, 0700);
	free(p);
	if (rc == -1)
		return -1;
	for (i = 0; i < gc->nid; i++) {
		p = journal_path(j, "%s/%s%s", GC_NEW, gc->id[i].dir,
		    gc->id[i].p != NULL ? "/" PEERF_PUSHED : "");
		rc = sfile_mkdirs(p, 0700);
		free(p);
		if (rc == -1)
			return -1;
	}
	if (gc_par_run(gc, gc->nid, gc->threads, stage_one) == -1)
		return -1;
	gc_test_hook("staging");
	if (stage_ca(gc) == -1)
		return -1;
	/* one flush for every staged file, before the STAGED marker */
	if (sfile_syncfs(j->dir) == -1)
		return -1;
	log_info("staged and verified the renewed CA and %zu reissued "
	    "identities; no key changes", gc->nid);
	return 0;
}
