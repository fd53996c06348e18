/*
 * rulesfile.h — the NeMaC rules-file text form of a rule table (RFC 2123
 * §3.1, NeTraMet's examples/non-srl/rules.*), read and written, and a
 * readable listing of a table (srlc --dump).
 *
 *   # comment to the end of the line
 *   SET 5                                   ruleset number (optional ';')
 *   RULES                                   rules follow
 *   SourcePeerType & 255 = IP: PushRuleToAct, ip_pkt;
 *   Null & 0 = 0: Ignore, 0;
 *   ip_pkt:                                 a label names the next rule
 *   v1 & 0 = SourcePeerAddress: AssignAct, Next;
 *   ...
 *   FORMAT FlowRuleSet FlowIndex FirstTime "  " SourcePeerAddress
 *          DestPeerAddress "  " ToOctets FromOctets;   (may span lines)
 *   STATISTICS                              (optional ';')
 *
 * A rule is `attribute & mask = value: action, parameter;`.  Names of
 * attributes, actions (with NeMaC's aliases Pushto, Retry, ...), keywords
 * and labels are case-insensitive.  Masks and values are RFC 2723 App. B
 * text (value.h); the rule's width is the wider of the two, the other is
 * right-padded.  An IPv6 value is followed by its ':' with a blank between
 * ("= 2001:db8:: : Count, 0;") or without ("2001:db8:::"); either reads.
 * The parameter is a number (0..65535), a label, or Next (this rule's
 * number + 1); it may be left out (", parameter" omitted) and is then 0.
 *
 * Symbolic values (NeMaC files wrote these instead of numbers):
 *   SourcePeerType, DestPeerType:   IP = 1, IPv4 = 1, IPv6 = 2
 *   SourceTransType, DestTransType: icmp = 1, tcp = 6, udp = 17, icmpv6 = 58
 * An Assign rule's value is an attribute name (or number); it is stored as
 * the attribute number in 2 bytes, big-endian (rule.h).  A Null rule with
 * zero mask and value ("Null & 0 = 0", the always-true test) is stored with
 * width 0, as srlc emits it; the writer writes any width of it that way.
 * FORMAT separators are "..." strings with \" \\ \t \n escapes.
 */
#ifndef NTM_RULESFILE_H
#define NTM_RULESFILE_H

#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "rule.h"

/*
 * Parse `len` bytes of rules-file text into `out` (initialised here; free
 * it with ruleset_free() whatever the result).  Returns 0, or -1 with every
 * error recorded in `d` at its line:column; on -1 `out` is left empty.
 * Any input is safe (NUL bytes, unterminated statements, huge numbers).
 */
int rulesfile_read(const char *text, size_t len, struct ruleset *out,
		   struct diag *d);

/* Read the file at `path` (d->file names it in messages). */
int ruleset_read_file(const char *path, struct ruleset *out, struct diag *d);

/*
 * Write `rs` in canonical NeMaC form: SET (when non-zero), RULES, one rule
 * per line with numeric parameters and a "# n" comment giving its number,
 * rs->labels as "label:" lines, FORMAT, STATISTICS.  Reading the text back
 * gives a ruleset_equal() table.  Returns 0, or -1 when the table holds
 * something the text form cannot say (an unknown attribute or action, a
 * width over RULE_ADDR_MAX) or on a write error.
 */
int rulesfile_write(const struct ruleset *rs, FILE *out);

/*
 * A readable listing: one line per rule with number, label, attribute,
 * mask, value, action and parameter (a goto target's label in brackets)
 * in aligned columns, then FORMAT and STATISTICS.  Never fails on odd
 * tables (unknown numbers are shown as numbers).
 */
void ruleset_dump(const struct ruleset *rs, FILE *out);

#endif
