#!/usr/bin/env bash
#
# run.sh - tlsshim's benchmark: the same client/server workloads over
# plaintext, direct BoringSSL, tlsshim and stunnel, interleaved, repeated,
# summarised as medians and paired ratios.
#
#   tests/bench/run.sh [--quick] [--repeats N] [--rounds N]
#                      [--out DIR] [--setups LIST] [--workloads LIST]
#
# Setups (--setups, comma-separated; default all):
#   plain    bench_client -> bench_server, plaintext: the floor
#   direct   bench_tls_client -> bench_tls_server, BoringSSL called
#            directly: the ceiling for this engine
#   shim     bench_client -> bench_server, both under tlsshim
#   shimcli  bench_client under tlsshim -> bench_tls_server
#   stunnel  bench_client -> stunnel4 (client) -> stunnel4 (server) ->
#            bench_server, verifying the chain and the host name
# Workloads (--workloads): bulk ping rr1k rr16k churn churn_resumed conc1
#   conc16 conc256 idle epoll epoll_idle spawn instr (churn makes full
#   handshakes, the shim's client policy saying resumption = off;
#   churn_resumed resumes, for the setups that can: direct, shim, shimcli;
#   epoll and epoll_idle run one busy connection against bench_server's
#   single-threaded epoll loop, epoll_idle beside as many idle connections
#   as idle opens, for the setups whose server is bench_server: plain, shim,
#   stunnel; instr counts instructions, see below, and is left out of
#   --quick).
#
# Each repeat runs every workload once per setup, setups interleaved,
# except bulk, churn and churn_resumed, which run --rounds times (default
# 5) per repeat: their figures move most from run to run on a shared
# machine (bulk's CPU, the handshake rates), and ratios are paired run by
# run, so they get more pairs.
#
# instr runs the bulk transfer of direct and shim under valgrind's
# callgrind, at two sizes, and reports the user-space instructions per GiB
# that the server and the client add for each further GiB: a count that
# does not depend on what else the machine is doing (system calls and the
# kernel's copies are not in it).
#
# Before any figure, it checks that each setup works and that the shimmed
# pair really speaks TLS: a plaintext client against the shimmed server
# (and against stunnel's TLS port) must fail, a direct BoringSSL client
# against it must succeed.  Any failed check or run ends the benchmark
# with status 1; a slow figure never does.
#
# Output: a table on the terminal, and in DIR (default
# build/bench-results/DATE): results.csv (every run), summary.json,
# table.txt, plot.png (gnuplot), and work/ (policies, configs, logs).
#
# Environment: TLSSHIM, TLSSHIM_LIB, TLSSHIM_CERTS as for the tests
# (defaults: build/ of this checkout, built if missing); BENCH_BIN, the
# directory of the bench programs (default: beside TLSSHIM_LIB in
# tests/bench/, else compiled here with cc into DIR/bin).
#
set -Eeuo pipefail
shopt -s inherit_errexit

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
PY=/usr/bin/python3
export LC_ALL=C
# The benchmark sets exactly what each process gets.
unset TLSSHIM_POLICY TLSSHIM_LOG TLSSHIM_LOG_FILE LD_PRELOAD

QUICK=0
REPEATS=""
OUT=""
SETUPS="plain,direct,shim,shimcli,stunnel"
WORKLOADS=""
ROUNDS=""

usage()
{
    sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p' >&2
    exit 2
}

while [ "$#" -gt 0 ]; do
    case $1 in
    --quick) QUICK=1 ;;
    --repeats) REPEATS=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --out) OUT=${2:?}; shift ;;
    --setups) SETUPS=${2:?}; shift ;;
    --workloads) WORKLOADS=${2:?}; shift ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
    esac
    shift
done

# Sizes.  --quick is the CI smoke run: seconds, tiny sizes, one repeat.
if [ "$QUICK" = 1 ]; then
    REPEATS=${REPEATS:-1} ROUNDS=${ROUNDS:-1}
    WORKLOADS=${WORKLOADS:-bulk,ping,rr1k,rr16k,churn,churn_resumed,conc1,conc16,conc256,idle,epoll,epoll_idle,spawn}
    BULK=8m PING=200 RR1K=200 RR16K=100 CHURN=20 CONC_SECS=0.3 IDLE=20
    SPAWN=20 RUN_TIMEOUT=30
else
    REPEATS=${REPEATS:-3} ROUNDS=${ROUNDS:-5}
    WORKLOADS=${WORKLOADS:-bulk,ping,rr1k,rr16k,churn,churn_resumed,conc1,conc16,conc256,idle,epoll,epoll_idle,spawn,instr}
    BULK=1g PING=20000 RR1K=10000 RR16K=5000 CHURN=1000 CONC_SECS=3
    IDLE=1000 SPAWN=300 RUN_TIMEOUT=180
fi
# instr: the two bulk sizes whose difference is counted.
INSTR_SMALL=8388608 INSTR_LARGE=75497472

# ---------------------------------------------------------------- set-up

TLSSHIM=${TLSSHIM:-$REPO_ROOT/build/tlsshim}
TLSSHIM_LIB=${TLSSHIM_LIB:-$REPO_ROOT/build/libtlsshim.so}
TLSSHIM_CERTS=${TLSSHIM_CERTS:-$(dirname "$TLSSHIM_LIB")/test-certs}
if [ ! -x "$TLSSHIM" ] || [ ! -f "$TLSSHIM_LIB" ]; then
    if [ "$TLSSHIM" = "$REPO_ROOT/build/tlsshim" ]; then
        echo "run.sh: building tlsshim in $REPO_ROOT/build" >&2
        cmake -S "$REPO_ROOT" -B "$REPO_ROOT/build" >/dev/null
        cmake --build "$REPO_ROOT/build" -j2 >/dev/null
    else
        echo "run.sh: $TLSSHIM or $TLSSHIM_LIB missing" >&2
        exit 1
    fi
fi
for tool in stunnel4 gnuplot; do
    command -v "$tool" >/dev/null ||
        { echo "run.sh: $tool missing (tests/deps/bench.txt)" >&2; exit 1; }
done

OUT=${OUT:-$(dirname "$TLSSHIM_LIB")/bench-results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/work"
OUT=$(cd "$OUT" && pwd)
W=$OUT/work
CSV=$OUT/results.csv
echo "setup,workload,repeat,metric,value" >"$CSV"

BIN=${BENCH_BIN:-$(dirname "$TLSSHIM_LIB")/tests/bench}
PROGRAMS="bench_server bench_client bench_tls_server bench_tls_client bench_spawn"
missing=0
for p in $PROGRAMS; do
    [ -x "$BIN/$p" ] || missing=1
done
if [ "$missing" = 1 ]; then
    # Not built by CMake (yet): compile them here, with the same warnings.
    BIN=$OUT/bin
    mkdir -p "$BIN"
    bssl=/usr/lib/x86_64-linux-gnu/android
    cflags=(-std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE)
    tls=(-isystem /usr/include/android "$bssl/libssl.so.0" "$bssl/libcrypto.so.0"
        "-Wl,-rpath,$bssl")
    cd "$BENCH_DIR"
    for side in server client; do
        cc "${cflags[@]}" -o "$BIN/bench_$side" "bench_$side.c" \
            transport.c transport_plain.c bench_util.c -lpthread -lm
        cc "${cflags[@]}" -o "$BIN/bench_tls_$side" "bench_$side.c" \
            transport.c transport_tls.c bench_util.c "${tls[@]}" -lpthread -lm
    done
    cc "${cflags[@]}" -o "$BIN/bench_spawn" bench_spawn.c bench_util.c
    cd - >/dev/null
fi

bash "$REPO_ROOT/tests/fixtures/mkcerts.sh" "$TLSSHIM_CERTS"
C=$W/certs
mkdir -p "$C"
cp "$TLSSHIM_CERTS"/{ca,server}.{pem,key} "$C/"

log()
{
    printf 'bench: %s\n' "$*" >&2
}

die()
{
    printf '\nbench: FAILED: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- processes

PIDS=() # every process started, each its own process group

# stop_all ends every process started (each whole process group) and waits
# for them; it also runs on exit.
stop_all()
{
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
trap stop_all EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# start NAME CMD... runs CMD in the background, in a process group of its
# own (setsid does not fork here: the shell's background child is no group
# leader), output in $W/NAME.out/.err.  Sets STARTED to its pid.
start()
{
    local name=$1
    shift
    setsid "$@" </dev/null >"$W/$name.out" 2>"$W/$name.err" &
    STARTED=$!
    PIDS+=("$STARTED")
}

# free_port: see tests/integration/helpers/ports.sh (shared with the
# tests; it defines functions only).
# shellcheck source=tests/integration/helpers/ports.sh
. "$REPO_ROOT/tests/integration/helpers/ports.sh"

# port_owner_ok PID PORT: the socket listening on 127.0.0.1:PORT is one of
# PID's descriptors.  Other people's tests share this machine: a port that
# was free a moment ago may now be someone else's, and the client must never
# measure (or talk to) another program.
port_owner_ok()
{
    local pid=$1 hex inode
    hex=$(printf '%04X' "$2")
    inode=$(awk -v p="0100007F:$hex" '$2 == p && $4 == "0A" { print $10 }' \
        /proc/net/tcp | head -n 1)
    [ -n "$inode" ] &&
        find "/proc/$pid/fd" -lname "socket:\[$inode\]" 2>/dev/null | grep -q .
}

# wait_ready PID PORT NAME: until PID listens on PORT, at most 10 s.
# Returns 1 if PID exits or another process holds the port (the caller
# retries with other ports).
wait_ready()
{
    local pid=$1 port=$2 name=$3 n=200
    until port_owner_ok "$pid" "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited at start (port $port taken?): $(tail -n 2 "$W/$name.err" | tr '\n' ' ')"
            return 1
        fi
        if grep -q 'Binding service .* failed' "$W/$name.err" 2>/dev/null; then
            log "$name could not bind port $port"
            return 1
        fi
        n=$((n - 1))
        [ "$n" -gt 0 ] || { log "$name does not listen on $port after 10 s"; return 1; }
        sleep 0.05
    done
}

# ---------------------------------------------------------------- setups

# server_policy NAME PORT writes the shimmed server's policy for PORT to
# NAME.conf.
server_policy()
{
    cat >"$W/$1.conf" <<CONF
# The bench server accepts TLS on its port.
[server bench]
match       = 127.0.0.1:$2
cert        = $C/server.pem
key         = $C/server.key
min_version = 1.3
CONF
}

# SERVER_ARGS: further arguments of bench_server (plain and shim kinds).
SERVER_ARGS=()

# start_server KIND NAME: a bench server of KIND plain|tls|shim on a free
# port.  Sets SPORT and SPID.
start_server()
{
    local kind=$1 name=$2
    SPORT=$(free_port)
    case $kind in
    plain) start "$name" "$BIN/bench_server" --port "$SPORT" "${SERVER_ARGS[@]}" ;;
    tls)
        start "$name" "$BIN/bench_tls_server" --port "$SPORT" \
            --cert "$C/server.pem" --key "$C/server.key"
        ;;
    shim)
        server_policy "$name" "$SPORT"
        start "$name" "$TLSSHIM" -p "$W/$name.conf" -- \
            "$BIN/bench_server" --port "$SPORT" "${SERVER_ARGS[@]}"
        ;;
    esac
    SPID=$STARTED
    wait_ready "$SPID" "$SPORT" "$name"
}

# client_policy NAME PORT writes the shim client's policies for PORT, one
# with session resumption on (NAME-resumption-on.conf, the default) and one
# with it off (for full-handshake churn).
client_policy()
{
    local resumption
    for resumption in on off; do
        cat >"$W/$1-resumption-$resumption.conf" <<CONF
# The bench client connects to 127.0.0.1 by address: name the server.
[client bench]
match       = 127.0.0.1:$2
server_name = localhost
ca_file     = $C/ca.pem
min_version = 1.3
resumption  = $resumption
CONF
    done
}

# setup_start SETUP starts the servers (and proxies) of SETUP and sets
# CLIENT (the client command without workload), PORT (where the client
# connects), TLSPORT (where TLS is spoken), WATCH (pids on the path).
setup_try()
{
    local s=$1 sport spid
    case $s in
    plain)
        start_server plain "$s-server" || return 1
        CLIENT=("$BIN/bench_client")
        PORT=$SPORT TLSPORT="" WATCH=$SPID
        ;;
    direct)
        start_server tls "$s-server" || return 1
        CLIENT=("$BIN/bench_tls_client" --ca "$C/ca.pem" --name localhost)
        PORT=$SPORT TLSPORT=$SPORT WATCH=$SPID
        ;;
    shim | shimcli)
        # The plaintext client under the shim, against the shimmed
        # plaintext server (shim) or the direct BoringSSL one (shimcli).
        if [ "$s" = shim ]; then
            start_server shim "$s-server" || return 1
        else
            start_server tls "$s-server" || return 1
        fi
        client_policy "$s-client" "$SPORT"
        CLIENT=("$TLSSHIM" -p "$W/$s-client-resumption-on.conf" --
            "$BIN/bench_client")
        PORT=$SPORT TLSPORT=$SPORT WATCH=$SPID
        ;;
    stunnel)
        start_server plain "$s-backend" || return 1
        sport=$SPORT spid=$SPID
        local tport cport
        tport=$(free_port)
        cport=$(free_port)
        # Same protocol choices as the other TLS setups; verification on.
        cat >"$W/stunnel-server.conf" <<CONF
foreground = yes
pid =
debug = 4
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[bench]
accept = 127.0.0.1:$tport
connect = 127.0.0.1:$sport
cert = $C/server.pem
key = $C/server.key
sslVersionMin = TLSv1.3
ciphersuites = TLS_AES_128_GCM_SHA256
curves = X25519
CONF
        cat >"$W/stunnel-client.conf" <<CONF
foreground = yes
pid =
debug = 4
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[bench]
client = yes
accept = 127.0.0.1:$cport
connect = 127.0.0.1:$tport
CAfile = $C/ca.pem
verifyChain = yes
checkHost = localhost
sni = localhost
sslVersionMin = TLSv1.3
ciphersuites = TLS_AES_128_GCM_SHA256
curves = X25519
CONF
        start stunnel-server stunnel4 "$W/stunnel-server.conf"
        local p1=$STARTED
        wait_ready "$p1" "$tport" stunnel-server || return 1
        start stunnel-client stunnel4 "$W/stunnel-client.conf"
        local p2=$STARTED
        wait_ready "$p2" "$cport" stunnel-client || return 1
        CLIENT=("$BIN/bench_client")
        PORT=$cport TLSPORT=$tport WATCH="$spid,$p1,$p2"
        ;;
    *) die "unknown setup $s" ;;
    esac
}

# setup_start SETUP: setup_try, again with fresh ports if a port was taken
# in the meantime.
setup_start()
{
    local try
    for try in 1 2 3 4 5; do
        if setup_try "$1"; then
            return 0
        fi
        stop_all
        log "$1: start-up attempt $try failed, retrying with other ports"
    done
    die "$1: the setup does not start (logs in $W)"
}

# ---------------------------------------------------------------- runs

# client_run LABEL ARGS...: the setup's client with ARGS, bounded in time;
# its result line in $W/LABEL.out.  Fails the benchmark on an error.
client_run()
{
    local label=$1
    shift
    if ! timeout -k 5 "$RUN_TIMEOUT" "${CLIENT[@]}" --port "$PORT" "$@" \
        </dev/null >"$W/$label.out" 2>"$W/$label.err"; then
        cat "$W/$label.err" >&2
        die "$label: ${CLIENT[*]} --port $PORT $* failed"
    fi
    grep -q '^workload=' "$W/$label.out" || die "$label: no result line"
}

# record SETUP WORKLOAD REPEAT FILE: every numeric key=value of the result
# line into the CSV.
record()
{
    local kv
    for kv in $(grep '^workload=' "$4"); do
        case $kv in
        workload=*) ;;
        *=*[!0-9.e+-]* | *=) ;;
        *) printf '%s,%s,%s,%s,%s\n' "$1" "$2" "$3" "${kv%%=*}" "${kv#*=}" \
            >>"$CSV" ;;
        esac
    done
}

workload_args()
{
    case $1 in
    bulk) echo "--watch $WATCH bulk --bytes $BULK" ;;
    ping) echo "rr --size 64 --count $PING" ;;
    rr1k) echo "rr --size 1k --count $RR1K" ;;
    rr16k) echo "rr --size 16k --count $RR16K" ;;
    churn) echo "churn --count $CHURN --max-seconds 20" ;;
    churn_resumed) echo "--resume churn --count $CHURN --max-seconds 20" ;;
    conc1) echo "conc --threads 1 --duration $CONC_SECS" ;;
    conc16) echo "conc --threads 16 --duration $CONC_SECS" ;;
    conc256) echo "conc --threads 256 --duration $CONC_SECS" ;;
    idle) echo "--watch $WATCH idle --conns $IDLE" ;;
    epoll) echo "--watch $WATCH conc --threads 1 --duration $CONC_SECS" ;;
    epoll_idle) echo "--watch $WATCH conc --threads 1 --idle $IDLE --duration $CONC_SECS" ;;
    *) die "unknown workload $1" ;;
    esac
}

# runs_on SETUP WORKLOAD: whether WORKLOAD runs on SETUP: churn_resumed
# needs a setup that can resume sessions, the epoll workloads a setup whose
# server is bench_server.
runs_on()
{
    case $2 in
    churn_resumed) case $1 in direct | shim | shimcli) return 0 ;; esac ;;
    epoll | epoll_idle) case $1 in plain | shim | stunnel) return 0 ;; esac ;;
    *) return 0 ;;
    esac
    return 1
}

IFS=, read -r -a setups <<<"$SETUPS"
IFS=, read -r -a workloads <<<"$WORKLOADS"

# ---------------------------------------------------------------- checks

log "checking the setups (binaries in $BIN, output in $OUT)"
for s in "${setups[@]}"; do
    setup_start "$s"
    client_run "check-$s" check
    if [ -n "$TLSPORT" ]; then
        # Nothing may come from an unwrapped path: a plaintext client at the
        # TLS port gets no answer...
        if timeout 20 "$BIN/bench_client" --port "$TLSPORT" check \
            >"$W/check-$s-plain.out" 2>"$W/check-$s-plain.err"; then
            die "$s: a plaintext client got an answer from the TLS port $TLSPORT"
        fi
        # ... and a BoringSSL client that verifies the server gets one.
        timeout 20 "$BIN/bench_tls_client" --port "$TLSPORT" --ca "$C/ca.pem" \
            --name localhost --info check >"$W/check-$s-tls.out" \
            2>"$W/check-$s-tls.err" ||
            { cat "$W/check-$s-tls.err" >&2; die "$s: TLS client against port $TLSPORT failed"; }
        log "$s: plaintext client refused at $TLSPORT; TLS client: $(grep -o 'TLS.*' "$W/check-$s-tls.err" | head -1)"
    fi
    stop_all
done

# Does the shim resume sessions?  Four connections of one client process,
# logged at info level; the figures themselves run without logging.
for s in shim shimcli; do
    case ",$SETUPS," in *",$s,"*) ;; *) continue ;; esac
    setup_start "$s"
    TLSSHIM_LOG=info client_run "resume-$s" churn --count 4
    n_new=$(grep -c 'connect .*new session' "$W/resume-$s.err" || true)
    n_res=$(grep -c -i 'connect .*resum' "$W/resume-$s.err" || true)
    log "$s: 6 connections of one client (churn of 4, 2 counter requests): $n_new new sessions, $n_res resumed (shim log)"
    printf '%s,resume_probe,0,new_sessions,%s\n%s,resume_probe,0,resumed,%s\n' \
        "$s" "$n_new" "$s" "$n_res" >>"$CSV"
    stop_all
done

# ---------------------------------------------------------------- figures

spawn_case()
{
    local case=$1 r=$2
    local env=()
    case $case in
    none) ;;
    preload) env=(-e "LD_PRELOAD=$TLSSHIM_LIB") ;;
    # As a child of a program the launcher started: TLSSHIM_LAUNCHER_PID
    # names another process, so TLS loads only when a rule matches, which
    # in /bin/true none does.
    nowrap) env=(-e "LD_PRELOAD=$TLSSHIM_LIB" -e "TLSSHIM_POLICY=$W/nowrap.conf" -e "TLSSHIM_LAUNCHER_PID=1") ;;
    # As the program the launcher started (no TLSSHIM_LAUNCHER_PID: the
    # library was preloaded by hand): BoringSSL is loaded and every rule's
    # context built at start-up, which is what a process that wraps pays
    # before its first handshake.
    wrap) env=(-e "LD_PRELOAD=$TLSSHIM_LIB" -e "TLSSHIM_POLICY=$W/wrap.conf") ;;
    esac
    timeout -k 5 "$RUN_TIMEOUT" "$BIN/bench_spawn" -n "$SPAWN" "${env[@]}" \
        -- /bin/true >"$W/spawn-$case-$r.out" 2>"$W/spawn-$case-$r.err" ||
        { cat "$W/spawn-$case-$r.err" >&2; die "spawn $case failed"; }
    record "$case" spawn "$r" "$W/spawn-$case-$r.out"
}

cat >"$W/nowrap.conf" <<CONF
# A rule no connection of /bin/true can match: the library reads the
# policy, checks its files, and never wraps anything.
[client elsewhere]
match   = 192.0.2.1:1
ca_file = $C/ca.pem
CONF
cat >"$W/wrap.conf" <<CONF
# What the bench's shimmed processes load: a client and a server rule.
[client bench]
match       = 127.0.0.1:1
server_name = localhost
ca_file     = $C/ca.pem
[server bench]
match = 127.0.0.1:2
cert  = $C/server.pem
key   = $C/server.key
CONF

# rounds W: how many runs per setup workload W makes in one repeat.
rounds()
{
    case $1 in
    bulk | churn | churn_resumed) echo "$ROUNDS" ;;
    spawn | instr) echo 0 ;;
    *) echo 1 ;;
    esac
}

total=0
for w in "${workloads[@]}"; do
    for s in "${setups[@]}"; do
        runs_on "$s" "$w" || continue
        total=$((total + $(rounds "$w")))
    done
done
total=$((total * REPEATS))
log "$total runs: $REPEATS repeats of each workload ($ROUNDS rounds of bulk and churn), setups interleaved"

n=0
for r in $(seq 1 "$REPEATS"); do
    for w in "${workloads[@]}"; do
        if [ "$w" = spawn ]; then
            for case in none preload nowrap wrap; do
                spawn_case "$case" "$r"
            done
            continue
        fi
        for k in $(seq 1 "$(rounds "$w")"); do
            # Runs of one round are paired: the rounds of bulk and churn
            # count as repeats of their own (r.k) for the ratios.
            rep=$r
            [ "$(rounds "$w")" -gt 1 ] && rep=$r.$k
            for s in "${setups[@]}"; do
                runs_on "$s" "$w" || continue
                n=$((n + 1))
                # Fresh servers for each run: no memory, sessions or threads
                # carried over from the run before.
                SERVER_ARGS=()
                case $w in epoll | epoll_idle) SERVER_ARGS=(--epoll) ;; esac
                setup_start "$s"
                SERVER_ARGS=()
                if [ "$w" = churn ] && [ "${CLIENT[0]}" = "$TLSSHIM" ]; then
                    # Full handshakes: the shimmed client resumes by default.
                    CLIENT[2]=${CLIENT[2]/resumption-on/resumption-off}
                fi
                # shellcheck disable=SC2046 # the arguments are words
                client_run "$s-$w-$rep" $(workload_args "$w")
                stop_all
                record "$s" "$w" "$rep" "$W/$s-$w-$rep.out"
                if [ -t 2 ]; then
                    printf '\rbench: run %d/%d (repeat %s, %s, %s)      ' \
                        "$n" "$total" "$rep" "$w" "$s" >&2
                fi
            done
        done
    done
    log "repeat $r of $REPEATS done ($n of $total runs)"
done

# ---------------------------------------------------------------- instructions

# instr_run SETUP BYTES: the bulk transfer of SETUP (direct or shim) under
# callgrind, server and client; records their instruction totals.  The
# shim's processes get the library preloaded by hand, as the launcher
# would, so that no launcher is counted.
instr_run()
{
    local s=$1 bytes=$2 port label=instr-$1-$2 vg srv cli side total
    vg=(valgrind --tool=callgrind --trace-children=yes)
    port=$(free_port)
    case $s in
    direct)
        srv=("$BIN/bench_tls_server" --port "$port" --cert "$C/server.pem"
            --key "$C/server.key")
        cli=("$BIN/bench_tls_client" --ca "$C/ca.pem" --name localhost)
        ;;
    shim)
        server_policy "$label-server" "$port"
        client_policy "$label-client" "$port"
        srv=(env "LD_PRELOAD=$TLSSHIM_LIB" "TLSSHIM_POLICY=$W/$label-server.conf"
            "$BIN/bench_server" --port "$port")
        cli=(env "LD_PRELOAD=$TLSSHIM_LIB"
            "TLSSHIM_POLICY=$W/$label-client-resumption-on.conf"
            "$BIN/bench_client")
        ;;
    esac
    start "$label-server" "${vg[@]}" \
        --callgrind-out-file="$W/$label-server.cg" "${srv[@]}"
    wait_ready "$STARTED" "$port" "$label-server" ||
        die "$label: the server under valgrind did not start"
    timeout -k 5 "$RUN_TIMEOUT" "${vg[@]}" \
        --callgrind-out-file="$W/$label-client.cg" "${cli[@]}" \
        --port "$port" bulk --bytes "$bytes" </dev/null \
        >"$W/$label-client.out" 2>"$W/$label-client.err" ||
        { tail -n 20 "$W/$label-client.err" >&2; die "$label: client failed"; }
    stop_all # callgrind writes the server's counts as it ends
    for side in server client; do
        total=$(awk '$1 == "totals:" { print $2 }' "$W/$label-$side.cg")
        [ -n "$total" ] || die "$label: no callgrind totals for the $side"
        printf '%s,instr,1,%s_%s,%s\n' "$s" "$side" "$bytes" "$total" >>"$CSV"
    done
}

case ",$WORKLOADS," in
*,instr,*)
    command -v valgrind >/dev/null ||
        die "instr: valgrind missing (tests/deps/bench.txt)"
    for s in direct shim; do
        case ",$SETUPS," in *",$s,"*) ;; *) continue ;; esac
        log "instr: $s under callgrind ($INSTR_SMALL and $INSTR_LARGE bytes)"
        instr_run "$s" "$INSTR_SMALL"
        instr_run "$s" "$INSTR_LARGE"
    done
    printf 'any,instr,1,bytes_small,%s\nany,instr,1,bytes_large,%s\n' \
        "$INSTR_SMALL" "$INSTR_LARGE" >>"$CSV"
    ;;
esac

"$PY" "$BENCH_DIR/summarize.py" "$CSV" "$OUT" "$(nproc) cores; $(uname -r); quick=$QUICK; repeats=$REPEATS"
log "results in $OUT"
