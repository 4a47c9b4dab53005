#!/usr/bin/env bash
#
# test_exports.sh - the library exports only interposed libc names and
# links no TLS library.
#
# Every symbol another library or the program could bind to must be a libc
# function the shim stands in for: an exported SSL_read or policy_load would
# capture the program's own references (DESIGN.md section 2, symbol
# clashes).
#
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_shim

# The libc the library itself is linked against.
libc=$(ldd "$TLSSHIM_LIB" /bin/sh | awk '$1 == "libc.so.6" { print $3; exit }')
[ -f "$libc" ] || fail "cannot find libc.so.6 with ldd"

# defined_symbols LIB prints "TYPE NAME" for each symbol LIB defines, the
# version suffix removed.
defined_symbols()
{
    nm -D --defined-only "$1" | awk '
        NF == 3 { sub(/@.*/, "", $3); print $2, $3 }'
}

defined_symbols "$libc" | awk '$1 ~ /^[TWi]$/ { print $2 }' | sort -u \
    >"$T/libc.functions"
defined_symbols "$TLSSHIM_LIB" >"$T/shim.symbols"
show_file "exported by $(basename "$TLSSHIM_LIB")" "$T/shim.symbols"

# Symbols of type A are version nodes from the version script, not code;
# _init and _fini are the linker's.
awk '$1 != "A" && $2 != "_init" && $2 != "_fini"' "$T/shim.symbols" >"$T/shim.exported"
[ -s "$T/shim.exported" ] || fail "the library exports nothing"

# Only functions: no exported data.
awk '$1 !~ /^[TWi]$/' "$T/shim.exported" >"$T/shim.data"
if [ -s "$T/shim.data" ]; then
    show_file "non-function exports" "$T/shim.data"
    fail "the library exports symbols that are not functions"
fi

# BoringSSL's allocator hooks are the one exception (shim/boring.c): its
# weak references to them are looked up in the global scope.
awk '{ print $2 }' "$T/shim.exported" |
    grep -v -x -E 'OPENSSL_memory_(alloc|free|get_size)' |
    sort -u >"$T/shim.functions"

# No internal name, whatever libc has.
grep -E '^(SSL|EVP|BIO|X509|ERR|CRYPTO|OPENSSL|RAND|PEM|d2i|i2d|ASN1|EC|bssl|boring|policy|session|fdtable|tlsctx|names|addr|log|real|readiness|streams|init|launcher)_' \
    "$T/shim.functions" >"$T/shim.internal" || true
if [ -s "$T/shim.internal" ]; then
    show_file "internal names exported" "$T/shim.internal"
    fail "the library exports internal names"
fi

# Everything else must be a libc function.
comm -23 "$T/shim.functions" "$T/libc.functions" >"$T/shim.not-libc"
if [ -s "$T/shim.not-libc" ]; then
    show_file "exports that libc does not have" "$T/shim.not-libc"
    fail "the library exports names that are not libc functions"
fi

# The core of issue 2 is interposed.
for fn in connect accept accept4 read write recv send recvfrom sendto close \
    shutdown __read_chk __recv_chk __recvfrom_chk fdopen fileno \
    fileno_unlocked getaddrinfo gethostbyname gethostbyname_r; do
    grep -qx -e "$fn" "$T/shim.functions" ||
        fail "the library does not export $fn"
done

# BoringSSL is loaded at run time into a private scope, never linked: no
# libssl/libcrypto in DT_NEEDED and no undefined TLS symbol.
readelf -d "$TLSSHIM_LIB" | grep NEEDED >"$T/needed"
if grep -E 'libssl|libcrypto' "$T/needed"; then
    fail "the library is linked against a TLS library"
fi
nm -D --undefined-only "$TLSSHIM_LIB" | awk '{ print $2 }' |
    grep -E '^(SSL|EVP|BIO|X509|ERR|CRYPTO|OPENSSL)_' >"$T/undef-tls" || true
if [ -s "$T/undef-tls" ]; then
    show_file "undefined TLS symbols" "$T/undef-tls"
    fail "the library references TLS functions directly"
fi

log "$(wc -l <"$T/shim.functions") exported functions, all libc names"
