#!/usr/bin/env bash
#
# test_client_busybox_wget.sh - shim as TLS client for busybox wget.
#
# busybox wget does all its socket I/O through stdio (fdopen, fgets, fread,
# fprintf), which never reaches an interposed read or write: only a stream
# that fdopen made through the session carries it (DESIGN.md section 2).
# The rule matches by name: busybox resolves "localhost" with getaddrinfo,
# the shim remembers the name for the address, and verifies it (the curl
# test matches by address).
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim
certs

need_dynamic_busybox

make_page "$T/www/file.txt"
P=$(free_port)

bg_in "$T/www" s_server openssl s_server -WWW -accept "$P" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key"
wait_port "$P" s_server

cat >"$T/policy.conf" <<CONF
[client web]
match   = localhost:$P
ca_file = $CERTS/ca.pem
CONF

wire_start "$P"
# No -T: busybox 1.35's wget (Debian 12) crashes with -T even without the
# shim; RUN_TIMEOUT bounds the run instead.
run wget "$TLSSHIM" -p "$T/policy.conf" -l info -- \
    "$busybox" wget -q -O - "http://localhost:$P/file.txt"
assert_rc 0 wget
assert_same_file "$T/www/file.txt" "$T/wget.out"
assert_match "$T/wget.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: connect (127\.0\.0\.1|\[?::1\]?):$P \(localhost\): TLS ?v?1\.[23] .*verified localhost"

wire_stop

wire_assert_absent "GET /file.txt" "$P"
wire_assert_absent "$PAGE_MARKER" "$P"
wire_assert_tls "$P"
