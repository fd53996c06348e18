/*
 * fuzz_pkg — pkg_decode on arbitrary bytes, read with a fixed selector that
 * holds every element kind (numbers of each width, addresses, a port, the
 * dynamic and static distributions).  The first byte picks a run of it
 * (low nibble: first entry, high nibble: length - 1) so that short packages
 * decode too and each element kind is reached without building the whole
 * SEQUENCE; the rest is the package.  A package that decodes must encode
 * again and decode to the same values, and its distributions must give an
 * interval.  The same bytes, taken as sub-identifiers, go through
 * pkg_selector_decode in both forms, and seed the structure-aware half
 * below.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "pkg.h"

static const uint16_t sel[] = {
	ATTR_FLOW_RULESET, ATTR_FLOW_INDEX, ATTR_FIRST_TIME, ATTR_SOURCE_INTERFACE,
	ATTR_SOURCE_PEER_ADDRESS, ATTR_DEST_PEER_MASK, ATTR_DEST_TRANS_ADDRESS,
	ATTR_FLOW_CLASS, ATTR_TO_OCTETS, ATTR_DISTRIBUTIONS,
	ATTR_TO_TURNAROUND_TIME, ATTR_FROM_PACKET_SIZE, ATTR_TO_BIT_RATE,
	ATTR_DNS_LOST, ATTR_LAST_TIME_NS, 600,
};
#define N (sizeof sel / sizeof sel[0])

static struct pkg_decoded a, b;
static struct dist_result res;
static uint8_t out[65536];

static void same(const struct coll_value *x, const struct coll_value *y)
{
	if (x->attr != y->attr || x->kind != y->kind)
		abort();
	switch (x->kind) {
	case COLL_BYTES:
		if (x->width != y->width || memcmp(x->bytes, y->bytes, x->width))
			abort();
		break;
	case COLL_DIST:
		if (x->dist->count != y->dist->count ||
		    memcmp(x->dist->bins, y->dist->bins, sizeof x->dist->bins))
			abort();
		break;
	case COLL_STATIC:
		if (x->sdist->n != y->sdist->n || x->spec->buckets != y->spec->buckets ||
		    memcmp(x->sdist->counts, y->sdist->counts,
			   (x->spec->buckets + 1u) * sizeof x->sdist->counts[0]))
			abort();
		break;
	default:
		break;
	}
}

static void selectors(const uint8_t *data, size_t size)
{
	uint32_t sub[300];
	size_t n = size < 300 ? size : 300;
	for (size_t i = 0; i < n; i++)
		sub[i] = data[i];
	if (n)   /* the length sub-id may be anything */
		sub[0] = (uint32_t)data[0] << (data[n - 1] & 7);
	uint16_t attrs[PKG_ATTRS_MAX];
	for (int wide = 0; wide < 2; wide++) {
		size_t k = 0;
		size_t used = pkg_selector_decode(wide, sub, n, attrs, &k);
		if (used > n || (used && (k == 0 || k > PKG_ATTRS_MAX)))
			abort();
		if (used) {
			uint32_t back[1 + 2 * PKG_ATTRS_MAX + 3];
			size_t m = pkg_index_encode(wide, attrs, k, 1, 2, 3, back,
						    sizeof back / sizeof back[0]);
			if (m != used + 3 || memcmp(back, sub, used * sizeof sub[0]))
				abort();
		}
	}
}

/* Decode buf with selector s[0..n); a package that decodes must hold
 * together.  Returns pkg_decode's result. */
static int check_decoded(const uint8_t *buf, size_t len, const uint16_t *s, size_t n)
{
	const char *why = NULL;
	if (pkg_decode(buf, len, s, n, &a, &why)) {
		if (!why || !*why)
			abort();
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct coll_value *v = &a.v[i];
		if (v->kind == COLL_DIST && v->dist->count <= UINT32_MAX &&
		    dist_interval(NULL, v->dist, 0, &res))
			abort();
		if (v->kind == COLL_STATIC &&
		    dist_static_interval(v->spec, NULL, v->sdist, &res))
			abort();
	}
	ssize_t len2 = pkg_encode(a.v, n, out, sizeof out);
	if (len2 < 0 || pkg_decode(out, (size_t)len2, s, n, &b, &why))
		abort();
	for (size_t i = 0; i < n; i++)
		same(&a.v[i], &b.v[i]);
	return 0;
}

/*
 * Structure-aware half: distributions built from the input (3 octets per
 * RTT, one per packet size), encoded, then up to three octets of the
 * package changed where the input says.  Unchanged, the package must decode
 * to the same intervals; changed, it must be refused or hold together.
 * This reaches the distribution decoders' inner checks, which random bytes
 * seldom pass.
 */
static struct dist live;
static struct dist_static sd;
static struct dist_result want;
static uint8_t pkg[16384];

static void structured(const uint8_t *data, size_t size)
{
	static const uint16_t s2[] = { ATTR_TO_TURNAROUND_TIME, ATTR_FROM_PACKET_SIZE };
	static const uint8_t mask[DIST_RULE_BYTES] = { 1, 0, 0, 10, 0x03, 0xe8 };
	if (size < 2)
		return;
	uint8_t value[DIST_RULE_BYTES] = { (uint8_t)(1 + data[0] % 60), 0, 0, 0, 0, 0 };
	struct dist_static_spec spec;
	if (dist_static_spec_init(&spec, mask, value, NULL))
		abort();
	dist_init(&live);
	dist_static_init(&sd);
	size_t flips = data[1] % 4, body = size - 2;
	const uint8_t *p = data + 2;
	size_t nflip = flips * 2 < body ? flips * 2 : 0;   /* (position, xor) pairs */
	for (size_t i = nflip; i + 3 <= body; i += 3) {
		dist_add(&live, p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16, i);
		dist_static_add(&spec, &sd, p[i] * 5u);
	}
	struct coll_value v[2];
	memset(v, 0, sizeof v);
	v[0].attr = ATTR_TO_TURNAROUND_TIME;
	v[0].kind = COLL_DIST;
	v[0].dist = &live;
	v[1].attr = ATTR_FROM_PACKET_SIZE;
	v[1].kind = COLL_STATIC;
	v[1].spec = &spec;
	v[1].sdist = &sd;
	ssize_t len = pkg_encode(v, 2, pkg, sizeof pkg);
	if (len <= 0)
		abort();
	if (nflip == 0) {
		if (check_decoded(pkg, (size_t)len, s2, 2))
			abort();
		if (dist_interval(NULL, &live, 0, &want) || dist_interval(NULL, a.v[0].dist, 0, &res) ||
		    want.d.type != res.d.type || want.d.n != res.d.n ||
		    want.d.lower != res.d.lower || want.d.upper != res.d.upper ||
		    memcmp(want.values, res.values, want.d.n_values * sizeof want.values[0]) ||
		    memcmp(want.counts, res.counts, want.d.n_counts * sizeof want.counts[0]))
			abort();
		return;
	}
	for (size_t i = 0; i < nflip; i += 2)
		pkg[p[i] * (size_t)len / 256] ^= p[i + 1] ? p[i + 1] : 1;
	check_decoded(pkg, (size_t)len, s2, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!a.dists && (pkg_decoded_init(&a) || pkg_decoded_init(&b)))
		abort();
	selectors(data, size);
	structured(data, size);
	if (size == 0)
		return 0;
	size_t first = data[0] & 0x0f, n = (data[0] >> 4) + 1u;
	if (n > N - first)
		n = N - first;
	check_decoded(data + 1, size - 1, sel + first, n);
	return 0;
}
