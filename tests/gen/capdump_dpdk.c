/*
 * capdump_dpdk — print every packet the DPDK capture driver reads from a
 * port, one line each in capdump's format ("ts_ns caplen wirelen ifindex
 * link fnv1a64(bytes)"), so a trace replayed through net_pcap can be diffed
 * against `capdump TRACE`.
 *   capdump_dpdk [-s] [-q QUEUES] [-Q] [-T] [-t TIMEOUT_MS] [-n SNAPLEN] [-b BATCH]
 *                [-c COUNT] [-r RULES] -e "EAL ARGS" PORT
 *   -c  stop after COUNT packets (for endless sources such as net_null)
 *   -q  open QUEUES sources (queues 0..QUEUES-1) and read them in turn
 *   -Q  end each packet line with the queue that read it
 *   -T  read each queue in a thread of its own, as meter workers do (lines
 *       are printed queue by queue after the last thread ends)
 *   -s  finish with "# queue Q packets P bytes B drops D" per queue and
 *       "# packets P bytes B drops D"
 *   -r  run the packets through the meter's engine (decode + PME with
 *       RULES + flow table + DNS pairing) instead of printing them, and
 *       finish with "# engine packets P counted C flows F cpu_s S pps R":
 *       R = packets per CPU second of this thread from the first batch to
 *       the last (driver and engine together, EAL start-up excluded)
 * Stops when one round over every queue brings nothing within the timeout
 * (or after COUNT packets).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cap.h"
#include "diag.h"
#include "engine.h"
#include "flow.h"
#include "srl.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull
#define BATCH_MAX 4096u
#define QUEUES_MAX 16u

static const char usage[] =
	"usage: capdump_dpdk [-s] [-q QUEUES] [-Q] [-T] [-t TIMEOUT_MS] [-n SNAPLEN] "
	"[-b BATCH] [-c COUNT] [-r RULES] -e \"EAL ARGS\" PORT\n";

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The meter's engine with one task running the ruleset at path. */
static int engine_setup(struct engine *e, struct ruleset *rs, const char *path)
{
	struct engine_config cfg;
	struct diag d;
	int rc;

	diag_init(&d, path);
	ruleset_init(rs);
	rc = srl_load_ruleset(path, rs, &d);
	if (rc == 0 && !d.errors) {
		if (rs->set == 0)
			rs->set = 2;
		engine_config_default(&cfg);
		rc = engine_init(e, &cfg, &d);
		if (rc == 0 && engine_add_task(e, rs, NULL, 0, &d) != 0) {
			engine_free(e);
			rc = -1;
		}
	} else {
		rc = -1;
	}
	if (rc != 0)
		diag_print(&d, stderr);
	diag_free(&d);
	return rc;
}

static uint64_t fnv1a64(const uint8_t *p, uint32_t n)
{
	uint64_t h = FNV64_OFFSET;

	for (uint32_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

static void print_batch(FILE *out, const struct pkt *pkts, int n, unsigned q,
                        bool show_queue)
{
	for (int i = 0; i < n; i++) {
		const struct pkt *p = &pkts[i];

		fprintf(out, "%" PRIu64 " %u %u %u %u %016" PRIx64, p->ts_ns,
		        p->caplen, p->wirelen, p->ifindex, p->link,
		        fnv1a64(p->data, p->caplen));
		if (show_queue)
			fprintf(out, " %u", q);
		fputc('\n', out);
	}
}

/* -T: one thread per queue, reading until nothing arrives in the timeout,
 * its lines kept in memory. */
struct reader {
	pthread_t tid;
	struct cap *c;
	unsigned q, batch;
	bool show_queue;
	char *text;
	size_t len;
	int rc;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct pkt *pkts = calloc(r->batch, sizeof *pkts);
	FILE *out = open_memstream(&r->text, &r->len);
	int n;

	if (pkts == NULL || out == NULL) {
		fprintf(stderr, "capdump_dpdk: out of memory\n");
		r->rc = 1;
	} else {
		while ((n = cap_next_batch(r->c, pkts, r->batch)) > 0)
			print_batch(out, pkts, n, r->q, r->show_queue);
		if (n < 0) {
			fprintf(stderr, "capdump_dpdk: %s\n", cap_error(r->c));
			r->rc = 1;
		}
	}
	if (out != NULL)
		fclose(out);
	free(pkts);
	return NULL;
}

static int read_threaded(struct cap **caps, unsigned nq, unsigned batch,
                         bool show_queue)
{
	struct reader r[QUEUES_MAX];
	unsigned started = 0;
	int rc = 0;

	memset(r, 0, sizeof r);
	for (unsigned q = 0; q < nq; q++) {
		r[q] = (struct reader){ .c = caps[q], .q = q, .batch = batch,
		                        .show_queue = show_queue };
		if (pthread_create(&r[q].tid, NULL, reader_main, &r[q]) != 0) {
			fprintf(stderr, "capdump_dpdk: cannot start a thread\n");
			rc = 1;
			break;
		}
		started++;
	}
	for (unsigned q = 0; q < started; q++) {
		pthread_join(r[q].tid, NULL);
		if (r[q].text != NULL)
			fwrite(r[q].text, 1, r[q].len, stdout);
		free(r[q].text);
		rc |= r[q].rc;
	}
	return rc;
}

int main(int argc, char **argv)
{
	static struct pkt pkts[BATCH_MAX];
	struct cap *caps[QUEUES_MAX] = { 0 };
	struct cap_options o = { 0 };
	unsigned batch = 256, nq = 1;
	uint64_t count = 0, seen = 0;
	const char *rules = NULL;
	struct engine eng;
	struct ruleset rs;
	double cpu0 = 0, cpu1 = 0;
	bool stats = false, show_queue = false, threaded = false, idle;
	char err[256];
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "sq:QTt:n:b:c:r:e:")) != -1) {
		switch (opt) {
		case 's': stats = true; break;
		case 'Q': show_queue = true; break;
		case 'T': threaded = true; break;
		case 'q': nq = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': o.timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': o.snaplen = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'b':
			batch = (unsigned)strtoul(optarg, NULL, 10);
			if (batch == 0 || batch > BATCH_MAX)
				batch = BATCH_MAX;
			break;
		case 'c': count = strtoull(optarg, NULL, 10); break;
		case 'e': o.dpdk_args = optarg; break;
		case 'r': rules = optarg; break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || nq == 0 || nq > QUEUES_MAX ||
	    (threaded && (rules != NULL || count != 0))) {
		fputs(usage, stderr);
		return 2;
	}
	if (rules != NULL && engine_setup(&eng, &rs, rules) != 0)
		return 1;
	o.n_queues = (uint16_t)nq;
	for (unsigned q = 0; q < nq; q++) {
		o.queue = (uint16_t)q;
		caps[q] = cap_open_live("dpdk", argv[optind], &o, err, sizeof err);
		if (caps[q] == NULL) {
			fprintf(stderr, "capdump_dpdk: %s\n", err);
			rc = 1;
			goto out;
		}
	}
	if (threaded) {
		rc = read_threaded(caps, nq, batch, show_queue);
		goto done;
	}
	do {
		idle = true;
		for (unsigned q = 0; q < nq; q++) {
			int n = cap_next_batch(caps[q], pkts, batch);

			if (n < 0) {
				fprintf(stderr, "capdump_dpdk: %s\n",
				        cap_error(caps[q]));
				rc = 1;
				goto out;
			}
			if (n > 0) {
				if (seen == 0)
					cpu0 = thread_cpu_s();
				idle = false;
			}
			if (count != 0 && (uint64_t)n > count - seen)
				n = (int)(count - seen);
			seen += (uint64_t)n;
			if (rules != NULL) {
				for (int i = 0; i < n; i++)
					engine_packet(&eng, &pkts[i]);
				if (n > 0)
					cpu1 = thread_cpu_s();
				continue;
			}
			print_batch(stdout, pkts, n, q, show_queue);
			if (count != 0 && seen >= count)
				break;
		}
	} while (!idle && !(count != 0 && seen >= count));
done:
	if (stats) {
		struct cap_stats sum = { 0 };

		for (unsigned q = 0; q < nq; q++) {
			struct cap_stats st;

			cap_stats(caps[q], &st);
			printf("# queue %u packets %" PRIu64 " bytes %" PRIu64
			       " drops %" PRIu64 "\n", q, st.packets, st.bytes,
			       st.drops);
			sum.packets += st.packets;
			sum.bytes += st.bytes;
			sum.drops += st.drops;
		}
		printf("# packets %" PRIu64 " bytes %" PRIu64 " drops %" PRIu64
		       "\n", sum.packets, sum.bytes, sum.drops);
	}
	if (rules != NULL) {
		struct flow_stats fst;
		double cpu = cpu1 - cpu0;

		flow_table_stats(eng.flows, &fst);
		printf("# engine packets %" PRIu64 " counted %" PRIu64
		       " flows %" PRIu64 " cpu_s %.3f pps %.0f\n", eng.st.packets,
		       eng.st.counted, fst.created, cpu,
		       cpu > 0 ? (double)eng.st.packets / cpu : 0.0);
	}
out:
	for (unsigned q = 0; q < nq; q++)
		if (caps[q] != NULL)
			cap_close(caps[q]);
	if (rules != NULL) {
		engine_free(&eng);
		ruleset_free(&rs);
	}
	return rc;
}
