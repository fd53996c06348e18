/*
 * difanalyse.h — per-interval flow rows from parsed .dif intervals, and
 * whole-range summaries (what NeTraMet's fd_filter and the users' Perl did).
 *
 * Counters in a .dif file are cumulative (doc/dif-format.md §4): a row's
 * per-interval value is the unsigned difference from the same flow's
 * previous reading.  A flow is (meter, ruleset, flow index, FirstTime) as
 * RFC 2722 has it:
 *   - the same index with another FirstTime is a new flow (index reused);
 *   - a meter restart (a #Time: whose uptime T2 is below the previous
 *     interval's of the same meter, or, in files without uptimes, a new ##
 *     header) starts every flow of that meter afresh;
 *   - a counter that went back is read as a restart of that flow: its
 *     values are the counts since the restart.
 * The first reading of a flow: its counters are the interval's values when
 * the flow began inside the interval (FirstTime >= T1 of "Flows from T1",
 * or no FirstTime/T1 to compare), since everything it counted happened
 * there; otherwise (the flow was already running before the first file
 * read) the reading is only a baseline and the row's counters are unknown.
 * Distributions are per interval already and are never differenced.
 *
 * Memory: one small state per flow seen (no per-interval history), and for
 * summaries one bounded accumulator per flow (below).
 */
#ifndef NTM_DIFANALYSE_H
#define NTM_DIFANALYSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dif.h"
#include "difparse.h"

#define DAN_FLOW_MAX 128      /* readable flow id, bytes with NUL */
#define DAN_SERVER_MAX 64     /* server address text, bytes with NUL */

/* The counters a row may carry; bit i of dan_row.have = counter i known. */
enum dan_counter {
	DAN_REQUESTS,    /* DNSRequests, else ToPDUs */
	DAN_RESPONSES,   /* DNSResponses, else FromPDUs */
	DAN_ANSWERED,    /* DNSAnswered */
	DAN_LOST,        /* DNSLost */
	DAN_N_COUNTERS
};

static inline bool dan_has(uint32_t have, enum dan_counter c)
{
	return (have >> c) & 1u;
}

/* One flow in one interval.  Pointers are valid during the callback. */
struct dan_row {
	const char *file;
	unsigned line;              /* of the interval's #Time: record */
	bool has_epoch;             /* start/end known (ntm form) */
	int64_t start, end;
	const char *time_text;      /* the #Time: text (old files) */
	const char *flow;           /* "class/kind/server", "ruleset:index", ... */
	const char *server;         /* DestPeerAddress as written, "" if none */
	bool first;                 /* first reading of this flow */
	uint32_t have;              /* counters known (dan_has) */
	uint64_t counter[DAN_N_COUNTERS];
	bool has_load;
	double load_rps;            /* requests / interval seconds */
	const struct dif_dist *dist;   /* the RTT distribution, NULL if none */
	bool limits_valid;          /* false: type-6 limits unusable (51b4-6) */
	bool has_pct;               /* median/p10/p90 known */
	double median, p10, p90;    /* µs */
};

typedef int (*dan_row_fn)(void *ctx, const struct dan_row *row);

struct dan;

/* NULL when out of memory. */
struct dan *dan_new(dan_row_fn fn, void *ctx);
void dan_free(struct dan *a);

/*
 * One parsed interval of `file`: calls fn once per good record, in file
 * order.  Returns 0, fn's non-zero return, or -1 (errno ENOMEM).
 */
int dan_interval(struct dan *a, const char *file,
		 const struct difp_interval *iv);

/* Distributions seen whose limits were unusable (NeTraMet 5.1b4–5.1b6). */
unsigned long dan_bad_limit_dists(const struct dan *a);

/*
 * Percentile p (0..1) of one interval's distribution, (dif_dist_percentile)
 * for use in rows: returns false when there is none (no samples, or
 * unusable limits, or a value in the overflow bucket).
 */
bool dan_dist_percentile(const struct dif_dist *d, bool limits_valid,
			 double p, double *out);

/* ---- summaries over the whole range ---- */

/*
 * Per flow: interval count, counter sums, and the RTTs of all its
 * intervals pooled.  Pooling is exact while the flow has only type-5
 * intervals and at most DAN_EXACT_MAX values in all; beyond that every
 * value goes into a log-linear histogram of meter/dist.h's geometry (bins
 * at most 1.6 % wide): type-5 values into their bin, each type-6 bin's
 * count spread over the histogram bins it overlaps in proportion to the
 * overlap (uniform within the bin, the same assumption as the per-interval
 * interpolation).  Percentiles from the histogram interpolate within a bin.
 * Type-6 distributions with unusable limits add to `samples` only.
 */
#define DAN_EXACT_MAX 8192

struct dan_summary_row {
	const char *flow, *server;
	unsigned long intervals;
	uint32_t have;              /* counters known in at least one interval */
	uint64_t counter[DAN_N_COUNTERS];
	bool has_lost_pct;
	double lost_pct;            /* 100 · lost / (answered + lost) */
	uint64_t samples;           /* RTT samples in all distributions */
	uint64_t pooled;            /* of which pooled for the percentiles */
	bool exact;                 /* percentiles from exact values */
	bool has_pct;
	double median, p10, p90;
};

struct dan_summary;

struct dan_summary *dan_summary_new(void);
void dan_summary_free(struct dan_summary *s);
/* Add one row (from dan_interval's callback).  0, or -1 (ENOMEM). */
int dan_summary_add(struct dan_summary *s, const struct dan_row *row);
/* Number of flows, and flow i (0-based, in order of first appearance). */
size_t dan_summary_count(const struct dan_summary *s);
void dan_summary_get(const struct dan_summary *s, size_t i,
		     struct dan_summary_row *out);

#endif
