// SPDX-License-Identifier: ISC
/* pkitool -- lab tool: the pki layer's renewal functions from the shell */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pki.h"
#include "banned.h"

/*
 * For the tests of common/pki.c, whose results they check with the
 * openssl CLI:
 *   pkitool check CACERT CAKEY		"renewable", or the reason (exit 1)
 *   pkitool renew-ca CACERT CAKEY SERIAL NB NA
 *					the CA renewed on its key, PEM
 *   pkitool reissue CERT KEY CACERT CAKEY SERIAL NB NA
 *					CERT reissued on KEY, PEM
 *   pkitool pubkey CERT		SHA-256 of its SubjectPublicKeyInfo
 * NB and NA are epoch seconds.  Exit 0 done, 1 failure or refusal,
 * 2 usage.
 */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: pkitool check cacert cakey\n"
	    "       pkitool renew-ca cacert cakey serial nb na\n"
	    "       pkitool reissue cert key cacert cakey serial nb na\n"
	    "       pkitool pubkey cert\n");
	exit(2);
}

static long long
num(const char *s, long long min, long long max)
{
	const char *errstr;
	long long v;

	v = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		log_warnx("%s: %s", s, errstr);
		usage();
	}
	return v;
}

static int
put(X509 *c)
{
	char *pem;
	size_t len;

	if (c == NULL || (pem = pki_cert_pem(c, &len)) == NULL)
		return 1;
	fwrite(pem, 1, len, stdout);
	free(pem);
	return 0;
}

int
main(int argc, char *argv[])
{
	EVP_PKEY *cakey = NULL, *key = NULL;
	X509 *ca = NULL, *c = NULL, *out = NULL;
	char why[256], sum[65];
	int rc = 1;

	log_init(argv[0]);
	if (argc < 3)
		usage();
	if (strcmp(argv[1], "pubkey") == 0 && argc == 3) {
		if ((c = pki_load_cert(argv[2])) != NULL &&
		    pki_pubkey_sha256(c, sum) == 0) {
			printf("%s\n", sum);
			rc = 0;
		}
	} else if (strcmp(argv[1], "check") == 0 && argc == 4) {
		if ((ca = pki_load_cert(argv[2])) == NULL ||
		    (cakey = pki_load_key(argv[3])) == NULL)
			goto out;
		if (pki_renewable(ca, cakey, why, sizeof(why)) == 0) {
			printf("renewable\n");
			rc = 0;
		} else
			printf("%s\n", why);
	} else if (strcmp(argv[1], "renew-ca") == 0 && argc == 7) {
		if ((ca = pki_load_cert(argv[2])) == NULL ||
		    (cakey = pki_load_key(argv[3])) == NULL)
			goto out;
		if (pki_renewable(ca, cakey, why, sizeof(why)) == -1) {
			log_warnx("%s: %s", argv[2], why);
			goto out;
		}
		out = pki_renew_ca(ca, cakey, num(argv[4], 1, 0xffffffffLL),
		    num(argv[5], 0, 1LL << 40), num(argv[6], 0, 1LL << 40));
		rc = put(out);
	} else if (strcmp(argv[1], "reissue") == 0 && argc == 9) {
		if ((c = pki_load_cert(argv[2])) == NULL ||
		    (key = pki_load_key(argv[3])) == NULL ||
		    (ca = pki_load_cert(argv[4])) == NULL ||
		    (cakey = pki_load_key(argv[5])) == NULL)
			goto out;
		out = pki_reissue(c, key, ca, cakey,
		    num(argv[6], 1, 0xffffffffLL), num(argv[7], 0, 1LL << 40),
		    num(argv[8], 0, 1LL << 40));
		rc = put(out);
	} else
		usage();
 out:
	X509_free(out);
	X509_free(c);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	return rc;
}
