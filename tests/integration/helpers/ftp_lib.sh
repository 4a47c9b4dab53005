# shellcheck shell=bash
#
# ftp_lib.sh - vsftpd under tlsshim and FTP clients under tlsshim, for the
# FTP integration tests (tests/integration/test_ftp_*.sh) and demos/ftp.sh.
# Source it after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/helpers/ftp_lib.sh"
#
# ftp_setup writes, under $T/ftp:
#   vsftpd.conf     vsftpd's own configuration: anonymous FTP on 127.0.0.1,
#                   uploads into pub/, passive ports FTP_PASV_MIN..MAX,
#                   active connections from port FTP_DATA_PORT, plaintext
#                   (ssl_enable=NO: the shim does the TLS)
#   server.conf     the shim policy for vsftpd (made from
#                   policy/ftp-server.conf's rules, with the test certificates)
#   client.conf     the shim policy for the FTP clients (policy/ftp-client.conf)
#   root/pub/       the anonymous FTP area, writable by user ftp
#   data.bin        5 MB of random bytes with FTP_MARKER on its first and last
#                   lines: the file every client uploads and downloads
# and sets FTP_PORT (control), FTP_PASV_MIN, FTP_PASV_MAX, FTP_DATA_PORT,
# FTP_MARKER (in the file) and FTP_PASSWORD (a marker used as the anonymous
# password: it must never be seen on the wire).
#
# vsftpd runs with one_process_model=YES: see policy/ftp-server.conf for why
# the shim cannot follow vsftpd's default two-process model.

FTP_DIR=""
FTP_PORT=""
FTP_PASV_MIN=""
FTP_PASV_MAX=""
FTP_DATA_PORT=""
FTP_MARKER=""
FTP_PASSWORD=""
FTP_PASV_COUNT=8

# ftp_free_range N prints the first port of N consecutive TCP ports that
# are all free on 127.0.0.1.  It looks below the kernel's ephemeral range
# (which free_port and the clients' own ports come from), at a random place
# so that tests running in parallel rarely pick the same range.
ftp_free_range()
{
    "$PY" - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 32000 - n)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    sys.exit(0)
sys.exit("no %d free consecutive ports" % n)
EOF
}

# ftp_setup prepares vsftpd's area, its configuration and the two policies
# (vsftpd presents the test certificate for localhost).
ftp_setup()
{
    local cert=server
    local base

    FTP_DIR=$T/ftp
    mkdir -p "$FTP_DIR/root/pub" "$FTP_DIR/empty"
    # vsftpd refuses a chroot it can write to; only pub/ belongs to ftp.
    chmod 755 "$FTP_DIR" "$FTP_DIR/root" "$FTP_DIR/empty"
    chown ftp:ftp "$FTP_DIR/root/pub"
    # $T itself is private to root (mktemp -d); vsftpd enters the area as
    # root before it drops to user ftp, so that is fine.

    FTP_PORT=$(free_port)
    base=$(ftp_free_range $((FTP_PASV_COUNT + 1)))
    FTP_PASV_MIN=$base
    FTP_PASV_MAX=$((base + FTP_PASV_COUNT - 1))
    FTP_DATA_PORT=$((base + FTP_PASV_COUNT))

    FTP_MARKER=$(marker)
    FTP_PASSWORD=$(marker)
    {
        printf 'first line %s\n' "$FTP_MARKER"
        head -c 5M /dev/urandom
        printf '\nlast line %s\n' "$FTP_MARKER"
    } >"$FTP_DIR/data.bin"

    cat >"$FTP_DIR/vsftpd.conf" <<CONF
# Started in the foreground on loopback, with its own files only.
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$FTP_PORT
background=NO
# The seccomp sandbox is refused on these machines even without the shim.
seccomp_sandbox=NO
# One process per connection: the TLS session of the control connection
# lives in the process that ran its handshake, and vsftpd's default
# two-process model hands the connection to a new process after login.
# vsftpd allows this model for anonymous FTP only.
one_process_model=YES
anonymous_enable=YES
local_enable=NO
anon_root=$FTP_DIR/root
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
anon_umask=022
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=$FTP_PASV_MIN
pasv_max_port=$FTP_PASV_MAX
port_enable=YES
# Active-mode connections leave from this port (instead of 20, which would
# need root and could clash with another test), so the recording can
# filter on it.
connect_from_port_20=YES
ftp_data_port=$FTP_DATA_PORT
secure_chroot_dir=$FTP_DIR/empty
xferlog_enable=YES
vsftpd_log_file=$FTP_DIR/vsftpd.log
dual_log_enable=YES
log_ftp_protocol=YES
# Plaintext FTP: the shim runs TLS on every connection (implicit TLS).
ssl_enable=NO
hide_ids=YES
use_localtime=NO
CONF

    cat >"$FTP_DIR/server.conf" <<CONF
# vsftpd: the control port and the passive data ports it accepts on are
# served as TLS (policy/ftp-server.conf).
[server ftp]
match = 127.0.0.1:$FTP_PORT, 127.0.0.1:$FTP_PASV_MIN-$FTP_PASV_MAX
cert  = $CERTS/$cert.pem
key   = $CERTS/$cert.key

# Active mode: vsftpd connects to the client's data port, but stays the
# TLS server of that connection.
[client ftp-data-active]
match    = 127.0.0.1:*
tls_role = server
cert     = $CERTS/$cert.pem
key      = $CERTS/$cert.key
CONF

    ftp_client_policy "$FTP_DIR/client.conf" ca.pem localhost
}

# ftp_client_policy FILE CA_FILE SERVER_NAME writes a client policy that
# trusts CA_FILE (in $CERTS) and expects the server to be SERVER_NAME.
ftp_client_policy()
{
    local file=$1 ca=$2 name=$3
    cat >"$file" <<CONF
# The FTP client: control and passive data connections are TLS, the
# server is verified (policy/ftp-client.conf).
[client ftp]
match       = 127.0.0.1:$FTP_PORT, 127.0.0.1:$FTP_PASV_MIN-$FTP_PASV_MAX
server_name = $name
ca_file     = $CERTS/$ca

# Active mode: the client accepts the data connection vsftpd opens, but is
# the TLS client of it and verifies the server as on the control port.
[server ftp-data-active]
match       = *:*
tls_role    = client
server_name = $name
ca_file     = $CERTS/$ca
CONF
}

# ftp_start_server starts vsftpd under the shim (background process
# "vsftpd") and waits for its control port.  The shim's lines go to
# $FTP_DIR/shim-server.log: vsftpd puts the client's socket on fds 0, 1
# and 2 of each session process, so stderr is not a place to log.
ftp_start_server()
{
    bg vsftpd env TLSSHIM_LOG_FILE="$FTP_DIR/shim-server.log" \
        "$TLSSHIM" -p "$FTP_DIR/server.conf" -l info -- \
        vsftpd "$FTP_DIR/vsftpd.conf"
    wait_port "$FTP_PORT" vsftpd
}

# ftp_wire_ports prints every port an FTP connection of the test uses on
# the server side: control, passive range, active source port.
ftp_wire_ports()
{
    local p
    echo "$FTP_PORT" "$FTP_DATA_PORT"
    for ((p = FTP_PASV_MIN; p <= FTP_PASV_MAX; p++)); do
        echo "$p"
    done
}

# ftp_script CLIENT MODE prints the commands for CLIENT (tnftp,
# inetutils-ftp) in MODE (passive, active): log in, upload data.bin as
# up-MODE.bin, list, download it to $T/CLIENT-MODE.bin.
ftp_script()
{
    local client=$1 mode=$2
    printf 'user anonymous %s\n' "$FTP_PASSWORD"
    printf 'binary\n'
    printf 'cd pub\n'
    printf 'put %s up-%s-%s.bin\n' "$FTP_DIR/data.bin" "$client" "$mode"
    printf 'ls\n'
    printf 'get up-%s-%s.bin %s\n' "$client" "$mode" "$T/$client-$mode.bin"
    printf 'quit\n'
}

# ftp_run CLIENT MODE [POLICY] runs one session of CLIENT (tnftp,
# inetutils-ftp, lftp) under the shim in MODE (passive, active), with
# output in $T/CLIENT-MODE.out and .err (the shim's lines are in .err).
ftp_run()
{
    local client=$1 mode=$2 policy=${3:-$FTP_DIR/client.conf}
    local label=$client-$mode
    local up=up-$client-$mode.bin
    local shim=("$TLSSHIM" -p "$policy" -l info --)

    case $client in
    tnftp)
        # -n: no auto-login (the script logs in); -v: print the replies;
        # -p: passive, -A: active only (no fallback to the other mode).
        ftp_script "$client" "$mode" >"$T/$label.in"
        local flag=-p
        [ "$mode" = active ] && flag=-A
        run_input "$T/$label.in" "$label" "${shim[@]}" \
            tnftp -n -v "$flag" 127.0.0.1 "$FTP_PORT"
        ;;
    inetutils-ftp)
        # Active is its default; -p switches to passive.
        ftp_script "$client" "$mode" >"$T/$label.in"
        local flags=(-n -v)
        [ "$mode" = passive ] && flags+=(-p)
        run_input "$T/$label.in" "$label" "${shim[@]}" \
            inetutils-ftp "${flags[@]}" 127.0.0.1 "$FTP_PORT"
        ;;
    lftp)
        # -d prints the FTP dialogue.  ftp:ssl-allow no: no AUTH TLS, the
        # shim does TLS below lftp.  One try, short timeouts: a failure
        # must show at once, not after lftp's retries.
        local pasv=on
        [ "$mode" = active ] && pasv=off
        run "$label" "${shim[@]}" lftp -d -c "
            set ftp:ssl-allow no
            set ftp:passive-mode $pasv
            set ftp:prefer-epsv no
            set net:max-retries 1
            set net:reconnect-interval-base 1
            set net:timeout 20
            set xfer:clobber on
            open -u anonymous,$FTP_PASSWORD -p $FTP_PORT 127.0.0.1
            cd pub
            put $FTP_DIR/data.bin -o $up
            ls
            get $up -o $T/$label.bin"
        ;;
    *)
        fail "ftp_run: unknown client $client"
        ;;
    esac
}

# ftp_check_session CLIENT MODE checks one session: the file arrived on the
# server and came back byte-identical (sha256), the listing shows it, and
# every connection of the session went through the shim with TLS and a
# verified server: the control connection, and three data connections
# (upload, list, download), of the kind MODE makes.
ftp_check_session()
{
    local client=$1 mode=$2
    local label=$client-$mode
    local up=$FTP_DIR/root/pub/up-$client-$mode.bin
    local want got n

    want=$(sha256sum <"$FTP_DIR/data.bin" | cut -d' ' -f1)
    [ -f "$up" ] || {
        show_file "$label stdout" "$T/$label.out"
        show_file "$label stderr" "$T/$label.err"
        fail "$label: the upload did not reach the server ($up)"
    }
    got=$(sha256sum <"$up" | cut -d' ' -f1)
    assert_eq "$want" "$got" "$label: sha256 of the uploaded file"
    [ -f "$T/$label.bin" ] || {
        show_file "$label stdout" "$T/$label.out"
        show_file "$label stderr" "$T/$label.err"
        fail "$label: the download did not arrive ($T/$label.bin)"
    }
    got=$(sha256sum <"$T/$label.bin" | cut -d' ' -f1)
    assert_eq "$want" "$got" "$label: sha256 of the downloaded file"
    assert_match "$T/$label.out" " $(stat -c %s "$FTP_DIR/data.bin") .*up-$client-$mode\.bin"

    # The shim's line for the control connection ...
    assert_match "$T/$label.err" \
        "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:$FTP_PORT: TLSv1\.3 .*verified localhost"
    # ... and one per data connection: the client connects to a passive
    # port, or accepts from vsftpd's active port and is the TLS client.
    if [ "$mode" = passive ]; then
        n=$(count_match "$T/$label.err" \
            "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:[0-9]+: TLSv1\.3 .*verified localhost")
        n=$((n - 1))
    else
        n=$(count_match "$T/$label.err" \
            "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:$FTP_DATA_PORT on 127\.0\.0\.1:[0-9]+: TLSv1\.3 .*verified localhost")
    fi
    if [ "$n" -ne 3 ]; then
        show_file "$label stderr" "$T/$label.err"
        fail "$label: want 3 verified TLS data connections ($mode), the shim logged $n"
    fi
    if grep -q -E '^tlsshim\[[0-9]+\]: .*(failed|error|timed out|truncated)' \
        "$T/$label.err"; then
        show_file "$label stderr" "$T/$label.err"
        fail "$label: the shim logged a failure"
    fi
}

# ftp_check_wire checks the last recording: nothing of the sessions in the
# clear (the file's marker, the password, FTP commands and replies), and
# every connection that carried data started with TLS.  Each pass over the
# recording (tens of MB) takes a while, so the FTP dialogue, which travels
# in single small segments, is looked for in the raw file with grep, and
# the stream reader runs for the two markers and once for the first bytes.
ftp_check_wire()
{
    local needle n
    wire_assert_absent "$FTP_MARKER"
    wire_assert_absent "$FTP_PASSWORD"
    for needle in "USER anonymous" "PASS " "STOR up-" "RETR up-" \
        "230 Login" "226 Transfer complete" "vsFTPd"; do
        n=$(grep -a -c -F -e "$needle" "$WIRE_FILE" || true)
        [ "$n" -eq 0 ] || fail "'$needle' is in the recording $WIRE_FILE"
    done
    # The first bytes of every stream direction in the recording (which
    # holds only this test's ports): each must be a TLS handshake record.
    wire_assert_tls ""
    log "the recording holds $WIRE_STREAMS stream directions, all starting with TLS"
}

# ftp_client_test CLIENT is the whole test of one client: vsftpd under the
# shim, then a passive and an active session of CLIENT under the shim, each
# uploading, listing and downloading the 5 MB file, with the wire recorded.
ftp_client_test()
{
    local client=$1 mode
    need_shim
    certs
    ftp_setup
    ftp_start_server
    # shellcheck disable=SC2046 # one argument per port
    wire_start $(ftp_wire_ports)
    for mode in passive active; do
        ftp_run "$client" "$mode"
        assert_rc 0 "$client-$mode"
    done
    wire_stop
    bg_alive vsftpd
    for mode in passive active; do
        ftp_check_session "$client" "$mode"
    done
    # vsftpd's side: it served every connection as TLS, and logged the
    # transfers as complete.
    assert_match "$FTP_DIR/shim-server.log" \
        "^tlsshim\[[0-9]+\]: fd [0-9]+: accept 127\.0\.0\.1:[0-9]+ on 127\.0\.0\.1:$FTP_PORT: TLSv1\.3"
    assert_match "$FTP_DIR/shim-server.log" \
        "^tlsshim\[[0-9]+\]: fd [0-9]+: connect 127\.0\.0\.1:[0-9]+: TLSv1\.3"
    assert_eq 4 "$(count_match "$FTP_DIR/vsftpd.log" 'OK (UPLOAD|DOWNLOAD):')" \
        "uploads and downloads vsftpd logged as OK"
    ftp_check_wire
}
