/*
 * srl_sema.c — the checks the grammar cannot make, and the facts the code
 * generator needs: labels and EXITs (RFC 2723 §3.3.3: unique per scope,
 * EXIT only to an enclosing statement), subroutines and CALLs (§4.2:
 * argument kinds, RETURN numbers, no recursion, parameters mapped to meter
 * variables v1..v5 with at most five live at once), and every value and mask
 * turned into rule bytes (Appendix B, via common/value.h).
 */
#include "srl_int.h"
#include "srl.h"
#include "value.h"

#include <string.h>
#include <strings.h>

/* RFC 2724 §3 distribution parameters carried in a PushPkt rule. */
enum {
	DIST_TRANSFORM_LINEAR  = 1,
	DIST_TRANSFORM_LOG     = 2,
	DIST_TRANSFORM_DYNAMIC = 3,   /* ntm: exact values, else binned */
	DIST_FIELD_BYTES       = 6
};

static inline unsigned dist_transform(const uint8_t *mask) { return mask[0]; }
static inline unsigned dist_lower(const uint8_t *mask) { return (unsigned)mask[2] << 8 | mask[3]; }
static inline unsigned dist_upper(const uint8_t *mask) { return (unsigned)mask[4] << 8 | mask[5]; }
static inline unsigned dist_buckets(const uint8_t *value) { return value[0]; }

struct sema {
	struct srl_program *p;
	struct srl_arena *a;
	struct diag *d;
	struct srl_sub *sub;              /* scope being checked; NULL = main */
	struct srl_stmt **labels;         /* labelled blocks of the scope */
	size_t n_labels, cap_labels;
	struct srl_stmt **encl;           /* enclosing labelled blocks */
	size_t n_encl, cap_encl;
};

static bool same_name(const struct srl_tok *a, const struct srl_tok *b)
{
	return a->len == b->len && strncasecmp(a->text, b->text, a->len) == 0;
}

static struct srl_sub *find_sub(const struct srl_program *p, const struct srl_tok *n)
{
	for (size_t i = 0; i < p->n_subs; i++)
		if (same_name(&p->subs[i]->name, n))
			return p->subs[i];
	return NULL;
}

/* ---- labels -------------------------------------------------------------- */

static void collect_labels(struct sema *se, struct srl_stmt *s)
{
	if (!s)
		return;
	switch (s->kind) {
	case SRL_S_BLOCK:
		if (s->label.len) {
			for (size_t i = 0; i < se->n_labels; i++)
				if (same_name(&se->labels[i]->label, &s->label))
					diag_error(se->d, s->label.line, s->label.col,
						   "label '%.*s' is already used (line %u)",
						   (int)s->label.len, s->label.text,
						   se->labels[i]->label.line);
			se->labels = srl_grow(se->a, se->labels, &se->cap_labels,
					      se->n_labels + 1, sizeof *se->labels);
			se->labels[se->n_labels++] = s;
		}
		for (size_t i = 0; i < s->n_body; i++)
			collect_labels(se, s->body[i]);
		break;
	case SRL_S_IF:
		collect_labels(se, s->then_s);
		collect_labels(se, s->else_s);
		break;
	case SRL_S_CALL:
		for (size_t i = 0; i < s->n_nums; i++)
			collect_labels(se, s->nums[i].stmt);
		break;
	default:
		break;
	}
}

/* ---- RETURN numbers: needed before any CALL is checked ------------------ */

static void scan_returns(struct srl_sub *sub, const struct srl_stmt *s)
{
	if (!s)
		return;
	switch (s->kind) {
	case SRL_S_RETURN:
		if (s->ret == 0)
			sub->plain_ret = true;
		else if (s->ret > sub->max_ret)
			sub->max_ret = s->ret;
		break;
	case SRL_S_BLOCK:
		for (size_t i = 0; i < s->n_body; i++)
			scan_returns(sub, s->body[i]);
		break;
	case SRL_S_IF:
		scan_returns(sub, s->then_s);
		scan_returns(sub, s->else_s);
		break;
	case SRL_S_CALL:
		for (size_t i = 0; i < s->n_nums; i++)
			scan_returns(sub, s->nums[i].stmt);
		break;
	default:
		break;
	}
}

/* ---- can control leave a statement at its end? ---------------------------- */

static bool completes(const struct srl_stmt *s)
{
	if (!s)
		return true;
	switch (s->kind) {
	case SRL_S_COUNT: case SRL_S_IGNORE: case SRL_S_NOMATCH:
	case SRL_S_RETURN: case SRL_S_EXIT:
		return false;
	case SRL_S_IF:
		return completes(s->then_s) || !s->else_s || completes(s->else_s);
	case SRL_S_BLOCK:
		if (s->exited)
			return true;
		for (size_t i = 0; i < s->n_body; i++)
			if (!completes(s->body[i]))
				return false;
		return true;
	case SRL_S_CALL: {
		if (!s->sub)
			return true;
		for (unsigned k = 1; k <= s->sub->n_slots; k++) {
			const struct srl_stmt *target = NULL;
			for (size_t i = 0; i < s->n_nums; i++)
				for (size_t j = 0; j < s->nums[i].n_nums; j++)
					if (s->nums[i].nums[j] == k)
						target = s->nums[i].stmt;
			if (!target || completes(target))
				return true;
		}
		return false;
	}
	default:
		return true;
	}
}

/* ---- EXIT, CALL and reachability ----------------------------------------- */

static void check_stmt(struct sema *se, struct srl_stmt *s);

static void check_call(struct sema *se, struct srl_stmt *s)
{
	struct srl_sub *sub = find_sub(se->p, &s->callee);
	int n = (int)s->callee.len;
	if (!sub) {
		diag_error(se->d, s->callee.line, s->callee.col,
			   "unknown subroutine '%.*s'", n, s->callee.text);
	} else if (sub->n_params != s->n_args) {
		diag_error(se->d, s->callee.line, s->callee.col,
			   "subroutine '%.*s' takes %zu argument%s, CALL gives %zu",
			   n, s->callee.text, sub->n_params,
			   sub->n_params == 1 ? "" : "s", s->n_args);
	} else {
		s->sub = sub;
	}
	for (size_t i = 0; sub && i < s->n_args && i < sub->n_params; i++) {
		const struct srl_ref *r = &s->args[i];
		struct srl_param *pm = &sub->params[i];
		if (r->param >= 0) {
			diag_error(se->d, r->line, r->col,
				   "a parameter cannot be passed on to another subroutine");
			continue;
		}
		if (!r->attr)
			continue;
		bool is_var = r->attr->flags & ATTR_F_CLASS;
		if (pm->is_var && !is_var) {
			diag_error(se->d, r->line, r->col,
				   "argument %zu of '%.*s' must be a variable "
				   "(SourceClass .. FlowKind), not '%s'",
				   i + 1, n, s->callee.text, r->attr->name);
		} else if (!pm->is_var && is_var) {
			diag_error(se->d, r->line, r->col,
				   "argument %zu of '%.*s' must be an address attribute, "
				   "not the variable '%s'", i + 1, n, s->callee.text,
				   r->attr->name);
		} else if (!pm->is_var && !(r->attr->flags & (ATTR_F_TEST | ATTR_F_SAVE))) {
			diag_error(se->d, r->line, r->col,
				   "'%s' cannot be tested or saved, so it cannot be an argument",
				   r->attr->name);
		} else if (!pm->bound) {
			pm->bound = r->attr;
		} else if (pm->bound->type != r->attr->type ||
			   pm->bound->width != r->attr->width) {
			diag_error(se->d, r->line, r->col,
				   "argument %zu of '%.*s' is '%s', unlike '%s' in an earlier "
				   "CALL (a parameter serves one kind of attribute)",
				   i + 1, n, s->callee.text, r->attr->name, pm->bound->name);
		}
	}
	if (s->sub) {
		for (size_t i = 0; i < s->n_nums; i++) {
			const struct srl_numbered *nb = &s->nums[i];
			for (size_t j = 0; j < nb->n_nums; j++) {
				unsigned k = nb->nums[j];
				for (size_t i2 = 0; i2 <= i; i2++)
					for (size_t j2 = 0; j2 < (i2 == i ? j : s->nums[i2].n_nums); j2++)
						if (s->nums[i2].nums[j2] == k)
							diag_error(se->d, nb->line, nb->col,
								   "return number %u is given twice", k);
				if (k > sub->max_ret)
					diag_warning(se->d, nb->line, nb->col,
						     "'%.*s' never returns %u", n,
						     s->callee.text, k);
			}
		}
	}
	for (size_t i = 0; i < s->n_nums; i++)
		check_stmt(se, s->nums[i].stmt);
}

static void check_exit(struct sema *se, struct srl_stmt *s)
{
	const struct srl_tok *l = &s->exit_label;
	for (size_t i = se->n_encl; i-- > 0;)
		if (same_name(&se->encl[i]->label, l)) {
			s->exit_target = se->encl[i];
			s->exit_target->exited = true;
			return;
		}
	for (size_t i = 0; i < se->n_labels; i++)
		if (same_name(&se->labels[i]->label, l)) {
			diag_error(se->d, l->line, l->col,
				   "EXIT %.*s is not inside the statement labelled '%.*s'",
				   (int)l->len, l->text, (int)l->len, l->text);
			return;
		}
	diag_error(se->d, l->line, l->col, "undefined label '%.*s'", (int)l->len, l->text);
}

static void check_stmt(struct sema *se, struct srl_stmt *s)
{
	if (!s)
		return;
	switch (s->kind) {
	case SRL_S_BLOCK:
		if (s->label.len) {
			se->encl = srl_grow(se->a, se->encl, &se->cap_encl, se->n_encl + 1,
					    sizeof *se->encl);
			se->encl[se->n_encl++] = s;
		}
		for (size_t i = 0; i < s->n_body; i++) {
			check_stmt(se, s->body[i]);
			if (i + 1 < s->n_body && !completes(s->body[i])) {
				const struct srl_stmt *u = s->body[i + 1];
				for (size_t j = i + 2; u->kind == SRL_S_EMPTY && j < s->n_body; j++)
					u = s->body[j];
				if (u->kind != SRL_S_EMPTY)
					diag_warning(se->d, u->line, u->col, "unreachable statement");
				/* one warning per block is enough; keep checking */
				for (size_t j = i + 1; j < s->n_body; j++)
					check_stmt(se, s->body[j]);
				break;
			}
		}
		if (s->label.len)
			se->n_encl--;
		break;
	case SRL_S_IF:
		check_stmt(se, s->then_s);
		check_stmt(se, s->else_s);
		break;
	case SRL_S_EXIT:
		check_exit(se, s);
		break;
	case SRL_S_CALL:
		check_call(se, s);
		break;
	default:
		break;
	}
}

static void check_scope(struct sema *se, struct srl_sub *sub, struct srl_stmt *body)
{
	se->sub = sub;
	se->n_labels = 0;
	se->n_encl = 0;
	collect_labels(se, body);
	check_stmt(se, body);
}

/* ---- call graph: recursion and meter-variable allocation ---------------- */

typedef void (*call_fn)(struct sema *, struct srl_stmt *call, unsigned base);

static void for_each_call(struct sema *se, struct srl_stmt *s, call_fn fn, unsigned base)
{
	if (!s)
		return;
	switch (s->kind) {
	case SRL_S_BLOCK:
		for (size_t i = 0; i < s->n_body; i++)
			for_each_call(se, s->body[i], fn, base);
		break;
	case SRL_S_IF:
		for_each_call(se, s->then_s, fn, base);
		for_each_call(se, s->else_s, fn, base);
		break;
	case SRL_S_CALL:
		fn(se, s, base);
		for (size_t i = 0; i < s->n_nums; i++)
			for_each_call(se, s->nums[i].stmt, fn, base);
		break;
	default:
		break;
	}
}

/*
 * A subroutine's parameters use meter variables above those of every
 * subroutine that can be active when it is called, so nested calls never
 * overwrite a live parameter.  Bases only grow, and growth stops at the
 * limit, so this terminates on any call graph.
 */
static void relax_call(struct sema *se, struct srl_stmt *call, unsigned base)
{
	struct srl_sub *sub = call->sub;
	if (!sub)
		return;
	if (sub->visiting) {
		diag_error(se->d, call->callee.line, call->callee.col,
			   "recursive CALL of '%.*s'", (int)call->callee.len,
			   call->callee.text);
		call->sub = NULL;
		return;
	}
	if (sub->called && base <= sub->base)
		return;
	bool first = !sub->called;
	sub->called = true;
	if (base > sub->base || first)
		sub->base = base > sub->base ? base : sub->base;
	if (sub->base + sub->n_params > SRL_MAX_PARAMS) {
		diag_error(se->d, call->callee.line, call->callee.col,
			   "CALL of '%.*s' needs more than %u live parameters "
			   "(meter variables v1..v5)", (int)call->callee.len,
			   call->callee.text, SRL_MAX_PARAMS);
		sub->base = SRL_MAX_PARAMS;   /* stop growing */
		call->sub = NULL;
		return;
	}
	sub->visiting = true;
	for_each_call(se, sub->body, relax_call, sub->base + (unsigned)sub->n_params);
	sub->visiting = false;
}

/* ---- values -------------------------------------------------------------- */

/* The attribute a reference stands for when values are parsed, and the
 * attribute number its rules carry. */
static const struct attr_info *ref_info(const struct sema *se, const struct srl_ref *r,
					unsigned *num)
{
	if (r->param < 0) {
		*num = r->attr ? r->attr->num : 0;
		return r->attr;
	}
	const struct srl_param *pm = &se->sub->params[r->param];
	*num = pm->vnum;
	if (pm->bound)
		return pm->bound;
	return attr_by_num(pm->is_var ? ATTR_FLOW_KIND : ATTR_V1);
}

static bool parse_bytes(struct sema *se, const struct attr_info *ai,
			const struct srl_tok *t, const char *what,
			uint8_t out[RULE_ADDR_MAX], uint8_t *width)
{
	char err[160] = "";
	memset(out, 0, RULE_ADDR_MAX);
	if (value_parse(ai, t->text, t->len, out, width, err, sizeof err) == 0)
		return true;
	diag_error(se->d, t->line, t->col, "bad %s '%.*s' for %s: %s", what,
		   (int)(t->len > 40 ? 40 : t->len), t->text, ai->name, err);
	return false;
}

static void all_ones(uint8_t *m, uint8_t len)
{
	memset(m, 0xff, len);
}

/* Width of a "/n" mask with no value beside it: IPv4 unless it cannot be. */
static uint8_t width_for_prefix(const struct attr_info *ai, unsigned bits)
{
	if (ai->type == ATTR_T_PEER)
		return bits <= 32 ? 4 : 16;
	return ai->width;
}

static bool eval_operand(struct sema *se, const struct attr_info *ai,
			 struct srl_operand *op, bool canonical)
{
	uint8_t w;
	if (!parse_bytes(se, ai, &op->val, "value", op->value, &w))
		return false;
	op->len = w;
	memset(op->maskb, 0, sizeof op->maskb);
	switch (op->mkind) {
	case SRL_M_NONE:
		all_ones(op->maskb, w);
		break;
	case SRL_M_WIDTH:
		if (value_prefix_mask(op->width, w, op->maskb) < 0) {
			diag_error(se->d, op->val.line, op->val.col,
				   "mask /%u is wider than the %u-byte value", op->width, w);
			return false;
		}
		break;
	case SRL_M_MASK: {
		uint8_t mw;
		if (!parse_bytes(se, ai, &op->mask, "mask", op->maskb, &mw))
			return false;
		if (mw != w) {
			diag_error(se->d, op->mask.line, op->mask.col,
				   "mask is %u bytes but the value is %u", mw, w);
			return false;
		}
		break;
	}
	}
	if (!canonical)
		return true;
	bool outside = false;
	for (unsigned i = 0; i < w; i++) {
		if (op->value[i] & ~op->maskb[i])
			outside = true;
		op->value[i] &= op->maskb[i];
	}
	if (outside)
		diag_warning(se->d, op->val.line, op->val.col,
			     "value '%.*s' has bits outside its mask; they are ignored",
			     (int)(op->val.len > 40 ? 40 : op->val.len), op->val.text);
	return true;
}

static void check_distribution(struct sema *se, const struct srl_stmt *s,
			       const struct attr_info *ai)
{
	const struct srl_operand *op = &s->op;
	if (s->save_form != SRL_SAVE_VALUE || op->mkind != SRL_M_MASK) {
		diag_error(se->d, s->ref.line, s->ref.col,
			   "SAVE of distribution '%s' needs '= value & mask' "
			   "(RFC 2724 parameters)", ai->name);
		return;
	}
	if (op->len < DIST_FIELD_BYTES)
		return;     /* the value parser already complained */
	unsigned tr = dist_transform(op->maskb);
	unsigned line = op->mask.line, col = op->mask.col;
	if (tr != DIST_TRANSFORM_LINEAR && tr != DIST_TRANSFORM_LOG &&
	    tr != DIST_TRANSFORM_DYNAMIC) {
		diag_error(se->d, line, col, "distribution transform must be 1 (linear), "
			   "2 (logarithmic) or 3 (ntm dynamic), not %u", tr);
		return;
	}
	if (dist_buckets(op->value) == 0)
		diag_error(se->d, op->val.line, op->val.col,
			   "a distribution needs at least one bucket");
	if (tr == DIST_TRANSFORM_DYNAMIC)
		return;     /* limits come from the data */
	if (dist_upper(op->maskb) <= dist_lower(op->maskb))
		diag_error(se->d, line, col, "distribution upper limit %u must be above "
			   "the lower limit %u", dist_upper(op->maskb), dist_lower(op->maskb));
	else if (tr == DIST_TRANSFORM_LOG && dist_lower(op->maskb) == 0)
		diag_error(se->d, line, col,
			   "a logarithmic distribution needs a lower limit of at least 1");
}

static void eval_save(struct sema *se, struct srl_stmt *s, const struct attr_info *ai)
{
	struct srl_operand *op = &s->op;
	if (ai->type == ATTR_T_DIST) {
		if (s->save_form == SRL_SAVE_VALUE)
			eval_operand(se, ai, op, false);
		check_distribution(se, s, ai);
		return;
	}
	memset(op->value, 0, sizeof op->value);
	memset(op->maskb, 0, sizeof op->maskb);
	switch (s->save_form) {
	case SRL_SAVE_BARE:
		op->len = ai->width;
		all_ones(op->maskb, op->len);
		break;
	case SRL_SAVE_WIDTH:
		op->len = width_for_prefix(ai, op->width);
		if (value_prefix_mask(op->width, op->len, op->maskb) < 0)
			diag_error(se->d, s->ref.line, s->ref.col,
				   "mask /%u is wider than %s (%u bytes)", op->width,
				   ai->name, op->len);
		break;
	case SRL_SAVE_MASK:
		parse_bytes(se, ai, &op->mask, "mask", op->maskb, &op->len);
		break;
	case SRL_SAVE_VALUE:
		eval_operand(se, ai, op, true);
		break;
	}
}

static void eval_expr(struct sema *se, struct srl_expr *e)
{
	if (!e)
		return;
	if (e->kind != SRL_E_TEST) {
		for (size_t i = 0; i < e->n_kids; i++)
			eval_expr(se, e->kids[i]);
		return;
	}
	unsigned num;
	const struct attr_info *ai = ref_info(se, &e->ref, &num);
	if (!ai)
		return;
	for (size_t i = 0; i < e->n_ops; i++)
		eval_operand(se, ai, &e->ops[i], true);
}

static void eval_stmt(struct sema *se, struct srl_stmt *s)
{
	if (!s)
		return;
	unsigned num;
	const struct attr_info *ai;
	switch (s->kind) {
	case SRL_S_IF:
		eval_expr(se, s->cond);
		eval_stmt(se, s->then_s);
		eval_stmt(se, s->else_s);
		break;
	case SRL_S_BLOCK:
		for (size_t i = 0; i < s->n_body; i++)
			eval_stmt(se, s->body[i]);
		break;
	case SRL_S_CALL:
		for (size_t i = 0; i < s->n_nums; i++)
			eval_stmt(se, s->nums[i].stmt);
		break;
	case SRL_S_SAVE:
		if ((ai = ref_info(se, &s->ref, &num)))
			eval_save(se, s, ai);
		break;
	case SRL_S_STORE:
		if ((ai = ref_info(se, &s->ref, &num))) {
			s->op.mkind = SRL_M_NONE;
			eval_operand(se, ai, &s->op, true);
		}
		break;
	default:
		break;
	}
}

void srl_sema(struct srl_program *p, struct srl_arena *a, struct diag *d)
{
	struct sema se = { .p = p, .a = a, .d = d };
	for (size_t i = 0; i < p->n_subs; i++) {
		struct srl_sub *sub = p->subs[i];
		for (size_t j = 0; j < i; j++)
			if (same_name(&p->subs[j]->name, &sub->name))
				diag_error(d, sub->name.line, sub->name.col,
					   "subroutine '%.*s' is already defined (line %u)",
					   (int)sub->name.len, sub->name.text,
					   p->subs[j]->name.line);
		scan_returns(sub, sub->body);
		sub->n_slots = sub->max_ret + (sub->plain_ret ? 1 : 0);
	}
	for (size_t i = 0; i < p->n_subs; i++)
		check_scope(&se, p->subs[i], p->subs[i]->body);
	check_scope(&se, NULL, p->main);

	for_each_call(&se, p->main, relax_call, 0);
	for (size_t i = 0; i < p->n_subs; i++) {
		struct srl_sub *sub = p->subs[i];
		for (size_t k = 0; k < sub->n_params; k++)
			sub->params[k].vnum = ATTR_V1 + sub->base + (unsigned)k;
		if (!sub->called)
			diag_warning(d, sub->name.line, sub->name.col,
				     "subroutine '%.*s' is never called",
				     (int)sub->name.len, sub->name.text);
		else if (completes(sub->body))
			diag_error(d, sub->end_line, sub->end_col,
				   "control reaches ENDSUB of '%.*s' without a RETURN",
				   (int)sub->name.len, sub->name.text);
	}

	for (size_t i = 0; i < p->n_subs; i++) {
		se.sub = p->subs[i];
		eval_stmt(&se, p->subs[i]->body);
	}
	se.sub = NULL;
	eval_stmt(&se, p->main);
	if (!p->has_count)
		diag_warning(d, 0, 0, "the ruleset never COUNTs a packet");
}
