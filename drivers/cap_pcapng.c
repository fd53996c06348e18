/*
 * cap_pcapng.c — pcapng trace files, read without libpcap because libpcap
 * neither tells which interface a packet came from nor accepts interfaces
 * with different link types.  Handles several sections (each with its own
 * byte order), per-interface link type, if_tsresol and if_tsoffset, the
 * Enhanced, Simple and obsolete Packet Blocks, and if_drop counters from
 * Interface Statistics Blocks.
 */
#include <stdlib.h>
#include <string.h>

#include "cap_impl.h"

enum {
	NG_BT_IDB = 0x00000001,
	NG_BT_PB  = 0x00000002,    /* obsolete Packet Block */
	NG_BT_SPB = 0x00000003,
	NG_BT_ISB = 0x00000005,
	NG_BT_EPB = 0x00000006,
	NG_BT_SHB = 0x0a0d0d0a
};

#define NG_BYTE_ORDER_MAGIC 0x1a2b3c4du
#define NG_VERSION_MAJOR 1
/* type + total length at the front, total length again at the end */
#define NG_BLOCK_OVERHEAD 12
#define NG_HDR_LEN 8
#define NG_SHB_MIN 28
#define NG_IDB_MIN 20              /* linktype, reserved, snaplen */
#define NG_EPB_MIN 32              /* if, ts hi, ts lo, caplen, origlen */
#define NG_PB_MIN 32
#define NG_SPB_MIN 16
#define NG_ISB_MIN 24
#define NG_OPT_ENDOFOPT 0
#define NG_OPT_IF_TSRESOL 9
#define NG_OPT_IF_TSOFFSET 14
#define NG_OPT_ISB_IFDROP 5
#define NG_TSRESOL_POW2 0x80u
#define NG_MAX_IFACES 65535u       /* ifindex is 16 bits */

static inline size_t ng_pad4(size_t n)
{
	return (n + 3u) & ~(size_t)3u;
}

struct ng_iface {
	uint64_t units;            /* timestamp units per second */
	int64_t offset_s;          /* if_tsoffset */
	uint64_t drops;            /* latest isb_ifdrop */
	uint32_t snaplen;
	uint16_t link;
};

struct pcapng {
	struct cap c;              /* first */
	struct cap_rbuf rb;
	bool be;                   /* current section is big-endian */
	struct ng_iface *ifs;
	unsigned n_if, cap_if;
	unsigned section_base;     /* index of the section's first interface */
};

static uint64_t ng_ts_ns(const struct ng_iface *ifc, uint32_t hi, uint32_t lo)
{
	uint64_t ts = (uint64_t)hi << 32 | lo;
	uint64_t ns;

	if (ifc->units == CAP_NS_PER_SEC)
		ns = ts;
	else if (ifc->units == 1000000u)
		ns = ts * 1000u;
	else
		ns = ts / ifc->units * CAP_NS_PER_SEC +
		     (uint64_t)(((unsigned __int128)(ts % ifc->units) *
		                 CAP_NS_PER_SEC + ifc->units / 2) / ifc->units);
	/* unsigned arithmetic: a negative offset wraps to a subtraction */
	return ns + (uint64_t)ifc->offset_s * CAP_NS_PER_SEC;
}

/* Walk the options in [p, end); calls back per option.  Returns -1 if an
 * option runs past the end. */
typedef void (*ng_opt_fn)(void *arg, uint16_t code, const uint8_t *v,
                          uint16_t len, bool be);
static int ng_options(const uint8_t *p, const uint8_t *end, bool be,
                      ng_opt_fn fn, void *arg)
{
	while (end - p >= 4) {
		uint16_t code = cap_rd16(p, be), len = cap_rd16(p + 2, be);

		if (code == NG_OPT_ENDOFOPT)
			return 0;
		if ((size_t)(end - p - 4) < len)
			return -1;
		fn(arg, code, p + 4, len, be);
		p += 4 + ng_pad4(len);
	}
	return 0;
}

static uint64_t ng_rd64(const uint8_t *v, bool be)
{
	/* pcapng 64-bit values are in the section's byte order */
	return be ? (uint64_t)cap_be32(v) << 32 | cap_be32(v + 4) : cap_le64(v);
}

struct idb_opts {
	int bad;
	struct ng_iface *ifc;
};

static void idb_opt(void *arg, uint16_t code, const uint8_t *v, uint16_t len,
                    bool be)
{
	struct idb_opts *o = arg;

	if (code == NG_OPT_IF_TSRESOL && len >= 1) {
		unsigned e = v[0] & ~NG_TSRESOL_POW2;
		uint64_t u = 1;

		if (v[0] & NG_TSRESOL_POW2) {
			if (e > 63) {
				o->bad = 1;
				return;
			}
			u <<= e;
		} else {
			if (e > 19) {
				o->bad = 1;
				return;
			}
			while (e-- > 0)
				u *= 10;
		}
		o->ifc->units = u;
	} else if (code == NG_OPT_IF_TSOFFSET && len >= 8) {
		o->ifc->offset_s = (int64_t)ng_rd64(v, be);
	}
}

static void isb_opt(void *arg, uint16_t code, const uint8_t *v, uint16_t len,
                    bool be)
{
	if (code == NG_OPT_ISB_IFDROP && len >= 8)
		*(uint64_t *)arg = ng_rd64(v, be);
}

static int ng_add_iface(struct pcapng *g, const uint8_t *b, uint32_t len)
{
	struct idb_opts o = { 0 };
	struct ng_iface *ifc;

	if (len < NG_IDB_MIN) {
		cap_seterr(&g->c, "%s: interface description block too short at "
		           "offset %llu", g->rb.path, (unsigned long long)g->rb.off);
		return -1;
	}
	if (g->n_if >= NG_MAX_IFACES) {
		cap_seterr(&g->c, "%s: more than %u interfaces", g->rb.path,
		           NG_MAX_IFACES);
		return -1;
	}
	if (g->n_if == g->cap_if) {
		unsigned ncap = g->cap_if ? g->cap_if * 2 : 8;
		struct ng_iface *n = realloc(g->ifs, ncap * sizeof *n);

		if (n == NULL) {
			cap_seterr(&g->c, "%s: out of memory", g->rb.path);
			return -1;
		}
		g->ifs = n;
		g->cap_if = ncap;
	}
	ifc = &g->ifs[g->n_if];
	memset(ifc, 0, sizeof *ifc);
	ifc->link = cap_rd16(b + 8, g->be);
	ifc->snaplen = cap_rd32(b + 12, g->be);
	ifc->units = 1000000u;     /* default resolution: microseconds */
	o.ifc = ifc;
	if (ng_options(b + 16, b + len - 4, g->be, idb_opt, &o) < 0 || o.bad) {
		cap_seterr(&g->c, "%s: bad interface options at offset %llu",
		           g->rb.path, (unsigned long long)g->rb.off);
		return -1;
	}
	g->n_if++;
	return 0;
}

/* The section-relative interface id, or NULL (a bad record). */
static struct ng_iface *ng_iface(struct pcapng *g, uint32_t id, unsigned *index)
{
	if (id >= g->n_if - g->section_base)
		return NULL;
	*index = g->section_base + id;
	return &g->ifs[*index];
}

/* Read the Section Header Block at the reader; sets the byte order. */
static int ng_section(struct pcapng *g, bool may_move, uint32_t *blen)
{
	enum cap_rb_status s = cap_rbuf_need(&g->rb, 12, may_move);
	const uint8_t *b;

	if (s != CAP_RB_OK)
		return s == CAP_RB_FULL ? 1 : cap_rbuf_fail(&g->c, &g->rb, s, "pcapng section header");
	b = cap_rbuf_ptr(&g->rb);
	if (cap_be32(b + 8) == NG_BYTE_ORDER_MAGIC)
		g->be = true;
	else if (cap_le32(b + 8) == NG_BYTE_ORDER_MAGIC)
		g->be = false;
	else {
		cap_seterr(&g->c, "%s: bad pcapng byte-order magic at offset %llu",
		           g->rb.path, (unsigned long long)g->rb.off);
		return -1;
	}
	*blen = cap_rd32(b + 4, g->be);
	return 0;
}

static int pcapng_next(struct cap *c, struct pkt *pkts, unsigned max)
{
	struct pcapng *g = (struct pcapng *)c;
	unsigned n = 0;

	while (n < max) {
		bool mv = n == 0;
		enum cap_rb_status s = cap_rbuf_need(&g->rb, NG_HDR_LEN, mv);
		const uint8_t *b;
		uint32_t type, blen = 0;

		if (s == CAP_RB_FULL || s == CAP_RB_EOF)
			break;
		if (s != CAP_RB_OK)
			return n > 0 ? (int)n : cap_rbuf_fail(c, &g->rb, s, "pcapng block header");
		b = cap_rbuf_ptr(&g->rb);
		type = cap_rd32(b, g->be);
		if (type == NG_BT_SHB) {
			int r = ng_section(g, mv, &blen);

			if (r > 0)
				break;
			if (r < 0)
				return n > 0 ? (int)n : -1;
		} else {
			blen = cap_rd32(b + 4, g->be);
		}
		if (blen < NG_BLOCK_OVERHEAD || blen % 4 != 0 ||
		    blen > CAP_RECORD_MAX) {
			if (n > 0)
				break;
			cap_seterr(c, "%s: corrupt pcapng block at offset %llu "
			           "(length %u)", g->rb.path,
			           (unsigned long long)g->rb.off, blen);
			return -1;
		}
		s = cap_rbuf_need(&g->rb, blen, mv);
		if (s == CAP_RB_FULL)
			break;
		if (s != CAP_RB_OK)
			return n > 0 ? (int)n : cap_rbuf_fail(c, &g->rb, s, "pcapng block");
		b = cap_rbuf_ptr(&g->rb);
		if (cap_rd32(b + blen - 4, g->be) != blen) {
			if (n > 0)
				break;
			cap_seterr(c, "%s: pcapng block at offset %llu: trailing "
			           "length differs", g->rb.path,
			           (unsigned long long)g->rb.off);
			return -1;
		}

		switch (type) {
		case NG_BT_SHB:
			if (blen < NG_SHB_MIN ||
			    cap_rd16(b + 12, g->be) != NG_VERSION_MAJOR) {
				if (n > 0)
					goto out;
				cap_seterr(c, "%s: unsupported pcapng section at "
				           "offset %llu", g->rb.path,
				           (unsigned long long)g->rb.off);
				return -1;
			}
			g->section_base = g->n_if;
			break;
		case NG_BT_IDB:
			if (ng_add_iface(g, b, blen) < 0)
				return n > 0 ? (int)n : -1;
			break;
		case NG_BT_EPB:
		case NG_BT_PB: {
			bool epb = type == NG_BT_EPB;
			uint32_t id = epb ? cap_rd32(b + 8, g->be) : cap_rd16(b + 8, g->be);
			uint32_t caplen = cap_rd32(b + 20, g->be);
			struct ng_iface *ifc;
			unsigned idx;
			struct pkt *p;

			ifc = ng_iface(g, id, &idx);
			if (blen < NG_EPB_MIN || ifc == NULL ||
			    caplen > blen - NG_EPB_MIN) {
				g->c.st.bad++;
				break;
			}
			p = &pkts[n++];
			p->ts_ns = ng_ts_ns(ifc, cap_rd32(b + 12, g->be),
			                    cap_rd32(b + 16, g->be));
			p->caplen = caplen;
			p->wirelen = cap_rd32(b + 24, g->be);
			p->data = b + 28;
			p->ifindex = (uint16_t)(idx + 1);
			p->link = ifc->link;
			g->c.st.packets++;
			g->c.st.bytes += p->wirelen;
			break;
		}
		case NG_BT_SPB: {
			struct ng_iface *ifc;
			unsigned idx;
			uint32_t wire, caplen;
			struct pkt *p;

			ifc = ng_iface(g, 0, &idx);
			if (blen < NG_SPB_MIN || ifc == NULL) {
				g->c.st.bad++;
				break;
			}
			wire = cap_rd32(b + 8, g->be);
			caplen = blen - NG_SPB_MIN;
			if (wire < caplen)
				caplen = wire;
			if (ifc->snaplen != 0 && ifc->snaplen < caplen)
				caplen = ifc->snaplen;
			p = &pkts[n++];
			p->ts_ns = 0;      /* SPBs carry no timestamp */
			p->caplen = caplen;
			p->wirelen = wire;
			p->data = b + 12;
			p->ifindex = (uint16_t)(idx + 1);
			p->link = ifc->link;
			g->c.st.packets++;
			g->c.st.bytes += wire;
			break;
		}
		case NG_BT_ISB: {
			struct ng_iface *ifc;
			unsigned idx;

			ifc = ng_iface(g, cap_rd32(b + 8, g->be), &idx);
			if (blen < NG_ISB_MIN || ifc == NULL) {
				g->c.st.bad++;
				break;
			}
			if (ng_options(b + 20, b + blen - 4, g->be, isb_opt,
			               &ifc->drops) < 0)
				g->c.st.bad++;
			break;
		}
		default:
			break;     /* name resolution, custom, ...: not ours */
		}
		cap_rbuf_skip(&g->rb, blen);
	}
out:
	return (int)n;
}

static void pcapng_stats(struct cap *c, struct cap_stats *st)
{
	struct pcapng *g = (struct pcapng *)c;

	st->drops = 0;
	for (unsigned i = 0; i < g->n_if; i++)
		st->drops += g->ifs[i].drops;
	cap_rbuf_progress(&g->rb, st);
}

static void pcapng_close(struct cap *c)
{
	struct pcapng *g = (struct pcapng *)c;

	cap_rbuf_close(&g->rb);
	free(g->ifs);
	free(g);
}

static const struct cap_ops pcapng_ops = {
	.name = "pcapng",
	.next_batch = pcapng_next,
	.stats = pcapng_stats,
	.close = pcapng_close,
};

struct cap *cap_pcapng_open(struct cap_rbuf *rb, char *err, size_t errlen)
{
	struct pcapng *g = calloc(1, sizeof *g);

	if (g == NULL) {
		cap_fmterr(err, errlen, "%s: out of memory", rb->path);
		cap_rbuf_close(rb);
		return NULL;
	}
	g->c.ops = &pcapng_ops;
	g->rb = *rb;
	/* The first section header is read like any later one, but a file
	 * whose very first block is bad is refused at open. */
	if (cap_rbuf_avail(&g->rb) < NG_SHB_MIN ||
	    (cap_be32(cap_rbuf_ptr(&g->rb) + 8) != NG_BYTE_ORDER_MAGIC &&
	     cap_le32(cap_rbuf_ptr(&g->rb) + 8) != NG_BYTE_ORDER_MAGIC)) {
		cap_fmterr(err, errlen, "%s: bad pcapng section header", rb->path);
		pcapng_close(&g->c);
		return NULL;
	}
	return &g->c;
}
