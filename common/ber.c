/* ber.c — minimal BER encoder and decoder (see ber.h). */
#include "ber.h"

#include <string.h>

#define BITS_PER_OCTET 8
#define SIGN_BIT       0x80

/* ---- encoding ---- */

size_t ber_len_size(size_t len)
{
	if (len <= BER_LEN_SHORT_MAX)
		return 1;
	size_t n = 0;
	for (size_t x = len; x; x >>= BITS_PER_OCTET)
		n++;
	return 1 + n;
}

size_t ber_int_size(int64_t v)
{
	size_t n = 1;
	/* n octets hold -2^(8n-1) .. 2^(8n-1) - 1 */
	while (n < sizeof v) {
		int64_t lim = (int64_t)1 << (BITS_PER_OCTET * n - 1);
		if (v >= -lim && v < lim)
			break;
		n++;
	}
	return n;
}

size_t ber_uint_size(uint64_t v)
{
	size_t n = 1;
	while (n < sizeof v && (v >> (BITS_PER_OCTET * n)) != 0)
		n++;
	/* a set top bit would read as a negative number */
	if ((v >> (BITS_PER_OCTET * n - 1)) & 1)
		n++;
	return n;
}

/* Room for `need` more octets, or fail the writer. */
static bool room(struct ber_writer *w, size_t need)
{
	if (w->failed || need > w->cap - w->len) {
		w->failed = true;
		return false;
	}
	return true;
}

/* The length octets of `len` at p (ber_len_size(len) of them). */
static void put_len_at(uint8_t *p, size_t len)
{
	size_t n = ber_len_size(len);
	if (n == 1) {
		p[0] = (uint8_t)len;
		return;
	}
	p[0] = (uint8_t)(BER_LEN_LONG | (n - 1));
	for (size_t i = n - 1; i >= 1; i--, len >>= BITS_PER_OCTET)
		p[i] = (uint8_t)len;
}

void ber_put_header(struct ber_writer *w, uint8_t tag, size_t len)
{
	size_t n = ber_len_size(len);
	/* what ber_read cannot take back is not written */
	if (n - 1 > BER_LEN_OCTETS_MAX || !room(w, 1 + n)) {
		w->failed = true;
		return;
	}
	w->buf[w->len] = tag;
	put_len_at(w->buf + w->len + 1, len);
	w->len += 1 + n;
}

/* The low n octets of x, big-endian. */
static void put_be(struct ber_writer *w, uint64_t x, size_t n)
{
	if (!room(w, n))
		return;
	for (size_t i = n; i-- > 0; x >>= BITS_PER_OCTET)
		w->buf[w->len + i] = (uint8_t)x;
	w->len += n;
}

void ber_put_int(struct ber_writer *w, uint8_t tag, int64_t v)
{
	size_t n = ber_int_size(v);
	ber_put_header(w, tag, n);
	put_be(w, (uint64_t)v, n);
}

void ber_put_uint(struct ber_writer *w, uint8_t tag, uint64_t v)
{
	size_t n = ber_uint_size(v);
	ber_put_header(w, tag, n);
	if (n > sizeof v) {   /* the leading 0x00 */
		put_be(w, 0, 1);
		n = sizeof v;
	}
	put_be(w, v, n);
}

void ber_put_raw(struct ber_writer *w, const void *p, size_t len)
{
	if (!room(w, len))
		return;
	if (len)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

void ber_put_octets(struct ber_writer *w, uint8_t tag, const void *p, size_t len)
{
	ber_put_header(w, tag, len);
	ber_put_raw(w, p, len);
}

void ber_put_null(struct ber_writer *w)
{
	ber_put_header(w, BER_NULL, 0);
}

void ber_end(struct ber_writer *w, size_t mark, uint8_t tag)
{
	if (w->failed)
		return;
	if (mark > w->len) {
		w->failed = true;
		return;
	}
	size_t clen = w->len - mark;
	size_t hlen = 1 + ber_len_size(clen);
	if (hlen - 2 > BER_LEN_OCTETS_MAX || !room(w, hlen)) {
		w->failed = true;
		return;
	}
	memmove(w->buf + mark + hlen, w->buf + mark, clen);
	w->buf[mark] = tag;
	put_len_at(w->buf + mark + 1, clen);
	w->len += hlen;
}

/* ---- decoding ---- */

static int fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -1;
}

int ber_read(const uint8_t *buf, size_t len, struct ber_tlv *out,
	     size_t *used, const char **why)
{
	if (len < 2)
		return fail(why, len ? "truncated header" : "missing element");
	uint8_t tag = buf[0];
	if ((tag & BER_TAG_HIGH_FORM) == BER_TAG_HIGH_FORM)
		return fail(why, "multi-octet tag");
	uint8_t l = buf[1];
	size_t hdr = 2, clen;
	if (l <= BER_LEN_SHORT_MAX) {
		clen = l;
	} else {
		size_t k = l & BER_LEN_SHORT_MAX;   /* long form: octets that follow */
		if (k == 0)
			return fail(why, "indefinite length");
		if (k > BER_LEN_OCTETS_MAX)
			return fail(why, "length field too long");
		if (k > len - hdr)
			return fail(why, "truncated length");
		clen = 0;
		for (size_t i = 0; i < k; i++)
			clen = clen << BITS_PER_OCTET | buf[hdr + i];
		hdr += k;
	}
	if (clen > len - hdr)
		return fail(why, "contents run past the end");
	out->tag = tag;
	out->v = buf + hdr;
	out->len = clen;
	*used = hdr + clen;
	return 0;
}

int ber_get_int(const struct ber_tlv *t, int64_t *out, const char **why)
{
	const uint8_t *p = t->v;
	size_t n = t->len;
	if (n == 0)
		return fail(why, "empty number");
	/* redundant sign octets (00 before a clear top bit, ff before a set
	 * one) say nothing */
	while (n > 1 && ((p[0] == 0x00 && !(p[1] & SIGN_BIT)) ||
			 (p[0] == 0xff && (p[1] & SIGN_BIT)))) {
		p++;
		n--;
	}
	if (n > sizeof *out)
		return fail(why, "number does not fit 64 bits");
	uint64_t x = (p[0] & SIGN_BIT) ? UINT64_MAX : 0;   /* sign-extend */
	for (size_t i = 0; i < n; i++)
		x = x << BITS_PER_OCTET | p[i];
	*out = (int64_t)x;
	return 0;
}

int ber_get_uint(const struct ber_tlv *t, uint64_t *out, const char **why)
{
	const uint8_t *p = t->v;
	size_t n = t->len;
	if (n == 0)
		return fail(why, "empty number");
	if (p[0] & SIGN_BIT)
		return fail(why, "negative number");
	while (n > 1 && p[0] == 0x00) {
		p++;
		n--;
	}
	if (n > sizeof *out)
		return fail(why, "number above 2^64 - 1");
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++)
		x = x << BITS_PER_OCTET | p[i];
	*out = x;
	return 0;
}

const char *ber_tag_name(uint8_t tag)
{
	switch (tag) {
	case BER_INTEGER:      return "INTEGER";
	case BER_OCTET_STRING: return "OCTET STRING";
	case BER_NULL:         return "NULL";
	case BER_SEQUENCE:     return "SEQUENCE";
	case BER_COUNTER32:    return "Counter32";
	case BER_GAUGE32:      return "Gauge32";
	case BER_TIMETICKS:    return "TimeTicks";
	case BER_OPAQUE:       return "Opaque";
	case BER_COUNTER64:    return "Counter64";
	default:               return "unknown tag";
	}
}
