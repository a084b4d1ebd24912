#!/usr/bin/env python3
"""regstat.py - REGISTER traffic at the registrar, from a pcap of lo.

Reads a tcpdump capture (Ethernet or Linux cooked framing, IPv4/UDP) of the
registrar's port and answers questions about one group of phones (a source
address prefix such as 127.1.) in a time window:

  regstat.py PCAP PORT PREFIX rate T0 T1
      REGISTER packets, transactions (Call-ID + CSeq: retransmissions count
      once), peak and median per second (median over the seconds of the
      window that saw any), as "packets tx peak median".
  regstat.py PCAP PORT PREFIX registered T0 T1 [N]
      for every phone whose first 200 OK to a REGISTER came in [T0, T1]
      (windows hold no unregistration): how many, and the seconds from T0 to the last of them
      (the time until all N are registered), as "count last_s".
  regstat.py PCAP PORT PREFIX first200 T0 T1
      seconds from T0 to the first 200 OK to a REGISTER in [T0, T1] ("" if none).

Only the standard library; bounded by the file's size.
"""
import struct
import sys


def packets(path, port):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack('<I', data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        end = '<'
    else:
        end = '>'
        magic = struct.unpack('>I', data[:4])[0]
    nano = magic == 0xa1b23c4d
    link = struct.unpack(end + 'I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + 'IIII', data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break                  # the capture is still being written
        pkt = data[off:off + incl]
        off += incl
        t = sec + frac / (1e9 if nano else 1e6)
        if link == 1:          # Ethernet
            if len(pkt) < 14 or pkt[12:14] != b'\x08\x00':
                continue
            ip = pkt[14:]
        elif link == 113:      # Linux cooked
            if len(pkt) < 16 or pkt[14:16] != b'\x08\x00':
                continue
            ip = pkt[16:]
        elif link == 0:        # BSD loopback
            ip = pkt[4:]
        else:
            continue
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        src = '.'.join(str(b) for b in ip[12:16])
        dst = '.'.join(str(b) for b in ip[16:20])
        sp, dp = struct.unpack('>HH', ip[ihl:ihl + 4])
        if sp != port and dp != port:
            continue
        yield t, src, sp, dst, dp, ip[ihl + 8:]


def header(payload, names):
    for line in payload.split(b'\r\n')[1:]:
        if not line:
            break
        k, _, v = line.partition(b':')
        if k.strip().lower() in names:
            return v.strip()
    return b''


def main(argv):
    path, port, prefix, what = argv[1], int(argv[2]), argv[3], argv[4]
    t0, t1 = float(argv[5]), float(argv[6])
    if what == 'rate':
        per_s, txs, n = {}, set(), 0
        for t, src, sp, dst, dp, pl in packets(path, port):
            if dp != port or not src.startswith(prefix) or not (t0 <= t < t1):
                continue
            if not pl.startswith(b'REGISTER '):
                continue
            n += 1
            per_s[int(t - t0)] = per_s.get(int(t - t0), 0) + 1
            txs.add((src, header(pl, (b'call-id', b'i')), header(pl, (b'cseq',))))
        vals = sorted(per_s.values())
        med = vals[len(vals) // 2] if vals else 0
        print(n, len(txs), max(vals) if vals else 0, med)
    elif what in ('registered', 'first200'):
        first = {}
        for t, src, sp, dst, dp, pl in packets(path, port):
            if sp != port or not dst.startswith(prefix) or not (t0 <= t < t1):
                continue
            if not pl.startswith(b'SIP/2.0 200') or b'REGISTER' not in header(pl, (b'cseq',)):
                continue
            first.setdefault(dst, t)
        if what == 'first200':
            print('%.4f' % (min(first.values()) - t0) if first else '')
        else:
            print(len(first), '%.2f' % (max(first.values()) - t0) if first else 'nan')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
