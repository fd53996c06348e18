/* test_pkg — flow data packages (RFC 2720 flowPackageData; doc/packages.md):
 * literal packages, round trips of every attribute kind, the decoder's
 * refusals with their reasons, ntm's distribution encodings (dynamic: equal
 * intervals through dist_interval; RFC 2724 static: mask, value, counters)
 * and the package instance index (RFC 2720's worked example). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "pkg.h"

#define CAP 16384

static uint8_t buf[CAP];

static struct coll_value bytes_value(unsigned attr, const void *p, unsigned width)
{
	struct coll_value v;
	memset(&v, 0, sizeof v);
	v.attr = (uint16_t)attr;
	v.kind = COLL_BYTES;
	v.width = (uint8_t)width;
	memcpy(v.bytes, p, width);
	return v;
}

static struct coll_value uint_value(unsigned attr, uint64_t x, unsigned width)
{
	struct coll_value v;
	coll_value_uint(&v, attr, x, width);
	return v;
}

static struct coll_value none_value(unsigned attr)
{
	struct coll_value v;
	memset(&v, 0, sizeof v);
	v.attr = (uint16_t)attr;
	v.kind = COLL_NONE;
	return v;
}

static int setup(void **state)
{
	struct pkg_decoded *d = malloc(sizeof *d);
	assert_non_null(d);
	assert_int_equal(pkg_decoded_init(d), 0);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct pkg_decoded *d = *state;
	pkg_decoded_fini(d);
	free(d);
	return 0;
}

/* The element syntax per attribute (doc/packages.md §2). */
static void element_syntax(void **state)
{
	(void)state;
	assert_int_equal(pkg_elem_of(ATTR_FLOW_INDEX), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_SOURCE_INTERFACE), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_DEST_PEER_TYPE), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_FLOW_RULESET), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_FLOW_KIND), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_OCTET_SCALE), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_DISTRIBUTIONS), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_V3), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_DNS_QTYPE), PKG_EL_INTEGER);
	assert_int_equal(pkg_elem_of(ATTR_SOURCE_PEER_ADDRESS), PKG_EL_OCTETS);
	assert_int_equal(pkg_elem_of(ATTR_DEST_ADJACENT_ADDRESS), PKG_EL_OCTETS);
	assert_int_equal(pkg_elem_of(ATTR_DEST_TRANS_ADDRESS), PKG_EL_OCTETS);
	assert_int_equal(pkg_elem_of(ATTR_SOURCE_PEER_MASK), PKG_EL_OCTETS);
	assert_int_equal(pkg_elem_of(ATTR_SESSION_ID), PKG_EL_OCTETS);
	assert_int_equal(pkg_elem_of(600), PKG_EL_OCTETS);
	for (unsigned a = ATTR_TO_OCTETS; a <= ATTR_FROM_PDUS; a++)
		assert_int_equal(pkg_elem_of(a), PKG_EL_COUNTER64);
	for (unsigned a = ATTR_DNS_REQUESTS; a <= ATTR_RTT_SAMPLES; a++)
		assert_int_equal(pkg_elem_of(a), PKG_EL_COUNTER64);
	assert_int_equal(pkg_elem_of(ATTR_FIRST_TIME_NS), PKG_EL_COUNTER64);
	assert_int_equal(pkg_elem_of(ATTR_LAST_TIME_NS), PKG_EL_COUNTER64);
	assert_int_equal(pkg_elem_of(ATTR_FIRST_TIME), PKG_EL_TIMETICKS);
	assert_int_equal(pkg_elem_of(ATTR_LAST_ACTIVE_TIME), PKG_EL_TIMETICKS);
	for (unsigned a = ATTR_TO_PACKET_SIZE; a <= ATTR_FROM_PDU_RATE; a++)
		assert_int_equal(pkg_elem_of(a), PKG_EL_DIST);

	assert_int_equal(pkg_number_width(ATTR_FLOW_RULESET), 4);
	assert_int_equal(pkg_number_width(ATTR_FLOW_INDEX), 4);
	assert_int_equal(pkg_number_width(ATTR_SOURCE_INTERFACE), 2);
	assert_int_equal(pkg_number_width(ATTR_FLOW_CLASS), 1);
	assert_int_equal(pkg_number_width(ATTR_V1), 2);
	assert_int_equal(pkg_number_width(ATTR_TO_OCTETS), 8);
	assert_int_equal(pkg_number_width(ATTR_FIRST_TIME), 4);
	assert_int_equal(pkg_number_width(ATTR_LAST_TIME_NS), 8);
	assert_int_equal(pkg_number_width(ATTR_DEST_PEER_ADDRESS), 0);
	assert_int_equal(pkg_number_width(ATTR_TO_TURNAROUND_TIME), 0);
	assert_int_equal(pkg_number_width(600), 0);
}

/* Selector {FlowIndex, DestPeerAddress, ToOctets, FirstTime, FlowKind}:
 *   FlowIndex 3447      INTEGER    02 02 0d 77
 *   192.0.2.1           OCTET STR  04 04 c0 00 02 01
 *   ToOctets 1000       Counter64  46 02 03 e8
 *   FirstTime 12345 cs  TimeTicks  43 02 30 39
 *   FlowKind 7          INTEGER    02 01 07
 * in a SEQUENCE of 4 + 6 + 4 + 4 + 3 = 21 octets. */
static const uint8_t small_pkg[] = {
	0x30, 0x15,
	0x02, 0x02, 0x0d, 0x77,
	0x04, 0x04, 0xc0, 0x00, 0x02, 0x01,
	0x46, 0x02, 0x03, 0xe8,
	0x43, 0x02, 0x30, 0x39,
	0x02, 0x01, 0x07,
};
static const uint16_t small_sel[] = {
	ATTR_FLOW_INDEX, ATTR_DEST_PEER_ADDRESS, ATTR_TO_OCTETS,
	ATTR_FIRST_TIME, ATTR_FLOW_KIND,
};

static void small_package(void **state)
{
	struct pkg_decoded *d = *state;
	static const uint8_t addr[4] = { 192, 0, 2, 1 };
	struct coll_value v[5] = {
		uint_value(ATTR_FLOW_INDEX, 3447, 4),
		bytes_value(ATTR_DEST_PEER_ADDRESS, addr, 4),
		uint_value(ATTR_TO_OCTETS, 1000, 8),
		uint_value(ATTR_FIRST_TIME, 12345, 4),
		uint_value(ATTR_FLOW_KIND, 7, 1),
	};
	ssize_t n = pkg_encode(v, 5, buf, sizeof buf);
	assert_int_equal(n, sizeof small_pkg);
	assert_memory_equal(buf, small_pkg, sizeof small_pkg);

	const char *why = NULL;
	assert_int_equal(pkg_decode(small_pkg, sizeof small_pkg, small_sel, 5, d, &why), 0);
	assert_int_equal(d->n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(d->v[i].attr, small_sel[i]);
		assert_int_equal(d->v[i].kind, COLL_BYTES);
		assert_int_equal(d->v[i].width, v[i].width);
		assert_memory_equal(d->v[i].bytes, v[i].bytes, v[i].width);
	}

	/* "no value" is NULL: 05 00 */
	struct coll_value nv = none_value(ATTR_SOURCE_PEER_ADDRESS);
	n = pkg_encode(&nv, 1, buf, sizeof buf);
	static const uint8_t null_pkg[] = { 0x30, 0x02, 0x05, 0x00 };
	assert_int_equal(n, sizeof null_pkg);
	assert_memory_equal(buf, null_pkg, sizeof null_pkg);
	static const uint16_t sel9[] = { ATTR_SOURCE_PEER_ADDRESS };
	assert_int_equal(pkg_decode(null_pkg, sizeof null_pkg, sel9, 1, d, &why), 0);
	assert_int_equal(d->v[0].kind, COLL_NONE);

	/* an empty selector is an empty SEQUENCE */
	assert_int_equal(pkg_encode(NULL, 0, buf, sizeof buf), 2);
	assert_int_equal(buf[0], 0x30);
	assert_int_equal(buf[1], 0x00);
}

/* Every attribute of the table, at its smallest and largest value (and
 * "no value"), through a package and back: same kind, width and bytes. */
static void every_attribute_round_trip(void **state)
{
	struct pkg_decoded *d = *state;
	for (int pass = 0; pass < 3; pass++) {
		struct coll_value v[PKG_ATTRS_MAX];
		uint16_t sel[PKG_ATTRS_MAX];
		size_t n = 0;
		for (size_t i = 0;; i++) {
			const struct attr_info *a = attr_at(i);
			if (a && pkg_elem_of(a->num) == PKG_EL_DIST)
				continue;
			if (a && n < PKG_ATTRS_MAX) {
				sel[n] = a->num;
				unsigned w = pkg_number_width(a->num);
				if (pass == 2) {
					v[n] = none_value(a->num);
				} else if (w) {
					uint64_t max = w == 8 ? UINT64_MAX : (1ull << (8 * w)) - 1;
					v[n] = uint_value(a->num, pass ? max : 0, w);
				} else {
					uint8_t b[DIF_VALUE_MAX];
					for (unsigned k = 0; k < a->width; k++)
						b[k] = (uint8_t)(pass ? 0xff - k : k);
					v[n] = bytes_value(a->num, b, a->width);
				}
				n++;
				continue;
			}
			/* a full selector, or the end of the table */
			ssize_t len = pkg_encode(v, n, buf, sizeof buf);
			assert_true(len > 0);
			const char *why = NULL;
			assert_int_equal(pkg_decode(buf, (size_t)len, sel, n, d, &why), 0);
			assert_int_equal(d->n, n);
			for (size_t k = 0; k < n; k++) {
				assert_int_equal(d->v[k].attr, v[k].attr);
				assert_int_equal(d->v[k].kind, v[k].kind);
				assert_int_equal(d->v[k].width, v[k].width);
				assert_memory_equal(d->v[k].bytes, v[k].bytes, v[k].width);
			}
			if (!a)
				break;
			n = 0;
			i--;   /* this attribute opens the next selector */
		}
	}
	/* an IPv4 address in a 16-byte attribute keeps its 4 octets; an
	 * attribute ntm does not know travels as octets */
	static const uint8_t v4[4] = { 198, 51, 100, 7 };
	struct coll_value v[2] = {
		bytes_value(ATTR_SOURCE_PEER_ADDRESS, v4, 4),
		bytes_value(600, v4, 3),
	};
	static const uint16_t sel[2] = { ATTR_SOURCE_PEER_ADDRESS, 600 };
	ssize_t len = pkg_encode(v, 2, buf, sizeof buf);
	static const uint8_t want[] = {
		0x30, 0x0b, 0x04, 0x04, 198, 51, 100, 7, 0x04, 0x03, 198, 51, 100,
	};
	assert_int_equal(len, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	const char *why = NULL;
	assert_int_equal(pkg_decode(buf, (size_t)len, sel, 2, d, &why), 0);
	assert_int_equal(d->v[0].width, 4);
	assert_int_equal(d->v[1].width, 3);
}

/* RFC 2720 leaves the tags open: any number type reads as a number. */
static void number_tags_interchangeable(void **state)
{
	struct pkg_decoded *d = *state;
	static const uint8_t tags[] = { 0x02, 0x41, 0x42, 0x43, 0x46 };
	static const uint16_t sel[] = { ATTR_TO_PDUS, ATTR_FIRST_TIME, ATTR_FLOW_CLASS };
	for (size_t i = 0; i < sizeof tags; i++) {
		uint8_t in[] = {
			0x30, 0x0b,
			tags[i], 0x02, 0x01, 0x00,   /* 256 */
			tags[i], 0x01, 0x05,
			tags[i], 0x02, 0x00, 0xff,   /* 255 with its 0x00 */
		};
		in[1] = sizeof in - 2;
		const char *why = NULL;
		assert_int_equal(pkg_decode(in, sizeof in, sel, 3, d, &why), 0);
		assert_int_equal(d->v[0].width, 8);
		assert_int_equal(d->v[0].bytes[6], 1);
		assert_int_equal(d->v[0].bytes[7], 0);
		assert_int_equal(d->v[1].width, 4);
		assert_int_equal(d->v[1].bytes[3], 5);
		assert_int_equal(d->v[2].width, 1);
		assert_int_equal(d->v[2].bytes[0], 255);
	}
}

/* What cannot be encoded: EINVAL; what does not fit: ENOSPC, at every
 * capacity short of the package, and nothing written past it. */
static void encode_errors(void **state)
{
	(void)state;
	struct dist *dy = calloc(1, sizeof *dy);
	assert_non_null(dy);
	struct coll_value v;

	v = uint_value(ATTR_FIRST_TIME, 1ull << 32, 8);    /* TimeTicks: 32 bits */
	errno = 0;
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	v = uint_value(ATTR_FLOW_CLASS, 256, 2);           /* FlowClass: 1 octet */
	errno = 0;
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	v = uint_value(ATTR_FLOW_CLASS, 255, 2);           /* fits: 30 04 02 02 00 ff */
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), 6);
	static const uint8_t five[17] = { 5 };
	v = bytes_value(ATTR_DEST_TRANS_ADDRESS, five, 3);  /* a port is 2 octets */
	errno = 0;
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	v = bytes_value(ATTR_DEST_PEER_ADDRESS, five, 17);
	errno = 0;
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	v = none_value(ATTR_TO_PDUS);
	v.kind = COLL_BYTES;
	v.width = 9;                                       /* above 64 bits */
	errno = 0;
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	v = none_value(ATTR_TO_OCTETS);                    /* a dist on a counter */
	v.kind = COLL_DIST;
	v.dist = dy;
	errno = 0;
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	v = uint_value(ATTR_TO_TURNAROUND_TIME, 1, 1);     /* bytes on a dist */
	errno = 0;
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	v = none_value(ATTR_TO_PACKET_SIZE);               /* static without spec */
	v.kind = COLL_STATIC;
	errno = 0;
	assert_int_equal(pkg_encode(&v, 1, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);

	static const uint8_t addr[4] = { 192, 0, 2, 1 };
	struct coll_value s[5] = {
		uint_value(ATTR_FLOW_INDEX, 3447, 4),
		bytes_value(ATTR_DEST_PEER_ADDRESS, addr, 4),
		uint_value(ATTR_TO_OCTETS, 1000, 8),
		uint_value(ATTR_FIRST_TIME, 12345, 4),
		uint_value(ATTR_FLOW_KIND, 7, 1),
	};
	for (size_t cap = 0; cap < sizeof small_pkg; cap++) {
		memset(buf, 0xee, sizeof buf);
		errno = 0;
		assert_int_equal(pkg_encode(s, 5, buf, cap), -1);
		assert_int_equal(errno, ENOSPC);
		assert_int_equal(buf[cap], 0xee);
	}
	assert_int_equal(pkg_encode(s, 5, buf, sizeof small_pkg), sizeof small_pkg);
	free(dy);
}

#define REFUSE(dec, sel, nsel, text, ...) do { \
	static const uint8_t in_[] = { __VA_ARGS__ }; \
	const char *w_ = NULL; \
	assert_int_equal(pkg_decode(in_, sizeof in_, (sel), (nsel), (dec), &w_), -1); \
	assert_non_null(w_); \
	assert_string_equal(w_, text); \
	assert_int_equal((dec)->n, 0); \
} while (0)

/* Every refusal names the element, the attribute and why. */
static void decode_errors(void **state)
{
	struct pkg_decoded *d = *state;
	static const uint16_t s1[] = { ATTR_FLOW_INDEX };
	static const uint16_t s19[] = { ATTR_DEST_PEER_ADDRESS };
	static const uint16_t s27[] = { ATTR_TO_OCTETS };
	static const uint16_t s41[] = { ATTR_FLOW_KIND };
	const char *why = NULL;

	assert_int_equal(pkg_decode(buf, 0, s1, 1, d, &why), -1);
	assert_string_equal(why, "package: missing element");
	REFUSE(d, s1, 1, "package: expected SEQUENCE, got OCTET STRING", 0x04, 0x00);
	REFUSE(d, s1, 1, "package: indefinite length", 0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00);
	REFUSE(d, s1, 1, "octets after the package's SEQUENCE",
	       0x30, 0x03, 0x02, 0x01, 0x01, 0x00);
	REFUSE(d, s1, 1, "element 1 (attribute 1): missing: the package has 0 elements",
	       0x30, 0x00);
	REFUSE(d, s1, 0, "more elements than the selector has attributes",
	       0x30, 0x03, 0x02, 0x01, 0x01);
	REFUSE(d, s1, 1, "element 1 (attribute 1): contents run past the end",
	       0x30, 0x02, 0x02, 0x05);
	REFUSE(d, s1, 1, "element 1 (attribute 1): truncated header", 0x30, 0x01, 0x02);
	REFUSE(d, s19, 1, "element 1 (attribute 19): expected OCTET STRING, got INTEGER",
	       0x30, 0x03, 0x02, 0x01, 0x01);
	REFUSE(d, s27, 1, "element 1 (attribute 27): expected a number, got OCTET STRING",
	       0x30, 0x02, 0x04, 0x00);
	REFUSE(d, s27, 1, "element 1 (attribute 27): expected a number, got Opaque",
	       0x30, 0x03, 0x44, 0x01, 0x01);
	REFUSE(d, s1, 1, "element 1 (attribute 1): negative number",
	       0x30, 0x03, 0x02, 0x01, 0xff);
	REFUSE(d, s1, 1, "element 1 (attribute 1): empty number", 0x30, 0x02, 0x02, 0x00);
	REFUSE(d, s41, 1, "element 1 (attribute 41): 256 does not fit 1 octets",
	       0x30, 0x04, 0x02, 0x02, 0x01, 0x00);
	REFUSE(d, s1, 1, "element 1 (attribute 1): NULL with contents",
	       0x30, 0x03, 0x05, 0x01, 0x00);
	REFUSE(d, s19, 1, "element 1 (attribute 19): 17 octets, at most 16 expected",
	       0x30, 0x13, 0x04, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
	static const uint16_t s600[] = { 600 };
	REFUSE(d, s600, 1, "element 1 (attribute 600): 21 octets, at most 20 expected",
	       0x30, 0x17, 0x04, 0x15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	       17, 18, 19, 20, 21);

	/* the second element's fault names the second element */
	static const uint16_t s2[] = { ATTR_FLOW_INDEX, ATTR_DEST_PEER_ADDRESS };
	REFUSE(d, s2, 2, "element 2 (attribute 19): expected OCTET STRING, got Counter64",
	       0x30, 0x06, 0x02, 0x01, 0x01, 0x46, 0x01, 0x01);

	/* the small package cut short anywhere */
	for (size_t len = 0; len < sizeof small_pkg; len++) {
		why = NULL;
		assert_int_equal(pkg_decode(small_pkg, len, small_sel, 5, d, &why), -1);
		assert_non_null(why);
	}

	uint16_t many[PKG_ATTRS_MAX + 1] = { 0 };
	assert_int_equal(pkg_decode(small_pkg, sizeof small_pkg, many, PKG_ATTRS_MAX + 1,
				    d, &why), -1);
	assert_string_equal(why, "selector longer than 64 attributes");

	struct pkg_decoded blank;
	memset(&blank, 0, sizeof blank);
	assert_int_equal(pkg_decode(small_pkg, sizeof small_pkg, small_sel, 5, &blank, &why), -1);
	assert_string_equal(why, "decoder not initialised");
}

/* ---- distributions ---- */

/* Deterministic RTT-like values: a mixture of modes around 1.5, 12, 30,
 * 85 and 160 ms, each spread by about ±25 %. */
static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static uint32_t rtt_us(void)
{
	static const double mode[] = { 1500, 12000, 30000, 85000, 160000 };
	double m = mode[next_rand() % 5];
	double u = 0;
	for (int i = 0; i < 4; i++)
		u += (double)(next_rand() % 10000) / 10000.0;
	return (uint32_t)(m * exp((u - 2.0) * 0.25));
}

/* The live ring holds sample k in slot k % DIST_RING; the encoding carries
 * the last min(count, 120) values: dynamic package of 5, 200, 5 µs:
 *   03 01        transform 3 (dynamic), version 1
 *   03           count
 *   05 c8 01 05  ring values, oldest first (200 = LEB128 c8 01)
 *   02           nonzero bins
 *   05 02        bin 5 (gap 5), count 2
 *   9e 01 01     bin 164 = 128 + (200 >> 1) % 64 (gap 164 - 6 = 158), count 1 */
static void dynamic_literal(void **state)
{
	struct pkg_decoded *d = *state;
	struct dist *dy = malloc(sizeof *dy);
	assert_non_null(dy);
	dist_init(dy);
	dist_add(dy, 5, 1);
	dist_add(dy, 200, 2);
	dist_add(dy, 5, 3);
	struct coll_value v = none_value(ATTR_TO_TURNAROUND_TIME);
	v.kind = COLL_DIST;
	v.dist = dy;
	static const uint8_t want[] = {
		0x30, 0x0f, 0x04, 0x0d,
		0x03, 0x01, 0x03, 0x05, 0xc8, 0x01, 0x05,
		0x02, 0x05, 0x02, 0x9e, 0x01, 0x01,
	};
	ssize_t n = pkg_encode(&v, 1, buf, sizeof buf);
	assert_int_equal(n, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	static const uint16_t sel[] = { ATTR_TO_TURNAROUND_TIME };
	const char *why = NULL;
	assert_int_equal(pkg_decode(want, sizeof want, sel, 1, d, &why), 0);
	assert_int_equal(d->v[0].kind, COLL_DIST);
	const struct dist *g = d->v[0].dist;
	assert_int_equal(g->count, 3);
	assert_int_equal(g->ring_v[0], 5);
	assert_int_equal(g->ring_v[1], 200);
	assert_int_equal(g->ring_v[2], 5);
	assert_int_equal(g->ring_t[0], 0);          /* timestamps do not travel */
	assert_int_equal(g->bins[5], 2);
	assert_int_equal(g->bins[164], 1);
	/* an empty distribution: count 0, no values, no bins */
	dist_init(dy);
	n = pkg_encode(&v, 1, buf, sizeof buf);
	static const uint8_t empty[] = { 0x30, 0x06, 0x04, 0x04, 0x03, 0x01, 0x00, 0x00 };
	assert_int_equal(n, sizeof empty);
	assert_memory_equal(buf, empty, sizeof empty);
	free(dy);
}

static void assert_same_interval(const struct dist_result *a, const struct dist_result *b)
{
	assert_int_equal(a->d.type, b->d.type);
	assert_int_equal(a->d.n, b->d.n);
	assert_int_equal(a->d.lower, b->d.lower);
	assert_int_equal(a->d.upper, b->d.upper);
	assert_int_equal(a->d.n_values, b->d.n_values);
	assert_int_equal(a->d.n_counts, b->d.n_counts);
	if (a->d.n_values)
		assert_memory_equal(a->values, b->values, a->d.n_values * sizeof a->values[0]);
	if (a->d.n_counts)
		assert_memory_equal(a->counts, b->counts, a->d.n_counts * sizeof a->counts[0]);
}

/* Readings of a live distribution at `marks` samples (each mark a reading)
 * through packages: every interval between two readings, and since the
 * start, equals the live one — type 5 up to 120 samples, type 6 above. */
static void dynamic_intervals(void **state)
{
	struct pkg_decoded *d = *state;
	static const uint64_t marks[] = { 0, 1, 50, 119, 120, 240, 241, 361, 2000, 2120, 2121 };
	enum { M = sizeof marks / sizeof marks[0] };
	struct dist *live = malloc(sizeof *live);
	struct dist *snap = malloc(M * sizeof *snap);       /* live copies */
	struct dist *dec = malloc(M * sizeof *dec);         /* via packages */
	struct dist_result *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	assert_true(live && snap && dec && a && b);
	dist_init(live);
	uint64_t t = 0;
	static const uint16_t sel[] = { ATTR_TO_TURNAROUND_TIME };
	for (size_t m = 0; m < M; m++) {
		while (live->count < marks[m])
			dist_add(live, rtt_us(), t += 1000);
		dist_snapshot(live, &snap[m]);
		struct coll_value v = none_value(ATTR_TO_TURNAROUND_TIME);
		v.kind = COLL_DIST;
		v.dist = live;
		ssize_t n = pkg_encode(&v, 1, buf, sizeof buf);
		assert_true(n > 0);
		const char *why = NULL;
		assert_int_equal(pkg_decode(buf, (size_t)n, sel, 1, d, &why), 0);
		dec[m] = *d->v[0].dist;
	}
	size_t exact = 0, binned = 0;
	for (size_t j = 0; j < M; j++) {
		for (unsigned nbins = 0; nbins <= 255; nbins += 85) {
			assert_int_equal(dist_interval(NULL, &snap[j], nbins, a), 0);
			assert_int_equal(dist_interval(NULL, &dec[j], nbins, b), 0);
			assert_same_interval(a, b);
			for (size_t i = 0; i < j; i++) {
				assert_int_equal(dist_interval(&snap[i], &snap[j], nbins, a), 0);
				assert_int_equal(dist_interval(&dec[i], &dec[j], nbins, b), 0);
				assert_same_interval(a, b);
				if (b->d.type == DIF_DIST_EXACT)
					exact++;
				else
					binned++;
			}
		}
	}
	/* both kinds were compared, counts < 120, = 120 and > 120 */
	assert_true(exact > 20);
	assert_true(binned > 20);
	free(live);
	free(snap);
	free(dec);
	free(a);
	free(b);
}

/* A busy flow's package must fit an SNMP message comfortably: 100 000
 * RTTs of five servers (doc/packages.md quotes the size). */
static void dynamic_size(void **state)
{
	(void)state;
	struct dist *live = malloc(sizeof *live);
	assert_non_null(live);
	dist_init(live);
	rng = 777;
	for (unsigned i = 0; i < 100000; i++)
		dist_add(live, rtt_us(), i);
	unsigned nz = 0;
	for (unsigned b = 0; b < DIST_BINS; b++)
		nz += live->bins[b] != 0;
	static const uint8_t addr[4] = { 192, 0, 2, 1 };
	struct coll_value v[6] = {
		uint_value(ATTR_FLOW_RULESET, 3, 4),
		uint_value(ATTR_FLOW_INDEX, 1234, 4),
		bytes_value(ATTR_DEST_PEER_ADDRESS, addr, 4),
		uint_value(ATTR_TO_PDUS, 100000, 8),
		uint_value(ATTR_FROM_PDUS, 100000, 8),
		none_value(ATTR_TO_TURNAROUND_TIME),
	};
	v[5].kind = COLL_DIST;
	v[5].dist = live;
	ssize_t n = pkg_encode(v, 6, buf, sizeof buf);
	print_message("100000 samples, %u nonzero bins: package of %zd octets\n", nz, n);
	assert_true(n > 0);
	assert_true(n < 2048);
	free(live);
}

/* Decoding refuses a dynamic encoding that does not hold together. */
static void dynamic_errors(void **state)
{
	struct pkg_decoded *d = *state;
	static const uint16_t s70[] = { ATTR_TO_TURNAROUND_TIME };
	REFUSE(d, s70, 1, "element 1 (attribute 70): empty distribution", 0x30, 0x02, 0x04, 0x00);
	REFUSE(d, s70, 1, "element 1 (attribute 70): truncated distribution",
	       0x30, 0x03, 0x04, 0x01, 0x03);
	REFUSE(d, s70, 1, "element 1 (attribute 70): unknown dynamic distribution version",
	       0x30, 0x06, 0x04, 0x04, 0x03, 0x02, 0x00, 0x00);
	REFUSE(d, s70, 1, "element 1 (attribute 70): bad sample count",
	       0x30, 0x05, 0x04, 0x03, 0x03, 0x01, 0x80);
	REFUSE(d, s70, 1, "element 1 (attribute 70): bad or missing ring value",
	       0x30, 0x06, 0x04, 0x04, 0x03, 0x01, 0x02, 0x05);
	/* a ring value above 2^32 - 1 µs */
	REFUSE(d, s70, 1, "element 1 (attribute 70): bad or missing ring value",
	       0x30, 0x0a, 0x04, 0x08, 0x03, 0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x10);
	REFUSE(d, s70, 1, "element 1 (attribute 70): bad histogram bin count",
	       0x30, 0x06, 0x04, 0x04, 0x03, 0x01, 0x00, 0x80);
	REFUSE(d, s70, 1, "element 1 (attribute 70): bad histogram bin count",
	       0x30, 0x07, 0x04, 0x05, 0x03, 0x01, 0x00, 0xc1, 0x0d);   /* 1729 bins */
	/* bin 1728 = c0 0d is past the last (1727) */
	REFUSE(d, s70, 1, "element 1 (attribute 70): histogram bin out of range",
	       0x30, 0x0a, 0x04, 0x08, 0x03, 0x01, 0x01, 0x05, 0x01, 0xc0, 0x0d, 0x01);
	REFUSE(d, s70, 1, "element 1 (attribute 70): bad histogram count",
	       0x30, 0x09, 0x04, 0x07, 0x03, 0x01, 0x01, 0x05, 0x01, 0x05, 0x00);
	REFUSE(d, s70, 1, "element 1 (attribute 70): histogram does not add up to the sample count",
	       0x30, 0x09, 0x04, 0x07, 0x03, 0x01, 0x01, 0x05, 0x01, 0x05, 0x02);
	REFUSE(d, s70, 1, "element 1 (attribute 70): octets after the histogram",
	       0x30, 0x0a, 0x04, 0x08, 0x03, 0x01, 0x01, 0x05, 0x01, 0x05, 0x01, 0x00);
	/* a varint of 11 octets */
	REFUSE(d, s70, 1, "element 1 (attribute 70): bad sample count",
	       0x30, 0x0f, 0x04, 0x0d, 0x03, 0x01,
	       0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
	/* the same histogram, consistent: accepted */
	static const uint8_t ok[] = {
		0x30, 0x09, 0x04, 0x07, 0x03, 0x01, 0x01, 0x05, 0x01, 0x05, 0x01,
	};
	const char *why = NULL;
	assert_int_equal(pkg_decode(ok, sizeof ok, s70, 1, d, &why), 0);
	assert_int_equal(d->v[0].dist->bins[5], 1);
}

/* RFC 2724 §4: the rule's mask and value, then buckets + 1 counters of 8
 * octets.  Linear, 3 buckets, 10..30: counts 1, 2, 0 and 5 overflow. */
static void static_literal(void **state)
{
	struct pkg_decoded *d = *state;
	static const uint8_t mask[6] = { 1, 0, 0, 10, 0, 30 };
	static const uint8_t value[6] = { 3, 0, 0, 0, 0, 0 };
	struct dist_static_spec spec;
	const char *why = NULL;
	assert_int_equal(dist_static_spec_init(&spec, mask, value, &why), 0);
	struct dist_static sd;
	dist_static_init(&sd);
	sd.counts[0] = 1;
	sd.counts[1] = 2;
	sd.counts[3] = 5;
	sd.n = 8;
	struct coll_value v = none_value(ATTR_FROM_PACKET_SIZE);
	v.kind = COLL_STATIC;
	v.spec = &spec;
	v.sdist = &sd;
	static const uint8_t want[] = {
		0x30, 0x2e, 0x04, 0x2c,
		0x01, 0x00, 0x00, 0x0a, 0x00, 0x1e,
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
		0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 5,
	};
	ssize_t n = pkg_encode(&v, 1, buf, sizeof buf);
	assert_int_equal(n, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	static const uint16_t sel[] = { ATTR_FROM_PACKET_SIZE };
	assert_int_equal(pkg_decode(want, sizeof want, sel, 1, d, &why), 0);
	assert_int_equal(d->v[0].kind, COLL_STATIC);
	const struct dist_static_spec *g = d->v[0].spec;
	assert_int_equal(g->transform, 1);
	assert_int_equal(g->lower, 10);
	assert_int_equal(g->upper, 30);
	assert_int_equal(g->buckets, 3);
	assert_true(g->bound[1] == spec.bound[1]);   /* rebuilt by spec_init */
	assert_int_equal(d->v[0].sdist->n, 8);
	assert_int_equal(d->v[0].sdist->counts[3], 5);
}

/* RFC 2724's FromBitRate example (log, 10^3, 1..10000 kbit/s, 60 buckets,
 * Parameter-1 = 5 s) with counters above 2^32: parameters and intervals
 * survive the trip. */
static void static_round_trip(void **state)
{
	struct pkg_decoded *d = *state;
	static const uint8_t mask[6] = { 2, 3, 0, 1, 0x27, 0x10 };
	static const uint8_t value[6] = { 60, 5, 0x12, 0x34, 0xab, 0xcd };
	struct dist_static_spec spec;
	const char *why = NULL;
	assert_int_equal(dist_static_spec_init(&spec, mask, value, &why), 0);
	struct dist_static prev, cur;
	dist_static_init(&prev);
	for (unsigned i = 0; i <= 60; i++)
		dist_static_add(&spec, &prev, 1000ull * i * i);
	cur = prev;
	for (unsigned i = 0; i <= 60; i++) {
		cur.counts[i] += (1ull << 33) + i;
		cur.n += (1ull << 33) + i;
	}
	static const uint16_t sel[] = { ATTR_TO_BIT_RATE, ATTR_FROM_BIT_RATE };
	struct coll_value v[2];
	v[0] = none_value(ATTR_TO_BIT_RATE);
	v[0].kind = COLL_STATIC;
	v[0].spec = &spec;
	v[0].sdist = &prev;
	v[1] = v[0];
	v[1].attr = ATTR_FROM_BIT_RATE;
	v[1].sdist = &cur;
	ssize_t n = pkg_encode(v, 2, buf, sizeof buf);
	assert_int_equal(n, 4 + 2 * (4 + 12 + 61 * 8));   /* long-form lengths */
	assert_int_equal(pkg_decode(buf, (size_t)n, sel, 2, d, &why), 0);
	const struct dist_static_spec *g = d->v[1].spec;
	assert_int_equal(g->param1, 5);
	assert_int_equal(g->param2, 0x1234);
	assert_int_equal(g->param3, 0xabcd);
	assert_int_equal(g->scale, 3);
	assert_int_equal(g->upper, 10000);
	assert_memory_equal(g->bound, spec.bound, 60 * sizeof spec.bound[0]);
	struct dist_result *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	assert_true(a && b);
	assert_int_equal(dist_static_interval(&spec, &prev, &cur, a), 0);
	assert_int_equal(dist_static_interval(d->v[1].spec, d->v[0].sdist, d->v[1].sdist, b), 0);
	assert_same_interval(a, b);
	assert_true(b->d.n == 61 * (1ull << 33) + 60 * 61 / 2);
	free(a);
	free(b);
}

static void static_errors(void **state)
{
	struct pkg_decoded *d = *state;
	static const uint16_t s67[] = { ATTR_FROM_PACKET_SIZE };
	REFUSE(d, s67, 1, "element 1 (attribute 67): truncated distribution parameters",
	       0x30, 0x07, 0x04, 0x05, 0x01, 0x00, 0x00, 0x0a, 0x00);
	REFUSE(d, s67, 1, "element 1 (attribute 67): transform (mask byte 1) must be 1 "
	       "(linear) or 2 (logarithmic)",
	       0x30, 0x0e, 0x04, 0x0c, 0x07, 0x00, 0x00, 0x0a, 0x00, 0x1e,
	       0x01, 0x00, 0x00, 0x00, 0x00, 0x00);
	REFUSE(d, s67, 1, "element 1 (attribute 67): counter octets do not match the bucket count",
	       0x30, 0x16, 0x04, 0x14, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x1e,
	       0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 1);
	REFUSE(d, s67, 1, "element 1 (attribute 67): counters add up to more than 2^64 - 1",
	       0x30, 0x1e, 0x04, 0x1c, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x1e,
	       0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1);
	REFUSE(d, s67, 1, "element 1 (attribute 67): expected OCTET STRING, got Opaque",
	       0x30, 0x02, 0x44, 0x00);
}

/* More distributions than PKG_DISTS_MAX in one package. */
static void too_many_distributions(void **state)
{
	struct pkg_decoded *d = *state;
	enum { N = PKG_DISTS_MAX + 1 };
	uint16_t sel[N];
	uint8_t in[2 + N * 7];
	in[0] = 0x30;
	in[1] = N * 7;
	for (size_t i = 0; i < N; i++) {
		sel[i] = ATTR_TO_TURNAROUND_TIME;
		static const uint8_t el[] = { 0x04, 0x05, 0x03, 0x01, 0x01, 0x05, 0x00 };
		memcpy(in + 2 + i * 7, el, sizeof el);
	}
	/* count 1, value 5 ... but no bins: the 1st fails first */
	const char *why = NULL;
	assert_int_equal(pkg_decode(in, sizeof in, sel, N, d, &why), -1);
	assert_string_equal(why, "element 1 (attribute 70): histogram does not add up to the sample count");
	/* 13 empty distributions: 04 04 03 01 00 00 each */
	uint8_t in2[2 + N * 6];
	in2[0] = 0x30;
	in2[1] = N * 6;
	for (size_t i = 0; i < N; i++) {
		static const uint8_t el[] = { 0x04, 0x04, 0x03, 0x01, 0x00, 0x00 };
		memcpy(in2 + 2 + i * 6, el, sizeof el);
	}
	assert_int_equal(pkg_decode(in2, sizeof in2, sel, N, d, &why), -1);
	assert_string_equal(why, "element 13 (attribute 70): more than 12 distributions");
	/* 12 of them, the SEQUENCE still saying 13 */
	assert_int_equal(pkg_decode(in2, 2 + 12 * 6, sel, 12, d, &why), -1);
	assert_string_equal(why, "package: contents run past the end");
	in2[1] = 12 * 6;
	assert_int_equal(pkg_decode(in2, 2 + 12 * 6, sel, 12, d, &why), 0);
	assert_int_equal(d->n, 12);
}

/* ---- package instance index ---- */

/* RFC 2720's example: attributes 11, 18, 29 of flow 3447 of set 7, any
 * time: flowPackageData.3.11.18.29.7.0.3447. */
static void index_narrow(void **state)
{
	(void)state;
	static const uint16_t sel[] = { 11, 18, 29 };
	uint32_t sub[16];
	static const uint32_t want[] = { 3, 11, 18, 29, 7, 0, 3447 };
	assert_int_equal(pkg_index_encode(false, sel, 3, 7, 0, 3447, sub, 16), 7);
	assert_memory_equal(sub, want, sizeof want);
	assert_int_equal(pkg_index_encode(false, sel, 3, 7, 0, 3447, sub, 7), 7);
	assert_int_equal(pkg_index_encode(false, sel, 3, 7, 0, 3447, sub, 6), 0);
	assert_int_equal(pkg_index_encode(false, sel, 0, 7, 0, 3447, sub, 16), 0);
	static const uint16_t wide_attr[] = { 11, 520 };
	assert_int_equal(pkg_index_encode(false, wide_attr, 2, 7, 0, 1, sub, 16), 0);
	uint16_t many[PKG_ATTRS_MAX + 1] = { 0 };
	uint32_t big[PKG_ATTRS_MAX * 2 + 8];
	assert_int_equal(pkg_index_encode(false, many, PKG_ATTRS_MAX + 1, 1, 0, 1, big,
					  sizeof big / sizeof big[0]), 0);
	assert_int_equal(pkg_index_encode(false, many, PKG_ATTRS_MAX, 1, 0, 1, big,
					  sizeof big / sizeof big[0]), PKG_ATTRS_MAX + 4);

	uint16_t attrs[PKG_ATTRS_MAX];
	size_t n = 0;
	assert_int_equal(pkg_selector_decode(false, want, 7, attrs, &n), 4);
	assert_int_equal(n, 3);
	assert_int_equal(attrs[0], 11);
	assert_int_equal(attrs[1], 18);
	assert_int_equal(attrs[2], 29);
	assert_int_equal(pkg_selector_decode(false, want, 4, attrs, &n), 4);
	assert_int_equal(pkg_selector_decode(false, want, 3, attrs, &n), 0);   /* cut */
	assert_int_equal(pkg_selector_decode(false, want, 0, attrs, &n), 0);
	static const uint32_t zero_len[] = { 0, 7, 0, 1 };
	assert_int_equal(pkg_selector_decode(false, zero_len, 4, attrs, &n), 0);
	static const uint32_t big_sub[] = { 1, 256, 7, 0, 1 };
	assert_int_equal(pkg_selector_decode(false, big_sub, 5, attrs, &n), 0);
	big[0] = PKG_ATTRS_MAX + 1;
	for (size_t i = 1; i < sizeof big / sizeof big[0]; i++)
		big[i] = 1;
	assert_int_equal(pkg_selector_decode(false, big, sizeof big / sizeof big[0], attrs, &n), 0);
}

/* Wide selectors (ntmPackageTable): 2 octets per attribute, big-endian;
 * {520} is 2.2.8. */
static void index_wide(void **state)
{
	(void)state;
	static const uint16_t sel[] = { 520 };
	uint32_t sub[16];
	static const uint32_t want[] = { 2, 2, 8, 3, 12345, 42 };
	assert_int_equal(pkg_index_encode(true, sel, 1, 3, 12345, 42, sub, 16), 6);
	assert_memory_equal(sub, want, sizeof want);
	static const uint16_t sel3[] = { 11, 70, 531 };
	static const uint32_t want3[] = { 6, 0, 11, 0, 70, 2, 19, 7, 0, 3447 };
	assert_int_equal(pkg_index_encode(true, sel3, 3, 7, 0, 3447, sub, 16), 10);
	assert_memory_equal(sub, want3, sizeof want3);
	assert_int_equal(pkg_index_encode(true, sel3, 3, 7, 0, 3447, sub, 9), 0);

	uint16_t attrs[PKG_ATTRS_MAX];
	size_t n = 0;
	assert_int_equal(pkg_selector_decode(true, want3, 10, attrs, &n), 7);
	assert_int_equal(n, 3);
	assert_int_equal(attrs[0], 11);
	assert_int_equal(attrs[1], 70);
	assert_int_equal(attrs[2], 531);
	assert_int_equal(pkg_selector_decode(true, want, 6, attrs, &n), 3);
	assert_int_equal(n, 1);
	assert_int_equal(attrs[0], 520);
	static const uint32_t odd[] = { 3, 2, 8, 1, 0, 1 };
	assert_int_equal(pkg_selector_decode(true, odd, 6, attrs, &n), 0);
	static const uint32_t octet[] = { 2, 2, 300, 1, 0, 1 };
	assert_int_equal(pkg_selector_decode(true, octet, 6, attrs, &n), 0);
	/* 64 attributes = 128 octets is the most */
	uint32_t big[1 + 2 * (PKG_ATTRS_MAX + 1)];
	for (size_t i = 1; i < sizeof big / sizeof big[0]; i++)
		big[i] = 1;
	big[0] = 2 * PKG_ATTRS_MAX;
	assert_int_equal(pkg_selector_decode(true, big, sizeof big / sizeof big[0], attrs, &n),
			 1 + 2 * PKG_ATTRS_MAX);
	assert_int_equal(n, PKG_ATTRS_MAX);
	assert_int_equal(attrs[63], 257);
	big[0] = 2 * (PKG_ATTRS_MAX + 1);
	assert_int_equal(pkg_selector_decode(true, big, sizeof big / sizeof big[0], attrs, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(element_syntax),
		cmocka_unit_test_setup_teardown(small_package, setup, teardown),
		cmocka_unit_test_setup_teardown(every_attribute_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(number_tags_interchangeable, setup, teardown),
		cmocka_unit_test(encode_errors),
		cmocka_unit_test_setup_teardown(decode_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(dynamic_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(dynamic_intervals, setup, teardown),
		cmocka_unit_test(dynamic_size),
		cmocka_unit_test_setup_teardown(dynamic_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(static_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(static_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(static_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_distributions, setup, teardown),
		cmocka_unit_test(index_narrow),
		cmocka_unit_test(index_wide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
