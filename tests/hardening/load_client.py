"""load_client.py - TLS clients (Python's ssl, not shimmed) for the
hardening tests of a shimmed tls_echo_server.  Run with /usr/bin/python3.

  load_client.py load PORT N ROUNDS CA [PAUSE]
      opens N TLS connections (verifying the server with CA) and keeps all
      of them open; prints "connected N"; sleeps PAUSE seconds (default 2:
      the test measures the server's memory then); then ROUNDS times sends
      a random 1-4 KB message on every connection at once and checks the
      echo; prints "echoed BYTES on N connections"; exits 1 on any error.

  load_client.py reset PORT CA
      one connection: handshake, echo one message, then send a partial
      message and reset the TCP connection (SO_LINGER 0).

  load_client.py hold PORT N CA SECONDS
      opens N connections one after another without stopping at failures,
      echoes one message on each, holds them SECONDS, prints
      "ok K failed F" and one line per failure.

  load_client.py bulk PORT CA MEGABYTES
      one connection streaming MEGABYTES of data and reading the echo;
      prints progress lines; used to kill the server mid-transfer.  Exits
      0 only if all the data came back; prints how it ended.
"""
import asyncio
import os
import socket
import ssl
import struct
import sys
import time


def context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    return ctx


async def open_one(port, ctx, sem):
    async with sem:
        return await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                    server_hostname="localhost"), 30)


async def echo(reader, writer, size):
    msg = os.urandom(size)
    writer.write(msg)
    await writer.drain()
    got = await asyncio.wait_for(reader.readexactly(len(msg)), 30)
    if got != msg:
        raise RuntimeError("echo mismatch")
    return len(msg)


async def load(port, n, rounds, ca, pause):
    ctx = context(ca)
    sem = asyncio.Semaphore(50)
    conns = await asyncio.gather(*[open_one(port, ctx, sem) for _ in range(n)])
    print("connected %d" % len(conns), flush=True)
    await asyncio.sleep(pause)
    total = 0
    t0 = time.monotonic()
    for _ in range(rounds):
        sizes = [1024 + int.from_bytes(os.urandom(2), "big") % 3072 for _ in conns]
        done = await asyncio.gather(*[echo(r, w, s) for (r, w), s in zip(conns, sizes)])
        total += sum(done)
    dt = time.monotonic() - t0
    print("echoed %d bytes on %d connections in %.2f s" % (total, len(conns), dt), flush=True)
    await asyncio.sleep(pause)
    for _, w in conns:
        w.close()


def reset(port, ca):
    ctx = context(ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"hello before the reset\n")
    got = s.recv(100)
    print("echo before reset: %r" % got, flush=True)
    s.sendall(b"x" * 5000)
    # wrap_socket took over raw's descriptor: set the option on s.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset sent", flush=True)


def hold(port, n, ca, seconds):
    ctx = context(ca)
    ok, failed, keep = 0, [], []
    for i in range(n):
        try:
            raw = socket.create_connection(("127.0.0.1", port),
                                           timeout=float(os.environ.get("HOLD_TIMEOUT", "5")))
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            s.sendall(b"ping %d\n" % i)
            if not s.recv(100).startswith(b"ping"):
                raise RuntimeError("no echo")
            ok += 1
            keep.append(s)
        except Exception as e:
            failed.append("%d: %s: %s" % (i, type(e).__name__, e))
    print("ok %d failed %d" % (ok, len(failed)), flush=True)
    for f in failed:
        print("  " + f, flush=True)
    time.sleep(seconds)
    for s in keep:
        s.close()


def bulk(port, ca, megabytes):
    ctx = context(ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    chunk = os.urandom(16384)
    want = megabytes * 1024 * 1024
    sent = got = 0
    s.setblocking(False)
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    last = 0
    try:
        while got < want:
            for _, ev in sel.select(10):
                if ev & selectors.EVENT_WRITE and sent < want:
                    try:
                        sent += s.send(chunk)
                    except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                        pass
                if ev & selectors.EVENT_READ:
                    try:
                        b = s.recv(65536)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        continue
                    if not b:
                        print("ended: clean EOF after %d bytes" % got, flush=True)
                        return 2
                    got += len(b)
            if sent >= want:
                sel.modify(s, selectors.EVENT_READ)
            if got - last >= 1024 * 1024:
                last = got
                print("progress %d" % got, flush=True)
    except Exception as e:
        print("ended: %s: %s after %d bytes" % (type(e).__name__, e, got), flush=True)
        return 3
    print("ended: complete, %d bytes" % got, flush=True)
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "load":
        pause = float(sys.argv[6]) if len(sys.argv) > 6 else 2
        asyncio.run(load(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], pause))
    elif cmd == "reset":
        reset(int(sys.argv[2]), sys.argv[3])
    elif cmd == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    elif cmd == "bulk":
        sys.exit(bulk(int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
    else:
        sys.exit(__doc__)
