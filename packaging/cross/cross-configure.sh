#!/bin/sh
# cross-configure.sh ARCH SYSROOT [CONFIGURE-ARGS...] - configure dialstack-agent
# in the current folder for ARCH (armhf or arm64) against SYSROOT (made by
# mksysroot.sh), with Debian's cross compiler. Run it from an empty build
# folder; the source tree is the one this script lives in (or $DSA_SRCDIR).
#
# What it sets, and why:
#   CC="<triplet>-gcc --sysroot=SYSROOT"  headers, crt files and libraries from
#       the sysroot; Debian's cross gcc knows the multiarch folders
#       (SYSROOT/usr/lib/<triplet>, SYSROOT/usr/include/<triplet>) by itself
#   LDFLAGS=-Wl,-rpath-link,...  so ld finds the libraries that the linked
#       libraries need (libcurl -> libnghttp2, ...) inside the sysroot too
#   PKG_CONFIG="env PKG_CONFIG_SYSROOT_DIR=... PKG_CONFIG_LIBDIR=... pkg-config":
#       only the sysroot's .pc files, their -I/-L prefixed with the sysroot;
#       not <triplet>-pkg-config, which reads the build machine's multiarch dirs
#   --enable-small  the phone's build is the size-optimised one (-Os, sections
#       with --gc-sections, LTO; docs/cross-build.md); a --disable-small among
#       CONFIGURE-ARGS comes later and wins
# configure.ac only runs link tests, so nothing runs target code.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 ARCH SYSROOT [CONFIGURE-ARGS...]" >&2; exit 2; }
arch=$1
sysroot=$2
shift 2

case $arch in
armhf) triplet=arm-linux-gnueabihf ;;
arm64) triplet=aarch64-linux-gnu ;;
*) echo "cross-configure: unknown architecture '$arch' (use armhf or arm64)" >&2; exit 2 ;;
esac
case $sysroot in /*) ;; *) sysroot=$(pwd)/$sysroot ;; esac
[ -f "$sysroot/.dsa-sysroot" ] || [ -d "$sysroot/usr/lib/$triplet" ] || {
	echo "cross-configure: $sysroot is not a $arch sysroot (make one: packaging/cross/mksysroot.sh $arch $sysroot)" >&2
	exit 1
}
command -v "$triplet-gcc" >/dev/null 2>&1 || {
	echo "cross-configure: $triplet-gcc not found (apt-get install gcc-$triplet)" >&2
	exit 1
}
srcdir=${DSA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -x "$srcdir/configure" ] || {
	echo "cross-configure: $srcdir/configure is missing (run autoreconf -fi in $srcdir)" >&2
	exit 1
}

# The pkg-config settings travel inside PKG_CONFIG (a precious variable), so
# the automatic re-configure after a configure.ac change keeps them too;
# exported variables would be lost and -I/-L would silently point at the
# build machine's own /usr.
libdir=$sysroot/usr/lib/$triplet/pkgconfig:$sysroot/usr/lib/pkgconfig:$sysroot/usr/share/pkgconfig
PKG_CONFIG="env PKG_CONFIG_SYSROOT_DIR=$sysroot PKG_CONFIG_LIBDIR=$libdir PKG_CONFIG_PATH= pkg-config"
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

exec "$srcdir/configure" --host="$triplet" --enable-small \
	CC="$triplet-gcc --sysroot=$sysroot" \
	LDFLAGS="-Wl,-rpath-link,$sysroot/lib/$triplet -Wl,-rpath-link,$sysroot/usr/lib/$triplet ${LDFLAGS:-}" \
	PKG_CONFIG="$PKG_CONFIG" \
	"$@"
