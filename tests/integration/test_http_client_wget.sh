#!/usr/bin/env bash
#
# test_http_client_wget.sh - GNU wget as a shimmed client, and fail-closed
# for GNU wget and busybox wget.
#
# GNU wget fetches http://localhost:P/ from `openssl s_server -WWW`; the
# shim speaks TLS and verifies the server (rule by address: wget may
# resolve localhost to ::1 or 127.0.0.1, both are listed).  Then against a
# server whose certificate names another host and one from an unknown CA,
# both wgets must fail with an error, the shim must say why, and neither
# the request nor the secret it carries may cross the wire.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

need_dynamic_busybox
wget=/usr/bin/wget
[ -x "$wget" ] || fail "GNU wget is not installed"
"$wget" --version 2>/dev/null | head -1 | grep -q 'GNU Wget' ||
    fail "$wget is not GNU wget"

make_page "$T/www/file.txt" 20000
P=$(free_port)
P_WRONG=$(free_port)
P_UNTRUSTED=$(free_port)

bg_in "$T/www" s_server openssl s_server -WWW -accept "$P" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key"
bg_in "$T/www" wrongname openssl s_server -WWW -accept "$P_WRONG" \
    -cert "$CERTS/wrongname.pem" -key "$CERTS/wrongname.key"
bg_in "$T/www" untrusted openssl s_server -WWW -accept "$P_UNTRUSTED" \
    -cert "$CERTS/untrusted.pem" -key "$CERTS/untrusted.key"
wait_port "$P" s_server
wait_port "$P_WRONG" wrongname
wait_port "$P_UNTRUSTED" untrusted

: >"$T/policy.conf"
for p in "$P" "$P_WRONG" "$P_UNTRUSTED"; do
    cat >>"$T/policy.conf" <<CONF
[client web-$p]
match       = 127.0.0.1:$p, [::1]:$p
server_name = localhost
ca_file     = $CERTS/ca.pem

CONF
done

# --- GNU wget fetches the page -----------------------------------------------
wire_start "$P"
run wget "$TLSSHIM" -p "$T/policy.conf" -l info -- \
    "$wget" -q -T 30 -t 1 -O - "http://localhost:$P/file.txt"
wire_stop
assert_rc 0 wget
assert_same_file "$T/www/file.txt" "$T/wget.out"
assert_match "$T/wget.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: connect (127\.0\.0\.1|\[?::1\]?):${P}[: ].*TLS ?v?1\.[23] .*verified localhost"
wire_assert_absent "GET /file.txt" "$P"
wire_assert_absent "$PAGE_MARKER" "$P"
wire_assert_tls "$P"

# --- verification fails: nothing crosses in the clear ------------------------
problems=()
wire_start "$P_WRONG" "$P_UNTRUSTED"
for client in gnu busybox; do
    for c in wrongname untrusted; do
        if [ "$c" = wrongname ]; then p=$P_WRONG; why='name mismatch'; else
            p=$P_UNTRUSTED; why='issuer|self[- ]signed'; fi
        secret=$(marker)
        echo "$secret" >>"$T/secrets"
        label="$client-$c"
        if [ "$client" = gnu ]; then
            run "$label" "$TLSSHIM" -p "$T/policy.conf" -- \
                "$wget" -q -T 20 -t 1 -O - "http://localhost:$p/$secret"
        else
            # No -T: Debian 12's busybox wget (1.35.0) crashes with -T,
            # with or without the shim.  `run` bounds it.
            run "$label" "$TLSSHIM" -p "$T/policy.conf" -- \
                "$busybox" wget -q -O - "http://localhost:$p/$secret"
        fi
        if [ "$RC" -eq 0 ] || [ "$RC" -eq 124 ] || [ "$RC" -gt 128 ]; then
            problems+=("$label: want a failure exit status, got $RC")
        fi
        if [ -s "$T/$label.out" ]; then
            problems+=("$label: wget printed a page: $(head -c 200 "$T/$label.out")")
        fi
        n=$(count_match "$T/$label.err" "^tlsshim\[[0-9]+\]: .*connect [^ ]*:${p}[: ].*($why)")
        if [ "$n" -lt 1 ]; then
            problems+=("$label: no tlsshim line with /$why/: $(head -c 400 "$T/$label.err")")
        fi
    done
done
wire_stop
bg_alive wrongname
bg_alive untrusted

while read -r secret; do
    for p in "$P_WRONG" "$P_UNTRUSTED"; do
        if ! (wire_assert_absent "$secret" "$p") 2>"$T/wire.err"; then
            problems+=("$(grep FAIL "$T/wire.err")")
        fi
    done
done <"$T/secrets"
for p in "$P_WRONG" "$P_UNTRUSTED"; do
    if ! (wire_assert_absent "GET /" "$p" && wire_assert_tls "$p" to-server) \
        2>"$T/wire.err"; then
        problems+=("$(grep FAIL "$T/wire.err")")
    fi
done

if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
