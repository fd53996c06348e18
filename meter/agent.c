/*
 * agent.c — the Meter MIB (RFC 2720) and NTM-MIB over net-snmp's agent
 * library (agent.h).
 *
 * Three registrations, each one handler walking its own ordered list of
 * "branches" (a table entry or a scalar): flowMIB (1.3.6.1.2.1.40), the
 * NTM subtree, and — stand-alone only — the system group, which lives in
 * libnetsnmpmibs and so is not served by the agent library alone.
 *
 * Every answer is computed from the live state at request time: control
 * objects through mctl, flows straight from the engine's table (the meter
 * is single-threaded, so nothing moves while a request is handled).
 *
 * Configuration never comes from the system: net-snmp's configuration path
 * points at nothing, the communities become rocommunity/rwcommunity lines
 * fed to the parser, and the optional file (createUser/rouser/rwuser...)
 * is read as an extra config file.  VACM's tokens and access check are in
 * libnetsnmpagent (init_vacm_conf, run by init_agent), so access control
 * works without libnetsnmpmibs.
 *
 * Persistent state (engineBoots, engineID) goes to the state directory:
 * agent_options.state_dir, else /var/lib/ntm when writable, else a
 * private temporary directory, removed as soon as net-snmp has started
 * (nothing is saved there at the end: engineBoots stays 1).
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "agent.h"
#include "attr.h"
#include "flowattr.h"
#include "mib.h"
#include "pkg.h"
#include "version.h"

/* The AgentX sub-agent's session to the master (net-snmp's subagent.c;
 * not in its public headers): NULL until the master accepted us. */
extern netsnmp_session *main_session;

#define AGENT_APP          "ntm-meter"
#define AGENT_STATE_DIR    "/var/lib/ntm"
#define AGENT_DESCR        "ntm " NTM_VERSION " traffic flow meter (RTFM, RFC 2720)"
#define AGENT_PING_S       5          /* AgentX: re-connect to a lost master */
#define AGENT_LINE_MAX     512        /* one generated config line */
#define AGENT_ERR_MAX      240
#define AGENT_MSG_MAX      65000      /* largest response (UDP: < 65507) */
#define AGENT_PKG_MAX      64000      /* largest package: one per response */
#define AGENT_TAIL_MAX     (4 + 2 * PKG_ATTRS_MAX + 4)

/* flowDataTable: the readable columns are 3..41 without 26. */
#define DATA_COL_FIRST     3
#define DATA_COL_LAST      41
#define DATA_COL_STATUS    3
#define DATA_COL_RULESET   26
#define DATA_STATUS_INACTIVE 1
#define DATA_STATUS_CURRENT  2

/* system group (SNMPv2-MIB) scalars served when stand-alone. */
enum { AGENT_SYS_DESCR = 1, AGENT_SYS_OBJECT_ID = 2, AGENT_SYS_UPTIME = 3, AGENT_SYS_NAME = 5 };

/* ---------- answers ---------- */

/* One instance found: the OID part below its branch and its value. */
struct answer {
	oid tail[AGENT_TAIL_MAX];
	size_t tlen;
	u_char type;
	long i;                        /* INTEGER, TimeTicks, Counter32 */
	struct counter64 c64;
	const void *s;                 /* OCTET STRING, OBJECT IDENTIFIER */
	size_t slen;
	int err;                       /* SNMP error to report instead */
	struct mctl_value mv;          /* storage for control strings */
	uint8_t bytes[DIF_VALUE_MAX];  /* storage for flow strings */
};

static void ans_int(struct answer *a, u_char type, long v)
{
	a->type = type;
	a->i = v;
}

static void ans_u64(struct answer *a, uint64_t v)
{
	a->type = ASN_COUNTER64;
	a->c64.high = (u_long)(v >> 32);
	a->c64.low = (u_long)(v & 0xffffffffu);
}

static void ans_str(struct answer *a, const void *s, size_t len)
{
	a->type = ASN_OCTET_STR;
	a->s = s;
	a->slen = len;
}

/* ---------- state (net-snmp is global: one agent per process) ---------- */

enum branch_kind {
	B_TABLE,        /* an mctl table: p1 = enum mctl_table */
	B_SCALAR,       /* an mctl scalar: p1 = column */
	B_DATA,         /* flowDataTable */
	B_PACKAGE,      /* flowDataPackageTable (p1 = 0) / ntmPackageTable (1) */
	B_NTM,          /* an NTM-MIB scalar: p1 = enum mib_ntm_meter */
	B_SYS           /* a system-group scalar */
};

struct branch {
	oid prefix[4];
	size_t plen;
	uint8_t kind;              /* enum branch_kind */
	unsigned p1;
	unsigned col_first, col_last, n_idx;   /* B_TABLE */
};

struct subtree {
	const oid *root;
	size_t root_len;
	const struct branch *b;
	size_t n;
};

static struct {
	bool running;
	bool subagent;
	bool tmp_state;
	struct mctl *m;
	struct engine *e;
	char *meter_name;
	unsigned speed, interval_s;
	uint64_t packets;
	u_int in_pkts;                       /* STAT_SNMPINPKTS seen so far */
	char state_dir[PATH_MAX];
	char err[AGENT_ERR_MAX];             /* first error net-snmp logged */
	uint8_t pkg[AGENT_PKG_MAX];
} g;

static const oid flow_root[] = { MIB_FLOW_METER };
static const oid ntm_root[] = { MIB_NTM };
static const oid sys_root[] = { 1, 3, 6, 1, 2, 1, 1 };

static const struct branch flow_branches[] = {
	{ { MIB_FLOW_CONTROL, MIB_RULESET_INFO_TABLE, 1 }, 3, B_TABLE,
	  MCTL_T_RULEINFO, MIB_RULEINFO_SIZE, MIB_RULEINFO_FLOW_RECORDS, 1 },
	{ { MIB_FLOW_CONTROL, MIB_INTERFACE_TABLE, 1 }, 3, B_TABLE,
	  MCTL_T_INTERFACE, MIB_INTERFACE_SAMPLE_RATE, MIB_INTERFACE_LOST_PACKETS, 1 },
	{ { MIB_FLOW_CONTROL, MIB_READER_INFO_TABLE, 1 }, 3, B_TABLE,
	  MCTL_T_READER, MIB_READER_TIMEOUT, MIB_READER_RULESET, 1 },
	{ { MIB_FLOW_CONTROL, MIB_MANAGER_INFO_TABLE, 1 }, 3, B_TABLE,
	  MCTL_T_MANAGER, MIB_MANAGER_CURRENT_RULESET, MIB_MANAGER_RUNNING_STANDBY, 1 },
	{ { MIB_FLOW_CONTROL, MIB_FLOOD_MARK }, 2, B_SCALAR, MIB_FLOOD_MARK, 0, 0, 0 },
	{ { MIB_FLOW_CONTROL, MIB_INACTIVITY_TIMEOUT }, 2, B_SCALAR, MIB_INACTIVITY_TIMEOUT, 0, 0, 0 },
	{ { MIB_FLOW_CONTROL, MIB_ACTIVE_FLOWS }, 2, B_SCALAR, MIB_ACTIVE_FLOWS, 0, 0, 0 },
	{ { MIB_FLOW_CONTROL, MIB_MAX_FLOWS }, 2, B_SCALAR, MIB_MAX_FLOWS, 0, 0, 0 },
	{ { MIB_FLOW_CONTROL, MIB_FLOOD_MODE }, 2, B_SCALAR, MIB_FLOOD_MODE, 0, 0, 0 },
	{ { MIB_FLOW_DATA, MIB_DATA_TABLE, 1 }, 3, B_DATA, 0, 0, 0, 0 },
	{ { MIB_FLOW_DATA, MIB_PACKAGE_TABLE, 1 }, 3, B_PACKAGE, 0, 0, 0, 0 },
	{ { MIB_FLOW_RULES, MIB_RULE_TABLE, 1 }, 3, B_TABLE,
	  MCTL_T_RULE, MIB_RULE_SELECTOR, MIB_RULE_PARAMETER, 2 },
};

static const struct branch ntm_branches[] = {
	{ { MIB_NTM_METER, MIB_NTM_VERSION }, 2, B_NTM, MIB_NTM_VERSION, 0, 0, 0 },
	{ { MIB_NTM_METER, MIB_NTM_NAME }, 2, B_NTM, MIB_NTM_NAME, 0, 0, 0 },
	{ { MIB_NTM_METER, MIB_NTM_UPTIME }, 2, B_NTM, MIB_NTM_UPTIME, 0, 0, 0 },
	{ { MIB_NTM_METER, MIB_NTM_TIME_NS }, 2, B_NTM, MIB_NTM_TIME_NS, 0, 0, 0 },
	{ { MIB_NTM_METER, MIB_NTM_START_NS }, 2, B_NTM, MIB_NTM_START_NS, 0, 0, 0 },
	{ { MIB_NTM_METER, MIB_NTM_SPEED }, 2, B_NTM, MIB_NTM_SPEED, 0, 0, 0 },
	{ { MIB_NTM_METER, MIB_NTM_PACKETS }, 2, B_NTM, MIB_NTM_PACKETS, 0, 0, 0 },
	{ { MIB_NTM_METER, MIB_NTM_INTERVAL }, 2, B_NTM, MIB_NTM_INTERVAL, 0, 0, 0 },
	{ { MIB_NTM_DATA, MIB_NTM_PACKAGE_TABLE, 1 }, 3, B_PACKAGE, 1, 0, 0, 0 },
};

static const struct branch sys_branches[] = {
	{ { AGENT_SYS_DESCR }, 1, B_SYS, AGENT_SYS_DESCR, 0, 0, 0 },
	{ { AGENT_SYS_OBJECT_ID }, 1, B_SYS, AGENT_SYS_OBJECT_ID, 0, 0, 0 },
	{ { AGENT_SYS_UPTIME }, 1, B_SYS, AGENT_SYS_UPTIME, 0, 0, 0 },
	{ { AGENT_SYS_NAME }, 1, B_SYS, AGENT_SYS_NAME, 0, 0, 0 },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct subtree trees[3] = {
	{ flow_root, N_OF(flow_root), flow_branches, N_OF(flow_branches) },
	{ ntm_root, N_OF(ntm_root), ntm_branches, N_OF(ntm_branches) },
	{ sys_root, N_OF(sys_root), sys_branches, N_OF(sys_branches) },
};

/* A sub-identifier as a 32-bit index: larger ones sort after every index
 * the meter has (indexes stay below 2^31), so clamping keeps the order. */
static uint32_t sub32(oid x)
{
	return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

/* ---------- control tables and scalars (mctl) ---------- */

static u_char mctl_asn(uint8_t t)
{
	switch (t) {
	case MCTL_OCTETS:    return ASN_OCTET_STR;
	case MCTL_TIMETICKS: return ASN_TIMETICKS;
	case MCTL_COUNTER32: return ASN_COUNTER;
	default:             return ASN_INTEGER;
	}
}

static bool ans_mctl(struct answer *a, enum mctl_table t, unsigned col,
		     const uint32_t *idx)
{
	if (mctl_get(g.m, t, col, idx, &a->mv) != 0)
		return false;
	if (a->mv.type == MCTL_OCTETS)
		ans_str(a, a->mv.s, a->mv.len);
	else
		ans_int(a, mctl_asn(a->mv.type), (long)a->mv.i);
	return true;
}

static bool table_get(const struct branch *b, const oid *r, size_t n,
		      struct answer *a)
{
	uint32_t idx[2] = { 0, 0 };
	if (n != 1 + b->n_idx || r[0] < b->col_first || r[0] > b->col_last)
		return false;
	for (size_t i = 0; i < b->n_idx; i++) {
		if (r[1 + i] > UINT32_MAX)
			return false;
		idx[i] = (uint32_t)r[1 + i];
	}
	return ans_mctl(a, b->p1, (unsigned)r[0], idx);
}

/* Columns outer, rows inner; a row whose column has no value is skipped. */
static bool table_next(const struct branch *b, const oid *r, size_t n,
		       struct answer *a)
{
	unsigned col = b->col_first;
	uint32_t after[2] = { 0, 0 }, row[2] = { 0, 0 };
	size_t n_after = 0;

	if (n > 0 && r[0] > b->col_last)
		return false;
	if (n > 0 && r[0] >= b->col_first) {
		col = (unsigned)r[0];
		n_after = n - 1 < b->n_idx ? n - 1 : b->n_idx;
		for (size_t i = 0; i < n_after; i++)
			after[i] = sub32(r[1 + i]);
	}
	for (; col <= b->col_last; col++, n_after = 0) {
		while (mctl_next_row(g.m, b->p1, after, n_after, row)) {
			if (ans_mctl(a, b->p1, col, row)) {
				a->tail[0] = col;
				for (size_t i = 0; i < b->n_idx; i++)
					a->tail[1 + i] = row[i];
				a->tlen = 1 + b->n_idx;
				return true;
			}
			memcpy(after, row, sizeof(after));
			n_after = b->n_idx;
		}
	}
	return false;
}

/* ---------- scalars (instance .0) ---------- */

static bool scalar_value(const struct branch *b, struct answer *a)
{
	static const oid sys_oid[] = { MIB_NTM };
	static const uint32_t none[2] = { 0, 0 };
	static char host[HOST_NAME_MAX + 1];

	switch (b->kind) {
	case B_SCALAR:
		return ans_mctl(a, MCTL_T_SCALAR, b->p1, none);
	case B_SYS:
		switch (b->p1) {
		case AGENT_SYS_DESCR:
			ans_str(a, AGENT_DESCR, strlen(AGENT_DESCR));
			return true;
		case AGENT_SYS_OBJECT_ID:
			a->type = ASN_OBJECT_ID;
			a->s = sys_oid;
			a->slen = sizeof(sys_oid);
			return true;
		case AGENT_SYS_UPTIME:
			ans_int(a, ASN_TIMETICKS, (long)mctl_uptime_cs(g.m));
			return true;
		case AGENT_SYS_NAME:
			if (g.meter_name && g.meter_name[0]) {
				ans_str(a, g.meter_name, strlen(g.meter_name));
			} else {
				if (gethostname(host, sizeof(host) - 1) != 0)
					host[0] = '\0';
				ans_str(a, host, strlen(host));
			}
			return true;
		}
		return false;
	case B_NTM:
		switch (b->p1) {
		case MIB_NTM_VERSION:
			ans_str(a, "ntm " NTM_VERSION, strlen("ntm " NTM_VERSION));
			return true;
		case MIB_NTM_NAME:
			ans_str(a, g.meter_name ? g.meter_name : "",
				g.meter_name ? strlen(g.meter_name) : 0);
			return true;
		case MIB_NTM_UPTIME:
			ans_int(a, ASN_TIMETICKS, (long)mctl_uptime_cs(g.m));
			return true;
		case MIB_NTM_TIME_NS:
			ans_u64(a, mctl_now_ns(g.m));
			return true;
		case MIB_NTM_START_NS:
			ans_u64(a, mctl_start_ns(g.m));
			return true;
		case MIB_NTM_SPEED:
			ans_int(a, ASN_INTEGER, (long)g.speed);
			return true;
		case MIB_NTM_PACKETS:
			ans_u64(a, g.packets);
			return true;
		case MIB_NTM_INTERVAL:
			ans_int(a, ASN_INTEGER, (long)g.interval_s);
			return true;
		}
		return false;
	default:
		return false;
	}
}

static bool scalar_get(const struct branch *b, const oid *r, size_t n,
		       struct answer *a)
{
	if (n != 1 || r[0] != 0 || !scalar_value(b, a))
		return false;
	a->tail[0] = 0;
	a->tlen = 1;
	return true;
}

static bool scalar_next(const struct branch *b, size_t n, struct answer *a)
{
	static const oid zero = 0;
	return n == 0 && scalar_get(b, &zero, 1, a);
}

/* ---------- flows ---------- */

static uint32_t flow_changed_cs(const struct flow *f)
{
	return flowattr_uptime_cs(mctl_start_ns(g.m), flowattr_changed_ns(f));
}

/* TimeFilter: flow `index` of `set` exists at time t (cs) when it is in
 * use and changed at or after t. */
static struct flow *flow_at(uint32_t set, uint64_t t, oid index)
{
	const struct flow_table *ft = g.e->flows;
	struct flow *f;
	if (index == 0 || index > UINT32_MAX)
		return NULL;
	f = flow_by_index(ft, (uint32_t)index);
	if (!f || flow_get_key(ft, f)->ruleset != set || flow_changed_cs(f) < t)
		return NULL;
	return f;
}

/* The first flow of `set` changed at or after t with index > after. */
static struct flow *flow_after(uint32_t set, uint64_t t, uint32_t after,
			       uint32_t *index)
{
	const struct flow_table *ft = g.e->flows;
	struct flow *f;
	while ((f = flow_next_active(ft, after, 0)) != NULL) {
		after = flow_index(ft, f);
		if (flow_get_key(ft, f)->ruleset == set && flow_changed_cs(f) >= t) {
			*index = after;
			return f;
		}
	}
	return NULL;
}

static uint64_t be_uint(const uint8_t *b, unsigned w)
{
	uint64_t x = 0;
	for (unsigned i = 0; i < w; i++)
		x = x << 8 | b[i];
	return x;
}

/* flowDataTable column `col` of flow f as its MIB syntax. */
static bool data_value(unsigned col, const struct flow *f, uint32_t index,
		       struct answer *a)
{
	const struct attr_info *ai;
	struct coll_value v;

	if (col == DATA_COL_STATUS) {
		ans_int(a, ASN_INTEGER, f->state == FLOW_CURRENT ?
			DATA_STATUS_CURRENT : DATA_STATUS_INACTIVE);
		return true;
	}
	ai = attr_by_num(col);
	if (!ai || !(ai->flags & ATTR_F_READ))
		return false;
	flowattr_get(g.e, f, index, mctl_start_ns(g.m), col, &v);
	if (v.kind != COLL_BYTES || v.width > sizeof(a->bytes))
		return false;
	switch (ai->type) {
	case ATTR_T_INT:
		ans_int(a, ASN_INTEGER, (long)be_uint(v.bytes, v.width));
		return true;
	case ATTR_T_COUNTER:
		ans_u64(a, be_uint(v.bytes, v.width));
		return true;
	case ATTR_T_TIME:
		ans_int(a, ASN_TIMETICKS, (long)be_uint(v.bytes, v.width));
		return true;
	case ATTR_T_PEER: case ATTR_T_ADJACENT: case ATTR_T_TRANS:
	case ATTR_T_STRING: case ATTR_T_MASK:
		memcpy(a->bytes, v.bytes, v.width);
		ans_str(a, a->bytes, v.width);
		return true;
	default:
		return false;
	}
}

static bool data_col_ok(oid col)
{
	return col >= DATA_COL_FIRST && col <= DATA_COL_LAST &&
	       col != DATA_COL_RULESET;
}

static void data_tail(struct answer *a, unsigned col, uint32_t set,
		      uint32_t t, uint32_t index)
{
	a->tail[0] = col;
	a->tail[1] = set;
	a->tail[2] = t;
	a->tail[3] = index;
	a->tlen = 4;
}

static bool data_get(const oid *r, size_t n, struct answer *a)
{
	struct flow *f;
	if (n != 4 || !data_col_ok(r[0]) || r[1] > UINT16_MAX || r[2] > UINT32_MAX)
		return false;
	f = flow_at((uint32_t)r[1], r[2], r[3]);
	if (!f || !data_value((unsigned)r[0], f, (uint32_t)r[3], a))
		return false;
	data_tail(a, (unsigned)r[0], (uint32_t)r[1], (uint32_t)r[2], (uint32_t)r[3]);
	return true;
}

/*
 * TimeFilter walk (RMON2): within (set, T) the flows changed since T, the
 * OIDs keeping T; after the last one the next set with T = 0, after the
 * last set the next column.
 */
static bool data_next(const oid *r, size_t n, struct answer *a)
{
	unsigned col = DATA_COL_FIRST;
	bool fresh = true;             /* start the column at its first set */
	uint32_t set = 0, after = 0, index;
	uint64_t t = 0;

	if (n > 0 && r[0] > DATA_COL_LAST)
		return false;
	if (n > 0 && r[0] >= DATA_COL_FIRST) {
		col = (unsigned)r[0];
		if (col == DATA_COL_RULESET)
			col++;
		else if (n > 1 && r[1] > 0) {
			uint32_t want = sub32(r[1]), s;
			fresh = false;
			if (!mctl_next_set(g.m, want - 1, &s) || s != want) {
				/* no set `want`: the next one from its start */
				if (want == UINT32_MAX || !mctl_next_set(g.m, want, &s))
					s = 0;
			} else {
				t = n > 2 ? r[2] : 0;
				after = n > 3 ? sub32(r[3]) : 0;
			}
			set = s;
			if (set == 0) {
				col++;
				fresh = true;
			}
		}
	}
	while (col <= DATA_COL_LAST) {
		if (col == DATA_COL_RULESET) {
			col++;
			continue;
		}
		if (fresh) {
			if (!mctl_next_set(g.m, 0, &set)) {
				col++;
				continue;
			}
			t = 0;
			after = 0;
			fresh = false;
		}
		if (t <= UINT32_MAX) {
			struct flow *f;
			while ((f = flow_after(set, t, after, &index)) != NULL) {
				if (data_value(col, f, index, a)) {
					data_tail(a, col, set, (uint32_t)t, index);
					return true;
				}
				after = index;
			}
		}
		if (mctl_next_set(g.m, set, &set)) {
			t = 0;
			after = 0;
		} else {
			col++;
			fresh = true;
		}
	}
	return false;
}

/* ---------- packages ---------- */

/* The selector at r[0..n): attributes into attrs; the sub-ids it took, or
 * 0 when it is incomplete, invalid or names an unreadable attribute. */
static size_t selector(bool wide, const oid *r, size_t n, uint16_t *attrs,
		       size_t *na)
{
	uint32_t sub[1 + 2 * PKG_ATTRS_MAX];
	size_t m = n < N_OF(sub) ? n : N_OF(sub), used;
	for (size_t i = 0; i < m; i++)
		sub[i] = sub32(r[i]);
	used = pkg_selector_decode(wide, sub, m, attrs, na);
	for (size_t i = 0; used && i < *na; i++) {
		const struct attr_info *ai = attr_by_num(attrs[i]);
		if (!ai || !(ai->flags & ATTR_F_READ))
			return 0;
	}
	return used;
}

/* The package of flow f (index) for attrs[0..na), with its OID tail. */
static bool package(bool wide, const uint16_t *attrs, size_t na,
		    const struct flow *f, uint32_t set, uint32_t t,
		    uint32_t index, struct answer *a)
{
	struct coll_value v[PKG_ATTRS_MAX];
	ssize_t len;
	size_t tl;

	for (size_t i = 0; i < na; i++)
		flowattr_get(g.e, f, index, mctl_start_ns(g.m), attrs[i], &v[i]);
	len = pkg_encode(v, na, g.pkg, sizeof(g.pkg));
	if (len < 0)
		a->err = errno == ENOSPC ? SNMP_ERR_TOOBIG : SNMP_ERR_GENERR;
	else
		ans_str(a, g.pkg, (size_t)len);
	{
		uint32_t idx[AGENT_TAIL_MAX];
		tl = pkg_index_encode(wide, attrs, na, set, t, index, idx,
				      N_OF(idx) - 1);
		if (tl == 0)
			return false;
		a->tail[0] = MIB_PACKAGE_DATA_COL;
		for (size_t i = 0; i < tl; i++)
			a->tail[1 + i] = idx[i];
		a->tlen = 1 + tl;
	}
	return true;
}

static bool package_get(bool wide, const oid *r, size_t n, struct answer *a)
{
	uint16_t attrs[PKG_ATTRS_MAX];
	size_t na, used;
	struct flow *f;

	if (n < 1 || r[0] != MIB_PACKAGE_DATA_COL)
		return false;
	used = selector(wide, r + 1, n - 1, attrs, &na);
	if (used == 0 || n - 1 - used != 3)
		return false;
	r += 1 + used;
	if (r[0] > UINT16_MAX || r[1] > UINT32_MAX)
		return false;
	f = flow_at((uint32_t)r[0], r[1], r[2]);
	return f && package(wide, attrs, na, f, (uint32_t)r[0], (uint32_t)r[1],
			    (uint32_t)r[2], a);
}

/* Only within the requested (selector, set, time): a reader's walk ends
 * with its own flows, never wanders into time + 1 or another selector. */
static bool package_next(bool wide, const oid *r, size_t n, struct answer *a)
{
	uint16_t attrs[PKG_ATTRS_MAX];
	size_t na, used;
	uint32_t index;
	uint64_t t;
	struct flow *f;

	if (n < 1 || r[0] != MIB_PACKAGE_DATA_COL)
		return false;
	used = selector(wide, r + 1, n - 1, attrs, &na);
	if (used == 0 || n - 1 - used < 1)
		return false;
	r += 1 + used;
	n -= 1 + used;
	if (r[0] > UINT16_MAX)
		return false;
	t = n > 1 ? r[1] : 0;
	if (t > UINT32_MAX)
		return false;
	f = flow_after((uint32_t)r[0], t, n > 2 ? sub32(r[2]) : 0, &index);
	return f && package(wide, attrs, na, f, (uint32_t)r[0], (uint32_t)t,
			    index, a);
}

/* ---------- dispatch ---------- */

static bool branch_get(const struct branch *b, const oid *r, size_t n,
		       struct answer *a)
{
	switch (b->kind) {
	case B_TABLE:   return table_get(b, r, n, a);
	case B_DATA:    return data_get(r, n, a);
	case B_PACKAGE: return package_get(b->p1, r, n, a);
	default:        return scalar_get(b, r, n, a);
	}
}

/* The first instance of b after r[0..n) (n = 0: its first instance). */
static bool branch_next(const struct branch *b, const oid *r, size_t n,
			struct answer *a)
{
	switch (b->kind) {
	case B_TABLE:   return table_next(b, r, n, a);
	case B_DATA:    return data_next(r, n, a);
	case B_PACKAGE: return package_next(b->p1, r, n, a);
	default:        return scalar_next(b, n, a);
	}
}

/* -1: x sorts before every OID under p; 0: x is under p (or p itself);
 * 1: x sorts after them all. */
static int prefix_cmp(const oid *x, size_t nx, const oid *p, size_t np)
{
	for (size_t i = 0; i < nx && i < np; i++)
		if (x[i] != p[i])
			return x[i] < p[i] ? -1 : 1;
	return nx < np ? -1 : 0;
}

/* The branch an OID of tree falls in, with the sub-ids below it. */
static const struct branch *find_branch(const struct subtree *tr,
					const oid *name, size_t len,
					const oid **r, size_t *n)
{
	if (prefix_cmp(name, len, tr->root, tr->root_len) != 0 ||
	    len < tr->root_len)
		return NULL;
	name += tr->root_len;
	len -= tr->root_len;
	for (size_t i = 0; i < tr->n; i++) {
		const struct branch *b = &tr->b[i];
		if (len >= b->plen &&
		    prefix_cmp(name, len, b->prefix, b->plen) == 0) {
			*r = name + b->plen;
			*n = len - b->plen;
			return b;
		}
	}
	return NULL;
}

static const struct branch *tree_get(const struct subtree *tr,
				     const oid *name, size_t len,
				     struct answer *a)
{
	const oid *r;
	size_t n;
	const struct branch *b = find_branch(tr, name, len, &r, &n);
	return b && branch_get(b, r, n, a) ? b : NULL;
}

static const struct branch *tree_next(const struct subtree *tr,
				      const oid *name, size_t len,
				      struct answer *a)
{
	int c = prefix_cmp(name, len, tr->root, tr->root_len);
	const oid *rel = name + tr->root_len;
	size_t nrel = c == 0 ? len - tr->root_len : 0;

	if (c > 0)
		return NULL;
	for (size_t i = 0; i < tr->n; i++) {
		const struct branch *b = &tr->b[i];
		int cb = c < 0 ? -1 : prefix_cmp(rel, nrel, b->prefix, b->plen);
		bool found;
		if (cb > 0)
			continue;
		if (cb < 0)
			found = branch_next(b, NULL, 0, a);
		else
			found = branch_next(b, rel + b->plen, nrel - b->plen, a);
		if (found)
			return b;
	}
	return NULL;
}

static void set_value(netsnmp_variable_list *vb, const struct answer *a)
{
	switch (a->type) {
	case ASN_OCTET_STR:
	case ASN_OBJECT_ID:
		snmp_set_var_typed_value(vb, a->type, a->s, a->slen);
		break;
	case ASN_COUNTER64:
		snmp_set_var_typed_value(vb, a->type, &a->c64, sizeof(a->c64));
		break;
	default: {
		/* net-snmp takes unsigned types (TimeTicks, Counter32) as
		 * u_long and INTEGER as long: same size */
		long v = a->i;
		snmp_set_var_typed_value(vb, a->type, &v, sizeof(v));
		break;
	}
	}
}

static void answer_init(struct answer *a)
{
	a->tlen = 0;
	a->err = 0;
	a->type = ASN_NULL;
}

static void do_get(const struct subtree *tr, netsnmp_agent_request_info *ri,
		   netsnmp_request_info *req)
{
	static struct answer a;
	answer_init(&a);
	if (!tree_get(tr, req->requestvb->name, req->requestvb->name_length, &a))
		netsnmp_set_request_error(ri, req, SNMP_NOSUCHINSTANCE);
	else if (a.err)
		netsnmp_set_request_error(ri, req, a.err);
	else
		set_value(req->requestvb, &a);
}

static void do_getnext(const struct subtree *tr, netsnmp_agent_request_info *ri,
		       netsnmp_request_info *req)
{
	static struct answer a;
	static oid name[MAX_OID_LEN];
	netsnmp_variable_list *vb = req->requestvb;
	const struct branch *b;
	size_t pos;

	answer_init(&a);
	/* GETNEXT-inclusive: net-snmp moved a request from before our
	 * subtree to its start, which may itself be an instance */
	if (req->inclusive)
		b = tree_get(tr, vb->name, vb->name_length, &a);
	else
		b = NULL;
	if (!b) {
		answer_init(&a);
		b = tree_next(tr, vb->name, vb->name_length, &a);
	}
	if (!b)
		return;        /* nothing here: net-snmp asks the next subtree */
	pos = tr->root_len + b->plen;
	if (pos + a.tlen > MAX_OID_LEN) {
		netsnmp_set_request_error(ri, req, SNMP_ERR_GENERR);
		return;
	}
	memcpy(name, tr->root, tr->root_len * sizeof(oid));
	memcpy(name + tr->root_len, b->prefix, b->plen * sizeof(oid));
	memcpy(name + pos, a.tail, a.tlen * sizeof(oid));
	snmp_set_var_objid(vb, name, pos + a.tlen);
	if (a.err)
		netsnmp_set_request_error(ri, req, a.err);
	else
		set_value(vb, &a);
}

/* ---------- SET ---------- */

/* A SET varbind as an mctl_set: MCTL_OK, or the error it gets without
 * asking mctl (an object that is not a control object is notWritable). */
static int to_mctl(const netsnmp_variable_list *vb, struct mctl_set *s)
{
	const oid *r;
	size_t n;
	const struct branch *b = find_branch(&trees[0], vb->name,
					     vb->name_length, &r, &n);

	memset(s, 0, sizeof(*s));
	if (!b || (b->kind != B_TABLE && b->kind != B_SCALAR))
		return SNMP_ERR_NOTWRITABLE;
	if (b->kind == B_SCALAR) {
		if (n != 1 || r[0] != 0)
			return SNMP_ERR_NOCREATION;
		s->table = MCTL_T_SCALAR;
		s->col = b->p1;
	} else {
		if (n < 1 || r[0] < 1 || r[0] > b->col_last)
			return SNMP_ERR_NOTWRITABLE;
		if (n != 1 + b->n_idx)
			return SNMP_ERR_NOCREATION;
		for (size_t i = 0; i < b->n_idx; i++) {
			if (r[1 + i] > UINT32_MAX)
				return SNMP_ERR_NOCREATION;
			s->idx[i] = (uint32_t)r[1 + i];
		}
		s->table = (uint8_t)b->p1;
		s->col = (unsigned)r[0];
	}
	/* mctl knows each column's type: it answers wrongType to a type
	 * it does not expect, including 0 for ASN.1 types it has none of */
	switch (vb->type) {
	case ASN_INTEGER:
		s->v.type = MCTL_INTEGER;
		s->v.i = *vb->val.integer;
		break;
	case ASN_TIMETICKS:
		s->v.type = MCTL_TIMETICKS;
		s->v.i = (int64_t)(u_long)*vb->val.integer;
		break;
	case ASN_COUNTER:
		s->v.type = MCTL_COUNTER32;
		s->v.i = (int64_t)(u_long)*vb->val.integer;
		break;
	case ASN_OCTET_STR:
		if (vb->val_len > MCTL_OCTETS_MAX)
			return SNMP_ERR_WRONGLENGTH;
		s->v.type = MCTL_OCTETS;
		s->v.len = vb->val_len;
		memcpy(s->v.s, vb->val.string, vb->val_len);
		break;
	default:
		s->v.type = 0;
		break;
	}
	return SNMP_ERR_NOERROR;
}

static void do_set(const struct subtree *tr, netsnmp_agent_request_info *ri,
		   netsnmp_request_info *reqs, bool commit)
{
	size_t n = 0, failed = 0;
	struct mctl_set *sets;
	netsnmp_request_info **who;
	enum mctl_err err;

	for (netsnmp_request_info *r = reqs; r; r = r->next)
		n++;
	if (tr != &trees[0]) {
		/* NTM-MIB and system: nothing there is writable */
		if (reqs)
			netsnmp_set_request_error(ri, reqs, SNMP_ERR_NOTWRITABLE);
		return;
	}
	sets = calloc(n ? n : 1, sizeof(*sets));
	who = calloc(n ? n : 1, sizeof(*who));
	if (!sets || !who) {
		free(sets);
		free(who);
		netsnmp_set_request_error(ri, reqs, SNMP_ERR_RESOURCEUNAVAILABLE);
		return;
	}
	n = 0;
	for (netsnmp_request_info *r = reqs; r; r = r->next) {
		int e = to_mctl(r->requestvb, &sets[n]);
		if (e != SNMP_ERR_NOERROR) {
			netsnmp_set_request_error(ri, r, e);
			goto out;
		}
		who[n++] = r;
	}
	err = mctl_set(g.m, sets, n, commit, &failed);
	if (err != MCTL_OK)
		netsnmp_set_request_error(ri, who[failed < n ? failed : 0],
					  commit && err == MCTL_GEN_ERR ?
					  SNMP_ERR_COMMITFAILED : (int)err);
out:
	free(sets);
	free(who);
}

static int handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
		   netsnmp_agent_request_info *ri, netsnmp_request_info *reqs)
{
	const struct subtree *tr = h->myvoid;
	(void)reg;

	switch (ri->mode) {
	case MODE_GET:
		for (netsnmp_request_info *r = reqs; r; r = r->next)
			if (!r->processed)
				do_get(tr, ri, r);
		break;
	case MODE_GETNEXT:
		for (netsnmp_request_info *r = reqs; r; r = r->next)
			if (!r->processed)
				do_getnext(tr, ri, r);
		break;
	case MODE_SET_RESERVE1:
		do_set(tr, ri, reqs, false);
		break;
	case MODE_SET_ACTION:
		do_set(tr, ri, reqs, true);
		break;
	default:
		/* RESERVE2, COMMIT, FREE, UNDO: mctl_set is all or nothing
		 * and ACTION only runs when every RESERVE1 passed */
		break;
	}
	return SNMP_ERR_NOERROR;
}

static int reg_tree(size_t i, const char *name)
{
	const struct subtree *tr = &trees[i];
	netsnmp_handler_registration *reg =
		netsnmp_create_handler_registration(name, handler, tr->root,
						    tr->root_len,
						    HANDLER_CAN_RWRITE);
	if (!reg)
		return -1;
	reg->handler->myvoid = (void *)tr;
	/* on failure net-snmp frees reg; on success it owns it until
	 * shutdown */
	return netsnmp_register_handler(reg) == MIB_REGISTERED_OK ? 0 : -1;
}

/* ---------- start-up and loop ---------- */

/* Keep the first warning or error net-snmp logs while starting (an
 * unknown token in the config file is only a warning to net-snmp): the
 * reason for d. */
static int log_cb(int major, int minor, void *server, void *client)
{
	const struct snmp_log_message *m = server;
	(void)major; (void)minor; (void)client;
	if (m && m->priority <= LOG_WARNING && g.err[0] == '\0' && m->msg) {
		size_t n;
		snprintf(g.err, sizeof(g.err), "%s", m->msg);
		n = strlen(g.err);
		while (n > 0 && (g.err[n - 1] == '\n' || g.err[n - 1] == '\r'))
			g.err[--n] = '\0';
	}
	return 0;
}

/* A word that the config parser takes as one token. */
static bool plain_word(const char *s)
{
	if (!s || !*s || strlen(s) > 127)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == '"' || *s == '\'' || *s == '#' || *s == '\\' ||
		    (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void remember(const char *fmt, const char *word)
{
	char line[AGENT_LINE_MAX];
	snprintf(line, sizeof(line), fmt, word);
	netsnmp_config_remember(line);   /* copies; parsed by init_snmp */
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* The private state directory and what net-snmp put there (its
 * persistent file, cert_indexes/...). */
static void rm_state_dir(void)
{
	if (!g.tmp_state || !g.state_dir[0])
		return;
	nftw(g.state_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int pick_state_dir(const struct agent_options *o, struct diag *d)
{
	const char *tmp = getenv("TMPDIR");

	if (o->state_dir) {
		if (access(o->state_dir, W_OK | X_OK) != 0) {
			diag_error(d, 0, 0, "SNMP state directory %s: %s",
				   o->state_dir, strerror(errno));
			return -1;
		}
		snprintf(g.state_dir, sizeof(g.state_dir), "%s", o->state_dir);
		return 0;
	}
	if (access(AGENT_STATE_DIR, W_OK | X_OK) == 0) {
		snprintf(g.state_dir, sizeof(g.state_dir), "%s", AGENT_STATE_DIR);
		return 0;
	}
	snprintf(g.state_dir, sizeof(g.state_dir), "%s/ntm-agent.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g.state_dir)) {
		diag_error(d, 0, 0, "cannot make an SNMP state directory %s: %s",
			   g.state_dir, strerror(errno));
		g.state_dir[0] = '\0';
		return -1;
	}
	g.tmp_state = true;
	return 0;
}

/* net-snmp 5.9 crashes on "createUser NAME PROTO" without a passphrase:
 * refuse that before it sees the file.  Everything else it checks. */
static int check_config_file(const char *path, struct diag *d)
{
	char line[AGENT_LINE_MAX * 2];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		diag_error(d, 0, 0, "SNMP config file %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
		unsigned n = 0;
		lineno++;
		if (!tok || strcasecmp(tok, "createUser") != 0)
			continue;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (n == 0 && strcmp(tok, "-e") == 0) {
				strtok_r(NULL, " \t\r\n", &save);   /* engine ID */
				continue;
			}
			n++;
		}
		if (n == 2) {
			diag_error(d, 0, 0, "SNMP config file %s:%u: createUser "
				   "needs an authentication passphrase", path, lineno);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int check_options(const struct agent_options *o, struct diag *d)
{
	const char *rc = o->read_community ? o->read_community
					   : AGENT_DEFAULT_COMMUNITY;

	if (*rc && !plain_word(rc)) {
		diag_error(d, 0, 0, "read community: use 1..127 printable "
			   "characters without spaces, quotes, '#' or '\\'");
		return -1;
	}
	if (o->write_community && !plain_word(o->write_community)) {
		diag_error(d, 0, 0, "write community: use 1..127 printable "
			   "characters without spaces, quotes, '#' or '\\'");
		return -1;
	}
	if (o->config) {
		if (o->config[0] != '/') {
			/* net-snmp resolves a relative name on its own path */
			diag_error(d, 0, 0, "SNMP config file %s: give an "
				   "absolute path", o->config);
			return -1;
		}
		if (check_config_file(o->config, d) != 0)
			return -1;
	}
	return 0;
}

static void fail_cleanup(void)
{
	snmp_shutdown(AGENT_APP);
	if (!g.subagent)
		shutdown_master_agent();
	shutdown_agent();
	rm_state_dir();
	free(g.meter_name);
	memset(&g, 0, sizeof(g));
}

/* init_snmp without loading MIB modules: the agent needs none, and
 * without the system's snmp.conf ("mibs :" on Debian) net-snmp would try
 * its default list and log every module it cannot find. */
static void init_snmp_quiet(void)
{
	char *old = getenv("MIBS");
	char *saved = old ? strdup(old) : NULL;

	setenv("MIBS", "", 1);
	init_snmp(AGENT_APP);
	if (saved) {
		setenv("MIBS", saved, 1);
		free(saved);
	} else {
		unsetenv("MIBS");
	}
}

int agent_start(const struct agent_options *o, struct mctl *m,
		struct engine *e, struct diag *d)
{
	const char *rc;
	char none[PATH_MAX + 16];

	if (check_options(o, d) != 0)
		return -1;
	if (g.running) {
		diag_error(d, 0, 0, "the SNMP agent is already running");
		return -1;
	}
	memset(&g, 0, sizeof(g));
	if (pick_state_dir(o, d) != 0)
		return -1;
	g.m = m;
	g.e = e;
	g.speed = o->speed ? o->speed : 1;
	g.interval_s = o->interval_s;
	g.subagent = o->agentx != NULL;
	if (o->meter_name && !(g.meter_name = strdup(o->meter_name))) {
		diag_error(d, 0, 0, "out of memory");
		rm_state_dir();
		return -1;
	}

	/* errors are ours to report: net-snmp's log goes to log_cb only */
	snmp_disable_log();
	snmp_enable_calllog();
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
			       log_cb, NULL);

	/* the caller's loop runs net-snmp's timers: no SIGALRM */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
			       NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	/* the largest response: a GETBULK answer above it is cut to fewer
	 * repetitions (RFC 3416 4.2.3), never a datagram UDP cannot send */
	netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MSG_SEND_MAX,
			   AGENT_MSG_MAX);
	/* no system or user config: a search path with nothing in it */
	snprintf(none, sizeof(none), "%s/none", g.state_dir);
	netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID,
			      NETSNMP_DS_LIB_CONFIGURATION_DIR, none);
	netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID,
			      NETSNMP_DS_LIB_PERSISTENT_DIR, g.state_dir);
	if (g.tmp_state)   /* nothing worth keeping: never write state */
		netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
				       NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	if (o->config)
		netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID,
				      NETSNMP_DS_LIB_OPTIONALCONFIG, o->config);
	if (g.subagent) {
		netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID,
				       NETSNMP_DS_AGENT_ROLE, 1);
		netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID,
				      NETSNMP_DS_AGENT_X_SOCKET, o->agentx);
		netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID,
				   NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
				   AGENT_PING_S);
	} else {
		netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID,
				      NETSNMP_DS_AGENT_PORTS,
				      o->listen ? o->listen : AGENT_DEFAULT_LISTEN);
	}

	/* a sub-agent has no access control of its own: the master's
	 * communities and users apply (and VACM's tokens are not loaded) */
	rc = o->read_community ? o->read_community : AGENT_DEFAULT_COMMUNITY;
	if (*rc && !g.subagent) {
		remember("rocommunity %s default", rc);
		remember("rocommunity6 %s default", rc);
	}
	if (o->write_community && !g.subagent) {
		remember("rwcommunity %s default", o->write_community);
		remember("rwcommunity6 %s default", o->write_community);
	}

	if (init_agent(AGENT_APP) != 0) {
		diag_error(d, 0, 0, "SNMP agent: %s",
			   g.err[0] ? g.err : "net-snmp's init_agent failed");
		fail_cleanup();
		return -1;
	}
	if (reg_tree(0, "flowMIB") != 0 || reg_tree(1, "ntm") != 0 ||
	    (!g.subagent && reg_tree(2, "ntmSystem") != 0)) {
		diag_error(d, 0, 0, "SNMP agent: cannot register the MIB%s%s",
			   g.err[0] ? ": " : "", g.err);
		fail_cleanup();
		return -1;
	}
	init_snmp_quiet();
	/* a private state directory has served its purpose (net-snmp made
	 * its files there): gone now, so even a killed meter leaves none */
	rm_state_dir();
	if (g.subagent && !main_session) {
		diag_error(d, 0, 0, "AgentX master at %s is unreachable",
			   o->agentx);
		fail_cleanup();
		return -1;
	}
	if (g.err[0]) {
		/* a bad line in the config file, most likely */
		diag_error(d, 0, 0, "SNMP configuration%s%s: %s",
			   o->config ? " " : "", o->config ? o->config : "", g.err);
		fail_cleanup();
		return -1;
	}
	if (!g.subagent && init_master_agent() != 0) {
		diag_error(d, 0, 0, "SNMP agent cannot listen on %s%s%s",
			   o->listen ? o->listen : AGENT_DEFAULT_LISTEN,
			   g.err[0] ? ": " : "", g.err);
		fail_cleanup();
		return -1;
	}
	g.in_pkts = snmp_get_statistic(STAT_SNMPINPKTS);
	g.running = true;
	return 0;
}

void agent_select_info(fd_set *fds, int *maxfd, struct timeval *tv)
{
	int nfds = *maxfd + 1, block = 0;
	struct timeval t = *tv;

	if (!g.running)
		return;
	/* block = 0 with t = *tv: net-snmp only ever lowers t */
	snmp_select_info(&nfds, fds, &t, &block);
	if (!block && timercmp(&t, tv, <))
		*tv = t;
	*maxfd = nfds - 1;
}

int agent_process(fd_set *fds)
{
	u_int now;

	if (!g.running)
		return 0;
	if (fds)
		snmp_read(fds);
	snmp_timeout();
	run_alarms();
	netsnmp_check_outstanding_agent_requests();
	now = snmp_get_statistic(STAT_SNMPINPKTS);
	{
		int handled = (int)(now - g.in_pkts);
		g.in_pkts = now;
		return handled;
	}
}

void agent_set_packets(uint64_t packets)
{
	g.packets = packets;
}

void agent_stop(void)
{
	if (!g.running)
		return;
	g.running = false;
	fail_cleanup();
}
