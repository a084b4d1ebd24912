#!/bin/bash
# prov-controller.sh - provisioning/prov (the controller) on the real loop
# against a real nginx with mutual TLS: first boot, 304 on the second boot,
# resync picking up only the change, every refused file keeping
# last-known-good, rollback, status upload landing on the server (spooled
# while the server is down), and backoff intervals measured at a listener
# while the server is down, then recovery.
set -u
# shellcheck source=../lib/tap.sh
source "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=prov-lib.sh
source "$top_srcdir/tests/e2e/prov-lib.sh"
DRV=$top_builddir/tests/e2e/prov_drv

prov_setup || { echo "1..0 # SKIP nginx test server did not start: $(tail -3 "$PT/error.log" 2>/dev/null)"; exit 0; }
MACF=dialstack-02005e100001.xml
cp "$top_srcdir/tests/lab/prov/dialstack.xml" "$top_srcdir/tests/lab/prov/$MACF" "$WWW/"
chmod 644 "$WWW"/*.xml
ST=$PT/state

run() { env PROV_SERVER="https://localhost:$PORT/" PROV_STATE="$ST" PROV_CA="$CA" PROV_CERT="$CERT" PROV_KEY="$KEY" \
	PROV_BOUND=${PROV_BOUND:-20000} "$DRV" run; }
has() { grep -q -- "$1" <<<"$OUT"; }
nlog() { grep -c . "$PT/access.log"; }

# 1. first boot: fetch both files over mTLS, confirm, report
OUT=$(PROV_ANSWER=confirm PROV_REPORT=1 PROV_EXIT_ON=reported run)
ok "first boot: config from the server, nothing before" has "event=config src=server changed=account,registrars,vlan,dscp,keepalive,media,resync,status,selftest old=no user=1001 dscp_sig=26"
ok "both registrars merged from the per-MAC file" has "registrars=2"
ok "last-known-good stored, mode 0600" test "$(stat -c %a "$ST/lkg.bundle" 2>/dev/null)" = 600
ok "state folder mode 0700" test "$(stat -c %a "$ST")" = 700
ok "no candidate left after confirm" test ! -e "$ST/candidate.bundle"
SF=$WWW/status/02005e100001/status.xml
ok "status.xml landed on the server" test -s "$SF"
ok "... saying provisioned" grep -q '<state name="provisioned"' "$SF"
ok "... with MAC, model and the config ETags" \
	grep -q 'mac="02:00:5e:10:00:01" model="lab-phone"' "$SF"
ok "... and the status document has no password" bash -c "! grep -q lab-secret '$SF'"
ok "... nor has the log of the server" bash -c "! grep -q lab-secret '$PT/access.log'"

# 2. second boot: last-known-good first, then 304 for both files, nothing applied
n0=$(nlog)
OUT=$(PROV_EXIT_ON=unchanged,server,failed run)
ok "second boot: last-known-good handed over first" has "event=config src=lkg"
ok "second boot: nothing new" has "event=unchanged"
ok "... and nothing applied from the server" bash -c "! grep -q 'src=server' <<<'$OUT'"
ok "server answered 304 to both files" test "$(tail -n +$((n0 + 1)) "$PT/access.log" | grep -c '" 304 ')" = 2

# 3. a changed file is picked up on resync, only the change applied
cat >"$WWW/$MACF" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<dialstack version="1">
  <account user="1001" auth-user="1001" password="lab-secret-1001" domain="dialstack.ai"/>
  <registrars>
    <registrar name="east" host="sip-east.dialstack.ai" port="5060" transport="udp" priority="1"/>
    <registrar name="west" host="sip-west.dialstack.ai" port="5060" transport="udp" priority="2"/>
  </registrars>
  <network><dscp signalling="24"/></network>
</dialstack>
XML
GOOD_MAC=$(cat "$WWW/$MACF")
OUT=$(PROV_BOOT_DELAY=600000 PROV_RESYNC_AFTER=100 PROV_ANSWER=confirm PROV_EXIT_ON=server,failed run)
ok "resync picks up the changed per-MAC file" has "event=config src=server changed=dscp old=yes user=1001 dscp_sig=24"
ok "new config stored as last-known-good" grep -q 'signalling="24"' "$ST/lkg.bundle"

# 4. every bad file is refused with its cause named; last-known-good stays
bad() { # name file-content expected-reason-fragment
	printf '%s' "$2" >"$WWW/$MACF"
	cp "$ST/lkg.bundle" "$PT/lkg.before"
	OUT=$(PROV_BOOT_DELAY=600000 PROV_RESYNC_AFTER=100 PROV_ANSWER=confirm PROV_EXIT_ON=failed,server run)
	if has "event=failed" && has "$3" && ! has "src=server"; then pass "$1 refused: $3"
	else fail "$1 refused: $3" "$OUT"; fi
	ok "... last-known-good unchanged on disk" cmp -s "$ST/lkg.bundle" "$PT/lkg.before"
}
bad "malformed XML" '<dialstack version="1"><network></dialstack>' "malformed XML"
bad "schema failure" '<dialstack version="1"><network><dscpp audio="1"/></network></dialstack>' "unknown element <dscpp>"
bad "out of range" '<dialstack version="1"><network><dscp audio="99"/></network></dialstack>' 'audio="99">: 99 is out of range; allowed 0-63'
bad "external entity" '<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><dialstack version="1"><account user="&x;"/></dialstack>' "DOCTYPE/ENTITY declarations are refused"
bad "billion laughs" '<?xml version="1.0"?>
<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><dialstack version="1"><account user="&c;"/></dialstack>' "DOCTYPE/ENTITY declarations are refused"
bad "over the size cap" "$(head -c 270000 /dev/zero | tr '\0' ' ')" "config larger than 262144 bytes"
bad "incomplete" '<dialstack version="1"><network keepalive="25"/></dialstack>' "config refused"
printf '%s' "$GOOD_MAC" >"$WWW/$MACF"

# 5. rollback: a config that does not register is undone, and not re-applied
sed -i 's#<dscp signalling="24"/>#<dscp signalling="20"/>#' "$WWW/$MACF"
cp "$ST/lkg.bundle" "$PT/lkg.before"
OUT=$(PROV_BOOT_DELAY=600000 PROV_RESYNC_AFTER=100 PROV_ANSWER=rollback PROV_EXIT_ON=rollback run)
ok "new config handed over for trial" has "src=server changed=dscp old=yes user=1001 dscp_sig=20"
ok "rollback hands last-known-good back" has "event=config src=rollback changed=dscp old=yes user=1001 dscp_sig=24"
ok "... last-known-good unchanged on disk, no candidate" \
	bash -c "cmp -s '$ST/lkg.bundle' '$PT/lkg.before' && test ! -e '$ST/candidate.bundle'"
OUT=$(PROV_BOOT_DELAY=600000 PROV_RESYNC_AFTER=100 PROV_TRIAL=300 PROV_ANSWER=none PROV_EXIT_ON=rollback run)
ok "unconfirmed config rolled back by itself after the trial time" has "event=config src=rollback changed=dscp old=yes user=1001 dscp_sig=24"
printf '%s' "$GOOD_MAC" >"$WWW/$MACF"

# 6. server down: backoff measured at a listener on the server's port, then recovery
prov_nginx_stop
cat >"$PT/listen.py" <<'PY'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
open(sys.argv[4], "w").close()  # listening: the controller may start
end = time.monotonic() + float(sys.argv[2])
with open(sys.argv[3], "w") as f:
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            c, _ = s.accept()
        except socket.timeout:
            break
        f.write("%.4f\n" % time.monotonic()); f.flush()
        c.close()
PY
python3 "$PT/listen.py" "$PORT" 6.5 "$PT/attempts" "$PT/listening" &
LPID=$!
# the controller starts only once the listener listens (python's start-up on a loaded machine
# takes longer than any fixed sleep: attempts refused before it would be missed, not measured)
for _ in $(seq 100); do [ -e "$PT/listening" ] && break; sleep 0.1; done
ok "the listener on the server's port is up" test -e "$PT/listening"
OUT=$(PROV_BOUND=25000 PROV_RETRY_BASE=400 PROV_RETRY_CAP=1600 PROV_BOOT_DELAY=600000 PROV_RESYNC_AFTER=50 \
	PROV_ANSWER=confirm PROV_EXIT_ON=server,unchanged run &
	sleep 7; prov_nginx_start; wait)
wait $LPID
n=$(grep -c . "$PT/attempts")
# Attempt times are taken by the listener (monotonic clock, after accept()). The exact law
# (the k-th wait is uniform in 50-100 % of min(cap, base*2^k)) is proven without a clock in
# tests/unit/test_backoff.c and on the controller on virtual time in test_prov_backoff.c; here the real loop, real sockets and real scheduling add
# delays, and the tolerance comes from this model of one interval d_k = a_{k+1} - a_k:
#   d_k = w_k + f_k + l_k + s_{k+1} + r_{k+1} - r_k
#   w_k     the controller's wait, in [c_k/2, c_k], c_k = min(1.6 s, 0.4 s * 2^k)
#   f_k     noticing the refused handshake after the listener closes (>= 0)
#   l_k     the loop's timer firing late (>= 0)
#   s_{k+1} curl's connect to 127.0.0.1 (>= 0)
#   r       the listener's own wake-up after the kernel completed the connection (>= 0)
# f + l + s + r is a sum of scheduling delays on loopback: each is bounded by one CFS
# scheduling period of a runnable task on a 2-core machine with two CPU hogs and the other
# tests beside it (sched_latency_ns 24 ms x (runnable tasks / cores) = 24 x 16 / 2 ~ 200 ms),
# so SCHED = 0.25 s each way.  Hence c_k/2 - SCHED <= d_k <= c_k + 2 * SCHED (late attempt
# plus a late listener); a controller without backoff (d ~ 0: fails from k = 1 on, whose
# floor is 0.15 s) or without a cap (d_3 in 1.6..3.2 s, over 2.1 s half the time) still fails.  The attempt count: 5 attempts need at
# most 0.05 + 0.4 + 0.8 + 1.6 + 1.6 = 4.45 s plus 5 * SCHED, inside the 6.5 s window.  And as
# every wait is at least c_k/2, n attempts span at least 0.2 + 0.4 + 0.8 * (n - 3) s (less one
# late listener wake-up, SCHED), so n <= 10 in the 6.5 s window whatever the load: a loaded
# machine only slows the controller, so this bound against hammering holds exactly.
python3 - "$PT/attempts" >"$PT/intervals" <<'PY'
import sys
t = [float(x) for x in open(sys.argv[1])]
base, cap, sched = 0.4, 1.6, 0.25
for k in range(len(t) - 1):
    c = min(cap, base * 2 ** k); d = t[k + 1] - t[k]
    lo, hi = c / 2 - sched, c + 2 * sched
    print("%d %.3f %.3f %.3f %s" % (k, d, lo, hi, "ok" if lo <= d <= hi else "BAD"))
PY
sed 's/^/# interval k d min max: /' "$PT/intervals"
# Model: the interval model above (d_k, SCHED = 0.25 s) bounds the three assertions below.
ok "several attempts while the server was down ($n)" test "$n" -ge 5
ok "... and no more than the back-off allows in 6.5 s ($n <= 10)" test "$n" -le 10
ok "every interval within the backoff window (50-100 % of the ceiling) +- scheduling" \
	bash -c "! grep -q BAD '$PT/intervals' && test -s '$PT/intervals'"
# growth: a wait at the cap (>= 0.8 s) is longer than any legal first interval (0.4 + 2 * SCHED)
ok "intervals grow up to the cap" bash -c "awk '\$1>=2 && \$2>0.9 {n++} END {exit !(n>=1)}' '$PT/intervals'"
ok "recovered once the server came back" bash -c "grep -q 'event=unchanged' <<<'$OUT'"

# 7. a status upload while the server is down is spooled on disk and sent later
prov_nginx_stop
rm -f "$SF"
# PROV_BOUND ends the run after 1.5 s; the upload is refused at once (nothing listens: a
# connection refused on loopback, one wake-up) and spooled, far inside that bound.
OUT=$(PROV_BOUND=1500 PROV_BOOT_DELAY=600000 PROV_REPORT_AT_START=1 PROV_EXIT_ON=nothing run)
ok "server down: the status upload is kept in the spool" test "$(ls "$ST/spool" | grep -c '\.put$')" = 1
ok "... and did not reach the server" test ! -e "$SF"
prov_nginx_start
OUT=$(PROV_BOOT_DELAY=600000 PROV_WAIT_SPOOL=1 PROV_EXIT_ON=reported run)
ok "server back: the spooled status is uploaded at the next start" has "event=reported"
ok "... it is on the server" grep -q '<state name="provisioning" since=".*" reason="spool test"' "$SF"
ok "... and the spool is empty" test "$(ls "$ST/spool" | grep -c '\.put$')" = 0

done_testing
