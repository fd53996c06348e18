/* test_workers — `--workers N`: the symmetric spreading hash on literal
 * frames of every link type, and real view engines (2 and 3 shards, SRL
 * rulesets) fed through the worker threads: every packet processed once,
 * in the shard that holds both directions of its address pair, bytes
 * intact across ring wrap-around, every RTT sample kept across forced
 * syncs, prompt wake-ups and stop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "attr.h"
#include "cap.h"
#include "decode.h"
#include "dist.h"
#include "engine.h"
#include "flow.h"
#include "flowkey.h"
#include "pairhash.h"
#include "srl.h"
#include "workers.h"

_Static_assert(CAP_SNAPLEN_DEFAULT <= WORKERS_CAPLEN_MAX,
	       "a live capture's packets are never cut by the rings");

#define US  1000ull
#define MS  1000000ull
#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

/* ---- fixtures: a view engine on one SRL ruleset --------------------------- */

/* One flow per IP address pair (source = the pair's first sender; v4 and
 * v6 keys differ by their widths), counted To and From; non-IP frames are
 * ignored. */
static const char pair_rules[] =
	"SET 1;\n"
	"if SourcePeerType == 1 {\n"
	"  save SourcePeerAddress /32; save DestPeerAddress /32;\n"
	"}\n"
	"else if SourcePeerType == 2 {\n"
	"  save SourcePeerAddress /128; save DestPeerAddress /128;\n"
	"}\n"
	"else ignore;\n"
	"count;\n";

/* DNS requests to port 53 keyed by server, with the dynamic turnaround
 * distribution (so every answered request is an RTT sample). */
static const char dns_rules[] =
	"SET 2;\n"
	"if SourceTransType == 17 && DestTransAddress == 53 {\n"
	"  save DestPeerAddress /32;\n"
	"  save ToTurnaroundTime = 60.0.0!0 & 3.0.0!0;\n"
	"  count;\n"
	"}\n"
	"nomatch;\n";

struct fx {
	struct engine view;
	struct ruleset rs;
	struct diag d;
	struct workers *w;
	unsigned n;
	/* what the view's on_sample saw */
	uint64_t samples, samples_unordered, last_sample_ns;
};

static void on_sample(void *arg, const struct flow_table *t,
		      const struct flow *f, uint64_t ts_ns, uint64_t rtt_us)
{
	struct fx *x = arg;
	(void)t;
	(void)f;
	(void)rtt_us;
	if (ts_ns < x->last_sample_ns)
		x->samples_unordered++;
	x->last_sample_ns = ts_ns;
	x->samples++;
}

static void start(struct fx *x, const char *src, unsigned shards)
{
	memset(x, 0, sizeof *x);
	diag_init(&x->d, "test");
	assert_int_equal(srl_compile("test", src, strlen(src), &x->rs, &x->d), 0);
	struct engine_config c;
	engine_config_default(&c);
	c.max_flows = 4096;
	c.dist_slots = 64;
	assert_int_equal(engine_init_sharded(&x->view, &c, shards, &x->d), 0);
	assert_int_equal(engine_add_task(&x->view, &x->rs, NULL, 0, &x->d), 0);
	x->view.on_sample = on_sample;
	x->view.sample_arg = x;
	x->n = shards;
	x->w = workers_start(&x->view, &x->d);
	assert_non_null(x->w);
}

static void stop(struct fx *x)
{
	workers_stop(x->w);
	engine_free(&x->view);
	ruleset_free(&x->rs);
	diag_free(&x->d);
}

/* ---- frames ---------------------------------------------------------------- */

enum enc { ENC_ETH, ENC_VLAN, ENC_QINQ, ENC_SLL, ENC_SLL2, ENC_RAW, ENC_LINKIP,
	   ENC_MAX };

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_ARP  0x0806

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* The link header of encapsulation e for `ethertype` at b; its length.
 * *link is the pkt_link to hand on (raw links by the IP family). */
static size_t put_link(uint8_t *b, enum enc e, uint16_t ethertype,
		       uint16_t *link)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	switch (e) {
	case ENC_ETH:
	case ENC_VLAN:
	case ENC_QINQ: {
		size_t off = 12;
		memcpy(b, macs, 12);
		*link = PKT_LINK_ETHERNET;
		if (e == ENC_QINQ) {
			put16(b + off, 0x88a8);
			put16(b + off + 2, 100);
			off += 4;
		}
		if (e != ENC_ETH) {
			put16(b + off, 0x8100);
			put16(b + off + 2, 200);
			off += 4;
		}
		put16(b + off, ethertype);
		return off + 2;
	}
	case ENC_SLL:
		memset(b, 0, 16);
		put16(b + 2, 1);           /* ARPHRD_ETHER */
		put16(b + 4, 6);
		memcpy(b + 6, macs, 6);
		put16(b + 14, ethertype);
		*link = PKT_LINK_LINUX_SLL;
		return 16;
	case ENC_SLL2:
		memset(b, 0, 20);
		put16(b, ethertype);
		b[7] = 3;                  /* interface index */
		put16(b + 8, 1);
		b[11] = 6;
		memcpy(b + 12, macs, 6);
		*link = PKT_LINK_LINUX_SLL2;
		return 20;
	case ENC_RAW:
		*link = PKT_LINK_RAW;
		return 0;
	case ENC_LINKIP:
	default:
		*link = ethertype == ET_IPV6 ? PKT_LINK_IPV6 : PKT_LINK_IPV4;
		return 0;
	}
}

/* An IPv4 header: total length totlen, flags+fragment offset frag. */
static void put_ipv4(uint8_t *b, const uint8_t *src, const uint8_t *dst,
		     uint8_t proto, uint16_t totlen, uint16_t id, uint16_t frag)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, totlen);
	put16(b + 4, id);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, src, 4);
	memcpy(b + 16, dst, 4);
}

static void put_ipv6(uint8_t *b, const uint8_t *src, const uint8_t *dst,
		     uint8_t next, uint16_t plen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, plen);
	b[6] = next;
	b[7] = 64;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
}

static void put_udp(uint8_t *b, uint16_t sport, uint16_t dport, uint16_t len)
{
	put16(b, sport);
	put16(b + 2, dport);
	put16(b + 4, len);
	put16(b + 6, 0);
}

/* A UDP datagram of `payload` bytes (filled with `fill`) between two
 * addresses of family v6, in encapsulation e; its length. */
static size_t mk_udp(uint8_t *b, enum enc e, bool v6, const uint8_t *src,
		     const uint8_t *dst, uint16_t sport, uint16_t dport,
		     uint16_t payload, uint8_t fill, uint16_t *link)
{
	size_t l2 = put_link(b, e, v6 ? ET_IPV6 : ET_IPV4, link);
	size_t l3 = v6 ? 40 : 20;
	if (v6)
		put_ipv6(b + l2, src, dst, 17, (uint16_t)(8 + payload));
	else
		put_ipv4(b + l2, src, dst, 17, (uint16_t)(20 + 8 + payload), 1, 0x4000);
	put_udp(b + l2 + l3, sport, dport, (uint16_t)(8 + payload));
	memset(b + l2 + l3 + 8, fill, payload);
	return l2 + l3 + 8 + payload;
}

static struct pkt mkpkt(const uint8_t *b, size_t len, uint16_t link, uint64_t ts)
{
	struct pkt p = {
		.ts_ns = ts, .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
		.data = b, .ifindex = 1, .link = link,
	};
	return p;
}

/* ---- the hash ---------------------------------------------------------- */

static const uint8_t v4_a[4] = { 192, 0, 2, 10 };
static const uint8_t v4_b[4] = { 198, 51, 100, 1 };
static const uint8_t v6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
static const uint8_t v6_b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 0x01 };

/* The values cap_dpdk.c's soft spreading computes for these pairs
 * (fold, splitmix64 finaliser, high half times n), worked out by hand:
 * 192.0.2.10 = 0xc000020a, 198.51.100.1 = 0xc6336401; 2001:db8::10 folds
 * to 0x20010db800000010, 2001:db8:5::1 to 0x20010db800050001. */
static void pairhash_literals(void **state)
{
	(void)state;
	assert_int_equal(pairhash_ipv4(v4_a, v4_b), 0x73df79483c575e61ull);
	assert_int_equal(pairhash_ipv4(v4_b, v4_a), 0x73df79483c575e61ull);
	assert_int_equal(pairhash_fold6(v6_a), 0x20010db800000010ull);
	assert_int_equal(pairhash_fold6(v6_b), 0x20010db800050001ull);
	assert_int_equal(pairhash_ipv6(v6_a, v6_b), 0x36256869c2e94a24ull);
	assert_int_equal(pairhash_ipv6(v6_b, v6_a), 0x36256869c2e94a24ull);
	assert_int_equal(pairhash_pick(0x73df79483c575e61ull, 2), 0);
	assert_int_equal(pairhash_pick(0x73df79483c575e61ull, 3), 1);
	assert_int_equal(pairhash_pick(0x73df79483c575e61ull, 16), 7);
	assert_int_equal(pairhash_pick(0x36256869c2e94a24ull, 16), 3);
	assert_int_equal(pairhash_pick(UINT64_MAX, 3), 2);
	assert_int_equal(pairhash_pick(0, 3), 0);
}

/* DNS query 192.0.2.10:40000 -> 198.51.100.1:53 in 802.1Q VLAN 200, and
 * its reply; only the addresses may matter. */
static const uint8_t vlan_query[] = {
	2, 0, 0, 0, 0, 1,  2, 0, 0, 0, 0, 2,  0x81, 0x00, 0x00, 0xc8, 0x08, 0x00,
	0x45, 0x00, 0x00, 47, 0x00, 0x03, 0x40, 0x00, 64, 17, 0x00, 0x00,
	192, 0, 2, 10,   198, 51, 100, 1,
	0x9c, 0x40, 0x00, 53, 0x00, 27, 0x00, 0x00,
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 'a', 0x00, 0x00, 0x01, 0x00, 0x01,
};
static const uint8_t vlan_reply[] = {
	2, 0, 0, 0, 0, 2,  2, 0, 0, 0, 0, 1,  0x81, 0x00, 0x00, 0xc8, 0x08, 0x00,
	0x45, 0x00, 0x00, 47, 0x00, 0x04, 0x40, 0x00, 64, 17, 0x00, 0x00,
	198, 51, 100, 1,   192, 0, 2, 10,
	0x00, 53, 0x9c, 0x40, 0x00, 27, 0x00, 0x00,
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 'a', 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* The later fragment (offset 1480 bytes) of a datagram between the same
 * hosts, no UDP header: raw IPv4. */
static const uint8_t later_fragment[] = {
	0x45, 0x00, 0x00, 28, 0x00, 0x07, 0x00, 0xb9, 64, 17, 0x00, 0x00,
	198, 51, 100, 1,   192, 0, 2, 10,
	0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
};
/* Linux cooked v2, IPv6 TCP 2001:db8::10 -> 2001:db8:5::1 (header only,
 * payload cut), and the reverse in QinQ (88a8 100, 8100 200). */
static const uint8_t sll2_v6[] = {
	0x86, 0xdd, 0, 0,  0, 0, 0, 3,  0, 1, 0, 6,  2, 0, 0, 0, 0, 1, 0, 0,
	0x60, 0, 0, 0,  0, 20, 6, 64,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};
static const uint8_t qinq_v6[] = {
	2, 0, 0, 0, 0, 2,  2, 0, 0, 0, 0, 1,
	0x88, 0xa8, 0x00, 0x64,  0x81, 0x00, 0x00, 0xc8,  0x86, 0xdd,
	0x60, 0, 0, 0,  0, 20, 6, 64,
	0x20, 0x01, 0x0d, 0xb8, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
};
/* Linux cooked v1, IPv4 ICMP echo reply 198.51.100.1 -> 192.0.2.10. */
static const uint8_t sll_v4[] = {
	0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0, 0x08, 0x00,
	0x45, 0x00, 0x00, 28, 0x00, 0x09, 0x00, 0x00, 64, 1, 0x00, 0x00,
	198, 51, 100, 1,   192, 0, 2, 10,
	0, 0, 0, 0, 0, 1, 0, 1,
};
/* An ARP request (no IP header). */
static const uint8_t arp[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  2, 0, 0, 0, 0, 1,  0x08, 0x06,
	0, 1, 0x08, 0x00, 6, 4, 0, 1,  2, 0, 0, 0, 0, 1,  192, 0, 2, 10,
	0, 0, 0, 0, 0, 0,  198, 51, 100, 1,
};
/* PPPoE session (not spread: worker 0). */
static const uint8_t pppoe[] = {
	2, 0, 0, 0, 0, 1,  2, 0, 0, 0, 0, 2,  0x88, 0x64,
	0x11, 0x00, 0x00, 0x01, 0x00, 0x16,  0x00, 0x21,
	0x45, 0x00, 0x00, 20, 0x00, 0x09, 0x00, 0x00, 64, 1, 0x00, 0x00,
	198, 51, 100, 1,   192, 0, 2, 10,
};

/* The PPPoE frame's IPv4 header starts after Ethernet (14), the PPPoE
 * session header (6) and the PPP protocol (2): its addresses spread it
 * like any IPv4 packet (decode's own walk of the link layer). */
#define PPPOE_IP_OFF 22
static unsigned pppoe_worker(unsigned n)
{
	return pairhash_pick(pairhash_ipv4(pppoe + PPPOE_IP_OFF + 12,
					   pppoe + PPPOE_IP_OFF + 16), n);
}

static unsigned pick(struct workers *w, const uint8_t *b, size_t len, uint16_t link)
{
	struct pkt p = mkpkt(b, len, link, T0);
	return workers_pick(w, &p);
}

static void pick_symmetric(void **state)
{
	(void)state;
	struct fx x;
	start(&x, pair_rules, 3);
	struct workers *w = x.w;
	/* v4 pair -> 1 of 3, v6 pair -> 0 of 3 (pairhash_literals) */
	assert_int_equal(pick(w, vlan_query, sizeof vlan_query, PKT_LINK_ETHERNET), 1);
	assert_int_equal(pick(w, vlan_reply, sizeof vlan_reply, PKT_LINK_ETHERNET), 1);
	assert_int_equal(pick(w, later_fragment, sizeof later_fragment, PKT_LINK_RAW), 1);
	assert_int_equal(pick(w, later_fragment, sizeof later_fragment, PKT_LINK_IPV4), 1);
	assert_int_equal(pick(w, later_fragment, sizeof later_fragment,
	                      DECODE_LINK_RAW_BSD), 1);
	assert_int_equal(pick(w, sll_v4, sizeof sll_v4, PKT_LINK_LINUX_SLL), 1);
	assert_int_equal(pick(w, sll2_v6, sizeof sll2_v6, PKT_LINK_LINUX_SLL2), 0);
	assert_int_equal(pick(w, qinq_v6, sizeof qinq_v6, PKT_LINK_ETHERNET), 0);
	assert_int_equal(pick(w, sll2_v6 + 20, sizeof sll2_v6 - 20, PKT_LINK_RAW), 0);
	assert_int_equal(pick(w, sll2_v6 + 20, sizeof sll2_v6 - 20, PKT_LINK_IPV6), 0);

	/* a pair that picks worker 2 (found by search below), in every
	 * encapsulation and both directions */
	uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 9, 0, 0 };
	uint8_t f[128], r[128];
	uint16_t lf, lr;
	bool found[3] = { false, false, false };
	for (unsigned v6 = 0; v6 < 2; v6++) {
		for (unsigned k = 0; k < 64; k++) {
			b[3] = (uint8_t)k;
			b[15] = (uint8_t)k;
			unsigned want = pairhash_pick(v6 ? pairhash_ipv6(a, b)
			                                 : pairhash_ipv4(a, b), 3);
			found[want] = true;
			for (enum enc e = 0; e < ENC_MAX; e++) {
				size_t nf = mk_udp(f, e, v6, a, b, 1000, 53, 4, 0, &lf);
				size_t nr = mk_udp(r, e, v6, b, a, 53, 1000, 9, 0, &lr);
				assert_int_equal(pick(w, f, nf, lf), want);
				assert_int_equal(pick(w, r, nr, lr), want);
			}
		}
	}
	assert_true(found[0] && found[1] && found[2]);

	/* no IP pair: worker 0 */
	assert_int_equal(pick(w, arp, sizeof arp, PKT_LINK_ETHERNET), 0);
	assert_int_equal(pick(w, pppoe, sizeof pppoe, PKT_LINK_ETHERNET), pppoe_worker(3));
	assert_int_equal(pick(w, vlan_query, 18 + 19, PKT_LINK_ETHERNET), 0);  /* dst cut */
	assert_int_equal(pick(w, vlan_query, 18 + 20, PKT_LINK_ETHERNET), 1);  /* just enough */
	assert_int_equal(pick(w, vlan_query, 15, PKT_LINK_ETHERNET), 0);       /* tag cut */
	assert_int_equal(pick(w, vlan_query, 0, PKT_LINK_ETHERNET), 0);
	assert_int_equal(pick(w, vlan_query, sizeof vlan_query, 9999), 0);      /* unknown link */
	assert_int_equal(pick(w, sll2_v6 + 20, 39, PKT_LINK_RAW), 0);
	assert_int_equal(pick(w, arp + 14, sizeof arp - 14, PKT_LINK_RAW), 0);  /* version 0 */
	assert_int_equal(pick(w, NULL, 0, PKT_LINK_RAW), 0);
	stop(&x);
}

static void start_refused(void **state)
{
	(void)state;
	struct engine e;
	struct diag d;
	struct engine_config c;
	diag_init(&d, "test");
	engine_config_default(&c);
	c.max_flows = 16;
	assert_int_equal(engine_init(&e, &c, &d), 0);
	assert_null(workers_start(&e, &d));
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.msgs[0].text, "shards"));
	engine_free(&e);
	diag_free(&d);
	workers_stop(NULL);
}

/* ---- a generated mix through the workers -------------------------------- */

#define PAIRS 120
#define ARENA_BYTES (1u << 20)
#define MAX_PKTS 4096

struct gen {
	uint8_t arena[ARENA_BYTES];
	size_t used;
	struct pkt p[MAX_PKTS];
	int pair[MAX_PKTS];          /* -1: not IP */
	size_t n;
	/* expected per pair */
	uint8_t client[PAIRS][16];
	bool v6[PAIRS];
	uint64_t to_pdus[PAIRS], from_pdus[PAIRS], to_oct[PAIRS], from_oct[PAIRS];
	uint64_t octets, non_ip, pppoe;
};

static uint8_t *gen_room(struct gen *g, size_t len)
{
	assert_true(g->used + len <= ARENA_BYTES && g->n < MAX_PKTS);
	return g->arena + g->used;
}

/* pair -1: ARP, -2: PPPoE (IP inside: pppoe_worker's) */
static void gen_add(struct gen *g, size_t len, uint16_t link, int pair, bool rev)
{
	uint8_t *b = g->arena + g->used;
	g->p[g->n] = mkpkt(b, len, link, T0 + g->n * 10 * US);
	g->pair[g->n] = pair;
	g->n++;
	g->used += len;
	g->octets += len;
	if (pair < 0) {
		if (pair == -2)
			g->pppoe++;
		else
			g->non_ip++;
		return;
	}
	if (rev) {
		g->from_pdus[pair]++;
		g->from_oct[pair] += len;
	} else {
		g->to_pdus[pair]++;
		g->to_oct[pair] += len;
	}
}

/* An IPv4 datagram of pair j split in three fragments (first with the UDP
 * header, a middle and a last one), client -> server. */
static void gen_v4_fragments(struct gen *g, int j, const uint8_t *c, const uint8_t *s,
			     enum enc e)
{
	static const uint16_t frag[3] = { 0x2000, 0x2000 | 3, 6 };  /* MF, offsets 0, 24, 48 */
	for (unsigned i = 0; i < 3; i++) {
		uint8_t *b = gen_room(g, 128);
		uint16_t link;
		size_t l2 = put_link(b, e, ET_IPV4, &link);
		put_ipv4(b + l2, c, s, 17, 20 + 24, 0x77, frag[i]);
		if (i == 0)
			put_udp(b + l2 + 20, 5000, 7000, 72);
		memset(b + l2 + 20 + (i == 0 ? 8 : 0), 0xa5, i == 0 ? 16 : 24);
		gen_add(g, l2 + 44, link, j, false);
	}
}

/* The same over IPv6: a first fragment (offset 0, M) and a later one. */
static void gen_v6_fragments(struct gen *g, int j, const uint8_t *c, const uint8_t *s,
			     enum enc e)
{
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *b = gen_room(g, 160);
		uint16_t link;
		size_t l2 = put_link(b, e, ET_IPV6, &link);
		put_ipv6(b + l2, c, s, 44, 8 + 24);
		uint8_t *fh = b + l2 + 40;
		memset(fh, 0, 8);
		fh[0] = 17;
		put16(fh + 2, i == 0 ? 0x0001 : (uint16_t)(24 | 0));  /* offset 0 M / 24 */
		put16(fh + 6, 0x99);
		if (i == 0)
			put_udp(fh + 8, 5000, 7000, 48);
		memset(fh + 8 + (i == 0 ? 8 : 0), 0x5a, i == 0 ? 16 : 24);
		gen_add(g, l2 + 40 + 8 + 24, link, j, false);
	}
}

static void generate(struct gen *g)
{
	memset(g, 0, sizeof *g);
	uint8_t server[16];
	/* rounds: pair j sends in round r < its count, so directions and
	 * pairs interleave */
	for (unsigned round = 0; round < 6; round++) {
		for (int j = 0; j < PAIRS; j++) {
			enum enc e = (enum enc)(j % ENC_MAX);
			bool v6 = j % 3 == 2;
			uint8_t *c = g->client[j];
			g->v6[j] = v6;
			memset(c, 0, 16);
			memset(server, 0, 16);
			if (v6) {
				c[0] = 0x20; c[1] = 0x01; c[2] = 0x0d; c[3] = 0xb8;
				c[14] = 0xc0; c[15] = (uint8_t)j;
				memcpy(server, c, 4);
				server[4] = 5;
				server[15] = (uint8_t)(j % 16 + 1);
			} else {
				c[0] = 10; c[2] = (uint8_t)(j >> 8); c[3] = (uint8_t)j;
				server[0] = 198; server[1] = 51; server[2] = 100;
				server[3] = (uint8_t)(j % 16 + 1);
			}
			unsigned n_to = 1 + (unsigned)j % 5, n_from = (unsigned)j % 4;
			uint16_t link;
			if (round < n_to) {
				uint8_t *b = gen_room(g, 1600);
				size_t len = mk_udp(b, e, v6, c, server, (uint16_t)(20000 + j), 53,
				                    (uint16_t)(12 + round * 97 + (unsigned)j),
				                    (uint8_t)j, &link);
				gen_add(g, len, link, j, false);
			}
			if (round < n_from && round < n_to) {
				uint8_t *b = gen_room(g, 1600);
				size_t len = mk_udp(b, e, v6, server, c, 53, (uint16_t)(20000 + j),
				                    (uint16_t)(40 + round * 131 + (unsigned)j),
				                    (uint8_t)~j, &link);
				gen_add(g, len, link, j, true);
			}
			if (round == 1 && j % 10 == 0 && !v6)
				gen_v4_fragments(g, j, c, server, e);
			if (round == 2 && j % 10 == 5 && v6)
				gen_v6_fragments(g, j, c, server, e);
		}
		/* a few non-IP frames each round */
		for (unsigned k = 0; k < 3; k++) {
			uint8_t *b = gen_room(g, sizeof arp);
			memcpy(b, k == 2 ? pppoe : arp, k == 2 ? sizeof pppoe : sizeof arp);
			gen_add(g, k == 2 ? sizeof pppoe : sizeof arp, PKT_LINK_ETHERNET,
			        k == 2 ? -2 : -1, false);
		}
	}
}

static int pair_of(const struct gen *g, const struct flow_key *k)
{
	struct flow_key_item it;
	if (!flow_key_get(k, ATTR_SOURCE_PEER_ADDRESS, &it))
		return -1;
	for (int j = 0; j < PAIRS; j++)
		if (it.width == (g->v6[j] ? 16 : 4) &&
		    memcmp(it.value, g->client[j], it.width) == 0)
			return j;
	return -1;
}

static void check_mix(struct fx *x, const struct gen *g)
{
	uint64_t packets = 0, octets = 0, flows = 0;
	bool seen[PAIRS] = { false }, pppoe_seen = false;
	unsigned used = 0;
	for (unsigned s = 0; s < x->n; s++) {
		struct engine *sh = engine_shard(&x->view, s);
		uint64_t flows_before = flows;
		packets += sh->st.packets;
		octets += sh->st.octets;
		/* non-IP frames: all on worker 0 */
		assert_int_equal(sh->st.bad[PKT_BAD_ETHERTYPE], s == 0 ? g->non_ip : 0);
		assert_int_equal(sh->st.rtt_samples_dropped, 0);
		/* each pair's flow is whole (both directions, every fragment)
		 * in exactly one shard */
		for (struct flow *f = flow_next_active(sh->flows, 0, 0); f;
		     f = flow_next_active(sh->flows, flow_index(sh->flows, f), 0)) {
			int j = pair_of(g, flow_get_key(sh->flows, f));
			if (j < 0 && s == pppoe_worker((unsigned)x->n) && f->to_pdus == g->pppoe &&
			    f->from_pdus == 0 && !pppoe_seen) {
				pppoe_seen = true;
				continue;
			}
			assert_true(j >= 0);
			assert_false(seen[j]);
			seen[j] = true;
			flows++;
			assert_int_equal(f->to_pdus, g->to_pdus[j]);
			assert_int_equal(f->from_pdus, g->from_pdus[j]);
			assert_int_equal(f->to_octets, g->to_oct[j]);
			assert_int_equal(f->from_octets, g->from_oct[j]);
		}
		used += flows > flows_before;
	}
	assert_int_equal(packets, g->n);
	assert_int_equal(octets, g->octets);
	assert_int_equal(flows, PAIRS);
	assert_true(pppoe_seen);
	assert_int_equal(used, x->n);     /* every worker had pairs */
	assert_int_equal(workers_pushed(x->w), g->n);
	/* the view after a sync holds the totals */
	engine_sync(&x->view);
	assert_int_equal(x->view.st.packets, g->n);
	assert_int_equal(x->view.st.octets, g->octets);
}

static void every_packet_once(unsigned shards)
{
	struct gen *g = malloc(sizeof *g);
	assert_non_null(g);
	generate(g);
	struct fx x;
	start(&x, pair_rules, shards);
	for (size_t i = 0; i < g->n; i++) {
		unsigned k = workers_pick(x.w, &g->p[i]);
		assert_true(k < shards);
		workers_push(x.w, k, &g->p[i]);
	}
	/* the source buffers may be reused once pushed */
	memset(g->arena, 0xee, g->used);
	workers_quiesce(x.w);
	check_mix(&x, g);
	stop(&x);
	free(g);
}

static void every_packet_once_2(void **state)
{
	(void)state;
	every_packet_once(2);
}

static void every_packet_once_3(void **state)
{
	(void)state;
	every_packet_once(3);
}

/* ---- ring wrap-around ---------------------------------------------------- */

/* TCP to port 53 carrying two pipelined DNS queries: the first's length
 * prefix spans the segment up to the second, which ends the datagram; so
 * each segment counts two requests only if its last bytes came through.
 * The frame is `caplen` long (an Ethernet trailer after the datagram, up
 * to the largest caplen a ring takes). */
static size_t mk_tcp_dns(uint8_t *b, size_t caplen, const uint8_t *c, const uint8_t *s,
			 uint16_t dgram, uint16_t id)
{
	uint16_t link;
	size_t l2 = put_link(b, ENC_ETH, ET_IPV4, &link);
	static const uint8_t q[19] = {
		0, 0, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
		0x01, 'a', 0x00, 0x00, 0x01, 0x00, 0x01,
	};
	size_t pay = dgram - 40u, first = pay - 2 - 2 - sizeof q;
	uint8_t *t = b + l2 + 20, *m = t + 20;
	assert_true(pay >= 2 + 2 + 2 * sizeof q && l2 + dgram <= caplen);
	put_ipv4(b + l2, c, s, 6, dgram, id, 0x4000);
	memset(t, 0, 20);
	put16(t, 40000);
	put16(t + 2, 53);
	t[12] = 5 << 4;
	t[13] = 0x18;                 /* PSH ACK */
	put16(m, (uint16_t)first);
	memcpy(m + 2, q, sizeof q);
	put16(m + 2, id);
	memset(m + 2 + sizeof q, 0x3c, first - sizeof q);
	put16(m + 2 + first, sizeof q);
	memcpy(m + 4 + first, q, sizeof q);
	put16(m + 4 + first, (uint16_t)(id ^ 0x8000));
	memset(b + l2 + dgram, 0xc3, caplen - l2 - dgram);
	return caplen;
}

static void ring_wrap(void **state)
{
	(void)state;
	/* sizes cycle through small, jumbo, 64 KiB and near the largest
	 * caplen; odd sizes exercise the padding */
	static const size_t caplens[] = {
		90 + 14, 1514, 97 + 14, 9014, 65535 + 14, 333 + 14,
		WORKERS_CAPLEN_MAX, WORKERS_CAPLEN_MAX - 1, 85 + 14,
		WORKERS_CAPLEN_MAX - 7, 1200 + 14, 40001 + 14,
	};
	const size_t n_sizes = sizeof caplens / sizeof caplens[0];
	/* 5 clients (prime to the 12 sizes: each sees every size), on both
	 * workers (clients 0 and 4 hash to worker 1, the others to 0) */
	enum { CLIENTS = 5, PACKETS = 300 };
	uint8_t *buf = malloc(WORKERS_CAPLEN_MAX + 4096);
	assert_non_null(buf);
	struct fx x;
	start(&x, pair_rules, 2);
	uint8_t cl[CLIENTS][4], sv[4] = { 192, 0, 2, 53 };
	uint64_t pdus[CLIENTS] = { 0 }, oct[CLIENTS] = { 0 }, first[CLIENTS], last[CLIENTS];
	uint64_t ring_bytes[2] = { 0, 0 }, ts = T0;
	for (unsigned c = 0; c < CLIENTS; c++) {
		cl[c][0] = 10; cl[c][1] = 7; cl[c][2] = 0; cl[c][3] = (uint8_t)c;
	}
	for (unsigned n = 0; n < PACKETS; n++) {
		unsigned c = n % CLIENTS;
		size_t cap = caplens[n % n_sizes];
		uint16_t dgram = (uint16_t)(cap - 14 > 65535 ? 65535 : cap - 14);
		mk_tcp_dns(buf, cap, cl[c], sv, dgram, (uint16_t)n);
		struct pkt p = mkpkt(buf, cap, PKT_LINK_ETHERNET, ts += 3 * US);
		p.wirelen = (uint32_t)cap + n % 3;   /* as if the capture was cut */
		if (pdus[c] == 0)
			first[c] = p.ts_ns;
		last[c] = p.ts_ns;
		pdus[c]++;
		oct[c] += p.wirelen;
		unsigned k = workers_pick(x.w, &p);
		assert_int_equal(k, c == 0 || c == 4 ? 1 : 0);
		ring_bytes[k] += WORKERS_REC_HDR + cap;
		workers_push(x.w, k, &p);
		memset(buf, 0, 64);  /* the ring holds its own copy */
	}
	/* one frame longer than a ring takes: cut, still counted whole */
	{
		size_t cap = WORKERS_CAPLEN_MAX + 100;
		mk_tcp_dns(buf, cap, cl[0], sv, 1000, 0x4242);
		struct pkt p = mkpkt(buf, cap, PKT_LINK_ETHERNET, ts += 3 * US);
		last[0] = p.ts_ns;
		pdus[0]++;
		oct[0] += p.wirelen;
		workers_push(x.w, workers_pick(x.w, &p), &p);
	}
	workers_quiesce(x.w);
	assert_int_equal(workers_truncated(x.w), 1);
	/* both rings went round several times */
	assert_true(ring_bytes[0] > 3ull * WORKERS_RING_BYTES);
	assert_true(ring_bytes[1] > 3ull * WORKERS_RING_BYTES);

	unsigned flows = 0;
	for (unsigned s = 0; s < 2; s++) {
		struct engine *sh = engine_shard(&x.view, s);
		for (unsigned b = 1; b < PKT_BAD_MAX; b++)
			assert_int_equal(sh->st.bad[b], 0);
		for (struct flow *f = flow_next_active(sh->flows, 0, 0); f;
		     f = flow_next_active(sh->flows, flow_index(sh->flows, f), 0)) {
			struct flow_key_item it;
			assert_true(flow_key_get(flow_get_key(sh->flows, f),
			                         ATTR_SOURCE_PEER_ADDRESS, &it));
			unsigned c = it.value[3];
			assert_true(c < CLIENTS);
			assert_memory_equal(it.value, cl[c], 4);
			flows++;
			assert_int_equal(f->to_pdus, pdus[c]);
			assert_int_equal(f->to_octets, oct[c]);
			assert_int_equal(f->first_ns, first[c]);
			assert_int_equal(f->last_ns, last[c]);
			/* two queries per segment: both ends of every datagram
			 * arrived intact */
			assert_int_equal(f->dns.requests, 2 * pdus[c]);
		}
	}
	assert_int_equal(flows, CLIENTS);
	stop(&x);
	free(buf);
}

/* ---- a full ring makes the producer wait, nothing is lost ----------------- */

/* A TCP segment to port 53 packed with minimal pipelined DNS queries (a
 * length prefix and a 19-byte query each): the worker decodes and pairs
 * every one of them, tens of times the work of copying the frame. */
static size_t mk_tcp_dns_many(uint8_t *b, size_t frame, uint16_t *link)
{
	static const uint8_t q[19] = {
		0, 0, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
		0x01, 'a', 0x00, 0x00, 0x01, 0x00, 0x01,
	};
	size_t l2 = put_link(b, ENC_ETH, ET_IPV4, link);
	size_t dgram = frame - l2, pay = dgram - 40u;
	uint8_t *t = b + l2 + 20, *m = t + 20;
	put_ipv4(b + l2, v4_a, v4_b, 6, (uint16_t)dgram, 1, 0x4000);
	memset(t, 0, 20);
	put16(t, 40000);
	put16(t + 2, 53);
	t[12] = 5 << 4;
	t[13] = 0x18;                 /* PSH ACK */
	memset(m, 0, pay);
	for (size_t at = 0, id = 1; at + 2 + sizeof q <= pay; at += 2 + sizeof q, id++) {
		put16(m + at, sizeof q);
		memcpy(m + at + 2, q, sizeof q);
		put16(m + at + 2, (uint16_t)id);
	}
	return frame;
}

static void full_ring_waits(void **state)
{
	(void)state;
	/* full-size frames of one pair, all to worker 1, each tens of DNS
	 * messages to pair: metering one costs far more than copying it, so
	 * the ring fills (WORKERS_SYNC_PACKETS of them are 6 rings' worth);
	 * rounds go on until it did */
	enum { ROUNDS_MAX = 10, PER_ROUND = WORKERS_SYNC_PACKETS };
	struct fx x;
	start(&x, pair_rules, 2);
	uint8_t b[1600];
	uint16_t link;
	size_t len = mk_tcp_dns_many(b, 1514, &link);
	uint64_t sent = 0, ts = T0;
	for (unsigned r = 0; r < ROUNDS_MAX && workers_full_waits(x.w) == 0; r++) {
		for (unsigned i = 0; i < PER_ROUND; i++, sent++) {
			struct pkt p = mkpkt(b, len, link, ts += US);
			workers_push(x.w, 1, &p);
		}
	}
	workers_quiesce(x.w);
	assert_true(workers_full_waits(x.w) > 0);
	struct engine *sh = engine_shard(&x.view, 1);
	assert_int_equal(engine_shard(&x.view, 0)->st.packets, 0);
	assert_int_equal(sh->st.packets, sent);
	assert_int_equal(sh->st.bad[PKT_OK], sent);
	struct flow *f = flow_next_active(sh->flows, 0, 0);
	assert_non_null(f);
	assert_int_equal(f->to_pdus, sent);
	assert_int_equal(f->to_octets, sent * 1514);
	assert_int_equal(f->last_ns, ts);
	assert_null(flow_next_active(sh->flows, flow_index(sh->flows, f), 0));
	stop(&x);
}

/* ---- forced syncs keep every RTT sample ------------------------------------ */

static void forced_sync_keeps_samples(void **state)
{
	(void)state;
	/* more exchanges with one server than a shard buffers samples
	 * between syncs: only the forced syncs keep them all */
	enum { EXCHANGES = ENGINE_SHARD_SAMPLES + ENGINE_SHARD_SAMPLES / 4 };
	struct fx x;
	start(&x, dns_rules, 2);
	uint8_t q[sizeof vlan_query], r[sizeof vlan_reply];
	memcpy(q, vlan_query, sizeof q);
	memcpy(r, vlan_reply, sizeof r);
	uint64_t ts = T0, answered = 0;
	unsigned per_worker[2] = { 0, 0 };
	for (unsigned i = 0; i < EXCHANGES; i++) {
		/* every eighth exchange from another client (192.0.2.10,
		 * .11, .12 hash to worker 0, .13 to worker 1), so both
		 * workers run */
		uint8_t client = (uint8_t)(i % 8 == 7 ? 10 + i / 8 % 4 : 10);
		q[18 + 15] = client;
		r[18 + 19] = client;
		put16(q + 18 + 28, (uint16_t)i);
		put16(r + 18 + 28, (uint16_t)i);
		struct pkt pq = mkpkt(q, sizeof q, PKT_LINK_ETHERNET, ts);
		struct pkt pr = mkpkt(r, sizeof r, PKT_LINK_ETHERNET,
		                      ts + 100 * US + i % 50 * US);
		unsigned k = workers_pick(x.w, &pq);
		assert_int_equal(workers_pick(x.w, &pr), k);
		per_worker[k] += 2;
		workers_push(x.w, k, &pq);
		workers_push(x.w, k, &pr);
		answered++;
		ts += MS;
	}
	workers_quiesce(x.w);
	engine_sync(&x.view);
	/* the main client's worker alone was given more packets than a
	 * shard may take between syncs */
	assert_true(per_worker[0] > 2u * ENGINE_SHARD_SAMPLES);
	assert_true(per_worker[1] > 0);
	assert_true(workers_forced_syncs(x.w) >=
	            2ull * EXCHANGES / WORKERS_SYNC_PACKETS - 1);
	assert_int_equal(x.samples, answered);
	assert_int_equal(x.samples_unordered, 0);
	assert_int_equal(x.view.st.rtt_samples, answered);
	assert_int_equal(x.view.st.rtt_samples_dropped, 0);
	uint64_t view_answered = 0, dist_count = 0;
	for (struct flow *f = flow_next_active(x.view.flows, 0, 0); f;
	     f = flow_next_active(x.view.flows, flow_index(x.view.flows, f), 0)) {
		view_answered += f->dns.answered;
		const struct dist *d = flow_dist_peek(x.view.flows, f);
		assert_non_null(d);
		dist_count += d->count;
	}
	assert_int_equal(view_answered, answered);
	assert_int_equal(dist_count, answered);
	stop(&x);
}

/* ---- sleeping and waking --------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * SEC + (uint64_t)t.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = { 0, (long)ms * 1000000L };
	nanosleep(&t, NULL);
}

/* A sleeping worker is woken by the push that gives it work (not by its
 * 100 ms safety timeout), and stop does not wait for timeouts either. */
static void wake_and_stop_promptly(void **state)
{
	(void)state;
	enum { ROUNDS = 10 };
	struct fx x;
	start(&x, pair_rules, 3);
	uint64_t busy = 0;
	for (unsigned i = 0; i < ROUNDS; i++) {
		sleep_ms(5);               /* every worker is asleep by now */
		uint64_t t = now_ns();
		struct pkt p = mkpkt(vlan_query, sizeof vlan_query,
		                     PKT_LINK_ETHERNET, T0 + i * SEC);
		workers_push(x.w, i % 3, &p);
		workers_quiesce(x.w);
		busy += now_ns() - t;
	}
	/* a lost wake-up would cost ~95 ms (the rest of the worker's
	 * 100 ms timeout) in a round */
	assert_true(busy < 300 * MS);
	uint64_t packets = 0;
	for (unsigned s = 0; s < 3; s++)
		packets += engine_shard(&x.view, s)->st.packets;
	assert_int_equal(packets, ROUNDS);
	sleep_ms(5);
	uint64_t t = now_ns();
	workers_stop(x.w);
	x.w = NULL;
	assert_true(now_ns() - t < 60 * MS);
	stop(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pairhash_literals),
		cmocka_unit_test(pick_symmetric),
		cmocka_unit_test(start_refused),
		cmocka_unit_test(every_packet_once_2),
		cmocka_unit_test(every_packet_once_3),
		cmocka_unit_test(ring_wrap),
		cmocka_unit_test(full_ring_waits),
		cmocka_unit_test(forced_sync_keeps_samples),
		cmocka_unit_test(wake_and_stop_promptly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
