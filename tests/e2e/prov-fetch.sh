#!/bin/bash
# prov-fetch.sh - provisioning/fetch against a real nginx with mutual TLS:
# fetch, ETag/304, refused client certs, foreign CA, HTTP and redirects to
# HTTP refused (and never sent), size cap, PUT landing as a file, key pins.
set -u
# shellcheck source=../lib/tap.sh
source "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=prov-lib.sh
source "$top_srcdir/tests/e2e/prov-lib.sh"
DRV=$top_builddir/tests/e2e/prov_drv

prov_setup || { echo "1..0 # SKIP nginx test server did not start: $(tail -3 "$PT/error.log" 2>/dev/null)"; exit 0; }
BASE=https://localhost:$PORT

cp "$top_srcdir/tests/lab/prov/dialstack.xml" "$WWW/dialstack.xml"
head -c 300000 /dev/zero | tr '\0' ' ' >"$WWW/big.xml"
chmod 644 "$WWW"/*.xml

drv() { env PROV_CA="$CA" PROV_CERT="$CERT" PROV_KEY="$KEY" "$@"; }
field() { sed -n "s/^$1=//p" <<<"$OUT"; }
expect() { # name key value
	local got; got=$(field "$2")
	if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "$2: expected '$3', got '$got'; output: $OUT"; fi
}

# 1. mutual TLS fetch
OUT=$(drv PROV_DRV_BODY="$PT/got.xml" "$DRV" get "$BASE/dialstack.xml")
expect "mTLS GET answers 200" status 200
ok "body is the server's file byte for byte" cmp -s "$PT/got.xml" "$WWW/dialstack.xml"
ETAG=$(field etag)
ok "ETag received" test -n "$ETAG"
ok "server saw the User-Agent with version, model and MAC" \
	grep -q '"dialstack-agent/[0-9.]* (lab-phone; 02:00:5e:10:00:01)"' "$PT/access.log"

# 2. If-None-Match -> 304
OUT=$(drv "$DRV" get "$BASE/dialstack.xml" "$ETAG")
expect "same ETag answers 304 (not modified)" result not-modified
touch -d '2001-01-01' "$WWW/dialstack.xml"
OUT=$(drv "$DRV" get "$BASE/dialstack.xml" "$ETAG")
expect "changed file answers 200 again" status 200

# 3. client certificates
OUT=$(env PROV_CA="$CA" "$DRV" get "$BASE/dialstack.xml")
expect "no client certificate: refused by the server" err client-cert
ok "... message names the cause" grep -q "client certificate refused by the server (HTTP 400)" <<<"$OUT"
OUT=$(env PROV_CA="$CA" PROV_CERT="$FCERT" PROV_KEY="$FKEY" "$DRV" get "$BASE/dialstack.xml")
expect "client certificate from another CA: refused" err client-cert

# 4. server certificate from another CA
OUT=$(drv "$DRV" get "https://localhost:$FPORT/dialstack.xml")
expect "server certificate from a foreign CA: not trusted" err tls-trust
ok "... message names the issuer" grep -q "not trusted (issuer .*Foreign CA)" <<<"$OUT"

# 4b. a certificate "not yet valid" is what a phone with an unset clock sees
OUT=$(drv "$DRV" get "https://localhost:$NPORT/dialstack.xml")
expect "certificate not yet valid: named as the clock problem" err clock
ok "... message says the clock is not set" grep -q "clock not set: cannot verify the server's certificate" <<<"$OUT"

# 5. HTTP and redirects to HTTP are refused and never sent
OUT=$(drv "$DRV" get "http://127.0.0.1:$HPORT/dialstack.xml")
expect "http:// URL refused" err https-only
ok "... message says HTTPS only" grep -q "HTTP URL refused: HTTPS only" <<<"$OUT"
OUT=$(drv "$DRV" get "$BASE/redirect-http")
expect "redirect to http:// refused" err redirect
ok "... message says so" grep -q "redirect to non-HTTPS refused" <<<"$OUT"
ok "the plain-HTTP server never got a request" test ! -s "$PT/http-access.log"
OUT=$(drv "$DRV" get "$BASE/redirect-https")
expect "redirect to https:// followed" status 200

# 6. size cap
OUT=$(drv "$DRV" get "$BASE/big.xml")
expect "300 kB file over the 256 KiB cap refused" err too-big
ok "... message gives the limit" grep -q "config larger than 262144 bytes" <<<"$OUT"
OUT=$(drv PROV_MAX=1000000 "$DRV" get "$BASE/big.xml")
expect "same file under a larger cap accepted" status 200

# 7. PUT lands as a file
printf '<status>one</status>\n' >"$PT/s1.xml"
OUT=$(drv "$DRV" put "$BASE/status/02005e100001/status.xml" "$PT/s1.xml")
expect "PUT of a new status answers 201" status 201
ok "the file is on the server" cmp -s "$PT/s1.xml" "$WWW/status/02005e100001/status.xml"
printf '<status>two</status>\n' >"$PT/s2.xml"
OUT=$(drv "$DRV" put "$BASE/status/02005e100001/status.xml" "$PT/s2.xml")
expect "PUT over it answers 204" status 204
ok "the server holds the new content" cmp -s "$PT/s2.xml" "$WWW/status/02005e100001/status.xml"

# 8. 404, refused connection, key pin
OUT=$(drv "$DRV" get "$BASE/dialstack-000000000000.xml")
expect "missing file is reported as not found" result not-found
OUT=$(drv "$DRV" get "https://localhost:$(free_port)/dialstack.xml")
expect "closed port: connection refused" err connect
ok "... message says connection refused" grep -q "connection refused by localhost" <<<"$OUT"
PIN=sha256//$(openssl x509 -in "$PT/srv.crt" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
OUT=$(drv PROV_PIN="$PIN" "$DRV" get "$BASE/dialstack.xml")
expect "matching public-key pin accepted" status 200
FPIN=sha256//$(openssl x509 -in "$PT/fsrv.crt" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
OUT=$(drv PROV_PIN="$FPIN" "$DRV" get "$BASE/dialstack.xml")
expect "other public-key pin refused" err tls-trust

# 9. the agent's one resolver (common/resolv) finds the server, libcurl is given its
# addresses: a name only that resolver knows (its hosts file, DSA_HOSTS; no name server)
printf '127.0.0.1 prov.fetch.test\n' >"$PT/hosts"
: >"$PT/resolv.conf"
n0=$(wc -l <"$PT/access.log")
OUT=$(drv DSA_HOSTS="$PT/hosts" DSA_RESOLV_CONF="$PT/resolv.conf" "$DRV" get "https://prov.fetch.test:$PORT/dialstack.xml")
expect "a name only the agent's resolver knows: fetched at the address it gave" status 200
ok "... the server logged one more request" [ "$(wc -l <"$PT/access.log")" -gt "$n0" ]
OUT=$(drv DSA_HOSTS="$PT/hosts" DSA_RESOLV_CONF="$PT/resolv.conf" "$DRV" get "https://nowhere.fetch.test:$PORT/dialstack.xml")
expect "a name nobody knows: a resolver error" err resolve
ok "... message names the name and the cause" grep -q "cannot resolve nowhere.fetch.test: " <<<"$OUT"

# the plain-HTTP server does log what reaches it (so the check above can fail)
python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "http://127.0.0.1:$HPORT/dialstack.xml"
ok "control: a request to the plain-HTTP server is logged" test -s "$PT/http-access.log"

done_testing
