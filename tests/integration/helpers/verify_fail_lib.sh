# shellcheck shell=bash
#
# verify_fail_lib.sh - what the tests with a certificate that must be
# refused share (test_ldap_verify_fail.sh, test_smtp_verify_fail.sh).
# Source it after lib.sh:
#
#   . "$TESTS_DIR/helpers/verify_fail_lib.sh"
#
# Each test runs the cases in `cases`, one per bad certificate, and for
# each CASE starts two servers that present it:
#   TLS_NAME-CASE   a server that does TLS itself, on p2[CASE]; the shimmed
#                   client is told p1[CASE] and its policy's connect_port
#                   takes it to p2[CASE]
#   shimmed-CASE    a plaintext server under the shim, on ps[CASE], which an
#                   ordinary TLS client must refuse
#
# verify_fail_init TLS_NAME  sets cases, reason and the empty arrays p1,
#     p2, ps and secret (CASE -> the marker the test plants in that case).
# verify_fail_ports CASE  picks the three ports of CASE.
# verify_fail_wait  waits for the two servers of every case.
# verify_fail_check CASE NEEDLE...  checks the servers and the recording.

# The arrays set here are for the scripts that source this file.
# shellcheck disable=SC2034

# verify_fail_init TLS_NAME sets up the cases: wrongname (a certificate for
# other.example) and untrusted (one from an unknown CA), and reason[CASE],
# the extended regular expression the shim's one-line reason must match.
# TLS_NAME names the servers that do TLS themselves (TLS_NAME-CASE).
verify_fail_init()
{
    VF_TLS_NAME=$1
    cases=(wrongname untrusted)
    declare -gA p1=() p2=() ps=() reason=() secret=()
    reason[wrongname]='name mismatch'
    reason[untrusted]='issuer|self[- ]signed'
}

# verify_fail_ports CASE sets p1[CASE], p2[CASE] and ps[CASE] to free ports.
verify_fail_ports()
{
    p1[$1]=$(free_port)
    p2[$1]=$(free_port)
    ps[$1]=$(free_port)
}

# verify_fail_wait waits until TLS_NAME-CASE listens on p2[CASE] and
# shimmed-CASE on ps[CASE], for every case.
verify_fail_wait()
{
    local c
    for c in "${cases[@]}"; do
        wait_port "${p2[$c]}" "$VF_TLS_NAME-$c"
        wait_port "${ps[$c]}" "shimmed-$c"
    done
}

# verify_fail_check CASE NEEDLE... records a problem (lib.sh) for each of
# these, after wire_stop: a server of CASE died; a NEEDLE crossed p2[CASE]
# or ps[CASE] in the clear; the shimmed client sent p2[CASE] anything but
# TLS; a packet went to p1[CASE], the port connect_port replaces.
verify_fail_check()
{
    local c=$1 name port needle packets bytes
    shift
    for name in "$VF_TLS_NAME-$c" "shimmed-$c"; do
        if ! kill -0 "$(bg_pid "$name")" 2>/dev/null; then
            problem "$name died"
        fi
    done
    for port in "${p2[$c]}" "${ps[$c]}"; do
        for needle in "$@"; do
            soft "$c" wire_assert_absent "$needle" "$port"
        done
    done
    # The shimmed client sent its ClientHello first, nothing else.
    soft "client $c" wire_assert_tls "${p2[$c]}" to-server
    read -r packets bytes < <(wire_stats "${p1[$c]}")
    if [ "$packets" -ne 0 ]; then
        problem "client $c: $packets packets on port ${p1[$c]}, the port connect_port replaces"
    fi
}
