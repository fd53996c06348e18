/* test_mctl — the Meter MIB's control model (RFC 2720): rulesets
 * downloaded by SETs exactly as a manager sends them, tasks running them in
 * the engine, readers, the error status of every refused request, all or
 * nothing, and the tables' index order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "engine.h"
#include "mctl.h"
#include "srl.h"

#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	struct engine e;
	struct mctl *m;
};

static struct fx *fx_new(const struct mctl_config *mc)
{
	struct fx *x = calloc(1, sizeof *x);
	assert_non_null(x);
	struct engine_config c;
	struct diag d;
	diag_init(&d, "test");
	engine_config_default(&c);
	c.max_flows = 64;
	c.max_pending = 16;
	c.dist_slots = 4;
	assert_int_equal(engine_init(&x->e, &c, &d), 0);
	diag_free(&d);
	struct mctl_config def;
	mctl_config_default(&def);
	x->m = mctl_create(&x->e, mc ? mc : &def, T0);
	assert_non_null(x->m);
	return x;
}

static void fx_free(struct fx *x)
{
	mctl_free(x->m);
	engine_free(&x->e);
	free(x);
}

/* ---- varbinds ----------------------------------------------------------- */

static struct mctl_set vi(enum mctl_table t, unsigned col, uint32_t i0,
			  uint32_t i1, int64_t v)
{
	struct mctl_set s;
	memset(&s, 0, sizeof s);
	s.table = (uint8_t)t;
	s.col = col;
	s.idx[0] = i0;
	s.idx[1] = i1;
	s.v.type = MCTL_INTEGER;
	s.v.i = v;
	return s;
}

static struct mctl_set vs(enum mctl_table t, unsigned col, uint32_t i0,
			  uint32_t i1, const void *b, size_t len)
{
	struct mctl_set s = vi(t, col, i0, i1, 0);
	s.v.type = MCTL_OCTETS;
	s.v.len = len;
	memcpy(s.v.s, b, len);
	return s;
}

static struct mctl_set vt(enum mctl_table t, unsigned col, uint32_t i0, int64_t v)
{
	struct mctl_set s = vi(t, col, i0, 0, v);
	s.v.type = MCTL_TIMETICKS;
	return s;
}

#define RI(col, set, v)       vi(MCTL_T_RULEINFO, MIB_RULEINFO_##col, set, 0, v)
#define RIS(col, set, s)      vs(MCTL_T_RULEINFO, MIB_RULEINFO_##col, set, 0, s, strlen(s))
#define RU(col, set, r, v)    vi(MCTL_T_RULE, MIB_RULE_##col, set, r, v)
#define RUS(col, set, r, b)   vs(MCTL_T_RULE, MIB_RULE_##col, set, r, b, sizeof b)
#define MG(col, i, v)         vi(MCTL_T_MANAGER, MIB_MANAGER_##col, i, 0, v)
#define RD(col, i, v)         vi(MCTL_T_READER, MIB_READER_##col, i, 0, v)
#define SC(col, v)            vi(MCTL_T_SCALAR, MIB_##col, 0, 0, v)

/* One varbind, committed; its error status. */
static enum mctl_err set1(struct fx *x, struct mctl_set s)
{
	size_t failed = 99;
	enum mctl_err err = mctl_set(x->m, &s, 1, true, &failed);
	if (err)
		assert_int_equal(failed, 0);
	return err;
}

static int64_t get_i(struct fx *x, enum mctl_table t, unsigned col, uint32_t i0,
		     uint32_t i1)
{
	uint32_t idx[2] = { i0, i1 };
	struct mctl_value v;
	assert_int_equal(mctl_get(x->m, t, col, idx, &v), 0);
	assert_int_not_equal(v.type, MCTL_OCTETS);
	return v.i;
}

static bool exists(struct fx *x, enum mctl_table t, unsigned col, uint32_t i0)
{
	uint32_t idx[2] = { i0, 0 };
	struct mctl_value v;
	return mctl_get(x->m, t, col, idx, &v) == 0;
}

#define STATUS(x, set)  get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_STATUS, set, 0)
#define RECORDS(x, set) get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_FLOW_RECORDS, set, 0)

/*
 * The ruleset a manager downloads in these tests, "count by destination
 * address":
 *   1  Null            & 00 00       = 00 00       GotoAct 2
 *   2  DestPeerAddress & ff ff ff ff = 00 00 00 00 PushPktToAct 3
 *   3  Null            & 00 00       = 00 00       Count 0
 * Rule 1 always succeeds and leaves the test off for rule 2, which pushes
 * the packet's address; rule 3 counts.
 */
static const uint8_t zero2[2] = { 0, 0 };
static const uint8_t ones4[4] = { 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero4[4] = { 0, 0, 0, 0 };

#define N_DOWNLOAD 20
static size_t download_pdu(struct mctl_set *s, uint32_t set)
{
	size_t n = 0;
	s[n++] = RI(STATUS, set, MIB_RS_CREATE_AND_WAIT);
	s[n++] = RIS(OWNER, set, "test-manager");
	s[n++] = RIS(NAME, set, "BY-DEST");
	s[n++] = RI(SIZE, set, 3);
	s[n++] = RU(SELECTOR, set, 1, ATTR_NULL);
	s[n++] = RUS(MASK, set, 1, zero2);
	s[n++] = RUS(MATCHED_VALUE, set, 1, zero2);
	s[n++] = RU(ACTION, set, 1, RULE_GOTO_ACT);
	s[n++] = RU(PARAMETER, set, 1, 2);
	s[n++] = RU(SELECTOR, set, 2, ATTR_DEST_PEER_ADDRESS);
	s[n++] = RUS(MASK, set, 2, ones4);
	s[n++] = RUS(MATCHED_VALUE, set, 2, zero4);
	s[n++] = RU(ACTION, set, 2, RULE_PUSH_PKT_TO_ACT);
	s[n++] = RU(PARAMETER, set, 2, 3);
	s[n++] = RU(SELECTOR, set, 3, ATTR_NULL);
	s[n++] = RUS(MASK, set, 3, zero2);
	s[n++] = RUS(MATCHED_VALUE, set, 3, zero2);
	s[n++] = RU(ACTION, set, 3, RULE_COUNT);
	s[n++] = RU(PARAMETER, set, 3, 0);
	s[n++] = RI(STATUS, set, MIB_RS_ACTIVE);
	assert_int_equal(n, N_DOWNLOAD);
	return n;
}

static void download(struct fx *x, uint32_t set)
{
	struct mctl_set s[N_DOWNLOAD];
	size_t n = download_pdu(s, set);
	size_t failed = 99;
	assert_int_equal(mctl_set(x->m, s, n, true, &failed), MCTL_OK);
	assert_int_equal(STATUS(x, set), MIB_RS_ACTIVE);
}

/* Manager row i running `set` (createAndWait, owner, active, current). */
static void run_task(struct fx *x, uint32_t i, uint32_t set)
{
	struct mctl_set s[] = {
		MG(STATUS, i, MIB_RS_CREATE_AND_WAIT),
		vs(MCTL_T_MANAGER, MIB_MANAGER_OWNER, i, 0, "mgr", 3),
		MG(HIGH_WATER_MARK, i, 65),
		MG(STATUS, i, MIB_RS_ACTIVE),
		MG(CURRENT_RULESET, i, set),
	};
	size_t failed = 99;
	assert_int_equal(mctl_set(x->m, s, 5, true, &failed), MCTL_OK);
}

/* ---- packets ------------------------------------------------------------ */

/* UDP 192.0.2.10:40000 -> 198.51.100.<dst>:9, raw IPv4, 28 octets. */
static void feed(struct fx *x, uint8_t dst, uint64_t ts)
{
	uint8_t b[28] = {
		0x45, 0x00, 0x00, 28, 0x00, 0x01, 0x40, 0x00, 64, 17, 0x00, 0x00,
		192, 0, 2, 10,   198, 51, 100, dst,
		0x9c, 0x40, 0x00, 0x09, 0x00, 8, 0x00, 0x00,
	};
	struct pkt p = {
		.ts_ns = ts, .caplen = sizeof b, .wirelen = sizeof b,
		.data = b, .ifindex = 1, .link = PKT_LINK_RAW,
	};
	engine_packet(&x->e, &p);
}

/* Flows in the table filed under `set`. */
static size_t flows_of(struct fx *x, unsigned set)
{
	size_t n = 0;
	uint32_t after = 0;
	struct flow *f;
	while ((f = flow_next_active(x->e.flows, after, 0))) {
		after = flow_index(x->e.flows, f);
		n += flow_get_key(x->e.flows, f)->ruleset == set;
	}
	return n;
}

/* ---- tests -------------------------------------------------------------- */

static void defaults(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	struct mctl_value v;
	uint32_t idx[2] = { 1, 2 }, out[2];

	/* RuleSet 1: the built-in default, active, two rules */
	assert_int_equal(STATUS(x, 1), MIB_RS_ACTIVE);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_SIZE, 1, 0), 2);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_RULES_READY, 1, 0), MIB_TRUE);
	assert_int_equal(mctl_get(x->m, MCTL_T_RULEINFO, MIB_RULEINFO_NAME, idx, &v), 0);
	assert_int_equal(v.type, MCTL_OCTETS);
	assert_int_equal(v.len, 7);
	assert_memory_equal(v.s, "default", 7);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_SELECTOR, 1, 2), ATTR_SOURCE_PEER_TYPE);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_ACTION, 1, 2), RULE_COUNT_PKT);
	/* a 1-byte attribute's mask comes padded to 2 bytes on the right */
	assert_int_equal(mctl_get(x->m, MCTL_T_RULE, MIB_RULE_MASK, idx, &v), 0);
	assert_int_equal(v.len, 2);
	assert_int_equal(v.s[0], 0xff);
	assert_int_equal(v.s[1], 0x00);
	/* the index columns are not readable */
	assert_int_equal(mctl_get(x->m, MCTL_T_RULEINFO, MIB_RULEINFO_INDEX, idx, &v), -1);

	/* only RuleSet 1 exists, no task, no reader */
	assert_true(mctl_next_row(x->m, MCTL_T_RULEINFO, NULL, 0, out));
	assert_int_equal(out[0], 1);
	assert_false(mctl_next_row(x->m, MCTL_T_RULEINFO, out, 1, out));
	assert_false(mctl_next_row(x->m, MCTL_T_MANAGER, NULL, 0, out));
	assert_false(mctl_next_row(x->m, MCTL_T_READER, NULL, 0, out));
	assert_false(mctl_task_running(x->m));

	/* one interface; the scalars' RFC 2720 DEFVALs */
	assert_int_equal(get_i(x, MCTL_T_INTERFACE, MIB_INTERFACE_SAMPLE_RATE, 1, 0), 1);
	assert_int_equal(get_i(x, MCTL_T_INTERFACE, MIB_INTERFACE_LOST_PACKETS, 1, 0), 0);
	assert_false(exists(x, MCTL_T_INTERFACE, MIB_INTERFACE_SAMPLE_RATE, 2));
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_FLOOD_MARK, 0, 0), 95);
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_INACTIVITY_TIMEOUT, 0, 0), 600);
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_MAX_FLOWS, 0, 0), 64);
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_ACTIVE_FLOWS, 0, 0), 0);
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_FLOOD_MODE, 0, 0), MIB_FALSE);

	/* Counter32 wraps */
	mctl_set_interface_lost(x->m, 1, 0x100000005ull);
	assert_int_equal(get_i(x, MCTL_T_INTERFACE, MIB_INTERFACE_LOST_PACKETS, 1, 0), 5);
	fx_free(x);
}

/* The default set run by a manager: one flow per SourcePeerType. */
static void default_set_runs(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	run_task(x, 1, 1);
	assert_false(mctl_task_running(x->m));    /* only the default runs */
	feed(x, 1, T0 + SEC);
	feed(x, 2, T0 + SEC);
	assert_int_equal(RECORDS(x, 1), 1);
	struct flow *f = flow_next_active(x->e.flows, 0, 0);
	struct flow_key_item it;
	assert_true(flow_key_get(flow_get_key(x->e.flows, f), ATTR_SOURCE_PEER_TYPE, &it));
	assert_int_equal(it.value[0], 1);         /* ipv4 */
	assert_int_equal(f->to_pdus, 2);
	fx_free(x);
}

static void load_and_start(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	static const char src[] =
		"SET 9;\n"
		"if SourceTransType == 17 {\n"
		"  save DestPeerAddress /32;\n"
		"  count;\n}\nnomatch;\n";
	struct ruleset rs;
	struct diag d;
	diag_init(&d, "test");
	assert_int_equal(srl_compile("t.srl", src, strlen(src), &rs, &d), 0);
	uint32_t set = 0, mgr = 0;
	assert_int_equal(mctl_load_ruleset(x->m, &rs, "t.srl", "ntm-meter", &set, &d), 0);
	assert_int_equal(set, 9);
	/* a second load of SET 9 takes the first free index from 2 */
	uint32_t set2 = 0;
	assert_int_equal(mctl_load_ruleset(x->m, &rs, "again", NULL, &set2, &d), 0);
	assert_int_equal(set2, 2);
	assert_int_equal(mctl_start_task(x->m, set, 0, 65, "ntm-meter", &mgr), 0);
	assert_int_equal(mgr, 1);
	assert_true(mctl_task_running(x->m));
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_CURRENT_RULESET, 1, 0), 9);
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_STATUS, 1, 0), MIB_RS_ACTIVE);
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_HIGH_WATER_MARK, 1, 0), 65);
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_RUNNING_STANDBY, 1, 0), MIB_FALSE);
	/* a set given by -r reads back as its compiled rules */
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_SIZE, 9, 0), (int64_t)rs.n_rules);
	for (uint32_t r = 1; r <= rs.n_rules; r++) {
		assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_SELECTOR, 9, r), rs.rules[r - 1].attr);
		assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_ACTION, 9, r), rs.rules[r - 1].op);
		assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_PARAMETER, 9, r), rs.rules[r - 1].param);
	}
	/* the set runs: two servers, two flows filed under 9 */
	feed(x, 1, T0 + SEC);
	feed(x, 2, T0 + SEC);
	feed(x, 1, T0 + 2 * SEC);
	assert_int_equal(RECORDS(x, 9), 2);
	assert_int_equal(RECORDS(x, 2), 0);
	assert_int_equal(flows_of(x, 9), 2);
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_ACTIVE_FLOWS, 0, 0), 2);
	/* an invalid ruleset is refused with the reason */
	rs.rules[0].op = 0;
	assert_int_equal(mctl_load_ruleset(x->m, &rs, "bad", NULL, NULL, &d), -1);
	assert_true(d.errors > 0);
	ruleset_free(&rs);
	diag_free(&d);
	fx_free(x);
}

/* RFC 2720 §1.7: download by SETs, read back, run, count. */
static void download_and_run(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	mctl_now(x->m, T0 + 5 * SEC);
	download(x, 5);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_TIMESTAMP, 5, 0), 500);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_RULES_READY, 5, 0), MIB_TRUE);
	uint32_t idx[2] = { 5, 2 };
	struct mctl_value v;
	assert_int_equal(mctl_get(x->m, MCTL_T_RULE, MIB_RULE_MASK, idx, &v), 0);
	assert_int_equal(v.len, 4);
	assert_memory_equal(v.s, ones4, 4);
	assert_int_equal(mctl_get(x->m, MCTL_T_RULEINFO, MIB_RULEINFO_OWNER, idx, &v), 0);
	assert_int_equal(v.len, 12);
	assert_memory_equal(v.s, "test-manager", 12);

	/* available but not running until a manager names it */
	feed(x, 1, T0 + 6 * SEC);
	assert_int_equal(RECORDS(x, 5), 0);
	run_task(x, 3, 5);
	assert_true(mctl_task_running(x->m));
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_TIMESTAMP, 3, 0), 500);
	feed(x, 1, T0 + 7 * SEC);
	feed(x, 2, T0 + 7 * SEC);
	feed(x, 3, T0 + 7 * SEC);
	feed(x, 3, T0 + 8 * SEC);
	assert_int_equal(RECORDS(x, 5), 3);
	assert_int_equal(flows_of(x, 5), 3);

	/* Current 0 stops the task; the flows stay */
	assert_int_equal(set1(x, MG(CURRENT_RULESET, 3, 0)), MCTL_OK);
	assert_false(mctl_task_running(x->m));
	feed(x, 4, T0 + 9 * SEC);
	assert_int_equal(RECORDS(x, 5), 3);
	fx_free(x);
}

/* createAndGo with every column in the same request, status first. */
static void create_and_go(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	struct mctl_set s[N_DOWNLOAD];
	size_t n = download_pdu(s, 6), failed = 99;
	s[0] = RI(STATUS, 6, MIB_RS_CREATE_AND_GO);
	n--;                                    /* no separate active(1) */
	assert_int_equal(mctl_set(x->m, s, n, true, &failed), MCTL_OK);
	assert_int_equal(STATUS(x, 6), MIB_RS_ACTIVE);
	/* alone, createAndGo cannot make a usable set */
	assert_int_equal(set1(x, RI(STATUS, 7, MIB_RS_CREATE_AND_GO)), MCTL_INCONSISTENT_VALUE);
	assert_false(exists(x, MCTL_T_RULEINFO, MIB_RULEINFO_STATUS, 7));
	/* a manager row by createAndGo runs at once */
	struct mctl_set g[] = {
		MG(CURRENT_RULESET, 2, 6),          /* refused: the row is not there yet */
	};
	assert_int_equal(mctl_set(x->m, g, 1, true, &failed), MCTL_NO_CREATION);
	struct mctl_set g2[] = {
		MG(STATUS, 2, MIB_RS_CREATE_AND_GO),
		MG(CURRENT_RULESET, 2, 6),
	};
	assert_int_equal(mctl_set(x->m, g2, 2, true, &failed), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_STATUS, 2, 0), MIB_RS_ACTIVE);
	assert_true(mctl_task_running(x->m));
	feed(x, 9, T0 + SEC);
	assert_int_equal(RECORDS(x, 6), 1);
	fx_free(x);
}

static void ruleset_errors(void **state)
{
	(void)state;
	struct mctl_config mc;
	mctl_config_default(&mc);
	mc.max_rules = 100;
	struct fx *x = fx_new(&mc);
	char big[MCTL_OCTETS_MAX];
	memset(big, 'a', sizeof big);
	uint8_t mask21[21] = { 0 };

	download(x, 5);
	assert_int_equal(set1(x, RI(STATUS, 8, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);
	assert_int_equal(STATUS(x, 8), MIB_RS_NOT_READY);

	/* wrongType */
	assert_int_equal(set1(x, RIS(SIZE, 8, "3")), MCTL_WRONG_TYPE);
	assert_int_equal(set1(x, RI(OWNER, 8, 3)), MCTL_WRONG_TYPE);
	/* wrongLength: owner and name 0..127, masks 0..20 */
	assert_int_equal(set1(x, vs(MCTL_T_RULEINFO, MIB_RULEINFO_OWNER, 8, 0, big, 128)),
			 MCTL_WRONG_LENGTH);
	assert_int_equal(set1(x, vs(MCTL_T_RULEINFO, MIB_RULEINFO_NAME, 8, 0, big, 127)), MCTL_OK);
	/* wrongValue: Size out of range, notReady never written, RulesReady */
	assert_int_equal(set1(x, RI(SIZE, 8, -1)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RI(SIZE, 8, 65536)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RI(STATUS, 8, MIB_RS_NOT_READY)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RI(STATUS, 8, 7)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RI(RULES_READY, 8, 3)), MCTL_WRONG_VALUE);
	/* resourceUnavailable: more rules than the meter holds */
	assert_int_equal(set1(x, RI(SIZE, 8, 101)), MCTL_RESOURCE_UNAVAILABLE);
	/* inconsistentValue: activating a set with no rules, or invalid ones */
	assert_int_equal(set1(x, RI(STATUS, 8, MIB_RS_ACTIVE)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, RI(SIZE, 8, 2)), MCTL_OK);
	assert_int_equal(STATUS(x, 8), MIB_RS_NOT_IN_SERVICE);
	assert_int_equal(set1(x, RI(STATUS, 8, MIB_RS_ACTIVE)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, RI(RULES_READY, 8, MIB_TRUE)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(STATUS(x, 8), MIB_RS_NOT_IN_SERVICE);
	/* ... a goto past the end is caught by the load-time checks */
	assert_int_equal(set1(x, RU(ACTION, 8, 1, RULE_GOTO)), MCTL_OK);
	assert_int_equal(set1(x, RU(PARAMETER, 8, 1, 3)), MCTL_OK);
	assert_int_equal(set1(x, RU(ACTION, 8, 2, RULE_COUNT)), MCTL_OK);
	assert_int_equal(set1(x, RI(STATUS, 8, MIB_RS_ACTIVE)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, RU(PARAMETER, 8, 1, 2)), MCTL_OK);
	/* the deprecated RulesReady true(1) activates like Status active(1) */
	assert_int_equal(set1(x, RI(RULES_READY, 8, MIB_TRUE)), MCTL_OK);
	assert_int_equal(STATUS(x, 8), MIB_RS_ACTIVE);
	/* createAndWait on an existing row; active(1) on a missing one */
	assert_int_equal(set1(x, RI(STATUS, 8, MIB_RS_CREATE_AND_WAIT)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, RI(STATUS, 9, MIB_RS_ACTIVE)), MCTL_INCONSISTENT_VALUE);
	/* destroy of a missing row is no error (RFC 2579) */
	assert_int_equal(set1(x, RI(STATUS, 9, MIB_RS_DESTROY)), MCTL_OK);

	/* noCreation: a column of a missing row, a row past the table */
	assert_int_equal(set1(x, RI(SIZE, 9, 3)), MCTL_NO_CREATION);
	assert_int_equal(set1(x, RI(STATUS, 33, MIB_RS_CREATE_AND_WAIT)), MCTL_NO_CREATION);
	assert_int_equal(set1(x, RI(STATUS, 0, MIB_RS_CREATE_AND_WAIT)), MCTL_NO_CREATION);

	/* notWritable: read-only columns, an active set and its rules, RuleSet 1 */
	assert_int_equal(set1(x, RI(FLOW_RECORDS, 5, 0)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, vt(MCTL_T_RULEINFO, MIB_RULEINFO_TIMESTAMP, 5, 0)),
			 MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, RI(INDEX, 5, 5)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, RI(SIZE, 5, 4)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, RIS(NAME, 5, "X")), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, RU(ACTION, 5, 1, RULE_IGNORE)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, RI(STATUS, 1, MIB_RS_DESTROY)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, RI(STATUS, 1, MIB_RS_NOT_IN_SERVICE)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, RU(PARAMETER, 1, 1, 1)), MCTL_NOT_WRITABLE);
	assert_int_equal(STATUS(x, 1), MIB_RS_ACTIVE);

	/* rules: wrongValue for selector, action, parameter; wrongLength */
	assert_int_equal(set1(x, RI(STATUS, 8, MIB_RS_NOT_IN_SERVICE)), MCTL_OK);
	assert_int_equal(set1(x, RU(SELECTOR, 8, 1, 999)), MCTL_WRONG_VALUE);       /* unknown */
	assert_int_equal(set1(x, RU(SELECTOR, 8, 1, 60)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RU(SELECTOR, 8, 1, ATTR_MATCHING_STOD)), MCTL_OK);
	assert_int_equal(set1(x, RU(SELECTOR, 8, 1, ATTR_V1)), MCTL_OK);
	assert_int_equal(set1(x, RU(SELECTOR, 8, 1, ATTR_TO_PACKET_SIZE)), MCTL_OK);
	assert_int_equal(set1(x, RU(SELECTOR, 8, 1, ATTR_TO_OCTETS)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RU(SELECTOR, 8, 1, -1)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RU(ACTION, 8, 1, 0)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RU(ACTION, 8, 1, 18)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RU(PARAMETER, 8, 1, 65536)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RU(PARAMETER, 8, 1, -1)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RUS(MASK, 8, 1, mask21)), MCTL_WRONG_LENGTH);
	assert_int_equal(set1(x, RU(MASK, 8, 1, 0)), MCTL_WRONG_TYPE);
	/* noCreation past Size, rule 0, a missing set */
	assert_int_equal(set1(x, RU(ACTION, 8, 3, RULE_COUNT)), MCTL_NO_CREATION);
	assert_int_equal(set1(x, RU(ACTION, 8, 0, RULE_COUNT)), MCTL_NO_CREATION);
	assert_int_equal(set1(x, RU(ACTION, 9, 1, RULE_COUNT)), MCTL_NO_CREATION);
	assert_int_equal(set1(x, RU(INDEX, 8, 1, 1)), MCTL_NOT_WRITABLE);
	/* a 1-byte attribute's value in either width; a 20-byte mask */
	uint8_t one[1] = { 17 }, two[2] = { 17, 0 }, wide[20];
	memset(wide, 0xff, sizeof wide);
	assert_int_equal(set1(x, RU(SELECTOR, 8, 1, ATTR_SOURCE_TRANS_TYPE)), MCTL_OK);
	assert_int_equal(set1(x, RUS(MATCHED_VALUE, 8, 1, one)), MCTL_OK);
	uint32_t idx[2] = { 8, 1 };
	struct mctl_value v;
	assert_int_equal(mctl_get(x->m, MCTL_T_RULE, MIB_RULE_MATCHED_VALUE, idx, &v), 0);
	assert_int_equal(v.len, 2);
	assert_memory_equal(v.s, two, 2);
	assert_int_equal(set1(x, RUS(MATCHED_VALUE, 8, 1, two)), MCTL_OK);
	assert_int_equal(set1(x, RUS(MASK, 8, 2, wide)), MCTL_OK);
	idx[1] = 2;
	assert_int_equal(mctl_get(x->m, MCTL_T_RULE, MIB_RULE_MASK, idx, &v), 0);
	assert_int_equal(v.len, 20);
	fx_free(x);
}

static void manager_errors(void **state)
{
	(void)state;
	struct mctl_config mc;
	mctl_config_default(&mc);
	mc.max_managers = ENGINE_TASKS_MAX + 1;
	mc.max_rulesets = ENGINE_TASKS_MAX + 3;
	struct fx *x = fx_new(&mc);
	for (uint32_t s = 2; s <= ENGINE_TASKS_MAX + 2; s++)
		download(x, s);
	assert_int_equal(set1(x, RI(STATUS, ENGINE_TASKS_MAX + 3, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);

	assert_int_equal(set1(x, MG(STATUS, 1, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_STATUS, 1, 0), MIB_RS_NOT_IN_SERVICE);
	/* wrongType / wrongValue */
	assert_int_equal(set1(x, vs(MCTL_T_MANAGER, MIB_MANAGER_CURRENT_RULESET, 1, 0, "2", 1)),
			 MCTL_WRONG_TYPE);
	assert_int_equal(set1(x, MG(CURRENT_RULESET, 1, -1)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, MG(HIGH_WATER_MARK, 1, 101)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, MG(COUNTER_WRAP, 1, 2)), MCTL_WRONG_VALUE);  /* scale */
	assert_int_equal(set1(x, MG(COUNTER_WRAP, 1, 1)), MCTL_OK);
	assert_int_equal(set1(x, MG(RUNNING_STANDBY, 1, 0)), MCTL_WRONG_VALUE);
	/* inconsistentValue: a set that is not active, or not there */
	assert_int_equal(set1(x, MG(CURRENT_RULESET, 1, ENGINE_TASKS_MAX + 3)),
			 MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, MG(STANDBY_RULESET, 1, 7777)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, MG(RUNNING_STANDBY, 1, MIB_TRUE)), MCTL_INCONSISTENT_VALUE);
	/* read-only */
	assert_int_equal(set1(x, vt(MCTL_T_MANAGER, MIB_MANAGER_TIMESTAMP, 1, 0)),
			 MCTL_NOT_WRITABLE);
	/* noCreation */
	assert_int_equal(set1(x, MG(CURRENT_RULESET, 2, 2)), MCTL_NO_CREATION);
	assert_int_equal(set1(x, MG(STATUS, ENGINE_TASKS_MAX + 2, MIB_RS_CREATE_AND_WAIT)),
			 MCTL_NO_CREATION);

	/* fill every engine slot; the next task is refused */
	for (uint32_t i = 1; i <= ENGINE_TASKS_MAX; i++) {
		if (i > 1)
			assert_int_equal(set1(x, MG(STATUS, i, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);
		assert_int_equal(set1(x, MG(CURRENT_RULESET, i, i + 1)), MCTL_OK);
		assert_int_equal(set1(x, MG(STATUS, i, MIB_RS_ACTIVE)), MCTL_OK);
	}
	uint32_t last = ENGINE_TASKS_MAX + 1;
	assert_int_equal(set1(x, MG(STATUS, last, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);
	assert_int_equal(set1(x, MG(CURRENT_RULESET, last, last + 1)), MCTL_OK);
	assert_int_equal(set1(x, MG(STATUS, last, MIB_RS_ACTIVE)), MCTL_RESOURCE_UNAVAILABLE);
	assert_int_equal(set1(x, MG(CURRENT_RULESET, last, 0)), MCTL_OK);
	assert_int_equal(set1(x, MG(STATUS, last, MIB_RS_ACTIVE)), MCTL_OK);
	assert_int_equal(set1(x, MG(CURRENT_RULESET, last, last + 1)), MCTL_RESOURCE_UNAVAILABLE);

	/* a set runs in one task only */
	assert_int_equal(set1(x, MG(STANDBY_RULESET, last, 2)), MCTL_INCONSISTENT_VALUE);
	/* an active row: Owner frozen, HighWaterMark not */
	assert_int_equal(set1(x, vs(MCTL_T_MANAGER, MIB_MANAGER_OWNER, 1, 0, "x", 1)),
			 MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, MG(HIGH_WATER_MARK, 1, 80)), MCTL_OK);
	assert_int_equal(x->e.task[0].high_water, 80);

	/* a referenced set cannot leave active(1) nor be destroyed */
	assert_int_equal(set1(x, RI(STATUS, 2, MIB_RS_DESTROY)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, RI(STATUS, 2, MIB_RS_NOT_IN_SERVICE)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, RI(RULES_READY, 2, MIB_FALSE)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(STATUS(x, 2), MIB_RS_ACTIVE);
	/* even by a row that is not active */
	assert_int_equal(set1(x, MG(STATUS, 1, MIB_RS_NOT_IN_SERVICE)), MCTL_OK);
	assert_false(engine_task_active(&x->e, 0));
	assert_int_equal(set1(x, RI(STATUS, 2, MIB_RS_DESTROY)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, MG(STATUS, 1, MIB_RS_DESTROY)), MCTL_OK);
	assert_int_equal(set1(x, RI(RULES_READY, 2, MIB_FALSE)), MCTL_OK);
	assert_int_equal(STATUS(x, 2), MIB_RS_NOT_IN_SERVICE);
	assert_int_equal(set1(x, RI(STATUS, 2, MIB_RS_DESTROY)), MCTL_OK);
	/* the freed slot serves the waiting row */
	assert_int_equal(set1(x, MG(CURRENT_RULESET, last, last + 1)), MCTL_OK);
	assert_true(engine_task_active(&x->e, 0));
	fx_free(x);
}

static void reader_and_scalar_errors(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	download(x, 5);
	/* reader: RuleSet required to activate */
	assert_int_equal(set1(x, RD(STATUS, 1, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_STATUS, 1, 0), MIB_RS_NOT_READY);
	assert_int_equal(set1(x, RD(STATUS, 1, MIB_RS_ACTIVE)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, RD(RULESET, 1, 0)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RD(RULESET, 1, 5000)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, RD(TIMEOUT, 1, -1)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, RD(LAST_TIME, 1, 0)), MCTL_WRONG_TYPE);  /* TimeTicks */
	assert_int_equal(set1(x, vt(MCTL_T_READER, MIB_READER_PREVIOUS_TIME, 1, 0)),
			 MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, vt(MCTL_T_READER, MIB_READER_LAST_TIME, 2, 0)),
			 MCTL_NO_CREATION);
	assert_int_equal(set1(x, RD(STATUS, 65, MIB_RS_CREATE_AND_WAIT)), MCTL_NO_CREATION);
	assert_int_equal(set1(x, RD(RULESET, 1, 5)), MCTL_OK);
	assert_int_equal(set1(x, RD(STATUS, 1, MIB_RS_ACTIVE)), MCTL_OK);
	/* once active only LastTime and Timeout change */
	assert_int_equal(set1(x, RD(RULESET, 1, 1)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, vs(MCTL_T_READER, MIB_READER_OWNER, 1, 0, "r", 1)),
			 MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, RD(TIMEOUT, 1, 30)), MCTL_OK);
	assert_int_equal(set1(x, vt(MCTL_T_READER, MIB_READER_LAST_TIME, 1, 0)), MCTL_OK);

	/* interfaces: SampleRate 1 or 0 only */
	assert_int_equal(set1(x, vi(MCTL_T_INTERFACE, MIB_INTERFACE_SAMPLE_RATE, 1, 0, 2)),
			 MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, vi(MCTL_T_INTERFACE, MIB_INTERFACE_SAMPLE_RATE, 2, 0, 1)),
			 MCTL_NO_CREATION);
	assert_int_equal(set1(x, vi(MCTL_T_INTERFACE, MIB_INTERFACE_LOST_PACKETS, 1, 0, 1)),
			 MCTL_NOT_WRITABLE);

	/* scalars */
	assert_int_equal(set1(x, SC(FLOOD_MARK, 101)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, SC(INACTIVITY_TIMEOUT, 0)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, SC(ACTIVE_FLOWS, 1)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, SC(MAX_FLOWS, 1)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, SC(FLOOD_MODE, MIB_TRUE)), MCTL_INCONSISTENT_VALUE);
	assert_int_equal(set1(x, SC(FLOOD_MODE, 0)), MCTL_WRONG_VALUE);
	assert_int_equal(set1(x, vs(MCTL_T_SCALAR, MIB_FLOOD_MARK, 0, 0, "9", 1)),
			 MCTL_WRONG_TYPE);
	assert_int_equal(set1(x, SC(FLOOD_MARK, 80)), MCTL_OK);
	assert_int_equal(set1(x, SC(INACTIVITY_TIMEOUT, 30)), MCTL_OK);
	assert_int_equal(x->e.cfg.flood_mark, 80);
	assert_int_equal(x->e.cfg.inactivity_ns, 30 * SEC);
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_INACTIVITY_TIMEOUT, 0, 0), 30);
	x->e.flood_mode = true;
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_FLOOD_MODE, 0, 0), MIB_TRUE);
	assert_int_equal(set1(x, SC(FLOOD_MODE, MIB_FALSE)), MCTL_OK);
	assert_false(x->e.flood_mode);
	/* unknown tables and columns */
	assert_int_equal(set1(x, vi(99, 1, 1, 0, 1)), MCTL_NOT_WRITABLE);
	assert_int_equal(set1(x, SC(FLOOD_MODE + 1, 1)), MCTL_NOT_WRITABLE);
	fx_free(x);
}

/* A request whose third varbind fails leaves no trace of the first two;
 * commit=false checks without changing anything. */
static void all_or_nothing(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	size_t failed = 99;
	struct mctl_set a[] = {
		RI(STATUS, 6, MIB_RS_CREATE_AND_WAIT),
		RI(SIZE, 6, 2),
		RU(ACTION, 6, 3, RULE_COUNT),          /* past Size: noCreation */
		RIS(NAME, 6, "never"),
	};
	assert_int_equal(mctl_set(x->m, a, 4, true, &failed), MCTL_NO_CREATION);
	assert_int_equal(failed, 2);
	assert_false(exists(x, MCTL_T_RULEINFO, MIB_RULEINFO_STATUS, 6));
	uint32_t out[2];
	uint32_t one = 1;
	assert_false(mctl_next_row(x->m, MCTL_T_RULEINFO, &one, 1, out));

	/* an existing set: new Size and rules, then a failure, keep the old */
	download(x, 5);
	assert_int_equal(set1(x, RI(STATUS, 5, MIB_RS_NOT_IN_SERVICE)), MCTL_OK);
	mctl_now(x->m, T0 + 3 * SEC);
	struct mctl_set b[] = {
		RU(ACTION, 5, 3, RULE_IGNORE),
		RI(SIZE, 5, 10),
		RU(ACTION, 5, 9, RULE_COUNT),
		RU(PARAMETER, 5, 2, 70000),            /* wrongValue */
	};
	assert_int_equal(mctl_set(x->m, b, 4, true, &failed), MCTL_WRONG_VALUE);
	assert_int_equal(failed, 3);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_SIZE, 5, 0), 3);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_ACTION, 5, 3), RULE_COUNT);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_TIMESTAMP, 5, 0), 0);
	/* the same without the bad varbind, checked only */
	assert_int_equal(mctl_set(x->m, b, 3, false, &failed), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_SIZE, 5, 0), 3);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_ACTION, 5, 3), RULE_COUNT);
	/* ... then committed: the old rules are kept under the new Size */
	assert_int_equal(mctl_set(x->m, b, 3, true, &failed), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_SIZE, 5, 0), 10);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_ACTION, 5, 3), RULE_IGNORE);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_SELECTOR, 5, 2), ATTR_DEST_PEER_ADDRESS);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_ACTION, 5, 9), RULE_COUNT);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_ACTION, 5, 10), 0);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_TIMESTAMP, 5, 0), 300);

	/* a whole download checked only: nothing is created */
	struct mctl_set d[N_DOWNLOAD];
	size_t n = download_pdu(d, 7);
	assert_int_equal(mctl_set(x->m, d, n, false, &failed), MCTL_OK);
	assert_false(exists(x, MCTL_T_RULEINFO, MIB_RULEINFO_STATUS, 7));
	/* a task request that fails late does not start the task */
	download(x, 4);
	struct mctl_set g[] = {
		MG(STATUS, 1, MIB_RS_CREATE_AND_WAIT),
		MG(CURRENT_RULESET, 1, 4),
		MG(STATUS, 1, MIB_RS_ACTIVE),
		MG(HIGH_WATER_MARK, 1, 200),
	};
	assert_int_equal(mctl_set(x->m, g, 4, true, &failed), MCTL_WRONG_VALUE);
	assert_int_equal(failed, 3);
	assert_false(mctl_task_running(x->m));
	assert_false(exists(x, MCTL_T_MANAGER, MIB_MANAGER_STATUS, 1));
	assert_int_equal(mctl_set(x->m, g, 3, false, &failed), MCTL_OK);
	assert_false(mctl_task_running(x->m));
	assert_int_equal(mctl_set(x->m, g, 3, true, &failed), MCTL_OK);
	assert_true(mctl_task_running(x->m));
	/* destroy and re-create in one failing request: the set survives */
	struct mctl_set h[] = {
		RI(STATUS, 7, MIB_RS_CREATE_AND_WAIT),
		RI(STATUS, 5, MIB_RS_DESTROY),
		RI(STATUS, 5, MIB_RS_CREATE_AND_WAIT),
		RI(SIZE, 5, 1),
		RI(SIZE, 5, 70000),
	};
	assert_int_equal(mctl_set(x->m, h, 5, true, &failed), MCTL_WRONG_VALUE);
	assert_int_equal(failed, 4);
	assert_int_equal(get_i(x, MCTL_T_RULEINFO, MIB_RULEINFO_SIZE, 5, 0), 10);
	assert_int_equal(get_i(x, MCTL_T_RULE, MIB_RULE_ACTION, 5, 9), RULE_COUNT);
	assert_false(exists(x, MCTL_T_RULEINFO, MIB_RULEINFO_STATUS, 7));
	fx_free(x);
}

/* RFC 2720 flowReaderLastTime: the meter stamps its own uptime. */
static void reader_times(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	download(x, 5);
	mctl_now(x->m, T0 + 2 * SEC);
	struct mctl_set r[] = {
		RD(STATUS, 3, MIB_RS_CREATE_AND_WAIT),
		vs(MCTL_T_READER, MIB_READER_OWNER, 3, 0, "ntm-reader", 10),
		RD(RULESET, 3, 5),
		RD(TIMEOUT, 3, 10),
		RD(STATUS, 3, MIB_RS_ACTIVE),
	};
	size_t failed;
	assert_int_equal(mctl_set(x->m, r, 5, true, &failed), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_LAST_TIME, 3, 0), 200);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_PREVIOUS_TIME, 3, 0), 0);
	mctl_now(x->m, T0 + 12340000000ull);      /* 12.34 s */
	assert_int_equal(mctl_uptime_cs(x->m), 1234);
	assert_int_equal(set1(x, vt(MCTL_T_READER, MIB_READER_LAST_TIME, 3, 999999)), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_LAST_TIME, 3, 0), 1234);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_PREVIOUS_TIME, 3, 0), 200);
	mctl_now(x->m, T0 + 20 * SEC);
	mctl_now(x->m, T0 + 15 * SEC);            /* the clock never goes back */
	assert_int_equal(set1(x, vt(MCTL_T_READER, MIB_READER_LAST_TIME, 3, 0)), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_LAST_TIME, 3, 0), 2000);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_PREVIOUS_TIME, 3, 0), 1234);
	/* a failing request does not move the times */
	struct mctl_set bad[] = {
		vt(MCTL_T_READER, MIB_READER_LAST_TIME, 3, 0),
		RD(TIMEOUT, 3, -5),
	};
	mctl_now(x->m, T0 + 25 * SEC);
	assert_int_equal(mctl_set(x->m, bad, 2, true, &failed), MCTL_WRONG_VALUE);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_LAST_TIME, 3, 0), 2000);

	/* timeout 10 s after LastTime (20 s): alive at 29.99 s, gone at 30 s */
	mctl_now(x->m, T0 + 29990000000ull);
	mctl_tick(x->m);
	assert_true(exists(x, MCTL_T_READER, MIB_READER_STATUS, 3));
	mctl_now(x->m, T0 + 30 * SEC);
	mctl_tick(x->m);
	assert_false(exists(x, MCTL_T_READER, MIB_READER_STATUS, 3));
	/* Timeout 0: never */
	assert_int_equal(set1(x, RD(STATUS, 4, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);
	mctl_now(x->m, T0 + 100000 * SEC);
	mctl_tick(x->m);
	assert_true(exists(x, MCTL_T_READER, MIB_READER_STATUS, 4));
	assert_false(exists(x, MCTL_T_READER, MIB_READER_RULESET, 4));   /* not given */
	fx_free(x);
}

/* Idle flows are recovered once every reader of their set has collected
 * them (RFC 2722 §4.5); a set with no reader loses them when idle. */
static void gc_follows_readers(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	download(x, 5);
	download(x, 6);
	run_task(x, 1, 5);
	run_task(x, 2, 6);
	assert_int_equal(set1(x, SC(INACTIVITY_TIMEOUT, 2)), MCTL_OK);
	struct mctl_set r[] = {
		RD(STATUS, 1, MIB_RS_CREATE_AND_GO),
		RD(RULESET, 1, 5),
	};
	size_t failed;
	assert_int_equal(mctl_set(x->m, r, 2, true, &failed), MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_READER, MIB_READER_STATUS, 1, 0), MIB_RS_ACTIVE);
	feed(x, 1, T0 + SEC);
	feed(x, 2, T0 + SEC);
	assert_int_equal(RECORDS(x, 5), 2);
	assert_int_equal(RECORDS(x, 6), 2);
	/* idle at 10 s: set 6 has no reader, its flows go; set 5's wait */
	mctl_now(x->m, T0 + 10 * SEC);
	mctl_tick(x->m);
	assert_int_equal(RECORDS(x, 6), 0);
	assert_int_equal(RECORDS(x, 5), 2);
	/* one collection is not enough (PreviousTime is still 0) */
	assert_int_equal(set1(x, vt(MCTL_T_READER, MIB_READER_LAST_TIME, 1, 0)), MCTL_OK);
	mctl_now(x->m, T0 + 11 * SEC);
	mctl_tick(x->m);
	assert_int_equal(RECORDS(x, 5), 2);
	/* the second collection started after their last packet: recovered */
	assert_int_equal(set1(x, vt(MCTL_T_READER, MIB_READER_LAST_TIME, 1, 0)), MCTL_OK);
	mctl_tick(x->m);
	assert_int_equal(RECORDS(x, 5), 0);
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_ACTIVE_FLOWS, 0, 0), 0);
	fx_free(x);
}

/* destroy(6) deletes the set and every flow it produced. */
static void destroy_removes_flows(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	download(x, 5);
	download(x, 6);
	run_task(x, 1, 5);
	run_task(x, 2, 6);
	feed(x, 1, T0 + SEC);
	feed(x, 2, T0 + SEC);
	assert_int_equal(flows_of(x, 5), 2);
	assert_int_equal(flows_of(x, 6), 2);
	/* stop the task, then destroy: the flows go with the set */
	struct mctl_set s[] = {
		MG(CURRENT_RULESET, 1, 0),
		RI(STATUS, 5, MIB_RS_DESTROY),
	};
	size_t failed;
	assert_int_equal(mctl_set(x->m, s, 2, true, &failed), MCTL_OK);
	assert_false(exists(x, MCTL_T_RULEINFO, MIB_RULEINFO_STATUS, 5));
	assert_int_equal(flows_of(x, 5), 0);
	assert_int_equal(flows_of(x, 6), 2);
	assert_int_equal(get_i(x, MCTL_T_SCALAR, MIB_ACTIVE_FLOWS, 0, 0), 2);
	/* checked only, a destroy removes nothing */
	struct mctl_set t[] = {
		MG(STATUS, 2, MIB_RS_DESTROY),
		RI(STATUS, 6, MIB_RS_DESTROY),
	};
	assert_int_equal(mctl_set(x->m, t, 2, false, &failed), MCTL_OK);
	assert_int_equal(flows_of(x, 6), 2);
	assert_true(mctl_task_running(x->m));
	assert_int_equal(mctl_set(x->m, t, 2, true, &failed), MCTL_OK);
	assert_int_equal(flows_of(x, 6), 0);
	assert_false(mctl_task_running(x->m));
	/* the index is free for a new download */
	download(x, 5);
	assert_int_equal(RECORDS(x, 5), 0);
	fx_free(x);
}

/* Current switches the task at once; standby and RunningStandby. */
static void task_switch(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	download(x, 5);
	download(x, 6);
	run_task(x, 1, 5);
	feed(x, 1, T0 + SEC);
	assert_int_equal(set1(x, MG(CURRENT_RULESET, 1, 6)), MCTL_OK);
	feed(x, 2, T0 + SEC);
	assert_int_equal(flows_of(x, 5), 1);
	assert_int_equal(flows_of(x, 6), 1);
	/* set 5 is free again: standby of the task */
	assert_int_equal(set1(x, MG(STANDBY_RULESET, 1, 5)), MCTL_OK);
	assert_non_null(x->e.task[0].standby);
	x->e.task[0].running_standby = true;       /* as the engine would */
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_RUNNING_STANDBY, 1, 0), MIB_TRUE);
	assert_int_equal(set1(x, MG(RUNNING_STANDBY, 1, MIB_FALSE)), MCTL_OK);
	assert_false(x->e.task[0].running_standby);
	assert_int_equal(get_i(x, MCTL_T_MANAGER, MIB_MANAGER_RUNNING_STANDBY, 1, 0), MIB_FALSE);
	fx_free(x);
}

/* flowInterfaceSampleRate 0 ignores the interface. */
static void interface_ignored(void **state)
{
	(void)state;
	struct mctl_config mc;
	mctl_config_default(&mc);
	mc.n_interfaces = 2;
	struct fx *x = fx_new(&mc);
	download(x, 5);
	run_task(x, 1, 5);
	assert_int_equal(set1(x, vi(MCTL_T_INTERFACE, MIB_INTERFACE_SAMPLE_RATE, 1, 0, 0)),
			 MCTL_OK);
	assert_int_equal(get_i(x, MCTL_T_INTERFACE, MIB_INTERFACE_SAMPLE_RATE, 1, 0), 0);
	feed(x, 1, T0 + SEC);
	assert_int_equal(RECORDS(x, 5), 0);
	assert_int_equal(x->e.st.ignored_if, 1);
	assert_int_equal(set1(x, vi(MCTL_T_INTERFACE, MIB_INTERFACE_SAMPLE_RATE, 1, 0, 1)),
			 MCTL_OK);
	feed(x, 1, T0 + SEC);
	assert_int_equal(RECORDS(x, 5), 1);
	uint32_t out[2];
	uint32_t a = 1;
	assert_true(mctl_next_row(x->m, MCTL_T_INTERFACE, &a, 1, out));
	assert_int_equal(out[0], 2);
	assert_false(mctl_next_row(x->m, MCTL_T_INTERFACE, out, 1, out));
	fx_free(x);
}

static void next_row_order(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	download(x, 5);
	assert_int_equal(set1(x, RI(STATUS, 3, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);  /* no rules */
	uint32_t out[2], a[2];

	/* flowRuleSetInfoTable: 1, 3, 5 */
	assert_true(mctl_next_row(x->m, MCTL_T_RULEINFO, NULL, 0, out));
	assert_int_equal(out[0], 1);
	assert_true(mctl_next_row(x->m, MCTL_T_RULEINFO, out, 1, out));
	assert_int_equal(out[0], 3);
	assert_true(mctl_next_row(x->m, MCTL_T_RULEINFO, out, 1, out));
	assert_int_equal(out[0], 5);
	assert_false(mctl_next_row(x->m, MCTL_T_RULEINFO, out, 1, out));
	a[0] = UINT32_MAX;
	assert_false(mctl_next_row(x->m, MCTL_T_RULEINFO, a, 1, out));
	assert_true(mctl_next_set(x->m, 1, out));
	assert_int_equal(out[0], 3);

	/* flowRuleTable: (1,1) (1,2) (5,1) (5,2) (5,3); set 3 has none */
	assert_true(mctl_next_row(x->m, MCTL_T_RULE, NULL, 0, out));
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 1);
	a[0] = 1; a[1] = 1;
	assert_true(mctl_next_row(x->m, MCTL_T_RULE, a, 2, out));
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	a[1] = 2;
	assert_true(mctl_next_row(x->m, MCTL_T_RULE, a, 2, out));
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 1);
	/* partial indexes: (1) is before (1,1); (2) before (5,1) */
	a[0] = 1;
	assert_true(mctl_next_row(x->m, MCTL_T_RULE, a, 1, out));
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 1);
	a[0] = 2;
	assert_true(mctl_next_row(x->m, MCTL_T_RULE, a, 1, out));
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 1);
	a[0] = 0;
	assert_true(mctl_next_row(x->m, MCTL_T_RULE, a, 1, out));
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 1);
	a[0] = 5; a[1] = 0;
	assert_true(mctl_next_row(x->m, MCTL_T_RULE, a, 2, out));
	assert_int_equal(out[1], 1);
	a[1] = 2;
	assert_true(mctl_next_row(x->m, MCTL_T_RULE, a, 2, out));
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 3);
	a[1] = 3;
	assert_false(mctl_next_row(x->m, MCTL_T_RULE, a, 2, out));
	a[0] = 6;
	assert_false(mctl_next_row(x->m, MCTL_T_RULE, a, 1, out));
	a[0] = 5; a[1] = UINT32_MAX;
	assert_false(mctl_next_row(x->m, MCTL_T_RULE, a, 2, out));

	/* managers and readers in index order */
	run_task(x, 4, 5);
	assert_int_equal(set1(x, MG(STATUS, 2, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);
	assert_true(mctl_next_row(x->m, MCTL_T_MANAGER, NULL, 0, out));
	assert_int_equal(out[0], 2);
	assert_true(mctl_next_row(x->m, MCTL_T_MANAGER, out, 1, out));
	assert_int_equal(out[0], 4);
	assert_false(mctl_next_row(x->m, MCTL_T_MANAGER, out, 1, out));
	assert_int_equal(set1(x, RD(STATUS, 7, MIB_RS_CREATE_AND_WAIT)), MCTL_OK);
	a[0] = 6;
	assert_true(mctl_next_row(x->m, MCTL_T_READER, a, 1, out));
	assert_int_equal(out[0], 7);
	assert_false(mctl_next_row(x->m, MCTL_T_SCALAR, NULL, 0, out));
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(default_set_runs),
		cmocka_unit_test(load_and_start),
		cmocka_unit_test(download_and_run),
		cmocka_unit_test(create_and_go),
		cmocka_unit_test(ruleset_errors),
		cmocka_unit_test(manager_errors),
		cmocka_unit_test(reader_and_scalar_errors),
		cmocka_unit_test(all_or_nothing),
		cmocka_unit_test(reader_times),
		cmocka_unit_test(gc_follows_readers),
		cmocka_unit_test(destroy_removes_flows),
		cmocka_unit_test(task_switch),
		cmocka_unit_test(interface_ignored),
		cmocka_unit_test(next_row_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
