#!/usr/bin/env python3
"""events_tls_peer.py - a real TLS server (Python's ssl, i.e. OpenSSL) that
sends TLS records in shapes chosen by its client, for readiness_probe.

    events_tls_peer.py PORT CERT KEY

Each connection is served by its own thread.  After the handshake the client
sends command lines; the peer answers each one:

    TWO N1 N2      two application-data records of N1 and N2 bytes, both
                   written before the client reads anything (one sendall
                   of both records, so they arrive in one TCP segment)
    BIG            one record of 16384 bytes (the largest TLS allows)
    LATER MS N     wait MS milliseconds, then one record of N bytes
    SINK           stop reading: the client's writes fill the socket
                   buffers (for the close/shutdown checks)

Record sizes are exact: the records are built with ssl.MemoryBIO, so the
shape on the wire is what was asked for, not what the ssl module's
buffering makes of it.
"""
import socket
import ssl
import sys
import threading
import time


def serve(conn, ctx):
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_side=True)

    def flush():
        data = out.read()
        if data:
            conn.sendall(data)

    def fill():
        data = conn.recv(65536)
        if not data:
            raise EOFError
        inc.write(data)

    try:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                flush()
                fill()
        flush()
        pending = b""
        while True:
            try:
                chunk = tls.read(65536)
            except ssl.SSLWantReadError:
                flush()
                fill()
                continue
            except ssl.SSLZeroReturnError:
                return
            if not chunk:
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                words = line.decode().split()
                if not words:
                    continue
                cmd = words[0]
                if cmd == "TWO":
                    # Both records into the outgoing BIO, then one send.
                    tls.write(b"a" * int(words[1]))
                    tls.write(b"b" * int(words[2]))
                    flush()
                elif cmd == "BIG":
                    tls.write(b"c" * 16384)
                    flush()
                elif cmd == "LATER":
                    time.sleep(int(words[1]) / 1000.0)
                    tls.write(b"d" * int(words[2]))
                    flush()
                elif cmd == "SINK":
                    # Hold the connection without reading until the client
                    # goes away (at most a minute).
                    conn.settimeout(60)
                    time.sleep(60)
                    return
    except (EOFError, OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(64)
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve, args=(conn, ctx), daemon=True).start()


if __name__ == "__main__":
    main()
