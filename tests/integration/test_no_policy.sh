#!/usr/bin/env bash
#
# test_no_policy.sh - the library preloaded directly (no launcher):
#   - without TLSSHIM_POLICY it stays out of the way;
#   - with a policy, connections no rule matches are not touched;
#   - with a policy it cannot load, the program does not run unprotected:
#     exit 2 and the reason;
#   - without BoringSSL: one clear line and exit 2, from the library and
#     from the launcher.
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim
certs

make_page "$T/www/file.txt"
P=$(free_port)
P_OTHER=$(free_port)
bg_in "$T/www" plain "$PY" -m http.server "$P" --bind 127.0.0.1
wait_port "$P" plain

cat >"$T/other.conf" <<CONF
# A rule for some other port only.
[client other]
match   = 127.0.0.1:$P_OTHER, localhost:$P_OTHER
ca_file = $CERTS/ca.pem
CONF

wire_start "$P"

# No policy: plain HTTP as if the library were not there, and not a word
# from it.
secret1=$(marker)
run nopolicy env LD_PRELOAD="$TLSSHIM_LIB" \
    curl -sS --max-time 30 -H "X-Secret: $secret1" "http://localhost:$P/file.txt"
assert_rc 0 nopolicy
assert_same_file "$T/www/file.txt" "$T/nopolicy.out"
assert_not_contains "$T/nopolicy.err" "tlsshim"

# A policy whose rules do not match: also untouched.
secret2=$(marker)
run unmatched env LD_PRELOAD="$TLSSHIM_LIB" TLSSHIM_POLICY="$T/other.conf" \
    curl -sS --max-time 30 -H "X-Secret: $secret2" "http://localhost:$P/file.txt"
assert_rc 0 unmatched
assert_same_file "$T/www/file.txt" "$T/unmatched.out"
assert_not_contains "$T/unmatched.err" "tlsshim"

# A policy that is not there: exit 2 before curl sends anything.
secret3=$(marker)
run missing env LD_PRELOAD="$TLSSHIM_LIB" TLSSHIM_POLICY="$T/no-such.conf" \
    curl -sS --max-time 30 -H "X-Secret: $secret3" "http://localhost:$P/file.txt"
assert_rc 2 missing
assert_match "$T/missing.err" "tlsshim.*no-such\.conf"
[ ! -s "$T/missing.out" ] || fail "curl printed something although it must not have run"

# A broken policy: the same, with the line.
printf '[client web]\nmatch = localhost:%s\nbogus = 1\n' "$P" >"$T/broken.conf"
run broken env LD_PRELOAD="$TLSSHIM_LIB" TLSSHIM_POLICY="$T/broken.conf" \
    sh -c "touch '$T/broken.ran'"
assert_rc 2 broken
assert_match "$T/broken.err" "tlsshim.*broken\.conf:3:"
assert_absent "$T/broken.ran"

wire_stop
# The recorder saw the two plaintext fetches, and nothing of the third.
wire_assert_present "$secret1" "$P"
wire_assert_present "$secret2" "$P"
wire_assert_absent "$secret3" "$P"

# No BoringSSL where it is looked for: one line that says so, exit 2, the
# command not run.
run noboring env LD_PRELOAD="$TLSSHIM_LIB" TLSSHIM_POLICY="$T/other.conf" \
    TLSSHIM_BORINGSSL_DIR=/nonexistent sh -c "touch '$T/noboring.ran'"
assert_rc 2 noboring
assert_absent "$T/noboring.ran"
assert_match "$T/noboring.err" "tlsshim.*BoringSSL"
n=$(wc -l <"$T/noboring.err")
[ "$n" -eq 1 ] || { show_file noboring.err "$T/noboring.err"; fail "want one line, got $n"; }

run noboring-launcher env TLSSHIM_BORINGSSL_DIR=/nonexistent \
    "$TLSSHIM" -p "$T/other.conf" -- sh -c "touch '$T/noboring2.ran'"
assert_rc 2 noboring-launcher
assert_absent "$T/noboring2.ran"
assert_match "$T/noboring-launcher.err" "tlsshim.*BoringSSL"
n=$(wc -l <"$T/noboring-launcher.err")
[ "$n" -eq 1 ] || { show_file noboring-launcher.err "$T/noboring-launcher.err"; fail "want one line, got $n"; }
