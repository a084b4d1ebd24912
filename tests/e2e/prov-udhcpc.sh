#!/bin/bash
# prov-udhcpc.sh - the shipped udhcpc hook with busybox's real udhcpc against
# a real dnsmasq in a private network namespace: options 66 and 160 end up in
# the file the agent reads; also the hook alone with hostile values.
set -u
# shellcheck source=../lib/tap.sh
source "$top_srcdir/tests/lib/tap.sh"
HOOK=$top_srcdir/provisioning/udhcpc-hook.sh
T=$(mktemp -d /tmp/prov-udhcpc.XXXXXX)
NS=dsa-prov-dhcp-$$
cleanup() {
	[ -s "$T/dnsmasq.pid" ] && kill "$(cat "$T/dnsmasq.pid")" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# The hook alone (no root needed): what busybox exports
export DSA_PROV_URL_FILE=$T/url
hook() { env -i PATH="$PATH" DSA_PROV_URL_FILE="$DSA_PROV_URL_FILE" "$@" sh "$HOOK" bound; }
hook tftp=prov.example.com
ok "option 66 (\$tftp) host name written" test "$(cat "$T/url")" = prov.example.com
hook tftp=prov.example.com opt160="$(printf 'https://p160.example/x/' | od -An -tx1 | tr -d ' \n')"
ok "option 160 (\$opt160, hex) wins over 66" test "$(cat "$T/url")" = https://p160.example/x/
hook opt66="$(printf 'https://p66.example/' | od -An -tx1 | tr -d ' \n')00"
ok "option 66 as hex (\$opt66) with a trailing NUL" test "$(cat "$T/url")" = https://p66.example/
hook tftp='https://a.example/ $(touch '"$T"'/pwned)'
ok "a value with spaces/shell syntax is ignored, the old URL stays" test "$(cat "$T/url")" = https://p66.example/
ok "... and nothing was executed" test ! -e "$T/pwned"
hook
ok "a lease without the options removes the file" test ! -e "$T/url"
ok "no temp file left" test -z "$(ls "$T" | grep tmp)"

# busybox udhcpc against dnsmasq over a veth pair in a namespace
if [ "$(id -u)" != 0 ] || ! command -v dnsmasq >/dev/null || ! command -v busybox >/dev/null ||
	! ip netns add "$NS" 2>/dev/null; then
	skip "real udhcpc + dnsmasq" "needs root, network namespaces, dnsmasq and busybox"
	done_testing
	exit
fi
ip -n "$NS" link add srv type veth peer name cli
ip -n "$NS" link set lo up
ip -n "$NS" addr add 192.0.2.1/24 dev srv
ip -n "$NS" link set srv up
ip -n "$NS" link set cli up
ip netns exec "$NS" dnsmasq --port=0 --interface=srv --bind-interfaces --dhcp-range=192.0.2.50,192.0.2.60,1h \
	--dhcp-option=66,prov66.example --dhcp-option=160,https://prov160.example:8443/p/ \
	--pid-file="$T/dnsmasq.pid" --dhcp-leasefile="$T/leases" --log-facility="$T/dnsmasq.log"
ip netns exec "$NS" timeout 20 busybox udhcpc -i cli -O 66 -O 160 -q -n -t 5 -T 1 -s "$HOOK" >"$T/udhcpc.log" 2>&1
ok "real udhcpc lease: option 160 URL handed to the agent" test "$(cat "$T/url" 2>/dev/null)" = https://prov160.example:8443/p/
kill "$(cat "$T/dnsmasq.pid")"; sleep 0.2
ip netns exec "$NS" dnsmasq --port=0 --interface=srv --bind-interfaces --dhcp-range=192.0.2.50,192.0.2.60,1h \
	--dhcp-option=66,prov66.example --pid-file="$T/dnsmasq.pid" --dhcp-leasefile="$T/leases2" --log-facility="$T/dnsmasq.log"
ip netns exec "$NS" timeout 20 busybox udhcpc -i cli -O 66 -O 160 -q -n -t 5 -T 1 -s "$HOOK" >>"$T/udhcpc.log" 2>&1
ok "real udhcpc lease: option 66 host name handed to the agent" test "$(cat "$T/url" 2>/dev/null)" = prov66.example
done_testing
