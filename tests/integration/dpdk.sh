#!/usr/bin/env bash
# dpdk.sh -- the DPDK capture driver (--driver dpdk) on DPDK's virtual
# devices, without hugepages or NICs.  A generated trace replayed by net_pcap
# (rx_pcap=TRACE) and read through the driver (capdump_dpdk) must give
# exactly the packets `capdump TRACE` reads from the file: same count, and per
# packet the same timestamp, lengths, interface, link type and byte hash.
# Several sources on net_pcap (one queue, no RSS) share it by software
# spreading: each packet once, conversations kept on one source.  net_null
# (endless 64-byte packets) and net_ring (nothing) are smoke tests; a wrong
# port name and bad EAL arguments must fail with a clear message.
#
# Every run gets its own EAL file prefix and no shared config, so parallel
# runs (make check beside make asan) do not collide; EAL's runtime
# directories are removed on exit.
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
gen="$NTM_BIN/gen_trace"
dump="$NTM_BIN/capdump"
ddump="$NTM_BIN/capdump_dpdk"
. "$(dirname "$0")/../tap.sh"
tap_init dpdk

prefix_base="ntm_dpdk_$$"
runtime_dirs() {
	local d
	for d in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk" /tmp/dpdk; do
		[ -d "$d" ] && printf '%s\n' "$d"/"$prefix_base"_*
	done
}
cleanup() {
	local d
	while read -r d; do
		[ -d "$d" ] && rm -rf "$d"
	done < <(runtime_dirs)
	rm -rf "$tmp"
}
trap cleanup EXIT

runs=0
# eal EXTRA... : EAL arguments of one run (a fresh file prefix each time)
eal() {
	runs=$((runs + 1))
	echo "--no-huge -m 128 --no-pci --no-shconf --no-telemetry --file-prefix=${prefix_base}_$runs $*"
}
diff_ok() {
	if diff "$1" "$2" >"$tmp/diff.out"; then return 0; fi
	sed -n '1,10s/^/# /p' "$tmp/diff.out"
	return 1
}

# Without DPDK in the build the driver says so; nothing else can be tested.
"$ddump" -e "$(eal)" net_null0 >"$tmp/probe.out" 2>"$tmp/probe.err"
if grep -q 'DPDK support is not in this build' "$tmp/probe.err"; then
	echo "ok 1 # SKIP DPDK support is not in this build (libdpdk-dev missing at build time)"
	exit 0
fi

# -- net_pcap replays a trace: the same packets as the file reader --------
"$gen" -o "$tmp/us.pcap" --seed 5 --duration 20 --rate 60 --background 2 2>/dev/null
"$dump" "$tmp/us.pcap" >"$tmp/us.file"
pk=$(wc -l <"$tmp/us.file")
bytes=$(awk '{ s += $3 } END { print s }' "$tmp/us.file")

"$ddump" -s -e "$(eal "--vdev=net_pcap0,rx_pcap=$tmp/us.pcap")" net_pcap0 \
	>"$tmp/us.dpdk" 2>"$tmp/us.err"
tap $? "net_pcap: capdump_dpdk reads the port until nothing more arrives"
diff_ok "$tmp/us.file" <(grep -v '^#' "$tmp/us.dpdk")
tap $? "net_pcap: the same $pk packets as the file (ts_ns caplen wirelen ifindex link bytes)"
st=$(grep '^# packets' "$tmp/us.dpdk")
[ "$st" = "# packets $pk bytes $bytes drops 0" ]
tap $? "net_pcap: stats count every packet and wire byte, no drops ($st)"

# batch sizes that are not multiples of the burst, and the port by number
"$ddump" -b 7 -e "$(eal "--vdev=net_pcap0,rx_pcap=$tmp/us.pcap")" 0 \
	>"$tmp/b7.dpdk" 2>"$tmp/b7.err"
diff_ok "$tmp/us.file" "$tmp/b7.dpdk"
tap $? "net_pcap: batches of 7, port named by number 0: the same $pk packets"
"$ddump" -b 4096 -e "$(eal "--vdev=net_pcap0,rx_pcap=$tmp/us.pcap")" net_pcap0 \
	>"$tmp/b4096.dpdk" 2>"$tmp/b4096.err"
diff_ok "$tmp/us.file" "$tmp/b4096.dpdk"
tap $? "net_pcap: batches of up to 4096 (the driver hands on at most 256): the same $pk packets"

# 96-byte snaplen trace: net_pcap keeps only the captured length (its mbuf
# length is the record's caplen), so wirelen is the one field that differs
"$gen" -o "$tmp/snap.pcap" --snaplen 96 --seed 6 --duration 10 --rate 60 2>/dev/null
"$dump" "$tmp/snap.pcap" >"$tmp/snap.file"
"$ddump" -e "$(eal "--vdev=net_pcap0,rx_pcap=$tmp/snap.pcap")" net_pcap0 \
	>"$tmp/snap.dpdk" 2>"$tmp/snap.err"
diff_ok <(cut -d' ' -f1,2,4-6 "$tmp/snap.file") <(cut -d' ' -f1,2,4-6 "$tmp/snap.dpdk")
tap $? "net_pcap, 96-byte snaplen: same $(wc -l <"$tmp/snap.file") packets (ts_ns caplen ifindex link bytes)"

# snaplen and interface number options
"$ddump" -n 40 -e "$(eal "--vdev=net_pcap0,rx_pcap=$tmp/us.pcap")" net_pcap0 \
	>"$tmp/n40.dpdk" 2>"$tmp/n40.err"
awk '$2 > 40 { bad++ } END { exit bad > 0 }' "$tmp/n40.dpdk" &&
	[ "$(wc -l <"$tmp/n40.dpdk")" -eq "$pk" ] &&
	diff_ok <(cut -d' ' -f1,3 "$tmp/us.file") <(cut -d' ' -f1,3 "$tmp/n40.dpdk")
tap $? "net_pcap, snaplen 40: every packet cut to at most 40 bytes, wire lengths kept"

# -- net_null / net_ring smoke tests -------------------------------------
t0=$(date +%s)
"$ddump" -s -c 1000 -e "$(eal --vdev=net_null0)" net_null0 >"$tmp/null.dpdk" 2>"$tmp/null.err"
rc=$?
t1=$(date +%s)
lines=$(grep -vc '^#' "$tmp/null.dpdk")
[ "$rc" -eq 0 ] && [ "$lines" -eq 1000 ] &&
	awk -v a="$t0" -v b="$t1" '!/^#/ { s = int($1 / 1e9); if (s < a - 1 || s > b + 1 || $2 != 64 || $3 != 64) bad++ }
		END { exit bad > 0 }' "$tmp/null.dpdk"
tap $? "net_null: 1000 packets of 64 bytes stamped with the wall clock (TSC calibrated to ns)"

"$ddump" -s -t 200 -e "$(eal --vdev=net_ring0)" net_ring0 >"$tmp/ring.dpdk" 2>"$tmp/ring.err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(grep '^# packets' "$tmp/ring.dpdk")" = "# packets 0 bytes 0 drops 0" ]
tap $? "net_ring: nothing arrives; the read ends after the timeout with 0 packets"

# -- errors ---------------------------------------------------------------
"$ddump" -e "$(eal "--vdev=net_pcap0,rx_pcap=$tmp/us.pcap")" nosuch >"$tmp/port.out" 2>"$tmp/port.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "dpdk: no port 'nosuch' (ports: 0=net_pcap0)" "$tmp/port.err"
tap $? "a wrong port name fails and lists the ports ($(tail -1 "$tmp/port.err"))"

"$ddump" -e "$(eal)" 0 >"$tmp/none.out" 2>"$tmp/none.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "DPDK has no ports (add one with --vdev" "$tmp/none.err"
tap $? "no ports at all: the error says how to add one"

"$ddump" -e "$(eal --no-such-eal-option)" net_null0 >"$tmp/eal.out" 2>"$tmp/eal.err"
rc=$?
[ "$rc" -eq 1 ] && [ ! -s "$tmp/eal.out" ] &&
	grep -q "dpdk: EAL initialisation failed: Invalid argument (EAL arguments '.*--no-such-eal-option'" "$tmp/eal.err"
tap $? "bad EAL arguments fail clearly, and EAL's usage text stays off stdout"

# -- the live meter on the DPDK driver --------------------------------------
# ntm-meter -i net_pcap0 --driver dpdk (EAL arguments from NTM_DPDK_ARGS)
# meters the replayed trace exactly as offline mode meters the file: same
# packets, countings, flows, RTT samples and DNS pairing statistics.
meter="$NTM_BIN/ntm-meter"
rules="${NTM_ROOT:-.}/rulesets/dns-root.srl"
"$meter" --read "$tmp/us.pcap" -r "$rules" -o "$tmp/off.dif" --stats 2>"$tmp/off.stats" >/dev/null
for try in 1 2 3; do
	port=$((20000 + ($$ + try * 7919) % 20000))
	NTM_DPDK_ARGS="$(eal "--vdev=net_pcap0,rx_pcap=$tmp/us.pcap")" \
		timeout 60 "$meter" -q -r "$rules" -i net_pcap0 --driver dpdk --idle-exit 2 --stats \
		--snmp "127.0.0.1:$port" >/dev/null 2>"$tmp/live.stats"
	rc=$?
	grep -qi 'address already in use\|cannot bind\|Error opening' "$tmp/live.stats" || break
done
# the lines both modes print alike (flow GC at the end differs: live
# recovers the flows, offline keeps them for its last interval)
meter_view() {
	awk '/^packets / { print $1, $2, $3, $4 }
		/^decode |^counted |^ruleset |^dns / { print }
		/^flows / { for (i = 1; i < NF; i++) if ($i == "created") print "created", $(i + 1) }' "$1"
}
[ "$rc" -eq 0 ] && [ -s "$tmp/live.stats" ] &&
	diff_ok <(meter_view "$tmp/off.stats") <(meter_view "$tmp/live.stats")
tap $? "ntm-meter --driver dpdk on net_pcap: the same packets, flows, RTT samples and DNS pairing as offline mode ($(grep '^counted' "$tmp/live.stats"))"
grep -q "^interface 1 net_pcap0 captured $pk dropped 0" "$tmp/live.stats"
tap $? "ntm-meter --driver dpdk: the interface captured all $pk packets, dropped none"

# -- several sources on a one-queue device: software spreading ----------
# net_pcap has one RX queue and no RSS, so the driver spreads in software:
# every packet reaches exactly one source, in file order within a source,
# and all packets between two addresses (both directions) reach the same one.
if command -v tshark >/dev/null 2>&1; then
	# file order: "ts_ns hash lo-hi" with the packet's two IP addresses sorted
	paste -d' ' <(cut -d' ' -f1,6 "$tmp/us.file") \
		<(tshark -r "$tmp/us.pcap" -T fields -E occurrence=f -e ip.src -e ip.dst \
			-e ipv6.src -e ipv6.dst 2>/dev/null |
			awk '{ a = $1; b = $2; if (a > b) { t = a; a = b; b = t }; print a "-" b }') \
		>"$tmp/pairs"
fi
# "2 threads": one thread per source, as meter workers run (a generous
# timeout: on a loaded machine a descheduled thread holds the others back)
for run in 2 3 2T; do
	nq=${run%T}
	if [ "$run" = "$nq" ]; then
		how="$nq sources"
		mode=(-q "$nq")
	else
		how="$nq sources in $nq threads"
		mode=(-q "$nq" -T -t 3000)
	fi
	"$ddump" -s -Q "${mode[@]}" -e "$(eal "--vdev=net_pcap0,rx_pcap=$tmp/us.pcap")" net_pcap0 \
		>"$tmp/q$run.dpdk" 2>"$tmp/q$run.err"
	tap $? "$how on net_pcap (no RSS): the driver spreads in software"
	diff_ok <(sort "$tmp/us.file") <(grep -v '^#' "$tmp/q$run.dpdk" | cut -d' ' -f1-6 | sort)
	tap $? "$how: together exactly the $pk packets of the file, each once"
	used=$(grep -v '^#' "$tmp/q$run.dpdk" | awk '{ print $7 }' | sort -u | wc -l)
	grep -v '^#' "$tmp/q$run.dpdk" |
		awk '{ if ($7 in last && $1 < last[$7]) bad++; last[$7] = $1 } END { exit bad > 0 }' &&
		[ "$used" -eq "$nq" ]
	tap $? "$how: every source gets packets ($used), each in trace order"
	if [ -s "$tmp/pairs" ]; then
		awk 'NR == FNR { pair[$1 " " $2] = $3; next }
			!/^#/ { p = pair[$1 " " $6]; if (p == "") { miss++; next }
				if ((p in q) && q[p] != $7) bad++; q[p] = $7 }
			END { exit (bad + miss) > 0 }' "$tmp/pairs" "$tmp/q$run.dpdk"
		tap $? "$how: both directions between two addresses always reach the same source"
	else
		echo "ok $((n += 1)) # SKIP tshark is not installed (it names each packet's addresses)"
	fi
	st=$(grep '^# packets' "$tmp/q$run.dpdk")
	[ "$st" = "# packets $pk bytes $bytes drops 0" ]
	tap $? "$how: stats add up to the file, no drops ($st)"
done

exit $((failures > 0))
