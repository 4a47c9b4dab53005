#!/usr/bin/env bash
#
# test_check.sh - the launcher: `tlsshim --check`, policy errors with
# FILE:LINE, refusing what LD_PRELOAD cannot reach, exit statuses, the
# environment it hands to the command.
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim
certs

# Policies name their files relative to themselves: $T/certs/...
cd "$T"
cat >good.conf <<'CONF'
# A client rule and a server rule, files relative to this file.
[client upstream]
match   = localhost:8443, 127.0.0.1:8443
ca_file = certs/ca.pem

[server frontend]
match = *:9443
cert  = certs/server.pem
key   = certs/server.key
CONF

# --check from another directory: relative paths follow the policy file.
cd /
run check "$TLSSHIM" --check -p "$T/good.conf"
cd "$T"
assert_rc 0 check
cat "$T/check.out" "$T/check.err" >"$T/check.all"
assert_contains "$T/check.all" "upstream"
assert_contains "$T/check.all" "frontend"
assert_match "$T/check.all" "client"
assert_match "$T/check.all" "server"
assert_match "$T/check.all" "[0-9]+ days?"

# broken NAME LINE [LINE2] TEXT: NAME.conf must be refused with a message
# "tlsshim: ...NAME.conf:LINE: ..." (LINE or LINE2) that mentions TEXT, by
# --check and when running a command, which then must not run.
broken()
{
    local name=$1 line=$2 line2=$3 text=$4
    local where="(${line}|${line2}):"

    run "$name-check" "$TLSSHIM" --check -p "$T/$name.conf"
    assert_rc 2 "$name-check"
    assert_match "$T/$name-check.err" "^tlsshim: (.*/)?$name\.conf:$where .*$text"

    run "$name-run" "$TLSSHIM" -p "$T/$name.conf" -- touch "$T/$name.ran"
    assert_rc 2 "$name-run"
    assert_match "$T/$name-run.err" "^tlsshim: (.*/)?$name\.conf:$where .*$text"
    assert_absent "$T/$name.ran"
}

cat >unknown-key.conf <<'CONF'
# line 1
[client web]
match   = localhost:443
ca_file = certs/ca.pem
colour  = blue
CONF
broken unknown-key 5 5 colour

cat >bad-match.conf <<'CONF'
[server web]
cert  = certs/server.pem
key   = certs/server.key

match = localhost:notaport
CONF
broken bad-match 5 5 match

cat >missing-file.conf <<CONF
# the certificate is not there
[server web]
match = 127.0.0.1:8443
cert  = certs/no-such-cert.pem
key   = certs/server.key
CONF
broken missing-file 4 4 'cert|no-such-cert'

# The key belongs to another certificate: either line may be blamed.
cat >key-mismatch.conf <<'CONF'
[server web]
match = *:8443
cert  = certs/server.pem
key   = certs/client.key
CONF
broken key-mismatch 3 4 'match|key'


# The command's exit status is the launcher's.
run status "$TLSSHIM" -p good.conf -- sh -c 'exit 7'
assert_rc 7 status

# -p defaults to $TLSSHIM_POLICY; the command gets absolute paths and
# LD_PRELOAD appended to what was there.
libm=$(ldd /bin/sh | awk '$1 == "libc.so.6" { print $3 }')
libm=$(dirname "$libm")/libm.so.6
[ -f "$libm" ] || fail "no $libm to put in LD_PRELOAD"
# shellcheck disable=SC2016 # expanded by the command's shell
run env env TLSSHIM_POLICY=good.conf LD_PRELOAD="$libm" "$TLSSHIM" -- \
    sh -c 'printf "%s\n%s\n" "$TLSSHIM_POLICY" "$LD_PRELOAD"'
assert_rc 0 env
assert_eq "$T/good.conf" "$(sed -n 1p "$T/env.out")" "TLSSHIM_POLICY seen by the command"
preload=$(sed -n 2p "$T/env.out" | tr ':' ' ')
read -r -a preload_list <<<"$preload"
assert_eq "$libm" "${preload_list[0]}" "first LD_PRELOAD entry"
last=${preload_list[${#preload_list[@]} - 1]}
case $last in
/*/libtlsshim.so) [ -f "$last" ] || fail "LD_PRELOAD names $last, which does not exist" ;;
*) fail "last LD_PRELOAD entry is '$last', want an absolute path to libtlsshim.so" ;;
esac

# What LD_PRELOAD cannot reach is refused, and not run.
cat >prog.c <<'C'
#include <stdio.h>
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "w");
    return f == NULL;
}
C
gcc -static -o static-prog prog.c || fail "gcc -static failed (libc6-dev?)"
run static "$TLSSHIM" -p good.conf -- ./static-prog "$T/static.ran"
assert_rc 2 static
assert_match "$T/static.err" "^tlsshim: .*static"
assert_absent "$T/static.ran"

gcc -o setuid-prog prog.c
chmod 4755 setuid-prog
run setuid "$TLSSHIM" -p good.conf -- ./setuid-prog "$T/setuid.ran"
assert_rc 2 setuid
assert_match "$T/setuid.err" "^tlsshim: .*set-?uid"
assert_absent "$T/setuid.ran"

# Usage errors: exit 2 with a message, nothing run.
run nopolicy "$TLSSHIM" -- touch "$T/nopolicy.ran"
assert_rc 2 nopolicy
assert_match "$T/nopolicy.err" "^tlsshim: "
assert_absent "$T/nopolicy.ran"

run nocheckpolicy "$TLSSHIM" --check
assert_rc 2 nocheckpolicy
assert_match "$T/nocheckpolicy.err" "^tlsshim: "

run nocommand "$TLSSHIM" -p good.conf
assert_rc 2 nocommand
assert_match "$T/nocommand.err" "tlsshim"

run badlevel "$TLSSHIM" -p good.conf -l loud -- touch "$T/badlevel.ran"
assert_rc 2 badlevel
assert_absent "$T/badlevel.ran"

run badoption "$TLSSHIM" --no-such-option -p good.conf -- true
assert_rc 2 badoption

run version "$TLSSHIM" --version
assert_rc 0 version
assert_match "$T/version.out" "[0-9]+\.[0-9]+"

# An expired certificate (last: the contract is least explicit here).  A
# name that does not say "expired": the message must.
cp certs/expired.pem certs/old.pem
cp certs/expired.key certs/old.key
cat >expired.conf <<'CONF'
[server web]
match = *:8443
cert  = certs/old.pem
key   = certs/old.key
CONF
broken expired 3 3 expir
