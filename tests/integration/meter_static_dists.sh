#!/usr/bin/env bash
# meter_static_dists.sh — RFC 2724 static distributions in ntm-meter --read,
# against computations made here from tshark's view of the same trace.
#
# tests/data/rulesets/static-dists.srl keeps one flow per DNS server
# (requests To, responses From) with ToPacketSize and FromPacketSize (linear,
# 25-octet buckets up to 1500), ToTurnaroundTime (log, 1 ms .. 1.8 s),
# ToInterarrivalTime, ToPDURate (Parameter-1 = 5 s) and ToBitRate.  The
# trace is metered in 30-second intervals; each interval's distribution is
# the difference from the previous reading, so summed over the intervals
# per server:
#   * ToPacketSize / FromPacketSize: every bucket equals the histogram of
#     tshark's frame.len of the frames to / from that server on port 53,
#     bucketed here in awk, and the sums equal the packet counts;
#   * each interval's n equals that interval's ToPDUs / FromPDUs increase;
#   * ToTurnaroundTime: every bucket equals the histogram of the RTT samples
#     (--samples, which meter_oracle.sh proves equal to tshark's dns.time)
#     under RFC 2724's logarithmic bounds 1000 · 1800^(i/59) µs;
#   * ToInterarrivalTime: the histogram of the gaps between successive
#     frames to the server in tshark's frame times;
#   * ToPDURate: recomputed from tshark's frame times by the rule in
#     meter/statdist.h (5-second intervals from the flow's first frame,
#     closed by the flow's next frame, empty ones counting 0);
#   * Distributions (65) has bits 0, 1, 2, 4, 6, 8 = 343.
#
# Run from the repository root with NTM_BIN set (make check).
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
meter="$NTM_BIN/ntm-meter"
gen="$NTM_BIN/gen_trace"
rules="$root/tests/data/rulesets/static-dists.srl"
. "$(dirname "$0")/../tap.sh"
tap_init sdist

same() {   # $1 want, $2 got, $3 text
	if [ -s "$1" ] && diff -q "$1" "$2" >/dev/null; then r=0; else
		r=1; diff "$1" "$2" | head -5 | sed 's/^/# /'; fi
	tap $r "$3"
}

if ! command -v tshark >/dev/null; then
	echo "not ok 1 - tshark is not installed (make deps)"
	exit 1
fi

"$gen" -o "$tmp/g.pcap" --seed 11 --duration 120 --rate 40 --background 2 2>/dev/null
tap $? "generated a mixed trace (VLAN, QinQ, IPv6, DNS over TCP, background)"

"$meter" --read "$tmp/g.pcap" -r "$rules" -o "$tmp/g.dif" --interval 30 \
	--samples "$tmp/g.csv" --stats 2>"$tmp/g.err"
tap $? "ntm-meter --read runs with static distributions"
grep -q '^dists .* static [1-9][0-9]* of 8192 refused 0$' "$tmp/g.err"
tap $? "stats: static distributions in use, none refused ($(grep '^dists' "$tmp/g.err"))"

# ---- ntm's side: per server, per attribute, the buckets summed over the
# intervals; per interval n against the counters' increase ----
awk -v chk="$tmp/g.chk" '
	/^#Format:/ { m = 0; for (i = 2; i <= NF; i++) if ($i !~ /^"/) col[$i] = ++m; next }
	/^#/ { next }
	{ m = 0; for (i = 1; i <= NF; i++) if ($i != "") v[++m] = $i
	  s = v[col["destpeeraddress"]]
	  split("topacketsize frompacketsize toturnaroundtime tointerarrivaltime topdurate", names, " ")
	  for (a = 1; a <= 5; a++) {
		nm = names[a]; nf = split(v[col[nm]], f, ":")
		if (nf != 6) { print "bad token " nm " " v[col[nm]] >chk; continue }
		nc = split(f[6], c, ","); sum = 0
		for (i = 1; i <= nc; i++) { sum += c[i]; if (c[i] > 0) h[s " " nm " " i - 1] += c[i] }
		if (sum != f[2]) print "sum " s " " nm " " sum " != n " f[2] >chk
		total[s " " nm] += f[2]
		nn[nm] = f[2]
	  }
	  # the interval n equals the counters increase since the last record
	  tp = v[col["topdus"]]; fp = v[col["frompdus"]]
	  if (nn["topacketsize"] != tp - ptp[s]) print "interval " s " to " nn["topacketsize"] " != " tp - ptp[s] >chk
	  if (nn["frompacketsize"] != fp - pfp[s]) print "interval " s " from " nn["frompacketsize"] " != " fp - pfp[s] >chk
	  ptp[s] = tp; pfp[s] = fp; topdus[s] = tp; frompdus[s] = fp
	  if (v[col["distributions"]] != 343) print "distributions " s " " v[col["distributions"]] >chk
	  records++
	}
	END { for (k in h) print k, h[k]
	      for (s in topdus) {
		if (total[s " topacketsize"] != topdus[s]) print "total " s " to" >chk
		if (total[s " frompacketsize"] != frompdus[s]) print "total " s " from" >chk
	      }
	      if (records < 2) print "only " records " records" >chk }' "$tmp/g.dif" |
	sort >"$tmp/ntm.h"
touch "$tmp/g.chk"
nrec=$(grep -vc '^#' "$tmp/g.dif")
nint=$(grep -c '^#Time:' "$tmp/g.dif")
[ ! -s "$tmp/g.chk" ] && [ "$nint" -ge 4 ]
tap $? "$nrec records in $nint intervals: each distribution's buckets sum to its n, each interval's packet-size n equals that interval's ToPDUs/FromPDUs increase, the totals equal the PDU counters, Distributions = 343$(head -3 "$tmp/g.chk" | tr '\n' ';')"

# ---- tshark's side ----
tshark -r "$tmp/g.pcap" -Y 'udp.port == 53 || tcp.port == 53' -T fields -E separator='|' \
	-e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
	-e udp.dstport -e tcp.dstport -e frame.len 2>/dev/null >"$tmp/frames"
[ -s "$tmp/frames" ]
tap $? "tshark read $(wc -l <"$tmp/frames") frames on port 53"

# linear 25-octet buckets: bucket i holds (25 i, 25 (i + 1)], 60 overflow
awk -F'|' '
	function us(s,  a) { split(s, a, "."); return a[1] * 1000000 + substr(a[2] "000000", 1, 6) }
	function lin(x) { if (x > 1500) return 60; if (x <= 25) return 0; return int((x - 1) / 25) }
	{ to = ($6 == "53" || $7 == "53"); s = to ? $4 $5 : $2 $3
	  if (to) h[s " topacketsize " lin($8)]++; else h[s " frompacketsize " lin($8)]++ }
	END { for (k in h) print k, h[k] }' "$tmp/frames" | sort >"$tmp/ts.size"
grep -E ' (to|from)packetsize ' "$tmp/ntm.h" >"$tmp/ntm.size"
same "$tmp/ts.size" "$tmp/ntm.size" \
	"ToPacketSize/FromPacketSize: all $(wc -l <"$tmp/ts.size") non-empty buckets of every server equal tshark's frame.len histogram"

# log bounds: bucket i holds (b(i-1), b(i)], b(i) = 1000 * 1800^(i/59) µs
log_awk='function lg(x,  i) { if (x > 1800000) return 60
		for (i = 0; i < 60; i++) if (x <= 1000 * exp(log(1800) * i / 59)) return i }'
awk -F, "$log_awk"'
	NR > 1 { split($2, f, "/"); h[f[3] " toturnaroundtime " lg($3)]++ }
	END { for (k in h) print k, h[k] }' "$tmp/g.csv" | sort >"$tmp/ts.rtt"
grep ' toturnaroundtime ' "$tmp/ntm.h" >"$tmp/ntm.rtt"
same "$tmp/ts.rtt" "$tmp/ntm.rtt" \
	"ToTurnaroundTime (log 1 ms..1.8 s): every bucket equals the RTT samples' histogram ($(($(wc -l <"$tmp/g.csv") - 1)) samples)"

# interarrival of the frames to each server, in tshark's times (µs)
awk -F'|' "$log_awk"'
	function us(s,  a) { split(s, a, "."); return a[1] * 1000000 + substr(a[2] "000000", 1, 6) }
	($6 == "53" || $7 == "53") { s = $4 $5; t = us($1)
	  if (s in last) h[s " tointerarrivaltime " lg(t > last[s] ? t - last[s] : 0)]++
	  if (!(s in last) || t > last[s]) last[s] = t }
	END { for (k in h) print k, h[k] }' "$tmp/frames" | sort >"$tmp/ts.ia"
grep ' tointerarrivaltime ' "$tmp/ntm.h" >"$tmp/ntm.ia"
same "$tmp/ts.ia" "$tmp/ntm.ia" \
	"ToInterarrivalTime (log 1 ms..1.8 s): every bucket equals the histogram of tshark's gaps between frames to each server"

# ToPDURate, Parameter-1 = 5 s, linear 1..50 PDU/s: bucket i holds
# (i, i + 1], bucket 0 also 0
awk -F'|' '
	function us(s,  a) { split(s, a, "."); return a[1] * 1000000 + substr(a[2] "000000", 1, 6) }
	function lin(x) { if (x > 50) return 50; if (x <= 1) return 0; return int(x - 1) }
	{ to = ($6 == "53" || $7 == "53"); s = to ? $4 $5 : $2 $3; t = us($1); P = 5000000
	  if (!(s in next_)) { next_[s] = t + P; base[s] = 0 }
	  else if (t >= next_[s]) {
		h[s " topdurate " lin(int((cnt[s] - base[s]) / 5))]++
		empty = int((t - next_[s]) / P)
		if (empty) h[s " topdurate 0"] += empty
		next_[s] += (empty + 1) * P; base[s] = cnt[s]
	  }
	  if (to) cnt[s]++ }
	END { for (k in h) print k, h[k] }' "$tmp/frames" | sort >"$tmp/ts.rate"
grep ' topdurate ' "$tmp/ntm.h" >"$tmp/ntm.rate"
same "$tmp/ts.rate" "$tmp/ntm.rate" \
	"ToPDURate (5-s intervals): every bucket equals the rates recomputed from tshark's frame times"

# a bad distribution parameter is a load error naming the rule
sed 's/save ToPDURate = 50.5.0!0/save ToPDURate = 50.0.0!0/' "$rules" >"$tmp/bad.srl"
"$meter" --read "$tmp/g.pcap" -r "$tmp/bad.srl" -o "$tmp/bad.dif" 2>"$tmp/bad.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'rule [0-9]*: ToPDURate: rate interval' "$tmp/bad.err" && [ ! -e "$tmp/bad.dif" ]
tap $? "a rate interval of 0 is refused at load with the rule number ($(head -1 "$tmp/bad.err"))"

# a pool too small: distributions refused and counted, the run goes on
"$meter" --read "$tmp/g.pcap" -r "$rules" -o "$tmp/small.dif" --max-dists 6 --stats 2>"$tmp/small.err"
rc=$?
[ "$rc" -eq 0 ] && grep -q '^dists .* static 6 of 6 refused [1-9]' "$tmp/small.err"
tap $? "--max-dists 6: the pool fills, the rest is refused and counted ($(grep '^dists' "$tmp/small.err"))"

[ "$failures" -eq 0 ]
