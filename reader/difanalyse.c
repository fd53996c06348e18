/* difanalyse.c — per-interval rows and summaries from .dif intervals (see
 * difanalyse.h). */
#include "difanalyse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "dist.h"

#define KEY_MAX 256           /* flow identity text, bytes with NUL */
#define TABLE_MIN 64          /* initial hash table slots (power of 2) */
#define PCT_MEDIAN 0.5
#define PCT_P10 0.1
#define PCT_P90 0.9

/* ---- small helpers ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* A value as an unsigned number: bytes big-endian, or a decimal text (old
 * files whose renderings the parser kept as text). */
static bool value_u64(const struct dif_value *v, uint64_t *out)
{
	if (v->kind == DIF_V_BYTES && v->width >= 1 && v->width <= 8) {
		uint64_t x = 0;
		for (unsigned i = 0; i < v->width; i++)
			x = x << 8 | v->bytes[i];
		*out = x;
		return true;
	}
	if (v->kind == DIF_V_TEXT && v->text && *v->text >= '0' && *v->text <= '9') {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v->text, &end, 10);
		if (errno || *end)
			return false;
		*out = x;
		return true;
	}
	return false;
}

/* Generic string-keyed open-addressing table of pointers. */
struct table {
	size_t cap, n;
	char **keys;
	void **vals;
};

static void **table_slot(struct table *t, const char *key, bool *found)
{
	size_t mask = t->cap - 1, i = (size_t)hash_str(key) & mask;
	while (t->keys[i] && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & mask;
	*found = t->keys[i] != NULL;
	return &t->vals[i];
}

static int table_grow(struct table *t)
{
	size_t cap = t->cap ? 2 * t->cap : TABLE_MIN;
	char **keys = calloc(cap, sizeof *keys);
	void **vals = calloc(cap, sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->keys[i])
			continue;
		size_t j = (size_t)hash_str(t->keys[i]) & (cap - 1);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = t->keys[i];
		vals[j] = t->vals[i];
	}
	free(t->keys);
	free(t->vals);
	t->keys = keys;
	t->vals = vals;
	t->cap = cap;
	return 0;
}

/* The value stored under key, or a new slot (*created) holding NULL. */
static void **table_get(struct table *t, const char *key, bool *created)
{
	bool found;
	*created = false;
	if (t->cap == 0 || (t->n + 1) * 4 > t->cap * 3) {
		if (table_grow(t) < 0)
			return NULL;
	}
	void **slot = table_slot(t, key, &found);
	if (found)
		return slot;
	size_t i = (size_t)(slot - t->vals);
	t->keys[i] = strdup(key);
	if (!t->keys[i]) {
		errno = ENOMEM;
		return NULL;
	}
	t->n++;
	*created = true;
	return slot;
}

static void table_free(struct table *t, void (*free_val)(void *))
{
	for (size_t i = 0; i < t->cap; i++) {
		if (t->keys[i]) {
			free(t->keys[i]);
			if (free_val)
				free_val(t->vals[i]);
		}
	}
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof *t);
}

/* ---- interval rows ---- */

/* Where the interesting columns are, as value indexes (-1: absent). */
struct cols {
	int ruleset, index, first, class_, kind, server, dist;
	int counter[DAN_N_COUNTERS];
	int pdus_to, pdus_from;
};

struct meter_state {
	bool has_uptime;
	uint32_t uptime;          /* T2 of the last interval */
	unsigned long generation; /* bumped on a restart */
	char header_id[KEY_MAX];  /* file and line of the last ## header */
};

struct flow_state {
	bool has_first;
	uint32_t first;
	uint32_t have;
	uint64_t counter[DAN_N_COUNTERS];
};

struct dan {
	dan_row_fn fn;
	void *ctx;
	struct table meters, flows;
	unsigned long generations;
	unsigned long bad_limits;
	/* storage for a distribution re-read from an old file's text */
	struct dif_dist fixed;
	uint32_t fixed_values[DIF_DIST_MAX_VALUES];
	uint64_t fixed_counts[DIF_DIST_MAX_COUNTS];
};

struct dan *dan_new(dan_row_fn fn, void *ctx)
{
	struct dan *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->fn = fn;
	a->ctx = ctx;
	return a;
}

void dan_free(struct dan *a)
{
	if (!a)
		return;
	table_free(&a->meters, free);
	table_free(&a->flows, free);
	free(a);
}

unsigned long dan_bad_limit_dists(const struct dan *a)
{
	return a->bad_limits;
}

bool dan_dist_percentile(const struct dif_dist *d, bool limits_valid,
			 double p, double *out)
{
	if (!d || d->n == 0 || (d->type == DIF_DIST_BINNED && !limits_valid))
		return false;
	return dif_dist_percentile(d, p, out) == 0;
}

static void find_cols(const struct difp_format *f, struct cols *c)
{
	memset(c, -1, sizeof *c);
	int vi = 0;
	for (size_t i = 0; f && i < f->n; i++) {
		const struct difp_column *col = &f->cols[i];
		if (col->is_sep)
			continue;
		switch (col->attr) {
		case ATTR_FLOW_RULESET: c->ruleset = vi; break;
		case ATTR_FLOW_INDEX: c->index = vi; break;
		case ATTR_FIRST_TIME: c->first = vi; break;
		case ATTR_FLOW_CLASS: c->class_ = vi; break;
		case ATTR_FLOW_KIND: c->kind = vi; break;
		case ATTR_DEST_PEER_ADDRESS: c->server = vi; break;
		case ATTR_DNS_REQUESTS: c->counter[DAN_REQUESTS] = vi; break;
		case ATTR_DNS_RESPONSES: c->counter[DAN_RESPONSES] = vi; break;
		case ATTR_DNS_ANSWERED: c->counter[DAN_ANSWERED] = vi; break;
		case ATTR_DNS_LOST: c->counter[DAN_LOST] = vi; break;
		case ATTR_TO_PDUS: c->pdus_to = vi; break;
		case ATTR_FROM_PDUS: c->pdus_from = vi; break;
		case ATTR_TO_TURNAROUND_TIME:
		case ATTR_FROM_TURNAROUND_TIME:
			if (c->dist < 0)
				c->dist = vi;
			break;
		default:
			break;
		}
		vi++;
	}
	/* without DNS counters, packets stand for requests and responses */
	if (c->counter[DAN_REQUESTS] < 0 && c->counter[DAN_RESPONSES] < 0) {
		c->counter[DAN_REQUESTS] = c->pdus_to;
		c->counter[DAN_RESPONSES] = c->pdus_from;
	}
}

static const char *text_of(const struct dif_record *r, int i)
{
	if (i < 0 || (size_t)i >= r->n || !r->v[i].text)
		return NULL;
	return r->v[i].text;
}

/* The meter's state, restarted when its uptime went back or (files
 * without uptimes) when a new header began. */
static struct meter_state *meter_update(struct dan *a, const char *file,
					const struct difp_interval *iv)
{
	const char *name = iv->meter && *iv->meter ? iv->meter
			 : iv->header && *iv->header->meter ? iv->header->meter
			 : file;
	bool created;
	void **slot = table_get(&a->meters, name, &created);
	if (!slot)
		return NULL;
	struct meter_state *m = *slot;
	if (!m) {
		m = calloc(1, sizeof *m);
		if (!m)
			return NULL;
		*slot = m;
		m->generation = ++a->generations;
	}
	char hid[KEY_MAX];
	snprintf(hid, sizeof hid, "%s:%u", file, iv->header ? iv->header->line : 0);
	bool new_header = strcmp(hid, m->header_id) != 0;
	if (!created) {
		bool restart = iv->has_uptime && m->has_uptime
			       ? iv->to_uptime < m->uptime
			       : new_header && !iv->has_uptime;
		if (restart)
			m->generation = ++a->generations;
	}
	snprintf(m->header_id, sizeof m->header_id, "%s", hid);
	m->has_uptime = iv->has_uptime;
	m->uptime = iv->to_uptime;
	return m;
}

/* A type-6 token of a NeTraMet 5.1b4-6 file whose corrupted upper limit is
 * below its lower one: keep the counts, with the upper limit raised to the
 * lower so the token parses (the limits are marked unusable anyway). */
static const struct dif_dist *reread_bad_dist(struct dan *a, const char *tok)
{
	char buf[8192], *f[5];
	if (strlen(tok) >= sizeof buf)
		return NULL;
	strcpy(buf, tok);
	size_t n = 0;
	for (char *s = buf; n < 5; n++) {
		f[n] = s;
		char *c = strchr(s, ':');
		if (!c) {
			n++;
			break;
		}
		*c = '\0';
		s = c + 1;
	}
	if (n != 5 || strcmp(f[0], "6") != 0)
		return NULL;
	char fixed[8192];
	int len = snprintf(fixed, sizeof fixed, "6:%s:%s:%s:%s", f[1], f[2],
			   f[2], f[4]);
	if (len < 0 || (size_t)len >= sizeof fixed)
		return NULL;
	const char *why;
	if (difp_parse_dist(fixed, (size_t)len, &a->fixed, a->fixed_values,
			    a->fixed_counts, &why) < 0)
		return NULL;
	/* report the limit as written; it is marked unusable */
	char *end;
	errno = 0;
	unsigned long up = strtoul(f[3], &end, 10);
	if (!errno && *f[3] && !*end && up <= UINT32_MAX)
		a->fixed.upper = (uint32_t)up;
	return &a->fixed;
}

static int one_record(struct dan *a, const char *file,
		      const struct difp_interval *iv, const struct cols *c,
		      const struct meter_state *m, const struct dif_record *r)
{
	struct dan_row row;
	memset(&row, 0, sizeof row);
	row.file = file;
	row.line = iv->line;
	row.has_epoch = iv->has_epoch;
	row.start = iv->start;
	row.end = iv->end;
	row.time_text = iv->time_text;

	const char *server = text_of(r, c->server);
	row.server = server && strcmp(server, "-") != 0 ? server : "";
	const char *cls = text_of(r, c->class_), *kind = text_of(r, c->kind);
	const char *rs = text_of(r, c->ruleset), *idx = text_of(r, c->index);
	char flow[DAN_FLOW_MAX];
	if (cls && kind && server)
		snprintf(flow, sizeof flow, "%s/%s/%s", cls, kind, server);
	else if (rs && idx)
		snprintf(flow, sizeof flow, "%s:%s", rs, idx);
	else if (server)
		snprintf(flow, sizeof flow, "%s", server);
	else
		snprintf(flow, sizeof flow, "%s", idx ? idx : "?");
	row.flow = flow;

	/* identity: meter generation, ruleset, index (else the readable id) */
	char key[KEY_MAX];
	snprintf(key, sizeof key, "%lu|%s|%s", m->generation, rs ? rs : "",
		 idx ? idx : flow);
	uint64_t first_v = 0;
	bool has_first = c->first >= 0 && (size_t)c->first < r->n &&
			 value_u64(&r->v[c->first], &first_v);

	uint32_t have = 0;
	uint64_t cur[DAN_N_COUNTERS] = { 0 };
	for (int k = 0; k < DAN_N_COUNTERS; k++) {
		int i = c->counter[k];
		if (i >= 0 && (size_t)i < r->n && value_u64(&r->v[i], &cur[k]))
			have |= 1u << k;
	}

	bool created;
	void **slot = table_get(&a->flows, key, &created);
	if (!slot)
		return -1;
	struct flow_state *fs = *slot;
	if (!fs) {
		fs = calloc(1, sizeof *fs);
		if (!fs)
			return -1;
		*slot = fs;
	}
	bool fresh = created ||
		     (has_first && (!fs->has_first || fs->first != (uint32_t)first_v));
	bool went_back = false;
	for (int k = 0; k < DAN_N_COUNTERS && !fresh; k++)
		if ((have & fs->have & (1u << k)) && cur[k] < fs->counter[k])
			went_back = true;   /* the flow restarted: counts since */
	fresh = fresh || went_back;
	row.first = fresh;
	if (fresh) {
		/* a flow that began before this interval's range is a baseline */
		bool inside = went_back || !has_first || !iv->has_uptime ||
			      first_v >= iv->from_uptime;
		row.have = inside ? have : 0;
		memcpy(row.counter, cur, sizeof cur);
	} else {
		row.have = have & fs->have;
		for (int k = 0; k < DAN_N_COUNTERS; k++)
			row.counter[k] = cur[k] - fs->counter[k];
	}
	for (int k = 0; k < DAN_N_COUNTERS; k++)
		if (!dan_has(row.have, (enum dan_counter)k))
			row.counter[k] = 0;
	fs->has_first = has_first;
	fs->first = (uint32_t)first_v;
	fs->have = have;
	memcpy(fs->counter, cur, sizeof cur);

	if (dan_has(row.have, DAN_REQUESTS) && row.has_epoch && row.end > row.start) {
		row.has_load = true;
		row.load_rps = (double)row.counter[DAN_REQUESTS] /
			       (double)(row.end - row.start);
	}

	bool bad_hdr = difp_bad_type6_upper(iv->header);
	row.limits_valid = true;
	if (c->dist >= 0 && (size_t)c->dist < r->n) {
		const struct dif_value *v = &r->v[c->dist];
		if (v->kind == DIF_V_DIST)
			row.dist = v->dist;
		else if (v->kind == DIF_V_TEXT && bad_hdr && v->text)
			row.dist = reread_bad_dist(a, v->text);
		if (row.dist && row.dist->type == DIF_DIST_BINNED && bad_hdr) {
			row.limits_valid = false;
			a->bad_limits++;
		}
	}
	if (row.dist) {
		row.has_pct = dan_dist_percentile(row.dist, row.limits_valid,
						  PCT_MEDIAN, &row.median) &&
			      dan_dist_percentile(row.dist, row.limits_valid,
						  PCT_P10, &row.p10) &&
			      dan_dist_percentile(row.dist, row.limits_valid,
						  PCT_P90, &row.p90);
	}
	return a->fn ? a->fn(a->ctx, &row) : 0;
}

int dan_interval(struct dan *a, const char *file,
		 const struct difp_interval *iv)
{
	struct cols c;
	find_cols(iv->format, &c);
	const struct meter_state *m = meter_update(a, file, iv);
	if (!m)
		return -1;
	for (size_t i = 0; i < iv->n_records; i++) {
		int rc = one_record(a, file, iv, &c, m, &iv->records[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- summaries ---- */

struct acc {
	char flow[DAN_FLOW_MAX], server[DAN_SERVER_MAX];
	size_t order;
	unsigned long intervals;
	uint32_t have;
	uint64_t counter[DAN_N_COUNTERS];
	uint64_t samples, pooled;
	uint32_t *exact;          /* exact pool, until it spills */
	size_t n_exact, cap_exact;
	double *hist;             /* DIST_BINS, once spilled */
};

struct dan_summary {
	struct table by_flow;
	struct acc **order;       /* in order of first appearance */
	size_t n, cap;
};

static void acc_free(void *p)
{
	struct acc *x = p;
	if (!x)
		return;
	free(x->exact);
	free(x->hist);
	free(x);
}

struct dan_summary *dan_summary_new(void)
{
	return calloc(1, sizeof(struct dan_summary));
}

void dan_summary_free(struct dan_summary *s)
{
	if (!s)
		return;
	table_free(&s->by_flow, acc_free);
	free(s->order);
	free(s);
}

size_t dan_summary_count(const struct dan_summary *s)
{
	return s->n;
}

static int acc_spill(struct acc *x)
{
	if (x->hist)
		return 0;
	x->hist = calloc(DIST_BINS, sizeof *x->hist);
	if (!x->hist) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < x->n_exact; i++)
		x->hist[dist_bin_of(x->exact[i])] += 1.0;
	free(x->exact);
	x->exact = NULL;
	x->n_exact = x->cap_exact = 0;
	return 0;
}

/* Spread `count` uniformly over [lo, hi) µs into the histogram bins. */
static void hist_spread(double *hist, double lo, double hi, double count)
{
	/* static buckets may reach past 32-bit µs (scale up to 10^9) */
	lo = fmin(fmax(lo, 0), (double)UINT32_MAX);
	hi = fmin(hi, (double)UINT32_MAX);
	if (!(hi > lo)) {
		hist[dist_bin_of((uint32_t)lo)] += count;
		return;
	}
	unsigned b0 = dist_bin_of((uint32_t)lo);
	unsigned b1 = dist_bin_of((uint32_t)ceil(hi) - 1);
	for (unsigned b = b0; b <= b1 && b < DIST_BINS; b++) {
		double bl = dist_bin_low(b), bh = (double)dist_bin_high(b) + 1.0;
		double ov = fmin(hi, bh) - fmax(lo, bl);
		if (ov > 0)
			hist[b] += count * ov / (hi - lo);
	}
}

static int acc_add_dist(struct acc *x, const struct dif_dist *d)
{
	if (d->type == DIF_DIST_EXACT) {
		if (!x->hist && x->n_exact + d->n_values > DAN_EXACT_MAX &&
		    acc_spill(x) < 0)
			return -1;
		if (x->hist) {
			for (uint32_t i = 0; i < d->n_values; i++)
				x->hist[dist_bin_of(d->values[i])] += 1.0;
		} else {
			if (x->n_exact + d->n_values > x->cap_exact) {
				size_t cap = x->cap_exact ? 2 * x->cap_exact : 256;
				while (cap < x->n_exact + d->n_values)
					cap *= 2;
				uint32_t *e = realloc(x->exact, cap * sizeof *e);
				if (!e) {
					errno = ENOMEM;
					return -1;
				}
				x->exact = e;
				x->cap_exact = cap;
			}
			memcpy(x->exact + x->n_exact, d->values,
			       d->n_values * sizeof *d->values);
			x->n_exact += d->n_values;
		}
	} else {
		/* types 6 (and 1/2, whose buckets have bounds too) */
		if (acc_spill(x) < 0)
			return -1;
		for (uint32_t k = 0; k < d->n_counts; k++) {
			if (!d->counts[k])
				continue;
			double lo, hi;
			if (d->type == DIF_DIST_BINNED) {
				lo = dif_dist_edge(d->lower, d->upper, d->n_counts, k);
				hi = dif_dist_edge(d->lower, d->upper, d->n_counts, k + 1);
			} else {
				/* static buckets: (b_{k-1}, b_k]; overflow at its bound */
				unsigned buckets = d->n_counts - 1;
				unsigned top = k < buckets ? k : buckets - 1;
				hi = dif_dist_static_bound(d->type, d->scale, d->lower,
							   d->upper, buckets, top);
				lo = k == 0 || k >= buckets ? hi
				     : dif_dist_static_bound(d->type, d->scale,
							     d->lower, d->upper,
							     buckets, k - 1);
				if (hi < 0 || lo < 0)
					continue;
			}
			hist_spread(x->hist, lo, hi, (double)d->counts[k]);
		}
	}
	x->pooled += d->n;
	return 0;
}

int dan_summary_add(struct dan_summary *s, const struct dan_row *row)
{
	bool created;
	void **slot = table_get(&s->by_flow, row->flow, &created);
	if (!slot)
		return -1;
	struct acc *x = *slot;
	if (!x) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 64;
			struct acc **o = realloc(s->order, cap * sizeof *o);
			if (!o) {
				errno = ENOMEM;
				return -1;
			}
			s->order = o;
			s->cap = cap;
		}
		x = calloc(1, sizeof *x);
		if (!x) {
			errno = ENOMEM;
			return -1;
		}
		*slot = x;
		snprintf(x->flow, sizeof x->flow, "%s", row->flow);
		snprintf(x->server, sizeof x->server, "%s", row->server);
		x->order = s->n;
		s->order[s->n++] = x;
	}
	x->intervals++;
	x->have |= row->have;
	for (int k = 0; k < DAN_N_COUNTERS; k++)
		x->counter[k] += row->counter[k];
	if (row->dist) {
		x->samples += row->dist->n;
		bool usable = row->dist->n > 0 &&
			      (row->limits_valid || row->dist->type != DIF_DIST_BINNED);
		if (usable && acc_add_dist(x, row->dist) < 0)
			return -1;
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Exact pool: sorted values, h = p·(n−1), interpolation (doc §5.2). */
static double exact_pct(const uint32_t *v, size_t n, double p)
{
	double h = p * (double)(n - 1);
	size_t lo = (size_t)floor(h), hi = (size_t)ceil(h);
	return v[lo] + (h - (double)lo) * ((double)v[hi] - (double)v[lo]);
}

/* Histogram: target p·n, interpolation within the bin holding it. */
static double hist_pct(const double *hist, double n, double p)
{
	double t = p * n, before = 0;
	for (unsigned b = 0; b < DIST_BINS; b++) {
		if (hist[b] <= 0)
			continue;
		if (before + hist[b] >= t) {
			double lo = dist_bin_low(b);
			double hi = (double)dist_bin_high(b) + 1.0;
			return lo + (t - before) / hist[b] * (hi - lo);
		}
		before += hist[b];
	}
	for (unsigned b = DIST_BINS; b-- > 0;)
		if (hist[b] > 0)
			return (double)dist_bin_high(b) + 1.0;
	return 0;
}

void dan_summary_get(const struct dan_summary *s, size_t i,
		     struct dan_summary_row *out)
{
	struct acc *x = s->order[i];
	memset(out, 0, sizeof *out);
	out->flow = x->flow;
	out->server = x->server;
	out->intervals = x->intervals;
	out->have = x->have;
	memcpy(out->counter, x->counter, sizeof out->counter);
	uint64_t asked = x->counter[DAN_ANSWERED] + x->counter[DAN_LOST];
	if (dan_has(x->have, DAN_ANSWERED) && dan_has(x->have, DAN_LOST) && asked) {
		out->has_lost_pct = true;
		out->lost_pct = 100.0 * (double)x->counter[DAN_LOST] / (double)asked;
	}
	out->samples = x->samples;
	out->pooled = x->pooled;
	if (x->pooled == 0)
		return;
	out->has_pct = true;
	if (x->hist) {
		double n = 0;
		for (unsigned b = 0; b < DIST_BINS; b++)
			n += x->hist[b];
		out->median = hist_pct(x->hist, n, PCT_MEDIAN);
		out->p10 = hist_pct(x->hist, n, PCT_P10);
		out->p90 = hist_pct(x->hist, n, PCT_P90);
	} else {
		out->exact = true;
		qsort(x->exact, x->n_exact, sizeof *x->exact, cmp_u32);
		out->median = exact_pct(x->exact, x->n_exact, PCT_MEDIAN);
		out->p10 = exact_pct(x->exact, x->n_exact, PCT_P10);
		out->p90 = exact_pct(x->exact, x->n_exact, PCT_P90);
	}
}
