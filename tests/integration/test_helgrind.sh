#!/usr/bin/env bash
#
# test_helgrind.sh - a threaded shimmed program under Valgrind's Helgrind:
# no data race and no lock-order problem in the library.
#
# tests/hardening/thread_client.c runs 4 threads under the library, each
# with its own TLS connection to a shimmed echo server, and on each
# connection one thread blocked in read() while another writes; half end
# with shutdown(SHUT_WR), half with close().
#
# Helgrind does not understand C11 atomics, and BoringSSL initialises its
# globals lazily with its own once/atomic code; both show up as "possible
# data races" that are not.  They are classified, not suppressed blindly:
#   - a race whose first frame is one of the library's documented
#     lock-free atomic accesses (REVIEWED_ATOMICS below: the fd table's
#     chunk pointers and slots, the session state read on the data path)
#     is reviewed and ignored;
#   - a race on an address in BoringSSL's own data segment (its lazily made
#     global tables, once flags, fork generation) is ignored;
#   - a reference-counted object released by two threads (a certificate or
#     buffer that two sessions share): one thread drops its reference
#     (BoringSSL's atomic CRYPTO_refcount_dec_and_test_zero, or the *_free
#     reading the object just before it), the other drops the last one and
#     frees the block.  The atomic decrement orders the two, which Helgrind
#     cannot see; such a pair is ignored only when the earlier access is in
#     a BoringSSL *_free or refcount function and the later one is the
#     freeing write (OPENSSL_memory_free on its stack);
#   - any other race or lock-order report with libtlsshim.so or BoringSSL
#     on a stack fails the test.  In particular a race on heap memory
#     inside BoringSSL (an SSL object used by two threads at once) fails.
# The test also fails if the program takes longer than it should: a
# concurrent handshake must not stall until handshake_timeout.
#
. "$(dirname "$0")/lib.sh"
. "$REPO_ROOT/tests/hardening/common.sh"
need_shim
certs
command -v valgrind >/dev/null || fail "valgrind is not installed (Debian package valgrind)"

REVIEWED_ATOMICS='fdtable_slot|fdtable_get|session_is_open|session_set_state'
client=$(hprog thread_client)
echo_server=$(hprog tls_echo_server)
port=$(free_port)
server_conf echo "$port"
bg server "$TLSSHIM" -p "$T/server.conf" -- "$echo_server" "$port"
wait_port "$port" server
printf '[client echo]\nmatch = 127.0.0.1:%s\nca_file = %s\nserver_name = localhost\nhandshake_timeout = 20\n' \
    "$port" "$CERTS/ca.pem" >"$T/client.conf"

# Without Helgrind first: correctness and timing.  A handshake that two
# threads wait for must not stall until handshake_timeout (20 s here).
start=$(date +%s%N)
RUN_TIMEOUT=60 run plain "$TLSSHIM" -p "$T/client.conf" -- "$client" 127.0.0.1 "$port" 8 200
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_contains "$T/plain.out" "ok 8 200"
log "8 threads x 200 lines: ${ms} ms"
problems=()
[ "$ms" -lt 10000 ] || problems+=("8 threads x 200 echoed lines took ${ms} ms (unshimmed: well under 1 s): a concurrent handshake stalled")

RUN_TIMEOUT=110 run helgrind env TLSSHIM_POLICY="$T/client.conf" LD_PRELOAD="$TLSSHIM_LIB" \
    valgrind --tool=helgrind --num-callers=30 --log-file="$T/helgrind.log" \
    "$client" 127.0.0.1 "$port" 4 50
assert_contains "$T/helgrind.out" "ok 4 50"
grep -q 'ERROR SUMMARY' "$T/helgrind.log" || fail "helgrind did not finish"

# Split the log into reports (each starts with "---Thread-Announcement" or
# "----------------"), and classify each.
shim_sources=$(cd "$REPO_ROOT/shim" && ls ./*.c | sed 's|^\./||; s|\.|\\.|' | paste -sd'|')
"$PY" - "$T/helgrind.log" "$REVIEWED_ATOMICS" "$shim_sources" >"$T/verdict" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
reviewed = re.compile(r"^(%s)$" % sys.argv[2])
lines = [re.sub(r"^==\d+== ?", "", l) for l in text.splitlines()]
reports, cur = [], None
for l in lines:
    if l.startswith("Possible data race") or l.startswith("Thread #") and "lock order" in l \
            or l.startswith("Lock at") or "lock order" in l and "violated" in l:
        cur = [l]
        reports.append(cur)
    elif l.startswith("----------------") or l.startswith("---Thread-Announcement"):
        cur = None
    elif cur is not None:
        cur.append(l)
# Frames of the library show as "(in .../libtlsshim.so)" or, with debug
# information, as "(fdtable.c:37)": sys.argv[3] lists its source files.
ours = re.compile(r"libtlsshim|android/lib(ssl|crypto)|\((%s):\d+\)" % sys.argv[3])
counts = {"reviewed-atomic": 0, "boringssl-global": 0, "refcount-release": 0,
          "not-ours": 0, "FAIL": 0}
release_fn = re.compile(r"^(CRYPTO_refcount_dec_and_test_zero|[A-Za-z0-9_]+_free(_ex)?)$")
for r in reports:
    body = "\n".join(r)
    first = re.search(r"at 0x[0-9A-F]+: (\S+)", body)
    first_fn = first.group(1) if first else "?"
    if not ours.search(body):
        counts["not-ours"] += 1
        continue
    if r[0].startswith("Possible data race"):
        # The first frame of each of the two accesses.
        fns, objs = [], []
        for i, l in enumerate(r):
            if l.startswith("Possible data race") or l.startswith("This conflicts with"):
                for m in r[i + 1:]:
                    f = re.match(r"\s+at 0x[0-9A-F]+: (\S+)(?: \((?:in )?(\S+)\))?", m)
                    if f:
                        fns.append(f.group(1))
                        objs.append(f.group(2) or "")
                        break
        if fns and all(reviewed.match(f) for f in fns):
            counts["reviewed-atomic"] += 1
            continue
        # A reference released by one thread, the block freed by another.
        split = next((i for i, l in enumerate(r) if l.startswith("This conflicts with")), None)
        if split is not None and len(fns) == 2 and "android/lib" in objs[1] \
                and release_fn.match(fns[1]) \
                and "OPENSSL_memory_free" in "\n".join(r[:split]) \
                and "inside a block of size" in body:
            counts["refcount-release"] += 1
            continue
        # BoringSSL's own globals: both accesses inside BoringSSL, on an
        # address that is not a heap block (its data/BSS segment, or the
        # anonymous fork-detection page).
        first_addr = re.search(r"Address 0x[0-9a-f]+ is ([^\n]*)", body)
        where = first_addr.group(1) if first_addr else ""
        if objs and all("android/lib" in o for o in objs) and "inside a block of size" not in where:
            counts["boringssl-global"] += 1
            continue
    counts["FAIL"] += 1
    print("REPORT: " + " | ".join(x.strip() for x in r[:14]))
print("COUNTS " + " ".join("%s=%d" % kv for kv in counts.items()))
PY
log "$(grep '^COUNTS' "$T/verdict")"
while read -r line; do
    problems+=("$line")
done < <({ grep '^REPORT' "$T/verdict" || true; } | head -n 10)
if [ "${#problems[@]}" -ne 0 ]; then
    printf '  - %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s), listed above"
fi
