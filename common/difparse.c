/* difparse.c — streaming .dif parser (see difparse.h). */
#include "difparse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"

#define ARENA_BLOCK (64 * 1024)
#define ERR_MAX 512

/* ---- per-interval arena: blocks never move, freed all at once ---- */

struct block {
	struct block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct block *head;
};

static void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct block *b = a->head;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Free everything but one block, which is kept for reuse. */
static void arena_reset(struct arena *a)
{
	struct block *b = a->head;
	if (!b)
		return;
	struct block *rest = b->next;
	b->next = NULL;
	b->used = 0;
	while (rest) {
		struct block *n = rest->next;
		free(rest);
		rest = n;
	}
}

static void arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
}

/* ---- parser state ---- */

struct difp {
	char *name;
	struct difp_ops ops;
	void *ctx;
	unsigned lineno;
	unsigned errors;
	int stop;                  /* a callback's non-zero return */

	char *buf;                 /* partial line carried between feeds */
	size_t len, cap;
	bool skipping;             /* inside an over-long line */

	struct arena hdr_arena;    /* header and format */
	bool have_header, is_ntm;
	struct difp_header header;
	bool have_format;
	struct difp_format format;

	struct arena iv_arena;     /* the open interval */
	bool open;
	struct difp_interval iv;
	struct dif_record *recs;
	size_t n_recs, cap_recs;
};

static void report(struct difp *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct difp *p, unsigned line, const char *fmt, ...)
{
	p->errors++;
	if (!p->ops.error)
		return;
	char msg[ERR_MAX];
	int n = snprintf(msg, sizeof msg, "%s:%u: ", p->name, line);
	if (n < 0 || (size_t)n >= sizeof msg)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	p->ops.error(p->ctx, msg);
}

struct difp *difp_new(const char *name, const struct difp_ops *ops, void *ctx)
{
	struct difp *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->name = strdup(name ? name : "-");
	if (!p->name) {
		free(p);
		return NULL;
	}
	if (ops)
		p->ops = *ops;
	p->ctx = ctx;
	return p;
}

void difp_free(struct difp *p)
{
	if (!p)
		return;
	arena_free(&p->hdr_arena);
	arena_free(&p->iv_arena);
	free(p->recs);
	free(p->buf);
	free(p->name);
	free(p);
}

unsigned difp_errors(const struct difp *p)
{
	return p->errors;
}

bool difp_bad_type6_upper(const struct difp_header *h)
{
	if (!h || strcasecmp(h->program, "NeTraMet") != 0)
		return false;
	const char *v = h->version;
	if (*v == 'v' || *v == 'V')
		v++;
	/* 5.1b4, 5.1b5, 5.1b6, possibly followed by punctuation ("5.1b5.") */
	return strncmp(v, "5.1b", 4) == 0 && v[4] >= '4' && v[4] <= '6' &&
	       !(v[5] >= '0' && v[5] <= '9');
}

/* ---- small lexical helpers ---- */

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Split s (modified in place) into blank-separated tokens. */
static size_t split(char *s, char **tok, size_t max)
{
	size_t n = 0;
	while (*s) {
		while (blank(*s))
			s++;
		if (!*s)
			break;
		if (n == max)
			return max + 1;   /* too many */
		tok[n++] = s;
		while (*s && !blank(*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

/* Strict unsigned decimal of exactly len bytes. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || len > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool parse_u64z(const char *s, uint64_t *out)
{
	return parse_u64(s, strlen(s), out);
}

/* ---- distribution tokens ---- */

/* Parse a ','-separated list of at most max numbers; returns the count or
 * -1.  An empty list is 0 numbers. */
static long parse_list(const char *s, size_t len, uint64_t *out, size_t max)
{
	size_t n = 0, i = 0;
	if (len == 0)
		return 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		if (n == max || !parse_u64(s + i, j - i, &out[n]))
			return -1;
		n++;
		i = j + 1;
	}
	return (long)n;
}

int difp_parse_dist(const char *tok, size_t len, struct dif_dist *d,
		    uint32_t *values, uint64_t *counts, const char **why)
{
	const char *f[6];
	size_t fl[6], nf = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || tok[i] == ':') {
			if (nf == 6) {
				*why = "too many ':' fields in a distribution";
				return -1;
			}
			f[nf] = tok + start;
			fl[nf++] = i - start;
			start = i + 1;
		}
	}
	memset(d, 0, sizeof *d);
	uint64_t type, n, x;
	if (nf < 2 || !parse_u64(f[0], fl[0], &type) || !parse_u64(f[1], fl[1], &n)) {
		*why = "distribution must start with <type>:<n>";
		return -1;
	}
	d->type = (uint8_t)(type <= 255 ? type : 0);
	d->n = n;
	long k;
	switch (type) {
	case DIF_DIST_EXACT:
		if (nf > 3) {
			*why = "type 5 is 5:<n>:<values>";
			return -1;
		}
		k = nf == 3 ? parse_list(f[2], fl[2], counts, DIF_DIST_MAX_VALUES) : 0;
		if (k < 0) {
			*why = "bad type-5 value list (at most 255 numbers)";
			return -1;
		}
		for (long i = 0; i < k; i++) {
			if (counts[i] > UINT32_MAX) {
				*why = "type-5 value above 4294967295 µs";
				return -1;
			}
			values[i] = (uint32_t)counts[i];
		}
		d->n_values = (uint32_t)k;
		d->values = values;
		break;
	case DIF_DIST_BINNED:
	case DIF_DIST_LINEAR:
	case DIF_DIST_LOG: {
		size_t base = type == DIF_DIST_BINNED ? 2 : 3;
		if (nf != base + 3) {
			*why = type == DIF_DIST_BINNED
			       ? "type 6 is 6:<n>:<lower>:<upper>:<counts>"
			       : "types 1/2 are <t>:<n>:<scale>:<lower>:<upper>:<counts>";
			return -1;
		}
		if (base == 3) {
			if (!parse_u64(f[2], fl[2], &x) || x > 9) {
				*why = "scale must be 0..9";
				return -1;
			}
			d->scale = (uint8_t)x;
		}
		if (!parse_u64(f[base], fl[base], &x) || x > UINT32_MAX) {
			*why = "bad lower limit";
			return -1;
		}
		d->lower = (uint32_t)x;
		if (!parse_u64(f[base + 1], fl[base + 1], &x) || x > UINT32_MAX) {
			*why = "bad upper limit";
			return -1;
		}
		d->upper = (uint32_t)x;
		k = parse_list(f[base + 2], fl[base + 2], counts, DIF_DIST_MAX_COUNTS);
		if (k < 0) {
			*why = "bad count list (at most 256 numbers)";
			return -1;
		}
		d->n_counts = (uint32_t)k;
		d->counts = counts;
		break;
	}
	default:
		*why = "unknown distribution type (ntm writes 1, 2, 5, 6)";
		return -1;
	}
	if (!dif_dist_valid(d)) {
		*why = "inconsistent distribution (counts must sum to n, lower <= upper)";
		return -1;
	}
	return 0;
}

/* ---- values ---- */

static int parse_hex_bytes(const char *s, uint8_t *out, unsigned max)
{
	unsigned n = 0;
	while (*s) {
		unsigned v = 0, digits = 0;
		for (; *s && *s != '-' && *s != ':'; s++, digits++) {
			char c = *s;
			unsigned h = c >= '0' && c <= '9' ? (unsigned)(c - '0')
				   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
				   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99;
			if (h > 15 || digits >= 2)
				return -1;
			v = v << 4 | h;
		}
		if (digits == 0 || n == max)
			return -1;
		out[n++] = (uint8_t)v;
		if (*s && !*++s)
			return -1;   /* trailing separator */
	}
	return (int)n;
}

static int parse_dotted(const char *s, uint8_t *out, unsigned max)
{
	unsigned n = 0;
	while (*s) {
		const char *e = s;
		while (*e && *e != '.')
			e++;
		uint64_t v;
		if (n == max || !parse_u64(s, (size_t)(e - s), &v) || v > 255)
			return -1;
		out[n++] = (uint8_t)v;
		s = *e ? e + 1 : e;
		if (*e && !*s)
			return -1;
	}
	return (int)n;
}

/* Address-like values: IPv6 text, dotted bytes, hyphenated hex, or a
 * 2-byte decimal (port masks). */
static int parse_address(const char *s, struct dif_value *v)
{
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, v->bytes) != 1)
			return -1;
		v->width = 16;
		return 0;
	}
	int n;
	if (strchr(s, '.'))
		n = parse_dotted(s, v->bytes, DIF_VALUE_MAX);
	else if (strchr(s, '-'))
		n = parse_hex_bytes(s, v->bytes, DIF_VALUE_MAX);
	else {
		uint64_t x;
		if (!parse_u64z(s, &x) || x > 0xffff)
			return -1;
		v->bytes[0] = (uint8_t)(x >> 8);
		v->bytes[1] = (uint8_t)x;
		n = 2;
	}
	if (n <= 0)
		return -1;
	v->width = (uint8_t)n;
	return 0;
}

static int parse_string(const char *s, struct dif_value *v)
{
	unsigned n = 0;
	for (; *s; s++) {
		unsigned c = (unsigned char)*s;
		if (c == '%') {
			uint8_t b;
			char hex[3] = { s[1], s[2], 0 };
			if (!s[1] || !s[2] || parse_hex_bytes(hex, &b, 1) != 1)
				return -1;
			c = b;
			s += 2;
		}
		if (n == DIF_VALUE_MAX)
			return -1;
		v->bytes[n++] = (uint8_t)c;
	}
	v->width = (uint8_t)n;
	return 0;
}

static int parse_uint_value(const char *s, unsigned width, struct dif_value *v)
{
	uint64_t x;
	if (width == 0 || width > 8 || !parse_u64z(s, &x))
		return -1;
	if (width < 8 && x >> (8 * width))
		return -1;
	for (unsigned i = 0; i < width; i++)
		v->bytes[i] = (uint8_t)(x >> (8 * (width - 1 - i)));
	v->width = (uint8_t)width;
	return 0;
}

/* One field.  Returns 0, or -1 with *why. */
static int parse_value(struct difp *p, uint16_t attr, char *tok,
		       struct dif_value *v, const char **why)
{
	memset(v, 0, sizeof *v);
	v->attr = attr;
	v->text = tok;
	if (strcmp(tok, "-") == 0) {
		v->kind = DIF_V_NONE;
		return 0;
	}
	const struct attr_info *a = attr ? attr_by_num(attr) : NULL;
	if (!a) {
		v->kind = DIF_V_TEXT;
		return 0;
	}
	int rc;
	*why = NULL;
	v->kind = DIF_V_BYTES;
	switch (a->type) {
	case ATTR_T_DIST: {
		struct dif_dist *d = arena_alloc(&p->iv_arena, sizeof *d);
		uint32_t vals[DIF_DIST_MAX_VALUES];
		uint64_t cnts[DIF_DIST_MAX_COUNTS];
		if (!d)
			return -2;
		rc = difp_parse_dist(tok, strlen(tok), d, vals, cnts, why);
		if (rc == 0) {
			uint32_t *pv = d->n_values ? arena_alloc(&p->iv_arena,
					d->n_values * sizeof *pv) : NULL;
			uint64_t *pc = d->n_counts ? arena_alloc(&p->iv_arena,
					d->n_counts * sizeof *pc) : NULL;
			if ((d->n_values && !pv) || (d->n_counts && !pc))
				return -2;
			if (pv)
				memcpy(pv, vals, d->n_values * sizeof *pv);
			if (pc)
				memcpy(pc, cnts, d->n_counts * sizeof *pc);
			d->values = pv;
			d->counts = pc;
			v->kind = DIF_V_DIST;
			v->dist = d;
		}
		break;
	}
	case ATTR_T_PEER:
	case ATTR_T_MASK:
		rc = parse_address(tok, v);
		break;
	case ATTR_T_ADJACENT:
		rc = parse_hex_bytes(tok, v->bytes, DIF_VALUE_MAX);
		if (rc > 0) {
			v->width = (uint8_t)rc;
			rc = 0;
		} else {
			rc = -1;
		}
		break;
	case ATTR_T_STRING:
		rc = parse_string(tok, v);
		break;
	default:
		rc = parse_uint_value(tok, a->width, v);
		if (rc < 0)
			*why = "not an unsigned decimal that fits the attribute";
		break;
	}
	if (rc == -1 && !p->is_ntm) {
		/* NeTraMet-era renderings are not all documented: keep the text */
		memset(v->bytes, 0, sizeof v->bytes);
		v->width = 0;
		v->kind = DIF_V_TEXT;
		v->dist = NULL;
		return 0;
	}
	if (rc == -1 && !*why)
		*why = "value does not parse";
	return rc;
}

/* ---- intervals ---- */

static void interval_discard(struct difp *p)
{
	p->open = false;
	p->n_recs = 0;
	arena_reset(&p->iv_arena);
}

static void deliver(struct difp *p)
{
	p->iv.n_records = p->n_recs;
	p->iv.records = p->recs;
	p->iv.header = p->have_header ? &p->header : NULL;
	p->iv.format = p->have_format ? &p->format : NULL;
	if (p->ops.interval && !p->stop)
		p->stop = p->ops.interval(p->ctx, &p->iv);
	interval_discard(p);
}

/* An interval ends without #Enddata (next #Time, header, end of file). */
static void interval_cut(struct difp *p, const char *where)
{
	if (!p->open)
		return;
	if (!p->is_ntm) {
		deliver(p);   /* NeTraMet-era files have no end marker */
		return;
	}
	report(p, p->iv.line, "incomplete interval: no #Enddata before %s; "
	       "interval not used", where);
	interval_discard(p);
}

static void interval_open(struct difp *p, char *text)
{
	memset(&p->iv, 0, sizeof p->iv);
	p->open = true;
	p->iv.line = p->lineno;
	p->iv.meter = "";
	char *keep = arena_strndup(&p->iv_arena, text, strlen(text));
	char *work = arena_strndup(&p->iv_arena, text, strlen(text));
	if (!keep || !work) {
		p->iv.time_text = "";
		return;
	}
	p->iv.time_text = keep;
	char *tok[64];
	size_t n = split(work, tok, 64);
	if (n > 64)
		n = 0;
	/* "... Flows from T1 to T2" at the end */
	size_t pre = n;
	uint64_t t1, t2;
	if (n >= 5 && strcasecmp(tok[n - 5], "Flows") == 0 &&
	    strcasecmp(tok[n - 4], "from") == 0 &&
	    strcasecmp(tok[n - 2], "to") == 0 &&
	    parse_u64z(tok[n - 3], &t1) && parse_u64z(tok[n - 1], &t2) &&
	    t1 <= UINT32_MAX && t2 <= UINT32_MAX) {
		p->iv.has_uptime = true;
		p->iv.from_uptime = (uint32_t)t1;
		p->iv.to_uptime = (uint32_t)t2;
		pre = n - 5;
	}
	int64_t s, e;
	uint64_t se, ee;
	if (pre == 5 && dif_parse_iso8601(tok[0], strlen(tok[0]), &s) == 0 &&
	    dif_parse_iso8601(tok[2], strlen(tok[2]), &e) == 0 &&
	    parse_u64z(tok[1], &se) && parse_u64z(tok[3], &ee) &&
	    (int64_t)se == s && (int64_t)ee == e) {
		p->iv.has_epoch = true;
		p->iv.start = s;
		p->iv.end = e;
		p->iv.meter = tok[4];
	} else if (pre >= 1 && !p->is_ntm) {
		p->iv.meter = tok[pre - 1];   /* old form: "<time text> <meter>" */
	}
	if (p->is_ntm && (!p->iv.has_epoch || !p->iv.has_uptime))
		report(p, p->lineno, "bad #Time: record (want '#Time: <ISO> <epoch> "
		       "<ISO> <epoch> <meter> Flows from <T1> to <T2>')");
}

static void interval_end(struct difp *p, char *text)
{
	if (!p->open) {
		report(p, p->lineno, "#Enddata without an open interval (#Time:)");
		return;
	}
	char *tok[4];
	size_t n = split(text, tok, 4);
	uint64_t want;
	size_t seen = p->n_recs + p->iv.bad_records;
	if (n >= 1 && parse_u64z(tok[0], &want) && want != seen) {
		report(p, p->lineno, "#Enddata says %s records, the interval has %zu; "
		       "interval not used", tok[0], seen);
		interval_discard(p);
		return;
	}
	deliver(p);
}

/* ---- records ---- */

static void record(struct difp *p, char *line)
{
	if (!p->have_format) {
		report(p, p->lineno, "flow record before any #Format: record");
		return;
	}
	if (!p->open) {
		report(p, p->lineno, "flow record outside an interval (no #Time:)");
		return;
	}
	const struct difp_format *f = &p->format;
	char *copy = arena_strndup(&p->iv_arena, line, strlen(line));
	struct dif_value *vals = arena_alloc(&p->iv_arena,
			(f->n_attrs ? f->n_attrs : 1) * sizeof *vals);
	size_t max_tok = strlen(line) / 2 + 2;
	char **tok = malloc(max_tok * sizeof *tok);
	if (!copy || !vals || !tok) {
		free(tok);
		p->stop = p->stop ? p->stop : -1;
		errno = ENOMEM;
		return;
	}
	size_t nt = split(copy, tok, max_tok), t = 0, vi = 0;
	const char *why = NULL;
	for (size_t i = 0; i < f->n && !why; i++) {
		const struct difp_column *c = &f->cols[i];
		if (c->is_sep) {
			if (!c->inner)
				continue;
			/* the separator's words stand between the values */
			char words[256];
			snprintf(words, sizeof words, "%s", c->name);
			char *w[32];
			size_t nw = split(words, w, 32);
			for (size_t k = 0; k < nw && k < 32 && !why; k++) {
				if (t < nt && strcmp(tok[t], w[k]) == 0)
					t++;
				else
					why = "separator of the #Format missing";
			}
			continue;
		}
		if (t >= nt) {
			report(p, p->lineno, "record has %zu fields, #Format has %zu",
			       vi, f->n_attrs);
			p->iv.bad_records++;
			free(tok);
			return;
		}
		int rc = parse_value(p, c->attr, tok[t], &vals[vi], &why);
		if (rc == -2) {
			free(tok);
			p->stop = p->stop ? p->stop : -1;
			errno = ENOMEM;
			return;
		}
		if (rc < 0) {
			report(p, p->lineno, "field %zu (%s) '%s': %s", vi + 1,
			       c->name, tok[t], why);
			p->iv.bad_records++;
			free(tok);
			return;
		}
		why = NULL;
		t++;
		vi++;
	}
	free(tok);
	if (!why && t < nt)
		why = "more fields than the #Format has";
	if (why) {
		report(p, p->lineno, "%s", why);
		p->iv.bad_records++;
		return;
	}
	if (p->n_recs == p->cap_recs) {
		size_t cap = p->cap_recs ? 2 * p->cap_recs : 64;
		struct dif_record *r = realloc(p->recs, cap * sizeof *r);
		if (!r) {
			p->stop = p->stop ? p->stop : -1;
			errno = ENOMEM;
			return;
		}
		p->recs = r;
		p->cap_recs = cap;
	}
	p->recs[p->n_recs].n = vi;
	p->recs[p->n_recs].v = vals;
	p->n_recs++;
}

/* ---- header and format ---- */

static void header(struct difp *p, char *line)
{
	interval_cut(p, "a new ## header");
	p->have_format = false;   /* a new file: its #Format follows */
	arena_reset(&p->hdr_arena);
	struct arena *a = &p->hdr_arena;
	struct difp_header *h = &p->header;
	memset(h, 0, sizeof *h);
	h->line = p->lineno;
	h->program = h->version = h->options = h->meter = h->start_text = "";

	char *s = line + 2;
	char *at = NULL;
	for (char *q = strstr(s, "starting at"); q; q = strstr(q + 1, "starting at"))
		at = q;
	char *left = arena_strndup(a, s, at ? (size_t)(at - s) : strlen(s));
	if (!left) {
		p->stop = -1;
		return;
	}
	if (at) {
		char *t = at + strlen("starting at");
		while (blank(*t))
			t++;
		char *st = arena_strndup(a, t, strlen(t));
		h->start_text = st ? st : "";
		char *tok[4], *work = arena_strndup(a, t, strlen(t));
		size_t n = work ? split(work, tok, 4) : 0;
		if (n >= 1 && n <= 4 &&
		    dif_parse_iso8601(tok[0], strlen(tok[0]), &h->start) == 0)
			h->has_start = true;
	}
	/* program, version, options..., [meter] */
	char *q = left;
	while (blank(*q))
		q++;
	char *e = q;
	while (*e && !blank(*e))
		e++;
	h->program = arena_strndup(a, q, (size_t)(e - q));
	q = e;
	while (blank(*q))
		q++;
	e = q;
	while (*e && !blank(*e))
		e++;
	h->version = arena_strndup(a, q, (size_t)(e - q));
	q = e;
	while (blank(*q))
		q++;
	size_t rest = strlen(q);
	while (rest && blank(q[rest - 1]))
		rest--;
	if (!h->program || !h->version) {
		p->stop = -1;
		return;
	}
	p->is_ntm = strcmp(h->program, DIF_PROGRAM) == 0;
	if (p->is_ntm && at) {
		/* the meter is the last token before "starting at" */
		size_t m = rest;
		while (m && !blank(q[m - 1]))
			m--;
		h->meter = arena_strndup(a, q + m, rest - m);
		while (m && blank(q[m - 1]))
			m--;
		rest = m;
	}
	h->options = arena_strndup(a, q, rest);
	if (!h->meter || !h->options) {
		p->stop = -1;
		return;
	}
	if (!*h->program)
		report(p, p->lineno, "## header without a program name");
	if (p->is_ntm && (!at || !h->has_start))
		report(p, p->lineno, "## header: want '... <meter> starting at "
		       "<ISO 8601> <epoch>'");
	p->have_header = true;
	if (p->ops.header && !p->stop)
		p->stop = p->ops.header(p->ctx, h);
}

static void format(struct difp *p, char *text)
{
	interval_cut(p, "a new #Format:");
	struct arena *a = &p->hdr_arena;
	size_t cap = strlen(text) / 2 + 1;
	struct difp_column *cols = arena_alloc(a, cap * sizeof *cols);
	if (!cols) {
		p->stop = -1;
		return;
	}
	size_t n = 0, n_attrs = 0;
	char *s = text;
	while (*s) {
		while (blank(*s))
			s++;
		if (!*s)
			break;
		struct difp_column *c = &cols[n];
		memset(c, 0, sizeof *c);
		if (*s == '"') {
			char *e = strchr(s + 1, '"');
			if (!e) {
				report(p, p->lineno, "#Format: unterminated \"separator\"");
				break;
			}
			c->is_sep = true;
			c->name = arena_strndup(a, s + 1, (size_t)(e - s - 1));
			s = e + 1;
		} else {
			char *e = s;
			while (*e && !blank(*e))
				e++;
			size_t len = (size_t)(e - s);
			if (len && s[len - 1] == ';')   /* copied FORMAT statement */
				len--;
			if (len == 0) {
				s = e;
				continue;
			}
			const struct attr_info *ai = attr_by_name(s, len);
			c->attr = ai ? ai->num : 0;
			c->name = arena_strndup(a, s, len);
			n_attrs++;
			s = e;
		}
		if (!c->name) {
			p->stop = -1;
			return;
		}
		n++;
	}
	/* separators between two attributes appear in records (doc §4) */
	size_t seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (!cols[i].is_sep)
			seen++;
		else
			cols[i].inner = seen > 0 && seen < n_attrs;
	}
	p->format.n = n;
	p->format.cols = cols;
	p->format.n_attrs = n_attrs;
	p->format.line = p->lineno;
	p->have_format = true;
	if (n_attrs == 0)
		report(p, p->lineno, "#Format: lists no attributes");
	if (p->ops.format && !p->stop)
		p->stop = p->ops.format(p->ctx, &p->format);
}

/* ---- lines ---- */

/* Does the record type (after '#') equal name, followed by ':', blank or
 * the end? */
static char *rec_is(char *line, const char *name)
{
	size_t n = strlen(name);
	if (strncasecmp(line + 1, name, n) != 0)
		return NULL;
	char *r = line + 1 + n;
	if (*r == ':')
		return r + 1;
	if (*r == '\0' || blank(*r))
		return r;
	return NULL;
}

static void parse_line(struct difp *p, char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (memchr(line, '\0', len)) {
		report(p, p->lineno, "NUL byte in line");
		if (p->open)
			p->iv.bad_records++;
		return;
	}
	char *s = line;
	while (blank(*s))
		s++;
	if (!*s)
		return;
	char *rest;
	if (s[0] == '#' && s[1] == '#')
		header(p, s);
	else if (s[0] != '#')
		record(p, s);
	else if ((rest = rec_is(s, "Format")))
		format(p, rest);
	else if ((rest = rec_is(s, "Time"))) {
		interval_cut(p, "the next #Time:");
		while (blank(*rest))
			rest++;
		interval_open(p, rest);
	} else if ((rest = rec_is(s, "Enddata")))
		interval_end(p, rest);
	/* other # records: ignored (doc §1) */
}

int difp_feed(struct difp *p, const char *data, size_t len)
{
	while (len && !p->stop) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		if (p->skipping) {
			if (nl)
				p->skipping = false;
		} else if (p->len + take >= DIFP_LINE_MAX) {
			report(p, p->lineno + 1, "line longer than %u bytes",
			       DIFP_LINE_MAX);
			if (p->open)
				p->iv.bad_records++;
			p->len = 0;
			p->skipping = !nl;
		} else {
			if (p->len + take + 1 > p->cap) {
				size_t cap = p->cap ? p->cap : 256;
				while (cap < p->len + take + 1)
					cap *= 2;
				char *b = realloc(p->buf, cap);
				if (!b) {
					errno = ENOMEM;
					return -1;
				}
				p->buf = b;
				p->cap = cap;
			}
			memcpy(p->buf + p->len, data, take);
			p->len += take;
		}
		if (nl) {
			p->lineno++;
			if (p->buf) {
				p->buf[p->len] = '\0';
				parse_line(p, p->buf, p->len);
			}
			p->len = 0;
			take++;
		}
		data += take;
		len -= take;
	}
	return p->stop;
}

int difp_finish(struct difp *p)
{
	if (p->stop)
		return p->stop;
	if (p->len && p->buf) {
		p->lineno++;
		p->buf[p->len] = '\0';
		parse_line(p, p->buf, p->len);
		p->len = 0;
	}
	if (!p->stop)
		interval_cut(p, "the end of the file");
	return p->stop;
}

int difp_parse_file(const char *path, const struct difp_ops *ops, void *ctx)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	struct difp *p = difp_new(path, ops, ctx);
	if (!p) {
		fclose(f);
		errno = ENOMEM;
		return -1;
	}
	char chunk[65536];
	size_t n;
	int rc = 0;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = difp_feed(p, chunk, n);
	int bad = ferror(f);
	if (!rc)
		rc = difp_finish(p);
	fclose(f);
	int errors = (int)difp_errors(p);
	difp_free(p);
	if (bad || rc < 0) {
		errno = bad ? EIO : ENOMEM;
		return -1;
	}
	return errors;
}
