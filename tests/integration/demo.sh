#!/usr/bin/env bash
# demo.sh — `make demo` runs the main job on the bundled sample and prints
# the per-server table: every root and gTLD server letter, numbers that add
# up, and a flow data file that ntm-dif reads back.
set -u
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init demo
( cd "$root" && DEMO_OUT="$tmp/out" timeout 120 make -s demo ) >"$tmp/demo.txt" 2>&1
tap $? "make demo exits 0"
sed 's/^/# /' "$tmp/demo.txt" | head -8
rows=$(grep -cE '^[a-m]\.(root|gtld) ' "$tmp/demo.txt")
letters=$(grep -oE '^[a-m]\.(root|gtld)' "$tmp/demo.txt" | sort -u | wc -l)
[ "$letters" -eq 26 ] && [ "$rows" -ge 26 ]
tap $? "the table has all 13 root and 13 gTLD servers ($letters names, $rows rows)"
bad=$(awk '/^[a-m]\.(root|gtld) / { if ($4 > $3 || $5 < 0 || $5 > 100 || $6 <= 0 || $7 < $6) print }' "$tmp/demo.txt" | wc -l)
tap $([ "$bad" -eq 0 ]; echo $?) "answered <= requests, 0 <= lost% <= 100, 0 < median <= p90 on every row ($bad bad)"
dif="$tmp/out/campus-dns.dif"
grep -q "flow data file:  .*campus-dns.dif" "$tmp/demo.txt" && [ -s "$dif" ] &&
	[ "$(grep -c '^#Enddata' "$dif")" -eq 4 ]
tap $? "the .dif path is printed and the file holds 4 complete intervals"
"$NTM_BIN/ntm-dif" csv "$dif" >"$tmp/rows.csv" 2>"$tmp/dif.err"
tap $? "ntm-dif reads the demo's file back ($(($(wc -l <"$tmp/rows.csv") - 1)) rows)"
exit 0
