#!/usr/bin/env bash
#
# test_ldap_client.sh - shim as TLS client for libldap: ldapsearch and
# ldapadd are told ldap://HOST:P1 (plaintext LDAP); under tlsshim, a client
# rule with connect_port takes them to port P2 where slapd does TLS itself
# (its own certificate, an ldaps:// listener, GnuTLS), verifying slapd's
# certificate with the test CA.
#
# The policy is policy/ldap-client.conf, pointed at the loopback ports and
# the test CA.  Two ways of naming the server are run:
#   by address  ldap://127.0.0.1:P1, server_name = localhost in the rule;
#   by name     ldap://localhost:P1, no server_name: the shim verifies the
#               name ldapsearch resolved.
# (By address without server_name the shim checks the name it last saw
# resolved for 127.0.0.1.  libldap resolves the machine's own host name at
# start-up, and where /etc/hosts maps that name to 127.0.0.1, as in some
# containers, that name would be checked: the policy sample explains.)
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/ldap_lib.sh"
need_shim
certs
RUN_TIMEOUT=30

ldap_make "$T/ldap" server
P1=$(free_port)  # what the programs are told: nothing listens there
P2=$(free_port)  # slapd's ldaps:// listener
filter_secret=$(marker)
new_secret=$(marker)

ldap_policy ldap-client.conf "$T/byaddr.conf" \
    match="127.0.0.1:$P1" connect_port="$P2" server_name=localhost \
    ca_file="$CERTS/ca.pem"
ldap_policy ldap-client.conf "$T/byname.conf" \
    match="localhost:$P1" connect_port="$P2" server_name= \
    ca_file="$CERTS/ca.pem"
for p in byaddr byname; do
    run "check-$p" "$TLSSHIM" --check -p "$T/$p.conf"
    assert_rc 0 "check-$p"
done

ldap_start slapd "$T/ldap" "ldaps://127.0.0.1:$P2/"
wait_port "$P2" slapd

# The programs must not find TLS settings of their own (an ldaprc, a
# TLS_REQCERT): they speak plain LDAP here.
export HOME=$T LDAPTLS_REQCERT=never
unset LDAPTLS_CACERT

wire_start "$P1" "$P2"

# 1. By address: bind as alice, search with a secret in the filter.
run search "$TLSSHIM" -p "$T/byaddr.conf" -l info -- \
    ldapsearch -LLL -o ldif-wrap=no -H "ldap://127.0.0.1:$P1" -x \
    -D "$LDAP_USER" -w "$LDAP_PW" -b "$LDAP_BASE" \
    "(|(uid=alice)(cn=$filter_secret))" description
assert_rc 0 search
assert_contains "$T/search.out" "description: $LDAP_SECRET"
assert_match "$T/search.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:$P2.*TLS ?v?1\.[23] .*verified localhost"

# 2. By name: a write (ldapadd as the root DN) and the whole directory read
#    back, about 100 KB of answers.
cat >"$T/new.ldif" <<LDIF
dn: uid=carol,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
uid: carol
cn: Carol Example
sn: Example
description: $new_secret
LDIF
run add "$TLSSHIM" -p "$T/byname.conf" -l info -- \
    ldapadd -H "ldap://localhost:$P1" -x -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" \
    -f "$T/new.ldif"
assert_rc 0 add
assert_contains "$T/add.out" "adding new entry \"uid=carol,ou=people,$LDAP_BASE\""
assert_match "$T/add.err" \
    "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:$P2 \(localhost\).*TLS ?v?1\.[23] .*verified localhost"

run all "$TLSSHIM" -p "$T/byname.conf" -- \
    ldapsearch -LLL -o ldif-wrap=no -H "ldap://localhost:$P1" -x \
    -b "$LDAP_BASE" "(objectClass=*)"
assert_rc 0 all
assert_eq "$((LDAP_ENTRIES + 1))" "$(grep -c '^dn: ' "$T/all.out")" \
    "entries in the directory after the add"
assert_contains "$T/all.out" "description: $new_secret"

# 3. Many searches on one connection, one after the other.
seq -f 'user%g' 1 50 >"$T/filters"
run many "$TLSSHIM" -p "$T/byaddr.conf" -- \
    ldapsearch -LLL -H "ldap://127.0.0.1:$P1" -x -b "$LDAP_BASE" \
    -f "$T/filters" '(uid=%s)' uid
assert_rc 0 many
assert_eq 50 "$(grep -c '^uid: user' "$T/many.out")" \
    "answers to 50 searches on one connection"

sleep 0.3
bg_alive slapd
wire_stop

# slapd received the operations, over TLS it terminated itself (ssf > 0).
assert_contains "$T/slapd.err" "(cn=$filter_secret)"
assert_match "$T/slapd.err" "conn=[0-9]+ fd=[0-9]+ TLS established tls_ssf=[0-9]+"

# Nothing reached port P1: every connection went to P2 ...
read -r packets bytes < <(wire_stats "$P1")
assert_eq "0 0" "$packets $bytes" "packets and payload bytes on port $P1"
# ... and nothing of the exchange crossed it in the clear.
for needle in "$LDAP_SECRET" "$filter_secret" "$new_secret" "$LDAP_PW" \
    "$LDAP_ROOTPW" "uid=alice" "uid=carol" "uid=user300"; do
    wire_assert_absent "$needle" "$P2"
done
wire_assert_tls "$P2"
