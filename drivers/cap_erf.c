/*
 * cap_erf.c — Endace ERF trace files without any Endace library.
 *
 * A record is a 16-byte header (little-endian 64-bit timestamp, type,
 * flags, then big-endian rlen, lctr, wlen), optional 8-byte extension
 * headers (chained by the high bit of the type byte and then of each
 * extension header's first byte), a 2-byte pad for the Ethernet types, and
 * the frame.  The timestamp is 32.32 fixed point; it is rounded to the
 * nearest ns, as Wireshark does, so ns -> ERF -> ns round trips exactly.
 * As in libtrace and Wireshark the captured length is rlen minus the framing
 * but never more than wlen: rlen may include padding to 8 bytes, both in
 * fixed-length records and in variable-length ones.
 */
#include <stdlib.h>
#include <string.h>

#include "cap_impl.h"

#define ERF_HDR_LEN 16
#define ERF_EXT_LEN 8
#define ERF_ETH_PAD 2
#define ERF_EXT_MORE 0x80u         /* in the type byte and in each ext hdr */
#define ERF_TYPE_MASK 0x7fu
#define ERF_FLAG_IFACE_MASK 0x03u

enum erf_type {
	ERF_TYPE_HDLC_POS = 1,
	ERF_TYPE_ETH = 2,
	ERF_TYPE_COLOR_ETH = 11,
	ERF_TYPE_DSM_COLOR_ETH = 16,
	ERF_TYPE_COLOR_HASH_ETH = 20,
	ERF_TYPE_IPV4 = 22,
	ERF_TYPE_IPV6 = 23,
	ERF_TYPE_META = 27,
	ERF_TYPE_LAST_DEFINED = 29,    /* 1..29 are assigned */
	ERF_TYPE_PAD = 48
};

static inline uint8_t erf_type(const uint8_t *h)
{
	return h[8] & ERF_TYPE_MASK;
}
static inline bool erf_has_ext(const uint8_t *h)
{
	return (h[8] & ERF_EXT_MORE) != 0;
}
static inline uint8_t erf_flags(const uint8_t *h)
{
	return h[9];
}
static inline uint16_t erf_rlen(const uint8_t *h)
{
	return cap_be16(h + 10);
}
static inline uint16_t erf_lctr(const uint8_t *h)
{
	return cap_be16(h + 12);
}
static inline uint16_t erf_wlen(const uint8_t *h)
{
	return cap_be16(h + 14);
}

static bool erf_type_known(unsigned t)
{
	return (t >= ERF_TYPE_HDLC_POS && t <= ERF_TYPE_LAST_DEFINED) ||
	       t == ERF_TYPE_PAD;
}

static bool erf_type_eth(unsigned t)
{
	return t == ERF_TYPE_ETH || t == ERF_TYPE_COLOR_ETH ||
	       t == ERF_TYPE_DSM_COLOR_ETH || t == ERF_TYPE_COLOR_HASH_ETH;
}

/* The lctr field is a loss counter in these types (a colour in the
 * coloured ones). */
static bool erf_type_has_lctr(unsigned t)
{
	return t == ERF_TYPE_ETH || t == ERF_TYPE_IPV4 || t == ERF_TYPE_IPV6;
}

/* Bytes before the frame: header, extension headers, Ethernet pad; 0 if
 * the extension chain runs past rlen. */
static size_t erf_framing(const uint8_t *h, size_t rlen)
{
	size_t off = ERF_HDR_LEN;
	bool more = erf_has_ext(h);

	while (more) {
		if (off + ERF_EXT_LEN > rlen)
			return 0;
		more = (h[off] & ERF_EXT_MORE) != 0;
		off += ERF_EXT_LEN;
	}
	if (erf_type_eth(erf_type(h)))
		off += ERF_ETH_PAD;
	return off <= rlen ? off : 0;
}

static uint64_t erf_ts_ns(uint64_t ts)
{
	uint64_t sec = ts >> 32;
	uint64_t ns = ((ts & 0xffffffffu) * CAP_NS_PER_SEC + (1ull << 31)) >> 32;

	return sec * CAP_NS_PER_SEC + ns;   /* a carry to the next second is fine */
}

/* Up to this many leading records must look sane to call a file ERF. */
#define ERF_PROBE_RECORDS 4

bool cap_erf_probe(const uint8_t *p, size_t n)
{
	size_t off = 0;

	for (unsigned i = 0; i < ERF_PROBE_RECORDS; i++) {
		const uint8_t *h = p + off;
		size_t rlen;

		if (n - off < ERF_HDR_LEN)
			return i > 0;
		rlen = erf_rlen(h);
		if (!erf_type_known(erf_type(h)) || rlen < ERF_HDR_LEN)
			return false;
		if (rlen > n - off)
			return true;       /* the rest is beyond what we saw */
		if (erf_framing(h, rlen) == 0)
			return false;
		off += rlen;
	}
	return true;
}

struct erf {
	struct cap c;              /* first */
	struct cap_rbuf rb;
};

static int erf_next(struct cap *c, struct pkt *pkts, unsigned max)
{
	struct erf *e = (struct erf *)c;
	unsigned n = 0;

	while (n < max) {
		enum cap_rb_status s = cap_rbuf_need(&e->rb, ERF_HDR_LEN, n == 0);
		const uint8_t *h;
		size_t rlen, framing;
		unsigned type;
		uint32_t caplen;
		struct pkt *p;

		if (s == CAP_RB_FULL || s == CAP_RB_EOF)
			break;
		if (s != CAP_RB_OK)
			return n > 0 ? (int)n : cap_rbuf_fail(c, &e->rb, s, "ERF record header");
		h = cap_rbuf_ptr(&e->rb);
		rlen = erf_rlen(h);
		if (rlen < ERF_HDR_LEN) {
			/* No way to find the next record: the file is unusable
			 * from here. */
			if (n > 0)
				break;
			cap_seterr(c, "%s: corrupt ERF record at offset %llu "
			           "(rlen %zu)", e->rb.path,
			           (unsigned long long)e->rb.off, rlen);
			return -1;
		}
		s = cap_rbuf_need(&e->rb, rlen, n == 0);
		if (s == CAP_RB_FULL)
			break;
		if (s != CAP_RB_OK)
			return n > 0 ? (int)n : cap_rbuf_fail(c, &e->rb, s, "ERF record");
		h = cap_rbuf_ptr(&e->rb);
		type = erf_type(h);
		if (type == ERF_TYPE_PAD || type == ERF_TYPE_META) {
			cap_rbuf_skip(&e->rb, rlen);
			continue;
		}
		framing = erf_framing(h, rlen);
		if (framing == 0 || !(erf_type_eth(type) || type == ERF_TYPE_IPV4 ||
		                      type == ERF_TYPE_IPV6)) {
			e->c.st.bad++;
			cap_rbuf_skip(&e->rb, rlen);
			continue;
		}
		if (erf_type_has_lctr(type))
			e->c.st.drops += erf_lctr(h);
		caplen = (uint32_t)(rlen - framing);
		if (caplen > erf_wlen(h))
			caplen = erf_wlen(h);
		p = &pkts[n++];
		p->ts_ns = erf_ts_ns(cap_le64(h));
		p->caplen = caplen;
		p->wirelen = erf_wlen(h);
		p->data = h + framing;
		p->ifindex = (uint16_t)((erf_flags(h) & ERF_FLAG_IFACE_MASK) + 1);
		p->link = erf_type_eth(type) ? PKT_LINK_ETHERNET :
		          type == ERF_TYPE_IPV4 ? PKT_LINK_IPV4 : PKT_LINK_IPV6;
		e->c.st.packets++;
		e->c.st.bytes += p->wirelen;
		cap_rbuf_skip(&e->rb, rlen);
	}
	return (int)n;
}

static void erf_stats(struct cap *c, struct cap_stats *st)
{
	struct erf *e = (struct erf *)c;

	cap_rbuf_progress(&e->rb, st);
}

static void erf_close(struct cap *c)
{
	struct erf *e = (struct erf *)c;

	cap_rbuf_close(&e->rb);
	free(e);
}

static const struct cap_ops erf_ops = {
	.name = "erf",
	.next_batch = erf_next,
	.stats = erf_stats,
	.close = erf_close,
};

struct cap *cap_erf_open(struct cap_rbuf *rb, char *err, size_t errlen)
{
	struct erf *e = calloc(1, sizeof *e);

	if (e == NULL) {
		cap_fmterr(err, errlen, "%s: out of memory", rb->path);
		cap_rbuf_close(rb);
		return NULL;
	}
	e->c.ops = &erf_ops;
	e->rb = *rb;
	return &e->c;
}
