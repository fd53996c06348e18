/* test_statdist — RFC 2724 static distributions per flow: rule scanning
 * (literal rule bytes), the pool, and the sampling rules of statdist.h on
 * hand-made flow records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "diag.h"
#include "rule.h"
#include "statdist.h"

#define US  1000ull
#define MS  1000000ull
#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

/* rule: attr & mask = value: op, with 6 parameter bytes */
static void add(struct ruleset *rs, unsigned attr, unsigned op,
		const uint8_t mask[6], const uint8_t value[6])
{
	struct rule r;
	memset(&r, 0, sizeof r);
	r.attr = (uint16_t)attr;
	r.len = 6;
	r.op = (uint8_t)op;
	memcpy(r.mask, mask, 6);
	memcpy(r.value, value, 6);
	assert_int_equal(ruleset_add_rule(rs, &r, NULL), 0);
}

/* RFC 2724 §3's examples, as rule bytes */
static const uint8_t m_size[6] = { 1, 0, 0, 25, 0x05, 0xdc };      /* 1.0.25!1500 */
static const uint8_t v_size[6] = { 60, 0, 0, 0, 0, 0 };            /* 60.0!0 */
static const uint8_t m_ia[6]   = { 2, 3, 0, 1, 0x07, 0x08 };       /* 2.3.1!1800 */
static const uint8_t v_ia[6]   = { 60, 0, 0, 0, 0, 0 };
static const uint8_t m_rate[6] = { 2, 3, 0, 1, 0x27, 0x10 };       /* 2.3.1!10000 */
static const uint8_t v_rate[6] = { 60, 5, 0, 0, 0, 0 };            /* 60.5.0!0 */
static const uint8_t m_dyn[6]  = { 3, 0, 0, 0, 0, 0 };

static void rules_scan(void **state)
{
	(void)state;
	struct ruleset rs;
	ruleset_init(&rs);
	struct diag d;
	diag_init(&d, "t");
	struct rule nul = { .attr = ATTR_NULL, .len = 1, .op = RULE_GOTO_ACT, .param = 3 };
	assert_int_equal(ruleset_add_rule(&rs, &nul, NULL), 0);
	add(&rs, ATTR_FROM_PACKET_SIZE, RULE_PUSH_PKT_TO_ACT, m_size, v_size);  /* rule 2 */
	add(&rs, ATTR_TO_INTERARRIVAL_TIME, RULE_PUSH_PKT_TO, m_ia, v_ia);      /* 3 */
	add(&rs, ATTR_FROM_BIT_RATE, RULE_PUSH_PKT_TO_ACT, m_rate, v_rate);     /* 4 */
	add(&rs, ATTR_TO_TURNAROUND_TIME, RULE_PUSH_PKT_TO_ACT, m_dyn, v_size); /* 5 */
	add(&rs, ATTR_FROM_PACKET_SIZE, RULE_PUSH_PKT_TO_ACT, m_size, v_size);  /* same again */
	struct statdist_rules *r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(statdist_rules_init(r, &rs, &d), 0);
	assert_int_equal(r->present, (1u << 1) | (1u << 2) | (1u << 7));
	assert_true(r->dynamic_rtt);
	assert_int_equal(r->rule[1], 2);
	assert_int_equal(r->rule[7], 4);
	const struct dist_static_spec *s = &r->spec[7];
	assert_int_equal(s->transform, 2);
	assert_int_equal(s->scale, 3);
	assert_int_equal(s->lower, 1);
	assert_int_equal(s->upper, 10000);
	assert_int_equal(s->buckets, 60);
	assert_int_equal(s->param1, 5);
	assert_int_equal(r->spec[1].upper, 1500);

	/* the same attribute with other parameters: an error naming both */
	uint8_t v_other[6] = { 30, 0, 0, 0, 0, 0 };
	add(&rs, ATTR_FROM_PACKET_SIZE, RULE_PUSH_PKT_TO_ACT, m_size, v_other); /* 7 */
	assert_int_equal(statdist_rules_init(r, &rs, &d), -1);
	assert_non_null(strstr(d.msgs[d.n - 1].text, "rule 7"));
	assert_non_null(strstr(d.msgs[d.n - 1].text, "rule 2"));
	free(r);
	diag_free(&d);
	ruleset_free(&rs);
}

static void rules_errors(void **state)
{
	(void)state;
	static const struct { unsigned attr; uint8_t m[6], v[6]; const char *why; } bad[] = {
		{ ATTR_TO_BIT_RATE, { 1, 0, 0, 1, 0, 10 }, { 10, 0 }, "rate interval" },
		{ ATTR_TO_PACKET_SIZE, { 4, 0, 0, 1, 0, 10 }, { 10, 0 }, "transform" },
		{ ATTR_TO_PACKET_SIZE, { 1, 0, 0, 1, 0, 10 }, { 0, 0 }, "buckets" },
		{ ATTR_TO_PACKET_SIZE, { 2, 0, 0, 0, 0, 10 }, { 10, 0 }, "lower limit above 0" },
		{ ATTR_FROM_TURNAROUND_TIME, { 3, 0, 0, 0, 0, 0 }, { 60, 0 }, "transform 3" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ruleset rs;
		ruleset_init(&rs);
		struct diag d;
		diag_init(&d, "t");
		add(&rs, bad[i].attr, RULE_PUSH_PKT_TO_ACT, bad[i].m, bad[i].v);
		struct statdist_rules *r = malloc(sizeof *r);
		assert_non_null(r);
		assert_int_equal(statdist_rules_init(r, &rs, &d), -1);
		assert_int_equal(d.n, 1);
		assert_non_null(strstr(d.msgs[0].text, "rule 1: "));
		if (!strstr(d.msgs[0].text, bad[i].why))
			print_error("case %zu: %s\n", i, d.msgs[0].text);
		assert_non_null(strstr(d.msgs[0].text, bad[i].why));
		free(r);
		diag_free(&d);
		ruleset_free(&rs);
	}
}

/* A linear spec 1..10, scale 0: bucket i holds (i, i + 1], 0 in bucket 0. */
static struct statdist_rules *lin_rules(uint32_t bits, uint8_t param1)
{
	struct statdist_rules *r = calloc(1, sizeof *r);
	assert_non_null(r);
	const uint8_t m[6] = { 1, 0, 0, 1, 0, 10 };
	const uint8_t v[6] = { 10, param1, 0, 0, 0, 0 };
	for (unsigned k = 0; k < STATDIST_N; k++)
		if (bits & (1u << k)) {
			assert_int_equal(dist_static_spec_init(&r->spec[k], m, v, NULL), 0);
			r->present |= (uint16_t)(1u << k);
		}
	return r;
}

/* A packet into flow record f (as flow_account would count it), then
 * statdist_packet. */
static void pkt(struct statdist_pool *p, struct flow *f, bool from, uint32_t octets,
		uint64_t ts, bool dns)
{
	if (from) { f->from_octets += octets; f->from_pdus++; }
	else      { f->to_octets += octets;   f->to_pdus++; }
	statdist_packet(p, 1, f, from, octets, ts, dns);
}

static void pool_and_samples(void **state)
{
	(void)state;
	struct statdist_pool *p = statdist_pool_create(4, 3);
	assert_non_null(p);
	struct statdist_rules *r = lin_rules(0x3ff, 1);
	uint32_t turn = statdist_bit(ATTR_TO_TURNAROUND_TIME) | statdist_bit(ATTR_FROM_TURNAROUND_TIME);
	/* 3 entries: ToPacketSize, ToTurnaround, FromTurnaround; the 4th
	 * (ToPDURate) refused, and not refused twice */
	assert_int_equal(statdist_request(p, 1, r, statdist_bit(ATTR_TO_PACKET_SIZE) | turn), 0);
	assert_int_equal(statdist_request(p, 1, r, statdist_bit(ATTR_TO_PDU_RATE)),
			 statdist_bit(ATTR_TO_PDU_RATE));
	assert_int_equal(statdist_request(p, 1, r, statdist_bit(ATTR_TO_PDU_RATE)), 0);
	struct statdist_stats st;
	statdist_stats(p, &st);
	assert_int_equal(st.used, 3);
	assert_int_equal(st.refused, 1);
	assert_int_equal(statdist_have(p, 1), (1u << 0) | (1u << 4) | (1u << 5));
	assert_int_equal(statdist_have(p, 2), 0);
	assert_null(statdist_get(p, 1, ATTR_TO_PDU_RATE));
	assert_null(statdist_get(p, 0, ATTR_TO_PACKET_SIZE));    /* no index 0 */
	assert_null(statdist_get(p, 5, ATTR_TO_PACKET_SIZE));    /* beyond */

	struct flow f;
	memset(&f, 0, sizeof f);
	pkt(p, &f, false, 5, T0, false);                  /* size 5: bucket 4 */
	pkt(p, &f, true, 40, T0 + 3 * US, false);         /* To->From 3 µs: bucket 2 */
	pkt(p, &f, false, 7, T0 + 10 * US, true);         /* DNS traffic: no rule */
	pkt(p, &f, true, 40, T0 + 20 * US, false);        /* To->From 10 µs: bucket 9 */
	pkt(p, &f, false, 1, T0 + 21 * US, false);        /* From->To 1 µs: bucket 0 */
	statdist_dns_rtt(p, 1, 11);                       /* overflow */
	const struct dist_static *sz = statdist_get(p, 1, ATTR_TO_PACKET_SIZE);
	const struct dist_static *to = statdist_get(p, 1, ATTR_TO_TURNAROUND_TIME);
	const struct dist_static *fr = statdist_get(p, 1, ATTR_FROM_TURNAROUND_TIME);
	assert_int_equal(sz->n, 3);
	assert_int_equal(sz->counts[4], 1);
	assert_int_equal(sz->counts[6], 1);
	assert_int_equal(sz->counts[0], 1);
	assert_int_equal(to->n, 3);
	assert_int_equal(to->counts[2], 1);
	assert_int_equal(to->counts[9], 1);
	assert_int_equal(to->counts[10], 1);
	assert_int_equal(fr->n, 1);
	assert_int_equal(fr->counts[0], 1);

	/* recovery returns every entry; the record starts afresh */
	statdist_release(p, 1);
	statdist_stats(p, &st);
	assert_int_equal(st.used, 0);
	assert_int_equal(statdist_have(p, 1), 0);
	assert_null(statdist_rules_of(p, 1));
	assert_int_equal(statdist_request(p, 1, r, statdist_bit(ATTR_TO_PDU_RATE)), 0);
	free(r);
	statdist_pool_free(p);
}

/* Bit rate with Parameter-1 = 2 s: octets × 8 / 2, empty intervals 0. */
static void bit_rate(void **state)
{
	(void)state;
	struct statdist_pool *p = statdist_pool_create(1, 2);
	assert_non_null(p);
	struct statdist_rules *r = lin_rules(statdist_bit(ATTR_FROM_BIT_RATE), 2);
	assert_int_equal(statdist_request(p, 1, r, statdist_bit(ATTR_FROM_BIT_RATE)), 0);
	struct flow f;
	memset(&f, 0, sizeof f);
	pkt(p, &f, true, 1, T0, false);                   /* opens [0, 2) */
	pkt(p, &f, false, 100, T0 + 1 * SEC, false);      /* To: not counted */
	pkt(p, &f, true, 1, T0 + 1999 * MS, false);
	const struct dist_static *d = statdist_get(p, 1, ATTR_FROM_BIT_RATE);
	assert_int_equal(d->n, 0);
	pkt(p, &f, true, 1, T0 + 8 * SEC, false);         /* [0,2): 2 octets = 8 bit/s; [2,4) [4,6) [6,8): 0 */
	assert_int_equal(d->n, 4);
	assert_int_equal(d->counts[7], 1);                /* 8: (7, 8] */
	assert_int_equal(d->counts[0], 3);
	pkt(p, &f, true, 1, T0 + 10 * SEC, false);        /* [8,10): 1 octet = 4 bit/s */
	assert_int_equal(d->n, 5);
	assert_int_equal(d->counts[3], 1);
	free(r);
	statdist_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rules_scan),
		cmocka_unit_test(rules_errors),
		cmocka_unit_test(pool_and_samples),
		cmocka_unit_test(bit_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
