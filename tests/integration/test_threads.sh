#!/usr/bin/env bash
#
# test_threads.sh - one wrapped socket, a reader thread and a writer thread
# running at once, both directions at full speed, on both ends.
#
# tests/programs/threads.c runs on each end (server rule on one, client rule
# on the other): for 3 s each end writes a pseudo-random stream while
# another thread reads and checks the peer's, byte by byte.  A shim that
# holds its lock across a blocking read deadlocks here (the watchdog and
# `timeout` end it); one that lets two threads into the TLS object at once
# corrupts the stream.  Then, in a second pair, SO_RCVTIMEO must give EAGAIN
# after the timeout and SIGALRM must interrupt a blocked read with EINTR,
# as without the shim.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

PROG=$(dirname "$TLSSHIM_LIB")/tests/programs/threads
[ -x "$PROG" ] || fail "test program not built: $PROG"

P=$(free_port)
P2=$(free_port)
cat >"$T/server.conf" <<CONF
[server threads]
match = 127.0.0.1:$P, 127.0.0.1:$P2
cert  = $CERTS/server.pem
key   = $CERTS/server.key
CONF
cat >"$T/client.conf" <<CONF
[client threads]
match   = 127.0.0.1:$P, 127.0.0.1:$P2
ca_file = $CERTS/ca.pem
CONF

# --- full duplex for 3 seconds ---------------------------------------------
# Not recorded: it moves a few hundred megabytes.  What it proves is that
# nothing deadlocks or corrupts; the short recorded run below shows the
# wire.
bg server "$TLSSHIM" -p "$T/server.conf" -l info -- "$PROG" server "$P" 3
wait_port "$P" server
RUN_TIMEOUT=50 run client "$TLSSHIM" -p "$T/client.conf" -l info -- \
    "$PROG" client "$P" 3
assert_rc 0 client
# The server ends on its own once both directions are done.
for _ in $(seq 100); do
    kill -0 "$(bg_pid server)" 2>/dev/null || break
    sleep 0.1
done
wait "$(bg_pid server)" && server_rc=0 || server_rc=$?
assert_eq 0 "$server_rc" "server exit status"

for side in client server; do
    assert_contains "$T/$side.out" "ok: reader: every byte as generated"
    assert_contains "$T/$side.out" "ok: reader: ended at the peer's end of file"
    assert_contains "$T/$side.out" "ok: 0 check(s) failed"
    assert_not_contains "$T/$side.out" "FAIL"
done
# What one end sent, the other received, to the byte.
c_sent=$(sed -n 's/^sent //p' "$T/client.out")
c_recv=$(sed -n 's/^received //p' "$T/client.out")
s_sent=$(sed -n 's/^sent //p' "$T/server.out")
s_recv=$(sed -n 's/^received //p' "$T/server.out")
assert_eq "$c_sent" "$s_recv" "bytes client sent = bytes server received"
assert_eq "$s_sent" "$c_recv" "bytes server sent = bytes client received"
log "client -> server $c_sent bytes, server -> client $s_sent bytes in 3 s"
# Both ends really ran TLS.
assert_match "$T/client.err" "connect 127\.0\.0\.1:$P: TLS ?v?1\.[23] .*verified"
assert_match "$T/server.err" "accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23]"

# --- a short recorded run: the wire carries TLS from the first byte --------
P3=$(free_port)
sed "s/127.0.0.1:$P,/127.0.0.1:$P3,/" "$T/server.conf" >"$T/server3.conf"
sed "s/127.0.0.1:$P,/127.0.0.1:$P3,/" "$T/client.conf" >"$T/client3.conf"
wire_start "$P3"
bg server3 "$TLSSHIM" -p "$T/server3.conf" -- "$PROG" server "$P3" 0.2
wait_port "$P3" server3
run client3 "$TLSSHIM" -p "$T/client3.conf" -- "$PROG" client "$P3" 0.2
assert_rc 0 client3
sleep 0.5
wire_stop
assert_contains "$T/client3.out" "ok: 0 check(s) failed"
assert_contains "$T/server3.out" "ok: 0 check(s) failed"
wire_assert_tls "$P3"

# --- SO_RCVTIMEO and EINTR on a wrapped socket ------------------------------
wire_start "$P2"
bg echo "$TLSSHIM" -p "$T/server.conf" -- "$PROG" echo "$P2"
wait_port "$P2" echo
run timeouts "$TLSSHIM" -p "$T/client.conf" -- "$PROG" timeouts "$P2"
wire_stop
assert_rc 0 timeouts
assert_contains "$T/timeouts.out" "ok: SO_RCVTIMEO: read fails with EAGAIN"
assert_contains "$T/timeouts.out" "ok: SO_RCVTIMEO: after about 0.5 s"
assert_contains "$T/timeouts.out" "ok: SIGALRM: read fails with EINTR"
assert_contains "$T/timeouts.out" "ok: SIGALRM: the handler ran once"
assert_contains "$T/timeouts.out" "ok: echo after the timeouts"
assert_contains "$T/timeouts.out" "ok: 0 check(s) failed"
wire_assert_absent "still there" "$P2"
wire_assert_absent "hello" "$P2"
wire_assert_tls "$P2"
