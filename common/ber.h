/*
 * ber.h — the small part of BER (X.690) that SNMP flow packages need:
 * single-octet tags, definite lengths (short and long form), INTEGER,
 * OCTET STRING, NULL, SEQUENCE and the SNMPv2 application types (RFC 2578:
 * Counter32, Gauge32, TimeTicks, Opaque, Counter64).
 *
 * Encoding goes through a cursor over a caller buffer: every write checks
 * the room left and a failed one makes the cursor sticky-failed, so a
 * caller encodes a whole structure and checks once at the end.
 * Decoding reads one TLV at a time and never looks outside the input.
 */
#ifndef NTM_BER_H
#define NTM_BER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tags (identifier octets) used by SNMP. */
enum ber_tag {
	BER_INTEGER      = 0x02,
	BER_OCTET_STRING = 0x04,
	BER_NULL         = 0x05,
	BER_SEQUENCE     = 0x30,   /* constructed, universal 16 */
	BER_COUNTER32    = 0x41,   /* [APPLICATION 1] */
	BER_GAUGE32      = 0x42,   /* [APPLICATION 2] */
	BER_TIMETICKS    = 0x43,   /* [APPLICATION 3] */
	BER_OPAQUE       = 0x44,   /* [APPLICATION 4] */
	BER_COUNTER64    = 0x46    /* [APPLICATION 6] */
};

#define BER_TAG_HIGH_FORM   0x1f   /* low 5 bits: a multi-octet tag follows */
#define BER_LEN_LONG        0x80   /* length octet: long form, low 7 bits = octets */
#define BER_LEN_SHORT_MAX   0x7f   /* largest length in short form */
#define BER_LEN_OCTETS_MAX  4      /* long-form length octets accepted (< 4 GB) */
#define BER_HEADER_MAX      (2 + BER_LEN_OCTETS_MAX)
/* Contents of an unsigned 64-bit number: 8 octets plus a leading 0x00
 * when the top bit is set (it would read as negative otherwise). */
#define BER_UINT64_MAX_OCTETS 9

/* ---- encoding ---- */

struct ber_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;      /* octets written */
	bool failed;     /* a write did not fit: the contents are unusable */
};

static inline void ber_writer_init(struct ber_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->failed = false;
}

/* Octets of a length field for contents of `len` octets (1 .. 5). */
size_t ber_len_size(size_t len);
/* Contents octets of INTEGER v (minimal two's complement, 1 .. 8). */
size_t ber_int_size(int64_t v);
/* Contents octets of unsigned v (minimal, 0x00 first when the top bit of
 * the first octet would be set; 1 .. 9). */
size_t ber_uint_size(uint64_t v);

/* Identifier and length octets. */
void ber_put_header(struct ber_writer *w, uint8_t tag, size_t len);
/* A signed INTEGER (or any tag with integer contents). */
void ber_put_int(struct ber_writer *w, uint8_t tag, int64_t v);
/* An unsigned number: Counter32/64, Gauge32, TimeTicks, or a non-negative
 * INTEGER. */
void ber_put_uint(struct ber_writer *w, uint8_t tag, uint64_t v);
void ber_put_octets(struct ber_writer *w, uint8_t tag, const void *p, size_t len);
void ber_put_null(struct ber_writer *w);
/* Raw octets (contents already encoded). */
void ber_put_raw(struct ber_writer *w, const void *p, size_t len);

/*
 * Constructed values whose length is known only at the end: mark =
 * ber_begin(w); write the contents; ber_end(w, mark, BER_SEQUENCE) puts the
 * header in front (moving the contents by the header's size).
 */
static inline size_t ber_begin(const struct ber_writer *w)
{
	return w->len;
}
void ber_end(struct ber_writer *w, size_t mark, uint8_t tag);

/* ---- decoding ---- */

/* One TLV: tag, and contents v[0..len) inside the input. */
struct ber_tlv {
	uint8_t tag;
	const uint8_t *v;
	size_t len;
};

/*
 * The TLV at the start of buf[0..len): *used = its total size.  Returns 0,
 * or -1 with *why ("truncated length", "indefinite length", ...) when the
 * input holds no complete TLV: a multi-octet tag, an indefinite or reserved
 * length form, more than BER_LEN_OCTETS_MAX length octets, or contents
 * running past the input.
 */
int ber_read(const uint8_t *buf, size_t len, struct ber_tlv *out,
	     size_t *used, const char **why);

/* Contents as a signed INTEGER (1 .. 8 octets after redundant sign
 * octets).  0, or -1 with *why. */
int ber_get_int(const struct ber_tlv *t, int64_t *out, const char **why);
/* Contents as an unsigned number: a leading 0x00 allowed, negative values
 * and values above 2^64 - 1 refused.  0, or -1 with *why. */
int ber_get_uint(const struct ber_tlv *t, uint64_t *out, const char **why);

/* Is tag one of the number types (INTEGER, Counter32/64, Gauge32,
 * TimeTicks)? */
static inline bool ber_is_number(uint8_t tag)
{
	return tag == BER_INTEGER || tag == BER_COUNTER32 ||
	       tag == BER_GAUGE32 || tag == BER_TIMETICKS ||
	       tag == BER_COUNTER64;
}

/* "INTEGER", "Counter64", ... for messages; "tag 0xNN" style names are
 * not built (no buffer): unknown tags read "unknown tag". */
const char *ber_tag_name(uint8_t tag);

#endif
