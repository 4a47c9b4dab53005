#!/usr/bin/env bash
#
# test_hardening_load.sh - a shimmed server holds many concurrent TLS
# connections (LOAD_CONNECTIONS, default 1000) while serving traffic on all
# of them, and the memory each costs is measured.
#
# tests/hardening/tls_echo_server.c (one thread, poll, non-blocking) runs
# under the launcher; load_client.py (Python's ssl, not shimmed) opens all
# the connections, keeps them open, then sends 3 rounds of 1-4 KB messages
# on every connection at once and checks each echo.  The server's resident
# memory is read before, with all connections open, and after the traffic.
# Fails on any failed connection or echo, if the server dies, or if a
# connection costs more than LOAD_MAX_KB_PER_CONN (default 64 KiB).
# Prints "memory per connection: N KiB" (also for RESULTS.md).
#
. "$(dirname "$0")/lib.sh"
. "$REPO_ROOT/tests/hardening/common.sh"
need_shim
certs

n=${LOAD_CONNECTIONS:-1000}
max_kb=${LOAD_MAX_KB_PER_CONN:-64}
# Both ends need a descriptor per connection (and the shim none more).
ulimit -n $((n * 2 + 256)) || fail "cannot raise the descriptor limit to $((n * 2 + 256))"

echo_server=$(hprog tls_echo_server)
port=$(free_port)
server_conf echo "$port"
bg server "$TLSSHIM" -p "$T/server.conf" -- "$echo_server" "$port" $((n + 16))
wait_port "$port" server
pid=$(bg_pid server)
# One connection first, so that BoringSSL's lazily made tables count in
# the baseline, not in the per-connection figure.
run warmup "$PY" "$REPO_ROOT/tests/hardening/load_client.py" hold "$port" 1 "$CERTS/ca.pem" 0
grep -q '^ok 1 failed 0' "$T/warmup.out" || fail "warm-up connection failed: $(cat "$T/warmup.out" "$T/warmup.err")"
sleep 0.3
base=$(rss_kb "$pid")

bg client "$PY" "$REPO_ROOT/tests/hardening/load_client.py" load "$port" "$n" 3 "$CERTS/ca.pem" 3
k=0
until grep -q '^connected' "$T/client.out" 2>/dev/null; do
    bg_alive server
    k=$((k + 1))
    [ "$k" -le 900 ] || fail "the $n connections were not all open after 90 s"
    if ! kill -0 "$(bg_pid client)" 2>/dev/null; then
        fail "the client failed before all $n connections were open: $(tail -c 600 "$T/client.err")"
    fi
    sleep 0.1
done
sleep 1
held=$(rss_kb "$pid")
open=$(ls "/proc/$pid/fd" | wc -l)
k=0
until grep -q '^echoed' "$T/client.out" 2>/dev/null; do
    bg_alive server
    k=$((k + 1))
    [ "$k" -le 600 ] || fail "the traffic on $n connections did not finish in 60 s"
    if ! kill -0 "$(bg_pid client)" 2>/dev/null; then
        fail "the client failed during the traffic: $(tail -c 600 "$T/client.err")"
    fi
    sleep 0.1
done
after=$(rss_kb "$pid")
_wait_gone "$(bg_pid client)" 100 || fail "the client did not finish"
wait "$(bg_pid client)" || fail "the client reported an error: $(tail -c 600 "$T/client.err")"
bg_alive server

per=$(( (held - base) / n ))
log "connections: $n (server descriptors open: $open)"
log "$(grep '^echoed' "$T/client.out")"
log "server RSS: ${base} KiB before, ${held} KiB with $n connections, ${after} KiB after traffic"
log "memory per connection: ${per} KiB"
[ "$open" -ge "$n" ] || fail "the server had $open descriptors open, fewer than $n connections"
[ "$per" -le "$max_kb" ] || fail "a connection costs ${per} KiB, more than ${max_kb} KiB"
grep -q -E 'Segmentation|Aborted' "$T/server.err" && fail "the server crashed"
true
