/* test_dif — the .dif writer: literal lines, distribution tokens, and a
 * write-then-parse round trip over every attribute type. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "attr.h"
#include "dif.h"
#include "difparse.h"

static void set_uint(struct dif_value *v, unsigned attr, uint64_t x)
{
	memset(v, 0, sizeof *v);
	v->attr = (uint16_t)attr;
	v->kind = DIF_V_BYTES;
	v->width = attr_by_num(attr)->width;
	for (unsigned i = 0; i < v->width; i++)
		v->bytes[i] = (uint8_t)(x >> (8 * (v->width - 1 - i)));
}

static void set_bytes(struct dif_value *v, unsigned attr, const void *b,
		      unsigned w)
{
	memset(v, 0, sizeof *v);
	v->attr = (uint16_t)attr;
	v->kind = DIF_V_BYTES;
	v->width = (uint8_t)w;
	memcpy(v->bytes, b, w);
}

static void set_dist(struct dif_value *v, unsigned attr,
		     const struct dif_dist *d)
{
	memset(v, 0, sizeof *v);
	v->attr = (uint16_t)attr;
	v->kind = DIF_V_DIST;
	v->dist = d;
}

static void iso_times(void **state)
{
	(void)state;
	char b[DIF_ISO_LEN];
	dif_iso8601(1795392000, b);
	assert_string_equal(b, "2026-11-23T00:00:00Z");
	dif_iso8601(0, b);
	assert_string_equal(b, "1970-01-01T00:00:00Z");
	int64_t t;
	assert_int_equal(dif_parse_iso8601("2026-11-23T00:05:00Z", 20, &t), 0);
	assert_int_equal(t, 1795392300);
	assert_int_equal(dif_parse_iso8601("2026-11-23 00:05:00Z", 20, &t), -1);
	assert_int_equal(dif_parse_iso8601("2026-13-23T00:05:00Z", 20, &t), -1);
	assert_int_equal(dif_parse_iso8601("2026-11-23T00:05:00", 19, &t), -1);
}

static void dist_tokens(void **state)
{
	(void)state;
	char b[256];
	static const uint32_t v[] = { 20110, 20400, 19870 };
	struct dif_dist d5 = { .type = 5, .n = 3, .n_values = 3, .values = v };
	assert_int_equal(dif_dist_format(&d5, b, sizeof b), 21);
	assert_string_equal(b, "5:3:20110,20400,19870");
	struct dif_dist e5 = { .type = 5 };
	assert_int_equal(dif_dist_format(&e5, b, sizeof b), 3);
	assert_string_equal(b, "5:0");
	static const uint64_t c[] = { 2, 0, 3 };
	struct dif_dist d6 = { .type = 6, .n = 5, .lower = 11264, .upper = 250879,
			       .n_counts = 3, .counts = c };
	assert_true(dif_dist_format(&d6, b, sizeof b) > 0);
	assert_string_equal(b, "6:5:11264:250879:2,0,3");
	struct dif_dist d1 = { .type = 1, .scale = 0, .n = 5, .lower = 25,
			       .upper = 50, .n_counts = 3, .counts = c };
	assert_true(dif_dist_format(&d1, b, sizeof b) > 0);
	assert_string_equal(b, "1:5:0:25:50:2,0,3");
	/* inconsistent: counts do not sum to n */
	d6.n = 6;
	errno = 0;
	assert_int_equal(dif_dist_format(&d6, b, sizeof b), -1);
	assert_int_equal(errno, EINVAL);
	/* lower above upper */
	d6.n = 5;
	d6.lower = 300000;
	assert_int_equal(dif_dist_format(&d6, b, sizeof b), -1);
	/* too small a buffer */
	assert_int_equal(dif_dist_format(&d5, b, 10), -1);
	assert_int_equal(errno, ENOSPC);
	/* type 5 count disagreeing with the values */
	d5.n = 4;
	assert_int_equal(dif_dist_format(&d5, b, sizeof b), -1);
}

/* ---- the round trip ---- */

static const struct format_item fmt_items[] = {
	{ ATTR_FLOW_RULESET, NULL },
	{ ATTR_FLOW_INDEX, NULL },
	{ ATTR_SOURCE_INTERFACE, NULL },
	{ 0, "  " },
	{ ATTR_SOURCE_ADJACENT_ADDRESS, NULL },
	{ ATTR_SOURCE_ADJACENT_MASK, NULL },
	{ ATTR_SOURCE_PEER_TYPE, NULL },
	{ ATTR_SOURCE_PEER_ADDRESS, NULL },
	{ ATTR_SOURCE_PEER_MASK, NULL },
	{ 0, " | " },
	{ ATTR_SOURCE_TRANS_TYPE, NULL },
	{ ATTR_SOURCE_TRANS_ADDRESS, NULL },
	{ ATTR_SOURCE_TRANS_MASK, NULL },
	{ ATTR_DEST_PEER_TYPE, NULL },
	{ ATTR_DEST_PEER_ADDRESS, NULL },
	{ 0, "\t" },
	{ ATTR_TO_OCTETS, NULL },
	{ ATTR_FROM_PDUS, NULL },
	{ ATTR_FIRST_TIME, NULL },
	{ ATTR_LAST_ACTIVE_TIME, NULL },
	{ ATTR_SOURCE_SUBSCRIBER_ID, NULL },
	{ ATTR_V1, NULL },
	{ ATTR_FLOW_KIND, NULL },
	{ ATTR_FROM_TURNAROUND_TIME, NULL },
	{ ATTR_TO_TURNAROUND_TIME, NULL },
	{ ATTR_TO_PACKET_SIZE, NULL },
	{ ATTR_FROM_PACKET_SIZE, NULL },
	{ ATTR_FIRST_TIME_NS, NULL },
	{ 0, ";" },   /* trailing: only in #Format */
};
#define N_ATTRS 25

static const struct dif_format fmt = {
	sizeof fmt_items / sizeof fmt_items[0], fmt_items
};

static const uint32_t rtt5[] = { 20110, 20400, 19870, 0, 4294967295u };
static const uint64_t rtt6[] = { 100, 0, 0, 21, 1, 7 };
static const uint64_t lin[] = { 1, 2, 0, 4 };
static const uint64_t logc[] = { 0, 9, 1 };
static const struct dif_dist dists[] = {
	{ .type = 5, .n = 5, .n_values = 5, .values = rtt5 },
	{ .type = 6, .n = 129, .lower = 11264, .upper = 250879, .n_counts = 6,
	  .counts = rtt6 },
	{ .type = 1, .n = 7, .scale = 0, .lower = 25, .upper = 75, .n_counts = 4,
	  .counts = lin },
	{ .type = 2, .n = 10, .scale = 3, .lower = 1, .upper = 1800,
	  .n_counts = 3, .counts = logc },
	{ .type = 5, .n = 0 },
};

/* Two different records (k = 0, 1) exercising every attribute type. */
static void make_record(struct dif_value v[N_ATTRS], unsigned k)
{
	static const uint8_t mac[6] = { 0x00, 0x60, 0x3e, 0x10, 0xe0, 0xa1 };
	static const uint8_t macmask[6] = { 0xff, 0xff, 0xff, 0, 0, 0 };
	static const uint8_t v4[4] = { 198, 41, 0, 4 };
	static const uint8_t v4mask[4] = { 255, 255, 255, 0 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x05, 0x03, 0xba, 0x3e, 0, 0,
					0, 0, 0, 0, 0, 2, 0, 0x30 };
	static const uint8_t v6mask[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff };
	static const char sub0[] = "alice b%-";
	size_t i = 0;
	set_uint(&v[i++], ATTR_FLOW_RULESET, 2 + k);
	set_uint(&v[i++], ATTR_FLOW_INDEX, 4000000000u - k);
	set_uint(&v[i++], ATTR_SOURCE_INTERFACE, 65535);
	set_bytes(&v[i++], ATTR_SOURCE_ADJACENT_ADDRESS, mac, 6);
	set_bytes(&v[i++], ATTR_SOURCE_ADJACENT_MASK, macmask, 6);
	set_uint(&v[i++], ATTR_SOURCE_PEER_TYPE, k ? 2 : 1);
	if (k) {
		set_bytes(&v[i++], ATTR_SOURCE_PEER_ADDRESS, v6, 16);
		set_bytes(&v[i++], ATTR_SOURCE_PEER_MASK, v6mask, 16);
	} else {
		set_bytes(&v[i++], ATTR_SOURCE_PEER_ADDRESS, v4, 4);
		set_bytes(&v[i++], ATTR_SOURCE_PEER_MASK, v4mask, 4);
	}
	set_uint(&v[i++], ATTR_SOURCE_TRANS_TYPE, 17);
	set_uint(&v[i++], ATTR_SOURCE_TRANS_ADDRESS, 53);
	set_uint(&v[i++], ATTR_SOURCE_TRANS_MASK, 0xffff);
	set_uint(&v[i++], ATTR_DEST_PEER_TYPE, 2);
	set_bytes(&v[i++], ATTR_DEST_PEER_ADDRESS, v6, 16);
	set_uint(&v[i++], ATTR_TO_OCTETS, UINT64_MAX - k);
	set_uint(&v[i++], ATTR_FROM_PDUS, 0);
	set_uint(&v[i++], ATTR_FIRST_TIME, 31000);
	if (k) {
		memset(&v[i], 0, sizeof v[i]);   /* no value: "-" */
		v[i].attr = ATTR_LAST_ACTIVE_TIME;
		v[i++].kind = DIF_V_NONE;
		set_bytes(&v[i++], ATTR_SOURCE_SUBSCRIBER_ID, "-", 1);
	} else {
		set_uint(&v[i++], ATTR_LAST_ACTIVE_TIME, 61000);
		set_bytes(&v[i++], ATTR_SOURCE_SUBSCRIBER_ID, sub0, sizeof sub0 - 1);
	}
	set_uint(&v[i++], ATTR_V1, ATTR_SOURCE_PEER_ADDRESS);
	set_uint(&v[i++], ATTR_FLOW_KIND, 1 + k);
	set_dist(&v[i++], ATTR_FROM_TURNAROUND_TIME, &dists[k ? 1 : 0]);
	set_dist(&v[i++], ATTR_TO_TURNAROUND_TIME, &dists[k ? 0 : 4]);
	set_dist(&v[i++], ATTR_TO_PACKET_SIZE, &dists[2]);
	set_dist(&v[i++], ATTR_FROM_PACKET_SIZE, &dists[3]);
	set_uint(&v[i++], ATTR_FIRST_TIME_NS, 1795392000123456789ull + k);
	assert_int_equal(i, N_ATTRS);
}

static void same_dist(const struct dif_dist *a, const struct dif_dist *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->scale, b->scale);
	assert_int_equal(a->lower, b->lower);
	assert_int_equal(a->upper, b->upper);
	assert_int_equal(a->n_values, b->n_values);
	assert_int_equal(a->n_counts, b->n_counts);
	if (a->n_values)
		assert_memory_equal(a->values, b->values, a->n_values * 4);
	if (a->n_counts)
		assert_memory_equal(a->counts, b->counts, a->n_counts * 8);
}

static void same_value(const struct dif_value *want, const struct dif_value *got)
{
	assert_int_equal(want->attr, got->attr);
	assert_int_equal(want->kind, got->kind);
	if (want->kind == DIF_V_BYTES) {
		assert_int_equal(want->width, got->width);
		assert_memory_equal(want->bytes, got->bytes, want->width);
	} else if (want->kind == DIF_V_DIST) {
		same_dist(want->dist, got->dist);
	}
}

struct collected {
	unsigned intervals, headers, errors;
	char last_error[512];
	struct difp_interval iv[4];
	struct dif_value vals[4][2][N_ATTRS];
	struct dif_dist dist[4][2][N_ATTRS];
	uint32_t dvals[4][2][N_ATTRS][8];
	uint64_t dcnts[4][2][N_ATTRS][8];
	char program[16], version[16], meter[64];
};

static int on_header(void *ctx, const struct difp_header *h)
{
	struct collected *c = ctx;
	c->headers++;
	snprintf(c->program, sizeof c->program, "%s", h->program);
	snprintf(c->version, sizeof c->version, "%s", h->version);
	snprintf(c->meter, sizeof c->meter, "%s", h->meter);
	return 0;
}

/* Keep deep copies (the parser's pointers die after the call). */
static int on_interval(void *ctx, const struct difp_interval *iv)
{
	struct collected *c = ctx;
	unsigned k = c->intervals++;
	if (k >= 4)
		return 0;
	c->iv[k] = *iv;
	for (size_t r = 0; r < iv->n_records && r < 2; r++) {
		for (size_t i = 0; i < iv->records[r].n && i < N_ATTRS; i++) {
			struct dif_value *v = &c->vals[k][r][i];
			*v = iv->records[r].v[i];
			v->text = NULL;
			if (v->kind == DIF_V_DIST) {
				struct dif_dist *d = &c->dist[k][r][i];
				*d = *v->dist;
				assert_true(d->n_values <= 8 && d->n_counts <= 8);
				if (d->n_values)
					memcpy(c->dvals[k][r][i], d->values, d->n_values * 4);
				if (d->n_counts)
					memcpy(c->dcnts[k][r][i], d->counts, d->n_counts * 8);
				d->values = c->dvals[k][r][i];
				d->counts = c->dcnts[k][r][i];
				v->dist = d;
			}
		}
	}
	return 0;
}

static void on_error(void *ctx, const char *msg)
{
	struct collected *c = ctx;
	c->errors++;
	snprintf(c->last_error, sizeof c->last_error, "%s", msg);
}

static const struct difp_ops ops = {
	.header = on_header, .interval = on_interval, .error = on_error
};

static const struct dif_header hdr = {
	.version = "0.1", .options = "--read day.pcap -r dns-root.srl",
	.meter = "file:day one.pcap", .start = 1795392000, .format = &fmt
};

static void round_trip(void **state)
{
	(void)state;
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	assert_non_null(m);
	struct dif_value v0[N_ATTRS], v1[N_ATTRS];
	make_record(v0, 0);
	make_record(v1, 1);
	struct dif_record recs[2] = { { N_ATTRS, v0 }, { N_ATTRS, v1 } };
	struct dif_interval iv = { 1795392000, 1795392300, 0, 30000, "file:day one.pcap" };
	assert_int_equal(dif_write_header(m, &hdr), 0);
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(dif_write_interval_start(m, &iv), 0);
		assert_int_equal(dif_write_record(m, &fmt, &recs[0]), 0);
		assert_int_equal(dif_write_record(m, &fmt, &recs[1]), 0);
		assert_int_equal(dif_write_interval_end(m, 2), 0);
		iv.start += 300;
		iv.end += 300;
		iv.from_uptime = 29999;
		iv.to_uptime = 60000;
	}
	fclose(m);

	/* the lines, literally */
	char *line2 = strchr(text, '\n') + 1;
	char *line3 = strchr(line2, '\n') + 1;
	char *line4 = strchr(line3, '\n') + 1;
	assert_memory_equal(text,
		"##ntm 0.1 --read day.pcap -r dns-root.srl file:day_one.pcap "
		"starting at 2026-11-23T00:00:00Z 1795392000\n", line2 - text);
	static const char want_fmt[] =
		"#Format: flowruleset flowindex sourceinterface \"  \" "
		"sourceadjacentaddress sourceadjacentmask sourcepeertype "
		"sourcepeeraddress sourcepeermask \" | \" sourcetranstype "
		"sourcetransaddress sourcetransmask destpeertype destpeeraddress "
		"\"\t\" tooctets frompdus firsttime lastactivetime "
		"sourcesubscriberid v1 flowkind fromturnaroundtime "
		"toturnaroundtime topacketsize frompacketsize firsttimens \";\"\n";
	assert_int_equal(line3 - line2, sizeof want_fmt - 1);
	assert_memory_equal(line2, want_fmt, sizeof want_fmt - 1);
	static const char want_time[] =
		"#Time: 2026-11-23T00:00:00Z 1795392000 2026-11-23T00:05:00Z "
		"1795392300 file:day_one.pcap Flows from 0 to 30000\n";
	assert_memory_equal(line3, want_time, sizeof want_time - 1);
	static const char want_rec[] =
		"2 4000000000 65535  00-60-3E-10-E0-A1 FF-FF-FF-00-00-00 1 "
		"198.41.0.4 255.255.255.0  |  17 53 65535 2 2001:503:ba3e::2:30\t"
		"18446744073709551615 0 31000 61000 alice%20b%25- 9 1 "
		"5:5:20110,20400,19870,0,4294967295 5:0 1:7:0:25:75:1,2,0,4 "
		"2:10:3:1:1800:0,9,1 1795392000123456789\n";
	assert_memory_equal(line4, want_rec, sizeof want_rec - 1);
	assert_non_null(strstr(text, "\n#Enddata: 2\n"));

	/* and back */
	struct collected *c = calloc(1, sizeof *c);
	assert_non_null(c);
	struct difp *p = difp_new("rt.dif", &ops, c);
	assert_non_null(p);
	assert_int_equal(difp_feed(p, text, size), 0);
	assert_int_equal(difp_finish(p), 0);
	assert_int_equal(difp_errors(p), 0);
	difp_free(p);
	assert_int_equal(c->errors, 0);
	assert_int_equal(c->headers, 1);
	assert_string_equal(c->program, "ntm");
	assert_string_equal(c->version, "0.1");
	assert_string_equal(c->meter, "file:day_one.pcap");
	assert_int_equal(c->intervals, 2);
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(c->iv[k].n_records, 2);
		assert_true(c->iv[k].has_epoch);
		assert_true(c->iv[k].has_uptime);
		assert_int_equal(c->iv[k].start, 1795392000 + 300 * k);
		assert_int_equal(c->iv[k].end, 1795392300 + 300 * k);
		assert_int_equal(c->iv[k].from_uptime, k ? 29999 : 0);
		assert_int_equal(c->iv[k].to_uptime, k ? 60000 : 30000);
		for (unsigned i = 0; i < N_ATTRS; i++) {
			same_value(&v0[i], &c->vals[k][0][i]);
			same_value(&v1[i], &c->vals[k][1][i]);
		}
	}
	free(c);
	free(text);
}

static void writer_refuses_bad_records(void **state)
{
	(void)state;
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	struct dif_value v0[N_ATTRS];
	make_record(v0, 0);
	struct dif_record r = { N_ATTRS - 1, v0 };   /* one value short */
	errno = 0;
	assert_int_equal(dif_write_record(m, &fmt, &r), -1);
	assert_int_equal(errno, EINVAL);
	r.n = N_ATTRS;
	v0[3].attr = ATTR_DEST_ADJACENT_ADDRESS;     /* not in format order */
	assert_int_equal(dif_write_record(m, &fmt, &r), -1);
	make_record(v0, 0);
	v0[1].width = 9;                             /* no 9-byte integers */
	assert_int_equal(dif_write_record(m, &fmt, &r), -1);
	make_record(v0, 0);
	set_uint(&v0[20], ATTR_FROM_TURNAROUND_TIME, 0);   /* a dist as bytes */
	assert_int_equal(v0[20].kind, DIF_V_BYTES);
	assert_int_equal(dif_write_record(m, &fmt, &r), -1);
	fclose(m);
	assert_int_equal(size, 0);   /* nothing half-written */
	free(text);
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);
	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : s)
		if (strncmp(s, prefix, pl) == 0)
			n++;
	return n;
}

static void append_atomic(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_dif.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/out.dif", dir);
	struct dif_value v0[N_ATTRS], v1[N_ATTRS];
	make_record(v0, 0);
	make_record(v1, 1);
	struct dif_record recs[2] = { { N_ATTRS, v0 }, { N_ATTRS, v1 } };
	struct dif_interval iv = { 1795392000, 1795392300, 0, 30000, "m" };
	assert_int_equal(dif_append_interval(path, &hdr, &iv, recs, 2), 0);
	iv.start += 300;
	iv.end += 300;
	assert_int_equal(dif_append_interval(path, &hdr, &iv, recs, 1), 0);
	/* a bad record: nothing at all is appended */
	v1[0].width = 9;
	assert_int_equal(dif_append_interval(path, &hdr, &iv, recs, 2), -1);

	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *text = calloc(1, 65536);
	size_t n = fread(text, 1, 65535, f);
	fclose(f);
	assert_true(n > 0);
	assert_int_equal(count_lines(text, "##ntm "), 1);
	assert_int_equal(count_lines(text, "#Format:"), 1);
	assert_int_equal(count_lines(text, "#Time:"), 2);
	assert_int_equal(count_lines(text, "#Enddata: 2"), 1);
	assert_int_equal(count_lines(text, "#Enddata: 1"), 1);
	free(text);

	struct collected *c = calloc(1, sizeof *c);
	assert_int_equal(difp_parse_file(path, &ops, c), 0);
	assert_int_equal(c->intervals, 2);
	assert_int_equal(c->iv[0].n_records, 2);
	assert_int_equal(c->iv[1].n_records, 1);
	free(c);

	/* only out.dif in the directory: no temporary left behind */
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			files++;
	closedir(d);
	assert_int_equal(files, 1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(iso_times),
		cmocka_unit_test(dist_tokens),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(writer_refuses_bad_records),
		cmocka_unit_test(append_atomic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
