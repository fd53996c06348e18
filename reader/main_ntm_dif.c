/*
 * ntm-dif — read, summarise, export and plot .dif flow data files.
 *
 *   ntm-dif summary FILE.dif...             per flow over the whole range
 *   ntm-dif csv|json FILE.dif... [-o OUT]   one row per interval per flow
 *   ntm-dif plot FILE.dif... -o OUT.svg|OUT.html [--log]
 * common options: --from T --to T (ISO 8601 UTC, YYYY-MM-DD or epoch
 * seconds), --flows LIST (flow ids or server addresses, comma-separated).
 *
 * Files are parsed as streams (common/difparse.h) and turned into rows by
 * reader/difanalyse.h; nothing holds more than one interval of a file.
 * Exit status: 0, 1 when any input had errors (every good interval is still
 * used), 2 for usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dif.h"
#include "difanalyse.h"
#include "difparse.h"
#include "plot.h"

#define PROG "ntm-dif"
#define EXIT_DATA 1
#define EXIT_USAGE 2
#define FLOWS_MAX 256

enum mode { M_SUMMARY, M_CSV, M_JSON, M_PLOT };

struct run {
	enum mode mode;
	FILE *out;
	const char *file;          /* being read */
	bool has_from, has_to;
	int64_t from, to;
	char *flows[FLOWS_MAX];
	size_t n_flows;
	struct dan *an;
	struct dan_summary *sum;
	struct plot *plot;
	unsigned long rows;
	unsigned long no_epoch;    /* rows that cannot be placed in time */
	bool failed;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s summary FILE.dif... [--from T] [--to T] [--flows LIST]\n"
		"       %s csv|json FILE.dif... [-o OUT] [--from T] [--to T] [--flows LIST]\n"
		"       %s plot FILE.dif... -o OUT.svg|OUT.html [--log] [--from T] [--to T]\n"
		"                [--flows LIST]\n"
		"T: YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DD or epoch seconds (UTC);\n"
		"LIST: flow ids (class/kind/server, ruleset:index) or server addresses\n",
		PROG, PROG, PROG);
}

static int parse_time(const char *s, int64_t *out)
{
	size_t len = strlen(s);
	if (dif_parse_iso8601(s, len, out) == 0)
		return 0;
	char buf[DIF_ISO_LEN];
	if (len == 10 && snprintf(buf, sizeof buf, "%sT00:00:00Z", s) > 0 &&
	    dif_parse_iso8601(buf, strlen(buf), out) == 0)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!errno && end != s && !*end && v >= 0) {
		*out = v;
		return 0;
	}
	return -1;
}

/* ---- output formatting ---- */

static void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static const char *const counter_name[DAN_N_COUNTERS] = {
	[DAN_REQUESTS] = "requests", [DAN_RESPONSES] = "responses",
	[DAN_ANSWERED] = "answered", [DAN_LOST] = "lost",
};

static void csv_header(FILE *out)
{
	fputs("start,end,start_epoch,end_epoch,flow,server,requests,responses,"
	      "answered,lost,load_rps,samples,median_us,p10_us,p90_us,dist_type,"
	      "dist_lower_us,dist_upper_us,dist_bins,limits_valid,time\n", out);
}

static void csv_row(FILE *out, const struct dan_row *r)
{
	char a[DIF_ISO_LEN], b[DIF_ISO_LEN];
	if (r->has_epoch) {
		dif_iso8601(r->start, a);
		dif_iso8601(r->end, b);
		fprintf(out, "%s,%s,%" PRId64 ",%" PRId64 ",", a, b, r->start, r->end);
	} else {
		fputs(",,,,", out);
	}
	csv_field(out, r->flow);
	fputc(',', out);
	csv_field(out, r->server);
	for (int k = 0; k < DAN_N_COUNTERS; k++) {
		if (dan_has(r->have, (enum dan_counter)k))
			fprintf(out, ",%" PRIu64, r->counter[k]);
		else
			fputc(',', out);
	}
	if (r->has_load)
		fprintf(out, ",%.4f", r->load_rps);
	else
		fputc(',', out);
	const struct dif_dist *d = r->dist;
	if (d)
		fprintf(out, ",%" PRIu64, d->n);
	else
		fputc(',', out);
	if (r->has_pct)
		fprintf(out, ",%.1f,%.1f,%.1f", r->median, r->p10, r->p90);
	else
		fputs(",,,", out);
	if (d && d->type != DIF_DIST_EXACT)
		fprintf(out, ",%u,%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%d", d->type,
			d->lower, d->upper, d->n_counts, r->limits_valid ? 1 : 0);
	else if (d)
		fprintf(out, ",%u,,,,1", d->type);
	else
		fputs(",,,,,", out);
	fputc(',', out);
	if (!r->has_epoch)
		csv_field(out, r->time_text ? r->time_text : "");
	fputc('\n', out);
}

static void json_row(FILE *out, const struct dan_row *r, bool first_row)
{
	fputs(first_row ? "\n  {" : ",\n  {", out);
	if (r->has_epoch) {
		char a[DIF_ISO_LEN], b[DIF_ISO_LEN];
		dif_iso8601(r->start, a);
		dif_iso8601(r->end, b);
		fprintf(out, "\"start\": \"%s\", \"end\": \"%s\", \"start_epoch\": %"
			PRId64 ", \"end_epoch\": %" PRId64 ", ", a, b, r->start, r->end);
	} else {
		fputs("\"start\": null, \"end\": null, \"time_text\": ", out);
		json_str(out, r->time_text ? r->time_text : "");
		fputs(", ", out);
	}
	fputs("\"flow\": ", out);
	json_str(out, r->flow);
	fputs(", \"server\": ", out);
	json_str(out, r->server);
	for (int k = 0; k < DAN_N_COUNTERS; k++) {
		if (dan_has(r->have, (enum dan_counter)k))
			fprintf(out, ", \"%s\": %" PRIu64, counter_name[k], r->counter[k]);
		else
			fprintf(out, ", \"%s\": null", counter_name[k]);
	}
	if (r->has_load)
		fprintf(out, ", \"load_rps\": %.4f", r->load_rps);
	else
		fputs(", \"load_rps\": null", out);
	if (r->has_pct)
		fprintf(out, ", \"median_us\": %.1f, \"p10_us\": %.1f, \"p90_us\": %.1f",
			r->median, r->p10, r->p90);
	else
		fputs(", \"median_us\": null, \"p10_us\": null, \"p90_us\": null", out);
	const struct dif_dist *d = r->dist;
	if (!d) {
		fputs(", \"samples\": null, \"dist_type\": null, \"dist\": null", out);
	} else {
		fprintf(out, ", \"samples\": %" PRIu64 ", \"dist_type\": %u, \"dist\": "
			"{\"type\": %u, \"n\": %" PRIu64, d->n, d->type, d->type, d->n);
		if (d->type == DIF_DIST_EXACT) {
			fputs(", \"values\": [", out);
			for (uint32_t i = 0; i < d->n_values; i++)
				fprintf(out, "%s%" PRIu32, i ? "," : "", d->values[i]);
		} else {
			if (d->type != DIF_DIST_BINNED)
				fprintf(out, ", \"scale\": %u", d->scale);
			fprintf(out, ", \"lower\": %" PRIu32 ", \"upper\": %" PRIu32
				", \"limits_valid\": %s, \"counts\": [", d->lower,
				d->upper, r->limits_valid ? "true" : "false");
			for (uint32_t i = 0; i < d->n_counts; i++)
				fprintf(out, "%s%" PRIu64, i ? "," : "", d->counts[i]);
		}
		fputs("]}", out);
	}
	fputs(", \"file\": ", out);
	json_str(out, r->file);
	fprintf(out, ", \"line\": %u}", r->line);
}

static void num_or_dash(FILE *out, bool has, double v, const char *fmt)
{
	if (has)
		fprintf(out, fmt, v);
	else
		fprintf(out, " %10s", "-");
}

static void summary_print(FILE *out, const struct dan_summary *s)
{
	fprintf(out, "%-28s %-22s %9s %10s %10s %8s %7s %10s %10s %10s %10s %s\n",
		"flow", "server", "intervals", "requests", "answered", "lost",
		"lost%", "samples", "median_us", "p10_us", "p90_us", "pooling");
	for (size_t i = 0; i < dan_summary_count(s); i++) {
		struct dan_summary_row r;
		dan_summary_get(s, i, &r);
		fprintf(out, "%-28s %-22s %9lu", r.flow, *r.server ? r.server : "-",
			r.intervals);
		if (dan_has(r.have, DAN_REQUESTS))
			fprintf(out, " %10" PRIu64, r.counter[DAN_REQUESTS]);
		else
			fprintf(out, " %10s", "-");
		if (dan_has(r.have, DAN_ANSWERED))
			fprintf(out, " %10" PRIu64, r.counter[DAN_ANSWERED]);
		else
			fprintf(out, " %10s", "-");
		if (dan_has(r.have, DAN_LOST))
			fprintf(out, " %8" PRIu64, r.counter[DAN_LOST]);
		else
			fprintf(out, " %8s", "-");
		if (r.has_lost_pct)
			fprintf(out, " %7.2f", r.lost_pct);
		else
			fprintf(out, " %7s", "-");
		fprintf(out, " %10" PRIu64, r.samples);
		num_or_dash(out, r.has_pct, r.median, " %10.1f");
		num_or_dash(out, r.has_pct, r.p10, " %10.1f");
		num_or_dash(out, r.has_pct, r.p90, " %10.1f");
		fprintf(out, " %s\n", !r.has_pct ? "-" : r.exact ? "exact" : "histogram");
	}
}

/* ---- the pipeline ---- */

static bool selected(const struct run *ru, const struct dan_row *r)
{
	if (ru->has_from && (!r->has_epoch || r->start < ru->from))
		return false;
	if (ru->has_to && (!r->has_epoch || r->end > ru->to))
		return false;
	if (ru->n_flows == 0)
		return true;
	for (size_t i = 0; i < ru->n_flows; i++)
		if (strcmp(ru->flows[i], r->flow) == 0 ||
		    (*r->server && strcmp(ru->flows[i], r->server) == 0))
			return true;
	return false;
}

static int on_row(void *ctx, const struct dan_row *r)
{
	struct run *ru = ctx;
	if (!selected(ru, r))
		return 0;
	switch (ru->mode) {
	case M_CSV:
		csv_row(ru->out, r);
		break;
	case M_JSON:
		json_row(ru->out, r, ru->rows == 0);
		break;
	case M_SUMMARY:
		if (dan_summary_add(ru->sum, r) < 0)
			return -1;
		break;
	case M_PLOT: {
		if (!r->has_epoch) {
			ru->no_epoch++;
			return 0;
		}
		double loss = NAN;
		uint64_t asked = r->counter[DAN_ANSWERED] + r->counter[DAN_LOST];
		if (dan_has(r->have, DAN_ANSWERED) && dan_has(r->have, DAN_LOST) && asked)
			loss = (double)r->counter[DAN_LOST] / (double)asked;
		if (plot_add(ru->plot, *r->server ? r->server : r->flow, r->flow,
			     r->start, r->end, r->has_pct ? r->median : NAN, loss) < 0)
			return -1;
		break;
	}
	}
	ru->rows++;
	return 0;
}

static int on_header(void *ctx, const struct difp_header *h)
{
	struct run *ru = ctx;
	if (difp_bad_type6_upper(h))
		fprintf(stderr, "%s:%u: warning: %s %s wrote type-6 distributions "
			"with a corrupted upper limit (7000 = 700 ms): bin counts "
			"kept, limits marked invalid, no percentiles from them\n",
			ru->file, h->line, h->program, h->version);
	return 0;
}

static int on_interval(void *ctx, const struct difp_interval *iv)
{
	struct run *ru = ctx;
	return dan_interval(ru->an, ru->file, iv);
}

static void on_error(void *ctx, const char *msg)
{
	struct run *ru = ctx;
	ru->failed = true;
	fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "flows", required_argument, NULL, 'F' },
		{ "log", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run ru = { .out = stdout };
	const char *out_path = NULL;
	bool log_scale = false;
	char *flows_arg = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case 'f':
		case 't':
			if (parse_time(optarg, c == 'f' ? &ru.from : &ru.to) < 0) {
				fprintf(stderr, "%s: --%s: bad time '%s' (want "
					"YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DD or epoch seconds)\n",
					PROG, c == 'f' ? "from" : "to", optarg);
				return EXIT_USAGE;
			}
			if (c == 'f')
				ru.has_from = true;
			else
				ru.has_to = true;
			break;
		case 'F':
			flows_arg = optarg;
			break;
		case 'l':
			log_scale = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind++];
	if (strcmp(cmd, "summary") == 0)
		ru.mode = M_SUMMARY;
	else if (strcmp(cmd, "csv") == 0)
		ru.mode = M_CSV;
	else if (strcmp(cmd, "json") == 0)
		ru.mode = M_JSON;
	else if (strcmp(cmd, "plot") == 0)
		ru.mode = M_PLOT;
	else {
		fprintf(stderr, "%s: unknown command '%s'\n", PROG, cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ru.has_from && ru.has_to && ru.to <= ru.from) {
		fprintf(stderr, "%s: --to must be after --from\n", PROG);
		return EXIT_USAGE;
	}
	for (char *s = flows_arg ? strtok(flows_arg, ",") : NULL; s;
	     s = strtok(NULL, ",")) {
		if (ru.n_flows == FLOWS_MAX) {
			fprintf(stderr, "%s: --flows: at most %d\n", PROG, FLOWS_MAX);
			return EXIT_USAGE;
		}
		ru.flows[ru.n_flows++] = s;
	}
	if (ru.mode == M_PLOT) {
		size_t len = out_path ? strlen(out_path) : 0;
		bool html = len > 5 && strcmp(out_path + len - 5, ".html") == 0;
		bool svg = len > 4 && strcmp(out_path + len - 4, ".svg") == 0;
		if (!html && !svg) {
			fprintf(stderr, "%s: plot needs -o OUT.svg or -o OUT.html\n", PROG);
			return EXIT_USAGE;
		}
		struct plot_opts po = {
			.html = html, .log_scale = log_scale,
			.has_from = ru.has_from, .has_to = ru.has_to,
			.from = ru.from, .to = ru.to,
		};
		ru.plot = plot_new(&po);
		if (!ru.plot) {
			if (errno == EINVAL)
				fprintf(stderr, "%s: plot: the window is at most %d days\n",
					PROG, PLOT_MAX_SPAN / 86400);
			else
				fprintf(stderr, "%s: %s\n", PROG, strerror(errno));
			return EXIT_USAGE;
		}
	} else if (out_path && ru.mode != M_SUMMARY) {
		ru.out = fopen(out_path, "w");
		if (!ru.out) {
			fprintf(stderr, "%s: %s: %s\n", PROG, out_path, strerror(errno));
			return EXIT_USAGE;
		}
	}
	ru.an = dan_new(on_row, &ru);
	ru.sum = ru.mode == M_SUMMARY ? dan_summary_new() : NULL;
	if (!ru.an || (ru.mode == M_SUMMARY && !ru.sum)) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return EXIT_DATA;
	}

	if (ru.mode == M_CSV)
		csv_header(ru.out);
	else if (ru.mode == M_JSON)
		fputs("[", ru.out);

	const struct difp_ops ops = {
		.header = on_header, .interval = on_interval, .error = on_error,
	};
	for (int i = optind; i < argc; i++) {
		ru.file = argv[i];
		int rc = difp_parse_file(argv[i], &ops, &ru);
		if (rc < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, argv[i], strerror(errno));
			ru.failed = true;
		}
	}

	int status = ru.failed ? EXIT_DATA : 0;
	switch (ru.mode) {
	case M_JSON:
		fputs(ru.rows ? "\n]\n" : "]\n", ru.out);
		break;
	case M_SUMMARY:
		summary_print(ru.out, ru.sum);
		break;
	case M_PLOT: {
		if (ru.no_epoch)
			fprintf(stderr, "%s: warning: %lu rows from old-form #Time: "
				"records (no UTC times) not plotted\n", PROG, ru.no_epoch);
		if (plot_series_count(ru.plot) == 0)
			fprintf(stderr, "%s: warning: nothing to plot (no intervals "
				"with UTC times in the window)\n", PROG);
		if (plot_dropped(ru.plot))
			fprintf(stderr, "%s: warning: %lu intervals outside the plotted "
				"window (at most %d days; use --from/--to) not plotted\n",
				PROG, plot_dropped(ru.plot), PLOT_MAX_SPAN / 86400);
		FILE *f = fopen(out_path, "w");
		if (!f || plot_write(ru.plot, f) < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, out_path, strerror(errno));
			status = EXIT_DATA;
		}
		if (f && fclose(f) != 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, out_path, strerror(errno));
			status = EXIT_DATA;
		}
		break;
	}
	case M_CSV:
		break;
	}
	if (dan_bad_limit_dists(ru.an))
		fprintf(stderr, "%s: warning: %lu type-6 distributions with unusable "
			"limits (NeTraMet 5.1b4-5.1b6): no percentiles from them\n",
			PROG, dan_bad_limit_dists(ru.an));
	if (ru.out != stdout && fclose(ru.out) != 0) {
		fprintf(stderr, "%s: %s: %s\n", PROG, out_path, strerror(errno));
		status = EXIT_DATA;
	} else if (ru.out == stdout && fflush(stdout) != 0) {
		status = EXIT_DATA;
	}
	dan_summary_free(ru.sum);
	plot_free(ru.plot);
	dan_free(ru.an);
	return status;
}
