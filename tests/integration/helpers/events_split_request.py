#!/usr/bin/env python3
"""events_split_request.py - an HTTPS client that sends its request as
several TLS records in one TCP write, then prints the response.

    events_split_request.py HOST PORT CA PATH [RECORDS] [TIMEOUT]

The request (GET PATH, Connection: close) is cut into RECORDS pieces
(default 3), each its own TLS application-data record, all handed to the
kernel with a single sendall, so that they reach the server together.  A
server whose TLS layer returns one record per read while the others wait in
the socket (and whose event loop is edge-triggered, like nginx) never sees
the end of the request: the client then times out after TIMEOUT seconds
(default 5) and exits 1.  On success the response is on stdout, exit 0.
"""
import socket
import ssl
import sys


def main():
    host, port, ca, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    pieces = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 5.0

    ctx = ssl.create_default_context(cafile=ca)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=host)
    sock = socket.create_connection((host, port), timeout=timeout)

    def flush():
        data = out.read()
        if data:
            sock.sendall(data)

    def fill():
        data = sock.recv(65536)
        if not data:
            raise EOFError("server closed the connection")
        inc.write(data)

    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush()
            fill()
    flush()

    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: split-request\r\n"
               "Connection: close\r\n\r\n" % (path, host)).encode()
    step = -(-len(request) // pieces)
    for i in range(0, len(request), step):
        tls.write(request[i:i + step])    # one record each ...
    flush()                               # ... one TCP write for all

    response = b""
    try:
        while True:
            try:
                chunk = tls.read(65536)
            except ssl.SSLWantReadError:
                fill()
                continue
            if not chunk:
                break
            response += chunk
    except ssl.SSLZeroReturnError:
        pass
    except EOFError:
        pass
    except socket.timeout:
        sys.stdout.buffer.write(response)
        print("\nsplit-request: no complete response after %.0f s" % timeout,
              file=sys.stderr)
        sys.exit(1)
    sys.stdout.buffer.write(response)


if __name__ == "__main__":
    main()
