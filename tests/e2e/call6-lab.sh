#!/bin/bash
# call6-lab.sh - the self-test's test call over IPv6 (issue 15) against the lab's `ipv6-only`
# topology (tests/lab): the phone's LAN has IPv6 only (SLAAC + RDNSS, no DHCPv4); diag-run in
# the phone namespace calls sip:echo@dialstack.ai through the router (routed, no NAT) and
# Kamailio, which sends an INVITE that came over IPv6 to the IPv6 sipp echo (sipp-echo6, RTP
# echoed on IPv6). Assertions on the XML report and on the wire: a capture on the router's
# wan0 (after routing, on the way to the platform) of the RTP between the phone and the echo.
#
#   call        PASS (16 s of audio: 800 packets, enough to rate no loss as good), family IPv6,
#               the echo's media address an IPv6 literal, the tone back, no loss
#   wire        every RTP packet of the phone to the echo is IPv6 with traffic class DSCP 46
#               (EF), as many as the report says were sent; the echo's packets come back over
#               IPv6; no IPv4 on the echo's RTP port
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
command -v tcpdump >/dev/null || skip_all "no tcpdump"
command -v tshark >/dev/null || skip_all "no tshark"
[ -x "$RUN" ] || { echo "1..1"; echo "not ok 1 - diag-run built"; exit 1; }

if [ "${DSA_LAB_LOCKED:-0}" != 1 ]; then
	exec "$LAB" with-lock "$0" "$@"
fi
# shellcheck source=../lab/lab.env
. "$top_srcdir/tests/lab/lab.env"

WORK=$(mktemp -d /tmp/call6-lab.XXXXXX)
chmod 755 "$WORK"
cap=
cleanup() {
	[ -n "$cap" ] && kill "$cap" 2>/dev/null
	DSA_LAB_QUIET=1 "$LAB" down >/dev/null 2>&1 || true
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

if ! DSA_LAB_QUIET=1 timeout -k 5 180 "$LAB" up ipv6-only >"$WORK/up.log" 2>&1; then
	fail "lab up ipv6-only" "$(tail -n 15 "$WORK/up.log")"
	done_testing
	exit
fi
pass "lab up ipv6-only"

# The RTP between the phone and the echo as it leaves the site (both families, to tell them apart).
ip netns exec "$DSA_LAB_NS_ROUTER" tcpdump -i wan0 -n -U -w "$WORK/rtp.pcap" \
	"udp port $DSA_LAB_ECHO_RTP_PORT" >"$WORK/tcpdump.log" 2>&1 &
cap=$!
for _ in $(seq 1 50); do grep -q "listening on" "$WORK/tcpdump.log" && break; sleep 0.1; done

t0=$(date +%s%N)
timeout -k 5 90 "$LAB" exec-phone "$RUN" --if "$DSA_LAB_PHONE_IF" \
	--east "$DSA_LAB_SIP_EAST_HOST" --west "$DSA_LAB_SIP_WEST_HOST" \
	--rtp "$DSA_LAB_RTP_MIN-$DSA_LAB_RTP_MAX" \
	--sip-user "$DSA_LAB_SIP_USER" --password "$DSA_LAB_SIP_PASSWORD" --domain "$DSA_LAB_DOMAIN" \
	--echo-user echo --call-ms 16000 --only call --xml "$WORK/call6.xml" >"$WORK/call6.out" 2>&1
rc=$?
sed 's/^/# /' "$WORK/call6.out"
echo "# call6: exit $rc, $(( ($(date +%s%N) - t0) / 1000000 )) ms"
sleep 1    # the last echoes and the BYE through the capture's buffer
kill "$cap" 2>/dev/null
wait "$cap" 2>/dev/null
cap=

if [ -s "$WORK/call6.xml" ]; then
	# 800 packets without loss rate good (0-0.5 % at 95 %: docs/selftest.md), so PASS
	tap_relay < <(python3 "$ASSERT" "$WORK/call6.xml" call6 address=PASS call=PASS \
		--advice="address=IPv6 only" --advice="call=test call placed and audio is clean both directions" \
		--value="call:family=~IPv6" --value="call:remote_media=~[$DSA_LAB_ECHO_IP6]:" \
		--value="call:tone=~detected" --value="call:loss=0..0" --value="call:packets_sent=800..800" \
		--value="call:packets_received=800..800" --value="call:codec=~DSCP 46" --value="call:bye=200..200")
else
	fail "call6: report written" "exit $rc"
fi

# src dst dport dscp, one line per IPv6 packet; the IPv4 ones counted apart
tshark -r "$WORK/rtp.pcap" -Y ipv6 -T fields -e ipv6.src -e ipv6.dst -e udp.dstport -e ipv6.tclass.dscp \
	2>/dev/null >"$WORK/rtp6.txt"
n4=$(tshark -r "$WORK/rtp.pcap" -Y ip 2>/dev/null | wc -l)
out=$(awk -v e="$DSA_LAB_ECHO_IP6" -v p="$DSA_LAB_ECHO_RTP_PORT" '$2 == e && $3 == p' "$WORK/rtp6.txt" | wc -l)
ef=$(awk -v e="$DSA_LAB_ECHO_IP6" -v p="$DSA_LAB_ECHO_RTP_PORT" '$2 == e && $3 == p && $4 == 46' "$WORK/rtp6.txt" | wc -l)
back=$(awk -v e="$DSA_LAB_ECHO_IP6" '$1 == e' "$WORK/rtp6.txt" | wc -l)
from=$(awk -v e="$DSA_LAB_ECHO_IP6" -v p="$DSA_LAB_ECHO_RTP_PORT" '$2 == e && $3 == p { print $1 }' "$WORK/rtp6.txt" | sort -u | tr '\n' ' ')
echo "# on wan0: $out RTP packets phone -> echo over IPv6 ($ef with DSCP 46) from $from; $back back; $n4 IPv4"
ok "wire: the phone's 800 RTP packets left the site over IPv6 to the echo ($out)" test "$out" -eq 800
ok "wire: every one of them carries DSCP 46 (EF) in the IPv6 traffic class ($ef of $out)" \
	bash -c "[ $out -gt 0 ] && [ $ef -eq $out ]"
ok "wire: from the phone's SLAAC address (${DSA_LAB_LAN6_PREFIX%::}:...): $from" \
	bash -c "[ -n '$from' ] && [ \$(wc -w <<<'$from') = 1 ] && [[ '$from' == ${DSA_LAB_LAN6_PREFIX%::}:* ]]"
ok "wire: the echo's packets came back over IPv6 ($back)" test "$back" -eq 800
ok "wire: no IPv4 on the echo's RTP port ($n4)" test "$n4" -eq 0

done_testing
