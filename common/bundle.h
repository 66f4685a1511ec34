/* SPDX-License-Identifier: ISC */
/* bundle.h -- what an FMC issued for its peers: each peer's files chosen and checked */
#ifndef SFCA_BUNDLE_H
#define SFCA_BUNDLE_H

#include <stddef.h>

#include "csv.h"
#include "fileset.h"
#include "peers.h"
#include "root.h"

/*
 * The bundle is made from a fileset (see fileset.h) of the FMC's files:
 * this FMC, its CA and, per peer, the three files a copy tool puts on
 * the peer.
 */
struct bpeer {
	char		 uuid[37];
	char		 folder[37];	/* its folder under var/sf/peers */
	char		 name[PEER_NAME_MAX];	/* vis-encoded, as peer_parse */
	char		 ip[46];
	char		 role[8];	/* ftd, fmc-ha */
	int		 in_failed;	/* named by the newest FAILED_PUSH */
	const struct bfile *f[PEERF_NFILES];	/* by PEERF_I_* */
	char		 err[200];	/* why the files cannot be used */
};

struct bundle {
	char		 fmc_uuid[37];
	char		 fmc_name[PEER_NAME_MAX];	/* HOSTNAME, vis-encoded */
	char		 failed_push[128];	/* the one used, or "" */
	/*
	 * 1 when the files to copy come from a renewal on the same keys
	 * (generate_certs --extend): only cacert.pem and
	 * sftunnel-cert.pem go to a device, never a key, and a device
	 * gets its certificate only when it holds the certificate's key
	 * (read on the device).  Then no peer has f[PEERF_I_KEY] (the
	 * FMC's copies of the keys are wiped from fs).  0: the vendor's
	 * three files.  Decided by bundle_build from the newest renewal
	 * that may have replaced files (the newest run folder of
	 * var/sf/sfca/runs with STAGED and without ABANDONED): 1 when it
	 * has EXTEND.  No run folder at all is 0.
	 */
	int		 public_only;
	char		 run[64];	/* that run folder ("/var/sf/..."), or "" */
	struct bpeer	*p;
	size_t		 n;
	struct fileset	 fs;
};

/*
 * Every file of the tree under root_dir() that bundle_build may use:
 * ims.conf, the CA certificate, every var/tmp/certs/<epoch>/FAILED_PUSH,
 * the STAGED, ABANDONED and EXTEND markers of every run folder of
 * var/sf/sfca/runs, and each peer folder's sftunnel.json, certificate
 * and key, from the folder and from certs_pushed/.  FAILED_PUSH and the
 * markers are read through folders that pass sdir's checks (a run
 * folder: root's 0700 or 0755, no link).  0/-1 with a message (a
 * missing peers folder is an error).
 */
int	bundle_load_tree(struct fileset *);

/*
 * The bash script that, run as root on the FMC, prints the same files as
 * one line of base64 of a ustar archive, for fileset_from_b64tar.  It
 * first checks the folders FAILED_PUSH and the run markers come from as
 * bundle_load_tree does, and when one fails prints one line naming it
 * and exits 3, nothing fetched.  Allocated; the caller frees it.
 */
char	*bundle_fetch_script(void);

/*
 * Take over fs (emptied) and work out, for every peer folder, the files
 * to copy: the newest FAILED_PUSH's sources when it names the peer, else
 * certs_pushed/, else the peer folder, and the FMC's cacert.pem.  A
 * peer's files come only from its own folder, its certs_pushed/ and the
 * FMC's CA: a FAILED_PUSH line whose source is anything else (or that
 * cannot be read) is an error naming the file and line, and no peer is
 * usable.  Files
 * of fs that none of this uses are dropped (wiped) from b->fs.  Each
 * peer's set is checked (the key matches the certificate, which chains
 * to the CA); a peer whose set fails has err set.  ims.conf and every
 * sftunnel.json are read by conf_parse and peer_parse, as generate_certs
 * reads them.  -1 with one message when the FMC itself cannot be made
 * out (ims.conf missing, malformed or without APPLIANCE_UUID, no CA) or
 * a peer folder's sftunnel.json is malformed (its uuid not the folder's,
 * say), or FAILED_PUSH is refused: then no peer is usable.  Sets
 * public_only (see struct bundle): then a peer's set is checked without
 * the FMC's key (its certificate chains to the CA).
 */
int	bundle_build(struct bundle *, struct fileset *fs);
void	bundle_release(struct bundle *);
const struct bpeer *bundle_find(const struct bundle *, const char *uuid);

/*
 * Whether the device of row, which reports itself as peer p (found by
 * the uuid it reported), may receive p's files: p's address in its
 * sftunnel.json must be the row's.  With nat an address that differs is
 * accepted (a device registered behind NAT), but never when another row
 * of c has p's address: that row's device is p.  0, or -1 with why set
 * (naming the device, the uuid it reported and the peer the FMC has for
 * it); nothing is reported.
 */
int	bundle_vouch(const struct bundle *, const struct csv *c,
	    const struct csv_row *row, const struct bpeer *p, int nat,
	    char *why, size_t whylen);

#endif
