#!/bin/bash
# agent-lab.sh - the whole agent, as shipped, against the lab's real servers:
# a new phone provisions over mutual TLS, stores its config, marks SIP with
# DSCP 26, runs its boot self-test, registers with its summary in REGISTER,
# and the provisioning server holds its status and report; registering comes
# first (the first REGISTER is on the wire before any status PUT lands on the
# server, and on a boot from the stored config before any other packet but the
# registrar's DNS: no fetch, no self-test probe); a second boot gets
# 304s and applies nothing; a changed file is picked up on `resync` and only
# the changed part is applied; SIGTERM removes the binding before the exit.
# Every assertion reads a server's own record (nginx log, files PUT, the
# registrar's location table and log) or the wire (tcpdump), not the agent's log.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
[ -n "${DSA_LAB_LOCKED:-}" ] || exec "$top_srcdir/tests/lab/lab" with-lock "$0" "$@"
. "$top_srcdir/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"
. "$top_srcdir/tests/lab/lab.env"

LAB="$top_srcdir/tests/lab/lab"
A="$top_builddir/agent/dialstack-agent"
T=$(mktemp -d /tmp/dsa-agent-lab.XXXXXX)
chmod 0755 "$T"
export DIALSTACK_RUNDIR="$T/run" DIALSTACK_STATEDIR="$T/state"
MAC=$DSA_LAB_PHONE_MAC_HEX
ACCESS=$DSA_LAB_LOGS/nginx-access.log
EAST_LOG=$DSA_LAB_LOGS/kamailio-east.log
pid=
cap=
watch=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$cap" ] && kill "$cap" 2>/dev/null
	[ -n "$watch" ] && kill "$watch" 2>/dev/null
	"$LAB" down >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

phone() { ip netns exec "$DSA_LAB_NS_PHONE" "$@"; }
platform() { ip netns exec "$DSA_LAB_NS_PLATFORM" "$@"; }
state_of() { phone "$A" --json status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' 2>/dev/null; }
# wait_state STATE SECONDS
wait_state() { local i; for i in $(seq 1 "$2"); do [ "$(state_of)" = "$1" ] && return 0; sleep 1; done; return 1; }
bindings() { platform kamcmd -s "$DSA_LAB_EAST_CTL" ul.dump 2>/dev/null; }
registers() { grep -c "DSA-REGISTER.*to=sip:$DSA_LAB_SIP_USER@" "$EAST_LOG" 2>/dev/null || true; }
# unregisters seen by east, and the Call-ID of our binding there (a new SIP client, as a
# changed account/DSCP/keepalive makes, unregisters the old binding and brings a new
# Call-ID; a self-test summary update is a refresh of the same binding)
unregisters() { grep -c "DSA-REGISTER.*expires=0 to=sip:$DSA_LAB_SIP_USER@" "$EAST_LOG" 2>/dev/null || true; }
UUID=$(python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, 'urn:dialstack:mac:$MAC'))")
our_callid() { bindings | awk -v u="$UUID" '/Call-ID:/ {c = $2} index($0, u) {print c; exit}'; }
start_agent() {
	# Not through the phone() function: $! must be the agent itself (ip netns exec execs it).
	launched=$(date +%s.%N)
	ip netns exec "$DSA_LAB_NS_PHONE" "$A" run -f -l debug -c "$T/bootstrap.conf" 2>>"$T/agent.log" &
	pid=$!
}
stop_agent() {
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	local st=$?
	pid=
	return $st
}

"$LAB" up >"$T/lab.log" 2>&1 || { echo "1..0 # SKIP the lab did not come up: $(tail -3 "$T/lab.log")"; exit 0; }
cat >"$T/bootstrap.conf" <<EOF
ca = $DSA_LAB_CA_CERT
cert = $DSA_LAB_DEVICE_CERT
key = $DSA_LAB_DEVICE_KEY
interface = $DSA_LAB_PHONE_IF
model = DS-lab
boot-delay = 0
EOF

# first_time PCAP FILTER: epoch time of the first packet tshark's FILTER matches ("" if none).
first_time() { tshark -r "$1" -Y "$2" -T fields -e frame.time_epoch 2>/dev/null | head -1; }
# earlier A B: A is a time and B is empty (never happened) or later than A.
earlier() { [ -n "$1" ] && { [ -z "$2" ] || python3 -c "import sys; sys.exit(0 if float('$1') < float('$2') else 1)"; }; }

# ---------------------------------------------------------------- first boot
st="$DSA_LAB_STATUS_DIR/$MAC/status.xml"
rm -f "$st"
# When the first status PUT lands on the server (polled every 10 ms, at most 120 s).
( for i in $(seq 1 12000); do [ -e "$st" ] && { date +%s.%N >"$T/first-put"; exit 0; }; sleep 0.01; done ) &
watch=$!
ip netns exec "$DSA_LAB_NS_PHONE" tcpdump -i "$DSA_LAB_PHONE_IF" -n -w "$T/sip.pcap" -U "udp port 5060" >/dev/null 2>&1 &
cap=$!
sleep 0.5
start_agent
# Model: boot-delay 0, then two HTTPS fetches and one registration across the lab: a few
# seconds of TLS and round trips even with every wake-up late by SCHED = 0.25 s; 60 s is the
# bound of a wait, not a speed requirement.
ok "first boot: the agent reaches RUNNING within 60 s" wait_state running 60
ok "the per-MAC file was fetched over mutual TLS (nginx: 200 with the device's DN)" \
	grep -q "\"GET /dialstack-$MAC.xml\" 200 .*CN=$MAC" "$ACCESS"
ok "the common file was fetched too" grep -q '"GET /dialstack.xml" 200' "$ACCESS"
lkg=$(find "$T/state" -name 'lkg*' -type f | head -1)
ok "the config is stored as last-known-good, mode 0600" bash -c "[ -n '$lkg' ] && [ \$(stat -c %a '$lkg') = 600 ]"
ok "the state folder is 0700" test "$(stat -c %a "$T/state")" = 700
# Status PUTs wait a random 0.5-25 s (fleet spread); the boot self-test runs beside registration.
for i in $(seq 1 80); do grep -q 'registered' "$st" 2>/dev/null && break; sleep 0.5; done
ok "the server holds the status document saying registered" grep -q 'registered' "$st"
for i in $(seq 1 140); do grep -qi 'selftest' "$st" 2>/dev/null && break; sleep 0.5; done
ok "the status document carries the self-test report" grep -qi 'selftest' "$st"
b=$(bindings)
ok "Kamailio east holds the binding of user $DSA_LAB_SIP_USER" grep -q "sip:$DSA_LAB_SIP_USER@" <<<"$b"
ok "the binding carries the +sip.instance UUID" grep -qi 'urn:uuid:' <<<"$b"
for i in $(seq 1 100); do grep -q "DSA-REGISTER.*selftest=v=1;" "$EAST_LOG" && break; sleep 0.5; done
ok "a later REGISTER carried the self-test summary (registrar's log)" grep -q "DSA-REGISTER.*selftest=v=1;" "$EAST_LOG"
ok "the password never appears in the agent's log" bash -c "! grep -q '$DSA_LAB_SIP_PASSWORD' '$T/agent.log'"
out=$(phone "$A" status)
ok "status shows the registrar in use" grep -q "region .*east" <<<"$out"
sleep 1
kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null; cap=
wait "$watch" 2>/dev/null; watch=
reg1=$(first_time "$T/sip.pcap" 'sip.Method == "REGISTER"')
put1=$(cat "$T/first-put" 2>/dev/null)
ok "register first: the first REGISTER ($reg1) was on the wire before the first status PUT reached the server ($put1)" \
	bash -c "[ -n '$put1' ] && python3 -c 'import sys; sys.exit(0 if float(\"$reg1\") < float(\"$put1\") else 1)'"
n26=$(tcpdump -n -r "$T/sip.pcap" -v 'udp port 5060 and src host not 203.0.113.20' 2>/dev/null | grep -c 'tos 0x68')
nall=$(tcpdump -n -r "$T/sip.pcap" 'udp port 5060 and src host not 203.0.113.20 and src host not 203.0.113.30' 2>/dev/null | wc -l)
ok "SIP packets from the phone are marked DSCP 26 on the wire ($n26 of $nall)" bash -c "[ $nall -gt 0 ] && [ $n26 -eq $nall ]"

# ---------------------------------------------------------------- the technician's self-test
out=$(phone "$A" selftest); rc=$?
ok "selftest from the CLI: exit 0 on the clean lab" test "$rc" = 0
n=$(grep -cE '^(PASS|WARN|FAIL|SKIP) ' <<<"$out")
ok "selftest: one line per check ($n), none wider than a 40-column display" \
	bash -c "[ $n -ge 18 ] && ! grep -E '^(PASS|WARN|FAIL|SKIP) ' <<<\"\$1\" | awk 'length > 40 {bad=1} END {exit !bad}'" _ "$out"
runs0=$(phone "$A" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin).get("selftest",{}).get("runs",0))')
phone "$A" --json selftest >"$T/st1.json" 2>&1 & j1=$!
sleep 0.3
phone "$A" --json selftest >"$T/st2.json" 2>&1; rc2=$?
wait $j1; rc1=$?
runs1=$(phone "$A" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin).get("selftest",{}).get("runs",0))')
ok "two selftest triggers at once: both answered (exit $rc1/$rc2), one run ($runs0 -> $runs1)" \
	bash -c "[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $((runs1 - runs0)) = 1 ]"
ok "selftest --json: every line is a JSON object, events then a result with verdict pass" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all(l["v"] == 1 for l in lines)
assert lines[-1]["type"] == "result" and lines[-1]["verdict"] == "pass", lines[-1]
checks = {l["check"]["id"]: l["check"]["verdict"] for l in lines if l["type"] == "event"}
assert checks.get("call") == "PASS", checks
assert checks.get("srtp") == "PASS", checks
assert checks.get("sip-alg") == "PASS", checks
' "$T/st1.json"
phone "$A" --xml selftest >"$T/st.xml"
ok "selftest --xml: a well-formed report document" xmllint --noout "$T/st.xml"

# ---------------------------------------------------------------- resync, unchanged
cid=$(our_callid)
unreg0=$(unregisters)
lines=$(wc -l <"$ACCESS")
phone "$A" resync >/dev/null
for i in $(seq 1 20); do [ "$(tail -n +$((lines + 1)) "$ACCESS" | grep -c '" 304 ')" -ge 2 ] && break; sleep 0.5; done
ok "resync of unchanged files: both answered 304" bash -c "[ \$(tail -n +$((lines + 1)) '$ACCESS' | grep -c '\" 304 ') -ge 2 ]"
sleep 2
# the same binding (a summary refresh of the boot self-test may come), no unregister
cid1=$(our_callid)
unreg1=$(unregisters)
ok "unchanged files: no re-registration (binding $cid kept), still running" \
	bash -c "[ -n '$cid' ] && [ '$cid1' = '$cid' ] && [ '$unreg1' = '$unreg0' ] && [ \"\$(ip netns exec $DSA_LAB_NS_PHONE '$A' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = running ]"

# ---------------------------------------------------------------- resync, resync interval changed only
f="$DSA_LAB_WWW/dialstack-$MAC.xml"
cp "$f" "$T/permac.orig"
sed -i 's#</dialstack>#  <provisioning resync="43200"/>\n</dialstack>#' "$f"
lines=$(wc -l <"$ACCESS")
cid=$(our_callid)
unreg0=$(unregisters)
phone "$A" resync >/dev/null
for i in $(seq 1 20); do tail -n +$((lines + 1)) "$ACCESS" | grep -q "\"GET /dialstack-$MAC.xml\" 200" && break; sleep 0.5; done
ok "a changed file is fetched on resync (200)" bash -c "tail -n +$((lines + 1)) '$ACCESS' | grep -q '\"GET /dialstack-$MAC.xml\" 200'"
sleep 3
# Not a count of REGISTERs: the boot self-test's background checks may end in this
# window and refresh the summary in a REGISTER of the same binding (register first).
cid1=$(our_callid)
unreg1=$(unregisters)
# Model: not a time bound. A re-registration would be the REGISTER of a new binding (a
# new Call-ID) or an unregister, sent within one loop turn of applying the config; 3 s is
# twelve SCHED (0.25 s) wake-ups for it to show. A slow machine can only hide it later,
# never produce one: the check can fail only on a real re-registration.
ok "only the resync interval changed: no re-registration (binding $cid kept, no unregister)" \
	test -n "$cid" -a "$cid1" = "$cid" -a "$unreg1" = "$unreg0"
ok "and the agent is running" test "$(state_of)" = running

# ---------------------------------------------------------------- resync, signalling DSCP changed
sed -i 's#</dialstack>#  <network><dscp signalling="24"/></network>\n</dialstack>#' "$f"
ip netns exec "$DSA_LAB_NS_PHONE" tcpdump -i "$DSA_LAB_PHONE_IF" -n -w "$T/sip2.pcap" -U "udp port 5060" >/dev/null 2>&1 &
cap=$!
sleep 0.5
before=$(registers)
phone "$A" resync >/dev/null
for i in $(seq 1 30); do [ "$(registers)" -gt "$before" ] && [ "$(state_of)" = running ] && break; sleep 0.5; done
ok "DSCP changed: the agent registers again" bash -c "[ $(registers) -gt $before ]"
sleep 1
kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null; cap=
n24=$(tcpdump -n -r "$T/sip2.pcap" -v 'udp port 5060 and src net 192.168.0.0/16' 2>/dev/null | grep -c 'tos 0x60')
ok "the new REGISTERs are marked DSCP 24 on the wire ($n24)" test "$n24" -gt 0
# Put the original back and let the agent fetch it, so the next boot has nothing new.
cp "$T/permac.orig" "$f"
lines=$(wc -l <"$ACCESS")
phone "$A" resync >/dev/null
for i in $(seq 1 30); do tail -n +$((lines + 1)) "$ACCESS" | grep -q "\"GET /dialstack-$MAC.xml\" 200" && [ "$(state_of)" = running ] && break; sleep 0.5; done

# ---------------------------------------------------------------- SIGTERM
stop_agent; st=$?
ok "SIGTERM: the agent exits 0" test "$st" = 0
ok "SIGTERM: the binding is gone from Kamailio" bash -c "! ip netns exec $DSA_LAB_NS_PLATFORM kamcmd -s '$DSA_LAB_EAST_CTL' ul.dump | grep -q 'sip:$DSA_LAB_SIP_USER@'"

# ---------------------------------------------------------------- second boot
lines=$(wc -l <"$ACCESS")
# Everything the phone sends (but ARP), to see what leaves first.
ip netns exec "$DSA_LAB_NS_PHONE" tcpdump -i "$DSA_LAB_PHONE_IF" -n -w "$T/boot2.pcap" -U "ip" >/dev/null 2>&1 &
cap=$!
sleep 0.5
start_agent
ok "second boot: running again" wait_state running 60
sleep 18                                 # the boot self-test has started (0-15 s) and probed
kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null; cap=
PH="ip.src == $(ip netns exec "$DSA_LAB_NS_PHONE" ip -4 -o addr show dev "$DSA_LAB_PHONE_IF" | awk '{sub("/.*","",$4); print $4; exit}')"
reg2=$(first_time "$T/boot2.pcap" "$PH && sip.Method == \"REGISTER\"")
https2=$(first_time "$T/boot2.pcap" "$PH && tcp.dstport == 443")
# What the agent sent after its launch (not ICMP: the kernel's answers to late
# packets for the stopped agent's port are no probe).
PH="$PH && frame.time_epoch >= $launched && !icmp"
probe2=$(first_time "$T/boot2.pcap" "$PH && !(udp.dstport == 5060 || tcp.dstport == 5060 || tcp.dstport == 5061 || tcp.dstport == 443 || dns.qry.name contains \"sip-east\" || dns.qry.name contains \"sip-west\" || dns.qry.name contains \"prov.\")")
ok "stored config: the first REGISTER ($reg2) leaves before any HTTPS (fetch or status: ${https2:-none})" earlier "$reg2" "$https2"
ok "stored config: ... and before any self-test probe (STUN, reflector, echo, DNS but the registrar's and the server's: ${probe2:-none})" earlier "$reg2" "$probe2"
ok "stored config: the boot self-test did probe afterwards (the check above can fail)" test -n "$probe2"
ok "second boot: both files answered 304 (If-None-Match from the stored ETags)" \
	bash -c "tail -n +$((lines + 1)) '$ACCESS' | grep -q '\"GET /dialstack-$MAC.xml\" 304' && tail -n +$((lines + 1)) '$ACCESS' | grep -q '\"GET /dialstack.xml\" 304'"
stop_agent

# ---------------------------------------------------------------- no network at boot
"$LAB" fault prov-down >/dev/null 2>&1
start_agent
ok "provisioning server down: the agent runs on last-known-good and registers" wait_state running 60
out=$(phone "$A" --json status)
ok "status names the provisioning failure" grep -q '"last_error":"[^"]' <<<"$out"
stop_agent
"$LAB" unfault prov-down >/dev/null 2>&1

[ "$_tap_failed" = 0 ] || { echo "# agent log (last 60 lines):"; tail -60 "$T/agent.log" | sed 's/^/# /'; }
done_testing
