#!/bin/bash
# sip-rfc3263.sh - RFC 3263 with real servers on 127.0.0.1: dnsmasq serves NAPTR
# (SIP+D2U) and SRV records for dialstack.test pointing at two east Kamailio
# registrars (priority 10 and 20) and SRV for the west region; sip_reg registers
# on the priority-10 target, moves to the priority-20 target when it stops (within
# Timer F), to west when both stop. Counted on the wire (tcpdump on lo) and in
# each registrar's location table.
source "$top_srcdir/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root for tcpdump on lo"
for t in kamailio kamcmd tcpdump tshark dnsmasq python3; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
source "$top_srcdir/tests/e2e/sip-lib.sh"

P1=$(free_port); P2=$(free_port); P3=$(free_port); DP=$(free_port)
[ -n "$P1" ] && [ -n "$P2" ] && [ -n "$P3" ] && [ -n "$DP" ] &&
	[ "$(printf '%s\n' $P1 $P2 $P3 $DP | sort -u | wc -l)" = 4 ] || { echo "1..0 # SKIP no free ports"; exit 0; }
start_kam e1 "$P1" 0 || { fail "kamailio e1 starts"; done_testing; exit 1; }
start_kam e2 "$P2" 0 || { fail "kamailio e2 starts"; done_testing; exit 1; }
start_kam west "$P3" 0 || { fail "kamailio west starts"; done_testing; exit 1; }
pass "three Kamailio registrars on 127.0.0.1:$P1 (east, priority 10), :$P2 (east, priority 20), :$P3 (west)"

dnsmasq -k -C /dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
	--port="$DP" --local=/dialstack.test/ --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" \
	--log-queries \
	--naptr-record=dialstack.test,10,10,S,SIP+D2U,,_sip._udp.dialstack.test \
	--naptr-record=dialstack.test,20,10,S,SIP+D2T,,_sip._tcp.dialstack.test \
	--srv-host=_sip._udp.dialstack.test,e1.dialstack.test,"$P1",10,0 \
	--srv-host=_sip._udp.dialstack.test,e2.dialstack.test,"$P2",20,0 \
	--srv-host=_sip._udp.west.dialstack.test,w.dialstack.test,"$P3",10,0 \
	--host-record=e1.dialstack.test,127.0.0.1 --host-record=e2.dialstack.test,127.0.0.1 \
	--host-record=w.dialstack.test,127.0.0.1 &
_pids="$_pids $!"
for _ in $(seq 1 30); do [ -s "$T/dnsmasq.pid" ] && break; sleep 0.1; done
ok "dnsmasq serves the zone on 127.0.0.1:$DP" [ -s "$T/dnsmasq.pid" ]
export DSA_DNS_SERVERS="127.0.0.1:$DP"

capture_start reg "udp port $P1 or udp port $P2 or udp port $P3 or udp port $DP"
driver_bg --registrar "east,dialstack.test,0,udp,1" --registrar "west,west.dialstack.test,0,udp,2" \
	--keepalive 1 --failback 600 --timeout 200 --hold 200 --status "$T/r.st" >"$T/r.out" 2>&1
ok "registered on east" wait_reg "$T/r.st" east 10
ok "on the priority-10 target, found through NAPTR (status: $(grep ^target= "$T/r.st"))" \
	grep -q "^target=127.0.0.1:$P1 IPv4 via NAPTR, 1 of 2$" "$T/r.st"
ok "the priority-10 registrar holds our binding" has_binding e1
if has_binding e2 || has_binding west; then fail "no binding elsewhere"; else pass "no binding elsewhere"; fi

t0=$(date +%s)
stop_kam e1
# Model: keepalive 1 s, T1 500 ms: silence is known <= 1 + 3 + 3 s = 7 s after the stop (an
# unanswered keepalive, its OPTIONS retry, 6 T1 each: sip/reg.c on_t_kawait), or at worst a
# REGISTER's Timer F (32 s); then the next target of the same region at once (RFC 3263 4.3):
# probe, REGISTER, 401, REGISTER, 200 on loopback and ~10 SCHED (0.25 s) wake-ups: <= 35 s;
# the 40 s wait leaves 5 s more.
ok "priority-10 stopped -> registered on the priority-20 target within Timer F (32 s) + keepalive" \
	wait_status "$T/r.st" "^target=127.0.0.1:$P2 IPv4 via NAPTR, 2 of 2\$" 40
ok "... and registered there" wait_reg "$T/r.st" east 5
echo "# moved to the priority-20 target after $(( $(date +%s) - t0 )) s (keepalive 1 s, T1 500 ms)"
ok "the priority-20 registrar holds our binding" has_binding e2
if has_binding west; then fail "west not used while an east target answers"; else pass "west not used while an east target answers"; fi

t0=$(date +%s)
stop_kam e2
ok "both east targets stopped -> registered on west" wait_reg "$T/r.st" west 80
echo "# moved to west after $(( $(date +%s) - t0 )) s"
ok "west status names its SRV target" grep -q "^target=127.0.0.1:$P3 IPv4 via SRV, 1 of 1$" "$T/r.st"
ok "west holds our binding" has_binding west
kill -TERM $D; wait $D
capture_stop reg

n1=$(count reg "sip.Method == \"REGISTER\" && udp.dstport == $P1")
n2=$(count reg "sip.Method == \"REGISTER\" && udp.dstport == $P2")
n3=$(count reg "sip.Method == \"REGISTER\" && udp.dstport == $P3")
echo "# REGISTERs on the wire: priority 10: $n1, priority 20: $n2, west: $n3"
ok "REGISTERs went to the priority-10 target first" [ "$n1" -ge 1 ]
ok "the priority-20 target got REGISTERs only after the first stopped" [ "$n2" -ge 1 ]
first2=$(tshark -r "$T/reg.pcap" -Y "sip.Method == \"REGISTER\" && udp.dstport == $P2" -T fields -e frame.number 2>/dev/null | head -1)
last1ok=$(tshark -r "$T/reg.pcap" -Y "sip.Status-Code == 200 && udp.srcport == $P1" -T fields -e frame.number 2>/dev/null | tail -1)
ordered() { [ -n "$first2" ] && [ -n "$last1ok" ] && [ "$first2" -gt "$last1ok" ]; }
ok "no REGISTER to priority 20 before priority 10's last answer" ordered
ok "west got REGISTERs" [ "$n3" -ge 1 ]
naptr=$(count reg "dns.qry.type == 35 && udp.dstport == $DP")
srv=$(count reg "dns.qry.type == 33 && udp.dstport == $DP")
both() { [ "$naptr" -ge 1 ] && [ "$srv" -ge 1 ]; }
ok "NAPTR and SRV queries on the wire (NAPTR $naptr, SRV $srv)" both
done_testing
