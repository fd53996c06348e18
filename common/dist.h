/*
 * dist.h — per-flow distributions.
 *
 * Turnaround (RTT) distributions, "exact where it can be, binned where it
 * must" (DESIGN.md, doc/dif-format.md §5.1): per flow a cumulative
 * log-linear histogram (µs; exact bins below 128 µs, then 64 linear sub-bins
 * per power of two, so a bin is at most 1/64 = 1.6 % wide), a ring of the
 * 120 most recent exact values with their timestamps, and a cumulative
 * count.  A reader copies the whole thing (dist_snapshot) at each reading and
 * derives its own interval from two copies (dist_interval): the last n ring
 * values when n <= 120 (type 5), else log-spaced bins between limits taken
 * from the interval's own histogram (type 6).  Shards kept by several
 * workers merge exactly (dist_merge).
 *
 * RFC 2724 static distributions (types 1 linear / 2 logarithmic) for packet
 * size, interarrival and turnaround attributes: parameters from the
 * distribution rule's mask and value, one spec per rule, counts per flow.
 *
 * dist_add and dist_static_add are per-packet: no allocation, no syscalls.
 */
#ifndef NTM_DIST_H
#define NTM_DIST_H

#include <stdbool.h>
#include <stdint.h>

#include "dif.h"

#define DIST_RING          120                 /* exact values kept */
#define DIST_EXACT_BITS    7
#define DIST_EXACT_LIMIT   (1u << DIST_EXACT_BITS)  /* 128: one bin per µs below */
#define DIST_SUB_BITS      6
#define DIST_SUB           (1u << DIST_SUB_BITS)    /* 64 sub-bins per octave */
#define DIST_OCTAVES       (32 - DIST_EXACT_BITS)   /* octaves 2^7 .. 2^31 */
#define DIST_BINS          (DIST_EXACT_LIMIT + DIST_OCTAVES * DIST_SUB)  /* 1728 */
#define DIST_MAX_NBINS     255                 /* type-6 N is one rule byte */
#define DIST_RULE_BYTES    6                   /* RFC 2724 mask/value size */

/*
 * One flow's turnaround distribution; also its snapshot.  Sample k
 * (0-based, cumulative) is in ring slot k % DIST_RING.  Bin counts are
 * 32-bit and wrap: interval differences are taken modulo 2^32, exact as long
 * as one interval adds fewer than 2^32 samples to a bin.
 */
struct dist {
	uint64_t count;                 /* samples ever added */
	uint64_t ring_t[DIST_RING];     /* timestamps, ns */
	uint32_t ring_v[DIST_RING];     /* values, µs */
	uint32_t bins[DIST_BINS];
};

/* An interval's distribution with its storage; `d` points into it. */
struct dist_result {
	struct dif_dist d;
	uint32_t values[DIST_RING];
	uint64_t counts[DIF_DIST_MAX_COUNTS];
};

void dist_init(struct dist *d);
/* One sample: value in µs (values above UINT32_MAX µs are clamped), time
 * in ns (the packet's timestamp; orders samples when shards merge). */
void dist_add(struct dist *d, uint64_t value_us, uint64_t time_ns);

/* Histogram geometry: bin of a value, and the values a bin holds
 * [dist_bin_low(b), dist_bin_high(b)]. */
unsigned dist_bin_of(uint32_t value_us);
uint32_t dist_bin_low(unsigned bin);
uint32_t dist_bin_high(unsigned bin);

/*
 * What a reader or collector copies.  A plain copy: the caller makes sure
 * the worker is not adding at the same time (e.g. the worker itself copies
 * at the reading boundary).
 */
void dist_snapshot(const struct dist *live, struct dist *snap);

/* Add shard `from` into `into`: histograms and counts add, the rings merge
 * by timestamp keeping the latest DIST_RING (ties: `into` first). */
void dist_merge(struct dist *into, const struct dist *from);

/*
 * The interval between two snapshots of the same distribution (prev NULL:
 * since the start).  nbins: type-6 bin count (0 = DIF_DIST_DEFAULT_BINS,
 * at most DIST_MAX_NBINS).  Returns 0, or -1 when cur is not a later
 * snapshot of prev (count went back, or the histogram disagrees with the
 * count: a torn copy) or nbins is too large.
 */
/* Append `from` after everything in `into`, as if each of from's samples
 * had been dist_add()ed to `into` in from's order (bins and count add; the
 * ring gets from's most recent min(count, DIST_RING) values after into's).
 * What a view does with the samples a shard took since the last sync. */
void dist_append(struct dist *into, const struct dist *from);
int dist_interval(const struct dist *prev, const struct dist *cur,
		  unsigned nbins, struct dist_result *out);

/* Type-6 N from a distribution rule's value field (byte 1); default 60. */
unsigned dist_nbins_from_rule(const uint8_t value[DIST_RULE_BYTES]);
/* The type-6 N a ruleset asks for: that of its first ToTurnaroundTime
 * distribution rule (PushPktTo[Act]), else DIF_DIST_DEFAULT_BINS. */
unsigned dist_ruleset_nbins(const struct ruleset *rs);

/* ---- RFC 2724 static distributions ---- */

/* Per rule: the parameters and the precomputed bucket bounds. */
struct dist_static_spec {
	uint8_t transform;     /* DIF_DIST_LINEAR or DIF_DIST_LOG */
	uint8_t scale;         /* power of 10 */
	uint16_t lower, upper; /* highest value of first / last bucket, unscaled */
	uint8_t buckets;       /* without the overflow bucket */
	uint8_t param1;
	uint16_t param2, param3;
	double bound[DIST_MAX_NBINS];   /* bucket upper bounds, measurement units */
};

/* Per flow: buckets then overflow; cumulative. */
struct dist_static {
	uint64_t n;
	uint64_t counts[DIF_DIST_MAX_COUNTS];
};

/*
 * Decode the rule's 6-byte mask (transform, scale, lower!upper) and value
 * (buckets, param1, param2!param3), right-padded with zeros by the caller.
 * Returns 0, or -1 with *why set ("unknown transform 3", ...).
 */
int dist_static_spec_init(struct dist_static_spec *s,
			  const uint8_t mask[DIST_RULE_BYTES],
			  const uint8_t value[DIST_RULE_BYTES],
			  const char **why);
void dist_static_init(struct dist_static *d);
/* Bucket of a value: first with value <= bound, else s->buckets (overflow). */
unsigned dist_static_bucket(const struct dist_static_spec *s, uint64_t value);
void dist_static_add(const struct dist_static_spec *s, struct dist_static *d,
		     uint64_t value);
/* The interval between two snapshots (prev NULL: since the start), as a
 * type 1/2 dif_dist.  Returns 0, or -1 when cur is not later than prev. */
int dist_static_interval(const struct dist_static_spec *s,
			 const struct dist_static *prev,
			 const struct dist_static *cur,
			 struct dist_result *out);

/* Percentile of an interval (dif_dist_percentile, doc §5.2). */
static inline int dist_percentile(const struct dist_result *r, double p,
				  double *out)
{
	return dif_dist_percentile(&r->d, p, out);
}

#endif
