# shellcheck shell=bash
# phone-lib.sh - run the emulated phone under qemu; sourced by boot.sh and test-boot.sh.
# Needs lab.env and phone.env sourced first.
#
#   phone_qemu_argv KERNEL INITRD APPEND NET   fills the array QEMU_ARGV
#                                             (NET: "tap" = $DSA_PHONE_TAP in the router
#                                             namespace, "user" = qemu's own NAT, no lab)
#   phone_start DIR KERNEL INITRD APPEND LIMIT start qemu in the background in the lab's router
#                                             namespace, console to DIR/console.log, stdin from
#                                             the fifo DIR/console.in; killed after LIMIT s
#   phone_send TEXT                           type a line on the phone's console
#   phone_poweroff [WAIT]                     ask the phone to power off (marker line), wait
#   phone_wait [WAIT]                         wait for qemu to end; status in PHONE_STATUS
#                                             (0 powered off, 124 killed at LIMIT, else qemu's)
#   phone_kill                                end qemu now (SIGTERM, then SIGKILL)

PHONE_PID=""
PHONE_FD=""
PHONE_STATUS="" # read by the callers
PHONE_T0=""
export PHONE_STATUS

phone_qemu_argv() {
	local kernel=$1 initrd=$2 append=$3 net=$4 netdev
	case "$net" in
	tap) netdev="tap,id=n0,ifname=$DSA_PHONE_TAP,script=no,downscript=no" ;;
	user) netdev="user,id=n0" ;;
	*) echo "phone_qemu_argv: net must be tap or user" >&2; return 2 ;;
	esac
	# Software emulation (TCG): this machine's /dev/kvm cannot run guests, and an x86 host
	# cannot run ARM guests in KVM anyway.  romfile= : no PXE ROM (not packaged for arm).
	# shellcheck disable=SC2054 # commas belong to qemu's option values
	QEMU_ARGV=(qemu-system-arm -M virt,highmem=off -cpu cortex-a15 -m "$DSA_PHONE_MEM"
		-nographic -no-reboot -kernel "$kernel" -initrd "$initrd"
		-append "console=ttyAMA0 panic=-1 quiet $append"
		-netdev "$netdev" -device "virtio-net-pci,netdev=n0,mac=$DSA_PHONE_MAC,romfile="
		-device virtio-rng-pci)
}

phone_start() {
	local dir=$1 kernel=$2 initrd=$3 append=$4 limit=$5
	phone_qemu_argv "$kernel" "$initrd" "$append" tap || return 2
	rm -f "$dir/console.in" "$dir/console.log"
	mkfifo "$dir/console.in"
	# held open read-write by us: qemu never sees EOF, and opening does not block
	exec {PHONE_FD}<>"$dir/console.in"
	PHONE_T0=$(date +%s.%N)
	(
		# qemu inherits no descriptor of ours (the lab lock, the fifo's other end)
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		exec ip netns exec "$DSA_LAB_NS_ROUTER" timeout -k 5 "$limit" "${QEMU_ARGV[@]}"
	) <"$dir/console.in" >"$dir/console.log" 2>&1 &
	PHONE_PID=$!
	PHONE_STATUS=""
}

phone_send() {
	[ -n "$PHONE_FD" ] && printf '\n%s\n' "$1" >&"$PHONE_FD"
}

phone_running() {
	[ -n "$PHONE_PID" ] && kill -0 "$PHONE_PID" 2>/dev/null
}

phone_wait() { # phone_wait [SECONDS]: bounded wait for qemu to end
	local max=${1:-30} i=0
	[ -n "$PHONE_PID" ] || return 0
	while phone_running && [ "$i" -lt $((max * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if phone_running; then
		return 1
	fi
	PHONE_STATUS=0
	wait "$PHONE_PID" 2>/dev/null || PHONE_STATUS=$?
	PHONE_PID=""
	[ -n "$PHONE_FD" ] && exec {PHONE_FD}>&-
	PHONE_FD=""
	return 0
}

phone_poweroff() {
	phone_send dsa-poweroff
	phone_wait "${1:-30}"
}

phone_kill() {
	[ -n "$PHONE_PID" ] || return 0
	kill -TERM "$PHONE_PID" 2>/dev/null || true
	phone_wait 5 || {
		kill -KILL "$PHONE_PID" 2>/dev/null || true
		phone_wait 5 || true
	}
}

phone_elapsed() { # seconds since phone_start, one decimal
	awk -v a="$PHONE_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'
}
