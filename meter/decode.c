/*
 * decode.c — link, network, transport and DNS header decode (contract in
 * decode.h).  Every read is preceded by a bounds check against the captured
 * end; offsets are size_t so no sum of a 32-bit caplen and a 16-bit length
 * can wrap.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "cacheline.h"
#include "decode.h"

/* ---- wire layouts (offsets from the start of each header) ------------- */

/*
 * The capture back ends lay a batch's packets out one after the other in
 * one buffer (a mapped window of a trace file, a TPACKET_V3 block), so the
 * bytes this far past a packet's data are the records of a batch to come:
 * each decode asks for the two cache lines there (two cover the ~100-byte
 * records of DNS traffic), one packet at a time.  The pcap reader asked
 * for them itself, but its loop takes a batch of 64 records in a burst and
 * stalled on those prefetches (~12 % of the cycles of `ntm-meter --read`
 * on the bench trace); spread over the packets' decodes they cost ~5 % less
 * time end to end.  More than a batch of such records ahead, so that the
 * reader's loop finds every header of its batch already fetched.  A back
 * end whose packets lie apart (DPDK mbufs) only fetches two unused lines.
 */
#define DECODE_STREAM_AHEAD 8192

#define ETH_HDR_LEN        14
#define ETH_OFF_DST        0
#define ETH_OFF_SRC        6
#define ETH_OFF_TYPE       12
#define ETH_ADDR_LEN       6
#define ETHERTYPE_IPV4     0x0800
#define ETHERTYPE_IPV6     0x86DD
#define ETHERTYPE_VLAN     0x8100   /* 802.1Q C-tag */
#define ETHERTYPE_QINQ     0x88A8   /* 802.1ad S-tag */
#define ETHERTYPE_QINQ_OLD 0x9100   /* pre-standard S-tag */
#define VLAN_TAG_LEN       4        /* TCI(2) then the inner ethertype(2) */
#define VLAN_OFF_TCI       0
#define VLAN_OFF_TYPE      2
#define VLAN_ID_MASK       0x0FFF
#define VLAN_KEEP          2        /* ids kept in pkt_info.vlan[] */
#define VLAN_COUNT_MAX     255      /* n_vlan saturates here */

/* Linux cooked capture v1: pkttype(2) hatype(2) halen(2) addr(8) proto(2). */
#define SLL_HDR_LEN        16
#define SLL_OFF_PROTO      14
/* v2: proto(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8). */
#define SLL2_HDR_LEN       20
#define SLL2_OFF_PROTO     0

/* PPPoE session stage (RFC 2516): ver/type(1) code(1) session(2) length(2),
 * then the PPP protocol number (RFC 1661). */
#define ETHERTYPE_PPPOE_SESSION 0x8864
#define PPPOE_HDR_LEN      6
#define PPPOE_VER_TYPE     0x11
#define PPPOE_CODE_SESSION 0x00
#define PPP_PROTO_LEN      2
#define PPP_PROTO_IPV4     0x0021
#define PPP_PROTO_IPV6     0x0057

/* MPLS label stack entries (RFC 3032): label(20) TC(3) S(1) TTL(8). */
#define ETHERTYPE_MPLS_UC  0x8847
#define ETHERTYPE_MPLS_MC  0x8848
#define MPLS_LABEL_LEN     4
#define MPLS_OFF_BOS       2
#define MPLS_BOS           0x01

#define IP_VERSION_SHIFT   4
#define IP_VERSION_4       4
#define IP_VERSION_6       6

#define IPV4_HDR_MIN       20
#define IPV4_VER_IHL_MIN   0x45     /* version 4, IHL 5: no options */
#define IPV4_IHL_MASK      0x0F
#define IPV4_IHL_UNIT      4
#define IPV4_OFF_TOS       1
#define IPV4_OFF_TOTLEN    2
#define IPV4_OFF_FRAG      6
#define IPV4_FRAG_MF       0x2000
#define IPV4_FRAG_OFF_MASK 0x1FFF
#define IPV4_OFF_PROTO     9
#define IPV4_OFF_SRC       12
#define IPV4_OFF_DST       16
#define IPV4_ADDR_LEN      4

#define IPV6_HDR_LEN       40
#define IPV6_OFF_PLEN      4
#define IPV6_OFF_NEXT      6
#define IPV6_OFF_SRC       8
#define IPV6_OFF_DST       24
#define IPV6_ADDR_LEN      16
#define IPV6_TC_SHIFT      4        /* TC: bits 11..4 of the first word */

#define DSCP_SHIFT         2        /* DSCP is the upper 6 bits of TOS / TC */

/* Address Family Numbers (IANA), the RFC 2722 PeerType values. */
#define AFN_IPV4           1
#define AFN_IPV6           2

/* IPv6 extension headers (RFC 8200 §4, RFC 4302, RFC 6275). */
#define IP6_HOPOPTS        0
#define IP6_ROUTING        43
#define IP6_FRAGMENT       44
#define IP6_AH             51
#define IP6_NONE           59
#define IP6_DSTOPTS        60
#define IP6_MOBILITY       135
#define IP6_EXT_OFF_NEXT   0
#define IP6_EXT_OFF_LEN    1
#define IP6_EXT_MIN        2        /* next header + length: enough to walk */
#define IP6_EXT_UNIT       8        /* generic: (len + 1) * 8 bytes */
#define IP6_AH_UNIT        4        /* AH: (len + 2) * 4 bytes */
#define IP6_AH_BIAS        2
#define IP6_FRAG_HDR_LEN   8
#define IP6_FRAG_OFF_FO    2
#define IP6_FRAG_OFF_MASK  0xFFF8
#define IP6_FRAG_M         0x0001

#define PROTO_TCP          6
#define PROTO_UDP          17

#define UDP_HDR_LEN        8
#define UDP_OFF_SPORT      0
#define UDP_OFF_DPORT      2
#define TCP_HDR_MIN        20
#define TCP_OFF_SPORT      0
#define TCP_OFF_DPORT      2
#define TCP_OFF_DOFF       12
#define TCP_OFF_FLAGS      13
#define TCP_DOFF_SHIFT     4
#define TCP_DOFF_UNIT      4

/* DNS (RFC 1035 §4.1; RFC 7766 for the TCP length prefix). */
#define DNS_TCP_PREFIX_LEN 2
#define DNS_HDR_LEN        12
#define DNS_OFF_ID         0
#define DNS_OFF_FLAGS1     2        /* QR opcode(4) AA TC RD */
#define DNS_OFF_FLAGS2     3        /* RA Z AD CD rcode(4) */
#define DNS_OFF_QDCOUNT    4
#define DNS_OFF_ANCOUNT    6
#define DNS_QR_SHIFT       7
#define DNS_OPCODE_SHIFT   3
#define DNS_OPCODE_MASK    0x0F
#define DNS_RCODE_MASK     0x0F
#define DNS_LABEL_TYPE     0xC0     /* 00 = length; 11 pointer; 01/10 reserved */
#define DNS_NAME_MAX       255      /* wire length, root label included */
#define DNS_LABEL_LEN_MAX  (0xFF & ~DNS_LABEL_TYPE)  /* 63: type bits 00 */
#define DNS_QTAIL_LEN      4        /* QTYPE(2) QCLASS(2) */

/* QNAME hash: 64-bit multiply-xorshift over 8-byte little-endian words. */
#define QH_SEED            0x243f6a8885a308d3ull   /* pi, any odd constant */
#define QH_MUL1            0x9e3779b97f4a7c15ull   /* 2^64 / golden ratio */
#define QH_MUL2            0xff51afd7ed558ccdull   /* MurmurHash3 fmix64 */
#define QH_WORD            8
#define QH_BITS            64                      /* bits in a word */
#define QH_WORD_BITS(n)    (8u * (n))              /* bits in n bytes */
#define QH_SHIFT           29                      /* bring high bits down */
#define QH_FOLD            32                      /* 64 -> 32 bits */
#define SWAR_ONES          0x0101010101010101ull
#define SWAR_HIGH          0x8080808080808080ull
#define SWAR_CASE_SHIFT    2                       /* 0x80 >> 2 = 0x20 */

#define PAYLOAD_LEN_MAX    0xFFFF

/* ---- bounded readers --------------------------------------------------- */

/* True when [off, off + n) lies inside the first `cap` bytes. */
static inline bool has(size_t cap, size_t off, size_t n)
{
	return off <= cap && n <= cap - off;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* A host-order 16-bit value as it lies on the wire, read as a host word
 * (a constant for a constant): compares and masks of a field against it
 * need no byte swap of the field. */
static inline uint16_t wire16(uint16_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

/* The big-endian 16-bit field at p as it lies, for wire16() values. */
static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t w;
	memcpy(&w, p, sizeof w);
	return w;
}

/* Whether the big-endian 16-bit field at p has any bit of mask set. */
static inline bool be16_any(const uint8_t *p, uint16_t mask)
{
	return (ld16(p) & wire16(mask)) != 0;
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Two neighbouring big-endian 16-bit fields at p into two neighbouring
 * host-order ones at dst (the first at the lower address): one load and
 * one store. */
static inline void rd16_pair(void *dst, const uint8_t *p)
{
	uint32_t both = rd32(p);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* the first field is the low half of a little-endian word */
	both = both << 16 | both >> 16;
#endif
	memcpy(dst, &both, sizeof both);
}

static inline size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static inline uint16_t sat16(size_t n)
{
	return n > PAYLOAD_LEN_MAX ? PAYLOAD_LEN_MAX : (uint16_t)n;
}

static inline uint64_t rd_le64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* Fewer than 8 bytes as a little-endian word, zero-padded. */
static inline uint64_t rd_le_short(const uint8_t *p, unsigned n)
{
	uint64_t w = 0;
	for (unsigned i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

/* ASCII A-Z to a-z in eight bytes at once; bytes >= 0x80 are left alone.
 * Adding to the low seven bits cannot carry into the next byte. */
static inline uint64_t swar_lower(uint64_t w)
{
	uint64_t low7 = w & ~SWAR_HIGH;
	uint64_t ge_a = low7 + SWAR_ONES * (0x80 - 'A');
	uint64_t gt_z = low7 + SWAR_ONES * (0x80 - 'Z' - 1);
	/* gt_z's high bit implies ge_a's, so xor is "ge_a and not gt_z";
	 * ~(w | low-seven mask) is ~w & SWAR_HIGH with one constant fewer
	 * to keep in a register */
	uint64_t upper = (ge_a ^ gt_z) & ~(w | ~SWAR_HIGH);
	return w | upper >> SWAR_CASE_SHIFT;
}

static inline uint64_t qh_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * QH_MUL1;
	return h ^ h >> QH_SHIFT;
}

/* Where the IP layer leaves the transport layer, as lengths from there so
 * that each transport check is one compare. */
struct l4 {
	const uint8_t *t;  /* first byte after the IP header(s), when captured
			      (cap_len > 0); a pointer, not an offset, so that
			      the fast path needs no frame start for it */
	size_t len;        /* datagram bytes from t (may pass the capture) */
	size_t cap_len;    /* of those, the captured ones (<= len) */
	bool len16;        /* len <= PAYLOAD_LEN_MAX: no payload to saturate */
};

/* The l4 of the datagram [pos, end) of frame d, pos <= end, captured up to
 * cap.  A capture that stops before pos (an IPv6 extension header chain
 * cut short) captured none of it: t is then the capture's end, which
 * nothing reads. */
static inline struct l4 l4_at(const uint8_t *d, size_t pos, size_t end, size_t cap)
{
	size_t cap_end = min_sz(end, cap);
	return (struct l4){ .t = d + min_sz(pos, cap), .len = end - pos,
			    .cap_len = cap_end > pos ? cap_end - pos : 0, .len16 = false };
}

/* payload_len for n of the datagram's bytes (n <= l->len).  len16 is a
 * constant where the l4 is built in the same function: the fast path's
 * datagrams, whose lengths are 16-bit fields, need no saturation. */
static inline uint16_t l4_bytes(const struct l4 *l, size_t n)
{
	return l->len16 ? (uint16_t)n : sat16(n);
}

/* payload_len: the datagram's bytes after the first hdr (<= l->len). */
static inline uint16_t l4_payload(const struct l4 *l, size_t hdr)
{
	return l4_bytes(l, l->len - hdr);
}

/*
 * Zero *out's network and transport layers (from PKT_INFO_NET on) with a
 * few wide stores.  GCC compiles a plain memset of the struct to `rep
 * stos` (about 11 more instructions a packet under callgrind, and a slow
 * start on real CPUs), but a memset of at most ZERO_CHUNK bytes to vector
 * stores of one zeroed register: so the struct goes as such pieces, one
 * memset each (GCC and clang alike; no loop, which GCC would turn back
 * into one memset).
 */
#define ZERO_CHUNK 64
/* The head of pkt_info: the packet's own fields, copied with the link
 * type that follows them in struct pkt as one block (pkt_info_head()). */
#define PKT_INFO_HEAD (offsetof(struct pkt_info, mac) + 1)
/* Where the fields that decode zeroes before anything else begin.  The
 * link layer's before them (has_mac, mac[], n_vlan, vlan[]; the link
 * type's two bytes of the head copy land on has_mac and the first MAC
 * byte) are written whole by eth_macs() on every way out of decode_fast(),
 * and zeroed by decode_general() itself. */
#define PKT_INFO_NET offsetof(struct pkt_info, ip_version)
static inline void pkt_info_zero(struct pkt_info *out)
{
	_Static_assert(sizeof(struct pkt_info) - PKT_INFO_NET > ZERO_CHUNK &&
		       sizeof(struct pkt_info) - PKT_INFO_NET <= 2 * ZERO_CHUNK,
		       "the rest of struct pkt_info is two pieces");
	unsigned char *b = (unsigned char *)out + PKT_INFO_NET;
	memset(b, 0, ZERO_CHUNK);
	memset(b + ZERO_CHUNK, 0, sizeof *out - PKT_INFO_NET - ZERO_CHUNK);
}

/* ts_ns, wirelen and ifindex of p into out's head, one 16-byte copy. */
static inline void pkt_info_head(struct pkt_info *out, const struct pkt *p)
{
	_Static_assert(offsetof(struct pkt_info, ts_ns) == 0 &&
		       offsetof(struct pkt_info, wirelen) == sizeof out->ts_ns &&
		       offsetof(struct pkt_info, ifindex) ==
		       offsetof(struct pkt_info, wirelen) + sizeof out->wirelen &&
		       offsetof(struct pkt_info, has_mac) ==
		       offsetof(struct pkt_info, ifindex) + sizeof out->ifindex &&
		       offsetof(struct pkt_info, mac) ==
		       offsetof(struct pkt_info, has_mac) + sizeof out->has_mac,
		       "the head is those fields, no padding");
	_Static_assert(offsetof(struct pkt, ts_ns) == offsetof(struct pkt_info, ts_ns) &&
		       offsetof(struct pkt, wirelen) == offsetof(struct pkt_info, wirelen) &&
		       offsetof(struct pkt, ifindex) == offsetof(struct pkt_info, ifindex) &&
		       offsetof(struct pkt, link) == offsetof(struct pkt_info, has_mac) &&
		       offsetof(struct pkt, link) + sizeof p->link == PKT_INFO_HEAD,
		       "struct pkt begins with the head's fields, then link");
	memcpy(out, p, PKT_INFO_HEAD);
}

static enum pkt_bad finish(struct pkt_info *out, enum pkt_bad bad)
{
	out->bad = (uint8_t)bad;
	return bad;
}

/* ---- DNS ----------------------------------------------------------------- */

/* the 32-bit hash from the last state */
static inline uint32_t qh_fold(uint64_t h)
{
	h *= QH_MUL2;
	h ^= h >> QH_FOLD;
	return (uint32_t)h;
}

/*
 * A byte-at-a-time hash (FNV-1a) cost half of decode's time on a typical
 * query; eight bytes per multiply brings that down to a few ns.  The length
 * goes into the seed so zero padding of the last word cannot collide.
 * wire[0, len), len >= 1: every word in one loop body, the last one too
 * (one copy of the folding's constants, in registers for every word).
 * The last word, whole or not, is one load of the 8 bytes that end where
 * the name does, shifted down to the name's bytes (zero-padded, as the
 * hash pads it), when those 8 bytes may be read: always with `before`
 * (a QNAME after its message's header), else when the name has 8 bytes;
 * otherwise the byte loop.  `before` is a constant in each caller.
 */
static inline uint32_t qh_hash(const uint8_t *wire, unsigned len, bool before)
{
	uint64_t h = QH_SEED ^ len;
	const uint8_t *p = wire;
	for (unsigned left = len;; left -= QH_WORD, p += QH_WORD) {
		uint64_t w;
		if (left > QH_WORD)
			w = rd_le64(p);
		else if (before || len >= QH_WORD)
			/* drop the 8 - left bytes before p, a shift of
			 * (64 - 8 * left) mod 64, which x86 takes without
			 * a mask */
			w = rd_le64(p + left - QH_WORD) >>
			    ((0u - QH_WORD_BITS(left)) % QH_BITS);
		else
			w = rd_le_short(p, left);
		h = qh_mix(h, swar_lower(w));
		if (left <= QH_WORD)
			return qh_fold(h);
	}
}

uint32_t decode_qname_hash(const uint8_t *wire, unsigned len)
{
	if (len == 0)
		return qh_fold(QH_SEED);    /* no word to mix */
	return qh_hash(wire, len, false);
}

/* decode_qname_hash() of a QNAME (len >= 1) right after its message's
 * header, whose bytes before the name may be read. */
static inline uint32_t qname_hash_in_message(const uint8_t *wire, unsigned len)
{
	_Static_assert(DNS_HDR_LEN >= QH_WORD - 1,
		       "the header covers the last word's load back from the name's end");
	return qh_hash(wire, len, true);
}

/* qname_hash_in_message() out of line, for names of more than a word, and
 * storing the hash itself: its loop's constants need callee-saved
 * registers, which dns_decode() would otherwise save and restore for
 * every question, and as a tail call it keeps no register of the caller's
 * alive.  Returns PKT_OK for dns_decode() to return (see there). */
static __attribute__((noinline)) enum pkt_bad
qname_hash_long(uint32_t *hash, const uint8_t *wire, unsigned len)
{
	*hash = qname_hash_in_message(wire, len);
	return PKT_OK;
}

/* The four bytes qr, opcode, rcode, flags of struct pkt_dns, in memory
 * order, as one host word. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define DNS_FLAGS_WORD(qr, op, rc, fl) \
	((uint32_t)(qr) << 24 | (uint32_t)(op) << 16 | (uint32_t)(rc) << 8 | (uint32_t)(fl))
#else
#define DNS_FLAGS_WORD(qr, op, rc, fl) \
	((uint32_t)(qr) | (uint32_t)(op) << 8 | (uint32_t)(rc) << 16 | (uint32_t)(fl) << 24)
#endif
/* What header byte 2 (QR opcode AA TC RD) and byte 3 (RA Z AD CD rcode)
 * give of those, each a table of the byte's 256 values made by the
 * preprocessor: decoding a header's flags is then two loads and an or,
 * where shifting and masking each field took about twenty instructions. */
#define DNS_FLAGS1_ENTRY(b) \
	DNS_FLAGS_WORD((b) >> DNS_QR_SHIFT, ((b) >> DNS_OPCODE_SHIFT) & DNS_OPCODE_MASK, 0, \
		       (b) & (DECODE_DNS_AA | DECODE_DNS_TC | DECODE_DNS_RD))
#define DNS_FLAGS2_ENTRY(b) \
	DNS_FLAGS_WORD(0, 0, (b) & DNS_RCODE_MASK, (b) & DECODE_DNS_RA)
#define BYTE_TABLE4(E, b)  E(b), E((b) + 1), E((b) + 2), E((b) + 3)
#define BYTE_TABLE16(E, b) BYTE_TABLE4(E, b), BYTE_TABLE4(E, (b) + 4), \
			   BYTE_TABLE4(E, (b) + 8), BYTE_TABLE4(E, (b) + 12)
#define BYTE_TABLE64(E, b) BYTE_TABLE16(E, b), BYTE_TABLE16(E, (b) + 16), \
			   BYTE_TABLE16(E, (b) + 32), BYTE_TABLE16(E, (b) + 48)
#define BYTE_TABLE(E)      BYTE_TABLE64(E, 0), BYTE_TABLE64(E, 64), \
			   BYTE_TABLE64(E, 128), BYTE_TABLE64(E, 192)
#define BYTE_VALUES        256
static const uint32_t dns_flags1_word[BYTE_VALUES] = { BYTE_TABLE(DNS_FLAGS1_ENTRY) };
static const uint32_t dns_flags2_word[BYTE_VALUES] = { BYTE_TABLE(DNS_FLAGS2_ENTRY) };

/* m points at a DNS header of which `avail` bytes (>= DNS_HDR_LEN) may be
 * read: captured, and inside the message.  out->dns is zero but for
 * over_tcp, which a TCP caller sets (UDP leaves the zero: no store and no
 * argument for the common message).  Returns PKT_OK, the result of the
 * packet the message is in, so that decode_fast() can end with this call:
 * as a tail call it needs no stack frame, which the fast path would
 * otherwise set up for every packet. */
static enum pkt_bad dns_decode(const uint8_t *m, struct pkt_info *out, size_t avail)
{
	struct pkt_dns *dns = &out->dns;

	out->dns_present = true;
	dns->id = rd16(m + DNS_OFF_ID);
	/* qr, opcode, rcode and flags: two table words, one store */
	_Static_assert(offsetof(struct pkt_dns, opcode) == offsetof(struct pkt_dns, qr) + 1 &&
		       offsetof(struct pkt_dns, rcode) == offsetof(struct pkt_dns, qr) + 2 &&
		       offsetof(struct pkt_dns, flags) == offsetof(struct pkt_dns, qr) + 3,
		       "the four flag fields are neighbours, in DNS_FLAGS_WORD's order");
	uint32_t fw = dns_flags1_word[m[DNS_OFF_FLAGS1]] | dns_flags2_word[m[DNS_OFF_FLAGS2]];
	memcpy(&dns->qr, &fw, sizeof fw);
	_Static_assert(DNS_OFF_ANCOUNT == DNS_OFF_QDCOUNT + 2 &&
		       offsetof(struct pkt_dns, ancount) ==
		       offsetof(struct pkt_dns, qdcount) + sizeof dns->qdcount,
		       "QDCOUNT and ANCOUNT are neighbours in both");
	rd16_pair(&dns->qdcount, m + DNS_OFF_QDCOUNT);
	if (dns->qdcount == 0)
		return PKT_OK;

	/* First QNAME: plain labels only.  A pointer cannot refer backwards
	 * from the first name of a message, so one here means garbage.
	 * One bound per label: a length byte must lie inside the captured
	 * message and leave room for the root label within DNS_NAME_MAX. */
	size_t lim = min_sz(avail, DNS_HDR_LEN + DNS_NAME_MAX);
	size_t pos = DNS_HDR_LEN;
	uint8_t len;
	for (;;) {
		if (pos >= lim)
			return PKT_OK;
		len = m[pos];
		/* one test for 1..63, a label: 0 (the root) wraps to 255,
		 * and the other label types stay at 63 or more */
		if ((uint8_t)(len - 1u) >= DNS_LABEL_LEN_MAX)
			break;
		pos += (size_t)len + 1;
	}
	if (len != 0)
		return PKT_OK;
	/* the root label and QTYPE/QCLASS; pos < lim <= avail here */
	if (avail - pos <= DNS_QTAIL_LEN)
		return PKT_OK;
	pos++;
	unsigned name_len = (unsigned)(pos - DNS_HDR_LEN);
	dns->has_question = true;
	dns->qname_len = (uint8_t)name_len;
	_Static_assert(offsetof(struct pkt_dns, qclass) ==
		       offsetof(struct pkt_dns, qtype) + sizeof dns->qtype,
		       "QTYPE and QCLASS are neighbours in both");
	rd16_pair(&dns->qtype, m + pos);
	if (name_len > QH_WORD)
		return qname_hash_long(&dns->qname_hash, m + DNS_HDR_LEN, name_len);
	dns->qname_hash = qname_hash_in_message(m + DNS_HDR_LEN, name_len);
	return PKT_OK;
}

/* ---- transport ----------------------------------------------------------- */

/* has_ports and port[] from the source and destination ports at t (UDP
 * and TCP alike), one load for both. */
static inline void ports_set(struct pkt_info *out, const uint8_t *t)
{
	_Static_assert(UDP_OFF_DPORT == UDP_OFF_SPORT + 2 && UDP_OFF_SPORT == 0 &&
		       TCP_OFF_SPORT == 0 && TCP_OFF_DPORT == UDP_OFF_DPORT,
		       "both ports in one big-endian word at the header's start");
	out->has_ports = true;
	_Static_assert(sizeof out->port == 2 * sizeof out->port[0], "two ports");
	rd16_pair(out->port, t);
}

/* The transport decoders return PKT_OK (see dns_decode()). */
static inline __attribute__((always_inline)) enum pkt_bad
udp_decode(const struct l4 *l, struct pkt_info *out)
{
	if (l->cap_len < UDP_HDR_LEN)
		return PKT_OK;
	const uint8_t *u = l->t;
	ports_set(out, u);
	out->payload_len = l4_payload(l, UDP_HDR_LEN);
	if (decode_is_dns_port(out) && l->cap_len >= UDP_HDR_LEN + DNS_HDR_LEN)
		return dns_decode(u + UDP_HDR_LEN, out, l->cap_len - UDP_HDR_LEN);
	return PKT_OK;
}

/* A prefixed message at `at` that may be a real one: long enough for a
 * header, and at most one question (a header with more is the middle of
 * some other message; RFC 9619 allows only one). */
static bool tcp_prefixed_plausible(const uint8_t *d, size_t at, size_t cap_end)
{
	if (!has(cap_end, at, DNS_TCP_PREFIX_LEN + DNS_OFF_QDCOUNT + 2))
		return false;
	return rd16(d + at) >= DNS_HDR_LEN &&
	       rd16(d + at + DNS_TCP_PREFIX_LEN + DNS_OFF_QDCOUNT) <= 1;
}

/* The first DNS message of a TCP payload [data, end), decode is stateless,
 * so this is decided from the segment alone:
 *  1. a length prefix that exactly covers the segment: one whole message;
 *  2. QDCOUNT 1 at offset 4 with no prefix: a message whose prefix went in
 *     an earlier segment (stubs that write() the length and the message
 *     separately).  Read as a prefixed header, those bytes would be flags
 *     0x0001, a query with rcode FORMERR, which does not occur;
 *  3. a plausible prefixed header: pipelined messages, or one continuing
 *     in later segments.
 * Sets *msg and *msg_end (message bounds, possibly past the capture) and
 * *next (offset of a following prefix, or 0). */
static inline __attribute__((always_inline)) bool
tcp_dns_locate(const uint8_t *d, size_t data, size_t end, size_t cap_end,
	       size_t *msg, size_t *msg_end, size_t *next)
{
	*next = 0;
	if (!has(cap_end, data, DNS_TCP_PREFIX_LEN))
		return false;
	size_t v = rd16(d + data);
	if (v >= DNS_HDR_LEN && v + DNS_TCP_PREFIX_LEN == end - data) {
		*msg = data + DNS_TCP_PREFIX_LEN;
		*msg_end = end;
		return true;
	}
	if (has(cap_end, data, DNS_OFF_QDCOUNT + 2) && rd16(d + data + DNS_OFF_QDCOUNT) == 1) {
		*msg = data;
		*msg_end = end;
		return true;
	}
	if (!tcp_prefixed_plausible(d, data, cap_end))
		return false;
	*msg = data + DNS_TCP_PREFIX_LEN;
	*msg_end = min_sz(*msg + v, end);
	if (*msg + v < end)
		*next = *msg + v;
	return true;
}

/* The DNS message(s) of a TCP segment to the DNS port whose payload is
 * [data, end), captured up to cap_end.  Out of line: few segments get
 * here, and the rest then need no registers for it. */
static __attribute__((noinline)) enum pkt_bad
tcp_dns(const uint8_t *d, size_t data, size_t end, size_t cap_end,
	struct pkt_info *out, struct decode_cursor *cur)
{
	size_t msg, msg_end, next;
	if (!tcp_dns_locate(d, data, end, cap_end, &msg, &msg_end, &next))
		return PKT_OK;
	if (!has(cap_end, msg, DNS_HDR_LEN))
		return PKT_OK;
	cur->next = next;
	cur->end = end;
	out->dns.over_tcp = true;
	return dns_decode(d + msg, out, min_sz(cap_end, msg_end) - msg);
}

static inline __attribute__((always_inline)) enum pkt_bad
tcp_decode(const uint8_t *d, const struct l4 *l, struct pkt_info *out,
	   struct decode_cursor *cur)
{
	if (l->cap_len < TCP_HDR_MIN)
		return PKT_OK;
	const uint8_t *t = l->t;
	size_t doff = (size_t)(t[TCP_OFF_DOFF] >> TCP_DOFF_SHIFT) * TCP_DOFF_UNIT;
	ports_set(out, t);
	out->tcp_flags = t[TCP_OFF_FLAGS];
	/* A data offset below the minimum or past the datagram: keep what the
	 * fixed header said, but there is no payload to trust. */
	size_t payload;     /* the subtraction's borrow is the test doff > len */
	if (doff < TCP_HDR_MIN || __builtin_sub_overflow(l->len, doff, &payload))
		return PKT_OK;
	out->payload_len = l4_bytes(l, payload);
	if (decode_is_dns_port(out)) {
		size_t pos = (size_t)(t - d);
		return tcp_dns(d, pos + doff, pos + l->len, pos + l->cap_len, out, cur);
	}
	return PKT_OK;
}

static inline __attribute__((always_inline)) enum pkt_bad
transport_decode(const uint8_t *d, const struct l4 *l, uint8_t proto,
		 struct pkt_info *out, struct decode_cursor *cur)
{
	switch (proto) {
	case PROTO_UDP:
		return udp_decode(l, out);
	case PROTO_TCP:
		return tcp_decode(d, l, out, cur);
	default:
		/* ICMP, ICMPv6 and the rest: protocol only, no ports. */
		out->payload_len = l4_payload(l, 0);
		return PKT_OK;
	}
}

/* ---- network ------------------------------------------------------------- */

/* ip_version and peer_type, before addr[0] is written: one store of a
 * 4-byte constant, whose last two bytes (zero) land on addr[0], which the
 * caller then writes (GCC would otherwise load the two bytes' constant
 * from memory and store it, 16-bit immediates being slow to decode). */
static inline void ip_kind(struct pkt_info *out, uint8_t version, uint8_t peer_type)
{
	_Static_assert(offsetof(struct pkt_info, peer_type) ==
		       offsetof(struct pkt_info, ip_version) + 1 &&
		       offsetof(struct pkt_info, addr) ==
		       offsetof(struct pkt_info, ip_version) + 2,
		       "ip_version, peer_type and addr[0] are neighbours");
	const uint8_t kind[sizeof(uint32_t)] = { version, peer_type, 0, 0 };
	memcpy(&out->ip_version, kind, sizeof kind);
}

/* The fields of a usable IPv4 header at ip (IHL bytes captured). */
static inline void ipv4_fields(const uint8_t *ip, struct pkt_info *out)
{
	/* The protocol read before any store (which for all the compiler
	 * knows may change ip[]), so that a caller's read of it is the same
	 * load; the TOS after the protocol's store, which keeps GCC from
	 * merging the two byte stores into one that costs a shift and an
	 * or. */
	uint8_t proto = ip[IPV4_OFF_PROTO];
	out->proto = proto;
	out->dscp = (uint8_t)(ip[IPV4_OFF_TOS] >> DSCP_SHIFT);
	ip_kind(out, IP_VERSION_4, AFN_IPV4);
	memcpy(out->addr[0], ip + IPV4_OFF_SRC, IPV4_ADDR_LEN);
	memcpy(out->addr[1], ip + IPV4_OFF_DST, IPV4_ADDR_LEN);
}

/* The fields of a captured IPv6 header at ip, all but proto (which comes
 * from the end of the extension header chain). */
static inline void ipv6_fields(const uint8_t *ip, struct pkt_info *out)
{
	/* the Traffic Class is bits 11..4 of the first 16-bit word */
	uint8_t tc = (uint8_t)(rd16(ip) >> IPV6_TC_SHIFT);
	ip_kind(out, IP_VERSION_6, AFN_IPV6);
	out->dscp = (uint8_t)(tc >> DSCP_SHIFT);
	memcpy(out->addr[0], ip + IPV6_OFF_SRC, IPV6_ADDR_LEN);
	memcpy(out->addr[1], ip + IPV6_OFF_DST, IPV6_ADDR_LEN);
}

/* IPv4 at d + off, cap bytes captured in all.  Fills l on PKT_OK; a later
 * fragment is reported through out->frag. */
static enum pkt_bad ipv4_decode(const uint8_t *d, size_t cap, size_t off,
				struct pkt_info *out, struct l4 *l)
{
	if (!has(cap, off, 1))
		return PKT_BAD_TRUNC_L3;
	const uint8_t *ip = d + off;
	if (ip[0] >> IP_VERSION_SHIFT != IP_VERSION_4)
		return PKT_BAD_IP_VERSION;
	size_t ihl = (size_t)(ip[0] & IPV4_IHL_MASK) * IPV4_IHL_UNIT;
	if (ihl < IPV4_HDR_MIN)
		return PKT_BAD_IP_HEADER;
	if (!has(cap, off, ihl))
		return PKT_BAD_TRUNC_L3;
	size_t tot = rd16(ip + IPV4_OFF_TOTLEN);
	if (tot < ihl)
		return PKT_BAD_IP_HEADER;

	uint16_t frag = rd16(ip + IPV4_OFF_FRAG);
	ipv4_fields(ip, out);
	if (frag & IPV4_FRAG_OFF_MASK)
		out->frag = PKT_FRAG_LATER;
	else if (frag & IPV4_FRAG_MF)
		out->frag = PKT_FRAG_FIRST;

	*l = l4_at(d, off + ihl, off + tot, cap);
	return PKT_OK;
}

/* Whether next header nh is an extension header ipv6_decode() walks
 * (decode_fast() takes the others). */
static inline bool ipv6_is_ext(uint8_t nh)
{
	switch (nh) {
	case IP6_HOPOPTS:
	case IP6_ROUTING:
	case IP6_FRAGMENT:
	case IP6_AH:
	case IP6_DSTOPTS:
	case IP6_MOBILITY:
		return true;
	default:
		return false;
	}
}

/* IPv6 at d + off and its extension header chain.  frame_end bounds a
 * jumbogram, whose real length is in a hop-by-hop option not read here. */
static enum pkt_bad ipv6_decode(const uint8_t *d, size_t cap, size_t off,
				size_t frame_end, struct pkt_info *out, struct l4 *l)
{
	if (!has(cap, off, 1))
		return PKT_BAD_TRUNC_L3;
	const uint8_t *ip = d + off;
	if (ip[0] >> IP_VERSION_SHIFT != IP_VERSION_6)
		return PKT_BAD_IP_VERSION;
	if (!has(cap, off, IPV6_HDR_LEN))
		return PKT_BAD_TRUNC_L3;

	size_t plen = rd16(ip + IPV6_OFF_PLEN);
	uint8_t nh = ip[IPV6_OFF_NEXT];
	ipv6_fields(ip, out);

	size_t pos = off + IPV6_HDR_LEN;
	size_t end = pos + plen;
	if (plen == 0 && nh == IP6_HOPOPTS)
		end = frame_end > pos ? frame_end : pos;

	/* Walk the chain.  Each header is at least 8 bytes, so the loop is
	 * bounded by the datagram.  A header running past the datagram is
	 * malformed; one running past the capture is cut (TRUNC_L3: the
	 * transport protocol is unknown, the addresses are valid). */
	enum pkt_bad r = PKT_OK;
	for (bool first = true;; first = false) {
		if (!ipv6_is_ext(nh))
			goto out;   /* transport, no-next-header, ESP or unknown: stop */
		size_t len;
		uint8_t next;
		switch (nh) {
		case IP6_HOPOPTS:
			if (!first) {
				r = PKT_BAD_IPV6_EXT;   /* only right after the header */
				goto out;
			}
			/* fall through */
		default:        /* routing, destination options, mobility, AH */
			if (!has(end, pos, IP6_EXT_MIN)) {
				r = PKT_BAD_IPV6_EXT;
				goto out;
			}
			if (!has(cap, pos, IP6_EXT_MIN)) {
				r = PKT_BAD_TRUNC_L3;
				goto out;
			}
			next = d[pos + IP6_EXT_OFF_NEXT];
			if (nh == IP6_AH)
				len = ((size_t)d[pos + IP6_EXT_OFF_LEN] + IP6_AH_BIAS) * IP6_AH_UNIT;
			else
				len = ((size_t)d[pos + IP6_EXT_OFF_LEN] + 1) * IP6_EXT_UNIT;
			break;
		case IP6_FRAGMENT: {
			len = IP6_FRAG_HDR_LEN;
			if (!has(end, pos, len)) {
				r = PKT_BAD_IPV6_EXT;
				goto out;
			}
			if (!has(cap, pos, len)) {
				r = PKT_BAD_TRUNC_L3;
				goto out;
			}
			next = d[pos + IP6_EXT_OFF_NEXT];
			uint16_t fo = rd16(d + pos + IP6_FRAG_OFF_FO);
			if (fo & IP6_FRAG_OFF_MASK)
				out->frag = PKT_FRAG_LATER;
			else if (fo & IP6_FRAG_M)
				out->frag = PKT_FRAG_FIRST;
			break;
		}
		}
		if (!has(end, pos, len)) {
			r = PKT_BAD_IPV6_EXT;
			goto out;
		}
		pos += len;
		nh = next;
		if (out->frag == PKT_FRAG_LATER)
			break;    /* what follows is the middle of a datagram */
	}
out:
	if (r != PKT_OK)
		return r;
	out->proto = nh;
	*l = l4_at(d, pos, end, cap);
	return PKT_OK;
}

/* ---- link ---------------------------------------------------------------- */

/* Every link-layer field of out (has_mac, mac[], n_vlan, vlan[]) from the
 * captured Ethernet II header at d; tags are noted after it.  Before any
 * network-layer field is written: see the zeroing below. */
static inline void eth_macs(const uint8_t *d, struct pkt_info *out)
{
	/* Five stores for the lot.  Each 6-byte address goes as one 8-byte
	 * copy: the source's last two bytes spill into mac[1], which the
	 * destination's copy then overwrites, and the destination's into
	 * n_vlan and vlan[], which one 8-byte zeroing from n_vlan on clears;
	 * that runs on into the network layer's first bytes, which
	 * pkt_info_zero() zeroed and nothing has written yet. */
	_Static_assert(offsetof(struct pkt_info, mac[1]) ==
		       offsetof(struct pkt_info, mac[0]) + ETH_ADDR_LEN &&
		       offsetof(struct pkt_info, n_vlan) ==
		       offsetof(struct pkt_info, mac[1]) + ETH_ADDR_LEN,
		       "mac[0], mac[1] and n_vlan are neighbours");
	_Static_assert(ETH_OFF_SRC + sizeof(uint64_t) <= ETH_HDR_LEN &&
		       ETH_OFF_DST + sizeof(uint64_t) <= ETH_HDR_LEN,
		       "the wide copies stay inside the header");
	_Static_assert(offsetof(struct pkt_info, n_vlan) + sizeof(uint64_t) >= PKT_INFO_NET &&
		       offsetof(struct pkt_info, n_vlan) + sizeof(uint64_t) <=
		       offsetof(struct pkt_info, addr[1]),
		       "the zeroing covers n_vlan and vlan[], and ends in addr[0]");
	unsigned char *b = (unsigned char *)out;
	out->has_mac = true;
	memcpy(b + offsetof(struct pkt_info, mac[0]), d + ETH_OFF_SRC, sizeof(uint64_t));
	memcpy(b + offsetof(struct pkt_info, mac[1]), d + ETH_OFF_DST, sizeof(uint64_t));
	memset(b + offsetof(struct pkt_info, n_vlan), 0, sizeof(uint64_t));
}

/* Skip 802.1Q / 802.1ad tags starting at *off (ethertype *type already
 * read), noting them in out unless it is NULL.  Returns false when a tag is
 * cut. */
static inline bool vlan_skip(const uint8_t *d, size_t cap, size_t *off, uint16_t *type,
		      struct pkt_info *out)
{
	unsigned n = 0;
	while (*type == ETHERTYPE_VLAN || *type == ETHERTYPE_QINQ ||
	       *type == ETHERTYPE_QINQ_OLD) {
		if (!has(cap, *off, VLAN_TAG_LEN))
			return false;
		const uint8_t *tag = d + *off;
		if (out && n < VLAN_KEEP)
			out->vlan[n] = rd16(tag + VLAN_OFF_TCI) & VLAN_ID_MASK;
		if (n < VLAN_COUNT_MAX)
			n++;
		if (out)
			out->n_vlan = (uint8_t)n;
		*type = rd16(tag + VLAN_OFF_TYPE);
		*off += VLAN_TAG_LEN;
	}
	return true;
}

/* What may sit between the link header (and its VLAN tags) and IP: a
 * PPPoE session header, or an MPLS label stack, after which the IP version
 * comes from the first nibble (*by_nibble). */
static enum pkt_bad l2_shim(const uint8_t *d, size_t cap, size_t *off, uint16_t *type,
			    bool *by_nibble)
{
	switch (*type) {
	case ETHERTYPE_PPPOE_SESSION:
		if (!has(cap, *off, PPPOE_HDR_LEN + PPP_PROTO_LEN))
			return PKT_BAD_TRUNC_L2;
		if (d[*off] != PPPOE_VER_TYPE || d[*off + 1] != PPPOE_CODE_SESSION)
			return PKT_BAD_ETHERTYPE;
		switch (rd16(d + *off + PPPOE_HDR_LEN)) {
		case PPP_PROTO_IPV4: *type = ETHERTYPE_IPV4; break;
		case PPP_PROTO_IPV6: *type = ETHERTYPE_IPV6; break;
		default: return PKT_BAD_ETHERTYPE;    /* LCP, IPCP, ... */
		}
		*off += PPPOE_HDR_LEN + PPP_PROTO_LEN;
		return PKT_OK;
	case ETHERTYPE_MPLS_UC:
	case ETHERTYPE_MPLS_MC:
		for (;;) {      /* bounded: each entry consumes 4 captured bytes */
			if (!has(cap, *off, MPLS_LABEL_LEN))
				return PKT_BAD_TRUNC_L2;
			bool bottom = d[*off + MPLS_OFF_BOS] & MPLS_BOS;
			*off += MPLS_LABEL_LEN;
			if (bottom)
				break;
		}
		*by_nibble = true;
		return PKT_OK;
	default:
		return PKT_OK;
	}
}

/* The link layer: where the IP header starts (*off) and what it is
 * (*type, ETHERTYPE_IPV4/IPV6 or another ethertype), after the link
 * header, VLAN tags (noted in out unless NULL), PPPoE or MPLS; raw IP by
 * its first nibble.  PKT_OK, or why the packet ends before IP. */
static inline enum pkt_bad link_walk(const struct pkt *p, size_t *off_out,
				     uint16_t *type_out, struct pkt_info *out)
{
	const uint8_t *d = p->data;
	size_t cap = p->caplen;
	size_t off;
	uint16_t type = 0;
	bool by_nibble = false;     /* raw IP: the version is the first nibble */

	switch (p->link) {
	case PKT_LINK_ETHERNET:
		if (cap < ETH_HDR_LEN)
			return PKT_BAD_TRUNC_L2;
		if (out)
			eth_macs(d, out);
		type = rd16(d + ETH_OFF_TYPE);
		off = ETH_HDR_LEN;
		break;
	case PKT_LINK_LINUX_SLL:
		if (cap < SLL_HDR_LEN)
			return PKT_BAD_TRUNC_L2;
		type = rd16(d + SLL_OFF_PROTO);
		off = SLL_HDR_LEN;
		break;
	case PKT_LINK_LINUX_SLL2:
		if (cap < SLL2_HDR_LEN)
			return PKT_BAD_TRUNC_L2;
		type = rd16(d + SLL2_OFF_PROTO);
		off = SLL2_HDR_LEN;
		break;
	case PKT_LINK_RAW:
	case DECODE_LINK_RAW_BSD:
		by_nibble = true;
		off = 0;
		break;
	case PKT_LINK_IPV4:
		type = ETHERTYPE_IPV4;
		off = 0;
		break;
	case PKT_LINK_IPV6:
		type = ETHERTYPE_IPV6;
		off = 0;
		break;
	default:
		return PKT_BAD_LINK;
	}
	if (!by_nibble) {
		if (!vlan_skip(d, cap, &off, &type, out))
			return PKT_BAD_TRUNC_L2;
		enum pkt_bad r = l2_shim(d, cap, &off, &type, &by_nibble);
		if (r != PKT_OK)
			return r;
	}

	if (by_nibble) {
		if (!has(cap, off, 1))
			return PKT_BAD_TRUNC_L3;
		switch (d[off] >> IP_VERSION_SHIFT) {
		case IP_VERSION_4: type = ETHERTYPE_IPV4; break;
		case IP_VERSION_6: type = ETHERTYPE_IPV6; break;
		default: return PKT_BAD_IP_VERSION;
		}
	}

	*off_out = off;
	*type_out = type;
	return PKT_OK;
}

/* Every ethertype link_walk() looks past (tags, PPPoE, MPLS) is at least
 * this, so decode_fast() can answer any lower non-IP type itself. */
#define ETHERTYPE_SHIM_MIN ETHERTYPE_VLAN
_Static_assert(ETHERTYPE_QINQ >= ETHERTYPE_SHIM_MIN &&
	       ETHERTYPE_QINQ_OLD >= ETHERTYPE_SHIM_MIN &&
	       ETHERTYPE_PPPOE_SESSION >= ETHERTYPE_SHIM_MIN &&
	       ETHERTYPE_MPLS_UC >= ETHERTYPE_SHIM_MIN &&
	       ETHERTYPE_MPLS_MC >= ETHERTYPE_SHIM_MIN,
	       "no shim ethertype below ETHERTYPE_SHIM_MIN");

/* The bytes decode_fast() asks a frame to have captured: enough for the
 * link header, its tags and an IPv4 header without options, so that none
 * of those needs a check of its own. */
#define FAST_CAP_MIN (ETH_HDR_LEN + VLAN_KEEP * VLAN_TAG_LEN + IPV4_HDR_MIN)

static enum pkt_bad decode_general(const struct pkt *p, struct pkt_info *out,
				   struct decode_cursor *cur);

/*
 * The common frame, decoded straight through: Ethernet II of at least
 * FAST_CAP_MIN captured bytes with at most VLAN_KEEP 802.1Q / 802.1ad tags
 * (not the pre-standard 0x9100, so that the tests and the fuzz target can
 * send any frame the general way), then IPv4 without options and not a
 * fragment, or IPv6 whose next header is not an extension header; or a
 * non-IP ethertype below ETHERTYPE_SHIM_MIN, which is PKT_BAD_ETHERTYPE.
 * Each test below is one the general path makes too, so a frame passing
 * them all gets the same fields link_walk and ipv4_decode / ipv6_decode
 * would give it.  Anything else goes to decode_general(), with nothing
 * written but the MAC addresses and VLAN tags (which the general path
 * writes the same).  Every way out is a tail call or a return of the
 * result, so that the common packet needs no stack frame.
 */
static inline enum pkt_bad decode_fast(const struct pkt *p, struct pkt_info *out,
				       struct decode_cursor *cur)
{
	const uint8_t *d = p->data;
	size_t cap = p->caplen;
	/* one length check for the link header, its tags and an IPv4
	 * header; a shorter frame (none of the common ones) goes the general
	 * way */
	if (p->link != PKT_LINK_ETHERNET || cap < FAST_CAP_MIN)
		return decode_general(p, out, cur);
	/* first, so that d is not needed past the tags: the general path
	 * writes the same addresses for any frame declined below */
	eth_macs(d, out);
	const uint8_t *ip = d + ETH_HDR_LEN;     /* the header after the link's */
	/* bytes captured past an IPv4 header at ip (FAST_CAP_MIN: >= 0) */
	size_t past4 = cap - ETH_HDR_LEN - IPV4_HDR_MIN;
	uint16_t type = ld16(d + ETH_OFF_TYPE);     /* in wire order */
	unsigned tags = 0;

	struct l4 l;
	uint8_t proto;       /* out->proto, kept in a register for the switch */
	for (;;) {
		if (type == wire16(ETHERTYPE_IPV4)) {
			if (ip[0] != IPV4_VER_IHL_MIN)
				return decode_general(p, out, cur);
			size_t tot = rd16(ip + IPV4_OFF_TOTLEN);
			if (tot < IPV4_HDR_MIN ||
			    be16_any(ip + IPV4_OFF_FRAG, IPV4_FRAG_MF | IPV4_FRAG_OFF_MASK))
				return decode_general(p, out, cur);
			proto = ip[IPV4_OFF_PROTO];
			ipv4_fields(ip, out);
			/* l4_at()'s, with the capture's end taken from the
			 * header's end */
			l = (struct l4){ .t = ip + IPV4_HDR_MIN, .len = tot - IPV4_HDR_MIN,
					 .cap_len = min_sz(tot - IPV4_HDR_MIN, past4),
					 .len16 = true };
			break;
		}
		if (type == wire16(ETHERTYPE_IPV6)) {
			if (past4 < IPV6_HDR_LEN - IPV4_HDR_MIN ||
			    ip[0] >> IP_VERSION_SHIFT != IP_VERSION_6)
				return decode_general(p, out, cur);
			uint8_t nh = ip[IPV6_OFF_NEXT];
			if (ipv6_is_ext(nh))
				return decode_general(p, out, cur);
			size_t plen = rd16(ip + IPV6_OFF_PLEN);
			ipv6_fields(ip, out);
			out->proto = proto = nh;
			/* as for IPv4 */
			l = (struct l4){ .t = ip + IPV6_HDR_LEN, .len = plen,
					 .cap_len = min_sz(plen, past4 - (IPV6_HDR_LEN - IPV4_HDR_MIN)),
					 .len16 = true };
			break;
		}
		/* wire16() swaps back as well */
		if (wire16(type) < ETHERTYPE_SHIM_MIN)
			return finish(out, PKT_BAD_ETHERTYPE);
		if ((type != wire16(ETHERTYPE_VLAN) && type != wire16(ETHERTYPE_QINQ)) ||
		    tags == VLAN_KEEP)
			return decode_general(p, out, cur);
		out->vlan[tags] = rd16(ip + VLAN_OFF_TCI) & VLAN_ID_MASK;
		out->n_vlan = (uint8_t)++tags;
		type = ld16(ip + VLAN_OFF_TYPE);
		ip += VLAN_TAG_LEN;
		past4 -= VLAN_TAG_LEN;
	}
	/* out->bad: PKT_OK is the zero left there */
	return transport_decode(d, &l, proto, out, cur);
}

/* Everything decode_fast() does not take, with out zeroed but for the
 * head and its packet-level fields set.  Out of line so that the fast path, which
 * is most packets, does not pay for this one's registers and stack. */
static __attribute__((noinline)) enum pkt_bad
decode_general(const struct pkt *p, struct pkt_info *out, struct decode_cursor *cur)
{
	const uint8_t *d = p->data;
	size_t cap = p->caplen;
	size_t off;
	uint16_t type;
	/* the link layer's fields, which pkt_info_zero() left to eth_macs() */
	memset(&out->has_mac, 0, PKT_INFO_NET - offsetof(struct pkt_info, has_mac));
	enum pkt_bad lr = link_walk(p, &off, &type, out);
	if (lr != PKT_OK)
		return finish(out, lr);

	struct l4 l;
	enum pkt_bad r;
	if (type == ETHERTYPE_IPV4)
		r = ipv4_decode(d, cap, off, out, &l);
	else if (type == ETHERTYPE_IPV6)
		r = ipv6_decode(d, cap, off, p->wirelen > cap ? p->wirelen : cap, out, &l);
	else
		return finish(out, PKT_BAD_ETHERTYPE);
	if (r != PKT_OK)
		return finish(out, r);

	if (out->frag == PKT_FRAG_LATER)
		out->payload_len = l4_payload(&l, 0);
	else
		transport_decode(d, &l, out->proto, out, cur);
	return finish(out, PKT_OK);
}

/* Ask for the two cache lines DECODE_STREAM_AHEAD past p's data. */
static inline void stream_prefetch(const struct pkt *p)
{
	/* through uintptr_t: the address may lie past the buffer, which a
	 * prefetch may touch but C pointer arithmetic not */
	uintptr_t ahead = (uintptr_t)p->data + DECODE_STREAM_AHEAD;
	__builtin_prefetch((const void *)ahead);
	__builtin_prefetch((const void *)(ahead + CACHE_LINE));
}

enum pkt_bad decode_packet_cursor(const struct pkt *p, struct pkt_info *out,
				  struct decode_cursor *cur)
{
	/* Measured: zeroing the struct (but its head, copied below, and its
	 * link layer, which either path writes) with a few wide stores costs
	 * less than tracking which fields each path wrote. */
	pkt_info_zero(out);
	memset(cur, 0, sizeof *cur);    /* one memset after the other: one
					   zeroed register for both */
	pkt_info_head(out, p);
	stream_prefetch(p);
	return decode_fast(p, out, cur);
}

enum pkt_bad decode_packet(const struct pkt *p, struct pkt_info *out)
{
	struct decode_cursor cur;
	return decode_packet_cursor(p, out, &cur);
}

unsigned decode_ip_addrs(const struct pkt *p, const uint8_t **src, const uint8_t **dst)
{
	size_t off;
	uint16_t type;
	stream_prefetch(p);     /* the first to read a packet with workers */
	if (link_walk(p, &off, &type, NULL) != PKT_OK)
		return 0;
	if (type == ETHERTYPE_IPV4 && has(p->caplen, off, IPV4_OFF_DST + IPV4_ADDR_LEN)) {
		*src = p->data + off + IPV4_OFF_SRC;
		*dst = p->data + off + IPV4_OFF_DST;
		return IPV4_ADDR_LEN;
	}
	if (type == ETHERTYPE_IPV6 && has(p->caplen, off, IPV6_OFF_DST + IPV6_ADDR_LEN)) {
		*src = p->data + off + IPV6_OFF_SRC;
		*dst = p->data + off + IPV6_OFF_DST;
		return IPV6_ADDR_LEN;
	}
	return 0;
}

bool decode_dns_next_message(const struct pkt *p, struct decode_cursor *cur,
			     struct pkt_info *out)
{
	size_t at = cur->next, end = cur->end;
	size_t cap_end = min_sz(end, p->caplen);
	cur->next = 0;
	if (at == 0 || !tcp_prefixed_plausible(p->data, at, cap_end))
		return false;
	size_t msg = at + DNS_TCP_PREFIX_LEN, v = rd16(p->data + at);
	if (!has(cap_end, msg, DNS_HDR_LEN))
		return false;
	if (msg + v < end)
		cur->next = msg + v;
	memset(&out->dns, 0, sizeof out->dns);
	out->dns.over_tcp = true;
	dns_decode(p->data + msg, out, min_sz(cap_end, msg + v) - msg);
	return true;
}

static const char *const bad_names[] = {
	[PKT_OK]             = "ok",
	[PKT_BAD_LINK]       = "bad_link",
	[PKT_BAD_TRUNC_L2]   = "trunc_l2",
	[PKT_BAD_ETHERTYPE]  = "ethertype",
	[PKT_BAD_IP_VERSION] = "ip_version",
	[PKT_BAD_IP_HEADER]  = "ip_header",
	[PKT_BAD_TRUNC_L3]   = "trunc_l3",
	[PKT_BAD_IPV6_EXT]   = "ipv6_ext",
};
static_assert(sizeof bad_names / sizeof bad_names[0] == PKT_BAD_MAX,
	      "a name for every enum pkt_bad value");

const char *decode_bad_name(enum pkt_bad bad)
{
	if ((unsigned)bad >= PKT_BAD_MAX)
		return "unknown";
	return bad_names[bad];
}
