/*
 * packet.h — the packet as the pipeline sees it: what a capture driver hands
 * on (struct pkt) and what decode makes of it (struct pkt_info), which the
 * PME, the flow table and the DNS pairing read.  No pointers into the
 * capture buffer survive decode except pkt.data.
 */
#ifndef NTM_PACKET_H
#define NTM_PACKET_H

#include <stdint.h>
#include <stdbool.h>

/* Link types (the pcap LINKTYPE_ numbers, which ERF and pcapng map onto). */
enum pkt_link {
	PKT_LINK_ETHERNET = 1,
	PKT_LINK_RAW      = 101,   /* raw IP, version from the first nibble */
	PKT_LINK_LINUX_SLL  = 113,
	PKT_LINK_IPV4     = 228,
	PKT_LINK_IPV6     = 229,
	PKT_LINK_LINUX_SLL2 = 276
};

/* The first three fields in struct pkt_info's order, then link: decode
 * copies the four as one 16-byte block (decode.c). */
struct pkt {
	uint64_t ts_ns;            /* capture time, ns since the epoch */
	uint32_t wirelen;          /* bytes on the wire */
	uint16_t ifindex;          /* meter interface number, 1-based */
	uint16_t link;             /* enum pkt_link */
	uint32_t caplen;           /* bytes at data */
	const uint8_t *data;
};

/* Why a packet could not be decoded (counted, then skipped). */
enum pkt_bad {
	PKT_OK = 0,
	PKT_BAD_LINK,              /* unknown link type */
	PKT_BAD_TRUNC_L2,          /* shorter than its link header */
	PKT_BAD_ETHERTYPE,         /* not IPv4/IPv6 (counted, not an error) */
	PKT_BAD_IP_VERSION,
	PKT_BAD_IP_HEADER,         /* header length/total length inconsistent */
	PKT_BAD_TRUNC_L3,          /* IP header cut by the snaplen */
	PKT_BAD_IPV6_EXT,          /* malformed extension header chain */
	PKT_BAD_MAX
};

enum pkt_frag { PKT_FRAG_NONE = 0, PKT_FRAG_FIRST, PKT_FRAG_LATER };

/* DNS fields, valid when dns_present. */
struct pkt_dns {
	uint16_t id;
	uint8_t qr;                /* 0 query, 1 response */
	uint8_t opcode, rcode;
	uint8_t flags;             /* AA TC RD RA bits as in the header byte 2/3 */
	uint16_t qdcount, ancount;
	bool has_question;         /* QNAME, QTYPE, QCLASS were all captured */
	uint16_t qtype, qclass;
	uint32_t qname_hash;       /* case-folded hash of the wire QNAME */
	uint8_t qname_len;         /* wire length of QNAME */
	bool over_tcp;
};

struct pkt_info {
	uint64_t ts_ns;
	uint32_t wirelen;          /* octets counted for the flow */
	uint16_t ifindex;

	/* link layer */
	bool has_mac;
	uint8_t mac[2][6];         /* [0] source, [1] destination */
	uint8_t n_vlan;            /* tags seen (0..2 kept, more counted) */
	uint16_t vlan[2];          /* [0] outermost */

	/* network layer */
	uint8_t ip_version;        /* 0 when not IP */
	uint8_t peer_type;         /* Address Family Number: 1 IPv4, 2 IPv6 */
	uint8_t addr[2][16];       /* [0] source, [1] destination; IPv4 in [0..4) */
	uint8_t proto;             /* transport protocol (after IPv6 ext headers) */
	uint8_t dscp;
	uint8_t frag;              /* enum pkt_frag */

	/* transport layer */
	bool has_ports;
	uint16_t port[2];          /* host order, [0] source */
	uint8_t tcp_flags;
	uint16_t payload_len;      /* transport payload bytes on the wire */

	bool dns_present;
	struct pkt_dns dns;

	uint8_t bad;               /* enum pkt_bad */
};

#endif
