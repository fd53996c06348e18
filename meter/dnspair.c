/* dnspair.c — DNS request/response pairing (see dnspair.h). */
#include "dnspair.h"
#include "dist.h"
#include "cacheline.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_US 1000u
#define NIL 0u                  /* entry numbers are 1-based */

enum { KEY_WORDS = DNSPAIR_KEY_WORDS };

enum { E_HAS_Q = 1, E_ANSWERED = 2 };

#define RING_NONE UINT32_MAX       /* ring_pos of an entry in no slot */
#define RING_MIN_SLOTS 8u
/* How far ahead of the ring's head the expiry fetches entries and their
 * index slots: the entries are in no memory order, and each is otherwise
 * a cache miss when its turn comes. */
#define EXPIRE_AHEAD 8u
/* How far ahead of the ring's head, and of its tail, the sweep and a
 * request fetch ring slots: the ring's ends move through memory last
 * touched a whole ring ago, a miss on every new line, and the slots
 * EXPIRE_AHEAD on are read at once.  Eight lines. */
#define RING_AHEAD (8u * CACHE_LINE / sizeof(struct ring_slot))
/* The index is sized for this many times the capacity (so it is at most a
 * quarter full): its probes, and above all a removal's search and
 * backward shift over the rest of its cluster, stay short. */
#define INDEX_SPREAD 2u
/* A sweep that empties the table clears the whole index when it dropped
 * at least one entry per this many slots: zeroing 16 slots (128 bytes)
 * costs far less than one removal's probe and backward shift. */
#define INDEX_CLEAR_SLOTS_PER_DROP 16u

/*
 * An entry is what a probe and the expiry read, in one cache line (the
 * array is line aligned); what only requests and lost requests touch is
 * in struct entry_cold, a parallel array.  A free entry's key is dead:
 * its first word links the free list, so dropping and reusing an entry
 * write no other line.
 */
struct entry {
	union {
		struct dnspair_key k;
		uint32_t free_next;   /* while free: the free list */
	};
	uint64_t ts_ns;            /* latest request */
	uint64_t question;         /* as question_word() reads it, valid with
	                              E_HAS_Q */
	uint32_t ring_pos;         /* its slot in the age ring (RING_NONE
	                              while a retransmission moves it; a
	                              free entry's is behind the head) */
	uint8_t flags;
};
_Static_assert(sizeof(struct entry) == CACHE_LINE, "an entry is one cache line");

struct entry_cold {
	uint64_t flow_first_ns;    /* FirstTime of the request's flow */
	/* the request's flow, NULL = none (the records of a table never
	 * move: flow.c) */
	struct flow *flow;
};

/* A ring slot: an entry number and the entry's index tag, so the expiry
 * finds (and fetches ahead) the index slot without reading more. */
struct ring_slot {
	uint32_t entry;
	uint32_t tag;
};

/*
 * Age order is a ring of entry numbers in the order of their latest
 * request, oldest at the head.  Entries are dropped from the head (the
 * head moves past their slot); one moved to the tail by a retransmission
 * only forgets its slot (ring_pos), so no neighbour is touched, and the
 * stale slot is skipped when it reaches the head.  The ring has at least
 * twice as many slots as entries: when stale slots fill it, one pass
 * packs the live ones (amortised, at least `capacity` appends apart).
 */
struct dnspair {
	struct flow_hindex index;  /* first: dnspair_prefetch reads it */
	struct flow_table *ft;
	struct entry *e;           /* e[i - 1] is entry i */
	struct entry_cold *cold;   /* cold[i - 1] likewise */
	size_t capacity;
	uint64_t timeout_ns;
	bool feed_dists;
	struct ring_slot *ring;    /* slots [head, tail) */
	uint32_t ring_mask;
	uint32_t ring_head, ring_tail;   /* free-running; slot = & ring_mask */
	uint32_t free_head;        /* entries dropped, most recent first */
	uint64_t expire_from_ns;   /* no entry expires before: the head's
	                              deadline when the sweep last stopped
	                              at it, 0 (unknown) when it stopped
	                              otherwise or an entry left the ring
	                              since */
	uint32_t fresh;            /* next never used entry (after the free
	                              list: the order a list of all entries
	                              in order would give, without writing
	                              the whole table at creation) */
	struct dnspair_stats st;
};
_Static_assert(offsetof(struct dnspair, index) == 0, "dnspair_prefetch finds the index");

size_t dnspair_entry_bytes(void)
{
	/* the ring keeps at least two slots per entry, the index four */
	return sizeof(struct entry) + sizeof(struct entry_cold) +
	       2 * sizeof(struct ring_slot) + 2 * INDEX_SPREAD * sizeof(struct flow_hslot);
}

struct dnspair *dnspair_create(struct flow_table *t, size_t capacity,
			       uint64_t timeout_ns)
{
	if (capacity == 0 || capacity > DNSPAIR_MAX_CAPACITY || timeout_ns == 0 ||
	    capacity > SIZE_MAX / sizeof(struct entry))
		return NULL;
	struct dnspair *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	size_t ring_slots = RING_MIN_SLOTS;
	while (ring_slots < 2 * capacity)
		ring_slots *= 2;
	/* entries are written before they are first read (`fresh`), so none
	 * of these is zeroed */
	p->e = aligned_alloc(CACHE_LINE, capacity * sizeof(*p->e));
	p->cold = malloc(capacity * sizeof(*p->cold));
	p->ring = malloc(ring_slots * sizeof(*p->ring));
	/* (flow_hindex_init() takes at most FLOW_MAX_CAPACITY entries) */
	size_t index_entries = capacity <= FLOW_MAX_CAPACITY / INDEX_SPREAD ?
			       INDEX_SPREAD * capacity : FLOW_MAX_CAPACITY;
	if (!p->e || !p->cold || !p->ring ||
	    flow_hindex_init(&p->index, index_entries) != 0) {
		dnspair_free(p);
		return NULL;
	}
	p->ring_mask = (uint32_t)(ring_slots - 1);
	p->ft = t;
	p->capacity = capacity;
	p->timeout_ns = timeout_ns;
	p->fresh = 1;
	return p;
}

void dnspair_free(struct dnspair *p)
{
	if (!p)
		return;
	flow_hindex_fini(&p->index);
	free(p->e);
	free(p->cold);
	free(p->ring);
	free(p);
}

static inline struct entry *ent(const struct dnspair *p, uint32_t i)
{
	return &p->e[i - 1];
}

static inline struct entry_cold *cold(const struct dnspair *p, uint32_t i)
{
	return &p->cold[i - 1];
}

/* ---- key ------------------------------------------------------------------ */

/* (made by dnspair_hint, dnspair.h; no padding, so memcmp compares the
 * words, and the compiler does it in a few wide loads) */
static inline bool key_equal(const struct dnspair_key *a, const struct dnspair_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}
_Static_assert(sizeof(struct dnspair_key) == KEY_WORDS * sizeof(uint64_t),
	       "a key is its words");

/* A message's QTYPE, QCLASS and QNAME hash as one word (dnspair.h). */
static inline uint64_t question_word(const struct pkt_info *pi)
{
	uint64_t q;
	memcpy(&q, &pi->dns.qtype, sizeof(q));
	return q;
}

/* Questions are compatible unless both were captured and differ. */
static inline bool question_fits(const struct entry *e, const struct pkt_info *pi)
{
	return !(e->flags & E_HAS_Q) || !pi->dns.has_question ||
	       e->question == question_word(pi);
}

static inline bool expired(const struct dnspair *p, const struct entry *e,
			   uint64_t now_ns)
{
	return now_ns >= e->ts_ns && now_ns - e->ts_ns >= p->timeout_ns;
}

/* When e's request times out, UINT64_MAX if that is past the clock's
 * range (an expired one's is not: the sweeps take its sum as is). */
static inline uint64_t deadline(const struct dnspair *p, const struct entry *e)
{
	return e->ts_ns > UINT64_MAX - p->timeout_ns ? UINT64_MAX : e->ts_ns + p->timeout_ns;
}

/* ---- age ring ------------------------------------------------------------ */

/* The ring's arrays as locals, for the loops that walk it. */
struct ring_view {
	const struct ring_slot *ring;
	uint32_t mask;
	const struct entry *e;
};

static inline struct ring_view ring_view(const struct dnspair *p)
{
	return (struct ring_view){ .ring = p->ring, .mask = p->ring_mask, .e = p->e };
}

/* Slot n still holds its entry (the entry has not left it since). */
static inline bool slot_live(struct ring_view v, uint32_t n)
{
	uint32_t pos = n & v.mask;
	return v.e[v.ring[pos].entry - 1].ring_pos == pos;
}

static inline bool ring_live(const struct dnspair *p, uint32_t n)
{
	return slot_live(ring_view(p), n);
}

/* The first live slot from n on, tail if none. */
static inline uint32_t ring_skip_stale(struct ring_view v, uint32_t n, uint32_t tail)
{
	while (n != tail && !slot_live(v, n))
		n++;
	return n;
}

/* Take the oldest slot (skipping stale ones) off the ring; the table is
 * full, so there is one. */
static inline struct ring_slot ring_take_oldest(struct dnspair *p)
{
	p->ring_head = ring_skip_stale(ring_view(p), p->ring_head, p->ring_tail);
	return p->ring[p->ring_head++ & p->ring_mask];
}

static inline void ring_leave(struct dnspair *p, uint32_t i)
{
	ent(p, i)->ring_pos = RING_NONE;
	/* the head may have been i: the next may be older (the packet
	 * clock can step back) */
	p->expire_from_ns = 0;
}

/* Pack the live slots to the front, in order. */
static __attribute__((noinline, cold)) void ring_pack(struct dnspair *p)
{
	uint32_t to = p->ring_head;
	for (uint32_t n = p->ring_head; n != p->ring_tail; n++) {
		if (!ring_live(p, n))
			continue;
		struct ring_slot slot = p->ring[n & p->ring_mask];
		p->ring[to & p->ring_mask] = slot;
		ent(p, slot.entry)->ring_pos = to & p->ring_mask;
		to++;
	}
	p->ring_tail = to;
}

static void ring_append(struct dnspair *p, uint32_t i, uint32_t tag)
{
	if (p->ring_tail - p->ring_head > p->ring_mask)
		ring_pack(p);
	/* in locals: the stores below could alias p as far as the
	 * compiler knows */
	struct ring_slot *ring = p->ring;
	const uint32_t mask = p->ring_mask;
	struct entry *e = ent(p, i);
	uint32_t pos = p->ring_tail++ & mask;
	__builtin_prefetch(&ring[(pos + RING_AHEAD) & mask], 1);
	ring[pos] = (struct ring_slot){ .entry = i, .tag = tag };
	e->ring_pos = pos;
}

/* ---- flow credits --------------------------------------------------------- */

/* The request's flow, if it is still the same flow (not recovered and
 * reused since). */
static struct flow *request_flow(struct dnspair *p, const struct entry_cold *c)
{
	if (!c->flow || !p->ft)
		return NULL;
	/* NULL when the record is free now */
	struct flow *f = flow_by_index(p->ft, flow_index(p->ft, c->flow));
	if (!f || f->first_ns != c->flow_first_ns) {
		p->st.stale_flow++;
		return NULL;
	}
	return f;
}

/* (without a flow table no flow is credited: request_flow checks) */
static void remember_flow(struct entry_cold *c, struct flow *f)
{
	c->flow = f;
	if (f)
		c->flow_first_ns = f->first_ns;
}

/* ---- entries ----------------------------------------------------------------- */

/* Free entry i, whose ring slot the caller has taken off the ring; an
 * unanswered one is a lost request, lost at lost_ns (its flow changed
 * then: flowattr_changed_ns).  Its index slot is the caller's to clear. */
static inline __attribute__((always_inline)) bool retire_entry(struct dnspair *p, uint32_t i,
							     uint64_t lost_ns)
{
	struct entry *e = ent(p, i);
	bool lost = !(e->flags & E_ANSWERED);
	if (lost) {
		p->st.lost++;
		struct flow *f = request_flow(p, cold(p, i));
		if (f) {
			f->dns.lost++;
			if (lost_ns > f->dns.lost_ns)
				f->dns.lost_ns = lost_ns;
		}
	}
	/* its ring_pos names a slot behind the head now, which the ring
	 * rewrites before it is read again */
	e->free_next = p->free_head;
	p->free_head = i;
	p->st.pending--;
	return lost;
}

/* retire_entry() and i's index slot (tag `tag`) removed.  Inlined into
 * the sweep, where a call of its own would cost a frame per drop. */
static inline __attribute__((always_inline)) bool drop_entry(struct dnspair *p, uint32_t i,
							   uint32_t tag, uint64_t lost_ns)
{
	bool lost = retire_entry(p, i, lost_ns);
	flow_hindex_remove(&p->index, tag, i);
	return lost;
}

/* A full table makes room (rare): out of line, so the per-message path
 * does not carry a second copy of drop_entry and its registers. */
static __attribute__((noinline, cold)) void evict_oldest(struct dnspair *p, uint64_t now_ns)
{
	p->st.evicted++;
	struct ring_slot oldest = ring_take_oldest(p);
	drop_entry(p, oldest.entry, oldest.tag, now_ns);
	p->expire_from_ns = 0;   /* the next head is not known */
}

static inline uint32_t pop_free(struct dnspair *p)
{
	uint32_t i = p->free_head;
	p->free_head = ent(p, i)->free_next;
	return i;
}

/* A full table's new entry: the oldest evicted, its entry taken, and the
 * index slot found anew (the eviction shifted the index since find's
 * probe).  Rare: out of line. */
static __attribute__((noinline, cold)) uint32_t evict_for(struct dnspair *p, uint64_t now_ns,
							  uint32_t tag)
{
	evict_oldest(p, now_ns);
	uint32_t i = pop_free(p);
	flow_hindex_insert(&p->index, tag, i);
	return i;
}

/*
 * An entry for a new request with index tag `tag`, in the index already:
 * a dropped one if any, else one never used, else the oldest evicted.
 * find's probe ended at free_pos, the first free slot from the key's
 * home, the one flow_hindex_insert() would take.
 */
static inline uint32_t new_entry(struct dnspair *p, uint64_t now_ns, uint32_t tag,
				 uint32_t free_pos)
{
	uint32_t i;
	if (p->free_head != NIL || p->fresh > p->capacity) {
		if (p->free_head != NIL) {
			i = pop_free(p);
			p->index.slot[free_pos] = (struct flow_hslot){ .idx = i, .tag = tag };
		} else {
			i = evict_for(p, now_ns, tag);
		}
	} else {
		i = p->fresh++;
		p->index.slot[free_pos] = (struct flow_hslot){ .idx = i, .tag = tag };
	}
	if (++p->st.pending > p->st.peak_pending)
		p->st.peak_pending = p->st.pending;
	return i;
}

/*
 * The pending table is far larger than the caches (50 000 live entries at
 * 10 000 requests/s and the 5 s timeout) and entries expire in age order,
 * not memory order: dropping the oldest reads its entry and its index
 * slot, two misses, and the next request, which takes the entry back (the
 * free list is last in, first out), writes its cold part, a third.  The
 * ring says which entries come next, and their tags, so each drop fetches
 * the entry, its cold part and its index slot EXPIRE_AHEAD slots on.
 * (The prefetches are written here, not in a helper: GCC deems a function
 * of prefetches pure and drops the call.)
 */
static inline __attribute__((always_inline)) size_t sweep(struct dnspair *p, uint64_t now_ns,
							 size_t max)
{
	size_t lost = 0;
	/* the ring's head, written back at the end; dropping entries does
	 * not move the tail.  The rest is read through p: across the index's
	 * call that is a few loads, where locals would be spilled. */
	uint32_t head = p->ring_head;
	uint64_t from = 0;        /* unknown unless the sweep stops at a head */
	for (size_t n = max; n > 0; n--) {
		head = ring_skip_stale(ring_view(p), head, p->ring_tail);
		if (head == p->ring_tail)
			break;
		struct ring_slot slot = p->ring[head & p->ring_mask];
		const struct entry *e = ent(p, slot.entry);
		if (!expired(p, e, now_ns)) {
			from = deadline(p, e);
			break;
		}
		head++;
		/* a timed-out request was lost at its deadline, whenever we
		 * notice */
		lost += drop_entry(p, slot.entry, slot.tag, e->ts_ns + p->timeout_ns);
		if (p->ring_tail - head > EXPIRE_AHEAD) {
			struct ring_slot far = p->ring[(head + EXPIRE_AHEAD) & p->ring_mask];
			__builtin_prefetch(&p->ring[(head + RING_AHEAD) & p->ring_mask]);
			__builtin_prefetch(ent(p, far.entry));
			__builtin_prefetch(cold(p, far.entry));
			__builtin_prefetch(&p->index.slot[far.tag & p->index.mask]);
		}
	}
	p->ring_head = head;
	p->expire_from_ns = from;
	return lost;
}

/* A packet's share, the limit a constant.  Inline: the pairing saves the
 * registers the sweep needs anyway, so a call of its own would only add a
 * frame. */
static inline __attribute__((always_inline)) void sweep_packet(struct dnspair *p, uint64_t now_ns)
{
	sweep(p, now_ns, DNSPAIR_SWEEP_PER_PACKET);
}

/* most messages expire nothing: they skip reading the head */
static inline bool sweep_due(const struct dnspair *p, uint64_t now_ns)
{
	return now_ns >= p->expire_from_ns;
}

/*
 * dnspair_expire()'s sweep, which may drop many entries at once (the end
 * of a trace drops them all): the entries are retired first and their
 * index slots cleared after.  A sweep that empties the table, and drops
 * enough entries to pay for it, clears the whole index at once (an empty
 * index is all zero slots, as flow_hindex_init() makes it) instead of
 * removing each entry's slot with its backward shift.  Otherwise the
 * slots it passed are walked again: the live ones among them (ring_pos
 * still names them) are exactly the entries it dropped.
 */
static size_t sweep_many(struct dnspair *p, uint64_t now_ns, size_t max)
{
	size_t lost = 0, dropped = 0;
	/* the ring as locals: retiring calls nothing but on the rare lost
	 * path, and the tail does not move */
	const struct ring_view v = ring_view(p);
	const uint32_t first = p->ring_head, tail = p->ring_tail;
	uint32_t head = first;
	uint64_t from = 0;        /* unknown unless the sweep stops at a head */
	while (dropped < max) {
		head = ring_skip_stale(v, head, tail);
		if (head == tail)
			break;
		uint32_t i = v.ring[head & v.mask].entry;
		const struct entry *e = &v.e[i - 1];
		if (!expired(p, e, now_ns)) {
			from = deadline(p, e);
			break;
		}
		lost += retire_entry(p, i, e->ts_ns + p->timeout_ns);
		head++;
		dropped++;
	}
	p->ring_head = head;
	p->expire_from_ns = from;
	size_t slots = (size_t)p->index.mask + 1;
	if (p->st.pending == 0 && dropped >= slots / INDEX_CLEAR_SLOTS_PER_DROP) {
		memset(p->index.slot, 0, slots * sizeof(*p->index.slot));
	} else {
		for (uint32_t n = first; n != head; n++) {
			if (ring_live(p, n)) {
				const struct ring_slot *slot = &p->ring[n & p->ring_mask];
				flow_hindex_remove(&p->index, slot->tag, slot->entry);
			}
		}
	}
	return lost;
}

size_t dnspair_expire(struct dnspair *p, uint64_t now_ns, size_t max)
{
	return sweep_due(p, now_ns) ? sweep_many(p, now_ns, max) : 0;
}

/* The live (unexpired) entry for h's key and question: an unanswered one
 * if there is one, else an answered one; NIL if none.  When NIL, *free_pos
 * is the free index slot that ended the probe. */
static inline uint32_t find(const struct dnspair *p, const struct pkt_info *pi,
			    const struct dnspair_hint *h, uint64_t now_ns, uint32_t *free_pos)
{
	uint32_t pos, done = NIL;
	for (uint32_t i = flow_hindex_first(&p->index, h->tag, &pos); i;
	     i = flow_hindex_next(&p->index, h->tag, &pos)) {
		const struct entry *e = ent(p, i);
		if (!key_equal(&e->k, &h->k) || !question_fits(e, pi) ||
		    expired(p, e, now_ns))
			continue;
		if (!(e->flags & E_ANSWERED))
			return i;
		if (done == NIL)
			done = i;
	}
	*free_pos = pos;
	return done;
}

/* A request at now_ns whose live entry (find) is i, NIL if none (then
 * free_pos as find left it). */
static inline enum dnspair_event on_request(struct dnspair *p, const struct pkt_info *pi,
					    const struct dnspair_hint *h, uint64_t now_ns,
					    struct flow *f, uint32_t i, uint32_t free_pos)
{
	p->st.requests++;
	if (f)
		f->dns.requests++;
	enum dnspair_event ev = DNSPAIR_REQUEST;
	struct entry *e;
	if (i) {
		e = ent(p, i);
		if (!(e->flags & E_ANSWERED)) {
			ev = DNSPAIR_RETRANSMIT;
			p->st.retransmits++;
			if (f)
				f->dns.retransmits++;
		}
		/* the latest request is the one an answer is timed from */
		ring_leave(p, i);
	} else {
		i = new_entry(p, now_ns, h->tag, free_pos);
		e = ent(p, i);
		e->k = h->k;
	}
	if (ev == DNSPAIR_REQUEST) {
		/* a new exchange: forget the old question */
		e->flags = pi->dns.has_question ? E_HAS_Q : 0;
		e->question = question_word(pi);
	} else if (pi->dns.has_question) {
		e->flags |= E_HAS_Q;
		e->question = question_word(pi);
	}
	e->ts_ns = now_ns;
	remember_flow(cold(p, i), f);
	ring_append(p, i, h->tag);
	return ev;
}

/* The answer's RTT to the flow's distribution (dnspair_feed_dists: not
 * the engine's way, hence out of line). */
static __attribute__((noinline, cold)) void feed_dist(struct dnspair *p, struct flow *f,
						      uint64_t rtt_us, uint64_t now_ns)
{
	struct dist *d = flow_dist(p->ft, f);
	if (d)
		dist_add(d, rtt_us, now_ns);
}

/* A response at now_ns whose live entry (find) is i, NIL if none. */
static inline enum dnspair_event on_response(struct dnspair *p, uint64_t now_ns,
					     struct flow *f, uint32_t i,
					     struct dnspair_sample *sample)
{
	p->st.responses++;
	if (f)
		f->dns.responses++;
	if (!i) {
		p->st.unmatched++;
		if (f)
			f->dns.unmatched++;
		return DNSPAIR_UNMATCHED;
	}
	struct entry *e = ent(p, i);
	if (e->flags & E_ANSWERED) {
		p->st.duplicates++;
		if (f)
			f->dns.duplicates++;
		return DNSPAIR_DUPLICATE;
	}
	e->flags |= E_ANSWERED;
	p->st.answered++;
	uint64_t rtt_us = 0;
	if (now_ns >= e->ts_ns)
		rtt_us = (now_ns - e->ts_ns + NS_PER_US / 2) / NS_PER_US;
	else
		p->st.negative_rtt++;
	if (f) {
		f->dns.answered++;   /* and an RTT sample: attribute 527 */
		if (p->feed_dists && p->ft)
			feed_dist(p, f, rtt_us, now_ns);
	}
	if (sample) {
		sample->flow = f;
		sample->rtt_us = rtt_us;
		sample->ts_ns = now_ns;
	}
	return DNSPAIR_ANSWER;
}

enum dnspair_event dnspair_packet_hinted(struct dnspair *p, const struct pkt_info *pi,
					 const struct dnspair_hint *h, struct flow *f,
					 struct dnspair_sample *sample)
{
	uint64_t now_ns = pi->ts_ns;
	if (sweep_due(p, now_ns)) {
		/* the key's index slot and first candidate entry are likely
		 * misses (dnspair_prefetch may have fetched the slot): fetch
		 * the entry while the sweep runs */
		if (h->pairs) {
			const struct flow_hslot *s = &p->index.slot[h->tag & p->index.mask];
			if (s->idx && s->tag == h->tag)
				__builtin_prefetch(ent(p, s->idx));
		}
		sweep_packet(p, now_ns);
	}
	if (!h->pairs)
		return DNSPAIR_NONE;
	/* one call site, so the probe loop is inlined */
	uint32_t free_pos = 0;   /* set by find when it returns NIL */
	uint32_t i = find(p, pi, h, now_ns, &free_pos);
	if (pi->dns.qr)
		return on_response(p, now_ns, f, i, sample);
	return on_request(p, pi, h, now_ns, f, i, free_pos);
}

enum dnspair_event dnspair_packet(struct dnspair *p, const struct pkt_info *pi,
				  struct flow *f, struct dnspair_sample *sample)
{
	struct dnspair_hint h;
	dnspair_hint(pi, &h);
	return dnspair_packet_hinted(p, pi, &h, f, sample);
}

void dnspair_feed_dists(struct dnspair *p, bool on)
{
	p->feed_dists = on;
}

void dnspair_stats(const struct dnspair *p, struct dnspair_stats *out)
{
	*out = p->st;
}
