/* SPDX-License-Identifier: ISC */
/* devreport.h -- a run told: the --check table, and the JSON documents of the check and the copy */
#ifndef SFCA_DEVREPORT_H
#define SFCA_DEVREPORT_H

#include <stddef.h>

#include "bundle.h"
#include "devcheck.h"
#include "devcopy.h"
#include "fleet.h"

/*
 * The exit status a --check run means: DEVREPORT_CURRENT when every
 * device is current (an FMC that is not the HA peer counts as current),
 * DEVREPORT_COPY when some need the copy and every other is current,
 * DEVREPORT_PERSON when any is unreachable or refused.  Jobs that were
 * not worked (the jump host's FMC row) do not count.
 */
#define DEVREPORT_CURRENT	0
#define DEVREPORT_COPY		3
#define DEVREPORT_PERSON	4
int	devreport_status(const struct dev_job *, size_t n);

/*
 * The summary table (allocated): a header, then one line per device
 * worked, "DEVICE ADDRESS VERDICT HOSTKEY SKEW CA CERT FREE REASON",
 * then the tally.  Every field is printable ASCII (names and device
 * text were vis-encoded before).
 */
char	*devreport_table(const struct dev_job *, size_t n);

/*
 * The same as one JSON document (allocated), ending in a newline: the
 * FMC, when the check ran, one object per device with every fact of
 * struct devcheck (null where it was not learnt), the tally and the
 * exit status.  Every string goes through esc_json (names and device
 * text were vis-encoded before, as on the terminal).
 */
char	*devreport_json(const struct bundle *, const struct dev_job *,
	    size_t n, time_t at);

/*
 * A copy run as one JSON document (allocated), ending in a newline: the
 * FMC, when the run began, one object per device worked or held back
 * (name, address, csv_line, the uuid it reported or null, result as in
 * the table, reason, unreachable, canary), a count of each result, the
 * canary (null without one: requested, the canaries' names, how many
 * were done, passed, the one that failed or null, how many were not
 * started for it), the halt (null without --halt-after: failures,
 * halted, how many were not started for it) and status, the exit status
 * the command gives.  Every string goes through esc_json (names and
 * device text were vis-encoded before, as on the terminal).
 */
char	*devreport_copy_json(const struct bundle *, const struct dev_job *,
	    size_t n, time_t at, const struct fleet_outcome *, int status);

#endif
