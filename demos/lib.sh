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

# demo_files FILE... prints each FILE indented, with a blank line between
# two files.
demo_files()
{
    local file sep=''

    for file in "$@"; do
        printf '%s' "$sep"
        indent <"$file"
        sep=$'\n'
    done
}

# demo_settings FILE... prints, for each FILE, its name and then its lines
# that are neither comments nor blank: the settings of a sample policy
# without its explanations.
demo_settings()
{
    local file

    for file in "$@"; do
        echo "    ${file##*/}:"
        grep -v -E '^[[:space:]]*(#|$)' "$file" | indent '| '
    done
}

# demo_wire_stats PORT... prints, one line a port, how many TCP packets and
# bytes of payload the recording holds on each PORT.
demo_wire_stats()
{
    local port packets bytes

    for port in "$@"; do
        read -r packets bytes < <(wire_stats "$port")
        echo "    port $port: $packets TCP packets, $bytes bytes of payload"
    done
}

# demo_wire_tls PORT... prints the first bytes of each direction of each
# connection on each PORT as a table (demo_first_bytes), then fails unless
# every one of those streams starts with a TLS record (wire_assert_tls).
demo_wire_tls()
{
    local port

    for port in "$@"; do
        wire_first "$port" | demo_first_bytes
    done
    for port in "$@"; do
        wire_assert_tls "$port"
    done
}

# demo_wire_absent NEEDLE... fails if any NEEDLE crossed the wire in the
# clear on any recorded port (wire_assert_absent), and prints a line for
# each one that did not (the first 42 characters of a long one).
demo_wire_absent()
{
    local needle

    for needle in "$@"; do
        wire_assert_absent "$needle"
        printf '    %-44s found in the recording: 0 times\n' "'${needle:0:42}'"
    done
}
