#!/usr/bin/env bash
# bounded.sh — issue 3 "Bounded": a trace of 1 M distinct source addresses
# metered with a ruleset that keys by SourcePeerAddress asks for 1 M flows;
# the meter must stay within what --max-flows and the pending table promise.
#
#  run A (flood): by-source.srl, --max-flows 50000, default FloodMark (95 %):
#     flood mode is entered, new flows are refused, the table never holds
#     more than --max-flows, and peak RSS stays under the bound below.
#     Written with --samples only, so this run does not depend on the .dif
#     writer; run B covers it.
#  run B (standby): the same with --standby by-source-8.srl --high-water 50:
#     the meter switches to the standby ruleset (standby_switches > 0);
#  run C: run B writing a .dif, which holds flows of the standby's ruleset
#     number (SET 8), within the RSS bound (writer included).
#
# The RSS bound, in KB (computed here, never a measured-and-pasted number):
#     fixed   = peak RSS of the same meter on a tiny trace with
#               --max-flows 1 --max-pending 1 (program, libraries, ruleset,
#               I/O buffers: everything that does not scale)
#   + tables  = what mem_sizes reports the engine's tables allocate for
#               these sizes: flow table (records, key slots, index), the
#               distribution pool, and one DNS pending table per ruleset
#   + writer  = WRITER_BYTES_PER_FLOW per flow: one interval's records in
#               the offline writer (a record and one value per FORMAT
#               attribute, ~50 bytes each) and its per-flow bookkeeping
#   + slack   = SLACK_PERCENT % of the above + SLACK_KB (malloc arenas,
#               2 MB huge-page rounding of each big array, stdio buffers).
# Under AddressSanitizer RSS means nothing (shadow memory, quarantine): the
# RSS checks are skipped there, everything else still runs.
#
# Prints TAP lines; exit 0 only if all passed.
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
: "${NTM_ROOT:?NTM_ROOT must name the repository root}"

SOURCES=1000000
MAX_FLOWS=50000
MAX_PENDING=65536
HIGH_WATER=50
WRITER_BYTES_PER_FLOW=1024
SLACK_PERCENT=10
SLACK_KB=8192
TASKS=1            # rulesets run at once (a standby shares its task's pending table)

meter="$NTM_BIN/ntm-meter"
gen="$NTM_BIN/gen_trace"
sizes="$NTM_BIN/mem_sizes"
rules="$NTM_ROOT/tests/data/rulesets/by-source.srl"
standby="$NTM_ROOT/tests/data/rulesets/by-source-8.srl"
STANDBY_SET=8      # SET of by-source-8.srl
TIMER=/usr/bin/time

. "$(dirname "$0")/../tap.sh"
tap_init bounded



skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# check TEXT CONDITION...: a test that passes when the command succeeds.
check() {
	local text=$1
	shift
	"$@"
	tap $? "$text"
}

# show FILE: a failed step's output as TAP comments, kept short.
show() {
	sed -e 's/^/# /' "$1" | head -20
}

# stat_field FILE LINE_PREFIX NAME: the number after NAME on the --stats
# line starting with LINE_PREFIX ("flows", "ruleset 7", ...); empty if none.
stat_field() {
	awk -v pre="$2" -v name="$3" '
		index($0, pre " ") == 1 {
			for (i = 1; i < NF; i++) if ($i == name) { print $(i + 1); exit }
		}' "$1"
}

# mem_field NAME: a value from mem_sizes' output.
mem_field() {
	awk -v name="$1" '$1 == name { print $2; exit }' "$tmp/sizes.txt"
}

# run_meter NAME ARGS...: run the meter with --stats under the timer;
# stderr (stats) in NAME.err, peak RSS (KB) in NAME.rss, exit status in
# NAME.rc.
run_meter() {
	local name=$1
	shift
	"$TIMER" -f %M -o "$tmp/$name.rss" "$meter" -q --stats "$@" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
}

for prog in "$meter" "$gen" "$sizes"; do
	if [ ! -x "$prog" ]; then
		tap 1 "$(basename "$prog") is built ($prog)"
		exit 1
	fi
done
if [ ! -x "$TIMER" ]; then
	tap 1 "$TIMER is installed (Debian package 'time'; make deps)"
	exit 1
fi

asan=0
if ldd "$meter" 2>/dev/null | grep -q 'libasan'; then
	asan=1
fi

# ---- the traces --------------------------------------------------------

"$gen" -o "$tmp/flood.pcap" --distinct-sources "$SOURCES" --duration 2 --rate 100 \
	>"$tmp/gen.out" 2>&1
rc=$?
[ $rc -eq 0 ] || show "$tmp/gen.out"
tap $rc "gen_trace writes a trace of $SOURCES distinct sources"

"$gen" -o "$tmp/tiny.pcap" --duration 1 --rate 10 >"$tmp/tiny.out" 2>&1
rc=$?
[ $rc -eq 0 ] || show "$tmp/tiny.out"
tap $rc "gen_trace writes a tiny trace (fixed overhead)"

# ---- the bound -----------------------------------------------------------

run_meter tiny --read "$tmp/tiny.pcap" -r "$rules" -o "$tmp/tiny.dif" \
	--max-flows 1 --max-pending 1
[ "$(cat "$tmp/tiny.rc")" -eq 0 ] || show "$tmp/tiny.err"
check "meter runs on the tiny trace with --max-flows 1" [ "$(cat "$tmp/tiny.rc")" -eq 0 ]
fixed_kb=$(tail -n 1 "$tmp/tiny.rss")

"$sizes" --max-flows "$MAX_FLOWS" --max-pending "$MAX_PENDING" >"$tmp/sizes.txt" 2>&1
rc=$?
[ $rc -eq 0 ] || show "$tmp/sizes.txt"
tap $rc "mem_sizes reports the table sizes"
flow_table=$(mem_field flow_table_bytes)
dist_pool=$(mem_field dist_pool_bytes)
pending_table=$(mem_field pending_table_bytes)

bound_kb=
if [[ "$fixed_kb" =~ ^[0-9]+$ && "$flow_table" =~ ^[0-9]+$ &&
      "$dist_pool" =~ ^[0-9]+$ && "$pending_table" =~ ^[0-9]+$ ]]; then
	tables=$((flow_table + dist_pool + TASKS * pending_table))
	writer=$((MAX_FLOWS * WRITER_BYTES_PER_FLOW))
	base_kb=$((fixed_kb + (tables + writer + 1023) / 1024))
	bound_kb=$((base_kb + base_kb * SLACK_PERCENT / 100 + SLACK_KB))
	echo "# bound: fixed ${fixed_kb} KB + tables $((tables / 1024)) KB" \
	     "(flows $flow_table B, dists $dist_pool B, pending $pending_table B)" \
	     "+ writer $((writer / 1024)) KB + slack = ${bound_kb} KB"
fi

# rss_within NAME: NAME's peak RSS is under the bound.
rss_within() {
	local rss
	rss=$(tail -n 1 "$tmp/$1.rss")
	echo "# $1: peak RSS ${rss} KB, bound ${bound_kb:-?} KB"
	[[ "$rss" =~ ^[0-9]+$ && -n "$bound_kb" ]] && [ "$rss" -le "$bound_kb" ]
}

# ---- run A: FloodMark ------------------------------------------------------

run_meter flood --read "$tmp/flood.pcap" -r "$rules" --samples "$tmp/flood.csv" \
	--max-flows "$MAX_FLOWS" --max-pending "$MAX_PENDING"
rc=$(cat "$tmp/flood.rc")
[ "$rc" -eq 0 ] || show "$tmp/flood.err"
check "flood run: meter exits 0" [ "$rc" -eq 0 ]
sed -e 's/^/# /' "$tmp/flood.err"

packets=$(stat_field "$tmp/flood.err" packets packets)
check "flood run: all $SOURCES flood packets read" [ "${packets:-0}" -ge "$SOURCES" ]
entries=$(stat_field "$tmp/flood.err" flows flood_entries)
check "flood run: flood mode entered (flood_entries ${entries:-?} > 0)" [ "${entries:-0}" -gt 0 ]
refused=$(stat_field "$tmp/flood.err" flows flood_refused)
check "flood run: new flows refused (flood_refused ${refused:-?} > 0)" [ "${refused:-0}" -gt 0 ]
capacity=$(stat_field "$tmp/flood.err" flows capacity)
check "flood run: table capacity is --max-flows (${capacity:-?})" [ "${capacity:-0}" -eq "$MAX_FLOWS" ]
peak=$(stat_field "$tmp/flood.err" flows peak)
check "flood run: peak flows ${peak:-?} <= $MAX_FLOWS" \
	[ -n "$peak" ] && [ "${peak:-0}" -gt 0 ] && [ "${peak:-0}" -le "$MAX_FLOWS" ]
peak_pending=$(stat_field "$tmp/flood.err" "dns 7" peak_pending)
check "flood run: peak pending ${peak_pending:-?} <= $MAX_PENDING" \
	[ -n "$peak_pending" ] && [ "${peak_pending:-0}" -le "$MAX_PENDING" ]
if [ $asan -eq 1 ]; then
	skip "flood run: peak RSS within the bound" "AddressSanitizer build"
else
	check "flood run: peak RSS within the bound" rss_within flood
fi

# ---- run B: HighWaterMark -> standby ruleset -------------------------------
# B checks the switch (--samples only, like A); C the same run writing the
# .dif, so a writer fault shows as its own failure.

run_meter standby --read "$tmp/flood.pcap" -r "$rules" --standby "$standby" \
	--high-water "$HIGH_WATER" --samples "$tmp/standby.csv" \
	--max-flows "$MAX_FLOWS" --max-pending "$MAX_PENDING"
rc=$(cat "$tmp/standby.rc")
[ "$rc" -eq 0 ] || show "$tmp/standby.err"
check "standby run: meter exits 0" [ "$rc" -eq 0 ]
sed -e 's/^/# /' "$tmp/standby.err"

switches=$(stat_field "$tmp/standby.err" "ruleset 7" standby_switches)
check "standby run: switched to the standby ruleset (standby_switches ${switches:-?} > 0)" \
	[ "${switches:-0}" -gt 0 ]
peak=$(stat_field "$tmp/standby.err" flows peak)
# above HighWaterMark new flows come from the /8 ruleset: a few hundred at most
check "standby run: peak flows ${peak:-?} stays near HighWaterMark" \
	[ -n "$peak" ] && [ "${peak:-0}" -le $((MAX_FLOWS * HIGH_WATER / 100 + 256)) ]

# ---- run C: the same, writing the .dif --------------------------------------

run_meter standby_dif --read "$tmp/flood.pcap" -r "$rules" --standby "$standby" \
	--high-water "$HIGH_WATER" -o "$tmp/standby.dif" \
	--max-flows "$MAX_FLOWS" --max-pending "$MAX_PENDING"
rc=$(cat "$tmp/standby_dif.rc")
[ "$rc" -eq 0 ] || show "$tmp/standby_dif.err"
check "standby run with -o: meter exits 0" [ "$rc" -eq 0 ]
standby_recs=0
if [ -f "$tmp/standby.dif" ]; then
	standby_recs=$(awk -v set="$STANDBY_SET" '!/^#/ && $1 == set' "$tmp/standby.dif" | wc -l)
fi
check "standby run with -o: the .dif holds flows of ruleset $STANDBY_SET ($standby_recs)" \
	[ "$standby_recs" -gt 0 ]
if [ $asan -eq 1 ]; then
	skip "standby run with -o: peak RSS within the bound" "AddressSanitizer build"
else
	check "standby run with -o: peak RSS within the bound" rss_within standby_dif
fi

[ "$failures" -eq 0 ]
