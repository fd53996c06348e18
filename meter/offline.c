/* offline.c — trace files to .dif files (see offline.h). */
#include "offline.h"

#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cap.h"
#include "difout.h"
#include "srl.h"
#include "workers.h"

#define BATCH      64u

struct offline {
	const struct offline_options *o;
	struct diag *d;
	struct engine e;
	struct workers *wk;                     /* NULL: e meters itself */
	struct ruleset rs[ENGINE_TASKS_MAX + 1];
	size_t n_rs;
	struct difout *out;                     /* .dif and --samples */
	char meter[256];
};

void offline_options_default(struct offline_options *o)
{
	memset(o, 0, sizeof *o);
	o->interval_s = OFFLINE_DEFAULT_INTERVAL;
	engine_config_default(&o->cfg);
}

static int load_rulesets(struct offline *s)
{
	const struct offline_options *o = s->o;
	for (size_t i = 0; i < o->n_rules + (o->standby ? 1 : 0); i++) {
		const char *path = i < o->n_rules ? o->rules[i] : o->standby;
		struct diag d;
		diag_init(&d, path);
		ruleset_init(&s->rs[i]);
		int rc = srl_load_ruleset(path, &s->rs[i], &d);
		/* the file's own messages, as FILE:LINE:COL, go to the caller's list */
		diag_forward(s->d, path, &d);
		bool failed = rc != 0 || d.errors;
		diag_free(&d);
		s->n_rs = i + 1;
		if (failed)
			return -1;
		/* RuleSet 1 is the meter's built-in default (RFC 2722 §5.1):
		 * a file without SET gets the next free number from 2 on */
		if (s->rs[i].set == 0)
			s->rs[i].set = (uint32_t)(i + 2);
		for (size_t j = 0; j < i; j++)
			if (s->rs[j].set == s->rs[i].set) {
				diag_error(s->d, 0, 0, "%s: ruleset number %u is also used by %s",
					   path, s->rs[i].set, j < o->n_rules ? o->rules[j] : o->standby);
				return -1;
			}
	}
	return 0;
}

/* Packets read so far (with workers the view's count lags until a sync). */
static uint64_t packets_read(const struct offline *s)
{
	return s->wk ? workers_pushed(s->wk) : s->e.st.packets;
}

static void progress(const struct offline *s, const struct cap_stats *cs,
		     const char *trace, struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
	double pct = cs->size ? 100.0 * (double)cs->pos / (double)cs->size : 0;
	fprintf(stderr, "\r%s: %" PRIu64 " packets, %.0f packets/s, %.1f%%   ",
		trace, packets_read(s), secs > 0 ? (double)packets_read(s) / secs : 0, pct);
}

/*
 * Trace files are mapped (drivers/cap.c): one cut short by another process
 * while this reads it raises SIGBUS where the vanished bytes are touched —
 * in the reader, in decode, or copying a packet for a worker, all on this
 * (the reading) thread.  The handler leaves the trace there, and the run
 * ends as for a damaged file: the intervals so far written, an error.
 */
static sigjmp_buf cut_short;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(cut_short, 1);
}

static int read_trace(struct offline *s, const char *path)
{
	char err[256];
	struct cap *c = cap_open_file(path, err, sizeof err);
	if (!c) {
		diag_error(s->d, 0, 0, "%s: %s", path, err);
		return 1;
	}
	struct pkt batch[BATCH];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t next_progress = 1u << 20;
	int n;
	volatile int rc = 0;
	struct sigaction sa = { .sa_handler = on_sigbus }, old_sa;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_sa);
	if (sigsetjmp(cut_short, 1)) {
		diag_error(s->d, 0, 0, "%s: the file was cut short while it was read "
			   "(SIGBUS); the packets before were counted", path);
		rc = 1;
		goto out;
	}
	uint64_t due = difout_next_due(s->out);
	/* in a local: engine_packet() may write anywhere as far as the
	 * compiler knows, which made it reload s->wk for every packet */
	struct workers *const wk = s->wk;
	while ((n = cap_next_batch(c, batch, BATCH)) > 0) {
		for (int i = 0; i < n; ) {
			/* a packet stamped before the current interval (clock
			 * steps, merged traces) is counted where we are */
			if (batch[i].ts_ns >= due) {
				/* the view must have seen every packet before
				 * this one, and nothing after it */
				if (wk)
					workers_quiesce(wk);
				if (difout_advance(s->out, batch[i].ts_ns)) {
					rc = 2;
					goto out;
				}
				due = difout_next_due(s->out);
			}
			if (wk) {
				workers_push(wk, workers_pick(wk, &batch[i]), &batch[i]);
				i++;
			} else if (batch[i].ts_ns >= due) {
				/* the advance left it due: counted all the
				 * same, alone */
				engine_packet(&s->e, &batch[i]);
				i++;
			} else {
				/* this packet and those after it up to the next
				 * one due, without a call each */
				i += (int)engine_packets(&s->e, &batch[i], (size_t)(n - i), due);
			}
		}
		if (s->o->progress && packets_read(s) >= next_progress) {
			struct cap_stats cs;
			cap_stats(c, &cs);
			progress(s, &cs, path, &t0);
			next_progress = packets_read(s) + (1u << 20);
		}
	}
	if (n < 0) {
		/* packets before a damaged part were counted; say what happened */
		diag_error(s->d, 0, 0, "%s: %s", path, cap_error(c));
		rc = 1;
	}
out:
	sigaction(SIGBUS, &old_sa, NULL);
	if (s->o->progress)
		fputc('\n', stderr);
	cap_close(c);
	return rc;
}

static void print_stats(const struct offline *s, FILE *out)
{
	fprintf(out, "packets %" PRIu64 " octets %" PRIu64 " intervals %" PRIu64 "\n",
		s->e.st.packets, s->e.st.octets, difout_intervals(s->out));
	engine_print_stats(&s->e, out);
	if (s->wk)
		workers_print_stats(s->wk, out);
}

static void offline_free(struct offline *s)
{
	workers_stop(s->wk);
	engine_free(&s->e);
	for (size_t i = 0; i < s->n_rs; i++)
		ruleset_free(&s->rs[i]);
	difout_free(s->out);
}

int offline_run(const struct offline_options *o, struct diag *d)
{
	struct offline s;
	memset(&s, 0, sizeof s);
	s.o = o;
	s.d = d;
	int rc = 1;

	if (o->n_traces == 0 || o->n_rules == 0 || o->interval_s == 0) {
		diag_error(d, 0, 0, "offline mode needs --read TRACE, -r RULES and an interval > 0");
		return 1;
	}
	if (load_rulesets(&s))
		goto out;
	if (o->workers > 1 ? engine_init_sharded(&s.e, &o->cfg, o->workers, d) :
			     engine_init(&s.e, &o->cfg, d))
		goto out;
	for (size_t i = 0; i < o->n_rules; i++) {
		const struct ruleset *standby = i == 0 && o->standby ? &s.rs[o->n_rules] : NULL;
		if (engine_add_task(&s.e, &s.rs[i], standby, o->high_water, d))
			goto out;
	}
	snprintf(s.meter, sizeof s.meter, "%s%s", o->meter ? "" : "file:",
		 o->meter ? o->meter : o->traces[0]);
	struct difout_options wo = {
		.out = o->out, .samples = o->samples, .interval_s = o->interval_s,
		.meter = s.meter, .command_line = o->command_line,
		.rs = s.rs, .n_rs = s.n_rs, .own_gc = true,
	};
	if (!(s.out = difout_open(&wo, &s.e, d))) {
		rc = o->samples ? 2 : 1;
		goto out;
	}

	if (o->workers > 1 && !(s.wk = workers_start(&s.e, d)))
		goto out;

	int trace_rc = 0;
	for (size_t i = 0; i < o->n_traces; i++) {
		int r = read_trace(&s, o->traces[i]);
		if (r == 2) {
			rc = 2;
			goto out;
		}
		if (r)
			trace_rc = 1;
	}
	if (s.wk)
		workers_quiesce(s.wk);
	engine_finish(&s.e);
	rc = difout_close(s.out, s.e.st.last_ns + 1);
	if (rc)
		goto out;
	if (o->stats_out)
		print_stats(&s, o->stats_out);
	rc = trace_rc;
out:
	offline_free(&s);
	return rc;
}
