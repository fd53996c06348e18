/*
 * capdump — print every packet a capture source hands on, one line each:
 * "ts_ns caplen wirelen ifindex link fnv1a64(bytes)", so that two readings
 * of the same packets (pcap vs ERF, ntm vs tshark, a file vs the same file
 * replayed onto an interface) can be diffed.
 *   capdump [-s] [-b BATCH] FILE
 *   capdump [-s] [-q] [-b BATCH] -i IFACE [-d DRIVER] [-w WORKERS]
 *           [-n COUNT] [--idle-exit SEC] [-f FILTER] [-B BUFFER]
 *           [-S SNAPLEN] [-p]
 *   -s  finish with "# packets P bytes B drops D bad X pos P size S"
 *       (live: one such line per source, followed by " queue Q")
 * Live capture opens WORKERS sources on IFACE (queue 0..WORKERS-1, one
 * thread each; AF_PACKET joins them in one fanout group) and adds a 7th
 * column to each line: the source that received the packet.  With more
 * than one worker the lines are printed per source, in source order, when
 * the capture ends.  "# listening on IFACE" goes to stderr once every
 * source is open, so a script knows when to start sending.  The capture
 * ends after COUNT packets in total, after SEC seconds with no packet on
 * any source, or on SIGINT/SIGTERM.  -q prints no packet lines (benchmarks),
 * -p asks for promiscuous mode.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cap.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull
#define BATCH_MAX 4096u
#define WORKERS_MAX 64u
#define LIVE_TIMEOUT_MS 100u
#define NS_PER_SEC 1000000000ull

static const char usage[] =
	"usage: capdump [-s] [-b BATCH] FILE\n"
	"       capdump [-s] [-q] [-b BATCH] -i IFACE [-d DRIVER] [-w WORKERS]\n"
	"               [-n COUNT] [--idle-exit SEC] [-f FILTER] [-B BUFFER]\n"
	"               [-S SNAPLEN] [-p]\n";

static uint64_t fnv1a64(const uint8_t *p, uint32_t n)
{
	uint64_t h = FNV64_OFFSET;

	for (uint32_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

static void print_pkt(FILE *out, const struct pkt *p)
{
	fprintf(out, "%" PRIu64 " %u %u %u %u %016" PRIx64, p->ts_ns,
	        p->caplen, p->wirelen, p->ifindex, p->link,
	        fnv1a64(p->data, p->caplen));
}

static void print_stats(struct cap *c)
{
	struct cap_stats st;

	cap_stats(c, &st);
	printf("# packets %" PRIu64 " bytes %" PRIu64 " drops %" PRIu64
	       " bad %" PRIu64 " pos %" PRIu64 " size %" PRIu64,
	       st.packets, st.bytes, st.drops, st.bad, st.pos, st.size);
}

static int dump_file(const char *path, unsigned batch, bool stats)
{
	static struct pkt pkts[BATCH_MAX];
	char err[256];
	struct cap *c;
	int n, rc = 0;

	c = cap_open_file(path, err, sizeof err);
	if (c == NULL) {
		fprintf(stderr, "capdump: %s\n", err);
		return 1;
	}
	while ((n = cap_next_batch(c, pkts, batch)) > 0) {
		for (int i = 0; i < n; i++) {
			print_pkt(stdout, &pkts[i]);
			putchar('\n');
		}
	}
	if (n < 0) {
		fprintf(stderr, "capdump: %s\n", cap_error(c));
		rc = 1;
	}
	if (stats) {
		print_stats(c);
		putchar('\n');
	}
	cap_close(c);
	return rc;
}

/* ---- live capture ---- */

static volatile sig_atomic_t stop_signal;

struct live_run {
	unsigned batch;
	bool quiet;
	uint64_t count;            /* 0: no limit */
	uint64_t idle_ns;          /* 0: no limit */
	uint64_t total;            /* packets so far, all sources (atomic) */
	uint64_t last_ns;          /* monotonic time of the last packet (atomic) */
	int failed;                /* a source failed: everyone stops (atomic) */
};

struct worker {
	struct live_run *run;
	struct cap *c;
	unsigned queue;
	FILE *out;                 /* stdout, or a memory stream */
	char *buf;
	size_t len;
	pthread_t thread;
	int rc;
};

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static bool run_over(struct live_run *r)
{
	return stop_signal || __atomic_load_n(&r->failed, __ATOMIC_RELAXED) ||
	       (r->count && __atomic_load_n(&r->total, __ATOMIC_RELAXED) >= r->count);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct live_run *r = w->run;
	struct pkt *pkts = calloc(BATCH_MAX, sizeof *pkts);

	if (pkts == NULL) {
		fprintf(stderr, "capdump: out of memory\n");
		w->rc = 1;
		__atomic_store_n(&r->failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	while (!run_over(r)) {
		unsigned want = r->batch;
		uint64_t now;
		int n;

		if (r->count) {
			uint64_t left = r->count - __atomic_load_n(&r->total,
			                                          __ATOMIC_RELAXED);
			if (left < want)
				want = (unsigned)left;
		}
		n = cap_next_batch(w->c, pkts, want);
		if (n < 0) {
			fprintf(stderr, "capdump: %s\n", cap_error(w->c));
			w->rc = 1;
			__atomic_store_n(&r->failed, 1, __ATOMIC_RELAXED);
			break;
		}
		now = mono_ns();
		if (n > 0) {
			__atomic_store_n(&r->last_ns, now, __ATOMIC_RELAXED);
			__atomic_add_fetch(&r->total, (uint64_t)n, __ATOMIC_RELAXED);
		} else if (r->idle_ns &&
		           now - __atomic_load_n(&r->last_ns, __ATOMIC_RELAXED) >=
		           r->idle_ns) {
			break;
		}
		for (int i = 0; i < n && !r->quiet; i++) {
			print_pkt(w->out, &pkts[i]);
			fprintf(w->out, " %u\n", w->queue);
		}
	}
	free(pkts);
	return NULL;
}

struct live_args {
	const char *ifname, *driver, *filter;
	unsigned workers;
	struct cap_options o;
};

static int dump_live(const struct live_args *la, struct live_run *run,
                     bool stats)
{
	struct worker ws[WORKERS_MAX];
	struct sigaction sa;
	char err[256];
	unsigned i, opened = 0;
	int rc = 0;

	memset(ws, 0, sizeof ws);
	for (i = 0; i < la->workers; i++) {
		struct cap_options o = la->o;

		o.queue = (uint16_t)i;
		o.n_queues = (uint16_t)la->workers;
		ws[i].c = cap_open_live(la->driver, la->ifname, &o, err, sizeof err);
		if (ws[i].c == NULL) {
			fprintf(stderr, "capdump: %s\n", err);
			rc = 1;
			goto out;
		}
		opened++;
		ws[i].run = run;
		ws[i].queue = i;
		ws[i].out = la->workers == 1 ? stdout :
		            open_memstream(&ws[i].buf, &ws[i].len);
		if (ws[i].out == NULL) {
			fprintf(stderr, "capdump: out of memory\n");
			rc = 1;
			goto out;
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	run->last_ns = mono_ns();
	fprintf(stderr, "# listening on %s (%s, %u source%s)\n", la->ifname,
	        cap_format(ws[0].c), la->workers, la->workers == 1 ? "" : "s");
	for (i = 0; i < la->workers; i++) {
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "capdump: cannot start a thread\n");
			__atomic_store_n(&run->failed, 1, __ATOMIC_RELAXED);
			rc = 1;
			break;
		}
	}
	for (unsigned j = 0; j < i; j++) {
		pthread_join(ws[j].thread, NULL);
		rc |= ws[j].rc;
	}
	for (unsigned j = 0; j < la->workers; j++) {
		if (ws[j].out != stdout) {
			fclose(ws[j].out);
			ws[j].out = NULL;
			fwrite(ws[j].buf, 1, ws[j].len, stdout);
		}
	}
	for (unsigned j = 0; stats && j < la->workers; j++) {
		print_stats(ws[j].c);
		printf(" queue %u\n", j);
	}
out:
	for (i = 0; i < opened; i++) {
		if (ws[i].out != NULL && ws[i].out != stdout)
			fclose(ws[i].out);
		free(ws[i].buf);
		cap_close(ws[i].c);
	}
	return rc;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return false;
	x = strtoull(s, &end, 10);
	if (*end != '\0' || x > max)
		return false;
	*v = x;
	return true;
}

enum { OPT_IDLE_EXIT = 256 };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "idle-exit", required_argument, NULL, OPT_IDLE_EXIT },
		{ NULL, 0, NULL, 0 }
	};
	struct live_args la = { .driver = "pcap", .workers = 1 };
	struct live_run run = { .batch = 256 };
	bool stats = false;
	uint64_t v = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "sb:qi:d:w:n:f:B:S:p", longopts,
	                          NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 's': stats = true; break;
		case 'q': run.quiet = true; break;
		case 'p': la.o.promisc = true; break;
		case 'i': la.ifname = optarg; break;
		case 'd': la.driver = optarg; break;
		case 'f': la.o.filter = optarg; break;
		case 'b':
			run.batch = (unsigned)strtoul(optarg, NULL, 10);
			if (run.batch == 0 || run.batch > BATCH_MAX)
				run.batch = BATCH_MAX;
			break;
		case 'w':
			ok = parse_u64(optarg, WORKERS_MAX, &v) && v > 0;
			la.workers = (unsigned)v;
			break;
		case 'n': ok = parse_u64(optarg, UINT64_MAX, &run.count); break;
		case OPT_IDLE_EXIT:
			ok = parse_u64(optarg, UINT32_MAX, &v);
			run.idle_ns = v * NS_PER_SEC;
			break;
		case 'B':
			ok = parse_u64(optarg, UINT32_MAX, &v);
			la.o.buffer_size = (uint32_t)v;
			break;
		case 'S':
			ok = parse_u64(optarg, UINT32_MAX, &v);
			la.o.snaplen = (uint32_t)v;
			break;
		default:
			ok = false;
			break;
		}
		if (!ok) {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (la.ifname != NULL) {
		if (optind != argc) {
			fputs(usage, stderr);
			return 2;
		}
		la.o.timeout_ms = LIVE_TIMEOUT_MS;
		return dump_live(&la, &run, stats);
	}
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return 2;
	}
	return dump_file(argv[optind], run.batch, stats);
}
