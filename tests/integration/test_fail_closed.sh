#!/usr/bin/env bash
#
# test_fail_closed.sh - a TLS rule that cannot be satisfied fails the
# program's connection, says why in one line, and lets none of the
# program's data out.
#
# A shimmed curl sends a secret (in the URL, a header and the body) to
# servers that must each be refused:
#   wrongname  certificate for other.example    -> name mismatch
#   expired    certificate expired in 2020      -> expired
#   untrusted  certificate from an unknown CA   -> issuer / self-signed
#   plaintext  a plain HTTP server              -> does not speak TLS
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim
certs

mkdir -p "$T/www"
echo "you should not see this" >"$T/www/index.html"

cases=(wrongname expired untrusted plaintext)
declare -A port reason
reason[wrongname]='name mismatch'
reason[expired]='expired'
reason[untrusted]='issuer|self[- ]signed'
reason[plaintext]='does not speak TLS'

: >"$T/policy.conf"
for c in "${cases[@]}"; do
    port[$c]=$(free_port)
    if [ "$c" = plaintext ]; then
        bg_in "$T/www" "$c" "$PY" -m http.server "${port[$c]}" \
            --bind 127.0.0.1
    else
        bg_in "$T/www" "$c" openssl s_server -WWW -accept "${port[$c]}" \
            -cert "$CERTS/$c.pem" -key "$CERTS/$c.key"
    fi
    cat >>"$T/policy.conf" <<CONF
[client $c]
match   = localhost:${port[$c]}, 127.0.0.1:${port[$c]}
ca_file = $CERTS/ca.pem

CONF
done
for c in "${cases[@]}"; do
    wait_port "${port[$c]}" "$c"
done

# Each case is checked in full and all problems are reported together: the
# cases are independent, and one broken case should not hide the others.
problems=()

wire_start "${port[@]}"
for c in "${cases[@]}"; do
    p=${port[$c]}
    secret=$(marker)
    echo "$secret" >"$T/$c.secret"
    run "curl-$c" "$TLSSHIM" -p "$T/policy.conf" -- \
        curl -sS --max-time 30 -H "X-Secret: $secret" \
        --data "body=$secret" "http://localhost:$p/$secret"
    if ! rc_is_error; then
        problems+=("$c: curl must fail at once with an error, got $(describe_rc)")
    fi
    if grep -q -F -e "$secret" "$T/curl-$c.out"; then
        problems+=("$c: curl's output contains the secret")
    fi

    # One line from the shim with the peer and the reason.
    n=$(count_match "$T/curl-$c.err" "^tlsshim\[[0-9]+\]: .*connect [^ ]*:${p}[: ].*(${reason[$c]})")
    if [ "$n" -ne 1 ]; then
        problems+=("$c: want one tlsshim line for port $p with /${reason[$c]}/, got $n; curl's stderr: $(head -c 600 "$T/curl-$c.err")")
    fi
    if ! kill -0 "$(bg_pid "$c")" 2>/dev/null; then
        problems+=("$c: the server died")
    fi
done
wire_stop

for c in "${cases[@]}"; do
    p=${port[$c]}
    for needle in "$(cat "$T/$c.secret")" "X-Secret"; do
        if ! (wire_assert_absent "$needle" "$p") 2>"$T/wire-$c.err"; then
            problems+=("$c: $(grep FAIL "$T/wire-$c.err")")
        fi
    done
    # What the client sent started with a TLS record (its ClientHello).
    if ! (wire_assert_tls "$p" to-server) 2>"$T/wire-$c.err"; then
        problems+=("$c: $(grep FAIL "$T/wire-$c.err")")
    fi
done

if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
