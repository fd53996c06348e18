/* rdmeter.c — one meter's reading procedure (see rdmeter.h). */
#include "rdmeter.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "coll.h"
#include "dif.h"
#include "dist.h"
#include "mib.h"
#include "pkg.h"
#include "rdsnmp.h"
#include "rdstate.h"
#include "rdtime.h"
#include "srl.h"
#include "version.h"

#define RULES_PER_PDU      8      /* 5 varbinds each: well under 1500 bytes */
#define RULE_ADDR_MIN      2      /* RuleAddress SIZE (2..20): pad short ones */
#define FIRST_FREE_SET     2      /* RuleSet 1 is the meter's default */
#define READER_TIMEOUTS    3      /* flowReaderTimeout = 3 intervals */
#define CELL_STR_MAX       128
#define FNV_OFFSET         0xcbf29ce484222325ull
#define FNV_PRIME          0x100000001b3ull
#define LOG_MAX            512
#define OID_MAX            128
#define LATE_FRACTION      10     /* a collection later than interval/10 is late */

static const oid oid_ruleinfo_entry[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL, MIB_RULESET_INFO_TABLE, 1 };
static const oid oid_reader_entry[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL, MIB_READER_INFO_TABLE, 1 };
static const oid oid_manager_entry[] = { MIB_FLOW_METER, MIB_FLOW_CONTROL, MIB_MANAGER_INFO_TABLE, 1 };
static const oid oid_rule_entry[] = { MIB_FLOW_METER, MIB_FLOW_RULES, MIB_RULE_TABLE, 1 };
static const oid oid_ntm_meter[] = { MIB_NTM, MIB_NTM_METER };
static const oid oid_ntm_pkg_data[] = { MIB_NTM, MIB_NTM_DATA, MIB_NTM_PACKAGE_TABLE, 1,
					MIB_PACKAGE_DATA_COL };
#define ENTRY_LEN (MIB_FLOW_METER_LEN + 3)

enum phase {
	PH_IDLE,          /* nothing scheduled */
	PH_SETUP,         /* setup requests in flight */
	PH_WAIT_SETUP,    /* timer: retry setup */
	PH_WAIT_COLLECT,  /* timer: next collection */
	PH_COLLECT,       /* collection requests in flight */
	PH_DONE
};

/* One cell of a walked control table (single-integer index). */
struct cell {
	uint32_t col, idx;
	long i;
	size_t slen;
	uint8_t s[CELL_STR_MAX];
};

struct table {
	struct cell *c;
	size_t n, cap;
};

struct rdmeter {
	const struct rdmeter_env *env;
	const struct rdconf_meter *m;
	struct rdsnmp *snmp;
	struct event *timer;

	struct ruleset rs, sb;
	bool has_sb;
	char rs_name[RDMETER_RULESET_NAME_MAX], sb_name[RDMETER_RULESET_NAME_MAX];

	struct dif_format fmt;
	struct format_item *fmt_items;       /* owned when defaulted */
	uint16_t sel[PKG_ATTRS_MAX];         /* format attrs (+ FirstTime) */
	size_t n_sel, n_attrs;
	size_t first_pos;                    /* FirstTime's place in sel */
	struct coll *coll;
	struct pkg_decoded dec;
	struct rdstate st;
	char dir[PATH_MAX], state_path[PATH_MAX];

	/* the meter as last seen */
	bool has_ntm;
	uint64_t start_ns;                   /* ntmMeterStartNs (0: unknown) */
	struct rdtime_clock clock;
	uint32_t set, sbset, mgr, reader;

	enum phase phase;
	unsigned failures;
	bool stop, primed, failed;
	bool recreated;                      /* setup had to download or register */
	long reps;                           /* GETBULK max-repetitions now */
	struct table tab;

	/* walk in flight */
	oid walk_root[OID_MAX], walk_next[OID_MAX];
	size_t walk_root_len, walk_next_len;
	void (*walk_done)(struct rdmeter *);

	/* download in flight */
	int dl_which;                        /* 0 = rules, 1 = standby */
	uint32_t dl_index;
	size_t dl_rule;

	/* collection in flight */
	uint64_t due_ns;                     /* meter time it was due (0: now) */
	uint32_t t_from, last_time;
	uint64_t end_ns;
	size_t walk_set;                     /* 0 = rules, 1 = standby */
	size_t n_records;
	unsigned bad_pkgs;
	char restart_note[256];              /* "" = none pending */
	char *checked_path;                  /* file whose #Format is ours */
};

/* ---------- small helpers ---------- */

static void logf_(struct rdmeter *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct rdmeter *r, const char *fmt, ...)
{
	char msg[LOG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->env->log)
		r->env->log(r->env->log_arg, r->m->name, msg);
}

static void oid_text(const oid *o, size_t n, char *buf, size_t cap)
{
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && at + 12 < cap; i++)
		at += (size_t)snprintf(buf + at, cap - at, "%s%lu", i ? "." : "", (unsigned long)o[i]);
}

static uint64_t be_uint(const uint8_t *b, unsigned w)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v = v << 8 | b[i];
	return v;
}

static uint64_t var_uint(const netsnmp_variable_list *v)
{
	switch (v->type) {
	case ASN_COUNTER64:
		return (uint64_t)v->val.counter64->high << 32 | v->val.counter64->low;
	case ASN_INTEGER:
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS:
		return (uint64_t)(unsigned long)*v->val.integer;
	default:
		return 0;
	}
}

static bool var_exists(const netsnmp_variable_list *v)
{
	return v->type != SNMP_NOSUCHOBJECT && v->type != SNMP_NOSUCHINSTANCE &&
	       v->type != SNMP_ENDOFMIBVIEW && v->type != ASN_NULL;
}

static void add_int(netsnmp_pdu *p, const oid *o, size_t n, long v)
{
	snmp_pdu_add_variable(p, o, n, ASN_INTEGER, &v, sizeof v);
}

static void add_str(netsnmp_pdu *p, const oid *o, size_t n, const void *s, size_t len)
{
	snmp_pdu_add_variable(p, o, n, ASN_OCTET_STR, s, len);
}

/* entry.col.idx of a table (entry OID of ENTRY_LEN sub-ids) into o. */
static size_t col_oid(oid *o, const oid *entry, unsigned col, uint32_t idx)
{
	memcpy(o, entry, ENTRY_LEN * sizeof *o);
	o[ENTRY_LEN] = col;
	o[ENTRY_LEN + 1] = idx;
	return ENTRY_LEN + 2;
}

static void add_col_int(netsnmp_pdu *p, const oid *entry, unsigned col, uint32_t idx, long v)
{
	oid o[ENTRY_LEN + 2];
	add_int(p, o, col_oid(o, entry, col, idx), v);
}

static void add_col_str(netsnmp_pdu *p, const oid *entry, unsigned col, uint32_t idx,
			const char *s)
{
	oid o[ENTRY_LEN + 2];
	add_str(p, o, col_oid(o, entry, col, idx), s, strlen(s));
}

/* ---------- rules, names, format ---------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

static uint64_t fnv_u32(uint64_t h, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	return fnv(h, b, sizeof b);
}

void rdmeter_ruleset_name(const char *path, const struct ruleset *rs,
			  char out[RDMETER_RULESET_NAME_MAX])
{
	/* what the meter runs: the rules (set number and format are ours) */
	uint64_t h = fnv_u32(FNV_OFFSET, (uint32_t)rs->n_rules);
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct rule *ru = &rs->rules[i];
		h = fnv_u32(h, ru->attr);
		h = fnv_u32(h, ru->len);
		h = fnv(h, ru->mask, ru->len);
		h = fnv(h, ru->value, ru->len);
		h = fnv_u32(h, ru->op);
		h = fnv_u32(h, ru->param);
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	/* '#' + 16 hex digits + NUL */
	int room = RDMETER_RULESET_NAME_MAX - 18;
	snprintf(out, RDMETER_RULESET_NAME_MAX, "%.*s#%016" PRIx64, room, base, h);
}

static int load_rules(const char *path, struct ruleset *rs, char *err, size_t errlen)
{
	struct diag d;
	diag_init(&d, path);
	ruleset_init(rs);
	int rc = srl_load_ruleset(path, rs, &d);
	if (rc || d.errors) {
		size_t at = 0;
		err[0] = '\0';
		for (size_t i = 0; i < d.n && at + 1 < errlen; i++) {
			const struct diag_msg *m = &d.msgs[i];
			if (m->level != DIAG_ERROR)
				continue;
			if (m->line)
				at += (size_t)snprintf(err + at, errlen - at, "%s%s:%u:%u: error: %s",
						       at ? "\n" : "", path, m->line, m->col, m->text);
			else
				at += (size_t)snprintf(err + at, errlen - at, "%s%s: error: %s",
						       at ? "\n" : "", path, m->text);
		}
		if (!at)
			snprintf(err, errlen, "%s: cannot load the ruleset", path);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	if (!rs->n_rules) {
		snprintf(err, errlen, "%s: the ruleset has no rules", path);
		return -1;
	}
	return 0;
}

static int setup_format(struct rdmeter *r, char *err, size_t errlen)
{
	if (r->rs.n_format) {
		r->fmt.items = r->rs.format;
		r->fmt.n = r->rs.n_format;
	} else {
		r->fmt_items = calloc(dif_n_default_attrs, sizeof *r->fmt_items);
		if (!r->fmt_items) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < dif_n_default_attrs; i++)
			r->fmt_items[i].attr = dif_default_attrs[i];
		r->fmt.items = r->fmt_items;
		r->fmt.n = dif_n_default_attrs;
	}
	r->n_sel = 0;
	r->first_pos = SIZE_MAX;
	for (size_t i = 0; i < r->fmt.n; i++) {
		unsigned a = r->fmt.items[i].attr;
		if (!a)
			continue;
		if (r->n_sel + 1 >= PKG_ATTRS_MAX) {
			snprintf(err, errlen, "the FORMAT lists more than %d attributes", PKG_ATTRS_MAX - 1);
			return -1;
		}
		if (a == ATTR_FIRST_TIME && r->first_pos == SIZE_MAX)
			r->first_pos = r->n_sel;
		r->sel[r->n_sel++] = (uint16_t)a;
	}
	r->n_attrs = r->n_sel;
	/* a flow is (set, index, FirstTime): read FirstTime even when the
	 * format does not show it */
	if (r->first_pos == SIZE_MAX) {
		r->first_pos = r->n_sel;
		r->sel[r->n_sel++] = ATTR_FIRST_TIME;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

/* ---------- scheduling ---------- */

static void setup(struct rdmeter *r);
static void collect(struct rdmeter *r);

static void finish(struct rdmeter *r)
{
	/* once only: closing the session at free time ends the requests in
	 * flight through their callbacks */
	if (r->phase == PH_DONE)
		return;
	r->phase = PH_DONE;
	evtimer_del(r->timer);
	if (r->env->done)
		r->env->done(r->env->done_arg, r);
}

static void arm(struct rdmeter *r, enum phase ph, uint64_t delay_ns)
{
	r->phase = ph;
	struct timeval tv = {
		.tv_sec = (time_t)(delay_ns / RDTIME_NS_PER_S),
		.tv_usec = (suseconds_t)(delay_ns % RDTIME_NS_PER_S / 1000),
	};
	evtimer_add(r->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rdmeter *r = arg;
	if (r->phase == PH_WAIT_SETUP)
		setup(r);
	else if (r->phase == PH_WAIT_COLLECT)
		collect(r);
}

static uint64_t meter_now(const struct rdmeter *r)
{
	return rdtime_meter_at(&r->clock, rdtime_wall_now());
}

/* Wait for the next multiple of the interval in meter time. */
static void schedule_next(struct rdmeter *r)
{
	if (r->stop) {
		finish(r);
		return;
	}
	uint64_t now = meter_now(r);
	r->due_ns = rdtime_next_boundary(now, r->m->interval);
	arm(r, PH_WAIT_COLLECT, rdtime_wall_until(&r->clock, rdtime_wall_now(), r->due_ns));
}

/* Something failed: retry after a backoff; the schedule of later
 * collections is kept (due_ns stays what it was). */
static void retry(struct rdmeter *r, bool in_setup)
{
	if (r->stop) {
		finish(r);
		return;
	}
	r->failures++;
	if (r->env->once && r->failures >= RDMETER_ONCE_ATTEMPTS) {
		logf_(r, "giving up after %u attempts", r->failures);
		r->failed = true;
		finish(r);
		return;
	}
	/* never wait longer than one interval of the meter's clock takes on
	 * the wall clock (a replay at speed N runs N times faster) */
	unsigned speed = r->clock.speed ? r->clock.speed : 1;
	unsigned cap = r->m->interval / speed;
	if (cap > RDMETER_BACKOFF_CAP_S)
		cap = RDMETER_BACKOFF_CAP_S;
	unsigned d = rdtime_backoff_s(r->failures, cap ? cap : 1);
	logf_(r, "retrying %s in %u s (attempt %u)", in_setup ? "setup" : "the collection",
	      d, r->failures + 1);
	arm(r, in_setup ? PH_WAIT_SETUP : PH_WAIT_COLLECT, (uint64_t)d * RDTIME_NS_PER_S);
}

/* A reply that is not a success: log it with the failing OID. */
static void log_failure(struct rdmeter *r, const char *what, const struct rdsnmp_reply *rep)
{
	if (rep->status == RDSNMP_TIMEOUT) {
		logf_(r, "%s: no response from %s:%u (timeout)", what, r->m->address, r->m->port);
		return;
	}
	if (rep->status == RDSNMP_FAILED) {
		logf_(r, "%s: %s", what, rep->why ? rep->why : "request failed");
		return;
	}
	char o[256] = "?";
	const netsnmp_variable_list *v = rep->vars;
	for (long i = 1; v && i < rep->errindex; i++)
		v = v->next_variable;
	if (v)
		oid_text(v->name, v->name_length, o, sizeof o);
	logf_(r, "%s: the meter says %s (%ld) for %s", what, rdsnmp_errname(rep->errstat),
	      rep->errstat, o);
}

/* A setup step's reply: false when it succeeded; else it is logged and
 * the setup retried later (true: the caller stops there). */
static bool setup_step_failed(struct rdmeter *r, const char *what,
			      const struct rdsnmp_reply *rep)
{
	if (rep->status == RDSNMP_OK)
		return false;
	log_failure(r, what, rep);
	retry(r, true);
	return true;
}

static void send_or_retry(struct rdmeter *r, netsnmp_pdu *p, bool write,
			  rdsnmp_cb cb, bool in_setup)
{
	if (rdsnmp_send(r->snmp, p, write, cb, r)) {
		logf_(r, "cannot send an SNMP request");
		retry(r, in_setup);
	}
}

/* ---------- table walks (setup) ---------- */

static const struct cell *cell_at(const struct rdmeter *r, uint32_t col, uint32_t idx)
{
	for (size_t i = 0; i < r->tab.n; i++)
		if (r->tab.c[i].col == col && r->tab.c[i].idx == idx)
			return &r->tab.c[i];
	return NULL;
}

static bool cell_str_is(const struct cell *c, const char *s)
{
	return c && c->slen == strlen(s) && !memcmp(c->s, s, c->slen);
}

static long cell_int(const struct cell *c, long dflt)
{
	return c ? c->i : dflt;
}

static void walk_step(struct rdmeter *r);

static void on_walk(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "reading a control table", rep))
		return;
	bool more = false;
	for (const netsnmp_variable_list *v = rep->vars; v; v = v->next_variable) {
		more = false;
		if (!var_exists(v) || v->name_length != r->walk_root_len + 2 ||
		    memcmp(v->name, r->walk_root, r->walk_root_len * sizeof(oid)))
			break;
		if (r->tab.n == r->tab.cap) {
			size_t cap = r->tab.cap ? r->tab.cap * 2 : 64;
			struct cell *c = realloc(r->tab.c, cap * sizeof *c);
			if (!c) {
				logf_(r, "out of memory");
				retry(r, true);
				return;
			}
			r->tab.c = c;
			r->tab.cap = cap;
		}
		struct cell *c = &r->tab.c[r->tab.n++];
		memset(c, 0, sizeof *c);
		c->col = (uint32_t)v->name[r->walk_root_len];
		c->idx = (uint32_t)v->name[r->walk_root_len + 1];
		if (v->type == ASN_OCTET_STR) {
			c->slen = v->val_len < CELL_STR_MAX ? v->val_len : CELL_STR_MAX;
			memcpy(c->s, v->val.string, c->slen);
		} else {
			c->i = (long)var_uint(v);
		}
		memcpy(r->walk_next, v->name, v->name_length * sizeof(oid));
		r->walk_next_len = v->name_length;
		more = true;
	}
	if (more)
		walk_step(r);
	else
		r->walk_done(r);
}

static void walk_step(struct rdmeter *r)
{
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_GETBULK);
	p->non_repeaters = 0;
	p->max_repetitions = r->reps;
	snmp_add_null_var(p, r->walk_next, r->walk_next_len);
	send_or_retry(r, p, false, on_walk, true);
}

/* Walk the table under entry (ENTRY_LEN sub-ids) into r->tab, then done. */
static void walk_table(struct rdmeter *r, const oid *entry, void (*done)(struct rdmeter *))
{
	r->tab.n = 0;
	memcpy(r->walk_root, entry, ENTRY_LEN * sizeof(oid));
	r->walk_root_len = ENTRY_LEN;
	memcpy(r->walk_next, entry, ENTRY_LEN * sizeof(oid));
	r->walk_next_len = ENTRY_LEN;
	r->walk_done = done;
	walk_step(r);
}

/* The first index >= from with no row in r->tab (any column). */
static uint32_t first_free(const struct rdmeter *r, uint32_t from)
{
	for (uint32_t i = from;; i++) {
		bool used = false;
		for (size_t k = 0; k < r->tab.n && !used; k++)
			used = r->tab.c[k].idx == i;
		if (!used)
			return i;
	}
}

static bool row_exists(const struct rdmeter *r, uint32_t idx)
{
	for (size_t k = 0; k < r->tab.n; k++)
		if (r->tab.c[k].idx == idx)
			return true;
	return false;
}

/* ---------- setup: rulesets ---------- */

static void setup_rulesets(struct rdmeter *r);
static void setup_task(struct rdmeter *r);
static void on_task_destroyed(void *arg, const struct rdsnmp_reply *rep);
static void setup_reader(struct rdmeter *r);
static void setup_done(struct rdmeter *r);
static void download_rules(struct rdmeter *r);

static const struct ruleset *dl_ruleset(const struct rdmeter *r)
{
	return r->dl_which ? &r->sb : &r->rs;
}

static const char *dl_name(const struct rdmeter *r)
{
	return r->dl_which ? r->sb_name : r->rs_name;
}

static void on_dl_active(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "activating the ruleset", rep))
		return;
	logf_(r, "downloaded %s (%zu rules) as ruleset %" PRIu32, dl_name(r),
	      dl_ruleset(r)->n_rules, r->dl_index);
	if (r->dl_which)
		r->sbset = r->dl_index;
	else
		r->set = r->dl_index;
	r->dl_which++;
	setup_rulesets(r);
}

static void on_dl_rules(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "downloading rules", rep))
		return;
	download_rules(r);
}

static void download_rules(struct rdmeter *r)
{
	const struct ruleset *rs = dl_ruleset(r);
	if (r->dl_rule >= rs->n_rules) {
		netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
		add_col_int(p, oid_ruleinfo_entry, MIB_RULEINFO_STATUS, r->dl_index, MIB_RS_ACTIVE);
		send_or_retry(r, p, true, on_dl_active, true);
		return;
	}
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
	for (size_t n = 0; n < RULES_PER_PDU && r->dl_rule < rs->n_rules; n++, r->dl_rule++) {
		const struct rule *ru = &rs->rules[r->dl_rule];
		oid o[ENTRY_LEN + 3];
		memcpy(o, oid_rule_entry, ENTRY_LEN * sizeof(oid));
		o[ENTRY_LEN + 1] = r->dl_index;
		o[ENTRY_LEN + 2] = r->dl_rule + 1;
		/* 1-byte attributes travel padded on the right (DESIGN.md) */
		uint8_t mask[RULE_ADDR_MAX] = { 0 }, value[RULE_ADDR_MAX] = { 0 };
		size_t len = ru->len < RULE_ADDR_MIN ? RULE_ADDR_MIN : ru->len;
		memcpy(mask, ru->mask, ru->len);
		memcpy(value, ru->value, ru->len);
		o[ENTRY_LEN] = MIB_RULE_SELECTOR;
		add_int(p, o, ENTRY_LEN + 3, ru->attr);
		o[ENTRY_LEN] = MIB_RULE_MASK;
		add_str(p, o, ENTRY_LEN + 3, mask, len);
		o[ENTRY_LEN] = MIB_RULE_MATCHED_VALUE;
		add_str(p, o, ENTRY_LEN + 3, value, len);
		o[ENTRY_LEN] = MIB_RULE_ACTION;
		add_int(p, o, ENTRY_LEN + 3, ru->op);
		o[ENTRY_LEN] = MIB_RULE_PARAMETER;
		add_int(p, o, ENTRY_LEN + 3, (long)ru->param);
	}
	send_or_retry(r, p, true, on_dl_rules, true);
}

static void on_dl_created(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "creating the ruleset row", rep))
		return;
	r->dl_rule = 0;
	download_rules(r);
}

static void download(struct rdmeter *r, uint32_t index)
{
	const struct ruleset *rs = dl_ruleset(r);
	r->recreated = true;
	r->dl_index = index;
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
	add_col_int(p, oid_ruleinfo_entry, MIB_RULEINFO_STATUS, index, MIB_RS_CREATE_AND_WAIT);
	add_col_str(p, oid_ruleinfo_entry, MIB_RULEINFO_OWNER, index, r->env->conf->owner);
	add_col_int(p, oid_ruleinfo_entry, MIB_RULEINFO_SIZE, index, (long)rs->n_rules);
	add_col_str(p, oid_ruleinfo_entry, MIB_RULEINFO_NAME, index, dl_name(r));
	send_or_retry(r, p, true, on_dl_created, true);
}

static void on_destroyed(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "destroying an unfinished ruleset of ours", rep))
		return;
	download(r, r->dl_index);
}

/* Walked flowRuleSetInfoTable is in r->tab: reuse or download rules
 * (dl_which 0) and standby (1). */
static void setup_rulesets(struct rdmeter *r)
{
	if (r->dl_which > (r->has_sb ? 1 : 0)) {
		walk_table(r, oid_manager_entry, setup_task);
		return;
	}
	const char *name = dl_name(r);
	for (size_t k = 0; k < r->tab.n; k++) {
		const struct cell *c = &r->tab.c[k];
		if (c->col != MIB_RULEINFO_NAME || !cell_str_is(c, name))
			continue;
		long status = cell_int(cell_at(r, MIB_RULEINFO_STATUS, c->idx), 0);
		if (status == MIB_RS_ACTIVE) {
			logf_(r, "ruleset %s is already on the meter as %" PRIu32 ": reused", name, c->idx);
			if (r->dl_which)
				r->sbset = c->idx;
			else
				r->set = c->idx;
			r->dl_which++;
			setup_rulesets(r);
			return;
		}
		if (cell_str_is(cell_at(r, MIB_RULEINFO_OWNER, c->idx), r->env->conf->owner)) {
			/* our own download that did not finish: start it again */
			logf_(r, "ruleset %" PRIu32 " (%s) is an unfinished download of ours: destroyed and downloaded again",
			      c->idx, name);
			r->dl_index = c->idx;
			netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
			add_col_int(p, oid_ruleinfo_entry, MIB_RULEINFO_STATUS, c->idx, MIB_RS_DESTROY);
			send_or_retry(r, p, true, on_destroyed, true);
			return;
		}
	}
	const struct ruleset *rs = dl_ruleset(r);
	uint32_t index = rs->set >= FIRST_FREE_SET && !row_exists(r, rs->set) &&
			 (!r->dl_which || rs->set != r->set)
			 ? rs->set : first_free(r, FIRST_FREE_SET);
	if (r->dl_which && index == r->set)
		index = first_free(r, index + 1);
	download(r, index);
}

/* ---------- setup: task and reader ---------- */

static void on_task_done(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "setting up the task (flowManagerInfoTable)", rep))
		return;
	walk_table(r, oid_reader_entry, setup_reader);
}

static void on_task_created(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "creating the task (flowManagerInfoTable)", rep))
		return;
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
	add_col_int(p, oid_manager_entry, MIB_MANAGER_STATUS, r->mgr, MIB_RS_ACTIVE);
	add_col_int(p, oid_manager_entry, MIB_MANAGER_CURRENT_RULESET, r->mgr, r->set);
	logf_(r, "task %" PRIu32 " created: ruleset %" PRIu32 ", standby %" PRIu32 ", high-water mark %d %%",
	      r->mgr, r->set, r->sbset, r->m->high_water);
	send_or_retry(r, p, true, on_task_done, true);
}

static void on_task_destroyed(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "destroying an unfinished task of ours", rep))
		return;
	walk_table(r, oid_manager_entry, setup_task);
}

static void setup_task(struct rdmeter *r)
{
	for (size_t k = 0; k < r->tab.n; k++) {
		const struct cell *c = &r->tab.c[k];
		if (c->col != MIB_MANAGER_OWNER || !cell_str_is(c, r->env->conf->owner))
			continue;
		r->mgr = c->idx;
		long status = cell_int(cell_at(r, MIB_MANAGER_STATUS, c->idx), 0);
		long cur = cell_int(cell_at(r, MIB_MANAGER_CURRENT_RULESET, c->idx), 0);
		long sb = cell_int(cell_at(r, MIB_MANAGER_STANDBY_RULESET, c->idx), 0);
		if (status == MIB_RS_ACTIVE && cur == (long)r->set && sb == (long)r->sbset) {
			logf_(r, "task %" PRIu32 " already runs ruleset %" PRIu32 ": reused", r->mgr, r->set);
			walk_table(r, oid_reader_entry, setup_reader);
			return;
		}
		if (status == MIB_RS_ACTIVE) {
			/* ours, running other rules: switch it (RFC 2720:
			 * setting CurrentRuleSet switches at once) */
			logf_(r, "task %" PRIu32 " ran ruleset %ld: switched to %" PRIu32, r->mgr, cur, r->set);
			netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
			add_col_int(p, oid_manager_entry, MIB_MANAGER_STANDBY_RULESET, r->mgr, r->sbset);
			add_col_int(p, oid_manager_entry, MIB_MANAGER_CURRENT_RULESET, r->mgr, r->set);
			send_or_retry(r, p, true, on_task_done, true);
			return;
		}
		/* ours but not active (a setup that did not finish): destroy it,
		 * then create it anew */
		logf_(r, "task %" PRIu32 " is an unfinished one of ours: destroyed", r->mgr);
		netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
		add_col_int(p, oid_manager_entry, MIB_MANAGER_STATUS, r->mgr, MIB_RS_DESTROY);
		send_or_retry(r, p, true, on_task_destroyed, true);
		return;
	}
	r->mgr = first_free(r, 1);
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
	add_col_int(p, oid_manager_entry, MIB_MANAGER_STATUS, r->mgr, MIB_RS_CREATE_AND_WAIT);
	add_col_str(p, oid_manager_entry, MIB_MANAGER_OWNER, r->mgr, r->env->conf->owner);
	add_col_int(p, oid_manager_entry, MIB_MANAGER_HIGH_WATER_MARK, r->mgr, r->m->high_water);
	add_col_int(p, oid_manager_entry, MIB_MANAGER_STANDBY_RULESET, r->mgr, r->sbset);
	send_or_retry(r, p, true, on_task_created, true);
}

static void on_reader_done(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "registering as reader (flowReaderInfoTable)", rep))
		return;
	logf_(r, "registered as reader %" PRIu32 " of ruleset %" PRIu32 " (timeout %u s)",
	      r->reader, r->set, READER_TIMEOUTS * r->m->interval);
	setup_done(r);
}

static void on_reader_created(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "creating the reader row (flowReaderInfoTable)", rep))
		return;
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
	add_col_int(p, oid_reader_entry, MIB_READER_STATUS, r->reader, MIB_RS_ACTIVE);
	send_or_retry(r, p, true, on_reader_done, true);
}

static void setup_reader(struct rdmeter *r)
{
	for (size_t k = 0; k < r->tab.n; k++) {
		const struct cell *c = &r->tab.c[k];
		if (c->col != MIB_READER_OWNER || !cell_str_is(c, r->env->conf->owner) ||
		    cell_int(cell_at(r, MIB_READER_RULESET, c->idx), 0) != (long)r->set ||
		    cell_int(cell_at(r, MIB_READER_STATUS, c->idx), 0) != MIB_RS_ACTIVE)
			continue;
		r->reader = c->idx;
		logf_(r, "reader row %" PRIu32 " of ruleset %" PRIu32 " is ours: reused", r->reader, r->set);
		setup_done(r);
		return;
	}
	r->reader = first_free(r, 1);
	r->recreated = true;
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
	add_col_int(p, oid_reader_entry, MIB_READER_STATUS, r->reader, MIB_RS_CREATE_AND_WAIT);
	add_col_str(p, oid_reader_entry, MIB_READER_OWNER, r->reader, r->env->conf->owner);
	add_col_int(p, oid_reader_entry, MIB_READER_TIMEOUT, r->reader,
		    (long)(READER_TIMEOUTS * r->m->interval));
	add_col_int(p, oid_reader_entry, MIB_READER_RULESET, r->reader, r->set);
	send_or_retry(r, p, true, on_reader_created, true);
}

/* ---------- setup: clock, entry point ---------- */

static void forget_flows(struct rdmeter *r)
{
	coll_forget_set(r->coll, r->set);
	rdstate_drop_set(&r->st, r->set);
	if (r->has_sb) {
		coll_forget_set(r->coll, r->sbset);
		rdstate_drop_set(&r->st, r->sbset);
	}
}

static void note_restart(struct rdmeter *r, const char *why)
{
	logf_(r, "meter restart: %s; downloading and registering again", why);
	snprintf(r->restart_note, sizeof r->restart_note, "%s", why);
	forget_flows(r);
	r->st.last_uptime = 0;
	r->st.last_ns = 0;
	rdstate_clear(&r->st);
}

/* Read the NTM-MIB clock scalars into the clock model; returns whether the
 * meter has them.  *start gets ntmMeterStartNs. */
static bool read_clock(struct rdmeter *r, const netsnmp_variable_list *v, uint64_t *start)
{
	uint64_t time_ns = 0, speed = 1;
	bool have = false;
	for (; v; v = v->next_variable) {
		if (!var_exists(v) || v->name_length != MIB_NTM_LEN + 3 ||
		    memcmp(v->name, oid_ntm_meter, sizeof oid_ntm_meter))
			continue;
		switch (v->name[MIB_NTM_LEN + 1]) {
		case MIB_NTM_TIME_NS:
			time_ns = var_uint(v);
			have = true;
			break;
		case MIB_NTM_START_NS:
			*start = var_uint(v);
			break;
		case MIB_NTM_SPEED:
			speed = var_uint(v);
			break;
		}
	}
	uint64_t wall = rdtime_wall_now();
	r->clock.wall_ns = wall;
	r->clock.meter_ns = have ? time_ns : wall;
	r->clock.speed = have && speed ? (unsigned)speed : 1;
	return have;
}

static void add_clock_vars(netsnmp_pdu *p)
{
	static const unsigned cols[] = { MIB_NTM_TIME_NS, MIB_NTM_START_NS, MIB_NTM_SPEED };
	for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
		oid o[MIB_NTM_LEN + 3] = { MIB_NTM, MIB_NTM_METER };
		o[MIB_NTM_LEN + 1] = cols[i];
		o[MIB_NTM_LEN + 2] = 0;
		snmp_add_null_var(p, o, MIB_NTM_LEN + 3);
	}
}

static void on_probe(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "reading the meter clock", rep))
		return;
	uint64_t start = 0;
	r->has_ntm = read_clock(r, rep->vars, &start);
	if (r->has_ntm && r->st.start_ns && start != r->st.start_ns && !r->restart_note[0]) {
		char why[160];
		snprintf(why, sizeof why, "the meter started again at %" PRIu64 " (was %" PRIu64 ")",
			 start, r->st.start_ns);
		note_restart(r, why);
	}
	if (r->has_ntm)
		r->start_ns = start;
	r->dl_which = 0;
	r->set = r->sbset = 0;
	r->recreated = false;
	walk_table(r, oid_ruleinfo_entry, setup_rulesets);
}

static void setup(struct rdmeter *r)
{
	r->phase = PH_SETUP;
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_GET);
	add_clock_vars(p);
	send_or_retry(r, p, false, on_probe, true);
}

static void set_nbins(struct rdmeter *r);
static void prime(struct rdmeter *r);

static void on_resync(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (setup_step_failed(r, "reading the meter clock", rep))
		return;
	uint64_t start = 0;
	read_clock(r, rep->vars, &start);
	if (r->has_ntm && start)
		r->start_ns = start;
	r->failures = 0;
	if (r->st.set && r->st.set != r->set) {
		/* our rules live under another index now: old readings are
		 * of flows that are gone */
		logf_(r, "ruleset index changed from %" PRIu32 " to %" PRIu32, r->st.set, r->set);
		rdstate_clear(&r->st);
		r->st.last_uptime = 0;
		r->st.last_ns = 0;
	}
	set_nbins(r);
	if (!r->primed) {
		prime(r);
		r->primed = true;
	}
	r->st.set = r->set;
	r->st.reader = r->reader;
	if (r->has_ntm)
		r->st.start_ns = r->start_ns;
	if (r->env->once) {
		r->due_ns = 0;
		collect(r);
	} else {
		schedule_next(r);
		logf_(r, "next collection at meter time %" PRIu64 " s (speed %u)",
		      (uint64_t)(r->due_ns / RDTIME_NS_PER_S), r->clock.speed);
	}
}

/* Setup finished: the clock held still until our task ran, read it again
 * to schedule. */
static void setup_done(struct rdmeter *r)
{
	/* we had collected this ruleset from this meter, and our rows were
	 * gone: it restarted while we were away (a replay of the same trace
	 * even keeps its start time) */
	if (r->recreated && r->st.set && r->st.set == r->set && !r->restart_note[0])
		note_restart(r, "our ruleset or reader row was gone");
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_GET);
	add_clock_vars(p);
	send_or_retry(r, p, false, on_resync, true);
}

/* ---------- collection ---------- */

static void walk_packages(struct rdmeter *r);

static void collection_failed(struct rdmeter *r, const char *what, const struct rdsnmp_reply *rep)
{
	log_failure(r, what, rep);
	retry(r, false);
}

static uint32_t walk_set_index(const struct rdmeter *r)
{
	return r->walk_set ? r->sbset : r->set;
}

static void start_package_walk(struct rdmeter *r)
{
	uint32_t sub[OID_MAX];
	size_t k = pkg_index_encode(true, r->sel, r->n_sel, walk_set_index(r), r->t_from, 0,
				    sub, OID_MAX - OID_LENGTH(oid_ntm_pkg_data));
	size_t base = OID_LENGTH(oid_ntm_pkg_data);
	memcpy(r->walk_root, oid_ntm_pkg_data, sizeof oid_ntm_pkg_data);
	for (size_t i = 0; i < k; i++)
		r->walk_root[base + i] = sub[i];
	/* the prefix every answer must keep: all but the flow index */
	r->walk_root_len = base + k - 1;
	memcpy(r->walk_next, r->walk_root, (base + k) * sizeof(oid));
	r->walk_next_len = base + k;
	walk_packages(r);
}

/* One package: decode, collect, remember it when it has distributions. */
static void take_package(struct rdmeter *r, uint32_t set, uint32_t index,
			 const uint8_t *b, size_t len)
{
	const char *why = NULL;
	if (pkg_decode(b, len, r->sel, r->n_sel, &r->dec, &why)) {
		if (!r->bad_pkgs++)
			logf_(r, "flow %" PRIu32 ":%" PRIu32 ": undecodable package: %s", set, index,
			      why ? why : "?");
		return;
	}
	const struct coll_value *fv = &r->dec.v[r->first_pos];
	uint64_t first = fv->kind == COLL_BYTES ? be_uint(fv->bytes, fv->width) : 0;
	if (coll_add(r->coll, set, index, first, r->dec.v)) {
		if (errno == EINVAL) {
			/* went backwards: not the flow we knew */
			coll_forget(r->coll, set, index);
			rdstate_drop(&r->st, set, index);
			if (!coll_add(r->coll, set, index, first, r->dec.v))
				goto added;
		}
		if (!r->bad_pkgs++)
			logf_(r, "flow %" PRIu32 ":%" PRIu32 ": %s", set, index, strerror(errno));
		return;
	}
added:
	r->n_records++;
	bool dists = false;
	for (size_t i = 0; i < r->n_attrs; i++)
		if (r->dec.v[i].kind == COLL_DIST || r->dec.v[i].kind == COLL_STATIC)
			dists = true;
	if (dists && rdstate_put(&r->st, set, index, first, b, len) && !r->bad_pkgs++)
		logf_(r, "flow %" PRIu32 ":%" PRIu32 ": cannot keep its package: %s", set, index,
		      strerror(errno));
}

static void write_interval(struct rdmeter *r);

static void on_packages(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (rep->status == RDSNMP_ERROR && rep->errstat == SNMP_ERR_TOOBIG && r->reps > 1) {
		r->reps /= 2;
		logf_(r, "reading flows: response too big; now %ld flows per request", r->reps);
		walk_packages(r);
		return;
	}
	if (rep->status != RDSNMP_OK) {
		collection_failed(r, "reading flows (ntmPackageTable)", rep);
		return;
	}
	bool more = false;
	uint32_t set = walk_set_index(r);
	for (const netsnmp_variable_list *v = rep->vars; v; v = v->next_variable) {
		more = false;
		if (!var_exists(v) || v->name_length != r->walk_root_len + 1 ||
		    memcmp(v->name, r->walk_root, r->walk_root_len * sizeof(oid)))
			break;
		if (v->type == ASN_OCTET_STR)
			take_package(r, set, (uint32_t)v->name[r->walk_root_len], v->val.string,
				     v->val_len);
		memcpy(r->walk_next, v->name, v->name_length * sizeof(oid));
		r->walk_next_len = v->name_length;
		more = true;
	}
	if (more) {
		walk_packages(r);
	} else if (r->has_sb && r->walk_set == 0) {
		r->walk_set = 1;
		start_package_walk(r);
	} else {
		write_interval(r);
	}
}

static void walk_packages(struct rdmeter *r)
{
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_GETBULK);
	p->non_repeaters = 0;
	p->max_repetitions = r->reps;
	snmp_add_null_var(p, r->walk_next, r->walk_next_len);
	if (rdsnmp_send(r->snmp, p, false, on_packages, r)) {
		logf_(r, "cannot send an SNMP request");
		retry(r, false);
	}
}

static void on_times(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (rep->status != RDSNMP_OK) {
		collection_failed(r, "reading LastTime", rep);
		return;
	}
	uint64_t start = 0;
	bool ntm = read_clock(r, rep->vars, &start);
	const netsnmp_variable_list *v = rep->vars;   /* LastTime first */
	if (!v || !var_exists(v)) {
		note_restart(r, "our reader row is gone");
		setup(r);
		return;
	}
	uint32_t last = (uint32_t)var_uint(v);
	if (ntm && r->start_ns && start && start != r->start_ns) {
		char why[160];
		snprintf(why, sizeof why, "the meter started again at %" PRIu64 " (was %" PRIu64 ")",
			 start, r->start_ns);
		note_restart(r, why);
		r->start_ns = start;
		setup(r);
		return;
	}
	if (last < r->st.last_uptime) {
		char why[160];
		snprintf(why, sizeof why, "uptime went back from %" PRIu32 " to %" PRIu32 " cs",
			 r->st.last_uptime, last);
		note_restart(r, why);
		setup(r);
		return;
	}
	r->last_time = last;
	r->t_from = r->st.last_uptime;
	r->end_ns = ntm && r->start_ns ? r->start_ns + (uint64_t)last * RDTIME_NS_PER_CS
				       : rdtime_wall_now();
	uint64_t late = (uint64_t)r->m->interval * RDTIME_NS_PER_S / LATE_FRACTION;
	if (r->due_ns && r->end_ns > r->due_ns + late)
		logf_(r, "late collection: due at meter time %" PRIu64 " s, made at %" PRIu64 " s",
		      (uint64_t)(r->due_ns / RDTIME_NS_PER_S), (uint64_t)(r->end_ns / RDTIME_NS_PER_S));
	coll_begin(r->coll);
	r->n_records = 0;
	r->bad_pkgs = 0;
	r->walk_set = 0;
	start_package_walk(r);
}

static void on_last_set(void *arg, const struct rdsnmp_reply *rep)
{
	struct rdmeter *r = arg;
	if (rep->status == RDSNMP_ERROR) {
		/* the row is not there (or not ours to write) any more */
		log_failure(r, "starting the collection (flowReaderLastTime)", rep);
		note_restart(r, "our reader row is gone");
		setup(r);
		return;
	}
	if (rep->status != RDSNMP_OK) {
		collection_failed(r, "starting the collection (flowReaderLastTime)", rep);
		return;
	}
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_GET);
	oid o[ENTRY_LEN + 2];
	snmp_add_null_var(p, o, col_oid(o, oid_reader_entry, MIB_READER_LAST_TIME, r->reader));
	snmp_add_null_var(p, o, col_oid(o, oid_reader_entry, MIB_READER_PREVIOUS_TIME, r->reader));
	add_clock_vars(p);
	if (rdsnmp_send(r->snmp, p, false, on_times, r)) {
		logf_(r, "cannot send an SNMP request");
		retry(r, false);
	}
}

static void collect(struct rdmeter *r)
{
	r->phase = PH_COLLECT;
	netsnmp_pdu *p = snmp_pdu_create(SNMP_MSG_SET);
	oid o[ENTRY_LEN + 2];
	u_long zero = 0;
	snmp_pdu_add_variable(p, o, col_oid(o, oid_reader_entry, MIB_READER_LAST_TIME, r->reader),
			      ASN_TIMETICKS, &zero, sizeof zero);
	if (rdsnmp_send(r->snmp, p, true, on_last_set, r)) {
		logf_(r, "cannot send an SNMP request");
		retry(r, false);
	}
}

/* ---------- output ---------- */

static void fill_header(const struct rdmeter *r, struct dif_header *h, int64_t start)
{
	*h = (struct dif_header){
		.program = NULL,
		.version = NTM_VERSION,
		.options = r->env->command_line,
		.meter = r->m->name,
		.start = start,
		.format = &r->fmt,
	};
}

/* Append "#Restart: <ISO> <epoch> <meter> <reason>" before the next
 * interval (doc/dif-format.md §3.1); a new file gets its header first,
 * through a temporary file renamed into place. */
static int write_restart(const struct rdmeter *r, const char *path, int64_t when)
{
	char iso[DIF_ISO_LEN];
	dif_iso8601(when, iso);
	char line[512];
	int n = snprintf(line, sizeof line, "#Restart: %s %" PRId64 " %s %.200s\n", iso, when,
			 r->m->name, r->restart_note);
	struct stat sb;
	if (stat(path, &sb) == 0 && sb.st_size > 0) {
		int fd = open(path, O_WRONLY | O_APPEND);
		if (fd < 0)
			return -1;
		ssize_t w = write(fd, line, (size_t)n);
		int err = errno;
		close(fd);
		if (w != n) {
			errno = w < 0 ? err : EIO;
			return -1;
		}
		return 0;
	}
	char tmp[PATH_MAX + 64];
	if (snprintf(tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	struct dif_header h;
	fill_header(r, &h, when);
	int rc = dif_write_header(f, &h);
	if (!rc && fputs(line, f) == EOF)
		rc = -1;
	if (fflush(f) || fsync(fileno(f)))
		rc = -1;
	if (fclose(f))
		rc = -1;
	if (rc || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The last "#Format:" line of the file at path into *out (malloc'd; NULL
 * when it has none).  0, or -1 with errno. */
static int last_format_line(const char *path, char **out)
{
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (strncmp(line, "#Format:", 8))
			continue;
		free(*out);
		if (!(*out = strdup(line))) {
			rc = -1;
			break;
		}
	}
	if (ferror(f))
		rc = -1;
	free(line);
	fclose(f);
	return rc;
}

/*
 * Before the first interval this run appends to an existing file: if the
 * file's last #Format is not ours (the rules changed since it was begun),
 * append our header, so the intervals that follow are read with our
 * columns (doc/dif-format.md §2: a new #Format applies to what follows).
 */
static int check_header(struct rdmeter *r, const char *path, int64_t start)
{
	if (r->checked_path && !strcmp(r->checked_path, path))
		return 0;
	struct stat sb;
	if (stat(path, &sb) == 0 && sb.st_size > 0) {
		char *buf = NULL, *theirs = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		if (!mem)
			return -1;
		struct dif_header h;
		fill_header(r, &h, start);
		int rc = dif_write_header(mem, &h);
		if (fclose(mem) || rc || last_format_line(path, &theirs)) {
			free(buf);
			free(theirs);
			return -1;
		}
		const char *ours = strstr(buf, "\n#Format:");
		if (ours && (!theirs || strcmp(ours + 1, theirs))) {
			int fd = open(path, O_WRONLY | O_APPEND);
			ssize_t w = fd < 0 ? -1 : write(fd, buf, len);
			int err = errno;
			if (fd >= 0)
				close(fd);
			if (w != (ssize_t)len) {
				free(buf);
				free(theirs);
				errno = w < 0 ? err : EIO;
				return -1;
			}
			logf_(r, "%s: begun with another #Format: our header appended", path);
		}
		free(buf);
		free(theirs);
	}
	free(r->checked_path);
	r->checked_path = strdup(path);
	return 0;
}

static void write_interval(struct rdmeter *r)
{
	size_t n = 0;
	const struct dif_record *recs = coll_records(r->coll, &n);
	uint64_t start_ns = r->st.last_ns ? r->st.last_ns
			  : r->start_ns ? r->start_ns + (uint64_t)r->t_from * RDTIME_NS_PER_CS
					: r->end_ns;
	char day[RDTIME_DAY_LEN], path[PATH_MAX + RDTIME_DAY_LEN + 8];
	rdtime_day(start_ns, day);
	snprintf(path, sizeof path, "%s/%s.dif", r->dir, day);
	if (r->restart_note[0]) {
		if (write_restart(r, path, (int64_t)(start_ns / RDTIME_NS_PER_S)))
			logf_(r, "%s: cannot note the restart: %s", path, strerror(errno));
		r->restart_note[0] = '\0';
	}
	if (check_header(r, path, (int64_t)(start_ns / RDTIME_NS_PER_S)))
		logf_(r, "%s: cannot check its #Format: %s", path, strerror(errno));
	struct dif_header h;
	fill_header(r, &h, (int64_t)(start_ns / RDTIME_NS_PER_S));
	struct dif_interval iv = {
		.start = (int64_t)(start_ns / RDTIME_NS_PER_S),
		.end = (int64_t)((r->end_ns + RDTIME_NS_PER_S - 1) / RDTIME_NS_PER_S),
		.from_uptime = r->t_from,
		.to_uptime = r->last_time,
		.meter = r->m->name,
	};
	if (dif_append_interval(path, &h, &iv, recs, n)) {
		logf_(r, "%s: cannot write the interval: %s", path, strerror(errno));
		retry(r, false);
		return;
	}
	r->st.last_uptime = r->last_time;
	r->st.last_ns = r->end_ns;
	if (rdstate_save(r->state_path, &r->st))
		logf_(r, "%s: cannot save the state: %s", r->state_path, strerror(errno));
	if (r->bad_pkgs > 1)
		logf_(r, "%u flows could not be read in this collection", r->bad_pkgs);
	logf_(r, "collected %zu flows, uptime %" PRIu32 " to %" PRIu32 " cs, into %s", n,
	      r->t_from, r->last_time, path);
	r->failures = 0;
	if (r->env->once) {
		finish(r);
		return;
	}
	schedule_next(r);
}

/* ---------- life cycle ---------- */

/* Prime the collector with the packages the state file kept, so the next
 * interval's distributions are differences from them. */
static void prime(struct rdmeter *r)
{
	coll_begin(r->coll);
	size_t w = 0;
	for (size_t i = 0; i < r->st.n; i++) {
		struct rdstate_pkg *p = &r->st.pkgs[i];
		const char *why;
		if (pkg_decode(p->bytes, p->len, r->sel, r->n_sel, &r->dec, &why) ||
		    coll_add(r->coll, p->set, p->index, p->first_id, r->dec.v)) {
			free(p->bytes);
			continue;
		}
		r->st.pkgs[w++] = *p;
	}
	r->st.n = w;
	coll_begin(r->coll);
}

struct rdmeter *rdmeter_new(const struct rdmeter_env *env,
			    const struct rdconf_meter *m, char *err, size_t errlen)
{
	struct rdmeter *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->env = env;
	r->m = m;
	r->reps = (long)env->conf->bulk_reps;
	rdstate_init(&r->st);
	ruleset_init(&r->rs);
	ruleset_init(&r->sb);
	if (load_rules(m->rules, &r->rs, err, errlen))
		goto fail;
	rdmeter_ruleset_name(m->rules, &r->rs, r->rs_name);
	if (m->standby) {
		if (load_rules(m->standby, &r->sb, err, errlen))
			goto fail;
		r->has_sb = true;
		rdmeter_ruleset_name(m->standby, &r->sb, r->sb_name);
		if (!strcmp(r->sb_name, r->rs_name)) {
			snprintf(err, errlen, "%s: the standby rules are the same as the rules", m->standby);
			goto fail;
		}
	}
	if (setup_format(r, err, errlen))
		goto fail;
	if (!(r->coll = coll_create(&r->fmt)) || pkg_decoded_init(&r->dec)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (snprintf(r->dir, sizeof r->dir, "%s/%s", m->output, m->name) >= (int)sizeof r->dir ||
	    snprintf(r->state_path, sizeof r->state_path, "%s/%s", r->dir, RDSTATE_FILE) >=
		    (int)sizeof r->state_path) {
		snprintf(err, errlen, "%s: output path too long", m->output);
		goto fail;
	}
	if (mkdir_p(r->dir)) {
		snprintf(err, errlen, "%s: %s", r->dir, strerror(errno));
		goto fail;
	}
	const char *why = NULL;
	int rc = rdstate_load(r->state_path, &r->st, &why);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s (move it away to start afresh)", r->state_path,
			 why ? why : strerror(errno));
		goto fail;
	}
	r->timer = evtimer_new(env->base, on_timer, r);
	if (!r->timer) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->snmp = rdsnmp_open(env->base, m, env->conf->timeout_ms, env->conf->retries, err, errlen);
	if (!r->snmp)
		goto fail;
	if (rc == 0) {
		logf_(r, "state: continuing from uptime %" PRIu32 " cs (%zu flows with distributions)",
		      r->st.last_uptime, r->st.n);
	}
	return r;
fail:
	rdmeter_free(r);
	return NULL;
}

void rdmeter_start(struct rdmeter *r)
{
	setup(r);
}

static void set_nbins(struct rdmeter *r)
{
	coll_set_nbins(r->coll, r->set, dist_ruleset_nbins(&r->rs));
	if (r->has_sb)
		coll_set_nbins(r->coll, r->sbset, dist_ruleset_nbins(&r->sb));
}

void rdmeter_stop(struct rdmeter *r)
{
	r->stop = true;
	if (r->phase == PH_WAIT_COLLECT || r->phase == PH_WAIT_SETUP || r->phase == PH_IDLE)
		finish(r);
	/* PH_SETUP / PH_COLLECT: finish() when the requests in flight end */
}

bool rdmeter_failed(const struct rdmeter *r)
{
	return r->failed;
}

void rdmeter_free(struct rdmeter *r)
{
	if (!r)
		return;
	r->phase = PH_DONE;
	r->stop = true;
	rdsnmp_close(r->snmp);
	if (r->timer)
		event_free(r->timer);
	coll_free(r->coll);
	pkg_decoded_fini(&r->dec);
	ruleset_free(&r->rs);
	ruleset_free(&r->sb);
	free(r->fmt_items);
	free(r->tab.c);
	rdstate_free(&r->st);
	free(r->checked_path);
	free(r);
}
