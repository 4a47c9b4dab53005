#!/usr/bin/env bash
#
# test_pins.sh - pin_sha256: a client rule that pins the server's public key
# talks to that server only.
#
# openssl s_server serves a page with the test CA's server certificate.  A
# shimmed curl fetches it under three rules for the same port:
#   right   pin_sha256 = the server key's pin (and a wrong one beside it)
#   wrong   pin_sha256 = another key's pin only
# With the right pin the page arrives; with the wrong one curl gets an
# error, none of its request crosses the wire in the clear, and the log
# says in one line that no pin matched, naming the server's real pin as
# pin_sha256 spells it.  `tlsshim --check` prints the pins as written.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

# pin_of CERT: the pin_sha256 of the public key in CERT.
pin_of()
{
    openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64
}
pin=$(pin_of "$CERTS/server.pem")
other=$(pin_of "$CERTS/expired.pem")
[ "$pin" != "$other" ] || fail "the two test keys have the same pin"

mkdir -p "$T/www"
echo "pinned page" >"$T/www/index.html"
P=$(free_port)
bg_in "$T/www" server openssl s_server -WWW -accept "$P" \
    -cert "$CERTS/server.pem" -key "$CERTS/server.key"
wait_port "$P" server

# policy NAME PINS: a client rule for the server's port with PINS.
policy()
{
    cat >"$T/$1.conf" <<CONF
[client pinned]
match       = 127.0.0.1:$P
server_name = localhost
ca_file     = $CERTS/ca.pem
pin_sha256  = $2
CONF
}
policy right "$other, $pin"
policy wrong "$other"

run check "$TLSSHIM" --check -p "$T/right.conf"
assert_rc 0 check
assert_contains "$T/check.out" "$other"
assert_contains "$T/check.out" "$pin"

wire_start "$P"
run right "$TLSSHIM" -p "$T/right.conf" -- \
    curl -sS --max-time 20 "http://127.0.0.1:$P/index.html"
assert_rc 0 right
assert_eq "pinned page" "$(cat "$T/right.out")" "the page fetched with the right pin"

run wrong "$TLSSHIM" -p "$T/wrong.conf" -- \
    curl -sS --max-time 20 -H "X-Secret: pin-secret-header" \
    "http://127.0.0.1:$P/index.html"
rc_is_error || fail "curl with a wrong pin succeeded: $(cat "$T/wrong.out")"
assert_not_contains "$T/wrong.out" "pinned page"
n=$(count_match "$T/wrong.err" "certificate pin mismatch: no pin_sha256 matches \(the server's key is $(printf '%s' "$pin" | sed 's/[+/]/\\&/g')\)")
[ "$n" -eq 1 ] || { cat "$T/wrong.err" >&2; fail "want one pin mismatch line naming the server's pin $pin, got $n"; }
wire_stop

wire_assert_absent "pin-secret-header" "$P"
wire_assert_tls "$P" to-server
