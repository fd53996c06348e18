/* dnspair.c — DNS request/response pairing (see dnspair.h). */
#include "dnspair.h"
#include "dist.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_US 1000u
#define PROTO_TCP 6u
#define PROTO_UDP 17u
#define NIL 0u                  /* entry numbers are 1-based */

/*
 * The part of the key every message has, as the words it is hashed and
 * compared by: client address (words 0-1), server address (2-3), and
 * one word of client port, server port, DNS ID, transport and IP version
 * (KEY_REST_* shifts).  An IPv4 address is word 0 or 2's low 32 bits,
 * the rest of its two words zero.
 */
enum { KEY_CLIENT = 0, KEY_SERVER = 2, KEY_REST = 4, KEY_WORDS = DNSPAIR_KEY_WORDS };
enum {
	KEY_REST_CPORT = 0, KEY_REST_SPORT = 16, KEY_REST_ID = 32,
	KEY_REST_PROTO = 48, KEY_REST_IPVER = 56
};

enum { E_HAS_Q = 1, E_ANSWERED = 2 };

#define CACHE_LINE 64u
#define RING_NONE UINT32_MAX       /* ring_pos of an entry in no slot */
#define RING_MIN_SLOTS 8u
/* How far ahead of the ring's head the expiry fetches entries (and, half
 * as far, their index slots): the entries are in no memory order, and
 * each is otherwise a cache miss when its turn comes. */
#define EXPIRE_AHEAD 8u

/*
 * An entry is what a probe and the expiry read, in one cache line (the
 * array is line aligned); what only requests and lost requests touch is
 * in struct entry_cold, a parallel array.
 */
struct entry {
	struct dnspair_key k;
	uint64_t ts_ns;            /* latest request */
	uint32_t qname_hash;
	uint16_t qtype, qclass;
	uint32_t ring_pos;         /* its slot in the age ring, RING_NONE
	                              when free */
	uint8_t flags;
};
_Static_assert(sizeof(struct entry) == CACHE_LINE, "an entry is one cache line");

struct entry_cold {
	uint64_t flow_first_ns;    /* FirstTime of the request's flow */
	union {
		uint32_t flow_idx; /* 0 = none */
		uint32_t free_next;/* while free: the free list */
	};
	uint32_t tag;
};

/*
 * Age order is a ring of entry numbers in the order of their latest
 * request, oldest at the head.  An entry leaving it (dropped, or moved to
 * the tail by a retransmission) only forgets its slot (ring_pos), so no
 * neighbour is touched; the stale slot is skipped when it reaches the
 * head.  The ring has at least twice as many slots as entries: when
 * stale slots fill it, one pass packs the live ones (amortised, at least
 * `capacity` appends apart).
 */
struct dnspair {
	struct flow_table *ft;
	struct entry *e;           /* e[i - 1] is entry i */
	struct entry_cold *cold;   /* cold[i - 1] likewise */
	size_t capacity;
	uint64_t timeout_ns;
	bool feed_dists;
	uint32_t *ring;            /* entry numbers; slots [head, tail) */
	uint32_t ring_mask;
	uint32_t ring_head, ring_tail;   /* free-running; slot = & ring_mask */
	uint32_t free_head;        /* entries dropped, most recent first */
	uint64_t expire_from_ns;   /* no entry expires before: the head's
	                              deadline when the sweep last stopped
	                              at it, 0 (unknown) once an entry
	                              leaves the ring */
	uint32_t fresh;            /* next never used entry (after the free
	                              list: the order a list of all entries
	                              in order would give, without writing
	                              the whole table at creation) */
	struct flow_hindex index;
	struct dnspair_stats st;
};

struct question {
	bool has;
	uint32_t qname_hash;
	uint16_t qtype, qclass;
};

size_t dnspair_entry_bytes(void)
{
	/* the index and the ring keep at least two slots per entry */
	return sizeof(struct entry) + sizeof(struct entry_cold) +
	       2 * sizeof(uint32_t) + 2 * sizeof(struct flow_hslot);
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
	if (!p->e || !p->cold || !p->ring ||
	    flow_hindex_init(&p->index, capacity) != 0) {
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

/* ---- key, hash --------------------------------------------------------- */

#define IPV6_VERSION 6u
#define IPV4_ADDR_BYTES 4u
#define HALF_BITS 32u

/*
 * One multiply per word folds it in (h = (h ^ w) * odd) and a finaliser
 * spreads the high bits into the low ones the index uses: three rounds,
 * the addresses folded two words into one (the server's rotated by half
 * so an IPv4 pair fills one word; an IPv6 server is not chosen by the
 * client, so the fold gives it no collisions to aim at).  Clients choose
 * ports and IDs, hence a multiplicative mix from a fixed seed rather than
 * a plain xor of the fields.
 */
#define MIX_SEED 0x9e3779b97f4a7c15ULL   /* 2^64 / golden ratio */
#define MIX_MUL1 0xff51afd7ed558ccdULL
#define MIX_MUL2 0xc4ceb9fe1a85ec53ULL
#define MIX_SHIFT1 33
#define MIX_SHIFT2 29

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

static inline uint64_t mix_round(uint64_t h, uint64_t w)
{
	return (h ^ w) * MIX_MUL1;
}

static inline uint32_t key_tag(const struct dnspair_key *k)
{
	const uint64_t *w = k->w;
	uint64_t h = MIX_SEED;
	h = mix_round(h, w[KEY_CLIENT] ^ rotl64(w[KEY_SERVER], HALF_BITS));
	h = mix_round(h, w[KEY_CLIENT + 1] ^ rotl64(w[KEY_SERVER + 1], HALF_BITS));
	h = mix_round(h, w[KEY_REST]);
	h ^= h >> MIX_SHIFT1;
	h *= MIX_MUL2;
	h ^= h >> MIX_SHIFT2;
	return flow_hash_tag(h);
}

static inline bool key_equal(const struct dnspair_key *a, const struct dnspair_key *b)
{
	return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
		(a->w[3] ^ b->w[3]) | (a->w[4] ^ b->w[4])) == 0;
}
_Static_assert(KEY_WORDS == 5, "key_equal compares every word");

/* An address as its two key words (IPv4: the low 32 bits of the first). */
static inline void addr_words(const uint8_t addr[16], bool v6, uint64_t *w)
{
	if (v6) {
		memcpy(w, addr, 2 * sizeof(*w));
	} else {
		uint32_t a;
		memcpy(&a, addr, IPV4_ADDR_BYTES);
		w[0] = a;
		w[1] = 0;
	}
}

/* client = the requester: the source of a request, the destination of a
 * response. */
static inline void make_key(const struct pkt_info *pi, struct dnspair_key *k)
{
	unsigned c = pi->dns.qr ? 1 : 0, s = 1 - c;
	bool v6 = pi->ip_version == IPV6_VERSION;
	addr_words(pi->addr[c], v6, &k->w[KEY_CLIENT]);
	addr_words(pi->addr[s], v6, &k->w[KEY_SERVER]);
	uint64_t proto = pi->dns.over_tcp ? PROTO_TCP : PROTO_UDP;
	k->w[KEY_REST] = (uint64_t)pi->port[c] << KEY_REST_CPORT |
			 (uint64_t)pi->port[s] << KEY_REST_SPORT |
			 (uint64_t)pi->dns.id << KEY_REST_ID |
			 proto << KEY_REST_PROTO |
			 (uint64_t)pi->ip_version << KEY_REST_IPVER;
}

/* Questions are compatible unless both were captured and differ. */
static bool question_fits(const struct entry *e, const struct question *q)
{
	if (!(e->flags & E_HAS_Q) || !q->has)
		return true;
	return e->qname_hash == q->qname_hash && e->qtype == q->qtype &&
	       e->qclass == q->qclass;
}

static void set_question(struct entry *e, const struct question *q)
{
	if (!q->has)
		return;
	e->flags |= E_HAS_Q;
	e->qname_hash = q->qname_hash;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
}

static inline bool expired(const struct dnspair *p, const struct entry *e,
			   uint64_t now_ns)
{
	return now_ns >= e->ts_ns && now_ns - e->ts_ns >= p->timeout_ns;
}

/* ---- age ring ------------------------------------------------------------ */

static inline bool ring_live(const struct dnspair *p, uint32_t n)
{
	uint32_t pos = n & p->ring_mask;
	return ent(p, p->ring[pos])->ring_pos == pos;
}

/* The oldest entry (skipping stale slots), NIL when there is none. */
static inline uint32_t ring_oldest(struct dnspair *p)
{
	while (p->ring_head != p->ring_tail && !ring_live(p, p->ring_head))
		p->ring_head++;
	return p->ring_head != p->ring_tail ? p->ring[p->ring_head & p->ring_mask] : NIL;
}

static inline void ring_leave(struct dnspair *p, uint32_t i)
{
	ent(p, i)->ring_pos = RING_NONE;
	/* the head may have been i: the next may be older (the packet
	 * clock can step back) */
	p->expire_from_ns = 0;
}

/* Pack the live slots to the front, in order. */
static void ring_pack(struct dnspair *p)
{
	uint32_t to = p->ring_head;
	for (uint32_t n = p->ring_head; n != p->ring_tail; n++) {
		if (!ring_live(p, n))
			continue;
		uint32_t i = p->ring[n & p->ring_mask];
		p->ring[to & p->ring_mask] = i;
		ent(p, i)->ring_pos = to & p->ring_mask;
		to++;
	}
	p->ring_tail = to;
}

static void ring_append(struct dnspair *p, uint32_t i)
{
	if (p->ring_tail - p->ring_head > p->ring_mask)
		ring_pack(p);
	uint32_t pos = p->ring_tail++ & p->ring_mask;
	p->ring[pos] = i;
	ent(p, i)->ring_pos = pos;
}

/* ---- flow credits --------------------------------------------------------- */

/* The request's flow, if it is still the same flow (not recovered and
 * reused since). */
static struct flow *request_flow(struct dnspair *p, const struct entry_cold *c)
{
	if (c->flow_idx == 0 || !p->ft)
		return NULL;
	struct flow *f = flow_by_index(p->ft, c->flow_idx);
	if (!f || f->first_ns != c->flow_first_ns) {
		p->st.stale_flow++;
		return NULL;
	}
	return f;
}

static void remember_flow(struct dnspair *p, struct entry_cold *c, struct flow *f)
{
	if (f && p->ft) {
		c->flow_idx = flow_index(p->ft, f);
		c->flow_first_ns = f->first_ns;
	} else {
		c->flow_idx = 0;
		c->flow_first_ns = 0;
	}
}

/* ---- entries ----------------------------------------------------------------- */

/* Drop entry i; an unanswered one is a lost request, lost at lost_ns
 * (its flow changed then: flowattr_changed_ns).  Inlined into the sweep:
 * dnspair_packet_hinted saves every register anyway, and a call of its
 * own cost a frame per drop. */
static inline __attribute__((always_inline)) bool drop_entry(struct dnspair *p, uint32_t i,
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
	ring_leave(p, i);
	flow_hindex_remove(&p->index, cold(p, i)->tag, i);
	cold(p, i)->free_next = p->free_head;
	p->free_head = i;
	p->st.pending--;
	return lost;
}

static uint32_t new_entry(struct dnspair *p, uint64_t now_ns)
{
	uint32_t i;
	if (p->free_head == NIL && p->fresh <= p->capacity) {
		i = p->fresh++;
	} else {
		if (p->free_head == NIL) {
			p->st.evicted++;
			drop_entry(p, ring_oldest(p), now_ns);
		}
		i = p->free_head;
		p->free_head = cold(p, i)->free_next;
	}
	if (++p->st.pending > p->st.peak_pending)
		p->st.peak_pending = p->st.pending;
	return i;
}

/*
 * The pending table is far larger than the caches (50 000 live entries at
 * 10 000 requests/s and the 5 s timeout) and entries expire in age order,
 * not memory order: dropping the oldest reads its entry, its cold part and
 * its index slot, three misses.  The ring says which entries come next,
 * so each drop fetches the entry and cold part EXPIRE_AHEAD slots on, and
 * the index slot of the one half as far (its tag is in the cold part,
 * fetched a few drops before).  (The prefetches are written here, not in
 * a helper: GCC deems a function of prefetches pure and drops the call.)
 */
static inline size_t expire(struct dnspair *p, uint64_t now_ns, size_t max)
{
	/* most messages expire nothing: skip reading the head */
	if (now_ns < p->expire_from_ns)
		return 0;
	size_t lost = 0, n = 0;
	uint32_t i;
	for (; n < max && (i = ring_oldest(p)) != NIL; n++) {
		const struct entry *e = ent(p, i);
		if (!expired(p, e, now_ns)) {
			p->expire_from_ns = e->ts_ns > UINT64_MAX - p->timeout_ns ?
					    UINT64_MAX : e->ts_ns + p->timeout_ns;
			break;
		}
		/* a timed-out request was lost at its deadline, whenever we
		 * notice */
		lost += drop_entry(p, i, e->ts_ns + p->timeout_ns);
		p->ring_head++;    /* i's slot, stale now */
		if (p->ring_tail - p->ring_head > EXPIRE_AHEAD) {
			uint32_t far = p->ring[(p->ring_head + EXPIRE_AHEAD) & p->ring_mask];
			uint32_t near = p->ring[(p->ring_head + EXPIRE_AHEAD / 2) & p->ring_mask];
			__builtin_prefetch(ent(p, far));
			__builtin_prefetch(cold(p, far));
			__builtin_prefetch(&p->index.slot[cold(p, near)->tag & p->index.mask]);
		}
	}
	return lost;
}

size_t dnspair_expire(struct dnspair *p, uint64_t now_ns, size_t max)
{
	return expire(p, now_ns, max);
}

/* The live (unexpired) entry for (key, question): an unanswered one if
 * there is one, else an answered one; NIL if none. */
static uint32_t find(const struct dnspair *p, const struct dnspair_key *k, uint32_t tag,
		     const struct question *q, uint64_t now_ns)
{
	uint32_t pos, done = NIL;
	for (uint32_t i = flow_hindex_first(&p->index, tag, &pos); i;
	     i = flow_hindex_next(&p->index, tag, &pos)) {
		const struct entry *e = ent(p, i);
		if (!key_equal(&e->k, k) || !question_fits(e, q) ||
		    expired(p, e, now_ns))
			continue;
		if (!(e->flags & E_ANSWERED))
			return i;
		if (done == NIL)
			done = i;
	}
	return done;
}

/* A request whose live entry (find) is i, NIL if none. */
static enum dnspair_event on_request(struct dnspair *p, const struct pkt_info *pi,
				     const struct dnspair_key *k, uint32_t tag,
				     const struct question *q, struct flow *f, uint32_t i)
{
	p->st.requests++;
	if (f)
		f->dns.requests++;
	enum dnspair_event ev = DNSPAIR_REQUEST;
	if (i && !(ent(p, i)->flags & E_ANSWERED)) {
		ev = DNSPAIR_RETRANSMIT;
		p->st.retransmits++;
		if (f)
			f->dns.retransmits++;
	}
	if (i) {
		/* the latest request is the one an answer is timed from */
		ring_leave(p, i);
	} else {
		i = new_entry(p, pi->ts_ns);
		struct entry *e = ent(p, i);
		memset(e, 0, sizeof(*e));
		e->k = *k;
		e->ring_pos = RING_NONE;   /* until ring_append gives it a slot */
		cold(p, i)->tag = tag;
		flow_hindex_insert(&p->index, tag, i);
	}
	struct entry *e = ent(p, i);
	if (ev == DNSPAIR_REQUEST)
		e->flags = 0;      /* a new exchange: forget the old question */
	e->ts_ns = pi->ts_ns;
	set_question(e, q);
	remember_flow(p, cold(p, i), f);
	ring_append(p, i);
	return ev;
}

/* A response whose live entry (find) is i, NIL if none. */
static enum dnspair_event on_response(struct dnspair *p, const struct pkt_info *pi,
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
	if (pi->ts_ns >= e->ts_ns)
		rtt_us = (pi->ts_ns - e->ts_ns + NS_PER_US / 2) / NS_PER_US;
	else
		p->st.negative_rtt++;
	if (f) {
		f->dns.answered++;   /* and an RTT sample: attribute 527 */
		if (p->feed_dists && p->ft) {
			struct dist *d = flow_dist(p->ft, f);
			if (d)
				dist_add(d, rtt_us, pi->ts_ns);
		}
	}
	if (sample) {
		sample->flow = f;
		sample->flow_index = (f && p->ft) ? flow_index(p->ft, f) : 0;
		sample->rtt_us = rtt_us;
		sample->ts_ns = pi->ts_ns;
	}
	return DNSPAIR_ANSWER;
}

void dnspair_hint(const struct pkt_info *pi, struct dnspair_hint *h)
{
	h->pairs = pi->dns_present && pi->has_ports;
	if (!h->pairs)
		return;
	make_key(pi, &h->k);
	h->tag = key_tag(&h->k);
}

enum dnspair_event dnspair_packet_hinted(struct dnspair *p, const struct pkt_info *pi,
					 const struct dnspair_hint *h, struct flow *f,
					 struct dnspair_sample *sample)
{
	if (!h->pairs) {
		expire(p, pi->ts_ns, DNSPAIR_SWEEP_PER_PACKET);
		return DNSPAIR_NONE;
	}
	const struct dnspair_key *k = &h->k;
	uint32_t tag = h->tag;
	/* the key's index slot and first candidate entry are likely misses
	 * (dnspair_prefetch may have fetched the slot): fetch the entry
	 * while the sweep runs */
	const struct flow_hslot *s = &p->index.slot[tag & p->index.mask];
	if (s->idx && s->tag == tag)
		__builtin_prefetch(ent(p, s->idx));
	expire(p, pi->ts_ns, DNSPAIR_SWEEP_PER_PACKET);
	struct question q = {
		.has = pi->dns.has_question,
		.qname_hash = pi->dns.qname_hash,
		.qtype = pi->dns.qtype,
		.qclass = pi->dns.qclass,
	};
	/* one call site, so the probe loop is inlined */
	uint32_t i = find(p, k, tag, &q, pi->ts_ns);
	if (pi->dns.qr)
		return on_response(p, pi, f, i, sample);
	return on_request(p, pi, k, tag, &q, f, i);
}

enum dnspair_event dnspair_packet(struct dnspair *p, const struct pkt_info *pi,
				  struct flow *f, struct dnspair_sample *sample)
{
	struct dnspair_hint h;
	dnspair_hint(pi, &h);
	return dnspair_packet_hinted(p, pi, &h, f, sample);
}

void dnspair_prefetch(const struct dnspair *p, const struct dnspair_hint *h)
{
	if (h->pairs)
		__builtin_prefetch(&p->index.slot[h->tag & p->index.mask]);
}

void dnspair_feed_dists(struct dnspair *p, bool on)
{
	p->feed_dists = on;
}

void dnspair_stats(const struct dnspair *p, struct dnspair_stats *out)
{
	*out = p->st;
}
