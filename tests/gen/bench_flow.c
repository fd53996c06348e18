/*
 * bench_flow — flow table and DNS pairing rates, for `make bench`.
 *   bench_flow [-p PACKETS] [N...]        (default N: 10000 1000000)
 *
 * For each N: a table of capacity N * 5/4 (80 % full, below the usual
 * FloodMark) with 48-byte key slots gets N flows keyed like dns-all (source and destination peer
 * address and port, protocol), then PACKETS packets pick flows uniformly
 * at random (the worst case for caches) and go through flow_count_packet,
 * key building and hashing included, as the PME hands them on.  The
 * "key+hash" line times key building and hashing alone, so the table's own
 * share is the difference.  Prints Markdown table rows.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "dnspair.h"
#include "flow.h"
#include "flowkey.h"
#include "packet.h"

#define DEFAULT_PACKETS 10000000ull
#define BENCH_KEY_LEN 48u       /* the 5-tuple key below takes 41 bytes */
#define NS_PER_SEC 1000000000ull

static const uint8_t MASK_ALL[4] = { 0xff, 0xff, 0xff, 0xff };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: cheap, reproducible flow choice */
static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Flow n: client 10.x.y.z:port -> server 192.0.2.(n % 13), UDP 53. */
static void build_key(struct flow_key *k, uint32_t n)
{
	uint8_t src[4] = { 10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	uint8_t dst[4] = { 192, 0, 2, (uint8_t)(n % 13) };
	uint8_t sport[2] = { (uint8_t)(0x80 | (n >> 24)), (uint8_t)(n >> 3) };
	uint8_t dport[2] = { 0, 53 };
	uint8_t proto[1] = { 17 };
	flow_key_clear(k, 1);
	flow_key_put(k, ATTR_SOURCE_PEER_ADDRESS, 4, MASK_ALL, src);
	flow_key_put(k, ATTR_DEST_PEER_ADDRESS, 4, MASK_ALL, dst);
	flow_key_put(k, ATTR_SOURCE_TRANS_TYPE, 1, MASK_ALL, proto);
	flow_key_put(k, ATTR_SOURCE_TRANS_ADDRESS, 2, MASK_ALL, sport);
	flow_key_put(k, ATTR_DEST_TRANS_ADDRESS, 2, MASK_ALL, dport);
}

static int bench_table(size_t n, uint64_t packets)
{
	struct flow_table *t = flow_table_create_sized(n + n / 4, BENCH_KEY_LEN);
	if (!t) {
		fprintf(stderr, "bench_flow: cannot allocate %zu flows\n", n);
		return -1;
	}
	struct flow_key k;
	uint64_t ts = 1700000000ull * NS_PER_SEC;

	double t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		build_key(&k, (uint32_t)i);
		if (!flow_count_packet(t, &k, flow_key_hash(&k), false, 80, ts++, NULL)) {
			fprintf(stderr, "bench_flow: table full at %zu\n", i);
			flow_table_free(t);
			return -1;
		}
	}
	double t_ins = now_s() - t0;

	uint64_t seed = 88172645463325252ull, sink = 0;
	t0 = now_s();
	for (uint64_t p = 0; p < packets; p++) {
		build_key(&k, (uint32_t)(rnd(&seed) % n));
		sink += flow_key_hash(&k);
	}
	double t_key = now_s() - t0;

	seed = 88172645463325252ull;
	t0 = now_s();
	for (uint64_t p = 0; p < packets; p++) {
		build_key(&k, (uint32_t)(rnd(&seed) % n));
		struct flow *f = flow_count_packet(t, &k, flow_key_hash(&k), false,
						   80, ts++, NULL);
		sink += (uintptr_t)f;
	}
	double t_cnt = now_s() - t0;

	t0 = now_s();
	size_t rec = flow_gc(t, ts, 0, UINT64_MAX, n + n / 4);
	double t_gc = now_s() - t0;

	struct flow_stats st;
	flow_table_stats(t, &st);
	printf("| flow table, %zu flows: insert (new flow) | %.2f M/s |\n", n,
	       (double)n / t_ins / 1e6);
	printf("| flow table, %zu flows: key build + hash only | %.2f M/s |\n", n,
	       (double)packets / t_key / 1e6);
	printf("| flow table, %zu flows: key + hash + lookup + count (random flow) | %.2f M pkt/s (%.0f ns/pkt, table share %.0f ns) |\n",
	       n, (double)packets / t_cnt / 1e6, t_cnt / (double)packets * 1e9,
	       (t_cnt - t_key) / (double)packets * 1e9);
	printf("| flow table, %zu flows: GC recovering all | %.2f M flows/s |\n", n,
	       (double)rec / t_gc / 1e6);
	if (sink == 42)
		puts("");   /* keeps the loops from being optimised away */
	flow_table_free(t);
	return 0;
}

/* Request + response pairs through dnspair for `exchanges` exchanges spread
 * over 64 k clients. */
static void bench_dnspair(uint64_t exchanges)
{
	struct dnspair *p = dnspair_create(NULL, 1u << 16, 5 * NS_PER_SEC);
	if (!p)
		return;
	struct pkt_info q, r;
	memset(&q, 0, sizeof(q));
	q.ip_version = 4;
	q.proto = 17;
	q.has_ports = true;
	q.dns_present = true;
	q.dns.has_question = true;
	q.dns.qtype = 1;
	q.dns.qclass = 1;
	q.addr[1][0] = 192;
	q.addr[1][3] = 4;
	q.port[1] = 53;
	q.addr[0][0] = 10;
	r = q;
	r.dns.qr = 1;
	r.addr[0][0] = 192;
	r.addr[0][3] = 4;
	r.addr[1][0] = 10;
	r.port[0] = 53;
	uint64_t ts = 1700000000ull * NS_PER_SEC, seed = 1234567;
	double t0 = now_s();
	for (uint64_t i = 0; i < exchanges; i++) {
		uint64_t x = rnd(&seed);
		q.addr[0][2] = r.addr[1][2] = (uint8_t)x;
		q.addr[0][3] = r.addr[1][3] = (uint8_t)(x >> 8);
		q.port[0] = r.port[1] = (uint16_t)(1024 + (x >> 16) % 60000);
		q.dns.id = r.dns.id = (uint16_t)(x >> 32);
		q.dns.qname_hash = r.dns.qname_hash = (uint32_t)(x >> 40);
		q.ts_ns = ts;
		r.ts_ns = ts + 20000;
		ts += 10000;
		dnspair_packet(p, &q, NULL, NULL);
		dnspair_packet(p, &r, NULL, NULL);
	}
	double dt = now_s() - t0;
	struct dnspair_stats st;
	dnspair_stats(p, &st);
	printf("| DNS pairing, 65536 pending: request + response | %.2f M pairs/s (answered %" PRIu64 ") |\n",
	       (double)exchanges / dt / 1e6, st.answered);
	dnspair_free(p);
}

int main(int argc, char **argv)
{
	uint64_t packets = DEFAULT_PACKETS;
	int c;
	while ((c = getopt(argc, argv, "p:")) != -1) {
		if (c == 'p') {
			packets = strtoull(optarg, NULL, 10);
		} else {
			fprintf(stderr, "usage: bench_flow [-p PACKETS] [N...]\n");
			return 2;
		}
	}
	printf("| measurement | rate |\n|---|---|\n");
	printf("| bytes per flow record (struct flow) | %zu (+ key slot: %zu full, %zu for a 5-tuple table; + 16..32 index) |\n",
	       sizeof(struct flow), sizeof(struct flow_key),
	       (offsetof(struct flow_key, data) + BENCH_KEY_LEN + 7) / 8 * 8);
	printf("| bytes per pending DNS entry | %zu |\n", dnspair_entry_bytes());
	int rc = 0;
	if (optind == argc) {
		rc |= bench_table(10000, packets);
		rc |= bench_table(1000000, packets);
	} else {
		for (int i = optind; i < argc; i++) {
			size_t n = strtoul(argv[i], NULL, 10);
			if (n == 0 || n > FLOW_MAX_CAPACITY) {
				fprintf(stderr, "bench_flow: bad flow count %s\n", argv[i]);
				return 2;
			}
			rc |= bench_table(n, packets);
		}
	}
	bench_dnspair(packets / 2);
	return rc ? 1 : 0;
}
