#!/usr/bin/env bash
#
# test_msg_more.sh - records of one write leave together, and nothing is
# left waiting in TCP when the write is over.
#
# The shim sends every record of a write but the last with MSG_MORE, so
# that TCP fills its segments (shim/session.c); sendfile() and large
# writev()/sendmsg() pass MSG_MORE between their pieces (shim/interpose.c).
# Data sent with MSG_MORE waits in the socket until something pushes it, so
# a write that ends early (sendfile past the end of its file) must push
# what it left corked.  A plaintext Python client under tlsshim, with
# TCP_NODELAY (so that only MSG_MORE can hold data back), checks after each
# call how many bytes wait unsent in its socket (ioctl SIOCOUTQNSD):
#
#   sendfile of a 1,000-byte file asking for 100,000 bytes    0 unsent
#   sendmsg of 3 pieces of 10,000 bytes (the piecewise path)  0 unsent
#   send(MSG_MORE) of 100 bytes: the program's own cork       some unsent
#   send of 100 more bytes without it                         0 unsent
#
# A real TLS server (Python's ssl, i.e. OpenSSL) must receive exactly the
# bytes sent (count and SHA-256); the wire carries TLS only.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

P=$(free_port)
client_conf more "$P"
head -c 1000 /dev/urandom >"$T/small.bin"

cat >"$T/peer.py" <<'PY'
import hashlib, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv = socket.create_server(("127.0.0.1", int(sys.argv[1])))
conn, _ = srv.accept()
conn.settimeout(30)
tls = ctx.wrap_socket(conn, server_side=True)
want = int(sys.argv[4])
got = b""
while len(got) < want:
    data = tls.recv(65536)
    if not data:
        break
    got += data
tls.sendall(b"%d %s\n" % (len(got), hashlib.sha256(got).hexdigest().encode()))
tls.close()
PY

cat >"$T/client.py" <<'PY'
import fcntl, hashlib, os, socket, struct, sys
SIOCOUTQNSD = 0x894B

def unsent(s):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), SIOCOUTQNSD, b"\0" * 4))[0]

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sent = b""
with open(sys.argv[2], "rb") as f:
    n = os.sendfile(s.fileno(), f.fileno(), 0, 100000)
    f.seek(0)
    sent += f.read(n)
print("sendfile: %d bytes, %d unsent" % (n, unsent(s)))
pieces = [bytes([65 + i]) * 10000 for i in range(3)]
n = s.sendmsg(pieces)
sent += b"".join(pieces)[:n]
print("sendmsg: %d bytes, %d unsent" % (n, unsent(s)))
n = s.send(b"m" * 100, socket.MSG_MORE)
sent += b"m" * n
print("send MSG_MORE: %d bytes, %s unsent" % (n, "some" if unsent(s) > 0 else "none"))
n = s.send(b"e" * 100)
sent += b"e" * n
print("send: %d bytes, %d unsent" % (n, unsent(s)))
s.settimeout(30)
answer = b""
while not answer.endswith(b"\n"):
    data = s.recv(100)
    if not data:
        break
    answer += data
print("peer got:", answer.decode().strip())
print("client sent:", len(sent), hashlib.sha256(sent).hexdigest())
PY

wire_start "$P"
bg peer "$PY" "$T/peer.py" "$P" "$CERTS/server.pem" "$CERTS/server.key" 31200
wait_port "$P" peer
RUN_TIMEOUT=60 run client "$TLSSHIM" -p "$T/client.conf" -l info -- \
    "$PY" "$T/client.py" "$P" "$T/small.bin"
cat "$T/client.out" >&2
assert_rc 0 client
wait "$(bg_pid peer)" || fail "the peer failed: $(tail -n 5 "$T/peer.err")"
wire_stop

assert_contains "$T/client.out" "sendfile: 1000 bytes, 0 unsent"
assert_contains "$T/client.out" "sendmsg: 30000 bytes, 0 unsent"
assert_contains "$T/client.out" "send MSG_MORE: 100 bytes, some unsent"
assert_contains "$T/client.out" "send: 100 bytes, 0 unsent"
peer=$(sed -n 's/^peer got: //p' "$T/client.out")
mine=$(sed -n 's/^client sent: //p' "$T/client.out")
assert_eq "$mine" "$peer" "what the TLS peer received (count and SHA-256)"
assert_match "$T/client.out" '^client sent: 31200 [0-9a-f]{64}$'
assert_contains "$T/client.err" "connect 127.0.0.1:$P"
wire_assert_absent "mmmmmmmmmmmmmmmmmmmm" "$P"
wire_assert_tls "$P"
