#!/bin/bash
# smoke.sh SECONDS TARGET... - run each libFuzzer target (built in the current
# directory) for SECONDS under ASan/UBSan with leak detection, from its seed
# corpus ($srcdir/corpus/TARGET) plus a scratch corpus (work/TARGET, never the
# source tree). A crash, leak, timeout (-timeout=10 s per input) or sanitizer
# report fails the target; its reproducer lands in artifacts/TARGET/.
# Prints one line per target with execs and coverage, then "N passed, N failed".
set -u
secs=${1:?usage: smoke.sh SECONDS TARGET...}; shift
src=$(cd "$(dirname "$0")" && pwd)
declare -i pass=0 fail=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p logs
for t in "$@"; do
	if [ ! -x "./$t" ]; then
		echo "FAIL $t: not built"; fail+=1; continue
	fi
	mkdir -p "work/$t" "artifacts/$t"
	seeds="$src/corpus/$t"
	[ -d "$seeds" ] || seeds=
	log="logs/$t.log"
	"./$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=${FUZZ_MAX_LEN:-16384} \
		-print_final_stats=1 -artifact_prefix="artifacts/$t/" "work/$t" $seeds >"$log" 2>&1
	rc=$?
	execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)
	covft=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 |
		sed -nE 's/.*cov: ([0-9]+) ft: ([0-9]+).*/cov \1 ft \2/p')
	if [ $rc -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
		echo "PASS $t: ${execs:-?} execs in ${secs} s, ${covft:-cov ?}"
		pass+=1
	else
		echo "FAIL $t (exit $rc): ${execs:-?} execs, ${covft:-cov ?}; log $(pwd)/$log"
		grep -E 'ERROR:|SUMMARY:|runtime error:|Test unit written' "$log" | head -5 | sed 's/^/  /'
		fail+=1
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
