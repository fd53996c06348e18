/*
 * statdist.h — RFC 2724 static distributions (types 1 linear / 2 log) kept
 * per flow: ToPacketSize … FromPDURate (attributes 66–75).
 *
 * Two parts:
 *  - statdist_rules: per ruleset, the parameters of every distribution the
 *    rule table requests (the 6-byte mask and value of its push rules),
 *    decoded once at load (dist_static_spec_init);
 *  - statdist_pool: per flow index a small state record (last packet time
 *    per direction, rate-interval bookkeeping, which distributions it has)
 *    and, from a pool of fixed size, one struct dist_static per requested
 *    attribute.  Everything is allocated at creation; a flow whose request
 *    finds the pool empty is refused (counted once per flow and attribute).
 *
 * What each attribute measures (ntm's decisions where RFC 2724 is silent,
 * doc/srl.md):
 *  - 66/67 To/FromPacketSize: the octets the flow counts for the packet
 *    (its wire length), per direction;
 *  - 68/69 To/FromInterarrivalTime: µs since the flow's previous packet in
 *    the same direction;
 *  - 70/71 To/FromTurnaroundTime: µs between packets in opposite directions.
 *    A From packet whose predecessor in the flow was a To packet gives
 *    ToTurnaroundTime a sample: the time since that (latest) To packet;
 *    symmetrically a To packet after a From packet gives FromTurnaroundTime
 *    the time since the latest From packet.  DNS traffic (a DNS message,
 *    or any UDP/TCP segment of port 53: TCP handshakes and ACKs answer no
 *    request) takes no part in this rule: for DNS the answer is the one
 *    the pairing found, so every RTT sample of the pairing goes to
 *    ToTurnaroundTime (as it goes to the dynamic, transform-3
 *    distribution);
 *  - 72–75 To/FromBitRate, To/FromPDURate: Parameter-1 (value byte 2) is
 *    the rate interval P in seconds (1..255; 0 is a load error).  The
 *    intervals start at the packet that first requested the distribution
 *    and follow each other every P s.  The first packet of the flow
 *    (either direction) at or after an interval's end closes it: the
 *    interval's octets × 8 / P (bit/s) or PDUs / P (PDU/s), integer,
 *    rounded down, go into the
 *    distribution, and every further whole interval that passed without a
 *    packet counts a rate of 0 (RFC 2724 §2: every P s the meter computes
 *    the rate from a saved copy of the counter).  Intervals after the
 *    flow's last packet are never closed: they would only add zeros for a
 *    flow that has ended.
 * Per packet (statdist_packet, statdist_dns_rtt): no allocation, no
 * syscalls.
 */
#ifndef NTM_STATDIST_H
#define NTM_STATDIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "diag.h"
#include "dist.h"
#include "flow.h"
#include "rule.h"

#define STATDIST_FIRST_ATTR ATTR_TO_PACKET_SIZE      /* 66 */
#define STATDIST_N          10                       /* attributes 66..75 */
#define STATDIST_RATES      4                        /* 72..75 */
#define STATDIST_DYNAMIC    3u   /* transform of ntm's dynamic RTT kind */

/* Is attr one of 66..75; its slot 0..9; its bit in attribute 65
 * (RFC 2724 §4: bit 0 is attribute 66). */
static inline bool statdist_is_attr(unsigned attr)
{
	return attr >= STATDIST_FIRST_ATTR && attr < STATDIST_FIRST_ATTR + STATDIST_N;
}

static inline unsigned statdist_slot(unsigned attr)
{
	return attr - STATDIST_FIRST_ATTR;
}

static inline uint32_t statdist_bit(unsigned attr)
{
	return 1u << statdist_slot(attr);
}

/* The static distributions one ruleset requests. */
struct statdist_rules {
	uint16_t present;                      /* statdist_bit() of each */
	bool dynamic_rtt;                      /* ToTurnaroundTime transform 3 */
	uint32_t rule[STATDIST_N];             /* 1-based rule that asked */
	struct dist_static_spec spec[STATDIST_N];
};

/*
 * Scan rs for pushes of 66..75 and decode their parameters.  Transform 3
 * on ToTurnaroundTime is ntm's dynamic distribution (dist.h), not kept
 * here.  Errors (into d, naming the rule): bad parameters, transform 3 on
 * another attribute, a rate interval of 0, the same attribute requested by
 * two rules with different parameters (a flow has one distribution per
 * attribute).  Returns 0 or -1.
 */
int statdist_rules_init(struct statdist_rules *r, const struct ruleset *rs,
			struct diag *d);

struct statdist_pool;

struct statdist_stats {
	size_t slots, used;        /* dist_static pool */
	uint64_t refused;          /* (flow, attribute) requests refused */
};

/* State for flow indexes 1..max_flows and n_dists distributions; NULL when
 * out of memory. */
struct statdist_pool *statdist_pool_create(size_t max_flows, size_t n_dists);
void statdist_pool_free(struct statdist_pool *p);

/*
 * The ruleset asked flow `index` for the distributions in m (statdist_bit
 * mask) with the parameters in r.  Attributes the flow has already are
 * left alone; the others take a pool entry (or are refused, counted).
 * A flow keeps the rules of its first request.  Returns the bits refused.
 */
uint32_t statdist_request(struct statdist_pool *p, uint32_t index,
			  const struct statdist_rules *r, uint32_t m);

/*
 * One packet counted into flow f (index), after flow_account: reverse =
 * the From counters moved, octets = what was counted, dns = the packet
 * is DNS traffic (no turnaround by the packet rule, see above).
 */
void statdist_packet(struct statdist_pool *p, uint32_t index,
		     const struct flow *f, bool reverse, uint32_t octets,
		     uint64_t ts_ns, bool dns);

/* A DNS pairing RTT sample for flow `index`: ToTurnaroundTime. */
void statdist_dns_rtt(struct statdist_pool *p, uint32_t index, uint64_t rtt_us);

/* The flow's record is being recovered: its entries go back to the pool. */
void statdist_release(struct statdist_pool *p, uint32_t index);

/* What flow `index` has: the bit mask (0 = none) and, for each bit set,
 * the rules (parameters) and the cumulative counts. */
uint32_t statdist_have(const struct statdist_pool *p, uint32_t index);
const struct statdist_rules *statdist_rules_of(const struct statdist_pool *p,
					       uint32_t index);
const struct dist_static *statdist_get(const struct statdist_pool *p,
				       uint32_t index, unsigned attr);

void statdist_stats(const struct statdist_pool *p, struct statdist_stats *out);

#endif
