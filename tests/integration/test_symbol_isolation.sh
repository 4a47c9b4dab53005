#!/usr/bin/env bash
#
# test_symbol_isolation.sh - the shim's BoringSSL and the program's own
# OpenSSL side by side in one process.
#
# BoringSSL exports the same names as OpenSSL 3; loaded carelessly it
# captures the program's OpenSSL references and the program crashes or its
# TLS fails (DESIGN.md section 2).  One curl process fetches one URL through
# the shim (http:// matched by the policy) and one with its own OpenSSL
# (https://), in both orders; one python3 process does the same with urllib
# and its ssl module, which must still report OpenSSL.
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim
certs

make_page "$T/a/a.txt"
marker_a=$PAGE_MARKER
make_page "$T/b/b.txt"
P1=$(free_port)
P2=$(free_port)

bg_in "$T/a" s_server_a openssl s_server -WWW -accept "$P1" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key"
bg_in "$T/b" s_server_b openssl s_server -WWW -accept "$P2" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key"
wait_port "$P1" s_server_a
wait_port "$P2" s_server_b

cat >"$T/policy.conf" <<CONF
# Only P1 is the shim's; curl's own https:// to P2 is left alone.
[client a]
match   = localhost:$P1, 127.0.0.1:$P1
ca_file = $CERTS/ca.pem
CONF

run curl_version curl -V
assert_rc 0 curl_version
assert_match "$T/curl_version.out" "OpenSSL/3"

wire_start "$P1"

# One curl process: shim first, then its own OpenSSL, then the shim again.
run curl "$TLSSHIM" -p "$T/policy.conf" -l info -- \
    curl -sS --max-time 30 --cacert "$CERTS/ca.pem" \
    -o "$T/curl-a1.out" "http://localhost:$P1/a.txt" \
    -o "$T/curl-b.out" "https://localhost:$P2/b.txt" \
    -o "$T/curl-a2.out" "http://localhost:$P1/a.txt"
assert_rc 0 curl
assert_same_file "$T/a/a.txt" "$T/curl-a1.out"
assert_same_file "$T/b/b.txt" "$T/curl-b.out"
assert_same_file "$T/a/a.txt" "$T/curl-a2.out"
n=$(count_match "$T/curl.err" "connect .*:${P1}[: ].*TLS ?v?1\.[23]")
[ "$n" -ge 1 ] || fail "no handshake line for port $P1 in curl's stderr"
assert_not_contains "$T/curl.err" ":$P2"

# One python3 process: urllib over the shim and over its ssl module.
cat >"$T/fetch.py" <<'PY'
import ssl
import sys
import urllib.request

ca, url_shim, url_own, out = sys.argv[1:5]
print(ssl.OPENSSL_VERSION)
ctx = ssl.create_default_context(cafile=ca)
for i, url in enumerate([url_own, url_shim, url_own, url_shim]):
    kwargs = {"context": ctx} if url.startswith("https:") else {}
    # No timeout: blocking sockets, the case issue 2 covers.
    with urllib.request.urlopen(url, **kwargs) as resp:
        data = resp.read()
    with open("%s.%d" % (out, i), "wb") as f:
        f.write(data)
print("fetched", i + 1)
PY
run python "$TLSSHIM" -p "$T/policy.conf" -l info -- "$PY" "$T/fetch.py" \
    "$CERTS/ca.pem" "http://localhost:$P1/a.txt" \
    "https://localhost:$P2/b.txt" "$T/py"
assert_rc 0 python
assert_match "$T/python.out" "^OpenSSL 3"
assert_not_contains "$T/python.out" "BoringSSL"
assert_contains "$T/python.out" "fetched 4"
assert_same_file "$T/b/b.txt" "$T/py.0"
assert_same_file "$T/a/a.txt" "$T/py.1"
assert_same_file "$T/b/b.txt" "$T/py.2"
assert_same_file "$T/a/a.txt" "$T/py.3"

wire_stop
wire_assert_absent "$marker_a" "$P1"
wire_assert_absent "GET /a.txt" "$P1"
wire_assert_tls "$P1"
