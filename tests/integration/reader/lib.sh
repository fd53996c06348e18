# reader/lib.sh — helpers shared by reader.sh, reader_restart.sh and
# demo.sh-style tests: a trace quiet around interval boundaries, a
# replaying meter on a free port, waiting for intervals, comparing the
# reader's records with offline's.  Sourced after tap_init ($tmp set).

meter_pid= reader_pid= other_pids=
reader_cleanup() {
	local p
	for p in $reader_pid $meter_pid $other_pids; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap reader_cleanup EXIT

# make_quiet_trace OUT START: DNS traffic in [b+30, b+270) of every 300 s
# interval b = START + 300 k (k = 0..3), plus one query at START + 1231
# so the replay passes the fourth boundary before it ends.
make_quiet_trace() {
	local out=$1 start=$2 k parts=()
	for k in 0 1 2 3; do
		"$NTM_BIN/gen_trace" -o "$tmp/part$k.pcap" --seed $((40 + k)) \
			--start $((start + 300 * k + 30)) --duration 240 --rate 12 \
			--servers 26 2>/dev/null || return 1
		parts+=("$tmp/part$k.pcap")
	done
	"$NTM_BIN/gen_trace" -o "$tmp/tail.pcap" --seed 49 --start $((start + 1231)) \
		--duration 1 --rate 1 --servers 1 2>/dev/null || return 1
	mergecap -F pcap -w "$out" "${parts[@]}" "$tmp/tail.pcap" 2>/dev/null
}


# start_meter TRACE SPEED WRITE_COMMUNITY LOG [PORT]: ntm-meter replaying
# TRACE with its agent on 127.0.0.1:PORT (a free one when not given; $port
# is set), no ruleset; returns once the agent answers.
start_meter() {
	local trace=$1 speed=$2 wc=$3 log=$4 fixed=${5:-} try i
	for try in 1 2 3; do
		if [ -n "$fixed" ]; then port=$fixed; else pick_port || return 1; fi
		"$NTM_BIN/ntm-meter" --replay "$trace" --speed "$speed" \
			--snmp "127.0.0.1:$port" --write-community "$wc" >"$log" 2>&1 &
		meter_pid=$!
		for i in $(seq 50); do
			kill -0 "$meter_pid" 2>/dev/null || break
			snmpget -v2c -c public -t 0.2 -r 0 -On "127.0.0.1:$port" \
				1.3.6.1.4.1.8072.9999.9999.40.1.5.0 >/dev/null 2>&1 && return 0
			sleep 0.1
		done
		kill -9 "$meter_pid" 2>/dev/null
		wait "$meter_pid" 2>/dev/null
		meter_pid=
		sed 's/^/# meter: /' "$log" | head -5
		[ -n "$fixed" ] && return 1
	done
	return 1
}

stop_meter() {
	[ -n "$meter_pid" ] || return 0
	kill -TERM "$meter_pid" 2>/dev/null
	wait "$meter_pid" 2>/dev/null
	meter_pid=
}

# wait_intervals FILE N SECONDS: until FILE holds N complete intervals.
wait_intervals() {
	local f=$1 want=$2 i
	for i in $(seq $(($3 * 10))); do
		[ -f "$f" ] && [ "$(grep -c '^#Enddata' "$f")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# interval_records FILE: "k<TAB>record" for every flow record, k = the
# number of the interval (1, 2, ...) in the file.
interval_records() {
	awk '/^#Time:/ { k++; next } /^#/ || NF == 0 { next } { print k "\t" $0 }' "$1"
}

# compare_intervals OFFLINE READER N: the first N intervals hold the same
# records (order within an interval aside).  Prints "k:count" per interval
# and the first differences.
compare_intervals() {
	local off=$1 rd=$2 n=$3
	interval_records "$off" | awk -F'\t' -v n="$n" '$1 <= n' | sort >"$tmp/cmp.off"
	interval_records "$rd" | awk -F'\t' -v n="$n" '$1 <= n' | sort >"$tmp/cmp.rd"
	local k empty=0
	for k in $(seq "$n"); do
		local c
		c=$(grep -c "^$k	" "$tmp/cmp.off")
		[ "$c" -gt 0 ] || empty=1
		printf '%s:%s\n' "$k" "$c"
	done
	if ! diff "$tmp/cmp.off" "$tmp/cmp.rd" >"$tmp/cmp.diff"; then
		head -6 "$tmp/cmp.diff" | sed 's/^/# /' >&2
		return 1
	fi
	return "$empty"
}
