/* test_difparse — the streaming .dif parser: NeMaC-era files, truncated
 * files, bad records, chunked input, distribution tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "attr.h"
#include "difparse.h"

struct seen {
	unsigned headers, formats, intervals, errors;
	char errs[8][256];
	char program[32], version[32], options[128], meter[64], start[64];
	bool bad_type6;
	size_t n_attrs;
	uint16_t col_attr[16];
	struct {
		unsigned line, bad;
		size_t n_records;
		bool has_uptime, has_epoch;
		uint32_t from, to;
		char meter[64], time_text[128];
		char first_fields[16][64];   /* text of record 0's fields */
		uint8_t addr[16], addr_w;    /* record 0, field 4 */
		uint64_t tooctets;           /* record 0, field 8 */
		uint8_t kinds[16];
	} iv[8];
};

static int on_header(void *ctx, const struct difp_header *h)
{
	struct seen *s = ctx;
	s->headers++;
	snprintf(s->program, sizeof s->program, "%s", h->program);
	snprintf(s->version, sizeof s->version, "%s", h->version);
	snprintf(s->options, sizeof s->options, "%s", h->options);
	snprintf(s->meter, sizeof s->meter, "%s", h->meter);
	snprintf(s->start, sizeof s->start, "%s", h->start_text);
	s->bad_type6 = difp_bad_type6_upper(h);
	return 0;
}

static int on_format(void *ctx, const struct difp_format *f)
{
	struct seen *s = ctx;
	s->formats++;
	s->n_attrs = f->n_attrs;
	size_t k = 0;
	for (size_t i = 0; i < f->n && k < 16; i++)
		if (!f->cols[i].is_sep)
			s->col_attr[k++] = f->cols[i].attr;
	return 0;
}

static int on_interval(void *ctx, const struct difp_interval *iv)
{
	struct seen *s = ctx;
	unsigned k = s->intervals++;
	if (k >= 8)
		return 0;
	s->iv[k].line = iv->line;
	s->iv[k].bad = iv->bad_records;
	s->iv[k].n_records = iv->n_records;
	s->iv[k].has_uptime = iv->has_uptime;
	s->iv[k].has_epoch = iv->has_epoch;
	s->iv[k].from = iv->from_uptime;
	s->iv[k].to = iv->to_uptime;
	snprintf(s->iv[k].meter, 64, "%s", iv->meter);
	snprintf(s->iv[k].time_text, 128, "%s", iv->time_text);
	if (iv->n_records == 0)
		return 0;
	const struct dif_record *r = &iv->records[0];
	for (size_t i = 0; i < r->n && i < 16; i++) {
		snprintf(s->iv[k].first_fields[i], 64, "%s", r->v[i].text);
		s->iv[k].kinds[i] = r->v[i].kind;
	}
	if (r->n > 8) {
		s->iv[k].addr_w = r->v[4].width;
		memcpy(s->iv[k].addr, r->v[4].bytes, 16);
		uint64_t x = 0;
		for (unsigned i = 0; i < r->v[8].width; i++)
			x = x << 8 | r->v[8].bytes[i];
		s->iv[k].tooctets = x;
	}
	return 0;
}

static void on_error(void *ctx, const char *msg)
{
	struct seen *s = ctx;
	if (s->errors < 8)
		snprintf(s->errs[s->errors], 256, "%s", msg);
	s->errors++;
}

static const struct difp_ops ops = {
	on_header, on_format, on_interval, on_error
};

/* Parse a string, fed in chunks of `chunk` bytes (0 = all at once). */
static struct seen *parse(const char *name, const char *text, size_t chunk)
{
	struct seen *s = calloc(1, sizeof *s);
	assert_non_null(s);
	struct difp *p = difp_new(name, &ops, s);
	assert_non_null(p);
	size_t len = strlen(text);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		assert_int_equal(difp_feed(p, text + off,
					   len - off < chunk ? len - off : chunk), 0);
	assert_int_equal(difp_finish(p), 0);
	assert_int_equal(difp_errors(p), s->errors);
	difp_free(p);
	return s;
}

static void netramet_era_file(void **state)
{
	(void)state;
	const char *root = getenv("NTM_ROOT");
	char path[512];
	snprintf(path, sizeof path, "%s/tests/data/dif/netramet-3.2.dif",
		 root ? root : ".");
	struct seen *s = calloc(1, sizeof *s);
	assert_int_equal(difp_parse_file(path, &ops, s), 0);
	assert_int_equal(s->errors, 0);
	assert_int_equal(s->headers, 1);
	assert_string_equal(s->program, "NeTraMet");
	assert_string_equal(s->version, "v3.2.");
	assert_string_equal(s->options, "-c300 -r rules.lan -e rules.default "
			    "test_meter -i eth0  4000 flows");
	assert_string_equal(s->start, "12:31:27 Wed 1 Feb 95");
	assert_false(s->bad_type6);
	assert_int_equal(s->formats, 1);
	assert_int_equal(s->n_attrs, 12);
	assert_int_equal(s->col_attr[0], ATTR_FLOW_RULESET);
	assert_int_equal(s->col_attr[4], ATTR_SOURCE_PEER_ADDRESS);
	assert_int_equal(s->col_attr[10], ATTR_SOURCE_ADJACENT_ADDRESS);
	assert_int_equal(s->col_attr[11], 0);   /* unknown name: kept as text */

	assert_int_equal(s->intervals, 2);   /* no #Enddata in old files */
	assert_int_equal(s->iv[0].n_records, 2);
	assert_int_equal(s->iv[0].line, 3);
	assert_true(s->iv[0].has_uptime);
	assert_false(s->iv[0].has_epoch);
	assert_int_equal(s->iv[0].from, 1000);
	assert_int_equal(s->iv[0].to, 31000);
	assert_string_equal(s->iv[0].meter, "test_meter");
	assert_string_equal(s->iv[0].time_text,
			    "12:31:27 Wed 1 Feb 95 test_meter Flows from 1000 to 31000");
	static const uint8_t a[4] = { 130, 216, 1, 1 };
	assert_int_equal(s->iv[0].addr_w, 4);
	assert_memory_equal(s->iv[0].addr, a, 4);
	assert_int_equal(s->iv[0].tooctets, 420);
	assert_string_equal(s->iv[0].first_fields[11], "x17");
	assert_int_equal(s->iv[0].kinds[11], DIF_V_TEXT);
	assert_int_equal(s->iv[0].kinds[10], DIF_V_BYTES);

	assert_int_equal(s->iv[1].n_records, 1);
	assert_int_equal(s->iv[1].from, 30999);
	assert_int_equal(s->iv[1].to, 61000);
	assert_int_equal(s->iv[1].tooctets, 720);
	free(s);
}

static const char ntm_head[] =
	"##ntm 0.1 -r x.srl --read a.pcap file:a.pcap starting at "
	"2026-11-23T00:00:00Z 1795392000\n"
	"#Format: flowkind \" | \" destpeeraddress topdus fromturnaroundtime\n";
/* #Time: records for minutes 0-5, 5-6 and 6-7 of 2026-11-23 */
#define E0 "2026-11-23T00:00:00Z 1795392000"
#define E5 "2026-11-23T00:05:00Z 1795392300"
#define E6 "2026-11-23T00:06:00Z 1795392360"
#define E7 "2026-11-23T00:07:00Z 1795392420"
#define T(a, b) "#Time: " E##a " " E##b " file:a.pcap Flows from 0 to 1\n"

/* A file cut short: the last interval has no #Enddata.  The complete ones
 * are delivered, the cut one is reported with its line, not delivered. */
static void truncated_file(void **state)
{
	(void)state;
	static const char text[] =
		"%s"
		T(0, 5)
		"1 | 198.41.0.4 3 5:2:100,200\n"
		"#Enddata: 1\n"
		T(5, 6)
		"2 | 2001:500:200::b 1 5:0\n"
		"#Enddata: 1\n"
		T(6, 7)                          /* line 9 */
		"3 | 192.5.5.241 7 5:1:9\n";
	char buf[2048];
	snprintf(buf, sizeof buf, text, ntm_head);
	struct seen *s = parse("cut.dif", buf, 0);
	assert_string_equal(s->program, "ntm");
	assert_string_equal(s->meter, "file:a.pcap");
	assert_string_equal(s->options, "-r x.srl --read a.pcap");
	assert_int_equal(s->intervals, 2);
	assert_int_equal(s->iv[0].line, 3);
	assert_int_equal(s->iv[1].line, 6);
	assert_true(s->iv[0].has_epoch);
	assert_int_equal(s->errors, 1);
	assert_non_null(strstr(s->errs[0], "cut.dif:9: "));
	assert_non_null(strstr(s->errs[0], "no #Enddata"));
	free(s);

	/* cut half-way through a line: same outcome */
	buf[strlen(buf) - 5] = '\0';
	s = parse("cut.dif", buf, 0);
	assert_int_equal(s->intervals, 2);
	assert_true(s->errors >= 1);
	free(s);
}

/* ntm-reader's #Restart: record (doc §3.1) between intervals, and right
 * after the header of a new file: ignored as information, every interval
 * delivered, no error. */
static void restart_record(void **state)
{
	(void)state;
	static const char text[] =
		"%s"
		"#Restart: 2026-11-23T00:00:00Z 1795392000 m1 the meter started again\n"
		T(0, 5)
		"1 | 198.41.0.4 3 5:2:100,200\n"
		"#Enddata: 1\n"
		"#Restart: 2026-11-23T00:05:00Z 1795392300 m1 uptime went back from 30000 to 12 cs\n"
		T(5, 6)
		"2 | 2001:500:200::b 1 5:0\n"
		"#Enddata: 1\n";
	char buf[2048];
	snprintf(buf, sizeof buf, text, ntm_head);
	for (size_t chunk = 0; chunk < 8; chunk += 7) {
		struct seen *s = parse("restart.dif", buf, chunk);
		assert_int_equal(s->errors, 0);
		assert_int_equal(s->headers, 1);
		assert_int_equal(s->intervals, 2);
		assert_int_equal(s->iv[0].line, 4);
		assert_int_equal(s->iv[0].n_records, 1);
		assert_int_equal(s->iv[1].line, 8);
		assert_int_equal(s->iv[1].n_records, 1);
		assert_string_equal(s->iv[1].first_fields[0], "2");
		free(s);
	}
}

/* A bad record is reported with its line and skipped; the interval is
 * still delivered, and so is every other. */
static void bad_records(void **state)
{
	(void)state;
	static const char text[] =
		"%s"
		T(0, 5)
		"1 | 198.41.0.4 3 5:2:100,200\n"
		"1 | 198.41.0.999 3 5:0\n"          /* line 5: bad address */
		"1 | 198.41.0.4 3 5:3:100,200\n"    /* line 6: n != values */
		"1 | 198.41.0.4 3\n"                /* line 7: short */
		"1 198.41.0.4 3 5:0\n"              /* line 8: no separator */
		"1 | 198.41.0.4 3 5:0 extra\n"      /* line 9: long */
		"1 | 198.41.0.4 3 6:3:20:10:3\n"    /* line 10: lower > upper */
		"#Enddata: 7\n"
		"1 | 198.41.0.4 3 5:0\n"            /* line 12: outside */
		"#Enddata: 0\n"                     /* line 13: no interval */
		T(5, 6)
		"2 | ::1 1 5:0\n"
		"#Enddata: 5\n";                    /* line 16: count wrong */
	char buf[2048];
	snprintf(buf, sizeof buf, text, ntm_head);
	struct seen *s = parse("bad.dif", buf, 0);
	assert_int_equal(s->intervals, 1);
	assert_int_equal(s->iv[0].n_records, 1);
	assert_int_equal(s->iv[0].bad, 6);
	assert_int_equal(s->errors, 9);
	static const char *const where[] = {
		"bad.dif:5: ", "bad.dif:6: ", "bad.dif:7: ", "bad.dif:8: ",
		"bad.dif:9: ", "bad.dif:10: ", "bad.dif:12: ", "bad.dif:13: "
	};
	for (unsigned i = 0; i < 8; i++)
		assert_true(strncmp(s->errs[i], where[i], strlen(where[i])) == 0);
	assert_non_null(strstr(s->errs[0], "198.41.0.999"));
	free(s);
}

/* Any chunking gives the same result; CRLF, blank lines and unknown #
 * records are accepted. */
static void chunked_and_tolerant(void **state)
{
	(void)state;
	static const char text[] =
		"%s"
		"#Comment: something new\r\n"
		T(0, 5)
		"\r\n"
		"1 | 198.41.0.4 3 5:2:100,200\r\n"
		"   \n"
		"2 | 198.41.0.4 3 6:121:100:999:100,21\n"
		"#Enddata: 2\r\n"
		T(5, 6)
		"#Enddata: 0";                      /* no final newline */
	char buf[2048];
	snprintf(buf, sizeof buf, text, ntm_head);
	for (size_t chunk = 0; chunk < 40; chunk += 3) {
		struct seen *s = parse("c.dif", buf, chunk);
		assert_int_equal(s->errors, 0);
		assert_int_equal(s->intervals, 2);
		assert_int_equal(s->iv[0].n_records, 2);
		assert_int_equal(s->iv[1].n_records, 0);
		assert_string_equal(s->iv[0].first_fields[3], "5:2:100,200");
		assert_int_equal(s->iv[0].kinds[3], DIF_V_DIST);
		free(s);
	}
}

static void netramet_versions(void **state)
{
	(void)state;
	struct seen *s = parse("o.dif",
		"##NeTraMet v5.1b5 -i eth0 starting at 00:00:00 Tue 1 Jan 02\n", 0);
	assert_true(s->bad_type6);
	assert_string_equal(s->version, "v5.1b5");
	free(s);
	s = parse("o.dif", "##NeTraMet 5.1b4. x starting at now\n", 0);
	assert_true(s->bad_type6);
	free(s);
	s = parse("o.dif", "##NeTraMet v5.1b16 x starting at now\n", 0);
	assert_false(s->bad_type6);
	free(s);
	s = parse("o.dif", "##NeTraMet v5.1b7 x starting at now\n", 0);
	assert_false(s->bad_type6);
	free(s);
	s = parse("o.dif", ntm_head, 0);
	assert_false(s->bad_type6);
	free(s);
}

static void dist_token_errors(void **state)
{
	(void)state;
	struct dif_dist d;
	uint32_t v[DIF_DIST_MAX_VALUES];
	uint64_t c[DIF_DIST_MAX_COUNTS];
	const char *why = NULL;
#define BAD(s) assert_int_equal(difp_parse_dist(s, strlen(s), &d, v, c, &why), -1)
#define OK(s) assert_int_equal(difp_parse_dist(s, strlen(s), &d, v, c, &why), 0)
	OK("5:0");
	OK("5:0:");
	OK("5:2:7,8");
	assert_int_equal(d.n_values, 2);
	assert_int_equal(v[1], 8);
	OK("6:3:10:20:1,2");
	assert_int_equal(d.lower, 10);
	assert_int_equal(d.upper, 20);
	assert_int_equal(d.n_counts, 2);
	OK("2:10:3:1:1800:0,9,1");
	assert_int_equal(d.scale, 3);
	BAD("5:2:1");
	BAD("5:1:4294967296");
	BAD("5:1:1,");
	BAD("5:1:-1");
	BAD("6:3:20:10:3");
	BAD("6:3:1:2:1,1");
	BAD("6:0:1:2:");
	BAD("7:1:1");
	BAD("1:2:0:25:1500:2");      /* needs >= 1 bucket + overflow */
	BAD("2:2:0:0:1500:1,1");     /* log with lower 0 */
	BAD("1:2:10:25:1500:1,1");   /* scale 10 */
	BAD("5");
	BAD("");
	BAD("5:99999999999999999999999:1");
	assert_non_null(why);
#undef BAD
#undef OK
}

static void records_need_context(void **state)
{
	(void)state;
	struct seen *s = parse("n.dif", "1 2 3\n#Format: flowkind\n1\n", 0);
	assert_int_equal(s->errors, 2);
	assert_non_null(strstr(s->errs[0], "n.dif:1: "));
	assert_non_null(strstr(s->errs[1], "n.dif:3: "));
	free(s);
}

/* The medians ntm-dif computes from a file: exact for type 5, interpolated
 * in the log-spaced bin for type 6. */
struct medians {
	unsigned n;
	double m[4];
	unsigned errors;
};

static int median_cb(void *ctx, const struct difp_interval *iv)
{
	struct medians *md = ctx;
	for (size_t r = 0; r < iv->n_records; r++) {
		const struct dif_value *v = &iv->records[r].v[iv->records[r].n - 1];
		assert_int_equal(v->attr, ATTR_FROM_TURNAROUND_TIME);
		assert_int_equal(v->kind, DIF_V_DIST);
		if (md->n < 4)
			assert_int_equal(dif_dist_percentile(v->dist, 0.5,
							     &md->m[md->n]), 0);
		md->n++;
	}
	return 0;
}

static void median_count_error(void *ctx, const char *msg)
{
	(void)msg;
	((struct medians *)ctx)->errors++;
}

static void ntm_file_medians(void **state)
{
	(void)state;
	const char *root = getenv("NTM_ROOT");
	char path[512];
	snprintf(path, sizeof path, "%s/tests/data/dif/ntm-sample.dif",
		 root ? root : ".");
	struct medians md = { 0 };
	const struct difp_ops mops = { .interval = median_cb,
				       .error = median_count_error };
	assert_int_equal(difp_parse_file(path, &mops, &md), 0);
	assert_int_equal(md.errors, 0);
	assert_int_equal(md.n, 3);
	assert_true(md.m[0] == 20110.0);               /* odd: the middle one */
	/* 139 samples: t = 69.5 falls in bin 3 (counts 10, 20, 50, ...),
	 * 39.5/50 of the way from e_2 to e_3, e_k = 11264·(250880/11264)^(k/5) */
	assert_float_equal(md.m[1], 65462.512126, 1e-5);
	assert_true(md.m[2] == 20500.0);               /* even: mean of two */

	errno = 0;
	assert_int_equal(difp_parse_file("/nonexistent/x.dif", &mops, &md), -1);
	assert_int_equal(errno, ENOENT);
}

/* A line longer than DIFP_LINE_MAX is an error of its own line; the lines
 * after it are read normally, whatever the chunking. */
static void overlong_line(void **state)
{
	(void)state;
	size_t big = DIFP_LINE_MAX + 100;
	char head[1024];
	snprintf(head, sizeof head, "%s" T(0, 5) "1 | 198.41.0.4 3 5:0\n", ntm_head);
	static const char tail[] = "\n1 | 198.41.0.4 4 5:0\n#Enddata: 3\n";
	size_t hl = strlen(head), tl = strlen(tail);
	char *text = malloc(hl + big + tl + 1);
	assert_non_null(text);
	memcpy(text, head, hl);
	memset(text + hl, '7', big);
	memcpy(text + hl + big, tail, tl + 1);
	static const size_t chunks[] = { 0, 4096, 1000003 };
	for (unsigned i = 0; i < 3; i++) {
		struct seen *s = parse("long.dif", text, chunks[i]);
		assert_int_equal(s->errors, 1);
		assert_non_null(strstr(s->errs[0], "long.dif:5: line longer"));
		assert_int_equal(s->intervals, 1);
		assert_int_equal(s->iv[0].n_records, 2);
		assert_int_equal(s->iv[0].bad, 1);
		free(s);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(netramet_era_file),
		cmocka_unit_test(truncated_file),
		cmocka_unit_test(bad_records),
		cmocka_unit_test(chunked_and_tolerant),
		cmocka_unit_test(netramet_versions),
		cmocka_unit_test(dist_token_errors),
		cmocka_unit_test(records_need_context),
		cmocka_unit_test(ntm_file_medians),
		cmocka_unit_test(overlong_line),
		cmocka_unit_test(restart_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
