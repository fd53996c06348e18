/*
 * ntm-meter — the meter: offline (trace files in, flow data out) or live
 * (interfaces, or traces replayed on a clock, served by the SNMP agent).
 * See doc/ntm-meter.1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "live.h"
#include "offline.h"
#include "version.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: ntm-meter --read TRACE... -r RULES [-r RULES...] -o OUT.dif [options]\n"
"       ntm-meter [-r RULES...] --replay TRACE... [--speed N|max] [options]\n"
"       ntm-meter [-r RULES...] -i IFACE... [--driver pcap|afpacket|dpdk] [options]\n"
"\n"
"Offline mode (--read): pcap, pcapng and ERF traces (recognised by content)\n"
"are metered with the rulesets (.srl compiled on the fly, or .rules); trace\n"
"time drives the collection intervals.\n"
"Live mode (--replay or -i): the meter runs until SIGINT/SIGTERM and serves\n"
"the Meter MIB over SNMP; without -r nothing is metered until a manager\n"
"starts a task (a replay waits for that at its first packet).  With -o or\n"
"--samples a live run also writes them itself, on the meter clock.\n"
"\n"
"Rulesets and the flow table (both modes):\n"
"  -r, --rules FILE    ruleset (.srl or .rules); repeat to run several at once\n"
"  --max-flows N       flow-table capacity (default %u)\n"
"  --max-dists N       RFC 2724 static distributions kept, one per flow and\n"
"                      attribute (default %u; ~2 KB each, only when asked)\n"
"  --max-pending N     DNS requests awaiting a response, per ruleset (default %u)\n"
"  --dns-timeout SEC   unanswered request counted lost after (default 5)\n"
"  --inactivity SEC    flow idle after (default %u)\n"
"  --flood-mark PCT    no new flows above this table fill (default %u; 0 = off)\n"
"  --standby FILE      standby ruleset for the first ruleset\n"
"  --high-water PCT    switch to the standby ruleset above (default 65)\n"
"  --interval SEC      collection interval (default %u; live: ntmMeterInterval)\n"
"  --workers N         threads metering in parallel, each with its own share\n"
"                      of the flows (default 1, at most %u); the results are\n"
"                      the same as with one\n"
"  --meter NAME        meter name (offline default file:TRACE; live: host name)\n"
"  --stats             print run statistics on stderr at the end\n"
"  -q, --quiet         no progress line / event messages\n"
"  -o, --output FILE   flow data file to write (.dif)\n"
"  --samples FILE      every RTT sample as CSV: time_ns,flow,rtt_us\n"
"\n"
"Offline:\n"
"  --read TRACE        trace file (repeatable; further file operands also count)\n"
"\n"
"Live:\n"
"  --replay TRACE      replay a trace on the meter clock (repeatable: in turn)\n"
"  --speed N|max       trace time runs N times wall time (default 1; max = as\n"
"                      fast as possible)\n"
"  -i, --interface IF  capture on IF (repeatable: ifIndex 1, 2, ...)\n"
"  --driver NAME       capture driver: pcap (default), afpacket, dpdk, dag\n"
"  --dpdk \"EAL ARGS\"   DPDK EAL arguments (--driver dpdk; default $NTM_DPDK_ARGS)\n"
"  --filter BPF        capture filter (pcap syntax)\n"
"  --snaplen N         bytes kept per packet (default %u)\n"
"  --buffer BYTES      kernel capture buffer (k, m, g suffixes)\n"
"  --duration SEC      stop after SEC seconds (wall time)\n"
"  --idle-exit SEC     stop after SEC seconds (wall time) without a packet\n"
"  --user NAME         run as NAME once captures and SNMP sockets are open\n"
"  --snmp ADDR:PORT    agent address(es), comma-separated: 127.0.0.1:1161,\n"
"                      [::1]:1161 or net-snmp transports (udp:..., tcp:...)\n"
"                      (default %s)\n"
"  --community C       SNMPv2c read community (default %s; \"\" = none)\n"
"  --write-community W SNMPv2c read-write community (default: none)\n"
"  --snmp-config FILE  SNMPv3 users and access (snmpd.conf syntax)\n"
"  --agentx SOCKET     run as an AgentX sub-agent of the master at SOCKET\n"
"\n"
"  -V, --version       print the version\n"
"  -h, --help          this text\n",
		ENGINE_DEFAULT_MAX_FLOWS, ENGINE_DEFAULT_STATIC_DISTS, ENGINE_DEFAULT_MAX_PENDING,
		ENGINE_DEFAULT_INACTIVITY_S, ENGINE_DEFAULT_FLOOD_MARK, OFFLINE_DEFAULT_INTERVAL,
		ENGINE_SHARDS_MAX, CAP_SNAPLEN_DEFAULT, AGENT_DEFAULT_LISTEN, AGENT_DEFAULT_COMMUNITY);
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

/* A byte count with an optional k, m or g suffix (powers of 1024). */
static uint64_t bytes(const char *opt, const char *s, uint64_t max)
{
	static const char suffixes[] = "kmg";
	char num[32];
	size_t len = strlen(s);
	const char *suf = len ? strchr(suffixes, s[len - 1] | 0x20) : NULL;
	if (!suf || len >= sizeof num)
		return number(opt, s, 1, max);
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	unsigned shift = 10u * (unsigned)(suf - suffixes + 1);
	return number(opt, num, 1, max >> shift) << shift;
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

/* Is `name` (len bytes) a net-snmp transport prefix? */
static bool snmp_transport(const char *name, size_t len)
{
	static const char *const known[] = {
		"udp", "udp6", "udpv6", "udpipv6", "tcp", "tcp6", "tcpv6", "tcpipv6",
		"unix", "dtlsudp", "tlstcp",
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strlen(known[i]) == len && strncasecmp(known[i], name, len) == 0)
			return true;
	return false;
}

static bool port_ok(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	return !errno && end != s && !*end && s[0] != '-' && v >= 1 && v <= 65535;
}

/* --snmp: each comma-separated address in net-snmp's transport syntax
 * ("127.0.0.1:1161" -> "udp:127.0.0.1:1161", "[::1]:1161" ->
 * "udp6:[::1]:1161"; "udp:...", "tcp:..." are kept).  Exit 1 when one is
 * neither. */
static char *snmp_listen(const char *arg)
{
	size_t cap = strlen(arg) * 2 + 16;
	char *out = calloc(1, cap);
	char *copy = strdup(arg);
	if (!out || !copy) {
		fprintf(stderr, "ntm-meter: out of memory\n");
		exit(2);
	}
	char *save = NULL;
	for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		const char *colon = strchr(a, ':');
		const char *close = a[0] == '[' ? strchr(a, ']') : NULL;
		const char *prefix;
		if (colon && colon != a && snmp_transport(a, (size_t)(colon - a)))
			prefix = "";
		else if (close && close[1] == ':' && port_ok(close + 2))
			prefix = "udp6:";
		else if (!close && colon && colon != a && !strchr(colon + 1, ':') && port_ok(colon + 1))
			prefix = "udp:";
		else {
			fprintf(stderr, "ntm-meter: --snmp: '%s' is not ADDR:PORT, [IPV6]:PORT "
				"or a net-snmp transport (udp:ADDR:PORT, tcp:ADDR:PORT, ...)\n", a);
			exit(1);
		}
		size_t used = strlen(out);
		snprintf(out + used, cap - used, "%s%s%s", used ? "," : "", prefix, a);
	}
	free(copy);
	if (!*out) {
		fprintf(stderr, "ntm-meter: --snmp: no address given\n");
		exit(1);
	}
	return out;
}

static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "ntm-meter: %s%s\n",
			d->msgs[i].level == DIAG_ERROR ? "" : "warning: ", d->msgs[i].text);
}

/* What both modes take from the command line. */
struct common {
	const char **rules;
	size_t n_rules;
	const char *standby;
	unsigned high_water;
	unsigned interval_s;
	const char *meter;
	bool stats, quiet;
	unsigned workers;
	struct engine_config cfg;
};

static int run_offline(const struct common *c, const char **traces, size_t n_traces,
		       const char *out, const char *samples, char *cmd)
{
	struct offline_options o;
	offline_options_default(&o);
	o.traces = traces;
	o.n_traces = n_traces;
	o.rules = c->rules;
	o.n_rules = c->n_rules;
	o.standby = c->standby;
	o.high_water = c->high_water;
	o.out = out;
	o.samples = samples;
	o.interval_s = c->interval_s;
	o.meter = c->meter;
	o.command_line = cmd;
	o.progress = !c->quiet && isatty(STDERR_FILENO);
	o.stats_out = c->stats ? stderr : NULL;
	o.cfg = c->cfg;
	o.workers = c->workers;
	if (o.n_rules == 0) {
		usage(stderr);
		return 1;
	}
	if (!o.out && !o.samples) {
		fprintf(stderr, "ntm-meter: nothing to write: give -o OUT.dif and/or --samples FILE\n");
		return 1;
	}
	struct diag d;
	diag_init(&d, "ntm-meter");
	int rc = offline_run(&o, &d);
	print_diag(&d);
	diag_free(&d);
	return rc;
}

static int run_live(const struct common *c, struct live_options *o)
{
	o->rules = c->rules;
	o->n_rules = c->n_rules;
	o->standby = c->standby;
	o->high_water = c->high_water;
	o->agent.interval_s = c->interval_s;
	o->interval_s = c->interval_s;
	o->agent.meter_name = c->meter;
	o->stats_out = c->stats ? stderr : NULL;
	o->log = c->quiet ? NULL : stderr;
	o->cfg = c->cfg;
	o->workers = c->workers;
	if (!o->n_replay && !o->n_ifaces) {
		usage(stderr);
		return 1;
	}
	struct diag d;
	diag_init(&d, "ntm-meter");
	int rc = live_run(o, &d);
	print_diag(&d);
	diag_free(&d);
	return rc;
}

enum {
	OPT_READ = 256, OPT_INTERVAL, OPT_SAMPLES, OPT_MAX_FLOWS, OPT_MAX_PENDING,
	OPT_DNS_TIMEOUT, OPT_INACTIVITY, OPT_FLOOD_MARK, OPT_STANDBY,
	OPT_HIGH_WATER, OPT_METER, OPT_STATS, OPT_MAX_DISTS,
	OPT_REPLAY, OPT_SPEED, OPT_DRIVER, OPT_FILTER, OPT_SNAPLEN, OPT_BUFFER,
	OPT_DURATION, OPT_IDLE_EXIT, OPT_SNMP, OPT_COMMUNITY, OPT_WRITE_COMMUNITY,
	OPT_SNMP_CONFIG, OPT_AGENTX, OPT_DPDK, OPT_USER, OPT_WORKERS
};

#define MAX_RUN_S (86400u * 366u)   /* --duration / --idle-exit bound */

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
		{ "replay",      required_argument, NULL, OPT_REPLAY },
		{ "speed",       required_argument, NULL, OPT_SPEED },
		{ "driver",      required_argument, NULL, OPT_DRIVER },
		{ "filter",      required_argument, NULL, OPT_FILTER },
		{ "snaplen",     required_argument, NULL, OPT_SNAPLEN },
		{ "buffer",      required_argument, NULL, OPT_BUFFER },
		{ "duration",    required_argument, NULL, OPT_DURATION },
		{ "idle-exit",   required_argument, NULL, OPT_IDLE_EXIT },
		{ "snmp",        required_argument, NULL, OPT_SNMP },
		{ "community",   required_argument, NULL, OPT_COMMUNITY },
		{ "write-community", required_argument, NULL, OPT_WRITE_COMMUNITY },
		{ "snmp-config", required_argument, NULL, OPT_SNMP_CONFIG },
		{ "agentx",      required_argument, NULL, OPT_AGENTX },
		{ "dpdk",        required_argument, NULL, OPT_DPDK },
		{ "user",        required_argument, NULL, OPT_USER },
		{ "workers",     required_argument, NULL, OPT_WORKERS },
		{ NULL, 0, NULL, 0 }
	};
	struct common c = {
		.high_water = 65,   /* RFC 2123's recommendation */
		.interval_s = OFFLINE_DEFAULT_INTERVAL,
		.workers = 1,
	};
	engine_config_default(&c.cfg);
	struct live_options lo;
	live_options_default(&lo);
	const char **traces = calloc((size_t)argc, sizeof *traces);
	const char **rules = calloc((size_t)argc, sizeof *rules);
	const char **replay = calloc((size_t)argc, sizeof *replay);
	const char **ifaces = calloc((size_t)argc, sizeof *ifaces);
	if (!traces || !rules || !replay || !ifaces) {
		fprintf(stderr, "ntm-meter: out of memory\n");
		return 2;
	}
	c.rules = rules;
	lo.replay = replay;
	lo.ifaces = ifaces;
	size_t n_traces = 0;
	const char *out = NULL, *samples = NULL;
	const char *offline_opt = NULL, *live_opt = NULL;   /* for mode errors */
	char *listen = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "r:o:qVhi:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_READ:      traces[n_traces++] = optarg; offline_opt = "--read"; break;
		case 'r':           rules[c.n_rules++] = optarg; break;
		case 'o':           out = optarg; break;            /* both modes */
		case OPT_INTERVAL:  c.interval_s = (unsigned)number("--interval", optarg, 1, 86400); break;
		case OPT_SAMPLES:   samples = optarg; break;
		case OPT_MAX_FLOWS: c.cfg.max_flows = number("--max-flows", optarg, 1, 1u << 30); break;
		case OPT_MAX_DISTS: c.cfg.static_dists = number("--max-dists", optarg, 0, 1u << 24); break;
		case OPT_MAX_PENDING: c.cfg.max_pending = number("--max-pending", optarg, 1, 1u << 30); break;
		case OPT_DNS_TIMEOUT:
			c.cfg.dns_timeout_ns = number("--dns-timeout", optarg, 1, 3600) * 1000000000ull;
			break;
		case OPT_INACTIVITY:
			c.cfg.inactivity_ns = number("--inactivity", optarg, 1, 86400 * 7) * 1000000000ull;
			break;
		case OPT_FLOOD_MARK: c.cfg.flood_mark = (unsigned)number("--flood-mark", optarg, 0, 100); break;
		case OPT_STANDBY:   c.standby = optarg; break;
		case OPT_HIGH_WATER: c.high_water = (unsigned)number("--high-water", optarg, 0, 100); break;
		case OPT_METER:     c.meter = optarg; break;
		case OPT_WORKERS:   c.workers = (unsigned)number("--workers", optarg, 1, ENGINE_SHARDS_MAX); break;
		case OPT_STATS:     c.stats = true; break;
		case 'q':           c.quiet = true; break;
		case 'V':           printf("ntm-meter %s\n", NTM_VERSION); return 0;
		case 'h':           usage(stdout); return 0;
		case OPT_REPLAY:    replay[lo.n_replay++] = optarg; live_opt = "--replay"; break;
		case 'i':           ifaces[lo.n_ifaces++] = optarg; live_opt = "-i"; break;
		case OPT_SPEED:
			lo.speed = strcmp(optarg, "max") == 0 ? LIVE_SPEED_MAX
				: (unsigned)number("--speed", optarg, 1, LIVE_SPEED_LIMIT);
			live_opt = "--speed";
			break;
		case OPT_DRIVER:    lo.driver = optarg; live_opt = "--driver"; break;
		case OPT_FILTER:    lo.cap.filter = optarg; live_opt = "--filter"; break;
		case OPT_DPDK:      lo.cap.dpdk_args = optarg; live_opt = "--dpdk"; break;
		case OPT_USER:      lo.user = optarg; live_opt = "--user"; break;
		case OPT_SNAPLEN:
			lo.cap.snaplen = (uint32_t)number("--snaplen", optarg, 1, CAP_SNAPLEN_DEFAULT);
			live_opt = "--snaplen";
			break;
		case OPT_BUFFER:
			lo.cap.buffer_size = (uint32_t)bytes("--buffer", optarg, UINT32_MAX);
			live_opt = "--buffer";
			break;
		case OPT_DURATION:
			lo.duration_s = (unsigned)number("--duration", optarg, 1, MAX_RUN_S);
			live_opt = "--duration";
			break;
		case OPT_IDLE_EXIT:
			lo.idle_exit_s = (unsigned)number("--idle-exit", optarg, 1, MAX_RUN_S);
			live_opt = "--idle-exit";
			break;
		case OPT_SNMP:
			free(listen);
			lo.agent.listen = listen = snmp_listen(optarg);
			live_opt = "--snmp";
			break;
		case OPT_COMMUNITY: lo.agent.read_community = optarg; live_opt = "--community"; break;
		case OPT_WRITE_COMMUNITY:
			lo.agent.write_community = optarg;
			live_opt = "--write-community";
			break;
		case OPT_SNMP_CONFIG: lo.agent.config = optarg; live_opt = "--snmp-config"; break;
		case OPT_AGENTX:    lo.agent.agentx = optarg; live_opt = "--agentx"; break;
		default:            usage(stderr); return 1;
		}
	}
	int rc;
	if (offline_opt && live_opt) {
		fprintf(stderr, "ntm-meter: %s (offline mode) and %s (live meter) cannot be "
			"combined\n", offline_opt, live_opt);
		rc = 1;
	} else if (offline_opt) {
		for (int i = optind; i < argc; i++)
			traces[n_traces++] = argv[i];
		char *cmd = join_args(argc, argv);
		rc = n_traces ? run_offline(&c, traces, n_traces, out, samples, cmd)
			      : (usage(stderr), 1);
		free(cmd);
	} else if (optind < argc) {
		fprintf(stderr, "ntm-meter: unexpected operand '%s' (traces follow --read or --replay)\n",
			argv[optind]);
		rc = 1;
	} else {
		lo.out = out;
		lo.samples = samples;
		char *cmd = join_args(argc, argv);
		lo.command_line = cmd;
		rc = run_live(&c, &lo);
		free(cmd);
	}
	free(listen);
	free(traces);
	free(rules);
	free(replay);
	free(ifaces);
	return rc;
}
