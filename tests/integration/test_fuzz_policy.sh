#!/usr/bin/env bash
#
# test_fuzz_policy.sh - the policy parser and matcher survive a bounded
# libFuzzer run (FUZZ_SECONDS, default 60) under AddressSanitizer, UBSan
# and LeakSanitizer with no crash, no report and no broken invariant
# (tests/fuzz/fuzz_policy.c lists them; one is that every error names the
# file and line).  The run starts from the committed seed corpus
# tests/fuzz/corpus of real and broken policies.
#
. "$(dirname "$0")/lib.sh"

command -v clang >/dev/null || fail "clang is not installed (Debian package clang): the fuzzer cannot be built"

# run.sh keeps its binary, log and any crashing input here ($T is kept when
# the test fails).  The bound leaves room for the build within ctest's
# 120 s.
export FUZZ_WORK=$T/fuzz
RUN_TIMEOUT=105 run fuzz-run "$REPO_ROOT/tests/fuzz/run.sh" "${FUZZ_SECONDS:-60}"
if [ "$RC" -ne 0 ]; then
    show_file "fuzzer" "$T/fuzz-run.err"
    fail "the policy fuzzer found a problem (exit $RC); inputs kept in $T/fuzz/artifacts"
fi
assert_contains "$T/fuzz-run.err" "no crash, leak or sanitizer report"
# It really ran: a run of ~0 executions would prove nothing.
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/fuzz-run.err")
log "$execs inputs executed"
[ "${execs:-0}" -ge 1000 ] || fail "only ${execs:-0} inputs executed"
