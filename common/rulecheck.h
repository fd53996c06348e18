/*
 * rulecheck.h — load-time validation of a rule table (RFC 2722 §4.4), so
 * that what can be found before a packet arrives is refused with the rule
 * number instead of failing at run time.
 *
 * Table checks (every rule, reachable or not):
 *   - the attribute is known; the action is 1..17;
 *   - a goto-type action's parameter is a rule number 1..n; Return's
 *     offset is not 0 (it would return to the Gosub itself, a loop);
 *   - mask and value fit the attribute: bytes past its width must be zero
 *     (1-byte attributes may come padded to 2 bytes, as on the MIB);
 *   - Assign sets a meter variable v1..v5 to a known attribute number
 *     (value bytes 1-2, big-endian; byte 1 alone when len is 1);
 *   - PushRuleTo/PushPktTo push an attribute that can be saved;
 *   - FORMAT names attributes that can be read from a flow.
 * Path checks, by walking every path from rule 1 with the test indicator,
 * the Gosub return stack and the pattern-queue depth:
 *   - a rule whose test actually runs must test a testable attribute
 *     (a rule reached only after an ...Act action or Return skips its
 *     test, so its attribute is not checked);
 *   - Return with an empty return stack, and Return to a rule past the end;
 *   - Gosub nesting deeper than RULECHECK_DEPTH_MAX (recursion).
 * Falling off the end of the table is allowed (it means NoMatch).  A loop
 * that can repeat the same state is reported as a warning (the PME's step
 * limit ends it at run time), as is a test that can never succeed.
 */
#ifndef NTM_RULECHECK_H
#define NTM_RULECHECK_H

#include <stdbool.h>

#include "diag.h"
#include "rule.h"

#define RULECHECK_DEPTH_MAX   32      /* deepest Gosub nesting accepted */
#define RULECHECK_QUEUE_MAX   1024    /* queue depth beyond which it is "unbounded" */
#define RULECHECK_STATES_MAX  (1u << 20)  /* walk budget */

/* What the walk learned, for sizing the PME's stacks. */
struct ruleset_bounds {
	unsigned max_depth;     /* most Gosubs outstanding on any path */
	unsigned max_queue;     /* most pattern-queue items on any path,
				   including the one Count/CountPkt adds */
	bool queue_unbounded;   /* a loop can push without limit */
	bool has_loop;          /* some path can come back to the same state */
	bool complete;          /* every path was walked (within the budget);
				   when false the bounds are lower bounds */
};

/*
 * Check `rs`; every problem goes to `d` as "rule N: ..." (line 0).  Returns
 * 0 when there are no errors (warnings allowed), else -1.
 */
int ruleset_validate(const struct ruleset *rs, struct diag *d);

/* The same, also filling `b` (may be NULL). */
int ruleset_validate_bounds(const struct ruleset *rs, struct diag *d,
			    struct ruleset_bounds *b);

#endif
