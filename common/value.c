/*
 * value.c — RTFM values and masks in text (see value.h; RFC 2723 App. B).
 *
 * Widths, decided here where the RFC is silent:
 *   - fixed-width attributes take their table width;
 *   - peer addresses are 4 bytes unless the text is IPv6 or gives more than
 *     4 bytes, then 16;
 *   - distributions are 6 bytes (RFC 2724 §3: mask and value are >= 6);
 *   - meter variables v1..v5 and Null take the width of what is written: the
 *     sum of the field widths, or for a lone untyped number the fewest bytes
 *     that hold it (a variable may stand for a 1-byte Kind or a 4-byte
 *     address, so no width can be assumed).  An attribute name written for a
 *     variable (the value of an Assign rule) is its number in 2 bytes.
 */
#include "value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define IPV4_LEN     4
#define IPV6_LEN     16
#define MAC_LEN      6
#define DIST_LEN     6
#define ATTRNUM_LEN  2   /* an attribute number in an Assign value */

/* Appendix B field type characters: the one after a field types it. */
enum field_type { FT_NONE, FT_DEC1, FT_HEX1, FT_DEC2 };

static unsigned field_bytes(enum field_type t)
{
	return t == FT_DEC2 ? 2 : 1;
}

static enum field_type field_type_of(char c)
{
	switch (c) {
	case '.': return FT_DEC1;
	case '-': return FT_HEX1;
	case '!': return FT_DEC2;
	default:  return FT_NONE;
	}
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *plural(unsigned n)
{
	return n == 1 ? "" : "s";
}

/* Attributes whose width is what the text gives, not the table's. */
static bool width_is_written(const struct attr_info *a)
{
	return a->type == ATTR_T_VARIABLE || a->type == ATTR_T_NONE;
}

/* The width a value of `bytes` bytes gets for attribute `a`, or 0 if it
 * cannot hold that many. */
static uint8_t width_for(const struct attr_info *a, unsigned bytes)
{
	if (width_is_written(a))
		return bytes <= RULE_ADDR_MAX ? (uint8_t)bytes : 0;
	if (a->type == ATTR_T_PEER)
		return bytes <= IPV4_LEN ? IPV4_LEN : bytes <= IPV6_LEN ? IPV6_LEN : 0;
	if (a->type == ATTR_T_DIST)
		return bytes <= DIST_LEN ? DIST_LEN : 0;
	return bytes <= a->width ? a->width : 0;
}

static int too_wide(const struct attr_info *a, unsigned bytes, char *err,
		    size_t errlen)
{
	unsigned max = width_is_written(a) ? RULE_ADDR_MAX
		     : a->type == ATTR_T_PEER ? IPV6_LEN
		     : a->type == ATTR_T_DIST ? DIST_LEN : a->width;
	set_err(err, errlen, "value is %u byte%s, %s holds %u", bytes,
		plural(bytes), a->name, max);
	return -1;
}

/* "00:60:3e:10:e0:a1": six groups of one or two hex digits. */
static bool is_colon_mac(const char *s, size_t len)
{
	unsigned groups = 0, digits = 0;
	for (size_t i = 0; i < len; i++) {
		if (isxdigit((unsigned char)s[i])) {
			if (++digits > 2)
				return false;
		} else if (s[i] == ':' && digits > 0) {
			groups++;
			digits = 0;
		} else {
			return false;
		}
	}
	return digits > 0 && groups == MAC_LEN - 1;
}

static int parse_colon_mac(const struct attr_info *a, const char *s, size_t len,
			   uint8_t out[RULE_ADDR_MAX], uint8_t *width,
			   char *err, size_t errlen)
{
	uint8_t w = width_for(a, MAC_LEN);
	if (!w)
		return too_wide(a, MAC_LEN, err, errlen);
	unsigned n = 0, acc = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == ':') {
			out[n++] = (uint8_t)acc;
			acc = 0;
		} else {
			int c = tolower((unsigned char)s[i]);
			acc = acc * 16 + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
		}
	}
	*width = w;
	return 0;
}

static int parse_ipv6(const struct attr_info *a, const char *s, size_t len,
		      uint8_t out[RULE_ADDR_MAX], uint8_t *width,
		      char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 1];
	if (len >= sizeof buf) {
		set_err(err, errlen, "'%.*s' is not an IPv6 address", (int)len, s);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	uint8_t w = width_for(a, IPV6_LEN);
	if (!w)
		return too_wide(a, IPV6_LEN, err, errlen);
	if (inet_pton(AF_INET6, buf, out) != 1) {
		set_err(err, errlen, "'%s' is not an IPv6 address", buf);
		return -1;
	}
	*width = w;
	return 0;
}

/* 'W' — a C-style character constant; \\ and \' are the only escapes. */
static int parse_char(const struct attr_info *a, const char *s, size_t len,
		      uint8_t out[RULE_ADDR_MAX], uint8_t *width,
		      char *err, size_t errlen)
{
	uint8_t c;
	if (len == 3 && s[1] != '\\' && s[1] != '\'' && s[2] == '\'')
		c = (uint8_t)s[1];
	else if (len == 4 && s[1] == '\\' && (s[2] == '\\' || s[2] == '\'') &&
		 s[3] == '\'')
		c = (uint8_t)s[2];
	else {
		set_err(err, errlen, "bad character constant %.*s",
			(int)(len > 8 ? 8 : len), s);
		return -1;
	}
	if (!width_is_written(a) && a->width != 1) {
		set_err(err, errlen,
			"a character constant is 1 byte, %s holds %u",
			a->name, a->width);
		return -1;
	}
	out[0] = c;
	*width = 1;
	return 0;
}

/* An attribute name as an Assign value: its number, 2 bytes big-endian. */
static bool parse_attr_name(const char *s, size_t len,
			    uint8_t out[RULE_ADDR_MAX], uint8_t *width)
{
	if (!isalpha((unsigned char)s[0]))
		return false;
	const struct attr_info *n = attr_by_name(s, len);
	if (!n)
		return false;
	out[0] = (uint8_t)(n->num >> 8);
	out[1] = (uint8_t)n->num;
	*width = ATTRNUM_LEN;
	return true;
}

static int digit_value(char c, bool hex)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (hex && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (hex && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read the digits s[*i..) up to a non-digit into *v; fails on overflow of
 * 64 bits or when there are no digits. */
static int read_number(const char *s, size_t len, size_t *i, bool hex,
		       uint64_t *v, char *err, size_t errlen)
{
	unsigned base = hex ? 16 : 10;
	size_t start = *i;
	uint64_t acc = 0;
	int d;
	while (*i < len && (d = digit_value(s[*i], hex)) >= 0) {
		if (acc > (UINT64_MAX - (uint64_t)d) / base) {
			set_err(err, errlen, "number %.*s is too big",
				(int)(len - start > 24 ? 24 : len - start), s + start);
			return -1;
		}
		acc = acc * base + (uint64_t)d;
		(*i)++;
	}
	if (*i == start) {
		if (*i < len && isxdigit((unsigned char)s[*i]))
			set_err(err, errlen, "'%c' is not a decimal digit", s[*i]);
		else if (*i < len)
			set_err(err, errlen, "unexpected '%c' in value", s[*i]);
		else
			set_err(err, errlen, "value ends after a field separator");
		return -1;
	}
	*v = acc;
	return 0;
}

static unsigned bytes_for(uint64_t v)
{
	unsigned n = 1;
	while (n < 8 && (v >> (8 * n)) != 0)
		n++;
	return n;
}

/* A lone untyped decimal number fills the whole width (Appendix B). */
static int parse_whole(const struct attr_info *a, const char *s, size_t len,
		       uint8_t out[RULE_ADDR_MAX], uint8_t *width,
		       char *err, size_t errlen)
{
	size_t i = 0;
	uint64_t v;
	if (read_number(s, len, &i, false, &v, err, errlen))
		return -1;
	if (i != len) {
		set_err(err, errlen, "unexpected '%c' in value", s[i]);
		return -1;
	}
	unsigned need = bytes_for(v);
	unsigned w;
	if (width_is_written(a))
		w = need;
	else if (a->type == ATTR_T_PEER)
		w = IPV4_LEN;       /* "3232235777" is an IPv4 address */
	else
		w = a->width;
	if (w == 0 || (w < 8 && need > w)) {
		set_err(err, errlen, "value %llu does not fit in %u byte%s",
			(unsigned long long)v, w, plural(w));
		return -1;
	}
	/* big-endian, right-aligned in w bytes (w may exceed 8: leading 0s) */
	for (unsigned k = 0; k < w; k++) {
		unsigned shift = 8 * (w - 1 - k);
		out[k] = shift < 64 ? (uint8_t)(v >> shift) : 0;
	}
	*width = (uint8_t)w;
	return 0;
}

/* Typed fields: "1.3.10!50", "FF-FF-00-00", "130.216". */
static int parse_fields(const struct attr_info *a, const char *s, size_t len,
			uint8_t out[RULE_ADDR_MAX], uint8_t *width,
			char *err, size_t errlen)
{
	unsigned pos = 0;
	size_t i = 0;
	/* The radix of a field is given by the character after it, so find
	 * that first; the last field copies the one before it. */
	enum field_type prev = FT_NONE;
	while (i < len) {
		size_t j = i;
		while (j < len && isxdigit((unsigned char)s[j]))
			j++;
		if (j == i) {
			if (j < len && !field_type_of(s[j]))
				set_err(err, errlen, "unexpected '%c' in value", s[j]);
			else
				set_err(err, errlen, "empty field in value");
			return -1;
		}
		enum field_type t = j < len ? field_type_of(s[j]) : prev;
		if (j < len && t == FT_NONE) {
			set_err(err, errlen, "unexpected '%c' in value", s[j]);
			return -1;
		}
		uint64_t v;
		size_t k = i;
		if (read_number(s, j, &k, t == FT_HEX1, &v, err, errlen))
			return -1;
		if (k != j) {
			set_err(err, errlen, "'%c' is not a decimal digit", s[k]);
			return -1;
		}
		unsigned fb = field_bytes(t);
		uint64_t max = fb == 2 ? 0xffff : 0xff;
		if (v > max) {
			set_err(err, errlen, "field %.*s does not fit in %u byte%s",
				(int)(j - i > 24 ? 24 : j - i), s + i, fb, plural(fb));
			return -1;
		}
		if (pos + fb > RULE_ADDR_MAX)
			return too_wide(a, pos + fb, err, errlen);
		if (fb == 2)
			out[pos++] = (uint8_t)(v >> 8);
		out[pos++] = (uint8_t)v;
		prev = t;
		if (j == len)
			break;
		i = j + 1;
		if (i == len) {
			set_err(err, errlen, "value ends after a field separator");
			return -1;
		}
	}
	uint8_t w = width_for(a, pos);
	if (!w)
		return too_wide(a, pos, err, errlen);
	*width = w;
	return 0;
}

int value_parse(const struct attr_info *a, const char *text, size_t len,
		uint8_t out[RULE_ADDR_MAX], uint8_t *width,
		char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, RULE_ADDR_MAX);
	*width = 0;
	if (!a || !text) {
		set_err(err, errlen, "no attribute or value");
		return -1;
	}
	while (len && isspace((unsigned char)*text))
		text++, len--;
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (!len) {
		set_err(err, errlen, "empty value");
		return -1;
	}

	int rc;
	if (text[0] == '\'')
		rc = parse_char(a, text, len, out, width, err, errlen);
	else if (a->type == ATTR_T_VARIABLE &&
		 parse_attr_name(text, len, out, width))
		rc = 0;
	else if (memchr(text, ':', len))
		rc = is_colon_mac(text, len)
			? parse_colon_mac(a, text, len, out, width, err, errlen)
			: parse_ipv6(a, text, len, out, width, err, errlen);
	else if (strspn(text, "0123456789") >= len)
		rc = parse_whole(a, text, len, out, width, err, errlen);
	else
		rc = parse_fields(a, text, len, out, width, err, errlen);
	if (rc) {
		memset(out, 0, RULE_ADDR_MAX);
		*width = 0;
	}
	return rc;
}

int value_prefix_mask(unsigned bits, uint8_t width, uint8_t out[RULE_ADDR_MAX])
{
	if (width > RULE_ADDR_MAX || bits > 8u * width)
		return -1;
	memset(out, 0, RULE_ADDR_MAX);
	for (unsigned i = 0; i < width && bits; i++) {
		unsigned b = bits >= 8 ? 8 : bits;
		out[i] = (uint8_t)(0xff00u >> b);
		bits -= b;
	}
	return 0;
}

/* ---- rendering ---- */

/* Appends to a fixed buffer, always NUL-terminated, counting what would
 * have been written so the caller can report truncation like snprintf. */
struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static uint64_t be_uint(const uint8_t *v, uint8_t width)
{
	uint64_t x = 0;
	for (uint8_t i = 0; i < width; i++)
		x = x << 8 | v[i];
	return x;
}

/* Dotted decimal bytes.  With `trim`, trailing zero bytes are dropped
 * (they are implied for a fixed-width attribute), keeping two fields so the
 * text is never a lone untyped number, which would mean something else. */
static void put_dotted(struct out *o, const uint8_t *v, uint8_t width, bool trim)
{
	unsigned n = width;
	if (trim) {
		while (n > 0 && v[n - 1] == 0)
			n--;
		if (n == 0) {
			put(o, "0");
			return;
		}
		if (n < 2 && width >= 2)
			n = 2;
	}
	if (n == 1) {
		put(o, "%u", v[0]);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		put(o, i ? ".%u" : "%u", v[i]);
}

static void put_hex(struct out *o, const uint8_t *v, uint8_t width)
{
	for (unsigned i = 0; i < width; i++)
		put(o, i ? "-%02x" : "%02x", v[i]);
}

static void put_ipv6(struct out *o, const uint8_t *v)
{
	char buf[INET6_ADDRSTRLEN];
	if (inet_ntop(AF_INET6, v, buf, sizeof buf))
		put(o, "%s", buf);
	else
		put_dotted(o, v, IPV6_LEN, false);
}

/* RFC 2724 layout: transform.scale.lower!upper, buckets.p1.p2!p3 */
static void put_dist(struct out *o, const uint8_t *v)
{
	put(o, "%u.%u.%u!%u", v[0], v[1], (unsigned)v[2] << 8 | v[3],
	    (unsigned)v[4] << 8 | v[5]);
}

static void format_variable(struct out *o, const uint8_t *v, uint8_t width)
{
	const struct attr_info *n;
	if (width == ATTRNUM_LEN && be_uint(v, width) != 0 &&
	    (n = attr_by_num((unsigned)be_uint(v, width))) != NULL)
		put(o, "%s", n->name);
	else if (width == IPV6_LEN)
		put_ipv6(o, v);
	else
		put_dotted(o, v, width, false);
}

int value_format(const struct attr_info *a, const uint8_t *v, uint8_t width,
		 char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	if (cap)
		buf[0] = '\0';
	if (width > RULE_ADDR_MAX)
		width = RULE_ADDR_MAX;
	if (!a || !v || width == 0) {
		put(&o, "0");
	} else if (a->type == ATTR_T_VARIABLE) {
		format_variable(&o, v, width);
	} else if (a->type == ATTR_T_NONE) {
		put_dotted(&o, v, width, false);
	} else if (a->type == ATTR_T_PEER && width == IPV6_LEN) {
		put_ipv6(&o, v);
	} else if (a->type == ATTR_T_PEER) {
		put_dotted(&o, v, width, false);
	} else if (a->type == ATTR_T_ADJACENT && width == MAC_LEN) {
		put_hex(&o, v, width);
	} else if (a->type == ATTR_T_DIST && width == DIST_LEN) {
		put_dist(&o, v);
	} else if (width == a->width && width <= 8 &&
		   (a->type == ATTR_T_INT || a->type == ATTR_T_TRANS ||
		    a->type == ATTR_T_COUNTER || a->type == ATTR_T_TIME ||
		    a->type == ATTR_T_TIME_NS)) {
		put(&o, "%llu", (unsigned long long)be_uint(v, width));
	} else {
		put_dotted(&o, v, width, width == a->width);
	}
	return (int)(o.len < cap ? o.len : cap ? cap - 1 : 0);
}
