#!/usr/bin/env bash
# reader.sh — ntm-reader against a replaying ntm-meter gives, interval by
# interval, the flow records `ntm-meter --read` writes offline for the same
# trace and ruleset; with two meters in one config, the one that answers is
# collected while the other is retried (logged, no crash), and that one is
# collected once it comes up; a bad config is refused line by line; an
# SNMPv3 authPriv user (SHA/AES) downloads and collects.
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

# --- two meters in one reader (config file): one up, one not answering ---
# The meter that is up is collected while the other is retried (logged,
# no crash); once the second comes up it is set up and collected too.
printf 'interval 300\nmeter x\nbad-key 1\nport 0\n' >"$tmp/bad.conf"
"$NTM_BIN/ntm-reader" -c "$tmp/bad.conf" 2>"$tmp/bad.err"
rc=$?
[ $rc -eq 2 ] && grep -q "^$tmp/bad.conf:3: error: unknown keyword 'bad-key'" "$tmp/bad.err" &&
	grep -q "^$tmp/bad.conf:4: error: port must be" "$tmp/bad.err"
tap $? "a bad config file: exit 2, every bad line as FILE:LINE: error: ... (rc $rc)"

start_meter "$tmp/t.pcap" 60 "$wc" "$tmp/meter-up.log"
tap $? "a second run of the meter on port $port"
up_port=$port up_pid=$meter_pid other_pids=$meter_pid
pick_port
down_port=$port
cat >"$tmp/two.conf" <<EOF
interval 300
output $tmp/out2
rules $root/rulesets/dns-root.srl
write-community $wc
timeout-ms 300
retries 1
meter up
  address 127.0.0.1
  port $up_port
meter down
  address 127.0.0.1
  port $down_port
EOF
"$NTM_BIN/ntm-reader" -c "$tmp/two.conf" 2>"$tmp/reader2.log" &
reader_pid=$!
wait_intervals "$tmp/out2/up/2023-11-14.dif" 2 40
tap $? "the meter that answers is collected (2 intervals) while the other does not answer"
kill -0 $reader_pid 2>/dev/null
tap $? "the reader keeps running"
retries=$(grep -c "down: .*no response from 127.0.0.1:$down_port (timeout)" "$tmp/reader2.log")
grep -q 'down: retrying setup in' "$tmp/reader2.log" && [ "$retries" -ge 2 ]
tap $? "timeouts and retries of the silent meter are logged ($retries timeouts)"
start_meter "$tmp/t.pcap" 60 "$wc" "$tmp/meter-down.log" "$down_port"
down_pid=$meter_pid
wait_intervals "$tmp/out2/down/2023-11-14.dif" 1 40
tap $? "the meter started later is set up and collected ($(grep -c '^#Enddata' "$tmp/out2/down/2023-11-14.dif" 2>/dev/null) intervals)"
kill -TERM $reader_pid
wait $reader_pid
tap $? "the reader exits 0"
reader_pid=
kill -TERM $up_pid $down_pid 2>/dev/null
wait $up_pid $down_pid 2>/dev/null
meter_pid=

# --- SNMPv3: a USM user with SHA/AES (authPriv) downloads and collects ---
cat >"$tmp/agent-v3.conf" <<EOF
createUser ntmmgr SHA "mgr-auth-key1" AES "mgr-priv-key1"
rwuser ntmmgr authpriv
EOF
pick_port
"$NTM_BIN/ntm-meter" --replay "$tmp/t.pcap" --speed 60 --snmp "127.0.0.1:$port" \
	--community "" --snmp-config "$tmp/agent-v3.conf" >"$tmp/meter-v3.log" 2>&1 &
meter_pid=$!
sleep 1
cat >"$tmp/v3.conf" <<EOF
output $tmp/out3
rules $root/rulesets/dns-root.srl
meter v3
  address 127.0.0.1
  port $port
  user ntmmgr
  auth-protocol SHA
  auth-password mgr-auth-key1
  priv-protocol AES
  priv-password mgr-priv-key1
EOF
"$NTM_BIN/ntm-reader" -c "$tmp/v3.conf" --once 2>"$tmp/reader3.log"
rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^#Enddata' "$tmp/out3/v3/2023-11-14.dif" 2>/dev/null)" -eq 1 ] &&
	grep -q 'v3: downloaded dns-root.srl' "$tmp/reader3.log"
tap $? "an SNMPv3 authPriv user (SHA/AES) downloads and collects once (rc $rc)"
[ $rc -eq 0 ] || sed 's/^/# v3: /' "$tmp/reader3.log" | head -5
stop_meter
[ "$failures" -eq 0 ]
