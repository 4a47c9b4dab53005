#!/usr/bin/env bash
#
# test_inetd_socat.sh - an inetd-style service: a plaintext program started
# with the accepted connection on fds 0 and 1 serves it over TLS.
#
# socat accepts and, for each connection, forks and execs the service
# (EXEC:...,nofork: the program gets the socket itself on fds 0/1, not a
# socketpair to a relaying socat).  socat runs under the launcher with a
# server rule, so the library is inherited by the service, which finds a
# TCP socket on fds 0/1 at start-up, matches its local address against the
# rule and serves TLS on it.  Debian's busybox has no tcpsvd/inetd applet;
# socat stands in for inetd here.
#
# The service is a shell script (dash: read and echo are built-ins, so the
# shell itself does all the socket I/O) that answers one line and closes
# the connection explicitly so that the client gets a close_notify.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

command -v socat >/dev/null || fail "socat is not installed"

P=$(free_port)
secret=$(marker)
answer=$(marker)

cat >"$T/service.sh" <<SH
#!/bin/sh
# A plaintext line service: one request line in, one answer out.
IFS= read -r line
printf 'service %s got: %s\n' "$answer" "\$line"
# Close both copies of the connection: the last close sends close_notify.
exec 0<&- 1>&-
SH
chmod +x "$T/service.sh"

server_conf inetd-service "$P"

wire_start "$P"
bg server "$TLSSHIM" -p "$T/server.conf" -l info -- \
    socat "TCP-LISTEN:$P,bind=127.0.0.1,fork,reuseaddr" \
    "EXEC:$T/service.sh,nofork"
wait_port "$P" server

for i in 1 2 3; do
    printf '%s request %s\n' "$secret" "$i" >"$T/request$i"
    run_input "$T/request$i" "s_client$i" openssl s_client \
        -connect "127.0.0.1:$P" -servername localhost \
        -verify_hostname localhost -CAfile "$CERTS/ca.pem" \
        -verify_return_error -quiet
    assert_rc 0 "s_client$i"
    assert_eq "service $answer got: $secret request $i" \
        "$(cat "$T/s_client$i.out")" "answer $i"
done

wire_stop

# The handshakes were made by the service processes, on fd 0, not by socat.
socat_pid=$(bg_pid server)
n=$(count_match "$T/server.err" "^tlsshim\[[0-9]+\]: fd 0: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23]")
[ "$n" -ge 3 ] || fail "want a handshake on fd 0 for each of the 3 connections, got $n"
if grep -q "^tlsshim\[$socat_pid\]:" "$T/server.err"; then
    fail "socat itself (pid $socat_pid) ran a handshake"
fi

wire_assert_absent "$secret" "$P"
wire_assert_absent "$answer" "$P"
wire_assert_tls "$P"
