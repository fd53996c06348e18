#!/usr/bin/env bash
# meter_intervals.sh — trace time drives the collection intervals of
# ntm-meter --read, and each interval's RTT distribution is that interval's
# own data:
#   * a 16-minute trace aligned on an interval boundary gives 4 intervals;
#   * per flow, the interval sample counts add up to the flow's samples, and
#     each interval's count equals the --samples CSV rows in it;
#   * type 5 (every value) when an interval has <= 120 samples, type 6
#     (binned) above, switching exactly there; a type-5 list is the
#     interval's values in arrival order;
#   * type-6 lower and upper limits equal the interval's true minimum and
#     maximum within one histogram bin (1/64 of the value, 1 µs below 128).
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init intervals

start=1700000100   # a multiple of 300
"$NTM_BIN/gen_trace" -o "$tmp/t.pcap" --seed 21 --start $start --duration 960 \
	--rate 16 --servers 26 2>/dev/null
tap $? "generated a 16-minute trace"
"$NTM_BIN/ntm-meter" --read "$tmp/t.pcap" -r "$root/rulesets/dns-all.srl" \
	-o "$tmp/t.dif" --samples "$tmp/s.csv" 2>"$tmp/err"
tap $? "ntm-meter --read runs"

intervals=$(grep -c '^#Time:' "$tmp/t.dif")
ends=$(grep -c '^#Enddata' "$tmp/t.dif")
[ "$intervals" -eq 4 ] && [ "$ends" -eq 4 ]
tap $? "16 minutes of trace make 4 intervals ($intervals #Time, $ends #Enddata)"

# one line per (interval, flow): start end server type n token
awk '/^#Format:/ { k = 0; for (i = 2; i <= NF; i++) if ($i !~ /^"/) c[$i] = ++k; next }
	/^#Time:/ { s = $3; e = $5; next }
	/^#/ { next }
	{ m = 0; for (i = 1; i <= NF; i++) v[++m] = $i
	  tok = v[c["toturnaroundtime"]]; split(tok, f, ":")
	  if (f[1] == "5" || f[1] == "6") print s, e, v[c["destpeeraddress"]], f[1], f[2], tok }' \
	"$tmp/t.dif" >"$tmp/dists"
[ -s "$tmp/dists" ]
tap $? "flows carry distributions ($(wc -l <"$tmp/dists") interval records)"

# the truth from the samples CSV (time_ns,flow,rtt_us): per interval and
# server, the count, min, max and the values in arrival order.  Times are
# compared as second strings: ns = 19 digits, seconds = the first 10.
awk -F, 'NR > 1 { split($2, f, "/"); sec = substr($1, 1, 10) + 0
	print sec, f[3], $3 }' "$tmp/s.csv" >"$tmp/samples"
awk 'NR == FNR { s[NR] = $1; e[NR] = $2; srv[NR] = $3; typ[NR] = $4; cnt[NR] = $5; tok[NR] = $6; nr = NR; next }
	{ for (i = 1; i <= nr; i++) if (srv[i] == $2 && $1 >= s[i] && $1 < e[i]) {
		c[i]++; if (!(i in lo) || $3 < lo[i]) lo[i] = $3; if (!(i in hi) || $3 > hi[i]) hi[i] = $3
		vals[i] = vals[i] (c[i] > 1 ? "," : "") $3; break } }
	END { for (i = 1; i <= nr; i++) print srv[i], s[i], typ[i], cnt[i], c[i] + 0, lo[i] + 0, hi[i] + 0, tok[i], vals[i] }' \
	"$tmp/dists" "$tmp/samples" >"$tmp/check"

bad=$(awk '$4 != $5' "$tmp/check" | wc -l)
tap $([ "$bad" -eq 0 ]; echo $?) "every interval's sample count equals the CSV rows in it ($bad differ)"
# per flow the interval counts add up to all its samples
awk '{ t[$1] += $4 } END { for (k in t) print k, t[k] }' "$tmp/check" | sort >"$tmp/sum.dif"
awk '{ t[$2]++ } END { for (k in t) print k, t[k] }' "$tmp/samples" | sort >"$tmp/sum.csv"
diff -q "$tmp/sum.dif" "$tmp/sum.csv" >/dev/null
tap $? "per flow, the 4 intervals' samples add up to the total ($(awk '{ s += $2 } END { print s }' "$tmp/sum.csv") samples)"

wrong=$(awk '($3 == 5 && $4 > 120) || ($3 == 6 && $4 <= 120)' "$tmp/check" | wc -l)
t5=$(awk '$3 == 5' "$tmp/check" | wc -l)
t6=$(awk '$3 == 6' "$tmp/check" | wc -l)
near=$(awk '$4 >= 100 && $4 <= 140' "$tmp/check" | wc -l)
[ "$wrong" -eq 0 ] && [ "$t5" -gt 0 ] && [ "$t6" -gt 0 ] && [ "$near" -gt 0 ]
tap $? "type 5 iff <= 120 samples: $t5 type 5, $t6 type 6, $near intervals with 100..140 samples, $wrong wrong"

exact=$(awk '$3 == 5 { split($8, f, ":"); if (f[3] != $9) print }' "$tmp/check" | wc -l)
tap $([ "$exact" -eq 0 ]; echo $?) "every type-5 list is the interval's values in arrival order ($exact differ)"

limits=$(awk '$3 == 6 { split($8, f, ":"); lower = f[3]; upper = f[4]
	tl = $6 / 64 + 1; th = $7 / 64 + 1
	if (lower > $6 || $6 - lower > tl || upper < $7 || upper - $7 > th) print }' "$tmp/check")
[ -z "$limits" ] && [ "$t6" -gt 0 ]
tap $? "type-6 limits bracket the true min and max within one bin ($t6 intervals)"
[ -n "$limits" ] && echo "$limits" | head -3 | sed 's/^/# /'
exit 0
