/*
 * fuzz_pkg — pkg_decode on arbitrary bytes, read with a fixed selector that
 * holds every element kind (numbers of each width, addresses, a port, the
 * dynamic and static distributions).  A package that decodes must encode
 * again and decode to the same values, and its distributions must give an
 * interval.  The same bytes, taken as sub-identifiers, go through
 * pkg_selector_decode in both forms.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!a.dists && (pkg_decoded_init(&a) || pkg_decoded_init(&b)))
		abort();
	selectors(data, size);
	const char *why = NULL;
	if (pkg_decode(data, size, sel, N, &a, &why)) {
		if (!why || !*why)
			abort();
		return 0;
	}
	for (size_t i = 0; i < N; i++) {
		const struct coll_value *v = &a.v[i];
		if (v->kind == COLL_DIST && v->dist->count <= UINT32_MAX &&
		    dist_interval(NULL, v->dist, 0, &res))
			abort();
		if (v->kind == COLL_STATIC &&
		    dist_static_interval(v->spec, NULL, v->sdist, &res))
			abort();
	}
	ssize_t len = pkg_encode(a.v, N, out, sizeof out);
	if (len < 0 || pkg_decode(out, (size_t)len, sel, N, &b, &why))
		abort();
	for (size_t i = 0; i < N; i++)
		same(&a.v[i], &b.v[i]);
	return 0;
}
