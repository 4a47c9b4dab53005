#!/usr/bin/env bash
#
# test_http_busybox_httpd.sh - busybox httpd serves HTTPS under tlsshim.
#
# busybox httpd (Debian's dynamic busybox) accepts, forks a child per
# connection, and the child moves the socket to fds 0 and 1 with dup2 and
# serves with read(0)/write(1) and sendfile64 (DESIGN.md section 3).  So
# the session made at accept must follow the descriptor through fork and
# dup2 into the child, and sendfile must go through the session.  Served:
# a 6 MB file with markers, fetched byte-identically by 4 unshimmed curl
# clients at once (verifying against the test CA), and a plaintext client
# gets nothing and does not stop the server.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

need_dynamic_busybox

# About 6 MB: text lines with the marker on the first and last ones.
make_page "$T/www/big.txt" 100000
P=$(free_port)

server_conf httpd "$P"

wire_start "$P"
bg server "$TLSSHIM" -p "$T/server.conf" -l info -- \
    "$busybox" httpd -f -vv -p "127.0.0.1:$P" -h "$T/www"
wait_port "$P" server

# Four clients at once, recorded.
curl_parallel_get 4 "https://localhost:$P/big.txt" "$T/www/big.txt"
wire_stop

# The page never crossed in the clear; every client's stream and every
# answer started with a TLS record.
wire_assert_absent "$PAGE_MARKER" "$P"
wire_assert_absent "line 5000 of the page" "$P"
wire_assert_absent "GET /big.txt" "$P"
wire_assert_tls "$P"

# A plaintext client gets no page, and the server keeps serving.
run plain curl -sS --max-time 15 "http://127.0.0.1:$P/big.txt"
if [ "$RC" -eq 0 ] || [ "$RC" -eq 124 ]; then
    fail "a plaintext client got an answer (exit $RC)"
fi
assert_not_contains "$T/plain.out" "$PAGE_MARKER"
bg_alive server
run again curl -sS --max-time 30 --cacert "$CERTS/ca.pem" \
    "https://localhost:$P/big.txt"
assert_rc 0 again
assert_same_file "$T/www/big.txt" "$T/again.out"

# Each TLS connection was handled by a child of httpd, on fd 0 (the
# dup2'd socket), one handshake line per client.
n=$(count_match "$T/server.err" "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23]")
[ "$n" -eq 5 ] || fail "want 5 handshake lines (4 parallel + 1), got $n"
assert_match "$T/server.err" "does not speak TLS"
