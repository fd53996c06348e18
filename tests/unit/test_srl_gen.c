/*
 * test_srl_gen.c — generated rule tables checked rule by rule against
 * tables reasoned out by hand from RFC 2722's PME semantics and the code
 * generation scheme of doc/srl.md (entry modes, guards, jump tables).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_srl_pme.h"

#define NUL(o, p)  { .attr = ATTR_NULL, .len = 0, .op = (o), .param = (p) }
#define R1(a, m, v, o, p) { .attr = (a), .len = 1, .mask = { m }, .value = { v }, \
			     .op = (o), .param = (p) }
#define R2(a, m0, m1, v0, v1, o, p) { .attr = (a), .len = 2, .mask = { m0, m1 }, \
			     .value = { v0, v1 }, .op = (o), .param = (p) }
#define R4(a, m0, m1, m2, m3, v0, v1, v2, v3, o, p) { .attr = (a), .len = 4, \
			     .mask = { m0, m1, m2, m3 }, .value = { v0, v1, v2, v3 }, \
			     .op = (o), .param = (p) }
/* Assign vN := attribute number (value field, big-endian; mask 0) */
#define ASSIGN(vn, num, o, p) R2(vn, 0, 0, (num) >> 8, (num) & 0xff, o, p)

static void check_table(const struct ruleset *rs, const struct rule *want, size_t n)
{
	for (size_t i = 0; i < n && i < rs->n_rules; i++) {
		const struct rule *g = &rs->rules[i], *w = &want[i];
		if (g->attr != w->attr || g->len != w->len || g->op != w->op ||
		    g->param != w->param || memcmp(g->mask, w->mask, w->len) ||
		    memcmp(g->value, w->value, w->len))
			fail_msg("rule %zu: got attr %u len %u %s, %u; want attr %u len %u %s, %u",
				 i + 1, g->attr, g->len, rule_op_name(g->op), g->param,
				 w->attr, w->len, rule_op_name(w->op), w->param);
	}
	assert_int_equal(rs->n_rules, n);
}

static void compile_file(const char *rel, struct ruleset *rs)
{
	assert_int_equal(t_compile_file(rel, rs), 0);
}

static void compile_text(const char *text, struct ruleset *rs)
{
	struct diag d;
	assert_int_equal(t_compile(text, rs, &d), 0);
	diag_free(&d);
}

/* Ex. 1: the two spellings of one operand give identical rules. */
static void table_ex1(void **state)
{
	(void)state;
	static const struct rule want[] = {
		/* 1: 130.216.0.0 & 255.255.0.0; SAVE; then on to the next IF,
		 *    a test: plain PushRuleTo (the jumps through the empty THEN
		 *    and the failure jump were threaded, then dropped) */
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 255, 0, 0, 130, 216, 0, 0, RULE_PUSH_RULE_TO, 2),
		/* 2: 130.216/16: the same bytes */
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 255, 0, 0, 130, 216, 0, 0, RULE_PUSH_RULE_TO, 3),
		/* 3-4: the list, one rule per element; on to COUNT (Null: ...Act) */
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 255, 255, 0, 130, 216, 7, 0, RULE_PUSH_RULE_TO_ACT, 5),
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 255, 255, 0, 130, 216, 34, 0, RULE_PUSH_RULE_TO_ACT, 5),
		/* 5: COUNT, also reached by falling through rule 4 */
		NUL(RULE_COUNT, 0),
	};
	struct ruleset rs;
	compile_file("tests/data/srl/ex1.srl", &rs);
	check_table(&rs, want, sizeof want / sizeof want[0]);
	ruleset_free(&rs);
}

/* Ex. 3: EXIT jumps past the block; a guard before an unconditional SAVE. */
static void table_ex3(void **state)
{
	(void)state;
	static const struct rule want[] = {
		/* 1: IF ... EXIT outer: straight to the SAVE after the block,
		 *    which must not test: GotoAct (the EXIT jump was threaded) */
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 255, 0, 0, 192, 168, 0, 0, RULE_GOTO_ACT, 5),
		/* 2: failed test falls through here, and rule 3 must run
		 *    unconditionally: the guard stays */
		NUL(RULE_GOTO_ACT, 3),
		/* 3-4: save SourcePeerAddress /16; count */
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 255, 0, 0, 0, 0, 0, 0, RULE_PUSH_PKT_TO_ACT, 4),
		NUL(RULE_COUNT, 0),
		/* 5-6: after the block: save DestPeerAddress /16; count */
		R4(ATTR_DEST_PEER_ADDRESS, 255, 255, 0, 0, 0, 0, 0, 0, RULE_PUSH_PKT_TO_ACT, 6),
		NUL(RULE_COUNT, 0),
	};
	struct ruleset rs;
	compile_file("tests/data/srl/ex3.srl", &rs);
	check_table(&rs, want, sizeof want / sizeof want[0]);
	/* the block's label names its first rule in listings */
	assert_non_null(rs.labels[0]);
	assert_string_equal(rs.labels[0], "outer");
	ruleset_free(&rs);
}

/* Ex. 2 */
static void table_ex2(void **state)
{
	(void)state;
	static const struct rule want[] = {
		/* 1: IF DestPeerAddress == 130.216/16: its THEN (NOMATCH) is
		 *    placed after the ELSE chain; a Null target takes either
		 *    entry mode, ntm then uses the ...Act form */
		R4(ATTR_DEST_PEER_ADDRESS, 255, 255, 0, 0, 130, 216, 0, 0, RULE_GOTO_ACT, 6),
		/* 2: ELSE IF, reached by falling through rule 1's failed test;
		 *    its THEN starts with an unconditional PushPkt: ...Act */
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 255, 0, 0, 130, 216, 0, 0, RULE_GOTO_ACT, 4),
		/* 3: the final ELSE */
		NUL(RULE_IGNORE, 0),
		/* 4: SAVE SourcePeerAddress /24: value 0, packet value pushed;
		 *    entered with the test indicator cleared */
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 255, 255, 0, 0, 0, 0, 0, RULE_PUSH_PKT_TO_ACT, 5),
		/* 5: COUNT */
		NUL(RULE_COUNT, 0),
		/* 6: NOMATCH (the first THEN) */
		NUL(RULE_NOMATCH, 0),
	};
	struct ruleset rs;
	compile_file("tests/data/srl/ex2.srl", &rs);
	check_table(&rs, want, sizeof want / sizeof want[0]);
	ruleset_free(&rs);
}

/* Ex. 4 */
static void table_ex4(void **state)
{
	(void)state;
	static const struct rule want[] = {
		/* 1: rule 1 runs with the test indicator set, and STORE must
		 *    not test: the guard clears it */
		NUL(RULE_GOTO_ACT, 2),
		/* 2: STORE SourceClass := 3 is PushRuleTo of the value; the
		 *    next rule is unconditional too, so ...Act */
		R1(ATTR_SOURCE_CLASS, 255, 3, RULE_PUSH_RULE_TO_ACT, 3),
		/* 3: STORE FlowKind := 'W' (0x57) */
		R1(ATTR_FLOW_KIND, 255, 0x57, RULE_PUSH_RULE_TO_ACT, 4),
		/* 4: COUNT; the end-of-program NoMatch is unreachable: gone */
		NUL(RULE_COUNT, 0),
	};
	struct ruleset rs;
	compile_file("tests/data/srl/ex4.srl", &rs);
	check_table(&rs, want, sizeof want / sizeof want[0]);
	ruleset_free(&rs);
}

/* Ex. 6: CALL = Assign per argument, Gosub, one slot per RETURN number. */
static void table_ex6(void **state)
{
	(void)state;
	static const struct rule want[] = {
		/* 1: the program starts with an Assign (must not test) */
		NUL(RULE_GOTO_ACT, 2),
		/* 2-3: addr -> v1 = SourcePeerAddress (9), net -> v2 = SourceKind (39) */
		ASSIGN(ATTR_V1, ATTR_SOURCE_PEER_ADDRESS, RULE_ASSIGN_ACT, 3),
		ASSIGN(ATTR_V2, ATTR_SOURCE_KIND, RULE_ASSIGN_ACT, 4),
		/* 4: Gosub; the subroutine starts with a test: plain Gosub */
		NUL(RULE_GOSUB, 15),
		/* 5-7: RETURN 1, 2, 3 land here; no numbered statements, so all
		 *      go on after ENDCALL (an Assign: ...Act) */
		NUL(RULE_GOTO_ACT, 8),
		NUL(RULE_GOTO_ACT, 8),
		NUL(RULE_GOTO_ACT, 8),
		/* 8-10: second CALL */
		ASSIGN(ATTR_V1, ATTR_DEST_PEER_ADDRESS, RULE_ASSIGN_ACT, 9),
		ASSIGN(ATTR_V2, ATTR_DEST_KIND, RULE_ASSIGN_ACT, 10),
		NUL(RULE_GOSUB, 15),
		/* 11-13: its slots, all to COUNT */
		NUL(RULE_GOTO_ACT, 14),
		NUL(RULE_GOTO_ACT, 14),
		NUL(RULE_GOTO_ACT, 14),
		/* 14: COUNT (the end-of-program NoMatch is unreachable) */
		NUL(RULE_COUNT, 0),
		/* 15: net_kind: IF addr == my_net SAVE -> its THEN (rule 25),
		 *     whose STORE is unconditional: PushRuleToAct */
		R4(ATTR_V1, 255, 255, 0, 0, 130, 216, 0, 0, RULE_PUSH_RULE_TO_ACT, 25),
		/* 16-21: ELSE IF addr == k_nets SAVE, one rule per element */
		R4(ATTR_V1, 255, 255, 0, 0, 130, 217, 0, 0, RULE_PUSH_RULE_TO_ACT, 23),
		R4(ATTR_V1, 255, 255, 0, 0, 130, 123, 0, 0, RULE_PUSH_RULE_TO_ACT, 23),
		R4(ATTR_V1, 255, 255, 0, 0, 130, 195, 0, 0, RULE_PUSH_RULE_TO_ACT, 23),
		R4(ATTR_V1, 255, 255, 0, 0, 132, 181, 0, 0, RULE_PUSH_RULE_TO_ACT, 23),
		R4(ATTR_V1, 255, 255, 0, 0, 138, 75, 0, 0, RULE_PUSH_RULE_TO_ACT, 23),
		R4(ATTR_V1, 255, 255, 0, 0, 139, 80, 0, 0, RULE_PUSH_RULE_TO_ACT, 23),
		/* 22: no element matched: on to SAVE addr/24, which must not
		 *     test, so this jump stays (GotoAct) */
		NUL(RULE_GOTO_ACT, 27),
		/* 23-24: STORE net := 20; RETURN 2 */
		R1(ATTR_V2, 255, 20, RULE_PUSH_RULE_TO_ACT, 24),
		NUL(RULE_RETURN, 2),
		/* 25-26: STORE net := 10; RETURN 1 */
		R1(ATTR_V2, 255, 10, RULE_PUSH_RULE_TO_ACT, 26),
		NUL(RULE_RETURN, 1),
		/* 27-29: SAVE addr/24 (width 4: v1 carries IPv4 addresses);
		 *        STORE net := 30; RETURN 3 */
		R4(ATTR_V1, 255, 255, 255, 0, 0, 0, 0, 0, RULE_PUSH_PKT_TO_ACT, 28),
		R1(ATTR_V2, 255, 30, RULE_PUSH_RULE_TO_ACT, 29),
		NUL(RULE_RETURN, 3),
	};
	struct ruleset rs;
	compile_file("tests/data/srl/ex6.srl", &rs);
	check_table(&rs, want, sizeof want / sizeof want[0]);
	ruleset_free(&rs);
}

/* && with SAVE: PopTo undoes the first factor's push. */
static void table_and_save(void **state)
{
	(void)state;
	static const struct rule want[] = {
		/* 1: first factor matched: push it, go test the second (a test:
		 *    plain PushRuleTo keeps the indicator set) */
		R4(ATTR_SOURCE_PEER_ADDRESS, 255, 0, 0, 0, 10, 0, 0, 0, RULE_PUSH_RULE_TO, 3),
		/* 2: first factor failed: nothing pushed, straight to ELSE */
		NUL(RULE_GOTO_ACT, 5),
		/* 3: second factor: push it and go to THEN (COUNT) */
		R2(ATTR_DEST_TRANS_ADDRESS, 255, 255, 0, 53, RULE_PUSH_RULE_TO_ACT, 6),
		/* 4: second factor failed: one item to pop first */
		NUL(RULE_GOTO_ACT, 7),
		/* 5: ELSE */
		NUL(RULE_IGNORE, 0),
		/* 6: THEN */
		NUL(RULE_COUNT, 0),
		/* 7: pop the first factor's push, then ELSE */
		NUL(RULE_POP_TO_ACT, 5),
	};
	struct ruleset rs;
	compile_text("IF SourcePeerAddress == 10.0/8 && DestTransAddress == 53 SAVE, COUNT;\n"
		     "ELSE IGNORE;\n", &rs);
	check_table(&rs, want, sizeof want / sizeof want[0]);
	ruleset_free(&rs);
}

/* ||, a plain IF (no SAVE), and falling off the end of the program. */
static void table_or_no_save(void **state)
{
	(void)state;
	static const struct rule want[] = {
		/* 1-2: either test jumps to THEN (COUNT, rule 4) */
		R1(ATTR_SOURCE_TRANS_TYPE, 255, 6, RULE_GOTO_ACT, 4),
		R1(ATTR_SOURCE_TRANS_TYPE, 255, 17, RULE_GOTO_ACT, 4),
		/* 3: neither matched: to the end of the program (THEN is
		 *    placed first, so this jump is not to the next rule) */
		NUL(RULE_GOTO_ACT, 5),
		/* 4: THEN */
		NUL(RULE_COUNT, 0),
		/* 5: falling off the program is NoMatch */
		NUL(RULE_NOMATCH, 0),
	};
	struct ruleset rs;
	compile_text("IF SourceTransType == 6 || SourceTransType == 17 COUNT;\n", &rs);
	check_table(&rs, want, sizeof want / sizeof want[0]);
	ruleset_free(&rs);
}

/* SET, FORMAT and STATISTICS reach the ruleset. */
static void set_format_statistics(void **state)
{
	(void)state;
	struct ruleset rs;
	compile_text("SET 7;\nCOUNT;\nFORMAT FlowRuleSet FlowIndex \"  \" ToOctets DNSLost;\n"
		     "STATISTICS;\n", &rs);
	assert_int_equal(rs.set, 7);
	assert_true(rs.statistics);
	assert_int_equal(rs.n_format, 5);
	assert_int_equal(rs.format[0].attr, ATTR_FLOW_RULESET);
	assert_int_equal(rs.format[1].attr, ATTR_FLOW_INDEX);
	assert_null(rs.format[0].sep);
	assert_string_equal(rs.format[2].sep, "  ");
	assert_int_equal(rs.format[3].attr, ATTR_TO_OCTETS);
	assert_int_equal(rs.format[4].attr, ATTR_DNS_LOST);
	ruleset_free(&rs);
}

/* Distribution: one PushPktToAct carrying the RFC 2724 parameters. */
static void table_distribution(void **state)
{
	(void)state;
	static const struct rule want[] = {
		NUL(RULE_GOTO_ACT, 2),
		/* mask 2.3.1!1800: log, 10^3, 1..1800; value 60.0.0!0 */
		{ .attr = ATTR_TO_INTERARRIVAL_TIME, .len = 6,
		  .mask = { 2, 3, 0, 1, 0x07, 0x08 }, .value = { 60, 0, 0, 0, 0, 0 },
		  .op = RULE_PUSH_PKT_TO_ACT, .param = 3 },
		NUL(RULE_COUNT, 0),
	};
	struct ruleset rs;
	compile_text("SAVE ToInterarrivalTime = 60.0.0!0 & 2.3.1!1800;\nCOUNT;\n", &rs);
	check_table(&rs, want, sizeof want / sizeof want[0]);
	ruleset_free(&rs);
}

/* Value forms reach the rule bytes: hex fields, IPv6, MAC, 'c'. */
static void value_forms(void **state)
{
	(void)state;
	struct ruleset rs;
	compile_text("IF SourcePeerAddress == 82-D8-00-00 & FF-FF-00-00 COUNT;\n"
		     "IF DestPeerAddress == 2001:db8::/32 COUNT;\n"
		     "IF SourceAdjacentAddress == 00:60:3e:10:e0:a1 COUNT;\n"
		     "IF FlowKind == 'T' COUNT;\n", &rs);
	/* three rules per IF: the test, its failure jump, COUNT */
	const struct rule *r = rs.rules;
	assert_int_equal(rs.n_rules, 13);
	assert_int_equal(r[0].len, 4);
	assert_memory_equal(r[0].value, ((uint8_t[]){ 0x82, 0xd8, 0, 0 }), 4);
	assert_memory_equal(r[0].mask, ((uint8_t[]){ 0xff, 0xff, 0, 0 }), 4);
	assert_int_equal(r[3].attr, ATTR_DEST_PEER_ADDRESS);
	assert_int_equal(r[3].len, 16);
	assert_memory_equal(r[3].value, ((uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0 }), 5);
	assert_memory_equal(r[3].mask, ((uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0 }), 5);
	assert_int_equal(r[6].len, 6);
	assert_memory_equal(r[6].value, ((uint8_t[]){ 0, 0x60, 0x3e, 0x10, 0xe0, 0xa1 }), 6);
	assert_int_equal(r[9].attr, ATTR_FLOW_KIND);
	assert_int_equal(r[9].value[0], 'T');
	ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_ex1),
		cmocka_unit_test(table_ex2),
		cmocka_unit_test(table_ex3),
		cmocka_unit_test(table_ex4),
		cmocka_unit_test(table_ex6),
		cmocka_unit_test(table_and_save),
		cmocka_unit_test(table_or_no_save),
		cmocka_unit_test(set_format_statistics),
		cmocka_unit_test(table_distribution),
		cmocka_unit_test(value_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
