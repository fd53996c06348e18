/*
 * flowkey.h — a flow key: what the PME pushed onto its pattern queue
 * (RFC 2722 §4.4), canonicalised so that equal flows have equal bytes.
 *
 * Items are kept sorted by attribute number; a later push of the same
 * attribute replaces the earlier one (RFC 2723 §4.2, second example).  The
 * value of each item is stored already ANDed with its mask (RFC 2722 §2:
 * masked-out bits are zero).  The ruleset number is part of the key so one
 * table can hold the flows of several rulesets.
 */
#ifndef NTM_FLOWKEY_H
#define NTM_FLOWKEY_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#define FLOW_KEY_BYTES 192   /* item = attr(2) width(1) mask[w] value[w] */
#define FLOW_KEY_ITEM_HDR 3  /* attr (big-endian) and width */
#define FLOW_KEY_PAD 24      /* what flow_key_append_padded may read */

struct flow_key {
	uint16_t ruleset;
	uint16_t len;            /* bytes used in data[] */
	uint8_t n_items;
	uint8_t data[FLOW_KEY_BYTES];
};

struct flow_key_item {
	uint16_t attr;
	uint8_t width;
	const uint8_t *mask;     /* point into the key; valid while it lives */
	const uint8_t *value;
};

/* Inline: it runs for every packet the PME counts.  data[] past len is
 * never read, so it is left as it is. */
static inline void flow_key_clear(struct flow_key *k, unsigned ruleset)
{
	k->ruleset = (uint16_t)ruleset;
	k->len = 0;
	k->n_items = 0;
}
/* Insert or replace attribute `attr`; the value is masked on the way in.
 * Returns 0, or -1 when the key is full (the PME then counts a NoMatch). */
int flow_key_put(struct flow_key *k, unsigned attr, unsigned width,
		 const uint8_t *mask, const uint8_t *value);
/* Append an item for an attribute above every attribute already in the
 * key (the PME builds keys in attribute order, so nothing moves); the
 * value is masked on the way in.  Returns 0, or -1 when the key is full. */
int flow_key_append(struct flow_key *k, unsigned attr, unsigned width,
		    const uint8_t *mask, const uint8_t *value);
/*
 * flow_key_append for callers whose mask and value buffers can be read for
 * FLOW_KEY_PAD bytes whatever the width (the PME's rule words): the same
 * item, copied and masked a word at a time instead of a byte at a time.
 * It may write up to 7 bytes past the item's end, inside data[] (which
 * nothing reads past len); near the end of data[] it takes the byte path.
 */
static inline int flow_key_append_padded(struct flow_key *k, unsigned attr,
					 unsigned width, const uint8_t *mask,
					 const uint8_t *value)
{
	enum { WORD = 8 };
	unsigned nwords = (width + WORD - 1) / WORD;
	if (width > FLOW_KEY_PAD || attr > UINT16_MAX || k->n_items >= UINT8_MAX ||
	    k->len + FLOW_KEY_ITEM_HDR + width + nwords * WORD > FLOW_KEY_BYTES)
		return flow_key_append(k, attr, width, mask, value);
	uint8_t *it = k->data + k->len;
	it[0] = (uint8_t)(attr >> 8);
	it[1] = (uint8_t)attr;
	it[2] = (uint8_t)width;
	uint8_t *m = it + FLOW_KEY_ITEM_HDR, *v = m + width;
	/* all mask words first: a word's tail may spill into the value,
	 * which the value words then overwrite */
	for (unsigned w = 0; w < nwords; w++)
		memcpy(m + w * WORD, mask + w * WORD, WORD);
	for (unsigned w = 0; w < nwords; w++) {
		uint64_t a, b;
		memcpy(&a, mask + w * WORD, WORD);
		memcpy(&b, value + w * WORD, WORD);
		a &= b;
		memcpy(v + w * WORD, &a, WORD);
	}
	k->len = (uint16_t)(k->len + FLOW_KEY_ITEM_HDR + 2 * width);
	k->n_items++;
	return 0;
}
/*
 * Append one item already in data[] form (`size` bytes, as flow_key_append
 * wrote it into some key), e.g. an item a caller encoded once for a value
 * that never changes.  The same rules as flow_key_append: its attribute
 * must be above every attribute in the key.  src must be readable for
 * FLOW_KEY_ITEM_COPY bytes (a fixed-size copy is cheaper than a sized one);
 * a bigger item, or one near the end of data[], takes the sized copy.
 */
#define FLOW_KEY_ITEM_COPY 40
static inline int flow_key_append_item(struct flow_key *k, const uint8_t *src,
				       unsigned size)
{
	if (k->n_items >= UINT8_MAX || k->len + size > FLOW_KEY_BYTES)
		return -1;
	if (size <= FLOW_KEY_ITEM_COPY && k->len + FLOW_KEY_ITEM_COPY <= FLOW_KEY_BYTES)
		memcpy(k->data + k->len, src, FLOW_KEY_ITEM_COPY);
	else
		memcpy(k->data + k->len, src, size);
	k->len = (uint16_t)(k->len + size);
	k->n_items++;
	return 0;
}
/*
 * Append n items already in data[] form, `size` bytes in all (several
 * flow_key_append_item()s at once: their attributes ascending, above every
 * attribute in the key).  src must be readable for FLOW_KEY_ITEMS_COPY
 * bytes: as flow_key_append_item(), a fixed-size copy when the items fit
 * it.  Returns 0, or -1 (key unchanged) when they do not fit the key.
 */
#define FLOW_KEY_ITEMS_COPY 64
static inline int flow_key_append_items(struct flow_key *k, const uint8_t *src,
					unsigned size, unsigned n)
{
	if (k->n_items + n > UINT8_MAX || k->len + size > FLOW_KEY_BYTES)
		return -1;
	if (size <= FLOW_KEY_ITEMS_COPY && k->len + FLOW_KEY_ITEMS_COPY <= FLOW_KEY_BYTES)
		memcpy(k->data + k->len, src, FLOW_KEY_ITEMS_COPY);
	else
		memcpy(k->data + k->len, src, size);
	k->len = (uint16_t)(k->len + size);
	k->n_items = (uint8_t)(k->n_items + n);
	return 0;
}
/* The item for `attr`, if the key has one. */
bool flow_key_get(const struct flow_key *k, unsigned attr, struct flow_key_item *out);
/* i-th item in attribute order; false past the end. */
bool flow_key_item_at(const struct flow_key *k, unsigned i, struct flow_key_item *out);
/* The same flow seen from the other end: every Source/Dest pair swapped
 * (Class and Kind included, attr_swap()), re-sorted. */
void flow_key_swap(const struct flow_key *in, struct flow_key *out);

/*
 * Hash and equality run for every counted packet, so they are inline and
 * read whole words, without a loop, for keys of FLOW_KEY_WORD to
 * FLOW_KEY_SHORT_MAX bytes (a server with its class and kind is 26 bytes,
 * with an IPv6 address 50, a 5-tuple 41): the first and the last word of
 * the key, then up to 32 bytes the second and the last but one, then up
 * to 64 the next two from each end.  The words from the start and those
 * from the end overlap rather than end in a partial word.  Other lengths
 * take flow_key_hash_other() and memcmp().  Only data[0..len) is read, so
 * the bytes past len (left unwritten by the PME) never matter.
 *
 * The hash folds the words from the start into one lane and those from
 * the end into another, with one multiply each (the lanes' multiplies
 * overlap); the key's header (ruleset, len, n_items: flow_key_head() on
 * the inline path) seeds the first, and a full 64-bit finaliser makes
 * every input bit reach every output bit (the flow table uses the low
 * bits).  Its values are seen by nobody:
 * flows are numbered and listed by record, never by hash.
 */
#define FLOW_KEY_WORD 8u
#define FLOW_KEY_SHORT_MAX (8 * FLOW_KEY_WORD)
#define FLOW_KEY_HASH_SEED  0x9e3779b97f4a7c15ULL   /* 2^64 / golden ratio */
#define FLOW_KEY_HASH_SEED2 0x2545f4914f6cdd1dULL   /* the second lane's */
#define FLOW_KEY_HASH_MUL1  0xff51afd7ed558ccdULL
#define FLOW_KEY_HASH_MUL2  0xc4ceb9fe1a85ec53ULL
#define FLOW_KEY_HASH_SHIFT 33
#define FLOW_KEY_HASH_ROT   31

static inline uint64_t flow_key_word(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, FLOW_KEY_WORD);
	return w;
}

/* One word into a lane. */
static inline uint64_t flow_key_hash_round(uint64_t h, uint64_t w)
{
	return (h ^ w) * FLOW_KEY_HASH_MUL1;
}

/* The first lane's start for flow_key_hash_other(): the header, so keys
 * differing only there (or in length, whose overlapping words may hold
 * the same bytes) differ. */
static inline uint64_t flow_key_hash_seed(const struct flow_key *k)
{
	return FLOW_KEY_HASH_SEED ^
	       ((uint64_t)k->ruleset << 32 | (uint64_t)k->len << 8 | k->n_items);
}

/* The header (ruleset, len, n_items) and the first data bytes as one word:
 * of a key of at least a word, all key bytes, and a whole header compares
 * at once. */
_Static_assert(offsetof(struct flow_key, data) + 3 == FLOW_KEY_WORD,
	       "a flow key's header and first data bytes fill a word");
static inline uint64_t flow_key_head(const struct flow_key *k)
{
	uint64_t w;
	memcpy(&w, k, FLOW_KEY_WORD);
	return w;
}

/* Both lanes into the result. */
static inline uint64_t flow_key_hash_final(uint64_t h, uint64_t h2)
{
	h ^= h2 << FLOW_KEY_HASH_ROT | h2 >> (64 - FLOW_KEY_HASH_ROT);
	h ^= h >> FLOW_KEY_HASH_SHIFT;
	h *= FLOW_KEY_HASH_MUL1;
	h ^= h >> FLOW_KEY_HASH_SHIFT;
	h *= FLOW_KEY_HASH_MUL2;
	h ^= h >> FLOW_KEY_HASH_SHIFT;
	return h;
}

/* Whether a key of len bytes takes the inline path. */
static inline bool flow_key_short(unsigned len)
{
	return len - FLOW_KEY_WORD <= FLOW_KEY_SHORT_MAX - FLOW_KEY_WORD;
}

/* A key shorter than a word or longer than FLOW_KEY_SHORT_MAX. */
uint64_t flow_key_hash_other(const struct flow_key *k);

static inline uint64_t flow_key_hash(const struct flow_key *k)
{
	unsigned n = k->len;
	if (!flow_key_short(n))
		return flow_key_hash_other(k);
	const uint8_t *p = k->data, *end = p + n;
	enum { W = FLOW_KEY_WORD };
	uint64_t h = flow_key_hash_round(FLOW_KEY_HASH_SEED ^ flow_key_head(k),
					 flow_key_word(p));
	uint64_t h2 = flow_key_hash_round(FLOW_KEY_HASH_SEED2, flow_key_word(end - W));
	if (n > 2 * W) {
		h = flow_key_hash_round(h, flow_key_word(p + W));
		h2 = flow_key_hash_round(h2, flow_key_word(end - 2 * W));
		if (n > 4 * W) {
			h = flow_key_hash_round(h, flow_key_word(p + 2 * W));
			h2 = flow_key_hash_round(h2, flow_key_word(end - 3 * W));
			h = flow_key_hash_round(h, flow_key_word(p + 3 * W));
			h2 = flow_key_hash_round(h2, flow_key_word(end - 4 * W));
		}
	}
	return flow_key_hash_final(h, h2);
}

/* The bits where the words at offset off of a and b differ. */
static inline uint64_t flow_key_word_diff(const uint8_t *a, const uint8_t *b,
					  unsigned off)
{
	return flow_key_word(a + off) ^ flow_key_word(b + off);
}

/* flow_key_equal() for a of a length flow_key_short() takes. */
static inline bool flow_key_equal_short(const struct flow_key *a, const struct flow_key *b)
{
	/* b's data is read only once its length is known to be a's */
	if (flow_key_head(a) != flow_key_head(b))
		return false;
	/* the words flow_key_hash() reads */
	const uint8_t *p = a->data, *q = b->data;
	unsigned n = a->len;
	enum { W = FLOW_KEY_WORD };
	uint64_t diff = flow_key_word_diff(p, q, 0) | flow_key_word_diff(p, q, n - W);
	if (n > 2 * W) {
		diff |= flow_key_word_diff(p, q, W) | flow_key_word_diff(p, q, n - 2 * W);
		if (n > 4 * W)
			diff |= flow_key_word_diff(p, q, 2 * W) |
				flow_key_word_diff(p, q, n - 3 * W) |
				flow_key_word_diff(p, q, 3 * W) |
				flow_key_word_diff(p, q, n - 4 * W);
	}
	return diff == 0;
}

static inline bool flow_key_equal(const struct flow_key *a, const struct flow_key *b)
{
	if (flow_key_short(a->len))
		return flow_key_equal_short(a, b);
	return a->ruleset == b->ruleset && a->len == b->len && a->n_items == b->n_items &&
	       memcmp(a->data, b->data, a->len) == 0;
}

#endif
