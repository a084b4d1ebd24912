#!/usr/bin/env python3
"""hostile-registrar.py - a scripted UDP registrar on 127.0.0.1 for sip-hostile.sh.

hostile-registrar.py --port P --row NAME --out FILE

Answers every REGISTER with the pathological answer of row NAME (the table
below, the same rows as test_hostile in tests/unit/test_sip_reg.c) until it
gets SIGUSR1; from then on it is a sane registrar (401 digest challenge, then
200 with the client's Contact echoed). It counts what arrives on the wire
itself: REGISTER packets, REGISTER transactions (distinct Via branches),
OPTIONS, STUN, each per phase, and the largest number of REGISTER packets in
any one second; it writes them as JSON to FILE on SIGUSR1 (hostile phase),
on every sane 200 (sane phase) and on SIGTERM. Whether it holds a binding for
the client (a 200 that lists the client's Contact) is part of the output.
Only loopback; every loop is bounded by the process lifetime the caller sets.
"""
import argparse
import json
import re
import signal
import socket
import sys
import time

SCALARLG = "949000000000000000000000000"   # RFC 4475 3.1.2.6
ROWS = {
    # name: (code, extra headers ("{n}" = request number), contact mode)
    # contact mode: None no Contact, "echo" ours, "other" other bindings, "lookalike",
    # "instance" ours with another +sip.instance, or "expires=V" ours with that expires
    "stale": (401, 'WWW-Authenticate: Digest realm="dsa.test", nonce="st{n}", stale=true, qop="auth"\r\n', None),
    "503-huge": (503, "Retry-After: %s\r\n" % SCALARLG, None),
    "503-2e64": (503, "Retry-After: 18446744073709551616\r\n", None),
    "503-zero": (503, "Retry-After: 0\r\n", None),
    "503-negative": (503, "Retry-After: -5\r\n", None),
    "503-garbage": (503, "Retry-After: soon\r\n", None),
    "423-huge": (423, "Min-Expires: %s\r\n" % SCALARLG, None),
    "200-no-contact": (200, "", None),
    "200-other-bindings": (200, "", "other"),
    "200-lookalike": (200, "", "lookalike"),
    "200-other-instance": (200, "", "instance"),
    "200-expires-0": (200, "", "expires=0"),
    "200-expires-2e31": (200, "", "expires=2147483648"),
    "200-expires-garbage": (200, "", "expires=garbage"),
    "200-flow-timer-huge": (200, "Flow-Timer: %s\r\n" % SCALARLG, "echo"),
    "500-loop": (500, "", None),
    "408-loop": (408, "", None),
    "silence": (0, "", None),
    "401-wrong": (401, 'WWW-Authenticate: Digest realm="dsa.test", nonce="w{n}"\r\n', None),
    "403": (403, "", None),
}


def header(msg, name):
    m = re.search(r"^%s:[ \t]*(.*?)\r$" % re.escape(name), msg, re.M | re.I)
    return m.group(1) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--row", required=True, choices=sorted(ROWS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-s", type=float, default=900)
    a = ap.parse_args()
    code, extra, cmode = ROWS[a.row]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a.port))
    s.settimeout(0.2)
    t0 = time.monotonic()
    st = {"row": a.row, "phase": "hostile", "binding": False, "sane_at": None,
          "hostile": None, "sane": None, "registered_at": None}
    cur = {"register_packets": 0, "register_txns": 0, "options": 0, "stun": 0,
           "peak_per_s": 0, "seconds": 0.0}
    branches = set()
    per_s = {}

    def snapshot():
        d = dict(cur)
        d["seconds"] = round(time.monotonic() - (t0 if st["phase"] == "hostile" else st["sane_t"]), 1)
        d["peak_per_s"] = max(per_s.values()) if per_s else 0
        return d

    def write():
        with open(a.out + ".tmp", "w") as f:
            json.dump(st, f)
        import os
        os.replace(a.out + ".tmp", a.out)

    def go_sane(*_):
        if st["phase"] == "sane":
            return
        st["hostile"] = snapshot()
        st["phase"] = "sane"
        st["sane_t"] = time.monotonic()
        st["sane_at"] = round(st["sane_t"] - t0, 2)
        for k in cur:
            cur[k] = 0
        per_s.clear()
        branches.clear()
        write()

    def stop(*_):
        st["sane" if st["phase"] == "sane" else "hostile"] = snapshot()
        write()
        sys.exit(0)

    signal.signal(signal.SIGUSR1, go_sane)
    signal.signal(signal.SIGTERM, stop)
    write()
    while time.monotonic() - t0 < a.max_s:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if data[:1] in (b"\x00", b"\x01"):
            cur["stun"] += 1
            continue
        msg = data.decode("latin-1")
        first = msg.split("\r\n", 1)[0]
        if first.startswith("SIP/2.0"):
            continue
        method = first.split(" ", 1)[0]
        via = header(msg, "Via") or ""
        m = re.search(r"branch=([^;, ]+)", via)
        branch = m.group(1) if m else ""
        if method == "OPTIONS":
            cur["options"] += 1
            if st["phase"] == "hostile" and code == 0:
                continue
            resp_code, hdrs = 200, ""
        elif method == "REGISTER":
            cur["register_packets"] += 1
            sec = int(time.monotonic() - t0)
            per_s[sec] = per_s.get(sec, 0) + 1
            if branch not in branches:
                branches.add(branch)
                cur["register_txns"] += 1
            contact = header(msg, "Contact") or header(msg, "m") or ""
            cm = re.match(r"\s*(<[^>]*>)", contact)
            uri = cm.group(1) if cm else ""
            expires = header(msg, "Expires") or "600"
            n = cur["register_packets"]
            if expires.strip() == "0":
                resp_code, hdrs = 200, ""
                st["binding"] = False
            elif st["phase"] == "sane":
                if header(msg, "Authorization"):
                    resp_code, hdrs = 200, "Contact: %s;expires=%s\r\n" % (uri, expires)
                    st["binding"] = True
                    if st["registered_at"] is None:
                        st["registered_at"] = round(time.monotonic() - st["sane_t"], 2)
                else:
                    resp_code = 401
                    hdrs = 'WWW-Authenticate: Digest realm="dsa.test", nonce="sane%d", qop="auth"\r\n' % n
            else:
                if code == 0:
                    continue
                resp_code, hdrs = code, extra.replace("{n}", str(n))
                if code == 200 and cmode:
                    if cmode == "echo":
                        hdrs += "Contact: %s;expires=%s\r\n" % (uri, expires)
                    elif cmode == "other":
                        hdrs += "Contact: <sip:100@10.9.9.9:5060;ob>;expires=600, <sip:100@10.9.9.8:5060>;expires=600\r\n"
                    elif cmode == "lookalike":
                        hdrs += "Contact: %s;expires=600\r\n" % uri.replace("@", "@pbx", 1)
                    elif cmode == "instance":
                        hdrs += ('Contact: %s;+sip.instance="<urn:uuid:00000000-0000-5000-8000-000000000000>"'
                                 ";expires=600\r\n" % uri)
                    elif cmode.startswith("expires="):
                        hdrs += "Contact: %s;%s\r\n" % (uri, cmode)
                    st["binding"] = cmode not in ("other", "lookalike", "instance", "expires=0")
        else:
            resp_code, hdrs = 405, "Allow: REGISTER, OPTIONS\r\n"
        vias = re.findall(r"^(?:Via|v):[^\r]*\r$", msg, re.M | re.I)
        resp = "SIP/2.0 %d X\r\n" % resp_code
        resp += "".join(v[:-1] + "\r\n" for v in vias)
        for h in ("From", "Call-ID", "CSeq"):
            v = header(msg, h)
            if v is not None:
                resp += "%s: %s\r\n" % (h, v)
        to = header(msg, "To") or ""
        resp += "To: %s%s\r\n" % (to, "" if "tag=" in to else ";tag=hr")
        resp += hdrs + "Content-Length: 0\r\n\r\n"
        s.sendto(resp.encode("latin-1"), peer)
        if st["phase"] == "sane" and resp_code == 200 and method == "REGISTER":
            st["sane"] = snapshot()
            write()
    stop()


if __name__ == "__main__":
    main()
