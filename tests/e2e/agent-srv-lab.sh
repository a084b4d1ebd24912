#!/bin/bash
# agent-srv-lab.sh - the whole agent with its registrar given as a bare domain (no port), in
# the lab's dual-stack network: it finds the registrar through DNS NAPTR -> SRV -> AAAA/A
# (RFC 3263, the lab's dnsmasq records for dialstack.ai: east priority 10, west 20), registers
# on the priority-10 target over IPv6, and its boot self-test resolves and probes that target
# (the domain itself has no address). Asserted on the wire (the DNS questions the phone asks),
# in the registrar's location table and in the self-test report the server received.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
[ -n "${DSA_LAB_LOCKED:-}" ] || exec "$top_srcdir/tests/lab/lab" with-lock "$0" "$@"
. "$top_srcdir/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"
for t in tcpdump tshark python3; do command -v $t >/dev/null 2>&1 || skip_all "$t not installed"; done
. "$top_srcdir/tests/lab/lab.env"

LAB="$top_srcdir/tests/lab/lab"
A="$top_builddir/agent/dialstack-agent"
T=$(mktemp -d /tmp/dsa-agent-srv.XXXXXX)
chmod 0755 "$T"
export DIALSTACK_RUNDIR="$T/run" DIALSTACK_STATEDIR="$T/state"
MAC=$DSA_LAB_PHONE_MAC_HEX
pid= cap=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$cap" ] && kill "$cap" 2>/dev/null
	"$LAB" down >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
phone() { ip netns exec "$DSA_LAB_NS_PHONE" "$@"; }
status_field() { # status_field KEY: a field of the agent's sip status
	phone "$A" --json status 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin).get('sip', {}).get('$1', ''))" 2>/dev/null
}
# wait_for SECONDS CMD...: CMD succeeds within SECONDS (polled every 0.5 s)
wait_for() { local n=$(($1 * 2)) i; shift; for i in $(seq 1 "$n"); do "$@" && return 0; sleep 0.5; done; return 1; }

"$LAB" up dual-stack >"$T/lab.log" 2>&1 || { echo "1..0 # SKIP the lab did not come up: $(tail -3 "$T/lab.log")"; exit 0; }
f="$DSA_LAB_WWW/dialstack-$MAC.xml"
sed -i "s|host=\"$DSA_LAB_SIP_EAST_HOST\" port=\"$DSA_LAB_SIP_PORT\"|host=\"$DSA_LAB_DOMAIN\"|" "$f"
ok "the served config names east as the bare domain, no port" grep -q "name=\"east\" host=\"$DSA_LAB_DOMAIN\" transport" "$f"
cat >"$T/bootstrap.conf" <<EOF
ca = $DSA_LAB_CA_CERT
cert = $DSA_LAB_DEVICE_CERT
key = $DSA_LAB_DEVICE_KEY
interface = $DSA_LAB_PHONE_IF
model = DS-lab
boot-delay = 0
EOF
phone tcpdump -i "$DSA_LAB_PHONE_IF" -n -w "$T/dns.pcap" -U "port 53" >/dev/null 2>&1 &
cap=$!
sleep 0.5
ip netns exec "$DSA_LAB_NS_PHONE" "$A" run -f -l debug -c "$T/bootstrap.conf" 2>>"$T/agent.log" &
pid=$!

# Model: boot-delay 0, two HTTPS fetches, NAPTR + SRV + AAAA/A lookups and one registration on
# the lab's links: well under a second; 30 s bounds the wait, it is not a speed requirement.
on_east() { [ "$(status_field region)" = east ] && [ "$(status_field state)" = registered ]; }
ok "registered on east (the region the bare domain is)" wait_for 30 on_east
tgt=$(status_field target)
ok "status names the target found through NAPTR, over IPv6 ($tgt)" \
	bash -c '[[ "$1" == "['"$DSA_LAB_SIP_EAST_IP6"']:5060 IPv6 via NAPTR, 1 of "* ]]' _ "$tgt"
ok "east's location table holds the phone's IPv6 binding" \
	bash -c "ip netns exec $DSA_LAB_NS_PLATFORM kamcmd -s $DSA_LAB_EAST_CTL ul.dump 2>/dev/null | grep -qF 'Address: sip:$DSA_LAB_SIP_USER@[$DSA_LAB_LAN6_PREFIX'"
kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null; cap=
qtypes() { tshark -r "$T/dns.pcap" -Y "dns.flags.response == 0 && dns.qry.name == \"$1\"" -T fields -e dns.qry.type 2>/dev/null | sort -u | tr '\n' ' '; }
ok "on the wire: the phone asked NAPTR for $DSA_LAB_DOMAIN (got types: $(qtypes "$DSA_LAB_DOMAIN"))" \
	bash -c '[[ " $1" == *" 35 "* ]]' _ "$(qtypes "$DSA_LAB_DOMAIN")"
ok "... then SRV for _sip._udp.$DSA_LAB_DOMAIN" bash -c '[[ " $1" == *" 33 "* ]]' _ "$(qtypes "_sip._udp.$DSA_LAB_DOMAIN")"
ok "... then AAAA for the SRV target $DSA_LAB_SIP_EAST_HOST" bash -c '[[ " $1" == *" 28 "* ]]' _ "$(qtypes "$DSA_LAB_SIP_EAST_HOST")"

# The boot self-test (0-15 s after the first REGISTER, then its 10 s voice stream) reaches
# the server inside the status document: at most ~35 s with every wake-up late; 90 s bound.
st="$DSA_LAB_STATUS_DIR/$MAC/status.xml"
ok "the status document on the server carries the self-test report" wait_for 90 grep -q '<check id="east-udp"' "$st"
verdict() { python3 - "$st" "$1" <<'PY'
import re, sys
doc = open(sys.argv[1]).read()
m = re.search(r'<check id="%s"[^>]* verdict="([A-Z]+)"' % re.escape(sys.argv[2]), doc)
print(m.group(1) if m else "")
PY
}
ok "self-test: dns PASS (it resolved the SRV target, not the bare domain: got $(verdict dns))" [ "$(verdict dns)" = PASS ]
ok "self-test: east-udp PASS, probed at the SRV target (got $(verdict east-udp))" [ "$(verdict east-udp)" = PASS ]
ok "... the report names the target $DSA_LAB_SIP_EAST_HOST" grep -q "$DSA_LAB_SIP_EAST_HOST" "$st"
done_testing
