# pkg-common.sh - shared by postinst, prerm and postrm; mkipk.sh pastes it
# into each script where "#@PKG_COMMON@" stands (a package's scripts cannot
# source files that are being removed). POSIX sh, busybox ash compatible.
#
# Offline root: opkg sets PKG_ROOT (its --offline-root, "/" when online),
# OpenWrt's image builder IPKG_INSTROOT, Yocto's rootfs step D. With any of
# them naming a folder other than /, the scripts only touch files under it
# and never start or stop anything.
NAME=dialstack-agent
INIT=/etc/init.d/$NAME
STATEDIR=/var/lib/$NAME
RUNDIR=/var/run/$NAME
START_PRIO=90
STOP_PRIO=10

ROOT=${IPKG_INSTROOT:-${D:-${PKG_ROOT:-}}}
ROOT=${ROOT%/}
OFFLINE=
[ -n "$ROOT" ] && OFFLINE=1

say() { echo "$NAME: $*"; }

# make_dirs: the state folder (stored configs, reports: root only) and the
# run folder (control socket, pid file; the init script recreates it on a tmpfs).
make_dirs() {
	mkdir -p "$ROOT$STATEDIR" "$ROOT$RUNDIR" || return 1
	chmod 0700 "$ROOT$STATEDIR" && chmod 0755 "$ROOT$RUNDIR" || return 1
	# The agent runs as root (it configures VLANs and DSCP); own them so.
	chown 0:0 "$ROOT$STATEDIR" "$ROOT$RUNDIR" 2>/dev/null || true
}

# rc_dirs: (after make_dirs) the folders that hold start/stop links on this system: /etc/rc.d
# (OpenWrt, busybox rcS), and the SysV runlevel folders when they exist.
rc_dirs() {
	found=
	for d in 0 1 2 3 4 5 6 S; do
		[ -d "$ROOT/etc/rc$d.d" ] && found=1
	done
	if [ ! -d "$ROOT/etc/rc.d" ] && [ -z "$found" ]; then
		mkdir -p "$ROOT/etc/rc.d" && : >"$ROOT$STATEDIR/.made-rc.d"
	fi
	[ -d "$ROOT/etc/rc.d" ] && echo "rc.d"
	for d in 0 1 2 3 4 5 6; do
		[ -d "$ROOT/etc/rc$d.d" ] && echo "rc$d.d"
	done
	return 0
}

# rc_enable: start at boot (S90) and stop at shutdown (K10). The same links
# OpenWrt's "/etc/init.d/NAME enable" and update-rc.d make, made directly
# so that it works offline too.
rc_enable() {
	for d in $(rc_dirs); do
		case $d in
		rc0.d | rc1.d | rc6.d) links="K$STOP_PRIO" ;;
		rc.d) links="S$START_PRIO K$STOP_PRIO" ;;
		*) links="S$START_PRIO" ;;
		esac
		for l in $links; do
			ln -sf "../init.d/$NAME" "$ROOT/etc/$d/$l$NAME" || return 1
		done
	done
}

# rc_disable: remove every start/stop link to the init script.
rc_disable() {
	for l in "$ROOT"/etc/rc.d/[SK][0-9][0-9]"$NAME" "$ROOT"/etc/rc[0-6S].d/[SK][0-9][0-9]"$NAME"; do
		[ -L "$l" ] && rm -f "$l"
	done
	return 0
}

# svc ACTION: run the init script (online only; never fails the package
# operation: a phone that cannot start the agent now retries at boot).
svc() {
	[ -n "$OFFLINE" ] && return 0
	[ -x "$INIT" ] || { say "$INIT is missing; not running '$1'"; return 0; }
	"$INIT" "$1" || say "'$INIT $1' failed (exit $?); see the system log"
	return 0
}
