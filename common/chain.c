// SPDX-License-Identifier: ISC
/* chain.c -- does a certificate chain to a CA, whatever the clock says */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "chain.h"
#include "banned.h"

int
chain_signed_by(X509 *cert, X509 *ca)
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
