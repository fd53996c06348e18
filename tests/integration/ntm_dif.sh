#!/usr/bin/env bash
# ntm_dif.sh -- ntm-dif against the trace generator's truth.
#
# Two consecutive generated traces (two "days") go through the offline meter
# into two .dif files; ntm-dif csv must report, for every interval and
# server, exactly the truth's sample count and median RTT (rtt_us grouped by
# floor(time / 300 s) and server; the median of an even count is the mean of
# the two middle values) for type-5 intervals, and a median within one
# type-6 bin (bin width from the interval's own limits and bin count) for
# type-6 ones; both kinds must occur.  ntm-dif summary's per-server
# requests/answered/lost (sums of per-interval differences of cumulative
# counters) must equal the generator's per-server summary.  Hand-written
# NeTraMet-era files parse as specified (5.1b5: counts kept, limits invalid,
# no median, a warning); truncated and corrupt files give file:line errors,
# a non-zero exit and every good interval.
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
: "${NTM_ROOT:?NTM_ROOT must name the repository root}"
dif="$NTM_BIN/ntm-dif"
data="$NTM_ROOT/tests/data/dif"
. "$(dirname "$0")/../tap.sh"
tap_init dif

show() { sed -n '1,10s/^/# /p' "$1"; }

# ---- 1. generated traces through the offline meter ----
day1=1700000100   # a multiple of 300 s: the day files do not share an interval
day2=$((day1 + 2100))   # responses of day 1 run past its end
ok=0
for d in 1 2; do
	eval "start=\$day$d"
	"$NTM_BIN/gen_trace" -o "$tmp/t$d.pcap" --seed $((40 + d)) --start "$start" \
		--duration 1800 --rate 22 --truth "$tmp/truth$d.csv" 2>"$tmp/gen.err" &&
	"$NTM_BIN/ntm-meter" --read "$tmp/t$d.pcap" -r "$NTM_ROOT/rulesets/dns-root.srl" \
		-o "$tmp/t$d.dif" 2>"$tmp/meter.err" || ok=1
done
[ "$ok" -eq 0 ] || { show "$tmp/gen.err"; show "$tmp/meter.err"; }
tap $ok "two generated traces metered into two .dif files"

"$dif" csv "$tmp/t1.dif" "$tmp/t2.dif" >"$tmp/out.csv" 2>"$tmp/csv.err"
tap $? "ntm-dif csv exits 0 on good files"
head -1 "$tmp/out.csv" | grep -q '^start,end,.*flow,server,requests,responses,answered,lost,load_rps,.*median_us,p10_us,p90_us,dist_type' 
tap $? "CSV header has the documented columns"

# truth: interval, server -> sample count and median.  The meter's
# intervals end on multiples of 300 s (the first one of a trace is
# partial), so both sides are keyed by floor(t / 300 s).
for d in 1 2; do tail -n +2 "$tmp/truth$d.csv"; done |
	awk -F, '{ s = substr($1, 1, length($1) - 9); print int(s / 300) * 300 "," $2 "," $5 }' |
	sort -t, -k1,1n -k2,2 -k3,3n |
	awk -F, '
	function flush() { if (cnt == 0) return
		m = cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
		printf "%s,%d,%.1f\n", key, cnt, m; cnt = 0 }
	{ k = $1 "," $2; if (k != key) { flush(); key = k } v[++cnt] = $3 }
	END { flush() }' >"$tmp/truth-medians"

# csv: column numbers from the header
col() { head -1 "$tmp/out.csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
c_start=$(col start_epoch) c_server=$(col server) c_n=$(col samples)
c_med=$(col median_us) c_type=$(col dist_type) c_lo=$(col dist_lower_us)
c_up=$(col dist_upper_us) c_bins=$(col dist_bins)
awk -F, -v s="$c_start" -v sv="$c_server" -v cn="$c_n" -v cm="$c_med" \
	-v ct="$c_type" -v cl="$c_lo" -v cu="$c_up" -v cb="$c_bins" '
	FNR == NR { split($0, a, ","); tn[a[1] "," a[2]] = a[3]; tm[a[1] "," a[2]] = a[4]; next }
	FNR == 1 { next }
	$cn > 0 {
		k = int($s / 300) * 300 "," $sv
		if (!(k in tn)) { print "# no truth for " k; bad++; next }
		seen[k] = 1
		if (tn[k] != $cn) { print "# " k ": " $cn " samples, truth " tn[k]; bad++; next }
		if ($ct == 5) {
			n5++
			d = $cm - tm[k]; if (d < 0) d = -d
			if (d > 0.05) { print "# " k ": type-5 median " $cm ", truth " tm[k]; bad++ }
		} else if ($ct == 6) {
			n6++
			L = $cl > 1 ? $cl : 1; U = $cu + 1
			w = tm[k] * (exp(log(U / L) / $cb) - 1)
			d = $cm - tm[k]; if (d < 0) d = -d
			if (d > w) { print "# " k ": type-6 median " $cm ", truth " tm[k] ", bin " w; bad++ }
		} else { print "# " k ": dist_type " $ct; bad++ }
	}
	END {
		for (k in tn) if (!(k in seen) && k !~ /^[0-9]+,10\.1\./ && k !~ /,fd00:/) missing++
		print n5 + 0, n6 + 0, bad + 0, missing + 0 }' \
	"$tmp/truth-medians" "$tmp/out.csv" >"$tmp/cmp.out"
grep '^#' "$tmp/cmp.out" | head -10
read -r n5 n6 bad missing < <(grep -v '^#' "$tmp/cmp.out")
[ "$bad" -eq 0 ] && [ "$n5" -ge 50 ]
tap $? "type-5 medians and sample counts equal the truth exactly ($n5 intervals, $bad mismatches)"
[ "$bad" -eq 0 ] && [ "$n6" -ge 20 ]
tap $? "type-6 medians within one bin of the truth ($n6 intervals)"
[ "$missing" -eq 0 ]
tap $? "every (interval, server) of the truth has a csv row with samples ($missing missing)"

# the local resolvers are not in dns-root: no rows for them
! grep -q ',10\.1\.0\.53,' "$tmp/out.csv"
tap $? "servers outside the ruleset have no rows"

# summary: per-server counter sums equal the generator's summary
"$dif" summary "$tmp/t1.dif" "$tmp/t2.dif" >"$tmp/summary.txt" 2>"$tmp/sum.err"
tap $? "ntm-dif summary exits 0"
for d in 1 2; do tail -n +2 "$tmp/truth$d.csv.servers.csv"; done |
	awk -F, '{ q[$2] += $2 == "" ? 0 : 0; r[$1] += $2; a[$1] += $4; l[$1] += $5 }
	END { for (k in r) print k, r[k], a[k], l[k] }' | sort >"$tmp/truth-sum"
awk 'NR > 1 && $2 !~ /^10\.1\./ { print $2, $4, $5, $6 }' "$tmp/summary.txt" | sort >"$tmp/dif-sum"
grep -v '^10\.1\.\|^fd00:' "$tmp/truth-sum" >"$tmp/truth-sum2"
if diff "$tmp/truth-sum2" "$tmp/dif-sum" >"$tmp/diff.out"; then r=0; else r=1; show "$tmp/diff.out"; fi
tap $r "summary requests/answered/lost per server equal the generator's summary ($(wc -l <"$tmp/dif-sum") servers)"
# intervals per flow: 7 per day file (a partial first interval, then 300 s
# ones) -- whatever the meter wrote, summary counts the csv rows
awk -F, -v sv="$c_server" 'NR > 1 { c[$sv]++ } END { for (k in c) print k, c[k] }' \
	"$tmp/out.csv" | sort >"$tmp/csv-iv"
awk 'NR > 1 { print $2, $3 }' "$tmp/summary.txt" | sort >"$tmp/sum-iv"
diff -q "$tmp/csv-iv" "$tmp/sum-iv" >/dev/null
tap $? "summary interval counts equal the csv rows per server"
# a pooled median over the whole range: exact for the type-5-only flows
awk 'NR > 1 && $NF == "exact" { e++ } NR > 1 && $NF == "histogram" { h++ }
	END { exit !(e > 0 && h > 0) }' "$tmp/summary.txt"
tap $? "summary pools exact values for type-5-only flows and a histogram otherwise"
# for an exact flow: the pooled median equals the truth's over the range
srv=$(awk 'NR > 1 && $NF == "exact" && $2 !~ /^10\./ { print $2; exit }' "$tmp/summary.txt")
want=$(for d in 1 2; do tail -n +2 "$tmp/truth$d.csv"; done | awk -F, -v s="$srv" '$2 == s { print $5 }' |
	sort -n | awk '{ v[++c] = $1 } END { printf "%.1f\n", (c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2) }')
got=$(awk -v s="$srv" 'NR > 1 && $2 == s { print $9 }' "$tmp/summary.txt")
awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; exit !(d < 0.05 && d > -0.05) }'
tap $? "summary median of $srv over both files is exact ($got, truth $want)"

# json carries the same rows
"$dif" json "$tmp/t1.dif" "$tmp/t2.dif" >"$tmp/out.json" 2>/dev/null
rows_json=$(grep -c '"flow": ' "$tmp/out.json")
rows_csv=$(($(wc -l <"$tmp/out.csv") - 1))
[ "$rows_json" -eq "$rows_csv" ] && head -c 1 "$tmp/out.json" | grep -q '\['
tap $? "json has one object per csv row ($rows_json)"
python_ok=1
if command -v python3 >/dev/null && python3 -c 'import json' 2>/dev/null; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if len(d) == int(sys.argv[2]) and all("median_us" in r for r in d) else 1)' \
		"$tmp/out.json" "$rows_csv"
	python_ok=$?
	tap $python_ok "json parses as JSON (python3's json module)"
fi

# --from/--to/--flows filter rows
first_srv=$(awk -F, -v sv="$c_server" 'NR == 2 { print $sv }' "$tmp/out.csv")
"$dif" csv --flows "$first_srv" --from $((day1 + 300)) --to $((day1 + 900)) "$tmp/t1.dif" >"$tmp/f.csv"
awk -F, -v sv="$c_server" -v s="$c_start" -v f="$first_srv" -v a=$((day1 + 300)) -v b=$((day1 + 900)) '
	NR > 1 { n++; if ($sv != f || $s < a || $s + 300 > b) bad++ } END { exit !(n == 2 && !bad) }' "$tmp/f.csv"
tap $? "--flows/--from/--to select rows"

# ---- 2. hand-written NeTraMet-era files ----
"$dif" csv "$data/netramet-5.1b5-dns.dif" >"$tmp/51.csv" 2>"$tmp/51.err"
r=$?
grep -q 'netramet-5.1b5-dns.dif:1: warning: NeTraMet v5.1b5' "$tmp/51.err"
tap $(( r != 0 || $? != 0 )) "5.1b5 file: exit 0 and a warning naming file and version"
# type-6 rows: samples kept, limits_valid 0, no median; type-5 rows: medians
awk -F, 'NR > 1 { print $5 "|" $12 "|" $13 "|" $16 "|" $17 "|" $18 "|" $19 "|" $20 }' "$tmp/51.csv" >"$tmp/51.got"
cat >"$tmp/51.want" <<'EOF'
0/1/198.41.0.4|3|20110.0|5||||1
0/11/193.0.14.129|150||6|1500|7000|5|0
1/1/192.5.6.30|130||6|20000|7000|3|0
0/1/198.41.0.4|4|20500.0|5||||1
0/11/193.0.14.129|150||6|1600|7000|5|0
EOF
if diff "$tmp/51.want" "$tmp/51.got" >"$tmp/diff.out"; then r=0; else r=1; show "$tmp/diff.out"; fi
tap $r "5.1b5 file: type-6 counts kept with limits invalid and no median, type-5 medians exact"
"$dif" json "$data/netramet-5.1b5-dns.dif" 2>/dev/null | grep -q '"limits_valid": false, "counts": \[30,50,50\]'
tap $? "5.1b5 file: json keeps the bin counts of a token whose lower limit exceeds 7000"
"$dif" summary "$data/netramet-5.1b5-dns.dif" 2>/dev/null >"$tmp/51.sum"
awk '$1 == "0/11/193.0.14.129" { exit !($3 == 2 && $4 == 300 && $8 == 300 && $9 == "-") }' "$tmp/51.sum"
tap $? "5.1b5 file: summary counts the samples and reports no median"

"$dif" csv "$data/netramet-4.4-dns.dif" >"$tmp/44.csv" 2>"$tmp/44.err"
r=$?
[ $r -eq 0 ] && [ ! -s "$tmp/44.err" ]
tap $? "NeTraMet 4.4 file: exit 0, no warning"
awk -F, 'NR > 1 { print $5 "|" $7 "|" $12 "|" $13 "|" $16 "|" $20 }' "$tmp/44.csv" >"$tmp/44.got"
cat >"$tmp/44.want" <<'EOF'
0/1/198.41.0.4|3|3|20110.0|5|1
0/11/193.0.14.129|150|150|14982.9|6|1
0/1/198.41.0.4|4|4|20500.0|5|1
0/11/193.0.14.129|40|2|30500.0|5|1
EOF
if diff "$tmp/44.want" "$tmp/44.got" >"$tmp/diff.out"; then r=0; else r=1; show "$tmp/diff.out"; fi
tap $r "NeTraMet 4.4 file: differences, index reuse (new FirstTime) and type-6 median"

"$dif" csv "$data/netramet-3.2.dif" >"$tmp/32.csv" 2>"$tmp/32.err"
r=$?
awk -F, 'NR > 1 { print $5 "|" $6 "|" $7 "|" $8 }' "$tmp/32.csv" >"$tmp/32.got"
printf '%s\n' '1:2|130.216.2.2|5|3' '1:3|192.168.7.9|10|10' '1:2|130.216.2.2|4|3' >"$tmp/32.want"
diff -q "$tmp/32.want" "$tmp/32.got" >/dev/null && [ $r -eq 0 ]
tap $? "NeTraMet 3.2 file: ruleset:index ids, pdus as requests/responses, differenced"

# ---- 3. bad input ----
# truncated: the last interval loses its end (and half a record)
head -c $(( $(wc -c <"$tmp/t1.dif") - 40 )) "$tmp/t1.dif" >"$tmp/trunc.dif"
"$dif" csv "$tmp/trunc.dif" >"$tmp/trunc.csv" 2>"$tmp/trunc.err"
r=$?
records=$(awk '/^#Enddata/ { s += $2 } END { print s }' "$tmp/t1.dif")
last=$(grep '^#Enddata' "$tmp/t1.dif" | tail -1 | awk '{ print $2 }')
rows=$(($(wc -l <"$tmp/trunc.csv") - 1))
[ $r -ne 0 ]
tap $? "truncated file: non-zero exit"
grep -qE "^$tmp/trunc.dif:[0-9]+: incomplete interval" "$tmp/trunc.err"
tap $? "truncated file: file:line error ($(head -1 "$tmp/trunc.err"))"
[ "$rows" -eq $(( records - last )) ]
tap $? "truncated file: every complete interval still produced ($rows rows)"

# corrupt: a record of the second interval garbled
awk '/^#Time/ { t++ } t == 2 && !/^#/ && !done { sub(/ [0-9]+ /, " x7 "); done = 1 } { print }' \
	"$tmp/t1.dif" >"$tmp/bad.dif"
badline=$(awk '/ x7 / { print NR; exit }' "$tmp/bad.dif")
"$dif" csv "$tmp/bad.dif" >"$tmp/bad.csv" 2>"$tmp/bad.err"
r=$?
grep -q "^$tmp/bad.dif:$badline: " "$tmp/bad.err" && [ $r -ne 0 ]
tap $? "corrupt record: file:line error at line $badline and non-zero exit"
rows=$(($(wc -l <"$tmp/bad.csv") - 1))
[ "$rows" -eq $(( records - 1 )) ]
tap $? "corrupt record: every other record of every interval is still produced ($rows rows)"

"$dif" csv "$tmp/nonexistent.dif" >/dev/null 2>"$tmp/ne.err"
r=$?
[ $r -ne 0 ] && grep -q 'nonexistent.dif' "$tmp/ne.err"
tap $? "missing file: error naming it, non-zero exit"
"$dif" frobnicate "$tmp/t1.dif" >/dev/null 2>&1
[ $? -eq 2 ]
tap $? "unknown command: exit 2"

echo "# $n tests, $failures failed"
[ "$failures" -eq 0 ]
