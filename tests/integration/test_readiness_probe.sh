#!/usr/bin/env bash
#
# test_readiness_probe.sh - poll, ppoll, select, pselect, epoll_wait,
# epoll_pwait and epoll_pwait2 report plaintext buffered inside a TLS
# session, edge-triggered epoll loses no wake-up, and epoll registrations
# stay right as their sessions go busy and idle (also one-shot ones, and
# beside 100 idle connections).
#
# tests/events/readiness_probe.c, a plaintext non-blocking program, runs
# under tlsshim as a TLS client of helpers/events_tls_peer.py (Python's ssl,
# i.e. OpenSSL), which sends records in chosen shapes: one 16 KiB record
# (after reading 1 byte, 16383 wait decrypted in the session while the
# socket is empty), two records at once (read partially), a record after a
# pause.  The handshakes are driven by the program's own calls woken by
# poll or by edge-triggered epoll (bounded wake-ups: no spinning), and
# shutdown/close of non-blocking sockets with a full send buffer or in mid
# handshake must return at once.  Against a second peer that accepts TCP
# but never answers (handshake_timeout = 2), a program asleep in poll,
# select or epoll without a timeout of its own must be woken when the
# handshake times out.  The probe's own output lists each check.
#
# This is the unit-level test of the readiness logic: it cannot be a
# Criterion test because readiness needs BoringSSL and a real peer.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/events_lib.sh"
need_shim
certs

probe=$(events_probe)
P=$(free_port)
S=$(free_port)

cat >"$T/client.conf" <<CONF
[client peer]
match   = 127.0.0.1:$P
ca_file = $CERTS/ca.pem

[client silent]
match   = 127.0.0.1:$S
ca_file = $CERTS/ca.pem
handshake_timeout = 2
CONF

wire_start "$P"
bg peer "$PY" "$TESTS_DIR/helpers/events_tls_peer.py" "$P" \
    "$CERTS/server.pem" "$CERTS/server.key"
wait_port "$P" peer
# Listens, never accepts: the kernel completes TCP, nobody answers TLS.
bg silent "$PY" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
time.sleep(120)' "$S"
wait_port "$S" silent

RUN_TIMEOUT=60 run probe "$TLSSHIM" -p "$T/client.conf" -l info -- \
    "$probe" 127.0.0.1 "$P" "$S"
cat "$T/probe.out" >&2
assert_rc 0 probe
assert_contains "$T/probe.out" "0 failed"
# Every check ran (a probe that stops early must not pass).
for check in big_record_buffered two_records_partial_read \
    epoll_et_handshake epoll_et_two_records_short_read \
    epoll_et_later_record epoll_lt_idle_then_buffered epoll_oneshot \
    epoll_closed_instance_forgotten shutdown_close_full_buffer close_during_handshake \
    handshake_timeout_wakes_poll handshake_timeout_wakes_select \
    handshake_timeout_wakes_epoll; do
    assert_contains "$T/probe.out" "ok $check"
done
# The shim really wrapped the connections (else the probe talked to
# nobody in TLS and could not have passed, but say it plainly).
n=$(count_match "$T/probe.err" "connect 127\.0\.0\.1:$P: TLSv1\.[23]")
[ "$n" -ge 4 ] || fail "want at least 4 handshake lines from the probe, got $n"
wire_stop

# The commands the plaintext program wrote never crossed in the clear.
wire_assert_absent "TWO 100 100" "$P"
wire_assert_absent "LATER 300 50" "$P"
wire_assert_tls "$P"
