#!/bin/bash
# sip-sipp.sh - sip_reg against scripted registrars (sipp) for what Kamailio does
# not easily send: 423 + Min-Expires, 503 + Retry-After (with Kamailio as the other
# region), stale nonce, SHA-256 challenge, a second 401 (wrong password), broken
# and oversized replies, NOTIFY check-sync / OPTIONS / MESSAGE from the registrar,
# and a NOTIFY from a stranger. sipp checks the REGISTERs it receives (its exit
# status), the capture and usrloc check the rest.
source "$top_srcdir/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root for tcpdump on lo"
for t in sipp kamailio kamcmd tcpdump tshark python3; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
source "$top_srcdir/tests/e2e/sip-lib.sh"
S="$top_srcdir/tests/e2e"

# run_sipp NAME SCENARIO PORT: a sipp registrar (UAS) in the background; SIPP gets its pid.
run_sipp() {
	(cd "$T" && exec sipp -sf "$2" -i 127.0.0.1 -p "$3" -m 1 -nostdin -timeout 40s \
		-timeout_error -trace_err >"$T/$1.sipp.log" 2>&1) &
	SIPP=$!
	_pids="$_pids $SIPP"
	# ready when its UDP port is bound (at most 10 s), not after a fixed pause: a
	# REGISTER sent before that meets a closed port and is retransmitted
	local i
	for i in $(seq 1 100); do
		ss -Hlun "sport = :$3" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	echo "# sipp $1 did not bind UDP port $3 within 10 s" >&2
}
sipp_ok() { wait "$1"; }

# ---------------------------------------------------------------- 423
P=$(free_port)
run_sipp 423 "$S/sip-sipp-423.xml" "$P"
driver --registrar "east,127.0.0.1,$P,udp,1" --expires 300 --until registered --timeout 10 --hold 1 \
	--status "$T/423.st" >"$T/423.out" 2>&1
ok "423: registered after retrying with Min-Expires" [ $? = 0 ]
ok "423: the registrar saw Expires: 1200, then Expires: 0 on stop (sipp checks)" sipp_ok $SIPP
ok "423: granted expiry 1200 in the status" grep -q '^expires=0$\|^expires=1200$' "$T/423.st"

# ---------------------------------------------------------------- 503 + Retry-After, failover to Kamailio
W=$(free_port)
start_kam west "$W" 0 || fail "kamailio west starts"
P=$(free_port)
capture_start r503 "udp port $P"
run_sipp 503 "$S/sip-sipp-503.xml" "$P"
driver_bg --registrar "east,127.0.0.1,$P,udp,1" --registrar "west,127.0.0.1,$W,udp,2" \
	--failback 1 --until registered:east --timeout 20 --hold 1 --status "$T/503.st" >"$T/503.out" 2>&1
# Model: a 503 fails over at once: two REGISTER transactions on loopback (about 8 wake-ups of
# <= SCHED = 0.25 s on a busy 2-core machine: 2 s) inside the 5 s wait.  The Retry-After check
# below is a lower bound on wire times (pcap): a slow machine can only make the gap longer.
ok "503: failed over to west" wait_reg "$T/503.st" west 5
ok "503: west holds the binding" has_binding west
wait $D
ok "503: back on east once it answers (after Retry-After)" [ $? = 0 ]
ok "503: sipp saw the fail-back REGISTER and the unregister" sipp_ok $SIPP
capture_stop r503
# each transaction's first packet (a retransmission, when sipp answers after Timer A on a loaded
# machine, is the same transaction, not a REGISTER sent before Retry-After passed)
tshark -r "$T/r503.pcap" -Y "sip.Method == \"REGISTER\" && udp.dstport == $P" -T fields \
	-e frame.time_relative -e sip.Via.branch 2>/dev/null >"$T/503.times"
ok "503: no REGISTER to east before Retry-After (4 s) passed" python3 -c "
seen = {}
for line in open('$T/503.times'):
    f = line.split()
    if len(f) == 2 and f[1] not in seen:
        seen[f[1]] = float(f[0])
t = sorted(seen.values())
print('# REGISTER transactions to east, first packet times', t)
import sys; sys.exit(0 if len(t) >= 2 and t[1] - t[0] >= 3.99 else 1)"
if has_binding west; then fail "503: west binding removed after fail-back"; else pass "503: west binding removed after fail-back"; fi
stop_kam west

# ---------------------------------------------------------------- stale nonce
P=$(free_port)
run_sipp stale "$S/sip-sipp-stale.xml" "$P"
driver --registrar "east,127.0.0.1,$P,udp,1" --until registered --timeout 10 --hold 0 \
	--status "$T/stale.st" >"$T/stale.out" 2>&1
ok "stale nonce: registered (stale=true is not an authentication failure)" [ $? = 0 ]
ok "stale nonce: nonce A then nonce B answered, once each (sipp checks)" sipp_ok $SIPP

# ---------------------------------------------------------------- SHA-256
P=$(free_port)
capture_start sha "udp port $P"
run_sipp sha "$S/sip-sipp-sha256.xml" "$P"
driver --registrar "east,127.0.0.1,$P,udp,1" --until registered --timeout 10 --hold 0 \
	--status "$T/sha.st" >"$T/sha.out" 2>&1
ok "SHA-256: registered" [ $? = 0 ]
ok "SHA-256: answered with algorithm=SHA-256 (sipp checks)" sipp_ok $SIPP
capture_stop sha
tshark -r "$T/sha.pcap" -Y 'sip.Method == "REGISTER" && sip.Authorization' -T fields \
	-e sip.Authorization 2>/dev/null | head -1 >"$T/sha.auth"
ok "SHA-256: the response on the wire is the RFC 7616 digest of the password" python3 -c "
import hashlib, re, sys
a = open('$T/sha.auth').read()
f = dict(re.findall(r'(\w+)=\"?([^\",]*)\"?', a))
H = lambda s: hashlib.sha256(s.encode()).hexdigest()
ha1 = H('$SIP_USER:dsa.test:$SIP_PASS'); ha2 = H('REGISTER:' + f['uri'])
want = H(':'.join([ha1, f['nonce'], f['nc'], f['cnonce'], 'auth', ha2]))
print('# nonce', f['nonce'], 'alg', f.get('algorithm'), 'opaque', f.get('opaque'))
sys.exit(0 if f['response'] == want and f['nonce'] == 'n256sha' and f.get('opaque') == 'op1' else 1)"

# ---------------------------------------------------------------- wrong password (second 401)
P=$(free_port)
capture_start wpw "udp port $P"
run_sipp wpw "$S/sip-sipp-wrongpw.xml" "$P"
driver --registrar "east,127.0.0.1,$P,udp,1" --until auth-failed --timeout 10 --hold 5 \
	--status "$T/wpw.st" >"$T/wpw.out" 2>&1
ok "second 401: authentication failed" [ $? = 0 ]
ok "second 401: status tells to check the SIP password" grep -q '^error=authentication failed: check the SIP password' "$T/wpw.st"
capture_stop wpw
# Model: a count, not a time: both REGISTER transactions come before auth-failed (the end condition),
# and the next try is auth_retry_ms (30 min) away, beyond the 5 s hold, whatever the machine's speed.
# Transactions, not packets: on a loaded machine sipp may answer after Timer A (500 ms), and the
# retransmission is the same transaction (same Via branch and CSeq), not a third attempt.
n=$(count_txns wpw 'sip.Method == "REGISTER"')
ok "second 401: exactly 2 REGISTER transactions in ~5 s ($n)" [ "$n" = 2 ]

# ---------------------------------------------------------------- malformed / oversized replies
P=$(free_port)
pad=$(head -c 9000 /dev/zero | tr '\0' 'x')
hdrs=$(for i in $(seq 1 80); do printf 'X-H%d: %d\\n' $i $i; done)
sed -e "s/PADPADPADPAD/$pad/" -e "s/^HEADERS80\$/$hdrs/" "$S/sip-sipp-malformed.xml" >"$T/malformed.xml"
run_sipp mal "$T/malformed.xml" "$P"
driver --registrar "east,127.0.0.1,$P,udp,1" --until registered --timeout 10 --hold 0 \
	--status "$T/mal.st" >"$T/mal.out" 2>&1
rc=$?
ok "malformed replies: dropped without harm, registered on the good 200" [ "$rc" = 0 ]
ok "malformed replies: unregistered cleanly (sipp saw it)" sipp_ok $SIPP

# ---------------------------------------------------------------- requests from the registrar
P=$(free_port)
capture_start ntf "udp port $P"
run_sipp ntf "$S/sip-sipp-notify.xml" "$P"
rm -f "$T/checksync"
# --hold: the driver must outlive the checks below (the check-sync wait <= 3 s, tshark and python
# starting, each <= 2 s on a loaded 2-core machine): 10 s, not 3 s (the stranger's NOTIFY got
# no answer when it came after the driver had gone).
driver_bg --registrar "east,127.0.0.1,$P,udp,1" --until registered --timeout 10 --hold 10 \
	--status "$T/ntf.st" --check-sync "$T/checksync" >"$T/ntf.out" 2>&1
wait_reg "$T/ntf.st" east 5
for i in $(seq 1 30); do [ -f "$T/checksync" ] && break; sleep 0.1; done
ok "check-sync NOTIFY on the registration's flow: callback ran" [ -f "$T/checksync" ]
# A stranger (another port) sends the same NOTIFY to the phone's socket.
DP=$(tshark -r "$T/ntf.pcap" -Y 'sip.Method == "REGISTER"' -T fields -e udp.srcport 2>/dev/null | head -1)
rm -f "$T/checksync"
code=$(python3 - "$DP" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(2)
me = s.getsockname()[1]
msg = ("NOTIFY sip:100@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKevil1\r\n"
       "From: <sip:evil@127.0.0.1>;tag=e1\r\nTo: <sip:100@dsa.test>\r\nCall-ID: evil1\r\n"
       "CSeq: 1 NOTIFY\r\nEvent: check-sync\r\nContent-Length: 0\r\n\r\n") % (port, me)
s.sendto(msg.encode(), ("127.0.0.1", port))
try:
    print(s.recv(9000).decode().split()[1])
except Exception:
    print("none")
PY
)
ok "NOTIFY from a stranger refused with 403 (got $code)" [ "$code" = 403 ]
sleep 0.3
ok "NOTIFY from a stranger: no callback" [ ! -f "$T/checksync" ]
wait $D
ok "requests: OPTIONS 200, MESSAGE 405, unregister seen (sipp checks)" sipp_ok $SIPP
capture_stop ntf
# every 405 the phone sent carries Allow (more than one only if sipp retransmitted its MESSAGE)
n405=$(count ntf "udp.srcport == $DP && sip.Status-Code == 405")
nallow=$(count ntf "udp.srcport == $DP && sip.Status-Code == 405 && sip.Allow")
ok "requests: the 405 carries Allow ($nallow of $n405)" [ "$n405" -ge 1 -a "$nallow" = "$n405" ]

done_testing
