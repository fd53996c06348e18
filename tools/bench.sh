#!/usr/bin/env bash
# tools/bench.sh — `make bench`: ntm's speed and memory side by side with
# softflowd, pmacctd and tshark on one generated trace, written as Markdown
# to doc/performance.md (issue 3, "Speed").
#
# Every command runs BENCH_REPEAT times (peers BENCH_PEER_REPEAT times)
# under /usr/bin/time; the table keeps the best wall time, the best CPU time
# (user + sys, child processes included) and the largest peak RSS.
# "Per core" = packets / CPU seconds, which stays meaningful on a machine
# shared with other work, where wall time does not.
#
# Environment (defaults in brackets):
#   BENCH_DURATION [85]  BENCH_RATE [10000]  BENCH_BACKGROUND [4]
#   BENCH_SNAPLEN [96]   trace shape for gen_trace (about 5.2 M packets)
#   BENCH_REPEAT [3]     BENCH_PEER_REPEAT [3]
#   BENCH_PMACCT_REPEAT, BENCH_TSHARK_REPEAT [BENCH_PEER_REPEAT]: the two
#                        slow ones (pmacctd paces itself: minutes per run)
#   BENCH_TSHARK_PACKETS [200000]  tshark reads only this many packets
#                        (it needs ~100x ntm's time per packet)
#   BENCH_OUT [doc/performance.md]
# Timed figures are never asserted by tests; this only reports them.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

BIN=build/bin
WORK=build/bench
OUT=${BENCH_OUT:-doc/performance.md}
DURATION=${BENCH_DURATION:-85}
RATE=${BENCH_RATE:-10000}
BACKGROUND=${BENCH_BACKGROUND:-4}
SNAPLEN=${BENCH_SNAPLEN:-96}
SEED=1
REPEAT=${BENCH_REPEAT:-3}
PEER_REPEAT=${BENCH_PEER_REPEAT:-3}
PMACCT_REPEAT=${BENCH_PMACCT_REPEAT:-$PEER_REPEAT}
TSHARK_REPEAT=${BENCH_TSHARK_REPEAT:-$PEER_REPEAT}
TSHARK_PACKETS=${BENCH_TSHARK_PACKETS:-200000}
DECODE_ITER=${BENCH_DECODE_ITER:-20000000}
PME_ITER=${BENCH_PME_ITER:-20000000}
FLOW_PACKETS=${BENCH_FLOW_PACKETS:-2000000}
RULES=rulesets/dns-root.srl
TIMER=/usr/bin/time
MIN_PACKETS=5000000
TARGET_PPS=10000000        # issue 3: per core, decode + PME + flow
TARGET_PEER_FACTOR=20      # issue 3: x the faster of softflowd / pmacctd

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$TIMER" ] || die "$TIMER missing (Debian package 'time'; make deps)"
for p in ntm-meter gen_trace bench_decode bench_pme bench_flow bench_stages mem_sizes; do
	[ -x "$BIN/$p" ] || die "$BIN/$p missing (make all)"
done
mkdir -p "$WORK"

have() { command -v "$1" >/dev/null 2>&1; }

# ---- measuring ------------------------------------------------------------

# measure NAME TIMES CMD...: run CMD TIMES times; NAME.best holds
# "wall cpu rss_kb" (best wall, best user+sys, largest RSS) and NAME.log the
# output of the run with the best wall time.
measure() {
	local name=$1 times=$2
	shift 2
	local best_wall='' best_cpu='' max_rss=0
	for _ in $(seq 1 "$times"); do
		"$TIMER" -f '%e %U %S %M' -o "$WORK/$name.time" "$@" \
			>"$WORK/$name.run" 2>&1 || {
			echo "bench: $name failed:" >&2
			tail -5 "$WORK/$name.run" >&2
			return 1
		}
		read -r wall user sys rss < <(tail -n 1 "$WORK/$name.time")
		local cpu
		cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
		if [ -z "$best_wall" ] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
			best_wall=$wall
			cp "$WORK/$name.run" "$WORK/$name.log"
		fi
		if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
			best_cpu=$cpu
		fi
		[ "$rss" -le "$max_rss" ] || max_rss=$rss
	done
	echo "$best_wall $best_cpu $max_rss" >"$WORK/$name.best"
	echo "bench: $name: wall $best_wall s, cpu $best_cpu s, rss $max_rss KB" >&2
}

# field NAME N: field N (1 wall, 2 cpu, 3 rss) of NAME.best.
field() { awk -v n="$2" '{ print $n }' "$WORK/$1.best"; }

# rate PACKETS SECONDS: "X.XX" millions per second.
rate() { awk -v p="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.3f", p / s / 1e6; else print "n/a" }'; }

# row LABEL NAME PACKETS: a table row for a whole-trace program; the
# packets it says it accounted come from NAME.accounted when there is one.
row() {
	local wall cpu rss acc=n/a
	wall=$(field "$2" 1); cpu=$(field "$2" 2); rss=$(field "$2" 3)
	[ ! -f "$WORK/$2.accounted" ] || acc=$(cat "$WORK/$2.accounted")
	echo "| $1 | $3 | $acc | $wall | $cpu | $(rate "$3" "$cpu") | $(rate "$3" "$wall") | $((rss / 1024)) |"
}

# ---- the trace ---------------------------------------------------------------

trace=$WORK/bench.pcap
params="--duration $DURATION --rate $RATE --background $BACKGROUND --snaplen $SNAPLEN --seed $SEED"
if [ ! -f "$trace" ] || [ "$(cat "$WORK/bench.params" 2>/dev/null)" != "$params" ]; then
	echo "bench: generating $trace ($params)" >&2
	# shellcheck disable=SC2086
	"$BIN/gen_trace" -o "$trace" $params >"$WORK/gen.log" 2>&1 || die "gen_trace failed"
	echo "$params" >"$WORK/bench.params"
	grep -o '[0-9]* packets' "$WORK/gen.log" | awk '{ print $1 }' >"$WORK/bench.packets"
fi
packets=$(cat "$WORK/bench.packets")
[ "$packets" -ge "$MIN_PACKETS" ] || echo "bench: warning: only $packets packets (< $MIN_PACKETS)" >&2
trace_mb=$(( $(stat -c %s "$trace") / 1048576 ))
cat "$trace" >/dev/null    # into the page cache: every reader starts warm

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- ntm -------------------------------------------------------------------

measure ntm "$REPEAT" "$BIN/ntm-meter" -q --stats --read "$trace" -r "$RULES" -o "$WORK/ntm.dif"
awk '$1 == "packets" { print $2; exit }' "$WORK/ntm.log" >"$WORK/ntm.accounted"
# the same with two worker threads (the reading thread spreads packets to
# them): wall time is the figure; CPU adds the reading thread's copying
measure ntm_w2 "$REPEAT" "$BIN/ntm-meter" -q --stats --workers 2 --read "$trace" -r "$RULES" \
	-o "$WORK/ntm_w2.dif"
awk '$1 == "packets" { print $2; exit }' "$WORK/ntm_w2.log" >"$WORK/ntm_w2.accounted"
cmp -s <(grep -v '^##' "$WORK/ntm.dif") <(grep -v '^##' "$WORK/ntm_w2.dif") ||
	die "ntm-meter --workers 2 wrote another .dif than one worker"

# decode + PME + flow update alone: the bench trace's packets in memory,
# best of bench_stages' own runs (its line gives the CPU ns per packet)
measure stages 1 "$BIN/bench_stages" "$trace" "$RULES" "$packets" "$REPEAT"
ns_stages=$(grep -o '[0-9.]* ns/packet' "$WORK/stages.log" | head -1 | awk '{ print $1 }')
stages_mpps=$(awk -v ns="${ns_stages:-0}" 'BEGIN { if (ns > 0) printf "%.2f", 1e3 / ns; else print "n/a" }')

# each stage alone on synthetic inputs (their worst cases, not a sum that
# makes the pipeline): decode of one DNS frame, the PME on six packets,
# the flow table with keys built by flow_key_put and random flows
measure decode "$REPEAT" "$BIN/bench_decode" "$DECODE_ITER"
measure pme "$REPEAT" "$BIN/bench_pme" "$PME_ITER" "$RULES"
measure flow "$REPEAT" "$BIN/bench_flow" -p "$FLOW_PACKETS" 10000 1000000
ns_decode=$(awk -v c="$(field decode 2)" -v n="$DECODE_ITER" 'BEGIN { printf "%.1f", c * 1e9 / n }')
ns_pme=$(grep -o '[0-9.]* ns/packet' "$WORK/pme.log" | head -1 | awk '{ print $1 }')
ns_flow=$(grep '10000 flows: key + hash + lookup' "$WORK/flow.log" | grep -o '[0-9.]* ns/pkt' | awk '{ print $1 }')

# ---- peers -------------------------------------------------------------------

sink_pid=
stop_sink() { [ -z "$sink_pid" ] || kill "$sink_pid" 2>/dev/null || true; }
trap stop_sink EXIT

peers=()
if have softflowd; then
	# NetFlow v9 (-6: IPv6 flows too, as ntm meters them) to a local UDP
	# sink, so export costs what it costs; no -c: with a control socket
	# softflowd waits for commands after the file instead of exiting.
	port=29995
	if have python3; then
		python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True: s.recv(65535)' "$port" &
		sink_pid=$!
	fi
	measure softflowd "$PEER_REPEAT" softflowd -d -r "$trace" -n "127.0.0.1:$port" -v 9 -6
	stop_sink
	# its per-protocol summary: "name (proto): octets packets avg max"
	awk '/\([0-9]+\):/ { s += $(NF - 2) } END { print s + 0 }' "$WORK/softflowd.log" \
		>"$WORK/softflowd.accounted"
	peers+=(softflowd)
fi
if have pmacctd; then
	# Aggregation by protocol in the print plugin, appended to a CSV so the
	# packets it accounted can be summed.  With the 5-tuple (src_host,
	# dst_host, src_port, dst_port, proto) the plugin's cache fills, and
	# pmacctd's core, which does not wait for a busy plugin when reading a
	# savefile, accounted only 263 763 of this trace's 5 338 864 packets
	# in 2.4 CPU s: fast because it skipped the work.  By protocol nothing
	# is lost, and it is pmacctd's cheapest aggregation, so its rate is an
	# upper bound for pmacctd.  It sleeps 2 s before reading a savefile
	# and paces its core against the plugin (sleeps and polls, also in the
	# sys CPU): minutes of wall time per run.
	cat >"$WORK/pmacctd.conf" <<EOF
pcap_savefile: $trace
plugins: print
aggregate: proto
print_output: csv
print_output_file: $WORK/pmacctd.csv
print_output_file_append: true
print_refresh_time: 3600
EOF
	measure pmacctd "$PMACCT_REPEAT" sh -c "rm -f '$WORK/pmacctd.csv' && exec pmacctd -f '$WORK/pmacctd.conf'"
	# sum the PACKETS column (found by its header; one header per purge)
	awk -F, '/PACKETS/ { for (i = 1; i <= NF; i++) if ($i == "PACKETS") c = i; next }
		c { s += $c } END { print s + 0 }' "$WORK/pmacctd.csv" >"$WORK/pmacctd.accounted"
	peers+=(pmacctd)
fi
if have tshark; then
	measure tshark "$TSHARK_REPEAT" tshark -n -r "$trace" -c "$TSHARK_PACKETS" \
		-Y "dns.flags.response == 1" -T fields -e dns.time
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- memory ------------------------------------------------------------------

"$BIN/mem_sizes" >"$WORK/sizes.txt"
msz() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/sizes.txt"; }

# ---- live capture (issue 5) -------------------------------------------------
# Both need root; a script that cannot run says why in the report.

if live_afpacket=$(tools/bench-afpacket.sh 2>"$WORK/afpacket.err"); then :; else
	live_afpacket="(not measured: $(tail -1 "$WORK/afpacket.err"))"
fi
if live_dpdk=$(tools/bench-dpdk.sh 2>"$WORK/dpdk-bench.err"); then :; else
	live_dpdk="| DPDK | not measured: $(tail -1 "$WORK/dpdk-bench.err") |"
fi

# ---- verdicts ----------------------------------------------------------------

ntm_pps=$(awk -v p="$packets" -v c="$(field ntm 2)" 'BEGIN { printf "%.0f", p / c }')
best_peer='' best_peer_pps=0
for p in "${peers[@]}"; do
	pps=$(awk -v p="$packets" -v c="$(field "$p" 2)" 'BEGIN { printf "%.0f", p / c }')
	if [ "$pps" -gt "$best_peer_pps" ]; then best_peer=$p; best_peer_pps=$pps; fi
done
factor=$(awk -v a="$ntm_pps" -v b="$best_peer_pps" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')
met() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' && echo "**met**" || echo "**not met**"; }
v_pipeline=$(met "$ntm_pps" "$TARGET_PPS")
v_micro=$(awk -v ns="${ns_stages:-0}" -v t="$TARGET_PPS" 'BEGIN { exit !(ns > 0 && 1e9 / ns >= t) }' && echo "**met**" || echo "**not met**")
v_peers=$(met "${factor/n\/a/0}" "$TARGET_PEER_FACTOR")

# ---- versions, machine -------------------------------------------------------

ver_ntm=$("$BIN/ntm-meter" -V 2>&1 | head -1)
ver_sf=$(softflowd -h 2>&1 | grep -o 'softflowd version [0-9.]*' | head -1 || true)
ver_pm=$(pmacctd -V 2>&1 | head -1 || true)
ver_ts=$(tshark --version 2>/dev/null | head -1 || true)
ver_cc=$(${CC:-cc} --version 2>/dev/null | head -1 || true)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# ---- the report --------------------------------------------------------------

tmp_out=$(mktemp "$WORK/performance.XXXXXX")
{
cat <<EOF
# ntm performance

Written by \`make bench\` (tools/bench.sh); do not edit by hand — the
hot-spot section at the end is kept from the previous file.  Timed
figures are never asserted by tests.

- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit
- machine: $(nproc) CPUs, $cpu_model, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)
- load average (1/5/15 min) before: $load_before, after: $load_after — the
  machine was shared with other work, so **wall times are inflated; the
  per-core rates (packets / CPU seconds) are the figures to compare**
- versions: $ver_ntm; $ver_sf; $ver_pm; $ver_ts; compiler $ver_cc (-O2)
- trace: \`gen_trace -o $trace $params\` — $packets packets, $trace_mb MB,
  DNS campus mix (root/gTLD queries over UDP and TCP, IPv4/IPv6, VLAN/QinQ)
  plus $BACKGROUND background packets per query; read once before the runs
  (page cache warm)
- each program ran $REPEAT times (softflowd $PEER_REPEAT, pmacctd
  $PMACCT_REPEAT, tshark $TSHARK_REPEAT); best wall, best CPU
  (user + sys, children included), largest peak RSS (\`/usr/bin/time\`)

## End to end, the same trace

| program | packets read | packets it accounted | wall s | CPU s | M packets/s per core (CPU) | M packets/s (wall) | peak RSS MB |
|---|---|---|---|---|---|---|---|
EOF
row "ntm-meter --read, dns-root.srl" ntm "$packets"
row "ntm-meter --read --workers 2, dns-root.srl" ntm_w2 "$packets"
for p in "${peers[@]}"; do row "$p" "$p" "$packets"; done
if [ -f "$WORK/tshark.best" ]; then row "tshark dns.time (first $TSHARK_PACKETS packets)" tshark "$TSHARK_PACKETS"; fi
cat <<EOF

"Packets it accounted": ntm's \`packets\` statistic (every packet decoded and run
through the PME; dns-root.srl keeps only DNS to root/gTLD servers), the sum of softflowd's
per-protocol packet counts, the sum of pmacctd's PACKETS column (IP
packets only; the difference to "read" is what it does not account).

Commands (TRACE = \`$trace\`):

- ntm: \`$BIN/ntm-meter -q --stats --read TRACE -r $RULES -o $WORK/ntm.dif\`
- ntm with two workers: the same with \`--workers 2\` (its .dif is checked equal
  to one worker's); on this 2-core machine the reading thread and both workers
  share two cores, so its wall rate is the figure, not its CPU
- softflowd: \`softflowd -d -r TRACE -n 127.0.0.1:29995 -v 9 -6\` (NetFlow v9
  to a local UDP sink)
- pmacctd: \`pmacctd -f $WORK/pmacctd.conf\` (print plugin, \`aggregate:
  proto\`, CSV appended to $WORK/pmacctd.csv, print_refresh_time 3600).
  By protocol because with the 5-tuple (src/dst host and port, proto) the
  plugin's cache fills and pmacctd's core, which does not wait for a busy
  plugin when reading a savefile, accounted only 263 763 of these
  5 338 864 packets (in 2.4 CPU s): its rate then measures skipped work.
  Protocol aggregation is pmacctd's cheapest, so its figure is an upper
  bound for pmacctd.  Its wall time includes a fixed 2 s start-up sleep
  for savefiles and the core's pacing against its plugin (sleep/poll, also
  visible as sys CPU).
- tshark: \`tshark -n -r TRACE -c $TSHARK_PACKETS -Y "dns.flags.response == 1" -T fields -e dns.time\`

ntm's own statistics for the best run:

\`\`\`
$(grep -v '^$' "$WORK/ntm.log" | head -12)
\`\`\`

## Stages alone

**Decode + PME + flow update** on the bench trace's $packets packets held
in memory (\`bench_stages TRACE $RULES $packets $REPEAT\`: decode_packet_cursor,
pme_classify with a memo (as each engine task has), pme_key_hash and
flow_count_packet per packet, as engine_packet does; no file reading, DNS pairing, distributions or .dif):
**${ns_stages:-n/a} ns per packet = $stages_mpps M packets/s per core**.

\`\`\`
$(cat "$WORK/stages.log")
\`\`\`

Each stage on synthetic inputs, its worst cases rather than the trace's mix:

| stage | command | CPU ns per packet |
|---|---|---|
| decode (Ethernet + 802.1Q + IPv4 + UDP + DNS question) | \`bench_decode $DECODE_ITER\` | $ns_decode |
| PME (dns-root.srl) + flow-key hash, six packets in turn (4 DNS to and from servers, 2 others) | \`bench_pme $PME_ITER $RULES\` | ${ns_pme:-n/a} |
| flow table: key built by flow_key_put + hash + lookup + count, a random one of 10 000 flows | \`bench_flow -p $FLOW_PACKETS 10000 1000000\` | ${ns_flow:-n/a} (wall-clock, from its output) |

Their own output (best run of each):

\`\`\`
$(cat "$WORK/decode.log" "$WORK/pme.log")
\`\`\`

$(cat "$WORK/flow.log")

## Memory

| what | bytes |
|---|---|
| flow record (struct flow, two cache lines) | $(msz flow_record_bytes) |
| per flow, all of the flow table (record + key slot + free stack + index share), default --max-flows $(msz max_flows) | $(msz flow_bytes_per_flow) |
| per pending DNS request (\`dnspair_entry_bytes()\`, index slots included) | $(msz pending_entry_bytes) |
| per flow holding an RTT distribution (struct dist, pool of $(msz dist_slots)) | $(msz dist_bytes) |
| whole tables at the defaults: flows / distribution pool / pending | $(msz flow_table_bytes) / $(msz dist_pool_bytes) / $(msz pending_table_bytes) |

From \`$BIN/mem_sizes\` (bytes the tables allocate); the tables are
allocated once at start, so RSS does not grow with traffic —
tests/integration/bounded.sh checks that with 1 M distinct sources.

## Live capture (issue 5)

AF_PACKET loss against offered rate: tcpreplay into one end of a veth pair
in a network namespace, \`capdump --driver afpacket\` on the other end
(\`tools/bench-afpacket.sh\`; "lost before the socket" is what the veth
queue dropped before any packet socket saw it):

$live_afpacket

DPDK without a NIC: the net_pcap virtual device replaying a generated
trace (\`tools/bench-dpdk.sh\`, EAL with \`--no-huge\`):

| what | rate |
|---|---|
$live_dpdk

## Targets (issue 3)

- decode + PME + flow ≥ $((TARGET_PPS / 1000000)) M packets/s per core: stages
  alone (bench_stages) $stages_mpps M/s — $v_micro; whole \`ntm-meter --read\` (file reading,
  DNS pairing, distributions and .dif writing included)
  $(rate "$packets" "$(field ntm 2)") M/s — $v_pipeline.
- end to end ≥ ${TARGET_PEER_FACTOR}× the faster of softflowd / pmacctd: the faster
  per core is ${best_peer:-none} at $(rate "$best_peer_pps" 1) M/s; ntm is ${factor}× — $v_peers.
EOF
} >"$tmp_out"

# keep the hand-written profile section (from "## Hot spots" on)
if [ -f "$OUT" ] && grep -q '^## Hot spots' "$OUT"; then
	{ echo; sed -n '/^## Hot spots/,$p' "$OUT"; } >>"$tmp_out"
fi
mv "$tmp_out" "$OUT"
echo "bench: wrote $OUT" >&2
