/* flow.c — the flow table: slab of records, key array, search index. */
#include "flow.h"
#include "dist.h"
#include "cacheline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HINDEX_MIN_SLOTS 8u
#define HUGE_PAGE (2u << 20)
#define KEY_ALIGN 8u
#define USE_BITS 64u               /* records per in_use word */

/* The first line holds the per-packet fields; DNS counters the second. */
_Static_assert(offsetof(struct flow, dns) == CACHE_LINE,
	       "hot fields of struct flow must fill exactly one cache line");
_Static_assert(sizeof(struct flow) == 2 * CACHE_LINE,
	       "struct flow is two cache lines");

struct flow_table {
	/* first: flow.h's inline functions read it (flow_table_hot) */
	struct flow_table_hot hot;
	size_t max_key_len;        /* longest data[] a slot holds */
	uint32_t *free_stack;      /* free flow indexes; top = next to use */
	size_t n_free;
	size_t capacity;
	size_t gc_cursor;          /* next slab position flow_gc inspects */
	uint64_t *in_use;          /* bit i % 64 of word i / 64: rec[i] is in
	                              use, so collection skips free records a
	                              word at a time instead of reading each */
	uint32_t *dist_free;       /* free slots, stack */
	size_t dist_n_free;
	flow_recover_fn on_recover;
	void *on_recover_arg;
	struct flow_stats st;
	uint32_t gen_last;         /* generation of the latest flow_insert */
};

_Static_assert(offsetof(struct flow_table, hot) == 0,
	       "flow_table_hot() finds the lookup's fields at the table's start");

/* ---- memory ---------------------------------------------------------- */

/*
 * Zeroed, cache-line aligned memory straight from mmap: the kernel's pages
 * are zero already and are only faulted in when touched, so a table of
 * 65 536 flows holding 52 costs the pages those 52 touch, not a memset of
 * every byte at start (that, and faulting 30 MB in, was 0.1 s of system
 * time per run).  Big arrays are 2 MB aligned and asked for transparent
 * huge pages, since random lookups over hundreds of MB otherwise pay a TLB
 * miss per access (measured: ~2x at 1 M flows).  The mapping's base and
 * length sit in a header just below the returned pointer, for big_free.
 */
struct big_hdr {
	void *base;
	size_t len;
};
#define BIG_HDR CACHE_LINE
_Static_assert(sizeof(struct big_hdr) <= BIG_HDR, "header fits below the data");

#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer the tables stay heap blocks, so overruns of them
 * are still caught. */
static void *big_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t bytes = (n * size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	void *p = aligned_alloc(CACHE_LINE, bytes ? bytes : CACHE_LINE);
	if (p)
		memset(p, 0, bytes);
	return p;
}

static void big_free(void *p)
{
	free(p);
}
#else
static void *big_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t bytes = n * size;
	size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : CACHE_LINE;
	if (bytes > SIZE_MAX - align - BIG_HDR)
		return NULL;
	size_t len = BIG_HDR + align + bytes;
	void *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	uintptr_t p = ((uintptr_t)base + BIG_HDR + align - 1) / align * align;
	struct big_hdr *h = (struct big_hdr *)(p - BIG_HDR);
	h->base = base;
	h->len = len;
#ifdef MADV_HUGEPAGE
	if (align == HUGE_PAGE)
		(void)madvise((void *)p, bytes, MADV_HUGEPAGE);   /* a hint; may fail */
#endif
	return (void *)p;
}

static void big_free(void *p)
{
	if (!p)
		return;
	const struct big_hdr *h = (const struct big_hdr *)((uintptr_t)p - BIG_HDR);
	(void)munmap(h->base, h->len);
}
#endif

int flow_hindex_init(struct flow_hindex *h, size_t entries)
{
	size_t slots = HINDEX_MIN_SLOTS;
	while (slots < 2 * entries) {
		if (slots > UINT32_MAX / 2)
			return -1;
		slots *= 2;
	}
	h->slot = big_calloc(slots, sizeof(*h->slot));
	if (!h->slot)
		return -1;
	h->mask = (uint32_t)(slots - 1);
	return 0;
}

void flow_hindex_fini(struct flow_hindex *h)
{
	big_free(h->slot);
	h->slot = NULL;
	h->mask = 0;
}

void flow_hindex_insert(struct flow_hindex *h, uint32_t tag, uint32_t idx)
{
	uint32_t pos = tag & h->mask;
	while (h->slot[pos].idx != 0)
		pos = (pos + 1) & h->mask;
	h->slot[pos].idx = idx;
	h->slot[pos].tag = tag;
}

/* ---- table ----------------------------------------------------------- */

struct flow_table *flow_table_create(size_t capacity)
{
	return flow_table_create_sized(capacity, FLOW_KEY_BYTES);
}

struct flow_table *flow_table_create_sized(size_t capacity, size_t max_key_len)
{
	if (capacity == 0 || capacity > FLOW_MAX_CAPACITY ||
	    max_key_len == 0 || max_key_len > FLOW_KEY_BYTES)
		return NULL;
	struct flow_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->hot.rec = big_calloc(capacity, sizeof(struct flow));
	/* a slot is the key's header plus max_key_len data bytes, rounded so
	 * every slot starts aligned */
	size_t stride = offsetof(struct flow_key, data) + max_key_len;
	stride = (stride + KEY_ALIGN - 1) / KEY_ALIGN * KEY_ALIGN;
	t->hot.key_stride = stride;
	t->max_key_len = max_key_len;
	t->hot.keys = big_calloc(capacity, stride);
	t->free_stack = malloc(capacity * sizeof(uint32_t));
	t->in_use = calloc(capacity / USE_BITS + 1, sizeof(uint64_t));
	if (!t->hot.rec || !t->hot.keys || !t->free_stack || !t->in_use ||
	    flow_hindex_init(&t->hot.index, capacity) != 0) {
		flow_table_free(t);
		return NULL;
	}
	/* Stack top = index 1, so a fresh table hands out 1, 2, 3, ... */
	for (size_t i = 0; i < capacity; i++)
		t->free_stack[i] = (uint32_t)(capacity - i);
	t->n_free = capacity;
	t->capacity = capacity;
	t->st.capacity = capacity;
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	big_free(t->hot.rec);
	big_free(t->hot.keys);
	free(t->free_stack);
	free(t->in_use);
	free(t->hot.dists);
	free(t->dist_free);
	flow_hindex_fini(&t->hot.index);
	free(t);
}

static inline struct flow *rec_at(const struct flow_table *t, uint32_t idx)
{
	return flow_hot_rec(&t->hot, idx);
}

/* in_use bits, by slab position (flow index - 1) */
static inline void use_set(struct flow_table *t, size_t pos, bool used)
{
	uint64_t bit = 1ull << (pos % USE_BITS);
	if (used)
		t->in_use[pos / USE_BITS] |= bit;
	else
		t->in_use[pos / USE_BITS] &= ~bit;
}

/* The key slot of entry idx (flow_hot_key). */
static inline struct flow_key *key_at(const struct flow_table *t, uint32_t idx)
{
	return flow_hot_key(&t->hot, idx);
}

const struct flow_key *flow_get_key(const struct flow_table *t, const struct flow *f)
{
	return key_at(t, flow_index(t, f));
}

/* flow_lookup, inlined into the per-packet paths (a call layer fewer) */
static inline __attribute__((always_inline)) struct flow *
lookup(struct flow_table *t, const struct flow_key *k, uint64_t hash)
{
	uint32_t tag = flow_hash_tag(hash), pos;
	for (uint32_t i = flow_hindex_first(&t->hot.index, tag, &pos); i;
	     i = flow_hindex_next(&t->hot.index, tag, &pos)) {
		/* a tag match is almost always the flow: fetch its record
		 * while the key compares (two misses overlap, not add) */
		__builtin_prefetch(rec_at(t, i), 1);
		if (flow_key_equal(key_at(t, i), k))
			return rec_at(t, i);
	}
	return NULL;
}

struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k, uint64_t hash)
{
	return lookup(t, k, hash);
}

struct flow *flow_insert(struct flow_table *t, const struct flow_key *k,
			 uint64_t hash, uint64_t ts_ns)
{
	if (k->len > t->max_key_len) {
		t->st.key_too_long++;
		return NULL;
	}
	if (t->n_free == 0) {
		t->st.insert_failures++;
		return NULL;
	}
	if (t->gen_last == UINT32_MAX)
		flow_table_renumber(t);
	uint32_t idx = t->free_stack[--t->n_free];
	struct flow *f = rec_at(t, idx);
	memset(f, 0, sizeof(*f));
	f->gen = ++t->gen_last;
	f->first_ns = f->last_ns = ts_ns;
	f->tag = flow_hash_tag(hash);
	f->state = FLOW_CURRENT;
	use_set(t, idx - 1, true);
	/* only the used bytes: the PME leaves data[] past len unwritten */
	struct flow_key *dst = key_at(t, idx);
	dst->ruleset = k->ruleset;
	dst->len = k->len;
	dst->n_items = k->n_items;
	memcpy(dst->data, k->data, k->len);
	flow_hindex_insert(&t->hot.index, f->tag, idx);
	t->st.created++;
	if (++t->st.active > t->st.peak)
		t->st.peak = t->st.active;
	return f;
}

void flow_table_renumber(struct flow_table *t)
{
	/* at most FLOW_MAX_CAPACITY records: they fit below UINT32_MAX */
	t->gen_last = 0;
	for (size_t i = 0; i < t->capacity; i++)
		if (t->hot.rec[i].state != FLOW_INACTIVE)
			t->hot.rec[i].gen = ++t->gen_last;
	t->hot.gen_era++;
}

void flow_account(struct flow_table *t, struct flow *f, bool reverse,
		  uint32_t octets, uint64_t ts_ns)
{
	if (f->state == FLOW_IDLE) {
		f->state = FLOW_CURRENT;
		t->st.idle--;
	}
	flow_account_current(f, reverse, octets, ts_ns);
}

/* current(D->S): the flow the other way round.  Apart from the inlined
 * path: it needs a whole swapped key on the stack, and most packets find
 * their flow at the first lookup. */
static struct flow *lookup_swapped(struct flow_table *t, const struct flow_key *key)
{
	struct flow_key sw;
	flow_key_swap(key, &sw);
	return lookup(t, &sw, flow_key_hash(&sw));
}

/* flow_find_packet after the key's own lookup found nothing (*rev is
 * `reversed` already) */
static struct flow *find_packet_miss(struct flow_table *t, const struct flow_key *key,
				     bool reversed, bool *rev)
{
	if (reversed)
		return NULL;
	struct flow *f = lookup_swapped(t, key);
	*rev = f != NULL;
	return f;
}

struct flow *flow_find_packet(struct flow_table *t, const struct flow_key *key,
			      uint64_t hash, bool reversed, bool *counted_reverse)
{
	bool rev = reversed;
	struct flow *f = lookup(t, key, hash);
	if (!f)
		f = find_packet_miss(t, key, reversed, &rev);
	if (counted_reverse)
		*counted_reverse = rev;
	return f;
}

/* flow_count_packet (flow.h) past flow_first_slot(): the whole lookup,
 * then the other way round, else create() the flow as the key describes
 * it.  Apart from the path most packets take, which then needs few
 * registers and no stack frame. */
struct flow *flow_count_packet_rest(struct flow_table *t, const struct flow_key *key,
				    uint64_t hash, bool reversed, uint32_t octets,
				    uint64_t ts_ns, bool *counted_reverse)
{
	bool rev = reversed;
	struct flow *f = lookup(t, key, hash);
	if (!f)
		f = find_packet_miss(t, key, reversed, &rev);
	if (!f) {
		f = flow_insert(t, key, hash, ts_ns);
		if (!f)
			return NULL;
		rev = reversed;
	}
	flow_account(t, f, rev, octets, ts_ns);
	if (counted_reverse)
		*counted_reverse = rev;
	return f;
}

void flow_remove(struct flow_table *t, struct flow *f)
{
	if (f->state == FLOW_INACTIVE)
		return;
	uint32_t idx = flow_index(t, f);
	if (t->on_recover)
		t->on_recover(f, idx, t->on_recover_arg);
	flow_hindex_remove(&t->hot.index, f->tag, idx);
	if (f->dist) {
		t->dist_free[t->dist_n_free++] = f->dist;
		t->st.dist_used--;
		f->dist = 0;
	}
	if (f->state == FLOW_IDLE)
		t->st.idle--;
	t->st.active--;
	f->state = FLOW_INACTIVE;
	use_set(t, idx - 1, false);
	t->free_stack[t->n_free++] = idx;
}

/* Inspect one in-use record (RFC 2722 §4.5): idle after the inactivity
 * timeout, recovered once idle and collected. */
static bool gc_inspect(struct flow_table *t, struct flow *f, uint64_t now_ns,
		       uint64_t inactivity_ns, uint64_t collected_all,
		       const uint64_t *per_rs, size_t n_rs)
{
	if (now_ns < f->last_ns || now_ns - f->last_ns < inactivity_ns)
		return false;
	if (f->state == FLOW_CURRENT) {
		f->state = FLOW_IDLE;
		t->st.idle++;
	}
	uint64_t collected = collected_all;
	if (per_rs) {
		unsigned rs = flow_get_key(t, f)->ruleset;
		collected = rs < n_rs ? per_rs[rs] : UINT64_MAX;
	}
	/* Collected means a collection happened after its last packet. */
	if (f->last_ns < collected) {
		flow_remove(t, f);
		t->st.recovered++;
		return true;
	}
	return false;
}

/*
 * The next max_inspect slab positions from the cursor, in order; free
 * records have nothing to inspect, so the walk reads the in_use words and
 * visits only the records in use (each word is read again after a visit,
 * in case an on_recover callback changed the table).
 */
static size_t gc_run(struct flow_table *t, uint64_t now_ns, uint64_t inactivity_ns,
		     uint64_t collected_all, const uint64_t *per_rs, size_t n_rs,
		     size_t max_inspect)
{
	size_t recovered = 0;
	if (t->st.active == 0)
		return 0;          /* nothing to inspect: skip the walk */
	if (max_inspect > t->capacity)
		max_inspect = t->capacity;
	while (max_inspect) {
		size_t pos = t->gc_cursor, bit = pos % USE_BITS;
		/* positions pos .. pos + span - 1: one word, no wrap */
		size_t span = USE_BITS - bit;
		if (span > t->capacity - pos)
			span = t->capacity - pos;
		if (span > max_inspect)
			span = max_inspect;
		uint64_t window = span == USE_BITS ? ~0ull : ((1ull << span) - 1) << bit;
		uint64_t done = 0;      /* positions of the window already visited */
		for (;;) {
			uint64_t todo = t->in_use[pos / USE_BITS] & window & ~done;
			if (!todo)
				break;
			unsigned b = (unsigned)__builtin_ctzll(todo);
			done |= (2ull << b) - 1;
			struct flow *f = &t->hot.rec[pos - bit + b];
			if (f->state != FLOW_INACTIVE &&
			    gc_inspect(t, f, now_ns, inactivity_ns, collected_all, per_rs, n_rs))
				recovered++;
		}
		t->gc_cursor = pos + span == t->capacity ? 0 : pos + span;
		max_inspect -= span;
	}
	return recovered;
}

size_t flow_gc(struct flow_table *t, uint64_t now_ns, uint64_t inactivity_ns,
	       uint64_t collected_until_ns, size_t max_inspect)
{
	return gc_run(t, now_ns, inactivity_ns, collected_until_ns, NULL, 0,
		      max_inspect);
}

size_t flow_gc_rulesets(struct flow_table *t, uint64_t now_ns,
			uint64_t inactivity_ns, const uint64_t *collected_until,
			size_t n, size_t max_inspect)
{
	return gc_run(t, now_ns, inactivity_ns, UINT64_MAX, collected_until, n,
		      max_inspect);
}

int flow_table_enable_dists(struct flow_table *t, size_t n_slots)
{
	if (t->hot.dists || n_slots > t->capacity)
		return -1;
	if (n_slots == 0)
		return 0;
	t->hot.dists = malloc(n_slots * sizeof(*t->hot.dists));
	t->dist_free = malloc(n_slots * sizeof(*t->dist_free));
	if (!t->hot.dists || !t->dist_free) {
		free(t->hot.dists);
		free(t->dist_free);
		t->hot.dists = NULL;
		t->dist_free = NULL;
		return -1;
	}
	for (size_t i = 0; i < n_slots; i++)
		t->dist_free[i] = (uint32_t)(n_slots - i);
	t->dist_n_free = n_slots;
	t->st.dist_slots = n_slots;
	return 0;
}

struct dist *flow_dist_take(struct flow_table *t, struct flow *f)
{
	if (t->dist_n_free == 0) {
		if (t->hot.dists)
			t->st.dist_failures++;
		return NULL;
	}
	f->dist = t->dist_free[--t->dist_n_free];
	t->st.dist_used++;
	struct dist *d = &t->hot.dists[f->dist - 1];
	dist_init(d);
	return d;
}

const struct dist *flow_dist_peek(const struct flow_table *t, const struct flow *f)
{
	return f->dist ? &t->hot.dists[f->dist - 1] : NULL;
}

void flow_table_on_recover(struct flow_table *t, flow_recover_fn fn, void *arg)
{
	t->on_recover = fn;
	t->on_recover_arg = arg;
}

void flow_table_stats(const struct flow_table *t, struct flow_stats *out)
{
	*out = t->st;
}

unsigned flow_table_usage_percent(const struct flow_table *t)
{
	return (unsigned)((uint64_t)t->st.active * 100u / t->capacity);
}

size_t flow_table_capacity(const struct flow_table *t)
{
	return t->capacity;
}

struct flow *flow_by_index(const struct flow_table *t, uint32_t index)
{
	if (index == 0 || index > t->capacity)
		return NULL;
	struct flow *f = rec_at(t, index);
	return f->state == FLOW_INACTIVE ? NULL : f;
}

struct flow *flow_next_active(const struct flow_table *t, uint32_t after_index,
			      uint64_t since_ns)
{
	for (size_t i = after_index; i < t->capacity; i++) {
		struct flow *f = &t->hot.rec[i];
		if (f->state != FLOW_INACTIVE && f->last_ns >= since_ns)
			return f;
	}
	return NULL;
}

int flow_foreach_active_since(const struct flow_table *t, uint64_t since_ns,
			      flow_visit_fn cb, void *arg)
{
	uint32_t idx = 0;
	struct flow *f;
	while ((f = flow_next_active(t, idx, since_ns)) != NULL) {
		idx = flow_index(t, f);
		int rc = cb(f, idx, arg);
		if (rc)
			return rc;
	}
	return 0;
}
