#!/usr/bin/env python3
"""Issue 14 item 2, reproduced: ORs of thousands of identical prefixes.

For each N given, starts a fresh crowdd (so VmHWM is this run's peak) on the
demo population, sends two POST /v1/count requests for `c* | c* | ...` (N
prefixes) at once, and polls GET /healthz on its own connection every 50 ms
while they run. Prints, per N: each query's status and seconds, the slowest
/healthz answer during them, and the server's peak RSS (VmHWM) before and
after. Everything it starts it stops; every wait is bounded.

Usage: tools/attacks/compile_bomb.py CROWDD [SHAPE ...]  (default: 10000 21845)
  SHAPE is N (N copies of `c*`), lookalike:N (N distinct lookalike() calls,
  allowed, seconds of work: runs to the budget) or groups:N (N copies of
  `(c* AND gender:male)`: 12 is the widest under the 100,000-tag cap).
  e.g. tools/attacks/compile_bomb.py /tmp/crowdd-before; tools/attacks/compile_bomb.py build/crowdd
Environment: CROWD_BOMB_USERS (demo users, default 1000000),
CROWD_BOMB_THREADS (crowdd --threads, default 2).
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

USERS = os.environ.get("CROWD_BOMB_USERS", "1000000")
THREADS = os.environ.get("CROWD_BOMB_THREADS", "2")
QUERY_TIMEOUT_S = 120  # a query's HTTP wait; the server's budget is 10 s
START_TIMEOUT_S = 180


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bomb(shape):
    if shape.startswith("lookalike:"):
        n = int(shape.split(":")[1])
        return " OR ".join(f"lookalike(gender:female, {1000 + i})" for i in range(n))
    if shape.startswith("groups:"):
        return " OR ".join(["(c* AND gender:male)"] * int(shape.split(":")[1]))
    n = int(shape)
    # 64 KiB holds 21,845 "c*|"; "c* | " is the readable spelling when it fits.
    sep = " | " if 5 * n - 3 <= 64 * 1024 else "|"
    return sep.join(["c*"] * n)


def run(crowdd, n):
    port = free_port()
    proc = subprocess.Popen([crowdd, "--demo", USERS, "--port", str(port), "--threads", THREADS],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("crowdd did not start")
            time.sleep(0.5)
        hwm_before = vm_hwm_mib(proc.pid)
        body = json.dumps({"q": bomb(n)})
        results = [None, None]

        def query(i):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=QUERY_TIMEOUT_S)
            t = time.monotonic()
            try:
                c.request("POST", "/v1/count", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                text = r.read().decode(errors="replace")
                results[i] = (r.status, time.monotonic() - t, text[:160])
            except OSError as e:
                results[i] = ("error: " + str(e), time.monotonic() - t, "")

        health = []
        done = threading.Event()

        def poll():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=QUERY_TIMEOUT_S)
            while not done.is_set():
                t = time.monotonic()
                try:
                    c.request("GET", "/healthz")
                    c.getresponse().read()
                    health.append(time.monotonic() - t)
                except OSError:
                    health.append(float("inf"))
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=QUERY_TIMEOUT_S)
                done.wait(0.05)

        queries = [threading.Thread(target=query, args=(i,)) for i in range(2)]
        poller = threading.Thread(target=poll)
        for q in queries:
            q.start()
        time.sleep(0.05)  # the queries' connections first, as in the probe
        poller.start()
        for q in queries:
            q.join()
        done.set()
        poller.join()
        print(f"shape={n} query_bytes={len(bomb(n))} threads={THREADS} users={USERS}")
        for i, (status, secs, text) in enumerate(results):
            print(f"  query {i}: status {status} in {secs:.2f} s  {text}")
        print(f"  /healthz during: {len(health)} answers, slowest {max(health) * 1000:.0f} ms")
        print(f"  VmHWM: {hwm_before:.0f} MiB before, {vm_hwm_mib(proc.pid):.0f} MiB after")
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sizes = sys.argv[2:] or ["10000", "21845"]
    for n in sizes:
        run(sys.argv[1], n)


if __name__ == "__main__":
    main()
