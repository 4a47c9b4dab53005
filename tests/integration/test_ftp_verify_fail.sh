#!/usr/bin/env bash
#
# test_ftp_verify_fail.sh - an FTP client under tlsshim that cannot verify
# vsftpd's certificate gets an error, and nothing of what it would have
# said (user, password, commands) crosses the wire in the clear.
#
# vsftpd runs under the shim as in test_ftp_*.sh.  Each client (tnftp,
# inetutils-ftp, lftp) tries a passive session twice:
#   wrongca    the client policy trusts another CA (untrusted-ca.pem)
#   wrongname  the client policy expects server_name other.example, the
#              certificate is for localhost
# Each attempt must fail with the shim's one-line reason, the client must
# show an error (tnftp and inetutils-ftp exit 0 whatever happens, so their
# output is checked), vsftpd must never receive an FTP command, and the
# recording must hold only TLS, without the password or the USER command.
#
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/ftp_lib.sh"
need_shim
certs
ftp_setup
ftp_start_server

ftp_client_policy "$T/wrongca.conf" untrusted-ca.pem localhost
ftp_client_policy "$T/wrongname.conf" ca.pem other.example
declare -A reason
reason[wrongca]='certificate verify failed: unable to get local issuer certificate'
reason[wrongname]='certificate verify failed: name mismatch, certificate is for localhost.* \(expected other\.example\)'

# All problems are collected and reported together: one broken case should
# not hide the others.
problems=()

# shellcheck disable=SC2046 # one argument per port
wire_start $(ftp_wire_ports)
for client in tnftp inetutils-ftp lftp; do
    for c in wrongca wrongname; do
        ftp_run "$client" passive "$T/$c.conf"
        label=$client-passive
        cp "$T/$label.out" "$T/$client-$c.out"
        cp "$T/$label.err" "$T/$client-$c.err"
        what="$client, $c"
        if [ "$RC" -eq 124 ] || [ "$RC" -gt 128 ]; then
            problems+=("$what: the client must fail at once, got exit $RC")
        fi
        # The shim's reason, for the control connection: the first
        # connection fails and the session goes no further.
        n=$(count_match "$T/$label.err" \
            "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:$FTP_PORT: ${reason[$c]}")
        if [ "$n" -lt 1 ]; then
            problems+=("$what: no tlsshim line /${reason[$c]}/; stderr: $(head -c 600 "$T/$label.err")")
        fi
        # The client's own error.
        case $client in
        lftp)
            if [ "$RC" -eq 0 ] || ! grep -q 'Connection refused' "$T/$label.err"; then
                problems+=("$what: want lftp to fail with 'Connection refused', got exit $RC")
            fi
            ;;
        *)
            if ! grep -q '^Not connected' "$T/$label.out"; then
                problems+=("$what: want '$client' to say 'Not connected'; stdout: $(head -c 400 "$T/$label.out")")
            fi
            ;;
        esac
        if grep -q -E '^2[0-9][0-9] ' "$T/$label.out" ||
            grep -q -E '^<--- 2[0-9][0-9] ' "$T/$label.err"; then
            problems+=("$what: the client shows a reply from the server")
        fi
        if [ -e "$T/$label.bin" ]; then
            problems+=("$what: a download arrived")
        fi
        rm -f "$T/$label.out" "$T/$label.err"
    done
done
wire_stop
bg_alive vsftpd

# vsftpd never got a command (its log records each one it receives), and
# its side of the shim saw each client give up during the handshake.
if grep -q 'FTP command' "$FTP_DIR/vsftpd.log"; then
    show_file vsftpd.log "$FTP_DIR/vsftpd.log"
    problems+=("vsftpd received FTP commands")
fi
if [ -n "$(ls -A "$FTP_DIR/root/pub")" ]; then
    problems+=("files reached the server: $(ls "$FTP_DIR/root/pub")")
fi
n=$(count_match "$FTP_DIR/shim-server.log" 'TLS handshake failed: .*(UNKNOWN_CA|BAD_CERTIFICATE)')
if [ "$n" -lt 6 ]; then
    show_file shim-server.log "$FTP_DIR/shim-server.log"
    problems+=("vsftpd's shim logged $n failed handshakes, want at least 6")
fi

for needle in "$FTP_PASSWORD" "USER anonymous" "PASS " "vsFTPd"; do
    if ! (wire_assert_absent "$needle") 2>"$T/wire-check.err"; then
        problems+=("$(grep FAIL "$T/wire-check.err")")
    fi
done
if ! (wire_assert_tls "$FTP_PORT") 2>"$T/wire-check.err"; then
    problems+=("$(grep FAIL "$T/wire-check.err")")
fi

if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
