/*
 * dnspair.h — matching DNS requests to responses (DESIGN.md, "Matching DNS
 * requests to responses").
 *
 * Key: transport (UDP/TCP), IP version, client address+port, server
 * address+port, DNS ID, and the question (qname hash, QTYPE, QCLASS) when
 * both messages captured it: a response cut before its question (96-byte
 * snaplen) still pairs by the rest, but two messages that both carry a
 * question pair only when the questions are equal.
 *
 *  - A request (QR=0) makes a pending entry remembering its time and the
 *    flow it was counted to (flow index + FirstTime, so a flow recovered
 *    and reused meanwhile is never credited).
 *  - A request whose key is pending is a retransmission; the entry's time
 *    moves to it: RTT = response - latest matching request (tshark's
 *    dns.time).  A request whose key was already answered starts a new
 *    exchange (a plain request).
 *  - A response whose key is pending and unanswered is answered: one RTT
 *    sample.  The entry stays until the timeout so a further response is a
 *    duplicate (no second sample).  A response with no live entry is
 *    unmatched.
 *  - An entry is expired once the packet clock is >= its time + timeout
 *    (default 5 s): if unanswered it is lost.  Expired entries never pair
 *    even before they are swept.
 *  - The pending table has a fixed capacity; when full the oldest entry is
 *    evicted.  An evicted unanswered request is counted lost (it can no
 *    longer be paired) and in stats.evicted.
 *
 * RTT samples are in µs, rounded to nearest (half up): (ns + 500) / 1000.
 * A response stamped before its request (clock steps between interfaces)
 * gives 0 and is counted in stats.negative_rtt.
 *
 * Counters go to flows (struct flow_dns): requests, retransmits and lost to
 * the flow the request was counted to; responses, answered, duplicates,
 * unmatched and rtt_samples to the response's flow (the same flow when the
 * ruleset keys by server).  Every exchange ends answered or lost:
 * requests - retransmits = answered + lost + still pending.
 *
 * One instance pairs the packets counted into one ruleset's flows (a packet
 * counted by several rulesets goes to each ruleset's instance).  Time is the
 * packet clock (trace time offline).  Hot path: no allocation, no locks, no
 * syscalls; each packet also expires at most DNSPAIR_SWEEP_PER_PACKET old
 * entries, which keeps up because a packet adds at most one.
 */
#ifndef NTM_DNSPAIR_H
#define NTM_DNSPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "flow.h"
#include "packet.h"

#define DNSPAIR_DEFAULT_TIMEOUT_NS 5000000000ull
#define DNSPAIR_SWEEP_PER_PACKET 2u
#define DNSPAIR_MAX_CAPACITY (1u << 30)

enum dnspair_event {
	DNSPAIR_NONE = 0,       /* not a DNS message (or no ports): ignored */
	DNSPAIR_REQUEST,        /* new exchange pending */
	DNSPAIR_RETRANSMIT,     /* request repeated while pending */
	DNSPAIR_ANSWER,         /* response paired: *sample filled */
	DNSPAIR_DUPLICATE,      /* further response to an answered request */
	DNSPAIR_UNMATCHED       /* response with no live request */
};

/* One RTT: the caller adds it to the flow's distribution and to the
 * --samples CSV (time_ns,flow,rtt_us). */
struct dnspair_sample {
	struct flow *flow;      /* the response's flow (NULL if none given;
	                           flow_index() numbers it) */
	uint64_t rtt_us;
	uint64_t ts_ns;         /* the response's time */
};

struct dnspair_stats {
	uint64_t requests, retransmits;
	uint64_t responses, answered, duplicates, unmatched;
	uint64_t lost;          /* timed out or evicted unanswered */
	uint64_t evicted;       /* entries pushed out by a full table */
	uint64_t stale_flow;    /* credits dropped: the flow was recovered */
	uint64_t negative_rtt;
	size_t pending;         /* entries held now (answered ones included) */
	size_t peak_pending;
};

struct dnspair;

/* Pairing for the flows of table t: `capacity` pending entries
 * (1..DNSPAIR_MAX_CAPACITY), timeout_ns > 0.  NULL on bad arguments or out
 * of memory. */
struct dnspair *dnspair_create(struct flow_table *t, size_t capacity,
			       uint64_t timeout_ns);
void dnspair_free(struct dnspair *p);

/*
 * One decoded packet (pi->dns_present says whether it is DNS) counted into
 * flow f (NULL: the ruleset did not count it; it is still paired, only no
 * flow is credited).  Returns what it was; on DNSPAIR_ANSWER *sample
 * (may be NULL) holds the RTT.
 */
enum dnspair_event dnspair_packet(struct dnspair *p, const struct pkt_info *pi,
				  struct flow *f, struct dnspair_sample *sample);

/*
 * A message's pairing key and its index tag, made once by dnspair_hint()
 * for every instance (they do not depend on one) and for both the
 * prefetch and the pairing.  Valid only for the message it was made
 * from: a TCP segment's next message (decode_dns_next) needs a new one.
 * The rest of what the pairing reads (QR, the question) it reads from
 * the message's struct pkt_info itself.
 *
 * The key is the part every message has, as the words it is hashed and
 * compared by.  IPv6: client address (words DNSPAIR_KEY_CLIENT, +1),
 * server address (DNSPAIR_KEY_SERVER, +1).  IPv4: both addresses in
 * word DNSPAIR_KEY_CLIENT, the client's in the low 32 bits, the other
 * three address words zero.  Then one word of client port, server port,
 * DNS ID, transport (1 = TCP) and IP version (1 = IPv6; DNSPAIR_REST_*
 * shifts).
 */
#define DNSPAIR_KEY_WORDS 5
struct dnspair_key {
	uint64_t w[DNSPAIR_KEY_WORDS];
};
struct dnspair_hint {
	struct dnspair_key k;
	uint32_t tag;
	bool pairs;             /* a DNS message with ports */
};

enum { DNSPAIR_KEY_CLIENT = 0, DNSPAIR_KEY_SERVER = 2, DNSPAIR_KEY_REST = 4 };
enum {
	DNSPAIR_REST_PORTS = 0,  /* both ports (see below) */
	DNSPAIR_REST_ID = 32, DNSPAIR_REST_TCP = 48, DNSPAIR_REST_IPV6 = 56
};
/* the question word (dnspair.c) is QTYPE, QCLASS and the QNAME hash read
 * at once */
_Static_assert(offsetof(struct pkt_dns, qclass) == offsetof(struct pkt_dns, qtype) + 2 &&
	       offsetof(struct pkt_dns, qname_hash) == offsetof(struct pkt_dns, qtype) + 4,
	       "struct pkt_dns keeps QTYPE, QCLASS, QNAME hash together");
/* both ports are read as one word (which half is the source's depends on
 * the byte order; a response swaps them either way) */
_Static_assert(sizeof(((struct pkt_info *)0)->port) == sizeof(uint32_t),
	       "struct pkt_info's two ports make one 32-bit word");
#define DNSPAIR_IPV6 6u
#define DNSPAIR_IPV6_ADDR_WORDS 2u

/*
 * The tag: the addresses folded two words into one (the server's rotated
 * by half, so an IPv4 pair, one word already, is its own fold; an IPv6
 * server is not chosen by the client, so the fold gives it no collisions
 * to aim at), each of the three words times its own odd constant, the
 * products xored; flow_hash_tag() folds their well mixed high halves into
 * the low bits the index uses.  Clients choose ports and IDs, hence
 * multiplication rather than a plain xor of the fields.  The products do
 * not wait for each other.
 */
#define DNSPAIR_MIX_MUL1 0xff51afd7ed558ccdULL
#define DNSPAIR_MIX_MUL2 0xc4ceb9fe1a85ec53ULL
#define DNSPAIR_MIX_MUL3 0x9e3779b97f4a7c15ULL   /* 2^64 / golden ratio */
#define DNSPAIR_HALF_BITS 32
#define DNSPAIR_PORT_BITS 16

/* x with its halves swapped: a response's source and destination (as one
 * word) turned into its client and server */
static inline uint64_t dnspair_swap64_(uint64_t x)
{
	return x << DNSPAIR_HALF_BITS | x >> DNSPAIR_HALF_BITS;
}

/* the same for the two ports */
static inline uint32_t dnspair_swap32_(uint32_t x)
{
	return x << DNSPAIR_PORT_BITS | x >> DNSPAIR_PORT_BITS;
}

static inline uint32_t dnspair_tag_(uint64_t addr0, uint64_t addr1, uint64_t rest)
{
	return flow_hash_tag(addr0 * DNSPAIR_MIX_MUL1 ^ addr1 * DNSPAIR_MIX_MUL2 ^
			     rest * DNSPAIR_MIX_MUL3);
}

/* Inline: the engine makes one for every DNS message, before the PME.
 * The client is the requester: the source of a request, the destination
 * of a response; a response's fields are swapped into that order without
 * a branch. */
static inline void dnspair_hint(const struct pkt_info *pi, struct dnspair_hint *h)
{
	h->pairs = pi->dns_present && pi->has_ports;
	if (!h->pairs) {
		h->tag = 0;     /* dnspair_prefetch() fetches a slot regardless */
		return;
	}
	bool response = pi->dns.qr != 0;
	uint64_t *w = h->k.w;
	uint32_t ports;
	memcpy(&ports, pi->port, sizeof(ports));
	ports = response ? dnspair_swap32_(ports) : ports;
	uint64_t rest = (uint64_t)ports << DNSPAIR_REST_PORTS |
			(uint64_t)pi->dns.id << DNSPAIR_REST_ID |
			(uint64_t)pi->dns.over_tcp << DNSPAIR_REST_TCP;
	if (pi->ip_version == DNSPAIR_IPV6) {
		/* the version bit set here, where the branch knows it */
		rest |= 1ull << DNSPAIR_REST_IPV6;
		w[DNSPAIR_KEY_REST] = rest;
		uint64_t src[DNSPAIR_IPV6_ADDR_WORDS], dst[DNSPAIR_IPV6_ADDR_WORDS];
		memcpy(src, pi->addr[0], sizeof(src));
		memcpy(dst, pi->addr[1], sizeof(dst));
		/* selects, not indexing: the words stay in registers */
		uint64_t c0 = response ? dst[0] : src[0], c1 = response ? dst[1] : src[1];
		uint64_t s0 = response ? src[0] : dst[0], s1 = response ? src[1] : dst[1];
		w[DNSPAIR_KEY_CLIENT] = c0;
		w[DNSPAIR_KEY_CLIENT + 1] = c1;
		w[DNSPAIR_KEY_SERVER] = s0;
		w[DNSPAIR_KEY_SERVER + 1] = s1;
		h->tag = dnspair_tag_(c0 ^ dnspair_swap64_(s0), c1 ^ dnspair_swap64_(s1), rest);
	} else {
		uint32_t src, dst;
		memcpy(&src, pi->addr[0], sizeof(src));
		memcpy(&dst, pi->addr[1], sizeof(dst));
		w[DNSPAIR_KEY_REST] = rest;
		uint64_t pair = (uint64_t)dst << DNSPAIR_HALF_BITS | src;
		pair = response ? dnspair_swap64_(pair) : pair;
		w[DNSPAIR_KEY_CLIENT] = pair;
		w[DNSPAIR_KEY_CLIENT + 1] = 0;
		w[DNSPAIR_KEY_SERVER] = 0;
		w[DNSPAIR_KEY_SERVER + 1] = 0;
		h->tag = dnspair_tag_(pair, 0, rest);
	}
}

/* dnspair_packet(p, pi, f, sample) for h made from pi's current message. */
enum dnspair_event dnspair_packet_hinted(struct dnspair *p, const struct pkt_info *pi,
					 const struct dnspair_hint *h, struct flow *f,
					 struct dnspair_sample *sample);

/*
 * For a caller with other work to do before dnspair_packet_hinted(p, ...,
 * h, ...): start fetching the index slot h's key will probe (the pending
 * table is larger than the caches, and the probe is otherwise a cache
 * miss on every DNS message).  Changes nothing; h need not pair (its
 * tag is then 0).  Inline (a call would cost more than the fetch), and
 * always: GCC deems a function of prefetches pure and drops a call it has
 * not inlined.  struct dnspair begins with its index (dnspair.c).
 */
static inline __attribute__((always_inline)) void dnspair_prefetch(const struct dnspair *p,
								     const struct dnspair_hint *h)
{
	const struct flow_hindex *index = (const struct flow_hindex *)(const void *)p;
	__builtin_prefetch(&index->slot[h->tag & index->mask]);
}

/* When on, each RTT sample is also added (dist_add) to the response flow's
 * distribution, flow_dist(t, flow), if the table's pool has one for it.
 * Off by default: the caller adds *sample where its ruleset wants it. */
void dnspair_feed_dists(struct dnspair *p, bool on);

/* Expire up to max entries (oldest first) whose time + timeout <= now_ns;
 * returns how many were lost.  At the end of a trace the caller may pass
 * UINT64_MAX to count every unanswered request as lost. */
size_t dnspair_expire(struct dnspair *p, uint64_t now_ns, size_t max);

void dnspair_stats(const struct dnspair *p, struct dnspair_stats *out);

/* Bytes per pending entry, index slots included (for sizing reports). */
size_t dnspair_entry_bytes(void);

#endif
