#!/usr/bin/env python3
"""Measures what request bodies and unread replies cost crowdd in memory
(issue 14, items 3 and 7), the same way before and after a change.

    tools/attacks/memory_attacks.py CROWDD [--users N] [--connections N] [--only NAME ...]

Starts CROWDD --demo N --threads 2 on a free loopback port with a tokens file,
runs each attack against a fresh server and prints one line per attack:
status(es), seconds, VmRSS before / peak / after and VmHWM
(from /proc/PID/status). Attacks:

  unauth-200mb   six unauthenticated 200 MB POST /v1/ingest at once, each
                 sending as fast as the server takes it until it answers
  bodies-50mb    two authenticated 50 MB POST /v1/assign at once (one user,
                 one tag repeated: the index does not grow), then two 50 MB
                 one-line ingests, then 5 s idle
  unread-json    N connections ask for a page of 10^6 IDs and never read
  unread-roaring N connections ask for format=roaring and never read

Each unread attack also times a count on a fresh connection while the
readers stall, and reports the server's queued-reply gauge when it has one.
Only the standard library; stops every server it starts.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

WRITE_TOKEN = "w" * 32
READ_TOKEN = "r" * 32


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def mib(kib):
    return f"{kib / 1024:.0f}"


class Server:
    def __init__(self, crowdd, users, extra):
        self.tokens = tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False)
        self.tokens.write(f"writer write {WRITE_TOKEN}\nreader read,export,admin {READ_TOKEN}\n")
        self.tokens.close()
        args = [crowdd, "--demo", str(users), "--threads", "2", "--host", "127.0.0.1", "--port", "0",
                "--tokens", self.tokens.name, "--time-budget-ms", "60000"] + extra
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r":(\d+)\s*$", line)
        if not m:
            self.stop()
            raise SystemExit(f"crowdd did not start: {line!r}")
        self.port = int(m.group(1))
        self.pid = self.proc.pid

    def rss(self):
        return status_kib(self.pid, "VmRSS")

    def hwm(self):
        return status_kib(self.pid, "VmHWM")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.unlink(self.tokens.name)


class PeakSampler:
    """Samples VmRSS every 20 ms until stopped."""

    def __init__(self, server):
        self.server, self.peak, self.stopped = server, server.rss(), False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped:
            try:
                self.peak = max(self.peak, self.server.rss())
            except OSError:
                return
            time.sleep(0.02)

    def stop(self):
        self.stopped = True
        self.thread.join()
        return self.peak


def request(port, method, target, body=b"", token=None, timeout=120, content_type="application/json"):
    """One request on a fresh connection; returns (status, headers, body)."""
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    if body:
        head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    return status, head.decode(errors="replace"), rest


def metric(port, name):
    _, _, body = request(port, "GET", "/metrics", token=READ_TOKEN)
    m = re.search(rf"^{name} (\d+)", body.decode(), re.M)
    return int(m.group(1)) if m else None


def answered(port, route):
    """Requests of `route` answered so far, any status."""
    _, _, body = request(port, "GET", "/metrics", token=READ_TOKEN)
    return sum(int(n) for n in re.findall(rf'^crowd_requests_total{{route="{re.escape(route)}",[^}}]*}} (\d+)',
                                          body.decode(), re.M))


def big_post(port, size, results, i):
    """Sends a size-byte unauthenticated ingest as fast as the server reads
    it; records the status and how much was sent when the answer came."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(f"POST /v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
              f"Content-Length: {size}\r\n\r\n".encode())
    s.setblocking(False)
    piece = b"x" * (1 << 20)
    sent, reply, start = 0, b"", time.monotonic()
    while time.monotonic() - start < 120:
        try:
            data = s.recv(65536)
            if data:
                reply += data
                if b"\r\n\r\n" in reply:
                    break
            else:
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        if sent < size:
            try:
                sent += s.send(piece[: min(len(piece), size - sent)])
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                # Reset by the server: read what it answered.
                try:
                    s.setblocking(True)
                    s.settimeout(2)
                    reply += s.recv(65536)
                except OSError:
                    pass
                break
        else:
            time.sleep(0.001)
    s.close()
    status = int(reply.split(b" ")[1]) if reply.startswith(b"HTTP/") else 0
    results[i] = (status, sent, time.monotonic() - start)


def in_parallel(fn, n):
    """Runs fn(0) .. fn(n-1) on n threads at once and waits for them all."""
    threads = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def attack_unauth(server, args):
    size = 200 << 20
    sampler = PeakSampler(server)
    before, start = server.rss(), time.monotonic()
    results = [None] * 6
    in_parallel(lambda i: big_post(server.port, size, results, i), 6)
    took = time.monotonic() - start
    time.sleep(1)
    peak = sampler.stop()
    statuses = ",".join(str(r[0]) for r in results)
    sent = max(r[1] for r in results) >> 20
    print(f"unauth-200mb: statuses {statuses}; at most {sent} MiB sent before the answer; {took:.1f} s; "
          f"RSS MiB before {mib(before)} peak {mib(peak)} after {mib(server.rss())}; VmHWM {mib(server.hwm())}")


def assign_body(size):
    entry = b'{"id":1,"tags":["vip"]},'
    n = (size - 20) // len(entry)
    return b'{"add":[' + entry * n + b'{"id":1,"tags":["vip"]}]}'


def one_line_ingest(size):
    tag = b'"vip",'
    n = (size - 40) // len(tag)
    return b'{"id":1,"tags":[' + tag * n + b'"vip"]}\n'


def attack_bodies(server, args):
    size = 50 << 20
    sampler = PeakSampler(server)
    before = server.rss()
    for name, target, body, kind in (("assign", "/v1/assign", assign_body(size), "application/json"),
                                     ("one-line ingest", "/v1/ingest", one_line_ingest(size),
                                      "application/x-ndjson")):
        out = [None, None]
        start = time.monotonic()

        def send(i):
            out[i] = request(server.port, "POST", target, body, token=WRITE_TOKEN, content_type=kind)[0]

        in_parallel(send, 2)
        took = time.monotonic() - start
        time.sleep(5)
        print(f"bodies-50mb {name}: statuses {out[0]},{out[1]}; {took:.1f} s; RSS MiB before {mib(before)} "
              f"after 5 s idle {mib(server.rss())}; VmHWM {mib(server.hwm())}")
    sampler.stop()


def attack_unread(server, args, fmt):
    target = "/v1/ids?q=ALL&limit=1000000" + ("&format=roaring" if fmt == "roaring" else "")
    req = (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {READ_TOKEN}\r\n\r\n").encode()
    sampler = PeakSampler(server)
    before = server.rss()
    sockets, statuses = [], {}
    start = time.monotonic()
    for _ in range(args.connections):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", server.port))
        s.sendall(req)
        sockets.append(s)
    # Wait until the server has answered them all (its request counter),
    # so that the count below does not queue behind them.
    while time.monotonic() - start < 300 and answered(server.port, "/v1/ids") < args.connections:
        time.sleep(0.5)
    time.sleep(1)
    held = server.rss()
    t = time.monotonic()
    count_status = request(server.port, "GET", "/v1/count?q=ALL", token=READ_TOKEN)[0]
    count_ms = (time.monotonic() - t) * 1000
    gauge = metric(server.port, "crowd_queued_reply_bytes")
    # What each unread connection got: its status line (the first bytes).
    for s in sockets:
        s.settimeout(5)
        try:
            line = s.recv(64).split(b" ")
            code = int(line[1]) if len(line) > 1 else 0
        except OSError:
            code = 0
        statuses[code] = statuses.get(code, 0) + 1
        s.close()
    time.sleep(2)
    peak = sampler.stop()
    print(f"unread-{fmt} x{args.connections}: statuses {statuses}; RSS MiB before {mib(before)} while held "
          f"{mib(held)} (+{mib(held - before)}) peak {mib(peak)} after close {mib(server.rss())}; "
          f"count meanwhile {count_status} in {count_ms:.0f} ms; queued-reply gauge "
          f"{'n/a' if gauge is None else f'{gauge / (1 << 20):.0f} MiB'}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("crowdd")
    p.add_argument("--users", type=int, default=1_000_000)
    p.add_argument("--connections", type=int, default=300)
    p.add_argument("--only", nargs="*", default=None)
    p.add_argument("--extra", default="", help="more crowdd flags, space-separated")
    args = p.parse_args()
    attacks = {
        "unauth-200mb": attack_unauth,
        "bodies-50mb": attack_bodies,
        "unread-json": lambda s, a: attack_unread(s, a, "json"),
        "unread-roaring": lambda s, a: attack_unread(s, a, "roaring"),
    }
    for name, fn in attacks.items():
        if args.only and name not in args.only:
            continue
        server = Server(args.crowdd, args.users, args.extra.split())
        try:
            fn(server, args)
        finally:
            server.stop()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
