#!/bin/sh
# size-report.sh BINARY ARCH [STRIP [READELF]] - print the stripped size of
# BINARY (stripped as mkipk.sh strips it: --strip-unneeded, on a copy) and,
# for armhf, the budget: 204,800 bytes ($DSA_SIZE_BUDGET overrides). Exits 1
# when an armhf binary is over the budget, 0 otherwise. `make size-report`.
#
# Why the figure moves in 4 KiB steps: the read-only-after-relocation part
# (GNU_RELRO: .data.rel.ro, .got...) must end on a page boundary, so the
# linker pads the file between the code and the data to keep file offsets and
# addresses congruent modulo the page. Code that shrinks by a few hundred
# bytes usually changes nothing until it crosses a step; READELF (the target's
# readelf) lets this script say how far the steps up and down are.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 BINARY ARCH [STRIP [READELF]]" >&2; exit 2; }
bin=$1 arch=$2 strip=${3:-strip} readelf=${4:-readelf}
budget=${DSA_SIZE_BUDGET:-204800}
[ -f "$bin" ] || { echo "size-report: $bin is missing (run make first)" >&2; exit 2; }

tmp=$(mktemp "${TMPDIR:-/tmp}/dsa-size.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cp "$bin" "$tmp"
"$strip" --strip-unneeded "$tmp" ||
	{ echo "size-report: $strip failed on $bin (configure finds the target's strip; or give STRIP=<triplet>-strip)" >&2; exit 2; }
n=$(wc -c <"$tmp" | tr -d ' ')
group() { printf '%s' "$1" | sed ':a;s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/;ta'; }

# Bytes the code and read-only data can grow before the file grows by a page:
# the RX segment's end plus the RELRO size, up to the next 4 KiB boundary.
step=""
if command -v "$readelf" >/dev/null 2>&1; then
	step=$("$readelf" -lW "$tmp" 2>/dev/null | awk '
		function hex(s,  i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
			for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v }
		$1 == "LOAD" && !rx { rx = hex($5); next }
		$1 == "GNU_RELRO" { relro = hex($6) }
		END { if (rx) { u = rx + relro; k = int((u + 4095) / 4096); print k * 4096 - u, u - (k - 1) * 4096 } }' 2>/dev/null) || step=""
fi
extra=""
if [ -n "$step" ]; then
	up=${step% *} down=${step#* }
	extra="; code and read-only data can grow $(group "$up") bytes before the file grows by a 4 KiB step, and would save one if $(group "$down") smaller"
fi

if [ "$arch" = armhf ]; then
	if [ "$n" -le "$budget" ]; then
		echo "$arch stripped binary: $(group "$n") bytes (budget $(group "$budget"): $(group $((budget - n))) to spare$extra)"
	else
		echo "$arch stripped binary: $(group "$n") bytes: OVER the budget of $(group "$budget") by $(group $((n - budget)))$extra"
		echo "  (configure with --enable-small, as packaging/cross/cross-configure.sh does; docs/cross-build.md)"
		exit 1
	fi
else
	echo "$arch stripped binary: $(group "$n") bytes (the budget, $(group "$budget"), is armhf's)"
fi
