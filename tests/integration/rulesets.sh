#!/usr/bin/env bash
# rulesets.sh -- every worked ruleset in rulesets/ must pass `srlc --check`,
# compile, and compile to exactly the table written out by hand in
# tests/data/rulesets/<name>.rules (NeMaC rules-file form).  Both tables are
# read back by srlc and shown with --dump, so the comparison is of rule
# tables, not of text layout.  dns-root's expected table is produced by
# tests/data/rulesets/gen-dns-root.sh; the committed copy must match it.
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
: "${NTM_ROOT:?NTM_ROOT must name the repository root}"

srlc="$NTM_BIN/srlc"
data="$NTM_ROOT/tests/data/rulesets"
. "$(dirname "$0")/../tap.sh"
tap_init rulesets



# show FILE: a failed step's output as TAP comments, kept short.
show() {
	sed -e 's/^/# /' "$1" | head -40
}

if [ ! -x "$srlc" ]; then
	tap 1 "srlc is built ($srlc)"
	exit 1
fi

shopt -s nullglob
srls=("$NTM_ROOT"/rulesets/*.srl)
if [ ${#srls[@]} -eq 0 ]; then
	tap 1 "rulesets/ holds .srl files"
	exit 1
fi

for srl in "${srls[@]}"; do
	name=$(basename "$srl" .srl)

	"$srlc" --check "$srl" >"$tmp/$name.check" 2>&1
	rc=$?
	[ $rc -eq 0 ] || show "$tmp/$name.check"
	tap $rc "srlc --check rulesets/$name.srl"

	"$srlc" -o "$tmp/$name.rules" "$srl" >"$tmp/$name.compile" 2>&1
	rc=$?
	[ $rc -eq 0 ] || show "$tmp/$name.compile"
	tap $rc "srlc compiles rulesets/$name.srl"

	expected="$data/$name.rules"
	if [ ! -f "$expected" ]; then
		echo "# no expected table $expected"
		tap 1 "rulesets/$name.srl has an expected table"
		continue
	fi
	if [ $rc -ne 0 ]; then
		tap 1 "rulesets/$name.srl compiles to tests/data/rulesets/$name.rules"
		continue
	fi
	"$srlc" --dump "$expected" >"$tmp/$name.want" 2>&1
	rc_want=$?
	"$srlc" --dump "$tmp/$name.rules" >"$tmp/$name.got" 2>&1
	rc_got=$?
	if [ $rc_want -ne 0 ]; then
		echo "# the expected table does not load:"
		show "$tmp/$name.want"
	fi
	if [ $rc_got -ne 0 ]; then
		echo "# the compiled table does not load:"
		show "$tmp/$name.got"
	fi
	diff -u "$tmp/$name.want" "$tmp/$name.got" >"$tmp/$name.diff"
	rc=$?
	[ $rc -eq 0 ] || show "$tmp/$name.diff"
	[ $rc_want -eq 0 ] && [ $rc_got -eq 0 ] || rc=1
	tap $rc "rulesets/$name.srl compiles to tests/data/rulesets/$name.rules"
done

# The committed dns-root table is what its generator writes.
if [ -f "$data/gen-dns-root.sh" ]; then
	bash "$data/gen-dns-root.sh" >"$tmp/gen-dns-root.rules" 2>"$tmp/gen.err"
	rc=$?
	[ $rc -eq 0 ] || show "$tmp/gen.err"
	diff -u "$data/dns-root.rules" "$tmp/gen-dns-root.rules" >"$tmp/gen.diff" || rc=1
	[ $rc -eq 0 ] || show "$tmp/gen.diff"
	tap $rc "gen-dns-root.sh reproduces tests/data/rulesets/dns-root.rules"
fi

# --check is a real check: a ruleset with one misspelt attribute is refused
# with exit 1 and a FILE:LINE:COL diagnostic on that line.
bad="$tmp/bad-dns-root.srl"
sed -e 's/DestTransAddress == dns/DestTransAdress == dns/' \
	"$NTM_ROOT/rulesets/dns-root.srl" >"$bad"
line=$(grep -n 'DestTransAdress == dns' "$bad" | head -1 | cut -d: -f1)
"$srlc" --check "$bad" >"$tmp/bad.out" 2>&1
rc=$?
if [ -n "$line" ] && [ $rc -eq 1 ] &&
	grep -q "^$bad:$line:[0-9][0-9]*: error: " "$tmp/bad.out"; then
	tap 0 "srlc --check refuses a misspelt attribute at its line"
else
	echo "# exit $rc, expected 1 and '$bad:$line:COL: error: ...'"
	show "$tmp/bad.out"
	tap 1 "srlc --check refuses a misspelt attribute at its line"
fi

# ---- end to end: the DNS rulesets in the meter on a generated campus trace
# gen_trace writes a trace of clients asking the 26 root/gTLD servers (IPv4
# and IPv6, UDP and TCP, VLAN tags, retransmissions, duplicates, losses,
# unsolicited responses) and two local resolvers, with a per-server summary
# and the true RTT of every answered query.  One long interval, so the last
# data set of the .dif holds every count and (<= 120 per flow) every RTT.
gen="$NTM_BIN/gen_trace"
meter="$NTM_BIN/ntm-meter"
if [ ! -x "$gen" ] || [ ! -x "$meter" ]; then
	tap 1 "gen_trace and ntm-meter are built"
	exit 1
fi
"$gen" -o "$tmp/t.pcap" --seed 11 --duration 40 --rate 40 --background 1 \
	--truth "$tmp/truth.csv" >/dev/null 2>"$tmp/gen.err"
rc=$?
[ $rc -eq 0 ] || show "$tmp/gen.err"
tap $rc "gen_trace writes a campus trace with its truth"
summary="$tmp/truth.csv.servers.csv"

# address -> "class kind", from dns-root.srl's own define lines
# (define a_root4 = 198.41.0.4;  ->  198.41.0.4 0 1)
grep -oE 'define [a-m]_(root|gtld)[46] = [0-9a-fA-F.:]+;' "$NTM_ROOT/rulesets/dns-root.srl" |
	awk '{ split($2, n, "_"); cls = (substr(n[2], 1, 4) == "root") ? 0 : 1
	       kind = index("abcdefghijklm", n[1]); a = $4; sub(/;$/, "", a)
	       print a, cls, kind }' | sort >"$tmp/servers"

# last data set of a .dif: the flow lines after the last #Time record
last_set() {
	awk '/^#Time/ { n = 0; delete l; next } /^#/ { next } { l[++n] = $0 }
	     END { for (i = 1; i <= n; i++) print l[i] }' "$1"
}
# every RTT of a "5:n:v,v,..." distribution, one per line, sorted
rtts() { tr ',' '\n' | sort -n; }

run_meter() {   # $1 = ruleset name; writes $tmp/$1.flows
	"$meter" -q --read "$tmp/t.pcap" -r "$NTM_ROOT/rulesets/$1.srl" \
		-o "$tmp/$1.dif" --interval 3600 >"$tmp/$1.meter" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || show "$tmp/$1.meter"
	last_set "$tmp/$1.dif" >"$tmp/$1.flows"
	return $rc
}

# truth per server: address pkts_to pkts_from requests responses answered
# lost retransmissions unmatched duplicates (the .dif's FORMAT order)
awk -F, 'NR > 1 { print $1, $9, $12, $2, $3, $4, $5, $6, $8, $7 }' "$summary" |
	sort >"$tmp/truth-counts"

# check_counts NAME ADDRCOL: per-server counts of the .dif equal the truth
# for the servers the ruleset keeps (the flows' addresses)
check_counts() {
	local name=$1 c=$2
	awk -v c="$c" '{ print $c, $(c+1), $(c+2), $(c+5), $(c+6), $(c+7), $(c+8),
	                 $(c+9), $(c+10), $(c+11) }' "$tmp/$name.flows" | sort >"$tmp/$name.counts"
	awk 'NR == FNR { want[$1] = $0; next } { print want[$1] }' \
		"$tmp/truth-counts" "$tmp/$name.counts" >"$tmp/$name.want"
	diff -u "$tmp/$name.want" "$tmp/$name.counts" >"$tmp/$name.cdiff"
	local rc=$?
	[ $rc -eq 0 ] || show "$tmp/$name.cdiff"
	return $rc
}

# check_rtts NAME ADDRCOL: each flow's exact RTT list equals the true RTTs
# (from the latest request) of the answered queries to its server
check_rtts() {
	local name=$1 c=$2 addr dist bad=0
	while read -r addr dist; do
		echo "$dist" | cut -d: -f3 | rtts >"$tmp/got.rtt"
		awk -F, -v s="$addr" 'NR > 1 && $2 == s { print $5 }' "$tmp/truth.csv" |
			sort -n >"$tmp/want.rtt"
		if [ "${dist%%:*}" != 5 ] || ! cmp -s "$tmp/got.rtt" "$tmp/want.rtt"; then
			echo "# $addr: RTTs differ (distribution ${dist%%:*}:$(echo "$dist" | cut -d: -f2))"
			bad=1
		fi
	done < <(awk -v c="$c" '{ print $c, $NF }' "$tmp/$name.flows")
	return $bad
}

run_meter dns-root
tap $? "ntm-meter runs dns-root.srl on the trace"
# one flow per root/gTLD address of the trace, none for the local resolvers
awk '{ print $7 }' "$tmp/dns-root.flows" | sort >"$tmp/root-addrs"
awk -F, 'NR > 1 { print $1 }' "$summary" | sort | join - "$tmp/servers" |
	awk '{ print $1 }' >"$tmp/root-want"
[ "$(wc -l <"$tmp/root-want")" -eq 52 ] && cmp -s "$tmp/root-addrs" "$tmp/root-want"
tap $? "dns-root: one flow for each of the 52 root/gTLD addresses, no other ($(wc -l <"$tmp/root-addrs") flows)"
awk '{ print $7, $4, $5 }' "$tmp/dns-root.flows" | sort >"$tmp/root-ck"
diff -u "$tmp/servers" "$tmp/root-ck" >"$tmp/ck.diff"
rc=$?
[ $rc -eq 0 ] || show "$tmp/ck.diff"
tap $rc "dns-root: FlowClass 0/1 and FlowKind = server letter on every flow"
awk '$6 != ($7 ~ /:/ ? 2 : 1) { bad = 1 } END { exit bad }' "$tmp/dns-root.flows"
tap $? "dns-root: DestPeerType 1 for IPv4 servers, 2 for IPv6"
check_counts dns-root 7
tap $? "dns-root: packets To/From and the DNS counters of each flow equal the truth"
check_rtts dns-root 7
tap $? "dns-root: every RTT of each flow equals the truth to the µs"

run_meter dns-all
tap $? "ntm-meter runs dns-all.srl on the trace"
awk '{ print $6 }' "$tmp/dns-all.flows" | sort >"$tmp/all-addrs"
awk -F, 'NR > 1 { print $1 }' "$summary" | sort >"$tmp/all-want"
cmp -s "$tmp/all-addrs" "$tmp/all-want"
tap $? "dns-all: one flow for each server of the trace, the local resolvers too ($(wc -l <"$tmp/all-addrs") flows)"
awk '{ local = ($6 ~ /^10\./ || $6 ~ /^f[cd]/); if ($4 != (local ? 1 : 2)) bad = 1 }
     END { exit bad }' "$tmp/dns-all.flows"
tap $? "dns-all: FlowClass 1 for the site's resolvers, 2 for the others"
check_counts dns-all 6
tap $? "dns-all: packets To/From and the DNS counters of each flow equal the truth"
check_rtts dns-all 6
tap $? "dns-all: every RTT of each flow equals the truth to the µs"

[ $failures -eq 0 ]
