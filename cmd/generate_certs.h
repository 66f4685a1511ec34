/* SPDX-License-Identifier: ISC */
/* generate_certs.h -- the parts of generate_certs: make, journal, push */
#ifndef GENERATE_CERTS_H
#define GENERATE_CERTS_H

#include <sys/types.h>

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "peers.h"
#include "pki.h"
#include "progress.h"
#include "root.h"

/*
 * A renewal runs in a run folder, var/sf/sfca/runs/<epoch>/, every
 * component of it root's and no one else's (sdir.h), as the lock
 * var/sf/sfca/runs/.generate_certs.lock:
 *   new/       the new material, mirroring the final paths (0700)
 *   backup/    the files it replaces, mirroring the final paths (0700)
 *   EXTEND     a renewal on the same keys (--extend): no key is replaced
 *   MANIFEST   the relative paths to replace, in commit order
 *   STAGED     new/ is complete, fsynced and verified
 *   BACKED_UP  backup/ is complete
 *   COMMITTED  every MANIFEST path holds the new content
 *   DONE       pushed; new/ is removed
 *   ABANDONED  staging never finished; nothing was replaced
 *   ROLLED_BACK a failed commit was undone (STAGED renamed, so that it
 *              needs no room on a full disk: it holds STAGED's time)
 * FAILED_PUSH, the files that could not be pushed, is the exception: it
 * is var/tmp/certs/<epoch>/FAILED_PUSH, where the vendor's procedure
 * names it, written only into folders that pass sdir's check.
 * The markers are written (and the folder fsynced) in this order; each
 * holds one line, the time it was written in seconds since the epoch.
 * Which markers exist is the journal a re-run reads.
 */
#define GC_NEW		"new"
#define GC_BACKUP	"backup"
#define GC_MANIFEST	"MANIFEST"
#define GC_EXTEND	"EXTEND"
#define GC_STAGED	"STAGED"
#define GC_BACKED_UP	"BACKED_UP"
#define GC_COMMITTED	"COMMITTED"
#define GC_DONE		"DONE"
#define GC_ABANDONED	"ABANDONED"
#define GC_ROLLED_BACK	"ROLLED_BACK"
#define GC_FAILED_PUSH	"FAILED_PUSH"
#define GC_LOCK		".generate_certs.lock"

/* --extend: whether a peer's key is seen to be the one of its certificate. */
enum gc_key { GC_KEY_DOWN, GC_KEY_MATCH, GC_KEY_MISMATCH, GC_KEY_UNSEEN };

/*
 * One sftunnel identity the renewal reissues.  gc.id[GC_SELF] is this
 * FMC's own (etc/sf/keys/); the peers' follow, one per peer folder.
 */
#define GC_SELF		0
struct gc_id {
	struct peer	*p;		/* into gc.peers; NULL for this FMC */
	const char	*uuid;		/* the certificate's CN */
	char		 dir[64];	/* its cert and key, from the root */
	int		 ha;		/* the other FMC of an HA pair */
	EVP_PKEY	*key;
	X509		*cert;
	unsigned long	 serial;
	/* --extend, peers: certs_pushed/'s key and its certificate */
	EVP_PKEY	*pushed_key;
	X509		*pushed;	/* == cert when the key is the same */
	/* peers only: the push */
	int		 up;		/* tunnel up at STATUS time */
	/* the certificate its session shows, as STATUS tells it */
	char		 session_cn[64];
	char		 session_issuer[64];
	char		 session_key[65];
	enum gc_key	 keyst;		/* --extend: set by the push */
	int		 ok[PEERF_NFILES]; /* pushed and confirmed, by PEERF_I_* */
	char		 why[128];	/* why the push failed, for the log */
};

/* A run folder and its manifest. */
struct journal {
	char		*dir;		/* absolute run folder */
	long long	 epoch;		/* its name */
	int		 resumed;	/* an earlier run's, being completed */
	int		 flat;		/* new/ holds files by flat names */
	char	       **manifest;	/* paths from the root, commit order */
	size_t		 nmanifest;
};

struct gc {
	/* options */
	int		 yes, dry, force, reuse;
	int		 jobs;		/* concurrent pushes */
	int		 threads;	/* key generation and signing */
	int		 push_timeout;	/* seconds per peer */
	long		 backdate;	/* notBefore is start - backdate */
	int		 extend;	/* renew on the same keys */
	int		 days;		/* --extend: notAfter is start + days */
	int		 keep_runs;	/* run folders kept, this one included */

	time_t		 start;
	char		 uuid[PEER_UUID_LEN + 1];	/* this FMC */
	struct journal	 journal;

	struct peer	*peers;
	size_t		 npeers;	/* peers loaded */
	struct gc_id	*id;		/* GC_SELF, then the peers renewed */
	size_t		 nid;

	/* the progress line on a terminal: counts under p_mu */
	struct progress	 prog;
	pthread_mutex_t	 p_mu;
	size_t		 p_keys, p_signed, p_pushed, p_push;

	/* the new CA */
	EVP_PKEY	*cakey;		/* --extend: the current CA's key */
	X509		*ca;
	X509		*oldca;		/* --extend: the CA it renews */
	struct pki_keyrd **keyrd;	/* --extend: a key reader per thread */
	unsigned long	 next_serial;	/* the CA's; id[i] gets +1+i */
};

/*
 * Every function below reports its failure once (log_warn*) and returns
 * -1 (or as said); none exits.  gc and what it points to are the
 * caller's; material a function makes is owned by gc until
 * gc_material_free.
 */

/* generate_certs.c */
/* What the progress line counts. */
enum gc_step { GC_STEP_SHOW, GC_STEP_KEY, GC_STEP_SIGNED, GC_STEP_PUSHED };
/*
 * One more of step (GC_STEP_SHOW: none, the line again): the progress
 * line of progress.h, keys made, certificates signed, pushes
 * acknowledged, only counts.  Thread-safe; nothing without a terminal.
 */
void	gc_progress(struct gc *, enum gc_step);
/* SFCA_TEST_KILL_AT=step: SIGKILL here, as a power cut would (only in
 * the tests' build, SFCA_TEST_HOOKS; a no-op in what ships). */
void	gc_test_hook(const char *step);

/* generate_certs-make.c: build and verify the new material in new/. */
/*
 * Run fn(arg, i) for i in 0..n-1 over nthreads threads; stops handing
 * out work after the first failure.  -1 when any call failed (fn has
 * reported it).
 */
int	gc_par_run(void *arg, size_t n, int nthreads,
	    int (*fn)(void *, size_t));
/* In fn: which of gc_par_run's threads runs it, 0 to nthreads-1. */
int	gc_par_slot(void);
/*
 * The journal's manifest for gc.id: every peer's certs_pushed/ and folder
 * key and certificate, this FMC's, the CA database, the CA key and last
 * the CA certificate; with --extend the same but the keys.
 */
void	gc_manifest_build(struct gc *);
/*
 * New CA key and certificate, and a key per gc.id (kept ones on -k), in
 * memory, owned by gc.  0, or -1 reported.
 */
int	gc_make(struct gc *);
/*
 * Issue every gc.id's certificate and write it, its key and the CA's
 * files into the journal's new/, each read back and verified; one
 * syncfs at the end.  0, or -1 reported (new/ is then not to be used).
 */
int	gc_stage(struct gc *);
/* Free the keys and certificates of gc and its ids; again is harmless. */
void	gc_material_free(struct gc *);
/* The CA's serial counter (etc/sf/ca_root/serial), 1 when unreadable. */
unsigned long gc_old_serial(void);
/*
 * Write len bytes of pem as new/<rel> in the journal, mode mode, without
 * an fsync (gc_stage syncs once).  0, or -1 reported.
 */
int	gc_put_pem(struct gc *, const char *rel, const char *pem, size_t len,
	    mode_t mode);
/*
 * 0 when the certificate c, read back from path, chains to gc.ca at
 * gc.start and names uuid; else -1 with one message naming path, where
 * ca_word ("new", "renewed") names the CA.
 */
int	gc_check_issued(struct gc *, const char *path, X509 *c,
	    const char *uuid, const char *ca_word);
/*
 * A resumed run, before it commits anything: the staged CA certificate
 * and its key (staged, or the live one with --extend) are a pair, and
 * becomes gc.ca; every certificate of the manifest is staged, has its key
 * (staged, or live next to it) as its private half, chains to gc.ca at
 * gc.start and names its holder (the peer folder's UUID, this FMC's).
 * 0, or -1 reported.
 */
int	gc_verify_resumed(struct gc *);
/*
 * Write to f an index.txt line ("V ...", as openssl ca) per certificate
 * of gc.id.  0, or -1 reported.
 */
int	gc_index_lines(const struct gc *, FILE *);

/* generate_certs-extend.c: the same keys (--extend). */
/*
 * Load the current CA and its key into gc.oldca and gc.cakey.  0 when
 * the CA can be renewed on that key; else -1 with one line saying why
 * and that the default mode is the way out.
 */
int	gc_extend_check(struct gc *);
/*
 * Renew the CA on its key and reissue every gc.id's certificate on the
 * key next to it (and certs_pushed/'s on its key), in memory, owned by
 * gc.  0, or -1 reported.
 */
int	gc_extend_make(struct gc *);
/*
 * Write gc_extend_make's certificates and the CA database into new/,
 * each read back and verified, then one syncfs.  0, or -1 reported.
 */
int	gc_extend_stage(struct gc *);

/* generate_certs-journal.c: the run folder, its markers and the commit. */
/*
 * Take var/sf/sfca/runs/.generate_certs.lock, held until the process
 * ends; -1 with a message when another run holds it.
 */
int	journal_lock(void);
/*
 * var/tmp/certs and, when epoch is not -1, var/tmp/certs/<epoch>: when
 * either exists it must be root's, mode 0700 or 0755, no link; else -1
 * with one message naming it and its owner.
 */
int	journal_check_report_dir(long long epoch);
/*
 * Write var/tmp/certs/<j's epoch>/FAILED_PUSH (len bytes of buf), the
 * folders made 0755 and checked as above; len 0 removes a stale one.
 */
int	journal_report(const struct journal *j, const char *buf, size_t len);
/*
 * Open j on the newest run folder to complete (STAGED but not DONE,
 * ABANDONED or ROLLED_BACK), its manifest read: 1.  0 when there is none.
 * A folder whose staging never finished replaced nothing: unless dry,
 * its new/ is removed and it is marked ABANDONED.  -1 with a message.
 */
int	journal_find_pending(struct journal *j, int dry);
/*
 * Make a new run folder (0700) named after start, or the next free
 * second, and set j on it (journal_release frees).  0, or -1 reported.
 */
int	journal_create(struct journal *j, time_t start);
/* "<run folder>/<fmt...>", allocated; the caller frees. */
char	*journal_path(const struct journal *j, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append rel (a path from the root; taken over) to the manifest. */
void	journal_manifest_add(struct journal *j, char *rel);
/* Write MANIFEST atomically, one path a line.  0, or -1 reported. */
int	journal_manifest_write(const struct journal *j);
/* Write marker durably and log it; -1 with a message. */
int	journal_mark(const struct journal *j, const char *marker);
/*
 * Where the run stages the file rel (a path from the root): new/<rel>,
 * or with j->flat (a renewal on the same keys) new/<rel with each '/'
 * made '%'>, one folder for them all.  Allocated.
 */
char	*journal_staged(const struct journal *j, const char *rel);
/* 1 when marker exists in the run folder, else 0. */
int	journal_has(const struct journal *j, const char *marker);
/*
 * Copy every manifest path that exists into backup/ and mark BACKED_UP;
 * nothing when already BACKED_UP, so a re-run never backs up half-new
 * files over the originals.  0, or -1 reported.
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
 * ABANDONED.  0, or -1 reported.
 */
int	journal_discard(const struct journal *j);
/*
 * Remove the temporaries a killed run left (".<name>.XXXXXX"): in every
 * folder of j's manifest, live and in new/ and backup/, in the run folder
 * and in its FAILED_PUSH folder.  Nothing is returned: what cannot be
 * removed is reported.
 */
void	journal_sweep(const struct journal *j);
/*
 * Mark DONE and remove new/: the tree and backup/ hold what is needed.
 * 0, or -1 reported.
 */
int	journal_finish(const struct journal *j);
/*
 * Remove the run folders (and their backups) but the newest keep, each
 * with no link followed; one that is STAGED but neither DONE nor
 * ABANDONED stays.  -1 when one could not be removed (said).
 */
int	journal_prune(int keep);
/* Free j's folder name and manifest; j can be used again. */
void	journal_release(struct journal *j);

/* generate_certs-push.c: through sftunneld, and the vendor's report. */
/*
 * Fill gc.id[].up and session_* from sftunneld's STATUS (cleared first);
 * *daemon_up 0 when it is not running, which is not an error.  0, or -1
 * when STATUS fails (reported).
 */
int	gc_status(struct gc *, int *daemon_up);
/*
 * Ask sftunneld to reload its files; no daemon is not an error.  0, or -1
 * reported.
 */
int	gc_reload(void);
/*
 * Push cacert.pem, sftunnel-key.pem, sftunnel-cert.pem to every peer that
 * is up, gc.jobs at a time, each with its own timeout; gc.id[].ok says
 * what arrived.  With --extend: cacert.pem and sftunnel-cert.pem, the
 * latter only when gc_key_state says it is on the peer's key
 * (gc.id[].keyst).  -1 only when the new CA cannot be read.
 */
int	gc_push_all(struct gc *);
/*
 * --extend: is cert (PEM) on the key peer id holds?  Seen in the
 * certificate its live session presents, when that names the peer and was
 * issued by this FMC; GC_KEY_UNSEEN when it does not, GC_KEY_DOWN when the
 * peer is down.  Nothing is reported.
 */
enum gc_key gc_key_state(const struct gc *, const struct gc_id *,
	    const char *cert, size_t len);
/*
 * Print "Failed to push ..." per file not pushed (--extend: and a "Key
 * mismatch" or "Key not seen" line per peer that got cacert.pem only) and
 * write FAILED_PUSH into the run folder (removed when nothing failed);
 * *nfailed counts.  0, or -1 when FAILED_PUSH cannot be written (reported).
 */
int	gc_report(struct gc *, int *nfailed);

#endif
