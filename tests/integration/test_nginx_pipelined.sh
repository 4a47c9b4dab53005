#!/usr/bin/env bash
#
# test_nginx_pipelined.sh - nginx under tlsshim does not spin while
# plaintext it has not asked for yet waits inside the TLS session.
#
# A client pipelines two requests in one write (the second with a 3 KB
# header, so nginx's first 1 KB read leaves it decrypted inside the
# session), then stops reading for 2 s while nginx writes a 24 MB answer to
# the first.  nginx, blocked on writing, does not want to read; with
# edge-triggered epoll the kernel would not report the socket readable
# again until new data came, and neither may the shim: if each epoll_wait
# reported the buffered plaintext at once, the worker would spin (measured:
# about half a core).  The worker's CPU time over the stall must stay under
# 10% of a core, and both answers must then arrive complete.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/events_lib.sh"
need_shim
certs
events_need nginx

P=$(free_port)
nginx_setup "$P" 1
head -c 24000000 /dev/urandom >"$T/www/big.bin"
nginx_index_page
nginx_start "$P"
worker=$(nginx_workers)
[ -n "$worker" ] || fail "no nginx worker"

# cpu_ticks PID prints user + system time of PID in clock ticks.
cpu_ticks()
{
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

bg client timeout 60 "$PY" "$TESTS_DIR/helpers/events_pipeline.py" \
    localhost "$P" "$CERTS/ca.pem" /big.bin /index.html 2 "$T/big.got"
n=100
until grep -q stalling "$T/client.out"; do
    bg_alive client
    n=$((n - 1))
    [ "$n" -gt 0 ] || fail "the pipelining client did not start"
    sleep 0.1
done
sleep 0.2
t0=$(cpu_ticks "$worker")
sleep 1.5
t1=$(cpu_ticks "$worker")
hz=$(getconf CLK_TCK)
log "nginx worker CPU during 1.5 s of a stalled reader: $((t1 - t0)) ticks of $hz/s"
[ $((t1 - t0)) -le $((hz * 15 / 100)) ] ||
    fail "the nginx worker used $((t1 - t0)) ticks ($hz/s) in 1.5 s while the client did not read: spinning on buffered plaintext"

n=300
while kill -0 "$(bg_pid client)" 2>/dev/null; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || fail "the pipelining client did not finish"
    sleep 0.1
done
wait "$(bg_pid client)" || fail "the pipelining client failed"
assert_contains "$T/client.err" "first: HTTP/1.1 200 OK second: HTTP/1.1 200 OK"
assert_contains "$T/client.out" "$PAGE_MARKER"
assert_eq "$(sha256_of "$T/www/big.bin")" "$(sha256_of "$T/big.got")" \
    "sha256 of the first (pipelined) answer"
nginx_assert_alive
