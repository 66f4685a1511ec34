// SPDX-License-Identifier: ISC
/* kit.c -- console kits: one sh script per device that installs its files from a root shell */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "devcopy.h"
#include "esc.h"
#include "kit.h"
#include "log.h"
#include "pki.h"
#include "root.h"
#include "sdir.h"
#include "xmalloc.h"
#include "banned.h"

#define KIT_END		"SFCA_KIT_END"
#define KIT_NAME_MAX	64
#define KIT_LINE_MAX	200	/* a line of a file carried, as a tty takes it */

/* The shell variable that carries file k (peerf_names order). */
static const char *const kit_var[PEERF_NFILES] = { "C", "K", "T" };

/* A growing text that may hold a key: grown and freed wiped. */
struct kbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void
kb_add(struct kbuf *b, const char *s, size_t n)
{
	size_t cap;

	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2;
		b->s = xrecallocarray(b->s, b->cap, cap, 1);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void __attribute__((format(printf, 2, 3)))
kb_printf(struct kbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		log_warnx("out of memory");
		exit(1);
	}
	kb_add(b, s, (size_t)n);
	free(s);
}

static void
kb_release(struct kbuf *b)
{
	if (b->s != NULL)
		freezero(b->s, b->cap);
	memset(b, 0, sizeof(*b));
}

/*
 * Whether a file can travel as the text of a single-quoted sh word in a
 * here-document pasted into a shell: printable ASCII lines, none too
 * long or the here-document's end, no quote, no '!' (history
 * expansion), ending in a newline.
 */
static int
plain_text(const char *s, size_t len)
{
	size_t i, col = 0;
	const char *line = s;

	if (len == 0 || s[len - 1] != '\n')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '\n') {
			if ((size_t)(s + i - line) == sizeof(KIT_END) - 1 &&
			    memcmp(line, KIT_END, sizeof(KIT_END) - 1) == 0)
				return 0;
			line = s + i + 1;
			col = 0;
			continue;
		}
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '\'' || s[i] == '!' ||
		    ++col > KIT_LINE_MAX)
			return 0;
	}
	return 1;
}

void
kit_name(const char *name, char *out, size_t outlen)
{
	size_t i, n = 0;
	char c;

	for (i = 0; name[i] != '\0' && n < KIT_NAME_MAX && n + 1 < outlen;
	    i++) {
		c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-') || (n == 0 && (c == '.' || c == '-')))
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
	if (n == 0)
		strlcpy(out, "device", outlen);
}

/* A uuid in lowercase, as the script compares it. */
static void
lower(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++)
		dst[i] = src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i];
	dst[i] = '\0';
}

int
kit_script(const struct bundle *b, const struct bpeer *p, const char *label,
    time_t now, char **out, size_t *len, char *why, size_t whylen)
{
	struct kbuf pay, k;
	char u[40], f[40], hex[65], when[32], fmc[KIT_NAME_MAX + 1];
	char raw[256], *commit, *restart;
	char list[128] = "";
	const char *role;
	struct tm tm;
	size_t i, rl, n = 0;
	int idx[PEERF_NFILES], rc = -1;

	*out = NULL;
	*len = 0;
	memset(&pay, 0, sizeof(pay));
	memset(&k, 0, sizeof(k));
	if (p->err[0] != '\0') {
		snprintf(why, whylen, "%s", p->err);
		return -1;
	}
	/*
	 * The files it carries, in peerf_names order: after a renewal on
	 * the same keys only the public ones, as the SSH copy sends them
	 */
	for (i = 0; i < PEERF_NFILES; i++)
		if (!b->public_only || i != PEERF_I_KEY)
			idx[n++] = (int)i;
	for (i = 0; i < n; i++) {
		const struct bfile *bf = p->f[idx[i]];

		if (bf == NULL || !plain_text(bf->data, bf->len)) {
			snprintf(why, whylen, "/%s: not plain PEM text",
			    bf == NULL ? peerf_names[idx[i]] : bf->path);
			return -1;
		}
		if (i > 0)
			strlcat(list, " ", sizeof(list));
		strlcat(list, peerf_names[idx[i]], sizeof(list));
	}
	lower(u, p->uuid, sizeof(u));
	lower(f, b->fmc_uuid, sizeof(f));
	role = strcmp(p->role, "fmc-ha") == 0 ? "fmc-ha" : "ftd";
	/* the FMC's name goes in a comment: as safe as the label */
	if (esc_unvis(raw, sizeof(raw), b->fmc_name) == -1)
		strlcpy(raw, b->fmc_name, sizeof(raw));
	kit_name(raw, fmc, sizeof(fmc));
	/* what the script hashes: printf '%s\n' "$U" "$F" "$H" "$C" ... */
	kb_printf(&pay, "%s\n%s\n%s\n", u, f, role);
	for (i = 0; i < n; i++)
		kb_add(&pay, p->f[idx[i]]->data, p->f[idx[i]]->len);
	if (pki_sha256_hex(pay.s, pay.len, hex) == -1) {
		snprintf(why, whylen, "cannot compute a SHA-256");
		goto out;
	}
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		strlcpy(when, "?", sizeof(when));

	kb_printf(&k, "unset HISTFILE; sh <<'" KIT_END "'\n"
	    "# sfca console kit for %s (%s),\n"
	    "# from FMC %s (%s), made %s.\n"
	    "# As root in the device's expert shell (expert, then sudo su):\n"
	    "# paste it whole, or save it and run: sh FILE.  It checks its\n"
	    "# SHA-256 and the device's APPLIANCE_UUID, puts the files in\n"
	    "# /var/sf/peers/%s%s all or none (.backup\n"
	    "# copies), restarts sftunnel and prints one line.\n"
	    "# Files: %s%s.\n",
	    label, u, fmc, f, when, f,
	    strcmp(role, "fmc-ha") == 0 ? "/from_peer" : "", list,
	    b->public_only ? " (a renewal on the same keys: no key,\n"
	    "# and only onto the key its certificate is for, as openssl "
	    "checks)" : "");
	kb_printf(&k, "N=%s U=%s F=%s H=%s\nS=%s\n", label, u, f, role, hex);
	for (i = 0; i < n; i++) {
		kb_printf(&k, "%s='", kit_var[idx[i]]);
		kb_add(&k, p->f[idx[i]]->data, p->f[idx[i]]->len - 1);
		kb_add(&k, "'\n", 2);
	}
	kb_printf(&k, "{\n"
	    "say() { echo \"sfca kit $N: $*\"; }\n"
	    "no() { say \"refused: $*; nothing changed\"; exit 2; }\n"
	    "R=${SFCA_ROOT:-}; R=${R%%/}\n"
	    "[ \"$(id -u)\" = 0 ] || no \"not root (expert, then sudo su)\"\n"
	    "x=$(printf '%%s\\n' \"$U\" \"$F\" \"$H\"");
	for (i = 0; i < n; i++)
		kb_printf(&k, " \"$%s\"", kit_var[idx[i]]);
	kb_printf(&k, " | sha256sum) || no \"sha256sum failed\"\n"
	    "[ \"${x%%%% *}\" = \"$S\" ] || no \"damaged: its SHA-256 is not "
	    "the one it was made with\"\n"
	    "I=$R/etc/sf/ims.conf\n"
	    "u=$(sed -n 's/^[[:space:]]*APPLIANCE_UUID[[:space:]]*=[[:space:]]*"
	    "//p' \"$I\" 2>/dev/null | head -n 1 | sed 's/[[:space:]]*$//' | "
	    "tr A-F a-f)\n"
	    "[ -n \"$u\" ] || no \"no APPLIANCE_UUID in $I\"\n"
	    "printf '%%s\\n' \"$u\" | grep -Eqx "
	    "'[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}' ||\n"
	    "  no \"$I: malformed APPLIANCE_UUID\"\n"
	    "[ \"$u\" = \"$U\" ] || no \"this device is $u, the kit is for $N "
	    "($U)\"\n"
	    "D=$R/var/sf/peers/$F\n"
	    "[ \"$H\" = fmc-ha ] && D=$D/from_peer\n"
	    "[ -d \"$D\" ] || no \"$D: no such folder (not registered to FMC "
	    "$F)\"\n"
	    "%s"
	    "w() { t=$D/.$1.sfca-new; rm -f -- \"$t\" && printf '%%s\\n' \"$3\" |"
	    "\n  (umask 077; dd of=\"$t\" conv=excl,fsync oflag=nofollow "
	    "status=none) 2>/dev/null &&\n"
	    "  chown 0:0 -- \"$t\" && chmod \"$2\" -- \"$t\"; }\n",
	    b->public_only ?
	    /* no key goes: the certificate must be for the device's own */
	    "k=$D/" PEERF_KEY "\n"
	    "[ -f \"$k\" ] && [ ! -L \"$k\" ] || no \"$k: no such regular "
	    "file\"\n"
	    "command -v openssl >/dev/null 2>&1 ||\n"
	    "  no \"no openssl here to check $k against its certificate\"\n"
	    "a=$(openssl pkey -in \"$k\" -pubout 2>/dev/null) || no \"$k: not "
	    "a readable private key\"\n"
	    "c=$(printf '%s\\n' \"$T\" | openssl x509 -noout -pubkey "
	    "2>/dev/null) || no \"openssl cannot read its certificate\"\n"
	    "[ \"$a\" = \"$c\" ] || no \"$k is another key than the one of "
	    "its renewed certificate\"\n" : "");
	for (i = 0; i < n; i++)
		kb_printf(&k, "%sw %s %o \"$%s\"", i == 0 ? "" : " &&\n  ",
		    peerf_names[idx[i]], (unsigned)peerf_modes[idx[i]],
		    kit_var[idx[i]]);
	kb_printf(&k, " || {\n  for n in %s; do rm -f -- "
	    "\"$D/.$n.sfca-new\"; done\n"
	    "  no \"cannot write in $D\"; }\n", list);
	/* the SSH copy's commit, as it is: all or none, .backup copies */
	commit = devcopy_commit_script("\"$D\"", list);
	kb_printf(&k, "o=$( (\n%s) 2>&1)\n"
	    "case $o in\n"
	    "*SFCA_OK*) ;;\n"
	    "*) say \"failed: $(printf '%%s\\n' \"$o\" | sed -n 's/^SFCA_ERR //p'"
	    " | head -n 1)\"; exit 1 ;;\n"
	    "esac\n", commit);
	free(commit);
	/* and its restart */
	restart = xstrdup(devcopy_restart_script);
	rl = strlen(restart);
	if (rl > 0 && restart[rl - 1] == '\n')
		restart[rl - 1] = '\0';
	kb_printf(&k, "o=$(%s) || { say \"installed in $D, but the restart "
	    "failed: $(printf '%%s\\n' \"$o\" | tail -n 1)\"; exit 1; }\n"
	    "say \"installed in $D, sftunnel restarted\"\n"
	    "} </dev/null\n"
	    KIT_END "\n", restart);
	free(restart);
	if (memchr(k.s, '\t', k.len) != NULL) {
		/* a paste would complete: the text above must not have one */
		snprintf(why, whylen, "internal error: a tab in the kit");
		goto out;
	}
	*out = k.s;
	*len = k.len;
	memset(&k, 0, sizeof(k));	/* transferred */
	rc = 0;
 out:
	kb_release(&pay);
	kb_release(&k);
	return rc;
}

/*
 * Open the kit folder: its parent walked by sdir from "/", the folder
 * itself made 0700 when missing and then checked exactly.  *apath gets
 * its absolute path (allocated).
 */
static int
kit_dir_open(const char *dir, char **apath)
{
	char cwd[PATH_MAX], *abs, *slash, *parent;
	int rfd, pfd, fd;
	size_t n;

	*apath = NULL;
	if (dir[0] == '/')
		abs = xstrdup(dir);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			log_warn("getcwd");
			return -1;
		}
		abs = xasprintf("%s/%s", cwd, dir);
	}
	while ((n = strlen(abs)) > 1 && abs[n - 1] == '/')
		abs[n - 1] = '\0';
	if (strcmp(abs, "/") == 0) {
		log_warnx("/: not a folder for kits");
		free(abs);
		return -1;
	}
	slash = strrchr(abs, '/');
	parent = slash == abs ? xstrdup("/") :
	    xasprintf("%.*s", (int)(slash - abs), abs);
	if ((rfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("/");
		free(parent);
		free(abs);
		return -1;
	}
	pfd = sdir_openat(rfd, "/", parent + 1, 0, 0);
	close(rfd);
	if (pfd == -1) {
		if (errno == ENOENT)
			log_warnx("%s: no such folder", parent);
		free(parent);
		free(abs);
		return -1;
	}
	fd = sdir_openat(pfd, parent, slash + 1, SDIR_CREATE | SDIR_EXACT,
	    0700);
	if (fd == -1 && errno == ENOENT)
		log_warnx("%s: no such folder", abs);
	close(pfd);
	free(parent);
	if (fd == -1) {
		free(abs);
		return -1;
	}
	*apath = abs;
	return fd;
}

static void __attribute__((format(printf, 3, 4)))
say(kit_emit_fn emit, void *arg, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		log_warnx("out of memory");
		exit(1);
	}
	emit(s, (size_t)n, arg);
	free(s);
}

/* Whether name was given to an earlier kit of this run. */
static int
taken(char (*names)[KIT_NAME_MAX + 48], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(names[i], name) == 0)
			return 1;
	return 0;
}

/*
 * One kit: p's, named after vname (vis-encoded), shown as who.  0
 * written, 1 not (said why), -1 a write failed (reported).
 */
static int
one(int dfd, const char *dpath, const struct bundle *b,
    const struct bpeer *p, const char *vname, const char *who,
    char (*names)[KIT_NAME_MAX + 48], size_t *nnames, kit_emit_fn emit,
    void *arg)
{
	char raw[256], base[KIT_NAME_MAX + 1], file[KIT_NAME_MAX + 48];
	char why[300];
	char *s = NULL;
	size_t len = 0;
	int rc;

	if (esc_unvis(raw, sizeof(raw), vname) == -1)
		strlcpy(raw, vname, sizeof(raw));
	kit_name(raw, base, sizeof(base));
	snprintf(file, sizeof(file), "%s.sh", base);
	if (taken(names, *nnames, file))
		snprintf(file, sizeof(file), "%s-%s.sh", base, p->uuid);
	if (kit_script(b, p, base, time(NULL), &s, &len, why,
	    sizeof(why)) == -1) {
		say(emit, arg, "%s: no kit: %s\n", who, why);
		return 1;
	}
	rc = sdir_write(dfd, dpath, file, s, len, 0600);
	freezero(s, len);
	if (rc == -1)
		return -1;
	strlcpy(names[(*nnames)++], file, sizeof(names[0]));
	say(emit, arg, "%s: %s/%s, %zu bytes\n", who, dpath, file, len);
	return 0;
}

int
kit_write_all(const char *dir, const struct csv *c, const struct bundle *b,
    kit_emit_fn emit, void *arg)
{
	char (*names)[KIT_NAME_MAX + 48] = NULL;
	char who[400];
	const struct bpeer *p;
	char *dpath = NULL;
	size_t i, k, n, nnames = 0;
	int dfd, r, rc = -1, missed = 0, named = 0;

	if (c == NULL && b->failed_push[0] == '\0') {
		log_warnx("no FAILED_PUSH on this FMC: name the devices in a "
		    "devices.csv");
		return -1;
	}
	if ((dfd = kit_dir_open(dir, &dpath)) == -1)
		return -1;
	n = c != NULL ? c->n : b->n;
	names = xcalloc(n == 0 ? 1 : n, sizeof(*names));
	for (i = 0; i < n; i++) {
		if (c != NULL) {
			const struct csv_row *row = &c->rows[i];

			for (p = NULL, k = 0; k < b->n; k++)
				if (strcmp(b->p[k].ip, row->addr) == 0) {
					p = &b->p[k];
					break;
				}
			if (p == NULL) {
				say(emit, arg, "%s (%s): not a peer of this "
				    "FMC by address: no kit\n", row->name,
				    row->addr);
				continue;
			}
			snprintf(who, sizeof(who), "%s (%s, %s)", row->name,
			    row->addr, p->uuid);
			r = one(dfd, dpath, b, p, row->name, who, names,
			    &nnames, emit, arg);
		} else {
			p = &b->p[i];
			if (!p->in_failed)
				continue;
			named++;
			snprintf(who, sizeof(who), "%s (%s, %s)", p->name,
			    p->ip, p->uuid);
			r = one(dfd, dpath, b, p, p->name, who, names, &nnames,
			    emit, arg);
		}
		if (r == -1)
			goto out;
		missed |= r;
	}
	if (c == NULL && named == 0) {
		say(emit, arg, "%s names no peer of this FMC: no kit\n",
		    b->failed_push);
		missed = 1;
	}
	rc = missed;
 out:
	free(names);
	free(dpath);
	close(dfd);
	return rc;
}
