/* SPDX-License-Identifier: ISC */
/* devcheck.h -- one device looked at, read-only: what the copy would find there */
#ifndef SFCA_DEVCHECK_H
#define SFCA_DEVCHECK_H

#include <stddef.h>
#include <time.h>

#include "bundle.h"
#include "devcopy.h"

/*
 * The copy tools' --check.  A device is visited as the copy visits it
 * (rootsh_login: the same host-key rule, one login attempt, the same
 * dialogue to root), then in its root shell "date +%s" alone (the
 * clock, read in a short window) and one read-only script, which
 * prints, framed by length (devcheck_parse), its clock again, the
 * lines of /etc/sf/ims.conf the copy reads, and for the folder the copy
 * writes (/var/sf/peers/<FMC-UUID>, and its from_peer/ when there is
 * one) the CA and sftunnel certificates, the SHA-256 of the key file and
 * of its public half (SubjectPublicKeyInfo, DER, through openssl pkey:
 * never the key) and the free space.  Nothing is written on the device, and an
 * unknown host key is recorded only when the options say so (-A).
 */

/* The verdicts, in the order of their weight. */
enum dc_verdict {
	DC_CURRENT,	/* nothing to do */
	DC_COPY,	/* the copy will fix it */
	DC_UNREACHABLE,	/* no SSH: the console kit */
	DC_REFUSED	/* host key, login or identity: a person must look */
};

/* What the CA the device holds for this FMC is. */
enum dc_ca {
	DC_CA_UNKNOWN,	/* not looked at */
	DC_CA_MISSING,
	DC_CA_BAD,	/* not a file, too big, or not a certificate */
	DC_CA_CURRENT,	/* the FMC's cacert.pem, byte for byte (DER) */
	DC_CA_RENEWED,	/* another certificate of the same CA key */
	DC_CA_OLDER,	/* this FMC's subject, another key: before a renewal */
	DC_CA_FOREIGN	/* another CA altogether */
};

/* Tri-state facts: not known (not reached that far), no, yes. */
#define DC_UNK	(-1)

struct devcheck {
	enum dc_verdict	 verdict;
	char		 reason[256];	/* printable, vis-encoded parts */
	int		 reachable;	/* TCP and banner: 0/1 */
	char		 conn_why[16];	/* sshc_connect_why, "" when reached */
	const char	*hostkey;	/* "known", "new", "recorded",
					   "changed", "" not seen */
	char		 hkfp[128];	/* "SHA256:..." */
	int		 login;		/* DC_UNK, 0 refused, 1 root reached */
	char		 uuid[37];	/* what it reports, "" */
	int		 registered;	/* DC_UNK, 0/1: a peer of this FMC */
	int		 addr_ok;	/* DC_UNK, 0/1: bundle_vouch agrees */
	char		 role[8];	/* the FMC's record: ftd, fmc-ha */
	char		 dest[80];	/* where the copy would write */
	int		 clock_known;
	long long	 skew;		/* device minus FMC, seconds */
	int		 skew_warn;	/* |skew| > DEVCHECK_SKEW_WARN */
	enum dc_ca	 ca;
	char		 ca_sha256[65];
	time_t		 ca_not_after;	/* 0 unknown */
	int		 cert_present;	/* DC_UNK, 0/1 */
	int		 cert_chains;	/* DC_UNK, 0/1: to the FMC's CA, now */
	char		 cert_verr[64];	/* why not, OpenSSL's words */
	time_t		 cert_not_after;
	int		 cert_issued;	/* DC_UNK, 0/1: the FMC's for it */
	int		 key_same;	/* DC_UNK, 0/1: its key is the one of
					   the certificate the FMC issued */
	long long	 free_kib;	/* -1 unknown */
};

/* Past this many seconds of clock skew, a warning. */
#define DEVCHECK_SKEW_WARN	300

/*
 * Visit job's device read-only and fill job->chk (allocated here, freed
 * by devcheck_free through fleet_free) and job->out (its block of
 * lines); job->state is DEV_DONE when the device is current
 * (DEV_SKIPPED for an FMC the copy skips), else DEV_FAILED, job->reason
 * the verdict's reason, job->unreachable set as
 * devcopy_run sets it.  fmc_skew is the FMC's clock minus ours (0 on the
 * FMC).  The row's password is wiped once the login no longer needs it.
 */
void	devcheck_run(struct dev_job *job, long fmc_skew);

/*
 * A job that fleet_run failed without a visit (its address unreachable
 * earlier in the run): its chk, from job->reason.
 */
void	devcheck_unvisited(struct dev_job *job);

void	devcheck_free(struct devcheck *);

const char *devcheck_verdict_name(enum dc_verdict);
const char *devcheck_ca_name(enum dc_ca);

/*
 * The device script's answer, as devcheck_run reads it: records
 * "TAG LEN\n" followed by LEN bytes and "\n", or "TAG -\n" (absent),
 * "TAG !\n" (not a regular file, or unreadable), "TAG +\n" (over its
 * cap), then "END\n" and nothing after.  Tags and their caps are fixed
 * (DCT_*); an unknown or repeated tag, a length past the cap, a
 * malformed header or a missing END makes the whole answer malformed.
 * The items point into buf (not copied, not NUL-terminated).
 */
enum {
	DCT_TIME, DCT_IMS,
	DCT_CA, DCT_CERT, DCT_KEYSUM, DCT_KEYPUB, DCT_FREE,	/* the folder */
	DCT_HCA, DCT_HCERT, DCT_HKEYSUM, DCT_HKEYPUB, DCT_HFREE, /* from_peer/ */
	DCT_N
};
enum dc_item_state { DCI_NONE, DCI_DATA, DCI_ABSENT, DCI_NOTFILE, DCI_BIG };
struct dc_item {
	enum dc_item_state state;	/* DCI_NONE: not in the answer */
	const char	*p;
	size_t		 len;
};
struct dc_answer {
	struct dc_item	 it[DCT_N];
};

/* 0, or -1 with *bad_at the offset of the first byte that is wrong. */
int	devcheck_parse(const char *buf, size_t len, struct dc_answer *,
	    size_t *bad_at);

/*
 * A decimal number item (TIME, FREE): 0 with *v, -1 when it is not
 * digits only (an optional leading '-' for TIME) or out of range.
 */
int	devcheck_number(const struct dc_item *, long long *v);

#endif
