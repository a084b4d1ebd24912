#!/bin/bash
# mkinitramfs.sh - build the emulated ARM phone: Debian's armhf kernel and a small initramfs.
#
#   tests/phone/mkinitramfs.sh [--out DIR] [--ipk FILE] [--sysroot DIR] [--identity DIR]
#                              [--modules "m1 m2"] [--no-placeholder]
#
#   --out DIR        where vmlinuz, initrd.cpio.gz and rootfs/ go (default /tmp/dsa-phone)
#   --ipk FILE       the armhf dialstack-agent package, installed into the root as opkg would
#                    (data.tar.gz unpacked, control files recorded, postinst run with
#                    IPKG_INSTROOT/OPKG_OFFLINE_ROOT/PKG_ROOT set to the root)
#   --sysroot DIR    armhf sysroot with the shared libraries the package's programs need
#                    (their NEEDED entries and the dynamic loader are copied from it)
#   --identity DIR   the phone's factory identity: ca.crt, device.crt, device.key, installed as
#                    /etc/dialstack-agent/{ca.pem,device.crt,device.key} (the key 0600)
#   --modules LIST   more kernel modules to load at boot (dependencies are added)
#   --no-placeholder do not install the placeholder agent even without --ipk
#
# Without --ipk a placeholder "agent" (guest/placeholder-agent, busybox shell) is installed: it
# creates the voice VLAN, gets a voice address by DHCP and sends DSCP-marked probes over it,
# so that the boot, DHCP, VLAN and networking are proven without the armhf agent.
#
# Downloads (apt-get download of linux-image-*-armmp:armhf and busybox-static:armhf) are cached
# under ${DSA_CACHE:-/var/cache/dialstack-agent}/phone (an empty or missing cache is the first
# run: it is created and filled); a machine with no Debian mirror uses what is cached.  Needs
# root only to add the armhf architecture to dpkg and update apt's lists the first time.
# Environment: DSA_CACHE, DSA_PHONE_KERNEL_META (linux-image-armmp), DSA_PHONE_BUSYBOX_PKG
# (busybox-static).  Every failure ends with "mkinitramfs: error: CAUSE" and status 1.
set -Eeuo pipefail
# set -e alone would end the script without a word when a command fails unchecked: name it
trap 'rc=$?; echo "mkinitramfs: error: line $LINENO: \"$BASH_COMMAND\" failed (status $rc)" >&2; exit $rc' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${DSA_CACHE:-/var/cache/dialstack-agent}/phone
KERNEL_META=${DSA_PHONE_KERNEL_META:-linux-image-armmp} # names the versioned armmp kernel
BUSYBOX_PKG=${DSA_PHONE_BUSYBOX_PKG:-busybox-static}
OUT=/tmp/dsa-phone
IPK=""
SYSROOT=""
IDENTITY=""
EXTRA_MODULES=""
PLACEHOLDER=1
# Order proven on this kernel (tests/phone/README in docs/emulated-phone.md): VLAN, then virtio
# networking; virtio-rng feeds the guest's entropy (TLS), softdog is the guest's watchdog.
BASE_MODULES="llc stp garp mrp 8021q failover net_failover virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_net virtio_rng softdog"

die() {
	echo "mkinitramfs: error: $*" >&2
	exit 1
}
say() { echo "mkinitramfs: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=${2:?--out needs a folder}; shift 2 ;;
	--ipk) IPK=${2:?--ipk needs a file}; shift 2 ;;
	--sysroot) SYSROOT=${2:?--sysroot needs a folder}; shift 2 ;;
	--identity) IDENTITY=${2:?--identity needs a folder}; shift 2 ;;
	--modules) EXTRA_MODULES=${2?--modules needs a list}; shift 2 ;;
	--no-placeholder) PLACEHOLDER=0; shift ;;
	-h | --help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -z "$IPK" ] || [ -f "$IPK" ] || die "--ipk $IPK: no such file"
[ -z "$SYSROOT" ] || [ -d "$SYSROOT" ] || die "--sysroot $SYSROOT: no such folder"
if [ -n "$IDENTITY" ]; then
	for f in ca.crt device.crt device.key; do
		[ -r "$IDENTITY/$f" ] || die "--identity $IDENTITY: $f missing (want ca.crt, device.crt, device.key)"
	done
fi
case "$OUT" in / | /tmp | /var | /usr | /etc | /root | /home | "") die "refusing --out $OUT" ;; esac
for c in ar tar gzip readelf strings find; do
	command -v "$c" >/dev/null || die "'$c' is missing (apt-get install binutils tar gzip findutils)"
done

# ------------------------------------------------------------------------------ downloads
# cached GLOB: the newest cached .deb matching GLOB, or nothing (status 0 either way: an
# empty cache is the normal first run, so no `ls GLOB`, which fails under pipefail)
cached() {
	local f newest=""
	[ -d "$CACHE" ] || return 0
	for f in "$CACHE"/$1; do
		[ -f "$f" ] || continue # the glob itself when nothing matches
		newest=$(printf '%s\n%s\n' "$newest" "$f" | sed '/^$/d' | sort -V | tail -n 1)
	done
	printf '%s' "$newest"
}

# fetch_debs: make sure the kernel and busybox .debs are in the cache
fetch_debs() {
	mkdir -p "$CACHE" 2>/dev/null && [ -w "$CACHE" ] ||
		die "cannot write the download cache $CACHE (set DSA_CACHE to a writable folder, or run as root)"
	local kpkg="" k b
	k=$(cached 'linux-image-*-armmp_*_armhf.deb')
	b=$(cached "${BUSYBOX_PKG}_*_armhf.deb")
	if [ -n "$k" ] && [ -n "$b" ]; then
		say "using the cached $(basename "$k") and $(basename "$b") in $CACHE"
		return 0
	fi
	local what="armhf kernel and busybox"
	[ -z "$k" ] || what="busybox"
	[ -z "$b" ] || what="armhf kernel"
	say "no $what .deb in the download cache $CACHE: fetching with apt"
	command -v apt-get >/dev/null || die "no cached armhf kernel/busybox in $CACHE and no apt-get to download them"
	if ! dpkg --print-foreign-architectures | grep -qx armhf; then
		[ "$(id -u)" -eq 0 ] || die "dpkg has no armhf architecture; run once as root: dpkg --add-architecture armhf && apt-get update"
		say "adding the armhf architecture to dpkg"
		dpkg --add-architecture armhf
	fi
	# The armhf security index can be out of step with the main suite: tolerate update errors.
	if ! apt-cache show "$BUSYBOX_PKG:armhf" >/dev/null 2>&1 || ! apt-cache show "$KERNEL_META:armhf" >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] ||
			die "apt does not know $KERNEL_META:armhf or $BUSYBOX_PKG:armhf and only root can run apt-get update (run it once as root)"
		say "apt-get update (the armhf package lists)"
		apt-get update -q >"$OUT.apt-update.log" 2>&1 ||
			say "apt-get update reported errors; using the lists there are: $(grep -E '^(E|W):' "$OUT.apt-update.log" | head -n 3 | tr '\n' ' ')"
		rm -f "$OUT.apt-update.log"
	fi
	# linux-image-armmp is a metapackage: it names the current versioned kernel package
	kpkg=$(apt-cache depends "$KERNEL_META:armhf" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-armmp\)\(:armhf\)\{0,1\}$/\1/p' | head -n 1 || true)
	[ -n "$kpkg" ] || die "apt knows no package $KERNEL_META:armhf naming an armmp kernel (is a Debian mirror in /etc/apt/sources.list*, and dpkg's armhf architecture added? then: apt-get update)"
	say "downloading $kpkg:armhf and $BUSYBOX_PKG:armhf into $CACHE"
	local tmp
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # apt's _apt user writes there
	(cd "$tmp" && apt-get download -q "$kpkg:armhf" "$BUSYBOX_PKG:armhf" >/dev/null 2>"$tmp/err") || {
		grep -v '^W: Download is performed unsandboxed' "$tmp/err" >&2 || true
		rm -rf "$tmp"
		die "apt-get download $kpkg:armhf $BUSYBOX_PKG:armhf failed (the messages above say why: no mirror reachable, or a package the lists do not have)"
	}
	say "downloaded $(cd "$tmp" && ls -- *.deb | tr '\n' ' ')($(du -sk "$tmp" | cut -f1) KiB)"
	mv "$tmp"/*.deb "$CACHE"/
	rm -rf "$tmp"
}

fetch_debs
KDEB=$(cached 'linux-image-*-armmp_*_armhf.deb')
BDEB=$(cached "${BUSYBOX_PKG}_*_armhf.deb")
[ -n "$KDEB" ] && [ -n "$BDEB" ] || die "the kernel or busybox .deb is still missing in $CACHE after the download"

mkdir -p "$OUT"
WORK=$OUT/work
ROOT=$OUT/rootfs
rm -rf "$WORK" "$ROOT"
mkdir -p "$WORK/kernel" "$WORK/busybox" "$ROOT"
trap 'rm -rf "$WORK"' EXIT

say "kernel $(basename "$KDEB"), busybox $(basename "$BDEB")"
dpkg-deb -x "$KDEB" "$WORK/kernel" 2>/dev/null || {
	# no dpkg-deb (not Debian): an .deb is an ar archive
	(cd "$WORK/kernel" && ar x "$KDEB" && tar -xf data.tar.* && rm -f data.tar.* control.tar.* debian-binary)
}
dpkg-deb -x "$BDEB" "$WORK/busybox" 2>/dev/null || {
	(cd "$WORK/busybox" && ar x "$BDEB" && tar -xf data.tar.* && rm -f data.tar.* control.tar.* debian-binary)
}
VMLINUZ=$(find "$WORK/kernel/boot" -name 'vmlinuz-*' | head -n 1)
[ -n "$VMLINUZ" ] || die "no vmlinuz in $KDEB"
KVER=${VMLINUZ##*/vmlinuz-}
MODSRC=$WORK/kernel/lib/modules/$KVER
[ -d "$MODSRC" ] || die "no modules for $KVER in $KDEB"
cp "$VMLINUZ" "$OUT/vmlinuz"

# ------------------------------------------------------------------------------ root skeleton
# no rc folders: the package's postinst makes /etc/rc.d as on a busybox/OpenWrt phone
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,usr/lib,lib,etc/init.d,etc/udhcpc,proc,sys,dev,run,tmp,var/lib,root}
chmod 1777 "$ROOT/tmp"
ln -s ../run "$ROOT/var/run"
install -m 755 "$WORK/busybox/bin/busybox" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
install -m 755 "$HERE/guest/init" "$ROOT/init"
install -m 755 "$HERE/guest/default.script" "$ROOT/etc/udhcpc/default.script"
mkdir -p "$ROOT/usr/share/udhcpc"
ln -s /etc/udhcpc/default.script "$ROOT/usr/share/udhcpc/default.script"
echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT/etc/passwd"
echo "root:x:0:" >"$ROOT/etc/group"
echo "phone" >"$ROOT/etc/hostname"
: >"$ROOT/etc/resolv.conf"
printf '127.0.0.1 localhost\n' >"$ROOT/etc/hosts"

# ------------------------------------------------------------------------------ modules
# index: module name (with '_') -> path relative to $MODSRC
declare -A MODPATH=()
while IFS= read -r p; do
	n=${p##*/}
	n=${n%.ko}
	MODPATH[${n//-/_}]=${p#"$MODSRC"/}
done < <(find "$MODSRC/kernel" -name '*.ko')
declare -A SEEN=()
ORDER=()
add_module() { # depth first: dependencies before the module
	local n=${1//-/_} p dep deps
	[ -n "${SEEN[$n]:-}" ] && return 0
	SEEN[$n]=1
	p=${MODPATH[$n]:-}
	if [ -z "$p" ]; then
		if grep -q "/${n}.ko\$\|/${1}.ko\$" "$MODSRC/modules.builtin" 2>/dev/null; then
			return 0 # built in
		fi
		die "kernel $KVER has no module '$1'"
	fi
	deps=$(tr '\0' '\n' <"$MODSRC/$p" | sed -n 's/^depends=//p' | head -n 1)
	for dep in ${deps//,/ }; do
		add_module "$dep"
	done
	ORDER+=("$p")
}
for m in $BASE_MODULES $EXTRA_MODULES; do
	add_module "$m"
done
mkdir -p "$ROOT/lib/modules/$KVER"
: >"$ROOT/etc/modules.order"
for p in "${ORDER[@]}"; do
	mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$p")"
	cp "$MODSRC/$p" "$ROOT/lib/modules/$KVER/$p"
	# softdog is loaded by /init with its own parameters
	case "$p" in */softdog.ko) continue ;; esac
	echo "/lib/modules/$KVER/$p" >>"$ROOT/etc/modules.order"
done
echo "/lib/modules/$KVER/${MODPATH[softdog]}" >"$ROOT/etc/watchdog.module"
cp "$MODSRC/modules.builtin" "$ROOT/lib/modules/$KVER/" 2>/dev/null || true

# ------------------------------------------------------------------------------ the package
# install_ipk FILE: what `opkg install --offline-root ROOT FILE` does, without opkg
install_ipk() {
	local ipk=$1 d=$WORK/ipk name f
	rm -rf "$d"
	mkdir -p "$d/control"
	(cd "$d" && ar x "$(realpath "$ipk")") || die "$ipk is not an ar archive (an .ipk is ar: debian-binary, control.tar.gz, data.tar.gz)"
	[ -f "$d/debian-binary" ] && [ -f "$d/control.tar.gz" ] && [ -f "$d/data.tar.gz" ] ||
		die "$ipk: want debian-binary, control.tar.gz and data.tar.gz inside"
	tar -xzf "$d/control.tar.gz" -C "$d/control"
	name=$(sed -n 's/^Package: *//p' "$d/control/control" | head -n 1)
	[ -n "$name" ] || die "$ipk: control has no Package field"
	tar -xzf "$d/data.tar.gz" -C "$ROOT" --no-same-owner
	# opkg's database: status entry, info/<pkg>.{control,list,conffiles,postinst,...}
	local info=$ROOT/usr/lib/opkg/info
	mkdir -p "$info"
	for f in control conffiles preinst postinst prerm postrm; do
		[ -f "$d/control/$f" ] && install -m "$([ "$f" = control ] || [ "$f" = conffiles ] && echo 644 || echo 755)" \
			"$d/control/$f" "$info/$name.$f"
	done
	tar -tzf "$d/data.tar.gz" | sed -e 's#^\./#/#' -e '/^\/$/d' -e 's#/$##' >"$info/$name.list"
	{
		cat "$d/control/control"
		echo "Status: install user installed"
		echo "Installed-Time: $(date +%s)"
		echo
	} >>"$ROOT/usr/lib/opkg/status"
	if [ -f "$d/control/postinst" ]; then
		say "running $name postinst against the offline root"
		IPKG_INSTROOT=$ROOT OPKG_OFFLINE_ROOT=$ROOT PKG_ROOT=$ROOT PKG_UPGRADE=0 \
			sh "$d/control/postinst" configure || die "$name postinst failed (status $?) against $ROOT"
	fi
	say "installed package $name $(sed -n 's/^Version: *//p' "$d/control/control")"
}

# elf_needed FILE: NEEDED sonames of an ELF file
elf_needed() {
	readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}
# elf_dlopened FILE: sonames an ELF file names as strings (what it may dlopen: the agent
# opens libcurl, libxml2, libsrtp2 and ALSA on use, common/lazylibs.c)
elf_dlopened() {
	strings -a "$1" 2>/dev/null | grep -E '^lib[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*\.so\.[0-9]+$' | sort -u
}
elf_interp() {
	readelf -l "$1" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p'
}
is_elf() {
	[ -f "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = "177ELF" ]
}

# copy_libs: resolve every ELF program's shared libraries in $SYSROOT, to a fixed point
copy_libs() {
	local -a dirs=(lib/arm-linux-gnueabihf usr/lib/arm-linux-gnueabihf lib usr/lib)
	local changed=1 f so d found interp rel n=0
	declare -A done_so=()
	while [ "$changed" = 1 ]; do
		changed=0
		while IFS= read -r f; do
			is_elf "$f" || continue
			interp=$(elf_interp "$f")
			if [ -n "$interp" ] && [ ! -e "$ROOT$interp" ]; then
				[ -e "$SYSROOT$interp" ] || die "dynamic loader $interp (needed by ${f#"$ROOT"}) is not in $SYSROOT"
				mkdir -p "$ROOT$(dirname "$interp")"
				cp -L "$SYSROOT$interp" "$ROOT$interp"
				changed=1
			fi
			for so in $(elf_needed "$f"); do
				[ -n "${done_so[$so]:-}" ] && continue
				found=""
				for d in "${dirs[@]}"; do
					if [ -e "$ROOT/$d/$so" ]; then found=have; break; fi
					if [ -e "$SYSROOT/$d/$so" ]; then found=$d; break; fi
				done
				[ -n "$found" ] || die "${f#"$ROOT"} needs $so, which is not in the sysroot $SYSROOT"
				done_so[$so]=1
				[ "$found" = have ] && continue
				mkdir -p "$ROOT/$found"
				cp -L "$SYSROOT/$found/$so" "$ROOT/$found/$so"
				n=$((n + 1))
				changed=1
			done
			# libraries opened at run time: copied when the sysroot has them
			for so in $(elf_dlopened "$f"); do
				[ -n "${done_so[$so]:-}" ] && continue
				done_so[$so]=1
				found=""
				for d in "${dirs[@]}"; do
					if [ -e "$ROOT/$d/$so" ]; then found=have; break; fi
					if [ -e "$SYSROOT/$d/$so" ]; then found=$d; break; fi
				done
				[ -n "$found" ] && [ "$found" != have ] || continue
				mkdir -p "$ROOT/$found"
				cp -L "$SYSROOT/$found/$so" "$ROOT/$found/$so"
				n=$((n + 1))
				changed=1
			done
		done < <(find "$ROOT" -path "$ROOT/lib/modules" -prune -o -type f -print)
	done
	# the loader's search path for the multiarch folders
	if [ -d "$ROOT/lib/arm-linux-gnueabihf" ] || [ -d "$ROOT/usr/lib/arm-linux-gnueabihf" ]; then
		printf '/lib/arm-linux-gnueabihf\n/usr/lib/arm-linux-gnueabihf\n' >"$ROOT/etc/ld.so.conf"
	fi
	rel=$(du -sk "$ROOT/lib" "$ROOT/usr/lib" 2>/dev/null | awk '{s+=$1} END {print s}')
	say "copied $n shared libraries from the sysroot ($rel KiB in lib folders)"
}

if [ -n "$IPK" ]; then
	install_ipk "$IPK"
	if [ -n "$SYSROOT" ]; then
		copy_libs
	else
		say "no --sysroot: the package's programs must be static (checking)"
		while IFS= read -r f; do
			is_elf "$f" || continue
			[ -z "$(elf_interp "$f")" ] || die "${f#"$ROOT"} is dynamically linked: give --sysroot with its libraries"
		done < <(find "$ROOT/usr" "$ROOT/sbin" -type f 2>/dev/null)
	fi
elif [ "$PLACEHOLDER" = 1 ]; then
	install -m 755 "$HERE/guest/placeholder-agent" "$ROOT/etc/init.d/dsa-placeholder"
	mkdir -p "$ROOT/etc/rc.d"
	ln -s ../init.d/dsa-placeholder "$ROOT/etc/rc.d/S50dsa-placeholder"
	say "no --ipk: installed the placeholder agent (boot, DHCP, VLAN and DSCP only)"
fi

if [ -n "$IDENTITY" ]; then
	mkdir -p "$ROOT/etc/dialstack-agent"
	install -m 644 "$IDENTITY/ca.crt" "$ROOT/etc/dialstack-agent/ca.pem"
	install -m 644 "$IDENTITY/device.crt" "$ROOT/etc/dialstack-agent/device.crt"
	install -m 600 "$IDENTITY/device.key" "$ROOT/etc/dialstack-agent/device.key"
fi

# ------------------------------------------------------------------------------ archive
cpio_newc() { # archive the current folder (owner root) on stdout
	if command -v cpio >/dev/null; then
		find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet
	elif command -v busybox >/dev/null && [[ "$(busybox cpio --help 2>&1)" == *-o* ]]; then
		find . -mindepth 1 | LC_ALL=C sort | busybox cpio -o -H newc -R 0:0 2>/dev/null
	else
		die "no cpio (apt-get install cpio)"
	fi
}
(cd "$ROOT" && cpio_newc) | gzip -1 >"$OUT/initrd.cpio.gz.tmp"
mv "$OUT/initrd.cpio.gz.tmp" "$OUT/initrd.cpio.gz"
{
	echo "kernel=$KVER"
	echo "kernel_deb=$(basename "$KDEB")"
	echo "busybox_deb=$(basename "$BDEB")"
	echo "modules=${ORDER[*]}"
	echo "ipk=${IPK:-none}"
	echo "placeholder=$([ -z "$IPK" ] && [ "$PLACEHOLDER" = 1 ] && echo yes || echo no)"
} >"$OUT/manifest"
say "$OUT/vmlinuz ($(du -k "$OUT/vmlinuz" | cut -f1) KiB), $OUT/initrd.cpio.gz ($(du -k "$OUT/initrd.cpio.gz" | cut -f1) KiB)"
