#!/bin/bash
# prov-lab.sh - provisioning in the lab (tests/lab): the phone namespace
# fetches from the lab's nginx (prov.dialstack.ai, mutual TLS, the lab CA)
# with no server configured (the default URL, resolved by the lab's DNS),
# stores, reports "provisioned" (the file on the server), gets 304 on the
# next boot, and rides out prov-down with backoff, recovering when nginx is
# back. Holds the lab lock for its whole run.
set -u
LAB=$top_srcdir/tests/lab/lab
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP the lab needs root"; exit 0; fi
if [ -z "${DSA_LAB_LOCKED:-}" ]; then exec "$LAB" with-lock bash "$0" "$@"; fi
# shellcheck source=../lib/tap.sh
source "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=../lab/lab.env
source "$top_srcdir/tests/lab/lab.env"
DRV=$top_builddir/tests/e2e/prov_drv
T=$(mktemp -d /tmp/prov-lab.XXXXXX)
cleanup() { "$LAB" down >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT

if ! "$LAB" up >"$T/up.log" 2>&1; then
	echo "1..0 # SKIP the lab did not come up: $(tail -2 "$T/up.log" | tr '\n' ' ')"
	exit 0
fi
ST=$T/state
ACC=$DSA_LAB_LOGS/nginx-access.log
SF=$DSA_LAB_STATUS_DIR/$DSA_LAB_PHONE_MAC_HEX/status.xml
run() { "$LAB" exec-phone env PROV_STATE="$ST" PROV_CA="$DSA_LAB_CA_CERT" PROV_CERT="$DSA_LAB_DEVICE_CERT" \
	PROV_KEY="$DSA_LAB_DEVICE_KEY" PROV_MAC="$DSA_LAB_PHONE_MAC" PROV_BOUND=${PROV_BOUND:-20000} "$@" "$DRV" run; }
has() { grep -q -- "$1" <<<"$OUT"; }

OUT=$(run PROV_ANSWER=confirm PROV_REPORT=1 PROV_EXIT_ON=reported)
ok "default server used" has "event=start server=https://prov.dialstack.ai/"
ok "phone provisioned from the lab over mutual TLS" has "event=config src=server .* user=$DSA_LAB_SIP_USER .* registrars=2"
ok "the lab's nginx saw the device certificate" grep -q "CN=$DSA_LAB_PHONE_MAC_HEX" "$ACC"
ok "status.xml is on the server" test -s "$SF"
ok "... saying provisioned" grep -q '<state name="provisioned"' "$SF"
ok "last-known-good stored 0600" test "$(stat -c %a "$ST/lkg.bundle")" = 600

n0=$(grep -c . "$ACC")
OUT=$(run PROV_EXIT_ON=unchanged,server,failed)
ok "second boot: last-known-good first" has "event=config src=lkg"
ok "second boot: nothing new" has "event=unchanged"
ok "nginx answered 304 twice" test "$(tail -n +$((n0 + 1)) "$ACC" | grep -c ' 304 ')" -ge 2

"$LAB" fault prov-down >/dev/null 2>&1
( sleep 6; "$LAB" unfault prov-down >/dev/null 2>&1 ) &
OUT=$(PROV_BOUND=30000 run PROV_RETRY_BASE=500 PROV_RETRY_CAP=2000 PROV_BOOT_DELAY=600000 PROV_RESYNC_AFTER=50 \
	PROV_EXIT_ON=unchanged,server)
wait
fails=$(grep -c "event=failed" <<<"$OUT")
ok "prov-down: attempts refused and retried ($fails)" test "$fails" -ge 3
ok "... the reason names the refused connection" has "connection refused by prov.dialstack.ai"
# The exact law is tests/unit/test_prov_backoff.c's (virtual time).  Here the failure
# Model: instants are the driver's own clock (printed to the ms), so between two failures
#   d_k = w_k + late_k + attempt_{k+1},  w_k in [c_k/2, c_k],  c_k = min(2.0 s, 0.5 s * 2^k)
# late (the timer's wake-up) and attempt (a DNS lookup at the lab's dnsmasq, then a connect
# the prov-down fault refuses) are >= 0 and take 3 process wake-ups across the lab's veths;
# each wake-up is bounded by SCHED = 0.25 s on a 2-core machine with two CPU hogs beside the
# tests (the scheduling model of prov-controller.sh).  So c_k/2 - 0.001 <= d_k <= c_k + 3 * SCHED.
python3 - <<PY >"$T/iv"
import re
t = [float(m) for m in re.findall(r"event=failed t=([0-9.]+)", """$OUT""")]
base, cap, sched = 0.5, 2.0, 0.25
for k in range(len(t) - 1):
    c = min(cap, base * 2 ** k); d = t[k + 1] - t[k]
    lo, hi = c / 2 - 0.001, c + 3 * sched
    print("%d %.3f %.3f %.3f %s" % (k, d, lo, hi, "ok" if lo <= d <= hi else "BAD"))
PY
sed 's/^/# interval k d min max: /' "$T/iv"
ok "retry intervals within the backoff window (50-100 % of the ceiling) + scheduling" bash -c "test -s '$T/iv' && ! grep -q BAD '$T/iv'"
ok "recovered when nginx came back" has "event=unchanged"
done_testing
