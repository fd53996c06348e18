#!/usr/bin/env bash
# gen-dns-root.sh -- write the expected rule table of rulesets/dns-root.srl
# (NeMaC rules-file form) to stdout.  The table is long but regular, so it is
# derived here from the server list by the code-generation scheme, not
# captured from srlc:
#
#   1-3    if DestPeerType == (IPv4, IPv6) save; else ignore;
#          two PushRuleTo tests (the next IF tests, so the plain form), the
#          ELSE's Ignore placed right after them.
#   4-8    if SourceTransType == (udp, tcp) && DestTransAddress == dns {
#          the type list jumps (Goto: a test follows) to the port test; each
#          failing factor goes to the program's final nomatch (GotoAct: a
#          Null rule).
#   9-60   the server chain, two tests per server (its IPv4 address, 4
#          bytes, then its IPv6 address, 16 bytes) in file order; a match
#          saves the address (PushRuleToAct: its THEN starts with a STORE).
#          A failed test falls through to the next server's tests, so no
#          jumps sit between them.
#   61     the last ELSE: nomatch (not a listed server).
#   62-113 the THEN blocks, last server first (srlc lays ELSE code before
#          THEN code, so the chain nests to the right): STORE FlowClass
#          (PushRuleToAct: the next STORE is unconditional too), STORE
#          FlowKind (PushRuleTo: the local_net test follows).
#   114-117 if SourcePeerAddress == local_net { save ToTurnaroundTime = ...;
#          count; }  (local_net = 0.0.0.0/0: mask 0, matches any client)
#   118    nomatch;  every "not DNS to a server" path ends here.
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

chain=9                             # first server test
chain_else=$((chain + 2 * n))       # 61: nomatch, not a listed server
thens=$((chain_else + 1))           # 62: THEN of the last server
local_test=$((thens + 2 * n))       # 114
dist=$((local_test + 2))            # 116
count=$((dist + 1))                 # 117
final=$((count + 1))                # 118: the program's nomatch

# the first rule of server i's THEN block (the last server's comes first)
then_of() { echo $((thens + 2 * (n - 1 - $1))); }

class_num() { [ "$1" = root ] && echo 0 || echo 1; }

cat <<EOF
# Expected table for rulesets/dns-root.srl -- written by
# tests/data/rulesets/gen-dns-root.sh (edit that, not this); the scheme is
# explained at the top of the generator.
SET 2
RULES
# if DestPeerType == (IPv4, IPv6) save; else ignore;
  DestPeerType & 255 = 1: PushRuleTo, 4;  # 1 IPv4, keyed
  DestPeerType & 255 = 2: PushRuleTo, 4;  # 2 IPv6, keyed
  Null & 0 = 0: Ignore, 0;  # 3 not IP
# if SourceTransType == (udp, tcp) && DestTransAddress == dns {
  SourceTransType & 255 = 17: Goto, 7;  # 4 udp: test the port
  SourceTransType & 255 = 6: Goto, 7;  # 5 tcp
  Null & 0 = 0: GotoAct, $final;  # 6 neither: nomatch
  DestTransAddress & 65535 = 53: Goto, $chain;  # 7 a request: which server?
  Null & 0 = 0: GotoAct, $final;  # 8 not to port 53 (e.g. a response): nomatch, retried reversed
# if DestPeerAddress == a_root save, {...} else if ... else nomatch;
EOF

rule=$chain
for ((i = 0; i < n; i++)); do
	read -r letter class kind v4 v6 <<<"${servers[i]}"
	t=$(then_of "$i")
	echo "  DestPeerAddress & $v4mask = $v4: PushRuleToAct, $t;  # $rule $letter.$class IPv4"
	rule=$((rule + 1))
	echo "  DestPeerAddress & $v6mask = $v6 : PushRuleToAct, $t;  # $rule $letter.$class IPv6"
	rule=$((rule + 1))
done
echo "  Null & 0 = 0: NoMatch, 0;  # $chain_else another server: not ours"
rule=$((rule + 1))

for ((i = n - 1; i >= 0; i--)); do
	read -r letter class kind v4 v6 <<<"${servers[i]}"
	echo "  FlowClass & 255 = $(class_num "$class"): PushRuleToAct, $((rule + 1));  # $rule $letter.$class: store FlowClass := $class"
	rule=$((rule + 1))
	echo "  FlowKind & 255 = $kind: PushRuleTo, $local_test;  # $rule store FlowKind := $kind; the local_net test follows"
	rule=$((rule + 1))
done

cat <<EOF
# if SourcePeerAddress == local_net { save ToTurnaroundTime = 60.0.0!0 & 3.0.0!0; count; }
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
EOF
