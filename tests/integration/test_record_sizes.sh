#!/usr/bin/env bash
#
# test_record_sizes.sh - the shim's receive path across record sizes and
# the ways they arrive.
#
# The shim receives small records with a read-ahead and large ones exactly
# as BoringSSL asks, taking the next record's header in the same call when
# it is there (shim/session.c).  helpers/records_peer.py, a real TLS server
# (Python's ssl, i.e. OpenSSL), sends a fixed plan of records that switches
# between full-size and small records many times, with records sent one by
# one, several in one segment, and cut inside the header and the body.  A
# plaintext Python client under tlsshim reads it all with read sizes that
# rotate from 1 byte to 100 KB, and must get exactly the peer's stream
# (length and SHA-256), end with the peer's close_notify (a read of 0),
# and never see the connection fail.  The wire carries TLS only.
#
. "$(dirname "$0")/lib.sh"
need_shim
certs

P=$(free_port)
client_conf records "$P"

wire_start "$P"
bg peer "$PY" "$TESTS_DIR/helpers/records_peer.py" "$P" \
    "$CERTS/server.pem" "$CERTS/server.key" "$T/expected"
wait_port "$P" peer

cat >"$T/reader.py" <<'PY'
import hashlib, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
h = hashlib.sha256()
total = 0
sizes = [1, 7, 5, 4096, 100000, 16384, 3, 65536, 16383, 2]
i = 0
while True:
    chunk = s.recv(sizes[i % len(sizes)])
    i += 1
    if not chunk:
        break
    h.update(chunk)
    total += len(chunk)
print(total, h.hexdigest())
print("reads", i, file=sys.stderr)
PY
RUN_TIMEOUT=60 run reader "$TLSSHIM" -p "$T/client.conf" -l info -- \
    "$PY" "$T/reader.py" "$P"
assert_rc 0 reader
wait "$(bg_pid peer)" || fail "the peer failed: $(tail -n 5 "$T/peer.err")"
wire_stop

[ -s "$T/expected" ] || fail "the peer wrote no expected sum"
assert_eq "$(cat "$T/expected")" "$(cat "$T/reader.out")" \
    "what the shimmed reader got (length and SHA-256)"
assert_contains "$T/reader.err" "connect 127.0.0.1:$P"
assert_not_contains "$T/reader.err" "error"

# The plaintext never crossed in the clear (the stream's first 64
# characters), and the wire is TLS from the first byte.
head=$("$PY" -c 'import hashlib; print(hashlib.sha256(b"records-0").hexdigest())')
wire_assert_absent "$head" "$P"
wire_assert_tls "$P"
