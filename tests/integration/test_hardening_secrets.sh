#!/usr/bin/env bash
#
# test_hardening_secrets.sh - no key material in the shim's debug log.
#
# Full sessions at TLSSHIM_LOG=debug, both roles, TLS 1.3 and 1.2:
#   client role: shimmed curl -> openssl s_server -keylogfile
#   server role: curl (SSLKEYLOGFILE) -> shimmed python3 -m http.server
# The peers write the session secrets (NSS key log format: client random,
# handshake and traffic secrets, the TLS 1.2 master secret).  None of the
# secrets may appear in the shim's log, as hex (either case) or base64;
# nor may any line of the private keys' base64.  The log must be a real
# debug log (non-empty, with the handshake lines), or the check proves
# nothing.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs
mkdir -p "$T/www"
echo "secret test page" >"$T/www/index.html"

# ---------------------------------------------------------------- client
cport=$(free_port)
bg_in "$T/www" s_server openssl s_server -WWW -accept "$cport" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
    -keylogfile "$T/keylog-client-role.txt"
wait_port "$cport" s_server
client_conf s "$cport"
for v in 1.3 1.2; do
    run "client-$v" env TLSSHIM_LOG=debug TLSSHIM_LOG_FILE="$T/shim-client.log" \
        "$TLSSHIM" -p "$T/client.conf" -- \
        curl -sS --max-time 10 "http://127.0.0.1:$cport/index.html"
    assert_contains "$T/client-$v.out" "secret test page"
    if [ "$v" = 1.3 ]; then
        # The shim's client offers both versions: limit the peer to 1.2
        # for the second session.
        bg_stop s_server
        bg_in "$T/www" s_server openssl s_server -WWW -accept "$cport" \
            -cert "$CERTS/server.pem" -key "$CERTS/server.key" -tls1_2 \
            -keylogfile "$T/keylog-client-role-12.txt"
        wait_port "$cport" s_server
    fi
done

# ---------------------------------------------------------------- server
sport=$(free_port)
server_conf w "$sport"
bg_in "$T/www" server env TLSSHIM_LOG=debug TLSSHIM_LOG_FILE="$T/shim-server.log" \
    "$TLSSHIM" -p "$T/server.conf" -- "$PY" -m http.server "$sport" --bind 127.0.0.1
wait_port "$sport" server
for v in 1.3 1.2; do
    flag=--tlsv1.3
    [ "$v" = 1.2 ] && flag="--tlsv1.2 --tls-max 1.2"
    # shellcheck disable=SC2086 # flag is words
    run "server-$v" env SSLKEYLOGFILE="$T/keylog-server-role.txt" \
        curl -sS --max-time 10 $flag --cacert "$CERTS/ca.pem" \
        "https://localhost:$sport/index.html"
    assert_contains "$T/server-$v.out" "secret test page"
done
bg_stop server

cat "$T"/shim-client.log "$T"/shim-server.log >"$T/shim.log"
cat "$T"/keylog-*.txt >"$T/keylog.txt"
lines=$(wc -l <"$T/shim.log")
log "shim debug log: $lines lines; key log: $(grep -c -v '^#' "$T/keylog.txt") secrets"
[ "$lines" -ge 4 ] || fail "the shim's debug log has only $lines lines: nothing to check"
assert_match "$T/shim.log" 'TLSv1\.3'
assert_match "$T/shim.log" 'TLSv1\.2'
grep -q -E 'TRAFFIC_SECRET' "$T/keylog.txt" || fail "no TLS 1.3 secrets in the key log"
grep -q -E '^CLIENT_RANDOM' "$T/keylog.txt" || fail "no TLS 1.2 master secret in the key log"

# Each secret (third field) as lower and upper hex and as base64; 16
# leading hex digits are enough to find a secret even if cut.
"$PY" - "$T/keylog.txt" "$CERTS/server.key" "$CERTS/client.key" >"$T/needles" <<'PY'
import base64, sys
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) != 3 or line.startswith("#"):
        continue
    raw = bytes.fromhex(f[2])
    print(f[2][:16].lower())
    print(f[2][:16].upper())
    print(base64.b64encode(raw).decode()[:16])
for key in sys.argv[2:]:
    for line in open(key):
        line = line.strip()
        if line and not line.startswith("-----") and len(line) >= 16:
            print(line[:16])
PY
found=$(grep -c -F -f "$T/needles" "$T/shim.log" || true)
if [ "$found" -ne 0 ]; then
    grep -F -f "$T/needles" "$T/shim.log" | head -5 >&2
    fail "$found line(s) of the shim's debug log contain key material"
fi
log "$(wc -l <"$T/needles") secret fragments searched, none in the log"
