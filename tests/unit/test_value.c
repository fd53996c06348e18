/* test_value — values and masks in text (RFC 2723 Appendix B). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "value.h"

static const struct attr_info *A(unsigned num)
{
	const struct attr_info *a = attr_by_num(num);
	assert_non_null(a);
	return a;
}

/* Parse `text` for attribute `num`; expect width `w` and bytes `want`. */
static void expect(unsigned num, const char *text, uint8_t w,
		   const uint8_t *want)
{
	uint8_t out[RULE_ADDR_MAX], width = 0xee;
	char err[128];
	int rc = value_parse(A(num), text, strlen(text), out, &width, err, sizeof err);
	if (rc)
		fail_msg("'%s': %s", text, err);
	assert_int_equal(width, w);
	assert_memory_equal(out, want, w);
	for (unsigned i = w; i < RULE_ADDR_MAX; i++)
		assert_int_equal(out[i], 0);
}

/* Expect a parse error whose message contains `part`. */
static void expect_error(unsigned num, const char *text, const char *part)
{
	uint8_t out[RULE_ADDR_MAX], width = 0xee;
	char err[128] = "";
	assert_int_equal(value_parse(A(num), text, strlen(text), out, &width,
				     err, sizeof err), -1);
	if (!strstr(err, part))
		fail_msg("'%s': message '%s' lacks '%s'", text, err, part);
	assert_int_equal(width, 0);
}

static void ipv4_fields(void **state)
{
	(void)state;
	expect(ATTR_SOURCE_PEER_ADDRESS, "130.216", 4,
	       (const uint8_t[]){ 0x82, 0xd8, 0x00, 0x00 });
	expect(ATTR_SOURCE_PEER_ADDRESS, "130.216.0.0", 4,
	       (const uint8_t[]){ 0x82, 0xd8, 0x00, 0x00 });
	expect(ATTR_SOURCE_PEER_ADDRESS, "255.255.0.0", 4,
	       (const uint8_t[]){ 0xff, 0xff, 0x00, 0x00 });
	expect(ATTR_SOURCE_PEER_ADDRESS, "130.216.7", 4,
	       (const uint8_t[]){ 0x82, 0xd8, 0x07, 0x00 });
	expect(ATTR_DEST_PEER_ADDRESS, "FF-FF-00-00", 4,
	       (const uint8_t[]){ 0xff, 0xff, 0x00, 0x00 });
	expect(ATTR_DEST_PEER_ADDRESS, "c0-a8-1-FE", 4,
	       (const uint8_t[]){ 0xc0, 0xa8, 0x01, 0xfe });
	/* a lone untyped field fills the whole width */
	expect(ATTR_SOURCE_PEER_ADDRESS, "3232235777", 4,
	       (const uint8_t[]){ 0xc0, 0xa8, 0x01, 0x01 });
	expect(ATTR_SOURCE_PEER_ADDRESS, "0", 4,
	       (const uint8_t[]){ 0, 0, 0, 0 });
	/* leading and trailing blanks are not part of the value */
	expect(ATTR_SOURCE_PEER_ADDRESS, "  10.1 \t", 4,
	       (const uint8_t[]){ 0x0a, 0x01, 0x00, 0x00 });
}

static void mixed_widths(void **state)
{
	(void)state;
	static const uint8_t six[16] = { 0x01, 0x03, 0x00, 0x0a, 0x00, 0x32 };
	/* 1.3.10!50 == 1.3.0.10.0.50; as a 16-byte peer (more than 4 bytes) */
	expect(ATTR_SOURCE_PEER_ADDRESS, "1.3.10!50", 16, six);
	expect(ATTR_SOURCE_PEER_ADDRESS, "1.3.0.10.0.50", 16, six);
	/* RFC 2724 distribution parameters, 6 bytes */
	expect(ATTR_FROM_PACKET_SIZE, "1.0.25!1500", 6,
	       (const uint8_t[]){ 0x01, 0x00, 0x00, 0x19, 0x05, 0xdc });
	expect(ATTR_TO_INTERARRIVAL_TIME, "2.3.1!1800", 6,
	       (const uint8_t[]){ 0x02, 0x03, 0x00, 0x01, 0x07, 0x08 });
	/* the RFC's 5-byte 60.0!0 is right-padded to 6 */
	expect(ATTR_FROM_PACKET_SIZE, "60.0!0", 6,
	       (const uint8_t[]){ 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00 });
	expect(ATTR_FROM_BIT_RATE, "60.5.0!0", 6,
	       (const uint8_t[]){ 0x3c, 0x05, 0x00, 0x00, 0x00, 0x00 });
	/* "!" after the first field: two bytes, the rest follow suit */
	expect(ATTR_SOURCE_PEER_ADDRESS, "10!20", 4,
	       (const uint8_t[]){ 0x00, 0x0a, 0x00, 0x14 });
	expect_error(ATTR_DEST_TRANS_ADDRESS, "0!53", "value is 4 bytes");
	expect_error(ATTR_DEST_TRANS_ADDRESS, "4!", "ends after a field separator");
}

static void ports_and_types(void **state)
{
	(void)state;
	expect(ATTR_DEST_TRANS_ADDRESS, "23", 2, (const uint8_t[]){ 0x00, 0x17 });
	expect(ATTR_DEST_TRANS_ADDRESS, "0.23", 2, (const uint8_t[]){ 0x00, 0x17 });
	expect(ATTR_DEST_TRANS_ADDRESS, "65535", 2, (const uint8_t[]){ 0xff, 0xff });
	expect(ATTR_DEST_TRANS_ADDRESS, "F8-00", 2, (const uint8_t[]){ 0xf8, 0x00 });
	expect(ATTR_SOURCE_TRANS_TYPE, "6", 1, (const uint8_t[]){ 0x06 });
	expect(ATTR_SOURCE_PEER_TYPE, "255", 1, (const uint8_t[]){ 0xff });
	expect(ATTR_SOURCE_INTERFACE, "3", 2, (const uint8_t[]){ 0x00, 0x03 });
	expect(ATTR_TO_OCTETS, "1099511627776", 8,
	       (const uint8_t[]){ 0, 0, 0x01, 0, 0, 0, 0, 0 });
}

static void chars(void **state)
{
	(void)state;
	expect(ATTR_FLOW_KIND, "'T'", 1, (const uint8_t[]){ 0x54 });
	expect(ATTR_FLOW_KIND, "'W'", 1, (const uint8_t[]){ 0x57 });
	expect(ATTR_SOURCE_KIND, "'?'", 1, (const uint8_t[]){ 0x3f });
	expect(ATTR_SOURCE_KIND, "'\\''", 1, (const uint8_t[]){ 0x27 });
	expect(ATTR_V2, "'F'", 1, (const uint8_t[]){ 0x46 });
	expect_error(ATTR_DEST_TRANS_ADDRESS, "'T'", "1 byte, DestTransAddress holds 2");
	expect_error(ATTR_FLOW_KIND, "'TT'", "character constant");
	expect_error(ATTR_FLOW_KIND, "'", "character constant");
}

static void ipv6_and_mac(void **state)
{
	(void)state;
	expect(ATTR_SOURCE_PEER_ADDRESS, "2001:db8::", 16,
	       (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 0 });
	expect(ATTR_SOURCE_PEER_ADDRESS, "ffff:ffff::", 16,
	       (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 0 });
	expect(ATTR_DEST_PEER_ADDRESS, "2001:500:2f::f", 16,
	       (const uint8_t[]){ 0x20, 0x01, 0x05, 0x00, 0x00, 0x2f, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 0x0f });
	expect(ATTR_DEST_PEER_ADDRESS, "::ffff:192.0.2.1", 16,
	       (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0,
				  0, 0, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x01 });
	static const uint8_t mac[] = { 0x00, 0x60, 0x3e, 0x10, 0xe0, 0xa1 };
	expect(ATTR_SOURCE_ADJACENT_ADDRESS, "00-60-3E-10-E0-A1", 6, mac);
	expect(ATTR_SOURCE_ADJACENT_ADDRESS, "00:60:3e:10:e0:a1", 6, mac);
	expect(ATTR_SOURCE_ADJACENT_ADDRESS, "0:60:3e:10:e0:a1", 6, mac);
	expect(ATTR_SOURCE_ADJACENT_ADDRESS, "0-60-3e", 6,
	       (const uint8_t[]){ 0x00, 0x60, 0x3e, 0, 0, 0 });
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "2001:db8::g", "not an IPv6 address");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "1:2:3", "not an IPv6 address");
	expect_error(ATTR_DEST_TRANS_ADDRESS, "::1", "holds 2");
	expect_error(ATTR_DEST_TRANS_ADDRESS, "00:60:3e:10:e0:a1", "holds 2");
}

static void variables(void **state)
{
	(void)state;
	/* an Assign value names an attribute: its number in 2 bytes */
	expect(ATTR_V1, "SourcePeerAddress", 2, (const uint8_t[]){ 0x00, 0x09 });
	expect(ATTR_V1, "destpeeraddress", 2, (const uint8_t[]){ 0x00, 0x13 });
	expect(ATTR_V5, "FlowKind", 2, (const uint8_t[]){ 0x00, 0x29 });
	/* otherwise the width is what is written */
	expect(ATTR_V1, "255.255.0.0", 4, (const uint8_t[]){ 0xff, 0xff, 0, 0 });
	expect(ATTR_V1, "130.216.0.0", 4, (const uint8_t[]){ 0x82, 0xd8, 0, 0 });
	expect(ATTR_V2, "10", 1, (const uint8_t[]){ 0x0a });
	expect(ATTR_V2, "0", 1, (const uint8_t[]){ 0x00 });
	expect(ATTR_V2, "300", 2, (const uint8_t[]){ 0x01, 0x2c });
	expect(ATTR_V3, "2001:db8::1", 16,
	       (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 0x01 });
	expect(ATTR_NULL, "0", 1, (const uint8_t[]){ 0 });
	expect_error(ATTR_V1, "NoSuchAttribute", "unexpected 'N'");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "SourcePeerAddress", "unexpected 'S'");
}

static void errors(void **state)
{
	(void)state;
	expect_error(ATTR_SOURCE_TRANS_TYPE, "300", "value 300 does not fit in 1 byte");
	expect_error(ATTR_DEST_TRANS_ADDRESS, "65536", "does not fit in 2 bytes");
	expect_error(ATTR_DEST_TRANS_ADDRESS, "130.216.0.0",
		     "value is 4 bytes, DestTransAddress holds 2");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "4294967296", "does not fit in 4 bytes");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "256.1", "field 256 does not fit in 1 byte");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "1!70000", "does not fit in 2 bytes");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "1-100", "does not fit in 1 byte");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "FF.1", "not a decimal digit");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "FF", "not a decimal digit");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "1..2", "empty field");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, ".1", "empty field");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "1.2.", "ends after a field separator");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "1.2/3", "unexpected '/'");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "", "empty value");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "   ", "empty value");
	expect_error(ATTR_SOURCE_PEER_ADDRESS, "99999999999999999999999", "too big");
	expect_error(ATTR_SOURCE_PEER_ADDRESS,
		     "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17", "holds 16");
	expect_error(ATTR_FROM_PACKET_SIZE, "1.2.3.4.5.6.7", "value is 7 bytes, FromPacketSize holds 6");
	expect_error(ATTR_V1, "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21",
		     "holds 20");
}

static void prefix_masks(void **state)
{
	(void)state;
	uint8_t m[RULE_ADDR_MAX];
	assert_int_equal(value_prefix_mask(16, 4, m), 0);
	assert_memory_equal(m, ((const uint8_t[]){ 0xff, 0xff, 0, 0, 0 }), 5);
	assert_int_equal(value_prefix_mask(24, 4, m), 0);
	assert_memory_equal(m, ((const uint8_t[]){ 0xff, 0xff, 0xff, 0 }), 4);
	assert_int_equal(value_prefix_mask(20, 4, m), 0);
	assert_memory_equal(m, ((const uint8_t[]){ 0xff, 0xff, 0xf0, 0 }), 4);
	assert_int_equal(value_prefix_mask(32, 4, m), 0);
	assert_memory_equal(m, ((const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0 }), 5);
	assert_int_equal(value_prefix_mask(0, 4, m), 0);
	assert_memory_equal(m, ((const uint8_t[]){ 0, 0, 0, 0 }), 4);
	assert_int_equal(value_prefix_mask(33, 16, m), 0);
	assert_memory_equal(m, ((const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0x80, 0 }), 6);
	assert_int_equal(value_prefix_mask(1, 2, m), 0);
	assert_memory_equal(m, ((const uint8_t[]){ 0x80, 0 }), 2);
	assert_int_equal(value_prefix_mask(33, 4, m), -1);
	assert_int_equal(value_prefix_mask(9, 1, m), -1);
}

/* Render, compare with the expected text, parse back. */
static void expect_format(unsigned num, const uint8_t *v, uint8_t width,
			  const char *want)
{
	char buf[128];
	int n = value_format(A(num), v, width, buf, sizeof buf);
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
	uint8_t back[RULE_ADDR_MAX], w;
	char err[128];
	if (value_parse(A(num), buf, strlen(buf), back, &w, err, sizeof err))
		fail_msg("'%s': %s", buf, err);
	assert_int_equal(w, width);
	assert_memory_equal(back, v, width);
}

static void formats(void **state)
{
	(void)state;
	expect_format(ATTR_SOURCE_PEER_ADDRESS,
		      (const uint8_t[]){ 0x82, 0xd8, 0x07, 0x00 }, 4, "130.216.7.0");
	expect_format(ATTR_SOURCE_PEER_ADDRESS,
		      (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					 0, 0, 0, 0, 0, 0, 0, 0x01 }, 16, "2001:db8::1");
	expect_format(ATTR_DEST_ADJACENT_ADDRESS,
		      (const uint8_t[]){ 0x00, 0x60, 0x3e, 0x10, 0xe0, 0xa1 }, 6,
		      "00-60-3e-10-e0-a1");
	expect_format(ATTR_DEST_TRANS_ADDRESS, (const uint8_t[]){ 0x00, 0x35 }, 2, "53");
	expect_format(ATTR_DEST_TRANS_ADDRESS, (const uint8_t[]){ 0xf8, 0x00 }, 2, "63488");
	expect_format(ATTR_FLOW_KIND, (const uint8_t[]){ 0x57 }, 1, "87");
	expect_format(ATTR_FROM_PACKET_SIZE,
		      (const uint8_t[]){ 0x01, 0x00, 0x00, 0x19, 0x05, 0xdc }, 6,
		      "1.0.25!1500");
	expect_format(ATTR_V1, (const uint8_t[]){ 0x00, 0x09 }, 2, "SourcePeerAddress");
	expect_format(ATTR_V1, (const uint8_t[]){ 0x00, 0x00 }, 2, "0.0");
	expect_format(ATTR_V1, (const uint8_t[]){ 0xff, 0xff, 0, 0 }, 4, "255.255.0.0");
	expect_format(ATTR_V2, (const uint8_t[]){ 0x0a }, 1, "10");
	expect_format(ATTR_NULL, (const uint8_t[]){ 0 }, 1, "0");
	expect_format(ATTR_SOURCE_SUBSCRIBER_ID,
		      (const uint8_t[20]){ 'a', 'b' }, 20, "97.98");
	expect_format(ATTR_SOURCE_SUBSCRIBER_ID, (const uint8_t[20]){ 7 }, 20, "7.0");
	expect_format(ATTR_SOURCE_SUBSCRIBER_ID, (const uint8_t[20]){ 0 }, 20, "0");
	expect_format(ATTR_SOURCE_PEER_MASK,
		      (const uint8_t[16]){ 0xff, 0xff, 0xff }, 16, "255.255.255");
	/* truncation keeps the NUL and reports what fitted */
	char small[6];
	assert_int_equal(value_format(A(ATTR_SOURCE_PEER_ADDRESS),
				      (const uint8_t[]){ 130, 216, 7, 0 }, 4,
				      small, sizeof small), 5);
	assert_string_equal(small, "130.2");
}

/* Every width of every attribute type: random bytes render to text that
 * parses back to the same bytes. */
static void round_trip(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	const struct attr_info *a;
	unsigned checked = 0;
	for (size_t i = 0; (a = attr_at(i)) != NULL; i++) {
		uint8_t widths[4] = { a->width, 0, 0, 0 };
		unsigned nw = 1;
		if (a->type == ATTR_T_PEER)
			widths[0] = 4, widths[1] = 16, nw = 2;
		if (a->type == ATTR_T_VARIABLE || a->type == ATTR_T_NONE)
			widths[0] = 1, widths[1] = 2, widths[2] = 4, widths[3] = 16, nw = 4;
		for (unsigned k = 0; k < nw; k++) {
			for (int trial = 0; trial < 200; trial++) {
				uint8_t v[RULE_ADDR_MAX] = { 0 };
				for (unsigned b = 0; b < widths[k]; b++) {
					seed = seed * 1103515245u + 12345u;
					/* plenty of zeros: they exercise trimming */
					v[b] = (seed >> 16) % 3 ? (uint8_t)(seed >> 8) : 0;
				}
				char buf[128], err[128];
				uint8_t back[RULE_ADDR_MAX], w;
				value_format(a, v, widths[k], buf, sizeof buf);
				if (value_parse(a, buf, strlen(buf), back, &w, err, sizeof err))
					fail_msg("%s '%s': %s", a->name, buf, err);
				if (w != widths[k] || memcmp(back, v, w) != 0)
					fail_msg("%s: '%s' came back different", a->name, buf);
				checked++;
			}
		}
	}
	assert_true(checked > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_fields),
		cmocka_unit_test(mixed_widths),
		cmocka_unit_test(ports_and_types),
		cmocka_unit_test(chars),
		cmocka_unit_test(ipv6_and_mac),
		cmocka_unit_test(variables),
		cmocka_unit_test(errors),
		cmocka_unit_test(prefix_masks),
		cmocka_unit_test(formats),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
