#!/usr/bin/env bash
#
# test_hardening_bypass.sh - no libc way of sending bytes carries a wrapped
# connection's plaintext to the peer.
#
# For each method tests/hardening/bypass_probe.c knows (write, send, the
# *mmsg calls, pwritev2 at offset -1, syscall(SYS_write), dprintf, splice,
# sendfile, copy_file_range, POSIX aio, stdio on a dup2'd stdout, ...), a
# shimmed probe connects to a plain TCP peer that records everything it
# receives, under a [client] rule for that peer, and sends a marker with
# that method.  A call the shim handles starts a TLS handshake, which the
# silent peer lets time out: no marker arrives.  A call that goes around
# the shim delivers the marker as it is.  The test fails for every method
# whose marker reached the peer.
#
. "$(dirname "$0")/lib.sh"
. "$REPO_ROOT/tests/hardening/common.sh"
need_shim
certs

probe=$(hprog bypass_probe)
port=$(free_port)
sink_start sink "$port" "$T/received"

cat >"$T/policy.conf" <<CONF
[client sink]
match             = 127.0.0.1:$port
ca_file           = $CERTS/ca.pem
# The peer never answers the ClientHello: fail fast.
handshake_timeout = 1
CONF

mapfile -t methods < <("$probe" list)
declare -A mark
for m in "${methods[@]}"; do
    mark[$m]="$(marker)-$m"
    run "probe-$m" "$TLSSHIM" -p "$T/policy.conf" -- \
        "$probe" 127.0.0.1 "$port" "$m" "${mark[$m]}"
    [ "$RC" -eq 0 ] || {
        show_file "probe $m" "$T/probe-$m.err"
        fail "bypass_probe $m exited $RC"
    }
done
# The sink writes a connection's bytes when it ends (at most 5 s of
# silence after the probe exits, usually at once).
sleep 1
n=0
while [ "$(grep -c -a -x -e '--' "$T/received" || true)" -lt "${#methods[@]}" ]; do
    n=$((n + 1))
    [ "$n" -le 70 ] || fail "the sink saw $(grep -c -a -x -e '--' "$T/received") of ${#methods[@]} connections"
    sleep 0.1
done

leaks=()
for m in "${methods[@]}"; do
    result=$(grep -a "^$m: result" "$T/probe-$m.err" || echo "$m: (no result line)")
    if grep -q -a -F -e "${mark[$m]}" "$T/received"; then
        leaks+=("$m: PLAINTEXT REACHED THE PEER ($result)")
    else
        log "ok  $result"
    fi
done
if [ "${#leaks[@]}" -ne 0 ]; then
    printf '  - %s\n' "${leaks[@]}" >&2
    fail "${#leaks[@]} of ${#methods[@]} ways of sending go around the shim"
fi
