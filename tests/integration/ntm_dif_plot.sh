#!/usr/bin/env bash
# ntm_dif_plot.sh -- ntm-dif plot over a generated day of DNS traffic:
# the SVG has one median line and one loss line per server (the servers the
# generator's summary lists, bar the local resolvers), each through the day's
# 5-minute intervals; the HTML page, rendered by headless Chromium, holds
# the same paths in its DOM and its screenshot is not blank: it is a
# 1200x800 PNG, and it is much larger (more detail) than a screenshot of the
# same page with the series lines removed, which is larger than one of an
# empty page.  Chromium missing or failing is a "not ok", never a pass.
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
: "${NTM_ROOT:?NTM_ROOT must name the repository root}"
dif="$NTM_BIN/ntm-dif"
. "$(dirname "$0")/../tap.sh"
tap_init dif-plot

finish() {
	echo "# $n tests, $failures failed"
	[ "$failures" -eq 0 ]
	exit
}

# ---- a day of traffic, metered ----
start=1700006400   # a multiple of 300 s
"$NTM_BIN/gen_trace" -o "$tmp/day.pcap" --seed 5 --start $start --duration 86400 \
	--rate 2 --servers 6 --truth "$tmp/truth.csv" >/dev/null 2>"$tmp/gen.err" &&
"$NTM_BIN/ntm-meter" --read "$tmp/day.pcap" -r "$NTM_ROOT/rulesets/dns-root.srl" \
	-o "$tmp/day.dif" 2>"$tmp/meter.err"
tap $? "a generated day metered into a .dif file"
# the servers: the generator's, bar the local resolvers (not in dns-root)
tail -n +2 "$tmp/truth.csv.servers.csv" | cut -d, -f1 | grep -v '^10\.1\.\|^fd00:' |
	sort >"$tmp/servers.want"
nserv=$(wc -l <"$tmp/servers.want")

"$dif" plot "$tmp/day.dif" -o "$tmp/day.svg" 2>"$tmp/plot.err"
tap $? "ntm-dif plot writes an SVG"
"$dif" plot "$tmp/day.dif" -o "$tmp/day.html" 2>>"$tmp/plot.err"
tap $? "ntm-dif plot writes an HTML page"

series() {   # $1 = file, $2 = class: the data-server of each path, sorted
	grep -o "<path class=\"$2\" [^>]*" "$1" | sed 's/.*data-server="\([^"]*\)".*/\1/' | sort
}
series "$tmp/day.svg" series >"$tmp/series.got"
if diff "$tmp/servers.want" "$tmp/series.got" >"$tmp/diff.out"; then r=0; else r=1; sed 's/^/# /' "$tmp/diff.out" | head; fi
tap $r "SVG: one median line per server ($nserv servers)"
series "$tmp/day.svg" loss >"$tmp/loss.got"
diff -q "$tmp/servers.want" "$tmp/loss.got" >/dev/null
tap $? "SVG: one loss line per server"
# each median line goes through (nearly) every 5-minute interval of the day
grep -o '<path class="series" [^>]*' "$tmp/day.svg" |
	awk '{ n = gsub(/ L/, "&") + gsub(/M/, "&"); if (n < 280 || n > 290) bad++ }
	     END { exit bad > 0 }'
tap $? "SVG: every median line has a point per 5-minute interval (280..290)"
grep -c 'class="legend"' "$tmp/day.svg" | grep -qx 1 &&
	[ "$(grep -c '<text x="[0-9.]*" y="[0-9.]*">[0-9a-f.:]*</text>' "$tmp/day.svg")" -ge "$nserv" ]
tap $? "SVG: a legend with every server"
if command -v xmllint >/dev/null; then
	xmllint --noout "$tmp/day.svg" 2>"$tmp/xml.err"
	tap $? "SVG is well-formed XML (xmllint)"
fi
! grep -qiE '<script|https?://[^"]*\.(js|css)|src=' "$tmp/day.html"
tap $? "HTML: self-contained (no scripts, no external resources)"

"$dif" plot "$tmp/day.dif" --log -o "$tmp/log.svg" 2>/dev/null &&
	grep -q 'median RTT, ms (log)' "$tmp/log.svg" &&
	grep -q '>100</text>' "$tmp/log.svg" && grep -q '>1000</text>' "$tmp/log.svg"
tap $? "--log: logarithmic RTT axis with decade ticks"
first=$(head -1 "$tmp/servers.want")
"$dif" plot "$tmp/day.dif" --flows "$first" --from $((start + 3600)) --to $((start + 7200)) \
	-o "$tmp/one.svg" 2>/dev/null
[ "$(series "$tmp/one.svg" series)" = "$first" ] &&
	grep -o '<path class="series" [^>]*' "$tmp/one.svg" | awk '{ exit !(gsub(/ L/, "&") + 1 == 12) }'
tap $? "--flows/--from/--to: one server, the 12 intervals of one hour"
"$dif" plot "$tmp/day.dif" --from $start --to $((start + 8 * 86400)) -o "$tmp/x.svg" 2>/dev/null
[ $? -eq 2 ]
tap $? "a window over 7 days is refused (exit 2)"
"$dif" plot "$tmp/day.dif" -o "$tmp/x.png" 2>/dev/null
[ $? -eq 2 ]
tap $? "plot output must be .svg or .html (exit 2)"

"$dif" plot "$NTM_ROOT/tests/data/dif/netramet-3.2.dif" -o "$tmp/old.svg" 2>"$tmp/old.err"
r=$?
[ $r -eq 0 ] && grep -q 'nothing to plot' "$tmp/old.err" && grep -q '</svg>' "$tmp/old.svg" &&
	! grep -q '<path class="series"' "$tmp/old.svg"
tap $? "old-form times only: an empty chart and a warning"

# ---- headless Chromium ----
chrome=
for c in chromium chromium-browser; do
	command -v "$c" >/dev/null && { chrome=$c; break; }
done
if [ -z "$chrome" ]; then
	tap 1 "Chromium is not installed (Debian package chromium; tools/deps.sh)"
	finish
fi
browse() {   # $1 = what (--dump-dom or --screenshot=FILE), $2 = page
	local ud
	ud=$(mktemp -d "$tmp/chrome.XXXXXX")
	timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --hide-scrollbars --user-data-dir="$ud" "$1" \
		--window-size=1200,800 "file://$2" 2>>"$tmp/chrome.err"
}
browse --dump-dom "$tmp/day.html" >"$tmp/dom.html"
r=$?
[ $r -eq 0 ] || sed -n '1,5s/^/# /p' "$tmp/chrome.err"
tap $r "Chromium loads the page"
series "$tmp/dom.html" series >"$tmp/dom.got"
diff -q "$tmp/servers.want" "$tmp/dom.got" >/dev/null
tap $? "Chromium's DOM holds one median line per server ($(wc -l <"$tmp/dom.got"))"

png_ok() {   # $1 = file: a PNG of 1200x800
	[ -s "$1" ] || return 1
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || return 1
	# IHDR width and height, big-endian, at offsets 16 and 20
	[ "$(od -An -j16 -N8 -tx1 "$1" | tr -d ' \n')" = "000004b000000320" ]
}
browse --screenshot="$tmp/day.png" "$tmp/day.html" >/dev/null
png_ok "$tmp/day.png"
tap $? "screenshot: a 1200x800 PNG"
# the same page without its series lines, and an empty page
grep -v '<path class="series"' "$tmp/day.html" >"$tmp/nolines.html"
printf '<!DOCTYPE html>\n<html><body style="background:#fff"></body></html>\n' >"$tmp/empty.html"
browse --screenshot="$tmp/nolines.png" "$tmp/nolines.html" >/dev/null
browse --screenshot="$tmp/empty.png" "$tmp/empty.html" >/dev/null
s_day=$(wc -c <"$tmp/day.png" 2>/dev/null || echo 0)
s_nol=$(wc -c <"$tmp/nolines.png" 2>/dev/null || echo 0)
s_emp=$(wc -c <"$tmp/empty.png" 2>/dev/null || echo 0)
png_ok "$tmp/nolines.png" && png_ok "$tmp/empty.png" && [ "$s_nol" -gt $((2 * s_emp)) ]
tap $? "screenshot without lines is not blank (axes, loss, legend: $s_nol bytes, empty page $s_emp)"
[ "$s_day" -gt $((s_nol + s_nol / 2)) ]
tap $? "screenshot shows the median lines ($s_day bytes, $s_nol without them)"

finish
