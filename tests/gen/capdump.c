/*
 * capdump — print every packet cap_open_file() reads from a trace, one line
 * each: "ts_ns caplen wirelen ifindex link fnv1a64(bytes)", so that two
 * readings of the same packets (pcap vs ERF, ntm vs tshark) can be diffed.
 *   capdump [-s] [-b BATCH] FILE
 *   -s  finish with "# packets P bytes B drops D bad X pos P size S"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull
#define BATCH_MAX 4096u

static uint64_t fnv1a64(const uint8_t *p, uint32_t n)
{
	uint64_t h = FNV64_OFFSET;

	for (uint32_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

int main(int argc, char **argv)
{
	static struct pkt pkts[BATCH_MAX];
	unsigned batch = 256;
	bool stats = false;
	char err[256];
	struct cap *c;
	int opt, n, rc = 0;

	while ((opt = getopt(argc, argv, "sb:")) != -1) {
		switch (opt) {
		case 's': stats = true; break;
		case 'b':
			batch = (unsigned)strtoul(optarg, NULL, 10);
			if (batch == 0 || batch > BATCH_MAX)
				batch = BATCH_MAX;
			break;
		default:
			fprintf(stderr, "usage: capdump [-s] [-b BATCH] FILE\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: capdump [-s] [-b BATCH] FILE\n");
		return 2;
	}
	c = cap_open_file(argv[optind], err, sizeof err);
	if (c == NULL) {
		fprintf(stderr, "capdump: %s\n", err);
		return 1;
	}
	while ((n = cap_next_batch(c, pkts, batch)) > 0) {
		for (int i = 0; i < n; i++) {
			const struct pkt *p = &pkts[i];

			printf("%" PRIu64 " %u %u %u %u %016" PRIx64 "\n", p->ts_ns,
			       p->caplen, p->wirelen, p->ifindex, p->link,
			       fnv1a64(p->data, p->caplen));
		}
	}
	if (n < 0) {
		fprintf(stderr, "capdump: %s\n", cap_error(c));
		rc = 1;
	}
	if (stats) {
		struct cap_stats st;

		cap_stats(c, &st);
		printf("# packets %" PRIu64 " bytes %" PRIu64 " drops %" PRIu64
		       " bad %" PRIu64 " pos %" PRIu64 " size %" PRIu64 "\n",
		       st.packets, st.bytes, st.drops, st.bad, st.pos, st.size);
	}
	cap_close(c);
	return rc;
}
