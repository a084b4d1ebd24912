#!/bin/bash
# boot.sh - boot the emulated ARM phone by hand, with its console on this terminal.
#
#   tests/phone/boot.sh [--net lab|user] [--build DIR] [--deadline S] [--append "ARGS"]
#
#   --net lab     (default) on the lab: needs `tests/lab/lab up` and `tests/phone/phone-net.sh up`
#                 (take the lab lock: tests/lab/lab with-lock tests/phone/boot.sh ...)
#   --net user    qemu's own user-mode NAT, no lab and no root (DHCP only; no VLAN on the far side)
#   --build DIR   mkinitramfs.sh's --out folder (default $DSA_PHONE_BUILD, /tmp/dsa-phone)
#   --deadline S  power off after S s (default 0: never; the phone gives you a shell at the end)
#   --append ARGS more kernel command line, e.g. "dsa.vlan=200"
#
# Leave qemu with Ctrl-A X, or type `exit` in the guest's shell (it powers off), or `poweroff -f`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lab/lab.env
. "$HERE/../lab/lab.env"
# shellcheck source=phone.env
. "$HERE/phone.env"
# shellcheck source=phone-lib.sh
. "$HERE/phone-lib.sh"

NET=lab
BUILD=$DSA_PHONE_BUILD
DEADLINE=0
APPEND=""
while [ $# -gt 0 ]; do
	case "$1" in
	--net) NET=${2:?}; shift 2 ;;
	--build) BUILD=${2:?}; shift 2 ;;
	--deadline) DEADLINE=${2:?}; shift 2 ;;
	--append) APPEND=${2?}; shift 2 ;;
	-h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "boot.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -f "$BUILD/vmlinuz" ] && [ -f "$BUILD/initrd.cpio.gz" ] ||
	{ echo "boot.sh: no $BUILD/vmlinuz or initrd.cpio.gz: run tests/phone/mkinitramfs.sh --out $BUILD first" >&2; exit 1; }
command -v qemu-system-arm >/dev/null || { echo "boot.sh: qemu-system-arm is missing (apt-get install qemu-system-arm)" >&2; exit 1; }
SHELLARG="dsa.shell=1"
[ "$DEADLINE" != 0 ] && SHELLARG=""
case "$NET" in
lab)
	[ -e "/run/netns/$DSA_LAB_NS_ROUTER" ] || { echo "boot.sh: the lab is not up (tests/lab/lab up)" >&2; exit 1; }
	ip -n "$DSA_LAB_NS_ROUTER" link show "$DSA_PHONE_TAP" >/dev/null 2>&1 ||
		{ echo "boot.sh: no $DSA_PHONE_TAP in $DSA_LAB_NS_ROUTER (tests/phone/phone-net.sh up)" >&2; exit 1; }
	phone_qemu_argv "$BUILD/vmlinuz" "$BUILD/initrd.cpio.gz" "dsa.deadline=$DEADLINE $SHELLARG $APPEND" tap
	exec ip netns exec "$DSA_LAB_NS_ROUTER" "${QEMU_ARGV[@]}"
	;;
user)
	phone_qemu_argv "$BUILD/vmlinuz" "$BUILD/initrd.cpio.gz" "dsa.deadline=$DEADLINE $SHELLARG $APPEND" user
	exec "${QEMU_ARGV[@]}"
	;;
*) echo "boot.sh: --net lab or user" >&2; exit 2 ;;
esac
