// SPDX-License-Identifier: ISC
/* sftunneld-peer.c -- peers, their identities, SSL_CTX (re)building, chain */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "peers.h"
#include "pki.h"
#include "root.h"
#include "xmalloc.h"
#include "sftunneld.h"
#include "banned.h"

const char *
verr_string(int e)
{
	return X509_verify_cert_error_string(e);
}

/*
 * Log the first verify failure of a handshake as the vendor daemon does,
 * and keep it for the disconnect reason.  Certificates are public: the
 * names are fine in the log.
 */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	char name[512];
	struct conn *c;
	X509 *cur;
	SSL *ssl;

	if (ok == 1)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	if (c == NULL || c->verr != 0)
		return 0;
	c->verr = X509_STORE_CTX_get_error(x);
	c->vdepth = X509_STORE_CTX_get_error_depth(x);
	sflog(&sd.log, SFLOG_ERROR, "-Error with certificate at depth: %d",
	    c->vdepth);
	if ((cur = X509_STORE_CTX_get_current_cert(x)) != NULL) {
		X509_NAME_oneline(X509_get_issuer_name(cur), name,
		    sizeof(name));
		sflog(&sd.log, SFLOG_ERROR, "  issuer = %s", name);
		X509_NAME_oneline(X509_get_subject_name(cur), name,
		    sizeof(name));
		sflog(&sd.log, SFLOG_ERROR, "  subject = %s", name);
	}
	sflog(&sd.log, SFLOG_ERROR, "  err %d:%s", c->verr,
	    verr_string(c->verr));
	return 0;
}

static int
same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void
ctx_fail(const char *what, const char *path)
{
	unsigned long e = ERR_peek_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	sflog(&sd.log, SFLOG_ERROR, "Cannot load %s %s: %s", what, path,
	    e != 0 ? buf : "error");
	log_warnx("%s: cannot load %s: %s", path, what, e != 0 ? buf :
	    "error");
	ERR_clear_error();
}

static SSL_CTX *
ctx_build(struct ident *id, int server)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(server ? TLS_server_method() :
	    TLS_client_method())) == NULL) {
		ctx_fail("TLS context", "-");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/*
	 * Verification happens once, at the handshake: no renegotiation,
	 * no resumption (a resumed session would skip it).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_file(ctx, id->path[0],
	    SSL_FILETYPE_PEM) != 1) {
		ctx_fail("certificate", id->path[0]);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, id->path[1],
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		ctx_fail("key", id->path[1]);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, id->path[2], NULL) != 1) {
		ctx_fail("CA", id->path[2]);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	SSL_CTX_set_verify_depth(ctx, 4);
	return ctx;
 fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * Make id->ctx match the files: rebuilt when any of them changed (or
 * force).  A failed rebuild keeps the previous context (and reports once
 * per change of the files).  0 when there is a context to use.
 */
int
ident_refresh(struct ident *id, int server, int force)
{
	struct stat st[3];
	SSL_CTX *ctx;
	X509 *ca;
	int i, changed = force, cachg;

	for (i = 0; i < 3; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		(void)stat(id->path[i], &st[i]);
		if (!same_stat(&st[i], &id->st[i]))
			changed = 1;
	}
	if (!changed)
		return id->ctx != NULL ? 0 : -1;
	cachg = force || !same_stat(&st[2], &id->st[2]);
	for (i = 0; i < 3; i++)
		id->st[i] = st[i];
	if (cachg) {
		ERR_set_mark();
		ca = pki_load_cert(id->path[2]);
		ERR_pop_to_mark();
		if (ca != NULL) {
			X509_free(id->ca);
			id->ca = ca;
			id->gen++;
		}
	}
	if ((ctx = ctx_build(id, server)) != NULL) {
		SSL_CTX_free(id->ctx);
		id->ctx = ctx;
	}
	return id->ctx != NULL ? 0 : -1;
}

void
ident_release(struct ident *id)
{
	int i;

	for (i = 0; i < 3; i++) {
		free(id->path[i]);
		id->path[i] = NULL;
	}
	SSL_CTX_free(id->ctx);
	id->ctx = NULL;
	X509_free(id->ca);
	id->ca = NULL;
}

/* chain: does the certificate the peer presented chain to the CA now? */
void
tpeer_chain_update(struct tpeer *t)
{
	struct ident *id = t->outgoing ? &t->id : &sd.srv;

	if (!t->up || t->pcert == NULL) {
		t->chain = -1;
		return;
	}
	if (id->ca == NULL) {
		t->chain = -1;
		return;
	}
	if (t->chain_gen == id->gen && t->chain != -1)
		return;
	t->chain = pki_signed_by(t->pcert, id->ca);
	t->chain_gen = id->gen;
}

/* Refresh c from path when the file changed; 0 when c->x is usable. */
static int
certcache_get(struct certcache *c, const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		certcache_release(c);
		return -1;
	}
	if (c->x != NULL && c->st.dev == st.st_dev && c->st.ino == st.st_ino &&
	    c->st.size == st.st_size &&
	    c->st.mtime.tv_sec == st.st_mtim.tv_sec &&
	    c->st.mtime.tv_nsec == st.st_mtim.tv_nsec)
		return 0;
	certcache_release(c);
	log_quiet(1);
	c->x = pki_load_cert(path);
	log_quiet(0);
	if (c->x == NULL)
		return -1;
	c->st.dev = st.st_dev;
	c->st.ino = st.st_ino;
	c->st.size = st.st_size;
	c->st.mtime = st.st_mtim;
	return 0;
}

void
certcache_release(struct certcache *c)
{
	X509_free(c->x);
	memset(c, 0, sizeof(*c));
}

/*
 * The CA the issued certificates are checked against: an FMC's own, read
 * again only when its file changes; NULL on an FTD (one per peer) or
 * when unreadable.  Called once per STATUS, not once per peer.
 */
X509 *
issued_ca(void)
{
	static struct certcache own_ca;
	char *path;
	X509 *x = NULL;

	if (strcmp(sd.kind, "ftd") == 0)
		return NULL;
	path = root_path(RP_CA_CERT);
	if (certcache_get(&own_ca, path) == 0)
		x = own_ca.x;
	free(path);
	return x;
}

/*
 * issued: the certificate in the peer folder against the CA on disk, the
 * same fact sftunnel_status(8) reports when no daemon runs.  fmc_ca is
 * issued_ca()'s answer; an FTD checks against that FMC's cacert.pem.
 */
void
tpeer_issued_update(struct tpeer *t, X509 *fmc_ca)
{
	X509 *ca = fmc_ca;
	char *path;

	if (strcmp(sd.kind, "ftd") == 0) {
		path = xasprintf("%s/%s", t->p.dir, PEERF_CACERT);
		ca = certcache_get(&t->peer_ca, path) == 0 ? t->peer_ca.x :
		    NULL;
		free(path);
	}
	path = xasprintf("%s/%s", t->p.dir, PEERF_CERT);
	if (ca == NULL || certcache_get(&t->issued_cert, path) == -1)
		t->issued = -1;
	else
		t->issued = pki_signed_by(t->issued_cert.x, ca);
	free(path);
}

static struct tpeer *
tpeer_new(const struct peer *p)
{
	struct tpeer *t = xcalloc(1, sizeof(*t));
	const char *sub;

	t->p = *p;
	t->p.dir = xstrdup(p->dir);
	t->chain = -1;
	t->backoff = 1;
	t->hbpath = xasprintf("%s/%s", p->dir, PEERF_HEARTBEAT);
	if (strcmp(sd.kind, "ftd") == 0) {
		t->outgoing = strcmp(p->role, "fmc") == 0;
		t->pushdir = xstrdup(p->dir);
	} else {
		t->outgoing = strcmp(p->role, "fmc-ha") == 0 && sd.secondary;
		t->pushdir = xasprintf("%s/from_peer", p->dir);
	}
	if (t->outgoing) {
		sub = strcmp(sd.kind, "ftd") == 0 ? "" : "/from_peer";
		t->id.path[0] = xasprintf("%s%s/%s", p->dir, sub, PEERF_CERT);
		t->id.path[1] = xasprintf("%s%s/%s", p->dir, sub, PEERF_KEY);
		t->id.path[2] = xasprintf("%s%s/%s", p->dir, sub, PEERF_CACERT);
	}
	return t;
}

static void
tpeer_free(struct tpeer *t)
{
	if (t == NULL)
		return;
	ident_release(&t->id);
	X509_free(t->pcert);
	certcache_release(&t->issued_cert);
	certcache_release(&t->peer_ca);
	free(t->p.dir);
	free(t->hbpath);
	free(t->pushdir);
	free(t);
}

struct tpeer *
tpeer_find(const char *uuid)
{
	size_t i;

	for (i = 0; i < sd.npeers; i++)
		if (strcasecmp(sd.peers[i]->p.uuid, uuid) == 0)
			return sd.peers[i];
	return NULL;
}

/* Add the peers that appeared since the last scan; known ones stay. */
int
tpeers_rescan(void)
{
	struct peer *v = NULL;
	size_t n = 0, i;

	if (peers_load(&v, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (tpeer_find(v[i].uuid) != NULL)
			continue;
		sd.peers = xreallocarray(sd.peers, sd.npeers + 1,
		    sizeof(*sd.peers));
		sd.peers[sd.npeers++] = tpeer_new(&v[i]);
	}
	peers_free(v, n);
	return 0;
}

int
tpeers_init(void)
{
	X509 *ca;
	size_t i;

	if (tpeers_rescan() == -1)
		return -1;
	if (strcmp(sd.kind, "fmc") == 0) {
		sd.srv.path[0] = root_path(RP_OWN_CERT);
		sd.srv.path[1] = root_path(RP_OWN_KEY);
		sd.srv.path[2] = root_path(RP_CA_CERT);
		if (ident_refresh(&sd.srv, 1, 1) == -1)
			return -1;
	}
	/* Warm the per-peer certificate facts STATUS reports. */
	ca = issued_ca();
	for (i = 0; i < sd.npeers; i++)
		tpeer_issued_update(sd.peers[i], ca);
	return 0;
}

void
tpeers_free(void)
{
	size_t i;

	for (i = 0; i < sd.npeers; i++)
		tpeer_free(sd.peers[i]);
	free(sd.peers);
	sd.peers = NULL;
	sd.npeers = 0;
	ident_release(&sd.srv);
}
