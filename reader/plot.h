/*
 * plot.h — strip charts of per-interval RTT medians and loss rates as SVG,
 * or as one self-contained HTML page with the SVG inline (no scripts, no
 * network): what CAIDA's dns_perf pages showed for the root/gTLD servers.
 *
 * Top panel: one line per series (server) through its interval medians, a
 * gap where an interval had no median; linear or logarithmic RTT axis.
 * Bottom panel: the series' loss rate per interval.  Legend on the right.
 * Every series line is `<path class="series" data-flow=... data-server=...>`
 * and its loss line `<path class="loss" ...>`, so tests and scripts can
 * find them.
 *
 * Memory is bounded by the time window: at most PLOT_MAX_SPAN seconds, and
 * points outside the window are dropped (counted) as they arrive.
 */
#ifndef NTM_PLOT_H
#define NTM_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PLOT_MAX_SPAN (7 * 86400)   /* seconds: a week of 5-minute medians */
#define PLOT_WIDTH 1200
#define PLOT_HEIGHT 800

struct plot_opts {
	bool html;          /* HTML page around the SVG */
	bool log_scale;     /* logarithmic RTT axis */
	bool has_from, has_to;
	int64_t from, to;   /* window [from, to), epoch seconds; without them
			     * the window starts at the first point given and
			     * lasts PLOT_MAX_SPAN */
	const char *title;  /* NULL: a default */
};

struct plot;

/* NULL with errno: EINVAL (to <= from, or a window over PLOT_MAX_SPAN),
 * ENOMEM. */
struct plot *plot_new(const struct plot_opts *o);
void plot_free(struct plot *p);

/*
 * One interval of one series: `series` names the line (the server), `flow`
 * goes in data-flow.  NaN median / loss: none for that interval.  Returns
 * 0 (points outside the window are dropped), or -1 (ENOMEM).
 */
int plot_add(struct plot *p, const char *series, const char *flow,
	     int64_t start, int64_t end, double median_us, double loss);

size_t plot_series_count(const struct plot *p);
/* Points dropped because they were outside the window. */
unsigned long plot_dropped(const struct plot *p);

/* Write the SVG (or the HTML page).  0, or -1 with errno. */
int plot_write(struct plot *p, FILE *out);

#endif
