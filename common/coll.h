/*
 * coll.h — the collector: successive cumulative readings of flows in,
 * interval records for a .dif file out.
 *
 * The meter keeps cumulative state (counters, a turnaround distribution's
 * histogram + ring of recent values, RFC 2724 bucket counts).  Whoever reads
 * it — the offline meter at each interval end, ntm-reader after each SNMP
 * collection — hands this module one reading per flow; the module keeps the
 * previous reading of every distribution so each record carries the
 * interval's own distribution (dist_interval / dist_static_interval), and
 * forgets a flow when its (ruleset, flow index) comes back with another
 * FirstTime (the record was reused; RFC 2722 §5).  Sharing this code is what
 * makes a reader's file equal the offline file for the same packets.
 */
#ifndef NTM_COLL_H
#define NTM_COLL_H

#include <stddef.h>
#include <stdint.h>

#include "dif.h"
#include "dist.h"

/* What one attribute of one reading holds. */
enum coll_kind {
	COLL_NONE = 0,   /* the flow has no value: written as "-" */
	COLL_BYTES,      /* bytes[0..width), big-endian / network order */
	COLL_DIST,       /* dist: cumulative turnaround distribution */
	COLL_STATIC      /* spec + sdist: cumulative RFC 2724 distribution */
};

struct coll_value {
	uint16_t attr;
	uint8_t kind;                          /* enum coll_kind */
	uint8_t width;                         /* COLL_BYTES */
	uint8_t bytes[DIF_VALUE_MAX];
	const struct dist *dist;               /* COLL_DIST */
	const struct dist_static_spec *spec;   /* COLL_STATIC */
	const struct dist_static *sdist;       /* COLL_STATIC */
};

/* Set v to attribute `attr` as a big-endian unsigned of `width` bytes. */
void coll_value_uint(struct coll_value *v, unsigned attr, uint64_t x,
		     unsigned width);

struct coll;

/* A collector for records in format `fmt` (copied).  NULL when out of
 * memory. */
struct coll *coll_create(const struct dif_format *fmt);
void coll_free(struct coll *c);

/* Number of attribute (non-separator) items of the format: the length of
 * the vals array coll_add takes. */
size_t coll_n_attrs(const struct coll *c);
/* Attribute number of the i-th attribute item. */
unsigned coll_attr(const struct coll *c, size_t i);

/* Type-6 bin count for flows of ruleset `set` (default
 * DIF_DIST_DEFAULT_BINS). 0 or -1 (out of memory / nbins too large). */
int coll_set_nbins(struct coll *c, uint32_t set, unsigned nbins);

/* Start an interval: the records of the previous one are dropped. */
void coll_begin(struct coll *c);

/*
 * One flow's reading: vals[i] is the i-th attribute of the format (COLL_DIST
 * and COLL_STATIC values are copied, not kept).  (set, index, first_id)
 * identify the flow; first_id is whatever tells a reused index apart
 * (FirstTime in ns or in centiseconds, used consistently).  Appends one
 * record.  0, or -1 (errno ENOMEM, or EINVAL when a distribution went
 * backwards: the reading is not later than the previous one).
 */
int coll_add(struct coll *c, uint32_t set, uint32_t index, uint64_t first_id,
	     const struct coll_value *vals);

/* Forget everything about one flow (its record was recovered). */
void coll_forget(struct coll *c, uint32_t set, uint32_t index);

/* Forget every flow of a ruleset (the ruleset was replaced or the meter
 * restarted). */
void coll_forget_set(struct coll *c, uint32_t set);

/* The records added since coll_begin, valid until the next coll_begin or
 * coll_add. */
const struct dif_record *coll_records(const struct coll *c, size_t *n);

#endif
