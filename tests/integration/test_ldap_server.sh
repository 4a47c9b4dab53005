#!/usr/bin/env bash
#
# test_ldap_server.sh - shim as TLS server for slapd: slapd listens with a
# plaintext ldap:// listener under tlsshim, and unshimmed LDAPS clients
# (ldapsearch -H ldaps://..., and a client that pipelines its requests)
# talk to it with TLS, verifying its certificate with the test CA.
#
# slapd runs its listener in one thread with epoll and hands each readable
# connection to a pool of worker threads that read and write with
# non-blocking sockets: the pattern DESIGN.md section 3 lists for it.
#
# The policy is policy/ldap-server.conf, pointed at a loopback port and
# the test certificate.
#
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/helpers/ldap_lib.sh"
need_shim
certs
RUN_TIMEOUT=30

ldap_make "$T/ldap"
P=$(free_port)
filter_secret=$(marker)

ldap_policy ldap-server.conf "$T/policy.conf" \
    match="127.0.0.1:$P" cert="$CERTS/server.pem" key="$CERTS/server.key"
run check "$TLSSHIM" --check -p "$T/policy.conf"
assert_rc 0 check

wire_start "$P"
ldap_start slapd "$T/ldap" "ldap://127.0.0.1:$P/" \
    "$TLSSHIM" -p "$T/policy.conf" -l info --
wait_port "$P" slapd

# ldapsearch does its own TLS (GnuTLS in Debian's libldap) and checks the
# certificate: chain against the test CA, name against the URL's host.
# ("localhost" would not do: libldap replaces it by the machine's full
# host name before the check.)
export LDAPTLS_CACERT=$CERTS/ca.pem LDAPTLS_REQCERT=demand

# 1. A simple bind with alice's password, then a search whose filter holds
#    a secret of the client's, for one attribute of hers.
run search ldapsearch -LLL -o ldif-wrap=no -H "ldaps://127.0.0.1:$P" -x \
    -D "$LDAP_USER" -w "$LDAP_PW" -b "$LDAP_BASE" \
    "(|(uid=alice)(cn=$filter_secret))" description
assert_rc 0 search
assert_contains "$T/search.out" "dn: $LDAP_USER"
assert_contains "$T/search.out" "description: $LDAP_SECRET"

# 2. The whole directory in one search: about 100 KB of answers, many TLS
#    records written by slapd's worker threads.
run all ldapsearch -LLL -o ldif-wrap=no -H "ldaps://127.0.0.1:$P" -x \
    -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" -b "$LDAP_BASE" "(objectClass=*)"
assert_rc 0 all
assert_eq "$LDAP_ENTRIES" "$(grep -c '^dn: ' "$T/all.out")" \
    "entries returned by the subtree search"
assert_contains "$T/all.out" "dn: uid=user300,ou=people,$LDAP_BASE"

# 3. Many searches on one connection, one after the other (ldapsearch -f
#    puts each line of the file in place of %s in the filter).
seq -f 'user%g' 1 50 >"$T/filters"
run many ldapsearch -LLL -H "ldaps://127.0.0.1:$P" -x -b "$LDAP_BASE" \
    -f "$T/filters" '(uid=%s)' uid
assert_rc 0 many
assert_eq 50 "$(grep -c '^uid: user' "$T/many.out")" \
    "answers to 50 searches on one connection"

# 4. Twenty searches written at once: they reach slapd in one TLS record,
#    so all but the first wait in the shim's buffer while slapd's epoll
#    sees nothing new on the socket.
run pipeline "$PY" "$TESTS_DIR/helpers/ldap_pipeline.py" 127.0.0.1 "$P" \
    "$CERTS/ca.pem" "$LDAP_BASE" 20
assert_rc 0 pipeline
assert_eq "20 searches, $((20 * LDAP_ENTRIES)) entries" "$(cat "$T/pipeline.out")" \
    "pipelined searches"

sleep 0.3
bg_alive slapd
wire_stop

# slapd itself received the bind and the filter in plaintext (its stats
# log shows filters normalised to lower case; markers are lower case) ...
assert_contains "$T/slapd.err" "BIND dn=\"$LDAP_USER\" mech=SIMPLE"
assert_contains "$T/slapd.err" "(cn=$filter_secret)"
# ... over connections the shim had wrapped, each with a handshake: the
# four ldapsearch and pipelining connections.
n=$(count_match "$T/slapd.err" "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$P: TLS ?v?1\.[23] ")
assert_eq 4 "$n" "handshake lines in slapd's log"

# Nothing of it crossed the wire in the clear: not the entry's value the
# server sent, not the filter, the bind DN or the password the client sent.
wire_assert_absent "$LDAP_SECRET" "$P"
wire_assert_absent "$filter_secret" "$P"
wire_assert_absent "$LDAP_PW" "$P"
wire_assert_absent "$LDAP_ROOTPW" "$P"
wire_assert_absent "uid=alice" "$P"
wire_assert_absent "uid=user300" "$P"
wire_assert_tls "$P"
