#!/usr/bin/env bash
# run-fuzz.sh DIR SECONDS — run every libFuzzer binary in DIR for SECONDS
# each.  Each target keeps its corpus in build-fuzz/corpus/<name>, seeded
# from tests/data where there is something sensible; crash reproducers go
# to build-fuzz/crashes/<name>.  Exits non-zero if any target fails.
set -u
dir=${1:?usage: run-fuzz.sh DIR SECONDS}
secs=${2:?usage: run-fuzz.sh DIR SECONDS}
root=$(cd "$(dirname "$0")/../.." && pwd)
base="$root/build-fuzz"

# Seeds per target: name -> files of the repository (globs).  Small trace
# files seed the capture reader; fuzz_decode takes one frame with a leading
# link-type byte, which no file here is, so it starts from nothing.
seeds_for() {
	case "$1" in
	fuzz_rulesfile) echo "tests/data/rules/*.rules tests/data/rulesets/*.rules" ;;
	fuzz_srl)       echo "tests/data/srl/*.srl tests/data/srl/bad/*.srl tests/data/rulesets/*.srl rulesets/*.srl" ;;
	fuzz_difparse)  echo "tests/data/dif/*" ;;
	fuzz_cap)       echo "tests/data/captures/*/*.pcap tests/data/captures/*/*.pcapng tests/data/captures/*/*.erf" ;;
	*)              echo "" ;;
	esac
}
SEED_MAX=65536      # bytes; larger files make slow seeds

failed=()
ran=0
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	name=$(basename "$bin")
	corpus="$base/corpus/$name"
	crashes="$base/crashes/$name"
	mkdir -p "$corpus" "$crashes"
	for pat in $(seeds_for "$name"); do
		for f in "$root"/$pat; do
			[ -f "$f" ] && [ "$(stat -c %s "$f")" -le "$SEED_MAX" ] &&
				cp -n "$f" "$corpus/" 2>/dev/null
		done
	done
	echo "fuzz: $name for ${secs}s (corpus $corpus)"
	log="$base/$name.log"
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$crashes/" -print_final_stats=1 \
		"$corpus" >"$log" 2>&1
	rc=$?
	ran=$((ran + 1))
	if [ "$rc" -ne 0 ]; then
		failed+=("$name")
		echo "fuzz: $name FAILED (exit $rc) — see $log; reproducers in $crashes"
		grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error' "$log" | head -5
	else
		grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/fuzz: $name /"
	fi
done
if [ "$ran" -eq 0 ]; then
	echo "fuzz: no fuzz binaries in $dir"
	exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failed: ${failed[*]}"
	exit 1
fi
echo "fuzz: $ran target(s) ran clean"
