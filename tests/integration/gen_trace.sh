#!/usr/bin/env bash
# gen_trace.sh -- the test-trace generator against tshark as the oracle:
# per-server query and response counts, packets and octets per direction,
# retransmitted queries and duplicate responses as tshark flags them, and
# tshark's dns.time to the µs equal to the truth files; the mix really has
# VLAN, QinQ, IPv6 and DNS over TCP; --ns, --snaplen 96, --seed
# determinism and --distinct-sources.
#
# tshark 4.0's dns.time for a retransmitted query is measured from the
# *first* request; the truth file carries that as rtt_first_us beside
# rtt_us (from the latest request, what ntm reports).
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
gen="$NTM_BIN/gen_trace"
. "$(dirname "$0")/../tap.sh"
tap_init gen-trace

# show the first lines of a difference on failure
diff_ok() {
	if diff "$1" "$2" >"$tmp/diff.out"; then return 0; fi
	sed -n '1,10s/^/# /p' "$tmp/diff.out"
	return 1
}

if ! command -v tshark >/dev/null; then
	echo "not ok 1 - tshark is not installed (tools/deps.sh)"
	exit 1
fi
ts() { tshark "$@" 2>/dev/null; }

# frame.time_epoch / dns.time "S.FFFFFFFFF" -> integer ns
to_ns='function ns(s,  a) { split(s, a, "."); return a[1] substr(a[2] "000000000", 1, 9) }'

# ---- 1. a small trace with everything in it ----
"$gen" -o "$tmp/t.pcap" --seed 7 --duration 40 --rate 40 --background 1 \
	--truth "$tmp/truth.csv" 2>"$tmp/gen.err"
tap $? "gen_trace writes a trace, truth and summary"
sum="$tmp/truth.csv.servers.csv"
[ -s "$sum" ] && [ "$(head -1 "$tmp/truth.csv")" = "time_ns,server,client,transport,rtt_us,rtt_first_us" ]
tap $? "truth and summary files have their headers"

ts -r "$tmp/t.pcap" -Y dns -T fields -E separator=, -e frame.time_epoch \
	-e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e dns.flags.response \
	-e dns.time -e dns.retransmission -e tcp.stream >"$tmp/dns.csv"

# per-server requests and responses
awk -F, '{ s = $2 $3; d = $4 $5
	if ($6 == "0" || $6 == "False") q[d]++; else r[s]++ }
	END { for (k in q) print k, "q", q[k]; for (k in r) print k, "r", r[k] }' \
	"$tmp/dns.csv" | sort >"$tmp/tshark-counts"
awk -F, 'NR > 1 { if ($2 > 0) print $1, "q", $2; if ($3 > 0) print $1, "r", $3 }' \
	"$sum" | sort >"$tmp/truth-counts"
diff_ok "$tmp/tshark-counts" "$tmp/truth-counts"
tap $? "tshark's per-server query and response counts equal the summary ($(wc -l <"$tmp/truth-counts") rows)"

# dns.time to the µs, for every answered query
awk -F, "$to_ns"'
	$7 != "" { t = ns($7); us = substr(t, 1, length(t) - 3) + 0
		if (substr(t, length(t) - 2) != "000") us = us "+subus"
		print ns($1) "," $2 $3 "," $4 $5 "," us }' "$tmp/dns.csv" |
	sort >"$tmp/tshark-rtt"
awk -F, 'NR > 1 { print $1 "," $2 "," $3 "," $6 }' "$tmp/truth.csv" | sort >"$tmp/truth-rtt"
diff_ok "$tmp/tshark-rtt" "$tmp/truth-rtt"
tap $? "tshark's dns.time equals the truth to the µs for all $(wc -l <"$tmp/truth-rtt") answered queries"

awk -F, 'NR > 1 && $5 != $6 { d++ } NR > 1 && $5 > $6 { bad++ }
	END { exit !(d > 0 && bad == 0) }' "$tmp/truth.csv"
tap $? "retransmitted queries: RTT from the latest request is below tshark's (from the first)"

retx_q=$(awk -F, '$8 != "" && ($6 == "0" || $6 == "False")' "$tmp/dns.csv" | wc -l)
retx_r=$(awk -F, '$8 != "" && !($6 == "0" || $6 == "False")' "$tmp/dns.csv" | wc -l)
read -r t_retx t_dup t_unm t_lost < <(awk -F, 'NR > 1 { a += $6; b += $7; c += $8; d += $5 }
	END { print a, b, c, d }' "$sum")
[ "$retx_q" -eq "$t_retx" ] && [ "$retx_q" -gt 0 ]
tap $? "retransmitted queries: tshark $retx_q, truth $t_retx"
[ "$retx_r" -eq "$t_dup" ] && [ "$retx_r" -gt 0 ]
tap $? "duplicate responses: tshark $retx_r, truth $t_dup"
unans=$(awk -F, '!($6 == "0" || $6 == "False") && $7 == "" && $8 == ""' "$tmp/dns.csv" | wc -l)
[ "$unans" -eq "$t_unm" ] && [ "$t_unm" -gt 0 ] && [ "$t_lost" -gt 0 ]
tap $? "responses without a query: tshark $unans, truth $t_unm (and $t_lost lost)"

# packets and octets per direction, every frame of the trace
ts -r "$tmp/t.pcap" -T fields -E separator=, -e ip.src -e ipv6.src -e ip.dst \
	-e ipv6.dst -e frame.len -e ip.len -e ipv6.plen >"$tmp/frames.csv"
awk -F, 'NR == FNR { if (FNR > 1) srv[$1] = 1; next }
	{ s = $1 $2; d = $3 $4; ipl = ($6 != "") ? $6 : $7 + 40
	  if (d in srv) { pt[d]++; wt[d] += $5; it[d] += ipl }
	  if (s in srv) { pf[s]++; wf[s] += $5; if_[s] += ipl } }
	END { for (k in srv) print k, pt[k] + 0, wt[k] + 0, it[k] + 0, pf[k] + 0, wf[k] + 0, if_[k] + 0 }' \
	"$sum" "$tmp/frames.csv" | sort >"$tmp/tshark-octets"
awk -F, 'NR > 1 { print $1, $9, $10, $11, $12, $13, $14 }' "$sum" | sort >"$tmp/truth-octets"
diff_ok "$tmp/tshark-octets" "$tmp/truth-octets"
tap $? "per-server packets, wire and IP octets per direction equal the summary"

# the mix
vlan=$(ts -r "$tmp/t.pcap" -Y 'vlan && !ieee8021ad && dns' | wc -l)
qinq=$(ts -r "$tmp/t.pcap" -Y 'ieee8021ad && vlan.id == 300 && dns' | wc -l)
v6=$(ts -r "$tmp/t.pcap" -Y 'ipv6 && dns' | wc -l)
tcpdns=$(ts -r "$tmp/t.pcap" -Y 'tcp && dns' | wc -l)
fin=$(ts -r "$tmp/t.pcap" -Y 'tcp.port == 53 && tcp.flags.fin == 1' | wc -l)
bg=$(ts -r "$tmp/t.pcap" -Y 'icmp || icmpv6 || udp.port == 123 || tcp.port == 443' | wc -l)
[ "$vlan" -gt 0 ] && [ "$qinq" -gt 0 ] && [ "$v6" -gt 0 ] && [ "$tcpdns" -gt 0 ] &&
	[ "$fin" -eq $((2 * $(awk -F, 'NR > 1 && $4 == "tcp"' "$tmp/truth.csv" | wc -l))) ] && [ "$bg" -gt 0 ]
tap $? "mix: 802.1Q $vlan, QinQ $qinq, IPv6 $v6, DNS/TCP $tcpdns (FINs $fin), background $bg"
bad=$(ts -r "$tmp/t.pcap" -Y '_ws.expert.severity >= error || _ws.malformed' | wc -l)
[ "$bad" -eq 0 ]
tap $? "tshark finds no malformed packet ($bad)"

# ---- 2. determinism ----
"$gen" -o "$tmp/t2.pcap" --seed 7 --duration 40 --rate 40 --background 1 2>/dev/null
"$gen" -o "$tmp/t3.pcap" --seed 8 --duration 40 --rate 40 --background 1 2>/dev/null
cmp -s "$tmp/t.pcap" "$tmp/t2.pcap" && ! cmp -s "$tmp/t.pcap" "$tmp/t3.pcap"
tap $? "same seed gives the same bytes, another seed another trace"

# ---- 3. nanosecond pcap ----
"$gen" -o "$tmp/ns.pcap" --ns --seed 5 --duration 20 --rate 30 \
	--truth "$tmp/ns.csv" 2>/dev/null
[ "$(od -An -tx1 -N4 "$tmp/ns.pcap" | tr -d ' ')" = "4d3cb2a1" ]
tap $? "--ns writes the nanosecond magic"
ts -r "$tmp/ns.pcap" -Y 'dns.time' -T fields -E separator=, -e frame.time_epoch \
	-e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e dns.time |
	awk -F, "$to_ns"'{ t = ns($6); print ns($1) "," $2 $3 "," $4 $5 "," substr(t, 1, length(t) - 3) + 0 "," substr(t, length(t) - 2) }' |
	sort >"$tmp/ns-tshark"
awk -F, 'NR > 1 { print $1 "," $2 "," $3 "," $6 ",000" }' "$tmp/ns.csv" | sort >"$tmp/ns-truth"
diff_ok "$tmp/ns-tshark" "$tmp/ns-truth" && grep -q '417,' "$tmp/ns-truth"
tap $? "ns trace: sub-µs timestamps, RTTs whole µs and equal to tshark's ($(wc -l <"$tmp/ns-truth"))"

# ---- 4. 96-byte snaplen ----
"$gen" -o "$tmp/s.pcap" --snaplen 96 --seed 7 --duration 40 --rate 40 --background 1 2>/dev/null
ts -r "$tmp/s.pcap" -T fields -e frame.cap_len -e frame.len >"$tmp/snap"
ts -r "$tmp/t.pcap" -T fields -e frame.len >"$tmp/full-len"
awk '$1 > 96 || ($2 > 96 && $1 != 96) || ($2 <= 96 && $1 != $2) { bad++ }
	$2 > 96 { cut++ } END { exit !(bad == 0 && cut > 0) }' "$tmp/snap" &&
	diff_ok <(cut -f2 "$tmp/snap") "$tmp/full-len"
tap $? "--snaplen 96: caplen = min(len, 96), wire lengths unchanged ($(awk '$2 > 96' "$tmp/snap" | wc -l) cut)"

# ---- 5. distinct sources ----
"$gen" -o "$tmp/f.pcap" --distinct-sources 5000 --rate 0 --summary "$tmp/f.csv" 2>/dev/null
ts -r "$tmp/f.pcap" -T fields -e ip.src -e udp.dstport >"$tmp/flood"
[ "$(wc -l <"$tmp/flood")" -eq 5000 ] && [ "$(cut -f1 "$tmp/flood" | sort -u | wc -l)" -eq 5000 ] &&
	[ "$(awk -F, '$1 == "198.41.0.4" { print $2 }' "$tmp/f.csv")" -eq 5000 ]
tap $? "--distinct-sources 5000: 5000 queries from 5000 addresses"

# ---- 6. refusals ----
"$gen" -o "$tmp/x.pcap" --rate nonsense 2>/dev/null
[ $? -eq 2 ]
tap $? "a bad option value is refused (exit 2)"
"$gen" 2>/dev/null
[ $? -eq 2 ]
tap $? "no output file: usage (exit 2)"

echo "1..$n"
[ "$failures" -eq 0 ]
