/* mctl.c — the Meter MIB's control tables and their SET semantics (see
 * mctl.h for the decisions). */
#include "mctl.h"

#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "flowattr.h"
#include "pme.h"
#include "statdist.h"

#define MCTL_STR_MAX      127u        /* UTF8OwnerString, flowRuleInfoName */
#define MCTL_SET_MAX      65535u      /* flow keys file the ruleset in 16 bits */
#define MCTL_PARAM_MAX    65535       /* flowRuleParameter */
#define MCTL_PERCENT_MAX  100
#define MCTL_INT32_MAX    2147483647  /* Integer32 */
#define MCTL_TICKS_MAX    4294967295u /* TimeTicks */
#define MCTL_MIB_WIDTH    2u          /* 1-byte rule values travel as 2 bytes */
#define MCTL_NS_PER_S     1000000000ull
#define MCTL_WRAP         1           /* flowManagerCounterWrap wrap(1) */

#define MCTL_DEFAULT_READERS  64u
#define MCTL_DEFAULT_RULESETS 32u
#define MCTL_DEFAULT_SET      1u      /* the built-in RuleSet */

struct mctl_str {
	uint8_t len;
	uint8_t s[MCTL_STR_MAX];
};

/* flowRuleSetInfoEntry and its rules. */
struct mctl_rs {
	uint8_t status;          /* enum mib_row_status; 0 = no row */
	bool builtin;            /* RuleSet 1: frozen for ever */
	uint32_t gen;            /* incarnation: a row destroyed and created
	                            again in one request is a new set */
	uint32_t size;
	struct rule *rules;      /* size zeroed rows, then what was set */
	struct mctl_str owner, name;
	uint64_t stamp_ns;
};

struct mctl_reader {
	uint8_t status;
	uint32_t timeout_s;      /* 0 = never */
	uint32_t set;            /* 0 = not given yet */
	struct mctl_str owner;
	uint64_t last_ns, prev_ns;
};

struct mctl_mgr {
	uint8_t status;
	uint32_t current, standby;
	uint8_t high_water;
	bool return_req;         /* RunningStandby := false in this request */
	struct mctl_str owner;
	uint64_t stamp_ns;
};

/* What the engine runs for a manager row.  Kept apart from the rows: a
 * request rolls rows back, while this follows the engine. */
struct mctl_task {
	int slot;                /* engine slot, -1 = none */
	uint32_t current, standby;
};

struct mctl_if {
	uint8_t sample_rate;     /* 1 = every packet, 0 = ignore the interface */
	uint64_t lost;
};

struct mctl_scalars {
	unsigned flood_mark;
	uint32_t inactivity_s;
	bool flood_clear;        /* FloodMode := false in this request */
};

/* A row (or rule) as it was before the current request first changed it. */
struct mctl_undo {
	struct mctl_undo *next;
	void *addr;
	size_t len;
	bool rs_row;             /* a struct mctl_rs: owns a rules array */
	unsigned char data[];
};

/* A createAndGo whose activation waits for the end of the request. */
struct mctl_pending {
	uint8_t table;
	uint32_t idx;
	size_t pos;
};

struct mctl_req {
	struct mctl_pending *pend;
	size_t n_pend;
};

struct mctl {
	struct engine *e;
	struct mctl_config cfg;
	uint64_t start_ns, now_ns;
	bool hold_gc_set;            /* mctl_hold_gc: a local reader's bound */
	uint64_t hold_gc_ns;
	struct mctl_rs *rs;      /* [max_rulesets]: index = position + 1 */
	struct mctl_reader *rd;  /* [max_readers] */
	struct mctl_mgr *mg;     /* [max_managers] */
	struct mctl_task *task;  /* [max_managers] */
	struct mctl_if *ifs;     /* [n_interfaces] */
	struct mctl_scalars sc;
	uint64_t *collected;     /* [max_rulesets + 1], mctl_tick's scratch */
	struct mctl_undo *undo;  /* the request's saved rows, newest first */
	uint32_t gen;
};

void mctl_config_default(struct mctl_config *c)
{
	memset(c, 0, sizeof *c);
	c->max_rulesets = MCTL_DEFAULT_RULESETS;
	c->max_rules = PME_RULES_MAX;
	c->max_readers = MCTL_DEFAULT_READERS;
	c->max_managers = ENGINE_TASKS_MAX;
	c->n_interfaces = 1;
}

/* ---- small helpers ------------------------------------------------------ */

static void str_set(struct mctl_str *d, const uint8_t *s, size_t len)
{
	if (len > MCTL_STR_MAX)
		len = MCTL_STR_MAX;
	memcpy(d->s, s, len);
	d->len = (uint8_t)len;
}

static void val_int(struct mctl_value *v, uint8_t type, int64_t i)
{
	v->type = type;
	v->i = i;
	v->len = 0;
}

static void val_str(struct mctl_value *v, const struct mctl_str *s)
{
	v->type = MCTL_OCTETS;
	v->i = 0;
	v->len = s->len;
	memcpy(v->s, s->s, s->len);
}

static int64_t truth(bool b)
{
	return b ? MIB_TRUE : MIB_FALSE;
}

static uint32_t uptime_cs(const struct mctl *m, uint64_t ns)
{
	return flowattr_uptime_cs(m->start_ns, ns);
}

static enum mctl_err want_int(const struct mctl_value *v, int64_t lo, int64_t hi)
{
	if (v->type != MCTL_INTEGER)
		return MCTL_WRONG_TYPE;
	return v->i < lo || v->i > hi ? MCTL_WRONG_VALUE : MCTL_OK;
}

static enum mctl_err want_octets(const struct mctl_value *v, size_t max)
{
	if (v->type != MCTL_OCTETS)
		return MCTL_WRONG_TYPE;
	return v->len > max ? MCTL_WRONG_LENGTH : MCTL_OK;
}

/* RowStatus as written: notReady is never written (RFC 2579). */
static enum mctl_err want_status(const struct mctl_value *v)
{
	enum mctl_err err = want_int(v, MIB_RS_ACTIVE, MIB_RS_DESTROY);
	if (!err && v->i == MIB_RS_NOT_READY)
		return MCTL_WRONG_VALUE;
	return err;
}

/* A 1-based index into a table of n rows: the row, or NULL. */
static size_t row_of(uint32_t idx, size_t n)
{
	return idx >= 1 && idx <= n ? idx : 0;
}

/* ---- undo log ----------------------------------------------------------- */

static struct mctl_undo *undo_find(const struct mctl *m, const void *addr)
{
	for (struct mctl_undo *u = m->undo; u; u = u->next)
		if (u->addr == addr)
			return u;
	return NULL;
}

/* Remember addr's bytes before the request first changes them.  0, or -1
 * when out of memory. */
static int save(struct mctl *m, void *addr, size_t len, bool rs_row)
{
	if (undo_find(m, addr))
		return 0;
	struct mctl_undo *u = malloc(sizeof *u + len);
	if (!u)
		return -1;
	u->addr = addr;
	u->len = len;
	u->rs_row = rs_row;
	memcpy(u->data, addr, len);
	u->next = m->undo;
	m->undo = u;
	return 0;
}

static int save_rs(struct mctl *m, struct mctl_rs *r)
{
	return save(m, r, sizeof *r, true);
}

/* The rules array r had before the request (r must have been saved). */
static struct rule *saved_rules(const struct mctl *m, const struct mctl_rs *r)
{
	const struct mctl_undo *u = undo_find(m, r);
	if (!u)
		return r->rules;
	struct mctl_rs old;
	memcpy(&old, u->data, sizeof old);
	return old.rules;
}

/* Let go of r's rules: an array made in this request is freed now, the
 * one from before stays with the saved copy (freed at commit). */
static void rs_drop_rules(struct mctl *m, struct mctl_rs *r)
{
	if (r->rules != saved_rules(m, r))
		free(r->rules);
	r->rules = NULL;
	r->size = 0;
}

static uint32_t rs_index(const struct mctl *m, const struct mctl_rs *r)
{
	return (uint32_t)(r - m->rs) + 1;
}

static void undo_rollback(struct mctl *m)
{
	struct mctl_undo *u;
	while ((u = m->undo)) {
		m->undo = u->next;
		if (u->rs_row) {
			struct mctl_rs old;
			const struct mctl_rs *cur = u->addr;
			memcpy(&old, u->data, sizeof old);
			if (cur->rules != old.rules)
				free(cur->rules);
		}
		memcpy(u->addr, u->data, u->len);
		free(u);
	}
}

/* The request stands: free what it replaced, and drop the flows of the
 * rulesets it destroyed. */
static void undo_commit(struct mctl *m)
{
	struct mctl_undo *u;
	while ((u = m->undo)) {
		m->undo = u->next;
		if (u->rs_row) {
			struct mctl_rs old;
			const struct mctl_rs *cur = u->addr;
			memcpy(&old, u->data, sizeof old);
			if (cur->rules != old.rules)
				free(old.rules);
			if (old.status && (!cur->status || cur->gen != old.gen))
				engine_remove_set_flows(m->e, rs_index(m, cur));
		}
		free(u);
	}
}

/* ---- rulesets ----------------------------------------------------------- */

static struct mctl_rs *rs_row(const struct mctl *m, uint32_t set)
{
	size_t i = row_of(set, m->cfg.max_rulesets);
	return i && m->rs[i - 1].status ? &m->rs[i - 1] : NULL;
}

static bool rs_active(const struct mctl *m, uint32_t set)
{
	const struct mctl_rs *r = rs_row(m, set);
	return r && r->status == MIB_RS_ACTIVE;
}

/* The row's rules as a struct ruleset filed under its index (read-only:
 * the PME and the distribution decoder only read it). */
static void rs_view(const struct mctl *m, uint32_t set, struct ruleset *out)
{
	const struct mctl_rs *r = &m->rs[set - 1];
	memset(out, 0, sizeof *out);
	out->set = set;
	out->rules = r->rules;
	out->n_rules = out->cap_rules = r->size;
}

/* The load-time checks a running set must pass: rulecheck and the PME
 * (pme_load runs ruleset_validate_bounds), and the RFC 2724 parameters. */
static int rs_valid(const struct ruleset *rs, struct diag *d)
{
	struct pme_program *p = pme_load(rs, d);
	if (!p)
		return -1;
	pme_free(p);
	struct statdist_rules sd;
	return statdist_rules_init(&sd, rs, d);
}

/* Is `set` named by a manager row (other than row `skip`, 1-based; 0 =
 * none skipped)? */
static bool rs_referenced(const struct mctl *m, uint32_t set, size_t skip)
{
	for (size_t i = 0; i < m->cfg.max_managers; i++) {
		const struct mctl_mgr *g = &m->mg[i];
		if (i + 1 != skip && g->status && (g->current == set || g->standby == set))
			return true;
	}
	return false;
}

static void rs_create(struct mctl *m, struct mctl_rs *r)
{
	memset(r, 0, sizeof *r);
	r->status = MIB_RS_NOT_READY;
	r->gen = ++m->gen;
	r->stamp_ns = m->now_ns;
}

static enum mctl_err rs_activate(struct mctl *m, struct mctl_rs *r)
{
	if (r->status == MIB_RS_ACTIVE)
		return MCTL_OK;
	if (r->size == 0)
		return MCTL_INCONSISTENT_VALUE;
	struct ruleset v;
	struct diag d;
	rs_view(m, rs_index(m, r), &v);
	diag_init(&d, "mctl");
	int rc = rs_valid(&v, &d);
	diag_free(&d);
	if (rc)
		return MCTL_INCONSISTENT_VALUE;
	r->status = MIB_RS_ACTIVE;
	r->stamp_ns = m->now_ns;
	return MCTL_OK;
}

static enum mctl_err rs_deactivate(struct mctl *m, struct mctl_rs *r)
{
	if (r->status != MIB_RS_ACTIVE)
		return MCTL_OK;
	if (rs_referenced(m, rs_index(m, r), 0))
		return MCTL_INCONSISTENT_VALUE;
	r->status = MIB_RS_NOT_IN_SERVICE;
	r->stamp_ns = m->now_ns;
	return MCTL_OK;
}

/* flowRuleInfoSize: n zeroed rows, keeping the rules already set. */
static enum mctl_err rs_resize(struct mctl *m, struct mctl_rs *r, uint32_t n)
{
	struct rule *nr = NULL;
	if (n) {
		nr = calloc(n, sizeof *nr);
		if (!nr)
			return MCTL_RESOURCE_UNAVAILABLE;
		if (r->size)
			memcpy(nr, r->rules, (n < r->size ? n : r->size) * sizeof *nr);
	}
	rs_drop_rules(m, r);
	r->rules = nr;
	r->size = n;
	r->status = n ? MIB_RS_NOT_IN_SERVICE : MIB_RS_NOT_READY;
	return MCTL_OK;
}


/*
 * A RowStatus write to row i of table t that does not exist (RFC 2579):
 * destroy does nothing, createAndWait and createAndGo create it (*create is
 * set: the caller fills the new row; createAndGo activates it at the end of
 * the request), any other value is inconsistentValue.
 */
static enum mctl_err row_absent(struct mctl_req *rq, enum mctl_table t, size_t i,
				size_t pos, int64_t status, bool *create)
{
	*create = false;
	if (status == MIB_RS_DESTROY)
		return MCTL_OK;
	if (status != MIB_RS_CREATE_AND_WAIT && status != MIB_RS_CREATE_AND_GO)
		return MCTL_INCONSISTENT_VALUE;
	if (status == MIB_RS_CREATE_AND_GO)
		rq->pend[rq->n_pend++] = (struct mctl_pending){ t, (uint32_t)i, pos };
	*create = true;
	return MCTL_OK;
}

static enum mctl_err set_ruleinfo(struct mctl *m, const struct mctl_set *s,
				  struct mctl_req *rq, size_t pos)
{
	const struct mctl_value *v = &s->v;
	enum mctl_err err;
	switch (s->col) {
	case MIB_RULEINFO_SIZE:
		err = want_int(v, 0, PME_RULES_MAX);
		break;
	case MIB_RULEINFO_OWNER:
	case MIB_RULEINFO_NAME:
		err = want_octets(v, MCTL_STR_MAX);
		break;
	case MIB_RULEINFO_STATUS:
		err = want_status(v);
		break;
	case MIB_RULEINFO_RULES_READY:
		err = want_int(v, MIB_TRUE, MIB_FALSE);
		break;
	default:
		return MCTL_NOT_WRITABLE;
	}
	if (err)
		return err;
	size_t i = row_of(s->idx[0], m->cfg.max_rulesets);
	if (!i)
		return MCTL_NO_CREATION;
	struct mctl_rs *r = &m->rs[i - 1];
	if (!r->status) {
		if (s->col != MIB_RULEINFO_STATUS)
			return MCTL_NO_CREATION;
		bool create;
		enum mctl_err e = row_absent(rq, MCTL_T_RULEINFO, i, pos, v->i, &create);
		if (e || !create)
			return e;
		if (save_rs(m, r))
			return MCTL_RESOURCE_UNAVAILABLE;
		rs_create(m, r);
		return MCTL_OK;
	}
	if (r->builtin)
		return MCTL_NOT_WRITABLE;
	if (save_rs(m, r))
		return MCTL_RESOURCE_UNAVAILABLE;
	if (s->col == MIB_RULEINFO_STATUS) {
		switch (v->i) {
		case MIB_RS_ACTIVE:
			return rs_activate(m, r);
		case MIB_RS_NOT_IN_SERVICE:
			return rs_deactivate(m, r);
		case MIB_RS_DESTROY:
			if (rs_referenced(m, (uint32_t)i, 0))
				return MCTL_INCONSISTENT_VALUE;
			rs_drop_rules(m, r);
			memset(r, 0, sizeof *r);
			return MCTL_OK;
		default:
			return MCTL_INCONSISTENT_VALUE;   /* create an existing row */
		}
	}
	if (s->col == MIB_RULEINFO_RULES_READY)   /* deprecated alias of Status */
		return v->i == MIB_TRUE ? rs_activate(m, r) : rs_deactivate(m, r);
	if (r->status == MIB_RS_ACTIVE)
		return MCTL_NOT_WRITABLE;
	switch (s->col) {
	case MIB_RULEINFO_SIZE:
		if ((uint64_t)v->i > m->cfg.max_rules)
			return MCTL_RESOURCE_UNAVAILABLE;
		err = rs_resize(m, r, (uint32_t)v->i);
		if (err)
			return err;
		break;
	case MIB_RULEINFO_OWNER:
		str_set(&r->owner, v->s, v->len);
		break;
	default:
		str_set(&r->name, v->s, v->len);
		break;
	}
	r->stamp_ns = m->now_ns;
	return MCTL_OK;
}

/* ---- rules -------------------------------------------------------------- */

/* A selector the PME can use: Null, or a known attribute that may be
 * tested or pushed (v1..v5 and the distributions included). */
static bool selector_ok(int64_t a)
{
	if (a == ATTR_NULL)
		return true;
	const struct attr_info *ai = attr_by_num((unsigned)a);
	return ai && (ai->flags & (ATTR_F_TEST | ATTR_F_SAVE));
}

/* Bytes up to the last non-zero one. */
static size_t used_len(const uint8_t *b)
{
	size_t n = RULE_ADDR_MAX;
	while (n && !b[n - 1])
		n--;
	return n;
}

/* Set mask or value (`dst`) of a rule sharing one length with `other`. */
static void rule_set_addr(struct rule *ru, uint8_t *dst, const uint8_t *other,
			  const struct mctl_value *v)
{
	memset(dst, 0, RULE_ADDR_MAX);
	memcpy(dst, v->s, v->len);
	size_t o = used_len(other);
	ru->len = (uint8_t)(v->len > o ? v->len : o);
}

static enum mctl_err set_rule(struct mctl *m, const struct mctl_set *s)
{
	const struct mctl_value *v = &s->v;
	enum mctl_err err;
	switch (s->col) {
	case MIB_RULE_SELECTOR:
		err = want_int(v, 0, ATTR_MAX - 1);
		if (!err && !selector_ok(v->i))
			err = MCTL_WRONG_VALUE;
		break;
	case MIB_RULE_MASK:
	case MIB_RULE_MATCHED_VALUE:
		err = want_octets(v, RULE_ADDR_MAX);
		break;
	case MIB_RULE_ACTION:
		err = want_int(v, RULE_IGNORE, RULE_OP_MAX);
		break;
	case MIB_RULE_PARAMETER:
		err = want_int(v, 0, MCTL_PARAM_MAX);
		break;
	default:
		return MCTL_NOT_WRITABLE;
	}
	if (err)
		return err;
	struct mctl_rs *r = rs_row(m, s->idx[0]);
	if (!r || !row_of(s->idx[1], r->size))
		return MCTL_NO_CREATION;
	if (r->builtin || r->status == MIB_RS_ACTIVE)
		return MCTL_NOT_WRITABLE;
	if (save_rs(m, r))
		return MCTL_RESOURCE_UNAVAILABLE;
	struct rule *ru = &r->rules[s->idx[1] - 1];
	/* an array made in this request goes as a whole on rollback */
	if (r->rules == saved_rules(m, r) && save(m, ru, sizeof *ru, false))
		return MCTL_RESOURCE_UNAVAILABLE;
	switch (s->col) {
	case MIB_RULE_SELECTOR:
		ru->attr = (uint16_t)v->i;
		break;
	case MIB_RULE_MASK:
		rule_set_addr(ru, ru->mask, ru->value, v);
		break;
	case MIB_RULE_MATCHED_VALUE:
		rule_set_addr(ru, ru->value, ru->mask, v);
		break;
	case MIB_RULE_ACTION:
		ru->op = (uint8_t)v->i;
		break;
	default:
		ru->param = (uint32_t)v->i;
		break;
	}
	r->stamp_ns = m->now_ns;
	return MCTL_OK;
}

/* ---- managers (tasks) --------------------------------------------------- */

static size_t tasks_wanted(const struct mctl *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->cfg.max_managers; i++)
		n += m->mg[i].status == MIB_RS_ACTIVE && m->mg[i].current;
	return n;
}

static enum mctl_err mgr_activate(struct mctl *m, struct mctl_mgr *g)
{
	if (g->status == MIB_RS_ACTIVE)
		return MCTL_OK;
	if (g->current && tasks_wanted(m) >= ENGINE_TASKS_MAX)
		return MCTL_RESOURCE_UNAVAILABLE;
	g->status = MIB_RS_ACTIVE;
	return MCTL_OK;
}

/* A set a manager row may name: 0, or an active set no other row names
 * (two tasks running one set would count each packet twice into the same
 * flows). */
static enum mctl_err mgr_set_ok(const struct mctl *m, size_t row, int64_t set)
{
	if (set == 0)
		return MCTL_OK;
	if (!rs_active(m, (uint32_t)set) || rs_referenced(m, (uint32_t)set, row))
		return MCTL_INCONSISTENT_VALUE;
	return MCTL_OK;
}

static enum mctl_err set_manager(struct mctl *m, const struct mctl_set *s,
				 struct mctl_req *rq, size_t pos)
{
	const struct mctl_value *v = &s->v;
	enum mctl_err err;
	switch (s->col) {
	case MIB_MANAGER_CURRENT_RULESET:
	case MIB_MANAGER_STANDBY_RULESET:
		err = want_int(v, 0, MCTL_INT32_MAX);
		break;
	case MIB_MANAGER_HIGH_WATER_MARK:
		err = want_int(v, 0, MCTL_PERCENT_MAX);
		break;
	case MIB_MANAGER_COUNTER_WRAP:
		/* scale(2) is not offered: the counters are Counter64 and wrap */
		err = want_int(v, MCTL_WRAP, MCTL_WRAP);
		break;
	case MIB_MANAGER_OWNER:
		err = want_octets(v, MCTL_STR_MAX);
		break;
	case MIB_MANAGER_STATUS:
		err = want_status(v);
		break;
	case MIB_MANAGER_RUNNING_STANDBY:
		err = want_int(v, MIB_TRUE, MIB_FALSE);
		break;
	default:
		return MCTL_NOT_WRITABLE;
	}
	if (err)
		return err;
	size_t i = row_of(s->idx[0], m->cfg.max_managers);
	if (!i)
		return MCTL_NO_CREATION;
	struct mctl_mgr *g = &m->mg[i - 1];
	if (!g->status && s->col != MIB_MANAGER_STATUS)
		return MCTL_NO_CREATION;
	if (save(m, g, sizeof *g, false))
		return MCTL_RESOURCE_UNAVAILABLE;
	if (!g->status) {
		bool create;
		enum mctl_err e = row_absent(rq, MCTL_T_MANAGER, i, pos, v->i, &create);
		if (e || !create)
			return e;
		memset(g, 0, sizeof *g);
		g->status = MIB_RS_NOT_IN_SERVICE;   /* every column has a default */
		g->stamp_ns = m->now_ns;
		return MCTL_OK;
	}
	bool active = g->status == MIB_RS_ACTIVE;
	switch (s->col) {
	case MIB_MANAGER_STATUS:
		switch (v->i) {
		case MIB_RS_ACTIVE:
			err = mgr_activate(m, g);
			break;
		case MIB_RS_NOT_IN_SERVICE:
			g->status = MIB_RS_NOT_IN_SERVICE;
			break;
		case MIB_RS_DESTROY:
			memset(g, 0, sizeof *g);
			return MCTL_OK;
		default:
			return MCTL_INCONSISTENT_VALUE;
		}
		break;
	case MIB_MANAGER_CURRENT_RULESET:
		err = mgr_set_ok(m, i, v->i);
		if (!err && active && v->i && !g->current &&
		    tasks_wanted(m) >= ENGINE_TASKS_MAX)
			err = MCTL_RESOURCE_UNAVAILABLE;
		if (!err)
			g->current = (uint32_t)v->i;
		break;
	case MIB_MANAGER_STANDBY_RULESET:
		err = mgr_set_ok(m, i, v->i);
		if (!err)
			g->standby = (uint32_t)v->i;
		break;
	case MIB_MANAGER_HIGH_WATER_MARK:
		g->high_water = (uint8_t)v->i;
		break;
	case MIB_MANAGER_COUNTER_WRAP:
		if (active)
			err = MCTL_NOT_WRITABLE;
		break;
	case MIB_MANAGER_OWNER:
		if (active)
			err = MCTL_NOT_WRITABLE;
		else
			str_set(&g->owner, v->s, v->len);
		break;
	default:
		/* only the meter switches to standby; a manager switches back */
		if (v->i == MIB_TRUE)
			err = MCTL_INCONSISTENT_VALUE;
		else
			g->return_req = true;
		break;
	}
	if (!err)
		g->stamp_ns = m->now_ns;
	return err;
}

/* ---- readers ------------------------------------------------------------ */

static enum mctl_err rd_activate(struct mctl_reader *r)
{
	if (!r->set)
		return MCTL_INCONSISTENT_VALUE;
	r->status = MIB_RS_ACTIVE;
	return MCTL_OK;
}

static enum mctl_err set_reader(struct mctl *m, const struct mctl_set *s,
				struct mctl_req *rq, size_t pos)
{
	const struct mctl_value *v = &s->v;
	enum mctl_err err = MCTL_OK;
	switch (s->col) {
	case MIB_READER_TIMEOUT:
		err = want_int(v, 0, MCTL_INT32_MAX);
		break;
	case MIB_READER_OWNER:
		err = want_octets(v, MCTL_STR_MAX);
		break;
	case MIB_READER_LAST_TIME:
		if (v->type != MCTL_TIMETICKS)
			return MCTL_WRONG_TYPE;
		if (v->i < 0 || v->i > MCTL_TICKS_MAX)
			return MCTL_WRONG_VALUE;
		break;
	case MIB_READER_STATUS:
		err = want_status(v);
		break;
	case MIB_READER_RULESET:
		err = want_int(v, 1, MCTL_INT32_MAX);
		break;
	default:
		return MCTL_NOT_WRITABLE;
	}
	if (err)
		return err;
	size_t i = row_of(s->idx[0], m->cfg.max_readers);
	if (!i)
		return MCTL_NO_CREATION;
	struct mctl_reader *r = &m->rd[i - 1];
	if (!r->status && s->col != MIB_READER_STATUS)
		return MCTL_NO_CREATION;
	if (save(m, r, sizeof *r, false))
		return MCTL_RESOURCE_UNAVAILABLE;
	if (!r->status) {
		bool create;
		enum mctl_err e = row_absent(rq, MCTL_T_READER, i, pos, v->i, &create);
		if (e || !create)
			return e;
		memset(r, 0, sizeof *r);
		r->status = MIB_RS_NOT_READY;        /* until RuleSet is given */
		/* the timeout runs from creation; nothing counts as collected
		 * until the reader has collected twice */
		r->last_ns = m->now_ns;
		r->prev_ns = m->start_ns;
		return MCTL_OK;
	}
	bool active = r->status == MIB_RS_ACTIVE;
	switch (s->col) {
	case MIB_READER_STATUS:
		switch (v->i) {
		case MIB_RS_ACTIVE:
			return rd_activate(r);
		case MIB_RS_NOT_IN_SERVICE:
			r->status = r->set ? MIB_RS_NOT_IN_SERVICE : MIB_RS_NOT_READY;
			return MCTL_OK;
		case MIB_RS_DESTROY:
			memset(r, 0, sizeof *r);
			return MCTL_OK;
		default:
			return MCTL_INCONSISTENT_VALUE;
		}
	case MIB_READER_TIMEOUT:
		r->timeout_s = (uint32_t)v->i;
		return MCTL_OK;
	case MIB_READER_LAST_TIME:
		/* the value written is ignored: the meter stamps its own time */
		r->prev_ns = r->last_ns;
		r->last_ns = m->now_ns;
		return MCTL_OK;
	default:
		break;
	}
	if (active)
		return MCTL_NOT_WRITABLE;
	if (s->col == MIB_READER_OWNER) {
		str_set(&r->owner, v->s, v->len);
		return MCTL_OK;
	}
	if (v->i > (int64_t)m->cfg.max_rulesets)
		return MCTL_INCONSISTENT_VALUE;       /* no such set can exist */
	r->set = (uint32_t)v->i;
	if (r->status == MIB_RS_NOT_READY)
		r->status = MIB_RS_NOT_IN_SERVICE;
	return MCTL_OK;
}

/* ---- interfaces and scalars --------------------------------------------- */

static enum mctl_err set_interface(struct mctl *m, const struct mctl_set *s)
{
	if (s->col != MIB_INTERFACE_SAMPLE_RATE)
		return MCTL_NOT_WRITABLE;
	/* 1 = every packet, 0 = ignore the interface; 1-in-N sampling is not
	 * implemented */
	enum mctl_err err = want_int(&s->v, 0, 1);
	if (err)
		return err;
	size_t i = row_of(s->idx[0], m->cfg.n_interfaces);
	if (!i)
		return MCTL_NO_CREATION;
	if (s->v.i == 0 && i > ENGINE_IF_IGNORE_MAX)
		return MCTL_WRONG_VALUE;
	struct mctl_if *f = &m->ifs[i - 1];
	if (save(m, f, sizeof *f, false))
		return MCTL_RESOURCE_UNAVAILABLE;
	f->sample_rate = (uint8_t)s->v.i;
	return MCTL_OK;
}

static enum mctl_err set_scalar(struct mctl *m, const struct mctl_set *s)
{
	const struct mctl_value *v = &s->v;
	enum mctl_err err;
	switch (s->col) {
	case MIB_FLOOD_MARK:
		err = want_int(v, 0, MCTL_PERCENT_MAX);
		break;
	case MIB_INACTIVITY_TIMEOUT:
		/* 0 would make every flow idle at once */
		err = want_int(v, 1, MCTL_INT32_MAX);
		break;
	case MIB_FLOOD_MODE:
		err = want_int(v, MIB_TRUE, MIB_FALSE);
		/* only the meter enters flood mode; a manager ends it */
		if (!err && v->i == MIB_TRUE)
			err = MCTL_INCONSISTENT_VALUE;
		break;
	default:
		return MCTL_NOT_WRITABLE;
	}
	if (err)
		return err;
	if (save(m, &m->sc, sizeof m->sc, false))
		return MCTL_RESOURCE_UNAVAILABLE;
	switch (s->col) {
	case MIB_FLOOD_MARK:
		m->sc.flood_mark = (unsigned)v->i;
		break;
	case MIB_INACTIVITY_TIMEOUT:
		m->sc.inactivity_s = (uint32_t)v->i;
		break;
	default:
		m->sc.flood_clear = true;
		break;
	}
	return MCTL_OK;
}

/* ---- applying a request to the engine ----------------------------------- */

struct mctl_sync {
	bool stop, load;
	size_t slot;
	struct engine_task_load ld;
};

static bool mgr_wants_task(const struct mctl_mgr *g)
{
	return g->status == MIB_RS_ACTIVE && g->current;
}

/*
 * Make the engine run what the manager rows say: every load is prepared
 * first (the only step that can fail), then tasks stop and start.  0, or
 * -1 with nothing changed.
 */
static int sync_tasks(struct mctl *m)
{
	size_t n = m->cfg.max_managers;
	struct mctl_sync *p = calloc(n, sizeof *p);
	if (!p)
		return -1;
	bool used[ENGINE_TASKS_MAX] = { false };
	for (size_t i = 0; i < n; i++)
		if (m->task[i].slot >= 0 && mgr_wants_task(&m->mg[i]))
			used[m->task[i].slot] = true;
	struct diag d;
	diag_init(&d, "mctl");
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct mctl_mgr *g = &m->mg[i];
		struct mctl_task *t = &m->task[i];
		if (!mgr_wants_task(g)) {
			p[i].stop = t->slot >= 0;
			continue;
		}
		if (t->slot >= 0 && t->current == g->current && t->standby == g->standby)
			continue;
		size_t slot = (size_t)t->slot;
		if (t->slot < 0) {
			for (slot = 0; slot < ENGINE_TASKS_MAX && used[slot]; slot++)
				;
			if (slot == ENGINE_TASKS_MAX) {
				rc = -1;
				break;
			}
			used[slot] = true;
		}
		struct ruleset cur, sb;
		rs_view(m, g->current, &cur);
		if (g->standby)
			rs_view(m, g->standby, &sb);
		rc = engine_task_prepare(m->e, slot, &cur, g->standby ? &sb : NULL,
					 &p[i].ld, &d);
		p[i].load = !rc;
		p[i].slot = slot;
	}
	diag_free(&d);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			engine_task_load_free(m->e, &p[i].ld);
		free(p);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct mctl_task *t = &m->task[i];
		if (p[i].stop) {
			engine_task_stop(m->e, (size_t)t->slot);
			*t = (struct mctl_task){ .slot = -1 };
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct mctl_mgr *g = &m->mg[i];
		struct mctl_task *t = &m->task[i];
		if (p[i].load) {
			engine_task_install(m->e, p[i].slot, &p[i].ld, g->high_water);
			*t = (struct mctl_task){ (int)p[i].slot, g->current, g->standby };
		}
		if (t->slot >= 0) {
			engine_task_set_high_water(m->e, (size_t)t->slot, g->high_water);
			if (g->return_req)
				engine_task_return(m->e, (size_t)t->slot);
		}
		g->return_req = false;
	}
	free(p);
	return 0;
}

/* The scalars and interfaces the request changed (before undo_commit:
 * the undo log says what was touched). */
static void engine_apply(struct mctl *m)
{
	struct engine *e = m->e;
	if (undo_find(m, &m->sc)) {
		e->cfg.flood_mark = m->sc.flood_mark;
		e->cfg.inactivity_ns = (uint64_t)m->sc.inactivity_s * MCTL_NS_PER_S;
		if (m->sc.flood_clear || !engine_mark_enabled(m->sc.flood_mark))
			e->flood_mode = false;
		m->sc.flood_clear = false;
	}
	for (size_t i = 0; i < m->cfg.n_interfaces && i < ENGINE_IF_IGNORE_MAX; i++)
		if (undo_find(m, &m->ifs[i]))
			engine_ignore_interface(e, (uint32_t)i + 1, m->ifs[i].sample_rate == 0);
}

static enum mctl_err set_one(struct mctl *m, const struct mctl_set *s,
			     struct mctl_req *rq, size_t pos)
{
	switch (s->table) {
	case MCTL_T_RULEINFO:
		return set_ruleinfo(m, s, rq, pos);
	case MCTL_T_RULE:
		return set_rule(m, s);
	case MCTL_T_MANAGER:
		return set_manager(m, s, rq, pos);
	case MCTL_T_READER:
		return set_reader(m, s, rq, pos);
	case MCTL_T_INTERFACE:
		return set_interface(m, s);
	case MCTL_T_SCALAR:
		return set_scalar(m, s);
	default:
		return MCTL_NOT_WRITABLE;
	}
}

/* createAndGo: the row goes active once the whole request is in (RFC 2579:
 * the other columns may come in the same PDU, in any order). */
static enum mctl_err activate_pending(struct mctl *m, const struct mctl_pending *p)
{
	switch (p->table) {
	case MCTL_T_RULEINFO:
		if (m->rs[p->idx - 1].status)
			return rs_activate(m, &m->rs[p->idx - 1]);
		return MCTL_OK;       /* destroyed again later in the request */
	case MCTL_T_MANAGER:
		if (m->mg[p->idx - 1].status)
			return mgr_activate(m, &m->mg[p->idx - 1]);
		return MCTL_OK;
	default:
		if (m->rd[p->idx - 1].status)
			return rd_activate(&m->rd[p->idx - 1]);
		return MCTL_OK;
	}
}

enum mctl_err mctl_set(struct mctl *m, const struct mctl_set *sets, size_t n,
		       bool commit, size_t *failed)
{
	struct mctl_req rq = { NULL, 0 };
	enum mctl_err err = MCTL_OK;
	size_t at = 0;
	if (n && !(rq.pend = malloc(n * sizeof *rq.pend))) {
		err = MCTL_RESOURCE_UNAVAILABLE;
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++) {
		err = set_one(m, &sets[i], &rq, i);
		at = i;
	}
	for (size_t i = 0; i < rq.n_pend && !err; i++) {
		err = activate_pending(m, &rq.pend[i]);
		at = rq.pend[i].pos;
	}
	if (!err && commit && sync_tasks(m)) {
		err = MCTL_RESOURCE_UNAVAILABLE;
		at = 0;
	}
	if (!err && commit) {
		engine_apply(m);
		undo_commit(m);
	} else {
		undo_rollback(m);
	}
out:
	free(rq.pend);
	if (err && failed)
		*failed = at;
	return err;
}

/* ---- creation, start-up loading ----------------------------------------- */

/* RuleSet 1 (mctl.h): one flow per SourcePeerType. */
static int default_ruleset(struct mctl *m)
{
	static const struct rule def[] = {
		/* Null always succeeds; ...Act skips the next rule's test */
		{ .attr = ATTR_NULL, .len = MCTL_MIB_WIDTH, .op = RULE_GOTO_ACT, .param = 2 },
		/* push the packet's SourcePeerType and count */
		{ .attr = ATTR_SOURCE_PEER_TYPE, .len = MCTL_MIB_WIDTH, .mask = { 0xff },
		  .op = RULE_COUNT_PKT, .param = 0 },
	};
	struct mctl_rs *r = &m->rs[0];
	r->rules = malloc(sizeof def);
	if (!r->rules)
		return -1;
	memcpy(r->rules, def, sizeof def);
	r->size = sizeof def / sizeof def[0];
	r->status = MIB_RS_ACTIVE;
	r->builtin = true;
	r->gen = ++m->gen;
	r->stamp_ns = m->start_ns;
	str_set(&r->owner, (const uint8_t *)"ntm", 3);
	str_set(&r->name, (const uint8_t *)"default", 7);
	return 0;
}

struct mctl *mctl_create(struct engine *e, const struct mctl_config *c,
			 uint64_t start_ns)
{
	if (c->max_rulesets < 1 || c->max_managers < 1)
		return NULL;
	struct mctl *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->e = e;
	m->cfg = *c;
	if (m->cfg.max_rulesets > MCTL_SET_MAX)
		m->cfg.max_rulesets = MCTL_SET_MAX;
	if (m->cfg.max_rules > PME_RULES_MAX)
		m->cfg.max_rules = PME_RULES_MAX;
	m->start_ns = m->now_ns = start_ns;
	m->rs = calloc(m->cfg.max_rulesets, sizeof *m->rs);
	m->rd = calloc(m->cfg.max_readers ? m->cfg.max_readers : 1, sizeof *m->rd);
	m->mg = calloc(m->cfg.max_managers, sizeof *m->mg);
	m->task = calloc(m->cfg.max_managers, sizeof *m->task);
	m->ifs = calloc(m->cfg.n_interfaces ? m->cfg.n_interfaces : 1, sizeof *m->ifs);
	m->collected = calloc(m->cfg.max_rulesets + 1, sizeof *m->collected);
	if (!m->rs || !m->rd || !m->mg || !m->task || !m->ifs || !m->collected ||
	    default_ruleset(m)) {
		mctl_free(m);
		return NULL;
	}
	for (size_t i = 0; i < m->cfg.max_managers; i++)
		m->task[i].slot = -1;
	for (size_t i = 0; i < m->cfg.n_interfaces; i++)
		m->ifs[i].sample_rate = 1;
	m->sc.flood_mark = e->cfg.flood_mark;
	m->sc.inactivity_s = (uint32_t)(e->cfg.inactivity_ns / MCTL_NS_PER_S);
	return m;
}

void mctl_free(struct mctl *m)
{
	if (!m)
		return;
	if (m->rs)
		for (size_t i = 0; i < m->cfg.max_rulesets; i++)
			free(m->rs[i].rules);
	free(m->rs);
	free(m->rd);
	free(m->mg);
	free(m->task);
	free(m->ifs);
	free(m->collected);
	free(m);
}

void mctl_now(struct mctl *m, uint64_t now_ns)
{
	if (now_ns > m->now_ns)
		m->now_ns = now_ns;
}

uint64_t mctl_start_ns(const struct mctl *m)
{
	return m->start_ns;
}

uint64_t mctl_now_ns(const struct mctl *m)
{
	return m->now_ns;
}

void mctl_hold_gc(struct mctl *m, uint64_t until_ns)
{
	m->hold_gc_set = true;
	m->hold_gc_ns = until_ns;
}

uint32_t mctl_uptime_cs(const struct mctl *m)
{
	return uptime_cs(m, m->now_ns);
}

int mctl_load_ruleset(struct mctl *m, const struct ruleset *rs,
		      const char *name, const char *owner, uint32_t *set_index,
		      struct diag *d)
{
	size_t n = m->cfg.max_rulesets;
	size_t i = row_of(rs->set, n);
	if (i <= 1 || m->rs[i - 1].status)
		for (i = 2; i <= n && m->rs[i - 1].status; i++)
			;
	if (i > n) {
		diag_error(d, 0, 0, "no free ruleset row (the meter holds %zu)", n);
		return -1;
	}
	if (rs->n_rules == 0 || rs->n_rules > m->cfg.max_rules) {
		diag_error(d, 0, 0, "a ruleset has 1 to %zu rules, not %zu",
			   m->cfg.max_rules, rs->n_rules);
		return -1;
	}
	struct rule *rules = calloc(rs->n_rules, sizeof *rules);
	if (!rules) {
		diag_error(d, 0, 0, "out of memory");
		return -1;
	}
	/* copy only the bytes in use, so the MIB shows zeros past them */
	for (size_t k = 0; k < rs->n_rules; k++) {
		const struct rule *s = &rs->rules[k];
		struct rule *t = &rules[k];
		size_t len = s->len <= RULE_ADDR_MAX ? s->len : RULE_ADDR_MAX;
		t->attr = s->attr;
		t->len = (uint8_t)len;
		memcpy(t->mask, s->mask, len);
		memcpy(t->value, s->value, len);
		t->op = s->op;
		t->param = s->param;
	}
	struct ruleset v = *rs;
	v.set = (uint32_t)i;
	v.rules = rules;
	if (rs_valid(&v, d)) {
		free(rules);
		return -1;
	}
	struct mctl_rs *r = &m->rs[i - 1];
	rs_create(m, r);
	r->rules = rules;
	r->size = (uint32_t)rs->n_rules;
	r->status = MIB_RS_ACTIVE;
	if (name)
		str_set(&r->name, (const uint8_t *)name, strlen(name));
	if (owner)
		str_set(&r->owner, (const uint8_t *)owner, strlen(owner));
	if (set_index)
		*set_index = (uint32_t)i;
	return 0;
}

int mctl_start_task(struct mctl *m, uint32_t current, uint32_t standby,
		    unsigned high_water, const char *owner, uint32_t *mgr_index)
{
	size_t i;
	for (i = 0; i < m->cfg.max_managers && m->mg[i].status; i++)
		;
	if (i == m->cfg.max_managers)
		return -1;
	/* the same request a manager would send */
	struct mctl_set s[6];
	memset(s, 0, sizeof s);
	for (size_t k = 0; k < 6; k++) {
		s[k].table = MCTL_T_MANAGER;
		s[k].idx[0] = (uint32_t)i + 1;
		s[k].v.type = MCTL_INTEGER;
	}
	s[0].col = MIB_MANAGER_STATUS;
	s[0].v.i = MIB_RS_CREATE_AND_WAIT;
	s[1].col = MIB_MANAGER_OWNER;
	s[1].v.type = MCTL_OCTETS;
	if (owner) {
		s[1].v.len = strlen(owner) < MCTL_STR_MAX ? strlen(owner) : MCTL_STR_MAX;
		memcpy(s[1].v.s, owner, s[1].v.len);
	}
	s[2].col = MIB_MANAGER_HIGH_WATER_MARK;
	s[2].v.i = high_water;
	s[3].col = MIB_MANAGER_CURRENT_RULESET;
	s[3].v.i = current;
	s[4].col = MIB_MANAGER_STANDBY_RULESET;
	s[4].v.i = standby;
	s[5].col = MIB_MANAGER_STATUS;
	s[5].v.i = MIB_RS_ACTIVE;
	if (mctl_set(m, s, 6, true, NULL) != MCTL_OK)
		return -1;
	if (mgr_index)
		*mgr_index = (uint32_t)i + 1;
	return 0;
}

bool mctl_task_running(const struct mctl *m)
{
	for (size_t i = 0; i < m->cfg.max_managers; i++)
		if (m->task[i].slot >= 0 && m->task[i].current != MCTL_DEFAULT_SET)
			return true;
	return false;
}

/* ---- reads -------------------------------------------------------------- */

static int get_ruleinfo(const struct mctl *m, unsigned col, const uint32_t *idx,
			struct mctl_value *out)
{
	const struct mctl_rs *r = rs_row(m, idx[0]);
	if (!r)
		return -1;
	switch (col) {
	case MIB_RULEINFO_SIZE:
		val_int(out, MCTL_INTEGER, r->size);
		break;
	case MIB_RULEINFO_OWNER:
		val_str(out, &r->owner);
		break;
	case MIB_RULEINFO_TIMESTAMP:
		val_int(out, MCTL_TIMETICKS, uptime_cs(m, r->stamp_ns));
		break;
	case MIB_RULEINFO_STATUS:
		val_int(out, MCTL_INTEGER, r->status);
		break;
	case MIB_RULEINFO_NAME:
		val_str(out, &r->name);
		break;
	case MIB_RULEINFO_RULES_READY:
		val_int(out, MCTL_INTEGER, truth(r->status == MIB_RS_ACTIVE));
		break;
	case MIB_RULEINFO_FLOW_RECORDS:
		val_int(out, MCTL_INTEGER, (int64_t)engine_set_flows(m->e, idx[0]));
		break;
	default:
		return -1;
	}
	return 0;
}

/* A rule's mask or value as the MIB carries it: at least 2 bytes. */
static void val_addr(struct mctl_value *v, const struct rule *ru, const uint8_t *b)
{
	size_t len = ru->len < MCTL_MIB_WIDTH ? MCTL_MIB_WIDTH : ru->len;
	v->type = MCTL_OCTETS;
	v->i = 0;
	v->len = len;
	memcpy(v->s, b, len);
}

static int get_rule(const struct mctl *m, unsigned col, const uint32_t *idx,
		    struct mctl_value *out)
{
	const struct mctl_rs *r = rs_row(m, idx[0]);
	if (!r || !row_of(idx[1], r->size))
		return -1;
	const struct rule *ru = &r->rules[idx[1] - 1];
	switch (col) {
	case MIB_RULE_SELECTOR:
		val_int(out, MCTL_INTEGER, ru->attr);
		break;
	case MIB_RULE_MASK:
		val_addr(out, ru, ru->mask);
		break;
	case MIB_RULE_MATCHED_VALUE:
		val_addr(out, ru, ru->value);
		break;
	case MIB_RULE_ACTION:
		val_int(out, MCTL_INTEGER, ru->op);
		break;
	case MIB_RULE_PARAMETER:
		val_int(out, MCTL_INTEGER, ru->param);
		break;
	default:
		return -1;
	}
	return 0;
}

static bool task_standby(const struct mctl *m, size_t i)
{
	int slot = m->task[i].slot;
	return slot >= 0 && m->e->task[slot].running_standby;
}

static int get_manager(const struct mctl *m, unsigned col, const uint32_t *idx,
		       struct mctl_value *out)
{
	size_t i = row_of(idx[0], m->cfg.max_managers);
	if (!i || !m->mg[i - 1].status)
		return -1;
	const struct mctl_mgr *g = &m->mg[i - 1];
	switch (col) {
	case MIB_MANAGER_CURRENT_RULESET:
		val_int(out, MCTL_INTEGER, g->current);
		break;
	case MIB_MANAGER_STANDBY_RULESET:
		val_int(out, MCTL_INTEGER, g->standby);
		break;
	case MIB_MANAGER_HIGH_WATER_MARK:
		val_int(out, MCTL_INTEGER, g->high_water);
		break;
	case MIB_MANAGER_COUNTER_WRAP:
		val_int(out, MCTL_INTEGER, MCTL_WRAP);
		break;
	case MIB_MANAGER_OWNER:
		val_str(out, &g->owner);
		break;
	case MIB_MANAGER_TIMESTAMP:
		val_int(out, MCTL_TIMETICKS, uptime_cs(m, g->stamp_ns));
		break;
	case MIB_MANAGER_STATUS:
		val_int(out, MCTL_INTEGER, g->status);
		break;
	case MIB_MANAGER_RUNNING_STANDBY:
		val_int(out, MCTL_INTEGER, truth(task_standby(m, i - 1)));
		break;
	default:
		return -1;
	}
	return 0;
}

static int get_reader(const struct mctl *m, unsigned col, const uint32_t *idx,
		      struct mctl_value *out)
{
	size_t i = row_of(idx[0], m->cfg.max_readers);
	if (!i || !m->rd[i - 1].status)
		return -1;
	const struct mctl_reader *r = &m->rd[i - 1];
	switch (col) {
	case MIB_READER_TIMEOUT:
		val_int(out, MCTL_INTEGER, r->timeout_s);
		break;
	case MIB_READER_OWNER:
		val_str(out, &r->owner);
		break;
	case MIB_READER_LAST_TIME:
		val_int(out, MCTL_TIMETICKS, uptime_cs(m, r->last_ns));
		break;
	case MIB_READER_PREVIOUS_TIME:
		val_int(out, MCTL_TIMETICKS, uptime_cs(m, r->prev_ns));
		break;
	case MIB_READER_STATUS:
		val_int(out, MCTL_INTEGER, r->status);
		break;
	case MIB_READER_RULESET:
		if (!r->set)
			return -1;            /* not given yet: no value */
		val_int(out, MCTL_INTEGER, r->set);
		break;
	default:
		return -1;
	}
	return 0;
}

static int get_interface(const struct mctl *m, unsigned col, const uint32_t *idx,
			 struct mctl_value *out)
{
	size_t i = row_of(idx[0], m->cfg.n_interfaces);
	if (!i)
		return -1;
	switch (col) {
	case MIB_INTERFACE_SAMPLE_RATE:
		val_int(out, MCTL_INTEGER, m->ifs[i - 1].sample_rate);
		break;
	case MIB_INTERFACE_LOST_PACKETS:
		val_int(out, MCTL_COUNTER32, (uint32_t)m->ifs[i - 1].lost);
		break;
	default:
		return -1;
	}
	return 0;
}

static int get_scalar(const struct mctl *m, unsigned col, struct mctl_value *out)
{
	struct flow_stats fs;
	switch (col) {
	case MIB_FLOOD_MARK:
		val_int(out, MCTL_INTEGER, m->sc.flood_mark);
		break;
	case MIB_INACTIVITY_TIMEOUT:
		val_int(out, MCTL_INTEGER, m->sc.inactivity_s);
		break;
	case MIB_ACTIVE_FLOWS:
		flow_table_stats(m->e->flows, &fs);
		val_int(out, MCTL_INTEGER, (int64_t)fs.active);
		break;
	case MIB_MAX_FLOWS:
		val_int(out, MCTL_INTEGER, (int64_t)flow_table_capacity(m->e->flows));
		break;
	case MIB_FLOOD_MODE:
		val_int(out, MCTL_INTEGER, truth(m->e->flood_mode));
		break;
	default:
		return -1;
	}
	return 0;
}

int mctl_get(const struct mctl *m, enum mctl_table t, unsigned col,
	     const uint32_t *idx, struct mctl_value *out)
{
	memset(out, 0, sizeof *out);
	switch (t) {
	case MCTL_T_RULEINFO:
		return get_ruleinfo(m, col, idx, out);
	case MCTL_T_RULE:
		return get_rule(m, col, idx, out);
	case MCTL_T_MANAGER:
		return get_manager(m, col, idx, out);
	case MCTL_T_READER:
		return get_reader(m, col, idx, out);
	case MCTL_T_INTERFACE:
		return get_interface(m, col, idx, out);
	case MCTL_T_SCALAR:
		return get_scalar(m, col, out);
	default:
		return -1;
	}
}

/* Does row i (1-based) of table t exist?  (Rule rows aside.) */
static bool row_exists(const struct mctl *m, enum mctl_table t, uint64_t i)
{
	switch (t) {
	case MCTL_T_RULEINFO:
		return i <= m->cfg.max_rulesets && m->rs[i - 1].status;
	case MCTL_T_READER:
		return i <= m->cfg.max_readers && m->rd[i - 1].status;
	case MCTL_T_MANAGER:
		return i <= m->cfg.max_managers && m->mg[i - 1].status;
	case MCTL_T_INTERFACE:
		return i <= m->cfg.n_interfaces;
	default:
		return false;
	}
}

static size_t table_rows(const struct mctl *m, enum mctl_table t)
{
	switch (t) {
	case MCTL_T_RULEINFO:
	case MCTL_T_RULE:
		return m->cfg.max_rulesets;
	case MCTL_T_READER:
		return m->cfg.max_readers;
	case MCTL_T_MANAGER:
		return m->cfg.max_managers;
	case MCTL_T_INTERFACE:
		return m->cfg.n_interfaces;
	default:
		return 0;
	}
}

bool mctl_next_row(const struct mctl *m, enum mctl_table t,
		   const uint32_t *after, size_t n_after, uint32_t *out)
{
	size_t rows = table_rows(m, t);
	if (t != MCTL_T_RULE) {
		for (uint64_t i = n_after ? (uint64_t)after[0] + 1 : 1; i <= rows; i++)
			if (row_exists(m, t, i)) {
				out[0] = (uint32_t)i;
				return true;
			}
		return false;
	}
	/* (set) sorts before (set, 1): a partial index starts its set */
	uint64_t set = n_after ? after[0] : 1;
	uint64_t rule = n_after >= 2 ? (uint64_t)after[1] + 1 : 1;
	for (; set <= rows; set++, rule = 1) {
		const struct mctl_rs *r = set ? &m->rs[set - 1] : NULL;
		if (r && r->status && rule <= r->size) {
			out[0] = (uint32_t)set;
			out[1] = (uint32_t)rule;
			return true;
		}
	}
	return false;
}

bool mctl_next_set(const struct mctl *m, uint32_t after, uint32_t *out)
{
	return mctl_next_row(m, MCTL_T_RULEINFO, &after, 1, out);
}

/* ---- housekeeping ------------------------------------------------------- */

void mctl_set_interface_lost(struct mctl *m, uint32_t ifindex, uint64_t lost)
{
	size_t i = row_of(ifindex, m->cfg.n_interfaces);
	if (i)
		m->ifs[i - 1].lost = lost;
}

void mctl_tick(struct mctl *m)
{
	size_t n = m->cfg.max_rulesets;
	for (size_t i = 0; i <= n; i++)
		m->collected[i] = UINT64_MAX;
	for (size_t i = 0; i < m->cfg.max_readers; i++) {
		struct mctl_reader *r = &m->rd[i];
		if (!r->status)
			continue;
		if (r->timeout_s &&
		    m->now_ns - r->last_ns >= (uint64_t)r->timeout_s * MCTL_NS_PER_S) {
			memset(r, 0, sizeof *r);   /* RFC 2720: the reader died */
			continue;
		}
		if (r->status == MIB_RS_ACTIVE && r->set <= n && r->prev_ns < m->collected[r->set])
			m->collected[r->set] = r->prev_ns;
	}
	if (m->hold_gc_set)
		for (size_t i = 0; i <= n; i++)
			if (m->hold_gc_ns < m->collected[i])
				m->collected[i] = m->hold_gc_ns;
	engine_expire_dns(m->e, m->now_ns);
	engine_gc_rulesets(m->e, m->now_ns, m->collected, n + 1);
}
