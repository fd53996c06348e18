/*
 * test_pme — the Packet Matching Engine: NeTraMet's rules.two-ip-groups
 * fixture (digest B.6) with every expected outcome, one test per action,
 * the special attributes, run-time errors and load-time refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "diag.h"
#include "flowkey.h"
#include "packet.h"
#include "pme.h"
#include "rule.h"

/* ---- building rules and packets ------------------------------------- */

#define B(...) ((const uint8_t[]){ __VA_ARGS__ })

static struct rule mk(unsigned attr, unsigned op, unsigned param, unsigned len,
		      const uint8_t *mask, const uint8_t *value)
{
	struct rule r;
	memset(&r, 0, sizeof r);
	r.attr = (uint16_t)attr;
	r.op = (uint8_t)op;
	r.param = param;
	r.len = (uint8_t)len;
	if (len) {
		memcpy(r.mask, mask, len);
		memcpy(r.value, value, len);
	}
	return r;
}

/* Null & 0 = 0: op, param */
#define RN(op, param) mk(ATTR_NULL, op, param, 0, NULL, NULL)
/* one-byte attribute */
#define R1(attr, m, v, op, param) mk(attr, op, param, 1, B(m), B(v))
/* two-byte attribute, big-endian */
#define R2(attr, m, v, op, param) \
	mk(attr, op, param, 2, B((m) >> 8 & 0xff, (m) & 0xff), B((v) >> 8 & 0xff, (v) & 0xff))
/* IPv4 peer address, mask and value as 32-bit numbers */
#define BE4(x) B((x) >> 24 & 0xff, (x) >> 16 & 0xff, (x) >> 8 & 0xff, (x) & 0xff)
#define R4(attr, m, v, op, param) mk(attr, op, param, 4, BE4(m), BE4(v))
/* vN & 0 = held: Assign(Act), param */
#define RA(var, held, op, param) mk(var, op, param, 2, B(0, 0), B((held) >> 8, (held) & 0xff))

#define NRULES(a) (sizeof (a) / sizeof (a)[0])

static struct pme_program *load(const struct rule *rules, size_t n, unsigned set,
				struct diag *d)
{
	struct ruleset rs;
	ruleset_init(&rs);
	rs.set = set;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ruleset_add_rule(&rs, &rules[i], NULL), 0);
	struct pme_program *p = pme_load(&rs, d);
	ruleset_free(&rs);
	return p;
}

static struct pme_program *load_ok(const struct rule *rules, size_t n, unsigned set)
{
	struct diag d;
	diag_init(&d, "test");
	struct pme_program *p = load(rules, n, set, &d);
	if (!p)
		diag_print(&d, stderr);
	assert_non_null(p);
	assert_int_equal(d.errors, 0);
	diag_free(&d);
	return p;
}

/* The load fails and some error message contains `want`. */
static void load_fails(const struct rule *rules, size_t n, const char *want)
{
	struct diag d;
	diag_init(&d, "test");
	struct pme_program *p = load(rules, n, 1, &d);
	assert_null(p);
	assert_true(d.errors > 0);
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		if (strstr(d.msgs[i].text, want))
			found = true;
	if (!found)
		diag_print(&d, stderr);
	assert_true(found);
	diag_free(&d);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct pkt_info ip4(uint32_t src, uint32_t dst, uint8_t proto,
			   uint16_t sport, uint16_t dport)
{
	struct pkt_info p;
	memset(&p, 0, sizeof p);
	p.ifindex = 3;
	p.wirelen = 100;
	p.has_mac = true;
	memcpy(p.mac[0], B(0x00, 0x60, 0x3e, 0x10, 0xe0, 0xa1), 6);
	memcpy(p.mac[1], B(0x02, 0x00, 0x00, 0x00, 0x00, 0x02), 6);
	p.ip_version = 4;
	p.peer_type = 1;
	for (int i = 0; i < 4; i++) {
		p.addr[0][i] = (uint8_t)(src >> (24 - 8 * i));
		p.addr[1][i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p.proto = proto;
	p.has_ports = proto == 6 || proto == 17;
	p.port[0] = sport;
	p.port[1] = dport;
	return p;
}

static void assert_key(const struct flow_key *k, unsigned set,
		       const uint8_t *want, size_t n)
{
	assert_int_equal(k->ruleset, set);
	assert_int_equal(k->len, n);
	if (n)
		assert_memory_equal(k->data, want, n);
}

/* ---- rules.two-ip-groups (NeTraMet 4.4 example, renumbered) ---------- */

#define UA_NET  IP(130, 216, 0, 0)
#define AIT_NET IP(156, 62, 0, 0)
#define M16     IP(255, 255, 0, 0)
#define SET_TWO 5

static struct pme_program *two_ip_groups(void)
{
	const struct rule r[] = {
		/*  1 */ R1(ATTR_SOURCE_PEER_TYPE, 255, 1, RULE_PUSH_RULE_TO_ACT, 3),
		/*  2 */ RN(RULE_IGNORE, 0),
		/*  3 ip_pkt */ RA(ATTR_V1, ATTR_SOURCE_PEER_ADDRESS, RULE_ASSIGN_ACT, 4),
		/*  4 */ RN(RULE_GOSUB, 19),
		/*  5 */ RN(RULE_GOTO_ACT, 8),        /* return 1: ua */
		/*  6 */ RN(RULE_GOTO_ACT, 13),       /* return 2: ait */
		/*  7 */ RN(RULE_NOMATCH, 0),         /* return 3: other */
		/*  8 from_ua */ RA(ATTR_V1, ATTR_DEST_PEER_ADDRESS, RULE_ASSIGN_ACT, 9),
		/*  9 */ RN(RULE_GOSUB, 19),
		/* 10 */ RN(RULE_IGNORE, 0),          /* ua -> ua */
		/* 11 */ RN(RULE_GOTO_ACT, 18),       /* ua -> ait */
		/* 12 */ RN(RULE_GOTO_ACT, 18),       /* ua -> other */
		/* 13 from_ait */ RA(ATTR_V1, ATTR_DEST_PEER_ADDRESS, RULE_ASSIGN_ACT, 14),
		/* 14 */ RN(RULE_GOSUB, 19),
		/* 15 */ RN(RULE_NOMATCH, 0),         /* ait -> ua: retry */
		/* 16 */ RN(RULE_IGNORE, 0),          /* ait -> ait */
		/* 17 */ RN(RULE_GOTO_ACT, 18),       /* ait -> other */
		/* 18 ok_pkt */ RN(RULE_COUNT, 0),
		/* 19 classify */ R4(ATTR_V1, M16, UA_NET, RULE_GOTO_ACT, 22),
		/* 20 */ R4(ATTR_V1, M16, AIT_NET, RULE_GOTO_ACT, 24),
		/* 21 */ RN(RULE_RETURN, 3),
		/* 22 ua */ R4(ATTR_V1, M16, 0, RULE_PUSH_PKT_TO_ACT, 23),
		/* 23 */ RN(RULE_RETURN, 1),
		/* 24 ait */ R4(ATTR_V1, M16, 0, RULE_PUSH_PKT_TO_ACT, 25),
		/* 25 */ RN(RULE_RETURN, 2),
	};
	_Static_assert(NRULES(r) == 25, "25 rules");
	return load_ok(r, NRULES(r), SET_TWO);
}

/* {SourcePeerType=1, SourcePeerAddress=130.216/16, DestPeerAddress=156.62/16} */
static const uint8_t KEY_UA_AIT[] = {
	0x00, 0x08, 1, 0xff, 0x01,
	0x00, 0x09, 4, 0xff, 0xff, 0x00, 0x00, 130, 216, 0, 0,
	0x00, 0x13, 4, 0xff, 0xff, 0x00, 0x00, 156, 62, 0, 0,
};
/* {SourcePeerType=1, SourcePeerAddress=130.216/16} */
static const uint8_t KEY_UA_OTHER[] = {
	0x00, 0x08, 1, 0xff, 0x01,
	0x00, 0x09, 4, 0xff, 0xff, 0x00, 0x00, 130, 216, 0, 0,
};

static void fixture_non_ip(void **state)
{
	(void)state;
	struct pme_program *p = two_ip_groups();
	struct pkt_info pkt;
	memset(&pkt, 0, sizeof pkt);           /* e.g. ARP: no peer type */
	pkt.has_mac = true;
	struct pme_match m;
	bool rev = true;
	assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), PME_IGNORE);
	assert_false(rev);
	assert_int_equal(m.rule, 2);
	assert_int_equal(m.errors, 0);
	pme_free(p);
}

static void fixture_ua_to_ait(void **state)
{
	(void)state;
	struct pme_program *p = two_ip_groups();
	struct pkt_info pkt = ip4(IP(130, 216, 7, 9), IP(156, 62, 3, 4), 17, 1025, 53);
	struct pme_match m;
	bool rev = true;
	assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), PME_COUNT);
	assert_false(rev);
	assert_int_equal(m.rule, 18);
	assert_int_equal(m.errors, 0);
	assert_int_equal(m.n_dist, 0);
	assert_key(&m.key, SET_TWO, KEY_UA_AIT, sizeof KEY_UA_AIT);
	pme_free(p);
}

static void fixture_ait_to_ua(void **state)
{
	(void)state;
	struct pme_program *p = two_ip_groups();
	struct pkt_info pkt = ip4(IP(156, 62, 3, 4), IP(130, 216, 7, 9), 17, 53, 1025);
	struct pme_match m;
	/* wire order: two items pushed, then rule 15 NoMatch */
	assert_int_equal(pme_match(p, &pkt, false, &m), PME_NOMATCH);
	assert_int_equal(m.rule, 15);
	assert_int_equal(m.errors, 0);
	/* the retry starts from an empty queue: the same key as UA -> AIT */
	bool rev = false;
	assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), PME_COUNT);
	assert_true(rev);
	assert_int_equal(m.rule, 18);
	assert_key(&m.key, SET_TWO, KEY_UA_AIT, sizeof KEY_UA_AIT);
	pme_free(p);
}

static void fixture_ua_to_other(void **state)
{
	(void)state;
	struct pme_program *p = two_ip_groups();
	struct pkt_info pkt = ip4(IP(130, 216, 1, 1), IP(8, 8, 8, 8), 6, 40000, 80);
	struct pme_match m;
	bool rev = true;
	assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), PME_COUNT);
	assert_false(rev);
	assert_int_equal(m.rule, 18);
	assert_key(&m.key, SET_TWO, KEY_UA_OTHER, sizeof KEY_UA_OTHER);
	pme_free(p);
}

static void fixture_other_to_ua(void **state)
{
	(void)state;
	struct pme_program *p = two_ip_groups();
	struct pkt_info pkt = ip4(IP(8, 8, 8, 8), IP(130, 216, 200, 1), 6, 80, 40000);
	struct pme_match m;
	assert_int_equal(pme_match(p, &pkt, false, &m), PME_NOMATCH);
	assert_int_equal(m.rule, 7);              /* Return 3 -> rule 4 + 3 */
	bool rev = false;
	assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), PME_COUNT);
	assert_true(rev);
	assert_key(&m.key, SET_TWO, KEY_UA_OTHER, sizeof KEY_UA_OTHER);
	pme_free(p);
}

static void fixture_ua_to_ua(void **state)
{
	(void)state;
	struct pme_program *p = two_ip_groups();
	struct pkt_info pkt = ip4(IP(130, 216, 1, 1), IP(130, 216, 2, 2), 17, 53, 53);
	struct pme_match m;
	bool rev = true;
	assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), PME_IGNORE);
	assert_false(rev);                        /* no retry after Ignore */
	assert_int_equal(m.rule, 10);
	pme_free(p);
}

static void fixture_other_to_other(void **state)
{
	(void)state;
	struct pme_program *p = two_ip_groups();
	struct pkt_info pkt = ip4(IP(10, 0, 0, 1), IP(192, 168, 1, 1), 17, 53, 53);
	struct pme_match m;
	bool rev = false;
	assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), PME_NOMATCH);
	assert_true(rev);
	assert_int_equal(m.rule, 7);
	assert_int_equal(m.errors, 0);
	/* AIT -> AIT is ignored at rule 16 */
	pkt = ip4(IP(156, 62, 1, 1), IP(156, 62, 2, 2), 17, 53, 53);
	assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), PME_IGNORE);
	assert_int_equal(m.rule, 16);
	pme_free(p);
}

/* ---- one test per action --------------------------------------------- */

static const struct pkt_info *udp_pkt(void)
{
	static struct pkt_info pkt;
	pkt = ip4(IP(130, 216, 7, 9), IP(156, 62, 3, 4), 17, 1027, 53);
	return &pkt;
}

static void action_ignore_nomatch(void **state)
{
	(void)state;
	struct pme_match m;
	bool rev;
	const struct rule ign[] = { RN(RULE_IGNORE, 0) };
	struct pme_program *p = load_ok(ign, 1, 1);
	assert_int_equal(pme_classify(p, NULL, udp_pkt(), &m, &rev), PME_IGNORE);
	assert_false(rev);
	assert_int_equal(m.rule, 1);
	pme_free(p);

	const struct rule nom[] = { RN(RULE_NOMATCH, 0) };
	p = load_ok(nom, 1, 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	assert_int_equal(m.rule, 1);
	assert_int_equal(pme_classify(p, NULL, udp_pkt(), &m, &rev), PME_NOMATCH);
	assert_true(rev);
	assert_int_equal(m.errors, 0);
	pme_free(p);

	/* a failed last test runs off the end: NoMatch, not an error */
	const struct rule off[] = { R1(ATTR_SOURCE_PEER_TYPE, 255, 2, RULE_IGNORE, 0) };
	p = load_ok(off, 1, 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	assert_int_equal(m.rule, 0);
	assert_int_equal(m.errors, 0);
	pme_free(p);
}

static void action_count(void **state)
{
	(void)state;
	struct pme_match m;
	/* the rule's own (attr, mask, value) is pushed; a failed test falls
	 * through to the next rule */
	const struct rule r[] = {
		R1(ATTR_SOURCE_TRANS_TYPE, 255, 6, RULE_COUNT, 0),
		R1(ATTR_SOURCE_TRANS_TYPE, 0xf0, 0x10, RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 9);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.rule, 2);
	assert_key(&m.key, 9, B(0x00, 0x0b, 1, 0xf0, 0x10), 5);
	pme_free(p);
}

static void action_count_pkt(void **state)
{
	(void)state;
	struct pme_match m;
	/* CountPkt pushes the packet's value under the rule's mask */
	const struct rule r[] = {
		RN(RULE_GOTO_ACT, 2),
		R4(ATTR_SOURCE_PEER_ADDRESS, IP(255, 255, 255, 0), 0, RULE_COUNT_PKT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x09, 4, 255, 255, 255, 0, 130, 216, 7, 0), 11);
	/* the same rule with Count pushes the rule's value (0) instead */
	struct rule r2[2] = { r[0], r[1] };
	r2[1].op = RULE_COUNT;
	pme_free(p);
	p = load_ok(r2, 2, 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x09, 4, 255, 255, 255, 0, 0, 0, 0, 0), 11);
	pme_free(p);
}

static void action_gosub_return(void **state)
{
	(void)state;
	struct pme_match m;
	/* Return n goes to the Gosub's rule number + n with the test
	 * indicator cleared: rule 3's FlowKind test (which would fail) is
	 * skipped and its push runs */
	const struct rule r[] = {
		/* 1 */ RN(RULE_GOSUB, 6),
		/* 2 */ RN(RULE_IGNORE, 0),
		/* 3 */ R1(ATTR_FLOW_KIND, 255, 3, RULE_PUSH_RULE_TO_ACT, 5),
		/* 4 */ RN(RULE_IGNORE, 0),
		/* 5 */ RN(RULE_COUNT, 0),
		/* 6 */ RN(RULE_RETURN, 2),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.rule, 5);
	assert_key(&m.key, 1, B(0x00, 0x29, 1, 0xff, 3), 5);
	pme_free(p);
}

static void action_gosub_nested(void **state)
{
	(void)state;
	struct pme_match m;
	const struct rule r[] = {
		/* 1 */ RN(RULE_GOSUB, 4),
		/* 2 */ RN(RULE_COUNT, 0),                  /* outer return 1 */
		/* 3 */ RN(RULE_IGNORE, 0),
		/* 4 */ RN(RULE_GOSUB, 8),                  /* sub A */
		/* 5 */ RN(RULE_IGNORE, 0),                 /* inner return 1 */
		/* 6 */ R1(ATTR_FLOW_CLASS, 255, 7, RULE_PUSH_RULE_TO_ACT, 7), /* return 2 */
		/* 7 */ RN(RULE_RETURN, 1),                 /* -> 1 + 1 */
		/* 8 */ R1(ATTR_SOURCE_PEER_TYPE, 255, 1, RULE_RETURN, 2), /* sub B: -> 4 + 2 */
		/* 9 */ RN(RULE_RETURN, 1),                 /* -> 4 + 1 */
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.rule, 2);
	assert_key(&m.key, 1, B(0x00, 0x26, 1, 0xff, 7), 5);
	/* not IP: sub B returns 1 -> rule 5 Ignore */
	struct pkt_info other;
	memset(&other, 0, sizeof other);
	assert_int_equal(pme_match(p, &other, false, &m), PME_IGNORE);
	assert_int_equal(m.rule, 5);
	pme_free(p);
}

static void action_gosub_act(void **state)
{
	(void)state;
	struct pme_match m;
	/* GosubAct: the subroutine's first rule runs untested (pushes a
	 * peer type of 99 although the packet's is 1); with Gosub the test
	 * runs, fails, and the subroutine returns with nothing pushed */
	struct rule r[] = {
		/* 1 */ RN(RULE_GOSUB_ACT, 3),
		/* 2 */ RN(RULE_COUNT, 0),
		/* 3 */ R1(ATTR_SOURCE_PEER_TYPE, 255, 99, RULE_PUSH_RULE_TO, 4),
		/* 4 */ RN(RULE_RETURN, 1),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x08, 1, 0xff, 99), 5);
	pme_free(p);
	r[0].op = RULE_GOSUB;
	p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_key(&m.key, 1, NULL, 0);
	pme_free(p);
}

static void action_assign_variable(void **state)
{
	(void)state;
	struct pme_match m;
	/* Assign: v1 := DestTransAddress (from the value field, param is
	 * the goto target).  Its own test always succeeds, and it leaves
	 * the test indicator set, so rule 2 tests DestTransAddress. */
	struct rule r[] = {
		/* 1 */ RA(ATTR_V1, ATTR_DEST_TRANS_ADDRESS, RULE_ASSIGN, 2),
		/* 2 */ R2(ATTR_V1, 0xffff, 53, RULE_PUSH_PKT_TO, 4),
		/* 3 */ RN(RULE_IGNORE, 0),
		/* 4 */ RN(RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	/* the key names the attribute v1 held, not v1 */
	assert_key(&m.key, 1, B(0x00, 0x16, 2, 0xff, 0xff, 0x00, 53), 7);
	/* reversed, DestTransAddress is the wire source port 1027 */
	assert_int_equal(pme_match(p, udp_pkt(), true, &m), PME_IGNORE);
	assert_int_equal(m.rule, 3);
	pme_free(p);

	/* AssignAct: rule 2 runs untested and pushes the packet's port */
	r[0].op = RULE_ASSIGN_ACT;
	p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), true, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x16, 2, 0xff, 0xff, 0x04, 0x03), 7);
	pme_free(p);
}

static void action_variable_unset(void **state)
{
	(void)state;
	struct pme_match m;
	const struct rule r[] = {
		R2(ATTR_V2, 0xffff, 53, RULE_GOTO, 2),
		RN(RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	assert_int_equal(m.errors, 1u << PME_ERR_VARIABLE);
	assert_int_equal(m.rule, 1);
	struct pme_stats st;
	memset(&st, 0, sizeof st);
	bool rev;
	enum pme_result res = pme_classify(p, NULL, udp_pkt(), &m, &rev);
	pme_stats_add(&st, res, rev, &m);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.nomatch, 1);
	assert_int_equal(st.errors[PME_ERR_VARIABLE], 1);
	assert_int_equal(st.errors[PME_ERR_STEPS], 0);
	pme_free(p);
}

static void action_goto(void **state)
{
	(void)state;
	struct pme_match m;
	/* after Goto rule 3 tests (type 2 fails -> NoMatch at 4); after
	 * GotoAct it runs untested and counts */
	struct rule r[] = {
		/* 1 */ RN(RULE_GOTO, 3),
		/* 2 */ RN(RULE_IGNORE, 0),
		/* 3 */ R1(ATTR_SOURCE_PEER_TYPE, 255, 2, RULE_COUNT, 0),
		/* 4 */ RN(RULE_NOMATCH, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	assert_int_equal(m.rule, 4);
	pme_free(p);
	r[0].op = RULE_GOTO_ACT;
	p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.rule, 3);
	assert_key(&m.key, 1, B(0x00, 0x08, 1, 0xff, 2), 5);
	pme_free(p);
}

static void action_push_rule_to(void **state)
{
	(void)state;
	struct pme_match m;
	struct rule r[] = {
		/* 1 */ R1(ATTR_SOURCE_PEER_TYPE, 255, 1, RULE_PUSH_RULE_TO, 2),
		/* 2 */ R1(ATTR_SOURCE_TRANS_TYPE, 255, 6, RULE_COUNT, 0),
		/* 3 */ RN(RULE_IGNORE, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	/* UDP: rule 2 tests TCP and fails */
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_IGNORE);
	struct pkt_info tcp = ip4(IP(1, 2, 3, 4), IP(5, 6, 7, 8), 6, 1, 2);
	assert_int_equal(pme_match(p, &tcp, false, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x08, 1, 0xff, 1, 0x00, 0x0b, 1, 0xff, 6), 10);
	pme_free(p);
	/* PushRuleToAct: rule 2 runs untested */
	r[0].op = RULE_PUSH_RULE_TO_ACT;
	p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x08, 1, 0xff, 1, 0x00, 0x0b, 1, 0xff, 6), 10);
	pme_free(p);
}

static void action_push_pkt_to(void **state)
{
	(void)state;
	struct pme_match m;
	/* PushPktTo with a test: source port 1027 & 0xff00 == 0x0400, pushes
	 * the packet's masked value; test stays set for rule 2 */
	struct rule r[] = {
		/* 1 */ R2(ATTR_SOURCE_TRANS_ADDRESS, 0xff00, 0x0400, RULE_PUSH_PKT_TO, 2),
		/* 2 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 53, RULE_COUNT, 0),
		/* 3 */ RN(RULE_IGNORE, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x0c, 2, 0xff, 0x00, 0x04, 0x00,
				0x00, 0x16, 2, 0xff, 0xff, 0x00, 53), 14);
	struct pkt_info other = ip4(IP(1, 2, 3, 4), IP(5, 6, 7, 8), 17, 1027, 54);
	assert_int_equal(pme_match(p, &other, false, &m), PME_IGNORE);
	pme_free(p);

	/* PushPktToAct with value 0 reached by GotoAct: the usual SAVE */
	const struct rule s[] = {
		/* 1 */ RN(RULE_GOTO_ACT, 2),
		/* 2 */ R4(ATTR_DEST_PEER_ADDRESS, IP(255, 255, 255, 0), 0, RULE_PUSH_PKT_TO_ACT, 3),
		/* 3 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 53, RULE_COUNT, 0),
	};
	p = load_ok(s, NRULES(s), 1);
	/* rule 3 runs untested after the Act: counts port 53 whatever */
	assert_int_equal(pme_match(p, &other, false, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x13, 4, 255, 255, 255, 0, 5, 6, 7, 0,
				0x00, 0x16, 2, 0xff, 0xff, 0x00, 53), 18);
	pme_free(p);
}

static void action_pop_to(void **state)
{
	(void)state;
	struct pme_match m;
	/* STORE FlowKind := 'A'; STORE FlowKind := 'B'; the test sees 'B';
	 * PopTo undoes it, and FlowKind reads 'A' again */
	const struct rule r[] = {
		/* 1 */ R1(ATTR_FLOW_KIND, 255, 0, RULE_GOTO_ACT, 2),  /* reads 0 */
		/* 2 */ R1(ATTR_FLOW_KIND, 255, 'A', RULE_PUSH_RULE_TO_ACT, 3),
		/* 3 */ R1(ATTR_FLOW_KIND, 255, 'B', RULE_PUSH_RULE_TO_ACT, 4),
		/* 4 */ RN(RULE_GOTO, 5),
		/* 5 */ R1(ATTR_FLOW_KIND, 255, 'B', RULE_POP_TO, 6),
		/* 6 */ R1(ATTR_FLOW_KIND, 255, 'A', RULE_GOTO, 8),
		/* 7 */ RN(RULE_IGNORE, 0),
		/* 8 */ RN(RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.rule, 8);
	assert_key(&m.key, 1, B(0x00, 0x29, 1, 0xff, 'A'), 5);
	pme_free(p);

	/* PopToAct: the rule after it runs untested; a pop on an empty
	 * queue does nothing */
	const struct rule s[] = {
		/* 1 */ RN(RULE_POP_TO_ACT, 2),                      /* empty: no-op */
		/* 2 */ R1(ATTR_SOURCE_CLASS, 255, 4, RULE_PUSH_RULE_TO_ACT, 3),
		/* 3 */ R1(ATTR_DEST_CLASS, 255, 5, RULE_PUSH_RULE_TO_ACT, 4),
		/* 4 */ RN(RULE_POP_TO_ACT, 5),                      /* drops DestClass */
		/* 5 */ R1(ATTR_SOURCE_PEER_TYPE, 255, 9, RULE_PUSH_RULE_TO, 6),
		/* 6 */ R1(ATTR_DEST_CLASS, 255, 0, RULE_GOTO, 8),  /* reads 0 again */
		/* 7 */ RN(RULE_IGNORE, 0),
		/* 8 */ R1(ATTR_SOURCE_CLASS, 255, 4, RULE_COUNT, 0),
		/* 9 */ RN(RULE_IGNORE, 0),
	};
	p = load_ok(s, NRULES(s), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.rule, 8);
	assert_key(&m.key, 1, B(0x00, 0x08, 1, 0xff, 9, 0x00, 0x24, 1, 0xff, 4), 10);
	pme_free(p);
}

static void class_kind_tests(void **state)
{
	(void)state;
	struct pme_match m;
	/* SRL: STORE SourceKind := 10 (a PushRuleTo); IF SourceKind == 10
	 * then count, else ignore.  Class/Kind read 0 before any STORE. */
	const struct rule r[] = {
		/* 1 */ R1(ATTR_SOURCE_KIND, 255, 0, RULE_GOTO_ACT, 3),
		/* 2 */ RN(RULE_IGNORE, 0),
		/* 3 */ R1(ATTR_SOURCE_KIND, 255, 10, RULE_PUSH_RULE_TO, 4),
		/* 4 */ R1(ATTR_SOURCE_KIND, 0x0f, 10, RULE_PUSH_PKT_TO, 6),
		/* 5 */ RN(RULE_IGNORE, 0),
		/* 6 */ R1(ATTR_FLOW_KIND, 255, 0, RULE_COUNT, 0),
		/* 7 */ RN(RULE_IGNORE, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	/* rule 3 is reached by GotoAct: the push runs; rule 4 tests
	 * SourceKind (10 & 0x0f == 10) and re-pushes it with mask 0x0f */
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.rule, 6);
	assert_key(&m.key, 1, B(0x00, 0x27, 1, 0x0f, 10, 0x00, 0x29, 1, 0xff, 0), 10);
	pme_free(p);
}

static void matching_stod(void **state)
{
	(void)state;
	struct pme_match m;
	const struct rule r[] = {
		/* 1 */ R1(ATTR_MATCHING_STOD, 255, 1, RULE_NOMATCH, 0),
		/* 2 */ RN(RULE_GOTO_ACT, 3),
		/* 3 */ R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, 0, RULE_COUNT_PKT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	assert_int_equal(m.rule, 1);
	bool rev = false;
	assert_int_equal(pme_classify(p, NULL, udp_pkt(), &m, &rev), PME_COUNT);
	assert_true(rev);
	/* reversed: SourcePeerAddress is the wire destination */
	assert_key(&m.key, 1, B(0x00, 0x09, 4, 255, 255, 255, 255, 156, 62, 3, 4), 11);

	uint8_t v[PME_PKT_ATTR_MAX];
	assert_int_equal(pme_packet_attr(udp_pkt(), ATTR_MATCHING_STOD, false, v), 1);
	assert_int_equal(v[0], 1);
	assert_int_equal(pme_packet_attr(udp_pkt(), ATTR_MATCHING_STOD, true, v), 1);
	assert_int_equal(v[0], 0);
	pme_free(p);
}

static void flow_ruleset_test(void **state)
{
	(void)state;
	struct pme_match m;
	const struct rule r[] = {
		R1(ATTR_FLOW_RULESET, 255, 5, RULE_GOTO, 3),
		RN(RULE_IGNORE, 0),
		RN(RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 5);
	assert_int_equal(pme_ruleset(p), 5);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_key(&m.key, 5, NULL, 0);
	pme_free(p);
	p = load_ok(r, NRULES(r), 6);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_IGNORE);
	pme_free(p);
}

static void distribution_request(void **state)
{
	(void)state;
	struct pme_match m;
	/* RFC 2724 §3: ToTurnaroundTime & 2.3.0.1.27.88 = 60.0.0.0.0.0
	 * (log, 10^3, 1 .. 7000, 60 buckets); FromPacketSize with the
	 * RFC's 5-byte value 60.0!0, right-padded */
	const struct rule r[] = {
		/* 1 */ RN(RULE_GOTO_ACT, 2),
		/* 2 */ mk(ATTR_TO_TURNAROUND_TIME, RULE_PUSH_PKT_TO_ACT, 3, 6,
			   B(2, 3, 0, 1, 0x1b, 0x58), B(60, 0, 0, 0, 0, 0)),
		/* 3 */ mk(ATTR_FROM_PACKET_SIZE, RULE_PUSH_PKT_TO_ACT, 4, 5,
			   B(1, 0, 0, 25, 0x05), B(60, 0, 0, 0, 0)),
		/* 4 */ R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, 0, RULE_PUSH_PKT_TO_ACT, 5),
		/* 5 */ mk(ATTR_TO_TURNAROUND_TIME, RULE_PUSH_RULE_TO_ACT, 6, 6,
			   B(2, 3, 0, 1, 0x03, 0xe8), B(30, 0, 0, 0, 0, 0)), /* replaces */
		/* 6 */ RN(RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	/* not in the key */
	assert_key(&m.key, 1, B(0x00, 0x09, 4, 255, 255, 255, 255, 130, 216, 7, 9), 11);
	assert_int_equal(m.n_dist, 2);
	assert_int_equal(m.dist[0].attr, ATTR_TO_TURNAROUND_TIME);
	assert_memory_equal(m.dist[0].mask, B(2, 3, 0, 1, 0x03, 0xe8), 6);
	assert_memory_equal(m.dist[0].value, B(30, 0, 0, 0, 0, 0), 6);
	assert_int_equal(m.dist[1].attr, ATTR_FROM_PACKET_SIZE);
	assert_memory_equal(m.dist[1].mask, B(1, 0, 0, 25, 0x05, 0), 6);
	assert_memory_equal(m.dist[1].value, B(60, 0, 0, 0, 0, 0), 6);
	pme_free(p);

	/* a PopTo takes a distribution request back */
	const struct rule s[] = {
		RN(RULE_GOTO_ACT, 2),
		mk(ATTR_FROM_BIT_RATE, RULE_PUSH_PKT_TO_ACT, 3, 6,
		   B(2, 3, 0, 1, 0x27, 0x10), B(60, 5, 0, 0, 0, 0)),
		RN(RULE_POP_TO_ACT, 4),
		RN(RULE_COUNT, 0),
	};
	p = load_ok(s, NRULES(s), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.n_dist, 0);
	pme_free(p);
}

static void step_limit_cycle(void **state)
{
	(void)state;
	struct pme_match m;
	const struct rule r[] = {
		RN(RULE_GOTO, 2),
		RN(RULE_GOTO_ACT, 1),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_step_limit(p), 4 * 2 + 64);
	bool rev;
	assert_int_equal(pme_classify(p, NULL, udp_pkt(), &m, &rev), PME_NOMATCH);
	assert_true(rev);
	assert_int_equal(m.errors, 1u << PME_ERR_STEPS);
	struct pme_stats st;
	memset(&st, 0, sizeof st);
	pme_stats_add(&st, PME_NOMATCH, rev, &m);
	assert_int_equal(st.errors[PME_ERR_STEPS], 1);
	assert_string_equal(pme_error_name(PME_ERR_STEPS), "step limit (goto cycle)");
	pme_free(p);
}

static void queue_and_key_overflow(void **state)
{
	(void)state;
	struct pme_match m;
	/* a push in a cycle: the queue (64) fills before the step limit
	 * (4 * 22 + 64 = 152 steps, 76 pushes) */
	struct rule r[22];
	r[0] = RN(RULE_GOTO_ACT, 2);
	r[1] = R1(ATTR_FLOW_KIND, 255, 1, RULE_PUSH_RULE_TO_ACT, 1);
	for (int i = 2; i < 22; i++)
		r[i] = RN(RULE_IGNORE, 0);
	struct pme_program *p = load_ok(r, 22, 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	assert_int_equal(m.errors, 1u << PME_ERR_QUEUE);
	pme_free(p);

	/* 3 x 43 + 2 x 35 bytes of items do not fit in a 192-byte key */
	static const uint8_t ones[20] = {
		255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
		255, 255, 255, 255, 255, 255, 255, 255, 255, 255 };
	const struct rule s[] = {
		RN(RULE_GOTO_ACT, 2),
		mk(ATTR_SOURCE_SUBSCRIBER_ID, RULE_PUSH_RULE_TO_ACT, 3, 20, ones, ones),
		mk(ATTR_DEST_SUBSCRIBER_ID, RULE_PUSH_RULE_TO_ACT, 4, 20, ones, ones),
		mk(ATTR_SESSION_ID, RULE_PUSH_RULE_TO_ACT, 5, 20, ones, ones),
		mk(ATTR_SOURCE_PEER_ADDRESS, RULE_PUSH_PKT_TO_ACT, 6, 16, ones, ones),
		mk(ATTR_DEST_PEER_ADDRESS, RULE_COUNT_PKT, 0, 16, ones, ones),
	};
	p = load_ok(s, NRULES(s), 1);
	/* an IPv6 packet: the peer addresses push all 16 bytes */
	struct pkt_info v6 = *udp_pkt();
	v6.peer_type = 2;
	assert_int_equal(pme_match(p, &v6, false, &m), PME_NOMATCH);
	assert_int_equal(m.errors, 1u << PME_ERR_KEY_FULL);
	assert_int_equal(m.rule, 6);
	pme_free(p);
}

/* A 16-byte SAVE of a peer address (written for either family) keys an
 * IPv4 packet by its 4 bytes, so readers render it as IPv4. */
static void ipv4_peer_push_width(void **state)
{
	(void)state;
	static const uint8_t ones[16] = {
		255, 255, 255, 255, 255, 255, 255, 255,
		255, 255, 255, 255, 255, 255, 255, 255 };
	static const uint8_t zero[16];
	const struct rule s[] = {
		RN(RULE_GOTO_ACT, 2),
		mk(ATTR_DEST_PEER_ADDRESS, RULE_PUSH_PKT_TO_ACT, 3, 16, ones, zero),
		RN(RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(s, NRULES(s), 1);
	struct pme_match m;
	struct flow_key_item it;
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_true(flow_key_get(&m.key, ATTR_DEST_PEER_ADDRESS, &it));
	assert_int_equal(it.width, 4);
	const uint8_t want[4] = { 156, 62, 3, 4 };
	assert_memory_equal(it.value, want, 4);
	struct pkt_info v6 = *udp_pkt();
	v6.peer_type = 2;
	assert_int_equal(pme_match(p, &v6, false, &m), PME_COUNT);
	assert_true(flow_key_get(&m.key, ATTR_DEST_PEER_ADDRESS, &it));
	assert_int_equal(it.width, 16);
	pme_free(p);
}

static void ipv6_and_widths(void **state)
{
	(void)state;
	struct pme_match m;
	struct pkt_info v6;
	memset(&v6, 0, sizeof v6);
	v6.ip_version = 6;
	v6.peer_type = 2;
	memcpy(v6.addr[0], B(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 16);
	memcpy(v6.addr[1], B(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2), 16);
	v6.proto = 17;
	/* a 4-byte rule compares the first 4 bytes of an IPv6 address; a
	 * 1-byte attribute may come MIB-padded to 2 bytes (01 00 / ff 00) */
	const struct rule r[] = {
		mk(ATTR_SOURCE_PEER_TYPE, RULE_GOTO, 2, 2, B(0xff, 0), B(2, 0)),
		R4(ATTR_SOURCE_PEER_ADDRESS, IP(255, 255, 0, 0), IP(0x20, 0x01, 0, 0),
		   RULE_PUSH_RULE_TO, 3),
		mk(ATTR_DEST_PEER_ADDRESS, RULE_COUNT_PKT, 0, 16,
		   B(255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		   B(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_match(p, &v6, false, &m), PME_COUNT);
	assert_key(&m.key, 1, B(0x00, 0x09, 4, 255, 255, 0, 0, 0x20, 0x01, 0, 0,
				0x00, 0x13, 16,
				255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 46);
	/* an IPv4 packet fails the 2-byte-padded type test */
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	pme_free(p);
}

static void packet_attrs(void **state)
{
	(void)state;
	uint8_t v[PME_PKT_ATTR_MAX];
	struct pkt_info pkt = ip4(IP(10, 1, 2, 3), IP(10, 4, 5, 6), 17, 1027, 53);
	pkt.n_vlan = 2;
	pkt.vlan[0] = 100;
	pkt.vlan[1] = 7;
	pkt.dscp = 46;
	pkt.dns_present = true;
	pkt.dns.qr = 1;
	pkt.dns.opcode = 0;
	pkt.dns.has_question = true;
	pkt.dns.qtype = 28;

	assert_int_equal(pme_packet_attr(&pkt, ATTR_SOURCE_PEER_ADDRESS, false, v), 4);
	assert_memory_equal(v, B(10, 1, 2, 3, 0, 0, 0, 0), 8);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_SOURCE_PEER_ADDRESS, true, v), 4);
	assert_memory_equal(v, B(10, 4, 5, 6), 4);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DEST_TRANS_ADDRESS, false, v), 2);
	assert_memory_equal(v, B(0x00, 0x35), 2);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DEST_TRANS_ADDRESS, true, v), 2);
	assert_memory_equal(v, B(0x04, 0x03), 2);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DEST_ADJACENT_ADDRESS, false, v), 6);
	assert_memory_equal(v, B(0x02, 0, 0, 0, 0, 0x02), 6);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_SOURCE_ADJACENT_TYPE, false, v), 1);
	assert_int_equal(v[0], 7);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_SOURCE_INTERFACE, false, v), 2);
	assert_memory_equal(v, B(0, 3), 2);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DEST_INTERFACE, true, v), 2);
	assert_memory_equal(v, B(0, 3), 2);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DEST_INTERFACE, false, v), 2);
	assert_memory_equal(v, B(0, 0), 2);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DEST_TRANS_TYPE, true, v), 1);
	assert_int_equal(v[0], 17);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_VLAN_ID, false, v), 2);
	assert_memory_equal(v, B(0, 100), 2);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_INNER_VLAN_ID, false, v), 2);
	assert_memory_equal(v, B(0, 7), 2);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DS_CODE_POINT, false, v), 1);
	assert_int_equal(v[0], 46);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_IP_VERSION, false, v), 1);
	assert_int_equal(v[0], 4);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DNS_QR, false, v), 1);
	assert_int_equal(v[0], 1);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DNS_QTYPE, false, v), 2);
	assert_memory_equal(v, B(0, 28), 2);
	pkt.dns_present = false;
	pkt.n_vlan = 0;
	assert_int_equal(pme_packet_attr(&pkt, ATTR_DNS_QR, false, v), 1);
	assert_int_equal(v[0], 255);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_VLAN_ID, false, v), 2);
	assert_memory_equal(v, B(0, 0), 2);
	/* known attributes the packet does not carry; unknown ones */
	assert_int_equal(pme_packet_attr(&pkt, ATTR_TO_OCTETS, false, v), 0);
	assert_int_equal(pme_packet_attr(&pkt, ATTR_FLOW_KIND, false, v), 0);
	assert_int_equal(pme_packet_attr(&pkt, 42, false, v), -1);
}

static void test_chains(void **state)
{
	(void)state;
	struct pme_match m;
	struct flow_key_item it;
	/* rules 2..7 test DestTransAddress under one mask (one chain); a
	 * Goto may enter it in the middle; 53 appears twice */
	const struct rule r[] = {
		/*  1 */ R2(ATTR_SOURCE_TRANS_ADDRESS, 0xffff, 7, RULE_GOTO, 4),
		/*  2 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 53, RULE_GOTO_ACT, 10),
		/*  3 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 80, RULE_GOTO_ACT, 11),
		/*  4 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 53, RULE_GOTO_ACT, 12),
		/*  5 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 443, RULE_GOTO_ACT, 13),
		/*  6 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 25, RULE_GOTO_ACT, 14),
		/*  7 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 0x107b, RULE_GOTO_ACT, 15),
		/*  8 */ RN(RULE_IGNORE, 0),
		/*  9 */ RN(RULE_IGNORE, 0),
		/* 10 */ R1(ATTR_FLOW_KIND, 255, 1, RULE_COUNT, 0),
		/* 11 */ R1(ATTR_FLOW_KIND, 255, 2, RULE_COUNT, 0),
		/* 12 */ R1(ATTR_FLOW_KIND, 255, 3, RULE_COUNT, 0),
		/* 13 */ R1(ATTR_FLOW_KIND, 255, 4, RULE_COUNT, 0),
		/* 14 */ R1(ATTR_FLOW_KIND, 255, 5, RULE_COUNT, 0),
		/* 15 */ R1(ATTR_FLOW_KIND, 255, 6, RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_chain_count(p), 1);
	static const struct { uint16_t sport, dport; int res; unsigned rule, kind; } cases[] = {
		{ 1000, 53,     PME_COUNT,  10, 1 },   /* first of the two 53s */
		{ 7,    53,     PME_COUNT,  12, 3 },   /* entered at 4: the second */
		{ 7,    80,     PME_IGNORE,  8, 0 },   /* 80 lies before the entry */
		{ 1000, 80,     PME_COUNT,  11, 2 },
		{ 1000, 443,    PME_COUNT,  13, 4 },
		{ 7,    25,     PME_COUNT,  14, 5 },
		{ 1000, 0x107b, PME_COUNT,  15, 6 },
		{ 1000, 0x107c, PME_IGNORE,  8, 0 },
		{ 1000, 0,      PME_IGNORE,  8, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pkt_info pkt = ip4(IP(1, 2, 3, 4), IP(5, 6, 7, 8), 17,
					  cases[i].sport, cases[i].dport);
		assert_int_equal(pme_match(p, &pkt, false, &m), cases[i].res);
		assert_int_equal(m.rule, cases[i].rule);
		if (cases[i].res == PME_COUNT) {
			assert_true(flow_key_get(&m.key, ATTR_FLOW_KIND, &it));
			assert_int_equal(it.value[0], cases[i].kind);
		}
	}
	pme_free(p);

	/* IPv6 (two-word) chain; a value with bits outside its mask never
	 * matches; a rule with another mask ends the chain */
	const uint8_t m64[16] = { 255, 255, 255, 255, 255, 255, 255, 255 };
	uint8_t v[5][16];
	for (int k = 0; k < 5; k++) {
		memset(v[k], 0, 16);
		memcpy(v[k], B(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, (uint8_t)k), 8);
	}
	v[3][9] = 1;                    /* outside the /64 mask */
	const struct rule s[] = {
		/* 1 */ mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO_ACT, 8, 16, m64, v[0]),
		/* 2 */ mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO_ACT, 8, 16, m64, v[1]),
		/* 3 */ mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO_ACT, 8, 16, m64, v[2]),
		/* 4 */ mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO_ACT, 8, 16, m64, v[3]),
		/* 5 */ mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO_ACT, 9, 16, m64, v[4]),
		/* 6 */ R4(ATTR_DEST_PEER_ADDRESS, IP(255, 255, 0, 0), IP(0x20, 0x01, 0, 0),
			   RULE_GOTO_ACT, 9),
		/* 7 */ RN(RULE_NOMATCH, 0),
		/* 8 */ RN(RULE_COUNT, 0),
		/* 9 */ RN(RULE_IGNORE, 0),
	};
	p = load_ok(s, NRULES(s), 1);
	assert_int_equal(pme_chain_count(p), 1);
	struct pkt_info v6;
	memset(&v6, 0, sizeof v6);
	v6.ip_version = 6;
	v6.peer_type = 2;
	static const struct { uint8_t b7, b9; int res; unsigned rule; } c6[] = {
		{ 0, 0, PME_COUNT, 8 }, { 2, 5, PME_COUNT, 8 }, { 4, 0, PME_IGNORE, 9 },
		{ 3, 1, PME_IGNORE, 9 },   /* rule 4 can never match: rule 6 does */
		{ 9, 0, PME_IGNORE, 9 },
	};
	for (size_t i = 0; i < sizeof c6 / sizeof c6[0]; i++) {
		memcpy(v6.addr[1], v[0], 16);
		v6.addr[1][7] = c6[i].b7;
		v6.addr[1][9] = c6[i].b9;
		assert_int_equal(pme_match(p, &v6, false, &m), c6[i].res);
		assert_int_equal(m.rule, c6[i].rule);
	}
	v6.addr[1][0] = 0x30;           /* not 2001::/16 at all */
	assert_int_equal(pme_match(p, &v6, false, &m), PME_NOMATCH);
	assert_int_equal(m.rule, 7);
	pme_free(p);

	/* a chain in a goto cycle still reaches the step limit */
	struct rule cyc[7];
	cyc[0] = RN(RULE_GOTO, 2);
	for (int k = 1; k < 6; k++)
		cyc[k] = R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 1000 + k, RULE_COUNT, 0);
	cyc[6] = RN(RULE_GOTO_ACT, 1);
	p = load_ok(cyc, NRULES(cyc), 1);
	assert_int_equal(pme_chain_count(p), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	assert_int_equal(m.errors, 1u << PME_ERR_STEPS);
	pme_free(p);
}

/* xorshift64*: a fixed, reproducible sequence */
static unsigned rnd(unsigned n);

/*
 * Long chains searched through their value table: 40 rules testing
 * DestTransAddress against values from a small set (so most repeat), each
 * counting with its own FlowKind; rule 1 enters the chain at rule 2 + e
 * when SourceTransAddress is 7.  The result must be what the rules give
 * one by one: the first rule >= the entry whose value is the port.
 */
static void chain_table_vs_rule_by_rule(void **state)
{
	(void)state;
	enum { N = 40, FIRST = 2 };
	for (int t = 0; t < 50; t++) {
		struct rule r[1 + N + 1 + N];
		uint16_t val[N];
		unsigned entry = rnd(N);                /* 0-based within the chain */
		r[0] = R2(ATTR_SOURCE_TRANS_ADDRESS, 0xffff, 7, RULE_GOTO, FIRST + entry);
		for (unsigned k = 0; k < N; k++) {
			val[k] = (uint16_t)(50 + rnd(12));
			/* rule FIRST + k goes to count rule FIRST + N + 1 + k */
			r[1 + k] = R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, val[k], RULE_GOTO_ACT,
				      FIRST + N + 1 + k);
		}
		r[1 + N] = RN(RULE_IGNORE, 0);          /* rule FIRST + N */
		for (unsigned k = 0; k < N; k++)
			r[2 + N + k] = R1(ATTR_FLOW_KIND, 255, k + 1, RULE_COUNT, 0);
		struct pme_program *p = load_ok(r, NRULES(r), 1);
		assert_int_equal(pme_chain_count(p), 1);
		for (uint16_t port = 48; port < 64; port++) {
			for (int from7 = 0; from7 < 2; from7++) {
				unsigned start = from7 ? entry : 0, want = N;
				for (unsigned k = start; k < N && want == N; k++)
					if (val[k] == port)
						want = k;
				struct pkt_info pkt = ip4(IP(1, 2, 3, 4), IP(5, 6, 7, 8), 17,
							  from7 ? 7 : 1000, port);
				struct pme_match m;
				struct flow_key_item it;
				enum pme_result res = pme_match(p, &pkt, false, &m);
				if (want == N) {
					assert_int_equal(res, PME_IGNORE);
					assert_int_equal(m.rule, FIRST + N);
				} else {
					assert_int_equal(res, PME_COUNT);
					assert_int_equal(m.rule, FIRST + N + 1 + want);
					assert_true(flow_key_get(&m.key, ATTR_FLOW_KIND, &it));
					assert_int_equal(it.value[0], want + 1);
				}
			}
		}
		pme_free(p);
	}
}

/*
 * Jumps that only jump (a Null Goto/GotoAct, or a Goto reached with the
 * test off) are skipped at load in a loop-free table; the outcome, the rule
 * that ended the pass and the key must be as the rules say one by one.
 * The same table with a (never taken) backward jump may loop, so it keeps
 * every step: both must agree.
 */
static void jump_threading(void **state)
{
	(void)state;
	const struct rule base[] = {
		/*  1 */ R1(ATTR_SOURCE_TRANS_TYPE, 255, 17, RULE_GOTO, 4),
		/*  2 */ R1(ATTR_SOURCE_TRANS_TYPE, 255, 6, RULE_GOTO, 4),
		/*  3 */ RN(RULE_GOTO_ACT, 12),                    /* pure: to 12 */
		/*  4 */ R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 53, RULE_GOTO_ACT, 6),
		/*  5 */ RN(RULE_GOTO, 13),                        /* pure: to 13 */
		/*  6 */ R1(ATTR_FLOW_KIND, 255, 9, RULE_PUSH_RULE_TO, 7),
		/*  7 */ R4(ATTR_SOURCE_PEER_ADDRESS, 0, 0, RULE_GOTO, 9),  /* always: pure */
		/*  8 */ RN(RULE_IGNORE, 0),
		/*  9 */ R2(ATTR_SOURCE_TRANS_ADDRESS, 0xffff, 99, RULE_GOTO_ACT, 11),
		/* 10 */ RN(RULE_COUNT, 0),
		/* 11 */ R1(ATTR_FLOW_CLASS, 255, 4, RULE_COUNT, 0),
		/* 12 */ RN(RULE_IGNORE, 0),
		/* 13 */ RN(RULE_NOMATCH, 0),
	};
	enum { NB = NRULES(base) };
	static const struct { uint8_t proto; uint16_t sport, dport; int res; unsigned rule;
			      bool rev; unsigned kind, cls; } cases[] = {
		{ 17, 1000, 53, PME_COUNT,   10, false, 9, 0 },
		{ 6,    99, 53, PME_COUNT,   11, false, 9, 4 },
		{ 17,   53, 99, PME_COUNT,   11, true,  9, 4 },    /* second pass */
		{ 17, 1000, 80, PME_NOMATCH, 13, true,  0, 0 },    /* 4 fails, 5 -> 13 */
		{ 1,     0,  0, PME_IGNORE,  12, false, 0, 0 },    /* 2 fails, 3 -> 12 */
	};
	for (unsigned loop = 0; loop < 2; loop++) {
		/* loop 1: the same rules one further down, after a rule that
		 * sends DestTransAddress 7777 (no case has it) to a last rule
		 * jumping back to the first: a cycle, so the table may loop
		 * and every rule is run and charged */
		struct rule r[NB + 2];
		size_t n = 0;
		if (loop)
			r[n++] = R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 7777, RULE_GOTO_ACT, NB + 2);
		for (size_t k = 0; k < NB; k++) {
			r[n] = base[k];
			if (rule_op_is_goto(r[n].op))
				r[n].param += loop;
			n++;
		}
		if (loop)
			r[n++] = RN(RULE_GOTO_ACT, 1);
		struct pme_program *p = load_ok(r, n, 1);
		/* the loop-free table needs no step limit beyond the walk's */
		assert_int_equal(pme_step_limit(p) == 4u * n + 64u, loop == 1);
		/* the loop-free table's passes are decided by the transport
		 * type for every type but UDP and TCP (rule 3: Ignore at 12);
		 * a port is no prefilter: other ports end at 12 or 13 */
		assert_int_equal(pme_prefilter_values(p), loop ? 0 : 254);
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			struct pkt_info pkt = ip4(IP(1, 2, 3, 4), IP(5, 6, 7, 8), cases[i].proto,
						  cases[i].sport, cases[i].dport);
			struct pme_match m;
			struct flow_key_item it;
			bool rev;
			assert_int_equal(pme_classify(p, NULL, &pkt, &m, &rev), cases[i].res);
			assert_int_equal(m.rule, cases[i].rule + loop);
			assert_int_equal(m.errors, 0);
			if (cases[i].res == PME_NOMATCH || cases[i].res == PME_COUNT)
				assert_int_equal(rev, cases[i].rev);
			if (cases[i].res != PME_COUNT)
				continue;
			assert_true(flow_key_get(&m.key, ATTR_FLOW_KIND, &it));
			assert_int_equal(it.value[0], cases[i].kind);
			bool has_cls = flow_key_get(&m.key, ATTR_FLOW_CLASS, &it);
			assert_int_equal(has_cls, cases[i].cls != 0);
			if (has_cls)
				assert_int_equal(it.value[0], cases[i].cls);
		}
		pme_free(p);
	}
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (unsigned)((rnd_state * 0x2545f4914f6cdd1dULL) >> 33) % n;
}

/*
 * pme_classify() on pkt must give what pme_match() gives pass by pass —
 * the general loop alone, no routes, prefilter or tails: result, which
 * pass, rule, errors, key and distributions.  Returns the result (m and
 * *reversed: pme_classify()'s).
 */
static enum pme_result classify_agrees(const struct pme_program *p, struct pme_memo *memo,
				       const struct pkt_info *pkt, struct pme_match *m,
				       bool *reversed)
{
	struct pme_match w;
	bool rev;
	/* through the memo first: what it keeps must be what the walk gives */
	enum pme_result res = pme_classify(p, memo, pkt, m, &rev);
	*reversed = rev;
	enum pme_result wres = pme_match(p, pkt, false, &w);
	uint32_t werr = w.errors;
	bool wrev = wres == PME_NOMATCH;
	if (wrev) {
		wres = pme_match(p, pkt, true, &w);
		w.errors |= werr;
	}
	assert_int_equal(res, wres);
	assert_int_equal(rev, wrev);
	assert_int_equal(m->rule, w.rule);
	assert_int_equal(m->errors, w.errors);
	if (res == PME_COUNT) {
		assert_int_equal(m->key.len, w.key.len);
		assert_memory_equal(m->key.data, w.key.data, m->key.len);
		if (m->key_hashed)      /* from the memo */
			assert_true(m->key_hash == flow_key_hash(&m->key));
		assert_int_equal(m->n_dist, w.n_dist);
		assert_memory_equal(m->dist, w.dist, m->n_dist * sizeof m->dist[0]);
	}
	return res;
}

/* A packet and the result its classification must give. */
struct pkt_want {
	const struct pkt_info *pkt;
	enum pme_result want;
};

/* The n packets of seq in turn, twice over, each classified twice
 * (walked or from the memo, then from the memo): every result as wanted
 * and as the memo-less classification gives it, and the memo found some. */
static void expect_in_turn(const struct pme_program *p, struct pme_memo *memo,
			   const struct pkt_want *seq, size_t n)
{
	for (size_t k = 0; k < 2 * n; k++) {
		struct pme_match m;
		bool rev;
		size_t i = k % n;
		assert_int_equal(classify_agrees(p, memo, seq[i].pkt, &m, &rev), seq[i].want);
		assert_int_equal(classify_agrees(p, memo, seq[i].pkt, &m, &rev), seq[i].want);
	}
	uint64_t lookups, hits;
	pme_memo_stats(memo, &lookups, &hits);
	assert_true(hits > 0);
}

static void random_tables(void **state)
{
	(void)state;
	static const uint16_t attrs[] = {
		ATTR_NULL, ATTR_SOURCE_PEER_TYPE, ATTR_SOURCE_PEER_ADDRESS,
		ATTR_DEST_PEER_ADDRESS, ATTR_SOURCE_TRANS_ADDRESS,
		ATTR_DEST_TRANS_ADDRESS, ATTR_SOURCE_TRANS_TYPE, ATTR_FLOW_KIND,
		ATTR_SOURCE_CLASS, ATTR_MATCHING_STOD, ATTR_V1, ATTR_V2,
		ATTR_TO_TURNAROUND_TIME, ATTR_FLOW_RULESET, ATTR_SOURCE_INTERFACE,
		ATTR_DEST_ADJACENT_ADDRESS, ATTR_VLAN_ID, ATTR_DNS_QR,
	};
	const size_t n_attrs = sizeof attrs / sizeof attrs[0];
	struct pkt_info pkts[3];
	pkts[0] = *udp_pkt();
	pkts[1] = ip4(IP(156, 62, 3, 4), IP(130, 216, 7, 9), 6, 53, 1027);
	memset(&pkts[2], 0, sizeof pkts[2]);
	pkts[2].ip_version = 6;
	pkts[2].peer_type = 2;
	memset(pkts[2].addr[0], 0x20, 16);
	unsigned loaded = 0, counted = 0, routed = 0;
	struct pme_memo *memo = pme_memo_create();
	assert_non_null(memo);
	for (int t = 0; t < 3000; t++) {
		struct rule r[24];
		unsigned n = 1 + rnd(24);
		for (unsigned i = 0; i < n; i++) {
			memset(&r[i], 0, sizeof r[i]);
			r[i].attr = attrs[rnd((unsigned)n_attrs)];
			r[i].op = (uint8_t)(1 + rnd(RULE_OP_MAX));
			/* sometimes out of range; every other table jumps
			 * forward only, so that it is loop-free and its
			 * Gotos, Ignores and NoMatches run as routes */
			r[i].param = !rnd(16) ? n + 1 :
				     t & 1 ? i + 2 + rnd(n - i) : 1 + rnd(n);
			const struct attr_info *ai = attr_by_num(r[i].attr);
			unsigned w = ai->type == ATTR_T_PEER ? 4 : ai->width;
			r[i].len = (uint8_t)(rnd(16) ? rnd(w + 1) : rnd(7));
			for (unsigned b = 0; b < r[i].len; b++) {
				r[i].mask[b] = rnd(3) ? 0xff : 0;
				r[i].value[b] = (uint8_t)(rnd(4) ? 0 : rnd(256));
			}
			if (r[i].op == RULE_ASSIGN || r[i].op == RULE_ASSIGN_ACT) {
				r[i].attr = ATTR_V1 + rnd(2);
				r[i].len = 2;
				r[i].value[0] = 0;
				r[i].value[1] = (uint8_t)attrs[rnd((unsigned)n_attrs)];
			}
		}
		struct diag d;
		diag_init(&d, "random");
		struct pme_program *p = load(r, n, 1 + rnd(3), &d);
		/* refused exactly when there are errors */
		assert_true((p == NULL) == (d.errors > 0));
		diag_free(&d);
		if (!p)
			continue;
		loaded++;
		routed += pme_route_count(p) > 0;
		/* each packet twice: the second time from the memo, where
		 * the table lets it keep the passes */
		for (unsigned k = 0; k < 6; k++) {
			struct pme_match m;
			bool rev;
			enum pme_result res = classify_agrees(p, memo, &pkts[k % 3], &m, &rev);
			assert_true(res == PME_IGNORE || res == PME_NOMATCH || res == PME_COUNT);
			assert_true(m.errors < (1u << PME_ERR_MAX));
			assert_true(m.rule <= n);
			if (res == PME_COUNT) {
				counted++;
				assert_true(m.key.len <= FLOW_KEY_BYTES);
				assert_true(m.n_dist <= PME_DIST_MAX);
				/* errors can only come from a failed first pass */
				if (!rev)
					assert_int_equal(m.errors, 0);
			}
		}
		pme_free(p);
	}
	/* the generator reaches both sides */
	uint64_t lookups, hits;
	pme_memo_stats(memo, &lookups, &hits);
	pme_memo_free(memo);
	print_message("random tables: %u of 3000 loaded, %u counts, %u with routes, "
		      "%llu memo hits\n", loaded, counted, routed, (unsigned long long)hits);
	assert_true(loaded > 100);
	assert_true(counted > 50);
	assert_true(routed > 100);
	assert_true(hits > 20);
}

/*
 * Loop-free tables made of what the routes run (struct route in pme.c):
 * Gotos and pushes of constants testing ports, types and peer types,
 * runs of one test long enough to be chains (some of IPv6 addresses,
 * several words), tests of Class/Kind and wide values the walk leaves to
 * the general loop, distribution pushes, Null Counts.  pme_classify()
 * must give exactly what pme_match() (the general loop alone) gives, pass
 * by pass: result, rule, errors, key and distributions.
 */
static void routes_agree(void **state)
{
	(void)state;
	static const uint8_t ops[] = {
		RULE_GOTO, RULE_GOTO_ACT, RULE_PUSH_RULE_TO, RULE_PUSH_RULE_TO_ACT,
		RULE_IGNORE, RULE_NOMATCH, RULE_PUSH_PKT_TO, RULE_COUNT,
	};
	static const uint16_t ports[] = { 53, 80, 443, 123 };
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x05, 0x03, 0xba, 0x3e, [15] = 0x30 };
	struct pkt_info pkts[24];
	for (unsigned k = 0; k < 24; k++) {
		uint16_t a = ports[rnd(4)], b = rnd(3) ? ports[rnd(4)] : (uint16_t)(1024 + rnd(9));
		pkts[k] = ip4(IP(10, 0, 0, 1 + rnd(3)), IP(192, 5, 5, 1 + rnd(3)),
			      (uint8_t)(rnd(3) == 0 ? 1 : rnd(2) ? 17 : 6), a, b);
		if (k % 3 == 0) {       /* IPv6, sometimes the chain's address */
			pkts[k].ip_version = 6;
			pkts[k].peer_type = 2;
			memcpy(pkts[k].addr[k % 2], v6a, 16);
			pkts[k].addr[k % 2][15] = (uint8_t)(0x30 + rnd(3));
		}
	}
	unsigned tables = 0, routed = 0, chained = 0, counted = 0, prefiltered = 0;
	unsigned memo_words = 0;
	/* one memo for all the tables: it follows the program it is given,
	 * also one loaded where a freed one was */
	struct pme_memo *memo = pme_memo_create();
	assert_non_null(memo);
	for (int t = 0; t < 2000; t++) {
		struct rule r[40];
		unsigned n = 0, want = 8 + rnd(30);
		while (n < want) {
			/* a run of one test (a chain from 4), or one rule */
			unsigned run = rnd(3) ? 1 : 4 + rnd(4), kind = rnd(7);
			/* every other table opens with a gate of port and
			 * type tests that only route (Goto, Ignore, NoMatch),
			 * where a prefilter can decide passes */
			bool gate = (t & 1) && n < 6;
			if (gate)
				kind = rnd(3);
			for (unsigned j = 0; j < run && n < want; j++, n++) {
				struct rule *x = &r[n];
				unsigned op = gate ? ops[rnd(2)] : ops[rnd(sizeof ops)];
				if (gate && !rnd(4))
					op = rnd(2) ? RULE_NOMATCH : RULE_IGNORE;
				unsigned v = rnd(4);
				switch (kind) {
				case 0: *x = R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, ports[v], op, 0); break;
				case 1: *x = R2(ATTR_SOURCE_TRANS_ADDRESS, 0xffff, ports[v], op, 0); break;
				case 2: *x = R1(ATTR_SOURCE_TRANS_TYPE, 255, v ? 17 : 6, op, 0); break;
				case 3: *x = R1(ATTR_DEST_PEER_TYPE, 255, 1 + v % 2, op, 0); break;
				case 4: *x = R1(ATTR_FLOW_CLASS, 255, v, op, 0); break;
				case 5: {
					uint8_t a[16];
					memcpy(a, v6a, 16);
					a[15] = (uint8_t)(0x30 + v);
					uint8_t m[16];
					memset(m, 0xff, 16);
					*x = mk(ATTR_DEST_PEER_ADDRESS, op, 0, 16, m, a);
					break;
				}
				default:
					*x = rnd(2) ? mk(ATTR_TO_TURNAROUND_TIME, rnd(2) ? RULE_PUSH_RULE_TO_ACT :
							  RULE_PUSH_PKT_TO_ACT, 0, 6,
							  B(3, 0, 0, 0, 0, 0), B(60, 0, 0, 0, 0, 0))
						    : RN(RULE_COUNT, 0);
					break;
				}
				if (rule_op_is_goto(x->op))
					x->param = n + 2 + rnd(want - n);   /* forward, or the end */
				else if (x->op == RULE_COUNT && x->attr != ATTR_NULL)
					x->attr = ATTR_NULL, x->len = 0;
			}
		}
		/* jumps past the end go to the last rule, which ends the pass
		 * (a jump to itself would make the table loop) */
		r[n - 1] = rnd(2) ? RN(RULE_NOMATCH, 0) : RN(RULE_COUNT, 0);
		for (unsigned j = 0; j < n; j++)
			if (rule_op_is_goto(r[j].op) && r[j].param > n)
				r[j].param = n;
		struct diag d;
		diag_init(&d, "routes");
		struct pme_program *p = load(r, n, 1 + rnd(3), &d);
		diag_free(&d);
		if (!p)
			continue;
		tables++;
		routed += pme_route_count(p) > 0;
		chained += pme_chain_count(p) > 0;
		prefiltered += pme_prefilter_values(p) > 0;
		memo_words += pme_memo_words(p) > 0;
		for (unsigned k = 0; k < 48; k++) {
			struct pme_match m;
			bool rev;
			counted += classify_agrees(p, memo, &pkts[k % 24], &m, &rev) == PME_COUNT;
		}
		pme_free(p);
	}
	uint64_t lookups, hits;
	pme_memo_stats(memo, &lookups, &hits);
	pme_memo_free(memo);
	print_message("routes: memo in %u tables, %llu lookups, %llu hits\n", memo_words,
		      (unsigned long long)lookups, (unsigned long long)hits);
	assert_true(memo_words > 800);
	assert_true(hits > 10000);
	print_message("routes: %u tables, %u with routes, %u with chains, %u prefiltered, "
		      "%u counts\n", tables, routed, chained, prefiltered, counted);
	assert_true(tables > 1000);
	assert_true(routed > 800);
	assert_true(chained > 300);
	assert_true(prefiltered > 150);
	assert_true(counted > 1000);
}

/*
 * A memo tag read straight from struct pkt_info's fields must see what
 * the tests see: a port reads 0 in a packet without ports whatever
 * port[] holds, an IPv4 address has no bytes past its 4 whatever addr[]
 * holds there.  Each packet after one that would share its entry if
 * those bytes counted (Count, Ignore), twice: walked, then from the memo.
 */
static void memo_field_values(void **state)
{
	(void)state;
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x05, 0x03, 0xba, 0x3e, [15] = 0x30 };
	uint8_t m16[16], v6b[16], v6c[16], v6d[16];
	memset(m16, 0xff, sizeof m16);
	memcpy(v6b, v6a, sizeof v6a);
	v6b[15]++;
	memcpy(v6c, v6b, sizeof v6b);
	v6c[15]++;
	memcpy(v6d, v6c, sizeof v6c);
	v6d[15]++;
	/* the IPv6 servers' tests a chain, so that the pass stays on the
	 * routes (what the memo keeps) */
	const struct rule r[] = {
		R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 53, RULE_GOTO, 3),
		RN(RULE_NOMATCH, 0),
		mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO, 10, 16, m16, v6a),
		mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO, 10, 16, m16, v6b),
		mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO, 10, 16, m16, v6c),
		mk(ATTR_DEST_PEER_ADDRESS, RULE_GOTO, 10, 16, m16, v6d),
		R4(ATTR_DEST_PEER_ADDRESS, 0xffffffff, IP(0x20, 0x01, 0x05, 0x03), RULE_GOTO, 9),
		RN(RULE_NOMATCH, 0),
		RN(RULE_COUNT, 0),
		RN(RULE_IGNORE, 0),
	};
	struct diag d;
	diag_init(&d, "fields");
	struct pme_program *p = load(r, NRULES(r), 1, &d);
	diag_free(&d);
	assert_non_null(p);
	assert_int_equal(pme_chain_count(p), 1);
	assert_true(pme_memo_words(p) > 0);
	struct pme_memo *memo = pme_memo_create();
	assert_non_null(memo);
	/* to the IPv4 server, port 53: Count */
	struct pkt_info v4 = ip4(IP(10, 0, 0, 1), IP(0x20, 0x01, 0x05, 0x03), 17, 1024, 53);
	/* ICMP, port[] as the UDP one's: no ports, NoMatch */
	struct pkt_info icmp = v4;
	icmp.proto = 1;
	icmp.has_ports = false;
	/* to the IPv6 server: Ignore */
	struct pkt_info v6 = v4;
	v6.ip_version = 6;
	v6.peer_type = 2;
	memcpy(v6.addr[1], v6a, sizeof v6a);
	/* IPv4 with the IPv6 address's bytes past its 4: Count */
	struct pkt_info v4x = v4;
	memcpy(v4x.addr[1] + 4, v6a + 4, sizeof v6a - 4);
	const struct pkt_want seq[] = {
		{ &v4, PME_COUNT }, { &icmp, PME_NOMATCH },
		{ &v6, PME_IGNORE }, { &v4x, PME_COUNT },
	};
	expect_in_turn(p, memo, seq, NRULES(seq));
	pme_memo_free(memo);
	pme_free(p);
}

/*
 * A memo tag with a value that is no plain field (DNSQR) is read by the
 * general reader, with a prefilter on ports in front: queries counted,
 * responses not (the forward pass decided by the prefilter, or a NoMatch
 * kept forward and the reversed pass from the prefilter or the memo),
 * each twice: walked, then from the memo.
 */
static void memo_general_values(void **state)
{
	(void)state;
	const struct rule r[] = {
		R2(ATTR_DEST_TRANS_ADDRESS, 0xffff, 53, RULE_GOTO, 3),
		RN(RULE_NOMATCH, 0),
		R1(ATTR_DNS_QR, 255, 0, RULE_GOTO, 5),
		RN(RULE_NOMATCH, 0),
		RN(RULE_COUNT, 0),
	};
	struct diag d;
	diag_init(&d, "general");
	struct pme_program *p = load(r, NRULES(r), 1, &d);
	diag_free(&d);
	assert_non_null(p);
	assert_true(pme_prefilter_values(p) > 0);
	assert_true(pme_memo_words(p) > 0);
	struct pme_memo *memo = pme_memo_create();
	assert_non_null(memo);
	struct pkt_info query = ip4(IP(10, 0, 0, 1), IP(192, 5, 6, 30), 17, 1024, 53);
	query.dns_present = true;
	/* port 53 to port 53: neither pass decided */
	struct pkt_info query53 = query;
	query53.port[0] = 53;
	struct pkt_info resp = ip4(IP(192, 5, 6, 30), IP(10, 0, 0, 1), 17, 53, 1024);
	resp.dns_present = true;
	resp.dns.qr = 1;
	struct pkt_info resp53 = resp;
	resp53.port[1] = 53;
	/* a response sent to port 53: its forward pass a NoMatch, then the
	 * prefilter decides the reversed one */
	struct pkt_info resp_to53 = resp;
	resp_to53.port[0] = 1024;
	resp_to53.port[1] = 53;
	const struct pkt_want seq[] = {
		{ &query, PME_COUNT }, { &query53, PME_COUNT }, { &resp, PME_NOMATCH },
		{ &resp53, PME_NOMATCH }, { &resp_to53, PME_NOMATCH },
	};
	expect_in_turn(p, memo, seq, NRULES(seq));
	pme_memo_free(memo);
	pme_free(p);
}

/*
 * A table whose tests read values that rarely repeat (here: every
 * packet's addresses are new) would pay a memo lookup and store for
 * nothing: after a window of lookups without enough hits the memo rests
 * for a while, and looks again after that.  Results never change.
 */
static void memo_rests(void **state)
{
	(void)state;
	const struct rule r[] = {
		R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, IP(10, 0, 0, 1), RULE_GOTO, 6),
		R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, IP(10, 0, 0, 2), RULE_GOTO, 6),
		R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, IP(10, 0, 0, 3), RULE_GOTO, 6),
		R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, IP(10, 0, 0, 4), RULE_GOTO, 6),
		RN(RULE_NOMATCH, 0),
		RN(RULE_COUNT, 0),
	};
	struct diag d;
	diag_init(&d, "rests");
	struct pme_program *p = load(r, NRULES(r), 1, &d);
	diag_free(&d);
	assert_non_null(p);
	assert_int_equal(pme_memo_words(p), 1);     /* the address's word */
	struct pme_memo *memo = pme_memo_create();
	assert_non_null(memo);
	struct pme_match m;
	bool rev;
	uint64_t lookups, hits;
	/* new addresses only: a NoMatch both ways, never found */
	const unsigned fresh = 20000;
	for (unsigned k = 0; k < fresh; k++) {
		struct pkt_info pkt = ip4(IP(172, 16, k >> 8, k), IP(172, 17, k >> 8, k), 17,
					  1024, 2048);
		assert_int_equal(classify_agrees(p, memo, &pkt, &m, &rev), PME_NOMATCH);
	}
	pme_memo_stats(memo, &lookups, &hits);
	assert_int_equal(hits, 0);
	assert_true(lookups > 0 && lookups < 2 * fresh);     /* it rested */
	/* one packet over and over: after the rest the memo finds it */
	struct pkt_info again = ip4(IP(10, 0, 0, 3), IP(172, 17, 0, 1), 17, 1024, 2048);
	for (unsigned k = 0; k < 100000; k++)
		assert_int_equal(pme_classify(p, memo, &again, &m, &rev), PME_COUNT);
	assert_int_equal(classify_agrees(p, memo, &again, &m, &rev), PME_COUNT);
	uint64_t lookups2, hits2;
	pme_memo_stats(memo, &lookups2, &hits2);
	assert_true(lookups2 > lookups);
	assert_true(hits2 > 0);
	pme_memo_free(memo);
	pme_free(p);
}

/*
 * A Count from the memo (found or just kept) names its entry's cookie
 * word, the caller's; the word starts at 0 whenever the entry is written,
 * also when the memo follows another program, and
 * pme_memo_forget_cookies() clears them all.  No memo: no cookie.
 */
static void memo_cookies(void **state)
{
	(void)state;
	const struct rule r[] = {
		R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, IP(10, 0, 0, 1), RULE_PUSH_RULE_TO, 6),
		R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, IP(10, 0, 0, 2), RULE_PUSH_RULE_TO, 6),
		R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, IP(10, 0, 0, 3), RULE_PUSH_RULE_TO, 6),
		R4(ATTR_SOURCE_PEER_ADDRESS, 0xffffffff, IP(10, 0, 0, 4), RULE_PUSH_RULE_TO, 6),
		RN(RULE_NOMATCH, 0),
		RN(RULE_COUNT, 0),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	struct pme_program *p2 = load_ok(r, NRULES(r), 2);
	assert_true(pme_memo_words(p) > 0);
	struct pme_memo *memo = pme_memo_create();
	assert_non_null(memo);
	struct pkt_info a = ip4(IP(10, 0, 0, 1), IP(172, 17, 0, 1), 17, 1024, 2048);
	struct pkt_info b = ip4(IP(10, 0, 0, 2), IP(172, 17, 0, 1), 17, 1024, 2048);
	struct pme_match m;
	bool rev;
	/* walked and kept: the new entry's word, 0 */
	assert_int_equal(classify_agrees(p, memo, &a, &m, &rev), PME_COUNT);
	uint64_t *ca = m.flow_cookie;
	assert_non_null(ca);
	assert_int_equal(*ca, 0);
	assert_true(m.key.len > 0);
	struct pme_match w = m;         /* the key, as the walk gave it */
	*ca = 42;
	/* found: the same word, as the caller left it, and the key not
	 * copied but in the entry */
	memset(&m, 0xa5, sizeof m);
	assert_int_equal(pme_classify(p, memo, &a, &m, &rev), PME_COUNT);
	assert_ptr_equal(m.flow_cookie, ca);
	assert_int_equal(*ca, 42);
	assert_int_not_equal(m.key.len, w.key.len);
	const struct flow_key *k = pme_memo_key(ca);
	assert_true(flow_key_equal(k, &w.key));
	assert_int_equal(k->ruleset, w.key.ruleset);
	assert_true(m.key_hashed);
	assert_true(m.key_hash == flow_key_hash(k));
	assert_int_equal(classify_agrees(p, memo, &b, &m, &rev), PME_COUNT);
	/* another entry (their tags' hashes do not clash), its own word */
	uint64_t *cb = m.flow_cookie;
	assert_non_null(cb);
	assert_ptr_not_equal(cb, ca);
	assert_int_equal(*cb, 0);
	*cb = 43;
	assert_int_equal(pme_classify(p, memo, &a, &m, &rev), PME_COUNT);
	assert_ptr_equal(m.flow_cookie, ca);
	assert_int_equal(*ca, 42);
	pme_memo_forget_cookies(memo);
	/* no cookie: the key copied again */
	assert_int_equal(classify_agrees(p, memo, &a, &m, &rev), PME_COUNT);
	assert_true(flow_key_equal(&m.key, &w.key));
	assert_int_equal(*ca, 0);
	assert_int_equal(*cb, 0);
	/* another program: the memo starts empty, so do the words */
	*ca = 44;
	assert_int_equal(classify_agrees(p2, memo, &a, &m, &rev), PME_COUNT);
	assert_non_null(m.flow_cookie);
	assert_int_equal(*m.flow_cookie, 0);
	assert_int_equal(*ca, 0);
	/* no memo, no cookie */
	assert_int_equal(pme_classify(p, NULL, &a, &m, &rev), PME_COUNT);
	assert_null(m.flow_cookie);
	pme_memo_free(memo);
	pme_free(p2);
	pme_free(p);
}

/* ---- load-time refusals ---------------------------------------------- */

static void load_rejects(void **state)
{
	(void)state;
	const struct rule out_of_range[] = {
		R1(ATTR_SOURCE_PEER_TYPE, 255, 1, RULE_GOTO, 2),
		RN(RULE_GOTO_ACT, 5),
	};
	load_fails(out_of_range, NRULES(out_of_range), "rule 2: GotoAct to rule 5, outside 1..2");

	const struct rule ret_no_gosub[] = {
		R1(ATTR_SOURCE_PEER_TYPE, 255, 1, RULE_GOTO, 3),
		RN(RULE_IGNORE, 0),
		RN(RULE_RETURN, 1),
	};
	load_fails(ret_no_gosub, NRULES(ret_no_gosub), "rule 3: Return with an empty return stack");

	const struct rule unknown[] = {
		RN(RULE_GOTO, 2),
		R1(42, 255, 1, RULE_COUNT, 0),
	};
	load_fails(unknown, NRULES(unknown), "rule 2: unknown attribute 42");

	const struct rule bad_op[] = { RN(18, 0) };
	load_fails(bad_op, 1, "rule 1: action 18 is not one of 1..17");

	const struct rule ret_past_end[] = {
		RN(RULE_GOSUB, 3),
		RN(RULE_COUNT, 0),
		RN(RULE_RETURN, 5),
	};
	load_fails(ret_past_end, NRULES(ret_past_end),
		   "rule 3: Return 5 from the Gosub at rule 1 goes to rule 6");

	const struct rule recursion[] = {
		RN(RULE_GOSUB, 3),
		RN(RULE_COUNT, 0),
		R1(ATTR_SOURCE_PEER_TYPE, 255, 1, RULE_GOSUB, 3),
		RN(RULE_RETURN, 1),
	};
	load_fails(recursion, NRULES(recursion), "rule 3: Gosub nested more than 32 deep");

	const struct rule wide[] = {
		mk(ATTR_SOURCE_TRANS_ADDRESS, RULE_COUNT, 0, 4, B(255, 255, 255, 255), B(0, 0, 0, 53)),
	};
	load_fails(wide, 1, "rule 1: mask/value is 4 bytes, SourceTransAddress holds 2");

	const struct rule assign_bad[] = { RA(ATTR_SOURCE_PEER_TYPE, 9, RULE_ASSIGN_ACT, 1) };
	load_fails(assign_bad, 1, "rule 1: AssignAct sets SourcePeerType, which is not a meter variable");
	const struct rule assign_unknown[] = { RA(ATTR_V1, 42, RULE_ASSIGN_ACT, 1) };
	load_fails(assign_unknown, 1, "rule 1: AssignAct of unknown attribute 42");

	const struct rule push_stod[] = {
		R1(ATTR_MATCHING_STOD, 255, 1, RULE_PUSH_RULE_TO, 2),
		RN(RULE_COUNT, 0),
	};
	load_fails(push_stod, NRULES(push_stod), "rule 1: PushRuleTo of MatchingStoD, which cannot be saved");

	const struct rule ret0[] = { RN(RULE_GOSUB, 2), RN(RULE_RETURN, 0) };
	load_fails(ret0, NRULES(ret0), "rule 2: Return 0 goes back to its own Gosub");


	/* a test of an attribute the meter cannot read, when it runs */
	const struct rule untestable[] = {
		mk(ATTR_TO_OCTETS, RULE_GOTO, 2, 1, B(255), B(0)),
		RN(RULE_COUNT, 0),
	};
	load_fails(untestable, NRULES(untestable), "rule 1: ToOctets cannot be tested");
}

static void load_accepts(void **state)
{
	(void)state;
	/* a Return no path reaches without a Gosub is fine, and so is an
	 * empty table (every packet NoMatch) */
	const struct rule r[] = {
		RN(RULE_COUNT, 0),
		RN(RULE_RETURN, 1),
	};
	struct pme_program *p = load_ok(r, NRULES(r), 1);
	assert_int_equal(pme_rule_count(p), 2);
	pme_free(p);
	p = load_ok(NULL, 0, 1);
	struct pme_match m;
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_NOMATCH);
	assert_int_equal(m.errors, 0);
	pme_free(p);

	/* ... and so is that test when an Act skips it */
	const struct rule w[] = {
		RN(RULE_GOTO_ACT, 2),
		mk(ATTR_TO_OCTETS, RULE_GOTO, 3, 1, B(255), B(0)),
		RN(RULE_COUNT, 0),
	};
	p = load_ok(w, NRULES(w), 1);
	assert_int_equal(pme_match(p, udp_pkt(), false, &m), PME_COUNT);
	assert_int_equal(m.rule, 3);
	/* no loop: the step limit is only a safety net */
	assert_true(pme_step_limit(p) > 4 * 3 + 64);
	pme_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_non_ip),
		cmocka_unit_test(fixture_ua_to_ait),
		cmocka_unit_test(fixture_ait_to_ua),
		cmocka_unit_test(fixture_ua_to_other),
		cmocka_unit_test(fixture_other_to_ua),
		cmocka_unit_test(fixture_ua_to_ua),
		cmocka_unit_test(fixture_other_to_other),
		cmocka_unit_test(action_ignore_nomatch),
		cmocka_unit_test(action_count),
		cmocka_unit_test(action_count_pkt),
		cmocka_unit_test(action_gosub_return),
		cmocka_unit_test(action_gosub_nested),
		cmocka_unit_test(action_gosub_act),
		cmocka_unit_test(action_assign_variable),
		cmocka_unit_test(action_variable_unset),
		cmocka_unit_test(action_goto),
		cmocka_unit_test(action_push_rule_to),
		cmocka_unit_test(action_push_pkt_to),
		cmocka_unit_test(action_pop_to),
		cmocka_unit_test(class_kind_tests),
		cmocka_unit_test(matching_stod),
		cmocka_unit_test(flow_ruleset_test),
		cmocka_unit_test(distribution_request),
		cmocka_unit_test(step_limit_cycle),
		cmocka_unit_test(queue_and_key_overflow),
		cmocka_unit_test(ipv6_and_widths),
		cmocka_unit_test(ipv4_peer_push_width),
		cmocka_unit_test(packet_attrs),
		cmocka_unit_test(test_chains),
		cmocka_unit_test(chain_table_vs_rule_by_rule),
		cmocka_unit_test(jump_threading),
		cmocka_unit_test(random_tables),
		cmocka_unit_test(routes_agree),
		cmocka_unit_test(memo_field_values),
		cmocka_unit_test(memo_general_values),
		cmocka_unit_test(memo_rests),
		cmocka_unit_test(memo_cookies),
		cmocka_unit_test(load_rejects),
		cmocka_unit_test(load_accepts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
