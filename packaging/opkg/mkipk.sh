#!/bin/bash
# mkipk.sh BUILDDIR OUTDIR [ARCH] - build OUTDIR/dialstack-agent_<version>_<arch>.ipk
# from a configured and built tree (native or cross).
#
# BUILDDIR must be configured for the phone's file system layout:
#   configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/var/run
# (the paths are compiled into the binary; mkipk refuses any other layout).
# ARCH, the opkg architecture name, defaults to the Debian name of the build's
# host CPU (armhf, arm64, amd64, i386); give the firmware's own name when it
# differs: OpenWrt "arm_cortex-a7_neon-vfpv4", Yocto "cortexa7t2hf-neon-vfpv4".
# Environment:
#   DSA_INIT=sysv|procd   init integration (default sysv: sysvinit/busybox;
#                         procd: OpenWrt, /etc/init.d script for rc.common)
#   DSA_DEPENDS="..."     the Depends: line (default: the OpenWrt/Yocto names)
#   STRIP=...             strip program (default: the one configure found)
#   SOURCE_DATE_EPOCH     timestamps inside the package (default: now)
# Layout: an ar archive of debian-binary ("2.0"), control.tar.gz and
# data.tar.gz, in that order; every file owned by root:root (0:0).
set -euo pipefail

me=mkipk
die() { echo "$me: $*" >&2; exit 1; }
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $0 BUILDDIR OUTDIR [ARCH]" >&2; exit 2; }
B=$(cd "$1" && pwd) || die "no build folder $1"
mkdir -p "$2" || die "cannot create $2"
OUT=$(cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "$B/Makefile" ] && [ -f "$B/config.status" ] || die "$B is not a configured build folder (run configure there first)"

# What configure decided, asked once from the build's own Makefile.
VARS="PACKAGE_VERSION PACKAGE_BUGREPORT host_cpu host_os STRIP READELF ALSA_LIBS
  prefix sysconfdir localstatedir runstatedir bindir"
mk=$(for v in $VARS; do printf '\t@echo "DSA:%s=$(%s)"\n' "$v" "$v"; done)
vals=$(printf 'dsa-print:\n%s\n' "$mk" |
	make -s --no-print-directory -C "$B" -f Makefile -f - dsa-print 2>/dev/null | sed -n 's/^DSA://p') ||
	die "cannot read the configuration of $B (does make work there?)"
mkvar() { printf '%s\n' "$vals" | sed -n "s|^$1=||p" | tail -n 1; }
version=$(mkvar PACKAGE_VERSION)
bugreport=$(mkvar PACKAGE_BUGREPORT)
host_cpu=$(mkvar host_cpu)
host_os=$(mkvar host_os)
strip=${STRIP:-$(mkvar STRIP)}
strip=${strip:-strip}
alsa=$(mkvar ALSA_LIBS)
[ -n "$version" ] || die "cannot read PACKAGE_VERSION from $B/Makefile"

for v in prefix:/usr sysconfdir:/etc localstatedir:/var runstatedir:/var/run bindir:/usr/bin; do
	got=$(mkvar "${v%%:*}")
	[ "$got" = "${v#*:}" ] || die "$B was configured with ${v%%:*}=$got; a phone package needs
  configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/var/run"
done

if [ $# -eq 3 ]; then
	arch=$3
else
	case $host_cpu-$host_os in
	arm*-*gnueabihf) arch=armhf ;;
	arm*-*) arch=armel ;;
	aarch64-*) arch=arm64 ;;
	x86_64-*) arch=amd64 ;;
	i?86-*) arch=i386 ;;
	*) arch=$host_cpu ;;
	esac
fi
case $arch in *[!A-Za-z0-9._+-]* | "") die "bad architecture name '$arch'" ;; esac

init=${DSA_INIT:-sysv}
case $init in sysv | procd) ;; *) die "DSA_INIT must be sysv or procd, not '$init'" ;; esac
depends=${DSA_DEPENDS:-libcurl, libxml2, libosip2, libsrtp2, libopenssl, libjson-c, libcares}
[ -z "${DSA_DEPENDS:-}" ] && [ -n "$alsa" ] && depends="$depends, alsa-lib"

work=$(mktemp -d "${TMPDIR:-/tmp}/mkipk.XXXXXX")
trap 'rm -rf "$work"' EXIT
data=$work/data
ctl=$work/control
mkdir -p "$data" "$ctl"

# ------------------------------------------------------------ data
make -s -C "$B" install DESTDIR="$data" >"$work/install.log" 2>&1 ||
	{ tail -20 "$work/install.log" >&2; die "make install failed in $B"; }
[ -x "$data/usr/bin/dialstack-agent" ] || die "make install did not install /usr/bin/dialstack-agent"

install -d -m 0755 "$data/etc/init.d" "$data/etc/dialstack-agent"
install -m 0755 "$HERE/dialstack-agent.$init" "$data/etc/init.d/dialstack-agent"
# The sample conffile, unless the build installs its own.
[ -f "$data/etc/dialstack-agent/bootstrap.conf" ] ||
	install -m 0644 "$HERE/bootstrap.conf" "$data/etc/dialstack-agent/bootstrap.conf"
# The udhcpc hook is provisioning's (make install puts it in pkgdatadir);
# link it where OpenWrt (/etc/udhcpc.user.d) and busybox/Yocto (/etc/udhcpc.d)
# udhcpc scripts look for hooks.
hook=/usr/share/dialstack-agent/udhcpc-hook.sh
[ -f "$data$hook" ] || die "make install did not install $hook (provisioning/udhcpc-hook.sh)"
install -d -m 0755 "$data/etc/udhcpc.user.d" "$data/etc/udhcpc.d"
ln -sf "$hook" "$data/etc/udhcpc.user.d/dialstack-agent"
ln -sf "$hook" "$data/etc/udhcpc.d/50dialstack-agent"

# Strip every ELF file with the target's strip.
while IFS= read -r -d '' f; do
	if head -c 4 "$f" | grep -q "ELF"; then
		"$strip" --strip-unneeded "$f" || die "$strip failed on ${f#"$data"} (set STRIP=<triplet>-strip)"
	fi
done < <(find "$data" -type f -print0)

# Modes: folders 0755; files 0755 when make install made them executable
# (programs, scripts) or they are init scripts, else 0644. Nothing setuid,
# nothing writable by group or others.
find "$data" -type d -exec chmod 0755 {} +
find "$data" -type f -perm /111 -exec chmod 0755 {} +
find "$data" -type f ! -perm /111 -exec chmod 0644 {} +
chmod 0755 "$data/usr/bin/dialstack-agent" "$data/etc/init.d/dialstack-agent"

# ------------------------------------------------------------ control
# Installed-Size in bytes of file content, as OpenWrt's ipkg-build writes it.
size=$(find "$data" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@DEPENDS@|$depends|" \
	-e "s|@SIZE@|$size|" -e "s|@BUGREPORT@|${bugreport:-support@dialstack.ai}|" \
	"$HERE/control.in" >"$ctl/control"
cp "$HERE/conffiles" "$ctl/conffiles"
for c in $(cat "$ctl/conffiles"); do
	[ -f "$data$c" ] || die "conffile $c is not in the package data"
done
for s in postinst prerm postrm; do
	awk -v common="$HERE/pkg-common.sh" '
		$0 == "#@PKG_COMMON@" { while ((getline l < common) > 0) print l; next }
		{ print }' "$HERE/$s" >"$ctl/$s"
	grep -q '^#@PKG_COMMON@' "$ctl/$s" && die "could not expand $s"
	sh -n "$ctl/$s" || die "$s has a syntax error"
done
chmod 0644 "$ctl/control" "$ctl/conffiles"
chmod 0755 "$ctl/postinst" "$ctl/prerm" "$ctl/postrm"

# ------------------------------------------------------------ archive
epoch=${SOURCE_DATE_EPOCH:-$(date +%s)}
mktgz() { # DIR FILE
	tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name --mtime="@$epoch" \
		-C "$1" -cf - . | gzip -n -9 >"$2"
}
mktgz "$ctl" "$work/control.tar.gz"
mktgz "$data" "$work/data.tar.gz"
echo "2.0" >"$work/debian-binary"
ipk="$OUT/dialstack-agent_${version}_${arch}.ipk"
rm -f "$ipk"
(cd "$work" && ar -rcD "$ipk" debian-binary control.tar.gz data.tar.gz) || die "ar failed"

bin_size=$(stat -c %s "$data/usr/bin/dialstack-agent")
echo "$me: $ipk ($(stat -c %s "$ipk") bytes; init: $init)"
echo "$me: /usr/bin/dialstack-agent: $bin_size bytes stripped ($arch)"
# The armhf budget (204,800 bytes; docs/cross-build.md): a line, not a failure.
if [ "$arch" = armhf ]; then
	readelf=$(mkvar READELF)
	case $readelf in "" | :) readelf=readelf ;; esac
	echo "$me: $(sh "$HERE/../cross/size-report.sh" "$data/usr/bin/dialstack-agent" armhf "$strip" "$readelf" | head -n 1)"
fi
