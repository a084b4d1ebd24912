#!/usr/bin/env python3
"""Small network clients for checking the dialstack-agent test lab (standard library only).

Run inside a lab namespace (`tests/lab/lab exec-phone python3 tests/lab/labtool.py ...`).
Every command prints one JSON object on stdout and is bounded in packets and time.

  udp-probe HOST PORT     datagrams to the lab's reflector; loss, TOS seen, RTT, jitter
  ttl-probe HOST PORT     UDP with TTL 1..N, IP_RECVERR: who answers at each hop
  sip-echo HOST PORT      OPTIONS with the echo header from the socket it advertises;
                          decodes the base64 copy of the request the registrar received
  sip-register HOST PORT  REGISTER with digest (MD5, qop=auth) over udp, tcp or tls
  stun HOST PORT          RFC 5389/5780 binding request (optionally CHANGE-REQUEST)
  fuzz HOST PORT          garbage datagrams to the reflector, then a normal probe
  udp-late HOST PORT      one request to the reflector asking for a reply after D ms;
                          reports whether the reply arrived (NAT mapping lifetime)
"""
import argparse
import base64
import hashlib
import json
import os
import re
import select
import socket
import ssl
import struct
import sys
import time

REFLECTOR_HDR = 32


def fam(host):
    """The address family of a literal address (IPv6 when it has a colon)."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def hp(addr):
    """ip:port of a socket address, [ip]:port for IPv6."""
    return ("[%s]:%d" if ":" in addr[0] else "%s:%d") % (addr[0], addr[1])


def out(obj):
    json.dump(obj, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


# ---------------------------------------------------------------- reflector probes
def parse_reflection(data):
    if len(data) < REFLECTOR_HDR or data[:4] != b"DSAR":
        return None
    (_magic, ver, tos, flags, _r, oport, _r2, delay_us, rx_ns, tx_ns) = struct.unpack(
        "!4sBBBBHHIQQ", data[:REFLECTOR_HDR])
    return {"version": ver, "tos": tos if flags & 1 else None, "dscp": tos >> 2 if flags & 1 else None,
            "orig_port": oport if flags & 4 else None, "delay_us": delay_us, "rx_ns": rx_ns,
            "tx_ns": tx_ns, "payload": data[REFLECTOR_HDR:]}


def cmd_udp_probe(a):
    s = socket.socket(fam(a.host), socket.SOCK_DGRAM)
    if a.tos is not None and fam(a.host) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, a.tos)
    elif a.tos is not None:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, a.tos)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((a.host, a.port))
    s.setblocking(False)
    sent_at = {}
    got = {}
    tos_seen = {}
    ports_seen = set()
    errors = 0
    interval = a.interval_ms / 1000.0
    deadline_send = time.monotonic() + a.count * interval + 5
    seq = 0
    next_send = time.monotonic()

    def drain():
        nonlocal errors
        while True:
            try:
                data = s.recv(4096)
            except BlockingIOError:
                return
            except ConnectionRefusedError:
                errors += 1
                continue
            r = parse_reflection(data)
            if not r or len(r["payload"]) < 8:
                continue
            pl = r["payload"]
            if pl[:4] == b"DSAD":
                pl = pl[8:]
            if len(pl) < 8:
                continue
            (sq,) = struct.unpack("!I", pl[4:8])
            if sq in sent_at and sq not in got:
                got[sq] = (time.monotonic() - sent_at[sq], r)
                tos_seen[str(r["dscp"])] = tos_seen.get(str(r["dscp"]), 0) + 1
                if r["orig_port"] is not None:
                    ports_seen.add(r["orig_port"])

    while seq < a.count and time.monotonic() < deadline_send:
        now = time.monotonic()
        if now >= next_send:
            body = b"DSAP" + struct.pack("!I", seq) + b"\0" * max(0, a.size - 8)
            if a.delay_ms is not None:
                body = b"DSAD" + struct.pack("!I", a.delay_ms) + body
            sent_at[seq] = time.monotonic()
            try:
                s.send(body)
            except OSError:
                errors += 1
            seq += 1
            next_send += interval
        drain()
        wait = max(0.0, next_send - time.monotonic())
        select.select([s], [], [], min(wait, 0.05))
    end = time.monotonic() + a.timeout
    while len(got) < len(sent_at) and time.monotonic() < end:
        select.select([s], [], [], 0.05)
        drain()
    rtts = sorted(v[0] * 1000 for v in got.values())
    # RFC 3550 interarrival jitter on the reflector's receive times vs our send times
    jitter = 0.0
    prev = None
    for sq in sorted(got):
        transit = got[sq][1]["rx_ns"] / 1e6 - sent_at[sq] * 1000
        if prev is not None:
            d = abs(transit - prev)
            jitter += (d - jitter) / 16
        prev = transit
    rtt_jitter = 0.0
    prev = None
    for sq in sorted(got):
        r = got[sq][0] * 1000
        if prev is not None:
            rtt_jitter += (abs(r - prev) - rtt_jitter) / 16
        prev = r
    excess = sorted(v[0] * 1000 - v[1]["delay_us"] / 1000 for v in got.values())
    n = len(sent_at)
    out({"excess_ms": {"min": round(excess[0], 2), "median": round(excess[len(excess) // 2], 2),
                       "max": round(excess[-1], 2)} if excess else None,
         "sent": n, "received": len(got), "loss_pct": round(100.0 * (n - len(got)) / n, 2) if n else None,
         "dscp_seen": tos_seen, "orig_ports": sorted(ports_seen), "errors": errors,
         "rtt_ms": {"min": round(rtts[0], 2), "avg": round(sum(rtts) / len(rtts), 2),
                    "max": round(rtts[-1], 2)} if rtts else None,
         "rtt_jitter_ms": round(rtt_jitter, 2),
         "delays_ms": sorted({round(v[1]["delay_us"] / 1000) for v in got.values()})})


def cmd_udp_late(a):
    s = socket.socket(fam(a.host), socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    s.send(b"DSAD" + struct.pack("!I", a.delay_ms) + b"DSAP" + struct.pack("!I", 1))
    t0 = time.monotonic()
    s.settimeout(a.delay_ms / 1000.0 + a.grace)
    try:
        data = s.recv(4096)
        r = parse_reflection(data)
        out({"reply": True, "after_ms": round((time.monotonic() - t0) * 1000), "valid": r is not None,
             "local": hp(s.getsockname())})
    except (socket.timeout, ConnectionRefusedError) as e:
        out({"reply": False, "error": type(e).__name__, "local": hp(s.getsockname())})


def cmd_ttl_probe(a):
    IP_RECVERR = 11
    hops = []
    for ttl in range(1, a.max_ttl + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        s.connect((a.host, a.port))
        s.send(b"DSA-TTL-PROBE")
        hop = {"ttl": ttl, "from": None, "kind": "none"}
        end = time.monotonic() + a.timeout
        while time.monotonic() < end:
            r, _, x = select.select([s], [], [s], 0.05)
            try:
                data, anc, _flags, _addr = s.recvmsg(2048, 1024, socket.MSG_ERRQUEUE)
            except BlockingIOError:
                data = None
            except OSError:
                data = None
            if data is not None:
                for lvl, typ, cdata in anc:
                    if lvl == socket.IPPROTO_IP and typ == IP_RECVERR and len(cdata) >= 16 + 8:
                        ee_errno, origin, itype, code = struct.unpack("=IBBB", cdata[:7])
                        off = cdata[16:32]
                        addr = socket.inet_ntoa(off[4:8])
                        hop["from"] = addr
                        hop["icmp_type"] = itype
                        hop["icmp_code"] = code
                        hop["kind"] = {11: "time-exceeded", 3: "unreachable"}.get(itype, "icmp-%d" % itype)
                break
            if r:
                try:
                    s.setblocking(False)
                    s.recv(4096)
                    hop["kind"] = "reply"
                    hop["from"] = a.host
                    break
                except (BlockingIOError, ConnectionRefusedError):
                    pass
                finally:
                    s.setblocking(True)
        s.close()
        hops.append(hop)
        if hop["kind"] in ("unreachable", "reply"):
            break
    out({"target": a.host, "hops": hops})


def cmd_fuzz(a):
    """Garbage for the reflector: odd sizes, cut headers, delay requests; then a normal probe."""
    import random
    rnd = random.Random(a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.connect((a.host, a.port))
    fixed = [b"", b"D", b"DSA", b"DSAD", b"DSAD\x00", b"DSAD\x00\x00\x00", b"DSAR" * 8,
             b"\xff" * 65507, b"\x00" * 1401, b"DSAD\x00\x00\x05\xdc" + b"x" * 2000]
    sent = 0
    for i in range(a.count):
        if i < len(fixed):
            d = fixed[i]
        elif rnd.random() < 0.2:
            d = b"DSAD" + struct.pack("!I", rnd.randrange(0, 1500)) + os.urandom(rnd.randrange(0, 64))
        else:
            d = os.urandom(rnd.choice((rnd.randrange(0, 64), rnd.randrange(0, 1600), rnd.randrange(0, 65507))))
        try:
            s.send(d)
            sent += 1
        except OSError:
            pass
        if i % 200 == 0:
            time.sleep(0.01)
    # drain what comes back, then wait out the delayed replies
    end = time.monotonic() + 2.5
    back = 0
    s.setblocking(False)
    while time.monotonic() < end:
        select.select([s], [], [], 0.05)
        while True:
            try:
                s.recv(70000)
                back += 1
            except (BlockingIOError, ConnectionRefusedError):
                break
    s.close()
    q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    q.settimeout(2)
    q.connect((a.host, a.port))
    ok = 0
    for i in range(5):
        q.send(b"DSAP" + struct.pack("!I", i))
        try:
            r = parse_reflection(q.recv(4096))
            ok += 1 if r and r["payload"][4:8] == struct.pack("!I", i) else 0
        except socket.timeout:
            pass
    out({"sent": sent, "replies": back, "probe_received": ok})


# ---------------------------------------------------------------- SIP
class Conn:
    """One SIP transport socket; local address known before the first message."""

    def __init__(self, proto, host, port, ca=None, cert=None, key=None, server_name=None, timeout=5):
        self.proto = proto
        self.timeout = timeout
        self.buf = b""
        if proto == "udp":
            self.s = socket.socket(fam(host), socket.SOCK_DGRAM)
            self.s.connect((host, port))
        else:
            raw = socket.create_connection((host, port), timeout=timeout)
            if proto == "tls":
                ctx = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()
                if cert:
                    ctx.load_cert_chain(cert, key)
                self.s = ctx.wrap_socket(raw, server_hostname=server_name or host)
            else:
                self.s = raw
        self.s.settimeout(timeout)
        self.local = self.s.getsockname()

    def send(self, msg):
        self.s.sendall(msg) if self.proto != "udp" else self.s.send(msg)

    def recv(self):
        """One SIP message (bytes) or None on timeout."""
        end = time.monotonic() + self.timeout
        if self.proto == "udp":
            while time.monotonic() < end:
                self.s.settimeout(max(0.01, end - time.monotonic()))
                try:
                    return self.s.recv(65535)
                except socket.timeout:
                    return None
            return None
        while time.monotonic() < end:
            m = re.search(rb"\r\n\r\n", self.buf)
            if m:
                head = self.buf[:m.end()]
                cl = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                n = int(cl.group(1)) if cl else 0
                if len(self.buf) >= m.end() + n:
                    msg = self.buf[:m.end() + n]
                    self.buf = self.buf[m.end() + n:]
                    return msg
            self.s.settimeout(max(0.01, end - time.monotonic()))
            try:
                d = self.s.recv(65535)
            except socket.timeout:
                return None
            if not d:
                return None
            self.buf += d
        return None


def parse_sip(msg):
    head, _, body = msg.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    status = None
    m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", lines[0])
    if m:
        status = int(m.group(1))
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return status, hdrs, body


def rand_token():
    return os.urandom(6).hex()


def build_request(method, ruri, conn, user, domain, cseq, callid, tag, extra=(), body=b"", branch=None):
    lip, lport = conn.local[0], conn.local[1]
    if ":" in lip:
        lip = "[%s]" % lip
    tp = conn.proto.upper()
    branch = branch or "z9hG4bK" + rand_token()
    lines = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/%s %s:%d;branch=%s;rport" % (tp, lip, lport, branch),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=%s" % (user, domain, tag),
        "To: <sip:%s@%s>" % (user, domain),
        "Call-ID: %s" % callid,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:%s@%s:%d;transport=%s>" % (user, lip, lport, conn.proto),
        "User-Agent: dsa-labtool",
    ]
    lines += list(extra)
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def conn_from_args(a):
    return Conn(a.proto, a.host, a.port, ca=a.ca, cert=a.cert, key=a.key, server_name=a.server_name,
                timeout=a.timeout)


def cmd_sip_echo(a):
    try:
        conn = conn_from_args(a)
    except OSError as e:
        out({"status": None, "error": "%s: %s" % (type(e).__name__, e)})
        return
    callid = rand_token() + "@dsa-labtool"
    sdp = ("v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
           "m=audio {port} RTP/AVP 0\r\n").format(ip=conn.local[0], port=a.rtp_port).encode()
    req = build_request("OPTIONS", "sip:%s" % a.domain, conn, a.user, a.domain, 1, callid, rand_token(),
                        extra=["X-Dialstack-Echo: 1", "Content-Type: application/sdp"], body=sdp)
    res = {"local": hp(conn.local), "sent": req.decode()}
    try:
        conn.send(req)
        msg = conn.recv()
    except OSError as e:
        res.update({"status": None, "error": "%s: %s" % (type(e).__name__, e)})
        out(res)
        return
    if msg is None:
        res.update({"status": None, "error": "timeout"})
        out(res)
        return
    status, hdrs, body = parse_sip(msg)
    res["status"] = status
    res["reply_via"] = hdrs.get("via", [])
    try:
        res["echo"] = base64.b64decode(body.strip(), validate=True).decode("utf-8", "replace")
    except Exception as e:  # noqa: BLE001 - report any decoding failure
        res["echo"] = None
        res["echo_error"] = str(e)
    out(res)


def digest(user, password, realm, method, uri, nonce, qop, cnonce, nc):
    ha1 = hashlib.md5(("%s:%s:%s" % (user, realm, password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    if qop:
        return hashlib.md5(("%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2)).encode()).hexdigest()
    return hashlib.md5(("%s:%s:%s" % (ha1, nonce, ha2)).encode()).hexdigest()


def cmd_sip_register(a):
    try:
        conn = conn_from_args(a)
    except OSError as e:
        out({"statuses": [], "error": "%s: %s" % (type(e).__name__, e)})
        return
    callid = rand_token() + "@dsa-labtool"
    tag = rand_token()
    ruri = "sip:%s" % a.domain
    extra = ["Expires: %d" % a.expires] + list(a.header or [])
    statuses = []
    auth = None
    res = {"local": hp(conn.local), "proto": a.proto}
    for cseq in (1, 2):
        hdrs_extra = list(extra)
        if auth:
            hdrs_extra.append(auth)
        try:
            conn.send(build_request("REGISTER", ruri, conn, a.user, a.domain, cseq, callid, tag, hdrs_extra))
            msg = conn.recv()
        except OSError as e:
            res["error"] = "%s: %s" % (type(e).__name__, e)
            break
        if msg is None:
            res["error"] = "timeout"
            break
        status, hdrs, _ = parse_sip(msg)
        statuses.append(status)
        if status == 401 and auth is None:
            ch = hdrs.get("www-authenticate", [""])[0]
            p = dict(re.findall(r'(\w+)="?([^",]*)"?', ch))
            qop = "auth" if "auth" in p.get("qop", "").split(",") else None
            cnonce, nc = rand_token(), "00000001"
            resp = digest(a.auth_user or a.user, a.password, p.get("realm", ""), "REGISTER", ruri,
                          p.get("nonce", ""), qop, cnonce, nc)
            auth = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                    'response="%s", algorithm=MD5' % (a.auth_user or a.user, p.get("realm", ""),
                                                      p.get("nonce", ""), ruri, resp))
            if qop:
                auth += ', qop=auth, cnonce="%s", nc=%s' % (cnonce, nc)
            continue
        res["contact_reply"] = hdrs.get("contact", [])
        res["via_reply"] = hdrs.get("via", [])
        break
    res["statuses"] = statuses
    res["final"] = statuses[-1] if statuses else None
    out(res)


# ---------------------------------------------------------------- STUN
def cmd_stun(a):
    s = socket.socket(fam(a.host), socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    tid = os.urandom(12)
    attrs = b""
    if a.change_ip or a.change_port:
        flags = (4 if a.change_ip else 0) | (2 if a.change_port else 0)
        attrs += struct.pack("!HHI", 0x0003, 4, flags)
    msg = struct.pack("!HHI", 0x0001, len(attrs), 0x2112A442) + tid + attrs
    res = {}
    try:
        s.sendto(msg, (a.host, a.port))
        data, src = s.recvfrom(2048)
    except (socket.timeout, ConnectionRefusedError) as e:
        out({"reply": False, "error": type(e).__name__})
        return
    res["reply"] = True
    res["from"] = hp(src)
    mtype, mlen, cookie = struct.unpack("!HHI", data[:8])
    res["type"] = "0x%04x" % mtype
    res["tid_ok"] = data[8:20] == tid
    off = 20
    while off + 4 <= 20 + mlen and off + 4 <= len(data):
        at, al = struct.unpack("!HH", data[off:off + 4])
        v = data[off + 4:off + 4 + al]
        if at in (0x0020, 0x0001) and len(v) >= 20 and v[1] == 2:  # IPv6 (RFC 5389 family 2)
            port = struct.unpack("!H", v[2:4])[0]
            ip = bytes(v[4:20])
            if at == 0x0020:
                port ^= 0x2112
                ip = bytes(x ^ y for x, y in zip(ip, struct.pack("!I", 0x2112A442) + tid))
            res["xor_mapped" if at == 0x0020 else "mapped"] = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, ip), port)
        elif at in (0x0020, 0x0001, 0x802c, 0x0005, 0x802b, 0x0004) and len(v) >= 8:
            port = struct.unpack("!H", v[2:4])[0]
            ip = bytes(v[4:8])
            if at == 0x0020:
                port ^= 0x2112
                ip = bytes(x ^ y for x, y in zip(ip, struct.pack("!I", 0x2112A442)))
            name = {0x0020: "xor_mapped", 0x0001: "mapped", 0x802c: "other_address",
                    0x0005: "changed_address", 0x802b: "response_origin", 0x0004: "source_address"}[at]
            res[name] = "%s:%d" % (socket.inet_ntoa(ip), port)
        off += 4 + ((al + 3) & ~3)
    out(res)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def hp(sp):
        sp.add_argument("host")
        sp.add_argument("port", type=int)

    sp = sub.add_parser("udp-probe")
    hp(sp)
    sp.add_argument("--count", type=int, default=50)
    sp.add_argument("--interval-ms", type=float, default=20)
    sp.add_argument("--tos", type=lambda x: int(x, 0))
    sp.add_argument("--timeout", type=float, default=2)
    sp.add_argument("--delay-ms", type=int)
    sp.add_argument("--size", type=int, default=160)
    sp.set_defaults(fn=cmd_udp_probe)

    sp = sub.add_parser("udp-late")
    hp(sp)
    sp.add_argument("--delay-ms", type=int, required=True)
    sp.add_argument("--grace", type=float, default=2)
    sp.set_defaults(fn=cmd_udp_late)

    sp = sub.add_parser("ttl-probe")
    hp(sp)
    sp.add_argument("--max-ttl", type=int, default=5)
    sp.add_argument("--timeout", type=float, default=1.5)
    sp.set_defaults(fn=cmd_ttl_probe)

    for name, fn in (("sip-echo", cmd_sip_echo), ("sip-register", cmd_sip_register)):
        sp = sub.add_parser(name)
        hp(sp)
        sp.add_argument("--proto", choices=("udp", "tcp", "tls"), default="udp")
        sp.add_argument("--user", default="1001")
        sp.add_argument("--auth-user")
        sp.add_argument("--password", default="")
        sp.add_argument("--domain", default="dialstack.ai")
        sp.add_argument("--expires", type=int, default=300)
        sp.add_argument("--header", action="append")
        sp.add_argument("--rtp-port", type=int, default=16000)
        sp.add_argument("--ca")
        sp.add_argument("--cert")
        sp.add_argument("--key")
        sp.add_argument("--server-name")
        sp.add_argument("--timeout", type=float, default=4)
        sp.set_defaults(fn=fn)

    sp = sub.add_parser("fuzz")
    hp(sp)
    sp.add_argument("--count", type=int, default=3000)
    sp.add_argument("--seed", type=int, default=1)
    sp.set_defaults(fn=cmd_fuzz)

    sp = sub.add_parser("stun")
    hp(sp)
    sp.add_argument("--change-ip", action="store_true")
    sp.add_argument("--change-port", action="store_true")
    sp.add_argument("--timeout", type=float, default=2)
    sp.set_defaults(fn=cmd_stun)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
