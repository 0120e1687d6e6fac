"""Many remote recordings: `strobe info URL…` over N recordings vs one, on a server that holds
every request LATENCY ms (a far host) and counts what it sees.

    .venv/bin/python bench/listing_rounds.py [--n 60] [--latency-ms 50] [--strobe target/debug/strobe]

The server (asyncio, here, not strobe's own, so the counts are the server's) serves N hard
links of one fixture with single-range 206 answers and counts requests, the most in flight at once, and
rounds: a round starts when a request arrives while none is in flight. Prints a Markdown table
(wall time measured around the process; rounds and requests do not depend on the build).
"""

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Seen:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = self.in_flight = self.max_in_flight = self.rounds = 0

    def enter(self):
        with self.lock:
            if self.in_flight == 0:
                self.rounds += 1
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self):
        with self.lock:
            self.in_flight -= 1


async def serve_connection(root, seen, latency, reader, writer):
    """HTTP/1.1 keep-alive: GET/HEAD of a file under `root`, single ranges answered 206."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
            seen.enter()
            try:
                await asyncio.sleep(latency)
                name = target.lstrip("/")
                path = os.path.join(root, name)
                if "/" in name or not os.path.isfile(path):
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                size = os.path.getsize(path)
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", headers.get("range", ""))
                start, end, status = 0, size - 1, "200 OK"
                extra = ""
                if m:
                    start = int(m.group(1))
                    end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
                    status = "206 Partial Content"
                    extra = f"Content-Range: bytes {start}-{end}/{size}\r\n"
                writer.write(
                    f"HTTP/1.1 {status}\r\nAccept-Ranges: bytes\r\nETag: \"{size}\"\r\n{extra}"
                    f"Content-Length: {end - start + 1}\r\n\r\n".encode()
                )
                if method != "HEAD":
                    with open(path, "rb") as f:
                        f.seek(start)
                        writer.write(f.read(end - start + 1))
                await writer.drain()
            finally:
                seen.leave()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def start_server(root, seen, latency):
    """Serves on a free loopback port from a thread of its own; returns the port."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port = []

    async def main():
        server = await asyncio.start_server(
            lambda r, w: serve_connection(root, seen, latency, r, w), "127.0.0.1", 0
        )
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        await server.serve_forever()

    threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True).start()
    ready.wait()
    return port[0]


def run(strobe, urls, seen):
    seen.reset()
    t0 = time.perf_counter()
    out = subprocess.run([strobe, "info", *urls, "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"strobe info failed: {out.stderr}")
    return wall, seen.requests, seen.rounds, seen.max_in_flight


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--strobe", default=os.path.join(ROOT, "target", "debug", "strobe"))
    ap.add_argument("--fixture", default=os.path.join(ROOT, "tests", "fixtures", "out", "vector.h5"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root:
        for i in range(args.n):
            os.link(args.fixture, os.path.join(root, f"{i}.h5"))
        seen = Seen()
        base = f"http://127.0.0.1:{start_server(root, seen, args.latency_ms / 1000)}/"
        print(f"{os.path.basename(args.fixture)} ×{args.n}, every request held {args.latency_ms:g} ms\n")
        print("| listed | wall s | requests | rounds (server) | most in flight |")
        print("|---|---|---|---|---|")
        for n in (1, 2, args.n):
            wall, req, rounds, most = run(args.strobe, [f"{base}{i}.h5" for i in range(n)], seen)
            print(f"| {n} | {wall:.2f} | {req} | {rounds} | {most} |")


if __name__ == "__main__":
    main()
