/*
 * gen_trace — writes a synthetic DNS campus trace as a pcap file, with a
 * truth file of what the trace contains, so the meter's counts and RTTs can
 * be checked exactly.
 *
 * Clients on a local net (10.1.0.0/16, fd00:1::/64) query the 13 root and
 * 13 gTLD servers (IPv4 and IPv6) and two local resolvers: UDP mostly, some
 * DNS over TCP (handshake, length-prefixed messages, FIN), some frames with
 * 802.1Q or QinQ tags, retransmitted queries (same id re-sent; the RTT is
 * measured from the latest request, as tshark's dns.time), duplicate
 * responses, unanswered queries, responses nobody asked for, and non-DNS
 * background traffic.  Every timestamp is a whole number of µs from the
 * start (in ns files plus a constant sub-µs offset), so RTTs are exact in
 * µs.  The output is a pure function of the options.
 *
 * Truth (--truth FILE): one line per answered query,
 *   time_ns,server,client,transport,rtt_us,rtt_first_us
 * time_ns is the response's; rtt_us is measured from the latest request
 * (what ntm reports), rtt_first_us from the first one — what tshark 4.0's
 * dns.time reports for retransmitted queries.  They differ only when the
 * query was retransmitted.
 * and per server (--summary FILE, default TRUTH.servers.csv):
 *   server,requests,responses,answered,lost,retransmissions,
 *   dup_responses,unmatched_responses,pkts_to,wire_octets_to,ip_octets_to,
 *   pkts_from,wire_octets_from,ip_octets_from
 * "to" is client -> server.  Packets are counted with TCP handshakes;
 * wire octets are the frame lengths (pcap orig_len), ip octets the IP
 * packet lengths.
 *
 * --distinct-sources N first emits N one-query packets, each from its own
 * source address (10.0.0.0/8 then 100.64.0.0/10 ...), 1 µs apart, none
 * answered: a flood for bounded-memory tests, streamed, never buffered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- constants ---------- */

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define LINKTYPE_ETHERNET 1
#define SNAPLEN_DEFAULT 65535u
#define NS_SUBUS_OFFSET 417u       /* ns files: sub-µs digits, constant */

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define UDP_HLEN 8
#define TCP_HLEN 20
#define ICMP_HLEN 8
#define DNS_HLEN 12
#define DNS_PORT 53
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define N_CLIENTS 200u
#define PKT_MAX 1600u

/* Shares of the mix, in per mille. */
#define PM_TCP 50
#define PM_IPV6 250
#define PM_VLAN 100
#define PM_QINQ 50
#define PM_RETRANS 30
#define PM_LOST 20
#define PM_DUP 10
#define PM_UNSOLICITED 5

#define VLAN_SINGLE 100
#define VLAN_OUTER 200
#define VLAN_INNER 300

/* ---------- servers ---------- */

struct server_def {
	const char *name;
	const char *v4, *v6;
	bool local;
};

static const struct server_def server_defs[] = {
	{ "a.root-servers.net", "198.41.0.4", "2001:503:ba3e::2:30", false },
	{ "b.root-servers.net", "170.247.170.2", "2801:1b8:10::b", false },
	{ "c.root-servers.net", "192.33.4.12", "2001:500:2::c", false },
	{ "d.root-servers.net", "199.7.91.13", "2001:500:2d::d", false },
	{ "e.root-servers.net", "192.203.230.10", "2001:500:a8::e", false },
	{ "f.root-servers.net", "192.5.5.241", "2001:500:2f::f", false },
	{ "g.root-servers.net", "192.112.36.4", "2001:500:12::d0d", false },
	{ "h.root-servers.net", "198.97.190.53", "2001:500:1::53", false },
	{ "i.root-servers.net", "192.36.148.17", "2001:7fe::53", false },
	{ "j.root-servers.net", "192.58.128.30", "2001:503:c27::2:30", false },
	{ "k.root-servers.net", "193.0.14.129", "2001:7fd::1", false },
	{ "l.root-servers.net", "199.7.83.42", "2001:500:9f::42", false },
	{ "m.root-servers.net", "202.12.27.33", "2001:dc3::35", false },
	{ "a.gtld-servers.net", "192.5.6.30", "2001:503:a83e::2:30", false },
	{ "b.gtld-servers.net", "192.33.14.30", "2001:503:231d::2:30", false },
	{ "c.gtld-servers.net", "192.26.92.30", "2001:503:83eb::30", false },
	{ "d.gtld-servers.net", "192.31.80.30", "2001:500:856e::30", false },
	{ "e.gtld-servers.net", "192.12.94.30", "2001:502:1ca1::30", false },
	{ "f.gtld-servers.net", "192.35.51.30", "2001:503:d414::30", false },
	{ "g.gtld-servers.net", "192.42.93.30", "2001:503:eea3::30", false },
	{ "h.gtld-servers.net", "192.54.112.30", "2001:502:8cc::30", false },
	{ "i.gtld-servers.net", "192.43.172.30", "2001:503:39c1::30", false },
	{ "j.gtld-servers.net", "192.48.79.30", "2001:502:7094::30", false },
	{ "k.gtld-servers.net", "192.52.178.30", "2001:503:d2d::30", false },
	{ "l.gtld-servers.net", "192.41.162.30", "2001:500:d937::30", false },
	{ "m.gtld-servers.net", "192.55.83.30", "2001:501:b1f9::30", false },
	{ "resolver1.campus", "10.1.0.53", "fd00:1::53", true },
	{ "resolver2.campus", "10.1.0.54", "fd00:1::54", true },
};
#define N_SERVER_DEFS (sizeof server_defs / sizeof server_defs[0])

/* Per server address (index = server * 2 + (v6 ? 1 : 0)). */
struct counts {
	uint64_t requests, responses, answered, lost, retrans, dups, unmatched;
	uint64_t pkts[2], wire[2], ip[2];   /* [0] to server, [1] from */
};

struct saddr {
	uint8_t a[16];
	char text[INET6_ADDRSTRLEN];
	double base_us;            /* RTT distribution centre */
};

/* ---------- options and state ---------- */

struct opts {
	const char *out, *truth, *summary;
	bool ns;
	uint64_t seed;
	double duration, rate;
	uint64_t start;
	uint32_t snaplen;
	unsigned servers;
	unsigned background;
	uint64_t distinct;
};

enum ev_kind { EV_DNS, EV_TCP_CTL, EV_BG_TCP, EV_BG_UDP, EV_BG_ICMP };

struct ev {
	uint64_t t_us;
	uint64_t seq;              /* tie-break: creation order */
	uint32_t tcp_seq, tcp_ack;
	uint32_t rtt_us, rtt_first_us;
	uint16_t client, cport, id, bg_len;
	uint8_t kind, dir;         /* dir 0: client -> server */
	uint8_t v6, vlan, tcp, tcp_flags;
	uint8_t server, qname, qtype_i, nans;
	uint8_t truth, remote;
};

struct heap {
	struct ev *v;
	size_t n, cap;
};

struct gen {
	struct opts o;
	FILE *out, *truth;
	uint64_t rng;
	struct saddr srv[N_SERVER_DEFS * 2];
	struct counts cnt[N_SERVER_DEFS * 2];
	struct heap h;
	uint64_t seq, n_ex, ip_id;
	uint64_t packets;
	uint8_t buf[PKT_MAX];
};

/* ---------- random numbers (splitmix64: tiny, deterministic) ---------- */

static uint64_t rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd_below(struct gen *g, uint32_t n)
{
	return (uint32_t)((rnd(g) >> 32) * n >> 32);
}

static double rnd_unit(struct gen *g)   /* (0, 1) */
{
	return ((double)(rnd(g) >> 11) + 0.5) / 9007199254740992.0;
}

static bool chance(struct gen *g, unsigned per_mille)
{
	return rnd_below(g, 1000) < per_mille;
}

static double rnd_normal(struct gen *g)
{
	return sqrt(-2.0 * log(rnd_unit(g))) * cos(2.0 * M_PI * rnd_unit(g));
}

/* ---------- event heap ordered by (time, seq) ---------- */

static bool ev_less(const struct ev *a, const struct ev *b)
{
	return a->t_us < b->t_us || (a->t_us == b->t_us && a->seq < b->seq);
}

static void heap_push(struct gen *g, struct ev e)
{
	struct heap *h = &g->h;
	size_t i;

	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 4096;
		struct ev *nv = realloc(h->v, ncap * sizeof *nv);

		if (nv == NULL) {
			fprintf(stderr, "gen_trace: out of memory\n");
			exit(1);
		}
		h->v = nv;
		h->cap = ncap;
	}
	e.seq = g->seq++;
	i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!ev_less(&e, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = e;
}

static struct ev heap_pop(struct heap *h)
{
	struct ev top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && ev_less(&h->v[c + 1], &h->v[c]))
			c++;
		if (!ev_less(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

/* ---------- byte writers ---------- */

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, (uint16_t)(v >> 16));
	return put16(p, (uint16_t)v);
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* ---------- DNS messages ---------- */

static const char *const qnames[] = {
	".", "com", "net", "org", "de", "uk", "nz", "edu",
	"example.com", "www.example.org", "mail.example.net", "ns1.example.edu",
};
#define N_QNAMES (sizeof qnames / sizeof qnames[0])
static const uint16_t qtypes[] = { 1, 28, 2, 15, 6 };   /* A AAAA NS MX SOA */
#define N_QTYPES (sizeof qtypes / sizeof qtypes[0])
#define DNS_RR_A_LEN 16            /* pointer, type, class, ttl, rdlen, 4 */

static size_t qname_wire(const char *name, uint8_t *out)
{
	size_t n = 0;

	if (strcmp(name, ".") != 0) {
		while (*name) {
			const char *dot = strchr(name, '.');
			size_t l = dot ? (size_t)(dot - name) : strlen(name);

			if (out) {
				out[n] = (uint8_t)l;
				memcpy(out + n + 1, name, l);
			}
			n += 1 + l;
			name += l + (dot ? 1 : 0);
		}
	}
	if (out)
		out[n] = 0;
	return n + 1;
}

static size_t dns_len(const struct ev *e)
{
	return DNS_HLEN + qname_wire(qnames[e->qname], NULL) + 4 +
	       (e->dir ? (size_t)e->nans * DNS_RR_A_LEN : 0);
}

static size_t dns_build(const struct ev *e, bool local, uint8_t *p)
{
	uint8_t *s = p;
	uint16_t flags;

	if (e->dir == 0)
		flags = local ? 0x0100 : 0x0000;       /* RD to resolvers */
	else
		flags = local ? 0x8180 : 0x8400;       /* QR RD RA / QR AA */
	p = put16(p, e->id);
	p = put16(p, flags);
	p = put16(p, 1);
	p = put16(p, e->dir ? e->nans : 0);
	p = put16(p, 0);
	p = put16(p, 0);
	p += qname_wire(qnames[e->qname], p);
	p = put16(p, qtypes[e->qtype_i]);
	p = put16(p, 1);
	if (e->dir) {
		for (unsigned i = 0; i < e->nans; i++) {
			p = put16(p, 0xc00c);
			p = put16(p, 1);
			p = put16(p, 1);
			p = put32(p, 3600);
			p = put16(p, 4);
			p = put32(p, 0xc6336400u + i);   /* 198.51.100.x */
		}
	}
	return (size_t)(p - s);
}

/* ---------- addresses ---------- */

static void client_addr(const struct ev *e, uint8_t a[16])
{
	memset(a, 0, 16);
	if (e->v6) {
		static const uint8_t pfx[8] = { 0xfd, 0, 0, 1, 0, 0, 0, 0 };

		memcpy(a, pfx, 8);
		a[14] = (uint8_t)(1 + e->client / 250);
		a[15] = (uint8_t)(1 + e->client % 250);
	} else {
		a[0] = 10;
		a[1] = 1;
		a[2] = (uint8_t)(1 + e->client / 250);
		a[3] = (uint8_t)(1 + e->client % 250);
	}
}

/* Background peers: documentation prefixes, never a DNS server. */
static void remote_addr(const struct ev *e, uint8_t a[16])
{
	memset(a, 0, 16);
	if (e->v6) {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[15] = e->remote;
	} else {
		a[0] = 203;
		a[1] = 0;
		a[2] = 113;
		a[3] = e->remote;
	}
}

/* ---------- packet assembly ---------- */

struct l4 {
	uint8_t proto;
	const uint8_t *src, *dst;  /* addresses, 4 or 16 bytes */
	bool v6;
};

/* Ethernet (+ tags) + IP header; returns the L3 payload position. */
static uint8_t *put_l2l3(struct gen *g, uint8_t *p, const struct ev *e,
                         const struct l4 *l, size_t l4len, uint8_t **ip_start)
{
	static const uint8_t mac_router[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	uint8_t mac_client[6] = { 0x02, 0x00, 0x00, 0x01, 0, 0 };

	mac_client[4] = (uint8_t)(e->client >> 8);
	mac_client[5] = (uint8_t)e->client;
	if (e->dir == 0) {
		memcpy(p, mac_router, 6);
		memcpy(p + 6, mac_client, 6);
	} else {
		memcpy(p, mac_client, 6);
		memcpy(p + 6, mac_router, 6);
	}
	p += 12;
	if (e->vlan == 2) {
		p = put16(p, ETHERTYPE_8021AD);
		p = put16(p, VLAN_OUTER);
		p = put16(p, ETHERTYPE_8021Q);
		p = put16(p, VLAN_INNER);
	} else if (e->vlan == 1) {
		p = put16(p, ETHERTYPE_8021Q);
		p = put16(p, VLAN_SINGLE);
	}
	p = put16(p, l->v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	*ip_start = p;
	if (l->v6) {
		p = put32(p, 0x60000000u);
		p = put16(p, (uint16_t)l4len);
		*p++ = l->proto;
		*p++ = e->dir ? 52 : 64;
		memcpy(p, l->src, 16);
		memcpy(p + 16, l->dst, 16);
		p += 32;
	} else {
		uint8_t *h = p;

		*p++ = 0x45;
		*p++ = 0;
		p = put16(p, (uint16_t)(IPV4_HLEN + l4len));
		p = put16(p, (uint16_t)g->ip_id++);
		p = put16(p, 0x4000);
		*p++ = e->dir ? 52 : 64;
		*p++ = l->proto;
		p = put16(p, 0);
		memcpy(p, l->src, 4);
		memcpy(p + 4, l->dst, 4);
		p += 8;
		put16(h + 10, csum_fold(csum_add(0, h, IPV4_HLEN)));
	}
	return p;
}

/* Checksum of an L4 segment at seg (len bytes) with the pseudo-header. */
static uint16_t l4_csum(const struct l4 *l, const uint8_t *seg, size_t len)
{
	size_t alen = l->v6 ? 16 : 4;
	uint32_t s = 0;

	s = csum_add(s, l->src, alen);
	s = csum_add(s, l->dst, alen);
	s += l->proto;
	s += (uint32_t)len;
	s = csum_add(s, seg, len);
	return csum_fold(s);
}

/* Build the frame for e into g->buf; returns the frame length and sets
 * *iplen. */
static size_t build(struct gen *g, const struct ev *e, size_t *iplen)
{
	uint8_t caddr[16], paddr[16];
	const uint8_t *peer;
	uint8_t payload[PKT_MAX];
	size_t plen = 0, l4hdr;
	struct l4 l;
	uint8_t *ip, *seg, *end;
	uint16_t cport = e->cport, pport;
	bool local = false;

	client_addr(e, caddr);
	if (e->kind == EV_DNS || e->kind == EV_TCP_CTL) {
		peer = g->srv[e->server * 2 + e->v6].a;
		local = server_defs[e->server].local;
		pport = DNS_PORT;
	} else {
		remote_addr(e, paddr);
		peer = paddr;
		pport = e->kind == EV_BG_TCP ? 443 : 123;
	}
	l.v6 = e->v6;
	l.src = e->dir ? peer : caddr;
	l.dst = e->dir ? caddr : peer;

	switch (e->kind) {
	case EV_DNS:
		if (e->tcp) {
			plen = dns_build(e, local, payload + 2);
			put16(payload, (uint16_t)plen);
			plen += 2;
		} else {
			plen = dns_build(e, local, payload);
		}
		break;
	case EV_BG_TCP:
	case EV_BG_UDP:
	case EV_BG_ICMP:
		plen = e->bg_len;
		memset(payload, 0x5a, plen);
		break;
	default:
		break;
	}

	if (e->kind == EV_BG_ICMP) {
		l.proto = e->v6 ? PROTO_ICMPV6 : PROTO_ICMP;
		l4hdr = ICMP_HLEN;
	} else if (e->tcp || e->kind == EV_TCP_CTL || e->kind == EV_BG_TCP) {
		l.proto = PROTO_TCP;
		l4hdr = TCP_HLEN;
	} else {
		l.proto = PROTO_UDP;
		l4hdr = UDP_HLEN;
	}
	seg = put_l2l3(g, g->buf, e, &l, l4hdr + plen, &ip);
	end = seg;
	if (l.proto == PROTO_UDP) {
		end = put16(end, e->dir ? pport : cport);
		end = put16(end, e->dir ? cport : pport);
		end = put16(end, (uint16_t)(UDP_HLEN + plen));
		end = put16(end, 0);
	} else if (l.proto == PROTO_TCP) {
		end = put16(end, e->dir ? pport : cport);
		end = put16(end, e->dir ? cport : pport);
		end = put32(end, e->tcp_seq);
		end = put32(end, e->tcp_ack);
		*end++ = (TCP_HLEN / 4) << 4;
		*end++ = e->kind == EV_BG_TCP ? (TCP_ACK | TCP_PSH) : e->tcp_flags;
		end = put16(end, 65535);
		end = put16(end, 0);
		end = put16(end, 0);
	} else {
		*end++ = e->v6 ? (e->dir ? 129 : 128) : (e->dir ? 0 : 8);
		*end++ = 0;
		end = put16(end, 0);
		end = put16(end, e->cport);
		end = put16(end, e->id);
	}
	memcpy(end, payload, plen);
	end += plen;
	{
		size_t seglen = (size_t)(end - seg);
		uint16_t cs;

		if (l.proto == PROTO_ICMP)
			cs = csum_fold(csum_add(0, seg, seglen));
		else
			cs = l4_csum(&l, seg, seglen);
		if (l.proto == PROTO_UDP) {
			put16(seg + 6, cs == 0 ? 0xffff : cs);
		} else if (l.proto == PROTO_TCP) {
			put16(seg + 16, cs);
		} else {
			put16(seg + 2, cs);
		}
	}
	*iplen = (size_t)(end - ip);
	return (size_t)(end - g->buf);
}

/* ---------- output ---------- */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void write_file_header(struct gen *g)
{
	uint8_t h[24];

	put_le32(h, g->o.ns ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
	h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;
	put_le32(h + 8, 0);
	put_le32(h + 12, 0);
	put_le32(h + 16, g->o.snaplen);
	put_le32(h + 20, LINKTYPE_ETHERNET);
	fwrite(h, 1, sizeof h, g->out);
}

static uint64_t ts_ns(const struct gen *g, uint64_t t_us)
{
	return t_us * 1000u + (g->o.ns ? NS_SUBUS_OFFSET : 0);
}

static void write_frame(struct gen *g, uint64_t t_us, size_t len)
{
	uint8_t h[16];
	uint32_t caplen = len < g->o.snaplen ? (uint32_t)len : g->o.snaplen;
	uint64_t ns = ts_ns(g, t_us);

	put_le32(h, (uint32_t)(ns / 1000000000u));
	put_le32(h + 4, (uint32_t)(g->o.ns ? ns % 1000000000u : t_us % 1000000u));
	put_le32(h + 8, caplen);
	put_le32(h + 12, (uint32_t)len);
	fwrite(h, 1, sizeof h, g->out);
	fwrite(g->buf, 1, caplen, g->out);
	g->packets++;
}

static void emit(struct gen *g, const struct ev *e)
{
	size_t iplen, len = build(g, e, &iplen);

	write_frame(g, e->t_us, len);
	if (e->kind == EV_DNS || e->kind == EV_TCP_CTL) {
		struct counts *c = &g->cnt[e->server * 2 + e->v6];

		c->pkts[e->dir]++;
		c->wire[e->dir] += len;
		c->ip[e->dir] += iplen;
	}
	if (e->truth && g->truth != NULL) {
		char cbuf[INET6_ADDRSTRLEN];
		uint8_t ca[16];

		client_addr(e, ca);
		inet_ntop(e->v6 ? AF_INET6 : AF_INET, ca, cbuf, sizeof cbuf);
		fprintf(g->truth, "%" PRIu64 ",%s,%s,%s,%u,%u\n", ts_ns(g, e->t_us),
		        g->srv[e->server * 2 + e->v6].text, cbuf,
		        e->tcp ? "tcp" : "udp", e->rtt_us, e->rtt_first_us);
	}
}

/* ---------- traffic model ---------- */

static uint32_t draw_rtt(struct gen *g, unsigned si)
{
	double base = g->srv[si].base_us;
	double r = base * exp(0.25 * rnd_normal(g));

	if (r < base * 0.4)
		r = base * 0.4;
	if (r > base * 4.0)
		r = base * 4.0;
	return r < 50.0 ? 50u : (uint32_t)r;
}

/* Retransmission timeout of a resolver: 0.8 .. 1.6 s. */
static uint32_t draw_rto(struct gen *g)
{
	return 800000u + rnd_below(g, 800000u);
}

static void new_exchange(struct gen *g, uint64_t t0)
{
	struct ev q = { 0 };
	unsigned si;
	struct counts *c;
	uint64_t ex = g->n_ex++;

	q.t_us = t0;
	q.kind = EV_DNS;
	q.server = (uint8_t)rnd_below(g, g->o.servers);
	q.v6 = chance(g, PM_IPV6);
	q.client = (uint16_t)rnd_below(g, N_CLIENTS);
	/* (port, id) unique per exchange: id is a bijection of the low 16
	 * bits, the port carries the rest, so no two exchanges look alike. */
	q.id = (uint16_t)((ex & 0xffff) * 0x9e37u + 0x2b5d);
	q.cport = (uint16_t)(1024 + ((ex >> 16) + q.client * 7u) % 64000u);
	q.qname = (uint8_t)rnd_below(g, N_QNAMES);
	q.qtype_i = (uint8_t)rnd_below(g, N_QTYPES);
	q.nans = (uint8_t)(1 + rnd_below(g, 8));
	q.vlan = chance(g, PM_QINQ) ? 2 : chance(g, PM_VLAN) ? 1 : 0;
	q.tcp = chance(g, PM_TCP);
	si = q.server * 2u + q.v6;
	c = &g->cnt[si];

	if (q.tcp) {
		/* handshake, query, response, FIN from the client, FIN from
		 * the server, last ACK; always answered */
		struct ev t = q;
		uint32_t hs = draw_rtt(g, si), rtt = draw_rtt(g, si);
		uint32_t cisn = (uint32_t)rnd(g), sisn = (uint32_t)rnd(g);
		uint32_t qlen, rlen;
		struct ev r;

		t.kind = EV_TCP_CTL;
		t.tcp_flags = TCP_SYN;
		t.tcp_seq = cisn;
		t.tcp_ack = 0;
		heap_push(g, t);
		t.t_us = t0 + hs;
		t.dir = 1;
		t.tcp_flags = TCP_SYN | TCP_ACK;
		t.tcp_seq = sisn;
		t.tcp_ack = cisn + 1;
		heap_push(g, t);
		t.t_us = t0 + hs + 10;
		t.dir = 0;
		t.tcp_flags = TCP_ACK;
		t.tcp_seq = cisn + 1;
		t.tcp_ack = sisn + 1;
		heap_push(g, t);

		q.t_us = t0 + hs + 20;
		q.tcp_flags = TCP_PSH | TCP_ACK;
		q.tcp_seq = cisn + 1;
		q.tcp_ack = sisn + 1;
		qlen = (uint32_t)dns_len(&q) + 2;
		heap_push(g, q);
		c->requests++;

		r = q;
		r.dir = 1;
		r.t_us = q.t_us + rtt;
		r.tcp_seq = sisn + 1;
		r.tcp_ack = cisn + 1 + qlen;
		r.truth = 1;
		r.rtt_us = r.rtt_first_us = rtt;
		rlen = (uint32_t)dns_len(&r) + 2;
		heap_push(g, r);
		c->responses++;
		c->answered++;

		t = q;
		t.kind = EV_TCP_CTL;
		t.t_us = r.t_us + 15;
		t.dir = 0;
		t.tcp_flags = TCP_FIN | TCP_ACK;
		t.tcp_seq = cisn + 1 + qlen;
		t.tcp_ack = sisn + 1 + rlen;
		heap_push(g, t);
		t.t_us = r.t_us + 15 + hs;
		t.dir = 1;
		t.tcp_seq = sisn + 1 + rlen;
		t.tcp_ack = cisn + 2 + qlen;
		heap_push(g, t);
		t.t_us = r.t_us + 25 + hs;
		t.dir = 0;
		t.tcp_flags = TCP_ACK;
		t.tcp_seq = cisn + 2 + qlen;
		t.tcp_ack = sisn + 2 + rlen;
		heap_push(g, t);
	} else {
		unsigned sends = 1;
		bool lost = chance(g, PM_LOST);
		uint64_t tq = t0;

		if (chance(g, PM_RETRANS))
			sends += 1 + rnd_below(g, 2);
		heap_push(g, q);
		for (unsigned i = 1; i < sends; i++) {
			tq += draw_rto(g);
			q.t_us = tq;
			heap_push(g, q);
		}
		c->requests += sends;
		c->retrans += sends - 1;
		if (lost) {
			c->lost++;
		} else {
			struct ev r = q;
			uint32_t rtt = draw_rtt(g, si);

			r.dir = 1;
			r.t_us = tq + rtt;
			r.truth = 1;
			r.rtt_us = rtt;
			r.rtt_first_us = (uint32_t)(r.t_us - t0);
			heap_push(g, r);
			c->responses++;
			c->answered++;
			if (chance(g, PM_DUP)) {
				r.truth = 0;
				r.t_us += 50 + rnd_below(g, 450);
				heap_push(g, r);
				c->responses++;
				c->dups++;
			}
		}
	}

	for (unsigned i = 0; i < g->o.background; i++) {
		struct ev b = { 0 };
		uint32_t k = rnd_below(g, 10);

		b.t_us = t0 + rnd_below(g, 1000000u);
		b.client = (uint16_t)rnd_below(g, N_CLIENTS);
		b.v6 = chance(g, PM_IPV6);
		b.remote = (uint8_t)(1 + rnd_below(g, 250));
		b.dir = (uint8_t)rnd_below(g, 2);
		b.cport = (uint16_t)(1024 + rnd_below(g, 60000));
		b.id = (uint16_t)rnd(g);
		if (k < 6) {
			b.kind = EV_BG_TCP;
			b.tcp_seq = (uint32_t)rnd(g);
			b.tcp_ack = (uint32_t)rnd(g);
			b.bg_len = (uint16_t)(k < 3 ? 0 : rnd_below(g, 1400));
		} else if (k < 9) {
			b.kind = EV_BG_UDP;
			b.bg_len = 48;
		} else {
			b.kind = EV_BG_ICMP;
			b.bg_len = 56;
		}
		heap_push(g, b);
	}
}

static void unsolicited(struct gen *g, uint64_t t)
{
	struct ev r = { 0 };

	r.t_us = t;
	r.kind = EV_DNS;
	r.dir = 1;
	r.server = (uint8_t)rnd_below(g, g->o.servers);
	r.v6 = chance(g, PM_IPV6);
	r.client = (uint16_t)rnd_below(g, N_CLIENTS);
	/* port 1023 is never used by an exchange */
	r.cport = 1023;
	r.id = (uint16_t)rnd(g);
	r.qname = (uint8_t)rnd_below(g, N_QNAMES);
	r.nans = 1;
	heap_push(g, r);
	g->cnt[r.server * 2u + r.v6].responses++;
	g->cnt[r.server * 2u + r.v6].unmatched++;
}

/* One minimal unanswered query per distinct source address. */
static uint64_t flood(struct gen *g, uint64_t t)
{
	struct ev q = { 0 };
	size_t iplen, len;

	q.kind = EV_DNS;
	q.qname = 0;
	q.server = 0;
	for (uint64_t i = 0; i < g->o.distinct; i++, t++) {
		/* the source is patched in after building */
		uint32_t src = 0x0a000000u + (uint32_t)i;   /* 10/8 onwards */
		uint8_t *ip;

		q.id = (uint16_t)i;
		q.cport = (uint16_t)(1024 + i % 60000);
		len = build(g, &q, &iplen);
		ip = g->buf + ETH_HLEN;
		put32(ip + 12, src);
		put16(ip + 10, 0);
		put16(ip + 10, csum_fold(csum_add(0, ip, IPV4_HLEN)));
		/* UDP checksum optional over IPv4: zero it rather than redo */
		put16(ip + IPV4_HLEN + 6, 0);
		write_frame(g, t, len);
		g->cnt[0].requests++;
		g->cnt[0].lost++;
		g->cnt[0].pkts[0]++;
		g->cnt[0].wire[0] += len;
		g->cnt[0].ip[0] += iplen;
	}
	return t;
}

/* ---------- main ---------- */

static void usage(void)
{
	fprintf(stderr,
	        "usage: gen_trace -o FILE.pcap [--ns] [--seed N] [--duration SEC]\n"
	        "        [--start EPOCH] [--rate QPS] [--snaplen N] [--servers N]\n"
	        "        [--truth FILE.csv] [--summary FILE.csv] [--background N]\n"
	        "        [--distinct-sources N]\n");
	exit(2);
}

static double num(const char *s, const char *opt)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || v < 0) {
		fprintf(stderr, "gen_trace: bad value for %s: %s\n", opt, s);
		exit(2);
	}
	return v;
}

static void parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ns", no_argument, 0, 'n' },
		{ "seed", required_argument, 0, 's' },
		{ "duration", required_argument, 0, 'd' },
		{ "start", required_argument, 0, 'S' },
		{ "rate", required_argument, 0, 'r' },
		{ "snaplen", required_argument, 0, 'l' },
		{ "servers", required_argument, 0, 'v' },
		{ "truth", required_argument, 0, 't' },
		{ "summary", required_argument, 0, 'u' },
		{ "background", required_argument, 0, 'b' },
		{ "distinct-sources", required_argument, 0, 'D' },
		{ 0, 0, 0, 0 }
	};
	int c;

	o->seed = 1;
	o->duration = 10;
	o->start = 1700000000;
	o->rate = 100;
	o->snaplen = SNAPLEN_DEFAULT;
	o->servers = N_SERVER_DEFS;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'n': o->ns = true; break;
		case 's': o->seed = (uint64_t)num(optarg, "--seed"); break;
		case 'd': o->duration = num(optarg, "--duration"); break;
		case 'S': o->start = (uint64_t)num(optarg, "--start"); break;
		case 'r': o->rate = num(optarg, "--rate"); break;
		case 'l': o->snaplen = (uint32_t)num(optarg, "--snaplen"); break;
		case 'v': o->servers = (unsigned)num(optarg, "--servers"); break;
		case 't': o->truth = optarg; break;
		case 'u': o->summary = optarg; break;
		case 'b': o->background = (unsigned)num(optarg, "--background"); break;
		case 'D': o->distinct = (uint64_t)num(optarg, "--distinct-sources"); break;
		default: usage();
		}
	}
	if (o->out == NULL || optind != argc)
		usage();
	if (o->servers < 1 || o->servers > N_SERVER_DEFS) {
		fprintf(stderr, "gen_trace: --servers must be 1..%zu\n", N_SERVER_DEFS);
		exit(2);
	}
	if (o->snaplen < 64)
		o->snaplen = 64;
}

static void write_summary(struct gen *g, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "gen_trace: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fprintf(f, "server,requests,responses,answered,lost,retransmissions,"
	        "dup_responses,unmatched_responses,pkts_to,wire_octets_to,"
	        "ip_octets_to,pkts_from,wire_octets_from,ip_octets_from\n");
	for (unsigned i = 0; i < g->o.servers * 2; i++) {
		const struct counts *c = &g->cnt[i];

		fprintf(f, "%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		        ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		        ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
		        g->srv[i].text, c->requests, c->responses, c->answered,
		        c->lost, c->retrans, c->dups, c->unmatched, c->pkts[0],
		        c->wire[0], c->ip[0], c->pkts[1], c->wire[1], c->ip[1]);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "gen_trace: %s: write error\n", path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static struct gen g;
	static char obuf[1 << 20];
	uint64_t t, end;

	parse(&g.o, argc, argv);
	g.rng = g.o.seed;
	for (unsigned i = 0; i < N_SERVER_DEFS; i++) {
		const struct server_def *d = &server_defs[i];
		/* per-server RTT centre: 5..300 ms remote, 0.3..3 ms local */
		double base = d->local ? 300.0 + rnd_below(&g, 2700)
		                       : 5000.0 + rnd_below(&g, 295000);

		inet_pton(AF_INET, d->v4, g.srv[2 * i].a);
		inet_pton(AF_INET6, d->v6, g.srv[2 * i + 1].a);
		snprintf(g.srv[2 * i].text, sizeof g.srv[2 * i].text, "%s", d->v4);
		snprintf(g.srv[2 * i + 1].text, sizeof g.srv[2 * i + 1].text, "%s", d->v6);
		g.srv[2 * i].base_us = base;
		/* IPv6 paths differ a little */
		g.srv[2 * i + 1].base_us = base * (0.9 + 0.2 * rnd_unit(&g));
	}
	g.out = fopen(g.o.out, "wb");
	if (g.out == NULL) {
		fprintf(stderr, "gen_trace: %s: %s\n", g.o.out, strerror(errno));
		return 1;
	}
	setvbuf(g.out, obuf, _IOFBF, sizeof obuf);
	if (g.o.truth != NULL) {
		g.truth = fopen(g.o.truth, "w");
		if (g.truth == NULL) {
			fprintf(stderr, "gen_trace: %s: %s\n", g.o.truth, strerror(errno));
			return 1;
		}
		fprintf(g.truth, "time_ns,server,client,transport,rtt_us,rtt_first_us\n");
	}
	write_file_header(&g);

	t = g.o.start * 1000000u;
	if (g.o.distinct > 0)
		t = flood(&g, t);
	end = t + (uint64_t)(g.o.duration * 1e6);
	if (g.o.rate > 0) {
		double mean_us = 1e6 / g.o.rate;

		for (;;) {
			uint64_t gap = (uint64_t)(-log(rnd_unit(&g)) * mean_us) + 1;

			t += gap;
			if (t >= end)
				break;
			while (g.h.n > 0 && g.h.v[0].t_us < t) {
				struct ev e = heap_pop(&g.h);

				emit(&g, &e);
			}
			if (chance(&g, PM_UNSOLICITED))
				unsolicited(&g, t);
			else
				new_exchange(&g, t);
		}
	}
	while (g.h.n > 0) {
		struct ev e = heap_pop(&g.h);

		emit(&g, &e);
	}
	if (fclose(g.out) != 0) {
		fprintf(stderr, "gen_trace: %s: write error\n", g.o.out);
		return 1;
	}
	if (g.truth != NULL && fclose(g.truth) != 0) {
		fprintf(stderr, "gen_trace: %s: write error\n", g.o.truth);
		return 1;
	}
	if (g.o.summary != NULL) {
		write_summary(&g, g.o.summary);
	} else if (g.o.truth != NULL) {
		char path[4096];

		snprintf(path, sizeof path, "%s.servers.csv", g.o.truth);
		write_summary(&g, path);
	}
	free(g.h.v);
	fprintf(stderr, "gen_trace: %" PRIu64 " packets\n", g.packets);
	return 0;
}
