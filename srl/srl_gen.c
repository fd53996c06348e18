/*
 * srl_gen.c — SRL tree to RTFM rule table (RFC 2722 §4.4), following the
 * scheme of ref/srl-rtfm.md A.8; doc/srl.md "Code generation" describes it.
 *
 * Rules are first generated with symbolic targets.  A goto-type rule is
 * emitted as a "family" (Goto, PushRuleTo, PushPktTo, PopTo, Assign, Gosub)
 * and only when every target is known is it given its plain or ...Act form,
 * from what the target needs: a rule that tests must be entered with the
 * test indicator set, an unconditional rule on a real attribute (PushPkt,
 * STORE's PushRule, Assign) must be entered with it cleared, a Null rule
 * works either way.  Fall-through after a failed test always enters with
 * the indicator set, so a jump to the next rule is only dropped when that
 * is right; otherwise it stays as the guard "Null & 0 = 0: GotoAct, Next".
 */
#include "srl_int.h"
#include "srl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum need { NEED_ANY, NEED_SET, NEED_CLEAR };

/* Deepest recursion the generator allows itself (per expression). */
#define GEN_MAX_DEPTH 2000u

struct ir {
	struct rule r;          /* op: the plain form for families */
	bool family;            /* op picked from the target's need */
	bool pinned;            /* Gosub or jump-table slot: keep in place */
	bool live;
	uint8_t need;
	unsigned n_slots;       /* Gosub: Return slots that follow */
	int target;             /* label while generating, rule index after */
};

struct label {
	int at;                 /* rule index, -1 until placed */
	const char *name;       /* for listings; not NUL-terminated */
	size_t name_len;
};

struct deferred_pop {
	int label, target;
};

struct gen {
	struct ir *v;
	size_t n, cap;
	struct label *lab;
	size_t nlab, caplab;
	struct deferred_pop *pops;
	size_t npops, cappops;
	bool failed;            /* too large or out of memory */
	unsigned depth;
	struct diag *d;
	const struct srl_sub *sub;
};

static bool grow(void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * size);
	if (!p)
		return false;
	*arr = p;
	*cap = n;
	return true;
}

static void fail(struct gen *g, const char *why)
{
	if (!g->failed)
		diag_error(g->d, 0, 0, "%s", why);
	g->failed = true;
}

static void too_large(struct gen *g)
{
	if (!g->failed)
		diag_error(g->d, 0, 0, "the program needs more than %u rules", SRL_MAX_RULES);
	g->failed = true;
}

static int new_label(struct gen *g)
{
	if (g->failed || !grow((void **)&g->lab, &g->caplab, g->nlab + 1, sizeof *g->lab)) {
		fail(g, "out of memory");
		return 0;       /* label 0 exists whenever anything was made */
	}
	g->lab[g->nlab] = (struct label){ .at = -1 };
	return (int)g->nlab++;
}

static void place(struct gen *g, int l)
{
	if (!g->failed)
		g->lab[l].at = (int)g->n;
}

static void name_label(struct gen *g, int l, const struct srl_tok *name)
{
	if (!g->failed && name->len) {
		g->lab[l].name = name->text;
		g->lab[l].name_len = name->len;
	}
}

static struct ir *emit(struct gen *g, unsigned attr, unsigned op, bool family,
		       int target, enum need need)
{
	static struct ir scratch;
	if (g->failed)
		return &scratch;
	if (g->n >= SRL_MAX_RULES) {
		too_large(g);
		return &scratch;
	}
	if (!grow((void **)&g->v, &g->cap, g->n + 1, sizeof *g->v)) {
		fail(g, "out of memory");
		return &scratch;
	}
	struct ir *x = &g->v[g->n++];
	*x = (struct ir){ .family = family, .target = target, .need = (uint8_t)need,
			  .live = true };
	x->r.attr = (uint16_t)attr;
	x->r.op = (uint8_t)op;
	return x;
}

/* "Null & 0 = 0: <op>, <target>" */
static void jump(struct gen *g, unsigned op, int target)
{
	emit(g, ATTR_NULL, op, true, target, NEED_ANY);
}

static void stop(struct gen *g, unsigned op, uint32_t param)
{
	emit(g, ATTR_NULL, op, false, -1, NEED_ANY)->r.param = param;
}

static void set_bytes(struct ir *x, uint8_t len, const uint8_t *mask, const uint8_t *value)
{
	x->r.len = len;
	memcpy(x->r.mask, mask, len);
	memcpy(x->r.value, value, len);
}

static unsigned ref_num(const struct gen *g, const struct srl_ref *r)
{
	if (r->param >= 0)
		return g->sub->params[r->param].vnum;
	return r->attr->num;
}

static bool ref_saveable(const struct gen *g, const struct srl_ref *r)
{
	if (r->param >= 0) {
		const struct attr_info *b = g->sub->params[r->param].bound;
		return !b || (b->flags & ATTR_F_SAVE);
	}
	return r->attr->flags & ATTR_F_SAVE;
}

/* ---- conditions ---------------------------------------------------------- */

/* The factors still to be matched, in order (a list on the C stack). */
struct fseq {
	const struct srl_expr *e;
	const struct fseq *next;
};

/* Where failure goes: pop back to `base` pushes, then jump to `target`. */
struct fctx {
	int target;
	unsigned base;
	int *pop;               /* pop[k]: label popping from base+k+1 pushes */
	size_t npop;
};

static int pop_label(struct gen *g, struct fctx *fc, unsigned depth)
{
	if (depth <= fc->base || g->failed)
		return fc->target;
	size_t k = depth - fc->base - 1;
	if (k >= fc->npop) {
		int *p = realloc(fc->pop, (k + 1) * sizeof *p);
		if (!p) {
			fail(g, "out of memory");
			return fc->target;
		}
		for (size_t i = fc->npop; i <= k; i++)
			p[i] = -1;
		fc->pop = p;
		fc->npop = k + 1;
	}
	if (fc->pop[k] < 0) {
		int l = new_label(g);
		int below = pop_label(g, fc, depth - 1);
		if (!grow((void **)&g->pops, &g->cappops, g->npops + 1, sizeof *g->pops)) {
			fail(g, "out of memory");
			return fc->target;
		}
		g->pops[g->npops++] = (struct deferred_pop){ l, below };
		fc->pop[k] = l;
	}
	return fc->pop[k];
}

/* How many items a successful match pushes; -1 when it depends on the path. */
static int pushes(const struct gen *g, const struct srl_expr *e, bool save)
{
	if (!save)
		return 0;
	int n = 0;
	switch (e->kind) {
	case SRL_E_TEST:
		return ref_saveable(g, &e->ref) ? 1 : 0;
	case SRL_E_NOT:
		return 0;
	case SRL_E_AND:
		for (size_t i = 0; i < e->n_kids; i++) {
			int k = pushes(g, e->kids[i], save);
			if (k < 0)
				return -1;
			n += k;
		}
		return n;
	default:        /* OR */
		n = pushes(g, e->kids[0], save);
		for (size_t i = 1; i < e->n_kids; i++)
			if (pushes(g, e->kids[i], save) != n)
				return -1;
		return n;
	}
}

/*
 * Match the factors of `seq` left to right (short-circuit); on success jump
 * to `lt` with every matched factor pushed when `save`; on failure undo this
 * expression's pushes and go to the failure context.  `depth` = items pushed
 * so far by the expression.
 */
static void gen_seq(struct gen *g, const struct fseq *seq, bool save, int lt,
		    struct fctx *fc, unsigned depth)
{
	if (g->failed)
		return;
	if (!seq) {
		jump(g, RULE_GOTO, lt);
		return;
	}
	if (++g->depth > GEN_MAX_DEPTH) {
		fail(g, "expression too complex");
		return;
	}
	const struct srl_expr *e = seq->e;
	switch (e->kind) {
	case SRL_E_TEST: {
		bool push = save && ref_saveable(g, &e->ref);
		int ln = seq->next ? new_label(g) : lt;
		unsigned num = ref_num(g, &e->ref);
		for (size_t i = 0; i < e->n_ops; i++) {
			const struct srl_operand *op = &e->ops[i];
			struct ir *x = emit(g, num, push ? RULE_PUSH_RULE_TO : RULE_GOTO,
					    true, ln, NEED_SET);
			set_bytes(x, op->len, op->maskb, op->value);
		}
		jump(g, RULE_GOTO, pop_label(g, fc, depth));
		if (seq->next) {
			place(g, ln);
			gen_seq(g, seq->next, save, lt, fc, depth + push);
		}
		break;
	}
	case SRL_E_AND: {
		struct fseq *chain = malloc(e->n_kids * sizeof *chain);
		if (!chain) {
			fail(g, "out of memory");
			break;
		}
		for (size_t i = 0; i < e->n_kids; i++)
			chain[i] = (struct fseq){ e->kids[i],
				i + 1 < e->n_kids ? &chain[i + 1] : seq->next };
		gen_seq(g, chain, save, lt, fc, depth);
		free(chain);
		break;
	}
	case SRL_E_OR: {
		/* Alternatives that push alike share what follows; otherwise
		 * each gets its own copy, so failures pop the right count. */
		int pc = pushes(g, e, save);
		bool shared = pc >= 0 && seq->next;
		int ln = shared ? new_label(g) : lt;
		for (size_t i = 0; i < e->n_kids; i++) {
			bool last = i + 1 == e->n_kids;
			struct fctx alt = { .target = last ? 0 : new_label(g), .base = depth };
			struct fseq one = { e->kids[i], shared ? NULL : seq->next };
			gen_seq(g, &one, save, ln, last ? fc : &alt, depth);
			if (!last)
				place(g, alt.target);
			free(alt.pop);
		}
		if (shared) {
			place(g, ln);
			gen_seq(g, seq->next, save, lt, fc, depth + (unsigned)pc);
		}
		break;
	}
	case SRL_E_NOT: {
		/* the factor matching is this expression failing; nothing
		 * under a NOT is saved */
		int ln = seq->next ? new_label(g) : lt;
		struct fctx inner = { .target = ln, .base = depth };
		struct fseq one = { e->kids[0], NULL };
		gen_seq(g, &one, false, pop_label(g, fc, depth), &inner, depth);
		free(inner.pop);
		if (seq->next) {
			place(g, ln);
			gen_seq(g, seq->next, save, lt, fc, depth);
		}
		break;
	}
	}
	g->depth--;
}

static void gen_cond(struct gen *g, const struct srl_expr *e, bool save,
		     int lt, int lf)
{
	struct fctx top = { .target = lf, .base = 0 };
	struct fseq one = { e, NULL };
	g->depth = 0;
	gen_seq(g, &one, save, lt, &top, 0);
	free(top.pop);
}

/* ---- statements ---------------------------------------------------------- */

static void gen_stmt(struct gen *g, struct srl_stmt *s, int cont);

static void gen_block(struct gen *g, struct srl_stmt *s, int cont)
{
	s->gen_end = cont;
	if (s->n_body == 0) {
		jump(g, RULE_GOTO, cont);
		return;
	}
	for (size_t i = 0; i < s->n_body && !g->failed; i++) {
		int next = i + 1 == s->n_body ? cont : new_label(g);
		gen_stmt(g, s->body[i], next);
		if (i + 1 < s->n_body)
			place(g, next);
	}
}

static void gen_save(struct gen *g, const struct srl_stmt *s, int cont)
{
	unsigned num = ref_num(g, &s->ref);
	const struct attr_info *ai = s->ref.param >= 0 ?
		g->sub->params[s->ref.param].bound : s->ref.attr;
	bool dist = ai && ai->type == ATTR_T_DIST;
	/* SAVE attr = operand pushes the rule's own value; the other forms
	 * (and a distribution's parameters) push the packet's */
	unsigned op = s->save_form == SRL_SAVE_VALUE && !dist ?
		RULE_PUSH_RULE_TO : RULE_PUSH_PKT_TO;
	struct ir *x = emit(g, num, op, true, cont, NEED_CLEAR);
	set_bytes(x, s->op.len, s->op.maskb, s->op.value);
}

static void gen_call(struct gen *g, const struct srl_stmt *s, int cont)
{
	const struct srl_sub *sub = s->sub;
	for (size_t i = 0; i < s->n_args; i++) {
		int next = new_label(g);
		struct ir *x = emit(g, sub->params[i].vnum, RULE_ASSIGN, true, next,
				    NEED_CLEAR);
		/* Assign: the attribute number rides in the value field
		 * (NeTraMet practice, DESIGN.md); mask 0 */
		unsigned num = s->args[i].attr->num;
		x->r.len = 2;
		x->r.value[0] = (uint8_t)(num >> 8);
		x->r.value[1] = (uint8_t)num;
		place(g, next);
	}
	struct ir *gs = emit(g, ATTR_NULL, RULE_GOSUB, true, sub->gen_entry, NEED_ANY);
	gs->pinned = true;
	gs->n_slots = sub->n_slots;
	/* Return n lands on the n-th rule after the Gosub */
	int *at = malloc((s->n_nums ? s->n_nums : 1) * sizeof *at);
	if (!at) {
		fail(g, "out of memory");
		return;
	}
	for (size_t i = 0; i < s->n_nums; i++)
		at[i] = new_label(g);
	for (unsigned k = 1; k <= sub->n_slots; k++) {
		int target = cont;
		for (size_t i = 0; i < s->n_nums; i++)
			for (size_t j = 0; j < s->nums[i].n_nums; j++)
				if (s->nums[i].nums[j] == k)
					target = at[i];
		emit(g, ATTR_NULL, RULE_GOTO, true, target, NEED_ANY)->pinned = true;
	}
	for (size_t i = 0; i < s->n_nums; i++) {
		place(g, at[i]);
		gen_stmt(g, s->nums[i].stmt, cont);
	}
	free(at);
}

static void gen_stmt(struct gen *g, struct srl_stmt *s, int cont)
{
	if (g->failed)
		return;
	if (!s) {               /* a declaration where a statement could be */
		jump(g, RULE_GOTO, cont);
		return;
	}
	switch (s->kind) {
	case SRL_S_EMPTY:
		jump(g, RULE_GOTO, cont);
		break;
	case SRL_S_COUNT:
		stop(g, RULE_COUNT, 0);
		break;
	case SRL_S_IGNORE:
		stop(g, RULE_IGNORE, 0);
		break;
	case SRL_S_NOMATCH:
		stop(g, RULE_NOMATCH, 0);
		break;
	case SRL_S_RETURN:
		stop(g, RULE_RETURN, s->ret ? s->ret : g->sub->max_ret + 1);
		break;
	case SRL_S_EXIT:
		jump(g, RULE_GOTO, s->exit_target->gen_end);
		break;
	case SRL_S_SAVE:
		gen_save(g, s, cont);
		break;
	case SRL_S_STORE: {
		struct ir *x = emit(g, ref_num(g, &s->ref), RULE_PUSH_RULE_TO, true, cont,
				    NEED_CLEAR);
		set_bytes(x, s->op.len, s->op.maskb, s->op.value);
		break;
	}
	case SRL_S_BLOCK: {
		int here = new_label(g);
		place(g, here);
		name_label(g, here, &s->label);
		gen_block(g, s, cont);
		break;
	}
	case SRL_S_CALL:
		gen_call(g, s, cont);
		break;
	case SRL_S_IF: {
		int lthen = new_label(g);
		int lelse = s->else_s ? new_label(g) : cont;
		gen_cond(g, s->cond, s->save, lthen, lelse);
		if (s->else_s) {
			place(g, lelse);
			gen_stmt(g, s->else_s, cont);
		}
		place(g, lthen);
		if (s->then_s)
			gen_stmt(g, s->then_s, cont);
		else
			jump(g, RULE_GOTO, cont);
		break;
	}
	}
}

/* ---- resolution and peephole --------------------------------------------- */

static bool is_null_goto(const struct ir *x)
{
	return x->r.attr == ATTR_NULL && x->family && x->r.op == RULE_GOTO && !x->pinned;
}

static int finish(struct gen *g)
{
	size_t n = g->n;
	struct ir *v = g->v;
	/* labels to rule indexes */
	for (size_t i = 0; i < n; i++)
		if (v[i].target >= 0 && (v[i].family)) {
			int at = g->lab[v[i].target].at;
			if (at < 0 || (size_t)at >= n) {
				fail(g, "internal error: unplaced label");
				return -1;
			}
			v[i].target = at;
		}
	/* thread jumps through "Null: Goto, X" */
	for (size_t i = 0; i < n; i++) {
		if (!v[i].family)
			continue;
		int t = v[i].target;
		for (size_t steps = 0; is_null_goto(&v[t]) && (size_t)v[t].target != (size_t)t &&
		     steps < n; steps++)
			t = v[t].target;
		v[i].target = t;
	}
	/* reachability from rule 1 */
	int *work = malloc((n + 1) * sizeof *work);
	bool *seen = calloc(n + 1, sizeof *seen);
	size_t *newidx = malloc((n + 1) * sizeof *newidx);
	if (!work || !seen || !newidx) {
		free(work); free(seen); free(newidx);
		fail(g, "out of memory");
		return -1;
	}
	size_t nw = 0;
	if (n) {
		work[nw++] = 0;
		seen[0] = true;
	}
	while (nw) {
		int i = work[--nw];
		int succ[3] = { -1, -1, -1 };
		if (v[i].family)
			succ[0] = v[i].target;
		if (v[i].need == NEED_SET && (size_t)i + 1 < n)
			succ[1] = i + 1;
		for (int k = 0; k < 3; k++)
			if (succ[k] >= 0 && !seen[succ[k]]) {
				seen[succ[k]] = true;
				work[nw++] = succ[k];
			}
		for (unsigned k = 1; k <= v[i].n_slots && (size_t)i + k < n; k++)
			if (!seen[i + k]) {
				seen[i + k] = true;
				work[nw++] = (int)(i + k);
			}
	}
	for (size_t i = 0; i < n; i++)
		v[i].live = seen[i];
	/* drop "Null: Goto, <next rule>" when falling through is the same */
	for (size_t i = n; i-- > 0;) {
		if (!v[i].live || !is_null_goto(&v[i]))
			continue;
		size_t nx = i + 1;
		while (nx < n && !v[nx].live)
			nx++;
		if (nx < n && (size_t)v[i].target == nx && v[nx].need != NEED_CLEAR)
			v[i].live = false;
	}
	/* renumber: a dropped rule maps to the next live one */
	size_t live = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].live)
			live++;
	size_t k = live;
	for (size_t i = n; i-- > 0;) {
		if (v[i].live)
			k--;
		newidx[i] = k;
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i].live || !v[i].family)
			continue;
		unsigned need = v[v[i].target].need;
		if (need != NEED_SET)
			v[i].r.op++;            /* the ...Act form */
		v[i].r.param = (uint32_t)newidx[v[i].target] + 1;
	}
	for (size_t l = 0; l < g->nlab; l++)
		if (g->lab[l].at >= 0 && (size_t)g->lab[l].at < n)
			g->lab[l].at = (int)newidx[g->lab[l].at];
	/* compact */
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].live)
			v[o++] = v[i];
	g->n = o;
	free(work);
	free(seen);
	free(newidx);
	return 0;
}

static int output(struct gen *g, const struct srl_program *p, struct ruleset *out)
{
	out->set = p->set;
	out->statistics = p->statistics;
	char **names = calloc(g->n + 1, sizeof *names);
	if (!names)
		return -1;
	int rc = 0;
	for (size_t l = 0; l < g->nlab && rc == 0; l++) {
		int at = g->lab[l].at;
		if (at >= 0 && (size_t)at < g->n && g->lab[l].name && !names[at])
			if (!(names[at] = strndup(g->lab[l].name, g->lab[l].name_len)))
				rc = -1;
	}
	for (size_t i = 0; i < g->n && rc == 0; i++)
		rc = ruleset_add_rule(out, &g->v[i].r, names[i]);
	for (size_t i = 0; i < p->n_format && rc == 0; i++) {
		const struct format_item *f = &p->format[i];
		rc = f->sep ? ruleset_add_format_sep(out, f->sep, strlen(f->sep))
			    : ruleset_add_format_attr(out, f->attr);
	}
	for (size_t i = 0; i <= g->n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int srl_gen(struct srl_program *p, struct ruleset *out, struct diag *d)
{
	struct gen g = { .d = d };
	for (size_t i = 0; i < p->n_subs; i++) {
		p->subs[i]->gen_entry = new_label(&g);
		name_label(&g, p->subs[i]->gen_entry, &p->subs[i]->name);
	}
	/* rule 1 runs with the test indicator set, like a fall-through: a
	 * program that starts unconditionally needs the guard */
	int start = new_label(&g), end = new_label(&g);
	jump(&g, RULE_GOTO, start);
	place(&g, start);
	gen_stmt(&g, p->main, end);
	place(&g, end);
	stop(&g, RULE_NOMATCH, 0);          /* falling off the program */
	for (size_t i = 0; i < p->n_subs; i++) {
		struct srl_sub *sub = p->subs[i];
		if (!sub->called)
			continue;
		g.sub = sub;
		int subend = new_label(&g);
		place(&g, sub->gen_entry);
		gen_stmt(&g, sub->body, subend);
		place(&g, subend);
		stop(&g, RULE_NOMATCH, 0);  /* unreachable: sema checked */
	}
	for (size_t i = 0; i < g.npops; i++) {
		place(&g, g.pops[i].label);
		jump(&g, RULE_POP_TO, g.pops[i].target);
	}
	int rc = g.failed ? -1 : finish(&g);
	if (rc == 0 && !g.failed && output(&g, p, out) != 0) {
		fail(&g, "out of memory");
		rc = -1;
	}
	free(g.v);
	free(g.lab);
	free(g.pops);
	return g.failed ? -1 : rc;
}
