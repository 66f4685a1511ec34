/* SPDX-License-Identifier: ISC */
/* pki.h -- keys, the InternalCA and sftunnel certificates, over OpenSSL 3 */
#ifndef SFCA_PKI_H
#define SFCA_PKI_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * All OpenSSL calls of the library and the shipped commands are made
 * here; callers only hold the X509 and EVP_PKEY objects these functions
 * return and release them with X509_free() and EVP_PKEY_free().  The lab's
 * daemon (TLS) and the benchmarks call OpenSSL themselves.  Functions
 * return 0/-1 or an object/NULL and report failures once, with OpenSSL's
 * first queued error.  Keys stay inside EVP_PKEY; PEM text of a key lives
 * in buffers the caller wipes.
 */

enum pki_keytype { PKI_RSA2048, PKI_ECP256 };

#define PKI_CA_DAYS	3650
#define PKI_DAY		86400L
#define PKI_ORG		"Cisco Systems, Inc"
#define PKI_OU		"Intrusion Management System"

/* Report fmt plus OpenSSL's first queued error; clears the queue. */
void	ossl_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));

/* A fresh key, or NULL.  Safe to call from several threads. */
EVP_PKEY *pki_keygen(enum pki_keytype);

/*
 * The InternalCA of SPEC 1: self-signed, SHA-256, subject
 * "title=InternalCA, OU=Intrusion Management System, CN=<uuid>,
 * O=Cisco Systems, Inc", v3 with basicConstraints CA:TRUE (critical),
 * keyUsage keyCertSign+cRLSign, subject key identifier.  Valid from
 * not_before to not_after.  Its extension cache is filled, so several
 * threads may read (verify against, issue from) it at once.
 */
X509	*pki_make_ca(EVP_PKEY *cakey, const char *uuid, unsigned long serial,
	    time_t not_before, time_t not_after);

/*
 * An sftunnel certificate for the holder of key, CN=<uuid>, issued by
 * ca/cakey: CA:FALSE, digitalSignature+keyEncipherment, serverAuth and
 * clientAuth (the tunnel is mutual), authority key identifier.
 */
X509	*pki_issue(X509 *ca, EVP_PKEY *cakey, EVP_PKEY *key, const char *uuid,
	    unsigned long serial, time_t not_before, time_t not_after);

/*
 * Renewal on the same key (generate_certs --extend).
 *
 * pki_renewable: whether ca and cakey can be renewed by pki_renew_ca.
 * 0 when they can; -1 when not, with a one-line reason in why (always
 * NUL-terminated, truncated to whylen).  Checked in this order: the key
 * is RSA of at least 2048 bits or EC on P-256 or P-384 (pki_key_fit);
 * cakey is the private half of ca; ca is a CA certificate
 * (basicConstraints CA:TRUE); ca is self-signed (issuer is subject, and
 * its own key checks its signature).  Nothing is reported: a refusal is
 * an answer, not an error.
 */
int	pki_renewable(X509 *ca, EVP_PKEY *cakey, char *why, size_t whylen);
int	pki_key_fit(EVP_PKEY *key, char *why, size_t whylen);

/*
 * The CA old, renewed on its own key: the same subject (the same
 * attributes in the same order), issuer = subject, the same public key,
 * the same subject key identifier (copied, not recomputed) and every
 * other extension of old copied as it is, but for the authority key
 * identifier, which is rebuilt (key identifier only: an issuer serial in
 * it would name the old certificate); a new serial, SHA-256, valid from
 * nb to na.  Certificates issued under old chain to the result, and the
 * other way round.  Call pki_renewable first: cakey must be old's key.
 * The caller owns the result; NULL with the failure reported.  As with
 * pki_make_ca, several threads may read the result at once.
 */
X509	*pki_renew_ca(X509 *old, EVP_PKEY *cakey, unsigned long serial,
	    time_t nb, time_t na);

/*
 * Reissue the certificate old under ca/cakey on key (its private or
 * public half; only the public key is used): old's subject and
 * extensions, but the authority key identifier is ca's and, when key is
 * not old's key, the subject key identifier is computed afresh; a new
 * serial, SHA-256, valid from nb to na.  The caller owns the result;
 * NULL with the failure reported.
 */
X509	*pki_reissue(X509 *old, EVP_PKEY *key, X509 *ca, EVP_PKEY *cakey,
	    unsigned long serial, time_t nb, time_t na);

/* 1 when the two certificates hold the same public key, else 0. */
int	pki_same_pubkey(X509 *a, X509 *b);

/*
 * SHA-256 of the certificate's SubjectPublicKeyInfo (DER), as 64
 * lowercase hex digits: the same for every certificate of one key.
 */
int	pki_pubkey_sha256(X509 *, char out[65]);

/*
 * SHA-256 of the certificate's DER encoding as 64 lowercase hex digits:
 * its fingerprint, as `openssl x509 -fingerprint -sha256` prints it
 * without the colons.
 */
int	pki_cert_sha256(X509 *, char out[65]);

/*
 * Load one certificate or key from a PEM file.  A missing, empty or
 * malformed file, a directory, or a key where a certificate should be
 * (and the reverse) is reported naming the file.
 */
X509	*pki_load_cert(const char *path);
EVP_PKEY *pki_load_key(const char *path);
/*
 * The same from memory: the len bytes at pem, which need not be
 * NUL-terminated (nothing past len is read); what names the source in
 * messages.
 */
X509	*pki_cert_from_pem(const char *pem, size_t len, const char *what);
EVP_PKEY *pki_key_from_pem(const char *pem, size_t len, const char *what);

/*
 * A private-key reader that keeps OpenSSL's decoder from one key to the
 * next: setting a decoder up costs about ten times decoding a key, which
 * counts a thousand keys over.  One reader per thread.  pki_keyrd_key is
 * pki_key_from_pem (the same keys, the same messages); after a failure
 * the reader sets a new decoder up.  pki_keyrd_free(NULL) is harmless.
 */
struct pki_keyrd;
struct pki_keyrd *pki_keyrd_new(void);
EVP_PKEY *pki_keyrd_key(struct pki_keyrd *, const char *pem, size_t len,
	    const char *what);
void	pki_keyrd_free(struct pki_keyrd *);

/*
 * PEM text, allocated: the caller frees a certificate's with free() and
 * a key's with freezero(buf, len).
 */
char	*pki_cert_pem(X509 *, size_t *len);
char	*pki_key_pem(EVP_PKEY *, size_t *len);

/* Write atomically: certificates 0644, keys 0600. */
int	pki_write_cert(const char *path, X509 *);
int	pki_write_key(const char *path, EVP_PKEY *);

struct pki_info {
	char	 subject[512];	/* "/title=InternalCA/OU=.../CN=.../O=..." */
	char	 issuer[512];
	char	 cn[128];
	char	 serial[64];	/* hex */
	time_t	 not_before;
	time_t	 not_after;
	int	 bits;
	char	 keytype[8];	/* "RSA", "EC" */
	int	 is_ca;
};

int	pki_cert_info(X509 *, struct pki_info *);

/*
 * The validity period alone (either pointer may be NULL), without the
 * rest of pki_cert_info's work; 0/-1, nothing reported.
 */
int	pki_validity(X509 *, time_t *not_before, time_t *not_after);

/* 1 when a and b are the same certificate (DER-equal), else 0. */
int	pki_cert_equal(X509 *a, X509 *b);

/* 1 when a and b hold the same public key, else 0; nothing reported. */
int	pki_key_equal(EVP_PKEY *a, EVP_PKEY *b);

/*
 * Another reference to the same object, which the caller releases with
 * X509_free() or EVP_PKEY_free() as any other; NULL (reported) when
 * OpenSSL refuses.
 */
X509	*pki_cert_ref(X509 *);
EVP_PKEY *pki_key_ref(EVP_PKEY *);

/*
 * Whole days from now to t, rounded down (toward minus infinity): 0 means
 * "expires within the next 24 hours", -1 "expired up to a day ago".
 */
long	pki_days_until(time_t t, time_t now);

/* 1 when key is the private half of cert's public key, else 0. */
int	pki_key_matches(X509 *cert, EVP_PKEY *key);

/*
 * Load the certificate at certpath and the key at keypath and check that
 * they are a pair ("KEY: does not match CERT" when not); 0/-1, every
 * failure reported.  On success the caller owns *cert and *key; on
 * failure both are NULL.
 */
int	pki_load_pair(const char *certpath, const char *keypath, X509 **cert,
	    EVP_PKEY **key);

/*
 * Verify that cert chains to ca (a trust anchor) at time at.  0 when it
 * does; -1 otherwise with *verr set to OpenSSL's X509_V_ERR_* code and
 * *depth to the failing depth (either may be NULL).  Nothing is reported:
 * a failed check is an answer, not an error.
 */
int	pki_chains_to(X509 *cert, X509 *ca, time_t at, int *verr, int *depth);

/* OpenSSL's text for such a code ("certificate has expired"); static. */
const char *pki_verify_errstr(int verr);

/*
 * 1 when cert is issued by ca and its signature checks out with ca's key,
 * 0 when not; validity periods are not looked at (expiry is a separate
 * fact).  Nothing is reported; neither object is consumed.
 */
int	pki_signed_by(X509 *cert, X509 *ca);

/* A random version 4 UUID. */
int	pki_uuid(char out[37]);

/* SHA-256 of buf as 64 lowercase hex digits and a NUL. */
int	pki_sha256_hex(const void *buf, size_t len, char out[65]);

/* An empty CRL for ca, signed by cakey, valid until not_after. */
int	pki_write_crl(const char *path, X509 *ca, EVP_PKEY *cakey,
	    time_t not_after);

/* "Oct  9 10:12:50 2034 GMT", the openssl x509 -enddate form. */
void	pki_fmt_time(time_t, char *buf, size_t len);

#endif
