/*
 * pme.h — the Packet Matching Engine (RFC 2722 §4.4): runs a rule table
 * against a decoded packet and yields Ignore, NoMatch or Count with the
 * flow key the ruleset pushed.
 *
 * Use: pme_load() turns a struct ruleset into an immutable program once
 * (validated, attribute readers pre-resolved, masks/values padded); any
 * number of workers may then call pme_match()/pme_classify() on it at the
 * same time (each with a memo of its own, or none).  Matching allocates
 * nothing, takes no lock and makes no system call; its loop is bounded by
 * a step limit fixed at load time.
 *
 * Semantics decided here (DESIGN.md "Where the RFCs are silent"):
 *  - every pass starts with an empty return stack and pattern queue, the
 *    test indicator set, Class/Kind reading 0 and v1..v5 unset;
 *  - on the reversed pass every Source* and Dest* attribute reads the other
 *    end of the packet, and MatchingStoD is 0 (1 in wire order);
 *  - Assign takes the attribute number from the rule's value field (first
 *    two bytes, big-endian; one byte if len is 1) and goes to param; its
 *    own test always succeeds, the value field being no test value;
 *  - a rule on v1..v5 tests/pushes the attribute the variable holds;
 *    using an unset variable is a run-time error (NoMatch, counted);
 *  - Null tests always succeed; FlowRuleSet tests compare with the
 *    ruleset's number (low byte);
 *  - Class/Kind (36–41) read back the latest value pushed for them that
 *    is still on the queue, so PopTo restores the previous one;
 *  - Count pushes the rule's own (attr, mask, value), CountPkt the packet's
 *    masked value; pushes of Null are no-ops; a later push of the same
 *    attribute replaces the earlier one in the key (flowkey.h);
 *  - a push of a distribution attribute (66–75) is a distribution request,
 *    not a key item: out->dist gets the attribute with the rule's 6-byte
 *    mask and value (the RFC 2724 parameters);
 *  - a rule compares over its own length: a 4-byte rule tests the first 4
 *    bytes of a peer address, so a 4-byte rule against an IPv6 packet
 *    tests the first 4 bytes of the IPv6 address (rulesets test PeerType
 *    first); the key item takes the rule's width.  1-byte attributes may
 *    come in 2-byte rules (MIB padding on the right; pad bytes must be 0);
 *  - the packet carries one interface: SourceInterface is the capture
 *    interface, DestInterface 0 (a passive meter does not know where the
 *    packet leaves); AdjacentType is 7 (ieee8023) when the packet has MAC
 *    addresses, else 0;
 *  - load refuses what ruleset_validate_bounds() (rulecheck.h) refuses:
 *    unknown attributes or actions, goto targets outside the table,
 *    Return 0, Assign to a non-variable or of an unknown attribute, pushes
 *    of attributes that cannot be saved, values wider than their
 *    attribute, tests of untestable attributes that run, and — found by
 *    walking every path — Return with no Gosub on the stack, Return past
 *    the end, Gosubs nested deeper than 32 (recursion); the PME also
 *    refuses a Count/CountPkt whose attribute cannot be saved (Null
 *    excepted), since Count pushes it;
 *  - the step limit: a table whose every path was walked with no loop
 *    needs none (it is set to the walk budget, a safety net, and only
 *    backward jumps are charged to it: a cycle needs one); a table that
 *    may loop is charged every rule executed, up to 4 x rules + 64;
 *  - at run time a step-limit overrun, return/queue overflow, full key or
 *    unset variable ends the pass with NoMatch and sets a bit in
 *    out->errors (count them with pme_stats_add()).  Running off the end
 *    of the table is an ordinary NoMatch (RFC 2722).
 */
#ifndef NTM_PME_H
#define NTM_PME_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "diag.h"
#include "flowkey.h"
#include "packet.h"
#include "rule.h"

#define PME_STACK_MAX   32     /* nested Gosubs */
#define PME_QUEUE_MAX   64     /* pattern-queue entries per pass */
#define PME_DIST_MAX    10     /* one per RFC 2724 distribution, 66..75 */
#define PME_DIST_PARAM   6     /* bytes of mask/value parameters (RFC 2724 §3) */
#define PME_RULES_MAX   65535  /* flowRuleParameter is 16 bits */
#define PME_PKT_ATTR_MAX 16    /* widest packet attribute value (IPv6) */

enum pme_result {
	PME_IGNORE  = 1,        /* matched, not to be counted */
	PME_NOMATCH = 2,        /* did not match (retry reversed) */
	PME_COUNT   = 3         /* count in the flow out->key */
};

/* Run-time errors; each ends the pass with NoMatch. */
enum pme_error {
	PME_ERR_STEPS = 0,      /* step limit reached: a goto cycle */
	PME_ERR_STACK,          /* Gosubs nested deeper than PME_STACK_MAX */
	PME_ERR_RETURN,         /* Return with an empty stack or past the end */
	PME_ERR_QUEUE,          /* more than PME_QUEUE_MAX pushes */
	PME_ERR_KEY_FULL,       /* key items exceed FLOW_KEY_BYTES */
	PME_ERR_VARIABLE,       /* v1..v5 used before Assign, or holding an
				   attribute the action cannot use */
	PME_ERR_MAX
};

/* A distribution the ruleset asked for (RFC 2724 §3). */
struct pme_dist {
	uint16_t attr;                  /* 66..75 */
	uint8_t mask[PME_DIST_PARAM];   /* transform, scale, lower, upper */
	uint8_t value[PME_DIST_PARAM];  /* buckets, parameters 1..3 */
};

/* The fields before the key, then the key: what a memo hit copies in
 * one piece, or the fields alone when the entry's cookie is set (pme.c,
 * struct memo_entry). */
struct pme_match {
	uint32_t rule;                  /* rule that ended the pass, 0 if none */
	uint32_t errors;                /* 1u << enum pme_error, per error seen */
	uint8_t n_dist;
	bool key_hashed;                /* key_hash is flow_key_hash(&key) */
	uint64_t key_hash;              /* a Count from the memo has it */
	/* With PME_COUNT: the cookie word of the memo entry that holds this
	 * outcome (NULL: none), the caller's to use (pme_memo_forget_cookies):
	 * 0 whenever the entry is (re)written, so what the caller stored in it
	 * is about this same key. */
	uint64_t *flow_cookie;
	/* valid when the result is PME_COUNT, unless flow_cookie's word is
	 * not 0: the key is then pme_memo_key(flow_cookie)'s, not copied */
	struct flow_key key;
	struct pme_dist dist[PME_DIST_MAX];
};

/* flow_key_hash() of a Count's key, which the memo may have kept. */
static inline uint64_t pme_key_hash(const struct pme_match *m)
{
	return m->key_hashed ? m->key_hash : flow_key_hash(&m->key);
}

struct pme_stats {
	union {
		/* [0] the packets, [r] the outcomes r (enum pme_result):
		 * pme_stats_add() counts an outcome without a branch */
		uint64_t by_result[PME_COUNT + 1];
		struct {
			uint64_t packets;       /* pme_classify() calls noted */
			uint64_t ignored, nomatch, counted;
		};
	};
	uint64_t counted_reversed;
	uint64_t errors[PME_ERR_MAX];
};
_Static_assert(PME_IGNORE == 1 && PME_NOMATCH == 2 && PME_COUNT == 3,
	       "struct pme_stats: by_result[] names the outcomes in this order");

struct pme_program;

/*
 * Compile and validate a rule table.  Returns the program, or NULL with
 * errors in `d` naming the rule ("rule 21 (classify): ...").  Warnings
 * (e.g. a test of an attribute the meter cannot read) go to `d` too.
 */
struct pme_program *pme_load(const struct ruleset *rs, struct diag *d);
void pme_free(struct pme_program *prog);

unsigned pme_ruleset(const struct pme_program *prog);       /* SET number */
size_t pme_rule_count(const struct pme_program *prog);
unsigned pme_step_limit(const struct pme_program *prog);
/* Test chains found at load: runs of >= 4 rules testing one packet
 * attribute under one mask, run as one search by value (same results as
 * rule by rule; in a table that may loop, the rules a search skips are
 * charged to the step limit as if run). */
size_t pme_chain_count(const struct pme_program *prog);
/* Routes found at load (loop-free tables only): rules pme_classify() runs
 * as small nodes before its general loop — forward Gotos and pushes of
 * constants, chain entries, Null Counts, Ignores, NoMatches and the end of
 * the table (same results; pme_match() runs every rule in the general
 * loop). */
size_t pme_route_count(const struct pme_program *prog);
/* Values of the one packet value (a port, a type: at most 2 bytes) whose
 * knowledge alone decides a pass of a loop-free table, found at load by
 * walking the routes with that value known and every other one either
 * way; pme_classify() then skips the pass.  0 when there is no such
 * prefilter. */
size_t pme_prefilter_values(const struct pme_program *prog);

/* One pass: source = the wire source unless `reversed`. */
enum pme_result pme_match(const struct pme_program *prog,
			  const struct pkt_info *pkt, bool reversed,
			  struct pme_match *out);

/*
 * A memo of pass outcomes, owned by one thread (the programs stay
 * immutable and shared).  A pass of a loop-free table that runs on the
 * routes alone depends only on the packet values its tests read;
 * pme_classify() looks such a pass up by those values and keeps what a
 * walk gave, so that the packets of one server cost a lookup instead of
 * a walk.  Results are the same with or without it.  A memo given
 * another program than last time starts empty.  NULL when out of memory.
 */
struct pme_memo;
struct pme_memo *pme_memo_create(void);
void pme_memo_free(struct pme_memo *memo);
/* Lookups and hits so far (passes the memo rested for are not lookups). */
void pme_memo_stats(const struct pme_memo *memo, uint64_t *lookups, uint64_t *hits);
/* The key of the memo entry whose cookie word this is (struct
 * pme_match's flow_cookie); valid until the memo's next pme_classify(). */
const struct flow_key *pme_memo_key(const uint64_t *cookie);
/* Clear every entry's cookie word (struct pme_match's flow_cookie): what
 * the caller kept in them no longer holds. */
void pme_memo_forget_cookies(struct pme_memo *memo);
/* Words of packet values a memo entry is found by; 0: the program has no
 * memo (the table may loop, or its tests read more than a few words). */
size_t pme_memo_words(const struct pme_program *prog);

/*
 * RFC 2722 §4.3: match(S->D); on NoMatch, match(D->S).  Returns the final
 * result and sets *reversed when it came from the D->S pass (the key then
 * names the wire destination as the source).  out->errors collects both
 * passes.  The caller does the current()/create() lookups, using
 * flow_key_swap() for current(D->S).  memo: NULL, or one of the calling
 * thread's (pme_memo_create).
 */
enum pme_result pme_classify(const struct pme_program *prog, struct pme_memo *memo,
			     const struct pkt_info *pkt, struct pme_match *out,
			     bool *reversed);

/*
 * The value of packet attribute `attr` as the PME tests it, big-endian,
 * zero-padded to 16 bytes.  Returns its width (4 or 16 for peer addresses,
 * 6 MACs, 2 ports/interfaces/VLANs/DNSQType, 1 types/DSCP/IPVersion/
 * MatchingStoD/DNSQR...), 0 for a known attribute the packet does not
 * carry (counters, Class/Kind, distributions...), -1 for an unknown one.
 * Absent fields read 0 (ports without TCP/UDP, VlanID untagged, DNSQType
 * without a captured question), except DNSQR and DNSOpcode: 255 when the
 * packet is not DNS.
 */
int pme_packet_attr(const struct pkt_info *p, unsigned attr, bool reversed,
		    uint8_t out[PME_PKT_ATTR_MAX]);

/* Account the run-time errors of one outcome (pme_stats_add). */
void pme_stats_add_errors(struct pme_stats *s, uint32_t errors);

/* Account one pme_classify() outcome (inline: once per packet). */
static inline void pme_stats_add(struct pme_stats *s, enum pme_result r, bool reversed,
				 const struct pme_match *m)
{
	s->packets++;
	s->by_result[r]++;
	if (r == PME_COUNT)
		s->counted_reversed += reversed;
	if (m->errors)
		pme_stats_add_errors(s, m->errors);
}
const char *pme_error_name(enum pme_error e);

#endif
