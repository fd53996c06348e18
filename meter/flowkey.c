/*
 * flowkey.c — canonical flow keys (see flowkey.h).
 *
 * data[] holds the items back to back, sorted by attribute number:
 *
 *     attr (2 bytes, big-endian) | width (1) | mask[width] | value[width]
 *
 * Big-endian attribute numbers make the byte order of the items their
 * sort order, and the masked values make equal flows equal bytes, so
 * hashing and comparing only look at data[0..len).
 */
#include "flowkey.h"

#include <string.h>

#include "attr.h"

enum {
	ITEM_HDR = FLOW_KEY_ITEM_HDR,
	ITEMS_MAX = UINT8_MAX      /* n_items is a uint8_t */
};

static inline unsigned item_attr(const uint8_t *it)
{
	return (unsigned)it[0] << 8 | it[1];
}

static inline unsigned item_width(const uint8_t *it)
{
	return it[2];
}

static inline unsigned item_size(unsigned width)
{
	return ITEM_HDR + 2 * width;
}

static void item_fill(struct flow_key_item *out, const uint8_t *it)
{
	out->attr = (uint16_t)item_attr(it);
	out->width = (uint8_t)item_width(it);
	out->mask = it + ITEM_HDR;
	out->value = it + ITEM_HDR + item_width(it);
}

/* One item in the layout above; the value is masked on the way in. */
static void item_write(uint8_t *it, unsigned attr, unsigned width,
		       const uint8_t *mask, const uint8_t *value)
{
	it[0] = (uint8_t)(attr >> 8);
	it[1] = (uint8_t)attr;
	it[2] = (uint8_t)width;
	for (unsigned i = 0; i < width; i++) {
		it[ITEM_HDR + i] = mask[i];
		it[ITEM_HDR + width + i] = value[i] & mask[i];
	}
}

int flow_key_append(struct flow_key *k, unsigned attr, unsigned width,
		    const uint8_t *mask, const uint8_t *value)
{
	if (attr > UINT16_MAX || width > UINT8_MAX || k->n_items >= ITEMS_MAX ||
	    k->len + item_size(width) > FLOW_KEY_BYTES)
		return -1;
	item_write(k->data + k->len, attr, width, mask, value);
	k->len = (uint16_t)(k->len + item_size(width));
	k->n_items++;
	return 0;
}

int flow_key_put(struct flow_key *k, unsigned attr, unsigned width,
		 const uint8_t *mask, const uint8_t *value)
{
	if (attr > UINT16_MAX || width > UINT8_MAX)
		return -1;
	/* Find the first item whose attribute is >= attr. */
	unsigned off = 0;
	while (off < k->len && item_attr(k->data + off) < attr)
		off += item_size(item_width(k->data + off));

	unsigned size = item_size(width);
	unsigned old = 0;          /* bytes of the item being replaced */
	bool replace = off < k->len && item_attr(k->data + off) == attr;
	if (replace)
		old = item_size(item_width(k->data + off));
	else if (k->n_items >= ITEMS_MAX)
		return -1;
	if (k->len - old + size > FLOW_KEY_BYTES)
		return -1;

	/* appending in attribute order (what the PME does) moves nothing */
	if (off + old < k->len)
		memmove(k->data + off + size, k->data + off + old, k->len - off - old);
	item_write(k->data + off, attr, width, mask, value);
	k->len = (uint16_t)(k->len - old + size);
	if (!replace)
		k->n_items++;
	return 0;
}

bool flow_key_get(const struct flow_key *k, unsigned attr, struct flow_key_item *out)
{
	for (unsigned off = 0; off < k->len; off += item_size(item_width(k->data + off))) {
		unsigned a = item_attr(k->data + off);
		if (a == attr) {
			item_fill(out, k->data + off);
			return true;
		}
		if (a > attr)
			break;
	}
	return false;
}

bool flow_key_item_at(const struct flow_key *k, unsigned i, struct flow_key_item *out)
{
	unsigned off = 0;
	for (unsigned n = 0; off < k->len; n++) {
		if (n == i) {
			item_fill(out, k->data + off);
			return true;
		}
		off += item_size(item_width(k->data + off));
	}
	return false;
}

void flow_key_swap(const struct flow_key *in, struct flow_key *out)
{
	struct flow_key tmp;
	if (in == out) {        /* allow swapping in place */
		tmp = *in;
		in = &tmp;
	}
	flow_key_clear(out, in->ruleset);
	for (unsigned off = 0; off < in->len; ) {
		const uint8_t *it = in->data + off;
		unsigned w = item_width(it);
		/* Cannot fail: the same items in another order take the
		 * same room. */
		(void)flow_key_put(out, attr_swap(item_attr(it)), w,
				   it + ITEM_HDR, it + ITEM_HDR + w);
		off += item_size(w);
	}
}

/*
 * The hash: each 8-byte word is folded in with one multiply (the words
 * alternate between two lanes so the multiplies overlap), a key whose
 * length is not a multiple of 8 ends with the word of its last 8 bytes
 * shifted down to the bytes not yet hashed (no byte past len is read),
 * and the result goes through a full 64-bit finaliser so every input
 * bit reaches every output bit (the flow table uses the low bits).
 */
#define HASH_SEED  0x9e3779b97f4a7c15ULL   /* 2^64 / golden ratio */
#define HASH_SEED2 0x2545f4914f6cdd1dULL   /* the second lane's */
#define HASH_MUL1  0xff51afd7ed558ccdULL
#define HASH_MUL2  0xc4ceb9fe1a85ec53ULL
#define HASH_SHIFT 33
#define HASH_ROT   31
#define WORD_BYTES 8u
#define BYTE_BITS  8u

static inline uint64_t hash_round(uint64_t h, uint64_t w)
{
	return (h ^ w) * HASH_MUL1;
}

static inline uint64_t hash_final(uint64_t h)
{
	h ^= h >> HASH_SHIFT;
	h *= HASH_MUL1;
	h ^= h >> HASH_SHIFT;
	h *= HASH_MUL2;
	h ^= h >> HASH_SHIFT;
	return h;
}

static inline uint64_t load_word(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, WORD_BYTES);
	return w;
}

/* The last n (1..7) bytes of a key of len >= 8 ending at end, as the low
 * bytes of a word (little- or big-endian alike: the same bytes each
 * time for the same key). */
static inline uint64_t tail_word(const uint8_t *end, unsigned n)
{
	uint64_t w = load_word(end - WORD_BYTES);
	unsigned drop = (WORD_BYTES - n) * BYTE_BITS;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return w >> drop;
#else
	return w << drop >> drop;
#endif
}

uint64_t flow_key_hash(const struct flow_key *k)
{
	uint64_t h = HASH_SEED ^ ((uint64_t)k->ruleset << 32 | (uint64_t)k->len << 8 | k->n_items);
	uint64_t h2 = HASH_SEED2;
	const uint8_t *p = k->data;
	unsigned n = k->len;
	for (; n >= 2 * WORD_BYTES; n -= 2 * WORD_BYTES, p += 2 * WORD_BYTES) {
		h = hash_round(h, load_word(p));
		h2 = hash_round(h2, load_word(p + WORD_BYTES));
	}
	if (n >= WORD_BYTES) {
		h = hash_round(h, load_word(p));
		p += WORD_BYTES;
		n -= WORD_BYTES;
	}
	if (n) {
		uint64_t w = 0;
		if (k->len >= WORD_BYTES)
			w = tail_word(p + n, n);
		else
			memcpy(&w, p, n);
		h2 = hash_round(h2, w);
	}
	return hash_final(h ^ (h2 << HASH_ROT | h2 >> (64 - HASH_ROT)));
}

bool flow_key_equal(const struct flow_key *a, const struct flow_key *b)
{
	return a->ruleset == b->ruleset && a->len == b->len &&
	       a->n_items == b->n_items && memcmp(a->data, b->data, a->len) == 0;
}
