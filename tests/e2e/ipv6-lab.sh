#!/bin/bash
# ipv6-lab.sh - dual stack in the lab (`lab up dual-stack cgnat`): the router announces
# an IPv6 prefix (dnsmasq RA) and routes IPv6 without NAT while IPv4 goes through the
# router's NAT and the carrier's (CGNAT);
# the registrar name has AAAA and A. The phone registers over IPv6 (Contact with
# an RFC 5118 literal, the binding in Kamailio from the phone's own IPv6 address);
# IPv6 blocked at the router -> registered over IPv4 (keepalive, then the next
# target); a fresh start with IPv6 still blocked -> IPv4 within the documented
# fall-back time (4 T1 = 2 s); the status names the family each time. The self-test
# (diag-run, its XML report checked by diag-assert.py) names the family and the cause
# both ways: "IPv4 behind carrier-grade NAT, IPv6 native: the phone uses IPv6", then
# with IPv6 blocked "IPv6 address but no IPv6 route to the platform: the phone uses IPv4".
[ -n "${DSA_LAB_LOCKED:-}" ] || [ "$(id -u)" != 0 ] || \
	exec "$top_srcdir/tests/lab/lab" with-lock "$0" "$@"
source "$top_srcdir/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "the lab needs root"
for t in tcpdump tshark nft; do command -v $t >/dev/null 2>&1 || skip_all "$t not installed"; done
LAB="$top_srcdir/tests/lab/lab"
[ -x "$LAB" ] || skip_all "no lab"
source "$top_srcdir/tests/lab/lab.env"
DRIVER="$top_builddir/tests/e2e/sip-driver"
DIAGRUN="$top_builddir/tests/e2e/diag-run"
ASSERT="$top_srcdir/tests/e2e/diag-assert.py"
T=$(mktemp -d /tmp/dsa-ipv6-lab.XXXXXX)
chmod 755 "$T"
D="" CAP=""
cleanup() {
	[ -n "$D" ] && kill "$D" 2>/dev/null
	[ -n "$CAP" ] && kill "$CAP" 2>/dev/null
	"$LAB" down >/dev/null 2>&1
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
"$LAB" up dual-stack cgnat >"$T/lab-up.log" 2>&1 || { echo "1..0 # SKIP lab up dual-stack cgnat failed: $(tail -1 "$T/lab-up.log")"; exit 0; }

ul() { "$LAB" exec platform kamcmd -s "$1" ul.dump 2>/dev/null; }
wait_target() { # wait_target REGEX SECONDS: registered, and the status target matches
	local i s
	for i in $(seq 1 $(($2 * 10))); do
		s=$(cat "$T/st" 2>/dev/null)    # one snapshot (the driver renames a new file in)
		grep -q '^state=registered$' <<<"$s" && grep -Eq "^target=$1\$" <<<"$s" && return 0
		sleep 0.1
	done
	return 1
}
phone6() { ip netns exec "$DSA_LAB_NS_PHONE" ip -6 -o addr show dev "$DSA_LAB_PHONE_IF" scope global | awk '{print $4}' | cut -d/ -f1 | head -1; }
slaac() { [ -n "$(phone6)" ] && ip netns exec "$DSA_LAB_NS_PHONE" ip -6 route show default | grep -q "via fe80::"; }
driver_bg() {
	ip netns exec "$DSA_LAB_NS_PHONE" "$DRIVER" --user "$DSA_LAB_SIP_USER" --password "$DSA_LAB_SIP_PASSWORD" \
		--domain "$DSA_LAB_DOMAIN" --mac "$DSA_LAB_PHONE_MAC" --status "$T/st" "$@" >>"$T/driver.out" 2>&1 &
	D=$!
}
selftest() { # selftest NAME [diag-assert args...]: the self-test in the phone namespace, asserts on its report
	local name=$1
	shift
	# bounded: a hung run must not hold the lab lock
	timeout -k 5 60 "$LAB" exec-phone "$DIAGRUN" --if "$DSA_LAB_PHONE_IF" --prov-url "$DSA_LAB_PROV_URL" \
		--ca "$DSA_LAB_CA_CERT" --cert "$DSA_LAB_DEVICE_CERT" --key "$DSA_LAB_DEVICE_KEY" \
		--east "$DSA_LAB_SIP6_HOST" --west "$DSA_LAB_SIP_WEST_HOST" \
		--stun "$DSA_LAB_STUN_HOST:$DSA_LAB_STUN_PORT" --reflector "$DSA_LAB_REFLECTOR_HOST:$DSA_LAB_REFLECTOR_PORT" \
		--only link,address,clock,dns,east-udp,east-tcp,west-udp,west-tcp,nat \
		--xml "$T/$name.xml" >"$T/$name.out" 2>&1
	sed 's/^/# /' "$T/$name.out"
	[ -s "$T/$name.xml" ] || { fail "$name: the self-test wrote its report"; return; }
	tap_relay < <(python3 "$ASSERT" "$T/$name.xml" "$name" "$@")
}
for _ in $(seq 1 150); do slaac && break; sleep 0.1; done
ok "the phone has an IPv6 address from the router's RA ($(phone6)) and a default route" slaac
P6=$(phone6)

# the self-test with native IPv6 and IPv4 behind the carrier's NAT: it uses IPv6
selftest selftest-native6 family=PASS nat=WARN address=PASS --rest=PASS \
	--value="family:uses=~IPv6" --value="family:situation=~ipv6+cgnat" \
	--advice="family=IPv4 behind carrier-grade NAT, IPv6 native: the phone uses IPv6" \
	--value="nat:situation=~cgnat" --value="address:ipv6=~$P6/64 (SLAAC)" \
	--value="east-udp:ipv6=~answered" --value="east-tcp:ipv6=~answered" --value="east-udp:ipv4=~answered" \
	--value="east-udp:ipv6_server=~$DSA_LAB_SIP_EAST_IP6" --value="west-udp:ipv6=~answered" \
	--value="nat:fam=~4,6" --value="nat:ipv6_nat=~native" --value="nat:ipv6_public=~[$P6]:" \
	--advice="nat=over IPv6: no NAT (native IPv6)"

ip netns exec "$DSA_LAB_NS_PLATFORM" tcpdump -i wan0 -U --immediate-mode -n -s 0 -w "$T/wan.pcap" \
	"port $DSA_LAB_SIP_PORT" >"$T/tcpdump.log" 2>&1 &
CAP=$!
sleep 1
driver_bg --registrar "east,$DSA_LAB_SIP6_HOST,0,udp,1" --keepalive 2 --until never --timeout 300
ok "registered over IPv6 first (RFC 6724: IPv6 before IPv4)" \
	wait_target "\[$DSA_LAB_SIP_EAST_IP6\]:$DSA_LAB_SIP_PORT IPv6 via A/AAAA, 1 of 2" 15
echo "# status: $(grep ^target= "$T/st")"
ul "$DSA_LAB_EAST_CTL" >"$T/ul6"
ok "the binding's Contact is an RFC 5118 IPv6 literal of the phone" grep -qF "Address: sip:$DSA_LAB_SIP_USER@[$P6]" "$T/ul6"
no_received() { ! grep -q "Received: sip:" "$T/ul6"; }
ok "no NAT on IPv6: Kamailio saw the Contact's own address (no Received in the binding)" no_received

"$LAB" fault block6 >>"$T/lab-up.log" 2>&1 # the router drops every forwarded IPv6 packet
t0=$(date +%s)
ok "IPv6 blocked at the router -> registered over IPv4 (through the NAT)" \
	wait_target "$DSA_LAB_SIP_EAST_IP:$DSA_LAB_SIP_PORT IPv4 via A/AAAA, 2 of 2" 40
echo "# over IPv4 after $(( $(date +%s) - t0 )) s (keepalive 2 s)"
v4bind() { ul "$DSA_LAB_EAST_CTL" | grep -q "Received: sip:$DSA_LAB_ROUTER_WAN:"; }
ok "Kamailio holds the IPv4 binding from the router's public address" v4bind
kill -TERM "$D"; wait "$D"; D=""

# a fresh start with IPv6 still blocked: IPv4 after 4 T1, not after Timer F
: >"$T/st"
t0=$(date +%s%N)
driver_bg --registrar "east,$DSA_LAB_SIP6_HOST,0,udp,1" --keepalive 2 --until never --timeout 300
# Model: the first REGISTER goes over IPv6 (RFC 6724 order); the router drops it, and after
# the fall-back time (2 s, sip/reg.c, RFC 8305 spirit) the IPv4 address is tried: REGISTER,
# 401, REGISTER, 200 through the NAT (4 round trips of a few ms) and about 8 wake-ups at
# SCHED = 0.25 s: <= 2 + 2 = 4 s; 5 s leaves one more second for a loaded machine.
ok "fresh start, IPv6 blocked -> registered over IPv4 within 5 s (fall-back 2 s)" \
	wait_target "$DSA_LAB_SIP_EAST_IP:$DSA_LAB_SIP_PORT IPv4 via A/AAAA, 2 of 2" 5
echo "# registered over IPv4 $(( ($(date +%s%N) - t0) / 1000000 )) ms after the start"
kill -TERM "$D"; wait "$D"; D=""
sleep 0.5
kill "$CAP"; wait "$CAP" 2>/dev/null; CAP=""
n6=$(tshark -r "$T/wan.pcap" -Y "sip.Method == \"REGISTER\" && ipv6.dst == $DSA_LAB_SIP_EAST_IP6" 2>/dev/null | wc -l)
n4=$(tshark -r "$T/wan.pcap" -Y "sip.Method == \"REGISTER\" && ip.dst == $DSA_LAB_SIP_EAST_IP" 2>/dev/null | wc -l)
echo "# REGISTERs on the platform's wire: IPv6 $n6, IPv4 $n4"
both() { [ "$n6" -ge 1 ] && [ "$n4" -ge 1 ]; }
ok "REGISTERs reached the platform over IPv6 and over IPv4" both

# the self-test with IPv6 still blocked at the router: the phone uses IPv4, and says why
selftest selftest-blocked6 family=WARN nat=WARN address=PASS --rest=PASS \
	--value="family:uses=~IPv4" --value="family:situation=~ipv6-no-route" \
	--advice="family=IPv6 address but no IPv6 route to the platform: the phone uses IPv4" \
	--advice="family=carrier-grade NAT" \
	--value="east-udp:ipv6=~failed" --value="east-udp:ipv4=~answered" --advice="east-udp=over IPv6: no answer" \
	--value="nat:situation=~cgnat" --value="nat:ipv6_nat=~unknown" \
	--advice="nat=does not answer over IPv6: allow outbound UDP over IPv6 to port $DSA_LAB_STUN_PORT"
done_testing
