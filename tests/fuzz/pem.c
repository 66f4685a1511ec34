// SPDX-License-Identifier: ISC
/* pem -- fuzz the (ptr,len) PEM readers of common/pki.c, as a pushed or fetched file reaches them */
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "log.h"
#include "pki.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-pem");
	log_quiet(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	EVP_PKEY *k;
	X509 *x;

	x = pki_cert_from_pem((const char *)data, len, "cacert.pem");
	X509_free(x);
	k = pki_key_from_pem((const char *)data, len, "sftunnel-key.pem");
	EVP_PKEY_free(k);
	return 0;
}
