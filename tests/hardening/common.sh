# shellcheck shell=bash
#
# common.sh - helpers of the hardening tests, sourced after
# tests/integration/lib.sh.
#
#   hprog NAME         prints the path of the hardening program NAME
#                      (tests/hardening/NAME.c): the one CMake built in
#                      $TLSSHIM_HARDENING_BIN (default: tests/hardening
#                      beside the library), else one compiled now into $T.
#   sink_start NAME PORT FILE
#                      a plain TCP peer on PORT that appends everything it
#                      receives on each connection to FILE (for checks that
#                      plaintext never reached the peer).
#   rss_kb PID         resident memory of PID in KiB.

HARDENING_DIR=$REPO_ROOT/tests/hardening
TLSSHIM_HARDENING_BIN=${TLSSHIM_HARDENING_BIN:-$(dirname "$TLSSHIM_LIB")/tests/hardening}

hprog()
{
    local name=$1
    if [ -x "$TLSSHIM_HARDENING_BIN/$name" ] &&
        [ "$TLSSHIM_HARDENING_BIN/$name" -nt "$HARDENING_DIR/$name.c" ]; then
        printf '%s\n' "$TLSSHIM_HARDENING_BIN/$name"
        return 0
    fi
    if [ ! -x "$T/bin/$name" ]; then
        mkdir -p "$T/bin"
        cc -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror \
            -o "$T/bin/$name" "$HARDENING_DIR/$name.c" -lpthread -ldl -lrt ||
            fail "cannot compile $HARDENING_DIR/$name.c"
    fi
    printf '%s\n' "$T/bin/$name"
}

# The sink: one thread per connection, everything received appended to
# FILE followed by a separator line, connection closed after 5 s of
# silence or when the peer closes.
_SINK_PY='
import socket, sys, threading
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(128)
lock = threading.Lock()
def serve(c):
    c.settimeout(5)
    data = b""
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
    except OSError:
        pass
    with lock:
        with open(out, "ab") as f:
            f.write(data + b"\n--\n")
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'

sink_start()
{
    local name=$1 port=$2 file=$3
    : >"$file"
    bg "$name" "$PY" -c "$_SINK_PY" "$port" "$file"
    wait_port "$port" "$name"
}

rss_kb()
{
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
