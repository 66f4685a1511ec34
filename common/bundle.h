/* SPDX-License-Identifier: ISC */
/* bundle.h -- what an FMC issued for its peers: files read or fetched, then chosen */
#ifndef SFCA_BUNDLE_H
#define SFCA_BUNDLE_H

#include <stddef.h>

/*
 * A fileset is a set of appliance files held in memory, keyed by their
 * path relative to the appliance root ("etc/sf/ims.conf").  It is filled
 * either from the local tree (on the FMC) or from a tar stream fetched
 * from the FMC (on a jump host).  Every buffer is wiped when released.
 */
struct bfile {
	char	*path;
	char	*data;		/* NUL-terminated */
	size_t	 len;
};

struct fileset {
	struct bfile	*f;
	size_t		 n;
	size_t		 cap;
};

void	fileset_release(struct fileset *);
const struct bfile *fileset_get(const struct fileset *, const char *path);

/* From the tree under root_dir(): what bundle_build needs.  0/-1. */
int	fileset_load_tree(struct fileset *);

/* From a ustar stream (data is copied).  0/-1 with a message. */
int	fileset_from_tar(struct fileset *, const void *tar, size_t len);

/* The same from the base64 text of the archive (whitespace ignored). */
int	fileset_from_b64tar(struct fileset *, const char *b64, size_t len);

/*
 * The bash script that, run as root on the FMC, prints the same files as
 * one line of base64 of a ustar archive.
 */
const char *fileset_fetch_script(void);

/* Write every file under dir (created 0700), keys 0600, others 0644. */
int	fileset_keep(const struct fileset *, const char *dir);

/* The three files a peer gets, in the order they are written. */
#define BF_CACERT	0
#define BF_CERT		1
#define BF_KEY		2
#define BF_COUNT	3
extern const char *const bundle_names[BF_COUNT];
extern const int bundle_modes[BF_COUNT];

struct bpeer {
	char		 uuid[37];
	char		 name[64];
	char		 ip[46];
	char		 role[8];	/* ftd, fmc-ha */
	int		 in_failed;	/* named by the newest FAILED_PUSH */
	const struct bfile *f[BF_COUNT];
	char		 err[200];	/* why the files cannot be used */
};

struct bundle {
	char		 fmc_uuid[37];
	char		 fmc_name[64];
	char		 failed_push[128];	/* the one used, or "" */
	struct bpeer	*p;
	size_t		 n;
	struct fileset	 fs;
};

/*
 * Take over fs (emptied) and work out, for every peer folder, the files
 * to copy: the newest FAILED_PUSH's sources when it names the peer, else
 * certs_pushed/, else the peer folder, and the FMC's cacert.pem.  Each
 * peer's set is checked (the key matches the certificate, which chains
 * to the CA); a peer whose set fails has err set.  -1 only when the FMC
 * itself cannot be made out (no ims.conf or CA).
 */
int	bundle_build(struct bundle *, struct fileset *fs);
void	bundle_release(struct bundle *);
const struct bpeer *bundle_find(const struct bundle *, const char *uuid);

/* "KEY=value" lookup in a buffer; 0 when found (value copied). */
int	bundle_kv(const char *buf, const char *key, char *out, size_t outlen);

#endif
