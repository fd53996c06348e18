/*
 * fuzz_srl.c — any bytes through the whole SRL compiler (lexer, DEFINE
 * expansion, parser, checks, code generator).  It must never crash, hang or
 * leak; when it accepts a program, the table must be well formed (every
 * goto-type parameter a rule number, no Return 0) and pass the meter's
 * load-time validation (common/rulecheck.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "rule.h"
#include "srl.h"

#if defined(__has_include)
#if __has_include("rulecheck.h")
#include "rulecheck.h"
#define HAVE_RULECHECK 1
#endif
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	struct ruleset rs;
	diag_init(&d, "fuzz.srl");
	if (srl_compile("fuzz.srl", (const char *)data, size, &rs, &d) == 0) {
		if (d.errors)
			abort();
		for (size_t i = 0; i < rs.n_rules; i++) {
			const struct rule *r = &rs.rules[i];
			if (r->op < 1 || r->op > RULE_OP_MAX || r->len > RULE_ADDR_MAX)
				abort();
			if (rule_op_is_goto(r->op) && (r->param < 1 || r->param > rs.n_rules))
				abort();
			if (r->op == RULE_RETURN && r->param == 0)
				abort();
		}
#ifdef HAVE_RULECHECK
		/* what the compiler accepts, the meter's load-time checks accept
		 * (Return stack, goto range, testable attributes ...) */
		struct diag v;
		diag_init(&v, "fuzz.rules");
		if (ruleset_validate(&rs, &v) != 0)
			abort();
		diag_free(&v);
#endif
	} else if (rs.n_rules != 0 || d.errors == 0) {
		abort();
	}
	ruleset_free(&rs);
	diag_free(&d);
	return 0;
}
