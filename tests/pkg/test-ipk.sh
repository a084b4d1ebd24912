#!/bin/bash
# test-ipk.sh - TAP: build the opkg package (packaging/opkg/mkipk.sh) from a
# native build, and from an armhf cross build when the armhf sysroot is cached
# (tests/cross makes it), then open it and check it as opkg would use it:
# the ar layout, control fields, every file's mode and owner, conffiles, the
# maintainer scripts (sh -n, busybox sh -n, shellcheck), a full
# install / install again / upgrade over itself / remove cycle against a
# scratch root (offline root, nothing started) under busybox sh and dash
# (the job user and group made once, the factory key 0640 root:dialstack),
# the init script starting and stopping the real agent, and the udhcpc hook.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
source "$top_srcdir/tests/lib/tap.sh"
source "$top_srcdir/tests/cross/lib.sh"

JOBS=${JOBS:-2}
MKIPK="$top_srcdir/packaging/opkg/mkipk.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/dsa-ipk.XXXXXX")
agent_pids=()
cleanup() {
	local p
	for p in "${agent_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
command -v ar >/dev/null && command -v tar >/dev/null || skip_all "ar and tar are needed (apt-get install binutils tar)"
BUSYBOX=$(command -v busybox || true)
SHELLCHECK=$(command -v shellcheck || true)

# ------------------------------------------------------------ helpers

# field FILE NAME: one control field's value
field() { sed -n "s/^$2: *//p" "$1" | head -n 1; }

# build_tree NAME [cross-configure ARCH SYSROOT]: configure + make in $work/NAME
# with the phone's layout; prints nothing, fails with the log tail as comments.
build_tree() {
	local name=$1 b="$work/$1"; shift
	local layout=(--enable-werror --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/var/run)
	mkdir -p "$b"
	if [ $# -gt 0 ]; then
		(cd "$b" && DSA_SRCDIR="$src" sh "$top_srcdir/packaging/cross/cross-configure.sh" "$@" "${layout[@]}") >"$b.log" 2>&1
	else
		(cd "$b" && "$src/configure" "${layout[@]}") >"$b.log" 2>&1
	fi || { dsa_logtail "$b.log"; return 1; }
	make -C "$b" -j"$JOBS" >>"$b.log" 2>&1 || { grep -E "error|warning" "$b.log" | head -20 | sed 's/^/# /'; return 1; }
}

# check_ipk IPK ARCH FILESIG: open the package and check its structure.
check_ipk() {
	local ipk=$1 arch=$2 sig=$3 x="$work/open-$2" f bad
	rm -rf "$x"; mkdir -p "$x/control" "$x/data"
	(cd "$x" && ar x "$ipk") || { fail "$arch: ar x"; return; }
	if [ "$(ar t "$ipk" | tr '\n' ' ')" = "debian-binary control.tar.gz data.tar.gz " ]; then
		pass "$arch: ar members debian-binary, control.tar.gz, data.tar.gz in order"
	else
		fail "$arch: ar members in order" "ar t: $(ar t "$ipk" | tr '\n' ' ')"
	fi
	if [ "$(cat "$x/debian-binary")" = "2.0" ]; then pass "$arch: debian-binary is 2.0"; else fail "$arch: debian-binary is 2.0"; fi
	tar -xzf "$x/control.tar.gz" -C "$x/control" && tar -xzf "$x/data.tar.gz" -C "$x/data" ||
		{ fail "$arch: control.tar.gz and data.tar.gz unpack"; return; }

	# control fields
	local c="$x/control/control" want_ver problems=""
	want_ver=$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")
	[ "$(field "$c" Package)" = dialstack-agent ] || problems+="Package=$(field "$c" Package); "
	[ "$(field "$c" Version)" = "$want_ver" ] || problems+="Version=$(field "$c" Version) (configure says $want_ver); "
	[ "$(field "$c" Architecture)" = "$arch" ] || problems+="Architecture=$(field "$c" Architecture); "
	for d in libcurl libxml2 libosip2 libsrtp2 libopenssl libjson-c libcares; do
		[[ ", $(field "$c" Depends), " == *", $d, "* ]] || problems+="Depends lacks $d; "
	done
	[[ $(field "$c" Maintainer) == *@*.* ]] || problems+="Maintainer has no address; "
	[ -n "$(field "$c" Description)" ] && grep -q '^ ' "$c" || problems+="Description missing or one line; "
	[ -n "$(field "$c" Section)" ] || problems+="no Section; "
	[[ $(field "$c" Installed-Size) =~ ^[1-9][0-9]*$ ]] || problems+="Installed-Size=$(field "$c" Installed-Size); "
	if [ -z "$problems" ]; then pass "$arch: control fields ($(field "$c" Package) $(field "$c" Version) $(field "$c" Architecture))"
	else fail "$arch: control fields" "$problems"; fi

	# owners and modes, from the archives' own listings
	bad=$( (tar -tvzf "$x/control.tar.gz" --numeric-owner; tar -tvzf "$x/data.tar.gz" --numeric-owner) |
		awk '$2 != "0/0" { print "owner " $2 ": " $NF }')
	if [ -z "$bad" ]; then pass "$arch: every file is owned by 0/0 (root)"; else fail "$arch: owners" "$bad"; fi
	declare -A want=(
		[./usr/bin/dialstack-agent]=-rwxr-xr-x
		[./etc/init.d/dialstack-agent]=-rwxr-xr-x
		[./etc/dialstack-agent/bootstrap.conf]=-rw-r--r--
		[./etc/udhcpc.user.d/dialstack-agent]=lrwxrwxrwx
		[./etc/udhcpc.d/50dialstack-agent]=lrwxrwxrwx
		[./usr/share/dialstack-agent/udhcpc-hook.sh]=-rwxr-xr-x
		[./postinst]=-rwxr-xr-x [./prerm]=-rwxr-xr-x [./postrm]=-rwxr-xr-x
		[./control]=-rw-r--r-- [./conffiles]=-rw-r--r--
	)
	bad=$( (tar -tvzf "$x/control.tar.gz"; tar -tvzf "$x/data.tar.gz") |
		awk '{ print $1, ($1 ~ /^l/ ? $(NF - 2) : $NF) }' |
		while read -r mode name; do
			if [ -n "${want[$name]:-}" ]; then
				[ "$mode" = "${want[$name]}" ] || echo "$name is $mode, want ${want[$name]}"
				unset "want[$name]"
			elif [[ $mode == d* ]]; then
				[ "$mode" = drwxr-xr-x ] || echo "$name is $mode, want drwxr-xr-x"
			else
				[[ $mode == -rw-r--r-- || $mode == -rwxr-xr-x ]] || echo "$name is $mode (unexpected file or mode)"
			fi
		done)
	for f in "${!want[@]}"; do
		tar -tzf "$x/control.tar.gz" "$f" >/dev/null 2>&1 || tar -tzf "$x/data.tar.gz" "$f" >/dev/null 2>&1 || bad+=" missing $f;"
	done
	for f in etc/udhcpc.user.d/dialstack-agent etc/udhcpc.d/50dialstack-agent; do
		[ "$(readlink "$x/data/$f")" = /usr/share/dialstack-agent/udhcpc-hook.sh ] || bad+=" $f does not link to the hook;"
	done
	if [ -z "$bad" ]; then pass "$arch: modes (binary and scripts 0755, conffile and control 0644, folders 0755, hook links)"
	else fail "$arch: modes" "$bad"; fi

	bad=""
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		[ -f "$x/data$f" ] || bad+="$f is not in data.tar.gz; "
	done <"$x/control/conffiles"
	if [ -z "$bad" ] && [ -s "$x/control/conffiles" ] && grep -qx /etc/dialstack-agent/bootstrap.conf "$x/control/conffiles"; then
		pass "$arch: conffiles ($(tr '\n' ' ' <"$x/control/conffiles")) are in the data"
	else fail "$arch: conffiles in the data" "${bad:-conffiles empty or without bootstrap.conf}"; fi

	local desc
	desc=$(file -b "$x/data/usr/bin/dialstack-agent")
	if [[ $desc == *"$sig"* && $desc == *", stripped"* ]]; then
		pass "$arch: binary is $sig and stripped, $(stat -c %s "$x/data/usr/bin/dialstack-agent") bytes"
	else fail "$arch: binary is $sig and stripped" "file: $desc"; fi

	# the scripts, as sh, busybox ash and shellcheck see them
	local s out
	for s in control/postinst control/prerm control/postrm data/etc/init.d/dialstack-agent data/usr/share/dialstack-agent/udhcpc-hook.sh; do
		out=$(sh -n "$x/$s" 2>&1) || { fail "$arch: sh -n $s" "$out"; continue; }
		if [ -n "$BUSYBOX" ]; then
			out=$("$BUSYBOX" sh -n "$x/$s" 2>&1) || { fail "$arch: busybox sh -n $s" "$out"; continue; }
		fi
		if [ -n "$SHELLCHECK" ]; then
			out=$("$SHELLCHECK" -s sh -S warning "$x/$s" 2>&1) || { fail "$arch: shellcheck -s sh $s" "$out"; continue; }
		fi
		pass "$arch: $s passes sh -n${BUSYBOX:+, busybox sh -n}${SHELLCHECK:+, shellcheck -s sh}"
	done
}

# tree ROOT: every path under ROOT with its type, mode and link target.
tree() { (cd "$1" && find . -mindepth 1 -printf '%y %m %p %l\n' | sort); }

# lifecycle IPK SHELL VAR SKEL: opkg's install / reinstall / upgrade / remove
# against a scratch root given to the scripts through VAR (PKG_ROOT,
# IPKG_INSTROOT or D). SKEL: busybox (a root with /etc/rc.d) or sysv (rcN.d).
lifecycle() {
	local ipk=$1 sh=$2 var=$3 skel=$4 name="${2##*/} $3 $4" x="$work/lc" R="$work/lc/root" rc out bad
	rm -rf "$x"; mkdir -p "$x/info" "$R"
	(cd "$x" && ar x "$ipk" && tar -xzf control.tar.gz -C info) || { fail "$name: unpack"; return; }
	mkdir -p "$R/etc" "$R/usr/bin" "$R/usr/share" "$R/var/lib" "$R/var/run"
	if [ "$skel" = busybox ]; then mkdir -p "$R/etc/rc.d"; else for n in 0 1 2 3 4 5 6 S; do mkdir -p "$R/etc/rc$n.d"; done; fi
	# accounts with id 200 a uid and 201 a gid: the job user gets 202 for both
	printf 'root:x:0:0:root:/root:/bin/sh\nold:x:200:65534::/:/bin/false\n' >"$R/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\nother:x:201:\n' >"$R/etc/group"
	if [ "$skel" = busybox ]; then printf 'root:*:::::::\n' >"$R/etc/shadow"; chmod 600 "$R/etc/shadow"; fi
	tree "$R" >"$x/before"
	# the factory's key, 0600 root before the package (it is not the package's)
	mkdir -p "$R/etc/dialstack-agent" && printf 'key\n' >"$R/etc/dialstack-agent/device.key" &&
		chmod 600 "$R/etc/dialstack-agent/device.key"
	local keymode=600 keygid=0
	[ "$(id -u)" = 0 ] && keymode=640 keygid=202     # chgrp 202 needs root
	local host_before
	host_before=$(ls -d /var/lib/dialstack-agent /etc/rc.d/S90dialstack-agent /etc/rc2.d/S90dialstack-agent 2>/dev/null)

	run() { # SCRIPT ARGS...: as opkg runs a maintainer script, offline root in $var
		local s=$1; shift
		# shellcheck disable=SC2086
		out=$(env -u PKG_ROOT -u IPKG_INSTROOT -u D "$var=$R" $sh "$x/info/$s" "$@" 2>&1)
	}
	unpack() { # opkg's unpack: keeps a conffile the user changed
		local f
		tar -tzf "$x/data.tar.gz" | sort >"$x/list"
		mkdir -p "$x/new"; rm -rf "$x/new"/*; tar -xzf "$x/data.tar.gz" -C "$x/new"
		while IFS= read -r f; do
			[ -f "$R$f" ] && ! cmp -s "$R$f" "$x/new$f" && cp -p "$R$f" "$x/keep.$(basename "$f")"
		done <"$x/info/conffiles"
		tar -xzf "$x/data.tar.gz" -C "$R"
		while IFS= read -r f; do
			[ -f "$x/keep.$(basename "$f")" ] && mv "$x/keep.$(basename "$f")" "$R$f"
		done <"$x/info/conffiles"
		return 0
	}

	# install
	unpack
	run postinst configure; rc=$?
	bad=""
	[ "$rc" = 0 ] || bad+="postinst exit $rc: $out; "
	[ "$(stat -c %a "$R/var/lib/dialstack-agent" 2>/dev/null)" = 700 ] || bad+="state folder not 0700; "
	[ "$(stat -c %a "$R/var/run/dialstack-agent" 2>/dev/null)" = 755 ] || bad+="run folder not 0755; "
	if [ "$skel" = busybox ]; then
		[ "$(readlink "$R/etc/rc.d/S90dialstack-agent")" = ../init.d/dialstack-agent ] || bad+="no rc.d/S90 link; "
		[ -x "$R/etc/rc.d/S90dialstack-agent" ] || bad+="rc.d/S90 does not reach the init script; "
		[ -L "$R/etc/rc.d/K10dialstack-agent" ] || bad+="no rc.d/K10 link; "
	else
		for n in 2 3 4 5; do [ -x "$R/etc/rc$n.d/S90dialstack-agent" ] || bad+="no rc$n.d/S90; "; done
		for n in 0 1 6; do [ -x "$R/etc/rc$n.d/K10dialstack-agent" ] || bad+="no rc$n.d/K10; "; done
	fi
	if [ -z "$bad" ]; then pass "$name: install (postinst configure: state 0700, run 0755, start links)"
	else fail "$name: install" "$bad"; fi
	bad=""
	grep -qx 'dialstack:x:202:202:dialstack-agent jobs:/nonexistent:/bin/false' "$R/etc/passwd" ||
		bad+="passwd: $(grep dialstack "$R/etc/passwd"); "
	grep -qx 'dialstack:x:202:' "$R/etc/group" || bad+="group: $(grep dialstack "$R/etc/group"); "
	if [ "$skel" = busybox ]; then
		grep -qx 'dialstack:\*:::::::' "$R/etc/shadow" || bad+="shadow: $(grep dialstack "$R/etc/shadow"); "
		[ "$(stat -c %a "$R/etc/shadow")" = 600 ] || bad+="shadow mode changed; "
	fi
	[ "$(stat -c '%a %u %g' "$R/etc/dialstack-agent/device.key")" = "$keymode 0 $keygid" ] ||
		bad+="device.key is $(stat -c '%a %u %g' "$R/etc/dialstack-agent/device.key"), want $keymode 0 $keygid; "
	if [ -z "$bad" ]; then pass "$name: install adds user and group dialstack (202, no login, /nonexistent), key $keymode root:$keygid"
	else fail "$name: install: the job user and the key" "$bad"; fi

	# postinst again (opkg configure twice, or a reinstall)
	tree "$R" >"$x/once"
	cat "$R/etc/passwd" "$R/etc/group" >>"$x/once"
	run postinst configure; rc=$?
	tree "$R" >"$x/twice"
	cat "$R/etc/passwd" "$R/etc/group" >>"$x/twice"
	if [ "$rc" = 0 ] && cmp -s "$x/once" "$x/twice"; then pass "$name: postinst twice: same result"
	else fail "$name: postinst twice" "exit $rc $out $(diff "$x/once" "$x/twice")"; fi

	# upgrade over itself, with a changed conffile and stored state that must survive
	echo "model = test-phone" >>"$R/etc/dialstack-agent/bootstrap.conf"
	echo "last known good" >"$R/var/lib/dialstack-agent/config.xml"
	bad=""
	run prerm upgrade "$(sed -n 's/^Version: //p' "$x/info/control")" || bad+="prerm upgrade: $out; "
	unpack
	run postrm upgrade || bad+="postrm upgrade: $out; "
	run postinst configure || bad+="postinst: $out; "
	grep -q "model = test-phone" "$R/etc/dialstack-agent/bootstrap.conf" || bad+="the changed conffile was lost; "
	[ -f "$R/var/lib/dialstack-agent/config.xml" ] || bad+="the stored config was lost; "
	[ -x "$R/etc/init.d/dialstack-agent" ] || bad+="init script gone; "
	if [ -z "$bad" ]; then pass "$name: upgrade over itself keeps the changed conffile and the state"
	else fail "$name: upgrade over itself" "$bad"; fi

	# remove: prerm remove, delete the package's files but conffiles, empty folders, postrm remove
	bad=""
	run prerm remove || bad+="prerm remove: $out; "
	local f
	tar -tzf "$x/data.tar.gz" | sed -e 's|^\./|/|' -e 's|\(.\)/$|\1|' | sort -r | while IFS= read -r f; do
		[ "$f" = / ] && continue
		grep -qxF "$f" "$x/info/conffiles" && continue
		# a folder the system had before is not the package's to remove
		grep -q "^d [0-7]* \.$f \$" "$x/before" && continue
		if [ -d "$R$f" ] && [ ! -L "$R$f" ]; then rmdir "$R$f" 2>/dev/null; else rm -f "$R$f"; fi
	done
	run postrm remove || bad+="postrm remove: $out; "
	run prerm remove || bad+="prerm remove again: $out; "
	run postrm remove || bad+="postrm remove again: $out; "
	tree "$R" >"$x/after"
	local left want
	left=$(comm -13 "$x/before" "$x/after")
	want=$(printf '%s\n' "d 755 ./etc/dialstack-agent " "f $keymode ./etc/dialstack-agent/device.key " \
		"f 644 ./etc/dialstack-agent/bootstrap.conf " | sort)
	grep -qx 'dialstack:x:202:202:dialstack-agent jobs:/nonexistent:/bin/false' "$R/etc/passwd" ||
		bad+="the user went with the package; "
	if [ -z "$bad" ] && [ "$left" = "$want" ] && [ -z "$(comm -23 "$x/before" "$x/after")" ]; then
		pass "$name: remove (twice) leaves only the conffile, the factory key and the user"
	else
		fail "$name: remove leaves only the conffile, the key and the user" "$bad
left behind: $left
gone: $(comm -23 "$x/before" "$x/after")"
	fi
	local host_after
	host_after=$(ls -d /var/lib/dialstack-agent /etc/rc.d/S90dialstack-agent /etc/rc2.d/S90dialstack-agent 2>/dev/null)
	[ "$host_before" = "$host_after" ] || fail "$name: nothing outside the scratch root changed" "$host_after"
}

host_state_before=$(ls -d /var/lib/dialstack-agent 2>/dev/null)

# ------------------------------------------------------------ native build and package
src=$(dsa_srcdir "$work") || { fail "a source tree for a VPATH build"; done_testing; exit; }
if build_tree native; then pass "native build with the phone layout (--prefix=/usr --sysconfdir=/etc ...)"
else fail "native build"; done_testing; exit; fi

march=$(dpkg --print-architecture 2>/dev/null || echo amd64)
if out=$(bash "$MKIPK" "$work/native" "$work/out" 2>&1); then
	pass "mkipk native: $(echo "$out" | tail -n 1 | sed 's/^mkipk: //')"
	echo "$out" | sed 's/^/# /'
else
	fail "mkipk native" "$out"; done_testing; exit
fi
ipk="$work/out/dialstack-agent_$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")_$march.ipk"
[ -f "$ipk" ] || { fail "the package is named dialstack-agent_<version>_<arch>.ipk" "$(ls "$work/out")"; done_testing; exit; }
case $march in amd64) sig=x86-64 ;; arm64) sig=aarch64 ;; armhf) sig='ARM, EABI5' ;; *) sig=ELF ;; esac
check_ipk "$ipk" "$march" "$sig"
if command -v dpkg-deb >/dev/null; then
	if out=$(dpkg-deb --info "$ipk" 2>&1 && dpkg-deb --contents "$ipk" 2>&1 >/dev/null); then
		pass "dpkg-deb reads the package (same ar/tar layout as opkg's)"
	else fail "dpkg-deb reads the package" "$out"; fi
fi

# a wrongly configured build is refused, with the fix in the message
mkdir -p "$work/wrong"
(cd "$work/wrong" && "$src/configure" >/dev/null 2>&1)
out=$(bash "$MKIPK" "$work/wrong" "$work/out-wrong" 2>&1)
rc=$?
if [ "$rc" != 0 ] && [[ $out == *"--prefix=/usr --sysconfdir=/etc"* ]] && [ -z "$(ls "$work/out-wrong" 2>/dev/null)" ]; then
	pass "mkipk refuses a build configured for /usr/local, naming the configure flags"
else fail "mkipk refuses a /usr/local build" "exit $rc: $out"; fi

# the OpenWrt flavour: procd init script
if out=$(DSA_INIT=procd bash "$MKIPK" "$work/native" "$work/out-procd" arm_cortex-a7_neon-vfpv4 2>&1); then
	p="$work/procd"; mkdir -p "$p"
	(cd "$p" && ar x "$work/out-procd/"*_arm_cortex-a7_neon-vfpv4.ipk && tar -xzf data.tar.gz)
	i="$p/etc/init.d/dialstack-agent"
	if head -n 1 "$i" | grep -qx '#!/bin/sh /etc/rc.common' && grep -qx 'USE_PROCD=1' "$i" &&
		grep -q 'procd_set_param command "$PROG" run -f' "$i" && grep -q 'procd_set_param respawn 3600 5 5' "$i" &&
		grep -qx 'PROG=/usr/bin/dialstack-agent' "$i" && sh -n "$i"; then
		pass "procd flavour: rc.common script, run -f, respawn 3600 5 5, arch name given on the command line"
	else fail "procd flavour" "$(cat "$i")"; fi
else fail "mkipk DSA_INIT=procd" "$out"; fi

# ------------------------------------------------------------ opkg's script calls against a scratch root
# each entry is a command line: busybox ash (what a phone runs) and dash
shells=(sh)
[ -n "$BUSYBOX" ] && shells=("$BUSYBOX sh" sh)
lifecycle "$ipk" "${shells[0]}" PKG_ROOT busybox
lifecycle "$ipk" "${shells[-1]}" IPKG_INSTROOT busybox
lifecycle "$ipk" "${shells[0]}" D sysv

# ------------------------------------------------------------ the init script runs the real agent
# alive PID: the process exists and is not a zombie (whoever reaps orphans
# here may be slow to, and a zombie is an agent that has exited).
alive() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! awk '{ exit $3 == "Z" ? 0 : 1 }' "/proc/$1/stat" 2>/dev/null; }
R="$work/live"; mkdir -p "$R"
tar -xzf "$work/lc/data.tar.gz" -C "$R"
run="$work/run"; state="$work/state"
printf 'server = https://127.0.0.1:9/\ninterface = lo\nboot-delay = 0\n' >"$work/bootstrap.conf"
initsh() { # ACTION: the packaged init script, its paths pointed into the test folders
	out=$(DSA_DAEMON="$R/usr/bin/dialstack-agent" DSA_RUNDIR="$run" DSA_STATEDIR="$state" \
		DSA_DAEMON_ARGS="-c $work/bootstrap.conf" ${shells[0]} "$R/etc/init.d/dialstack-agent" "$1" 2>&1)
}
initsh status; rc=$?
if [ "$rc" = 3 ]; then pass "init status before start: exit 3 (not running)"; else fail "init status before start" "exit $rc: $out"; fi
initsh stop; rc=$?
if [ "$rc" = 0 ]; then pass "init stop when not running: exit 0"; else fail "init stop when not running" "exit $rc: $out"; fi
initsh start; rc=$?
pid=$(cat "$run/dialstack-agent.pid" 2>/dev/null)
[ -n "$pid" ] && agent_pids+=("$pid")
if [ "$rc" = 0 ] && [ -n "$pid" ] && alive "$pid" &&
	"$R/usr/bin/dialstack-agent" --rundir "$run" status >/dev/null 2>&1; then
	pass "init start: the agent daemonises (pid $pid) and answers status on its socket"
	[ "$(stat -c %a "$state" 2>/dev/null)" = 700 ] && pass "init start: state folder 0700" ||
		fail "init start: state folder 0700" "$(ls -ld "$state" 2>&1)"
else fail "init start" "exit $rc: $out"; fi
initsh start; rc=$?
pid2=$(cat "$run/dialstack-agent.pid" 2>/dev/null)
if [ "$rc" = 0 ] && [ "$pid2" = "$pid" ] && [[ $out == *"already running"* ]]; then pass "init start twice: one agent"
else fail "init start twice" "exit $rc, pid $pid -> $pid2: $out"; fi
initsh status; rc=$?
if [ "$rc" = 0 ]; then pass "init status: running"; else fail "init status while running" "exit $rc: $out"; fi
initsh restart; rc=$?
pid3=$(cat "$run/dialstack-agent.pid" 2>/dev/null)
[ -n "$pid3" ] && agent_pids+=("$pid3")
if [ "$rc" = 0 ] && [ -n "$pid3" ] && [ "$pid3" != "$pid" ] && ! alive "$pid" && alive "$pid3"; then
	pass "init restart: a new agent, the old one gone"
else fail "init restart" "exit $rc, $pid -> $pid3: $out"; fi
initsh stop; rc=$?
if [ "$rc" = 0 ] && ! alive "$pid3" && [ ! -e "$run/dialstack-agent.pid" ] && [ -z "$(ls "$run" 2>/dev/null)" ]; then
	pass "init stop: agent gone, pid file and socket removed"
else fail "init stop" "exit $rc: $out; left: $(ls "$run")"; fi
initsh status; rc=$?
if [ "$rc" = 3 ]; then pass "init status after stop: exit 3"; else fail "init status after stop" "exit $rc: $out"; fi

if [ -z "$host_state_before" ] && [ -e /var/lib/dialstack-agent ]; then
	fail "the test left the host's /var/lib alone" "/var/lib/dialstack-agent appeared"
fi

# ------------------------------------------------------------ the udhcpc hook (provisioning's)
# Reached through the link udhcpc scripts follow; the file it writes is the one
# the agent reads (provisioning/udhcpc-hook.sh names it; DSA_PROV_URL_FILE here).
hook="$R/etc/udhcpc.d/50dialstack-agent"
ln -sfn "$R/usr/share/dialstack-agent/udhcpc-hook.sh" "$hook"
urlf="$work/dhcp/dhcp-prov-url"
hookrun() { # ACTION VAR=VALUE...
	local a=$1; shift
	# shellcheck disable=SC2086
	env -i PATH=/usr/bin:/bin DSA_PROV_URL_FILE="$urlf" "$@" ${shells[0]} "$hook" "$a" >/dev/null 2>&1
}
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
hookrun bound opt160="$(hexof https://prov.example.test/phones/)" tftp=tftp.example.test
if [ "$(cat "$urlf" 2>/dev/null)" = https://prov.example.test/phones/ ]; then
	pass "hook: option 160 (hex, wins over 66) reaches the agent's file"
else fail "hook: option 160" "file: $(cat "$urlf" 2>&1)"; fi
hookrun renew tftp=prov.dialstack.ai
if [ "$(cat "$urlf" 2>/dev/null)" = prov.dialstack.ai ]; then pass "hook: option 66 replaces it on renew"
else fail "hook: option 66" "file: $(cat "$urlf" 2>&1)"; fi
rm -f /tmp/dsa-ipk-pwned
hookrun bound tftp='prov.example.test/$(touch /tmp/dsa-ipk-pwned)'
if [ ! -e /tmp/dsa-ipk-pwned ] && [ "$(cat "$urlf" 2>/dev/null)" != 'prov.example.test/$(touch /tmp/dsa-ipk-pwned)' ]; then
	pass "hook: shell characters are not written and nothing runs"
else fail "hook: shell characters" "file: $(cat "$urlf" 2>&1)"; rm -f /tmp/dsa-ipk-pwned; fi
hookrun bound opt160="$(hexof https://a.test/)00"
if [ "$(cat "$urlf" 2>/dev/null)" = https://a.test/ ]; then pass "hook: a trailing NUL in option 160 is dropped"
else fail "hook: trailing NUL" "$(cat "$urlf" 2>&1)"; fi
hookrun deconfig
if [ "$(cat "$urlf" 2>/dev/null)" = https://a.test/ ]; then pass "hook: deconfig keeps the last URL"
else fail "hook: deconfig" "$(cat "$urlf" 2>&1)"; fi
hookrun bound
if [ ! -e "$urlf" ]; then pass "hook: a lease without the options removes the URL"
else fail "hook: a lease without the options" "$(cat "$urlf")"; fi
if [ -z "$(ls -A "$work/dhcp" 2>/dev/null)" ]; then pass "hook: no temporary files left"
else fail "hook: temporary files" "$(ls -A "$work/dhcp")"; fi

# ------------------------------------------------------------ armhf, when the cross build can be made here
cache=$(dsa_cache 2>/dev/null || true)
if [ -n "$cache" ] && [ -f "$cache/sysroot-armhf/.dsa-sysroot" ] && command -v arm-linux-gnueabihf-gcc >/dev/null; then
	if build_tree armhf armhf "$cache/sysroot-armhf"; then
		pass "armhf cross build with the phone layout"
		if out=$(bash "$MKIPK" "$work/armhf" "$work/out" 2>&1); then
			pass "mkipk armhf: $(echo "$out" | tail -n 1 | sed 's/^mkipk: //')"
			echo "$out" | sed 's/^/# /'
			aipk=$(ls "$work/out"/dialstack-agent_*_armhf.ipk)
			check_ipk "$aipk" armhf 'ARM, EABI5'
			lifecycle "$aipk" "${shells[0]}" PKG_ROOT busybox
		else fail "mkipk armhf" "$out"; fi
	else fail "armhf cross build"; fi
else
	skip "armhf package" "no cached armhf sysroot or no arm-linux-gnueabihf-gcc (tests/cross/test-armhf.sh makes them)"
fi
done_testing
