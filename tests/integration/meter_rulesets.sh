#!/usr/bin/env bash
# meter_rulesets.sh — several rulesets at once (RFC 2722 §3): each task
# counts every packet at most once, its flows carry its ruleset number, and
# running two rulesets together gives each the same flows and counters as
# running it alone.
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init rulesets-at-once

"$NTM_BIN/gen_trace" -o "$tmp/t.pcap" --seed 31 --duration 300 --rate 20 --background 1 2>/dev/null
tap $? "generated a trace"
run() {   # out.dif rules...
	local out=$1; shift
	local args=()
	for r in "$@"; do args+=(-r "$root/rulesets/$r"); done
	"$NTM_BIN/ntm-meter" --read "$tmp/t.pcap" "${args[@]}" -o "$tmp/$out" --stats 2>"$tmp/$out.err"
}
run root.dif dns-root.srl && run all.dif dns-all.srl && run both.dif dns-root.srl dns-all.srl
tap $? "ntm-meter runs dns-root and dns-all alone and together"

# flows of the last interval: ruleset, then the ruleset-independent columns
# (server address and the four counters), by #Format column names
flows() {   # file ruleset
	awk -v set="$2" '/^#Format:/ { k = 0; for (i = 2; i <= NF; i++) if ($i !~ /^"/) c[$i] = ++k; next }
		/^#Time:/ { delete rec; next } /^#/ { next }
		{ m = 0; for (i = 1; i <= NF; i++) v[++m] = $i
		  if (v[c["flowruleset"]] == set)
			rec[v[c["destpeeraddress"]]] = v[c["topdus"]] " " v[c["frompdus"]] " " v[c["tooctets"]] " " v[c["fromoctets"]] }
		END { for (s in rec) print s, rec[s] }' "$1" | sort
}
flows "$tmp/root.dif" 2 >"$tmp/root.alone"
flows "$tmp/both.dif" 2 >"$tmp/root.both"
flows "$tmp/all.dif" 3 >"$tmp/all.alone"
flows "$tmp/both.dif" 3 >"$tmp/all.both"
[ -s "$tmp/root.alone" ] && diff -q "$tmp/root.alone" "$tmp/root.both" >/dev/null
tap $? "ruleset 2 (dns-root) has the same $(wc -l <"$tmp/root.alone") flows and counters alone and beside ruleset 3"
[ -s "$tmp/all.alone" ] && diff -q "$tmp/all.alone" "$tmp/all.both" >/dev/null
tap $? "ruleset 3 (dns-all) has the same $(wc -l <"$tmp/all.alone") flows and counters alone and beside ruleset 2"

# each task counts a packet at most once: its PME counts = its packets
m2=$(awk '/^ruleset 2 / { print $4 }' "$tmp/both.dif.err")
m3=$(awk '/^ruleset 3 / { print $4 }' "$tmp/both.dif.err")
p2=$(awk '{ s += $2 + $3 } END { print s + 0 }' "$tmp/root.both")
p3=$(awk '{ s += $2 + $3 } END { print s + 0 }' "$tmp/all.both")
[ -n "$m2" ] && [ "$m2" -eq "$p2" ] && [ "$m3" -eq "$p3" ] && [ "$m3" -gt "$m2" ]
tap $? "each packet is counted once per ruleset: ruleset 2 matched $m2 = its flows' PDUs $p2, ruleset 3 matched $m3 = $p3"
[ "$failures" -eq 0 ]
