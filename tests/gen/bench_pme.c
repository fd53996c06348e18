/*
 * bench_pme — packets/s through pme_classify() + flow_key_hash() with a
 * DNS-root-like ruleset of ~65 rules built in code (PeerType and port 53
 * tests, a chain of 26 DestPeerAddress tests each storing FlowKind, then
 * STORE FlowClass, SAVEs, a turnaround distribution and COUNT).
 *
 *   bench_pme [ITERATIONS [RULESET]]    (default 20000000, built-in rules)
 *
 * RULESET (.srl or .rules) replaces the built-in table, e.g.
 * rulesets/dns-root.srl; the synthetic packets go to 198.41.0.4 (a.root)
 * and to addresses such a ruleset does not list.  Without a memo
 * (pme_memo_create): every pass is walked, the cost of a packet whose
 * values the memo does not hold.
 *
 * For `make bench`; not run by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attr.h"
#include "diag.h"
#include "flowkey.h"
#include "packet.h"
#include "pme.h"
#include "rule.h"
#include "srl.h"

#define N_SERVERS 26
#define DEFAULT_ITERATIONS 20000000UL

static struct rule rule_of(unsigned attr, unsigned op, unsigned param,
			   unsigned len, const uint8_t *mask, const uint8_t *value)
{
	struct rule r;
	memset(&r, 0, sizeof r);
	r.attr = (uint16_t)attr;
	r.op = (uint8_t)op;
	r.param = param;
	r.len = (uint8_t)len;
	if (len) {
		memcpy(r.mask, mask, len);
		memcpy(r.value, value, len);
	}
	return r;
}

static void be32(uint8_t *b, uint32_t x)
{
	b[0] = (uint8_t)(x >> 24);
	b[1] = (uint8_t)(x >> 16);
	b[2] = (uint8_t)(x >> 8);
	b[3] = (uint8_t)x;
}

/* 198.41.0.4-style addresses, one per "server" */
static uint32_t server_addr(unsigned i)
{
	return 0xc6290000u + (i << 8) + 4;
}

static int add(struct ruleset *rs, struct rule r)
{
	return ruleset_add_rule(rs, &r, NULL);
}

static int build(struct ruleset *rs)
{
	static const uint8_t ff[4] = { 255, 255, 255, 255 }, zero[6] = { 0 };
	const uint8_t one = 1, udp = 17, p53[2] = { 0, 53 }, root = 1;
	const uint8_t m24[4] = { 255, 255, 255, 0 };
	/* ToTurnaroundTime: log, 10^3, 1 .. 7000 ms, 60 buckets */
	const uint8_t dmask[6] = { 2, 3, 0, 1, 0x1b, 0x58 }, dval[6] = { 60 };
	const unsigned chain = 8, ignore = chain + N_SERVERS,
		       stores = ignore + 1, tail = stores + N_SERVERS;
	int e = 0;
	ruleset_init(rs);
	rs->set = 1;
	/* 1 */ e |= add(rs, rule_of(ATTR_SOURCE_PEER_TYPE, RULE_PUSH_RULE_TO, 3, 1, ff, &one));
	/* 2 */ e |= add(rs, rule_of(ATTR_NULL, RULE_IGNORE, 0, 0, NULL, NULL));
	/* 3 */ e |= add(rs, rule_of(ATTR_SOURCE_TRANS_TYPE, RULE_PUSH_RULE_TO, 5, 1, ff, &udp));
	/* 4 */ e |= add(rs, rule_of(ATTR_NULL, RULE_IGNORE, 0, 0, NULL, NULL));
	/* 5: the server is the destination */
	e |= add(rs, rule_of(ATTR_SOURCE_TRANS_ADDRESS, RULE_NOMATCH, 0, 2, ff, p53));
	/* 6 */ e |= add(rs, rule_of(ATTR_DEST_TRANS_ADDRESS, RULE_GOTO, chain, 2, ff, p53));
	/* 7 */ e |= add(rs, rule_of(ATTR_NULL, RULE_IGNORE, 0, 0, NULL, NULL));
	for (unsigned i = 0; i < N_SERVERS; i++) {
		uint8_t a[4];
		be32(a, server_addr(i));
		e |= add(rs, rule_of(ATTR_DEST_PEER_ADDRESS, RULE_GOTO_ACT,
				     stores + i, 4, ff, a));
	}
	/* not a server we watch */
	e |= add(rs, rule_of(ATTR_NULL, RULE_IGNORE, 0, 0, NULL, NULL));
	for (unsigned i = 0; i < N_SERVERS; i++) {
		uint8_t kind = (uint8_t)('a' + i);
		e |= add(rs, rule_of(ATTR_FLOW_KIND, RULE_PUSH_RULE_TO_ACT, tail, 1, ff, &kind));
	}
	/* tail: STORE FlowClass := 1; SAVE DestPeerAddress;
	 * SAVE SourcePeerAddress /24; the distribution; COUNT */
	e |= add(rs, rule_of(ATTR_FLOW_CLASS, RULE_PUSH_RULE_TO_ACT, tail + 1, 1, ff, &root));
	e |= add(rs, rule_of(ATTR_DEST_PEER_ADDRESS, RULE_PUSH_PKT_TO_ACT, tail + 2, 4, ff, zero));
	e |= add(rs, rule_of(ATTR_SOURCE_PEER_ADDRESS, RULE_PUSH_PKT_TO_ACT, tail + 3, 4, m24, zero));
	e |= add(rs, rule_of(ATTR_TO_TURNAROUND_TIME, RULE_PUSH_PKT_TO_ACT, tail + 4, 6, dmask, dval));
	e |= add(rs, rule_of(ATTR_DEST_TRANS_ADDRESS, RULE_COUNT, 0, 2, ff, p53));
	return e;
}

static struct pkt_info udp4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	struct pkt_info p;
	memset(&p, 0, sizeof p);
	p.wirelen = 80;
	p.ifindex = 1;
	p.has_mac = true;
	p.ip_version = 4;
	p.peer_type = 1;
	be32(p.addr[0], src);
	be32(p.addr[1], dst);
	p.proto = 17;
	p.has_ports = true;
	p.port[0] = sport;
	p.port[1] = dport;
	p.dns_present = true;
	return p;
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : DEFAULT_ITERATIONS;
	struct ruleset rs;
	struct diag d;
	diag_init(&d, argc > 2 ? argv[2] : "bench_pme");
	if (argc > 2) {
		ruleset_init(&rs);
		if (srl_load_ruleset(argv[2], &rs, &d)) {
			diag_print(&d, stderr);
			return 1;
		}
	} else if (build(&rs)) {
		fprintf(stderr, "bench_pme: out of memory\n");
		return 1;
	}
	struct pme_program *prog = pme_load(&rs, &d);
	if (!prog) {
		diag_print(&d, stderr);
		return 1;
	}
	const uint32_t client = 0x82d80709;   /* 130.216.7.9 */
	struct pkt_info pkts[] = {
		udp4(client, server_addr(0), 40000, 53),              /* first server */
		udp4(server_addr(0), client, 53, 40000),              /* its response */
		udp4(client, server_addr(N_SERVERS - 1), 40001, 53),  /* last server */
		udp4(server_addr(12), client, 53, 40002),
		udp4(client, 0x08080808, 40003, 53),                  /* not watched */
		udp4(client, 0x08080808, 40003, 443),                 /* not DNS */
	};
	const unsigned n_pkts = sizeof pkts / sizeof pkts[0];

	struct pme_match m;
	struct pme_stats st;
	memset(&st, 0, sizeof st);
	uint64_t sink = 0;
	/* CPU time of this thread: on a busy machine wall time also counts
	 * the time other processes ran */
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (unsigned long i = 0, k = 0; i < iters; i++) {
		bool rev;
		enum pme_result r = pme_classify(prog, NULL, &pkts[k], &m, &rev);
		if (r == PME_COUNT)
			sink += flow_key_hash(&m.key);
		if (m.errors)
			pme_stats_add(&st, r, rev, &m);
		if (++k == n_pkts)
			k = 0;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	printf("bench_pme: %s: %zu rules (%zu test chains), %lu packets, %.3f s CPU (%.3f s wall): "
	       "%.2f M packets/s (%.1f ns/packet)%s\n",
	       argc > 2 ? argv[2] : "built-in", pme_rule_count(prog),
	       pme_chain_count(prog), iters, cpu, wall, (double)iters / cpu / 1e6,
	       cpu * 1e9 / (double)iters, st.packets ? " [run-time errors!]" : "");
	if (sink == 42)          /* keep the hashes alive */
		putchar(' ');
	pme_free(prog);
	ruleset_free(&rs);
	diag_free(&d);
	return st.packets ? 1 : 0;
}
