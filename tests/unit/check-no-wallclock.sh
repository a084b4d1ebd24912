#!/bin/sh
# check-no-wallclock.sh - unit tests run on the loop's virtual clock
# (ev_clock_virtual), so their results do not depend on the machine's speed or
# load. This audit fails, naming file:line, on any line of tests/unit/*.c that
#   - reads the wall clock: clock_gettime, gettimeofday, timespec_get, clock(),
#     time(NULL) / time(0) / time(&x);
#   - sleeps: sleep, usleep, nanosleep, clock_nanosleep;
#   - uses ev_now_*() in a while/for condition or an assertion, in a file that
#     never calls ev_clock_virtual (then ev_now_* is the real clock);
# unless the line carries a marker that says why the real clock is the point:
#   /* wallclock-ok: <at least ten characters of reason> */
# Output is TAP; the exit status is 1 when a check failed. Usage: check-no-wallclock.sh [dir] (default: this script's
# directory, or $top_srcdir/tests/unit). Before the real scan it checks itself
# on planted lines, so a broken pattern cannot pass silently.
set -u

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${top_srcdir:+$top_srcdir/tests/unit}}
dir=${dir:-$here}

# scan DIR: print "file:line: reason: text" for every offending line; exit 1 if any
scan() {
	status=0
	for f in "$1"/*.c; do
		[ -e "$f" ] || continue
		virt=0
		grep -q 'ev_clock_virtual' "$f" && virt=1
		out=$(awk -v virt="$virt" -v name="$f" '
			function report(why) {
				if ($0 ~ /wallclock-ok: [^ ].........*/)
					return
				printf "%s:%d: %s: %s\n", name, FNR, why, $0
				bad = 1
			}
			/(^|[^A-Za-z0-9_])(clock_gettime|gettimeofday|timespec_get)[ \t]*\(/ { report("reads the wall clock"); next }
			/(^|[^A-Za-z0-9_])clock[ \t]*\([ \t]*\)/ { report("reads the CPU clock"); next }
			/(^|[^A-Za-z0-9_])time[ \t]*\([ \t]*(NULL|0|&[A-Za-z_][A-Za-z0-9_.>-]*)[ \t]*\)/ { report("reads the wall clock"); next }
			/(^|[^A-Za-z0-9_])(sleep|usleep|nanosleep|clock_nanosleep)[ \t]*\(/ { report("sleeps"); next }
			virt == 0 && /(^|[^A-Za-z0-9_])(while|for)[ \t]*\(.*ev_now_(ms|us)[ \t]*\(/ {
				report("loops on ev_now_* without ev_clock_virtual in this file"); next }
			virt == 0 && /(assert_[a-z_]*|fail_msg)[ \t]*\(.*ev_now_(ms|us)[ \t]*\(/ {
				report("asserts on ev_now_* without ev_clock_virtual in this file"); next }
			END { exit bad }
		' "$f") || status=1
		[ -n "$out" ] && printf '%s\n' "$out"
	done
	return $status
}

echo "1..3"
failed=0

# 1: planted lines, one per rule, each caught
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-no-wallclock.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/planted.c" <<'EOF'
	clock_gettime(CLOCK_MONOTONIC, &ts);
	gettimeofday(&tv, NULL);
	t0 = time(NULL);
	usleep(1000);
	sleep(1);
	nanosleep(&ts, NULL);
	while (ev_now_ms() < end)
	assert_true(ev_now_ms() - t0 < 6000);
	c = clock();
EOF
found=$(scan "$tmp" | wc -l)
if [ "$found" -eq 9 ]; then
	echo "ok 1 - the audit catches all 9 planted wall-clock lines"
else
	failed=1
	echo "not ok 1 - the audit caught $found of 9 planted wall-clock lines"
	scan "$tmp" | sed 's/^/# /'
fi

# 2: a justified marker passes; virtual-clock files may loop on ev_now_*;
#    names that merely contain the words do not count
cat >"$tmp/planted.c" <<'EOF'
	clock_gettime(CLOCK_REALTIME, &ts);   /* wallclock-ok: brackets the kernel's stamps */
	ev_clock_virtual(1000000);
	while (ev_now_ms() < end)
	assert_int_equal(ev_now_ms(), 1000);
	ev_clock_advance_ms(5); x.sleep_ms = 3; my_time(NULL); cb_clock(); ev_clock_stall_ms(1);
EOF
ok2=1
out=$(scan "$tmp") || ok2=0
echo '	usleep(5);   /* wallclock-ok: */' >"$tmp/planted.c"
scan "$tmp" >/dev/null && { ok2=0; out="$out
a marker without a reason was accepted"; }
if [ $ok2 -eq 1 ]; then
	echo "ok 2 - markers with a reason and virtual-clock files pass; a bare marker does not"
else
	failed=1
	echo "not ok 2 - the audit misjudged justified or harmless lines:"
	printf '%s\n' "$out" | sed 's/^/# /'
fi

# 3: the unit tests themselves
if out=$(scan "$dir"); then
	echo "ok 3 - no unit test in $dir reads the wall clock without saying why"
else
	failed=1
	echo "not ok 3 - unit tests read the wall clock without saying why"
	echo "# convert them to ev_clock_virtual, or mark the line /* wallclock-ok: why the real clock"
	echo "# is the point */ and assert only what a loaded machine keeps:"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
exit $failed
