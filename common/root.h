/* SPDX-License-Identifier: ISC */
/* root.h -- the appliance root and the FMC and FTD layouts under it */
#ifndef SFCA_ROOT_H
#define SFCA_ROOT_H

#include <sys/types.h>

/*
 * Every path below is relative to the appliance root: "/" on a real
 * appliance, a tree for the lab and the tests.  On an FTD the tree keeps
 * its state under ngfw/, and etc/sf, var/sf and var/log are links into
 * it, as in expert mode; so these paths hold on both kinds.
 */
#define RP_IMS_CONF	"etc/sf/ims.conf"
#define RP_TUNNEL_CONF	"etc/sf/sftunnel.conf"
#define RP_CA_DIR	"etc/sf/ca_root"
#define RP_CA_CERT	"etc/sf/ca_root/cacert.pem"
#define RP_CA_KEY	"etc/sf/ca_root/private/cakey.pem"
#define RP_CA_INDEX	"etc/sf/ca_root/index.txt"
#define RP_CA_SERIAL	"etc/sf/ca_root/serial"
#define RP_CA_CRL	"etc/sf/ca_root/crl.pem"
#define RP_KEYS_DIR	"etc/sf/keys"
#define RP_OWN_CERT	"etc/sf/keys/sftunnel-cert.pem"
#define RP_OWN_KEY	"etc/sf/keys/sftunnel-key.pem"
#define RP_PEERS	"var/sf/peers"
#define RP_MESSAGES	"var/log/messages"
#define RP_GEN_LOG	"var/log/sf/sfca_generation.log"
#define RP_CERTS_TMP	"var/tmp/certs"	/* FAILED_PUSH only */
#define RP_SFCA_STATE	"var/sf/sfca"	/* root only (0700) */
#define RP_RUNS		"var/sf/sfca/runs"	/* generate_certs' run folders */
#define RP_BIN		"usr/local/sf/bin"
#define RP_PATCH_HIST	"etc/sf/patch_history"
#define RP_RUN		"var/sf/run"
#define RP_CTL_SOCK	"var/sf/run/sftunnel.sock"
#define RP_PIDFILE	"var/sf/run/sftunnel.pid"

/* Files of one peer folder (var/sf/peers/<uuid>/). */
#define PEERF_JSON		"sftunnel.json"
#define PEERF_CERT		"sftunnel-cert.pem"
#define PEERF_KEY		"sftunnel-key.pem"
#define PEERF_CACERT	"cacert.pem"
#define PEERF_HEARTBEAT	"sftunnel-heartbeat"
#define PEERF_PUSHED	"certs_pushed"
#define PEERF_SWVERSION	"sw_version"

/*
 * The three files an FMC issues for a peer (in its folder for the peer)
 * and puts on the peer (in the peer's folder for the FMC), defined here
 * only: in the vendor's push order, the order of FAILED_PUSH's lines,
 * which every tool that writes them follows, and with their modes on
 * both sides.
 */
#define PEERF_NFILES	3
#define PEERF_I_CACERT	0	/* cacert.pem, 0644 */
#define PEERF_I_KEY	1	/* sftunnel-key.pem, 0600 */
#define PEERF_I_CERT	2	/* sftunnel-cert.pem, 0644 */
extern const char *const peerf_names[PEERF_NFILES];
extern const mode_t peerf_modes[PEERF_NFILES];

/* The index in peerf_names of a file name (no folder), or -1. */
int	peerf_index(const char *name);

#define SFTUNNEL_PORT	8305

enum root_kind { ROOT_UNKNOWN, ROOT_FMC, ROOT_FTD };

/*
 * Choose the root: dir when given, else $SFCA_ROOT, else "/".  It must
 * be a directory; it is kept as an absolute path.  -1 with a message.
 */
int	root_set(const char *dir);
const char *root_dir(void);

/* "<root>/<rel>" (rel printf-formatted), allocated; caller frees. */
char	*root_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "<dir>/<rel>" (rel printf-formatted), allocated; caller frees. */
char	*path_join(const char *dir, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The same path as it reads on the appliance ("/var/sf/..."), for
 * messages and files such as FAILED_PUSH that name appliance paths.
 */
char	*root_apath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * What the tree is, from MODEL_TYPE in ims.conf (CONSOLE is an FMC,
 * SENSOR an FTD), falling back to the presence of ca_root or ngfw/.
 */
enum root_kind root_kind(void);

#endif
