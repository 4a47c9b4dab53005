#!/usr/bin/env python3
"""events_asyncio_echo.py - a plaintext line echo server and client on
asyncio streams (epoll, non-blocking sockets), for test_asyncio_echo.sh.

    events_asyncio_echo.py server PORT
    events_asyncio_echo.py client PORT CONNECTIONS MESSAGES MARKER

The server echoes every line back.  The client opens CONNECTIONS
connections at once; on each it sends MESSAGES lines one at a time, each
awaited before the next (many small round trips), then a burst of 50 lines
written at once and read back (many records arriving together), and checks
every echo.  Each line carries MARKER, the connection and message number.
It prints "echo ok: C connections, N lines" and exits 0, or says what was
wrong and exits 1.
"""
import asyncio
import sys

BURST = 50


async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def server(port):
    srv = await asyncio.start_server(handle, "127.0.0.1", port, backlog=256)
    async with srv:
        await srv.serve_forever()


async def one_client(port, conn, messages, marker):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    checked = 0
    for m in range(messages):
        line = ("%s conn %d msg %d %s\n" % (marker, conn, m, "x" * (m % 97))).encode()
        writer.write(line)
        await writer.drain()
        echo = await reader.readline()
        if echo != line:
            raise AssertionError("conn %d msg %d: sent %r, echo %r" % (conn, m, line, echo))
        checked += 1
    burst = [("%s conn %d burst %d %s\n" % (marker, conn, b, "y" * (b * 61 % 700))).encode()
             for b in range(BURST)]
    writer.write(b"".join(burst))
    await writer.drain()
    for b, line in enumerate(burst):
        echo = await reader.readline()
        if echo != line:
            raise AssertionError("conn %d burst %d: sent %r, echo %r" % (conn, b, line, echo))
        checked += 1
    writer.close()
    await writer.wait_closed()
    return checked


async def client(port, conns, messages, marker):
    results = await asyncio.gather(
        *(one_client(port, c, messages, marker) for c in range(conns)),
        return_exceptions=True)
    bad = [r for r in results if isinstance(r, BaseException)]
    for r in bad[:5]:
        print("error: %r" % (r,), file=sys.stderr)
    if bad:
        print("%d of %d connections failed" % (len(bad), conns))
        return 1
    print("echo ok: %d connections, %d lines" % (conns, sum(results)))
    return 0


def main():
    if sys.argv[1] == "server":
        asyncio.run(server(int(sys.argv[2])))
    else:
        sys.exit(asyncio.run(client(int(sys.argv[2]), int(sys.argv[3]),
                                    int(sys.argv[4]), sys.argv[5])))


if __name__ == "__main__":
    main()
