/* SPDX-License-Identifier: ISC */
/* cahist.h -- the InternalCA a renewal replaced: is the current one on its key */
#ifndef SFCA_CAHIST_H
#define SFCA_CAHIST_H

#include <openssl/x509.h>

/*
 * generate_certs backs up every file it replaces into its run folder,
 * var/sf/sfca/runs/<epoch>/backup/<path from the root> (see
 * cmd/generate_certs.h), and marks the folder COMMITTED once the new
 * files are in place.  The CA certificate a renewal replaced is so
 * backup/etc/sf/ca_root/cacert.pem of the newest run folder marked
 * COMMITTED that holds one: a run that never committed (rolled back,
 * abandoned, or still to be completed) replaced nothing and is passed
 * over.
 *
 * Those folders are root's alone: they are read only through sdir's
 * checked walk (each component opened without following a link and
 * checked: a folder, root's, writable by no one else) and the file by
 * its descriptor.  A folder that fails the check is reported and never
 * read, and makes the answer CAHIST_REFUSED: an older run is not
 * consulted past it, since the refused one may be the newest renewal.
 */
enum cahist_key {
	CAHIST_UNKNOWN,		/* no committed run with a CA backup */
	CAHIST_SAME,		/* the same public key as the CA replaced */
	CAHIST_NEW,		/* another public key */
	CAHIST_REFUSED		/* a run folder failed the check (said) */
};

struct cahist {
	enum cahist_key	 key;
	long long	 run;	/* the run folder compared with (or refused); -1 */
};

/*
 * Compare the public key of cur, the current CA certificate (not
 * consumed), with that of the CA certificate the newest committed
 * renewal of the tree (root_dir()) replaced; *out says the answer.
 * 0 when the answer comes from what could be read, or there was nothing
 * to read; -1 when something is there and cannot be used (a folder that
 * fails the check: CAHIST_REFUSED; a backup that is no readable
 * certificate: CAHIST_UNKNOWN), reported once on stderr.  cur NULL
 * gives CAHIST_UNKNOWN and 0, reading nothing.
 */
int	cahist_compare(X509 *cur, struct cahist *out);

/* "unknown", "same", "new", "refused": the word JSON and text show. */
const char *cahist_word(enum cahist_key);

#endif
