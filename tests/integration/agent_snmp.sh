#!/usr/bin/env bash
# agent_snmp.sh — ntm-meter's SNMP agent (Meter MIB, RFC 2720; NTM-MIB)
# read with net-snmp's own clients while the meter replays a trace:
#
#  * snmpwalk -v2c -On of 1.3.6.1.2.1.40 lists the rulesets (the default
#    set 1 and the loaded one), the task and the flows, and the flows'
#    counters equal the offline .dif of the same traces;
#  * every flow package (narrow selector 19,27,28,29,30,31,41; wide selector
#    with DNS counters and the RTT distribution) decodes (pkgdump) to
#    exactly the offline record of that flow; a single GET does too;
#  * TimeFilter: the package table read from T = the second trace's start
#    returns exactly the servers of the second trace; flowDataTable with T
#    beyond every flow returns nothing of the set;
#  * large packages (hundreds of RTT samples) come back over UDP with GET
#    and GETBULK, fewer repetitions rather than tooBig;
#  * SETs: the read community cannot write (noAccess); read-only columns
#    are notWritable, wrong ASN.1 types wrongType, data tables notWritable.
#
# The offline meter is the oracle: both runs meter the same packets (two
# traces back to back, 30 s apart, so some flows end before the second).
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init agent

rules="$root/tests/data/agent/agent.srl"
set_no=7                          # SET 7 in agent.srl
flow_mib=1.3.6.1.2.1.40
ntm=1.3.6.1.4.1.8072.9999.9999.40
narrow="19,27,28,29,30,31,41"     # the .dif's first 7 columns
wide="19,520,522,523,70"          # DestPeerAddress DNSRequests DNSAnswered DNSLost ToTurnaroundTime
. "$root/tests/data/agent/lib.sh"

for tool in snmpwalk snmpget snmpgetnext snmpbulkget snmpbulkwalk snmpset; do
	if ! command -v $tool >/dev/null; then
		echo "not ok 1 - $tool is not installed (make deps)"
		exit 1
	fi
done

# t1: 26 servers for 30 s; t2: two of them, 30 s after t1 ended, busy
# enough for hundreds of RTT samples per flow (packages of 1-2 KB)
t0=1700000100
"$NTM_BIN/gen_trace" -o "$tmp/t1.pcap" --seed 2 --start $t0 --duration 30 \
	--rate 30 --servers 26 >/dev/null 2>&1 &&
"$NTM_BIN/gen_trace" -o "$tmp/t2.pcap" --seed 3 --start $((t0 + 60)) \
	--duration 20 --rate 40 --servers 2 --summary "$tmp/s2.csv" >/dev/null 2>&1
tap $? "generated two traces"

"$NTM_BIN/ntm-meter" --read "$tmp/t1.pcap" "$tmp/t2.pcap" -r "$rules" \
	-o "$tmp/off.dif" 2>"$tmp/off.err"
tap $? "offline run (ntm-meter --read) writes the oracle .dif"
# one interval (the traces fit in one 300 s interval): flow records only
grep -v '^#' "$tmp/off.dif" >"$tmp/off.rec"
n_off=$(wc -l <"$tmp/off.rec")
[ "$(grep -c '^#Time:' "$tmp/off.dif")" -eq 1 ] && [ "$n_off" -gt 40 ]
tap $? "the oracle holds one interval of $n_off flows"

# ---- start the replaying meter on a free port ----
snmp() {   # snmp TOOL ARGS... : v2c with the read community
	local tool=$1; shift
	"$tool" -v2c -c public -t 3 -r 1 -On "$@"
}
ready() { snmp snmpget 127.0.0.1:$1 $ntm.1.3.0; }
start_meter ready -r "$rules" --replay "$tmp/t1.pcap" --replay "$tmp/t2.pcap" \
	--speed 100 --snmp 127.0.0.1:@PORT@ --write-community ntmwrite
agent=127.0.0.1:$port
[ -n "$port" ]
tap $? "ntm-meter --replay --snmp serves on a free port ($agent)"
if [ -z "$port" ]; then
	sed 's/^/# /' "$tmp/meter.err"
	exit 1
fi

# register as a reader of set 7 (createAndGo, never collecting): without a
# reader the meter recovers idle flows, which at 100x replay speed happens
# a few wall seconds after the first trace ends
rd=$flow_mib.1.3.1
out=$(snmpset -v2c -c ntmwrite -t 3 -r 1 -On $agent $rd.6.1 i 4 $rd.7.1 i $set_no \
	$rd.2.1 i 0 $rd.3.1 s agent-test 2>&1)
tap $? "a reader registers with the write community (createAndGo)"

# wait (meter time) until both traces are replayed and DNS timeouts ran:
# 80 s of trace + 15 s, in centiseconds of uptime
uptime() { snmp snmpget -Oqvt $agent $ntm.1.3.0 2>/dev/null; }
for _ in $(seq 300); do
	u=$(uptime); [ -n "$u" ] && [ "$u" -ge 9500 ] && break
	sleep 0.1
done
[ -n "$u" ] && [ "$u" -ge 9500 ]
tap $? "meter uptime runs at replay speed (uptime ${u:-?} cs)"

# ---- the walk ----
snmp snmpwalk $agent $flow_mib >"$tmp/walk" 2>"$tmp/walk.err"
tap $? "snmpwalk -v2c -On $flow_mib"
grep -q "^\.$flow_mib\.1\.1\.1\.5\.1 = INTEGER: 1$" "$tmp/walk" &&
grep -q "^\.$flow_mib\.1\.1\.1\.5\.$set_no = INTEGER: 1$" "$tmp/walk"
tap $? "flowRuleSetInfoTable: default set 1 and set $set_no are active(1)"
grep -q "^\.$flow_mib\.1\.4\.1\.2\.[0-9]* = INTEGER: $set_no$" "$tmp/walk"
tap $? "flowManagerInfoTable: a task runs set $set_no"
grep -q "^\.$flow_mib\.1\.3\.1\.6\.1 = INTEGER: 1$" "$tmp/walk" &&
grep -q "^\.$flow_mib\.1\.3\.1\.3\.1 = STRING: \"agent-test\"$" "$tmp/walk"
tap $? "flowReaderInfoTable: the reader row is active with its owner"
# walk order: strictly increasing OIDs (snmpwalk would stop on a loop)
awk -F' = ' '{ print $1 }' "$tmp/walk" | sed 's/^\.//' >"$tmp/oids"
sort -c -t. -n -k1,1 -k2,2 -k3,3 -k4,4 -k5,5 -k6,6 -k7,7 -k8,8 -k9,9 -k10,10 \
	-k11,11 -k12,12 -k13,13 -k14,14 -k15,15 "$tmp/oids" 2>/dev/null &&
[ "$(sort -u "$tmp/oids" | wc -l)" -eq "$(wc -l <"$tmp/oids")" ]
tap $? "the walk is in lexicographic order without repeats ($(wc -l <"$tmp/oids") objects)"

# flows of set 7 in flowDataTable: per flow index the four counters
col() {   # col N: "index value" of column N of set 7, T = 0
	grep "^\.$flow_mib\.2\.1\.1\.$1\.$set_no\.0\." "$tmp/walk" |
		sed -E 's/^\.[0-9.]*\.([0-9]+) = [A-Za-z0-9]+: /\1 /'
}
join <(col 27 | sort) <(col 28 | sort) | join - <(col 29 | sort) |
	join - <(col 30 | sort) | awk '{ print $2, $3, $4, $5 }' | sort >"$tmp/agent.counts"
awk '{ print $2, $3, $4, $5 }' "$tmp/off.rec" | sort >"$tmp/off.counts"
n_agent=$(wc -l <"$tmp/agent.counts")
diff "$tmp/agent.counts" "$tmp/off.counts" >"$tmp/counts.diff"
tap $? "flowDataTable: $n_agent flows of set $set_no with the offline counts (To/From octets and PDUs)"
[ "$(col 3 | awk '$2 == 2' | wc -l)" -eq "$n_off" ]
tap $? "flowDataStatus: every flow current(2)"
! grep -qE "^\.$flow_mib\.2\.1\.1\.(1|2|26)\." "$tmp/walk"
tap $? "not-accessible columns 1, 2, 26 never appear"

# ---- packages ----
# "selector sub-ids" for an attribute list: narrow "n a1 a2 ...",
# wide "2n hi1 lo1 hi2 lo2 ..."
sel_narrow() { echo "$(echo "$1" | tr , '\n' | wc -l).$(echo "$1" | tr , .)"; }
sel_wide() {
	local IFS=, out=""; set -- $1
	for a in "$@"; do out="$out.$((a / 256)).$((a % 256))"; done
	echo "$(($# * 2))$out"
}
pkg_narrow="$flow_mib.2.3.1.5.$(sel_narrow $narrow)"
pkg_wide="$ntm.2.1.1.5.$(sel_wide $wide)"

# decode every package a walk returned with selector $2 into .dif lines
decode_all() {   # decode_all WALKFILE ATTRS OUT
	: >"$3"
	awk '/ = Hex-STRING: / { if (x != "") print x; sub(/^[^=]*= /, ""); x = $0; next }
	     / = / { if (x != "") print x; x = ""; next }
	     { x = x " " $0 } END { if (x != "") print x }' "$1" |
	while read -r line; do
		echo "$line" | "$NTM_BIN/pkgdump" "$2" >>"$3" || return 1
	done
}

snmp snmpbulkwalk -Cr20 -Ox $agent "$pkg_narrow.$set_no" >"$tmp/pw" 2>"$tmp/pw.err"
np=$(grep -c ' = Hex-STRING: ' "$tmp/pw")
[ "$np" -eq "$n_off" ]
tap $? "package table (narrow selector $narrow), set $set_no, T = 0: $np packages for $n_off flows"
decode_all "$tmp/pw" "$narrow" "$tmp/pw.dif"
tap $? "every package decodes (pkgdump)"
cut -d' ' -f1-7 "$tmp/off.rec" | sort >"$tmp/off.narrow"
sort "$tmp/pw.dif" | diff - "$tmp/off.narrow" >"$tmp/narrow.diff"
tap $? "decoded packages equal the offline records (address, counters, FirstTime, FlowKind)"

# one GET of one instance: flow 1 of set 7
first=$(col 27 | head -1 | cut -d' ' -f1)
snmp snmpget -Ox $agent "$pkg_narrow.$set_no.0.$first" >"$tmp/g1" 2>&1 &&
	grep -q ' = Hex-STRING: ' "$tmp/g1"
tap $? "GET flowPackageData.<sel>.$set_no.0.$first"
decode_all "$tmp/g1" "$narrow" "$tmp/g1.dif"
off_first=$(awk -v i="$first" '$13 == i' "$tmp/off.rec" | cut -d' ' -f1-7)
[ -n "$off_first" ] && [ "$(cat "$tmp/g1.dif")" = "$off_first" ]
tap $? "it decodes to the offline record of flow $first ($off_first)"

# wide selector: DNS counters (attributes > 255) and the RTT distribution
snmp snmpbulkwalk -Cr10 -Ox $agent "$pkg_wide.$set_no" >"$tmp/ww" 2>"$tmp/ww.err"
nw=$(grep -c ' = Hex-STRING: ' "$tmp/ww")
[ "$nw" -eq "$n_off" ] && ! grep -qi toobig "$tmp/ww" "$tmp/ww.err"
tap $? "ntmPackageTable (wide selector $wide) GETBULK: $nw packages, no tooBig"
decode_all "$tmp/ww" "$wide" "$tmp/ww.dif"
awk '{ print $1, $8, $9, $10, $11 }' "$tmp/off.rec" | sort >"$tmp/off.wide"
sort "$tmp/ww.dif" | diff - "$tmp/off.wide" >"$tmp/wide.diff"
tap $? "decoded wide packages equal the offline DNS counters and RTT distributions"
big=$(awk '{ print length($0) }' "$tmp/ww" | sort -n | tail -1)
biggest=$(grep -c '^6:' <(awk '{ print $5 }' "$tmp/ww.dif"))
[ "$biggest" -ge 1 ]
tap $? "some flows carry binned distributions of > 120 samples ($biggest; longest line $big)"
# a GETBULK asking for more large packages than fit answers with fewer
snmp snmpbulkget -Cr60 -Ox $agent "$pkg_wide.$set_no" >"$tmp/wb" 2>&1
nb=$(grep -c ' = Hex-STRING: ' "$tmp/wb")
! grep -qi toobig "$tmp/wb" && [ "$nb" -ge 1 ]
tap $? "GETBULK of 60 large packages: $nb returned, no tooBig"

# ---- TimeFilter ----
# T = the second trace's start in uptime cs: exactly its servers' flows
T=$(( (t0 + 60 - t0) * 100 ))
snmp snmpbulkwalk -Cr20 -Ox $agent "$pkg_narrow.$set_no.$T" >"$tmp/tw" 2>&1
decode_all "$tmp/tw" "$narrow" "$tmp/tw.dif"
cut -d' ' -f1 "$tmp/tw.dif" | sort >"$tmp/tw.servers"
tail -n +2 "$tmp/s2.csv" | cut -d, -f1 | sort >"$tmp/s2.servers"
diff "$tmp/tw.servers" "$tmp/s2.servers" >/dev/null &&
	! grep -q "\.$set_no\.0\." "$tmp/tw" &&
	[ "$(grep -c "\.$set_no\.$T\.[0-9]* = Hex" "$tmp/tw")" -eq "$(wc -l <"$tmp/s2.servers")" ]
tap $? "package table from T = $T: exactly the $(wc -l <"$tmp/s2.servers") servers of the second trace, OIDs keep T"
# a GETNEXT past the last flow of (selector, set, T) leaves the table
last=$(grep -o "\.$set_no\.$T\.[0-9]* = Hex" "$tmp/tw" | tail -1 | cut -d. -f4 | cut -d' ' -f1)
nx=$(snmp snmpgetnext $agent "$pkg_narrow.$set_no.$T.$last" 2>&1 | head -1)
case "$nx" in
	".$flow_mib.2.3."*) false ;;
	*) true ;;
esac
tap $? "GETNEXT after the last flow of (selector, set, T) leaves the package table"
# flowDataTable with T beyond every flow: nothing of the set
far=$((u + 100000))
nx=$(snmp snmpgetnext $agent "$flow_mib.2.1.1.28.$set_no.$far" 2>&1 | head -1)
case "$nx" in
	".$flow_mib.2.1.1.28.$set_no."*) false ;;
	*) true ;;
esac
tap $? "flowDataTable from T beyond every flow returns nothing of set $set_no ($nx)"
snmp snmpwalk $agent "$flow_mib.2.1.1.28.$set_no.$T" >"$tmp/dw" 2>&1
[ "$(grep -c "^\.$flow_mib\.2\.1\.1\.28\.$set_no\.$T\." "$tmp/dw")" -eq "$(wc -l <"$tmp/s2.servers")" ]
tap $? "flowDataTable walk from T = $T: the second trace's flows"

# ---- NTM-MIB ----
snmp snmpwalk $agent $ntm.1 >"$tmp/ntm" 2>&1
grep -q "^\.$ntm\.1\.1\.0 = STRING: \"ntm " "$tmp/ntm" &&
grep -q "^\.$ntm\.1\.5\.0 = Counter64: ${t0}[0-9]\{9\}$" "$tmp/ntm" &&
grep -q "^\.$ntm\.1\.6\.0 = INTEGER: 100$" "$tmp/ntm"
tap $? "ntmMeter: version, start (first packet, ns), speed 100"
snmp snmpwalk $agent 1.3.6.1.2.1.1 >"$tmp/sys" 2>&1
grep -q '^\.1\.3\.6\.1\.2\.1\.1\.1\.0 = STRING: "ntm' "$tmp/sys" &&
grep -q '^\.1\.3\.6\.1\.2\.1\.1\.3\.0 = Timeticks' "$tmp/sys"
tap $? "system group: sysDescr and sysUpTime (meter uptime)"

# ---- SET ----
setv() {   # setv COMMUNITY ARGS...: the error reason, or "ok"
	local c=$1; shift
	local out
	if out=$(snmpset -v2c -c "$c" -t 3 -r 1 -On $agent "$@" 2>&1); then
		echo ok
	else
		echo "$out" | sed -n 's/^Reason: \([A-Za-z]*\).*/\1/p' | head -1
	fi
}
r=$(setv public $flow_mib.1.5.0 i 80)
[ "$r" = noAccess ] || [ "$r" = authorizationError ]
tap $? "the read community cannot write ($r)"
r=$(setv ntmwrite $flow_mib.1.1.1.4.$set_no t 5)
[ "$r" = notWritable ]
tap $? "flowRuleInfoTimeStamp (read-only) is notWritable ($r)"
r=$(setv ntmwrite $flow_mib.1.5.0 s x)
[ "$r" = wrongType ]
tap $? "flowFloodMark as a string is wrongType ($r)"
r=$(setv ntmwrite $flow_mib.2.1.1.28.$set_no.0.$first i 1)
[ "$r" = notWritable ]
tap $? "flowDataTable is notWritable ($r)"
r=$(setv ntmwrite $ntm.1.6.0 i 2)
[ "$r" = notWritable ]
tap $? "NTM-MIB scalars are notWritable ($r)"
r=$(setv ntmwrite $flow_mib.1.5.0 i 90)
v=$(snmp snmpget -Oqv $agent $flow_mib.1.5.0 2>/dev/null)
[ "$r" = ok ] && [ "$v" = 90 ]
tap $? "the write community sets flowFloodMark ($r, reads back $v)"
r=$(setv ntmwrite $flow_mib.1.1.1.6.$set_no s renamed)
[ "$r" = notWritable ]
tap $? "a running ruleset's name is notWritable ($r)"

stop_meter
rc=$meter_rc
[ "$rc" -eq 0 ]
tap $? "ntm-meter stops cleanly on SIGTERM (exit $rc)"
if [ "$failures" -ne 0 ]; then
	for f in counts.diff narrow.diff wide.diff meter.err walk.err g1 ww.err wb; do
		[ -s "$tmp/$f" ] && { echo "# $f:"; head -20 "$tmp/$f" | sed 's/^/#   /'; }
	done
fi
exit $((failures > 0))
