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
uint64_t flow_key_hash(const struct flow_key *k);
bool flow_key_equal(const struct flow_key *a, const struct flow_key *b);

#endif
