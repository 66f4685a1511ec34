// SPDX-License-Identifier: ISC
/* mktree -- build lab appliance trees: an FMC (optionally HA) and N FTDs */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "peers.h"
#include "pki.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "mktree.h"
#include "banned.h"

/*
 * What registration leaves on the appliances, made in one go.  Each host
 * gets <lab>/hosts/<name>/root/, and the lab gets hosts.txt and
 * passwords.  Not shipped: the lab and the tests stand on it.
 */

struct host {
	char	 name[32];
	char	 role[8];		/* fmc, fmc-ha, ftd */
	char	 addr[64];
	char	 uuid[37];
	char	*root;
	EVP_PKEY *key;			/* FMCs: own sftunnel key */
	EVP_PKEY *cakey;		/* FMCs: CA key */
	X509	*ca;			/* FMCs: CA */
	unsigned long serial;		/* FMCs: next serial */
	FILE	*index;			/* FMCs: index.txt being written */
};

struct job {
	EVP_PKEY **keys;
	size_t	 n;
	size_t	 next;
	enum pki_keytype type;
	pthread_mutex_t mu;
	int	 failed;
};

static void *
keygen_worker(void *arg)
{
	struct job *j = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			break;
		if ((j->keys[i] = pki_keygen(j->type)) == NULL) {
			pthread_mutex_lock(&j->mu);
			j->failed = 1;
			pthread_mutex_unlock(&j->mu);
		}
	}
	return NULL;
}

/* n keys over nthreads threads. */
static EVP_PKEY **
keygen_many(size_t n, enum pki_keytype type, int nthreads)
{
	pthread_t *th;
	struct job j;
	int i;

	memset(&j, 0, sizeof(j));
	j.keys = xcalloc(n, sizeof(*j.keys));
	j.n = n;
	j.type = type;
	pthread_mutex_init(&j.mu, NULL);
	th = xcalloc((size_t)nthreads, sizeof(*th));
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, keygen_worker, &j) != 0)
			errx(1, "pthread_create");
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);
	pthread_mutex_destroy(&j.mu);
	if (j.failed)
		errx(1, "key generation failed");
	return j.keys;
}

static void
mkd(const char *root, const char *rel, mode_t mode)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (sfile_mkdirs(p, mode) == -1)
		exit(1);
	if (chmod(p, mode) == -1)
		err(1, "%s", p);
	free(p);
}

static void
put(const char *root, const char *rel, const char *text, mode_t mode)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (sfile_write(p, text, strlen(text), mode) == -1)
		exit(1);
	free(p);
}

static void
link_rel(const char *root, const char *rel, const char *target)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (symlink(target, p) == -1 && errno != EEXIST)
		err(1, "%s", p);
	free(p);
}

static void
write_cert(const char *root, const char *rel, X509 *c)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (pki_write_cert(p, c) == -1)
		exit(1);
	free(p);
}

static void
write_key(const char *root, const char *rel, EVP_PKEY *k)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (pki_write_key(p, k) == -1)
		exit(1);
	free(p);
}

/* Issue a certificate from FMC f for uuid, and record it in index.txt. */
static X509 *
issue(struct host *f, EVP_PKEY *key, const char *uuid, time_t nb, time_t na)
{
	struct pki_info in;
	X509 *c;

	if ((c = pki_issue(f->ca, f->cakey, key, uuid, f->serial++, nb, na)) ==
	    NULL)
		exit(1);
	if (pki_cert_info(c, &in) == -1)
		exit(1);
	{
		struct tm tm;
		char exp[32];

		/* index.txt keeps the two-digit UTCTime year */
		gmtime_r(&na, &tm);
		strftime(exp, sizeof(exp), "%Y%m%d%H%M%SZ", &tm);
		fprintf(f->index, "V\t%s\t\t%s\tunknown\t%s\n", exp + 2,
		    in.serial,
		    in.subject);
	}
	return c;
}

static void
ims_conf(struct host *h, const char *path_rel, const char *type,
    const char *ha)
{
	char *text;

	text = xasprintf("# ims.conf -- written by registration\n"
	    "APPLIANCE_UUID=%s\nHOSTNAME=%s\nSWVERSION=7.2.9\nSWBUILD=44\n"
	    "MGMT_IP=%s\nMODEL=%s\nMODEL_TYPE=%s\n%s%s%s", h->uuid, h->name,
	    h->addr,
	    strcmp(type, "CONSOLE") == 0 ?
	    "Secure Firewall Management Center for VMware" :
	    "Secure Firewall Threat Defense for VMware", type,
	    ha != NULL ? "HA_ROLE=" : "", ha != NULL ? ha : "",
	    ha != NULL ? "\n" : "");
	put(h->root, path_rel, text, 0644);
	free(text);
}

static void
make_fmc(struct host *f, const char *ha, time_t ca_nb, time_t ca_na,
    time_t now)
{
	struct lab_tunconf t;
	char *p;

	mkd(f->root, "etc/sf/keys", 0755);
	mkd(f->root, "etc/sf/ca_root", 0755);
	mkd(f->root, "etc/sf/ca_root/private", 0700);
	mkd(f->root, "var/sf/peers", 0755);
	mkd(f->root, "var/sf/run", 0700);
	mkd(f->root, "var/log/sf", 0755);
	mkd(f->root, "var/tmp/certs", 0755);
	mkd(f->root, "usr/local/sf/bin", 0755);
	ims_conf(f, RP_IMS_CONF, "CONSOLE", ha);
	memset(&t, 0, sizeof(t));
	t.cert = "/" RP_OWN_CERT;
	t.key = "/" RP_OWN_KEY;
	t.cacert = "/" RP_CA_CERT;
	t.crl = "/" RP_CA_CRL;
	t.cipher = 1;
	t.tls_version = "TLSv1.2";
	p = xasprintf("%s/%s", f->root, RP_TUNNEL_CONF);
	if (lab_tunconf_save(&t, p) == -1)
		exit(1);
	free(p);
	put(f->root, "var/log/messages", "", 0640);
	put(f->root, RP_PATCH_HIST, "", 0644);

	if ((f->ca = pki_make_ca(f->cakey, f->uuid, 1, ca_nb, ca_na)) == NULL)
		exit(1);
	f->serial = 2;
	write_cert(f->root, RP_CA_CERT, f->ca);
	write_key(f->root, RP_CA_KEY, f->cakey);
	p = xasprintf("%s/%s", f->root, RP_CA_CRL);
	if (pki_write_crl(p, f->ca, f->cakey, ca_na) == -1)
		exit(1);
	free(p);
	p = xasprintf("%s/%s", f->root, RP_CA_INDEX);
	if ((f->index = fopen(p, "w")) == NULL)
		err(1, "%s", p);
	free(p);
	{
		X509 *own = issue(f, f->key, f->uuid, ca_nb,
		    now + PKI_CA_DAYS * PKI_DAY);

		write_cert(f->root, RP_OWN_CERT, own);
		write_key(f->root, RP_OWN_KEY, f->key);
		X509_free(own);
	}
}

static void
finish_fmc(struct host *f)
{
	char *p, buf[32];

	if (fclose(f->index) != 0)
		err(1, "index.txt");
	snprintf(buf, sizeof(buf), "%02lX\n", f->serial);
	p = xasprintf("%s/%s", f->root, RP_CA_SERIAL);
	if (sfile_write(p, buf, strlen(buf), 0644) == -1)
		exit(1);
	free(p);
}

static void
peer_json(const char *dir, struct host *h, const char *role)
{
	struct peer p;
	char *path;

	memset(&p, 0, sizeof(p));
	strlcpy(p.uuid, h->uuid, sizeof(p.uuid));
	strlcpy(p.name, h->name, sizeof(p.name));
	strlcpy(p.ip, h->addr, sizeof(p.ip));
	strlcpy(p.role, role, sizeof(p.role));
	p.port = SFTUNNEL_PORT;
	path = xasprintf("%s/%s", dir, PEERF_JSON);
	if (lab_peer_save(&p, path) == -1)
		exit(1);
	free(path);
}

/*
 * Register peer h with FMC f: the FMC keeps what it issued for h in
 * var/sf/peers/<h>/ and certs_pushed/; h keeps f's CA and its identity in
 * its own var/sf/peers/<f>/ (from_peer/ when h is itself an FMC).
 */
static void
register_peer(struct host *f, struct host *h, EVP_PKEY *key, time_t nb,
    time_t now)
{
	char *dir, *rel;
	X509 *c;

	c = issue(f, key, h->uuid, nb, now + PKI_CA_DAYS * PKI_DAY);

	rel = xasprintf("var/sf/peers/%s/%s", h->uuid, PEERF_PUSHED);
	mkd(f->root, rel, 0755);
	free(rel);
	dir = xasprintf("%s/var/sf/peers/%s", f->root, h->uuid);
	peer_json(dir, h, strcmp(h->role, "ftd") == 0 ? "ftd" : "fmc-ha");
	write_cert(dir, PEERF_CERT, c);
	write_key(dir, PEERF_KEY, key);
	write_cert(dir, PEERF_PUSHED "/" PEERF_CERT, c);
	write_key(dir, PEERF_PUSHED "/" PEERF_KEY, key);
	put(dir, PEERF_SWVERSION, "7.2.9\n", 0644);
	free(dir);

	if (strcmp(h->role, "ftd") == 0)
		rel = xasprintf("var/sf/peers/%s", f->uuid);
	else
		rel = xasprintf("var/sf/peers/%s/from_peer", f->uuid);
	mkd(h->root, rel, 0755);
	dir = xasprintf("%s/var/sf/peers/%s", h->root, f->uuid);
	peer_json(dir, f, strcmp(h->role, "ftd") == 0 ? "fmc" : "fmc-ha");
	put(dir, PEERF_SWVERSION, "7.2.9\n", 0644);
	free(dir);
	dir = xasprintf("%s/%s", h->root, rel);
	write_cert(dir, PEERF_CACERT, f->ca);
	write_cert(dir, PEERF_CERT, c);
	write_key(dir, PEERF_KEY, key);
	free(dir);
	free(rel);
	X509_free(c);
}

static void
make_ftd(struct host *h)
{
	mkd(h->root, "ngfw/etc/sf", 0755);
	mkd(h->root, "ngfw/var/sf/peers", 0755);
	mkd(h->root, "ngfw/var/sf/run", 0700);
	mkd(h->root, "ngfw/var/log", 0755);
	mkd(h->root, "etc", 0755);
	mkd(h->root, "var", 0755);
	link_rel(h->root, "etc/sf", "../ngfw/etc/sf");
	link_rel(h->root, "var/sf", "../ngfw/var/sf");
	link_rel(h->root, "var/log", "../ngfw/var/log");
	ims_conf(h, "ngfw/etc/sf/ims.conf", "SENSOR", NULL);
	put(h->root, "ngfw/var/log/messages", "", 0640);
}

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: mktree [-H] [-b prefix] [-j threads] [-k rsa|ec] "
	    "[-l ca-lifetime-seconds]\n"
	    "              [-n ftds] [-p password] -o lab-dir\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ha",		no_argument,		NULL, 'H' },
		{ "prefix",	required_argument,	NULL, 'b' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "jobs",	required_argument,	NULL, 'j' },
		{ "key-type",	required_argument,	NULL, 'k' },
		{ "ca-lifetime", required_argument,	NULL, 'l' },
		{ "ftds",	required_argument,	NULL, 'n' },
		{ "output",	required_argument,	NULL, 'o' },
		{ "password",	required_argument,	NULL, 'p' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *out = NULL, *prefix = "127.77", *password = NULL;
	const char *errstr;
	enum pki_keytype kt = PKI_RSA2048;
	long long lifetime = (long long)PKI_CA_DAYS * PKI_DAY;
	struct host *hosts;
	size_t nftd = 2, nfmc = 1, n, i;
	int ch, ha = 0, jobs;
	EVP_PKEY **keys;
	time_t now, ca_na, ca_nb;
	FILE *hf, *pf;
	char *p;

	log_init(argv[0]);
	jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (jobs < 1)
		jobs = 1;
	while ((ch = getopt_long(argc, argv, "Hb:hj:k:l:n:o:p:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'H':
			ha = 1;
			break;
		case 'b':
			prefix = optarg;
			break;
		case 'h':
			usage(0);
		case 'j':
			jobs = (int)strtonum(optarg, 1, 256, &errstr);
			if (errstr != NULL)
				errx(2, "-j %s: %s", optarg, errstr);
			break;
		case 'k':
			if (strcmp(optarg, "rsa") == 0)
				kt = PKI_RSA2048;
			else if (strcmp(optarg, "ec") == 0)
				kt = PKI_ECP256;
			else
				errx(2, "-k %s: rsa or ec", optarg);
			break;
		case 'l':
			lifetime = strtonum(optarg, -100LL * 365 * PKI_DAY,
			    100LL * 365 * PKI_DAY, &errstr);
			if (errstr != NULL)
				errx(2, "-l %s: %s", optarg, errstr);
			break;
		case 'n':
			nftd = (size_t)strtonum(optarg, 0, 60000, &errstr);
			if (errstr != NULL)
				errx(2, "-n %s: %s", optarg, errstr);
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			password = optarg;
			break;
		default:
			usage(2);
		}
	}
	if (out == NULL || optind != argc)
		usage(2);
	if (ha)
		nfmc = 2;
	n = nfmc + nftd;

	p = xasprintf("%s/hosts", out);
	if (sfile_mkdirs(p, 0755) == -1)
		exit(1);
	free(p);
	hosts = xcalloc(n, sizeof(*hosts));
	for (i = 0; i < n; i++) {
		struct host *h = &hosts[i];

		if (i < nfmc) {
			strlcpy(h->name, i == 0 ? "FMCpri" : "FMCsec",
			    sizeof(h->name));
			strlcpy(h->role, i == 0 ? "fmc" : "fmc-ha",
			    sizeof(h->role));
			snprintf(h->addr, sizeof(h->addr), "%s.0.%zu", prefix,
			    i + 1);
		} else {
			size_t k = i - nfmc;

			snprintf(h->name, sizeof(h->name), "FTD-%zu", k + 1);
			strlcpy(h->role, "ftd", sizeof(h->role));
			snprintf(h->addr, sizeof(h->addr), "%s.%zu.%zu", prefix,
			    1 + k / 250, 1 + k % 250);
		}
		if (pki_uuid(h->uuid) == -1)
			exit(1);
		h->root = xasprintf("%s/hosts/%s/root", out, h->name);
		p = xasprintf("%s/hosts/%s", out, h->name);
		if (sfile_isdir(p))
			errx(1, "%s: already exists", p);
		free(p);
		if (sfile_mkdirs(h->root, 0755) == -1)
			exit(1);
	}

	/* FMCs: a CA key and an own key each; peers: one key per FMC. */
	keys = keygen_many(2 * nfmc + nftd * nfmc + (ha ? 2 : 0), kt, jobs);
	now = time(NULL);
	ca_na = now + (time_t)lifetime;
	ca_nb = ca_na - PKI_CA_DAYS * PKI_DAY;
	if (ca_nb > now)
		ca_nb = now;
	{
		size_t k = 0, j;

		for (i = 0; i < nfmc; i++) {
			hosts[i].cakey = keys[k++];
			hosts[i].key = keys[k++];
			make_fmc(&hosts[i], ha ? (i == 0 ? "primary" :
			    "secondary") : NULL, ca_nb, ca_na, now);
		}
		for (i = nfmc; i < n; i++)
			make_ftd(&hosts[i]);
		for (j = 0; j < nfmc; j++)
			for (i = nfmc; i < n; i++)
				register_peer(&hosts[j], &hosts[i], keys[k++],
				    ca_nb, now);
		if (ha) {
			register_peer(&hosts[0], &hosts[1], keys[k++], ca_nb,
			    now);
			register_peer(&hosts[1], &hosts[0], keys[k++], ca_nb,
			    now);
		}
		for (i = 0; i < nfmc; i++)
			finish_fmc(&hosts[i]);
		for (i = 0; i < k; i++)
			EVP_PKEY_free(keys[i]);
	}
	free(keys);

	p = xasprintf("%s/hosts.txt", out);
	if ((hf = fopen(p, "w")) == NULL)
		err(1, "%s", p);
	free(p);
	p = xasprintf("%s/passwords", out);
	if ((pf = fopen(p, "w")) == NULL || fchmod(fileno(pf), 0600) == -1)
		err(1, "%s", p);
	free(p);
	fprintf(hf, "# name role addr uuid\n");
	for (i = 0; i < n; i++) {
		fprintf(hf, "%s %s %s %s\n", hosts[i].name, hosts[i].role,
		    hosts[i].addr, hosts[i].uuid);
		if (password != NULL)
			fprintf(pf, "%s %s\n", hosts[i].name, password);
		else
			fprintf(pf, "%s Adm1n!%s\n", hosts[i].name,
			    hosts[i].name);
		X509_free(hosts[i].ca);
		free(hosts[i].root);
	}
	if (fclose(hf) != 0 || fclose(pf) != 0)
		err(1, "%s", out);
	free(hosts);
	return 0;
}
