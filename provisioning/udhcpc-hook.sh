#!/bin/sh
# udhcpc-hook.sh - busybox udhcpc hook: hand the provisioning server URL from
# the DHCP lease to dialstack-agent.
#
# Run udhcpc so that it asks for the options, and call this script from the
# system's udhcpc script (or use it as the -s script when nothing else is
# needed; it then does nothing but this):
#     udhcpc -i eth0 -O 66 -O 160 -s /usr/share/dialstack-agent/udhcpc-hook.sh
# busybox exports option 66 (TFTP server name) as $tftp, and options it has no
# name for as $optNNN in hex: option 160 as $opt160 (and 66 as $opt66 on
# builds without the name). Option 160 wins over 66 (it is meant for
# provisioning URLs; 66 often names a TFTP server).
# The value goes, one line, to $DSA_PROV_URL_FILE (default
# /run/dialstack-agent/dhcp-prov-url), replaced atomically; the agent reads it
# before each fetch and uses it unless a --server or bootstrap file is given.
# Only printable values without spaces are written; the agent itself accepts
# only https:// URLs or bare host names (which become https://HOST/).

OUT=${DSA_PROV_URL_FILE:-/run/dialstack-agent/dhcp-prov-url}

# hex (as busybox prints unknown options) to text; empty if not hex
unhex() {
	case $1 in *[!0-9a-fA-F]*|'') return 0 ;; esac
	h=$1 s=
	while [ -n "$h" ]; do
		b=${h%"${h#??}"}; h=${h#??}
		[ ${#b} = 2 ] || return 0
		s="$s\\$(printf '%03o' "0x$b")"
	done
	# shellcheck disable=SC2059
	printf "$s"
}

valid() {
	[ -n "$1" ] && [ ${#1} -le 255 ] || return 1
	case $1 in *[!A-Za-z0-9:/._~%?#@!\$\&\'\(\)\*+,\;=\[\]-]*) return 1 ;; esac
	return 0
}

case "$1" in
bound|renew)
	url=
	[ -n "${opt160:-}" ] && url=$(unhex "$opt160")
	[ -z "$url" ] && [ -n "${tftp:-}" ] && url=$tftp
	[ -z "$url" ] && [ -n "${opt66:-}" ] && url=$(unhex "$opt66")
	# trailing NULs some servers send
	url=$(printf '%s' "$url" | tr -d '\000')
	if [ -z "$url" ]; then
		rm -f "$OUT"
	elif valid "$url"; then
		mkdir -p "$(dirname "$OUT")"
		printf '%s\n' "$url" >"$OUT.tmp.$$" && mv -f "$OUT.tmp.$$" "$OUT"
	else
		logger -t dialstack-agent "DHCP option 66/160 ignored: not a URL or host name" 2>/dev/null
	fi
	;;
esac
exit 0
