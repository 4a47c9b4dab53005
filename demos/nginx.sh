#!/usr/bin/env bash
#
# demos/nginx.sh - nginx with a plaintext configuration serving HTTPS
# through tlsshim, to curl and to a 100-connection load from wrk, with the
# wire recorded to show it.
#
#   bash demos/nginx.sh        (BUILD_DIR: the build directory, default build)
#
# Installs what is missing (tests/install-deps.sh), builds if needed, makes
# a throwaway CA and certificates, then on a loopback port:
#   server: tlsshim -p nginx.policy -- nginx -c nginx.conf   (listen PORT, no ssl)
#   client: curl --cacert ca.pem https://localhost:PORT/...  (plain curl, real TLS)
#   client: tlsshim -p client.conf -- curl http://127.0.0.1:PORT/...
#   load:   wrk -c100 -d3s https://127.0.0.1:PORT/
# and shows the pages, the shim's handshake lines and what tcpdump saw.
# Everything it starts is stopped at the end; it exits non-zero if any step
# fails.
#
# shellcheck source=demos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
demo_build

# The test helpers: background processes, tcpdump recorder, cleanup; and
# the nginx configuration writer of the event-loop tests.
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
# shellcheck source=tests/integration/helpers/events_lib.sh
. "$root/tests/integration/helpers/events_lib.sh"
need_shim

say "Throwaway CA and certificates"
certs
ls "$CERTS"

P=$(free_port)
nginx_setup "$P"
page_text="Hello from nginx, configured for plain HTTP ($(marker))"
printf '<html><body><p>%s</p></body></html>\n' "$page_text" \
    >"$T/www/index.html"
head -c 5000000 /dev/urandom >"$T/www/big.bin"
cat >"$T/client.conf" <<CONF
# curl connects here: the shim speaks TLS client side, verifying nginx.
[client nginx]
match   = 127.0.0.1:$P
ca_file = $CERTS/ca.pem
CONF

say "nginx.conf (plaintext: listen 127.0.0.1:$P, no ssl anywhere)"
grep -E 'listen|sendfile|worker_processes|use epoll' "$T/nginx/nginx.conf" |
    sed 's/^ */    /'
say "Policies"
demo_files "$T/nginx.policy" "$T/client.conf"

say "Recording the wire: tcpdump -i lo port $P"
wire_start "$P"

say "Server: tlsshim -p nginx.policy -l info -- nginx -c nginx.conf (master + 2 workers)"
nginx_start "$P"
echo "    nginx listens on 127.0.0.1:$P"

say "Client 1: plain curl, real HTTPS: curl --cacert ca.pem https://localhost:$P/index.html"
curl -sS --fail --cacert "$CERTS/ca.pem" "https://localhost:$P/index.html" |
    sed 's/^/    | /'

say "Client 2: plaintext curl under tlsshim: curl http://127.0.0.1:$P/big.bin (5 MB, sendfile)"
"$TLSSHIM" -p "$T/client.conf" -l info -- curl -sS --fail \
    -o "$T/big.got" "http://127.0.0.1:$P/big.bin" 2>&1 | sed 's/^/    | /'
echo "    sent:     $(sha256_of "$T/www/big.bin")"
echo "    received: $(sha256_of "$T/big.got")"
assert_same_file "$T/www/big.bin" "$T/big.got"
wire_stop

say "What crossed the wire"
read -r packets bytes < <(wire_stats "$P")
echo "    $packets TCP packets, $bytes bytes of payload on port $P"
demo_wire_tls "$P"
echo "    (0x16 0x03 ...: a TLS handshake record, so TLS from the first byte)"
wire_assert_absent "$page_text" "$P"
wire_assert_absent "GET /index.html" "$P"
echo "    the page text and the request lines found in the recording: 0 times"

say "Load: wrk -t2 -c100 -d3s https://127.0.0.1:$P/index.html"
timeout 30 wrk -t2 -c100 -d3s --timeout 5s "https://127.0.0.1:$P/index.html" |
    sed 's/^/    | /'

say "The shim's log in nginx (first lines; one per handshake)"
head -n 5 "$T/shim.log" | sed 's/^/    | /'
echo "    ... $(grep -c 'TLSv1\.3' "$T/shim.log") handshakes in all"
nginx_assert_alive

say "OK: nginx served plain HTTP; the wire carried only TLS"
