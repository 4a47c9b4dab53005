#!/usr/bin/env bash
#
# test_glibc_audit.sh - no libc entry point that can move bytes on a socket
# is left outside the shim without a reason.
#
# It lists the functions the system's glibc exports (nm -D), keeps those
# that can read or write a descriptor's data (the read/write/recv/send
# families with their aliases and fortified forms, the *mmsg calls,
# positional I/O, splice/tee/vmsplice/sendfile/copy_file_range, syscall(),
# dprintf, POSIX aio and the stdio entry points that make a stream from a
# descriptor), and fails for each one that libtlsshim.so neither exports
# (interposes) nor lists in tests/hardening/reviewed-symbols.txt with a
# reason.  It also fails for a reviewed name glibc no longer exports (the
# list must stay true) and for a reviewed name the library now interposes
# (then the review is moot and the line should go).
#
. "$(dirname "$0")/lib.sh"
need_shim

reviewed=$REPO_ROOT/tests/hardening/reviewed-symbols.txt
libc=$("$PY" -c 'import ctypes.util, os; print(os.path.realpath("/lib/x86_64-linux-gnu/" + ctypes.util.find_library("c")))')
[ -f "$libc" ] || fail "cannot find libc.so.6 ($libc)"

# Every function glibc exports, without version suffixes.
nm -D --defined-only "$libc" | awk '$2 ~ /^[TtWiI]$/ { sub(/@.*/, "", $3); print $3 }' |
    sort -u >"$T/libc-functions"
# What the shim exports (its interposed names).
nm -D --defined-only "$TLSSHIM_LIB" | awk '$2 ~ /^[TtWiI]$/ { sub(/@.*/, "", $3); print $3 }' |
    sort -u >"$T/shim-exports"

# The names that can move bytes on a socket.  Built by family so that a
# future glibc alias (another __x_chk, an *64 variant) falls in by itself.
io='read|readv|write|writev|recv|recvfrom|recvmsg|recvmmsg|send|sendto|sendmsg|sendmmsg'
pos='pread|pread64|preadv|preadv64|preadv2|preadv64v2|pwrite|pwrite64|pwritev|pwritev64|pwritev2|pwritev64v2'
grep -E -x \
    -e "(__)?(libc_)?($io|$pos)(_chk|_nocancel)?" \
    -e '(sendfile|sendfile64|splice|tee|vmsplice|copy_file_range|syscall)' \
    -e '(__)?v?dprintf(_chk)?' \
    -e '(aio_read|aio_write|aio_read64|aio_write64|lio_listio|lio_listio64)' \
    -e '(_IO_)?fdopen' \
    -e 'process_vm_(readv|writev)' \
    "$T/libc-functions" >"$T/candidates"
log "$(wc -l <"$T/candidates") glibc functions can move bytes on a descriptor"

# The pattern must keep catching the obvious ones, or the audit would pass
# by finding nothing.
for must in read write recv send sendmsg recvmsg sendmmsg recvmmsg \
    syscall splice sendfile dprintf; do
    grep -q -x -F "$must" "$T/candidates" ||
        fail "the audit's pattern no longer finds '$must' in $libc"
done

# The reviewed list: NAME REASON; a line without a reason is an error.
problems=()
declare -A why
while read -r name reason; do
    case $name in '' | '#'*) continue ;; esac
    if [ -z "$reason" ]; then
        problems+=("reviewed-symbols.txt: '$name' has no reason")
    fi
    why[$name]=$reason
done <"$reviewed"

interposed=0 listed=0
while read -r name; do
    if grep -q -x -F "$name" "$T/shim-exports"; then
        interposed=$((interposed + 1))
        if [ -n "${why[$name]+x}" ]; then
            problems+=("$name is interposed now: remove it from reviewed-symbols.txt")
        fi
    elif [ -n "${why[$name]+x}" ]; then
        listed=$((listed + 1))
    else
        problems+=("$name: exported by glibc, can move socket bytes, neither interposed by libtlsshim.so nor reviewed")
    fi
done <"$T/candidates"
for name in "${!why[@]}"; do
    grep -q -x -F "$name" "$T/libc-functions" ||
        problems+=("reviewed-symbols.txt names '$name', which glibc does not export")
done

log "interposed: $interposed, reviewed as harmless: $listed"
if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
