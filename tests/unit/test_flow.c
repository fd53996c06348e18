/* test_flow — the flow table: index, RFC 2722 §4.3 procedure, GC, walks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "dist.h"
#include "flow.h"
#include "flowkey.h"

static const uint8_t MASK4[4] = { 0xff, 0xff, 0xff, 0xff };

/* Key: SourcePeerAddress = 10.0.x.y (y from n), DestPeerAddress = dst. */
static void mk_key2(struct flow_key *k, unsigned ruleset, uint32_t src, uint32_t dst)
{
	uint8_t s[4] = { (uint8_t)(src >> 24), (uint8_t)(src >> 16),
			 (uint8_t)(src >> 8), (uint8_t)src };
	uint8_t d[4] = { (uint8_t)(dst >> 24), (uint8_t)(dst >> 16),
			 (uint8_t)(dst >> 8), (uint8_t)dst };
	flow_key_clear(k, ruleset);
	assert_int_equal(flow_key_put(k, ATTR_SOURCE_PEER_ADDRESS, 4, MASK4, s), 0);
	assert_int_equal(flow_key_put(k, ATTR_DEST_PEER_ADDRESS, 4, MASK4, d), 0);
}

static void mk_key(struct flow_key *k, uint32_t n)
{
	mk_key2(k, 1, 0x0a000000u + n, 0xc0000201u);
}

static void create_rejects_bad_capacity(void **state)
{
	(void)state;
	assert_null(flow_table_create(0));
	assert_null(flow_table_create((size_t)FLOW_MAX_CAPACITY + 1));
	struct flow_table *t = flow_table_create(1);
	assert_non_null(t);
	assert_int_equal(flow_table_capacity(t), 1);
	flow_table_free(t);
	flow_table_free(NULL);
}

/* Key slots sized for the ruleset's longest key. */
static void sized_key_slots(void **state)
{
	(void)state;
	assert_null(flow_table_create_sized(4, 0));
	assert_null(flow_table_create_sized(4, FLOW_KEY_BYTES + 1));
	/* two 4-byte peer items: 2 * (3 + 4 + 4) = 22 data bytes */
	struct flow_table *t = flow_table_create_sized(4, 22);
	assert_non_null(t);
	struct flow_key k[4], big;
	struct flow *f[4];
	for (uint32_t i = 0; i < 4; i++) {
		mk_key(&k[i], i);
		assert_int_equal(k[i].len, 22);
		f[i] = flow_insert(t, &k[i], 0, 1);    /* one chain: keys compared */
		assert_non_null(f[i]);
	}
	for (int i = 0; i < 4; i++) {
		assert_ptr_equal(flow_lookup(t, &k[i], 0), f[i]);
		assert_true(flow_key_equal(flow_get_key(t, f[i]), &k[i]));
	}
	/* the slot of record 3 is not overwritten by record 2's neighbour */
	struct flow_key_item it;
	assert_true(flow_key_get(flow_get_key(t, f[2]), ATTR_SOURCE_PEER_ADDRESS, &it));
	assert_int_equal(it.value[3], 2);
	flow_remove(t, f[1]);
	mk_key(&big, 9);
	static const uint8_t port[2] = { 0, 53 };
	assert_int_equal(flow_key_put(&big, ATTR_DEST_TRANS_ADDRESS, 2, MASK4, port), 0);
	assert_null(flow_insert(t, &big, 0, 2));
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.key_too_long, 1);
	assert_int_equal(st.insert_failures, 0);
	assert_int_equal(st.active, 3);
	flow_table_free(t);
}

static void record_layout(void **state)
{
	(void)state;
	/* two cache lines, the per-packet fields in the first */
	assert_int_equal(sizeof(struct flow), 128);
	assert_true(offsetof(struct flow, state) < 64);
	assert_true(offsetof(struct flow, gen) < 64);     /* flow_cookie_current() */
	assert_int_equal(offsetof(struct flow, dns), 64);
}

static void insert_lookup(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(16);
	struct flow_key a, b;
	mk_key(&a, 1);
	mk_key(&b, 2);
	assert_null(flow_lookup(t, &a, flow_key_hash(&a)));
	struct flow *fa = flow_insert(t, &a, flow_key_hash(&a), 1000);
	assert_non_null(fa);
	assert_int_equal(fa->first_ns, 1000);
	assert_int_equal(fa->last_ns, 1000);
	assert_int_equal(fa->state, FLOW_CURRENT);
	assert_int_equal(fa->to_pdus + fa->from_pdus + fa->to_octets, 0);
	assert_ptr_equal(flow_lookup(t, &a, flow_key_hash(&a)), fa);
	assert_null(flow_lookup(t, &b, flow_key_hash(&b)));
	assert_true(flow_key_equal(flow_get_key(t, fa), &a));
	/* same addresses, another ruleset: another flow */
	struct flow_key a2;
	mk_key2(&a2, 2, 0x0a000001u, 0xc0000201u);
	assert_null(flow_lookup(t, &a2, flow_key_hash(&a2)));
	flow_table_free(t);
}

/* Every key hashes to the same home slot: one chain holds them all. */
static void forced_collisions_and_full(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(4);
	struct flow_key k[5];
	struct flow *f[5];
	for (int i = 0; i < 5; i++)
		mk_key(&k[i], (uint32_t)i + 1);
	for (int i = 0; i < 4; i++) {
		f[i] = flow_insert(t, &k[i], 0, 100 + (uint64_t)i);
		assert_non_null(f[i]);
		assert_int_equal(flow_index(t, f[i]), i + 1);
	}
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(flow_lookup(t, &k[i], 0), f[i]);
	assert_null(flow_lookup(t, &k[4], 0));
	assert_null(flow_insert(t, &k[4], 0, 200));
	assert_null(flow_insert(t, &k[4], 0, 201));
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.insert_failures, 2);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.created, 4);
	assert_int_equal(flow_table_usage_percent(t), 100);
	/* removing the head of the chain keeps the rest findable */
	flow_remove(t, f[0]);
	for (int i = 1; i < 4; i++)
		assert_ptr_equal(flow_lookup(t, &k[i], 0), f[i]);
	assert_null(flow_lookup(t, &k[0], 0));
	/* and the freed record takes the refused key */
	struct flow *g = flow_insert(t, &k[4], 0, 300);
	assert_ptr_equal(g, f[0]);
	assert_ptr_equal(flow_lookup(t, &k[4], 0), g);
	flow_table_free(t);
}

/* Backward shift at the slot level: 8 slots, entries whose home is 7 wrap
 * round to slot 0, and a hole left at 7 is filled from the wrapped part. */
static void hindex_backward_shift_slots(void **state)
{
	(void)state;
	struct flow_hindex h;
	assert_int_equal(flow_hindex_init(&h, 4), 0);
	assert_int_equal(h.mask, 7);
	flow_hindex_insert(&h, 7, 1);     /* home 7 -> slot 7 */
	flow_hindex_insert(&h, 15, 2);    /* home 7 -> slot 0 */
	flow_hindex_insert(&h, 0, 3);     /* home 0 -> slot 1 */
	flow_hindex_insert(&h, 2, 4);     /* home 2 -> slot 2 */
	assert_int_equal(h.slot[7].idx, 1);
	assert_int_equal(h.slot[0].idx, 2);
	assert_int_equal(h.slot[1].idx, 3);
	assert_int_equal(h.slot[2].idx, 4);
	assert_true(flow_hindex_remove(&h, 7, 1));
	assert_int_equal(h.slot[7].idx, 2);   /* moved back to its home */
	assert_int_equal(h.slot[0].idx, 3);   /* moved back to its home */
	assert_int_equal(h.slot[1].idx, 0);   /* hole ends here ... */
	assert_int_equal(h.slot[2].idx, 4);   /* ... entry at home stays */
	assert_false(flow_hindex_remove(&h, 7, 1));
	/* 0 is no entry, even where an empty slot holds 0 */
	assert_false(flow_hindex_remove(&h, 1, 0));
	assert_int_equal(h.slot[2].idx, 4);
	uint32_t pos;
	assert_int_equal(flow_hindex_first(&h, 15, &pos), 2);
	assert_int_equal(pos, 7);
	assert_int_equal(flow_hindex_next(&h, 15, &pos), 0);
	assert_int_equal(flow_hindex_first(&h, 0, &pos), 3);
	assert_int_equal(flow_hindex_first(&h, 5, &pos), 0);
	flow_hindex_fini(&h);
}

/* Random insert/remove/lookup against a naive array, hashes drawn from a
 * small range so clusters form, merge and wrap. */
static void random_ops_match_naive_model(void **state)
{
	(void)state;
	enum { CAP = 48, KEYS = 96, OPS = 20000 };
	struct flow_table *t = flow_table_create(CAP);
	struct flow_key key[KEYS];
	uint64_t hash[KEYS];
	struct flow *model[KEYS] = { 0 };     /* naive: key i -> record or NULL */
	size_t n_in = 0;
	srand(20261123);
	for (int i = 0; i < KEYS; i++) {
		mk_key(&key[i], (uint32_t)i);
		/* homes 110..127 and 0..5 of 128 slots: clusters wrap */
		hash[i] = (uint64_t)(rand() % 24) + 110;
	}
	for (int op = 0; op < OPS; op++) {
		int i = rand() % KEYS;
		if (model[i]) {
			assert_ptr_equal(flow_lookup(t, &key[i], hash[i]), model[i]);
			flow_remove(t, model[i]);
			model[i] = NULL;
			n_in--;
		} else {
			assert_null(flow_lookup(t, &key[i], hash[i]));
			struct flow *f = flow_insert(t, &key[i], hash[i], (uint64_t)op);
			if (n_in == CAP) {
				assert_null(f);
			} else {
				assert_non_null(f);
				model[i] = f;
				n_in++;
			}
		}
		if (op % 97 == 0) {
			for (int j = 0; j < KEYS; j++)
				assert_ptr_equal(flow_lookup(t, &key[j], hash[j]), model[j]);
		}
	}
	for (int j = 0; j < KEYS; j++)
		assert_ptr_equal(flow_lookup(t, &key[j], hash[j]), model[j]);
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.active, n_in);
	assert_true(st.insert_failures > 0);
	assert_int_equal(st.peak, CAP);
	flow_table_free(t);
}

/* RFC 2722 §4.3: a packet whose S->D key matches an existing flow the
 * other way round is counted in that flow's From counters. */
static void both_directions(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(8);
	struct flow_key ab, ba;
	mk_key2(&ab, 1, 0x0a000001u, 0xc0000201u);
	mk_key2(&ba, 1, 0xc0000201u, 0x0a000001u);
	bool rev = true;
	struct flow *f = flow_count_packet(t, &ab, flow_key_hash(&ab), false, 60, 1000, &rev);
	assert_non_null(f);
	assert_false(rev);
	assert_int_equal(f->to_octets, 60);
	assert_int_equal(f->to_pdus, 1);
	/* B -> A, matched on the S->D pass: current(D->S) finds the A->B flow */
	struct flow *g = flow_count_packet(t, &ba, flow_key_hash(&ba), false, 500, 2000, &rev);
	assert_ptr_equal(g, f);
	assert_true(rev);
	assert_int_equal(f->from_octets, 500);
	assert_int_equal(f->from_pdus, 1);
	assert_int_equal(f->to_pdus, 1);
	assert_int_equal(f->last_ns, 2000);
	assert_int_equal(f->first_ns, 1000);
	/* B -> A matched on the retry pass: the key is already A->B */
	g = flow_count_packet(t, &ab, flow_key_hash(&ab), true, 40, 3000, &rev);
	assert_ptr_equal(g, f);
	assert_true(rev);
	assert_int_equal(f->from_octets, 540);
	assert_int_equal(f->from_pdus, 2);
	/* the lookup half alone (flood mode) finds it both ways, counts nothing */
	rev = false;
	assert_ptr_equal(flow_find_packet(t, &ba, flow_key_hash(&ba), false, &rev), f);
	assert_true(rev);
	assert_ptr_equal(flow_find_packet(t, &ab, flow_key_hash(&ab), false, &rev), f);
	assert_false(rev);
	assert_int_equal(f->from_pdus, 2);
	struct flow_key cd;
	mk_key2(&cd, 1, 0x0a000002u, 0xc0000201u);
	assert_null(flow_find_packet(t, &cd, flow_key_hash(&cd), false, &rev));
	assert_null(flow_find_packet(t, &ba, flow_key_hash(&ba), true, &rev));
	/* an earlier timestamp does not move LastTime back */
	flow_count_packet(t, &ab, flow_key_hash(&ab), false, 1, 2500, NULL);
	assert_int_equal(f->last_ns, 3000);
	assert_int_equal(f->to_octets, 61);
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 1);
	flow_table_free(t);
}

/* A first packet matched only on the retry pass creates D->S and counts
 * it reversed. */
static void reversed_creates_reverse(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(2);
	struct flow_key ab, cd;
	mk_key2(&ab, 1, 0x0a000001u, 0xc0000201u);
	mk_key2(&cd, 1, 0x0a000002u, 0xc0000202u);
	bool rev = false;
	struct flow *f = flow_count_packet(t, &ab, flow_key_hash(&ab), true, 100, 5, &rev);
	assert_non_null(f);
	assert_true(rev);
	assert_int_equal(f->to_pdus, 0);
	assert_int_equal(f->from_pdus, 1);
	assert_int_equal(f->from_octets, 100);
	assert_true(flow_key_equal(flow_get_key(t, f), &ab));
	/* full table: NULL, counted */
	struct flow *x = flow_count_packet(t, &cd, flow_key_hash(&cd), false, 1, 6, NULL);
	assert_non_null(x);
	struct flow_key ef;
	mk_key2(&ef, 1, 0x0a000003u, 0xc0000203u);
	assert_null(flow_count_packet(t, &ef, flow_key_hash(&ef), false, 1, 7, NULL));
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.insert_failures, 1);
	flow_table_free(t);
}

/* The record flow_first_slot() finds for key, else NULL. */
static struct flow *first_slot_flow(struct flow_table *t, const struct flow_key *key,
				    uint64_t hash)
{
	struct flow *f;
	return flow_first_slot(t, key, hash, &f) ? f : NULL;
}

/* flow_count_packet's paths: the first slot of the key's tag holds its
 * current flow (keys flowkey.h compares inline: flow_first_slot), and
 * the rest — another flow in that slot (all hashes forced equal), a key
 * shorter than a word or longer than the inline compare, a new flow, an
 * idle one. */
static void count_packet_paths(void **state)
{
	(void)state;
	static const uint8_t v6a[16] = { 0x20, 1, 0xd, 0xb8, [15] = 1 };
	static const uint8_t v6b[16] = { 0x20, 1, 0xd, 0xb8, [15] = 2 };
	static const uint8_t port[2] = { 0, 53 }, kind[1] = { 7 };
	static const uint8_t FF16[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct flow_table *t = flow_table_create(8);
	struct flow_key k[4];
	mk_key(&k[0], 1);                      /* 22 bytes */
	mk_key(&k[1], 2);
	flow_key_clear(&k[2], 1);              /* 5 bytes */
	assert_int_equal(flow_key_put(&k[2], ATTR_FLOW_KIND, 1, FF16, kind), 0);
	flow_key_clear(&k[3], 1);              /* 84 bytes */
	assert_int_equal(flow_key_put(&k[3], ATTR_SOURCE_PEER_ADDRESS, 16, FF16, v6a), 0);
	assert_int_equal(flow_key_put(&k[3], ATTR_DEST_PEER_ADDRESS, 16, FF16, v6b), 0);
	assert_int_equal(flow_key_put(&k[3], ATTR_SOURCE_TRANS_ADDRESS, 2, FF16, port), 0);
	assert_int_equal(flow_key_put(&k[3], ATTR_DEST_TRANS_ADDRESS, 2, FF16, port), 0);
	assert_true(k[2].len < FLOW_KEY_WORD && k[3].len > FLOW_KEY_SHORT_MAX);
	struct flow *f[4];
	bool rev;
	/* every hash 0: one chain, k[0] in its first slot; pass 0 creates,
	 * pass 1 finds */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 4; i++) {
			const uint64_t h = 0;
			rev = true;
			struct flow *g = flow_count_packet(t, &k[i], h, false, 10,
							   100 + (uint64_t)pass, &rev);
			assert_non_null(g);
			assert_false(rev);
			if (pass == 0)
				f[i] = g;
			assert_ptr_equal(g, f[i]);
			assert_int_equal(g->to_pdus, pass + 1);
			assert_ptr_equal(flow_find_packet(t, &k[i], h, true, &rev), f[i]);
			assert_true(rev);
		}
	}
	/* flow_first_slot() takes only the first slot, and only keys it
	 * compares inline */
	assert_ptr_equal(first_slot_flow(t, &k[0], 0), f[0]);
	for (int i = 1; i < 4; i++)
		assert_null(first_slot_flow(t, &k[i], 0));
	/* the same keys filed under their own hashes: the first slot of each
	 * tag holds its flow */
	for (int i = 0; i < 4; i++)
		flow_remove(t, f[i]);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 4; i++) {
			struct flow *g = flow_count_packet(t, &k[i], flow_key_hash(&k[i]),
							   true, 10, 200, &rev);
			assert_non_null(g);
			assert_true(rev);
			if (pass == 0)
				f[i] = g;
			assert_ptr_equal(g, f[i]);
			assert_int_equal(g->from_pdus, pass + 1);
			assert_ptr_equal(first_slot_flow(t, &k[i], flow_key_hash(&k[i])),
					 i < 2 ? f[i] : NULL);
		}
	/* an idle flow found in the first slot is counted current again */
	assert_int_equal(flow_gc(t, 1000, 100, 0, 8), 0);
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.idle, 4);
	for (int i = 0; i < 4; i++) {
		assert_ptr_equal(flow_count_packet(t, &k[i], flow_key_hash(&k[i]), false,
						   10, 1000, &rev), f[i]);
		assert_false(rev);
		assert_int_equal(f[i]->state, FLOW_CURRENT);
		assert_int_equal(f[i]->to_pdus, 1);
		assert_int_equal(f[i]->last_ns, 1000);
	}
	flow_table_stats(t, &st);
	assert_int_equal(st.idle, 0);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.created, 8);
	flow_table_free(t);
}

/* Cookies name a record while it is the flow they were made of and
 * current; a recovered record taken by another flow, an idle one and a
 * renumbered table's records are not theirs. */
static void cookies(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(4);
	struct flow_key a, b, c;
	mk_key(&a, 1);
	mk_key(&b, 2);
	mk_key(&c, 3);
	struct flow *fa = flow_insert(t, &a, flow_key_hash(&a), 1000);
	struct flow *fb = flow_insert(t, &b, flow_key_hash(&b), 1000);
	assert_int_not_equal(fa->gen, fb->gen);
	uint64_t ca = flow_cookie(t, fa), cb = flow_cookie(t, fb);
	assert_int_not_equal(ca, 0);
	assert_int_equal((uint32_t)ca, flow_index(t, fa));
	assert_ptr_equal(flow_cookie_current(t, ca), fa);
	assert_ptr_equal(flow_cookie_current(t, cb), fb);
	/* idle: not current */
	assert_int_equal(flow_gc(t, 1000 + 10, 10, 0, 4), 0);
	assert_int_equal(fa->state, FLOW_IDLE);
	assert_null(flow_cookie_current(t, ca));
	flow_account(t, fa, false, 10, 1020);
	assert_ptr_equal(flow_cookie_current(t, ca), fa);
	/* removed, the record reused by c: a's cookie names nothing */
	uint32_t ia = flow_index(t, fa);
	flow_remove(t, fa);
	assert_null(flow_cookie_current(t, ca));
	struct flow *fc = flow_insert(t, &c, flow_key_hash(&c), 2000);
	assert_int_equal(flow_index(t, fc), ia);
	assert_null(flow_cookie_current(t, ca));
	assert_ptr_equal(flow_cookie_current(t, flow_cookie(t, fc)), fc);
	/* renumbered: new generations 1.. in record order, the era moves */
	uint32_t era = flow_gen_era(t);
	flow_table_renumber(t);
	assert_int_equal(flow_gen_era(t), era + 1);
	assert_int_equal(fc->gen, 1);
	assert_int_equal(fb->gen, 2);
	struct flow *fa2 = flow_insert(t, &a, flow_key_hash(&a), 3000);
	assert_int_equal(fa2->gen, 3);
	flow_table_free(t);
}

static unsigned recover_calls;
static uint32_t recover_last_index;
static uint32_t recover_last_dist;

static void on_recover(struct flow *f, uint32_t index, void *arg)
{
	*(unsigned *)arg += 1;
	recover_calls++;
	recover_last_index = index;
	recover_last_dist = f->dist;
}

#define SEC 1000000000ull

static void gc_inactivity_and_collection(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(4);
	unsigned arg = 0;
	recover_calls = 0;
	assert_int_equal(flow_table_enable_dists(t, 2), 0);
	flow_table_on_recover(t, on_recover, &arg);
	struct flow_key a, b;
	mk_key(&a, 1);
	mk_key(&b, 2);
	struct flow *fa = flow_insert(t, &a, flow_key_hash(&a), 10 * SEC);
	struct flow *fb = flow_insert(t, &b, flow_key_hash(&b), 10 * SEC);
	assert_non_null(flow_dist(t, fa));
	assert_int_equal(fa->dist, 1);
	flow_account(t, fb, false, 1, 700 * SEC);
	const uint64_t inact = 600 * SEC;
	/* not yet inactive for 600 s: untouched, whatever the readers did */
	assert_int_equal(flow_gc(t, 610 * SEC - 1, inact, UINT64_MAX, 4), 0);
	assert_int_equal(fa->state, FLOW_CURRENT);
	/* inactive 600 s, but the last collection (at 10 s) did not see its
	 * last packet (at 10 s): idle, kept */
	assert_int_equal(flow_gc(t, 610 * SEC, inact, 10 * SEC, 4), 0);
	assert_int_equal(fa->state, FLOW_IDLE);
	assert_int_equal(fb->state, FLOW_CURRENT);
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.idle, 1);
	assert_int_equal(st.active, 2);
	/* a packet makes it current again */
	flow_account(t, fa, true, 5, 611 * SEC);
	assert_int_equal(fa->state, FLOW_CURRENT);
	flow_table_stats(t, &st);
	assert_int_equal(st.idle, 0);
	/* idle again and collected after its last packet: recovered */
	assert_int_equal(flow_gc(t, 1211 * SEC, inact, 611 * SEC + 1, 4), 1);
	assert_int_equal(fa->state, FLOW_INACTIVE);
	assert_null(flow_lookup(t, &a, flow_key_hash(&a)));
	assert_int_equal(recover_calls, 1);
	assert_int_equal(arg, 1);
	assert_int_equal(recover_last_index, 1);
	assert_int_equal(recover_last_dist, 1);
	flow_table_stats(t, &st);
	assert_int_equal(st.recovered, 1);
	assert_int_equal(st.dist_used, 0);     /* slot back in the pool */
	assert_int_equal(st.active, 1);
	/* fb (last packet 700 s) is not inactive yet; later, with no
	 * reader registered, it is recovered as soon as it is */
	assert_int_equal(fb->state, FLOW_CURRENT);
	assert_int_equal(flow_gc(t, 1300 * SEC - 1, inact, UINT64_MAX, 4), 0);
	assert_int_equal(flow_gc(t, 1300 * SEC, inact, UINT64_MAX, 4), 1);
	assert_null(flow_by_index(t, 2));
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.idle, 0);
	flow_table_free(t);
}

static void gc_per_ruleset_and_bounded(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(8);
	struct flow_key k;
	for (uint32_t i = 0; i < 8; i++) {
		/* rulesets 1 and 2 alternate: indexes 1,3,5,7 -> rs 1 */
		mk_key2(&k, 1 + (i & 1), 0x0a000000u + i, 1);
		assert_non_null(flow_insert(t, &k, flow_key_hash(&k), SEC));
	}
	/* ruleset 1 collected at 2 s, ruleset 2 only at 1 s (= last packet) */
	const uint64_t coll[3] = { 0, 2 * SEC, 1 * SEC };
	/* bounded: 3 records inspected (indexes 1..3): 1 and 3 recovered */
	assert_int_equal(flow_gc_rulesets(t, 100 * SEC, SEC, coll, 3, 3), 2);
	assert_null(flow_by_index(t, 1));
	assert_non_null(flow_by_index(t, 2));
	assert_null(flow_by_index(t, 3));
	assert_non_null(flow_by_index(t, 4));
	assert_int_equal(flow_by_index(t, 4)->state, FLOW_CURRENT);  /* not inspected */
	/* the cursor goes on from index 4 and wraps */
	assert_int_equal(flow_gc_rulesets(t, 100 * SEC, SEC, coll, 3, 8), 2);
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.idle, 4);
	assert_int_equal(flow_table_usage_percent(t), 50);
	/* ruleset beyond the array: no reader, collectable */
	const uint64_t coll1[2] = { 0, 0 };
	assert_int_equal(flow_gc_rulesets(t, 100 * SEC, SEC, coll1, 2, 100), 4);
	flow_table_free(t);
}

/* Collection visits the in-use records of each window of positions in
 * order, whatever the 64-record words the window spans, and wraps. */
static void gc_windows_across_words(void **state)
{
	(void)state;
	enum { CAP = 200, WINDOW = 70 };
	struct flow_table *t = flow_table_create(CAP);
	struct flow_key k;
	struct flow *f[CAP];
	for (uint32_t i = 0; i < CAP; i++) {
		mk_key(&k, i);
		f[i] = flow_insert(t, &k, flow_key_hash(&k), SEC);
		assert_non_null(f[i]);
		assert_int_equal(flow_index(t, f[i]), i + 1);
	}
	/* holes: every third record, and all of positions 64..127 (a whole
	 * bitmap word) */
	for (uint32_t i = 0; i < CAP; i++)
		if (i % 3 == 0 || (i >= 64 && i < 128))
			flow_remove(t, f[i]);
	/* windows [0,70) [70,140) [140,200)+[0,10), in use in each: 64
	 * positions minus 22 multiples of 3; 128..139 minus 4; 140..199
	 * minus 20 */
	const size_t want[3] = { 42, 8, 40 };
	for (int w = 0; w < 3; w++) {
		assert_int_equal(flow_gc(t, 100 * SEC, SEC, UINT64_MAX, WINDOW), want[w]);
		/* nothing past the window was touched */
		for (uint32_t i = (uint32_t)(w + 1) * WINDOW; i < CAP; i++)
			if (!(i % 3 == 0 || (i >= 64 && i < 128)))
				assert_int_equal(f[i]->state, FLOW_CURRENT);
	}
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.recovered, want[0] + want[1] + want[2]);
	/* the cursor is at 10; a new flow takes the record freed last
	 * (position 199), seen by the third window from there */
	mk_key(&k, 1000);
	struct flow *g = flow_insert(t, &k, flow_key_hash(&k), SEC);
	assert_int_equal(flow_index(t, g), CAP);
	assert_int_equal(flow_gc(t, 100 * SEC, SEC, UINT64_MAX, WINDOW), 0);   /* [10, 80) */
	assert_int_equal(flow_gc(t, 100 * SEC, SEC, UINT64_MAX, WINDOW), 0);   /* [80, 150) */
	assert_int_equal(flow_gc(t, 100 * SEC, SEC, UINT64_MAX, WINDOW), 1);   /* [150, 200) + [0, 20) */
	flow_table_free(t);
}

static void dist_pool(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(4);
	struct flow_key k;
	struct flow *f[3];
	for (uint32_t i = 0; i < 3; i++) {
		mk_key(&k, i + 1);
		f[i] = flow_insert(t, &k, flow_key_hash(&k), 1);
	}
	/* no pool: no distribution, nothing counted */
	assert_null(flow_dist(t, f[0]));
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.dist_failures, 0);
	assert_int_equal(flow_table_enable_dists(t, 5), -1);   /* > capacity */
	assert_int_equal(flow_table_enable_dists(t, 2), 0);
	assert_int_equal(flow_table_enable_dists(t, 2), -1);   /* once */
	assert_null(flow_dist_peek(t, f[0]));
	struct dist *d0 = flow_dist(t, f[0]);
	assert_non_null(d0);
	assert_int_equal(d0->count, 0);
	dist_add(d0, 1234, 5);
	assert_ptr_equal(flow_dist(t, f[0]), d0);
	assert_ptr_equal(flow_dist_peek(t, f[0]), d0);
	assert_int_equal(d0->count, 1);
	struct dist *d1 = flow_dist(t, f[1]);
	assert_non_null(d1);
	assert_ptr_not_equal(d1, d0);
	assert_null(flow_dist(t, f[2]));                        /* pool empty */
	flow_table_stats(t, &st);
	assert_int_equal(st.dist_failures, 1);
	assert_int_equal(st.dist_used, 2);
	assert_int_equal(st.dist_slots, 2);
	/* recovery frees the slot; the next user gets it cleared */
	flow_remove(t, f[0]);
	struct dist *d2 = flow_dist(t, f[2]);
	assert_ptr_equal(d2, d0);
	assert_int_equal(d2->count, 0);
	flow_table_free(t);
}

static void index_stable_and_reused(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(4);
	struct flow_key k[4];
	struct flow *f[3];
	for (int i = 0; i < 4; i++)
		mk_key(&k[i], (uint32_t)i + 1);
	for (int i = 0; i < 3; i++)
		f[i] = flow_insert(t, &k[i], flow_key_hash(&k[i]), 100 + (uint64_t)i);
	assert_int_equal(flow_index(t, f[0]), 1);
	assert_int_equal(flow_index(t, f[1]), 2);
	assert_int_equal(flow_index(t, f[2]), 3);
	/* counting never moves a record */
	for (int n = 0; n < 100; n++)
		flow_count_packet(t, &k[1], flow_key_hash(&k[1]), false, 1, 200, NULL);
	assert_ptr_equal(flow_by_index(t, 2), f[1]);
	assert_int_equal(f[1]->to_pdus, 100);
	flow_remove(t, f[1]);
	assert_null(flow_by_index(t, 2));
	/* the freed index is reused, told apart by its FirstTime */
	struct flow *g = flow_insert(t, &k[3], flow_key_hash(&k[3]), 900);
	assert_int_equal(flow_index(t, g), 2);
	assert_int_equal(g->first_ns, 900);
	assert_int_equal(g->to_pdus, 0);
	assert_true(flow_key_equal(flow_get_key(t, g), &k[3]));
	assert_null(flow_lookup(t, &k[1], flow_key_hash(&k[1])));
	assert_null(flow_by_index(t, 0));
	assert_null(flow_by_index(t, 5));
	assert_null(flow_by_index(t, 4));
	flow_table_free(t);
}

static void usage_percent(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(3);
	struct flow_key k;
	assert_int_equal(flow_table_usage_percent(t), 0);
	mk_key(&k, 1);
	flow_insert(t, &k, 1, 0);
	assert_int_equal(flow_table_usage_percent(t), 33);
	mk_key(&k, 2);
	flow_insert(t, &k, 2, 0);
	assert_int_equal(flow_table_usage_percent(t), 66);   /* rounded down */
	mk_key(&k, 3);
	flow_insert(t, &k, 3, 0);
	assert_int_equal(flow_table_usage_percent(t), 100);
	flow_table_free(t);
}

struct walk {
	uint32_t idx[8];
	unsigned n;
	unsigned stop_after;
};

static int visit(struct flow *f, uint32_t index, void *arg)
{
	struct walk *w = arg;
	(void)f;
	w->idx[w->n++] = index;
	return w->n == w->stop_after ? 42 : 0;
}

static void walk_in_index_order(void **state)
{
	(void)state;
	struct flow_table *t = flow_table_create(8);
	struct flow_key k;
	struct flow *f[6];
	const uint64_t last[6] = { 50, 10, 70, 30, 90, 60 };
	for (int i = 0; i < 6; i++) {
		mk_key(&k, (uint32_t)i + 1);
		f[i] = flow_insert(t, &k, flow_key_hash(&k), last[i]);
	}
	flow_remove(t, f[2]);                 /* index 3 */
	mk_key(&k, 100);
	struct flow *g = flow_insert(t, &k, flow_key_hash(&k), 80);  /* reuses 3 */
	assert_int_equal(flow_index(t, g), 3);
	struct walk w = { .n = 0 };
	assert_int_equal(flow_foreach_active_since(t, 50, visit, &w), 0);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.idx[0], 1);
	assert_int_equal(w.idx[1], 3);
	assert_int_equal(w.idx[2], 5);
	assert_int_equal(w.idx[3], 6);
	struct walk all = { .n = 0 };
	assert_int_equal(flow_foreach_active_since(t, 0, visit, &all), 0);
	assert_int_equal(all.n, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(all.idx[i], i + 1);
	struct walk stop = { .n = 0, .stop_after = 2 };
	assert_int_equal(flow_foreach_active_since(t, 0, visit, &stop), 42);
	assert_int_equal(stop.n, 2);
	assert_ptr_equal(flow_next_active(t, 3, 60), f[4]);
	assert_ptr_equal(flow_next_active(t, 5, 60), f[5]);
	assert_null(flow_next_active(t, 6, 0));
	assert_null(flow_next_active(t, 5, 61));
	flow_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_rejects_bad_capacity),
		cmocka_unit_test(record_layout),
		cmocka_unit_test(sized_key_slots),
		cmocka_unit_test(insert_lookup),
		cmocka_unit_test(forced_collisions_and_full),
		cmocka_unit_test(hindex_backward_shift_slots),
		cmocka_unit_test(random_ops_match_naive_model),
		cmocka_unit_test(both_directions),
		cmocka_unit_test(reversed_creates_reverse),
		cmocka_unit_test(count_packet_paths),
		cmocka_unit_test(cookies),
		cmocka_unit_test(gc_inactivity_and_collection),
		cmocka_unit_test(gc_per_ruleset_and_bounded),
		cmocka_unit_test(gc_windows_across_words),
		cmocka_unit_test(dist_pool),
		cmocka_unit_test(index_stable_and_reused),
		cmocka_unit_test(usage_percent),
		cmocka_unit_test(walk_in_index_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
