/*
 * rulecheck.c — load-time validation of a rule table (see rulecheck.h).
 *
 * The path checks walk the PME's state space: (rule, test indicator,
 * return stack, pattern-queue depth).  Packet values are unknown, so a
 * test that can go either way has both successors.  Return stacks are
 * interned in a trie so a state is four small numbers; a depth-first walk
 * with grey/black marks finds loops as edges back to a grey state.
 */
#include "rulecheck.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"

/* per-rule "already said" bits, so a rule reached on many paths is
 * reported once per kind of problem */
enum said {
	SAID_RETURN_EMPTY = 1 << 0,
	SAID_RETURN_PAST  = 1 << 1,
	SAID_DEPTH        = 1 << 2,
	SAID_UNTESTABLE   = 1 << 3,
	SAID_NEVER        = 1 << 4,
	SAID_LOOP         = 1 << 5
};

#define NO_STACK 0u    /* interned id of the empty return stack */

/* ---- table checks ---- */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Widest mask/value the attribute can use; later bytes must be zero. */
static unsigned max_width(const struct attr_info *a)
{
	switch (a->type) {
	case ATTR_T_NONE:
	case ATTR_T_VARIABLE:
		return RULE_ADDR_MAX;
	case ATTR_T_PEER:
		return 16;
	default:
		return a->width;
	}
}

static bool is_push(unsigned op)
{
	return op >= RULE_PUSH_RULE_TO && op <= RULE_PUSH_PKT_TO_ACT;
}

static bool is_assign(unsigned op)
{
	return op == RULE_ASSIGN || op == RULE_ASSIGN_ACT;
}

/* The attribute number an Assign stores: value bytes 1-2 (pme.h). */
static unsigned assigned_attr(const struct rule *r)
{
	if (r->len >= 2)
		return (unsigned)r->value[0] << 8 | r->value[1];
	return r->len == 1 ? r->value[0] : 0;
}

static void check_rule(const struct ruleset *rs, size_t i, struct diag *d)
{
	const struct rule *r = &rs->rules[i];
	size_t num = i + 1;
	const struct attr_info *a = attr_by_num(r->attr);
	if (!a)
		diag_error(d, 0, 0, "rule %zu: unknown attribute %u", num, r->attr);
	const char *op = rule_op_name(r->op);
	if (!op) {
		diag_error(d, 0, 0, "rule %zu: action %u is not one of 1..%d",
			   num, r->op, RULE_OP_MAX);
		return;
	}
	if (rule_op_is_goto(r->op) && (r->param < 1 || r->param > rs->n_rules))
		diag_error(d, 0, 0, "rule %zu: %s to rule %u, outside 1..%zu",
			   num, op, r->param, rs->n_rules);
	if (r->op == RULE_RETURN && r->param == 0)
		diag_error(d, 0, 0, "rule %zu: Return 0 goes back to its own Gosub",
			   num);
	if (r->len > RULE_ADDR_MAX) {
		diag_error(d, 0, 0, "rule %zu: %u-byte mask/value, at most %d",
			   num, r->len, RULE_ADDR_MAX);
		return;
	}
	if (!a)
		return;
	unsigned w = max_width(a);
	if (r->len > w && (!all_zero(r->mask + w, r->len - w) ||
			   !all_zero(r->value + w, r->len - w)))
		diag_error(d, 0, 0, "rule %zu: mask/value is %u bytes, %s holds %u",
			   num, r->len, a->name, w);
	if (is_assign(r->op)) {
		unsigned target = assigned_attr(r);
		if (a->type != ATTR_T_VARIABLE)
			diag_error(d, 0, 0, "rule %zu: %s sets %s, which is not a "
				   "meter variable (v1..v5)", num, op, a->name);
		if (!target || !attr_by_num(target))
			diag_error(d, 0, 0, "rule %zu: %s of unknown attribute %u",
				   num, op, target);
	}
	if (is_push(r->op) && r->attr != ATTR_NULL && !(a->flags & ATTR_F_SAVE))
		diag_error(d, 0, 0, "rule %zu: %s of %s, which cannot be saved",
			   num, op, a->name);
}

static void check_format(const struct ruleset *rs, struct diag *d)
{
	for (size_t i = 0; i < rs->n_format; i++) {
		const struct format_item *f = &rs->format[i];
		if (f->sep)
			continue;
		const struct attr_info *a = attr_by_num(f->attr);
		if (!a)
			diag_error(d, 0, 0, "FORMAT item %zu: unknown attribute %u",
				   i + 1, f->attr);
		else if (!(a->flags & ATTR_F_READ))
			diag_error(d, 0, 0, "FORMAT item %zu: %s cannot be read "
				   "from a flow", i + 1, a->name);
	}
}

/* ---- the walk ---- */

struct stack_node {
	uint32_t parent;        /* id of the stack below */
	uint32_t gosub;         /* rule number of the Gosub on top */
	uint32_t depth;
};

struct state {
	uint32_t rule;          /* 1-based; > n_rules = fell off the end */
	uint32_t stack;         /* interned return stack */
	uint16_t queue;         /* pattern-queue items */
	uint8_t test;           /* test indicator */
};

/* open-addressing hash sets; slot value 0 = empty */
struct state_slot {
	struct state s;
	uint8_t color;          /* 0 empty, 1 grey (on the walk), 2 black */
};

struct node_slot {
	uint32_t parent, gosub;
	uint32_t id_plus1;      /* 0 = empty */
};

struct walk {
	const struct ruleset *rs;
	struct diag *d;
	uint8_t *said;
	struct stack_node *nodes;
	size_t n_nodes, cap_nodes;
	struct node_slot *node_tab;
	size_t node_cap;        /* power of two */
	struct state_slot *tab;
	size_t tab_cap, n_states;
	struct ruleset_bounds b;
	bool oom, budget;
};

static uint64_t mix(uint64_t x)
{
	/* splitmix64 finaliser: cheap, well spread */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t state_hash(const struct state *s)
{
	return mix((uint64_t)s->rule << 32 ^ (uint64_t)s->stack << 17 ^
		   (uint64_t)s->queue << 1 ^ s->test);
}

static bool same_state(const struct state *x, const struct state *y)
{
	return x->rule == y->rule && x->stack == y->stack &&
	       x->queue == y->queue && x->test == y->test;
}

static bool grow_states(struct walk *w)
{
	size_t cap = w->tab_cap ? w->tab_cap * 2 : 1024;
	struct state_slot *t = calloc(cap, sizeof *t);
	if (!t)
		return false;
	for (size_t i = 0; i < w->tab_cap; i++) {
		if (!w->tab[i].color)
			continue;
		size_t j = state_hash(&w->tab[i].s) & (cap - 1);
		while (t[j].color)
			j = (j + 1) & (cap - 1);
		t[j] = w->tab[i];
	}
	free(w->tab);
	w->tab = t;
	w->tab_cap = cap;
	return true;
}

/* The slot for `s`, inserted (color 0) if new; NULL when out of memory. */
static struct state_slot *state_slot(struct walk *w, const struct state *s)
{
	if ((w->n_states + 1) * 2 > w->tab_cap && !grow_states(w))
		return NULL;
	size_t j = state_hash(s) & (w->tab_cap - 1);
	while (w->tab[j].color) {
		if (same_state(&w->tab[j].s, s))
			return &w->tab[j];
		j = (j + 1) & (w->tab_cap - 1);
	}
	w->tab[j].s = *s;
	return &w->tab[j];
}

static bool grow_nodes(struct walk *w)
{
	size_t cap = w->node_cap ? w->node_cap * 2 : 256;
	struct node_slot *t = calloc(cap, sizeof *t);
	if (!t)
		return false;
	for (size_t i = 0; i < w->node_cap; i++) {
		if (!w->node_tab[i].id_plus1)
			continue;
		size_t j = mix((uint64_t)w->node_tab[i].parent << 32 |
			       w->node_tab[i].gosub) & (cap - 1);
		while (t[j].id_plus1)
			j = (j + 1) & (cap - 1);
		t[j] = w->node_tab[i];
	}
	free(w->node_tab);
	w->node_tab = t;
	w->node_cap = cap;
	return true;
}

/* The stack `parent` with `gosub` pushed; UINT32_MAX when out of memory. */
static uint32_t push_stack(struct walk *w, uint32_t parent, uint32_t gosub)
{
	if ((w->n_nodes + 1) * 2 > w->node_cap && !grow_nodes(w))
		return UINT32_MAX;
	size_t j = mix((uint64_t)parent << 32 | gosub) & (w->node_cap - 1);
	while (w->node_tab[j].id_plus1) {
		if (w->node_tab[j].parent == parent && w->node_tab[j].gosub == gosub)
			return w->node_tab[j].id_plus1 - 1;
		j = (j + 1) & (w->node_cap - 1);
	}
	if (w->n_nodes == w->cap_nodes) {
		size_t cap = w->cap_nodes * 2;
		struct stack_node *n = realloc(w->nodes, cap * sizeof *n);
		if (!n)
			return UINT32_MAX;
		w->nodes = n;
		w->cap_nodes = cap;
	}
	uint32_t id = (uint32_t)w->n_nodes++;
	w->nodes[id] = (struct stack_node){ parent, gosub, w->nodes[parent].depth + 1 };
	w->node_tab[j] = (struct node_slot){ parent, gosub, id + 1 };
	if (w->nodes[id].depth > w->b.max_depth)
		w->b.max_depth = w->nodes[id].depth;
	return id;
}

static bool say(struct walk *w, uint32_t rule, enum said what)
{
	if (w->said[rule - 1] & what)
		return false;
	w->said[rule - 1] |= (uint8_t)what;
	return true;
}

static void note_queue(struct walk *w, unsigned q)
{
	if (q > w->b.max_queue)
		w->b.max_queue = q;
}

/* Successors of `s` into out[] (at most 2); reports what it finds. */
static unsigned successors(struct walk *w, const struct state *s,
			   struct state out[2])
{
	const struct ruleset *rs = w->rs;
	if (s->rule > rs->n_rules)
		return 0;                       /* ran off the end: NoMatch */
	const struct rule *r = &rs->rules[s->rule - 1];
	const struct attr_info *a = attr_by_num(r->attr);
	if (!a || !rule_op_name(r->op) || r->len > RULE_ADDR_MAX)
		return 0;                       /* reported by check_rule */
	unsigned n = 0;

	bool can_succeed = true;
	if (s->test && r->attr != ATTR_NULL && !is_assign(r->op)) {
		/* the test runs: it needs a testable attribute, unless a zero
		 * mask and value make it always succeed whatever is read */
		bool trivial = all_zero(r->mask, r->len) && all_zero(r->value, r->len);
		if (!trivial && !(a->flags & ATTR_F_TEST) &&
		    say(w, s->rule, SAID_UNTESTABLE))
			diag_error(w->d, 0, 0, "rule %u: %s cannot be tested, and "
				   "this rule's test runs (it is reached with the "
				   "test indicator set)", s->rule, a->name);
		bool never = false;
		for (unsigned i = 0; i < r->len; i++)
			if (r->value[i] & ~r->mask[i])
				never = true;
		if (never) {
			can_succeed = false;
			if (say(w, s->rule, SAID_NEVER))
				diag_warning(w->d, 0, 0, "rule %u: value has bits "
					     "outside the mask, the test never "
					     "succeeds", s->rule);
		}
		if (!trivial || never)
			out[n++] = (struct state){ s->rule + 1, s->stack, s->queue, 1 };
	}
	if (!can_succeed)
		return n;

	struct state next = { r->param, s->stack, s->queue,
			      rule_op_sets_test(r->op) };
	bool target_ok = r->param >= 1 && r->param <= rs->n_rules;
	switch (r->op) {
	case RULE_IGNORE:
	case RULE_NOMATCH:
		return n;
	case RULE_COUNT:
	case RULE_COUNT_PKT:
		note_queue(w, s->queue + 1u);
		return n;
	case RULE_RETURN: {
		if (s->stack == NO_STACK) {
			if (say(w, s->rule, SAID_RETURN_EMPTY))
				diag_error(w->d, 0, 0, "rule %u: Return with an "
					   "empty return stack (no Gosub on a path "
					   "from rule 1 to it)", s->rule);
			return n;
		}
		const struct stack_node *top = &w->nodes[s->stack];
		uint64_t target = (uint64_t)top->gosub + r->param;
		if (r->param == 0)
			return n;               /* reported by check_rule */
		if (target > rs->n_rules) {
			if (say(w, s->rule, SAID_RETURN_PAST))
				diag_error(w->d, 0, 0, "rule %u: Return %u from the "
					   "Gosub at rule %u goes to rule %llu, past "
					   "the last rule (%zu)", s->rule, r->param,
					   top->gosub, (unsigned long long)target,
					   rs->n_rules);
			return n;
		}
		out[n++] = (struct state){ (uint32_t)target, top->parent,
					   s->queue, 0 };
		return n;
	}
	case RULE_GOSUB:
	case RULE_GOSUB_ACT: {
		if (!target_ok)
			return n;
		if (w->nodes[s->stack].depth >= RULECHECK_DEPTH_MAX) {
			if (say(w, s->rule, SAID_DEPTH))
				diag_error(w->d, 0, 0, "rule %u: Gosub nested more "
					   "than %d deep (a recursive subroutine?)",
					   s->rule, RULECHECK_DEPTH_MAX);
			return n;
		}
		next.stack = push_stack(w, s->stack, s->rule);
		if (next.stack == UINT32_MAX) {
			w->oom = true;
			return n;
		}
		break;
	}
	case RULE_PUSH_RULE_TO:
	case RULE_PUSH_RULE_TO_ACT:
	case RULE_PUSH_PKT_TO:
	case RULE_PUSH_PKT_TO_ACT:
		if (s->queue + 1u > RULECHECK_QUEUE_MAX) {
			w->b.queue_unbounded = true;
			return n;
		}
		next.queue = (uint16_t)(s->queue + 1u);
		note_queue(w, next.queue);
		break;
	case RULE_POP_TO:
	case RULE_POP_TO_ACT:
		next.queue = s->queue ? (uint16_t)(s->queue - 1u) : 0;
		break;
	default:        /* Goto, Assign and their Act forms */
		break;
	}
	if (target_ok)
		out[n++] = next;
	return n;
}

struct frame {
	struct state s;                 /* its slot is looked up again: the
					   table moves when it grows */
	struct state succ[2];
	unsigned n_succ, next;
};

static void walk(struct walk *w)
{
	size_t cap = 256, depth = 0;
	struct frame *st = malloc(cap * sizeof *st);
	struct state start = { 1, NO_STACK, 0, 1 };
	struct state_slot *slot = st ? state_slot(w, &start) : NULL;
	if (!slot) {
		free(st);
		w->oom = true;
		return;
	}
	slot->color = 1;
	w->n_states = 1;
	st[0].s = start;
	st[0].n_succ = successors(w, &start, st[0].succ);
	st[0].next = 0;
	depth = 1;
	while (depth && !w->oom) {
		struct frame *f = &st[depth - 1];
		if (f->next == f->n_succ) {
			struct state_slot *me = state_slot(w, &f->s);
			if (!me) {
				w->oom = true;
				break;
			}
			me->color = 2;
			depth--;
			continue;
		}
		struct state nx = f->succ[f->next++];
		struct state_slot *t = state_slot(w, &nx);
		if (!t) {
			w->oom = true;
			break;
		}
		if (t->color == 1) {
			w->b.has_loop = true;
			if (say(w, nx.rule, SAID_LOOP))
				diag_warning(w->d, 0, 0, "rule %u: a loop comes back "
					     "to this rule with nothing changed; "
					     "packets taking it run until the "
					     "PME's step limit", nx.rule);
			continue;
		}
		if (t->color == 2)
			continue;
		if (w->n_states >= RULECHECK_STATES_MAX) {
			w->budget = true;
			continue;
		}
		t->color = 1;
		w->n_states++;
		if (depth == cap) {
			struct frame *p = realloc(st, cap * 2 * sizeof *st);
			if (!p) {
				w->oom = true;
				break;
			}
			st = p;
			cap *= 2;
		}
		struct frame *g = &st[depth++];
		g->s = nx;
		g->n_succ = successors(w, &nx, g->succ);
		g->next = 0;
	}
	free(st);
}

int ruleset_validate_bounds(const struct ruleset *rs, struct diag *d,
			    struct ruleset_bounds *b)
{
	unsigned errors0 = d->errors;
	for (size_t i = 0; i < rs->n_rules; i++)
		check_rule(rs, i, d);
	check_format(rs, d);

	struct walk w = { .rs = rs, .d = d };
	w.said = calloc(rs->n_rules ? rs->n_rules : 1, 1);
	w.nodes = malloc(16 * sizeof *w.nodes);
	w.cap_nodes = 16;
	if (!w.said || !w.nodes) {
		w.oom = true;
	} else {
		w.nodes[NO_STACK] = (struct stack_node){ 0, 0, 0 };
		w.n_nodes = 1;
		if (rs->n_rules)
			walk(&w);
	}
	w.b.complete = !w.oom && !w.budget;
	if (w.oom)
		diag_error(d, 0, 0, "out of memory while checking the rule paths");
	else if (w.budget)
		diag_warning(d, 0, 0, "rule paths too many to walk (over %u "
			     "states); path checks are incomplete",
			     RULECHECK_STATES_MAX);
	if (b)
		*b = w.b;
	free(w.said);
	free(w.nodes);
	free(w.node_tab);
	free(w.tab);
	return d->errors == errors0 ? 0 : -1;
}

int ruleset_validate(const struct ruleset *rs, struct diag *d)
{
	return ruleset_validate_bounds(rs, d, NULL);
}
