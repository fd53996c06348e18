/* test_dist — per-flow distributions: histogram geometry, type 5/6
 * intervals, shard merge, RFC 2724 static distributions, percentiles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dist.h"

/* Deterministic generator (fixed seed): tests must be reproducible. */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s; }
static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}
/* Log-uniform RTT-like value between 50 µs and ~3 s. */
static uint32_t rng_rtt(void)
{
	unsigned octave = rng() % 16;
	uint32_t base = 50u << octave;
	return base + rng() % base;
}

static struct dist *new_dist(void)
{
	struct dist *d = malloc(sizeof *d);
	assert_non_null(d);
	dist_init(d);
	return d;
}

static void bin_geometry(void **state)
{
	(void)state;
	assert_int_equal(DIST_BINS, 1728);
	assert_int_equal(dist_bin_of(0), 0);
	assert_int_equal(dist_bin_of(127), 127);
	assert_int_equal(dist_bin_of(128), 128);
	assert_int_equal(dist_bin_of(129), 128);   /* 2-µs bins in [128, 256) */
	assert_int_equal(dist_bin_of(130), 129);
	assert_int_equal(dist_bin_of(255), 191);
	assert_int_equal(dist_bin_of(256), 192);
	assert_int_equal(dist_bin_of(UINT32_MAX), DIST_BINS - 1);
	assert_int_equal(dist_bin_low(191), 254);
	assert_int_equal(dist_bin_high(191), 255);
	assert_int_equal(dist_bin_high(DIST_BINS - 1), UINT32_MAX);
	for (unsigned b = 0; b < DIST_BINS; b++) {
		uint32_t lo = dist_bin_low(b), hi = dist_bin_high(b);
		assert_int_equal(dist_bin_of(lo), b);
		assert_int_equal(dist_bin_of(hi), b);
		if (b + 1 < DIST_BINS)
			assert_int_equal(hi + 1, dist_bin_low(b + 1));
		/* at most 1/64 of the bin's low end wide (≤ 1.6 %) */
		if (b >= DIST_EXACT_LIMIT)
			assert_true((uint64_t)(hi - lo + 1) * 64 <= lo);
		else
			assert_int_equal(lo, hi);
	}
}

/* 120 samples are type 5, exactly, in arrival order; 121 are type 6. */
static void switch_at_120(void **state)
{
	(void)state;
	struct dist *d = new_dist();
	struct dist_result r;
	for (unsigned i = 0; i < 120; i++)
		dist_add(d, 1000 + i * 7, i);
	assert_int_equal(dist_interval(NULL, d, 0, &r), 0);
	assert_int_equal(r.d.type, DIF_DIST_EXACT);
	assert_int_equal(r.d.n, 120);
	assert_int_equal(r.d.n_values, 120);
	for (unsigned i = 0; i < 120; i++)
		assert_int_equal(r.d.values[i], 1000 + i * 7);

	dist_add(d, 5000, 120);
	assert_int_equal(dist_interval(NULL, d, 0, &r), 0);
	assert_int_equal(r.d.type, DIF_DIST_BINNED);
	assert_int_equal(r.d.n, 121);
	assert_int_equal(r.d.n_counts, DIF_DIST_DEFAULT_BINS);
	/* min 1000 and max 5000 sit at bin edges: limits are exact here */
	assert_int_equal(r.d.lower, 1000);
	assert_int_equal(r.d.upper, 5055);   /* 5000 is in bin [4992, 5055] */
	free(d);
}

static uint64_t sum_counts(const struct dif_dist *d)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < d->n_counts; i++)
		s += d->counts[i];
	return s;
}

/* Type-6 limits are the true min/max within one histogram bin; bins sum
 * to n; every count lands in the bin its values belong to (roughly). */
static void type6_limits_random(void **state)
{
	(void)state;
	rng_seed(2724);
	struct dist *d = new_dist();
	static struct dist_result r;
	for (unsigned set = 0; set < 200; set++) {
		dist_init(d);
		unsigned n = 121 + rng() % 3000;
		uint32_t mn = UINT32_MAX, mx = 0;
		for (unsigned i = 0; i < n; i++) {
			uint32_t v = rng_rtt();
			if (set % 5 == 0)
				v = 20000 + rng() % 300;   /* narrow: one mode */
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
			dist_add(d, v, i);
		}
		unsigned nbins = 1 + rng() % 255;
		assert_int_equal(dist_interval(NULL, d, nbins, &r), 0);
		assert_int_equal(r.d.type, DIF_DIST_BINNED);
		assert_int_equal(r.d.n, n);
		assert_int_equal(r.d.n_counts, nbins);
		assert_true(r.d.lower <= mn);
		assert_int_equal(dist_bin_of(r.d.lower), dist_bin_of(mn));
		assert_true(r.d.upper >= mx);
		assert_int_equal(dist_bin_of(r.d.upper), dist_bin_of(mx));
		assert_int_equal(sum_counts(&r.d), n);
		assert_true(r.d.upper != 7000);   /* never the 51b4-6 constant */
		/* the median of the bins is within a bin of the exact median */
		double med;
		assert_int_equal(dif_dist_percentile(&r.d, 0.5, &med), 0);
		assert_true(med >= r.d.lower && med <= r.d.upper);
	}
	free(d);
}

static void same_result(const struct dist_result *a, const struct dist_result *b)
{
	assert_int_equal(a->d.type, b->d.type);
	assert_int_equal(a->d.n, b->d.n);
	assert_int_equal(a->d.lower, b->d.lower);
	assert_int_equal(a->d.upper, b->d.upper);
	assert_int_equal(a->d.n_values, b->d.n_values);
	assert_int_equal(a->d.n_counts, b->d.n_counts);
	if (a->d.n_values)
		assert_memory_equal(a->d.values, b->d.values,
				    a->d.n_values * sizeof(uint32_t));
	if (a->d.n_counts)
		assert_memory_equal(a->d.counts, b->d.counts,
				    a->d.n_counts * sizeof(uint64_t));
}

/* Samples spread over two worker shards, merged at each reading, give the
 * same intervals (type 5 and type 6) as one shard that saw everything. */
static void merge_two_shards(void **state)
{
	(void)state;
	rng_seed(42);
	struct dist *one = new_dist(), *s1 = new_dist(), *s2 = new_dist();
	struct dist *prev = new_dist(), *cur = new_dist();
	static struct dist_result ra, rb;
	struct dist *prev_one = new_dist();
	uint64_t t = 1000000;
	static const unsigned sizes[] = { 7, 100, 120, 121, 1000, 50, 119, 3000, 1 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		for (unsigned i = 0; i < sizes[k]; i++) {
			uint32_t v = rng_rtt();
			t += 1 + rng() % 1000;
			dist_add(one, v, t);
			dist_add(rng() & 1 ? s1 : s2, v, t);
		}
		dist_init(cur);
		dist_merge(cur, s1);
		dist_merge(cur, s2);
		assert_int_equal(cur->count, one->count);
		assert_int_equal(dist_interval(prev, cur, 0, &ra), 0);
		assert_int_equal(dist_interval(prev_one, one, 0, &rb), 0);
		assert_int_equal(ra.d.n, sizes[k]);
		assert_int_equal(ra.d.type, sizes[k] <= 120 ? DIF_DIST_EXACT
						     : DIF_DIST_BINNED);
		same_result(&ra, &rb);
		/* the merged ring is the single shard's ring */
		assert_memory_equal(cur->ring_v, one->ring_v, sizeof one->ring_v);
		assert_memory_equal(cur->ring_t, one->ring_t, sizeof one->ring_t);
		dist_snapshot(cur, prev);
		dist_snapshot(one, prev_one);
	}
	free(one); free(s1); free(s2); free(prev); free(cur); free(prev_one);
}

/* Merge of small shards (fewer than 120 samples in all). */
static void merge_small(void **state)
{
	(void)state;
	struct dist *a = new_dist(), *b = new_dist();
	struct dist_result r;
	dist_add(a, 10, 1);
	dist_add(b, 20, 2);
	dist_add(a, 30, 3);
	dist_add(b, 40, 4);
	dist_merge(a, b);
	assert_int_equal(a->count, 4);
	assert_int_equal(dist_interval(NULL, a, 0, &r), 0);
	assert_int_equal(r.d.type, DIF_DIST_EXACT);
	static const uint32_t want[] = { 10, 20, 30, 40 };
	assert_int_equal(r.d.n_values, 4);
	assert_memory_equal(r.d.values, want, sizeof want);
	free(a);
	free(b);
}

/* After many wraps of the ring, an interval still gets its own values. */
static void ring_wraparound(void **state)
{
	(void)state;
	struct dist *d = new_dist(), *snap = new_dist();
	struct dist_result r;
	for (unsigned i = 0; i < 1000; i++)
		dist_add(d, i, i);
	dist_snapshot(d, snap);
	for (unsigned i = 0; i < 50; i++)
		dist_add(d, 100000 + i, 1000 + i);
	assert_int_equal(dist_interval(snap, d, 0, &r), 0);
	assert_int_equal(r.d.type, DIF_DIST_EXACT);
	assert_int_equal(r.d.n, 50);
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(r.values[i], 100000 + i);
	/* a full ring's worth (120) after the wrap: all of it */
	dist_snapshot(d, snap);
	for (unsigned i = 0; i < 120; i++)
		dist_add(d, 7 * i, 2000 + i);
	assert_int_equal(dist_interval(snap, d, 0, &r), 0);
	assert_int_equal(r.d.n, 120);
	for (unsigned i = 0; i < 120; i++)
		assert_int_equal(r.values[i], 7 * i);
	free(d);
	free(snap);
}

/* Intervals from successive snapshots: each sees only its own samples. */
static void successive_snapshots(void **state)
{
	(void)state;
	struct dist *d = new_dist(), *s0 = new_dist(), *s1 = new_dist();
	struct dist *s2 = new_dist();
	static struct dist_result r;
	dist_snapshot(d, s0);
	for (unsigned i = 0; i < 30; i++)
		dist_add(d, 500 + i, i);
	dist_snapshot(d, s1);
	for (unsigned i = 0; i < 200; i++)
		dist_add(d, 30000 + (i % 2) * 10000, 100 + i);  /* 30000, 40000 */
	dist_snapshot(d, s2);

	assert_int_equal(dist_interval(s0, s1, 0, &r), 0);
	assert_int_equal(r.d.type, DIF_DIST_EXACT);
	assert_int_equal(r.d.n, 30);
	assert_int_equal(r.values[0], 500);
	assert_int_equal(r.values[29], 529);

	assert_int_equal(dist_interval(s1, s2, 10, &r), 0);
	assert_int_equal(r.d.type, DIF_DIST_BINNED);
	assert_int_equal(r.d.n, 200);
	/* 30000 is in bin [29952, 30207]; 40000 in [39936, 40447] */
	assert_int_equal(r.d.lower, 29952);
	assert_int_equal(r.d.upper, 40447);
	assert_int_equal(r.counts[0], 100);      /* the 30000s */
	assert_int_equal(r.counts[9], 100);      /* the 40000s */
	assert_int_equal(sum_counts(&r.d), 200);

	/* the wrong way round, or a foreign copy: refused */
	assert_int_equal(dist_interval(s2, s1, 0, &r), -1);
	s2->bins[5]++;   /* torn copy: histogram disagrees with the count */
	assert_int_equal(dist_interval(s1, s2, 0, &r), -1);
	assert_int_equal(dist_interval(s1, s1, 256, &r), -1);
	assert_int_equal(dist_interval(s1, s1, 0, &r), 0);   /* empty */
	assert_int_equal(r.d.type, DIF_DIST_EXACT);
	assert_int_equal(r.d.n, 0);
	free(d); free(s0); free(s1); free(s2);
}

static void percentiles(void **state)
{
	(void)state;
	double m;
	static const uint32_t odd[] = { 30, 10, 20 };
	struct dif_dist d5 = { .type = 5, .n = 3, .n_values = 3, .values = odd };
	assert_int_equal(dif_dist_percentile(&d5, 0.5, &m), 0);
	assert_true(m == 20.0);
	static const uint32_t even[] = { 40, 10, 30, 20 };
	d5.n = d5.n_values = 4;
	d5.values = even;
	assert_int_equal(dif_dist_percentile(&d5, 0.5, &m), 0);
	assert_true(m == 25.0);   /* mean of the two middle values */
	assert_int_equal(dif_dist_percentile(&d5, 0.0, &m), 0);
	assert_true(m == 10.0);
	assert_int_equal(dif_dist_percentile(&d5, 1.0, &m), 0);
	assert_true(m == 40.0);
	d5.n = d5.n_values = 0;
	assert_int_equal(dif_dist_percentile(&d5, 0.5, &m), -1);

	/* type 6, one bin [100, 200): the median is its middle */
	static const uint64_t one[] = { 10 };
	struct dif_dist d6 = { .type = 6, .n = 10, .lower = 100, .upper = 199,
			       .n_counts = 1, .counts = one };
	assert_int_equal(dif_dist_percentile(&d6, 0.5, &m), 0);
	assert_true(m == 150.0);
	/* two log-spaced bins: edge 100·√2; median at the top of bin 1 */
	static const uint64_t two[] = { 5, 5 };
	d6.n_counts = 2;
	d6.counts = two;
	assert_int_equal(dif_dist_percentile(&d6, 0.5, &m), 0);
	assert_float_equal(m, 141.4213562, 1e-6);
	assert_int_equal(dif_dist_percentile(&d6, 0.75, &m), 0);
	assert_float_equal(m, 141.4213562 + 0.5 * (200 - 141.4213562), 1e-6);
	/* counts that do not sum to n: refused */
	d6.n = 11;
	assert_int_equal(dif_dist_percentile(&d6, 0.5, &m), -1);

	/* static linear 25..1500 step 25: 10 values in (25, 50] */
	uint64_t c[61] = { 0 };
	c[1] = 10;
	struct dif_dist d1 = { .type = 1, .n = 10, .lower = 25, .upper = 1500,
			       .n_counts = 61, .counts = c };
	assert_int_equal(dif_dist_percentile(&d1, 0.5, &m), 0);
	assert_true(m == 37.5);
	c[1] = 0;
	c[60] = 10;   /* all in overflow: only a lower bound */
	assert_int_equal(dif_dist_percentile(&d1, 0.5, &m), 1);
	assert_true(m == 1500.0);
}

/* RFC 2724: FromPacketSize & 1.0.25!1500 = 60.0!0 -> 61 counters, bounds
 * 25, 50, ..., 1500. */
static void rfc2724_linear(void **state)
{
	(void)state;
	static const uint8_t mask[6] = { 1, 0, 0, 25, 0x05, 0xDC };
	static const uint8_t value[6] = { 60, 0, 0, 0, 0, 0 };
	struct dist_static_spec s;
	const char *why = NULL;
	assert_int_equal(dist_static_spec_init(&s, mask, value, &why), 0);
	assert_int_equal(s.transform, 1);
	assert_int_equal(s.lower, 25);
	assert_int_equal(s.upper, 1500);
	assert_int_equal(s.buckets, 60);
	for (unsigned i = 0; i < 60; i++)
		assert_true(s.bound[i] == 25.0 * (i + 1));
	assert_true(dif_dist_static_bound(1, 0, 25, 1500, 60, 0) == 25.0);
	assert_true(dif_dist_static_bound(1, 0, 25, 1500, 60, 59) == 1500.0);
	assert_true(dif_dist_static_bound(1, 0, 25, 1500, 60, 60) < 0);
	assert_int_equal(dist_static_bucket(&s, 0), 0);
	assert_int_equal(dist_static_bucket(&s, 25), 0);
	assert_int_equal(dist_static_bucket(&s, 26), 1);
	assert_int_equal(dist_static_bucket(&s, 50), 1);
	assert_int_equal(dist_static_bucket(&s, 1500), 59);
	assert_int_equal(dist_static_bucket(&s, 1501), 60);   /* overflow */

	struct dist_static *cum = calloc(2, sizeof *cum);
	assert_non_null(cum);
	dist_static_init(&cum[0]);
	dist_static_add(&s, &cum[0], 40);
	dist_static_add(&s, &cum[0], 9000);
	cum[1] = cum[0];
	dist_static_add(&s, &cum[1], 40);
	dist_static_add(&s, &cum[1], 1500);
	dist_static_add(&s, &cum[1], 1);
	static struct dist_result r;
	assert_int_equal(dist_static_interval(&s, &cum[0], &cum[1], &r), 0);
	assert_int_equal(r.d.type, DIF_DIST_LINEAR);
	assert_int_equal(r.d.n, 3);
	assert_int_equal(r.d.n_counts, 61);   /* 60 buckets + overflow */
	assert_int_equal(r.counts[0], 1);
	assert_int_equal(r.counts[1], 1);
	assert_int_equal(r.counts[59], 1);
	assert_int_equal(r.counts[60], 0);
	assert_int_equal(dist_static_interval(&s, &cum[1], &cum[0], &r), -1);
	free(cum);
}

/* RFC 2724: ToInterArrivalTime & 2.3.1!1800 = 60.0.0!0 -> log 1 ms..1.8 s
 * (scale 3: limits in ms, values in µs). */
static void rfc2724_log(void **state)
{
	(void)state;
	static const uint8_t mask[6] = { 2, 3, 0, 1, 0x07, 0x08 };
	static const uint8_t value[6] = { 60, 0, 0, 0, 0, 0 };
	struct dist_static_spec s;
	assert_int_equal(dist_static_spec_init(&s, mask, value, NULL), 0);
	assert_int_equal(s.upper, 1800);
	assert_true(s.bound[0] == 1000.0);
	assert_true(s.bound[59] == 1800000.0);
	assert_float_equal(s.bound[1], 1135.4659369, 1e-6);
	assert_float_equal(s.bound[29], 39815.2271188, 1e-6);
	for (unsigned i = 1; i < 60; i++)
		assert_true(s.bound[i] > s.bound[i - 1]);
	assert_int_equal(dist_static_bucket(&s, 1000), 0);
	assert_int_equal(dist_static_bucket(&s, 1001), 1);
	assert_int_equal(dist_static_bucket(&s, 1800000), 59);
	assert_int_equal(dist_static_bucket(&s, 1800001), 60);
}

static void rfc2724_bad_parameters(void **state)
{
	(void)state;
	struct dist_static_spec s;
	const char *why = NULL;
	static const uint8_t ok_v[6] = { 60 };
	static const uint8_t t3[6] = { 3, 0, 0, 1, 0, 10 };
	assert_int_equal(dist_static_spec_init(&s, t3, ok_v, &why), -1);
	assert_non_null(why);
	static const uint8_t log0[6] = { 2, 0, 0, 0, 0, 10 };
	assert_int_equal(dist_static_spec_init(&s, log0, ok_v, &why), -1);
	static const uint8_t lin[6] = { 1, 0, 0, 10, 0, 5 };   /* 10 > 5 */
	assert_int_equal(dist_static_spec_init(&s, lin, ok_v, &why), -1);
	static const uint8_t zero_v[6] = { 0 };
	static const uint8_t lin_ok[6] = { 1, 0, 0, 1, 0, 10 };
	assert_int_equal(dist_static_spec_init(&s, lin_ok, zero_v, &why), -1);
	assert_int_equal(dist_nbins_from_rule(zero_v), 60);
	assert_int_equal(dist_nbins_from_rule(ok_v), 60);
	static const uint8_t v30[6] = { 30 };
	assert_int_equal(dist_nbins_from_rule(v30), 30);
}

/* Type-6 edges: e_0 = lower, e_N = upper + 1, geometric in between. */
static void type6_edges(void **state)
{
	(void)state;
	assert_true(dif_dist_edge(1000, 7999, 3, 0) == 1000.0);
	assert_float_equal(dif_dist_edge(1000, 7999, 3, 1), 2000.0, 1e-9);
	assert_float_equal(dif_dist_edge(1000, 7999, 3, 2), 4000.0, 1e-9);
	assert_true(dif_dist_edge(1000, 7999, 3, 3) == 8000.0);
	/* lower 0: the log scale starts from 1 */
	assert_true(dif_dist_edge(0, 99, 2, 0) == 0.0);
	assert_float_equal(dif_dist_edge(0, 99, 2, 1), 10.0, 1e-9);
}

/* dist_append(into, from) is dist_add of each of from's samples in order:
 * `into` starts with `pre` samples (a count not a multiple of 120), `from`
 * holds `n` samples; the result must equal, byte for byte, one dist fed
 * all pre + n samples. */
static void append_case(unsigned pre, unsigned n)
{
	struct dist *into = new_dist(), *from = new_dist(), *one = new_dist();
	for (unsigned k = 0; k < pre; k++) {
		dist_add(into, 1000 + k, 1000000ull * k);
		dist_add(one, 1000 + k, 1000000ull * k);
	}
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = 50000 + 7ull * k, t = 1000000ull * (pre + k);
		dist_add(from, v, t);
		dist_add(one, v, t);
	}
	dist_append(into, from);
	assert_int_equal(into->count, pre + n);
	assert_memory_equal(into, one, sizeof *one);
	free(into);
	free(from);
	free(one);
}

static void append_equals_add(void **state)
{
	(void)state;
	append_case(7, 5);        /* both fit the ring */
	append_case(0, 0);
	append_case(37, 0);       /* empty from: nothing changes */
	append_case(0, 130);
	append_case(37, 120);     /* exactly a ring */
	append_case(37, 121);
	append_case(250, 301);    /* from wrapped, into not a multiple of 120 */
	append_case(119, 1);
}

/* Literal: into has 118 samples (slots 0..117), from 3 (values 5, 6, 7 at
 * 10, 20, 30 ns): they go to slots 118, 119, 0; bins 5, 6, 7 gain one. */
static void append_literal(void **state)
{
	(void)state;
	struct dist *into = new_dist(), *from = new_dist();
	for (unsigned k = 0; k < 118; k++)
		dist_add(into, 100, k);
	dist_add(from, 5, 10);
	dist_add(from, 6, 20);
	dist_add(from, 7, 30);
	dist_append(into, from);
	assert_int_equal(into->count, 121);
	assert_int_equal(into->ring_v[118], 5);
	assert_int_equal(into->ring_t[118], 10);
	assert_int_equal(into->ring_v[119], 6);
	assert_int_equal(into->ring_t[119], 20);
	assert_int_equal(into->ring_v[0], 7);
	assert_int_equal(into->ring_t[0], 30);
	assert_int_equal(into->ring_v[1], 100);    /* sample 1 still there */
	assert_int_equal(into->bins[5], 1);
	assert_int_equal(into->bins[6], 1);
	assert_int_equal(into->bins[7], 1);
	assert_int_equal(into->bins[100], 118);
	/* from's counts wrap into into's modulo 2^32, like dist_add's */
	into->bins[9] = UINT32_MAX;
	dist_init(from);
	from->bins[9] = 2;
	dist_append(into, from);
	assert_int_equal(into->bins[9], 1);
	assert_int_equal(into->count, 121);
	free(into);
	free(from);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bin_geometry),
		cmocka_unit_test(switch_at_120),
		cmocka_unit_test(type6_limits_random),
		cmocka_unit_test(merge_two_shards),
		cmocka_unit_test(merge_small),
		cmocka_unit_test(ring_wraparound),
		cmocka_unit_test(successive_snapshots),
		cmocka_unit_test(percentiles),
		cmocka_unit_test(rfc2724_linear),
		cmocka_unit_test(rfc2724_log),
		cmocka_unit_test(rfc2724_bad_parameters),
		cmocka_unit_test(type6_edges),
		cmocka_unit_test(append_equals_add),
		cmocka_unit_test(append_literal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
