#!/usr/bin/env bash
# Run every unit test program (cmocka) and every integration script (TAP
# lines "ok ..." / "not ok ..."), then print one line: "N passed, N failed".
# A program that dies without reporting counts as one failure.
set -u
BUILD=${BUILD:-build}
export BUILD
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NTM_BIN="$root/$BUILD/bin"
export NTM_ROOT="$root"
pass=0 fail=0
failed_names=()
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"

count_cmocka() {   # $1 = log file; echoes "passed failed"
	local p f
	p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$1" | awk '{s+=$4} END {print s+0}')
	f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$1" | awk '{s+=$4} END {print s+0}')
	echo "$p $f"
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log="$log_dir/$name.log"
	"$t" >"$log" 2>&1
	rc=$?
	read -r p f < <(count_cmocka "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name"); echo "FAIL $name ($p passed, $f failed) — see $log"
		grep -E '^\[  (FAILED|  ERROR) \]|error:|Failure' "$log" | head -20
	else
		echo "ok   $name ($p)"
	fi
done

for s in tests/integration/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	log="$log_dir/$name.log"
	bash "$s" >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok( |$)' "$log")
	f=$(grep -cE '^not ok( |$)' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name"); echo "FAIL $name ($p passed, $f failed) — see $log"
		grep -E '^not ok|^#' "$log" | head -20
	else
		echo "ok   $name ($p)"
	fi
done

if [ ${#failed_names[@]} -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
