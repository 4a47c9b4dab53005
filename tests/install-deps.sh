#!/usr/bin/env bash
#
# install-deps.sh - install every Debian package that building tlsshim and
# running its tests need.
#
# Idempotent: apt-get runs only when a package is missing.  Works as root
# (as on CI) or through sudo.  Besides the lists below it installs what
# tests/deps/*.txt name, and TLSSHIM_EXTRA_PACKAGES="pkg1 pkg2".
#
set -euo pipefail

# Build: compiler, CMake, BoringSSL's headers and libraries (loaded at run
# time), Criterion for the unit tests.
build_packages=(
    cmake
    gcc
    libc6-dev # also gives libc.a, for the static binary test_check.sh builds
    make
    pkg-config
    android-libboringssl-dev
    libcriterion-dev
)

# Tests: the real programs the integration tests run, the tools that
# generate certificates and record the wire.
test_packages=(
    binutils # nm, readelf
    busybox  # the dynamic build: busybox-static is out of the shim's reach
    ca-certificates
    curl
    gnutls-bin
    iproute2
    openssl
    procps
    python3
    socat
    tcpdump
    util-linux # setsid, flock
    wget
)

# Service tests (FTP, SMTP, LDAP, ...) list what they run in tests/deps/*.txt:
# one package a line, `#` comments.
deps_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/deps
service_packages=()
if [ -d "$deps_dir" ]; then
    while read -r pkg; do
        service_packages+=("$pkg")
    done < <(cat "$deps_dir"/*.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' |
        grep -v '^$' || true)
fi

# shellcheck disable=SC2206 # word splitting of the extra list is intended
packages=("${build_packages[@]}" "${test_packages[@]}"
    "${service_packages[@]}" ${TLSSHIM_EXTRA_PACKAGES:-})

# is_installed PKG succeeds when dpkg knows PKG as installed.
is_installed()
{
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
        grep -q '^install ok installed$'
}

missing=()
for pkg in "${packages[@]}"; do
    if ! is_installed "$pkg"; then
        missing+=("$pkg")
    fi
done

# busybox-static conflicts with busybox and is what a machine may have: apt
# replaces it when busybox is installed.
if is_installed busybox-static && ! is_installed busybox; then
    echo "install-deps: busybox-static will be replaced by busybox" \
        "(LD_PRELOAD cannot reach a static binary)"
fi

# Server packages (vsftpd, slapd, ...) must not start their services when
# they are installed: the tests run their own instances on loopback ports.
# install_policy_rc_d creates /usr/sbin/policy-rc.d (exit 101) if absent.
install_policy_rc_d()
{
    if [ -e /usr/sbin/policy-rc.d ]; then
        return 0
    fi
    printf '#!/bin/sh\n# created by tlsshim tests/install-deps.sh\nexit 101\n' |
        "$@" tee /usr/sbin/policy-rc.d >/dev/null
    "$@" chmod 755 /usr/sbin/policy-rc.d
}

if [ "$(id -u)" -eq 0 ]; then
    install_policy_rc_d
fi

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run this script as root to install them" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

install_policy_rc_d "${as_root[@]}"

echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null

# Check: a package apt silently skipped would otherwise show up later as a
# confusing test failure.
still_missing=()
for pkg in "${missing[@]}"; do
    if ! is_installed "$pkg"; then
        still_missing+=("$pkg")
    fi
done
if [ "${#still_missing[@]}" -ne 0 ]; then
    echo "install-deps: still missing: ${still_missing[*]}" >&2
    exit 1
fi
echo "install-deps: done"
