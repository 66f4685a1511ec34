// SPDX-License-Identifier: ISC
/* keygen_floor -- the physical floor of a renewal: N RSA-2048 keygens */
#include <err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

/*
 * usage: keygen_floor [-b bits] [-j threads] count
 *
 * Generates count RSA keys (2048 bits) over threads threads (default: the
 * online cores) and prints the wall time in seconds.  Nothing else: no
 * certificate, no file.  This is what generate_certs cannot go below.
 */

static int	 bits = 2048;
static long	 total, next;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *
worker(void *arg)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *k;
	long i;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		i = next++;
		pthread_mutex_unlock(&mu);
		if (i >= total)
			break;
		k = NULL;
		if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL)) == NULL ||
		    EVP_PKEY_keygen_init(ctx) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
		    EVP_PKEY_keygen(ctx, &k) <= 0)
			errx(1, "RSA key generation failed");
		EVP_PKEY_free(k);
		EVP_PKEY_CTX_free(ctx);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	pthread_t *th;
	long nth;
	int ch, i;

	nth = sysconf(_SC_NPROCESSORS_ONLN);
	while ((ch = getopt(argc, argv, "b:j:")) != -1) {
		switch (ch) {
		case 'b':
			bits = atoi(optarg);
			break;
		case 'j':
			nth = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || (total = atol(argv[optind])) < 1 ||
	    nth < 1 || nth > 1024 || bits < 512)
		goto usage;
	th = calloc((size_t)nth, sizeof(*th));
	if (th == NULL)
		err(1, "calloc");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, NULL) != 0)
			errx(1, "pthread_create");
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(th);
	return 0;
 usage:
	fprintf(stderr, "usage: keygen_floor [-b bits] [-j threads] count\n");
	return 2;
}
