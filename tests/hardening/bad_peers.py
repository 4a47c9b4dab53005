"""bad_peers.py - misbehaving TLS peers and clients for
tests/integration/test_hardening_peers.sh (run with /usr/bin/python3).

  bad_peers.py client KIND HOST PORT [OUT]
      one bad client against a TLS server: KIND is
        random     4 KB of random bytes
        http       a plaintext HTTP request
        truncated  the first 60 bytes of a real ClientHello, then close
        stall      the first 60 bytes of a real ClientHello, then silence
        silent     nothing at all (holds the connection for 4 s)
      prints what came back (hex, first 64 bytes) and its length.

  bad_peers.py midrecord PORT CERT KEY
      a TLS server that completes the handshake, reads a request, then
      sends half of one application-data record and closes the TCP
      connection.

  bad_peers.py garbage PORT
      a server that answers anything with 2 KB of random bytes.
"""
import os
import socket
import ssl
import sys
import threading
import time


def client_hello():
    """The first bytes a real TLS client sends (via memory BIOs)."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def bad_client(kind, host, port):
    s = socket.create_connection((host, port), timeout=6)
    if kind == "random":
        s.sendall(os.urandom(4096))
    elif kind == "http":
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    elif kind in ("truncated", "stall"):
        s.sendall(client_hello()[:60])
        if kind == "truncated":
            s.shutdown(socket.SHUT_WR)
    elif kind == "silent":
        time.sleep(4)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    print("%s: received %d bytes: %s" % (kind, len(got), got[:64].hex()))


def serve_forever(port, handle):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def midrecord(port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def handle(c):
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_side=True)
        c.settimeout(10)
        try:
            while True:
                try:
                    obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    c.sendall(out.read())
                    inc.write(c.recv(65536))
            c.sendall(out.read())
            # Wait for the request, then answer with a cut record.
            while True:
                try:
                    obj.read(65536)
                    break
                except ssl.SSLWantReadError:
                    data = c.recv(65536)
                    if not data:
                        return
                    inc.write(data)
            c.sendall(out.read())  # tickets and the like, if any
            obj.write(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 3000)
            record = out.read()
            c.sendall(record[: len(record) // 2])
            time.sleep(0.2)
        except OSError:
            pass
        finally:
            c.close()

    serve_forever(port, handle)


def garbage(port):
    def handle(c):
        try:
            c.settimeout(5)
            c.recv(65536)
            c.sendall(os.urandom(2048))
            time.sleep(0.5)
        except OSError:
            pass
        c.close()

    serve_forever(port, handle)


if __name__ == "__main__":
    if sys.argv[1] == "client":
        bad_client(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "midrecord":
        midrecord(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "garbage":
        garbage(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
