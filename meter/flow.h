/*
 * flow.h — the flow table (RFC 2722 §2–§4.5): fixed capacity set at
 * creation, no allocation afterwards.
 *
 * Records live in a slab; a record's position + 1 is its flow index
 * (RFC 2720 flowIndex), stable for the flow's life.  A recovered record is
 * reused (most recently freed first); its new FirstTime tells the reuse
 * apart, as (FirstTime, RuleSet, FlowIndex) identifies a flow (RFC 2722
 * §5).  The keys sit in a parallel array of fixed-size slots (cold: read on
 * lookup and collection only) so a record is two cache lines, the first
 * holding everything a non-DNS packet touches.
 *
 * The search index is open addressing with linear probing and backward-shift
 * deletion (no tombstones, so lookups stay short after heavy churn), at most
 * half full.  Each slot carries a 32-bit tag of the key's hash so most
 * probes never touch a key.  The index is exposed (flow_hindex_*) because
 * the DNS pairing uses the same structure.
 *
 * States (RFC 2722 §4.3): inactive (free), current, idle (no packet for the
 * inactivity timeout, found by flow_gc).  Both current and idle records are
 * "in use": a packet for an idle flow makes it current again, so the
 * procedure's current(A->B) test means "in use" here.  RFC 2722 §4.5 lets
 * a new flow take an idle record when no inactive one is left; here only
 * flow_gc frees records (idle AND collected), so a full table refuses the
 * new flow (counted) and never drops uncollected data: the meter's
 * HighWaterMark / FloodMark policy (flow_table_usage_percent) acts first.
 *
 * Hot path (flow_lookup, flow_first_slot, flow_insert, flow_account,
 * flow_account_current, flow_count_packet, flow_cookie_current): no
 * allocation, no locks, no syscalls (flow_insert's renumbering, once per
 * 2^32 creations, walks the records).  A table belongs to one thread.
 */
#ifndef NTM_FLOW_H
#define NTM_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "dist.h"
#include "flowkey.h"

/* Largest capacity: flow indexes and index slots are 32-bit. */
#define FLOW_MAX_CAPACITY (1u << 30)

enum flow_state {
	FLOW_INACTIVE = 0,
	FLOW_CURRENT  = 1,
	FLOW_IDLE     = 2
};

/* ntm's per-flow DNS counters (attr.h 520..527), kept by the DNS pairing. */
struct flow_dns {
	uint64_t requests;      /* QR=0 messages counted to this flow (retransmissions included) */
	uint64_t responses;     /* QR=1 messages counted to this flow */
	uint64_t answered;      /* responses that paired with a pending request */
	uint64_t lost;          /* requests that timed out (or were evicted) unanswered */
	uint64_t retransmits;   /* requests repeated while the first was pending */
	uint64_t unmatched;     /* responses with no pending request */
	uint64_t duplicates;    /* further responses to an answered request */
	/* RTT samples taken: always == answered (a sample is taken exactly
	 * when a response pairs), so attribute 527 reads `answered`; the slot
	 * holds instead when `lost` last moved (the timed-out request's
	 * deadline, or the eviction time; flowattr_changed_ns). */
	uint64_t lost_ns;
};

struct flow {
	/* first cache line: what every counted packet touches */
	uint64_t last_ns;       /* LastActiveTime, ns since the epoch */
	/* a packet moves one octets and one pdus counter: not side by side,
	 * so they are two adds, not a vector add of a pair built first */
	uint64_t to_octets;     /* source -> dest (forward) */
	uint64_t from_octets;   /* dest -> source (reverse) */
	uint64_t to_pdus;
	uint64_t from_pdus;
	uint64_t first_ns;      /* FirstTime, ns since the epoch */
	uint32_t tag;           /* hash tag in the index (flow_hash_tag) */
	uint32_t dist;          /* slot + 1 in the table's distribution pool,
	                           0 = none yet (flow_dist) */
	uint8_t state;          /* enum flow_state */
	uint8_t pad_[3];
	uint32_t gen;           /* generation: unique among the table's
	                           records in its era (flow_cookie) */
	/* second cache line */
	struct flow_dns dns;
};

struct flow_stats {
	size_t capacity;
	size_t active;              /* current + idle records */
	size_t idle;
	size_t peak;                /* most records ever active at once */
	uint64_t created;
	uint64_t recovered;
	uint64_t insert_failures;   /* new flows refused: table full */
	uint64_t key_too_long;      /* new flows refused: key > max_key_len */
	size_t dist_slots;          /* distribution pool size (0 = no pool) */
	size_t dist_used;
	uint64_t dist_failures;     /* flow_dist found the pool empty */
};

struct flow_table;

/* A table of `capacity` records (1..FLOW_MAX_CAPACITY); NULL when out of
 * memory or capacity is out of range. */
struct flow_table *flow_table_create(size_t capacity);
/* The same with key slots of max_key_len data bytes (1..FLOW_KEY_BYTES)
 * instead of FLOW_KEY_BYTES: the PME knows the longest key its rulesets can
 * push, and most keys are far shorter than 192 bytes (a 5-tuple is 41), so
 * this saves most of the key memory.  A longer key is refused by
 * flow_insert (counted in key_too_long). */
struct flow_table *flow_table_create_sized(size_t capacity, size_t max_key_len);
void flow_table_free(struct flow_table *t);

/* The index tag of a 64-bit key hash (flow_key_hash). */
static inline uint32_t flow_hash_tag(uint64_t hash)
{
	return (uint32_t)hash ^ (uint32_t)(hash >> 32);
}

/* The in-use (current or idle) record for key k, or NULL.  `hash` is
 * flow_key_hash(k); tests may pass any value as long as it is consistent. */
struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k, uint64_t hash);

/* Create the record for k (which must not be in the table) with FirstTime =
 * LastTime = ts_ns and zero counters.  NULL when the table is full (counted
 * in insert_failures; the meter's FloodMark policy decides what next) or k
 * is longer than the table's key slots (key_too_long). */
struct flow *flow_insert(struct flow_table *t, const struct flow_key *k,
			 uint64_t hash, uint64_t ts_ns);

/* Count one PDU of `octets` into f (reverse = the From, dest -> source,
 * counters); an idle flow becomes current.  LastTime never moves
 * backwards (out-of-order timestamps from several interfaces). */
void flow_account(struct flow_table *t, struct flow *f, bool reverse,
		  uint32_t octets, uint64_t ts_ns);

/* flow_account() for a current flow f (inline: it runs for every counted
 * packet). */
static inline bool flow_current(const struct flow *f)
{
	return f->state == FLOW_CURRENT;
}

static inline void flow_account_current(struct flow *f, bool reverse,
					uint32_t octets, uint64_t ts_ns)
{
	if (reverse) {
		f->from_octets += octets;
		f->from_pdus++;
	} else {
		f->to_octets += octets;
		f->to_pdus++;
	}
	if (ts_ns > f->last_ns)
		f->last_ns = ts_ns;
}

/* flow_count_packet() for the rest: the whole lookup, the other way
 * round, create(). */
struct flow *flow_count_packet_rest(struct flow_table *t, const struct flow_key *key,
				    uint64_t hash, bool reversed, uint32_t octets,
				    uint64_t ts_ns, bool *counted_reverse);

/* The lookup half of flow_count_packet, without create() (for flood mode:
 * count into existing flows only): the record the packet belongs to, or
 * NULL; *counted_reverse (may be NULL) as above. */
struct flow *flow_find_packet(struct flow_table *t, const struct flow_key *key,
			      uint64_t hash, bool reversed, bool *counted_reverse);

/* Return a record to inactive (e.g. its ruleset was destroyed). */
void flow_remove(struct flow_table *t, struct flow *f);

/*
 * Garbage collection (RFC 2722 §4.5, RFC 2123's incremental collector).
 * Inspects up to max_inspect records from a cursor that persists between
 * calls (so the whole table is covered in capacity / max_inspect calls).  A
 * current record with no packet for >= inactivity_ns becomes idle; an idle
 * record whose LastTime is before collected_until_ns (the minimum
 * ReaderLastTime of the readers collecting its ruleset: everything it did
 * has been collected) is recovered.  Pass UINT64_MAX when no reader is
 * registered (an offline run passes the interval end it just wrote).
 * Returns the number of records recovered.
 */
size_t flow_gc(struct flow_table *t, uint64_t now_ns, uint64_t inactivity_ns,
	       uint64_t collected_until_ns, size_t max_inspect);

/* The same with a collection time per ruleset: collected_until[r] for
 * ruleset r < n, UINT64_MAX (no reader) for the others. */
size_t flow_gc_rulesets(struct flow_table *t, uint64_t now_ns,
			uint64_t inactivity_ns, const uint64_t *collected_until,
			size_t n, size_t max_inspect);

/*
 * Turnaround distributions (dist.h, ~8 KB each) live in a pool sized at
 * start, since few flows (those of rulesets that keep distributions) need
 * one.  flow_table_enable_dists allocates n_slots (0 or -1).  flow_dist
 * gives f's distribution, taking and initialising a free slot on the first
 * call (O(1), no allocation); NULL when the pool is empty (counted) or not
 * enabled.  flow_dist_peek never takes a slot.  The slot returns to the
 * pool when the record is recovered.
 */
int flow_table_enable_dists(struct flow_table *t, size_t n_slots);
/* flow_dist() is inline below (flow_table_hot); this is its part for a
 * flow with no slot yet. */
struct dist *flow_dist_take(struct flow_table *t, struct flow *f);
const struct dist *flow_dist_peek(const struct flow_table *t, const struct flow *f);
/* flow_dist_peek(t, f) != NULL, inline (asked for every counted packet) */
static inline bool flow_has_dist(const struct flow *f)
{
	return f->dist != 0;
}

/* Called for each record just before flow_gc / flow_remove frees it (e.g.
 * to flush what a reader has not seen); the table releases the record's
 * distribution slot itself, after the call.  fn NULL = none. */
typedef void (*flow_recover_fn)(struct flow *f, uint32_t index, void *arg);
void flow_table_on_recover(struct flow_table *t, flow_recover_fn fn, void *arg);

void flow_table_stats(const struct flow_table *t, struct flow_stats *out);

/* Active records as a percentage of capacity, rounded down: what the meter
 * compares with HighWaterMark (standby) and FloodMark (flood mode). */
unsigned flow_table_usage_percent(const struct flow_table *t);
size_t flow_table_capacity(const struct flow_table *t);

/* flow_index(t, f), the flow index (1-based) of a record of t, is inline
 * below (flow_table_hot). */
/* The in-use record with that index, or NULL. */
struct flow *flow_by_index(const struct flow_table *t, uint32_t index);
/* The flow's key.  With flow_table_create_sized the storage behind it may be
 * shorter than struct flow_key: read it through flowkey.h functions (they
 * read data[0..len) only), never copy it as a struct. */
const struct flow_key *flow_get_key(const struct flow_table *t, const struct flow *f);

/*
 * Collection walks, in flow-index order (the MIB's TimeFilter order): the
 * first in-use record with index > after_index and LastTime >= since_ns
 * (0 = every in-use record), or NULL.
 */
struct flow *flow_next_active(const struct flow_table *t, uint32_t after_index,
			      uint64_t since_ns);
/* cb for each such record; a non-zero return stops the walk and is
 * returned. */
typedef int (*flow_visit_fn)(struct flow *f, uint32_t index, void *arg);
int flow_foreach_active_since(const struct flow_table *t, uint64_t since_ns,
			      flow_visit_fn cb, void *arg);

/*
 * The search index, shared with the DNS pairing: slots hold a 1-based entry
 * number (0 = empty) and a 32-bit tag whose low bits pick the home slot.
 * At least twice as many slots as entries, so an insert always finds room
 * (the caller never stores more than `entries`).
 */
struct flow_hslot {
	uint32_t idx;
	uint32_t tag;
};

struct flow_hindex {
	struct flow_hslot *slot;
	uint32_t mask;
};

int flow_hindex_init(struct flow_hindex *h, size_t entries);   /* 0 or -1 */
void flow_hindex_fini(struct flow_hindex *h);
void flow_hindex_insert(struct flow_hindex *h, uint32_t tag, uint32_t idx);
/* Distance (in probes) from an entry's home slot to the slot it sits in. */
static inline uint32_t flow_hindex_dist_(uint32_t mask, uint32_t tag, uint32_t pos)
{
	return (pos - (tag & mask)) & mask;
}

/* Remove entry idx stored under tag; false when it is not there.  Inline:
 * the DNS pairing removes one per request it expires, and a call there
 * also spills what the pairing keeps in registers across it. */
static inline bool flow_hindex_remove(struct flow_hindex *h, uint32_t tag, uint32_t idx)
{
	/* in locals: the stores into the slots below could alias h as far
	 * as the compiler knows */
	struct flow_hslot *slot = h->slot;
	const uint32_t mask = h->mask;
	if (idx == 0)
		return false;           /* entries are 1-based: never stored */
	/* the entry is most often in its home slot: that compare first */
	uint32_t pos = tag & mask;
	while (slot[pos].idx != idx) {
		if (slot[pos].idx == 0)
			return false;
		pos = (pos + 1) & mask;
	}
	/* Backward shift: pull later entries of the cluster into the hole
	 * while that does not move them before their home slot. */
	uint32_t hole = pos;
	for (uint32_t j = (hole + 1) & mask; slot[j].idx != 0; j = (j + 1) & mask) {
		if (flow_hindex_dist_(mask, slot[j].tag, j) >= ((j - hole) & mask)) {
			slot[hole] = slot[j];
			hole = j;
		}
	}
	slot[hole] = (struct flow_hslot){ .idx = 0, .tag = 0 };
	return true;
}

/* Probe for tag: the first/next entry with that tag along its chain, 0 at
 * the end.  *pos is the cursor.  for (i = first(..); i; i = next(..)) */
static inline uint32_t flow_hindex_scan_(const struct flow_hindex *h,
					 uint32_t tag, uint32_t *pos)
{
	for (;;) {
		const struct flow_hslot *s = &h->slot[*pos];
		if (s->idx == 0)
			return 0;
		if (s->tag == tag)
			return s->idx;
		*pos = (*pos + 1) & h->mask;
	}
}

static inline uint32_t flow_hindex_first(const struct flow_hindex *h,
					 uint32_t tag, uint32_t *pos)
{
	*pos = tag & h->mask;
	return flow_hindex_scan_(h, tag, pos);
}

static inline uint32_t flow_hindex_next(const struct flow_hindex *h,
					uint32_t tag, uint32_t *pos)
{
	*pos = (*pos + 1) & h->mask;
	return flow_hindex_scan_(h, tag, pos);
}

/*
 * The fields of a table the first-slot lookup reads, and the distribution
 * pool: the first member of struct flow_table (flow.c, otherwise opaque),
 * so flow_first_slot(), flow_count_packet(), flow_index() and flow_dist()
 * can be inline.  Nothing outside flow.c and these functions touches them.
 */
struct flow_table_hot {
	struct flow *rec;          /* rec[i] has flow index i + 1 */
	uint8_t *keys;             /* key of rec[i] at keys + i * key_stride */
	size_t key_stride;
	struct flow_hindex index;
	struct dist *dists;        /* distribution pool; dists[s - 1] is slot s */
	uint32_t gen_era;          /* flow_gen_era() */
};

static inline const struct flow_table_hot *flow_table_hot(const struct flow_table *t)
{
	return (const struct flow_table_hot *)(const void *)t;
}

/* flow_index() and flow_dist() (above) are inline: the DNS pairing and the
 * engine ask for them on every RTT sample. */
static inline uint32_t flow_index(const struct flow_table *t, const struct flow *f)
{
	return (uint32_t)(f - flow_table_hot(t)->rec) + 1;
}

static inline struct dist *flow_dist(struct flow_table *t, struct flow *f)
{
	if (f->dist)
		return &flow_table_hot(t)->dists[f->dist - 1];
	return flow_dist_take(t, f);
}

/* Record and key slot of flow index idx (1-based); a key slot may be
 * shorter than struct flow_key: only the header and data[0..len) exist. */
static inline struct flow *flow_hot_rec(const struct flow_table_hot *h, uint32_t idx)
{
	return &h->rec[idx - 1];
}

static inline struct flow_key *flow_hot_key(const struct flow_table_hot *h, uint32_t idx)
{
	return (struct flow_key *)(h->keys + (size_t)(idx - 1) * h->key_stride);
}

/* The first index slot with the key's tag holds the flow most of the
 * time (the index is at most half full and the tags are 32 bits): true
 * with *f its in-use record when that slot holds it and flowkey.h
 * compares the key inline (flow_key_short), else false (which says
 * nothing). */
static inline __attribute__((always_inline)) bool
flow_first_slot(struct flow_table *t, const struct flow_key *key, uint64_t hash,
		struct flow **f)
{
	const struct flow_table_hot *h = flow_table_hot(t);
	uint32_t tag = flow_hash_tag(hash), pos;
	uint32_t i = flow_hindex_first(&h->index, tag, &pos);
	if (!i || !flow_key_short(key->len))
		return false;
	*f = flow_hot_rec(h, i);
	/* a tag match is almost always the flow: fetch its record while the
	 * key compares (two misses overlap, not add) */
	__builtin_prefetch(*f, 1);
	return flow_key_equal_short(key, flow_hot_key(h, i));
}

/*
 * Flow cookies: a word naming one record (its flow index and generation),
 * for a caller that meets the same key again and again (the engine keeps
 * one in each PME memo entry) to reach the flow without the lookup.
 * Every flow_insert gives the record the table's next generation, so a
 * cookie names the flow it was made of and none that later takes its
 * record.  When the 32-bit generations run out, flow_table_renumber()
 * gives the records in use new ones from 1 and flow_gen_era() moves: a
 * holder of cookies must then drop them all (else an old cookie could
 * name a renumbered or new record).  Never 0, so 0 can mean "none".
 */
static inline uint64_t flow_cookie(const struct flow_table *t, const struct flow *f)
{
	return (uint64_t)f->gen << 32 | flow_index(t, f);
}

/* The record cookie c (not 0) names if it is still that flow's and
 * current, else NULL: a packet of its key counts to it exactly as
 * flow_count_packet() would, with flow_account_current(). */
static inline struct flow *flow_cookie_current(struct flow_table *t, uint64_t c)
{
	struct flow *f = flow_hot_rec(flow_table_hot(t), (uint32_t)c);
	return f->gen == (uint32_t)(c >> 32) && flow_current(f) ? f : NULL;
}

/* Moves whenever the table renumbers its generations: cookies made
 * before name nothing reliably. */
static inline uint32_t flow_gen_era(const struct flow_table *t)
{
	return flow_table_hot(t)->gen_era;
}

/* New generations 1, 2, ... for the records in use, and the era moved
 * (flow_insert does it when the generations run out). */
void flow_table_renumber(struct flow_table *t);

/*
 * RFC 2722 §4.3 for one packet the PME matched.  `key` is the PME's flow
 * key, `hash` = flow_key_hash(key), `reversed` = the match succeeded on the
 * D->S retry pass (so key describes the flow with source = the packet's
 * destination).
 *   !reversed: current(S->D) -> count forward; else current(D->S) (the key
 *              swapped with flow_key_swap) -> count reverse; else create S->D
 *              and count forward.
 *   reversed:  current(D->S) -> count reverse; else create D->S and count
 *              reverse.
 * Returns the record counted, or NULL when a new flow was needed and the
 * table is full.  *counted_reverse (may be NULL) says which counters moved.
 * Always inline, with flow_first_slot(): it runs for every counted
 * packet, and a current flow in the first slot of its tag, the common
 * case, is counted without a call (a call made the engine keep its values
 * in memory across it).
 */
static inline __attribute__((always_inline)) struct flow *
flow_count_packet(struct flow_table *t, const struct flow_key *key, uint64_t hash,
		  bool reversed, uint32_t octets, uint64_t ts_ns, bool *counted_reverse)
{
	struct flow *f;
	if (!flow_first_slot(t, key, hash, &f) || !flow_current(f))
		return flow_count_packet_rest(t, key, hash, reversed, octets, ts_ns,
					      counted_reverse);
	flow_account_current(f, reversed, octets, ts_ns);
	if (counted_reverse)
		*counted_reverse = reversed;
	return f;
}

#endif
