#!/usr/bin/env bash
# mibs.sh -- the MIB modules in mibs/ against the tools and against the code:
#   - smilint (libsmi) reads FLOW-METER-MIB and NTM-MIB with no error, at
#     level 5 (errors, warnings and auxiliary warnings); the diagnostics
#     accepted are listed in ACCEPTED below, each with its reason;
#   - net-snmp's snmptranslate turns every object name the agent serves into
#     the OID common/mib.h gives it (a C program built here from mib.h prints
#     the expected OIDs, so a column number changed on one side only fails);
#   - snmptranslate -Td shows the RFC's SYNTAX / MAX-ACCESS / INDEX for a
#     few objects.
# The IETF base modules come from tests/data/mibs (stand-ins written by the
# project; Debian ships none), NET-SNMP-MIB from net-snmp's own directory.
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
: "${NTM_ROOT:?NTM_ROOT must name the repository root}"

. "$(dirname "$0")/../tap.sh"
tap_init mibs

mibs="$NTM_ROOT/mibs"
standins="$NTM_ROOT/tests/data/mibs"
netsnmp_mibs=/usr/share/snmp/mibs          # NET-SNMP-MIB (libsnmp-base)
path="$standins:$mibs:$netsnmp_mibs"
export MIBDIRS="$path"                     # nothing from the user's setup
export SNMPCONFPATH="$tmp"
export HOME="$tmp"
st=(snmptranslate -M "$path" -m FLOW-METER-MIB:NTM-MIB)

show() { sed -e 's/^/# /' "$1" | head -"${2:-20}"; }

for tool in smilint snmptranslate "${CC:-cc}"; do
	if ! command -v "$tool" >/dev/null; then
		tap 1 "$tool is installed (make deps)"
		exit 1
	fi
done
if [ ! -f "$netsnmp_mibs/NET-SNMP-MIB.txt" ]; then
	tap 1 "NET-SNMP-MIB is installed in $netsnmp_mibs (libsnmp-base)"
	exit 1
fi

# ---- smilint -----------------------------------------------------------------
# Accepted diagnostics, as "MODULE|pattern" (grep -E on the message).  All
# but the last come from RFC 2720's own module, which ours keeps as the RFC
# has it:
#   - flowPackageSelector is an OCTET STRING index with no SIZE (the RFC's
#     SYNTAX), hence "must have a size restriction" ([3]) and "can exceed OID
#     size limit";
#   - the RFC's compliance statement names flowDataTableGroup, which the RFC
#     deprecated itself;
#   - the deprecated flowColumnActivityTable has read-only index columns;
#   - groups outside the compliance statement (the RFC's optional and
#     deprecated groups) are "not referenced";
#   - the RFC's address textual conventions have no DISPLAY-HINT;
#   - NTM-MIB: ntmPackageSelector's index is at most 110 octets, which still
#     exceeds libsmi's 128 sub-identifier estimate for the row (it does not
#     count that the table's OID prefix is part of the limit already).
ACCEPTED=(
	"FLOW-METER-MIB|index element .flowPackageSelector. of row .flowDataPackageEntry. must have a size restriction"
	"FLOW-METER-MIB|index of row .flowDataPackageEntry. can exceed OID size limit"
	"FLOW-METER-MIB|current compliance statement .flowMIBCompliance. includes deprecated group .flowDataTableGroup."
	"FLOW-METER-MIB|index element .flowColumnActivity(Attribute|Time|Index). of row .flowColumnActivityEntry. should be not-accessible"
	"FLOW-METER-MIB|group .flow[A-Za-z0-9]*Group2?. is not referenced in this module"
	"FLOW-METER-MIB|type .(PeerAddress|AdjacentAddress|TransportType|TransportAddress|RuleAddress). has no format specification"
	"NTM-MIB|index of row .ntmPackageEntry. can exceed OID size limit"
)

for mod in FLOW-METER-MIB NTM-MIB; do
	SMIPATH="$path" smilint -s -l 5 "$mibs/$mod.txt" >"$tmp/lint" 2>&1
	: >"$tmp/unexpected"
	while IFS= read -r line; do
		ok=1
		for a in "${ACCEPTED[@]}"; do
			[ "${a%%|*}" = "$mod" ] || continue
			if grep -qE -- "${a#*|}" <<<"$line"; then
				ok=0
				break
			fi
		done
		[ $ok -eq 0 ] || echo "$line" >>"$tmp/unexpected"
	done <"$tmp/lint"
	r=0
	[ -s "$tmp/unexpected" ] && r=1
	[ $r -eq 0 ] || show "$tmp/unexpected"
	tap $r "smilint -l 5 $mod: no diagnostic beyond the accepted ones ($(wc -l <"$tmp/lint") accepted)"
done

# The accepted list must not hide errors that are really there: at level 2
# (errors only) both modules are silent.
for mod in FLOW-METER-MIB NTM-MIB; do
	SMIPATH="$path" smilint -s -l 2 "$mibs/$mod.txt" >"$tmp/lint" 2>&1
	r=0
	[ -s "$tmp/lint" ] && r=1
	[ $r -eq 0 ] || show "$tmp/lint"
	tap $r "smilint -l 2 $mod: no error"
done

# ---- names -> OIDs, expected values from common/mib.h ------------------------
# Every object the agent serves (flowColumnActivityTable is not served), with
# its OID built from mib.h's macros and enums.
cat >"$tmp/oids.c" <<'CEOF'
#include <stdio.h>
#include "mib.h"

static const unsigned flow[] = { MIB_FLOW_METER };
static const unsigned ntm[] = { MIB_NTM };

/* "MODULE::name .base.sub" on one line */
static void emit(const char *mod, const char *name, const unsigned *base,
		 size_t nbase, const unsigned *sub, size_t nsub)
{
	printf("%s::%s ", mod, name);
	for (size_t i = 0; i < nbase; i++)
		printf(".%u", base[i]);
	for (size_t i = 0; i < nsub; i++)
		printf(".%u", sub[i]);
	printf("\n");
}

#define SUB(...) (const unsigned[]){ __VA_ARGS__ }, \
	sizeof((const unsigned[]){ __VA_ARGS__ }) / sizeof(unsigned)
#define F(name, ...) emit("FLOW-METER-MIB", name, flow, MIB_FLOW_METER_LEN, SUB(__VA_ARGS__))
#define N(name, ...) emit("NTM-MIB", name, ntm, MIB_NTM_LEN, SUB(__VA_ARGS__))
#define CTL MIB_FLOW_CONTROL
#define RI CTL, MIB_RULESET_INFO_TABLE, 1
#define IF CTL, MIB_INTERFACE_TABLE, 1
#define RD CTL, MIB_READER_INFO_TABLE, 1
#define MG CTL, MIB_MANAGER_INFO_TABLE, 1
#define DT MIB_FLOW_DATA, MIB_DATA_TABLE, 1
#define PK MIB_FLOW_DATA, MIB_PACKAGE_TABLE, 1
#define RU MIB_FLOW_RULES, MIB_RULE_TABLE, 1
#define NP MIB_NTM_DATA, MIB_NTM_PACKAGE_TABLE, 1

int main(void)
{
	if (MIB_FLOW_METER_LEN != sizeof flow / sizeof flow[0] ||
	    MIB_NTM_LEN != sizeof ntm / sizeof ntm[0])
		return 1;
	emit("FLOW-METER-MIB", "flowMIB", flow, MIB_FLOW_METER_LEN, NULL, 0);
	emit("NTM-MIB", "ntmMIB", ntm, MIB_NTM_LEN, NULL, 0);

	F("flowControl", CTL);
	F("flowData", MIB_FLOW_DATA);
	F("flowRules", MIB_FLOW_RULES);

	F("flowRuleSetInfoTable", CTL, MIB_RULESET_INFO_TABLE);
	F("flowRuleSetInfoEntry", RI);
	F("flowRuleInfoIndex", RI, MIB_RULEINFO_INDEX);
	F("flowRuleInfoSize", RI, MIB_RULEINFO_SIZE);
	F("flowRuleInfoOwner", RI, MIB_RULEINFO_OWNER);
	F("flowRuleInfoTimeStamp", RI, MIB_RULEINFO_TIMESTAMP);
	F("flowRuleInfoStatus", RI, MIB_RULEINFO_STATUS);
	F("flowRuleInfoName", RI, MIB_RULEINFO_NAME);
	F("flowRuleInfoRulesReady", RI, MIB_RULEINFO_RULES_READY);
	F("flowRuleInfoFlowRecords", RI, MIB_RULEINFO_FLOW_RECORDS);

	F("flowInterfaceTable", CTL, MIB_INTERFACE_TABLE);
	F("flowInterfaceEntry", IF);
	F("flowInterfaceSampleRate", IF, MIB_INTERFACE_SAMPLE_RATE);
	F("flowInterfaceLostPackets", IF, MIB_INTERFACE_LOST_PACKETS);

	F("flowReaderInfoTable", CTL, MIB_READER_INFO_TABLE);
	F("flowReaderInfoEntry", RD);
	F("flowReaderIndex", RD, MIB_READER_INDEX);
	F("flowReaderTimeout", RD, MIB_READER_TIMEOUT);
	F("flowReaderOwner", RD, MIB_READER_OWNER);
	F("flowReaderLastTime", RD, MIB_READER_LAST_TIME);
	F("flowReaderPreviousTime", RD, MIB_READER_PREVIOUS_TIME);
	F("flowReaderStatus", RD, MIB_READER_STATUS);
	F("flowReaderRuleSet", RD, MIB_READER_RULESET);

	F("flowManagerInfoTable", CTL, MIB_MANAGER_INFO_TABLE);
	F("flowManagerInfoEntry", MG);
	F("flowManagerIndex", MG, MIB_MANAGER_INDEX);
	F("flowManagerCurrentRuleSet", MG, MIB_MANAGER_CURRENT_RULESET);
	F("flowManagerStandbyRuleSet", MG, MIB_MANAGER_STANDBY_RULESET);
	F("flowManagerHighWaterMark", MG, MIB_MANAGER_HIGH_WATER_MARK);
	F("flowManagerCounterWrap", MG, MIB_MANAGER_COUNTER_WRAP);
	F("flowManagerOwner", MG, MIB_MANAGER_OWNER);
	F("flowManagerTimeStamp", MG, MIB_MANAGER_TIMESTAMP);
	F("flowManagerStatus", MG, MIB_MANAGER_STATUS);
	F("flowManagerRunningStandby", MG, MIB_MANAGER_RUNNING_STANDBY);

	F("flowFloodMark", CTL, MIB_FLOOD_MARK);
	F("flowInactivityTimeout", CTL, MIB_INACTIVITY_TIMEOUT);
	F("flowActiveFlows", CTL, MIB_ACTIVE_FLOWS);
	F("flowMaxFlows", CTL, MIB_MAX_FLOWS);
	F("flowFloodMode", CTL, MIB_FLOOD_MODE);

	/* flowDataTable: column c holds attribute c, except that TimeMark is
	 * column 2 and Status column 3 (mib.h, MIB_DATA_TABLE) */
	static const char *const data_cols[42] = {
		[1] = "Index", "TimeMark", "Status", "SourceInterface",
		"SourceAdjacentType", "SourceAdjacentAddress",
		"SourceAdjacentMask", "SourcePeerType", "SourcePeerAddress",
		"SourcePeerMask", "SourceTransType", "SourceTransAddress",
		"SourceTransMask", "DestInterface", "DestAdjacentType",
		"DestAdjacentAddress", "DestAdjacentMask", "DestPeerType",
		"DestPeerAddress", "DestPeerMask", "DestTransType",
		"DestTransAddress", "DestTransMask", "PDUScale", "OctetScale",
		"RuleSet", "ToOctets", "ToPDUs", "FromOctets", "FromPDUs",
		"FirstTime", "LastActiveTime", "SourceSubscriberID",
		"DestSubscriberID", "SessionID", "SourceClass", "DestClass",
		"Class", "SourceKind", "DestKind", "Kind"
	};
	F("flowDataTable", MIB_FLOW_DATA, MIB_DATA_TABLE);
	F("flowDataEntry", DT);
	for (unsigned c = 1; c <= 41; c++) {
		char name[64];
		snprintf(name, sizeof name, "flowData%s", data_cols[c]);
		F(name, DT, c);
	}

	F("flowDataPackageTable", MIB_FLOW_DATA, MIB_PACKAGE_TABLE);
	F("flowDataPackageEntry", PK);
	F("flowPackageSelector", PK, 1);
	F("flowPackageRuleSet", PK, 2);
	F("flowPackageTime", PK, 3);
	F("flowPackageIndex", PK, 4);
	F("flowPackageData", PK, MIB_PACKAGE_DATA_COL);

	F("flowRuleTable", MIB_FLOW_RULES, MIB_RULE_TABLE);
	F("flowRuleEntry", RU);
	F("flowRuleSet", RU, MIB_RULE_SET);
	F("flowRuleIndex", RU, MIB_RULE_INDEX);
	F("flowRuleSelector", RU, MIB_RULE_SELECTOR);
	F("flowRuleMask", RU, MIB_RULE_MASK);
	F("flowRuleMatchedValue", RU, MIB_RULE_MATCHED_VALUE);
	F("flowRuleAction", RU, MIB_RULE_ACTION);
	F("flowRuleParameter", RU, MIB_RULE_PARAMETER);

	N("ntmMeter", MIB_NTM_METER);
	N("ntmMeterVersion", MIB_NTM_METER, MIB_NTM_VERSION);
	N("ntmMeterName", MIB_NTM_METER, MIB_NTM_NAME);
	N("ntmMeterUptime", MIB_NTM_METER, MIB_NTM_UPTIME);
	N("ntmMeterTimeNs", MIB_NTM_METER, MIB_NTM_TIME_NS);
	N("ntmMeterStartNs", MIB_NTM_METER, MIB_NTM_START_NS);
	N("ntmMeterSpeed", MIB_NTM_METER, MIB_NTM_SPEED);
	N("ntmMeterPackets", MIB_NTM_METER, MIB_NTM_PACKETS);
	N("ntmMeterInterval", MIB_NTM_METER, MIB_NTM_INTERVAL);
	N("ntmData", MIB_NTM_DATA);
	N("ntmPackageTable", MIB_NTM_DATA, MIB_NTM_PACKAGE_TABLE);
	N("ntmPackageEntry", NP);
	N("ntmPackageSelector", NP, 1);
	N("ntmPackageRuleSet", NP, 2);
	N("ntmPackageTime", NP, 3);
	N("ntmPackageIndex", NP, 4);
	N("ntmPackageData", NP, MIB_PACKAGE_DATA_COL);
	return 0;
}
CEOF
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -I"$NTM_ROOT/common" \
	-o "$tmp/oids" "$tmp/oids.c" 2>"$tmp/cc.err"
r=$?
[ $r -eq 0 ] || show "$tmp/cc.err"
tap $r "the OID list built from common/mib.h compiles"
[ $r -eq 0 ] || exit 1
"$tmp/oids" >"$tmp/expected"
tap $? "the OID list runs ($(wc -l <"$tmp/expected") objects)"

# One snmptranslate per name: an unknown name then fails alone.
bad=0
total=0
while read -r name want; do
	total=$((total + 1))
	got=$("${st[@]}" -On "$name" 2>"$tmp/st.err")
	if [ "$got" != "$want" ]; then
		bad=$((bad + 1))
		echo "# $name: module gives '${got:-$(head -1 "$tmp/st.err")}', mib.h $want"
	fi
done <"$tmp/expected"
[ $bad -eq 0 ] && [ $total -ge 100 ]
tap $? "snmptranslate -On: all $total names give mib.h's OIDs ($bad differ)"

# And the other way: every object the modules define under the served
# subtrees is in the list (so a name added to a module is checked too).
"${st[@]}" -Tz 2>/dev/null | tr -d '"' | awk '
	$1 ~ /^(flow|ntm)/ && $1 !~ /^flowColumnActivity/ && $1 !~ /(Group2?|Compliances?|Groups|Conformance|MIBCompliance)$/ { print $1 }' |
	sort >"$tmp/defined"
sed -e 's/^[^:]*:://' -e 's/ .*//' "$tmp/expected" | sort >"$tmp/listed"
comm -23 "$tmp/defined" "$tmp/listed" >"$tmp/unlisted"
r=0
[ -s "$tmp/defined" ] || r=1
[ -s "$tmp/unlisted" ] && r=1
[ $r -eq 0 ] || show "$tmp/unlisted"
tap $r "every object the modules define (but flowColumnActivityTable) is checked against mib.h ($(wc -l <"$tmp/defined"))"

# ---- -Td: syntax and access of a few objects ---------------------------------
# name|grep -E pattern that must match the -Td output (one per line)
TD=(
	"FLOW-METER-MIB::flowRuleInfoStatus|SYNTAX[[:space:]]+INTEGER \{active\(1\), notInService\(2\), notReady\(3\), createAndGo\(4\), createAndWait\(5\), destroy\(6\)\}"
	"FLOW-METER-MIB::flowRuleInfoStatus|MAX-ACCESS[[:space:]]+read-create"
	"FLOW-METER-MIB::flowRuleInfoName|SYNTAX[[:space:]]+OCTET STRING \(0\.\.127\)"
	"FLOW-METER-MIB::flowRuleInfoOwner|DISPLAY-HINT[[:space:]]+\"127t\""
	"FLOW-METER-MIB::flowRuleInfoTimeStamp|MAX-ACCESS[[:space:]]+read-only"
	"FLOW-METER-MIB::flowRuleMask|SYNTAX[[:space:]]+OCTET STRING \(2\.\.20\)"
	"FLOW-METER-MIB::flowRuleMask|MAX-ACCESS[[:space:]]+read-write"
	"FLOW-METER-MIB::flowRuleAction|SYNTAX[[:space:]]+INTEGER \{ignore\(1\), noMatch\(2\),.* popToAct\(17\)\}"
	"FLOW-METER-MIB::flowRuleSelector|v5\(55\)\}"
	"FLOW-METER-MIB::flowRuleParameter|SYNTAX[[:space:]]+Integer32 \(1\.\.65535\)"
	"FLOW-METER-MIB::flowDataToOctets|SYNTAX[[:space:]]+Counter64"
	"FLOW-METER-MIB::flowDataFirstTime|SYNTAX[[:space:]]+TimeTicks"
	"FLOW-METER-MIB::flowDataSourcePeerAddress|SYNTAX[[:space:]]+OCTET STRING \(3\.\.20\)"
	"FLOW-METER-MIB::flowDataSourceTransAddress|SYNTAX[[:space:]]+OCTET STRING \(2\)"
	"FLOW-METER-MIB::flowDataRuleSet|SYNTAX[[:space:]]+Integer32 \(1\.\.255\)"
	"FLOW-METER-MIB::flowDataEntry|INDEX[[:space:]]+\{ flowDataRuleSet, flowDataTimeMark, flowDataIndex \}"
	"FLOW-METER-MIB::flowDataPackageEntry|INDEX[[:space:]]+\{ flowPackageSelector, flowPackageRuleSet, flowPackageTime, flowPackageIndex \}"
	"FLOW-METER-MIB::flowPackageData|SYNTAX[[:space:]]+OCTET STRING"
	"FLOW-METER-MIB::flowInterfaceEntry|INDEX[[:space:]]+\{ ifIndex \}"
	"FLOW-METER-MIB::flowInterfaceLostPackets|SYNTAX[[:space:]]+Counter32"
	"FLOW-METER-MIB::flowManagerHighWaterMark|SYNTAX[[:space:]]+Integer32 \(0\.\.100\)"
	"FLOW-METER-MIB::flowManagerRunningStandby|DEFVAL[[:space:]]+\{ false \}"
	"FLOW-METER-MIB::flowFloodMark|DEFVAL[[:space:]]+\{ 95 \}"
	"FLOW-METER-MIB::flowInactivityTimeout|DEFVAL[[:space:]]+\{ 600 \}"
	"FLOW-METER-MIB::flowReaderLastTime|MAX-ACCESS[[:space:]]+read-create"
	"FLOW-METER-MIB::flowReaderPreviousTime|MAX-ACCESS[[:space:]]+read-only"
	"NTM-MIB::ntmMeterTimeNs|SYNTAX[[:space:]]+Counter64"
	"NTM-MIB::ntmMeterUptime|SYNTAX[[:space:]]+TimeTicks"
	"NTM-MIB::ntmMeterName|SYNTAX[[:space:]]+OCTET STRING \(0\.\.255\)"
	"NTM-MIB::ntmMeterSpeed|SYNTAX[[:space:]]+Integer32"
	"NTM-MIB::ntmPackageSelector|SYNTAX[[:space:]]+OCTET STRING \(2\.\.110\)"
	"NTM-MIB::ntmPackageEntry|INDEX[[:space:]]+\{ ntmPackageSelector, ntmPackageRuleSet, ntmPackageTime, ntmPackageIndex \}"
	"NTM-MIB::ntmPackageData|MAX-ACCESS[[:space:]]+read-only"
)
for t in "${TD[@]}"; do
	name=${t%%|*}
	pat=${t#*|}
	"${st[@]}" -Td "$name" >"$tmp/td" 2>&1
	grep -qE -- "$pat" "$tmp/td"
	r=$?
	[ $r -eq 0 ] || show "$tmp/td" 8
	tap $r "-Td $name: ${pat//\\/}"
done

exit $((failures > 0))
