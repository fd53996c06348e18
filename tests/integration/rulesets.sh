#!/usr/bin/env bash
# rulesets.sh -- every worked ruleset in rulesets/ must pass `srlc --check`,
# compile, and compile to exactly the table written out by hand in
# tests/data/rulesets/<name>.rules (NeMaC rules-file form).  Both tables are
# read back by srlc and shown with --dump, so the comparison is of rule
# tables, not of text layout.  dns-root's expected table is produced by
# tests/data/rulesets/gen-dns-root.sh; the committed copy must match it.
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
: "${NTM_ROOT:?NTM_ROOT must name the repository root}"

srlc="$NTM_BIN/srlc"
data="$NTM_ROOT/tests/data/rulesets"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ntm-rulesets.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n=0
failures=0

# tap STATUS TEXT: one TAP line; STATUS 0 is a pass.
tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failures=$((failures + 1))
	fi
}

# show FILE: a failed step's output as TAP comments, kept short.
show() {
	sed -e 's/^/# /' "$1" | head -40
}

if [ ! -x "$srlc" ]; then
	tap 1 "srlc is built ($srlc)"
	exit 1
fi

shopt -s nullglob
srls=("$NTM_ROOT"/rulesets/*.srl)
if [ ${#srls[@]} -eq 0 ]; then
	tap 1 "rulesets/ holds .srl files"
	exit 1
fi

for srl in "${srls[@]}"; do
	name=$(basename "$srl" .srl)

	"$srlc" --check "$srl" >"$tmp/$name.check" 2>&1
	rc=$?
	[ $rc -eq 0 ] || show "$tmp/$name.check"
	tap $rc "srlc --check rulesets/$name.srl"

	"$srlc" -o "$tmp/$name.rules" "$srl" >"$tmp/$name.compile" 2>&1
	rc=$?
	[ $rc -eq 0 ] || show "$tmp/$name.compile"
	tap $rc "srlc compiles rulesets/$name.srl"

	expected="$data/$name.rules"
	if [ ! -f "$expected" ]; then
		echo "# no expected table $expected"
		tap 1 "rulesets/$name.srl has an expected table"
		continue
	fi
	if [ $rc -ne 0 ]; then
		tap 1 "rulesets/$name.srl compiles to tests/data/rulesets/$name.rules"
		continue
	fi
	"$srlc" --dump "$expected" >"$tmp/$name.want" 2>&1
	rc_want=$?
	"$srlc" --dump "$tmp/$name.rules" >"$tmp/$name.got" 2>&1
	rc_got=$?
	if [ $rc_want -ne 0 ]; then
		echo "# the expected table does not load:"
		show "$tmp/$name.want"
	fi
	if [ $rc_got -ne 0 ]; then
		echo "# the compiled table does not load:"
		show "$tmp/$name.got"
	fi
	diff -u "$tmp/$name.want" "$tmp/$name.got" >"$tmp/$name.diff"
	rc=$?
	[ $rc -eq 0 ] || show "$tmp/$name.diff"
	[ $rc_want -eq 0 ] && [ $rc_got -eq 0 ] || rc=1
	tap $rc "rulesets/$name.srl compiles to tests/data/rulesets/$name.rules"
done

# The committed dns-root table is what its generator writes.
if [ -f "$data/gen-dns-root.sh" ]; then
	bash "$data/gen-dns-root.sh" >"$tmp/gen-dns-root.rules" 2>"$tmp/gen.err"
	rc=$?
	[ $rc -eq 0 ] || show "$tmp/gen.err"
	diff -u "$data/dns-root.rules" "$tmp/gen-dns-root.rules" >"$tmp/gen.diff" || rc=1
	[ $rc -eq 0 ] || show "$tmp/gen.diff"
	tap $rc "gen-dns-root.sh reproduces tests/data/rulesets/dns-root.rules"
fi

# --check is a real check: a ruleset with one misspelt attribute is refused
# with exit 1 and a FILE:LINE:COL diagnostic on that line.
bad="$tmp/bad-dns-root.srl"
sed -e 's/DestTransAddress == dns/DestTransAdress == dns/' \
	"$NTM_ROOT/rulesets/dns-root.srl" >"$bad"
line=$(grep -n 'DestTransAdress == dns' "$bad" | head -1 | cut -d: -f1)
"$srlc" --check "$bad" >"$tmp/bad.out" 2>&1
rc=$?
if [ -n "$line" ] && [ $rc -eq 1 ] &&
	grep -q "^$bad:$line:[0-9][0-9]*: error: " "$tmp/bad.out"; then
	tap 0 "srlc --check refuses a misspelt attribute at its line"
else
	echo "# exit $rc, expected 1 and '$bad:$line:COL: error: ...'"
	show "$tmp/bad.out"
	tap 1 "srlc --check refuses a misspelt attribute at its line"
fi

[ $failures -eq 0 ]
