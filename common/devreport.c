// SPDX-License-Identifier: ISC
/* devreport.c -- a run told: the --check table, and the JSON documents of the check and the copy */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devreport.h"
#include "esc.h"
#include "xmalloc.h"
#include "banned.h"

/* A growing string. */
struct sb {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void __attribute__((format(printf, 2, 3)))
sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A job that was worked and has facts. */
static int
worked(const struct dev_job *j)
{
	return j->state != DEV_PENDING && j->chk != NULL;
}

int
devreport_status(const struct dev_job *jobs, size_t n)
{
	size_t i;
	int st = DEVREPORT_CURRENT;

	for (i = 0; i < n; i++) {
		if (!worked(&jobs[i]))
			continue;
		switch (jobs[i].chk->verdict) {
		case DC_CURRENT:
			break;
		case DC_COPY:
			if (st == DEVREPORT_CURRENT)
				st = DEVREPORT_COPY;
			break;
		default:
			st = DEVREPORT_PERSON;
		}
	}
	return st;
}

/* "2034-10-09" (UTC), or "-". */
static const char *
day(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		strlcpy(buf, "-", len);
	return buf;
}

char *
devreport_table(const struct dev_job *jobs, size_t n)
{
	struct sb b;
	size_t i, w = 6, tally[4] = { 0, 0, 0, 0 };
	char skew[24], free_[24], exp[16];

	memset(&b, 0, sizeof(b));
	for (i = 0; i < n; i++)
		if (worked(&jobs[i]) && strlen(jobs[i].row->name) > w)
			w = strlen(jobs[i].row->name);
	sb_add(&b, "\n%-*s  %-15s  %-11s  %-8s  %-6s  %-10s  %-10s  %-9s  %s\n",
	    (int)w, "DEVICE", "ADDRESS", "VERDICT", "HOSTKEY", "SKEW", "CA",
	    "CERT", "FREE-KIB", "REASON");
	for (i = 0; i < n; i++) {
		const struct dev_job *j = &jobs[i];
		const struct devcheck *d = j->chk;

		if (!worked(j))
			continue;
		tally[d->verdict]++;
		if (d->clock_known)
			snprintf(skew, sizeof(skew), "%+lld%s", d->skew,
			    d->skew_warn ? "!" : "");
		else
			strlcpy(skew, "-", sizeof(skew));
		if (d->free_kib >= 0)
			snprintf(free_, sizeof(free_), "%lld", d->free_kib);
		else
			strlcpy(free_, "-", sizeof(free_));
		sb_add(&b, "%-*s  %-15s  %-11s  %-8s  %-6s  %-10s  %-10s  "
		    "%-9s  %s\n", (int)w, j->row->name, j->row->addr,
		    devcheck_verdict_name(d->verdict),
		    d->hostkey[0] != '\0' ? d->hostkey : "-", skew,
		    d->ca == DC_CA_UNKNOWN ? "-" : devcheck_ca_name(d->ca),
		    day(d->cert_not_after, exp, sizeof(exp)), free_,
		    d->reason);
	}
	sb_add(&b, "\n%zu current, %zu to copy, %zu unreachable, %zu "
	    "refused\n", tally[DC_CURRENT], tally[DC_COPY],
	    tally[DC_UNREACHABLE], tally[DC_REFUSED]);
	return b.s;
}

static void
js(struct sb *b, const char *k, const char *v, int comma)
{
	char *e;

	if (v == NULL) {
		sb_add(b, "\"%s\": null%s", k, comma ? ", " : "");
		return;
	}
	e = esc_json(v);
	sb_add(b, "\"%s\": %s%s", k, e, comma ? ", " : "");
	free(e);
}

/* A tri-state fact as true, false or null. */
static void
jb(struct sb *b, const char *k, int v, int comma)
{
	sb_add(b, "\"%s\": %s%s", k, v == DC_UNK ? "null" : v ? "true" :
	    "false", comma ? ", " : "");
}

static void
jn(struct sb *b, const char *k, long long v, int known, int comma)
{
	if (known)
		sb_add(b, "\"%s\": %lld%s", k, v, comma ? ", " : "");
	else
		sb_add(b, "\"%s\": null%s", k, comma ? ", " : "");
}

/* A plain boolean. */
static void
jt(struct sb *b, const char *k, int v, int comma)
{
	sb_add(b, "\"%s\": %s%s", k, v ? "true" : "false", comma ? ", " : "");
}

/* A device's object opened, with what names it: the CSV's row. */
static void
device_open(struct sb *b, const struct dev_job *j)
{
	sb_add(b, "    {");
	js(b, "name", j->row->name, 1);
	js(b, "address", j->row->addr, 1);
	jn(b, "csv_line", (long long)j->row->line, 1, 1);
}

static void
device(struct sb *b, const struct dev_job *j)
{
	const struct devcheck *d = j->chk;
	int seen = d->hostkey[0] != '\0';

	device_open(b, j);
	js(b, "verdict", devcheck_verdict_name(d->verdict), 1);
	js(b, "reason", d->reason, 1);
	sb_add(b, "\n     ");
	sb_add(b, "\"reachable\": %s, ", d->reachable ? "true" : "false");
	js(b, "unreachable_why", d->conn_why[0] != '\0' ? d->conn_why : NULL,
	    1);
	js(b, "host_key", seen ? d->hostkey : NULL, 1);
	js(b, "host_key_sha256", seen && d->hkfp[0] != '\0' ? d->hkfp : NULL,
	    1);
	jb(b, "logged_in", d->login, 1);
	sb_add(b, "\n     ");
	js(b, "uuid", d->uuid[0] != '\0' ? d->uuid : NULL, 1);
	jb(b, "uuid_registered", d->registered, 1);
	jb(b, "address_matches", d->addr_ok, 1);
	js(b, "role", d->role[0] != '\0' ? d->role : NULL, 1);
	js(b, "folder", d->dest[0] != '\0' ? d->dest : NULL, 1);
	sb_add(b, "\n     ");
	jn(b, "clock_skew_s", d->skew, d->clock_known, 1);
	sb_add(b, "\"clock_warning\": %s, ", d->skew_warn ? "true" : "false");
	js(b, "ca", d->ca == DC_CA_UNKNOWN ? NULL : devcheck_ca_name(d->ca),
	    1);
	js(b, "ca_sha256", d->ca_sha256[0] != '\0' ? d->ca_sha256 : NULL, 1);
	jn(b, "ca_not_after", (long long)d->ca_not_after,
	    d->ca_not_after != 0, 1);
	sb_add(b, "\n     ");
	jb(b, "cert_present", d->cert_present, 1);
	jb(b, "cert_chains_to_current_ca", d->cert_chains, 1);
	js(b, "cert_verify_error", d->cert_verr[0] != '\0' ? d->cert_verr :
	    NULL, 1);
	jn(b, "cert_not_after", (long long)d->cert_not_after,
	    d->cert_not_after != 0, 1);
	jb(b, "cert_issued_by_fmc", d->cert_issued, 1);
	jb(b, "key_issued_by_fmc", d->key_same, 1);
	jn(b, "free_kib", d->free_kib, d->free_kib >= 0, 0);
	sb_add(b, "}");
}

/* The document opened: the FMC, when the run began, "devices": [. */
static void
head(struct sb *b, const struct bundle *bu, const char *atkey, time_t at)
{
	sb_add(b, "{\n  \"fmc\": {");
	js(b, "uuid", bu->fmc_uuid, 1);
	js(b, "name", bu->fmc_name, 0);
	sb_add(b, "},\n  \"%s\": %lld,\n  \"devices\": [\n", atkey,
	    (long long)at);
}

char *
devreport_json(const struct bundle *bu, const struct dev_job *jobs,
    size_t n, time_t at)
{
	struct sb b;
	size_t i, first = 1, tally[4] = { 0, 0, 0, 0 };

	memset(&b, 0, sizeof(b));
	head(&b, bu, "checked_at", at);
	for (i = 0; i < n; i++) {
		if (!worked(&jobs[i]))
			continue;
		tally[jobs[i].chk->verdict]++;
		if (!first)
			sb_add(&b, ",\n");
		first = 0;
		device(&b, &jobs[i]);
	}
	sb_add(&b, "%s  ],\n  \"summary\": {\"current\": %zu, \"copy\": %zu, "
	    "\"unreachable\": %zu, \"refused\": %zu},\n  \"status\": %d\n}\n",
	    first ? "" : "\n", tally[DC_CURRENT], tally[DC_COPY],
	    tally[DC_UNREACHABLE], tally[DC_REFUSED],
	    devreport_status(jobs, n));
	return b.s;
}

/* One device of a copy run. */
static void
copied(struct sb *b, const struct dev_job *j)
{
	device_open(b, j);
	js(b, "uuid", j->uuid[0] != '\0' ? j->uuid : NULL, 1);
	js(b, "result", dev_state_name(j->state), 1);
	js(b, "reason", j->reason, 1);
	jt(b, "unreachable", j->unreachable, 1);
	jt(b, "canary", j->canary, 0);
	sb_add(b, "}");
}

char *
devreport_copy_json(const struct bundle *bu, const struct dev_job *jobs,
    size_t n, time_t at, const struct fleet_outcome *r, int status)
{
	struct sb b;
	size_t i, first = 1, done = 0, skipped = 0, failed = 0, held = 0;

	memset(&b, 0, sizeof(b));
	head(&b, bu, "started_at", at);
	for (i = 0; i < n; i++) {
		const struct dev_job *j = &jobs[i];

		switch (j->state) {
		case DEV_PENDING:
			continue;
		case DEV_DONE:
			done++;
			break;
		case DEV_SKIPPED:
			skipped++;
			break;
		case DEV_NOTSTARTED:
			held++;
			break;
		default:
			failed++;
		}
		if (!first)
			sb_add(&b, ",\n");
		first = 0;
		copied(&b, j);
	}
	sb_add(&b, "%s  ],\n  \"summary\": {\"done\": %zu, \"skipped\": %zu, "
	    "\"failed\": %zu, \"not_started\": %zu},\n  \"canary\": ",
	    first ? "" : "\n", done, skipped, failed, held);
	if (r->canary > 0) {
		sb_add(&b, "{\"requested\": %d, \"devices\": [", r->canary);
		for (i = 0, first = 1; i < n; i++) {
			char *e;

			if (!jobs[i].canary)
				continue;
			e = esc_json(jobs[i].row->name);
			sb_add(&b, "%s%s", first ? "" : ", ", e);
			free(e);
			first = 0;
		}
		sb_add(&b, "], \"done\": %zu, ", r->canary_done);
		jt(&b, "passed", r->canary_failed == -1, 1);
		js(&b, "failed", r->canary_failed == -1 ? NULL :
		    jobs[r->canary_failed].row->name, 1);
		sb_add(&b, "\"not_started\": %zu}", r->canary_held);
	} else
		sb_add(&b, "null");
	sb_add(&b, ",\n  \"halt_after\": ");
	if (r->halt_after > 0) {
		sb_add(&b, "{\"failures\": %d, ", r->halt_after);
		jt(&b, "halted", r->halt_held > 0, 1);
		sb_add(&b, "\"not_started\": %zu}", r->halt_held);
	} else
		sb_add(&b, "null");
	sb_add(&b, ",\n  \"status\": %d\n}\n", status);
	return b.s;
}
