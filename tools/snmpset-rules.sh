#!/usr/bin/env bash
# snmpset-rules.sh — download a NeMaC rules file to an RTFM meter (RFC 2720)
# with nothing but net-snmp's snmpset, numeric OIDs and no MIB files, then
# start a task (manager row) running it.
#
#   tools/snmpset-rules.sh [options] RULES.rules HOST[:PORT] WRITE-COMMUNITY [INDEX] [NAME]
#
#   RULES.rules  rules file as `srlc -o` writes it (NeMaC form; labels and
#                Next are resolved too, FORMAT and STATISTICS are ignored)
#   INDEX        flowRuleInfoIndex to create (default: the file's SET, else 2)
#   NAME         flowRuleInfoName (default: the file's base name)
#
#   -m N         manager row (task) to create and point at the set
#                (default: INDEX; 0 = download only, start no task)
#   -o OWNER     owner string (default: USER@HOST)
#   -w PERCENT   flowManagerHighWaterMark of the task (default 0: never)
#   -b N         rules per SET request (default 4, i.e. 20 varbinds)
#   -n           print the snmpset commands instead of running them
#   -h           this text
#
# Environment: SNMPSET (default snmpset), SNMPSET_OPTS (default "-v2c";
# e.g. "-v2c -t 2 -r 3").  An SNMPv3 manager sets SNMPSET_OPTS to its -v3
# options and gives "" as WRITE-COMMUNITY.
#
# The steps (RFC 2720 §3.2 and doc/mib.md): flowRuleInfoStatus = createAndWait;
# Owner, Size, Name; each rule's Selector, Mask, MatchedValue, Action and
# Parameter; flowRuleInfoStatus = active; then flowManagerStatus =
# createAndWait, Owner, CurrentRuleSet, HighWaterMark, flowManagerStatus =
# active.  Masks and values go as hex strings ("x" type): both padded to the
# rule's width (the wider of the two), and 1-byte (or empty) ones padded on
# the right to 2 octets, the least a RuleAddress holds.
#
# Exit status: 0 done; 1 the meter refused a request (snmpset's message is
# shown with the step that failed); 2 bad arguments or an unreadable file.
set -u

prog=${0##*/}
usage() {
	sed -n 's/^#   \{0,1\}//p' "$0" | sed -n '/^tools\/snmpset-rules.sh/,/^-h/p' >&2
	exit 2
}

# flowMIB 1.3.6.1.2.1.40 (common/mib.h)
FLOW=1.3.6.1.2.1.40
RULEINFO=$FLOW.1.1.1            # flowRuleSetInfoEntry
MANAGER=$FLOW.1.4.1             # flowManagerInfoEntry
RULE=$FLOW.3.1.1                # flowRuleEntry
RI_SIZE=2 RI_OWNER=3 RI_STATUS=5 RI_NAME=6
MG_CURRENT=2 MG_HWM=4 MG_OWNER=6 MG_STATUS=8
R_SELECTOR=3 R_MASK=4 R_VALUE=5 R_ACTION=6 R_PARAMETER=7
RS_ACTIVE=1 RS_CREATE_AND_WAIT=5

manager=
owner="${USER:-ntm}@$(hostname 2>/dev/null || echo localhost)"
hwm=0
batch=4
dry=0
while getopts 'm:o:w:b:nh' opt; do
	case $opt in
	m) manager=$OPTARG ;;
	o) owner=$OPTARG ;;
	w) hwm=$OPTARG ;;
	b) batch=$OPTARG ;;
	n) dry=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 3 ] || [ $# -gt 5 ]; then
	usage
fi
rules=$1 host=$2 community=$3 index=${4:-} name=${5:-}

is_num() { [[ $1 =~ ^[0-9]+$ ]]; }
for v in "$hwm" "$batch" ${manager:+"$manager"} ${index:+"$index"}; do
	is_num "$v" || { echo "$prog: '$v' is not a number" >&2; exit 2; }
done
[ "$batch" -ge 1 ] || { echo "$prog: -b must be at least 1" >&2; exit 2; }
[ -r "$rules" ] || { echo "$prog: cannot read $rules" >&2; exit 2; }

# ---- the rules file -> one line per rule: "SELECTOR MASKHEX VALUEHEX ACTION PARAM"
# (a first line "SET n" when the file has one).  The attribute table and the
# value syntax follow common/attr.c and common/value.c (RFC 2723 App. B).
parsed=$(awk '
function die(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 2
}
function trim(s) { sub(/^[ \t\r]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
function attr(num, type, width, name, alias) {
	A_NUM[tolower(name)] = num
	A_TYPE[num] = type
	A_WIDTH[num] = width
	if (alias != "")
		A_NUM[tolower(alias)] = num
}
function op(num, name) { OP[tolower(name)] = num }
function init() {
	# attribute number, type, width, name, alias (common/attr.c)
	attr(0, "none", 0, "Null", "")
	attr(1, "int", 4, "FlowIndex", "")
	attr(2, "int", 1, "FlowStatus", "")
	attr(3, "time", 4, "FlowTimeMark", "")
	attr(4, "int", 2, "SourceInterface", "")
	attr(5, "int", 1, "SourceAdjacentType", "")
	attr(6, "adjacent", 6, "SourceAdjacentAddress", "")
	attr(7, "mask", 6, "SourceAdjacentMask", "")
	attr(8, "int", 1, "SourcePeerType", "")
	attr(9, "peer", 16, "SourcePeerAddress", "")
	attr(10, "mask", 16, "SourcePeerMask", "")
	attr(11, "int", 1, "SourceTransType", "")
	attr(12, "trans", 2, "SourceTransAddress", "")
	attr(13, "mask", 2, "SourceTransMask", "")
	attr(14, "int", 2, "DestInterface", "")
	attr(15, "int", 1, "DestAdjacentType", "")
	attr(16, "adjacent", 6, "DestAdjacentAddress", "")
	attr(17, "mask", 6, "DestAdjacentMask", "")
	attr(18, "int", 1, "DestPeerType", "")
	attr(19, "peer", 16, "DestPeerAddress", "")
	attr(20, "mask", 16, "DestPeerMask", "")
	attr(21, "int", 1, "DestTransType", "")
	attr(22, "trans", 2, "DestTransAddress", "")
	attr(23, "mask", 2, "DestTransMask", "")
	attr(24, "int", 1, "PDUScale", "")
	attr(25, "int", 1, "OctetScale", "")
	attr(26, "int", 1, "FlowRuleSet", "RuleSet")
	attr(27, "counter", 8, "ToOctets", "")
	attr(28, "counter", 8, "ToPDUs", "")
	attr(29, "counter", 8, "FromOctets", "")
	attr(30, "counter", 8, "FromPDUs", "")
	attr(31, "time", 4, "FirstTime", "")
	attr(32, "time", 4, "LastActiveTime", "LastTime")
	attr(33, "string", 20, "SourceSubscriberID", "")
	attr(34, "string", 20, "DestSubscriberID", "")
	attr(35, "string", 20, "SessionID", "")
	attr(36, "int", 1, "SourceClass", "")
	attr(37, "int", 1, "DestClass", "")
	attr(38, "int", 1, "FlowClass", "")
	attr(39, "int", 1, "SourceKind", "")
	attr(40, "int", 1, "DestKind", "")
	attr(41, "int", 1, "FlowKind", "")
	attr(50, "int", 1, "MatchingStoD", "")
	attr(51, "variable", 2, "v1", "")
	attr(52, "variable", 2, "v2", "")
	attr(53, "variable", 2, "v3", "")
	attr(54, "variable", 2, "v4", "")
	attr(55, "variable", 2, "v5", "")
	attr(65, "int", 4, "Distributions", "")
	attr(66, "dist", 6, "ToPacketSize", "")
	attr(67, "dist", 6, "FromPacketSize", "")
	attr(68, "dist", 6, "ToInterarrivalTime", "")
	attr(69, "dist", 6, "FromInterarrivalTime", "")
	attr(70, "dist", 6, "ToTurnaroundTime", "")
	attr(71, "dist", 6, "FromTurnaroundTime", "")
	attr(72, "dist", 6, "ToBitRate", "")
	attr(73, "dist", 6, "FromBitRate", "")
	attr(74, "dist", 6, "ToPDURate", "")
	attr(75, "dist", 6, "FromPDURate", "")
	attr(98, "int", 1, "QoSService", "")
	attr(99, "int", 1, "QoSStyle", "")
	attr(100, "int", 4, "QoSRate", "")
	attr(101, "int", 4, "QoSSlackTerm", "")
	attr(102, "int", 4, "QoSTokenBucketRate", "")
	attr(103, "int", 4, "QoSTokenBucketSize", "")
	attr(104, "int", 4, "QoSPeakDataRate", "")
	attr(105, "int", 4, "QoSMinPolicedUnit", "")
	attr(106, "int", 4, "QoSMaxPolicedUnit", "QoSMaxDatagramSize")
	attr(112, "int", 4, "MeterID", "")
	attr(113, "int", 4, "SourceASN", "")
	attr(114, "int", 1, "SourcePrefix", "")
	attr(115, "int", 4, "DestASN", "")
	attr(116, "int", 1, "DestPrefix", "")
	attr(118, "int", 1, "DSCodePoint", "")
	attr(512, "int", 2, "VlanID", "")
	attr(513, "int", 2, "InnerVlanID", "")
	attr(514, "int", 1, "IPVersion", "")
	attr(515, "int", 1, "DNSQR", "")
	attr(516, "int", 1, "DNSOpcode", "")
	attr(517, "int", 2, "DNSQType", "")
	attr(520, "counter", 8, "DNSRequests", "")
	attr(521, "counter", 8, "DNSResponses", "")
	attr(522, "counter", 8, "DNSAnswered", "")
	attr(523, "counter", 8, "DNSLost", "")
	attr(524, "counter", 8, "DNSRetransmits", "")
	attr(525, "counter", 8, "DNSUnmatched", "")
	attr(526, "counter", 8, "DNSDuplicates", "")
	attr(527, "counter", 8, "RTTSamples", "")
	attr(530, "time_ns", 8, "FirstTimeNs", "")
	attr(531, "time_ns", 8, "LastTimeNs", "")
	# actions (RFC 2722 §4.4) and NeMaC aliases (common/rule.c)
	op(1, "Ignore"); op(2, "NoMatch"); op(3, "Count"); op(4, "CountPkt")
	op(5, "Return"); op(6, "Gosub"); op(7, "GosubAct"); op(8, "Assign")
	op(9, "AssignAct"); op(10, "Goto"); op(11, "GotoAct")
	op(12, "PushRuleTo"); op(13, "PushRuleToAct"); op(14, "PushPktTo")
	op(15, "PushPktToAct"); op(16, "PopTo"); op(17, "PopToAct")
	op(12, "Pushto"); op(13, "PushtoAct"); op(14, "PushPktto")
	op(15, "PushPkttoAct"); op(2, "Retry"); op(2, "Fail")
	# symbolic values of the rules-file form (common/rulesfile.h)
	SYM["8 ip"] = 1; SYM["8 ipv4"] = 1; SYM["8 ipv6"] = 2
	SYM["11 icmp"] = 1; SYM["11 tcp"] = 6; SYM["11 udp"] = 17; SYM["11 icmpv6"] = 58
	for (k in SYM) {
		split(k, kk, " ")
		if (kk[1] == 8) SYM["18 " kk[2]] = SYM[k]
		if (kk[1] == 11) SYM["21 " kk[2]] = SYM[k]
	}
	for (i = 0; i < 16; i++) HEXV[substr("0123456789abcdef", i + 1, 1)] = i
}
function hexnum(s,    v, i) {
	s = tolower(s)
	v = 0
	for (i = 1; i <= length(s); i++) {
		if (!(substr(s, i, 1) in HEXV))
			die("\"" s "\" is not a hex number")
		v = v * 16 + HEXV[substr(s, i, 1)]
	}
	return v
}
# append v as n bytes (big-endian) to the global B[1..NB]
function put(v, n,    i, k) {
	for (i = n - 1; i >= 0; i--) {
		k = int(v / (256 ^ i)) % 256
		B[++NB] = k
	}
}
function width_for(a, nbytes,    t) {
	t = A_TYPE[a]
	if (t == "variable" || t == "none") return nbytes <= 20 ? nbytes : 0
	if (t == "peer") return nbytes <= 4 ? 4 : nbytes <= 16 ? 16 : 0
	if (t == "dist") return nbytes <= 6 ? 6 : 0
	return nbytes <= A_WIDTH[a] ? A_WIDTH[a] : 0
}
function ipv6(s,    halves, n, head, tail, nh, nt, i, ng, q, zeros, v4) {
	NB = 0
	n = split(s, halves, "::")
	if (n > 2) die("\"" s "\" is not an IPv6 address")
	nh = (halves[1] == "") ? 0 : split(halves[1], head, ":")
	nt = (n < 2 || halves[2] == "") ? 0 : split(halves[2], tail, ":")
	# an embedded IPv4 address in the last group counts as two groups
	v4 = ""
	if (nt > 0 && tail[nt] ~ /\./) { v4 = tail[nt]; nt--; ng = 2 }
	else if (n < 2 && nh > 0 && head[nh] ~ /\./) { v4 = head[nh]; nh--; ng = 2 }
	else ng = 0
	zeros = 8 - nh - nt - ng
	if ((n == 2 && zeros < 1) || (n < 2 && zeros != 0))
		die("\"" s "\" is not an IPv6 address")
	for (i = 1; i <= nh; i++) {
		if (head[i] !~ /^[0-9a-fA-F]+$/ || length(head[i]) > 4) die("\"" s "\" is not an IPv6 address")
		put(hexnum(head[i]), 2)
	}
	for (i = 0; i < zeros; i++) put(0, 2)
	for (i = 1; i <= nt; i++) {
		if (tail[i] !~ /^[0-9a-fA-F]+$/ || length(tail[i]) > 4) die("\"" s "\" is not an IPv6 address")
		put(hexnum(tail[i]), 2)
	}
	if (v4 != "") {
		if (split(v4, q, ".") != 4) die("\"" s "\" is not an IPv6 address")
		for (i = 1; i <= 4; i++) put(q[i] + 0, 1)
	}
}
# value text s for attribute a -> B[1..NB] right-padded to the width, W = width
function value(a, s,    t, n, i, ch, f, fa, w, hex, fb, v, prev) {
	s = trim(s)
	if (s == "") die("empty value")
	NB = 0
	t = A_TYPE[a]
	if ((a " " tolower(s)) in SYM) s = SYM[a " " tolower(s)]
	if (s ~ /^\047/) {                              # character constant
		if (s ~ /^\047\\[\\\047]\047$/) ch = substr(s, 3, 1)
		else if (length(s) == 3 && substr(s, 3, 1) == "\047") ch = substr(s, 2, 1)
		else die("bad character constant " s)
		for (i = 32; i < 127; i++) if (sprintf("%c", i) == ch) break
		put(i, 1)
		W = 1
		return
	}
	if (t == "variable" && s ~ /^[A-Za-z]/ && (tolower(s) in A_NUM)) {
		put(A_NUM[tolower(s)], 2)
		W = 2
		return
	}
	if (s ~ /:/) {
		if (s ~ /^[0-9a-fA-F][0-9a-fA-F]?(:[0-9a-fA-F][0-9a-fA-F]?)(:[0-9a-fA-F][0-9a-fA-F]?)(:[0-9a-fA-F][0-9a-fA-F]?)(:[0-9a-fA-F][0-9a-fA-F]?)(:[0-9a-fA-F][0-9a-fA-F]?)$/) {
			n = split(s, fa, ":")
			for (i = 1; i <= n; i++) put(hexnum(fa[i]), 1)
		} else
			ipv6(s)
	} else if (s ~ /^[0-9]+$/) {                    # one number: the whole width
		v = s + 0
		if (v > 9007199254740992) die("value " s " is too big for this tool")
		if (t == "variable" || t == "none") {
			w = 1
			while (v >= 256 ^ w) w++
		} else if (t == "peer") w = 4
		else w = A_WIDTH[a]
		if (w == 0 || (w < 8 && v >= 256 ^ w)) die("value " s " does not fit in " w " bytes")
		if (w > 8) { for (i = 0; i < w - 8; i++) put(0, 1); put(v, 8) }
		else put(v, w)
		W = w
		return
	} else {                                        # typed fields: 1.3.10!50, FF-FF
		prev = ""
		while (s != "") {
			if (!match(s, /^[0-9a-fA-F]+/)) die("unexpected \"" substr(s, 1, 1) "\" in value")
			f = substr(s, 1, RLENGTH)
			s = substr(s, RLENGTH + 1)
			if (s == "") ch = prev
			else {
				ch = substr(s, 1, 1)
				s = substr(s, 2)
				if (ch != "." && ch != "-" && ch != "!") die("unexpected \"" ch "\" in value")
				if (s == "") die("value ends after a field separator")
			}
			hex = (ch == "-")
			fb = (ch == "!") ? 2 : 1
			if (!hex && f !~ /^[0-9]+$/) die("\"" f "\" is not a decimal field")
			v = hex ? hexnum(f) : f + 0
			if (v >= 256 ^ fb) die("field " f " does not fit in " fb " byte(s)")
			put(v, fb)
			prev = ch
		}
	}
	w = width_for(a, NB)
	if (w == 0) die("value is " NB " bytes, too wide for the attribute")
	while (NB < w) B[++NB] = 0
	W = w
}
function hexof(n, w,    s, i) {
	s = ""
	for (i = 1; i <= w; i++) s = s sprintf("%02X", i <= n ? BB[i] : 0)
	return s
}
BEGIN { init() }
# pass 1: labels -> rule numbers
FNR == NR {
	line = $0
	sub(/#.*/, "", line)
	line = trim(line)
	if (line ~ /^(FORMAT|format|Format)([ \t]|$)/) { done1 = 1 }
	if (done1 || line == "") next
	if (line ~ /^[Rr][Uu][Ll][Ee][Ss];?$/ || line ~ /^[Ss][Ee][Tt][ \t]/) next
	if (line ~ /^[A-Za-z_][A-Za-z0-9_]*[ \t]*:$/) {
		sub(/[ \t]*:$/, "", line)
		LABEL[tolower(line)] = nr1 + 1
		next
	}
	nr1++
	next
}
# pass 2: the rules
{
	line = $0
	sub(/#.*/, "", line)
	line = trim(line)
	if (line ~ /^(FORMAT|format|Format)([ \t]|$)/) { done2 = 1 }
	if (done2 || line == "" || line ~ /^[Ss][Tt][Aa][Tt][Ii][Ss][Tt][Ii][Cc][Ss];?$/) next
	if (line ~ /^[Rr][Uu][Ll][Ee][Ss];?$/) next
	if (line ~ /^[Ss][Ee][Tt][ \t]+[0-9]+[ \t]*;?$/) {
		sub(/^[Ss][Ee][Tt][ \t]+/, "", line)
		sub(/[ \t]*;$/, "", line)
		print "SET " (line + 0)
		next
	}
	if (line ~ /^[A-Za-z_][A-Za-z0-9_]*[ \t]*:$/) next
	nr++
	sub(/[ \t]*;[ \t]*$/, "", line)
	# attribute & mask = value: action[, parameter]
	amp = index(line, "&")
	if (!amp) die("expected \"attribute & mask = value: action, parameter;\"")
	an = tolower(trim(substr(line, 1, amp - 1)))
	if (an ~ /^[0-9]+$/ && (an + 0) in A_TYPE) a = an + 0
	else if (an in A_NUM) a = A_NUM[an]
	else die("unknown attribute \"" an "\"")
	rest = substr(line, amp + 1)
	eq = index(rest, "=")
	if (!eq) die("expected \"=\" after the mask")
	mask = substr(rest, 1, eq - 1)
	rest = substr(rest, eq + 1)
	if (!match(rest, /:[ \t]*[A-Za-z]+[ \t]*(,[ \t]*[A-Za-z0-9_]+)?[ \t]*$/))
		die("expected \": action, parameter\" at the end of the rule")
	val = substr(rest, 1, RSTART - 1)
	tail = substr(rest, RSTART + 1)
	n = split(tail, ap, ",")
	actn = tolower(trim(ap[1]))
	if (!(actn in OP)) die("unknown action \"" trim(ap[1]) "\"")
	par = n > 1 ? trim(ap[2]) : "0"
	if (tolower(par) == "next") par = nr + 1
	else if (par !~ /^[0-9]+$/) {
		if (!(tolower(par) in LABEL)) die("unknown label \"" par "\"")
		par = LABEL[tolower(par)]
	}
	if (par + 0 > 65535) die("parameter " par " is above 65535")
	value(a, mask)
	for (i = 1; i <= NB; i++) BB[i] = B[i]
	nm = NB; wm = W
	value(a, val)
	w = W > wm ? W : wm
	mhex = hexof(nm, w < 2 ? 2 : w)
	for (i = 1; i <= NB; i++) BB[i] = B[i]
	vhex = hexof(NB, w < 2 ? 2 : w)
	print a, mhex, vhex, OP[actn], par + 0
}
END { if (!failed && nr == 0) { printf "%s: no rules\n", FILENAME > "/dev/stderr"; exit 2 } }
' "$rules" "$rules") || exit 2

set_line=$(sed -n 's/^SET //p' <<<"$parsed")
mapfile -t rule_lines < <(grep -v '^SET ' <<<"$parsed")
size=${#rule_lines[@]}
[ -n "$index" ] || index=${set_line:-2}
[ "$index" -ge 1 ] || { echo "$prog: ruleset index must be at least 1" >&2; exit 2; }
[ -n "$name" ] || { name=${rules##*/}; name=${name%.*}; }
[ -n "$manager" ] || manager=$index

# ---- SET requests ---------------------------------------------------------
# shellcheck disable=SC2206   # SNMPSET_OPTS is a list of options
opts=(${SNMPSET_OPTS:--v2c})
[ -n "$community" ] && opts+=(-c "$community")
snmpset_cmd=("${SNMPSET:-snmpset}" "${opts[@]}" -On "$host")

# run STEP VARBIND... — one snmpset request; on failure show why and stop
run() {
	local step=$1 out
	shift
	if [ $dry -eq 1 ]; then
		printf '%q ' "${snmpset_cmd[@]}" "$@"
		echo
		return 0
	fi
	if ! out=$("${snmpset_cmd[@]}" "$@" 2>&1); then
		echo "$prog: $step failed:" >&2
		while IFS= read -r l; do echo "  $l"; done <<<"$out" >&2
		exit 1
	fi
}

run "creating ruleset $index" "$RULEINFO.$RI_STATUS.$index" i $RS_CREATE_AND_WAIT
run "naming ruleset $index" \
	"$RULEINFO.$RI_OWNER.$index" s "$owner" \
	"$RULEINFO.$RI_SIZE.$index" i "$size" \
	"$RULEINFO.$RI_NAME.$index" s "$name"

vb=()
first=1
for ((r = 1; r <= size; r++)); do
	read -r sel mask val act par <<<"${rule_lines[r - 1]}"
	vb+=("$RULE.$R_SELECTOR.$index.$r" i "$sel"
	     "$RULE.$R_MASK.$index.$r" x "$mask"
	     "$RULE.$R_VALUE.$index.$r" x "$val"
	     "$RULE.$R_ACTION.$index.$r" i "$act"
	     "$RULE.$R_PARAMETER.$index.$r" i "$par")
	if [ $((r - first + 1)) -eq "$batch" ] || [ "$r" -eq "$size" ]; then
		run "rules $first..$r of ruleset $index" "${vb[@]}"
		vb=()
		first=$((r + 1))
	fi
done

run "activating ruleset $index" "$RULEINFO.$RI_STATUS.$index" i $RS_ACTIVE

if [ "$manager" -gt 0 ]; then
	run "creating task $manager" "$MANAGER.$MG_STATUS.$manager" i $RS_CREATE_AND_WAIT
	run "setting up task $manager" \
		"$MANAGER.$MG_OWNER.$manager" s "$owner" \
		"$MANAGER.$MG_CURRENT.$manager" i "$index" \
		"$MANAGER.$MG_HWM.$manager" i "$hwm"
	run "starting task $manager" "$MANAGER.$MG_STATUS.$manager" i $RS_ACTIVE
fi
[ $dry -eq 1 ] || echo "$prog: ruleset $index ($name, $size rules) downloaded${manager:+$([ "$manager" -gt 0 ] && echo ", running as task $manager")}"
exit 0
