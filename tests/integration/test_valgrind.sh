#!/usr/bin/env bash
#
# test_valgrind.sh - the preloaded library under Valgrind memcheck: a
# representative shimmed server and client, no memory error and no
# definite leak from libtlsshim.so (or the BoringSSL it loads).
#
# ASan cannot load the library (RTLD_DEEPBIND), so memcheck it is.
#   server: tests/hardening/tls_echo_server.c under the library, with 20
#           concurrent TLS clients echoing, a client that resets mid-stream,
#           a client that sends plaintext, then SIGTERM (clean exit).
#   client: curl under the library fetching a page from openssl s_server,
#           and failing against a server with the wrong name.
# Valgrind's own preload comes first, the library second (as LD_PRELOAD
# would be for any program).  Failure: any memcheck error (invalid
# read/write, uninitialised value, bad free...) anywhere in the process,
# or a definite/indirect leak with libtlsshim.so or BoringSSL on its stack.
# No suppression file is used.
#
. "$(dirname "$0")/lib.sh"
. "$REPO_ROOT/tests/hardening/common.sh"
need_shim
certs
command -v valgrind >/dev/null || fail "valgrind is not installed (Debian package valgrind)"
H=$REPO_ROOT/tests/hardening
echo_server=$(hprog tls_echo_server)
VG=(valgrind --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --num-callers=40 --track-fds=no)

# ---------------------------------------------------------------- server
port=$(free_port)
printf '[server echo]\nmatch = 127.0.0.1:%s\ncert = %s\nkey = %s\nhandshake_timeout = 3\n' \
    "$port" "$CERTS/server.pem" "$CERTS/server.key" >"$T/server.conf"
bg server env TLSSHIM_POLICY="$T/server.conf" LD_PRELOAD="$TLSSHIM_LIB" \
    "${VG[@]}" --log-file="$T/vg-server.%p.log" "$echo_server" "$port"
WAIT_PORT_TIMEOUT=60 wait_port "$port" server
RUN_TIMEOUT=90 run load "$PY" "$H/load_client.py" load "$port" 20 3 "$CERTS/ca.pem" 0.5
[ "$RC" -eq 0 ] || fail "load against the server under valgrind failed: $(tail -c 400 "$T/load.err")"
run reset "$PY" "$H/load_client.py" reset "$port" "$CERTS/ca.pem"
run plain "$PY" "$H/bad_peers.py" client http 127.0.0.1 "$port"
kill -TERM "$(bg_pid server)"
_wait_gone "$(bg_pid server)" 300 || fail "the server under valgrind did not exit in 30 s"
wait "$(bg_pid server)" && src=0 || src=$?

# ---------------------------------------------------------------- client
cport=$(free_port)
wport=$(free_port)
mkdir -p "$T/www"
echo "valgrind page" >"$T/www/index.html"
bg_in "$T/www" s_server openssl s_server -WWW -accept "$cport" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key"
bg_in "$T/www" s_wrong openssl s_server -WWW -accept "$wport" \
    -cert "$CERTS/wrongname.pem" -key "$CERTS/wrongname.key"
wait_port "$cport" s_server
wait_port "$wport" s_wrong
printf '[client s]\nmatch = 127.0.0.1:%s, 127.0.0.1:%s\nca_file = %s\n' \
    "$cport" "$wport" "$CERTS/ca.pem" >"$T/client.conf"
RUN_TIMEOUT=90 run client env TLSSHIM_POLICY="$T/client.conf" LD_PRELOAD="$TLSSHIM_LIB" \
    "${VG[@]}" --log-file="$T/vg-client.%p.log" \
    curl -sS --max-time 60 "http://127.0.0.1:$cport/index.html" "http://127.0.0.1:$wport/index.html"
crc=$RC
assert_contains "$T/client.out" "valgrind page"
assert_match "$T/client.err" "name mismatch"

# ---------------------------------------------------------------- verdict
problems=()
[ "$src" -ne 99 ] || problems+=("server: valgrind reported errors (exit 99)")
for f in "$T"/vg-*.log; do
    who=$(basename "$f")
    grep -q 'ERROR SUMMARY' "$f" || { problems+=("$who: valgrind did not finish"); continue; }
    # Memory errors: every one counts, wherever it is.
    errs=$(grep -c -E '^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function)' "$f" || true)
    [ "$errs" -eq 0 ] || problems+=("$who: $errs memory error(s): $(grep -m1 -A8 -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched)' "$f" | tr '\n' ' ' | head -c 700)")
    # Leaks: only those with the library or BoringSSL on the stack.
    leaks=$(awk '/are (definitely|indirectly) lost/ { blk = $0; inblk = 1; next }
        inblk && /^==[0-9]+== $/ { if (ours) print blk; inblk = 0; ours = 0; next }
        inblk && /libtlsshim|android\/lib(ssl|crypto)/ { ours = 1 }' "$f")
    [ -z "$leaks" ] || problems+=("$who: leak from the library: $leaks")
    log "$who: $(grep 'ERROR SUMMARY' "$f" | sed 's/^==[0-9]*== //'); $(grep 'definitely lost:' "$f" | sed 's/^==[0-9]*== *//')"
done
# curl's own exit: 0 would mean the wrong-name fetch passed.
[ "$crc" -ne 0 ] || problems+=("client: curl succeeded against the wrong-name server")
if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
