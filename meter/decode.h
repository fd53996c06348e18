/*
 * decode.h — packet decode: link header (Ethernet II, 802.1Q/802.1ad/QinQ,
 * Linux cooked v1/v2, raw IP), PPPoE sessions and MPLS label stacks, IPv4 /
 * IPv6 with extension headers, UDP, TCP, ICMP, and the DNS header plus first
 * question over UDP or TCP port 53.
 *
 * Contract (what the PME, the flow table and the DNS pairing may rely on):
 *
 *  - decode_packet() fills *out completely: it zeroes the struct itself, so
 *    the caller need not, and every field that was not decoded is 0/false.
 *    ts_ns, ifindex and wirelen are always set, whatever the result.
 *  - It never reads beyond p->data + p->caplen: a packet cut by the snaplen
 *    (e.g. the 96-byte DITL traces) is decoded as far as its bytes go.
 *  - out->wirelen is the frame's wire length (p->wirelen), link header
 *    included, as NeTraMet counted octets from pcap; it is what the flow's
 *    To/FromOctets add up.
 *  - mac[] is set (has_mac) only for Ethernet II, which carries both
 *    addresses; Linux cooked captures carry one and leave has_mac false.
 *  - n_vlan counts every 802.1Q / 802.1ad / 0x9100 tag (saturating at 255);
 *    vlan[] keeps the 12-bit ids of the first two, outermost first.
 *  - After the tags, a PPPoE session header (PPP protocol IPv4 or IPv6; any
 *    other is PKT_BAD_ETHERTYPE) or an MPLS label stack (skipped to the
 *    bottom of stack; the payload is IP by its first nibble, anything else
 *    is PKT_BAD_IP_VERSION) may precede IP.
 *  - IPv4 addresses are in addr[x][0..4) with the remaining 12 bytes zero.
 *  - proto is the transport protocol after any IPv6 extension headers (or
 *    the header where the chain stopped: 59 no-next-header, ESP 50, or an
 *    unknown one).  dscp is the upper six bits of TOS / Traffic Class.
 *  - Fragments: a first fragment (offset 0, more-fragments set) is decoded
 *    like a whole datagram with frag = PKT_FRAG_FIRST; a later fragment has
 *    frag = PKT_FRAG_LATER, addresses and proto, no ports and no DNS.  An
 *    IPv6 atomic fragment (offset 0, M clear) is PKT_FRAG_NONE.
 *  - has_ports needs the whole UDP (8) or TCP (20) header captured; tcp_flags
 *    is TCP header byte 13 (CWR ECE URG ACK PSH RST SYN FIN).
 *  - payload_len is taken from the IP length fields (so it is right for a
 *    truncated capture): bytes after the UDP/TCP header (0 when that header
 *    was not captured or its data offset is impossible), or, for any other
 *    protocol and for later fragments, bytes after the IP header(s).  A
 *    first fragment counts its own bytes, not the reassembled datagram's.
 *    It saturates at 65535 (IPv6 jumbograms, whose end is the frame's end).
 *  - DNS (dns_present) when UDP or TCP has either port DECODE_DNS_PORT and
 *    the 12-byte DNS header was captured.  For TCP, the segment must start
 *    a message: normally the 2-byte length prefix (>= 12) then the header;
 *    also a header without prefix when the prefix went in an earlier
 *    segment (recognised by QDCOUNT 1; see tcp_dns_locate() in decode.c),
 *    and prefixed headers are only taken with QDCOUNT <= 1 unless the
 *    prefix covers the segment exactly, so the middle of a long message is
 *    not mistaken for one.
 *    has_question when qdcount >= 1 and QNAME (uncompressed labels, at most
 *    255 bytes), QTYPE and QCLASS all lie inside the captured bytes and the
 *    message; only then are qname_len and qname_hash set.  A compression
 *    pointer or reserved label type in the first question means "no
 *    question".  dns.flags keeps the AA/TC/RD bits of header byte 2 and the
 *    RA bit of byte 3 at their header positions (DECODE_DNS_*).
 *
 * Result (also in out->bad): PKT_OK when the IP header was decoded (the
 * layers above may still be absent because they were cut or are unknown);
 * PKT_BAD_ETHERTYPE for non-IP frames (counted, not an error); otherwise
 * why the IP header could not be used.  With PKT_BAD_TRUNC_L3 the link
 * fields are valid, and for an IPv6 extension chain cut by the snaplen the
 * addresses too.
 *
 * Hot path: no allocation, no syscalls, no locks, no global state.
 */
#ifndef NTM_DECODE_H
#define NTM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "packet.h"

/* The DNS port: both transports, either direction.  mDNS (5353) is not DNS
 * traffic to a server and is deliberately not decoded. */
#define DECODE_DNS_PORT 53

/* pkt_dns.flags bits, at their positions in DNS header bytes 2 (AA TC RD)
 * and 3 (RA), RFC 1035 §4.1.1. */
#define DECODE_DNS_AA   0x04u
#define DECODE_DNS_TC   0x02u
#define DECODE_DNS_RD   0x01u
#define DECODE_DNS_RA   0x80u

/* Extra link type accepted as raw IP (LINKTYPE_RAW's old DLT number on some
 * BSDs); packet.h's enum does not list it. */
#define DECODE_LINK_RAW_BSD 12

enum pkt_bad decode_packet(const struct pkt *p, struct pkt_info *out);

/* A UDP or TCP segment with the DNS port at either end. */
static inline bool decode_is_dns_port(const struct pkt_info *p)
{
	return p->has_ports &&
	       (p->port[0] == DECODE_DNS_PORT || p->port[1] == DECODE_DNS_PORT);
}

/*
 * DNS over TCP carries several messages in one segment when a client
 * pipelines queries (RFC 7766 §6.2.1.1); pkt_info holds the first.  To see
 * the others, decode with decode_packet_cursor() and then call
 * decode_dns_next() until it returns false; each true return has replaced
 * out->dns with the next message (every other field is left alone):
 *
 *	struct decode_cursor cur;
 *	decode_packet_cursor(p, &info, &cur);
 *	handle(&info);
 *	while (decode_dns_next(p, &cur, &info))
 *		handle(&info);
 *
 * The cursor refers to p->data and is valid while the packet is.
 */
struct decode_cursor {
	size_t next;               /* offset in p->data of the next prefix; 0 = none */
	size_t end;                /* end of the TCP payload (may pass caplen) */
};

enum pkt_bad decode_packet_cursor(const struct pkt *p, struct pkt_info *out,
				  struct decode_cursor *cur);
/* decode_dns_next() when there is a next prefix to look at. */
bool decode_dns_next_message(const struct pkt *p, struct decode_cursor *cur,
			     struct pkt_info *out);
/* Inline because nearly every DNS message comes alone in its packet: the
 * common answer, false, then costs no call. */
static inline bool decode_dns_next(const struct pkt *p, struct decode_cursor *cur,
				   struct pkt_info *out)
{
	return cur->next != 0 && decode_dns_next_message(p, cur, out);
}

/* The two IP addresses of p, found as decode finds them (link header,
 * VLAN tags, PPPoE, MPLS, raw IP) and nothing else decoded: pointers into
 * p->data and their length, 4 or 16; 0 when p has no IPv4/IPv6 header with
 * both addresses captured.  For spreading packets over workers. */
unsigned decode_ip_addrs(const struct pkt *p, const uint8_t **src, const uint8_t **dst);

/* A short stable name for a result, for statistics ("ok", "trunc_l3", ...);
 * "unknown" for a value outside the enum. */
const char *decode_bad_name(enum pkt_bad bad);

/* The hash decode puts in pkt_dns.qname_hash, over the wire QNAME with
 * ASCII A-Z folded to a-z (bytes >= 0x80 untouched):
 *   h = 0x243f6a8885a308d3 ^ len
 *   for each 8-byte little-endian word w (the last one zero-padded):
 *       h = (h ^ w) * 0x9e3779b97f4a7c15;  h ^= h >> 29
 *   h *= 0xff51afd7ed558ccd;  return low 32 bits of (h ^ h >> 32)
 * Same value on every host.  Exposed so that other modules (tests, the DNS
 * pairing) can hash a name the same way. */
uint32_t decode_qname_hash(const uint8_t *wire, unsigned len);

#endif
