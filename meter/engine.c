/* engine.c — one worker's pipeline (see engine.h). */
#include "engine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "decode.h"
#include "dist.h"
#include "engine_shards.h"


/* RFC 2724 transform code ntm uses for its dynamic (type 5/6) turnaround
 * distribution (doc/srl.md). */
#define ENGINE_DIST_DYNAMIC STATDIST_DYNAMIC

void engine_config_default(struct engine_config *c)
{
	memset(c, 0, sizeof *c);
	c->max_flows = ENGINE_DEFAULT_MAX_FLOWS;
	c->max_pending = ENGINE_DEFAULT_MAX_PENDING;
	c->dist_slots = ENGINE_DEFAULT_DIST_SLOTS;
	c->static_dists = ENGINE_DEFAULT_STATIC_DISTS;
	c->dns_timeout_ns = DNSPAIR_DEFAULT_TIMEOUT_NS;
	c->inactivity_ns = (uint64_t)ENGINE_DEFAULT_INACTIVITY_S * 1000000000ull;
	c->flood_mark = ENGINE_DEFAULT_FLOOD_MARK;
}

int engine_init(struct engine *e, const struct engine_config *c, struct diag *d)
{
	memset(e, 0, sizeof *e);
	e->cfg = *c;
	e->tick_mask = ENGINE_TICK - 1;
	e->flows = flow_table_create(c->max_flows);
	if (!e->flows) {
		diag_error(d, 0, 0, "cannot create a flow table of %zu flows", c->max_flows);
		return -1;
	}
	size_t slots = c->dist_slots < c->max_flows ? c->dist_slots : c->max_flows;
	if (slots && flow_table_enable_dists(e->flows, slots)) {
		diag_error(d, 0, 0, "cannot allocate %zu distributions", slots);
		flow_table_free(e->flows);
		e->flows = NULL;
		return -1;
	}
	return 0;
}

/* A recovered record's static distributions go back to the pool; a
 * view's flow takes its shards' records of the same key with it. */
static void engine_on_recover(struct flow *f, uint32_t index, void *arg)
{
	struct engine *e = arg;
	if (e->sdist)
		statdist_release(e->sdist, index);
	if (e->shards)
		engine_shards_forget(e, flow_get_key(e->flows, f));
}

void engine_watch_recover(struct engine *e)
{
	flow_table_on_recover(e->flows, engine_on_recover, e);
}

/* The static distributions rs asks for (*out NULL when none), creating the
 * pool on first need.  0, or -1 with errors in d. */
static int engine_load_static(struct engine *e, const struct ruleset *rs,
			      struct statdist_rules **out, struct diag *d)
{
	*out = NULL;
	if (!rs)
		return 0;
	struct statdist_rules *r = malloc(sizeof *r);
	if (!r) {
		diag_error(d, 0, 0, "out of memory");
		return -1;
	}
	if (statdist_rules_init(r, rs, d)) {
		free(r);
		return -1;
	}
	if (!r->present) {
		free(r);
		return 0;
	}
	if (!e->sdist) {
		e->sdist = statdist_pool_create(flow_table_capacity(e->flows),
						e->cfg.static_dists);
		if (!e->sdist) {
			diag_error(d, 0, 0, "cannot allocate %zu static distributions",
				   e->cfg.static_dists);
			free(r);
			return -1;
		}
		engine_watch_recover(e);
	}
	*out = r;
	return 0;
}

static void engine_task_free(struct engine_task *t)
{
	dnspair_free(t->pair);
	pme_memo_free(t->memo);
	pme_free(t->current);
	pme_free(t->standby);
	free(t->current_sd);
	free(t->standby_sd);
	memset(t, 0, sizeof *t);
}

/* The static-distribution rules of set `set` leave their task; flows may
 * still point at them, so they wait for engine_remove_set_flows or
 * engine_free. */
struct engine_retired {
	struct engine_retired *next;
	unsigned set;
	struct statdist_rules *sd;
};

static void engine_retire(struct engine *e, const struct pme_program *prog,
			  struct statdist_rules *sd)
{
	if (!sd)
		return;
	struct engine_retired *r = malloc(sizeof *r);
	if (!r)
		return;     /* out of memory: keeping sd alive (leaked) is safe */
	r->set = pme_ruleset(prog);
	r->sd = sd;
	r->next = e->retired;
	e->retired = r;
}

/* Free the retired rules of `set` (all sets when all). */
static void engine_free_retired(struct engine *e, unsigned set, bool all)
{
	struct engine_retired **pp = &e->retired;
	while (*pp) {
		struct engine_retired *r = *pp;
		if (all || r->set == set) {
			*pp = r->next;
			free(r->sd);
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

void engine_task_load_free(struct engine *e, struct engine_task_load *ld)
{
	if (ld->shard)
		engine_shards_load_free(e, ld);
	pme_free(ld->current);
	pme_free(ld->standby);
	free(ld->current_sd);
	free(ld->standby_sd);
	dnspair_free(ld->pair);
	pme_memo_free(ld->memo);
	memset(ld, 0, sizeof *ld);
}

int engine_task_prepare(struct engine *e, size_t slot,
			const struct ruleset *current,
			const struct ruleset *standby,
			struct engine_task_load *ld, struct diag *d)
{
	memset(ld, 0, sizeof *ld);
	if (slot >= ENGINE_TASKS_MAX) {
		diag_error(d, 0, 0, "at most %d rulesets run at once", ENGINE_TASKS_MAX);
		return -1;
	}
	if (!current) {
		diag_error(d, 0, 0, "a task needs a current ruleset");
		return -1;
	}
	ld->current = pme_load(current, d);
	if (!ld->current)
		return -1;
	if ((standby && !(ld->standby = pme_load(standby, d))) ||
	    engine_load_static(e, current, &ld->current_sd, d) ||
	    engine_load_static(e, standby, &ld->standby_sd, d))
		goto fail;
	/* a view pairs nothing itself: its shards do */
	if (!e->task[slot].pair && !e->shards) {
		ld->pair = dnspair_create(e->flows, e->cfg.max_pending, e->cfg.dns_timeout_ns);
		if (!ld->pair) {
			diag_error(d, 0, 0, "cannot create a DNS pending table of %zu entries",
				   e->cfg.max_pending);
			goto fail;
		}
	}
	if (!e->task[slot].memo && !e->shards && !(ld->memo = pme_memo_create())) {
		diag_error(d, 0, 0, "out of memory loading the ruleset");
		goto fail;
	}
	if (e->shards && engine_shards_prepare(e, slot, current, standby, ld, d))
		goto fail;
	return 0;
fail:
	engine_task_load_free(e, ld);
	return -1;
}

/* Drop the slot's programs (their distribution rules retire). */
static void engine_task_unload(struct engine *e, struct engine_task *t)
{
	engine_retire(e, t->current, t->current_sd);
	engine_retire(e, t->standby, t->standby_sd);
	pme_free(t->current);
	pme_free(t->standby);
	t->current = t->standby = NULL;
	t->current_sd = t->standby_sd = NULL;
}

void engine_task_install(struct engine *e, size_t slot,
			 struct engine_task_load *ld, unsigned high_water)
{
	struct engine_task *t = &e->task[slot];
	/* a view's flows take their rules from its tasks: sync while the
	 * shards' flows still find theirs there (nothing on one engine) */
	engine_sync(e);
	if (ld->shard)
		engine_shards_install(e, slot, ld, high_water);
	engine_task_unload(e, t);
	t->current = ld->current;
	t->standby = ld->standby;
	t->current_sd = ld->current_sd;
	t->standby_sd = ld->standby_sd;
	if (ld->pair) {
		dnspair_free(t->pair);
		t->pair = ld->pair;
	}
	if (ld->memo) {
		pme_memo_free(t->memo);
		t->memo = ld->memo;
	}
	t->high_water = high_water;
	if (!t->standby)
		t->running_standby = false;
	if (slot >= e->n_tasks)
		e->n_tasks = slot + 1;
	memset(ld, 0, sizeof *ld);
}

int engine_task_set(struct engine *e, size_t slot,
		    const struct ruleset *current, const struct ruleset *standby,
		    unsigned high_water, struct diag *d)
{
	struct engine_task_load ld;
	if (engine_task_prepare(e, slot, current, standby, &ld, d))
		return -1;
	engine_task_install(e, slot, &ld, high_water);
	return 0;
}

int engine_add_task(struct engine *e, const struct ruleset *current,
		    const struct ruleset *standby, unsigned high_water,
		    struct diag *d)
{
	if (e->n_tasks == ENGINE_TASKS_MAX) {
		diag_error(d, 0, 0, "at most %d rulesets run at once", ENGINE_TASKS_MAX);
		return -1;
	}
	return engine_task_set(e, e->n_tasks, current, standby, high_water, d);
}

void engine_task_stop(struct engine *e, size_t slot)
{
	if (!engine_task_active(e, slot))
		return;
	engine_sync(e);      /* see engine_task_install */
	struct engine_task *t = &e->task[slot];
	/* the pending table stays for the slot's next task, emptied: what
	 * cannot be answered any more is lost */
	if (t->pair)
		dnspair_expire(t->pair, UINT64_MAX, SIZE_MAX);
	engine_task_unload(e, t);
	t->running_standby = false;
	t->high_water = 0;
	for (size_t i = 0; i < engine_n_shards(e); i++)
		engine_task_stop(engine_shard(e, i), slot);
	if (e->shards)
		engine_shards_touch(e);
}

bool engine_task_active(const struct engine *e, size_t slot)
{
	return slot < e->n_tasks && e->task[slot].current;
}

void engine_task_set_high_water(struct engine *e, size_t slot, unsigned high_water)
{
	if (slot < ENGINE_TASKS_MAX)
		e->task[slot].high_water = high_water;
	for (size_t i = 0; i < engine_n_shards(e); i++)
		engine_task_set_high_water(engine_shard(e, i), slot, high_water);
}

void engine_task_return(struct engine *e, size_t slot)
{
	if (slot < ENGINE_TASKS_MAX)
		e->task[slot].running_standby = false;
	for (size_t i = 0; i < engine_n_shards(e); i++)
		engine_task_return(engine_shard(e, i), slot);
}

size_t engine_remove_set_flows(struct engine *e, unsigned set)
{
	size_t n = 0;
	struct flow *f;
	uint32_t after = 0;
	/* the view first takes what the shards counted (their buffered
	 * samples name records about to go) */
	engine_sync(e);
	while ((f = flow_next_active(e->flows, after, 0))) {
		after = flow_index(e->flows, f);
		if (flow_get_key(e->flows, f)->ruleset == set) {
			flow_remove(e->flows, f);
			n++;
		}
	}
	engine_free_retired(e, set, false);
	if (e->shards)
		engine_shards_remove_set(e, set);
	return n;
}

size_t engine_set_flows(const struct engine *e, unsigned set)
{
	size_t n = 0;
	const struct flow *f;
	uint32_t after = 0;
	while ((f = flow_next_active(e->flows, after, 0))) {
		after = flow_index(e->flows, f);
		if (flow_get_key(e->flows, f)->ruleset == set)
			n++;
	}
	return n;
}

int engine_ignore_interface(struct engine *e, uint32_t ifindex, bool ignore)
{
	if (ifindex < 1 || ifindex > ENGINE_IF_IGNORE_MAX)
		return -1;
	uint64_t bit = 1ull << (ifindex - 1);
	if (ignore)
		e->ignored_ifs |= bit;
	else
		e->ignored_ifs &= ~bit;
	for (size_t i = 0; i < engine_n_shards(e); i++)
		engine_ignore_interface(engine_shard(e, i), ifindex, ignore);
	return 0;
}

void engine_free(struct engine *e)
{
	if (e->shards)
		engine_shards_free(e);
	for (size_t i = 0; i < e->n_tasks; i++)
		engine_task_free(&e->task[i]);
	engine_free_retired(e, 0, true);
	flow_table_free(e->flows);
	statdist_pool_free(e->sdist);
	memset(e, 0, sizeof *e);
}


/* Fill-level policy (engine.h): flood mode and standby switching. */
/* The table fill the marks are judged by (engine.h, struct
 * engine_pressure). */
static unsigned engine_usage_percent(const struct engine *e)
{
	const struct engine_pressure *p = &e->pressure;
	if (!p->n_shards)
		return flow_table_usage_percent(e->flows);
	struct flow_stats fs;
	flow_table_stats(e->flows, &fs);
	uint64_t fill = p->view_active + (fs.created - p->created_at_sync) * p->n_shards;
	return fill >= p->view_capacity ? 100u : (unsigned)(fill * 100u / p->view_capacity);
}

static void engine_check_pressure(struct engine *e)
{
	if (e->shards)
		return;      /* a view reports what its shards decide */
	unsigned usage = engine_usage_percent(e);
	if (engine_mark_enabled(e->cfg.flood_mark)) {
		bool flood = usage >= e->cfg.flood_mark;
		if (flood && !e->flood_mode)
			e->st.flood_entries++;
		e->flood_mode = flood;
	}
	for (size_t i = 0; i < e->n_tasks; i++) {
		struct engine_task *t = &e->task[i];
		if (!t->standby || !engine_mark_enabled(t->high_water))
			continue;
		if (!t->running_standby && usage > t->high_water) {
			t->running_standby = true;
			t->standby_switches++;
		} else if (t->running_standby && usage < t->high_water / 2) {
			t->running_standby = false;
		}
	}
}

/* The ruleset asked for distributions: ntm's dynamic turnaround kind goes
 * to the flow table's pool, the RFC 2724 static kinds (parameters decoded
 * at load in `sd`) to the static pool. */
static void engine_want_dists(struct engine *e, struct flow *f, const struct pme_match *m,
			      const struct statdist_rules *sd)
{
	uint32_t want = 0;
	for (unsigned i = 0; i < m->n_dist; i++) {
		const struct pme_dist *pd = &m->dist[i];
		if (pd->attr == ATTR_TO_TURNAROUND_TIME && pd->mask[0] == ENGINE_DIST_DYNAMIC) {
			if (!flow_has_dist(f) && !flow_dist(e->flows, f))
				e->st.dist_refused++;
		} else if (statdist_is_attr(pd->attr)) {
			want |= statdist_bit(pd->attr);
		}
	}
	if (want && sd) {
		uint32_t refused = statdist_request(e->sdist, flow_index(e->flows, f), sd, want);
		e->st.static_refused += (unsigned)__builtin_popcount(refused);
	}
}

/* One DNS message to task t's pairing, and the RTT sample it may give
 * (inline: it runs for every DNS message a task counted). */
static inline __attribute__((always_inline)) void
engine_dns(struct engine *e, struct engine_task *t, const struct pkt_info *pi,
	   const struct dnspair_hint *h, struct flow *f)
{
	struct dnspair_sample s;
	if (dnspair_packet_hinted(t->pair, pi, h, f, &s) != DNSPAIR_ANSWER || !s.flow)
		return;
	e->st.rtt_samples++;
	if (flow_has_dist(s.flow)) {
		struct dist *d = flow_dist(e->flows, s.flow);
		dist_add(d, s.rtt_us, s.ts_ns);
	}
	if (e->sdist) {
		uint32_t idx = flow_index(e->flows, s.flow);
		statdist_dns_rtt(e->sdist, idx, s.rtt_us);
		if (e->shard_log)
			engine_shards_log_rtt(e, idx, s.ts_ns, s.rtt_us);
	}
	if (e->on_sample)
		e->on_sample(e->sample_arg, e->flows, s.flow, s.ts_ns, s.rtt_us);
}

/* DNS traffic for the turnaround rule (statdist.h): a DNS message, or
 * any other UDP/TCP segment of port 53 (TCP handshakes and ACKs answer
 * nothing; the pairing says what answers a request). */
static bool engine_dns_traffic(const struct pkt_info *pi)
{
	return pi->dns_present || decode_is_dns_port(pi);
}

/* The flow table renumbered its generations (flow_cookie): no cookie
 * the tasks' memos hold names a flow any more. */
static __attribute__((noinline, cold)) void engine_forget_cookies(struct engine *e)
{
	for (size_t i = 0; i < e->n_tasks; i++)
		if (e->task[i].memo)
			pme_memo_forget_cookies(e->task[i].memo);
	e->gen_era = flow_gen_era(e->flows);
}

/* The set task t runs now (NULL: a stopped slot), and its static
 * distributions' rules. */
static inline const struct pme_program *engine_task_prog(const struct engine_task *t)
{
	return t->running_standby ? t->standby : t->current;
}

static inline const struct statdist_rules *engine_task_sd(const struct engine_task *t)
{
	return t->running_standby ? t->standby_sd : t->current_sd;
}

/*
 * A run of packets engine_packets() takes between two housekeeping ticks
 * (one task, no interface ignored): nothing in it switches the task's set
 * (only the tick and control calls between batches do), and it counts the
 * run's statistics once (engine_run_stats), all but the decode results
 * other than OK, which the packets count (in st.bad and not_ok).
 */
struct engine_run {
	const struct pme_program *prog;       /* engine_task_prog(task 0) */
	const struct statdist_rules *sd;      /* engine_task_sd(task 0) */
	uint64_t not_ok;
};

/* Task t's part of a decoded packet: classify, count (RFC 2722 §4.3),
 * distributions.  The flow counted, or NULL.  run: t's set, as it is for
 * the whole run (NULL: not in a run). */
static inline __attribute__((always_inline)) struct flow *
engine_task_packet(struct engine *e, struct engine_task *t, const struct pkt_info *pi,
		   const struct engine_run *run)
{
	const struct pme_program *prog = run ? run->prog : engine_task_prog(t);
	struct pme_match m;
	bool reversed = false, counted_rev;
	struct flow *f;
	if (!prog)
		return NULL;       /* a stopped slot (engine_task_stop) */
	enum pme_result r = pme_classify(prog, t->memo, pi, &m, &reversed);
	pme_stats_add(&t->pme, r, reversed, &m);
	if (r != PME_COUNT)
		return NULL;
	uint64_t *cookie = m.flow_cookie;
	const struct flow_key *key = &m.key;
	if (cookie && *cookie) {
		if (!e->flood_mode && (f = flow_cookie_current(e->flows, *cookie))) {
			/* the memo entry's key was counted to f, which is
			 * still its flow and current: flow_count_packet()'s
			 * first path */
			flow_account_current(f, reversed, pi->wirelen, pi->ts_ns);
			counted_rev = reversed;
			goto counted;
		}
		key = pme_memo_key(cookie);     /* the memo did not copy it */
	}
	if (e->flood_mode) {
		/* RFC 2722 §4.3 without create() */
		f = flow_find_packet(e->flows, key, pme_key_hash(&m), reversed,
				     &counted_rev);
		if (!f) {
			e->st.flood_refused++;
			return NULL;
		}
		flow_account(e->flows, f, counted_rev, pi->wirelen, pi->ts_ns);
	} else {
		f = flow_count_packet(e->flows, key, pme_key_hash(&m), reversed,
				      pi->wirelen, pi->ts_ns, &counted_rev);
		if (flow_gen_era(e->flows) != e->gen_era)
			engine_forget_cookies(e);
		if (!f) {
			e->st.table_full++;
			return NULL;
		}
		/* counted the key's own way: f is the key's flow (not the
		 * swapped key's), current now */
		if (cookie && counted_rev == reversed)
			*cookie = flow_cookie(e->flows, f);
	}
counted:
	e->st.counted++;
	/* what a flow that has its dynamic distribution asks for matters
	 * only with static ones to ask for */
	const struct statdist_rules *sd = run ? run->sd : engine_task_sd(t);
	if ((sd || !flow_has_dist(f)) && m.n_dist)
		engine_want_dists(e, f, &m, sd);
	if (e->sdist) {
		uint32_t idx = flow_index(e->flows, f);
		bool dns = engine_dns_traffic(pi);
		statdist_packet(e->sdist, idx, f, counted_rev, pi->wirelen,
				pi->ts_ns, dns);
		if (e->shard_log)
			engine_shards_log_packet(e, idx, counted_rev, pi->wirelen,
						 pi->ts_ns, dns);
	}
	return f;
}

/* Every DNS message of the packet to the pairing of each task that
 * counted it (counted[i] for task i, n_tasks of them). */
static inline __attribute__((always_inline)) void
engine_dns_messages(struct engine *e, const struct pkt *p, struct decode_cursor *cur,
		    struct pkt_info *pi, struct dnspair_hint *hint,
		    struct flow *const *counted, size_t n_tasks)
{
	/* a TCP segment may carry several DNS messages (RFC 7766 pipelining):
	 * each one is paired */
	for (;;) {
		for (size_t i = 0; i < n_tasks; i++)
			if (counted[i])
				engine_dns(e, &e->task[i], pi, hint, counted[i]);
		if (!decode_dns_next(p, cur, pi))
			break;
		dnspair_hint(pi, hint);   /* the next message's key */
	}
}

/* Where st.bad counts a decode result. */
static inline unsigned engine_bad_slot(enum pkt_bad bad)
{
	return bad < PKT_BAD_MAX ? (unsigned)bad : PKT_BAD_LINK;
}

/* Housekeeping every tick_mask + 1 packets (engine_packet_tasks), once
 * st.packets and st.last_ns count the packet that makes the tick. */
static void engine_tick(struct engine *e)
{
	engine_check_pressure(e);
	/* a shard's records go when the view's do (engine_sync) */
	if (!e->pressure.n_shards)
		flow_gc(e->flows, e->st.last_ns, e->cfg.inactivity_ns, e->collected_ns,
			ENGINE_TICK);
}

/*
 * engine_packet() for an engine of n_tasks task slots, ignoring interfaces
 * when ignore_ifs.  Inline, and called with constants (one task, no
 * interface ignored) for the common engine, so that copy has no loop over
 * the tasks, keeps its flow in a register and asks nothing about the
 * interface.  run: the packet is in a run of engine_packets() (struct
 * engine_run), else NULL.
 */
static inline __attribute__((always_inline)) void
engine_packet_tasks(struct engine *e, const struct pkt *p, size_t n_tasks,
		    bool ignore_ifs, struct engine_run *run)
{
	struct pkt_info pi;
	struct decode_cursor cur;
	if (ignore_ifs && e->ignored_ifs && p->ifindex - 1u < ENGINE_IF_IGNORE_MAX &&
	    (e->ignored_ifs >> (p->ifindex - 1u) & 1)) {
		e->st.ignored_if++;
		return;
	}
	enum pkt_bad bad = decode_packet_cursor(p, &pi, &cur);
	/* the pending tables miss the caches on every DNS message: start
	 * their probes' fetches now, while the PME runs; the key made for
	 * that serves the pairing too */
	struct dnspair_hint hint;
	if (pi.dns_present) {
		dnspair_hint(&pi, &hint);
		for (size_t i = 0; i < n_tasks; i++)
			if (e->task[i].pair)
				dnspair_prefetch(e->task[i].pair, &hint);
	}

	if (!run) {
		e->st.packets++;
		e->st.octets += p->wirelen;
		e->st.bad[engine_bad_slot(bad)]++;
		if (p->ts_ns > e->st.last_ns)
			e->st.last_ns = p->ts_ns;
		if ((e->st.packets & e->tick_mask) == 0)
			engine_tick(e);
	} else if (bad != PKT_OK) {
		e->st.bad[engine_bad_slot(bad)]++;
		run->not_ok++;
	}
	/* Non-IP frames still go to the PME (a ruleset may count by MAC);
	 * frames whose IP header is unusable are counted by reason, skipped. */
	if (bad != PKT_OK && bad != PKT_BAD_ETHERTYPE)
		return;
	if (pi.frag == PKT_FRAG_LATER)
		e->st.later_fragments++;

	struct flow *counted[ENGINE_TASKS_MAX];
	bool any = false;
	for (size_t i = 0; i < n_tasks; i++) {
		counted[i] = engine_task_packet(e, &e->task[i], &pi, run);
		any |= counted[i] != NULL;
	}
	/* messages no task counted go to no pairing (walking them changes
	 * nothing) */
	if (any && pi.dns_present)
		engine_dns_messages(e, p, &cur, &pi, &hint, counted, n_tasks);
}

/* The engine takes engine_packet_tasks()'s copy for one task and no
 * interface ignored. */
static bool engine_simple(const struct engine *e)
{
	return e->n_tasks == 1 && !e->ignored_ifs;
}

void engine_packet(struct engine *e, const struct pkt *p)
{
	if (engine_simple(e))
		engine_packet_tasks(e, p, 1, false, NULL);
	else
		engine_packet_tasks(e, p, e->n_tasks, true, NULL);
}

/* The octets of p[0..n) and the latest of their timestamps (0 for none). */
static inline void engine_sum_packets(const struct pkt *p, size_t n, uint64_t *octets,
				      uint64_t *latest_ns)
{
	uint64_t sum = 0, latest = 0;
	/* a few packets a pass: the loop's own test is most of its cost */
#pragma GCC unroll 4
	for (const struct pkt *q = p, *end = p + n; q != end; q++) {
		sum += q->wirelen;
		if (q->ts_ns > latest)
			latest = q->ts_ns;
	}
	*octets = sum;
	*latest_ns = latest;
}

/* The leading packets of p[0..n) stamped before before_ns into st.packets,
 * st.octets and st.last_ns, in a loop with no call (engine_packets); how
 * many.  Mostly all n: the latest timestamp says so, without a test of
 * each packet's. */
static size_t engine_run_stats(struct engine *e, const struct pkt *p, size_t n,
			       uint64_t before_ns)
{
	uint64_t octets, latest_ns;
	size_t run = n;
	engine_sum_packets(p, n, &octets, &latest_ns);
	if (latest_ns >= before_ns) {
		/* the run ends at the first packet stamped at or after it */
		for (run = 0; run < n && p[run].ts_ns < before_ns; run++)
			;
		engine_sum_packets(p, run, &octets, &latest_ns);
	}
	e->st.packets += run;
	e->st.octets += octets;
	if (latest_ns > e->st.last_ns)
		e->st.last_ns = latest_ns;
	return run;
}

size_t engine_packets(struct engine *e, const struct pkt *p, size_t n, uint64_t before_ns)
{
	/* nothing on the packet path changes the tasks or the interfaces
	 * (engine.h: control calls come between packets), so the choice
	 * holds for the batch */
	size_t i = 0;
	if (!engine_simple(e)) {
		/* the general copy goes packet by packet (a packet of an
		 * ignored interface counts in none of the statistics a run
		 * counts at once) */
		for (; i < n && p[i].ts_ns < before_ns; i++)
			engine_packet_tasks(e, &p[i], e->n_tasks, true, NULL);
		return i;
	}
	/* Runs of packets up to the one before the next tick (struct
	 * engine_run) count their statistics once, before the run: nothing
	 * reads them in between (the tick's housekeeping and the caller
	 * come after it); the packet that makes the tick takes
	 * engine_packet()'s path. */
	while (i < n && p[i].ts_ns < before_ns) {
		size_t room = (size_t)(e->tick_mask - (e->st.packets & e->tick_mask));
		size_t run = engine_run_stats(e, p + i, n - i < room ? n - i : room, before_ns);
		struct engine_run r = {
			.prog = engine_task_prog(&e->task[0]),
			.sd = engine_task_sd(&e->task[0]),
		};
		for (const struct pkt *q = p + i, *end = q + run; q != end; q++)
			engine_packet_tasks(e, q, 1, false, &r);
		e->st.bad[PKT_OK] += run - r.not_ok;
		i += run;
		if (run == room && i < n && p[i].ts_ns < before_ns) {
			engine_packet_tasks(e, &p[i], 1, false, NULL);
			i++;
		}
	}
	return i;
}

/* Requests lost by now_ns, over every task. */
static size_t engine_expire_pairs(struct engine *e, uint64_t now_ns)
{
	size_t lost = 0;
	for (size_t i = 0; i < e->n_tasks; i++)
		if (e->task[i].pair)
			lost += dnspair_expire(e->task[i].pair, now_ns, SIZE_MAX);
	return lost;
}

void engine_expire_dns(struct engine *e, uint64_t now_ns)
{
	if (!e->shards) {
		engine_expire_pairs(e, now_ns);
		return;
	}
	size_t lost = 0;
	for (size_t i = 0; i < engine_n_shards(e); i++)
		lost += engine_expire_pairs(engine_shard(e, i), now_ns);
	if (lost)
		engine_shards_touch(e);      /* lost counts moved without a packet */
	engine_sync(e);
}

void engine_gc_rulesets(struct engine *e, uint64_t now_ns,
			const uint64_t *collected, size_t n)
{
	/* incremental (RFC 2123's collector): the cursor persists, so the
	 * whole table is covered every ENGINE_GC_SPREAD calls — a tick per
	 * meter second must not scan a million records each time */
	engine_sync(e);      /* a view collects what its shards counted */
	size_t cap = flow_table_capacity(e->flows);
	size_t inspect = cap / ENGINE_GC_SPREAD;
	if (inspect < ENGINE_GC_MIN_INSPECT)
		inspect = ENGINE_GC_MIN_INSPECT;
	flow_gc_rulesets(e->flows, now_ns, e->cfg.inactivity_ns, collected, n, inspect);
	engine_check_pressure(e);
	if (e->shards)
		engine_shards_pressure(e);
}

void engine_collect_point(struct engine *e, uint64_t now_ns, uint64_t collected_ns)
{
	engine_expire_dns(e, now_ns);
	/* Everything up to collected_ns has been written: records idle since
	 * before it may be recovered (RFC 2722 §4.5). */
	if (collected_ns > e->collected_ns)
		e->collected_ns = collected_ns;
	flow_gc(e->flows, now_ns, e->cfg.inactivity_ns, collected_ns,
		flow_table_capacity(e->flows));
	engine_check_pressure(e);
	if (e->shards)
		engine_shards_pressure(e);
}

void engine_finish(struct engine *e)
{
	engine_expire_dns(e, UINT64_MAX);
}

uint32_t engine_static_have(const struct engine *e, const struct flow *f)
{
	return e->sdist ? statdist_have(e->sdist, flow_index(e->flows, f)) : 0;
}

const struct dist_static *engine_static_dist(const struct engine *e,
					     const struct flow *f, unsigned attr)
{
	return e->sdist ? statdist_get(e->sdist, flow_index(e->flows, f), attr) : NULL;
}

const struct dist_static_spec *engine_static_spec(const struct engine *e,
						  const struct flow *f,
						  unsigned attr)
{
	if (!engine_static_dist(e, f, attr))
		return NULL;
	const struct statdist_rules *r = statdist_rules_of(e->sdist, flow_index(e->flows, f));
	return &r->spec[statdist_slot(attr)];
}

void engine_static_stats(const struct engine *e, struct statdist_stats *out)
{
	statdist_stats(e->sdist, out);
}

void engine_print_stats(const struct engine *e, FILE *out)
{
	const struct engine_stats *st = &e->st;
	struct flow_stats fst;
	flow_table_stats(e->flows, &fst);
	for (int b = 0; b < PKT_BAD_MAX; b++)
		if (st->bad[b])
			fprintf(out, "decode %s %" PRIu64 "\n", decode_bad_name((enum pkt_bad)b), st->bad[b]);
	fprintf(out, "counted %" PRIu64 " rtt_samples %" PRIu64 " later_fragments %" PRIu64 "\n",
		st->counted, st->rtt_samples, st->later_fragments);
	fprintf(out, "flows active %zu peak %zu created %" PRIu64 " recovered %" PRIu64
		" capacity %zu table_full %" PRIu64 " flood_refused %" PRIu64
		" flood_entries %" PRIu64 "\n",
		fst.active, fst.peak, fst.created, fst.recovered, fst.capacity,
		st->table_full, st->flood_refused, st->flood_entries);
	struct statdist_stats sds;
	engine_static_stats(e, &sds);
	fprintf(out, "dists dynamic %zu of %zu refused %" PRIu64
		" static %zu of %zu refused %" PRIu64 "\n",
		fst.dist_used, fst.dist_slots, st->dist_refused,
		sds.used, sds.slots, st->static_refused);
	for (size_t i = 0; i < e->n_tasks; i++) {
		if (!engine_task_active(e, i))
			continue;
		const struct engine_task *t = &e->task[i];
		struct dnspair_stats ds;
		if (e->shards)
			engine_shards_dns_stats(e, i, &ds);
		else
			dnspair_stats(t->pair, &ds);
		fprintf(out, "ruleset %u matched %" PRIu64 " reversed %" PRIu64 " ignored %" PRIu64
			" nomatch %" PRIu64 " standby_switches %" PRIu64 "\n",
			pme_ruleset(t->current), t->pme.counted, t->pme.counted_reversed,
			t->pme.ignored, t->pme.nomatch, t->standby_switches);
		fprintf(out, "dns %u requests %" PRIu64 " retransmits %" PRIu64 " responses %" PRIu64
			" answered %" PRIu64 " duplicates %" PRIu64 " unmatched %" PRIu64
			" lost %" PRIu64 " evicted %" PRIu64 " peak_pending %zu\n",
			pme_ruleset(t->current), ds.requests, ds.retransmits, ds.responses,
			ds.answered, ds.duplicates, ds.unmatched, ds.lost, ds.evicted,
			ds.peak_pending);
	}
}

