/*
 * engine.h — one worker's metering pipeline: decode → PME (every task's
 * ruleset) → flow table (RFC 2722 §4.3) → DNS pairing → distributions.
 *
 * A task is a current ruleset with an optional standby ruleset (RFC 2722
 * §5.2, the MIB's flowManagerInfoTable).  All tasks share one flow table;
 * the ruleset number inside each flow key keeps their flows apart.
 *
 * Flow-table pressure (RFC 2720 flowManagerHighWaterMark, flowFloodMark):
 *  - above a task's high-water mark the task runs its standby ruleset
 *    (running_standby); with no manager to switch it back (offline runs),
 *    the engine returns to the current set once usage falls below half the
 *    mark;
 *  - at FloodMark the engine enters flood mode: packets of existing flows
 *    are still counted, no new flow is created (counted in
 *    flood_refused) until usage falls below FloodMark again.
 *
 * engine_packet() and engine_packets() are the hot path: no allocation,
 * no locks, no syscalls.
 */
#ifndef NTM_ENGINE_H
#define NTM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "dnspair.h"
#include "flow.h"
#include "packet.h"
#include "pme.h"
#include "rule.h"
#include "statdist.h"

#define ENGINE_TASKS_MAX 8

struct engine_config {
	size_t max_flows;            /* flow-table capacity */
	size_t max_pending;          /* DNS pending entries per task */
	size_t dist_slots;           /* flows that may hold an RTT distribution */
	size_t static_dists;         /* RFC 2724 static distributions (one per
	                                flow and attribute), --max-dists */
	uint64_t dns_timeout_ns;
	uint64_t inactivity_ns;      /* RFC 2720 flowInactivityTimeout */
	unsigned flood_mark;         /* percent; 0 or 100 disables */
};

#define ENGINE_DEFAULT_MAX_FLOWS    65536u
#define ENGINE_DEFAULT_MAX_PENDING  65536u
#define ENGINE_DEFAULT_DIST_SLOTS   4096u
#define ENGINE_DEFAULT_STATIC_DISTS 8192u     /* ~2 KB each, allocated only
                                                 when a ruleset asks */
#define ENGINE_DEFAULT_INACTIVITY_S 600u      /* RFC 2720 DEFVAL */
#define ENGINE_DEFAULT_FLOOD_MARK   95u       /* RFC 2720 DEFVAL */

/* One RTT sample, as --samples writes it. */
typedef void (*engine_sample_fn)(void *arg, const struct flow_table *t,
				 const struct flow *f, uint64_t ts_ns,
				 uint64_t rtt_us);

struct engine_task {
	struct pme_program *current;
	struct pme_program *standby;     /* NULL = none */
	/* the RFC 2724 static distributions each set asks for; NULL = none */
	struct statdist_rules *current_sd, *standby_sd;
	unsigned high_water;             /* percent; 0 or 100 disables */
	bool running_standby;
	struct dnspair *pair;
	struct pme_memo *memo;           /* kept, like pair, across loads */
	struct pme_stats pme;
	uint64_t standby_switches;
};

struct engine_stats {
	uint64_t packets, octets;
	uint64_t bad[PKT_BAD_MAX];       /* decode results, by reason */
	uint64_t later_fragments;
	uint64_t counted;                /* packet × task countings */
	uint64_t flood_refused;          /* new flows refused in flood mode */
	uint64_t table_full;             /* new flows refused: no record */
	uint64_t rtt_samples;
	uint64_t rtt_samples_dropped;    /* a shard's sample buffer or packet
	                                    log was full (engine_sync came
	                                    too late) */
	uint64_t dist_refused;           /* no distribution slot left */
	uint64_t static_refused;         /* (flow, attribute) static
	                                    distributions refused: pool empty */
	uint64_t flood_entries;          /* times flood mode was entered */
	uint64_t last_ns;                /* latest packet time seen */
	uint64_t ignored_if;             /* packets of ignored interfaces
	                                    (engine_ignore_interface) */
};

/* Highest interface engine_ignore_interface can switch off (a bit each). */
#define ENGINE_IF_IGNORE_MAX 64u

struct engine_retired;
struct engine_shards;
struct engine_shard_log;

struct engine {
	struct engine_config cfg;
	struct flow_table *flows;
	struct statdist_pool *sdist;     /* NULL until a ruleset asks */
	size_t n_tasks;
	struct engine_task task[ENGINE_TASKS_MAX];
	bool flood_mode;
	/* flow_gen_era(flows) when the tasks' memos' flow cookies were made
	 * (engine_task_packet) */
	uint32_t gen_era;
	uint64_t collected_ns;           /* everything before it was collected */
	struct engine_stats st;
	engine_sample_fn on_sample;
	void *sample_arg;
	/* run-time control (engine_task_*): bit i-1 = ignore ifindex i; the
	 * static-distribution rules of replaced tasks, kept while flows of
	 * their set may still point at them */
	uint64_t ignored_ifs;
	struct engine_retired *retired;
	/* --workers N: this engine is the view of N shards (below); NULL for
	 * an engine that meters packets itself */
	struct engine_shards *shards;
	/* A shard judges FloodMark and HighWaterMark by an estimate of the
	 * view's fill (engine_sync sets it): the view's records at the last
	 * sync plus n_shards times the records this shard created since
	 * (new flows spread evenly over the shards).  n_shards 0: an engine
	 * judges by its own table. */
	struct engine_pressure {
		size_t view_active, view_capacity;
		uint64_t created_at_sync;
		unsigned n_shards;
	} pressure;
	/* housekeeping every tick_mask + 1 packets: 64 for one engine; a
	 * shard checks n_shards times as often, so all shards together
	 * overshoot a mark by no more than one engine does */
	uint64_t tick_mask;
	/* a shard's log of what its view replays in time order (the static
	 * distributions that depend on packet order); NULL otherwise */
	struct engine_shard_log *shard_log;
};

/* A HighWaterMark / FloodMark percentage that is switched on: 0 and 100
 * (and above) switch it off. */
static inline bool engine_mark_enabled(unsigned percent)
{
	return percent > 0 && percent < 100;
}

/* Defaults for every field (RFC 2720 DEFVALs where the MIB has them). */
void engine_config_default(struct engine_config *c);

/* Set up the flow table; 0, or -1 with a message in d. */
int engine_init(struct engine *e, const struct engine_config *c, struct diag *d);
/* Add a task running `current` (and `standby` above high_water %).  The
 * engine keeps no pointer into them.  The RFC 2724 distributions the
 * rulesets request are decoded here (statdist_rules_init); the first
 * ruleset that asks for a static one creates the static pool
 * (cfg.static_dists entries).  0, or -1 with the PME's or the
 * distributions' load errors in d. */
int engine_add_task(struct engine *e, const struct ruleset *current,
		    const struct ruleset *standby, unsigned high_water,
		    struct diag *d);
void engine_free(struct engine *e);

/*
 * Run-time task management (the Meter MIB's flowManagerInfoTable, driven by
 * meter/mctl between packets on the engine's thread).  A task lives in a
 * fixed slot 0..ENGINE_TASKS_MAX-1; a stopped slot has no current program
 * and the packet path skips it; n_tasks is one past the highest slot ever
 * used.  Each ruleset's flows carry its SET number in their key, so the
 * rulesets given here must carry the number the flows are to be filed
 * under (mctl passes the flowRuleInfoIndex).
 *
 * Loading is split so a caller can make several changes all or nothing:
 * engine_task_prepare allocates everything a slot needs (programs,
 * distribution rules, a DNS pending table when the slot has none) and may
 * fail; engine_task_install cannot fail.  A program replaced by install
 * or stop is freed; its static-distribution rules are kept until the
 * set's flows are removed (engine_remove_set_flows) or the engine is
 * freed, as flows may still point at them.
 */
struct engine_task_load {
	struct pme_program *current, *standby;
	struct statdist_rules *current_sd, *standby_sd;
	struct dnspair *pair;            /* NULL when the slot keeps its own */
	struct pme_memo *memo;           /* likewise */
	/* a sharded engine's load carries one for each shard (engine_shards) */
	struct engine_task_load *shard;  /* n_shards entries, or NULL */
};

/* 0, or -1 with load errors in d (nothing is left allocated then, except
 * the static-distribution pool once a ruleset asked for it). */
int engine_task_prepare(struct engine *e, size_t slot,
			const struct ruleset *current,
			const struct ruleset *standby,
			struct engine_task_load *ld, struct diag *d);
/* Put a prepared load in slot (ownership passes; *ld is cleared).  The
 * task keeps running_standby only when it still has a standby. */
void engine_task_install(struct engine *e, size_t slot,
			 struct engine_task_load *ld, unsigned high_water);
/* Free a load that will not be installed. */
void engine_task_load_free(struct engine *e, struct engine_task_load *ld);
/* prepare + install: 0, or -1 with errors in d (the slot unchanged). */
int engine_task_set(struct engine *e, size_t slot,
		    const struct ruleset *current, const struct ruleset *standby,
		    unsigned high_water, struct diag *d);
/* Stop the task in slot: its pending DNS requests count as lost, its
 * programs are freed; its flows stay (collected and recovered as usual). */
void engine_task_stop(struct engine *e, size_t slot);
bool engine_task_active(const struct engine *e, size_t slot);
void engine_task_set_high_water(struct engine *e, size_t slot, unsigned high_water);
/* A manager switches the task back from its standby to its current set
 * (RFC 2720 flowManagerRunningStandby := false). */
void engine_task_return(struct engine *e, size_t slot);

/* Remove every flow of ruleset `set` (its row was destroyed); returns how
 * many. */
size_t engine_remove_set_flows(struct engine *e, unsigned set);
/* Flows of ruleset `set` in the table (current + idle). */
size_t engine_set_flows(const struct engine *e, unsigned set);

/* Incremental garbage collection with a collected point per ruleset
 * (flow_gc_rulesets: collected[r] for r < n, UINT64_MAX for the others):
 * each call inspects 1/ENGINE_GC_SPREAD of the table (at least
 * ENGINE_GC_MIN_INSPECT records) from where the last one stopped; then the
 * fill-level policy. */
#define ENGINE_GC_SPREAD       10u
#define ENGINE_GC_MIN_INSPECT  4096u
void engine_gc_rulesets(struct engine *e, uint64_t now_ns,
			const uint64_t *collected, size_t n);

/* Packets of interface ifindex (1..ENGINE_IF_IGNORE_MAX) are dropped
 * before decoding when `ignore` (flowInterfaceSampleRate 0); 0, or -1
 * for an ifindex out of range. */
int engine_ignore_interface(struct engine *e, uint32_t ifindex, bool ignore);

/* One captured packet through every task. */
void engine_packet(struct engine *e, const struct pkt *p);
/* engine_packet() for p[0], p[1], ... p[n-1] in turn, up to the first
 * stamped at or after before_ns (an offline run's next interval end): the
 * same, without a call per packet.  Returns how many it took. */
size_t engine_packets(struct engine *e, const struct pkt *p, size_t n,
		      uint64_t before_ns);

/* Housekeeping at a collection point (interval end): DNS expiry and
 * garbage collection of flows idle and collected before `collected_ns`. */
void engine_collect_point(struct engine *e, uint64_t now_ns, uint64_t collected_ns);

/* Requests unanswered for the DNS timeout by now_ns become lost (what a
 * reading at now_ns must already show). */
void engine_expire_dns(struct engine *e, uint64_t now_ns);

/* End of input: every pending request still unanswered becomes lost. */
void engine_finish(struct engine *e);

/* Flow f's RFC 2724 static distributions (statdist.h); 0 / NULL when it
 * has none. */
uint32_t engine_static_have(const struct engine *e, const struct flow *f);
const struct dist_static *engine_static_dist(const struct engine *e,
					     const struct flow *f, unsigned attr);
const struct dist_static_spec *engine_static_spec(const struct engine *e,
						  const struct flow *f,
						  unsigned attr);
/* Pool statistics (all zero when no ruleset asked). */
void engine_static_stats(const struct engine *e, struct statdist_stats *out);


/*
 * Shards (`--workers N`, meter/workers.h).  A sharded engine is a *view*:
 * it receives no packets itself; each of its N shard engines (same
 * configuration, same tasks) is fed by one worker thread.  Every task and
 * control call above made on the view (engine_add_task, engine_task_*,
 * engine_remove_set_flows, engine_ignore_interface) is applied to every
 * shard as well, all or nothing, so the slots and sets agree.  The view's
 * tasks have programs and distribution rules but no DNS pending tables
 * (the shards pair).  engine_task_install, engine_task_stop,
 * engine_remove_set_flows and engine_gc_rulesets sync a view first.
 *
 * engine_sync first copies the view's cfg.flood_mark and cfg.inactivity_ns
 * (what a manager changes, on the view) to the shards, then moves what the
 * shards counted since the last sync into the view's flows, exactly:
 * counters and DNS counters add, FirstTime is the earliest, LastActiveTime
 * the latest, RTT distributions are appended in time order (dist_append:
 * the view's ring then holds what one engine fed the same packets would
 * hold), static distributions add — except for flows whose ruleset asks
 * for one that depends on the order of the flow's packets (interarrival,
 * turnaround by the packet rule, rates), which the shards cannot compute
 * when the flow's packets go to several of them (a key without both
 * addresses, e.g. per server): their shards log each packet and RTT
 * sample (engine_packet, when shard_log is set), and the view runs the
 * merged log, in time order, through its own static distributions.  New
 * view flows are created in (FirstTime, shard, task, shard index) order, so
 * a view synced at points where every shard has seen every earlier packet
 * numbers its flows as one engine would.  A shard record whose key the
 * view holds ends swapped (the other shard saw the flow's first packet
 * going the other way) is counted into it reversed, as flow_count_packet
 * would.  The
 * shards' records are kept, not removed (pending DNS requests keep
 * pointing at them): their DNS counters and distributions are zeroed, their
 * traffic counters stay cumulative (the rate distributions compute from
 * them) and the view takes the difference.  Shard records are recovered
 * only with the view's: a view flow recovered by garbage collection or
 * removed with its set takes the shards' records of its key with it.  A
 * flow the view's full table refuses is dropped from its shard too
 * (counted in the view's st.table_full).  RTT samples a shard takes are
 * buffered (ENGINE_SHARD_SAMPLES per shard; none while the view has no
 * on_sample) and handed to the view's on_sample in time order by
 * engine_sync.  The view's st, and each task's pme, standby_switches and
 * running_standby (any shard's), are the shards' totals as of the last
 * sync, plus the view's own refusals.  A sync costs a walk of the records
 * each shard ever used, plus work for those that counted something.
 *
 * Where one engine and a view can differ (a shard cannot know what the
 * others saw):
 *  - flows first seen at the same timestamp are numbered by shard, then
 *    task, not by packet: right for the flows one packet makes, not always
 *    for several packets of one timestamp (samples of equal timestamps
 *    likewise reach on_sample in shard order);
 *  - one engine also recovers flows between collection points (its packet
 *    path collects incrementally); a view recovers at engine_collect_point
 *    and engine_gc_rulesets only, so a flow idle past the inactivity
 *    timeout whose key sees packets again before the next collection point
 *    continues in the view where one engine would start a new flow (and
 *    record numbers reused in between may differ);
 *  - FloodMark and HighWaterMark: each shard judges them by an estimate
 *    of the view's fill (struct engine_pressure) every 64 / n_shards
 *    packets, so the flows kept under pressure are within one engine's own
 *    overshoot of its count but not the same flows; each shard switches to
 *    the standby set by itself (standby_switches counts every shard's);
 *  - dns lines of engine_print_stats sum the shards' peak_pending;
 *  - when a static distribution pool runs out, the flows refused differ
 *    (each shard and the view have a pool of cfg.static_dists).
 *
 * On a view, engine_expire_dns, engine_collect_point and engine_finish act
 * on the shards, then sync; engine_gc_rulesets collects the view's flows;
 * engine_print_stats prints the totals.
 *
 * Nothing here is thread-safe: the caller (meter/workers.c) calls the view
 * only while every worker is idle, and a worker touches only its shard
 * (engine_packet).
 */
#define ENGINE_SHARDS_MAX 16u
/* Samples a shard buffers between syncs: a caller feeding a shard more
 * than ENGINE_SHARD_SAMPLES / ENGINE_TASKS_MAX packets between two syncs
 * may overflow it (counted in the shard's st.rtt_samples_dropped). */
#define ENGINE_SHARD_SAMPLES (1u << 18)

/* Initialise e as the view of n_shards (2..ENGINE_SHARDS_MAX) shards with
 * configuration c each; add tasks after this.  0, or -1 with a message. */
int engine_init_sharded(struct engine *e, const struct engine_config *c,
			size_t n_shards, struct diag *d);
/* 0 for an engine that is not a view. */
size_t engine_n_shards(const struct engine *e);
/* Shard i of a view (the engine a worker hands packets to). */
struct engine *engine_shard(struct engine *e, size_t i);
/* Bring the view up to date (see above); nothing for an unsharded engine. */
void engine_sync(struct engine *e);

/* The run statistics both meter modes print with --stats, after their own
 * first line: decode results, countings, flows, distributions, and per
 * task the PME and DNS pairing figures (one "ruleset" and one "dns" line
 * each).  Stable text: tests and scripts parse it. */
void engine_print_stats(const struct engine *e, FILE *out);

#endif
