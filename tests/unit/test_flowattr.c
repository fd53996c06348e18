/* test_flowattr — one attribute of an engine flow: literal DNS packets
 * through decode, the PME (an SRL ruleset), the flow table and the DNS
 * pairing; every value checked byte by byte with the widths the .dif
 * writer has always used; and the same values through a package and
 * back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "dist.h"
#include "engine.h"
#include "flowattr.h"
#include "pkg.h"
#include "srl.h"
#include "statdist.h"

#define US  1000ull
#define MS  1000000ull
#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

/* A DNS query for "a." IN A (ID 0x1234) from 192.0.2.10:40000 to
 * 198.51.100.1:53 and its response: 47 octets each, raw IPv4. */
static const uint8_t dns_query[47] = {
	0x45, 0x00, 0x00, 47, 0x00, 0x03, 0x40, 0x00, 64, 17, 0x00, 0x00,
	192, 0, 2, 10,   198, 51, 100, 1,
	0x9c, 0x40, 0x00, 53, 0x00, 27, 0x00, 0x00,
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 'a', 0x00, 0x00, 0x01, 0x00, 0x01,
};
static const uint8_t dns_response[47] = {
	0x45, 0x00, 0x00, 47, 0x00, 0x04, 0x40, 0x00, 64, 17, 0x00, 0x00,
	198, 51, 100, 1,   192, 0, 2, 10,
	0x00, 53, 0x9c, 0x40, 0x00, 27, 0x00, 0x00,
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 'a', 0x00, 0x00, 0x01, 0x00, 0x01,
};

static void feed(struct engine *e, bool response, uint64_t ts)
{
	struct pkt p = {
		.ts_ns = ts, .caplen = 47, .wirelen = 47,
		.data = response ? dns_response : dns_query,
		.ifindex = 1, .link = PKT_LINK_RAW,
	};
	engine_packet(e, &p);
}

/* The server's /24 and port are the key; UDP saved as tested; FlowClass 5;
 * the dynamic RTT distribution and a static packet-size one. */
static const char ruleset[] =
	"SET 9;\n"
	"if SourceTransType == 17 save, {\n"
	"  if DestTransAddress == 53 save, {\n"
	"    save DestPeerAddress /24;\n"
	"    store FlowClass := 5;\n"
	"    save ToTurnaroundTime = 60.0.0!0 & 3.0.0!0;\n"
	"    save FromPacketSize = 60.0!0 & 1.0.25!1500;\n"
	"    count;\n"
	"  }\n"
	"}\n"
	"nomatch;\n";

struct fx {
	struct engine e;
	struct ruleset rs;
	struct diag d;
	struct flow *f;
	uint32_t index;
};

/* Two request/response pairs: RTT 2500 µs at T0, 40 ms at T0 + 1 s. */
static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	assert_non_null(x);
	diag_init(&x->d, "test");
	assert_int_equal(srl_compile("test", ruleset, strlen(ruleset), &x->rs, &x->d), 0);
	struct engine_config c;
	engine_config_default(&c);
	c.max_flows = 64;
	c.static_dists = 16;
	assert_int_equal(engine_init(&x->e, &c, &x->d), 0);
	assert_int_equal(engine_add_task(&x->e, &x->rs, NULL, 0, &x->d), 0);
	feed(&x->e, false, T0);
	feed(&x->e, true, T0 + 2500 * US);
	feed(&x->e, false, T0 + 1 * SEC);
	feed(&x->e, true, T0 + 1 * SEC + 40 * MS);
	x->f = flow_next_active(x->e.flows, 0, 0);
	assert_non_null(x->f);
	assert_null(flow_next_active(x->e.flows, flow_index(x->e.flows, x->f), 0));
	x->index = flow_index(x->e.flows, x->f);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	engine_free(&x->e);
	ruleset_free(&x->rs);
	diag_free(&x->d);
	free(x);
	return 0;
}

/* Start of the meter: 5 s before the first packet (uptime 500 cs). */
#define START (T0 - 5 * SEC)

static void get(struct fx *x, unsigned attr, struct coll_value *v)
{
	memset(v, 0xa5, sizeof *v);   /* everything must be set */
	flowattr_get(&x->e, x->f, x->index, START, attr, v);
	assert_int_equal(v->attr, attr);
}

#define EXPECT_BYTES(x, attr, ...) do { \
	static const uint8_t want_[] = { __VA_ARGS__ }; \
	struct coll_value v_; \
	get((x), (attr), &v_); \
	assert_int_equal(v_.kind, COLL_BYTES); \
	assert_int_equal(v_.width, sizeof want_); \
	assert_memory_equal(v_.bytes, want_, sizeof want_); \
} while (0)

static void expect_none(struct fx *x, unsigned attr)
{
	struct coll_value v;
	get(x, attr, &v);
	assert_int_equal(v.kind, COLL_NONE);
}

/* What the meter computes: index, ruleset, times, counters, scales. */
static void computed_values(void **state)
{
	struct fx *x = *state;
	assert_int_equal(x->index, 1);
	EXPECT_BYTES(x, ATTR_FLOW_INDEX, 0, 0, 0, 1);
	EXPECT_BYTES(x, ATTR_FLOW_RULESET, 0, 0, 0, 9);
	/* 500 cs of uptime; the last packet 1.04 s later: 604 = 0x25c */
	EXPECT_BYTES(x, ATTR_FIRST_TIME, 0, 0, 0x01, 0xf4);
	EXPECT_BYTES(x, ATTR_LAST_ACTIVE_TIME, 0, 0, 0x02, 0x5c);
	/* T0 = 1.7e18 ns = 0x17979cfe362a0000 */
	EXPECT_BYTES(x, ATTR_FIRST_TIME_NS, 0x17, 0x97, 0x9c, 0xfe, 0x36, 0x2a, 0x00, 0x00);
	/* + 1.04 s = 0x3dfd2400 ns */
	EXPECT_BYTES(x, ATTR_LAST_TIME_NS, 0x17, 0x97, 0x9c, 0xfe, 0x74, 0x27, 0x24, 0x00);
	/* two 47-octet requests To, two responses From */
	EXPECT_BYTES(x, ATTR_TO_OCTETS, 0, 0, 0, 0, 0, 0, 0, 94);
	EXPECT_BYTES(x, ATTR_TO_PDUS, 0, 0, 0, 0, 0, 0, 0, 2);
	EXPECT_BYTES(x, ATTR_FROM_OCTETS, 0, 0, 0, 0, 0, 0, 0, 94);
	EXPECT_BYTES(x, ATTR_FROM_PDUS, 0, 0, 0, 0, 0, 0, 0, 2);
	EXPECT_BYTES(x, ATTR_PDU_SCALE, 0);
	EXPECT_BYTES(x, ATTR_OCTET_SCALE, 0);
	EXPECT_BYTES(x, ATTR_DNS_REQUESTS, 0, 0, 0, 0, 0, 0, 0, 2);
	EXPECT_BYTES(x, ATTR_DNS_RESPONSES, 0, 0, 0, 0, 0, 0, 0, 2);
	EXPECT_BYTES(x, ATTR_DNS_ANSWERED, 0, 0, 0, 0, 0, 0, 0, 2);
	EXPECT_BYTES(x, ATTR_RTT_SAMPLES, 0, 0, 0, 0, 0, 0, 0, 2);
	EXPECT_BYTES(x, ATTR_DNS_LOST, 0, 0, 0, 0, 0, 0, 0, 0);
	EXPECT_BYTES(x, ATTR_DNS_RETRANSMITS, 0, 0, 0, 0, 0, 0, 0, 0);
	EXPECT_BYTES(x, ATTR_DNS_UNMATCHED, 0, 0, 0, 0, 0, 0, 0, 0);
	EXPECT_BYTES(x, ATTR_DNS_DUPLICATES, 0, 0, 0, 0, 0, 0, 0, 0);
	/* RFC 2724 §4: bit 0 = 66, so FromPacketSize (67) is bit 1 and
	 * ToTurnaroundTime (70) bit 4 */
	EXPECT_BYTES(x, ATTR_DISTRIBUTIONS, 0, 0, 0, 0x12);
}

/* What the ruleset saved: the key's own widths; masks beside them. */
static void key_values(void **state)
{
	struct fx *x = *state;
	EXPECT_BYTES(x, ATTR_SOURCE_TRANS_TYPE, 17);
	EXPECT_BYTES(x, ATTR_DEST_TRANS_ADDRESS, 0x00, 0x35);
	EXPECT_BYTES(x, ATTR_DEST_TRANS_MASK, 0xff, 0xff);
	EXPECT_BYTES(x, ATTR_DEST_PEER_ADDRESS, 198, 51, 100, 0);
	EXPECT_BYTES(x, ATTR_DEST_PEER_MASK, 0xff, 0xff, 0xff, 0x00);
	EXPECT_BYTES(x, ATTR_FLOW_CLASS, 5);
	/* not saved, not known, or never computed */
	expect_none(x, ATTR_SOURCE_PEER_ADDRESS);
	expect_none(x, ATTR_SOURCE_PEER_MASK);
	expect_none(x, ATTR_FLOW_KIND);
	expect_none(x, ATTR_SOURCE_SUBSCRIBER_ID);
	expect_none(x, ATTR_NULL);
	expect_none(x, 600);
	/* a static distribution the ruleset did not ask for */
	expect_none(x, ATTR_TO_PACKET_SIZE);
}

/* Distributions point at the flow's live, cumulative state. */
static void distributions(void **state)
{
	struct fx *x = *state;
	struct coll_value v;
	get(x, ATTR_TO_TURNAROUND_TIME, &v);
	assert_int_equal(v.kind, COLL_DIST);
	assert_ptr_equal(v.dist, flow_dist_peek(x->e.flows, x->f));
	assert_int_equal(v.dist->count, 2);
	assert_int_equal(v.dist->ring_v[0], 2500);
	assert_int_equal(v.dist->ring_v[1], 40000);

	get(x, ATTR_FROM_PACKET_SIZE, &v);
	assert_int_equal(v.kind, COLL_STATIC);
	assert_ptr_equal(v.sdist, engine_static_dist(&x->e, x->f, ATTR_FROM_PACKET_SIZE));
	assert_ptr_equal(v.spec, engine_static_spec(&x->e, x->f, ATTR_FROM_PACKET_SIZE));
	assert_int_equal(v.sdist->n, 2);
	assert_int_equal(v.sdist->counts[1], 2);   /* 47 octets: (25, 50] */
	assert_int_equal(v.spec->buckets, 60);
}

/* Uptime before the meter's start reads 0, not a wrapped number. */
static void before_start(void **state)
{
	struct fx *x = *state;
	struct coll_value v;
	flowattr_get(&x->e, x->f, x->index, T0 + 10 * SEC, ATTR_FIRST_TIME, &v);
	assert_int_equal(v.kind, COLL_BYTES);
	assert_int_equal(v.width, 4);
	static const uint8_t zero[4] = { 0 };
	assert_memory_equal(v.bytes, zero, 4);
	assert_int_equal(flowattr_uptime_cs(T0, T0 + 1234 * 10 * MS), 1234);
	assert_int_equal(flowattr_uptime_cs(T0, T0 - 1), 0);
}

/* Every attribute of the flow through a package and back: byte values
 * equal (widths included), distributions give the same intervals. */
static void package_round_trip(void **state)
{
	struct fx *x = *state;
	static const uint16_t sel[] = {
		ATTR_FLOW_RULESET, ATTR_FLOW_INDEX, ATTR_FIRST_TIME, ATTR_LAST_ACTIVE_TIME,
		ATTR_SOURCE_TRANS_TYPE, ATTR_SOURCE_PEER_ADDRESS, ATTR_DEST_PEER_ADDRESS,
		ATTR_DEST_PEER_MASK, ATTR_DEST_TRANS_ADDRESS, ATTR_FLOW_CLASS,
		ATTR_TO_OCTETS, ATTR_FROM_PDUS, ATTR_PDU_SCALE, ATTR_DISTRIBUTIONS,
		ATTR_TO_TURNAROUND_TIME, ATTR_FROM_PACKET_SIZE, ATTR_TO_PACKET_SIZE,
		ATTR_DNS_REQUESTS, ATTR_DNS_LOST, ATTR_RTT_SAMPLES,
		ATTR_FIRST_TIME_NS, ATTR_LAST_TIME_NS,
	};
	enum { N = sizeof sel / sizeof sel[0] };
	struct coll_value v[N];
	for (size_t i = 0; i < N; i++)
		flowattr_get(&x->e, x->f, x->index, START, sel[i], &v[i]);
	uint8_t buf[4096];
	ssize_t len = pkg_encode(v, N, buf, sizeof buf);
	assert_true(len > 0);
	struct pkg_decoded d;
	assert_int_equal(pkg_decoded_init(&d), 0);
	const char *why = NULL;
	assert_int_equal(pkg_decode(buf, (size_t)len, sel, N, &d, &why), 0);
	assert_int_equal(d.n, N);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(d.v[i].attr, sel[i]);
		assert_int_equal(d.v[i].kind, v[i].kind);
		if (v[i].kind == COLL_BYTES) {
			assert_int_equal(d.v[i].width, v[i].width);
			assert_memory_equal(d.v[i].bytes, v[i].bytes, v[i].width);
		}
	}
	struct dist_result *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(dist_interval(NULL, v[14].dist, 0, a), 0);
	assert_int_equal(dist_interval(NULL, d.v[14].dist, 0, b), 0);
	assert_int_equal(b->d.type, DIF_DIST_EXACT);
	assert_int_equal(b->d.n_values, 2);
	assert_memory_equal(b->values, a->values, 2 * sizeof a->values[0]);
	assert_int_equal(dist_static_interval(v[15].spec, NULL, v[15].sdist, a), 0);
	assert_int_equal(dist_static_interval(d.v[15].spec, NULL, d.v[15].sdist, b), 0);
	assert_int_equal(b->d.n_counts, 61);
	assert_int_equal(b->d.n, 2);
	assert_memory_equal(b->counts, a->counts, 61 * sizeof a->counts[0]);
	free(a);
	free(b);
	pkg_decoded_fini(&d);
}

/* A number pushed narrower than its attribute (a rules file's 1-byte
 * mask on SourceInterface) reads at the attribute's width, so a package
 * decodes back to the same value; an address keeps the key's width. */
static void narrow_key_numbers(void **state)
{
	(void)state;
	struct engine e;
	struct diag d;
	diag_init(&d, "test");
	struct engine_config c;
	engine_config_default(&c);
	c.max_flows = 4;
	assert_int_equal(engine_init(&e, &c, &d), 0);
	struct flow_key k;
	flow_key_clear(&k, 3);
	static const uint8_t ff[4] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t seven[1] = { 7 };
	static const uint8_t peer[4] = { 10, 1, 2, 3 };
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_INTERFACE, 1, ff, seven), 0);
	assert_int_equal(flow_key_put(&k, ATTR_SOURCE_PEER_ADDRESS, 4, ff, peer), 0);
	struct flow *f = flow_insert(e.flows, &k, flow_key_hash(&k), T0);
	assert_non_null(f);
	struct coll_value v;
	flowattr_get(&e, f, 1, T0, ATTR_SOURCE_INTERFACE, &v);
	assert_int_equal(v.kind, COLL_BYTES);
	assert_int_equal(v.width, 2);
	assert_int_equal(v.bytes[0], 0);
	assert_int_equal(v.bytes[1], 7);
	flowattr_get(&e, f, 1, T0, ATTR_SOURCE_PEER_ADDRESS, &v);
	assert_int_equal(v.width, 4);
	assert_memory_equal(v.bytes, peer, 4);
	flowattr_get(&e, f, 1, T0, ATTR_FLOW_RULESET, &v);
	assert_int_equal(v.width, 4);
	assert_int_equal(v.bytes[3], 3);
	/* no distribution of either kind */
	flowattr_get(&e, f, 1, T0, ATTR_TO_TURNAROUND_TIME, &v);
	assert_int_equal(v.kind, COLL_NONE);
	flowattr_get(&e, f, 1, T0, ATTR_DISTRIBUTIONS, &v);
	assert_int_equal(v.width, 4);
	assert_int_equal(v.bytes[3], 0);
	/* the flow changed when its last packet came */
	assert_true(flowattr_changed_ns(f) == T0);
	engine_free(&e);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(computed_values, setup, teardown),
		cmocka_unit_test_setup_teardown(key_values, setup, teardown),
		cmocka_unit_test_setup_teardown(distributions, setup, teardown),
		cmocka_unit_test_setup_teardown(before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(package_round_trip, setup, teardown),
		cmocka_unit_test(narrow_key_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
