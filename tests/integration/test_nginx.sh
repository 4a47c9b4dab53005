#!/usr/bin/env bash
#
# test_nginx.sh - nginx, a plaintext configuration, serves HTTPS under
# tlsshim: epoll (edge-triggered), accept4(SOCK_NONBLOCK), writev and
# sendfile, a master and two workers.
#
# - curl --cacert fetches a random 8 MB file (sha256 must match: sendfile
#   goes through the session, a record at a time) and a small page;
# - wrk (OpenSSL in its own process, not shimmed) runs 100 concurrent
#   connections for 4 s: zero socket errors, zero non-2xx answers, and a
#   request rate that shows the event loop never stalls;
# - nginx is alive afterwards, and the wire carried TLS only.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/events_lib.sh"
need_shim
certs
events_need nginx wrk

P=$(free_port)
nginx_setup "$P"
head -c 8000000 /dev/urandom >"$T/www/big.bin"
nginx_index_page

wire_start "$P"
nginx_start "$P"

# The big file, byte-identical.
run big timeout 60 curl -sS --fail --cacert "$CERTS/ca.pem" \
    -o "$T/big.got" "https://localhost:$P/big.bin"
assert_rc 0 big
assert_eq "$(sha256_of "$T/www/big.bin")" "$(sha256_of "$T/big.got")" \
    "sha256 of the 8 MB file fetched through nginx"

# The small page, checked for its content.
run small timeout 20 curl -sS --fail --cacert "$CERTS/ca.pem" \
    "https://localhost:$P/index.html"
assert_rc 0 small
assert_contains "$T/small.out" "$PAGE_MARKER"

# A request that arrives as 3 TLS records in one TCP segment.  nginx's
# edge-triggered loop takes a short read for "socket drained": if the shim
# returned one record per read, the rest would wait in the socket with no
# further edge to wake nginx, and this client would time out.
run split timeout 20 "$PY" "$TESTS_DIR/helpers/events_split_request.py" \
    localhost "$P" "$CERTS/ca.pem" /index.html 3 5
if [ "$RC" -ne 0 ]; then
    show_file "split-request stderr" "$T/split.err"
    fail "nginx did not answer a request sent as 3 TLS records at once (lost edge-triggered wake-up, see /tmp/events-patches)"
fi
assert_contains "$T/split.out" "HTTP/1.1 200 OK"
assert_contains "$T/split.out" "$PAGE_MARKER"
wire_stop

wire_assert_absent "$PAGE_MARKER" "$P"
wire_assert_absent "GET /big.bin" "$P"
wire_assert_tls "$P"

# Load: 100 connections for 4 s over 2 wrk threads.  --latency prints the
# distribution; --timeout 5s makes a stalled connection count as a timeout
# error instead of just waiting.
RUN_TIMEOUT=30 run wrk wrk -t2 -c100 -d4s --timeout 5s --latency \
    "https://127.0.0.1:$P/index.html"
cat "$T/wrk.out" >&2
assert_rc 0 wrk
requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$T/wrk.out")
[ -n "$requests" ] || fail "no request count in wrk's output"
# wrk prints these lines only when they are non-zero.
if grep -E '^ *(Socket errors|Non-2xx or 3xx responses):' "$T/wrk.out" >&2; then
    fail "wrk saw errors (above)"
fi
# Without the shim nginx serves tens of thousands of requests in 4 s here;
# an event loop that stalls on one connection (a blocking handshake, a lost
# wake-up) shows as a few hundred at most (wrk's 5 s timeout per request).
[ "$requests" -ge 2000 ] ||
    fail "only $requests requests in 4 s with 100 connections: a stall?"
log "wrk: $requests requests, no errors"

# The handshakes were the shim's, in the workers.
n=$(count_match "$T/shim.log" "accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLSv1\.3")
[ "$n" -ge 100 ] || fail "want at least 100 handshake lines, got $n"
nginx_assert_alive
ok=$(grep -c '" 200 ' "$T/nginx/access.log" || true)
[ "$ok" -ge "$requests" ] ||
    fail "nginx logged $ok answers 200, wrk counted $requests"
