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

/* A run folder and its manifest. */
struct journal {
	char		*dir;		/* absolute run folder */
	long long	 epoch;		/* its name */
	int		 resumed;	/* an earlier run's, being completed */
	char	       **manifest;	/* paths from the root, commit order */
	size_t		 nmanifest;
};

struct gc {
	/* options */
	int		 yes, dry, force, reuse;
	int		 jobs;		/* concurrent pushes */
	int		 threads;	/* key generation and signing */
	int		 push_timeout;	/* seconds per peer */

	time_t		 start;
	char		 uuid[PEER_UUID_LEN + 1];	/* this FMC */
	struct journal	 journal;

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
};

/* generate_certs.c */
void	gc_test_hook(const char *step);

/* generate_certs-make.c: build and verify the new material in new/. */
/*
 * Run fn(arg, i) for i in 0..n-1 over nthreads threads; stops handing
 * out work after the first failure.  -1 when any call failed (fn has
 * reported it).
 */
int	gc_par_run(void *arg, size_t n, int nthreads,
	    int (*fn)(void *, size_t));
void	gc_manifest_build(struct gc *);
int	gc_make(struct gc *);
int	gc_stage(struct gc *);
void	gc_material_free(struct gc *);

/* generate_certs-journal.c: the run folder, its markers and the commit. */
/*
 * Take var/tmp/certs/.generate_certs.lock, held until the process ends;
 * -1 with a message when another run holds it.
 */
int	journal_lock(void);
/*
 * Open j on the newest run folder to complete (STAGED but not DONE,
 * ABANDONED or ROLLED_BACK), its manifest read: 1.  0 when there is none.
 * A folder whose staging never finished replaced nothing: unless dry,
 * its new/ is removed and it is marked ABANDONED.  -1 with a message.
 */
int	journal_find_pending(struct journal *j, int dry);
/* Make a new run folder (0700) named after start, or the next free second. */
int	journal_create(struct journal *j, time_t start);
/* "<run folder>/<fmt...>", allocated; the caller frees. */
char	*journal_path(const struct journal *j, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append rel (a path from the root; taken over) to the manifest. */
void	journal_manifest_add(struct journal *j, char *rel);
/* Write MANIFEST, one path a line. */
int	journal_manifest_write(const struct journal *j);
/* Write marker (logged); 1/0 whether it exists. */
int	journal_mark(const struct journal *j, const char *marker);
int	journal_has(const struct journal *j, const char *marker);
/*
 * Copy every manifest path that exists into backup/ and mark BACKED_UP;
 * nothing when already BACKED_UP, so a re-run never backs up half-new
 * files over the originals.
 */
int	journal_backup(const struct journal *j);
/*
 * Replace every manifest path with its copy in new/ and mark COMMITTED;
 * nothing when already COMMITTED.  On a failure the replaced files are
 * put back from backup/ and the folder marked ROLLED_BACK.  -1 on failure.
 */
int	journal_commit(const struct journal *j);
/*
 * Remove the run folder of a run whose staging failed: nothing was
 * replaced.  When it cannot be removed, its new/ goes and it is marked
 * ABANDONED.
 */
int	journal_discard(const struct journal *j);
/* Mark DONE and remove new/: the tree and backup/ hold what is needed. */
int	journal_finish(const struct journal *j);
/* Free j's folder name and manifest; j can be used again. */
void	journal_release(struct journal *j);

/* generate_certs-push.c */
int	gc_push_all(struct gc *);
int	gc_report(struct gc *, int *nfailed);
int	gc_reload(void);
int	gc_status(struct gc *, int *daemon_up);

#endif
