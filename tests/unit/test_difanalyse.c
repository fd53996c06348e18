/* test_difanalyse — per-interval rows from .dif text (counter differences,
 * flow-index reuse, meter restarts, baselines, NeTraMet 5.1b5 limits) and
 * whole-range summaries (exact pooling, histogram pooling, loss rate). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "difanalyse.h"
#include "difparse.h"

#define MAX_ROWS 16

struct got_row {
	char flow[DAN_FLOW_MAX], server[DAN_SERVER_MAX];
	bool first, has_pct, limits_valid, has_load;
	uint32_t have;
	uint64_t c[DAN_N_COUNTERS];
	double median, load;
	int dist_type;
	uint64_t dist_n;
	uint32_t lower, upper;
	uint64_t count0;
};

struct got {
	struct dan *an;
	struct dan_summary *sum;
	size_t n;
	struct got_row r[MAX_ROWS];
	unsigned errors;
};

static int on_row(void *ctx, const struct dan_row *row)
{
	struct got *g = ctx;
	if (g->sum)
		assert_int_equal(dan_summary_add(g->sum, row), 0);
	if (g->n == MAX_ROWS)
		return 0;
	struct got_row *r = &g->r[g->n++];
	snprintf(r->flow, sizeof r->flow, "%s", row->flow);
	snprintf(r->server, sizeof r->server, "%s", row->server);
	r->first = row->first;
	r->have = row->have;
	memcpy(r->c, row->counter, sizeof r->c);
	r->has_pct = row->has_pct;
	r->median = row->median;
	r->has_load = row->has_load;
	r->load = row->load_rps;
	r->limits_valid = row->limits_valid;
	r->dist_type = row->dist ? row->dist->type : 0;
	r->dist_n = row->dist ? row->dist->n : 0;
	r->lower = row->dist ? row->dist->lower : 0;
	r->upper = row->dist ? row->dist->upper : 0;
	r->count0 = row->dist && row->dist->n_counts ? row->dist->counts[0] : 0;
	return 0;
}

static int on_interval(void *ctx, const struct difp_interval *iv)
{
	struct got *g = ctx;
	return dan_interval(g->an, "test.dif", iv);
}

static void on_error(void *ctx, const char *msg)
{
	struct got *g = ctx;
	(void)msg;
	g->errors++;
}

/* Parse text; rows into g (g->sum set by the caller when wanted). */
static void run(struct got *g, const char *text)
{
	g->an = dan_new(on_row, g);
	assert_non_null(g->an);
	const struct difp_ops ops = { .interval = on_interval, .error = on_error };
	struct difp *p = difp_new("test.dif", &ops, g);
	assert_non_null(p);
	assert_int_equal(difp_feed(p, text, strlen(text)), 0);
	assert_int_equal(difp_finish(p), 0);
	difp_free(p);
}

static void done(struct got *g)
{
	dan_free(g->an);
	dan_summary_free(g->sum);
}

#define HDR "##ntm 0.1 -x file:t starting at 2026-11-23T00:00:00Z 1795392000\n" \
	"#Format: flowruleset flowindex firsttime flowclass flowkind " \
	"destpeeraddress dnsrequests dnsresponses dnsanswered dnslost " \
	"toturnaroundtime\n"
#define IV(t, t1, t2) "#Time: " t " file:t Flows from " t1 " to " t2 "\n"
/* 1795392000 = 2026-11-23T00:00:00Z */
#define T00 "2026-11-23T00:00:00Z 1795392000 2026-11-23T00:05:00Z 1795392300"
#define T05 "2026-11-23T00:05:00Z 1795392300 2026-11-23T00:10:00Z 1795392600"
#define T10 "2026-11-23T00:10:00Z 1795392600 2026-11-23T00:15:00Z 1795392900"

static void test_differences(void **state)
{
	(void)state;
	struct got g = { 0 };
	run(&g, HDR
	    IV(T00, "0", "30000")
	    "2 1 100 0 1 198.41.0.4 10 9 8 1 5:3:100,200,300\n"
	    "#Enddata: 1\n"
	    IV(T05, "29990", "60000")
	    "2 1 100 0 1 198.41.0.4 25 21 19 3 5:2:400,500\n"
	    "#Enddata: 1\n");
	assert_int_equal(g.errors, 0);
	assert_int_equal(g.n, 2);
	/* first reading, flow began inside the range: the values themselves */
	assert_string_equal(g.r[0].flow, "0/1/198.41.0.4");
	assert_string_equal(g.r[0].server, "198.41.0.4");
	assert_true(g.r[0].first);
	assert_int_equal(g.r[0].have, 0xf);
	assert_int_equal(g.r[0].c[DAN_REQUESTS], 10);
	assert_int_equal(g.r[0].c[DAN_LOST], 1);
	assert_true(g.r[0].has_pct);
	assert_true(g.r[0].median == 200.0);
	assert_true(g.r[0].has_load);
	assert_true(fabs(g.r[0].load - 10.0 / 300) < 1e-12);
	/* second: differences 15, 12, 11, 2; median of 400,500 = 450 */
	assert_false(g.r[1].first);
	assert_int_equal(g.r[1].c[DAN_REQUESTS], 15);
	assert_int_equal(g.r[1].c[DAN_RESPONSES], 12);
	assert_int_equal(g.r[1].c[DAN_ANSWERED], 11);
	assert_int_equal(g.r[1].c[DAN_LOST], 2);
	assert_true(g.r[1].median == 450.0);
	assert_true(fabs(g.r[1].load - 15.0 / 300) < 1e-12);
	done(&g);
}

static void test_index_reuse_and_restart(void **state)
{
	(void)state;
	struct got g = { 0 };
	run(&g, HDR
	    IV(T00, "0", "30000")
	    "2 1 100 0 1 198.41.0.4 10 9 8 1 5:0\n"
	    "#Enddata: 1\n"
	    /* index 1 reused by another flow (FirstTime 40000, inside) */
	    IV(T05, "29990", "60000")
	    "2 1 40000 0 2 170.247.170.2 4 4 4 0 5:0\n"
	    "#Enddata: 1\n"
	    /* uptime went back: the meter restarted; same index and
	     * FirstTime as before, still a new flow */
	    IV(T10, "0", "30000")
	    "2 1 40000 0 2 170.247.170.2 3 3 3 0 5:0\n"
	    "#Enddata: 1\n");
	assert_int_equal(g.errors, 0);
	assert_int_equal(g.n, 3);
	assert_true(g.r[1].first);
	assert_string_equal(g.r[1].flow, "0/2/170.247.170.2");
	assert_int_equal(g.r[1].c[DAN_REQUESTS], 4);   /* not 4 - 10 */
	assert_true(g.r[2].first);
	assert_int_equal(g.r[2].c[DAN_REQUESTS], 3);   /* not 3 - 4 */
	assert_int_equal(g.r[2].have, 0xf);
	done(&g);
}

static void test_counter_back_and_baseline(void **state)
{
	(void)state;
	struct got g = { 0 };
	run(&g, HDR
	    /* FirstTime 500 before T1 = 1000: already running, a baseline */
	    IV(T00, "1000", "31000")
	    "2 7 500 1 3 192.26.92.30 100 90 80 5 5:1:7\n"
	    "#Enddata: 1\n"
	    IV(T05, "30990", "61000")
	    "2 7 500 1 3 192.26.92.30 130 110 99 6 5:0\n"
	    "#Enddata: 1\n"
	    /* a counter went back: the flow restarted, values themselves */
	    IV(T10, "60990", "91000")
	    "2 7 500 1 3 192.26.92.30 5 5 5 0 5:0\n"
	    "#Enddata: 1\n");
	assert_int_equal(g.n, 3);
	assert_true(g.r[0].first);
	assert_int_equal(g.r[0].have, 0);          /* counters unknown */
	assert_false(g.r[0].has_load);
	assert_true(g.r[0].has_pct);               /* distributions are per interval */
	assert_true(g.r[0].median == 7.0);
	assert_int_equal(g.r[1].have, 0xf);
	assert_int_equal(g.r[1].c[DAN_REQUESTS], 30);
	assert_int_equal(g.r[1].c[DAN_ANSWERED], 19);
	assert_false(g.r[1].has_pct);              /* 5:0, no samples */
	assert_true(g.r[2].first);
	assert_int_equal(g.r[2].c[DAN_REQUESTS], 5);
	done(&g);
}

/* A NeTraMet 5.1b5 file: type-6 limits unusable, counts kept; a token
 * whose lower limit exceeds the corrupted 7000 is read all the same. */
static void test_netramet_51b5(void **state)
{
	(void)state;
	struct got g = { 0 };
	run(&g, "##NeTraMet v5.1b5 -i 300 m1 starting at 00:00:03 Tue 2 Mar 04\n"
	    "#Format: flowruleset flowindex firsttime flowclass flowkind "
	    "destpeeraddress topdus frompdus toturnaroundtime\n"
	    "#Time: 00:00:03 Tue 2 Mar 04 m1 Flows from 100 to 30100\n"
	    "2 1 150 0 1 198.41.0.4 3 3 5:3:20110,20400,19870\n"
	    "2 2 160 0 11 193.0.14.129 150 150 6:150:1500:7000:10,20,50,40,30\n"
	    "2 3 170 1 1 192.5.6.30 130 130 6:130:20000:7000:30,50,50\n");
	assert_int_equal(g.errors, 0);
	assert_int_equal(g.n, 3);
	assert_true(g.r[0].has_pct);
	assert_true(g.r[0].median == 20110.0);
	assert_true(g.r[0].limits_valid);
	/* pdus stand in for requests/responses */
	assert_int_equal(g.r[1].have, (1u << DAN_REQUESTS) | (1u << DAN_RESPONSES));
	assert_int_equal(g.r[1].c[DAN_REQUESTS], 150);
	assert_int_equal(g.r[1].dist_type, 6);
	assert_false(g.r[1].limits_valid);
	assert_false(g.r[1].has_pct);
	assert_int_equal(g.r[1].dist_n, 150);
	assert_int_equal(g.r[1].count0, 10);
	assert_int_equal(g.r[2].dist_type, 6);
	assert_false(g.r[2].limits_valid);
	assert_int_equal(g.r[2].dist_n, 130);
	assert_int_equal(g.r[2].lower, 20000);
	assert_int_equal(g.r[2].upper, 7000);     /* as written */
	assert_int_equal(g.r[2].count0, 30);
	assert_int_equal(dan_bad_limit_dists(g.an), 2);
	done(&g);
}

/* The same tokens from NeTraMet 4.4: limits are fine, medians reported. */
static void test_netramet_44_type6(void **state)
{
	(void)state;
	struct got g = { 0 };
	run(&g, "##NeTraMet v4.4 -i 300 m1 starting at 00:00:03 Tue 2 Mar 04\n"
	    "#Format: flowruleset flowindex destpeeraddress toturnaroundtime\n"
	    "#Time: 00:00:03 Tue 2 Mar 04 m1 Flows from 100 to 30100\n"
	    "2 2 193.0.14.129 6:150:1500:7000:10,20,50,40,30\n");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.r[0].flow, "2:2");   /* no class/kind */
	assert_true(g.r[0].limits_valid);
	assert_true(g.r[0].has_pct);
	/* t = 75 in bin 3 (count 50, 30 before): e_2 + 45/50 (e_3 - e_2) */
	double e2 = dif_dist_edge(1500, 7000, 5, 2), e3 = dif_dist_edge(1500, 7000, 5, 3);
	assert_true(fabs(g.r[0].median - (e2 + 0.9 * (e3 - e2))) < 1e-6);
	assert_int_equal(dan_bad_limit_dists(g.an), 0);
	done(&g);
}

static void test_summary_exact(void **state)
{
	(void)state;
	struct got g = { .sum = dan_summary_new() };
	run(&g, HDR
	    IV(T00, "0", "30000")
	    "2 1 100 0 1 198.41.0.4 10 9 8 2 5:3:3,1,2\n"
	    "2 2 100 0 2 170.247.170.2 1 1 1 0 5:1:99\n"
	    "#Enddata: 2\n"
	    IV(T05, "29990", "60000")
	    "2 1 100 0 1 198.41.0.4 20 18 16 4 5:2:20,10\n"
	    "#Enddata: 1\n");
	assert_int_equal(dan_summary_count(g.sum), 2);
	struct dan_summary_row s;
	dan_summary_get(g.sum, 0, &s);
	assert_string_equal(s.flow, "0/1/198.41.0.4");
	assert_int_equal(s.intervals, 2);
	assert_int_equal(s.counter[DAN_REQUESTS], 20);   /* 10 + (20 - 10) */
	assert_int_equal(s.counter[DAN_ANSWERED], 16);
	assert_int_equal(s.counter[DAN_LOST], 4);
	assert_true(s.has_lost_pct);
	assert_true(fabs(s.lost_pct - 20.0) < 1e-12);     /* 4 / (16 + 4) */
	assert_int_equal(s.samples, 5);
	assert_true(s.exact);
	/* pooled 1 2 3 10 20: median 3, p10 at h 0.4: 1.4, p90 at h 3.6: 16 */
	assert_true(s.median == 3.0);
	assert_true(fabs(s.p10 - 1.4) < 1e-12);
	assert_true(fabs(s.p90 - 16.0) < 1e-12);
	dan_summary_get(g.sum, 1, &s);
	assert_string_equal(s.server, "170.247.170.2");
	assert_true(s.median == 99.0);
	done(&g);
}

static void test_summary_histogram(void **state)
{
	(void)state;
	struct got g = { .sum = dan_summary_new() };
	/* one type-6 bin [1000, 2001) with 100 samples and a type-5 interval:
	 * pooled by spreading the bin uniformly over the histogram */
	run(&g, HDR
	    IV(T00, "0", "30000")
	    "2 1 100 0 1 198.41.0.4 10 9 8 2 6:100:1000:2000:100\n"
	    "#Enddata: 1\n"
	    IV(T05, "29990", "60000")
	    "2 1 100 0 1 198.41.0.4 10 9 8 2 5:0\n"
	    "#Enddata: 1\n");
	struct dan_summary_row s;
	dan_summary_get(g.sum, 0, &s);
	assert_int_equal(s.samples, 100);
	assert_false(s.exact);
	assert_true(s.has_pct);
	/* uniform over [1000, 2001): median 1500.5, p10 1100.1, p90 1900.9,
	 * to within the histogram's bin (1.6 %) */
	assert_true(fabs(s.median - 1500.5) < 1500 * 0.016);
	assert_true(fabs(s.p10 - 1100.1) < 1100 * 0.016);
	assert_true(fabs(s.p90 - 1900.9) < 1900 * 0.016);
	assert_true(s.p10 < s.median && s.median < s.p90);
	done(&g);
}

/* Beyond DAN_EXACT_MAX values the exact pool spills into the histogram. */
static void test_summary_spill(void **state)
{
	(void)state;
	struct dan_summary *sum = dan_summary_new();
	assert_non_null(sum);
	uint32_t vals[100];
	for (unsigned i = 0; i < 100; i++)
		vals[i] = 10000 + 100 * i;         /* 10000 .. 19900 */
	struct dif_dist d = { .type = DIF_DIST_EXACT, .n = 100, .n_values = 100,
			      .values = vals };
	struct dan_row row = { .flow = "f", .server = "s", .dist = &d,
			       .limits_valid = true };
	for (unsigned k = 0; k < DAN_EXACT_MAX / 100 + 1; k++)
		assert_int_equal(dan_summary_add(sum, &row), 0);
	struct dan_summary_row s;
	dan_summary_get(sum, 0, &s);
	assert_int_equal(s.samples, 100 * (DAN_EXACT_MAX / 100 + 1));
	assert_false(s.exact);
	/* the exact median is 14950; the histogram's within a bin of it */
	assert_true(fabs(s.median - 14950) < 14950 * 0.016);
	dan_summary_free(sum);
}

/* RFC 2724 static buckets pool by their bounds; bounds past 32-bit µs
 * (scale 10^9) are clamped, not converted out of range. */
static void test_summary_static(void **state)
{
	(void)state;
	struct dan_summary *sum = dan_summary_new();
	assert_non_null(sum);
	/* linear 25, 50, 75, 100 (+ overflow): 10 values in (25, 50] */
	uint64_t c1[5] = { 0, 10, 0, 0, 0 };
	struct dif_dist d1 = { .type = DIF_DIST_LINEAR, .n = 10, .lower = 25,
			       .upper = 100, .n_counts = 5, .counts = c1 };
	assert_true(dif_dist_valid(&d1));
	struct dan_row row = { .flow = "a", .server = "", .dist = &d1,
			       .limits_valid = true };
	assert_int_equal(dan_summary_add(sum, &row), 0);
	/* scale 9: bounds 1e9 .. 4e9; 5 values in (3e9, 4e9] */
	uint64_t c2[5] = { 0, 0, 0, 5, 0 };
	struct dif_dist d2 = { .type = DIF_DIST_LINEAR, .scale = 9, .n = 5,
			       .lower = 1, .upper = 4, .n_counts = 5, .counts = c2 };
	assert_true(dif_dist_valid(&d2));
	row.flow = "b";
	row.dist = &d2;
	assert_int_equal(dan_summary_add(sum, &row), 0);
	struct dan_summary_row s;
	dan_summary_get(sum, 0, &s);
	assert_true(s.has_pct);
	assert_true(fabs(s.median - 37.5) < 1.0);
	dan_summary_get(sum, 1, &s);
	assert_true(s.has_pct);
	assert_true(s.median > 3e9 * 0.98 && s.median <= 4294967296.0);
	dan_summary_free(sum);
}

static void test_dist_percentile_none(void **state)
{
	(void)state;
	double v;
	struct dif_dist empty = { .type = DIF_DIST_EXACT };
	assert_false(dan_dist_percentile(NULL, true, 0.5, &v));
	assert_false(dan_dist_percentile(&empty, true, 0.5, &v));
	uint64_t c[2] = { 1, 1 };
	struct dif_dist bin = { .type = DIF_DIST_BINNED, .n = 2, .lower = 10,
				.upper = 20, .n_counts = 2, .counts = c };
	assert_true(dan_dist_percentile(&bin, true, 0.5, &v));
	assert_false(dan_dist_percentile(&bin, false, 0.5, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differences),
		cmocka_unit_test(test_index_reuse_and_restart),
		cmocka_unit_test(test_counter_back_and_baseline),
		cmocka_unit_test(test_netramet_51b5),
		cmocka_unit_test(test_netramet_44_type6),
		cmocka_unit_test(test_summary_exact),
		cmocka_unit_test(test_summary_histogram),
		cmocka_unit_test(test_summary_spill),
		cmocka_unit_test(test_summary_static),
		cmocka_unit_test(test_dist_percentile_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
