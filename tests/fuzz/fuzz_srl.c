/*
 * fuzz_srl.c — any bytes through the whole SRL compiler (lexer, DEFINE
 * expansion, parser, checks, code generator).  It must never crash, hang or
 * leak; when it accepts a program, the table must be well formed: every
 * goto-type parameter a rule number, every Return slot inside the table.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "rule.h"
#include "srl.h"

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
	} else if (rs.n_rules != 0 || d.errors == 0) {
		abort();
	}
	ruleset_free(&rs);
	diag_free(&d);
	return 0;
}
