#!/usr/bin/env bash
# meter_live.sh — ntm-meter's live mode: the replay clock, the loop with its
# SNMP agent, stopping, start-up errors, and capture from an interface.
#
#  * --replay TRACE --speed N meters a trace of D seconds in about D/N wall
#    seconds.  The bound is deliberately generous (0.7·D/N .. D/N + 3 s): it
#    catches a wrong clock (a factor of N, a clock that stalls or never waits),
#    not performance — a loaded test machine must not make it fail.
#  * After the replay the clock keeps running: ntmMeterUptime >= D·100 cs,
#    ntmMeterStartNs = the first packet's timestamp, ntmMeterPackets = every
#    packet, ntmMeterSpeed = N.
#  * SIGTERM: exit 0 within a second.  Port in use, a bad rules file, a
#    missing trace or interface: exit 1 with one clear message.
#  * Without -r the replay holds at the first packet (ntmMeterPackets and
#    ntmMeterUptime stay 0) — the download by snmpset that releases it is
#    tested in snmpset_download.sh.
#  * --speed max meters the same packets as --read; several --replay traces
#    run one after another.
#  * -i lo --driver pcap sees what tcpreplay sends on lo (skipped when
#    tcpreplay cannot send there).
#
# Run from the repository root with NTM_BIN set (make check).
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
meter="$NTM_BIN/ntm-meter"
gen="$NTM_BIN/gen_trace"
capdump="$NTM_BIN/capdump"
rules="$root/rulesets/dns-all.srl"
. "$(dirname "$0")/../tap.sh"
tap_init meter-live

NTM=1.3.6.1.4.1.8072.9999.9999.40.1   # ntmMeter scalars (common/mib.h)
UPTIME=$NTM.3.0 TIME_NS=$NTM.4.0 START_NS=$NTM.5.0 SPEED=$NTM.6.0 PACKETS=$NTM.7.0

mpid=
trap '[ -n "$mpid" ] && kill "$mpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

show() { sed 's/^/#   /' "$1" | head -20; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# get OID: the value of one scalar (numbers only)
get() {
	snmpget -v2c -c public -On -Oqvt -t 1 -r 1 "127.0.0.1:$port" "$1" 2>/dev/null
}

# start_meter ARGS...: ntm-meter ARGS --snmp 127.0.0.1:$port in the
# background (mpid, port, $tmp/meter.err), once its agent answers; a port
# someone else holds is retried with another.
start_meter() {
	local try
	for try in 1 2 3 4 5 6; do
		port=$((20000 + ($$ + try * 7919) % 20000))
		"$meter" "$@" --snmp "127.0.0.1:$port" >"$tmp/meter.out" 2>"$tmp/meter.err" &
		mpid=$!
		for _ in $(seq 40); do
			if snmpget -v2c -c public -On -t 0.2 -r 0 "127.0.0.1:$port" "$UPTIME" \
				>/dev/null 2>&1; then
				return 0
			fi
			kill -0 "$mpid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$mpid" 2>/dev/null
		wait "$mpid" 2>/dev/null
		mpid=
		grep -q "cannot listen\|in use" "$tmp/meter.err" || return 1
	done
	return 1
}

# stop_meter: SIGTERM; sets stop_rc and stop_ms
stop_meter() {
	local t0
	t0=$(now_ms)
	kill -TERM "$mpid"
	wait "$mpid"
	stop_rc=$?
	stop_ms=$(( $(now_ms) - t0 ))
	mpid=
}

# ---- a trace of known duration ----------------------------------------------
"$gen" -o "$tmp/t.pcap" --duration 20 --rate 40 --seed 7 >/dev/null 2>&1
tap $? "generated a 20 s trace"
"$capdump" "$tmp/t.pcap" >"$tmp/t.dump" 2>/dev/null
npk=$(wc -l <"$tmp/t.dump")
first_ns=$(head -1 "$tmp/t.dump" | cut -d' ' -f1)
last_ns=$(tail -1 "$tmp/t.dump" | cut -d' ' -f1)
D_ms=$(( (last_ns - first_ns) / 1000000 ))
echo "# trace: $npk packets over $D_ms ms"

# ---- --speed N: D/N wall seconds, then the clock runs on ----------------------
N=10
t0=$(now_ms)
start_meter -r "$rules" --replay "$tmp/t.pcap" --speed $N
r=$?
[ $r -eq 0 ] || show "$tmp/meter.err"
tap $r "ntm-meter -r RULES --replay --speed $N --snmp 127.0.0.1:$port answers"
[ $r -eq 0 ] || exit 1
for _ in $(seq 400); do
	grep -q "end of replay" "$tmp/meter.err" && break
	sleep 0.05
done
t_ms=$(( $(now_ms) - t0 ))
lo=$(( D_ms * 7 / 10 / N )) hi=$(( D_ms / N + 3000 ))
[ "$t_ms" -ge "$lo" ] && [ "$t_ms" -le "$hi" ]
tap $? "the trace ($D_ms ms) replays at ${N}x in $t_ms ms (expected $lo..$hi)"

sleep 0.5
up=$(get $UPTIME) pk=$(get $PACKETS) st=$(get $START_NS) sp=$(get $SPEED) tn=$(get $TIME_NS)
[ -n "$up" ] && [ "$up" -ge $(( D_ms / 10 )) ]
tap $? "ntmMeterUptime after the replay ($up cs) >= trace duration ($(( D_ms / 10 )) cs)"
[ "$pk" = "$npk" ]
tap $? "ntmMeterPackets = every packet of the trace ($pk of $npk)"
[ "$st" = "$first_ns" ] && [ "$sp" = "$N" ]
tap $? "ntmMeterStartNs = first packet ($st), ntmMeterSpeed = $N ($sp)"
# uptime and meter time agree, and the clock still runs at N x
sleep 1
up2=$(get $UPTIME)
[ -n "$tn" ] && [ $(( (tn - first_ns) / 10000000 - up )) -le $(( N * 100 )) ] &&
	[ $(( up2 - up )) -ge $(( N * 100 / 2 )) ]
tap $? "the clock keeps running at ${N}x after the trace ($up -> $up2 cs in about 1 s)"

stop_meter
[ "$stop_rc" -eq 0 ] && [ "$stop_ms" -le 1000 ]
tap $? "SIGTERM: exit $stop_rc in $stop_ms ms"

# ---- start-up errors ----------------------------------------------------------
start_meter -r "$rules" --replay "$tmp/t.pcap" --speed 1
r=$?
tap $r "a meter holds 127.0.0.1:$port"
"$meter" -r "$rules" --replay "$tmp/t.pcap" --snmp "127.0.0.1:$port" >/dev/null 2>"$tmp/busy.err"
r=$?
[ $r -eq 1 ] && [ "$(wc -l <"$tmp/busy.err")" -eq 1 ] && grep -q "127.0.0.1:$port" "$tmp/busy.err"
tap $? "a second meter on the same port: exit $r, one line naming the address"
show "$tmp/busy.err"
stop_meter

printf 'SET 5\nIF SourcePeerType == IPv4 SAVE\n  COUNT;\n' >"$tmp/bad.srl"
"$meter" -r "$tmp/bad.srl" --replay "$tmp/t.pcap" --snmp 127.0.0.1:1 >/dev/null 2>"$tmp/bad.err"
r=$?
[ $r -eq 1 ] && grep -Eq "^ntm-meter: $tmp/bad.srl:[0-9]+:[0-9]+: " "$tmp/bad.err"
tap $? "a bad rules file: exit $r with FILE:LINE:COL"
show "$tmp/bad.err"

"$meter" --replay "$tmp/missing.pcap" --snmp 127.0.0.1:1 >/dev/null 2>"$tmp/miss.err"
r=$?
[ $r -eq 1 ] && grep -q "missing.pcap" "$tmp/miss.err"
tap $? "a missing trace: exit $r naming it"

"$meter" -i ntm-no-such-if0 --snmp 127.0.0.1:1 >/dev/null 2>"$tmp/noif.err"
r=$?
[ $r -eq 1 ] && grep -q "ntm-no-such-if0" "$tmp/noif.err"
tap $? "a missing interface: exit $r naming it"

# live DAG capture needs Endace's library, which this build cannot have
"$meter" -i dag0 --driver dag --snmp 127.0.0.1:1 >/dev/null 2>"$tmp/dag.err"
r=$?
[ $r -eq 1 ] && grep -q "Endace's DAG library" "$tmp/dag.err" && grep -q -- "--read" "$tmp/dag.err"
tap $? "--driver dag: exit $r naming the missing Endace library and the ERF file path"

bad=0
for args in "--replay $tmp/t.pcap --speed 0" "--replay $tmp/t.pcap --snmp nonsense" \
	"--replay $tmp/t.pcap -i lo" "--read $tmp/t.pcap -r $rules -o $tmp/x.dif --speed 2" \
	"-r $rules" "--replay $tmp/t.pcap --snmp ::1:161"; do
	# shellcheck disable=SC2086
	timeout 10 "$meter" $args >/dev/null 2>"$tmp/opt.err"
	r=$?
	if [ $r -ne 1 ] || [ ! -s "$tmp/opt.err" ]; then
		echo "# '$args': exit $r"
		bad=1
	fi
done
tap $bad "bad option combinations and values: exit 1 with a message"

# ---- without -r: hold at the first packet -------------------------------------
start_meter --replay "$tmp/t.pcap" --speed max --duration 4 --stats
r=$?
sleep 1
h1=$(get $PACKETS) u1=$(get $UPTIME) s1=$(get $START_NS)
sleep 1
h2=$(get $PACKETS) u2=$(get $UPTIME)
wait "$mpid"
rc=$?
mpid=
[ $r -eq 0 ] && [ "$h1" = 0 ] && [ "$h2" = 0 ] && [ "$u1" = 0 ] && [ "$u2" = 0 ] &&
	[ "$s1" = "$first_ns" ]
tap $? "no -r: the replay holds at the first packet (packets $h1, $h2; uptime $u1, $u2 cs)"
[ $rc -eq 0 ] && grep -q "^packets 0 " "$tmp/meter.err"
tap $? "--duration 4 ends the held run: exit $rc, --stats says packets 0"

# ---- --user: no packet is metered as root ------------------------------------
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	nobody_uid=$(id -u nobody)
	start_meter -r "$rules" --replay "$tmp/t.pcap" --speed 10 --user nobody --duration 3 --stats
	r=$?
	uid=$(awk '/^Uid:/ { print $2 "/" $3 "/" $4 }' "/proc/$mpid/status" 2>/dev/null)
	p1=$(get $PACKETS)
	wait "$mpid"
	rc=$?
	mpid=
	[ $r -eq 0 ] && [ "$uid" = "$nobody_uid/$nobody_uid/$nobody_uid" ] && [ "${p1:-0}" -gt 0 ] &&
		[ $rc -eq 0 ]
	tap $? "--user nobody: real/effective/saved uid $uid (nobody is $nobody_uid) while metering ($p1 packets), exit $rc"
else
	echo "ok $((n += 1)) # SKIP --user needs root and a user nobody"
fi
"$meter" -r "$rules" --replay "$tmp/t.pcap" --user ntm-no-such-user --snmp 127.0.0.1:1 \
	>/dev/null 2>"$tmp/user.err"
r=$?
[ $r -eq 1 ] && grep -q "ntm-no-such-user" "$tmp/user.err"
tap $? "--user with an unknown user: exit $r naming it"

# ---- --speed max = offline; several traces in turn -----------------------------
"$meter" --read "$tmp/t.pcap" -r "$rules" -o "$tmp/off.dif" -q --stats 2>"$tmp/off.stats"
"$gen" -o "$tmp/t2.pcap" --duration 5 --rate 40 --seed 8 --start 1700000100 >/dev/null 2>&1
n2=$("$capdump" "$tmp/t2.pcap" 2>/dev/null | wc -l)
start_meter -r "$rules" --replay "$tmp/t.pcap" --speed max --idle-exit 1 --stats -q
r=$?
wait "$mpid"
rc=$?
mpid=
grep -E "^(packets|counted|flows|ruleset|dns) " "$tmp/off.stats" | sed 's/ uptime_cs [0-9]*//; s/ intervals [0-9]*//' >"$tmp/off.cmp"
grep -E "^(packets|counted|flows|ruleset|dns) " "$tmp/meter.err" | sed 's/ uptime_cs [0-9]*//' >"$tmp/live.cmp"
[ $r -eq 0 ] && [ $rc -eq 0 ] && [ -s "$tmp/off.cmp" ] && cmp -s "$tmp/off.cmp" "$tmp/live.cmp"
tap $? "--speed max --idle-exit 1: exit $rc, the same packet, flow and DNS counts as --read"
[ -s "$tmp/off.cmp" ] && ! cmp -s "$tmp/off.cmp" "$tmp/live.cmp" && diff "$tmp/off.cmp" "$tmp/live.cmp" | sed 's/^/#   /'

start_meter -r "$rules" --replay "$tmp/t.pcap" --replay "$tmp/t2.pcap" --speed max \
	--idle-exit 1 --stats -q
r=$?
wait "$mpid"
rc=$?
mpid=
[ $r -eq 0 ] && [ $rc -eq 0 ] && grep -q "^packets $((npk + n2)) " "$tmp/meter.err"
tap $? "two --replay traces in turn: $((npk + n2)) packets ($(grep '^packets' "$tmp/meter.err"))"

# ---- a live run writing its own .dif and samples --------------------------------
# A 12-minute trace starting on a 5-minute boundary: three intervals on the
# meter clock.  At --speed max the replay meters packet by packet in trace
# order, so its intervals are cut where offline mode cuts them: the flow
# records and every RTT sample must be equal.
"$gen" -o "$tmp/t3.pcap" --duration 700 --rate 20 --background 2 --seed 3 \
	--start 1700000100 >/dev/null 2>&1
"$meter" --read "$tmp/t3.pcap" -r "$rules" -o "$tmp/off3.dif" --samples "$tmp/off3.csv" -q
start_meter -r "$rules" --replay "$tmp/t3.pcap" --speed max --idle-exit 1 -q \
	-o "$tmp/live3.dif" --samples "$tmp/live3.csv"
r=$?
wait "$mpid"
rc=$?
mpid=
ivs=$(grep -c '^#Time' "$tmp/live3.dif" 2>/dev/null)
[ $r -eq 0 ] && [ $rc -eq 0 ] && [ "$ivs" -ge 3 ] &&
	[ "$(grep -c '^#Time' "$tmp/off3.dif")" = "$ivs" ] &&
	cmp -s <(grep -v '^#' "$tmp/off3.dif") <(grep -v '^#' "$tmp/live3.dif") &&
	[ ! -e "$tmp/live3.dif.partial" ]
tap $? "-o with --replay: $ivs intervals on the meter clock, flow records equal --read's"
[ -s "$tmp/off3.csv" ] && cmp -s "$tmp/off3.csv" "$tmp/live3.csv"
tap $? "--samples with --replay: every RTT sample equals --read's ($(($(wc -l <"$tmp/off3.csv") - 1)) samples)"

# ---- -i lo: what tcpreplay sends ----------------------------------------------
# gen_trace's frames all pass its router's MAC: other traffic on lo (other
# tests' agents) stays out, so lo is idle before and after the replay
filter="ether host 02:00:5e:10:00:01"
lo_run() {   # $1 driver
	local drv=$1 r rc sent got drops lp gone
	start_meter -r "$rules" -i lo --driver "$drv" --filter "$filter" --idle-exit 2 --stats -q
	r=$?
	if [ $r -ne 0 ]; then
		kill -9 "$mpid" 2>/dev/null
		wait "$mpid" 2>/dev/null
		mpid=
		show "$tmp/meter.err"
		# a driver whose cap_next_batch() blocks while nothing arrives
		# starves the loop (libpcap's TPACKET poll ignores pcap's timeout
		# on Linux: cap_pcap.c needs pcap_setnonblock + its own poll)
		tap 1 "-i lo --driver $drv: the agent answers while lo is idle (cap_next_batch must return 0 after timeout_ms)"
		return
	fi
	tcpreplay -i lo --pps 1000 "$tmp/lo.pcap" >"$tmp/tcpreplay.out" 2>&1
	sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$tmp/tcpreplay.out")
	sleep 0.3
	lp=$(get $PACKETS)
	# --idle-exit 2: gone within 2 s of the last packet (+ a margin)
	gone=1
	for _ in $(seq 50); do
		kill -0 "$mpid" 2>/dev/null || { gone=0; break; }
		sleep 0.1
	done
	[ $gone -eq 0 ] || kill -9 "$mpid" 2>/dev/null
	wait "$mpid"
	rc=$?
	mpid=
	got=$(sed -n 's/^packets \([0-9]*\) .*/\1/p' "$tmp/meter.err")
	drops=$(sed -n 's/^interface 1 lo captured [0-9]* dropped \([0-9]*\)$/\1/p' "$tmp/meter.err")
	# every packet sent is metered, or its loss is reported
	[ -n "$sent" ] && [ -n "$got" ] && [ $((got + ${drops:-0})) -ge "$sent" ] && [ "$lp" = "$got" ]
	tap $? "-i lo --driver $drv: $got packets metered ($lp over SNMP), ${drops:-?} dropped, ${sent:-?} sent by tcpreplay"
	[ $gone -eq 0 ] && [ $rc -eq 0 ]
	tap $? "-i lo --driver $drv --idle-exit 2: exit $rc within 5 s of the last packet"
}
"$gen" -o "$tmp/lo.pcap" --duration 2 --rate 40 --seed 9 >/dev/null 2>&1
if ! tcpreplay -i lo --pps 1000 -L 1 "$tmp/lo.pcap" >/dev/null 2>&1; then
	n=$((n + 1))
	echo "ok $n # SKIP tcpreplay cannot send on lo"
else
	lo_run pcap
	lo_run afpacket
fi

[ "$failures" -eq 0 ]
