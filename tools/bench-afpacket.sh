#!/usr/bin/env bash
# bench-afpacket.sh -- AF_PACKET capture loss against offered rate.
#
# A veth pair in a private network namespace; tcpreplay sends a generated
# DNS campus trace into one end at a few fixed rates and at --topspeed
# while capdump (--driver afpacket, default 4 MiB ring) captures on the
# other end with 1 and with 2 fanout sockets, and once more at top speed
# with a deliberately small ring (128 KiB) to show that overruns are
# counted.  Prints a markdown table:
# what tcpreplay sent and at what rate, what the sockets received, what
# the kernel reported as ring drops (PACKET_STATISTICS), and what was lost
# before reaching the socket at all (sent - received - drops: the veth /
# backlog queue, counted by the kernel elsewhere).  capdump runs with -q:
# it walks the ring and counts, with no per-packet output.
#
#   tools/bench-afpacket.sh [RATE...]     (default: 10000 50000 200000 top)
# Needs root, tcpreplay and a built tree (make); NTM_BIN overrides build/bin.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${NTM_BIN:-$root/build/bin}
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(10000 50000 200000 top)
send_seconds=2             # packets per fixed-rate run: rate x this
top_packets=400000

die() { echo "bench-afpacket: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespace, packet sockets)"
command -v tcpreplay >/dev/null || die "tcpreplay not installed"
if [ ! -x "$bin/capdump" ] || [ ! -x "$bin/gen_trace" ]; then
	die "build first (make): no $bin/capdump or $bin/gen_trace"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ntm-bench-afp.XXXXXX")
ns="ntm-bafp-$$"
cap_pid=
cleanup() {
	[ -n "$cap_pid" ] && kill "$cap_pid" 2>/dev/null && wait "$cap_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns" || die "cannot create a network namespace"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add ntmcap0 type veth peer name ntmsend0 || die "cannot create a veth pair"
ip -n "$ns" link set ntmcap0 up
ip -n "$ns" link set ntmsend0 up

"$bin/gen_trace" -o "$tmp/t.pcap" --seed 7 --duration 30 --rate 1000 \
	--background 2 2>/dev/null || die "gen_trace failed"
trace_packets=$("$bin/capdump" -s "$tmp/t.pcap" | awk '/^# packets/ { print $3 }')

small_ring=131072

# run WORKERS RATE [RING BYTES]: one capture; prints a table row
run() {
	local w=$1 rate=$2 ring=${3:-0} count opts out=$tmp/cap.out
	if [ "$rate" = top ]; then
		count=$top_packets
		opts=(--topspeed)
	else
		count=$((rate * send_seconds))
		opts=(--pps "$rate")
	fi
	ip netns exec "$ns" "$bin/capdump" -q -s -i ntmcap0 -d afpacket -w "$w" \
		-B "$ring" --idle-exit 1 >"$out" 2>"$out.err" &
	cap_pid=$!
	for _ in $(seq 200); do
		grep -q '^# listening' "$out.err" 2>/dev/null && break
		sleep 0.05
	done
	ip netns exec "$ns" tcpreplay -i ntmsend0 "${opts[@]}" \
		--loop $((count / trace_packets + 1)) --limit "$count" "$tmp/t.pcap" \
		>"$tmp/replay.out" 2>&1
	wait "$cap_pid"
	cap_pid=
	awk -v w="$w" -v rate="$rate" -v ring="$ring" '
		FILENAME ~ /replay/ && /Actual:/ { sent = $2 }
		FILENAME ~ /replay/ && /Rated:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^pps/) pps = $i }
		FILENAME !~ /replay/ && /^# packets/ {
			for (i = 2; i < NF; i++) { if ($i == "packets") got += $(i + 1); if ($i == "drops") drops += $(i + 1) }
		}
		END {
			other = sent - got - drops
			printf "| %s | %d | %s | %s | %d | %d | %d | %d | %.2f %% |\n",
			       rate == "top" ? "top speed" : rate, w, ring ? ring / 1024 " KiB" : "4 MiB",
			       pps, sent, got, drops, other,
			       sent ? 100 * (sent - got) / sent : 0
		}' "$tmp/replay.out" "$out"
}

echo "AF_PACKET (TPACKET_V3) on a veth pair, kernel $(uname -r), $(nproc) CPUs"
echo
echo "| offered pps | sockets | ring per socket | achieved pps | sent | received | ring drops | lost before the socket | loss |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for rate in "${rates[@]}"; do
	for w in 1 2; do
		run "$w" "$rate"
	done
done
run 1 top "$small_ring"
