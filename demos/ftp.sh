#!/usr/bin/env bash
#
# demos/ftp.sh - a plaintext FTP server (vsftpd) and three plaintext FTP
# clients (tnftp, inetutils-ftp, lftp) talking over TLS through tlsshim,
# with the wire recorded to show it.
#
#   bash demos/ftp.sh         (BUILD_DIR: the build directory, default build)
#
# Installs what is missing (tests/install-deps.sh), builds if needed, makes
# a throwaway CA and certificates, then on loopback ports:
#   server:  tlsshim -p server.conf -- vsftpd vsftpd.conf     (anonymous FTP)
#   clients: tlsshim -p client.conf -- tnftp | inetutils-ftp | lftp
# Each client logs in, uploads a 5 MB file, lists and downloads it, once in
# passive and once in active mode; the demo shows the FTP dialogue, the
# shim's handshake lines, the checksums, and what tcpdump saw on the wire.
# Everything it starts is stopped at the end; it exits non-zero if any step
# fails.  The test versions are tests/integration/test_ftp_*.sh.
#
# shellcheck source=demos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
demo_build

# The test helpers: background processes, tcpdump recorder, cleanup, and
# the FTP setup shared with the tests.
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
# shellcheck source=tests/integration/helpers/ftp_lib.sh
. "$root/tests/integration/helpers/ftp_lib.sh"
need_shim

say "Throwaway CA and certificates"
certs
ls "$CERTS"

say "vsftpd configuration (anonymous, uploads to pub/, plaintext: ssl_enable=NO)"
ftp_setup
grep -v '^#' "$FTP_DIR/vsftpd.conf" | sed 's/^/    /'

say "Policies (from policy/ftp-server.conf and policy/ftp-client.conf)"
echo "    --- server.conf (vsftpd)"
sed 's/^/    /' "$FTP_DIR/server.conf"
echo "    --- client.conf (the FTP clients)"
sed 's/^/    /' "$FTP_DIR/client.conf"

# shellcheck disable=SC2046 # one argument per port
wire_start $(ftp_wire_ports)
say "Recording the wire: control port $FTP_PORT, passive ports $FTP_PASV_MIN-$FTP_PASV_MAX, active port $FTP_DATA_PORT"

say "Server: tlsshim -p server.conf -l info -- vsftpd vsftpd.conf"
ftp_start_server
echo "    listening on 127.0.0.1:$FTP_PORT"

echo
echo "    the file: $(stat -c %s "$FTP_DIR/data.bin") bytes, sha256 $(sha256sum <"$FTP_DIR/data.bin" | cut -c1-16)..."
for client in tnftp inetutils-ftp lftp; do
    for mode in passive active; do
        say "Client: $client, $mode mode (under tlsshim -p client.conf -l info)"
        ftp_run "$client" "$mode"
        assert_rc 0 "$client-$mode"
        # The dialogue as the client printed it; the password is a marker
        # that the wire check below looks for.
        if [ "$client" = lftp ]; then
            grep -E '^(--->|<---) [A-Z0-9]' "$T/$client-$mode.err" |
                grep -v -E '^<--- (211|[0-9]{3}-)|^<---  ' | sed 's/^/    | /'
        else
            sed 's/^/    | /' "$T/$client-$mode.out"
        fi
        echo "    shim log (client side):"
        grep '^tlsshim' "$T/$client-$mode.err" | sed 's/^/    | /'
        ftp_check_session "$client" "$mode"
        echo "    sha256 uploaded = downloaded = original: OK"
    done
done

say "The server's shim log: one line per handshake"
sed 's/^/    | /' "$FTP_DIR/shim-server.log" | head -40
echo "    ($(grep -c . "$FTP_DIR/shim-server.log") lines)"

wire_stop

say "What crossed the wire"
read -r packets bytes < <(wire_stats)
echo "    $packets TCP packets, $bytes bytes of payload"
echo "    first bytes of each direction of each connection (control, then data):"
wire_first "" >"$T/wire-first-all.out"
head -30 "$T/wire-first-all.out" | demo_first_bytes
echo "    ... $(wc -l <"$T/wire-first-all.out") stream directions in all"
echo "    (0x16 0x03 ...: a TLS handshake record, so TLS from the first byte)"
ftp_check_wire
echo "    not in the recording: the file's marker, the password, USER, PASS,"
echo "    STOR, RETR, '230 Login', '226 Transfer complete', the server's banner"

say "OK: vsftpd and three FTP clients spoke plain FTP; the wire carried only TLS"
