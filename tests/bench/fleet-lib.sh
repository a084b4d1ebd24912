# fleet-lib.sh - pieces of the fleet benchmark (sourced by fleet-bench).
# Needs: S (source dir), B (build dir), T (scratch dir), KP (registrar port).
# Only loopback addresses: the registrar on 127.0.0.1, agent i on 127.1.x.y,
# baresip i on 127.2.x.y (each phone its own address, as at a registrar).

BENCH_DOMAIN=bench.test
KADDR=${KADDR:-127.0.0.1}          # the registrar's and the provisioning server's address
BS_PORT=${BS_PORT:-5060}           # baresip's SIP port on its own address
BENCH_PASS=bench-secret
A="$B/agent/dialstack-agent"

# addr KIND I: the loopback address of agent (1) or baresip (2) number I (1-based).
addr() { echo "127.$1.$(( $2 / 250 )).$(( $2 % 250 + 1 ))"; }

# now_s: wall clock, seconds with ns.
now_s() { date +%s.%N; }

# kam_start [CHILDREN]: the registrar (fresh location table).
kam_start() {
	local d="$T/kam"
	mkdir -p "$d"
	sed -e "s|@ADDR@|$KADDR|g; s|@PORT@|$KP|g; s|@RUNDIR@|$d|g; s|@CTL@|$d/ctl.sock|g" \
	    -e "s|@DOMAIN@|$BENCH_DOMAIN|g; s|@PASS@|$BENCH_PASS|g; s|@CHILDREN@|${1:-4}|g" \
	    "$S/tests/bench/kamailio-bench.cfg.in" >"$d/kamailio.cfg"
	kamailio -f "$d/kamailio.cfg" -DD -E -P "$d/pid" -m 128 >>"$d/log" 2>&1 &
	KAM_PID=$!
	local i
	for i in $(seq 1 100); do
		kamcmd -s "unix:$d/ctl.sock" core.version >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "fleet-bench: kamailio did not start (see $d/log)" >&2
	return 1
}

kam_stop() {
	[ -n "${KAM_PID:-}" ] || return 0
	kill "$KAM_PID" 2>/dev/null
	local i
	for i in $(seq 1 100); do kill -0 "$KAM_PID" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$KAM_PID" 2>/dev/null
	wait "$KAM_PID" 2>/dev/null
	KAM_PID=
}

# kam_users: how many users hold a binding now.
kam_users() {
	kamcmd -s "unix:$T/kam/ctl.sock" stats.get_statistics registered_users 2>/dev/null |
		awk -F'= ' '/registered_users/ {print $2; exit}'
}

# wait_users N MAX_S: until N users are registered (bounded); prints the seconds waited.
wait_users() {
	local n=$1 max=$2 t0 i u
	t0=$(now_s)
	for i in $(seq 1 $(( max * 10 ))); do
		u=$(kam_users)
		[ "${u:-0}" -ge "$n" ] && break
		sleep 0.1
	done
	awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }'
}

# cfg_xml I KEEPALIVE BOOT: the stored config of agent I.
cfg_xml() {
	cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<dialstack version="1">
  <account user="u$1" password="$BENCH_PASS" domain="$BENCH_DOMAIN"/>
  <registration expires="600"/>
  <registrars><registrar name="east" host="$KADDR" port="$KP" transport="udp"/></registrars>
  <network keepalive="$2"/>
  <provisioning boot-delay="${BOOT_DELAY:-30}"/>
  <selftest boot="$3"/>
</dialstack>
EOF
}

# bundle FILE < XML: the store's last-known-good format (provisioning/store.c).
bundle() {
	python3 -c '
import sys
body = sys.stdin.buffer.read()
h = 0xcbf29ce484222325
for c in body:
    h ^= c
    h = (h * 0x100000001b3) & 0xffffffffffffffff
head = b"DSA-BUNDLE 1\ncommon %d -\nmac 0 -\nsum %016x\n\n" % (len(body), h)
open(sys.argv[1], "wb").write(head + body)' "$1"
}

# agent_setup I KEEPALIVE BOOT SERVER: folders, bootstrap and stored config of agent I.
agent_setup() {
	local i=$1 d="$T/a$1"
	mkdir -p "$d/run" "$d/state"
	chmod 700 "$d/state"
	cat >"$d/bootstrap.conf" <<EOF
server = $4
ca = $T/pki/ca.crt
cert = $d/none.crt
key = $d/none.key
interface = lo
mac = 02:00:5e:$(printf '%02x:%02x:%02x' $(( i >> 16 & 255 )) $(( i >> 8 & 255 )) $(( i & 255 )))
model = bench
boot-delay = ${BOOT_DELAY:-30}
EOF
	cfg_xml "$i" "$2" "$3" | bundle "$d/state/lkg.bundle"
}

# agent_start I: start agent I in the background (pid in APID[I]).
agent_start() {
	local d="$T/a$1"
	DIALSTACK_RUNDIR="$d/run" DIALSTACK_STATEDIR="$d/state" LD_PRELOAD="$T/srcaddr.so" \
		BENCH_SRC="$(addr 1 "$1")" "$A" run -f -l "${AGENT_LOG:-error}" -c "$d/bootstrap.conf" \
		</dev/null >>"$d/log" 2>&1 &
	APID[$1]=$!
}

# bs_setup I KEEPALIVE: a baresip folder for phone I (one account, no audio).
bs_setup() {
	local d="$T/b$1"
	mkdir -p "$d"
	cat >"$d/config" <<EOF
poll_method		epoll
sip_listen		$(addr 2 "$1"):$BS_PORT
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module_tmp		uuid.so
module_tmp		account.so
audio_player		none
audio_source		ausine,440
audio_alert		none
EOF
	echo "<sip:b$1@$BENCH_DOMAIN>;auth_pass=$BENCH_PASS;outbound=\"sip:$KADDR:$KP\";regint=600;sipnat=outbound" >"$d/accounts"
	: >"$d/contacts"
}

# bs_start I: start baresip I in the background (pid in BPID[I]).
bs_start() {
	local d="$T/b$1"
	baresip -f "$d" </dev/null >>"$d/log" 2>&1 &
	BPID[$1]=$!
}

# pki: a CA and a server certificate for nginx on $KADDR.
pki() {
	local p="$T/pki"
	mkdir -p "$p"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca \
		-keyout "$p/ca.key" -out "$p/ca.crt" >/dev/null 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=$KADDR -keyout "$p/srv.key" \
		-out "$p/srv.csr" >/dev/null 2>&1 &&
	printf 'subjectAltName=IP:%s\n' "$KADDR" >"$p/ext" &&
	openssl x509 -req -in "$p/srv.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
		-days 2 -extfile "$p/ext" -out "$p/srv.crt" >/dev/null 2>&1
}

# nginx_start: HTTPS on $KADDR:$NP serving $T/www, PUT allowed under status/.
nginx_start() {
	local d="$T/nginx"
	mkdir -p "$d/tmp" "$T/www/status"
	chmod 0777 "$d/tmp" "$T/www/status"
	cat >"$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 4096; }
http {
	log_format bench '\$msec \$remote_addr "\$request_method \$request_uri" \$status';
	access_log $d/access.log bench;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	server {
		listen $KADDR:$NP ssl;
		ssl_certificate $T/pki/srv.crt;
		ssl_certificate_key $T/pki/srv.key;
		root $T/www;
		location /status/ {
			dav_methods PUT;
			create_full_put_path on;
			client_max_body_size 1m;
		}
	}
}
EOF
	nginx -c "$d/nginx.conf" -e "$d/error.log" 2>>"$d/error.log"
}

nginx_stop() {
	[ -f "$T/nginx/nginx.pid" ] && kill "$(cat "$T/nginx/nginx.pid")" 2>/dev/null
	local i
	for i in $(seq 1 50); do [ -f "$T/nginx/nginx.pid" ] || break; sleep 0.1; done
}
