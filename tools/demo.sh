#!/usr/bin/env bash
# make demo — the main job, as it runs at a campus border: ntm-meter
# replays the bundled campus DNS trace 100x faster than real time and
# serves the Meter MIB on localhost; ntm-reader (the NeMaC role) downloads
# the root/gTLD ruleset to it over SNMP, registers, collects every 5
# minutes of meter time into a daily .dif file; then both stop and the
# per-server table an RTT analyst looks at first is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
need_deps=0
for h in /usr/include/pcap/pcap.h /usr/include/cmocka.h \
	/usr/include/net-snmp/net-snmp-config.h /usr/include/event2/event.h; do
	[ -e "$h" ] || need_deps=1
done
command -v cc >/dev/null || need_deps=1
if [ "$need_deps" -eq 1 ]; then
	echo "demo: installing missing dependencies (make deps)"
	tools/deps.sh
fi
make -s -j2 all >/dev/null
out=${DEMO_OUT:-build/demo}
meter_bin=${NTM_METER:-build/bin/ntm-meter}   # another meter build to try
trace=samples/campus-dns.pcap
rules=rulesets/dns-root.srl
speed=100
intervals=4          # the trace is 960 s long: boundaries 300, 600, 900, 1200
mkdir -p "$out"
rm -rf "$out/campus" "$out/reader.conf" "$out/meter.log" "$out/reader.log"

meter_pid= reader_pid=
cleanup() {
	[ -n "$reader_pid" ] && kill -9 "$reader_pid" 2>/dev/null
	[ -n "$meter_pid" ] && kill -9 "$meter_pid" 2>/dev/null
	return 0
}
trap cleanup EXIT

# a free UDP port on localhost, and a write community nobody can guess
wc=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
started=0
for try in 1 2 3 4 5; do
	port=$((20000 + ($$ * 7 + RANDOM) % 20000))
	if command -v ss >/dev/null && ss -Hlun "sport = :$port" | grep -q .; then continue; fi
	"$meter_bin" --replay "$trace" --speed $speed --snmp "127.0.0.1:$port" \
		--write-community "$wc" >"$out/meter.log" 2>&1 &
	meter_pid=$!
	sleep 0.5
	if kill -0 "$meter_pid" 2>/dev/null; then started=1; break; fi
	meter_pid=
done
if [ "$started" -ne 1 ]; then
	echo "demo: ntm-meter did not start:" >&2
	cat "$out/meter.log" >&2
	exit 1
fi
echo "demo: ntm-meter replays $trace at ${speed}x, Meter MIB on udp 127.0.0.1:$port (no ruleset yet)"

cat >"$out/reader.conf" <<EOF
# ntm-reader configuration written by make demo
interval 300
output $out
owner demo

meter campus
  address 127.0.0.1
  port $port
  write-community $wc
  rules $rules
EOF
build/bin/ntm-reader -c "$out/reader.conf" 2>"$out/reader.log" &
reader_pid=$!
echo "demo: ntm-reader downloads $rules and collects every 300 s of meter time"

dif=
for i in $(seq 400); do
	dif=$(ls "$out"/campus/*.dif 2>/dev/null | head -1 || true)
	if [ -n "$dif" ] && [ "$(grep -c '^#Enddata' "$dif")" -ge "$intervals" ]; then break; fi
	if ! kill -0 "$reader_pid" 2>/dev/null || ! kill -0 "$meter_pid" 2>/dev/null; then
		echo "demo: a program stopped early; logs:" >&2
		cat "$out/meter.log" "$out/reader.log" >&2
		exit 1
	fi
	sleep 0.1
done
kill -TERM "$reader_pid"
wait "$reader_pid" || { echo "demo: ntm-reader failed" >&2; cat "$out/reader.log" >&2; exit 1; }
reader_pid=
kill -TERM "$meter_pid"
wait "$meter_pid" || true
meter_pid=
if [ -z "$dif" ] || [ "$(grep -c '^#Enddata' "$dif")" -lt "$intervals" ]; then
	echo "demo: fewer than $intervals intervals collected; reader log:" >&2
	cat "$out/reader.log" >&2
	exit 1
fi
grep -E 'downloaded|registered|collected' "$out/reader.log" | cut -d' ' -f3- | sed 's/^/demo:   /'
echo
# flow = FlowClass/FlowKind/address: class 0 = root, 1 = gTLD; kind = letter
build/bin/ntm-dif summary "$dif" |
	awk 'NR == 1 { next }
	     { split($1, f, "/"); name = substr("abcdefghijklm", f[2], 1) (f[1] == 0 ? ".root" : ".gtld")
	       printf "%d %02d %-7s %-22s %9d %9d %7.2f %11.1f %11.1f\n", f[1], f[2], name, $2, $4, $5, $7, $9 / 1000, $11 / 1000 }' |
	sort -k1,1n -k2,2n -k4,4 | cut -c6- |
	{ printf "%-7s %-22s %9s %9s %7s %11s %11s\n" server address requests answered "lost%" median_ms p90_ms; cat; }
echo
echo "demo: flow data file:  $dif"
echo "demo: logs:            $out/reader.log $out/meter.log"
echo "demo: plot it:         build/bin/ntm-dif plot $dif -o $out/rtt.html"
