# shellcheck shell=bash
#
# ports.sh - TCP port helpers for lib.sh and for tests/bench/run.sh, which
# runs without the test harness.  Sourcing it only defines functions: no
# trap, no temporary directory, no setting changed.  They need nothing but
# awk and $PY (python3 if unset).
#
#   . "$REPO_ROOT/tests/integration/helpers/ports.sh"

# free_port prints a TCP port that was free on loopback a moment ago.
free_port()
{
    "${PY:-python3}" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# port_listening PORT succeeds if some socket listens on TCP PORT (IPv4 or
# IPv6).  It reads /proc so that it never connects: a connection would be a
# client the server under test has to deal with.
port_listening()
{
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p {
            found = 1
        }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6
}
