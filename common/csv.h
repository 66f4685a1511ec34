/* SPDX-License-Identifier: ISC */
/* csv.h -- devices.csv: one device per row, parsed whole before any work */
#ifndef SFCA_CSV_H
#define SFCA_CSV_H

#include <stddef.h>

#include "esc.h"

/*
 * devices.csv(5): "device_name,ipaddr,login,password[,role]".  A UTF-8
 * BOM, CRLF line ends, '#' comment lines, blank lines, spaces around
 * fields and RFC 4180 quoted fields ("a,""b") are accepted.  role is
 * empty or "fmc" (the jump host's FMC).  Every field is UTF-8 without
 * control characters; names are unique.  Anything else (invalid UTF-8,
 * a NUL byte, a duplicate name, which names both lines) is an error
 * naming "file:line", reported before any device is touched.
 */
#define CSV_NAME_MAX	64	/* bytes of a name as written in the file */
#define CSV_VNAME_MAX	ESC_SIZE(CSV_NAME_MAX - 1)
#define CSV_ADDR_MAX	46
#define CSV_LOGIN_MAX	64
#define CSV_PASS_MAX	256

struct csv_row {
	/*
	 * The name, vis-encoded (esc_vis): it is only ever printed, and
	 * this way never raw.  Unique in the file.
	 */
	char	 name[CSV_VNAME_MAX];
	char	 addr[CSV_ADDR_MAX];	/* an IPv4 or IPv6 literal */
	char	 login[CSV_LOGIN_MAX];
	char	*password;		/* in the table's secret block */
	size_t	 passlen;
	int	 is_fmc;		/* role column says "fmc" */
	size_t	 line;			/* line number in the file */
};

struct csv {
	char		*path;
	struct csv_row	*rows;
	size_t		 n;
	/*
	 * Every password, NUL-terminated, in one xmalloc_secret block (out
	 * of core dumps), wiped and freed by csv_free.
	 */
	char		*secret;
	size_t		 secretlen;
	size_t		 secretused;
};

/*
 * Parse path, whole, in time near-linear in its size.  On success *out is the table, which the caller frees with
 * csv_free (that wipes every password).  The file's own buffer is wiped
 * before return.  A file readable by group or others is warned about
 * once on stderr, and still read.  -1 with one message naming the file
 * and, for a bad line, its number.
 */
int	csv_load(const char *path, struct csv **out);

/* The same from memory (buf is not modified); what names it in messages. */
int	csv_parse(const char *buf, size_t len, const char *what,
	    struct csv **out);

/* Wipe and free; NULL is fine. */
void	csv_free(struct csv *);

/* Wipe and forget one row's password (after its last use); its bytes
 * stay allocated in the table's secret block until csv_free. */
void	csv_row_wipe(struct csv_row *);

#endif
