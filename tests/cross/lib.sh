# shellcheck shell=bash disable=SC2154
# lib.sh - shared by tests/cross and tests/pkg; source it after tap.sh.
# Needs top_srcdir and top_builddir (set by the harness).

# The builds made here are trees of their own: nothing of the `make check`
# that runs this test (TEST_LOGS=..., -j jobserver) may leak into them.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS

# dsa_cache: print the cache folder (sysroots), creating it.
# ${DSA_CACHE:-/var/cache/dialstack-agent}, or ~/.cache/dialstack-agent when
# that is not writable (not root).
dsa_cache() {
	local c=${DSA_CACHE:-/var/cache/dialstack-agent}
	if ! mkdir -p "$c" 2>/dev/null || [ ! -w "$c" ]; then
		echo "# cache: $c is not writable; using ${XDG_CACHE_HOME:-$HOME/.cache}/dialstack-agent" >&2
		c=${XDG_CACHE_HOME:-$HOME/.cache}/dialstack-agent
		mkdir -p "$c" || { echo "# cache: cannot create $c either (set DSA_CACHE)" >&2; return 1; }
	fi
	echo "$c"
}

# dsa_tools PKG...: make sure these Debian packages are installed; installs
# them when root. Prints what is missing and fails when it cannot.
dsa_tools() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "# missing:$missing (not root, cannot install)"
		return 1
	fi
	echo "# installing:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 && return 0
	apt-get update >/dev/null 2>&1 || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing 2>&1 | tail -5 | sed 's/^/# /'
	for p in $missing; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || return 1
	done
}

# dsa_srcdir WORKDIR: print a source tree a VPATH build can use: top_srcdir
# itself, or, when top_srcdir is configured in place (autoconf refuses a
# second build from it), a clean copy made by `make distdir` under WORKDIR.
dsa_srcdir() {
	local src work=$1
	src=$(cd "$top_srcdir" && pwd)
	if [ ! -f "$src/config.status" ]; then
		echo "$src"
		return 0
	fi
	make -s -C "$top_builddir" distdir distdir="$work/src" >"$work/distdir.log" 2>&1 || {
		echo "# make distdir failed (needed because $src is configured in place):" >&2
		tail -20 "$work/distdir.log" | sed 's/^/# /' >&2
		return 1
	}
	echo "$work/src"
}

# dsa_logtail FILE [N]: the last N lines of FILE as TAP comments.
dsa_logtail() { tail -n "${2:-25}" "$1" 2>/dev/null | sed 's/^/# /'; }
