/* SPDX-License-Identifier: ISC */
/* check_ca_expiry.h -- what the expiry check's main file and its parts share */
#ifndef CHECK_CA_EXPIRY_H
#define CHECK_CA_EXPIRY_H

#include <stddef.h>
#include <time.h>

/* Plain-mode exit statuses (documented in check_ca_expiry.8). */
#define EX_VALID	0
#define EX_ERROR	1
#define EX_USAGE	2
#define EX_SOON		3
#define EX_EXPIRED	4

/* Nagios-style statuses for --health. */
#define HC_OK		0
#define HC_WARNING	1
#define HC_CRITICAL	2
#define HC_UNKNOWN	3

enum mode { M_TEXT, M_HEALTH, M_JSON, M_PROM };

/* One CA certificate to look at. */
struct target {
	char	*path;		/* file in the tree */
	char	*apath;		/* the same as the appliance names it */
	char	*fmc;		/* on an FTD: the FMC's name, else NULL */
	char	*fmc_uuid;	/* the FMC whose CA it is; NULL with --file */
};

struct opts {
	enum mode mode;
	time_t	 now;
	long	 warn_days;
	long	 crit_days;
	const char *file;	/* --file */
	int	 prom_stdout;	/* --prom */
	const char *prom_file;	/* --prom-file */
};

/*
 * --prom and --prom-file: the Prometheus text exposition of the n targets
 * (n may be 0 when tree_ok is 0: the tree could not be read, reported
 * already).  Each target's certificate is loaded here; one that cannot be
 * read is reported once on stderr and shown as
 * sfca_internal_ca_read_error 1, and sfca_check_ca_expiry_success is 0.
 * The text goes to stdout (--prom) and replaces o->prom_file atomically
 * (mode 0644).  Returns EX_VALID when every certificate was read and the
 * text written, else EX_ERROR: the CA's state is in the metrics, not in
 * the status.
 */
int	prom_report(const struct opts *o, const struct target *t, size_t n,
	    int tree_ok);

#endif
