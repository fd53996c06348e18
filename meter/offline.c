/* offline.c — trace files to .dif files (see offline.h). */
#include "offline.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "cap.h"
#include "decode.h"
#include "coll.h"
#include "dif.h"
#include "dist.h"
#include "flowattr.h"
#include "srl.h"
#include "value.h"
#include "version.h"

#define NS_PER_S   1000000000ull
#define BATCH      64u

struct offline {
	const struct offline_options *o;
	struct diag *d;
	struct engine e;
	struct ruleset rs[ENGINE_TASKS_MAX + 1];
	size_t n_rs;

	struct dif_format fmt;
	struct format_item *fmt_items;          /* owned when defaulted */
	size_t n_attrs;
	struct dif_header hdr;
	char meter[256];
	char partial[PATH_MAX];

	bool started;
	uint64_t first_ns, last_ns;             /* trace time seen */
	uint64_t iv_start, iv_end;              /* current interval, ns */
	uint64_t read_ns;                       /* end of the last interval
	                                           written (a reader's last
	                                           reading); 0 before */
	uint64_t intervals;

	struct coll *coll;                      /* readings -> records */
	struct coll_value *cv;                  /* one reading, n_attrs values */

	FILE *samples;
	int io_error;
};

void offline_options_default(struct offline_options *o)
{
	memset(o, 0, sizeof *o);
	o->interval_s = OFFLINE_DEFAULT_INTERVAL;
	engine_config_default(&o->cfg);
}

/* A reader gets the flows changed since its last reading: a packet, or a
 * DNS request of the flow timed out (even during a gap in the trace). */
static int collect_flow(struct flow *f, uint32_t index, void *arg)
{
	struct offline *s = arg;
	if (!flowattr_changed_since(f, s->read_ns))
		return 0;
	for (size_t i = 0; i < s->n_attrs; i++)
		flowattr_get(&s->e, f, index, s->first_ns, coll_attr(s->coll, i), &s->cv[i]);
	const struct flow_key *k = flow_get_key(s->e.flows, f);
	return coll_add(s->coll, k->ruleset, index, f->first_ns, s->cv);
}

/* Write the interval [iv_start, end) and do the collector's housekeeping. */
static int write_interval(struct offline *s, uint64_t end)
{
	/* requests that timed out by the interval end are lost in it */
	engine_expire_dns(&s->e, end);
	coll_begin(s->coll);
	if (s->o->out) {
		if (flow_foreach_active_since(s->e.flows, 0, collect_flow, s)) {
			diag_error(s->d, 0, 0, "collecting interval: %s", strerror(errno));
			return -1;
		}
		size_t n_recs;
		const struct dif_record *recs = coll_records(s->coll, &n_recs);
		/* the first and last intervals cover only the trace's part */
		uint64_t start = s->iv_start > s->first_ns ? s->iv_start : s->first_ns;
		struct dif_interval iv = {
			.start = (int64_t)(start / NS_PER_S),
			.end = (int64_t)((end + NS_PER_S - 1) / NS_PER_S),
			.from_uptime = flowattr_uptime_cs(s->first_ns, start),
			.to_uptime = flowattr_uptime_cs(s->first_ns, end),
			.meter = s->meter,
		};
		if (dif_append_interval(s->partial, &s->hdr, &iv, recs, n_recs)) {
			diag_error(s->d, 0, 0, "%s: %s", s->partial, strerror(errno));
			s->io_error = 1;
			return -1;
		}
	}
	s->intervals++;
	s->read_ns = end;
	/* everything active before `end` is now collected: recoverable */
	engine_collect_point(&s->e, end, end);
	return 0;
}

static uint64_t interval_floor(const struct offline *s, uint64_t ts)
{
	uint64_t len = (uint64_t)s->o->interval_s * NS_PER_S;
	return ts / len * len;
}

/* Close every interval that ends at or before ts. */
static int advance_to(struct offline *s, uint64_t ts)
{
	uint64_t len = (uint64_t)s->o->interval_s * NS_PER_S;
	if (!s->started) {
		s->started = true;
		s->first_ns = ts;
		s->iv_start = interval_floor(s, ts);
		s->iv_end = s->iv_start + len;
		s->hdr.start = (int64_t)(ts / NS_PER_S);
		return 0;
	}
	if (ts < s->iv_end)
		return 0;
	if (write_interval(s, s->iv_end))
		return -1;
	/* A gap in the trace (capture stopped, clock jump) makes no empty
	 * intervals: nothing was observed there, and a jump of years would
	 * otherwise write a million of them. */
	s->iv_start = interval_floor(s, ts);
	s->iv_end = s->iv_start + len;
	return 0;
}

/* --samples: "time_ns,flow,rtt_us"; flow = FlowClass/FlowKind/server. */
static void flow_label(const struct flow_table *t, const struct flow *f,
		       char *buf, size_t cap)
{
	const struct flow_key *k = flow_get_key(t, f);
	struct flow_key_item it;
	unsigned cls = 0, kind = 0;
	if (flow_key_get(k, ATTR_FLOW_CLASS, &it))
		cls = it.value[0];
	if (flow_key_get(k, ATTR_FLOW_KIND, &it))
		kind = it.value[0];
	char addr[64] = "-";
	if (flow_key_get(k, ATTR_DEST_PEER_ADDRESS, &it))
		value_format(attr_by_num(ATTR_DEST_PEER_ADDRESS), it.value, it.width,
			     addr, sizeof addr);
	snprintf(buf, cap, "%u/%u/%s", cls, kind, addr);
}

static void on_sample(void *arg, const struct flow_table *t, const struct flow *f,
		      uint64_t ts_ns, uint64_t rtt_us)
{
	struct offline *s = arg;
	char label[96];
	flow_label(t, f, label, sizeof label);
	if (fprintf(s->samples, "%" PRIu64 ",%s,%" PRIu64 "\n", ts_ns, label, rtt_us) < 0)
		s->io_error = 1;
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

static int setup_format(struct offline *s)
{
	for (size_t i = 0; i < s->n_rs; i++)
		if (s->rs[i].n_format) {
			s->fmt.items = s->rs[i].format;
			s->fmt.n = s->rs[i].n_format;
			break;
		}
	if (!s->fmt.n) {
		size_t n = dif_n_default_attrs;
		s->fmt_items = calloc(n, sizeof *s->fmt_items);
		if (!s->fmt_items)
			return -1;
		for (size_t i = 0; i < n; i++)
			s->fmt_items[i].attr = dif_default_attrs[i];
		s->fmt.items = s->fmt_items;
		s->fmt.n = n;
	}
	s->n_attrs = dif_format_attrs(&s->fmt);
	if (!(s->coll = coll_create(&s->fmt)) ||
	    !(s->cv = calloc(s->n_attrs ? s->n_attrs : 1, sizeof *s->cv)))
		return -1;
	for (size_t i = 0; i < s->n_rs; i++)
		if (coll_set_nbins(s->coll, s->rs[i].set, dist_ruleset_nbins(&s->rs[i])))
			return -1;
	return 0;
}

static void progress(const struct offline *s, const struct cap_stats *cs,
		     const char *trace, struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
	double pct = cs->size ? 100.0 * (double)cs->pos / (double)cs->size : 0;
	fprintf(stderr, "\r%s: %" PRIu64 " packets, %.0f packets/s, %.1f%%   ",
		trace, s->e.st.packets, secs > 0 ? (double)s->e.st.packets / secs : 0, pct);
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
	int n, rc = 0;
	while ((n = cap_next_batch(c, batch, BATCH)) > 0) {
		for (int i = 0; i < n; i++) {
			/* a packet stamped before the current interval (clock
			 * steps, merged traces) is counted where we are */
			if (advance_to(s, batch[i].ts_ns)) {
				rc = 2;
				goto out;
			}
			engine_packet(&s->e, &batch[i]);
		}
		if (s->o->progress && s->e.st.packets >= next_progress) {
			struct cap_stats cs;
			cap_stats(c, &cs);
			progress(s, &cs, path, &t0);
			next_progress = s->e.st.packets + (1u << 20);
		}
	}
	if (n < 0) {
		/* packets before a damaged part were counted; say what happened */
		diag_error(s->d, 0, 0, "%s: %s", path, cap_error(c));
		rc = 1;
	}
out:
	if (s->o->progress)
		fputc('\n', stderr);
	cap_close(c);
	return rc;
}

static void print_stats(const struct offline *s, FILE *out)
{
	fprintf(out, "packets %" PRIu64 " octets %" PRIu64 " intervals %" PRIu64 "\n",
		s->e.st.packets, s->e.st.octets, s->intervals);
	engine_print_stats(&s->e, out);
}

static void offline_free(struct offline *s)
{
	engine_free(&s->e);
	for (size_t i = 0; i < s->n_rs; i++)
		ruleset_free(&s->rs[i]);
	coll_free(s->coll);
	free(s->cv);
	free(s->fmt_items);
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
	if (setup_format(&s)) {
		diag_error(d, 0, 0, "out of memory");
		goto out;
	}
	if (engine_init(&s.e, &o->cfg, d))
		goto out;
	for (size_t i = 0; i < o->n_rules; i++) {
		const struct ruleset *standby = i == 0 && o->standby ? &s.rs[o->n_rules] : NULL;
		if (engine_add_task(&s.e, &s.rs[i], standby, o->high_water, d))
			goto out;
	}
	snprintf(s.meter, sizeof s.meter, "%s%s", o->meter ? "" : "file:",
		 o->meter ? o->meter : o->traces[0]);
	s.hdr.version = NTM_VERSION;
	s.hdr.options = o->command_line;
	s.hdr.meter = s.meter;
	s.hdr.format = &s.fmt;
	if (o->out) {
		if (snprintf(s.partial, sizeof s.partial, "%s.partial", o->out) >= (int)sizeof s.partial) {
			diag_error(d, 0, 0, "%s: path too long", o->out);
			goto out;
		}
		unlink(s.partial);   /* a leftover of an earlier, failed run */
	}
	if (o->samples) {
		s.samples = fopen(o->samples, "w");
		if (!s.samples) {
			diag_error(d, 0, 0, "%s: %s", o->samples, strerror(errno));
			rc = 2;
			goto out;
		}
		fputs("time_ns,flow,rtt_us\n", s.samples);
		s.e.on_sample = on_sample;
		s.e.sample_arg = &s;
	}

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
	if (s.started) {
		engine_finish(&s.e);
		if (write_interval(&s, s.e.st.last_ns + 1)) {
			rc = 2;
			goto out;
		}
	}
	if (s.samples) {
		int e = fclose(s.samples);
		s.samples = NULL;
		if (e || s.io_error) {
			diag_error(d, 0, 0, "%s: write failed", o->samples);
			rc = 2;
			goto out;
		}
	}
	if (o->out) {
		if (!s.started) {
			diag_error(d, 0, 0, "no packets read: %s not written", o->out);
			goto out;
		}
		if (rename(s.partial, o->out)) {
			diag_error(d, 0, 0, "%s: %s", o->out, strerror(errno));
			rc = 2;
			goto out;
		}
	}
	if (o->stats_out)
		print_stats(&s, o->stats_out);
	rc = trace_rc;
out:
	if (s.samples)
		fclose(s.samples);
	offline_free(&s);
	return rc;
}
