/* test_ber — the BER subset SNMP packages use (X.690 §8.1–8.3, 8.7, 8.8,
 * 8.9; RFC 2578 application types): literal encodings both ways, and the
 * decoder's refusals of input it must not trust. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ber.h"

#define CAP 512

/* Encode with fn into a fresh writer and compare with the literal. */
#define EXPECT(w, ...) do { \
	static const uint8_t want_[] = { __VA_ARGS__ }; \
	assert_false((w)->failed); \
	assert_int_equal((w)->len, sizeof want_); \
	assert_memory_equal((w)->buf, want_, sizeof want_); \
} while (0)

static uint8_t buf[CAP];

static struct ber_writer fresh(void)
{
	struct ber_writer w;
	memset(buf, 0xee, sizeof buf);
	ber_writer_init(&w, buf, sizeof buf);
	return w;
}

/* INTEGER: minimal two's complement (X.690 §8.3.2). */
static void integers(void **state)
{
	(void)state;
	struct ber_writer w;
	w = fresh(); ber_put_int(&w, BER_INTEGER, 0);     EXPECT(&w, 0x02, 0x01, 0x00);
	w = fresh(); ber_put_int(&w, BER_INTEGER, 127);   EXPECT(&w, 0x02, 0x01, 0x7f);
	w = fresh(); ber_put_int(&w, BER_INTEGER, 128);   EXPECT(&w, 0x02, 0x02, 0x00, 0x80);
	w = fresh(); ber_put_int(&w, BER_INTEGER, 256);   EXPECT(&w, 0x02, 0x02, 0x01, 0x00);
	w = fresh(); ber_put_int(&w, BER_INTEGER, -1);    EXPECT(&w, 0x02, 0x01, 0xff);
	w = fresh(); ber_put_int(&w, BER_INTEGER, -128);  EXPECT(&w, 0x02, 0x01, 0x80);
	w = fresh(); ber_put_int(&w, BER_INTEGER, -129);  EXPECT(&w, 0x02, 0x02, 0xff, 0x7f);
	w = fresh(); ber_put_int(&w, BER_INTEGER, INT64_MAX);
	EXPECT(&w, 0x02, 0x08, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	w = fresh(); ber_put_int(&w, BER_INTEGER, INT64_MIN);
	EXPECT(&w, 0x02, 0x08, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
	assert_int_equal(ber_int_size(32767), 2);
	assert_int_equal(ber_int_size(32768), 3);
	assert_int_equal(ber_int_size(-32768), 2);
	assert_int_equal(ber_int_size(-32769), 3);
}

/* Unsigned application types: a 0x00 first when the top bit is set. */
static void unsigned_types(void **state)
{
	(void)state;
	struct ber_writer w;
	w = fresh(); ber_put_uint(&w, BER_COUNTER64, 0);    EXPECT(&w, 0x46, 0x01, 0x00);
	w = fresh(); ber_put_uint(&w, BER_COUNTER64, 255);  EXPECT(&w, 0x46, 0x02, 0x00, 0xff);
	w = fresh(); ber_put_uint(&w, BER_COUNTER64, 1ull << 63);
	EXPECT(&w, 0x46, 0x09, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
	w = fresh(); ber_put_uint(&w, BER_COUNTER64, UINT64_MAX);
	EXPECT(&w, 0x46, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	w = fresh(); ber_put_uint(&w, BER_COUNTER32, 4294967295u);
	EXPECT(&w, 0x41, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff);
	w = fresh(); ber_put_uint(&w, BER_GAUGE32, 65536);  EXPECT(&w, 0x42, 0x03, 0x01, 0x00, 0x00);
	w = fresh(); ber_put_uint(&w, BER_TIMETICKS, 12345); EXPECT(&w, 0x43, 0x02, 0x30, 0x39);
	w = fresh(); ber_put_uint(&w, BER_INTEGER, 3447);   EXPECT(&w, 0x02, 0x02, 0x0d, 0x77);
	assert_int_equal(ber_uint_size(127), 1);
	assert_int_equal(ber_uint_size(128), 2);
	assert_int_equal(ber_uint_size(0x7fffffffffffffffull), 8);
}

static void strings_and_null(void **state)
{
	(void)state;
	struct ber_writer w;
	w = fresh(); ber_put_octets(&w, BER_OCTET_STRING, "abc", 3);
	EXPECT(&w, 0x04, 0x03, 0x61, 0x62, 0x63);
	w = fresh(); ber_put_octets(&w, BER_OCTET_STRING, NULL, 0); EXPECT(&w, 0x04, 0x00);
	w = fresh(); ber_put_null(&w); EXPECT(&w, 0x05, 0x00);
	w = fresh(); ber_put_octets(&w, BER_OPAQUE, "\x01", 1); EXPECT(&w, 0x44, 0x01, 0x01);
}

/* Lengths above 127 take the long form (X.690 §8.1.3.5): 0x80 | octets. */
static void long_lengths(void **state)
{
	(void)state;
	uint8_t data[300];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	struct ber_writer w = fresh();
	ber_put_octets(&w, BER_OCTET_STRING, data, 127);
	assert_int_equal(w.len, 2 + 127);
	assert_int_equal(buf[1], 0x7f);
	w = fresh();
	ber_put_octets(&w, BER_OCTET_STRING, data, 128);
	assert_int_equal(w.len, 3 + 128);
	assert_int_equal(buf[0], 0x04);
	assert_int_equal(buf[1], 0x81);
	assert_int_equal(buf[2], 0x80);
	assert_memory_equal(buf + 3, data, 128);
	w = fresh();
	ber_put_octets(&w, BER_OCTET_STRING, data, 300);
	assert_int_equal(w.len, 4 + 300);
	assert_int_equal(buf[1], 0x82);
	assert_int_equal(buf[2], 0x01);
	assert_int_equal(buf[3], 0x2c);
	assert_int_equal(ber_len_size(127), 1);
	assert_int_equal(ber_len_size(128), 2);
	assert_int_equal(ber_len_size(255), 2);
	assert_int_equal(ber_len_size(256), 3);
	assert_int_equal(ber_len_size(65536), 4);
}

/* SEQUENCE built with begin/end: the header is put in front. */
static void sequences(void **state)
{
	(void)state;
	struct ber_writer w = fresh();
	size_t m = ber_begin(&w);
	ber_put_int(&w, BER_INTEGER, 1);
	ber_put_null(&w);
	ber_end(&w, m, BER_SEQUENCE);
	EXPECT(&w, 0x30, 0x05, 0x02, 0x01, 0x01, 0x05, 0x00);

	/* nested, and contents of 200 octets: long form, contents moved */
	uint8_t data[196];
	memset(data, 0x5a, sizeof data);
	w = fresh();
	m = ber_begin(&w);
	size_t inner = ber_begin(&w);
	ber_put_raw(&w, data, sizeof data);
	ber_end(&w, inner, BER_OCTET_STRING);     /* 04 81 c4 + 196 */
	ber_end(&w, m, BER_SEQUENCE);             /* contents 199 */
	assert_false(w.failed);
	assert_int_equal(w.len, 3 + 3 + 196);
	static const uint8_t head[] = { 0x30, 0x81, 0xc7, 0x04, 0x81, 0xc4, 0x5a };
	assert_memory_equal(buf, head, sizeof head);
	assert_int_equal(buf[w.len - 1], 0x5a);
	assert_int_equal(buf[w.len], 0xee);       /* nothing past the end */
}

/* A write that does not fit fails the writer for good; nothing is
 * written past cap. */
static void bounds(void **state)
{
	(void)state;
	uint8_t small[8];
	memset(small, 0xee, sizeof small);
	struct ber_writer w;
	ber_writer_init(&w, small, 4);
	ber_put_uint(&w, BER_COUNTER64, 1ull << 40);   /* needs 8 */
	assert_true(w.failed);
	ber_put_null(&w);                              /* would fit: still failed */
	assert_true(w.failed);
	for (size_t i = 4; i < sizeof small; i++)
		assert_int_equal(small[i], 0xee);

	/* the header of a SEQUENCE does not fit after its contents */
	ber_writer_init(&w, small, 4);
	size_t m = ber_begin(&w);
	ber_put_int(&w, BER_INTEGER, 5);               /* 3 octets */
	assert_false(w.failed);
	ber_end(&w, m, BER_SEQUENCE);                  /* needs 2 more */
	assert_true(w.failed);
	for (size_t i = 4; i < sizeof small; i++)
		assert_int_equal(small[i], 0xee);

	/* exactly fitting is fine */
	ber_writer_init(&w, small, 5);
	m = ber_begin(&w);
	ber_put_int(&w, BER_INTEGER, 5);
	ber_end(&w, m, BER_SEQUENCE);
	assert_false(w.failed);
	assert_int_equal(w.len, 5);
}

/* Read back what the encoder wrote. */
static void read_tlvs(void **state)
{
	(void)state;
	static const uint8_t in[] = {
		0x30, 0x0e,
		0x02, 0x01, 0xff,
		0x46, 0x09, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct ber_tlv t, e;
	size_t used;
	const char *why = NULL;
	assert_int_equal(ber_read(in, sizeof in, &t, &used, &why), 0);
	assert_int_equal(t.tag, BER_SEQUENCE);
	assert_int_equal(t.len, 14);
	assert_ptr_equal(t.v, in + 2);
	assert_int_equal(used, sizeof in);
	assert_int_equal(ber_read(t.v, t.len, &e, &used, &why), 0);
	assert_int_equal(e.tag, BER_INTEGER);
	assert_int_equal(used, 3);
	int64_t i;
	assert_int_equal(ber_get_int(&e, &i, &why), 0);
	assert_int_equal(i, -1);
	assert_int_equal(ber_read(t.v + 3, t.len - 3, &e, &used, &why), 0);
	assert_int_equal(e.tag, BER_COUNTER64);
	assert_int_equal(used, 11);
	uint64_t u;
	assert_int_equal(ber_get_uint(&e, &u, &why), 0);
	assert_true(u == 1ull << 63);

	/* long-form length 04 81 80 ... */
	uint8_t lf[3 + 128];
	lf[0] = 0x04; lf[1] = 0x81; lf[2] = 0x80;
	memset(lf + 3, 7, 128);
	assert_int_equal(ber_read(lf, sizeof lf, &t, &used, &why), 0);
	assert_int_equal(t.len, 128);
	assert_int_equal(used, sizeof lf);
	/* a non-minimal long form is still BER (X.690 §8.1.3.5 note) */
	static const uint8_t nm[] = { 0x04, 0x82, 0x00, 0x01, 0x61 };
	assert_int_equal(ber_read(nm, sizeof nm, &t, &used, &why), 0);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.v[0], 0x61);
}

#define REFUSE(text, ...) do { \
	static const uint8_t in_[] = { __VA_ARGS__ }; \
	struct ber_tlv t_; size_t u_ = 99; const char *w_ = NULL; \
	assert_int_equal(ber_read(in_, sizeof in_, &t_, &u_, &w_), -1); \
	assert_string_equal(w_, text); \
	assert_int_equal(u_, 99); \
} while (0)

static void read_refusals(void **state)
{
	(void)state;
	struct ber_tlv t;
	size_t used;
	const char *why = NULL;
	assert_int_equal(ber_read(NULL, 0, &t, &used, &why), -1);
	assert_string_equal(why, "missing element");
	REFUSE("truncated header", 0x04);
	REFUSE("multi-octet tag", 0x1f, 0x01, 0x00);
	REFUSE("indefinite length", 0x30, 0x80, 0x00, 0x00);
	REFUSE("length field too long", 0x04, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0x61);
	REFUSE("length field too long", 0x04, 0xff);
	REFUSE("truncated length", 0x04, 0x82, 0x01);
	REFUSE("contents run past the end", 0x04, 0x05, 0x61);
	REFUSE("contents run past the end", 0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00);
	REFUSE("contents run past the end", 0x30, 0x81, 0x80, 0x00);
}

static int get_int(const uint8_t *v, size_t n, int64_t *out, const char **why)
{
	struct ber_tlv t = { BER_INTEGER, v, n };
	return ber_get_int(&t, out, why);
}

static int get_uint(const uint8_t *v, size_t n, uint64_t *out, const char **why)
{
	struct ber_tlv t = { BER_COUNTER64, v, n };
	return ber_get_uint(&t, out, why);
}

static void numbers(void **state)
{
	(void)state;
	int64_t i;
	uint64_t u;
	const char *why = NULL;
	assert_int_equal(get_int((const uint8_t *)"\x00\x80", 2, &i, &why), 0);
	assert_int_equal(i, 128);
	assert_int_equal(get_int((const uint8_t *)"\xff\x7f", 2, &i, &why), 0);
	assert_int_equal(i, -129);
	/* redundant sign octets are tolerated */
	assert_int_equal(get_int((const uint8_t *)"\x00\x00\x01", 3, &i, &why), 0);
	assert_int_equal(i, 1);
	assert_int_equal(get_int((const uint8_t *)"\xff\xff\xfe", 3, &i, &why), 0);
	assert_int_equal(i, -2);
	assert_int_equal(get_int((const uint8_t *)"", 0, &i, &why), -1);
	assert_string_equal(why, "empty number");
	assert_int_equal(get_int((const uint8_t *)"\x01\x00\x00\x00\x00\x00\x00\x00\x00",
				 9, &i, &why), -1);
	assert_string_equal(why, "number does not fit 64 bits");

	assert_int_equal(get_uint((const uint8_t *)"\x00\xff\xff\xff\xff\xff\xff\xff\xff",
				  9, &u, &why), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(get_uint((const uint8_t *)"\x00", 1, &u, &why), 0);
	assert_true(u == 0);
	assert_int_equal(get_uint((const uint8_t *)"\x80", 1, &u, &why), -1);
	assert_string_equal(why, "negative number");
	assert_int_equal(get_uint((const uint8_t *)"\x01\x00\x00\x00\x00\x00\x00\x00\x00",
				  9, &u, &why), -1);
	assert_string_equal(why, "number above 2^64 - 1");
	assert_int_equal(get_uint((const uint8_t *)"", 0, &u, &why), -1);
	assert_string_equal(why, "empty number");
}

static void tag_names(void **state)
{
	(void)state;
	assert_string_equal(ber_tag_name(BER_COUNTER64), "Counter64");
	assert_string_equal(ber_tag_name(BER_OCTET_STRING), "OCTET STRING");
	assert_string_equal(ber_tag_name(0xa2), "unknown tag");
	assert_true(ber_is_number(BER_TIMETICKS));
	assert_true(ber_is_number(BER_GAUGE32));
	assert_false(ber_is_number(BER_OPAQUE));
	assert_false(ber_is_number(BER_OCTET_STRING));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(integers),
		cmocka_unit_test(unsigned_types),
		cmocka_unit_test(strings_and_null),
		cmocka_unit_test(long_lengths),
		cmocka_unit_test(sequences),
		cmocka_unit_test(bounds),
		cmocka_unit_test(read_tlvs),
		cmocka_unit_test(read_refusals),
		cmocka_unit_test(numbers),
		cmocka_unit_test(tag_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
