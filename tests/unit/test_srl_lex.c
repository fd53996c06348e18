/*
 * test_srl_lex.c — SRL tokens (RFC 2723 §2 and Appendix B): value text kept
 * whole (fields, hex, IPv6, MAC, 'c'), numbers and ':' of numbered
 * statements and labels, two-character operators, comments, DEFINE text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "srl_int.h"

struct lexed {
	struct srl_arena a;
	struct srl_toks t;
	struct diag d;
};

static void lex(struct lexed *x, const char *text)
{
	memset(x, 0, sizeof *x);
	diag_init(&x->d, "t.srl");
	srl_lex(text, strlen(text), 1, 1, &x->t, &x->a, &x->d);
}

static void done(struct lexed *x)
{
	srl_arena_free(&x->a);
	diag_free(&x->d);
}

static void tok(const struct lexed *x, size_t i, unsigned kind, const char *text)
{
	assert_true(i < x->t.n);
	const struct srl_tok *t = &x->t.v[i];
	if (t->kind != kind)
		fail_msg("token %zu: kind %s, want %s ('%.*s')", i, srl_tok_kind_name(t->kind),
			 srl_tok_kind_name(kind), (int)t->len, t->text);
	if (text) {
		assert_int_equal(t->len, strlen(text));
		assert_memory_equal(t->text, text, t->len);
	}
}

static void values(void **state)
{
	(void)state;
	struct lexed x;
	lex(&x, "130.216.7/24 FF-FF-00-00 1.3.10!50 2001:db8::1 fc00::/7 "
		"00:60:3e:10:e0:a1 'W' 23 ::1");
	tok(&x, 0, SRL_T_VALUE, "130.216.7");
	tok(&x, 1, SRL_T_SLASH, NULL);
	tok(&x, 2, SRL_T_NUM, "24");
	tok(&x, 3, SRL_T_VALUE, "FF-FF-00-00");
	tok(&x, 4, SRL_T_VALUE, "1.3.10!50");
	tok(&x, 5, SRL_T_VALUE, "2001:db8::1");
	tok(&x, 6, SRL_T_VALUE, "fc00::");
	tok(&x, 7, SRL_T_SLASH, NULL);
	tok(&x, 8, SRL_T_NUM, "7");
	tok(&x, 9, SRL_T_VALUE, "00:60:3e:10:e0:a1");
	tok(&x, 10, SRL_T_VALUE, "'W'");
	tok(&x, 11, SRL_T_NUM, "23");
	tok(&x, 12, SRL_T_VALUE, "::1");
	tok(&x, 13, SRL_T_EOF, NULL);
	assert_int_equal(x.d.errors, 0);
	done(&x);
}

static void colons(void **state)
{
	(void)state;
	struct lexed x;
	/* numbered statements, a label, := and a number glued to a word */
	lex(&x, "1: 2: count; outer: { } store FlowKind := 3; 1:count dead: x");
	tok(&x, 0, SRL_T_NUM, "1");
	tok(&x, 1, SRL_T_COLON, NULL);
	tok(&x, 2, SRL_T_NUM, "2");
	tok(&x, 3, SRL_T_COLON, NULL);
	tok(&x, 4, SRL_T_IDENT, "count");
	tok(&x, 5, SRL_T_SEMI, NULL);
	tok(&x, 6, SRL_T_IDENT, "outer");
	tok(&x, 7, SRL_T_COLON, NULL);
	tok(&x, 8, SRL_T_LBRACE, NULL);
	tok(&x, 9, SRL_T_RBRACE, NULL);
	tok(&x, 10, SRL_T_IDENT, "store");
	tok(&x, 11, SRL_T_IDENT, "FlowKind");
	tok(&x, 12, SRL_T_ASSIGN, NULL);
	tok(&x, 13, SRL_T_NUM, "3");
	tok(&x, 14, SRL_T_SEMI, NULL);
	tok(&x, 15, SRL_T_NUM, "1");
	tok(&x, 16, SRL_T_COLON, NULL);
	tok(&x, 17, SRL_T_IDENT, "count");
	tok(&x, 18, SRL_T_IDENT, "dead");
	tok(&x, 19, SRL_T_COLON, NULL);
	done(&x);
}

static void operators_comments_positions(void **state)
{
	(void)state;
	struct lexed x;
	lex(&x, "# comment\n  a == b && c || !d & e = f ; \"sep  \" # more\n}");
	tok(&x, 0, SRL_T_IDENT, "a");
	assert_int_equal(x.t.v[0].line, 2);
	assert_int_equal(x.t.v[0].col, 3);
	tok(&x, 1, SRL_T_EQEQ, NULL);
	tok(&x, 3, SRL_T_ANDAND, NULL);
	tok(&x, 5, SRL_T_OROR, NULL);
	tok(&x, 6, SRL_T_NOT, NULL);
	tok(&x, 8, SRL_T_AMP, NULL);
	tok(&x, 10, SRL_T_EQ, NULL);
	tok(&x, 12, SRL_T_SEMI, NULL);
	tok(&x, 13, SRL_T_STRING, "sep  ");
	tok(&x, 14, SRL_T_RBRACE, NULL);
	assert_int_equal(x.t.v[14].line, 3);
	assert_int_equal(x.t.v[14].col, 1);
	done(&x);
}

static void define_text(void **state)
{
	(void)state;
	struct lexed x;
	lex(&x, "DEFINE k = (130.217/16, # not this\n 1.2\\;3);\nIF");
	tok(&x, 0, SRL_T_IDENT, "DEFINE");
	tok(&x, 1, SRL_T_IDENT, "k");
	tok(&x, 2, SRL_T_EQ, NULL);
	tok(&x, 3, SRL_T_DEFTEXT, "(130.217/16, \n 1.2;3)");
	tok(&x, 4, SRL_T_SEMI, NULL);
	tok(&x, 5, SRL_T_IDENT, "IF");
	done(&x);
}

static void errors(void **state)
{
	(void)state;
	struct lexed x;
	lex(&x, "a @ b\n\"open");
	assert_int_equal(x.d.errors, 2);
	assert_int_equal(x.d.msgs[0].line, 1);
	assert_int_equal(x.d.msgs[0].col, 3);
	assert_string_equal(x.d.msgs[0].text, "unexpected character '@'");
	assert_int_equal(x.d.msgs[1].line, 2);
	assert_string_equal(x.d.msgs[1].text, "unterminated string");
	tok(&x, 0, SRL_T_IDENT, "a");
	tok(&x, 1, SRL_T_IDENT, "b");
	done(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(colons),
		cmocka_unit_test(operators_comments_positions),
		cmocka_unit_test(define_text),
		cmocka_unit_test(errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
