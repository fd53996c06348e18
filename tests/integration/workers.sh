#!/usr/bin/env bash
# workers.sh — `ntm-meter --workers N` (issue 5): N worker threads, each
# metering its own shard, merged into one view by the control thread, must
# give exactly what one engine gives.
#
#  1. Offline (--read), every test trace the other integration tests use
#     (gen_trace's mix: 802.1Q/QinQ, IPv6, DNS over TCP, retransmissions,
#     duplicate and unmatched responses, unanswered queries, background;
#     ns timestamps with a 96-byte snaplen; a 16-minute trace with > 120
#     samples per interval (type 6); 5000 distinct sources; the bundled
#     samples/campus-dns.pcap; every real capture in tests/data/captures,
#     IPv4 and IPv6 fragments among them, merged into one pcapng; two
#     traces in turn; pcapng; ERF) × every ruleset (rulesets/*.srl,
#     static-dists.srl, by-source.srl, two rulesets at once; two of them
#     for the last three traces): --workers 2 and 3 write the .dif of
#     --workers 1 byte for byte apart from the one `##` header line (it
#     quotes the command line, which names --workers and the output
#     files), the same --samples CSV once sorted (two workers may take
#     samples of the same nanosecond in either order), and the same
#     --stats lines but peak_pending (see stats_view); TAP lines per
#     ruleset, naming the traces and worker counts that differ and the
#     #Format columns in which they do.  Also: no --workers and
#     --workers 16 equal --workers 1; the bounds of bounded.sh (flood mode,
#     standby ruleset on a full table) with 2 and 3 workers: marks are
#     judged per shard on an estimate of the view's fill, so the flows
#     kept differ from one engine's by at most its own overshoot, and no
#     counted packet is refused by the view (see there).
#  2. AF_PACKET and libpcap: in a network namespace, tcpreplay sends a
#     generated trace (1000 packets/s) into a veth pair; `--driver afpacket
#     --workers 2 --interval 1` (two fanout sockets, one per worker) and
#     `--driver pcap` (one source spread by address pair) meter every
#     packet, report 0 drops, and per flow
#     (ruleset, class, kind, server) the final packets and octets per
#     direction, DNS requests, responses and answered requests, and the
#     number of RTT samples equal offline mode on the same file.  RTT
#     values, FirstTime and the DNS counters that depend on timeouts are
#     not compared: the replay re-times the packets.
#  3. DPDK: a net_pcap virtual device hands on a trace with the file's
#     timestamps (stamped from now on, see there); with --workers 1 and 2
#     and --interval 5 each flow's final counters (as in 2, plus lost,
#     retransmitted, unmatched and duplicate DNS messages) and every RTT
#     sample (time, flow, µs) equal offline mode.
#  4. --replay --speed max --workers 2 -o/--samples equals --read: the flow
#     records of every interval and every RTT sample.
#  5. SNMP: a meter replaying at 60x with --workers 2 runs two threads named
#     ntm-worker*, and serves, once the trace is over, flow packages
#     (counters, FirstTime, DNS counters, RTT distributions of type 5 and
#     6) that decode to the offline records.
#  6. --workers 0, 17, x, -1, '': exit 1 with a message naming --workers.
# Without root (netns) or without DPDK in the build, those parts are
# reported as skipped.  About 1 minute on 2 cores.
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
meter="$NTM_BIN/ntm-meter"
gen="$NTM_BIN/gen_trace"
. "$(dirname "$0")/../tap.sh"
tap_init workers

ns="ntm-wrk-$$"
ns_made=
mpid=
dpdk_prefix="ntm_wrk_$$"
cleanup() {
	local d
	if [ -n "$mpid" ]; then
		kill "$mpid" 2>/dev/null
		wait "$mpid" 2>/dev/null
	fi
	[ -n "$ns_made" ] && ip netns del "$ns" 2>/dev/null
	for d in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk" /tmp/dpdk; do
		[ -d "$d" ] && rm -rf "$d"/"$dpdk_prefix"_*
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
diff_ok() {
	if diff "$1" "$2" >"$tmp/diff.out"; then return 0; fi
	sed -n '1,6s/^/# /p' "$tmp/diff.out"
	return 1
}

# ---- what is compared ----------------------------------------------------
# stats_view FILE: the --stats lines, totals over the workers, without
# peak_pending (a sharded view reports the sum of its shards' peaks, which
# need not coincide in time, so it is at least one engine's peak)
stats_view() {
	grep -E '^(packets|decode|counted|flows|dists|ruleset|dns|interface) ' "$1" |
		sed 's/ peak_pending [0-9]*//'
}

# flows FILE.dif COLUMNS...: per flow key (ruleset class kind type address)
# the named columns of its latest record (counters are cumulative), by
# #Format column names; flows without destpeeraddress (by-source.srl) are
# keyed by sourcepeeraddress.
flows() {
	local f=$1
	shift
	awk -v cols="$*" '
		BEGIN { nc = split(cols, want, " ") }
		/^#Format:/ { delete c; k = 0; for (i = 2; i <= NF; i++) if ($i !~ /^"/) c[$i] = ++k; next }
		/^#/ || NF == 0 { next }
		{ m = 0; for (i = 1; i <= NF; i++) v[++m] = $i
		  a = ("destpeeraddress" in c) ? v[c["destpeeraddress"]] : v[c["sourcepeeraddress"]]
		  key = v[c["flowruleset"]] " " v[c["flowclass"]] " " v[c["flowkind"]] " " v[c["destpeertype"]] " " a
		  r = ""
		  for (i = 1; i <= nc; i++) r = r " " ((want[i] in c) ? v[c[want[i]]] : "-")
		  rec[key] = r }
		END { for (k in rec) print k rec[k] }' "$f" | LC_ALL=C sort
}
# the columns of a flow that do not depend on packet timing
COUNTS="topdus frompdus tooctets fromoctets dnsrequests dnsresponses dnsanswered"
# sample_counts FILE.csv: RTT samples per flow identifier
sample_counts() { tail -n +2 "$1" | cut -d, -f2 | LC_ALL=C sort | uniq -c | awk '{ print $2, $1 }'; }

# ---- 1. offline: every test trace × every ruleset ----------------------------
gen_ok=0
"$gen" -o "$tmp/mix.pcap" --seed 5 --duration 30 --rate 40 --background 2 2>/dev/null || gen_ok=1
"$gen" -o "$tmp/later.pcap" --seed 6 --start 1700000100 --duration 20 --rate 30 \
	--background 1 2>/dev/null || gen_ok=1
"$gen" -o "$tmp/ns96.pcap" --ns --snaplen 96 --seed 12 --duration 30 --rate 40 \
	--background 1 2>/dev/null || gen_ok=1
"$gen" -o "$tmp/long.pcap" --seed 21 --start 1700000100 --duration 960 --rate 16 \
	--servers 26 2>/dev/null || gen_ok=1
"$gen" -o "$tmp/sources.pcap" --distinct-sources 5000 --rate 0 2>/dev/null || gen_ok=1
editcap -F pcapng "$tmp/mix.pcap" "$tmp/mix.pcapng" >/dev/null 2>&1 || gen_ok=1
# ERF: editcap -F erf where Wireshark can write it (4.0 refuses Ethernet
# records), else the project's writer with extension headers, padding
# records and loss counters
erf_by="editcap -F erf"
if ! editcap -F erf "$tmp/mix.pcap" "$tmp/mix.erf" >/dev/null 2>&1; then
	erf_by="pcap2erf"
	"$NTM_BIN/pcap2erf" -x -p 37 -l 50 "$tmp/mix.pcap" "$tmp/mix.erf" || gen_ok=1
fi
tap $gen_ok "test traces: gen_trace mix, ns + 96-byte snaplen, 16 minutes, 5000 sources, pcapng, ERF ($erf_by)"

# the real captures written by others (tests/data/captures: dnscap,
# compactor, nDPI, pktvisor, tcpdump, zeek) merged in time order into one
# pcapng with several interfaces and link types (Ethernet, raw IPv4, Linux
# cooked v2): one run instead of thirteen, and their years-long gaps make
# the meter recover idle flows between them
mergecap -w "$tmp/captures.pcapng" "$root"/tests/data/captures/*/*.pcap \
	"$root"/tests/data/captures/*/*.pcapng 2>/dev/null
tap $? "real captures merged into one pcapng ($(ls "$root"/tests/data/captures/*/*.pcap* | wc -l) files)"

# name|interval|rulesets|trace...: rulesets "all" or "few" (the
# containers and the two-trace run change only how packets are read, not
# what the shards do with them: two rulesets there)
traces=(
	"mix|10|all|$tmp/mix.pcap"
	"ns96|10|all|$tmp/ns96.pcap"
	"long|300|all|$tmp/long.pcap"
	"sources|300|all|$tmp/sources.pcap"
	"campus|300|all|$root/samples/campus-dns.pcap"
	"captures|300|all|$tmp/captures.pcapng"
	"two-traces|60|few|$tmp/mix.pcap $tmp/later.pcap"
	"pcapng|10|few|$tmp/mix.pcapng"
	"erf|10|few|$tmp/mix.erf"
)
# rules arguments of each run: every ruleset, then two at once
rulesets=()
for r in "$root"/rulesets/*.srl "$root/tests/data/rulesets/static-dists.srl" \
	"$root/tests/data/rulesets/by-source.srl"; do
	rulesets+=("-r $r")
done
rulesets+=("-r $root/rulesets/dns-root.srl -r $root/rulesets/dns-all.srl")
few=("-r $root/tests/data/rulesets/static-dists.srl"
	"-r $root/rulesets/dns-root.srl -r $root/rulesets/dns-all.srl")
# Under AddressSanitizer (make asan) a run costs ~5 times as much: every
# trace gets the two rulesets only; the sanitizers look for memory errors,
# which the full matrix of the normal build does not need again.
if ldd "$meter" 2>/dev/null | grep -q libasan; then
	rulesets=("${few[@]}")
fi
rname() { echo "$1" | sed 's|-r [^ ]*/||g; s/ /+/g'; }

# Tables smaller than the defaults (same on every side) keep the ~200 runs
# cheap; 16384 flows hold the 5000 sources.
SIZES="--max-flows 16384 --max-pending 16384 --max-dists 2048"
# offline_runs DIR TAG INTERVAL TRACES RULES: --read with 1, 2, 3 workers,
# then DIR/TAG.sum: "rc1 rc2 rc3 dif2 dif3 csv2 csv3 stats2 stats3 records
# samples" (rcN exit status; difN, csvN, statsN 0 when equal to --workers 1)
offline_runs() {
	local dir=$1 tag=$2 iv=$3 tr=$4 rs=$5 w f rc=() same=()
	for w in 1 2 3; do
		f="$dir/$tag.w$w"
		# shellcheck disable=SC2086
		"$meter" --read $tr $rs -o "$f.dif" --samples "$f.csv" \
			--interval "$iv" $SIZES --stats -q --workers "$w" 2>"$f.err"
		rc+=($?)
		# the .dif without its `##` line (program, version, the command
		# line naming --workers and the output files, meter, start time);
		# #Format, #Time and #Enddata lines stay
		grep -v '^##' "$f.dif" >"$f.body" 2>/dev/null
		# the samples sorted: two workers may take samples of the same
		# nanosecond in either order
		LC_ALL=C sort "$f.csv" >"$f.sorted" 2>/dev/null
		stats_view "$f.err" >"$f.stats"
	done
	for f in body sorted stats; do
		for w in 2 3; do
			# an empty reference equals nothing (a run that wrote nothing)
			[ -s "$dir/$tag.w1.$f" ] && cmp -s "$dir/$tag.w1.$f" "$dir/$tag.w$w.$f"
			same+=($?)
		done
	done
	echo "${rc[*]} ${same[*]} $(grep -vc '^#' "$dir/$tag.w1.body") \
		$(($(wc -l <"$dir/$tag.w1.sorted") - 1))" >"$dir/$tag.sum"
}
# two at a time (2 cores; each run is short)
for t in "${traces[@]}"; do
	IFS='|' read -r name iv which tr <<<"$t"
	mkdir -p "$tmp/off-$name"
	k=0
	if [ "$which" = all ]; then sets=("${rulesets[@]}"); else sets=("${few[@]}"); fi
	for rs in "${sets[@]}"; do
		k=$((k + 1))
		while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
		offline_runs "$tmp/off-$name" "r$k" "$iv" "$tr" "$rs" &
	done
done
wait

# differing_columns A B: the #Format names of the columns in which the
# records of two .dif files (same #Format, same record count) differ, and
# how many records differ in each
differing_columns() {
	paste -d '\n' <(grep -v '^#' "$1") <(grep -v '^#' "$2") | awk -v fmt="$(grep -m1 '^#Format:' "$1")" '
		BEGIN { n = split(fmt, f, " "); k = 0
			for (i = 2; i <= n; i++) if (f[i] !~ /^"/) name[++k] = f[i] }
		NR % 2 { split($0, a, " "); next }
		{ split($0, b, " "); for (i = 1; i <= k; i++) if (a[i] != b[i]) d[name[i]]++ }
		END { for (c in d) printf "%s(%d) ", c, d[c] }'
}
# which_w CMP2 CMP3: the worker counts whose output differed
which_w() {
	local out=()
	[ "$1" = 0 ] || out+=(w2)
	[ "$2" = 0 ] || out+=(w3)
	echo "${out[*]}"
}
# One group of TAP lines per ruleset (across the traces), so that each
# defect shows once: the runs, the .dif, the samples, the stats.
declare -A r_run r_dif r_csv r_st r_recs r_smp r_cols r_n
order=()
for t in "${traces[@]}"; do
	IFS='|' read -r name iv which tr <<<"$t"
	dir="$tmp/off-$name"
	k=0
	if [ "$which" = all ]; then sets=("${rulesets[@]}"); else sets=("${few[@]}"); fi
	for rs in "${sets[@]}"; do
		k=$((k + 1))
		tag="r$k" rn=$(rname "$rs")
		[ -n "${r_n[$rn]:-}" ] || order+=("$rn")
		r_n[$rn]=$(( ${r_n[$rn]:-0} + 1 ))
		read -r rc1 rc2 rc3 d2 d3 c2 c3 s2 s3 nr ns_ <"$dir/$tag.sum" || rc1=x
		[ "$rc1 $rc2 $rc3" = "0 0 0" ] || r_run[$rn]+=" $name(exit $rc1 $rc2 $rc3)"
		[ "$d2 $d3" = "0 0" ] || r_dif[$rn]+=" $name($(which_w "$d2" "$d3"))"
		[ "$c2 $c3" = "0 0" ] || r_csv[$rn]+=" $name($(which_w "$c2" "$c3"))"
		[ "$s2 $s3" = "0 0" ] || r_st[$rn]+=" $name($(which_w "$s2" "$s3"))"
		r_recs[$rn]=$(( ${r_recs[$rn]:-0} + ${nr:-0} ))
		r_smp[$rn]=$(( ${r_smp[$rn]:-0} + ${ns_:-0} ))
		# what differs, for the first trace where it does: the .dif
		# columns (by #Format name) and the first lines of the stats
		if [ "$d2 $s2" != "0 0" ] && [ -z "${r_cols[$rn]:-}" ]; then
			r_cols[$rn]="$name: $(differing_columns "$dir/$tag.w1.body" "$dir/$tag.w2.body")"
			diff "$dir/$tag.w1.stats" "$dir/$tag.w2.stats" | grep '^[<>]' | head -4 |
				cut -c1-200 | sed "s/^/# $rn, $name, stats: /"
		fi
	done
done
for rn in "${order[@]}"; do
	on="${r_n[$rn]} traces"
	# (two-groups.srl keys networks none of the traces holds: no flows,
	# only its ignored and nomatch counts, compared in the stats)
	[ -z "${r_run[$rn]:-}" ]
	tap $? "$rn, $on: --read with --workers 1, 2 and 3 exits 0 (${r_recs[$rn]} flow records)${r_run[$rn]:+; failed:${r_run[$rn]}}"
	[ -z "${r_dif[$rn]:-}" ]
	tap $? "$rn, $on: --workers 2 and 3 write the .dif of --workers 1 byte for byte (## line aside)${r_dif[$rn]:+; differ:${r_dif[$rn]}; columns (w2) on ${r_cols[$rn]:-}}"
	[ -z "${r_csv[$rn]:-}" ]
	tap $? "$rn, $on: the same ${r_smp[$rn]} RTT samples (--samples, sorted)${r_csv[$rn]:+; differ:${r_csv[$rn]}}"
	[ -z "${r_st[$rn]:-}" ]
	tap $? "$rn, $on: the same --stats totals${r_st[$rn]:+; differ:${r_st[$rn]}}"
done

# what the traces are there for really happens (so that "equal" above
# covers it): binned (type 6) and exact (type 5) distributions in the
# 16-minute trace, later IPv4/IPv6 fragments in the real captures,
# 5000 flows of by-source.srl from the 5000 sources (not under ASan)
tag_of() {   # tag_of PATTERN: the run tag of the first ruleset argument matching
	local k=0 rs
	for rs in "${rulesets[@]}"; do
		k=$((k + 1))
		# shellcheck disable=SC2053
		[[ "$rs" == $1 ]] && { echo "r$k"; return; }
	done
	echo none
}
dns=$(tag_of '*dns-all.srl')
t5=$(grep -c ' 5:[0-9]' "$tmp/off-long/$dns.w1.body")
t6=$(grep -c ' 6:[0-9]' "$tmp/off-long/$dns.w1.body")
frag=$(sed -n 's/.* later_fragments \([0-9]*\).*/\1/p' "$tmp/off-captures/$dns.w1.err")
bysrc=$(tag_of '*/by-source.srl')
srcs=5000
[ "$bysrc" = none ] || srcs=$(grep -c . <(flows "$tmp/off-sources/$bysrc.w1.body" topdus))
[ "$t5" -gt 0 ] && [ "$t6" -gt 0 ] && [ "${frag:-0}" -gt 0 ] && [ "$srcs" -eq 5000 ]
tap $? "the traces hold what they test: $t5 type-5 and $t6 type-6 records (16 minutes), ${frag:-0} later fragments (captures), $srcs flows of by-source.srl (sources)"

# the edges of the range on one trace: no --workers at all (the default,
# one engine) and --workers 16 (more shards than cores) write what
# --workers 1 wrote for the two rulesets at once
pair=$(tag_of '*dns-root.srl -r *')
edge_ok=0
for w in default 16; do
	wargs=(--workers "$w")
	[ "$w" = default ] && wargs=()
	# shellcheck disable=SC2086
	"$meter" --read "$tmp/mix.pcap" ${rulesets[$(( ${pair#r} - 1 ))]} -o "$tmp/edge-$w.dif" \
		--samples "$tmp/edge-$w.csv" --interval 10 $SIZES -q "${wargs[@]}" 2>"$tmp/edge-$w.err" || edge_ok=1
	cmp -s "$tmp/off-mix/$pair.w1.body" <(grep -v '^##' "$tmp/edge-$w.dif") &&
		cmp -s "$tmp/off-mix/$pair.w1.sorted" <(LC_ALL=C sort "$tmp/edge-$w.csv") || edge_ok=1
done
tap $edge_ok "mix, dns-root.srl+dns-all.srl: without --workers and with --workers 16 the .dif and samples of --workers 1"
[ "$edge_ok" -eq 0 ] || sed -n '1,3s/^/# /p' "$tmp"/edge-*.err

# the bounds of issue 3 (bounded.sh) on the 5000 sources with
# by-source.srl: a table of 1000 flows, once in flood mode (FloodMark
# 95 %: one engine refuses new flows from 950 on) and once switching to
# the standby ruleset at HighWaterMark 50 %.  Shards judge the marks by an
# estimate of the view's fill (engine.h, struct engine_pressure), checked
# n times as often, so the flows kept are not those of one engine but
# within one engine's own overshoot (64 packets between checks) of its
# count; what must hold exactly: no packet a shard counted is refused by
# the view (table_full 0), every packet is counted or refused, the table
# stays within --max-flows, and each mode is entered
bound_bad=""
field() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$2" | head -1; }
for mode in flood standby; do
	extra=()
	[ "$mode" = standby ] && extra=(--standby "$root/tests/data/rulesets/by-source-8.srl" --high-water 50)
	for w in 1 2 3; do
		"$meter" --read "$tmp/sources.pcap" -r "$root/tests/data/rulesets/by-source.srl" \
			--max-flows 1000 "${extra[@]}" -o "$tmp/$mode.w$w.dif" --stats -q --workers "$w" \
			2>"$tmp/$mode.w$w.err" || bound_bad="$bound_bad $mode/w$w(exit $?)"
	done
	want=$(field created "$tmp/$mode.w1.err")
	for w in 2 3; do
		e=$tmp/$mode.w$w.err
		created=$(field created "$e"); active=$(field active "$e")
		full=$(field table_full "$e"); refused=$(field flood_refused "$e")
		entries=$(field flood_entries "$e"); switches=$(field standby_switches "$e")
		diffc=$(( ${created:-0} - ${want:-0} ))
		ok=1
		[ "${full:-1}" -eq 0 ] && [ "${active:-0}" -le 1000 ] &&
			[ "${diffc#-}" -le 64 ] || ok=0
		if [ "$mode" = flood ]; then
			[ $(( ${created:-0} + ${refused:-0} )) -eq 5000 ] && [ "${entries:-0}" -ge 1 ] || ok=0
		else
			[ "${switches:-0}" -ge 1 ] || ok=0
		fi
		[ "$ok" -eq 1 ] || bound_bad="$bound_bad $mode/w$w(created $created of one engine's $want, table_full $full, refused $refused, entries $entries, switches $switches)"
	done
done
[ -z "$bound_bad" ] && grep -q 'flood_entries [1-9]' "$tmp/flood.w1.err" &&
	grep -q 'standby_switches [1-9]' "$tmp/standby.w1.err"
tap $? "--max-flows 1000 on 5000 sources, flood mode and standby ruleset with 2 and 3 workers: no flow a shard counted is refused by the view, every packet counted or refused, flows within 64 of one engine's, each mode entered${bound_bad:+; differ:$bound_bad}"

# ---- common to the live runs ---------------------------------------------
RULES="$root/rulesets/dns-all.srl"
NTM_UPTIME=1.3.6.1.4.1.8072.9999.9999.40.1.3.0   # ntmMeterUptime (cs)
# agent_up PORT [NETNS]: the meter's agent answers
agent_up() {
	local i cmd=()
	[ -n "${2:-}" ] && cmd=(ip netns exec "$2")
	for i in $(seq 50); do
		kill -0 "$mpid" 2>/dev/null || return 1
		"${cmd[@]}" snmpget -v2c -c public -On -t 0.2 -r 0 "127.0.0.1:$1" "$NTM_UPTIME" \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# finish_meter: wait for the meter started in the background; rc in $mrc
finish_meter() {
	wait "$mpid"
	mrc=$?
	mpid=
}
# captured ERR: "captured dropped" summed over the interface lines
captured() { awk '/^interface / { c += $5; d += $7 } END { print c + 0, d + 0 }' "$1"; }
same_flows() {   # same_flows WANT.dif GOT.dif COLUMNS...
	local want=$1 got=$2
	shift 2
	flows "$want" "$@" >"$tmp/flows.want"
	flows "$got" "$@" >"$tmp/flows.got"
	[ -s "$tmp/flows.want" ] && cmp -s "$tmp/flows.want" "$tmp/flows.got" && return 0
	echo "# flows that differ: $(diff "$tmp/flows.want" "$tmp/flows.got" | grep -c '^>') (first 3; key, then $*)"
	diff --unchanged-line-format= --old-line-format='#   want %L' --new-line-format='#   got  %L' \
		"$tmp/flows.want" "$tmp/flows.got" | awk '/want/ && w++ < 3 || /got/ && g++ < 3'
	return 1
}
same_sample_counts() {   # same_sample_counts WANT.csv GOT.csv
	sample_counts "$1" >"$tmp/sc.want"
	sample_counts "$2" >"$tmp/sc.got"
	[ -s "$tmp/sc.want" ] && diff_ok "$tmp/sc.want" "$tmp/sc.got"
}

# ---- 2. AF_PACKET and libpcap, two workers: tcpreplay into a veth pair -------
cap_if=ntmwcap0            # the meter listens here (in the namespace)
send_if=ntmwsend0          # tcpreplay sends here
afp_skip=
if [ "$(id -u)" -ne 0 ]; then
	afp_skip="needs root for a network namespace and packet sockets"
elif ! command -v ip >/dev/null || ! command -v tcpreplay >/dev/null; then
	afp_skip="iproute2 or tcpreplay not installed"
elif ! ip netns add "$ns" 2>"$tmp/ns.err"; then
	afp_skip="kernel refuses a network namespace: $(head -1 "$tmp/ns.err")"
else
	ns_made=1
	# no IPv6 on the pair: its neighbour discovery would add packets
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	if ! ip -n "$ns" link add "$cap_if" type veth peer name "$send_if" 2>"$tmp/veth.err"; then
		afp_skip="kernel refuses a veth pair: $(head -1 "$tmp/veth.err")"
	elif ! ip -n "$ns" link set lo up || ! ip -n "$ns" link set "$cap_if" up ||
		! ip -n "$ns" link set "$send_if" up; then
		afp_skip="cannot bring the veth pair up"
	fi
fi
# veth_run DRIVER NAME: ntm-meter -i cap_if --driver DRIVER --workers 2 in
# the namespace while tcpreplay sends afp.pcap into send_if; checks as
# described at the top.
#   Live capture retires a ring block per millisecond (immediate delivery),
# so at this rate a block holds about one packet and the AF_PACKET ring's
# slack is its number of blocks: --snaplen 2048 (every frame here is
# shorter) allows 64 KB blocks, 1024 of them in --buffer 64m per socket,
# about 1 s of packets, so a loaded test machine may hold the reading
# thread off for a while without a drop (the default 4 MB with a 256 KB
# snaplen is 8 blocks).  --interval 1 makes the meter cut intervals (and
# sync the view) while packets arrive.  The agent listens on the
# namespace's own loopback, where any port is free.
veth_run() {
	local drv=$1 name=$2 got drops metered
	ip netns exec "$ns" timeout 120 "$meter" -r "$RULES" -i "$cap_if" --driver "$drv" \
		--snaplen 2048 --buffer 64m --workers 2 --interval 1 --idle-exit 3 --stats -q \
		-o "$tmp/$drv.dif" --samples "$tmp/$drv.csv" \
		--snmp 127.0.0.1:16161 >/dev/null 2>"$tmp/$drv.err" &
	mpid=$!
	if agent_up 16161 "$ns"; then
		ip netns exec "$ns" tcpreplay -q -i "$send_if" --pps 1000 "$tmp/afp.pcap" \
			>"$tmp/$drv.replay" 2>&1
	fi
	finish_meter
	read -r got drops < <(captured "$tmp/$drv.err")
	metered=$(sed -n 's/^packets \([0-9]*\) .*/\1/p' "$tmp/$drv.err")
	[ "$mrc" -eq 0 ] && [ "$total" -gt 1000 ] && [ "$got" -eq "$total" ] &&
		[ "$drops" -eq 0 ] && [ "${metered:-0}" -eq "$total" ]
	tap $? "$name --workers 2: exit $mrc, every one of the $total packets captured ($got) and metered (${metered:-?}), $drops dropped"
	[ "$mrc" -eq 0 ] || sed -n '1,5s/^/# /p' "$tmp/$drv.err" "$tmp/$drv.replay"
	same_flows "$tmp/afp-off.dif" "$tmp/$drv.dif" $COUNTS
	tap $? "$name --workers 2, 1 s intervals: each flow's final packets and octets per direction, DNS requests, responses and answered equal --read's ($(wc -l <"$tmp/flows.want") flows)"
	same_sample_counts "$tmp/afp-off.csv" "$tmp/$drv.csv"
	tap $? "$name --workers 2: per flow, as many RTT samples as --read ($(($(wc -l <"$tmp/afp-off.csv") - 1)) in all; values are replay-timed)"
}
if [ -n "$afp_skip" ]; then
	skip "AF_PACKET and libpcap on a veth pair: $afp_skip"
else
	"$gen" -o "$tmp/afp.pcap" --seed 5 --duration 6 --rate 100 --background 2 2>/dev/null
	total=$(tcpdump -r "$tmp/afp.pcap" -nn 2>/dev/null | wc -l)
	"$meter" --read "$tmp/afp.pcap" -r "$RULES" -o "$tmp/afp-off.dif" \
		--samples "$tmp/afp-off.csv" --stats -q 2>"$tmp/afp-off.err"
	# two sockets in one fanout group, worker i reading socket i
	veth_run afpacket AF_PACKET
	# one libpcap source, packets spread over the workers by address pair
	veth_run pcap "libpcap"
fi

# ---- 3. DPDK: net_pcap replays a trace with its own timestamps ----------------
dpdk_runs=0
eal() {   # EAL arguments of one run (a fresh file prefix each time)
	dpdk_runs=$((dpdk_runs + 1))
	echo "--no-huge -m 128 --no-pci --no-shconf --no-telemetry --file-prefix=${dpdk_prefix}_$dpdk_runs $*"
}
"$NTM_BIN/capdump_dpdk" -e "$(eal)" net_null0 >/dev/null 2>"$tmp/probe.err"
if grep -q 'DPDK support is not in this build' "$tmp/probe.err"; then
	skip "DPDK support is not in this build (libdpdk-dev missing at build time)"
else
	# net_pcap hands on the file's timestamps while the live meter's clock
	# (DNS timeouts, interval ends, which flows an interval writes) is the
	# wall clock: a trace stamped from now on keeps the two together (a
	# trace from 2023 has every pending request timed out at the first
	# tick, with one worker as with two)
	"$gen" -o "$tmp/dp.pcap" --seed 8 --duration 20 --rate 60 --background 2 \
		--start "$(date +%s)" 2>/dev/null
	total=$(tcpdump -r "$tmp/dp.pcap" -nn 2>/dev/null | wc -l)
	# --interval 5: the live run cuts four intervals while packets arrive
	# (the view is synced at each); the final counters must still be all
	"$meter" --read "$tmp/dp.pcap" -r "$RULES" -o "$tmp/dp-off.dif" --interval 5 \
		--samples "$tmp/dp-off.csv" --stats -q 2>"$tmp/dp-off.err"
	for w in 1 2; do
		for try in 1 2 3; do
			pick_port
			timeout 60 "$meter" -q -r "$RULES" -i net_pcap0 --driver dpdk --workers "$w" --interval 5 \
				--dpdk "$(eal "--vdev=net_pcap0,rx_pcap=$tmp/dp.pcap")" --idle-exit 2 --stats \
				-o "$tmp/dp$w.dif" --samples "$tmp/dp$w.csv" --snmp "127.0.0.1:$port" \
				>/dev/null 2>"$tmp/dp$w.err"
			mrc=$?
			grep -qi 'in use\|cannot listen' "$tmp/dp$w.err" || break
		done
		read -r got drops < <(captured "$tmp/dp$w.err")
		[ "$mrc" -eq 0 ] && [ "$got" -eq "$total" ] && [ "$drops" -eq 0 ]
		tap $? "DPDK net_pcap --workers $w: exit $mrc, $got of $total packets captured, $drops dropped"
		[ "$mrc" -eq 0 ] || sed -n '1,5s/^/# /p' "$tmp/dp$w.err"
		same_flows "$tmp/dp-off.dif" "$tmp/dp$w.dif" $COUNTS \
			dnslost dnsretransmits dnsunmatched dnsduplicates
		tap $? "DPDK net_pcap --workers $w, 5 s intervals: each flow's final packets, octets and seven DNS counters equal --read's ($(wc -l <"$tmp/flows.want") flows)"
		cmp -s <(LC_ALL=C sort "$tmp/dp-off.csv") <(LC_ALL=C sort "$tmp/dp$w.csv") &&
			[ "$(wc -l <"$tmp/dp-off.csv")" -gt 100 ]
		tap $? "DPDK net_pcap --workers $w: every RTT sample (time, flow, µs) equals --read's ($(($(wc -l <"$tmp/dp-off.csv") - 1)))"
	done
fi

# ---- 4. --replay --speed max --workers 2 = --read ---------------------------
# A 12-minute trace from a 5-minute boundary: three intervals cut on the
# meter clock, which at --speed max follows the packets as offline does.
"$gen" -o "$tmp/rp.pcap" --duration 700 --rate 20 --background 2 --seed 3 \
	--start 1700000100 2>/dev/null
"$meter" --read "$tmp/rp.pcap" -r "$RULES" -o "$tmp/rp-off.dif" --samples "$tmp/rp-off.csv" -q
for try in 1 2 3; do
	pick_port
	timeout 120 "$meter" -r "$RULES" --replay "$tmp/rp.pcap" --speed max --workers 2 \
		--idle-exit 1 -q -o "$tmp/rp.dif" --samples "$tmp/rp.csv" --snmp "127.0.0.1:$port" \
		>/dev/null 2>"$tmp/rp.err"
	mrc=$?
	grep -qi 'in use\|cannot listen' "$tmp/rp.err" || break
done
ivs=$(grep -c '^#Time' "$tmp/rp.dif" 2>/dev/null)
[ "$mrc" -eq 0 ] && [ "${ivs:-0}" -ge 3 ] && [ "$(grep -c '^#Time' "$tmp/rp-off.dif")" = "$ivs" ] &&
	diff_ok <(grep -v '^#' "$tmp/rp-off.dif") <(grep -v '^#' "$tmp/rp.dif")
tap $? "--replay --speed max --workers 2 -o: exit $mrc, ${ivs:-0} intervals, every flow record equals --read's"
[ "$mrc" -eq 0 ] || sed -n '1,5s/^/# /p' "$tmp/rp.err"
[ "$(wc -l <"$tmp/rp-off.csv")" -gt 1000 ] &&
	cmp -s <(LC_ALL=C sort "$tmp/rp-off.csv") <(LC_ALL=C sort "$tmp/rp.csv")
tap $? "--replay --speed max --workers 2 --samples: every RTT sample equals --read's ($(($(wc -l <"$tmp/rp-off.csv") - 1)))"

# ---- 5. SNMP: the merged view is what the agent serves ----------------------
# agent.srl (tests/data/agent): its FORMAT's first columns are the narrow
# package selector 19,27,28,29,30,31,41 (address, octets and PDUs both
# ways, FirstTime, FlowKind), then DNSRequests DNSAnswered DNSLost
# ToTurnaroundTime, i.e. the wide selector 19,520,522,523,70 with the
# address.  Two traces 30 s apart; the second is busy enough for type-6
# distributions.  --inactivity 3600 on both sides: no flow is recovered
# while the walk waits.
arules="$root/tests/data/agent/agent.srl"
aset=7
flow_mib=1.3.6.1.2.1.40
ntm_mib=1.3.6.1.4.1.8072.9999.9999.40
t0=1700000100
"$gen" -o "$tmp/s1.pcap" --seed 2 --start $t0 --duration 30 --rate 30 --servers 26 2>/dev/null
"$gen" -o "$tmp/s2.pcap" --seed 3 --start $((t0 + 60)) --duration 20 --rate 40 --servers 2 2>/dev/null
"$meter" --read "$tmp/s1.pcap" "$tmp/s2.pcap" -r "$arules" --inactivity 3600 \
	-o "$tmp/snmp-off.dif" -q
grep -v '^#' "$tmp/snmp-off.dif" >"$tmp/snmp-off.rec"
for try in 1 2 3; do
	pick_port
	"$meter" -r "$arules" --replay "$tmp/s1.pcap" --replay "$tmp/s2.pcap" --speed 60 \
		--workers 2 --inactivity 3600 --snmp "127.0.0.1:$port" -q >/dev/null 2>"$tmp/snmp.err" &
	mpid=$!
	agent_up "$port" && break
	kill "$mpid" 2>/dev/null
	wait "$mpid" 2>/dev/null
	mpid=
done
# the threads: two named ntm-worker0 and ntm-worker1 beside the control thread
workers_seen=$( [ -n "$mpid" ] && cat /proc/"$mpid"/task/*/comm 2>/dev/null | grep -c '^ntm-worker')
[ "${workers_seen:-0}" -eq 2 ]
tap $? "--workers 2: the meter runs ${workers_seen:-0} worker threads (ntm-worker0, ntm-worker1)"
snmp() { local tool=$1; shift; "$tool" -v2c -c public -t 3 -r 1 -On "$@" 2>/dev/null; }
# until the meter clock passed both traces (80 s) and the DNS timeouts (15 s)
u=
for _ in $(seq 100); do
	[ -n "$mpid" ] || break
	u=$(snmp snmpget -Oqvt "127.0.0.1:$port" "$NTM_UPTIME")
	[ -n "$u" ] && [ "$u" -ge 9500 ] && break
	sleep 0.1
done
# every package of set 7 in a walk, decoded to .dif tokens by pkgdump
packages() {   # packages OID SELECTOR OUT
	snmp snmpbulkwalk -Cr10 -Ox "127.0.0.1:$port" "$1" |
		awk '/ = Hex-STRING: / { if (x != "") print x; sub(/^[^=]*= /, ""); x = $0; next }
		     / = / { if (x != "") print x; x = ""; next }
		     { x = x " " $0 } END { if (x != "") print x }' |
		while read -r line; do echo "$line" | "$NTM_BIN/pkgdump" "$2"; done | LC_ALL=C sort >"$3"
}
if [ -n "$mpid" ] && [ -n "$u" ] && [ "$u" -ge 9500 ]; then
	packages "$flow_mib.2.3.1.5.7.19.27.28.29.30.31.41.$aset" 19,27,28,29,30,31,41 "$tmp/narrow"
	packages "$ntm_mib.2.1.1.5.10.0.19.2.8.2.10.2.11.0.70.$aset" 19,520,522,523,70 "$tmp/wide"
	cut -d' ' -f1-7 "$tmp/snmp-off.rec" | LC_ALL=C sort >"$tmp/narrow.want"
	awk '{ print $1, $8, $9, $10, $11 }' "$tmp/snmp-off.rec" | LC_ALL=C sort >"$tmp/wide.want"
	[ "$(wc -l <"$tmp/narrow.want")" -gt 20 ] && diff_ok "$tmp/narrow.want" "$tmp/narrow"
	tap $? "SNMP, --workers 2 replaying at 60x: flowPackageData (19,27,28,29,30,31,41) of all $(wc -l <"$tmp/narrow.want") flows equals the offline records (address, octets, PDUs, FirstTime, FlowKind)"
	t6=$(grep -c ' 6:' "$tmp/wide.want")
	[ "$t6" -gt 0 ] && diff_ok "$tmp/wide.want" "$tmp/wide"
	tap $? "SNMP, --workers 2: ntmPackageData (19,520,522,523,70) equals the offline DNS counters and RTT distributions ($t6 of type 6)"
else
	tap 1 "SNMP, --workers 2: the agent answers and the replay ends (uptime ${u:-?} cs)"
	sed -n '1,5s/^/# /p' "$tmp/snmp.err"
fi
if [ -n "$mpid" ]; then
	kill -TERM "$mpid"
	finish_meter
	[ "$mrc" -eq 0 ]
	tap $? "SNMP, --workers 2: SIGTERM ends the meter with status 0 (workers joined)"
fi

# ---- 6. bad --workers values ------------------------------------------------
bad=""
for v in 0 17 x -1 ""; do
	rm -f "$tmp/bad.dif"
	"$meter" --read "$tmp/mix.pcap" -r "$RULES" -o "$tmp/bad.dif" --workers "$v" \
		>/dev/null 2>"$tmp/bad.err"
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -qi 'workers' "$tmp/bad.err" || [ -s "$tmp/bad.dif" ]; then
		bad="$bad '$v'(exit $rc: $(head -1 "$tmp/bad.err"))"
	fi
done
[ -z "$bad" ]
tap $? "--workers 0, 17, x, -1, '': exit 1 with a message naming --workers, no output${bad:+; wrong:$bad}"
echo "# e.g. $(head -1 "$tmp/bad.err")"

exit $((failures > 0))
