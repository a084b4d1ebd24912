#!/bin/bash
# run-smoke.sh - the fuzz smoke run from a source tree: configures its own
# build directory (clang, --enable-fuzzer, so ASan+UBSan+libFuzzer), builds
# the targets and runs each for FUZZ_SECONDS (default 20) seconds.
# Ends with one line "N passed, N failed" (a failed configure/build counts as
# one failure). Env: FUZZ_BUILD (build dir, default _build/fuzz), JOBS (2),
# FUZZ_SECONDS, FUZZ_TARGETS_RUN (a subset, space separated).
set -u
cd "$(dirname "$0")/../.." || exit 1
SRC=$(pwd)
B=${FUZZ_BUILD:-$SRC/_build/fuzz}
JOBS=${JOBS:-2}
if ! command -v clang >/dev/null; then
	echo "fuzz: clang is not installed (tests/install-deps)"; echo "0 passed, 1 failed"; exit 1
fi
[ -x "$SRC/configure" ] || autoreconf -fi >/dev/null 2>&1 || { echo "fuzz: autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$B"
if [ ! -f "$B/config.status" ]; then
	( cd "$B" && CC=clang "$SRC/configure" --enable-fuzzer --enable-werror --disable-audio ) >"$B/configure.log" 2>&1 ||
		{ tail -20 "$B/configure.log"; echo "0 passed, 1 failed"; exit 1; }
fi
# only what the targets link: the libraries and tests/fuzz
for d in common system provisioning sip media diag agent tests/fuzz; do
	make -C "$B/$d" -j"$JOBS" >>"$B/build.log" 2>&1 ||
		{ grep -E "error|warning" "$B/build.log" | tail -20; echo "0 passed, 1 failed"; exit 1; }
done
extra=()
[ -n "${FUZZ_TARGETS_RUN:-}" ] && extra+=(FUZZ_TARGETS_RUN="$FUZZ_TARGETS_RUN")
make -s -C "$B/tests/fuzz" smoke FUZZ_SECONDS="${FUZZ_SECONDS:-20}" "${extra[@]}" 2>&1 |
	grep -vE '^make(\[[0-9]+\])?: '
