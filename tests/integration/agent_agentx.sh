#!/usr/bin/env bash
# agent_agentx.sh — ntm-meter as an AgentX sub-agent of net-snmp's snmpd:
# snmpd (master agentx on a TCP socket, its own private config and state)
# on free ports, ntm-meter --agentx registers the Meter MIB and NTM-MIB,
# and snmpget/snmpwalk through snmpd read ntmMeterUptime, the ruleset's
# name and the flows.  Skipped only when snmpd is not installed.
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init agentx
. "$root/tests/data/agent/lib.sh"

snmpd=$(command -v snmpd || ls /usr/sbin/snmpd 2>/dev/null)
if [ -z "$snmpd" ]; then
	echo "ok 1 # SKIP snmpd is not installed"
	exit 0
fi

rules="$root/tests/data/agent/agent.srl"
flow_mib=1.3.6.1.2.1.40
uptime=1.3.6.1.4.1.8072.9999.9999.40.1.3.0
name7=$flow_mib.1.1.1.6.7

"$NTM_BIN/gen_trace" -o "$tmp/t.pcap" --seed 9 --start 1700000100 --duration 10 \
	--rate 10 --servers 3 >/dev/null 2>&1
tap $? "generated a trace"

# ---- snmpd: master agent on free ports, nothing from the system ----
mkdir -p "$tmp/snmpd"
snmpd_pid=
sport=
for try in 0 1 2 3 4 5 6 7; do
	sp=$((20000 + ($$ + try * 997) % 20000))
	xp=$((20000 + ($$ + try * 997 + 1) % 20000))
	cat >"$tmp/snmpd.conf" <<EOF
master agentx
agentXSocket tcp:127.0.0.1:$xp
agentaddress udp:127.0.0.1:$sp
rocommunity public 127.0.0.1
EOF
	SNMP_PERSISTENT_DIR="$tmp/snmpd" MIBS= "$snmpd" -f -Lf "$tmp/snmpd.log" -C \
		-c "$tmp/snmpd.conf" -p "$tmp/snmpd.pid" >/dev/null 2>&1 &
	snmpd_pid=$!
	extra_pids=$snmpd_pid
	for _ in $(seq 50); do
		kill -0 $snmpd_pid 2>/dev/null || break
		if snmpget -v2c -c public -t 1 -r 0 127.0.0.1:$sp 1.3.6.1.2.1.1.3.0 >/dev/null 2>&1; then
			sport=$sp
			break
		fi
		sleep 0.1
	done
	[ -n "$sport" ] && break
	kill $snmpd_pid 2>/dev/null
	wait $snmpd_pid 2>/dev/null
	snmpd_pid=
	extra_pids=
done
[ -n "$sport" ]
tap $? "snmpd (master agentx on tcp:127.0.0.1:$xp) answers on udp port ${sport:-?}"
if [ -z "$sport" ]; then
	sed 's/^/# /' "$tmp/snmpd.log" 2>/dev/null | head -20
	exit 1
fi
master=127.0.0.1:$sport

get() { snmpget -v2c -c public -t 2 -r 1 -On "$@"; }
# ready when the sub-agent's objects answer through the master
ready() { get $master $uptime | grep -q Timeticks; }
start_meter ready -r "$rules" --replay "$tmp/t.pcap" --speed 10 \
	--agentx tcp:127.0.0.1:$xp
tap $? "ntm-meter --agentx tcp:127.0.0.1:$xp registers with snmpd"
if [ -z "$port" ]; then
	sed 's/^/# /' "$tmp/meter.err"
	exit 1
fi

out=$(get $master $uptime 2>&1)
echo "$out" | grep -q "^\.$uptime = Timeticks: "
tap $? "snmpget through snmpd reads ntmMeterUptime ($out)"
out=$(get $master $name7 2>&1)
echo "$out" | grep -q "^\.$name7 = STRING: "
tap $? "snmpget through snmpd reads flowRuleInfoName.7 ($out)"
sleep 1.5    # 15 s of trace at 10x: every packet metered
snmpwalk -v2c -c public -t 2 -r 1 -On $master $flow_mib.2.1.1.28.7 >"$tmp/walk" 2>&1
nf=$(grep -c "^\.$flow_mib\.2\.1\.1\.28\.7\.0\.[0-9]* = Counter64: " "$tmp/walk")
[ "$nf" -ge 3 ]
tap $? "snmpwalk through snmpd lists the flows of set 7 ($nf flows)"
out=$(get $master 1.3.6.1.2.1.1.1.0 2>&1)
! echo "$out" | grep -q 'ntm '
tap $? "snmpd keeps its own system group (the sub-agent does not register one)"

stop_meter
[ "$meter_rc" = 0 ]
tap $? "ntm-meter stops cleanly (exit $meter_rc)"

# a master that is not there: a clear error, exit 1
kill $snmpd_pid 2>/dev/null
wait $snmpd_pid 2>/dev/null
extra_pids=
"$NTM_BIN/ntm-meter" -r "$rules" --replay "$tmp/t.pcap" \
	--agentx tcp:127.0.0.1:$xp >/dev/null 2>"$tmp/nomaster.err" &
pid=$!
extra_pids=$pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill $pid 2>/dev/null    # still running: it should have refused
wait $pid
rc=$?
extra_pids=
[ $rc -eq 1 ] && grep -qi 'agentx' "$tmp/nomaster.err"
tap $? "no master on the socket: clear error, exit 1 ($(head -1 "$tmp/nomaster.err"))"

exit $((failures > 0))
