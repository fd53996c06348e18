/*
 * srl_parse.c — recursive-descent parser for RFC 2723's grammar (with the
 * corrections of ref/srl-rtfm.md A.3) plus ntm's SET / FORMAT / STATISTICS,
 * and the textual DEFINE expansion, done here at the token level: a name
 * that was defined earlier is replaced by the tokens of its text (nested
 * operand lists that result are flattened by parse_operand_list).
 *
 * Syntax errors are reported once, then the parser skips to the next ';'
 * or closer ('}', ENDSUB, ENDCALL) and goes on.
 */
#include "srl_int.h"
#include "srl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOOKAHEAD 2

enum ref_use { USE_TEST, USE_SAVE, USE_STORE, USE_ARG };

struct frame {
	const struct srl_tok *toks;
	size_t i;
	const struct srl_define *def;   /* NULL for the file itself */
	unsigned line, col;             /* where the expansion was used */
};

struct parser {
	struct frame fr[SRL_MAX_NESTING];
	size_t nfr;
	struct srl_tok pend[LOOKAHEAD];
	size_t npend;
	bool no_expand;                 /* reading a DEFINE's name */
	bool panic;                     /* an error is being recovered from */
	bool fatal;                     /* give up: everything reads as EOF */
	unsigned depth;
	struct srl_sub *sub;            /* subroutine being parsed */
	struct srl_program *p;
	struct srl_arena *a;
	struct diag *d;
};

static const char *const keywords[] = {
	"DEFINE", "IF", "ELSE", "SAVE", "COUNT", "EXIT", "IGNORE", "NOMATCH",
	"RETURN", "STORE", "SUBROUTINE", "ENDSUB", "ADDRESS", "VARIABLE",
	"CALL", "ENDCALL", "SET", "FORMAT", "STATISTICS",
};

static bool is_keyword(const struct srl_tok *t)
{
	for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
		if (srl_tok_is(t, keywords[i]))
			return true;
	return false;
}

static bool is_meter_variable(const struct attr_info *ai)
{
	return ai && ai->num >= ATTR_V1 && ai->num <= ATTR_V5;
}

/* Keywords, attribute names and the six variables cannot name anything. */
static bool is_reserved(const struct srl_tok *t)
{
	return is_keyword(t) || attr_by_name(t->text, t->len) != NULL;
}

static struct srl_define *find_define(const struct srl_program *p,
				      const struct srl_tok *t)
{
	for (size_t i = 0; i < p->n_defines; i++) {
		struct srl_define *df = p->defines[i];
		if (df->name.len == t->len &&
		    strncasecmp(df->name.text, t->text, t->len) == 0)
			return df;
	}
	return NULL;
}

/* ---- token source with DEFINE expansion -------------------------------- */

static struct srl_tok eof_token(const struct parser *ps)
{
	const struct frame *f = &ps->fr[0];
	const struct srl_tok *t = &f->toks[f->i];
	while (t->kind != SRL_T_EOF)
		t++;
	return *t;
}

static struct srl_tok pull(struct parser *ps)
{
	for (;;) {
		if (ps->fatal)
			return eof_token(ps);
		struct frame *f = &ps->fr[ps->nfr - 1];
		struct srl_tok t = f->toks[f->i];
		if (t.kind == SRL_T_EOF && ps->nfr > 1) {
			ps->nfr--;
			continue;
		}
		if (t.kind != SRL_T_EOF)
			f->i++;
		if (ps->nfr > 1) {
			/* expanded text reports at the place of use */
			t.line = f->line;
			t.col = f->col;
		}
		if (t.kind != SRL_T_IDENT || ps->no_expand)
			return t;
		struct srl_define *df = find_define(ps->p, &t);
		if (!df)
			return t;
		df->used = true;
		bool recursive = false;
		for (size_t k = 1; k < ps->nfr; k++)
			if (ps->fr[k].def == df)
				recursive = true;
		if (recursive) {
			diag_error(ps->d, t.line, t.col, "recursive define '%.*s'",
				   (int)t.len, t.text);
			continue;
		}
		if (ps->nfr == SRL_MAX_NESTING) {
			diag_error(ps->d, t.line, t.col, "defines nested too deeply");
			ps->fatal = true;
			continue;
		}
		ps->fr[ps->nfr++] = (struct frame){ .toks = df->toks.v,
			.def = df, .line = t.line, .col = t.col };
	}
}

static void fill(struct parser *ps, size_t k)
{
	while (ps->npend < k)
		ps->pend[ps->npend++] = pull(ps);
}

static const struct srl_tok *peek(struct parser *ps)
{
	fill(ps, 1);
	return &ps->pend[0];
}

static const struct srl_tok *peek2(struct parser *ps)
{
	fill(ps, 2);
	return &ps->pend[1];
}

static struct srl_tok next(struct parser *ps)
{
	fill(ps, 1);
	struct srl_tok t = ps->pend[0];
	if (t.kind != SRL_T_EOF || ps->npend > 1) {
		memmove(ps->pend, ps->pend + 1, (ps->npend - 1) * sizeof ps->pend[0]);
		ps->npend--;
	}
	return t;
}

static bool at(struct parser *ps, unsigned kind)
{
	return peek(ps)->kind == kind;
}

static bool at_kw(struct parser *ps, const char *kw)
{
	return srl_tok_is(peek(ps), kw);
}

/* ---- errors and recovery ------------------------------------------------ */

/* How a token is named in a message. */
static void describe(const struct srl_tok *t, char *buf, size_t cap)
{
	switch (t->kind) {
	case SRL_T_IDENT: case SRL_T_NUM: case SRL_T_VALUE:
		snprintf(buf, cap, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->text);
		break;
	case SRL_T_STRING:
		snprintf(buf, cap, "a string");
		break;
	default:
		snprintf(buf, cap, "%s", srl_tok_kind_name(t->kind));
	}
}

static void syntax_error(struct parser *ps, const struct srl_tok *t,
			 const char *what)
{
	if (ps->panic)
		return;
	char found[64];
	describe(t, found, sizeof found);
	diag_error(ps->d, t->line, t->col, "expected %s, found %s", what, found);
	ps->panic = true;
}

static bool is_closer(const struct srl_tok *t)
{
	return t->kind == SRL_T_RBRACE || t->kind == SRL_T_EOF ||
	       srl_tok_is(t, "ENDSUB") || srl_tok_is(t, "ENDCALL");
}

/* Skip to just after the next ';', or to a closer. */
static void sync(struct parser *ps)
{
	while (!is_closer(peek(ps))) {
		if (next(ps).kind == SRL_T_SEMI)
			break;
	}
	ps->panic = false;
}

static bool expect(struct parser *ps, unsigned kind, const char *what)
{
	if (at(ps, kind)) {
		next(ps);
		return true;
	}
	syntax_error(ps, peek(ps), what);
	return false;
}

static bool expect_kw(struct parser *ps, const char *kw)
{
	if (at_kw(ps, kw)) {
		next(ps);
		return true;
	}
	syntax_error(ps, peek(ps), kw);
	return false;
}

static bool enter(struct parser *ps)
{
	if (++ps->depth > SRL_MAX_NESTING) {
		const struct srl_tok *t = peek(ps);
		diag_error(ps->d, t->line, t->col, "nested too deeply (more than %u levels)",
			   SRL_MAX_NESTING);
		ps->fatal = true;
		ps->npend = 0;
		return false;
	}
	return true;
}

static void leave(struct parser *ps)
{
	ps->depth--;
}

/* A decimal number token in [lo, hi]. */
static bool parse_number(struct parser *ps, unsigned long lo, unsigned long hi,
			 const char *what, unsigned long *out)
{
	if (!at(ps, SRL_T_NUM)) {
		syntax_error(ps, peek(ps), what);
		return false;
	}
	struct srl_tok t = next(ps);
	unsigned long v = 0;
	bool big = false;
	for (size_t i = 0; i < t.len; i++) {
		v = v * 10 + (unsigned long)(t.text[i] - '0');
		if (v > hi)
			big = true;
	}
	if (big || v < lo) {
		diag_error(ps->d, t.line, t.col, "%s must be %lu..%lu, not %.*s",
			   what, lo, hi, (int)(t.len > 20 ? 20 : t.len), t.text);
		v = lo;
	}
	*out = v;
	return true;
}

/* ---- tree helpers ------------------------------------------------------- */

static struct srl_stmt *new_stmt(struct parser *ps, unsigned kind,
				 const struct srl_tok *at_tok)
{
	struct srl_stmt *s = srl_alloc(ps->a, sizeof *s);
	s->kind = (uint8_t)kind;
	s->line = at_tok->line;
	s->col = at_tok->col;
	s->gen_end = -1;
	return s;
}

static struct srl_stmt *failed(struct parser *ps, const struct srl_tok *t)
{
	sync(ps);
	return new_stmt(ps, SRL_S_EMPTY, t);
}

/* ---- attributes and parameters ------------------------------------------ */

static int find_param(const struct srl_sub *sub, const struct srl_tok *t)
{
	if (!sub)
		return -1;
	for (size_t i = 0; i < sub->n_params; i++)
		if (sub->params[i].name.len == t->len &&
		    strncasecmp(sub->params[i].name.text, t->text, t->len) == 0)
			return (int)i;
	return -1;
}

static const char *const variable_list =
	"SourceClass, DestClass, FlowClass, SourceKind, DestKind or FlowKind";

/* An attribute name or parameter, checked for what it is used for. */
static bool parse_ref(struct parser *ps, enum ref_use use, struct srl_ref *r)
{
	const struct srl_tok *t = peek(ps);
	if (t->kind != SRL_T_IDENT) {
		syntax_error(ps, t, use == USE_STORE ? "a variable" : "an attribute");
		return false;
	}
	struct srl_tok tok = next(ps);
	*r = (struct srl_ref){ .param = find_param(ps->sub, &tok),
			       .line = tok.line, .col = tok.col };
	int n = (int)tok.len;
	if (r->param >= 0) {
		const struct srl_param *pm = &ps->sub->params[r->param];
		if (use == USE_STORE && !pm->is_var)
			diag_error(ps->d, tok.line, tok.col,
				   "STORE needs a VARIABLE, and '%.*s' is an ADDRESS parameter",
				   n, tok.text);
		return true;
	}
	r->attr = attr_by_name(tok.text, tok.len);
	if (!r->attr) {
		if (is_keyword(&tok)) {
			ps->panic = false;
			syntax_error(ps, &tok, use == USE_STORE ? "a variable" : "an attribute");
			return false;
		}
		diag_error(ps->d, tok.line, tok.col, "unknown attribute '%.*s'", n, tok.text);
		return true;
	}
	const char *name = r->attr->name;
	if (is_meter_variable(r->attr)) {
		diag_error(ps->d, tok.line, tok.col,
			   "meter variable '%s' is reserved for subroutine parameters", name);
		r->attr = NULL;
		return true;
	}
	switch (use) {
	case USE_TEST:
		if (!(r->attr->flags & ATTR_F_TEST))
			diag_error(ps->d, tok.line, tok.col, "'%s' cannot be tested", name);
		break;
	case USE_SAVE:
		if (!(r->attr->flags & ATTR_F_SAVE))
			diag_error(ps->d, tok.line, tok.col, "'%s' cannot be saved", name);
		break;
	case USE_STORE:
		if (!(r->attr->flags & ATTR_F_CLASS))
			diag_error(ps->d, tok.line, tok.col,
				   "STORE needs a variable (%s), not '%s'", variable_list, name);
		break;
	case USE_ARG:
		break;
	}
	return true;
}

/* ---- values and operands ------------------------------------------------ */

static bool parse_value_tok(struct parser *ps, struct srl_tok *out)
{
	const struct srl_tok *t = peek(ps);
	bool ok = t->kind == SRL_T_NUM || t->kind == SRL_T_VALUE ||
		  (t->kind == SRL_T_IDENT && !is_reserved(t));
	if (!ok) {
		syntax_error(ps, t, "a value");
		return false;
	}
	*out = next(ps);
	return true;
}

/* value [ "/" width | "&" mask ] */
static bool parse_operand(struct parser *ps, struct srl_operand *op)
{
	memset(op, 0, sizeof *op);
	if (!parse_value_tok(ps, &op->val))
		return false;
	if (at(ps, SRL_T_SLASH)) {
		next(ps);
		unsigned long w;
		if (!parse_number(ps, 0, 8 * RULE_ADDR_MAX, "a mask width", &w))
			return false;
		op->mkind = SRL_M_WIDTH;
		op->width = (unsigned)w;
	} else if (at(ps, SRL_T_AMP)) {
		next(ps);
		if (!parse_value_tok(ps, &op->mask))
			return false;
		op->mkind = SRL_M_MASK;
	}
	return true;
}

struct oplist {
	struct srl_operand *v;
	size_t n, cap;
};

static bool add_operands(struct parser *ps, struct oplist *l)
{
	if (!at(ps, SRL_T_LPAREN)) {
		l->v = srl_grow(ps->a, l->v, &l->cap, l->n + 1, sizeof *l->v);
		return parse_operand(ps, &l->v[l->n++]);
	}
	if (!enter(ps))
		return false;
	next(ps);
	bool ok = true;
	do {
		/* a nested list (from a DEFINE) contributes its elements */
		ok = add_operands(ps, l);
	} while (ok && at(ps, SRL_T_COMMA) && (next(ps), true));
	ok = ok && expect(ps, SRL_T_RPAREN, "',' or ')' in the value list");
	leave(ps);
	return ok;
}

/* ---- expressions -------------------------------------------------------- */

static struct srl_expr *parse_expr(struct parser *ps);

static struct srl_expr *new_expr(struct parser *ps, unsigned kind,
				 const struct srl_tok *t)
{
	struct srl_expr *e = srl_alloc(ps->a, sizeof *e);
	e->kind = (uint8_t)kind;
	e->line = t->line;
	e->col = t->col;
	return e;
}

static struct srl_expr *parse_factor(struct parser *ps)
{
	struct srl_tok t = *peek(ps);
	if (!enter(ps))
		return NULL;
	struct srl_expr *e = NULL;
	if (t.kind == SRL_T_NOT) {
		next(ps);
		struct srl_expr *k = parse_factor(ps);
		if (k) {
			e = new_expr(ps, SRL_E_NOT, &t);
			e->kids = srl_alloc(ps->a, sizeof *e->kids);
			e->kids[0] = k;
			e->n_kids = 1;
		}
	} else if (t.kind == SRL_T_LPAREN) {
		next(ps);
		e = parse_expr(ps);
		if (e && !expect(ps, SRL_T_RPAREN, "')'"))
			e = NULL;
	} else {
		e = new_expr(ps, SRL_E_TEST, &t);
		struct oplist l = { 0 };
		if (!parse_ref(ps, USE_TEST, &e->ref) ||
		    !expect(ps, SRL_T_EQEQ, "'=='") || !add_operands(ps, &l))
			e = NULL;
		else {
			e->ops = l.v;
			e->n_ops = l.n;
		}
	}
	leave(ps);
	return e;
}

/* One level of an n-ary chain: kids joined by `op`. */
static struct srl_expr *parse_chain(struct parser *ps, unsigned op, unsigned kind,
				    struct srl_expr *(*sub)(struct parser *))
{
	struct srl_tok t = *peek(ps);
	struct srl_expr *first = sub(ps);
	if (!first || !at(ps, op))
		return first;
	struct srl_expr *e = new_expr(ps, kind, &t);
	size_t cap = 0;
	e->kids = srl_grow(ps->a, NULL, &cap, 1, sizeof *e->kids);
	e->kids[e->n_kids++] = first;
	while (at(ps, op)) {
		next(ps);
		struct srl_expr *k = sub(ps);
		if (!k)
			return NULL;
		e->kids = srl_grow(ps->a, e->kids, &cap, e->n_kids + 1, sizeof *e->kids);
		e->kids[e->n_kids++] = k;
	}
	return e;
}

static struct srl_expr *parse_term(struct parser *ps)
{
	return parse_chain(ps, SRL_T_ANDAND, SRL_E_AND, parse_factor);
}

static struct srl_expr *parse_expr(struct parser *ps)
{
	return parse_chain(ps, SRL_T_OROR, SRL_E_OR, parse_term);
}

/* ---- statements --------------------------------------------------------- */

static struct srl_stmt *parse_statement(struct parser *ps, bool top);

static void add_stmt(struct parser *ps, struct srl_stmt *blk, size_t *cap,
		     struct srl_stmt *s)
{
	if (!s)
		return;     /* a declaration: nothing to run */
	blk->body = srl_grow(ps->a, blk->body, cap, blk->n_body + 1, sizeof *blk->body);
	blk->body[blk->n_body++] = s;
}

/* Statements up to a closer (not consumed). */
static void parse_list(struct parser *ps, struct srl_stmt *blk)
{
	size_t cap = 0;
	while (!is_closer(peek(ps)))
		add_stmt(ps, blk, &cap, parse_statement(ps, false));
}

static struct srl_stmt *parse_block(struct parser *ps, const struct srl_tok *label)
{
	struct srl_tok t = *peek(ps);
	struct srl_stmt *s = new_stmt(ps, SRL_S_BLOCK, label ? label : &t);
	if (label)
		s->label = *label;
	if (!expect(ps, SRL_T_LBRACE, "'{'"))
		return failed(ps, &t);
	parse_list(ps, s);
	expect(ps, SRL_T_RBRACE, "'}'");
	return s;
}

static bool end_statement(struct parser *ps, const char *after)
{
	if (at(ps, SRL_T_SEMI)) {
		next(ps);
		return true;
	}
	char what[64];
	snprintf(what, sizeof what, "';' after %s", after);
	syntax_error(ps, peek(ps), what);
	return false;
}

static struct srl_stmt *parse_if(struct parser *ps, const struct srl_tok *t)
{
	struct srl_stmt *s = new_stmt(ps, SRL_S_IF, t);
	s->cond = parse_expr(ps);
	if (!s->cond)
		return failed(ps, t);
	if (at_kw(ps, "SAVE") && peek2(ps)->kind == SRL_T_SEMI) {
		next(ps);
		next(ps);
		s->save = true;
	} else if (at_kw(ps, "SAVE") && peek2(ps)->kind == SRL_T_COMMA) {
		next(ps);
		next(ps);
		s->save = true;
		s->then_s = parse_statement(ps, false);
	} else {
		if (is_closer(peek(ps)) || at_kw(ps, "ELSE")) {
			syntax_error(ps, peek(ps), "a statement after the IF condition");
			return failed(ps, t);
		}
		s->then_s = parse_statement(ps, false);
	}
	if (at_kw(ps, "ELSE")) {
		struct srl_tok e = next(ps);
		if (is_closer(peek(ps))) {
			syntax_error(ps, peek(ps), "a statement after ELSE");
			return failed(ps, &e);
		}
		s->else_s = parse_statement(ps, false);
	}
	return s;
}

static struct srl_stmt *parse_save(struct parser *ps, const struct srl_tok *t)
{
	struct srl_stmt *s = new_stmt(ps, SRL_S_SAVE, t);
	if (!parse_ref(ps, USE_SAVE, &s->ref))
		return failed(ps, t);
	s->save_form = SRL_SAVE_BARE;
	if (at(ps, SRL_T_SLASH)) {
		next(ps);
		unsigned long w;
		if (!parse_number(ps, 0, 8 * RULE_ADDR_MAX, "a mask width", &w))
			return failed(ps, t);
		s->save_form = SRL_SAVE_WIDTH;
		s->op.mkind = SRL_M_WIDTH;
		s->op.width = (unsigned)w;
	} else if (at(ps, SRL_T_AMP)) {
		next(ps);
		if (!parse_value_tok(ps, &s->op.mask))
			return failed(ps, t);
		s->save_form = SRL_SAVE_MASK;
		s->op.mkind = SRL_M_MASK;
	} else if (at(ps, SRL_T_EQ)) {
		next(ps);
		if (!parse_operand(ps, &s->op))
			return failed(ps, t);
		s->save_form = SRL_SAVE_VALUE;
	}
	if (!end_statement(ps, "SAVE"))
		return failed(ps, t);
	return s;
}

static struct srl_stmt *parse_store(struct parser *ps, const struct srl_tok *t)
{
	struct srl_stmt *s = new_stmt(ps, SRL_S_STORE, t);
	if (!parse_ref(ps, USE_STORE, &s->ref) ||
	    !expect(ps, SRL_T_ASSIGN, "':='") ||
	    !parse_value_tok(ps, &s->op.val) || !end_statement(ps, "STORE"))
		return failed(ps, t);
	return s;
}

static struct srl_stmt *parse_call(struct parser *ps, const struct srl_tok *t)
{
	struct srl_stmt *s = new_stmt(ps, SRL_S_CALL, t);
	if (!at(ps, SRL_T_IDENT)) {
		syntax_error(ps, peek(ps), "a subroutine name");
		return failed(ps, t);
	}
	s->callee = next(ps);
	if (!expect(ps, SRL_T_LPAREN, "'('"))
		return failed(ps, t);
	size_t cap = 0;
	if (!at(ps, SRL_T_RPAREN)) {
		do {
			s->args = srl_grow(ps->a, s->args, &cap, s->n_args + 1, sizeof *s->args);
			if (!parse_ref(ps, USE_ARG, &s->args[s->n_args++]))
				return failed(ps, t);
		} while (at(ps, SRL_T_COMMA) && (next(ps), true));
	}
	if (!expect(ps, SRL_T_RPAREN, "',' or ')'"))
		return failed(ps, t);
	cap = 0;
	while (at(ps, SRL_T_NUM)) {
		struct srl_numbered nb = { .line = peek(ps)->line, .col = peek(ps)->col };
		size_t ncap = 0;
		while (at(ps, SRL_T_NUM) && peek2(ps)->kind == SRL_T_COLON) {
			unsigned long n;
			parse_number(ps, 1, SRL_MAX_RETURN, "a return number", &n);
			next(ps);
			nb.nums = srl_grow(ps->a, nb.nums, &ncap, nb.n_nums + 1, sizeof *nb.nums);
			nb.nums[nb.n_nums++] = (unsigned)n;
		}
		if (!nb.n_nums || is_closer(peek(ps))) {
			syntax_error(ps, peek(ps), nb.n_nums ? "a statement" : "':'");
			return failed(ps, t);
		}
		nb.stmt = parse_statement(ps, false);
		s->nums = srl_grow(ps->a, s->nums, &cap, s->n_nums + 1, sizeof *s->nums);
		s->nums[s->n_nums++] = nb;
	}
	if (!expect_kw(ps, "ENDCALL") || !end_statement(ps, "ENDCALL"))
		return failed(ps, t);
	return s;
}

static bool check_name(struct parser *ps, const struct srl_tok *t, const char *what)
{
	if (t->kind != SRL_T_IDENT) {
		syntax_error(ps, t, what);
		return false;
	}
	if (is_reserved(t)) {
		diag_error(ps->d, t->line, t->col, "'%.*s' is a reserved word",
			   (int)t->len, t->text);
	}
	return true;
}

static struct srl_stmt *parse_define(struct parser *ps, const struct srl_tok *t)
{
	ps->no_expand = true;
	fill(ps, 1);
	ps->no_expand = false;
	struct srl_tok name = next(ps);
	if (!check_name(ps, &name, "a name to define"))
		return failed(ps, t);
	if (!expect(ps, SRL_T_EQ, "'='"))
		return failed(ps, t);
	if (!at(ps, SRL_T_DEFTEXT)) {
		syntax_error(ps, peek(ps), "the defined text");
		return failed(ps, t);
	}
	struct srl_tok text = next(ps);
	if (!end_statement(ps, "DEFINE"))
		return failed(ps, t);
	if (find_define(ps->p, &name)) {
		diag_error(ps->d, name.line, name.col, "'%.*s' is already defined",
			   (int)name.len, name.text);
		return NULL;
	}
	struct srl_define *df = srl_alloc(ps->a, sizeof *df);
	df->name = name;
	srl_lex(text.text, text.len, text.line, text.col, &df->toks, ps->a, ps->d);
	struct srl_program *p = ps->p;
	p->defines = srl_grow(ps->a, p->defines, &p->cap_defines, p->n_defines + 1,
			      sizeof *p->defines);
	p->defines[p->n_defines++] = df;
	return NULL;
}

static struct srl_stmt *parse_subroutine(struct parser *ps, const struct srl_tok *t)
{
	struct srl_sub *sub = srl_alloc(ps->a, sizeof *sub);
	struct srl_tok name = next(ps);
	if (!check_name(ps, &name, "a subroutine name") ||
	    !expect(ps, SRL_T_LPAREN, "'('"))
		return failed(ps, t);
	sub->name = name;
	sub->gen_entry = -1;
	size_t cap = 0;
	if (!at(ps, SRL_T_RPAREN)) {
		do {
			struct srl_param pm = { 0 };
			if (at_kw(ps, "VARIABLE"))
				pm.is_var = true;
			else if (!at_kw(ps, "ADDRESS")) {
				syntax_error(ps, peek(ps), "ADDRESS or VARIABLE");
				return failed(ps, t);
			}
			next(ps);
			pm.name = next(ps);
			if (!check_name(ps, &pm.name, "a parameter name"))
				return failed(ps, t);
			if (find_param(sub, &pm.name) >= 0)
				diag_error(ps->d, pm.name.line, pm.name.col,
					   "parameter '%.*s' given twice",
					   (int)pm.name.len, pm.name.text);
			sub->params = srl_grow(ps->a, sub->params, &cap, sub->n_params + 1,
					       sizeof *sub->params);
			sub->params[sub->n_params++] = pm;
		} while (at(ps, SRL_T_COMMA) && (next(ps), true));
	}
	if (!expect(ps, SRL_T_RPAREN, "',' or ')'"))
		return failed(ps, t);
	sub->body = new_stmt(ps, SRL_S_BLOCK, t);
	ps->sub = sub;
	parse_list(ps, sub->body);
	ps->sub = NULL;
	sub->end_line = peek(ps)->line;
	sub->end_col = peek(ps)->col;
	if (!expect_kw(ps, "ENDSUB") || !end_statement(ps, "ENDSUB"))
		sync(ps);
	struct srl_program *p = ps->p;
	p->subs = srl_grow(ps->a, p->subs, &p->cap_subs, p->n_subs + 1, sizeof *p->subs);
	p->subs[p->n_subs++] = sub;
	return NULL;
}

static struct srl_stmt *parse_format(struct parser *ps, const struct srl_tok *t)
{
	struct srl_program *p = ps->p;
	while (!at(ps, SRL_T_SEMI)) {
		struct srl_tok it = *peek(ps);
		struct format_item fi = { 0 };
		if (it.kind == SRL_T_STRING) {
			char *sep = srl_alloc(ps->a, it.len + 1);
			memcpy(sep, it.text, it.len);
			fi.sep = sep;
		} else if (it.kind == SRL_T_IDENT) {
			const struct attr_info *ai = attr_by_name(it.text, it.len);
			if (!ai && is_keyword(&it)) {
				syntax_error(ps, &it, "';' after FORMAT");
				return failed(ps, t);
			}
			if (!ai)
				diag_error(ps->d, it.line, it.col, "unknown attribute '%.*s'",
					   (int)it.len, it.text);
			else if (!(ai->flags & ATTR_F_READ))
				diag_error(ps->d, it.line, it.col,
					   "'%s' cannot be read from a flow", ai->name);
			else
				fi.attr = ai->num;
		} else {
			syntax_error(ps, &it, "an attribute or a \"separator\" in FORMAT");
			return failed(ps, t);
		}
		next(ps);
		if (fi.attr || fi.sep) {
			p->format = srl_grow(ps->a, p->format, &p->cap_format,
					     p->n_format + 1, sizeof *p->format);
			p->format[p->n_format++] = fi;
		}
	}
	next(ps);
	return NULL;
}

static struct srl_stmt *parse_toplevel_only(struct parser *ps, const struct srl_tok *t,
					    bool top)
{
	if (!top)
		diag_error(ps->d, t->line, t->col, "%.*s is only allowed at the top level",
			   (int)t->len, t->text);
	if (srl_tok_is(t, "SUBROUTINE"))
		return parse_subroutine(ps, t);
	if (srl_tok_is(t, "FORMAT"))
		return parse_format(ps, t);
	if (srl_tok_is(t, "STATISTICS")) {
		ps->p->statistics = true;
		if (!end_statement(ps, "STATISTICS"))
			return failed(ps, t);
		return NULL;
	}
	/* SET n; */
	unsigned long n;
	if (!parse_number(ps, 0, UINT32_MAX, "a ruleset number", &n))
		return failed(ps, t);
	if (ps->p->has_set)
		diag_error(ps->d, t->line, t->col, "SET given twice");
	ps->p->has_set = true;
	ps->p->set = (uint32_t)n;
	if (!end_statement(ps, "SET"))
		return failed(ps, t);
	return NULL;
}

static struct srl_stmt *simple(struct parser *ps, const struct srl_tok *t,
			       unsigned kind)
{
	char what[32];
	snprintf(what, sizeof what, "%.*s", (int)(t->len > 20 ? 20 : t->len), t->text);
	if (!end_statement(ps, what))
		return failed(ps, t);
	return new_stmt(ps, kind, t);
}

static struct srl_stmt *parse_statement_inner(struct parser *ps, bool top)
{
	struct srl_tok t = *peek(ps);
	if (t.kind == SRL_T_SEMI) {
		next(ps);
		return new_stmt(ps, SRL_S_EMPTY, &t);
	}
	if (t.kind == SRL_T_LBRACE)
		return parse_block(ps, NULL);
	if (t.kind == SRL_T_IDENT && !is_keyword(&t) && peek2(ps)->kind == SRL_T_COLON) {
		struct srl_tok label = next(ps);
		next(ps);
		check_name(ps, &label, "a label");
		return parse_block(ps, &label);
	}
	if (t.kind != SRL_T_IDENT || !is_keyword(&t)) {
		next(ps);
		syntax_error(ps, &t, "a statement");
		return failed(ps, &t);
	}
	if (srl_tok_is(&t, "DEFINE")) {
		next(ps);
		return parse_define(ps, &t);
	}
	if (srl_tok_is(&t, "SET") || srl_tok_is(&t, "FORMAT") ||
	    srl_tok_is(&t, "STATISTICS") || srl_tok_is(&t, "SUBROUTINE")) {
		next(ps);
		return parse_toplevel_only(ps, &t, top);
	}
	if (srl_tok_is(&t, "ELSE") || srl_tok_is(&t, "ADDRESS") ||
	    srl_tok_is(&t, "VARIABLE") || is_closer(&t)) {
		next(ps);
		syntax_error(ps, &t, "a statement");
		return failed(ps, &t);
	}
	next(ps);
	if (srl_tok_is(&t, "IF"))
		return parse_if(ps, &t);
	if (srl_tok_is(&t, "SAVE"))
		return parse_save(ps, &t);
	if (srl_tok_is(&t, "STORE"))
		return parse_store(ps, &t);
	if (srl_tok_is(&t, "CALL"))
		return parse_call(ps, &t);
	if (srl_tok_is(&t, "COUNT")) {
		ps->p->has_count = true;
		return simple(ps, &t, SRL_S_COUNT);
	}
	if (srl_tok_is(&t, "IGNORE"))
		return simple(ps, &t, SRL_S_IGNORE);
	if (srl_tok_is(&t, "NOMATCH"))
		return simple(ps, &t, SRL_S_NOMATCH);
	if (srl_tok_is(&t, "EXIT")) {
		struct srl_stmt *s = new_stmt(ps, SRL_S_EXIT, &t);
		if (!at(ps, SRL_T_IDENT)) {
			syntax_error(ps, peek(ps), "a label after EXIT");
			return failed(ps, &t);
		}
		s->exit_label = next(ps);
		if (!end_statement(ps, "EXIT"))
			return failed(ps, &t);
		return s;
	}
	/* RETURN [n] ; */
	struct srl_stmt *s = new_stmt(ps, SRL_S_RETURN, &t);
	if (at(ps, SRL_T_NUM)) {
		unsigned long n;
		parse_number(ps, 1, SRL_MAX_RETURN, "a RETURN number", &n);
		s->ret = (unsigned)n;
	}
	if (!end_statement(ps, "RETURN"))
		return failed(ps, &t);
	if (!ps->sub)
		diag_error(ps->d, t.line, t.col, "RETURN outside a subroutine");
	return s;
}

static struct srl_stmt *parse_statement(struct parser *ps, bool top)
{
	struct srl_tok t = *peek(ps);
	if (!enter(ps))
		return new_stmt(ps, SRL_S_EMPTY, &t);
	struct srl_stmt *s = parse_statement_inner(ps, top);
	leave(ps);
	return s;
}

void srl_parse(const struct srl_toks *toks, struct srl_program *p,
	       struct srl_arena *a, struct diag *d)
{
	struct parser ps = { .nfr = 1, .p = p, .a = a, .d = d };
	ps.fr[0].toks = toks->v;
	struct srl_tok t0 = toks->v[0];
	p->main = new_stmt(&ps, SRL_S_BLOCK, &t0);
	size_t cap = 0;
	while (!at(&ps, SRL_T_EOF)) {
		const struct srl_tok *t = peek(&ps);
		if (is_closer(t)) {
			struct srl_tok bad = next(&ps);
			ps.panic = false;
			syntax_error(&ps, &bad, "a statement");
			ps.panic = false;
			continue;
		}
		add_stmt(&ps, p->main, &cap, parse_statement(&ps, true));
	}
	for (size_t i = 0; i < p->n_defines; i++) {
		const struct srl_define *df = p->defines[i];
		if (!df->used)
			diag_warning(d, df->name.line, df->name.col,
				     "'%.*s' is defined but never used",
				     (int)df->name.len, df->name.text);
	}
}
