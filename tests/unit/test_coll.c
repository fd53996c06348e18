/* test_coll — the collector: cumulative readings in, interval records out
 * (byte values copied, turnaround and RFC 2724 distributions differenced
 * against the previous reading of the same flow, reused indexes reset). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "coll.h"

/* FlowRuleSet FlowIndex "|" ToPDUs ToTurnaroundTime */
static const struct format_item items[] = {
	{ ATTR_FLOW_RULESET, NULL }, { ATTR_FLOW_INDEX, NULL },
	{ 0, "|" }, { ATTR_TO_PDUS, NULL }, { ATTR_TO_TURNAROUND_TIME, NULL },
};
static const struct dif_format fmt = { 5, items };

static struct coll *make(void)
{
	struct coll *c = coll_create(&fmt);
	assert_non_null(c);
	assert_int_equal(coll_n_attrs(c), 4);
	assert_int_equal(coll_attr(c, 0), ATTR_FLOW_RULESET);
	assert_int_equal(coll_attr(c, 3), ATTR_TO_TURNAROUND_TIME);
	assert_int_equal(coll_attr(c, 4), 0);
	return c;
}

static void reading(struct coll_value v[4], uint32_t set, uint32_t index,
		    uint64_t pdus, const struct dist *d)
{
	coll_value_uint(&v[0], ATTR_FLOW_RULESET, set, 4);
	coll_value_uint(&v[1], ATTR_FLOW_INDEX, index, 4);
	coll_value_uint(&v[2], ATTR_TO_PDUS, pdus, 8);
	memset(&v[3], 0, sizeof v[3]);
	v[3].attr = ATTR_TO_TURNAROUND_TIME;
	v[3].kind = d ? COLL_DIST : COLL_NONE;
	v[3].dist = d;
}

static void uint_value(void **state)
{
	(void)state;
	struct coll_value v;
	coll_value_uint(&v, ATTR_TO_OCTETS, 0x0102030405060708ull, 8);
	static const uint8_t want[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(v.kind, COLL_BYTES);
	assert_int_equal(v.width, 8);
	assert_memory_equal(v.bytes, want, 8);
	coll_value_uint(&v, ATTR_FLOW_CLASS, 0x1ff, 1);   /* truncated to width */
	assert_int_equal(v.bytes[0], 0xff);
}

static void bytes_and_none(void **state)
{
	(void)state;
	struct coll *c = make();
	struct coll_value v[4];
	coll_begin(c);
	reading(v, 2, 7, 300, NULL);
	assert_int_equal(coll_add(c, 2, 7, 1000, v), 0);
	size_t n;
	const struct dif_record *r = coll_records(c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].n, 4);
	assert_int_equal(r[0].v[0].kind, DIF_V_BYTES);
	assert_int_equal(r[0].v[0].width, 4);
	assert_int_equal(r[0].v[0].bytes[3], 2);
	assert_int_equal(r[0].v[1].bytes[3], 7);
	assert_int_equal(r[0].v[2].attr, ATTR_TO_PDUS);
	assert_int_equal(r[0].v[2].bytes[6], 300 >> 8);
	assert_int_equal(r[0].v[2].bytes[7], 300 & 0xff);
	assert_int_equal(r[0].v[3].kind, DIF_V_NONE);
	coll_begin(c);
	assert_non_null(coll_records(c, &n));
	assert_int_equal(n, 0);
	coll_free(c);
}

/* Interval distributions: each reading carries only its own samples; a
 * reused index (another FirstTime) starts again from nothing. */
static void dist_intervals(void **state)
{
	(void)state;
	struct coll *c = make();
	struct dist *d = malloc(sizeof *d);
	assert_non_null(d);
	dist_init(d);
	struct coll_value v[4];
	size_t n;

	for (unsigned i = 1; i <= 3; i++)
		dist_add(d, 1000 * i, i);
	coll_begin(c);
	reading(v, 2, 1, 3, d);
	assert_int_equal(coll_add(c, 2, 1, 55, v), 0);
	const struct dif_record *r = coll_records(c, &n);
	assert_int_equal(r[0].v[3].kind, DIF_V_DIST);
	const struct dif_dist *x = r[0].v[3].dist;
	assert_int_equal(x->type, DIF_DIST_EXACT);
	assert_int_equal(x->n, 3);
	assert_int_equal(x->values[0], 1000);
	assert_int_equal(x->values[2], 3000);

	dist_add(d, 7000, 10);
	coll_begin(c);
	assert_int_equal(coll_add(c, 2, 1, 55, v), 0);
	r = coll_records(c, &n);
	x = r[0].v[3].dist;
	assert_int_equal(x->n, 1);
	assert_int_equal(x->values[0], 7000);

	/* 200 more: binned (type 6) with the interval's own limits */
	for (unsigned i = 0; i < 200; i++)
		dist_add(d, 2000 + i, 20 + i);
	coll_begin(c);
	assert_int_equal(coll_add(c, 2, 1, 55, v), 0);
	r = coll_records(c, &n);
	x = r[0].v[3].dist;
	assert_int_equal(x->type, DIF_DIST_BINNED);
	assert_int_equal(x->n, 200);
	assert_int_equal(x->n_counts, DIF_DIST_DEFAULT_BINS);
	assert_true(x->lower <= 2000 && x->lower >= 1970);
	assert_true(x->upper >= 2199 && x->upper <= 2235);

	/* a new flow in record 1 (FirstTime 56): everything since its start */
	struct dist *d2 = malloc(sizeof *d2);
	assert_non_null(d2);
	dist_init(d2);
	dist_add(d2, 42, 1);
	coll_begin(c);
	reading(v, 2, 1, 1, d2);
	assert_int_equal(coll_add(c, 2, 1, 56, v), 0);
	r = coll_records(c, &n);
	assert_int_equal(r[0].v[3].dist->n, 1);
	assert_int_equal(r[0].v[3].dist->values[0], 42);

	/* a reading older than the last one is refused */
	struct dist *old = malloc(sizeof *old);
	assert_non_null(old);
	dist_init(old);
	reading(v, 2, 1, 1, old);
	errno = 0;
	assert_int_equal(coll_add(c, 2, 1, 56, v), -1);
	assert_int_equal(errno, EINVAL);

	/* forgetting the flow makes the same reading count from the start */
	coll_forget(c, 2, 1);
	coll_begin(c);
	reading(v, 2, 1, 1, d2);
	assert_int_equal(coll_add(c, 2, 1, 56, v), 0);
	r = coll_records(c, &n);
	assert_int_equal(r[0].v[3].dist->n, 1);
	coll_forget_set(c, 2);
	coll_begin(c);
	assert_int_equal(coll_add(c, 2, 1, 56, v), 0);
	r = coll_records(c, &n);
	assert_int_equal(r[0].v[3].dist->n, 1);
	free(old);
	free(d2);
	free(d);
	coll_free(c);
}

/* The type-6 bin count is per ruleset. */
static void nbins_per_set(void **state)
{
	(void)state;
	struct coll *c = make();
	assert_int_equal(coll_set_nbins(c, 3, 20), 0);
	assert_int_equal(coll_set_nbins(c, 4, DIST_MAX_NBINS + 1), -1);
	struct dist *d = malloc(sizeof *d);
	assert_non_null(d);
	dist_init(d);
	for (unsigned i = 0; i < 500; i++)
		dist_add(d, 100 + i * 10, i);
	struct coll_value v[4];
	coll_begin(c);
	reading(v, 3, 9, 500, d);
	assert_int_equal(coll_add(c, 3, 9, 1, v), 0);
	reading(v, 2, 9, 500, d);
	assert_int_equal(coll_add(c, 2, 9, 1, v), 0);
	size_t n;
	const struct dif_record *r = coll_records(c, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].v[3].dist->n_counts, 20);
	assert_int_equal(r[1].v[3].dist->n_counts, DIF_DIST_DEFAULT_BINS);
	free(d);
	coll_free(c);
}

/* RFC 2724 distributions difference per bucket. */
static void static_intervals(void **state)
{
	(void)state;
	static const struct format_item sitems[] = {
		{ ATTR_FLOW_INDEX, NULL }, { ATTR_FROM_PACKET_SIZE, NULL },
	};
	static const struct dif_format sfmt = { 2, sitems };
	struct coll *c = coll_create(&sfmt);
	assert_non_null(c);
	/* linear, 60 buckets of 25 bytes up to 1500 (RFC 2724 example) */
	static const uint8_t mask[6] = { 1, 0, 0, 25, 0x05, 0xdc };
	static const uint8_t value[6] = { 60, 0, 0, 0, 0, 0 };
	struct dist_static_spec spec;
	assert_int_equal(dist_static_spec_init(&spec, mask, value, NULL), 0);
	struct dist_static sd;
	dist_static_init(&sd);
	dist_static_add(&spec, &sd, 20);
	dist_static_add(&spec, &sd, 1400);
	struct coll_value v[2];
	coll_value_uint(&v[0], ATTR_FLOW_INDEX, 4, 4);
	memset(&v[1], 0, sizeof v[1]);
	v[1].attr = ATTR_FROM_PACKET_SIZE;
	v[1].kind = COLL_STATIC;
	v[1].spec = &spec;
	v[1].sdist = &sd;
	coll_begin(c);
	assert_int_equal(coll_add(c, 2, 4, 1, v), 0);
	size_t n;
	const struct dif_record *r = coll_records(c, &n);
	const struct dif_dist *x = r[0].v[1].dist;
	assert_int_equal(x->type, DIF_DIST_LINEAR);
	assert_int_equal(x->n, 2);
	assert_int_equal(x->n_counts, 61);
	assert_int_equal(x->counts[0], 1);
	assert_int_equal(x->counts[55], 1);
	dist_static_add(&spec, &sd, 20);
	coll_begin(c);
	assert_int_equal(coll_add(c, 2, 4, 1, v), 0);
	r = coll_records(c, &n);
	x = r[0].v[1].dist;
	assert_int_equal(x->n, 1);
	assert_int_equal(x->counts[0], 1);
	assert_int_equal(x->counts[55], 0);
	/* a static value on a non-distribution attribute is refused */
	v[1].attr = ATTR_TO_PDUS;
	assert_int_equal(coll_add(c, 2, 4, 1, v), -1);
	coll_free(c);
}

/* Records stay valid while many are added (storage grows). */
static void many_records(void **state)
{
	(void)state;
	struct coll *c = make();
	struct coll_value v[4];
	coll_begin(c);
	for (uint32_t i = 1; i <= 1000; i++) {
		reading(v, 5, i, i * 3, NULL);
		assert_int_equal(coll_add(c, 5, i, i, v), 0);
	}
	size_t n;
	const struct dif_record *r = coll_records(c, &n);
	assert_int_equal(n, 1000);
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(r[i].v[1].bytes[2], ((i + 1) >> 8) & 0xff);
		assert_int_equal(r[i].v[1].bytes[3], (i + 1) & 0xff);
	}
	coll_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uint_value),
		cmocka_unit_test(bytes_and_none),
		cmocka_unit_test(dist_intervals),
		cmocka_unit_test(nbins_per_set),
		cmocka_unit_test(static_intervals),
		cmocka_unit_test(many_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
