/*
 * test_decode — packet decode, from hand-written frames.
 *
 * Every frame below is a literal byte array with its fields named.  Each is
 * decoded from a heap buffer of exactly caplen bytes, so that under
 * `make asan` any read past the captured bytes is caught.  The pkt_info is
 * poisoned before each decode to prove decode_packet() fills it completely.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode.h"

#define TS      1700000000123456789ull
#define VLAN_TAG_BYTES 4
#define IFINDEX 3

/* ---- frames --------------------------------------------------------------- */

/* Ethernet + IPv4 + UDP + DNS query "Example.COM AAAA IN" (71 bytes). */
static const uint8_t v4_dns[] = {
	/* Ethernet: dst, src, type IPv4 */
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x08, 0x00,
	/* IPv4 @14: ver 4 IHL 5, TOS 0xb8 (DSCP 46), total 57 */
	0x45, 0xb8, 0x00, 0x39,
	0x12, 0x34, 0x00, 0x00,          /* id, flags/frag 0 */
	0x40, 0x11, 0x00, 0x00,          /* TTL 64, proto UDP, checksum */
	0xc0, 0x00, 0x02, 0x01,          /* src 192.0.2.1 */
	0xc6, 0x33, 0x64, 0x35,          /* dst 198.51.100.53 */
	/* UDP @34: 54321 -> 53, length 37 */
	0xd4, 0x31, 0x00, 0x35, 0x00, 0x25, 0x00, 0x00,
	/* DNS @42: id 0xbeef, RD, QD 1 AN 0 NS 0 AR 0 */
	0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* QNAME @54: 7 "Example" 3 "COM" 0 */
	0x07, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'C', 'O', 'M', 0x00,
	/* @67: QTYPE AAAA, QCLASS IN */
	0x00, 0x1c, 0x00, 0x01,
};
#define V4_IP_OFF   14
#define V4_UDP_END  42
#define V4_DNS_END  54
#define V4_NAME_END 67

/* decode_qname_hash() of "\7example\3com\0" and "\3www\7example\3org\0",
 * computed outside this code base (a Python rendering of decode.h's
 * definition). */
#define HASH_EXAMPLE_COM 0x7aade01fu
#define HASH_WWW_EXAMPLE_ORG 0x7fd6ea54u

/* Ethernet + IPv6 + hop-by-hop + UDP + DNS response (115 bytes). */
static const uint8_t v6_dns[] = {
	/* Ethernet: dst, src, type IPv6 */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x86, 0xdd,
	/* IPv6 @14: ver 6, TC 0xb8 (DSCP 46), flow 0; payload 61, next HBH, hop 64 */
	0x6b, 0x80, 0x00, 0x00, 0x00, 0x3d, 0x00, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53, /* 2001:db8::53 */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, /* 2001:db8::1 */
	/* hop-by-hop @54: next UDP, len 0 (8 bytes), PadN 4 */
	0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	/* UDP @62: 53 -> 40000, length 53 */
	0x00, 0x35, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x00,
	/* DNS @70: id 0xbeef, QR AA RD / RA rcode 0, QD 1 AN 1 NS 0 AR 0 */
	0xbe, 0xef, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	/* question: example.com A IN */
	0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
	0x00, 0x01, 0x00, 0x01,
	/* answer: ptr 12, A, IN, TTL 3600, rdlen 4, 192.0.2.1 */
	0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04,
	0xc0, 0x00, 0x02, 0x01,
};
#define V6_IP_OFF 14

/* Ethernet + IPv4 + TCP (with options) + DNS over TCP (101 bytes). */
static const uint8_t tcp_dns[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x08, 0x00,
	/* IPv4 @14: total 87, DF, TCP */
	0x45, 0x00, 0x00, 0x57, 0x00, 0x01, 0x40, 0x00,
	0x40, 0x06, 0x00, 0x00,
	0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x35,
	/* TCP @34: 40001 -> 53, seq 1, ack 1 */
	0x9c, 0x41, 0x00, 0x35, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x80, 0x18,                      /* data offset 8 (32 bytes), PSH ACK */
	0xff, 0xff, 0x00, 0x00, 0x00, 0x00,  /* window, checksum, urgent */
	/* options: NOP NOP timestamp(10) */
	0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	/* @66: length prefix 33 */
	0x00, 0x21,
	/* DNS @68: id 0x1234, RD / AD (not kept), QD 1 */
	0x12, 0x34, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* www.example.org TXT IN */
	0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	0x03, 'o', 'r', 'g', 0x00, 0x00, 0x10, 0x00, 0x01,
};

static const uint8_t mac_a[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t mac_b[6] = { 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
static const uint8_t ip4_client[16] = { 192, 0, 2, 1 };
static const uint8_t ip4_server[16] = { 198, 51, 100, 53 };
static const uint8_t ip6_server[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };
static const uint8_t ip6_client[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };

/* ---- helpers -------------------------------------------------------------- */

/* Decode `caplen` bytes of `bytes` from an exact-size heap copy. */
static enum pkt_bad run(uint16_t link, const uint8_t *bytes, size_t caplen,
			size_t wirelen, struct pkt_info *out)
{
	uint8_t *buf = malloc(caplen);
	if (caplen)
		assert_non_null(buf);
	if (caplen)
		memcpy(buf, bytes, caplen);
	struct pkt p = {
		.ts_ns = TS, .caplen = (uint32_t)caplen, .wirelen = (uint32_t)wirelen,
		.data = buf, .ifindex = IFINDEX, .link = link,
	};
	memset(out, 0xa5, sizeof *out);
	enum pkt_bad r = decode_packet(&p, out);
	free(buf);
	assert_int_equal(out->bad, r);
	assert_int_equal(out->ts_ns, TS);
	assert_int_equal(out->ifindex, IFINDEX);
	assert_int_equal(out->wirelen, wirelen);
	return r;
}

static enum pkt_bad run_all(uint16_t link, const uint8_t *bytes, size_t len,
			    struct pkt_info *out)
{
	return run(link, bytes, len, len, out);
}

static void assert_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(b[i], 0);
}

static void assert_no_dns(const struct pkt_info *i)
{
	assert_false(i->dns_present);
	assert_zero(&i->dns, sizeof i->dns);
}

static void assert_no_link(const struct pkt_info *i)
{
	assert_false(i->has_mac);
	assert_zero(i->mac, sizeof i->mac);
	assert_int_equal(i->n_vlan, 0);
	assert_int_equal(i->vlan[0], 0);
	assert_int_equal(i->vlan[1], 0);
}

/* The network, transport and DNS fields of v4_dns, wherever it is framed. */
static void expect_v4_dns_upper(const struct pkt_info *i)
{
	assert_int_equal(i->bad, PKT_OK);
	assert_int_equal(i->ip_version, 4);
	assert_int_equal(i->peer_type, 1);
	assert_memory_equal(i->addr[0], ip4_client, 16);
	assert_memory_equal(i->addr[1], ip4_server, 16);
	assert_int_equal(i->proto, 17);
	assert_int_equal(i->dscp, 46);
	assert_int_equal(i->frag, PKT_FRAG_NONE);
	assert_true(i->has_ports);
	assert_int_equal(i->port[0], 54321);
	assert_int_equal(i->port[1], 53);
	assert_int_equal(i->tcp_flags, 0);
	assert_int_equal(i->payload_len, 29);
	assert_true(i->dns_present);
	assert_int_equal(i->dns.id, 0xbeef);
	assert_int_equal(i->dns.qr, 0);
	assert_int_equal(i->dns.opcode, 0);
	assert_int_equal(i->dns.rcode, 0);
	assert_int_equal(i->dns.flags, DECODE_DNS_RD);
	assert_int_equal(i->dns.qdcount, 1);
	assert_int_equal(i->dns.ancount, 0);
	assert_true(i->dns.has_question);
	assert_int_equal(i->dns.qtype, 28);
	assert_int_equal(i->dns.qclass, 1);
	assert_int_equal(i->dns.qname_len, 13);
	assert_int_equal(i->dns.qname_hash, HASH_EXAMPLE_COM);
	assert_false(i->dns.over_tcp);
}

static void expect_v6_dns_upper(const struct pkt_info *i)
{
	assert_int_equal(i->bad, PKT_OK);
	assert_int_equal(i->ip_version, 6);
	assert_int_equal(i->peer_type, 2);
	assert_memory_equal(i->addr[0], ip6_server, 16);
	assert_memory_equal(i->addr[1], ip6_client, 16);
	assert_int_equal(i->proto, 17);
	assert_int_equal(i->dscp, 46);
	assert_int_equal(i->frag, PKT_FRAG_NONE);
	assert_true(i->has_ports);
	assert_int_equal(i->port[0], 53);
	assert_int_equal(i->port[1], 40000);
	assert_int_equal(i->tcp_flags, 0);
	assert_int_equal(i->payload_len, 45);
	assert_true(i->dns_present);
	assert_int_equal(i->dns.id, 0xbeef);
	assert_int_equal(i->dns.qr, 1);
	assert_int_equal(i->dns.opcode, 0);
	assert_int_equal(i->dns.rcode, 0);
	assert_int_equal(i->dns.flags, DECODE_DNS_AA | DECODE_DNS_RD | DECODE_DNS_RA);
	assert_int_equal(i->dns.qdcount, 1);
	assert_int_equal(i->dns.ancount, 1);
	assert_true(i->dns.has_question);
	assert_int_equal(i->dns.qtype, 1);
	assert_int_equal(i->dns.qclass, 1);
	assert_int_equal(i->dns.qname_len, 13);
	assert_int_equal(i->dns.qname_hash, HASH_EXAMPLE_COM);
	assert_false(i->dns.over_tcp);
}

/* Frame `base` (Ethernet) with `tags` inserted after the MAC addresses. */
static size_t with_tags(const uint8_t *base, size_t len, const uint8_t *tags,
			size_t tags_len, uint8_t *out)
{
	memcpy(out, base, 12);
	memcpy(out + 12, tags, tags_len);
	memcpy(out + 12 + tags_len, base + 12, len - 12);
	return len + tags_len;
}

/* ---- link layer ----------------------------------------------------------- */

static void ethernet_ipv4_udp_dns(void **state)
{
	(void)state;
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, v4_dns, sizeof v4_dns, &i), PKT_OK);
	assert_true(i.has_mac);
	assert_memory_equal(i.mac[0], mac_b, 6);   /* source */
	assert_memory_equal(i.mac[1], mac_a, 6);   /* destination */
	assert_int_equal(i.n_vlan, 0);
	assert_int_equal(i.vlan[0], 0);
	assert_int_equal(i.vlan[1], 0);
	expect_v4_dns_upper(&i);
}

static void vlan_8021q(void **state)
{
	(void)state;
	/* TPID 0x8100, TCI: PCP 1, VID 100 */
	static const uint8_t tag[] = { 0x81, 0x00, 0x20, 0x64 };
	uint8_t f[sizeof v4_dns + sizeof tag];
	size_t n = with_tags(v4_dns, sizeof v4_dns, tag, sizeof tag, f);
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_OK);
	assert_true(i.has_mac);
	assert_memory_equal(i.mac[0], mac_b, 6);
	assert_int_equal(i.n_vlan, 1);
	assert_int_equal(i.vlan[0], 100);
	assert_int_equal(i.vlan[1], 0);
	expect_v4_dns_upper(&i);
	/* the tag cut in half is a link-layer truncation */
	assert_int_equal(run(PKT_LINK_ETHERNET, f, 16, n, &i), PKT_BAD_TRUNC_L2);
	assert_int_equal(i.ip_version, 0);
}

static void qinq(void **state)
{
	(void)state;
	/* 802.1ad S-tag VID 421 (DEI set), then 802.1Q C-tag PCP 7 VID 785 */
	static const uint8_t tags[] = { 0x88, 0xa8, 0x11, 0xa5, 0x81, 0x00, 0xe3, 0x11 };
	uint8_t f[sizeof v4_dns + sizeof tags];
	size_t n = with_tags(v4_dns, sizeof v4_dns, tags, sizeof tags, f);
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_OK);
	assert_int_equal(i.n_vlan, 2);
	assert_int_equal(i.vlan[0], 421);
	assert_int_equal(i.vlan[1], 785);
	expect_v4_dns_upper(&i);
}

static void three_tags_counted(void **state)
{
	(void)state;
	/* 0x9100 VID 1, 0x88a8 VID 2, 0x8100 VID 3: all counted, two kept */
	static const uint8_t tags[] = {
		0x91, 0x00, 0x00, 0x01, 0x88, 0xa8, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03,
	};
	uint8_t f[sizeof v4_dns + sizeof tags];
	size_t n = with_tags(v4_dns, sizeof v4_dns, tags, sizeof tags, f);
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_OK);
	assert_int_equal(i.n_vlan, 3);
	assert_int_equal(i.vlan[0], 1);
	assert_int_equal(i.vlan[1], 2);
	expect_v4_dns_upper(&i);
}

static void linux_sll(void **state)
{
	(void)state;
	/* pkttype host, ARPHRD_ETHER, addr len 6, addr (8), proto IPv4 */
	static const uint8_t sll[] = {
		0x00, 0x00, 0x00, 0x01, 0x00, 0x06,
		0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00,
		0x08, 0x00,
	};
	uint8_t f[sizeof sll + sizeof v4_dns - V4_IP_OFF];
	memcpy(f, sll, sizeof sll);
	memcpy(f + sizeof sll, v4_dns + V4_IP_OFF, sizeof v4_dns - V4_IP_OFF);
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_LINUX_SLL, f, sizeof f, &i), PKT_OK);
	assert_no_link(&i);
	expect_v4_dns_upper(&i);
	assert_int_equal(run(PKT_LINK_LINUX_SLL, f, 15, sizeof f, &i), PKT_BAD_TRUNC_L2);
	assert_int_equal(run(PKT_LINK_LINUX_SLL, f, 16, sizeof f, &i), PKT_BAD_TRUNC_L3);
}

static void linux_sll2(void **state)
{
	(void)state;
	/* proto IPv6, reserved, ifindex 2, ARPHRD_ETHER, outgoing, len 6, addr */
	static const uint8_t sll2[] = {
		0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x00, 0x01, 0x04, 0x06,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00,
	};
	uint8_t f[sizeof sll2 + sizeof v6_dns - V6_IP_OFF];
	memcpy(f, sll2, sizeof sll2);
	memcpy(f + sizeof sll2, v6_dns + V6_IP_OFF, sizeof v6_dns - V6_IP_OFF);
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_LINUX_SLL2, f, sizeof f, &i), PKT_OK);
	assert_no_link(&i);
	expect_v6_dns_upper(&i);
	assert_int_equal(run(PKT_LINK_LINUX_SLL2, f, 19, sizeof f, &i), PKT_BAD_TRUNC_L2);
}

static void raw_links(void **state)
{
	(void)state;
	const uint8_t *ip4 = v4_dns + V4_IP_OFF, *ip6 = v6_dns + V6_IP_OFF;
	size_t n4 = sizeof v4_dns - V4_IP_OFF, n6 = sizeof v6_dns - V6_IP_OFF;
	struct pkt_info i;

	assert_int_equal(run_all(PKT_LINK_RAW, ip4, n4, &i), PKT_OK);
	assert_no_link(&i);
	expect_v4_dns_upper(&i);
	assert_int_equal(run_all(PKT_LINK_RAW, ip6, n6, &i), PKT_OK);
	expect_v6_dns_upper(&i);
	assert_int_equal(run_all(DECODE_LINK_RAW_BSD, ip4, n4, &i), PKT_OK);
	expect_v4_dns_upper(&i);
	assert_int_equal(run_all(PKT_LINK_IPV4, ip4, n4, &i), PKT_OK);
	expect_v4_dns_upper(&i);
	assert_int_equal(run_all(PKT_LINK_IPV6, ip6, n6, &i), PKT_OK);
	expect_v6_dns_upper(&i);

	/* the link type fixes the version */
	assert_int_equal(run_all(PKT_LINK_IPV4, ip6, n6, &i), PKT_BAD_IP_VERSION);
	assert_int_equal(i.ip_version, 0);
	assert_int_equal(run_all(PKT_LINK_IPV6, ip4, n4, &i), PKT_BAD_IP_VERSION);
	/* raw with version 5 in the first nibble, and an empty raw packet */
	static const uint8_t v5[] = { 0x55, 0x00, 0x00, 0x14 };
	assert_int_equal(run_all(PKT_LINK_RAW, v5, sizeof v5, &i), PKT_BAD_IP_VERSION);
	assert_int_equal(run_all(PKT_LINK_RAW, v5, 0, &i), PKT_BAD_TRUNC_L3);
	/* unknown link type (LINKTYPE_PPP) */
	assert_int_equal(run_all(9, ip4, n4, &i), PKT_BAD_LINK);
	assert_int_equal(i.ip_version, 0);
	assert_no_dns(&i);
}

static void non_ip_ethertypes(void **state)
{
	(void)state;
	/* ARP request header start after the MACs */
	static const uint8_t arp[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	};
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, arp, sizeof arp, &i), PKT_BAD_ETHERTYPE);
	assert_true(i.has_mac);
	assert_memory_equal(i.mac[0], mac_b, 6);
	assert_int_equal(i.ip_version, 0);
	assert_int_equal(i.peer_type, 0);
	assert_false(i.has_ports);
	/* 802.3 length field (LLC frame) */
	uint8_t llc[sizeof arp];
	memcpy(llc, arp, sizeof arp);
	llc[12] = 0x00; llc[13] = 0x26;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, llc, sizeof llc, &i), PKT_BAD_ETHERTYPE);
	/* ARP behind a VLAN tag: the tag is still reported */
	static const uint8_t tag[] = { 0x81, 0x00, 0x00, 0x0b };
	uint8_t f[sizeof arp + sizeof tag];
	size_t n = with_tags(arp, sizeof arp, tag, sizeof tag, f);
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_BAD_ETHERTYPE);
	assert_int_equal(i.n_vlan, 1);
	assert_int_equal(i.vlan[0], 11);
}

static void pppoe_and_mpls(void **state)
{
	(void)state;
	const uint8_t *ip4 = v4_dns + V4_IP_OFF, *ip6 = v6_dns + V6_IP_OFF;
	size_t n4 = sizeof v4_dns - V4_IP_OFF, n6 = sizeof v6_dns - V6_IP_OFF;
	struct pkt_info i;
	uint8_t f[200];

	/* QinQ (0x8100 VID 421, 0x8100 VID 785), then a PPPoE session:
	 * ver/type 0x11, code 0, session 0x1234, length 59, PPP IPv4 */
	static const uint8_t pppoe[] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
		0x81, 0x00, 0x01, 0xa5, 0x81, 0x00, 0x03, 0x11,
		0x88, 0x64,
		0x11, 0x00, 0x12, 0x34, 0x00, 0x3b,
		0x00, 0x21,
	};
	memcpy(f, pppoe, sizeof pppoe);
	memcpy(f + sizeof pppoe, ip4, n4);
	size_t n = sizeof pppoe + n4;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_OK);
	assert_true(i.has_mac);
	assert_int_equal(i.n_vlan, 2);
	assert_int_equal(i.vlan[0], 421);
	assert_int_equal(i.vlan[1], 785);
	expect_v4_dns_upper(&i);
	/* PPP IPv6 */
	f[sizeof pppoe - 1] = 0x57;
	memcpy(f + sizeof pppoe, ip6, n6);
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof pppoe + n6, &i), PKT_OK);
	expect_v6_dns_upper(&i);
	/* the PPP protocol cut: link-layer truncation */
	assert_int_equal(run(PKT_LINK_ETHERNET, f, sizeof pppoe - 1, n, &i), PKT_BAD_TRUNC_L2);
	/* LCP (0xc021) and a discovery-stage code: not IP */
	f[sizeof pppoe - 2] = 0xc0; f[sizeof pppoe - 1] = 0x21;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_BAD_ETHERTYPE);
	assert_int_equal(i.n_vlan, 2);
	f[sizeof pppoe - 2] = 0x00; f[sizeof pppoe - 1] = 0x21;
	f[23] = 0x09;                                 /* PADI */
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_BAD_ETHERTYPE);

	/* MPLS: two labels (16, then 17 with bottom of stack), then IPv4 */
	static const uint8_t mpls[] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
		0x88, 0x47,
		0x00, 0x01, 0x00, 0x40,                   /* label 16, S=0, TTL 64 */
		0x00, 0x01, 0x11, 0x40,                   /* label 17, S=1, TTL 64 */
	};
	memcpy(f, mpls, sizeof mpls);
	memcpy(f + sizeof mpls, ip4, n4);
	n = sizeof mpls + n4;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_OK);
	assert_int_equal(i.n_vlan, 0);
	expect_v4_dns_upper(&i);
	/* the stack cut before its bottom */
	assert_int_equal(run(PKT_LINK_ETHERNET, f, 21, n, &i), PKT_BAD_TRUNC_L2);
	assert_int_equal(run(PKT_LINK_ETHERNET, f, 22, n, &i), PKT_BAD_TRUNC_L3);
	/* one label, IPv6 */
	memcpy(f, mpls, 14);
	memcpy(f + 14, mpls + 18, 4);
	memcpy(f + 18, ip6, n6);
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, 18 + n6, &i), PKT_OK);
	expect_v6_dns_upper(&i);
	/* a pseudowire control word (first nibble 0) is not IP */
	f[18] = 0x00;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, 18 + n6, &i), PKT_BAD_IP_VERSION);

	/* an 802.3 frame of length 0 is not raw IP, whatever follows */
	memcpy(f, v4_dns, sizeof v4_dns);
	f[12] = 0x00; f[13] = 0x00;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof v4_dns, &i), PKT_BAD_ETHERTYPE);
	assert_int_equal(i.ip_version, 0);
}

/* ---- network layer -------------------------------------------------------- */

static void ipv6_hop_by_hop_udp_dns(void **state)
{
	(void)state;
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, v6_dns, sizeof v6_dns, &i), PKT_OK);
	assert_true(i.has_mac);
	assert_memory_equal(i.mac[0], mac_a, 6);
	assert_memory_equal(i.mac[1], mac_b, 6);
	assert_int_equal(i.n_vlan, 0);
	expect_v6_dns_upper(&i);
}

/* Raw IPv6: 2001:db8::53 -> 2001:db8::1, next 44; fragment header; data. */
static const uint8_t v6_frag_first[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x2c, 0x40,   /* payload 45, next 44 */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
	/* fragment: next UDP, reserved, offset 0 M=1, id 12345 */
	0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x30, 0x39,
	/* UDP 53 -> 40000, length 1500 (the whole datagram) */
	0x00, 0x35, 0x9c, 0x40, 0x05, 0xdc, 0x00, 0x00,
	/* DNS: id 0xbeef, QR RD RA, QD 1 AN 5 */
	0xbe, 0xef, 0x81, 0x80, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
	0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
	0x00, 0x01, 0x00, 0x01,
};

static const uint8_t v6_frag_later[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x2c, 0x40,   /* payload 32, next 44 */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
	/* fragment: next UDP, offset 181 (1448 bytes) M=0, id 12345 */
	0x11, 0x00, 0x05, 0xa8, 0x00, 0x00, 0x30, 0x39,
	/* 24 bytes from the middle of the datagram, looking like ports 53/53 */
	0x00, 0x35, 0x00, 0x35, 0x00, 0x18, 0x00, 0x00,
	0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

static void ipv6_fragments(void **state)
{
	(void)state;
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_IPV6, v6_frag_first, sizeof v6_frag_first, &i), PKT_OK);
	assert_int_equal(i.frag, PKT_FRAG_FIRST);
	assert_int_equal(i.ip_version, 6);
	assert_int_equal(i.proto, 17);
	assert_int_equal(i.dscp, 0);
	assert_true(i.has_ports);
	assert_int_equal(i.port[0], 53);
	assert_int_equal(i.port[1], 40000);
	assert_int_equal(i.payload_len, 29);       /* this fragment's bytes */
	assert_true(i.dns_present);
	assert_int_equal(i.dns.qr, 1);
	assert_int_equal(i.dns.ancount, 5);
	assert_true(i.dns.has_question);
	assert_int_equal(i.dns.qname_hash, HASH_EXAMPLE_COM);

	assert_int_equal(run_all(PKT_LINK_IPV6, v6_frag_later, sizeof v6_frag_later, &i), PKT_OK);
	assert_int_equal(i.frag, PKT_FRAG_LATER);
	assert_int_equal(i.ip_version, 6);
	assert_int_equal(i.peer_type, 2);
	assert_memory_equal(i.addr[0], ip6_server, 16);
	assert_memory_equal(i.addr[1], ip6_client, 16);
	assert_int_equal(i.proto, 17);
	assert_false(i.has_ports);
	assert_int_equal(i.port[0], 0);
	assert_int_equal(i.port[1], 0);
	assert_int_equal(i.payload_len, 24);
	assert_no_dns(&i);

	/* atomic fragment (offset 0, M clear): a whole datagram */
	uint8_t f[sizeof v6_frag_first];
	memcpy(f, v6_frag_first, sizeof f);
	f[43] = 0x00;
	assert_int_equal(run_all(PKT_LINK_IPV6, f, sizeof f, &i), PKT_OK);
	assert_int_equal(i.frag, PKT_FRAG_NONE);
	assert_true(i.dns.has_question);
	/* the fragment header cut by the capture */
	assert_int_equal(run(PKT_LINK_IPV6, f, 47, sizeof f, &i), PKT_BAD_TRUNC_L3);
	assert_memory_equal(i.addr[0], ip6_server, 16);
	assert_int_equal(i.proto, 0);
}

/* Raw IPv4 later fragment: offset 185 (1480 bytes), last one. */
static const uint8_t v4_frag_later[] = {
	0x45, 0x00, 0x00, 0x24, 0xab, 0xcd, 0x00, 0xb9,   /* total 36, offset 185 */
	0x40, 0x11, 0x00, 0x00,
	0xc6, 0x33, 0x64, 0x35, 0xc0, 0x00, 0x02, 0x01,   /* server -> client */
	/* 16 bytes that look like a UDP header to port 53 and a DNS id */
	0x00, 0x35, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00,
	0xbe, 0xef, 0x81, 0x80, 0x00, 0x01, 0x00, 0x00,
};

static void ipv4_fragments(void **state)
{
	(void)state;
	struct pkt_info i;
	/* first fragment: v4_dns with MF set, offset 0 */
	uint8_t f[sizeof v4_dns];
	memcpy(f, v4_dns, sizeof f);
	f[V4_IP_OFF + 6] = 0x20;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_int_equal(i.frag, PKT_FRAG_FIRST);
	assert_true(i.has_ports);
	assert_int_equal(i.port[1], 53);
	assert_true(i.dns.has_question);
	assert_int_equal(i.dns.qname_hash, HASH_EXAMPLE_COM);
	/* DF alone is not a fragment */
	f[V4_IP_OFF + 6] = 0x40;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_int_equal(i.frag, PKT_FRAG_NONE);

	assert_int_equal(run_all(PKT_LINK_IPV4, v4_frag_later, sizeof v4_frag_later, &i), PKT_OK);
	assert_int_equal(i.frag, PKT_FRAG_LATER);
	assert_int_equal(i.ip_version, 4);
	assert_memory_equal(i.addr[0], ip4_server, 16);
	assert_memory_equal(i.addr[1], ip4_client, 16);
	assert_int_equal(i.proto, 17);
	assert_false(i.has_ports);
	assert_int_equal(i.port[0], 0);
	assert_int_equal(i.payload_len, 16);
	assert_no_dns(&i);
}

static void ipv4_options(void **state)
{
	(void)state;
	/* IHL 6: router alert option, then UDP 1024 -> 123 with 4 data bytes */
	static const uint8_t f[] = {
		0x46, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x11, 0x00, 0x00,
		0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x35,
		0x94, 0x04, 0x00, 0x00,                       /* router alert */
		0x04, 0x00, 0x00, 0x7b, 0x00, 0x0c, 0x00, 0x00,
		0xde, 0xad, 0xbe, 0xef,
	};
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_IPV4, f, sizeof f, &i), PKT_OK);
	assert_true(i.has_ports);
	assert_int_equal(i.port[0], 1024);
	assert_int_equal(i.port[1], 123);
	assert_int_equal(i.payload_len, 4);
	assert_no_dns(&i);
	/* the option cut by the capture: the IP header is incomplete */
	assert_int_equal(run(PKT_LINK_IPV4, f, 22, sizeof f, &i), PKT_BAD_TRUNC_L3);
	assert_int_equal(i.ip_version, 0);
	assert_zero(i.addr, sizeof i.addr);
}

static void bad_ipv4_header(void **state)
{
	(void)state;
	struct pkt_info i;
	uint8_t f[sizeof v4_dns];
	memcpy(f, v4_dns, sizeof f);
	f[V4_IP_OFF] = 0x44;                      /* IHL 4 < 5 */
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_BAD_IP_HEADER);
	assert_int_equal(i.ip_version, 0);
	assert_false(i.has_ports);
	assert_true(i.has_mac);
	f[V4_IP_OFF] = 0x48;                      /* IHL 8: 32 bytes, total 31 */
	f[V4_IP_OFF + 3] = 31;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_BAD_IP_HEADER);
	f[V4_IP_OFF] = 0x4f;                      /* IHL 15, cut by the capture */
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_BAD_TRUNC_L3);
	f[V4_IP_OFF] = 0x45;
	f[V4_IP_OFF + 3] = 19;                    /* total 19 < header */
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_BAD_IP_HEADER);
	memcpy(f, v4_dns, sizeof f);
	f[V4_IP_OFF] = 0x65;                      /* version 6 behind 0x0800 */
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_BAD_IP_VERSION);
}

static void ipv6_ext_chain(void **state)
{
	(void)state;
	/* HBH -> routing -> atomic fragment -> dest opts -> AH -> UDP 5300 -> 53 */
	static const uint8_t f[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x40,  /* payload 68 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
		/* HBH: next routing, 8 bytes */
		0x2b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
		/* routing: next fragment, len 1 (16 bytes), type 4 segs 0 */
		0x2c, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		/* fragment: next dest opts, offset 0 M 0 */
		0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
		/* dest opts: next AH, 8 bytes */
		0x33, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
		/* AH: next UDP, len 1 -> (1 + 2) * 4 = 12 bytes */
		0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x00, 0x00, 0x00, 0x01,
		/* UDP 5300 -> 53, length 16; 8 data bytes (not a DNS header) */
		0x14, 0xb4, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	};
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_IPV6, f, sizeof f, &i), PKT_OK);
	assert_int_equal(i.proto, 17);
	assert_int_equal(i.frag, PKT_FRAG_NONE);
	assert_true(i.has_ports);
	assert_int_equal(i.port[0], 5300);
	assert_int_equal(i.port[1], 53);
	assert_int_equal(i.payload_len, 8);
	assert_no_dns(&i);                        /* 8 bytes < DNS header */

	/* no next header / ESP / mobility: stop there */
	uint8_t g[sizeof f];
	memcpy(g, f, sizeof g);
	g[80] = 59;                               /* AH's next: no next header */
	assert_int_equal(run_all(PKT_LINK_IPV6, g, sizeof g, &i), PKT_OK);
	assert_int_equal(i.proto, 59);
	assert_false(i.has_ports);
	assert_int_equal(i.payload_len, 16);
	g[80] = 50;                               /* ESP */
	assert_int_equal(run_all(PKT_LINK_IPV6, g, sizeof g, &i), PKT_OK);
	assert_int_equal(i.proto, 50);
	g[80] = 135;                              /* mobility, len 0, then next 59 */
	g[92] = 59;
	g[93] = 0;
	assert_int_equal(run_all(PKT_LINK_IPV6, g, sizeof g, &i), PKT_OK);
	assert_int_equal(i.proto, 59);
	assert_int_equal(i.payload_len, 8);
}

static void ipv6_jumbogram(void **state)
{
	(void)state;
	/* payload 0, hop-by-hop with a jumbo payload option: the datagram runs
	 * to the end of the frame (the option's length is not read) */
	static const uint8_t f[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
		0x11, 0x00, 0xc2, 0x04, 0x00, 0x01, 0x00, 0x1c,  /* jumbo 65564 */
		0x14, 0xb4, 0x00, 0x35, 0x00, 0x00, 0x00, 0x00,  /* UDP 5300 -> 53 */
		0x01, 0x02, 0x03, 0x04,
	};
	struct pkt_info i;
	/* captured: 60 bytes of a 65604-byte datagram */
	assert_int_equal(run(PKT_LINK_IPV6, f, sizeof f, 40 + 65564, &i), PKT_OK);
	assert_int_equal(i.proto, 17);
	assert_true(i.has_ports);
	assert_int_equal(i.port[1], 53);
	assert_int_equal(i.payload_len, 0xffff);      /* saturated */
	assert_no_dns(&i);
	/* all captured: 4 payload bytes */
	assert_int_equal(run_all(PKT_LINK_IPV6, f, sizeof f, &i), PKT_OK);
	assert_int_equal(i.payload_len, 4);
}

static void bad_ipv6_ext_chain(void **state)
{
	(void)state;
	/* routing then hop-by-hop: HBH is only allowed first */
	static const uint8_t hbh_late[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x2b, 0x40,  /* payload 24, next 43 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
		0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,  /* routing, next HBH */
		0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,  /* HBH, next UDP */
		0x14, 0xb4, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
	};
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_IPV6, hbh_late, sizeof hbh_late, &i), PKT_BAD_IPV6_EXT);
	assert_int_equal(i.proto, 0);
	assert_false(i.has_ports);

	/* destination options claiming 24 bytes in a 16-byte payload */
	static const uint8_t too_long[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3c, 0x40,  /* payload 16, next 60 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
		0x11, 0x02, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
		0x14, 0xb4, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
	};
	assert_int_equal(run_all(PKT_LINK_IPV6, too_long, sizeof too_long, &i), PKT_BAD_IPV6_EXT);
	assert_false(i.has_ports);

	/* payload length 0 without hop-by-hop: nothing follows the header,
	 * whatever the frame holds */
	static const uint8_t empty[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x40,  /* payload 0, next UDP */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
		0x14, 0xb4, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,  /* trailer */
	};
	assert_int_equal(run_all(PKT_LINK_IPV6, empty, sizeof empty, &i), PKT_OK);
	assert_int_equal(i.proto, 17);
	assert_false(i.has_ports);
	assert_int_equal(i.payload_len, 0);

	/* payload length 0 (no jumbo option): the chain has nowhere to be */
	uint8_t z[sizeof too_long];
	memcpy(z, too_long, sizeof z);
	z[5] = 0;
	assert_int_equal(run_all(PKT_LINK_IPV6, z, sizeof z, &i), PKT_BAD_IPV6_EXT);
}

/* ---- transport ------------------------------------------------------------ */

static void dns_over_tcp(void **state)
{
	(void)state;
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, tcp_dns, sizeof tcp_dns, &i), PKT_OK);
	assert_int_equal(i.ip_version, 4);
	assert_int_equal(i.proto, 6);
	assert_int_equal(i.dscp, 0);
	assert_int_equal(i.frag, PKT_FRAG_NONE);
	assert_true(i.has_ports);
	assert_int_equal(i.port[0], 40001);
	assert_int_equal(i.port[1], 53);
	assert_int_equal(i.tcp_flags, 0x18);
	assert_int_equal(i.payload_len, 35);
	assert_true(i.dns_present);
	assert_true(i.dns.over_tcp);
	assert_int_equal(i.dns.id, 0x1234);
	assert_int_equal(i.dns.qr, 0);
	assert_int_equal(i.dns.flags, DECODE_DNS_RD);
	assert_int_equal(i.dns.qdcount, 1);
	assert_true(i.dns.has_question);
	assert_int_equal(i.dns.qtype, 16);
	assert_int_equal(i.dns.qclass, 1);
	assert_int_equal(i.dns.qname_len, 17);
	assert_int_equal(i.dns.qname_hash, HASH_WWW_EXAMPLE_ORG);

	/* a segment carrying the prefix and only 11 header bytes (IP total
	 * length 65): the header is not there, so no DNS */
	uint8_t f[sizeof tcp_dns];
	memcpy(f, tcp_dns, sizeof f);
	f[V4_IP_OFF + 3] = 65;
	assert_int_equal(run(PKT_LINK_ETHERNET, f, 14 + 65, 14 + 65, &i), PKT_OK);
	assert_true(i.has_ports);
	assert_int_equal(i.payload_len, 13);
	assert_no_dns(&i);

	/* a length prefix below a header's size: not the start of a message */
	memcpy(f, tcp_dns, sizeof f);
	f[67] = 11;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_no_dns(&i);

	/* a prefix shorter than the segment: the question is cut at the
	 * message end, not the segment end */
	memcpy(f, tcp_dns, sizeof f);
	f[67] = 12 + 17 + 3;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_true(i.dns_present);
	assert_false(i.dns.has_question);

	/* data offset 4 (< 5): ports and flags, nothing else */
	memcpy(f, tcp_dns, sizeof f);
	f[46] = 0x40;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_true(i.has_ports);
	assert_int_equal(i.tcp_flags, 0x18);
	assert_int_equal(i.payload_len, 0);
	assert_no_dns(&i);
	/* data offset 15 (60 bytes) past the datagram's 40 TCP bytes (IP
	 * total 60; the rest of the frame is trailer) */
	f[46] = 0xf0;
	f[V4_IP_OFF + 3] = 60;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_true(i.has_ports);
	assert_int_equal(i.payload_len, 0);
	assert_no_dns(&i);
}

/* Raw IPv4 + TCP (no options, 40001 -> 53, PSH ACK) around `payload`. */
static size_t tcp_frame(const uint8_t *payload, size_t n, uint8_t *f)
{
	static const uint8_t hdr[] = {
		0x45, 0x00, 0x00, 0x00, 0x00, 0x01, 0x40, 0x00,   /* total set below */
		0x40, 0x06, 0x00, 0x00,
		0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x35,
		0x9c, 0x41, 0x00, 0x35, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
		0x50, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	};
	size_t len = sizeof hdr + n;
	memcpy(f, hdr, sizeof hdr);
	f[2] = (uint8_t)(len >> 8);
	f[3] = (uint8_t)len;
	memcpy(f + sizeof hdr, payload, n);
	return len;
}

/* A query for example.com A IN with `id`, without length prefix (29 bytes). */
#define QUERY_EXAMPLE_COM(id_hi, id_lo) \
	id_hi, id_lo, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, \
	0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, \
	0x00, 0x01, 0x00, 0x01

static void dns_over_tcp_prefix_apart(void **state)
{
	(void)state;
	/* the client wrote the length, then the message: two segments */
	static const uint8_t prefix[] = { 0x00, 0x1d };
	static const uint8_t message[] = { QUERY_EXAMPLE_COM(0xe7, 0xaf) };
	uint8_t f[100];
	struct pkt_info i;
	size_t n = tcp_frame(prefix, sizeof prefix, f);
	assert_int_equal(run_all(PKT_LINK_IPV4, f, n, &i), PKT_OK);
	assert_int_equal(i.payload_len, 2);
	assert_no_dns(&i);
	n = tcp_frame(message, sizeof message, f);
	assert_int_equal(run_all(PKT_LINK_IPV4, f, n, &i), PKT_OK);
	assert_int_equal(i.payload_len, 29);
	assert_true(i.dns_present);
	assert_true(i.dns.over_tcp);
	assert_int_equal(i.dns.id, 0xe7af);
	assert_int_equal(i.dns.flags, DECODE_DNS_RD);
	assert_int_equal(i.dns.qdcount, 1);
	assert_true(i.dns.has_question);
	assert_int_equal(i.dns.qname_hash, HASH_EXAMPLE_COM);
	assert_int_equal(i.dns.qtype, 1);
	/* cut at every length: never a wrong message, the same one once seen */
	for (size_t c = 40; c <= n; c++) {
		run(PKT_LINK_IPV4, f, c, n, &i);
		assert_int_equal(i.dns_present, c >= 40 + 12);
		if (i.dns_present)
			assert_int_equal(i.dns.id, 0xe7af);
		assert_int_equal(i.dns.has_question, c == n);
	}
}

static void dns_over_tcp_pipelined(void **state)
{
	(void)state;
	/* two prefixed queries in one segment, then the start of a third */
	static const uint8_t payload[] = {
		0x00, 0x1d, QUERY_EXAMPLE_COM(0x00, 0x01),
		0x00, 0x1d, QUERY_EXAMPLE_COM(0x00, 0x02),
		0x00, 0x1d, 0x00, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,                       /* header only */
	};
	uint8_t f[200];
	size_t n = tcp_frame(payload, sizeof payload, f);
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	memcpy(buf, f, n);
	struct pkt p = { .ts_ns = TS, .caplen = (uint32_t)n, .wirelen = (uint32_t)n,
			 .data = buf, .ifindex = IFINDEX, .link = PKT_LINK_IPV4 };
	struct pkt_info i;
	struct decode_cursor cur;
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_OK);
	assert_int_equal(i.payload_len, sizeof payload);
	assert_int_equal(i.dns.id, 1);
	assert_true(i.dns.has_question);
	assert_true(decode_dns_next(&p, &cur, &i));
	assert_int_equal(i.dns.id, 2);
	assert_true(i.dns.over_tcp);
	assert_true(i.dns.has_question);
	assert_int_equal(i.dns.qname_hash, HASH_EXAMPLE_COM);
	assert_int_equal(i.port[1], 53);               /* the rest untouched */
	assert_int_equal(i.payload_len, sizeof payload);
	assert_true(decode_dns_next(&p, &cur, &i));
	assert_int_equal(i.dns.id, 3);
	assert_false(i.dns.has_question);              /* beyond this segment */
	assert_int_equal(i.dns.qname_hash, 0);
	assert_false(decode_dns_next(&p, &cur, &i));
	assert_int_equal(i.dns.id, 3);                 /* false leaves it */
	assert_false(decode_dns_next(&p, &cur, &i));

	/* the second message cut by the capture inside its header */
	p.caplen = 40 + 31 + 2 + 11;
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_OK);
	assert_int_equal(i.dns.id, 1);
	assert_false(decode_dns_next(&p, &cur, &i));
	assert_int_equal(i.dns.id, 1);
	/* a plain decode_packet() sees the first message only */
	p.caplen = (uint32_t)n;
	assert_int_equal(decode_packet(&p, &i), PKT_OK);
	assert_int_equal(i.dns.id, 1);
	/* a whole single message leaves nothing to iterate */
	free(buf);
	static const uint8_t one[] = { 0x00, 0x1d, QUERY_EXAMPLE_COM(0x00, 0x07) };
	n = tcp_frame(one, sizeof one, f);
	p.caplen = p.wirelen = (uint32_t)n;
	p.data = f;
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_OK);
	assert_int_equal(i.dns.id, 7);
	assert_false(decode_dns_next(&p, &cur, &i));
	/* a non-DNS packet neither */
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_OK);
	p.link = 9;
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_BAD_LINK);
	assert_false(decode_dns_next(&p, &cur, &i));
}

static void dns_over_tcp_long_message(void **state)
{
	(void)state;
	/* first segment of a 2173-byte response: prefix > segment; decoded */
	static const uint8_t first[] = {
		0x08, 0x7d, 0xab, 0xcd, 0x84, 0x00, 0x00, 0x01, 0x00, 0x16, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0xfc, 0x00, 0x01,     /* AR 0; root AXFR IN */
		0x00, 0x00, 0x06, 0x00, 0x01,
	};
	uint8_t f[100];
	struct pkt_info i;
	struct decode_cursor cur;
	size_t n = tcp_frame(first, sizeof first, f);
	struct pkt p = { .caplen = (uint32_t)n, .wirelen = (uint32_t)n, .data = f,
			 .link = PKT_LINK_IPV4 };
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_OK);
	assert_true(i.dns_present);
	assert_int_equal(i.dns.id, 0xabcd);
	assert_int_equal(i.dns.qr, 1);
	assert_int_equal(i.dns.ancount, 22);
	assert_true(i.dns.has_question);
	assert_int_equal(i.dns.qname_len, 1);
	assert_int_equal(i.dns.qtype, 252);
	assert_false(decode_dns_next(&p, &cur, &i));

	/* a prefix covering the segment exactly is believed even with an
	 * unusual QDCOUNT (2 here) */
	static const uint8_t exact[] = {
		0x00, 0x0c, 0x12, 0x34, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00,
	};
	n = tcp_frame(exact, sizeof exact, f);
	p.caplen = p.wirelen = (uint32_t)n;
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_OK);
	assert_true(i.dns_present);
	assert_int_equal(i.dns.id, 0x1234);
	assert_int_equal(i.dns.qdcount, 2);
	assert_false(i.dns.has_question);
	/* ... but not when it does not, which is what a segment from the
	 * middle of a message usually looks like */
	n = tcp_frame(exact, sizeof exact - 1, f);
	p.caplen = p.wirelen = (uint32_t)n;
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_OK);
	assert_no_dns(&i);

	/* a later segment of it: resource records, not a message start */
	static const uint8_t middle[] = {
		0x00, 0x40, 0x01, 0x61, 0x0c, 'r', 'o', 'o', 't', '-', 's', 'e',
		'r', 'v', 'e', 'r', 's', 0x03, 'n', 'e', 't', 0x00, 0x00, 0x01,
	};
	n = tcp_frame(middle, sizeof middle, f);
	p.caplen = p.wirelen = (uint32_t)n;
	assert_int_equal(decode_packet_cursor(&p, &i, &cur), PKT_OK);
	assert_true(i.has_ports);
	assert_no_dns(&i);
}

static void tcp_without_dns(void **state)
{
	(void)state;
	/* SYN 40002 -> 80 in a 60-byte frame (6 bytes of Ethernet padding) */
	static const uint8_t f[] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
		0x08, 0x00,
		0x45, 0x10, 0x00, 0x28, 0x00, 0x02, 0x40, 0x00,  /* TOS 0x10: DSCP 4 */
		0x40, 0x06, 0x00, 0x00,
		0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x35,
		0x9c, 0x42, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x50, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x35, 0x00, 0x35, 0x00, 0x00,              /* padding */
	};
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_int_equal(i.proto, 6);
	assert_int_equal(i.dscp, 4);
	assert_true(i.has_ports);
	assert_int_equal(i.port[0], 40002);
	assert_int_equal(i.port[1], 80);
	assert_int_equal(i.tcp_flags, 0x02);
	assert_int_equal(i.payload_len, 0);        /* padding is not payload */
	assert_no_dns(&i);
}

static void icmp(void **state)
{
	(void)state;
	/* echo request in a 60-byte frame */
	static const uint8_t f4[] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
		0x08, 0x00,
		0x45, 0x00, 0x00, 0x1c, 0x00, 0x03, 0x00, 0x00,  /* total 28 */
		0x40, 0x01, 0x00, 0x00,
		0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x35,
		0x08, 0x00, 0xf7, 0xfe, 0x00, 0x01, 0x00, 0x00,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f4, sizeof f4, &i), PKT_OK);
	assert_int_equal(i.proto, 1);
	assert_false(i.has_ports);
	assert_int_equal(i.port[0], 0);
	assert_int_equal(i.port[1], 0);
	assert_int_equal(i.payload_len, 8);
	assert_no_dns(&i);

	/* ICMPv6 echo request, raw link */
	static const uint8_t f6[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
		0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	};
	assert_int_equal(run_all(PKT_LINK_RAW, f6, sizeof f6, &i), PKT_OK);
	assert_int_equal(i.ip_version, 6);
	assert_int_equal(i.proto, 58);
	assert_false(i.has_ports);
	assert_int_equal(i.payload_len, 8);
	assert_no_dns(&i);
}

static void udp_other_port(void **state)
{
	(void)state;
	/* v4_dns sent to 5353 (mDNS) instead: not decoded as DNS */
	uint8_t f[sizeof v4_dns];
	memcpy(f, v4_dns, sizeof f);
	f[36] = 0x14; f[37] = 0xe9;
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_int_equal(i.port[1], 5353);
	assert_int_equal(i.payload_len, 29);
	assert_no_dns(&i);
	/* source port 53 is enough */
	f[34] = 0x00; f[35] = 0x35;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_true(i.dns.has_question);
}

/* ---- DNS ------------------------------------------------------------------ */

static void dns_header_fields(void **state)
{
	(void)state;
	uint8_t f[sizeof v4_dns];
	memcpy(f, v4_dns, sizeof f);
	/* QR, opcode 5 (UPDATE), AA, TC / RA, Z, rcode 3 (NXDOMAIN); AN 2 */
	f[44] = 0xae; f[45] = 0xc3;
	f[48] = 0x00; f[49] = 0x02;
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_int_equal(i.dns.qr, 1);
	assert_int_equal(i.dns.opcode, 5);
	assert_int_equal(i.dns.rcode, 3);
	assert_int_equal(i.dns.flags, DECODE_DNS_AA | DECODE_DNS_TC | DECODE_DNS_RA);
	assert_int_equal(i.dns.ancount, 2);
	assert_true(i.dns.has_question);
	/* QDCOUNT 0: the bytes after the header are not a question */
	f[46] = 0; f[47] = 0;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_true(i.dns_present);
	assert_int_equal(i.dns.qdcount, 0);
	assert_false(i.dns.has_question);
	assert_int_equal(i.dns.qtype, 0);
	assert_int_equal(i.dns.qname_len, 0);
	assert_int_equal(i.dns.qname_hash, 0);
}

/* Header bytes 2 and 3 take every value: each field is the bits RFC 1035
 * §4.1.1 gives it (decode reads them through a table per byte). */
static void dns_header_flags_every_value(void **state)
{
	(void)state;
	uint8_t f[sizeof v4_dns];
	memcpy(f, v4_dns, sizeof f);
	for (unsigned b2 = 0; b2 <= 0xff; b2++) {
		for (unsigned b3 = 0; b3 <= 0xff; b3++) {
			f[V4_UDP_END + 2] = (uint8_t)b2;
			f[V4_UDP_END + 3] = (uint8_t)b3;
			struct pkt_info i;
			assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
			assert_true(i.dns_present);
			assert_int_equal(i.dns.id, 0xbeef);
			assert_int_equal(i.dns.qr, b2 >> 7);
			assert_int_equal(i.dns.opcode, (b2 >> 3) & 0x0f);
			assert_int_equal(i.dns.flags, (b2 & 0x07) | (b3 & 0x80));
			assert_int_equal(i.dns.rcode, b3 & 0x0f);
			assert_int_equal(i.dns.qdcount, 1);
			assert_int_equal(i.dns.ancount, 0);
		}
	}
}

static void dns_compression_pointer(void **state)
{
	(void)state;
	uint8_t f[sizeof v4_dns];
	memcpy(f, v4_dns, sizeof f);
	f[54] = 0xc0; f[55] = 0x0c;               /* pointer to offset 12 */
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_true(i.dns_present);
	assert_int_equal(i.dns.id, 0xbeef);
	assert_false(i.dns.has_question);
	assert_int_equal(i.dns.qname_hash, 0);
	assert_int_equal(i.dns.qname_len, 0);
	/* a pointer after the first label */
	memcpy(f, v4_dns, sizeof f);
	f[62] = 0xc0;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_false(i.dns.has_question);
	/* reserved label types 01 and 10 */
	f[62] = 0x43;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_false(i.dns.has_question);
	f[62] = 0x83;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_false(i.dns.has_question);
}

/* Raw IPv4 UDP to port 53, QDCOUNT 1, with `q` as the question section. */
static size_t udp_dns_with_question(const uint8_t *q, size_t qlen, uint8_t *f)
{
	size_t len = 20 + 8 + 12 + qlen;
	memset(f, 0, 40);
	f[0] = 0x45; f[2] = (uint8_t)(len >> 8); f[3] = (uint8_t)len;
	f[9] = 17;
	f[23] = 53;                                   /* UDP dport 53 */
	f[28 + 5] = 1;                                /* QDCOUNT 1 */
	memcpy(f + 40, q, qlen);
	return len;
}

static void dns_label_type_in_bounds(void **state)
{
	(void)state;
	/* A pointer (0xc0 0x0c) or a reserved label type (0x40, the first
	 * past the longest label, 0x41, 0x82) with enough bytes after it
	 * that, read as a length, it would end in a plausible name: it still
	 * means "no question". */
	static const uint8_t first[] = { 0xc0, 0x40, 0x41, 0x82 };
	for (size_t k = 0; k < sizeof first; k++) {
		uint8_t q[260], f[300];
		memset(q, 0, sizeof q);
		q[0] = first[k];
		q[1] = 0x0c;
		size_t skip = 1u + first[k];          /* where a length reading would go */
		q[skip + 2] = 1; q[skip + 4] = 1;     /* would-be QTYPE A, QCLASS IN */
		size_t len = udp_dns_with_question(q, sizeof q, f);
		struct pkt_info i;
		assert_int_equal(run_all(PKT_LINK_IPV4, f, len, &i), PKT_OK);
		assert_true(i.dns_present);
		assert_false(i.dns.has_question);
	}
	/* the same with a plain label of 63 is a question */
	uint8_t q[80], f[140];
	memset(q, 'a', sizeof q);
	q[0] = 63; q[64] = 0; q[65] = 0; q[66] = 1; q[67] = 0; q[68] = 1;
	size_t len = udp_dns_with_question(q, 69, f);
	struct pkt_info i;
	assert_int_equal(run_all(PKT_LINK_IPV4, f, len, &i), PKT_OK);
	assert_true(i.dns.has_question);
	assert_int_equal(i.dns.qname_len, 65);
}

static void dns_label_past_end(void **state)
{
	(void)state;
	struct pkt_info i;
	uint8_t f[sizeof v4_dns];
	memcpy(f, v4_dns, sizeof f);
	f[62] = 0x3f;                             /* "COM" claims 63 bytes */
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_true(i.dns_present);
	assert_false(i.dns.has_question);

	/* The datagram ends after the DNS header; the Ethernet trailer holds
	 * what would be a valid question.  It must not be read as one. */
	memcpy(f, v4_dns, sizeof f);
	f[V4_IP_OFF + 3] = 20 + 8 + 12;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_true(i.dns_present);
	assert_int_equal(i.payload_len, 12);
	assert_false(i.dns.has_question);
	/* ... and when it ends inside the header there is no DNS at all */
	f[V4_IP_OFF + 3] = 20 + 8 + 11;
	assert_int_equal(run_all(PKT_LINK_ETHERNET, f, sizeof f, &i), PKT_OK);
	assert_no_dns(&i);
}

static void dns_name_length_limit(void **state)
{
	(void)state;
	/* UDP DNS, raw IPv4, with a QNAME of `name` wire bytes built from
	 * labels of 63 and a last shorter one */
	for (unsigned name = 254; name <= 256; name++) {
		uint8_t f[20 + 8 + 12 + 256 + 4];
		size_t len = 20 + 8 + 12 + name + 4;
		memset(f, 0, sizeof f);
		f[0] = 0x45; f[2] = (uint8_t)(len >> 8); f[3] = (uint8_t)len;
		f[9] = 17;
		f[23] = 53;                               /* UDP dport 53 */
		f[28 + 5] = 1;                            /* QDCOUNT 1 */
		size_t pos = 40, left = name - 1;         /* minus the root label */
		while (left) {
			size_t l = left - 1 > 63 ? 63 : left - 1;
			f[pos] = (uint8_t)l;
			memset(f + pos + 1, 'a', l);
			pos += 1 + l;
			left -= 1 + l;
		}
		f[pos] = 0;
		f[pos + 2] = 1; f[pos + 4] = 1;           /* A IN */
		struct pkt_info i;
		assert_int_equal(run_all(PKT_LINK_IPV4, f, len, &i), PKT_OK);
		assert_true(i.dns_present);
		if (name <= 255) {
			assert_true(i.dns.has_question);
			assert_int_equal(i.dns.qname_len, name);
			assert_int_equal(i.dns.qtype, 1);
		} else {
			assert_false(i.dns.has_question);
		}
	}
}

static void qname_hash(void **state)
{
	(void)state;
	static const uint8_t lower[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
	static const uint8_t mixed[] = { 7, 'E', 'X', 'A', 'M', 'P', 'L', 'E', 3, 'c', 'O', 'm', 0 };
	static const uint8_t root[] = { 0 };
	assert_int_equal(decode_qname_hash(lower, sizeof lower), HASH_EXAMPLE_COM);
	assert_int_equal(decode_qname_hash(mixed, sizeof mixed), HASH_EXAMPLE_COM);
	assert_int_equal(decode_qname_hash(root, 1), 0x4843718au);
	assert_int_equal(decode_qname_hash(root, 0), 0x6fbe981du);
	/* bytes just outside A..Z are not folded: '@' (0x40) vs '`' (0x60),
	 * '[' vs '{', and 0xc1 (0x80 | 'A') vs 0xe1 */
	static const uint8_t at[] = { 1, '@', 0 }, tick[] = { 1, '`', 0 };
	assert_int_not_equal(decode_qname_hash(at, 3), decode_qname_hash(tick, 3));
	static const uint8_t lb[] = { 1, '[', 0 }, lb2[] = { 1, '{', 0 };
	assert_int_not_equal(decode_qname_hash(lb, 3), decode_qname_hash(lb2, 3));
	static const uint8_t hi[] = { 1, 0xc1, 0 }, hi2[] = { 1, 0xe1, 0 };
	assert_int_not_equal(decode_qname_hash(hi, 3), decode_qname_hash(hi2, 3));
	/* every byte position of a word is folded, and every byte counts */
	uint8_t a[40], b[40];
	for (unsigned k = 0; k < sizeof a; k++) {
		memset(a, 'q', sizeof a);
		memset(b, 'q', sizeof b);
		b[k] = 'Q';
		assert_int_equal(decode_qname_hash(a, sizeof a), decode_qname_hash(b, sizeof b));
		b[k] = 'r';
		assert_int_not_equal(decode_qname_hash(a, sizeof a), decode_qname_hash(b, sizeof b));
	}
	/* the whole A..Z range folds, and nothing else between 0 and 255 does */
	for (unsigned c = 0; c < 256; c++) {
		uint8_t x = (uint8_t)c, y = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		assert_int_equal(decode_qname_hash(&x, 1), decode_qname_hash(&y, 1));
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			continue;                     /* a letter: case pairs fold */
		uint8_t z = (uint8_t)(c ^ 0x20);
		assert_int_not_equal(decode_qname_hash(&x, 1), decode_qname_hash(&z, 1));
	}
	/* zero padding of the last word does not collide with real zeros */
	static const uint8_t one[] = { 'a' }, two[] = { 'a', 0 };
	assert_int_not_equal(decode_qname_hash(one, 1), decode_qname_hash(two, 2));
}

/*
 * decode hashes a question's QNAME's last word with one 8-byte load that
 * ends where the name does, reaching back into the word before it or, for
 * a name of under 8 bytes, into the DNS header (never past the name).
 * Names of every length 1..41 (each remainder mod 8, up to six words) in
 * a query captured to its last byte, decoded from an exact-size buffer:
 * the hash must be decode_qname_hash()'s, with the bytes before and after
 * the name different from the zero padding.
 */
static void qname_hash_in_question(void **state)
{
	(void)state;
	static const char text[] = "aBcDeFgHiJkLmNoPqRsTuVwXyZ-0123456789AbCd";
	static const uint8_t qtail[] = { 0xff, 0xff, 0xff, 0xff };   /* type/class 65535 */
	for (unsigned len = 1; len <= sizeof text; len++) {
		if (len == 2)
			continue;     /* no such name: a label is 1..63 bytes */
		/* the root alone, or one label of len - 2 bytes and the root */
		uint8_t name[sizeof text + 1];
		if (len > 1) {
			name[0] = (uint8_t)(len - 2);
			memcpy(name + 1, text, len - 2);
		}
		name[len - 1] = 0;

		uint8_t f[V4_DNS_END + sizeof name + sizeof qtail];
		size_t n = V4_DNS_END + len + sizeof qtail;
		memcpy(f, v4_dns, V4_DNS_END);
		memcpy(f + V4_DNS_END, name, len);
		memcpy(f + V4_DNS_END + len, qtail, sizeof qtail);
		f[V4_IP_OFF + 2] = 0;                       /* IPv4 total length */
		f[V4_IP_OFF + 3] = (uint8_t)(n - V4_IP_OFF);
		/* AN/NS/ARCOUNT, the header's last six bytes, not zero */
		memset(f + V4_DNS_END - 6, 0xff, 6);
		struct pkt_info i;
		assert_int_equal(run_all(PKT_LINK_ETHERNET, f, n, &i), PKT_OK);
		assert_true(i.dns.has_question);
		assert_int_equal(i.dns.qname_len, len);
		assert_int_equal(i.dns.qname_hash, decode_qname_hash(name, len));
		assert_int_equal(i.dns.qtype, 0xffff);
		/* one byte short of QCLASS: no question, nothing read past */
		assert_int_equal(run(PKT_LINK_ETHERNET, f, n - 1, n, &i), PKT_OK);
		assert_false(i.dns.has_question);
	}
}

static void bad_names(void **state)
{
	(void)state;
	assert_string_equal(decode_bad_name(PKT_OK), "ok");
	assert_string_equal(decode_bad_name(PKT_BAD_LINK), "bad_link");
	assert_string_equal(decode_bad_name(PKT_BAD_TRUNC_L2), "trunc_l2");
	assert_string_equal(decode_bad_name(PKT_BAD_ETHERTYPE), "ethertype");
	assert_string_equal(decode_bad_name(PKT_BAD_IP_VERSION), "ip_version");
	assert_string_equal(decode_bad_name(PKT_BAD_IP_HEADER), "ip_header");
	assert_string_equal(decode_bad_name(PKT_BAD_TRUNC_L3), "trunc_l3");
	assert_string_equal(decode_bad_name(PKT_BAD_IPV6_EXT), "ipv6_ext");
	assert_string_equal(decode_bad_name(PKT_BAD_MAX), "unknown");
	assert_string_equal(decode_bad_name((enum pkt_bad)200), "unknown");
}

/* ---- truncation ----------------------------------------------------------- */

/* What was decoded at caplen n is still decoded, unchanged, at n + 1. */
static void assert_monotone(const struct pkt_info *a, const struct pkt_info *b)
{
	if (a->bad == PKT_OK)
		assert_int_equal(b->bad, PKT_OK);
	if (a->has_mac) {
		assert_true(b->has_mac);
		assert_memory_equal(a->mac, b->mac, sizeof a->mac);
	}
	assert_true(a->n_vlan <= b->n_vlan);
	for (unsigned k = 0; k < a->n_vlan && k < 2; k++)
		assert_int_equal(a->vlan[k], b->vlan[k]);
	if (a->ip_version) {
		assert_int_equal(a->ip_version, b->ip_version);
		assert_int_equal(a->peer_type, b->peer_type);
		assert_memory_equal(a->addr, b->addr, sizeof a->addr);
		assert_int_equal(a->dscp, b->dscp);
	}
	if (a->bad == PKT_OK) {
		assert_int_equal(a->proto, b->proto);
		assert_int_equal(a->frag, b->frag);
	}
	if (a->has_ports) {
		assert_true(b->has_ports);
		assert_int_equal(a->port[0], b->port[0]);
		assert_int_equal(a->port[1], b->port[1]);
		assert_int_equal(a->tcp_flags, b->tcp_flags);
		assert_int_equal(a->payload_len, b->payload_len);
	}
	if (a->dns_present) {
		assert_true(b->dns_present);
		assert_int_equal(a->dns.id, b->dns.id);
		assert_int_equal(a->dns.qr, b->dns.qr);
		assert_int_equal(a->dns.opcode, b->dns.opcode);
		assert_int_equal(a->dns.rcode, b->dns.rcode);
		assert_int_equal(a->dns.flags, b->dns.flags);
		assert_int_equal(a->dns.qdcount, b->dns.qdcount);
		assert_int_equal(a->dns.ancount, b->dns.ancount);
		assert_int_equal(a->dns.over_tcp, b->dns.over_tcp);
	}
	if (a->dns.has_question) {
		assert_true(b->dns.has_question);
		assert_int_equal(a->dns.qtype, b->dns.qtype);
		assert_int_equal(a->dns.qclass, b->dns.qclass);
		assert_int_equal(a->dns.qname_len, b->dns.qname_len);
		assert_int_equal(a->dns.qname_hash, b->dns.qname_hash);
	}
}

static void truncate_all(uint16_t link, const uint8_t *f, size_t len,
			 struct pkt_info *at /* [len + 1] */)
{
	for (size_t n = 0; n <= len; n++) {
		run(link, f, n, len, &at[n]);
		if (n > 0)
			assert_monotone(&at[n - 1], &at[n]);
	}
}

static void truncated_udp_dns(void **state)
{
	(void)state;
	struct pkt_info at[sizeof v4_dns + 1];
	truncate_all(PKT_LINK_ETHERNET, v4_dns, sizeof v4_dns, at);
	for (size_t n = 0; n <= sizeof v4_dns; n++) {
		const struct pkt_info *i = &at[n];
		enum pkt_bad want = n < 14 ? PKT_BAD_TRUNC_L2
				  : n < V4_IP_OFF + 20 ? PKT_BAD_TRUNC_L3 : PKT_OK;
		assert_int_equal(i->bad, want);
		assert_int_equal(i->has_mac, n >= 14);
		assert_int_equal(i->ip_version, n >= V4_IP_OFF + 20 ? 4 : 0);
		assert_int_equal(i->has_ports, n >= V4_UDP_END);
		/* the length comes from the IP header, not the capture */
		assert_int_equal(i->payload_len, n >= V4_UDP_END ? 29 : 0);
		assert_int_equal(i->dns_present, n >= V4_DNS_END);
		if (n >= V4_DNS_END) {
			assert_int_equal(i->dns.id, 0xbeef);
			assert_int_equal(i->dns.qdcount, 1);
		}
		/* the question needs QTYPE and QCLASS too */
		assert_int_equal(i->dns.has_question, n == sizeof v4_dns);
		if (n < sizeof v4_dns) {
			assert_int_equal(i->dns.qname_hash, 0);
			assert_int_equal(i->dns.qtype, 0);
		}
	}
	expect_v4_dns_upper(&at[sizeof v4_dns]);
}

static void truncated_ipv6_dns(void **state)
{
	(void)state;
	struct pkt_info at[sizeof v6_dns + 1];
	truncate_all(PKT_LINK_ETHERNET, v6_dns, sizeof v6_dns, at);
	for (size_t n = 0; n <= sizeof v6_dns; n++) {
		const struct pkt_info *i = &at[n];
		/* 54..55: the hop-by-hop header's next/length not captured */
		enum pkt_bad want = n < 14 ? PKT_BAD_TRUNC_L2
				  : n < 56 ? PKT_BAD_TRUNC_L3 : PKT_OK;
		assert_int_equal(i->bad, want);
		assert_int_equal(i->ip_version, n >= 54 ? 6 : 0);
		assert_int_equal(i->proto, n >= 56 ? 17 : 0);
		assert_int_equal(i->has_ports, n >= 70);
		assert_int_equal(i->dns_present, n >= 82);
		assert_int_equal(i->dns.has_question, n >= 99);
	}
	expect_v6_dns_upper(&at[sizeof v6_dns]);
}

static void truncated_tcp_dns(void **state)
{
	(void)state;
	struct pkt_info at[sizeof tcp_dns + 1];
	truncate_all(PKT_LINK_ETHERNET, tcp_dns, sizeof tcp_dns, at);
	for (size_t n = 0; n <= sizeof tcp_dns; n++) {
		const struct pkt_info *i = &at[n];
		assert_int_equal(i->has_ports, n >= 54);
		assert_int_equal(i->tcp_flags, n >= 54 ? 0x18 : 0);
		assert_int_equal(i->dns_present, n >= 80);   /* 66 + 2 + 12 */
		assert_int_equal(i->dns.has_question, n == sizeof tcp_dns);
	}
}

/* ---- decode's fast path and the general one --------------------------------
 * decode_fast() takes Ethernet II of at least 42 captured bytes with at
 * most two 802.1Q / 802.1ad tags, then IPv4 without options and not a
 * fragment, IPv6 with no extension header, or a non-IP ethertype below the
 * tag types; everything else (a 0x9100 tag, a shorter frame, say) goes the
 * general way.  Both must give the same pkt_info, byte for byte. */

/* Ethernet + IPv6 straight to UDP, no extension header (fast path): a
 * query for "." NS IN (79 bytes). */
static const uint8_t v6_udp_root[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x86, 0xdd,
	/* IPv6 @14: TC 0x28 (DSCP 10), payload 25, next UDP, hop 64 */
	0x62, 0x80, 0x00, 0x00, 0x00, 0x19, 0x11, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, /* 2001:db8::1 */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53, /* 2001:db8::53 */
	/* UDP @54: 40000 -> 53, length 25 */
	0x9c, 0x40, 0x00, 0x35, 0x00, 0x19, 0x00, 0x00,
	/* DNS @62: id 0x0102, no flags, QD 1 */
	0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* @74: QNAME root, QTYPE NS, QCLASS IN */
	0x00, 0x00, 0x02, 0x00, 0x01,
};

/* Ethernet + IPv6 straight to TCP (fast path): a bare SYN-ACK from port
 * 53 (74 bytes). */
static const uint8_t v6_tcp_syn[] = {
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x86, 0xdd,
	/* IPv6 @14: TC 0, payload 20, next TCP, hop 64 */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
	/* TCP @54: 53 -> 40001, seq 7, ack 2, data offset 5, SYN ACK */
	0x00, 0x35, 0x9c, 0x41, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x02,
	0x50, 0x12, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

/* Ethernet + IPv4 whose total length ends inside the UDP header (fast
 * path up to IP; no ports): 46 bytes. */
static const uint8_t v4_udp_short_total[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x08, 0x00,
	/* IPv4 @14: total 24, UDP */
	0x45, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00,
	0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x35,
	/* UDP @34, cut by the datagram's end */
	0xd4, 0x31, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

static void fast_path_frames(void **state)
{
	(void)state;
	struct pkt_info i;
	uint8_t root = 0;

	assert_int_equal(run_all(PKT_LINK_ETHERNET, v6_udp_root, sizeof v6_udp_root, &i), PKT_OK);
	assert_true(i.has_mac);
	assert_memory_equal(i.mac[0], mac_b, 6);
	assert_memory_equal(i.mac[1], mac_a, 6);
	assert_int_equal(i.ip_version, 6);
	assert_int_equal(i.peer_type, 2);
	assert_int_equal(i.dscp, 10);
	assert_memory_equal(i.addr[0], ip6_client, 16);
	assert_memory_equal(i.addr[1], ip6_server, 16);
	assert_int_equal(i.proto, 17);
	assert_true(i.has_ports);
	assert_int_equal(i.port[0], 40000);
	assert_int_equal(i.port[1], 53);
	assert_int_equal(i.payload_len, 17);
	assert_true(i.dns_present);
	assert_int_equal(i.dns.id, 0x0102);
	assert_int_equal(i.dns.flags, 0);
	assert_true(i.dns.has_question);
	assert_int_equal(i.dns.qname_len, 1);
	assert_int_equal(i.dns.qname_hash, decode_qname_hash(&root, 1));
	assert_int_equal(i.dns.qtype, 2);
	assert_int_equal(i.dns.qclass, 1);
	/* the last byte of QCLASS not captured: the header, no question */
	assert_int_equal(run_all(PKT_LINK_ETHERNET, v6_udp_root, sizeof v6_udp_root - 1, &i), PKT_OK);
	assert_true(i.dns_present);
	assert_int_equal(i.dns.id, 0x0102);
	assert_false(i.dns.has_question);
	assert_int_equal(i.dns.qtype, 0);

	assert_int_equal(run_all(PKT_LINK_ETHERNET, v6_tcp_syn, sizeof v6_tcp_syn, &i), PKT_OK);
	assert_int_equal(i.ip_version, 6);
	assert_int_equal(i.dscp, 0);
	assert_memory_equal(i.addr[0], ip6_server, 16);
	assert_int_equal(i.proto, 6);
	assert_true(i.has_ports);
	assert_int_equal(i.port[0], 53);
	assert_int_equal(i.port[1], 40001);
	assert_int_equal(i.tcp_flags, 0x12);
	assert_int_equal(i.payload_len, 0);
	assert_no_dns(&i);

	assert_int_equal(run_all(PKT_LINK_ETHERNET, v4_udp_short_total,
				 sizeof v4_udp_short_total, &i), PKT_OK);
	assert_int_equal(i.ip_version, 4);
	assert_int_equal(i.proto, 17);
	assert_false(i.has_ports);
	assert_int_equal(i.payload_len, 0);
	assert_no_dns(&i);
}

/* The start of an Ethernet ARP request (non-IP below the tag types),
 * 22 bytes: shorter than the fast path asks, so the general way. */
static const uint8_t arp_start[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
};

/* A whole Ethernet ARP request, 42 bytes: the fast path's
 * PKT_BAD_ETHERTYPE. */
static const uint8_t arp_request[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x08, 0x06,
	/* Ethernet, IPv4, lengths 6 and 4, request */
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xc0, 0x00, 0x02, 0x01,  /* sender */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x35,  /* target */
};

/* Tags after the MACs, as a pair: the first keeps the frame on the fast
 * path as far as its tags go, the second differs only in an outermost
 * pre-standard 0x9100 tag, which sends it the general way. */
#define TAGS_MAX_BYTES (3 * VLAN_TAG_BYTES)
static const struct {
	uint8_t fast[TAGS_MAX_BYTES], general[TAGS_MAX_BYTES];
	size_t len;
} tag_pairs[] = {
	/* one 802.1Q tag, PCP 1 VID 100 */
	{ { 0x81, 0x00, 0x20, 0x64 }, { 0x91, 0x00, 0x20, 0x64 }, 4 },
	/* 802.1ad then 802.1Q: two tags, both kept (VID 0xb11 uses all
	 * twelve bits) */
	{ { 0x88, 0xa8, 0x11, 0xa5, 0x81, 0x00, 0xeb, 0x11 },
	  { 0x91, 0x00, 0x11, 0xa5, 0x81, 0x00, 0xeb, 0x11 }, 8 },
	/* three: the fast path declines at the third */
	{ { 0x81, 0x00, 0x00, 0x01, 0x88, 0xa8, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03 },
	  { 0x91, 0x00, 0x00, 0x01, 0x88, 0xa8, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03 }, 12 },
};

/*
 * Every frame here, behind each pair of tag runs, at every capture length
 * and with the IP header bytes that pick the path varied, must decode to
 * the same bytes both ways.
 */
static void fast_path_equals_general(void **state)
{
	(void)state;
	static const struct { const uint8_t *f; size_t len; } frames[] = {
		{ v4_dns, sizeof v4_dns }, { v6_dns, sizeof v6_dns },
		{ tcp_dns, sizeof tcp_dns }, { v6_udp_root, sizeof v6_udp_root },
		{ v6_tcp_syn, sizeof v6_tcp_syn },
		{ v4_udp_short_total, sizeof v4_udp_short_total },
		{ arp_start, sizeof arp_start }, { arp_request, sizeof arp_request },
	};
	/* variations of the bytes that choose the path: the first IP byte
	 * (version, IHL), IPv4 flags and fragment offset, IPv6 next header */
	static const uint8_t ver_ihl[] = { 0x45, 0x46, 0x44, 0x65, 0x60, 0x4f };
	static const uint8_t v4_frag[][2] = {
		{ 0x00, 0x00 }, { 0x40, 0x00 }, { 0x20, 0x00 }, { 0x00, 0xb9 },
	};
	/* UDP, TCP, ICMPv6 (fast), hop-by-hop, fragment (general), no next
	 * header (fast), routing, AH and mobility (general) */
	static const uint8_t v6_next[] = { 17, 6, 58, 0, 44, 59, 43, 51, 135 };
	enum { TAGGED_MAX = 256 };
	for (size_t k = 0; k < sizeof frames / sizeof frames[0]; k++)
	for (size_t t = 0; t < sizeof tag_pairs / sizeof tag_pairs[0]; t++) {
		size_t len = frames[k].len;
		assert_true(len + TAGS_MAX_BYTES <= TAGGED_MAX);
		for (size_t v = 0; v <= sizeof ver_ihl + sizeof v6_next; v++) {
			uint8_t base[TAGGED_MAX], fast[TAGGED_MAX], general[TAGGED_MAX];
			memcpy(base, frames[k].f, len);
			bool v4 = base[12] == 0x08 && base[13] == 0x00;
			bool v6 = base[12] == 0x86 && base[13] == 0xdd;
			if (v < sizeof ver_ihl && (v4 || v6)) {
				base[V4_IP_OFF] = ver_ihl[v];
				if (v4)
					memcpy(base + V4_IP_OFF + 6, v4_frag[v % 4], 2);
				else
					base[V6_IP_OFF + 6] = v6_next[v % sizeof v6_next];
			} else if (v >= sizeof ver_ihl && v < sizeof ver_ihl + sizeof v6_next && v6) {
				base[V6_IP_OFF + 6] = v6_next[v - sizeof ver_ihl];
			}
			size_t n = with_tags(base, len, tag_pairs[t].fast, tag_pairs[t].len, fast);
			with_tags(base, len, tag_pairs[t].general, tag_pairs[t].len, general);
			for (size_t cap = 0; cap <= n; cap++) {
				struct pkt_info a, b;
				enum pkt_bad ra = run(PKT_LINK_ETHERNET, fast, cap, n, &a);
				enum pkt_bad rb = run(PKT_LINK_ETHERNET, general, cap, n, &b);
				assert_int_equal(ra, rb);
				assert_memory_equal(&a, &b, sizeof a);
			}
		}
	}
}

static void truncated_fragments_and_qinq(void **state)
{
	(void)state;
	struct pkt_info at6[sizeof v6_frag_first + 1];
	truncate_all(PKT_LINK_IPV6, v6_frag_first, sizeof v6_frag_first, at6);
	assert_int_equal(at6[47].bad, PKT_BAD_TRUNC_L3);
	assert_int_equal(at6[48].frag, PKT_FRAG_FIRST);

	static const uint8_t tags[] = { 0x88, 0xa8, 0x01, 0xa5, 0x81, 0x00, 0x03, 0x11 };
	uint8_t f[sizeof v4_dns + sizeof tags];
	size_t n = with_tags(v4_dns, sizeof v4_dns, tags, sizeof tags, f);
	struct pkt_info atq[sizeof f + 1];
	truncate_all(PKT_LINK_ETHERNET, f, n, atq);
	assert_int_equal(atq[17].bad, PKT_BAD_TRUNC_L2);
	assert_int_equal(atq[17].n_vlan, 0);
	assert_int_equal(atq[18].bad, PKT_BAD_TRUNC_L2);
	assert_int_equal(atq[18].vlan[0], 421);
	assert_int_equal(atq[22].bad, PKT_BAD_TRUNC_L3);
	assert_int_equal(atq[22].n_vlan, 2);
	assert_int_equal(atq[22].vlan[1], 785);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ethernet_ipv4_udp_dns),
		cmocka_unit_test(vlan_8021q),
		cmocka_unit_test(qinq),
		cmocka_unit_test(three_tags_counted),
		cmocka_unit_test(linux_sll),
		cmocka_unit_test(linux_sll2),
		cmocka_unit_test(raw_links),
		cmocka_unit_test(non_ip_ethertypes),
		cmocka_unit_test(pppoe_and_mpls),
		cmocka_unit_test(ipv6_hop_by_hop_udp_dns),
		cmocka_unit_test(ipv6_fragments),
		cmocka_unit_test(ipv4_fragments),
		cmocka_unit_test(ipv4_options),
		cmocka_unit_test(bad_ipv4_header),
		cmocka_unit_test(ipv6_ext_chain),
		cmocka_unit_test(ipv6_jumbogram),
		cmocka_unit_test(bad_ipv6_ext_chain),
		cmocka_unit_test(dns_over_tcp),
		cmocka_unit_test(dns_over_tcp_prefix_apart),
		cmocka_unit_test(dns_over_tcp_pipelined),
		cmocka_unit_test(dns_over_tcp_long_message),
		cmocka_unit_test(tcp_without_dns),
		cmocka_unit_test(icmp),
		cmocka_unit_test(udp_other_port),
		cmocka_unit_test(dns_header_fields),
		cmocka_unit_test(dns_header_flags_every_value),
		cmocka_unit_test(dns_compression_pointer),
		cmocka_unit_test(dns_label_type_in_bounds),
		cmocka_unit_test(dns_label_past_end),
		cmocka_unit_test(dns_name_length_limit),
		cmocka_unit_test(qname_hash),
		cmocka_unit_test(qname_hash_in_question),
		cmocka_unit_test(bad_names),
		cmocka_unit_test(truncated_udp_dns),
		cmocka_unit_test(truncated_ipv6_dns),
		cmocka_unit_test(truncated_tcp_dns),
		cmocka_unit_test(truncated_fragments_and_qinq),
		cmocka_unit_test(fast_path_frames),
		cmocka_unit_test(fast_path_equals_general),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
