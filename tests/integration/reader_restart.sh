#!/usr/bin/env bash
# reader_restart.sh — restarts on either side of the SNMP link:
#   * kill -9 of the reader after its first interval, then a new reader:
#     it reuses its rows on the meter and continues from its state file;
#     every interval is in the file exactly once (each starts where the
#     previous ended) and the records equal offline's;
#   * the meter killed and started again: the reader logs the restart,
#     downloads its ruleset again, registers again, notes the restart in
#     the file (#Restart:) and collects again;
#   * both killed, the meter started again, then the reader: the restart
#     it missed is noted too (a replay of the same trace keeps its start
#     time, but our rows are gone).
# The trace is quiet around the interval boundaries (see reader.sh).
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init reader-restart
. "$(dirname "$0")/reader/lib.sh"

start=1700000100
make_quiet_trace "$tmp/t.pcap" $start
tap $? "generated the trace"
"$NTM_BIN/ntm-meter" --read "$tmp/t.pcap" -r "$root/rulesets/dns-root.srl" \
	-o "$tmp/offline.dif" -q 2>"$tmp/offline.err"
tap $? "offline ntm-meter --read runs"

wc=w$RANDOM$RANDOM
start_meter "$tmp/t.pcap" 60 "$wc" "$tmp/meter.log"
tap $? "ntm-meter replays the trace on port $port"

run_reader() {
	"$NTM_BIN/ntm-reader" -i 300 -r "$root/rulesets/dns-root.srl" "127.0.0.1:$port" \
		-o "$tmp/out" --write-community "$wc" 2>>"$tmp/reader.log" &
	reader_pid=$!
}
dif="$tmp/out/127.0.0.1_$port/2023-11-14.dif"
run_reader
wait_intervals "$dif" 1 30
tap $? "the first reader wrote its first interval"
sleep 0.5
kill -9 $reader_pid
wait $reader_pid 2>/dev/null
reader_pid=
sleep 0.5
run_reader
wait_intervals "$dif" 4 60
tap $? "the second reader carried on to 4 intervals"
grep -q 'state: continuing from uptime' "$tmp/reader.log" &&
	[ "$(grep -c 'downloaded dns-root.srl' "$tmp/reader.log")" -eq 1 ] &&
	grep -q 'reused' "$tmp/reader.log"
tap $? "the second reader reused the ruleset and rows and continued from its state"

# each interval starts where the previous one ended: none lost, none twice
chain=$(awk '/^#Time:/ { if (n++ && $(NF - 2) != prev) bad++; prev = $NF } END { print n + 0, bad + 0 }' "$dif")
set -- $chain
[ "$1" -ge 4 ] && [ "$2" -eq 0 ]
tap $? "intervals chain without gap or repeat ($1 intervals, $2 breaks)"
compare_intervals "$tmp/offline.dif" "$dif" 4 >"$tmp/cmp.txt"
tap $? "the records of the 4 intervals equal offline's ($(tr '\n' ' ' <"$tmp/cmp.txt"))"

# --- the meter restarts under the reader ---
before=$(grep -c '^#Enddata' "$dif")
kill -9 "$meter_pid"
wait "$meter_pid" 2>/dev/null
meter_pid=
sleep 1
start_meter "$tmp/t.pcap" 60 "$wc" "$tmp/meter2.log" "$port"
tap $? "the meter is started again on the same port"
ok=1
for i in $(seq 300); do
	if grep -q '^#Restart:' "$dif" &&
		[ "$(awk '/^#Restart:/ { r = 1 } r && /^#Enddata/ { n++ } END { print n + 0 }' "$dif")" -ge 1 ]; then
		ok=0
		break
	fi
	sleep 0.1
done
tap $ok "the file notes the restart and holds a collection after it"
grep -q 'meter restart:' "$tmp/reader.log" &&
	[ "$(grep -c 'downloaded dns-root.srl' "$tmp/reader.log")" -eq 2 ] &&
	[ "$(grep -c 'registered as reader' "$tmp/reader.log")" -ge 2 ]
tap $? "the reader logged the restart, downloaded and registered again"
after=$(awk '/^#Restart:/ { r = 1 } r && !/^#/ { n++ } END { print n + 0 }' "$dif")
[ "$after" -gt 0 ]
tap $? "flows are collected after the restart ($after records; $before intervals before)"
"$NTM_BIN/ntm-dif" csv "$dif" >/dev/null 2>"$tmp/dif.err"
tap $? "ntm-dif reads the file with the #Restart: record"
# --- the meter restarts while the reader is down ---
kill -9 $reader_pid
wait $reader_pid 2>/dev/null
reader_pid=
kill -9 "$meter_pid"
wait "$meter_pid" 2>/dev/null
meter_pid=
start_meter "$tmp/t.pcap" 60 "$wc" "$tmp/meter3.log" "$port"
tap $? "reader and meter killed; the meter started again"
run_reader
ok=1
for i in $(seq 300); do
	if [ "$(grep -c '^#Restart:' "$dif")" -ge 2 ] &&
		[ "$(awk '/^#Restart:/ { r++ } r == 2 && /^#Enddata/ { n++ } END { print n + 0 }' "$dif")" -ge 1 ]; then
		ok=0
		break
	fi
	sleep 0.1
done
tap $ok "the new reader notes the restart it missed and collects after it"
grep -q 'meter restart: our ruleset or reader row was gone' "$tmp/reader.log"
tap $? "and logs it"

kill -TERM $reader_pid
wait $reader_pid
tap $? "the reader exits 0 on SIGTERM"
reader_pid=
grep -E 'restart|retry|timeout|reused|continuing' "$tmp/reader.log" | head -10 | sed 's/^/# /'
stop_meter
[ "$failures" -eq 0 ]
