/* pkg.c — flow data packages (see pkg.h; the encodings: doc/packages.md). */
#include "pkg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "ber.h"

#define OCTET_BITS       8
#define SUBID_OCTET_MAX  255u   /* a narrow selector entry, one octet */
#define WIDE_OCTETS      2      /* octets per attribute in a wide selector */
#define TIMETICKS_MAX    UINT32_MAX

/* Static distributions: the rule's 6 mask and 6 value octets, then the
 * counters, 8 octets each (RFC 2724 §4 and doc/packages.md). */
#define STATIC_HEAD      (2 * DIST_RULE_BYTES)
#define STATIC_COUNTER   8

/* Dynamic distributions: transform octet, version octet, then varints. */
#define DYN_HEAD         2
#define VARINT_MORE      0x80   /* LEB128: another octet follows */
#define VARINT_BITS      7
#define VARINT_MAX       10     /* octets of a 64-bit LEB128 number */

/* ---- element syntax per attribute ---- */

enum pkg_elem pkg_elem_of(unsigned attr)
{
	const struct attr_info *a = attr_by_num(attr);
	if (!a)
		return PKG_EL_OCTETS;
	switch (a->type) {
	case ATTR_T_INT:
	case ATTR_T_VARIABLE:
		return PKG_EL_INTEGER;
	case ATTR_T_COUNTER:
	case ATTR_T_TIME_NS:
		return PKG_EL_COUNTER64;
	case ATTR_T_TIME:
		return PKG_EL_TIMETICKS;
	case ATTR_T_DIST:
		return PKG_EL_DIST;
	default:   /* addresses, ports, masks, ids, Null */
		return PKG_EL_OCTETS;
	}
}

unsigned pkg_number_width(unsigned attr)
{
	switch (pkg_elem_of(attr)) {
	case PKG_EL_INTEGER:
	case PKG_EL_COUNTER64:
	case PKG_EL_TIMETICKS:
		break;
	default:
		return 0;
	}
	/* the table says 1 octet (the MIB's 1..255); the .dif writer has
	 * always written 4 */
	if (attr == ATTR_FLOW_RULESET)
		return 4;
	return attr_by_num(attr)->width;
}

/* Longest OCTET STRING value of an attribute: its table width (peer
 * addresses: 16, IPv4 ones use 4), or any .dif value for attributes ntm
 * does not know. */
static unsigned octets_max(unsigned attr)
{
	const struct attr_info *a = attr_by_num(attr);
	return a ? a->width : DIF_VALUE_MAX;
}

/* ---- small helpers ---- */

static uint64_t be_get(const uint8_t *p, unsigned w)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v = v << OCTET_BITS | p[i];
	return v;
}

static void be_put(uint8_t *p, uint64_t v, unsigned w)
{
	for (unsigned i = w; i-- > 0; v >>= OCTET_BITS)
		p[i] = (uint8_t)v;
}

static void put_varint(struct ber_writer *w, uint64_t v)
{
	uint8_t b[VARINT_MAX];
	size_t n = 0;
	do {
		uint8_t o = v & ((1u << VARINT_BITS) - 1);
		v >>= VARINT_BITS;
		b[n++] = v ? (uint8_t)(o | VARINT_MORE) : o;
	} while (v);
	ber_put_raw(w, b, n);
}

/* A reader over the contents of one distribution element. */
struct rd {
	const uint8_t *p;
	size_t len, pos;
};

static int get_varint(struct rd *r, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < VARINT_MAX; i++) {
		if (r->pos >= r->len)
			return -1;
		uint8_t o = r->p[r->pos++];
		uint64_t bits = o & ((1u << VARINT_BITS) - 1);
		unsigned shift = i * VARINT_BITS;
		/* the 10th octet may only carry bit 63 */
		if (shift == (VARINT_MAX - 1) * VARINT_BITS && bits > 1)
			return -1;
		v |= bits << shift;
		if (!(o & VARINT_MORE)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static int get_varint32(struct rd *r, uint32_t *out)
{
	uint64_t v;
	if (get_varint(r, &v) || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* ---- distributions ---- */

/* ntm's dynamic turnaround distribution: count, the ring's valid values
 * oldest first, the histogram's nonzero bins as (gap, count) pairs. */
static void put_dynamic(struct ber_writer *w, const struct dist *d)
{
	uint8_t head[DYN_HEAD] = { PKG_DIST_DYNAMIC, PKG_DIST_VERSION };
	ber_put_raw(w, head, sizeof head);
	put_varint(w, d->count);
	uint64_t n = d->count < DIST_RING ? d->count : DIST_RING;
	for (uint64_t k = d->count - n; k < d->count; k++)
		put_varint(w, d->ring_v[k % DIST_RING]);
	unsigned nz = 0;
	for (unsigned b = 0; b < DIST_BINS; b++)
		nz += d->bins[b] != 0;
	put_varint(w, nz);
	unsigned next = 0;   /* the bin after the previous nonzero one */
	for (unsigned b = 0; b < DIST_BINS; b++) {
		if (!d->bins[b])
			continue;
		put_varint(w, b - next);
		put_varint(w, d->bins[b]);
		next = b + 1;
	}
}

/* RFC 2724 §4: the rule's mask and value fields, then the counters. */
static void put_static(struct ber_writer *w, const struct dist_static_spec *s,
		       const struct dist_static *d)
{
	uint8_t head[STATIC_HEAD] = {
		s->transform, s->scale,
		(uint8_t)(s->lower >> OCTET_BITS), (uint8_t)s->lower,
		(uint8_t)(s->upper >> OCTET_BITS), (uint8_t)s->upper,
		s->buckets, s->param1,
		(uint8_t)(s->param2 >> OCTET_BITS), (uint8_t)s->param2,
		(uint8_t)(s->param3 >> OCTET_BITS), (uint8_t)s->param3,
	};
	ber_put_raw(w, head, sizeof head);
	for (unsigned i = 0; i <= s->buckets; i++) {
		uint8_t c[STATIC_COUNTER];
		be_put(c, d->counts[i], STATIC_COUNTER);
		ber_put_raw(w, c, sizeof c);
	}
}

static int get_dynamic(struct rd *r, struct dist *d, const char **why)
{
	dist_init(d);
	if (r->len < DYN_HEAD) {
		*why = "truncated distribution";
		return -1;
	}
	if (r->p[1] != PKG_DIST_VERSION) {
		*why = "unknown dynamic distribution version";
		return -1;
	}
	r->pos = DYN_HEAD;
	if (get_varint(r, &d->count)) {
		*why = "bad sample count";
		return -1;
	}
	uint64_t n = d->count < DIST_RING ? d->count : DIST_RING;
	for (uint64_t k = d->count - n; k < d->count; k++)
		if (get_varint32(r, &d->ring_v[k % DIST_RING])) {
			*why = "bad or missing ring value";
			return -1;
		}
	uint64_t nz;
	if (get_varint(r, &nz) || nz > DIST_BINS) {
		*why = "bad histogram bin count";
		return -1;
	}
	uint64_t next = 0, sum = 0;
	for (uint64_t i = 0; i < nz; i++) {
		uint64_t gap;
		uint32_t c;
		if (get_varint(r, &gap) || gap >= DIST_BINS - next) {
			*why = "histogram bin out of range";
			return -1;
		}
		if (get_varint32(r, &c) || c == 0) {
			*why = "bad histogram count";
			return -1;
		}
		d->bins[next + gap] = c;
		sum += c;
		next += gap + 1;
	}
	if (r->pos != r->len) {
		*why = "octets after the histogram";
		return -1;
	}
	/* bins wrap at 2^32 each, so they hold the count less some 2^32s */
	if (sum > d->count || (uint32_t)sum != (uint32_t)d->count) {
		*why = "histogram does not add up to the sample count";
		return -1;
	}
	return 0;
}

static int get_static(struct rd *r, struct dist_static_spec *s,
		      struct dist_static *d, const char **why)
{
	if (r->len < STATIC_HEAD) {
		*why = "truncated distribution parameters";
		return -1;
	}
	if (dist_static_spec_init(s, r->p, r->p + DIST_RULE_BYTES, why))
		return -1;
	size_t counters = s->buckets + 1u;
	if (r->len != STATIC_HEAD + counters * STATIC_COUNTER) {
		*why = "counter octets do not match the bucket count";
		return -1;
	}
	dist_static_init(d);
	for (size_t i = 0; i < counters; i++) {
		uint64_t c = be_get(r->p + STATIC_HEAD + i * STATIC_COUNTER, STATIC_COUNTER);
		if (c > UINT64_MAX - d->n) {
			*why = "counters add up to more than 2^64 - 1";
			return -1;
		}
		d->counts[i] = c;
		d->n += c;
	}
	return 0;
}

/* ---- packages ---- */

static int encode_value(struct ber_writer *w, const struct coll_value *v)
{
	enum pkg_elem el = pkg_elem_of(v->attr);
	switch (v->kind) {
	case COLL_NONE:
		ber_put_null(w);
		return 0;
	case COLL_BYTES:
		if (v->width > DIF_VALUE_MAX)
			return -1;
		if (el == PKG_EL_OCTETS) {
			if (v->width > octets_max(v->attr))
				return -1;
			ber_put_octets(w, BER_OCTET_STRING, v->bytes, v->width);
			return 0;
		}
		if (el == PKG_EL_DIST || v->width > sizeof(uint64_t))
			return -1;
		uint64_t x = be_get(v->bytes, v->width);
		unsigned nw = pkg_number_width(v->attr);
		/* what pkg_decode would refuse is not sent */
		if (nw < sizeof x && x >> (nw * OCTET_BITS))
			return -1;
		if (el == PKG_EL_INTEGER) {
			ber_put_uint(w, BER_INTEGER, x);
		} else if (el == PKG_EL_COUNTER64) {
			ber_put_uint(w, BER_COUNTER64, x);
		} else {
			if (x > TIMETICKS_MAX)
				return -1;
			ber_put_uint(w, BER_TIMETICKS, x);
		}
		return 0;
	case COLL_DIST: {
		if (el != PKG_EL_DIST || !v->dist)
			return -1;
		size_t mark = ber_begin(w);
		put_dynamic(w, v->dist);
		ber_end(w, mark, BER_OCTET_STRING);
		return 0;
	}
	case COLL_STATIC: {
		if (el != PKG_EL_DIST || !v->spec || !v->sdist)
			return -1;
		size_t mark = ber_begin(w);
		put_static(w, v->spec, v->sdist);
		ber_end(w, mark, BER_OCTET_STRING);
		return 0;
	}
	default:
		return -1;
	}
}

ssize_t pkg_encode(const struct coll_value *vals, size_t n,
		   uint8_t *buf, size_t cap)
{
	struct ber_writer w;
	ber_writer_init(&w, buf, cap);
	size_t mark = ber_begin(&w);
	for (size_t i = 0; i < n; i++)
		if (encode_value(&w, &vals[i])) {
			errno = EINVAL;
			return -1;
		}
	ber_end(&w, mark, BER_SEQUENCE);
	if (w.failed) {
		errno = ENOSPC;
		return -1;
	}
	return (ssize_t)w.len;
}

int pkg_decoded_init(struct pkg_decoded *d)
{
	memset(d, 0, sizeof *d);
	d->dists = calloc(PKG_DISTS_MAX, sizeof *d->dists);
	d->sdists = calloc(PKG_DISTS_MAX, sizeof *d->sdists);
	d->specs = calloc(PKG_DISTS_MAX, sizeof *d->specs);
	if (!d->dists || !d->sdists || !d->specs) {
		pkg_decoded_fini(d);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void pkg_decoded_fini(struct pkg_decoded *d)
{
	free(d->dists);
	free(d->sdists);
	free(d->specs);
	d->dists = NULL;
	d->sdists = NULL;
	d->specs = NULL;
	d->n = 0;
}

/* Set out->why to "element I (attribute A): TEXT" and return -1. */
static int bad(struct pkg_decoded *out, const char **why, size_t i,
	       unsigned attr, const char *fmt, ...)
{
	int k = snprintf(out->why, sizeof out->why, "element %zu (attribute %u): ",
			 i + 1, attr);
	if (k > 0 && (size_t)k < sizeof out->why) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(out->why + k, sizeof out->why - (size_t)k, fmt, ap);
		va_end(ap);
	}
	if (why)
		*why = out->why;
	return -1;
}

static int bad_pkg(struct pkg_decoded *out, const char **why, const char *text)
{
	snprintf(out->why, sizeof out->why, "%s", text);
	if (why)
		*why = out->why;
	return -1;
}

/* Element i of the package (tlv) for attribute attr into out->v[i];
 * *n_dist counts the distribution slots used. */
static int decode_value(struct pkg_decoded *out, size_t i, unsigned attr,
			const struct ber_tlv *t, size_t *n_dist, const char **why)
{
	struct coll_value *v = &out->v[i];
	memset(v, 0, sizeof *v);
	v->attr = (uint16_t)attr;
	v->kind = COLL_NONE;
	if (t->tag == BER_NULL) {
		if (t->len)
			return bad(out, why, i, attr, "NULL with contents");
		return 0;
	}
	enum pkg_elem el = pkg_elem_of(attr);
	const char *e = NULL;
	if (el == PKG_EL_OCTETS || el == PKG_EL_DIST) {
		if (t->tag != BER_OCTET_STRING)
			return bad(out, why, i, attr, "expected OCTET STRING, got %s",
				   ber_tag_name(t->tag));
	} else if (!ber_is_number(t->tag)) {
		return bad(out, why, i, attr, "expected a number, got %s",
			   ber_tag_name(t->tag));
	}
	if (el == PKG_EL_OCTETS) {
		if (t->len > octets_max(attr))
			return bad(out, why, i, attr, "%zu octets, at most %u expected",
				   t->len, octets_max(attr));
		v->kind = COLL_BYTES;
		v->width = (uint8_t)t->len;
		if (t->len)
			memcpy(v->bytes, t->v, t->len);
		return 0;
	}
	if (el != PKG_EL_DIST) {
		uint64_t x;
		if (ber_get_uint(t, &x, &e))
			return bad(out, why, i, attr, "%s", e);
		unsigned w = pkg_number_width(attr);
		if (w < sizeof x && x >> (w * OCTET_BITS))
			return bad(out, why, i, attr, "%llu does not fit %u octets",
				   (unsigned long long)x, w);
		coll_value_uint(v, attr, x, w);
		return 0;
	}
	if (*n_dist >= PKG_DISTS_MAX)
		return bad(out, why, i, attr, "more than %u distributions",
			   (unsigned)PKG_DISTS_MAX);
	size_t k = (*n_dist)++;
	struct rd r = { t->v, t->len, 0 };
	if (t->len == 0)
		return bad(out, why, i, attr, "empty distribution");
	if (t->v[0] == PKG_DIST_DYNAMIC) {
		if (get_dynamic(&r, &out->dists[k], &e))
			return bad(out, why, i, attr, "%s", e);
		v->kind = COLL_DIST;
		v->dist = &out->dists[k];
		return 0;
	}
	if (get_static(&r, &out->specs[k], &out->sdists[k], &e))
		return bad(out, why, i, attr, "%s", e);
	v->kind = COLL_STATIC;
	v->spec = &out->specs[k];
	v->sdist = &out->sdists[k];
	return 0;
}

int pkg_decode(const uint8_t *buf, size_t len, const uint16_t *attrs,
	       size_t n, struct pkg_decoded *out, const char **why)
{
	out->n = 0;
	if (n > PKG_ATTRS_MAX)
		return bad_pkg(out, why, "selector longer than 64 attributes");
	if (!out->dists || !out->sdists || !out->specs)
		return bad_pkg(out, why, "decoder not initialised");
	struct ber_tlv seq;
	size_t used;
	const char *e = NULL;
	if (ber_read(buf, len, &seq, &used, &e)) {
		snprintf(out->why, sizeof out->why, "package: %s", e);
		if (why)
			*why = out->why;
		return -1;
	}
	if (seq.tag != BER_SEQUENCE) {
		snprintf(out->why, sizeof out->why, "package: expected SEQUENCE, got %s",
			 ber_tag_name(seq.tag));
		if (why)
			*why = out->why;
		return -1;
	}
	if (used != len)
		return bad_pkg(out, why, "octets after the package's SEQUENCE");
	size_t pos = 0, n_dist = 0;
	for (size_t i = 0; i < n; i++) {
		struct ber_tlv t;
		if (pos == seq.len)
			return bad(out, why, i, attrs[i], "missing: the package has %zu elements", i);
		if (ber_read(seq.v + pos, seq.len - pos, &t, &used, &e))
			return bad(out, why, i, attrs[i], "%s", e);
		pos += used;
		if (decode_value(out, i, attrs[i], &t, &n_dist, why))
			return -1;
	}
	if (pos != seq.len)
		return bad_pkg(out, why, "more elements than the selector has attributes");
	out->n = n;
	return 0;
}

/* ---- package instance index ---- */

size_t pkg_index_encode(bool wide, const uint16_t *attrs, size_t n,
			uint32_t set, uint32_t time_cs, uint32_t index,
			uint32_t *out, size_t cap)
{
	size_t per = wide ? WIDE_OCTETS : 1;
	size_t need = 1 + n * per + 3;   /* length, selector, set, time, index */
	if (n == 0 || n > PKG_ATTRS_MAX || cap < need)
		return 0;
	size_t k = 0;
	out[k++] = (uint32_t)(n * per);
	for (size_t i = 0; i < n; i++) {
		if (wide) {
			out[k++] = attrs[i] >> OCTET_BITS;
			out[k++] = attrs[i] & SUBID_OCTET_MAX;
		} else {
			if (attrs[i] > SUBID_OCTET_MAX)
				return 0;
			out[k++] = attrs[i];
		}
	}
	out[k++] = set;
	out[k++] = time_cs;
	out[k++] = index;
	return k;
}

size_t pkg_selector_decode(bool wide, const uint32_t *sub, size_t len,
			   uint16_t *attrs, size_t *n)
{
	size_t per = wide ? WIDE_OCTETS : 1;
	if (len == 0)
		return 0;
	uint32_t octets = sub[0];
	if (octets == 0 || octets % per || octets / per > PKG_ATTRS_MAX ||
	    octets > len - 1)
		return 0;
	for (size_t i = 0; i < octets; i++)
		if (sub[1 + i] > SUBID_OCTET_MAX)
			return 0;
	size_t count = octets / per;
	for (size_t i = 0; i < count; i++)
		attrs[i] = wide ? (uint16_t)(sub[1 + 2 * i] << OCTET_BITS | sub[2 + 2 * i])
				: (uint16_t)sub[1 + i];
	*n = count;
	return 1 + octets;
}
