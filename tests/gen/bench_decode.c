/*
 * bench_decode — packets/s through decode_packet() on a built-in frame:
 * Ethernet + 802.1Q + IPv4 + UDP + DNS query with its question (the case
 * every packet of a DNS ruleset pays for).
 *
 *   bench_decode [ITERATIONS]      (default 50000000)
 *
 * For `make bench`; not run by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "decode.h"

#define DEFAULT_ITERATIONS 50000000UL
#define NS_PER_S 1000000000.0
#define BATCH 1000UL   /* packets per timed batch; the best batch shows the
			  cost without other load on a shared machine */

static const uint8_t frame[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x81, 0x00, 0x00, 0x64,                          /* VLAN 100 */
	0x08, 0x00,
	0x45, 0x00, 0x00, 0x3d, 0x12, 0x34, 0x00, 0x00,  /* IPv4, total 61 */
	0x40, 0x11, 0x00, 0x00,
	0xc0, 0x00, 0x02, 0x01, 0xc6, 0x29, 0x00, 0x04,  /* -> 198.41.0.4 */
	0xd4, 0x31, 0x00, 0x35, 0x00, 0x29, 0x00, 0x00,  /* UDP -> 53 */
	0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x03, 'w', 'w', 'w', 0x07, 'E', 'x', 'a', 'm', 'p', 'l', 'e',
	0x03, 'c', 'o', 'm', 0x00, 0x00, 0x01, 0x00, 0x01,  /* A IN */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / NS_PER_S;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : DEFAULT_ITERATIONS;
	if (n == 0) {
		fprintf(stderr, "usage: bench_decode [ITERATIONS > 0]\n");
		return 2;
	}
	struct pkt p = {
		.caplen = sizeof frame, .wirelen = sizeof frame, .data = frame,
		.ifindex = 1, .link = PKT_LINK_ETHERNET,
	};
	struct pkt_info info;
	uint32_t sink = 0;   /* keeps the work observable */

	if (decode_packet(&p, &info) != PKT_OK || !info.dns.has_question) {
		fprintf(stderr, "bench_decode: built-in frame did not decode\n");
		return 1;
	}
	double best = -1;
	unsigned long done = 0;
	double t0 = now_s();
	while (done < n) {
		unsigned long batch = n - done < BATCH ? n - done : BATCH;
		double b0 = now_s();
		for (unsigned long i = 0; i < batch; i++) {
			p.ts_ns = done + i;
			decode_packet(&p, &info);
			sink += info.dns.qname_hash + info.port[0] + (uint32_t)info.ts_ns;
		}
		double b = (now_s() - b0) / (double)batch;
		if (batch == BATCH && (best < 0 || b < best))
			best = b;
		done += batch;
	}
	double dt = now_s() - t0;
	printf("decode: %lu packets in %.3f s: %.1f M packets/s, %.1f ns/packet; "
	       "best batch %.1f ns/packet (sink %08x)\n",
	       n, dt, (double)n / dt / 1e6, dt * 1e9 / (double)n,
	       best < 0 ? 0.0 : best * 1e9, sink);
	return 0;
}
