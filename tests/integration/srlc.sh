#!/usr/bin/env bash
# srlc.sh -- the real srlc binary on the SRL test inputs:
#   - every tests/data/srl/bad/*.srl fails (exit 1) with each message its
#     "# expect: LINE:COL: error: text" header lines name, printed as
#     FILE:LINE:COL: error: text;
#   - every tests/data/srl/ex*.srl (RFC 2723's examples) passes --check,
#     compiles to a rules file (stdout and -o agree), and that file reads
#     back (--dump) to the same table as the source;
#   - usage, -h and exit statuses.
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
: "${NTM_ROOT:?NTM_ROOT must name the repository root}"

srlc="$NTM_BIN/srlc"
data="$NTM_ROOT/tests/data/srl"
. "$(dirname "$0")/../tap.sh"
tap_init srlc

show() { sed -e 's/^/# /' "$1" | head -20; }

if [ ! -x "$srlc" ]; then
	tap 1 "srlc is built ($srlc)"
	exit 1
fi

shopt -s nullglob

# ---- malformed inputs ------------------------------------------------------
bad=("$data"/bad/*.srl)
[ ${#bad[@]} -ge 20 ]
tap $? "at least 20 malformed inputs (${#bad[@]})"
for f in "${bad[@]}"; do
	name=bad/$(basename "$f")
	"$srlc" --check "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ok=0
	[ $rc -eq 1 ] || ok=1
	[ -s "$tmp/out" ] && ok=1         # nothing on stdout
	nexp=0
	while IFS= read -r line; do
		want=${line#\# expect: }
		nexp=$((nexp + 1))
		grep -qF -- "$f:$want" "$tmp/err" || { ok=1; echo "# missing: $f:$want"; }
	done < <(grep '^# expect: ' "$f")
	[ $nexp -gt 0 ] || ok=1
	[ $ok -eq 0 ] || show "$tmp/err"
	tap $ok "$name: exit 1 with its expected diagnostics"
done

# ---- the RFC's examples ----------------------------------------------------
for f in "$data"/ex*.srl; do
	name=$(basename "$f" .srl)
	"$srlc" --check "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] && ! grep -q 'error:' "$tmp/err" && [ ! -s "$tmp/out" ]
	r=$?
	[ $r -eq 0 ] || show "$tmp/err"
	tap $r "$name: --check passes"

	"$srlc" -o "$tmp/$name.rules" "$f" 2>"$tmp/err" && [ -s "$tmp/$name.rules" ]
	r=$?
	[ $r -eq 0 ] || show "$tmp/err"
	tap $r "$name: compiles with -o"

	"$srlc" "$f" >"$tmp/$name.stdout" 2>/dev/null && cmp -s "$tmp/$name.stdout" "$tmp/$name.rules"
	tap $? "$name: stdout output equals the -o file"

	"$srlc" --dump "$f" >"$tmp/a.dump" 2>"$tmp/err" &&
		"$srlc" --dump "$tmp/$name.rules" >"$tmp/b.dump" 2>>"$tmp/err" &&
		[ -s "$tmp/a.dump" ] && cmp -s "$tmp/a.dump" "$tmp/b.dump"
	r=$?
	[ $r -eq 0 ] || { show "$tmp/err"; diff "$tmp/a.dump" "$tmp/b.dump" | head -10 | sed 's/^/# /'; }
	tap $r "$name: the rules file reads back to the same table"
done

# ---- warnings do not fail ---------------------------------------------------
printf 'define unused = 1;\nIGNORE;\nCOUNT;\n' >"$tmp/warn.srl"
"$srlc" --check "$tmp/warn.srl" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && grep -qF "$tmp/warn.srl:1:8: warning: 'unused' is defined but never used" "$tmp/err" &&
	grep -qF "$tmp/warn.srl:3:1: warning: unreachable statement" "$tmp/err"
tap $? "warnings are printed and exit 0"

# ---- command line ------------------------------------------------------------
"$srlc" -h >"$tmp/out" 2>&1 && grep -q '^usage: srlc' "$tmp/out"
tap $? "srlc -h prints usage, exit 0"
"$srlc" >/dev/null 2>&1
[ $? -eq 2 ]
tap $? "no input file: exit 2"
"$srlc" --frobnicate x.srl >/dev/null 2>&1
[ $? -eq 2 ]
tap $? "unknown option: exit 2"
"$srlc" --check "$tmp/does-not-exist.srl" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'does-not-exist.srl: error: cannot open' "$tmp/err"
tap $? "missing file: exit 1 with a message"
"$srlc" -o "$tmp/never.rules" "$data/bad/unknown_attr.srl" 2>/dev/null
[ $? -eq 1 ] && [ ! -e "$tmp/never.rules" ]
tap $? "a failed compile writes no output file"

echo "1..$n"
[ $failures -eq 0 ]
