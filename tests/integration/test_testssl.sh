#!/usr/bin/env bash
#
# test_testssl.sh - the TLS a shimmed program speaks is strong by default.
#
# Server role: python3 -m http.server under the launcher, a [server] rule
# with no options (the defaults), examined by testssl.sh and sslscan:
#   - protocols: TLS 1.2 and 1.3 offered; SSLv2, SSLv3, TLS 1.0, 1.1 not;
#   - TLS 1.2 suites: ECDHE key exchange with an AEAD cipher (AES-GCM or
#     ChaCha20-Poly1305) only;
#   - no TLS compression, no insecure or client-initiated renegotiation;
#   - testssl.sh reports no finding rated MEDIUM, HIGH or CRITICAL, except
#     those about the test certificate itself, not about the shim (listed
#     below with the reason).
# Client role: a shimmed curl refuses servers that offer only what the
# defaults exclude (TLS 1.2 with CBC suites, TLS 1.1), and talks to one
# that offers an ECDHE+AEAD suite (the control).
#
. "$(dirname "$0")/lib.sh"
need_shim
certs
command -v testssl >/dev/null || fail "testssl is not installed (Debian package testssl.sh)"
command -v sslscan >/dev/null || fail "sslscan is not installed (Debian package sslscan)"

port=$(free_port)
mkdir -p "$T/www"
echo "testssl page" >"$T/www/index.html"
server_conf web "$port"
http_server_start "$port"

problems=()

# ------------------------------------------------------------ sslscan
RUN_TIMEOUT=60 run sslscan sslscan --no-colour "127.0.0.1:$port"
[ "$RC" -eq 0 ] || fail "sslscan failed (exit $RC): $(head -c 400 "$T/sslscan.err")"
s=$T/sslscan.out
for p in SSLv2 SSLv3 TLSv1.0 TLSv1.1; do
    grep -q -E "^$p +disabled" "$s" || problems+=("sslscan: $p is not disabled: $(grep -E "^$p " "$s")")
done
for p in TLSv1.2 TLSv1.3; do
    grep -q -E "^$p +enabled" "$s" || problems+=("sslscan: $p is not enabled")
done
# Every TLS 1.2 suite: ECDHE with AES-GCM or ChaCha20-Poly1305.
n12=0
while read -r _ _ _ _ suite _; do
    n12=$((n12 + 1))
    if ! [[ $suite =~ ^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$ ]]; then
        problems+=("sslscan: TLS 1.2 suite $suite is not ECDHE+AEAD")
    fi
done < <(grep -E '^(Preferred|Accepted) +TLSv1\.2 ' "$s")
[ "$n12" -gt 0 ] || problems+=("sslscan: no TLS 1.2 suite accepted")
grep -q -E '^(Session renegotiation not supported|Secure session renegotiation supported)' "$s" ||
    problems+=("sslscan: renegotiation: $(grep -i -A1 'renegotiation:' "$s" | tail -1)")
grep -q -i 'insecure' "$s" && problems+=("sslscan: $(grep -i insecure "$s")")
grep -q 'Compression enabled' "$s" && problems+=("sslscan: compression enabled")
grep -q -E 'vulnerable to heartbleed' "$s" &&
    grep -E 'vulnerable to heartbleed' "$s" | grep -v -q 'not vulnerable' &&
    problems+=("sslscan: heartbleed")

# ------------------------------------------------------------ testssl.sh
# The checks that concern the TLS configuration (a full run takes minutes):
# protocols, cipher categories, forward secrecy, server defaults, CRIME,
# Heartbleed, CCS, POODLE, fallback, RC4 (ROBOT needs RSA key transport,
# which is not offered at all: see sslscan).  --add-ca:
# the test CA, so the chain verifies.  Renegotiation is checked by sslscan
# above: testssl's client-initiated renegotiation check (-R) waits on an
# interactive s_client and took from 20 s to over 100 s here.
RUN_TIMEOUT=100 run testssl testssl --quiet --color 0 --warnings off \
    --openssl-timeout 5 --add-ca "$CERTS/ca.pem" \
    -p -s -f -S -C -H -I -O -Z -4 \
    --jsonfile "$T/testssl.json" "127.0.0.1:$port"
[ "$RC" -eq 0 ] || fail "testssl failed (exit $RC): $(tail -c 600 "$T/testssl.out")"
# Findings about the test certificate, not the shim: the fixtures are
# made for 30 days (so "expires < 30 days" from their first day), and a
# throwaway test CA publishes no CRL or OCSP; loopback has no CAA record.
"$PY" - "$T/testssl.json" >"$T/testssl.findings" <<'PY'
import json, sys
fixture = {"cert_expirationStatus", "cert_notAfter", "cert_revocation",
           "DNS_CAArecord"}
findings = json.load(open(sys.argv[1]))
ids = {f["id"] for f in findings}
for must in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"):
    if must not in ids:
        print("MISSING %s: testssl did not report it" % must)
for f in findings:
    if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL") and f["id"] not in fixture:
        print("%s %s: %s" % (f["severity"], f["id"], f["finding"]))
    # Protocols: only 1.2 and 1.3.
    if f["id"] in ("SSLv2", "SSLv3", "TLS1", "TLS1_1") and not f["finding"].startswith("not offered"):
        print("PROTOCOL %s: %s" % (f["id"], f["finding"]))
    if f["id"] in ("TLS1_2", "TLS1_3") and not f["finding"].startswith("offered"):
        print("PROTOCOL %s: %s" % (f["id"], f["finding"]))
PY
while read -r line; do
    problems+=("testssl: $line")
done <"$T/testssl.findings"
bg_alive server

# ------------------------------------------------------------ client role
# openssl s_server peers that offer only what the defaults exclude.
declare -A args want
args[cbc]="-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384"
want[cbc]=refused
args[tls11]="-tls1_1 -cipher ALL:@SECLEVEL=0"
want[tls11]=refused
args[aead]="-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256"
want[aead]=ok
: >"$T/client.conf"
for c in cbc tls11 aead; do
    p=$(free_port)
    # shellcheck disable=SC2086 # args are words
    bg_in "$T/www" "peer-$c" openssl s_server -WWW -accept "$p" \
        -cert "$CERTS/server.pem" -key "$CERTS/server.key" ${args[$c]}
    wait_port "$p" "peer-$c"
    cat >"$T/client-$c.conf" <<CONF
[client $c]
match   = 127.0.0.1:$p
ca_file = $CERTS/ca.pem
CONF
    run "curl-$c" "$TLSSHIM" -p "$T/client-$c.conf" -- \
        curl -sS --max-time 20 "http://127.0.0.1:$p/index.html"
    if [ "${want[$c]}" = ok ]; then
        [ "$RC" -eq 0 ] && grep -q "testssl page" "$T/curl-$c.out" ||
            problems+=("client: ECDHE+AEAD TLS 1.2 peer should work: exit $RC, $(head -c 300 "$T/curl-$c.err")")
    else
        if [ "$RC" -eq 0 ]; then
            problems+=("client: the shimmed client accepted a peer offering only $c")
        fi
        grep -q -E '^tlsshim\[[0-9]+\]: .*(handshake failed|protocol|cipher|version)' "$T/curl-$c.err" ||
            problems+=("client: no tlsshim line saying why the $c peer was refused: $(head -c 300 "$T/curl-$c.err")")
    fi
done

if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
log "sslscan and testssl.sh: TLS 1.2/1.3 only, $n12 TLS 1.2 suites all ECDHE+AEAD, no finding rated medium or worse"
