#!/usr/bin/env bash
# reader.sh — ntm-reader against a replaying ntm-meter gives, interval by
# interval, the flow records `ntm-meter --read` writes offline for the same
# trace and ruleset; an unreachable meter is retried (logged, no crash) and
# collected once it comes up.
#
# The trace is quiet for 30 s of trace time on each side of every 300 s
# boundary: a collection over SNMP happens when the replay clock passes
# the boundary, a few ms of wall time (a fraction of a second of trace time
# at speed 60) later, so it cannot cut at the exact nanosecond offline
# mode cuts at.  With no packet near the cut, both cut between the same
# packets.
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init reader
. "$(dirname "$0")/reader/lib.sh"

start=1700000100   # a multiple of 300: boundaries at start + 300 k
make_quiet_trace "$tmp/t.pcap" $start
tap $? "generated a 20-minute trace, quiet 30 s around each 300 s boundary"

"$NTM_BIN/ntm-meter" --read "$tmp/t.pcap" -r "$root/rulesets/dns-root.srl" \
	-o "$tmp/offline.dif" -q 2>"$tmp/offline.err"
tap $? "offline ntm-meter --read runs"

wc=w$RANDOM$RANDOM
start_meter "$tmp/t.pcap" 60 "$wc" "$tmp/meter.log"
tap $? "ntm-meter replays the trace at 60x with its agent on port $port (no -r)"

"$NTM_BIN/ntm-reader" -i 300 -r "$root/rulesets/dns-root.srl" "127.0.0.1:$port" \
	-o "$tmp/out" --write-community "$wc" --owner reader-test 2>"$tmp/reader.log" &
reader_pid=$!
dif="$tmp/out/127.0.0.1_$port/2023-11-14.dif"
wait_intervals "$dif" 4 60
tap $? "the reader wrote 4 intervals ($(grep -c '^#Enddata' "$dif" 2>/dev/null) in $dif)"
kill -TERM $reader_pid
wait $reader_pid
tap $? "the reader exits 0 on SIGTERM"
sed 's/^/# reader: /' "$tmp/reader.log" | head -12

grep -q 'downloaded dns-root.srl#[0-9a-f]\{16\} (.* rules) as ruleset' "$tmp/reader.log" &&
	grep -q 'registered as reader' "$tmp/reader.log"
tap $? "the reader downloaded the ruleset by SNMP and registered"

compare_intervals "$tmp/offline.dif" "$dif" 4 >"$tmp/cmp.txt"
tap $? "the flow records of each of the 4 intervals equal offline's ($(tr '\n' ' ' <"$tmp/cmp.txt"))"

"$NTM_BIN/ntm-dif" csv "$dif" >/dev/null 2>"$tmp/dif.err"
tap $? "ntm-dif reads the reader's file without errors"
stop_meter

# --- an unreachable meter: retried, then collected once it is up ---
pick_port
"$NTM_BIN/ntm-reader" -i 300 -r "$root/rulesets/dns-root.srl" "127.0.0.1:$port" \
	-o "$tmp/out2" --write-community "$wc" 2>"$tmp/reader2.log" &
reader_pid=$!
sleep 4
kill -0 $reader_pid 2>/dev/null
tap $? "the reader keeps running while nothing answers"
retries=$(grep -c 'no response from 127.0.0.1:'"$port"' (timeout)' "$tmp/reader2.log")
grep -q 'retrying setup in' "$tmp/reader2.log" && [ "$retries" -ge 1 ]
tap $? "timeouts and retries are logged ($retries timeouts)"
start_meter "$tmp/t.pcap" 60 "$wc" "$tmp/meter2.log" "$port"
dif2="$tmp/out2/127.0.0.1_$port/2023-11-14.dif"
wait_intervals "$dif2" 1 40
tap $? "the meter started later is set up and collected ($(grep -c '^#Enddata' "$dif2" 2>/dev/null) intervals)"
kill -TERM $reader_pid
wait $reader_pid
tap $? "the reader exits 0"
stop_meter
[ "$failures" -eq 0 ]
