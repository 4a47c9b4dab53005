#!/usr/bin/env bash
#
# run-all.sh [--soak MINUTES] - run every hardening test and write the
# table of what was tried and what happened to tests/hardening/RESULTS.md
# (or to $RESULTS_FILE).
#
# Uses the build in build/ of this checkout unless TLSSHIM, TLSSHIM_LIB and
# TLSSHIM_CERTS say otherwise (as for the integration tests).  Each test's
# full output is kept in $RESULTS_LOGS (default /tmp/tlsshim-hardening-logs).
# Exits 1 if any test failed; the table is written either way.
#
set -Euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${RESULTS_FILE:-$here/RESULTS.md}
logs=${RESULTS_LOGS:-/tmp/tlsshim-hardening-logs}
soak=""
if [ "${1:-}" = --soak ]; then
    soak=${2:-5}
fi
mkdir -p "$logs"

# name | script | what was tried
tests=(
"policy fuzzing|test_fuzz_policy.sh|libFuzzer + ASan + UBSan + LeakSanitizer over policy_parse and policy_match, 60 s from the seed corpus tests/fuzz/corpus; invariants in tests/fuzz/fuzz_policy.c (every error names file and line)"
"bad files|test_hardening_files.sh|missing cert, missing key, key not matching, unreadable key (as nobody), PEM garbage, broken PEM block after the cert, truncated key, empty ca_file and client_ca, chain in the wrong order: one clear line from --check and from the library, exit 2; world-readable key: a warning"
"bad peers|test_hardening_peers.sh|server side: random bytes, plaintext HTTP, truncated ClientHello (EOF / stall), silent client, good clients during and after; client side in one process: garbage server, TLS 1.0-only, wrong name, expired, self-signed, close mid-record, then a good server; wire checked for plaintext"
"protocol strength|test_testssl.sh|sslscan and testssl.sh against a shimmed server with default settings; shimmed client against CBC-only and TLS 1.1-only servers"
"paths around the shim|test_hardening_bypass.sh|every libc way of sending bytes (tests/hardening/bypass_probe.c) tried on a wrapped connection to a recording peer"
"glibc audit|test_glibc_audit.sh|every glibc export that can move socket bytes must be interposed or reviewed (tests/hardening/reviewed-symbols.txt)"
"faults|test_hardening_faults.sh|EMFILE at accept/handshake (24 descriptors, 30 clients), peer reset mid-stream, client killed mid-transfer, server killed mid-transfer, shimmed curl killed mid-download"
"out of memory|test_hardening_nomem.sh|the shim's read buffer refused (tests/hardening/nomem.c) from the start and after the handshake: ECONNRESET for the program, one log line, the program goes on, no plaintext on the wire"
"load|test_hardening_load.sh|1,000 concurrent TLS connections to a shimmed poll() server, 3 rounds of 1-4 KB echoes on all of them; memory per connection"
"secrets in logs|test_hardening_secrets.sh|debug log of full sessions (client and server role, TLS 1.3 and 1.2) searched for every secret from the peers' key logs and the private keys"
"memcheck|test_valgrind.sh|shimmed server (20 clients, reset, plaintext) and shimmed curl (good + wrong name) under Valgrind memcheck, no suppressions"
"threads|test_helgrind.sh|shimmed threaded client (reader and writer threads on each socket) timed, then under Helgrind; races classified"
)

{
    echo "# Hardening results"
    echo
    echo "Produced by \`tests/hardening/run-all.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'),"
    echo "$(uname -sr), $(nproc) CPUs, library $(sha256sum "${TLSSHIM_LIB:-$root/build/libtlsshim.so}" 2>/dev/null | cut -c1-12)."
    echo "Each row is one automated test under tests/integration/ (run alone with"
    echo "\`ctest -R integration.NAME\` or \`bash tests/integration/SCRIPT\`); full logs"
    echo "in \`$logs\`."
    echo
    echo "| area | what was tried | result | figures and findings |"
    echo "|---|---|---|---|"
} >"$out.tmp"

failed=0
for row in "${tests[@]}"; do
    IFS='|' read -r name script what <<<"$row"
    log=$logs/${script%.sh}.log
    start=$(date +%s)
    bash "$root/tests/integration/$script" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        result="PASS (${secs} s)"
    else
        result="**FAIL** (${secs} s)"
        failed=1
    fi
    # The figures each test logs, and on failure the problems it lists.
    figures=$(grep -E "^test_[a-z_]+: " "$log" | grep -v -E 'files kept|^test_[a-z_]+: ok  ' |
        sed -E 's/^test_[a-z_]+: //' | head -n 6)
    problems=$(grep -E '^  - |^FAIL: ' "$log" | sed -E 's/^  - //; s/^FAIL: test_[a-z_]+: //' | head -n 12)
    cell=$(printf '%s\n%s\n' "$figures" "$problems" | sed '/^$/d' | cut -c1-300 |
        sed 's/|/\\|/g' | paste -sd'\n' | sed 's/\n/<br>/g')
    cell=${cell//$'\n'/<br>}
    printf '| %s (`%s`) | %s | %s | %s |\n' "$name" "$script" "$what" "$result" "$cell" >>"$out.tmp"
    printf '%-24s %s\n' "$name" "$result" >&2
done

if [ -n "$soak" ]; then
    log=$logs/soak.log
    start=$(date +%s)
    bash "$here/soak.sh" "$soak" >"$log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] && result="PASS ($(($(date +%s) - start)) s)" || { result="**FAIL**"; failed=1; }
    cell=$(grep -E '^soak: |^FAIL' "$log" | sed -E 's/^soak: //' | head -n 6 | paste -sd'\n' | sed 's/|/\\|/g')
    cell=${cell//$'\n'/<br>}
    printf '| soak (`soak.sh %s`) | %s minutes of mixed traffic (echo load, threaded client, page fetches, bad and resetting clients) | %s | %s |\n' \
        "$soak" "$soak" "$result" "$cell" >>"$out.tmp"
    printf '%-24s %s\n' soak "$result" >&2
fi
mv "$out.tmp" "$out"
echo "wrote $out" >&2
exit "$failed"
