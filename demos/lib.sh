# shellcheck shell=bash
#
# demos/lib.sh - how every demo starts: source it first, then call
# demo_build, then source tests/integration/lib.sh (background processes,
# the tcpdump recorder, cleanup) at the top level of the demo.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   demo_build [EXTRA-DEBIAN-PACKAGE...]
#   . "$root/tests/integration/lib.sh"
#
# BUILD_DIR chooses the build directory (default build, relative to the
# repository or absolute).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bold='' plain=''
if [ -t 1 ]; then
    bold=$(printf '\033[1m') plain=$(printf '\033[0m')
fi

# say TEXT... prints a step heading.
say()
{
    printf '\n%s== %s%s\n' "$bold" "$*" "$plain"
}

# indent [PREFIX] copies stdin to stdout, each line indented.
indent()
{
    sed "s/^/    ${1:-}/"
}

# demo_build installs what is missing (the project's list plus the given
# packages), builds, and exports TLSSHIM and TLSSHIM_LIB for the test
# helpers.
demo_build()
{
    say "Installing missing packages, building"
    TLSSHIM_EXTRA_PACKAGES="$* ${TLSSHIM_EXTRA_PACKAGES:-}" \
        bash tests/install-deps.sh
    build=${BUILD_DIR:-build}
    case $build in
    /*) ;;
    *) build=$root/$build ;;
    esac
    if [ ! -f "$build/CMakeCache.txt" ]; then
        cmake -S . -B "$build" >/dev/null
    fi
    cmake --build "$build" -j2 >/dev/null
    export TLSSHIM="$build/tlsshim" TLSSHIM_LIB="$build/libtlsshim.so"
}

# demo_first_bytes formats what wire_first prints (source, '>', destination,
# the first five bytes in hex, the length) as an indented table.
demo_first_bytes()
{
    local src gt dst h1 h2 h3 h4 h5 len

    while read -r src gt dst h1 h2 h3 h4 h5 len; do
        printf '    %-22s %s %-22s %s %s %s %s %s  (%s bytes)\n' "$src" "$gt" \
            "$dst" "$h1" "$h2" "$h3" "$h4" "$h5" "$len"
    done
}
