/*
 * difout.h — a meter writing its own flow data: what `ntm-meter --read`
 * does with trace time, and what a live run that ends (--duration,
 * --idle-exit) does with its meter clock.
 *
 * Intervals end at multiples of interval_s seconds since the epoch.  At each
 * end the writer does what a reader collecting then would get: DNS requests
 * timed out by then become lost, the flows changed since the previous
 * interval are read (flowattr_get) into the collector (coll) and the interval
 * is appended atomically to OUT.partial; closing renames OUT.partial to OUT,
 * so an earlier OUT is never half overwritten, and after a crash
 * OUT.partial holds every interval completed before it.  --samples writes
 * every RTT sample as "time_ns,flow,rtt_us".
 *
 * A gap in the clock (capture stopped, traces far apart) makes no empty
 * intervals.  A clock that goes back (merged traces) counts packets where
 * the writer is.
 */
#ifndef NTM_DIFOUT_H
#define NTM_DIFOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "engine.h"
#include "rule.h"

struct difout_options {
	const char *out;              /* .dif path; NULL = none */
	const char *samples;          /* CSV path; NULL = none */
	unsigned interval_s;
	const char *meter;            /* meter name in the file */
	const char *command_line;     /* written in the ## header */
	const struct ruleset *rs;     /* the run's rulesets: #Format from the
	                                 first that has one, type-6 bins */
	size_t n_rs;
	uint64_t start_ns;            /* uptime 0; 0 = the first time seen */
	bool own_gc;                  /* true: the writer is the only reader
	                                 (offline): each interval end lets the
	                                 engine recover what was written; false:
	                                 a live meter's mctl collects garbage
	                                 (difout_read_ns is its bound) */
};

struct difout;

/* Open the outputs (a leftover OUT.partial is removed) and hook --samples
 * into e.  NULL with the reason in d. */
struct difout *difout_open(const struct difout_options *o, struct engine *e,
			   struct diag *d);

/* The earliest time at which difout_advance has work: the end of the
 * current interval, 0 before the first time seen.  A caller keeps it and
 * compares each packet's time with it (no call per packet), and asks again
 * after each difout_advance. */
uint64_t difout_next_due(const struct difout *w);

/* The clock reached ts: close every interval that ended at or before it.
 * 0, or -1 (I/O error, in d). */
int difout_advance(struct difout *w, uint64_t ts);

/* Everything up to here was written: flows idle since before it may be
 * recovered (0 before the first interval). */
uint64_t difout_read_ns(const struct difout *w);

uint64_t difout_intervals(const struct difout *w);

/*
 * End of the run at end_ns (the engine has already counted its last lost
 * requests, e.g. engine_finish): the last interval, the samples file
 * closed, OUT.partial renamed.  0; 1 when no packet was seen (OUT not
 * written); 2 on an I/O error.  Messages in d.
 */
int difout_close(struct difout *w, uint64_t end_ns);

void difout_free(struct difout *w);

#endif
