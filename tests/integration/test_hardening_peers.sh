#!/usr/bin/env bash
#
# test_hardening_peers.sh - misbehaving peers fail only their own
# connection, with a logged reason, and no plaintext leaves.
#
# Server side: python3 -m http.server under the launcher (a [server] rule,
# handshake_timeout 2 s) gets, from unshimmed clients, random bytes, a
# plaintext HTTP request, a truncated ClientHello (then EOF), a truncated
# ClientHello (then silence) and a connection that sends nothing.  A good
# HTTPS client is served while the silent one is still connected, and
# again at the end; the server's page never crosses in the clear.
#
# Client side: one shimmed plaintext client process (shim_client.py)
# visits, in turn, a server that answers with garbage, a TLS 1.0-only
# server, a certificate for another name, an expired certificate, a
# self-signed certificate, and a server that closes in the middle of a
# record; then a good server, which must still work in the same process.
# Each bad one fails with a tlsshim line giving the reason, and the
# client's secret never crosses in the clear.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs
H=$REPO_ROOT/tests/hardening
problems=()

# ================================================================ server side
sport=$(free_port)
mkdir -p "$T/www"
make_page "$T/www/index.html" 200
page_marker=$PAGE_MARKER
cat >"$T/server.conf" <<CONF
[server web]
match             = 127.0.0.1:$sport
cert              = $CERTS/server.pem
key               = $CERTS/server.key
handshake_timeout = 2
CONF
http_server_start "$sport"

# ================================================================ client side
declare -A cport creason
for c in garbage tls10 wrongname expired selfsigned midrecord good; do
    cport[$c]=$(free_port)
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/selfsigned.key" -out "$T/selfsigned.pem" -days 30 \
    -subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
    2>/dev/null
cp "$CERTS/wrongname.pem" "$CERTS/wrongname.key" "$CERTS/expired.pem" \
    "$CERTS/expired.key" "$CERTS/server.pem" "$CERTS/server.key" "$T/"
bg server-garbage "$PY" "$H/bad_peers.py" garbage "${cport[garbage]}"
bg_in "$T/www" server-tls10 openssl s_server -WWW -accept "${cport[tls10]}" \
    -cert "$T/server.pem" -key "$T/server.key" -tls1 -cipher 'ALL:@SECLEVEL=0'
for c in wrongname expired selfsigned; do
    bg_in "$T/www" "server-$c" openssl s_server -WWW -accept "${cport[$c]}" \
        -cert "$T/$c.pem" -key "$T/$c.key"
done
bg server-midrecord "$PY" "$H/bad_peers.py" midrecord "${cport[midrecord]}" \
    "$T/server.pem" "$T/server.key"
bg_in "$T/www" server-good openssl s_server -WWW -accept "${cport[good]}" \
    -cert "$T/server.pem" -key "$T/server.key"
creason[garbage]='does not speak TLS|WRONG_VERSION|protocol'
creason[tls10]='version|PROTOCOL_VERSION'
creason[wrongname]='name mismatch'
creason[expired]='expired'
creason[selfsigned]='self[- ]signed|issuer'
creason[midrecord]='close_notify|truncat|cut|reset|DECODE|BAD_|closed'
: >"$T/client.conf"
for c in "${!cport[@]}"; do
    wait_port "${cport[$c]}" "server-$c"
    printf '[client %s]\nmatch   = 127.0.0.1:%s\nca_file = %s\n\n' \
        "$c" "${cport[$c]}" "$CERTS/ca.pem" >>"$T/client.conf"
done

wire_start "$sport" "${cport[@]}"

# ---------------------------------------------------------------- server side
# The silent client first, in the background: the good client is served
# while it waits.
bg silent "$PY" "$H/bad_peers.py" client silent 127.0.0.1 "$sport"
sleep 0.3
run good-during-silent curl -sS --max-time 10 --cacert "$CERTS/ca.pem" \
    "https://localhost:$sport/index.html"
[ "$RC" -eq 0 ] && grep -q -F "$page_marker" "$T/good-during-silent.out" ||
    problems+=("server: a good client was not served while a silent one was connected (curl exit $RC)")
for kind in random http truncated stall; do
    run "bad-$kind" "$PY" "$H/bad_peers.py" client "$kind" 127.0.0.1 "$sport"
    grep -q -F "$page_marker" "$T/bad-$kind.out" &&
        problems+=("server: the page went to the $kind client")
done
_wait_gone "$(bg_pid silent)" 100 || true
run good-after curl -sS --max-time 10 --cacert "$CERTS/ca.pem" \
    "https://localhost:$sport/index.html"
[ "$RC" -eq 0 ] && grep -q -F "$page_marker" "$T/good-after.out" ||
    problems+=("server: the good client failed after the bad ones (curl exit $RC)")
bg_alive server

# ---------------------------------------------------------------- client side
secret=$(marker)
order=(garbage tls10 wrongname expired selfsigned midrecord good)
targets=()
for c in "${order[@]}"; do
    targets+=("127.0.0.1:${cport[$c]}")
done
RUN_TIMEOUT=90 run client "$TLSSHIM" -p "$T/client.conf" -- \
    "$PY" "$H/shim_client.py" "$secret" "${targets[@]}"
[ "$RC" -eq 0 ] || problems+=("client: the shimmed client process exited $RC")

wire_stop

# ---------------------------------------------------------------- verdicts
# Server side: one warning per bad connection, each with a reason.
declare -A sreason
sreason[random]='does not speak TLS|protocol|WRONG_VERSION|DECODE|unknown'
sreason[http]='does not speak TLS.*HTTP'
sreason[truncated]='closed|reset|truncat|EOF'
sreason[stall]='timed out'
sreason[silent]='timed out'
n=$(count_match "$T/server.err" '^tlsshim\[[0-9]+\]: fd [0-9]+: accept .*(failed|timed out)')
[ "$n" -eq 5 ] || problems+=("server: want 5 tlsshim failure lines (one per bad client), got $n")
for kind in random http truncated stall silent; do
    m=$(count_match "$T/server.err" "^tlsshim\[[0-9]+\]: fd [0-9]+: accept .*(${sreason[$kind]})")
    [ "$m" -ge 1 ] || problems+=("server: no tlsshim line with /${sreason[$kind]}/ for the $kind client")
done

# Client side: one line of output per target, good last and ok.
for c in "${order[@]}"; do
    p=${cport[$c]}
    res=$(grep "^$p " "$T/client.out" || echo "$p (no result)")
    if [ "$c" = good ]; then
        [[ $res == "$p ok "* ]] && grep -q "FILE:index.html\|HTTP/1.0 200" <<<"$res" ||
            problems+=("client: the good server failed after the bad ones: $res")
        continue
    fi
    if [[ $res == "$p ok "* ]] && [ "$c" != midrecord ]; then
        problems+=("client: $c: the connection succeeded: $res")
    fi
    if [ "$c" = midrecord ] && [[ $res == *"xxxxxxxx"* ]] && [[ $res == "$p ok "* ]]; then
        problems+=("client: midrecord: a cut record read as a clean end of file: $res")
    fi
    m=$(count_match "$T/client.err" "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:${p}[: ].*(${creason[$c]})")
    [ "$m" -ge 1 ] || problems+=("client: $c: no tlsshim line for port $p with /${creason[$c]}/ ($res)")
done

# Nothing in the clear: the client's secret and the server's page.
for needle in "$secret" "$page_marker"; do
    if ! (wire_assert_absent "$needle") 2>"$T/wire.err"; then
        problems+=("wire: $(grep FAIL "$T/wire.err")")
    fi
done
if ! (wire_assert_tls "${cport[good]}") 2>"$T/wire.err"; then
    problems+=("wire: $(grep FAIL "$T/wire.err")")
fi

log "server log:"; grep '^tlsshim' "$T/server.err" | sed 's/^/    /' >&2 || true
log "client log:"; grep '^tlsshim' "$T/client.err" | sed 's/^/    /' >&2 || true
log "client results:"; sed 's/^/    /' "$T/client.out" >&2
if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
