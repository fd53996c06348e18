# tap.sh — sourced by every integration test (tests/integration/*.sh):
#   tap_init NAME      a private temporary directory in $tmp, removed on exit
#   tap STATUS TEXT    "ok N - TEXT" when STATUS is 0, else "not ok N - TEXT"
#                      (counted in $failures)
#   pick_port          a UDP port nobody listens on here, in $port (for
#                      agents the test starts)
# The runner (tests/run-tests.sh) counts these lines.
tap_init() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ntm-$1.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	n=0
	failures=0
}

tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failures=$((failures + 1))
	fi
}

pick_port() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + ($$ * 7 + RANDOM) % 20000))
		ss -Hlun "sport = :$port" 2>/dev/null | grep -q . || return 0
	done
	return 1
}
