#!/usr/bin/env python3
"""mk.py - write this folder's SIP torture messages (one .dat per RFC 4475 case).

Our own messages: each one is written here from the RFC's prose description of
what its case exercises (the defect or oddity), with our own users, hosts,
tags, branches, values and bodies; none is a copy of the RFC's bytes. The
bytes that make the case (NULs, bare CR/LF choices, folding, long lines,
binary bodies, trailing white space) are written explicitly below.
Run: python3 tests/data/sip-torture/mk.py (idempotent; the .dat files are
committed, so a build never needs Python). See README.md for the table.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = b'\r\n'


def b(s):
    return s.encode('utf-8') if isinstance(s, str) else s


def msg(lines, body=b'', cl=None):
    """Start line and header lines joined by CRLF, the empty line, the body.
    '{CL}' in a header line becomes the body's length (or cl when given)."""
    body = b(body)
    n = str(len(body) if cl is None else cl).encode()
    head = CRLF.join(b(l).replace(b'{CL}', n) for l in lines)
    return head + CRLF + CRLF + body


def sdp(ip, port, sess='4101'):
    return CRLF.join(b(l) for l in [
        'v=0', 'o=dsa %s 1 IN IP4 %s' % (sess, ip), 's=-', 'c=IN IP4 %s' % ip, 't=0 0',
        'm=audio %d RTP/AVP 0 8' % port, 'a=rtpmap:8 PCMA/8000']) + CRLF


FILES = {}

# ---------------------------------------------------------------- 3.1.1 valid

# 3.1.1.1: folding everywhere, quoted-pairs in quotes, an empty Subject, LWS
# around every separator, comma-listed and separate Vias, long and compact
# names for the same field, odd name case and order, unknown R-URI parameter,
# unknown header fields (one whose value is only separators), unknown
# parameters, valueless parameters, leading zeros in Max-Forwards and CSeq.
FILES['wsinv.dat'] = msg([
    'INVITE sip:ana@pbx.dsa.test;mystery SIP/2.0',
    'v:  SIP  / 2.0  / UDP     198.51.100.7   ;',
    '  branch  =   z9hG4bKws-top  ,',
    ' SIP  /    2.0   / TCP  relay.dsa.test   ; branch=',
    ' z9hG4bKws-mid',
    'cALL-iD: ws.q8kz@198.51.100.7',
    'tO :',
    ' sip:ana@pbx.dsa.test ;   tag    = 77ab0c1',
    'X-Only-Separators: ,;;,;,,;',
    'FROM   : "Bo \\"Q\\" \\\\ Builder"     <sip:bo@dsa.test>',
    '  ;',
    '  tag = f0x9',
    'Max-forwards: 0066',
    'X-Newstyle:   first part',
    ' then the folded part',
    'cseq: 00012',
    '  INVITE',
    'Content-LENGTH   : {CL}',
    'Via  : SIP  /   2.0',
    ' /UDP',
    '    203.0.113.40;branch=z9hG4bKws-low',
    's :',
    'Route:',
    ' <sip:edge.dsa.test;lr;knob=on;flag-only>',
    'c: application/sdp',
    'm:"Say \\"hi\\"" <sip:bo@dsa.test> ; shade =',
    '      blue ;',
    '  lone ; q = 0.5',
], sdp('198.51.100.7', 40000))

# 3.1.1.2: every token character in the method (with % not an escape), an
# unusual but legal Request-URI, a branch of token punctuation, a quoted
# display name holding quoted-pair BEL, NUL and DEL, a display name of several
# tokens, a parameter of token punctuation with a UTF-8 quoted value, a
# Call-ID of word punctuation ("\ and unbalanced brackets), an unknown header
# of token punctuation with a UTF-8 value.
METH = "~Odd_method-9876543210+*.%`'!"
FILES['intmeth.dat'] = msg([
    "%s sip:2_weird.user~(yes!really)&it's+ok$/strange?,/;;*:&pw+is=2,odd!*wor$d~_here.(isn't-it)@dsa.test SIP/2.0" % METH,
    "Via: SIP/2.0/UDP 198.51.100.9;branch=z9hG4bK~*'`_+%.!-",
    'To: "ring:\\\x07 nul:\\\x00 rub:\\\x7f" <sip:2_weird.user~(yes!really)&it\'s+ok$/strange?,/;;*@dsa.test>',
    "From: word1.! word2~*% word3`'_+- <sip:plain@dsa.test>;odd`'Param~*_+-.!%=\"Grüße aus Köln ✓\";tag=~t!g*`'%_+-.",
    "Call-ID: im.w%QQ-!.*_+'@w`~)(><:\\/\"][?}{",
    'CSeq: 4242 %s' % METH,
    'Max-Forwards: 70',
    "X-ext-!.%*+_`'~:こんにちは、世界",
    'Content-Length: 0',
])

# 3.1.1.3: %HH escapes in the Request-URI and To user (an escaped sips: URI
# and @ inside a user part), escaped spaces in From, escaped letters in
# Contact's user and in URI parameter names and values (on a folded line).
FILES['esc01.dat'] = msg([
    'INVITE sip:sips%3Acarol%40dsa.test@gw.dsa.test SIP/2.0',
    'To: sip:sips%3Acarol%40dsa.test@gw.dsa.test',
    'From: <sip:I%20have%20three%20spaces@dsa.test>;tag=e1x',
    'Max-Forwards: 70',
    'Call-ID: esc01.7Fq@198.51.100.11',
    'CSeq: 3 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.11;branch=z9hG4bKesc01',
    'Contact:',
    '  <sip:c%61rol@198.51.100.11;%6D%79;k%65y=v%61l%25%34%32>',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.11', 40100))

# 3.1.1.4: %00 in user parts (To, From, two distinct Contacts): unescaping
# must not shorten them.
FILES['escnull.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'To: sip:nul-%00-byte@dsa.test',
    'From: sip:nul-%00-byte@dsa.test;tag=zz00',
    'Call-ID: escnull.k1@198.51.100.12',
    'Max-Forwards: 70',
    'CSeq: 9 REGISTER',
    'Via: SIP/2.0/UDP 198.51.100.12;branch=z9hG4bKnul0',
    'Contact: <sip:%00@198.51.100.12>',
    'Contact: <sip:%00%00@198.51.100.12>',
    'L:0',
])

# 3.1.1.5: % in a method or header name is no escape (NOT%49FY is an unknown
# method, not NOTIFY; C%6Fntact is an unknown header, not Contact); %HH inside
# quoted display names and a branch stays literal (%Z is no escape at all).
FILES['esc02.dat'] = msg([
    'NOT%49FY sip:gw.dsa.test SIP/2.0',
    'To: "%Z%41" <sip:box@dsa.test>',
    'From: "%D0%B8" <sip:box@dsa.test>;tag=es2',
    'Via: SIP/2.0/UDP 198.51.100.13;branch=z9hG4bKes2%zq7',
    'Call-ID: esc02.aa9@198.51.100.13',
    'CSeq: 29 NOT%49FY',
    'Max-Forwards: 70',
    'Contact: <sip:first@198.51.100.13>',
    'C%6Fntact: <sip:second@198.51.100.13>',
    'Contact: <sip:third@198.51.100.13>',
    'l: 0',
])

# 3.1.1.6: no LWS between a token display name and '<'.
FILES['lwsdisp.dat'] = msg([
    'OPTIONS sip:dsa.test SIP/2.0',
    'To: sip:dsa.test',
    'From: bo<sip:bo@dsa.test>;tag=lw5',
    'Max-Forwards: 70',
    'Call-ID: lwsdisp.p0@198.51.100.14',
    'Accept: application/sdp',
    'CSeq: 61 OPTIONS',
    'Via: SIP/2.0/UDP 198.51.100.14;branch=z9hG4bKlw5',
    'l: 0',
])

# 3.1.1.7: very long values: a long Request-URI user, display names, URI and
# header parameter names and values, a very long From tag, a Call-ID of one
# long token (far over 128 bytes), many Via header fields (names in odd case,
# compact, with white space before the colon; the top one without a branch)
# plus comma-listed ones, a long unknown header, a long Contact display name.
LONG_USER = 'agent-' + 'x9' * 90
LONG_TAG = ''.join('%04d' % i for i in range(60))
LONG_CID = 'longreq.' + ''.join('%03dq' % i for i in range(70)) + '@198.51.100.15'
NAMES = ['Via:', 'v:', 'V:', 'VIA:', 'via:', 'vIa:', 'ViA:', 'V :', 'v  :', 'Via :', 'Via  :']
vias = ['%s SIP/2.0/TCP hop%02d.dsa.test' % (NAMES[k % len(NAMES)], k) for k in range(40, 18, -1)]
vias += ['Via: ' + ', '.join('SIP/2.0/TCP hop%02d.dsa.test;branch=z9hG4bKlong%02d' % (k, k)
                             for k in range(j, j + 6)) for j in range(1, 18, 6)]
FILES['longreq.dat'] = msg([
    'INVITE sip:%s@dsa.test SIP/2.0' % LONG_USER,
] + vias + [
    'Via: SIP/2.0/UDP 198.51.100.15;received=198.51.100.15;branch=z9hG4bKlongbottom',
    'To: "%s" <sip:%s@dsa.test;%s=%s>' % ('The Longest Display Name ' * 12, LONG_USER,
                                          'uriparamname' * 8, 'uriparamvalue' * 8),
    'From: "%s" <sip:caller@dsa.test>;%s=%s;tag=%s' % ('Another long display name ' * 10,
                                                       'hdrparamname' * 8, 'hdrparamvalue' * 8, LONG_TAG),
    'Call-ID: ' + LONG_CID,
    'CSeq: 1701 INVITE',
    'Max-Forwards: 70',
    'X-Long-Unknown-Header-Name-' + 'z' * 60 + ': ' + ';'.join('k%02d = %s' % (i, 'v' * 40) for i in range(24)),
    'Contact: "%s" <sip:caller@198.51.100.15;%s=%s>' % ('A long contact name ' * 14, 'cp' * 30, 'cv' * 30),
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.15', 40200))

# 3.1.1.8: one UDP datagram holding a REGISTER (Content-Length: 0) and then
# an INVITE: the receiver takes the first message and discards the rest
# (RFC 3261 18.3).
FILES['dblreq.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'To: sip:kim@dsa.test',
    'From: sip:kim@dsa.test;tag=db1',
    'Max-Forwards: 70',
    'Call-ID: dbl.req.31@198.51.100.16',
    'CSeq: 2 REGISTER',
    'Via: SIP/2.0/UDP 198.51.100.16;branch=z9hG4bKdb1',
    'Content-Length: 0',
]) + msg([
    'INVITE sip:kim@dsa.test SIP/2.0',
    'To: sip:kim@dsa.test',
    'From: sip:lou@dsa.test;tag=db2',
    'Max-Forwards: 70',
    'Call-ID: dbl.inv.32@198.51.100.16',
    'CSeq: 5 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.17;branch=z9hG4bKdb2',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.17', 40300))

# 3.1.1.9: a ';' (and an escaped '@') inside the Request-URI's user part.
FILES['semiuri.dat'] = msg([
    'OPTIONS sip:ann;room=x%40dsa.test@gw.dsa.test SIP/2.0',
    'To: sip:ann;room=x%40dsa.test@gw.dsa.test',
    'From: sip:bo@dsa.test;tag=sm1',
    'Call-ID: semiuri.u1@198.51.100.18',
    'CSeq: 3 OPTIONS',
    'Via: SIP/2.0/UDP 198.51.100.18;branch=z9hG4bKsm1',
    'Accept: application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed',
    'Max-Forwards: 70',
    'Content-Length: 0',
])

# 3.1.1.10: Via values with every transport name and an unknown one.
FILES['transports.dat'] = msg([
    'OPTIONS sip:dsa.test SIP/2.0',
    'To: sip:dsa.test',
    'From: <sip:ops@dsa.test>;tag=tp0',
    'Call-ID: transports.c7@198.51.100.19',
    'Accept: application/sdp',
    'CSeq: 8 OPTIONS',
    'Via: SIP/2.0/UDP t1.dsa.test;branch=z9hG4bKtp1',
    'Via: SIP/2.0/SCTP t2.dsa.test;branch=z9hG4bKtp2',
    'Via: SIP/2.0/TLS t3.dsa.test;branch=z9hG4bKtp3',
    'Via: SIP/2.0/FROBNET t4.dsa.test;branch=z9hG4bKtp4',
    'Via: SIP/2.0/TCP t5.dsa.test;branch=z9hG4bKtp5',
    'Max-Forwards: 70',
    'Content-Length: 0',
])

# 3.1.1.11: a multipart/signed MESSAGE whose second part is binary
# (Content-Transfer-Encoding: binary) and holds NUL bytes.
sig = bytes(((i * 73 + 11) % 256) if i % 29 else 0 for i in range(300))
BND = b'dsa-torture-boundary-7q'
mbody = (b'--' + BND + CRLF + b'Content-Type: text/plain' + CRLF + CRLF +
         b'Torture message number eleven.' + CRLF + CRLF +
         b'--' + BND + CRLF + b'Content-Type: application/pkcs7-signature; name=smime.p7s' + CRLF +
         b'Content-Transfer-Encoding: binary' + CRLF +
         b'Content-Disposition: attachment; handling=required; filename=smime.p7s' + CRLF + CRLF +
         sig + CRLF + b'--' + BND + b'--' + CRLF)
FILES['mpart01.dat'] = msg([
    'MESSAGE sip:ann@dsa.test SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.20;branch=z9hG4bKmp1',
    'Max-Forwards: 70',
    'From: "Bo" <sip:bo@dsa.test>;tag=mp1',
    'To: <sip:ann@dsa.test>',
    'Call-ID: mpart01.f3@198.51.100.20',
    'CSeq: 101 MESSAGE',
    'Content-Type: multipart/signed;protocol="application/pkcs7-signature";micalg=sha256;boundary=%s' % BND.decode(),
    'Content-Length: {CL}',
], mbody)

# 3.1.1.12: a 200 whose reason phrase is UTF-8 text.
FILES['unreason.dat'] = msg([
    'SIP/2.0 200 Ça marche très bien — 好的 ✓',
    'Via: SIP/2.0/UDP 198.51.100.21;branch=z9hG4bKur1',
    'Call-ID: unreason.h5@198.51.100.21',
    'CSeq: 4 INVITE',
    'From: <sip:bo@dsa.test>;tag=ur1',
    'To: <sip:ann@dsa.test>;tag=ur2',
    'Contact: <sip:ann@198.51.100.22>',
    'Content-Type: application/sdp',
    'l: {CL}',
], sdp('198.51.100.22', 40400))

# 3.1.1.13: a response with an empty reason phrase (the SP after the code kept).
FILES['noreason.dat'] = msg([
    'SIP/2.0 100 ',
    'Via: SIP/2.0/UDP 198.51.100.23;branch=z9hG4bKnr1',
    'Call-ID: noreason.y2@198.51.100.23',
    'CSeq: 6 INVITE',
    'From: <sip:bo@dsa.test>;tag=nr1',
    'To: <sip:ann@dsa.test>',
    'Content-Length: 0',
])

# ---------------------------------------------------------------- 3.1.2 invalid

# 3.1.2.1: extra ';' and ',' separators without values in Via and Contact.
FILES['badinv01.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=bi1',
    'Max-Forwards: 70',
    'Call-ID: badinv01.r4@198.51.100.24',
    'CSeq: 7 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.24;;,;,,',
    'Contact: "Bo" <sip:bo@198.51.100.24>;;;;',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.24', 40500))

# 3.1.2.2: Content-Length larger than the body that follows (UDP).
FILES['clerr.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'Max-Forwards: 70',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=ce1',
    'Call-ID: clerr.m8@198.51.100.25',
    'CSeq: 8 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.25;branch=z9hG4bKce1',
    'Content-Type: application/sdp',
    'Content-Length: 7777',
], sdp('198.51.100.25', 40600))

# 3.1.2.3: a negative Content-Length.
FILES['ncl.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'Max-Forwards: 70',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=nc1',
    'Call-ID: ncl.b6@198.51.100.26',
    'CSeq: 9 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.26;branch=z9hG4bKnc1',
    'Content-Type: application/sdp',
    'Content-Length: -1501',
], sdp('198.51.100.26', 40700))

# 3.1.2.4: scalars out of range: CSeq > 2^32-1, Max-Forwards > 255, Expires
# and a Contact expires > 2^32-1.
FILES['scalar02.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'Via: SIP/2.0/TCP 198.51.100.27;branch=z9hG4bKsc2',
    'Max-Forwards: 4096',
    'From: <sip:ann@dsa.test>;tag=sc2',
    'To: <sip:ann@dsa.test>',
    'Call-ID: scalar02.d1@198.51.100.27',
    'CSeq: 98765432109876543210 REGISTER',
    'Contact: <sip:ann@198.51.100.27>',
    '  ;expires=55555555555555',
    'Expires: ' + '7' * 90,
    'Content-Length: 0',
])

# 3.1.2.5: a 503 with a 27-digit Retry-After (and a Warning whose code is
# not three digits).
FILES['scalarlg.dat'] = msg([
    'SIP/2.0 503 Service Unavailable',
    'Via: SIP/2.0/TCP 198.51.100.28;branch=z9hG4bKsl1',
    'To: <sip:ann@dsa.test>;tag=sl2',
    'From: <sip:bo@dsa.test>;tag=sl1',
    'Call-ID: scalarlg.v7@198.51.100.28',
    'CSeq: 11 OPTIONS',
    'Retry-After: 314159265358979323846264338',
    'Warning: 99999 gw.dsa.test "try much later"',
    'Content-Length: 0',
])

# 3.1.2.6: an unterminated quoted display name.
FILES['quotbal.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'To: "Dr. Ann Lee <sip:ann@dsa.test>',
    'From: sip:bo@dsa.test;tag=qb1',
    'Max-Forwards: 70',
    'Call-ID: quotbal.s3@198.51.100.29',
    'CSeq: 12 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.29;branch=z9hG4bKqb1',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.29', 40800))

# 3.1.2.7: a Request-URI in angle brackets.
FILES['ltgtruri.dat'] = msg([
    'INVITE <sip:ann@dsa.test> SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=lg1',
    'Max-Forwards: 70',
    'Call-ID: ltgtruri.n4@198.51.100.30',
    'CSeq: 13 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.30;branch=z9hG4bKlg1',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.30', 40900))

# 3.1.2.8: white space inside the Request-URI.
FILES['lwsruri.dat'] = msg([
    'INVITE sip:ann@dsa.test; transport=udp SIP/2.0',
    'Max-Forwards: 70',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=lr1',
    'Call-ID: lwsruri.w2@198.51.100.31',
    'CSeq: 14 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.31;branch=z9hG4bKlr1',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.31', 41000))

# 3.1.2.9: several SP between the start line's elements.
FILES['lwsstart.dat'] = msg([
    'INVITE   sip:ann@dsa.test  SIP/2.0',
    'Max-Forwards: 70',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=ls1',
    'Call-ID: lwsstart.g9@198.51.100.32',
    'CSeq: 15 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.32;branch=z9hG4bKls1',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.32', 41100))

# 3.1.2.10: white space after SIP-Version on the start line.
FILES['trws.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/2.0  ',
    'Via: SIP/2.0/UDP 198.51.100.33;branch=z9hG4bKtw1',
    'Max-Forwards: 70',
    'From: <sip:bo@dsa.test>;tag=tw1',
    'To: <sip:ann@dsa.test>',
    'Call-ID: trws.e5@198.51.100.33',
    'CSeq: 16 OPTIONS',
    'Content-Length: 0',
])

# 3.1.2.11: escaped headers (?name=value) in a SIP Request-URI.
FILES['escruri.dat'] = msg([
    'INVITE sip:ann@dsa.test?Subject=hello%20there&Priority=urgent SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=er1',
    'Max-Forwards: 70',
    'Call-ID: escruri.t6@198.51.100.34',
    'CSeq: 17 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.34;branch=z9hG4bKer1',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.34', 41200))

# 3.1.2.12: a Date with a time zone other than GMT.
FILES['baddate.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=bd0',
    'Max-Forwards: 70',
    'Call-ID: baddate.a8@198.51.100.35',
    'CSeq: 18 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.35;branch=z9hG4bKbd0',
    'Date: Sat, 13 Mar 2027 09:15:00 PST',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.35', 41300))

# 3.1.2.13: a Contact URI with escaped headers (?) not enclosed in <>.
FILES['regbadct.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:ann@dsa.test;tag=rb1',
    'Max-Forwards: 70',
    'Call-ID: regbadct.o3@198.51.100.36',
    'CSeq: 19 REGISTER',
    'Via: SIP/2.0/UDP 198.51.100.36;branch=z9hG4bKrb1',
    'Contact: sip:ann@198.51.100.36?Route=%3Csip:edge.dsa.test%3E',
    'l: 0',
])

# 3.1.2.14: spaces inside the angle brackets around an addr-spec.
FILES['badaspec.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.37;branch=z9hG4bKba1',
    'Max-Forwards: 70',
    'From: "Bo" <sip:bo@dsa.test>;tag=ba1',
    'To: "Lee, Ann" < sip:ann@dsa.test >',
    'Call-ID: badaspec.i2@198.51.100.37',
    'CSeq: 20 OPTIONS',
    'l: 0',
])

# 3.1.2.15: a display name with non-token characters (a comma) and no quotes.
FILES['baddn.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.38;branch=z9hG4bKbn1',
    'Max-Forwards: 70',
    'From: Lee, Bo <sip:bo@dsa.test>;tag=bn1',
    'To: "Lee, Ann" <sip:ann@dsa.test>',
    'Call-ID: baddn.j7@198.51.100.38',
    'CSeq: 21 OPTIONS',
    'l: 0',
])

# 3.1.2.16: an unknown SIP version on the start line and in Via.
FILES['badvers.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/9.1',
    'Via: SIP/9.1/UDP 198.51.100.39;branch=z9hG4bKbv1',
    'To: <sip:ann@dsa.test>',
    'From: <sip:bo@dsa.test>;tag=bv1',
    'Call-ID: badvers.k4@198.51.100.39',
    'CSeq: 22 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
])

# 3.1.2.17: the CSeq method differs from the start line's (known method).
FILES['mismatch01.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=mm1',
    'Max-Forwards: 70',
    'Call-ID: mismatch01.l5@198.51.100.40',
    'CSeq: 23 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.40;branch=z9hG4bKmm1',
    'l: 0',
])

# 3.1.2.18: an unknown method whose CSeq names another method.
FILES['mismatch02.dat'] = msg([
    'FROBNICATE sip:ann@dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=mm2',
    'Max-Forwards: 70',
    'Call-ID: mismatch02.x1@198.51.100.41',
    'CSeq: 24 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.41;branch=z9hG4bKmm2',
    'Content-Type: application/sdp',
    'l: {CL}',
], sdp('198.51.100.41', 41400))

# 3.1.2.19: a response code far beyond three digits.
FILES['bigcode.dat'] = msg([
    'SIP/2.0 8589934593 this reply should not hurt',
    'Via: SIP/2.0/UDP 198.51.100.42;branch=z9hG4bKbc9',
    'Call-ID: bigcode.q0@198.51.100.42',
    'CSeq: 25 OPTIONS',
    'From: sip:bo@dsa.test;tag=bc9',
    'To: sip:ann@dsa.test;tag=bc8',
    'Content-Length: 0',
])

# ---------------------------------------------------------------- 3.2 transaction layer

# 3.2.1: a branch that is only the RFC 3261 magic cookie.
FILES['badbranch.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=bb1',
    'Max-Forwards: 70',
    'Call-ID: badbranch.c2@198.51.100.43',
    'CSeq: 26 OPTIONS',
    'Via: SIP/2.0/UDP 198.51.100.43;branch=z9hG4bK',
    'Via: SIP/2.0/UDP 198.51.100.44;branch=z9hG4bKbelow',
    'Content-Length: 0',
])

# ---------------------------------------------------------------- 3.3 application layer

# 3.3.1: no Call-ID, From or To.
FILES['insuf.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'CSeq: 27 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.45;branch=z9hG4bKin1',
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    'l: {CL}',
], sdp('198.51.100.45', 41500))

# 3.3.2: a Request-URI with a scheme nobody knows.
FILES['unkscm.dat'] = msg([
    'OPTIONS frobscheme:whatever-opaque-bytes-follow SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=us1',
    'Max-Forwards: 70',
    'Call-ID: unkscm.z8@198.51.100.46',
    'CSeq: 28 OPTIONS',
    'Via: SIP/2.0/UDP 198.51.100.46;branch=z9hG4bKus1',
    'l: 0',
])

# 3.3.3: a Request-URI with a known but unusual scheme.
FILES['novelsc.dat'] = msg([
    'OPTIONS soap.beeps://198.51.100.47:6020 SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=nv1',
    'Max-Forwards: 70',
    'Call-ID: novelsc.f6@198.51.100.47',
    'CSeq: 29 OPTIONS',
    'Via: SIP/2.0/UDP 198.51.100.47;branch=z9hG4bKnv1',
    'l: 0',
])

# 3.3.4: unknown URI schemes in To, From and Contact of a REGISTER.
FILES['unksm2.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'To: isbn:9780000000002',
    'From: <http://www.dsa.test/ann>;tag=u21',
    'Max-Forwards: 70',
    'Call-ID: unksm2.h3@198.51.100.48',
    'CSeq: 30 REGISTER',
    'Via: SIP/2.0/UDP 198.51.100.48;branch=z9hG4bKu21',
    'Contact: <name:Ann_Lee>',
    'l: 0',
])

# 3.3.5: Require and Proxy-Require with option tags nobody supports.
FILES['bext01.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=be1',
    'Max-Forwards: 70',
    'Call-ID: bext01.p7@198.51.100.49',
    'Proxy-Require: noProxyKnowsThisOne',
    'CSeq: 31 OPTIONS',
    'Require: unheardOfExtension, neverHeardOfItEither',
    'Via: SIP/2.0/UDP 198.51.100.49;branch=z9hG4bKbe1',
    'l: 0',
])

# 3.3.6: a body of an unknown content type.
FILES['invut.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'Contact: <sip:bo@198.51.100.50>',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=iu1',
    'Max-Forwards: 70',
    'Call-ID: invut.r9@198.51.100.50',
    'CSeq: 32 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.50;branch=z9hG4bKiu1',
    'Content-Type: application/x-frobnitz-media',
    'Content-Length: {CL}',
], b'<frob version="3"><knob>11</knob><dial spin="left"/></frob>' + CRLF)

# 3.3.7: a REGISTER with an Authorization of an unknown scheme.
FILES['regaut01.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:ann@dsa.test;tag=ra1',
    'Max-Forwards: 70',
    'Call-ID: regaut01.w0@198.51.100.51',
    'CSeq: 33 REGISTER',
    'Via: SIP/2.0/UDP 198.51.100.51;branch=z9hG4bKra1',
    'Authorization: FrobAuth cred="7d4f1a", realm="dsa.test"',
    'l: 0',
])

# 3.3.8: several values in Call-ID, To, From, Max-Forwards and CSeq.
FILES['multi01.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.52;branch=z9hG4bKmu1',
    'Max-Forwards: 70',
    'CSeq: 34 INVITE',
    'Call-ID: multi01.b4@198.51.100.52',
    'Contact: <sip:bo@198.51.100.52>',
    'Call-ID: multi01.b5@198.51.100.52',
    'To: sip:ann@dsa.test',
    'Supported: replaces, timer',
    'From: sip:bo@dsa.test;tag=mu1',
    'From: sip:cy@dsa.test;tag=mu2',
    'Max-Forwards: 65',
    'CSeq: 35 INVITE',
    'To: sip:dee@dsa.test',
    'Contact: <sip:cy@198.51.100.53>',
    'Content-Type: application/sdp',
    'l: {CL}',
], sdp('198.51.100.52', 41600))

# 3.3.9: two Content-Length headers with different values (neither the body's).
FILES['mcl01.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.53;branch=z9hG4bKmc1',
    'To: sip:ann@dsa.test',
    'Call-ID: mcl01.y6@198.51.100.53',
    'CSeq: 36 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 11',
    'From: sip:bo@dsa.test;tag=mc1',
    'Content-Length: 4',
    'Content-Type: text/plain',
], 'Which of the two lengths holds? Neither matches this body.' + '\r\n')

# 3.3.10: a response with a broadcast address in a Via's sent-by.
FILES['bcast.dat'] = msg([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 198.51.100.54;branch=z9hG4bKbr1',
    'Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKbr0',
    'Call-ID: bcast.m1@198.51.100.54',
    'CSeq: 37 INVITE',
    'From: sip:bo@dsa.test;tag=br1',
    'To: sip:ann@dsa.test;tag=br2',
    'Contact: <sip:ann@198.51.100.54>',
    'Content-Type: application/sdp',
    'Content-Length: {CL}',
], sdp('198.51.100.54', 41900))

# 3.3.11: Max-Forwards of zero on an OPTIONS.
FILES['zeromf.dat'] = msg([
    'OPTIONS sip:ann@dsa.test SIP/2.0',
    'Call-ID: zeromf.s5@198.51.100.55',
    'CSeq: 38 OPTIONS',
    'Via: SIP/2.0/UDP 198.51.100.55;branch=z9hG4bKzm1',
    'Max-Forwards: 0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=zm1',
    'l: 0',
])

# 3.3.12: a Contact without <> whose parameter is a header parameter.
FILES['cparam01.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.56;branch=z9hG4bKcp1',
    'Max-Forwards: 70',
    'From: sip:+15550100@dsa.test;tag=cp1',
    'To: sip:+15550100@dsa.test',
    'Call-ID: cparam01.g2@198.51.100.56',
    'CSeq: 39 REGISTER',
    'Contact: sip:+15550100@gw.dsa.test;mystery',
    'l: 0',
])

# 3.3.13: the same parameter inside <> (a URI parameter).
FILES['cparam02.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.57;branch=z9hG4bKcp2',
    'Max-Forwards: 70',
    'From: sip:+15550101@dsa.test;tag=cp2',
    'To: sip:+15550101@dsa.test',
    'Call-ID: cparam02.g3@198.51.100.57',
    'CSeq: 40 REGISTER',
    'Contact: <sip:+15550101@gw.dsa.test;mystery>',
    'l: 0',
])

# 3.3.14: a REGISTER whose Contact URI (in <>) carries an escaped header.
FILES['regescrt.dat'] = msg([
    'REGISTER sip:dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:ann@dsa.test;tag=re1',
    'Max-Forwards: 70',
    'Call-ID: regescrt.k8@198.51.100.58',
    'CSeq: 41 REGISTER',
    'Via: SIP/2.0/UDP 198.51.100.58;branch=z9hG4bKre1',
    'Contact: <sip:ann@198.51.100.58?Route=%3Csip:edge.dsa.test%3E>',
    'l: 0',
])

# 3.3.15: an SDP offer with an Accept that lists no type we could answer in.
FILES['sdp01.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=sd1',
    'Max-Forwards: 70',
    'Call-ID: sdp01.n5@198.51.100.59',
    'CSeq: 42 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.59;branch=z9hG4bKsd1',
    'Accept: text/x-nobody-knows',
    'Content-Type: application/sdp',
    'l: {CL}',
], sdp('198.51.100.59', 41700))

# ---------------------------------------------------------------- 3.4 backward compatibility

# 3.4.1: an RFC 2543 INVITE: no branch, no From tag, no Max-Forwards, no
# Content-Length (the body is the rest of the datagram).
FILES['inv2543.dat'] = msg([
    'INVITE sip:ann@dsa.test SIP/2.0',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test',
    'Call-ID: inv2543.c9@198.51.100.60',
    'CSeq: 1 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.60',
    'Contact: sip:bo@198.51.100.60',
    'Content-Type: application/sdp',
], sdp('198.51.100.60', 41800))

# Not a section of the RFC: its archive also holds a request whose start line
# has no SIP-Version; ours has the same defect.
FILES['test.dat'] = msg([
    'INVITE sip:ann@dsa.test',
    'To: sip:ann@dsa.test',
    'From: sip:bo@dsa.test;tag=nv0',
    'Max-Forwards: 70',
    'Call-ID: test.nover@198.51.100.61',
    'CSeq: 43 INVITE',
    'Via: SIP/2.0/UDP 198.51.100.61;branch=z9hG4bKnv0',
    'l: 0',
])


def main():
    for name, data in sorted(FILES.items()):
        with open(os.path.join(HERE, name), 'wb') as f:
            f.write(data)
    print('%d files written to %s' % (len(FILES), HERE))


if __name__ == '__main__':
    main()
