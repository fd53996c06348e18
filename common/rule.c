/* rule.c — rule-table bookkeeping and the action (opcode) table. */
#include "rule.h"

#include "grow.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct op_info {
	const char *name;
	bool is_goto;       /* RFC 2722 §4.4 "goto" flag */
	bool sets_test;     /* RFC 2722 §4.4 "test" flag */
};

static const struct op_info op_table[RULE_OP_MAX + 1] = {
	[RULE_IGNORE]           = { "Ignore",        false, false },
	[RULE_NOMATCH]          = { "NoMatch",       false, false },
	[RULE_COUNT]            = { "Count",         false, false },
	[RULE_COUNT_PKT]        = { "CountPkt",      false, false },
	[RULE_RETURN]           = { "Return",        false, false },
	[RULE_GOSUB]            = { "Gosub",         true,  true  },
	[RULE_GOSUB_ACT]        = { "GosubAct",      true,  false },
	[RULE_ASSIGN]           = { "Assign",        true,  true  },
	[RULE_ASSIGN_ACT]       = { "AssignAct",     true,  false },
	[RULE_GOTO]             = { "Goto",          true,  true  },
	[RULE_GOTO_ACT]         = { "GotoAct",       true,  false },
	[RULE_PUSH_RULE_TO]     = { "PushRuleTo",    true,  true  },
	[RULE_PUSH_RULE_TO_ACT] = { "PushRuleToAct", true,  false },
	[RULE_PUSH_PKT_TO]      = { "PushPktTo",     true,  true  },
	[RULE_PUSH_PKT_TO_ACT]  = { "PushPktToAct",  true,  false },
	[RULE_POP_TO]           = { "PopTo",         true,  true  },
	[RULE_POP_TO_ACT]       = { "PopToAct",      true,  false },
};

/* Spellings seen in NeMaC rule files (RFC 2123, NeTraMet examples). */
static const struct { const char *name; unsigned op; } op_aliases[] = {
	{ "Pushto",       RULE_PUSH_RULE_TO },
	{ "PushtoAct",    RULE_PUSH_RULE_TO_ACT },
	{ "PushPktto",    RULE_PUSH_PKT_TO },
	{ "PushPkttoAct", RULE_PUSH_PKT_TO_ACT },
	{ "Retry",        RULE_NOMATCH },
	{ "Fail",         RULE_NOMATCH },   /* RFC 2063's name for NoMatch */
};

const char *rule_op_name(unsigned op)
{
	return op >= 1 && op <= RULE_OP_MAX ? op_table[op].name : NULL;
}

static bool same_word(const char *want, const char *s, size_t len)
{
	return strlen(want) == len && strncasecmp(want, s, len) == 0;
}

unsigned rule_op_by_name(const char *name, size_t len)
{
	for (unsigned op = 1; op <= RULE_OP_MAX; op++)
		if (same_word(op_table[op].name, name, len))
			return op;
	for (size_t i = 0; i < sizeof op_aliases / sizeof op_aliases[0]; i++)
		if (same_word(op_aliases[i].name, name, len))
			return op_aliases[i].op;
	return 0;
}

bool rule_op_is_goto(unsigned op)
{
	return op >= 1 && op <= RULE_OP_MAX && op_table[op].is_goto;
}

bool rule_op_sets_test(unsigned op)
{
	return op >= 1 && op <= RULE_OP_MAX && op_table[op].sets_test;
}

void ruleset_init(struct ruleset *rs)
{
	memset(rs, 0, sizeof *rs);
}

void ruleset_free(struct ruleset *rs)
{
	if (rs->labels)
		for (size_t i = 0; i < rs->n_rules; i++)
			free(rs->labels[i]);
	free(rs->labels);
	for (size_t i = 0; i < rs->n_format; i++)
		free(rs->format[i].sep);
	free(rs->format);
	free(rs->rules);
	memset(rs, 0, sizeof *rs);
}

int ruleset_add_rule(struct ruleset *rs, const struct rule *r, const char *label)
{
	size_t cap = rs->cap_rules;
	if (grow_array((void **)&rs->rules, &cap, rs->n_rules + 1, sizeof *rs->rules))
		return -1;
	if (cap != rs->cap_rules) {
		char **l = realloc(rs->labels, cap * sizeof *l);
		if (!l)
			return -1;
		rs->labels = l;
		rs->cap_rules = cap;
	}
	char *copy = NULL;
	if (label && !(copy = strdup(label)))
		return -1;
	struct rule *dst = &rs->rules[rs->n_rules];
	*dst = *r;
	/* bytes past len carry no meaning; keep them zero so tables compare */
	if (dst->len > RULE_ADDR_MAX)
		dst->len = RULE_ADDR_MAX;
	memset(dst->mask + dst->len, 0, RULE_ADDR_MAX - dst->len);
	memset(dst->value + dst->len, 0, RULE_ADDR_MAX - dst->len);
	rs->labels[rs->n_rules] = copy;
	rs->n_rules++;
	return 0;
}

static int add_format(struct ruleset *rs, unsigned attr, char *sep)
{
	if (grow_array((void **)&rs->format, &rs->cap_format, rs->n_format + 1,
		 sizeof *rs->format))
		return -1;
	rs->format[rs->n_format].attr = (uint16_t)attr;
	rs->format[rs->n_format].sep = sep;
	rs->n_format++;
	return 0;
}

int ruleset_add_format_attr(struct ruleset *rs, unsigned attr)
{
	return add_format(rs, attr, NULL);
}

int ruleset_add_format_sep(struct ruleset *rs, const char *sep, size_t len)
{
	char *copy = strndup(sep, len);
	if (!copy || add_format(rs, 0, copy)) {
		free(copy);
		return -1;
	}
	return 0;
}

static bool rule_equal(const struct rule *a, const struct rule *b)
{
	return a->attr == b->attr && a->len == b->len && a->op == b->op &&
	       a->param == b->param &&
	       memcmp(a->mask, b->mask, a->len) == 0 &&
	       memcmp(a->value, b->value, a->len) == 0;
}

bool ruleset_equal(const struct ruleset *a, const struct ruleset *b)
{
	if (a->set != b->set || a->n_rules != b->n_rules ||
	    a->n_format != b->n_format || a->statistics != b->statistics)
		return false;
	for (size_t i = 0; i < a->n_rules; i++)
		if (!rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	for (size_t i = 0; i < a->n_format; i++) {
		const struct format_item *x = &a->format[i], *y = &b->format[i];
		if (x->attr != y->attr || !x->sep != !y->sep ||
		    (x->sep && strcmp(x->sep, y->sep) != 0))
			return false;
	}
	return true;
}
