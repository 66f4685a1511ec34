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

/* A key file's bytes, read once: compared before they are decoded. */
struct keyfile {
	char	*path;
	char	*pem;
	size_t	 len;
};

static int
keyfile_read(struct keyfile *kf, const char *rel)
{
	kf->path = root_path("%s", rel);
	return sfile_read(kf->path, SFILE_CAP, &kf->pem, &kf->len);
}

static void
keyfile_release(struct keyfile *kf)
{
	if (kf->pem != NULL)
		freezero(kf->pem, kf->len + 1);
	free(kf->path);
	memset(kf, 0, sizeof(*kf));
}

/*
 * Load the certificate of one folder (relative to the root) and reissue
 * it on the key kf read next to it.  A certificate that does not match
 * its key is reissued on the key, which is what stays: so the folder
 * holds a pair again.
 */
static X509 *
reissue_in(struct gc *gc, const char *relcert, const struct keyfile *kf,
    unsigned long serial, EVP_PKEY **keyp)
{
	char *pc;
	EVP_PKEY *k = NULL;
	X509 *old = NULL, *c = NULL;

	pc = root_path("%s", relcert);
	if ((old = pki_load_cert(pc)) == NULL ||
	    (k = pki_keyrd_key(gc->keyrd[gc_par_slot()], kf->pem, kf->len,
	    kf->path)) == NULL)
		goto out;
	if (!pki_key_matches(old, k))
		log_info("%s: does not match %s: reissued on the key", pc,
		    kf->path);
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
	return c;
}

/*
 * Reissue id i's certificate on the key next to it and, for a peer, the
 * one in certs_pushed/ on its key: the same certificate when that is the
 * same key (the usual case: the same bytes, then not decoded again),
 * else one of its own, whose serial follows all the others.
 */
static int
reissue_one(void *arg, size_t i)
{
	struct gc *gc = arg;
	struct gc_id *id = &gc->id[i];
	struct keyfile kf, pkf;
	char *rc_, *rk, *pc, *pk;
	int same, rc = -1;

	memset(&kf, 0, sizeof(kf));
	memset(&pkf, 0, sizeof(pkf));
	rc_ = xasprintf("%s/%s", id->dir, PEERF_CERT);
	rk = xasprintf("%s/%s", id->dir, PEERF_KEY);
	pc = xasprintf("%s/%s/%s", id->dir, PEERF_PUSHED, PEERF_CERT);
	pk = xasprintf("%s/%s/%s", id->dir, PEERF_PUSHED, PEERF_KEY);
	id->serial = gc->next_serial + 1 + i;
	if (keyfile_read(&kf, rk) == -1 ||
	    (id->cert = reissue_in(gc, rc_, &kf, id->serial, &id->key)) ==
	    NULL)
		goto out;
	if (id->p == NULL) {
		gc_progress(gc, GC_STEP_SIGNED);
		rc = 0;
		goto out;
	}
	/* certs_pushed/ without a key takes the folder's certificate */
	pkf.path = root_path("%s", pk);
	if (!sfile_exists(pkf.path))
		same = 1;
	else {
		free(pkf.path);
		if (keyfile_read(&pkf, pk) == -1)
			goto out;
		same = pkf.len == kf.len && memcmp(pkf.pem, kf.pem,
		    kf.len) == 0;
		if (!same) {
			id->pushed_key = pki_keyrd_key(
			    gc->keyrd[gc_par_slot()], pkf.pem, pkf.len,
			    pkf.path);
			if (id->pushed_key == NULL)
				goto out;
			same = pki_key_equal(id->pushed_key, id->key);
			EVP_PKEY_free(id->pushed_key);
			id->pushed_key = NULL;
		}
	}
	if (same) {
		if ((id->pushed = pki_cert_ref(id->cert)) == NULL ||
		    (id->pushed_key = pki_key_ref(id->key)) == NULL)
			goto out;
	} else {
		log_info("%s: another key than %s: reissued apart", pk, rk);
		id->pushed = reissue_in(gc, pc, &pkf, gc->next_serial +
		    gc->nid + i, &id->pushed_key);
		if (id->pushed == NULL)
			goto out;
	}
	gc_progress(gc, GC_STEP_SIGNED);
	rc = 0;
 out:
	keyfile_release(&kf);
	keyfile_release(&pkf);
	free(rc_);
	free(rk);
	free(pc);
	free(pk);
	return rc;
}

int
gc_extend_make(struct gc *gc)
{
	int t;

	gc->threads = gc->threads > 0 ? gc->threads : 1;
	gc->keyrd = xcalloc((size_t)gc->threads, sizeof(*gc->keyrd));
	for (t = 0; t < gc->threads; t++)
		gc->keyrd[t] = pki_keyrd_new();
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
 * Write one reissued certificate, pem (len bytes), under new/ and read
 * it back: the bytes on disk are the ones written.  When check, c is
 * verified too: it chains to the renewed CA, names its holder, and its
 * key is the one that stays next to it.  Those bytes being c's, that
 * holds for the file.
 */
static int
stage_cert(struct gc *gc, const char *rel, const char *pem, size_t len,
    X509 *c, EVP_PKEY *key, const char *uuid, int check)
{
	char *p = NULL, *back = NULL;
	size_t blen = 0;
	int rc = -1;

	if (gc_put_pem(gc, rel, pem, len, 0644) == -1)
		goto out;
	p = journal_staged(&gc->journal, rel);
	if (sfile_read(p, SFILE_CAP, &back, &blen) == -1)
		goto out;
	if (blen != len || memcmp(back, pem, len) != 0) {
		log_warnx("%s: not what was issued", p);
		goto out;
	}
	if (check && !pki_key_matches(c, key)) {
		log_warnx("%s: not what was issued", p);
		goto out;
	}
	if (check && gc_check_issued(gc, p, c, uuid, "renewed") == -1)
		goto out;
	rc = 0;
 out:
	free(back);
	free(p);
	return rc;
}

static int
stage_one(void *arg, size_t i)
{
	struct gc *gc = arg;
	struct gc_id *id = &gc->id[i];
	char *rel, *pem = NULL;
	size_t len;
	int rc = -1;

	rel = xasprintf("%s/%s", id->dir, PEERF_CERT);
	if ((pem = pki_cert_pem(id->cert, &len)) == NULL ||
	    stage_cert(gc, rel, pem, len, id->cert, id->key, id->uuid,
	    1) == -1)
		goto out;
	rc = 0;
	if (id->p == NULL)
		goto out;
	free(rel);
	rel = xasprintf("%s/%s/%s", id->dir, PEERF_PUSHED, PEERF_CERT);
	if (id->pushed == id->cert)	/* the same bytes, checked above */
		rc = stage_cert(gc, rel, pem, len, id->cert, id->key,
		    id->uuid, 0);
	else {
		free(pem);
		if ((pem = pki_cert_pem(id->pushed, &len)) == NULL)
			rc = -1;
		else
			rc = stage_cert(gc, rel, pem, len, id->pushed,
			    id->pushed_key, id->uuid, 1);
	}
 out:
	free(pem);
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

	p = journal_staged(&gc->journal, RP_CA_CERT);
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
	p = journal_staged(&gc->journal, RP_CA_CRL);
	if (pki_write_crl(p, gc->ca, gc->cakey, not_after(gc)) == -1)
		goto out;
	free(p);
	p = root_path(RP_CA_INDEX);
	if (sfile_exists(p) && sfile_read(p, SFILE_BIG_CAP, &old,
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
	p = journal_staged(&gc->journal, RP_CA_INDEX);
	if (sfile_write_nosync(p, idx, idxlen, 0644) == -1)
		goto out;
	free(p);
	/* past the last serial reissue_one may have used */
	snprintf(buf, sizeof(buf), "%02lX\n",
	    gc->next_serial + 2 * (unsigned long)gc->nid);
	p = journal_staged(&gc->journal, RP_CA_SERIAL);
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
	int rc;

	/* one folder for every staged file (journal_staged), made first */
	p = journal_path(j, "%s", GC_NEW);
	rc = sfile_mkdirs(p, 0700);
	free(p);
	if (rc == -1)
		return -1;
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
