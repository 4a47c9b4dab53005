#!/usr/bin/env python3
"""events_stall.py - clients that open TLS connections and never finish
their handshakes, for test_stalled_handshake.sh.

    events_stall.py HOST PORT SECONDS

Opens two connections: "silent" sends nothing at all; "partial" sends the
first half of a real ClientHello (made by Python's ssl) and nothing more.
It prints "ready" once both are connected, then watches them for at most
SECONDS and prints, for each, "NAME closed after S.S s" when the server
ends it, or "NAME open after S.S s" if it is still open at the end.
"""
import select
import socket
import ssl
import sys
import time


def client_hello():
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def main():
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    hello = client_hello()
    conns = {}
    for name in ("silent", "partial"):
        s = socket.create_connection((host, port))
        conns[name] = s
    conns["partial"].sendall(hello[:len(hello) // 2])
    start = time.monotonic()
    print("ready", flush=True)

    open_ = dict(conns)
    while open_:
        left = seconds - (time.monotonic() - start)
        if left <= 0:
            break
        readable, _, _ = select.select(list(open_.values()), [], [], left)
        for s in readable:
            name = [n for n, c in open_.items() if c is s][0]
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                print("%s closed after %.1f s" % (name, time.monotonic() - start),
                      flush=True)
                del open_[name]
    for name in open_:
        print("%s open after %.1f s" % (name, time.monotonic() - start), flush=True)


if __name__ == "__main__":
    main()
