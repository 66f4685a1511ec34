// SPDX-License-Identifier: ISC
/* bundle.c -- what an FMC issued for its peers: each peer's files chosen and checked */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "conf.h"
#include "esc.h"
#include "log.h"
#include "peers.h"
#include "pki.h"
#include "root.h"
#include "sdir.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

#define FAILED_PUSH	"FAILED_PUSH"
/* generate_certs' run markers (cmd/generate_certs.h) that bundle_build reads */
#define RUN_STAGED	"STAGED"
#define RUN_ABANDONED	"ABANDONED"
#define RUN_EXTEND	"EXTEND"
#define RUN_MARK_CAP	4096	/* a marker holds one line, a time */

/*
 * src (decoded, absolute) with every run of slashes made one, into out;
 * -1 when it is not absolute or does not fit.
 */
static int
squeeze(const char *src, char *out, size_t outlen)
{
	size_t n = 0;

	if (src[0] != '/')
		return -1;
	for (; *src != '\0'; src++) {
		if (*src == '/' && n > 0 && out[n - 1] == '/')
			continue;
		if (n + 1 >= outlen)
			return -1;
		out[n++] = *src;
	}
	out[n] = '\0';
	return 0;
}

/*
 * Whether src (squeezed, absolute) is one of the places peer p's file k
 * may come from: the FMC's CA for cacert.pem, else the file of that name
 * in p's own folder or its certs_pushed/.
 */
static int
own_source(const struct bpeer *p, int k, const char *src)
{
	char *a, *b;
	int ok;

	if (k == PEERF_I_CACERT)
		return strcmp(src, "/" RP_CA_CERT) == 0;
	a = xasprintf("/%s/%s/%s/%s", RP_PEERS, p->folder, PEERF_PUSHED,
	    peerf_names[k]);
	b = xasprintf("/%s/%s/%s", RP_PEERS, p->folder, peerf_names[k]);
	ok = strcmp(src, a) == 0 || strcmp(src, b) == 0;
	free(a);
	free(b);
	return ok;
}

/*
 * A FAILED_PUSH field as it may be shown: as written when it is all
 * graphic ASCII (an encoding, as the writer leaves it), else encoded
 * again, so that raw bytes planted in the file (an escape sequence, say)
 * never reach the terminal.
 */
static const char *
shown(char *buf, size_t len, const char *fld)
{
	const char *c;

	for (c = fld; *c != '\0'; c++)
		if (*c < 0x21 || *c > 0x7e)
			return esc_vis(buf, len, fld);
	return fld;
}

/*
 * Read FAILED_PUSH (SPEC 2.3: "PEER_UUID PEER_NAME PEER_IP SOURCE DEST",
 * fields vis-encoded, see esc.h) and take, for each file it names for a
 * peer of the bundle, the source it names.  The name and address are
 * not used (a name with a space of an older writer spans two fields):
 * the uuid is the first field, source and destination the last two.  A
 * source is believed only when it is one of that peer's own files
 * (own_source): anything else, a peer's key taken from another peer's
 * folder say, is how a planted line would hand a device another's key,
 * and makes the whole file an error naming file:line, as does a line
 * that cannot be read.  A line for a uuid that is no peer here is
 * ignored (the peer may have gone since).  -1 reported.
 */
static int
apply_failed_push(struct bundle *b, const struct bfile *fp)
{
	char line[1400], uuid[64], src[512], dst[512], path[512];
	char show[ESC_SIZE(512)];
	char *fld[8], *last, *t, *base;
	const char *p = fp->data, *end = fp->data + fp->len, *e;
	size_t i, n, nf, lineno = 0;
	int k;

	for (; p < end; p = e + 1) {
		lineno++;
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		n = (size_t)(e - p);
		if (n == 0)
			continue;
		if (n >= sizeof(line) || memchr(p, '\0', n) != NULL) {
			log_warnx("%s:%zu: malformed line", b->failed_push,
			    lineno);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		nf = 0;
		for (t = strtok_r(line, " \t", &last); t != NULL;
		    t = strtok_r(NULL, " \t", &last)) {
			if (nf == sizeof(fld) / sizeof(fld[0]))
				break;
			fld[nf++] = t;
		}
		if (nf < 5 || t != NULL ||
		    esc_unvis(uuid, sizeof(uuid), fld[0]) == -1 ||
		    esc_unvis(src, sizeof(src), fld[nf - 2]) == -1 ||
		    esc_unvis(dst, sizeof(dst), fld[nf - 1]) == -1 ||
		    squeeze(src, path, sizeof(path)) == -1) {
			log_warnx("%s:%zu: malformed line", b->failed_push,
			    lineno);
			return -1;
		}
		base = strrchr(dst, '/');
		if ((k = peerf_index(base == NULL ? dst : base + 1)) == -1) {
			log_warnx("%s:%zu: %s is not a file a peer receives",
			    b->failed_push, lineno,
			    shown(show, sizeof(show), fld[nf - 1]));
			return -1;
		}
		for (i = 0; i < b->n; i++) {
			struct bpeer *bp = &b->p[i];

			if (strcasecmp(bp->uuid, uuid) != 0)
				continue;
			if (!own_source(bp, k, path)) {
				log_warnx("%s:%zu: %s is not %s's own %s: "
				    "refused", b->failed_push, lineno,
				    shown(show, sizeof(show), fld[nf - 2]),
				    bp->name, peerf_names[k]);
				return -1;
			}
			bp->in_failed = 1;
			if ((bp->f[k] = fileset_get(&b->fs, path + 1)) == NULL)
				snprintf(bp->err, sizeof(bp->err),
				    "%.60s names %.100s, not on the FMC",
				    b->failed_push, path);
		}
	}
	return 0;
}

/*
 * The key matches the certificate, which chains to the CA; public_only:
 * the certificate chains to the CA (the device's own key is checked on
 * the device).
 */
static void
check_peer(struct bpeer *p, int public_only)
{
	X509 *ca = NULL, *cert = NULL;
	EVP_PKEY *key = NULL;
	int verr = 0, i;

	for (i = 0; i < PEERF_NFILES; i++)
		if (public_only && i == PEERF_I_KEY)
			continue;
		else if (p->f[i] == NULL || p->f[i]->len == 0) {
			if (p->err[0] == '\0')
				snprintf(p->err, sizeof(p->err), "no %s for %.100s "
				    "on the FMC", peerf_names[i], p->name);
			return;
		}
	if ((ca = pki_cert_from_pem(p->f[PEERF_I_CACERT]->data,
	    p->f[PEERF_I_CACERT]->len, p->f[PEERF_I_CACERT]->path)) == NULL ||
	    (cert = pki_cert_from_pem(p->f[PEERF_I_CERT]->data, p->f[PEERF_I_CERT]->len,
	    p->f[PEERF_I_CERT]->path)) == NULL ||
	    (!public_only && (key = pki_key_from_pem(p->f[PEERF_I_KEY]->data,
	    p->f[PEERF_I_KEY]->len, p->f[PEERF_I_KEY]->path)) == NULL))
		snprintf(p->err, sizeof(p->err), "unreadable certificate or "
		    "key for %.100s on the FMC", p->name);
	else if (!public_only && !pki_key_matches(cert, key))
		snprintf(p->err, sizeof(p->err), "%s does not match %s",
		    p->f[PEERF_I_KEY]->path, p->f[PEERF_I_CERT]->path);
	else if (pki_chains_to(cert, ca, time(NULL), &verr, NULL) != 0)
		snprintf(p->err, sizeof(p->err), "%s does not chain to the "
		    "FMC's CA (%s)", p->f[PEERF_I_CERT]->path,
		    pki_verify_errstr(verr));
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/*
 * The FMC's uuid and name from its ims.conf, read as generate_certs
 * reads it.
 */
static int
fmc_ident(struct bundle *b, const struct bfile *ims)
{
	struct conf *c = NULL;
	const char *v;
	int rc = -1;

	if (conf_parse(ims->data, ims->len, "/" RP_IMS_CONF, &c) == -1)
		return -1;
	if ((v = conf_get(c, "APPLIANCE_UUID")) == NULL ||
	    !peer_uuid_valid(v)) {
		log_warnx("/%s: no APPLIANCE_UUID on the FMC", RP_IMS_CONF);
		goto out;
	}
	strlcpy(b->fmc_uuid, v, sizeof(b->fmc_uuid));
	if ((v = conf_get(c, "HOSTNAME")) == NULL || strlen(v) > PEER_NAME_LEN)
		v = b->fmc_uuid;
	esc_vis(b->fmc_name, sizeof(b->fmc_name), v);
	rc = 0;
 out:
	conf_free(c);
	return rc;
}

/*
 * What the bundle reads from an FMC, as glob(3) patterns relative to its
 * root: every candidate, whether from the tree or fetched.  Which of
 * them are used is bundle_build's choice alone (newest_failed_push,
 * peer_file).
 */
static const char *const wanted[] = {
	RP_IMS_CONF,
	RP_CA_CERT,
	RP_CERTS_TMP "/*/" FAILED_PUSH,
	RP_PEERS "/*-*-*-*-*/" PEERF_JSON,
	RP_PEERS "/*-*-*-*-*/" PEERF_PUSHED "/" PEERF_CERT,
	RP_PEERS "/*-*-*-*-*/" PEERF_PUSHED "/" PEERF_KEY,
	RP_PEERS "/*-*-*-*-*/" PEERF_CERT,
	RP_PEERS "/*-*-*-*-*/" PEERF_KEY,
	RP_RUNS "/*/" RUN_STAGED,
	RP_RUNS "/*/" RUN_ABANDONED,
	RP_RUNS "/*/" RUN_EXTEND,
};
#define NWANTED	(sizeof(wanted) / sizeof(wanted[0]))

static const char *const run_markers[] = {
	RUN_STAGED, RUN_ABANDONED, RUN_EXTEND
};

/* A run folder's name: an epoch, as generate_certs names them. */
static int
run_name(const char *s, size_t len)
{
	return len > 0 && len <= 18 && strspn(s, "0123456789") >= len;
}

/*
 * Every var/tmp/certs/<epoch>/FAILED_PUSH, read through folders that
 * pass generate_certs' check (root's, 0700 or 0755, no link): a
 * FAILED_PUSH anyone else could have put there is refused, -1 with the
 * message naming the folder and its owner.
 */
static int
load_failed_push(struct fileset *fs)
{
	struct dirent *de;
	struct stat st;
	char *vt = root_path("var/tmp"), *cp = root_path(RP_CERTS_TMP);
	char *sub, *data, *rel;
	size_t len;
	DIR *d = NULL;
	int tfd, cfd = -1, efd, rc = -1;

	if ((tfd = sdir_open("var/tmp", 0, 0)) == -1) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	cfd = sdir_openat(tfd, vt, "certs", SDIR_EXACT, 0);
	close(tfd);
	if (cfd == -1) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if ((efd = fcntl(cfd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(efd)) == NULL) {
		log_warn("%s", cp);
		if (efd != -1)
			close(efd);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		/* what the glob var/tmp/certs/<any>/FAILED_PUSH lists */
		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", de->d_name, FAILED_PUSH);
		if (fstatat(cfd, sub, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			free(sub);
			continue;
		}
		free(sub);
		if ((efd = sdir_openat(cfd, cp, de->d_name, SDIR_EXACT,
		    0)) == -1)
			goto out;
		sub = xasprintf("%s/%s", cp, de->d_name);
		if (sdir_read(efd, sub, FAILED_PUSH, SFILE_CAP, &data,
		    &len) == -1) {
			free(sub);
			close(efd);
			goto out;
		}
		free(sub);
		close(efd);
		rel = xasprintf("%s/%s/%s", RP_CERTS_TMP, de->d_name,
		    FAILED_PUSH);
		fileset_put(fs, rel, data, len);
		free(rel);
	}
	rc = 0;
 out:
	if (d != NULL)
		closedir(d);
	if (cfd != -1)
		close(cfd);
	free(vt);
	free(cp);
	return rc;
}

/*
 * The markers bundle_build reads of every run folder of var/sf/sfca/runs,
 * through folders that pass generate_certs' own check (every component
 * root's and writable by no one else, a run folder 0700 or 0755, no
 * link): a marker anyone else could have put there is refused, -1 with
 * the message naming the folder and its owner.  No runs folder: 0.
 */
static int
load_runs(struct fileset *fs)
{
	struct dirent *de;
	struct stat st;
	char *rp = root_path(RP_RUNS), *sub, *data, *rel;
	size_t len, k;
	DIR *d = NULL;
	int fd, efd = -1, rc = -1;

	if ((fd = sdir_open(RP_RUNS, 0, 0)) == -1) {
		rc = errno == ENOENT ? 0 : -1;
		free(rp);
		return rc;
	}
	if ((efd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(efd)) == NULL) {
		log_warn("%s", rp);
		if (efd != -1)
			close(efd);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		/* what the glob var/sf/sfca/runs/<epoch>/ lists; a link is refused */
		if (!run_name(de->d_name, strlen(de->d_name)) ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)))
			continue;
		if ((efd = sdir_openat(fd, rp, de->d_name, SDIR_EXACT,
		    0)) == -1)
			goto out;
		sub = xasprintf("%s/%s", rp, de->d_name);
		for (k = 0; k < sizeof(run_markers) / sizeof(run_markers[0]);
		    k++) {
			if (sdir_read(efd, sub, run_markers[k], RUN_MARK_CAP,
			    &data, &len) == -1) {
				if (errno == ENOENT)
					continue;
				free(sub);
				close(efd);
				goto out;
			}
			rel = xasprintf("%s/%s/%s", RP_RUNS, de->d_name,
			    run_markers[k]);
			fileset_put(fs, rel, data, len);
			free(rel);
		}
		free(sub);
		close(efd);
	}
	rc = 0;
 out:
	if (d != NULL)
		closedir(d);
	close(fd);
	free(rp);
	return rc;
}

int
bundle_load_tree(struct fileset *fs)
{
	char *dir = root_path(RP_PEERS);
	const char *pat[NWANTED];
	struct stat st;
	size_t i, n = 0;
	int rc = -1;

	/*
	 * FAILED_PUSH and the run markers are read by load_failed_push and
	 * load_runs, through checked folders
	 */
	for (i = 0; i < NWANTED; i++)
		if (strstr(wanted[i], FAILED_PUSH) == NULL &&
		    strncmp(wanted[i], RP_RUNS "/", sizeof(RP_RUNS)) != 0)
			pat[n++] = wanted[i];
	if (stat(dir, &st) == -1)
		log_warn("%s", dir);
	else if (!S_ISDIR(st.st_mode))
		log_warnx("%s: not a directory", dir);
	else if (load_failed_push(fs) == 0 && load_runs(fs) == 0)
		rc = fileset_load(fs, pat, n);
	free(dir);
	return rc;
}

/*
 * Run first on the FMC: the FAILED_PUSH folders must pass the same check
 * as in load_failed_push, and the folders of the run markers the one of
 * load_runs (every component of var/sf/sfca/runs root's, a folder, no
 * link, writable by no one else unless sticky; each run folder with a
 * marker root's 0700 or 0755), else one line naming the folder and its
 * owner and exit 3, nothing fetched.
 */
static const char guard[] =
    "cd / || exit 1\n"
    "for d in " RP_CERTS_TMP " " RP_CERTS_TMP "/*/; do\n"
    "  d=${d%/}\n"
    "  [ -e \"$d\" ] || [ -L \"$d\" ] || continue\n"
    "  [ \"$d\" = " RP_CERTS_TMP " ] || [ -e \"$d/" FAILED_PUSH "\" ] ||\n"
    "    [ -L \"$d/" FAILED_PUSH "\" ] || continue\n"
    "  o=$(stat -c '%U (uid %u)' \"$d\"); m=$(stat -c %a \"$d\")\n"
    "  if [ -L \"$d\" ] || [ ! -d \"$d\" ] ||\n"
    "      [ \"$(stat -c %u \"$d\")\" != 0 ] ||\n"
    "      { [ \"$m\" != 700 ] && [ \"$m\" != 755 ]; }; then\n"
    "    echo \"/$d: owned by $o, mode $m, not root's 0700 or 0755 "
    "folder: refused\"\n"
    "    exit 3\n"
    "  fi\n"
    "done\n"
    "if [ -e " RP_RUNS " ] || [ -L " RP_RUNS " ]; then\n"
    "  for d in var var/sf " RP_SFCA_STATE " " RP_RUNS " " RP_RUNS "/*/; do\n"
    "    d=${d%/}\n"
    "    case $d in " RP_RUNS "/*)\n"
    "      case ${d##*/} in *[!0-9]*|'') continue;; esac\n"
    "      [ -e \"$d/" RUN_STAGED "\" ] || [ -L \"$d/" RUN_STAGED "\" ] ||\n"
    "        [ -e \"$d/" RUN_ABANDONED "\" ] || [ -L \"$d/" RUN_ABANDONED "\" ] ||\n"
    "        [ -e \"$d/" RUN_EXTEND "\" ] || [ -L \"$d/" RUN_EXTEND "\" ] ||\n"
    "        continue;;\n"
    "    esac\n"
    "    o=$(stat -c '%U (uid %u)' \"$d\"); m=$(stat -c %a \"$d\")\n"
    "    case $d in " RP_RUNS "/*) { [ \"$m\" = 700 ] || [ \"$m\" = 755 ]; } ;;\n"
    "    *) [ $((0$m & 022)) -eq 0 ] || [ -k \"$d\" ] ;; esac\n"
    "    ok=$?\n"
    "    if [ -L \"$d\" ] || [ ! -d \"$d\" ] ||\n"
    "        [ \"$(stat -c %u \"$d\")\" != 0 ] || [ $ok != 0 ]; then\n"
    "      echo \"/$d: owned by $o, mode $m, not root's folder that only "
    "root can change: refused\"\n"
    "      exit 3\n"
    "    fi\n"
    "  done\n"
    "fi\n"
    /*
     * The newest run folder with STAGED and no ABANDONED (newest_run's
     * rule, on the files the fetch would take: regular, not a link):
     * made with --extend, no key of a peer leaves the FMC, not even to
     * the jump host.
     */
    "skip=; b=-1; bd=\n"
    "for d in " RP_RUNS "/*/; do\n"
    "  n=${d%/}; n=${n##*/}\n"
    "  case $n in *[!0-9]*|'') continue;; esac\n"
    "  [ ${#n} -le 18 ] || continue\n"
    "  [ -f \"${d}" RUN_STAGED "\" ] && [ ! -L \"${d}" RUN_STAGED "\" ] || continue\n"
    "  [ -f \"${d}" RUN_ABANDONED "\" ] && [ ! -L \"${d}" RUN_ABANDONED "\" ] && continue\n"
    "  [ $((10#$n)) -gt $b ] && b=$((10#$n)) && bd=$d\n"
    "done\n"
    "if [ -n \"$bd\" ] && [ -f \"${bd}" RUN_EXTEND "\" ] &&\n"
    "    [ ! -L \"${bd}" RUN_EXTEND "\" ]; then\n"
    "  skip='*/" PEERF_KEY "'\n"
    "fi\n";

char *
bundle_fetch_script(void)
{
	char *s = fileset_fetch_script(wanted, NWANTED), *t;

	t = xasprintf("%s%s", guard, s);
	free(s);
	return t;
}

/*
 * The newest var/tmp/certs/<epoch>/FAILED_PUSH of the set, or NULL: the
 * one rule for which FAILED_PUSH counts.
 */
static const struct bfile *
newest_failed_push(const struct fileset *fs)
{
	const struct bfile *best = NULL;
	const char *p, *e, *errstr;
	long long bestn = -1, v;
	char num[24];
	size_t i, l;

	for (i = 0; i < fs->n; i++) {
		if ((p = fs->f[i].path) == NULL ||
		    strncmp(p, RP_CERTS_TMP "/", sizeof(RP_CERTS_TMP)) != 0)
			continue;
		p += sizeof(RP_CERTS_TMP);
		if ((e = strchr(p, '/')) == NULL ||
		    strcmp(e, "/" FAILED_PUSH) != 0)
			continue;
		l = (size_t)(e - p);
		if (l == 0 || l >= sizeof(num) || strspn(p, "0123456789") < l)
			continue;
		memcpy(num, p, l);
		num[l] = '\0';
		v = strtonum(num, 0, LLONG_MAX, &errstr);
		if (errstr != NULL || v <= bestn)
			continue;
		best = &fs->f[i];
		bestn = v;
	}
	return best;
}

/*
 * The epoch of the newest run folder that may have replaced files (it
 * has STAGED and no ABANDONED; a rolled back one has no STAGED), or -1:
 * the one rule for which renewal the files to copy come from.
 */
static long long
newest_run(const struct fileset *fs)
{
	const char *p, *e, *errstr;
	char num[24], *rel;
	long long best = -1, v;
	size_t i, l;

	for (i = 0; i < fs->n; i++) {
		if ((p = fs->f[i].path) == NULL ||
		    strncmp(p, RP_RUNS "/", sizeof(RP_RUNS)) != 0)
			continue;
		p += sizeof(RP_RUNS);
		if ((e = strchr(p, '/')) == NULL ||
		    strcmp(e, "/" RUN_STAGED) != 0)
			continue;
		l = (size_t)(e - p);
		if (!run_name(p, l))
			continue;
		memcpy(num, p, l);
		num[l] = '\0';
		v = strtonum(num, 0, LLONG_MAX, &errstr);
		if (errstr != NULL || v <= best)
			continue;
		rel = xasprintf("%s/%s/%s", RP_RUNS, num, RUN_ABANDONED);
		if (fileset_get(fs, rel) == NULL)
			best = v;
		free(rel);
	}
	return best;
}

/*
 * A peer's copy of name: certs_pushed/ (what was last pushed to it) wins
 * over the peer folder's own.  The one rule for it.  NULL when neither
 * is in the set.
 */
static const struct bfile *
peer_file(const struct fileset *fs, const char *folder, const char *name)
{
	const struct bfile *f;
	char *rel;

	rel = xasprintf("%s/%s/%s/%s", RP_PEERS, folder, PEERF_PUSHED, name);
	f = fileset_get(fs, rel);
	free(rel);
	if (f == NULL) {
		rel = xasprintf("%s/%s/%s", RP_PEERS, folder, name);
		f = fileset_get(fs, rel);
		free(rel);
	}
	return f;
}

/*
 * The peer a sftunnel.json describes, read as generate_certs reads it:
 * 1 when js is a peer folder's sftunnel.json (parsed into bp, its folder
 * copied into folder), 0 when it is not one, -1 when it is malformed.
 */
static int
peer_of(const struct bfile *js, struct bpeer *bp, char *folder)
{
	const char *f;
	char *path;
	size_t fl;
	struct peer p;
	int rc;

	if (js->path == NULL ||
	    strncmp(js->path, RP_PEERS "/", sizeof(RP_PEERS)) != 0)
		return 0;
	f = js->path + sizeof(RP_PEERS);
	fl = strcspn(f, "/");
	if (fl != PEER_UUID_LEN || strcmp(f + fl, "/" PEERF_JSON) != 0)
		return 0;
	memcpy(folder, f, fl);
	folder[fl] = '\0';
	if (!peer_uuid_valid(folder))
		return 0;
	path = xasprintf("/%s", js->path);
	rc = peer_parse(js->data, js->len, path, folder, &p);
	free(path);
	if (rc == -1)
		return -1;
	memset(bp, 0, sizeof(*bp));
	strlcpy(bp->folder, folder, sizeof(bp->folder));
	strlcpy(bp->uuid, p.uuid, sizeof(bp->uuid));
	strlcpy(bp->name, p.name, sizeof(bp->name));
	strlcpy(bp->ip, p.ip, sizeof(bp->ip));
	strlcpy(bp->role, p.role, sizeof(bp->role));
	return 1;
}

/* Wipe every file of the set that no choice points to. */
static void
prune(struct bundle *b, const struct bfile *const *keep, size_t nkeep)
{
	char *used = xcalloc(b->fs.n == 0 ? 1 : b->fs.n, 1);
	size_t i, k;

	for (i = 0; i < nkeep; i++)
		if (keep[i] != NULL)
			used[keep[i] - b->fs.f] = 1;
	for (i = 0; i < b->n; i++)
		for (k = 0; k < PEERF_NFILES; k++)
			if (b->p[i].f[k] != NULL)
				used[b->p[i].f[k] - b->fs.f] = 1;
	for (i = 0; i < b->fs.n; i++)
		if (!used[i])
			fileset_drop(&b->fs, i);
	free(used);
}

int
bundle_build(struct bundle *b, struct fileset *fs)
{
	const struct bfile *ims, *ca, *fp, **keep;
	char folder[PEER_UUID_LEN + 1], *rel;
	size_t i, cap = 0, nkeep = 0;
	long long run;
	struct bpeer *p;
	int r, rc = -1;

	memset(b, 0, sizeof(*b));
	b->fs = *fs;
	memset(fs, 0, sizeof(*fs));
	/* what is kept: ims.conf, the CA, FAILED_PUSH, every sftunnel.json */
	keep = xcalloc(b->fs.n + 3, sizeof(*keep));
	if ((ims = fileset_get(&b->fs, RP_IMS_CONF)) == NULL) {
		log_warnx("/%s: no APPLIANCE_UUID on the FMC", RP_IMS_CONF);
		goto out;
	}
	if (fmc_ident(b, ims) == -1)
		goto out;
	if ((ca = fileset_get(&b->fs, RP_CA_CERT)) == NULL) {
		log_warnx("/%s: no CA certificate on the FMC", RP_CA_CERT);
		goto out;
	}
	keep[nkeep++] = ims;
	keep[nkeep++] = ca;
	for (i = 0; i < b->fs.n; i++) {
		if (b->n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			b->p = xreallocarray(b->p, cap, sizeof(*b->p));
		}
		p = &b->p[b->n];
		if ((r = peer_of(&b->fs.f[i], p, folder)) == -1)
			goto out;
		if (r == 0)
			continue;
		keep[nkeep++] = &b->fs.f[i];
		p->f[PEERF_I_CACERT] = ca;
		p->f[PEERF_I_CERT] = peer_file(&b->fs, folder, PEERF_CERT);
		p->f[PEERF_I_KEY] = peer_file(&b->fs, folder, PEERF_KEY);
		b->n++;
	}
	if ((fp = newest_failed_push(&b->fs)) != NULL) {
		keep[nkeep++] = fp;
		snprintf(b->failed_push, sizeof(b->failed_push), "/%s",
		    fp->path);
		if (apply_failed_push(b, fp) == -1)
			goto out;
	}
	if ((run = newest_run(&b->fs)) != -1) {
		snprintf(b->run, sizeof(b->run), "/%s/%lld", RP_RUNS, run);
		rel = xasprintf("%s/%lld/%s", RP_RUNS, run, RUN_EXTEND);
		b->public_only = fileset_get(&b->fs, rel) != NULL;
		free(rel);
	}
	/* no key leaves the FMC in this mode: its copies are not kept */
	if (b->public_only)
		for (i = 0; i < b->n; i++)
			b->p[i].f[PEERF_I_KEY] = NULL;
	prune(b, keep, nkeep);
	for (i = 0; i < b->n; i++)
		if (b->p[i].err[0] == '\0')
			check_peer(&b->p[i], b->public_only);
	rc = 0;
 out:
	free(keep);
	return rc;
}

void
bundle_release(struct bundle *b)
{
	free(b->p);
	fileset_release(&b->fs);
	memset(b, 0, sizeof(*b));
}

const struct bpeer *
bundle_find(const struct bundle *b, const char *uuid)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcasecmp(b->p[i].uuid, uuid) == 0)
			return &b->p[i];
	return NULL;
}

/* Whether two addresses are the same (IPv6 in any spelling). */
static int
addr_same(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 &&
		    memcmp(x, y, 16) == 0;
	return strcasecmp(a, b) == 0;
}

/* The peer the FMC has at addr, or NULL. */
static const struct bpeer *
peer_at(const struct bundle *b, const char *addr)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (addr_same(b->p[i].ip, addr))
			return &b->p[i];
	return NULL;
}

int
bundle_vouch(const struct bundle *b, const struct csv *c,
    const struct csv_row *row, const struct bpeer *p, int nat, char *why,
    size_t whylen)
{
	char pname[ESC_SIZE(64)], oname[ESC_SIZE(64)], at[200] = "";
	const struct bpeer *o;
	size_t i;

	if (addr_same(p->ip, row->addr))
		return 0;
	esc_vis(pname, sizeof(pname), p->name);
	if (!nat) {
		if ((o = peer_at(b, row->addr)) != NULL) {
			esc_vis(oname, sizeof(oname), o->name);
			snprintf(at, sizeof(at), " (at %s it has %.60s, %s)",
			    row->addr, oname, o->uuid);
		}
		snprintf(why, whylen, "%s (%s) says it is %s, the FMC's %s at "
		    "%s%s: refused", row->name, row->addr, p->uuid, pname,
		    p->ip, at);
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		const struct csv_row *r = &c->rows[i];

		if (r == row || !addr_same(r->addr, p->ip))
			continue;
		snprintf(why, whylen, "%s (%s) says it is %s, the FMC's %s at "
		    "%s, which is %s (%s:%zu): refused", row->name, row->addr,
		    p->uuid, pname, p->ip, r->name, c->path, r->line);
		return -1;
	}
	return 0;
}
