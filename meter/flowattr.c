/* flowattr.c — one attribute of an engine flow (see flowattr.h). */
#include "flowattr.h"

#include <string.h>

#include "attr.h"
#include "dist.h"
#include "pkg.h"
#include "statdist.h"

/* Widths of the values the meter computes (not read from the flow key);
 * the .dif files have always carried them so. */
#define W_INDEX     4
#define W_RULESET   4
#define W_TIME      4   /* centiseconds of uptime */
#define W_COUNTER   8
#define W_SCALE     1
#define W_DISTS     4   /* attribute 65's bit mask */

/* The address attribute a mask attribute (7, 10, 13, 17, 20, 23) belongs
 * to: RFC 2722 numbers each mask right after its address. */
static unsigned masked_attr(unsigned mask_attr)
{
	return mask_attr - 1;
}

static uint64_t be_uint(const uint8_t *p, unsigned w)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v = v << 8 | p[i];
	return v;
}

/* RFC 2724 distribution `attr` kept in the static pool, if the flow has
 * it. */
static void static_value(const struct engine *e, const struct flow *f,
			 unsigned attr, struct coll_value *out)
{
	const struct dist_static *d = engine_static_dist(e, f, attr);
	if (!d)
		return;
	out->kind = COLL_STATIC;
	out->sdist = d;
	out->spec = engine_static_spec(e, f, attr);
}

/* A value the ruleset SAVEd (the flow key), or for a mask attribute the
 * mask it was saved with. */
static void key_value(const struct engine *e, const struct flow *f,
		      unsigned attr, bool mask, struct coll_value *out)
{
	const struct flow_key *k = flow_get_key(e->flows, f);
	struct flow_key_item it;
	if (!flow_key_get(k, mask ? masked_attr(attr) : attr, &it))
		return;
	unsigned w = mask ? 0 : pkg_number_width(attr);
	if (w > it.width && it.width <= sizeof(uint64_t)) {
		/* a number pushed narrower than the attribute (a rule with a
		 * short mask): the same number at the attribute's width, so a
		 * package decodes back to exactly this value */
		coll_value_uint(out, attr, be_uint(it.value, it.width), w);
		return;
	}
	out->kind = COLL_BYTES;
	out->width = it.width;
	memcpy(out->bytes, mask ? it.mask : it.value, it.width);
}

void flowattr_get(const struct engine *e, const struct flow *f,
		  uint32_t index, uint64_t start_ns, unsigned attr,
		  struct coll_value *out)
{
	memset(out, 0, sizeof *out);
	out->attr = (uint16_t)attr;
	out->kind = COLL_NONE;
	const struct dist *live;
	switch (attr) {
	case ATTR_FLOW_INDEX:
		coll_value_uint(out, attr, index, W_INDEX);
		break;
	case ATTR_FLOW_RULESET:
		coll_value_uint(out, attr, flow_get_key(e->flows, f)->ruleset, W_RULESET);
		break;
	case ATTR_FIRST_TIME:
		coll_value_uint(out, attr, flowattr_uptime_cs(start_ns, f->first_ns), W_TIME);
		break;
	case ATTR_LAST_ACTIVE_TIME:
		coll_value_uint(out, attr, flowattr_uptime_cs(start_ns, f->last_ns), W_TIME);
		break;
	case ATTR_FIRST_TIME_NS:    coll_value_uint(out, attr, f->first_ns, W_COUNTER); break;
	case ATTR_LAST_TIME_NS:     coll_value_uint(out, attr, f->last_ns, W_COUNTER); break;
	case ATTR_TO_OCTETS:        coll_value_uint(out, attr, f->to_octets, W_COUNTER); break;
	case ATTR_TO_PDUS:          coll_value_uint(out, attr, f->to_pdus, W_COUNTER); break;
	case ATTR_FROM_OCTETS:      coll_value_uint(out, attr, f->from_octets, W_COUNTER); break;
	case ATTR_FROM_PDUS:        coll_value_uint(out, attr, f->from_pdus, W_COUNTER); break;
	case ATTR_PDU_SCALE:
	case ATTR_OCTET_SCALE:      coll_value_uint(out, attr, 0, W_SCALE); break;
	case ATTR_DNS_REQUESTS:     coll_value_uint(out, attr, f->dns.requests, W_COUNTER); break;
	case ATTR_DNS_RESPONSES:    coll_value_uint(out, attr, f->dns.responses, W_COUNTER); break;
	case ATTR_DNS_ANSWERED:     coll_value_uint(out, attr, f->dns.answered, W_COUNTER); break;
	case ATTR_DNS_LOST:         coll_value_uint(out, attr, f->dns.lost, W_COUNTER); break;
	case ATTR_DNS_RETRANSMITS:  coll_value_uint(out, attr, f->dns.retransmits, W_COUNTER); break;
	case ATTR_DNS_UNMATCHED:    coll_value_uint(out, attr, f->dns.unmatched, W_COUNTER); break;
	case ATTR_DNS_DUPLICATES:   coll_value_uint(out, attr, f->dns.duplicates, W_COUNTER); break;
	/* a sample is taken exactly when a response pairs (flow.h) */
	case ATTR_RTT_SAMPLES:      coll_value_uint(out, attr, f->dns.answered, W_COUNTER); break;
	case ATTR_DISTRIBUTIONS:
		/* RFC 2724 §4: bit 0 is attribute 66; the dynamic turnaround
		 * distribution counts as ToTurnaroundTime's */
		coll_value_uint(out, attr,
				(flow_dist_peek(e->flows, f)
				 ? statdist_bit(ATTR_TO_TURNAROUND_TIME) : 0) |
				engine_static_have(e, f), W_DISTS);
		break;
	case ATTR_TO_TURNAROUND_TIME:
		/* a ruleset asks for the dynamic kind or a static one, not both */
		live = flow_dist_peek(e->flows, f);
		if (live) {
			out->kind = COLL_DIST;
			out->dist = live;
		} else {
			static_value(e, f, attr, out);
		}
		break;
	case ATTR_TO_PACKET_SIZE:       case ATTR_FROM_PACKET_SIZE:
	case ATTR_TO_INTERARRIVAL_TIME: case ATTR_FROM_INTERARRIVAL_TIME:
	case ATTR_FROM_TURNAROUND_TIME:
	case ATTR_TO_BIT_RATE:          case ATTR_FROM_BIT_RATE:
	case ATTR_TO_PDU_RATE:          case ATTR_FROM_PDU_RATE:
		static_value(e, f, attr, out);
		break;
	case ATTR_SOURCE_ADJACENT_MASK: case ATTR_SOURCE_PEER_MASK:
	case ATTR_SOURCE_TRANS_MASK:    case ATTR_DEST_ADJACENT_MASK:
	case ATTR_DEST_PEER_MASK:       case ATTR_DEST_TRANS_MASK:
		key_value(e, f, attr, true, out);
		break;
	default:
		key_value(e, f, attr, false, out);
		break;
	}
}
