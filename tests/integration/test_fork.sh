#!/usr/bin/env bash
#
# test_fork.sh - a server that accepts, hands the connection to a new
# process and closes its own copy at once; the child serves it over TLS.
#
# tests/programs/forksrv.c runs under a server rule three times: with
# fork(); with a raw clone system call as vsftpd makes (no pthread_atfork
# handler runs, so the shim can only tell the new process by its pid); and
# with one worker forked before any connection, to which the parent passes
# each accepted socket with SCM_RIGHTS (as vsftpd does between its
# processes), so the worker must recognise it from its addresses.  Each
# time, several connections in a row: from the same program as a shimmed
# client (client rule), and from openssl s_client verifying the
# certificate.  The parent's close must not disturb the child's session,
# every child must end with exit 0, every client must get its own reply
# followed by a clean end of file, and the requests must not be on the wire.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

PROG=$(dirname "$TLSSHIM_LIB")/tests/programs/forksrv
[ -x "$PROG" ] || fail "test program not built: $PROG"

for how in fork clone pass; do
    P=$(free_port)
    secret=$(marker)
    server_conf forksrv "$P" "$T/server-$how.conf"
    client_conf forksrv "$P" "$T/client-$how.conf"

    wire_start "$P"
    # 4 connections from the shimmed client, 2 from s_client.
    bg "server-$how" "$TLSSHIM" -p "$T/server-$how.conf" -l info -- \
        "$PROG" "$how" "$P" 6
    wait_port "$P" "server-$how"

    run "client-$how" "$TLSSHIM" -p "$T/client-$how.conf" -- \
        "$PROG" client "$P" 4 "$secret"
    assert_rc 0 "client-$how"
    for i in 1 2 3 4; do
        assert_match "$T/client-$how.out" "^ok: connection $i: 'reply $i $secret from child [0-9]+'"
        assert_contains "$T/client-$how.out" "ok: connection $i: end of file after the reply (0)"
    done

    for i in 5 6; do
        printf 'request %s %s\n' "$i" "$secret" >"$T/request-$how-$i"
        run_input "$T/request-$how-$i" "s_client-$how-$i" \
            openssl s_client -connect "127.0.0.1:$P" -servername localhost \
            -verify_hostname localhost -CAfile "$CERTS/ca.pem" \
            -verify_return_error -quiet
        assert_rc 0 "s_client-$how-$i"
        assert_match "$T/s_client-$how-$i.out" "^reply $i $secret from child [0-9]+$"
    done

    # The server exits once its 6 children have: all must have succeeded.
    pid=$(bg_pid "server-$how")
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$pid" && rc=0 || rc=$?
    wire_stop
    assert_eq 0 "$rc" "$how server exit status"
    assert_contains "$T/server-$how.out" "ok: server: 0 of 6 children failed"

    # Each connection was served, and its handshake made, by a child: six
    # accept lines, none from the parent.  With fork and clone each came
    # from its own child; with pass, all from the one worker, which got
    # the sockets by SCM_RIGHTS and recognised them from their addresses.
    n=$(grep -E -c "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23]" \
        "$T/server-$how.err" || true)
    assert_eq 6 "$n" "$how: handshakes logged by the server side"
    nprocs=$(sed -n 's/^tlsshim\[\([0-9]*\)\]: fd [0-9]*: accept .*/\1/p' \
        "$T/server-$how.err" | sort -u | wc -l)
    want_procs=6
    [ "$how" = pass ] && want_procs=1
    assert_eq "$want_procs" "$nprocs" "$how: distinct processes that made the handshakes"
    if grep -q "^tlsshim\[$pid\]: fd [0-9]*: accept" "$T/server-$how.err"; then
        fail "$how: the parent (pid $pid) ran a handshake itself"
    fi
    assert_not_contains "$T/server-$how.err" "warn"

    wire_assert_absent "$secret" "$P"
    wire_assert_absent "reply " "$P"
    wire_assert_tls "$P"
    if [ "$how" = pass ]; then
        log "$how: 6 connections passed to one worker and served over TLS"
    else
        log "$how: 6 connections, each served by its own child over TLS"
    fi
done
