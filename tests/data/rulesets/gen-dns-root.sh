#!/usr/bin/env bash
# gen-dns-root.sh -- write the expected rule table of rulesets/dns-root.srl
# (NeMaC rules-file form) to stdout.  The table is long but regular, so it is
# derived here from the server list by srlc's code-generation scheme (see
# two-groups.rules), not captured from srlc:
#
#   1-5    if SourceTransType == (udp, tcp) && DestTransAddress == dns {
#          the type list jumps (Goto: a test follows) to the port test; each
#          failing factor goes to the program's final nomatch (GotoAct: a
#          Null rule).
#   6-8    if DestPeerType == IPv4 save, {...}
#          else if DestPeerType == IPv6 save, {...} else ignore;
#          PushRuleTo (plain: each THEN starts with its chain's first test);
#          srlc lays ELSE code before THEN code, so the IPv6 block comes
#          before the IPv4 block.
#   then, for IPv6 and again for IPv4, a server chain:
#          26 tests, one per server in file order (16-byte IPv6 or 4-byte
#          IPv4 address); a match saves the address (PushRuleToAct: its THEN
#          starts with a STORE); a failed test falls through to the next
#          server's test, so no jumps sit between them;
#          nomatch, the chain's last ELSE (not a listed server);
#          the THEN blocks, last server first (the ELSE-before-THEN layout
#          nests the chain to the right): STORE FlowClass (PushRuleToAct:
#          the next STORE is unconditional too), STORE FlowKind (PushRuleTo:
#          the local_net test follows).
#   last 5 if SourcePeerAddress == local_net { save ToTurnaroundTime = ...;
#          count; }  (local_net = 0.0.0.0/0: mask 0, matches any client);
#          nomatch;  every "not DNS to a server" path ends there.
set -eu

# letter class kind IPv4 IPv6 -- as in rulesets/dns-root.srl (and its sources)
servers=(
	"a root 1  198.41.0.4     2001:503:ba3e::2:30"
	"b root 2  170.247.170.2  2801:1b8:10::b"
	"c root 3  192.33.4.12    2001:500:2::c"
	"d root 4  199.7.91.13    2001:500:2d::d"
	"e root 5  192.203.230.10 2001:500:a8::e"
	"f root 6  192.5.5.241    2001:500:2f::f"
	"g root 7  192.112.36.4   2001:500:12::d0d"
	"h root 8  198.97.190.53  2001:500:1::53"
	"i root 9  192.36.148.17  2001:7fe::53"
	"j root 10 192.58.128.30  2001:503:c27::2:30"
	"k root 11 193.0.14.129   2001:7fd::1"
	"l root 12 199.7.83.42    2001:500:9f::42"
	"m root 13 202.12.27.33   2001:dc3::35"
	"a gtld 1  192.5.6.30     2001:503:a83e::2:30"
	"b gtld 2  192.33.14.30   2001:503:231d::2:30"
	"c gtld 3  192.26.92.30   2001:503:83eb::30"
	"d gtld 4  192.31.80.30   2001:500:856e::30"
	"e gtld 5  192.12.94.30   2001:502:1ca1::30"
	"f gtld 6  192.35.51.30   2001:503:d414::30"
	"g gtld 7  192.42.93.30   2001:503:eea3::30"
	"h gtld 8  192.54.112.30  2001:502:8cc::30"
	"i gtld 9  192.43.172.30  2001:503:39c1::30"
	"j gtld 10 192.48.79.30   2001:502:7094::30"
	"k gtld 11 192.52.178.30  2001:503:d2d::30"
	"l gtld 12 192.41.162.30  2001:500:d937::30"
	"m gtld 13 192.55.83.30   2001:501:b1f9::30"
)
n=${#servers[@]}                    # 26
v4mask=255.255.255.255
v6mask=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff

chain6=9                            # first IPv6 server test
else6=$((chain6 + n))               # 35: nomatch, not a listed server
thens6=$((else6 + 1))               # 36: THEN of the last server
chain4=$((thens6 + 2 * n))          # 88: first IPv4 server test
else4=$((chain4 + n))               # 114
thens4=$((else4 + 1))               # 115
local_test=$((thens4 + 2 * n))      # 167
dist=$((local_test + 2))            # 169
count=$((dist + 1))                 # 170
final=$((count + 1))                # 171: the program's nomatch

class_num() { [ "$1" = root ] && echo 0 || echo 1; }

cat <<HEAD
# Expected table for rulesets/dns-root.srl -- written by
# tests/data/rulesets/gen-dns-root.sh (edit that, not this); the scheme is
# explained at the top of the generator.
SET 2
RULES
# if SourceTransType == (udp, tcp) && DestTransAddress == dns {
  SourceTransType & 255 = 17: Goto, 4;  # 1 udp: test the port
  SourceTransType & 255 = 6: Goto, 4;  # 2 tcp
  Null & 0 = 0: GotoAct, $final;  # 3 neither: nomatch
  DestTransAddress & 65535 = 53: Goto, 6;  # 4 a request: which family?
  Null & 0 = 0: GotoAct, $final;  # 5 not to port 53 (e.g. a response): nomatch, retried reversed
#   if DestPeerType == IPv4 save, {...} else if DestPeerType == IPv6 save, {...} else ignore;
  DestPeerType & 255 = 1: PushRuleTo, $chain4;  # 6 IPv4, keyed
  DestPeerType & 255 = 2: PushRuleTo, $chain6;  # 7 IPv6, keyed
  Null & 0 = 0: Ignore, 0;  # 8 neither (not IP)
HEAD

# chain FAMILY FIRST_TEST ELSE_RULE FIRST_THEN MASK: one server chain
chain() {
	local fam=$1 rule=$2 else_rule=$3 thens=$4 mask=$5
	local i letter class kind v4 v6 addr sep
	echo "#   IPv$fam: if DestPeerAddress == a_root$fam save, {...} else if ... else nomatch;"
	for ((i = 0; i < n; i++)); do
		read -r letter class kind v4 v6 <<<"${servers[i]}"
		# an IPv6 value is followed by a blank before the rule's ':'
		if [ "$fam" = 4 ]; then addr=$v4 sep=""; else addr=$v6 sep=" "; fi
		echo "  DestPeerAddress & $mask = $addr$sep: PushRuleToAct, $((thens + 2 * (n - 1 - i)));  # $rule $letter.$class"
		rule=$((rule + 1))
	done
	echo "  Null & 0 = 0: NoMatch, 0;  # $else_rule another server: not ours"
	rule=$((rule + 1))
	for ((i = n - 1; i >= 0; i--)); do
		read -r letter class kind v4 v6 <<<"${servers[i]}"
		echo "  FlowClass & 255 = $(class_num "$class"): PushRuleToAct, $((rule + 1));  # $rule $letter.$class: store FlowClass := $class"
		rule=$((rule + 1))
		echo "  FlowKind & 255 = $kind: PushRuleTo, $local_test;  # $rule store FlowKind := $kind; the local_net test follows"
		rule=$((rule + 1))
	done
}

chain 6 "$chain6" "$else6" "$thens6" "$v6mask"
chain 4 "$chain4" "$else4" "$thens4" "$v4mask"

cat <<TAIL
#   if SourcePeerAddress == local_net { save ToTurnaroundTime = 60.0.0!0 & 3.0.0!0; count; }
  SourcePeerAddress & 0.0.0.0 = 0.0.0.0: GotoAct, $dist;  # $local_test any client (edit local_net to narrow it)
  Null & 0 = 0: GotoAct, $final;  # $((local_test + 1)) not from the site: nomatch
  ToTurnaroundTime & 3.0.0!0 = 60.0.0!0: PushPktToAct, $count;  # $dist request -> response times, transform 3, 60 bins
  Null & 0 = 0: Count, 0;  # $count
# }  nomatch;
  Null & 0 = 0: NoMatch, 0;  # $final
FORMAT FlowRuleSet FlowIndex FirstTime "  "
       FlowClass FlowKind DestPeerType DestPeerAddress "  "
       ToPDUs FromPDUs ToOctets FromOctets "  "
       DNSRequests DNSResponses DNSAnswered DNSLost
       DNSRetransmits DNSUnmatched DNSDuplicates "  "
       ToTurnaroundTime;
STATISTICS
TAIL
