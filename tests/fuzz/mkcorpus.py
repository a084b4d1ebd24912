#!/usr/bin/env python3
"""mkcorpus.py - write the seed corpora of tests/fuzz/corpus/<target>/ (small
files from the unit tests' samples, the lab's files and RFC examples).
Run from anywhere: python3 tests/fuzz/mkcorpus.py. Idempotent; our RFC 4475
torture messages (tests/data/sip-torture) are fuzz_sip_msg seeds; with
DSA_RFC4475_DIR set, the RFC's own messages found there are copied too."""
import base64, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, 'corpus')

def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('latin-1')
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# ------------------------------------------------------------------ SIP
HDRS = ("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKabc;rport=40000;received=203.0.113.7\r\n"
        "From: <sip:100@example.com>;tag=ft1\r\nTo: <sip:100@example.com>;tag=tt1\r\n"
        "Call-ID: c1@10.0.0.2\r\nCSeq: 2 REGISTER\r\n")
CH = 'Digest realm="example.com", nonce="abc123", qop="auth", algorithm=SHA-256, opaque="o1"'
sip = {
    'reg200': "SIP/2.0 200 OK\r\n" + HDRS +
        'Contact: <sip:100@10.0.0.2:5060;transport=udp>;expires=300;+sip.instance="<urn:uuid:00000000-0000-5000-8000-000000000000>";reg-id=1\r\n'
        "Contact: <sip:100@198.51.100.9:5060>;expires=60\r\nExpires: 600\r\nFlow-Timer: 30\r\nContent-Length: 0\r\n\r\n",
    'reg401': "SIP/2.0 401 Unauthorized\r\n" + HDRS + "WWW-Authenticate: " + CH + "\r\n"
        'WWW-Authenticate: Digest realm="example.com", nonce="n2", stale=true\r\nContent-Length: 0\r\n\r\n',
    'reg407': "SIP/2.0 407 Proxy Authentication Required\r\n" + HDRS + "Proxy-Authenticate: " + CH + "\r\nContent-Length: 0\r\n\r\n",
    'reg423': "SIP/2.0 423 Interval Too Brief\r\n" + HDRS + "Min-Expires: 1800\r\nContent-Length: 0\r\n\r\n",
    'reg503': "SIP/2.0 503 Service Unavailable\r\n" + HDRS + "Retry-After: 949000000000000000000000000 (x);duration=1\r\nContent-Length: 0\r\n\r\n",
    'options': "OPTIONS sip:100@10.0.0.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKo1\r\n"
        "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKo0\r\nFrom: <sip:reg@example.com>;tag=a\r\nTo: <sip:100@example.com>\r\n"
        "Call-ID: o1\r\nCSeq: 8 OPTIONS\r\nRequire: nothingSupported\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
    'notify': "NOTIFY sip:100@10.0.0.2:5060 SIP/2.0\r\nv: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKn1\r\nf: <sip:reg@example.com>;tag=b\r\n"
        "t: <sip:100@example.com>\r\ni: n1\r\nCSeq: 3 NOTIFY\r\no: check-sync;reboot=false\r\nl: 0\r\n\r\n",
    'invite200': "SIP/2.0 200 OK\r\n" + HDRS.replace('REGISTER', 'INVITE') +
        "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\nContact: <sip:echo@192.0.2.5:5060>\r\n"
        "Content-Type: application/sdp\r\nContent-Length: 80\r\n\r\n"
        "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 12000 RTP/AVP 0\r\n",
}
for k, v in sip.items():
    put('fuzz_sip_msg', k, b'\x00' + v.encode())                        # UDP
put('fuzz_sip_msg', 'stream2', b'\x01\r\n\r\n' + sip['reg200'].encode() + b'\r\n' + sip['reg401'].encode())
# Our own RFC 4475 torture messages (tests/data/sip-torture), one seed each
# as a datagram. RFC 4475's archive is not in the tree (no fetched material is
# committed): with DSA_RFC4475_DIR set, its messages join the seeds of a local run.
TORTURE = os.path.join(TOP, 'tests', 'data', 'sip-torture')
for f in sorted(os.listdir(TORTURE)):
    if f.endswith('.dat'):
        put('fuzz_sip_msg', 'torture-' + f[:-4], b'\x00' + open(os.path.join(TORTURE, f), 'rb').read())
rfc = os.environ.get('DSA_RFC4475_DIR', '')
if rfc and os.path.isdir(rfc):
    for f in sorted(os.listdir(rfc)):
        if f.endswith('.dat'):
            put('fuzz_sip_msg', 'rfc4475-' + f[:-4], b'\x00' + open(os.path.join(rfc, f), 'rb').read())

for i, v in enumerate([CH, 'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
                       'Digest realm="r", nonce="n", algorithm=MD5-sess', 'Digest realm="x", nonce="y", stale=TRUE, domain="sip:a sip:b"',
                       'Basic realm="x"', 'Digest realm="a\\"b", nonce="unterminated']):
    put('fuzz_sip_digest', 'ch%d' % i, v)

# ------------------------------------------------------------------ config
prov = os.path.join(TOP, 'tests', 'lab', 'prov')
common = open(os.path.join(prov, 'dialstack.xml'), 'rb').read()
mac = open(os.path.join(prov, 'dialstack-02005e100001.xml'), 'rb').read()
small = b'<?xml version="1.0"?>\n<dialstack version="1">\n</dialstack>\n'
for n, v in {'common.xml': common, 'mac.xml': mac, 'min.xml': small,
             'bom.xml': b'\xef\xbb\xbf' + mac, 'crlf.xml': mac.replace(b'\n', b'\r\n'),
             'utf16.xml': b'\xff\xfe' + mac.decode().encode('utf-16-le'),
             'doctype.xml': b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><dialstack version="1"/>'}.items():
    put('fuzz_cfg', n, v)
put('fuzz_cfg_merge', 'pair', common + b'\n----\n' + mac)
put('fuzz_cfg_merge', 'pair-min', small + b'\n----\n' + mac)

# ------------------------------------------------------------------ STUN
tid = bytes(range(1, 13))
def stun(mtype, attrs):
    body = b''.join(struct.pack('>HH', t, len(v)) + v + b'\0' * (-len(v) % 4) for t, v in attrs)
    return struct.pack('>HHI', mtype, len(body), 0x2112A442) + tid + body
xport = 5060 ^ 0x2112
xaddr = bytes(a ^ b for a, b in zip(bytes([203, 0, 113, 7]), b'\x21\x12\xa4\x42'))
mapped = b'\x00\x01' + struct.pack('>H', 5060) + bytes([203, 0, 113, 7])
xmapped = b'\x00\x01' + struct.pack('>H', xport) + xaddr
for t in ('fuzz_stun',):
    put(t, 'xor', stun(0x0101, [(0x0020, xmapped)]))
    put(t, 'mapped', stun(0x0101, [(0x0001, mapped)]))
    put(t, 'rfc5780', stun(0x0101, [(0x0020, xmapped), (0x802c, mapped), (0x802b, mapped), (0x8022, b'test')]))
    put(t, 'error', stun(0x0111, [(0x0009, b'\x00\x00\x04\x00Bad Request')]))
    put(t, 'ipv6', stun(0x0101, [(0x0020, b'\x00\x02' + struct.pack('>H', xport) + bytes(16))]))

# DNS: fuzz_resolv's seeds (answers to SRV/NAPTR queries) are kept as files in its corpus.

# ------------------------------------------------------------------ control socket
for i, v in enumerate(['{"v":1,"cmd":"status"}', '{"v":1,"cmd":"check-config","args":{"file":"x"}}',
                       '{"v":1,"cmd":"selftest","args":{"wait":true,"checks":["dns","nat"]}}',
                       '{"v":2,"cmd":"status"}', '{"v":1,"cmd":"status"} trailing', '[1,2]',
                       '{"v":1,"cmd":"resync","args":{"a":[1,2.5e300,null,"\\u0000"]}}']):
    put('fuzz_ctl', 'req%d' % i, v)

# ------------------------------------------------------------------ SDP
sdp = ("v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
       "m=audio 12000 RTP/SAVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n"
       "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n")
put('fuzz_sdp', 'savp', sdp)
put('fuzz_sdp', 'invite200', sip['invite200'])
put('fuzz_sdp', 'two-media', "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5000 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\nm=audio 0 RTP/AVP 0\r\n")
# RFC 4566 / 3266 IPv6 answers (issue 15): session- and media-level c=IN IP6, an IPv4-mapped and
# a multicast-style /ttl address, the unspecified address (hold), a bracketed literal (refused)
put('fuzz_sdp', 'ip6', "v=0\r\no=- 1 1 IN IP6 2001:db8::5\r\ns=-\r\nc=IN IP6 2001:db8::5\r\nt=0 0\r\n"
    "m=audio 12000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
put('fuzz_sdp', 'ip6-media-level', "v=0\r\nc=IN IP4 192.0.2.5\r\nm=audio 4000 RTP/AVP 8\r\n"
    "c=IN IP6 ::ffff:192.0.2.5/127\r\nm=audio 0 RTP/AVP 0\r\nc=IN IP6 ::\r\n")
put('fuzz_sdp', 'ip6-odd', "v=0\r\nc=IN IP6 [::1]\r\nc=IN IP5 ::1\r\nc=IN IP6 ::\r\nm=audio 4000 RTP/AVP 0\r\n")

# ------------------------------------------------------------------ RTP / SRTP
rtp = struct.pack('>BBHII', 0x80, 0, 1, 160, 0xdeadbeef) + b'\xff' * 160
put('fuzz_rtp', 'pcmu', rtp)
put('fuzz_rtp', 'csrc-ext-pad', struct.pack('>BBHII', 0xB2, 0x88, 2, 320, 1) + b'\0\0\0\1\0\0\0\2' +
    b'\xbe\xde\x00\x01\x10\xaa\0\0' + b'\x55' * 20 + b'\0\0\0\4')
put('fuzz_rtp', 'rtcp', struct.pack('>BBHII', 0x80, 0xC8, 6, 1, 2) + bytes(20))
put('fuzz_srtp', 'raw', b'\x00' + rtp + bytes(10))
put('fuzz_srtp', 'protect', b'\x02' + rtp)
put('fuzz_srtp', 'crypto', b'\x03' + b'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n')
put('fuzz_srtp', 'crypto-gcm', b'\x03' + b'2 AEAD_AES_128_GCM inline:' + base64.b64encode(bytes(28)))

# ------------------------------------------------------------------ bootstrap, DHCP URL
put('fuzz_bootstrap', 'full', "# bootstrap\nserver = https://prov.dialstack.ai/\nca=/etc/dialstack-agent/ca.pem\n"
    "cert=/etc/dialstack-agent/dev.pem\nkey=/etc/dialstack-agent/dev.key\npin=sha256//AAAA\niface=eth0\n"
    "mac=02:00:5e:10:00:01\nmodel=DS-100\ndhcp-url-file=/var/run/dialstack-agent/dhcp-prov-url\nboot-delay=30\n")
put('fuzz_bootstrap', 'bad', "server=http://x\r\nmac=zz\nboot-delay=99999999999999\nfoo\n\x01=2\n")
put('fuzz_dhcp_url', 'url', "https://prov.dialstack.ai/path/\n")
put('fuzz_dhcp_url', 'host', "prov.dialstack.ai\n----\nhttps://boot.example/\n")
put('fuzz_dhcp_url', 'bad', "tftp://10.0.0.1/\r\n----\nhttp://x\n")
# ------------------------------------------------------------------ stored bundle
def bundle(c, m, ec='"c1"', em='-'):
    h = 0xcbf29ce484222325
    for byte in c + m:
        h = ((h ^ byte) * 0x100000001b3) & 0xffffffffffffffff
    return ('DSA-BUNDLE 1\ncommon %d %s\nmac %d %s\nsum %016x\n\n' % (len(c), ec, len(m), em, h)).encode() + c + m
put('fuzz_store', 'lkg', b'\x00' + bundle(common, mac))
put('fuzz_store', 'lkg-empty-common', b'\x00' + bundle(b'', mac, '-', '"m"'))
put('fuzz_store', 'pair', b'\x01' + common + b'\n----\n' + mac)

# ------------------------------------------------------------------ netlink address dump (system/addr.c)
def rta(t, payload):
    l = 4 + len(payload)
    return struct.pack('=HH', l, t) + payload + b'\0' * ((4 - l % 4) % 4)

def newaddr(family, plen, flags, scope, index, attrs):
    body = struct.pack('=BBBBI', family, plen, flags, scope, index) + b''.join(attrs)
    return struct.pack('=IHHII', 16 + len(body), 20, 2, 1, 0) + body

DONE = struct.pack('=IHHIIi', 20, 3, 2, 1, 0, 0)
v4 = newaddr(2, 24, 0, 0, 2, [rta(1, bytes([192, 168, 1, 20])), rta(2, bytes([192, 168, 1, 20])),
                              rta(6, struct.pack('=IIII', 3600, 3600, 1, 1)), rta(8, struct.pack('=I', 0))])
v6 = newaddr(10, 64, 0, 0, 2, [rta(1, bytes.fromhex('20010db8005000005eff fe100001'.replace(' ', ''))),
                               rta(6, struct.pack('=IIII', 14400, 86400, 1, 1)), rta(8, struct.pack('=I', 0x100)),
                               rta(11, bytes([3]))])
ll = newaddr(10, 64, 0x80, 253, 2, [rta(1, bytes.fromhex('fe80000000000000' + '5eff00fffe100001')), rta(11, bytes([2]))])
put('fuzz_nl_addr', 'dump', v4 + v6 + ll + DONE)
put('fuzz_nl_addr', 'v6-only', v6 + DONE)
put('fuzz_nl_addr', 'error', struct.pack('=IHHIIi', 36, 2, 0, 1, 0, -19) + b'\0' * 16)

# ------------------------------------------------------------------ job answers (common/job.h)
def jmsg(t, fields):
    """One job message: 'DJ', version 1, type, u32 payload length, fields
    (an int: a 4-byte 'u'; bytes: an 's'/'b' field with its NUL)."""
    body = b''
    for f in fields:
        if isinstance(f, int):
            body += struct.pack('<II', 4, f)
        else:
            body += struct.pack('<I', len(f) + 1) + f + b'\0'
    return b'DJ' + bytes([1, t]) + struct.pack('<I', len(body)) + body

HTTP_REPLY, PARSE_REPLY, SRTP_REPLY = 2, 4, 6
put('fuzz_job', 'http-200', b'\x0f' + jmsg(HTTP_REPLY, [0, 0, 200, b'"c1"', b'', common, 0, 12]))
put('fuzz_job', 'http-failed', b'\x00' + jmsg(HTTP_REPLY, [3, 8, 0, b'', b'connection refused by 127.0.0.1:8443', b'', 7, 0]))
# a request the job child decodes: the self-test's HTTPS probe over IPv6 (bracketed resolve entry)
put('fuzz_job', 'http-probe-v6', b'\x07' + jmsg(1, [2, 8000, 8000, 0, 0, 0, b'https://prov6.dialstack.ai:8443/',
    b'', b'', b'', b'', b'', b'', b'', b'', b'prov6.dialstack.ai:8443:[2001:db8:6::443]', b'eth0']))
put('fuzz_job', 'parse-refused', b'\x40' + jmsg(PARSE_REPLY, [0, b'config refused: x', b'dialstack.xml:3: bad'.ljust(240, b'\0')[:239], b'']))
def dval(name, value, unit=b''):
    """One struct diag_value: name[24], value[72], unit[8]."""
    return name.ljust(24, b'\0') + value.ljust(72, b'\0') + unit.ljust(8, b'\0')
put('fuzz_job', 'srtp-pass', b'\x20' + jmsg(SRTP_REPLY, [0, b'3/3 vectors +GCM', b'libsrtp2 works',
                                                        dval(b'vectors', b'3') + dval(b'gcm', b'yes')]))
put('fuzz_job', 'two', b'\xff' + jmsg(PARSE_REPLY, [1, b'', b'', b'x' * 8]) * 2)

print('corpus written under', OUT)
