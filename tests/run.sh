#!/usr/bin/env bash
#
# run.sh - the test command: install what is missing, build, run every test.
#
#   bash tests/run.sh [CTEST-ARGS...]
#
# BUILD_DIR chooses the build directory (default build).  CTEST_PARALLEL_LEVEL
# is honoured by ctest itself.  The exit status is ctest's.
#
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash tests/install-deps.sh

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DTLSSHIM_SANITIZE=ON
cmake --build "$build" -j2

status=0
ctest --test-dir "$build" --output-on-failure "$@" </dev/null || status=$?
exit "$status"
