#!/usr/bin/env bash
#
# demos/http.sh - a plaintext web server and a plaintext web client talking
# TLS to each other through tlsshim, with the wire recorded to show it.
#
#   bash demos/http.sh         (BUILD_DIR: the build directory, default build)
#
# Installs what is missing (tests/install-deps.sh), builds if needed, makes
# a throwaway CA and certificates, then on a loopback port:
#   server: tlsshim -p server.conf -- python3 -m http.server PORT
#   client: tlsshim -p client.conf -- curl http://localhost:PORT/hello.html
# and shows the page, the shim's handshake lines and what tcpdump saw.
# Everything it starts is stopped at the end; it exits non-zero if any step
# fails.
#
# shellcheck source=demos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
demo_build

# The test helpers: background processes, tcpdump recorder, cleanup.
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
need_shim

say "Throwaway CA and certificates"
certs
ls "$CERTS"

page_text="Hello from a plaintext python3 http.server ($(marker))"
mkdir -p "$T/www"
printf '<html><body><p>%s</p></body></html>\n' "$page_text" \
    >"$T/www/hello.html"
P=$(free_port)

cat >"$T/server.conf" <<CONF
# python3 -m http.server accepts here: the shim speaks TLS server side.
[server demo]
match = 127.0.0.1:$P
cert  = $CERTS/server.pem
key   = $CERTS/server.key
CONF
cat >"$T/client.conf" <<CONF
# curl connects here: the shim speaks TLS client side, verifying the server.
[client demo]
match   = localhost:$P, 127.0.0.1:$P
ca_file = $CERTS/ca.pem
CONF

say "Policies"
demo_files "$T/server.conf" "$T/client.conf"

say "Recording the wire: tcpdump -i lo port $P"
wire_start "$P"

say "Server: tlsshim -p server.conf -l info -- python3 -m http.server $P --bind 127.0.0.1"
bg_in "$T/www" server "$TLSSHIM" -p "$T/server.conf" -l info -- \
    "$PY" -m http.server "$P" --bind 127.0.0.1
wait_port "$P" server
echo "    listening on 127.0.0.1:$P"

say "Client: tlsshim -p client.conf -l info -- curl -sS http://localhost:$P/hello.html"
run client "$TLSSHIM" -p "$T/client.conf" -l info -- \
    curl -sS --max-time 30 "http://localhost:$P/hello.html"
assert_rc 0 client
echo "    page received by curl:"
sed 's/^/    | /' "$T/client.out"
assert_same_file "$T/www/hello.html" "$T/client.out"
echo "    shim log (client side):"
grep tlsshim "$T/client.err" | sed 's/^/    | /'

say "An ordinary HTTPS client sees a normal HTTPS server"
run https curl -sS --max-time 30 --cacert "$CERTS/ca.pem" \
    -o /dev/null -w '%{http_code} over %{scheme}\n' \
    "https://localhost:$P/hello.html"
assert_rc 0 https
echo "    curl --cacert ca.pem https://localhost:$P/hello.html -> $(cat "$T/https.out")"

sleep 0.3
say "The server's shim log: one line per handshake (curl under tlsshim, then plain curl)"
grep tlsshim "$T/server.err" | sed 's/^/    | /'

wire_stop

say "What crossed the wire"
read -r packets bytes < <(wire_stats "$P")
echo "    $packets TCP packets, $bytes bytes of payload on port $P"
echo "    first bytes of each direction of each connection:"
demo_wire_tls "$P"
echo "    (0x16 0x03 ...: a TLS handshake record, so TLS from the first byte)"
raw=$(grep -a -c -F -e "$page_text" "$WIRE_FILE" || true)
echo "    the page text found in the recording: $raw times"
wire_assert_absent "$page_text" "$P"
wire_assert_absent "GET /hello.html" "$P"
echo "    the request line 'GET /hello.html' found in the recording: 0 times"

say "OK: both programs spoke plain HTTP; the wire carried only TLS"
