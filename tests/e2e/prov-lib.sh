# prov-lib.sh - a real nginx with mutual TLS on 127.0.0.1 for the provisioning
# e2e tests; source it. Everything lives in $PT (a temp dir) and is removed,
# nginx killed, by prov_cleanup (installed as an EXIT trap by prov_setup).
#   prov_setup          PKI + nginx; sets PORT (mTLS), FPORT (foreign-CA server),
#                       NPORT (certificate valid from 2099), HPORT (plain HTTP), WWW, CA, CERT, KEY, FCERT, FKEY
#   prov_nginx_stop / prov_nginx_start

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mkcert() { # name cn ca-prefix [san]
	local n=$1 cn=$2 ca=$3 san=${4:-}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PT/$n.key" -out "$PT/$n.csr" -subj "/CN=$cn" 2>/dev/null || return 1
	if [ -n "$san" ]; then
		printf 'subjectAltName=%s\n' "$san" >"$PT/$n.ext"
	else
		printf 'extendedKeyUsage=clientAuth\n' >"$PT/$n.ext"
	fi
	openssl x509 -req -in "$PT/$n.csr" -CA "$PT/$ca.crt" -CAkey "$PT/$ca.key" -CAcreateserial \
		-days 30 -extfile "$PT/$n.ext" -out "$PT/$n.crt" 2>/dev/null
}

# a server certificate of CA "ca" valid only from 2099: what a phone whose
# clock is not set (1970) sees for every certificate
mkcert_future() { # name
	local n=$1
	mkdir -p "$PT/cadb" && : >"$PT/cadb/index.txt" && echo 1000 >"$PT/cadb/serial"
	cat >"$PT/ca.cnf" <<CNF
[ca]
default_ca = c
[c]
dir = $PT/cadb
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
certificate = $PT/ca.crt
private_key = $PT/ca.key
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
CNF
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PT/$n.key" \
		-out "$PT/$n.csr" -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null &&
	openssl ca -batch -config "$PT/ca.cnf" -in "$PT/$n.csr" -out "$PT/$n.crt" \
		-startdate 20990101000000Z -enddate 20991231000000Z >/dev/null 2>&1
}

mkca() { # name cn
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PT/$1.key" -out "$PT/$1.crt" -subj "/CN=$2" -days 30 2>/dev/null
}

prov_cleanup() {
	prov_nginx_stop
	[ -n "${PT:-}" ] && rm -rf "$PT"
}

prov_nginx_stop() {
	if [ -s "$PT/nginx.pid" ]; then
		kill "$(cat "$PT/nginx.pid")" 2>/dev/null
		for _ in $(seq 50); do [ -e "$PT/nginx.pid" ] || break; sleep 0.1; done
	fi
	rm -f "$PT/nginx.pid"
}

prov_nginx_start() {
	nginx -p "$PT" -c "$PT/nginx.conf" -e "$PT/error.log" 2>>"$PT/error.log" || return 1
	for _ in $(seq 50); do
		[ -s "$PT/nginx.pid" ] && python3 - "$PORT" <<'PY' && return 0
import socket, sys
s = socket.socket(); s.settimeout(0.2)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
		sleep 0.1
	done
	return 1
}

prov_setup() {
	command -v nginx >/dev/null || skip_all "nginx not installed"
	command -v openssl >/dev/null || skip_all "openssl not installed"
	command -v python3 >/dev/null || skip_all "python3 not installed"
	PT=$(mktemp -d /tmp/prov-e2e.XXXXXX)
	trap prov_cleanup EXIT
	chmod 755 "$PT"
	mkca ca "Test Prov CA" && mkca fca "Foreign CA" || return 1
	mkcert srv localhost ca "DNS:localhost,DNS:prov.fetch.test,IP:127.0.0.1" || return 1
	mkcert fsrv localhost fca "DNS:localhost,IP:127.0.0.1" || return 1
	mkcert device 02005e100001 ca || return 1
	mkcert fdevice 02005e100001 fca || return 1
	mkcert_future nyv || return 1
	CA=$PT/ca.crt CERT=$PT/device.crt KEY=$PT/device.key FCERT=$PT/fdevice.crt FKEY=$PT/fdevice.key
	WWW=$PT/www
	mkdir -p "$WWW/status" "$PT/tmp" "$PT/logs"
	chmod -R 777 "$WWW" "$PT/tmp"
	PORT=$(free_port) FPORT=$(free_port) HPORT=$(free_port) NPORT=$(free_port)
	local user=""
	[ "$(id -u)" = 0 ] && user="user root root;"
	cat >"$PT/nginx.conf" <<NGX
$user
worker_processes 1;
pid $PT/nginx.pid;
error_log $PT/error.log info;
events { worker_connections 64; }
http {
	access_log $PT/access.log;
	client_body_temp_path $PT/tmp/body;
	proxy_temp_path $PT/tmp/proxy;
	fastcgi_temp_path $PT/tmp/fastcgi;
	uwsgi_temp_path $PT/tmp/uwsgi;
	scgi_temp_path $PT/tmp/scgi;
	default_type application/xml;
	server {
		listen 127.0.0.1:$PORT ssl;
		server_name localhost;
		ssl_certificate $PT/srv.crt;
		ssl_certificate_key $PT/srv.key;
		ssl_client_certificate $PT/ca.crt;
		ssl_verify_client on;
		root $WWW;
		location /status/ {
			dav_methods PUT;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
		}
		location = /redirect-http { return 302 http://127.0.0.1:$HPORT/dialstack.xml; }
		location = /redirect-https { return 302 https://localhost:$PORT/dialstack.xml; }
	}
	server {
		listen 127.0.0.1:$FPORT ssl;
		server_name localhost;
		ssl_certificate $PT/fsrv.crt;
		ssl_certificate_key $PT/fsrv.key;
		root $WWW;
	}
	server {
		listen 127.0.0.1:$NPORT ssl;
		server_name localhost;
		ssl_certificate $PT/nyv.crt;
		ssl_certificate_key $PT/nyv.key;
		root $WWW;
	}
	server {
		listen 127.0.0.1:$HPORT;
		access_log $PT/http-access.log;
		root $WWW;
	}
}
NGX
	prov_nginx_start
}
