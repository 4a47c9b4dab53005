#!/usr/bin/env bash
#
# test_hardening_files.sh - bad certificate, key and CA files: `tlsshim
# --check` and the library (preloaded without the launcher) each give one
# clear error line naming the policy file, line, key and the file at
# fault, exit 2, and never run the program.  A private key readable by
# everyone is accepted with a warning.
#
# Cases: a missing certificate, a missing key, a key that does not match
# the certificate, a key the user cannot read (run as nobody), a PEM file
# of garbage, a certificate followed by a broken PEM block, a truncated
# key, an empty CA file (ca_file and client_ca), a chain in the wrong
# order (CA first, leaf second).
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

D=$T/files
mkdir -p "$D"
cp "$CERTS"/*.pem "$CERTS"/*.key "$D/"
chmod 600 "$D"/*.key
# nobody must reach the files of the unreadable case but that key.
chmod 755 "$T" "$D"
chmod 644 "$D"/*.pem

# server_rule NAME CERT KEY [EXTRA]: NAME.conf, a [server] rule whose cert
# is on line 3 and key on line 4.
server_rule()
{
    printf '[server %s]\nmatch = 127.0.0.1:9\ncert = %s\nkey = %s\n%s' \
        "$1" "$2" "$3" "${4:-}" >"$D/$1.conf"
}

printf 'this is not a certificate\n' >"$D/garbage.pem"
{
    cat "$D/server.pem"
    printf -- '-----BEGIN CERTIFICATE-----\nAAAA!!not base64!!\n-----END CERTIFICATE-----\n'
} >"$D/trailing-garbage.pem"
head -c 120 "$D/server.key" >"$D/truncated.key"
: >"$D/empty.pem"
cat "$D/ca.pem" "$D/server.pem" >"$D/wrong-order.pem"
cp "$D/server.key" "$D/unreadable.key"
chmod 600 "$D/unreadable.key"
cp "$D/server.key" "$D/world.key"
chmod 644 "$D/world.key"

declare -A line why
server_rule missing-cert nope.pem server.key
line[missing-cert]=3 why[missing-cert]='cert: .*nope\.pem.*(No such file|not found|cannot)'
server_rule missing-key server.pem nope.key
line[missing-key]=4 why[missing-key]='key: .*nope\.key.*(No such file|not found|cannot)'
server_rule mismatch server.pem client.key
line[mismatch]=4 why[mismatch]='key: .*client\.key.*does not match'
server_rule unreadable server.pem unreadable.key
line[unreadable]=4 why[unreadable]='key: .*unreadable\.key.*(Permission denied|cannot read)'
server_rule garbage garbage.pem server.key
line[garbage]=3 why[garbage]='cert: .*garbage\.pem.*(no certificate|not a PEM|NO_START_LINE|no PEM)'
server_rule trailing-garbage trailing-garbage.pem server.key
line[trailing-garbage]=3 why[trailing-garbage]='cert: .*trailing-garbage\.pem.*(base64|BASE64|garbage|invalid|bad)'
server_rule truncated-key server.pem truncated.key
line[truncated-key]=4 why[truncated-key]='key: (cannot load private key|invalid|bad|truncated).*truncated\.key'
printf '[client c]\nmatch = 127.0.0.1:9\nca_file = empty.pem\n' >"$D/empty-ca.conf"
line[empty-ca]=3 why[empty-ca]='ca_file: .*empty\.pem.*(no certificate|NO_CERTIFICATE|empty)'
server_rule empty-client-ca server.pem server.key 'client_ca = empty.pem\n'
printf '[server s]\nmatch = 127.0.0.1:9\ncert = server.pem\nkey = server.key\nclient_ca = empty.pem\n' >"$D/empty-client-ca.conf"
line[empty-client-ca]=5 why[empty-client-ca]='client_ca: .*empty\.pem.*(no certificate|NO_CERTIFICATE|empty)'
server_rule wrong-order wrong-order.pem server.key
line[wrong-order]=3 why[wrong-order]='(cert|key): .*wrong-order\.pem.*(order|first certificate|leaf|does not match)'
chmod 644 "$D"/*.conf "$D"/*.pem

problems=()
# errors FILE: the lines of FILE that are not warnings.
errors()
{
    grep -v -E '^tlsshim(\[[0-9]+\])?: [^ ]*: ?warning:|: warning: ' "$1" || true
}

for c in missing-cert missing-key mismatch unreadable garbage \
    trailing-garbage truncated-key empty-ca empty-client-ca wrong-order; do
    as=()
    if [ "$c" = unreadable ]; then
        # root reads every file: the unreadable case runs as nobody.
        as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    fi
    want="$c\.conf:${line[$c]}: ${why[$c]}"

    # The launcher's --check.
    run "$c-check" "${as[@]}" "$TLSSHIM" --check -p "$D/$c.conf"
    errors "$T/$c-check.err" >"$T/$c-check.errors"
    n=$(wc -l <"$T/$c-check.errors")
    if [ "$RC" -ne 2 ]; then
        problems+=("$c: --check exit $RC, want 2: $(head -c 300 "$T/$c-check.err")")
    elif [ "$n" -ne 1 ]; then
        problems+=("$c: --check printed $n error lines, want 1: $(head -c 400 "$T/$c-check.errors")")
    elif ! grep -q -E "^tlsshim: (.*/)?$want" "$T/$c-check.errors"; then
        problems+=("$c: --check line is not clear, want /$want/: $(cat "$T/$c-check.errors")")
    fi

    # The library, preloaded by hand: the program must not run.
    rm -f "$T/$c.ran"
    run "$c-lib" "${as[@]}" env TLSSHIM_POLICY="$D/$c.conf" \
        LD_PRELOAD="$TLSSHIM_LIB" touch "$T/$c.ran"
    errors "$T/$c-lib.err" >"$T/$c-lib.errors"
    n=$(wc -l <"$T/$c-lib.errors")
    if [ "$RC" -ne 2 ]; then
        problems+=("$c: library exit $RC, want 2")
    elif [ -e "$T/$c.ran" ]; then
        problems+=("$c: the program ran")
    elif [ "$n" -ne 1 ]; then
        problems+=("$c: the library printed $n error lines, want 1: $(head -c 400 "$T/$c-lib.errors")")
    elif ! grep -q -E "^tlsshim\[[0-9]+\]: (.*/)?$want" "$T/$c-lib.errors"; then
        problems+=("$c: library line is not clear, want /$want/: $(cat "$T/$c-lib.errors")")
    fi
    log "$c: $(head -n 1 "$T/$c-check.errors")"
done

# A private key others can read works, with a warning from --check and
# from the library (at the default level).
server_rule world server.pem world.key
chmod 644 "$D/world.conf"
run world-check "$TLSSHIM" --check -p "$D/world.conf"
[ "$RC" -eq 0 ] || problems+=("world-readable key: --check exit $RC, want 0 (a warning, not an error)")
grep -q -i -E 'world.key.*(readable|permission|mode)|(readable|permission|mode).*world.key' "$T/world-check.err" ||
    problems+=("world-readable key: --check gave no warning that world.key is readable by others")
run world-lib env TLSSHIM_POLICY="$D/world.conf" LD_PRELOAD="$TLSSHIM_LIB" true
[ "$RC" -eq 0 ] || problems+=("world-readable key: the library refused to run (exit $RC)")
grep -q -i -E 'world.key.*(readable|permission|mode)' "$T/world-lib.err" ||
    problems+=("world-readable key: the library gave no warning that world.key is readable by others")

if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
