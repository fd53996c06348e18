/* test_rulesfile — NeMaC rules files: reading, writing, listing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "diag.h"
#include "rule.h"
#include "rulesfile.h"
#include "value.h"

static int read_text(const char *text, struct ruleset *rs, struct diag *d)
{
	diag_init(d, "test.rules");
	return rulesfile_read(text, strlen(text), rs, d);
}

/* Read `text`, which must succeed. */
static void read_ok(const char *text, struct ruleset *rs)
{
	struct diag d;
	if (read_text(text, rs, &d)) {
		char *buf;
		size_t len;
		FILE *m = open_memstream(&buf, &len);
		diag_print(&d, m);
		fclose(m);
		fail_msg("unexpected errors:\n%s", buf);
	}
	assert_int_equal(d.errors, 0);
	diag_free(&d);
}

/* Read `text`, which must fail with a message containing `part` at
 * line:col. */
static void read_fails(const char *text, unsigned line, unsigned col,
		       const char *part)
{
	struct ruleset rs;
	struct diag d;
	assert_int_equal(read_text(text, &rs, &d), -1);
	assert_true(d.errors > 0);
	assert_int_equal(rs.n_rules, 0);        /* left empty on failure */
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		if (strstr(d.msgs[i].text, part) && d.msgs[i].line == line &&
		    d.msgs[i].col == col)
			found = true;
	if (!found) {
		for (size_t i = 0; i < d.n; i++)
			print_message("  %u:%u: %s\n", d.msgs[i].line, d.msgs[i].col,
				      d.msgs[i].text);
		fail_msg("no '%s' at %u:%u", part, line, col);
	}
	ruleset_free(&rs);
	diag_free(&d);
}

static void expect_rule(const struct ruleset *rs, size_t num, unsigned attr,
			uint8_t len, const uint8_t *mask, const uint8_t *value,
			unsigned op, uint32_t param)
{
	assert_true(num >= 1 && num <= rs->n_rules);
	const struct rule *r = &rs->rules[num - 1];
	assert_int_equal(r->attr, attr);
	assert_int_equal(r->len, len);
	assert_memory_equal(r->mask, mask, len);
	assert_memory_equal(r->value, value, len);
	assert_int_equal(r->op, op);
	assert_int_equal(r->param, param);
}

static const uint8_t Z[RULE_ADDR_MAX];   /* zeros */

static char *fixture_path(const char *name)
{
	const char *root = getenv("NTM_ROOT");
	char *path;
	if (asprintf(&path, "%s/tests/data/rules/%s", root ? root : ".", name) < 0)
		return NULL;
	return path;
}

static void two_ip_groups(void **state)
{
	(void)state;
	struct ruleset rs;
	struct diag d;
	char *path = fixture_path("two-ip-groups.rules");
	diag_init(&d, path);
	assert_int_equal(ruleset_read_file(path, &rs, &d), 0);
	free(path);
	assert_int_equal(d.errors, 0);
	assert_int_equal(rs.set, 5);
	assert_int_equal(rs.n_rules, 25);
	static const uint8_t ff[] = { 0xff }, one[] = { 0x01 };
	static const uint8_t m16[] = { 0xff, 0xff, 0, 0 };
	expect_rule(&rs, 1, ATTR_SOURCE_PEER_TYPE, 1, ff, one, RULE_PUSH_RULE_TO_ACT, 3);
	expect_rule(&rs, 2, ATTR_NULL, 0, Z, Z, RULE_IGNORE, 0);
	expect_rule(&rs, 3, ATTR_V1, 2, Z, (const uint8_t[]){ 0, 9 }, RULE_ASSIGN_ACT, 4);
	expect_rule(&rs, 4, ATTR_NULL, 0, Z, Z, RULE_GOSUB, 19);
	expect_rule(&rs, 5, ATTR_NULL, 0, Z, Z, RULE_GOTO_ACT, 8);
	expect_rule(&rs, 6, ATTR_NULL, 0, Z, Z, RULE_GOTO_ACT, 13);
	expect_rule(&rs, 7, ATTR_NULL, 0, Z, Z, RULE_NOMATCH, 0);
	expect_rule(&rs, 8, ATTR_V1, 2, Z, (const uint8_t[]){ 0, 19 }, RULE_ASSIGN_ACT, 9);
	expect_rule(&rs, 12, ATTR_NULL, 0, Z, Z, RULE_GOTO_ACT, 18);
	expect_rule(&rs, 13, ATTR_V1, 2, Z, (const uint8_t[]){ 0, 19 }, RULE_ASSIGN_ACT, 14);
	expect_rule(&rs, 15, ATTR_NULL, 0, Z, Z, RULE_NOMATCH, 0);
	expect_rule(&rs, 18, ATTR_NULL, 0, Z, Z, RULE_COUNT, 0);
	expect_rule(&rs, 19, ATTR_V1, 4, m16, (const uint8_t[]){ 130, 216, 0, 0 },
		    RULE_GOTO_ACT, 22);
	expect_rule(&rs, 20, ATTR_V1, 4, m16, (const uint8_t[]){ 156, 62, 0, 0 },
		    RULE_GOTO_ACT, 24);
	expect_rule(&rs, 21, ATTR_NULL, 0, Z, Z, RULE_RETURN, 3);
	expect_rule(&rs, 22, ATTR_V1, 4, m16, Z, RULE_PUSH_PKT_TO_ACT, 23);
	expect_rule(&rs, 25, ATTR_NULL, 0, Z, Z, RULE_RETURN, 2);
	assert_null(rs.labels[0]);
	assert_string_equal(rs.labels[2], "ip_pkt");
	assert_string_equal(rs.labels[7], "from_ua");
	assert_string_equal(rs.labels[17], "ok_pkt");
	assert_string_equal(rs.labels[18], "classify");
	assert_string_equal(rs.labels[23], "ait");
	assert_int_equal(rs.n_format, 11);
	assert_int_equal(rs.format[0].attr, ATTR_FLOW_RULESET);
	assert_int_equal(rs.format[1].attr, ATTR_FLOW_INDEX);
	assert_int_equal(rs.format[3].attr, 0);
	assert_string_equal(rs.format[3].sep, "  ");
	assert_int_equal(rs.format[10].attr, ATTR_FROM_OCTETS);
	assert_true(rs.statistics);
	ruleset_free(&rs);
	diag_free(&d);
}

static void forms_fixture(void **state)
{
	(void)state;
	struct ruleset rs;
	struct diag d;
	char *path = fixture_path("forms.rules");
	diag_init(&d, path);
	assert_int_equal(ruleset_read_file(path, &rs, &d), 0);
	free(path);
	diag_free(&d);
	assert_int_equal(rs.set, 7);
	assert_int_equal(rs.n_rules, 18);
	expect_rule(&rs, 1, ATTR_SOURCE_PEER_TYPE, 1, (const uint8_t[]){ 0xff },
		    (const uint8_t[]){ 2 }, RULE_GOTO, 11);
	expect_rule(&rs, 6, ATTR_NULL, 0, Z, Z, RULE_NOMATCH, 0);
	expect_rule(&rs, 7, ATTR_DEST_TRANS_ADDRESS, 2, (const uint8_t[]){ 0xff, 0xff },
		    (const uint8_t[]){ 0, 53 }, RULE_PUSH_RULE_TO, 8);
	expect_rule(&rs, 8, ATTR_SOURCE_PEER_ADDRESS, 4,
		    (const uint8_t[]){ 0xff, 0xff, 0xff, 0 },
		    (const uint8_t[]){ 192, 168, 1, 0 }, RULE_PUSH_RULE_TO_ACT, 15);
	expect_rule(&rs, 9, ATTR_DEST_PEER_ADDRESS, 4,
		    (const uint8_t[]){ 0xff, 0xff, 0, 0 },
		    (const uint8_t[]){ 192, 168, 0, 0 }, RULE_PUSH_RULE_TO_ACT, 15);
	static const uint8_t m32[16] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	expect_rule(&rs, 11, ATTR_SOURCE_PEER_ADDRESS, 16, m32, db8, RULE_PUSH_RULE_TO_ACT, 14);
	static const uint8_t m48[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t root[16] = { 0x20, 0x01, 0x05, 0x00, 0x00, 0x2f };
	expect_rule(&rs, 12, ATTR_DEST_PEER_ADDRESS, 16, m48, root, RULE_PUSH_RULE_TO_ACT, 14);
	expect_rule(&rs, 14, ATTR_FLOW_KIND, 1, (const uint8_t[]){ 0xff },
		    (const uint8_t[]){ '6' }, RULE_PUSH_RULE_TO_ACT, 15);
	expect_rule(&rs, 17, ATTR_SOURCE_ADJACENT_ADDRESS, 6,
		    (const uint8_t[]){ 0xff, 0xff, 0xff, 0, 0, 0 },
		    (const uint8_t[]){ 0x00, 0x60, 0x3e, 0x10, 0xe0, 0xa1 },
		    RULE_PUSH_PKT_TO_ACT, 18);
	expect_rule(&rs, 18, ATTR_NULL, 0, Z, Z, RULE_COUNT_PKT, 0);
	assert_int_equal(rs.n_format, 12);
	assert_string_equal(rs.format[3].sep, "\t");
	assert_string_equal(rs.format[7].sep, "  \"kind\" ");
	assert_true(rs.statistics);
	ruleset_free(&rs);
}

static void symbols_and_forms(void **state)
{
	(void)state;
	struct ruleset rs;
	read_ok("rules\n"
		"sourcetranstype & 255 = TCP: pushruletoact, next;\n"
		"DestTransType & 255 = udp : Goto, 1 ;\n"
		"DestPeerType & 255 = IPv6: Count;\n"
		"SourcePeerAddress & ffff:ffff:: = 2001:db8:::PushPktTo, 1;\n"
		"SourcePeerAddress & 255.255 = 2001:db8::beef : Count, 0;\n"
		"DestPeerAddress & 32!0 = 2001:db8::dead: Count, 0;\n"
		"FlowKind & 255 = ':': PushRuleToAct, 7;\n"
		"ToTurnaroundTime & 2.3.1!1800 = 60.0.0!0: PushPkttoAct, Next;"
		"# a comment right after\n"
		"v2 & 0 = 41: AssignAct, 2;\n"
		"l1: l2: DestTransAddress & F8-00 = 0: Pushto, l2;\n", &rs);
	assert_int_equal(rs.n_rules, 10);
	assert_int_equal(rs.set, 0);
	expect_rule(&rs, 1, ATTR_SOURCE_TRANS_TYPE, 1, (const uint8_t[]){ 0xff },
		    (const uint8_t[]){ 6 }, RULE_PUSH_RULE_TO_ACT, 2);
	expect_rule(&rs, 2, ATTR_DEST_TRANS_TYPE, 1, (const uint8_t[]){ 0xff },
		    (const uint8_t[]){ 17 }, RULE_GOTO, 1);
	expect_rule(&rs, 3, ATTR_DEST_PEER_TYPE, 1, (const uint8_t[]){ 0xff },
		    (const uint8_t[]){ 2 }, RULE_COUNT, 0);
	static const uint8_t m32[16] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	expect_rule(&rs, 4, ATTR_SOURCE_PEER_ADDRESS, 16, m32, db8, RULE_PUSH_PKT_TO, 1);
	static const uint8_t m16[16] = { 0xff, 0xff };
	static const uint8_t beef[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xbe, 0xef };
	expect_rule(&rs, 5, ATTR_SOURCE_PEER_ADDRESS, 16, m16, beef, RULE_COUNT, 0);
	static const uint8_t m32b[16] = { 0x00, 0x20 };
	static const uint8_t dead[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xde, 0xad };
	expect_rule(&rs, 6, ATTR_DEST_PEER_ADDRESS, 16, m32b, dead, RULE_COUNT, 0);
	expect_rule(&rs, 7, ATTR_FLOW_KIND, 1, (const uint8_t[]){ 0xff },
		    (const uint8_t[]){ ':' }, RULE_PUSH_RULE_TO_ACT, 7);
	expect_rule(&rs, 8, ATTR_TO_TURNAROUND_TIME, 6,
		    (const uint8_t[]){ 2, 3, 0, 1, 0x07, 0x08 },
		    (const uint8_t[]){ 60, 0, 0, 0, 0, 0 }, RULE_PUSH_PKT_TO_ACT, 9);
	expect_rule(&rs, 9, ATTR_V2, 2, Z, (const uint8_t[]){ 0, 41 }, RULE_ASSIGN_ACT, 2);
	expect_rule(&rs, 10, ATTR_DEST_TRANS_ADDRESS, 2, (const uint8_t[]){ 0xf8, 0 },
		    Z, RULE_PUSH_RULE_TO, 10);
	assert_string_equal(rs.labels[9], "l2");
	ruleset_free(&rs);
}

static void errors_have_positions(void **state)
{
	(void)state;
	read_fails("RULES\nFoo & 1 = 1: Count, 0;\n", 2, 1, "unknown attribute 'Foo'");
	read_fails("RULES\n  SourcePeerType & 255 = 1: Jump, 0;\n", 2, 29,
		   "unknown action 'Jump'");
	read_fails("SourceTransType & 255 = 300: Count, 0;", 1, 25,
		   "value of SourceTransType: value 300 does not fit in 1 byte");
	read_fails("DestTransAddress & 255.255.255.255 = 0: Count, 0;", 1, 20,
		   "mask of DestTransAddress: value is 4 bytes, DestTransAddress holds 2");
	read_fails("Null & 0 = 0: Goto, nowhere;\n", 1, 21, "undefined label 'nowhere'");
	read_fails("a:\nNull & 0 = 0: Count, 0;\nA:\nNull & 0 = 0: Count, 0;\n",
		   3, 1, "label 'A' already defined at line 1");
	read_fails("Null & 0 = 0: Count, 0;\nend:\n", 2, 1,
		   "label 'end' is not followed by a rule");
	read_fails("Null & 0 = 0: Count, 0\nNull & 0 = 0: Count, 0;\n", 1, 23,
		   "expected ';'");
	read_fails("Null & 0 = 0: Goto, 65536;\n", 1, 21, "not a number in 0..65535");
	read_fails("Null & 0 = 0: Goto, 12x;\n", 1, 21, "not a number");
	read_fails("Null & = 0: Goto, 1;\n", 1, 8, "missing mask");
	read_fails("Null & 0 0: Goto, 1;\n", 1, 10, "expected '='");
	read_fails("Null & 0 = 0 Goto, 1;\n", 1, 14, "expected ':'");
	read_fails("Null & 0 = : Goto, 1;\n", 1, 12, "missing value before ':'");
	read_fails("Null & 0 = 0: , 1;\n", 1, 15, "expected an action");
	read_fails("FlowKind & 255 = 'W: Count, 0;\n", 1, 18,
		   "unterminated character constant");
	read_fails("SET 5\nSET 6\n", 2, 1, "SET given twice");
	read_fails("SET x\n", 1, 5, "expected a number for SET");
	read_fails("FORMAT SourcePeerAddress \"ab\n\";\n", 1, 26, "unterminated string");
	read_fails("FORMAT SourcePeerAddress Bogus;\n", 1, 26,
		   "unknown attribute 'Bogus' in FORMAT");
	read_fails("FORMAT SourcePeerAddress", 1, 1, "FORMAT is not ended by ';'");
	read_fails("FORMAT \"a\\q\";", 1, 10, "unknown escape");
	read_fails("RULES\n  % oops\n", 2, 3, "unexpected '%'");
	read_fails("RULES\n  frob;\n", 2, 3, "not 'frob'");
	read_fails("Next:\nNull & 0 = 0: Count, 0;\n", 1, 1, "'Next' is a parameter");
	read_fails("RULES \x01", 1, 7, "unexpected byte 0x01");
	/* several errors in one file are all reported */
	struct ruleset rs;
	struct diag d;
	assert_int_equal(read_text("Foo & 1 = 1: Count, 0;\n"
				   "Null & 0 = 0: Bar, 0;\n"
				   "Null & 0 = 0: Count, 0;\n"
				   "SourcePeerType & 1.1 = 0: Count, 0;\n", &rs, &d), -1);
	assert_int_equal(d.errors, 3);
	assert_int_equal(d.msgs[0].line, 1);
	assert_int_equal(d.msgs[1].line, 2);
	assert_int_equal(d.msgs[2].line, 4);
	diag_free(&d);
	ruleset_free(&rs);
}

/* A table with every action, every attribute (at each width it can have),
 * labels, IPv6, distribution parameters, Assign and FORMAT separators. */
static void build_big_table(struct ruleset *rs)
{
	ruleset_init(rs);
	rs->set = 42;
	uint32_t seed = 7;
	const struct attr_info *a;
	size_t k = 0;
	for (size_t i = 0; (a = attr_at(i)) != NULL; i++) {
		uint8_t widths[4] = { a->width };
		unsigned nw = 1;
		if (a->type == ATTR_T_PEER)
			widths[0] = 4, widths[1] = 16, nw = 2;
		if (a->type == ATTR_T_VARIABLE || a->type == ATTR_T_NONE)
			widths[0] = 1, widths[1] = 2, widths[2] = 4, widths[3] = 16, nw = 4;
		for (unsigned w = 0; w < nw; w++) {
			struct rule r = { .attr = a->num, .len = widths[w] };
			for (unsigned b = 0; b < r.len; b++) {
				seed = seed * 1103515245u + 12345u;
				r.mask[b] = (seed >> 16) % 4 ? (uint8_t)(seed >> 8) : 0;
				seed = seed * 1103515245u + 12345u;
				r.value[b] = (seed >> 16) % 4 ? (uint8_t)(seed >> 8) : 0;
			}
			if (a->num == ATTR_NULL)   /* zero Null rules are width 0 */
				r.mask[0] |= 0x80;
			r.op = (uint8_t)(1 + k % RULE_OP_MAX);
			if (r.op == RULE_ASSIGN || r.op == RULE_ASSIGN_ACT)
				r.op = RULE_GOTO;
			r.param = (uint32_t)(k * 7 % 300);
			char label[16];
			snprintf(label, sizeof label, "L%zu", k);
			assert_int_equal(ruleset_add_rule(rs, &r, k % 3 ? NULL : label), 0);
			k++;
		}
	}
	/* the always-true Null test, as srlc emits it */
	struct rule always = { .attr = ATTR_NULL, .op = RULE_GOTO_ACT, .param = 3 };
	assert_int_equal(ruleset_add_rule(rs, &always, NULL), 0);
	/* Assign, by name and by a number that names nothing */
	struct rule as = { .attr = ATTR_V3, .len = 2, .value = { 0, ATTR_DEST_TRANS_ADDRESS },
			   .op = RULE_ASSIGN_ACT, .param = 2 };
	assert_int_equal(ruleset_add_rule(rs, &as, "assign"), 0);
	as.op = RULE_ASSIGN;
	as.value[1] = 250;
	assert_int_equal(ruleset_add_rule(rs, &as, NULL), 0);
	as.len = 4;
	as.mask[0] = 0xff;
	as.value[1] = ATTR_SOURCE_PEER_ADDRESS;
	assert_int_equal(ruleset_add_rule(rs, &as, NULL), 0);
	/* IPv6 and an RFC 2724 distribution */
	struct rule v6 = { .attr = ATTR_DEST_PEER_ADDRESS, .len = 16,
			   .mask = { 0xff, 0xff, 0xff, 0xff },
			   .value = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
			   .op = RULE_PUSH_RULE_TO, .param = 1 };
	assert_int_equal(ruleset_add_rule(rs, &v6, "v6"), 0);
	v6.value[15] = 0;               /* "2001:db8::" ends in ':' */
	assert_int_equal(ruleset_add_rule(rs, &v6, NULL), 0);
	struct rule dist = { .attr = ATTR_TO_TURNAROUND_TIME, .len = 6,
			     .mask = { 2, 3, 0, 1, 0x07, 0x08 }, .value = { 60 },
			     .op = RULE_PUSH_PKT_TO_ACT, .param = 5 };
	assert_int_equal(ruleset_add_rule(rs, &dist, NULL), 0);
	assert_int_equal(ruleset_add_format_attr(rs, ATTR_FLOW_RULESET), 0);
	assert_int_equal(ruleset_add_format_sep(rs, "  ", 2), 0);
	for (size_t i = 0; (a = attr_at(i)) != NULL; i++)
		if (a->flags & ATTR_F_READ)
			assert_int_equal(ruleset_add_format_attr(rs, a->num), 0);
	assert_int_equal(ruleset_add_format_sep(rs, "a \"q\" \\ \t;#", 11), 0);
	assert_int_equal(ruleset_add_format_attr(rs, ATTR_TO_OCTETS), 0);
	rs->statistics = true;
}

static char *write_text(const struct ruleset *rs)
{
	char *buf;
	size_t len;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	assert_int_equal(rulesfile_write(rs, m), 0);
	fclose(m);
	return buf;
}

static void round_trip(void **state)
{
	(void)state;
	struct ruleset rs, back, again;
	build_big_table(&rs);
	assert_true(rs.n_rules > 100);
	char *text = write_text(&rs);
	read_ok(text, &back);
	assert_true(ruleset_equal(&rs, &back));
	/* labels survive where they were valid */
	assert_string_equal(back.labels[0], "L0");
	assert_null(back.labels[1]);
	/* the writer is canonical: writing the read table gives the same text */
	char *text2 = write_text(&back);
	assert_string_equal(text, text2);
	read_ok(text2, &again);
	assert_true(ruleset_equal(&rs, &again));
	free(text);
	free(text2);
	ruleset_free(&rs);
	ruleset_free(&back);
	ruleset_free(&again);
}

static void fixture_round_trip(void **state)
{
	(void)state;
	struct ruleset rs, back;
	struct diag d;
	char *path = fixture_path("two-ip-groups.rules");
	diag_init(&d, path);
	assert_int_equal(ruleset_read_file(path, &rs, &d), 0);
	free(path);
	diag_free(&d);
	char *text = write_text(&rs);
	/* canonical lines: numeric parameters, label lines, rule numbers */
	assert_non_null(strstr(text, "SET 5\nRULES\n"));
	assert_non_null(strstr(text, "ip_pkt:\n  v1 & 0 = SourcePeerAddress:"));
	assert_non_null(strstr(text, " AssignAct, 4;  # 3\n"));
	assert_non_null(strstr(text, " NoMatch, 0;  # 7\n"));
	assert_non_null(strstr(text, "v1 & 255.255.0.0 = 130.216.0.0:"));
	assert_non_null(strstr(text, " PushPktToAct, 25;  # 24\n"));
	/* zero variable fields are short, as NeMaC wrote them */
	assert_non_null(strstr(text, "ait:\n  v1 & 255.255.0.0 = 0:"));
	assert_non_null(strstr(text, "FORMAT FlowRuleSet FlowIndex FirstTime \"  \""));
	assert_non_null(strstr(text, "\nSTATISTICS\n"));
	read_ok(text, &back);
	assert_true(ruleset_equal(&rs, &back));
	for (size_t i = 0; i < rs.n_rules; i++) {
		assert_int_equal(!rs.labels[i], !back.labels[i]);
		if (rs.labels[i])
			assert_string_equal(rs.labels[i], back.labels[i]);
	}
	free(text);
	ruleset_free(&rs);
	ruleset_free(&back);
}

static void writer_refuses(void **state)
{
	(void)state;
	struct ruleset rs;
	char *buf;
	size_t len;
	FILE *m = open_memstream(&buf, &len);
	ruleset_init(&rs);
	struct rule r = { .attr = 999, .len = 1, .op = RULE_COUNT };
	assert_int_equal(ruleset_add_rule(&rs, &r, NULL), 0);
	assert_int_equal(rulesfile_write(&rs, m), -1);
	rs.rules[0].attr = ATTR_DEST_TRANS_ADDRESS;
	rs.rules[0].op = 0;
	assert_int_equal(rulesfile_write(&rs, m), -1);
	rs.rules[0].op = RULE_COUNT;
	rs.rules[0].len = 5;            /* a 5-byte port cannot be written */
	assert_int_equal(rulesfile_write(&rs, m), -1);
	rs.rules[0].len = 2;
	rs.rules[0].param = 70000;
	assert_int_equal(rulesfile_write(&rs, m), -1);
	rs.rules[0].param = 0;
	struct rule null2 = { .attr = ATTR_NULL, .len = 2, .op = RULE_IGNORE };
	assert_int_equal(ruleset_add_rule(&rs, &null2, NULL), 0);
	fflush(m);
	assert_int_equal(len, 0);       /* nothing half-written */
	assert_int_equal(rulesfile_write(&rs, m), 0);
	fclose(m);
	assert_non_null(strstr(buf, "DestTransAddress & 0 = 0: Count, 0;  # 1\n"));
	/* a zero Null test of any width is written as the always-true test */
	assert_non_null(strstr(buf, "Null & 0 = 0:             Ignore, 0;  # 2\n"));
	free(buf);
	ruleset_free(&rs);
}

static void dump_listing(void **state)
{
	(void)state;
	struct ruleset rs;
	read_ok("SET 3\n"
		"start: SourcePeerType & 255 = 1: GotoAct, v4;\n"
		"Null & 0 = 0: Ignore, 0;\n"
		"v4: SourcePeerAddress & 255.255.0.0 = 130.216.0.0: PushRuleTo, Next;\n"
		"v1 & 0 = DestPeerAddress: AssignAct, 1;\n"
		"FORMAT SourcePeerAddress \" \" ToOctets;\nSTATISTICS\n", &rs);
	char *buf;
	size_t len;
	FILE *m = open_memstream(&buf, &len);
	ruleset_dump(&rs, m);
	fclose(m);
	assert_string_equal(buf,
		"ruleset 3: 4 rules\n"
		"rule  label  attribute          mask         value            action      param\n"
		"   1  start  SourcePeerType     255          1                GotoAct     3 (v4)\n"
		"   2         Null               0            0                Ignore      0\n"
		"   3  v4     SourcePeerAddress  255.255.0.0  130.216.0.0      PushRuleTo  4\n"
		"   4         v1                 0            DestPeerAddress  AssignAct   1 (start)\n"
		"format: SourcePeerAddress \" \" ToOctets\n"
		"statistics: yes\n");
	free(buf);
	ruleset_free(&rs);
}

static void missing_file(void **state)
{
	(void)state;
	struct ruleset rs;
	struct diag d;
	diag_init(&d, "nope");
	assert_int_equal(ruleset_read_file("/nonexistent/x.rules", &rs, &d), -1);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.msgs[0].text, "cannot open /nonexistent/x.rules"));
	ruleset_free(&rs);
	diag_free(&d);
}

static void empty_and_odd_input(void **state)
{
	(void)state;
	struct ruleset rs;
	read_ok("", &rs);
	assert_int_equal(rs.n_rules, 0);
	ruleset_free(&rs);
	read_ok("# only a comment", &rs);
	ruleset_free(&rs);
	read_ok("RULES;\nSTATISTICS;\nFORMAT;", &rs);
	assert_true(rs.statistics);
	assert_int_equal(rs.n_format, 0);
	ruleset_free(&rs);
	/* NUL bytes inside the buffer are errors, not string ends */
	struct diag d;
	diag_init(&d, "nul");
	static const char nul[] = "Null & 0 = 0: Count, 0;\0garbage";
	assert_int_equal(rulesfile_read(nul, sizeof nul - 1, &rs, &d), -1);
	assert_int_equal(d.msgs[0].line, 1);
	assert_int_equal(d.msgs[0].col, 24);
	diag_free(&d);
	ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_ip_groups),
		cmocka_unit_test(forms_fixture),
		cmocka_unit_test(symbols_and_forms),
		cmocka_unit_test(errors_have_positions),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(fixture_round_trip),
		cmocka_unit_test(writer_refuses),
		cmocka_unit_test(dump_listing),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(empty_and_odd_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
