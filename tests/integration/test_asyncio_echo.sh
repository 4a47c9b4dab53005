#!/usr/bin/env bash
#
# test_asyncio_echo.sh - a python3 asyncio echo server and client (streams:
# non-blocking sockets, epoll, non-blocking connect), both plaintext, both
# under tlsshim: the server with a server rule, the client with a client
# rule.  50 connections at once, each 200 awaited round trips and a burst
# of 50 lines; every echo is checked, and the wire shows TLS only.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

P=$(free_port)
M=$(marker)

server_conf echo "$P"
client_conf echo "$P"

bg server "$TLSSHIM" -p "$T/server.conf" -l info -- \
    "$PY" "$TESTS_DIR/helpers/events_asyncio_echo.py" server "$P"
wait_port "$P" server

# client LABEL CONNECTIONS MESSAGES runs the client under the shim.
client()
{
    RUN_TIMEOUT=90 run "$1" "$TLSSHIM" -p "$T/client.conf" -l info -- \
        "$PY" "$TESTS_DIR/helpers/events_asyncio_echo.py" client "$P" \
        "$2" "$3" "$M"
    cat "$T/$1.out" >&2
    assert_rc 0 "$1"
    assert_contains "$T/$1.out" "echo ok: $2 connections, $(($2 * ($3 + 50))) lines"
}

# A small run on the recorded wire (the full load below makes tens of
# thousands of small packets, more than tcpdump keeps up with on a busy
# machine; what crosses the wire does not depend on the count).
wire_start "$P"
client small 5 20
wire_stop
wire_assert_absent "$M" "$P"
wire_assert_tls "$P"

# The full load: 50 connections x (200 round trips + a burst of 50).
client full 50 200
bg_alive server

n=$(count_match "$T/full.err" "connect 127\.0\.0\.1:$P: TLSv1\.3 .*verified 127\.0\.0\.1")
assert_eq 50 "$n" "verified handshakes in the client's log"
n=$(count_match "$T/server.err" "accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLSv1\.3")
assert_eq 55 "$n" "handshakes in the server's log"
# Nothing else went wrong on either side (a warning is a failure here).
if grep -hv 'TLSv1\.3' "$T/small.err" "$T/full.err" "$T/server.err" |
    grep tlsshim >&2; then
    fail "the shim logged warnings (above)"
fi
