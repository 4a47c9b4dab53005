#!/usr/bin/env bash
#
# demos/smtp.sh - mail through tlsshim in both directions, with the wire
# recorded to show that no plaintext crossed it.
#
#   bash demos/smtp.sh         (BUILD_DIR: the build directory, default build)
#
# Installs what is missing (tests/install-deps.sh), builds if needed, makes
# a throwaway CA and certificates, then on loopback ports:
#   1. a plaintext SMTP server served as SMTPS (implicit TLS) by the shim:
#        server: tlsshim -p server.conf -- python3 -m aiosmtpd ...
#        client: swaks --tls-on-connect --tls-verify   (a real TLS client)
#   2. a plaintext SMTP client reaching a real SMTPS server:
#        server: python3 -m aiosmtpd --smtpscert ...   (does TLS itself)
#        client: tlsshim -p client.conf -- swaks / msmtp --tls=off, told a
#                port where nothing listens; connect_port takes them to
#                the SMTPS port
# and shows each SMTP dialogue, the messages as the servers saved them, the
# shim's handshake lines and what tcpdump saw.  The policies are made from
# policy/smtp-server.conf and policy/smtp-client.conf.  Everything it starts
# is stopped at the end; it exits non-zero if any step fails.
#
# shellcheck source=demos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
demo_build

# The test helpers: background processes, tcpdump recorder, cleanup, and
# the SMTP ones (aiosmtpd with a Maildir, policies from the samples).
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
# shellcheck source=tests/integration/helpers/smtp_lib.sh
. "$root/tests/integration/helpers/smtp_lib.sh"
need_shim

say "Throwaway CA and certificates"
certs
ls "$CERTS"

PS=$(free_port)  # 1: the shimmed plaintext server's port, served as SMTPS
P1=$(free_port)  # 2: the port the shimmed clients are told
P2=$(free_port)  # 2: the real SMTPS server's port
secret1="Hello from swaks over SMTPS ($(marker))"
secret2="Hello from a plaintext swaks ($(marker))"
secret3="Hello from a plaintext msmtp ($(marker))"

smtp_policy smtp-server.conf "$T/server.conf" \
    match="127.0.0.1:$PS" cert="$CERTS/server.pem" key="$CERTS/server.key"
smtp_policy smtp-client.conf "$T/client.conf" \
    match="127.0.0.1:$P1, localhost:$P1" connect_port="$P2" \
    server_name=localhost ca_file="$CERTS/ca.pem"

say "Policies (policy/smtp-server.conf and policy/smtp-client.conf, comments left out)"
demo_settings "$T/server.conf" "$T/client.conf"

say "Recording the wire: tcpdump -i lo port $PS or $P1 or $P2"
wire_start "$PS" "$P1" "$P2"

# ------------------------------------------------------------------ 1
say "1. Server: tlsshim -p server.conf -l info -- python3 -m aiosmtpd -n -l 127.0.0.1:$PS (plaintext SMTP)"
smtp_start server1 "$PS" "$T/mail1" none "$TLSSHIM" -p "$T/server.conf" -l info --
wait_port "$PS" server1
echo "    listening on 127.0.0.1:$PS"

say "1. Client: swaks --tls-on-connect --tls-verify --tls-ca-path ca.pem -s 127.0.0.1 -p $PS"
run swaks1 swaks --tls-on-connect --tls-verify --tls-ca-path "$CERTS/ca.pem" \
    --server 127.0.0.1 --port "$PS" --timeout 20 \
    --from alice@example.com --to bob@example.com \
    --header "Subject: demo 1" --body "$secret1"
assert_rc 0 swaks1
echo "    the dialogue as swaks saw it (=== its notes, ~> sent, <~ received, over TLS):"
indent '| ' <"$T/swaks1.out"
sleep 0.3
echo "    the message as the plaintext server saved it:"
indent '| ' <"$(smtp_find "$T/mail1" "$secret1")"
echo "    shim log (server side):"
grep tlsshim "$T/server1.err" | indent '| '

# ------------------------------------------------------------------ 2
say "2. Server: python3 -m aiosmtpd -n -l 127.0.0.1:$P2 --smtpscert server.pem (real SMTPS)"
smtp_start server2 "$P2" "$T/mail2" server
wait_port "$P2" server2
echo "    listening on 127.0.0.1:$P2"

say "2. Client: tlsshim -p client.conf -l info -- swaks -s localhost -p $P1 (plaintext SMTP)"
run swaks2 "$TLSSHIM" -p "$T/client.conf" -l info -- \
    swaks --server localhost --port "$P1" --timeout 20 \
    --from alice@example.com --to bob@example.com \
    --header "Subject: demo 2" --body "$secret2"
assert_rc 0 swaks2
echo "    the dialogue as swaks saw it (-> sent, <- received, in plaintext as far as it knows):"
indent '| ' <"$T/swaks2.out"
echo "    shim log (client side):"
grep tlsshim "$T/swaks2.err" | indent '| '

say "2. Client: tlsshim -p client.conf -l info -- msmtp --host=127.0.0.1 --port=$P1 --tls=off"
printf 'From: alice@example.com\nTo: bob@example.com\nSubject: demo 3\n\n%s\n' \
    "$secret3" >"$T/message3.txt"
run_input "$T/message3.txt" msmtp "$TLSSHIM" -p "$T/client.conf" -l info -- \
    msmtp --host=127.0.0.1 --port="$P1" --tls=off --auth=off --timeout=20 \
    --from=alice@example.com bob@example.com
assert_rc 0 msmtp
echo "    msmtp exited 0; shim log:"
grep tlsshim "$T/msmtp.err" | indent '| '
sleep 0.3
echo "    the messages as the SMTPS server saved them:"
for f in "$(smtp_find "$T/mail2" "$secret2")" "$(smtp_find "$T/mail2" "$secret3")"; do
    indent '| ' <"$f"
    echo "    |"
done

wire_stop

# ------------------------------------------------------------------ wire
say "What crossed the wire"
demo_wire_stats "$PS" "$P1" "$P2"
echo "    (port $P1, the one the clients were told, saw nothing: connect_port)"
echo "    first bytes of each direction of each connection:"
demo_wire_tls "$PS" "$P2"
echo "    (0x16 0x03 ...: a TLS handshake record; even the server's greeting"
echo "     \"220 ...\", which SMTP servers send first, is inside TLS)"
demo_wire_absent "$secret1" "$secret2" "$secret3" "bob@example.com" \
    "220 localhost Python SMTP" "MAIL FROM:<alice@example.com>"

say "OK: every program spoke plain SMTP or its own SMTPS; the wire carried only TLS"
