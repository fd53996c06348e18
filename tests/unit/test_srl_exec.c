/*
 * test_srl_exec.c — RFC 2723's example programs (tests/data/srl/ex*.srl),
 * compiled and run by the reference PME of test_srl_pme.h on concrete
 * packets: each case is what the RFC's text says the program does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_srl_pme.h"

static const uint8_t ones4[4] = { 0xff, 0xff, 0xff, 0xff };

/* The key holds attr with exactly this mask and value. */
static void assert_item(const struct tkey *k, unsigned attr, uint8_t len,
			const uint8_t *mask, const uint8_t *value)
{
	const struct titem *it = t_key_get(k, attr);
	if (!it)
		fail_msg("attribute %u not in the flow key", attr);
	assert_int_equal(it->len, len);
	assert_memory_equal(it->mask, mask, len);
	assert_memory_equal(it->value, value, len);
}

static void assert_byte(const struct tkey *k, unsigned attr, uint8_t v)
{
	const uint8_t ff = 0xff;
	assert_item(k, attr, 1, &ff, &v);
}

static void assert_port(const struct tkey *k, unsigned attr, unsigned port)
{
	const uint8_t m[2] = { 0xff, 0xff }, v[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	assert_item(k, attr, 2, m, v);
}

static void assert_prefix(const struct tkey *k, unsigned attr, unsigned bits,
			  uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t m[4] = { 0 }, v[4] = { a, b, c, d };
	for (unsigned i = 0; i < bits; i++)
		m[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	assert_item(k, attr, 4, m, v);
}

static void load(const char *name, struct ruleset *rs)
{
	char rel[128];
	snprintf(rel, sizeof rel, "tests/data/srl/%s", name);
	assert_int_equal(t_compile_file(rel, rs), 0);
	assert_true(rs->n_rules > 0);
}

/* Ex. 1: the three operand forms test the same bytes. */
static void ex1_operand_forms(void **state)
{
	(void)state;
	struct ruleset rs;
	load("ex1.srl", &rs);
	struct tkey k;
	struct tpkt p = tp_ipv4("130.216.7.9", 1, "10.0.0.1", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	/* the last IF saved 130.216.7/24 (a later save of one attribute
	 * replaces the earlier ones) */
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 24, 130, 216, 7, 0);
	p = tp_ipv4("130.216.34.1", 1, "10.0.0.1", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 24, 130, 216, 34, 0);
	p = tp_ipv4("130.216.99.1", 1, "10.0.0.1", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 16, 130, 216, 0, 0);
	/* nothing matched: COUNT with an empty key */
	p = tp_ipv4("10.9.9.9", 1, "10.0.0.1", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 0);
	ruleset_free(&rs);
}

/* Ex. 2: 130.216 is always the source, keyed per /24. */
static void ex2_nomatch_direction(void **state)
{
	(void)state;
	struct ruleset rs;
	load("ex2.srl", &rs);
	struct tkey k;
	struct tpkt p = tp_ipv4("130.216.5.6", 1000, "192.0.2.1", 80, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 1);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 24, 130, 216, 5, 0);
	/* the answer: NOMATCH, then counted reversed in the same flow */
	p = tp_ipv4("192.0.2.1", 80, "130.216.5.6", 1000, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_REVERSE);
	assert_int_equal(t_key_attrs(&k), 1);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 24, 130, 216, 5, 0);
	/* inside 130.216: NOMATCH both ways */
	p = tp_ipv4("130.216.1.1", 1, "130.216.2.2", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_IGNORED);
	/* unrelated: IGNORE */
	p = tp_ipv4("192.0.2.1", 1, "198.51.100.1", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_IGNORED);
	ruleset_free(&rs);
}

/* Ex. 3: EXIT outer continues after the block. */
static void ex3_exit(void **state)
{
	(void)state;
	struct ruleset rs;
	load("ex3.srl", &rs);
	struct tkey k;
	struct tpkt p = tp_ipv4("192.168.1.1", 1, "10.1.2.3", 2, 17);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 1);
	assert_prefix(&k, ATTR_DEST_PEER_ADDRESS, 16, 10, 1, 0, 0);
	p = tp_ipv4("172.16.1.1", 1, "10.1.2.3", 2, 17);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 1);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 16, 172, 16, 0, 0);
	ruleset_free(&rs);
}

/* Ex. 4: STORE sets and saves; 'W' is 0x57. */
static void ex4_store(void **state)
{
	(void)state;
	struct ruleset rs;
	load("ex4.srl", &rs);
	struct tkey k;
	struct tpkt p = tp_ipv4("1.2.3.4", 1, "5.6.7.8", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 2);
	assert_byte(&k, ATTR_SOURCE_CLASS, 3);
	assert_byte(&k, ATTR_FLOW_KIND, 0x57);
	ruleset_free(&rs);
}

/* Ex. 5: FlowKind W/T/F/?; well-known port always the destination. */
static void ex5_flowkind(void **state)
{
	(void)state;
	struct ruleset rs;
	load("ex5.srl", &rs);
	struct tkey k;

	struct tpkt p = tp_ipv4("10.0.0.1", 40000, "192.0.2.80", 80, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 6);
	assert_byte(&k, ATTR_SOURCE_PEER_TYPE, 1);
	assert_byte(&k, ATTR_SOURCE_TRANS_TYPE, 6);
	assert_port(&k, ATTR_DEST_TRANS_ADDRESS, 80);
	assert_byte(&k, ATTR_FLOW_KIND, 'W');
	assert_item(&k, ATTR_SOURCE_PEER_ADDRESS, 4, ones4, (const uint8_t[]){ 10, 0, 0, 1 });
	assert_item(&k, ATTR_DEST_PEER_ADDRESS, 4, ones4, (const uint8_t[]){ 192, 0, 2, 80 });

	/* the server's answer: NOMATCH, reversed into the same flow */
	p = tp_ipv4("192.0.2.80", 80, "10.0.0.1", 40000, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_REVERSE);
	assert_byte(&k, ATTR_FLOW_KIND, 'W');
	assert_item(&k, ATTR_SOURCE_PEER_ADDRESS, 4, ones4, (const uint8_t[]){ 10, 0, 0, 1 });

	p = tp_ipv4("10.0.0.1", 40000, "192.0.2.23", 23, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_byte(&k, ATTR_FLOW_KIND, 'T');
	assert_port(&k, ATTR_DEST_TRANS_ADDRESS, 23);

	/* ftp = (20, 21): the element that matched is saved */
	p = tp_ipv4("10.0.0.1", 40000, "192.0.2.21", 21, 17);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_byte(&k, ATTR_FLOW_KIND, 'F');
	assert_byte(&k, ATTR_SOURCE_TRANS_TYPE, 17);
	assert_port(&k, ATTR_DEST_TRANS_ADDRESS, 21);
	p = tp_ipv4("10.0.0.1", 40000, "192.0.2.21", 20, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_port(&k, ATTR_DEST_TRANS_ADDRESS, 20);

	/* unclassified: the whole DestTransAddress, kind '?' */
	p = tp_ipv4("10.0.0.1", 40000, "192.0.2.9", 5555, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_byte(&k, ATTR_FLOW_KIND, '?');
	assert_port(&k, ATTR_DEST_TRANS_ADDRESS, 5555);

	/* both ports well known: NOMATCH both ways */
	p = tp_ipv4("10.0.0.1", 80, "192.0.2.9", 23, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_IGNORED);

	/* not TCP/UDP: SourceTransType saved as 0, no kind */
	p = tp_ipv4("10.0.0.1", 0, "192.0.2.9", 0, 1);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 4);
	assert_byte(&k, ATTR_SOURCE_TRANS_TYPE, 0);
	assert_null(t_key_get(&k, ATTR_FLOW_KIND));

	/* not IPv4: ignored */
	p = tp_ipv4("10.0.0.1", 1, "192.0.2.9", 80, 6);
	tp_int(&p, ATTR_SOURCE_PEER_TYPE, 2);
	assert_int_equal(t_match(&rs, &p, &k), D_IGNORED);
	ruleset_free(&rs);
}

/* Ex. 6: a subroutine classifies both ends. */
static void ex6_subroutine(void **state)
{
	(void)state;
	struct ruleset rs;
	load("ex6.srl", &rs);
	struct tkey k;
	struct tpkt p = tp_ipv4("130.216.1.1", 1, "130.217.5.5", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 4);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 16, 130, 216, 0, 0);
	assert_byte(&k, ATTR_SOURCE_KIND, 10);
	assert_prefix(&k, ATTR_DEST_PEER_ADDRESS, 16, 130, 217, 0, 0);
	assert_byte(&k, ATTR_DEST_KIND, 20);

	p = tp_ipv4("10.1.2.3", 1, "139.80.9.9", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 24, 10, 1, 2, 0);
	assert_byte(&k, ATTR_SOURCE_KIND, 30);
	assert_prefix(&k, ATTR_DEST_PEER_ADDRESS, 16, 139, 80, 0, 0);
	assert_byte(&k, ATTR_DEST_KIND, 20);
	ruleset_free(&rs);
}

/* Ex. 7: my_net is the source; 24-bit saves override the subroutine's. */
static void ex7_return_numbers(void **state)
{
	(void)state;
	struct ruleset rs;
	load("ex7.srl", &rs);
	struct tkey k;
	struct tpkt p = tp_ipv4("130.216.1.1", 1, "10.1.2.3", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 4);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 16, 130, 216, 0, 0);
	assert_byte(&k, ATTR_SOURCE_KIND, 10);
	assert_prefix(&k, ATTR_DEST_PEER_ADDRESS, 24, 10, 1, 2, 0);
	assert_byte(&k, ATTR_DEST_KIND, 30);

	/* other -> my_net: NOMATCH, then the same flow reversed */
	p = tp_ipv4("10.1.2.3", 2, "130.216.1.1", 1, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_REVERSE);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 16, 130, 216, 0, 0);
	assert_byte(&k, ATTR_SOURCE_KIND, 10);

	/* my_net -> my_net: rejected both ways */
	p = tp_ipv4("130.216.1.1", 1, "130.216.2.2", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_IGNORED);

	/* k_net -> other: RETURN 2 has no "2:", so on after ENDCALL; the
	 * 24-bit saves replace the 16 bits the subroutine saved */
	p = tp_ipv4("130.217.1.1", 1, "10.1.2.3", 2, 6);
	assert_int_equal(t_match(&rs, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 4);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 24, 130, 217, 1, 0);
	assert_byte(&k, ATTR_SOURCE_KIND, 20);
	assert_prefix(&k, ATTR_DEST_PEER_ADDRESS, 24, 10, 1, 2, 0);
	assert_byte(&k, ATTR_DEST_KIND, 30);
	ruleset_free(&rs);
}

static enum tdir run_text(const char *text, const struct tpkt *p, struct tkey *k)
{
	struct ruleset rs;
	struct diag d;
	if (t_compile(text, &rs, &d) != 0) {
		diag_free(&d);
		return D_ERROR;
	}
	diag_free(&d);
	enum tdir r = t_match(&rs, p, k);
	ruleset_free(&rs);
	return r;
}

/* && with SAVE: a half-matched AND leaves nothing pushed (PopTo). */
static void and_save_pops(void **state)
{
	(void)state;
	const char *src =
		"IF SourcePeerAddress == 10.0/8 && DestTransAddress == 53 SAVE, COUNT;\n"
		"ELSE { SAVE DestTransAddress; COUNT; }\n";
	struct tkey k;
	struct tpkt p = tp_ipv4("10.1.1.1", 5000, "192.0.2.1", 53, 17);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(t_key_attrs(&k), 2);
	assert_prefix(&k, ATTR_SOURCE_PEER_ADDRESS, 8, 10, 0, 0, 0);
	assert_port(&k, ATTR_DEST_TRANS_ADDRESS, 53);
	p = tp_ipv4("10.1.1.1", 5000, "192.0.2.1", 80, 17);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 1);
	assert_port(&k, ATTR_DEST_TRANS_ADDRESS, 80);
}

/* (a || b && c) && d with SAVE: alternatives that push different counts. */
static void or_and_mixed_pops(void **state)
{
	(void)state;
	const char *src =
		"IF (SourceTransType == 17 || SourceTransType == 6 && SourceTransAddress == 99)"
		" && DestTransAddress == 53 SAVE, COUNT;\n"
		"ELSE { STORE FlowKind := 1; COUNT; }\n";
	struct tkey k;
	struct tpkt p = tp_ipv4("1.1.1.1", 99, "2.2.2.2", 80, 6);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 1);           /* both pushes of the tcp path undone */
	assert_byte(&k, ATTR_FLOW_KIND, 1);
	p = tp_ipv4("1.1.1.1", 99, "2.2.2.2", 53, 6);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 3);
	assert_port(&k, ATTR_SOURCE_TRANS_ADDRESS, 99);
	p = tp_ipv4("1.1.1.1", 7, "2.2.2.2", 80, 17);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 1);
	assert_null(t_key_get(&k, ATTR_SOURCE_TRANS_TYPE));
	p = tp_ipv4("1.1.1.1", 7, "2.2.2.2", 53, 17);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 2);
	assert_byte(&k, ATTR_SOURCE_TRANS_TYPE, 17);
}

/* ! swaps the branches and saves nothing of the negated factor. */
static void not_factor(void **state)
{
	(void)state;
	const char *src =
		"IF !(DestTransAddress == 53) && SourceTransType == 17 SAVE, COUNT;\n"
		"ELSE IGNORE;\n";
	struct tkey k;
	struct tpkt p = tp_ipv4("1.1.1.1", 1, "2.2.2.2", 80, 17);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 1);
	assert_byte(&k, ATTR_SOURCE_TRANS_TYPE, 17);
	p = tp_ipv4("1.1.1.1", 1, "2.2.2.2", 53, 17);
	assert_int_equal(run_text(src, &p, &k), D_IGNORED);
	p = tp_ipv4("1.1.1.1", 1, "2.2.2.2", 80, 6);
	assert_int_equal(run_text(src, &p, &k), D_IGNORED);
}

/* MatchingStoD is tested, never saved; variables read back what STORE set. */
static void stod_and_variables(void **state)
{
	(void)state;
	const char *src =
		"IF SourceTransAddress == 53 { STORE FlowClass := 7; }\n"
		"IF FlowClass == 7 && MatchingStoD == 1 SAVE, COUNT;\n"
		"IF MatchingStoD == 1 NOMATCH;\n"
		"STORE FlowKind := 'r'; COUNT;\n";
	struct tkey k;
	struct tpkt p = tp_ipv4("1.1.1.1", 53, "2.2.2.2", 80, 17);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 2);            /* FlowClass twice, no StoD */
	assert_byte(&k, ATTR_FLOW_CLASS, 7);
	assert_null(t_key_get(&k, ATTR_MATCHING_STOD));
	p = tp_ipv4("1.1.1.1", 80, "2.2.2.2", 54, 17);
	assert_int_equal(run_text(src, &p, &k), D_REVERSE);
	assert_int_equal(k.n, 1);
	assert_byte(&k, ATTR_FLOW_KIND, 'r');
}

/* Distribution SAVE: PushPktToAct carrying the RFC 2724 parameters. */
static void distribution(void **state)
{
	(void)state;
	const char *src = "SAVE ToTurnaroundTime = 60.0.0!0 & 3.0.0!0; COUNT;\n";
	struct tkey k;
	struct tpkt p = tp_ipv4("1.1.1.1", 53, "2.2.2.2", 80, 17);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_item(&k, ATTR_TO_TURNAROUND_TIME, 6,
		    (const uint8_t[]){ 3, 0, 0, 0, 0, 0 },
		    (const uint8_t[]){ 60, 0, 0, 0, 0, 0 });
}

/* Nested CALLs use separate meter variables; plain RETURN goes on after
 * ENDCALL. */
static void nested_calls(void **state)
{
	(void)state;
	const char *src =
		"call outer (SourceTransAddress, FlowKind) 1: ignore; endcall;\n"
		"count;\n"
		"subroutine outer (address port, variable k)\n"
		"  call inner (DestPeerAddress) 1: return 1; endcall;\n"
		"  if port == 53 save, { store k := 'D'; return; }\n"
		"  return 1;\n"
		"endsub;\n"
		"subroutine inner (address a)\n"
		"  if a == 10.0/8 return 1;\n"
		"  save a /8; return;\n"
		"endsub;\n";
	struct tkey k;
	struct tpkt p = tp_ipv4("1.1.1.1", 53, "2.2.2.2", 80, 17);
	assert_int_equal(run_text(src, &p, &k), D_FORWARD);
	assert_int_equal(k.n, 3);
	assert_prefix(&k, ATTR_DEST_PEER_ADDRESS, 8, 2, 0, 0, 0);
	assert_port(&k, ATTR_SOURCE_TRANS_ADDRESS, 53);
	assert_byte(&k, ATTR_FLOW_KIND, 'D');
	p = tp_ipv4("1.1.1.1", 53, "10.2.2.2", 80, 17);
	assert_int_equal(run_text(src, &p, &k), D_IGNORED);
	p = tp_ipv4("1.1.1.1", 54, "2.2.2.2", 80, 17);
	assert_int_equal(run_text(src, &p, &k), D_IGNORED);
}

/* ---- random expressions: generated code against the SRL semantics ------- */

/* Factor kinds of the random expressions, each with two operand lists. */
enum { F_PROTO, F_PORT, F_NET, F_STOD, F_KINDS };

struct rexpr {
	int kind;                 /* 0 test, 1 and, 2 or, 3 not */
	int factor, variant;      /* test */
	struct rexpr *kid[3];
	int n;
};

struct rpkt {
	unsigned proto, port, net0;   /* net0: first byte of SourcePeerAddress */
};

struct saved {
	unsigned attr, value;
};

static unsigned rng_state = 12345;
static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 16) % n;
}

static struct rexpr *rgen(struct rexpr *pool, size_t *used, int depth)
{
	struct rexpr *e = &pool[(*used)++];
	memset(e, 0, sizeof *e);
	int k = depth >= 3 ? 0 : (int)rnd(5);
	if (k >= 4)
		k = 0;
	e->kind = k;
	if (k == 0) {
		e->factor = (int)rnd(F_KINDS);
		e->variant = (int)rnd(2);
	} else if (k == 3) {
		e->n = 1;
		e->kid[0] = rgen(pool, used, depth + 1);
	} else {
		e->n = 2 + (int)rnd(2);
		for (int i = 0; i < e->n; i++)
			e->kid[i] = rgen(pool, used, depth + 1);
	}
	return e;
}

static void rtext(const struct rexpr *e, char *buf, size_t cap)
{
	static const char *const f[F_KINDS][2] = {
		{ "SourceTransType == 6", "SourceTransType == (17, 6)" },
		{ "DestTransAddress == 53", "DestTransAddress == (80, 53)" },
		{ "SourcePeerAddress == 10.0/8", "SourcePeerAddress == (192.0/8, 10.0/8)" },
		{ "MatchingStoD == 1", "MatchingStoD == 0" },
	};
	size_t n = strlen(buf);
	if (e->kind == 0) {
		snprintf(buf + n, cap - n, "%s", f[e->factor][e->variant]);
		return;
	}
	if (e->kind == 3) {
		snprintf(buf + n, cap - n, "!(");
		rtext(e->kid[0], buf, cap);
		n = strlen(buf);
		snprintf(buf + n, cap - n, ")");
		return;
	}
	snprintf(buf + n, cap - n, "(");
	for (int i = 0; i < e->n; i++) {
		if (i) {
			n = strlen(buf);
			snprintf(buf + n, cap - n, e->kind == 1 ? " && " : " || ");
		}
		rtext(e->kid[i], buf, cap);
	}
	n = strlen(buf);
	snprintf(buf + n, cap - n, ")");
}

/* RFC 2723 §3.1/§3.3.1 read directly: short-circuit left to right; the
 * factors that matched on the successful path are saved with the operand
 * that matched; nothing under ! is saved, nor MatchingStoD. */
static bool reval(const struct rexpr *e, const struct rpkt *p, bool save,
		  struct saved *out, size_t *n)
{
	size_t mark = *n;
	switch (e->kind) {
	case 0: {
		unsigned attr = 0, v = 0;
		bool hit = false;
		switch (e->factor) {
		case F_PROTO:
			attr = ATTR_SOURCE_TRANS_TYPE;
			v = p->proto;
			hit = p->proto == 6 || (e->variant && p->proto == 17);
			break;
		case F_PORT:
			attr = ATTR_DEST_TRANS_ADDRESS;
			v = p->port;
			hit = p->port == 53 || (e->variant && p->port == 80);
			break;
		case F_NET:
			attr = ATTR_SOURCE_PEER_ADDRESS;
			v = p->net0;
			hit = p->net0 == 10 || (e->variant && p->net0 == 192);
			break;
		default:        /* first pass: MatchingStoD is 1 */
			return e->variant == 0;
		}
		if (hit && save)
			out[(*n)++] = (struct saved){ attr, v };
		return hit;
	}
	case 1:
		for (int i = 0; i < e->n; i++)
			if (!reval(e->kid[i], p, save, out, n)) {
				*n = mark;
				return false;
			}
		return true;
	case 2:
		for (int i = 0; i < e->n; i++) {
			if (reval(e->kid[i], p, save, out, n))
				return true;
			*n = mark;
		}
		return false;
	default: {
		struct saved tmp[64];
		size_t tn = 0;
		return !reval(e->kid[0], p, false, tmp, &tn);
	}
	}
}

static unsigned item_value(const struct titem *it)
{
	if (it->attr == ATTR_DEST_TRANS_ADDRESS)
		return (unsigned)it->value[0] << 8 | it->value[1];
	return it->value[0];
}

static void random_expressions(void **state)
{
	(void)state;
	static const unsigned protos[] = { 6, 17, 1 }, ports[] = { 53, 80, 443 };
	static const char *const nets[] = { "10.1.2.3", "192.0.2.1", "172.16.0.1" };
	unsigned checked = 0, thens = 0;
	for (int iter = 0; iter < 400; iter++) {
		struct rexpr pool[128];
		size_t used = 0;
		const struct rexpr *e = rgen(pool, &used, 0);
		char cond[4096] = "";
		rtext(e, cond, sizeof cond);
		bool save = rnd(2);
		char src[5000];
		snprintf(src, sizeof src,
			 "IF %s %s COUNT;\nELSE { STORE FlowKind := 1; COUNT; }\n",
			 cond, save ? "SAVE," : "");
		struct ruleset rs;
		struct diag d;
		if (t_compile(src, &rs, &d) != 0)
			fail_msg("does not compile:\n%s", src);
		diag_free(&d);
		for (unsigned a = 0; a < 3; a++)
			for (unsigned b = 0; b < 3; b++)
				for (unsigned c = 0; c < 3; c++) {
					struct rpkt rp = { protos[a], ports[b], 0 };
					struct tpkt p = tp_ipv4(nets[c], 1000, "203.0.113.1",
								ports[b], protos[a]);
					rp.net0 = p.v[ATTR_SOURCE_PEER_ADDRESS][0];
					struct saved want[64];
					size_t nw = 0;
					bool truth = reval(e, &rp, save, want, &nw);
					struct tkey k;
					if (t_run(&rs, &p, true, &k) != T_COUNT)
						fail_msg("no COUNT for\n%s", src);
					if (!truth) {
						if (k.n != 1 || k.q[0].attr != ATTR_FLOW_KIND)
							fail_msg("ELSE expected (%zu items) for\n%s", k.n, src);
						continue;
					}
					thens++;
					if (k.n != nw)
						fail_msg("%zu items pushed, want %zu, packet %u/%u/%u, for\n%s",
							 k.n, nw, rp.proto, rp.port, rp.net0, src);
					for (size_t i = 0; i < nw; i++)
						if (k.q[i].attr != want[i].attr ||
						    item_value(&k.q[i]) != want[i].value)
							fail_msg("item %zu differs for\n%s", i, src);
					checked++;
				}
		ruleset_free(&rs);
	}
	/* both branches were exercised */
	assert_true(thens > 1000);
	assert_true(checked == thens);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ex1_operand_forms),
		cmocka_unit_test(ex2_nomatch_direction),
		cmocka_unit_test(ex3_exit),
		cmocka_unit_test(ex4_store),
		cmocka_unit_test(ex5_flowkind),
		cmocka_unit_test(ex6_subroutine),
		cmocka_unit_test(ex7_return_numbers),
		cmocka_unit_test(and_save_pops),
		cmocka_unit_test(or_and_mixed_pops),
		cmocka_unit_test(not_factor),
		cmocka_unit_test(stod_and_variables),
		cmocka_unit_test(distribution),
		cmocka_unit_test(nested_calls),
		cmocka_unit_test(random_expressions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
