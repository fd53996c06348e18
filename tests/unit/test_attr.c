/* test_attr — the attribute table and the rule-action table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "rule.h"

static void numbers_match_rfc2722(void **state)
{
	(void)state;
	/* RFC 2722 Appendix C and RFC 2724 §4 numbers */
	assert_int_equal(attr_by_name("SourcePeerAddress", 17)->num, 9);
	assert_int_equal(attr_by_name("destpeeraddress", 15)->num, 19);
	assert_int_equal(attr_by_name("DESTTRANSADDRESS", 16)->num, 22);
	assert_int_equal(attr_by_name("FlowKind", 8)->num, 41);
	assert_int_equal(attr_by_name("MatchingStoD", 12)->num, 50);
	assert_int_equal(attr_by_name("v5", 2)->num, 55);
	assert_int_equal(attr_by_name("ToTurnaroundTime", 16)->num, 70);
	assert_int_equal(attr_by_name("DSCodePoint", 11)->num, 118);
	assert_int_equal(attr_by_name("RuleSet", 7)->num, 26);
	assert_null(attr_by_name("SourcePeer", 10));
	assert_null(attr_by_num(42));
}

static void table_sorted_and_named(void **state)
{
	(void)state;
	const struct attr_info *prev = NULL, *a;
	for (size_t i = 0; (a = attr_at(i)) != NULL; i++) {
		if (prev)
			assert_true(prev->num < a->num);
		assert_ptr_equal(attr_by_num(a->num), a);
		assert_ptr_equal(attr_by_name(a->name, strlen(a->name)), a);
		prev = a;
	}
}

static void widths(void **state)
{
	(void)state;
	assert_int_equal(attr_by_num(ATTR_SOURCE_INTERFACE)->width, 2);
	assert_int_equal(attr_by_num(ATTR_SOURCE_TRANS_ADDRESS)->width, 2);
	assert_int_equal(attr_by_num(ATTR_SOURCE_TRANS_TYPE)->width, 1);
	assert_int_equal(attr_by_num(ATTR_TO_OCTETS)->width, 8);
	assert_int_equal(attr_by_num(ATTR_FIRST_TIME)->width, 4);
	assert_true(attr_by_num(ATTR_MATCHING_STOD)->flags & ATTR_F_TEST);
	assert_false(attr_by_num(ATTR_MATCHING_STOD)->flags & ATTR_F_SAVE);
}

static void swap_pairs(void **state)
{
	(void)state;
	assert_int_equal(attr_swap(ATTR_SOURCE_PEER_ADDRESS), ATTR_DEST_PEER_ADDRESS);
	assert_int_equal(attr_swap(ATTR_DEST_TRANS_ADDRESS), ATTR_SOURCE_TRANS_ADDRESS);
	assert_int_equal(attr_swap(ATTR_SOURCE_KIND), ATTR_DEST_KIND);
	assert_int_equal(attr_swap(ATTR_FLOW_KIND), ATTR_FLOW_KIND);
	assert_int_equal(attr_swap(ATTR_TO_OCTETS), ATTR_TO_OCTETS);
}

static void actions(void **state)
{
	(void)state;
	/* RFC 2722 §4.4 goto/test flags */
	assert_false(rule_op_is_goto(RULE_COUNT));
	assert_true(rule_op_is_goto(RULE_GOSUB));
	assert_true(rule_op_sets_test(RULE_GOSUB));
	assert_false(rule_op_sets_test(RULE_GOSUB_ACT));
	assert_false(rule_op_sets_test(RULE_RETURN));
	assert_true(rule_op_sets_test(RULE_POP_TO));
	assert_int_equal(rule_op_by_name("pushpkttoact", 12), RULE_PUSH_PKT_TO_ACT);
	assert_int_equal(rule_op_by_name("Pushto", 6), RULE_PUSH_RULE_TO);
	assert_int_equal(rule_op_by_name("Retry", 5), RULE_NOMATCH);
	assert_int_equal(rule_op_by_name("Jump", 4), 0);
	assert_string_equal(rule_op_name(17), "PopToAct");
	assert_null(rule_op_name(18));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_match_rfc2722),
		cmocka_unit_test(table_sorted_and_named),
		cmocka_unit_test(widths),
		cmocka_unit_test(swap_pairs),
		cmocka_unit_test(actions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
