/* dist.c — per-flow distributions (see dist.h). */
#include "dist.h"

#include <string.h>

#include "attr.h"

/* ---- histogram geometry ---- */

unsigned dist_bin_of(uint32_t v)
{
	if (v < DIST_EXACT_LIMIT)
		return v;
	unsigned e = 31 - (unsigned)__builtin_clz(v);   /* v in [2^e, 2^(e+1)) */
	return DIST_EXACT_LIMIT + (e - DIST_EXACT_BITS) * DIST_SUB +
	       ((v >> (e - DIST_SUB_BITS)) & (DIST_SUB - 1));
}

uint32_t dist_bin_low(unsigned bin)
{
	if (bin < DIST_EXACT_LIMIT)
		return bin;
	unsigned o = (bin - DIST_EXACT_LIMIT) / DIST_SUB;
	unsigned s = (bin - DIST_EXACT_LIMIT) % DIST_SUB;
	unsigned e = o + DIST_EXACT_BITS;
	return (uint32_t)((uint64_t)(DIST_SUB + s) << (e - DIST_SUB_BITS));
}

uint32_t dist_bin_high(unsigned bin)
{
	if (bin + 1 >= DIST_BINS)
		return UINT32_MAX;
	return dist_bin_low(bin + 1) - 1;
}

/* ---- turnaround distributions ---- */

void dist_init(struct dist *d)
{
	memset(d, 0, sizeof *d);
}

void dist_add(struct dist *d, uint64_t value_us, uint64_t time_ns)
{
	uint32_t v = value_us > UINT32_MAX ? UINT32_MAX : (uint32_t)value_us;
	unsigned slot = (unsigned)(d->count % DIST_RING);
	d->bins[dist_bin_of(v)]++;
	d->ring_v[slot] = v;
	d->ring_t[slot] = time_ns;
	d->count++;
}

void dist_snapshot(const struct dist *live, struct dist *snap)
{
	memcpy(snap, live, sizeof *snap);
}

struct sample {
	uint64_t t;
	uint32_t v;
};

/* The ring's valid samples, oldest first; returns how many. */
static unsigned ring_samples(const struct dist *d, struct sample *out)
{
	unsigned n = d->count < DIST_RING ? (unsigned)d->count : DIST_RING;
	uint64_t first = d->count - n;
	for (unsigned j = 0; j < n; j++) {
		unsigned slot = (unsigned)((first + j) % DIST_RING);
		out[j].t = d->ring_t[slot];
		out[j].v = d->ring_v[slot];
	}
	return n;
}

void dist_merge(struct dist *into, const struct dist *from)
{
	struct sample a[DIST_RING], b[DIST_RING], m[2 * DIST_RING];
	unsigned na = ring_samples(into, a), nb = ring_samples(from, b);
	unsigned i = 0, j = 0, k = 0;
	while (i < na || j < nb) {
		if (j >= nb || (i < na && a[i].t <= b[j].t))
			m[k++] = a[i++];
		else
			m[k++] = b[j++];
	}
	uint64_t total = into->count + from->count;
	unsigned keep = k < DIST_RING ? k : DIST_RING;
	for (unsigned x = 0; x < keep; x++) {
		unsigned slot = (unsigned)((total - keep + x) % DIST_RING);
		into->ring_t[slot] = m[k - keep + x].t;
		into->ring_v[slot] = m[k - keep + x].v;
	}
	for (unsigned x = 0; x < DIST_BINS; x++)
		into->bins[x] += from->bins[x];   /* wraps like the counts do */
	into->count = total;
}

void dist_append(struct dist *into, const struct dist *from)
{
	/* from's sample k would land in into's slot (into->count + k) % ring;
	 * only its last min(count, ring) samples are still in its ring, and
	 * only those survive in into's ring anyway */
	unsigned n = from->count < DIST_RING ? (unsigned)from->count : DIST_RING;
	uint64_t skip = from->count - n;
	for (unsigned j = 0; j < n; j++) {
		unsigned src = (unsigned)((skip + j) % DIST_RING);
		unsigned dst = (unsigned)((into->count + skip + j) % DIST_RING);
		into->ring_t[dst] = from->ring_t[src];
		into->ring_v[dst] = from->ring_v[src];
	}
	for (unsigned b = 0; b < DIST_BINS; b++)
		into->bins[b] += from->bins[b];   /* wraps like dist_add's */
	into->count += from->count;
}

int dist_interval(const struct dist *prev, const struct dist *cur,
		  unsigned nbins, struct dist_result *out)
{
	static const struct dist zero;
	if (!prev)
		prev = &zero;
	if (nbins == 0)
		nbins = DIF_DIST_DEFAULT_BINS;
	if (cur->count < prev->count || nbins > DIST_MAX_NBINS)
		return -1;
	uint64_t n = cur->count - prev->count;

	/* The histogram difference must account for exactly n samples, or the
	 * two copies do not belong together (torn copy, different flow). */
	uint64_t sum = 0;
	unsigned first = DIST_BINS, last = 0;
	for (unsigned b = 0; b < DIST_BINS; b++) {
		uint32_t c = cur->bins[b] - prev->bins[b];
		if (!c)
			continue;
		sum += c;
		if (first == DIST_BINS)
			first = b;
		last = b;
	}
	if (sum != n)
		return -1;

	memset(&out->d, 0, sizeof out->d);
	out->d.n = n;
	if (n <= DIST_RING) {
		out->d.type = DIF_DIST_EXACT;
		for (unsigned j = 0; j < n; j++)
			out->values[j] = cur->ring_v[(prev->count + j) % DIST_RING];
		out->d.n_values = (uint32_t)n;
		out->d.values = out->values;
		return 0;
	}

	out->d.type = DIF_DIST_BINNED;
	out->d.lower = dist_bin_low(first);
	out->d.upper = dist_bin_high(last);
	out->d.n_counts = nbins;
	out->d.counts = out->counts;
	memset(out->counts, 0, sizeof out->counts);
	double edge[DIST_MAX_NBINS + 1];
	for (unsigned k = 0; k <= nbins; k++)
		edge[k] = dif_dist_edge(out->d.lower, out->d.upper, nbins, k);
	/* Each histogram bin goes whole into the bin holding its midpoint, so
	 * the counts sum to n exactly. */
	unsigned k = 0;
	for (unsigned b = first; b <= last; b++) {
		uint32_t c = cur->bins[b] - prev->bins[b];
		if (!c)
			continue;
		double mid = ((double)dist_bin_low(b) + dist_bin_high(b)) / 2.0;
		while (k + 1 < nbins && mid >= edge[k + 1])
			k++;
		out->counts[k] += c;
	}
	return 0;
}

unsigned dist_nbins_from_rule(const uint8_t value[DIST_RULE_BYTES])
{
	return value[0] ? value[0] : DIF_DIST_DEFAULT_BINS;
}

/* ---- RFC 2724 static distributions ---- */

int dist_static_spec_init(struct dist_static_spec *s,
			  const uint8_t mask[DIST_RULE_BYTES],
			  const uint8_t value[DIST_RULE_BYTES],
			  const char **why)
{
	memset(s, 0, sizeof *s);
	s->transform = mask[0];
	s->scale = mask[1];
	s->lower = (uint16_t)(mask[2] << 8 | mask[3]);
	s->upper = (uint16_t)(mask[4] << 8 | mask[5]);
	s->buckets = value[0];
	s->param1 = value[1];
	s->param2 = (uint16_t)(value[2] << 8 | value[3]);
	s->param3 = (uint16_t)(value[4] << 8 | value[5]);

	const char *err = NULL;
	if (s->transform != DIF_DIST_LINEAR && s->transform != DIF_DIST_LOG)
		err = "transform (mask byte 1) must be 1 (linear) or 2 (logarithmic)";
	else if (s->scale > 9)
		err = "scale factor (mask byte 2) above 9";
	else if (s->buckets == 0)
		err = "number of buckets (value byte 1) is 0";
	else if (s->lower > s->upper)
		err = "lower limit above upper limit";
	else if (s->transform == DIF_DIST_LOG && s->lower == 0)
		err = "a logarithmic distribution needs a lower limit above 0";
	if (err) {
		if (why)
			*why = err;
		return -1;
	}
	for (unsigned i = 0; i < s->buckets; i++)
		s->bound[i] = dif_dist_static_bound(s->transform, s->scale,
						    s->lower, s->upper,
						    s->buckets, i);
	return 0;
}

void dist_static_init(struct dist_static *d)
{
	memset(d, 0, sizeof *d);
}

unsigned dist_static_bucket(const struct dist_static_spec *s, uint64_t value)
{
	double v = (double)value;
	unsigned lo = 0, hi = s->buckets;   /* answer in [lo, hi] */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (v <= s->bound[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void dist_static_add(const struct dist_static_spec *s, struct dist_static *d,
		     uint64_t value)
{
	d->counts[dist_static_bucket(s, value)]++;
	d->n++;
}

int dist_static_interval(const struct dist_static_spec *s,
			 const struct dist_static *prev,
			 const struct dist_static *cur,
			 struct dist_result *out)
{
	static const struct dist_static zero;
	if (!prev)
		prev = &zero;
	if (cur->n < prev->n)
		return -1;
	uint64_t sum = 0;
	for (unsigned i = 0; i <= s->buckets; i++) {
		if (cur->counts[i] < prev->counts[i])
			return -1;
		out->counts[i] = cur->counts[i] - prev->counts[i];
		sum += out->counts[i];
	}
	if (sum != cur->n - prev->n)
		return -1;
	memset(&out->d, 0, sizeof out->d);
	out->d.type = s->transform;
	out->d.scale = s->scale;
	out->d.n = sum;
	out->d.lower = s->lower;
	out->d.upper = s->upper;
	out->d.n_counts = s->buckets + 1u;
	out->d.counts = out->counts;
	return 0;
}

unsigned dist_ruleset_nbins(const struct ruleset *rs)
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
