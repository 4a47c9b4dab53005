#!/usr/bin/env python3
"""events_pipeline.py - an HTTPS client that pipelines two requests and
then stops reading for a while, for test_nginx_pipelined.sh.

    events_pipeline.py HOST PORT CA BIG_PATH SMALL_PATH STALL_S OUT_FILE

Sends "GET BIG_PATH" and "GET SMALL_PATH" (the second with a 3 KB header,
so that it cannot fit in nginx's first 1 KB read) in one write, reads 100
bytes, prints "stalling", sleeps STALL_S seconds without reading (the
server's socket fills up while it still holds the second request, already
decrypted, inside the TLS session), prints "reading", then reads both
responses: the first body goes to OUT_FILE, the second body to stdout.
"""
import io
import socket
import ssl
import sys
import time


def read_response(f):
    status = f.readline()
    length = None
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, f.read(length)


def main():
    host, port, ca, big, small, stall, out = sys.argv[1:8]
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection((host, int(port)), timeout=30)
    s = ctx.wrap_socket(raw, server_hostname=host)
    pad = "X-Pad: " + "p" * 3000 + "\r\n"
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
               "GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n"
               % (big, host, small, host, pad)).encode())
    f = s.makefile("rb")
    head = f.read(100)
    print("stalling", flush=True)
    time.sleep(float(stall))
    print("reading", flush=True)
    # The 100 bytes read before the stall go back in front of the rest
    # (Connection: close on the second request: read to the end).
    stream = io.BufferedReader(io.BytesIO(head + f.read()))
    status1, body1 = read_response(stream)
    status2, body2 = read_response(stream)
    open(out, "wb").write(body1)
    sys.stderr.write("first: %s second: %s" % (status1.decode().strip(),
                                               status2.decode()))
    sys.stdout.buffer.write(body2)


if __name__ == "__main__":
    main()
