#!/bin/bash
# family-lab.sh - the self-test gives the same verdicts on an IPv6-only lab as on IPv4 for every
# fault that exists on both families (issue 15's acceptance).
#
# The lab is built twice: plain (the phone on IPv4 behind the router's NAT) and `ipv6-only`
# (the phone's LAN has IPv6 only, routed without NAT; every platform name has an AAAA).  On
# each, the same scenarios run diag-run (switching faults with `lab fault`/`lab unfault`, no
# rebuild), and the verdicts of the checks below are compared between the two families: one
# `ok` per fault and the checks it acts on ("same verdict on IPv4 and IPv6: X"), one per
# scenario for the checks no fault of it acts on.  Faults are grouped where they act on
# different checks (like diag-lab.sh):
#   clean
#   block=udp5060 (east-udp, west-udp) + block=stun (nat) + block=rtp (rtp-ports, voice: the
#     voice stream goes to the reflector's RTP ports) +
#     bleach-dscp (dscp) + udp-timeout=3 (udp-lifetime, the background check)
#   loss=5 (voice)
#   east-down (east-*) + delay=10,50 (voice)
# and, IPv6 only, pmtu6=1400: the MTU check must not PASS silently (what it says is recorded).
# The HTTPS and SIP ALG probes are compared too, and on the clean IPv6-only run they must have run
# over IPv6 (not SKIP "no IPv4 address"): https PASS with `server` "[addr]:port", sip-alg PASS
# "no SIP ALG" with `fam` 6 (the lab's router does not rewrite IPv6).
# A difference the agent has to fix is marked `# AGENT-DIFF:` in KNOWN_DIFF below.
#
# NAT differs by nature: on IPv4 the phone is behind the router's NAT ("one NAT (the site's
# router), public address 203.0.113.2"), on IPv6 it is not NATed at all ("no NAT (native
# IPv6)"). Both are a working site and PASS; what is comparable is the verdict (PASS clean,
# the same non-PASS with STUN blocked), not the situation or the advice, which name the family.
# The advice of every compared check is printed beside the verdicts (TAP comments) for review.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
LAB=$top_srcdir/tests/lab/lab
RUN=$top_builddir/tests/e2e/diag-run

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
# Once per CI run: it compares the lab's verdicts (2 lab builds, 9 self-tests, ~3 min); the
# IPv6 code it runs is under ASan in the sanitizer pass through ipv6-lab.sh, call6-lab.sh,
# agent-srv-lab.sh and the unit tests (test_diag_v6.c).
[ -z "${DSA_SANITIZERS:-}" ] || skip_all "the family comparison runs in the normal pass (tests/run-all)"
[ -x "$LAB" ] || skip_all "no lab (tests/lab/lab)"
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || skip_all "no network namespaces"
command -v python3 >/dev/null || skip_all "no python3"
[ -x "$RUN" ] || { echo "1..1"; echo "not ok 1 - diag-run built"; exit 1; }

# Every lab user holds the lab lock: re-run this script under it.
if [ "${DSA_LAB_LOCKED:-0}" != 1 ]; then
	exec "$LAB" with-lock "$0" "$@"
fi
# shellcheck source=../lab/lab.env
. "$top_srcdir/tests/lab/lab.env"

WORK=$(mktemp -d /tmp/family-lab.XXXXXX)
T_START=$(date +%s)
cleanup() {
	DSA_LAB_QUIET=1 "$LAB" down >/dev/null 2>&1 || true
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

BASE=(--if "$DSA_LAB_PHONE_IF" --prov-url "$DSA_LAB_PROV_URL" --ca "$DSA_LAB_CA_CERT"
	--cert "$DSA_LAB_DEVICE_CERT" --key "$DSA_LAB_DEVICE_KEY"
	--east "$DSA_LAB_SIP_EAST_HOST" --west "$DSA_LAB_SIP_WEST_HOST"
	--stun "$DSA_LAB_STUN_HOST:$DSA_LAB_STUN_PORT" --reflector "$DSA_LAB_REFLECTOR_HOST:$DSA_LAB_REFLECTOR_PORT"
	--rtp "$DSA_LAB_RTP_MIN-$DSA_LAB_RTP_MAX" --keepalive 6 --margin 2 --background
	--skip call,audio,srtp)
CHECKS="dns https east-udp east-tcp east-tls west-udp west-tcp west-tls nat sip-alg rtp-ports voice dscp mtu udp-lifetime"

# scenario: name, faults, then fault=checks it acts on (clean: every check)
SCENARIOS=(
	"clean||clean=${CHECKS// /,}"
	"blocks|block=udp5060 block=stun block=rtp bleach-dscp udp-timeout=3|block=udp5060=east-udp,west-udp block=stun=nat block=rtp=rtp-ports,voice bleach-dscp=dscp udp-timeout=3=udp-lifetime"
	"loss|loss=5|loss=5=voice"
	"east-down-delay|east-down delay=10,50|east-down=east-udp,east-tcp,east-tls delay=10,50=voice"
)

# Known differences between the families, "scenario:check" -> "IPv4 verdict/IPv6 verdict": the
# test passes while the difference is exactly this (a fixed agent makes it fail: delete the line).
declare -A KNOWN_DIFF=()
# (filled in below with `# AGENT-DIFF:` comments, one per difference found)

# verdicts REPORT: "id verdict brief-advice" lines of a report
verdicts() {
	python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
NS = '{urn:dialstack:selftest:1}'
for c in ET.parse(sys.argv[1]).getroot().findall(NS + 'check'):
    adv = (c.find(NS + 'advice').text or '').replace('\n', ' ')
    print(c.get('id'), c.get('verdict'), adv)
EOF
}

# run_diag FAMILY NAME [diag-run args...]: one self-test, its verdicts in $WORK/FAMILY-NAME.v
run_diag() {
	local fam=$1 name=$2 t0 rc
	shift 2
	t0=$(date +%s%N)
	# Bounded: a hung run must never hold the lab lock (and CI) forever.
	timeout -k 5 120 "$LAB" exec-phone "$RUN" "${BASE[@]}" "$@" --xml "$WORK/$fam-$name.xml" \
		>"$WORK/$fam-$name.out" 2>&1
	rc=$?
	echo "# $fam $name: exit $rc in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	if [ -s "$WORK/$fam-$name.xml" ]; then
		verdicts "$WORK/$fam-$name.xml" >"$WORK/$fam-$name.v"
	else
		sed 's/^/# /' "$WORK/$fam-$name.out"
		: >"$WORK/$fam-$name.v"
	fi
}

lab_faults() { # lab_faults fault|unfault FAULT...
	local op=$1
	shift
	[ $# -gt 0 ] || return 0
	DSA_LAB_QUIET=1 "$LAB" "$op" "$@" >>"$WORK/faults.log" 2>&1
}
unfault_args() { # the keys of faults for `lab unfault` (block=POLICY stays whole)
	local f
	for f in "$@"; do
		case "$f" in block=*) echo "$f" ;; *) echo "${f%%=*}" ;; esac
	done
}

# all_scenarios FAMILY: every scenario on the lab that is up
all_scenarios() {
	local fam=$1 s name faults
	for s in "${SCENARIOS[@]}"; do
		IFS='|' read -r name faults _ <<<"$s"
		# shellcheck disable=SC2086
		if ! lab_faults fault $faults; then
			fail "$fam $name: lab fault $faults" "$(tail -n 5 "$WORK/faults.log")"
			continue
		fi
		run_diag "$fam" "$name"
		# shellcheck disable=SC2046,SC2086
		lab_faults unfault $(unfault_args $faults) || fail "$fam $name: lab unfault $faults"
	done
}

v_of() { awk -v c="$2" '$1 == c { print $2 }' "$WORK/$1.v"; }
# value_of RUN CHECK NAME: a value of a check in a run's report
value_of() {
	[ -s "$WORK/$1.xml" ] || return 0
	python3 - "$WORK/$1.xml" "$2" "$3" <<'EOF'
import sys, xml.etree.ElementTree as ET
NS = '{urn:dialstack:selftest:1}'
for c in ET.parse(sys.argv[1]).getroot().findall(NS + 'check'):
    if c.get('id') == sys.argv[2]:
        for v in c.findall(NS + 'value'):
            if v.get('name') == sys.argv[3]:
                print(v.text or '')
EOF
}
line_of() { awk -v c="$2" '$1 == c' "$WORK/$1.v"; }

# ---------------------------------------------------------------- IPv4 (the phone behind the NAT)
if DSA_LAB_QUIET=1 "$LAB" up >"$WORK/up4.log" 2>&1; then
	all_scenarios v4
else
	fail "lab up" "$(tail -n 15 "$WORK/up4.log")"
fi
# ---------------------------------------------------------------- IPv6 only
if DSA_LAB_QUIET=1 "$LAB" up ipv6-only >"$WORK/up6.log" 2>&1; then
	all_scenarios v6
	# the HTTPS and SIP ALG probes ran over IPv6 (an IPv6-only phone)
	echo "# v6 clean: $(line_of v6-clean https) server=$(value_of v6-clean https server)"
	echo "# v6 clean: $(line_of v6-clean sip-alg) fam=$(value_of v6-clean sip-alg fam)"
	ok "ipv6-only clean: https PASS over IPv6 (server $(value_of v6-clean https server))" \
		bash -c '[ "$1" = PASS ] && [[ "$2" == "["*"]:"* ]]' _ "$(v_of v6-clean https)" \
		"$(value_of v6-clean https server)"
	ok "ipv6-only clean: sip-alg PASS \"no SIP ALG\" over IPv6 (fam $(value_of v6-clean sip-alg fam))" \
		bash -c '[ "$1" = PASS ] && [ "$2" = 6 ] && [[ "$3" == *"no SIP ALG"* ]]' _ \
		"$(v_of v6-clean sip-alg)" "$(value_of v6-clean sip-alg fam)" "$(line_of v6-clean sip-alg)"
	ok "ipv6-only: a SIP row's ipv4 value says it was not probed (got '$(value_of v6-clean east-udp ipv4)')" \
		[ "$(value_of v6-clean east-udp ipv4)" = "not probed: no IPv4 address" ]
	# broken path MTU discovery on IPv6 (no IPv4 counterpart): 1448 bytes on the wire > 1400,
	# the router's Packet Too Big dropped
	if lab_faults fault pmtu6=1400; then
		run_diag v6 pmtu6 --only link,address,clock,dns,mtu
		echo "# pmtu6=1400: $(line_of v6-pmtu6 mtu)"
		ok "pmtu6=1400: the MTU check does not PASS silently (got $(v_of v6-pmtu6 mtu))" \
			bash -c '[ -n "$1" ] && [ "$1" != PASS ]' _ "$(v_of v6-pmtu6 mtu)"
		ok "pmtu6=1400: the advice names IPv6's cause (path MTU, Packet Too Big lost), not fragments" \
			grep -q "IPv6 path MTU smaller, ICMPv6 Packet Too Big lost" <<<"$(line_of v6-pmtu6 mtu)"
		lab_faults unfault pmtu6
	else
		fail "lab fault pmtu6=1400" "$(tail -n 5 "$WORK/faults.log")"
	fi
else
	fail "lab up ipv6-only" "$(tail -n 15 "$WORK/up6.log")"
fi

# ---------------------------------------------------------------- the comparison
echo "# verdicts, IPv4 / IPv6:"
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r name _ _ <<<"$s"
	row=""
	for c in $CHECKS; do row+=" $c=$(v_of "v4-$name" "$c")/$(v_of "v6-$name" "$c")"; done
	echo "#   $name:$row"
done
# same FAMILY-less verdicts for CHECKS (comma list) of scenario NAME; prints the verdicts
same() {
	local name=$1 checks=$2 need_fault=$3 c a b seen="" bad=0 acted=0
	for c in ${checks//,/ }; do
		a=$(v_of "v4-$name" "$c")
		b=$(v_of "v6-$name" "$c")
		[ -n "$a" ] && [ -n "$b" ] || bad=1
		[ "$a" != PASS ] && acted=1
		if [ "$a" != "$b" ]; then
			if [ "${KNOWN_DIFF[$name:$c]:-}" = "$a/$b" ]; then
				seen+=" $c=$a/$b(known, AGENT-DIFF)"
				continue
			fi
			bad=1
			echo "# $name $c differs: IPv4: $(line_of "v4-$name" "$c")" >&2
			echo "# $name $c differs: IPv6: $(line_of "v6-$name" "$c")" >&2
		fi
		seen+=" $c=$a"
	done
	echo "${seen# }"
	[ "$bad" = 0 ] && { [ "$need_fault" = 0 ] || [ "$acted" = 1 ]; }
}
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r name _ targets <<<"$s"
	covered=""
	for t in $targets; do
		f=${t%=*} checks=${t##*=}
		# a fault's value may hold '=' (udp-timeout=3=udp-lifetime): the checks follow the last one
		covered+=",$checks"
		need=1
		[ "$f" = clean ] && need=0
		v=$(same "$name" "$checks" "$need" 2>"$WORK/diff")
		rc=$?
		cat "$WORK/diff"
		if [ "$f" != clean ]; then
			for c in ${checks//,/ }; do
				echo "#   $f, IPv4: $(line_of "v4-$name" "$c")"
				echo "#   $f, IPv6: $(line_of "v6-$name" "$c")"
			done
		fi
		if [ "$rc" = 0 ]; then
			pass "$f: same verdict on IPv4 and IPv6: $v"
		else
			fail "$f: same verdict on IPv4 and IPv6 (and the fault acts on IPv4): $v"
		fi
	done
	rest=""
	for c in $CHECKS; do
		case ",$covered," in *",$c,"*) ;; *) rest+=",$c" ;; esac
	done
	if [ -n "$rest" ]; then
		v=$(same "$name" "${rest#,}" 0 2>"$WORK/diff")
		rc=$?
		cat "$WORK/diff"
		if [ "$rc" = 0 ]; then
			pass "$name: the checks no fault acts on, same verdict on IPv4 and IPv6: $v"
		else
			fail "$name: the checks no fault acts on, same verdict on IPv4 and IPv6: $v"
		fi
	fi
done
echo "# family-lab took $(($(date +%s) - T_START)) s"
done_testing
