/*
 * attr.c — the attribute table.  Widths follow RFC 2723 Appendix C with the
 * project's decisions: interfaces are 2 bytes (NeTraMet 4.4 widened them),
 * peer addresses are kept in 16 bytes so IPv6 fits (IPv4 uses the first 4).
 */
#include "attr.h"

#include <string.h>
#include <strings.h>

#define T  ATTR_F_TEST
#define S  ATTR_F_SAVE
#define R  ATTR_F_READ
#define C  ATTR_F_CLASS
#define SRC ATTR_F_SRC
#define DST ATTR_F_DST
#define KEY (T | S | R)     /* an address attribute: tested, saved, read */

static const struct attr_info attr_table[] = {
	{ ATTR_NULL,                    ATTR_T_NONE,      0, T,           "Null", NULL },
	{ ATTR_FLOW_INDEX,              ATTR_T_INT,       4, R,           "FlowIndex", NULL },
	{ ATTR_FLOW_STATUS,             ATTR_T_INT,       1, R,           "FlowStatus", NULL },
	{ ATTR_FLOW_TIME_MARK,          ATTR_T_TIME,      4, 0,           "FlowTimeMark", NULL },
	{ ATTR_SOURCE_INTERFACE,        ATTR_T_INT,       2, KEY | SRC,   "SourceInterface", NULL },
	{ ATTR_SOURCE_ADJACENT_TYPE,    ATTR_T_INT,       1, KEY | SRC,   "SourceAdjacentType", NULL },
	{ ATTR_SOURCE_ADJACENT_ADDRESS, ATTR_T_ADJACENT,  6, KEY | SRC,   "SourceAdjacentAddress", NULL },
	{ ATTR_SOURCE_ADJACENT_MASK,    ATTR_T_MASK,      6, R | SRC,     "SourceAdjacentMask", NULL },
	{ ATTR_SOURCE_PEER_TYPE,        ATTR_T_INT,       1, KEY | SRC,   "SourcePeerType", NULL },
	{ ATTR_SOURCE_PEER_ADDRESS,     ATTR_T_PEER,     16, KEY | SRC,   "SourcePeerAddress", NULL },
	{ ATTR_SOURCE_PEER_MASK,        ATTR_T_MASK,     16, R | SRC,     "SourcePeerMask", NULL },
	{ ATTR_SOURCE_TRANS_TYPE,       ATTR_T_INT,       1, KEY | SRC,   "SourceTransType", NULL },
	{ ATTR_SOURCE_TRANS_ADDRESS,    ATTR_T_TRANS,     2, KEY | SRC,   "SourceTransAddress", NULL },
	{ ATTR_SOURCE_TRANS_MASK,       ATTR_T_MASK,      2, R | SRC,     "SourceTransMask", NULL },
	{ ATTR_DEST_INTERFACE,          ATTR_T_INT,       2, KEY | DST,   "DestInterface", NULL },
	{ ATTR_DEST_ADJACENT_TYPE,      ATTR_T_INT,       1, KEY | DST,   "DestAdjacentType", NULL },
	{ ATTR_DEST_ADJACENT_ADDRESS,   ATTR_T_ADJACENT,  6, KEY | DST,   "DestAdjacentAddress", NULL },
	{ ATTR_DEST_ADJACENT_MASK,      ATTR_T_MASK,      6, R | DST,     "DestAdjacentMask", NULL },
	{ ATTR_DEST_PEER_TYPE,          ATTR_T_INT,       1, KEY | DST,   "DestPeerType", NULL },
	{ ATTR_DEST_PEER_ADDRESS,       ATTR_T_PEER,     16, KEY | DST,   "DestPeerAddress", NULL },
	{ ATTR_DEST_PEER_MASK,          ATTR_T_MASK,     16, R | DST,     "DestPeerMask", NULL },
	{ ATTR_DEST_TRANS_TYPE,         ATTR_T_INT,       1, KEY | DST,   "DestTransType", NULL },
	{ ATTR_DEST_TRANS_ADDRESS,      ATTR_T_TRANS,     2, KEY | DST,   "DestTransAddress", NULL },
	{ ATTR_DEST_TRANS_MASK,         ATTR_T_MASK,      2, R | DST,     "DestTransMask", NULL },
	{ ATTR_PDU_SCALE,               ATTR_T_INT,       1, R,           "PDUScale", NULL },
	{ ATTR_OCTET_SCALE,             ATTR_T_INT,       1, R,           "OctetScale", NULL },
	/* RFC 2723 lists FlowRuleset as testable, RFC 2720's RuleAttributeNumber
	 * does not; ntm accepts the test (compares with the running set). */
	{ ATTR_FLOW_RULESET,            ATTR_T_INT,       1, T | R,       "FlowRuleSet", "RuleSet" },
	{ ATTR_TO_OCTETS,               ATTR_T_COUNTER,   8, R,           "ToOctets", NULL },
	{ ATTR_TO_PDUS,                 ATTR_T_COUNTER,   8, R,           "ToPDUs", NULL },
	{ ATTR_FROM_OCTETS,             ATTR_T_COUNTER,   8, R,           "FromOctets", NULL },
	{ ATTR_FROM_PDUS,               ATTR_T_COUNTER,   8, R,           "FromPDUs", NULL },
	{ ATTR_FIRST_TIME,              ATTR_T_TIME,      4, R,           "FirstTime", NULL },
	{ ATTR_LAST_ACTIVE_TIME,        ATTR_T_TIME,      4, R,           "LastActiveTime", "LastTime" },
	{ ATTR_SOURCE_SUBSCRIBER_ID,    ATTR_T_STRING,   20, KEY | SRC,   "SourceSubscriberID", NULL },
	{ ATTR_DEST_SUBSCRIBER_ID,      ATTR_T_STRING,   20, KEY | DST,   "DestSubscriberID", NULL },
	{ ATTR_SESSION_ID,              ATTR_T_STRING,   20, KEY,         "SessionID", NULL },
	{ ATTR_SOURCE_CLASS,            ATTR_T_INT,       1, KEY | C | SRC, "SourceClass", NULL },
	{ ATTR_DEST_CLASS,              ATTR_T_INT,       1, KEY | C | DST, "DestClass", NULL },
	{ ATTR_FLOW_CLASS,              ATTR_T_INT,       1, KEY | C,     "FlowClass", NULL },
	{ ATTR_SOURCE_KIND,             ATTR_T_INT,       1, KEY | C | SRC, "SourceKind", NULL },
	{ ATTR_DEST_KIND,               ATTR_T_INT,       1, KEY | C | DST, "DestKind", NULL },
	{ ATTR_FLOW_KIND,               ATTR_T_INT,       1, KEY | C,     "FlowKind", NULL },
	{ ATTR_MATCHING_STOD,           ATTR_T_INT,       1, T,           "MatchingStoD", NULL },
	{ ATTR_V1,                      ATTR_T_VARIABLE,  2, T | S,       "v1", NULL },
	{ ATTR_V2,                      ATTR_T_VARIABLE,  2, T | S,       "v2", NULL },
	{ ATTR_V3,                      ATTR_T_VARIABLE,  2, T | S,       "v3", NULL },
	{ ATTR_V4,                      ATTR_T_VARIABLE,  2, T | S,       "v4", NULL },
	{ ATTR_V5,                      ATTR_T_VARIABLE,  2, T | S,       "v5", NULL },
	{ ATTR_DISTRIBUTIONS,           ATTR_T_INT,       4, R,           "Distributions", NULL },
	{ ATTR_TO_PACKET_SIZE,          ATTR_T_DIST,      6, S | R,       "ToPacketSize", NULL },
	{ ATTR_FROM_PACKET_SIZE,        ATTR_T_DIST,      6, S | R,       "FromPacketSize", NULL },
	{ ATTR_TO_INTERARRIVAL_TIME,    ATTR_T_DIST,      6, S | R,       "ToInterarrivalTime", NULL },
	{ ATTR_FROM_INTERARRIVAL_TIME,  ATTR_T_DIST,      6, S | R,       "FromInterarrivalTime", NULL },
	{ ATTR_TO_TURNAROUND_TIME,      ATTR_T_DIST,      6, S | R,       "ToTurnaroundTime", NULL },
	{ ATTR_FROM_TURNAROUND_TIME,    ATTR_T_DIST,      6, S | R,       "FromTurnaroundTime", NULL },
	{ ATTR_TO_BIT_RATE,             ATTR_T_DIST,      6, S | R,       "ToBitRate", NULL },
	{ ATTR_FROM_BIT_RATE,           ATTR_T_DIST,      6, S | R,       "FromBitRate", NULL },
	{ ATTR_TO_PDU_RATE,             ATTR_T_DIST,      6, S | R,       "ToPDURate", NULL },
	{ ATTR_FROM_PDU_RATE,           ATTR_T_DIST,      6, S | R,       "FromPDURate", NULL },
	{ ATTR_QOS_SERVICE,             ATTR_T_INT,       1, R,           "QoSService", NULL },
	{ ATTR_QOS_STYLE,               ATTR_T_INT,       1, R,           "QoSStyle", NULL },
	{ ATTR_QOS_RATE,                ATTR_T_INT,       4, R,           "QoSRate", NULL },
	{ ATTR_QOS_SLACK_TERM,          ATTR_T_INT,       4, R,           "QoSSlackTerm", NULL },
	{ ATTR_QOS_TOKEN_BUCKET_RATE,   ATTR_T_INT,       4, R,           "QoSTokenBucketRate", NULL },
	{ ATTR_QOS_TOKEN_BUCKET_SIZE,   ATTR_T_INT,       4, R,           "QoSTokenBucketSize", NULL },
	{ ATTR_QOS_PEAK_DATA_RATE,      ATTR_T_INT,       4, R,           "QoSPeakDataRate", NULL },
	{ ATTR_QOS_MIN_POLICED_UNIT,    ATTR_T_INT,       4, R,           "QoSMinPolicedUnit", NULL },
	{ ATTR_QOS_MAX_POLICED_UNIT,    ATTR_T_INT,       4, R,           "QoSMaxPolicedUnit", "QoSMaxDatagramSize" },
	{ ATTR_METER_ID,                ATTR_T_INT,       4, R,           "MeterID", NULL },
	{ ATTR_SOURCE_ASN,              ATTR_T_INT,       4, R | SRC,     "SourceASN", NULL },
	{ ATTR_SOURCE_PREFIX,           ATTR_T_INT,       1, R | SRC,     "SourcePrefix", NULL },
	{ ATTR_DEST_ASN,                ATTR_T_INT,       4, R | DST,     "DestASN", NULL },
	{ ATTR_DEST_PREFIX,             ATTR_T_INT,       1, R | DST,     "DestPrefix", NULL },
	{ ATTR_DS_CODE_POINT,           ATTR_T_INT,       1, KEY,         "DSCodePoint", NULL },
	{ ATTR_VLAN_ID,                 ATTR_T_INT,       2, KEY,         "VlanID", NULL },
	{ ATTR_INNER_VLAN_ID,           ATTR_T_INT,       2, KEY,         "InnerVlanID", NULL },
	{ ATTR_IP_VERSION,              ATTR_T_INT,       1, KEY,         "IPVersion", NULL },
	{ ATTR_DNS_QR,                  ATTR_T_INT,       1, T | S,       "DNSQR", NULL },
	{ ATTR_DNS_OPCODE,              ATTR_T_INT,       1, T | S,       "DNSOpcode", NULL },
	{ ATTR_DNS_QTYPE,               ATTR_T_INT,       2, T | S,       "DNSQType", NULL },
	{ ATTR_DNS_REQUESTS,            ATTR_T_COUNTER,   8, R,           "DNSRequests", NULL },
	{ ATTR_DNS_RESPONSES,           ATTR_T_COUNTER,   8, R,           "DNSResponses", NULL },
	{ ATTR_DNS_ANSWERED,            ATTR_T_COUNTER,   8, R,           "DNSAnswered", NULL },
	{ ATTR_DNS_LOST,                ATTR_T_COUNTER,   8, R,           "DNSLost", NULL },
	{ ATTR_DNS_RETRANSMITS,         ATTR_T_COUNTER,   8, R,           "DNSRetransmits", NULL },
	{ ATTR_DNS_UNMATCHED,           ATTR_T_COUNTER,   8, R,           "DNSUnmatched", NULL },
	{ ATTR_DNS_DUPLICATES,          ATTR_T_COUNTER,   8, R,           "DNSDuplicates", NULL },
	{ ATTR_RTT_SAMPLES,             ATTR_T_COUNTER,   8, R,           "RTTSamples", NULL },
	{ ATTR_FIRST_TIME_NS,           ATTR_T_TIME_NS,   8, R,           "FirstTimeNs", NULL },
	{ ATTR_LAST_TIME_NS,            ATTR_T_TIME_NS,   8, R,           "LastTimeNs", NULL },
};

#define ATTR_COUNT (sizeof attr_table / sizeof attr_table[0])

const struct attr_info *attr_at(size_t i)
{
	return i < ATTR_COUNT ? &attr_table[i] : NULL;
}

const struct attr_info *attr_by_num(unsigned num)
{
	/* The table is sorted by number; it is small, so a binary search is
	 * plenty and keeps the table the single source of truth. */
	size_t lo = 0, hi = ATTR_COUNT;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (attr_table[mid].num == num)
			return &attr_table[mid];
		if (attr_table[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool name_is(const char *want, const char *name, size_t len)
{
	return want && strlen(want) == len && strncasecmp(want, name, len) == 0;
}

const struct attr_info *attr_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ATTR_COUNT; i++)
		if (name_is(attr_table[i].name, name, len) ||
		    name_is(attr_table[i].alias, name, len))
			return &attr_table[i];
	return NULL;
}

unsigned attr_swap(unsigned num)
{
	const struct attr_info *a = attr_by_num(num);
	if (!a)
		return num;
	/* Source* 4..13 pair with Dest* 14..23 */
	if (num >= ATTR_SOURCE_INTERFACE && num <= ATTR_SOURCE_TRANS_MASK)
		return num + 10;
	if (num >= ATTR_DEST_INTERFACE && num <= ATTR_DEST_TRANS_MASK)
		return num - 10;
	switch (num) {
	case ATTR_SOURCE_SUBSCRIBER_ID: return ATTR_DEST_SUBSCRIBER_ID;
	case ATTR_DEST_SUBSCRIBER_ID:   return ATTR_SOURCE_SUBSCRIBER_ID;
	case ATTR_SOURCE_CLASS:         return ATTR_DEST_CLASS;
	case ATTR_DEST_CLASS:           return ATTR_SOURCE_CLASS;
	case ATTR_SOURCE_KIND:          return ATTR_DEST_KIND;
	case ATTR_DEST_KIND:            return ATTR_SOURCE_KIND;
	case ATTR_SOURCE_ASN:           return ATTR_DEST_ASN;
	case ATTR_DEST_ASN:             return ATTR_SOURCE_ASN;
	case ATTR_SOURCE_PREFIX:        return ATTR_DEST_PREFIX;
	case ATTR_DEST_PREFIX:          return ATTR_SOURCE_PREFIX;
	default:                        return num;
	}
}
