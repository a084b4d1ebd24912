#!/usr/bin/env python3
"""ctlsend.py SOCKET MODE - send raw bytes to the agent's control socket and print what comes back.

MODE: garbage | truncated | big | slow | valid | json  (see test-daemon.sh)
Prints the reply lines; exit 0 when the connection ended (reply or close) within 8 s.
"""
import socket
import sys
import time

path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(8)
s.connect(path)
try:
    if mode == "garbage":
        s.sendall(b"\x00\xff\xfegarbage{{{\n")
    elif mode == "truncated":
        s.sendall(b'{"v":1,"cmd":"sta')
        s.shutdown(socket.SHUT_WR)
    elif mode == "big":
        chunk = b"A" * 65536
        try:
            for _ in range(16):  # 1 MiB, bounded
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
    elif mode == "slow":
        s.sendall(b'{"v":1,')  # never finishes: the daemon must time out
    else:
        line = b'{"v":1,"cmd":"status"}' if mode == "valid" else mode.encode()
        try:
            s.sendall(line + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon may refuse and close before reading: read its reply

    out = b""
    deadline = time.time() + 8
    while time.time() < deadline:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not d:
            break
        out += d
    sys.stdout.write(out.decode(errors="replace"))
except socket.timeout:
    print("TIMEOUT")
    sys.exit(1)
