/* SPDX-License-Identifier: ISC */
/* generate_certs.h -- the parts of generate_certs: make, journal, push */
#ifndef GENERATE_CERTS_H
#define GENERATE_CERTS_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "peers.h"

/*
 * A renewal runs in a run folder, var/tmp/certs/<epoch>/:
 *   new/       the new material, mirroring the final paths (0700)
 *   backup/    the files it replaces, mirroring the final paths (0700)
 *   MANIFEST   the relative paths to replace, in commit order
 *   STAGED     new/ is complete, fsynced and verified
 *   BACKED_UP  backup/ is complete
 *   COMMITTED  every MANIFEST path holds the new content
 *   DONE       pushed; new/ is removed
 *   ABANDONED  staging never finished; nothing was replaced
 *   ROLLED_BACK a failed commit was undone from backup/
 *   FAILED_PUSH the files that could not be pushed
 * The markers are written (and the folder fsynced) in this order; each
 * holds one line, the time it was written in seconds since the epoch.
 * Which markers exist is the journal a re-run reads.
 */
#define GC_NEW		"new"
#define GC_BACKUP	"backup"
#define GC_MANIFEST	"MANIFEST"
#define GC_STAGED	"STAGED"
#define GC_BACKED_UP	"BACKED_UP"
#define GC_COMMITTED	"COMMITTED"
#define GC_DONE		"DONE"
#define GC_ABANDONED	"ABANDONED"
#define GC_ROLLED_BACK	"ROLLED_BACK"
#define GC_FAILED_PUSH	"FAILED_PUSH"
#define GC_LOCK		".generate_certs.lock"

/* The three files of a push, in the vendor's order. */
#define GC_NFILES	3
extern const char *const gc_push_files[GC_NFILES];

struct gc_peer {
	struct peer	*p;		/* into gc.peers */
	int		 ha;		/* the other FMC of an HA pair */
	EVP_PKEY	*key;
	X509		*cert;
	unsigned long	 serial;
	int		 up;		/* tunnel up at STATUS time */
	int		 ok[GC_NFILES];	/* pushed and confirmed */
	char		 why[128];	/* why the push failed, for the log */
};

struct gc {
	/* options */
	int		 yes, dry, force, reuse;
	int		 jobs;		/* concurrent pushes */
	int		 threads;	/* key generation and signing */
	int		 push_timeout;	/* seconds per peer */

	time_t		 start;
	char		 uuid[PEER_UUID_LEN + 1];	/* this FMC */
	char		*rundir;	/* absolute run folder */
	long long	 epoch;		/* its name */
	int		 resumed;	/* completing an earlier run */

	struct peer	*peers;
	size_t		 nall;		/* peers loaded */
	size_t		 npeers;	/* peers renewed (gp) */
	struct gc_peer	*gp;		/* one per peer, same order */

	/* the new material */
	EVP_PKEY	*cakey;
	X509		*ca;
	EVP_PKEY	*ownkey;
	X509		*owncert;
	unsigned long	 next_serial;

	char	       **manifest;	/* relative paths, commit order */
	size_t		 nmanifest;
};

/* generate_certs.c */
void	gc_test_hook(const char *step);

/* generate_certs-make.c: build and verify the new material in new/. */
/*
 * Run fn(gc, i) for i in 0..n-1 over nthreads threads; stops handing out
 * work after the first failure.  -1 when any call failed.
 */
int	gc_par_run(struct gc *, size_t n, int nthreads,
	    int (*fn)(struct gc *, size_t));
int	gc_make(struct gc *);
int	gc_stage(struct gc *);
void	gc_material_free(struct gc *);

/* generate_certs-journal.c */
int	gc_lock(void);
int	gc_find_pending(struct gc *);
int	gc_rundir_new(struct gc *);
void	gc_manifest_build(struct gc *);
int	gc_manifest_write(const struct gc *);
int	gc_mark(const struct gc *, const char *marker);
int	gc_has(const struct gc *, const char *marker);
int	gc_backup(struct gc *);
int	gc_commit(struct gc *);
int	gc_abandon(const char *rundir);
int	gc_discard(struct gc *);
int	gc_finish(struct gc *);
void	gc_manifest_free(struct gc *);
char	*gc_run_path(const struct gc *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* generate_certs-push.c */
int	gc_push_all(struct gc *);
int	gc_report(struct gc *, int *nfailed);
int	gc_reload(void);
int	gc_status(struct gc *, int *daemon_up);

#endif
