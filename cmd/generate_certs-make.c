// SPDX-License-Identifier: ISC
/* generate_certs-make.c -- make, stage and verify the new CA and certificates */
#include <pthread.h>
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
 * Work item i of n, over the cores: key generation and signing are
 * CPU-bound and independent per identity.
 */
struct par {
	void		*arg;
	int		(*fn)(void *, size_t);
	size_t		 n;
	size_t		 next;
	int		 failed;
	pthread_mutex_t	 mu;
};

/* Which worker of gc_par_run this thread is: 0 outside of one. */
static _Thread_local int par_slot;

int
gc_par_slot(void)
{
	return par_slot;
}

struct par_thread {
	struct par	*pa;
	int		 slot;
};

static void *
par_worker(void *arg)
{
	struct par_thread *pt = arg;
	struct par *pa = pt->pa;
	size_t i;

	par_slot = pt->slot;

	for (;;) {
		pthread_mutex_lock(&pa->mu);
		/* after a failure, stop handing out work */
		i = pa->failed ? pa->n : pa->next++;
		pthread_mutex_unlock(&pa->mu);
		if (i >= pa->n)
			break;
		if (pa->fn(pa->arg, i) == -1) {
			pthread_mutex_lock(&pa->mu);
			pa->failed = 1;
			pthread_mutex_unlock(&pa->mu);
		}
	}
	return NULL;
}

int
gc_par_run(void *arg, size_t n, int nthreads, int (*fn)(void *, size_t))
{
	struct par pa;
	struct par_thread *pt;
	pthread_t *th;
	int i, nth, started = 0;

	memset(&pa, 0, sizeof(pa));
	pa.arg = arg;
	pa.fn = fn;
	pa.n = n;
	pthread_mutex_init(&pa.mu, NULL);
	nth = nthreads;
	if ((size_t)nth > n)
		nth = (int)n;
	if (nth < 1)
		nth = 1;
	th = xcalloc((size_t)nth, sizeof(*th));
	pt = xcalloc((size_t)nth, sizeof(*pt));
	for (i = 0; i < nth; i++) {
		pt[i].pa = &pa;
		pt[i].slot = i;
		if (pthread_create(&th[i], NULL, par_worker, &pt[i]) != 0) {
			log_warnx("pthread_create failed");
			pa.failed = 1;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	free(pt);
	pthread_mutex_destroy(&pa.mu);
	return pa.failed ? -1 : 0;
}

/* An identity's files: certs_pushed/ (peers only), then the folder's. */
static void
manifest_add_id(struct journal *j, const struct gc_id *id)
{
	if (id->p != NULL) {
		journal_manifest_add(j, xasprintf("%s/%s/%s", id->dir,
		    PEERF_PUSHED, PEERF_KEY));
		journal_manifest_add(j, xasprintf("%s/%s/%s", id->dir,
		    PEERF_PUSHED, PEERF_CERT));
	}
	journal_manifest_add(j, xasprintf("%s/%s", id->dir, PEERF_KEY));
	journal_manifest_add(j, xasprintf("%s/%s", id->dir, PEERF_CERT));
}

/* --extend: the same, but not a key. */
static void
manifest_add_certs(struct journal *j, const struct gc_id *id)
{
	if (id->p != NULL)
		journal_manifest_add(j, xasprintf("%s/%s/%s", id->dir,
		    PEERF_PUSHED, PEERF_CERT));
	journal_manifest_add(j, xasprintf("%s/%s", id->dir, PEERF_CERT));
}

/*
 * Commit order: the peers' identities, this FMC's, the CA database, the
 * CA key and last the CA certificate.  So the tree's own cacert.pem is
 * the new one only once everything else is; the journal covers the rest.
 */
void
gc_manifest_build(struct gc *gc)
{
	struct journal *j = &gc->journal;
	void (*add)(struct journal *, const struct gc_id *);
	size_t i;

	add = gc->extend ? manifest_add_certs : manifest_add_id;
	for (i = 0; i < gc->nid; i++)
		if (i != GC_SELF)
			add(j, &gc->id[i]);
	add(j, &gc->id[GC_SELF]);
	journal_manifest_add(j, xstrdup(RP_CA_INDEX));
	journal_manifest_add(j, xstrdup(RP_CA_SERIAL));
	journal_manifest_add(j, xstrdup(RP_CA_CRL));
	if (!gc->extend)
		journal_manifest_add(j, xstrdup(RP_CA_KEY));
	journal_manifest_add(j, xstrdup(RP_CA_CERT));
}

static int
keygen_one(void *arg, size_t i)
{
	struct gc *gc = arg;
	struct gc_id *id = &gc->id[i];
	char *path;

	if (gc->reuse) {
		path = root_path("%s/%s", id->dir, PEERF_KEY);
		id->key = pki_load_key(path);
		free(path);
	} else
		id->key = pki_keygen(PKI_RSA2048);
	if (id->key == NULL)
		return -1;
	gc_progress(gc, GC_STEP_KEY);
	return 0;
}

int
gc_put_pem(struct gc *gc, const char *rel, const char *pem, size_t len,
    mode_t mode)
{
	char *path;
	int rc;

	/* durable as a whole before STAGED: see gc_stage */
	path = journal_staged(&gc->journal, rel);
	rc = sfile_write_nosync(path, pem, len, mode);
	free(path);
	return rc;
}

/*
 * The certificate read back from path chains to gc's CA at the start of
 * the run and names uuid.  ca_word says which CA ("new", "renewed") in
 * the message.
 */
int
gc_check_issued(struct gc *gc, const char *path, X509 *c, const char *uuid,
    const char *ca_word)
{
	struct pki_info in;
	int verr = 0;

	if (pki_chains_to(c, gc->ca, gc->start, &verr, NULL) == -1) {
		log_warnx("%s: does not chain to the %s CA: %s", path,
		    ca_word, pki_verify_errstr(verr));
		return -1;
	}
	if (pki_cert_info(c, &in) == -1)
		return -1;
	if (strcasecmp(in.cn, uuid) != 0) {
		log_warnx("%s: CN %s, expected %s", path, in.cn, uuid);
		return -1;
	}
	return 0;
}

/*
 * Read back what was staged and check it: the key is the private half of
 * the certificate, the certificate carries the holder's uuid and chains
 * to the new CA.  This catches a short write or a corrupt disk before
 * anything is replaced.
 */
static int
verify_staged(struct gc *gc, const char *relcert, const char *relkey,
    const char *uuid)
{
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	char *pc, *pk;
	int rc = -1;

	pc = journal_path(&gc->journal, "%s/%s", GC_NEW, relcert);
	pk = journal_path(&gc->journal, "%s/%s", GC_NEW, relkey);
	if (pki_load_pair(pc, pk, &c, &k) == -1 ||
	    gc_check_issued(gc, pc, c, uuid, "new") == -1)
		goto out;
	rc = 0;
 out:
	X509_free(c);
	EVP_PKEY_free(k);
	free(pc);
	free(pk);
	return rc;
}

/* Issue id i's certificate, stage it with its key, verify. */
static int
issue_one(void *arg, size_t i)
{
	struct gc *gc = arg;
	struct gc_id *id = &gc->id[i];
	char *cpem = NULL, *kpem = NULL, *rel = NULL, *rel2 = NULL;
	size_t clen = 0, klen = 0;
	int rc = -1;

	id->serial = gc->next_serial + 1 + i;
	id->cert = pki_issue(gc->ca, gc->cakey, id->key, id->uuid, id->serial,
	    gc->start - gc->backdate, gc->start + PKI_CA_DAYS * PKI_DAY);
	if (id->cert == NULL)
		return -1;
	if ((cpem = pki_cert_pem(id->cert, &clen)) == NULL ||
	    (kpem = pki_key_pem(id->key, &klen)) == NULL)
		goto out;
	rel = xasprintf("%s/%s", id->dir, PEERF_CERT);
	rel2 = xasprintf("%s/%s", id->dir, PEERF_KEY);
	if (gc_put_pem(gc, rel, cpem, clen, peerf_modes[PEERF_I_CERT]) == -1 ||
	    gc_put_pem(gc, rel2, kpem, klen, peerf_modes[PEERF_I_KEY]) == -1 ||
	    verify_staged(gc, rel, rel2, id->uuid) == -1)
		goto out;
	if (id->p != NULL) {
		/* certs_pushed/: what the peer gets, the push's source */
		free(rel);
		free(rel2);
		rel = xasprintf("%s/%s/%s", id->dir, PEERF_PUSHED, PEERF_CERT);
		rel2 = xasprintf("%s/%s/%s", id->dir, PEERF_PUSHED, PEERF_KEY);
		if (gc_put_pem(gc, rel, cpem, clen,
		    peerf_modes[PEERF_I_CERT]) == -1 ||
		    gc_put_pem(gc, rel2, kpem, klen,
		    peerf_modes[PEERF_I_KEY]) == -1 ||
		    verify_staged(gc, rel, rel2, id->uuid) == -1)
			goto out;
	}
	gc_progress(gc, GC_STEP_SIGNED);
	rc = 0;
 out:
	free(cpem);
	if (kpem != NULL)
		freezero(kpem, klen + 1);
	free(rel);
	free(rel2);
	return rc;
}

/* Continue the old serial counter: (issuer name, serial) stays unique. */
unsigned long
gc_old_serial(void)
{
	unsigned long v = 1;
	char *path, *buf, *end;
	size_t len;

	path = root_path(RP_CA_SERIAL);
	if (sfile_exists(path) && sfile_read(path, 64, &buf, &len) == 0) {
		v = strtoul(buf, &end, 16);
		if (end == buf || v == 0 || v > 0xffffffffUL)
			v = 1;
		free(buf);
	}
	free(path);
	return v;
}

int
gc_make(struct gc *gc)
{
	gc->threads = gc->threads > 0 ? gc->threads : 1;
	log_info("making keys for this FMC and %zu peers over %d threads%s",
	    gc->nid - 1, gc->threads, gc->reuse ? " (reusing the sftunnel "
	    "keys)" : "");
	if ((gc->cakey = pki_keygen(PKI_RSA2048)) == NULL)
		return -1;
	gc_progress(gc, GC_STEP_KEY);
	if (gc_par_run(gc, gc->nid, gc->threads, keygen_one) == -1)
		return -1;
	gc->next_serial = gc_old_serial();
	gc->ca = pki_make_ca(gc->cakey, gc->uuid, gc->next_serial,
	    gc->start - gc->backdate, gc->start + PKI_CA_DAYS * PKI_DAY);
	if (gc->ca == NULL)
		return -1;
	return 0;
}

/* One index.txt line for c, as openssl ca writes it. */
static int
index_line(FILE *f, X509 *c)
{
	struct pki_info in;
	struct tm tm;
	char exp[32];
	time_t na;

	if (pki_cert_info(c, &in) == -1)
		return -1;
	na = in.not_after;
	gmtime_r(&na, &tm);
	strftime(exp, sizeof(exp), "%Y%m%d%H%M%SZ", &tm);
	fprintf(f, "V\t%s\t\t%s\tunknown\t%s\n", exp + 2, in.serial,
	    in.subject);
	return 0;
}

int
gc_index_lines(const struct gc *gc, FILE *f)
{
	const struct gc_id *id;
	size_t i;

	for (i = 0; i < gc->nid; i++) {
		id = &gc->id[i];
		if (index_line(f, id->cert) == -1)
			return -1;
		/* --extend: certs_pushed/ on another key has its own */
		if (id->pushed != NULL && id->pushed != id->cert &&
		    index_line(f, id->pushed) == -1)
			return -1;
	}
	return 0;
}

static int
stage_ca(struct gc *gc)
{
	char *p, *line, buf[32];
	char *idx = NULL;
	size_t idxlen = 0;
	FILE *f;
	int rc = -1;

	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_CERT);
	if (pki_write_cert(p, gc->ca) == -1)
		goto out1;
	free(p);
	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_KEY);
	if (pki_write_key(p, gc->cakey) == -1)
		goto out1;
	free(p);
	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_CRL);
	if (pki_write_crl(p, gc->ca, gc->cakey,
	    gc->start + PKI_CA_DAYS * PKI_DAY) == -1)
		goto out1;
	free(p);

	/* index.txt: one V line per issued certificate, as openssl ca */
	if ((f = open_memstream(&idx, &idxlen)) == NULL) {
		log_warn("open_memstream");
		return -1;
	}
	if (gc_index_lines(gc, f) == -1) {
		fclose(f);
		goto out2;
	}
	fclose(f);
	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_INDEX);
	if (sfile_write(p, idx, idxlen, 0644) == -1)
		goto out1;
	free(p);
	/* the next serial after the last id's */
	snprintf(buf, sizeof(buf), "%02lX\n",
	    gc->next_serial + 1 + (unsigned long)gc->nid);
	p = journal_path(&gc->journal, "%s/%s", GC_NEW, RP_CA_SERIAL);
	line = buf;
	if (sfile_write(p, line, strlen(line), 0644) == -1)
		goto out1;
	free(p);
	p = NULL;

	/* the pair that must never mismatch: read both back */
	{
		X509 *c;
		EVP_PKEY *k;
		char *pc = journal_path(&gc->journal, "%s/%s", GC_NEW,
		    RP_CA_CERT);
		char *pk = journal_path(&gc->journal, "%s/%s", GC_NEW,
		    RP_CA_KEY);

		if (pki_load_pair(pc, pk, &c, &k) == 0) {
			if (pki_cert_equal(c, gc->ca))
				rc = 0;
			else
				log_warnx("%s: does not match %s", pk, pc);
		}
		X509_free(c);
		EVP_PKEY_free(k);
		free(pc);
		free(pk);
	}
	goto out2;
 out1:
	free(p);
 out2:
	free(idx);
	return rc;
}

int
gc_stage(struct gc *gc)
{
	const struct journal *j = &gc->journal;
	char *p;
	size_t i;
	int rc = -1;

	/* folders first, so the workers only write files */
	p = journal_path(j, "%s/%s/private", GC_NEW, RP_CA_DIR);
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
	if (gc_par_run(gc, gc->nid, gc->threads, issue_one) == -1)
		return -1;
	gc_test_hook("staging");
	if (stage_ca(gc) == -1)
		return -1;
	/* one flush for every staged file, before the STAGED marker */
	if (sfile_syncfs(j->dir) == -1)
		return -1;
	log_info("staged and verified the new CA, this FMC's identity and "
	    "%zu peer identities", gc->nid - 1);
	return 0;
}

/* 1 when the manifest of j lists rel. */
static int
listed(const struct journal *j, const char *rel)
{
	size_t i;

	for (i = 0; i < j->nmanifest; i++)
		if (strcmp(j->manifest[i], rel) == 0)
			return 1;
	return 0;
}

/* new/<rel> when the manifest lists rel, else the live file; allocated. */
static char *
staged_or_live(const struct journal *j, const char *rel)
{
	if (listed(j, rel))
		return journal_staged(j, rel);
	return root_path("%s", rel);
}

/*
 * One identity of a resumed run: the certificate of the folder dir
 * (staged), its key (staged, or live with --extend) the private half of
 * it, and the certificate issued by the staged CA to uuid.
 */
static int
verify_resumed_id(struct gc *gc, const char *dir, const char *uuid)
{
	const struct journal *j = &gc->journal;
	char *rc_ = xasprintf("%s/%s", dir, PEERF_CERT);
	char *rk = xasprintf("%s/%s", dir, PEERF_KEY);
	char *pc = NULL, *pk = NULL;
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	int rc = -1;

	if (!listed(j, rc_)) {
		log_warnx("%s/%s: %s without %s", j->dir, GC_MANIFEST, rk,
		    rc_);
		goto out;
	}
	pc = staged_or_live(j, rc_);
	pk = staged_or_live(j, rk);
	if (pki_load_pair(pc, pk, &c, &k) == -1 ||
	    gc_check_issued(gc, pc, c, uuid, "staged") == -1)
		goto out;
	rc = 0;
 out:
	X509_free(c);
	EVP_PKEY_free(k);
	free(pc);
	free(pk);
	free(rc_);
	free(rk);
	return rc;
}

int
gc_verify_resumed(struct gc *gc)
{
	const struct journal *j = &gc->journal;
	char *pc, *pk, *dir, *slash, uuid[PEER_UUID_LEN + 1];
	const char *rel, *f;
	EVP_PKEY *k = NULL;
	size_t i, n = 0;
	int rc = -1;

	/* the staged CA, and the key it is on: staged, or with -e the live one */
	if (!listed(j, RP_CA_CERT)) {
		log_warnx("%s/%s: no %s", j->dir, GC_MANIFEST, RP_CA_CERT);
		return -1;
	}
	pc = staged_or_live(j, RP_CA_CERT);
	pk = staged_or_live(j, RP_CA_KEY);
	X509_free(gc->ca);
	gc->ca = NULL;
	if (pki_load_pair(pc, pk, &gc->ca, &k) == -1) {
		free(pc);
		free(pk);
		return -1;
	}
	EVP_PKEY_free(k);
	free(pc);
	free(pk);
	/* every identity: its certificate and key, wherever they are listed */
	for (i = 0; i < j->nmanifest; i++) {
		rel = j->manifest[i];
		f = strrchr(rel, '/') + 1;
		if (strcmp(f, PEERF_CERT) != 0 && strcmp(f, PEERF_KEY) != 0)
			continue;
		dir = xstrdup(rel);
		slash = strrchr(dir, '/');
		*slash = '\0';
		/* a key and its certificate: checked once, at the certificate */
		if (strcmp(f, PEERF_KEY) == 0) {
			pc = xasprintf("%s/%s", dir, PEERF_CERT);
			if (listed(j, pc)) {
				free(pc);
				free(dir);
				continue;
			}
			free(pc);
		}
		if (strncmp(dir, RP_PEERS "/", sizeof(RP_PEERS)) == 0)
			strlcpy(uuid, dir + sizeof(RP_PEERS), sizeof(uuid));
		else
			strlcpy(uuid, gc->uuid, sizeof(uuid));
		rc = verify_resumed_id(gc, dir, uuid);
		free(dir);
		if (rc == -1)
			return -1;
		n++;
	}
	log_info("re-verified the staged CA and %zu identities of %s", n,
	    j->dir);
	return 0;
}

void
gc_material_free(struct gc *gc)
{
	size_t i;

	EVP_PKEY_free(gc->cakey);
	X509_free(gc->ca);
	X509_free(gc->oldca);
	gc->cakey = NULL;
	gc->ca = gc->oldca = NULL;
	for (i = 0; gc->keyrd != NULL && i < (size_t)gc->threads; i++)
		pki_keyrd_free(gc->keyrd[i]);
	free(gc->keyrd);
	gc->keyrd = NULL;
	for (i = 0; i < gc->nid; i++) {
		EVP_PKEY_free(gc->id[i].key);
		X509_free(gc->id[i].cert);
		EVP_PKEY_free(gc->id[i].pushed_key);
		X509_free(gc->id[i].pushed);
		gc->id[i].key = gc->id[i].pushed_key = NULL;
		gc->id[i].cert = gc->id[i].pushed = NULL;
	}
}
