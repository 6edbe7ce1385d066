#!/usr/bin/env python3
"""Saved-crowd PUT latency as the number of saved crowds grows (issue 14, 8b).

    tools/crowd_put_latency.py [build-dir] [--crowds 29000] [--users 20000] [--data-dir D] [--first K]

Starts crowdd (--demo USERS, a temporary --data-dir, --fsync off so the disk
does not hide CPU cost) and PUTs /v1/crowds/c<k> with the query `vip` on one
keep-alive connection, k = 0..crowds-1. Prints the median and p90 of the 200
PUTs before each checkpoint (1k, 5k, 10k, 20k, 29k crowds): a per-PUT cost
that grows with the number of crowds shows as a rising median. Opt-in and not
a test: the numbers depend on the machine.

To measure a slow build at 29k crowds without waiting for it to save them
all, fill a data directory once with a fast build (--data-dir D, kept), then
run the slow one on a copy of it with --first 29000 --crowds 29200: it PUTs
200 new names on top of the 29k already saved.
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import time
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crowd_tools.server import Server  # noqa: E402


class Conn:
    """One keep-alive connection; put() returns seconds from send to the last byte of a 200 or 201."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def put(self, target: str, body: bytes) -> float:
        head = (f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        t0 = time.perf_counter()
        self.sock.sendall(head + body)
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self.buf += self.sock.recv(1 << 16)
        need = end + 4 + int(re.search(rb"\r\ncontent-length:[ \t]*(\d+)", self.buf[:end], re.I)[1])
        while len(self.buf) < need:
            self.buf += self.sock.recv(1 << 16)
        status = int(self.buf[:end].split(b" ", 2)[1])
        answer, self.buf = self.buf[end + 4:need], self.buf[need:]
        dt = time.perf_counter() - t0
        if status not in (200, 201):
            raise RuntimeError(f"PUT {target}: HTTP {status}: {answer[:300]!r}")
        return dt


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--crowds", type=int, default=29000)
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--query", default="gender:female")
    ap.add_argument("--data-dir", help="keep the data here (default: a temporary directory)")
    ap.add_argument("--first", type=int, default=0, help="the first crowd number to PUT")
    args = ap.parse_args()
    checkpoints = sorted({c for c in (1000, 5000, 10000, 20000, 29000, args.crowds) if args.first < c <= args.crowds})
    with tempfile.TemporaryDirectory(prefix="crowd-put-") as scratch:
        data = args.data_dir or scratch
        server = Server(args.build, ["--demo", str(args.users), "--fsync", "off"], data_dir=data, threads=2)
        server.start()
        try:
            client = Conn(server.port)
            body = ('{"q": "%s"}' % args.query).encode()
            window: list[float] = []
            for k in range(args.first, args.crowds):
                dt = client.put(f"/v1/crowds/c{k}", body)
                window.append(dt)
                window = window[-200:]
                if k + 1 in checkpoints and len(window) >= min(200, args.crowds - args.first):
                    ms = sorted(x * 1000 for x in window)
                    print(f"{k + 1:6d} crowds: PUT median {statistics.median(ms):6.2f} ms, "
                          f"p90 {ms[int(len(ms) * 0.9)]:6.2f} ms", flush=True)
            client.sock.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
