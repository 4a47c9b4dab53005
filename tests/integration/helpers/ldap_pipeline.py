#!/usr/bin/python3
"""ldap_pipeline.py HOST PORT CAFILE BASE N - N LDAP searches in one write.

Opens one LDAPS connection (verified against CAFILE), writes N subtree
search requests for (objectClass=*) under BASE at once, without waiting for
any answer, and reads until every one of them has its SearchResultDone.
Prints "N searches, M entries" and exits 0, or explains and exits 1.

This is the pattern that catches a server-side event loop that stalls with
requests already decrypted but not yet read: the N requests arrive in one
TLS record, slapd's epoll sees the socket readable once, and every request
after the first must come out of the TLS buffer, not the socket.
"""
import socket
import ssl
import sys


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    elif n < 0x100:
        head = bytes([0x81, n])
    else:
        head = bytes([0x82, n >> 8, n & 0xFF])
    return bytes([tag]) + head + body


def integer(value, tag=0x02):
    return tlv(tag, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big"))


def search_request(msgid, base):
    body = (tlv(0x04, base.encode())        # baseObject
            + integer(2, 0x0A)              # scope: wholeSubtree
            + integer(0, 0x0A)              # derefAliases: never
            + integer(0) + integer(0)       # sizeLimit, timeLimit
            + tlv(0x01, b"\x00")            # typesOnly: false
            + tlv(0x87, b"objectClass")     # filter: present
            + tlv(0x30, b""))               # attributes: all
    return tlv(0x30, integer(msgid) + tlv(0x63, body))


def messages(buf):
    """Splits complete LDAPMessages off buf: yields (msgid, op tag, rest)."""
    while len(buf) >= 2:
        length, head = buf[1], 2
        if length & 0x80:
            k = length & 0x7F
            length, head = int.from_bytes(buf[2:2 + k], "big"), 2 + k
        if len(buf) < head + length:
            break
        msg, buf = buf[head:head + length], buf[head + length:]
        idlen = msg[1]
        yield int.from_bytes(msg[2:2 + idlen], "big"), msg[2 + idlen], buf


def main():
    host, port, cafile, base, n = sys.argv[1:6]
    port, n = int(port), int(n)
    ctx = ssl.create_default_context(cafile=cafile)
    sock = ctx.wrap_socket(socket.create_connection((host, port), timeout=10),
                           server_hostname=host)
    sock.settimeout(10)
    sock.sendall(b"".join(search_request(i + 1, base) for i in range(n)))
    buf, done, entries = b"", set(), 0
    try:
        while len(done) < n:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
            for msgid, op, rest in messages(buf):
                buf = rest
                if op == 0x64:          # SearchResultEntry
                    entries += 1
                elif op == 0x65:        # SearchResultDone
                    done.add(msgid)
    except socket.timeout:
        print("timed out after 10 s with %d of %d searches answered"
              % (len(done), n))
        return 1
    if len(done) != n:
        print("connection closed with %d of %d searches answered"
              % (len(done), n))
        return 1
    print("%d searches, %d entries" % (n, entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
