/*
 * srl_lex.c — SRL tokens (RFC 2723 §2): '#' comments, case-free words,
 * the two-character operators == && || :=, and value text (Appendix B
 * fields, IPv6 and MAC forms, 'c' constants) kept as one token so the value
 * parser (common/value.h) sees it whole.
 */
#include "srl_int.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct lexer {
	const char *s;
	size_t len, i;
	unsigned line, col;
	struct srl_toks *out;
	struct srl_arena *a;
	struct diag *d;
};

static const char *const kind_names[] = {
	[SRL_T_EOF] = "end of file", [SRL_T_IDENT] = "name",
	[SRL_T_NUM] = "number", [SRL_T_VALUE] = "value",
	[SRL_T_STRING] = "string", [SRL_T_DEFTEXT] = "defined text",
	[SRL_T_LPAREN] = "'('", [SRL_T_RPAREN] = "')'",
	[SRL_T_LBRACE] = "'{'", [SRL_T_RBRACE] = "'}'",
	[SRL_T_COMMA] = "','", [SRL_T_SEMI] = "';'", [SRL_T_COLON] = "':'",
	[SRL_T_ASSIGN] = "':='", [SRL_T_EQ] = "'='", [SRL_T_EQEQ] = "'=='",
	[SRL_T_ANDAND] = "'&&'", [SRL_T_OROR] = "'||'", [SRL_T_AMP] = "'&'",
	[SRL_T_SLASH] = "'/'", [SRL_T_NOT] = "'!'",
};

const char *srl_tok_kind_name(unsigned kind)
{
	return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "?";
}

bool srl_tok_is(const struct srl_tok *t, const char *word)
{
	return t->kind == SRL_T_IDENT && strlen(word) == t->len &&
	       strncasecmp(word, t->text, t->len) == 0;
}

static int peekc(const struct lexer *lx, size_t k)
{
	return lx->i + k < lx->len ? (unsigned char)lx->s[lx->i + k] : -1;
}

static void advance(struct lexer *lx)
{
	if (lx->i >= lx->len)
		return;
	if (lx->s[lx->i] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->i++;
}

static void emit(struct lexer *lx, unsigned kind, size_t start, unsigned line,
		 unsigned col)
{
	struct srl_toks *o = lx->out;
	o->v = srl_grow(lx->a, o->v, &o->cap, o->n + 1, sizeof *o->v);
	o->v[o->n++] = (struct srl_tok){ .kind = (uint8_t)kind, .line = line,
		.col = col, .text = lx->s + start, .len = lx->i - start };
}

static bool is_ident_char(int c)
{
	return c >= 0 && (isalnum(c) || c == '_');
}

/* Characters of a value: Appendix B fields with their type characters,
 * hex digits, and ':' of IPv6 / MAC text. */
static bool is_value_char(int c)
{
	return c >= 0 && (isalnum(c) || c == '.' || c == '-' || c == '!' || c == ':');
}

static bool is_hex(int c)
{
	return c >= 0 && isxdigit(c);
}

static void skip_space_and_comments(struct lexer *lx)
{
	for (;;) {
		int c = peekc(lx, 0);
		if (c == '#') {
			while (peekc(lx, 0) >= 0 && peekc(lx, 0) != '\n')
				advance(lx);
		} else if (c >= 0 && isspace(c)) {
			advance(lx);
		} else {
			return;
		}
	}
}

/*
 * A value token: the longest run of value characters.  A ':' stays in it
 * only when IPv6 or MAC text continues (a hex digit or a second ':') or
 * closes a "::", so
 * "1: count" and "label: {" still lex as number/name and ':'.  A run whose
 * part after a ':' holds a non-hex letter ("1:count") is cut at that ':'.
 */
static void lex_value(struct lexer *lx, size_t start, unsigned line, unsigned col)
{
	size_t first_colon = SIZE_MAX;
	bool bad_after_colon = false;
	for (;;) {
		int c = peekc(lx, 0);
		if (c == ':') {
			int n = peekc(lx, 1);
			bool second = lx->i > start && lx->s[lx->i - 1] == ':';
			if (!(is_hex(n) || n == ':' || second))   /* "fc00::" ends in :: */
				break;
			if (first_colon == SIZE_MAX)
				first_colon = lx->i;
		} else if (!is_value_char(c)) {
			break;
		} else if (first_colon != SIZE_MAX && isalpha(c) && !is_hex(c)) {
			bad_after_colon = true;
		}
		advance(lx);
	}
	/* (a run that starts with "::" is kept whole: cutting it would
	 * leave nothing) */
	if (bad_after_colon && first_colon > start) {
		/* rewind to the first ':' (no newline can be inside the run) */
		lx->col -= (unsigned)(lx->i - first_colon);
		lx->i = first_colon;
	}
	bool digits = true;
	for (size_t k = start; k < lx->i; k++)
		if (!isdigit((unsigned char)lx->s[k]))
			digits = false;
	emit(lx, digits ? SRL_T_NUM : SRL_T_VALUE, start, line, col);
}

/* A word made only of hex digits followed by '-' or ':' and more hex
 * ("FF-FF-00-00", "fe80::1") is a value, not a name. */
static bool hex_word_is_value(const struct lexer *lx, size_t start)
{
	for (size_t k = start; k < lx->i; k++)
		if (!isxdigit((unsigned char)lx->s[k]))
			return false;
	int c = peekc(lx, 0), n = peekc(lx, 1);
	return (c == '-' && is_hex(n)) || (c == ':' && (is_hex(n) || n == ':'));
}

/* The raw text of a DEFINE, up to the first unescaped ';' (not included). */
static void lex_deftext(struct lexer *lx)
{
	skip_space_and_comments(lx);
	unsigned line = lx->line, col = lx->col;
	char *buf = srl_alloc(lx->a, lx->len - lx->i + 1);
	size_t n = 0;
	for (;;) {
		int c = peekc(lx, 0);
		if (c < 0 || c == ';')
			break;
		if (c == '\\' && peekc(lx, 1) == ';') {
			advance(lx);
			advance(lx);
			buf[n++] = ';';
		} else if (c == '#') {
			while (peekc(lx, 0) >= 0 && peekc(lx, 0) != '\n')
				advance(lx);
		} else {
			buf[n++] = (char)c;
			advance(lx);
		}
	}
	struct srl_toks *o = lx->out;
	o->v = srl_grow(lx->a, o->v, &o->cap, o->n + 1, sizeof *o->v);
	o->v[o->n++] = (struct srl_tok){ .kind = SRL_T_DEFTEXT, .line = line,
		.col = col, .text = buf, .len = n };
}

/* After "DEFINE name =" the defined text follows. */
static bool define_text_follows(const struct lexer *lx)
{
	const struct srl_toks *o = lx->out;
	return o->n >= 3 && o->v[o->n - 1].kind == SRL_T_EQ &&
	       o->v[o->n - 2].kind == SRL_T_IDENT &&
	       srl_tok_is(&o->v[o->n - 3], "define");
}

void srl_lex(const char *text, size_t len, unsigned line0, unsigned col0,
	     struct srl_toks *out, struct srl_arena *a, struct diag *d)
{
	struct lexer lx = { .s = text, .len = len, .line = line0, .col = col0,
			    .out = out, .a = a, .d = d };
	for (;;) {
		if (define_text_follows(&lx))
			lex_deftext(&lx);
		skip_space_and_comments(&lx);
		size_t start = lx.i;
		unsigned line = lx.line, col = lx.col;
		int c = peekc(&lx, 0), n = peekc(&lx, 1);
		if (c < 0)
			break;
		if (isalpha(c) || c == '_') {
			while (is_ident_char(peekc(&lx, 0)))
				advance(&lx);
			if (hex_word_is_value(&lx, start))
				lex_value(&lx, start, line, col);
			else
				emit(&lx, SRL_T_IDENT, start, line, col);
			continue;
		}
		if (isdigit(c) || (c == ':' && n == ':')) {
			lex_value(&lx, start, line, col);
			continue;
		}
		if (c == '\'') {
			/* 'c' : exactly one character between apostrophes */
			if (n >= 0 && n != '\n' && peekc(&lx, 2) == '\'') {
				advance(&lx); advance(&lx); advance(&lx);
				emit(&lx, SRL_T_VALUE, start, line, col);
			} else {
				diag_error(d, line, col, "bad character constant (write 'c')");
				advance(&lx);
			}
			continue;
		}
		if (c == '"') {
			advance(&lx);
			size_t s0 = lx.i;
			while (peekc(&lx, 0) >= 0 && peekc(&lx, 0) != '"' &&
			       peekc(&lx, 0) != '\n')
				advance(&lx);
			if (peekc(&lx, 0) != '"') {
				diag_error(d, line, col, "unterminated string");
				continue;
			}
			struct srl_toks *o = out;
			o->v = srl_grow(a, o->v, &o->cap, o->n + 1, sizeof *o->v);
			o->v[o->n++] = (struct srl_tok){ .kind = SRL_T_STRING,
				.line = line, .col = col, .text = text + s0,
				.len = lx.i - s0 };
			advance(&lx);
			continue;
		}
		unsigned kind;
		size_t width = 1;
		switch (c) {
		case '(': kind = SRL_T_LPAREN; break;
		case ')': kind = SRL_T_RPAREN; break;
		case '{': kind = SRL_T_LBRACE; break;
		case '}': kind = SRL_T_RBRACE; break;
		case ',': kind = SRL_T_COMMA; break;
		case ';': kind = SRL_T_SEMI; break;
		case '/': kind = SRL_T_SLASH; break;
		case '!': kind = SRL_T_NOT; break;
		case ':':
			if (n == '=') { kind = SRL_T_ASSIGN; width = 2; }
			else kind = SRL_T_COLON;
			break;
		case '=':
			if (n == '=') { kind = SRL_T_EQEQ; width = 2; }
			else kind = SRL_T_EQ;
			break;
		case '&':
			if (n == '&') { kind = SRL_T_ANDAND; width = 2; }
			else kind = SRL_T_AMP;
			break;
		case '|':
			if (n == '|') { kind = SRL_T_OROR; width = 2; break; }
			/* fall through */
		default:
			if (isprint(c))
				diag_error(d, line, col, "unexpected character '%c'", c);
			else
				diag_error(d, line, col, "unexpected byte 0x%02x", (unsigned)c);
			advance(&lx);
			continue;
		}
		while (width--)
			advance(&lx);
		emit(&lx, kind, start, line, col);
	}
	struct srl_toks *o = out;
	o->v = srl_grow(a, o->v, &o->cap, o->n + 1, sizeof *o->v);
	o->v[o->n++] = (struct srl_tok){ .kind = SRL_T_EOF, .line = lx.line,
		.col = lx.col, .text = text + lx.i, .len = 0 };
}
