#!/usr/bin/env bash
#
# test_client_curl.sh - shim as TLS client: curl asks for http://, the shim
# speaks TLS to `openssl s_server -WWW`, verifying its certificate.
#
# The rule matches by address: curl (7.88 in Debian 12) answers "localhost"
# itself without calling getaddrinfo, so no name reaches the shim and the
# certificate is verified against the address (busybox wget's test matches
# by name).  A plaintext fetch recorded alongside shows that the recorder
# does see plaintext when there is some.
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim
certs

make_page "$T/www/file.txt"
secret=$(marker)
P=$(free_port)
P_PLAIN=$(free_port)

bg_in "$T/www" s_server openssl s_server -WWW -accept "$P" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key"
bg_in "$T/www" plain "$PY" -m http.server "$P_PLAIN" --bind 127.0.0.1
wait_port "$P" s_server
wait_port "$P_PLAIN" plain

cat >"$T/policy.conf" <<CONF
# curl's connections to the test server
[client web]
match   = 127.0.0.1:$P, [::1]:$P
ca_file = $CERTS/ca.pem
CONF

wire_start "$P" "$P_PLAIN"

# Control: the same page in plaintext, without the shim.
run control curl -sS --max-time 30 -H "X-Secret: $secret" \
    "http://localhost:$P_PLAIN/file.txt"
assert_rc 0 control
assert_same_file "$T/www/file.txt" "$T/control.out"

run curl "$TLSSHIM" -p "$T/policy.conf" -l info -- \
    curl -sS --max-time 30 -H "X-Secret: $secret" \
    "http://localhost:$P/file.txt"

wire_stop

assert_rc 0 curl
assert_same_file "$T/www/file.txt" "$T/curl.out"
assert_match "$T/curl.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: connect (127\.0\.0\.1|\[?::1\]?):${P}[: ].*TLS ?v?1\.[23] .*verified"

# The recorder saw the plaintext exchange ...
wire_assert_present "$secret" "$P_PLAIN"
wire_assert_present "$PAGE_MARKER" "$P_PLAIN"
# ... and nothing of the shimmed one: not the request, not the page.
wire_assert_absent "$secret" "$P"
wire_assert_absent "GET /file.txt" "$P"
wire_assert_absent "$PAGE_MARKER" "$P"
wire_assert_tls "$P"
