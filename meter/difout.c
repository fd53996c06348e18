/* difout.c — a meter's own .dif and --samples output (see difout.h). */
#include "difout.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "coll.h"
#include "dif.h"
#include "dist.h"
#include "flowattr.h"
#include "value.h"
#include "version.h"

#define NS_PER_S 1000000000ull

struct difout {
	struct difout_options o;
	struct engine *e;
	struct diag *d;

	struct dif_format fmt;
	struct format_item *fmt_items;          /* owned when defaulted */
	size_t n_attrs;
	struct dif_header hdr;
	char partial[PATH_MAX];

	bool started;
	uint64_t start_ns;                      /* uptime 0 */
	uint64_t iv_start, iv_end;              /* current interval, ns */
	uint64_t read_ns;                       /* end of the last interval
	                                           written; 0 before */
	uint64_t last_ns;                       /* latest time seen */
	uint64_t intervals;

	struct coll *coll;                      /* readings -> records */
	struct coll_value *cv;                  /* one reading, n_attrs values */

	FILE *samples;
	bool io_error;
};

static int setup_format(struct difout *w)
{
	for (size_t i = 0; i < w->o.n_rs; i++)
		if (w->o.rs[i].n_format) {
			w->fmt.items = w->o.rs[i].format;
			w->fmt.n = w->o.rs[i].n_format;
			break;
		}
	if (!w->fmt.n) {
		size_t n = dif_n_default_attrs;
		w->fmt_items = calloc(n, sizeof *w->fmt_items);
		if (!w->fmt_items)
			return -1;
		for (size_t i = 0; i < n; i++)
			w->fmt_items[i].attr = dif_default_attrs[i];
		w->fmt.items = w->fmt_items;
		w->fmt.n = n;
	}
	w->n_attrs = dif_format_attrs(&w->fmt);
	if (!(w->coll = coll_create(&w->fmt)) ||
	    !(w->cv = calloc(w->n_attrs ? w->n_attrs : 1, sizeof *w->cv)))
		return -1;
	for (size_t i = 0; i < w->o.n_rs; i++)
		if (coll_set_nbins(w->coll, w->o.rs[i].set, dist_ruleset_nbins(&w->o.rs[i])))
			return -1;
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
	struct difout *w = arg;
	char label[96];
	flow_label(t, f, label, sizeof label);
	if (fprintf(w->samples, "%" PRIu64 ",%s,%" PRIu64 "\n", ts_ns, label, rtt_us) < 0)
		w->io_error = true;
}

struct difout *difout_open(const struct difout_options *o, struct engine *e,
			   struct diag *d)
{
	struct difout *w = calloc(1, sizeof *w);
	if (!w || o->interval_s == 0) {
		diag_error(d, 0, 0, w ? "the interval must be > 0" : "out of memory");
		free(w);
		return NULL;
	}
	w->o = *o;
	w->e = e;
	w->d = d;
	if (setup_format(w)) {
		diag_error(d, 0, 0, "out of memory");
		goto fail;
	}
	w->hdr.version = NTM_VERSION;
	w->hdr.options = o->command_line;
	w->hdr.meter = o->meter;
	w->hdr.format = &w->fmt;
	if (o->out) {
		if (snprintf(w->partial, sizeof w->partial, "%s.partial", o->out) >=
		    (int)sizeof w->partial) {
			diag_error(d, 0, 0, "%s: path too long", o->out);
			goto fail;
		}
		unlink(w->partial);   /* a leftover of an earlier, failed run */
	}
	if (o->samples) {
		w->samples = fopen(o->samples, "w");
		if (!w->samples) {
			diag_error(d, 0, 0, "%s: %s", o->samples, strerror(errno));
			goto fail;
		}
		fputs("time_ns,flow,rtt_us\n", w->samples);
		e->on_sample = on_sample;
		e->sample_arg = w;
	}
	return w;
fail:
	difout_free(w);
	return NULL;
}

/* A reader gets the flows changed since its last reading: a packet, or a
 * DNS request of the flow timed out (even during a gap in the clock). */
static int collect_flow(struct flow *f, uint32_t index, void *arg)
{
	struct difout *w = arg;
	if (!flowattr_changed_since(f, w->read_ns))
		return 0;
	for (size_t i = 0; i < w->n_attrs; i++)
		flowattr_get(w->e, f, index, w->start_ns, coll_attr(w->coll, i), &w->cv[i]);
	const struct flow_key *k = flow_get_key(w->e->flows, f);
	return coll_add(w->coll, k->ruleset, index, f->first_ns, w->cv);
}

/* Write the interval [iv_start, end). */
static int write_interval(struct difout *w, uint64_t end)
{
	/* requests that timed out by the interval end are lost in it */
	engine_expire_dns(w->e, end);
	coll_begin(w->coll);
	if (w->o.out) {
		if (flow_foreach_active_since(w->e->flows, 0, collect_flow, w)) {
			diag_error(w->d, 0, 0, "collecting interval: %s", strerror(errno));
			return -1;
		}
		size_t n_recs;
		const struct dif_record *recs = coll_records(w->coll, &n_recs);
		/* the first and last intervals cover only the observed part */
		uint64_t start = w->iv_start > w->start_ns ? w->iv_start : w->start_ns;
		struct dif_interval iv = {
			.start = (int64_t)(start / NS_PER_S),
			.end = (int64_t)((end + NS_PER_S - 1) / NS_PER_S),
			.from_uptime = flowattr_uptime_cs(w->start_ns, start),
			.to_uptime = flowattr_uptime_cs(w->start_ns, end),
			.meter = w->o.meter,
		};
		if (dif_append_interval(w->partial, &w->hdr, &iv, recs, n_recs)) {
			diag_error(w->d, 0, 0, "%s: %s", w->partial, strerror(errno));
			w->io_error = true;
			return -1;
		}
	}
	w->intervals++;
	w->read_ns = end;
	/* the only reader has everything before `end`: recoverable */
	if (w->o.own_gc)
		engine_collect_point(w->e, end, end);
	return 0;
}

static uint64_t interval_floor(const struct difout *w, uint64_t ts)
{
	uint64_t len = (uint64_t)w->o.interval_s * NS_PER_S;
	return ts / len * len;
}

uint64_t difout_next_due(const struct difout *w)
{
	return w->started ? w->iv_end : 0;
}

int difout_advance(struct difout *w, uint64_t ts)
{
	uint64_t len = (uint64_t)w->o.interval_s * NS_PER_S;
	if (ts > w->last_ns)
		w->last_ns = ts;
	if (!w->started) {
		w->started = true;
		w->start_ns = w->o.start_ns ? w->o.start_ns : ts;
		w->iv_start = interval_floor(w, ts);
		w->iv_end = w->iv_start + len;
		w->hdr.start = (int64_t)(w->start_ns / NS_PER_S);
		return 0;
	}
	if (ts < w->iv_end)
		return 0;
	if (write_interval(w, w->iv_end))
		return -1;
	/* A gap makes no empty intervals: nothing was observed there, and a
	 * jump of years would otherwise write a million of them. */
	w->iv_start = interval_floor(w, ts);
	w->iv_end = w->iv_start + len;
	return 0;
}

uint64_t difout_read_ns(const struct difout *w)
{
	return w->read_ns;
}

uint64_t difout_intervals(const struct difout *w)
{
	return w->intervals;
}

int difout_close(struct difout *w, uint64_t end_ns)
{
	int rc = 0;
	if (w->started && write_interval(w, end_ns))
		rc = 2;
	if (w->samples) {
		w->e->on_sample = NULL;
		int e = fclose(w->samples);
		w->samples = NULL;
		if (e || w->io_error) {
			diag_error(w->d, 0, 0, "%s: write failed", w->o.samples);
			rc = 2;
		}
	}
	if (rc == 0 && w->o.out) {
		if (!w->started) {
			diag_error(w->d, 0, 0, "no packets read: %s not written", w->o.out);
			return 1;
		}
		if (rename(w->partial, w->o.out)) {
			diag_error(w->d, 0, 0, "%s: %s", w->o.out, strerror(errno));
			rc = 2;
		}
	}
	return rc;
}

void difout_free(struct difout *w)
{
	if (!w)
		return;
	if (w->samples) {
		w->e->on_sample = NULL;
		fclose(w->samples);
	}
	coll_free(w->coll);
	free(w->cv);
	free(w->fmt_items);
	free(w);
}
