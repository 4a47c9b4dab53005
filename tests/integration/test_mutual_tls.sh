#!/usr/bin/env bash
#
# test_mutual_tls.sh - shim on both ends, client certificate required.
#
# python3 -m http.server under a server rule that requires a client
# certificate from the test CA; curl http:// under a client rule that
# presents one.  Clients without a certificate, or with one from another CA,
# are refused and the server goes on serving.
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim
certs

make_page "$T/www/file.txt"
P=$(free_port)

cat >"$T/server.conf" <<CONF
[server web]
match       = 127.0.0.1:$P
cert        = $CERTS/server.pem
key         = $CERTS/server.key
client_ca   = $CERTS/ca.pem
client_auth = required
CONF

cat >"$T/client.conf" <<CONF
[client web]
match   = localhost:$P, 127.0.0.1:$P
ca_file = $CERTS/ca.pem
cert    = $CERTS/client.pem
key     = $CERTS/client.key
CONF

wire_start "$P"
http_server_start "$P" -l info

# Both ends shimmed: works.
run client1 "$TLSSHIM" -p "$T/client.conf" -l info -- \
    curl -sS --max-time 30 "http://localhost:$P/file.txt"
assert_rc 0 client1
assert_same_file "$T/www/file.txt" "$T/client1.out"
assert_match "$T/client1.err" "connect .*:${P}[: ].*TLS ?v?1\.[23] .*verified"

# No client certificate: refused.
run nocert curl -sS --max-time 30 --cacert "$CERTS/ca.pem" \
    "https://localhost:$P/file.txt"
assert_rc error nocert
assert_not_contains "$T/nocert.out" "$PAGE_MARKER"
# The server says why, in one line.
sleep 0.5
assert_match "$T/server.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: .*certificate"

# A client certificate from a CA the server does not trust: refused.
printf 'GET /file.txt HTTP/1.0\r\nHost: localhost\r\n\r\n' >"$T/request"
run_input "$T/request" othercert openssl s_client -connect "127.0.0.1:$P" \
    -servername localhost -CAfile "$CERTS/ca.pem" \
    -cert "$CERTS/untrusted.pem" -key "$CERTS/untrusted.key" -quiet -ign_eof
assert_not_contains "$T/othercert.out" "$PAGE_MARKER"

# The server is still there for a client that has a certificate.
bg_alive server
run client2 "$TLSSHIM" -p "$T/client.conf" -- \
    curl -sS --max-time 30 "http://localhost:$P/file.txt"
assert_rc 0 client2
assert_same_file "$T/www/file.txt" "$T/client2.out"

wire_stop
wire_assert_absent "$PAGE_MARKER" "$P"
wire_assert_absent "GET /file.txt" "$P"
wire_assert_tls "$P"
