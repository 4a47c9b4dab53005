#!/usr/bin/env bash
#
# test_server_python.sh - shim as TLS server: python3 -m http.server serves
# HTTPS with the certificate the policy names.
#
# Fetched by curl (OpenSSL) and openssl s_client, both verifying against the
# test CA.  A plaintext client must get nothing (the server speaks only TLS
# on that port) and must not stop the server from serving the next client.
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim
certs

make_page "$T/www/file.txt"
P=$(free_port)

server_conf web "$P"

wire_start "$P"
http_server_start "$P" -l info

run curl1 curl -sS --max-time 30 --cacert "$CERTS/ca.pem" \
    "https://localhost:$P/file.txt"
assert_rc 0 curl1
assert_same_file "$T/www/file.txt" "$T/curl1.out"

printf 'GET /file.txt HTTP/1.0\r\nHost: localhost\r\n\r\n' >"$T/request"
run_input "$T/request" s_client openssl s_client -connect "127.0.0.1:$P" \
    -servername localhost -verify_hostname localhost \
    -CAfile "$CERTS/ca.pem" -verify_return_error -quiet -ign_eof
assert_rc 0 s_client
assert_match "$T/s_client.out" "^HTTP/1\.[01] 200 "
# The body is the page, byte for byte, after the headers.
sed '1,/^\r$/d' "$T/s_client.out" >"$T/s_client.body"
assert_same_file "$T/www/file.txt" "$T/s_client.body"

# Plaintext HTTP to the TLS port: no page, an error.
run plain curl -sS --max-time 15 "http://127.0.0.1:$P/file.txt"
assert_rc error plain
assert_not_contains "$T/plain.out" "$PAGE_MARKER"

# The server survived it and still serves.
bg_alive server
run curl2 curl -sS --max-time 30 --cacert "$CERTS/ca.pem" \
    "https://localhost:$P/file.txt"
assert_rc 0 curl2
assert_same_file "$T/www/file.txt" "$T/curl2.out"

wire_stop

# One info line per handshake on the server's side.
assert_match "$T/server.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23]"
n=$(count_match "$T/server.err" "accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23]")
[ "$n" -ge 3 ] || fail "want an info line for each of the 3 handshakes, got $n"

# The page never crossed the wire in the clear (the plaintext client's
# request did, and that is the client's doing).
wire_assert_absent "$PAGE_MARKER" "$P"
