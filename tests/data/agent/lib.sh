# lib.sh — sourced by the agent tests (tests/integration/agent_*.sh) after
# tap.sh: start ntm-meter with its SNMP agent on a free high port.
#
#   start_meter READY_CMD METER_ARGS...
#       Tries ports 20000 + ($$ + k * 997) % 20000 until one works: the
#       meter is started with METER_ARGS in which the word @PORT@ is
#       replaced by the port, and is up when `READY_CMD PORT` succeeds
#       (within 5 s).  Sets $port and $meter_pid (killed by stop_meter and
#       on exit); returns 1 when no port worked ($tmp/meter.err says why).
#   stop_meter
#       SIGTERM, wait; $meter_rc holds the exit status.

meter_pid=
port=
meter_rc=

stop_meter() {
	meter_rc=
	if [ -n "$meter_pid" ]; then
		kill "$meter_pid" 2>/dev/null
		wait "$meter_pid"
		meter_rc=$?
		meter_pid=
	fi
}

agent_cleanup() {
	stop_meter
	[ -n "${extra_pids:-}" ] && kill $extra_pids 2>/dev/null && wait $extra_pids 2>/dev/null
	rm -rf "$tmp"
}
trap agent_cleanup EXIT

start_meter() {
	local ready=$1 try p args a
	shift
	port=
	for try in 0 1 2 3 4 5 6 7; do
		p=$((20000 + ($$ + try * 997) % 20000))
		args=()
		for a in "$@"; do args+=("${a//@PORT@/$p}"); done
		"$NTM_BIN/ntm-meter" "${args[@]}" >"$tmp/meter.out" 2>"$tmp/meter.err" &
		meter_pid=$!
		for _ in $(seq 50); do
			kill -0 "$meter_pid" 2>/dev/null || break
			if $ready "$p" >/dev/null 2>&1; then
				port=$p
				return 0
			fi
			sleep 0.1
		done
		stop_meter
	done
	return 1
}
