/* test_rdmeter — the name ntm-reader downloads a ruleset under:
 * "<basename>#<FNV-1a 64 of the rule table>", the hash computed over
 * big-endian rule count, then per rule attr, len, mask[len], value[len],
 * action, parameter (4 octets each for the numbers).  The expected values
 * were computed independently (FNV-1a 64: offset 0xcbf29ce484222325,
 * prime 0x100000001b3) over those bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rdmeter.h"
#include "rule.h"

static void two_rules(struct ruleset *rs, uint8_t value)
{
	ruleset_init(rs);
	struct rule a = { .attr = 4, .len = 1, .mask = { 0xff }, .value = { value },
			  .op = RULE_GOTO, .param = 2 };
	struct rule b = { .attr = 0, .len = 0, .op = RULE_COUNT, .param = 0 };
	assert_int_equal(ruleset_add_rule(rs, &a, NULL), 0);
	assert_int_equal(ruleset_add_rule(rs, &b, NULL), 0);
}

static void names(void **state)
{
	(void)state;
	struct ruleset rs;
	char name[RDMETER_RULESET_NAME_MAX];
	two_rules(&rs, 0x01);
	rdmeter_ruleset_name("/etc/ntm/x.srl", &rs, name);
	assert_string_equal(name, "x.srl#b56bb59048622465");
	rdmeter_ruleset_name("x.srl", &rs, name);
	assert_string_equal(name, "x.srl#b56bb59048622465");
	/* the set number, format and labels are not what the meter runs */
	rs.set = 9;
	assert_int_equal(ruleset_add_format_attr(&rs, 31), 0);
	rdmeter_ruleset_name("x.srl", &rs, name);
	assert_string_equal(name, "x.srl#b56bb59048622465");
	/* bytes beyond len do not count */
	rs.rules[1].mask[3] = 0x55;
	rdmeter_ruleset_name("x.srl", &rs, name);
	assert_string_equal(name, "x.srl#b56bb59048622465");
	ruleset_free(&rs);
	/* one value octet changed: another name */
	two_rules(&rs, 0x02);
	rdmeter_ruleset_name("x.srl", &rs, name);
	assert_string_equal(name, "x.srl#c92bfdd243c91bcc");
	ruleset_free(&rs);
}

static void long_base_name(void **state)
{
	(void)state;
	struct ruleset rs;
	char path[300], name[RDMETER_RULESET_NAME_MAX];
	two_rules(&rs, 0x01);
	memset(path, 'a', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	rdmeter_ruleset_name(path, &rs, name);
	/* flowRuleInfoName is SIZE (0..127) */
	assert_int_equal(strlen(name), 127);
	assert_string_equal(name + 110, "#b56bb59048622465");
	ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(long_base_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
