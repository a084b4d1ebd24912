#!/bin/bash
# diag-lab.sh - the network self-test against the lab (tests/lab): one lab per fault set,
# diag-run inside the phone namespace, assertions on the XML report it writes.
#
# Scenarios (each fault alone or with faults that touch other checks only):
#   clean                               every check PASS
#   alg + bleach-dscp + loss=2          sip-alg FAIL (Via/Contact), dscp WARN, voice FAIL with
#                                       loss 1.5-2.5 % over 10000 packets
#   double-nat + udp-timeout=3 +        nat WARN (double NAT), udp-lifetime FAIL (keepalive 6 s),
#     block=udp5060                     east-udp/west-udp FAIL naming TLS as working
#   cgnat                               nat WARN carrier-grade NAT (public IPv4 / IPv6, no bridge mode)
#   cgnat+double-nat                    nat WARN naming both
#   east-down + delay=10,50             east-* FAIL, west-* PASS, voice RTT 10/30/50 ms and
#                                       RFC 3550 jitter ~40 ms (FAIL), MOS = E-model of those
#   no-dhcp                             address FAIL, every network check SKIP
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
LAB=$top_srcdir/tests/lab/lab
RUN=$top_builddir/tests/e2e/diag-run
ASSERT=$top_srcdir/tests/e2e/diag-assert.py

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
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

WORK=$(mktemp -d /tmp/diag-lab.XXXXXX)
cleanup() {
	DSA_LAB_QUIET=1 "$LAB" down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

BASE=(--if "$DSA_LAB_PHONE_IF" --prov-url "$DSA_LAB_PROV_URL" --ca "$DSA_LAB_CA_CERT"
	--cert "$DSA_LAB_DEVICE_CERT" --key "$DSA_LAB_DEVICE_KEY"
	--east "$DSA_LAB_SIP_EAST_HOST" --west "$DSA_LAB_SIP_WEST_HOST"
	--stun "$DSA_LAB_STUN_HOST:$DSA_LAB_STUN_PORT" --reflector "$DSA_LAB_REFLECTOR_HOST:$DSA_LAB_REFLECTOR_PORT"
	--rtp "$DSA_LAB_RTP_MIN-$DSA_LAB_RTP_MAX" --keepalive 6 --margin 2 --background
	--skip call,audio,srtp)   # the issue-7 checks have their own lab test: call-lab.sh

# scenario NAME "FAULTS" [diag-run args...] -- [assert args...]
scenario() {
	local name=$1 faults=$2 t0 t1 rc
	shift 2
	local -a args=() asserts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	asserts=("$@")
	# shellcheck disable=SC2086
	if ! DSA_LAB_QUIET=1 "$LAB" up $faults >"$WORK/$name.up.log" 2>&1; then
		fail "$name: lab up $faults" "$(tail -n 15 "$WORK/$name.up.log")"
		return
	fi
	t0=$(date +%s%N)
	# Bounded: a hung run must never hold the lab lock (and CI) forever.
	timeout -k 5 180 "$LAB" exec-phone "$RUN" "${BASE[@]}" "${args[@]}" --xml "$WORK/$name.xml" >"$WORK/$name.out" 2>&1
	rc=$?
	t1=$(date +%s%N)
	sed 's/^/# /' "$WORK/$name.out"
	if [ ! -s "$WORK/$name.xml" ]; then
		fail "$name: report written" "exit $rc"
		return
	fi
	echo "# $name: $(( (t1 - t0) / 1000000 )) ms"
	tap_relay < <(python3 "$ASSERT" "$WORK/$name.xml" "$name" "${asserts[@]}")
	SCN_RC=$rc
}

# 1. clean: everything passes, within the time budget
scenario clean "" -- --rest=PASS
ok "clean: exit status 0" [ "$SCN_RC" = 0 ]

# 2. SIP ALG, DSCP bleaching and 2 % loss (loss measured over 10000 packets at 1 ms)
scenario alg-bleach-loss "alg bleach-dscp loss=2" --voice-ms 10000 --packet-ms 1 -- \
	sip-alg=FAIL dscp=WARN voice=FAIL --rest=PASS \
	--advice="sip-alg=turn off SIP ALG / SIP Helper on the router" \
	--value="sip-alg:rewritten=~Via" --value="sip-alg:rewritten=~Contact" \
	--advice="dscp=QoS cannot prioritise voice" --advice="dscp=46/EF arrived as 0/CS0" --value="dscp:audio=~arrived 0/CS0" \
	--value="voice:loss=1.5..2.5" --value="voice:loss_rating=~problematic" \
	--value="voice:packets_sent=10000..10000"
ok "alg-bleach-loss: exit status 2" [ "$SCN_RC" = 2 ]

# 3. double NAT, a UDP timeout below the keepalive, UDP 5060 blocked
scenario dnat-timeout-udp "double-nat udp-timeout=3 block=udp5060" -- \
	nat=WARN udp-lifetime=FAIL east-udp=FAIL west-udp=FAIL sip-alg=SKIP --rest=PASS \
	--advice="nat=double NAT" --advice="nat=bridge mode" --no-advice="nat=carrier-grade" \
	--value="nat:situation=~double" \
	--advice="udp-lifetime=inbound calls will not ring: the router prunes UDP mappings after" \
	--advice="east-udp=TLS 5061" --advice="east-udp=allow UDP 5060 or provision" \
	--value="nat:double_nat=~yes" --value="nat:hops=~$DSA_LAB_MODEM_LAN"

# 3b. carrier-grade NAT: router WAN 100.64.0.2 behind the carrier's NAT (100.64.0.1 -> 203.0.113.2);
#     its own verdict and advice (never "bridge mode": the carrier's NAT cannot be bridged)
scenario cgnat "cgnat" --only link,address,clock,dns,nat -- \
	nat=WARN --rest=PASS \
	--advice="nat=carrier-grade NAT" --advice="nat=ask the ISP for a public IPv4 address or use IPv6" \
	--advice="nat=keepalive short" --no-advice="nat=bridge" \
	--value="nat:situation=~cgnat" --value="nat:cgnat=~$DSA_LAB_CARRIER_LAN" --value="nat:double_nat=~no" \
	--value="nat:hops=~2:$DSA_LAB_CARRIER_LAN"

# 3c. CGNAT and the customer's own double NAT: both named, each with its advice
scenario cgnat-double "cgnat+double-nat" --only link,address,clock,dns,nat -- \
	nat=WARN --rest=PASS \
	--advice="nat=carrier-grade NAT behind a double NAT" --advice="nat=$DSA_LAB_LAN_ROUTER and $DSA_LAB_MODEM_LAN" \
	--advice="nat=bridge mode" --advice="nat=public IPv4 address or use IPv6" \
	--value="nat:situation=~cgnat+double" --value="nat:double_nat=~yes" --value="nat:cgnat=~$DSA_LAB_CARRIER_LAN" \
	--value="nat:hops=~3:$DSA_LAB_CARRIER_LAN"

# 4. east registrar down; the reflector delays replies 10, 50, 10, 50 ms:
#    RTT min 10, avg 30, max 50; |D| = 40 ms every packet -> RFC 3550 jitter -> 40 ms;
#    E-model: d = 30/2 + 2*40 + 20 = 115 ms, Id 2.76, no loss -> R 90.44, MOS 4.35
#    Tolerance model: measured RTT = our kernel RX - our kernel TX (SO_TIMESTAMPING) - the
#    reflector's lateness beyond the delay asked (its own send - receive - delay, reported in
#    every reply) = the pattern's delay + the veth path (< 0.5 ms) + what is left of the
#    reflector's scheduling between reading its send time and the kernel sending (one syscall;
#    < 3 ms even with both cores busy): max in 50 - 0.5 .. 50 + 0.5 + 3 (rounded to whole ms);
#    the 55 / 70 ms seen on a busy machine were the reflector's late timer, now removed.
scenario east-down-delay "east-down delay=10,50" -- \
	east-udp=FAIL east-tcp=FAIL east-tls=FAIL voice=FAIL --rest=PASS \
	--advice="east-udp=the other region works" \
	--value="voice:rtt_min=9..14" --value="voice:rtt_avg=28..34" --value="voice:rtt_max=49..54" \
	--value="voice:jitter=37..42" --value="voice:jitter_rating=~problematic" \
	--value="voice:mos=4.31..4.37" --value="voice:timestamps=~kernel" \
	--value="voice:reflector_lateness_max=0..120000" --value="voice:rtt_samples=400..20000"

# 4b. SIP ALG on the transports the phone uses (the kernel's SIP helper, nf_conntrack_sip, on
#     TCP and/or UDP 5060); each transport's rewritten fields named, TLS cannot be rewritten
scenario alg-tcp "alg=tcp" --only link,address,clock,dns,sip-alg --sip-transport tcp -- \
	sip-alg=FAIL --rest=PASS --advice="sip-alg=over TCP 5060" --no-advice="sip-alg=over UDP" \
	--value="sip-alg:rewritten_tcp=~Via" --value="sip-alg:rewritten_tcp=~Contact"
scenario alg-tcp-phone-udp "alg=tcp" --only link,address,clock,dns,sip-alg --sip-transport udp -- \
	sip-alg=PASS --rest=PASS --value="sip-alg:rewritten_udp=~none" --advice="sip-alg=UDP 5060"
scenario alg-udp "alg=udp" --only link,address,clock,dns,sip-alg --sip-transport udp -- \
	sip-alg=FAIL --rest=PASS --advice="sip-alg=over UDP 5060" --value="sip-alg:rewritten_udp=~Via"
scenario alg-both "alg" --only link,address,clock,dns,sip-alg --sip-transport udp,tcp,tls -- \
	sip-alg=FAIL --rest=PASS --advice="sip-alg=over UDP 5060" --advice="sip-alg=over TCP 5060" \
	--value="sip-alg:rewritten_udp=~Via" --value="sip-alg:rewritten_tcp=~Via" \
	--value="sip-alg:tls=~an ALG cannot rewrite it"

# 5. no DHCP lease
scenario no-dhcp "no-dhcp" -- address=FAIL link=PASS clock=PASS --rest=SKIP \
	--advice="address=not getting DHCP"
ok "no-dhcp: exit status 2" [ "$SCN_RC" = 2 ]

# 5b. statistics a technician can trust (the guide's loss bands: good < 0.5 <= acceptable < 1 %):
#     the voice stream (500 at 20 ms, extended at 4x up to 10 s while undecided) and the test call
#     pooled; loss=0 -> good, loss=2 -> problematic (FAIL), loss=0.7 (DIAG_LAB_LOSS_RUNS runs, 3 by
#     default, 20 for the issue's acceptance) -> never good or problematic: acceptable with the
#     interval inside [0.5, 1) or WARN naming the interval. The lab is built once per loss value.
CALL=(--sip-user "$DSA_LAB_SIP_USER" --password "$DSA_LAB_SIP_PASSWORD" --domain "$DSA_LAB_DOMAIN"
	--echo-user echo)
loss_runs() { # loss_runs NAME FAULTS RUNS [assert args...]
	local name=$1 faults=$2 runs=$3 i rc
	shift 3
	if ! DSA_LAB_QUIET=1 "$LAB" up $faults >"$WORK/$name.up.log" 2>&1; then
		fail "$name: lab up $faults" "$(tail -n 15 "$WORK/$name.up.log")"
		return
	fi
	for i in $(seq 1 "$runs"); do
		timeout -k 5 180 "$LAB" exec-phone "$RUN" "${BASE[@]}" \
			--only link,address,clock,dns,voice,call "${CALL[@]}" --xml "$WORK/$name-$i.xml" \
			>"$WORK/$name-$i.out" 2>&1
		rc=$?
		grep -E '^(PASS|WARN|FAIL) (Voice|Test call)' "$WORK/$name-$i.out" | sed "s/^/# $name-$i (exit $rc): /"
		tap_relay < <(python3 "$ASSERT" "$WORK/$name-$i.xml" "$name-$i" "$@")
	done
}
loss_runs loss-0 "" 1 voice=PASS call=PASS --rest=PASS --value="voice:loss_rating=/^good$/" \
	--value="voice:loss_sample=~+ call"
loss_runs loss-2 "loss=2" 1 voice=FAIL --rest=PASS,WARN --value="voice:loss_rating=/^problematic$/"
loss_runs loss-0.7 "loss=0.7" "${DIAG_LAB_LOSS_RUNS:-3}" voice="PASS|WARN" --rest=PASS,WARN \
	--value="voice:loss_rating=/^(acceptable|undecided: .*)$/" \
	--value="voice:loss_pooled=/between [0-9.]+ and [0-9.]+ % at 95 %/"

# 6. the technician's exit status covers every check: the agent as shipped, UDP mappings pruned
#    after 15 s, keepalive 20 s (the lab's provisioning file): `selftest` waits for the lifetime
#    check (showing progress) and exits 2 with its FAIL; `selftest --quick` ends with the main
#    checks and says so; the boot self-test's summary is updated in the status upload.
AGENT=$top_builddir/agent/dialstack-agent
AG_T=$WORK/agent
ag() { DIALSTACK_RUNDIR=$AG_T/run DIALSTACK_STATEDIR=$AG_T/state timeout -k 5 150 "$LAB" exec-phone "$AGENT" "$@"; }
technician() {
	local out rc st i pid
	mkdir -p "$AG_T" && chmod 0755 "$AG_T"
	if ! DSA_LAB_QUIET=1 "$LAB" up udp-timeout=15 >"$WORK/agent.up.log" 2>&1; then
		fail "technician: lab up udp-timeout=15" "$(tail -n 15 "$WORK/agent.up.log")"
		return
	fi
	cat >"$AG_T/bootstrap.conf" <<EOF
ca = $DSA_LAB_CA_CERT
cert = $DSA_LAB_DEVICE_CERT
key = $DSA_LAB_DEVICE_KEY
interface = $DSA_LAB_PHONE_IF
model = DS-lab
boot-delay = 0
EOF
	DIALSTACK_RUNDIR=$AG_T/run DIALSTACK_STATEDIR=$AG_T/state \
		ip netns exec "$DSA_LAB_NS_PHONE" "$AGENT" run -f -l info -c "$AG_T/bootstrap.conf" 2>>"$AG_T/agent.log" &
	pid=$!
	for i in $(seq 1 60); do
		ag --json status 2>/dev/null | grep -q '"state":"running"' && break
		sleep 1
	done
	st="$DSA_LAB_STATUS_DIR/$DSA_LAB_PHONE_MAC_HEX/status.xml"
	# Model: the boot self-test starts 0-15 s after the first REGISTER (register first),
	# its main phase takes <= 30 s, the lifetime check ends within keepalive + margin
	# (30 s) of its start, and the status PUT follows 0.5-25 s later (herd jitter):
	# <= 100 s; polled for 150 s (sanitizer build, busy machine).
	for i in $(seq 1 150); do grep -q 'udpto' "$st" 2>/dev/null && break; sleep 1; done
	ok "technician: the boot self-test's summary in the status upload is updated with the lifetime FAIL" \
		grep -q 'fail=[a-z,]*udpto' "$st"
	out=$(ag selftest 2>&1)
	rc=$?
	sed 's/^/# /' <<<"$out"
	ok "technician: selftest exits 2 (got $rc)" test "$rc" = 2
	ok "technician: selftest shows the lifetime FAIL" grep -q '^FAIL UDP' <<<"$out"
	ok "technician: selftest showed progress while waiting" grep -q 'still measuring' <<<"$out"
	ok "technician: its overall line is FAIL, complete" grep -qx 'overall: FAIL' <<<"$out"
	out=$(ag selftest --quick 2>&1)
	rc=$?
	sed 's/^/# /' <<<"$out"
	ok "technician: selftest --quick ends with the main checks ($rc) and says the lifetime was not waited for" \
		bash -c '[ "$1" != 2 ] && grep -q -- "--quick: the UDP mapping lifetime was not waited for" <<<"$2"' _ "$rc" "$out"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	DSA_LAB_QUIET=1 "$LAB" down >/dev/null 2>&1
}
if [ -x "$AGENT" ]; then
	technician
else
	fail "technician: agent built ($AGENT)"
fi

done_testing
