#!/usr/bin/env bash
#
# demos/ldap.sh - directory lookups through tlsshim in both directions,
# with the wire recorded to show that no plaintext crossed it.
#
#   bash demos/ldap.sh         (BUILD_DIR: the build directory, default build)
#
# Installs what is missing (tests/install-deps.sh), builds if needed, makes
# a throwaway CA and certificates and a small directory (dc=example,dc=com,
# loaded with slapadd; slapd runs with its own configuration in a temporary
# directory, never the system's), then on loopback ports:
#   1. slapd listening in plaintext, served as LDAPS by the shim:
#        server: tlsshim -p server.conf -- slapd -h ldap://127.0.0.1:PS/
#        client: ldapsearch -H ldaps://127.0.0.1:PS   (a real LDAPS client)
#   2. a plaintext ldapsearch reaching a slapd that does TLS itself:
#        server: slapd -h ldaps://127.0.0.1:P2/       (its own certificate)
#        client: tlsshim -p client.conf -- ldapsearch -H ldap://127.0.0.1:P1
#                (nothing listens on P1: connect_port takes it to P2)
# and shows the answers, what slapd logged, the shim's handshake lines and
# what tcpdump saw.  The policies are made from policy/ldap-server.conf and
# policy/ldap-client.conf.  Everything it starts is stopped at the end; it
# exits non-zero if any step fails.
#
# shellcheck source=demos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
demo_build

# The test helpers: background processes, tcpdump recorder, cleanup, and
# the LDAP ones (a throwaway slapd directory, policies from the samples).
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
# shellcheck source=tests/integration/helpers/ldap_lib.sh
. "$root/tests/integration/helpers/ldap_lib.sh"
need_shim

say "Throwaway CA and certificates"
certs
ls "$CERTS"

say "Two throwaway directories: dc=example,dc=com, loaded with slapadd"
ldap_make "$T/plain"          # 1: slapd without TLS of its own
plain_secret=$LDAP_SECRET plain_pw=$LDAP_PW
ldap_make "$T/tls" server     # 2: slapd with its own certificate
tls_secret=$LDAP_SECRET tls_pw=$LDAP_PW
echo "    $LDAP_ENTRIES entries each; uid=alice's description: $plain_secret (1), $tls_secret (2)"

PS=$(free_port)  # 1: slapd's plaintext listener, served as LDAPS
P1=$(free_port)  # 2: the port the shimmed ldapsearch is told
P2=$(free_port)  # 2: slapd's own ldaps:// listener

ldap_policy ldap-server.conf "$T/server.conf" \
    match="127.0.0.1:$PS" cert="$CERTS/server.pem" key="$CERTS/server.key"
ldap_policy ldap-client.conf "$T/client.conf" \
    match="127.0.0.1:$P1" connect_port="$P2" server_name=localhost \
    ca_file="$CERTS/ca.pem"

say "Policies (policy/ldap-server.conf and policy/ldap-client.conf, comments left out)"
demo_settings "$T/server.conf" "$T/client.conf"

say "Recording the wire: tcpdump -i lo port $PS or $P1 or $P2"
wire_start "$PS" "$P1" "$P2"
export HOME=$T   # no ~/.ldaprc of the user's

# ------------------------------------------------------------------ 1
say "1. Server: tlsshim -p server.conf -l info -- slapd -d stats -h ldap://127.0.0.1:$PS/ (plaintext)"
ldap_start slapd1 "$T/plain" "ldap://127.0.0.1:$PS/" \
    "$TLSSHIM" -p "$T/server.conf" -l info --
wait_port "$PS" slapd1
echo "    listening on 127.0.0.1:$PS"

say "1. Client: LDAPTLS_CACERT=ca.pem ldapsearch -H ldaps://127.0.0.1:$PS -x -D $LDAP_USER -w ... uid=alice"
run search1 env LDAPTLS_CACERT="$CERTS/ca.pem" LDAPTLS_REQCERT=demand \
    ldapsearch -LLL -o ldif-wrap=no -H "ldaps://127.0.0.1:$PS" -x \
    -D "$LDAP_USER" -w "$plain_pw" -b "$LDAP_BASE" "(uid=alice)" cn description
assert_rc 0 search1
echo "    ldapsearch's answer (it checked the certificate against ca.pem and 127.0.0.1):"
indent '| ' <"$T/search1.out"
assert_contains "$T/search1.out" "description: $plain_secret"
sleep 0.3
echo "    what slapd logged (the shim's line among them): it saw plain LDAP"
grep -E 'tlsshim|ACCEPT|BIND|SRCH|RESULT|closed' "$T/slapd1.err" |
    sed -E 's/^[0-9a-f]+\.[0-9a-f]+ 0x[0-9a-f]+ //' | indent '| '

# ------------------------------------------------------------------ 2
say "2. Server: slapd -d stats -h ldaps://127.0.0.1:$P2/ (TLSCertificateFile server.pem, its own TLS)"
ldap_start slapd2 "$T/tls" "ldaps://127.0.0.1:$P2/"
wait_port "$P2" slapd2
echo "    listening on 127.0.0.1:$P2"

say "2. Client: tlsshim -p client.conf -l info -- ldapsearch -H ldap://127.0.0.1:$P1 -x -D $LDAP_USER -w ... uid=alice"
run search2 "$TLSSHIM" -p "$T/client.conf" -l info -- \
    ldapsearch -LLL -o ldif-wrap=no -H "ldap://127.0.0.1:$P1" -x \
    -D "$LDAP_USER" -w "$tls_pw" -b "$LDAP_BASE" "(uid=alice)" cn description
assert_rc 0 search2
echo "    ldapsearch's answer:"
indent '| ' <"$T/search2.out"
assert_contains "$T/search2.out" "description: $tls_secret"
echo "    shim log (client side):"
grep tlsshim "$T/search2.err" | indent '| '
sleep 0.3
echo "    what slapd logged: a TLS connection it terminated itself"
grep -E 'ACCEPT|TLS established|BIND|SRCH|RESULT|closed' "$T/slapd2.err" |
    sed -E 's/^[0-9a-f]+\.[0-9a-f]+ 0x[0-9a-f]+ //' | indent '| '

wire_stop

# ------------------------------------------------------------------ wire
say "What crossed the wire"
demo_wire_stats "$PS" "$P1" "$P2"
echo "    (port $P1, the one ldapsearch was told, saw nothing: connect_port)"
echo "    first bytes of each direction of each connection:"
demo_wire_tls "$PS" "$P2"
echo "    (0x16 0x03 ...: a TLS handshake record, so TLS from the first byte)"
demo_wire_absent "$plain_secret" "$tls_secret" "$plain_pw" "$tls_pw" \
    "uid=alice" "Alice Example"

say "OK: slapd and ldapsearch spoke plain LDAP or their own LDAPS; the wire carried only TLS"
