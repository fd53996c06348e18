/*
 * ntm-reader — the NeMaC role: download rulesets to meters, register as
 * their reader, collect every interval, write daily .dif files.
 *
 *   ntm-reader -c CONFIG [--once]
 *   ntm-reader [-i SECONDS] -r RULES METER[:PORT] -o DIR [--once]
 *              [--community C] [--write-community W] [--owner NAME]
 *              [--standby RULES] [--high-water N] [--log FILE]
 *
 * doc/ntm-reader.1 is the manual.  Exit status: 0 (also after SIGINT or
 * SIGTERM, once the collections in flight are written), 1 when a meter
 * could not be set up or (--once) collected, 2 for usage and configuration
 * errors.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "dif.h"
#include "rdconf.h"
#include "rdmeter.h"
#include "rdsnmp.h"
#include "version.h"

#define PROG "ntm-reader"
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define CMDLINE_MAX 1024
#define ERR_MAX 4096

struct run {
	struct event_base *base;
	struct rdconf conf;
	FILE *log;
	struct rdmeter **meters;
	size_t n_meters, n_done;
	bool stopping;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s -c CONFIG [--once]\n"
		"       %s [-i SECONDS] -r RULES METER[:PORT] -o DIR [--once]\n"
		"                  [--community C] [--write-community W] [--owner NAME]\n"
		"                  [--standby RULES] [--high-water N] [--log FILE]\n"
		"Downloads RULES (.srl or .rules) to the meter, registers as its reader and\n"
		"writes every interval (default 300 s of meter time) to DIR/<meter>/<date>.dif.\n",
		PROG, PROG);
}

static void log_line(void *arg, const char *name, const char *msg)
{
	struct run *run = arg;
	char iso[DIF_ISO_LEN];
	dif_iso8601((int64_t)time(NULL), iso);
	fprintf(run->log, "%s %s: %s%s%s\n", iso, PROG, name ? name : "", name ? ": " : "", msg);
	fflush(run->log);
}

static void on_done(void *arg, struct rdmeter *r)
{
	(void)r;
	struct run *run = arg;
	if (++run->n_done == run->n_meters)
		event_base_loopbreak(run->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct run *run = arg;
	if (run->stopping) {
		log_line(run, NULL, "second signal: exiting now");
		exit(0);
	}
	run->stopping = true;
	char msg[96];
	snprintf(msg, sizeof msg, "%s: finishing the collections in flight, then exiting",
		 strsignal((int)sig));
	log_line(run, NULL, msg);
	for (size_t i = 0; i < run->n_meters; i++)
		rdmeter_stop(run->meters[i]);
}

/* "FILE:LINE: error: message" (GCC style without a column). */
static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_msg *m = &d->msgs[i];
		const char *lv = m->level == DIAG_ERROR ? "error" : "warning";
		if (m->line)
			fprintf(stderr, "%s:%u: %s: %s\n", d->file, m->line, lv, m->text);
		else
			fprintf(stderr, "%s: %s: %s\n", d->file, lv, m->text);
	}
}

/* One command-line value through the config parser, so it is checked
 * exactly as the same key in a file.  0, or -1 (message printed). */
static int cli_key(struct rdconf *conf, const char *key, const char *value)
{
	char name[64];
	snprintf(name, sizeof name, "--%s", key);
	struct diag d;
	diag_init(&d, name);
	char *line = NULL;
	int rc = -1;
	if (strchr(value, '\n'))
		fprintf(stderr, "%s: %s: a value on one line, please\n", PROG, name);
	else if (asprintf(&line, "%s %s", key, value) < 0)
		fprintf(stderr, "%s: out of memory\n", PROG);
	else if (rdconf_parse(line, strlen(line), conf, &d))
		fprintf(stderr, "%s: %s %s: %s\n", PROG, name, value,
			d.n ? d.msgs[0].text : "bad value");
	else
		rc = 0;
	free(line);
	diag_free(&d);
	return rc;
}

/* The command line (and config file) into conf.  0 to run, else the exit
 * status (-1: exit 0 at once, e.g. --help). */
static int configure(int argc, char **argv, struct rdconf *conf, bool *once)
{
	enum { O_ONCE = 256, O_COMMUNITY, O_WRITE_COMMUNITY, O_OWNER, O_STANDBY,
	       O_HIGH_WATER, O_LOG, O_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "rules", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "once", no_argument, NULL, O_ONCE },
		{ "community", required_argument, NULL, O_COMMUNITY },
		{ "write-community", required_argument, NULL, O_WRITE_COMMUNITY },
		{ "owner", required_argument, NULL, O_OWNER },
		{ "standby", required_argument, NULL, O_STANDBY },
		{ "high-water", required_argument, NULL, O_HIGH_WATER },
		{ "log", required_argument, NULL, O_LOG },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *rules = NULL;
	bool short_opts = false;
	int c;
	while ((c = getopt_long(argc, argv, "c:i:r:o:h", longopts, NULL)) != -1) {
		const char *key = NULL;
		switch (c) {
		case 'c': config = optarg; break;
		case 'r': rules = optarg; short_opts = true; break;
		case 'i': key = "interval"; break;
		case 'o': key = "output"; break;
		case O_COMMUNITY: key = "community"; break;
		case O_WRITE_COMMUNITY: key = "write-community"; break;
		case O_STANDBY: key = "standby"; break;
		case O_HIGH_WATER: key = "high-water"; break;
		case O_OWNER: key = "owner"; break;
		case O_LOG: key = "log"; break;
		case O_ONCE: *once = true; break;
		case O_VERSION: printf("%s %s\n", PROG, NTM_VERSION); return -1;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (!key)
			continue;
		/* --log and --owner also go with -c; the rest is the short form */
		if (strcmp(key, "log") && strcmp(key, "owner"))
			short_opts = true;
		if (cli_key(conf, key, optarg))
			return EXIT_USAGE;
	}
	if (config && (short_opts || optind < argc)) {
		fprintf(stderr, "%s: with -c, put meters, rules and their options in the config file\n", PROG);
		return EXIT_USAGE;
	}
	if (!config && (!rules || optind != argc - 1)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct diag d;
	diag_init(&d, config ? config : PROG);
	int rc = config ? rdconf_parse_file(config, conf, &d)
			: rdconf_add_meter_spec(conf, argv[optind], rules, &d);
	if (!rc)
		rc = rdconf_finish(conf, &d);
	if (rc)
		print_diag(&d);
	diag_free(&d);
	return rc ? EXIT_USAGE : 0;
}

int main(int argc, char **argv)
{
	struct run run = { .log = stderr };
	rdconf_init(&run.conf);
	bool once = false;
	int rc = configure(argc, argv, &run.conf, &once);
	if (rc) {
		rdconf_free(&run.conf);
		return rc < 0 ? 0 : rc;
	}
	if (run.conf.log && !(run.log = fopen(run.conf.log, "a"))) {
		fprintf(stderr, "%s: %s: %s\n", PROG, run.conf.log, strerror(errno));
		rdconf_free(&run.conf);
		return EXIT_FAIL;
	}

	char cmdline[CMDLINE_MAX];
	size_t at = 0;
	cmdline[0] = '\0';
	for (int i = 1; i < argc && at + 2 < sizeof cmdline; i++)
		at += (size_t)snprintf(cmdline + at, sizeof cmdline - at, "%s%s", i > 1 ? " " : "", argv[i]);

	signal(SIGPIPE, SIG_IGN);
	rdsnmp_init(PROG);
	run.base = event_base_new();
	if (!run.base) {
		fprintf(stderr, "%s: cannot create the event loop\n", PROG);
		return EXIT_FAIL;
	}
	struct rdmeter_env env = {
		.base = run.base, .conf = &run.conf, .command_line = cmdline, .once = once,
		.log = log_line, .log_arg = &run, .done = on_done, .done_arg = &run,
	};
	run.meters = calloc(run.conf.n_meters, sizeof *run.meters);
	if (!run.meters)
		return EXIT_FAIL;
	int status = 0;
	for (size_t i = 0; i < run.conf.n_meters; i++) {
		char err[ERR_MAX];
		run.meters[i] = rdmeter_new(&env, &run.conf.meters[i], err, sizeof err);
		if (!run.meters[i]) {
			fprintf(stderr, "%s: meter %s: %s\n", PROG, run.conf.meters[i].name, err);
			status = EXIT_FAIL;
			break;
		}
		run.n_meters++;
	}
	struct event *sigint = evsignal_new(run.base, SIGINT, on_signal, &run);
	struct event *sigterm = evsignal_new(run.base, SIGTERM, on_signal, &run);
	if (!status && (!sigint || !sigterm || evsignal_add(sigint, NULL) || evsignal_add(sigterm, NULL))) {
		fprintf(stderr, "%s: cannot watch signals\n", PROG);
		status = EXIT_FAIL;
	}
	if (!status) {
		log_line(&run, NULL, "started");
		for (size_t i = 0; i < run.n_meters; i++)
			rdmeter_start(run.meters[i]);
		event_base_dispatch(run.base);
		for (size_t i = 0; i < run.n_meters; i++)
			if (rdmeter_failed(run.meters[i]))
				status = EXIT_FAIL;
		log_line(&run, NULL, "stopped");
	}
	for (size_t i = 0; i < run.n_meters; i++)
		rdmeter_free(run.meters[i]);
	free(run.meters);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	event_base_free(run.base);
	snmp_shutdown(PROG);
	if (run.log != stderr)
		fclose(run.log);
	rdconf_free(&run.conf);
	return status;
}
