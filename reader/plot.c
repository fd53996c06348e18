/* plot.c — SVG/HTML strip charts (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dif.h"

#define NAME_MAX_LEN 128

/* Layout, in SVG user units (= CSS px). */
#define M_LEFT 80
#define M_RIGHT 230
#define M_TOP 44
#define RTT_H 470
#define GAP_H 60
#define LOSS_H 160
#define PLOT_W (PLOT_WIDTH - M_LEFT - M_RIGHT)
#define RTT_Y0 M_TOP
#define LOSS_Y0 (M_TOP + RTT_H + GAP_H)
#define LEGEND_X (PLOT_WIDTH - M_RIGHT + 20)
#define LEGEND_ROW_MAX 16.0
#define FONT 12
#define MAX_XTICKS 12
#define MAX_YTICKS 8
#define US_PER_MS 1000.0

/* Distinct line colours (Tableau 20 order); after them dash patterns. */
static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78",
	"#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
	"#dbdb8d", "#9edae5",
};
#define N_PALETTE (sizeof palette / sizeof palette[0])
static const char *const dashes[] = { "", "6,3", "2,2", "8,3,2,3" };
#define N_DASHES (sizeof dashes / sizeof dashes[0])

struct point {
	int64_t start, end;
	double median, loss;
};

struct series {
	char name[NAME_MAX_LEN], flow[NAME_MAX_LEN];
	struct point *pts;
	size_t n, cap;
};

struct plot {
	struct plot_opts o;
	bool window_set;
	struct series *s;
	size_t n, cap;
	unsigned long dropped;
};

struct plot *plot_new(const struct plot_opts *o)
{
	if (o->has_from && o->has_to &&
	    (o->to <= o->from || o->to - o->from > PLOT_MAX_SPAN)) {
		errno = EINVAL;
		return NULL;
	}
	struct plot *p = calloc(1, sizeof *p);
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->o = *o;
	if (o->has_from && !o->has_to) {
		p->o.to = o->from + PLOT_MAX_SPAN;
		p->o.has_to = true;
	}
	p->window_set = p->o.has_from && p->o.has_to;
	return p;
}

void plot_free(struct plot *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->s[i].pts);
	free(p->s);
	free(p);
}

size_t plot_series_count(const struct plot *p)
{
	return p->n;
}

unsigned long plot_dropped(const struct plot *p)
{
	return p->dropped;
}

static struct series *series_get(struct plot *p, const char *name,
				 const char *flow)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0)
			return &p->s[i];
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		struct series *s = realloc(p->s, cap * sizeof *s);
		if (!s)
			return NULL;
		p->s = s;
		p->cap = cap;
	}
	struct series *s = &p->s[p->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->flow, sizeof s->flow, "%s", flow);
	return s;
}

int plot_add(struct plot *p, const char *series, const char *flow,
	     int64_t start, int64_t end, double median_us, double loss)
{
	if (!p->window_set) {
		/* no window given: it ends PLOT_MAX_SPAN after the first point
		 * (or begins that long before --to) */
		if (p->o.has_to)
			p->o.from = p->o.to - PLOT_MAX_SPAN;
		else
			p->o.from = start, p->o.to = start + PLOT_MAX_SPAN;
		p->window_set = true;
	}
	if (start < p->o.from || end > p->o.to) {
		p->dropped++;
		return 0;
	}
	struct series *s = series_get(p, series, flow);
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct point *q = realloc(s->pts, cap * sizeof *q);
		if (!q) {
			errno = ENOMEM;
			return -1;
		}
		s->pts = q;
		s->cap = cap;
	}
	s->pts[s->n++] = (struct point){ start, end, median_us, loss };
	return 0;
}

/* ---- output helpers ---- */

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static int cmp_point(const void *a, const void *b)
{
	const struct point *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

static int cmp_series(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->name,
		      ((const struct series *)b)->name);
}

/* A "nice" step (1, 2, 5 × 10^k) giving at most max_ticks over range. */
static double nice_step(double range, int max_ticks)
{
	double raw = range / max_ticks;
	double mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

struct scale {
	double t0, t1;             /* x: epoch seconds */
	double r0, r1;             /* RTT axis, ms (log: log10 of ms) */
	double l1;                 /* loss axis top, percent */
	bool log_scale;
};

static double x_of(const struct scale *sc, double t)
{
	return M_LEFT + (t - sc->t0) / (sc->t1 - sc->t0) * PLOT_W;
}

static double rtt_y(const struct scale *sc, double ms)
{
	double v = sc->log_scale ? log10(ms > 0 ? ms : 1e-3) : ms;
	if (v < sc->r0)
		v = sc->r0;
	return RTT_Y0 + RTT_H - (v - sc->r0) / (sc->r1 - sc->r0) * RTT_H;
}

static double loss_y(const struct scale *sc, double pct)
{
	return LOSS_Y0 + LOSS_H - pct / sc->l1 * LOSS_H;
}

static void time_label(int64_t t, bool with_time, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, cap, with_time ? "%m-%d %H:%M" : "%Y-%m-%d", &tm);
}

static void axes(FILE *out, const struct scale *sc)
{
	/* frames */
	fprintf(out, "<g class=\"axes\" fill=\"none\" stroke=\"#000\">\n"
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n"
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n</g>\n",
		M_LEFT, RTT_Y0, PLOT_W, RTT_H, M_LEFT, LOSS_Y0, PLOT_W, LOSS_H);

	/* x ticks: whole hours or days, UTC */
	static const int steps[] = { 60, 300, 600, 1800, 3600, 7200, 10800, 21600,
				     43200, 86400, 172800 };
	double span = sc->t1 - sc->t0;
	int step = steps[sizeof steps / sizeof steps[0] - 1];
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (span / steps[i] <= MAX_XTICKS) {
			step = steps[i];
			break;
		}
	}
	fprintf(out, "<g class=\"xticks\" font-size=\"%d\" text-anchor=\"middle\">\n",
		FONT);
	bool first = true;
	for (int64_t t = ((int64_t)sc->t0 + step - 1) / step * step;
	     t <= (int64_t)sc->t1; t += step, first = false) {
		double x = x_of(sc, (double)t);
		char lab[32];
		/* times of day; the date under the first tick and at midnight */
		if (step < 86400) {
			if (first || t % 86400 == 0) {
				time_label(t, false, lab, sizeof lab);
				fprintf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>\n",
					x, LOSS_Y0 + LOSS_H + 2 * FONT + 10, lab);
			}
			time_label(t, true, lab, sizeof lab);
			memmove(lab, lab + 6, strlen(lab + 6) + 1);   /* "HH:MM" */
		} else {
			time_label(t, false, lab, sizeof lab);
		}
		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"#ddd\"/>\n", x, RTT_Y0, x, RTT_Y0 + RTT_H);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"#ddd\"/>\n", x, LOSS_Y0, x, LOSS_Y0 + LOSS_H);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>\n", x,
			LOSS_Y0 + LOSS_H + FONT + 6, lab);
	}
	fputs("</g>\n", out);

	/* RTT ticks */
	fprintf(out, "<g class=\"yticks\" font-size=\"%d\" text-anchor=\"end\">\n",
		FONT);
	if (sc->log_scale) {
		for (double e = ceil(sc->r0); e <= sc->r1 + 1e-9; e += 1) {
			double y = rtt_y(sc, pow(10, e));
			fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
				"stroke=\"#ddd\"/>\n<text x=\"%d\" y=\"%.1f\">%g</text>\n",
				M_LEFT, y, M_LEFT + PLOT_W, y, M_LEFT - 6, y + 4,
				pow(10, e));
		}
	} else {
		double st = nice_step(sc->r1 - sc->r0, MAX_YTICKS);
		for (double v = 0; v <= sc->r1 + 1e-9; v += st) {
			double y = rtt_y(sc, v);
			fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
				"stroke=\"#ddd\"/>\n<text x=\"%d\" y=\"%.1f\">%g</text>\n",
				M_LEFT, y, M_LEFT + PLOT_W, y, M_LEFT - 6, y + 4, v);
		}
	}
	double lst = nice_step(sc->l1, 4);
	for (double v = 0; v <= sc->l1 + 1e-9; v += lst) {
		double y = loss_y(sc, v);
		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"stroke=\"#ddd\"/>\n<text x=\"%d\" y=\"%.1f\">%g</text>\n",
			M_LEFT, y, M_LEFT + PLOT_W, y, M_LEFT - 6, y + 4, v);
	}
	fputs("</g>\n", out);
	fprintf(out, "<g font-size=\"%d\">\n"
		"<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" "
		"text-anchor=\"middle\">median RTT, ms%s</text>\n"
		"<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" "
		"text-anchor=\"middle\">loss, %%</text>\n</g>\n",
		FONT + 1, RTT_Y0 + RTT_H / 2, RTT_Y0 + RTT_H / 2,
		sc->log_scale ? " (log)" : "",
		LOSS_Y0 + LOSS_H / 2, LOSS_Y0 + LOSS_H / 2);
}

/* One polyline with gaps: a point without a value, or a missing interval
 * (more than 1.5 interval lengths since the previous one), lifts the pen. */
static void path(FILE *out, const struct plot *p, const struct scale *sc,
		 const struct series *s, size_t idx, bool loss)
{
	const char *colour = palette[idx % N_PALETTE];
	const char *dash = dashes[(idx / N_PALETTE) % N_DASHES];
	fprintf(out, "<path class=\"%s\" data-flow=\"", loss ? "loss" : "series");
	xml_text(out, s->flow);
	fputs("\" data-server=\"", out);
	xml_text(out, s->name);
	fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"", colour);
	if (*dash)
		fprintf(out, " stroke-dasharray=\"%s\"", dash);
	fputs(" d=\"", out);
	bool pen = false;
	int64_t prev_end = 0;
	size_t drawn = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct point *q = &s->pts[i];
		double v = loss ? q->loss : q->median;
		if (isnan(v)) {
			pen = false;
			continue;
		}
		int64_t len = q->end - q->start;
		if (pen && q->start - prev_end > len / 2)
			pen = false;
		double x = x_of(sc, (double)q->start + (double)len / 2);
		double y = loss ? loss_y(sc, 100.0 * v) : rtt_y(sc, v / US_PER_MS);
		fprintf(out, "%s%.1f %.1f", drawn ? (pen ? " L" : " M") : "M", x, y);
		/* a lone point still shows: a short tick */
		if (!pen && (i + 1 == s->n || isnan(loss ? s->pts[i + 1].loss
							: s->pts[i + 1].median)))
			fprintf(out, " h1");
		pen = true;
		prev_end = q->end;
		drawn++;
	}
	(void)p;
	fputs("\"/>\n", out);
}

int plot_write(struct plot *p, FILE *out)
{
	struct scale sc = { .log_scale = p->o.log_scale };
	double max_ms = 0, min_ms = INFINITY, max_loss = 0;
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	if (p->n)
		qsort(p->s, p->n, sizeof *p->s, cmp_series);
	for (size_t i = 0; i < p->n; i++) {
		struct series *s = &p->s[i];
		qsort(s->pts, s->n, sizeof *s->pts, cmp_point);   /* n >= 1 */
		for (size_t k = 0; k < s->n; k++) {
			const struct point *q = &s->pts[k];
			if (q->start < t0)
				t0 = q->start;
			if (q->end > t1)
				t1 = q->end;
			if (!isnan(q->median)) {
				double ms = q->median / US_PER_MS;
				max_ms = fmax(max_ms, ms);
				if (ms > 0)
					min_ms = fmin(min_ms, ms);
			}
			if (!isnan(q->loss))
				max_loss = fmax(max_loss, 100.0 * q->loss);
		}
	}
	/* the x axis shows the window asked for, else the data's range */
	sc.t0 = p->o.has_from ? (double)p->o.from : t0 != INT64_MAX ? (double)t0 : 0;
	sc.t1 = p->o.has_to && p->o.has_from ? (double)p->o.to
		: t1 != INT64_MIN ? (double)t1 : sc.t0 + 3600;
	if (sc.t1 <= sc.t0)
		sc.t1 = sc.t0 + 300;
	if (sc.log_scale) {
		if (!isfinite(min_ms))
			min_ms = 1, max_ms = 1000;
		sc.r0 = floor(log10(min_ms));
		sc.r1 = ceil(log10(max_ms > min_ms ? max_ms : min_ms * 10));
		if (sc.r1 <= sc.r0)
			sc.r1 = sc.r0 + 1;
	} else {
		double top = max_ms > 0 ? max_ms * 1.05 : 1;
		double st = nice_step(top, MAX_YTICKS);
		sc.r0 = 0;
		sc.r1 = ceil(top / st) * st;
	}
	sc.l1 = max_loss > 1 ? ceil(max_loss * 1.1) : 1;

	if (p->o.html)
		fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<title>ntm-dif plot</title>\n<style>body{margin:0;"
		      "background:#fff}svg{display:block}</style></head><body>\n",
		      out);
	else
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		PLOT_WIDTH, PLOT_HEIGHT, PLOT_WIDTH, PLOT_HEIGHT);
	char a[DIF_ISO_LEN], b[DIF_ISO_LEN];
	dif_iso8601((int64_t)sc.t0, a);
	dif_iso8601((int64_t)sc.t1, b);
	fprintf(out, "<text x=\"%d\" y=\"26\" font-size=\"16\">", M_LEFT);
	xml_text(out, p->o.title ? p->o.title : "DNS median RTT and loss per server");
	fprintf(out, " — %s to %s</text>\n", a, b);
	axes(out, &sc);

	fprintf(out, "<clipPath id=\"rtt\"><rect x=\"%d\" y=\"%d\" width=\"%d\" "
		"height=\"%d\"/></clipPath>\n<clipPath id=\"loss\"><rect x=\"%d\" "
		"y=\"%d\" width=\"%d\" height=\"%d\"/></clipPath>\n",
		M_LEFT, RTT_Y0, PLOT_W, RTT_H, M_LEFT, LOSS_Y0, PLOT_W, LOSS_H);
	fputs("<g clip-path=\"url(#rtt)\">\n", out);
	for (size_t i = 0; i < p->n; i++)
		path(out, p, &sc, &p->s[i], i, false);
	fputs("</g>\n<g clip-path=\"url(#loss)\">\n", out);
	for (size_t i = 0; i < p->n; i++)
		path(out, p, &sc, &p->s[i], i, true);
	fputs("</g>\n", out);

	/* legend */
	double row = p->n ? fmin(LEGEND_ROW_MAX,
				 (double)(PLOT_HEIGHT - M_TOP - 10) / (double)p->n)
		     : LEGEND_ROW_MAX;
	fprintf(out, "<g class=\"legend\" font-size=\"%.0f\">\n",
		fmin(FONT, row - 2 > 7 ? row - 2 : 7));
	for (size_t i = 0; i < p->n; i++) {
		double y = M_TOP + row * (double)i + row / 2;
		const char *dash = dashes[(i / N_PALETTE) % N_DASHES];
		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"stroke=\"%s\" stroke-width=\"3\"%s%s%s/>\n",
			LEGEND_X, y, LEGEND_X + 24, y, palette[i % N_PALETTE],
			*dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
		fprintf(out, "<text x=\"%d\" y=\"%.1f\">", LEGEND_X + 30, y + 4);
		xml_text(out, p->s[i].name);
		fputs("</text>\n", out);
	}
	fputs("</g>\n</svg>\n", out);
	if (p->o.html)
		fputs("</body></html>\n", out);
	fflush(out);
	return ferror(out) ? -1 : 0;
}
