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
JOB_USER=dialstack        # the job processes' user and group (common/job.h JOB_USER)
KEY=/etc/$NAME/device.key # bootstrap.conf's default "key"
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

# make_user: the system user and group the agent's job processes run as
# (those that parse the servers' bytes: no login, no home), each made once;
# prints the gid. Edits passwd, group (and shadow when there is one) under
# $ROOT directly: the same offline and online, busybox has no useradd.
make_user() {
	p=$ROOT/etc/passwd g=$ROOT/etc/group
	[ -f "$p" ] && [ -f "$g" ] || return 1
	gid=$(awk -F: -v n="$JOB_USER" '$1 == n { print $3; exit }' "$g")
	# the lowest id from 200 to 999 that is neither a uid nor a gid
	free=$(awk -F: 'FILENAME == ARGV[1] { u[$3] = 1; next } { g[$3] = 1 }
		END { for (i = 200; i < 1000; i++) if (!(i in u) && !(i in g)) { print i; exit } }' "$p" "$g")
	if [ -z "$gid" ]; then
		[ -n "$free" ] || return 1
		gid=$free
		echo "$JOB_USER:x:$gid:" >>"$g" || return 1
	fi
	if ! grep -q "^$JOB_USER:" "$p"; then
		uid=$gid
		awk -F: -v i="$gid" '$3 == i { f = 1 } END { exit !f }' "$p" && uid=$free
		[ -n "$uid" ] || return 1
		echo "$JOB_USER:x:$uid:$gid:dialstack-agent jobs:/nonexistent:/bin/false" >>"$p" || return 1
		if [ -f "$ROOT/etc/shadow" ] && ! grep -q "^$JOB_USER:" "$ROOT/etc/shadow"; then
			echo "$JOB_USER:*:::::::" >>"$ROOT/etc/shadow" || return 1
		fi
	fi
	echo "$gid"
}

# share_key GID: the device key (the factory's, when it is there) readable by
# the job processes' group: root:GID, g+r; no other bit loosened. The agent
# does the same at start for the key, certificate and CA bootstrap.conf names.
share_key() {
	[ -f "$ROOT$KEY" ] && [ ! -L "$ROOT$KEY" ] || return 0
	chgrp "$1" "$ROOT$KEY" 2>/dev/null && chmod g+r,g-wx,o-rwx "$ROOT$KEY" ||
		say "cannot make $KEY readable by group $JOB_USER (the agent tries again at start)"
	return 0
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
