/* test_flowkey — canonical flow keys: order, replacement, masking, swap, hash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "flowkey.h"

static const uint8_t FF[20] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};
static const uint8_t M16[4] = { 0xff, 0xff, 0x00, 0x00 };
static const uint8_t UA[4] = { 130, 216, 7, 9 };        /* masked to 130.216.0.0 */
static const uint8_t AIT[4] = { 156, 62, 0, 0 };
static const uint8_t IPV4[1] = { 1 };
static const uint8_t PORT53[2] = { 0x00, 0x35 };
static const uint8_t PORT1024[2] = { 0x04, 0x00 };

static void insert_order_independent(void **state)
{
	(void)state;
	struct flow_key a, b;
	flow_key_clear(&a, 5);
	assert_int_equal(flow_key_put(&a, ATTR_DEST_PEER_ADDRESS, 4, M16, AIT), 0);
	assert_int_equal(flow_key_put(&a, ATTR_SOURCE_PEER_TYPE, 1, FF, IPV4), 0);
	assert_int_equal(flow_key_put(&a, ATTR_SOURCE_PEER_ADDRESS, 4, M16, UA), 0);
	flow_key_clear(&b, 5);
	assert_int_equal(flow_key_put(&b, ATTR_SOURCE_PEER_ADDRESS, 4, M16, UA), 0);
	assert_int_equal(flow_key_put(&b, ATTR_SOURCE_PEER_TYPE, 1, FF, IPV4), 0);
	assert_int_equal(flow_key_put(&b, ATTR_DEST_PEER_ADDRESS, 4, M16, AIT), 0);

	/* attr BE, width, mask, masked value — sorted 8, 9, 19 */
	static const uint8_t want[] = {
		0x00, 0x08, 1, 0xff, 0x01,
		0x00, 0x09, 4, 0xff, 0xff, 0x00, 0x00, 130, 216, 0, 0,
		0x00, 0x13, 4, 0xff, 0xff, 0x00, 0x00, 156, 62, 0, 0,
	};
	assert_int_equal(a.len, sizeof want);
	assert_int_equal(a.n_items, 3);
	assert_int_equal(a.ruleset, 5);
	assert_memory_equal(a.data, want, sizeof want);
	assert_true(flow_key_equal(&a, &b));
	assert_true(flow_key_hash(&a) == flow_key_hash(&b));

	struct flow_key_item it;
	assert_true(flow_key_item_at(&a, 1, &it));
	assert_int_equal(it.attr, ATTR_SOURCE_PEER_ADDRESS);
	assert_int_equal(it.width, 4);
	assert_memory_equal(it.value, ((const uint8_t[]){ 130, 216, 0, 0 }), 4);
	assert_false(flow_key_item_at(&a, 3, &it));
	assert_true(flow_key_get(&a, ATTR_DEST_PEER_ADDRESS, &it));
	assert_memory_equal(it.mask, M16, 4);
	assert_false(flow_key_get(&a, ATTR_DEST_TRANS_ADDRESS, &it));
}

static void replace_same_attribute(void **state)
{
	(void)state;
	struct flow_key k;
	flow_key_clear(&k, 1);
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_PEER_TYPE, 1, FF, IPV4), 0);
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_PEER_ADDRESS, 4, M16, UA), 0);
	assert_int_equal(flow_key_put(&k, ATTR_DEST_PEER_ADDRESS, 4, M16, AIT), 0);
	/* a later /24 save of SourcePeerAddress replaces the /16 one */
	static const uint8_t m24[4] = { 0xff, 0xff, 0xff, 0x00 };
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_PEER_ADDRESS, 4, m24, UA), 0);
	assert_int_equal(k.n_items, 3);
	static const uint8_t want[] = {
		0x00, 0x08, 1, 0xff, 0x01,
		0x00, 0x09, 4, 0xff, 0xff, 0xff, 0x00, 130, 216, 7, 0,
		0x00, 0x13, 4, 0xff, 0xff, 0x00, 0x00, 156, 62, 0, 0,
	};
	assert_int_equal(k.len, sizeof want);
	assert_memory_equal(k.data, want, sizeof want);

	/* a replacement of another width moves the items after it */
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_PEER_ADDRESS, 16, FF, v6), 0);
	assert_int_equal(k.n_items, 3);
	assert_int_equal(k.len, 5 + 35 + 11);
	struct flow_key_item it;
	assert_true(flow_key_get(&k, ATTR_DEST_PEER_ADDRESS, &it));
	assert_memory_equal(it.value, AIT, 4);
	assert_true(flow_key_get(&k, ATTR_SOURCE_PEER_ADDRESS, &it));
	assert_int_equal(it.width, 16);
	assert_memory_equal(it.value, v6, 16);
}

static void values_masked(void **state)
{
	(void)state;
	struct flow_key a, b;
	static const uint8_t ua2[4] = { 130, 216, 200, 1 };
	flow_key_clear(&a, 1);
	flow_key_clear(&b, 1);
	assert_int_equal(flow_key_put(&a, ATTR_SOURCE_PEER_ADDRESS, 4, M16, UA), 0);
	assert_int_equal(flow_key_put(&b, ATTR_SOURCE_PEER_ADDRESS, 4, M16, ua2), 0);
	assert_true(flow_key_equal(&a, &b));
	assert_true(flow_key_hash(&a) == flow_key_hash(&b));
	struct flow_key_item it;
	assert_true(flow_key_get(&a, ATTR_SOURCE_PEER_ADDRESS, &it));
	assert_memory_equal(it.value, ((const uint8_t[]){ 130, 216, 0, 0 }), 4);

	/* a different mask is a different flow even when the bits agree */
	static const uint8_t m8[4] = { 0xff, 0x00, 0x00, 0x00 };
	static const uint8_t v8[4] = { 130, 0, 0, 0 };
	flow_key_clear(&b, 1);
	assert_int_equal(flow_key_put(&b, ATTR_SOURCE_PEER_ADDRESS, 4, m8, v8), 0);
	assert_false(flow_key_equal(&a, &b));
	/* ... and a different ruleset too */
	flow_key_clear(&b, 2);
	assert_int_equal(flow_key_put(&b, ATTR_SOURCE_PEER_ADDRESS, 4, M16, UA), 0);
	assert_false(flow_key_equal(&a, &b));
	assert_true(flow_key_hash(&a) != flow_key_hash(&b));
}

static void swap_ends(void **state)
{
	(void)state;
	static const uint8_t cls[1] = { 10 }, kind[1] = { 30 }, fk[1] = { 'W' };
	struct flow_key k, s, back;
	flow_key_clear(&k, 7);
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_PEER_TYPE, 1, FF, IPV4), 0);
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_PEER_ADDRESS, 4, M16, UA), 0);
	assert_int_equal(flow_key_put(&k, ATTR_DEST_PEER_ADDRESS, 4, FF, AIT), 0);
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_TRANS_ADDRESS, 2, FF, PORT1024), 0);
	assert_int_equal(flow_key_put(&k, ATTR_DEST_TRANS_ADDRESS, 2, FF, PORT53), 0);
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_CLASS, 1, FF, cls), 0);
	assert_int_equal(flow_key_put(&k, ATTR_DEST_KIND, 1, FF, kind), 0);
	assert_int_equal(flow_key_put(&k, ATTR_FLOW_KIND, 1, FF, fk), 0);

	flow_key_swap(&k, &s);
	static const uint8_t want[] = {
		0x00, 0x09, 4, 0xff, 0xff, 0xff, 0xff, 156, 62, 0, 0,      /* SrcPeer <- Dest */
		0x00, 0x0c, 2, 0xff, 0xff, 0x00, 0x35,                     /* SrcTrans <- 53 */
		0x00, 0x12, 1, 0xff, 0x01,                                 /* DestPeerType */
		0x00, 0x13, 4, 0xff, 0xff, 0x00, 0x00, 130, 216, 0, 0,     /* DestPeer <- UA */
		0x00, 0x16, 2, 0xff, 0xff, 0x04, 0x00,                     /* DestTrans <- 1024 */
		0x00, 0x25, 1, 0xff, 10,                                   /* DestClass */
		0x00, 0x27, 1, 0xff, 30,                                   /* SourceKind */
		0x00, 0x29, 1, 0xff, 'W',                                  /* FlowKind stays */
	};
	assert_int_equal(s.ruleset, 7);
	assert_int_equal(s.n_items, 8);
	assert_int_equal(s.len, sizeof want);
	assert_memory_equal(s.data, want, sizeof want);
	assert_false(flow_key_equal(&k, &s));

	flow_key_swap(&s, &back);
	assert_true(flow_key_equal(&k, &back));
	/* in place */
	flow_key_swap(&back, &back);
	assert_true(flow_key_equal(&s, &back));
}

static void hash_spreads(void **state)
{
	(void)state;
	/* keys differing in one port must hash apart in the low bits the
	 * flow table indexes with */
	struct flow_key k;
	uint64_t seen[64];
	for (unsigned i = 0; i < 64; i++) {
		uint8_t port[2] = { 0x10, (uint8_t)i };
		flow_key_clear(&k, 1);
		assert_int_equal(flow_key_put(&k, ATTR_SOURCE_PEER_ADDRESS, 4, FF, UA), 0);
		assert_int_equal(flow_key_put(&k, ATTR_SOURCE_TRANS_ADDRESS, 2, FF, port), 0);
		seen[i] = flow_key_hash(&k);
		for (unsigned j = 0; j < i; j++)
			assert_true((seen[i] & 0xffffff) != (seen[j] & 0xffffff));
	}
	/* the empty key hashes, and stays equal to itself */
	struct flow_key e1, e2;
	flow_key_clear(&e1, 3);
	flow_key_clear(&e2, 3);
	e2.data[0] = 0x55;   /* bytes past len do not matter */
	assert_true(flow_key_equal(&e1, &e2));
	assert_true(flow_key_hash(&e1) == flow_key_hash(&e2));
}

static void full_key_refused(void **state)
{
	(void)state;
	struct flow_key k;
	static const uint8_t v[20] = { 1, 2, 3 };
	flow_key_clear(&k, 1);
	/* 43-byte items (width 20): four fit in 192 bytes, the fifth not */
	unsigned attrs[] = { ATTR_SOURCE_SUBSCRIBER_ID, ATTR_DEST_SUBSCRIBER_ID,
			     ATTR_SESSION_ID, ATTR_V1, ATTR_V2 };
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(flow_key_put(&k, attrs[i], 20, FF, v), 0);
	assert_int_equal(k.len, 4 * 43);
	struct flow_key before = k;
	assert_int_equal(flow_key_put(&k, attrs[4], 20, FF, v), -1);
	assert_true(flow_key_equal(&k, &before));
	/* a small item still fits (172 + 5 <= 192) and so does a same-size
	 * replacement */
	assert_int_equal(flow_key_put(&k, ATTR_FLOW_KIND, 1, FF, v), 0);
	assert_int_equal(flow_key_put(&k, ATTR_SESSION_ID, 20, FF, v), 0);
	/* widening the small item past the end is refused */
	assert_int_equal(flow_key_put(&k, ATTR_FLOW_KIND, 10, FF, v), -1);
	assert_int_equal(k.n_items, 5);
	assert_int_equal(k.len, 4 * 43 + 5);
}

/* Appending in attribute order builds the same bytes as flow_key_put,
 * masks the value, and refuses an item that does not fit. */
static void append_matches_put(void **state)
{
	(void)state;
	const uint8_t m4[4] = { 255, 255, 0, 0 }, v4[4] = { 130, 216, 7, 9 };
	const uint8_t m2[2] = { 255, 255 }, v2[2] = { 0, 53 };
	struct flow_key a, b;
	flow_key_clear(&a, 7);
	flow_key_clear(&b, 7);
	assert_int_equal(flow_key_put(&a, ATTR_DEST_TRANS_ADDRESS, 2, m2, v2), 0);
	assert_int_equal(flow_key_put(&a, ATTR_SOURCE_PEER_ADDRESS, 4, m4, v4), 0);
	assert_int_equal(flow_key_append(&b, ATTR_SOURCE_PEER_ADDRESS, 4, m4, v4), 0);
	assert_int_equal(flow_key_append(&b, ATTR_DEST_TRANS_ADDRESS, 2, m2, v2), 0);
	assert_true(flow_key_equal(&a, &b));
	const uint8_t want[] = { 0, 9, 4, 255, 255, 0, 0, 130, 216, 0, 0,
				 0, 22, 2, 255, 255, 0, 53 };
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	static const uint8_t big[20];
	while (flow_key_append(&b, ATTR_SESSION_ID, 20, big, big) == 0)
		;
	assert_true(b.len + 3 + 2 * 20 > FLOW_KEY_BYTES);
}

/* Every length the hash and equality handle apart (under a word, the
 * inline path's spans up to 16, 32 and 64 bytes, and above): equal keys
 * hash equal whatever lies past len, and changing any one byte of the key
 * (its last above all) changes the hash in the low bits the table indexes
 * with. */
static void hash_every_length(void **state)
{
	(void)state;
	uint8_t v[40], ones[40];
	for (unsigned i = 0; i < sizeof v; i++)
		v[i] = (uint8_t)(i + 1);
	memset(ones, 0xff, sizeof ones);
	/* lengths 5..83 */
	for (unsigned w = 1; w <= sizeof v; w++) {
		struct flow_key a, b;
		flow_key_clear(&a, 2);
		assert_int_equal(flow_key_append(&a, ATTR_FLOW_KIND, w, ones, v), 0);
		b = a;
		memset(b.data + b.len, 0xa5, FLOW_KEY_BYTES - b.len);
		assert_true(flow_key_equal(&a, &b));
		assert_true(flow_key_hash(&a) == flow_key_hash(&b));
		for (unsigned i = 0; i < a.len; i++) {
			b = a;
			b.data[i] ^= 0x40;
			assert_false(flow_key_equal(&a, &b));
			assert_true((flow_key_hash(&a) & 0xffff) != (flow_key_hash(&b) & 0xffff));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(insert_order_independent),
		cmocka_unit_test(replace_same_attribute),
		cmocka_unit_test(values_masked),
		cmocka_unit_test(swap_ends),
		cmocka_unit_test(hash_spreads),
		cmocka_unit_test(full_key_refused),
		cmocka_unit_test(append_matches_put),
		cmocka_unit_test(hash_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
