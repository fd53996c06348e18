#!/usr/bin/env bash
# demo.sh — `make demo` runs the main job on the bundled sample (ntm-meter
# replaying it with its SNMP agent, ntm-reader downloading the ruleset and
# collecting) and prints the per-server table: every root and gTLD server
# letter, numbers that add up, and a flow data file that ntm-dif reads back.
set -u
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init demo
s0=$(date +%s)
( cd "$root" && DEMO_OUT="$tmp/out" timeout 120 make -s demo ) >"$tmp/demo.txt" 2>&1
tap $? "make demo exits 0"
took=$(($(date +%s) - s0))
[ "$took" -lt 60 ]
tap $? "in under a minute ($took s)"
sed 's/^/# /' "$tmp/demo.txt" | head -8
rows=$(grep -cE '^[a-m]\.(root|gtld) ' "$tmp/demo.txt")
letters=$(grep -oE '^[a-m]\.(root|gtld)' "$tmp/demo.txt" | sort -u | wc -l)
[ "$letters" -eq 26 ] && [ "$rows" -ge 26 ]
tap $? "the table has all 13 root and 13 gTLD servers ($letters names, $rows rows)"
bad=$(awk '/^[a-m]\.(root|gtld) / { if ($4 > $3 || $5 < 0 || $5 > 100 || $6 <= 0 || $7 < $6) print }' "$tmp/demo.txt" | wc -l)
tap $([ "$bad" -eq 0 ]; echo $?) "answered <= requests, 0 <= lost% <= 100, 0 < median <= p90 on every row ($bad bad)"
dif=$(sed -n 's/^demo: flow data file:  //p' "$tmp/demo.txt")
case $dif in "$tmp/out/campus/"????-??-??.dif) true ;; *) false ;; esac && [ -s "$dif" ] &&
	[ "$(grep -c '^#Enddata' "$dif")" -eq 4 ]
tap $? "the .dif path (OUT/campus/DATE.dif) is printed and the file holds 4 complete intervals"
grep -q 'campus: downloaded dns-root.srl#' "$tmp/demo.txt" &&
	[ "$(grep -c 'campus: collected [0-9]* flows' "$tmp/demo.txt")" -eq 4 ]
tap $? "the reader downloaded the ruleset and made 4 collections"
if pgrep -f "$tmp/out/reader.conf" >/dev/null; then left=1; else left=0; fi
tap $left "no ntm-reader of the demo is left running"
"$NTM_BIN/ntm-dif" csv "$dif" >"$tmp/rows.csv" 2>"$tmp/dif.err"
tap $? "ntm-dif reads the demo's file back ($(($(wc -l <"$tmp/rows.csv") - 1)) rows)"
[ "$failures" -eq 0 ]
