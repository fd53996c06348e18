/*
 * mctl.h — the meter's control state as the Meter MIB (RFC 2720) sees it:
 * rulesets (flowRuleSetInfoTable + flowRuleTable), tasks
 * (flowManagerInfoTable), readers (flowReaderInfoTable), interfaces
 * (flowInterfaceTable) and the general scalars, with the SET semantics of
 * RowStatus and of running rulesets.  Plain data, no SNMP: the agent
 * (meter/agent) maps OIDs and ASN.1 types onto these calls, the tests call
 * them directly.
 *
 * mctl drives the engine: a manager row that is active and names a current
 * ruleset is an engine task; destroying a ruleset removes its flows; a
 * reader's LastTime moves the garbage collector's "collected" point.
 *
 * Time: the caller tells mctl the meter clock (mctl_now) before each batch
 * of requests and on its periodic tick; every TimeStamp is meter uptime in
 * centiseconds from the start time given at creation.
 *
 * Not thread-safe: one control thread (the agent's) calls everything,
 * between packets (a single-worker meter) or while workers are held.
 *
 * Decisions where RFC 2720 leaves room (doc/mib.md explains them):
 *  - Rows live at fixed indexes: rulesets 1..max_rulesets (at most 65535:
 *    a flow key files its ruleset in 16 bits), readers 1..max_readers,
 *    managers 1..max_managers, interfaces 1..n_interfaces.  A row index
 *    outside its range gives noCreation.
 *  - RuleSet 1 is built in (RFC 2722 §4.4), owner "ntm", name "default",
 *    active, frozen (every write: notWritable), never destroyed, and not
 *    running until a manager names it.  Its two rules:
 *        1  Null           & 00 00 = 00 00  GotoAct   2
 *        2  SourcePeerType & ff 00 = 00 00  CountPkt  0
 *    (rule 1 always succeeds and switches off rule 2's test; rule 2 pushes
 *    the packet's SourcePeerType and counts: one flow per peer type).
 *  - flowRuleSetInfoTable: createAndWait makes a notReady(3) row; setting
 *    Size (0..max_rules, zeroed rule rows; rules already set are kept up to
 *    the new size; above max_rules: resourceUnavailable) makes it
 *    notInService(2) (Size 0: notReady again).  active(1) runs the
 *    load-time checks (rulecheck, pme_load, the RFC 2724 parameters); a set
 *    that fails them gets inconsistentValue and stays as it was.  RulesReady
 *    (deprecated) true(1) = Status active(1), false(2) = notInService(2),
 *    and reads true exactly when the set is active.  A set named by any
 *    manager row (active or not, Current or Standby) cannot leave active(1)
 *    nor be destroyed (inconsistentValue).  TimeStamp moves on every change
 *    of the row or its rules.
 *  - createAndGo (any table) creates the row at its varbind and activates
 *    it once every varbind of the request is in, so the other columns may
 *    follow it in the same PDU; if it cannot be activated the request fails
 *    at the createAndGo varbind.  active(1), notInService(2) and destroy(6)
 *    take effect in varbind order; a reference (Current, Standby) is
 *    checked at its varbind.  notReady(3) is never writable (wrongValue);
 *    createAndWait/createAndGo on an existing row and active/notInService
 *    on a missing one: inconsistentValue; destroy of a missing row: no error.
 *  - flowRuleTable: Selector 0 (Null) or an attribute attr.h knows that
 *    may be tested or pushed (v1..v5 and the RFC 2724 distributions
 *    included), else wrongValue; Mask and MatchedValue 0..20 octets
 *    (wrongLength above; the rule's length is the longer of the two, the
 *    shorter padded with zeros), read back at least 2 octets wide (1-byte
 *    attributes padded on the right); Action 1..17; Parameter 0..65535
 *    (0 for the actions that take none, as RFC 2722's examples write it).
 *  - flowManagerInfoTable: createAndWait gives notInService(2) (every
 *    column has a default: Current 0, Standby 0, HighWaterMark 0 =
 *    disabled).  An active row with Current != 0 is an engine task (at most
 *    ENGINE_TASKS_MAX: resourceUnavailable beyond).  Current and Standby name
 *    0 or an active set that no other manager row names (two tasks on one
 *    set would count every packet twice into the same flows), else
 *    inconsistentValue; on an active row Current, Standby, HighWaterMark
 *    and RunningStandby stay writable, Owner and CounterWrap do not
 *    (notWritable).  CounterWrap accepts wrap(1) only: the counters are
 *    Counter64 and wrap; scale(2) is wrongValue.  RunningStandby: the meter
 *    sets true(1) when the engine switched to the standby set; a manager may
 *    write false(2) to switch back now, true(1) is inconsistentValue.  With
 *    no manager action the engine also switches back by itself once usage
 *    falls below half the mark (engine.h).
 *  - flowReaderInfoTable: a new row is notReady(3) until RuleSet (1..the
 *    table's rulesets; above: inconsistentValue) is given; LastTime starts
 *    at the creation time (the Timeout runs from there) and PreviousTime at
 *    0, so nothing of the set counts as collected before the reader has
 *    set LastTime twice.  Any SET of LastTime (TimeTicks; the value written
 *    is ignored) makes PreviousTime := LastTime, LastTime := now.  Once
 *    active, only LastTime, Timeout and Status may change (notWritable).
 *  - flowInterfaceTable: SampleRate 1 (every packet) or 0 (the engine
 *    drops the interface's packets, interfaces 1..ENGINE_IF_IGNORE_MAX);
 *    1-in-N sampling is not implemented, any other value is wrongValue.
 *  - Scalars: FloodMark 0..100 (0 and 100 disable), InactivityTimeout
 *    1..2^31-1 s (0 would make every flow idle at once: wrongValue),
 *    FloodMode accepts false(2) (back to normal mode; the engine enters
 *    flood mode again if the table is still above FloodMark) and refuses
 *    true(1) (inconsistentValue: only the meter enters flood mode).
 *  - Unknown tables and columns, index columns and read-only columns give
 *    notWritable.
 */
#ifndef NTM_MCTL_H
#define NTM_MCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "engine.h"
#include "mib.h"
#include "rule.h"

/* SNMP error-status values (RFC 3416), returned by mctl_set. */
enum mctl_err {
	MCTL_OK = 0, MCTL_TOO_BIG = 1, MCTL_NO_SUCH_NAME = 2, MCTL_BAD_VALUE = 3,
	MCTL_READ_ONLY = 4, MCTL_GEN_ERR = 5, MCTL_NO_ACCESS = 6,
	MCTL_WRONG_TYPE = 7, MCTL_WRONG_LENGTH = 8, MCTL_WRONG_ENCODING = 9,
	MCTL_WRONG_VALUE = 10, MCTL_NO_CREATION = 11,
	MCTL_INCONSISTENT_VALUE = 12, MCTL_RESOURCE_UNAVAILABLE = 13,
	MCTL_COMMIT_FAILED = 14, MCTL_UNDO_FAILED = 15,
	MCTL_AUTHORIZATION_ERROR = 16, MCTL_NOT_WRITABLE = 17,
	MCTL_INCONSISTENT_NAME = 18
};

/* Which table (or the scalars) an object belongs to. */
enum mctl_table {
	MCTL_T_RULEINFO = 1,   /* flowRuleSetInfoTable: idx[0] = set */
	MCTL_T_INTERFACE,      /* flowInterfaceTable: idx[0] = ifIndex */
	MCTL_T_READER,         /* flowReaderInfoTable: idx[0] = reader */
	MCTL_T_MANAGER,        /* flowManagerInfoTable: idx[0] = manager */
	MCTL_T_SCALAR,         /* flowControl.<col>.0: col = MIB_FLOOD_MARK..MIB_FLOOD_MODE */
	MCTL_T_RULE            /* flowRuleTable: idx[0] = set, idx[1] = rule */
};

/* Value types, as the MIB declares the column (the agent maps ASN.1). */
enum mctl_type {
	MCTL_INTEGER = 1,      /* INTEGER / Integer32 / enumerations */
	MCTL_OCTETS,           /* OCTET STRING */
	MCTL_TIMETICKS,        /* TimeStamp */
	MCTL_COUNTER32
};

#define MCTL_OCTETS_MAX 255

struct mctl_value {
	uint8_t type;          /* enum mctl_type */
	int64_t i;             /* INTEGER, TIMETICKS, COUNTER32 */
	size_t len;            /* OCTETS */
	uint8_t s[MCTL_OCTETS_MAX];
};

/* One varbind of a SET request. */
struct mctl_set {
	uint8_t table;         /* enum mctl_table */
	unsigned col;          /* column sub-id (mib.h) */
	uint32_t idx[2];
	struct mctl_value v;
};

struct mctl_config {
	size_t max_rulesets;   /* rows in flowRuleSetInfoTable (default 32) */
	size_t max_rules;      /* largest flowRuleInfoSize accepted (default 65535) */
	size_t max_readers;    /* default 64 */
	size_t max_managers;   /* default ENGINE_TASKS_MAX */
	size_t n_interfaces;   /* ifIndex 1..n (default 1) */
};

void mctl_config_default(struct mctl_config *c);

struct mctl;

/*
 * Control state over engine e (which must outlive it), meter started at
 * start_ns.  RuleSet 1 is the built-in default (RFC 2722 §4.4): active,
 * frozen, never destroyed; it counts everything into one flow per
 * SourcePeerType (above).  The scalars start from e's configuration.
 * NULL when out of memory or max_rulesets / max_managers is 0.  mctl_free
 * leaves the engine's tasks to engine_free.
 */
struct mctl *mctl_create(struct engine *e, const struct mctl_config *c,
			 uint64_t start_ns);
void mctl_free(struct mctl *m);

/* The meter clock now (monotonic; earlier values are ignored). */
void mctl_now(struct mctl *m, uint64_t now_ns);
uint64_t mctl_start_ns(const struct mctl *m);
/* The clock as last set by mctl_now (ns since the epoch). */
uint64_t mctl_now_ns(const struct mctl *m);

/*
 * Start-up (`ntm-meter -r FILE`): an active ruleset at index rs->set (or
 * the first free index from 2 when rs->set is 0 or taken), with the given
 * name and owner; then a task (manager row) running it with the standby
 * (may be NULL) above high_water %.  0 with *set_index / *mgr_index
 * (either may be NULL), or -1 with the load errors in d.
 */
int mctl_load_ruleset(struct mctl *m, const struct ruleset *rs,
		      const char *name, const char *owner, uint32_t *set_index,
		      struct diag *d);
int mctl_start_task(struct mctl *m, uint32_t current, uint32_t standby,
		    unsigned high_water, const char *owner, uint32_t *mgr_index);

/* Is some task other than the default (ruleset 1) running?  (A replaying
 * meter started without -r waits for this before the first packet.) */
bool mctl_task_running(const struct mctl *m);

/*
 * Reads.  mctl_get: 0 with *out, or -1 when the instance does not exist
 * (no such row, not-accessible column, or a column with no value).
 * mctl_next_row: the first row index strictly after `after` (n_after
 * sub-ids, 0 = from the start; a partial index sorts before its
 * completions) in the table's index order; true with out[] set (1 or 2
 * sub-ids), false when there is none (always for MCTL_T_SCALAR: the
 * scalars' one instance is .0, idx is ignored by mctl_get).  A ruleset
 * with Size 0 has no rule rows.
 */
int mctl_get(const struct mctl *m, enum mctl_table t, unsigned col,
	     const uint32_t *idx, struct mctl_value *out);
bool mctl_next_row(const struct mctl *m, enum mctl_table t,
		   const uint32_t *after, size_t n_after, uint32_t *out);

/*
 * A SET request, all or nothing: the varbinds are checked in order, each
 * against the state the previous ones leave (so createAndWait, Size and the
 * rules can come in one PDU).  commit false: check only (net-snmp's
 * RESERVE phases); true: check and apply.  Returns MCTL_OK, or the error
 * of the first failing varbind with its position in *failed:
 *   wrongType / wrongLength / wrongValue  bad ASN.1 type, size or range;
 *   notWritable        read-only column, or a ruleset/row that is active
 *                      (frozen) or running;
 *   noCreation         a row that does not exist and cannot be created by
 *                      this column (create with RowStatus; rule rows exist
 *                      once Size is set);
 *   inconsistentValue  a RowStatus transition or a reference the state
 *                      refuses (activating an invalid ruleset, destroying a
 *                      running one, naming a ruleset that is not active);
 *   resourceUnavailable  no free row / task slot / memory, Size above
 *                      max_rules.
 * A request that runs or stops tasks loads the engine programs after every
 * varbind passed; if that fails (memory) the request fails with
 * resourceUnavailable at position 0 and nothing changes.
 */
enum mctl_err mctl_set(struct mctl *m, const struct mctl_set *sets, size_t n,
		       bool commit, size_t *failed);

/* A reader inside the meter (a live run writing its own .dif) has read
 * everything before until_ns: no flow changed since is recovered, for any
 * ruleset, whatever the SNMP readers have collected.  0 = no such reader. */
void mctl_hold_gc(struct mctl *m, uint64_t until_ns);

/* Drops reported by the capture for interface ifindex (cumulative). */
void mctl_set_interface_lost(struct mctl *m, uint32_t ifindex, uint64_t lost);

/*
 * Periodic housekeeping at the current clock (call about once a second of
 * meter time): readers past their timeout are deleted (now >= LastTime +
 * Timeout), DNS requests past their timeout become lost, and the garbage
 * collector walks the whole flow table with the collected point of each
 * ruleset: the oldest PreviousTime of its active readers, or "everything"
 * when it has none (RFC 2722 §4.5); InactivityTimeout decides what is idle.
 */
void mctl_tick(struct mctl *m);

/*
 * Data-table helpers for the agent.  A ruleset's flows carry its index in
 * their key; mctl_next_set gives the rulesets in index order (after 0 =
 * first) that may have flows; false at the end.
 */
bool mctl_next_set(const struct mctl *m, uint32_t after, uint32_t *out);

/* Uptime (centiseconds) at the current clock. */
uint32_t mctl_uptime_cs(const struct mctl *m);

#endif
