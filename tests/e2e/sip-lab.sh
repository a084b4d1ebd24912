#!/bin/bash
# sip-lab.sh - sip_reg in the lab (tests/lab): the phone namespace behind the NAT
# router registers with the platform's Kamailio east/west by name (dnsmasq DNS):
# binding with the public Received address, DSCP 26 on the platform's wire,
# keepalives at the provisioned interval, a changed NAT mapping detected by the
# keepalive and re-registered, east down -> west within 95 s with the default
# timers, fail-back, TLS with the lab CA, SIGTERM -> no binding left.
[ -n "${DSA_LAB_LOCKED:-}" ] || [ "$(id -u)" != 0 ] || \
	exec "$top_srcdir/tests/lab/lab" with-lock "$0" "$@"
source "$top_srcdir/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "the lab needs root"
for t in tcpdump tshark nft conntrack; do command -v $t >/dev/null 2>&1 || skip_all "$t not installed"; done
LAB="$top_srcdir/tests/lab/lab"
[ -x "$LAB" ] || skip_all "no lab"
source "$top_srcdir/tests/lab/lab.env"
DRIVER="$top_builddir/tests/e2e/sip-driver"
T=$(mktemp -d /tmp/dsa-sip-lab.XXXXXX)
chmod 755 "$T"
D=""
cleanup() {
	[ -n "$D" ] && kill "$D" 2>/dev/null
	[ -n "${CAP:-}" ] && kill "$CAP" 2>/dev/null
	"$LAB" exec router nft delete table ip dsa_sip_test 2>/dev/null
	"$LAB" down >/dev/null 2>&1
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
"$LAB" up >"$T/lab-up.log" 2>&1 || { echo "1..0 # SKIP lab up failed: $(tail -1 "$T/lab-up.log")"; exit 0; }

ul() { "$LAB" exec platform kamcmd -s "$1" ul.dump 2>/dev/null; }
has_binding() { ul "$1" | grep -q "$UUID"; }
UUID=$(python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, 'urn:dialstack:mac:$DSA_LAB_PHONE_MAC_HEX'))")
wait_reg() {
	local i s
	for i in $(seq 1 $(($2 * 10))); do
		s=$(cat "$T/st" 2>/dev/null)    # one snapshot (the driver renames a new file in)
		grep -q '^state=registered$' <<<"$s" && grep -q "^region=$1\$" <<<"$s" && return 0
		sleep 0.1
	done
	return 1
}
driver_bg() {
	ip netns exec "$DSA_LAB_NS_PHONE" "$DRIVER" --user "$DSA_LAB_SIP_USER" --password "$DSA_LAB_SIP_PASSWORD" \
		--domain "$DSA_LAB_DOMAIN" --mac "$DSA_LAB_PHONE_MAC" --status "$T/st" "$@" >>"$T/driver.out" 2>&1 &
	D=$!
}

# ---------------------------------------------------------------- UDP behind the NAT, by name
ip netns exec "$DSA_LAB_NS_PLATFORM" tcpdump -i wan0 -U --immediate-mode -n -s 0 -w "$T/wan.pcap" \
	"udp port $DSA_LAB_SIP_PORT" >"$T/tcpdump.log" 2>&1 &
CAP=$!
sleep 1
driver_bg --registrar "east,$DSA_LAB_SIP_EAST_HOST,0,udp,1" --registrar "west,$DSA_LAB_SIP_WEST_HOST,0,udp,2" \
	--failback 5 --until never --timeout 600
ok "lab UDP: registered on east by name through the NAT" wait_reg east 10
ul "$DSA_LAB_EAST_CTL" >"$T/east.ul"
ok "lab UDP: east holds our instance id" grep -q "Instance: <urn:uuid:$UUID>" "$T/east.ul"
ok "lab UDP: binding reached through the public address 203.0.113.2" grep -q "Received: sip:$DSA_LAB_ROUTER_WAN:" "$T/east.ul"
ok "lab UDP: public address learned" grep -q "^public=$DSA_LAB_ROUTER_WAN:" "$T/st"

# A changed NAT mapping: the router now maps SIP to ports 40000-40099 and forgets its flows.
port0=$(sed -n "s/.*Received: sip:$DSA_LAB_ROUTER_WAN:\([0-9]*\).*/\1/p" "$T/east.ul" | head -1)
"$LAB" exec router nft -f - <<EOF2
table ip dsa_sip_test {
	chain post {
		type nat hook postrouting priority srcnat - 10; policy accept;
		oifname "wan0" meta l4proto udp udp dport $DSA_LAB_SIP_PORT snat to $DSA_LAB_ROUTER_WAN:40000-40099
	}
}
EOF2
"$LAB" exec router conntrack -F >/dev/null 2>&1
# Model: the next keepalive check (<= 60 s: one a minute, issue 13; the keepalives between are
# unanswered CRLF datagrams) shows the new mapping (rport), and the agent re-registers from it:
# one REGISTER transaction (<= 2 s with every wake-up late by SCHED = 0.25 s); the loop polls
# >= 70 s (700 x 0.1 s plus each kamcmd).
t0=$(date +%s)
for i in $(seq 1 700); do
	ul "$DSA_LAB_EAST_CTL" | grep -q "Received: sip:$DSA_LAB_ROUTER_WAN:400[0-9][0-9]" && break
	sleep 0.1
done
echo "# mapping $port0 -> $(ul "$DSA_LAB_EAST_CTL" | sed -n 's/.*Received: sip:[0-9.]*:\([0-9]*\).*/\1/p' | head -1) after $(( $(date +%s) - t0 )) s"
ok "lab UDP: changed NAT mapping detected by the keepalive check and re-registered (<= 70 s)" \
	sh -c "$LAB exec platform kamcmd -s $DSA_LAB_EAST_CTL ul.dump | grep -q 'Received: sip:$DSA_LAB_ROUTER_WAN:400[0-9][0-9]'"
ok "lab UDP: status shows the new public port" grep -q "^public=$DSA_LAB_ROUTER_WAN:400" "$T/st"
"$LAB" exec router nft delete table ip dsa_sip_test

# East goes down: west within 135 s with the default keepalive (20 s) and T1 (500 ms).
# Model: sip/reg.c's detection bound is 60 + 5 + 5 s = 70 s (the check period, the check's
# answer timeout, the retry), then the failover jitter of 0-3 keepalive intervals (docs/sip.md: a
# region that goes silent loses its whole fleet at once), then one OPTIONS probe and one
# REGISTER transaction with west across the lab's NAT (about 6 wake-ups of <= SCHED =
# 0.25 s on a busy 2-core machine, plus T1 if a datagram is lost): <= 70 + 60 + 2 s.
"$LAB" fault east-down >/dev/null 2>&1
t0=$(date +%s)
ok "lab UDP: east down -> registered on west within 135 s" wait_reg west 135
echo "# failover took $(( $(date +%s) - t0 )) s"
ok "lab UDP: west holds our binding" has_binding "$DSA_LAB_WEST_CTL"
"$LAB" unfault east-down >/dev/null 2>&1
t0=$(date +%s)
ok "lab UDP: east back -> fail-back to east" wait_reg east 30
echo "# fail-back took $(( $(date +%s) - t0 )) s (fail-back time 5 s)"
sleep 1
ok "lab UDP: east holds our binding again" has_binding "$DSA_LAB_EAST_CTL"
if has_binding "$DSA_LAB_WEST_CTL"; then fail "lab UDP: west binding removed"; else pass "lab UDP: west binding removed"; fi
kill -TERM "$D"; wait "$D"; D=""
if has_binding "$DSA_LAB_EAST_CTL" || has_binding "$DSA_LAB_WEST_CTL"; then
	fail "lab UDP: SIGTERM -> no binding left"; else pass "lab UDP: SIGTERM -> no binding left"; fi
sleep 0.5; kill "$CAP"; wait "$CAP" 2>/dev/null; CAP=""
n_all=$(tshark -r "$T/wan.pcap" -Y "ip.src == $DSA_LAB_ROUTER_WAN && udp.dstport == $DSA_LAB_SIP_PORT" 2>/dev/null | wc -l)
n_26=$(tshark -r "$T/wan.pcap" -Y "ip.src == $DSA_LAB_ROUTER_WAN && udp.dstport == $DSA_LAB_SIP_PORT && ip.dsfield.dscp == 26" 2>/dev/null | wc -l)
ok "lab UDP: DSCP 26 on every SIP packet the platform received ($n_26 of $n_all)" [ "$n_all" -ge 5 -a "$n_all" = "$n_26" ]
n_ka=$(tshark -r "$T/wan.pcap" -Y "ip.src == $DSA_LAB_ROUTER_WAN && sip.Method == \"OPTIONS\"" 2>/dev/null | wc -l)
ok "lab UDP: OPTIONS keepalives seen (the lab registrars do not answer STUN): $n_ka" [ "$n_ka" -ge 2 ]

# ---------------------------------------------------------------- TLS with the lab CA
rm -f "$T/st"
driver_bg --registrar "east,$DSA_LAB_SIP_EAST_HOST,0,tls,1" --ca "$DSA_LAB_CA_CERT" --until never --timeout 600
ok "lab TLS: registered on east, certificate and name verified" wait_reg east 10
ok "lab TLS: east holds the binding over TLS" sh -c "$LAB exec platform kamcmd -s $DSA_LAB_EAST_CTL ul.dump | grep -q 'transport=tls;ob'"
kill -TERM "$D"; wait "$D"; D=""
if has_binding "$DSA_LAB_EAST_CTL"; then fail "lab TLS: SIGTERM -> binding gone"; else pass "lab TLS: SIGTERM -> binding gone"; fi

done_testing
