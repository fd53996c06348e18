/*
 * srl.h — the SRL compiler (RFC 2723, with ntm's extensions documented in
 * doc/srl.md): SRL text in, an RTFM rule table (rule.h) out.
 *
 * Every problem in the input is collected in `d` (diag.h) with its line and
 * column; the compiler keeps going after an error so one run reports them
 * all.  Nothing is printed.
 */
#ifndef NTM_SRL_H
#define NTM_SRL_H

#include <stddef.h>

#include "diag.h"
#include "rule.h"

/* Hard limits that keep any input (fuzzed ones included) bounded. */
#define SRL_MAX_RULES     60000u   /* generated rules before "too large" */
#define SRL_MAX_NESTING   200u     /* parentheses / blocks / expansions */
#define SRL_MAX_RETURN    255u     /* largest RETURN number */
#define SRL_MAX_PARAMS    5u       /* meter variables v1..v5 */

/*
 * Compile `len` bytes of SRL `text` (no NUL needed; any bytes are safe).
 * `name` names the source for the caller's benefit; messages show d->file
 * (diag_init).  `out` is initialised here (ruleset_init) and holds the
 * table on success (rule labels: block labels and subroutine names); on
 * failure it is left empty but must still be freed with ruleset_free().
 * Returns 0, or -1 when `d` gained at least one error.  Warnings alone do
 * not fail.
 */
int srl_compile(const char *name, const char *text, size_t len,
		struct ruleset *out, struct diag *d);

/* Read `path` and compile it (errors about the file itself go to `d` at
 * line 0: "cannot open: ...").  Same contract as srl_compile. */
int srl_compile_file(const char *path, struct ruleset *out, struct diag *d);

/* What the meter and srlc load: `path` ending in ".srl" (any case) is
 * compiled, anything else is read as a NeMaC rules file. */
int srl_load_ruleset(const char *path, struct ruleset *out, struct diag *d);

#endif
