#!/usr/bin/env bash
#
# test_smtp_verify_fail.sh - SMTP with a certificate that must be refused:
# the client reports an error, no message is delivered, and nothing of it
# (envelope, headers, body) crosses the wire in the clear.
#
# Client side (the shim verifies): shimmed swaks and msmtp, told port P1,
# are taken by connect_port to an SMTPS server (aiosmtpd's own TLS) with
#   wrongname  a certificate for other.example      -> name mismatch
#   untrusted  a certificate from an unknown CA     -> unknown issuer
# Server side (the shim is verified): a plaintext aiosmtpd under tlsshim
# serving one of those certificates is refused by an ordinary TLS client:
# swaks --tls-verify for the unknown CA (swaks checks the chain, not the
# name) and openssl s_client -verify_hostname for the wrong name.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/smtp_lib.sh"
. "$TESTS_DIR/helpers/verify_fail_lib.sh"
need_shim
certs
RUN_TIMEOUT=30

verify_fail_init smtps
for c in "${cases[@]}"; do
    verify_fail_ports "$c"
    smtp_start "smtps-$c" "${p2[$c]}" "$T/box-$c" "$c"
    smtp_policy smtp-client.conf "$T/client-$c.conf" \
        match="127.0.0.1:${p1[$c]}, localhost:${p1[$c]}" \
        connect_port="${p2[$c]}" server_name=localhost ca_file="$CERTS/ca.pem"
    smtp_policy smtp-server.conf "$T/server-$c.conf" \
        match="127.0.0.1:${ps[$c]}" cert="$CERTS/$c.pem" key="$CERTS/$c.key"
    smtp_start "shimmed-$c" "${ps[$c]}" "$T/box-shimmed-$c" none \
        "$TLSSHIM" -p "$T/server-$c.conf" --
done
verify_fail_wait

# check_client LABEL PORT REASON: the run LABEL failed with an error of its
# own (rc_is_error: not 0, not a timeout, not a signal) and the shim said
# why in one line.
check_client()
{
    local label=$1 port=$2 why=$3 n
    if ! rc_is_error; then
        problem "$label: the client must fail with an error, got exit $RC"
    fi
    n=$(count_match "$T/$label.err" "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:${port}[: ].*(${why})")
    if [ "$n" -ne 1 ]; then
        problem "$label: want one tlsshim line with /$why/, got $n: $(head -c 400 "$T/$label.err")"
    fi
}

wire_start "${p1[@]}" "${p2[@]}" "${ps[@]}"
for c in "${cases[@]}"; do
    secret[$c]=$(marker)

    # Client side: the shim must refuse the server before the greeting is
    # read, so the clients never send a command.
    run "swaks-$c" "$TLSSHIM" -p "$T/client-$c.conf" -- \
        swaks --server localhost --port "${p1[$c]}" --timeout 20 \
        --from "s-${secret[$c]}@example.com" --to rcpt@example.com \
        --body "swaks ${secret[$c]}"
    check_client "swaks-$c" "${p2[$c]}" "${reason[$c]}"

    printf 'Subject: msmtp %s\n\nmsmtp %s\n' "${secret[$c]}" "${secret[$c]}" \
        >"$T/message-$c.txt"
    run_input "$T/message-$c.txt" "msmtp-$c" "$TLSSHIM" \
        -p "$T/client-$c.conf" -- \
        msmtp --host=127.0.0.1 --port="${p1[$c]}" --tls=off --auth=off \
        --timeout=20 --from="m-${secret[$c]}@example.com" rcpt@example.com
    check_client "msmtp-$c" "${p2[$c]}" "${reason[$c]}"
    if ! grep -q -E 'msmtp: (network read error|cannot connect|.*TLS)' \
        "$T/msmtp-$c.err"; then
        problem "msmtp-$c: msmtp does not report a network error: $(head -c 300 "$T/msmtp-$c.err")"
    fi

    # Server side: an ordinary TLS client must refuse the shimmed server.
    if [ "$c" = untrusted ]; then
        run "server-$c" swaks --tls-on-connect --tls-verify \
            --tls-ca-path "$CERTS/ca.pem" --server 127.0.0.1 \
            --port "${ps[$c]}" --timeout 20 \
            --from "s-${secret[$c]}@example.com" --to rcpt@example.com \
            --body "server ${secret[$c]}"
    else
        printf '%s\r\n' "EHLO client.example" \
            "MAIL FROM:<s-${secret[$c]}@example.com>" "RCPT TO:<rcpt@example.com>" \
            "DATA" "" "server ${secret[$c]}" "." "QUIT" >"$T/dialogue-$c.txt"
        run_input "$T/dialogue-$c.txt" "server-$c" openssl s_client -quiet \
            -connect "127.0.0.1:${ps[$c]}" -CAfile "$CERTS/ca.pem" \
            -verify_return_error -verify_hostname localhost
    fi
    if ! rc_is_error; then
        problem "server-$c: the client must refuse the server, got exit $RC"
    fi
done
sleep 0.3
wire_stop

for c in "${cases[@]}"; do
    verify_fail_check "$c" "${secret[$c]}" "rcpt@example.com" "MAIL FROM"
    # No message was delivered.
    for box in "$T/box-$c" "$T/box-shimmed-$c"; do
        n=$(smtp_count "$box")
        if [ "$n" -ne 0 ]; then
            problem "$c: $n message(s) in $box"
        fi
    done
done

fail_on_problems
