"""shim_client.py - a plaintext client meant to run under the launcher
(tests/integration/test_hardening_peers.sh): for each HOST:PORT argument, in
order, in one process, it connects, sends an HTTP request carrying SECRET,
reads the answer, and prints one line "PORT ok N" or "PORT error TEXT".

  shim_client.py SECRET HOST:PORT...
"""
import socket
import sys

secret = sys.argv[1]
for target in sys.argv[2:]:
    host, port = target.rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=15)
        s.sendall(("GET /index.html?%s HTTP/1.0\r\nHost: %s\r\nX-Secret: %s\r\n\r\n"
                   % (secret, host, secret)).encode())
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        print("%s ok %d %s" % (port, len(got), got[:200].decode("latin-1").replace("\r\n", " | ")), flush=True)
    except OSError as e:
        print("%s error %s" % (port, e), flush=True)
