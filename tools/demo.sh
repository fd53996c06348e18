#!/usr/bin/env bash
# make demo — the main job on the bundled sample: meter the sample campus DNS
# trace with the root/gTLD ruleset, write the flow data file, print the
# per-server table an RTT analyst looks at first.
set -euo pipefail
cd "$(dirname "$0")/.."
need_deps=0
for h in /usr/include/pcap/pcap.h /usr/include/cmocka.h; do [ -e "$h" ] || need_deps=1; done
command -v cc >/dev/null || need_deps=1
if [ "$need_deps" -eq 1 ]; then
	echo "demo: installing missing dependencies (make deps)"
	tools/deps.sh
fi
make -s -j2 all >/dev/null
out=${DEMO_OUT:-build/demo}
mkdir -p "$out"
trace=samples/campus-dns.pcap
rules=rulesets/dns-root.srl
echo "demo: ruleset $rules compiles to $(build/bin/srlc "$rules" 2>/dev/null | grep -c ':.*;') rules"
echo "demo: metering $trace (trace time drives 5-minute intervals)"
build/bin/ntm-meter --read "$trace" -r "$rules" -o "$out/campus-dns.dif" \
	--samples "$out/campus-dns-rtt.csv" --stats 2>"$out/meter.log"
grep -E '^(packets|dns)' "$out/meter.log" | sed 's/^/demo:   /'
echo
# flow = FlowClass/FlowKind/address: class 0 = root, 1 = gTLD; kind = letter
build/bin/ntm-dif summary "$out/campus-dns.dif" |
	awk 'NR == 1 { next }
	     { split($1, f, "/"); name = substr("abcdefghijklm", f[2], 1) (f[1] == 0 ? ".root" : ".gtld")
	       printf "%d %02d %-7s %-22s %9d %9d %7.2f %11.1f %11.1f\n", f[1], f[2], name, $2, $4, $5, $7, $9 / 1000, $11 / 1000 }' |
	sort -k1,1n -k2,2n -k4,4 | cut -c6- |
	{ printf "%-7s %-22s %9s %9s %7s %11s %11s\n" server address requests answered "lost%" median_ms p90_ms; cat; }
echo
echo "demo: flow data file:  $out/campus-dns.dif"
echo "demo: RTT samples:     $out/campus-dns-rtt.csv"
echo "demo: plot it:         build/bin/ntm-dif plot $out/campus-dns.dif -o $out/rtt.html"
