/* SPDX-License-Identifier: ISC */
/* mktree.h -- the appliance files only the lab writes (mktree-save.c) */
#ifndef MKTREE_H
#define MKTREE_H

#include "peers.h"

/*
 * The commands read these files and never write them: registration does
 * on a real appliance, mktree in the lab.  So their writers live here,
 * not in libsfca.
 */

/* sftunnel.conf: the proxyssl block of SPEC 1.1, as mktree fills it. */
struct lab_tunconf {
	const char	*cert;		/* proxy_cert */
	const char	*key;		/* proxy_key */
	const char	*cacert;	/* proxy_cacert */
	const char	*crl;		/* proxy_crl; NULL: the CA's crl.pem */
	int		 cipher;	/* proxy_cipher */
	const char	*tls_version;	/* proxy_tls_version; NULL: TLSv1.2 */
};

/*
 * Write t as sftunnel.conf at path, atomically (sfile_write), 0644.
 * The strings stay the caller's.  0, or -1 reported once.
 */
int	lab_tunconf_save(const struct lab_tunconf *t, const char *path);

/*
 * Write p as sftunnel.json at path (the flat object peers.h describes,
 * strings JSON-escaped), atomically, 0644.  p->dir is not written.  0, or
 * -1 reported once.
 */
int	lab_peer_save(const struct peer *p, const char *path);

#endif
