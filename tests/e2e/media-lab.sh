#!/bin/bash
# media-lab.sh - the media path through the lab (tests/lab): from the phone
# namespace, behind the router's NAT, a G.711 tone stream over RTP and SRTP to
# the platform's echo (sipp -rtp_echo, echo.dialstack.ai:10000); then with the
# lab's faults: loss=10 must show up as measured loss, block=rtp as no audio.
# Needs root; holds the lab lock from up to down (tests/lab/README.md).
set -u
. "$top_srcdir/tests/lib/tap.sh"

LAB="$top_srcdir/tests/lab/lab"
DRV="$top_builddir/tests/e2e/media-echo"
[ "$(id -u)" = 0 ] || skip_all "the lab needs root (network namespaces, nftables)"
unshare -n true 2>/dev/null || skip_all "this machine cannot create network namespaces"
[ -x "$LAB" ] || skip_all "no lab script at $LAB"
[ -x "$DRV" ] || skip_all "driver $DRV not built"
# One lab user at a time: re-run under the lab lock (re-entrant through the env).
[ -n "${DSA_LAB_LOCKED:-}" ] || exec "$LAB" with-lock "$0" "$@"

. "$top_srcdir/tests/lab/lab.env"
T=$(mktemp -d /tmp/dsa-media-lab.XXXXXX)
cleanup() { "$LAB" down >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! timeout 300 "$LAB" up >"$T/up.log" 2>&1; then
	# Without its packages (no network to install them) the lab cannot exist here.
	for p in sipp kamailio nginx turnserver nft; do
		command -v "$p" >/dev/null || skip_all "the lab cannot be built: $p is not installed"
	done
	fail "lab up" "$(tail -n 20 "$T/up.log")"
	done_testing
	exit 1
fi
pass "lab up (clean)"

# run NAME DRIVER-ARGS...: the driver in the phone namespace; its TAP lines become ours.
run() {
	local name=$1 out rc line
	shift
	out=$(timeout 60 "$LAB" exec-phone "$DRV" "$DSA_LAB_ECHO_IP" "$DSA_LAB_ECHO_RTP_PORT" "$@" 2>&1); rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) pass "$name: ${line#ok * - }" ;;
		"not ok "*) fail "$name: ${line#not ok * - }" ;;
		"Bail out!"*) fail "$name: $line" ;;
		esac
	done <<<"$out"
	[ "$rc" = 0 ] || fail "$name: driver exit status $rc" "$out"
}

run "lab RTP" --count 100
run "lab SRTP AES_CM_128_HMAC_SHA1_80" --count 100 --srtp AES_CM_128_HMAC_SHA1_80
run "lab SRTP AEAD_AES_128_GCM" --count 50 --srtp AEAD_AES_128_GCM

# 10 % loss on the way out: 400 packets, binomial sd 1.5 points; 5-16 % is over 3 sd.
if "$LAB" fault loss=10 >"$T/f.log" 2>&1; then
	run "lab loss=10" --count 400 --expect-loss 5 16
	"$LAB" unfault loss >/dev/null 2>&1
else
	fail "lab fault loss=10" "$(cat "$T/f.log")"
fi

if "$LAB" fault block=rtp >"$T/f.log" 2>&1; then
	run "lab block=rtp" --count 25 --expect-none
	"$LAB" unfault block=rtp >/dev/null 2>&1
else
	fail "lab fault block=rtp" "$(cat "$T/f.log")"
fi
# And the path recovers once the block is gone.
run "lab after unblock" --count 25
done_testing
