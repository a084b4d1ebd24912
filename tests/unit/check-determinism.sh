#!/bin/sh
# check-determinism.sh - run every unit test binary of a build N times and print
# a short hash of each one's normalised output: results, counts and the virtual
# instants the tests print. Log time stamps, temporary names, ephemeral ports and
# the few lines that report real-clock measurements (RTT, jitter, MOS, the
# real-clock pacing test) are masked. On the virtual clock every hash must be
# the same run after run, idle, under `stress-ng --cpu 2`, and in the ASan build.
# Not part of `make check` (it runs the suite N times). Usage:
#   tests/unit/check-determinism.sh BUILD/tests/unit [N]     (exit 1 if a test varied)
set -u
bdir=${1:?usage: check-determinism.sh BUILD/tests/unit [N]}
n=${2:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$bdir" || exit 2
varied=0
for t in $(ls test_* | grep -v '\.'); do
	[ -x "$t" ] || continue
	hs=""
	for i in $(seq "$n"); do
		h=$(CMOCKA_MESSAGE_OUTPUT=TAP top_srcdir="$src" "./$t" 2>&1 |
			grep -v '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.' |
			grep -v 'rtt_\|jitter=\|mos=\|remote_media\|answered by\|real clock\|echo RTT\|spanned\|interval by regression\|gave up after\|declared gone\|pings' |
			sed -E 's#/tmp/[A-Za-z_.]+[A-Za-z0-9]{6}#TMP#g; s#/dev/shm/[A-Za-z_.]+[A-Za-z0-9]{6}#TMP#g; s/(UDP|port|ports) [0-9 -]+/\1 N/g; s/127\.0\.0\.1:[0-9]+/127.0.0.1:N/g' |
			md5sum | cut -c1-8)
		hs="$hs $h"
	done
	same=$(printf '%s\n' $hs | sort -u | wc -l)
	[ "$same" -eq 1 ] || varied=1
	printf '%-22s%s%s\n' "$t" "$hs" "$([ "$same" -eq 1 ] || echo '   VARIED')"
done
exit $varied
