# shellcheck shell=bash
#
# lib.sh - helpers shared by the integration tests.  Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# It sets strict mode, makes a per-test temporary directory $T, and installs
# a trap that on exit stops every background process the test started (each
# runs in its own process group) and the packet recorder.  On failure it
# prints the logs of the background processes and keeps $T.
#
# Environment (set by ctest, see CMakeLists.txt; the defaults fit a build in
# build/ of this checkout):
#   TLSSHIM          the launcher
#   TLSSHIM_LIB      the preloaded library
#   TLSSHIM_CERTS    where tests/fixtures/mkcerts.sh puts the certificates
#   KEEP_TMP=1       keep $T even when the test passes
#
# Conventions: a helper that checks something calls fail() with a message
# that says what was expected and what was seen; tests never `exit 0` early
# on a condition they cannot check (use skip() for that, exit 77).

set -Eeuo pipefail
shopt -s inherit_errexit

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$TESTS_DIR/../.." && pwd)
TEST_NAME=$(basename "$0" .sh)

TLSSHIM=${TLSSHIM:-$REPO_ROOT/build/tlsshim}
TLSSHIM_LIB=${TLSSHIM_LIB:-$REPO_ROOT/build/libtlsshim.so}
TLSSHIM_CERTS=${TLSSHIM_CERTS:-$(dirname "$TLSSHIM_LIB")/test-certs}

# The Debian interpreter: `python3` on PATH may be another build without
# Debian's packages (DESIGN.md section 4).
PY=/usr/bin/python3

# A test must not inherit the caller's shim settings or proxies: each sets
# exactly what it tests.
unset TLSSHIM_POLICY TLSSHIM_LOG TLSSHIM_LOG_FILE TLSSHIM_BORINGSSL_DIR
unset LD_PRELOAD http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY \
    all_proxy no_proxy NO_PROXY
export LC_ALL=C

T=$(mktemp -d "/tmp/tlsshim-$TEST_NAME.XXXXXX")
CERTS=$T/certs

_BG_PIDS=()   # pids of background processes, each its own process group
_BG_NAMES=()  # their names: logs are $T/NAME.out and $T/NAME.err
_WIRE_PID=""  # the running tcpdump, if any
_WIRE_N=0     # number of recordings made so far
WIRE_FILE=""  # the last recording (pcap)
_FAILED=0

# ---------------------------------------------------------------- reporting

# log MSG... prints a progress line to stderr.
log()
{
    printf '%s: %s\n' "$TEST_NAME" "$*" >&2
}

# fail MSG... reports a failure, prints the background logs and exits 1.
fail()
{
    _FAILED=1
    printf '\nFAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
    dump_bg_logs
    exit 1
}

# A test that checks many cases can collect what went wrong and report it
# all at once: problem MSG... records one finding, soft LABEL CMD... runs an
# assertion (a helper that calls fail) without ending the test and records
# its FAIL line, and fail_on_problems ends the test if anything was found.
_PROBLEMS=()

problem()
{
    _PROBLEMS+=("$*")
}

soft()
{
    local label=$1
    shift
    if ! ("$@") 2>"$T/soft.err"; then
        _PROBLEMS+=("$label: $(grep FAIL "$T/soft.err" | head -n 1)")
    fi
}

fail_on_problems()
{
    if [ "${#_PROBLEMS[@]}" -ne 0 ]; then
        printf '  - %s\n' "${_PROBLEMS[@]}" >&2
        fail "${#_PROBLEMS[@]} problem(s), listed above"
    fi
}

# skip MSG... ends the test as skipped (ctest SKIP_RETURN_CODE 77).  Only for
# what cannot be checked on this machine, never for a failure.
skip()
{
    printf 'SKIP: %s: %s\n' "$TEST_NAME" "$*" >&2
    exit 77
}

# show_file LABEL FILE prints FILE, indented, at most 40 lines.
show_file()
{
    local label=$1 file=$2
    if [ ! -e "$file" ]; then
        printf -- '--- %s: (no file %s)\n' "$label" "$file" >&2
        return 0
    fi
    printf -- '--- %s (%s, %s bytes):\n' "$label" "$file" \
        "$(stat -c %s "$file")" >&2
    head -n 40 "$file" | cat -v | sed 's/^/    /' >&2
}

# dump_bg_logs prints the output of every background process.
dump_bg_logs()
{
    local name
    for name in "${_BG_NAMES[@]}"; do
        show_file "$name stdout" "$T/$name.out"
        show_file "$name stderr" "$T/$name.err"
    done
}

_on_err()
{
    local status=$1 line=$2 cmd=$3
    if [ "$_FAILED" -eq 0 ]; then
        _FAILED=1
        printf '\nFAIL: %s: line %s: command failed (status %s): %s\n' \
            "$TEST_NAME" "$line" "$status" "$cmd" >&2
        dump_bg_logs
    fi
}

_cleanup()
{
    local status=$?
    local i pid
    trap - ERR
    set +e
    if [ -n "$_WIRE_PID" ]; then
        kill -INT "$_WIRE_PID" 2>/dev/null
    fi
    for ((i = ${#_BG_PIDS[@]} - 1; i >= 0; i--)); do
        kill -TERM -- "-${_BG_PIDS[i]}" 2>/dev/null
    done
    for pid in "${_BG_PIDS[@]}" $_WIRE_PID; do
        _wait_gone "$pid" 30 || kill -KILL -- "-$pid" 2>/dev/null
    done
    # Reap what was killed so no zombie outlives the test.
    wait 2>/dev/null
    if [ "$status" -ne 0 ] || [ "$_FAILED" -ne 0 ] ||
        [ "${KEEP_TMP:-0}" = 1 ]; then
        if [ "$status" -ne 77 ]; then
            printf '%s: files kept in %s\n' "$TEST_NAME" "$T" >&2
        fi
    else
        rm -rf "$T"
    fi
    if [ "$status" -eq 0 ] && [ "$_FAILED" -eq 0 ]; then
        printf 'PASS: %s\n' "$TEST_NAME" >&2
    fi
    exit "$status"
}

trap '_on_err $? $LINENO "$BASH_COMMAND"' ERR
trap _cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# _wait_gone PID TENTHS waits until process group PID has no member left,
# at most TENTHS tenths of a second.
_wait_gone()
{
    local pid=$1 n=$2
    while [ "$n" -gt 0 ]; do
        if ! kill -0 -- "-$pid" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# ---------------------------------------------------------------- checks

# assert_eq WANT GOT [WHAT] fails unless the two strings are equal.
assert_eq()
{
    if [ "$1" != "$2" ]; then
        fail "${3:-value}: want '$1', got '$2'"
    fi
}

# assert_contains FILE STRING fails unless FILE contains STRING (fixed
# string, not a pattern).
assert_contains()
{
    if ! grep -q -F -e "$2" "$1"; then
        show_file "$(basename "$1")" "$1"
        fail "$(basename "$1") does not contain '$2'"
    fi
}

# assert_not_contains FILE STRING fails if FILE contains STRING.
assert_not_contains()
{
    if grep -q -F -e "$2" "$1"; then
        show_file "$(basename "$1")" "$1"
        fail "$(basename "$1") contains '$2' but must not"
    fi
}

# assert_match FILE REGEX fails unless a line of FILE matches the extended
# regular expression REGEX (case-insensitive).
assert_match()
{
    if ! grep -q -i -E -e "$2" "$1"; then
        show_file "$(basename "$1")" "$1"
        fail "no line of $(basename "$1") matches /$2/"
    fi
}

# count_match FILE REGEX prints how many lines of FILE match REGEX
# (extended, case-insensitive).
count_match()
{
    grep -c -i -E -e "$2" "$1" || true
}

# assert_same_file WANT GOT fails unless the two files are byte-identical.
assert_same_file()
{
    if ! cmp -s "$1" "$2"; then
        show_file "want" "$1"
        show_file "got" "$2"
        fail "$(basename "$2") differs from $(basename "$1")"
    fi
}

# assert_absent PATH fails if PATH exists.
assert_absent()
{
    if [ -e "$1" ]; then
        fail "$1 exists but must not"
    fi
}

# run LABEL CMD... runs CMD (stdin /dev/null, at most RUN_TIMEOUT seconds,
# default 60) with stdout in $T/LABEL.out and stderr in $T/LABEL.err, and
# sets RC to its exit status (124 on timeout).  It never fails itself.
run()
{
    run_input /dev/null "$@"
}

# run_input FILE LABEL CMD... is run with stdin from FILE.
run_input()
{
    local input=$1 label=$2
    shift 2
    RC=0
    timeout -k 5 "${RUN_TIMEOUT:-60}" "$@" <"$input" >"$T/$label.out" \
        2>"$T/$label.err" || RC=$?
    if [ "$RC" -eq 124 ]; then
        log "$label: timed out after ${RUN_TIMEOUT:-60} s: $*"
    fi
    return 0
}

# rc_is_error succeeds if RC is an error the program reported itself: not
# 0, not a timeout (124) and not death by a signal (128 + 1..31).
rc_is_error()
{
    [ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] &&
        { [ "$RC" -le 128 ] || [ "$RC" -ge 160 ]; }
}

# describe_rc prints RC in words.
describe_rc()
{
    if [ "$RC" -eq 124 ]; then
        echo "a timeout (${RUN_TIMEOUT:-60} s)"
    elif [ "$RC" -gt 128 ] && [ "$RC" -lt 160 ]; then
        echo "death by signal $((RC - 128)) ($(kill -l "$((RC - 128))"))"
    else
        echo "exit status $RC"
    fi
}

# assert_rc WANT LABEL fails unless the last run of LABEL exited WANT;
# WANT "error" means any error the program reported itself (rc_is_error).
assert_rc()
{
    local want=$1 label=$2
    local ok=0
    if [ "$want" = error ] || [ "$want" = nonzero ]; then
        rc_is_error && ok=1
    else
        [ "$RC" -eq "$want" ] && ok=1
    fi
    if [ "$ok" -eq 0 ]; then
        show_file "$label stdout" "$T/$label.out"
        show_file "$label stderr" "$T/$label.err"
        fail "$label: want exit status $want, got $(describe_rc)"
    fi
}

# assert_exit WANT CMD... runs CMD (as run, label "cmd") and checks its exit
# status.
assert_exit()
{
    local want=$1
    shift
    run cmd "$@"
    assert_rc "$want" cmd
}

# ---------------------------------------------------------------- processes

# bg NAME CMD... starts CMD in the background in its own session and process
# group, stdin /dev/null, output in $T/NAME.out and $T/NAME.err.  Sets
# BG_PID.  The exit trap kills the whole group.  Start it in the directory
# it should run in (use a subshell-free `cd` before, or bg_in).
bg()
{
    local name=$1
    shift
    setsid "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err" &
    BG_PID=$!
    _BG_PIDS+=("$BG_PID")
    _BG_NAMES+=("$name")
    eval "PID_${name//[^A-Za-z0-9_]/_}=$BG_PID"
}

# bg_in DIR NAME CMD... is bg with DIR as working directory.
bg_in()
{
    local dir=$1
    shift
    pushd "$dir" >/dev/null
    bg "$@"
    popd >/dev/null
}

# bg_pid NAME prints the pid of background process NAME.
bg_pid()
{
    local var="PID_${1//[^A-Za-z0-9_]/_}"
    printf '%s\n' "${!var}"
}

# bg_alive NAME fails unless background process NAME is still running.
bg_alive()
{
    local pid
    pid=$(bg_pid "$1")
    if ! kill -0 "$pid" 2>/dev/null ||
        [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]; then
        fail "background process $1 (pid $pid) is no longer running"
    fi
}

# bg_stop NAME stops background process NAME (its whole group) and waits
# for it.
bg_stop()
{
    local pid
    pid=$(bg_pid "$1")
    kill -TERM -- "-$pid" 2>/dev/null || true
    _wait_gone "$pid" 50 || kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# http_server_start PORT [LAUNCHER-OPTION...] starts python3 -m http.server
# on 127.0.0.1:PORT serving $T/www, under the launcher with the policy
# $T/server.conf and the LAUNCHER-OPTIONs (e.g. -l info), as background
# process "server", and waits for its port.
http_server_start()
{
    local port=$1
    shift
    bg_in "$T/www" server "$TLSSHIM" -p "$T/server.conf" "$@" -- \
        "$PY" -m http.server "$port" --bind 127.0.0.1
    wait_port "$port" server
}

# ---------------------------------------------------------------- network

# free_port and port_listening PORT: see helpers/ports.sh (shared with
# tests/bench/run.sh).
# shellcheck source=helpers/ports.sh
. "$TESTS_DIR/helpers/ports.sh"

# wait_port PORT [NAME] waits (at most WAIT_PORT_TIMEOUT s, default 10)
# until something listens on PORT; with NAME, fails at once when background
# process NAME has exited.
wait_port()
{
    local port=$1 name=${2:-}
    local n=$((${WAIT_PORT_TIMEOUT:-10} * 10))
    while ! port_listening "$port"; do
        if [ -n "$name" ]; then
            bg_alive "$name"
        fi
        n=$((n - 1))
        if [ "$n" -le 0 ]; then
            fail "nothing listens on port $port after ${WAIT_PORT_TIMEOUT:-10} s"
        fi
        sleep 0.1
    done
}

# curl_parallel_get N URL WANT starts N unshimmed curl clients at once, each
# fetching URL (verifying against the test CA) into $T/getI.txt with its
# stderr in $T/getI.err (I from 1 to N), and fails unless each exits 0
# with a copy byte-identical to the file WANT.
curl_parallel_get()
{
    local n=$1 url=$2 want=$3 i rc
    local pids=()
    for ((i = 1; i <= n; i++)); do
        timeout 60 curl -sS --cacert "$CERTS/ca.pem" -o "$T/get$i.txt" \
            "$url" 2>"$T/get$i.err" &
        pids+=("$!")
    done
    for ((i = 1; i <= n; i++)); do
        wait "${pids[i - 1]}" && rc=0 || rc=$?
        if [ "$rc" -ne 0 ]; then
            show_file "curl $i stderr" "$T/get$i.err"
            fail "curl $i exited $rc"
        fi
        assert_same_file "$want" "$T/get$i.txt"
    done
}

# ---------------------------------------------------------------- fixtures

# certs makes sure the test certificates exist and copies them to $CERTS
# (tests/fixtures/mkcerts.sh describes them).
certs()
{
    bash "$REPO_ROOT/tests/fixtures/mkcerts.sh" "$TLSSHIM_CERTS"
    mkdir -p "$CERTS"
    cp "$TLSSHIM_CERTS"/*.pem "$TLSSHIM_CERTS"/*.key "$CERTS/"
}

# client_conf NAME PORT [FILE] writes FILE (default $T/client.conf): one
# client rule NAME for 127.0.0.1:PORT that verifies against the test CA
# (certs first).
client_conf()
{
    cat >"${3:-$T/client.conf}" <<CONF
[client $1]
match   = 127.0.0.1:$2
ca_file = $CERTS/ca.pem
CONF
}

# server_conf NAME PORT [FILE] writes FILE (default $T/server.conf): one
# server rule NAME for 127.0.0.1:PORT that presents the test certificate
# for localhost (certs first).
server_conf()
{
    cat >"${3:-$T/server.conf}" <<CONF
[server $1]
match = 127.0.0.1:$2
cert  = $CERTS/server.pem
key   = $CERTS/server.key
CONF
}

# sample_policy SAMPLE OUT KEY=VALUE... writes to OUT the sample policy
# policy/SAMPLE with the value of each KEY replaced (KEY= with an empty
# value deletes the line).  The test then runs the sample an administrator
# starts from, pointed at loopback ports and the test certificates.  A KEY
# the sample does not have fails the test: the sample changed under it.
sample_policy()
{
    local name=$1 out=$2 kv
    shift 2
    cp "$REPO_ROOT/policy/$name" "$out"
    for kv in "$@"; do
        grep -q -E "^${kv%%=*}[[:space:]]*=" "$out" ||
            fail "policy/$name: no key ${kv%%=*} to replace"
        awk -v k="${kv%%=*}" -v v="${kv#*=}" '
            $0 ~ "^" k "[[:space:]]*=" {
                if (v != "") print k " = " v
                next
            }
            { print }' "$out" >"$out.new"
        mv "$out.new" "$out"
    done
}

# need_shim fails unless the launcher and the library were built.
need_shim()
{
    [ -x "$TLSSHIM" ] || fail "launcher not found: $TLSSHIM (build first)"
    [ -f "$TLSSHIM_LIB" ] || fail "library not found: $TLSSHIM_LIB"
}

# need_dynamic_busybox sets busybox to the path of Debian's dynamic busybox
# (its applets go through the shim); fails if busybox is missing or static.
need_dynamic_busybox()
{
    busybox=$(command -v busybox) || fail "busybox is not installed"
    ldd "$busybox" >/dev/null 2>&1 ||
        fail "$busybox is a static binary (busybox-static?): install busybox"
}

# marker prints a random string to plant in a program's data.
marker()
{
    printf 'tlsshim-marker-%s\n' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
}

# make_page FILE [LINES] writes a text file of LINES lines (default 2000,
# about 100 KB: many TLS records) with a random marker on its first and last
# lines, and sets PAGE_MARKER to the marker.
make_page()
{
    local file=$1 lines=${2:-2000}
    PAGE_MARKER=$(marker)
    mkdir -p "$(dirname "$file")"
    {
        printf 'first line %s\n' "$PAGE_MARKER"
        seq -f "line %g of the page served in the tlsshim tests, padding padding" \
            "$lines"
        printf 'last line %s\n' "$PAGE_MARKER"
    } >"$file"
}

# ---------------------------------------------------------------- the wire

# wire_start PORT... records every TCP packet to or from the PORTs on
# loopback into a new pcap file, $WIRE_FILE, until wire_stop.
wire_start()
{
    local filter="" port n
    [ "$#" -gt 0 ] || fail "wire_start: no port given"
    [ -z "$_WIRE_PID" ] || fail "wire_start: a recording is already running"
    for port in "$@"; do
        filter="${filter:+$filter or }port $port"
    done
    _WIRE_N=$((_WIRE_N + 1))
    WIRE_FILE="$T/wire.$_WIRE_N.pcap"
    : >"$T/wire.$_WIRE_N.err"
    # -Z root: tcpdump would otherwise drop to user tcpdump before opening
    # the file in $T, which only root may write.  --immediate-mode and -U:
    # every packet reaches the file as soon as it is seen.  -B (KiB) and a
    # raised priority: when the machine is busy the kernel drops what
    # tcpdump has no room or no time for, and wire_stop must then fail.
    # In immediate mode every slot of the ring is as large as loopback's
    # biggest frame (64 KiB), so 256 MiB holds about 4,000 packets: a
    # burst of redis-benchmark overflowed 64 MiB once.
    setsid nice -n -10 tcpdump -i lo -n -s 0 -B 262144 -U --immediate-mode -Z root \
        -w "$WIRE_FILE" "tcp and ($filter)" </dev/null \
        >"$T/wire.$_WIRE_N.out" 2>"$T/wire.$_WIRE_N.err" &
    _WIRE_PID=$!
    n=100
    until grep -q 'listening on' "$T/wire.$_WIRE_N.err"; do
        if ! kill -0 "$_WIRE_PID" 2>/dev/null; then
            show_file "tcpdump stderr" "$T/wire.$_WIRE_N.err"
            _WIRE_PID=""
            fail "tcpdump did not start (root needed; tcpdump installed?)"
        fi
        n=$((n - 1))
        [ "$n" -gt 0 ] || fail "tcpdump did not start listening in 10 s"
        sleep 0.1
    done
}

# wire_stop ends the recording and checks that the kernel dropped nothing:
# a packet missing from the file could hide plaintext.
wire_stop()
{
    local pid=$_WIRE_PID dropped
    [ -n "$pid" ] || fail "wire_stop: no recording is running"
    # Packets the kernel has queued for tcpdump but it has not read yet
    # would be lost by stopping at once.
    sleep 0.5
    kill -INT "$pid"
    wait "$pid" || true
    _WIRE_PID=""
    dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' \
        "$T/wire.$_WIRE_N.err")
    if [ "$dropped" = 0 ]; then
        return 0
    fi
    # Under load the kernel may drop some of the packets it hands tcpdump
    # (on loopback it sees each packet twice).  What matters is that every
    # connection is whole in the file.
    if ! "$PY" -c "$_WIRE_PY" complete "$WIRE_FILE" >"$T/wire.$_WIRE_N.gaps"; then
        show_file "tcpdump stderr" "$T/wire.$_WIRE_N.err"
        show_file "gaps" "$T/wire.$_WIRE_N.gaps"
        fail "the recording is incomplete (dropped: '${dropped:-?}')"
    fi
    log "tcpdump reports ${dropped:-?} packets dropped, but every connection is whole"
}

# The pcap reader.  tcpdump's file is read here rather than with tshark to
# keep the dependencies small.  For each TCP connection and direction the
# payload is put back in sequence order, so a string split across segments
# is still found.
# shellcheck disable=SC2016 # Python source, not shell
_WIRE_PY='
import struct, sys

def records(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        sys.exit("%s: not a pcap file (%d bytes)" % (path, len(data)))
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        sys.exit("%s: not a pcap file" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        off += 16
        yield linktype, data[off:off + incl]
        off += incl

def network_layer(linktype, pkt):
    if linktype == 1:                    # Ethernet (Linux lo)
        return struct.unpack("!H", pkt[12:14])[0], pkt[14:]
    if linktype == 113:                  # Linux cooked
        return struct.unpack("!H", pkt[14:16])[0], pkt[16:]
    if linktype == 276:                  # Linux cooked v2
        return struct.unpack("!H", pkt[0:2])[0], pkt[20:]
    if linktype in (12, 101):            # raw IP
        return (0x86DD if pkt[0] >> 4 == 6 else 0x0800), pkt
    return None, b""

def segments(path):
    """Yields (src, sport, dst, dport, seq, payload, flags) per packet."""
    for linktype, pkt in records(path):
        ethertype, ip = network_layer(linktype, pkt)
        if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == 6:
            ihl = (ip[0] & 15) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            src, dst = ip[12:16], ip[16:20]
            tcp = ip[ihl:total]
        elif ethertype == 0x86DD and len(ip) >= 40 and ip[6] == 6:
            plen = struct.unpack("!H", ip[4:6])[0]
            src, dst = ip[8:24], ip[24:40]
            tcp = ip[40:40 + plen]
        else:
            continue
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        yield src, sport, dst, dport, seq, tcp[doff:], tcp[13]

def streams(path, port):
    """Returns {(src, sport, dst, dport): bytes}, payload in seq order."""
    flows = {}
    for src, sport, dst, dport, seq, payload, flags in segments(path):
        if port and port not in (sport, dport):
            continue
        key = (src, sport, dst, dport)
        flow = flows.setdefault(key, {"isn": seq, "parts": {}})
        if payload:
            rel = (seq - flow["isn"]) % (1 << 32)
            flow["parts"].setdefault(rel, payload)
    out = {}
    for key, flow in flows.items():
        buf = b""
        for rel in sorted(flow["parts"]):
            part = flow["parts"][rel]
            if rel < len(buf):
                part = part[len(buf) - rel:]
            buf += part
        out[key] = buf
    return out

def name(key):
    src, sport, dst, dport = key
    def ip(a):
        if len(a) == 4:
            return ".".join(str(b) for b in a)
        return "[" + ":".join("%x" % x for x in struct.unpack("!8H", a)) + "]"
    return "%s:%d > %s:%d" % (ip(src), sport, ip(dst), dport)

cmd, path = sys.argv[1], sys.argv[2]
port = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else 0
if cmd == "stats":
    n = sum(1 for s in segments(path) if not port or port in s[1:4:2])
    flows = streams(path, port)
    print(n, sum(len(b) for b in flows.values()))
elif cmd == "search":
    needle = sys.argv[4].encode()
    hits = [k for k, b in streams(path, port).items() if needle in b]
    for k in hits:
        b = streams(path, port)[k]
        i = b.find(needle)
        print("%s: ...%r..." % (name(k), b[max(0, i - 60):i + len(needle) + 20]))
    sys.exit(0 if hits else 1)
elif cmd == "complete":
    # Each direction of each connection must be whole: its SYN seen, no
    # hole in its data, and its FIN or RST right after the last byte.
    M = 1 << 32
    flows = {}
    for src, sport, dst, dport, seq, payload, flags in segments(path):
        f = flows.setdefault((src, sport, dst, dport),
                             {"syn": None, "parts": {}, "end": None})
        if flags & 0x02:
            f["syn"] = seq
        if payload:
            f["parts"][seq] = max(len(payload), f["parts"].get(seq, 0))
        if flags & 0x05 and f["end"] is None:  # FIN or RST
            f["end"] = seq
    bad = 0
    for key, f in flows.items():
        if f["syn"] is None:
            print("%s: SYN not recorded" % name(key))
            bad += 1
            continue
        start = (f["syn"] + 1) % M
        pos = start
        for seq in sorted(f["parts"], key=lambda q: (q - start) % M):
            end = (seq + f["parts"][seq]) % M
            if (seq - pos) % M >= M // 2:      # starts before pos: overlap
                if (end - pos) % M < M // 2:
                    pos = end
                continue
            if seq != pos:
                print("%s: %d bytes missing" % (name(key), (seq - pos) % M))
                bad += 1
                break
            pos = end
        else:
            if f["end"] is not None and f["end"] != pos:
                print("%s: data before FIN/RST missing" % name(key))
                bad += 1
    sys.exit(1 if bad else 0)
elif cmd == "first":
    # first bytes of each direction of each connection on the port; with
    # "to-server", only the flows whose destination is the port.
    only = sys.argv[4] if len(sys.argv) > 4 else ""
    for k, b in sorted(streams(path, port).items(), key=lambda kv: kv[0][1]):
        if only == "to-server" and k[3] != port:
            continue
        if b:
            print("%s %s %d" % (name(k), b[:5].hex(" "), len(b)))
else:
    sys.exit("unknown command " + cmd)
'

# wire_stats [PORT] prints "PACKETS PAYLOAD_BYTES" of the last recording,
# counting only connections on PORT if given.
wire_stats()
{
    "$PY" -c "$_WIRE_PY" stats "$WIRE_FILE" "${1:-}"
}

# _wire_not_empty [PORT] fails unless the recording holds TCP payload on
# PORT: a check for absence in an empty recording proves nothing.
_wire_not_empty()
{
    local port=${1:-} packets bytes
    read -r packets bytes < <(wire_stats "$port")
    if [ "$packets" -eq 0 ] || [ "$bytes" -eq 0 ]; then
        fail "the recording ${port:+of port $port }is empty ($packets packets, $bytes payload bytes): nothing to check"
    fi
}

# wire_assert_absent STRING [PORT] fails if STRING crossed the wire in the
# last recording (only connections on PORT, if given), or if the recording
# holds no payload at all.
wire_assert_absent()
{
    local needle=$1 port=${2:-} raw
    [ -z "$_WIRE_PID" ] || fail "wire_assert_absent: call wire_stop first"
    _wire_not_empty "$port"
    if "$PY" -c "$_WIRE_PY" search "$WIRE_FILE" "$port" "$needle" \
        >"$T/wire-search.out"; then
        cat "$T/wire-search.out" >&2
        fail "'$needle' crossed the wire in the clear (${port:+port $port, }$WIRE_FILE)"
    fi
    # The same on the raw file, independent of the reader above.
    if [ -z "$port" ]; then
        raw=$(grep -a -c -F -e "$needle" "$WIRE_FILE" || true)
        if [ "$raw" -ne 0 ]; then
            fail "'$needle' is in the raw recording $WIRE_FILE"
        fi
    fi
}

# wire_assert_present STRING [PORT] fails unless STRING crossed the wire:
# the control that shows the recorder sees plaintext when there is some.
wire_assert_present()
{
    local needle=$1 port=${2:-}
    [ -z "$_WIRE_PID" ] || fail "wire_assert_present: call wire_stop first"
    if ! "$PY" -c "$_WIRE_PY" search "$WIRE_FILE" "$port" "$needle" \
        >/dev/null; then
        fail "'$needle' was expected on the wire ${port:+(port $port) }but is not in $WIRE_FILE"
    fi
}

# wire_first PORT [to-server] prints, for each connection and direction on
# PORT, "SRC > DST FIRST-5-BYTES-HEX LENGTH".
wire_first()
{
    "$PY" -c "$_WIRE_PY" first "$WIRE_FILE" "$1" "${2:-}"
}

# wire_assert_tls PORT [to-server] fails unless every stream on PORT that
# carries data starts with a TLS handshake record (0x16 0x03), and there is
# at least one; PORT "" checks every stream of the recording.  With
# to-server, only the streams sent to PORT are checked.  Sets WIRE_STREAMS
# to the number of stream directions checked.
wire_assert_tls()
{
    local port=$1 only=${2:-} src gt dst b1 b2 rest
    [ -z "$_WIRE_PID" ] || fail "wire_assert_tls: call wire_stop first"
    wire_first "$port" "$only" >"$T/wire-first.out"
    WIRE_STREAMS=0
    # shellcheck disable=SC2094 # the file is only read in the loop
    while read -r src gt dst b1 b2 rest; do
        WIRE_STREAMS=$((WIRE_STREAMS + 1))
        if [ "$b1 $b2" != "16 03" ]; then
            cat "$T/wire-first.out" >&2
            fail "$src $gt $dst does not start with a TLS record: $b1 $b2 $rest"
        fi
    done <"$T/wire-first.out"
    [ "$WIRE_STREAMS" -gt 0 ] ||
        fail "no data ${port:+on port $port }in $WIRE_FILE"
}
