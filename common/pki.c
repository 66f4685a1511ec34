// SPDX-License-Identifier: ISC
/* pki.c -- keys, the InternalCA and sftunnel certificates, over OpenSSL 3 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

void
ossl_warnx(const char *fmt, ...)
{
	char msg[768], err[256];
	unsigned long e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, err, sizeof(err));
		log_warnx("%s: %s", msg, err);
	} else
		log_warnx("%s", msg);
	ERR_clear_error();
}

EVP_PKEY *
pki_keygen(enum pki_keytype t)
{
	EVP_PKEY *k;

	if (t == PKI_ECP256)
		k = EVP_EC_gen("P-256");
	else
		k = EVP_RSA_gen(2048);
	if (k == NULL)
		ossl_warnx("key generation");
	return k;
}

static int
add_name(X509_NAME *n, const char *field, const char *val)
{
	if (X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
	    (const unsigned char *)val, -1, -1, 0) != 1) {
		ossl_warnx("subject %s", field);
		return -1;
	}
	return 0;
}

static X509_NAME *
make_name(const char *title, const char *uuid)
{
	X509_NAME *n;

	if ((n = X509_NAME_new()) == NULL) {
		ossl_warnx("X509_NAME_new");
		return NULL;
	}
	if (add_name(n, "title", title) == -1 ||
	    add_name(n, "OU", PKI_OU) == -1 ||
	    add_name(n, "CN", uuid) == -1 ||
	    add_name(n, "O", PKI_ORG) == -1) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

static int
add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ex;
	int rc;

	if ((ex = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL) {
		ossl_warnx("extension %s", OBJ_nid2sn(nid));
		return -1;
	}
	rc = X509_add_ext(cert, ex, -1) == 1 ? 0 : -1;
	if (rc == -1)
		ossl_warnx("extension %s", OBJ_nid2sn(nid));
	X509_EXTENSION_free(ex);
	return rc;
}

/* The parts common to the CA and a leaf: version, serial, validity. */
static X509 *
cert_base(EVP_PKEY *key, unsigned long serial, time_t nb, time_t na)
{
	X509 *c;

	if ((c = X509_new()) == NULL) {
		ossl_warnx("X509_new");
		return NULL;
	}
	if (X509_set_version(c, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set_uint64(X509_get_serialNumber(c), serial) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(c), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(c), na) == NULL ||
	    X509_set_pubkey(c, key) != 1) {
		ossl_warnx("certificate fields");
		X509_free(c);
		return NULL;
	}
	return c;
}

X509 *
pki_make_ca(EVP_PKEY *cakey, const char *uuid, unsigned long serial,
    time_t nb, time_t na)
{
	X509V3_CTX ctx;
	X509_NAME *name = NULL;
	X509 *c;

	if ((c = cert_base(cakey, serial, nb, na)) == NULL)
		return NULL;
	if ((name = make_name("InternalCA", uuid)) == NULL)
		goto fail;
	if (X509_set_subject_name(c, name) != 1 ||
	    X509_set_issuer_name(c, name) != 1) {
		ossl_warnx("CA names");
		goto fail;
	}
	X509V3_set_ctx(&ctx, c, c, NULL, NULL, 0);
	if (add_ext(c, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(c, &ctx, NID_key_usage,
	    "critical,keyCertSign,cRLSign,digitalSignature") ||
	    add_ext(c, &ctx, NID_subject_key_identifier, "hash") ||
	    add_ext(c, &ctx, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (X509_sign(c, cakey, EVP_sha256()) <= 0) {
		ossl_warnx("signing the CA");
		goto fail;
	}
	/* fill the extension cache now, before threads read the CA */
	(void)X509_check_ca(c);
	X509_NAME_free(name);
	return c;
 fail:
	X509_NAME_free(name);
	X509_free(c);
	return NULL;
}

X509 *
pki_issue(X509 *ca, EVP_PKEY *cakey, EVP_PKEY *key, const char *uuid,
    unsigned long serial, time_t nb, time_t na)
{
	X509V3_CTX ctx;
	X509_NAME *name = NULL;
	X509 *c;

	if ((c = cert_base(key, serial, nb, na)) == NULL)
		return NULL;
	if ((name = make_name("sftunnel", uuid)) == NULL)
		goto fail;
	if (X509_set_subject_name(c, name) != 1 ||
	    X509_set_issuer_name(c, X509_get_subject_name(ca)) != 1) {
		ossl_warnx("certificate names");
		goto fail;
	}
	X509V3_set_ctx(&ctx, ca, c, NULL, NULL, 0);
	if (add_ext(c, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(c, &ctx, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment") ||
	    add_ext(c, &ctx, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    add_ext(c, &ctx, NID_subject_key_identifier, "hash") ||
	    add_ext(c, &ctx, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (X509_sign(c, cakey, EVP_sha256()) <= 0) {
		ossl_warnx("signing the certificate for %s", uuid);
		goto fail;
	}
	X509_NAME_free(name);
	return c;
 fail:
	X509_NAME_free(name);
	X509_free(c);
	return NULL;
}

int
pki_key_fit(EVP_PKEY *key, char *why, size_t whylen)
{
	const char *nist;
	char group[64] = "";
	int id, bits, nid;

	id = EVP_PKEY_get_base_id(key);
	bits = EVP_PKEY_get_bits(key);
	if (id == EVP_PKEY_RSA) {
		if (bits >= 2048)
			return 0;
		snprintf(why, whylen, "the key is RSA of %d bits", bits);
	} else if (id == EVP_PKEY_EC) {
		if (EVP_PKEY_get_group_name(key, group, sizeof(group),
		    NULL) != 1)
			strlcpy(group, "?", sizeof(group));
		nid = OBJ_sn2nid(group);
		if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1) {
			ERR_clear_error();
			return 0;
		}
		nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
		snprintf(why, whylen, "the key is EC on %s",
		    nist != NULL ? nist : group);
	} else
		snprintf(why, whylen, "the key is %s",
		    EVP_PKEY_get0_type_name(key) != NULL ?
		    EVP_PKEY_get0_type_name(key) : "of an unknown type");
	ERR_clear_error();
	strlcat(why, " (it takes RSA of 2048 bits or more, or EC P-256 or "
	    "P-384)", whylen);
	return -1;
}

int
pki_renewable(X509 *ca, EVP_PKEY *cakey, char *why, size_t whylen)
{
	EVP_PKEY *pub;
	int rc = -1;

	if (whylen > 0)
		why[0] = '\0';
	if (pki_key_fit(cakey, why, whylen) == -1)
		goto out;
	if (!pki_key_matches(ca, cakey)) {
		snprintf(why, whylen, "the key does not match the CA "
		    "certificate");
		goto out;
	}
	if (X509_check_ca(ca) != 1) {
		snprintf(why, whylen, "the certificate is not a CA "
		    "(basicConstraints CA:TRUE)");
		goto out;
	}
	if (X509_check_issued(ca, ca) != X509_V_OK ||
	    (pub = X509_get0_pubkey(ca)) == NULL ||
	    X509_verify(ca, pub) != 1) {
		snprintf(why, whylen, "the certificate is not self-signed");
		goto out;
	}
	rc = 0;
 out:
	ERR_clear_error();
	return rc;
}

/*
 * Copy old's extensions into c, leaving out the authority key
 * identifier (rebuilt by the caller) and, when skip_ski, the subject key
 * identifier.
 */
static int
copy_exts(X509 *c, X509 *old, int skip_ski)
{
	X509_EXTENSION *ex;
	int i, nid;

	for (i = 0; i < X509_get_ext_count(old); i++) {
		ex = X509_get_ext(old, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ex));
		if (nid == NID_authority_key_identifier ||
		    (skip_ski && nid == NID_subject_key_identifier))
			continue;
		if (X509_add_ext(c, ex, -1) != 1) {
			ossl_warnx("copying extension %s", OBJ_nid2sn(nid));
			return -1;
		}
	}
	return 0;
}

X509 *
pki_renew_ca(X509 *old, EVP_PKEY *cakey, unsigned long serial, time_t nb,
    time_t na)
{
	X509V3_CTX ctx;
	X509 *c;

	if ((c = cert_base(cakey, serial, nb, na)) == NULL)
		return NULL;
	if (X509_set_subject_name(c, X509_get_subject_name(old)) != 1 ||
	    X509_set_issuer_name(c, X509_get_subject_name(old)) != 1) {
		ossl_warnx("CA names");
		goto fail;
	}
	if (copy_exts(c, old, 0) == -1)
		goto fail;
	X509V3_set_ctx(&ctx, c, c, NULL, NULL, 0);
	if (X509_get_ext_by_NID(c, NID_basic_constraints, -1) < 0 &&
	    add_ext(c, &ctx, NID_basic_constraints, "critical,CA:TRUE"))
		goto fail;
	/* the old one's (copied above), or the key's hash as OpenSSL's */
	if (X509_get_ext_by_NID(c, NID_subject_key_identifier, -1) < 0 &&
	    add_ext(c, &ctx, NID_subject_key_identifier, "hash"))
		goto fail;
	if (add_ext(c, &ctx, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (X509_sign(c, cakey, EVP_sha256()) <= 0) {
		ossl_warnx("signing the renewed CA");
		goto fail;
	}
	/* as pki_make_ca: fill the extension cache before threads read it */
	(void)X509_check_ca(c);
	return c;
 fail:
	X509_free(c);
	return NULL;
}

X509 *
pki_reissue(X509 *old, EVP_PKEY *key, X509 *ca, EVP_PKEY *cakey,
    unsigned long serial, time_t nb, time_t na)
{
	X509V3_CTX ctx;
	EVP_PKEY *oldpub;
	X509 *c;
	int samekey;

	if ((c = cert_base(key, serial, nb, na)) == NULL)
		return NULL;
	if (X509_set_subject_name(c, X509_get_subject_name(old)) != 1 ||
	    X509_set_issuer_name(c, X509_get_subject_name(ca)) != 1) {
		ossl_warnx("certificate names");
		goto fail;
	}
	oldpub = X509_get0_pubkey(old);
	samekey = oldpub != NULL && EVP_PKEY_eq(oldpub, key) == 1;
	ERR_clear_error();
	if (copy_exts(c, old, !samekey) == -1)
		goto fail;
	X509V3_set_ctx(&ctx, ca, c, NULL, NULL, 0);
	if (!samekey && X509_get_ext_by_NID(old, NID_subject_key_identifier,
	    -1) >= 0 && add_ext(c, &ctx, NID_subject_key_identifier, "hash"))
		goto fail;
	if (add_ext(c, &ctx, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (X509_sign(c, cakey, EVP_sha256()) <= 0) {
		ossl_warnx("signing the reissued certificate");
		goto fail;
	}
	return c;
 fail:
	X509_free(c);
	return NULL;
}

int
pki_same_pubkey(X509 *a, X509 *b)
{
	EVP_PKEY *ka, *kb;
	int r = 0;

	if (a != NULL && b != NULL && (ka = X509_get0_pubkey(a)) != NULL &&
	    (kb = X509_get0_pubkey(b)) != NULL)
		r = EVP_PKEY_eq(ka, kb) == 1;
	ERR_clear_error();
	return r;
}

int
pki_pubkey_sha256(X509 *c, char out[65])
{
	unsigned char *der = NULL;
	int n, rc;

	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &der)) <= 0) {
		ossl_warnx("public key");
		return -1;
	}
	rc = pki_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return rc;
}

int
pki_cert_sha256(X509 *c, char out[65])
{
	unsigned char *der = NULL;
	int n, rc;

	if ((n = i2d_X509(c, &der)) <= 0) {
		ossl_warnx("certificate");
		return -1;
	}
	rc = pki_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return rc;
}

/*
 * What kind of PEM block the len bytes at pem hold first, for clear
 * messages.  The text need not be NUL-terminated: nothing past len is
 * read.
 */
static const char *
pem_kind(const char *pem, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	static const char pkey[] = "PRIVATE KEY-----";
	const char *b, *end = pem + len, *k;
	size_t n;

	if ((b = memmem(pem, len, begin, sizeof(begin) - 1)) == NULL)
		return NULL;
	b += sizeof(begin) - 1;
	n = (size_t)(end - b);
	if ((n >= 16 && memcmp(b, "CERTIFICATE-----", 16) == 0) ||
	    (n >= 24 && memcmp(b, "TRUSTED CERTIFICATE-----", 24) == 0))
		return "certificate";
	if ((k = memmem(b, n < 24 + sizeof(pkey) - 1 ? n :
	    24 + sizeof(pkey) - 1, pkey, sizeof(pkey) - 1)) != NULL &&
	    k - b < 24)
		return "key";
	return "other";
}

/*
 * What every PEM reader says before OpenSSL sees the text: empty, not
 * PEM, or the other kind of object (want is "certificate" or "key").
 */
static int
pem_precheck(const char *pem, size_t len, const char *what, const char *want)
{
	const char *kind;

	if (len == 0) {
		log_warnx("%s: empty file", what);
		return -1;
	}
	if (len > INT_MAX) {	/* BIO_new_mem_buf would take strlen */
		log_warnx("%s: too large", what);
		return -1;
	}
	if ((kind = pem_kind(pem, len)) == NULL) {
		log_warnx("%s: not a PEM file", what);
		return -1;
	}
	if (strcmp(want, "certificate") == 0 && strcmp(kind, "key") == 0) {
		log_warnx("%s: holds a private key, not a certificate", what);
		return -1;
	}
	if (strcmp(want, "key") == 0 && strcmp(kind, "certificate") == 0) {
		log_warnx("%s: holds a certificate, not a private key", what);
		return -1;
	}
	return 0;
}

X509 *
pki_cert_from_pem(const char *pem, size_t len, const char *what)
{
	X509 *c;
	BIO *b;

	if (pem_precheck(pem, len, what, "certificate") == -1)
		return NULL;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		ossl_warnx("%s", what);
		return NULL;
	}
	if ((c = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		ossl_warnx("%s: malformed certificate", what);
	BIO_free(b);
	ERR_clear_error();
	return c;
}

static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	return 0;
}

EVP_PKEY *
pki_key_from_pem(const char *pem, size_t len, const char *what)
{
	EVP_PKEY *k;
	BIO *b;

	if (pem_precheck(pem, len, what, "key") == -1)
		return NULL;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		ossl_warnx("%s", what);
		return NULL;
	}
	if ((k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)) ==
	    NULL)
		ossl_warnx("%s: malformed or encrypted private key", what);
	BIO_free(b);
	ERR_clear_error();
	return k;
}

struct pki_keyrd {
	OSSL_DECODER_CTX *dc;	/* set up on first use; NULL after a failure */
	EVP_PKEY	*k;	/* where dc puts what it decodes */
};

struct pki_keyrd *
pki_keyrd_new(void)
{
	return xcalloc(1, sizeof(struct pki_keyrd));
}

void
pki_keyrd_free(struct pki_keyrd *rd)
{
	if (rd == NULL)
		return;
	OSSL_DECODER_CTX_free(rd->dc);
	EVP_PKEY_free(rd->k);
	free(rd);
}

EVP_PKEY *
pki_keyrd_key(struct pki_keyrd *rd, const char *pem, size_t len,
    const char *what)
{
	const unsigned char *p = (const unsigned char *)pem;
	size_t left = len;
	EVP_PKEY *k;

	if (pem_precheck(pem, len, what, "key") == -1)
		return NULL;
	if (rd->dc == NULL) {
		rd->dc = OSSL_DECODER_CTX_new_for_pkey(&rd->k, "PEM", NULL,
		    NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
		if (rd->dc != NULL && OSSL_DECODER_CTX_set_pem_password_cb(
		    rd->dc, no_passphrase, NULL) != 1) {
			OSSL_DECODER_CTX_free(rd->dc);
			rd->dc = NULL;
		}
	}
	rd->k = NULL;
	if (rd->dc != NULL && OSSL_DECODER_from_data(rd->dc, &p, &left) ==
	    1 && rd->k != NULL) {
		k = rd->k;
		rd->k = NULL;	/* transferred */
		ERR_clear_error();
		return k;
	}
	/*
	 * A decoder that failed once is not trusted with the next key (it
	 * can then say yes and give nothing): a new one next time, and
	 * this key read the usual way, which reports what is wrong.
	 */
	OSSL_DECODER_CTX_free(rd->dc);
	rd->dc = NULL;
	EVP_PKEY_free(rd->k);
	rd->k = NULL;
	ERR_clear_error();
	return pki_key_from_pem(pem, len, what);
}

X509 *
pki_load_cert(const char *path)
{
	char *buf;
	size_t len;
	X509 *c;

	if (sfile_read(path, SFILE_CAP, &buf, &len) == -1)
		return NULL;
	c = pki_cert_from_pem(buf, len, path);
	free(buf);
	return c;
}

EVP_PKEY *
pki_load_key(const char *path)
{
	char *buf;
	size_t len;
	EVP_PKEY *k;

	if (sfile_read(path, SFILE_CAP, &buf, &len) == -1)
		return NULL;
	k = pki_key_from_pem(buf, len, path);
	freezero(buf, len + 1);
	return k;
}

static char *
bio_take(BIO *b, size_t *len)
{
	char *data, *out;
	long n;

	n = BIO_get_mem_data(b, &data);
	if (n <= 0)
		return NULL;
	out = xmalloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	return out;
}

char *
pki_cert_pem(X509 *c, size_t *len)
{
	char *out = NULL;
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, c) != 1)
		ossl_warnx("certificate PEM");
	else
		out = bio_take(b, len);
	BIO_free(b);
	return out;
}

char *
pki_key_pem(EVP_PKEY *k, size_t *len)
{
	char *out = NULL;
	BIO *b;

	/* secmem: the BIO's buffer is cleared when freed */
	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
		ossl_warnx("key PEM");
	else
		out = bio_take(b, len);
	BIO_free(b);
	return out;
}

int
pki_write_cert(const char *path, X509 *c)
{
	char *pem;
	size_t len;
	int rc;

	if ((pem = pki_cert_pem(c, &len)) == NULL)
		return -1;
	rc = sfile_write(path, pem, len, 0644);
	free(pem);
	return rc;
}

int
pki_write_key(const char *path, EVP_PKEY *k)
{
	char *pem;
	size_t len;
	int rc;

	if ((pem = pki_key_pem(k, &len)) == NULL)
		return -1;
	rc = sfile_write(path, pem, len, 0600);
	freezero(pem, len + 1);
	return rc;
}

static time_t
asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return (time_t)-1;
	return timegm(&tm);
}

static void
oneline(X509_NAME *n, char *buf, size_t len)
{
	char *s;

	/* The /title=.../CN=... form the vendor's log lines use. */
	if ((s = X509_NAME_oneline(n, NULL, 0)) == NULL) {
		strlcpy(buf, "?", len);
		return;
	}
	strlcpy(buf, s, len);
	OPENSSL_free(s);
}

int
pki_cert_info(X509 *c, struct pki_info *in)
{
	const ASN1_INTEGER *sn;
	EVP_PKEY *pub;
	BIGNUM *bn;
	char *hex;

	memset(in, 0, sizeof(*in));
	oneline(X509_get_subject_name(c), in->subject, sizeof(in->subject));
	oneline(X509_get_issuer_name(c), in->issuer, sizeof(in->issuer));
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName,
	    in->cn, sizeof(in->cn)) < 0)
		in->cn[0] = '\0';
	sn = X509_get0_serialNumber(c);
	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL &&
	    (hex = BN_bn2hex(bn)) != NULL) {
		strlcpy(in->serial, hex, sizeof(in->serial));
		OPENSSL_free(hex);
	}
	BN_free(bn);
	in->not_before = asn1_to_time(X509_get0_notBefore(c));
	in->not_after = asn1_to_time(X509_get0_notAfter(c));
	if (in->not_before == (time_t)-1 || in->not_after == (time_t)-1) {
		ossl_warnx("certificate validity");
		return -1;
	}
	if ((pub = X509_get0_pubkey(c)) != NULL) {
		in->bits = EVP_PKEY_get_bits(pub);
		strlcpy(in->keytype, EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC ?
		    "EC" : EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA ? "RSA" :
		    "other", sizeof(in->keytype));
	}
	in->is_ca = X509_check_ca(c) > 0;
	ERR_clear_error();
	return 0;
}

int
pki_validity(X509 *c, time_t *nb, time_t *na)
{
	time_t b, a;

	b = asn1_to_time(X509_get0_notBefore(c));
	a = asn1_to_time(X509_get0_notAfter(c));
	ERR_clear_error();
	if (b == (time_t)-1 || a == (time_t)-1)
		return -1;
	if (nb != NULL)
		*nb = b;
	if (na != NULL)
		*na = a;
	return 0;
}

int
pki_cert_equal(X509 *a, X509 *b)
{
	return a != NULL && b != NULL && X509_cmp(a, b) == 0;
}

int
pki_key_equal(EVP_PKEY *a, EVP_PKEY *b)
{
	int r = a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;

	ERR_clear_error();
	return r;
}

X509 *
pki_cert_ref(X509 *c)
{
	if (X509_up_ref(c) != 1) {
		ossl_warnx("certificate reference");
		return NULL;
	}
	return c;
}

EVP_PKEY *
pki_key_ref(EVP_PKEY *k)
{
	if (EVP_PKEY_up_ref(k) != 1) {
		ossl_warnx("key reference");
		return NULL;
	}
	return k;
}

long
pki_days_until(time_t t, time_t now)
{
	long long d = (long long)t - (long long)now;

	/* floor division: -1 s is day -1, not day 0 */
	if (d >= 0)
		return (long)(d / PKI_DAY);
	return (long)-((-d + PKI_DAY - 1) / PKI_DAY);
}

int
pki_key_matches(X509 *cert, EVP_PKEY *key)
{
	int r = X509_check_private_key(cert, key);

	ERR_clear_error();
	return r == 1;
}

int
pki_load_pair(const char *certpath, const char *keypath, X509 **cert,
    EVP_PKEY **key)
{
	EVP_PKEY *k = NULL;
	X509 *c;

	*cert = NULL;
	*key = NULL;
	if ((c = pki_load_cert(certpath)) == NULL ||
	    (k = pki_load_key(keypath)) == NULL)
		goto fail;
	if (!pki_key_matches(c, k)) {
		log_warnx("%s: does not match %s", keypath, certpath);
		goto fail;
	}
	*cert = c;
	*key = k;
	return 0;
 fail:
	X509_free(c);
	EVP_PKEY_free(k);
	return -1;
}

int
pki_chains_to(X509 *cert, X509 *ca, time_t at, int *verr, int *depth)
{
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *st = NULL;
	int rc = -1;

	if (verr != NULL)
		*verr = 0;
	if (depth != NULL)
		*depth = 0;
	if ((st = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(st, ca) != 1 ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, st, cert, NULL) != 1) {
		if (verr != NULL)
			*verr = X509_V_ERR_UNSPECIFIED;
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) == 1)
		rc = 0;
	else {
		if (verr != NULL)
			*verr = X509_STORE_CTX_get_error(ctx);
		if (depth != NULL)
			*depth = X509_STORE_CTX_get_error_depth(ctx);
	}
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return rc;
}

const char *
pki_verify_errstr(int verr)
{
	return X509_verify_cert_error_string(verr);
}

int
pki_signed_by(X509 *cert, X509 *ca)
{
	EVP_PKEY *pk;
	int rc = 0;

	/*
	 * The InternalCA signs every sftunnel certificate directly: one
	 * issuer check and one signature check, without building a store
	 * (which costs more than the check itself, 1000 times over).
	 */
	if (cert == NULL || ca == NULL)
		return 0;
	if (X509_check_issued(ca, cert) == X509_V_OK &&
	    (pk = X509_get0_pubkey(ca)) != NULL && X509_verify(cert, pk) == 1)
		rc = 1;
	ERR_clear_error();
	return rc;
}

int
pki_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		ossl_warnx("RAND_bytes");
		return -1;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int
pki_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);
	int i;

	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		ossl_warnx("sha256");
		return -1;
	}
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
pki_write_crl(const char *path, X509 *ca, EVP_PKEY *cakey, time_t na)
{
	X509_CRL *crl;
	ASN1_TIME *t = NULL;
	char *pem = NULL, *data;
	BIO *b = NULL;
	long n;
	int rc = -1;

	if ((crl = X509_CRL_new()) == NULL ||
	    X509_CRL_set_version(crl, 1) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 ||
	    (t = ASN1_TIME_set(NULL, time(NULL))) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    ASN1_TIME_set(t, na) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, t) != 1 ||
	    X509_CRL_sign(crl, cakey, EVP_sha256()) <= 0 ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_CRL(b, crl) != 1) {
		ossl_warnx("%s: CRL", path);
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	rc = sfile_write(path, data, (size_t)n, 0644);
 out:
	free(pem);
	BIO_free(b);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return rc;
}

void
pki_fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%b %e %H:%M:%S %Y GMT", &tm) == 0)
		strlcpy(buf, "?", len);
}
