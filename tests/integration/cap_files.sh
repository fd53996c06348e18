#!/usr/bin/env bash
# cap_files.sh -- the pcap and pcapng readers against Wireshark's own
# writers and reader: editcap -F pcapng / nsecpcap of a generated trace
# reads back packet for packet like the original; a mergecap of an
# Ethernet µs trace and a raw-IP ns trace is a pcapng with two interfaces
# of different link types, and capdump's interface number (IDB index + 1),
# link type, timestamps to the ns and lengths equal tshark's.
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
gen="$NTM_BIN/gen_trace"
dump="$NTM_BIN/capdump"
. "$(dirname "$0")/../tap.sh"
tap_init cap-files

diff_ok() {
	if diff "$1" "$2" >"$tmp/diff.out"; then return 0; fi
	sed -n '1,10s/^/# /p' "$tmp/diff.out"
	return 1
}
quiet() { "$@" 2>&1 | grep -v '^Running as user' ; return "${PIPESTATUS[0]}"; }

for t in editcap mergecap tshark; do
	if ! command -v "$t" >/dev/null; then
		echo "not ok 1 - $t is not installed (tools/deps.sh)"
		exit 1
	fi
done

"$gen" -o "$tmp/us.pcap" --seed 21 --duration 15 --rate 30 --background 1 2>/dev/null
"$gen" -o "$tmp/ns.pcap" --ns --snaplen 96 --seed 22 --duration 15 --rate 30 2>/dev/null
"$dump" "$tmp/us.pcap" >"$tmp/us.dump"
tap $? "capdump reads the generated pcap"

quiet editcap -F pcapng "$tmp/us.pcap" "$tmp/us.pcapng" &&
	"$dump" "$tmp/us.pcapng" >"$tmp/us.pcapng.dump" &&
	diff_ok "$tmp/us.dump" "$tmp/us.pcapng.dump"
tap $? "editcap -F pcapng: the same $(wc -l <"$tmp/us.dump") packets as the pcap"

quiet editcap -F nsecpcap "$tmp/us.pcap" "$tmp/us-ns.pcap" &&
	[ "$(od -An -tx1 -N4 "$tmp/us-ns.pcap" | tr -d ' ')" = "4d3cb2a1" ] &&
	"$dump" "$tmp/us-ns.pcap" >"$tmp/us-ns.dump" &&
	diff_ok "$tmp/us.dump" "$tmp/us-ns.dump"
tap $? "editcap -F nsecpcap: the same packets read from the ns magic"

# raw IP from the ns trace: strip the 14-byte Ethernet header (frames
# with VLAN tags become odd IP packets, which is fine: they are only
# packets here), then merge with the µs Ethernet trace
quiet editcap -T rawip -C 14 "$tmp/ns.pcap" "$tmp/raw.pcap" &&
	quiet mergecap -w "$tmp/two.pcapng" "$tmp/us.pcap" "$tmp/raw.pcap"
tap $? "mergecap writes a pcapng with two interfaces"
"$dump" "$tmp/two.pcapng" | cut -d' ' -f1-5 >"$tmp/two.dump"
tshark -r "$tmp/two.pcapng" -T fields -e frame.time_epoch -e frame.cap_len \
	-e frame.len -e frame.interface_id -e frame.encap_type 2>/dev/null |
	awk '{ split($1, a, "."); link = $5 == 1 ? 1 : $5 == 7 ? 101 : "encap" $5
	       print a[1] substr(a[2] "000000000", 1, 9), $2, $3, $4 + 1, link }' >"$tmp/two.tshark"
diff_ok "$tmp/two.tshark" "$tmp/two.dump"
tap $? "two-interface pcapng: ts_ns, lengths, interface and link type equal tshark's ($(wc -l <"$tmp/two.dump") packets)"
awk '{ print $4, $5 }' "$tmp/two.dump" | sort -u | tr '\n' ' ' | grep -qx '1 1 2 101 '
tap $? "interfaces 1 (Ethernet) and 2 (raw IP) both present"
grep -q ' 2 101$' "$tmp/two.dump" && awk '$4 == 2 && substr($1, length($1) - 2) != "417" { bad++ } END { exit bad > 0 }' "$tmp/two.dump"
tap $? "the ns interface keeps its sub-µs digits"

# A trace cut short by another process while ntm-meter maps it (drivers/cap.c
# reads regular files through mapped windows): the run is stopped as soon as
# the file is mapped, the file truncated to 30 MB, the run continued.  It must
# end with exit status 1 and an error naming the trace (not die of SIGBUS),
# and write the .dif of the intervals before the cut, whole, with one worker
# and with two (a worker's copy of a packet touches the mapping too).
"$gen" -o "$tmp/cut.src.pcap" --seed 23 --duration 20 --rate 10000 --background 4 --snaplen 96 2>/dev/null
for w in 1 2; do
	cp "$tmp/cut.src.pcap" "$tmp/cut.pcap"
	rm -f "$tmp/cut.dif"
	"$NTM_BIN/ntm-meter" --read "$tmp/cut.pcap" -r "$NTM_ROOT/rulesets/dns-root.srl" \
		-o "$tmp/cut.dif" --interval 1 --workers "$w" -q 2>"$tmp/cut.err" &
	pid=$!
	until grep -q 'cut\.pcap' "/proc/$pid/maps" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do
		:
	done
	kill -STOP "$pid" 2>/dev/null
	truncate -s 30000000 "$tmp/cut.pcap"
	kill -CONT "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	ivs=$(grep -c '^#Enddata' "$tmp/cut.dif" 2>/dev/null)
	sed 's/^/# /' "$tmp/cut.err"
	[ "$rc" -eq 1 ] && grep -q 'cut\.pcap: the file was cut short' "$tmp/cut.err" &&
		[ "${ivs:-0}" -ge 1 ] && [ ! -e "$tmp/cut.dif.partial" ] &&
		"$NTM_BIN/ntm-dif" csv "$tmp/cut.dif" -o "$tmp/cut.csv"
	tap $? "--workers $w: a trace cut to 30 MB while mapped ends with status 1 (was $rc) and an error naming it; its ${ivs:-0} intervals before the cut are written whole"
done

echo "1..$n"
[ "$failures" -eq 0 ]
