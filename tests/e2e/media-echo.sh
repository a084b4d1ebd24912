#!/bin/bash
# media-echo.sh - an RTP and an SRTP G.711 tone stream to a real echo peer:
# sipp in RTP echo mode on 127.0.0.1 (random free ports, killed on exit),
# driven by media-echo (see media-echo.c for the checks).
set -u
. "$top_srcdir/tests/lib/tap.sh"

DRV="$top_builddir/tests/e2e/media-echo"
command -v sipp >/dev/null || skip_all "sipp (Debian sip-tester) is not installed"
command -v python3 >/dev/null || skip_all "python3 is needed to pick free ports"
[ -x "$DRV" ] || skip_all "driver $DRV not built"

T=$(mktemp -d /tmp/dsa-media.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# Free ports: an even media port with its +2 (sipp echoes both), a SIP and a control port.
read -r MP SP CP < <(python3 - <<'PY'
import socket, random
def free(p, kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(200):
    mp = random.randrange(40000, 50000, 2)
    sp, cp = mp + 10, mp + 20
    if all(free(p) for p in (mp, mp + 2, sp, cp)) and free(sp, socket.SOCK_STREAM):
        print(mp, sp, cp); break
PY
)
[ -n "${MP:-}" ] || skip_all "no free ports found on 127.0.0.1"

sipp -sn uas -rtp_echo -mp "$MP" -i 127.0.0.1 -p "$SP" -cp "$CP" -nostdin \
	>"$T/sipp.out" 2>&1 &
pid=$!
# Bounded wait for the echo socket.
up=0
for _ in $(seq 1 50); do
	if python3 - "$MP" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.1)
s.sendto(b"\x80\x00\x00\x00" + bytes(8), ("127.0.0.1", int(sys.argv[1])))
try:
    s.recv(64); sys.exit(0)
except OSError:
    sys.exit(1)
PY
	then up=1; break; fi
	sleep 0.1
done
[ "$up" = 1 ] || { cat "$T/sipp.out" >&2; echo "1..0 # SKIP sipp did not start its RTP echo"; exit 0; }

# Run the driver; its TAP lines become ours (renumbered).
run() {
	local name=$1; shift
	local out rc line
	out=$("$DRV" 127.0.0.1 "$MP" "$@" 2>&1); rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) pass "$name: ${line#ok * - }" ;;
		"not ok "*) fail "$name: ${line#not ok * - }" ;;
		"Bail out!"*) fail "$name: $line" ;;
		esac
	done <<<"$out"
	[ "$rc" = 0 ] || fail "$name: driver exit status $rc" "$out"
}

run "RTP PCMU" --count 150 --pt 0
run "RTP PCMA" --count 50 --pt 8
run "SRTP AES_CM_128_HMAC_SHA1_80" --count 100 --srtp AES_CM_128_HMAC_SHA1_80
run "SRTP AES_CM_128_HMAC_SHA1_32" --count 50 --srtp AES_CM_128_HMAC_SHA1_32
run "SRTP AEAD_AES_128_GCM" --count 50 --srtp AEAD_AES_128_GCM
run "SRTP without the key" --count 30 --srtp AES_CM_128_HMAC_SHA1_80 --no-decrypt
kill -0 "$pid" 2>/dev/null && pass "sipp echo still running (no crash from our packets)" || fail "sipp died"
done_testing
