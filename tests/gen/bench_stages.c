/*
 * bench_stages — decode + PME + flow update alone, on a real trace's
 * packets held in memory: what `ntm-meter --read` does per packet minus
 * reading the file, DNS pairing, distributions and writing the .dif.
 *
 *   bench_stages TRACE RULES [MAX_PACKETS [REPEAT]]
 *                (defaults 2000000 packets, best of 5 runs)
 *
 * RULES is .srl or .rules.  The packets are copied out of the capture
 * reader first (not timed); each run decodes every packet, classifies it
 * with pme_classify() and counts the Count results with pme_key_hash()
 * and flow_count_packet() into one flow table, as engine_packet() does.
 * Prints one line; CPU time of this thread.  For `make bench`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cap.h"
#include "decode.h"
#include "diag.h"
#include "flow.h"
#include "flowkey.h"
#include "pme.h"
#include "rule.h"
#include "srl.h"

#define DEFAULT_PACKETS 2000000ul
#define DEFAULT_REPEAT 5u
#define BATCH 64
#define FLOWS 65536u            /* ntm-meter's default --max-flows */

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The trace's first `max` packets, data copied into one arena. */
static size_t load_packets(const char *path, size_t max, struct pkt **out, uint8_t **arena)
{
	char err[256];
	struct cap *c = cap_open_file(path, err, sizeof err);
	if (!c) {
		fprintf(stderr, "bench_stages: %s\n", err);
		return 0;
	}
	size_t n = 0, cap_pkts = 1024, used = 0, cap_bytes = 1u << 20;
	struct pkt *pk = malloc(cap_pkts * sizeof *pk);
	uint8_t *data = malloc(cap_bytes);
	size_t *off = malloc(cap_pkts * sizeof *off);
	struct pkt batch[BATCH];
	int got;
	while (pk && data && off && n < max && (got = cap_next_batch(c, batch, BATCH)) > 0) {
		for (int i = 0; i < got && n < max; i++) {
			if (n == cap_pkts) {
				cap_pkts *= 2;
				struct pkt *np = realloc(pk, cap_pkts * sizeof *pk);
				size_t *no = realloc(off, cap_pkts * sizeof *off);
				if (!np || !no) {
					free(np ? np : pk);
					free(no ? no : off);
					pk = NULL;
					off = NULL;
					break;
				}
				pk = np;
				off = no;
			}
			while (used + batch[i].caplen > cap_bytes) {
				uint8_t *nd = realloc(data, cap_bytes * 2);
				if (!nd) {
					free(data);
					data = NULL;
					break;
				}
				data = nd;
				cap_bytes *= 2;
			}
			if (!data)
				break;
			memcpy(data + used, batch[i].data, batch[i].caplen);
			pk[n] = batch[i];
			off[n++] = used;
			used += batch[i].caplen;
		}
	}
	cap_close(c);
	if (!pk || !data || !off) {
		fprintf(stderr, "bench_stages: out of memory\n");
		free(pk);
		free(data);
		free(off);
		return 0;
	}
	for (size_t i = 0; i < n; i++)          /* the arena has moved */
		pk[i].data = data + off[i];
	free(off);
	*out = pk;
	*arena = data;
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_stages TRACE RULES [MAX_PACKETS [REPEAT]]\n");
		return 2;
	}
	size_t max = argc > 3 ? strtoul(argv[3], NULL, 10) : DEFAULT_PACKETS;
	unsigned repeat = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : DEFAULT_REPEAT;
	struct ruleset rs;
	struct diag d;
	diag_init(&d, argv[2]);
	ruleset_init(&rs);
	struct pme_program *prog = NULL;
	if (srl_load_ruleset(argv[2], &rs, &d) || !(prog = pme_load(&rs, &d))) {
		diag_print(&d, stderr);
		return 1;
	}
	struct pkt *pk = NULL;
	uint8_t *arena = NULL;
	size_t n = load_packets(argv[1], max, &pk, &arena);
	struct flow_table *t = flow_table_create(FLOWS);
	struct pme_memo *memo = pme_memo_create();     /* as the engine has */
	if (!n || !t || !memo) {
		fprintf(stderr, "bench_stages: no packets, no flow table or no memo\n");
		return 1;
	}
	double best = 0.0;
	uint64_t counted = 0, full = 0;
	for (unsigned run = 0; run < repeat; run++) {
		counted = full = 0;
		double t0 = cpu_now();
		for (size_t i = 0; i < n; i++) {
			struct pkt_info pi;
			struct decode_cursor cur;
			enum pkt_bad bad = decode_packet_cursor(&pk[i], &pi, &cur);
			if (bad != PKT_OK && bad != PKT_BAD_ETHERTYPE)
				continue;
			struct pme_match m;
			bool rev, counted_rev;
			if (pme_classify(prog, memo, &pi, &m, &rev) != PME_COUNT)
				continue;
			if (flow_count_packet(t, &m.key, pme_key_hash(&m), rev, pi.wirelen,
					      pi.ts_ns, &counted_rev))
				counted++;
			else
				full++;
		}
		double s = cpu_now() - t0;
		if (run == 0 || s < best)
			best = s;
	}
	printf("bench_stages: %s, %s: %zu packets in memory, %" PRIu64 " counted%s; best of %u: "
	       "%.3f s CPU, %.1f ns/packet, %.2f M packets/s (decode + PME + flow update)\n",
	       argv[1], argv[2], n, counted, full ? " (table full!)" : "", repeat, best,
	       best * 1e9 / (double)n, (double)n / best / 1e6);
	flow_table_free(t);
	pme_memo_free(memo);
	pme_free(prog);
	ruleset_free(&rs);
	diag_free(&d);
	free(pk);
	free(arena);
	return full ? 1 : 0;
}
