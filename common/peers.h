/* SPDX-License-Identifier: ISC */
/* peers.h -- the peers registry: one sftunnel.json per peer folder */
#ifndef SFCA_PEERS_H
#define SFCA_PEERS_H

#include <stddef.h>

#include "esc.h"

/*
 * var/sf/peers/<uuid>/sftunnel.json, a flat JSON object:
 *   {"uuid": "...", "name": "...", "ip": "...", "role": "ftd", "port": 8305}
 * role is "ftd" (an FTD, seen from its FMC), "fmc" (the managing FMC, seen
 * from an FTD) or "fmc-ha" (the other FMC of an HA pair).
 */
#define PEER_UUID_LEN	36
#define PEER_NAME_LEN	63	/* bytes of a name kept from the file */
#define PEER_NAME_MAX	ESC_SIZE(PEER_NAME_LEN)

struct peer {
	char	 uuid[PEER_UUID_LEN + 1];
	/*
	 * The name, vis-encoded (esc_vis): printable ASCII without
	 * whitespace, safe for a terminal, a log and a FAILED_PUSH field.
	 * Names are only shown, never matched on.
	 */
	char	 name[PEER_NAME_MAX];
	char	 ip[46];	/* vis-encoded as well */
	char	 role[8];
	int	 port;
	char	*dir;		/* absolute path of the peer folder */
};

/* 1 when s is a canonical 8-4-4-4-12 lowercase or uppercase hex UUID. */
int	peer_uuid_valid(const char *s);

/* Largest sftunnel.json read. */
#define PEER_JSON_CAP	(64 * 1024)

/*
 * Parse the text of one sftunnel.json, len bytes of text (not modified,
 * need not be NUL-terminated; a NUL inside is malformed), found in the
 * peer folder named folder.  The uuid must be well formed and be the
 * folder's (case aside), name and ip must be there and role valid;
 * keys of the vendor's we do not use are ignored.  Strings take the
 * JSON escapes, \uXXXX included; a name is cut to PEER_NAME_LEN bytes
 * and kept vis-encoded.  path names the file in messages.  p->dir is
 * left NULL.  0, or -1 with one message.  This
 * is the only reader of the format: every sftunnel.json, from the tree
 * or fetched from an FMC, goes through it.
 */
int	peer_parse(const char *text, size_t len, const char *path,
	    const char *folder, struct peer *p);
/* The same from the file path (at most PEER_JSON_CAP bytes). */
int	peer_load(const char *path, const char *folder, struct peer *p);

/*
 * Every peer under <root>/var/sf/peers, sorted by name then uuid.  A
 * folder without sftunnel.json is skipped; a malformed one is an error.
 * *out is an array the caller frees with peers_free.
 */
int	peers_load(struct peer **out, size_t *n);
void	peers_free(struct peer *, size_t);

/* Find by uuid or by ip; NULL when absent. */
struct peer *peers_find(struct peer *, size_t, const char *uuid_or_ip);

/* Role names. */
int	peer_role_valid(const char *);

#endif
