#!/usr/bin/env bash
#
# test_dup_msgflags.sh - the descriptor and message calls on a wrapped
# connection, both ends under the shim (server rule / client rule).
#
# tests/programs/sockops.c runs a fixed script (its header lists it):
# dup, dup2, dup3 and fcntl(F_DUPFD_CLOEXEC) share one session; writev,
# sendmsg, readv, recvmsg carry data; sendfile of a 3 MB file arrives
# intact (checksum); MSG_PEEK returns decrypted bytes without consuming
# them; FIONREAD counts decrypted bytes; MSG_WAITALL fills the buffer in one
# call; closing the original keeps the copies working; shutdown(SHUT_WR)
# sends close_notify while reading goes on; the session ends with its last
# descriptor, and the peer then reads a clean end of file.  Each end checks
# its half and prints one line per check.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

PROG=$(dirname "$TLSSHIM_LIB")/tests/programs/sockops
[ -x "$PROG" ] || fail "test program not built: $PROG"

# The file sendfile carries: random bytes with a marker in the middle.
head -c 1500000 /dev/urandom >"$T/file.bin"
file_marker=$(marker)
printf '%s' "$file_marker" >>"$T/file.bin"
head -c 1500000 /dev/urandom >>"$T/file.bin"
size=$(stat -c %s "$T/file.bin")

P=$(free_port)
server_conf sockops "$P"
client_conf sockops "$P"

wire_start "$P"
bg server "$TLSSHIM" -p "$T/server.conf" -l info -- "$PROG" server "$P"
wait_port "$P" server
run client "$TLSSHIM" -p "$T/client.conf" -l info -- \
    "$PROG" client "$P" "$T/file.bin"
pid=$(bg_pid server)
for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
wait "$pid" && server_rc=0 || server_rc=$?
wire_stop

# Every check on both ends, by name: a check that silently did not run is
# a failure too.
client_checks=(
    "ok: wrote on dup"
    "ok: writev: 3 pieces, 21 of 21 bytes"
    "ok: sendmsg: 2 pieces, 22 of 22 bytes"
    "ok: sendfile: $size of $size bytes"
    "ok: sendfile: the server's checksum of the file"
    "ok: MSG_PEEK: 'I: peek me' (11 bytes)"
    "ok: MSG_PEEK again, on a dup"
    "ok: FIONREAD"
    "ok: read after MSG_PEEK"
    "ok: MSG_WAITALL: one recv returned 100000 of 100000 bytes, 0 wrong"
    "ok: readv: 'J: r' + 'eadv' (9 bytes)"
    "ok: recvmsg: 'K: rec' + 'vmsg' (11 bytes)"
    "ok: close of the original descriptor"
    "ok: read on a copy after the original closed"
    "ok: shutdown(SHUT_WR) on a copy"
    "ok: read after this end's shutdown(SHUT_WR)"
    "ok: end of file once the server closed its last descriptor (read returned 0)"
    "ok: 0 check(s) failed"
)
server_checks=(
    "ok: line written on the client's dup"
    "ok: line written on dup2"
    "ok: line written on dup3"
    "ok: line written on F_DUPFD_CLOEXEC"
    "ok: line written by writev"
    "ok: line written by sendmsg"
    "ok: sendfile: received $size of $size bytes"
    "ok: line after the client closed its original"
    "ok: server: close of the original"
    "ok: end of file from the client's shutdown(SHUT_WR) (read returned 0)"
    "ok: server: close of the last descriptor"
    "ok: 0 check(s) failed"
)
for c in "${client_checks[@]}"; do
    assert_contains "$T/client.out" "$c"
done
for c in "${server_checks[@]}"; do
    assert_contains "$T/server.out" "$c"
done
assert_rc 0 client
assert_eq 0 "$server_rc" "server exit status"

# One session per end, made once, whatever descriptor carried the I/O.
assert_eq 1 "$(count_match "$T/client.err" "connect 127\.0\.0\.1:$P: TLS ?v?1\.[23] .*verified")" \
    "client handshakes"
assert_eq 1 "$(count_match "$T/server.err" "accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23]")" \
    "server handshakes"

# Nothing in the clear: not the lines, not the file sendfile moved.
for needle in "written on dup" "written by writev" "written by sendmsg" \
    "peek me" "recvmsg" "after your shutdown" "$file_marker"; do
    wire_assert_absent "$needle" "$P"
done
wire_assert_tls "$P"
