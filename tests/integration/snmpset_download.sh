#!/usr/bin/env bash
# snmpset_download.sh -- tools/snmpset-rules.sh and a meter's ruleset
# download by plain snmpset (RFC 2720 §3.2):
#   - offline: for every rules file in the tree (and srlc -o of every worked
#     ruleset), the snmpset commands the script would send carry exactly the
#     rules ntm's own rules-file reader finds (a C program built from
#     common/rulesfile.c prints them), 1-byte values padded to 2 octets; bad files are
#     refused with FILE:LINE and nothing sent;
#   - live: ntm-meter --replay with its agent and no -r holds at the first
#     packet; the script downloads dns-root and starts a task; the meter runs
#     it (the rule table reads back as sent; flowDataTable has the offline
#     .dif's flows with the same packet counts); then snmpset errors:
#     notWritable for a rule of the running set, wrongType, wrongValue,
#     wrongLength, noCreation, inconsistentValue for destroying the running
#     set, and no write with the read community.  The live part is skipped
#     when ntm-meter has no --snmp.
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
: "${NTM_ROOT:?NTM_ROOT must name the repository root}"

. "$(dirname "$0")/../tap.sh"
tap_init snmpset-download

script="$NTM_ROOT/tools/snmpset-rules.sh"
meter="$NTM_BIN/ntm-meter"
export SNMPCONFPATH="$tmp"        # no user or system snmp.conf
export MIBS='' MIBDIRS="$tmp"       # numeric OIDs only, no MIB files
export HOME="$tmp"

show() { sed -e 's/^/# /' "$1" | head -"${2:-20}"; }

# ---- offline: the script's rules against ntm's rules-file reader -------------
cat >"$tmp/dump.c" <<'CEOF'
/* One line per rule: selector, mask and value in hex at the width the MIB
 * carries (the rule's width, at least 2 octets), action, parameter. */
#include <stdio.h>
#include "diag.h"
#include "rulesfile.h"

int main(int argc, char **argv)
{
	struct ruleset rs;
	struct diag d;
	if (argc != 2)
		return 2;
	diag_init(&d, argv[1]);
	if (ruleset_read_file(argv[1], &rs, &d) != 0) {
		diag_print(&d, stderr);
		return 1;
	}
	for (size_t i = 0; i < rs.n_rules; i++) {
		const struct rule *r = &rs.rules[i];
		unsigned w = r->len < 2 ? 2 : r->len;
		printf("%u ", r->attr);
		for (unsigned k = 0; k < w; k++)
			printf("%02X", k < r->len ? r->mask[k] : 0);
		printf(" ");
		for (unsigned k = 0; k < w; k++)
			printf("%02X", k < r->len ? r->value[k] : 0);
		printf(" %u %u\n", r->op, r->param);
	}
	ruleset_free(&rs);
	diag_free(&d);
	return 0;
}
CEOF
# built from the reader's sources, so it does not depend on how (or with
# which sanitizers) the library was built
c="$NTM_ROOT/common"
"${CC:-cc}" -std=c11 -D_GNU_SOURCE -I"$c" -o "$tmp/dump" "$tmp/dump.c" \
	"$c/rulesfile.c" "$c/fileio.c" "$c/value.c" "$c/attr.c" "$c/rule.c" "$c/grow.c" "$c/diag.c" \
	2>"$tmp/cc.err"
r=$?
[ $r -eq 0 ] || show "$tmp/cc.err"
tap $r "a rules dumper builds from ntm's rules-file reader (common/rulesfile.c)"

# every attribute of common/attr.c by name (and alias), "& 1 = 1": a lone
# number fills the attribute's whole width, so this checks the script's copy
# of the attribute table (names, numbers, widths) against the code's
cat >"$tmp/attrs.c" <<'CEOF'
#include <stdio.h>
#include "attr.h"

int main(void)
{
	const struct attr_info *a;
	puts("RULES");
	for (size_t i = 0; (a = attr_at(i)) != NULL; i++) {
		if (a->num == ATTR_NULL)
			continue;
		printf("  %s & 1 = 1: Count, 0;\n", a->name);
		if (a->alias)
			printf("  %s & 2 = 2: Count, 0;\n", a->alias);
	}
	return 0;
}
CEOF
"${CC:-cc}" -std=c11 -D_GNU_SOURCE -I"$c" -o "$tmp/attrs" "$tmp/attrs.c" "$c/attr.c" 2>"$tmp/cc.err" &&
	"$tmp/attrs" >"$tmp/every-attribute.rules"
r=$?
[ $r -eq 0 ] || show "$tmp/cc.err"
tap $r "a rules file naming every attribute of common/attr.c ($(($(wc -l <"$tmp/every-attribute.rules") - 1)) rules)"

# the rules as the script would send them: "SEL MASK VALUE ACTION PARAM"
script_rules() {   # file
	"$script" -n "$1" 127.0.0.1:1 w 2>"$tmp/script.err" | awk '
		{ for (i = 1; i <= NF; i++) if ($i ~ /^1\.3\.6\.1\.2\.1\.40\.3\.1\.1\.[3-7]\./) {
			split($i, o, ".")
			col = o[11]; rule = o[13]
			v[rule, col] = $(i + 2)
			if (rule > n) n = rule
		} }
		END { for (r = 1; r <= n; r++)
			print v[r, 3], v[r, 4], v[r, 5], v[r, 6], v[r, 7] }'
}

mkdir -p "$tmp/rules"
for f in "$NTM_ROOT"/rulesets/*.srl; do
	"$NTM_BIN/srlc" -o "$tmp/rules/$(basename "$f" .srl).rules" "$f" 2>/dev/null
done
files=("$NTM_ROOT"/tests/data/rules/*.rules "$NTM_ROOT"/tests/data/rulesets/*.rules "$tmp"/rules/*.rules
	"$tmp/every-attribute.rules")
for f in "${files[@]}"; do
	name=${f#"$NTM_ROOT"/}
	name=${name#"$tmp"/}
	"$tmp/dump" "$f" >"$tmp/want" 2>"$tmp/dump.err" || { show "$tmp/dump.err"; }
	script_rules "$f" >"$tmp/got"
	r=0
	[ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/got" || r=1
	if [ $r -ne 0 ]; then
		diff "$tmp/want" "$tmp/got" | head -6 | sed 's/^/# /'
		show "$tmp/script.err" 4
	fi
	tap $r "$name: the script sends ntm's $(wc -l <"$tmp/want") rules (selector, mask, value, action, parameter)"
done

# the sequence of requests: create, name, rules, active, task
"$script" -n -m 4 -o tester "$tmp/rules/dns-root.rules" 127.0.0.1:1 w 9 myname >"$tmp/cmds"
ok=0
head -1 "$tmp/cmds" | grep -q ' 1\.3\.6\.1\.2\.1\.40\.1\.1\.1\.5\.9 i 5 $' || ok=1
sed -n 2p "$tmp/cmds" | grep -q '40\.1\.1\.1\.3\.9 s tester .*40\.1\.1\.1\.2\.9 i 171 .*40\.1\.1\.1\.6\.9 s myname' || ok=1
tail -4 "$tmp/cmds" | head -1 | grep -q ' 1\.3\.6\.1\.2\.1\.40\.1\.1\.1\.5\.9 i 1 $' || ok=1
tail -3 "$tmp/cmds" | head -1 | grep -q ' 1\.3\.6\.1\.2\.1\.40\.1\.4\.1\.8\.4 i 5 $' || ok=1
tail -2 "$tmp/cmds" | head -1 | grep -q '40\.1\.4\.1\.6\.4 s tester .*40\.1\.4\.1\.2\.4 i 9 ' || ok=1
tail -1 "$tmp/cmds" | grep -q ' 1\.3\.6\.1\.2\.1\.40\.1\.4\.1\.8\.4 i 1 $' || ok=1
[ "$(grep -c '40\.3\.1\.1\.' "$tmp/cmds")" -eq 43 ] || ok=1     # 171 rules, 4 per request
[ $ok -eq 0 ] || show "$tmp/cmds" 6
tap $ok "request order: createAndWait, Owner/Size/Name, 43 rule requests, active, task createAndWait, Owner/Current/HWM, active"

# bad rules files: exit 2, FILE:LINE, nothing printed to send
bad_case() {   # text expected-message
	printf 'SET 3\nRULES\n  Null & 0 = 0: GotoAct, 2;\n%s\n' "$1" >"$tmp/bad.rules"
	"$script" -n "$tmp/bad.rules" 127.0.0.1:1 w >"$tmp/bad.out" 2>"$tmp/bad.err"
	rc=$?
	[ $rc -eq 2 ] && [ ! -s "$tmp/bad.out" ] && grep -qF "bad.rules:4: $2" "$tmp/bad.err"
	r=$?
	[ $r -eq 0 ] || { echo "# rc=$rc"; show "$tmp/bad.err" 3; }
	tap $r "refused: '$1' ($2)"
}
bad_case "  Nonsense & 255 = 1: Count, 0;" 'unknown attribute "nonsense"'
bad_case "  SourceTransType & 255 = 300: Count, 0;" "value 300 does not fit in 1 bytes"
bad_case "  SourcePeerAddress & 255.255.255.255 = 1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17: Count, 0;" "value is 17 bytes, too wide for the attribute"
bad_case "  SourcePeerType & 255 = 1: Jump, 0;" 'unknown action "Jump"'
bad_case "  SourcePeerType & 255 = 1: Goto, nowhere;" 'unknown label "nowhere"'
bad_case "  DestPeerAddress & ffff:: = 2001:db8::1::2 : Count, 0;" '"2001:db8::1::2" is not an IPv6 address'
"$script" -n /nonexistent 127.0.0.1:1 w >/dev/null 2>&1
[ $? -eq 2 ]
tap $? "an unreadable rules file: exit 2"

# ---- live: a replaying meter, downloaded by snmpset ----------------------------
# (a sanitizer's leak report at exit must not swallow the buffered help text)
if ! ASAN_OPTIONS=detect_leaks=0 "$meter" --help 2>&1 | grep -q -- '--snmp'; then
	n=$((n + 1))
	echo "ok $n # SKIP agent not in this build (ntm-meter --help has no --snmp)"
	exit $((failures > 0))
fi
for tool in snmpset snmpget snmpbulkwalk; do
	if ! command -v "$tool" >/dev/null; then
		tap 1 "$tool is installed (make deps)"
		exit 1
	fi
done

"$NTM_BIN/gen_trace" -o "$tmp/t.pcap" --seed 11 --duration 120 --rate 20 2>/dev/null
tap $? "generated a 120 s trace"
"$NTM_BIN/srlc" -o "$tmp/dns-root.rules" "$NTM_ROOT/rulesets/dns-root.srl"
"$meter" --read "$tmp/t.pcap" -r "$tmp/dns-root.rules" -o "$tmp/off.dif" --interval 60 -q --stats 2>"$tmp/off.err"
r=$?
[ $r -eq 0 ] || show "$tmp/off.err" 6
tap $r "offline meter on the trace"
npk=$(awk '$1 == "packets" { print $2; exit }' "$tmp/off.err")
# offline flows: "address topdus frompdus tooctets fromoctets" from the last
# reading of each flow (columns by #Format name)
awk '/^#Format:/ { k = 0; for (i = 2; i <= NF; i++) if ($i !~ /^"/) c[$i] = ++k; next }
	/^#/ { next }
	{ m = 0; for (i = 1; i <= NF; i++) v[++m] = $i
	  rec[v[c["flowindex"]] " " v[c["firsttime"]]] = v[c["destpeeraddress"]] " " v[c["topdus"]] " " v[c["frompdus"]] " " v[c["tooctets"]] " " v[c["fromoctets"]] }
	END { for (f in rec) print rec[f] }' "$tmp/off.dif" | sort >"$tmp/off.flows"
noff=$(wc -l <"$tmp/off.flows")

W="w$$rite"
mname="snmpset-download-$$"
start_meter() {
	local try
	for try in 1 2 3 4 5; do
		port=$((20000 + ($$ + try * 7919) % 20000))
		"$meter" --replay "$tmp/t.pcap" --speed max --snmp "127.0.0.1:$port" \
			--write-community "$W" --meter "$mname" >"$tmp/meter.out" 2>"$tmp/meter.err" &
		mpid=$!
		for _ in $(seq 50); do
			# ours, not another test's meter on the same port
			if [ "$(snmpget -v2c -c public -Oqv -t 0.2 -r 0 "127.0.0.1:$port" \
				1.3.6.1.4.1.8072.9999.9999.40.1.2.0 2>/dev/null)" = "\"$mname\"" ]; then
				return 0
			fi
			kill -0 "$mpid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$mpid" 2>/dev/null
		wait "$mpid" 2>/dev/null
		mpid=
	done
	return 1
}
mpid=
trap '[ -n "$mpid" ] && kill "$mpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
start_meter
r=$?
[ $r -eq 0 ] || show "$tmp/meter.err"
tap $r "ntm-meter --replay --speed max --snmp 127.0.0.1:$port --write-community answers (no -r)"
[ $r -eq 0 ] || exit 1

A=(-v2c -c public -On -t 2 -r 1 "127.0.0.1:$port")
S=(-v2c -c "$W" -On -t 2 -r 1 "127.0.0.1:$port")
get() { snmpget "${A[@]}" -Oqv "$@" 2>/dev/null; }
FLOW=1.3.6.1.2.1.40
NTM=1.3.6.1.4.1.8072.9999.9999.40

p0=$(get $NTM.1.7.0)
sleep 0.3
p1=$(get $NTM.1.7.0)
[ "$p0" = 0 ] && [ "$p1" = 0 ]
tap $? "no packet is metered before a task runs (ntmMeterPackets $p0, $p1)"

"$script" -o tester "$tmp/dns-root.rules" "127.0.0.1:$port" "$W" 2 dns-root >"$tmp/dl.out" 2>"$tmp/dl.err"
r=$?
[ $r -eq 0 ] || show "$tmp/dl.err"
tap $r "snmpset-rules.sh downloads dns-root as ruleset 2 and starts task 2"

[ "$(get $FLOW.1.1.1.5.2)" = 1 ] && [ "$(get $FLOW.1.1.1.2.2)" = 171 ] &&
	[ "$(get $FLOW.1.1.1.6.2)" = '"dns-root"' ] && [ "$(get $FLOW.1.1.1.3.2)" = '"tester"' ]
tap $? "flowRuleSetInfoTable row 2: active, 171 rules, name and owner as sent"
[ "$(get $FLOW.1.4.1.8.2)" = 1 ] && [ "$(get $FLOW.1.4.1.2.2)" = 2 ]
tap $? "flowManagerInfoTable row 2: active, CurrentRuleSet 2"

# the rule table reads back as the script sent it
snmpbulkwalk "${A[@]}" -Cr50 -Ox $FLOW.3.1.1 >"$tmp/walk" 2>&1
awk '
	{ split($1, o, "."); if (o[13] != 2) next
	  col = o[12]; rule = o[14]
	  val = $0; sub(/^[^=]*= [A-Za-z0-9-]*: */, "", val); gsub(/[ "]/, "", val)
	  if (col == 3 || col == 6 || col == 7) val = val + 0
	  v[rule, col] = val; if (rule > n) n = rule }
	END { for (r = 1; r <= n; r++) print v[r, 3], v[r, 4], v[r, 5], v[r, 6], v[r, 7] }' "$tmp/walk" >"$tmp/readback"
"$tmp/dump" "$tmp/dns-root.rules" >"$tmp/want"
cmp -s "$tmp/want" "$tmp/readback"
r=$?
[ $r -eq 0 ] || { diff "$tmp/want" "$tmp/readback" | head -6 | sed 's/^/# /'; show "$tmp/walk" 4; }
tap $r "flowRuleTable of set 2 reads back the 171 rules as sent"

# the meter runs it: wait for the replay to meter every packet, then the flows
for _ in $(seq 100); do
	[ "$(get $NTM.1.7.0)" = "$npk" ] && break
	sleep 0.2
done
pk=$(get $NTM.1.7.0)
[ -n "$npk" ] && [ "$pk" = "$npk" ]
tap $? "the replay metered the whole trace (ntmMeterPackets $pk of $npk)"

# live flows of set 2, time filter 0: address and the four counters
for col in 19 28 30 27 29; do
	snmpbulkwalk "${A[@]}" -Cr50 -Oqv "$FLOW.2.1.1.$col.2.0" 2>/dev/null >"$tmp/c$col"
done
paste -d' ' "$tmp/c19" "$tmp/c28" "$tmp/c30" "$tmp/c27" "$tmp/c29" >"$tmp/live.raw"
nlive=$(wc -l <"$tmp/c28")
fr=$(get $FLOW.1.1.1.8.2)
[ "$nlive" -eq "$noff" ] && [ "$noff" -gt 0 ] && [ "$fr" = "$noff" ]
tap $? "flowDataTable holds the offline .dif's $noff flows of ruleset 2 ($nlive walked, flowRuleInfoFlowRecords $fr)"
awk '{ print $2, $3, $4, $5 }' "$tmp/off.flows" | sort >"$tmp/off.counts"
awk '{ n = NF; print $(n-3), $(n-2), $(n-1), $n }' "$tmp/live.raw" | sort >"$tmp/live.counts"
cmp -s "$tmp/off.counts" "$tmp/live.counts"
r=$?
[ $r -eq 0 ] || diff "$tmp/off.counts" "$tmp/live.counts" | head -6 | sed 's/^/# /'
tap $r "every flow has the offline ToPDUs/FromPDUs/ToOctets/FromOctets"

# ---- SET errors, with snmpset's own words ------------------------------------
set_err() {   # expected-reason text varbind...
	local want=$1 text=$2
	shift 2
	snmpset "${S[@]}" "$@" >"$tmp/set.out" 2>&1
	local rc=$?
	[ $rc -ne 0 ] && grep -qF "Reason: $want" "$tmp/set.out"
	local r=$?
	[ $r -eq 0 ] || { echo "# rc=$rc"; show "$tmp/set.out" 4; }
	tap $r "$text: $want"
}
set_err "notWritable (That object does not support modification)" \
	"a rule of the running set" $FLOW.3.1.1.3.2.1 i 11
set_err "notWritable (That object does not support modification)" \
	"flowRuleInfoSize of the running set" $FLOW.1.1.1.2.2 i 5
# a set being written (notInService) for the type and range errors
snmpset "${S[@]}" $FLOW.1.1.1.5.5 i 5 >/dev/null 2>&1 &&
	snmpset "${S[@]}" $FLOW.1.1.1.2.5 i 3 >/dev/null 2>&1
tap $? "ruleset 5 created with 3 rules (createAndWait, Size)"
set_err "wrongType (The set datatype does not match the data type the agent expects)" \
	"a string for flowRuleAction" $FLOW.3.1.1.6.5.1 s count
set_err "wrongValue (The set value is illegal or unsupported in some way)" \
	"flowRuleAction 18" $FLOW.3.1.1.6.5.1 i 18
set_err "wrongLength (The set value has an illegal length from what the agent expects)" \
	"a 21-octet flowRuleMask" $FLOW.3.1.1.4.5.1 x 0102030405060708090A0B0C0D0E0F101112131415
set_err "noCreation (That table does not support row creation or that object can not ever be created)" \
	"rule 4 of a 3-rule set" $FLOW.3.1.1.3.5.4 i 0
set_err "inconsistentValue (The set value is illegal or unsupported in some way)" \
	"destroying the running set" $FLOW.1.1.1.5.2 i 6
snmpset "${S[@]}" $FLOW.3.1.1.6.5.1 i 3 >/dev/null 2>&1 && [ "$(get $FLOW.3.1.1.6.5.1)" = 3 ]
tap $? "a good value for the same rule of set 5 is accepted"

snmpset -v2c -c public -On -t 2 -r 1 "127.0.0.1:$port" $FLOW.1.1.1.5.7 i 5 >"$tmp/ro.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -qE 'Reason: (noAccess|notWritable|authorizationError)' "$tmp/ro.out" &&
	get $FLOW.1.1.1.5.7 | grep -q '^No Such Instance'
r=$?
[ $r -eq 0 ] || show "$tmp/ro.out" 4
tap $r "the read community cannot write ($(grep -o 'Reason: [A-Za-z]*' "$tmp/ro.out"))"

# nothing of that disturbed the running set
[ "$(get $FLOW.1.1.1.5.2)" = 1 ] && [ "$(get $FLOW.3.1.1.3.2.1)" = 11 ] &&
	[ "$(get $FLOW.1.1.1.8.2)" = "$noff" ]
tap $? "ruleset 2 still active, rule 1 unchanged, its $noff flows still there"

kill "$mpid" 2>/dev/null
wait "$mpid" 2>/dev/null
tap $? "the meter stops cleanly on SIGTERM"
mpid=
exit $((failures > 0))
