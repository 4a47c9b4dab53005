#!/usr/bin/env bash
#
# soak.sh [MINUTES] - a bounded soak run (default 5 minutes) of mixed
# traffic through shimmed servers and clients; not part of ctest.
#
# Long-lived shimmed servers: tls_echo_server (poll, non-blocking) and
# python3 -m http.server (threads).  Until the time is up, each cycle:
#   - 50 concurrent TLS clients x 5 rounds of echo (load_client.py);
#   - a shimmed threaded client (thread_client: 4 threads x 100 lines);
#   - 5 shimmed curl fetches of a 100 KB page, checked against the file;
#   - one bad client (random bytes) and one reset client.
# The servers' resident memory is sampled every cycle.  Fails on any
# failed transfer, a server that dies, or memory that is not flat: the
# last sample may exceed the one taken after the first fifth of the run
# by at most 10% + 2 MiB.  Prints a summary line per server.
#
# Environment as for the integration tests (TLSSHIM, TLSSHIM_LIB,
# TLSSHIM_CERTS; defaults: build/ of this checkout).
#
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.sh"
need_shim
certs

minutes=${1:-5}
case $minutes in '' | *[!0-9]*) fail "usage: soak.sh [MINUTES]" ;; esac
H=$REPO_ROOT/tests/hardening
CA=$CERTS/ca.pem
echo_server=$(hprog tls_echo_server)
client=$(hprog thread_client)
RUN_TIMEOUT=120

eport=$(free_port)
hport=$(free_port)
mkdir -p "$T/www"
make_page "$T/www/page.html" 2000
cat >"$T/server.conf" <<CONF
[server echo]
match = 127.0.0.1:$eport
cert  = $CERTS/server.pem
key   = $CERTS/server.key
handshake_timeout = 3

[server http]
match = 127.0.0.1:$hport
cert  = $CERTS/server.pem
key   = $CERTS/server.key
handshake_timeout = 3
CONF
cat >"$T/client.conf" <<CONF
[client any]
match       = 127.0.0.1:$eport, 127.0.0.1:$hport
ca_file     = $CA
server_name = localhost
CONF
bg echo "$TLSSHIM" -p "$T/server.conf" -- "$echo_server" "$eport"
bg_in "$T/www" http "$TLSSHIM" -p "$T/server.conf" -- "$PY" -m http.server "$hport" --bind 127.0.0.1
wait_port "$eport" echo
wait_port "$hport" http

end=$(($(date +%s) + minutes * 60))
early=$(($(date +%s) + minutes * 12))
cycle=0 bytes=0 fetches=0
echo_early="" http_early=""
printf 'cycle echo_rss_kb http_rss_kb\n' >"$T/memory.txt"
while [ "$(date +%s)" -lt "$end" ]; do
    cycle=$((cycle + 1))
    run load "$PY" "$H/load_client.py" load "$eport" 50 5 "$CA" 0
    [ "$RC" -eq 0 ] || fail "cycle $cycle: load failed: $(tail -c 400 "$T/load.err")"
    bytes=$((bytes + $(sed -n 's/^echoed \([0-9]*\) .*/\1/p' "$T/load.out")))
    run threads "$TLSSHIM" -p "$T/client.conf" -- "$client" 127.0.0.1 "$eport" 4 100
    grep -q '^ok 4 100' "$T/threads.out" || fail "cycle $cycle: thread_client failed: $(cat "$T/threads.err")"
    for i in 1 2 3 4 5; do
        run curl "$TLSSHIM" -p "$T/client.conf" -- curl -sS --max-time 20 \
            -o "$T/got.html" "http://127.0.0.1:$hport/page.html"
        cmp -s "$T/got.html" "$T/www/page.html" || fail "cycle $cycle: fetch $i differs (curl exit $RC)"
        fetches=$((fetches + 1))
    done
    run bad "$PY" "$H/bad_peers.py" client random 127.0.0.1 "$hport"
    run reset "$PY" "$H/load_client.py" reset "$eport" "$CA"
    bg_alive echo
    bg_alive http
    e=$(rss_kb "$(bg_pid echo)")
    h=$(rss_kb "$(pgrep -P "$(bg_pid http)" -f http.server || bg_pid http)")
    printf '%s %s %s\n' "$cycle" "$e" "$h" >>"$T/memory.txt"
    if [ -z "$echo_early" ] && [ "$(date +%s)" -ge "$early" ]; then
        echo_early=$e http_early=$h
    fi
done
[ -n "$echo_early" ] || { echo_early=$(awk 'NR == 2 { print $2 }' "$T/memory.txt"); http_early=$(awk 'NR == 2 { print $3 }' "$T/memory.txt"); }
log "$cycle cycles in $minutes min: $bytes bytes echoed, $fetches pages fetched"
log "echo server RSS: ${echo_early} KiB early, ${e} KiB at the end"
log "http server RSS: ${http_early} KiB early, ${h} KiB at the end"
cp "$T/memory.txt" "${SOAK_MEMORY_FILE:-/dev/null}" 2>/dev/null || true
for pair in "echo $echo_early $e" "http $http_early $h"; do
    read -r name a b <<<"$pair"
    limit=$((a + a / 10 + 2048))
    [ "$b" -le "$limit" ] || fail "$name server memory grew from $a KiB to $b KiB (limit $limit KiB)"
done
