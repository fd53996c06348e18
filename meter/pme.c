/*
 * pme.c — the Packet Matching Engine (see pme.h for the semantics).
 *
 * Load: ruleset_validate_bounds() (rulecheck.h) checks the table and
 * every path; each rule then becomes an `insn` with its attribute resolved
 * to a reader (`acc`) and end (`side`), mask and value padded with zeros
 * to whole 64-bit words, and the compare width fixed; runs of tests of one
 * attribute become "test chains" searched by value.  Match: a loop over
 * the insns that compares a word at a time, reads each packet attribute at
 * most once per pass (a small cache), keeps pushes on a fixed queue and
 * builds the flow key only on Count.  The rules of a loop-free table that
 * most packets pass are also compiled to "routes" (struct route), walked
 * first by pme_classify().
 */
#include "pme.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "grow.h"
#include "rulecheck.h"

#define VAL_WORDS 3                    /* RULE_ADDR_MAX (20) in 64-bit words */
#define VAL_BYTES (VAL_WORDS * 8)
_Static_assert(VAL_BYTES >= RULE_ADDR_MAX, "value words too short");
_Static_assert(VAL_BYTES >= FLOW_KEY_PAD, "flow_key_append_padded reads FLOW_KEY_PAD bytes");

#define ADJ_TYPE_ETHERNET  7           /* ifType ieee8023, per the brief */
#define PEER_TYPE_IPV6     2           /* Address Family Number */
#define NOT_DNS            255         /* DNSQR / DNSOpcode of a non-DNS packet */
#define N_VARS             5           /* v1..v5 */

/* Where a test gets its value from. */
enum acc {
	/* packet readers (cacheable per pass) */
	ACC_NONE,           /* known attribute the packet does not carry: 0 */
	ACC_INTERFACE,
	ACC_ADJ_TYPE,
	ACC_ADJ_ADDR,
	ACC_PEER_TYPE,
	ACC_PEER_ADDR,
	ACC_TRANS_TYPE,
	ACC_TRANS_ADDR,
	ACC_STOD,
	ACC_VLAN,
	ACC_INNER_VLAN,
	ACC_IP_VERSION,
	ACC_DSCP,
	ACC_DNS_QR,
	ACC_DNS_OPCODE,
	ACC_DNS_QTYPE,
	ACC_PACKET_MAX,
	/* engine state */
	ACC_NULL = ACC_PACKET_MAX,
	ACC_RULESET,
	ACC_CLASSKIND,
	ACC_VAR
};

/* What a push of the attribute does. */
enum push { PUSH_NONE, PUSH_KEY, PUSH_DIST, PUSH_BAD };

union val {
	uint64_t w[VAL_WORDS];
	uint8_t b[VAL_BYTES];
};

/* An attribute resolved once at load. */
struct attr_ref {
	uint16_t num;
	uint8_t acc;        /* enum acc */
	uint8_t side : 1;   /* 0 Source* (or direction-free), 1 Dest* */
	uint8_t ends : 1;   /* its packet value differs between the ends */
	uint8_t var;        /* ACC_VAR: 0..4 for v1..v5 */
	uint8_t width;      /* table width (16 for peer addresses) */
	uint8_t push;       /* enum push */
	uint8_t slot;       /* packet value cache slot, or SLOT_NONE */
};

/* Packet values are cached per pass in slot acc * 2 + end. */
#define SLOTS     (ACC_PACKET_MAX * 2)
#define SLOT_NONE 0xff
#define SLOTS_OF(acc) (3u << ((acc) * 2))   /* both ends' slots */
_Static_assert(SLOTS <= 32, "one cache bit per slot in a uint32_t");

#define PME_START 1u           /* a pass's start: rule 1 (index 0), test on */

/* The sentinel after the last rule: running off the end is NoMatch. */
#define OP_END 0

/* One rule, in one 64-byte cache line. */
struct insn {
	union val mask, value;      /* zero past `width` */
	struct attr_ref a;          /* the rule's attribute */
	uint16_t param;             /* goto target (1-based) / Return offset */
	uint8_t op;
	uint8_t width;              /* bytes compared and pushed */
	uint8_t nwords;             /* words compared: 1..3, 0 = none */
	bool test : 1;              /* false: the test always succeeds */
	bool next_test : 1;         /* test indicator after a goto-type op */
	bool var_use : 1;           /* acts on the attribute a vN holds */
	bool pkt_test : 1;          /* test of a packet value (no vN, no
	                               engine state): run_pass's fast path */
	uint16_t chain;             /* 1-based test chain it belongs to, or 0 */
};
#define INSN_ALIGN 64
_Static_assert(sizeof(struct insn) == INSN_ALIGN, "one insn per cache line");

/*
 * A test chain: rules first..end-1 all test the same packet attribute
 * under the same mask, each falling through to the next on failure (a
 * list of servers, ports...).  Entered with the test on at rule i, the
 * outcome is "the first rule >= i whose value matches, else end"; it is
 * found with one lookup in an open-addressing table of the rules' values
 * (NeTraMet compiled such runs into hash tables too) instead of end - i
 * compares.  Rules are inserted in rule order with linear probing and
 * never removed, so rules of one value lie along the probe sequence in
 * rule order: the first one found that is >= i is the answer.
 */
#define CHAIN_MIN 4                /* shorter runs are cheaper as they are */
#define CHAIN_EMPTY UINT32_MAX     /* rule of an unused table slot */
#define CHAIN_HASH_MUL 0x9e3779b97f4a7c15ULL
#define CHAIN_HASH_MUL2 0xc4ceb9fe1a85ec53ULL

struct chain_entry {
	uint64_t w[VAL_WORDS];         /* the rule's value */
	uint32_t rule;                 /* 0-based index, CHAIN_EMPTY if unused */
};

struct chain {
	uint32_t first, end;           /* rules [first, end) */
	uint32_t off;                  /* table: entries[off .. off + mask] */
	uint32_t mask;                 /* slots - 1 (a power of two - 1) */
	unsigned shift;                /* 64 - log2(slots) */
};

/* Home slot of a (masked) value: multiply-shift on the folded words. */
static inline uint32_t chain_home(const struct chain *ch, const uint64_t w[VAL_WORDS])
{
	uint64_t x = w[0] ^ (w[1] * CHAIN_HASH_MUL2) ^ (w[2] << 32 | w[2] >> 32);
	return (uint32_t)((x * CHAIN_HASH_MUL) >> ch->shift);
}

/*
 * The rules of a loop-free table, compiled once more (route_load) for the
 * paths nearly every packet takes: Gotos testing a type or a port, pushes
 * of constants (the SAVEs and STOREs of a compiled ruleset), test chains,
 * a Null Count, and the NoMatch or Ignore most packets end at.  run_pass()
 * walks these small nodes, with the packet values their tests read fetched
 * before the walk and the next rule picked without a branch, and leaves
 * them for the general loop at a rule that does more (a Gosub, an Assign,
 * a PopTo, a push of a packet value, a test of state or of a wide value).
 */
enum route_kind {
	ROUTE_GENERAL = 0,     /* run by the general loop */
	ROUTE_BRANCH,          /* Goto(Act): on to succ, or fail on a failed test */
	ROUTE_PUSH,            /* push the rule's constant item or parameters */
	ROUTE_COUNT,           /* a Count of Null: build the key */
	ROUTE_END,             /* Ignore/NoMatch/the sentinel: the result, or fail */
	ROUTE_CHAIN,           /* in a test chain: with the test on, the chain's
				  search; with it off, the action `act` */
	ROUTE_WIDE             /* a test the walk does not run (state, several
				  words): with the test on, the general loop;
				  with it off, the action `act` */
};

struct route {
	uint64_t mask, value;  /* one word: the test's whole compare (0, 0
				  when there is no test: always true) */
	uint32_t succ;         /* (rule << 1 | test indicator) after success */
	uint32_t fail;         /* on_fail[] of the rule */
	uint8_t kind;          /* enum route_kind */
	uint8_t test;          /* 1: the test runs when the indicator is on */
	uint8_t slot[2];       /* value slot on the forward, reversed pass */
	uint8_t result;        /* ROUTE_END: enum pme_result */
	uint8_t push;          /* ROUTE_PUSH: PUSH_KEY or PUSH_DIST */
	uint8_t width;         /* ROUTE_PUSH: the queue entry's width */
	uint8_t act;           /* the action's kind (kind itself but for
				  ROUTE_CHAIN and ROUTE_WIDE) */
	uint16_t chain;        /* 1-based test chain of the rule, or 0 */
	uint16_t attr;         /* ROUTE_PUSH: the attribute */
	uint32_t rule;         /* out->rule when the pass ends here */
	uint32_t tail;         /* 1-based struct tail entered with the test
				  off, or 0 */
	uint32_t pad;
};
_Static_assert(sizeof(struct route) == 48, "a route is compact");

/*
 * A tail: the routes from a rule entered with the test off that test
 * nothing (pushes of constants, Gotos, then a Null Count or an end), so
 * that what they do is known at load — the STOREs and SAVEs after a
 * compiled ruleset's test of a server address.  run_pass() does it at
 * once: the queue's rules, the key's items (ascending attributes), the
 * distributions, the result.
 */
#define TAIL_STEPS_MAX 64              /* longer runs are walked */
/* Tails copy this many rules whatever their number (a fixed copy is
 * cheaper than a sized one; the pool is padded for it, and for
 * flow_key_append_items()'s fixed copy of key bytes). */
#define TAIL_COPY_RULES 8

struct tail {
	uint32_t rules;                /* prog->tail_rules[rules ..]: the pushes,
					  then the distribution pushes again */
	uint32_t bytes;                /* prog->tail_bytes[bytes ..]: key items */
	uint16_t n_rules;              /* pushes (queue entries) */
	uint16_t n_bytes;
	uint8_t n_items;               /* key items among them */
	uint8_t n_dists;               /* distribution pushes among them */
	uint8_t result;                /* enum pme_result at the end */
	uint8_t pad;
	uint16_t first_attr;           /* first key item's attribute, or 0 */
	uint16_t last_attr;            /* last one's */
	uint32_t rule;                 /* out->rule at the end */
};

/*
 * A pass decided by one packet value (prefilter_load): for most packets
 * the routes end at one NoMatch (or Ignore) whatever the other values
 * are, once one narrow value is known — a port for the usual "port 53 at
 * the server" table.  The bit of that value says whether it is so; then
 * the pass's result is known without walking it.
 */
#define PRE_WIDTH_MAX 2                /* values of at most 2 bytes: 64 Ki bits */
#define PRE_DEPTH_MAX 2048             /* the load's walk recursion */

/* struct pme_match's first fields as a decided pass sets them, stored
 * with one copy (prefilter_pass()) */
struct pre_pass {
	uint32_t rule;                 /* out->rule of a decided pass */
	uint32_t errors;               /* 0 */
};
_Static_assert(offsetof(struct pme_match, rule) == offsetof(struct pre_pass, rule) &&
	       offsetof(struct pme_match, errors) == offsetof(struct pre_pass, errors),
	       "struct pre_pass is the head of struct pme_match");

struct prefilter {
	uint8_t slot[2];               /* the value's slot on either pass */
	uint8_t result;                /* enum pme_result of a decided pass */
	/* a port under a 2-byte test, the usual prefilter: bits[] is by the
	 * port's number (prefilter_port()), not by its slot word */
	bool by_port;
	uint8_t end[2];                /* by_port: the port's end, either pass */
	struct pre_pass pass;
	uint32_t mask;                 /* values - 1 */
	uint32_t n_decided;            /* bits set */
	uint64_t bits[];               /* value -> decided */
};
#define PRE_PORTS 65536                /* by_port: bits[] has a bit a port */

/* A key item encoded at load (flowkey.h's data[] form): the constant push
 * of a PushRuleTo, appended with one fixed-size copy. */
struct item_blob {
	uint8_t bytes[FLOW_KEY_ITEM_COPY];
	uint8_t size;                  /* 0: not encoded */
	uint8_t width;                 /* what push() would queue as the width */
};

/*
 * The memo of pass outcomes.  A pass that stays on the routes depends on
 * the packet only through the values their tests read, under their
 * masks: the same values give the same result, rule, key and
 * distributions.  Load lists those values' words (struct memo_tag: every
 * route test's and every chain's, the masks of one word OR-ed); a pass is
 * looked up by them in the caller's struct pme_memo before it is walked,
 * and what the walk gave is kept.  The words are taken on the pass's own
 * ends (slot[rev]), so a request's forward pass and its response's
 * reversed pass find one entry.
 */
#define MEMO_TAG_WORDS 6               /* more: the table gets no memo */
#define MEMO_KEY_BYTES 64              /* longer keys are not kept */
#define MEMO_DISTS     2               /* nor passes with more distributions */
#define MEMO_ENTRIES   512             /* a power of two */
#define MEMO_HASH_MUL  0x9e3779b97f4a7c15ULL
/* Values that rarely repeat (a table testing client addresses, say)
 * would cost every pass a lookup and a store for nothing: a window of
 * lookups with fewer hits than 1 in MEMO_HITS_MIN rests the memo for
 * MEMO_REST passes. */
#define MEMO_WINDOW    4096
#define MEMO_HITS_MIN  4
#define MEMO_REST      65536
#define MEMO_KEY_HEAD  offsetof(struct flow_key, data)
#define MEMO_ST_PORTS  1u              /* the packet has ports */
#define MEMO_ST_IPV6   2u              /* its peer addresses are IPv6 */
#define MEMO_STATES    4
#define MEMO_ROW       8               /* MEMO_TAG_WORDS, padded */
_Static_assert(MEMO_ROW >= MEMO_TAG_WORDS, "a row holds a tag's words");
/* A direct tag of at most this many words (types, a port, an address's
 * two) is read and compared without its last word, which is 0. */
#define MEMO_SHORT     (MEMO_TAG_WORDS - 1)

struct memo_tag {
	uint8_t n;                         /* words, 0: no memo */
	uint8_t n_slots;                   /* values they are words of */
	uint8_t slot[2][MEMO_TAG_WORDS];   /* the values' slots, forward and
					      reversed pass */
	/* where word j is among the values read (memo_probe()'s v[]: value
	 * * sizeof (union val) + word * 8); past n, word 0's, with mask 0 */
	uint16_t off[MEMO_TAG_WORDS];
	uint64_t mask[MEMO_TAG_WORDS];
	/* direct: every value is a field of struct pkt_info (memo_direct()),
	 * so word j is the 8 bytes at pkt_off[rev][j] under pkt_mask[st][j],
	 * st the packet's MEMO_ST_* bits (a port reads 0 without ports, an
	 * IPv4 address has no bytes past 4): no reader per value */
	uint8_t direct;                    /* 0, or the words a probe reads:
					      MEMO_SHORT or MEMO_TAG_WORDS */
	/* rows of MEMO_ROW: a row's address is a shift */
	uint16_t pkt_off[2][MEMO_ROW];
	uint64_t pkt_mask[MEMO_STATES][MEMO_ROW];
};

/* What a hit copies into struct pme_match at once: the fields before
 * the key (rule, errors 0, n_dist, key_hashed, key_hash and flow_cookie
 * for a Count) and the key's head and bytes (a Count's; stale for the
 * others, whose key is not read; not copied while the cookie is set). */
#define MEMO_OUT_HEAD  offsetof(struct pme_match, key)
#define MEMO_OUT_BYTES (MEMO_OUT_HEAD + MEMO_KEY_HEAD + MEMO_KEY_BYTES)
_Static_assert(offsetof(struct pme_match, dist) >= MEMO_OUT_BYTES,
	       "the copy of a hit's head and key stops before the distributions");

struct memo_entry {
	_Alignas(INSN_ALIGN) uint64_t tag[MEMO_TAG_WORDS];   /* whole lines */
	uint8_t used, result;
	uint8_t out[MEMO_OUT_BYTES];       /* struct pme_match's first bytes */
	uint64_t cookie;                   /* the caller's (pme_match.flow_cookie),
					      0 when the entry is written */
	struct pme_dist dist[MEMO_DISTS];
};

struct pme_memo {
	uint64_t prog_id;                  /* the program the entries are of */
	/* this window's (misses, not hits: a hit adds to one count) */
	uint32_t lookups, misses;
	uint32_t rest;                     /* passes left without the memo */
	/* prog_id while rest is 0, else 0 (no program's): pme_classify()
	 * tests both at once */
	uint64_t ready_id;
	uint64_t total_lookups, total_hits;
	struct memo_entry e[MEMO_ENTRIES];
};

struct pme_program {
	uint32_t set;
	uint32_t n;
	uint32_t step_limit;
	bool loop_free;                /* rulecheck walked every path: no cycle */
	struct attr_ref *held;         /* per rule: what an Assign stores */
	struct insn *insn;             /* insn[0] is rule 1; insn[n] sentinel */
	struct chain *chains;
	struct chain_entry *entries;
	uint32_t n_chains;
	/* per rule: where a failed test goes, (rule << 1 | test indicator);
	 * i + 1 with the test on, or past pure jumps (thread_jumps) */
	uint32_t *on_fail;
	struct item_blob *items;       /* per rule (see encode_items) */
	bool has_vars;                 /* v1..v5 used: reset them per pass */
	struct route *route;           /* per rule + sentinel, NULL unless loop-free */
	uint32_t route_slots;          /* slots the branches test: read up front */
	struct prefilter *pre;         /* NULL if none (prefilter_load) */
	const struct prefilter *port_pre;   /* pre if by_port, else NULL */
	struct tail *tails;            /* tails_load */
	uint32_t n_tails;
	uint32_t *tail_rules;          /* the tails' push rules, in order */
	uint8_t *tail_bytes;           /* the tails' key items, concatenated */
	struct memo_tag memo;          /* memo_load */
	uint64_t id;                   /* unique among the loaded programs */
};

/* ---- attributes ------------------------------------------------------ */

static uint8_t acc_of(unsigned num)
{
	switch (num) {
	case ATTR_NULL:                    return ACC_NULL;
	case ATTR_SOURCE_INTERFACE:
	case ATTR_DEST_INTERFACE:          return ACC_INTERFACE;
	case ATTR_SOURCE_ADJACENT_TYPE:
	case ATTR_DEST_ADJACENT_TYPE:      return ACC_ADJ_TYPE;
	case ATTR_SOURCE_ADJACENT_ADDRESS:
	case ATTR_DEST_ADJACENT_ADDRESS:   return ACC_ADJ_ADDR;
	case ATTR_SOURCE_PEER_TYPE:
	case ATTR_DEST_PEER_TYPE:          return ACC_PEER_TYPE;
	case ATTR_SOURCE_PEER_ADDRESS:
	case ATTR_DEST_PEER_ADDRESS:       return ACC_PEER_ADDR;
	case ATTR_SOURCE_TRANS_TYPE:
	case ATTR_DEST_TRANS_TYPE:         return ACC_TRANS_TYPE;
	case ATTR_SOURCE_TRANS_ADDRESS:
	case ATTR_DEST_TRANS_ADDRESS:      return ACC_TRANS_ADDR;
	case ATTR_FLOW_RULESET:            return ACC_RULESET;
	case ATTR_SOURCE_CLASS:
	case ATTR_DEST_CLASS:
	case ATTR_FLOW_CLASS:
	case ATTR_SOURCE_KIND:
	case ATTR_DEST_KIND:
	case ATTR_FLOW_KIND:               return ACC_CLASSKIND;
	case ATTR_MATCHING_STOD:           return ACC_STOD;
	case ATTR_V1: case ATTR_V2: case ATTR_V3: case ATTR_V4:
	case ATTR_V5:                      return ACC_VAR;
	case ATTR_DS_CODE_POINT:           return ACC_DSCP;
	case ATTR_VLAN_ID:                 return ACC_VLAN;
	case ATTR_INNER_VLAN_ID:           return ACC_INNER_VLAN;
	case ATTR_IP_VERSION:              return ACC_IP_VERSION;
	case ATTR_DNS_QR:                  return ACC_DNS_QR;
	case ATTR_DNS_OPCODE:              return ACC_DNS_OPCODE;
	case ATTR_DNS_QTYPE:               return ACC_DNS_QTYPE;
	default:                           return ACC_NONE;
	}
}

/* Does read_packet() give the two packet ends different values? */
static bool acc_has_ends(unsigned acc)
{
	switch (acc) {
	case ACC_INTERFACE:
	case ACC_ADJ_ADDR:
	case ACC_PEER_ADDR:
	case ACC_TRANS_ADDR:
	case ACC_STOD:
		return true;
	default:
		return false;
	}
}

/* false when ntm does not know the attribute */
static bool attr_resolve(unsigned num, struct attr_ref *out)
{
	const struct attr_info *ai = attr_by_num(num);
	if (!ai)
		return false;
	memset(out, 0, sizeof *out);
	out->num = (uint16_t)num;
	out->acc = acc_of(num);
	/* MatchingStoD must be side 0: read_packet() derives the pass from
	 * its end */
	out->side = (ai->flags & ATTR_F_DST) && out->acc != ACC_STOD ? 1 : 0;
	out->var = out->acc == ACC_VAR ? (uint8_t)(num - ATTR_V1) : 0;
	out->width = ai->width;
	out->ends = acc_has_ends(out->acc);
	/* an end-free value (SourceTransType == DestTransType) has one
	 * slot, whatever the side and the pass */
	out->slot = out->acc >= ACC_PACKET_MAX ? SLOT_NONE :
		    (uint8_t)(out->acc * 2 + (out->ends ? out->side : 0));
	if (num == ATTR_NULL)
		out->push = PUSH_NONE;
	else if (ai->type == ATTR_T_DIST)
		out->push = PUSH_DIST;
	else if (ai->flags & ATTR_F_SAVE)
		out->push = PUSH_KEY;
	else
		out->push = PUSH_BAD;
	return true;
}

/*
 * Words whose memory bytes are the given value followed by zeros.  They
 * are built in registers and stored whole: byte stores followed by the
 * compare's word loads would stall store-to-load forwarding.
 */
static inline uint64_t word_of(const void *src, size_t n)
{
	uint64_t x = 0;
	memcpy(&x, src, n);
	return x;
}

static inline uint64_t word_u8(unsigned v)
{
	uint8_t b = (uint8_t)v;
	return word_of(&b, 1);
}

static inline uint64_t word_be16(unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return word_of(b, 2);
}

/* A peer address's words (the second 0 for IPv4); returns its width. */
static inline unsigned peer_addr_words(const struct pkt_info *p, unsigned end,
				       uint64_t *w0, uint64_t *w1)
{
	if (p->peer_type == PEER_TYPE_IPV6) {
		*w0 = word_of(p->addr[end], 8);
		*w1 = word_of(p->addr[end] + 8, 8);
		return 16;
	}
	*w0 = word_of(p->addr[end], 4);
	*w1 = 0;
	return 4;
}

/*
 * Read a packet attribute (acc < ACC_PACKET_MAX) of packet end `end`
 * (0 = wire source) into v, zero-padded; returns its width.  The value
 * depends on (acc, end) only, never on the pass: both passes of
 * pme_classify() share one cache indexed by acc * 2 + end.
 */
static unsigned read_packet(unsigned acc, unsigned end,
			    const struct pkt_info *p, union val *v)
{
	uint64_t w0 = 0, w1 = 0;
	unsigned width;
	switch (acc) {
	case ACC_INTERFACE:
		/* one interface per packet: the one it was captured on */
		w0 = end == 0 ? word_be16(p->ifindex) : 0;
		width = 2;
		break;
	case ACC_ADJ_TYPE:
		w0 = word_u8(p->has_mac ? ADJ_TYPE_ETHERNET : 0);
		width = 1;
		break;
	case ACC_ADJ_ADDR:
		w0 = p->has_mac ? word_of(p->mac[end], 6) : 0;
		width = 6;
		break;
	case ACC_PEER_TYPE:
		w0 = word_u8(p->peer_type);
		width = 1;
		break;
	case ACC_PEER_ADDR:
		width = peer_addr_words(p, end, &w0, &w1);
		break;
	case ACC_TRANS_TYPE:
		w0 = word_u8(p->proto);
		width = 1;
		break;
	case ACC_TRANS_ADDR:
		w0 = p->has_ports ? word_be16(p->port[end]) : 0;
		width = 2;
		break;
	case ACC_STOD:
		/* MatchingStoD is direction-free (side 0, see attr_resolve),
		 * so its end is the pass: 0 forward (1), 1 reversed (0) */
		w0 = word_u8(end == 0 ? 1 : 0);
		width = 1;
		break;
	case ACC_VLAN:
		w0 = p->n_vlan > 0 ? word_be16(p->vlan[0]) : 0;
		width = 2;
		break;
	case ACC_INNER_VLAN:
		w0 = p->n_vlan > 1 ? word_be16(p->vlan[1]) : 0;
		width = 2;
		break;
	case ACC_IP_VERSION:
		w0 = word_u8(p->ip_version);
		width = 1;
		break;
	case ACC_DSCP:
		w0 = word_u8(p->dscp);
		width = 1;
		break;
	case ACC_DNS_QR:
		w0 = word_u8(p->dns_present ? p->dns.qr : NOT_DNS);
		width = 1;
		break;
	case ACC_DNS_OPCODE:
		w0 = word_u8(p->dns_present ? p->dns.opcode : NOT_DNS);
		width = 1;
		break;
	case ACC_DNS_QTYPE:
		w0 = p->dns_present && p->dns.has_question ? word_be16(p->dns.qtype) : 0;
		width = 2;
		break;
	default:
		width = 0;
		break;
	}
	v->w[0] = w0;
	v->w[1] = w1;
	v->w[2] = 0;
	return width;
}

int pme_packet_attr(const struct pkt_info *p, unsigned attr, bool reversed,
		    uint8_t out[PME_PKT_ATTR_MAX])
{
	struct attr_ref a;
	union val v;
	memset(out, 0, PME_PKT_ATTR_MAX);
	if (!attr_resolve(attr, &a))
		return -1;
	if (a.acc >= ACC_PACKET_MAX)
		return 0;
	unsigned w = read_packet(a.acc, a.side ^ (reversed ? 1u : 0u), p, &v);
	memcpy(out, v.b, PME_PKT_ATTR_MAX);
	return (int)w;
}

/* ---- load ------------------------------------------------------------ */

/* "rule 21 (classify)" */
static void rule_where(const struct ruleset *rs, size_t i, char *buf, size_t cap)
{
	if (rs->labels && rs->labels[i] && rs->labels[i][0])
		snprintf(buf, cap, "rule %zu (%s)", i + 1, rs->labels[i]);
	else
		snprintf(buf, cap, "rule %zu", i + 1);
}

__attribute__((format(printf, 4, 5)))
static void rule_error(struct diag *d, const struct ruleset *rs, size_t i,
		       const char *fmt, ...)
{
	char where[96], msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rule_where(rs, i, where, sizeof where);
	diag_error(d, 0, 0, "%s: %s", where, msg);
}

static const char *attr_name(unsigned num)
{
	const struct attr_info *ai = attr_by_num(num);
	return ai ? ai->name : "?";
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Compile rule i of rs into prog->insn[i]; false (with a diagnostic) if
 * the rule is unusable whatever path reaches it. */
static bool compile_rule(struct pme_program *prog, const struct ruleset *rs,
			 size_t i, struct diag *d)
{
	const struct rule *r = &rs->rules[i];
	struct insn *in = &prog->insn[i];
	memset(in, 0, sizeof *in);

	if (r->op < 1 || r->op > RULE_OP_MAX) {
		rule_error(d, rs, i, "unknown action %u", r->op);
		return false;
	}
	in->op = r->op;
	const char *opname = rule_op_name(r->op);
	if (!attr_resolve(r->attr, &in->a)) {
		rule_error(d, rs, i, "unknown attribute %u", r->attr);
		return false;
	}
	if (r->len > RULE_ADDR_MAX) {
		rule_error(d, rs, i, "mask/value length %u exceeds %d bytes",
			  r->len, RULE_ADDR_MAX);
		return false;
	}
	if (rule_op_is_goto(r->op)) {
		if (r->param < 1 || r->param > prog->n) {
			rule_error(d, rs, i, "%s goes to rule %u, outside 1..%u",
				  opname, r->param, prog->n);
			return false;
		}
		in->next_test = rule_op_sets_test(r->op);
	}
	if (r->op == RULE_RETURN) {
		/* Return 0 would re-run its Gosub for ever; the MIB's
		 * parameter range starts at 1 anyway */
		if (r->param < 1 || r->param > PME_RULES_MAX) {
			rule_error(d, rs, i, "Return %u: the offset must be 1..%d",
				  r->param, PME_RULES_MAX);
			return false;
		}
	}
	in->param = (uint16_t)r->param;

	if (r->op == RULE_ASSIGN || r->op == RULE_ASSIGN_ACT) {
		if (in->a.acc != ACC_VAR) {
			rule_error(d, rs, i, "%s needs a meter variable v1..v5, not %s",
				  opname, attr_name(r->attr));
			return false;
		}
		unsigned held = r->len >= 2 ? (unsigned)r->value[0] << 8 | r->value[1]
					    : r->len == 1 ? r->value[0] : 0;
		struct attr_ref *h = &prog->held[i];
		if (!attr_resolve(held, h) || held == ATTR_NULL || h->acc == ACC_VAR) {
			rule_error(d, rs, i, "%s of attribute %u, which a variable cannot hold",
				  opname, held);
			return false;
		}
		/* the value field names the attribute: there is nothing to test */
		in->test = false;
		return true;
	}

	/* The compare (and push) width. */
	unsigned len = r->len, width;
	if (in->a.acc == ACC_VAR) {
		width = len;                        /* fixed when it runs */
	} else if (in->a.push == PUSH_DIST) {
		width = PME_DIST_PARAM;             /* parameters, right-padded */
		if (len > width && !(all_zero(r->mask + width, len - width) &&
				     all_zero(r->value + width, len - width))) {
			rule_error(d, rs, i, "%s parameters are %u bytes, at most %d",
				  attr_name(r->attr), len, PME_DIST_PARAM);
			return false;
		}
	} else {
		width = len < in->a.width ? len : in->a.width;
		if (len > width && !(all_zero(r->mask + width, len - width) &&
				     all_zero(r->value + width, len - width))) {
			rule_error(d, rs, i, "value is %u bytes, %s holds %u",
				  len, attr_name(r->attr), in->a.width);
			return false;
		}
	}
	in->var_use = in->a.acc == ACC_VAR;
	in->width = (uint8_t)width;
	in->nwords = (uint8_t)((width + 7) / 8);
	memcpy(in->mask.b, r->mask, width < len ? width : len);
	memcpy(in->value.b, r->value, width < len ? width : len);

	bool pushes = r->op == RULE_COUNT || r->op == RULE_COUNT_PKT ||
		      r->op == RULE_PUSH_RULE_TO || r->op == RULE_PUSH_RULE_TO_ACT ||
		      r->op == RULE_PUSH_PKT_TO || r->op == RULE_PUSH_PKT_TO_ACT;
	if (pushes && in->a.push == PUSH_BAD) {
		rule_error(d, rs, i, "%s of %s, which cannot be saved in a flow key",
			  opname, attr_name(r->attr));
		return false;
	}
	/* Null, and an all-zero mask with a zero value, always match */
	in->test = in->a.acc != ACC_NULL &&
		   !(all_zero(in->mask.b, width) && all_zero(in->value.b, width));
	in->pkt_test = in->test && !in->var_use && in->a.slot != SLOT_NONE;
	return true;
}

/* Can rule `in` be part of a test chain (a side-effect-free packet test)? */
static bool chainable(const struct insn *in)
{
	return in->test && !in->var_use && in->a.slot != SLOT_NONE && in->op != OP_END;
}

static bool same_test(const struct insn *a, const struct insn *b)
{
	return a->a.slot == b->a.slot && a->nwords == b->nwords &&
	       memcmp(&a->mask, &b->mask, sizeof a->mask) == 0;
}

/* Find the test chains and build their tables; -1 when out of memory. */
static int build_chains(struct pme_program *prog)
{
	uint32_t n = prog->n, n_chains = 0;
	size_t n_slots = 0;
	for (uint32_t i = 0; i < n; ) {
		uint32_t j = i + 1;
		if (chainable(&prog->insn[i]))
			while (j < n && chainable(&prog->insn[j]) &&
			       same_test(&prog->insn[i], &prog->insn[j]))
				j++;
		if (j - i >= CHAIN_MIN && n_chains < UINT16_MAX) {
			n_chains++;
			/* at most half full: short probes */
			size_t slots = 1;
			while (slots < 2u * (j - i))
				slots *= 2;
			n_slots += slots;
		}
		i = j;
	}
	if (!n_chains)
		return 0;
	if (n_slots > UINT32_MAX)
		return -1;
	prog->chains = calloc(n_chains, sizeof *prog->chains);
	prog->entries = malloc(n_slots * sizeof *prog->entries);
	if (!prog->chains || !prog->entries)
		return -1;
	for (size_t k = 0; k < n_slots; k++)
		prog->entries[k] = (struct chain_entry){ .rule = CHAIN_EMPTY };
	uint32_t off = 0;
	for (uint32_t i = 0; i < n; ) {
		uint32_t j = i + 1;
		if (chainable(&prog->insn[i]))
			while (j < n && chainable(&prog->insn[j]) &&
			       same_test(&prog->insn[i], &prog->insn[j]))
				j++;
		if (j - i >= CHAIN_MIN && prog->n_chains < n_chains) {
			struct chain *ch = &prog->chains[prog->n_chains++];
			uint32_t slots = 1;
			unsigned bits = 0;
			while (slots < 2u * (j - i)) {
				slots *= 2;
				bits++;
			}
			*ch = (struct chain){ .first = i, .end = j, .off = off,
					      .mask = slots - 1, .shift = 64 - bits };
			struct chain_entry *e = prog->entries + off;
			/* in rule order: see struct chain_entry */
			for (uint32_t k = i; k < j; k++) {
				const uint64_t *w = prog->insn[k].value.w;
				uint32_t pos = chain_home(ch, w);
				while (e[pos].rule != CHAIN_EMPTY)
					pos = (pos + 1) & ch->mask;
				memcpy(e[pos].w, w, sizeof e[pos].w);
				e[pos].rule = k;
				prog->insn[k].chain = (uint16_t)prog->n_chains;
			}
			off += slots;
		}
		i = j;
	}
	return 0;
}

/* Insn t, entered with the test indicator `test`, only jumps: a Goto or
 * GotoAct whose test is off or always succeeds. */
static bool pure_jump(const struct insn *t, bool test)
{
	return (t->op == RULE_GOTO || t->op == RULE_GOTO_ACT) && (!test || !t->test);
}

/* Where entering rule t (0-based) with *test ends up once pure jumps are
 * followed; *test becomes the indicator there. */
static uint32_t thread_to(const struct pme_program *prog, uint32_t t, bool *test)
{
	/* the hop bound only guards against a cycle of pure jumps, which a
	 * loop-free table cannot have */
	for (uint32_t hops = 0; hops < prog->n && t < prog->n &&
	     pure_jump(&prog->insn[t], *test); hops++) {
		*test = prog->insn[t].next_test;
		t = prog->insn[t].param - 1u;
	}
	return t;
}

/*
 * Jump threading: every goto-type target and every failed test's successor
 * skips the pure jumps it would run into (compiled rulesets have many: the
 * Null GotoAct closing each if/else).  Only for a loop-free table, where
 * the step budget cannot run out whatever is charged (see run_pass); a
 * table that may loop keeps every rule and its step, so on_fail is the
 * next rule with the test on.  -1 when out of memory.
 */
static int thread_jumps(struct pme_program *prog)
{
	uint32_t n = prog->n;
	prog->on_fail = malloc((size_t)(n + 1) * sizeof *prog->on_fail);
	if (!prog->on_fail)
		return -1;
	for (uint32_t i = 0; i <= n; i++) {
		bool test = true;
		uint32_t t = i + 1 <= n ? i + 1 : n;
		if (prog->loop_free)
			t = thread_to(prog, t, &test);
		prog->on_fail[i] = t << 1 | (test ? 1u : 0u);
	}
	if (!prog->loop_free)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		struct insn *in = &prog->insn[i];
		if (!rule_op_is_goto(in->op))
			continue;
		bool test = in->next_test;
		uint32_t t = thread_to(prog, in->param - 1u, &test);
		in->param = (uint16_t)(t + 1);
		in->next_test = test;
	}
	return 0;
}

/*
 * The key item of every PushRuleTo(Act) acting on its own attribute: what
 * push() would queue for it never depends on the packet (the rule's value,
 * width min(rule, attribute), no packet width), so it is encoded once.
 * -1 when out of memory.
 */
static int encode_items(struct pme_program *prog)
{
	prog->items = calloc(prog->n, sizeof *prog->items);
	if (!prog->items)
		return -1;
	for (uint32_t i = 0; i < prog->n; i++) {
		const struct insn *in = &prog->insn[i];
		if ((in->op != RULE_PUSH_RULE_TO && in->op != RULE_PUSH_RULE_TO_ACT) ||
		    in->var_use || in->a.push != PUSH_KEY)
			continue;
		unsigned width = in->width < in->a.width ? in->width : in->a.width;
		struct flow_key k;
		flow_key_clear(&k, 0);
		if (flow_key_append(&k, in->a.num, width, in->mask.b, in->value.b) ||
		    k.len > FLOW_KEY_ITEM_COPY)
			continue;
		memcpy(prog->items[i].bytes, k.data, k.len);
		prog->items[i].size = (uint8_t)k.len;
		prog->items[i].width = (uint8_t)width;
	}
	return 0;
}

/* The route kind rule i can run as, ROUTE_GENERAL if none. */
static enum route_kind route_kind_of(const struct pme_program *prog, uint32_t i)
{
	const struct insn *in = &prog->insn[i];
	/* forward only: a loop-free table charges backward jumps alone to
	 * the step budget (run_pass), so a route charges nothing */
	bool forward = in->param > i + 1u;
	if (in->var_use)
		return ROUTE_GENERAL;
	switch (in->op) {
	case OP_END:
	case RULE_IGNORE:
	case RULE_NOMATCH:
		return ROUTE_END;
	case RULE_GOTO:
	case RULE_GOTO_ACT:
		return forward ? ROUTE_BRANCH : ROUTE_GENERAL;
	case RULE_PUSH_RULE_TO:
	case RULE_PUSH_RULE_TO_ACT:
		/* a constant key item, or distribution parameters */
		return forward && (prog->items[i].size || in->a.push == PUSH_DIST) ?
		       ROUTE_PUSH : ROUTE_GENERAL;
	case RULE_PUSH_PKT_TO:
	case RULE_PUSH_PKT_TO_ACT:
		/* a distribution's push takes the rule's parameters */
		return forward && in->a.push == PUSH_DIST ? ROUTE_PUSH : ROUTE_GENERAL;
	case RULE_COUNT:
		return in->a.push == PUSH_NONE ? ROUTE_COUNT : ROUTE_GENERAL;
	default:
		return ROUTE_GENERAL;
	}
}

/*
 * Build prog->route for a loop-free table (see struct route); the results
 * are run_pass()'s general loop's, which pme_match() runs alone.  A rule's
 * own test must read one word of a packet value (or nothing), unless it is
 * in a test chain: entered with the test on, a chain rule goes to the
 * chain's search, which compares every word.  -1 when out of memory.
 */
static int route_load(struct pme_program *prog)
{
	if (!prog->loop_free)
		return 0;
	prog->route = calloc((size_t)prog->n + 1, sizeof *prog->route);
	if (!prog->route)
		return -1;
	for (uint32_t i = 0; i <= prog->n; i++) {
		const struct insn *in = &prog->insn[i];
		struct route *rt = &prog->route[i];
		enum route_kind kind = route_kind_of(prog, i);
		if (kind == ROUTE_GENERAL)
			continue;
		bool wide = !in->chain && in->test && !(in->pkt_test && in->nwords <= 1);
		rt->kind = (uint8_t)(in->chain ? ROUTE_CHAIN : wide ? ROUTE_WIDE : kind);
		rt->act = (uint8_t)kind;
		rt->chain = in->chain;
		rt->fail = prog->on_fail[i];
		rt->succ = (uint32_t)(in->param - 1u) << 1 | (in->next_test ? 1u : 0u);
		rt->result = in->op == RULE_IGNORE ? PME_IGNORE : PME_NOMATCH;
		rt->rule = i < prog->n ? i + 1 : 0;   /* the sentinel: 0 */
		rt->attr = in->a.num;
		rt->push = in->a.push;
		if (kind == ROUTE_PUSH)
			rt->width = in->a.push == PUSH_DIST ? PME_DIST_PARAM : prog->items[i].width;
		if (!in->test || in->chain || wide)
			continue;       /* mask, value and slots 0: always true */
		rt->test = 1;
		rt->mask = in->mask.w[0];
		rt->value = in->value.w[0];
		rt->slot[0] = in->a.slot;
		rt->slot[1] = (uint8_t)(in->a.slot ^ in->a.ends);
		/* the branches, which most packets pass, read theirs up front */
		if (kind == ROUTE_BRANCH)
			prog->route_slots |= 1u << rt->slot[0] | 1u << rt->slot[1];
	}
	return 0;
}

/* ---- memo ----------------------------------------------------------- */

/* Word k of slot pair (s, s_rev) into the memo's tag, its mask OR-ed with
 * the ones already there; false when the tag is full. */
static bool memo_tag_add(struct memo_tag *m, unsigned s, unsigned s_rev, unsigned k,
			 uint64_t mask)
{
	/* the tests read nothing of it, or a value no packet carries (0) */
	if (!mask || s >> 1 == ACC_NONE)
		return true;
	unsigned v = 0;
	while (v < m->n_slots && m->slot[0][v] != s)
		v++;
	uint16_t off = (uint16_t)(v * sizeof(union val) + k * sizeof(uint64_t));
	for (unsigned j = 0; j < m->n; j++)
		if (m->off[j] == off) {
			m->mask[j] |= mask;
			return true;
		}
	if (m->n == MEMO_TAG_WORDS)
		return false;
	if (v == m->n_slots) {
		m->slot[0][v] = (uint8_t)s;
		m->slot[1][v] = (uint8_t)s_rev;
		m->n_slots++;
	}
	m->off[m->n] = off;
	m->mask[m->n++] = mask;
	return true;
}

/* The first n bytes of w (memory order), in reverse order when `swap`;
 * the others 0. */
static uint64_t word_head(uint64_t w, unsigned n, bool swap)
{
	uint8_t b[sizeof w], out[sizeof w] = { 0 };
	memcpy(b, &w, sizeof w);
	for (unsigned i = 0; i < n && i < sizeof w; i++)
		out[i] = b[swap ? n - 1 - i : i];
	memcpy(&w, out, sizeof w);
	return w;
}

/*
 * Where read_packet() takes word k of slot s's value from in struct
 * pkt_info, for the values it copies from one field: the field's offset
 * (*off), the value's bytes in that word for the packet's MEMO_ST_* bits
 * st (*bytes; 0: the word reads 0) and whether they are the field's bytes
 * swapped (ports: host order in pkt_info, big-endian in the value).
 * false for the values made otherwise.
 */
static bool memo_field(unsigned s, unsigned k, unsigned st, size_t *off, unsigned *bytes,
		       bool *swap)
{
	unsigned end = s & 1;
	*swap = false;
	switch (s >> 1) {
	case ACC_TRANS_TYPE:
		*off = offsetof(struct pkt_info, proto);
		*bytes = k == 0;
		return true;
	case ACC_PEER_TYPE:
		*off = offsetof(struct pkt_info, peer_type);
		*bytes = k == 0;
		return true;
	case ACC_IP_VERSION:
		*off = offsetof(struct pkt_info, ip_version);
		*bytes = k == 0;
		return true;
	case ACC_DSCP:
		*off = offsetof(struct pkt_info, dscp);
		*bytes = k == 0;
		return true;
	case ACC_TRANS_ADDR:
		*off = offsetof(struct pkt_info, port) + end * sizeof(uint16_t);
		*bytes = k == 0 && (st & MEMO_ST_PORTS) ? sizeof(uint16_t) : 0;
		*swap = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
		return true;
	case ACC_PEER_ADDR:
		/* peer_addr_words(): 16 bytes for IPv6, else 4 */
		*off = offsetof(struct pkt_info, addr) + end * sizeof ((struct pkt_info *)0)->addr[0] +
		       (k == 1 ? sizeof(uint64_t) : 0);
		*bytes = k > 1 ? 0 : st & MEMO_ST_IPV6 ? sizeof(uint64_t) : k == 0 ? 4 : 0;
		return true;
	default:
		return false;
	}
}

/* m->direct and its offsets and masks, when every value of the tag is a
 * field's (memo_field()); the tag words are then the same but for a
 * port's two bytes, which come swapped. */
static void memo_direct(struct memo_tag *m)
{
	m->direct = 0;
	for (unsigned j = 0; j < MEMO_TAG_WORDS; j++) {
		unsigned v = m->off[j] / sizeof(union val);
		unsigned k = m->off[j] % sizeof(union val) / sizeof(uint64_t);
		for (unsigned rev = 0; rev < 2; rev++)
			for (unsigned st = 0; st < MEMO_STATES; st++) {
				size_t off;
				unsigned bytes;
				bool swap;
				if (!memo_field(m->slot[rev][v], k, st, &off, &bytes, &swap) ||
				    off + sizeof(uint64_t) > sizeof(struct pkt_info))
					return;
				uint64_t mask = word_head(m->mask[j], bytes, swap);
				m->pkt_off[rev][j] = (uint16_t)off;
				/* the same for either pass: their fields differ
				 * by end only */
				m->pkt_mask[st][j] = mask;
			}
	}
	m->direct = m->n <= MEMO_SHORT ? MEMO_SHORT : MEMO_TAG_WORDS;
}

/* prog->memo: the words every test on the routes reads (see struct
 * memo_tag); none when there are too many. */
static void memo_load(struct pme_program *prog)
{
	struct memo_tag *m = &prog->memo;
	memset(m, 0, sizeof *m);
	if (!prog->route)
		return;
	bool ok = true;
	for (uint32_t i = 0; ok && i <= prog->n; i++) {
		const struct route *rt = &prog->route[i];
		const struct insn *in = &prog->insn[i];
		if (rt->test)
			ok = memo_tag_add(m, rt->slot[0], rt->slot[1], 0, rt->mask);
		else if (rt->kind == ROUTE_CHAIN)
			for (unsigned k = 0; ok && k < VAL_WORDS; k++)
				ok = memo_tag_add(m, in->a.slot, in->a.slot ^ in->a.ends, k,
						  in->mask.w[k]);
	}
	if (!ok || !m->n) {
		memset(m, 0, sizeof *m);
		return;
	}
	/* a fixed number of words: the padding reads a word that is read
	 * anyway, and keeps none of it */
	for (unsigned j = m->n; j < MEMO_TAG_WORDS; j++) {
		m->off[j] = m->off[0];
		m->mask[j] = 0;
	}
	memo_direct(m);
}

/* Program ids start at 1: a new memo (id 0) is of no program.  An id, not
 * the program's address, which a program loaded after one freed may get. */
static _Atomic uint64_t memo_last_id;

struct pme_memo *pme_memo_create(void)
{
	struct pme_memo *memo = aligned_alloc(INSN_ALIGN, sizeof *memo);
	if (!memo)
		return NULL;
	memset(memo, 0, sizeof *memo);
	return memo;
}

/* The window's lookups and hits into the totals; a new window. */
static inline void memo_close_window(struct pme_memo *memo)
{
	memo->total_lookups += memo->lookups;
	memo->total_hits += memo->lookups - memo->misses;
	memo->lookups = memo->misses = 0;
}

/* The memo's entries are another program's: forget them (a task's
 * program changes rarely: a new ruleset, a switch to its standby). */
static __attribute__((noinline, cold)) void memo_retarget(struct pme_memo *memo,
							   const struct pme_program *prog)
{
	memset(memo->e, 0, sizeof memo->e);
	memo->prog_id = prog->id;
	memo->rest = 0;
	memo->ready_id = prog->id;
	memo_close_window(memo);
}

_Static_assert((offsetof(struct memo_entry, out) + MEMO_OUT_HEAD) %
	       _Alignof(struct flow_key) == 0, "an entry's key is a struct flow_key");

const struct flow_key *pme_memo_key(const uint64_t *cookie)
{
	const struct memo_entry *e = (const struct memo_entry *)
		(const void *)((const char *)cookie - offsetof(struct memo_entry, cookie));
	return (const struct flow_key *)(const void *)(e->out + MEMO_OUT_HEAD);
}

void pme_memo_forget_cookies(struct pme_memo *memo)
{
	for (size_t i = 0; i < MEMO_ENTRIES; i++)
		memo->e[i].cookie = 0;
}

void pme_memo_free(struct pme_memo *memo)
{
	free(memo);
}

void pme_memo_stats(const struct pme_memo *memo, uint64_t *lookups, uint64_t *hits)
{
	*lookups = memo->total_lookups + memo->lookups;
	*hits = memo->total_hits + (memo->lookups - memo->misses);
}

size_t pme_memo_words(const struct pme_program *prog)
{
	return prog->memo.n;
}

/* ---- tails ---------------------------------------------------------- */

/* Growable load-time arrays of the tails. */
struct tail_pools {
	size_t n_rules, cap_rules, n_bytes, cap_bytes, cap_tails;
};

/*
 * The tail of state (i, test off) into prog->tails, when the routes from
 * there test nothing, push constants with key items in ascending
 * attribute order, and end within TAIL_STEPS_MAX steps after at least one
 * push.  0 (with or without a tail), -1 when out of memory.
 */
static int tail_build(struct pme_program *prog, struct tail_pools *tp, uint32_t i)
{
	struct tail tl = { .rules = (uint32_t)tp->n_rules, .bytes = (uint32_t)tp->n_bytes };
	size_t n_rules = tp->n_rules, n_bytes = tp->n_bytes;
	uint32_t t = i << 1;
	for (unsigned step = 0; step < TAIL_STEPS_MAX; step++) {
		const struct route *rt = &prog->route[t >> 1];
		unsigned kind = rt->kind;
		if (kind == ROUTE_GENERAL ||
		    ((t & 1) && (kind == ROUTE_CHAIN || kind == ROUTE_WIDE || rt->test)))
			return 0;               /* a test runs: not known at load */
		uint32_t at = t >> 1;
		switch (rt->act) {
		case ROUTE_BRANCH:
			t = rt->succ;
			continue;
		case ROUTE_PUSH:
			if (grow_array((void **)&prog->tail_rules, &tp->cap_rules, n_rules + 1,
				 sizeof *prog->tail_rules))
				return -1;
			prog->tail_rules[n_rules++] = at;
			if (rt->push == PUSH_DIST) {
				tl.n_dists++;
			} else {
				const struct item_blob *item = &prog->items[at];
				if (rt->attr <= tl.last_attr || tl.n_items == UINT8_MAX ||
				    n_bytes - tl.bytes + item->size > FLOW_KEY_BYTES)
					return 0;       /* build_key sorts it out */
				if (grow_array((void **)&prog->tail_bytes, &tp->cap_bytes,
					 n_bytes + item->size, 1))
					return -1;
				memcpy(prog->tail_bytes + n_bytes, item->bytes, item->size);
				n_bytes += item->size;
				if (!tl.n_items)
					tl.first_attr = rt->attr;
				tl.last_attr = rt->attr;
				tl.n_items++;
			}
			if (n_rules - tl.rules > PME_QUEUE_MAX)
				return 0;
			t = rt->succ;
			continue;
		case ROUTE_COUNT:
			tl.result = PME_COUNT;
			tl.rule = at + 1;
			break;
		default:                /* ROUTE_END */
			tl.result = rt->result;
			tl.rule = rt->rule;
			break;
		}
		if (n_rules == tl.rules)
			return 0;               /* no push: nothing to gain */
		tl.n_rules = (uint16_t)(n_rules - tl.rules);
		/* then the distribution pushes again, for run_tail */
		if (grow_array((void **)&prog->tail_rules, &tp->cap_rules, n_rules + tl.n_dists,
			 sizeof *prog->tail_rules))
			return -1;
		for (uint32_t k = tl.rules, end = (uint32_t)n_rules; k < end; k++)
			if (prog->route[prog->tail_rules[k]].push == PUSH_DIST)
				prog->tail_rules[n_rules++] = prog->tail_rules[k];
		tl.n_bytes = (uint16_t)(n_bytes - tl.bytes);
		if (grow_array((void **)&prog->tails, &tp->cap_tails, (size_t)prog->n_tails + 1,
			 sizeof *prog->tails))
			return -1;
		prog->tails[prog->n_tails++] = tl;
		prog->route[i].tail = prog->n_tails;
		tp->n_rules = n_rules;
		tp->n_bytes = n_bytes;
		return 0;
	}
	return 0;
}

/* Tails for the routes that push (see struct tail); -1 when out of memory. */
static int tails_load(struct pme_program *prog)
{
	if (!prog->route)
		return 0;
	struct tail_pools tp = { 0 };
	for (uint32_t i = 0; i < prog->n; i++)
		if (prog->route[i].act == ROUTE_PUSH && tail_build(prog, &tp, i))
			return -1;
	if (!prog->n_tails)
		return 0;
	/* run_tail's fixed-size copies read this far past the last tail */
	if (grow_array((void **)&prog->tail_rules, &tp.cap_rules, tp.n_rules + TAIL_COPY_RULES,
		 sizeof *prog->tail_rules) ||
	    grow_array((void **)&prog->tail_bytes, &tp.cap_bytes,
		       tp.n_bytes + FLOW_KEY_ITEMS_COPY, 1))
		return -1;
	memset(prog->tail_rules + tp.n_rules, 0, TAIL_COPY_RULES * sizeof *prog->tail_rules);
	memset(prog->tail_bytes + tp.n_bytes, 0, FLOW_KEY_ITEMS_COPY);
	return 0;
}

/* ---- prefilter ------------------------------------------------------ */

/* Outcomes of the abstract walk: an END's (result << 16 | rule), or: */
#define PRE_UNDECIDED  UINT32_MAX      /* some path leaves the routes, or
					  paths end in different places */
#define PRE_BUSY       (UINT32_MAX - 1)/* being walked (a cycle: undecided) */

struct pre_walk {
	const struct pme_program *prog;
	unsigned key;                  /* the value's slot on the forward pass */
	uint64_t w;                    /* the value, as a slot word */
	uint32_t *memo;                /* per state (rule << 1 | test) */
	uint32_t *gen;                 /* memo[] valid when gen[] == cur */
	uint32_t cur;
	unsigned depth;
};

static uint32_t pre_merge(uint32_t a, uint32_t b)
{
	return a == b ? a : PRE_UNDECIDED;
}

/*
 * Where the routes of a forward pass starting at state t end when the
 * value of slot `key` is w and every other value could be anything: the
 * one END reached, or PRE_UNDECIDED.  Tests of other values take both
 * ways.  Memoised per state; deep recursion gives up (undecided).
 */
static uint32_t pre_walk_from(struct pre_walk *pw, uint32_t t)
{
	const struct pme_program *prog = pw->prog;
	if (pw->gen[t] == pw->cur)
		return pw->memo[t] == PRE_BUSY ? PRE_UNDECIDED : pw->memo[t];
	if (pw->depth > PRE_DEPTH_MAX)
		return PRE_UNDECIDED;
	pw->gen[t] = pw->cur;
	pw->memo[t] = PRE_BUSY;
	pw->depth++;
	const struct route *rt = &prog->route[t >> 1];
	uint32_t out = PRE_UNDECIDED;
	bool tested = (t & 1) && rt->test;
	/* 1: the test succeeds, 0: fails, 2: either */
	unsigned ok = !tested ? 1 : rt->slot[0] != pw->key ? 2 :
		      (pw->w & rt->mask) == rt->value;
	if (rt->kind == ROUTE_BRANCH) {
		out = ok == 1 ? pre_walk_from(pw, rt->succ) :
		      ok == 0 ? pre_walk_from(pw, rt->fail) :
		      pre_merge(pre_walk_from(pw, rt->succ), pre_walk_from(pw, rt->fail));
	} else if (rt->kind == ROUTE_END) {
		uint32_t end = (uint32_t)rt->result << 16 | rt->rule;
		out = ok == 1 ? end : ok == 0 ? pre_walk_from(pw, rt->fail) :
		      pre_merge(end, pre_walk_from(pw, rt->fail));
	}
	pw->depth--;
	pw->memo[t] = out;
	return out;
}

/* Is slot s tested by a route with a full mask of at most PRE_WIDTH_MAX
 * bytes, and is every route test of s one?  *width: its width, *rev_slot:
 * its slot on the reversed pass. */
static bool pre_candidate(const struct pme_program *prog, unsigned s, unsigned *width,
			  unsigned *rev_slot)
{
	bool seen = false;
	for (uint32_t i = 0; i <= prog->n; i++) {
		const struct route *rt = &prog->route[i];
		if (!rt->test || rt->slot[0] != s ||
		    (rt->kind != ROUTE_BRANCH && rt->kind != ROUTE_END))
			continue;
		unsigned wd = prog->insn[i].width;
		uint64_t full = wd >= 8 ? UINT64_MAX : (1ULL << (8 * wd)) - 1;
		if (wd > PRE_WIDTH_MAX || rt->mask != full || (seen && wd != *width))
			return false;
		*width = wd;
		*rev_slot = rt->slot[1];
		seen = true;
	}
	return seen;
}

/*
 * The prefilter of a loop-free table: for the slot whose known value
 * decides the most values' passes (fraction of its domain), the values
 * that decide a pass, all ending at one END (the unnamed values' when they
 * decide).  Tests
 * with full masks only: then every value no rule names behaves like any
 * other such value, and only the named ones and one other are walked.
 * -1 when out of memory (0 also when there is no prefilter).
 */
static int prefilter_load(struct pme_program *prog)
{
	if (!prog->route)
		return 0;
	size_t states = 2 * ((size_t)prog->n + 1);
	struct pre_walk pw = { .prog = prog };
	pw.memo = malloc(states * sizeof *pw.memo);
	pw.gen = calloc(states, sizeof *pw.gen);
	uint64_t *named = calloc(((size_t)1 << 16) / 64, sizeof *named);
	uint32_t *out = malloc(((size_t)1 << 16) * sizeof *out);
	int rc = -1;
	if (!pw.memo || !pw.gen || !named || !out)
		goto done;
	rc = 0;
	double best_frac = 0.0;
	for (unsigned s = 0; s < SLOTS; s++) {
		unsigned width = 0, rev_slot = 0;
		if (!pre_candidate(prog, s, &width, &rev_slot))
			continue;
		uint32_t n_vals = 1u << (8 * width);
		memset(named, 0, (n_vals + 63) / 64 * sizeof *named);
		uint32_t other = UINT32_MAX;          /* a value no rule names */
		for (uint32_t i = 0; i <= prog->n; i++) {
			const struct route *rt = &prog->route[i];
			/* the tests the walk runs (pre_candidate: full masks,
			 * values below n_vals) */
			if (rt->test && rt->slot[0] == s &&
			    (rt->kind == ROUTE_BRANCH || rt->kind == ROUTE_END))
				named[rt->value >> 6] |= 1ULL << (rt->value & 63);
		}
		for (uint32_t v = 0; v < n_vals && other == UINT32_MAX; v++)
			if (!(named[v >> 6] >> (v & 63) & 1))
				other = v;
		/* every value's outcome: the named ones and `other` walked,
		 * the other unnamed ones given other's */
		pw.key = s;
		uint32_t other_out = PRE_UNDECIDED;
		if (other != UINT32_MAX) {
			pw.w = other;
			pw.cur++;
			pw.depth = 0;
			other_out = pre_walk_from(&pw, PME_START);
		}
		for (uint32_t v = 0; v < n_vals; v++) {
			if (!(named[v >> 6] >> (v & 63) & 1)) {
				out[v] = other_out;
				continue;
			}
			pw.w = v;
			pw.cur++;
			pw.depth = 0;
			out[v] = pre_walk_from(&pw, PME_START);
		}
		/* the outcome the prefilter keeps: the unnamed values' (most
		 * of the domain), else the first decided named value's */
		uint32_t common = other_out, n_common = 0;
		for (uint32_t v = 0; v < n_vals && common == PRE_UNDECIDED; v++)
			common = out[v];
		if (common == PRE_UNDECIDED)
			continue;
		for (uint32_t v = 0; v < n_vals; v++)
			n_common += out[v] == common;
		double frac = (double)n_common / n_vals;
		if (frac <= best_frac)
			continue;
		best_frac = frac;
		free(prog->pre);
		prog->port_pre = NULL;
		prog->pre = calloc(1, sizeof *prog->pre + (n_vals + 63) / 64 * sizeof(uint64_t));
		if (!prog->pre) {
			rc = -1;
			goto done;
		}
		struct prefilter *pf = prog->pre;
		pf->slot[0] = (uint8_t)s;
		pf->slot[1] = (uint8_t)rev_slot;
		pf->result = (uint8_t)(common >> 16);
		pf->pass.rule = common & 0xffff;
		pf->mask = n_vals - 1;
		pf->n_decided = n_common;
		pf->by_port = s >> 1 == ACC_TRANS_ADDR && n_vals == PRE_PORTS;
		pf->end[0] = s & 1;
		pf->end[1] = rev_slot & 1;
		prog->port_pre = pf->by_port ? pf : NULL;
		for (uint32_t v = 0; v < n_vals; v++) {
			/* by_port: bit p is the value of the port p's word */
			uint32_t x = pf->by_port ? (uint32_t)word_be16(v) & pf->mask : v;
			if (out[x] == common)
				pf->bits[v >> 6] |= 1ULL << (v & 63);
		}
	}
done:
	free(pw.memo);
	free(pw.gen);
	free(named);
	free(out);
	return rc;
}

struct pme_program *pme_load(const struct ruleset *rs, struct diag *d)
{
	if (rs->n_rules > PME_RULES_MAX) {
		diag_error(d, 0, 0, "ruleset has %zu rules, at most %d",
			   rs->n_rules, PME_RULES_MAX);
		return NULL;
	}
	/* Table and path checks (Return without Gosub, recursion, tests
	 * of untestable attributes...) are rulecheck's. */
	struct ruleset_bounds bounds;
	if (ruleset_validate_bounds(rs, d, &bounds))
		return NULL;

	struct pme_program *prog = calloc(1, sizeof *prog);
	size_t n = rs->n_rules + 1;          /* + the sentinel */
	if (prog) {
		prog->held = calloc(n, sizeof *prog->held);
		/* aligned so that each rule is one cache line */
		prog->insn = aligned_alloc(INSN_ALIGN, n * INSN_ALIGN);
	}
	if (!prog || !prog->held || !prog->insn) {
		diag_error(d, 0, 0, "out of memory loading the ruleset");
		pme_free(prog);
		return NULL;
	}
	prog->set = rs->set;
	prog->n = (uint32_t)rs->n_rules;

	/* compile_rule() re-checks what it relies on, in case a table
	 * reaches it unvalidated */
	bool ok = true;
	for (size_t i = 0; i < rs->n_rules; i++)
		ok &= compile_rule(prog, rs, i, d);
	if (!ok)
		goto fail;
	memset(&prog->insn[rs->n_rules], 0, sizeof prog->insn[0]);
	prog->insn[rs->n_rules].op = OP_END;   /* test false: always taken */
	if (build_chains(prog)) {
		diag_error(d, 0, 0, "out of memory loading the ruleset");
		goto fail;
	}

	/* The step limit.  When every path was walked and none can come
	 * back to a state, no pass can take more steps than there are
	 * states (at most the walk budget); the limit is then only a safety
	 * net.  Otherwise a cycle is possible: cut it at 4n + 64 steps. */
	bool loop_free = bounds.complete && !bounds.has_loop && !bounds.queue_unbounded;
	prog->loop_free = loop_free;
	prog->step_limit = loop_free ? RULECHECK_STATES_MAX + 1u
				     : 4u * prog->n + 64u;
	for (uint32_t i = 0; i < prog->n; i++)
		if (prog->insn[i].op == RULE_ASSIGN || prog->insn[i].op == RULE_ASSIGN_ACT ||
		    prog->insn[i].var_use)
			prog->has_vars = true;
	if (thread_jumps(prog) || encode_items(prog) || route_load(prog) ||
	    tails_load(prog) || prefilter_load(prog)) {
		diag_error(d, 0, 0, "out of memory loading the ruleset");
		goto fail;
	}
	memo_load(prog);
	prog->id = ++memo_last_id;
	if (bounds.complete && !bounds.queue_unbounded &&
	    bounds.max_queue > PME_QUEUE_MAX)
		diag_warning(d, 0, 0, "a path pushes %u items; the PME keeps %d, so "
			     "packets taking it are not counted (NoMatch)",
			     bounds.max_queue, PME_QUEUE_MAX);
	return prog;
fail:
	pme_free(prog);
	return NULL;
}

void pme_free(struct pme_program *prog)
{
	if (!prog)
		return;
	free(prog->held);
	free(prog->insn);
	free(prog->chains);
	free(prog->route);
	free(prog->pre);
	free(prog->tails);
	free(prog->tail_rules);
	free(prog->tail_bytes);
	free(prog->entries);
	free(prog->on_fail);
	free(prog->items);
	free(prog);
}

unsigned pme_ruleset(const struct pme_program *prog)
{
	return prog->set;
}

size_t pme_rule_count(const struct pme_program *prog)
{
	return prog->n;
}

unsigned pme_step_limit(const struct pme_program *prog)
{
	return prog->step_limit;
}

size_t pme_chain_count(const struct pme_program *prog)
{
	return prog->n_chains;
}

size_t pme_prefilter_values(const struct pme_program *prog)
{
	return prog->pre ? prog->pre->n_decided : 0;
}

size_t pme_route_count(const struct pme_program *prog)
{
	size_t k = 0;
	for (uint32_t i = 0; prog->route && i <= prog->n; i++)
		k += prog->route[i].kind != ROUTE_GENERAL;
	return k;
}

/* ---- match ----------------------------------------------------------- */


/* Internal error codes: 0 = none, else the enum pme_error + 1. */
#define RUN_ERR(e) ((int)(e) + 1)

struct qent {                  /* one pattern-queue entry */
	const union val *mask;
	const union val *value;    /* the rule's value, or val */
	uint16_t attr;
	uint8_t width;
	uint8_t push;              /* PUSH_KEY or PUSH_DIST */
	const struct item_blob *item;  /* encoded at load, or NULL */
	union val val;             /* packet value & mask, for PushPkt */
};

struct run {
	const struct pme_program *prog;
	uint32_t nq, nstack;
	const struct attr_ref *var[N_VARS];
	uint32_t stack[PME_STACK_MAX];
	struct qent q[PME_QUEUE_MAX];
	/* the routes queue a push as its rule alone; route_queue() writes
	 * the entries once the queue is read (rarely: see run_pass) */
	uint32_t q_rule[PME_QUEUE_MAX];
};

/* The queue entry of rule i's push of a constant (an item encoded at load,
 * or distribution parameters): what push() would queue. */
static inline void qent_const(struct qent *e, const struct pme_program *prog, uint32_t i)
{
	const struct insn *in = &prog->insn[i];
	e->attr = in->a.num;
	e->push = in->a.push;
	e->width = in->a.push == PUSH_DIST ? PME_DIST_PARAM : prog->items[i].width;
	e->mask = &in->mask;
	e->value = &in->value;
	e->item = in->a.push == PUSH_KEY ? &prog->items[i] : NULL;
}

/* The queue entries of the routes' pushes (r->q_rule[0 .. nq)). */
static void route_queue(struct run *r)
{
	for (uint32_t k = 0; k < r->nq; k++)
		qent_const(&r->q[k], r->prog, r->q_rule[k]);
}

/* The value of an engine-state attribute (FlowRuleSet, Class/Kind). */
static const union val *state_value(const struct run *r, const struct attr_ref *a,
				    union val *tmp)
{
	tmp->w[0] = tmp->w[1] = tmp->w[2] = 0;
	if (a->acc == ACC_RULESET) {
		tmp->w[0] = word_u8(r->prog->set);
	} else if (a->acc == ACC_CLASSKIND) {
		/* the latest push still on the queue (PopTo undoes) */
		for (uint32_t k = r->nq; k-- > 0; ) {
			const struct qent *e = &r->q[k];
			if (e->attr == a->num) {
				for (unsigned w = 0; w < VAL_WORDS; w++)
					tmp->w[w] = e->value->w[w] & e->mask->w[w];
				break;
			}
		}
	}
	return tmp;
}

/*
 * Packet values, read on first use.  Slot acc * 2 + end holds the value
 * of packet end `end`; a pass reads attribute slot `slot ^ rev`, so the
 * reversed pass finds the swapped ends in the entries the forward pass
 * filled, and one cache serves both passes of pme_classify().
 */
struct pcache {
	uint32_t cached;           /* bit per slot */
	unsigned rev;              /* 1 on the reversed pass */
	bool general;              /* the pass left the routes (no memo) */
	const struct pkt_info *pkt;
	/* the values live in an array of their own: read_packet() gets a
	 * pointer into it, which cannot reach the fields above, so they may
	 * stay in registers */
	union val *v;              /* [SLOTS] */
};

/* A port's slot word (0 without ports). */
static inline uint64_t port_word(const struct pkt_info *p, unsigned end)
{
	return p->has_ports ? word_be16(p->port[end]) : 0;
}

/* The one-word values nearly every ruleset tests first, transport type
 * and ports (and peer type), without read_packet()'s call: false for the
 * others. */
static inline bool read_word(const struct pkt_info *p, unsigned s, uint64_t *w)
{
	switch (s >> 1) {
	case ACC_TRANS_ADDR:
		*w = port_word(p, s & 1);
		return true;
	case ACC_TRANS_TYPE:
		*w = word_u8(p->proto);
		return true;
	case ACC_PEER_TYPE:
		*w = word_u8(p->peer_type);
		return true;
	case ACC_NONE:
		*w = 0;
		return true;
	default:
		return false;
	}
}

/* read_packet() into slot s. */
static inline void read_slot(struct pcache *c, unsigned s)
{
	union val *v = &c->v[s];
	if (read_word(c->pkt, s, &v->w[0]))
		v->w[1] = v->w[2] = 0;
	else
		read_packet(s >> 1, s & 1, c->pkt, v);
}

/* Width of the packet's own value of `a` when narrower than the
 * attribute's table width (IPv4 peer addresses), else 0. */
static inline unsigned packet_width(const struct pcache *c, const struct attr_ref *a)
{
	return a->acc == ACC_PEER_ADDR && c->pkt->peer_type != PEER_TYPE_IPV6 ? 4 : 0;
}

/* The value a test of `a` sees. */
static inline const union val *value_of(struct pcache *c, const struct run *r,
					const struct attr_ref *a, union val *tmp)
{
	if (a->slot == SLOT_NONE)
		return state_value(r, a, tmp);
	unsigned s = a->slot ^ (c->rev & a->ends);
	if (!(c->cached & (1u << s))) {
		read_packet(s >> 1, s & 1, c->pkt, &c->v[s]);
		c->cached |= 1u << s;
	}
	return &c->v[s];
}

static inline bool test_ok(const struct insn *in, const union val *v)
{
	/* most tests (types, ports, IPv4) fit one word */
	uint64_t diff = (v->w[0] & in->mask.w[0]) ^ in->value.w[0];
	if (in->nwords > 1)
		diff |= ((v->w[1] & in->mask.w[1]) ^ in->value.w[1]) |
			((v->w[2] & in->mask.w[2]) ^ in->value.w[2]);
	return diff == 0;
}

/* Push (a, the rule's mask, the rule's value — or pkt & mask when pkt is
 * given). */
/*
 * Queue a push.  pkt: the packet's value for PushPkt/CountPkt (NULL pushes
 * the rule's value); pkt_width: the packet value's own width when it is
 * narrower than the attribute's (an IPv4 peer address is 4 bytes), so a
 * SAVE written for any family keys an IPv4 flow by 4 bytes, which every
 * reader renders as an IPv4 address.
 */
static inline int push(struct run *r, const struct insn *in,
		       const struct attr_ref *a, const union val *pkt,
		       unsigned pkt_width)
{
	if (a->push == PUSH_NONE)
		return 0;               /* Null: nothing to remember */
	if (a->push == PUSH_BAD)
		return RUN_ERR(PME_ERR_VARIABLE);
	if (r->nq == PME_QUEUE_MAX)
		return RUN_ERR(PME_ERR_QUEUE);
	struct qent *e = &r->q[r->nq++];
	e->attr = a->num;
	e->push = a->push;
	e->item = NULL;
	e->mask = &in->mask;
	e->value = &in->value;
	if (a->push == PUSH_DIST) {
		/* mask and value are the RFC 2724 parameters, whatever the
		 * action */
		e->width = PME_DIST_PARAM;
		return 0;
	}
	e->width = in->width < a->width ? in->width : a->width;
	if (pkt_width && pkt_width < e->width)
		e->width = pkt_width;
	if (pkt) {
		for (unsigned w = 0; w < VAL_WORDS; w++)
			e->val.w[w] = pkt->w[w] & in->mask.w[w];
		e->value = &e->val;
	}
	return 0;
}

static void dist_put(struct pme_match *out, unsigned attr, const union val *mask,
		     const union val *value)
{
	struct pme_dist *dd = NULL;
	for (unsigned k = 0; k < out->n_dist; k++)
		if (out->dist[k].attr == attr)
			dd = &out->dist[k];
	if (!dd) {
		if (out->n_dist == PME_DIST_MAX)   /* cannot happen: 10 attributes */
			return;
		dd = &out->dist[out->n_dist++];
	}
	dd->attr = (uint16_t)attr;
	memcpy(dd->mask, mask->b, PME_DIST_PARAM);
	memcpy(dd->value, value->b, PME_DIST_PARAM);
}

/*
 * The flow key from the queue: a later push of an attribute replaces an
 * earlier one.  The entries are sorted here by (attribute, queue
 * position), so the last push of each attribute comes last in its group
 * and the key is built by appends.
 */
static int build_key(const struct run *r, struct pme_match *out)
{
	_Static_assert(PME_QUEUE_MAX <= 256, "queue position fits 8 bits");
	struct flow_key *key = &out->key;
	/* Compiled rulesets push the key in attribute order, each attribute
	 * once: then the queue order is the key order and the items are
	 * appended as they come.  The first one out of order sends the rest
	 * to the sort below, which starts again (dist_put is idempotent). */
	int err = 0;
	flow_key_clear(key, r->prog->set);
	for (uint32_t k = 0, prev = 0; k < r->nq; k++) {
		const struct qent *e = &r->q[k];
		if (e->push == PUSH_DIST) {
			dist_put(out, e->attr, e->mask, e->value);
			continue;
		}
		if (e->attr <= prev)
			goto sort;
		prev = e->attr;
		if (err)
			continue;               /* every distribution is still put */
		if (e->item)
			err = flow_key_append_item(key, e->item->bytes, e->item->size);
		else
			err = flow_key_append_padded(key, e->attr, e->width,
						     e->mask->b, e->value->b);
		if (err)
			err = RUN_ERR(PME_ERR_KEY_FULL);
	}
	return err;

sort:;
	uint32_t ord[PME_QUEUE_MAX];
	unsigned n = 0;
	for (uint32_t k = 0; k < r->nq; k++) {
		const struct qent *e = &r->q[k];
		if (e->push == PUSH_DIST) {
			dist_put(out, e->attr, e->mask, e->value);
			continue;
		}
		uint32_t x = (uint32_t)e->attr << 8 | k;
		unsigned j = n++;
		for (; j > 0 && ord[j - 1] > x; j--)
			ord[j] = ord[j - 1];
		ord[j] = x;
	}
	/* Items in attribute order, so each is appended. */
	flow_key_clear(key, r->prog->set);
	for (unsigned j = 0; j < n; j++) {
		if (j + 1 < n && ord[j + 1] >> 8 == ord[j] >> 8)
			continue;               /* replaced by a later push */
		const struct qent *e = &r->q[ord[j] & 0xff];
		if (flow_key_append_padded(key, e->attr, e->width, e->mask->b, e->value->b))
			return RUN_ERR(PME_ERR_KEY_FULL);
	}
	return 0;
}

static inline enum pme_result fail(struct pme_match *out, int err, uint32_t rule)
{
	out->errors |= 1u << (err - 1);
	out->rule = rule;
	return PME_NOMATCH;
}

/* The attribute a rule acts on: its own, or the one its vN holds (NULL
 * when vN is unset). */
static inline const struct attr_ref *rule_attr(const struct run *r,
					       const struct insn *in)
{
	return in->var_use ? r->var[in->a.var] : &in->a;
}

/*
 * Rule i of chain ch is entered with the test on and the packet value v:
 * the first rule >= i in the chain whose test succeeds, or ch->end.
 */
static inline uint32_t chain_find(const struct pme_program *prog,
				  const struct chain *ch, const struct insn *in,
				  uint32_t i, const union val *v)
{
	uint64_t key[VAL_WORDS];
	for (unsigned k = 0; k < VAL_WORDS; k++)
		key[k] = v->w[k] & in->mask.w[k];
	const struct chain_entry *e = prog->entries + ch->off;
	for (uint32_t pos = chain_home(ch, key); ; pos = (pos + 1) & ch->mask) {
		const struct chain_entry *s = &e[pos];
		if (s->rule == CHAIN_EMPTY)
			return ch->end;
		if (s->rule >= i && s->w[0] == key[0] && s->w[1] == key[1] &&
		    s->w[2] == key[2])
			return s->rule;
	}
}

/*
 * The key of a Count the routes reach: built already as they pushed
 * (key_built; cleared now if nothing was pushed, key_last 0), or by
 * build_key() from the queue.  0 or a RUN_ERR.
 */
static inline int routes_key(struct run *r, struct pme_match *out, bool key_built,
			     unsigned key_last)
{
	if (!key_built) {
		out->n_dist = 0;        /* build_key puts them all again */
		route_queue(r);
		return build_key(r, out);
	}
	if (!key_last)
		flow_key_clear(&out->key, r->prog->set);
	return 0;
}

/*
 * What the routes of tail tl do (see struct tail): its pushes queued, its
 * key items appended and distributions put while the key is being built
 * as the routes push (run_pass's key_built, key_last).  Returns its result.
 */
static enum pme_result run_tail(struct run *r, const struct tail *tl,
				struct pme_match *out, bool *key_built, unsigned *key_last)
{
	const struct pme_program *prog = r->prog;
	const uint32_t *rules = prog->tail_rules + tl->rules;
	if (tl->n_rules <= TAIL_COPY_RULES && r->nq + TAIL_COPY_RULES <= PME_QUEUE_MAX)
		memcpy(&r->q_rule[r->nq], rules, TAIL_COPY_RULES * sizeof *rules);
	else
		memcpy(&r->q_rule[r->nq], rules, tl->n_rules * sizeof *rules);
	r->nq += tl->n_rules;
	if (tl->result != PME_COUNT || !*key_built)
		return (enum pme_result)tl->result;
	if (tl->n_items) {
		if (!*key_last)
			flow_key_clear(&out->key, prog->set);
		if (tl->first_attr <= *key_last ||
		    flow_key_append_items(&out->key, prog->tail_bytes + tl->bytes,
					  tl->n_bytes, tl->n_items)) {
			*key_built = false;
			return PME_COUNT;
		}
		*key_last = tl->last_attr;
	}
	/* the distribution pushes follow the tail's rules in the pool */
	for (unsigned k = 0; k < tl->n_dists; k++) {
		uint32_t i = rules[tl->n_rules + k];
		dist_put(out, prog->route[i].attr, &prog->insn[i].mask, &prog->insn[i].value);
	}
	return PME_COUNT;
}

/*
 * One pass over the rules; c holds the packet's values read so far
 * (c->rev selects the pass).
 *
 * every_step: charge the step budget for every rule visited (a table that
 * may loop: the limit is what stops a cycle).  Otherwise (loop_free) the
 * walk proved that no pass can reach the limit, so results are the same
 * whatever is charged; only backward jumps are charged then, which keeps
 * the net under the proof (a cycle needs a backward jump) at a compare
 * per jump instead of a decrement per rule.
 */
static inline __attribute__((always_inline)) enum pme_result
run_pass(const struct pme_program *prog, struct pcache *cache,
	 struct pme_match *out, const bool every_step, const bool routes,
	 uint32_t start)
{
	struct run r;
	struct pcache *const c = cache;
	r.prog = prog;
	r.nq = r.nstack = 0;
	if (prog->has_vars)
		for (unsigned k = 0; k < N_VARS; k++)
			r.var[k] = NULL;
	out->errors = 0;
	out->n_dist = 0;
	out->rule = 0;
	out->key_hashed = false;

	const struct insn *insn = prog->insn;
	const uint32_t n = prog->n;
	uint32_t budget = prog->step_limit;
	uint32_t i = start >> 1;
	bool test = start & 1;
	union val tmp;
	int err;

	if (routes) {
		/* the routes (struct route); every_step is false */
		const struct route *rts = prog->route;
		const unsigned rev = c->rev;
		uint32_t t = start;
		/* The key is built as the routes push, while the items come
		 * in attribute order (build_key's fast case), and the
		 * distributions put; else build_key() builds it at Count. */
		bool key_built = true;
		unsigned key_last = 0;          /* 0: the key is not cleared yet
						   (most passes push nothing) */
		for (;;) {
			const struct route *rt = &rts[t >> 1];
			if (rt->kind == ROUTE_BRANCH) {
				/* its slot was read before the walk; a
				 * test-free branch has mask 0 and value 0.  The
				 * next rule is picked without a branch: which way
				 * a test goes changes from packet to packet. */
				bool ok = !(t & rt->test) |
					  ((c->v[rt->slot[rev]].w[0] & rt->mask) == rt->value);
				t = ok ? rt->succ : rt->fail;
				continue;
			}
			unsigned kind = rt->kind;
			if (kind == ROUTE_GENERAL)
				break;
			i = t >> 1;
			if (!(t & 1) && rt->tail) {
				const struct tail *tl = &prog->tails[rt->tail - 1];
				if (r.nq + tl->n_rules <= PME_QUEUE_MAX) {
					enum pme_result res = run_tail(&r, tl, out, &key_built,
								       &key_last);
					if (res == PME_COUNT &&
					    (err = routes_key(&r, out, key_built, key_last)))
						return fail(out, err, tl->rule);
					out->rule = tl->rule;
					return res;
				}
			}
			if (t & 1) {
				if (kind == ROUTE_CHAIN) {
					/* the chain's search finds the rule whose
					 * test succeeds; its action runs next, with
					 * the test off */
					const struct chain *ch = &prog->chains[rt->chain - 1];
					const struct insn *in = &insn[i];
					unsigned s = in->a.slot ^ (c->rev & in->a.ends);
					if (!(c->cached & (1u << s))) {
						read_slot(c, s);
						c->cached |= 1u << s;
					}
					uint32_t k = chain_find(prog, ch, in, i, &c->v[s]);
					t = k == ch->end ? prog->on_fail[k - 1] : k << 1;
					continue;
				}
				if (kind == ROUTE_WIDE)
					break;
				if (rt->test) {
					/* fewer packets come here: read on use */
					unsigned s = rt->slot[rev];
					if (!(c->cached & (1u << s))) {
						read_slot(c, s);
						c->cached |= 1u << s;
					}
					if ((c->v[s].w[0] & rt->mask) != rt->value) {
						t = rt->fail;
						continue;
					}
				}
			}
			kind = rt->act;
			if (kind == ROUTE_BRANCH) {
				t = rt->succ;
				continue;
			}
			if (kind == ROUTE_PUSH) {
				if (r.nq == PME_QUEUE_MAX)
					return fail(out, RUN_ERR(PME_ERR_QUEUE), i + 1);
				r.q_rule[r.nq++] = i;
				if (rt->push == PUSH_DIST) {
					if (key_built)
						dist_put(out, rt->attr, &insn[i].mask, &insn[i].value);
				} else {
					const struct item_blob *item = &prog->items[i];
					if (!key_last)
						flow_key_clear(&out->key, prog->set);
					if (key_built && (rt->attr <= key_last ||
							  flow_key_append_item(&out->key, item->bytes,
									       item->size)))
						key_built = false;
					key_last = rt->attr;
				}
				t = rt->succ;
				continue;
			}
			if (kind == ROUTE_COUNT) {
				if ((err = routes_key(&r, out, key_built, key_last)))
					return fail(out, err, i + 1);
				out->rule = i + 1;
				return PME_COUNT;
			}
			out->rule = rt->rule;           /* ROUTE_END */
			return (enum pme_result)rt->result;
		}
		i = t >> 1;
		test = t & 1;
		c->general = true;
		route_queue(&r);        /* the general loop reads the queue */
	}

	for (;;) {
		if (every_step && budget-- == 0)
			return fail(out, RUN_ERR(PME_ERR_STEPS), i < n ? i + 1 : 0);
		/* insn[n] is a sentinel: running off the end */
		const struct insn *in = &insn[i];
		const struct attr_ref *a;      /* set where an action needs it */
		if (test && in->test) {
			const union val *v;
			if (in->pkt_test) {
				/* value_of() without the cases it cannot be */
				unsigned s = in->a.slot ^ (c->rev & in->a.ends);
				if (!(c->cached & (1u << s))) {
					read_slot(c, s);
					c->cached |= 1u << s;
				}
				v = &c->v[s];
			} else {
				a = rule_attr(&r, in);
				if (!a)
					return fail(out, RUN_ERR(PME_ERR_VARIABLE), i + 1);
				v = value_of(c, &r, a, &tmp);
			}
			if (in->chain) {
				const struct chain *ch = &prog->chains[in->chain - 1];
				uint32_t k = chain_find(prog, ch, in, i, v);
				/* charge the rules the search skipped */
				uint32_t extra = k == ch->end ? k - i - 1 : k - i;
				if (every_step) {
					if (extra > budget)
						return fail(out, RUN_ERR(PME_ERR_STEPS), i + 1);
					budget -= extra;
				}
				if (k == ch->end) {
					/* all failed: on as the last one fails */
					uint32_t f = prog->on_fail[k - 1];
					i = f >> 1;
					test = f & 1;
					continue;
				}
				i = k;
				in = &insn[k];          /* k's test succeeded */
			} else if (!test_ok(in, v)) {
				uint32_t f = prog->on_fail[i];
				i = f >> 1;
				test = f & 1;
				continue;
			}
		}

		switch (in->op) {
		case OP_END:
			return PME_NOMATCH;
		case RULE_IGNORE:
			out->rule = i + 1;
			return PME_IGNORE;
		case RULE_NOMATCH:
			out->rule = i + 1;
			return PME_NOMATCH;
		case RULE_COUNT:
		case RULE_COUNT_PKT:
			if (!(a = rule_attr(&r, in)))
				return fail(out, RUN_ERR(PME_ERR_VARIABLE), i + 1);
			out->n_dist = 0;        /* the routes may have put some */
			if ((err = push(&r, in, a, in->op == RULE_COUNT_PKT ?
					value_of(c, &r, a, &tmp) : NULL,
					packet_width(c, a))) ||
			    (err = build_key(&r, out)))
				return fail(out, err, i + 1);
			out->rule = i + 1;
			return PME_COUNT;
		case RULE_RETURN: {
			if (r.nstack == 0)
				return fail(out, RUN_ERR(PME_ERR_RETURN), i + 1);
			uint32_t target = r.stack[--r.nstack] + in->param;
			if (target >= n)
				return fail(out, RUN_ERR(PME_ERR_RETURN), i + 1);
			if (!every_step && target <= i && budget-- == 0)
				return fail(out, RUN_ERR(PME_ERR_STEPS), i + 1);
			i = target;
			test = false;
			continue;
		}
		case RULE_GOSUB:
		case RULE_GOSUB_ACT:
			if (r.nstack == PME_STACK_MAX)
				return fail(out, RUN_ERR(PME_ERR_STACK), i + 1);
			r.stack[r.nstack++] = i;
			break;
		case RULE_ASSIGN:
		case RULE_ASSIGN_ACT:
			r.var[in->a.var] = &prog->held[i];
			break;
		case RULE_PUSH_RULE_TO:
		case RULE_PUSH_RULE_TO_ACT:
			if (prog->items[i].size) {
				/* encoded at load: push()'s outcome is known */
				if (r.nq == PME_QUEUE_MAX)
					return fail(out, RUN_ERR(PME_ERR_QUEUE), i + 1);
				qent_const(&r.q[r.nq++], prog, i);
				break;
			}
			if (!(a = rule_attr(&r, in)))
				return fail(out, RUN_ERR(PME_ERR_VARIABLE), i + 1);
			if ((err = push(&r, in, a, NULL, 0)))
				return fail(out, err, i + 1);
			break;
		case RULE_PUSH_PKT_TO:
		case RULE_PUSH_PKT_TO_ACT:
			if (!(a = rule_attr(&r, in)))
				return fail(out, RUN_ERR(PME_ERR_VARIABLE), i + 1);
			/* the value is read before the push: a Class/Kind
			 * read scans the queue */
			if ((err = push(&r, in, a, a->push == PUSH_KEY ?
					value_of(c, &r, a, &tmp) : NULL,
					packet_width(c, a))))
				return fail(out, err, i + 1);
			break;
		case RULE_POP_TO:
		case RULE_POP_TO_ACT:
			if (r.nq)
				r.nq--;
			break;
		case RULE_GOTO:
		case RULE_GOTO_ACT:
			break;
		default:                /* refused at load */
			return fail(out, RUN_ERR(PME_ERR_RETURN), i + 1);
		}
		/* goto-type actions */
		if (!every_step && in->param <= i + 1u && budget-- == 0)
			return fail(out, RUN_ERR(PME_ERR_STEPS), i + 1);
		test = in->next_test;
		i = in->param - 1u;
	}
}

static enum pme_result match_pass(const struct pme_program *prog,
				  struct pcache *c, struct pme_match *out)
{
	return prog->loop_free ? run_pass(prog, c, out, false, false, PME_START)
			       : run_pass(prog, c, out, true, false, PME_START);
}

enum pme_result pme_match(const struct pme_program *prog,
			  const struct pkt_info *pkt, bool reversed,
			  struct pme_match *out)
{
	union val vals[SLOTS];
	struct pcache c;
	c.cached = 0;
	c.general = false;
	c.rev = reversed ? 1 : 0;
	c.pkt = pkt;
	c.v = vals;
	return match_pass(prog, &c, out);
}

static inline bool prefilter_bit(const struct prefilter *pf, const struct pkt_info *pkt,
				 unsigned rev);

/* The prefilter's bit x: does it decide the pass of that value? */
static inline bool prefilter_bit_at(const struct prefilter *pf, size_t x)
{
	return pf->bits[x / 64] >> (x % 64) & 1;
}

/* Does the prefilter decide a pass whose value's slot word is w (not
 * by_port)? */
static inline bool prefilter_has(const struct prefilter *pf, uint64_t w)
{
	return prefilter_bit_at(pf, (uint32_t)w & pf->mask);
}

/* Does a by_port prefilter decide the pass whose port is the packet's
 * end `end`? (0 without ports, as port_word() reads it) */
static inline bool prefilter_port(const struct prefilter *pf, const struct pkt_info *pkt,
				  unsigned end)
{
	return prefilter_bit_at(pf, pkt->has_ports ? pkt->port[end] : 0);
}

/* A pass the prefilter decides: its result, out as the pass sets it. */
static inline enum pme_result prefilter_pass(const struct prefilter *pf,
					     struct pme_match *out)
{
	memcpy(out, &pf->pass, sizeof pf->pass);
	out->n_dist = 0;
	return (enum pme_result)pf->result;
}

/* A pass's place in the memo: its tag and entry. */
struct memo_probe {
	uint64_t tag[MEMO_TAG_WORDS];
	struct memo_entry *e;
};

#define MEMO_MISS (-1)

/* The entry of tag words whose hash is x. */
static inline struct memo_entry *memo_entry_of(struct pme_memo *memo, uint64_t x)
{
	return &memo->e[x >> (64 - __builtin_ctz(MEMO_ENTRIES))];
}

/* memo_probe() of a direct tag (struct memo_tag): a load and a mask a
 * word, the first `words` (m->direct); the others are 0, hashed as such. */
static inline __attribute__((always_inline)) void
memo_probe_direct(const struct memo_tag *m, struct pme_memo *memo,
		  const struct pkt_info *pkt, unsigned rev, struct memo_probe *p,
		  const unsigned words)
{
	const uint8_t *b = (const uint8_t *)pkt;
	unsigned st = (pkt->has_ports ? MEMO_ST_PORTS : 0) |
		      (pkt->peer_type == PEER_TYPE_IPV6 ? MEMO_ST_IPV6 : 0);
	const uint64_t *mask = m->pkt_mask[st];
	const uint16_t *off = m->pkt_off[rev];
	uint64_t x = 0;
#pragma GCC unroll 6
	for (unsigned j = 0; j < MEMO_TAG_WORDS; j++) {
		uint64_t w = 0;
		if (j < words)
			memcpy(&w, b + off[j], sizeof w);
		p->tag[j] = w & mask[j];
		x = (x ^ p->tag[j]) * MEMO_HASH_MUL;
	}
	p->e = memo_entry_of(memo, x);
}

/* memo_probe() of any other tag: the values read, then their words. */
static inline __attribute__((always_inline)) void
memo_probe_general(const struct memo_tag *m, struct pme_memo *memo,
		   const struct pkt_info *pkt, unsigned rev, struct memo_probe *p)
{
	union val v[MEMO_TAG_WORDS];
	for (unsigned i = 0; i < m->n_slots; i++) {
		unsigned s = m->slot[rev][i];
		/* read_word()'s values are one word: the tag reads only
		 * word 0 of them (their tests' masks have no other); a
		 * server's address, the other value nearly every table
		 * tests, without read_packet()'s call */
		if (s >> 1 == ACC_PEER_ADDR)
			peer_addr_words(pkt, s & 1, &v[i].w[0], &v[i].w[1]);
		else if (!read_word(pkt, s, &v[i].w[0]))
			read_packet(s >> 1, s & 1, pkt, &v[i]);
	}
	const uint8_t *b = (const uint8_t *)v;
	uint64_t x = 0;
#pragma GCC unroll 6
	for (unsigned j = 0; j < MEMO_TAG_WORDS; j++) {
		uint64_t w;
		memcpy(&w, b + m->off[j], sizeof w);
		p->tag[j] = w & m->mask[j];
		x = (x ^ p->tag[j]) * MEMO_HASH_MUL;
	}
	p->e = memo_entry_of(memo, x);
}

/* The pass's tag (rev: the reversed pass's) into p, and its entry. */
static inline __attribute__((always_inline)) void
memo_probe(const struct pme_program *prog, struct pme_memo *memo,
	   const struct pkt_info *pkt, unsigned rev, struct memo_probe *p)
{
	if (prog->memo.direct == MEMO_SHORT)
		memo_probe_direct(&prog->memo, memo, pkt, rev, p, MEMO_SHORT);
	else if (prog->memo.direct)
		memo_probe_direct(&prog->memo, memo, pkt, rev, p, MEMO_TAG_WORDS);
	else
		memo_probe_general(&prog->memo, memo, pkt, rev, p);
}

/* The probed pass's outcome into out, its enum pme_result, if the memo
 * has it; else MEMO_MISS.  words: the tag's first words to compare, the
 * others 0 in every entry of the program (a short direct tag's). */
static inline int memo_get(const struct memo_probe *p, struct pme_match *out,
			   const unsigned words)
{
	const struct memo_entry *e = p->e;
	uint64_t diff = 0;
#pragma GCC unroll 6
	for (unsigned j = 0; j < words; j++)
		diff |= e->tag[j] ^ p->tag[j];
	if (diff || !e->used)
		return MEMO_MISS;
	/* a Count whose flow the caller keeps in the cookie needs no key
	 * (pme_memo_key() has it if it does) */
	if (e->cookie)
		memcpy(out, e->out, MEMO_OUT_HEAD);
	else
		memcpy(out, e->out, sizeof e->out);
	memcpy(out->dist, e->dist, sizeof e->dist);
	return e->result;
}

/* One lookup, found or not; a window with too few finds rests the memo. */
static inline void memo_count(struct pme_memo *memo, bool hit)
{
	memo->misses += !hit;
	if (++memo->lookups == MEMO_WINDOW) {
		if (MEMO_WINDOW - memo->misses < MEMO_WINDOW / MEMO_HITS_MIN) {
			memo->rest = MEMO_REST;
			memo->ready_id = 0;
		}
		memo_close_window(memo);
	}
}

/* Keep a walked pass's outcome: one that stayed on the routes, without
 * errors, whose key and distributions fit. */
static inline void memo_keep(const struct memo_probe *p, const struct pcache *c,
			     enum pme_result res, struct pme_match *out)
{
	struct memo_entry *e = p->e;
	out->flow_cookie = NULL;
	if (c->general || out->errors || out->n_dist > MEMO_DISTS ||
	    (res == PME_COUNT && out->key.len > MEMO_KEY_BYTES))
		return;
	memcpy(e->tag, p->tag, sizeof e->tag);
	e->used = 1;
	e->result = (uint8_t)res;
	e->cookie = 0;          /* the caller's word was about the old outcome */
	memcpy(e->dist, out->dist, sizeof e->dist);
	/* out as a hit gives it: errors 0 (none kept), the key hashed, the
	 * entry's cookie */
	struct pme_match head;
	head.rule = out->rule;
	head.errors = 0;
	head.n_dist = out->n_dist;
	head.key_hashed = res == PME_COUNT;
	head.key_hash = head.key_hashed ? flow_key_hash(&out->key) : 0;
	head.flow_cookie = head.key_hashed ? &e->cookie : NULL;
	memcpy(e->out, &head, MEMO_OUT_HEAD);
	out->key_hashed = head.key_hashed;
	out->key_hash = head.key_hash;
	out->flow_cookie = head.flow_cookie;
	if (res == PME_COUNT)
		memcpy(e->out + MEMO_OUT_HEAD, &out->key, MEMO_KEY_HEAD + MEMO_KEY_BYTES);
}

/* One pass of classify(): from the memo when it has it, else walked
 * (and kept).  Passes found at once by classify_memo() do not come here:
 * every pass is counted once. */
static inline __attribute__((always_inline)) enum pme_result
classify_pass(const struct pme_program *prog, struct pme_memo *memo, struct pcache *c,
	      struct pme_match *out, const bool every_step)
{
	out->flow_cookie = NULL;    /* a hit or memo_keep() sets it */
	if (every_step)
		return run_pass(prog, c, out, true, false, PME_START);
	if (!memo)
		return run_pass(prog, c, out, false, true, PME_START);
	if (memo->rest) {
		if (!--memo->rest)
			memo->ready_id = memo->prog_id;
		return run_pass(prog, c, out, false, true, PME_START);
	}
	struct memo_probe p;
	memo_probe(prog, memo, c->pkt, c->rev, &p);
	int hit = memo_get(&p, out, MEMO_TAG_WORDS);
	memo_count(memo, hit != MEMO_MISS);
	if (hit != MEMO_MISS)
		return (enum pme_result)hit;
	c->general = false;
	enum pme_result res = run_pass(prog, c, out, false, true, PME_START);
	memo_keep(&p, c, res, out);
	return res;
}

/* Both passes in one frame: a call per pass (prologue, epilogue, the
 * cache's address escaping) cost more than the second copy of the loop. */
static inline __attribute__((always_inline)) enum pme_result
classify(const struct pme_program *prog, struct pme_memo *memo,
	 const struct pkt_info *pkt, struct pme_match *out, bool *reversed,
	 const bool every_step, bool first_decided)
{
	union val vals[SLOTS];
	struct pcache c;            /* shared: see struct pcache */
	c.cached = 0;
	c.general = false;
	c.rev = 0;
	c.pkt = pkt;
	c.v = vals;
	if (!every_step) {
		/* the routes read these without looking at c.cached; the
		 * ports and the transport type, which nearly every table
		 * routes by, without read_slot()'s dispatch */
		uint32_t m = prog->route_slots;
		if (m & SLOTS_OF(ACC_TRANS_ADDR)) {
			vals[ACC_TRANS_ADDR * 2] = (union val){ .w = { port_word(pkt, 0), 0, 0 } };
			vals[ACC_TRANS_ADDR * 2 + 1] = (union val){ .w = { port_word(pkt, 1), 0, 0 } };
		}
		if (m & SLOTS_OF(ACC_TRANS_TYPE))
			vals[ACC_TRANS_TYPE * 2] = (union val){ .w = { word_u8(pkt->proto), 0, 0 } };
		for (m &= ~(SLOTS_OF(ACC_TRANS_ADDR) | SLOTS_OF(ACC_TRANS_TYPE)); m; m &= m - 1)
			read_slot(&c, (unsigned)__builtin_ctz(m));
		c.cached = prog->route_slots | (prog->route_slots & SLOTS_OF(ACC_TRANS_ADDR) ?
						SLOTS_OF(ACC_TRANS_ADDR) : 0);
	}
	/* a table with a prefilter is loop-free (every_step false) */
	const struct prefilter *pf = prog->pre;
	enum pme_result res = PME_NOMATCH;
	if (first_decided)
		out->errors = 0;
	else
		res = classify_pass(prog, memo, &c, out, every_step);
	*reversed = false;
	if (res != PME_NOMATCH)
		return res;
	uint32_t first = out->errors;
	c.rev = 1;
	/* when the first pass was decided, pme_classify() found the second
	 * not to be decided by the prefilter */
	res = pf && !first_decided && prefilter_bit(pf, pkt, 1) ? prefilter_pass(pf, out) :
	      classify_pass(prog, memo, &c, out, every_step);
	out->errors |= first;
	*reversed = true;
	return res;
}

/* first_decided: the first pass is known to be a NoMatch without errors
 * (the prefilter or the memo decided it) */
static __attribute__((noinline)) enum pme_result
classify_walk(const struct pme_program *prog, struct pme_memo *memo,
	      const struct pkt_info *pkt, struct pme_match *out, bool *reversed,
	      bool first_decided)
{
	if (memo && memo->prog_id != prog->id)
		memo_retarget(memo, prog);
	if (!prog->memo.n)
		memo = NULL;
	return prog->loop_free ? classify(prog, memo, pkt, out, reversed, false, first_decided)
			       : classify(prog, NULL, pkt, out, reversed, true, first_decided);
}

/* Word 0 of slot s, out of line: pme_classify() keeps no frame for it. */
static __attribute__((noinline)) uint64_t slot_word(const struct pkt_info *pkt, unsigned s)
{
	union val v;
	if (!read_word(pkt, s, &v.w[0]))
		read_packet(s >> 1, s & 1, pkt, &v);
	return v.w[0];
}

/* Does the prefilter decide the pass (rev: the reversed one)?  A port,
 * the usual prefilter, without read_word()'s dispatch. */
static inline bool prefilter_bit(const struct prefilter *pf, const struct pkt_info *pkt,
				 unsigned rev)
{
	unsigned s = pf->slot[rev];
	if (pf->by_port)
		return prefilter_port(pf, pkt, pf->end[rev]);
	return prefilter_has(pf, s >> 1 == ACC_TRANS_ADDR ? port_word(pkt, s & 1) :
				 slot_word(pkt, s));
}

/* The pass's outcome (rev: the reversed one's) from the memo into out,
 * counted as a hit, or MEMO_MISS (counted by classify_pass()).  direct:
 * a direct tag's words (struct memo_tag), 0 for any other tag. */
static inline __attribute__((always_inline)) int
memo_find(const struct pme_program *prog, struct pme_memo *memo, const struct pkt_info *pkt,
	  unsigned rev, struct pme_match *out, const unsigned direct)
{
	struct memo_probe p;
	if (direct)
		memo_probe_direct(&prog->memo, memo, pkt, rev, &p, direct);
	else
		memo_probe_general(&prog->memo, memo, pkt, rev, &p);
	int hit = memo_get(&p, out, direct ? direct : MEMO_TAG_WORDS);
	if (hit != MEMO_MISS)
		memo_count(memo, true);
	return hit;
}

/* The reversed pass after a forward NoMatch without errors from the
 * memo: the prefilter's, the memo's or walked.  Out of line: most
 * packets need one pass (a request's forward, a response's reversed),
 * and their hit path then holds less. */
static inline __attribute__((always_inline)) enum pme_result
classify_memo_rev(const struct pme_program *prog, struct pme_memo *memo,
		  const struct pkt_info *pkt, struct pme_match *out, bool *reversed,
		  const unsigned direct)
{
	*reversed = true;
	const struct prefilter *pf = prog->port_pre;
	if (prefilter_port(pf, pkt, pf->end[1]))
		return prefilter_pass(pf, out);
	int hit = memo_find(prog, memo, pkt, 1, out, direct);
	if (hit == MEMO_MISS)
		return classify_walk(prog, memo, pkt, out, reversed, true);
	return (enum pme_result)hit;
}

/*
 * The passes pme_classify() has to run, found in the memo without
 * classify()'s frame and value cache: a request's forward pass, a
 * response's reversed one.  Whatever the memo does not have is left to
 * classify_walk().  first: the prefilter (by_port) decided that pass.
 * One copy a kind of tag (direct: struct memo_tag's), the direct ones
 * without a stack frame; rev: the same kind's classify_memo_rev().
 */
typedef enum pme_result memo_rev_fn(const struct pme_program *prog, struct pme_memo *memo,
				    const struct pkt_info *pkt, struct pme_match *out,
				    bool *reversed);

static inline __attribute__((always_inline)) enum pme_result
classify_memo_as(const struct pme_program *prog, struct pme_memo *memo,
		 const struct pkt_info *pkt, struct pme_match *out, bool *reversed,
		 bool first, const unsigned direct, memo_rev_fn *rev)
{
	int hit = memo_find(prog, memo, pkt, first, out, direct);
	if (hit == MEMO_MISS)
		return classify_walk(prog, memo, pkt, out, reversed, first);
	*reversed = first;
	if (hit != PME_NOMATCH || first)
		return (enum pme_result)hit;
	/* a NoMatch without errors forward: the reversed pass decides */
	return rev(prog, memo, pkt, out, reversed);
}

/* The copies: a short direct tag's, a direct tag's, any other's. */
static __attribute__((noinline)) enum pme_result
classify_memo_short_rev(const struct pme_program *prog, struct pme_memo *memo,
			const struct pkt_info *pkt, struct pme_match *out, bool *reversed)
{
	return classify_memo_rev(prog, memo, pkt, out, reversed, MEMO_SHORT);
}

static __attribute__((noinline)) enum pme_result
classify_memo_short(const struct pme_program *prog, struct pme_memo *memo,
		    const struct pkt_info *pkt, struct pme_match *out, bool *reversed,
		    bool first)
{
	return classify_memo_as(prog, memo, pkt, out, reversed, first, MEMO_SHORT,
				classify_memo_short_rev);
}

static __attribute__((noinline)) enum pme_result
classify_memo_direct_rev(const struct pme_program *prog, struct pme_memo *memo,
			 const struct pkt_info *pkt, struct pme_match *out, bool *reversed)
{
	return classify_memo_rev(prog, memo, pkt, out, reversed, MEMO_TAG_WORDS);
}

static __attribute__((noinline)) enum pme_result
classify_memo_direct(const struct pme_program *prog, struct pme_memo *memo,
		     const struct pkt_info *pkt, struct pme_match *out, bool *reversed,
		     bool first)
{
	return classify_memo_as(prog, memo, pkt, out, reversed, first, MEMO_TAG_WORDS,
				classify_memo_direct_rev);
}

static __attribute__((noinline)) enum pme_result
classify_memo_general_rev(const struct pme_program *prog, struct pme_memo *memo,
			  const struct pkt_info *pkt, struct pme_match *out, bool *reversed)
{
	return classify_memo_rev(prog, memo, pkt, out, reversed, 0);
}

static __attribute__((noinline)) enum pme_result
classify_memo_general(const struct pme_program *prog, struct pme_memo *memo,
		      const struct pkt_info *pkt, struct pme_match *out, bool *reversed,
		      bool first)
{
	return classify_memo_as(prog, memo, pkt, out, reversed, first, 0,
				classify_memo_general_rev);
}

/* pme_classify() for a table whose prefilter, if any, is not by_port. */
static __attribute__((noinline)) enum pme_result
classify_other(const struct pme_program *prog, struct pme_memo *memo,
	       const struct pkt_info *pkt, struct pme_match *out, bool *reversed)
{
	const struct prefilter *pf = prog->pre;
	bool first = pf && prefilter_bit(pf, pkt, 0);
	if (first && (pf->result != PME_NOMATCH || prefilter_bit(pf, pkt, 1))) {
		*reversed = pf->result == PME_NOMATCH;
		return prefilter_pass(pf, out);
	}
	return classify_walk(prog, memo, pkt, out, reversed, first);
}

/* Most packets' passes are decided by a prefilter on ports: those return
 * here, where nothing is called but in tail position, so that there is
 * no frame. */
enum pme_result pme_classify(const struct pme_program *prog, struct pme_memo *memo,
			     const struct pkt_info *pkt, struct pme_match *out,
			     bool *reversed)
{
	const struct prefilter *pf = prog->port_pre;
	if (!pf)
		return classify_other(prog, memo, pkt, out, reversed);
	/* both bits looked up at once */
	bool first = prefilter_port(pf, pkt, pf->end[0]);
	bool second = prefilter_port(pf, pkt, pf->end[1]);
	if (first && (pf->result != PME_NOMATCH || second)) {
		*reversed = pf->result == PME_NOMATCH;
		return prefilter_pass(pf, out);
	}
	if (memo && memo->ready_id == prog->id) {
		/* a direct tag has words (memo_direct()) */
		if (prog->memo.direct == MEMO_SHORT)
			return classify_memo_short(prog, memo, pkt, out, reversed, first);
		if (prog->memo.direct)
			return classify_memo_direct(prog, memo, pkt, out, reversed, first);
		if (prog->memo.n)
			return classify_memo_general(prog, memo, pkt, out, reversed, first);
	}
	return classify_walk(prog, memo, pkt, out, reversed, first);
}

void pme_stats_add_errors(struct pme_stats *s, uint32_t errors)
{
	/* errors are rare: visit only the set bits */
	for (uint32_t bits = errors; bits; bits &= bits - 1) {
		unsigned e = (unsigned)__builtin_ctz(bits);
		if (e < PME_ERR_MAX)
			s->errors[e]++;
	}
}

const char *pme_error_name(enum pme_error e)
{
	static const char *const names[PME_ERR_MAX] = {
		[PME_ERR_STEPS]    = "step limit (goto cycle)",
		[PME_ERR_STACK]    = "return stack overflow",
		[PME_ERR_RETURN]   = "Return without Gosub",
		[PME_ERR_QUEUE]    = "pattern queue overflow",
		[PME_ERR_KEY_FULL] = "flow key full",
		[PME_ERR_VARIABLE] = "meter variable unset or unusable",
	};
	return (unsigned)e < PME_ERR_MAX ? names[e] : "unknown";
}
