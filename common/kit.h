/* SPDX-License-Identifier: ISC */
/* kit.h -- console kits: one sh script per device that installs its files from a root shell */
#ifndef SFCA_KIT_H
#define SFCA_KIT_H

#include <stddef.h>
#include <time.h>

#include "bundle.h"
#include "csv.h"

/*
 * A console kit is for a device that neither the tunnel nor SSH
 * reaches: one self-contained POSIX sh script, pasted into the device's
 * root shell over a serial console (or saved and run with sh).  It
 * carries the peer's files of the bundle (chosen and checked there, as
 * for the SSH copy) as PEM text, a SHA-256 over them and the identities
 * it was made for.  Run, it checks the SHA-256, then that the device's
 * APPLIANCE_UUID (in $SFCA_ROOT/etc/sf/ims.conf, SFCA_ROOT unset on a
 * device) is the peer's, stages the files beside the real ones and puts
 * them in place with the SSH copy's commit (devcopy_commit_script: all
 * or none, .backup copies, key 0600), restarts sftunnel the same way,
 * and prints one line "sfca kit NAME: ...".  Exit status 0 installed and
 * restarted; 2 refused before anything changed (not root, damaged,
 * another device, not registered to that FMC, cannot stage); 1 failed
 * later, the line saying the state left.  The whole script is the body
 * of "sh <<'SFCA_KIT_END'" after "unset HISTFILE", so that pasted into
 * an interactive shell its exit ends the inner sh only and the key does
 * not go into the history file; it has no tab (a paste would complete)
 * and no '!' but before a blank (history expansion).  With
 * b->public_only (a renewal on the same keys) it carries cacert.pem and
 * sftunnel-cert.pem only, never a key, and refuses (2) unless openssl
 * says the key the device holds is the certificate's.
 */

/* Called with each line of the report, whole. */
typedef void (*kit_emit_fn)(const char *text, size_t len, void *arg);

/*
 * The kit for peer p of b, labelled label (a kit_name: shown by the
 * script), made at now: *out allocated, *len its length; the caller
 * frees it with freezero(*out, *len) (it holds the key).  -1 with why
 * set when p's files cannot go in a kit (p->err, or a file that is not
 * plain PEM text: printable ASCII lines without a quote or '!', ending
 * in a newline); nothing is reported.
 */
int	kit_script(const struct bundle *b, const struct bpeer *p,
	    const char *label, time_t now, char **out, size_t *len,
	    char *why, size_t whylen);

/*
 * A file name made of the device's name (raw bytes, untrusted): letters,
 * digits, '.', '_' and '-' kept, anything else '_', no leading '.' or
 * '-', at most 64 bytes; an empty one is "device".  Never a path.
 */
void	kit_name(const char *name, char *out, size_t outlen);

/*
 * Write one kit per device into the folder dir (the operator's path,
 * made absolute from the working folder): every component walked by
 * sdir (root's, writable by no one else unless sticky, no link), the
 * last one made 0700 when missing and then 0700 or 0755, root's, no
 * link.  With c, a kit for each row whose address is a peer of b's (a
 * row that is not is skipped with a line); with c NULL, for each peer
 * named by b's newest FAILED_PUSH.  Each kit is "<kit_name>.sh" (a name
 * met twice gets "-<uuid>" before ".sh"), written by sdir_write, mode
 * 0600, replacing a kit of that name.  emit gets one line per device:
 * the kit's path and size, or why there is none.  0 when every device
 * got its kit, 1 when one did not (its line says why), -1 when the
 * folder is refused or a write fails (reported: "dir: ...").
 */
int	kit_write_all(const char *dir, const struct csv *c,
	    const struct bundle *b, kit_emit_fn emit, void *arg);

#endif
