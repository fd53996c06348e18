/*
 * ntm-meter — the meter.  This build runs offline: trace files in, flow
 * data (.dif) out.  See doc/ntm-meter.1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "offline.h"
#include "version.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: ntm-meter --read TRACE... -r RULES [-r RULES...] -o OUT.dif [options]\n"
"\n"
"Offline mode: pcap, pcapng and ERF traces (recognised by content) are metered\n"
"with the rulesets (.srl compiled on the fly, or .rules); trace time drives\n"
"the collection intervals.\n"
"\n"
"  --read TRACE        trace file (repeatable; further file operands also count)\n"
"  -r, --rules FILE    ruleset (.srl or .rules); repeat to run several at once\n"
"  -o, --output FILE   flow data file to write (.dif)\n"
"  --interval SEC      collection interval (default %u)\n"
"  --samples FILE      every RTT sample as CSV: time_ns,flow,rtt_us\n"
"  --max-flows N       flow-table capacity (default %u)\n"
"  --max-dists N       RFC 2724 static distributions kept, one per flow and\n"
"                      attribute (default %u; ~2 KB each, only when asked)\n"
"  --max-pending N     DNS requests awaiting a response, per ruleset (default %u)\n"
"  --dns-timeout SEC   unanswered request counted lost after (default 5)\n"
"  --inactivity SEC    flow idle after (default %u)\n"
"  --flood-mark PCT    no new flows above this table fill (default %u; 0 = off)\n"
"  --standby FILE      standby ruleset for the first ruleset\n"
"  --high-water PCT    switch to the standby ruleset above (default 65)\n"
"  --meter NAME        meter name written in the file (default file:TRACE)\n"
"  --stats             print run statistics on stderr\n"
"  -q, --quiet         no progress line\n"
"  -V, --version       print the version\n"
"  -h, --help          this text\n",
		OFFLINE_DEFAULT_INTERVAL, ENGINE_DEFAULT_MAX_FLOWS,
		ENGINE_DEFAULT_STATIC_DISTS, ENGINE_DEFAULT_MAX_PENDING, ENGINE_DEFAULT_INACTIVITY_S,
		ENGINE_DEFAULT_FLOOD_MARK);
}

/* A whole decimal number in [min, max], or exit 1 naming the option. */
static uint64_t number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "ntm-meter: %s: '%s' is not a number in %" PRIu64 "..%" PRIu64 "\n",
			opt, s, min, max);
		exit(1);
	}
	return v;
}

/* The command line, for the ## header of the file. */
static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

enum {
	OPT_READ = 256, OPT_INTERVAL, OPT_SAMPLES, OPT_MAX_FLOWS, OPT_MAX_PENDING,
	OPT_DNS_TIMEOUT, OPT_INACTIVITY, OPT_FLOOD_MARK, OPT_STANDBY,
	OPT_HIGH_WATER, OPT_METER, OPT_STATS, OPT_MAX_DISTS
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "read",        required_argument, NULL, OPT_READ },
		{ "rules",       required_argument, NULL, 'r' },
		{ "output",      required_argument, NULL, 'o' },
		{ "interval",    required_argument, NULL, OPT_INTERVAL },
		{ "samples",     required_argument, NULL, OPT_SAMPLES },
		{ "max-flows",   required_argument, NULL, OPT_MAX_FLOWS },
		{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },
		{ "max-dists",   required_argument, NULL, OPT_MAX_DISTS },
		{ "dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },
		{ "inactivity",  required_argument, NULL, OPT_INACTIVITY },
		{ "flood-mark",  required_argument, NULL, OPT_FLOOD_MARK },
		{ "standby",     required_argument, NULL, OPT_STANDBY },
		{ "high-water",  required_argument, NULL, OPT_HIGH_WATER },
		{ "meter",       required_argument, NULL, OPT_METER },
		{ "stats",       no_argument,       NULL, OPT_STATS },
		{ "quiet",       no_argument,       NULL, 'q' },
		{ "version",     no_argument,       NULL, 'V' },
		{ "help",        no_argument,       NULL, 'h' },
		{ "interface",   required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	struct offline_options o;
	offline_options_default(&o);
	o.high_water = 65;   /* RFC 2123's recommendation */
	const char **traces = calloc((size_t)argc, sizeof *traces);
	const char **rules = calloc((size_t)argc, sizeof *rules);
	if (!traces || !rules) {
		fprintf(stderr, "ntm-meter: out of memory\n");
		return 2;
	}
	bool quiet = false, read_mode = false;
	int c;
	while ((c = getopt_long(argc, argv, "r:o:qVhi:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_READ:      traces[o.n_traces++] = optarg; read_mode = true; break;
		case 'r':           rules[o.n_rules++] = optarg; break;
		case 'o':           o.out = optarg; break;
		case OPT_INTERVAL:  o.interval_s = (unsigned)number("--interval", optarg, 1, 86400); break;
		case OPT_SAMPLES:   o.samples = optarg; break;
		case OPT_MAX_FLOWS: o.cfg.max_flows = number("--max-flows", optarg, 1, 1u << 30); break;
		case OPT_MAX_DISTS: o.cfg.static_dists = number("--max-dists", optarg, 0, 1u << 24); break;
		case OPT_MAX_PENDING: o.cfg.max_pending = number("--max-pending", optarg, 1, 1u << 30); break;
		case OPT_DNS_TIMEOUT:
			o.cfg.dns_timeout_ns = number("--dns-timeout", optarg, 1, 3600) * 1000000000ull;
			break;
		case OPT_INACTIVITY:
			o.cfg.inactivity_ns = number("--inactivity", optarg, 1, 86400 * 7) * 1000000000ull;
			break;
		case OPT_FLOOD_MARK: o.cfg.flood_mark = (unsigned)number("--flood-mark", optarg, 0, 100); break;
		case OPT_STANDBY:   o.standby = optarg; break;
		case OPT_HIGH_WATER: o.high_water = (unsigned)number("--high-water", optarg, 0, 100); break;
		case OPT_METER:     o.meter = optarg; break;
		case OPT_STATS:     o.stats_out = stderr; break;
		case 'q':           quiet = true; break;
		case 'V':           printf("ntm-meter %s\n", NTM_VERSION); return 0;
		case 'h':           usage(stdout); return 0;
		case 'i':
			fprintf(stderr, "ntm-meter: live capture (-i) is not in this build yet; "
				"use --read TRACE\n");
			return 1;
		default:            usage(stderr); return 1;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (!read_mode) {
			fprintf(stderr, "ntm-meter: unexpected operand '%s' (traces follow --read)\n", argv[i]);
			return 1;
		}
		traces[o.n_traces++] = argv[i];
	}
	if (!read_mode || o.n_rules == 0) {
		usage(stderr);
		return 1;
	}
	if (!o.out && !o.samples) {
		fprintf(stderr, "ntm-meter: nothing to write: give -o OUT.dif and/or --samples FILE\n");
		return 1;
	}
	o.traces = traces;
	o.rules = rules;
	o.progress = !quiet && isatty(STDERR_FILENO);
	char *cmd = join_args(argc, argv);
	o.command_line = cmd;

	struct diag d;
	diag_init(&d, "ntm-meter");
	int rc = offline_run(&o, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "ntm-meter: %s%s\n",
			d.msgs[i].level == DIAG_ERROR ? "" : "warning: ", d.msgs[i].text);
	diag_free(&d);
	free(cmd);
	free(traces);
	free(rules);
	return rc;
}
