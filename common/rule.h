/*
 * rule.h — the RTFM rule table (RFC 2722 §4.4), as the compiler produces it,
 * the rules-file reader loads it, the agent downloads it and the PME runs it.
 *
 * A rule is "attribute & mask = value: action, parameter".  Rules are
 * numbered from 1, as in the Meter MIB; `param` of a goto-type action is a
 * rule number, of Return an offset added to the calling Gosub's number.
 */
#ifndef NTM_RULE_H
#define NTM_RULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define RULE_ADDR_MAX 20   /* RFC 2720 RuleAddress: OCTET STRING (2..20) */

enum rule_op {
	RULE_IGNORE            = 1,
	RULE_NOMATCH           = 2,
	RULE_COUNT             = 3,
	RULE_COUNT_PKT         = 4,
	RULE_RETURN            = 5,
	RULE_GOSUB             = 6,
	RULE_GOSUB_ACT         = 7,
	RULE_ASSIGN            = 8,
	RULE_ASSIGN_ACT        = 9,
	RULE_GOTO              = 10,
	RULE_GOTO_ACT          = 11,
	RULE_PUSH_RULE_TO      = 12,
	RULE_PUSH_RULE_TO_ACT  = 13,
	RULE_PUSH_PKT_TO       = 14,
	RULE_PUSH_PKT_TO_ACT   = 15,
	RULE_POP_TO            = 16,
	RULE_POP_TO_ACT        = 17,
	RULE_OP_MAX            = 17
};

struct rule {
	uint16_t attr;                  /* attribute number (attr.h) */
	uint8_t  len;                   /* bytes used in mask and value */
	uint8_t  mask[RULE_ADDR_MAX];
	uint8_t  value[RULE_ADDR_MAX];  /* Assign: attribute number, big-endian */
	uint8_t  op;                    /* enum rule_op */
	uint32_t param;                 /* goto target / Return offset / unused */
};

/* One FORMAT item: an attribute to read, or (attr == 0) a separator. */
struct format_item {
	uint16_t attr;
	char *sep;                      /* separator text, NULL for attributes */
};

struct ruleset {
	uint32_t set;                   /* SET n; 0 when the file gave none */
	struct rule *rules;             /* rules[0] is rule number 1 */
	size_t n_rules, cap_rules;
	char **labels;                  /* optional per-rule label, for listings */
	struct format_item *format;
	size_t n_format, cap_format;
	bool statistics;                /* STATISTICS statement present */
};

/* Action name (RFC 2722 spelling, e.g. "PushRuleToAct"), or NULL. */
const char *rule_op_name(unsigned op);
/* Case-insensitive lookup; accepts NeMaC aliases (Pushto = PushRuleTo,
 * PushtoAct, PushPktto..., Retry = NoMatch).  Returns 0 when unknown. */
unsigned rule_op_by_name(const char *name, size_t len);
/* RFC 2722 §4.4 flags: does the action go to `param`, and does it leave
 * the test indicator set for the next rule. */
bool rule_op_is_goto(unsigned op);
bool rule_op_sets_test(unsigned op);

void ruleset_init(struct ruleset *rs);
void ruleset_free(struct ruleset *rs);
/* Append a copy; returns 0, or -1 when out of memory.  label may be NULL. */
int ruleset_add_rule(struct ruleset *rs, const struct rule *r, const char *label);
int ruleset_add_format_attr(struct ruleset *rs, unsigned attr);
int ruleset_add_format_sep(struct ruleset *rs, const char *sep, size_t len);
/* Identical tables: same set number, rules (bytes beyond len ignored),
 * format and statistics flag.  Labels are not compared. */
bool ruleset_equal(const struct ruleset *a, const struct ruleset *b);

#endif
