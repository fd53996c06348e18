#!/usr/bin/env bash
# afpacket.sh -- the AF_PACKET driver (TPACKET_V3 ring, fanout) on a real
# kernel.  A network namespace holds a veth pair; tcpreplay sends a
# generated trace into one end at a modest rate while capdump captures on
# the other end with --driver afpacket.  Checked:
#   - one socket: every packet, in order, with the bytes and lengths of the
#     file (802.1Q tags the kernel moved out of the frame are put back),
#     ns timestamps from the wall clock of the run, 0 drops;
#   - snaplen 96: the same bytes as the file cut by editcap -s 96;
#   - two sockets in a fanout group: the union is every packet, each socket
#     got some, both directions of every UDP/TCP 5-tuple (tshark's reading
#     of the file) and of every address pair reached the same socket;
#   - IPv4 fragments (a DNS query and its response in two fragments): all
#     arrive as fragments, each exchange entirely on one socket;
#   - a BPF filter passes exactly what tcpdump's filter passes on the file;
#   - a missing interface and a missing CAP_NET_RAW give exit 1 and a clear
#     message.
# Without root (or when the kernel refuses netns/veth) the checks are
# reported as skipped.
#
# Run from the repository root with NTM_BIN and NTM_ROOT set (make check).
set -u

: "${NTM_BIN:?NTM_BIN must name the build/bin directory}"
gen="$NTM_BIN/gen_trace"
dump="$NTM_BIN/capdump"
. "$(dirname "$0")/../tap.sh"
tap_init afpacket

ns="ntm-afp-$$"
cap_if=ntmcap0             # capdump listens here
send_if=ntmsend0           # tcpreplay sends here
cap_pid=
ns_made=

cleanup() {
	if [ -n "$cap_pid" ]; then
		kill "$cap_pid" 2>/dev/null
		wait "$cap_pid" 2>/dev/null
	fi
	[ -n "$ns_made" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

skip_all() {
	echo "ok 1 # SKIP $1"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root for a network namespace and packet sockets"
command -v ip >/dev/null || skip_all "iproute2 (ip) not installed"
command -v tcpreplay >/dev/null || skip_all "tcpreplay not installed"
ip netns add "$ns" 2>"$tmp/ns.err" || skip_all "kernel refuses a network namespace: $(head -1 "$tmp/ns.err")"
ns_made=1
# No IPv6 on the pair: its neighbour discovery would add packets.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
ip -n "$ns" link add "$cap_if" type veth peer name "$send_if" 2>"$tmp/veth.err" ||
	skip_all "kernel refuses a veth pair: $(head -1 "$tmp/veth.err")"
if ! ip -n "$ns" link set "$cap_if" up || ! ip -n "$ns" link set "$send_if" up; then
	skip_all "cannot bring the veth pair up"
fi

# capture OUT PCAP [CAPDUMP ARGS...]: capdump listens on cap_if (with -s,
# so OUT ends with one stats line per socket) while tcpreplay sends PCAP.
capture() {
	local out=$1 pcap=$2 rc
	shift 2
	ip netns exec "$ns" timeout 120 "$dump" -s -i "$cap_if" -d afpacket \
		--idle-exit 2 "$@" >"$out" 2>"$out.err" &
	cap_pid=$!
	for _ in $(seq 200); do
		grep -q '^# listening' "$out.err" 2>/dev/null && break
		kill -0 "$cap_pid" 2>/dev/null || break
		sleep 0.05
	done
	ip netns exec "$ns" tcpreplay -q -i "$send_if" --pps 2000 "$pcap" \
		>"$out.replay" 2>&1
	wait "$cap_pid"
	rc=$?
	cap_pid=
	return $rc
}
packets() { grep -v '^#' "$1"; }
# stats lines: "# packets P bytes B drops D ... queue Q"
stat_sum() { awk -v f="$2" '/^# packets/ { for (i = 2; i < NF; i++) if ($i == f) s += $(i + 1) } END { print s + 0 }' "$1"; }
diff_ok() {
	if diff "$1" "$2" >"$tmp/diff.out"; then return 0; fi
	sed -n '1,10s/^/# /p' "$tmp/diff.out"
	return 1
}

"$gen" -o "$tmp/t.pcap" --seed 5 --duration 6 --rate 100 --background 2 2>/dev/null
"$dump" "$tmp/t.pcap" >"$tmp/file.dump"
total=$(wc -l <"$tmp/file.dump")
bytes=$(awk '{ s += $3 } END { print s }' "$tmp/file.dump")
vlan=$(tcpdump -r "$tmp/t.pcap" -nn vlan 2>/dev/null | wc -l)
[ "$total" -gt 1000 ] && [ "$vlan" -gt 0 ]
tap $? "gen_trace writes a trace of $total packets, $vlan with 802.1Q tags"
[ "$failures" -eq 0 ] || exit 1

# ---- one socket ----
t0=$(date +%s%N)
capture "$tmp/w1" "$tmp/t.pcap"
rc=$?
t1=$(date +%s%N)
tap $rc "one socket: capdump ends after 2 s idle with status 0"
diff_ok <(cut -d' ' -f2-6 "$tmp/file.dump") <(packets "$tmp/w1" | cut -d' ' -f2-6)
tap $? "one socket: all $total packets in file order, same lengths and bytes ($vlan with 802.1Q tags put back)"
packets "$tmp/w1" | awk -v a="$t0" -v b="$t1" '
	$1 < a || $1 > b || $1 < prev { bad++ } { prev = $1 } END { exit bad > 0 }'
tap $? "one socket: ns timestamps from the run's wall clock, never decreasing"
st="$(stat_sum "$tmp/w1" packets) $(stat_sum "$tmp/w1" bytes) $(stat_sum "$tmp/w1" drops)"
[ "$st" = "$total $bytes 0" ]
tap $? "one socket: stats count $total packets, $bytes bytes, 0 drops ($st)"
if [ "$rc" -ne 0 ] || [ "$st" != "$total $bytes 0" ]; then
	sed 's/^/# /' "$tmp/w1.err" "$tmp/w1.replay"
fi

# ---- snaplen ----
if command -v editcap >/dev/null; then
	editcap -s 96 "$tmp/t.pcap" "$tmp/cut.pcap" && "$dump" "$tmp/cut.pcap" >"$tmp/cut.dump"
	capture "$tmp/s96" "$tmp/t.pcap" -S 96
	diff_ok <(cut -d' ' -f2-6 "$tmp/cut.dump") <(packets "$tmp/s96" | cut -d' ' -f2-6)
	tap $? "snaplen 96: the bytes and lengths of editcap -s 96 (tagged frames cut after the tag)"
else
	echo "ok $((n += 1)) # SKIP editcap not installed"
fi

# ---- two sockets in a fanout group ----
capture "$tmp/w2" "$tmp/t.pcap" -w 2
tap $? "two sockets: capdump -w 2 ends with status 0"
diff_ok <(cut -d' ' -f2-6 "$tmp/file.dump" | sort) <(packets "$tmp/w2" | cut -d' ' -f2-6 | sort)
tap $? "two sockets: the union is all $total packets"
q0=$(packets "$tmp/w2" | awk '$7 == 0' | wc -l)
q1=$(packets "$tmp/w2" | awk '$7 == 1' | wc -l)
[ "$q0" -gt 0 ] && [ "$q1" -gt 0 ]
tap $? "two sockets: each got some ($q0 + $q1)"
[ "$(stat_sum "$tmp/w2" drops)" -eq 0 ]
tap $? "two sockets: 0 drops"
# hash -> sockets that received a packet with that hash
packets "$tmp/w2" | awk '{ print $6, $7 }' | sort -u >"$tmp/w2.where"
# conversation_check KEYS TEXT: KEYS is "hash key" per file packet; every
# key must have been received on one socket only.
conversation_check() {
	awk 'NR == FNR { q[$1] = q[$1] " " $2; next }
	     { split(q[$1], s, " "); for (i in s) seen[$2 " " s[i]] = 1; keys[$2] = 1 }
	     END {
	         for (k in seen) { split(k, f, " "); nq[f[1]]++ }
	         for (k in keys) { n++; if (nq[k] != 1) bad++ }
	         printf "%d %d\n", n, bad
	     }' "$tmp/w2.where" "$1"
}
if command -v tshark >/dev/null; then
	# one line per frame: hash, then proto:a:pa:b:pb with the endpoints in
	# order, so both directions give one key; ICMP (with quoted headers)
	# and fragments without ports get no key
	tshark -r "$tmp/t.pcap" -o ip.defragment:FALSE -T fields -E occurrence=f \
		-E separator=, -e frame.protocols -e ip.src -e ipv6.src -e ip.dst \
		-e ipv6.dst -e tcp.srcport -e tcp.dstport -e udp.srcport \
		-e udp.dstport 2>/dev/null |
		paste -d, <(cut -d' ' -f6 "$tmp/file.dump") - |
		awk -F, '$2 !~ /icmp/ && ($7 != "" || $9 != "") {
			p = $7 != "" ? "tcp" : "udp"
			a = $3 $4 ":" ($7 != "" ? $7 : $9); b = $5 $6 ":" ($7 != "" ? $8 : $10)
			print $1, (a < b ? p "/" a "/" b " >" : p "/" b "/" a " <") }' >"$tmp/tuples"
	twoway=$(awk '{ print $2, $3 }' "$tmp/tuples" | sort -u | awk '{ print $1 }' | uniq -d | wc -l)
	read -r nk bad < <(conversation_check "$tmp/tuples")
	[ "$nk" -gt 100 ] && [ "$twoway" -gt 100 ] && [ "$bad" -eq 0 ]
	tap $? "two sockets: every packet of each of $nk UDP/TCP 5-tuples ($twoway seen both ways) on one socket ($bad split)"
	# address pairs (what the fanout hash uses): every packet with an IP header
	tshark -r "$tmp/t.pcap" -T fields -E occurrence=f -E separator=, \
		-e ip.src -e ipv6.src -e ip.dst -e ipv6.dst 2>/dev/null |
		paste -d, <(cut -d' ' -f6 "$tmp/file.dump") - |
		awk -F, '$2 $3 != "" { a = $2 $3; b = $4 $5; print $1, (a < b ? a "/" b : b "/" a) }' >"$tmp/pairs"
	read -r nk bad < <(conversation_check "$tmp/pairs")
	[ "$nk" -gt 10 ] && [ "$bad" -eq 0 ]
	tap $? "two sockets: every packet of each of $nk address pairs on one socket ($bad split)"
else
	echo "ok $((n += 1)) # SKIP tshark not installed (5-tuple check)"
	echo "ok $((n += 1)) # SKIP tshark not installed (address-pair check)"
fi

# ---- IPv4 fragments ----
# 120 exchanges: a query client:port -> 192.0.2.x:53, then its 2008-byte UDP
# response in two fragments (1480 + 528 bytes of IP payload).  Written as a
# hex dump for text2pcap: no tool here writes fragments.
frag_hex() {
	awk 'function hx(v, n,   s, i) {
		s = ""
		for (i = n - 1; i >= 0; i--) s = s sprintf("%02x", int(v / 256 ^ i) % 256)
		return s
	}
	function ip4(s3, s4, d4, id, frag, plen,   tot, sum) {
		tot = 20 + plen
		sum = 17664 + tot + id + frag + 16401 + 2561 + s3 * 256 + s4 + 49152 + 512 + d4
		while (sum > 65535) sum = int(sum / 65536) + sum % 65536
		return "4500" hx(tot, 2) hx(id, 2) hx(frag, 2) "4011" hx(65535 - sum, 2) \
			"0a01" hx(s3, 1) hx(s4, 1) "c00002" hx(d4, 1)
	}
	function ip4r(d3, d4, s4, id, frag, plen,   tot, sum) {
		tot = 20 + plen
		sum = 17664 + tot + id + frag + 16401 + 49152 + 512 + s4 + 2561 + d3 * 256 + d4
		while (sum > 65535) sum = int(sum / 65536) + sum % 65536
		return "4500" hx(tot, 2) hx(id, 2) hx(frag, 2) "4011" hx(65535 - sum, 2) \
			"c00002" hx(s4, 1) "0a01" hx(d3, 1) hx(d4, 1)
	}
	function zeros(n,   s) { s = ""; while (n-- > 0) s = s "00"; return s }
	function out(p,   o, len, line) {
		len = length(p) / 2
		for (o = 0; o < len; o += 16) {
			line = sprintf("%06x", o)
			for (i = o; i < o + 16 && i < len; i++) line = line " " substr(p, 2 * i + 1, 2)
			print line
		}
	}
	BEGIN {
		eth = "020000000002" "020000000001" "0800"
		for (x = 0; x < 120; x++) {
			c3 = int(x / 250); c4 = 1 + x % 250; s4 = 1 + x % 3; port = 1024 + 7 * x
			out(eth ip4(c3, c4, s4, x, 0, 28) hx(port, 2) "0035" hx(28, 2) "0000" zeros(20))
			udp = "0035" hx(port, 2) hx(2008, 2) "0000"
			out(eth ip4r(c3, c4, s4, x, 8192, 1480) udp zeros(1472))
			out(eth ip4r(c3, c4, s4, x, 185, 528) zeros(528))
		}
	}'
}
if command -v text2pcap >/dev/null; then
	frag_hex >"$tmp/frag.txt"
	text2pcap "$tmp/frag.txt" "$tmp/frag.pcap" >/dev/null 2>&1
	"$dump" "$tmp/frag.pcap" >"$tmp/frag.dump"
	fragments=$(tcpdump -r "$tmp/frag.pcap" -nn 'ip[6:2] & 0x3fff != 0' 2>/dev/null | wc -l)
	capture "$tmp/wf" "$tmp/frag.pcap" -w 2
	diff_ok <(cut -d' ' -f2-6 "$tmp/frag.dump" | sort) <(packets "$tmp/wf" | cut -d' ' -f2-6 | sort)
	tap $? "fragments: all 360 packets ($fragments fragments) arrive, none reassembled"
	packets "$tmp/wf" | awk '{ print $6, $7 }' | sort -u >"$tmp/w2.where"
	awk '{ print $6, int((NR - 1) / 3) }' "$tmp/frag.dump" >"$tmp/exchanges"
	read -r nk bad < <(conversation_check "$tmp/exchanges")
	[ "$nk" -eq 120 ] && [ "$bad" -eq 0 ]
	tap $? "fragments: query and both response fragments of each of $nk exchanges on one socket ($bad split)"
else
	echo "ok $((n += 1)) # SKIP text2pcap not installed (fragments)"
fi

# ---- BPF filter ----
# The kernel runs the filter after moving the outermost VLAN tag out of the
# frame (as for tcpdump on a live Linux interface), so 'udp port 53' also
# passes DNS in one 802.1Q tag: on the file that is the second alternative.
capture "$tmp/bpf" "$tmp/t.pcap" -f 'udp port 53'
tcpdump -r "$tmp/t.pcap" -w "$tmp/dns.pcap" 'udp port 53 or (vlan and udp port 53)' 2>/dev/null
"$dump" "$tmp/dns.pcap" >"$tmp/dns.dump"
want=$(wc -l <"$tmp/dns.dump")
diff_ok <(cut -d' ' -f2-6 "$tmp/dns.dump") <(packets "$tmp/bpf" | cut -d' ' -f2-6)
tap $? "filter 'udp port 53': the $want packets tcpdump's filter passes on the file"

# ---- errors ----
out=$(ip netns exec "$ns" "$dump" -i nosuch0 -d afpacket 2>&1)
rc=$?
[ "$rc" -eq 1 ] && [ "$out" = "capdump: nosuch0: no such interface" ]
tap $? "a missing interface: exit 1, '$out'"
out=$(ip netns exec "$ns" "$dump" -i "$cap_if" -d afpacket -f 'udp port' 2>&1)
rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == "capdump: filter 'udp port': "* ]]
tap $? "a bad filter: exit 1, '$out'"
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$dump"; then
	out=$(ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$dump" -i "$cap_if" -d afpacket 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] && [[ "$out" == *"needs CAP_NET_RAW"* ]]
	tap $? "without CAP_NET_RAW: exit 1, '$out'"
else
	echo "ok $((n += 1)) # SKIP cannot run capdump as an unprivileged user here"
fi

exit $((failures > 0))
