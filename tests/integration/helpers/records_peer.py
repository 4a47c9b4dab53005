#!/usr/bin/env python3
"""records_peer.py - a real TLS server (Python's ssl, i.e. OpenSSL) that
sends one connection a fixed plan of application-data records of mixed
sizes, grouped and split on the wire in the ways a reader must survive.

    records_peer.py PORT CERT KEY SUMFILE

The plan (PLAN below) alternates full-size records (16384 bytes, what bulk
transfers send) with small ones, so that a reader which adapts how it
receives to the record sizes switches back and forth.  Each step is sent
one of three ways:

    each      every record in its own sendall(), 2 ms apart
    together  all records of the step in one sendall(): a record's end and
              the next header arrive in one segment
    split     the records cut into pieces at awkward offsets (inside the
              5-byte header, just after it, inside the body), 20 ms apart

The plaintext is a fixed stream of hex digits (the SHA-256 of
"records-0", "records-1", ... in hex, one after the other); its SHA-256 and length go
to SUMFILE ("LENGTH HEX") before the first byte is sent.  Records are built
with ssl.MemoryBIO, so their sizes on the wire are exactly the plan's.
After the plan the peer sends close_notify and closes.
"""
import hashlib
import socket
import ssl
import sys
import time

FULL = 16384
PLAN = [
    ("each", [FULL] * 4),
    ("together", [FULL] * 6),
    ("each", [5, 1, 300]),
    ("together", [FULL, 7, FULL, FULL, 2]),
    ("split", [FULL, FULL]),
    ("together", [4095, 4096, 4097, FULL]),
    ("split", [3, FULL, 10, FULL]),
    ("each", [FULL, 100, FULL, 1]),
    ("together", [1] * 20 + [FULL] * 3),
    ("split", [FULL]),
]
# Where "split" cuts the wire bytes of a record: inside the header, right
# after it, and inside the body.
CUTS = [2, 5, 4000]


def stream(n):
    """The first n bytes of the plaintext stream."""
    out = bytearray()
    block = 0
    while len(out) < n:
        out += hashlib.sha256(b"records-%d" % block).hexdigest().encode()
        block += 1
    return bytes(out[:n])


def main():
    port, cert, key, sumfile = sys.argv[1:5]
    total = sum(sum(sizes) for _, sizes in PLAN)
    data = stream(total)
    with open(sumfile, "w") as f:
        f.write("%d %s\n" % (total, hashlib.sha256(data).hexdigest()))

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.create_server(("127.0.0.1", int(port)))
    conn, _ = srv.accept()
    conn.settimeout(30)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_side=True)
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            conn.sendall(out.read())
            got = conn.recv(65536)
            if not got:
                sys.exit("records_peer: the client left during the handshake")
            inc.write(got)
    conn.sendall(out.read())  # the server's last flight and the tickets

    off = 0
    for how, sizes in PLAN:
        records = []
        for n in sizes:
            tls.write(data[off:off + n])
            off += n
            records.append(out.read())
        if how == "together":
            conn.sendall(b"".join(records))
        elif how == "each":
            for r in records:
                conn.sendall(r)
                time.sleep(0.002)
        else:
            for r in records:
                last = 0
                for cut in CUTS + [len(r)]:
                    if last < cut <= len(r):
                        conn.sendall(r[last:cut])
                        last = cut
                        time.sleep(0.02)
    try:
        tls.unwrap()
    except ssl.SSLWantReadError:
        pass
    conn.sendall(out.read())
    # Wait for the client to finish reading before closing.
    conn.shutdown(socket.SHUT_WR)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
    conn.close()


main()
