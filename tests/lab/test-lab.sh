#!/bin/bash
# Test of the dialstack-agent test lab itself (TAP).  Every check asserts on a real effect:
# a packet on the wire, a row in a registrar, a file on the server, a reply or its absence.
# Needs root; takes the lab lock (tests/lab/lab with-lock) so no other lab user overlaps.
# Bounded: every network command has a timeout; the whole run takes about two minutes.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/lab
TOOL=$HERE/labtool.py

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP the lab needs root (network namespaces, nftables)"
	exit 0
fi
if ! unshare -n true 2>/dev/null; then
	echo "1..0 # SKIP this machine cannot create network namespaces"
	exit 0
fi
# One lab user at a time: re-run under the lab lock (the lock is re-entrant through the env).
if [ -z "${DSA_LAB_LOCKED:-}" ]; then
	exec "$LAB" with-lock "$0" "$@"
fi

# shellcheck source=lab.env
. "$HERE/lab.env"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || echo python3)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dsa-lab-test.XXXXXX")
N=0
FAILS=0
T_START=$(date +%s)

cleanup() {
	"$LAB" down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() {
	N=$((N + 1))
	echo "ok $N - $*"
}
notok() {
	N=$((N + 1))
	FAILS=$((FAILS + 1))
	echo "not ok $N - $*"
}
diag() { sed 's/^/# /' "$@"; }

# check DESC CMD... : one test point; on failure the command's output is shown as diagnostics
check() {
	local desc=$1
	shift
	if "$@" >"$WORK/out" 2>&1; then
		ok "$desc"
	else
		notok "$desc"
		tail -n 25 "$WORK/out" | diag
	fi
}

phone() { timeout "${T:-30}" "$LAB" exec-phone "$@"; }
plat() { timeout "${T:-30}" "$LAB" exec platform "$@"; }
tool() { phone "$PY" "$TOOL" "$@"; }
ptool() { plat "$PY" "$TOOL" "$@"; }

# jq-less JSON assertions: jcheck FILE PYTHON-EXPRESSION (d is the parsed object)
jcheck() {
	"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("assertion failed:", sys.argv[2])
    print(json.dumps(d, indent=1, sort_keys=True)[:3000])
sys.exit(0 if ok else 1)' "$1" "$2"
}
# run_json FILE CMD... : save a labtool result
run_json() {
	local f=$1
	shift
	"$@" >"$f" 2>"$f.err" || true
	[ -s "$f" ] || echo '{}' >"$f"
}

up() { # up FAULT... (bounded, output kept for diagnostics)
	local t0 t1
	t0=$(date +%s)
	if timeout 120 "$LAB" up "$@" >"$WORK/up.log" 2>&1; then
		t1=$(date +%s)
		UP_SECS=$((t1 - t0))
		return 0
	fi
	diag "$WORK/up.log"
	return 1
}
fault() { timeout 60 "$LAB" fault "$@" >>"$WORK/fault.log" 2>&1 || { diag "$WORK/fault.log"; return 1; }; }
unfault() { timeout 60 "$LAB" unfault "$@" >>"$WORK/fault.log" 2>&1 || { diag "$WORK/fault.log"; return 1; }; }

kam() { # kam east|west RPC... : kamcmd against one registrar
	local ctl=$DSA_LAB_EAST_CTL
	[ "$1" = west ] && ctl=$DSA_LAB_WEST_CTL
	shift
	timeout 10 kamcmd -s "$ctl" "$@"
}

CURL=(curl -sS --max-time 8 --resolve "$DSA_LAB_PROV_HOST:443:$DSA_LAB_PROV_IP")
DEV=(--cacert "$DSA_LAB_CA_CERT" --cert "$DSA_LAB_DEVICE_CERT" --key "$DSA_LAB_DEVICE_KEY")
PROV=https://$DSA_LAB_PROV_HOST
MAC=$DSA_LAB_PHONE_MAC_HEX

# ============================================================================ base lab
if ! up; then
	notok "lab up (base)"
	echo "1..$N"
	exit 1
fi
ok "lab up in ${UP_SECS}s"
check "lab up took under 60 s" test "$UP_SECS" -lt 60

check "three namespaces are there (modem only with double-nat, carrier only with cgnat)" bash -c "
	for ns in $DSA_LAB_NS_PHONE $DSA_LAB_NS_ROUTER $DSA_LAB_NS_PLATFORM; do ip netns list | grep -qw \$ns || exit 1; done
	! ip netns list | grep -qw -e $DSA_LAB_NS_MODEM -e $DSA_LAB_NS_CARRIER"
check "phone interface carries the lab MAC" bash -c \
	"ip -n $DSA_LAB_NS_PHONE link show $DSA_LAB_PHONE_IF | grep -q 'link/ether $DSA_LAB_PHONE_MAC '"

phone_ip() { ip -n "$DSA_LAB_NS_PHONE" -4 -o addr show dev "$DSA_LAB_PHONE_IF" | awk '{print $4}' | cut -d/ -f1 | head -n1; }
PHONE_IP=$(phone_ip)
check "phone has a DHCP address in the pool ($PHONE_IP)" "$PY" -c "
import ipaddress, sys
a = ipaddress.ip_address('${PHONE_IP:-0.0.0.0}')
sys.exit(0 if ipaddress.ip_address('$DSA_LAB_DHCP_START') <= a <= ipaddress.ip_address('$DSA_LAB_DHCP_END') else 1)"
check "dnsmasq holds the phone's lease for its MAC" grep -qi "$DSA_LAB_PHONE_MAC ${PHONE_IP:-none} " "$DSA_LAB_DIR/dnsmasq.leases"
check "phone's default route is the router" bash -c \
	"ip -n $DSA_LAB_NS_PHONE route show default | grep -q 'via $DSA_LAB_LAN_ROUTER'"
check "DHCP options 66/160 carry the provisioning URL (option 160 decoded)" \
	grep -qx "DHCP_OPT160='$DSA_LAB_PROV_URL'" "$DSA_LAB_DIR/phone-lease.env"

dns_ok() {
	local name ip
	while read -r name ip; do
		got=$(phone getent ahostsv4 "$name" | awk 'NR==1{print $1}')
		[ "$got" = "$ip" ] || { echo "$name -> '$got', want $ip"; return 1; }
	done <<EOF
$DSA_LAB_PROV_HOST $DSA_LAB_PROV_IP
$DSA_LAB_SIP_EAST_HOST $DSA_LAB_SIP_EAST_IP
$DSA_LAB_SIP_WEST_HOST $DSA_LAB_SIP_WEST_IP
$DSA_LAB_STUN_HOST $DSA_LAB_STUN_IP
$DSA_LAB_ECHO_HOST $DSA_LAB_ECHO_IP
$DSA_LAB_REFLECTOR_HOST $DSA_LAB_REFLECTOR_IP
EOF
}
check "phone resolves the platform names through the router's DNS" dns_ok

# ---------------------------------------------------------------- provisioning (nginx)
code() { phone "${CURL[@]}" -o "$WORK/body" -w '%{http_code}' "$@" 2>"$WORK/curl.err"; }
c=$(code "${DEV[@]}" "$PROV/dialstack-$MAC.xml")
check "device certificate gets its per-MAC file (HTTP $c)" test "$c" = 200
check "... with the content of the served file" cmp "$WORK/body" "$DSA_LAB_WWW/dialstack-$MAC.xml"
c=$(code "${DEV[@]}" "$PROV/dialstack.xml")
check "device certificate gets the common file (HTTP $c)" test "$c" = 200
etag=$(phone "${CURL[@]}" "${DEV[@]}" -o /dev/null -D - "$PROV/dialstack.xml" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
c=$(code "${DEV[@]}" -H "If-None-Match: $etag" "$PROV/dialstack.xml")
check "unchanged file answers If-None-Match with 304 (ETag $etag, HTTP $c)" test -n "$etag" -a "$c" = 304
c=$(code --cacert "$DSA_LAB_CA_CERT" "$PROV/dialstack.xml")
check "no client certificate is refused (HTTP $c)" test "$c" = 400
c=$(code --cacert "$DSA_LAB_CA_CERT" --cert "$DSA_LAB_FOREIGN_DEVICE_CERT" --key "$DSA_LAB_FOREIGN_DEVICE_KEY" "$PROV/dialstack.xml")
check "client certificate of a foreign CA is refused (HTTP $c)" test "$c" = 400
phone "${CURL[@]}" --cacert "$DSA_LAB_FOREIGN_CA_CERT" --cert "$DSA_LAB_DEVICE_CERT" --key "$DSA_LAB_DEVICE_KEY" \
	-o /dev/null "$PROV/dialstack.xml" >/dev/null 2>&1
rc=$?
check "server certificate does not verify against a foreign CA (curl exit $rc)" test "$rc" = 60
c=$(code --cacert "$DSA_LAB_CA_CERT" --cert "$DSA_LAB_DIR/pki/other-device.crt" --key "$DSA_LAB_DIR/pki/other-device.key" "$PROV/dialstack-$MAC.xml")
check "another device may not read this device's file (HTTP $c)" test "$c" = 403

echo "boot ok $(date +%s)" >"$WORK/boot.log"
c=$(code "${DEV[@]}" -T "$WORK/boot.log" "$PROV/status/$MAC/boot.log")
check "PUT of a status file creates it (HTTP $c)" test "$c" = 201
check "... and it lands in the state dir" cmp "$WORK/boot.log" "$DSA_LAB_STATUS_DIR/$MAC/boot.log"
c=$(code "${DEV[@]}" -T "$WORK/boot.log" "$PROV/status/$MAC/boot.log")
check "PUT again overwrites it (HTTP $c)" test "$c" = 204
c=$(code "${DEV[@]}" -T "$WORK/boot.log" "$PROV/status/02005e10ffff/boot.log")
check "PUT into another device's folder is refused (HTTP $c)" test "$c" = 403
check "nginx access log names the client certificate of the PUT" \
	grep -q "\"PUT /status/$MAC/boot.log\" 201 .*CN=$MAC" "$DSA_LAB_LOGS/nginx-access.log"

# ---------------------------------------------------------------- registrars (Kamailio)
check "sipsak REGISTER with digest to east over UDP" \
	phone sipsak -U -s "sip:$DSA_LAB_SIP_USER@$DSA_LAB_SIP_EAST_HOST" -u "$DSA_LAB_SIP_AUTH_USER" \
	-a "$DSA_LAB_SIP_PASSWORD" -H "$PHONE_IP" -x 120 -i
check "east's location table has the sipsak binding (ul.dump)" bash -c \
	"timeout 10 kamcmd -s '$DSA_LAB_EAST_CTL' ul.dump | grep -q 'Address: sip:$DSA_LAB_SIP_USER@$PHONE_IP'"

run_json "$WORK/reg-west.json" tool sip-register "$DSA_LAB_SIP_WEST_IP" 5060 --password "$DSA_LAB_SIP_PASSWORD" \
	--header "$DSA_LAB_SELFTEST_HEADER: v=1;alg=0;nat=1"
check "REGISTER to west over UDP: 401 then 200" jcheck "$WORK/reg-west.json" 'd["statuses"] == [401, 200]'
WEST_LOCAL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("local",""))' "$WORK/reg-west.json")
check "west's location table has the binding $WEST_LOCAL with received 203.0.113.2" bash -c \
	"kamcmd -s '$DSA_LAB_WEST_CTL' ul.dump > '$WORK/ul-west'; grep -q 'Address: sip:$DSA_LAB_SIP_USER@$WEST_LOCAL' '$WORK/ul-west' && grep -q 'Received: sip:$DSA_LAB_ROUTER_WAN:' '$WORK/ul-west'"
check "west keeps the self-test header (htable selftest)" bash -c \
	"kamcmd -s '$DSA_LAB_WEST_CTL' htable.dump selftest | grep -q 'v=1;alg=0;nat=1'"
check "west's log has the REGISTER with source, transport, Contact and self-test header" \
	grep -q "DSA-REGISTER instance=west src=$DSA_LAB_ROUTER_WAN:[0-9]* proto=udp contact=.*$WEST_LOCAL.* selftest=v=1;alg=0;nat=1" \
	"$DSA_LAB_LOGS/kamailio-west.log"

run_json "$WORK/reg-tcp.json" tool sip-register "$DSA_LAB_SIP_EAST_IP" 5060 --proto tcp --password "$DSA_LAB_SIP_PASSWORD"
check "REGISTER to east over TCP: 401 then 200" jcheck "$WORK/reg-tcp.json" 'd["statuses"] == [401, 200]'
run_json "$WORK/reg-tls.json" tool sip-register "$DSA_LAB_SIP_EAST_IP" 5061 --proto tls --password "$DSA_LAB_SIP_PASSWORD" \
	--ca "$DSA_LAB_CA_CERT" --server-name "$DSA_LAB_SIP_EAST_HOST"
check "REGISTER to east over TLS (server verified against the lab CA): 401 then 200" \
	jcheck "$WORK/reg-tls.json" 'd["statuses"] == [401, 200]'
check "east's location table has TCP and TLS bindings" bash -c \
	"kamcmd -s '$DSA_LAB_EAST_CTL' ul.dump > '$WORK/ul-east'; grep -q 'Socket: tcp:$DSA_LAB_SIP_EAST_IP:5060' '$WORK/ul-east' && grep -q 'Socket: tls:$DSA_LAB_SIP_EAST_IP:5061' '$WORK/ul-east'"
check "TLS 5061 of west presents sip-west.dialstack.ai, verified by the lab CA" bash -c \
	"echo | timeout 10 ip netns exec $DSA_LAB_NS_PHONE openssl s_client -connect $DSA_LAB_SIP_WEST_IP:5061 -servername $DSA_LAB_SIP_WEST_HOST -verify_hostname $DSA_LAB_SIP_WEST_HOST -CAfile '$DSA_LAB_CA_CERT' -brief 2>&1 | tee /dev/stderr | grep -q 'Verification: OK'"
run_json "$WORK/reg-bad.json" tool sip-register "$DSA_LAB_SIP_EAST_IP" 5060 --password wrong-password
check "wrong password is not registered (401, 401)" jcheck "$WORK/reg-bad.json" 'd["statuses"] == [401, 401]'

run_json "$WORK/echo.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060
check "OPTIONS with the echo header: 200 with the request base64 in the body, private Via intact (no ALG)" \
	jcheck "$WORK/echo.json" 'd["status"] == 200 and d["echo"] and ("Via: SIP/2.0/UDP " + d["local"]) in d["echo"] and ("@" + d["local"]) in d["echo"]'
run_json "$WORK/echo-west.json" tool sip-echo "$DSA_LAB_SIP_WEST_IP" 5060 --proto tcp
check "west echoes an OPTIONS over TCP" jcheck "$WORK/echo-west.json" 'd["status"] == 200 and "X-Dialstack-Echo: 1" in (d["echo"] or "")'

# ---------------------------------------------------------------- STUN, echo, reflector
run_json "$WORK/stun.json" tool stun "$DSA_LAB_STUN_IP" "$DSA_LAB_STUN_PORT"
check "STUN from the phone maps to the router's public address and names the other address" \
	jcheck "$WORK/stun.json" 'd.get("xor_mapped","").startswith("'"$DSA_LAB_ROUTER_WAN"':") and d.get("other_address") == "'"$DSA_LAB_STUN_IP2:$DSA_LAB_STUN_PORT2"'"'
run_json "$WORK/stun-change.json" ptool stun "$DSA_LAB_STUN_IP" "$DSA_LAB_STUN_PORT" --change-ip --change-port
check "STUN CHANGE-REQUEST (RFC 5780) is answered from the other address and port" \
	jcheck "$WORK/stun-change.json" 'd.get("from") == "'"$DSA_LAB_STUN_IP2:$DSA_LAB_STUN_PORT2"'"'

mkdir -p "$WORK/sipp"
check "sipp call to echo.dialstack.ai via east (INVITE/200/ACK/BYE)" bash -c \
	"cd '$WORK/sipp' && timeout 30 ip netns exec $DSA_LAB_NS_PHONE sipp -sn uac -s echo $DSA_LAB_SIP_EAST_IP:5060 -m 1 -nostdin -timeout 15 -timeout_error >/dev/null"
check "sipp echo returns RTP sent to its media port" phone "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.connect(('$DSA_LAB_ECHO_IP', $DSA_LAB_ECHO_RTP_PORT))
pkt = b'\x80\x00\x00\x07' + b'\x00' * 8 + b'\xd5' * 160
s.send(pkt)
assert s.recv(2048) == pkt"

run_json "$WORK/refl.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 20 --tos 0xb8
check "reflector echoes all 20 and reports DSCP 46 (EF) as sent" \
	jcheck "$WORK/refl.json" 'd["received"] == 20 and d["dscp_seen"] == {"46": 20}'
for p in "$DSA_LAB_RTP_MIN" 15000 "$DSA_LAB_RTP_MAX"; do
	run_json "$WORK/refl-$p.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$p" --count 5
	check "RTP port $p of the reflector answers from that port and reports it" \
		jcheck "$WORK/refl-$p.json" "d['received'] == 5 and d['orig_ports'] == [$p]"
done

run_json "$WORK/fuzz.json" ptool fuzz "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 3000
check "reflector survives 3000 garbage datagrams (empty, 64 KB, cut headers, delay requests) and still answers" \
	jcheck "$WORK/fuzz.json" 'd["sent"] >= 2990 and d["probe_received"] == 5'
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$(cat "$DSA_LAB_DIR/run/reflector.pid")/status" 2>/dev/null || echo 0)
check "reflector memory stays bounded (VmRSS ${rss} kB < 16 MB)" test "${rss:-0}" -gt 0 -a "${rss:-0}" -lt 16384

# capture_dscp TOS : DSCP values of reflector-bound packets seen on the platform's wire
capture_dscp() {
	local tos=$1 pcap=$WORK/dscp.pcap
	rm -f "$pcap" "$WORK/tcpdump.err"
	timeout 15 ip netns exec "$DSA_LAB_NS_PLATFORM" tcpdump -i wan0 -n -U -c 5 -w "$pcap" \
		"udp and dst host $DSA_LAB_REFLECTOR_IP and dst port $DSA_LAB_REFLECTOR_PORT" 2>"$WORK/tcpdump.err" &
	local tp=$!
	for _ in $(seq 1 50); do
		grep -q listening "$WORK/tcpdump.err" 2>/dev/null && break
		sleep 0.1
	done
	tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 5 --tos "$tos" >/dev/null
	wait "$tp" || true
	timeout 20 tshark -r "$pcap" -T fields -e ip.dsfield.dscp 2>/dev/null | sort -u | tr '\n' ' '
}
d=$(capture_dscp 0xb8)
check "capture on the platform's wire shows DSCP 46 without bleaching ($d)" test "$d" = "46 "

run_json "$WORK/ttl.json" tool ttl-probe "$DSA_LAB_SIP_EAST_IP" 33434 --max-ttl 4
check "TTL probes: hop 1 is the router, hop 2 already the target (one NAT)" \
	jcheck "$WORK/ttl.json" 'd["hops"][0]["from"] == "'"$DSA_LAB_LAN_ROUTER"'" and d["hops"][1]["from"] == "'"$DSA_LAB_SIP_EAST_IP"'"'

# ============================================================================ faults at runtime
# ---- alg
if fault alg; then
	run_json "$WORK/alg.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060
	check "alg: the registrar received a Via rewritten to the public address" \
		jcheck "$WORK/alg.json" 'd["status"] == 200 and "Via: SIP/2.0/UDP '"$DSA_LAB_ROUTER_WAN"':" in d["echo"] and d["local"] not in d["echo"].split("\r\n\r\n")[0]'
	check "alg: ... and a rewritten Contact" \
		jcheck "$WORK/alg.json" '"Contact: <sip:1001@'"$DSA_LAB_ROUTER_WAN"':" in d["echo"]'
	check "alg: the reply's Via was rewritten back to the private address (received=)" \
		jcheck "$WORK/alg.json" 'any("received=" + d["local"].split(":")[0] in v for v in d["reply_via"])'
	run_json "$WORK/alg-reg.json" tool sip-register "$DSA_LAB_SIP_WEST_IP" 5060 --password "$DSA_LAB_SIP_PASSWORD"
	check "alg: REGISTER through the ALG is stored with the rewritten (public) Contact" bash -c \
		"jq_ok=\$('$PY' -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[\"final\"], d[\"local\"].split(\":\")[1])' '$WORK/alg-reg.json'); set -- \$jq_ok; test \"\$1\" = 200 && kamcmd -s '$DSA_LAB_WEST_CTL' ul.dump | grep -q \"Address: sip:$DSA_LAB_SIP_USER@$DSA_LAB_ROUTER_WAN:\$2\""
	check "alg: the router's conntrack shows the sip helper on the flow" bash -c \
		"ip netns exec $DSA_LAB_NS_ROUTER conntrack -L -p udp --dport 5060 2>/dev/null | grep -q 'helper=sip'"
	unfault alg
	run_json "$WORK/noalg.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060
	check "alg off again: Via arrives unchanged" \
		jcheck "$WORK/noalg.json" 'd["status"] == 200 and ("Via: SIP/2.0/UDP " + d["local"]) in d["echo"]'
else
	notok "fault alg"
fi

# ---- alg=tcp / alg=udp: the SIP helper on one transport only
if fault alg=tcp; then
	run_json "$WORK/algt.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060 --proto tcp
	check "alg=tcp: over TCP the registrar received Via and Contact rewritten to the public address" \
		jcheck "$WORK/algt.json" 'd["status"] == 200 and "Via: SIP/2.0/TCP '"$DSA_LAB_ROUTER_WAN"':" in d["echo"] and "Contact: <sip:1001@'"$DSA_LAB_ROUTER_WAN"':" in d["echo"]'
	run_json "$WORK/algt-udp.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060
	check "alg=tcp: over UDP the request arrives unchanged" \
		jcheck "$WORK/algt-udp.json" 'd["status"] == 200 and ("Via: SIP/2.0/UDP " + d["local"]) in d["echo"]'
	check "alg=tcp: the router's conntrack shows the sip helper on the TCP flow" bash -c \
		"ip netns exec $DSA_LAB_NS_ROUTER conntrack -L -p tcp --dport 5060 2>/dev/null | grep -q 'helper=sip'"
else
	notok "fault alg=tcp"
fi
if fault alg=udp; then
	check "alg=udp replaces alg=tcp (one alg fault at a time)" bash -c "grep -qx 'alg=udp' '$DSA_LAB_DIR/faults' && ! grep -qx 'alg=tcp' '$DSA_LAB_DIR/faults'"
	run_json "$WORK/algu-tcp.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060 --proto tcp
	check "alg=udp: over TCP the request arrives unchanged" \
		jcheck "$WORK/algu-tcp.json" 'd["status"] == 200 and ("Via: SIP/2.0/TCP " + d["local"]) in d["echo"]'
	run_json "$WORK/algu.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060
	check "alg=udp: over UDP Via is rewritten" \
		jcheck "$WORK/algu.json" 'd["status"] == 200 and "Via: SIP/2.0/UDP '"$DSA_LAB_ROUTER_WAN"':" in d["echo"]'
	unfault alg
else
	notok "fault alg=udp"
fi

# ---- bleach-dscp
if fault bleach-dscp; then
	run_json "$WORK/bleach.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 20 --tos 0xb8
	check "bleach-dscp: reflector receives DSCP 0 for packets sent with 46" \
		jcheck "$WORK/bleach.json" 'd["received"] == 20 and d["dscp_seen"] == {"0": 20}'
	d=$(capture_dscp 0xb8)
	check "bleach-dscp: capture on the platform's wire shows DSCP 0 ($d)" test "$d" = "0 "
	unfault bleach-dscp
	run_json "$WORK/unbleach.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 10 --tos 0xb8
	check "bleach-dscp off: DSCP 46 arrives again" jcheck "$WORK/unbleach.json" 'd["dscp_seen"] == {"46": 10}'
else
	notok "fault bleach-dscp"
fi

# ---- loss
if fault loss=10; then
	run_json "$WORK/loss.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 1000 --interval-ms 1 --size 40
	check "loss=10: 1000 packets, measured loss within 5-15 % (binomial 5 sigma)" \
		jcheck "$WORK/loss.json" 'd["sent"] == 1000 and 5 <= d["loss_pct"] <= 15'
	fault loss=0
	run_json "$WORK/loss0.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 300 --interval-ms 1 --size 40
	check "loss=0 (replacing loss=10 at runtime): no loss" jcheck "$WORK/loss0.json" 'd["received"] == 300'
	unfault loss
else
	notok "fault loss=10"
fi
if fault loss-down=20; then
	run_json "$WORK/lossd.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 500 --interval-ms 1 --size 40
	check "loss-down=20: 500 packets, loss within 12-28 %" jcheck "$WORK/lossd.json" '12 <= d["loss_pct"] <= 28'
	unfault loss-down
else
	notok "fault loss-down=20"
fi

# ---- delay/jitter through the reflector
if fault delay=20,40,20,60; then
	run_json "$WORK/delay.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" 12000 --count 40 --interval-ms 100 --timeout 3
	check "delay=20,40,20,60: reported delays 20/40/60, RTT min >= 20 ms and max >= 60 ms" \
		jcheck "$WORK/delay.json" 'd["received"] == 40 and d["delays_ms"] == [20, 40, 60] and 19.5 <= d["rtt_ms"]["min"] <= 40 and d["rtt_ms"]["max"] >= 59.5'
	check "delay=20,40,20,60: RTT beyond the applied delay is small (median < 10 ms)" \
		jcheck "$WORK/delay.json" '-0.5 <= d["excess_ms"]["min"] and d["excess_ms"]["median"] < 10'
	check "delay=20,40,20,60: RTT jitter (RFC 3550 smoothing) above 10 ms" jcheck "$WORK/delay.json" 'd["rtt_jitter_ms"] > 10'
	unfault delay
else
	notok "fault delay"
fi

# ---- udp-timeout
if fault udp-timeout=3; then
	run_json "$WORK/late1.json" tool udp-late "$DSA_LAB_REFLECTOR_IP" 11000 --delay-ms 1000
	check "udp-timeout=3: a reply after 1 s still passes the NAT" jcheck "$WORK/late1.json" 'd["reply"] is True'
	tool udp-late "$DSA_LAB_REFLECTOR_IP" 11001 --delay-ms 6000 --grace 1.5 >"$WORK/late6.json" 2>&1 &
	lp=$!
	sleep 1
	timeout 10 ip netns exec "$DSA_LAB_NS_ROUTER" conntrack -L -p udp --dport 11001 >"$WORK/ct.txt" 2>/dev/null || true
	wait "$lp"
	# shellcheck disable=SC2016
	check "udp-timeout=3: router's conntrack entry has at most 3 s left" \
		awk '$1=="udp" { if ($3 <= 3 && $3 >= 0) found=1 } END { exit !found }' "$WORK/ct.txt"
	check "udp-timeout=3: a reply after 6 s is dropped (mapping gone)" jcheck "$WORK/late6.json" 'd["reply"] is False'
	unfault udp-timeout
	run_json "$WORK/late6b.json" tool udp-late "$DSA_LAB_REFLECTOR_IP" 11002 --delay-ms 6000 --grace 1.5
	check "udp-timeout off: a reply after 6 s passes (default timeout 30 s)" jcheck "$WORK/late6b.json" 'd["reply"] is True'
else
	notok "fault udp-timeout=3"
fi

# ---- block policies
T=10
if fault block=udp5060; then
	run_json "$WORK/b1u.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060 --timeout 2
	run_json "$WORK/b1t.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060 --proto tcp --timeout 3
	check "block=udp5060: no answer over UDP 5060" jcheck "$WORK/b1u.json" 'd["status"] is None'
	check "block=udp5060: TCP 5060 still works" jcheck "$WORK/b1t.json" 'd["status"] == 200'
	unfault block=udp5060
else
	notok "fault block=udp5060"
fi
if fault block=only443; then
	c=$(code "${DEV[@]}" "$PROV/dialstack.xml")
	check "block=only443: HTTPS to prov works (HTTP $c)" test "$c" = 200
	check "block=only443: DNS (the router's) still answers" dns_ok
	run_json "$WORK/b2u.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060 --timeout 2
	run_json "$WORK/b2t.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060 --proto tcp --timeout 3
	run_json "$WORK/b2s.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5061 --proto tls --timeout 3
	run_json "$WORK/b2r.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" 15000 --count 5 --timeout 1
	check "block=only443: SIP over UDP, TCP and TLS gets nothing" bash -c \
		"for f in b2u b2t b2s; do '$PY' -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))[\"status\"] is not None)' '$WORK/'\$f.json || exit 1; done"
	check "block=only443: RTP-range UDP gets nothing" jcheck "$WORK/b2r.json" 'd["received"] == 0'
	unfault block=only443
else
	notok "fault block=only443"
fi
if fault block=rtp; then
	run_json "$WORK/b3a.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" 15000 --count 5 --timeout 1
	run_json "$WORK/b3b.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 5 --timeout 1
	check "block=rtp: UDP 15000 gets nothing" jcheck "$WORK/b3a.json" 'd["received"] == 0'
	check "block=rtp: UDP outside the range (reflector port $DSA_LAB_REFLECTOR_PORT) works" jcheck "$WORK/b3b.json" 'd["received"] == 5'
	run_json "$WORK/b3s.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060
	check "block=rtp: SIP still works" jcheck "$WORK/b3s.json" 'd["status"] == 200'
	unfault block=rtp
	run_json "$WORK/b3c.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" 15000 --count 5
	check "block=rtp off: UDP 15000 answers again" jcheck "$WORK/b3c.json" 'd["received"] == 5'
else
	notok "fault block=rtp"
fi
unset T

# ---- east-down
if fault east-down; then
	run_json "$WORK/ed1.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060 --timeout 2
	run_json "$WORK/ed2.json" tool sip-echo "$DSA_LAB_SIP_WEST_IP" 5060
	check "east-down: east does not answer" jcheck "$WORK/ed1.json" 'd["status"] is None'
	check "east-down: nothing listens on east's 5060 in the platform" bash -c \
		"! ip netns exec $DSA_LAB_NS_PLATFORM ss -Hlnu 'src $DSA_LAB_SIP_EAST_IP:5060' | grep -q ."
	check "east-down: west answers" jcheck "$WORK/ed2.json" 'd["status"] == 200'
	unfault east-down
	run_json "$WORK/ed3.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060
	check "east back up: east answers" jcheck "$WORK/ed3.json" 'd["status"] == 200'
else
	notok "fault east-down"
fi

# ---- no-dhcp / no-opt66
if fault no-dhcp; then
	check "no-dhcp: the phone has no IPv4 address" test -z "$(phone_ip)"
	check "no-dhcp: a DHCP client in the phone gets no lease" bash -c \
		"! timeout 20 ip netns exec $DSA_LAB_NS_PHONE busybox udhcpc -i $DSA_LAB_PHONE_IF -f -q -n -t 3 -T 1 -s /bin/true >/dev/null 2>&1"
	unfault no-dhcp
	check "no-dhcp off: the phone has a lease again" test -n "$(phone_ip)"
else
	notok "fault no-dhcp"
fi
if fault no-opt66; then
	check "no-opt66: the phone's new lease has no option 160" bash -c \
		"grep -q \"^DHCP_IP='192\" '$DSA_LAB_DIR/phone-lease.env' && grep -qx \"DHCP_OPT160_HEX=''\" '$DSA_LAB_DIR/phone-lease.env'"
	unfault no-opt66
	check "no-opt66 off: option 160 is back" grep -qx "DHCP_OPT160='$DSA_LAB_PROV_URL'" "$DSA_LAB_DIR/phone-lease.env"
else
	notok "fault no-opt66"
fi

# ---- prov-down
if fault prov-down; then
	c=$(code "${DEV[@]}" "$PROV/dialstack.xml")
	check "prov-down: HTTPS to prov is refused (HTTP $c)" test "$c" = 000
	unfault prov-down
	c=$(code "${DEV[@]}" "$PROV/dialstack.xml")
	check "prov back up (HTTP $c)" test "$c" = 200
else
	notok "fault prov-down"
fi

# ============================================================================ double NAT
# (a topology change: `lab fault double-nat` rebuilds the lab; a second up replaces the first)
old_pid=$(cat "$DSA_LAB_DIR/run/kamailio-east.pid" 2>/dev/null || echo none)
if up double-nat alg; then
	ok "lab up double-nat alg while up: replaced"
	new_pid=$(cat "$DSA_LAB_DIR/run/kamailio-east.pid" 2>/dev/null || echo none)
	check "the old east registrar ($old_pid) is gone, a new one ($new_pid) runs" bash -c \
		"test '$old_pid' != '$new_pid' && kill -0 '$new_pid' && { ! kill -0 '$old_pid' 2>/dev/null || grep -q ') Z' /proc/$old_pid/stat; }"
	run_json "$WORK/dn.json" tool ttl-probe "$DSA_LAB_SIP_EAST_IP" 33434 --max-ttl 5
	check "double-nat: TTL 1 from the router, TTL 2 from the modem's private address, TTL 3 the target" \
		jcheck "$WORK/dn.json" '[h["from"] for h in d["hops"]] == ["'"$DSA_LAB_LAN_ROUTER"'", "'"$DSA_LAB_MODEM_LAN"'", "'"$DSA_LAB_SIP_EAST_IP"'"] and d["hops"][1]["kind"] == "time-exceeded"'
	run_json "$WORK/dn-stun.json" tool stun "$DSA_LAB_STUN_IP" "$DSA_LAB_STUN_PORT"
	check "double-nat: STUN sees the modem's public address" \
		jcheck "$WORK/dn-stun.json" 'd.get("xor_mapped","").startswith("'"$DSA_LAB_ROUTER_WAN"':")'
	run_json "$WORK/dn-reg.json" tool sip-register "$DSA_LAB_SIP_EAST_IP" 5060 --proto tcp --password "$DSA_LAB_SIP_PASSWORD"
	check "double-nat: REGISTER over TCP works through both NATs" jcheck "$WORK/dn-reg.json" 'd["final"] == 200'
	run_json "$WORK/dn-alg.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP" 5060
	check "double-nat + alg: the inner router's ALG rewrote Via to its WAN address ($DSA_LAB_ROUTER_MODEMSIDE)" \
		jcheck "$WORK/dn-alg.json" '"Via: SIP/2.0/UDP '"$DSA_LAB_ROUTER_MODEMSIDE"':" in (d.get("echo") or "")'
	c=$(code "${DEV[@]}" "$PROV/dialstack-$MAC.xml")
	check "double-nat: provisioning works (HTTP $c)" test "$c" = 200
else
	notok "lab up double-nat alg"
fi

# ============================================================================ carrier-grade NAT
# cgnat: the router's WAN is in the ISP's shared space (100.64.0.2) behind the carrier's NAT
# (100.64.0.1 inside, 203.0.113.2 outside); cgnat+double-nat adds the customer's modem as well.
if up cgnat; then
	run_json "$WORK/cg.json" tool ttl-probe "$DSA_LAB_SIP_EAST_IP" 33434 --max-ttl 5
	check "cgnat: TTL 1 from the router, TTL 2 from the carrier NAT's 100.64/10 address, TTL 3 the target" \
		jcheck "$WORK/cg.json" '[h["from"] for h in d["hops"]] == ["'"$DSA_LAB_LAN_ROUTER"'", "'"$DSA_LAB_CARRIER_LAN"'", "'"$DSA_LAB_SIP_EAST_IP"'"] and d["hops"][1]["kind"] == "time-exceeded"'
	check "cgnat: the router's WAN address is $DSA_LAB_CGNAT_WAN" bash -c \
		"ip -n $DSA_LAB_NS_ROUTER -4 -o addr show dev wan0 | grep -q ' $DSA_LAB_CGNAT_WAN/'"
	run_json "$WORK/cg-stun.json" tool stun "$DSA_LAB_STUN_IP" "$DSA_LAB_STUN_PORT"
	check "cgnat: STUN sees the carrier NAT's public address" \
		jcheck "$WORK/cg-stun.json" 'd.get("xor_mapped","").startswith("'"$DSA_LAB_ROUTER_WAN"':")'
	check "cgnat: the carrier NAT translated $DSA_LAB_CGNAT_WAN to $DSA_LAB_ROUTER_WAN (its conntrack)" bash -c \
		"ip netns exec $DSA_LAB_NS_CARRIER conntrack -L -p udp 2>/dev/null | grep 'src=$DSA_LAB_CGNAT_WAN ' | grep -q 'dst=$DSA_LAB_ROUTER_WAN '"
	run_json "$WORK/cg-reg.json" tool sip-register "$DSA_LAB_SIP_EAST_IP" 5060 --password "$DSA_LAB_SIP_PASSWORD"
	check "cgnat: REGISTER over UDP works through both NATs" jcheck "$WORK/cg-reg.json" 'd["final"] == 200'
else
	notok "lab up cgnat"
fi
if up cgnat+double-nat; then
	check "cgnat+double-nat: the faults are cgnat and double-nat" bash -c \
		"sort '$DSA_LAB_DIR/faults' | tr '\n' ' ' | grep -qx 'cgnat double-nat '"
	run_json "$WORK/cgdn.json" tool ttl-probe "$DSA_LAB_SIP_EAST_IP" 33434 --max-ttl 6
	check "cgnat+double-nat: TTL 1 router, 2 modem (private), 3 carrier NAT (100.64/10), 4 the target" \
		jcheck "$WORK/cgdn.json" '[h["from"] for h in d["hops"]] == ["'"$DSA_LAB_LAN_ROUTER"'", "'"$DSA_LAB_MODEM_LAN"'", "'"$DSA_LAB_CARRIER_LAN"'", "'"$DSA_LAB_SIP_EAST_IP"'"]'
	run_json "$WORK/cgdn-stun.json" tool stun "$DSA_LAB_STUN_IP" "$DSA_LAB_STUN_PORT"
	check "cgnat+double-nat: STUN sees the carrier NAT's public address" \
		jcheck "$WORK/cgdn-stun.json" 'd.get("xor_mapped","").startswith("'"$DSA_LAB_ROUTER_WAN"':")'
	check "cgnat+double-nat: the carrier NAT translated the modem's $DSA_LAB_CGNAT_WAN" bash -c \
		"ip netns exec $DSA_LAB_NS_CARRIER conntrack -L -p udp 2>/dev/null | grep -q 'src=$DSA_LAB_CGNAT_WAN '"
else
	notok "lab up cgnat+double-nat"
fi

# ---- manual-dhcp (the agent runs its own DHCP client)
if up manual-dhcp; then
	check "manual-dhcp: phone interface up without an address" bash -c \
		"test -z \"\$(ip -n $DSA_LAB_NS_PHONE -4 -o addr show dev $DSA_LAB_PHONE_IF)\" && ip -n $DSA_LAB_NS_PHONE link show $DSA_LAB_PHONE_IF | grep -q 'state UP\|LOWER_UP'"
	check "manual-dhcp: a DHCP client in the phone gets a lease" \
		timeout 20 ip netns exec "$DSA_LAB_NS_PHONE" busybox udhcpc -i "$DSA_LAB_PHONE_IF" -f -q -n -t 3 -T 1 -s /bin/true
else
	notok "lab up manual-dhcp"
fi

# ============================================================================ IPv6 only
# ipv6-only: the phone's LAN has IPv6 only (RA/SLAAC, RDNSS, no DHCPv4); the router routes
# IPv6 without NAT (stateful, RFC 6092) and every platform name has an AAAA on a server that
# listens on IPv6. Then the faults that exist on both families, checked on IPv6.
phone6() { ip -n "$DSA_LAB_NS_PHONE" -6 -o addr show dev "$DSA_LAB_PHONE_IF" scope global | awk '{print $4}' | cut -d/ -f1 | head -n1; }
# capture6 FILTER FIELD CMD... : FIELD of the first 5 packets matching FILTER on the platform's wire while CMD runs
capture6() {
	local filter=$1 field=$2 pcap=$WORK/cap6.pcap
	shift 2
	rm -f "$pcap" "$WORK/tcpdump6.err"
	timeout 15 ip netns exec "$DSA_LAB_NS_PLATFORM" tcpdump -i wan0 -n -U --immediate-mode -c "${CAPN:-5}" -w "$pcap" "$filter" 2>"$WORK/tcpdump6.err" &
	local tp=$!
	for _ in $(seq 1 50); do
		grep -q listening "$WORK/tcpdump6.err" 2>/dev/null && break
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
	wait "$tp" || true
	timeout 20 tshark -r "$pcap" -T fields -e "$field" 2>/dev/null | sort -u | tr '\n' ' '
}
nft_count() { # nft_count TABLE : sum of the packet counters of a router table
	ip netns exec "$DSA_LAB_NS_ROUTER" nft list table inet "$1" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}
if up ipv6-only; then
	P6=$(phone6)
	check "ipv6-only: the phone has no IPv4 address and no DHCP lease" bash -c \
		"test -z \"\$(ip -n $DSA_LAB_NS_PHONE -4 -o addr show dev $DSA_LAB_PHONE_IF)\" && test ! -e '$DSA_LAB_DIR/phone-lease.env'"
	check "ipv6-only: the phone has one global IPv6 address in $DSA_LAB_LAN6_PREFIX/64 ($P6) and a link-local one, nothing else" bash -c \
		"ip -n $DSA_LAB_NS_PHONE -6 -o addr show dev $DSA_LAB_PHONE_IF | awk '{print \$4}' | sort >'$WORK/a6'; cat '$WORK/a6';
		 test \$(wc -l <'$WORK/a6') = 2 && grep -q '^${DSA_LAB_LAN6_PREFIX}[0-9a-f:]*/64\$' '$WORK/a6' && grep -q '^fe80::' '$WORK/a6'"
	check "ipv6-only: the phone's default route is the router's link-local address (RA)" bash -c \
		"ip -n $DSA_LAB_NS_PHONE -6 route show default | grep -q 'via fe80::'"
	check "ipv6-only: a DHCPv4 client in the phone gets no lease" bash -c \
		"! timeout 20 ip netns exec $DSA_LAB_NS_PHONE busybox udhcpc -i $DSA_LAB_PHONE_IF -f -q -n -t 2 -T 1 -s /bin/true >/dev/null 2>&1"
	check "ipv6-only: the phone's resolv.conf names the router's IPv6 address only" \
		bash -c "test \"\$(cat /etc/netns/$DSA_LAB_NS_PHONE/resolv.conf)\" = 'nameserver $DSA_LAB_LAN6_ROUTER'"
	# a Router Solicitation from the phone: the RA carries the prefix and RDNSS (RFC 8106) = the router
	check "ipv6-only: the router's RA (answering a Router Solicitation) carries the /64 prefix and RDNSS $DSA_LAB_LAN6_ROUTER" phone "$PY" -c "
import socket, struct, time, ipaddress
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'$DSA_LAB_PHONE_IF')
s.settimeout(3)
s.sendto(bytes([133, 0, 0, 0, 0, 0, 0, 0]), ('ff02::2', 0, 0, socket.if_nametoindex('$DSA_LAB_PHONE_IF')))
end = time.monotonic() + 3
while time.monotonic() < end:
    d = s.recv(2048)
    if d[0] != 134:
        continue
    opts, off, pfx, dns = d[16:], 0, [], []
    while off + 8 <= len(opts) and opts[off + 1]:
        t, l = opts[off], opts[off + 1] * 8
        if t == 3:
            pfx.append(str(ipaddress.ip_address(opts[off + 16:off + 32])) + '/%d' % opts[off + 2])
        if t == 25:
            dns += [str(ipaddress.ip_address(opts[off + 8 + i:off + 24 + i])) for i in range(0, l - 8, 16)]
        off += l
    print('prefix', pfx, 'rdnss', dns)
    assert '${DSA_LAB_LAN6_PREFIX}/64' in pfx and '$DSA_LAB_LAN6_ROUTER' in dns
    break
else:
    raise SystemExit('no RA')"
	dns6_ok() {
		local name ip got
		while read -r name ip; do
			got=$(phone getent ahostsv6 "$name" | awk 'NR==1{print $1}')
			[ "$got" = "$ip" ] || { echo "$name -> '$got', want $ip"; return 1; }
		done <<EOT
$DSA_LAB_PROV_HOST $DSA_LAB_PROV_IP6
$DSA_LAB_SIP_EAST_HOST $DSA_LAB_SIP_EAST_IP6
$DSA_LAB_SIP_WEST_HOST $DSA_LAB_SIP_WEST_IP6
$DSA_LAB_STUN_HOST $DSA_LAB_STUN_IP6
$DSA_LAB_ECHO_HOST $DSA_LAB_ECHO_IP6
$DSA_LAB_REFLECTOR_HOST $DSA_LAB_REFLECTOR_IP6
EOT
	}
	check "ipv6-only: every platform name resolves to its AAAA through the router's DNS over IPv6" dns6_ok
	check "ipv6-only: the SRV targets of _sip._udp have AAAA (dnsmasq additional records)" bash -c \
		"timeout 10 ip netns exec $DSA_LAB_NS_PHONE $PY -c \"import socket; print(socket.getaddrinfo('$DSA_LAB_SIP_EAST_HOST', 5060, socket.AF_INET6))\" | grep -q '$DSA_LAB_SIP_EAST_IP6'"
	c=$(phone curl -6 -sS --max-time 8 -o "$WORK/body6" -w '%{http_code}' "${DEV[@]}" "$PROV/dialstack-$MAC.xml" 2>"$WORK/curl6.err")
	check "ipv6-only: curl -6 to https://$DSA_LAB_PROV_HOST (lab CA, device certificate) gets the per-MAC file (HTTP $c)" test "$c" = 200
	check "ipv6-only: ... nginx logged it from the phone's IPv6 address" grep -q "^[^ ]* $P6:[0-9]* \"GET /dialstack-$MAC.xml\" 200" "$DSA_LAB_LOGS/nginx-access.log"
	for w in east:$DSA_LAB_SIP_EAST_IP6 west:$DSA_LAB_SIP_WEST_IP6; do
		for pr in udp:5060 tcp:5060 tls:5061; do
			run_json "$WORK/r6-${w%%:*}-${pr%%:*}.json" tool sip-register "${w#*:}" "${pr#*:}" --proto "${pr%%:*}" \
				--password "$DSA_LAB_SIP_PASSWORD" --ca "$DSA_LAB_CA_CERT" --server-name "sip-${w%%:*}.$DSA_LAB_DOMAIN"
			check "ipv6-only: REGISTER to ${w%%:*} over IPv6 ${pr%%:*} ${pr#*:}: 401 then 200" \
				jcheck "$WORK/r6-${w%%:*}-${pr%%:*}.json" 'd["statuses"] == [401, 200]'
		done
	done
	check "ipv6-only: east's bindings carry the phone's own IPv6 address, no Received (no NAT)" bash -c \
		"kamcmd -s '$DSA_LAB_EAST_CTL' ul.dump >'$WORK/ul6'; grep -q 'Address: sip:$DSA_LAB_SIP_USER@\[$P6\]' '$WORK/ul6' && ! grep -q 'Received: sip:' '$WORK/ul6' && grep -q 'Socket: tls:\[$DSA_LAB_SIP_EAST_IP6\]:5061' '$WORK/ul6'"
	# (sipsak takes no IPv6 literal: labtool's OPTIONS)
	run_json "$WORK/opt6.json" tool sip-echo "$DSA_LAB_SIP_WEST_IP6" 5060
	check "ipv6-only: SIP OPTIONS to west over IPv6 gets 200, the phone's own address in Via (no NAT)" \
		jcheck "$WORK/opt6.json" 'd["status"] == 200 and ("Via: SIP/2.0/UDP " + d["local"]) in d["echo"] and "'"$P6"'" in d["local"]'
	run_json "$WORK/stun6.json" tool stun "$DSA_LAB_STUN_IP6" "$DSA_LAB_STUN_PORT"
	check "ipv6-only: STUN over IPv6 maps to the phone's own address (native IPv6)" \
		jcheck "$WORK/stun6.json" 'd.get("xor_mapped", "").startswith("['"$P6"']:")'
	run_json "$WORK/refl6.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP6" "$DSA_LAB_REFLECTOR_PORT" --count 20 --tos 0xb8
	check "ipv6-only: the IPv6 reflector echoes all 20 and reports DSCP 46 (EF) as sent" \
		jcheck "$WORK/refl6.json" 'd["received"] == 20 and d["dscp_seen"] == {"46": 20}'
	run_json "$WORK/refl6-p.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP6" 15000 --count 5
	check "ipv6-only: RTP port 15000 of the IPv6 reflector answers from that port and reports it" \
		jcheck "$WORK/refl6-p.json" 'd["received"] == 5 and d["orig_ports"] == [15000]'
	mkdir -p "$WORK/sipp6"
	# (INVITE, ACK, BYE reach the echo UAS: 3 packets)
	d=$(CAPN=3 capture6 "udp and dst host $DSA_LAB_ECHO_IP6 and dst port $DSA_LAB_ECHO_PORT" sip.Method bash -c \
		"cd '$WORK/sipp6' && timeout 30 ip netns exec $DSA_LAB_NS_PHONE sipp -sn uac -s echo '[$DSA_LAB_SIP_EAST_IP6]:5060' -i '$P6' -m 1 -nostdin -timeout 15 -timeout_error")
	check "ipv6-only: an INVITE to echo over IPv6 via east reaches the IPv6 echo UAS (methods seen: $d)" bash -c "grep -q INVITE <<<'$d'"
	check "ipv6-only: the IPv6 sipp echo returns RTP sent to its media port" phone "$PY" -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(2)
s.connect(('$DSA_LAB_ECHO_IP6', $DSA_LAB_ECHO_RTP_PORT))
pkt = b'\x80\x00\x00\x07' + b'\x00' * 8 + b'\xd5' * 160
s.send(pkt)
assert s.recv(2048) == pkt"
	# RFC 6092: from the WAN, only what belongs to a flow the phone started
	check "ipv6-only: the router drops a new inbound IPv6 flow from the platform to the phone (RFC 6092)" bash -c "
		timeout 5 ip netns exec $DSA_LAB_NS_PHONE $PY -c \"
import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('::', 40000)); s.settimeout(3)
try:
    s.recv(100); raise SystemExit(1)
except socket.timeout:
    pass\" &
		l=\$!; sleep 0.5
		timeout 5 ip netns exec $DSA_LAB_NS_PLATFORM $PY -c \"
import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for _ in range(3): s.sendto(b'x', ('$P6', 40000))\"
		wait \$l"

	# ---- faults on IPv6
	d=$(capture6 "udp and dst host $DSA_LAB_REFLECTOR_IP6 and dst port $DSA_LAB_REFLECTOR_PORT" ipv6.tclass.dscp \
		tool udp-probe "$DSA_LAB_REFLECTOR_IP6" "$DSA_LAB_REFLECTOR_PORT" --count 5 --tos 0xb8)
	check "ipv6-only: the platform's wire shows traffic class DSCP 46 without bleaching ($d)" test "$d" = "46 "
	if fault bleach-dscp; then
		d=$(capture6 "udp and dst host $DSA_LAB_REFLECTOR_IP6 and dst port $DSA_LAB_REFLECTOR_PORT" ipv6.tclass.dscp \
			tool udp-probe "$DSA_LAB_REFLECTOR_IP6" "$DSA_LAB_REFLECTOR_PORT" --count 5 --tos 0xb8)
		check "ipv6-only + bleach-dscp: the platform's wire shows DSCP 0 ($d)" test "$d" = "0 "
		unfault bleach-dscp
	else
		notok "fault bleach-dscp (ipv6-only)"
	fi
	T=10
	if fault block=udp5060; then
		run_json "$WORK/b6u.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP6" 5060 --timeout 2
		run_json "$WORK/b6t.json" tool sip-echo "$DSA_LAB_SIP_EAST_IP6" 5060 --proto tcp --timeout 3
		check "ipv6-only + block=udp5060: no answer over UDP 5060 on IPv6" jcheck "$WORK/b6u.json" 'd["status"] is None'
		n=$(nft_count dsa_block_udp5060)
		check "ipv6-only + block=udp5060: the router's drop counter counted it ($n)" test "$n" -ge 1
		check "ipv6-only + block=udp5060: TCP 5060 on IPv6 still works" jcheck "$WORK/b6t.json" 'd["status"] == 200'
		unfault block=udp5060
	else
		notok "fault block=udp5060 (ipv6-only)"
	fi
	for b in stun:"$DSA_LAB_STUN_IP6":"$DSA_LAB_STUN_PORT" rtp:"$DSA_LAB_REFLECTOR_IP6":15000; do
		bp=${b%%:*} rest=${b#*:}
		bport=${rest##*:} bhost=${rest%:*}
		if fault "block=$bp"; then
			run_json "$WORK/b6-$bp.json" tool udp-probe "$bhost" "$bport" --count 5 --timeout 1
			n=$(nft_count "dsa_block_$bp")
			check "ipv6-only + block=$bp: UDP to [$bhost]:$bport gets nothing, the router counted $n drops" \
				bash -c "'$PY' -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])).get(\"received\", 0) != 0)' '$WORK/b6-$bp.json' && test '$n' -ge 5"
			unfault "block=$bp"
		else
			notok "fault block=$bp (ipv6-only)"
		fi
	done
	unset T
	if fault loss=20; then
		run_json "$WORK/loss6.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP6" "$DSA_LAB_REFLECTOR_PORT" --count 500 --interval-ms 1 --size 40
		check "ipv6-only + loss=20: 500 packets over IPv6, loss within 12-28 %" jcheck "$WORK/loss6.json" '12 <= d["loss_pct"] <= 28'
		unfault loss
	else
		notok "fault loss=20 (ipv6-only)"
	fi
	if fault udp-timeout=3; then
		tool udp-late "$DSA_LAB_REFLECTOR_IP6" 11001 --delay-ms 6000 --grace 1.5 >"$WORK/late6v6.json" 2>&1 &
		lp=$!
		sleep 1
		timeout 10 ip netns exec "$DSA_LAB_NS_ROUTER" conntrack -L -f ipv6 -p udp --dport 11001 >"$WORK/ct6.txt" 2>/dev/null || true
		wait "$lp"
		# shellcheck disable=SC2016
		check "ipv6-only + udp-timeout=3: the router's IPv6 conntrack entry has at most 3 s left" \
			awk '$1=="udp" { if ($3 <= 3 && $3 >= 0) found=1 } END { exit !found }' "$WORK/ct6.txt"
		check "ipv6-only + udp-timeout=3: a reply after 6 s is dropped by the IPv6 firewall (state gone)" \
			jcheck "$WORK/late6v6.json" 'd["reply"] is False'
		unfault udp-timeout
		run_json "$WORK/late6v6b.json" tool udp-late "$DSA_LAB_REFLECTOR_IP6" 11002 --delay-ms 6000 --grace 1.5
		check "ipv6-only, udp-timeout off: a reply after 6 s passes" jcheck "$WORK/late6v6b.json" 'd["reply"] is True'
	else
		notok "fault udp-timeout=3 (ipv6-only)"
	fi
	if fault pmtu6=1400; then
		run_json "$WORK/mtu6a.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP6" "$DSA_LAB_REFLECTOR_PORT" --count 3 --size 1300 --timeout 1
		run_json "$WORK/mtu6b.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP6" "$DSA_LAB_REFLECTOR_PORT" --count 3 --size 1400 --timeout 1
		n=$(nft_count dsa_pmtu6)
		check "pmtu6=1400: 1300-byte datagrams pass, 1400-byte ones (1448 on the wire) never arrive" bash -c \
			"'$PY' -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(not (a[\"received\"] == 3 and b[\"received\"] == 0))' '$WORK/mtu6a.json' '$WORK/mtu6b.json'"
		check "pmtu6=1400: the router dropped its own ICMPv6 Packet Too Big ($n)" test "$n" -ge 1
		unfault pmtu6
		run_json "$WORK/mtu6c.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP6" "$DSA_LAB_REFLECTOR_PORT" --count 3 --size 1400 --timeout 1
		check "pmtu6 off: 1400-byte datagrams pass again" jcheck "$WORK/mtu6c.json" 'd["received"] == 3'
	else
		notok "fault pmtu6=1400"
	fi
else
	notok "lab up ipv6-only"
fi
if up dual-stack; then
	check "dual-stack: prov resolves to A and AAAA, nginx answers curl -6 (HTTP)" bash -c \
		"test \"\$(ip netns exec $DSA_LAB_NS_PHONE curl -6 -sS --max-time 8 -o /dev/null -w '%{http_code}' --cacert '$DSA_LAB_CA_CERT' --cert '$DSA_LAB_DEVICE_CERT' --key '$DSA_LAB_DEVICE_KEY' '$PROV/dialstack.xml')\" = 200 &&
		 test \"\$(ip netns exec $DSA_LAB_NS_PHONE curl -4 -sS --max-time 8 -o /dev/null -w '%{http_code}' --cacert '$DSA_LAB_CA_CERT' --cert '$DSA_LAB_DEVICE_CERT' --key '$DSA_LAB_DEVICE_KEY' '$PROV/dialstack.xml')\" = 200"
	if fault block6; then
		run_json "$WORK/bl6.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP6" "$DSA_LAB_REFLECTOR_PORT" --count 5 --timeout 1
		run_json "$WORK/bl4.json" tool udp-probe "$DSA_LAB_REFLECTOR_IP" "$DSA_LAB_REFLECTOR_PORT" --count 5 --timeout 1
		n=$(nft_count dsa_block6)
		check "dual-stack + block6: nothing over IPv6 ($n dropped), IPv4 answers" bash -c \
			"'$PY' -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(not (a.get(\"received\", 0) == 0 and b[\"received\"] == 5))' '$WORK/bl6.json' '$WORK/bl4.json' && test '$n' -ge 5"
		unfault block6
	else
		notok "fault block6"
	fi
else
	notok "lab up dual-stack"
fi

# ============================================================================ down
check "lab down" timeout 60 "$LAB" down
check "lab down again (idempotent)" timeout 60 "$LAB" down
check "no lab namespace left" bash -c "! ip netns list | grep -q '^dsa-'"
check "no /etc/netns/dsa-* left" bash -c "! ls -d /etc/netns/dsa-* 2>/dev/null | grep -q ."
check "no lab interface left in the root namespace" bash -c "! ip -o link | grep -qi '$DSA_LAB_PHONE_MAC'"
no_lab_process() { # no live process whose command line names the state dir
	local pat p st bad=0
	pat="[${DSA_LAB_DIR:0:1}]${DSA_LAB_DIR:1}" # a regex that does not match itself
	for p in $(pgrep -f "$pat" || true); do
		st=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null) || continue
		if [ "$st" != Z ]; then
			ps -o pid,stat,args -p "$p"
			bad=1
		fi
	done
	return "$bad"
}
check "no lab server process left (zombies awaiting their reaper aside)" no_lab_process
check "no lab mount left" bash -c "! grep -q -e '/run/netns/dsa-' -e '/etc/netns/dsa-' /proc/mounts"

echo "# lab test took $(($(date +%s) - T_START)) s"
echo "1..$N"
[ "$FAILS" -eq 0 ]
