#!/usr/bin/env bash
#
# test_stalled_handshake.sh - a client that never finishes its handshake
# does not hold up the other connections of an event loop.
#
# nginx runs under tlsshim with ONE worker (so a stall could not hide
# behind another worker) and handshake_timeout = 3.  Two stalled clients
# connect: one sends nothing, one sends half a ClientHello.  While both are
# held open:
#   - 20 curl fetches, one after another, each must take under 1 s and all
#     together well under the 3 s handshake timeout;
#   - wrk runs 20 connections for 2 s with zero errors;
# then nginx must still be alive with its worker, the half-ClientHello
# connection must have been cut by the shim's handshake timeout (logged),
# and curl still served afterwards.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/events_lib.sh"
need_shim
certs
events_need nginx wrk

P=$(free_port)
nginx_setup "$P" 1 "handshake_timeout = 3"
nginx_index_page
nginx_start "$P"

# The stalled clients, watched for 12 s.
bg stall "$PY" "$TESTS_DIR/helpers/events_stall.py" 127.0.0.1 "$P" 12
n=50
until grep -q ready "$T/stall.out"; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || fail "the stalled clients did not connect"
    sleep 0.1
done
t0=$(date +%s%N)

# fetch LABEL: one curl fetch of the page, at most 1 s.
fetch()
{
    run "$1" timeout 5 curl -sS --fail --max-time 1 \
        --cacert "$CERTS/ca.pem" "https://localhost:$P/index.html"
    assert_rc 0 "$1"
    assert_contains "$T/$1.out" "$PAGE_MARKER"
}

for i in $(seq 1 20); do
    fetch "get$i"
done
ms=$((($(date +%s%N) - t0) / 1000000))
log "20 fetches beside 2 stalled handshakes: $ms ms"
[ "$ms" -lt 2500 ] ||
    fail "20 fetches took $ms ms beside the stalled handshakes (timeout 3 s)"

RUN_TIMEOUT=20 run wrk wrk -t1 -c20 -d2s --timeout 2s \
    "https://127.0.0.1:$P/index.html"
cat "$T/wrk.out" >&2
assert_rc 0 wrk
if grep -E '^ *(Socket errors|Non-2xx or 3xx responses):' "$T/wrk.out" >&2; then
    fail "wrk saw errors beside the stalled handshakes (above)"
fi
requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$T/wrk.out")
[ "${requests:-0}" -ge 500 ] ||
    fail "only ${requests:-0} requests in 2 s beside the stalled handshakes"
nginx_assert_alive

# Let the watcher finish (it ends after 12 s at most).
n=150
while kill -0 "$(bg_pid stall)" 2>/dev/null; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || fail "the stall watcher did not end"
    sleep 0.1
done
cat "$T/stall.out" >&2
# The half ClientHello is cut by the shim after handshake_timeout (3 s),
# not by nginx's own client_header_timeout (60 s).
assert_match "$T/stall.out" "^partial closed after [3-9]\.[0-9] s"
assert_match "$T/shim.log" "TLS handshake timed out after 3 s"
fetch after
nginx_assert_alive
