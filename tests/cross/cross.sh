#!/bin/bash
# cross.sh ARCH - TAP: build dialstack-agent for ARCH (armhf, arm64) with
# Debian's cross compiler against a sysroot of Debian's own -dev packages
# (packaging/cross/mksysroot.sh, cached under $DSA_CACHE), then run the unit
# tests of that build under qemu-user (qemu-arm-static / qemu-aarch64-static)
# through automake's own harness (LOG_COMPILER), and check the binary.
# Skips only when the cross compiler or qemu-user cannot be had (not root and
# not installed). Needs top_srcdir and top_builddir (set by `make check`).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
source "$top_srcdir/tests/lib/tap.sh"
source "$top_srcdir/tests/cross/lib.sh"

arch=${1:-armhf}
case $arch in
# qcpu: the CPU qemu models. armhf: the baseline's oldest core, Cortex-A8 (ARMv7-A without a
# divide instruction: common/aeabi_div.S's division runs as on a real A8/A9; qemu's default
# "any" CPU would execute udiv/sdiv).
armhf) triplet=arm-linux-gnueabihf; qemu='qemu-arm-static'; qcpu=cortex-a8; filesig='ARM, EABI5' ;;
arm64) triplet=aarch64-linux-gnu; qemu='qemu-aarch64-static'; qcpu=; filesig='ARM aarch64' ;;
*) echo "usage: $0 armhf|arm64" >&2; exit 2 ;;
esac
JOBS=${JOBS:-2}
t0=$(date +%s)

dsa_tools "gcc-$triplet" qemu-user-static mmdebstrap file ||
	skip_all "gcc-$triplet, qemu-user-static or mmdebstrap is missing and cannot be installed here (run as root, or apt-get install them)"
command -v "$qemu" >/dev/null || skip_all "$qemu is missing although qemu-user-static is installed"

cache=$(dsa_cache) || skip_all "no writable cache folder (set DSA_CACHE)"
work=$(mktemp -d "${TMPDIR:-/tmp}/dsa-cross-$arch.XXXXXX")
# others may enter it: test_job_user's children run this build's binaries as user nobody
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
sysroot="$cache/sysroot-$arch"

# 1. the sysroot (cached; a second run is a no-op). One builder at a time.
s0=$(date +%s)
if (flock -w 300 9 || { echo "cross: another build of $sysroot held $cache/.sysroot-$arch.lock for 300 s"; exit 1; }
	sh "$top_srcdir/packaging/cross/mksysroot.sh" "$arch" "$sysroot") \
	9>"$cache/.sysroot-$arch.lock" >"$work/sysroot.log" 2>&1; then
	pass "sysroot $sysroot ready ($(($(date +%s) - s0)) s)"
else
	fail "sysroot for $arch" "$(tail -15 "$work/sysroot.log")"
	done_testing; exit
fi

# 2. cross configure in its own build folder (VPATH)
src=$(dsa_srcdir "$work") || { fail "a source tree for a VPATH build"; done_testing; exit; }
b="$work/build"
mkdir -p "$b"
if (cd "$b" && DSA_SRCDIR="$src" sh "$top_srcdir/packaging/cross/cross-configure.sh" "$arch" "$sysroot" \
	--enable-werror --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/var/run) \
	>"$work/configure.log" 2>&1 && grep -q "^host_alias='$triplet'" "$b/config.log"; then
	pass "configure --host=$triplet"
else
	fail "configure --host=$triplet" "$(grep -E 'error|checking for' "$work/configure.log" | tail -15)"
	done_testing; exit
fi
xmlflags=$(sed -n 's/^XML_CFLAGS = //p' "$b/Makefile")
if [[ $xmlflags == *"-I$sysroot/usr/include/libxml2"* ]]; then
	pass "pkg-config flags point into the sysroot"
else
	fail "pkg-config flags point into the sysroot" "XML_CFLAGS = $xmlflags"
fi
if grep -q "cannot run test program\|AC_RUN_IFELSE" "$work/configure.log"; then
	fail "configure runs no target code" "$(grep 'cannot run' "$work/configure.log")"
else
	pass "configure runs no target code"
fi

# 3. build the agent and the unit tests (TESTS= builds check_PROGRAMS, runs nothing)
m0=$(date +%s)
if make -C "$b" -j"$JOBS" >"$work/make.log" 2>&1 &&
	make -C "$b/tests/unit" -j"$JOBS" check TESTS= >>"$work/make.log" 2>&1; then
	pass "make with -Werror: agent and unit tests ($(($(date +%s) - m0)) s)"
else
	fail "make with -Werror" "$(grep -E 'error|warning' "$work/make.log" | head -20; tail -n 8 "$work/make.log")"
	done_testing; exit
fi

bin="$b/agent/dialstack-agent"
desc=$(file -b "$bin")
if [[ $desc == *"$filesig"* ]]; then
	pass "dialstack-agent is $filesig"
else
	fail "dialstack-agent is $filesig" "file says: $desc"
fi
units=$(cd "$b/tests/unit" && for f in test_*; do [ -x "$f" ] && [ ! -d "$f" ] && [[ $f != *.* ]] && echo "$f"; done)
nonarm=$(cd "$b/tests/unit" && for f in $units; do file -b "$f" | grep -q "$filesig" || echo "$f"; done)
if [ -n "$units" ] && [ -z "$nonarm" ]; then
	pass "unit test programs are $filesig ($(echo $units | wc -w))"
else
	fail "unit test programs are $filesig" "none built, or not $arch: $nonarm"
fi

# 4. the binary runs on the target ABI under qemu-user
qrun="$qemu${qcpu:+ -cpu $qcpu} -L $sysroot"
out=$($qrun "$bin" version 2>&1)
ver=$(sed -n 's/^PACKAGE_VERSION = //p' "$b/Makefile")
if [[ $out == *"$ver"* ]]; then
	pass "qemu${qcpu:+ ($qcpu)}: dialstack-agent version says $ver"
else
	fail "qemu: dialstack-agent version" "$out"
fi
$qrun "$bin" bogus-command >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then pass "qemu: a bad command exits 2"; else fail "qemu: a bad command exits 2" "exit $rc"; fi

if [ "$arch" = armhf ]; then
	# the ARMv7-A baseline: no udiv/sdiv anywhere (Cortex-A8/A9 would fault on one)
	ndiv=$("$triplet-objdump" -d "$bin" 2>/dev/null | grep -cE $'\t[us]div(\\.w)?\t')
	if [ "$ndiv" = 0 ] && "$triplet-objdump" -d "$bin" 2>/dev/null | grep -qE '<__aeabi_uidiv(mod)?>:'; then
		pass "no divide instruction in dialstack-agent (common/aeabi_div.S divides)"
	else
		fail "no divide instruction in dialstack-agent" "$ndiv udiv/sdiv, or no __aeabi_uidiv"
	fi
fi

# 5. the unit tests through automake's harness, each program under qemu-user
#    (LOG_COMPILER is what automake puts before tests without an extension)
q0=$(date +%s)
# DSA_QEMU_USER tells a test it runs under user-mode emulation, where some
# kernel features cannot be had (qemu 7.2 refuses SO_TIMESTAMPNS).
DSA_QEMU_USER=$qemu DSA_EXEC_WRAPPER="$qrun" make -C "$b/tests/unit" -j"$JOBS" check LOG_COMPILER="$qemu" \
	LOG_FLAGS="${qcpu:+-cpu $qcpu }-L $sysroot" \
	>"$work/check.log" 2>&1
rc=$?
sum="$b/tests/unit/test-suite.log"
total=$(awk '/^# TOTAL:/ {print $3}' "$sum" 2>/dev/null)
npass=$(awk '/^# PASS:/ {print $3}' "$sum" 2>/dev/null)
nbad=$(awk '/^# (FAIL|ERROR|XPASS):/ {n += $3} END {print n + 0}' "$sum" 2>/dev/null)
if [ "$rc" = 0 ] && [ "${total:-0}" -gt 0 ] && [ "$nbad" = 0 ]; then
	pass "unit tests under $qemu${qcpu:+ -cpu $qcpu}: $npass of $total passed ($(($(date +%s) - q0)) s)"
else
	fail "unit tests under $qemu" "$(grep -E '^(FAIL|ERROR|XPASS)' "$work/check.log"; dsa_logtail "$sum" 30)"
fi
# The harness really ran ARM code: a test log holds cmocka's TAP output.
if grep -lq "^ok " "$b"/tests/unit/test_*.log 2>/dev/null; then
	pass "test logs hold the programs' own TAP output"
else
	fail "test logs hold the programs' own TAP output"
fi

# 6. size, stripped and not
strip=$triplet-strip
cp "$bin" "$work/stripped"
if "$strip" --strip-unneeded "$work/stripped" 2>"$work/strip.log"; then
	pass "size: $(stat -c %s "$bin") bytes, $(stat -c %s "$work/stripped") stripped ($arch)"
else
	fail "$strip" "$(cat "$work/strip.log")"
fi
echo "# $arch cross build and tests took $(($(date +%s) - t0)) s"
done_testing
