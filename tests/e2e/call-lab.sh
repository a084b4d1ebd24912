#!/bin/bash
# call-lab.sh - the self-test's test call, SRTP and audio checks (issue 7) against the lab
# (tests/lab): diag-run in the phone namespace calls sip:echo@dialstack.ai through the
# router's NAT and Kamailio to the sipp echo (RTP echoed), assertions on the XML report.
#
#   clean          call PASS over RTP, the tone back at the sent level, loss 0; srtp PASS
#   clean + SRTP   call PASS with SDES AES_CM_128_HMAC_SHA1_80, our own packets decrypted
#   block=rtp      call FAIL "no audio: allow UDP 10000-20000 outbound", the call itself set up
#   loss=5         call loss shown (not 0) and rated
#   audio          ALSA file devices: tone PASS, silence FAIL, 1.5 kHz FAIL, no card SKIP
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
LAB=$top_srcdir/tests/lab/lab
RUN=$top_builddir/tests/e2e/diag-run
ASSERT=$top_srcdir/tests/e2e/diag-assert.py

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
[ -x "$LAB" ] || skip_all "no lab (tests/lab/lab)"
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || skip_all "no network namespaces"
command -v python3 >/dev/null || skip_all "no python3"
[ -x "$RUN" ] || { echo "1..1"; echo "not ok 1 - diag-run built"; exit 1; }

if [ "${DSA_LAB_LOCKED:-0}" != 1 ]; then
	exec "$LAB" with-lock "$0" "$@"
fi
# shellcheck source=../lab/lab.env
. "$top_srcdir/tests/lab/lab.env"

WORK=$(mktemp -d /tmp/call-lab.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	DSA_LAB_QUIET=1 "$LAB" down >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

BASE=(--if "$DSA_LAB_PHONE_IF" --east "$DSA_LAB_SIP_EAST_HOST" --west "$DSA_LAB_SIP_WEST_HOST"
	--rtp "$DSA_LAB_RTP_MIN-$DSA_LAB_RTP_MAX"
	--sip-user "$DSA_LAB_SIP_USER" --password "$DSA_LAB_SIP_PASSWORD" --domain "$DSA_LAB_DOMAIN"
	--echo-user echo --call-ms 5000)

# run NAME [diag-run args...] -- [assert args...]   (in the running lab)
run() {
	local name=$1 rc t0 t1
	shift
	local -a args=() asserts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	asserts=("$@")
	t0=$(date +%s%N)
	timeout -k 5 90 "$LAB" exec-phone "$RUN" "${BASE[@]}" "${args[@]}" --xml "$WORK/$name.xml" \
		>"$WORK/$name.out" 2>&1
	rc=$?
	t1=$(date +%s%N)
	sed 's/^/# /' "$WORK/$name.out"
	echo "# $name: exit $rc, $(( (t1 - t0) / 1000000 )) ms"
	if [ ! -s "$WORK/$name.xml" ]; then
		fail "$name: report written" "exit $rc"
		return
	fi
	tap_relay < <(python3 "$ASSERT" "$WORK/$name.xml" "$name" "${asserts[@]}")
}

up() {
	# shellcheck disable=SC2086
	if ! DSA_LAB_QUIET=1 timeout -k 5 120 "$LAB" up $1 >"$WORK/up.log" 2>&1; then
		fail "lab up $1" "$(tail -n 15 "$WORK/up.log")"
		return 1
	fi
}

# 1. clean lab: RTP, then SRTP
if up ""; then
	# the call alone: no loss in 250 packets is 0-1.5 % at 95 %, which cannot tell good from
	# problematic (docs/selftest.md): WARN saying so, the call itself placed and the tone back
	run clean-rtp --only call,srtp -- call=WARN srtp=PASS \
		--advice="call=test call placed, tone back" --advice="call=cannot tell good from problematic" \
		--value="call:loss_interval=~between 0.0 and 1.5 % at 95 % (250 packets)" \
		--value="call:tone=~detected" --value="call:loss=0..0" --value="call:srtp=~no" \
		--value="call:packets_sent=250..250" --value="call:tone_level=-13.8..-12.6" \
		--value="call:mos=4.3..4.5" --value="call:codec=~PCMU" --value="srtp:failed=0..0" \
		--value="call:bye=200..200"
	run clean-srtp --only call --srtp -- call=WARN \
		--advice="call=SRTP: yes" --value="call:srtp=~yes" --value="call:srtp_auth_failures=0..0" \
		--value="call:tone=~detected" --value="call:loss=0..0" \
		--advice="call=AES_CM_128_HMAC_SHA1_80" --value="call:mos=4.3..4.5" --value="call:bye=200..200"
fi

# 2. the RTP range blocked on the router: the call is answered, no audio comes back
if up "block=rtp"; then
	run block-rtp --only call -- call=FAIL \
		--advice="call=no audio: allow UDP 10000-20000 outbound" \
		--value="call:packets_received=0..0" --value="call:setup=0..4000"
fi

# 3. 5 % loss injected: the loss is shown, the tone still comes back
if up "loss=5"; then
	run loss5 --only call --call-ms 10000 -- "call=FAIL|WARN" \
		--value="call:loss=0.2..25" --value="call:packets_sent=500..500" --value="call:tone=~detected"
fi

# 4. audio path on ALSA file devices (the phone has no sound card here)
python3 - "$WORK" <<'PY'
import math, struct, sys
d = sys.argv[1]
def raw(name, f, dbfs):
    a = 32767 * 10 ** (dbfs / 20)
    with open(f"{d}/{name}.raw", "wb") as fh:
        fh.write(b"".join(struct.pack("<h", int(round(a * math.sin(2 * math.pi * f * i / 8000)))) for i in range(24000)))
raw("tone", 1000, -20); raw("silence", 0, -120); raw("wrong", 1500, -20)
with open(f"{d}/asound.conf", "w") as fh:
    fh.write(f'pcm.speaker {{ type file slave {{ pcm {{ type null }} }} file "{d}/played.raw" format raw }}\n')
    for n in ("tone", "silence", "wrong"):
        fh.write(f'pcm.mic_{n} {{ type file slave {{ pcm {{ type null }} }} file "{d}/cap_{n}.raw" infile "{d}/{n}.raw" format raw }}\n')
    fh.write('pcm.nocard { type hw card 29 device 0 }\n')
PY
for c in tone:PASS silence:FAIL wrong:FAIL nocard:SKIP; do
	cap=${c%%:*} want=${c##*:}
	dev=mic_$cap
	[ "$cap" = nocard ] && dev=nocard
	rm -f "$WORK/played.raw"
	run "audio-$cap" --only audio --playback speaker --capture "$dev" --alsa-conf "$WORK/asound.conf" -- \
		"audio=$want"
	if [ "$cap" = tone ]; then
		# what went to the speaker: at least 100 ms of a 1 kHz tone (zero crossings every 4 samples)
		ok "audio: the speaker got the 1 kHz tone" python3 - "$WORK/played.raw" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
s = struct.unpack("<%dh" % (len(b) // 2), b)
z = sum(1 for i in range(1, len(s)) if (s[i - 1] < 0) != (s[i] < 0))
sys.exit(0 if len(s) >= 800 and abs(z / len(s) - 0.25) < 0.02 and max(s) > 3000 else 1)
PY
	fi
done

done_testing
