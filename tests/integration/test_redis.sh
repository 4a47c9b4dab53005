#!/usr/bin/env bash
#
# test_redis.sh - redis-server and its clients, all plaintext programs,
# talking TLS through tlsshim.
#
# redis-server listens plaintext on a loopback port under a server rule;
# redis-cli and redis-benchmark run under a client rule that verifies the
# server against the test CA.  A marker value is SET and read back, a short
# benchmark (2000 requests, 10 connections, SET and GET) must finish
# without an error, and an unshimmed redis-cli must not get an answer.  The
# marker and the commands never cross the wire in the clear.
#
# redis links jemalloc: this test also covers a library loaded into a
# program whose malloc is not glibc's.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

for prog in redis-server redis-cli redis-benchmark; do
    command -v "$prog" >/dev/null || fail "$prog is not installed (redis-server, redis-tools)"
done

P=$(free_port)
secret=$(marker)

server_conf redis "$P"
cat >"$T/client.conf" <<CONF
[client redis]
match       = 127.0.0.1:$P
server_name = localhost
ca_file     = $CERTS/ca.pem
CONF

mkdir -p "$T/data"
wire_start "$P"
# Its own settings on the command line: no system config, no persistence.
bg_in "$T/data" server "$TLSSHIM" -p "$T/server.conf" -l info -- \
    redis-server --port "$P" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$T/data" --logfile ''
wait_port "$P" server

cli=("$TLSSHIM" -p "$T/client.conf" -- redis-cli -h 127.0.0.1 -p "$P")

run set "$TLSSHIM" -p "$T/client.conf" -l info -- \
    redis-cli -h 127.0.0.1 -p "$P" SET tlsshim:marker "$secret"
assert_rc 0 set
assert_eq OK "$(cat "$T/set.out")" "SET reply"
assert_match "$T/set.err" "connect 127\.0\.0\.1:$P \(?localhost\)?.*TLS ?v?1\.[23] .*verified localhost|connect 127\.0\.0\.1:$P: TLS ?v?1\.[23] .*verified localhost"

run get "${cli[@]}" GET tlsshim:marker
assert_rc 0 get
assert_eq "$secret" "$(cat "$T/get.out")" "GET reply"

RUN_TIMEOUT=90 run bench "$TLSSHIM" -p "$T/client.conf" -- \
    redis-benchmark -h 127.0.0.1 -p "$P" -q -n 2000 -c 10 -t set,get
assert_rc 0 bench
# redis-benchmark -q prints "SET: N requests per second ..." per test;
# errors would show as "Error" lines or a missing test.
tr '\r' '\n' <"$T/bench.out" >"$T/bench.lines"
assert_match "$T/bench.lines" "^SET: [0-9.]+ requests per second"
assert_match "$T/bench.lines" "^GET: [0-9.]+ requests per second"
if grep -i -E 'error|refused|reset' "$T/bench.lines" "$T/bench.err"; then
    fail "redis-benchmark reported errors"
fi
run count "${cli[@]}" INFO stats
assert_rc 0 count
n=$(sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p' "$T/count.out")
[ "${n:-0}" -ge 4000 ] || fail "the server processed ${n:-0} commands, want at least 4000"
wire_stop

wire_assert_absent "$secret" "$P"
wire_assert_absent "tlsshim:marker" "$P"
# Not "SET" itself: three bytes turn up by chance in the ciphertext of a
# benchmark run.  redis-benchmark's key is long enough to mean something.
wire_assert_absent "key:__rand_int__" "$P"
wire_assert_tls "$P"

# --- an unshimmed client is refused ------------------------------------------
run plain redis-cli -h 127.0.0.1 -p "$P" PING
assert_not_contains "$T/plain.out" "PONG"
run plain_get redis-cli -h 127.0.0.1 -p "$P" GET tlsshim:marker
assert_not_contains "$T/plain_get.out" "$secret"
assert_match "$T/server.err" "accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS handshake failed: peer does not speak TLS"
# The server is still there and still serves a shimmed client.
bg_alive server
run ping "${cli[@]}" PING
assert_rc 0 ping
assert_eq PONG "$(cat "$T/ping.out")" "PING reply after the refused client"
