#!/usr/bin/env bash
#
# test_smtp_server.sh - shim as TLS server for SMTP: a plaintext SMTP server
# (aiosmtpd: asyncio, epoll) runs under tlsshim and is served as SMTPS
# (implicit TLS, port 465 style) to unshimmed TLS clients that verify it:
#   swaks --tls-on-connect --tls-verify   (Perl, Net::SSLeay: checks the
#                                          chain only, not the name)
#   openssl s_client -verify_hostname     (checks the chain and the name)
# The messages must arrive intact in the server's mailbox, and neither
# their text nor the envelope cross the wire in the clear.
#
# SMTP is server-speaks-first: the server writes its "220" greeting before
# the client says anything.  The greeting must arrive encrypted, after the
# handshake.
#
# The policy is policy/smtp-server.conf, pointed at a loopback port and the
# test certificate.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/smtp_lib.sh"
need_shim
certs
RUN_TIMEOUT=30

P=$(free_port)
box=$T/maildir
subject_secret=$(marker)
body_secret=$(marker)
sclient_secret=$(marker)
make_page "$T/page.txt"

smtp_policy smtp-server.conf "$T/policy.conf" \
    match="127.0.0.1:$P" cert="$CERTS/server.pem" key="$CERTS/server.key"
run check "$TLSSHIM" --check -p "$T/policy.conf"
assert_rc 0 check

wire_start "$P"
smtp_start smtpd "$P" "$box" none "$TLSSHIM" -p "$T/policy.conf" -l info --
wait_port "$P" smtpd

# 1. swaks, a short message with secrets in the subject and the body.
run swaks swaks --tls-on-connect --tls-verify --tls-ca-path "$CERTS/ca.pem" \
    --server 127.0.0.1 --port "$P" --timeout 20 \
    --from sender@example.com --to rcpt-short@example.com \
    --header "Subject: $subject_secret" --body "body $body_secret"
assert_rc 0 swaks
assert_contains "$T/swaks.out" "=== TLS started with cipher TLSv1."
assert_contains "$T/swaks.out" '<~  220 '
assert_contains "$T/swaks.out" '<~  250 OK'
msg=$(smtp_find "$box" "body $body_secret")
assert_contains "$msg" "Subject: $subject_secret"
assert_contains "$msg" "X-RcptTo: rcpt-short@example.com"

# 2. swaks, a 100 KB body: many TLS records from the client.
run big swaks --tls-on-connect --tls-verify --tls-ca-path "$CERTS/ca.pem" \
    --server 127.0.0.1 --port "$P" --timeout 20 \
    --from sender@example.com --to rcpt-big@example.com \
    --body "$T/page.txt" --suppress-data
assert_rc 0 big
msg=$(smtp_find "$box" "X-RcptTo: rcpt-big@example.com")
assert_contains "$msg" "first line $PAGE_MARKER"
assert_contains "$msg" "last line $PAGE_MARKER"
assert_eq 2000 "$(grep -c 'of the page served in the tlsshim tests' "$msg")" \
    "page lines in the message received"

# 3. openssl s_client checks the name too; it sends the whole dialogue at
#    once (pipelining: the server reads it from the TLS buffer line by line).
printf '%s\r\n' "EHLO client.example" "MAIL FROM:<sender@example.com>" \
    "RCPT TO:<rcpt-sclient@example.com>" "DATA" "Subject: s_client" "" \
    "from s_client $sclient_secret" "." "QUIT" >"$T/dialogue.txt"
run_input "$T/dialogue.txt" sclient openssl s_client -quiet -ign_eof \
    -connect "127.0.0.1:$P" -CAfile "$CERTS/ca.pem" -verify_return_error \
    -verify_hostname localhost
assert_rc 0 sclient
assert_contains "$T/sclient.out" "221 Bye"
msg=$(smtp_find "$box" "from s_client $sclient_secret")
assert_contains "$msg" "X-RcptTo: rcpt-sclient@example.com"

sleep 0.3
bg_alive smtpd
wire_stop

assert_eq 3 "$(smtp_count "$box")" "messages in the mailbox"
n=$(count_match "$T/smtpd.err" "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23] ")
assert_eq 3 "$n" "handshake lines in the server's log"

for needle in "$subject_secret" "$body_secret" "$sclient_secret" \
    "$PAGE_MARKER" "rcpt-short@example.com" "220 localhost Python SMTP" \
    "MAIL FROM:<sender@example.com>"; do
    wire_assert_absent "$needle" "$P"
done
wire_assert_tls "$P"
