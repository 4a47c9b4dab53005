#!/usr/bin/env bash
#
# test_bench_smoke.sh - the benchmark (tests/bench/run.sh) in its --quick
# form: every setup (plaintext, direct BoringSSL, tlsshim on both ends,
# tlsshim client against BoringSSL, stunnel) and every workload runs once
# with tiny sizes.
#
# It fails when a setup breaks: a program that does not start, a run that
# errors or times out, a shimmed server that answers a plaintext client,
# missing output files.  It never looks at how fast anything was.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

OUT=$T/bench
# run.sh uses the bench programs built beside the library (tests/bench/
# CMakeLists.txt), or compiles them itself into $OUT/bin.
RUN_TIMEOUT=110 run bench bash "$REPO_ROOT/tests/bench/run.sh" --quick \
    --out "$OUT"
assert_rc 0 bench

# The TLS check ran for each TLS setup before any figure.
for s in direct shim shimcli stunnel; do
    assert_match "$T/bench.err" "^bench: $s: plaintext client refused at [0-9]+; TLS client: TLSv1\.3 "
done

# Every setup produced figures for every workload it runs.
csv=$OUT/results.csv
for s in plain direct shim shimcli stunnel; do
    for wm in bulk,mb_per_s ping,rtt_med_us rr1k,rtt_med_us rr16k,rtt_med_us \
        churn,conn_per_s conc1,req_per_s conc16,req_per_s conc256,req_per_s \
        idle,total_kib_per_conn; do
        assert_match "$csv" "^$s,${wm%,*},1,${wm#*,},[0-9]"
    done
done
assert_match "$csv" "^direct,churn_resumed,1,conn_per_s,[0-9]"
# The epoll workloads run on the setups whose server is bench_server, which
# then serves from its epoll loop, beside the idle connections.
for s in plain shim stunnel; do
    for w in epoll epoll_idle; do
        assert_match "$csv" "^$s,$w,1,req_per_s,[0-9]"
        # The server side spent CPU on the requests: --watch saw it.
        assert_match "$csv" "^$s,$w,1,others_cpu_us_per_req,[0-9.]*[1-9]"
    done
    assert_match "$csv" "^$s,epoll_idle,1,idle,20$"
done
# The resumed run did resume: the BoringSSL server counted it.
resumed=$(awk -F, '$1 == "direct" && $2 == "churn_resumed" &&
    $4 == "server_resumed" { print $5 }' "$csv")
[ "${resumed:-0}" -gt 0 ] || fail "direct churn_resumed: no resumed handshake"
for c in none preload nowrap wrap; do
    assert_match "$csv" "^$c,spawn,1,spawn_med_us,[0-9]"
    assert_match "$csv" "^$c,spawn,1,failures,0$"
done

# The summary, its JSON and the plot.
assert_contains "$T/bench.out" "bulk MB/s"
assert_contains "$OUT/table.txt" "shim/direct"
"$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$OUT/summary.json" ||
    fail "summary.json is not JSON"
[ "$(head -c 4 "$OUT/plot.png" | od -An -tx1 | tr -d ' ')" = 89504e47 ] ||
    fail "plot.png is not a PNG image"

# run.sh stopped everything it started.
leftover=$(ps -eo pid=,args= | grep -F "$OUT/" | grep -v grep || true)
[ -z "$leftover" ] || fail "processes left running: $leftover"
