/*
 * attr.h — the RTFM attribute table shared by the compiler, the meter, the
 * agent and the readers.
 *
 * Numbers 0..63 are RFC 2722 Appendix C, 65..118 RFC 2724 §4.  ntm's own
 * attributes sit in RFC 2722's vendor-specific range 512..1023 (§8.2).
 * Names are matched case-insensitively, as SRL and NeMaC rule files do.
 */
#ifndef NTM_ATTR_H
#define NTM_ATTR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum attr_num {
	ATTR_NULL                     = 0,
	ATTR_FLOW_INDEX               = 1,
	ATTR_FLOW_STATUS              = 2,
	ATTR_FLOW_TIME_MARK           = 3,
	ATTR_SOURCE_INTERFACE         = 4,
	ATTR_SOURCE_ADJACENT_TYPE     = 5,
	ATTR_SOURCE_ADJACENT_ADDRESS  = 6,
	ATTR_SOURCE_ADJACENT_MASK     = 7,
	ATTR_SOURCE_PEER_TYPE         = 8,
	ATTR_SOURCE_PEER_ADDRESS      = 9,
	ATTR_SOURCE_PEER_MASK         = 10,
	ATTR_SOURCE_TRANS_TYPE        = 11,
	ATTR_SOURCE_TRANS_ADDRESS     = 12,
	ATTR_SOURCE_TRANS_MASK        = 13,
	ATTR_DEST_INTERFACE           = 14,
	ATTR_DEST_ADJACENT_TYPE       = 15,
	ATTR_DEST_ADJACENT_ADDRESS    = 16,
	ATTR_DEST_ADJACENT_MASK       = 17,
	ATTR_DEST_PEER_TYPE           = 18,
	ATTR_DEST_PEER_ADDRESS        = 19,
	ATTR_DEST_PEER_MASK           = 20,
	ATTR_DEST_TRANS_TYPE          = 21,
	ATTR_DEST_TRANS_ADDRESS       = 22,
	ATTR_DEST_TRANS_MASK          = 23,
	ATTR_PDU_SCALE                = 24,
	ATTR_OCTET_SCALE              = 25,
	ATTR_FLOW_RULESET             = 26,
	ATTR_TO_OCTETS                = 27,
	ATTR_TO_PDUS                  = 28,
	ATTR_FROM_OCTETS              = 29,
	ATTR_FROM_PDUS                = 30,
	ATTR_FIRST_TIME               = 31,
	ATTR_LAST_ACTIVE_TIME         = 32,
	ATTR_SOURCE_SUBSCRIBER_ID     = 33,
	ATTR_DEST_SUBSCRIBER_ID       = 34,
	ATTR_SESSION_ID               = 35,
	ATTR_SOURCE_CLASS             = 36,
	ATTR_DEST_CLASS               = 37,
	ATTR_FLOW_CLASS               = 38,
	ATTR_SOURCE_KIND              = 39,
	ATTR_DEST_KIND                = 40,
	ATTR_FLOW_KIND                = 41,
	ATTR_MATCHING_STOD            = 50,
	ATTR_V1                       = 51,
	ATTR_V2                       = 52,
	ATTR_V3                       = 53,
	ATTR_V4                       = 54,
	ATTR_V5                       = 55,
	/* RFC 2724 */
	ATTR_DISTRIBUTIONS            = 65,
	ATTR_TO_PACKET_SIZE           = 66,
	ATTR_FROM_PACKET_SIZE         = 67,
	ATTR_TO_INTERARRIVAL_TIME     = 68,
	ATTR_FROM_INTERARRIVAL_TIME   = 69,
	ATTR_TO_TURNAROUND_TIME       = 70,
	ATTR_FROM_TURNAROUND_TIME     = 71,
	ATTR_TO_BIT_RATE              = 72,
	ATTR_FROM_BIT_RATE            = 73,
	ATTR_TO_PDU_RATE              = 74,
	ATTR_FROM_PDU_RATE            = 75,
	ATTR_QOS_SERVICE              = 98,
	ATTR_QOS_STYLE                = 99,
	ATTR_QOS_RATE                 = 100,
	ATTR_QOS_SLACK_TERM           = 101,
	ATTR_QOS_TOKEN_BUCKET_RATE    = 102,
	ATTR_QOS_TOKEN_BUCKET_SIZE    = 103,
	ATTR_QOS_PEAK_DATA_RATE       = 104,
	ATTR_QOS_MIN_POLICED_UNIT     = 105,
	ATTR_QOS_MAX_POLICED_UNIT     = 106,
	ATTR_METER_ID                 = 112,
	ATTR_SOURCE_ASN               = 113,
	ATTR_SOURCE_PREFIX            = 114,
	ATTR_DEST_ASN                 = 115,
	ATTR_DEST_PREFIX              = 116,
	ATTR_DS_CODE_POINT            = 118,
	/* ntm, vendor range (RFC 2722 §8.2): packet fields ... */
	ATTR_VLAN_ID                  = 512,  /* outermost 802.1Q id, 0 = untagged */
	ATTR_INNER_VLAN_ID            = 513,  /* second tag of a QinQ stack */
	ATTR_IP_VERSION               = 514,  /* 4 or 6 */
	ATTR_DNS_QR                   = 515,  /* 0 query, 1 response, 255 not DNS */
	ATTR_DNS_OPCODE               = 516,
	ATTR_DNS_QTYPE                = 517,
	/* ... and per-flow DNS counters (64-bit, readable only) */
	ATTR_DNS_REQUESTS             = 520,  /* To: requests seen */
	ATTR_DNS_RESPONSES            = 521,  /* From: responses seen */
	ATTR_DNS_ANSWERED             = 522,  /* requests paired with a response */
	ATTR_DNS_LOST                 = 523,  /* requests timed out unanswered */
	ATTR_DNS_RETRANSMITS          = 524,  /* request repeated while pending */
	ATTR_DNS_UNMATCHED            = 525,  /* responses with no pending request */
	ATTR_DNS_DUPLICATES           = 526,  /* further responses to an answered request */
	ATTR_RTT_SAMPLES              = 527,  /* cumulative turnaround samples */
	ATTR_FIRST_TIME_NS            = 530,  /* FirstTime, ns since the epoch */
	ATTR_LAST_TIME_NS             = 531,  /* LastActiveTime, ns since the epoch */
	ATTR_MAX                      = 1024
};

/* How a value of the attribute is carried and shown. */
enum attr_type {
	ATTR_T_NONE,      /* Null, MIB-only placeholders */
	ATTR_T_INT,       /* small unsigned integer, big-endian in `width` bytes */
	ATTR_T_PEER,      /* peer address: 4 bytes IPv4, 16 bytes IPv6 */
	ATTR_T_ADJACENT,  /* MAC address, 6 bytes */
	ATTR_T_TRANS,     /* transport address (port), 2 bytes */
	ATTR_T_COUNTER,   /* 64-bit counter */
	ATTR_T_TIME,      /* meter uptime in centiseconds, 4 bytes */
	ATTR_T_STRING,    /* subscriber/session ids */
	ATTR_T_MASK,      /* mask attributes 7, 10, 13, 17, 20, 23 */
	ATTR_T_DIST,      /* RFC 2724 distribution */
	ATTR_T_VARIABLE,  /* meter variable v1..v5: holds an attribute number */
	ATTR_T_TIME_NS    /* 64-bit nanoseconds */
};

/* What an attribute may be used for. */
enum attr_flag {
	ATTR_F_TEST  = 1 << 0,  /* may be tested in a rule / SRL IF */
	ATTR_F_SAVE  = 1 << 1,  /* may be SAVEd (pushed into the flow key) */
	ATTR_F_READ  = 1 << 2,  /* readable from a flow (FORMAT, MIB) */
	ATTR_F_CLASS = 1 << 3,  /* computed Class/Kind, set by STORE */
	ATTR_F_SRC   = 1 << 4,  /* Source* half of a Source/Dest pair */
	ATTR_F_DST   = 1 << 5   /* Dest* half of a Source/Dest pair */
};

struct attr_info {
	uint16_t num;
	uint8_t type;        /* enum attr_type */
	uint8_t width;       /* value bytes; for ATTR_T_PEER the widest (16) */
	uint16_t flags;      /* enum attr_flag */
	const char *name;    /* canonical spelling (RFC's) */
	const char *alias;   /* other accepted spelling, or NULL */
};

/* Table entry for `num`, or NULL when ntm does not know that attribute. */
const struct attr_info *attr_by_num(unsigned num);

/* Case-insensitive lookup by name or alias of the first `len` bytes of
 * `name` (not NUL-terminated); NULL when unknown. */
const struct attr_info *attr_by_name(const char *name, size_t len);

/* The attribute's Source/Dest counterpart (9 <-> 19, 36 <-> 37, ...), or
 * `num` itself for direction-free attributes. */
unsigned attr_swap(unsigned num);

/* Iterate the table: returns entry i (0-based) or NULL past the end. */
const struct attr_info *attr_at(size_t i);

#endif
