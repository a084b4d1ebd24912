# sip-lib.sh - helpers for the SIP end-to-end tests; source after tap.sh.
# Starts real Kamailio registrars on 127.0.0.1 (random free ports, temp dirs),
# captures loopback traffic with tcpdump, and cleans everything up on exit.

SIP_USER=100
SIP_PASS=s3cret-Pass
SIP_DOMAIN=dsa.test
SIP_MAC=00:11:22:aa:bb:cc
SIP_UUID=50dde26c-c1d4-5a44-976f-27d2e022e1c2   # name-based UUID of SIP_MAC
DRIVER="$top_builddir/tests/e2e/sip-driver"

T=$(mktemp -d /tmp/dsa-sip-e2e.XXXXXX)
_pids=""
cleanup() {
	local p
	for p in $_pids; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $_pids; do kill -9 "$p" 2>/dev/null; done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

need() { command -v "$1" >/dev/null 2>&1 || skip_all "$1 not installed"; }

# A free port (UDP and TCP, and port+1 for TLS) on 127.0.0.1.
free_port() {
	python3 - <<'PY'
import socket, random
for _ in range(200):
    p = random.randint(20000, 40000)
    ok = True
    for q in (p, p + 1):
        for t in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, t)
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            s.close()
    if ok:
        print(p)
        break
PY
}

make_certs() {
	[ -f "$T/ca.pem" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dsa test CA" \
		-keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1 || return 1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=sip-east.test" \
		-keyout "$T/srv.key" -out "$T/srv.csr" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=DNS:sip-east.test,DNS:sip-west.test\n' >"$T/ext.cnf"
	openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/ext.cnf" -out "$T/srv.pem" >/dev/null 2>&1 || return 1
	# a second, unrelated CA for the "wrong CA" case
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout "$T/other.key" -out "$T/other.pem" >/dev/null 2>&1
	printf '127.0.0.1 sip-east.test sip-west.test\n' >"$T/hosts"
}

# start_kam NAME PORT [NATPING_S]: a registrar on 127.0.0.1:PORT (TLS PORT+1).
start_kam() {
	local name=$1 port=$2 ping=${3:-0} d="$T/kam-$1" i
	mkdir -p "$d"
	make_certs || return 1
	cat >"$d/tls.cfg" <<EOF2
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $T/srv.key
certificate = $T/srv.pem
[client:default]
verify_certificate = no
EOF2
	sed -e "s|@IP@|127.0.0.1|g; s|@PORT@|$port|g; s|@TLSPORT@|$((port + 1))|g" \
	    -e "s|@RUNDIR@|$d|g; s|@CTL@|$d/ctl.sock|g; s|@TLSCFG@|$d/tls.cfg|g" \
	    -e "s|@NAME@|$name|g; s|@USER@|$SIP_USER|g; s|@PASS@|$SIP_PASS|g" \
	    -e "s|@DOMAIN@|$SIP_DOMAIN|g; s|@NATPING@|$ping|g" \
	    "$top_srcdir/tests/e2e/sip-kamailio.cfg.in" >"$d/kamailio.cfg"
	kamailio -DD -E -m 64 -M 8 -f "$d/kamailio.cfg" -P "$d/pid" -w "$d" >"$d/log" 2>&1 &
	eval "KAM_PID_$name=$!"
	_pids="$_pids $!"
	for i in $(seq 1 50); do
		[ -S "$d/ctl.sock" ] && kamcmd -s "unix:$d/ctl.sock" core.uptime >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "# kamailio $name did not start:"; sed 's/^/#   /' "$d/log" | tail -20
	return 1
}

stop_kam() {
	local pid
	eval "pid=\${KAM_PID_$1:-}"
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	rm -f "$T/kam-$1/ctl.sock"
	eval "KAM_PID_$1="
}

# ul_dump NAME: the registrar's location table.
ul_dump() { kamcmd -s "unix:$T/kam-$1/ctl.sock" ul.dump 2>/dev/null; }

# has_binding NAME: our instance id holds a binding there.
has_binding() { ul_dump "$1" | grep -q "$SIP_UUID"; }

# capture_start NAME FILTER / capture_stop NAME: tcpdump on lo into $T/NAME.pcap
capture_start() {
	tcpdump -i lo -U --immediate-mode -n -s 0 -w "$T/$1.pcap" "$2" >"$T/$1.tcpdump.log" 2>&1 &
	eval "CAP_PID_$1=$!"
	_pids="$_pids $!"
	for _ in $(seq 1 30); do grep -q "listening" "$T/$1.tcpdump.log" && break; sleep 0.1; done
}
capture_stop() {
	local pid
	eval "pid=\$CAP_PID_$1"
	sleep 0.3
	kill -TERM "$pid" 2>/dev/null    # (SIGINT is ignored by background jobs)
	wait "$pid" 2>/dev/null
}
# count PCAP DISPLAYFILTER: packets matching
count() { tshark -r "$T/$1.pcap" -Y "$2" 2>/dev/null | wc -l; }
# count_txns PCAP DISPLAYFILTER: distinct client transactions (Via branch) among the matching
# requests: a retransmission (the peer slow to answer on a loaded machine) is not a new attempt
count_txns() { tshark -r "$T/$1.pcap" -Y "$2" -T fields -e sip.Via.branch 2>/dev/null | sort -u | grep -c .; }

# wait_status FILE REGEX SECONDS: poll the driver's status file.
wait_status() {
	local i n=$(($3 * 10))
	for i in $(seq 1 $n); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_reg FILE REGION SECONDS: registered on REGION per the driver's status.
wait_reg() {
	local i s n=$(($3 * 10))
	for i in $(seq 1 $n); do
		s=$(cat "$1" 2>/dev/null)    # one snapshot (the driver renames a new file in)
		grep -q '^state=registered$' <<<"$s" && grep -q "^region=$2\$" <<<"$s" && return 0
		sleep 0.1
	done
	return 1
}

# driver_bg ARGS...: the same in the background; D gets its pid.
driver_bg() {
	"$DRIVER" --user "$SIP_USER" --password "$SIP_PASS" --domain "$SIP_DOMAIN" --mac "$SIP_MAC" "$@" &
	D=$!
	_pids="$_pids $D"
}

# driver ARGS...: the driver with the test account; extra args appended.
driver() {
	"$DRIVER" --user "$SIP_USER" --password "$SIP_PASS" --domain "$SIP_DOMAIN" --mac "$SIP_MAC" "$@"
}
