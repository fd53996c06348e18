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
 * Keys flowkey.h's inline path does not take.  Shorter than a word: the
 * bytes as one word.  Longer than FLOW_KEY_SHORT_MAX: 16 bytes at a time
 * from the start, a word to each lane, while more than 16 are left, then
 * the last 16 bytes (overlapping bytes already taken).
 */
uint64_t flow_key_hash_other(const struct flow_key *k)
{
	enum { W = FLOW_KEY_WORD, BLOCK = 2 * FLOW_KEY_WORD };
	uint64_t h = flow_key_hash_seed(k), h2 = FLOW_KEY_HASH_SEED2;
	unsigned n = k->len;
	if (n < W) {
		uint64_t w = 0;
		memcpy(&w, k->data, n);
		return flow_key_hash_final(flow_key_hash_round(h, w), h2);
	}
	const uint8_t *p = k->data, *end = p + n;
	for (; end - p > BLOCK; p += BLOCK) {
		h = flow_key_hash_round(h, flow_key_word(p));
		h2 = flow_key_hash_round(h2, flow_key_word(p + W));
	}
	h = flow_key_hash_round(h, flow_key_word(end - BLOCK));
	h2 = flow_key_hash_round(h2, flow_key_word(end - W));
	return flow_key_hash_final(h, h2);
}
