/* SPDX-License-Identifier: ISC */
/* devcopy.h -- one device: log in, find out what it is, put its three files in place */
#ifndef SFCA_DEVCOPY_H
#define SFCA_DEVCOPY_H

#include <stddef.h>
#include <time.h>

#include "bundle.h"
#include "csv.h"
#include "rootsh.h"
#include "sshc.h"

struct devcheck;

/* A device's output block: SPEC 2.4 lines, "YYYY-MM-DD HH:MM:SS - text". */
struct blk {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

void	blk_add(struct blk *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	blk_release(struct blk *);

enum dev_state {
	DEV_PENDING,
	DEV_SKIPPED,	/* an FMC that is not the HA peer: done, nothing to do */
	DEV_COPIED,	/* files in place, sftunnel restarted: tunnel not seen yet */
	DEV_DONE,	/* copied and the tunnel seen up */
	DEV_FAILED,
	DEV_NOTSTARTED	/* held back (--canary, --halt-after): never touched */
};

struct dev_job {
	struct csv_row	*row;		/* its password is wiped by devcopy_run */
	const struct bundle *b;
	const struct sshc_opts *so;
	int		 step_ms;	/* each dialogue step */
	int		 drop_after;	/* test hook: -1, or files before a drop */
	const struct csv *csv;		/* every row, for bundle_vouch */
	int		 nat;		/* bundle_vouch's nat */
	/*
	 * gate(gate_arg, bounded) is called once the device answered (host
	 * key checked), before logging in, as rootsh_dev's gate; once it
	 * let the job through gated is set, and whoever runs the job
	 * releases the gate.  NULL: no gate.
	 */
	int		(*gate)(void *, int bounded);
	void		*gate_arg;
	int		 gated;
	/* results */
	enum dev_state	 state;
	char		 uuid[37];
	const struct bpeer *peer;
	time_t		 restarted;
	char		 reason[256];
	int		 unreachable;	/* could not connect at all */
	int		 canary;	/* worked as a canary (fleet_go) */
	struct blk	 out;
	struct devcheck	*chk;		/* --check: devcheck_run's facts */
};

/*
 * Work one device to the end (DEV_SKIPPED, DEV_COPIED or DEV_FAILED),
 * writing its block into job->out and the reason of a failure into
 * job->reason.  Nothing is printed.  The row's password is wiped once
 * the dialogue no longer needs it.  With b->public_only no key is sent:
 * the device's key file is read and, when it is the key of the
 * certificate the FMC renewed for it, cacert.pem and sftunnel-cert.pem
 * are put in place together; when it is another key, cacert.pem alone
 * (then the tunnel is restarted and the job fails, its reason naming
 * the mismatch); when it cannot be read, nothing.
 */
void	devcopy_run(struct dev_job *);

/*
 * The first steps of every visit to a device, the copy's and the
 * check's: "Attempting connection to NAME" in the job's block, the
 * job's gate, rootsh_login (see rootsh.h: *c and *step set as there),
 * then the row's password wiped.  rootsh_login's code.
 */
int	devjob_login(struct dev_job *, struct sshc **c,
	    enum rootsh_step *step);

/*
 * The commit that puts a device's staged files in place, all or none
 * (the SSH copy's and the console kit's: see kit.h): a sh script
 * (POSIX sh, GNU coreutils) for the folder qdest, a shell word
 * (rootsh_quote'd, or "\"$D\"" for a variable of the script it goes
 * in), and the files of list (names of peerf_names, space-separated).
 * It expects ".<name>.sfca-new" for each of them in that folder, keeps
 * "<name>.backup" of each file it changes, and says "SFCA_OK", or
 * "SFCA_ERR <why and the state it left>" and exits 3 to 8.  Allocated;
 * the caller frees it.
 */
char	*devcopy_commit_script(const char *qdest, const char *list);

/* How a device's sftunnel is restarted: "pmtool restartbyid sftunnel". */
extern const char devcopy_restart_script[];

/* "done", "skipped", ... */
const char *dev_state_name(enum dev_state);

#endif
