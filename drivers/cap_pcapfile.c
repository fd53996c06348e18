/*
 * cap_pcapfile.c — classic pcap trace files read without libpcap, so that
 * packets point straight into the reader's buffer and nanosecond files keep
 * every digit.  Both magics (µs, ns) in both byte orders.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cap_impl.h"

/* File header: magic, version 2.4, thiszone, sigfigs, snaplen, linktype. */
#define PCAP_FILE_HDR_LEN 24
#define PCAP_OFF_VERSION_MAJOR 4
#define PCAP_OFF_LINKTYPE 20
#define PCAP_VERSION_MAJOR 2
/* The upper bits of the linktype field carry FCS information. */
#define PCAP_LINKTYPE_MASK 0x0fffffffu
/* Record header: ts_sec, ts_usec|ts_nsec, incl_len, orig_len. */
#define PCAP_REC_HDR_LEN 16

/* The records come from a mapped window of the file (or a 4 MiB read(2)
 * buffer, more than L2 holds), in no cache when their turn comes: the
 * batch loop stalled on every record header (75 % of its cycles on the
 * bench trace).  decode_packet_cursor() asks for the lines of the records
 * a batch or more ahead, one packet at a time (meter/decode.c,
 * DECODE_STREAM_AHEAD); this loop asked for them itself before, but
 * issuing a batch's prefetches in one burst stalled it on them. */

struct pcapfile {
	struct cap c;              /* first */
	struct cap_rbuf rb;
	bool be;                   /* the file's byte order is big-endian */
	uint32_t frac_to_ns;       /* 1000 for µs files, 1 for ns files */
	uint16_t link;
};

/* struct pkt's wirelen, ifindex and link: neighbours, stored as one
 * 8-byte word whose wirelen part is a shift of it. */
#define PCAP_PKT_WORD_OFF offsetof(struct pkt, wirelen)
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PCAP_WIRELEN_SHIFT 32
#else
#define PCAP_WIRELEN_SHIFT 0
#endif
_Static_assert(offsetof(struct pkt, ifindex) == PCAP_PKT_WORD_OFF + sizeof(uint32_t) &&
               offsetof(struct pkt, link) == offsetof(struct pkt, ifindex) + sizeof(uint16_t),
               "struct pkt's wirelen, ifindex and link are neighbours");

/* What every record of a file shares, copied out of struct pcapfile so
 * that the stores into the batch (which may alias it, as far as the
 * compiler knows) do not reload it for each record. */
struct pcapfile_form {
	bool be;                   /* f->be: callers fix it at compile time */
	uint32_t frac_to_ns;
	uint64_t if_link;          /* the word at PCAP_PKT_WORD_OFF with
	                              ifindex and link set, wirelen 0 */
};

static inline size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* The packet of the record at h (its header checked by the caller). */
static inline void record_to_pkt(struct pcapfile_form form, const uint8_t *h,
                                 uint32_t incl, uint32_t orig, struct pkt *p)
{
	p->ts_ns = (uint64_t)cap_rd32(h, form.be) * CAP_NS_PER_SEC +
	           (uint64_t)cap_rd32(h + 4, form.be) * form.frac_to_ns;
	/* one integer store for three fields (GCC would otherwise pair
	 * caplen and wirelen in a vector register, which costs more) */
	uint64_t w = form.if_link | (uint64_t)orig << PCAP_WIRELEN_SHIFT;
	memcpy((unsigned char *)p + PCAP_PKT_WORD_OFF, &w, sizeof w);
	p->caplen = incl;
	p->data = h + PCAP_REC_HDR_LEN;
}

static inline struct pcapfile_form form_of(const struct pcapfile *f, bool be)
{
	struct pkt tmpl = { .wirelen = 0, .ifindex = 1, .link = f->link };
	struct pcapfile_form form = { .be = be, .frac_to_ns = f->frac_to_ns };
	memcpy(&form.if_link, (const unsigned char *)&tmpl + PCAP_PKT_WORD_OFF,
	       sizeof form.if_link);
	return form;
}

/*
 * Take pkts[n..max) from the records lying whole in the buffer, with one
 * bounds check per record and the reader and counters updated once for
 * all of them; returns the new n.  It stops at the first record that is
 * cut by the buffer's end or looks corrupt, and at the buffer's last
 * record: pcapfile_next()'s careful path (refill, move, errors) decides
 * about that one.
 */
static inline __attribute__((always_inline)) unsigned
take_buffered_order(struct pcapfile *f, const bool be, struct pkt *pkts,
                    unsigned n, unsigned max)
{
	const struct pcapfile_form form = form_of(f, be);
	const uint8_t *base = cap_rbuf_ptr(&f->rb), *h = base;
	size_t avail = cap_rbuf_avail(&f->rb);
	struct pkt *p = pkts + n, *const p_end = pkts + max;
	uint64_t bytes = 0;

	if (avail < PCAP_REC_HDR_LEN)
		return n;
	/* A record is taken when it ends at or before lim, where the
	 * buffer's last header starts, but at most a largest record and a
	 * header past the first: then it and the next header lie in the
	 * buffer and its incl is at most CAP_RECORD_MAX, one compare per
	 * record, and the loop reads the next header without a check.
	 * Addresses compared as integers: a corrupt incl may put a record's
	 * end far past the buffer. */
	size_t room = min_size(avail, PCAP_REC_HDR_LEN + (size_t)CAP_RECORD_MAX +
	                              PCAP_REC_HDR_LEN) - PCAP_REC_HDR_LEN;
	const uintptr_t lim = (uintptr_t)base + room;
	while (p < p_end) {
		uint32_t incl = cap_rd32(h + 8, be);
		uint32_t orig = cap_rd32(h + 12, be);
		size_t size = PCAP_REC_HDR_LEN + (size_t)incl;

		if ((uintptr_t)h + size > lim)
			break;
		record_to_pkt(form, h, incl, orig, p++);
		bytes += orig;
		h += size;
	}
	unsigned taken = (unsigned)(p - pkts) - n;
	f->c.st.packets += taken;
	f->c.st.bytes += bytes;
	cap_rbuf_skip(&f->rb, (size_t)(h - base));
	return n + taken;
}

/* One copy of the loop per byte order, so that no record asks which. */
static unsigned take_buffered(struct pcapfile *f, struct pkt *pkts,
                              unsigned n, unsigned max)
{
	return f->be ? take_buffered_order(f, true, pkts, n, max)
	             : take_buffered_order(f, false, pkts, n, max);
}

static int pcapfile_next(struct cap *c, struct pkt *pkts, unsigned max)
{
	struct pcapfile *f = (struct pcapfile *)c;
	unsigned n = 0;

	while (n < max) {
		n = take_buffered(f, pkts, n, max);
		if (n == max)
			break;
		/* one record the buffer does not hold whole: read more (moving
		 * the buffer only for the batch's first record), or report */
		enum cap_rb_status s = cap_rbuf_need(&f->rb, PCAP_REC_HDR_LEN, n == 0);
		const uint8_t *h;
		uint32_t incl, orig;

		if (s == CAP_RB_FULL || s == CAP_RB_EOF)
			break;
		if (s != CAP_RB_OK)
			return n > 0 ? (int)n : cap_rbuf_fail(c, &f->rb, s, "pcap record header");
		h = cap_rbuf_ptr(&f->rb);
		incl = cap_rd32(h + 8, f->be);
		orig = cap_rd32(h + 12, f->be);
		if (incl > CAP_RECORD_MAX) {
			if (n > 0)
				break;
			cap_seterr(c, "%s: corrupt pcap record at offset %llu "
			           "(captured length %u)", f->rb.path,
			           (unsigned long long)f->rb.off, incl);
			return -1;
		}
		s = cap_rbuf_need(&f->rb, PCAP_REC_HDR_LEN + (size_t)incl, n == 0);
		if (s == CAP_RB_FULL)
			break;
		if (s != CAP_RB_OK)
			return n > 0 ? (int)n : cap_rbuf_fail(c, &f->rb, s, "pcap record");
		h = cap_rbuf_ptr(&f->rb);   /* the buffer may have moved */
		record_to_pkt(form_of(f, f->be), h, incl, orig, &pkts[n++]);
		f->c.st.packets++;
		f->c.st.bytes += orig;
		cap_rbuf_skip(&f->rb, PCAP_REC_HDR_LEN + (size_t)incl);
	}
	return (int)n;
}

static void pcapfile_stats(struct cap *c, struct cap_stats *st)
{
	struct pcapfile *f = (struct pcapfile *)c;

	cap_rbuf_progress(&f->rb, st);
}

static void pcapfile_close(struct cap *c)
{
	struct pcapfile *f = (struct pcapfile *)c;

	cap_rbuf_close(&f->rb);
	free(f);
}

static const struct cap_ops pcapfile_ops = {
	.name = "pcap",
	.next_batch = pcapfile_next,
	.stats = pcapfile_stats,
	.close = pcapfile_close,
};

struct cap *cap_pcapfile_open(struct cap_rbuf *rb, char *err, size_t errlen)
{
	struct pcapfile *f;
	const uint8_t *h;
	uint32_t magic_le;

	if (cap_rbuf_avail(rb) < PCAP_FILE_HDR_LEN) {
		cap_fmterr(err, errlen, "%s: truncated pcap file header", rb->path);
		cap_rbuf_close(rb);
		return NULL;
	}
	f = calloc(1, sizeof *f);
	if (f == NULL) {
		cap_fmterr(err, errlen, "%s: out of memory", rb->path);
		cap_rbuf_close(rb);
		return NULL;
	}
	f->c.ops = &pcapfile_ops;
	f->rb = *rb;
	h = cap_rbuf_ptr(&f->rb);
	magic_le = cap_le32(h);
	f->be = magic_le != 0xa1b2c3d4u && magic_le != 0xa1b23c4du;
	f->frac_to_ns = cap_rd32(h, f->be) == 0xa1b23c4du ? 1 : 1000;
	if (cap_rd16(h + PCAP_OFF_VERSION_MAJOR, f->be) != PCAP_VERSION_MAJOR) {
		cap_fmterr(err, errlen, "%s: unsupported pcap version %u",
		           rb->path, cap_rd16(h + PCAP_OFF_VERSION_MAJOR, f->be));
		cap_rbuf_close(&f->rb);
		free(f);
		return NULL;
	}
	f->link = (uint16_t)(cap_rd32(h + PCAP_OFF_LINKTYPE, f->be) &
	                     PCAP_LINKTYPE_MASK);
	cap_rbuf_skip(&f->rb, PCAP_FILE_HDR_LEN);
	return &f->c;
}
