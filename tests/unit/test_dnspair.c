/* test_dnspair — DNS request/response pairing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "dist.h"
#include "dnspair.h"
#include "flow.h"
#include "flowkey.h"
#include "packet.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1700000000ull * SEC)   /* a realistic epoch time */

/* One DNS exchange as seen on the wire. */
struct msg {
	uint8_t ver;
	uint8_t client[16], server[16];
	uint16_t cport, sport;
	bool tcp;
	uint16_t id;
	bool has_q;
	uint32_t qname_hash;
	uint16_t qtype, qclass;
};

static struct msg v4msg(void)
{
	struct msg m = {
		.ver = 4,
		.client = { 192, 0, 2, 10 },
		.server = { 198, 41, 0, 4 },       /* a.root-servers.net */
		.cport = 40000, .sport = 53,
		.id = 0x1234,
		.has_q = true, .qname_hash = 0xabcdef01u, .qtype = 1, .qclass = 1,
	};
	return m;
}

static struct pkt_info mkpkt(const struct msg *m, bool response, uint64_t ts)
{
	struct pkt_info pi;
	memset(&pi, 0, sizeof(pi));
	unsigned c = response ? 1 : 0;
	pi.ts_ns = ts;
	pi.wirelen = 80;
	pi.ip_version = m->ver;
	pi.peer_type = m->ver == 6 ? 2 : 1;
	memcpy(pi.addr[c], m->client, 16);
	memcpy(pi.addr[1 - c], m->server, 16);
	pi.proto = m->tcp ? 6 : 17;
	pi.has_ports = true;
	pi.port[c] = m->cport;
	pi.port[1 - c] = m->sport;
	pi.dns_present = true;
	pi.dns.id = m->id;
	pi.dns.qr = response ? 1 : 0;
	pi.dns.qdcount = 1;
	pi.dns.has_question = m->has_q;
	if (m->has_q) {
		pi.dns.qname_hash = m->qname_hash;
		pi.dns.qtype = m->qtype;
		pi.dns.qclass = m->qclass;
	}
	pi.dns.over_tcp = m->tcp;
	return pi;
}

struct fx {
	struct flow_table *ft;
	struct dnspair *dp;
	struct flow *f;          /* the server's flow */
	struct flow *g;          /* another flow */
};

static struct flow *add_flow(struct flow_table *ft, uint8_t last_octet, uint64_t ts)
{
	static const uint8_t mask[4] = { 0xff, 0xff, 0xff, 0xff };
	uint8_t v[4] = { 198, 41, 0, last_octet };
	struct flow_key k;
	flow_key_clear(&k, 1);
	assert_int_equal(flow_key_put(&k, ATTR_DEST_PEER_ADDRESS, 4, mask, v), 0);
	struct flow *f = flow_insert(ft, &k, flow_key_hash(&k), ts);
	assert_non_null(f);
	return f;
}

static int setup(void **state)
{
	static struct fx fx;
	fx.ft = flow_table_create(8);
	fx.dp = dnspair_create(fx.ft, 16, DNSPAIR_DEFAULT_TIMEOUT_NS);
	if (!fx.ft || !fx.dp)
		return -1;
	fx.f = add_flow(fx.ft, 4, T0);
	fx.g = add_flow(fx.ft, 5, T0);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	dnspair_free(fx->dp);
	flow_table_free(fx->ft);
	return 0;
}

static enum dnspair_event req(struct fx *fx, const struct msg *m, uint64_t ts, struct flow *f)
{
	struct pkt_info pi = mkpkt(m, false, ts);
	return dnspair_packet(fx->dp, &pi, f, NULL);
}

static enum dnspair_event resp(struct fx *fx, const struct msg *m, uint64_t ts,
			       struct flow *f, struct dnspair_sample *s)
{
	struct pkt_info pi = mkpkt(m, true, ts);
	return dnspair_packet(fx->dp, &pi, f, s);
}

static void create_rejects_bad_arguments(void **state)
{
	(void)state;
	assert_null(dnspair_create(NULL, 0, SEC));
	assert_null(dnspair_create(NULL, 4, 0));
	assert_null(dnspair_create(NULL, (size_t)DNSPAIR_MAX_CAPACITY + 1, SEC));
	struct dnspair *p = dnspair_create(NULL, 1, SEC);
	assert_non_null(p);
	dnspair_free(p);
	dnspair_free(NULL);
	/* entry (64 bytes) + its cold part (16) + two ring slots and four
	 * index slots (8 bytes each) */
	assert_int_equal(dnspair_entry_bytes(), 128);
}

static void simple_pair(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	struct dnspair_sample s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(req(fx, &m, T0 + 1 * SEC, fx->f), DNSPAIR_REQUEST);
	/* 12.3456789 ms -> 12346 µs (nearest) */
	assert_int_equal(resp(fx, &m, T0 + 1 * SEC + 12345679, fx->f, &s), DNSPAIR_ANSWER);
	assert_ptr_equal(s.flow, fx->f);
	assert_int_equal(flow_index(fx->ft, s.flow), 1);
	assert_int_equal(s.rtt_us, 12346);
	assert_int_equal(s.ts_ns, T0 + 1 * SEC + 12345679);
	assert_int_equal(fx->f->dns.requests, 1);
	assert_int_equal(fx->f->dns.responses, 1);
	assert_int_equal(fx->f->dns.answered, 1);
	assert_int_equal(fx->f->dns.answered, 1);
	assert_int_equal(fx->f->dns.lost + fx->f->dns.unmatched +
			 fx->f->dns.duplicates + fx->f->dns.retransmits, 0);
	struct dnspair_stats st;
	dnspair_stats(fx->dp, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.answered, 1);
	assert_int_equal(st.pending, 1);    /* kept for duplicates */
}

static void rtt_rounding(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	struct dnspair_sample s;
	m.id = 1;
	req(fx, &m, T0, fx->f);
	assert_int_equal(resp(fx, &m, T0 + 1500, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 2);         /* half rounds up */
	m.id = 2;
	req(fx, &m, T0, fx->f);
	assert_int_equal(resp(fx, &m, T0 + 1499, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 1);
	m.id = 3;
	req(fx, &m, T0, fx->f);
	assert_int_equal(resp(fx, &m, T0 + 499, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 0);
}

static void retransmission_times_from_latest(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	struct dnspair_sample s;
	assert_int_equal(req(fx, &m, T0, fx->f), DNSPAIR_REQUEST);
	assert_int_equal(req(fx, &m, T0 + 1 * SEC, fx->f), DNSPAIR_RETRANSMIT);
	assert_int_equal(req(fx, &m, T0 + 3 * SEC, fx->f), DNSPAIR_RETRANSMIT);
	/* the entry's clock moved: still alive 5 s after the first request */
	assert_int_equal(resp(fx, &m, T0 + 3 * SEC + 20 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 20000);
	assert_int_equal(fx->f->dns.requests, 3);
	assert_int_equal(fx->f->dns.retransmits, 2);
	assert_int_equal(fx->f->dns.answered, 1);
	struct dnspair_stats st;
	dnspair_stats(fx->dp, &st);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.retransmits, 2);
}

static void duplicate_response(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	struct dnspair_sample s;
	req(fx, &m, T0, fx->f);
	assert_int_equal(resp(fx, &m, T0 + 30 * MS, fx->f, &s), DNSPAIR_ANSWER);
	memset(&s, 0xee, sizeof(s));
	assert_int_equal(resp(fx, &m, T0 + 31 * MS, fx->f, &s), DNSPAIR_DUPLICATE);
	assert_int_equal(s.rtt_us, 0xeeeeeeeeeeeeeeeeull);   /* no second sample */
	assert_int_equal(fx->f->dns.responses, 2);
	assert_int_equal(fx->f->dns.duplicates, 1);
	assert_int_equal(fx->f->dns.answered, 1);
	assert_int_equal(fx->f->dns.answered, 1);
	/* an answered entry that times out is not lost */
	assert_int_equal(dnspair_expire(fx->dp, T0 + 5 * SEC, 10), 0);
	assert_int_equal(fx->f->dns.lost, 0);
	struct dnspair_stats st;
	dnspair_stats(fx->dp, &st);
	assert_int_equal(st.pending, 0);
	/* and a late copy after that is unmatched */
	assert_int_equal(resp(fx, &m, T0 + 5 * SEC + 1, fx->f, NULL), DNSPAIR_UNMATCHED);
}

static void unmatched_response(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	assert_int_equal(resp(fx, &m, T0, fx->f, NULL), DNSPAIR_UNMATCHED);
	req(fx, &m, T0 + 1 * MS, fx->f);
	struct msg other = m;
	other.id = 0x1235;                      /* another ID */
	assert_int_equal(resp(fx, &other, T0 + 2 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	other = m;
	other.cport = 40001;                    /* another client port */
	assert_int_equal(resp(fx, &other, T0 + 2 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	other = m;
	other.client[3] = 11;                   /* another client */
	assert_int_equal(resp(fx, &other, T0 + 2 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	other = m;
	other.server[3] = 5;                    /* another server */
	assert_int_equal(resp(fx, &other, T0 + 2 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	assert_int_equal(fx->f->dns.unmatched, 5);
	assert_int_equal(fx->f->dns.responses, 5);
	assert_int_equal(fx->f->dns.answered, 0);
	assert_int_equal(resp(fx, &m, T0 + 3 * MS, fx->f, NULL), DNSPAIR_ANSWER);
}

static void timeout_is_lost(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	req(fx, &m, T0, fx->f);
	assert_int_equal(dnspair_expire(fx->dp, T0 + 5 * SEC - 1, 10), 0);
	assert_int_equal(fx->f->dns.lost, 0);
	assert_int_equal(dnspair_expire(fx->dp, T0 + 5 * SEC, 10), 1);
	assert_int_equal(fx->f->dns.lost, 1);
	assert_int_equal(resp(fx, &m, T0 + 5 * SEC + 100 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	struct dnspair_stats st;
	dnspair_stats(fx->dp, &st);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.unmatched, 1);
	assert_int_equal(st.pending, 0);
}

/* Expiry runs on packet time: a response 6 s late never pairs, even before
 * anything swept the entry, and the sweep done by any later packet (DNS or
 * not) counts the loss. */
static void expiry_by_packet_time(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	for (uint16_t id = 1; id <= 5; id++) {
		m.id = id;
		req(fx, &m, T0 + id * MS, fx->f);
	}
	struct pkt_info other;
	memset(&other, 0, sizeof(other));
	other.ts_ns = T0 + 10 * SEC;                 /* not DNS */
	assert_int_equal(dnspair_packet(fx->dp, &other, fx->f, NULL), DNSPAIR_NONE);
	/* bounded: two swept per packet */
	assert_int_equal(fx->f->dns.lost, DNSPAIR_SWEEP_PER_PACKET);
	m.id = 5;
	/* the 5th request is expired though not yet swept: no pairing */
	assert_int_equal(resp(fx, &m, T0 + 10 * SEC, fx->f, NULL), DNSPAIR_UNMATCHED);
	assert_int_equal(fx->f->dns.lost, 2 * DNSPAIR_SWEEP_PER_PACKET);
	assert_int_equal(dnspair_expire(fx->dp, T0 + 10 * SEC, 100), 1);
	assert_int_equal(fx->f->dns.lost, 5);
	assert_int_equal(fx->f->dns.requests, 5);
}

/* The sweep stops at the head of the age order, and the packet clock may
 * step back: when the head leaves (here retransmitted), the next entry is
 * checked afresh, even though its request is older than the head's. */
static void sweep_after_head_leaves(void **state)
{
	struct fx *fx = *state;
	struct msg a = v4msg(), b = v4msg();
	b.id = a.id + 1;
	req(fx, &a, T0 + 10 * SEC, fx->f);       /* the head */
	req(fx, &b, T0, fx->f);                  /* behind it, stamped earlier */
	struct pkt_info other;
	memset(&other, 0, sizeof(other));
	other.ts_ns = T0 + 10 * SEC + MS;        /* sweeps: a is not due */
	dnspair_packet(fx->dp, &other, fx->f, NULL);
	assert_int_equal(fx->f->dns.lost, 0);
	assert_int_equal(req(fx, &a, T0 + 10 * SEC + 2 * MS, fx->f), DNSPAIR_RETRANSMIT);
	other.ts_ns = T0 + 10 * SEC + 3 * MS;
	dnspair_packet(fx->dp, &other, fx->f, NULL);
	assert_int_equal(fx->f->dns.lost, 1);    /* b, the head now, was due */
	struct dnspair_stats st;
	dnspair_stats(fx->dp, &st);
	assert_int_equal(st.pending, 1);
	/* and nothing more is due before a's deadline */
	other.ts_ns = T0 + 15 * SEC + MS;
	dnspair_packet(fx->dp, &other, fx->f, NULL);
	assert_int_equal(fx->f->dns.lost, 1);
	other.ts_ns = T0 + 15 * SEC + 2 * MS;
	dnspair_packet(fx->dp, &other, fx->f, NULL);
	assert_int_equal(fx->f->dns.lost, 2);
}

static void different_question_does_not_pair(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	req(fx, &m, T0, fx->f);
	struct msg r = m;
	r.qname_hash ^= 1;                       /* same ID, other name */
	assert_int_equal(resp(fx, &r, T0 + 5 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	r = m;
	r.qtype = 28;                            /* AAAA instead of A */
	assert_int_equal(resp(fx, &r, T0 + 6 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	r = m;
	r.qclass = 3;                            /* CHAOS instead of IN */
	assert_int_equal(resp(fx, &r, T0 + 6 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	assert_int_equal(resp(fx, &m, T0 + 7 * MS, fx->f, NULL), DNSPAIR_ANSWER);
	/* two questions with the same ID pending at once pair separately */
	struct msg a = v4msg(), b = v4msg();
	a.id = b.id = 77;
	b.qname_hash = 0x55555555u;
	struct dnspair_sample s;
	assert_int_equal(req(fx, &a, T0 + 10 * MS, fx->f), DNSPAIR_REQUEST);
	assert_int_equal(req(fx, &b, T0 + 11 * MS, fx->f), DNSPAIR_REQUEST);
	assert_int_equal(resp(fx, &b, T0 + 15 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 4000);
	assert_int_equal(resp(fx, &a, T0 + 15 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 5000);
}

/* 96-byte snaplen: a response cut before its question pairs by the rest. */
static void header_only_response_pairs(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	struct dnspair_sample s;
	req(fx, &m, T0, fx->f);
	struct msg cut = m;
	cut.has_q = false;
	cut.qname_hash = 0;
	cut.qtype = 0;
	assert_int_equal(resp(fx, &cut, T0 + 40 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 40000);
	/* and a request cut before its question pairs with a full response */
	m.id = 9;
	cut.id = 9;
	req(fx, &cut, T0 + 50 * MS, fx->f);
	assert_int_equal(resp(fx, &m, T0 + 51 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 1000);
}

static void tcp_and_udp_distinct(void **state)
{
	struct fx *fx = *state;
	struct msg udp = v4msg(), tcp = v4msg();
	tcp.tcp = true;
	req(fx, &udp, T0, fx->f);
	assert_int_equal(resp(fx, &tcp, T0 + 1 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	assert_int_equal(req(fx, &tcp, T0 + 2 * MS, fx->f), DNSPAIR_REQUEST);  /* not a retransmit */
	struct dnspair_sample s;
	assert_int_equal(resp(fx, &tcp, T0 + 5 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 3000);
	assert_int_equal(resp(fx, &udp, T0 + 6 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 6000);
	assert_int_equal(fx->f->dns.retransmits, 0);
}

static void ipv6_pairs(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	static const uint8_t c6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 0x10 };
	static const uint8_t s6[16] = { 0x20, 0x01, 0x05, 0x03, 0xba, 0x3e, 0, 0,
					0, 0, 0, 0, 0, 0x02, 0, 0x30 };  /* a.root */
	m.ver = 6;
	memcpy(m.client, c6, 16);
	memcpy(m.server, s6, 16);
	struct dnspair_sample s;
	req(fx, &m, T0, fx->f);
	struct msg other = m;
	other.client[15] = 0x11;
	assert_int_equal(resp(fx, &other, T0 + 1 * MS, fx->f, NULL), DNSPAIR_UNMATCHED);
	assert_int_equal(resp(fx, &m, T0 + 2 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 2000);
}

/* Capacity 2: a third request evicts the oldest, which is counted lost. */
static void pending_table_overflow(void **state)
{
	struct fx *fx = *state;
	struct dnspair *dp = dnspair_create(fx->ft, 2, DNSPAIR_DEFAULT_TIMEOUT_NS);
	struct msg a = v4msg(), b = v4msg(), c = v4msg();
	b.id = 2;
	c.id = 3;
	struct pkt_info pa = mkpkt(&a, false, T0), pb = mkpkt(&b, false, T0 + 1),
			pc = mkpkt(&c, false, T0 + 2);
	dnspair_packet(dp, &pa, fx->f, NULL);
	dnspair_packet(dp, &pb, fx->f, NULL);
	assert_int_equal(dnspair_packet(dp, &pc, fx->f, NULL), DNSPAIR_REQUEST);
	struct dnspair_stats st;
	dnspair_stats(dp, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.pending, 2);
	assert_int_equal(st.peak_pending, 2);
	assert_int_equal(fx->f->dns.lost, 1);
	struct pkt_info ra = mkpkt(&a, true, T0 + 10), rb = mkpkt(&b, true, T0 + 10),
			rc = mkpkt(&c, true, T0 + 10);
	assert_int_equal(dnspair_packet(dp, &ra, fx->f, NULL), DNSPAIR_UNMATCHED);
	assert_int_equal(dnspair_packet(dp, &rb, fx->f, NULL), DNSPAIR_ANSWER);
	assert_int_equal(dnspair_packet(dp, &rc, fx->f, NULL), DNSPAIR_ANSWER);
	/* an answered oldest entry is evicted without a loss */
	struct msg d = v4msg();
	d.id = 4;
	struct pkt_info pd = mkpkt(&d, false, T0 + 20);
	dnspair_packet(dp, &pd, fx->f, NULL);
	dnspair_stats(dp, &st);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(st.lost, 1);
	dnspair_free(dp);
}

/* A full table evicts for every new request: the new entry goes into the
 * index after the eviction has changed it (a small index, so the keys'
 * probes cross often), and every entry stays findable. */
static void evictions_keep_index_whole(void **state)
{
	struct fx *fx = *state;
	enum { CAP = 3, REQUESTS = 2000 };
	struct dnspair *dp = dnspair_create(fx->ft, CAP, DNSPAIR_DEFAULT_TIMEOUT_NS);
	assert_non_null(dp);
	struct msg m[REQUESTS];
	srand(53);
	for (unsigned n = 0; n < REQUESTS; n++) {
		m[n] = v4msg();
		m[n].id = (uint16_t)rand();
		m[n].cport = (uint16_t)(1024 + rand() % 4096);
		struct pkt_info q = mkpkt(&m[n], false, T0 + n * MS);
		assert_int_equal(dnspair_packet(dp, &q, fx->f, NULL), DNSPAIR_REQUEST);
		struct pkt_info r = mkpkt(&m[n], true, T0 + n * MS + 1);
		assert_int_equal(dnspair_packet(dp, &r, fx->f, NULL), DNSPAIR_ANSWER);
		if (n < CAP)
			continue;
		/* the one evicted just now is gone; the one before still
		 * answers, as a duplicate */
		r = mkpkt(&m[n - CAP], true, T0 + n * MS + 2);
		assert_int_equal(dnspair_packet(dp, &r, fx->f, NULL), DNSPAIR_UNMATCHED);
		r = mkpkt(&m[n - 1], true, T0 + n * MS + 3);
		assert_int_equal(dnspair_packet(dp, &r, fx->f, NULL), DNSPAIR_DUPLICATE);
	}
	struct dnspair_stats st;
	dnspair_stats(dp, &st);
	assert_int_equal(st.evicted, REQUESTS - CAP);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.pending, CAP);
	dnspair_free(dp);
}

/* Retransmissions move entries to the back of the age order many times
 * over (far more moves than the table has entries) while an old request
 * stays pending: eviction and expiry still take the entries in the order
 * of their latest request. */
static void retransmissions_keep_age_order(void **state)
{
	struct fx *fx = *state;
	struct dnspair *dp = dnspair_create(fx->ft, 4, DNSPAIR_DEFAULT_TIMEOUT_NS);
	assert_non_null(dp);
	struct msg m[6];
	for (unsigned i = 0; i < 6; i++) {
		m[i] = v4msg();
		m[i].id = (uint16_t)(100 + i);
	}
	enum { A, B, C, D, E, F };
	struct pkt_info pi;
	for (unsigned i = A; i <= C; i++) {
		pi = mkpkt(&m[i], false, T0 + i * MS);
		assert_int_equal(dnspair_packet(dp, &pi, fx->f, NULL), DNSPAIR_REQUEST);
	}
	for (unsigned j = 0; j < 20; j++) {
		pi = mkpkt(&m[C], false, T0 + (10 + 2 * j) * MS);
		assert_int_equal(dnspair_packet(dp, &pi, fx->f, NULL), DNSPAIR_RETRANSMIT);
		pi = mkpkt(&m[B], false, T0 + (11 + 2 * j) * MS);
		assert_int_equal(dnspair_packet(dp, &pi, fx->f, NULL), DNSPAIR_RETRANSMIT);
	}
	/* latest requests: A T0, C T0+48 ms, B T0+49 ms */
	for (unsigned i = D; i <= F; i++) {
		pi = mkpkt(&m[i], false, T0 + (57 + i) * MS);
		assert_int_equal(dnspair_packet(dp, &pi, fx->f, NULL), DNSPAIR_REQUEST);
	}
	struct dnspair_stats st;
	dnspair_stats(dp, &st);
	assert_int_equal(st.evicted, 2);     /* A, then C */
	assert_int_equal(st.lost, 2);
	assert_int_equal(st.pending, 4);
	struct dnspair_sample s;
	pi = mkpkt(&m[B], true, T0 + 100 * MS);
	assert_int_equal(dnspair_packet(dp, &pi, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 51000);
	pi = mkpkt(&m[A], true, T0 + 100 * MS);
	assert_int_equal(dnspair_packet(dp, &pi, fx->f, NULL), DNSPAIR_UNMATCHED);
	pi = mkpkt(&m[C], true, T0 + 100 * MS);
	assert_int_equal(dnspair_packet(dp, &pi, fx->f, NULL), DNSPAIR_UNMATCHED);
	/* B (answered), D and E time out; F (T0+62 ms) is 1 ms short */
	assert_int_equal(dnspair_expire(dp, T0 + DNSPAIR_DEFAULT_TIMEOUT_NS + 61 * MS, SIZE_MAX), 2);
	dnspair_stats(dp, &st);
	assert_int_equal(st.lost, 4);
	assert_int_equal(st.pending, 1);
	pi = mkpkt(&m[F], true, T0 + DNSPAIR_DEFAULT_TIMEOUT_NS + 61 * MS);
	assert_int_equal(dnspair_packet(dp, &pi, fx->f, NULL), DNSPAIR_ANSWER);
	dnspair_free(dp);
}

/* dnspair_expire() over many entries: the sweeps that empty the table
 * and clear the whole index (40 dropped, 128 slots), and those that remove
 * each slot (a few dropped, or some left pending).  Were a slot left
 * behind, the small index would fill over the rounds (and the probes never
 * end: the test hangs); every round's keys pair afresh. */
static void expire_batches_keep_index_whole(void **state)
{
	struct fx *fx = *state;
	enum { CAP = 64, ROUNDS = 300, MAX_BATCH = 40 };
	struct dnspair *dp = dnspair_create(fx->ft, CAP, SEC);
	assert_non_null(dp);
	uint64_t t = T0;
	uint64_t lost = 0;
	for (unsigned r = 0; r < ROUNDS; r++) {
		/* small batches only at first, then every third one large */
		unsigned n = r >= ROUNDS / 2 && r % 3 == 0 ? MAX_BATCH : 1 + r % 7;
		struct msg m[MAX_BATCH];
		for (unsigned k = 0; k < n; k++) {
			m[k] = v4msg();
			m[k].id = (uint16_t)(k + r);      /* keys repeat across rounds */
			struct pkt_info q = mkpkt(&m[k], false, t + k * MS);
			assert_int_equal(dnspair_packet(dp, &q, fx->f, NULL), DNSPAIR_REQUEST);
		}
		/* the first half answered */
		for (unsigned k = 0; k < n / 2; k++) {
			struct pkt_info a = mkpkt(&m[k], true, t + n * MS);
			assert_int_equal(dnspair_packet(dp, &a, fx->f, NULL), DNSPAIR_ANSWER);
		}
		struct dnspair_stats st;
		if (r % 2) {
			/* the older half first (the table does not empty) */
			unsigned half = n / 2;
			dnspair_expire(dp, t + SEC + half * MS - 1, SIZE_MAX);
			dnspair_stats(dp, &st);
			assert_int_equal(st.pending, n - half);
			if (half) {
				struct pkt_info a = mkpkt(&m[0], true, t + SEC + half * MS);
				assert_int_equal(dnspair_packet(dp, &a, fx->f, NULL),
						 DNSPAIR_UNMATCHED);
			}
		}
		lost += n - n / 2;
		dnspair_expire(dp, t + 2 * SEC, SIZE_MAX);
		dnspair_stats(dp, &st);
		assert_int_equal(st.pending, 0);
		assert_int_equal(st.lost, lost);
		t += 3 * SEC;
	}
	dnspair_free(dp);
}

/* Requests credit the request's flow, responses the response's flow. */
static void credits_split_between_flows(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	struct dnspair_sample s;
	req(fx, &m, T0, fx->g);
	assert_int_equal(resp(fx, &m, T0 + 1 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_ptr_equal(s.flow, fx->f);
	assert_int_equal(flow_index(fx->ft, s.flow), 1);
	assert_int_equal(fx->g->dns.requests, 1);
	assert_int_equal(fx->g->dns.responses + fx->g->dns.answered, 0);
	assert_int_equal(fx->f->dns.requests, 0);
	assert_int_equal(fx->f->dns.responses, 1);
	assert_int_equal(fx->f->dns.answered, 1);
	/* a request counted to no flow still pairs */
	m.id = 99;
	req(fx, &m, T0 + 2 * MS, NULL);
	assert_int_equal(resp(fx, &m, T0 + 3 * MS, NULL, &s), DNSPAIR_ANSWER);
	assert_null(s.flow);
	assert_int_equal(s.rtt_us, 1000);
}

/* A flow recovered and its index reused: the new flow gets no credit. */
static void recovered_flow_not_credited(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	req(fx, &m, T0, fx->g);                     /* flow index 2 */
	uint32_t gi = flow_index(fx->ft, fx->g);
	flow_remove(fx->ft, fx->g);
	struct flow *n = add_flow(fx->ft, 6, T0 + 1 * SEC);
	assert_int_equal(flow_index(fx->ft, n), gi);    /* same record */
	assert_int_equal(dnspair_expire(fx->dp, T0 + 5 * SEC, 10), 1);
	assert_int_equal(n->dns.lost, 0);
	struct dnspair_stats st;
	dnspair_stats(fx->dp, &st);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.stale_flow, 1);
}

static void new_exchange_after_answer(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	struct dnspair_sample s;
	req(fx, &m, T0, fx->f);
	resp(fx, &m, T0 + 1 * MS, fx->f, &s);
	/* same client port, ID and question again within the timeout */
	assert_int_equal(req(fx, &m, T0 + 2 * SEC, fx->f), DNSPAIR_REQUEST);
	assert_int_equal(resp(fx, &m, T0 + 2 * SEC + 7 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 7000);
	assert_int_equal(fx->f->dns.retransmits, 0);
	assert_int_equal(fx->f->dns.answered, 2);
	assert_int_equal(fx->f->dns.answered, 2);
}

static void samples_feed_distributions(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	assert_int_equal(flow_table_enable_dists(fx->ft, 1), 0);
	req(fx, &m, T0, fx->f);
	resp(fx, &m, T0 + 2 * MS, fx->f, NULL);
	assert_null(flow_dist_peek(fx->ft, fx->f));       /* off by default */
	dnspair_feed_dists(fx->dp, true);
	m.id = 2;
	req(fx, &m, T0 + 10 * MS, fx->f);
	resp(fx, &m, T0 + 13 * MS, fx->f, NULL);
	const struct dist *d = flow_dist_peek(fx->ft, fx->f);
	assert_non_null(d);
	assert_int_equal(d->count, 1);
	assert_int_equal(d->ring_v[0], 3000);
	assert_int_equal(d->ring_t[0], T0 + 13 * MS);
	/* pool exhausted: the sample still counts, the table counts the miss */
	m.id = 3;
	req(fx, &m, T0 + 20 * MS, fx->g);
	resp(fx, &m, T0 + 21 * MS, fx->g, NULL);
	assert_int_equal(fx->g->dns.answered, 1);
	struct flow_stats st;
	flow_table_stats(fx->ft, &st);
	assert_int_equal(st.dist_failures, 1);
}

static void response_before_request_clock(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	struct dnspair_sample s;
	req(fx, &m, T0 + 10 * MS, fx->f);
	assert_int_equal(resp(fx, &m, T0 + 9 * MS, fx->f, &s), DNSPAIR_ANSWER);
	assert_int_equal(s.rtt_us, 0);
	struct dnspair_stats st;
	dnspair_stats(fx->dp, &st);
	assert_int_equal(st.negative_rtt, 1);
}

/* Every exchange ends answered or lost. */
static void exchanges_add_up(void **state)
{
	struct fx *fx = *state;
	struct msg m = v4msg();
	uint64_t ts = T0;
	for (uint16_t i = 0; i < 200; i++) {
		m.id = (uint16_t)(i % 23);
		m.cport = (uint16_t)(1024 + i % 7);
		ts += 3 * MS;
		if (i % 3 != 2)
			req(fx, &m, ts, fx->f);
		if (i % 5 != 0)
			resp(fx, &m, ts + MS, fx->f, NULL);
	}
	dnspair_expire(fx->dp, UINT64_MAX, SIZE_MAX);
	const struct flow_dns *d = &fx->f->dns;
	assert_int_equal(d->requests - d->retransmits, d->answered + d->lost);
	assert_int_equal(d->responses, d->answered + d->duplicates + d->unmatched);
	assert_true(d->answered > 0 && d->lost > 0 && d->unmatched > 0);
	struct dnspair_stats st;
	dnspair_stats(fx->dp, &st);
	assert_int_equal(st.pending, 0);
}

/* Random traffic against a naive model (linear scan, same rules), every
 * message carrying its question so at most one live entry fits a message:
 * the event and the RTT of every packet must agree. */
struct model_entry {
	unsigned key;            /* packed choice of client/port/id/question/proto */
	uint64_t ts;
	bool answered, used;
};

static void random_traffic_matches_model(void **state)
{
	(void)state;
	enum { KEYS = 96, OPS = 30000, MAXE = 4096 };
	const uint64_t timeout = 5 * SEC;
	struct dnspair *dp = dnspair_create(NULL, MAXE, timeout);
	static struct model_entry me[MAXE];
	size_t n_me = 0;
	uint64_t lost = 0, ts = T0;
	memset(me, 0, sizeof(me));
	srand(4242);
	for (int op = 0; op < OPS; op++) {
		/* ~2 s between messages of one key, now and then a 6 s pause */
		ts += rand() % 100 ? (uint64_t)(rand() % 40) * MS : 6 * SEC;
		unsigned key = (unsigned)(rand() % KEYS);
		bool is_resp = rand() % 2;
		struct msg m = v4msg();
		m.client[3] = (uint8_t)(key % 2);
		m.cport = (uint16_t)(1024 + key / 2 % 3);
		m.id = (uint16_t)(key / 6 % 4);
		m.qname_hash = key / 24 % 2;
		m.tcp = key / 48 % 2;
		struct pkt_info pi = mkpkt(&m, is_resp, ts);
		struct dnspair_sample s;
		enum dnspair_event ev = dnspair_packet(dp, &pi, NULL, &s);
		/* the model */
		struct model_entry *hit = NULL;
		for (size_t i = 0; i < n_me; i++) {
			if (!me[i].used)
				continue;
			if (ts - me[i].ts >= timeout) {
				lost += !me[i].answered;
				me[i].used = false;
				continue;
			}
			if (me[i].key == key)
				hit = &me[i];
		}
		enum dnspair_event want;
		if (!is_resp) {
			if (hit && !hit->answered) {
				want = DNSPAIR_RETRANSMIT;
			} else {
				want = DNSPAIR_REQUEST;
				if (!hit) {
					size_t i = 0;
					while (i < n_me && me[i].used)
						i++;
					if (i == n_me) {
						assert_true(n_me < MAXE);
						n_me++;
					}
					hit = &me[i];
					hit->key = key;
					hit->used = true;
				}
			}
			hit->ts = ts;
			hit->answered = false;
		} else if (!hit) {
			want = DNSPAIR_UNMATCHED;
		} else if (hit->answered) {
			want = DNSPAIR_DUPLICATE;
		} else {
			want = DNSPAIR_ANSWER;
			hit->answered = true;
			assert_int_equal(s.rtt_us, (ts - hit->ts + 500) / 1000);
		}
		assert_int_equal(ev, want);
	}
	dnspair_expire(dp, UINT64_MAX, SIZE_MAX);
	for (size_t i = 0; i < n_me; i++)
		lost += me[i].used && !me[i].answered;
	struct dnspair_stats st;
	dnspair_stats(dp, &st);
	assert_int_equal(st.lost, lost);
	assert_int_equal(st.evicted, 0);
	assert_true(st.answered > 1000 && st.retransmits > 1000 &&
		    st.duplicates > 500 && st.unmatched > 1000 && lost > 1000);
	dnspair_free(dp);
}

/* The engine's path (dnspair_hint made once, dnspair_prefetch, then
 * dnspair_packet_hinted) against dnspair_packet on the same random
 * traffic, IPv4 and IPv6, with packets that do not pair (no DNS, no
 * ports): every event, sample and counter agrees. */
static void hinted_path_agrees(void **state)
{
	(void)state;
	enum { KEYS = 64, OPS = 20000, CAP = 256 };
	struct dnspair *plain = dnspair_create(NULL, CAP, 2 * SEC);
	struct dnspair *hinted = dnspair_create(NULL, CAP, 2 * SEC);
	assert_non_null(plain);
	assert_non_null(hinted);
	uint64_t ts = T0;
	size_t not_paired = 0;
	srand(2722);
	for (int op = 0; op < OPS; op++) {
		ts += (uint64_t)(rand() % 20) * MS;
		unsigned key = (unsigned)(rand() % KEYS);
		struct msg m = v4msg();
		if (key % 2) {
			m.ver = 6;
			memcpy(m.client, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16);
			memcpy(m.server, (uint8_t[16]){ 0x20, 0x01, 0x05, 0x03, [15] = 0x35 }, 16);
		}
		m.client[3] ^= (uint8_t)(key / 2 % 2);
		m.cport = (uint16_t)(1024 + key / 4 % 4);
		m.id = (uint16_t)(key / 16 % 2);
		m.tcp = key / 32 % 2;
		struct pkt_info pi = mkpkt(&m, rand() % 2, ts);
		int odd = rand() % 16;
		if (odd == 0)
			pi.dns_present = false;
		else if (odd == 1)
			pi.has_ports = false;
		struct dnspair_sample a, b;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		enum dnspair_event ea = dnspair_packet(plain, &pi, NULL, &a);
		struct dnspair_hint h;
		dnspair_hint(&pi, &h);
		dnspair_prefetch(hinted, &h);
		enum dnspair_event eb = dnspair_packet_hinted(hinted, &pi, &h, NULL, &b);
		assert_int_equal(ea, eb);
		assert_memory_equal(&a, &b, sizeof(a));
		not_paired += ea == DNSPAIR_NONE;
	}
	struct dnspair_stats sa, sb;
	dnspair_stats(plain, &sa);
	dnspair_stats(hinted, &sb);
	assert_memory_equal(&sa, &sb, sizeof(sa));
	assert_true(not_paired > 0 && sa.answered > 1000 && sa.retransmits > 100 &&
		    sa.lost > 100);
	dnspair_free(plain);
	dnspair_free(hinted);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_rejects_bad_arguments),
		cmocka_unit_test(hinted_path_agrees),
		T(simple_pair),
		T(rtt_rounding),
		T(retransmission_times_from_latest),
		T(duplicate_response),
		T(unmatched_response),
		T(timeout_is_lost),
		T(expiry_by_packet_time),
		T(sweep_after_head_leaves),
		T(different_question_does_not_pair),
		T(header_only_response_pairs),
		T(tcp_and_udp_distinct),
		T(ipv6_pairs),
		T(expire_batches_keep_index_whole),
		T(pending_table_overflow),
		T(evictions_keep_index_whole),
		T(retransmissions_keep_age_order),
		T(credits_split_between_flows),
		T(recovered_flow_not_credited),
		T(new_exchange_after_answer),
		T(samples_feed_distributions),
		T(response_before_request_clock),
		T(exchanges_add_up),
		cmocka_unit_test(random_traffic_matches_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
