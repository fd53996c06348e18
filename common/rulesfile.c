/*
 * rulesfile.c — NeMaC rules files: reader, canonical writer, listing
 * (see rulesfile.h for the accepted text).
 *
 * The reader is a hand-written scanner over the whole buffer: values need
 * their own tokenisation (IPv6 text holds the ':' that ends a value), and
 * every error is recorded at its line:column before the scanner resumes at
 * the next statement, so one run reports all mistakes.
 */
#include "rulesfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attr.h"
#include "fileio.h"
#include "value.h"

#define PARAM_MAX   65535u       /* MIB flowRuleParameter is 1..65535 */
#define SET_MAX     2147483647u  /* MIB flowRuleInfoIndex */
#define TEXT_MAX    128          /* formatted mask/value text */
#define FILE_MAX    (64u << 20)  /* a rules file larger than this is a mistake */

/* ---- symbolic values ---- */

struct symbol {
	const char *name;
	uint8_t value;
};

static const struct symbol peer_types[] = {   /* Address Family Numbers */
	{ "IP", 1 }, { "IPv4", 1 }, { "IPv6", 2 }, { NULL, 0 }
};

static const struct symbol trans_types[] = {  /* IP protocol numbers */
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmpv6", 58 }, { NULL, 0 }
};

static const struct symbol *symbols_for(unsigned attr)
{
	switch (attr) {
	case ATTR_SOURCE_PEER_TYPE:
	case ATTR_DEST_PEER_TYPE:
		return peer_types;
	case ATTR_SOURCE_TRANS_TYPE:
	case ATTR_DEST_TRANS_TYPE:
		return trans_types;
	default:
		return NULL;
	}
}

static const struct symbol *symbol_lookup(unsigned attr, const char *s, size_t len)
{
	const struct symbol *t = symbols_for(attr);
	for (; t && t->name; t++)
		if (strlen(t->name) == len && strncasecmp(t->name, s, len) == 0)
			return t;
	return NULL;
}

/* ---- scanner state ---- */

struct label_def {
	char *name;
	size_t rule;                /* 1-based number of the rule it names */
	unsigned line, col;
};

struct label_ref {
	char *name;
	size_t rule;                /* 0-based index of the rule using it */
	unsigned line, col;
};

struct reader {
	const char *s;
	size_t len, pos;
	struct diag *d;
	struct ruleset *rs;
	/* position cache for line:col (positions mostly grow) */
	size_t at_pos, at_line_start;
	unsigned at_line;
	struct label_def *defs;
	size_t n_defs, cap_defs;
	struct label_ref *refs;
	size_t n_refs, cap_refs;
	size_t pending;             /* labels defined since the last rule */
	bool have_set, have_format, oom;
};

static void where(struct reader *r, size_t pos, unsigned *line, unsigned *col)
{
	if (pos < r->at_pos) {
		r->at_pos = 0;
		r->at_line = 1;
		r->at_line_start = 0;
	}
	for (size_t i = r->at_pos; i < pos && i < r->len; i++)
		if (r->s[i] == '\n') {
			r->at_line++;
			r->at_line_start = i + 1;
		}
	r->at_pos = pos;
	*line = r->at_line;
	*col = (unsigned)(pos - r->at_line_start + 1);
}

static void error_at(struct reader *r, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error_at(struct reader *r, size_t pos, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	unsigned line, col;
	where(r, pos, &line, &col);
	diag_error(r->d, line, col, "%s", msg);
}

static int peek(const struct reader *r)
{
	return r->pos < r->len ? (unsigned char)r->s[r->pos] : -1;
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool is_ident_start(int c)
{
	return c >= 0 && (isalpha(c) || c == '_');
}

static bool is_ident_char(int c)
{
	return c >= 0 && (isalnum(c) || c == '_');
}

/* Skip blanks and # comments. */
static void skip_blank(struct reader *r)
{
	for (;;) {
		int c = peek(r);
		if (is_blank(c)) {
			r->pos++;
		} else if (c == '#') {
			while (r->pos < r->len && r->s[r->pos] != '\n')
				r->pos++;
		} else {
			return;
		}
	}
}

/* After an error: resume after the next ';' or at the next line. */
static void recover(struct reader *r)
{
	while (r->pos < r->len) {
		char c = r->s[r->pos++];
		if (c == ';' || c == '\n')
			return;
	}
}

static size_t read_ident(struct reader *r)
{
	size_t start = r->pos;
	while (is_ident_char(peek(r)))
		r->pos++;
	return r->pos - start;
}

static bool word_is(const char *w, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/* A decimal number of at most `max`; returns false (error reported) if
 * there are no digits or it is too big. */
static bool read_uint(struct reader *r, uint32_t max, const char *what,
		      uint32_t *out)
{
	size_t start = r->pos;
	uint64_t v = 0;
	bool big = false;
	while (peek(r) >= '0' && peek(r) <= '9') {
		v = v * 10 + (uint64_t)(peek(r) - '0');
		if (v > max)
			big = true, v = max;
		r->pos++;
	}
	if (r->pos == start) {
		error_at(r, start, "expected a number for %s", what);
		return false;
	}
	if (big || is_ident_char(peek(r))) {
		while (is_ident_char(peek(r)))
			r->pos++;
		error_at(r, start, "%s '%.*s' is not a number in 0..%u", what,
			 (int)(r->pos - start > 24 ? 24 : r->pos - start),
			 r->s + start, max);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static void optional_semicolon(struct reader *r)
{
	size_t save = r->pos;
	skip_blank(r);
	if (peek(r) == ';')
		r->pos++;
	else
		r->pos = save;
}

/* ---- labels ---- */

static char *dup_span(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static struct label_def *find_label(struct reader *r, const char *s, size_t n)
{
	for (size_t i = 0; i < r->n_defs; i++)
		if (strlen(r->defs[i].name) == n &&
		    strncasecmp(r->defs[i].name, s, n) == 0)
			return &r->defs[i];
	return NULL;
}

static bool grow(void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, n * size);
	if (!p)
		return false;
	*arr = p;
	*cap = n;
	return true;
}

static void define_label(struct reader *r, size_t start, size_t n)
{
	if (word_is(r->s + start, n, "next")) {
		error_at(r, start, "'Next' is a parameter, not a label name");
		return;
	}
	struct label_def *old = find_label(r, r->s + start, n);
	if (old) {
		error_at(r, start, "label '%.*s' already defined at line %u",
			 (int)n, r->s + start, old->line);
		return;
	}
	char *name = dup_span(r->s + start, n);
	if (!name || !grow((void **)&r->defs, &r->cap_defs, r->n_defs + 1,
			   sizeof *r->defs)) {
		free(name);
		r->oom = true;
		return;
	}
	struct label_def *def = &r->defs[r->n_defs++];
	def->name = name;
	def->rule = r->rs->n_rules + 1;
	where(r, start, &def->line, &def->col);
	r->pending++;
}

static void add_ref(struct reader *r, size_t start, size_t n)
{
	char *name = dup_span(r->s + start, n);
	if (!name || !grow((void **)&r->refs, &r->cap_refs, r->n_refs + 1,
			   sizeof *r->refs)) {
		free(name);
		r->oom = true;
		return;
	}
	struct label_ref *ref = &r->refs[r->n_refs++];
	ref->name = name;
	ref->rule = r->rs->n_rules;
	where(r, start, &ref->line, &ref->col);
}

static void resolve_labels(struct reader *r)
{
	for (size_t i = 0; i < r->n_defs; i++)
		if (r->defs[i].rule > r->rs->n_rules)
			diag_error(r->d, r->defs[i].line, r->defs[i].col,
				   "label '%s' is not followed by a rule",
				   r->defs[i].name);
	for (size_t i = 0; i < r->n_refs; i++) {
		struct label_ref *ref = &r->refs[i];
		struct label_def *def = find_label(r, ref->name, strlen(ref->name));
		if (!def)
			diag_error(r->d, ref->line, ref->col,
				   "undefined label '%s'", ref->name);
		else if (ref->rule < r->rs->n_rules)
			r->rs->rules[ref->rule].param = (uint32_t)def->rule;
	}
}

/* ---- rules ---- */

struct span {
	size_t pos, len;
};

/* A mask: everything up to a blank, '=', ';' or '#'. */
static struct span read_mask(struct reader *r)
{
	struct span sp = { r->pos, 0 };
	int c;
	while ((c = peek(r)) >= 0 && !is_blank(c) && c != '=' && c != ';' &&
	       c != '#')
		r->pos++;
	sp.len = r->pos - sp.pos;
	return sp;
}

/* A character constant 'x' or '\x'. */
static bool read_char_const(struct reader *r, struct span *sp)
{
	sp->pos = r->pos++;
	if (peek(r) == '\\')
		r->pos++;
	if (r->pos < r->len)
		r->pos++;
	if (peek(r) != '\'') {
		error_at(r, sp->pos, "unterminated character constant");
		return false;
	}
	r->pos++;
	sp->len = r->pos - sp->pos;
	return true;
}

/* Is the next non-blank character a ':'?  ("2001:db8:: : Count") */
static bool colon_follows(struct reader *r)
{
	size_t save = r->pos;
	skip_blank(r);
	bool yes = peek(r) == ':';
	r->pos = save;
	return yes;
}

/*
 * A value and the ':' after it.  IPv6 values contain ':', so the value is
 * the whole run of non-blank text; a trailing ':' or a ':' followed by an
 * action name inside the run is the separator.
 */
static bool read_value(struct reader *r, struct span *sp)
{
	if (peek(r) == '\'') {
		if (!read_char_const(r, sp))
			return false;
	} else {
		sp->pos = r->pos;
		int c;
		while ((c = peek(r)) >= 0 && !is_blank(c) && c != ',' &&
		       c != ';' && c != '#')
			r->pos++;
		sp->len = r->pos - sp->pos;
		const char *t = r->s + sp->pos;
		const char *colon = memrchr(t, ':', sp->len);
		if (colon) {
			size_t after = sp->len - (size_t)(colon - t) - 1;
			bool split = after ? rule_op_by_name(colon + 1, after) != 0
					   : !colon_follows(r);
			if (split) {
				sp->len = (size_t)(colon - t);
				r->pos = sp->pos + sp->len + 1;
				if (sp->len == 0) {
					error_at(r, sp->pos, "missing value before ':'");
					return false;
				}
				return true;
			}
		}
		if (sp->len == 0) {
			error_at(r, sp->pos, "missing value after '='");
			return false;
		}
	}
	skip_blank(r);
	if (peek(r) != ':') {
		error_at(r, r->pos, "expected ':' after the value");
		return false;
	}
	r->pos++;
	return true;
}

/*
 * Mask or value text of a rule on attribute `a` to bytes, as rules files
 * mean it: symbolic type values, and for an Assign value an attribute name
 * or number stored in 2 bytes.  Shared by the reader and the writer's
 * self-check so the two cannot disagree.
 */
static int field_bytes(const struct attr_info *a, bool assign_value,
		       const char *t, size_t len, uint8_t out[RULE_ADDR_MAX],
		       uint8_t *w, char *err, size_t errlen)
{
	if (assign_value && len && is_ident_start((unsigned char)t[0])) {
		const struct attr_info *n = attr_by_name(t, len);
		if (n) {
			memset(out, 0, RULE_ADDR_MAX);
			out[0] = (uint8_t)(n->num >> 8);
			out[1] = (uint8_t)n->num;
			*w = 2;
			return 0;
		}
	}
	char num[8];
	const struct symbol *sym = symbol_lookup(a->num, t, len);
	if (sym) {
		snprintf(num, sizeof num, "%u", sym->value);
		t = num;
		len = strlen(num);
	}
	if (value_parse(a, t, len, out, w, err, errlen))
		return -1;
	if (assign_value && *w == 1 && a->type == ATTR_T_VARIABLE) {
		out[1] = out[0];
		out[0] = 0;
		*w = 2;
	}
	return 0;
}

static bool parse_field(struct reader *r, const struct attr_info *a,
			bool assign_value, struct span sp,
			uint8_t out[RULE_ADDR_MAX], uint8_t *w, const char *what)
{
	char err[160];
	if (field_bytes(a, assign_value, r->s + sp.pos, sp.len, out, w, err,
			sizeof err) == 0)
		return true;
	error_at(r, sp.pos, "%s of %s: %s", what, a->name, err);
	return false;
}

/* A Null test with zero mask and value: it carries no bytes worth keeping,
 * so every width of it reads back as width 0 (what srlc emits). */
static bool null_always(const struct rule *rl)
{
	if (rl->attr != ATTR_NULL || rl->len > RULE_ADDR_MAX)
		return false;
	for (unsigned i = 0; i < rl->len; i++)
		if (rl->mask[i] || rl->value[i])
			return false;
	return true;
}

/* The rule is as wide as the wider of mask and value (the other is
 * right-padded); the always-true Null test is width 0. */
static void set_len(struct rule *rl, uint8_t mw, uint8_t vw)
{
	rl->len = mw > vw ? mw : vw;
	if (null_always(rl))
		rl->len = 0;    /* the compiler's form of "Null & 0 = 0" */
}

static bool is_assign(unsigned op)
{
	return op == RULE_ASSIGN || op == RULE_ASSIGN_ACT;
}

static void parse_rule(struct reader *r, const struct attr_info *a)
{
	struct rule rule;
	memset(&rule, 0, sizeof rule);
	rule.attr = a->num;
	r->pos++;                                   /* '&' */
	skip_blank(r);
	struct span mask = read_mask(r), value;
	if (mask.len == 0) {
		error_at(r, mask.pos, "missing mask after '&'");
		goto fail;
	}
	skip_blank(r);
	if (peek(r) != '=') {
		error_at(r, r->pos, "expected '=' after the mask");
		goto fail;
	}
	r->pos++;
	skip_blank(r);
	if (!read_value(r, &value))
		goto fail;
	skip_blank(r);
	size_t op_pos = r->pos, n = read_ident(r);
	if (n == 0) {
		error_at(r, op_pos, "expected an action after ':'");
		goto fail;
	}
	rule.op = (uint8_t)rule_op_by_name(r->s + op_pos, n);
	if (!rule.op) {
		error_at(r, op_pos, "unknown action '%.*s'", (int)n, r->s + op_pos);
		goto fail;
	}
	size_t end = r->pos;
	skip_blank(r);
	size_t ref_pos = 0, ref_len = 0;
	if (peek(r) == ',') {
		r->pos++;
		skip_blank(r);
		size_t p = r->pos;
		if (is_ident_start(peek(r))) {
			size_t k = read_ident(r);
			if (word_is(r->s + p, k, "next"))
				rule.param = (uint32_t)r->rs->n_rules + 2;
			else
				ref_pos = p, ref_len = k;
		} else if (!read_uint(r, PARAM_MAX, "parameter", &rule.param)) {
			goto fail;
		}
		end = r->pos;
		skip_blank(r);
	}
	if (peek(r) == ';')
		r->pos++;
	else    /* most likely a forgotten ';': go on with what follows */
		error_at(r, end, "expected ';' after the rule");

	uint8_t mw, vw;
	bool ok = parse_field(r, a, false, mask, rule.mask, &mw, "mask");
	ok = parse_field(r, a, is_assign(rule.op), value, rule.value, &vw,
			 "value") && ok;
	if (!ok)
		return;
	set_len(&rule, mw, vw);
	if (rule.param > PARAM_MAX) {   /* Next after rule 65535 */
		error_at(r, op_pos, "parameter Next is past rule %u", PARAM_MAX);
		return;
	}
	if (ref_len)
		add_ref(r, ref_pos, ref_len);
	const char *label = r->pending ? r->defs[r->n_defs - 1].name : NULL;
	if (ruleset_add_rule(r->rs, &rule, label)) {
		r->oom = true;
		return;
	}
	r->pending = 0;
	return;
fail:
	recover(r);
}

/* ---- other statements ---- */

static void parse_set(struct reader *r, size_t kw)
{
	skip_blank(r);
	uint32_t n;
	if (!read_uint(r, SET_MAX, "SET", &n)) {
		recover(r);
		return;
	}
	if (r->have_set)
		error_at(r, kw, "SET given twice");
	r->have_set = true;
	r->rs->set = n;
	optional_semicolon(r);
}

/* "..." with \" \\ \t \n escapes; appended as a FORMAT separator. */
static bool parse_string(struct reader *r)
{
	size_t start = r->pos++;
	char *buf = malloc(r->len - r->pos + 1);
	size_t n = 0;
	if (!buf) {
		r->oom = true;
		return false;
	}
	for (;;) {
		int c = peek(r);
		if (c < 0 || c == '\n') {
			error_at(r, start, "unterminated string");
			free(buf);
			return false;
		}
		r->pos++;
		if (c == '"')
			break;
		if (c == '\\') {
			int e = peek(r);
			r->pos++;
			switch (e) {
			case '"':  c = '"'; break;
			case '\\': c = '\\'; break;
			case 't':  c = '\t'; break;
			case 'n':  c = '\n'; break;
			default:
				error_at(r, r->pos - 2, "unknown escape in string");
				free(buf);
				return false;
			}
		} else if (c == '\0') {
			error_at(r, r->pos - 1, "NUL byte in string");
			free(buf);
			return false;
		}
		buf[n++] = (char)c;
	}
	if (ruleset_add_format_sep(r->rs, buf, n))
		r->oom = true;
	free(buf);
	return true;
}

static void parse_format(struct reader *r, size_t kw)
{
	if (r->have_format)
		error_at(r, kw, "FORMAT given twice");
	r->have_format = true;
	for (;;) {
		skip_blank(r);
		int c = peek(r);
		if (c < 0) {
			error_at(r, kw, "FORMAT is not ended by ';'");
			return;
		}
		if (c == ';') {
			r->pos++;
			return;
		}
		if (c == '"') {
			if (!parse_string(r))
				goto fail;
			continue;
		}
		size_t p = r->pos, n = read_ident(r);
		if (n == 0) {
			error_at(r, p, "unexpected '%c' in FORMAT", c);
			goto fail;
		}
		const struct attr_info *a = attr_by_name(r->s + p, n);
		if (!a) {
			error_at(r, p, "unknown attribute '%.*s' in FORMAT",
				 (int)n, r->s + p);
			continue;
		}
		if (ruleset_add_format_attr(r->rs, a->num))
			r->oom = true;
	}
fail:
	/* resume after the FORMAT's ';' (it may span lines) */
	while (r->pos < r->len && r->s[r->pos] != ';')
		r->pos++;
	if (r->pos < r->len)
		r->pos++;
}

static void parse_statement(struct reader *r)
{
	size_t start = r->pos;
	int c = peek(r);
	if (!is_ident_start(c)) {
		if (c >= 0x20 && c < 0x7f)
			error_at(r, start, "unexpected '%c'", c);
		else
			error_at(r, start, "unexpected byte 0x%02x", (unsigned)c);
		r->pos++;
		recover(r);
		return;
	}
	size_t n = read_ident(r);
	const char *w = r->s + start;
	skip_blank(r);
	if (peek(r) == ':') {
		r->pos++;
		define_label(r, start, n);
		return;
	}
	if (peek(r) == '&') {
		const struct attr_info *a = attr_by_name(w, n);
		if (a) {
			parse_rule(r, a);
		} else {
			error_at(r, start, "unknown attribute '%.*s'", (int)n, w);
			recover(r);
		}
		return;
	}
	if (word_is(w, n, "SET")) {
		parse_set(r, start);
	} else if (word_is(w, n, "RULES") || word_is(w, n, "STATISTICS")) {
		if (word_is(w, n, "STATISTICS"))
			r->rs->statistics = true;
		optional_semicolon(r);
	} else if (word_is(w, n, "FORMAT")) {
		parse_format(r, start);
	} else {
		error_at(r, start, "expected a rule, a label or SET/RULES/FORMAT/"
			 "STATISTICS, not '%.*s'", (int)(n > 40 ? 40 : n), w);
		recover(r);
	}
}

int rulesfile_read(const char *text, size_t len, struct ruleset *out,
		   struct diag *d)
{
	ruleset_init(out);
	struct reader r = {
		.s = text, .len = text ? len : 0, .d = d, .rs = out,
		.at_line = 1,
	};
	unsigned errors0 = d->errors;
	for (;;) {
		skip_blank(&r);
		if (r.pos >= r.len)
			break;
		parse_statement(&r);
	}
	resolve_labels(&r);
	if (r.oom)
		diag_error(d, 0, 0, "out of memory");
	for (size_t i = 0; i < r.n_defs; i++)
		free(r.defs[i].name);
	for (size_t i = 0; i < r.n_refs; i++)
		free(r.refs[i].name);
	free(r.defs);
	free(r.refs);
	if (d->errors != errors0) {
		ruleset_free(out);
		return -1;
	}
	return 0;
}

int ruleset_read_file(const char *path, struct ruleset *out, struct diag *d)
{
	ruleset_init(out);
	char *buf;
	size_t len;
	switch (fileio_read_all(path, FILE_MAX, &buf, &len)) {
	case FILEIO_OK:
		break;
	case FILEIO_OPEN:
		diag_error(d, 0, 0, "cannot open %s: %s", path, strerror(errno));
		return -1;
	case FILEIO_READ:
		diag_error(d, 0, 0, "cannot read %s: %s", path, strerror(errno));
		return -1;
	default:
		diag_error(d, 0, 0, "%s is too large", path);
		return -1;
	}
	int rc = rulesfile_read(buf, len, out, d);
	free(buf);
	return rc;
}

/* ---- writer ---- */

static bool valid_label(const char *s)
{
	if (!s || !is_ident_start((unsigned char)s[0]) || strcasecmp(s, "next") == 0)
		return false;
	for (; *s; s++)
		if (!is_ident_char((unsigned char)*s))
			return false;
	return true;
}

/*
 * How a rule's mask or value is written.  A meter variable's mask, and its
 * value outside Assign, is shown as plain bytes (an attribute name would
 * read oddly); the Assign value names the attribute.
 */
static const struct attr_info *text_attr(const struct attr_info *a, bool assign_value,
					 struct attr_info *tmp)
{
	if (a->type != ATTR_T_VARIABLE || assign_value)
		return a;
	*tmp = *a;
	tmp->type = ATTR_T_NONE;
	return tmp;
}

/* Would "attr & mask = value" read back as exactly rule `rl`? */
static bool reads_back(const struct rule *rl, const struct attr_info *a,
		       const char *mask, const char *value)
{
	struct rule back = { .attr = rl->attr, .op = rl->op };
	uint8_t mw, vw;
	if (field_bytes(a, false, mask, strlen(mask), back.mask, &mw, NULL, 0) ||
	    field_bytes(a, is_assign(rl->op), value, strlen(value), back.value,
			&vw, NULL, 0))
		return false;
	set_len(&back, mw, vw);
	return back.len == rl->len && memcmp(back.mask, rl->mask, rl->len) == 0 &&
	       memcmp(back.value, rl->value, rl->len) == 0;
}

/*
 * Format a rule's mask and value; false when no text reads back as the
 * same bytes (e.g. a width the attribute cannot have).  An all-zero mask
 * or value of a meter variable is shortened to "0" when the other field
 * still gives the width ("v1 & 0 = SourcePeerAddress", as NeMaC wrote it).
 */
static bool rule_text(const struct rule *rl, char *mask, char *value)
{
	const struct attr_info *a = attr_by_num(rl->attr);
	if (!a || rl->len > RULE_ADDR_MAX)
		return false;
	if (null_always(rl)) {
		strcpy(mask, "0");
		strcpy(value, "0");
		return true;    /* "Null & 0 = 0", read back as width 0 */
	}
	struct attr_info tmp;
	value_format(text_attr(a, false, &tmp), rl->mask, rl->len, mask, TEXT_MAX);
	value_format(text_attr(a, is_assign(rl->op), &tmp), rl->value, rl->len,
		     value, TEXT_MAX);
	if (!reads_back(rl, a, mask, value))
		return false;
	if (a->type == ATTR_T_VARIABLE) {
		char keep[TEXT_MAX];
		strcpy(keep, mask);
		strcpy(mask, "0");
		if (!reads_back(rl, a, mask, value))
			strcpy(mask, keep);
		strcpy(keep, value);
		strcpy(value, "0");
		if (!reads_back(rl, a, mask, value))
			strcpy(value, keep);
	}
	return true;
}

static void write_sep(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		switch (*s) {
		case '"':  fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\t': fputs("\\t", out); break;
		case '\n': fputs("\\n", out); break;
		default:   fputc(*s, out);
		}
	}
	fputc('"', out);
}

static bool sep_writable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
			return false;
	return true;
}

/* "attr & mask = value:" — a blank before the ':' after IPv6 text. */
static size_t test_text(const struct rule *rl, const char *mask,
			const char *value, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s & %s = %s%s:", attr_by_num(rl->attr)->name,
			 mask, value, strchr(value, ':') ? " " : "");
	return n > 0 ? (size_t)n : 0;
}

int rulesfile_write(const struct ruleset *rs, FILE *out)
{
	size_t n = rs->n_rules;
	char (*masks)[TEXT_MAX] = calloc(n ? n : 1, TEXT_MAX);
	char (*values)[TEXT_MAX] = calloc(n ? n : 1, TEXT_MAX);
	int rc = -1;
	if (!masks || !values)
		goto done;
	/* check everything first: never leave a half-written file */
	size_t width = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rule *rl = &rs->rules[i];
		if (!rule_op_name(rl->op) || rl->param > PARAM_MAX ||
		    !rule_text(rl, masks[i], values[i]))
			goto done;
		char test[3 * TEXT_MAX + 64];
		size_t w = test_text(rl, masks[i], values[i], test, sizeof test);
		if (w > width)
			width = w;
	}
	for (size_t i = 0; i < rs->n_format; i++)
		if (rs->format[i].sep ? !sep_writable(rs->format[i].sep)
				      : !attr_by_num(rs->format[i].attr))
			goto done;

	fprintf(out, "# ntm rules file (NeMaC form), %zu rule%s\n", n,
		n == 1 ? "" : "s");
	if (rs->set)
		fprintf(out, "SET %u\n", rs->set);
	fputs("RULES\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct rule *rl = &rs->rules[i];
		const char *label = rs->labels ? rs->labels[i] : NULL;
		bool dup = false;
		for (size_t j = 0; label && j < i; j++)
			if (rs->labels[j] && strcasecmp(rs->labels[j], label) == 0)
				dup = true;
		if (valid_label(label) && !dup)
			fprintf(out, "%s:\n", label);
		char test[3 * TEXT_MAX + 64];
		test_text(rl, masks[i], values[i], test, sizeof test);
		fprintf(out, "  %-*s %s, %u;  # %zu\n", (int)width, test,
			rule_op_name(rl->op), rl->param, i + 1);
	}
	if (rs->n_format) {
		fputs("FORMAT", out);
		size_t col = 6;
		for (size_t i = 0; i < rs->n_format; i++) {
			const struct format_item *f = &rs->format[i];
			size_t w = f->sep ? strlen(f->sep) + 2
					  : strlen(attr_by_num(f->attr)->name);
			if (col + 1 + w > 76) {
				fputs("\n      ", out);
				col = 6;
			}
			fputc(' ', out);
			if (f->sep)
				write_sep(out, f->sep);
			else
				fputs(attr_by_num(f->attr)->name, out);
			col += 1 + w;
		}
		fputs(";\n", out);
	}
	if (rs->statistics)
		fputs("STATISTICS\n", out);
	rc = ferror(out) ? -1 : 0;
done:
	free(masks);
	free(values);
	return rc;
}

/* ---- listing ---- */

static void dump_attr_name(unsigned num, char *buf, size_t cap)
{
	const struct attr_info *a = attr_by_num(num);
	if (a)
		snprintf(buf, cap, "%s", a->name);
	else
		snprintf(buf, cap, "attr#%u", num);
}

/* Numbers right-aligned first, text left-aligned, no trailing blanks. */
static void dump_cell(FILE *out, bool first, bool last, size_t width,
		      const char *text)
{
	if (first)
		fprintf(out, "%*s", (int)width, text);
	else if (last)
		fprintf(out, "  %s", text);
	else
		fprintf(out, "  %-*s", (int)width, text);
}

void ruleset_dump(const struct ruleset *rs, FILE *out)
{
	enum { C_RULE, C_LABEL, C_ATTR, C_MASK, C_VALUE, C_ACTION, C_PARAM, NCOL };
	static const char *head[NCOL] = {
		"rule", "label", "attribute", "mask", "value", "action", "param"
	};
	size_t w[NCOL];
	for (int c = 0; c < NCOL; c++)
		w[c] = strlen(head[c]);
	char cell[NCOL][TEXT_MAX + 64];

	fprintf(out, "ruleset %u: %zu rule%s\n", rs->set, rs->n_rules,
		rs->n_rules == 1 ? "" : "s");
	/* two passes: measure the columns, then print */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (int c = 0; c < NCOL; c++)
				dump_cell(out, c == C_RULE, c == NCOL - 1, w[c], head[c]);
			fputc('\n', out);
		}
		for (size_t i = 0; i < rs->n_rules; i++) {
			const struct rule *rl = &rs->rules[i];
			const struct attr_info *a = attr_by_num(rl->attr);
			const char *label = rs->labels ? rs->labels[i] : NULL;
			uint8_t len = rl->len > RULE_ADDR_MAX ? RULE_ADDR_MAX : rl->len;
			snprintf(cell[C_RULE], sizeof cell[0], "%zu", i + 1);
			snprintf(cell[C_LABEL], sizeof cell[0], "%.*s", TEXT_MAX,
				 label ? label : "");
			dump_attr_name(rl->attr, cell[C_ATTR], sizeof cell[0]);
			if (!rule_text(rl, cell[C_MASK], cell[C_VALUE]) && a) {
				/* not writable as a rules file: show the bytes */
				struct attr_info tmp;
				value_format(text_attr(a, false, &tmp), rl->mask, len,
					     cell[C_MASK], sizeof cell[0]);
				value_format(text_attr(a, is_assign(rl->op), &tmp),
					     rl->value, len, cell[C_VALUE],
					     sizeof cell[0]);
			} else if (!a) {
				snprintf(cell[C_MASK], sizeof cell[0], "?");
				snprintf(cell[C_VALUE], sizeof cell[0], "?");
			}
			const char *op = rule_op_name(rl->op);
			if (op)
				snprintf(cell[C_ACTION], sizeof cell[0], "%s", op);
			else
				snprintf(cell[C_ACTION], sizeof cell[0], "op#%u", rl->op);
			const char *target = NULL;
			if (rule_op_is_goto(rl->op) && rl->param >= 1 &&
			    rl->param <= rs->n_rules && rs->labels)
				target = rs->labels[rl->param - 1];
			if (target)
				snprintf(cell[C_PARAM], sizeof cell[0], "%u (%.*s)",
					 rl->param, TEXT_MAX, target);
			else
				snprintf(cell[C_PARAM], sizeof cell[0], "%u", rl->param);
			for (int c = 0; c < NCOL; c++) {
				size_t l = strlen(cell[c]);
				if (pass == 0 && l > w[c])
					w[c] = l;
				if (pass == 1)
					dump_cell(out, c == C_RULE, c == NCOL - 1,
						  w[c], cell[c]);
			}
			if (pass == 1)
				fputc('\n', out);
		}
	}
	if (rs->n_format) {
		fputs("format:", out);
		for (size_t i = 0; i < rs->n_format; i++) {
			const struct format_item *f = &rs->format[i];
			if (f->sep) {
				fputc(' ', out);
				write_sep(out, f->sep);
			} else {
				char name[64];
				dump_attr_name(f->attr, name, sizeof name);
				fprintf(out, " %s", name);
			}
		}
		fputc('\n', out);
	}
	if (rs->statistics)
		fputs("statistics: yes\n", out);
}
