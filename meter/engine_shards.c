/* engine_shards.c — a view engine over N shard engines (engine.h,
 * "Shards"): set-up, the shards' sample buffers, engine_sync. */
#include "engine.h"
#include "engine_shards.h"

#include <stdlib.h>
#include <string.h>

#include "dist.h"

/* Workers write their shards concurrently: each shard starts on its own
 * cache line. */
#define SHARD_ALIGN 64u
/* Scratch entries per shard allocated up front; more when the shards hold
 * more flows (a table of a million records rarely fills). */
#define TOUCHED_START 4096u

/* What a shard record has already given the view.  Its traffic counters
 * stay cumulative, since the rate distributions (statdist.h) compute
 * from them; the view takes the difference.  Everything else a record
 * counts (DNS counters, distributions) is zeroed once taken. */
struct shard_base {
	uint64_t to_octets, to_pdus, from_octets, from_pdus;
};

/* What a shard logs for the view to replay: the static distributions
 * whose values depend on the order of a flow's packets (interarrival,
 * turnaround by the packet rule, rates) can only be computed from the
 * flow's packets of every shard, in time order. */
enum { LOG_PACKET, LOG_RTT };

struct log_event {
	uint64_t ts_ns;
	uint64_t value;                 /* octets, or the RTT in µs */
	uint32_t index;                 /* the shard's flow */
	uint8_t kind, reverse, dns;
};

/* A packet and an RTT sample per task and packet at most, between two
 * syncs that come every ENGINE_SHARD_SAMPLES / ENGINE_TASKS_MAX packets. */
#define LOG_EVENTS (2u * ENGINE_SHARD_SAMPLES)

struct engine_shard_log {
	struct log_event *ev;           /* LOG_EVENTS entries */
	size_t n;
};

/* An RTT sample a shard took, for the view's on_sample. */
struct shard_sample {
	uint64_t ts_ns, rtt_us;
	uint32_t index;                 /* the shard's flow */
};

struct shard {
	struct engine e;                /* what the worker runs */
	struct engine *view;
	struct shard_base *base;        /* [flow index - 1] */
	struct shard_sample *smp;       /* ENGINE_SHARD_SAMPLES entries */
	size_t n_smp;
	struct engine_shard_log log;
	uint32_t *vmap;                 /* [flow index - 1]: the sync's touched
	                                   entry + 1, while it replays */
	uint64_t synced_packets;        /* st.packets + st.ignored_if at the
	                                   last sync */
};

/* A shard record with something new at a sync. */
struct touched {
	uint64_t first_ns;
	uint32_t index;                 /* in its shard */
	uint32_t vindex;                /* the view flow it goes to, 0 = none */
	uint32_t head;                  /* first entry of its view flow's group */
	uint8_t shard;
	uint8_t slot;                   /* the task its ruleset runs in */
	bool swapped;                   /* the view files it ends swapped */
	/* (group head) the replay's counts still to come: To, From octets
	 * and PDUs */
	uint64_t rem[4];
};

struct engine_shards {
	size_t n;
	struct shard *sh[ENGINE_SHARDS_MAX];
	struct touched *touched;        /* scratch of a sync, grown on need */
	size_t touched_cap;
	struct dist *merge;             /* one key's samples from several shards */
	bool dirty;                     /* changed without a packet */
	/* the view's own refusals (the rest of its st is the shards' sum) */
	uint64_t table_full, dist_refused, static_refused;
};

/* ---- set-up ---- */

/* The shard's on_sample: buffered until engine_sync hands it to the
 * view's in time order.  Per packet: no allocation; a full buffer drops
 * the sample (counted). */
static void shard_sample(void *arg, const struct flow_table *t,
			 const struct flow *f, uint64_t ts_ns, uint64_t rtt_us)
{
	struct shard *s = arg;
	if (!s->view->on_sample)
		return;         /* nobody listens (as one engine would not call) */
	if (s->n_smp == ENGINE_SHARD_SAMPLES) {
		s->e.st.rtt_samples_dropped++;
		return;
	}
	s->smp[s->n_smp++] = (struct shard_sample){
		.ts_ns = ts_ns, .rtt_us = rtt_us, .index = flow_index(t, f),
	};
}

/* Slots of the static distributions that depend on packet order:
 * everything but the packet sizes. */
static uint32_t order_slots(void)
{
	return ((1u << STATDIST_N) - 1) &
	       ~(statdist_bit(ATTR_TO_PACKET_SIZE) | statdist_bit(ATTR_FROM_PACKET_SIZE));
}

/* Does shard record idx compute any of those (the view then replays all
 * its static distributions instead of adding the shards')? */
static bool replayed(const struct engine *e, uint32_t idx)
{
	const struct statdist_rules *r = e->sdist ? statdist_rules_of(e->sdist, idx) : NULL;
	return r && (r->present & order_slots());
}

static void log_event(struct engine *e, const struct log_event *ev)
{
	struct engine_shard_log *l = e->shard_log;
	if (l->n == LOG_EVENTS) {
		e->st.rtt_samples_dropped++;
		return;
	}
	l->ev[l->n++] = *ev;
}

void engine_shards_log_packet(struct engine *shard, uint32_t idx, bool reverse,
			      uint32_t octets, uint64_t ts_ns, bool dns)
{
	if (!replayed(shard, idx))
		return;
	struct log_event ev = {
		.ts_ns = ts_ns, .value = octets, .index = idx,
		.kind = LOG_PACKET, .reverse = reverse, .dns = dns,
	};
	log_event(shard, &ev);
}

void engine_shards_log_rtt(struct engine *shard, uint32_t idx, uint64_t ts_ns,
			   uint64_t rtt_us)
{
	if (!replayed(shard, idx))
		return;
	struct log_event ev = {
		.ts_ns = ts_ns, .value = rtt_us, .index = idx, .kind = LOG_RTT,
	};
	log_event(shard, &ev);
}

static void shard_free(struct shard *s)
{
	engine_free(&s->e);
	free(s->base);
	free(s->smp);
	free(s->log.ev);
	free(s->vmap);
	free(s);
}

static struct shard *shard_create(struct engine *view, const struct engine_config *c,
				  struct diag *d)
{
	size_t size = (sizeof(struct shard) + SHARD_ALIGN - 1) / SHARD_ALIGN * SHARD_ALIGN;
	struct shard *s = aligned_alloc(SHARD_ALIGN, size);
	if (!s) {
		diag_error(d, 0, 0, "out of memory");
		return NULL;
	}
	memset(s, 0, sizeof *s);
	if (engine_init(&s->e, c, d)) {
		free(s);
		return NULL;
	}
	size_t cap = flow_table_capacity(s->e.flows);
	s->base = calloc(cap, sizeof *s->base);
	s->smp = malloc(ENGINE_SHARD_SAMPLES * sizeof *s->smp);
	s->log.ev = malloc(LOG_EVENTS * sizeof *s->log.ev);
	s->vmap = calloc(cap, sizeof *s->vmap);
	if (!s->base || !s->smp || !s->log.ev || !s->vmap) {
		diag_error(d, 0, 0, "out of memory");
		shard_free(s);
		return NULL;
	}
	s->view = view;
	s->e.on_sample = shard_sample;
	s->e.sample_arg = s;
	s->e.shard_log = &s->log;
	return s;
}

int engine_init_sharded(struct engine *e, const struct engine_config *c,
			size_t n_shards, struct diag *d)
{
	if (n_shards < 2 || n_shards > ENGINE_SHARDS_MAX) {
		memset(e, 0, sizeof *e);
		diag_error(d, 0, 0, "a sharded engine has 2 to %u shards, not %zu",
			   ENGINE_SHARDS_MAX, n_shards);
		return -1;
	}
	if (engine_init(e, c, d))
		return -1;
	struct engine_shards *S = calloc(1, sizeof *S);
	if (!S) {
		diag_error(d, 0, 0, "out of memory");
		engine_free(e);
		return -1;
	}
	e->shards = S;          /* from here engine_free frees what there is */
	size_t cap = flow_table_capacity(e->flows);
	S->touched_cap = n_shards * (cap < TOUCHED_START ? cap : TOUCHED_START);
	S->touched = calloc(S->touched_cap, sizeof *S->touched);
	S->merge = malloc(sizeof *S->merge);
	if (!S->touched || !S->merge) {
		diag_error(d, 0, 0, "out of memory");
		engine_free(e);
		return -1;
	}
	/* shards check the marks n_shards times as often (engine.h) */
	uint64_t tick = 1;
	while (tick * 2 * n_shards <= ENGINE_TICK)
		tick *= 2;
	for (size_t i = 0; i < n_shards; i++) {
		S->sh[i] = shard_create(e, c, d);
		if (!S->sh[i]) {
			engine_free(e);
			return -1;
		}
		S->sh[i]->e.tick_mask = tick - 1;
		S->n = i + 1;
	}
	engine_watch_recover(e);
	engine_shards_pressure(e);
	return 0;
}

void engine_shards_pressure(struct engine *view)
{
	struct engine_shards *S = view->shards;
	struct flow_stats vs;
	flow_table_stats(view->flows, &vs);
	for (size_t i = 0; i < S->n; i++) {
		struct engine *e = &S->sh[i]->e;
		struct flow_stats fs;
		flow_table_stats(e->flows, &fs);
		e->pressure = (struct engine_pressure){
			.view_active = vs.active, .view_capacity = vs.capacity,
			.created_at_sync = fs.created, .n_shards = (unsigned)S->n,
		};
	}
}

void engine_shards_free(struct engine *view)
{
	struct engine_shards *S = view->shards;
	for (size_t i = 0; i < S->n; i++)
		shard_free(S->sh[i]);
	free(S->touched);
	free(S->merge);
	free(S);
	view->shards = NULL;
}

size_t engine_n_shards(const struct engine *e)
{
	return e->shards ? e->shards->n : 0;
}

struct engine *engine_shard(struct engine *e, size_t i)
{
	return e->shards && i < e->shards->n ? &e->shards->sh[i]->e : NULL;
}

/* ---- mirrored control ---- */

int engine_shards_prepare(struct engine *view, size_t slot,
			  const struct ruleset *current,
			  const struct ruleset *standby,
			  struct engine_task_load *ld, struct diag *d)
{
	struct engine_shards *S = view->shards;
	ld->shard = calloc(S->n, sizeof *ld->shard);
	if (!ld->shard) {
		diag_error(d, 0, 0, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < S->n; i++) {
		if (engine_task_prepare(&S->sh[i]->e, slot, current, standby,
					&ld->shard[i], d) == 0)
			continue;
		for (size_t j = 0; j < i; j++)
			engine_task_load_free(&S->sh[j]->e, &ld->shard[j]);
		free(ld->shard);
		ld->shard = NULL;
		return -1;
	}
	return 0;
}

void engine_shards_install(struct engine *view, size_t slot,
			   struct engine_task_load *ld, unsigned high_water)
{
	struct engine_shards *S = view->shards;
	for (size_t i = 0; i < S->n; i++)
		engine_task_install(&S->sh[i]->e, slot, &ld->shard[i], high_water);
	free(ld->shard);
	ld->shard = NULL;
	S->dirty = true;
}

void engine_shards_load_free(struct engine *view, struct engine_task_load *ld)
{
	struct engine_shards *S = view->shards;
	for (size_t i = 0; S && i < S->n; i++)
		engine_task_load_free(&S->sh[i]->e, &ld->shard[i]);
	free(ld->shard);
	ld->shard = NULL;
}

void engine_shards_touch(struct engine *view)
{
	view->shards->dirty = true;
}

/* Every removal of a shard record goes through here, so its base starts
 * from zero for the next flow in the record. */
static void shard_remove(struct shard *s, struct flow *f)
{
	memset(&s->base[flow_index(s->e.flows, f) - 1], 0, sizeof *s->base);
	flow_remove(s->e.flows, f);
}

void engine_shards_forget(struct engine *view, const struct flow_key *k)
{
	struct engine_shards *S = view->shards;
	uint64_t h = flow_key_hash(k);
	struct flow_key sw;
	flow_key_swap(k, &sw);
	uint64_t hs = flow_key_hash(&sw);
	/* a shard record the view filed ends swapped (resolve) goes too,
	 * unless the view holds that key as a flow of its own */
	bool swapped_too = !flow_lookup(view->flows, &sw, hs);
	for (size_t i = 0; i < S->n; i++) {
		struct shard *s = S->sh[i];
		struct flow *f = flow_lookup(s->e.flows, k, h);
		if (f)
			shard_remove(s, f);
		if (swapped_too && (f = flow_lookup(s->e.flows, &sw, hs)))
			shard_remove(s, f);
	}
}

void engine_shards_remove_set(struct engine *view, unsigned set)
{
	struct engine_shards *S = view->shards;
	for (size_t i = 0; i < S->n; i++) {
		struct shard *s = S->sh[i];
		struct flow *f;
		uint32_t after = 0;
		while ((f = flow_next_active(s->e.flows, after, 0))) {
			after = flow_index(s->e.flows, f);
			if (flow_get_key(s->e.flows, f)->ruleset == set)
				shard_remove(s, f);
		}
		/* nothing of the set is left: this frees its retired rules */
		engine_remove_set_flows(&s->e, set);
	}
}

/* ---- statistics ---- */

static void dns_stats_add(struct dnspair_stats *to, const struct dnspair_stats *x)
{
	to->requests += x->requests;
	to->retransmits += x->retransmits;
	to->responses += x->responses;
	to->answered += x->answered;
	to->duplicates += x->duplicates;
	to->unmatched += x->unmatched;
	to->lost += x->lost;
	to->evicted += x->evicted;
	to->stale_flow += x->stale_flow;
	to->negative_rtt += x->negative_rtt;
	to->pending += x->pending;
	to->peak_pending += x->peak_pending;   /* the shards' peaks, summed */
}

void engine_shards_dns_stats(const struct engine *view, size_t slot,
			     struct dnspair_stats *out)
{
	const struct engine_shards *S = view->shards;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < S->n; i++) {
		const struct dnspair *p = S->sh[i]->e.task[slot].pair;
		if (!p)
			continue;
		struct dnspair_stats x;
		dnspair_stats(p, &x);
		dns_stats_add(out, &x);
	}
}

static void pme_stats_sum(struct pme_stats *to, const struct pme_stats *x)
{
	to->packets += x->packets;
	to->counted += x->counted;
	to->counted_reversed += x->counted_reversed;
	to->ignored += x->ignored;
	to->nomatch += x->nomatch;
	for (int i = 0; i < PME_ERR_MAX; i++)
		to->errors[i] += x->errors[i];
}

static void engine_stats_sum(struct engine_stats *to, const struct engine_stats *x)
{
	to->packets += x->packets;
	to->octets += x->octets;
	for (int b = 0; b < PKT_BAD_MAX; b++)
		to->bad[b] += x->bad[b];
	to->later_fragments += x->later_fragments;
	to->counted += x->counted;
	to->flood_refused += x->flood_refused;
	to->table_full += x->table_full;
	to->rtt_samples += x->rtt_samples;
	to->rtt_samples_dropped += x->rtt_samples_dropped;
	to->dist_refused += x->dist_refused;
	to->static_refused += x->static_refused;
	to->flood_entries += x->flood_entries;
	if (x->last_ns > to->last_ns)
		to->last_ns = x->last_ns;
	to->ignored_if += x->ignored_if;
}

/* The view's st and task figures: the shards' totals. */
static void view_stats(struct engine *v)
{
	struct engine_shards *S = v->shards;
	struct engine_stats st;
	memset(&st, 0, sizeof st);
	for (size_t i = 0; i < S->n; i++)
		engine_stats_sum(&st, &S->sh[i]->e.st);
	st.table_full += S->table_full;
	st.dist_refused += S->dist_refused;
	st.static_refused += S->static_refused;
	v->st = st;
	v->flood_mode = false;
	for (size_t i = 0; i < S->n; i++)
		v->flood_mode |= S->sh[i]->e.flood_mode;
	for (size_t t = 0; t < v->n_tasks; t++) {
		struct engine_task *vt = &v->task[t];
		memset(&vt->pme, 0, sizeof vt->pme);
		vt->running_standby = false;
		vt->standby_switches = 0;
		for (size_t i = 0; i < S->n; i++) {
			const struct engine_task *st_ = &S->sh[i]->e.task[t];
			pme_stats_sum(&vt->pme, &st_->pme);
			vt->running_standby |= st_->running_standby;
			vt->standby_switches += st_->standby_switches;
		}
	}
}

/* ---- engine_sync ---- */

/* Time of a shard's pos-th buffered sample or log event; false past the
 * end. */
typedef bool (*entry_time_fn)(const struct shard *s, size_t pos, uint64_t *ts);

static bool sample_time(const struct shard *s, size_t pos, uint64_t *ts)
{
	if (pos == s->n_smp)
		return false;
	*ts = s->smp[pos].ts_ns;
	return true;
}

static bool log_time(const struct shard *s, size_t pos, uint64_t *ts)
{
	if (pos == s->log.n)
		return false;
	*ts = s->log.ev[pos].ts_ns;
	return true;
}

/* The k-way merge by time of the shards' samples or logs: the shard whose
 * next entry comes first (ties: the lower shard), S->n when all are
 * done. */
static size_t earliest(const struct engine_shards *S, const size_t *pos,
		       entry_time_fn time_of)
{
	size_t best = S->n;
	uint64_t best_ts = 0, ts;
	for (size_t i = 0; i < S->n; i++)
		if (time_of(S->sh[i], pos[i], &ts) && (best == S->n || ts < best_ts)) {
			best = i;
			best_ts = ts;
		}
	return best;
}

/* The shards' buffered samples to the view's on_sample, in time order.
 * The records they name still exist: nothing removes shard records
 * between syncs. */
static void flush_samples(struct engine *v)
{
	struct engine_shards *S = v->shards;
	size_t pos[ENGINE_SHARDS_MAX] = { 0 };
	for (;;) {
		size_t best = earliest(S, pos, sample_time);
		if (best == S->n)
			break;
		struct shard *s = S->sh[best];
		const struct shard_sample *x = &s->smp[pos[best]++];
		const struct flow *f = flow_by_index(s->e.flows, x->index);
		if (f && v->on_sample)
			v->on_sample(v->sample_arg, s->e.flows, f, x->ts_ns, x->rtt_us);
	}
	for (size_t i = 0; i < S->n; i++)
		S->sh[i]->n_smp = 0;
}

static bool dns_counted(const struct flow_dns *d)
{
	return (d->requests | d->responses | d->answered | d->lost |
		d->retransmits | d->unmatched | d->duplicates) != 0;
}

/* Packets or DNS events since the last sync.  (Octets, distributions and
 * static distributions only move with one of those.) */
static bool record_changed(const struct shard *s, const struct flow *f)
{
	const struct shard_base *b = &s->base[flow_index(s->e.flows, f) - 1];
	return f->to_pdus != b->to_pdus || f->from_pdus != b->from_pdus ||
	       dns_counted(&f->dns);
}

/* Room for every shard record; false when memory is short (the sync is
 * then skipped: the shards keep what they counted for the next one). */
static bool touched_room(struct engine_shards *S)
{
	size_t need = 0;
	for (size_t i = 0; i < S->n; i++) {
		struct flow_stats fs;
		flow_table_stats(S->sh[i]->e.flows, &fs);
		need += fs.active;
	}
	if (need <= S->touched_cap)
		return true;
	struct touched *t = realloc(S->touched, need * sizeof *t);
	if (!t)
		return false;
	S->touched = t;
	S->touched_cap = need;
	return true;
}

/* The slot of the task that files flows under `set` (ENGINE_TASKS_MAX
 * for none: a stopped or replaced task's). */
static uint8_t set_slot(const struct engine *e, unsigned set)
{
	for (size_t t = 0; t < e->n_tasks; t++) {
		const struct engine_task *k = &e->task[t];
		if ((k->current && pme_ruleset(k->current) == set) ||
		    (k->standby && pme_ruleset(k->standby) == set))
			return (uint8_t)t;
	}
	return ENGINE_TASKS_MAX;
}

static void note_record(struct engine_shards *S, size_t *n, size_t shard,
			struct flow *f, uint32_t index)
{
	const struct shard *s = S->sh[shard];
	if (!record_changed(s, f))
		return;
	S->touched[(*n)++] = (struct touched){
		.first_ns = f->first_ns, .index = index, .shard = (uint8_t)shard,
		.slot = set_slot(&s->e, flow_get_key(s->e.flows, f)->ruleset),
	};
}

/* The shard's records with something new.  A table hands out indexes
 * lowest first and reuses freed ones before fresh ones, so the records
 * ever used are 1..peak: the walk stops there rather than at the
 * capacity (a million-record table holding a few thousand flows).  Should
 * the table ever allocate otherwise, the active count shows it and the
 * whole table is walked. */
static void collect_shard(struct engine_shards *S, size_t i, size_t *n)
{
	const struct flow_table *t = S->sh[i]->e.flows;
	struct flow_stats fs;
	flow_table_stats(t, &fs);
	size_t start = *n, seen = 0;
	for (uint32_t idx = 1; idx <= fs.peak; idx++) {
		struct flow *f = flow_by_index(t, idx);
		if (!f)
			continue;
		seen++;
		note_record(S, n, i, f, idx);
	}
	if (seen == fs.active)
		return;
	*n = start;
	struct flow *f;
	uint32_t after = 0;
	while ((f = flow_next_active(t, after, 0))) {
		after = flow_index(t, f);
		note_record(S, n, i, f, after);
	}
}

static size_t collect_touched(struct engine_shards *S)
{
	size_t n = 0;
	for (size_t i = 0; i < S->n; i++)
		collect_shard(S, i, &n);
	return n;
}

/* The order one engine creates flows in: by FirstTime, then shard, then
 * task (one packet creates its flows in task order), then the shard's
 * index (creation order only in a fresh table: reused records come
 * most recently freed first). */
static int by_first_time(const void *a_, const void *b_)
{
	const struct touched *a = a_, *b = b_;
	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	if (a->shard != b->shard)
		return a->shard < b->shard ? -1 : 1;
	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Grouped by view flow, shards in order (dist_merge's ties). */
static int by_view_flow(const void *a_, const void *b_)
{
	const struct touched *a = a_, *b = b_;
	if (a->vindex != b->vindex)
		return a->vindex < b->vindex ? -1 : 1;
	if (a->shard != b->shard)
		return a->shard < b->shard ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* The view flow for shard record sf (created when missing); NULL when the
 * view's table is full. */
static struct flow *resolve(struct engine *v, struct shard *s, const struct flow *sf,
			    bool *swapped)
{
	const struct flow_key *k = flow_get_key(s->e.flows, sf);
	uint64_t h = flow_key_hash(k);
	struct flow *vf = flow_lookup(v->flows, k, h);
	*swapped = false;
	if (vf)
		return vf;
	/* flow_find_packet's current(D->S): another shard saw the flow's
	 * first packet going the other way and filed it ends swapped; one
	 * engine would count this record's packets into that flow, reversed
	 * — unless this shard holds both ends as flows of their own, as one
	 * engine then does too */
	struct flow_key sw;
	flow_key_swap(k, &sw);
	uint64_t hs = flow_key_hash(&sw);
	if (!flow_lookup(s->e.flows, &sw, hs) && (vf = flow_lookup(v->flows, &sw, hs))) {
		*swapped = true;
		return vf;
	}
	return flow_insert(v->flows, k, h, sf->first_ns);
}

/* flow_account is the table's only way from idle back to current (it
 * keeps the idle count): count an empty PDU, then take it back. */
static void mark_current(struct flow_table *t, struct flow *f)
{
	if (f->state != FLOW_IDLE)
		return;
	flow_account(t, f, false, 0, f->last_ns);
	f->to_pdus--;
}

static void add_counters(struct flow_table *vt, struct flow *vf, struct shard *s,
			 struct flow *sf, bool swapped)
{
	struct shard_base *b = &s->base[flow_index(s->e.flows, sf) - 1];
	uint64_t to_o = sf->to_octets - b->to_octets, to_p = sf->to_pdus - b->to_pdus;
	uint64_t fr_o = sf->from_octets - b->from_octets, fr_p = sf->from_pdus - b->from_pdus;
	b->to_octets = sf->to_octets;
	b->to_pdus = sf->to_pdus;
	b->from_octets = sf->from_octets;
	b->from_pdus = sf->from_pdus;
	if (to_p || fr_p)
		mark_current(vt, vf);
	if (swapped) {
		uint64_t o = to_o, p = to_p;
		to_o = fr_o;
		to_p = fr_p;
		fr_o = o;
		fr_p = p;
	}
	vf->to_octets += to_o;
	vf->to_pdus += to_p;
	vf->from_octets += fr_o;
	vf->from_pdus += fr_p;
	if (sf->first_ns < vf->first_ns)
		vf->first_ns = sf->first_ns;
	if (sf->last_ns > vf->last_ns)
		vf->last_ns = sf->last_ns;

	struct flow_dns *vd = &vf->dns, *sd = &sf->dns;
	vd->requests += sd->requests;
	vd->responses += sd->responses;
	vd->answered += sd->answered;
	vd->lost += sd->lost;
	vd->retransmits += sd->retransmits;
	vd->unmatched += sd->unmatched;
	vd->duplicates += sd->duplicates;
	if (sd->lost_ns > vd->lost_ns)
		vd->lost_ns = sd->lost_ns;
	/* lost_ns stays: it is a time, and dnspair only moves it forward */
	uint64_t lost_ns = sd->lost_ns;
	memset(sd, 0, sizeof *sd);
	sd->lost_ns = lost_ns;
}

/* The view's copy of the rules a shard's flow uses: the same task slot's
 * (views and shards load the same rulesets in the same slots, and a
 * task change syncs first, so a shard flow never has retired rules the
 * view has not seen). */
static const struct statdist_rules *view_rules(const struct engine *v,
					       const struct engine *se,
					       const struct statdist_rules *r)
{
	for (size_t t = 0; t < se->n_tasks; t++) {
		if (se->task[t].current_sd == r)
			return v->task[t].current_sd;
		if (se->task[t].standby_sd == r)
			return v->task[t].standby_sd;
	}
	return NULL;
}

/* Swapped ends: To and From attributes trade places (66/67, 68/69, ...:
 * To is the even slot). */
static unsigned swap_slot(unsigned k, bool swapped)
{
	return swapped ? k ^ 1u : k;
}

static uint32_t swap_bits(uint32_t m, bool swapped)
{
	if (!swapped)
		return m;
	return ((m & 0x155u) << 1) | ((m & 0x2aau) >> 1);
}

static void add_static(struct engine_shards *S, struct engine *v, struct flow *vf,
		       struct shard *s, struct flow *sf, bool swapped)
{
	struct statdist_pool *sp = s->e.sdist, *vp = v->sdist;
	uint32_t idx = flow_index(s->e.flows, sf), vidx = flow_index(v->flows, vf);
	uint32_t have = sp ? statdist_have(sp, idx) : 0;
	if (!have)
		return;
	const struct statdist_rules *sr = statdist_rules_of(sp, idx);
	if (vp) {
		uint32_t want = swap_bits(have, swapped) & ~statdist_have(vp, vidx);
		const struct statdist_rules *vr = statdist_rules_of(vp, vidx);
		if (!vr)
			vr = view_rules(v, &s->e, sr);
		if (want && vr)
			S->static_refused += (unsigned)__builtin_popcount(
				statdist_request(vp, vidx, vr, want));
	}
	/* replayed flows get all theirs from the log (replay) */
	bool add = !replayed(&s->e, idx);
	const struct statdist_rules *vr = vp ? statdist_rules_of(vp, vidx) : NULL;
	for (uint32_t m = have; m; m &= m - 1) {
		unsigned k = (unsigned)__builtin_ctz(m), vk = swap_slot(k, swapped);
		/* the pools' entries are writable memory behind a read-only
		 * accessor; statdist.h has no merge of its own */
		struct dist_static *src = (struct dist_static *)
			statdist_get(sp, idx, STATDIST_FIRST_ATTR + k);
		struct dist_static *dst = vp ? (struct dist_static *)
			statdist_get(vp, vidx, STATDIST_FIRST_ATTR + vk) : NULL;
		unsigned nb = sr->spec[k].buckets;
		if (add && dst && vr->spec[vk].buckets == nb) {
			dst->n += src->n;
			for (unsigned i = 0; i <= nb; i++)
				dst->counts[i] += src->counts[i];
		}
		dist_static_init(src);
	}
}

/* Everything the group's shard records counted since the last sync goes
 * to view flow vf; the records are zeroed (their base moves up). */
static void apply_group(struct engine *v, struct flow *vf, const struct touched *g,
			size_t n)
{
	struct engine_shards *S = v->shards;
	struct dist *vd = NULL;
	const struct dist *one = NULL;         /* the only shard with samples */
	size_t with_samples = 0;
	for (size_t j = 0; j < n; j++) {
		struct shard *s = S->sh[g[j].shard];
		struct flow *sf = flow_by_index(s->e.flows, g[j].index);
		add_counters(v->flows, vf, s, sf, g[j].swapped);
		add_static(S, v, vf, s, sf, g[j].swapped);
		const struct dist *sd = flow_dist_peek(s->e.flows, sf);
		if (!sd)
			continue;
		/* the ruleset asked for the dynamic distribution: the view
		 * flow has one too (or counts the refusal) */
		if (!vd) {
			bool had = flow_has_dist(vf);
			vd = flow_dist(v->flows, vf);
			if (!vd && !had)
				S->dist_refused++;
		}
		if (!sd->count)
			continue;
		if (with_samples == 1) {
			dist_init(S->merge);
			dist_merge(S->merge, one);
		}
		if (with_samples >= 1)
			dist_merge(S->merge, sd);
		one = sd;
		with_samples++;
	}
	if (vd && with_samples)
		dist_append(vd, with_samples == 1 ? one : S->merge);
	/* the samples are the view's now */
	for (size_t j = 0; j < n && with_samples; j++) {
		struct shard *s = S->sh[g[j].shard];
		struct flow *sf = flow_by_index(s->e.flows, g[j].index);
		if (flow_dist_peek(s->e.flows, sf))
			dist_init(flow_dist(s->e.flows, sf));
	}
}

enum { REM_TO_OCTETS, REM_TO_PDUS, REM_FROM_OCTETS, REM_FROM_PDUS };

/* The share of log event ev in its view flow's counters. */
static void event_counts(const struct log_event *ev, bool reverse, uint64_t c[4])
{
	memset(c, 0, 4 * sizeof c[0]);
	c[reverse ? REM_FROM_OCTETS : REM_TO_OCTETS] = ev->value;
	c[reverse ? REM_FROM_PDUS : REM_TO_PDUS] = 1;
}

/*
 * The shards' logs, merged by time (ties: the lower shard first), through
 * the view's own static distributions, as one engine would have run its
 * packets: statdist_packet reads the flow's counters as of the packet (the
 * rates), so each event sees the view flow's counters less what the
 * later events of this sync add.  Runs after the groups were applied (the
 * view flows exist and have asked for their distributions).
 */
static void replay(struct engine *v, size_t n_touched)
{
	struct engine_shards *S = v->shards;
	struct statdist_pool *vp = v->sdist;
	size_t events = 0;
	for (size_t i = 0; i < S->n; i++)
		events += S->sh[i]->log.n;
	if (!events)
		return;
	for (size_t j = 0; vp && j < n_touched; j++) {
		const struct touched *x = &S->touched[j];
		if (x->vindex)
			S->sh[x->shard]->vmap[x->index - 1] = (uint32_t)j + 1;
	}
	uint64_t c[4];
	for (size_t i = 0; vp && i < S->n; i++) {
		const struct shard *s = S->sh[i];
		for (size_t k = 0; k < s->log.n; k++) {
			const struct log_event *ev = &s->log.ev[k];
			uint32_t j = s->vmap[ev->index - 1];
			if (!j || ev->kind != LOG_PACKET)
				continue;
			const struct touched *x = &S->touched[j - 1];
			event_counts(ev, ev->reverse ^ x->swapped, c);
			for (int r = 0; r < 4; r++)
				S->touched[x->head].rem[r] += c[r];
		}
	}
	size_t pos[ENGINE_SHARDS_MAX] = { 0 };
	struct flow now;
	memset(&now, 0, sizeof now);
	while (vp) {
		size_t best = earliest(S, pos, log_time);
		if (best == S->n)
			break;
		const struct shard *s = S->sh[best];
		const struct log_event *ev = &s->log.ev[pos[best]++];
		uint32_t j = s->vmap[ev->index - 1];
		if (!j)
			continue;
		struct touched *x = &S->touched[j - 1], *h = &S->touched[x->head];
		if (ev->kind == LOG_RTT) {
			statdist_dns_rtt(vp, x->vindex, ev->value);
			continue;
		}
		bool reverse = ev->reverse ^ x->swapped;
		event_counts(ev, reverse, c);
		for (int r = 0; r < 4; r++)
			h->rem[r] -= c[r];
		const struct flow *vf = flow_by_index(v->flows, x->vindex);
		now.to_octets = vf->to_octets - h->rem[REM_TO_OCTETS];
		now.to_pdus = vf->to_pdus - h->rem[REM_TO_PDUS];
		now.from_octets = vf->from_octets - h->rem[REM_FROM_OCTETS];
		now.from_pdus = vf->from_pdus - h->rem[REM_FROM_PDUS];
		statdist_packet(vp, x->vindex, &now, reverse, (uint32_t)ev->value,
				ev->ts_ns, ev->dns);
	}
	for (size_t j = 0; vp && j < n_touched; j++) {
		const struct touched *x = &S->touched[j];
		if (x->vindex)
			S->sh[x->shard]->vmap[x->index - 1] = 0;
	}
	for (size_t i = 0; i < S->n; i++)
		S->sh[i]->log.n = 0;
}

static bool sync_needed(const struct engine_shards *S)
{
	if (S->dirty)
		return true;
	for (size_t i = 0; i < S->n; i++) {
		const struct shard *s = S->sh[i];
		if (s->n_smp || s->e.st.packets + s->e.st.ignored_if != s->synced_packets)
			return true;
	}
	return false;
}

/* The manager sets a view's FloodMark and InactivityTimeout in its cfg,
 * and a FloodMark switched off ends flood mode (meter/mctl): the shards,
 * which meter, follow at each sync. */
static void push_config(struct engine *v)
{
	struct engine_shards *S = v->shards;
	for (size_t i = 0; i < S->n; i++) {
		struct engine *e = &S->sh[i]->e;
		e->cfg.flood_mark = v->cfg.flood_mark;
		e->cfg.inactivity_ns = v->cfg.inactivity_ns;
		if (!engine_mark_enabled(e->cfg.flood_mark))
			e->flood_mode = false;
	}
}

void engine_sync(struct engine *v)
{
	struct engine_shards *S = v->shards;
	if (!S)
		return;
	push_config(v);
	if (!sync_needed(S) || !touched_room(S))
		return;
	flush_samples(v);
	size_t n = collect_touched(S);
	qsort(S->touched, n, sizeof *S->touched, by_first_time);
	for (size_t j = 0; j < n; j++) {
		struct touched *x = &S->touched[j];
		struct shard *s = S->sh[x->shard];
		struct flow *sf = flow_by_index(s->e.flows, x->index);
		struct flow *vf = resolve(v, s, sf, &x->swapped);
		if (vf) {
			x->vindex = flow_index(v->flows, vf);
		} else {
			/* the view refuses the flow: so does the shard (its
			 * next packet tries again, as with one engine) */
			S->table_full++;
			shard_remove(s, sf);
		}
	}
	qsort(S->touched, n, sizeof *S->touched, by_view_flow);
	for (size_t j = 0; j < n;) {
		size_t k = j + 1;
		while (k < n && S->touched[k].vindex == S->touched[j].vindex)
			k++;
		for (size_t x = j; x < k; x++)
			S->touched[x].head = (uint32_t)j;
		if (S->touched[j].vindex)
			apply_group(v, flow_by_index(v->flows, S->touched[j].vindex),
				    &S->touched[j], k - j);
		j = k;
	}
	replay(v, n);
	view_stats(v);
	engine_shards_pressure(v);
	for (size_t i = 0; i < S->n; i++)
		S->sh[i]->synced_packets = S->sh[i]->e.st.packets + S->sh[i]->e.st.ignored_if;
	S->dirty = false;
}
