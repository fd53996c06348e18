/* offline.c — trace files to .dif files (see offline.h). */
#include "offline.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "cap.h"
#include "decode.h"
#include "dif.h"
#include "dist.h"
#include "srl.h"
#include "value.h"
#include "version.h"

#define NS_PER_S   1000000000ull
#define NS_PER_CS  10000000ull
#define BATCH      64u

/* What the run remembers of a flow between readings, by flow index. */
struct flow_side {
	uint64_t first_ns;          /* tells a reused index apart */
	uint64_t written_lost;      /* DNS lost count last written */
	struct dist *prev;          /* distribution at the last reading */
	struct dist_static *sprev;  /* static ones at the last reading,
	                               [statdist_slot(attr)], NULL until needed */
	uint16_t sprev_have;        /* statdist_bit()s valid in sprev */
};

struct offline {
	const struct offline_options *o;
	struct diag *d;
	struct engine e;
	struct ruleset rs[ENGINE_TASKS_MAX + 1];
	size_t n_rs;
	unsigned nbins[ENGINE_TASKS_MAX + 1];   /* type-6 bins, per rs[] */

	struct dif_format fmt;
	struct format_item *fmt_items;          /* owned when defaulted */
	size_t n_attrs;
	struct dif_header hdr;
	char meter[256];
	char partial[PATH_MAX];

	bool started;
	uint64_t first_ns, last_ns;             /* trace time seen */
	uint64_t iv_start, iv_end;              /* current interval, ns */
	uint64_t intervals;

	struct flow_side *side;
	size_t n_side;

	/* per-interval scratch, kept between intervals */
	struct dif_record *recs;
	struct dif_value *vals;
	size_t cap_recs;
	struct dist_result **dres;
	size_t n_dres, cap_dres;

	FILE *samples;
	int io_error;
};

/* The columns written when the ruleset has no FORMAT (NeMaC's usual set). */
static const uint16_t default_format[] = {
	ATTR_FLOW_RULESET, ATTR_FLOW_INDEX, ATTR_FIRST_TIME,
	ATTR_SOURCE_PEER_TYPE, ATTR_SOURCE_PEER_ADDRESS, ATTR_DEST_PEER_ADDRESS,
	ATTR_TO_PDUS, ATTR_FROM_PDUS, ATTR_TO_OCTETS, ATTR_FROM_OCTETS,
};

void offline_options_default(struct offline_options *o)
{
	memset(o, 0, sizeof *o);
	o->interval_s = OFFLINE_DEFAULT_INTERVAL;
	engine_config_default(&o->cfg);
}

static void put_be(uint8_t *out, uint64_t v, unsigned width)
{
	for (unsigned i = width; i-- > 0; v >>= 8)
		out[i] = (uint8_t)v;
}

static void value_uint(struct dif_value *v, unsigned attr, uint64_t x, unsigned width)
{
	v->attr = (uint16_t)attr;
	v->kind = DIF_V_BYTES;
	v->width = (uint8_t)width;
	put_be(v->bytes, x, width);
}

static uint64_t uptime_cs(const struct offline *s, uint64_t ts_ns)
{
	return ts_ns > s->first_ns ? (ts_ns - s->first_ns) / NS_PER_CS : 0;
}

/* The address attribute a mask attribute (7, 10, 13, 17, 20, 23) belongs to. */
static unsigned masked_attr(unsigned mask_attr)
{
	return mask_attr - 1;
}

/* Type-6 bin count the ruleset of `set` asked for (its distribution rule). */
static unsigned nbins_of_set(const struct offline *s, unsigned set)
{
	for (size_t i = 0; i < s->n_rs; i++)
		if (s->rs[i].set == set)
			return s->nbins[i];
	return DIF_DIST_DEFAULT_BINS;
}

static unsigned ruleset_nbins(const struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct rule *r = &rs->rules[i];
		if (r->attr == ATTR_TO_TURNAROUND_TIME &&
		    (r->op == RULE_PUSH_PKT_TO || r->op == RULE_PUSH_PKT_TO_ACT)) {
			uint8_t v[DIST_RULE_BYTES] = {0};
			memcpy(v, r->value, r->len < DIST_RULE_BYTES ? r->len : DIST_RULE_BYTES);
			return dist_nbins_from_rule(v);
		}
	}
	return DIF_DIST_DEFAULT_BINS;
}

static struct flow_side *side_of(struct offline *s, const struct flow *f, uint32_t index)
{
	struct flow_side *fs = &s->side[index - 1];
	if (fs->first_ns != f->first_ns) {   /* a new flow in a reused record */
		fs->first_ns = f->first_ns;
		fs->written_lost = 0;
		free(fs->prev);
		fs->prev = NULL;
		fs->sprev_have = 0;   /* sprev's storage is kept for reuse */
	}
	return fs;
}

static struct dist_result *next_dres(struct offline *s)
{
	if (s->n_dres == s->cap_dres) {
		size_t cap = s->cap_dres ? s->cap_dres * 2 : 16;
		struct dist_result **p = realloc(s->dres, cap * sizeof *p);
		if (!p)
			return NULL;
		memset(p + s->cap_dres, 0, (cap - s->cap_dres) * sizeof *p);
		s->dres = p;
		s->cap_dres = cap;
	}
	if (!s->dres[s->n_dres] && !(s->dres[s->n_dres] = malloc(sizeof **s->dres)))
		return NULL;
	return s->dres[s->n_dres++];
}

/* The interval's RTT distribution of flow f, and remember this reading. */
static int interval_dist(struct offline *s, struct flow *f, struct flow_side *fs,
			 unsigned set, struct dif_value *v)
{
	const struct dist *live = flow_dist_peek(s->e.flows, f);
	if (!live)
		return 0;
	struct dist_result *r = next_dres(s);
	if (!r)
		return -1;
	if (dist_interval(fs->prev, live, nbins_of_set(s, set), r) != 0)
		return -1;
	if (!fs->prev && !(fs->prev = malloc(sizeof *fs->prev)))
		return -1;
	dist_snapshot(live, fs->prev);
	v->kind = DIF_V_DIST;
	v->dist = &r->d;
	return 0;
}

/* The interval of RFC 2724 static distribution `attr` of flow f (none:
 * "-"), and remember this reading. */
static int interval_static(struct offline *s, struct flow *f, struct flow_side *fs,
			   unsigned attr, struct dif_value *v)
{
	const struct dist_static *live = engine_static_dist(&s->e, f, attr);
	if (!live)
		return 0;
	const struct dist_static_spec *spec = engine_static_spec(&s->e, f, attr);
	struct dist_result *r = next_dres(s);
	if (!r)
		return -1;
	if (!fs->sprev && !(fs->sprev = calloc(STATDIST_N, sizeof *fs->sprev)))
		return -1;
	unsigned k = statdist_slot(attr);
	const struct dist_static *prev = fs->sprev_have & statdist_bit(attr) ? &fs->sprev[k] : NULL;
	if (dist_static_interval(spec, prev, live, r) != 0)
		return -1;
	fs->sprev[k] = *live;
	fs->sprev_have |= (uint16_t)statdist_bit(attr);
	v->kind = DIF_V_DIST;
	v->dist = &r->d;
	return 0;
}

/* Fill value v for attribute `attr` of flow f. */
static int flow_value(struct offline *s, struct flow *f, uint32_t index,
		      struct flow_side *fs, unsigned attr, struct dif_value *v)
{
	const struct flow_key *k = flow_get_key(s->e.flows, f);
	struct flow_key_item it;
	memset(v, 0, sizeof *v);
	v->attr = (uint16_t)attr;
	v->kind = DIF_V_NONE;
	switch (attr) {
	case ATTR_FLOW_INDEX:       value_uint(v, attr, index, 4); break;
	case ATTR_FLOW_RULESET:     value_uint(v, attr, k->ruleset, 4); break;
	case ATTR_FIRST_TIME:       value_uint(v, attr, uptime_cs(s, f->first_ns), 4); break;
	case ATTR_LAST_ACTIVE_TIME: value_uint(v, attr, uptime_cs(s, f->last_ns), 4); break;
	case ATTR_FIRST_TIME_NS:    value_uint(v, attr, f->first_ns, 8); break;
	case ATTR_LAST_TIME_NS:     value_uint(v, attr, f->last_ns, 8); break;
	case ATTR_TO_OCTETS:        value_uint(v, attr, f->to_octets, 8); break;
	case ATTR_TO_PDUS:          value_uint(v, attr, f->to_pdus, 8); break;
	case ATTR_FROM_OCTETS:      value_uint(v, attr, f->from_octets, 8); break;
	case ATTR_FROM_PDUS:        value_uint(v, attr, f->from_pdus, 8); break;
	case ATTR_PDU_SCALE:
	case ATTR_OCTET_SCALE:      value_uint(v, attr, 0, 1); break;
	case ATTR_DNS_REQUESTS:     value_uint(v, attr, f->dns.requests, 8); break;
	case ATTR_DNS_RESPONSES:    value_uint(v, attr, f->dns.responses, 8); break;
	case ATTR_DNS_ANSWERED:     value_uint(v, attr, f->dns.answered, 8); break;
	case ATTR_DNS_LOST:         value_uint(v, attr, f->dns.lost, 8); break;
	case ATTR_DNS_RETRANSMITS:  value_uint(v, attr, f->dns.retransmits, 8); break;
	case ATTR_DNS_UNMATCHED:    value_uint(v, attr, f->dns.unmatched, 8); break;
	case ATTR_DNS_DUPLICATES:   value_uint(v, attr, f->dns.duplicates, 8); break;
	case ATTR_RTT_SAMPLES:      value_uint(v, attr, f->dns.answered, 8); break;
	case ATTR_DISTRIBUTIONS:
		/* RFC 2724 §4: bit 0 is attribute 66 */
		value_uint(v, attr, (flow_dist_peek(s->e.flows, f)
				     ? statdist_bit(ATTR_TO_TURNAROUND_TIME) : 0) |
			   engine_static_have(&s->e, f), 4);
		break;
	case ATTR_TO_TURNAROUND_TIME:
		/* a ruleset asks for the dynamic kind or a static one, not both */
		if (flow_dist_peek(s->e.flows, f))
			return interval_dist(s, f, fs, k->ruleset, v);
		return interval_static(s, f, fs, attr, v);
	case ATTR_TO_PACKET_SIZE:       case ATTR_FROM_PACKET_SIZE:
	case ATTR_TO_INTERARRIVAL_TIME: case ATTR_FROM_INTERARRIVAL_TIME:
	case ATTR_FROM_TURNAROUND_TIME:
	case ATTR_TO_BIT_RATE:          case ATTR_FROM_BIT_RATE:
	case ATTR_TO_PDU_RATE:          case ATTR_FROM_PDU_RATE:
		return interval_static(s, f, fs, attr, v);
	case ATTR_SOURCE_ADJACENT_MASK: case ATTR_SOURCE_PEER_MASK:
	case ATTR_SOURCE_TRANS_MASK:    case ATTR_DEST_ADJACENT_MASK:
	case ATTR_DEST_PEER_MASK:       case ATTR_DEST_TRANS_MASK:
		if (flow_key_get(k, masked_attr(attr), &it)) {
			v->kind = DIF_V_BYTES;
			v->width = it.width;
			memcpy(v->bytes, it.mask, it.width);
		}
		break;
	default:
		if (flow_key_get(k, attr, &it)) {
			v->kind = DIF_V_BYTES;
			v->width = it.width;
			memcpy(v->bytes, it.value, it.width);
		}
		break;
	}
	return 0;
}

struct collect_ctx {
	struct offline *s;
	size_t n;
	int err;
};

static int collect_flow(struct flow *f, uint32_t index, void *arg)
{
	struct collect_ctx *c = arg;
	struct offline *s = c->s;
	struct flow_side *fs = side_of(s, f, index);
	/* a reader gets the flows active since its last reading; a flow whose
	 * unanswered requests timed out since is included so losses show */
	if (f->last_ns < s->iv_start && f->dns.lost == fs->written_lost)
		return 0;
	if (c->n == s->cap_recs) {
		size_t cap = s->cap_recs ? s->cap_recs * 2 : 256;
		struct dif_record *r = realloc(s->recs, cap * sizeof *r);
		if (!r)
			return c->err = -1;
		s->recs = r;
		struct dif_value *v = realloc(s->vals, cap * s->n_attrs * sizeof *v);
		if (!v)
			return c->err = -1;
		s->vals = v;
		s->cap_recs = cap;
	}
	struct dif_value *vals = &s->vals[c->n * s->n_attrs];
	size_t vi = 0;
	for (size_t i = 0; i < s->fmt.n; i++) {
		if (!s->fmt.items[i].attr)
			continue;
		if (flow_value(s, f, index, fs, s->fmt.items[i].attr, &vals[vi++]))
			return c->err = -1;
	}
	fs->written_lost = f->dns.lost;
	s->recs[c->n].n = s->n_attrs;   /* .v is set once all are collected */
	c->n++;
	return 0;
}

/* Write the interval [iv_start, end) and do the collector's housekeeping. */
static int write_interval(struct offline *s, uint64_t end)
{
	/* requests that timed out by the interval end are lost in it */
	engine_expire_dns(&s->e, end);
	struct collect_ctx c = { .s = s };
	s->n_dres = 0;
	if (s->o->out) {
		flow_foreach_active_since(s->e.flows, 0, collect_flow, &c);
		if (c.err) {
			diag_error(s->d, 0, 0, "out of memory collecting interval");
			return -1;
		}
		/* growing s->vals may have moved it: point the records at their
		 * values only now */
		for (size_t i = 0; i < c.n; i++)
			s->recs[i].v = &s->vals[i * s->n_attrs];
		/* the first and last intervals cover only the trace's part */
		uint64_t start = s->iv_start > s->first_ns ? s->iv_start : s->first_ns;
		struct dif_interval iv = {
			.start = (int64_t)(start / NS_PER_S),
			.end = (int64_t)((end + NS_PER_S - 1) / NS_PER_S),
			.from_uptime = (uint32_t)uptime_cs(s, start),
			.to_uptime = (uint32_t)uptime_cs(s, end),
			.meter = s->meter,
		};
		if (dif_append_interval(s->partial, &s->hdr, &iv, s->recs, c.n)) {
			diag_error(s->d, 0, 0, "%s: %s", s->partial, strerror(errno));
			s->io_error = 1;
			return -1;
		}
	}
	s->intervals++;
	/* everything active before `end` is now collected: recoverable */
	engine_collect_point(&s->e, end, end);
	return 0;
}

static uint64_t interval_floor(const struct offline *s, uint64_t ts)
{
	uint64_t len = (uint64_t)s->o->interval_s * NS_PER_S;
	return ts / len * len;
}

/* Close every interval that ends at or before ts. */
static int advance_to(struct offline *s, uint64_t ts)
{
	uint64_t len = (uint64_t)s->o->interval_s * NS_PER_S;
	if (!s->started) {
		s->started = true;
		s->first_ns = ts;
		s->iv_start = interval_floor(s, ts);
		s->iv_end = s->iv_start + len;
		s->hdr.start = (int64_t)(ts / NS_PER_S);
		return 0;
	}
	if (ts < s->iv_end)
		return 0;
	if (write_interval(s, s->iv_end))
		return -1;
	/* A gap in the trace (capture stopped, clock jump) makes no empty
	 * intervals: nothing was observed there, and a jump of years would
	 * otherwise write a million of them. */
	s->iv_start = interval_floor(s, ts);
	s->iv_end = s->iv_start + len;
	return 0;
}

/* --samples: "time_ns,flow,rtt_us"; flow = FlowClass/FlowKind/server. */
static void flow_label(const struct flow_table *t, const struct flow *f,
		       char *buf, size_t cap)
{
	const struct flow_key *k = flow_get_key(t, f);
	struct flow_key_item it;
	unsigned cls = 0, kind = 0;
	if (flow_key_get(k, ATTR_FLOW_CLASS, &it))
		cls = it.value[0];
	if (flow_key_get(k, ATTR_FLOW_KIND, &it))
		kind = it.value[0];
	char addr[64] = "-";
	if (flow_key_get(k, ATTR_DEST_PEER_ADDRESS, &it))
		value_format(attr_by_num(ATTR_DEST_PEER_ADDRESS), it.value, it.width,
			     addr, sizeof addr);
	snprintf(buf, cap, "%u/%u/%s", cls, kind, addr);
}

static void on_sample(void *arg, const struct flow_table *t, const struct flow *f,
		      uint64_t ts_ns, uint64_t rtt_us)
{
	struct offline *s = arg;
	char label[96];
	flow_label(t, f, label, sizeof label);
	if (fprintf(s->samples, "%" PRIu64 ",%s,%" PRIu64 "\n", ts_ns, label, rtt_us) < 0)
		s->io_error = 1;
}

static int load_rulesets(struct offline *s)
{
	const struct offline_options *o = s->o;
	for (size_t i = 0; i < o->n_rules + (o->standby ? 1 : 0); i++) {
		const char *path = i < o->n_rules ? o->rules[i] : o->standby;
		struct diag d;
		diag_init(&d, path);
		ruleset_init(&s->rs[i]);
		int rc = srl_load_ruleset(path, &s->rs[i], &d);
		/* the file's own messages, as FILE:LINE:COL, go to the caller's list */
		for (size_t m = 0; m < d.n; m++) {
			const struct diag_msg *dm = &d.msgs[m];
			if (dm->level == DIAG_ERROR)
				diag_error(s->d, 0, 0, "%s:%u:%u: %s", path, dm->line, dm->col, dm->text);
			else
				diag_warning(s->d, 0, 0, "%s:%u:%u: %s", path, dm->line, dm->col, dm->text);
		}
		bool failed = rc != 0 || d.errors;
		diag_free(&d);
		s->n_rs = i + 1;
		if (failed)
			return -1;
		/* RuleSet 1 is the meter's built-in default (RFC 2722 §5.1):
		 * a file without SET gets the next free number from 2 on */
		if (s->rs[i].set == 0)
			s->rs[i].set = (uint32_t)(i + 2);
		for (size_t j = 0; j < i; j++)
			if (s->rs[j].set == s->rs[i].set) {
				diag_error(s->d, 0, 0, "%s: ruleset number %u is also used by %s",
					   path, s->rs[i].set, j < o->n_rules ? o->rules[j] : o->standby);
				return -1;
			}
		s->nbins[i] = ruleset_nbins(&s->rs[i]);
	}
	return 0;
}

static int setup_format(struct offline *s)
{
	for (size_t i = 0; i < s->n_rs; i++)
		if (s->rs[i].n_format) {
			s->fmt.items = s->rs[i].format;
			s->fmt.n = s->rs[i].n_format;
			break;
		}
	if (!s->fmt.n) {
		size_t n = sizeof default_format / sizeof default_format[0];
		s->fmt_items = calloc(n, sizeof *s->fmt_items);
		if (!s->fmt_items)
			return -1;
		for (size_t i = 0; i < n; i++)
			s->fmt_items[i].attr = default_format[i];
		s->fmt.items = s->fmt_items;
		s->fmt.n = n;
	}
	s->n_attrs = dif_format_attrs(&s->fmt);
	return 0;
}

static void progress(const struct offline *s, const struct cap_stats *cs,
		     const char *trace, struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
	double pct = cs->size ? 100.0 * (double)cs->pos / (double)cs->size : 0;
	fprintf(stderr, "\r%s: %" PRIu64 " packets, %.0f packets/s, %.1f%%   ",
		trace, s->e.st.packets, secs > 0 ? (double)s->e.st.packets / secs : 0, pct);
}

static int read_trace(struct offline *s, const char *path)
{
	char err[256];
	struct cap *c = cap_open_file(path, err, sizeof err);
	if (!c) {
		diag_error(s->d, 0, 0, "%s: %s", path, err);
		return 1;
	}
	struct pkt batch[BATCH];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t next_progress = 1u << 20;
	int n, rc = 0;
	while ((n = cap_next_batch(c, batch, BATCH)) > 0) {
		for (int i = 0; i < n; i++) {
			/* a packet stamped before the current interval (clock
			 * steps, merged traces) is counted where we are */
			if (advance_to(s, batch[i].ts_ns)) {
				rc = 2;
				goto out;
			}
			engine_packet(&s->e, &batch[i]);
		}
		if (s->o->progress && s->e.st.packets >= next_progress) {
			struct cap_stats cs;
			cap_stats(c, &cs);
			progress(s, &cs, path, &t0);
			next_progress = s->e.st.packets + (1u << 20);
		}
	}
	if (n < 0) {
		/* packets before a damaged part were counted; say what happened */
		diag_error(s->d, 0, 0, "%s: %s", path, cap_error(c));
		rc = 1;
	}
out:
	if (s->o->progress)
		fputc('\n', stderr);
	cap_close(c);
	return rc;
}

static void print_stats(const struct offline *s, FILE *out)
{
	const struct engine_stats *st = &s->e.st;
	struct flow_stats fst;
	flow_table_stats(s->e.flows, &fst);
	fprintf(out, "packets %" PRIu64 " octets %" PRIu64 " intervals %" PRIu64 "\n",
		st->packets, st->octets, s->intervals);
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
	engine_static_stats(&s->e, &sds);
	fprintf(out, "dists dynamic %zu of %zu refused %" PRIu64
		" static %zu of %zu refused %" PRIu64 "\n",
		fst.dist_used, fst.dist_slots, st->dist_refused,
		sds.used, sds.slots, st->static_refused);
	for (size_t i = 0; i < s->e.n_tasks; i++) {
		const struct engine_task *t = &s->e.task[i];
		struct dnspair_stats ds;
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

static void offline_free(struct offline *s)
{
	engine_free(&s->e);
	for (size_t i = 0; i < s->n_rs; i++)
		ruleset_free(&s->rs[i]);
	for (size_t i = 0; i < s->n_side; i++) {
		free(s->side[i].prev);
		free(s->side[i].sprev);
	}
	free(s->side);
	for (size_t i = 0; i < s->cap_dres; i++)
		free(s->dres[i]);
	free(s->dres);
	free(s->recs);
	free(s->vals);
	free(s->fmt_items);
}

int offline_run(const struct offline_options *o, struct diag *d)
{
	struct offline s;
	memset(&s, 0, sizeof s);
	s.o = o;
	s.d = d;
	int rc = 1;

	if (o->n_traces == 0 || o->n_rules == 0 || o->interval_s == 0) {
		diag_error(d, 0, 0, "offline mode needs --read TRACE, -r RULES and an interval > 0");
		return 1;
	}
	if (load_rulesets(&s) || setup_format(&s))
		goto out;
	if (engine_init(&s.e, &o->cfg, d))
		goto out;
	for (size_t i = 0; i < o->n_rules; i++) {
		const struct ruleset *standby = i == 0 && o->standby ? &s.rs[o->n_rules] : NULL;
		if (engine_add_task(&s.e, &s.rs[i], standby, o->high_water, d))
			goto out;
	}
	s.n_side = flow_table_capacity(s.e.flows);
	if (!(s.side = calloc(s.n_side, sizeof *s.side))) {
		diag_error(d, 0, 0, "out of memory");
		goto out;
	}
	snprintf(s.meter, sizeof s.meter, "%s%s", o->meter ? "" : "file:",
		 o->meter ? o->meter : o->traces[0]);
	s.hdr.version = NTM_VERSION;
	s.hdr.options = o->command_line;
	s.hdr.meter = s.meter;
	s.hdr.format = &s.fmt;
	if (o->out) {
		if (snprintf(s.partial, sizeof s.partial, "%s.partial", o->out) >= (int)sizeof s.partial) {
			diag_error(d, 0, 0, "%s: path too long", o->out);
			goto out;
		}
		unlink(s.partial);   /* a leftover of an earlier, failed run */
	}
	if (o->samples) {
		s.samples = fopen(o->samples, "w");
		if (!s.samples) {
			diag_error(d, 0, 0, "%s: %s", o->samples, strerror(errno));
			rc = 2;
			goto out;
		}
		fputs("time_ns,flow,rtt_us\n", s.samples);
		s.e.on_sample = on_sample;
		s.e.sample_arg = &s;
	}

	int trace_rc = 0;
	for (size_t i = 0; i < o->n_traces; i++) {
		int r = read_trace(&s, o->traces[i]);
		if (r == 2) {
			rc = 2;
			goto out;
		}
		if (r)
			trace_rc = 1;
	}
	if (s.started) {
		engine_finish(&s.e);
		if (write_interval(&s, s.e.st.last_ns + 1)) {
			rc = 2;
			goto out;
		}
	}
	if (s.samples) {
		int e = fclose(s.samples);
		s.samples = NULL;
		if (e || s.io_error) {
			diag_error(d, 0, 0, "%s: write failed", o->samples);
			rc = 2;
			goto out;
		}
	}
	if (o->out) {
		if (!s.started) {
			diag_error(d, 0, 0, "no packets read: %s not written", o->out);
			goto out;
		}
		if (rename(s.partial, o->out)) {
			diag_error(d, 0, 0, "%s: %s", o->out, strerror(errno));
			rc = 2;
			goto out;
		}
	}
	if (o->stats_out)
		print_stats(&s, o->stats_out);
	rc = trace_rc;
out:
	if (s.samples)
		fclose(s.samples);
	offline_free(&s);
	return rc;
}
