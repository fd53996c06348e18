/*
 * offline.h — trace files to flow data files (`ntm-meter --read`).
 *
 * Trace time drives everything: intervals end at multiples of `interval`
 * seconds since the epoch, the DNS timeout and the inactivity timeout run on
 * packet timestamps, and meter uptime is measured from the first packet.
 * At each interval end the run does what a reader collecting the meter at
 * that moment would get: the flows active since the interval began (plus
 * flows whose DNS loss count moved), with cumulative counters and the
 * interval's own RTT distribution, appended to OUT atomically.
 *
 * With workers the reading thread spreads the packets over the shard
 * threads and quiesces them at every interval end, so the shards' view has
 * seen exactly the packets before the boundary, as one engine would.
 *
 * The writing is difout's (difout.h): OUT.partial renamed to OUT when
 * the run ends, so an earlier OUT is never half overwritten.
 */
#ifndef NTM_OFFLINE_H
#define NTM_OFFLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "engine.h"

struct offline_options {
	const char **traces;
	size_t n_traces;
	const char **rules;          /* one task per ruleset */
	size_t n_rules;
	const char *standby;         /* standby ruleset for the first task */
	unsigned high_water;         /* percent, for the standby */
	const char *out;             /* .dif path; NULL = no .dif */
	const char *samples;         /* CSV path; NULL = none */
	unsigned interval_s;
	const char *meter;           /* meter name in the file; NULL = file:<trace> */
	const char *command_line;    /* written in the ## header */
	bool progress;               /* progress line on stderr */
	FILE *stats_out;             /* end-of-run statistics; NULL = none */
	unsigned workers;            /* --workers: 0 or 1 = one engine on this
	                                thread; N > 1 = N shard threads fed by
	                                this one (workers.h), same output */
	struct engine_config cfg;
};

#define OFFLINE_DEFAULT_INTERVAL 300u

void offline_options_default(struct offline_options *o);

/* Run; 0 on success, 1 on bad input (messages in d), 2 on I/O failure. */
int offline_run(const struct offline_options *o, struct diag *d);

#endif
