/*
 * flowattr.h — reading one attribute of a flow held by the engine: the one
 * place that knows where each RTFM attribute of a flow lives (the flow key,
 * the counters, the DNS counters, the distributions) and how wide it is.
 * Used by the offline writer and by the SNMP agent (flowDataTable and the
 * package tables), so a file written offline and one written by a reader
 * from the agent carry the same values.
 */
#ifndef NTM_FLOWATTR_H
#define NTM_FLOWATTR_H

#include <stdbool.h>
#include <stdint.h>

#include "coll.h"
#include "engine.h"

#define FLOWATTR_NS_PER_CS 10000000ull

/* Meter uptime in centiseconds (RFC 2720 TimeStamp) of time ts_ns for a
 * meter started at start_ns (0 before the start). */
static inline uint32_t flowattr_uptime_cs(uint64_t start_ns, uint64_t ts_ns)
{
	return ts_ns > start_ns ? (uint32_t)((ts_ns - start_ns) / FLOWATTR_NS_PER_CS) : 0;
}

/*
 * Attribute `attr` of flow f (flow index `index`) into *out: COLL_BYTES
 * with the width the .dif writer expects, COLL_DIST / COLL_STATIC pointing
 * at the flow's live cumulative distribution, or COLL_NONE when the flow
 * has no such value (e.g. an address its ruleset did not SAVE).
 * start_ns is the meter's start (uptime 0) for FirstTime/LastActiveTime.
 */
void flowattr_get(const struct engine *e, const struct flow *f,
		  uint32_t index, uint64_t start_ns, unsigned attr,
		  struct coll_value *out);

/*
 * When the flow last changed (RMON TimeFilter "row changed"): its
 * LastActiveTime, or later when a DNS request of it was counted lost since
 * (a timeout moves the lost counter without any packet).  A reader asking
 * for flows changed since T gets f when this is >= T.
 */
static inline uint64_t flowattr_changed_ns(const struct flow *f)
{
	return f->dns.lost_ns > f->last_ns ? f->dns.lost_ns : f->last_ns;
}

/*
 * Has f changed since a reading at t_ns (a reader's previous collection)?
 * A packet at or after t_ns, or a request lost after t_ns: the DNS expiry
 * runs before each reading, so a loss at exactly t_ns was in that reading.
 * The agent's TimeFilter passes t_ns = start_ns + T × 10 ms.
 */
static inline bool flowattr_changed_since(const struct flow *f, uint64_t t_ns)
{
	return f->last_ns >= t_ns || f->dns.lost_ns > t_ns;
}

#endif
