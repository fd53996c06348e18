#!/usr/bin/env bash
# agent_v3.sh — the agent's security: SNMPv3 USM users (authPriv, SHA/AES)
# from ntm-meter --snmp-config with VACM, and v2c communities:
#   * the read user (rouser) reads; with a wrong key it is refused
#     (authentication failure); it cannot set;
#   * the manager user (rwuser) sets, and the value reads back;
#   * the v2c read community reads but cannot write; without a write
#     community nothing written over v2c is accepted;
#   * a config file with a bad line stops the meter with a clear error.
set -u
: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
root=${NTM_ROOT:-$(pwd)}
. "$(dirname "$0")/../tap.sh"
tap_init agentv3
. "$root/tests/data/agent/lib.sh"

for tool in snmpget snmpset; do
	if ! command -v $tool >/dev/null; then
		echo "not ok 1 - $tool is not installed (make deps)"
		exit 1
	fi
done

rules="$root/tests/data/agent/agent.srl"
flood=1.3.6.1.2.1.40.1.5.0            # flowFloodMark, read-write
name7=1.3.6.1.2.1.40.1.1.1.6.7        # flowRuleInfoName of set 7
uptime=1.3.6.1.4.1.8072.9999.9999.40.1.3.0

"$NTM_BIN/gen_trace" -o "$tmp/t.pcap" --seed 5 --start 1700000100 --duration 10 \
	--rate 10 --servers 3 >/dev/null 2>&1
tap $? "generated a trace"

cat >"$tmp/snmp.conf" <<'EOF'
# the reader: may read everything, change nothing
createUser ntmreader SHA "reader-auth-key" AES "reader-priv-key"
rouser ntmreader authpriv
# the manager: may download rulesets and change the meter
createUser ntmmanager SHA "manager-auth-key" AES "manager-priv-key"
rwuser ntmmanager authpriv
EOF

v3() {   # v3 TOOL USER AUTHKEY PRIVKEY ARGS...
	local tool=$1 user=$2 a=$3 x=$4
	shift 4
	"$tool" -v3 -l authPriv -u "$user" -a SHA -A "$a" -x AES -X "$x" \
		-t 3 -r 0 -On "$@"
}
reason() { sed -n 's/^Reason: \([A-Za-z]*\).*/\1/p' | head -1; }
ready() { v3 snmpget ntmreader reader-auth-key reader-priv-key 127.0.0.1:$1 $uptime; }

start_meter ready -r "$rules" --replay "$tmp/t.pcap" --speed 10 \
	--snmp 127.0.0.1:@PORT@ --snmp-config "$tmp/snmp.conf"
tap $? "ntm-meter --snmp-config with two USM users serves on port ${port:-?}"
if [ -z "$port" ]; then
	sed 's/^/# /' "$tmp/meter.err"
	exit 1
fi
agent=127.0.0.1:$port

out=$(v3 snmpget ntmreader reader-auth-key reader-priv-key $agent $name7 2>&1)
echo "$out" | grep -q '= STRING: '
tap $? "the read user reads flowRuleInfoName.7 over authPriv ($out)"

out=$(v3 snmpget ntmreader wrong-auth-key1 reader-priv-key $agent $uptime 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -qi 'authentication failure'
tap $? "a wrong authentication key is refused (${out%%$'\n'*})"

out=$(v3 snmpset ntmreader reader-auth-key reader-priv-key $agent $flood i 80 2>&1)
r=$(echo "$out" | reason)
[ "$r" = noAccess ] || [ "$r" = authorizationError ]
tap $? "the read user cannot set ($r)"

out=$(v3 snmpset ntmmanager manager-auth-key manager-priv-key $agent $flood i 85 2>&1)
tap $? "the manager user sets flowFloodMark ($out)"
v=$(v3 snmpget ntmreader reader-auth-key reader-priv-key -Oqv $agent $flood 2>&1)
[ "$v" = 85 ]
tap $? "the value reads back ($v)"

out=$(snmpget -v2c -c public -t 3 -r 0 -Oqv $agent $flood 2>&1)
[ "$out" = 85 ]
tap $? "the v2c read community reads ($out)"
out=$(snmpset -v2c -c public -t 3 -r 0 $agent $flood i 70 2>&1)
r=$(echo "$out" | reason)
[ "$r" = noAccess ] || [ "$r" = authorizationError ]
tap $? "the v2c read community cannot write ($r)"
out=$(snmpset -v2c -c private -t 2 -r 0 $agent $flood i 70 2>&1)
[ $? -ne 0 ]
tap $? "an unknown community gets nothing (${out%%$'\n'*})"

stop_meter
[ "$meter_rc" = 0 ]
tap $? "ntm-meter stops cleanly (exit $meter_rc)"

# a config line net-snmp cannot use: the meter refuses to start
printf 'createUser broken SHA\n' >"$tmp/bad.conf"
"$NTM_BIN/ntm-meter" -r "$rules" --replay "$tmp/t.pcap" --snmp 127.0.0.1:$port \
	--snmp-config "$tmp/bad.conf" >/dev/null 2>"$tmp/bad.err" &
bad_pid=$!
extra_pids=$bad_pid
for _ in $(seq 50); do kill -0 $bad_pid 2>/dev/null || break; sleep 0.1; done
kill $bad_pid 2>/dev/null    # still running: it should have refused
wait $bad_pid
rc=$?
extra_pids=
[ $rc -eq 1 ] && grep -q 'bad.conf' "$tmp/bad.err" && grep -qi 'passphrase' "$tmp/bad.err"
tap $? "a createUser line without a passphrase is a clear error, exit 1 ($(head -1 "$tmp/bad.err"))"
printf 'bogusToken 1\n' >"$tmp/bad2.conf"
"$NTM_BIN/ntm-meter" -r "$rules" --replay "$tmp/t.pcap" --snmp 127.0.0.1:$port \
	--snmp-config "$tmp/bad2.conf" >/dev/null 2>"$tmp/bad2.err" &
bad_pid=$!
extra_pids=$bad_pid
for _ in $(seq 50); do kill -0 $bad_pid 2>/dev/null || break; sleep 0.1; done
kill $bad_pid 2>/dev/null    # still running: it should have refused
wait $bad_pid
rc=$?
extra_pids=
[ $rc -eq 1 ] && grep -qi 'unknown token' "$tmp/bad2.err"
tap $? "an unknown config token is a clear error, exit 1 ($(head -1 "$tmp/bad2.err"))"

exit $((failures > 0))
