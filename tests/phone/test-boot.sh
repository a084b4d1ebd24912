#!/bin/bash
# test-boot.sh - boot the emulated ARM phone on the lab; check the server side and the wire.
#
# Debian's armhf kernel (linux-image-armmp) boots under qemu-system-arm -M virt (software
# emulation) with the initramfs of mkinitramfs.sh, its NIC a tap in the lab's router
# namespace (phone-net.sh: own DHCP/DNS with the lab's names and options 66/160, the voice
# VLAN terminated by tc BPF).  Boot 1: the network carries voice VLAN 100 (802.1p 5).
# Boot 2: the phone is told to use VLAN 200, which the network does not carry.
#
# The phone runs the armhf dialstack-agent package when one is given (DSA_PHONE_IPK=FILE.ipk
# and DSA_PHONE_SYSROOT=DIR with its shared libraries; or an armhf .ipk found under
# $top_builddir or $DSA_ARMHF_BUILDDIR), else a busybox placeholder (guest/placeholder-agent)
# that does the network part only; the checks that need the real agent (mutual-TLS fetch,
# status "provisioned", Kamailio binding, self-test report) then say SKIP with that reason.
# DSA_PHONE_REQUIRE_AGENT=1 turns that SKIP into a failure.
#
# Needs root.  Installs qemu-system-arm, clang, llvm and libbpf-dev when missing; skips only
# when qemu-system-arm cannot be had.  Holds the lab lock for its whole run (set
# DSA_LAB_LOCK_HELD=1 when the caller already holds it).  Time: about 1 min with the placeholder.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
HERE=$top_srcdir/tests/phone
LAB=$top_srcdir/tests/lab/lab

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces, tap device, tc BPF, qemu in the lab's router namespace)"

if [ -z "${DSA_LAB_LOCK_HELD:-}" ]; then
	# every lab user holds the lab lock; the lock's descriptor is closed again for the servers
	exec env DSA_LAB_LOCK_HELD=1 "$LAB" with-lock bash "${BASH_SOURCE[0]}" "$@"
fi

# shellcheck source=../lab/lab.env
. "$top_srcdir/tests/lab/lab.env"
# shellcheck source=phone.env
. "$HERE/phone.env"
# shellcheck source=phone-lib.sh
. "$HERE/phone-lib.sh"

MACHEX=$DSA_LAB_PHONE_MAC_HEX
MAC=$DSA_PHONE_MAC
T=$(mktemp -d /tmp/dsa-phone-test.XXXXXX)
BUILD=$T/build
TCPDUMP_PID=""
KEEP=${DSA_PHONE_KEEP:-0}

cleanup() {
	phone_kill
	[ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null
	DSA_PHONE_QUIET=1 bash "$HERE/phone-net.sh" down >/dev/null 2>&1
	DSA_LAB_QUIET=1 "$LAB" down >/dev/null 2>&1
	if [ "$KEEP" = 1 ]; then
		echo "# kept $T (console logs, captures, initramfs)"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# ------------------------------------------------------------------------------ tools
apt_install() { # apt_install PKG...: quiet, tolerant of a stale index
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$T/apt.log" 2>&1 && return 0
	DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$T/apt.log" 2>&1
}
if ! command -v qemu-system-arm >/dev/null; then
	command -v apt-get >/dev/null && apt_install qemu-system-arm
	command -v qemu-system-arm >/dev/null ||
		skip_all "this machine cannot run qemu-system-arm (not installed, and apt-get install qemu-system-arm failed: $(tail -n 1 "$T/apt.log" 2>/dev/null))"
fi
if ! command -v clang >/dev/null || ! command -v llvm-objdump >/dev/null || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	apt_install clang llvm libbpf-dev || true
fi

# ------------------------------------------------------------------------------ the agent
IPK=${DSA_PHONE_IPK:-}
SYSROOT=${DSA_PHONE_SYSROOT:-}
if [ -z "$IPK" ]; then
	# 32-bit ARM package names: Debian "armhf", OpenWrt "arm_cortex-a7_...", Yocto "cortexa7..."
	for d in ${DSA_ARMHF_BUILDDIR:+"$DSA_ARMHF_BUILDDIR"} "$top_builddir"; do
		IPK=$(find "$d" -maxdepth 4 \( -name 'dialstack-agent_*_armhf.ipk' -o -name 'dialstack-agent_*_arm_cortex-a*.ipk' \
			-o -name 'dialstack-agent_*_cortexa*.ipk' \) 2>/dev/null | sort -V | tail -n 1)
		[ -n "$IPK" ] && break
	done
fi
if [ -n "$IPK" ] && [ -z "$SYSROOT" ] && [ -f "${DSA_CACHE:-/var/cache/dialstack-agent}/sysroot-armhf/.dsa-sysroot" ]; then
	SYSROOT=${DSA_CACHE:-/var/cache/dialstack-agent}/sysroot-armhf # packaging/cross/mksysroot.sh's
fi
AGENT=0
NOAGENT_WHY="no armhf dialstack-agent package (set DSA_PHONE_IPK and DSA_PHONE_SYSROOT): the placeholder ran instead"
if [ -n "$IPK" ]; then
	AGENT=1
	diag "agent: $IPK${SYSROOT:+ with libraries from $SYSROOT}"
else
	diag "agent: placeholder (busybox); $NOAGENT_WHY"
fi
agent_check() { # agent_check NAME CMD...: a check that needs the real agent
	local name=$1
	shift
	if [ "$AGENT" = 1 ]; then
		ok "$name" "$@"
	elif [ "${DSA_PHONE_REQUIRE_AGENT:-0}" = 1 ]; then
		fail "$name" "DSA_PHONE_REQUIRE_AGENT=1 but $NOAGENT_WHY"
	else
		skip "$name" "$NOAGENT_WHY"
	fi
}

# ------------------------------------------------------------------------------ helpers
lease_of() { # lease_of NAME: the phone's address in dnsmasq NAME's lease file
	awk -v m="$(echo "$MAC" | tr 'A-F' 'a-f')" 'tolower($2) == m {print $3; exit}' "$DSA_PHONE_DIR/$1.leases" 2>/dev/null
}
# frames of the capture as text: link level (-e), verbose (-v: TOS), epoch times
wire() { # wire PCAP [FILTER...]
	local f=$1
	shift
	tcpdump -r "$f" -tt -e -n -v "$@" 2>/dev/null
}
# tcpdump -v prints each IP packet's header on the frame's line, the rest on indented lines
frames() { # frames PCAP FILTER...: one line per frame (continuation lines joined)
	wire "$@" | awk '/^[0-9]+\.[0-9]+ / {if (l != "") print l; l = $0; next} {l = l " " $0} END {if (l != "") print l}'
}
kam() { # kam east|west CMD...
	local ctl
	[ "$1" = east ] && ctl=$DSA_LAB_EAST_CTL || ctl=$DSA_LAB_WEST_CTL
	shift
	timeout 5 kamcmd -s "$ctl" "$@" 2>/dev/null
}
registered() { # a binding of the lab user in either registrar
	local r
	for r in east west; do
		kam "$r" ul.dump | grep -qi "AOR: .*$DSA_LAB_SIP_USER" && return 0
	done
	return 1
}
selftest_in_register() {
	local r
	for r in east west; do
		kam "$r" htable.dump selftest | grep -q "$DSA_LAB_SIP_USER" && return 0
	done
	return 1
}
# The portal's "provisioned": the config is applied; "registered" says that and more (docs/status.md).
PROVISIONED='<state name="(provisioned|registered)"'
status_files() { find "$DSA_LAB_STATUS_DIR/$MACHEX" -type f 2>/dev/null; }
status_says() { # status_says REGEX: an uploaded file of the phone matches (case-insensitive)
	local f
	for f in $(status_files); do
		grep -q -i -E "$1" "$f" && return 0
	done
	return 1
}
report_uploaded() { # a self-test report among the uploads
	local f
	for f in $(status_files); do
		case "${f##*/}" in *report* | *selftest* | *self-test*) return 0 ;; esac
		grep -q -i -E '<(selftest|report)[ >]' "$f" && return 0
	done
	return 1
}
fetched_mtls() { # the per-MAC config fetched over mutual TLS with the device's subject
	grep -E "\"GET /dialstack-$MACHEX\.xml\" (200|304) .*dn=\"[^\"]*CN=$MACHEX" "$DSA_LAB_LOGS/nginx-access.log" |
		grep -q 'verify=SUCCESS'
}

# set_served_vlan VID: the provisioning server's common file names voice VLAN VID (priority 5)
set_served_vlan() {
	local f=$DSA_LAB_WWW/dialstack.xml
	sed -i -e '/<vlan [^>]*\/>/d' "$f"
	sed -i -e "s|<network\([^>]*\)>|<network\1>\n    <vlan id=\"$1\" priority=\"$DSA_PHONE_PCP\"/>|" "$f"
	grep -q "<vlan id=\"$1\"" "$f"
}

# start_capture NAME: tcpdump on the tap (whole frames, with their 802.1Q tags)
start_capture() {
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			n=${fd##*/}
			[ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"
		done
		exec ip netns exec "$DSA_LAB_NS_ROUTER" tcpdump -i "$DSA_PHONE_TAP" -n -U -s 512 -w "$T/$1.pcap"
	) 2>"$T/$1.tcpdump.log" &
	TCPDUMP_PID=$!
	local i
	for i in $(seq 1 50); do
		grep -q 'listening on' "$T/$1.tcpdump.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
stop_capture() {
	[ -n "$TCPDUMP_PID" ] || return 0
	sleep 0.5
	kill -INT "$TCPDUMP_PID" 2>/dev/null
	wait "$TCPDUMP_PID" 2>/dev/null
	TCPDUMP_PID=""
}

# prepare BOOT VID: a fresh lab, the phone's network carrying voice VLAN VID, the initramfs
prepare() {
	local boot=$1 vid=$2
	mkdir -p "$T/$boot"
	if ! DSA_LAB_QUIET=1 "$LAB" up >"$T/$boot/lab-up.log" 2>&1; then
		fail "$boot: lab up" "$(tail -n 5 "$T/$boot/lab-up.log")"
		return 1
	fi
	if ! bash "$HERE/phone-net.sh" up --vid "$vid" --pcp "$DSA_PHONE_PCP" >"$T/$boot/phone-net.log" 2>&1; then
		fail "$boot: phone network (tap, voice VLAN BPF, dnsmasq) in $DSA_LAB_NS_ROUTER" "$(tail -n 5 "$T/$boot/phone-net.log")"
		return 1
	fi
	local -a args=(--out "$BUILD" --identity "$DSA_LAB_DIR/pki")
	[ -n "$IPK" ] && args+=(--ipk "$IPK")
	[ -n "$SYSROOT" ] && args+=(--sysroot "$SYSROOT")
	local rc=0
	bash "$HERE/mkinitramfs.sh" "${args[@]}" >"$T/$boot/mkinitramfs.log" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		fail "$boot: build the initramfs (mkinitramfs.sh exited $rc)" "$(tail -n 8 "$T/$boot/mkinitramfs.log")"
		return 1
	fi
	# the download cache's path (filled now, or used as it was) is in the log
	diag "$(grep -E 'download cache|downloading|downloaded|using the cached' "$T/$boot/mkinitramfs.log")"
	return 0
}

# run_boot BOOT APPEND LIMIT: boot, poll the server side until done, power off.
# Sets T_DATA/T_VOICE/T_REG (s after qemu start, or "-") and T_END.
run_boot() {
	local boot=$1 append=$2 limit=$3 i
	T_DATA=- T_VOICE=- T_REG=-
	start_capture "$boot" || diag "tcpdump did not start: $(cat "$T/$boot.tcpdump.log")"
	phone_start "$T/$boot" "$BUILD/vmlinuz" "$BUILD/initrd.cpio.gz" "dsa.deadline=$((limit - 15)) $append" "$limit"
	for i in $(seq 1 $((limit * 2))); do
		[ "$T_DATA" = - ] && [ -n "$(lease_of data)" ] && T_DATA=$(phone_elapsed)
		[ "$T_VOICE" = - ] && [ -n "$(lease_of voice)" ] && T_VOICE=$(phone_elapsed)
		if [ "$AGENT" = 1 ]; then
			[ "$T_REG" = - ] && registered && T_REG=$(phone_elapsed)
			# the agent's job is done once it is registered and has reported
			if [ "$T_REG" != - ] && report_uploaded && status_says "$PROVISIONED"; then
				sleep 2
				phone_poweroff 30 || true
				break
			fi
		fi
		phone_running || break
		sleep 0.5
	done
	phone_running && { phone_poweroff 20 || phone_kill; }
	phone_wait 10 || phone_kill
	T_END=$(phone_elapsed)
	stop_capture
	diag "$boot: qemu ended after ${T_END}s (status $PHONE_STATUS); data lease at ${T_DATA}s, voice lease at ${T_VOICE}s, registered at ${T_REG}s"
}

no_panic() { ! grep -q 'Kernel panic' "$T/$1/console.log"; }
booted_and_stopped() { [ "$PHONE_STATUS" = 0 ]; }

# time limit of one boot: the agent has a random boot delay (up to 30 s), TLS and SIP under emulation.
# Model: LIMIT bounds the wait, it is not an assertion on speed: qemu-system-arm emulates the
# CPU (TCG), so boot, DHCP and TLS take many times the host's time and more on a loaded host;
# the checks are on what reached the lab (leases, tagged frames, bindings, reports), and
# T_DATA/T_VOICE/T_REG (printed) show how much of LIMIT a boot used.
LIMIT=100
[ "$AGENT" = 1 ] && LIMIT=150

# ------------------------------------------------------------------------------ boot 1
if prepare boot1 "$DSA_PHONE_VID"; then
	[ "$AGENT" = 1 ] && set_served_vlan "$DSA_PHONE_VID"
	run_boot boot1 "dsa.vlan=$DSA_PHONE_VID dsa.pcp=$DSA_PHONE_PCP" "$LIMIT"
	P=$T/boot1.pcap
	ok "boot 1: the ARM guest booted and powered off by itself (qemu status 0, not killed at the limit)" booted_and_stopped
	ok "boot 1: no kernel panic" no_panic boot1
	ip1=$(lease_of data)
	ok "boot 1: DHCP lease for $MAC on the data LAN in dnsmasq's lease file (${ip1:-none}, after ${T_DATA}s)" \
		test -n "$ip1"
	ok "boot 1: the phone asked the lab's DNS for prov.dialstack.ai (query on the wire)" \
		bash -c "tcpdump -r '$P' -n 'ether src $MAC and udp dst port 53' 2>/dev/null | grep -q 'A? prov.dialstack.ai'"
	vip=$(lease_of voice)
	ok "boot 1: DHCP lease on voice VLAN $DSA_PHONE_VID from the voice subnet (${vip:-none}, after ${T_VOICE}s)" \
		bash -c "case '$vip' in $DSA_PHONE_VOICE_PFX.*) exit 0;; *) exit 1;; esac"
	frames "$P" "ether src $MAC and vlan $DSA_PHONE_VID" >"$T/boot1.tagged-out.txt"
	frames "$P" "ether dst $MAC and vlan $DSA_PHONE_VID" >"$T/boot1.tagged-in.txt"
	n_out=$(wc -l <"$T/boot1.tagged-out.txt")
	n_out_p=$(grep -c "vlan $DSA_PHONE_VID, p $DSA_PHONE_PCP," "$T/boot1.tagged-out.txt")
	ok "boot 1: phone -> network frames tagged VID $DSA_PHONE_VID with 802.1p $DSA_PHONE_PCP on the tap ($n_out_p of $n_out tagged frames)" \
		test "$n_out_p" -gt 0
	ok "boot 1: network -> phone frames tagged VID $DSA_PHONE_VID, 802.1p $DSA_PHONE_PCP (router side, BPF push)" \
		grep -q "vlan $DSA_PHONE_VID, p $DSA_PHONE_PCP," "$T/boot1.tagged-in.txt"
	n_ef=$(grep -c "vlan $DSA_PHONE_VID, p $DSA_PHONE_PCP, .*tos 0xb8" "$T/boot1.tagged-out.txt")
	ok "boot 1: DSCP 46 (EF, TOS 0xb8) inside the phone's VID $DSA_PHONE_VID/p $DSA_PHONE_PCP frames ($n_ef frames)" \
		test "$n_ef" -gt 0
	ok "boot 1: the phone's voice-VLAN traffic is answered over the VLAN (ICMP/UDP replies from the voice gateway tagged to the phone)" \
		grep -q -E "> $DSA_PHONE_VOICE_PFX\.[0-9]+(\.[0-9]+)?: " "$T/boot1.tagged-in.txt"
	agent_check "boot 1: config fetched over mutual TLS (nginx: GET /dialstack-$MACHEX.xml, verified device DN CN=$MACHEX)" fetched_mtls
	agent_check "boot 1: status \"provisioned\" (or beyond: registered) PUT into $DSA_LAB_STATUS_DIR/$MACHEX/" status_says "$PROVISIONED"
	# Polled in Kamailio's location table during the boot (the phone unregisters at power-off).
	agent_check "boot 1: registered with Kamailio (ul.dump had user $DSA_LAB_SIP_USER, after ${T_REG}s)" test "$T_REG" != -
	agent_check "boot 1: self-test summary carried in REGISTER (registrar's htable selftest)" selftest_in_register
	agent_check "boot 1: self-test report uploaded to the provisioning server" report_uploaded
	agent_check "boot 1: SIP signalling marked DSCP 26 (TOS 0x68) on the wire" \
		bash -c "tcpdump -r '$P' -n -v 'ether src $MAC and (port 5060 or port 5061 or (vlan and (port 5060 or port 5061)))' 2>/dev/null | grep -q 'tos 0x68'"
fi

# ------------------------------------------------------------------------------ boot 2
BAD_VID=$((DSA_PHONE_VID + 100))
if prepare boot2 "$DSA_PHONE_VID"; then
	[ "$AGENT" = 1 ] && set_served_vlan "$BAD_VID"
	run_boot boot2 "dsa.vlan=$BAD_VID dsa.pcp=$DSA_PHONE_PCP" "$LIMIT"
	P=$T/boot2.pcap
	ok "boot 2: the ARM guest booted and powered off by itself" booted_and_stopped
	ok "boot 2: DHCP lease on the data LAN" test -n "$(lease_of data)"
	frames "$P" "ether src $MAC and vlan $BAD_VID" >"$T/boot2.tagged-out.txt"
	ok "boot 2: the phone tried voice VLAN $BAD_VID (tagged frames on the wire; the network drops them)" \
		test -s "$T/boot2.tagged-out.txt"
	ok "boot 2: no voice address (the network does not carry VLAN $BAD_VID)" test -z "$(lease_of voice)"
	# rolled back: after its last VID-$BAD_VID frame the phone still talks untagged from its LAN address
	last_tag=$(tail -n 1 "$T/boot2.tagged-out.txt" | cut -d' ' -f1)
	ip2=$(lease_of data)
	untagged_after() {
		[ -n "$last_tag" ] && [ -n "$ip2" ] || return 1
		# (in a pcap filter, "vlan" shifts the offsets of what follows: filter on the text)
		frames "$P" "ether src $MAC and not vlan" |
			awk -v t="$last_tag" -v a="$ip2." '$1 > t && index($0, " " a) {found = 1} END {exit !found}'
	}
	agent_check "boot 2: registered over the untagged network (after ${T_REG}s)" test "$T_REG" != -
	agent_check "boot 2: status names the VLAN problem (status file mentions VLAN $BAD_VID)" status_says "vlan.*$BAD_VID|$BAD_VID.*vlan"
	agent_check "boot 2: status still \"provisioned\" (or registered)" status_says "$PROVISIONED"
fi

diag "console logs, captures: $T (DSA_PHONE_KEEP=1 keeps them)"
done_testing
