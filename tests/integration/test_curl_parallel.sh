#!/usr/bin/env bash
#
# test_curl_parallel.sh - curl --parallel (its non-blocking multi interface:
# non-blocking connect, poll, several transfers per thread) as a plaintext
# client under tlsshim, against the shimmed nginx.
#
# 16 files of 0.3 to 3 MB are fetched over http:// URLs, at most 8 at a
# time; the client shim speaks TLS (verifying the server against the test
# CA), the server shim answers it.  Every copy must be byte-identical, every
# connection a verified TLS handshake, and nothing in the clear on the wire.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/events_lib.sh"
need_shim
certs
events_need nginx

P=$(free_port)
nginx_setup "$P"
urls=()
for i in $(seq 1 16); do
    # Sizes differ so that the transfers end at different times and the
    # multi loop keeps adding and removing connections.
    head -c $((300000 + i * 170000)) /dev/urandom >"$T/www/f$i.bin"
    urls+=(-o "$T/got/f$i.bin" "http://127.0.0.1:$P/f$i.bin")
done
mkdir -p "$T/got"

# curl believes it speaks http://; the shim makes it HTTPS, verified.
client_conf nginx "$P"

wire_start "$P"
nginx_start "$P"

# --no-keepalive is not used: connection reuse inside the multi handle is
# part of what is tested.  --parallel-immediate opens connections at once
# instead of waiting to multiplex (HTTP/1.1 cannot anyway).
RUN_TIMEOUT=60 run curl "$TLSSHIM" -p "$T/client.conf" -l info -- \
    curl -sS --fail --parallel --parallel-max 8 --parallel-immediate \
    "${urls[@]}"
assert_rc 0 curl
for i in $(seq 1 16); do
    assert_eq "$(sha256_of "$T/www/f$i.bin")" "$(sha256_of "$T/got/f$i.bin")" \
        "sha256 of f$i.bin"
done
wire_stop

n=$(count_match "$T/curl.err" "connect 127\.0\.0\.1:$P: TLSv1\.3 .*verified 127\.0\.0\.1")
# 8 connections in parallel at most; each is reused for later transfers.
[ "$n" -ge 2 ] && [ "$n" -le 16 ] ||
    fail "want 2..16 verified handshakes in curl's log, got $n"
if grep -v 'TLSv1\.3' "$T/curl.err" | grep -q tlsshim; then
    show_file "curl stderr" "$T/curl.err"
    fail "the shim in curl logged something other than handshakes"
fi
log "curl: 16 transfers over $n connections"
assert_eq 16 "$(grep -c '"GET /f[0-9]*\.bin HTTP/1.1" 200 ' "$T/nginx/access.log")" \
    "transfers nginx logged"
nginx_assert_alive

wire_assert_absent "GET /f1.bin" "$P"
wire_assert_absent "User-Agent: curl" "$P"
wire_assert_tls "$P"
