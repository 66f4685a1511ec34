// SPDX-License-Identifier: ISC
/* check_ca_expiry-prom -- the InternalCA's validity as Prometheus metrics */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ca_expiry.h"
#include "esc.h"
#include "log.h"
#include "pki.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

/* What was read of one target's certificate. */
struct seen {
	int	 ok;
	struct pki_info in;
	char	 sha256[65];
	struct cahist hist;	/* this FMC's CA against the one it replaced */
};

/*
 * A label value as the text exposition format wants it: backslash,
 * double quote and line feed escaped; the value must be UTF-8, so a byte
 * that is not (a certificate's CN may be anything) becomes U+FFFD.
 */
static void
put_value(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	while (*s != '\0') {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s++);
		else if (*s == '\n') {
			fputs("\\n", f);
			s++;
		} else if ((n = esc_utf8_len(s)) == 0) {
			fputs("\xef\xbf\xbd", f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
}

static void
put_labels(FILE *f, const struct target *t, const struct seen *s)
{
	fputs("{fmc_uuid=\"", f);
	put_value(f, t->fmc_uuid != NULL ? t->fmc_uuid : "");
	fputs("\",path=\"", f);
	put_value(f, t->apath);
	if (s != NULL) {
		fputs("\",cn=\"", f);
		put_value(f, s->in.cn);
		fputs("\",sha256=\"", f);
		put_value(f, s->sha256);
	}
	fputs("\"}", f);
}

static void
family(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

enum metric { NOT_BEFORE, NOT_AFTER, REMAINING, EXPIRED, EXPIRING, INFO };

static long long
value(enum metric m, const struct opts *o, const struct pki_info *in)
{
	switch (m) {
	case NOT_BEFORE:
		return in->not_before;
	case NOT_AFTER:
		return in->not_after;
	case REMAINING:
		return (long long)in->not_after - o->now;
	case EXPIRED:
		return in->not_after <= o->now;
	case EXPIRING:
		return in->not_after <= o->now + o->warn_days * PKI_DAY;
	case INFO:
		break;
	}
	return 1;
}

static void
emit(FILE *f, const struct opts *o, const struct target *t,
    const struct seen *s, size_t n, int all)
{
	static const struct {
		enum metric m;
		const char *name, *help;
	} fam[] = {
		{ NOT_BEFORE, "sfca_internal_ca_not_before_timestamp_seconds",
		  "Start of the InternalCA's validity (notBefore), in seconds "
		  "since the epoch." },
		{ NOT_AFTER, "sfca_internal_ca_not_after_timestamp_seconds",
		  "End of the InternalCA's validity (notAfter), in seconds "
		  "since the epoch." },
		{ REMAINING, "sfca_internal_ca_remaining_seconds",
		  "Seconds from the check to the InternalCA's notAfter; "
		  "negative once it has expired." },
		{ EXPIRED, "sfca_internal_ca_expired",
		  "1 when the InternalCA has expired (notAfter at or before "
		  "the check), else 0." },
		{ EXPIRING, "sfca_internal_ca_expiring", NULL },
		{ INFO, "sfca_internal_ca_info",
		  "The InternalCA's subject CN and the SHA-256 fingerprint "
		  "of its DER form, as labels; always 1." },
	};
	char help[160];
	size_t i, k, ok = 0;

	for (i = 0; i < n; i++)
		ok += s[i].ok;
	for (k = 0; ok > 0 && k < sizeof(fam) / sizeof(fam[0]); k++) {
		if (fam[k].help != NULL)
			family(f, fam[k].name, fam[k].help);
		else {
			snprintf(help, sizeof(help), "1 when the InternalCA "
			    "expires within the warning threshold of %ld "
			    "days (or has expired), else 0.", o->warn_days);
			family(f, fam[k].name, help);
		}
		for (i = 0; i < n; i++) {
			if (!s[i].ok)
				continue;
			fputs(fam[k].name, f);
			put_labels(f, &t[i], fam[k].m == INFO ? &s[i] : NULL);
			fprintf(f, " %lld\n", value(fam[k].m, o, &s[i].in));
		}
	}
	for (i = 0, k = 0; i < n; i++)
		k += s[i].ok && (s[i].hist.key == CAHIST_SAME ||
		    s[i].hist.key == CAHIST_NEW);
	if (k > 0) {
		family(f, "sfca_internal_ca_same_key", "1 when the InternalCA "
		    "has the public key of the CA the last renewal replaced "
		    "(generate_certs --extend), 0 when a new one; absent when "
		    "unknown.");
		for (i = 0; i < n; i++) {
			if (!s[i].ok || (s[i].hist.key != CAHIST_SAME &&
			    s[i].hist.key != CAHIST_NEW))
				continue;
			fputs("sfca_internal_ca_same_key", f);
			put_labels(f, &t[i], NULL);
			fprintf(f, " %d\n", s[i].hist.key == CAHIST_SAME);
		}
	}
	if (n > 0) {
		family(f, "sfca_internal_ca_read_error", "1 when the InternalCA "
		    "certificate could not be read (missing, empty, "
		    "malformed), else 0.");
		for (i = 0; i < n; i++) {
			fputs("sfca_internal_ca_read_error", f);
			put_labels(f, &t[i], NULL);
			fprintf(f, " %d\n", !s[i].ok);
		}
	}
	family(f, "sfca_check_ca_expiry_timestamp_seconds", "When the check "
	    "was evaluated (now, or --at), in seconds since the epoch.");
	fprintf(f, "sfca_check_ca_expiry_timestamp_seconds %lld\n",
	    (long long)o->now);
	family(f, "sfca_check_ca_expiry_success", "1 when the tree and every "
	    "InternalCA certificate in it were read, else 0.");
	fprintf(f, "sfca_check_ca_expiry_success %d\n", all);
}

int
prom_report(const struct opts *o, const struct target *t, size_t n,
    int tree_ok)
{
	struct seen *s;
	X509 *c;
	FILE *f;
	char *buf = NULL;
	size_t len = 0, i;
	int all = tree_ok, rc = EX_ERROR;

	s = xcalloc(n == 0 ? 1 : n, sizeof(*s));
	for (i = 0; i < n; i++) {
		/* each failure is reported by the pki function that met it */
		if ((c = pki_load_cert(t[i].path)) != NULL &&
		    pki_cert_info(c, &s[i].in) == 0 &&
		    pki_cert_sha256(c, s[i].sha256) == 0) {
			s[i].ok = 1;
			/* a refused run folder is said on stderr, no more */
			(void)cahist_compare(t[i].own ? c : NULL, &s[i].hist);
		} else
			all = 0;
		X509_free(c);
	}
	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("metrics");
		goto out;
	}
	emit(f, o, t, s, n, all);
	if (ferror(f) | fclose(f)) {
		log_warn("metrics");
		goto out;
	}
	if (o->prom_stdout && (fwrite(buf, 1, len, stdout) != len ||
	    fflush(stdout) == EOF)) {
		log_warn("stdout");
		goto out;
	}
	if (o->prom_file != NULL &&
	    sfile_write(o->prom_file, buf, len, 0644) == -1)
		goto out;
	rc = all ? EX_VALID : EX_ERROR;
 out:
	free(buf);
	free(s);
	return rc;
}
