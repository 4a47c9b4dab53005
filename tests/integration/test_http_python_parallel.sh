#!/usr/bin/env bash
#
# test_http_python_parallel.sh - python3 -m http.server (a thread per
# connection) serves HTTPS under tlsshim to several clients at once.
#
# Six unshimmed curl clients fetch a 6 MB file at the same time, verifying
# the certificate against the test CA; each copy must be byte-identical.
# The threads of the server each run their own session; a shim that
# serialises them badly stalls (the test is bounded), one that mixes their
# state corrupts a copy.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

make_page "$T/www/big.txt" 100000
P=$(free_port)

server_conf web "$P"

wire_start "$P"
http_server_start "$P" -l info

curl_parallel_get 6 "https://localhost:$P/big.txt" "$T/www/big.txt"
wire_stop

n=$(count_match "$T/server.err" "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23]")
assert_eq 6 "$n" "handshake lines on the server side"
assert_eq 6 "$(grep -c '"GET /big.txt HTTP/1.1" 200' "$T/server.err")" \
    "requests the server logged"

wire_assert_absent "$PAGE_MARKER" "$P"
wire_assert_absent "GET /big.txt" "$P"
wire_assert_tls "$P"
