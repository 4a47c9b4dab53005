#!/usr/bin/env bash
#
# test_hardening_nomem.sh - the shim runs out of memory on a connection:
# that connection fails with one log line, the program gets an error (no
# hang, no plaintext on the wire) and goes on.
#
# tests/hardening/nomem.c, preloaded beside the shim, makes malloc() fail
# for the shim's own 4 KiB read-ahead buffer (shim/session.c).  A plaintext
# Python client under tlsshim connects to a real TLS peer (Python's ssl,
# i.e. OpenSSL), sends a line and reads the answer, which the peer sends
# 300 ms later, so that the read must wait and take a new buffer:
#
#   handshake  every buffer refused: the handshake's first read fails
#   data       buffers refused from the moment the line is sent (the client
#              creates the file nomem.so watches): the handshake works, the
#              read of the answer fails
#
# Each time the program gets ECONNRESET, the log has one line saying why,
# and the program goes on; the line never crosses the wire in the clear.
#
. "$(dirname "$0")/lib.sh"
. "$REPO_ROOT/tests/hardening/common.sh"
need_shim
certs

NOMEM=$TLSSHIM_HARDENING_BIN/nomem.so
if [ ! -f "$NOMEM" ] || [ "$NOMEM" -ot "$HARDENING_DIR/nomem.c" ]; then
    NOMEM=$T/nomem.so
    cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -shared -fPIC -o "$NOMEM" \
        "$HARDENING_DIR/nomem.c" -ldl || fail "cannot compile nomem.c"
fi

P=$(free_port)
client_conf nomem "$P"

cat >"$T/peer.py" <<'PY'
import socket, ssl, sys, threading, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv = socket.create_server(("127.0.0.1", int(sys.argv[1])))

def serve(conn):
    conn.settimeout(10)
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        line = tls.recv(100)
        time.sleep(0.3)
        tls.sendall(b"echo " + line)
        tls.close()
    except (OSError, ssl.SSLError) as e:
        print("peer: %s" % e, flush=True)

while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,)).start()
PY
cat >"$T/client.py" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.settimeout(20)
    s.sendall(b"secret line")
    if len(sys.argv) > 2:
        open(sys.argv[2], "w").close()  # from now on, no buffers
    print("answer: %r" % s.recv(100))
except OSError as e:
    print("error: %s" % (e.strerror or e))
print("still running")
PY

wire_start "$P"
bg peer "$PY" "$T/peer.py" "$P" "$CERTS/server.pem" "$CERTS/server.key"
wait_port "$P" peer

# run_nomem NAME FILE [ARG]: the client, its shim refused buffers while
# FILE exists; ARG, if given, is the file the client creates once its line
# is sent.  The program must get ECONNRESET and go on, and the log must say
# why in one line.
run_nomem()
{
    local name=$1 n
    RUN_TIMEOUT=60 run "$name" env LD_PRELOAD="$NOMEM" NOMEM_SIZE=4096 \
        NOMEM_FILE="$2" "$TLSSHIM" -p "$T/client.conf" -- \
        "$PY" "$T/client.py" "$P" ${3:+"$3"}
    cat "$T/$name.out" "$T/$name.err" >&2
    assert_rc 0 "$name"
    assert_contains "$T/$name.out" "error: Connection reset by peer"
    assert_contains "$T/$name.out" "still running"
    assert_not_contains "$T/$name.out" "answer"
    n=$(count_match "$T/$name.err" "Cannot allocate memory")
    [ "$n" -eq 1 ] || fail "$name: want one log line for the lack of memory, got $n"
}

touch "$T/always"
run_nomem handshake "$T/always"
assert_contains "$T/handshake.err" "connect 127.0.0.1:$P: TLS handshake failed: Cannot allocate memory"

run_nomem data "$T/from-now-on" "$T/from-now-on"
assert_contains "$T/data.err" "connect 127.0.0.1:$P: connection lost: Cannot allocate memory"

# The control: without the refusal the same client gets its answer.
rm -f "$T/from-now-on"
RUN_TIMEOUT=60 run control env LD_PRELOAD="$NOMEM" NOMEM_SIZE=4096 \
    NOMEM_FILE="$T/absent" "$TLSSHIM" -p "$T/client.conf" -- \
    "$PY" "$T/client.py" "$P"
assert_rc 0 control
assert_contains "$T/control.out" "answer: b'echo secret line'"

bg_stop peer
wire_stop
# The program's line never crossed in the clear, and what did cross is TLS.
wire_assert_absent "secret line" "$P"
wire_assert_tls "$P" to-server
