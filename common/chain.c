// SPDX-License-Identifier: ISC
/* chain.c -- does a certificate chain to a CA, whatever the clock says */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "chain.h"
#include "banned.h"

int
chain_signed_by(X509 *cert, X509 *ca)
{
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *st = NULL;
	int rc = 0;

	if (cert == NULL || ca == NULL)
		return 0;
	if ((st = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(st, ca) != 1 ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, st, cert, NULL) != 1)
		goto out;
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME |
	    X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) == 1)
		rc = 1;
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return rc;
}
