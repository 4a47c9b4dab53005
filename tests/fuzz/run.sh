#!/usr/bin/env bash
#
# run.sh [SECONDS] - build the policy fuzzer and run it for SECONDS
# (default 60) over the committed seed corpus.
#
# It exits 0 only if libFuzzer finished its time with no crash, no
# sanitizer report (AddressSanitizer, UndefinedBehaviorSanitizer) and no
# leak (LeakSanitizer), and with no invariant of fuzz_policy.c broken.  On
# a failure it prints the input that caused it; the input is kept in
# $FUZZ_WORK/artifacts so it can be replayed:
#   $FUZZ_WORK/fuzz_policy $FUZZ_WORK/artifacts/crash-...
# and should then be added to tests/fuzz/corpus/.
#
# Environment:
#   FUZZ_WORK  working directory (binary, generated inputs, artifacts);
#              default a new directory under /tmp, removed on success
#   CC         a clang with libFuzzer (default: clang)
#
# Needs: clang (Debian package clang), which ships libFuzzer.
#
set -Eeuo pipefail

seconds=${1:-60}
case $seconds in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${CC:-clang}
keep=1
if [ -z "${FUZZ_WORK:-}" ]; then
    FUZZ_WORK=$(mktemp -d /tmp/tlsshim-fuzz-run.XXXXXX)
    keep=0
fi
mkdir -p "$FUZZ_WORK/generated" "$FUZZ_WORK/artifacts"

# -fno-sanitize-recover: a UBSan finding aborts, so libFuzzer reports it
# like a crash instead of printing it and going on.
"$cc" -g -O1 -std=gnu11 -D_GNU_SOURCE -I"$root/include" \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer \
    "$here/fuzz_policy.c" "$root/shim/policy.c" "$root/shim/addr.c" \
    "$root/shim/names.c" -o "$FUZZ_WORK/fuzz_policy"

echo "fuzz_policy: running for ${seconds} s over $(find "$here/corpus" -type f | wc -l) seed inputs" >&2
# The generated corpus comes first: libFuzzer writes new inputs into the
# first directory, and the committed corpus must stay as it is.
status=0
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    timeout --kill-after=10 $((seconds + 60)) \
    "$FUZZ_WORK/fuzz_policy" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -dict="$here/policy.dict" -print_final_stats=1 \
    -artifact_prefix="$FUZZ_WORK/artifacts/" \
    "$FUZZ_WORK/generated" "$here/corpus" \
    >"$FUZZ_WORK/fuzz.log" 2>&1 || status=$?

grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' \
    "$FUZZ_WORK/fuzz.log" >&2 || true
# A sanitizer can print a report yet let the run end with status 0 (for
# example a leak report with exitcode overridden): look for reports too.
if [ "$status" -ne 0 ] ||
    grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant failed' \
        "$FUZZ_WORK/fuzz.log" ||
    [ -n "$(ls -A "$FUZZ_WORK/artifacts")" ]; then
    echo "fuzz_policy: FAILED (status $status); log: $FUZZ_WORK/fuzz.log" >&2
    grep -E -A30 'ERROR:|runtime error:|invariant failed' "$FUZZ_WORK/fuzz.log" |
        head -60 >&2 || tail -40 "$FUZZ_WORK/fuzz.log" >&2
    for a in "$FUZZ_WORK"/artifacts/*; do
        [ -e "$a" ] || continue
        echo "--- input $a (first 1 KB):" >&2
        head -c 1024 "$a" | cat -v >&2
        echo >&2
    done
    exit 1
fi
echo "fuzz_policy: no crash, leak or sanitizer report in ${seconds} s" >&2
if [ "$keep" -eq 0 ]; then
    rm -rf "$FUZZ_WORK"
fi
