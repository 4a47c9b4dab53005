#!/usr/bin/env bash
#
# demos/redis.sh - redis-server, redis-cli and redis-benchmark, all
# plaintext, talking TLS to each other through tlsshim, with the wire
# recorded to show it.
#
#   bash demos/redis.sh        (BUILD_DIR: the build directory, default build)
#
# Installs what is missing (tests/install-deps.sh), builds if needed, makes
# a throwaway CA and certificates, then on a loopback port:
#   server: tlsshim -p server.conf -- redis-server --port PORT ...
#   client: tlsshim -p client.conf -- redis-cli -p PORT SET/GET
#   load:   tlsshim -p client.conf -- redis-benchmark -q -n 2000 -c 10
# shows that a plain redis-cli is refused, and what tcpdump saw.  Everything
# it starts is stopped at the end; it exits non-zero if any step fails.
#
# shellcheck source=demos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
demo_build redis-server redis-tools

# The test helpers: background processes, tcpdump recorder, cleanup.
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
need_shim

say "Throwaway CA and certificates"
certs
ls "$CERTS"

P=$(free_port)
value="a secret value ($(marker))"

cat >"$T/server.conf" <<CONF
# redis-server accepts here: the shim speaks TLS server side.
[server redis]
match = 127.0.0.1:$P
cert  = $CERTS/server.pem
key   = $CERTS/server.key
CONF
cat >"$T/client.conf" <<CONF
# redis-cli and redis-benchmark connect here: TLS client side, verifying
# the server's certificate for "localhost".
[client redis]
match       = 127.0.0.1:$P
server_name = localhost
ca_file     = $CERTS/ca.pem
CONF

say "Policies"
demo_files "$T/server.conf" "$T/client.conf"

say "Recording the wire: tcpdump -i lo port $P"
wire_start "$P"

say "Server: tlsshim -p server.conf -l info -- redis-server --port $P --bind 127.0.0.1 --save '' --appendonly no"
mkdir -p "$T/data"
bg_in "$T/data" server "$TLSSHIM" -p "$T/server.conf" -l info -- \
    redis-server --port "$P" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$T/data" --logfile ''
wait_port "$P" server
echo "    listening on 127.0.0.1:$P"

say "Client: tlsshim -p client.conf -- redis-cli -h 127.0.0.1 -p $P SET demo:key '$value'"
run set "$TLSSHIM" -p "$T/client.conf" -l info -- \
    redis-cli -h 127.0.0.1 -p "$P" SET demo:key "$value"
assert_rc 0 set
sed 's/^/    | /' "$T/set.out"
grep tlsshim "$T/set.err" | sed 's/^/    | /'

say "Client: tlsshim -p client.conf -- redis-cli -h 127.0.0.1 -p $P GET demo:key"
run get "$TLSSHIM" -p "$T/client.conf" -- \
    redis-cli -h 127.0.0.1 -p "$P" GET demo:key
assert_rc 0 get
sed 's/^/    | /' "$T/get.out"
assert_eq "$value" "$(cat "$T/get.out")" "GET reply"

say "Load: tlsshim -p client.conf -- redis-benchmark -q -n 2000 -c 10 -t set,get"
RUN_TIMEOUT=90 run bench "$TLSSHIM" -p "$T/client.conf" -- \
    redis-benchmark -h 127.0.0.1 -p "$P" -q -n 2000 -c 10 -t set,get
assert_rc 0 bench
tr '\r' '\n' <"$T/bench.out" | grep -E '^(SET|GET): [0-9.]+ requests' |
    sed 's/^/    | /'

wire_stop

say "A plain redis-cli (no tlsshim) is refused"
run plain redis-cli -h 127.0.0.1 -p "$P" PING
echo "    redis-cli -p $P PING -> exit $RC: $(cat "$T/plain.out" "$T/plain.err" | head -1)"
assert_not_contains "$T/plain.out" "PONG"
sleep 0.3
grep 'does not speak TLS' "$T/server.err" | tail -1 | sed 's/^/    server: /'

say "What crossed the wire"
read -r packets bytes < <(wire_stats "$P")
echo "    $packets TCP packets, $bytes bytes of payload on port $P"
wire_assert_tls "$P"
echo "    every connection starts with a TLS record (0x16 0x03)"
wire_assert_absent "$value" "$P"
wire_assert_absent "demo:key" "$P"
echo "    the value and the key name found in the recording: 0 times"

say "OK: redis spoke plain RESP; the wire carried only TLS"
