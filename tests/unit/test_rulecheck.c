/* test_rulecheck — load-time validation of rule tables. */
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
#include "rulecheck.h"
#include "rulesfile.h"

static void load_file(const char *name, struct ruleset *rs)
{
	const char *root = getenv("NTM_ROOT");
	char *path;
	assert_true(asprintf(&path, "%s/tests/data/rules/%s",
			     root ? root : ".", name) > 0);
	struct diag d;
	diag_init(&d, path);
	assert_int_equal(ruleset_read_file(path, rs, &d), 0);
	diag_free(&d);
	free(path);
}

static void load_fixture(struct ruleset *rs)
{
	load_file("two-ip-groups.rules", rs);
	assert_int_equal(rs->n_rules, 25);
}

static void load_text(const char *text, struct ruleset *rs)
{
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(rulesfile_read(text, strlen(text), rs, &d), 0);
	diag_free(&d);
}

static bool has_msg(const struct diag *d, enum diag_level level, const char *part)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->msgs[i].level == level && strstr(d->msgs[i].text, part))
			return true;
	return false;
}

static void show(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  %s: %s\n", d->msgs[i].level == DIAG_ERROR ?
			      "error" : "warning", d->msgs[i].text);
}

/* Validate; expect exactly `errors` errors, one of them containing `part`
 * (unless part is NULL). */
static void expect_errors(const struct ruleset *rs, unsigned errors,
			  const char *part)
{
	struct diag d;
	diag_init(&d, "t");
	int rc = ruleset_validate(rs, &d);
	if (d.errors != errors || (part && !has_msg(&d, DIAG_ERROR, part))) {
		show(&d);
		fail_msg("want %u error(s) with '%s', got %u", errors,
			 part ? part : "", d.errors);
	}
	assert_int_equal(rc, errors ? -1 : 0);
	diag_free(&d);
}

static void fixture_is_clean(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	struct diag d;
	struct ruleset_bounds b;
	diag_init(&d, "t");
	assert_int_equal(ruleset_validate_bounds(&rs, &d, &b), 0);
	if (d.n)
		show(&d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 0);
	assert_true(b.complete);
	assert_false(b.has_loop);
	assert_false(b.queue_unbounded);
	/* one Gosub at a time; SourcePeerType, two peer addresses, Count */
	assert_int_equal(b.max_depth, 1);
	assert_int_equal(b.max_queue, 4);
	diag_free(&d);
	ruleset_free(&rs);
}

static void forms_is_clean(void **state)
{
	(void)state;
	struct ruleset rs;
	load_file("forms.rules", &rs);
	struct diag d;
	struct ruleset_bounds b;
	diag_init(&d, "t");
	int rc = ruleset_validate_bounds(&rs, &d, &b);
	if (d.n)
		show(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(b.max_depth, 0);
	/* type, port, address, 3 distributions/MAC, CountPkt */
	assert_int_equal(b.max_queue, 7);
	diag_free(&d);
	ruleset_free(&rs);
}

static void return_without_gosub(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	rs.rules[3].op = RULE_GOTO;      /* rule 4 Gosub -> Goto */
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(ruleset_validate(&rs, &d), -1);
	assert_true(has_msg(&d, DIAG_ERROR, "rule 21: Return with an empty return stack"));
	assert_true(has_msg(&d, DIAG_ERROR, "rule 23: Return with an empty return stack"));
	assert_true(has_msg(&d, DIAG_ERROR, "rule 25: Return with an empty return stack"));
	assert_int_equal(d.errors, 3);
	diag_free(&d);
	ruleset_free(&rs);
}

static void return_past_end(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	rs.rules[20].param = 30;         /* rule 21: Return 30 */
	expect_errors(&rs, 1, "rule 21: Return 30 from the Gosub at rule 4 goes "
		      "to rule 34, past the last rule (25)");
	rs.rules[20].param = 3;
	expect_errors(&rs, 0, NULL);
	rs.rules[20].param = 0;
	expect_errors(&rs, 1, "rule 21: Return 0 goes back to its own Gosub");
	ruleset_free(&rs);
}

static void goto_out_of_range(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	rs.rules[4].param = 26;
	expect_errors(&rs, 1, "rule 5: GotoAct to rule 26, outside 1..25");
	rs.rules[4].param = 0;
	expect_errors(&rs, 1, "rule 5: GotoAct to rule 0, outside 1..25");
	rs.rules[4].param = 8;
	rs.rules[3].param = 99;
	expect_errors(&rs, 1, "rule 4: Gosub to rule 99");
	ruleset_free(&rs);
}

static void unknown_attribute_and_action(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	rs.rules[1].attr = 42;
	expect_errors(&rs, 1, "rule 2: unknown attribute 42");
	rs.rules[1].attr = ATTR_NULL;
	rs.rules[1].op = 18;
	expect_errors(&rs, 1, "rule 2: action 18 is not one of 1..17");
	rs.rules[1].op = 0;
	expect_errors(&rs, 1, "rule 2: action 0");
	ruleset_free(&rs);
}

static void widths(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	struct rule *r1 = &rs.rules[0];    /* SourcePeerType & 255 = 1 */
	r1->len = 2;                       /* MIB padding: accepted */
	expect_errors(&rs, 0, NULL);
	r1->mask[1] = 0xff;
	expect_errors(&rs, 1, "rule 1: mask/value is 2 bytes, SourcePeerType holds 1");
	r1->mask[1] = 0;
	r1->value[1] = 1;
	expect_errors(&rs, 1, "rule 1: mask/value is 2 bytes");
	r1->value[1] = 0;
	r1->len = 21;
	expect_errors(&rs, 1, "rule 1: 21-byte mask/value, at most 20");
	ruleset_free(&rs);
}

static void untestable_only_when_tested(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	/* rule 18 is reached only by GotoAct: its test is skipped, so even a
	 * counter attribute with a mask is harmless there */
	rs.rules[17].attr = ATTR_TO_OCTETS;
	rs.rules[17].len = 8;
	memset(rs.rules[17].mask, 0xff, 8);
	rs.rules[17].op = RULE_COUNT;
	expect_errors(&rs, 0, NULL);
	/* rule 2 runs its test (rule 1's test can fail): flagged */
	rs.rules[1].attr = ATTR_FIRST_TIME;
	rs.rules[1].len = 4;
	rs.rules[1].mask[0] = 0xff;
	expect_errors(&rs, 1, "rule 2: FirstTime cannot be tested");
	/* with a zero mask and value the test succeeds whatever is read */
	rs.rules[1].mask[0] = 0;
	expect_errors(&rs, 0, NULL);
	ruleset_free(&rs);
}

static void assign_and_push(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	rs.rules[2].attr = ATTR_SOURCE_KIND;   /* rule 3: Assign to a non-variable */
	/* (and the 2-byte attribute number does not fit SourceKind) */
	expect_errors(&rs, 2, "rule 3: AssignAct sets SourceKind, which is not a meter variable");
	rs.rules[2].attr = ATTR_V1;
	rs.rules[2].value[1] = 250;            /* no attribute 250 */
	expect_errors(&rs, 1, "rule 3: AssignAct of unknown attribute 250");
	rs.rules[2].value[1] = ATTR_SOURCE_PEER_ADDRESS;
	rs.rules[21].attr = ATTR_TO_OCTETS;    /* rule 22: push a counter */
	rs.rules[21].len = 8;
	expect_errors(&rs, 1, "rule 22: PushPktToAct of ToOctets, which cannot be saved");
	rs.rules[21].attr = ATTR_MATCHING_STOD;
	rs.rules[21].len = 1;
	expect_errors(&rs, 1, "rule 22: PushPktToAct of MatchingStoD");
	ruleset_free(&rs);
}

static void recursion(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	rs.rules[21].attr = ATTR_NULL;         /* rule 22: Gosub classify again */
	rs.rules[21].op = RULE_GOSUB_ACT;
	rs.rules[21].param = 19;
	expect_errors(&rs, 1, "rule 22: Gosub nested more than 32 deep");
	ruleset_free(&rs);
}

static void format_items(void **state)
{
	(void)state;
	struct ruleset rs;
	load_fixture(&rs);
	assert_int_equal(ruleset_add_format_attr(&rs, ATTR_V1), 0);
	assert_int_equal(ruleset_add_format_attr(&rs, 700), 0);
	expect_errors(&rs, 2, "FORMAT item 12: v1 cannot be read from a flow");
	expect_errors(&rs, 2, "FORMAT item 13: unknown attribute 700");
	ruleset_free(&rs);
}

static void loops_and_bounds(void **state)
{
	(void)state;
	struct ruleset rs;
	struct diag d;
	struct ruleset_bounds b;

	/* falling off the end is fine */
	load_text("SourcePeerType & 255 = 1: Count, 0;", &rs);
	diag_init(&d, "t");
	assert_int_equal(ruleset_validate_bounds(&rs, &d, &b), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(b.max_queue, 1);
	assert_int_equal(b.max_depth, 0);
	diag_free(&d);
	ruleset_free(&rs);

	/* a loop that changes nothing: a warning, not an error */
	load_text("SourcePeerType & 255 = 1: Goto, 1;", &rs);
	diag_init(&d, "t");
	assert_int_equal(ruleset_validate_bounds(&rs, &d, &b), 0);
	assert_true(b.has_loop);
	assert_true(has_msg(&d, DIAG_WARNING, "rule 1: a loop comes back"));
	diag_free(&d);
	ruleset_free(&rs);

	/* a loop that pushes each time round: the queue has no bound */
	load_text("SourceTransType & 255 = 6: PushRuleTo, 1;", &rs);
	diag_init(&d, "t");
	assert_int_equal(ruleset_validate_bounds(&rs, &d, &b), 0);
	assert_true(b.queue_unbounded);
	assert_int_equal(b.max_queue, RULECHECK_QUEUE_MAX);
	assert_true(b.complete);
	diag_free(&d);
	ruleset_free(&rs);

	/* nested subroutines, a PopTo, and a test that never succeeds */
	load_text("Null & 0 = 0: Gosub, 5;\n"                 /* 1 */
		  "Null & 0 = 0: Count, 0;\n"                 /* 2 */
		  "Null & 0 = 0: Ignore, 0;\n"                /* 3 */
		  "Null & 0 = 0: Ignore, 0;\n"                /* 4 */
		  "sub1: SourcePeerType & 255 = 1: PushRuleTo, Next;\n" /* 5 */
		  "SourcePeerAddress & 255.0.0.0 = 10.0.0.0: PushRuleTo, Next;\n" /* 6 */
		  "Null & 0 = 0: PopTo, Next;\n"              /* 7 */
		  "Null & 0 = 0: Gosub, sub2;\n"              /* 8 */
		  "Null & 0 = 0: Return, 1;\n"                /* 9 */
		  "Null & 0 = 0: Return, 2;\n"                /* 10 */
		  "sub2: DestTransType & 15 = 255: Return, 1;\n" /* 11 */
		  "Null & 0 = 0: Gosub, sub3;\n"              /* 12 */
		  "Null & 0 = 0: Return, 1;\n"                /* 13 */
		  "sub3: FlowKind & 255 = 'x': PushRuleToAct, Next;\n" /* 14 */
		  "Null & 0 = 0: Return, 1;\n", &rs);         /* 15 */
	diag_init(&d, "t");
	assert_int_equal(ruleset_validate_bounds(&rs, &d, &b), 0);
	assert_true(has_msg(&d, DIAG_WARNING, "rule 11: value has bits outside the mask"));
	assert_int_equal(d.errors, 0);
	assert_int_equal(b.max_depth, 3);
	/* 5, 6 push (2), 7 pops (1), 14 pushes (2), Count (3) */
	assert_int_equal(b.max_queue, 3);
	assert_false(b.has_loop);
	assert_true(b.complete);
	diag_free(&d);
	ruleset_free(&rs);

	/* an empty table is valid */
	ruleset_init(&rs);
	expect_errors(&rs, 0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_is_clean),
		cmocka_unit_test(forms_is_clean),
		cmocka_unit_test(return_without_gosub),
		cmocka_unit_test(return_past_end),
		cmocka_unit_test(goto_out_of_range),
		cmocka_unit_test(unknown_attribute_and_action),
		cmocka_unit_test(widths),
		cmocka_unit_test(untestable_only_when_tested),
		cmocka_unit_test(assign_and_push),
		cmocka_unit_test(recursion),
		cmocka_unit_test(format_items),
		cmocka_unit_test(loops_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
