/* dif.c — .dif writer and distribution arithmetic (see dif.h and
 * doc/dif-format.md). */
#include "dif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"

/* Longest token a value can produce: a type-6/1/2 distribution with 256
 * 20-digit counts plus its head. */
#define TOKEN_MAX (DIF_DIST_MAX_COUNTS * 21 + 128)

/* A bounded string builder: appends until full, then remembers overflow. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void sb_init(struct sbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->overflow = cap == 0;
	if (cap)
		p[0] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

static void sb_u64_list(struct sbuf *b, const uint64_t *c, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sb_printf(b, "%s%" PRIu64, i ? "," : "", c[i]);
}

const uint16_t dif_default_attrs[] = {
	ATTR_FLOW_RULESET, ATTR_FLOW_INDEX, ATTR_FIRST_TIME,
	ATTR_SOURCE_PEER_TYPE, ATTR_SOURCE_PEER_ADDRESS, ATTR_DEST_PEER_ADDRESS,
	ATTR_TO_PDUS, ATTR_FROM_PDUS, ATTR_TO_OCTETS, ATTR_FROM_OCTETS,
};
const size_t dif_n_default_attrs = sizeof dif_default_attrs / sizeof dif_default_attrs[0];

size_t dif_format_attrs(const struct dif_format *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->items[i].attr != 0)
			n++;
	return n;
}

/* ---- time ---- */

void dif_iso8601(int64_t epoch, char buf[DIF_ISO_LEN])
{
	time_t t = (time_t)epoch;
	struct tm tm;
	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, DIF_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, DIF_ISO_LEN, "1970-01-01T00:00:00Z");
}

int dif_parse_iso8601(const char *s, size_t len, int64_t *epoch)
{
	/* Exactly YYYY-MM-DDTHH:MM:SSZ: 20 characters. */
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	if (len != sizeof shape - 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return -1;
	}
	struct tm tm = {0};
#define D2(o) ((s[o] - '0') * 10 + (s[(o) + 1] - '0'))
	tm.tm_year = D2(0) * 100 + D2(2) - 1900;
	tm.tm_mon = D2(5) - 1;
	tm.tm_mday = D2(8);
	tm.tm_hour = D2(11);
	tm.tm_min = D2(14);
	tm.tm_sec = D2(17);
#undef D2
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	*epoch = (int64_t)timegm(&tm);
	return 0;
}

/* ---- distribution arithmetic ---- */

double dif_dist_edge(uint32_t lower, uint32_t upper, unsigned nbins,
		     unsigned i)
{
	if (i == 0)
		return lower;
	double u = (double)upper + 1.0;
	if (i >= nbins)
		return u;
	double l = lower ? (double)lower : 1.0;  /* log scale needs l > 0 */
	if (u <= l)
		return u;
	return l * pow(u / l, (double)i / nbins);
}

double dif_dist_static_bound(unsigned transform, unsigned scale,
			     unsigned lower, unsigned upper,
			     unsigned buckets, unsigned i)
{
	if (buckets == 0 || i >= buckets || lower > upper || scale > 9 ||
	    (transform != DIF_DIST_LINEAR && transform != DIF_DIST_LOG) ||
	    (transform == DIF_DIST_LOG && lower == 0))
		return -1.0;
	double mult = pow(10.0, scale);
	if (buckets == 1)
		return mult * upper;
	if (i == buckets - 1)
		return mult * upper;   /* exact, whatever pow() rounds to */
	switch (transform) {
	case DIF_DIST_LINEAR:
		/* i*(upper-lower) is exact in a double; one rounding only */
		return mult * (lower + (double)i * (upper - lower) / (buckets - 1));
	default:   /* DIF_DIST_LOG */
		if (i == 0)
			return mult * lower;
		return mult * lower *
		       pow((double)upper / lower, (double)i / (buckets - 1));
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static bool counts_sum_to(const uint64_t *c, uint32_t n, uint64_t want)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (c[i] > UINT64_MAX - s)
			return false;
		s += c[i];
	}
	return s == want;
}

bool dif_dist_valid(const struct dif_dist *d)
{
	switch (d->type) {
	case DIF_DIST_EXACT:
		return d->n == d->n_values && d->n_values <= DIF_DIST_MAX_VALUES &&
		       (d->n_values == 0 || d->values);
	case DIF_DIST_BINNED:
		return d->n_counts >= 1 && d->n_counts <= DIF_DIST_MAX_COUNTS - 1 &&
		       d->counts && d->lower <= d->upper &&
		       counts_sum_to(d->counts, d->n_counts, d->n);
	case DIF_DIST_LINEAR:
	case DIF_DIST_LOG:
		return d->n_counts >= 2 && d->n_counts <= DIF_DIST_MAX_COUNTS &&
		       d->counts && d->scale <= 9 &&
		       dif_dist_static_bound(d->type, d->scale, d->lower, d->upper,
					     d->n_counts - 1, 0) >= 0.0 &&
		       counts_sum_to(d->counts, d->n_counts, d->n);
	default:
		return false;
	}
}

/* Lower and upper ends of bin k of a binned distribution. */
static void bin_range(const struct dif_dist *d, uint32_t k, double *lo,
		      double *hi)
{
	if (d->type == DIF_DIST_BINNED) {
		*lo = dif_dist_edge(d->lower, d->upper, d->n_counts, k);
		*hi = dif_dist_edge(d->lower, d->upper, d->n_counts, k + 1);
		return;
	}
	unsigned buckets = d->n_counts - 1;
	double b0 = dif_dist_static_bound(d->type, d->scale, d->lower, d->upper,
					  buckets, 0);
	*hi = dif_dist_static_bound(d->type, d->scale, d->lower, d->upper,
				    buckets, k);
	if (k > 0) {
		*lo = dif_dist_static_bound(d->type, d->scale, d->lower,
					    d->upper, buckets, k - 1);
		return;
	}
	/* Bucket 0 has no stated low end: extend it by one step (doc §5.2). */
	double b1 = buckets > 1 ? dif_dist_static_bound(d->type, d->scale,
				d->lower, d->upper, buckets, 1) : b0;
	*lo = d->type == DIF_DIST_LOG ? b0 * b0 / b1 : b0 - (b1 - b0);
	if (*lo < 0.0)
		*lo = 0.0;
}

static int percentile_exact(const struct dif_dist *d, double p, double *out)
{
	uint32_t v[DIF_DIST_MAX_VALUES];
	memcpy(v, d->values, d->n_values * sizeof v[0]);
	qsort(v, d->n_values, sizeof v[0], cmp_u32);
	double h = p * (d->n_values - 1);
	size_t lo = (size_t)floor(h), hi = (size_t)ceil(h);
	*out = v[lo] + (h - lo) * ((double)v[hi] - v[lo]);
	return 0;
}

int dif_dist_percentile(const struct dif_dist *d, double p, double *out)
{
	if (!dif_dist_valid(d) || d->n == 0 || !(p >= 0.0 && p <= 1.0)) {
		errno = EINVAL;
		return -1;
	}
	if (d->type == DIF_DIST_EXACT)
		return percentile_exact(d, p, out);

	bool is_static = d->type != DIF_DIST_BINNED;
	uint32_t nbins = is_static ? d->n_counts - 1 : d->n_counts;
	double target = p * (double)d->n, before = 0.0;
	for (uint32_t k = 0; k < d->n_counts; k++) {
		double c = (double)d->counts[k];
		if (c == 0.0 || before + c < target) {
			before += c;
			continue;
		}
		if (k == nbins) {   /* overflow bucket: only a lower bound */
			*out = dif_dist_static_bound(d->type, d->scale, d->lower,
						     d->upper, nbins, nbins - 1);
			return 1;
		}
		double lo, hi, frac = (target - before) / c;
		bin_range(d, k, &lo, &hi);
		*out = lo + frac * (hi - lo);
		if (!is_static) {
			if (*out < d->lower)
				*out = d->lower;
			if (*out > d->upper)
				*out = d->upper;
		}
		return 0;
	}
	errno = EINVAL;   /* unreachable: the counts sum to n >= target */
	return -1;
}

/* ---- rendering ---- */

int dif_dist_format(const struct dif_dist *d, char *buf, size_t cap)
{
	struct sbuf b;
	if (!dif_dist_valid(d)) {
		errno = EINVAL;
		return -1;
	}
	sb_init(&b, buf, cap);
	sb_printf(&b, "%u:%" PRIu64, d->type, d->n);
	switch (d->type) {
	case DIF_DIST_EXACT:
		if (d->n_values)
			sb_printf(&b, ":");
		for (uint32_t i = 0; i < d->n_values; i++)
			sb_printf(&b, "%s%" PRIu32, i ? "," : "", d->values[i]);
		break;
	case DIF_DIST_BINNED:
		sb_printf(&b, ":%" PRIu32 ":%" PRIu32 ":", d->lower, d->upper);
		sb_u64_list(&b, d->counts, d->n_counts);
		break;
	default:
		sb_printf(&b, ":%u:%" PRIu32 ":%" PRIu32 ":", d->scale, d->lower,
			  d->upper);
		sb_u64_list(&b, d->counts, d->n_counts);
		break;
	}
	if (b.overflow) {
		errno = ENOSPC;
		return -1;
	}
	return (int)b.len;
}

static uint64_t be_uint(const uint8_t *p, unsigned w)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v = v << 8 | p[i];
	return v;
}

static void render_hex(struct sbuf *b, const uint8_t *p, unsigned w)
{
	for (unsigned i = 0; i < w; i++)
		sb_printf(b, "%s%02X", i ? "-" : "", p[i]);
}

/* Addresses by width: the rendering of the address type that width means. */
static int render_address(struct sbuf *b, const uint8_t *p, unsigned w)
{
	char t[INET6_ADDRSTRLEN];
	switch (w) {
	case 4:
		inet_ntop(AF_INET, p, t, sizeof t);
		sb_printf(b, "%s", t);
		return 0;
	case 16:
		inet_ntop(AF_INET6, p, t, sizeof t);  /* glibc: RFC 5952 form */
		sb_printf(b, "%s", t);
		return 0;
	case 6:
		render_hex(b, p, w);
		return 0;
	case 1:
	case 2:
		sb_printf(b, "%" PRIu64, be_uint(p, w));
		return 0;
	default:
		/* Other peer families (NSAP, IPX, ...): dotted bytes, NeMaC-like */
		if (w == 0)
			return -1;
		for (unsigned i = 0; i < w; i++)
			sb_printf(b, "%s%u", i ? "." : "", p[i]);
		return 0;
	}
}

static void render_string(struct sbuf *b, const uint8_t *p, unsigned w)
{
	if (w == 1 && p[0] == '-') {
		sb_printf(b, "%%2D");   /* "-" alone would read as "no value" */
		return;
	}
	for (unsigned i = 0; i < w; i++) {
		if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '%')
			sb_printf(b, "%c", p[i]);
		else
			sb_printf(b, "%%%02X", p[i]);
	}
}

static int render_value(struct sbuf *b, const struct dif_value *v)
{
	if (v->kind == DIF_V_NONE) {
		sb_printf(b, "-");
		return 0;
	}
	const struct attr_info *a = attr_by_num(v->attr);
	unsigned type = a ? a->type : ATTR_T_INT;
	if (type == ATTR_T_DIST || v->kind == DIF_V_DIST) {
		if (type != ATTR_T_DIST || v->kind != DIF_V_DIST || !v->dist)
			return -1;
		char tok[TOKEN_MAX];
		if (dif_dist_format(v->dist, tok, sizeof tok) < 0)
			return -1;
		sb_printf(b, "%s", tok);
		return 0;
	}
	if (v->kind != DIF_V_BYTES || v->width > DIF_VALUE_MAX)
		return -1;
	if (v->width == 0) {
		sb_printf(b, "-");
		return 0;
	}
	switch (type) {
	case ATTR_T_PEER:
	case ATTR_T_MASK:
		return render_address(b, v->bytes, v->width);
	case ATTR_T_ADJACENT:
		render_hex(b, v->bytes, v->width);
		return 0;
	case ATTR_T_STRING:
		render_string(b, v->bytes, v->width);
		return 0;
	default:   /* integers, ports, counters, times, variables */
		if (v->width > 8)
			return -1;
		sb_printf(b, "%" PRIu64, be_uint(v->bytes, v->width));
		return 0;
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool all_blank(const char *s)
{
	for (; *s; s++)
		if (!is_blank(*s))
			return false;
	return true;
}

/* The text written between two values for a run of separator items
 * items[from..to): blanks as they are, other separators between blanks so
 * a record stays a blank-separated token list (doc §4). */
static void render_separators(struct sbuf *b, const struct format_item *it,
			      size_t from, size_t to)
{
	size_t before = b->len;
	for (size_t i = from; i < to; i++) {
		const char *s = it[i].sep ? it[i].sep : "";
		if (all_blank(s))
			sb_printf(b, "%s", s);
		else
			sb_printf(b, " %s ", s);
	}
	if (b->len == before)
		sb_printf(b, " ");
}

/* Render a record line (with '\n') into b. */
static int render_record(struct sbuf *b, const struct dif_format *f,
			 const struct dif_record *r)
{
	size_t vi = 0, run = 0;   /* run: first separator since the last value */
	bool have_value = false;
	for (size_t i = 0; i < f->n; i++) {
		if (f->items[i].attr == 0)
			continue;
		if (vi >= r->n || r->v[vi].attr != f->items[i].attr)
			return -1;
		if (have_value)
			render_separators(b, f->items, run, i);
		if (render_value(b, &r->v[vi]) < 0)
			return -1;
		vi++;
		have_value = true;
		run = i + 1;
	}
	if (vi != r->n)
		return -1;
	sb_printf(b, "\n");
	return 0;
}

static int put(FILE *out, const char *s, size_t len)
{
	if (fwrite(s, 1, len, out) != len) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* Copy s into b with blanks (and control characters) turned into '_'. */
static void sb_token(struct sbuf *b, const char *s)
{
	if (!s || !*s) {
		sb_printf(b, "-");
		return;
	}
	for (; *s; s++)
		sb_printf(b, "%c", (unsigned char)*s <= ' ' ? '_' : *s);
}

/* The header in a malloc'ed buffer (its length is unbounded: options). */
static char *render_header(const struct dif_header *h, size_t *len)
{
	if (!h->format || dif_format_attrs(h->format) == 0) {
		errno = EINVAL;
		return NULL;
	}
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	if (!m)
		return NULL;
	char iso[DIF_ISO_LEN];
	dif_iso8601(h->start, iso);
	fprintf(m, "##%s %s", h->program ? h->program : DIF_PROGRAM,
		h->version && *h->version ? h->version : "0");
	if (h->options && *h->options) {
		fputc(' ', m);
		for (const char *s = h->options; *s; s++)
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, m);
	}
	char meter[256];
	struct sbuf b;
	sb_init(&b, meter, sizeof meter);
	sb_token(&b, h->meter);
	fprintf(m, " %s starting at %s %" PRId64 "\n#Format:", meter, iso,
		h->start);
	const struct dif_format *f = h->format;
	for (size_t i = 0; f && i < f->n; i++) {
		const struct format_item *it = &f->items[i];
		if (it->attr) {
			const struct attr_info *a = attr_by_num(it->attr);
			if (!a) {
				fclose(m);
				free(text);
				errno = EINVAL;
				return NULL;
			}
			fputc(' ', m);
			for (const char *s = a->name; *s; s++)
				fputc(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s, m);
		} else {
			const char *s = it->sep ? it->sep : "";
			if (strpbrk(s, "\"\n\r")) {
				fclose(m);
				free(text);
				errno = EINVAL;
				return NULL;
			}
			fprintf(m, " \"%s\"", s);
		}
	}
	fputc('\n', m);
	if (fclose(m) != 0) {
		free(text);
		return NULL;
	}
	*len = size;
	return text;
}

int dif_write_header(FILE *out, const struct dif_header *h)
{
	size_t len;
	char *text = render_header(h, &len);
	if (!text)
		return -1;
	int rc = put(out, text, len);
	free(text);
	return rc;
}

static void render_interval_start(struct sbuf *b, const struct dif_interval *iv)
{
	char s[DIF_ISO_LEN], e[DIF_ISO_LEN];
	dif_iso8601(iv->start, s);
	dif_iso8601(iv->end, e);
	sb_printf(b, "#Time: %s %" PRId64 " %s %" PRId64 " ", s, iv->start, e,
		  iv->end);
	sb_token(b, iv->meter);
	sb_printf(b, " Flows from %" PRIu32 " to %" PRIu32 "\n",
		  iv->from_uptime, iv->to_uptime);
}

int dif_write_interval_start(FILE *out, const struct dif_interval *iv)
{
	char line[512];
	struct sbuf b;
	sb_init(&b, line, sizeof line);
	render_interval_start(&b, iv);
	if (b.overflow) {
		errno = EINVAL;
		return -1;
	}
	return put(out, line, b.len);
}

/* A record's line: its values can be long (distributions), so build it in
 * a heap buffer big enough for any record. */
static char *record_line(const struct dif_format *f, const struct dif_record *r,
			 size_t *len)
{
	size_t cap = 64;
	for (size_t i = 0; i < f->n; i++)
		cap += f->items[i].attr ? TOKEN_MAX + 2
			: 3 + (f->items[i].sep ? strlen(f->items[i].sep) : 0);
	char *line = malloc(cap);
	if (!line)
		return NULL;
	struct sbuf b;
	sb_init(&b, line, cap);
	if (render_record(&b, f, r) < 0 || b.overflow) {
		free(line);
		errno = EINVAL;
		return NULL;
	}
	*len = b.len;
	return line;
}

int dif_write_record(FILE *out, const struct dif_format *f,
		     const struct dif_record *r)
{
	size_t len;
	char *line = record_line(f, r, &len);
	if (!line)
		return -1;
	int rc = put(out, line, len);
	free(line);
	return rc;
}

int dif_write_interval_end(FILE *out, size_t records)
{
	return fprintf(out, "#Enddata: %zu\n", records) < 0 ? -1 : 0;
}

/* ---- atomic append ---- */

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write `text` as the new file `path`: temporary file, then rename. */
static int create_atomically(const char *path, const char *text, size_t len)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof ".tmpXXXXXX");
	if (!tmp)
		return -1;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	mode_t um = umask(0);
	umask(um);
	int rc = fchmod(fd, 0666 & ~um);
	if (rc == 0)
		rc = write_all(fd, text, len);
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0)
		rc = rename(tmp, path);
	if (rc != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return rc;
}

int dif_append_interval(const char *path, const struct dif_header *h,
			const struct dif_interval *iv,
			const struct dif_record *recs, size_t n_recs)
{
	struct stat st;
	bool fresh;
	if (stat(path, &st) == 0)
		fresh = st.st_size == 0;
	else if (errno == ENOENT)
		fresh = true;
	else
		return -1;

	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	if (!m)
		return -1;
	int rc = 0;
	if (fresh && h)
		rc = dif_write_header(m, h);
	const struct dif_format *f = h ? h->format : NULL;
	if (rc == 0 && (!f || (n_recs && !recs))) {
		errno = EINVAL;
		rc = -1;
	}
	if (rc == 0)
		rc = dif_write_interval_start(m, iv);
	for (size_t i = 0; rc == 0 && i < n_recs; i++)
		rc = dif_write_record(m, f, &recs[i]);
	if (rc == 0)
		rc = dif_write_interval_end(m, n_recs);
	int e = errno;
	if (fclose(m) != 0 && rc == 0) {
		e = errno;
		rc = -1;
	}
	if (rc != 0) {
		free(text);
		errno = e;
		return -1;
	}

	if (fresh) {
		rc = create_atomically(path, text, size);
	} else {
		int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		rc = fd < 0 ? -1 : write_all(fd, text, size);
		if (fd >= 0 && close(fd) != 0)
			rc = -1;
	}
	e = errno;
	free(text);
	errno = e;
	return rc;
}
