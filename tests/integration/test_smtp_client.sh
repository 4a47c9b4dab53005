#!/usr/bin/env bash
#
# test_smtp_client.sh - shim as TLS client for SMTP: plaintext SMTP clients
# under tlsshim reach an SMTPS server (aiosmtpd with its own TLS context:
# implicit TLS, port 465 style) through a client rule with connect_port.
# The clients are told port P1, where nothing listens; the rule takes them
# to P2, where the server does TLS.
#   swaks -s localhost -p P1         (Perl, select + sysread; by name: the
#                                     shim verifies "localhost", the name
#                                     swaks resolved)
#   msmtp --host=127.0.0.1 --tls=off (C, blocking recv/send; by address,
#                                     server_name = localhost in the rule)
# SMTP is server-speaks-first: the client's first I/O is a read, waiting
# for the "220" greeting, and that is where the handshake happens.
#
# (By address without server_name the shim checks the name it last saw
# resolved for 127.0.0.1.  msmtp resolves the machine's own host name at
# start-up, and where /etc/hosts maps that name to 127.0.0.1, as in some
# containers, that name would be checked: the policy sample explains.)
#
# The policy is policy/smtp-client.conf, pointed at the loopback ports and
# the test CA.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/smtp_lib.sh"
need_shim
certs
RUN_TIMEOUT=30

P1=$(free_port)
P2=$(free_port)
box=$T/maildir
swaks_secret=$(marker)
msmtp_secret=$(marker)
make_page "$T/page.txt"

smtp_policy smtp-client.conf "$T/byname.conf" \
    match="localhost:$P1" connect_port="$P2" server_name= \
    ca_file="$CERTS/ca.pem"
smtp_policy smtp-client.conf "$T/byaddr.conf" \
    match="127.0.0.1:$P1" connect_port="$P2" server_name=localhost \
    ca_file="$CERTS/ca.pem"
for p in byname byaddr; do
    run "check-$p" "$TLSSHIM" --check -p "$T/$p.conf"
    assert_rc 0 "check-$p"
done

smtp_start smtpd "$P2" "$box" server
wait_port "$P2" smtpd

wire_start "$P1" "$P2"

# 1. swaks, plaintext SMTP as far as it knows.
run swaks "$TLSSHIM" -p "$T/byname.conf" -l info -- \
    swaks --server localhost --port "$P1" --timeout 20 \
    --from sender@example.com --to rcpt-swaks@example.com \
    --header "Subject: swaks $swaks_secret" --body "body $swaks_secret"
assert_rc 0 swaks
assert_contains "$T/swaks.out" '<-  220 '
assert_not_contains "$T/swaks.out" "TLS started"
assert_match "$T/swaks.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:$P2 \(localhost\).*TLS ?v?1\.[23] .*verified localhost"
msg=$(smtp_find "$box" "body $swaks_secret")
assert_contains "$msg" "X-RcptTo: rcpt-swaks@example.com"

# 2. msmtp with its own TLS off, a 100 KB message (many TLS records).
{
    printf 'From: sender@example.com\nTo: rcpt-msmtp@example.com\n'
    printf 'Subject: msmtp %s\n\n' "$msmtp_secret"
    cat "$T/page.txt"
} >"$T/message.txt"
run_input "$T/message.txt" msmtp "$TLSSHIM" -p "$T/byaddr.conf" -l info -- \
    msmtp --host=127.0.0.1 --port="$P1" --tls=off --auth=off \
    --timeout=20 --from=sender@example.com rcpt-msmtp@example.com
assert_rc 0 msmtp
assert_match "$T/msmtp.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:$P2.*TLS ?v?1\.[23] .*verified localhost"
msg=$(smtp_find "$box" "Subject: msmtp $msmtp_secret")
assert_contains "$msg" "first line $PAGE_MARKER"
assert_contains "$msg" "last line $PAGE_MARKER"
assert_eq 2000 "$(grep -c 'of the page served in the tlsshim tests' "$msg")" \
    "page lines in the message received"

sleep 0.3
bg_alive smtpd
wire_stop

assert_eq 2 "$(smtp_count "$box")" "messages in the mailbox"

# Nothing reached port P1: every connection went to P2 ...
read -r packets bytes < <(wire_stats "$P1")
assert_eq "0 0" "$packets $bytes" "packets and payload bytes on port $P1"
# ... and nothing of the exchange crossed it in the clear.
for needle in "$swaks_secret" "$msmtp_secret" "$PAGE_MARKER" \
    "rcpt-swaks@example.com" "rcpt-msmtp@example.com" \
    "220 localhost Python SMTP" "MAIL FROM:<sender@example.com>"; do
    wire_assert_absent "$needle" "$P2"
done
wire_assert_tls "$P2"
