/*
 * fuzz_decode — decode_packet() on arbitrary bytes.  The first input byte
 * picks the link type (low three bits) and whether the packet was cut by a
 * snaplen (high bit: wirelen > caplen); the rest is the frame, copied to a
 * heap buffer of exactly its size so ASan sees any read past the captured
 * bytes.  A few contract properties are checked on every result, and the
 * same input one byte shorter must decode no more and nothing differently.
 * An Ethernet frame is also decoded with a VLAN tag inserted, once as
 * 802.1Q (which decode's fast path takes) and once as the pre-standard
 * 0x9100 with the same TCI (which only the general path takes): both must
 * give the same pkt_info, byte for byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

static const uint16_t links[] = {
	PKT_LINK_ETHERNET, PKT_LINK_RAW, DECODE_LINK_RAW_BSD, PKT_LINK_LINUX_SLL,
	PKT_LINK_LINUX_SLL2, PKT_LINK_IPV4, PKT_LINK_IPV6, 0 /* unknown */,
};

#define ETH_ADDRS_LEN 12        /* the two MAC addresses before the type */
#define TAG_LEN 4

/* frame with a tag (tpid, then the TCI 0x2064) after the MAC addresses,
 * decoded from a buffer of exactly its size */
static enum pkt_bad decode_tagged(const uint8_t *data, size_t size, uint32_t wirelen,
				  uint16_t tpid, struct pkt_info *out)
{
	uint8_t *f = malloc(size + TAG_LEN);
	if (!f)
		abort();
	const uint8_t tag[TAG_LEN] = { (uint8_t)(tpid >> 8), (uint8_t)tpid, 0x20, 0x64 };
	memcpy(f, data, ETH_ADDRS_LEN);
	memcpy(f + ETH_ADDRS_LEN, tag, TAG_LEN);
	memcpy(f + ETH_ADDRS_LEN + TAG_LEN, data + ETH_ADDRS_LEN, size - ETH_ADDRS_LEN);
	struct pkt p = {
		.ts_ns = 1, .caplen = (uint32_t)(size + TAG_LEN), .wirelen = wirelen + TAG_LEN,
		.data = f, .ifindex = 1, .link = PKT_LINK_ETHERNET,
	};
	enum pkt_bad r = decode_packet(&p, out);
	free(f);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	uint8_t *buf = malloc(size);   /* exact size, even 0 */
	if (!buf && size)
		return 0;
	if (size)
		memcpy(buf, data, size);
	struct pkt p = {
		.ts_ns = 1, .caplen = (uint32_t)size,
		.wirelen = (uint32_t)size + ((sel & 0x80) ? 1500u : 0u),
		.data = buf, .ifindex = 1,
		.link = links[sel % (sizeof links / sizeof links[0])],
	};
	struct pkt_info info;
	struct decode_cursor cur;
	enum pkt_bad r = decode_packet_cursor(&p, &info, &cur);
	/* contract checks: result mirrored, names total, DNS only with ports */
	if (info.bad != r || decode_bad_name(r) == NULL)
		abort();
	if (info.dns_present && !info.has_ports)
		abort();
	if (info.dns.has_question && (!info.dns_present || info.dns.qname_len == 0))
		abort();
	if (r != PKT_OK && (info.has_ports || info.dns_present))
		abort();
	/* one byte less captured decodes no more, and nothing differently */
	if (size > 0) {
		uint8_t *cut = malloc(size - 1);
		if (!cut && size > 1)
			abort();
		if (size > 1)
			memcpy(cut, data, size - 1);
		struct pkt q = p;
		q.caplen = (uint32_t)(size - 1);
		q.data = cut;
		struct pkt_info less;
		decode_packet(&q, &less);
		if ((less.has_ports && (!info.has_ports || less.port[0] != info.port[0] ||
					less.port[1] != info.port[1])) ||
		    (less.ip_version && memcmp(less.addr, info.addr, sizeof info.addr)) ||
		    (less.dns_present && (!info.dns_present || less.dns.id != info.dns.id)) ||
		    (less.dns.has_question && (!info.dns.has_question ||
					       less.dns.qname_hash != info.dns.qname_hash)))
			abort();
		free(cut);
	}
	/* the fast path and the general one agree */
	if (p.link == PKT_LINK_ETHERNET && size >= ETH_ADDRS_LEN) {
		struct pkt_info fast, general;
		enum pkt_bad rf = decode_tagged(data, size, p.wirelen, 0x8100, &fast);
		enum pkt_bad rg = decode_tagged(data, size, p.wirelen, 0x9100, &general);
		if (rf != rg || memcmp(&fast, &general, sizeof fast) != 0)
			abort();
	}
	/* further pipelined TCP messages: each step moves forward */
	size_t prev = 0;
	while (decode_dns_next(&p, &cur, &info)) {
		if (!info.dns_present || !info.dns.over_tcp)
			abort();
		if (cur.next != 0 && cur.next <= prev)
			abort();
		prev = cur.next;
	}
	free(buf);
	return 0;
}
