#!/bin/sh
# voice-dhcp.sh - udhcpc event script for the phone's voice VLAN (<if>.<vid>).
# dialstack-agent runs: udhcpc -i eth0.100 -n -q -s voice-dhcp.sh ...
# On a lease the VLAN becomes the phone's way out: its address is set and the
# default route moves to the voice gateway, so SIP and RTP leave tagged with
# the VLAN's 802.1p priority. The data network's default route is saved in
# $DSA_ROUTE_SAVE first so the agent can put it back if the VLAN goes away.
# POSIX sh (busybox ash); the lease comes in udhcpc's environment.
# shellcheck disable=SC2154 # $interface, $ip, $mask, $router, $dns come from udhcpc
[ -n "$1" ] || exit 1
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface" 2>/dev/null
	ip link set "$interface" up
	;;
bound | renew)
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface" || exit 1
	for r in $router; do
		if [ -n "${DSA_ROUTE_SAVE:-}" ] && [ ! -s "$DSA_ROUTE_SAVE" ]; then
			ip -4 route show default | grep -v "dev $interface" | head -n 1 >"$DSA_ROUTE_SAVE.tmp" &&
				mv "$DSA_ROUTE_SAVE.tmp" "$DSA_ROUTE_SAVE"
		fi
		ip route replace default via "$r" dev "$interface" || exit 1
		break
	done
	;;
leasefail | nak)
	exit 1
	;;
esac
exit 0
