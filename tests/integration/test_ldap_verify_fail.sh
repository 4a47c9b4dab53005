#!/usr/bin/env bash
#
# test_ldap_verify_fail.sh - LDAP with a certificate that must be refused:
# the client reports an error, and neither its bind (DN, password) nor its
# search filter crosses the wire, nor reaches slapd.
#
# Client side (the shim verifies): a shimmed ldapsearch, told
# ldap://127.0.0.1:P1, is taken by connect_port to a slapd that does TLS
# itself with
#   wrongname  a certificate for other.example      -> name mismatch
#   untrusted  a certificate from an unknown CA     -> unknown issuer
# Server side (the shim is verified): a slapd under tlsshim serving one of
# those certificates is refused by an ordinary ldapsearch -H ldaps://.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/ldap_lib.sh"
. "$TESTS_DIR/helpers/verify_fail_lib.sh"
need_shim
certs
RUN_TIMEOUT=30

verify_fail_init slapd
for c in "${cases[@]}"; do
    verify_fail_ports "$c"
    # The slapd that does TLS itself, with the bad certificate.
    ldap_make "$T/ldap-$c" "$c"
    ldap_start "slapd-$c" "$T/ldap-$c" "ldaps://127.0.0.1:${p2[$c]}/"
    ldap_policy ldap-client.conf "$T/client-$c.conf" \
        match="127.0.0.1:${p1[$c]}" connect_port="${p2[$c]}" \
        server_name=localhost ca_file="$CERTS/ca.pem"
    # The plaintext slapd served by the shim with the bad certificate.
    ldap_make "$T/ldap-shim-$c"
    ldap_policy ldap-server.conf "$T/server-$c.conf" \
        match="127.0.0.1:${ps[$c]}" cert="$CERTS/$c.pem" key="$CERTS/$c.key"
    ldap_start "shimmed-$c" "$T/ldap-shim-$c" "ldap://127.0.0.1:${ps[$c]}/" \
        "$TLSSHIM" -p "$T/server-$c.conf" --
done
verify_fail_wait

export HOME=$T

wire_start "${p1[@]}" "${p2[@]}" "${ps[@]}"
for c in "${cases[@]}"; do
    secret[$c]=$(marker)
    pw=$(marker)

    # Client side: the shim must refuse the server before ldapsearch's bind
    # leaves.
    run "client-$c" env LDAPTLS_REQCERT=never "$TLSSHIM" \
        -p "$T/client-$c.conf" -- \
        ldapsearch -LLL -H "ldap://127.0.0.1:${p1[$c]}" -x \
        -D "uid=${secret[$c]},ou=people,$LDAP_BASE" -w "$pw" \
        -b "$LDAP_BASE" "(cn=${secret[$c]})"
    # An error of its own (rc_is_error: not 0, not a timeout, not a
    # signal): ldapsearch exits 255 for "Can't contact LDAP server".
    if ! rc_is_error; then
        problem "client $c: ldapsearch must fail with an error, got exit $RC"
    fi
    if ! grep -q "Can't contact LDAP server" "$T/client-$c.err"; then
        problem "client $c: ldapsearch does not say it cannot contact the server: $(head -c 300 "$T/client-$c.err")"
    fi
    n=$(count_match "$T/client-$c.err" "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:${p2[$c]}[: ].*(${reason[$c]})")
    if [ "$n" -ne 1 ]; then
        problem "client $c: want one tlsshim line with /${reason[$c]}/, got $n: $(head -c 400 "$T/client-$c.err")"
    fi
    echo "$pw" >"$T/$c.pw"

    # Server side: an ordinary LDAPS client must refuse the shimmed slapd.
    run "server-$c" env LDAPTLS_CACERT="$CERTS/ca.pem" LDAPTLS_REQCERT=demand \
        ldapsearch -LLL -H "ldaps://127.0.0.1:${ps[$c]}" -x \
        -D "uid=${secret[$c]},ou=people,$LDAP_BASE" -w "$pw" \
        -b "$LDAP_BASE" "(cn=${secret[$c]})"
    if ! rc_is_error; then
        problem "server $c: ldapsearch must fail with an error, got exit $RC"
    fi
done
sleep 0.3
wire_stop

for c in "${cases[@]}"; do
    verify_fail_check "$c" "${secret[$c]}" "$(cat "$T/$c.pw")"
    for name in "slapd-$c" "shimmed-$c"; do
        # No operation reached slapd: the connection never got that far.
        if grep -q -F -e "${secret[$c]}" "$T/$name.err" ||
            grep -q -E 'conn=[0-9]+ op=[0-9]+ (BIND|SRCH)' "$T/$name.err"; then
            problem "$name received an operation: $(grep -E 'op=' "$T/$name.err" | head -3)"
        fi
    done
done

fail_on_problems
