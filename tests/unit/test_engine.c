/* test_engine — the engine's RFC 2724 static distributions (66–75) end to
 * end: literal packets through decode, the PME (SRL rulesets), the flow
 * table and the DNS pairing, into buckets with the rules' parameters. */
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
#include "srl.h"
#include "statdist.h"

#define US  1000ull
#define MS  1000000ull
#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

/* Client 192.0.2.10:40000 <-> server 198.51.100.1:9 (discard), UDP, raw
 * IPv4; lengths are patched by mkpkt. */
static const uint8_t hdr_to[28] = {
	0x45, 0x00, 0x00, 0x00, 0x00, 0x01, 0x40, 0x00, 64, 17, 0x00, 0x00,
	192, 0, 2, 10,   198, 51, 100, 1,
	0x9c, 0x40, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t hdr_from[28] = {
	0x45, 0x00, 0x00, 0x00, 0x00, 0x02, 0x40, 0x00, 64, 17, 0x00, 0x00,
	198, 51, 100, 1,   192, 0, 2, 10,
	0x00, 0x09, 0x9c, 0x40, 0x00, 0x00, 0x00, 0x00,
};

/* A DNS query for "a." IN A (ID 0x1234) to port 53, and its response
 * (no answers): 20 + 8 + 12 + 3 + 4 = 47 octets each. */
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

#define BUF_MAX 1600
static uint8_t buf[BUF_MAX];

static void feed_bytes(struct engine *e, const uint8_t *b, size_t len, uint64_t ts)
{
	struct pkt p = {
		.ts_ns = ts, .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
		.data = b, .ifindex = 1, .link = PKT_LINK_RAW,
	};
	engine_packet(e, &p);
}

/* A UDP packet of `len` octets (IP total length) To or From the server,
 * into out. */
static void mk_udp(uint8_t *out, bool from, uint16_t len)
{
	assert_true(len >= 28 && len <= BUF_MAX);
	memset(out, 0, len);
	memcpy(out, from ? hdr_from : hdr_to, 28);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[24] = (uint8_t)((len - 20) >> 8);
	out[25] = (uint8_t)(len - 20);
}

static void feed(struct engine *e, bool from, uint16_t len, uint64_t ts)
{
	mk_udp(buf, from, len);
	feed_bytes(e, buf, len, ts);
}

static void feed_dns(struct engine *e, bool response, uint64_t ts)
{
	const uint8_t *b = response ? dns_response : dns_query;
	feed_bytes(e, b, 47, ts);
}

/* The ruleset head: server port `port` is the destination, keyed by it. */
#define HEAD(port) \
	"SET 9;\n" \
	"if SourceTransType == 17 && DestTransAddress == " port " {\n" \
	"  save DestPeerAddress /32;\n"
#define TAIL "  count;\n}\nnomatch;\n"

struct fx {
	struct engine e;
	struct ruleset rs;
	struct diag d;
};

/* Compile `src` and start an engine on it; returns engine_add_task's rc. */
static int start(struct fx *x, const char *src, size_t static_dists)
{
	memset(x, 0, sizeof *x);
	diag_init(&x->d, "test");
	assert_int_equal(srl_compile("test", src, strlen(src), &x->rs, &x->d), 0);
	struct engine_config c;
	engine_config_default(&c);
	c.max_flows = 64;
	c.static_dists = static_dists;
	assert_int_equal(engine_init(&x->e, &c, &x->d), 0);
	return engine_add_task(&x->e, &x->rs, NULL, 0, &x->d);
}

static void stop(struct fx *x)
{
	engine_free(&x->e);
	ruleset_free(&x->rs);
	diag_free(&x->d);
}

static struct flow *only_flow(struct fx *x)
{
	struct flow *f = flow_next_active(x->e.flows, 0, 0);
	assert_non_null(f);
	assert_null(flow_next_active(x->e.flows, flow_index(x->e.flows, f), 0));
	return f;
}

static const struct dist_static *get(struct fx *x, struct flow *f, unsigned attr)
{
	const struct dist_static *d = engine_static_dist(&x->e, f, attr);
	assert_non_null(d);
	return d;
}

/* RFC 2724's first example, value "60.0!0" (5 bytes): 60 linear buckets
 * of 25 octets, bucket i holds (25 i, 25 (i + 1)], overflow above 1500. */
static void packet_size(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("9")
		"  save ToPacketSize = 60.0!0 & 1.0.25!1500;\n"
		"  save FromPacketSize = 60.0!0 & 1.0.25!1500;\n" TAIL, 16), 0);
	feed(&x.e, false, 28, T0);
	feed(&x.e, false, 60, T0 + 1 * MS);
	feed(&x.e, false, 100, T0 + 2 * MS);
	feed(&x.e, true, 1500, T0 + 3 * MS);
	feed(&x.e, true, 1501, T0 + 4 * MS);
	struct flow *f = only_flow(&x);
	assert_int_equal(f->to_pdus, 3);
	const struct dist_static *to = get(&x, f, ATTR_TO_PACKET_SIZE);
	const struct dist_static *from = get(&x, f, ATTR_FROM_PACKET_SIZE);
	assert_int_equal(to->n, 3);
	assert_int_equal(to->counts[1], 1);    /* 28: (25, 50] */
	assert_int_equal(to->counts[2], 1);    /* 60: (50, 75] */
	assert_int_equal(to->counts[3], 1);    /* 100: (75, 100] */
	assert_int_equal(from->n, 2);
	assert_int_equal(from->counts[59], 1); /* 1500: the last bucket */
	assert_int_equal(from->counts[60], 1); /* 1501: overflow */
	const struct dist_static_spec *s = engine_static_spec(&x.e, f, ATTR_FROM_PACKET_SIZE);
	assert_non_null(s);
	assert_int_equal(s->buckets, 60);
	assert_int_equal(s->lower, 25);
	assert_int_equal(s->upper, 1500);
	assert_int_equal(engine_static_have(&x.e, f), 0x3);   /* bits 0, 1 */
	assert_null(engine_static_dist(&x.e, f, ATTR_TO_INTERARRIVAL_TIME));
	stop(&x);
}

/* RFC 2724's second example: log, scale 10^3, 1 ms .. 1.8 s, 60 buckets;
 * bound_i = 1000 · 1800^(i/59) µs: 1000, 1135.5, 1289.4, ... */
static void interarrival(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("9")
		"  save ToInterarrivalTime = 60.0.0!0 & 2.3.1!1800;\n"
		"  save FromInterarrivalTime = 60.0.0!0 & 2.3.1!1800;\n" TAIL, 16), 0);
	uint64_t t = T0;
	feed(&x.e, false, 40, t);                 /* first: no sample */
	feed(&x.e, false, 40, t += 1000 * US);    /* 1000 µs: bucket 0 */
	feed(&x.e, true, 40, t += 7 * MS);        /* From's first: none */
	feed(&x.e, false, 40, t += 100 * US);     /* 7100 µs since the last To */
	feed(&x.e, false, 40, t += 1100 * US);    /* bucket 1 */
	feed(&x.e, false, 40, t += 1200 * US);    /* bucket 2 */
	feed(&x.e, true, 40, t += 2 * SEC);       /* 2.0024 s after the last From */
	struct flow *f = only_flow(&x);
	const struct dist_static *to = get(&x, f, ATTR_TO_INTERARRIVAL_TIME);
	const struct dist_static *from = get(&x, f, ATTR_FROM_INTERARRIVAL_TIME);
	assert_int_equal(to->n, 4);
	assert_int_equal(to->counts[0], 1);
	assert_int_equal(to->counts[1], 1);
	assert_int_equal(to->counts[2], 1);
	/* 7100 µs: 1000 · 1800^(i/59) >= 7100 first at i = 16 (6954 at 15,
	 * 7896 at 16) */
	assert_int_equal(to->counts[16], 1);
	assert_int_equal(from->n, 1);
	assert_int_equal(from->counts[60], 1);   /* > 1.8 s: overflow */
	stop(&x);
}

/* Non-DNS turnaround: a From packet after a To packet gives ToTurnaround
 * the time since the latest To packet; a To after a From gives
 * FromTurnaround.  Linear, scale 10^3, 1..10 (ms): bucket i <= (i+1) ms. */
static void turnaround_packets(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("9")
		"  save ToTurnaroundTime = 10.0.0!0 & 1.3.1!10;\n"
		"  save FromTurnaroundTime = 10.0.0!0 & 1.3.1!10;\n" TAIL, 16), 0);
	uint64_t t = T0;
	feed(&x.e, false, 40, t);
	feed(&x.e, false, 40, t += 20 * MS);      /* To after To: nothing */
	feed(&x.e, true, 40, t += 3 * MS);        /* To -> From 3 ms: bucket 2 */
	feed(&x.e, true, 40, t += 50 * MS);       /* From after From: nothing */
	feed(&x.e, false, 40, t += 1500 * US);    /* From -> To 1.5 ms: bucket 1 */
	feed(&x.e, true, 40, t += 10 * MS);       /* 10 ms: bucket 9 */
	feed(&x.e, false, 40, t += 10001 * US);   /* overflow */
	struct flow *f = only_flow(&x);
	const struct dist_static *to = get(&x, f, ATTR_TO_TURNAROUND_TIME);
	const struct dist_static *from = get(&x, f, ATTR_FROM_TURNAROUND_TIME);
	assert_int_equal(to->n, 2);
	assert_int_equal(to->counts[2], 1);
	assert_int_equal(to->counts[9], 1);
	assert_int_equal(from->n, 2);
	assert_int_equal(from->counts[1], 1);
	assert_int_equal(from->counts[10], 1);
	stop(&x);
}

/* DNS: ToTurnaroundTime (static) takes the pairing's RTT, and DNS packets
 * add nothing by the packet rule. */
static void turnaround_dns(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("53")
		"  save ToTurnaroundTime = 10.0.0!0 & 1.3.1!10;\n"
		"  save FromTurnaroundTime = 10.0.0!0 & 1.3.1!10;\n" TAIL, 16), 0);
	feed_dns(&x.e, false, T0);
	feed_dns(&x.e, true, T0 + 2500 * US);
	assert_int_equal(x.e.st.rtt_samples, 1);
	struct flow *f = only_flow(&x);
	assert_int_equal(f->to_pdus, 1);
	assert_int_equal(f->from_pdus, 1);
	const struct dist_static *to = get(&x, f, ATTR_TO_TURNAROUND_TIME);
	assert_int_equal(to->n, 1);
	assert_int_equal(to->counts[2], 1);      /* 2500 µs: (2, 3] ms */
	assert_int_equal(get(&x, f, ATTR_FROM_TURNAROUND_TIME)->n, 0);
	/* the dynamic distribution was not asked for */
	assert_null(flow_dist_peek(x.e.flows, f));
	stop(&x);
}

/* Rates with Parameter-1 = 1 s: the intervals run from the first packet;
 * the first packet at or after an interval's end closes it, and every
 * whole interval without a packet counts 0.  PDUs: linear 1..10 PDU/s;
 * bits: linear, scale 10^3, 1..10 kbit/s. */
static void rates(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("9")
		"  save ToPDURate = 10.1.0!0 & 1.0.1!10;\n"
		"  save ToBitRate = 10.1.0!0 & 1.3.1!10;\n"
		"  save FromPDURate = 10.1.0!0 & 1.0.1!10;\n" TAIL, 16), 0);
	feed(&x.e, false, 100, T0);                /* [0, 1) opens */
	feed(&x.e, false, 100, T0 + 200 * MS);
	feed(&x.e, false, 100, T0 + 400 * MS);
	feed(&x.e, true, 100, T0 + 600 * MS);      /* From: not in To rates */
	struct flow *f = only_flow(&x);
	assert_int_equal(get(&x, f, ATTR_TO_PDU_RATE)->n, 0);   /* still open */
	feed(&x.e, false, 100, T0 + 1000 * MS);    /* closes [0,1): 3 PDU, 2400 bit */
	feed(&x.e, false, 100, T0 + 1500 * MS);
	feed(&x.e, false, 100, T0 + 3500 * MS);    /* [1,2): 2, 1600; [2,3): 0 */
	const struct dist_static *pdu = get(&x, f, ATTR_TO_PDU_RATE);
	const struct dist_static *bit = get(&x, f, ATTR_TO_BIT_RATE);
	assert_int_equal(pdu->n, 3);
	assert_int_equal(pdu->counts[2], 1);     /* 3 PDU/s */
	assert_int_equal(pdu->counts[1], 1);     /* 2 PDU/s */
	assert_int_equal(pdu->counts[0], 1);     /* 0 PDU/s */
	assert_int_equal(bit->n, 3);
	assert_int_equal(bit->counts[2], 1);     /* 2400 bit/s: (2000, 3000] */
	assert_int_equal(bit->counts[1], 1);     /* 1600 bit/s */
	assert_int_equal(bit->counts[0], 1);     /* 0 */
	/* FromPDURate's intervals run from the flow's first packet too, and
	 * any packet of the flow closes them: [0,1) held the From packet at
	 * 0.6 s (1 PDU/s), [1,2) and [2,3) none */
	const struct dist_static *fp = get(&x, f, ATTR_FROM_PDU_RATE);
	assert_int_equal(fp->n, 3);
	assert_int_equal(fp->counts[0], 3);      /* 1, 0, 0 PDU/s: all <= 1 */
	feed(&x.e, true, 100, T0 + 3700 * MS);
	feed(&x.e, true, 100, T0 + 3800 * MS);
	assert_int_equal(fp->n, 3);              /* [3,4) still open */
	feed(&x.e, false, 100, T0 + 4100 * MS);  /* closes it: 2 PDU/s */
	assert_int_equal(fp->n, 4);
	assert_int_equal(fp->counts[1], 1);
	assert_int_equal(pdu->n, 4);             /* To: 1 PDU/s (the 3.5 s one) */
	assert_int_equal(pdu->counts[0], 2);
	stop(&x);
}

/* Parameter-1 = 2: a 2-second rate, octets × 8 / 2. */
static void rate_interval_parameter(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("9")
		"  save ToBitRate = 10.2.0!0 & 1.3.1!10;\n" TAIL, 16), 0);
	feed(&x.e, false, 500, T0);
	feed(&x.e, false, 500, T0 + 1 * SEC);
	feed(&x.e, false, 100, T0 + 2 * SEC);    /* 1000 octets in 2 s: 4000 bit/s */
	struct flow *f = only_flow(&x);
	const struct dist_static *bit = get(&x, f, ATTR_TO_BIT_RATE);
	assert_int_equal(bit->n, 1);
	assert_int_equal(bit->counts[3], 1);     /* (3000, 4000] */
	stop(&x);
}

/* A pool of 2 distributions, 3 asked: one refused, counted once per flow
 * and attribute; recovering the flow returns its entries. */
static void pool_bounds_and_recovery(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("9")
		"  save ToPacketSize = 60.0!0 & 1.0.25!1500;\n"
		"  save FromPacketSize = 60.0!0 & 1.0.25!1500;\n"
		"  save ToInterarrivalTime = 60.0.0!0 & 2.3.1!1800;\n" TAIL, 2), 0);
	feed(&x.e, false, 40, T0);
	feed(&x.e, false, 40, T0 + 1 * MS);
	struct flow *f = only_flow(&x);
	assert_int_equal(engine_static_have(&x.e, f), 0x3);
	assert_null(engine_static_dist(&x.e, f, ATTR_TO_INTERARRIVAL_TIME));
	assert_int_equal(x.e.st.static_refused, 1);
	struct statdist_stats ss;
	engine_static_stats(&x.e, &ss);
	assert_int_equal(ss.slots, 2);
	assert_int_equal(ss.used, 2);
	assert_int_equal(ss.refused, 1);
	/* idle and collected: recovered (RFC 2722 §4.5) */
	uint64_t later = T0 + 2 * (uint64_t)ENGINE_DEFAULT_INACTIVITY_S * SEC;
	engine_collect_point(&x.e, later, later);
	engine_collect_point(&x.e, later, later);
	assert_null(flow_next_active(x.e.flows, 0, 0));
	engine_static_stats(&x.e, &ss);
	assert_int_equal(ss.used, 0);
	/* a new flow in the same record starts afresh */
	feed(&x.e, false, 60, later + 1 * SEC);
	f = only_flow(&x);
	assert_int_equal(get(&x, f, ATTR_TO_PACKET_SIZE)->n, 1);
	assert_int_equal(get(&x, f, ATTR_TO_PACKET_SIZE)->counts[2], 1);
	assert_int_equal(x.e.st.static_refused, 2);
	stop(&x);
}

/* Bad parameters are load errors naming the rule. */
static void expect_load_error(const char *src, const char *needle)
{
	struct fx x;
	assert_int_equal(start(&x, src, 16), -1);
	bool found = false;
	for (size_t i = 0; i < x.d.n; i++)
		if (strstr(x.d.msgs[i].text, needle) && strstr(x.d.msgs[i].text, "rule "))
			found = true;
	if (!found)
		for (size_t i = 0; i < x.d.n; i++)
			print_error("got: %s\n", x.d.msgs[i].text);
	assert_true(found);
	stop(&x);
}

static void load_errors(void **state)
{
	(void)state;
	expect_load_error(HEAD("9") "  save ToBitRate = 10.0.0!0 & 1.0.1!10;\n" TAIL,
			  "rate interval");
	expect_load_error(HEAD("9") "  save ToPacketSize = 60.0!0 & 1.10.25!1500;\n" TAIL,
			  "scale factor");
	expect_load_error(HEAD("9") "  save FromTurnaroundTime = 60.0.0!0 & 3.0.0!0;\n" TAIL,
			  "transform 3");
	expect_load_error("SET 9;\n"
		"if SourceTransType == 17 && DestTransAddress == 9 {\n"
		"  save ToPacketSize = 60.0!0 & 1.0.25!1500; count; }\n"
		"else if SourceTransType == 17 {\n"
		"  save ToPacketSize = 30.0!0 & 1.0.50!1500; count; }\n"
		"nomatch;\n", "other parameters");
}

/* The dynamic ToTurnaroundTime and static ones side by side; Distributions
 * bits come from both. */
static void dynamic_and_static(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("53")
		"  save ToTurnaroundTime = 60.0.0!0 & 3.0.0!0;\n"
		"  save FromPacketSize = 60.0!0 & 1.0.25!1500;\n" TAIL, 16), 0);
	feed_dns(&x.e, false, T0);
	feed_dns(&x.e, true, T0 + 2500 * US);
	struct flow *f = only_flow(&x);
	const struct dist *d = flow_dist_peek(x.e.flows, f);
	assert_non_null(d);
	assert_int_equal(d->count, 1);
	assert_int_equal(d->ring_v[0], 2500);
	assert_int_equal(engine_static_have(&x.e, f), 0x2);
	assert_null(engine_static_dist(&x.e, f, ATTR_TO_TURNAROUND_TIME));
	const struct dist_static *ps = get(&x, f, ATTR_FROM_PACKET_SIZE);
	assert_int_equal(ps->n, 1);
	assert_int_equal(ps->counts[1], 1);      /* 47 octets: (25, 50] */
	stop(&x);
}

/* ---- run-time task management (what meter/mctl drives) ----------------- */

static void compile(const char *src, struct ruleset *rs)
{
	struct diag d;
	diag_init(&d, "test");
	assert_int_equal(srl_compile("test", src, strlen(src), rs, &d), 0);
	diag_free(&d);
}

/* Slots are filled, skipped when empty, stopped and replaced between
 * packets; a failed load leaves the slot as it was. */
static void task_slots(void **state)
{
	(void)state;
	struct fx x;
	struct ruleset rs7, bad;
	assert_int_equal(start(&x, HEAD("9") TAIL, 0), 0);
	compile("SET 7;\nif SourceTransType == 17 {\n  save DestPeerAddress /32;\n"
		"  count;\n}\nnomatch;\n", &rs7);
	assert_int_equal(engine_task_set(&x.e, 3, &rs7, NULL, 0, &x.d), 0);
	assert_int_equal(x.e.n_tasks, 4);
	assert_true(engine_task_active(&x.e, 0));
	assert_false(engine_task_active(&x.e, 1));
	assert_false(engine_task_active(&x.e, 2));
	assert_true(engine_task_active(&x.e, 3));
	assert_false(engine_task_active(&x.e, ENGINE_TASKS_MAX));
	feed(&x.e, false, 100, T0);
	assert_int_equal(x.e.st.counted, 2);
	assert_int_equal(engine_set_flows(&x.e, 9), 1);
	assert_int_equal(engine_set_flows(&x.e, 7), 1);

	/* stopped: no more counting, its flows stay */
	engine_task_stop(&x.e, 0);
	assert_false(engine_task_active(&x.e, 0));
	feed(&x.e, false, 100, T0 + MS);
	assert_int_equal(x.e.st.counted, 3);
	assert_int_equal(engine_set_flows(&x.e, 9), 1);
	assert_int_equal(engine_remove_set_flows(&x.e, 9), 1);
	assert_int_equal(engine_set_flows(&x.e, 9), 0);
	assert_int_equal(engine_set_flows(&x.e, 7), 1);

	/* a ruleset that fails to load changes nothing */
	ruleset_init(&bad);
	struct rule r = { .attr = ATTR_NULL, .op = 0 };
	assert_int_equal(ruleset_add_rule(&bad, &r, NULL), 0);
	assert_int_equal(engine_task_set(&x.e, 3, &bad, NULL, 0, &x.d), -1);
	assert_true(engine_task_active(&x.e, 3));
	assert_int_equal(pme_ruleset(x.e.task[3].current), 7);
	assert_int_equal(engine_task_set(&x.e, ENGINE_TASKS_MAX, &rs7, NULL, 0, &x.d), -1);

	/* replaced: the slot now files under 9, set 7's flows stay */
	assert_int_equal(engine_task_set(&x.e, 3, &x.rs, &rs7, 70, &x.d), 0);
	assert_int_equal(pme_ruleset(x.e.task[3].current), 9);
	assert_int_equal(x.e.task[3].high_water, 70);
	engine_task_set_high_water(&x.e, 3, 60);
	assert_int_equal(x.e.task[3].high_water, 60);
	x.e.task[3].running_standby = true;
	engine_task_return(&x.e, 3);
	assert_false(x.e.task[3].running_standby);
	feed(&x.e, false, 100, T0 + 2 * MS);
	assert_int_equal(engine_set_flows(&x.e, 9), 1);
	assert_int_equal(engine_set_flows(&x.e, 7), 1);
	/* engine_add_task appends after the highest slot */
	assert_int_equal(engine_add_task(&x.e, &rs7, NULL, 0, &x.d), 0);
	assert_int_equal(x.e.n_tasks, 5);
	ruleset_free(&bad);
	ruleset_free(&rs7);
	stop(&x);
}

/* Stopping a task counts its unanswered DNS requests as lost. */
static void task_stop_loses_pending(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("53") TAIL, 0), 0);
	feed_dns(&x.e, false, T0);
	struct flow *f = only_flow(&x);
	assert_int_equal(f->dns.requests, 1);
	assert_int_equal(f->dns.lost, 0);
	engine_task_stop(&x.e, 0);
	assert_int_equal(f->dns.lost, 1);
	/* the slot keeps its (empty) pending table for the next task */
	assert_non_null(x.e.task[0].pair);
	assert_int_equal(engine_task_set(&x.e, 0, &x.rs, NULL, 0, &x.d), 0);
	feed_dns(&x.e, false, T0 + MS);
	feed_dns(&x.e, true, T0 + 3 * MS);
	assert_int_equal(f->dns.answered, 1);
	stop(&x);
}

static void interface_ignored(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, HEAD("9") TAIL, 0), 0);
	assert_int_equal(engine_ignore_interface(&x.e, 0, true), -1);
	assert_int_equal(engine_ignore_interface(&x.e, ENGINE_IF_IGNORE_MAX + 1, true), -1);
	assert_int_equal(engine_ignore_interface(&x.e, 1, true), 0);
	feed(&x.e, false, 100, T0);
	assert_int_equal(x.e.st.ignored_if, 1);
	assert_int_equal(x.e.st.packets, 0);
	assert_int_equal(engine_ignore_interface(&x.e, 1, false), 0);
	feed(&x.e, false, 100, T0);
	assert_int_equal(x.e.st.packets, 1);
	assert_int_equal(x.e.st.counted, 1);
	stop(&x);
}

/* Each ruleset's idle flows wait for its own collected point. */
static void gc_per_ruleset(void **state)
{
	(void)state;
	struct fx x;
	struct ruleset rs7;
	assert_int_equal(start(&x, HEAD("9") TAIL, 0), 0);
	compile("SET 7;\nif SourceTransType == 17 {\n  save DestPeerAddress /32;\n"
		"  count;\n}\nnomatch;\n", &rs7);
	assert_int_equal(engine_add_task(&x.e, &rs7, NULL, 0, &x.d), 0);
	feed(&x.e, false, 100, T0);
	uint64_t collected[10];
	for (size_t i = 0; i < 10; i++)
		collected[i] = UINT64_MAX;
	collected[9] = T0;              /* collected before the last packet */
	collected[7] = T0 + 1;          /* after it */
	uint64_t now = T0 + ENGINE_DEFAULT_INACTIVITY_S * SEC;
	engine_gc_rulesets(&x.e, now - 1, collected, 10);   /* not idle yet */
	assert_int_equal(engine_set_flows(&x.e, 7), 1);
	engine_gc_rulesets(&x.e, now, collected, 10);
	assert_int_equal(engine_set_flows(&x.e, 7), 0);
	assert_int_equal(engine_set_flows(&x.e, 9), 1);
	/* a set past n has no reader: everything idle goes */
	engine_gc_rulesets(&x.e, now, collected, 9);
	assert_int_equal(engine_set_flows(&x.e, 9), 0);
	ruleset_free(&rs7);
	stop(&x);
}

/*
 * Flow cookies (engine_task_packet): the memo entry of a server keeps the
 * flow its key was counted to, and a packet from the memo counts there
 * without the lookup only while that record is still the key's flow and
 * current.  Three servers, each its own memo entry and flow.
 */
#define COOKIE_BODY \
	"if SourceTransType == 17 && DestTransAddress == 9 {\n" \
	"  if DestPeerAddress == 198.51.100.1 save, { store FlowKind := 1; }\n" \
	"  else if DestPeerAddress == 198.51.100.2 save, { store FlowKind := 2; }\n" \
	"  else if DestPeerAddress == 198.51.100.3 save, { store FlowKind := 3; }\n" \
	"  else nomatch;\n" \
	"  count;\n}\nnomatch;\n"
#define COOKIE_SRL "SET 9;\n" COOKIE_BODY

/* A 100-octet packet to (or from) server 198.51.100.<server>. */
static void feed_server(struct engine *e, unsigned server, bool from, uint64_t ts)
{
	mk_udp(buf, from, 100);
	buf[from ? 15 : 19] = (uint8_t)server;
	feed_bytes(e, buf, 100, ts);
}

/* The in-use flow of that server, or NULL. */
static struct flow *server_flow(struct fx *x, unsigned server)
{
	for (struct flow *f = flow_next_active(x->e.flows, 0, 0); f;
	     f = flow_next_active(x->e.flows, flow_index(x->e.flows, f), 0)) {
		const struct flow_key *k = flow_get_key(x->e.flows, f);
		const uint8_t addr[4] = { 198, 51, 100, (uint8_t)server };
		if (memmem(k->data, k->len, addr, sizeof addr))
			return f;
	}
	return NULL;
}

/* Counted To twice, From once: the cookie made by the first packet
 * serves the others (the response's reversed pass finds the request's
 * memo entry). */
static struct flow *cookie_traffic(struct fx *x, unsigned server, uint64_t ts)
{
	feed_server(&x->e, server, false, ts);
	feed_server(&x->e, server, false, ts + MS);
	feed_server(&x->e, server, true, ts + 2 * MS);
	struct flow *f = server_flow(x, server);
	assert_non_null(f);
	return f;
}

/* A cached flow recovered by the collector, its record taken by another
 * server's flow: the first server's packets do not count to it. */
static void cookie_gc_reuse(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, COOKIE_SRL, 0), 0);
	struct flow *a = cookie_traffic(&x, 1, T0);
	assert_int_equal(a->to_pdus, 2);
	assert_int_equal(a->from_pdus, 1);
	assert_int_equal(a->to_octets, 200);
	uint32_t ia = flow_index(x.e.flows, a);
	uint64_t later = T0 + 2 * (uint64_t)ENGINE_DEFAULT_INACTIVITY_S * SEC;
	engine_collect_point(&x.e, later, later);
	engine_collect_point(&x.e, later, later);
	assert_null(flow_next_active(x.e.flows, 0, 0));
	/* server 2 takes the record (the most recently freed goes first) */
	feed_server(&x.e, 2, false, later + SEC);
	struct flow *b = server_flow(&x, 2);
	assert_non_null(b);
	assert_int_equal(flow_index(x.e.flows, b), ia);
	/* server 1 again: a new flow of its own */
	feed_server(&x.e, 1, false, later + 2 * SEC);
	feed_server(&x.e, 1, true, later + 3 * SEC);
	assert_int_equal(b->to_pdus, 1);
	assert_int_equal(b->from_pdus, 0);
	a = server_flow(&x, 1);
	assert_non_null(a);
	assert_int_not_equal(flow_index(x.e.flows, a), ia);
	assert_int_equal(a->to_pdus, 1);
	assert_int_equal(a->from_pdus, 1);
	assert_int_equal(a->first_ns, later + 2 * SEC);
	assert_int_equal(x.e.st.counted, 6);
	stop(&x);
}

/* A cached flow gone idle is made current again (the general path), and
 * one removed with its set is created anew. */
static void cookie_idle_and_removed(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, COOKIE_SRL, 0), 0);
	struct flow *a = cookie_traffic(&x, 1, T0);
	/* idle, not collected: the record stays */
	uint64_t idle_at = T0 + 2 * (uint64_t)ENGINE_DEFAULT_INACTIVITY_S * SEC;
	const uint64_t collected[10] = { 0 };
	engine_gc_rulesets(&x.e, idle_at, collected, 10);
	struct flow_stats fs;
	flow_table_stats(x.e.flows, &fs);
	assert_int_equal(fs.idle, 1);
	assert_int_equal(a->state, FLOW_IDLE);
	feed_server(&x.e, 1, false, idle_at + SEC);
	assert_int_equal(a->state, FLOW_CURRENT);
	flow_table_stats(x.e.flows, &fs);
	assert_int_equal(fs.idle, 0);
	assert_int_equal(a->to_pdus, 3);
	assert_int_equal(a->last_ns, idle_at + SEC);
	/* removed: server 1's next packet makes a new flow */
	size_t before = x.e.st.counted;
	assert_int_equal(engine_remove_set_flows(&x.e, 9), 1);
	feed_server(&x.e, 1, true, idle_at + 2 * SEC);
	a = server_flow(&x, 1);
	assert_non_null(a);
	assert_int_equal(a->from_pdus, 1);
	assert_int_equal(a->to_pdus, 0);
	assert_int_equal(x.e.st.counted, before + 1);
	stop(&x);
}

/* A program reloaded in the task's slot: its memo starts empty, so no
 * cookie of the old set's entries counts to the old flows. */
static void cookie_reload(void **state)
{
	(void)state;
	struct fx x;
	struct ruleset rs7;
	assert_int_equal(start(&x, COOKIE_SRL, 0), 0);
	struct flow *a9 = cookie_traffic(&x, 1, T0);
	compile("SET 7;\n" COOKIE_BODY, &rs7);
	assert_int_equal(engine_task_set(&x.e, 0, &rs7, NULL, 0, &x.d), 0);
	feed_server(&x.e, 1, false, T0 + 3 * MS);
	feed_server(&x.e, 1, false, T0 + 4 * MS);
	assert_int_equal(a9->to_pdus, 2);
	assert_int_equal(engine_set_flows(&x.e, 7), 1);
	assert_int_equal(engine_set_flows(&x.e, 9), 1);
	/* and back: set 9's flow is found by its key again */
	assert_int_equal(engine_task_set(&x.e, 0, &x.rs, NULL, 0, &x.d), 0);
	feed_server(&x.e, 1, false, T0 + 5 * MS);
	feed_server(&x.e, 1, true, T0 + 6 * MS);
	assert_int_equal(a9->to_pdus, 3);
	assert_int_equal(a9->from_pdus, 2);
	ruleset_free(&rs7);
	stop(&x);
}

/* Flood mode counts into existing flows only, cookie or not. */
static void cookie_flood(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, COOKIE_SRL, 0), 0);
	struct flow *a = cookie_traffic(&x, 1, T0);
	x.e.flood_mode = true;
	feed_server(&x.e, 1, false, T0 + 3 * MS);
	feed_server(&x.e, 1, true, T0 + 4 * MS);
	feed_server(&x.e, 2, false, T0 + 5 * MS);
	assert_int_equal(a->to_pdus, 3);
	assert_int_equal(a->from_pdus, 2);
	assert_null(server_flow(&x, 2));
	assert_int_equal(x.e.st.flood_refused, 1);
	x.e.flood_mode = false;
	feed_server(&x.e, 1, false, T0 + 6 * MS);
	assert_int_equal(a->to_pdus, 4);
	stop(&x);
}

/* The table renumbers its generations: a new flow may then have a
 * record and generation an old cookie names, so the engine drops every
 * cookie. */
static void cookie_renumbered(void **state)
{
	(void)state;
	struct fx x;
	assert_int_equal(start(&x, COOKIE_SRL, 0), 0);
	struct flow *a = cookie_traffic(&x, 1, T0);
	struct flow *b = cookie_traffic(&x, 2, T0);
	uint32_t ia = flow_index(x.e.flows, a);
	uint32_t gen_a = a->gen;
	/* server 1's record on top of the free stack */
	flow_remove(x.e.flows, b);
	flow_remove(x.e.flows, a);
	flow_table_renumber(x.e.flows);
	feed_server(&x.e, 3, false, T0 + 3 * MS);
	struct flow *c = server_flow(&x, 3);
	assert_non_null(c);
	/* the record and generation server 1's cookie was made of */
	assert_int_equal(flow_index(x.e.flows, c), ia);
	assert_int_equal(c->gen, gen_a);
	feed_server(&x.e, 1, false, T0 + 4 * MS);
	assert_int_equal(c->to_pdus, 1);
	a = server_flow(&x, 1);
	assert_non_null(a);
	assert_int_equal(a->to_pdus, 1);
	stop(&x);
}

/* Everything engine_packets() and engine_packet() leave in two engines
 * fed the same packets is the same: statistics, PME figures, and each
 * flow's counters, DNS counters and RTT distribution. */
static void expect_same_engines(struct engine *a, struct engine *b)
{
	assert_memory_equal(&a->st, &b->st, sizeof a->st);
	assert_int_equal(a->n_tasks, b->n_tasks);
	for (size_t i = 0; i < a->n_tasks; i++)
		assert_memory_equal(&a->task[i].pme, &b->task[i].pme, sizeof a->task[i].pme);
	const struct flow *fa, *fb;
	uint32_t after = 0;
	size_t n = 0;
	while ((fa = flow_next_active(a->flows, after, 0))) {
		after = flow_index(a->flows, fa);
		fb = flow_by_index(b->flows, after);
		assert_non_null(fb);
		assert_true(flow_key_equal(flow_get_key(a->flows, fa), flow_get_key(b->flows, fb)));
		assert_int_equal(fa->first_ns, fb->first_ns);
		assert_int_equal(fa->last_ns, fb->last_ns);
		assert_int_equal(fa->to_octets, fb->to_octets);
		assert_int_equal(fa->to_pdus, fb->to_pdus);
		assert_int_equal(fa->from_octets, fb->from_octets);
		assert_int_equal(fa->from_pdus, fb->from_pdus);
		assert_memory_equal(&fa->dns, &fb->dns, sizeof fa->dns);
		const struct dist *da = flow_dist_peek(a->flows, fa);
		const struct dist *db = flow_dist_peek(b->flows, fb);
		assert_int_equal(da != NULL, db != NULL);
		if (da)
			assert_memory_equal(da, db, sizeof *da);
		n++;
	}
	assert_null(flow_next_active(b->flows, after, 0));
	assert_true(n > 0);
}

/* engine_packets() is engine_packet() for each packet in turn, with one
 * task (the copy without a loop over the tasks), with two, and with one
 * and an interface ignored: DNS pairing, the dynamic turnaround
 * distribution, an undecodable packet. */
static void packets_batch(void **state)
{
	(void)state;
	enum { N = 9 };
	static uint8_t udp_to[100], udp_from[300];
	static const uint8_t runt[10] = { 0x45, 0x00, 0x00, 10 };
	mk_udp(udp_to, false, sizeof udp_to);
	mk_udp(udp_from, true, sizeof udp_from);
	const uint8_t *data[N] = { dns_query, udp_to, dns_response, runt, udp_from,
				   dns_query, dns_query, dns_response, udp_to };
	const size_t len[N] = { 47, sizeof udp_to, 47, sizeof runt, sizeof udp_from,
				47, 47, 47, sizeof udp_to };
	struct pkt p[N];
	for (size_t i = 0; i < N; i++)
		p[i] = (struct pkt){
			.ts_ns = T0 + i * MS, .caplen = (uint32_t)len[i],
			.wirelen = (uint32_t)len[i], .data = data[i],
			.ifindex = i == 2 || i == 5 ? 2 : 1, .link = PKT_LINK_RAW,
		};
	static const char src[] = HEAD("53") "  save ToTurnaroundTime = 60.0.0!0 & 3.0.0!0;\n" TAIL;
	for (int run = 0; run < 3; run++) {
		int tasks = run == 1 ? 2 : 1;
		struct fx one, batch;
		struct ruleset rs7;
		compile("SET 7;\nif SourceTransType == 17 {\n  save DestPeerAddress /32;\n"
			"  count;\n}\nnomatch;\n", &rs7);
		assert_int_equal(start(&one, src, 0), 0);
		assert_int_equal(start(&batch, src, 0), 0);
		if (tasks == 2) {
			assert_int_equal(engine_add_task(&one.e, &rs7, NULL, 0, &one.d), 0);
			assert_int_equal(engine_add_task(&batch.e, &rs7, NULL, 0, &batch.d), 0);
		}
		if (run == 2) {
			assert_int_equal(engine_ignore_interface(&one.e, 2, true), 0);
			assert_int_equal(engine_ignore_interface(&batch.e, 2, true), 0);
		}
		for (size_t i = 0; i < N; i++)
			engine_packet(&one.e, &p[i]);
		/* up to the first stamped at or after p[4] */
		assert_int_equal(engine_packets(&batch.e, p, N, p[4].ts_ns), 4);
		assert_int_equal(engine_packets(&batch.e, p + 4, 0, UINT64_MAX), 0);
		assert_int_equal(engine_packets(&batch.e, p + 4, N - 4, UINT64_MAX), N - 4);
		assert_int_equal(one.e.st.packets, run == 2 ? N - 2 : N);
		assert_int_equal(one.e.st.ignored_if, run == 2 ? 2 : 0);
		assert_int_equal(one.e.st.rtt_samples, run == 2 ? 1 : 2 * tasks);
		expect_same_engines(&one.e, &batch.e);
		ruleset_free(&rs7);
		stop(&one);
		stop(&batch);
	}
}

/* engine_packets() counts the statistics of the packets between two
 * housekeeping ticks once for the run, and looks the task's set up once
 * for it: the same as engine_packet() for each packet, over many ticks,
 * with timestamps going back now and then (LastTime is the latest),
 * undecodable packets, batches of every size and cut by before_ns, and a
 * tick's housekeeping that matters (in a table of 64 flows: flood mode,
 * or a standby set above a high-water mark and back; idle flows
 * recovered by the tick's garbage collection, which reads st.last_ns). */
static void packets_batch_ticks(void **state)
{
	(void)state;
	enum { N = 700, LEN = 60, RUNT = 10, SERVERS = 97, HIGH_WATER = 50 };
	static uint8_t data[N][LEN];
	struct pkt p[N];
	uint64_t ts = T0;
	for (size_t i = 0; i < N; i++) {
		bool runt = i % 23 == 5;
		mk_udp(data[i], false, LEN);
		data[i][19] = (uint8_t)(i % SERVERS);       /* the server */
		if (runt)
			data[i][3] = RUNT;                  /* IP length below the header */
		ts = i % 11 == 7 ? ts - 3 * MS : ts + MS;
		p[i] = (struct pkt){
			.ts_ns = ts, .caplen = LEN, .wirelen = LEN + (uint32_t)(i % 5),
			.data = data[i], .ifindex = 1, .link = PKT_LINK_RAW,
		};
	}
	for (int standby = 0; standby < 2; standby++) {
		struct fx one, batch;
		struct fx *x[2] = { &one, &batch };
		struct ruleset rs8[2];
		for (int k = 0; k < 2; k++) {
			memset(x[k], 0, sizeof *x[k]);
			diag_init(&x[k]->d, "test");
			compile("SET 7;\nif SourceTransType == 17 {\n  save DestPeerAddress /32;\n"
				"  count;\n}\nnomatch;\n", &x[k]->rs);
			/* the standby set: one flow for every server */
			compile("SET 8;\nif SourceTransType == 17 {\n  save DestTransAddress;\n"
				"  count;\n}\nnomatch;\n", &rs8[k]);
			struct engine_config c;
			engine_config_default(&c);
			c.max_flows = 64;
			c.inactivity_ns = 40 * MS;
			assert_int_equal(engine_init(&x[k]->e, &c, &x[k]->d), 0);
			assert_int_equal(engine_add_task(&x[k]->e, &x[k]->rs,
							 standby ? &rs8[k] : NULL,
							 standby ? HIGH_WATER : 0, &x[k]->d), 0);
			/* everything counted so far is collected: idle flows may go */
			engine_collect_point(&x[k]->e, T0, UINT64_MAX);
		}
		for (size_t i = 0; i < N; i++)
			engine_packet(&one.e, &p[i]);
		size_t i = 0, size = 1;
		while (i < N) {
			size_t n = N - i < size ? N - i : size;
			/* every third batch ends early, at the first packet
			 * stamped at or after its last one's time */
			uint64_t before = size % 3 == 0 ? p[i + n - 1].ts_ns : UINT64_MAX;
			size_t took = engine_packets(&batch.e, p + i, n, before);
			assert_true(took <= n);
			if (took < n)
				assert_true(p[i + took].ts_ns >= before);
			if (took == 0)
				engine_packet(&batch.e, &p[i++]);   /* as offline.c does */
			i += took;
			size = size % 67 + 1;
		}
		assert_int_equal(one.e.st.packets, N);
		assert_true(one.e.st.bad[PKT_OK] < N);
		if (standby) {
			/* to the standby set and back, more than once */
			assert_true(one.e.task[0].standby_switches > 1);
		} else {
			assert_true(one.e.st.flood_entries > 0);
			assert_true(one.e.st.flood_refused > 0);
		}
		assert_int_equal(one.e.task[0].standby_switches,
				 batch.e.task[0].standby_switches);
		assert_int_equal(one.e.task[0].running_standby, batch.e.task[0].running_standby);
		struct flow_stats fs;
		flow_table_stats(one.e.flows, &fs);
		assert_true(fs.recovered > 0);
		expect_same_engines(&one.e, &batch.e);
		for (int k = 0; k < 2; k++) {
			stop(x[k]);
			ruleset_free(&rs8[k]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(packet_size),
		cmocka_unit_test(interarrival),
		cmocka_unit_test(turnaround_packets),
		cmocka_unit_test(turnaround_dns),
		cmocka_unit_test(rates),
		cmocka_unit_test(rate_interval_parameter),
		cmocka_unit_test(pool_bounds_and_recovery),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(dynamic_and_static),
		cmocka_unit_test(task_slots),
		cmocka_unit_test(task_stop_loses_pending),
		cmocka_unit_test(interface_ignored),
		cmocka_unit_test(gc_per_ruleset),
		cmocka_unit_test(packets_batch),
		cmocka_unit_test(packets_batch_ticks),
		cmocka_unit_test(cookie_gc_reuse),
		cmocka_unit_test(cookie_idle_and_removed),
		cmocka_unit_test(cookie_reload),
		cmocka_unit_test(cookie_flood),
		cmocka_unit_test(cookie_renumbered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
