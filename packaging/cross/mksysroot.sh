#!/bin/sh
# mksysroot.sh ARCH DIR - build a cross sysroot for dialstack-agent from
# Debian's own packages (the -dev packages of every library the agent links,
# and their dependencies), extracted with mmdebstrap, never installed.
#
#   ARCH  armhf (32-bit ARM, hard float: the phones) or arm64
#   DIR   the sysroot folder; skipped when it is already complete for the
#         same architecture, suite, mirror and package list (DIR/.dsa-sysroot)
#
# The Debian mirror is the one this machine's apt uses (/etc/apt/sources.list,
# /etc/apt/sources.list.d/*.list and *.sources), main suite only (the
# security index of a foreign architecture can lag behind the main one).
# Environment: DSA_SUITE (default: this machine's codename, else bookworm),
# DSA_MIRROR (a mirror URI, overriding the apt configuration),
# DSA_SYSROOT_EXTRA (more packages, comma-separated),
# DSA_NO_APT=1 (never apt-get install missing host tools; just say what is missing).
# Exit status: 0 ready, 1 failure (the message says why and what to do).
set -eu

me=mksysroot
die() { echo "$me: $*" >&2; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 ARCH DIR   (ARCH: armhf or arm64)" >&2; exit 2; }
arch=$1
dir=$2

case $arch in
armhf) triplet=arm-linux-gnueabihf ;;
arm64) triplet=aarch64-linux-gnu ;;
*) die "unknown architecture '$arch' (use armhf or arm64)" ;;
esac

PKGS="libc6-dev,libcurl4-openssl-dev,libxml2-dev,libosip2-dev,libsrtp2-dev,libssl-dev,libjson-c-dev,libasound2-dev,libcmocka-dev,libc-ares-dev"
[ -n "${DSA_SYSROOT_EXTRA:-}" ] && PKGS="$PKGS,$DSA_SYSROOT_EXTRA"

# ------------------------------------------------------------ the suite and the mirror
suite=${DSA_SUITE:-}
if [ -z "$suite" ] && [ -r /etc/os-release ]; then
	suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
fi
suite=${suite:-bookworm}

# apt_mirrors: print "URI" for every enabled "deb" source that carries $suite
# itself (not -security, -updates or -backports), one-line and deb822 formats.
apt_mirrors() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		# deb [options] URI SUITE COMPONENTS...
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk -v s="$suite" '$1 == "deb" && $3 == s { print $2 }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# deb822 stanzas, separated by blank lines
		awk -v s="$suite" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " s " "))
					n = split(uris, u, " ")
				else
					n = 0
				for (i = 1; i <= n; i++) print u[i]
				types = ""; uris = ""; suites = ""; enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{
				key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
				if (key == "types") types = $0
				else if (key == "uris") uris = $0
				else if (key == "suites") suites = $0
				else if (key == "enabled") enabled = tolower($0)
			}
			END { flush() }' "$f"
	done
}

mirror=${DSA_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(apt_mirrors | grep -v -- '-security' | head -n 1 || true)
fi
[ -n "$mirror" ] || die "no apt source for suite '$suite' in /etc/apt/sources.list or /etc/apt/sources.list.d/ (set DSA_MIRROR=URI or DSA_SUITE=NAME)"
case $mirror in
http://* | https://* | file:/* | copy:/*) ;;
*) die "the apt source '$mirror' is not a URI mmdebstrap can use (set DSA_MIRROR=URI)" ;;
esac

# ------------------------------------------------------------ cached?
stamp="arch=$arch suite=$suite mirror=$mirror packages=$PKGS"
if [ -f "$dir/.dsa-sysroot" ] && [ "$(cat "$dir/.dsa-sysroot")" = "$stamp" ] &&
	[ -f "$dir/usr/lib/$triplet/pkgconfig/libcurl.pc" ]; then
	echo "$me: $dir is complete ($arch, $suite); nothing to do"
	exit 0
fi
if [ -e "$dir" ]; then
	echo "$me: $dir is incomplete or was made for another architecture, suite, mirror or package list: rebuilding it"
else
	echo "$me: no sysroot in $dir yet (first run, or an empty cache): building it"
fi

# ------------------------------------------------------------ host tools
need=""
command -v mmdebstrap >/dev/null 2>&1 || need="$need mmdebstrap"
if [ -n "$need" ]; then
	if [ "${DSA_NO_APT:-}" = 1 ] || [ "$(id -u)" != 0 ]; then
		die "missing host tools:$need (install them: apt-get install$need)"
	fi
	echo "$me: installing$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need >&2 ||
		{ apt-get update >&2 || true; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need >&2; } ||
		die "cannot install$need"
fi

# ------------------------------------------------------------ build
parent=$(dirname "$dir")
mkdir -p "$parent" || die "cannot create $parent"
[ -w "$parent" ] || die "cannot write $parent (choose another DIR, or DSA_CACHE, or run as root)"
tmp="$dir.tmp.$$"
log="$dir.log.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp" "$log"' EXIT INT TERM
echo "$me: downloading and extracting $PKGS and their dependencies ($arch) from $mirror $suite main"
start=$(date +%s)
# Not --quiet: off a terminal mmdebstrap prints a dozen lines, among them apt's "E:" lines
# naming the cause (a package the mirror does not have, a mirror that cannot be reached).
if ! mmdebstrap --variant=extract --arch="$arch" --include="$PKGS" \
	"$suite" "$tmp" "deb $mirror $suite main" >"$log" 2>&1; then
	grep -v '^W: Download is performed unsandboxed' "$log" | tail -n 15 >&2
	why=$(grep -E '^E: (Unable to locate|Failed to fetch|Package .* has no installation candidate|Unable to correct)' "$log" | head -n 3 | tr '\n' ' ')
	die "mmdebstrap could not build the $arch sysroot from $mirror $suite main: ${why:-see the messages above} (a package missing from the mirror: check DSA_SYSROOT_EXTRA and DSA_SUITE; a mirror that cannot be reached: check the network or set DSA_MIRROR)"
fi

# Absolute symlinks (libfoo.so -> /lib/...) would point into the build machine;
# make every one relative to the sysroot so the linker finds the target's files.
(
	cd "$tmp"
	find usr lib* etc -type l -lname '/*' 2>/dev/null | while IFS= read -r l; do
		t=$(readlink "$l")
		ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "./$t")" "$l"
	done
) || die "could not make the sysroot's absolute symlinks relative in $tmp"
# Linker scripts name absolute paths (libc.so: /lib/arm-linux-gnueabihf/libc.so.6);
# ld prefixes them with the sysroot itself when the script lies inside it.
[ -f "$tmp/usr/lib/$triplet/pkgconfig/libcurl.pc" ] ||
	die "the sysroot has no libcurl.pc for $triplet: did a package fail to download?"

rm -rf "$tmp/var/cache/apt/archives"/*.deb "$tmp/var/lib/apt/lists" 2>/dev/null || true
printf '%s\n' "$stamp" >"$tmp/.dsa-sysroot"
rm -rf "$dir"
mv "$tmp" "$dir"
rm -f "$log"
trap - EXIT INT TERM
echo "$me: $dir ready in $(($(date +%s) - start)) s ($(du -sh "$dir" | cut -f1))"
