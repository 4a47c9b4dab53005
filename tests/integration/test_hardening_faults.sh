#!/usr/bin/env bash
#
# test_hardening_faults.sh - faults around a shimmed server and client: no
# crash, no hang, clear errors, and the process goes on.
#
#   emfile   the shimmed echo server (tests/hardening/tls_echo_server.c)
#            runs with 24 descriptors; 30 TLS clients connect and stay.
#            accept fails with EMFILE for the ones over the limit; the
#            handshakes of the connections it did accept, at the limit,
#            succeed; when the clients leave, new clients are served.
#   reset    a client resets its TCP connection in the middle of a
#            message: the server logs it and serves the next client.
#   killed   (a) a client streaming data through the server is killed
#            (SIGKILL): the server goes on; (b) the server is killed in
#            the middle of a transfer: the client sees an error, not a
#            clean end of file, within seconds; (c) a shimmed curl
#            downloading a large file is killed: the server (openssl
#            s_server) goes on serving a shimmed client.
#
. "$(dirname "$0")/lib.sh"
. "$REPO_ROOT/tests/hardening/common.sh"
need_shim
certs
H=$REPO_ROOT/tests/hardening
echo_server=$(hprog tls_echo_server)
CA=$CERTS/ca.pem
problems=()

# start_echo NAME PORT [LIMIT]: the shimmed echo server, with at most
# LIMIT descriptors.
start_echo()
{
    local name=$1 port=$2 limit=${3:-}
    printf '[server echo]\nmatch = 127.0.0.1:%s\ncert = %s\nkey = %s\nhandshake_timeout = 3\n' \
        "$port" "$CERTS/server.pem" "$CERTS/server.key" >"$T/$name.conf"
    if [ -n "$limit" ]; then
        bg "$name" prlimit --nofile="$limit" -- \
            "$TLSSHIM" -p "$T/$name.conf" -- "$echo_server" "$port"
    else
        bg "$name" "$TLSSHIM" -p "$T/$name.conf" -- "$echo_server" "$port"
    fi
    wait_port "$port" "$name"
}

# ---------------------------------------------------------------- EMFILE
port=$(free_port)
start_echo emfile "$port" 24
export HOLD_TIMEOUT=1.5
RUN_TIMEOUT=90 run emfile-hold "$PY" "$H/load_client.py" hold "$port" 30 "$CA" 1
read -r _ ok _ failed < <(head -n 1 "$T/emfile-hold.out")
log "emfile: ${ok:-?} connections served, ${failed:-?} refused at the limit"
if [ "$RC" -ne 0 ] || [ -z "${ok:-}" ]; then
    problems+=("emfile: the clients failed (exit $RC): $(head -c 300 "$T/emfile-hold.err")")
elif [ "$ok" -lt 12 ] || [ "$failed" -lt 1 ]; then
    problems+=("emfile: want at least 12 served and some refused at the limit, got $ok served, $failed refused")
fi
grep -q 'accept: Too many open files' "$T/emfile.err" ||
    problems+=("emfile: the server never saw EMFILE (limit not reached?)")
# The clients are gone: the server must serve again.
unset HOLD_TIMEOUT
run emfile-after "$PY" "$H/load_client.py" hold "$port" 5 "$CA" 0
grep -q '^ok 5 failed 0' "$T/emfile-after.out" ||
    problems+=("emfile: after the clients left, new ones were not served: $(cat "$T/emfile-after.out")")
bg_alive emfile
grep -q -E 'AddressSanitizer|Segmentation|Aborted|assert' "$T/emfile.err" &&
    problems+=("emfile: the server reported a crash")

# ---------------------------------------------------------------- reset
port=$(free_port)
start_echo reset "$port"
run reset-client "$PY" "$H/load_client.py" reset "$port" "$CA"
grep -q 'reset sent' "$T/reset-client.out" ||
    problems+=("reset: the client did not get to the reset: $(head -c 300 "$T/reset-client.err")")
sleep 0.5
run reset-after "$PY" "$H/load_client.py" hold "$port" 3 "$CA" 0
grep -q '^ok 3 failed 0' "$T/reset-after.out" ||
    problems+=("reset: the server did not serve the next clients: $(cat "$T/reset-after.out")")
bg_alive reset
grep -q -E '^conn [0-9]+: (read|write): Connection reset by peer' "$T/reset.err" ||
    problems+=("reset: the program did not see ECONNRESET on the reset connection: $(head -c 300 "$T/reset.err")")

# ---------------------------------------------------------------- killed
# (a) the client is killed mid-transfer.
port=$(free_port)
start_echo killed "$port"
bg bulk-a "$PY" "$H/load_client.py" bulk "$port" "$CA" 200
n=0
until grep -q progress "$T/bulk-a.out" 2>/dev/null; do
    n=$((n + 1)); [ "$n" -le 100 ] || { problems+=("killed (a): no progress in 10 s"); break; }
    sleep 0.1
done
kill -KILL -- "-$(bg_pid bulk-a)"
sleep 0.5
run killed-after "$PY" "$H/load_client.py" hold "$port" 3 "$CA" 0
grep -q '^ok 3 failed 0' "$T/killed-after.out" ||
    problems+=("killed (a): the server did not serve the next clients: $(cat "$T/killed-after.out")")
bg_alive killed

# (b) the server is killed mid-transfer.
bg bulk-b "$PY" "$H/load_client.py" bulk "$port" "$CA" 200
n=0
until grep -q progress "$T/bulk-b.out" 2>/dev/null; do
    n=$((n + 1)); [ "$n" -le 100 ] || { problems+=("killed (b): no progress in 10 s"); break; }
    sleep 0.1
done
kill -KILL -- "-$(bg_pid killed)"
if ! _wait_gone "$(bg_pid bulk-b)" 150; then
    problems+=("killed (b): the client still runs 15 s after the server was killed")
fi
end=$(grep '^ended:' "$T/bulk-b.out" || echo "(no end line)")
log "killed (b): client: $end"
case $end in
*"clean EOF"* | *complete*) problems+=("killed (b): a killed server's stream ended as if complete: $end") ;;
esac

# (c) a shimmed curl is killed in the middle of a download.
port=$(free_port)
mkdir -p "$T/www"
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' 'z' >"$T/www/big"
echo "small page" >"$T/www/small"
bg_in "$T/www" s_server openssl s_server -WWW -accept "$port" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key"
wait_port "$port" s_server
printf '[client s]\nmatch = 127.0.0.1:%s\nca_file = %s\n' "$port" "$CA" >"$T/curl.conf"
bg curl-big "$TLSSHIM" -p "$T/curl.conf" -- curl -sS --limit-rate 2M \
    -o "$T/big.out" "http://127.0.0.1:$port/big"
sleep 1.5
kill -KILL -- "-$(bg_pid curl-big)"
run curl-small "$TLSSHIM" -p "$T/curl.conf" -- curl -sS --max-time 10 \
    "http://127.0.0.1:$port/small"
grep -q 'small page' "$T/curl-small.out" ||
    problems+=("killed (c): after a killed download the next shimmed curl failed (exit $RC): $(head -c 300 "$T/curl-small.err")")
bg_alive s_server

log "server logs:"
grep -h '^tlsshim' "$T"/emfile.err "$T"/reset.err "$T"/killed.err | sort | uniq -c | sort -rn | head -10 | sed 's/^/    /' >&2 || true
if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
