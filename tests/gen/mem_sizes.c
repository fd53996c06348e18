/*
 * mem_sizes — what the meter's fixed-capacity tables cost, for `make bench`
 * (doc/performance.md) and tests/integration/bounded.sh (the RSS bound).
 *
 *   mem_sizes [--max-flows N] [--max-pending N] [--dist-slots N]
 *
 * Creates the tables the engine creates (flow table, distribution pool,
 * one DNS pending table) and prints "name value" lines: the record size,
 * the bytes each table really allocated (glibc's mallinfo2 before and
 * after, so key slots, free stack and index share are all counted without
 * this program knowing flow.c's layout), and per-flow / per-entry shares
 * rounded up.  Allocation, not residency: a bound, never an estimate that
 * could come out low.
 */
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "dist.h"
#include "dnspair.h"
#include "engine.h"
#include "flow.h"

/* Bytes the process has allocated from malloc (heap + mmapped chunks). */
static size_t allocated(void)
{
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}

static size_t per_item(size_t bytes, size_t n)
{
	return (bytes + n - 1) / n;
}

static size_t count_arg(const char *s, const char *name)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v == 0 || v > FLOW_MAX_CAPACITY) {
		fprintf(stderr, "mem_sizes: %s: '%s' is not a count in 1..%u\n",
			name, s, FLOW_MAX_CAPACITY);
		exit(2);
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	size_t max_flows = ENGINE_DEFAULT_MAX_FLOWS;
	size_t max_pending = ENGINE_DEFAULT_MAX_PENDING;
	size_t dist_slots = ENGINE_DEFAULT_DIST_SLOTS;
	static const struct option lo[] = {
		{ "max-flows",   required_argument, NULL, 'f' },
		{ "max-pending", required_argument, NULL, 'p' },
		{ "dist-slots",  required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'f': max_flows = count_arg(optarg, "--max-flows"); break;
		case 'p': max_pending = count_arg(optarg, "--max-pending"); break;
		case 'd': dist_slots = count_arg(optarg, "--dist-slots"); break;
		default:
			fprintf(stderr, "usage: mem_sizes [--max-flows N] "
				"[--max-pending N] [--dist-slots N]\n");
			return 2;
		}
	}
	/* the engine never gives more distributions than flows */
	if (dist_slots > max_flows)
		dist_slots = max_flows;

	size_t a0 = allocated();
	struct flow_table *t = flow_table_create(max_flows);
	size_t a1 = allocated();
	if (!t || flow_table_enable_dists(t, dist_slots) != 0) {
		fprintf(stderr, "mem_sizes: cannot create the tables\n");
		return 1;
	}
	size_t a2 = allocated();
	struct dnspair *p = dnspair_create(t, max_pending, DNSPAIR_DEFAULT_TIMEOUT_NS);
	size_t a3 = allocated();
	if (!p) {
		fprintf(stderr, "mem_sizes: cannot create the pending table\n");
		return 1;
	}

	printf("max_flows %zu\n", max_flows);
	printf("max_pending %zu\n", max_pending);
	printf("dist_slots %zu\n", dist_slots);
	printf("flow_record_bytes %zu\n", sizeof(struct flow));
	printf("flow_table_bytes %zu\n", a1 - a0);
	printf("flow_bytes_per_flow %zu\n", per_item(a1 - a0, max_flows));
	printf("dist_bytes %zu\n", sizeof(struct dist));
	printf("dist_pool_bytes %zu\n", a2 - a1);
	printf("pending_entry_bytes %zu\n", dnspair_entry_bytes());
	printf("pending_table_bytes %zu\n", a3 - a2);
	printf("pending_bytes_per_entry %zu\n", per_item(a3 - a2, max_pending));

	dnspair_free(p);
	flow_table_free(t);
	return 0;
}
