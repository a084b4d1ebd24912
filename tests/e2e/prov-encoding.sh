#!/bin/bash
# prov-encoding.sh - one way to read a file's format: the per-MAC config file
# with a UTF-8 BOM, with CRLF line ends, and in UTF-16 (and UTF-32), fetched
# over mutual TLS from a real nginx by the provisioning controller (prov_drv
# run, the daemon's fetch path), and checked with `dialstack-agent
# check-config` on the very bytes the server served: both accept the BOM and
# CRLF files, both refuse UTF-16/UTF-32 naming the encoding and the fix.
set -u
# shellcheck source=../lib/tap.sh
source "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=prov-lib.sh
source "$top_srcdir/tests/e2e/prov-lib.sh"
DRV=$top_builddir/tests/e2e/prov_drv
AGENT=$top_builddir/agent/dialstack-agent

prov_setup || { echo "1..0 # SKIP nginx test server did not start: $(tail -3 "$PT/error.log" 2>/dev/null)"; exit 0; }
MACF=dialstack-02005e100001.xml
cp "$top_srcdir/tests/lab/prov/dialstack.xml" "$WWW/"
chmod 644 "$WWW"/*.xml

run() { env PROV_SERVER="https://localhost:$PORT/" PROV_STATE="$PT/state-$1" PROV_CA="$CA" PROV_CERT="$CERT" \
	PROV_KEY="$KEY" PROV_BOUND=20000 PROV_BOOT_DELAY=0 PROV_ANSWER=confirm PROV_EXIT_ON=config,failed "$DRV" run; }

# variant NAME: write the lab's per-MAC file re-encoded as NAME into $WWW/$MACF
variant() {
	python3 - "$top_srcdir/tests/lab/prov/$MACF" "$WWW/$MACF" "$1" <<'PY'
import sys
src, dst, kind = sys.argv[1:]
text = open(src, encoding='utf-8').read()
if 'crlf' in kind:
    text = text.replace('\n', '\r\n')
enc = {'bom': 'utf-8-sig', 'crlf': 'utf-8', 'bom-crlf': 'utf-8-sig', 'utf16le-bom': 'utf-16',
       'utf16be': 'utf-16-be', 'utf16le-bom-crlf': 'utf-16', 'utf32-bom': 'utf-32'}[kind]
data = text.encode(enc)
open(dst, 'wb').write(data)
PY
	chmod 644 "$WWW/$MACF"
}

for v in bom crlf bom-crlf utf16le-bom utf16be utf16le-bom-crlf utf32-bom; do
	variant "$v"
	fetched=$(run "$v" 2>&1)
	checked=$("$AGENT" check-config "$WWW/$MACF" 2>&1); rc=$?
	case $v in
	bom|crlf|bom-crlf)
		ok "$v: the controller fetched and applied it" grep -q "event=config src=server" <<<"$fetched"
		ok "$v: check-config says OK (exit $rc)" test "$rc" = 0 -a "$checked" = OK
		;;
	utf16*|utf32*)
		want="UTF-${v:3:2} is not supported: save the file as UTF-8"
		ok "$v: the controller refused it: $want" grep -q "event=failed.*$want" <<<"$fetched"
		ok "$v: nothing applied" bash -c "! grep -q 'src=server' <<<'$fetched'"
		ok "$v: check-config refuses it (exit $rc) with the same words" grep -q "$want" <<<"$checked"
		ok "$v: ... not the bootstrap-file message" bash -c "[ $rc = 1 ] && ! grep -qi bootstrap <<<'$checked'"
		;;
	esac
	# the server served exactly the bytes check-config read
	ok "$v: nginx served the file (200)" grep -q "GET /$MACF HTTP/[0-9.]*\" 200 $(stat -c %s "$WWW/$MACF") " "$PT/access.log"
done
done_testing
