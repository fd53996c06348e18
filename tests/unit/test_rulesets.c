/*
 * test_rulesets.c — the worked rulesets in rulesets/ do what their comments
 * say.  Each is compiled (no error, no warning), must equal the table
 * written by hand in tests/data/rulesets/<name>.rules (ruleset_equal, so
 * labels and layout do not matter), must load into the PME, and is run on
 * packets whose outcome is reasoned from RFC 2722 §4.3/§4.4: which pass
 * counts them (request To, response From after the reversed retry), and
 * which (attribute, mask, value) items make up the flow key.
 *
 * Files are found under $NTM_ROOT (default: the current directory, which is
 * the repository root under `make check`).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "attr.h"
#include "diag.h"
#include "flowkey.h"
#include "packet.h"
#include "pme.h"
#include "rule.h"
#include "rulesfile.h"
#include "srl.h"

#define PROTO_ICMP 1
#define PROTO_TCP  6
#define PROTO_UDP  17
#define DNS_PORT   53
#define CLIENT_PORT 40000

#define IPV4_BYTES 4
#define IPV6_BYTES 16

/* ---- loading --------------------------------------------------------- */

static void repo_path(char *buf, size_t cap, const char *fmt, const char *name)
{
	const char *root = getenv("NTM_ROOT");
	char rel[256];
	snprintf(rel, sizeof rel, fmt, name);
	snprintf(buf, cap, "%s/%s", root && *root ? root : ".", rel);
}

/* Compile rulesets/<name>.srl, compare it with its expected table and load
 * it into the PME. */
static struct pme_program *load_ruleset(const char *name, unsigned want_set)
{
	char path[1024];
	struct diag d;
	struct ruleset got, want;

	repo_path(path, sizeof path, "rulesets/%s.srl", name);
	diag_init(&d, path);
	int rc = srl_compile_file(path, &got, &d);
	if (rc != 0 || d.warnings)
		diag_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(d.warnings, 0);
	diag_free(&d);
	assert_int_equal(got.set, want_set);

	repo_path(path, sizeof path, "tests/data/rulesets/%s.rules", name);
	diag_init(&d, path);
	rc = ruleset_read_file(path, &want, &d);
	if (rc != 0)
		diag_print(&d, stderr);
	assert_int_equal(rc, 0);
	diag_free(&d);
	assert_true(ruleset_equal(&got, &want));

	diag_init(&d, name);
	struct pme_program *prog = pme_load(&got, &d);
	if (!prog || d.errors || d.warnings)
		diag_print(&d, stderr);
	assert_non_null(prog);
	assert_int_equal(d.errors, 0);
	diag_free(&d);
	ruleset_free(&got);
	ruleset_free(&want);
	return prog;
}

/* ---- packets ---------------------------------------------------------- */

/* An IPv4 or IPv6 packet (the family follows the address text). */
static struct pkt_info pkt_ip(const char *src, const char *dst, uint8_t proto,
			      uint16_t sport, uint16_t dport)
{
	struct pkt_info p;
	memset(&p, 0, sizeof p);
	p.ifindex = 1;
	p.wirelen = 80;
	if (inet_pton(AF_INET, src, p.addr[0]) == 1) {
		assert_int_equal(inet_pton(AF_INET, dst, p.addr[1]), 1);
		p.ip_version = 4;
		p.peer_type = 1;
	} else {
		assert_int_equal(inet_pton(AF_INET6, src, p.addr[0]), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, p.addr[1]), 1);
		p.ip_version = 6;
		p.peer_type = 2;
	}
	p.proto = proto;
	p.has_ports = proto == PROTO_TCP || proto == PROTO_UDP;
	if (p.has_ports) {
		p.port[0] = sport;
		p.port[1] = dport;
	}
	return p;
}

struct outcome {
	enum pme_result r;
	bool reversed;
	struct pme_match m;
};

/* Every packet is classified through a memo too (pme_memo_create), twice:
 * the second time it comes from the memo when the pass was kept there.
 * One memo serves every test, so it also follows the program it is given. */
static struct pme_memo *memo;

static void outcome_same(const struct outcome *a, const struct outcome *b)
{
	assert_int_equal(a->r, b->r);
	assert_int_equal(a->reversed, b->reversed);
	assert_int_equal(a->m.rule, b->m.rule);
	assert_int_equal(a->m.errors, b->m.errors);
	if (a->r != PME_COUNT)
		return;
	assert_int_equal(a->m.key.ruleset, b->m.key.ruleset);
	assert_int_equal(a->m.key.n_items, b->m.key.n_items);
	assert_int_equal(a->m.key.len, b->m.key.len);
	assert_memory_equal(a->m.key.data, b->m.key.data, a->m.key.len);
	assert_int_equal(a->m.n_dist, b->m.n_dist);
	assert_memory_equal(a->m.dist, b->m.dist, a->m.n_dist * sizeof a->m.dist[0]);
}

static struct outcome classify(const struct pme_program *prog, const struct pkt_info *p)
{
	struct outcome o;
	memset(&o, 0, sizeof o);
	o.r = pme_classify(prog, NULL, p, &o.m, &o.reversed);
	assert_int_equal(o.m.errors, 0);
	if (!memo)
		assert_non_null(memo = pme_memo_create());
	for (int k = 0; k < 2; k++) {
		struct outcome w;
		memset(&w, 0xa5, sizeof w);     /* nothing may be left unset */
		w.r = pme_classify(prog, memo, p, &w.m, &w.reversed);
		outcome_same(&o, &w);
		/* a Count from the memo carries its key's hash */
		if (w.r == PME_COUNT && w.m.key_hashed)
			assert_true(w.m.key_hash == flow_key_hash(&w.m.key));
	}
	return o;
}

static struct outcome counted(const struct pme_program *prog, const struct pkt_info *p,
			      bool reversed)
{
	struct outcome o = classify(prog, p);
	assert_int_equal(o.r, PME_COUNT);
	assert_int_equal(o.reversed, reversed);
	return o;
}

/* ---- flow-key items ----------------------------------------------------- */

static void expect_item(const struct flow_key *k, unsigned attr, unsigned width,
			const uint8_t *mask, const uint8_t *value)
{
	struct flow_key_item it;
	if (!flow_key_get(k, attr, &it))
		fail_msg("flow key has no %s (%u)", attr_by_num(attr)->name, attr);
	assert_int_equal(it.width, width);
	assert_memory_equal(it.mask, mask, width);
	assert_memory_equal(it.value, value, width);
}

static void expect_none(const struct flow_key *k, unsigned attr)
{
	struct flow_key_item it;
	if (flow_key_get(k, attr, &it))
		fail_msg("flow key should have no %s (%u)", attr_by_num(attr)->name, attr);
}

/* A one-byte item with an all-ones mask (types, Class, Kind). */
static void expect_byte(const struct flow_key *k, unsigned attr, uint8_t v)
{
	static const uint8_t ones = 0xff;
	expect_item(k, attr, 1, &ones, &v);
}

static void expect_port(const struct flow_key *k, unsigned attr, uint16_t port)
{
	static const uint8_t ones[2] = { 0xff, 0xff };
	uint8_t v[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	expect_item(k, attr, 2, ones, v);
}

/* A peer address item `width` bytes wide with a /bits mask; `text` gives
 * the value before masking (IPv4 text fills the first 4 bytes). */
static void expect_addr(const struct flow_key *k, unsigned attr, unsigned width,
			const char *text, unsigned bits)
{
	uint8_t v[IPV6_BYTES] = { 0 }, m[IPV6_BYTES] = { 0 };
	if (inet_pton(AF_INET, text, v) != 1)
		assert_int_equal(inet_pton(AF_INET6, text, v), 1);
	for (unsigned i = 0; i < width; i++) {
		unsigned b = bits > 8 * i ? bits - 8 * i : 0;
		m[i] = b >= 8 ? 0xff : (uint8_t)(0xff00 >> b);
		v[i] &= m[i];
	}
	expect_item(k, attr, width, m, v);
}

/* ---- dns-root ------------------------------------------------------------ */

#define SET_DNS_ROOT 2
#define CLASS_ROOT 0
#define CLASS_GTLD 1

/* The RFC 2724 request of every DNS ruleset: ToTurnaroundTime, mask
 * transform 3 (ntm dynamic) scale 0 limits 0, value 60 buckets. */
static void expect_rtt_dist(const struct pme_match *m)
{
	static const uint8_t mask[PME_DIST_PARAM] = { 3, 0, 0, 0, 0, 0 };
	static const uint8_t value[PME_DIST_PARAM] = { 60, 0, 0, 0, 0, 0 };
	assert_int_equal(m->n_dist, 1);
	assert_int_equal(m->dist[0].attr, ATTR_TO_TURNAROUND_TIME);
	assert_memory_equal(m->dist[0].mask, mask, PME_DIST_PARAM);
	assert_memory_equal(m->dist[0].value, value, PME_DIST_PARAM);
}

static void expect_server_key(const struct flow_key *k, unsigned set, uint8_t peer_type,
			      const char *server, uint8_t cls, uint8_t kind)
{
	assert_int_equal(k->ruleset, set);
	assert_int_equal(k->n_items, 4);     /* nothing of the client is kept */
	expect_byte(k, ATTR_DEST_PEER_TYPE, peer_type);
	expect_addr(k, ATTR_DEST_PEER_ADDRESS, peer_type == 1 ? IPV4_BYTES : IPV6_BYTES,
		    server, peer_type == 1 ? 32 : 128);
	expect_byte(k, ATTR_FLOW_CLASS, cls);
	expect_byte(k, ATTR_FLOW_KIND, kind);
}

/* a.root-servers.net over UDP/IPv4: the request counts To, the response is
 * retried reversed and lands in the same flow (From). */
static void dns_root_request_and_response(void **state)
{
	(void)state;
	struct pme_program *prog = load_ruleset("dns-root", SET_DNS_ROOT);

	struct pkt_info q = pkt_ip("10.1.2.3", "198.41.0.4", PROTO_UDP, CLIENT_PORT, DNS_PORT);
	struct outcome req = counted(prog, &q, false);
	expect_server_key(&req.m.key, SET_DNS_ROOT, 1, "198.41.0.4", CLASS_ROOT, 1);
	expect_rtt_dist(&req.m);

	struct pkt_info r = pkt_ip("198.41.0.4", "10.1.2.3", PROTO_UDP, DNS_PORT, CLIENT_PORT);
	struct outcome resp = counted(prog, &r, true);
	assert_true(flow_key_equal(&req.m.key, &resp.m.key));
	expect_rtt_dist(&resp.m);
	pme_free(prog);
}

/* Each letter, root and gTLD, IPv4 and IPv6, UDP and TCP, gets its class
 * and its kind (a = 1 .. m = 13). */
static void dns_root_every_server(void **state)
{
	(void)state;
	static const struct { const char *v4, *v6; uint8_t cls, kind; } s[] = {
		{ "198.41.0.4",     "2001:503:ba3e::2:30", CLASS_ROOT, 1 },
		{ "170.247.170.2",  "2801:1b8:10::b",      CLASS_ROOT, 2 },
		{ "192.33.4.12",    "2001:500:2::c",       CLASS_ROOT, 3 },
		{ "199.7.91.13",    "2001:500:2d::d",      CLASS_ROOT, 4 },
		{ "192.203.230.10", "2001:500:a8::e",      CLASS_ROOT, 5 },
		{ "192.5.5.241",    "2001:500:2f::f",      CLASS_ROOT, 6 },
		{ "192.112.36.4",   "2001:500:12::d0d",    CLASS_ROOT, 7 },
		{ "198.97.190.53",  "2001:500:1::53",      CLASS_ROOT, 8 },
		{ "192.36.148.17",  "2001:7fe::53",        CLASS_ROOT, 9 },
		{ "192.58.128.30",  "2001:503:c27::2:30",  CLASS_ROOT, 10 },
		{ "193.0.14.129",   "2001:7fd::1",         CLASS_ROOT, 11 },
		{ "199.7.83.42",    "2001:500:9f::42",     CLASS_ROOT, 12 },
		{ "202.12.27.33",   "2001:dc3::35",        CLASS_ROOT, 13 },
		{ "192.5.6.30",     "2001:503:a83e::2:30", CLASS_GTLD, 1 },
		{ "192.33.14.30",   "2001:503:231d::2:30", CLASS_GTLD, 2 },
		{ "192.26.92.30",   "2001:503:83eb::30",   CLASS_GTLD, 3 },
		{ "192.31.80.30",   "2001:500:856e::30",   CLASS_GTLD, 4 },
		{ "192.12.94.30",   "2001:502:1ca1::30",   CLASS_GTLD, 5 },
		{ "192.35.51.30",   "2001:503:d414::30",   CLASS_GTLD, 6 },
		{ "192.42.93.30",   "2001:503:eea3::30",   CLASS_GTLD, 7 },
		{ "192.54.112.30",  "2001:502:8cc::30",    CLASS_GTLD, 8 },
		{ "192.43.172.30",  "2001:503:39c1::30",   CLASS_GTLD, 9 },
		{ "192.48.79.30",   "2001:502:7094::30",   CLASS_GTLD, 10 },
		{ "192.52.178.30",  "2001:503:d2d::30",    CLASS_GTLD, 11 },
		{ "192.41.162.30",  "2001:500:d937::30",   CLASS_GTLD, 12 },
		{ "192.55.83.30",   "2001:501:b1f9::30",   CLASS_GTLD, 13 },
	};
	struct pme_program *prog = load_ruleset("dns-root", SET_DNS_ROOT);
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		struct pkt_info q4 = pkt_ip("192.0.2.7", s[i].v4, PROTO_UDP, CLIENT_PORT, DNS_PORT);
		struct outcome o4 = counted(prog, &q4, false);
		expect_server_key(&o4.m.key, SET_DNS_ROOT, 1, s[i].v4, s[i].cls, s[i].kind);

		struct pkt_info q6 = pkt_ip("2001:db8::7", s[i].v6, PROTO_TCP, CLIENT_PORT, DNS_PORT);
		struct outcome o6 = counted(prog, &q6, false);
		expect_server_key(&o6.m.key, SET_DNS_ROOT, 2, s[i].v6, s[i].cls, s[i].kind);

		struct pkt_info r6 = pkt_ip(s[i].v6, "2001:db8::7", PROTO_TCP, DNS_PORT, CLIENT_PORT);
		struct outcome back = counted(prog, &r6, true);
		assert_true(flow_key_equal(&o6.m.key, &back.m.key));
	}
	/* the memo finds a pass by what the table reads: a request from
	 * another client and port, to a server seen, is found there */
	assert_true(pme_memo_words(prog) > 0);
	uint64_t lookups0, hits0, lookups1, hits1;
	pme_memo_stats(memo, &lookups0, &hits0);
	struct pkt_info other = pkt_ip("192.0.2.99", s[5].v4, PROTO_UDP, CLIENT_PORT + 7, DNS_PORT);
	struct outcome o = counted(prog, &other, false);
	expect_server_key(&o.m.key, SET_DNS_ROOT, 1, s[5].v4, s[5].cls, s[5].kind);
	pme_memo_stats(memo, &lookups1, &hits1);
	assert_int_equal(lookups1 - lookups0, 2);
	assert_int_equal(hits1 - hits0, 2);
	pme_free(prog);
}

/* Not counted: another server (and b-root's address before 2023), a
 * non-DNS port to a root server, a protocol other than UDP/TCP, not IP. */
static void dns_root_not_counted(void **state)
{
	(void)state;
	struct pme_program *prog = load_ruleset("dns-root", SET_DNS_ROOT);
	struct pkt_info p;

	p = pkt_ip("10.1.2.3", "8.8.8.8", PROTO_UDP, CLIENT_PORT, DNS_PORT);
	assert_int_equal(classify(prog, &p).r, PME_NOMATCH);
	p = pkt_ip("8.8.8.8", "10.1.2.3", PROTO_UDP, DNS_PORT, CLIENT_PORT);
	assert_int_equal(classify(prog, &p).r, PME_NOMATCH);
	p = pkt_ip("10.1.2.3", "199.9.14.201", PROTO_UDP, CLIENT_PORT, DNS_PORT);
	assert_int_equal(classify(prog, &p).r, PME_NOMATCH);
	p = pkt_ip("10.1.2.3", "198.41.0.4", PROTO_TCP, CLIENT_PORT, 443);
	assert_int_equal(classify(prog, &p).r, PME_NOMATCH);
	p = pkt_ip("10.1.2.3", "198.41.0.4", PROTO_ICMP, 0, 0);
	assert_int_equal(classify(prog, &p).r, PME_NOMATCH);
	/* an IPv6 address that begins with the 4 bytes of a.root's IPv4
	 * address is not a.root: the ruleset tests the family before any
	 * (4-byte) IPv4 rule can meet an IPv6 address */
	p = pkt_ip("2001:db8::7", "c629:4::", PROTO_UDP, CLIENT_PORT, DNS_PORT);
	assert_int_equal(classify(prog, &p).r, PME_NOMATCH);
	memset(&p, 0, sizeof p);               /* not IP (e.g. ARP) */
	p.wirelen = 60;
	assert_int_equal(classify(prog, &p).r, PME_NOMATCH);
	pme_free(prog);
}

/* ---- dns-all --------------------------------------------------------- */

#define SET_DNS_ALL 3
#define CLASS_LOCAL 1
#define CLASS_ELSEWHERE 2

/* One flow per server address: the whole address in its family's width
 * (4 or 16 bytes), FlowClass by the family's own site prefixes. */
static void dns_all_servers(void **state)
{
	(void)state;
	static const struct { const char *client, *server; uint8_t type, cls; } s[] = {
		{ "192.168.1.10", "192.168.1.1",          1, CLASS_LOCAL },
		{ "10.9.8.7",     "172.31.255.254",       1, CLASS_LOCAL },
		{ "192.168.1.10", "8.8.8.8",              1, CLASS_ELSEWHERE },
		{ "192.168.1.10", "172.32.0.1",           1, CLASS_ELSEWHERE },
		{ "fd00::10",     "fd12:3456::53",        2, CLASS_LOCAL },
		{ "fd00::10",     "2001:4860:4860::8888", 2, CLASS_ELSEWHERE },
		/* begins like 10/8, but IPv4 prefixes are not tested on IPv6 */
		{ "fd00::10",     "a00::53",              2, CLASS_ELSEWHERE },
	};
	struct pme_program *prog = load_ruleset("dns-all", SET_DNS_ALL);
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		struct pkt_info q = pkt_ip(s[i].client, s[i].server, PROTO_UDP, CLIENT_PORT, DNS_PORT);
		struct outcome o = counted(prog, &q, false);
		const struct flow_key *k = &o.m.key;
		assert_int_equal(k->ruleset, SET_DNS_ALL);
		assert_int_equal(k->n_items, 3);
		expect_byte(k, ATTR_DEST_PEER_TYPE, s[i].type);
		if (s[i].type == 1)
			expect_addr(k, ATTR_DEST_PEER_ADDRESS, IPV4_BYTES, s[i].server, 32);
		else
			expect_addr(k, ATTR_DEST_PEER_ADDRESS, IPV6_BYTES, s[i].server, 128);
		expect_byte(k, ATTR_FLOW_CLASS, s[i].cls);
		expect_rtt_dist(&o.m);

		/* the response over TCP is the same flow, counted From */
		struct pkt_info r = pkt_ip(s[i].server, s[i].client, PROTO_TCP, DNS_PORT, CLIENT_PORT);
		struct outcome back = counted(prog, &r, true);
		assert_true(flow_key_equal(k, &back.m.key));
	}
	struct pkt_info web = pkt_ip("192.168.1.10", "192.168.1.1", PROTO_TCP, CLIENT_PORT, 443);
	assert_int_equal(classify(prog, &web).r, PME_NOMATCH);
	pme_free(prog);
}

/* ---- apps ------------------------------------------------------------ */

#define SET_APPS 4

static void apps_keys(void **state)
{
	(void)state;
	struct pme_program *prog = load_ruleset("apps", SET_APPS);

	/* HTTPS: the server port and 'W'; the reply is retried reversed */
	struct pkt_info p = pkt_ip("10.0.0.1", "93.184.216.34", PROTO_TCP, 50000, 443);
	struct outcome o = counted(prog, &p, false);
	assert_int_equal(o.m.key.n_items, 4);
	expect_byte(&o.m.key, ATTR_SOURCE_PEER_TYPE, 1);
	expect_byte(&o.m.key, ATTR_SOURCE_TRANS_TYPE, PROTO_TCP);
	expect_port(&o.m.key, ATTR_DEST_TRANS_ADDRESS, 443);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'W');
	expect_none(&o.m.key, ATTR_SOURCE_PEER_ADDRESS);
	expect_none(&o.m.key, ATTR_DEST_PEER_ADDRESS);
	p = pkt_ip("93.184.216.34", "10.0.0.1", PROTO_TCP, 443, 50000);
	struct outcome r = counted(prog, &p, true);
	assert_true(flow_key_equal(&o.m.key, &r.m.key));

	/* both ports well known: the destination port wins, no retry */
	p = pkt_ip("10.0.0.1", "10.0.0.2", PROTO_UDP, 53, 123);
	o = counted(prog, &p, false);
	expect_port(&o.m.key, ATTR_DEST_TRANS_ADDRESS, 123);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'N');

	/* IPv6 ssh */
	p = pkt_ip("2001:db8::1", "2001:db8::2", PROTO_TCP, 51515, 22);
	o = counted(prog, &p, false);
	expect_byte(&o.m.key, ATTR_SOURCE_PEER_TYPE, 2);
	expect_port(&o.m.key, ATTR_DEST_TRANS_ADDRESS, 22);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'S');

	/* mail on 587, ftp data on 20, DNS over TCP */
	p = pkt_ip("10.0.0.1", "10.0.0.9", PROTO_TCP, 40001, 587);
	o = counted(prog, &p, false);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'M');
	p = pkt_ip("10.0.0.1", "10.0.0.9", PROTO_TCP, 40001, 20);
	o = counted(prog, &p, false);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'F');
	p = pkt_ip("10.0.0.1", "10.0.0.9", PROTO_TCP, 40001, 53);
	o = counted(prog, &p, false);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'D');

	/* no listed port: '?' and no port in the key, both ways alike */
	p = pkt_ip("10.0.0.1", "10.0.0.2", PROTO_UDP, 40000, 40001);
	o = counted(prog, &p, false);
	assert_int_equal(o.m.key.n_items, 3);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, '?');
	expect_none(&o.m.key, ATTR_DEST_TRANS_ADDRESS);
	p = pkt_ip("10.0.0.2", "10.0.0.1", PROTO_UDP, 40001, 40000);
	r = counted(prog, &p, false);
	assert_true(flow_key_equal(&o.m.key, &r.m.key));

	/* another protocol: one flow per protocol number, no Kind */
	p = pkt_ip("10.0.0.1", "10.0.0.2", PROTO_ICMP, 0, 0);
	o = counted(prog, &p, false);
	assert_int_equal(o.m.key.n_items, 2);
	expect_byte(&o.m.key, ATTR_SOURCE_PEER_TYPE, 1);
	expect_byte(&o.m.key, ATTR_SOURCE_TRANS_TYPE, PROTO_ICMP);
	expect_none(&o.m.key, ATTR_FLOW_KIND);

	/* not IP: ignored at once */
	memset(&p, 0, sizeof p);
	assert_int_equal(classify(prog, &p).r, PME_IGNORE);
	pme_free(prog);
}

/* ---- subnets --------------------------------------------------------- */

#define SET_SUBNETS 5

static void subnets_keys(void **state)
{
	(void)state;
	struct pme_program *prog = load_ruleset("subnets", SET_SUBNETS);

	/* staff to outside: the /24, SourceClass 1, DestClass 9, no Dest address */
	struct pkt_info p = pkt_ip("10.1.5.9", "8.8.8.8", PROTO_UDP, 40000, 53);
	struct outcome o = counted(prog, &p, false);
	assert_int_equal(o.m.key.n_items, 6);
	expect_byte(&o.m.key, ATTR_SOURCE_PEER_TYPE, 1);
	expect_byte(&o.m.key, ATTR_DEST_PEER_TYPE, 1);
	expect_addr(&o.m.key, ATTR_SOURCE_PEER_ADDRESS, IPV4_BYTES, "10.1.5.0", 24);
	expect_byte(&o.m.key, ATTR_SOURCE_CLASS, 1);
	expect_byte(&o.m.key, ATTR_DEST_CLASS, 9);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'U');
	expect_none(&o.m.key, ATTR_DEST_PEER_ADDRESS);

	/* inbound to the same subnet: retried, the local end as source */
	p = pkt_ip("8.8.8.8", "10.1.5.200", PROTO_UDP, 53, 40000);
	struct outcome in = counted(prog, &p, true);
	assert_true(flow_key_equal(&o.m.key, &in.m.key));

	/* students (10.20/14) to servers (10.3.0/24) over TCP: a subnet pair */
	p = pkt_ip("10.21.3.4", "10.3.0.7", PROTO_TCP, 40000, 443);
	o = counted(prog, &p, false);
	assert_int_equal(o.m.key.n_items, 7);
	expect_addr(&o.m.key, ATTR_SOURCE_PEER_ADDRESS, IPV4_BYTES, "10.21.3.0", 24);
	expect_byte(&o.m.key, ATTR_SOURCE_CLASS, 2);
	expect_addr(&o.m.key, ATTR_DEST_PEER_ADDRESS, IPV4_BYTES, "10.3.0.0", 24);
	expect_byte(&o.m.key, ATTR_DEST_CLASS, 3);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'T');
	/* its reply is counted on the first pass (both ends local) with the
	 * swapped key, which the flow table finds as the same flow -- because
	 * both peer types are in the key */
	p = pkt_ip("10.3.0.7", "10.21.3.4", PROTO_TCP, 443, 40000);
	struct outcome back = counted(prog, &p, false);
	struct flow_key swapped;
	flow_key_swap(&back.m.key, &swapped);
	assert_true(flow_key_equal(&o.m.key, &swapped));

	/* 10.3.1/24 is not the servers' /24: rest of the site (4), ICMP 'O' */
	p = pkt_ip("10.99.0.1", "10.3.1.1", PROTO_ICMP, 0, 0);
	o = counted(prog, &p, false);
	expect_byte(&o.m.key, ATTR_SOURCE_CLASS, 4);
	expect_byte(&o.m.key, ATTR_DEST_CLASS, 4);
	expect_byte(&o.m.key, ATTR_FLOW_KIND, 'O');

	/* transit and IPv6 are ignored on the first pass */
	p = pkt_ip("1.2.3.4", "5.6.7.8", PROTO_TCP, 1, 2);
	assert_int_equal(classify(prog, &p).r, PME_IGNORE);
	p = pkt_ip("2001:db8::1", "2001:db8::2", PROTO_TCP, 1, 2);
	assert_int_equal(classify(prog, &p).r, PME_IGNORE);
	pme_free(prog);
}

/* ---- two-groups (RFC 2723 §4.2, NeTraMet rules.two-ip-groups) -------- */

#define SET_TWO_GROUPS 6

static void two_groups_keys(void **state)
{
	(void)state;
	struct pme_program *prog = load_ruleset("two-groups", SET_TWO_GROUPS);

	/* A -> B: counted forward; the subroutine's pushes through v1/v2
	 * land as SourcePeerAddress/SourceClass and DestPeerAddress/DestClass */
	struct pkt_info p = pkt_ip("130.216.7.9", "156.62.3.4", PROTO_UDP, 1025, 53);
	struct outcome ab = counted(prog, &p, false);
	assert_int_equal(ab.m.key.n_items, 5);
	expect_byte(&ab.m.key, ATTR_SOURCE_PEER_TYPE, 1);
	expect_addr(&ab.m.key, ATTR_SOURCE_PEER_ADDRESS, IPV4_BYTES, "130.216.0.0", 16);
	expect_byte(&ab.m.key, ATTR_SOURCE_CLASS, 1);
	expect_addr(&ab.m.key, ATTR_DEST_PEER_ADDRESS, IPV4_BYTES, "156.62.0.0", 16);
	expect_byte(&ab.m.key, ATTR_DEST_CLASS, 2);

	/* B -> A: NOMATCH, then counted as A -> B (reverse) */
	p = pkt_ip("156.62.3.4", "130.216.7.9", PROTO_UDP, 53, 1025);
	struct outcome ba = counted(prog, &p, true);
	assert_true(flow_key_equal(&ab.m.key, &ba.m.key));

	/* A -> elsewhere: DestClass 3, no destination address */
	p = pkt_ip("130.216.1.1", "8.8.8.8", PROTO_TCP, 40000, 80);
	struct outcome ao = counted(prog, &p, false);
	assert_int_equal(ao.m.key.n_items, 4);
	expect_byte(&ao.m.key, ATTR_DEST_CLASS, 3);
	expect_none(&ao.m.key, ATTR_DEST_PEER_ADDRESS);
	p = pkt_ip("8.8.8.8", "130.216.200.1", PROTO_TCP, 80, 40000);
	struct outcome oa = counted(prog, &p, true);
	assert_true(flow_key_equal(&ao.m.key, &oa.m.key));

	/* B's second network (202.37.192/20) -> elsewhere */
	p = pkt_ip("202.37.200.1", "8.8.4.4", PROTO_UDP, 40000, 53);
	struct outcome bo = counted(prog, &p, false);
	expect_addr(&bo.m.key, ATTR_SOURCE_PEER_ADDRESS, IPV4_BYTES, "202.37.192.0", 20);
	expect_byte(&bo.m.key, ATTR_SOURCE_CLASS, 2);
	expect_byte(&bo.m.key, ATTR_DEST_CLASS, 3);

	/* inside one group: ignored; touching neither: no match either way */
	p = pkt_ip("130.216.1.1", "130.216.2.2", PROTO_UDP, 53, 53);
	assert_int_equal(classify(prog, &p).r, PME_IGNORE);
	p = pkt_ip("156.62.1.1", "202.37.193.1", PROTO_UDP, 53, 53);
	assert_int_equal(classify(prog, &p).r, PME_IGNORE);
	p = pkt_ip("10.0.0.1", "192.168.1.1", PROTO_UDP, 53, 53);
	assert_int_equal(classify(prog, &p).r, PME_NOMATCH);
	pme_free(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dns_root_request_and_response),
		cmocka_unit_test(dns_root_every_server),
		cmocka_unit_test(dns_root_not_counted),
		cmocka_unit_test(dns_all_servers),
		cmocka_unit_test(apps_keys),
		cmocka_unit_test(subnets_keys),
		cmocka_unit_test(two_groups_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
