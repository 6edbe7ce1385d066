#!/usr/bin/env python3
"""The capacity report: how much machine crowd needs for how many users.

For each user count it starts a real crowdd on the synthetic demo population,
measures it, and writes docs/capacity.md with tables, gnuplot PNGs
(docs/capacity/*.png), the raw measurements (docs/capacity/raw.json) and a
"Sizing a machine" section computed from this run:

  memory       RSS (VmRSS, VmHWM) and crowd_bitmap_bytes, per user, per tag,
               per (user, tag) assignment
  persistence  start-up with --demo (generate + bulk build + first snapshot),
               snapshot size, POST /v1/admin/snapshot time, restart on the
               same data directory (snapshot load), RSS after the restore
  latency      /v1/count p50/p99 (server took_us and client round trip) for
               the queries of bench/measure_counts.py and for queries of
               1..30 terms (AND chains, OR of city tags), one keep-alive
               connection
  throughput   crowd-bench at 1..32 connections per mix, with the server's
               CPU time per request
  ingest       POST /v1/ingest of crowd-gen NDJSON into a fresh server
  export       GET /v1/ids format=csv and format=roaring, first page of
               POST /v1/ids

It checks what can be checked independently and exits 1 when something is
wrong (the report is still written, with the failed checks listed): every
request answered 200 and every crowd-bench request 2xx, the restored server has
the same users, tags and query counts as before its restart, the CSV export
has exactly /v1/count lines (distinct IDs, for crowds up to 2M), the Roaring
export has /v1/count members, ingest set every pair crowd-gen wrote.

  bench/run-capacity-report.sh BUILD_DIR            # the documented command
  capacity_report.py --build DIR [--users 1000000,10000000] [--out DIR] [--quick]

A user count is refused (and the report says so) when its estimated peak
memory exceeds MemAvailable or its snapshots exceed the free disk; estimates
come from the largest population measured earlier in the same run, so list
100000000 after 10000000. Python 3.11 standard library only.
"""
from __future__ import annotations

import argparse
import ctypes
import datetime
import http.client
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MIB = 1 << 20
GIB = 1 << 30

# Fallbacks for the memory/disk guard when no population of at least 1M users
# was measured earlier in the run (deliberately pessimistic; docs/operations.md
# measured ~104 B/user RSS and ~69 B/user of snapshot at 10M).
FALLBACK_PEAK_BYTES_PER_USER = 250
FALLBACK_SNAPSHOT_BYTES_PER_USER = 100

# ---------------------------------------------------------------- utilities

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[capacity {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


class RunError(Exception):
    """Something that makes the measurements meaningless: abort the run."""


class Checks:
    """Independent facts the run verifies; any failure makes the exit status 1."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.items.append({"check": name, "ok": bool(ok), "detail": detail})
        if not ok:
            log(f"CHECK FAILED: {name}: {detail}")
        return bool(ok)

    def failed(self) -> list[dict]:
        return [c for c in self.items if not c["ok"]]


def summarize(xs: list[float]) -> dict:
    """Nearest-rank percentiles."""
    s = sorted(xs)
    n = len(s)

    def pct(p: float) -> float:
        return s[max(0, math.ceil(p / 100 * n) - 1)]

    return {"n": n, "p50": pct(50), "p90": pct(90), "p99": pct(99), "max": s[-1], "mean": sum(s) / n}


def load_measure_counts():
    sys.dont_write_bytecode = True  # no bench/__pycache__
    spec = importlib.util.spec_from_file_location("measure_counts", os.path.join(HERE, "measure_counts.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_proc_kv(path: str) -> dict[str, str]:
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


def mem_available() -> int:
    return int(read_proc_kv("/proc/meminfo")["MemAvailable"].split()[0]) * 1024


def dir_files(path: str) -> dict[str, int]:
    return {e.name: e.stat().st_size for e in os.scandir(path) if e.is_file()}


def ulabel(n: int) -> str:
    for scale, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= scale and n % (scale // 10) == 0:
            v = n / scale
            return f"{v:g}{suffix}"
    return str(n)


def quote_tag(tag: str) -> str:
    """A tag as query text: bare when the grammar allows it, else quoted."""
    special = set('()"&|!*,@<>=')
    if (tag.upper() in ("AND", "OR", "NOT", "ALL", "BETWEEN") or any(c in special or c.isspace() for c in tag)
            or not tag):
        return '"' + tag.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return tag


def count_terms(q: str) -> int:
    return len([w for w in re.split(r"[\s()]+", q) if w and w.upper() not in ("AND", "OR", "NOT", "&", "|", "!")])


# ------------------------------------------------------------ Roaring format

_COOKIE_NO_RUN = 12346
_COOKIE = 12347


def _roaring32(buf: bytes, pos: int) -> tuple[int, int]:
    """Cardinality and end offset of a 32-bit portable Roaring bitmap at pos."""
    (cookie,) = struct.unpack_from("<I", buf, pos)
    pos += 4
    if cookie & 0xFFFF == _COOKIE:
        size = (cookie >> 16) + 1
        runs = buf[pos:pos + (size + 7) // 8]
        pos += (size + 7) // 8
    elif cookie == _COOKIE_NO_RUN:
        (size,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        runs = None
    else:
        raise ValueError(f"not a portable Roaring bitmap (cookie {cookie:#x} at {pos - 4})")
    keycards = struct.unpack_from(f"<{2 * size}H", buf, pos)
    pos += 4 * size
    if runs is None or size >= 4:  # offset header
        pos += 4 * size
    total = 0
    for i in range(size):
        card = keycards[2 * i + 1] + 1
        total += card
        if runs is not None and runs[i // 8] >> (i % 8) & 1:
            (nruns,) = struct.unpack_from("<H", buf, pos)
            pos += 2 + 4 * nruns
        elif card > 4096:
            pos += 8192
        else:
            pos += 2 * card
    if pos > len(buf):
        raise ValueError("truncated portable Roaring bitmap")
    return total, pos


def roaring_cardinality(buf: bytes) -> tuple[int, str]:
    """Cardinality of a 32-bit or 64-bit portable Roaring bitmap; the whole buffer must be consumed."""
    try:
        card, end = _roaring32(buf, 0)
        if end == len(buf):
            return card, "32-bit"
    except (ValueError, struct.error):
        pass
    (buckets,) = struct.unpack_from("<Q", buf, 0)
    pos, total = 8, 0
    for _ in range(buckets):
        pos += 4  # high 32 bits
        card, pos = _roaring32(buf, pos)
        total += card
    if pos != len(buf):
        raise ValueError(f"64-bit portable Roaring: {len(buf) - pos} bytes left over")
    return total, "64-bit"


# ------------------------------------------------------------------ servers

_LIVE: set["Server"] = set()
try:
    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: a crowdd never outlives this script, even on SIGKILL.
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)


class Server:
    """One crowdd process on a free port; stdout is watched for the listening line."""

    def __init__(self, build: str, name: str, data_dir: str, extra: list[str], threads: int, logdir: str):
        self.name = name
        self.argv = [os.path.join(build, "crowdd"), "--host", "127.0.0.1", "--port", "0", "--threads",
                     str(threads), "--data-dir", data_dir] + extra
        self.log_path = os.path.join(logdir, f"{name}.stderr")
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._listening = threading.Event()
        self._listen_t = 0.0

    def _drain(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            m = re.search(rb"crowdd listening on http://[^\s]*:(\d+)", line)
            if m and not self._listening.is_set():
                self._listen_t = time.perf_counter()
                self.port = int(m.group(1))
                self._listening.set()

    def start(self, timeout: float) -> float:
        """Starts crowdd; returns seconds from exec to the listening line."""
        self._log = open(self.log_path, "wb")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log,
                                     preexec_fn=_die_with_parent)
        _LIVE.add(self)
        threading.Thread(target=self._drain, daemon=True).start()
        while not self._listening.wait(0.02):
            if self.proc.poll() is not None:
                raise RunError(f"{self.name}: crowdd exited with {self.proc.returncode} before listening:\n"
                               f"{self.stderr()[-2000:]}")
            if time.perf_counter() - t0 > timeout:
                raise RunError(f"{self.name}: crowdd not listening after {timeout:.0f} s")
        return self._listen_t - t0

    def stderr(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def memory(self) -> dict:
        st = read_proc_kv(f"/proc/{self.proc.pid}/status")
        kb = lambda k: int(st[k].split()[0]) * 1024 if k in st else None  # noqa: E731
        return {"rss": kb("VmRSS"), "hwm": kb("VmHWM"), "rss_anon": kb("RssAnon"), "rss_file": kb("RssFile")}

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 120) -> tuple[int, float]:
        """SIGTERM and wait (SIGKILL after timeout); returns (exit status, seconds)."""
        if self.proc is None:
            return 0, 0.0
        t0 = time.perf_counter()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: no exit {timeout:.0f} s after SIGTERM, killing it")
                self.proc.kill()
                self.proc.wait()
        _LIVE.discard(self)
        self._log.close()
        return self.proc.returncode, time.perf_counter() - t0


def stop_all() -> None:
    for s in list(_LIVE):
        try:
            s.stop(30)
        except Exception as e:  # noqa: BLE001 — cleanup must go on
            log(f"stopping {s.name}: {e}")


# ------------------------------------------------------------------- HTTP

class Client:
    """One keep-alive connection; any answer but the expected status aborts the run."""

    def __init__(self, port: int, timeout: float = 900):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             expect: int = 200) -> tuple[http.client.HTTPResponse, bytes, float]:
        for attempt in (1, 2):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closes keep-alive connections idle for --read-timeout
                # (30 s); this one may have sat through a long measurement.
                self.conn.close()
                if attempt == 2 or method != "GET":
                    raise
        dt = time.perf_counter() - t0
        if resp.status != expect:
            raise RunError(f"{method} {path[:200]}: HTTP {resp.status} (wanted {expect}): {data[:500]!r}")
        return resp, data, dt

    def json(self, method: str, path: str, obj=None) -> tuple[dict, float]:
        body = json.dumps(obj).encode() if obj is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        _, data, dt = self.call(method, path, body, headers)
        return json.loads(data), dt

    def count(self, q: str) -> tuple[dict, float]:
        return self.json("GET", "/v1/count?q=" + urllib.parse.quote(q, safe=""))

    def metrics(self) -> dict:
        _, data, _ = self.call("GET", "/metrics")
        out: dict = {"requests": 0}
        for line in data.decode().splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            if name.startswith("crowd_requests_total{") and 'route="/metrics"' not in name:
                out["requests"] += int(float(value))
            elif "{" not in name:
                out[name] = int(float(value))
        return out

    def close(self) -> None:
        self.conn.close()


class RawHttp:
    """Bare keep-alive HTTP/1.1 requests for the latency loops. http.client
    parses every response header through the email package, ~100 µs a request
    here, which would swamp the round trip being measured."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=900)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _recv(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise RunError("the server closed the connection")
        self.buf += data

    def get(self, path: str) -> tuple[bytes, float]:
        return self.request("GET", path)

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[bytes, float]:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        t0 = time.perf_counter()
        self.sock.sendall(head.encode() + b"\r\n" + body)
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._recv()
        head = self.buf[:end]
        m = re.search(rb"\r\ncontent-length:[ \t]*(\d+)", head, re.I)
        if not m:
            raise RunError(f"{method} {path[:200]}: no Content-Length in {head[:300]!r}")
        need = end + 4 + int(m[1])
        while len(self.buf) < need:
            self._recv()
        body, self.buf = self.buf[end + 4:need], self.buf[need:]
        dt = time.perf_counter() - t0
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise RunError(f"{method} {path[:200]}: HTTP {status}: {body[:500]!r}")
        return body, dt

    def close(self) -> None:
        self.sock.close()


# ------------------------------------------------------------ measurements

def measure_query(client: RawHttp, q: str, samples: int, budget_s: float, min_samples: int) -> dict:
    path = "/v1/count?q=" + urllib.parse.quote(q, safe="")
    for _ in range(3):  # warm-up, unrecorded
        client.get(path)
    took, rtt = [], []
    count = None
    deadline = time.perf_counter() + budget_s
    for i in range(samples):
        data, dt = client.get(path)
        body = json.loads(data)
        took.append(body["took_us"])
        rtt.append(dt * 1e6)
        count = body["count"]
        if i + 1 >= min_samples and time.perf_counter() > deadline:
            break
    return {"q": q, "terms": count_terms(q), "count": count, "took_us": summarize(took), "rtt_us": summarize(rtt)}


def width_families(client: Client, widths: list[int]) -> dict[str, list[str]]:
    """Queries of k terms built from the server's own tags (densest first)."""
    def tags(prefix: str) -> list[str]:
        body, _ = client.json("GET", "/v1/tags?prefix=" + urllib.parse.quote(prefix, safe="") + "&limit=100000")
        return [t["tag"] for t in sorted(body["tags"], key=lambda t: (-t["count"], t["tag"])) if t["count"] > 0]

    cities = tags("city:")
    members = tags("member:")
    have = set(tags(""))
    positives = [t for t in ("gender:female", "age:25-29", "power:high", "tier:1") if t in have]
    chain = [quote_tag(t) for t in positives] + ["NOT " + quote_tag(m) for m in members]
    return {
        "and_chain": [" AND ".join(chain[:k]) for k in widths if k <= len(chain)],
        "or_cities": [" OR ".join(quote_tag(c) for c in cities[:k]) for k in widths if k <= len(cities)],
    }


FAMILY_TITLES = {
    "and_chain": "AND chain: gender:female AND age:25-29 AND power:high AND tier:1, then AND NOT member:… "
                 "(densest brands first)",
    "or_cities": "OR of the k largest city:… tags (one city a user: a wide union)",
}


def export_csv(port: int, q: str, verify_ids: bool) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    t0 = time.perf_counter()
    conn.request("GET", "/v1/ids?q=" + urllib.parse.quote(q, safe="") + "&format=csv")
    resp = conn.getresponse()
    t_head = time.perf_counter()
    if resp.status != 200:
        raise RunError(f"CSV export of {q}: HTTP {resp.status}: {resp.read()[:300]!r}")
    header_count = resp.getheader("X-Crowd-Count")
    lines = nbytes = 0
    ids: set[int] | None = set() if verify_ids else None
    bad = 0
    tail = b""
    while True:
        chunk = resp.read(1 << 20)
        if not chunk:
            break
        nbytes += len(chunk)
        lines += chunk.count(b"\n")
        if ids is not None:
            buf = tail + chunk
            cut = buf.rfind(b"\n") + 1
            for tok in buf[:cut].split():
                if tok.isdigit() and int(tok) < 1 << 64:
                    ids.add(int(tok))
                else:
                    bad += 1
            tail = buf[cut:]
        last = chunk[-1:]
    total = time.perf_counter() - t0
    conn.close()
    out = {"q": q, "lines": lines, "bytes": nbytes, "seconds": total, "header_s": t_head - t0,
           "ids_per_s": lines / total if total > 0 else None, "mb_per_s": nbytes / MIB / total if total > 0 else None,
           "x_crowd_count": int(header_count) if header_count else None,
           "ends_with_newline": nbytes == 0 or last == b"\n"}
    if ids is not None:
        out["distinct_ids"] = len(ids)
        out["bad_lines"] = bad + (1 if tail.strip() else 0)
    return out


def export_roaring(client: Client, q: str) -> dict:
    resp, data, dt = client.call("GET", "/v1/ids?q=" + urllib.parse.quote(q, safe="") + "&format=roaring")
    try:
        card, kind = roaring_cardinality(data)
        err = None
    except (ValueError, struct.error) as e:
        card, kind, err = None, None, str(e)
    return {"q": q, "bytes": len(data), "seconds": dt, "cardinality": card, "format": kind, "parse_error": err,
            "ids_per_s": card / dt if card and dt > 0 else None,
            "x_crowd_count": int(resp.getheader("X-Crowd-Count") or -1)}


def first_page(port: int, q: str, samples: int, budget_s: float) -> dict:
    raw = RawHttp(port)
    req = json.dumps({"q": q, "limit": 1000}).encode()
    took, rtt = [], []
    n_ids = None
    for _ in range(3):  # warm-up, unrecorded
        raw.request("POST", "/v1/ids", req)
    deadline = time.perf_counter() + budget_s
    for i in range(samples):
        data, dt = raw.request("POST", "/v1/ids", req)
        body = json.loads(data)
        took.append(body["took_us"])
        rtt.append(dt * 1e6)
        n_ids = len(body["ids"])
        if i + 1 >= 5 and time.perf_counter() > deadline:
            break
    raw.close()
    return {"q": q, "limit": 1000, "ids": n_ids, "took_us": summarize(took), "rtt_us": summarize(rtt)}


def resolve_mix(name: str, tmp: str, typical: list[tuple[str, str]]) -> tuple[str, str]:
    """bench/mixes/NAME.mix, or a stand-in written to tmp (noted in the report)."""
    path = os.path.join(HERE, "mixes", f"{name}.mix")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            entries = [ln.split(None, 2) for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
        kinds = sorted({e[1] for e in entries if len(e) > 1})
        return path, f"bench/mixes/{name}.mix ({len(entries)} weighted entries; kinds: {', '.join(kinds)})"
    stand_in = os.path.join(tmp, f"{name}.mix")
    if name == "typical":
        lines = [f"1 count {q}" for _, q in typical]
    elif name == "cheap":
        lines = ["1 count gender:female", "1 count gender:female AND age:25-29",
                 "1 count member:brand_x AND aipl:brand_x:L"]
    else:
        raise RunError(f"no bench/mixes/{name}.mix")
    with open(stand_in, "w") as f:
        f.write("# written by capacity_report.py: bench/mixes/%s.mix was missing\n" % name)
        f.write("\n".join(lines) + "\n")
    return stand_in, f"stand-in for {name}.mix ({len(lines)} count queries, equal weights)"


def run_throughput(args, server: Server, client: Client, mixes: list[tuple[str, str, str]], tmp: str,
                   checks: Checks, label: str) -> dict:
    bench = os.path.join(args.build, "crowd-bench")
    if not os.access(bench, os.X_OK):
        note = f"skipped: {bench} does not exist (build the crowd-bench target)"
        log(f"throughput {note}")
        return {"available": False, "note": note, "runs": []}
    runs = []
    for mix_name, mix_path, mix_note in mixes:
        for c in args.connections:
            threads = min(args.bench_threads, c)
            out = os.path.join(tmp, f"bench-{label}-{mix_name}-{c}.json")
            argv = [bench, "--url", f"http://127.0.0.1:{server.port}", "--mix", mix_path, "--connections", str(c),
                    "--threads", str(threads), "--duration", str(args.bench_duration), "--warmup",
                    str(args.bench_warmup), "--json", out]
            m0 = client.metrics()
            cpu0, w0 = server.cpu_seconds(), time.perf_counter()
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=args.bench_duration + args.bench_warmup + 120)
            cpu1, w1 = server.cpu_seconds(), time.perf_counter()
            m1 = client.metrics()
            if p.returncode != 0 or not os.path.exists(out):
                checks.check(f"crowd-bench {label} {mix_name} c={c} ran", False,
                             f"exit {p.returncode}: {p.stderr.strip()[-500:]}")
                continue
            with open(out) as f:
                j = json.load(f)
            served = m1["requests"] - m0["requests"]  # /metrics itself is not counted
            cpu = cpu1 - cpu0
            run = {"mix": mix_name, "connections": c, "threads": threads, "requests": j.get("requests"),
                   "errors": j.get("errors"), "status": j.get("status"), "duration_s": j.get("duration_s"),
                   "throughput_rps": j.get("throughput_rps"), "latency_us": j.get("latency_us"),
                   "server_cpu_s": cpu, "wall_s": w1 - w0, "server_requests": served,
                   "server_cpu_us_per_request": cpu / served * 1e6 if served > 0 else None,
                   "server_cores_busy": cpu / (w1 - w0)}
            runs.append(run)
            checks.check(f"crowd-bench {label} {mix_name} c={c}: no errors", j.get("errors") == 0 and
                         (j.get("requests") or 0) > 0, f"{j.get('errors')} errors of {j.get('requests')}, "
                         f"status {j.get('status')}")
            lat = j.get("latency_us") or {}
            log(f"  {mix_name:8} c={c:3} {run['throughput_rps'] or 0:9.0f} req/s  p50 {lat.get('p50') or 0:8.0f} µs "
                f"p99 {lat.get('p99') or 0:8.0f} µs  server {run['server_cores_busy']:.2f} cores, "
                f"{run['server_cpu_us_per_request'] or 0:.0f} µs CPU/req")
    return {"available": True, "note": "", "runs": runs,
            "mixes": {name: note for name, _, note in mixes}}


def run_ingest(args, tmp: str, checks: Checks) -> dict:
    m = args.ingest_users
    gen = os.path.join(args.build, "crowd-gen")
    path = os.path.join(tmp, "ingest.ndjson")
    log(f"ingest: crowd-gen --users {m} --seed 43")
    t0 = time.perf_counter()
    p = subprocess.run([gen, "--users", str(m), "--seed", "43", "--out", path], capture_output=True, text=True)
    gen_s = time.perf_counter() - t0
    if p.returncode != 0:
        raise RunError(f"crowd-gen failed ({p.returncode}): {p.stderr.strip()}")
    with open(path, "rb") as f:
        lines = [ln for ln in f.read().split(b"\n") if ln]
    # The generator's own count of what it wrote (its --stats pass).
    st = subprocess.run([gen, "--users", str(m), "--seed", "43", "--stats"], capture_output=True, text=True)
    found = re.search(r"^assignments\s+(\d+)", st.stdout, re.M)
    if st.returncode != 0 or not found:
        raise RunError(f"crowd-gen --stats: exit {st.returncode}, no assignments line: {st.stdout[:300]}")
    expected_pairs = int(found[1])
    data_dir = tempfile.mkdtemp(prefix="ingest-", dir=tmp)
    srv = Server(args.build, "ingest", data_dir, [], args.server_threads, tmp)
    srv.start(120)
    c = Client(srv.port)
    batches, seconds, users, pairs = [], 0.0, 0, 0
    for i in range(0, len(lines), args.ingest_batch):
        body = b"\n".join(lines[i:i + args.ingest_batch]) + b"\n"
        _, data, dt = c.call("POST", "/v1/ingest", body, {"Content-Type": "application/x-ndjson"})
        r = json.loads(data)
        batches.append({"lines": min(args.ingest_batch, len(lines) - i), "bytes": len(body), "seconds": dt,
                        "assignments": r["assignments"]})
        seconds += dt
        users += r["users"]
        pairs += r["assignments"]
    health, _ = c.json("GET", "/healthz")
    mem = srv.memory()
    metrics = c.metrics()
    c.close()
    rc, _ = srv.stop()
    checks.check("ingest server exits 0 on SIGTERM", rc == 0, f"exit {rc}")
    checks.check("ingest: users read == lines sent", users == len(lines), f"{users} vs {len(lines)}")
    checks.check("ingest: assignments == the pairs crowd-gen --stats counts", pairs == expected_pairs,
                 f"{pairs} vs {expected_pairs}")
    checks.check("ingest: /healthz users == generated users", health["users"] == m, f"{health['users']} vs {m}")
    shutil.rmtree(data_dir, ignore_errors=True)
    os.unlink(path)
    nbytes = sum(b["bytes"] for b in batches)
    out = {"users": m, "seed": 43, "batch_lines": args.ingest_batch, "batches": batches, "bytes": nbytes,
           "seconds": seconds, "assignments": pairs, "assignments_per_s": pairs / seconds,
           "users_per_s": users / seconds, "mb_per_s": nbytes / MIB / seconds, "generate_s": gen_s,
           "fsync": "batch (default)", "tags": health["tags"], "memory": mem,
           "wal_bytes": metrics.get("crowd_wal_bytes")}
    log(f"ingest: {pairs:,} assignments in {seconds:.2f} s = {out['assignments_per_s']:,.0f}/s "
        f"({out['mb_per_s']:.0f} MiB/s of NDJSON)")
    return out


def parse_stderr(text: str) -> dict:
    out: dict = {}
    if m := re.search(r"demo data: (\d+) users, (\d+) assignments, seed \d+, in ([\d.e+-]+) s", text):
        out["demo_users"], out["assignments"], out["generate_build_s"] = int(m[1]), int(m[2]), float(m[3])
    if m := re.search(r"ready in ([\d.e+-]+) s", text):
        out["server_ready_s"] = float(m[1])
    if m := re.search(r"restored \S+: (\d+) users, (\d+) tags in (\d+) ms", text):
        out["server_restore_s"] = int(m[3]) / 1000
    return out


def estimate_need(n: int, done: list[dict]) -> dict:
    measured = [r for r in done if "restore" in r and r["users"] >= 1_000_000]
    if measured:
        ref = max(measured, key=lambda r: r["users"])
        peak = max(ref["after_demo"]["memory"]["hwm"], ref["restore"]["memory"]["hwm"]) / ref["users"]
        snap = ref["snapshot"]["bytes"] / ref["users"]
        basis = f"measured at {ulabel(ref['users'])} users in this run"
    else:
        peak, snap = FALLBACK_PEAK_BYTES_PER_USER, FALLBACK_SNAPSHOT_BYTES_PER_USER
        basis = "assumed (no population of 1M users or more measured earlier in this run)"
    return {"peak_bytes_per_user": peak, "snapshot_bytes_per_user": snap, "basis": basis,
            "memory_bytes": int(peak * n * 1.15 + 512 * MIB),  # 15% margin + the client's buffers
            "disk_bytes": int(snap * n * 2.2)}  # the old snapshot stays until the new one is renamed over it


def run_population(n: int, args, tmp: str, checks: Checks, typical: list[tuple[str, str]],
                   mixes: list[tuple[str, str, str]]) -> dict:
    label = ulabel(n)
    res: dict = {"users": n}
    data_dir = tempfile.mkdtemp(prefix=f"data-{label}-", dir=tmp)
    start_timeout = 120 + n / 1e6 * 60

    log(f"{label}: crowdd --demo {n} --seed {args.seed}")
    srv = Server(args.build, f"demo-{label}", data_dir, ["--demo", str(n), "--seed", str(args.seed)],
                 args.server_threads, tmp)
    ready = srv.start(start_timeout)
    c = Client(srv.port)
    health, _ = c.json("GET", "/healthz")
    res["demo"] = {"ready_s": ready, **parse_stderr(srv.stderr())}
    res["after_demo"] = {"memory": srv.memory(), "metrics": c.metrics(), "healthz": health,
                         "files": dir_files(data_dir)}
    checks.check(f"{label}: /healthz users == --demo users", health["users"] == n, f"{health['users']} vs {n}")
    log(f"{label}: ready in {ready:.2f} s, {health['tags']} tags, RSS "
        f"{res['after_demo']['memory']['rss'] / MIB:.0f} MiB (peak {res['after_demo']['memory']['hwm'] / MIB:.0f})")

    snap, dt = c.json("POST", "/v1/admin/snapshot")
    files = dir_files(data_dir)
    res["snapshot"] = {"save_s": dt, "server_us": snap["took_us"], "bytes": snap["bytes"], "files": files,
                       "disk_bytes": sum(files.values()), "memory_after": srv.memory()}
    checks.check(f"{label}: snapshot.crowd on disk == bytes reported", files.get("snapshot.crowd") == snap["bytes"],
                 f"{files.get('snapshot.crowd')} vs {snap['bytes']}")
    log(f"{label}: snapshot {snap['bytes'] / MIB:.1f} MiB in {dt:.2f} s")

    families = width_families(c, args.widths)
    queries = [q for _, q in typical] + [q for qs in families.values() for q in qs]
    before = {q: c.count(q)[0]["count"] for q in queries}
    c.close()
    rc, stop_s = srv.stop()
    res["stop_s"] = stop_s
    checks.check(f"{label}: demo server exits 0 on SIGTERM", rc == 0, f"exit {rc}")

    log(f"{label}: restart on the same data directory")
    srv = Server(args.build, f"restore-{label}", data_dir, [], args.server_threads, tmp)
    load_s = srv.start(start_timeout)
    c = Client(srv.port)
    health2, _ = c.json("GET", "/healthz")
    res["restore"] = {"ready_s": load_s, **parse_stderr(srv.stderr()), "memory": srv.memory(),
                      "metrics": c.metrics(), "healthz": health2}
    checks.check(f"{label}: restored /healthz users and tags == before the restart",
                 (health2["users"], health2["tags"]) == (health["users"], health["tags"]),
                 f"{health2} vs {health}")
    after = {q: c.count(q)[0]["count"] for q in queries}
    diff = [q for q in queries if before[q] != after[q]]
    checks.check(f"{label}: restored counts == before the restart ({len(queries)} queries)", not diff,
                 "; ".join(f"{q}: {before[q]} -> {after[q]}" for q in diff[:3]))
    log(f"{label}: restored in {load_s:.2f} s, RSS {res['restore']['memory']['rss'] / MIB:.0f} MiB")

    log(f"{label}: count latency ({args.samples} samples a query)")
    lat = {"typical": [], "families": {}}
    raw = RawHttp(srv.port)
    for name, q in typical:
        r = measure_query(raw, q, args.samples, args.query_budget, args.min_samples)
        r["name"] = name
        lat["typical"].append(r)
    for fam, qs in families.items():
        lat["families"][fam] = [measure_query(raw, q, args.samples, args.query_budget, args.min_samples) for q in qs]
    raw.close()
    res["latency"] = lat
    for r in lat["typical"]:
        log(f"  {r['name']:16} {r['count']:>11,} took p50 {r['took_us']['p50']:7.0f} p99 {r['took_us']['p99']:7.0f}"
            f"  rtt p50 {r['rtt_us']['p50']:7.0f} µs")
    for fam, rs in lat["families"].items():
        log(f"  {fam}: " + ", ".join(f"{r['terms']}:{r['took_us']['p50']:.0f}" for r in rs) + " µs p50")

    log(f"{label}: throughput")
    res["throughput"] = run_throughput(args, srv, c, mixes, tmp, checks, label)

    log(f"{label}: export")
    q = args.export_query
    want = c.count(q)[0]["count"]
    # Timed passes only count lines (parsing IDs in Python would be what is
    # measured); a separate, untimed pass checks the IDs themselves.
    passes = [export_csv(srv.port, q, verify_ids=False) for _ in range(args.export_passes)]
    csv = sorted(passes, key=lambda r: r["seconds"])[len(passes) // 2]
    csv["passes_s"] = [r["seconds"] for r in passes]
    if want <= 2_000_000:
        v = export_csv(srv.port, q, verify_ids=True)
        csv["distinct_ids"], csv["bad_lines"] = v["distinct_ids"], v["bad_lines"]
    checks.check(f"{label}: CSV export lines == /v1/count ({q})", csv["lines"] == want, f"{csv['lines']} vs {want}")
    checks.check(f"{label}: CSV X-Crowd-Count == /v1/count", csv["x_crowd_count"] == want,
                 f"{csv['x_crowd_count']} vs {want}")
    checks.check(f"{label}: CSV export ends with a newline", csv["ends_with_newline"])
    if "distinct_ids" in csv:
        checks.check(f"{label}: CSV export holds {want} distinct decimal IDs",
                     csv["distinct_ids"] == want and csv["bad_lines"] == 0,
                     f"{csv['distinct_ids']} distinct, {csv['bad_lines']} bad lines")
    rpasses = [export_roaring(c, q) for _ in range(args.export_passes)]
    roaring = sorted(rpasses, key=lambda r: r["seconds"])[len(rpasses) // 2]
    roaring["passes_s"] = [r["seconds"] for r in rpasses]
    checks.check(f"{label}: Roaring export cardinality == /v1/count", roaring["cardinality"] == want,
                 f"{roaring['cardinality']} vs {want} {roaring['parse_error'] or ''}")
    page = first_page(srv.port, q, args.samples, args.query_budget)
    checks.check(f"{label}: first page has min(1000, count) IDs", page["ids"] == min(1000, want),
                 f"{page['ids']} vs {min(1000, want)}")
    res["export"] = {"count": want, "csv": csv, "roaring": roaring, "first_page": page}
    log(f"{label}: CSV {csv['lines']:,} IDs in {csv['seconds']:.2f} s = {csv['ids_per_s'] or 0:,.0f} IDs/s; roaring "
        f"{roaring['bytes'] / MIB:.1f} MiB in {roaring['seconds']:.2f} s; first page p50 {page['took_us']['p50']} µs")

    res["final"] = {"memory": srv.memory(), "metrics": c.metrics()}
    c.close()
    rc, _ = srv.stop()
    checks.check(f"{label}: restored server exits 0 on SIGTERM", rc == 0, f"exit {rc}")
    shutil.rmtree(data_dir, ignore_errors=True)
    return res


# ------------------------------------------------------------------ machine

def machine_info(build: str) -> dict:
    cpu = read_proc_kv("/proc/cpuinfo")
    flags = cpu.get("flags", "").split()
    mem = read_proc_kv("/proc/meminfo")
    l3 = None
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index3/size") as f:
            l3 = f.read().strip()
    except OSError:
        pass

    def run(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu.get("model name", "?"),
        "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
        "l3": l3, "l3_bytes": _size_bytes(l3),
        "mem_total": int(mem["MemTotal"].split()[0]) * 1024,
        "mem_available": int(mem["MemAvailable"].split()[0]) * 1024,
        "kernel": platform.release(),
        "loadavg_start": load,
        "crowdd_version": run([os.path.join(build, "crowdd"), "--version"]),
        "git_commit": run(["git", "-C", REPO, "rev-parse", "HEAD"]),
        "git_dirty": bool(run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])),
        "python": platform.python_version(),
    }


def l3_text(m: dict) -> str:
    return f"{m['l3_bytes'] / MIB:g} MiB" if m.get("l3_bytes") else (m.get("l3") or "?")


def _size_bytes(text: str | None) -> int | None:
    if not text:
        return None
    m = re.fullmatch(r"(\d+)\s*([KMG]?)", text)
    if not m:
        return None
    return int(m[1]) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m[2]]


# ------------------------------------------------------------------ plots

def gnuplot_terminal() -> str | None:
    if not shutil.which("gnuplot"):
        return None
    for term in ("pngcairo", "png"):
        p = subprocess.run(["gnuplot", "-e", f"set terminal {term}"], capture_output=True)
        if p.returncode == 0 and not p.stderr:
            return term
    return None


def make_plots(report: dict, img_dir: str, tmp: str) -> list[str]:
    term = gnuplot_terminal()
    if term is None:
        return []
    pops = [p for p in report["populations"] if "latency" in p]
    plot_dir = tempfile.mkdtemp(prefix="plots-", dir=tmp)
    made = []
    header = (f"set terminal {term} size 960,600 noenhanced\nset encoding utf8\nset grid\n"
              "set key top left box opaque\n")

    def series(name: str, rows: list[tuple]) -> str:
        path = os.path.join(plot_dir, f"s{len(os.listdir(plot_dir))}.dat")
        with open(path, "w") as f:
            for r in rows:
                f.write(" ".join(str(x) for x in r) + "\n")
        return path

    def plot(png: str, settings: str, lines: list[str]) -> None:
        if not lines:
            return
        out = os.path.join(img_dir, png)
        script = header + f"set output '{out}'\n" + settings + "plot " + ", \\\n  ".join(lines) + "\n"
        p = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
        if p.returncode != 0:
            log(f"gnuplot failed for {png}: {p.stderr.strip()[-500:]}")
            return
        made.append(png)

    def title(s: str) -> str:
        return s.replace("'", "")

    one_ms = "1000 with lines dt 2 lc rgb 'gray40' title '1 ms'"
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf", "#000000", "#aec7e8"]

    def style(i: int) -> str:
        return f"lc rgb '{palette[i % len(palette)]}' pt {i % 13 + 1}"

    # Count latency against users: one line per typical query.
    lines = []
    for i, q in enumerate(pops[0]["latency"]["typical"] if pops else []):
        rows = [(p["users"], p["latency"]["typical"][i]["took_us"]["p50"], p["latency"]["typical"][i]["took_us"]["p99"])
                for p in pops]
        lines.append(f"'{series(q['name'], rows)}' using 1:($2 < 1 ? 1 : $2) with linespoints lw 2 ps 1.5 "
                     f"{style(i)} title '{title(q['name'])}'")
    bw = report["args"]["mem_bandwidth_gbs"]
    if lines:
        lines.append(one_ms)
        # The DRAM floor of a two-dense-tag count: 2 x N/8 bytes at bw GB/s.
        lines.append(f"x / 4 / {bw}e3 with lines dt 4 lw 2 lc rgb 'red' "
                     f"title '2 dense tags at {bw:g} GB/s'")
    def ymax(values):
        return max([3000] + [2 * v for v in values])
    if pops:
        users = sorted({p["users"] for p in pops} | {100_000_000})
        xtics = ", ".join(f"'{ulabel(u)}' {u}" for u in users)
        top = ymax(r["took_us"]["p50"] for p in pops for r in p["latency"]["typical"])
        plot("latency_vs_users.png",
             "set title 'count latency against users (server took_us p50)'\n"
             f"set logscale xy\nset xlabel 'users'\nset ylabel 'µs (log)'\nset xtics ({xtics})\n"
             f"set xrange [{users[0] / 2}:{users[-1] * 2}]\nset yrange [1:{top}]\n"
             "set key outside right top font ',9'\n", lines)

    # Latency against query width: one line per family and population.
    lines = []
    for p in pops:
        for fam, rs in p["latency"]["families"].items():
            rows = [(r["terms"], r["took_us"]["p50"], r["took_us"]["p99"]) for r in rs]
            lines.append(f"'{series(fam, rows)}' using 1:($2 < 1 ? 1 : $2) with linespoints lw 2 "
                         f"{style(len(lines))} title '{fam} p50, {ulabel(p['users'])} users'")
    if lines:
        lines.append(one_ms)
    if pops:
        widths = sorted({r["terms"] for p in pops for rs in p["latency"]["families"].values() for r in rs})
        top = ymax(r["took_us"]["p50"] for p in pops for rs in p["latency"]["families"].values() for r in rs)
        plot("latency_vs_width.png",
             "set title 'count latency against query width (terms), server took_us p50'\n"
             "set logscale y\nset logscale x 2\nset xlabel 'terms in the query'\nset ylabel 'µs (log)'\n"
             f"set xtics ({', '.join(str(x) for x in widths)})\nset xrange [0.8:40]\nset yrange [1:{top}]\n",
             lines)

    # Throughput and latency against concurrency.
    lines_t, lines_l = [], []
    for p in pops:
        runs = p.get("throughput", {}).get("runs", [])
        for mix in dict.fromkeys(r["mix"] for r in runs):
            rs = [r for r in runs if r["mix"] == mix and r["throughput_rps"]]
            rows = [(r["connections"], r["throughput_rps"], (r["latency_us"] or {}).get("p50") or 0,
                     (r["latency_us"] or {}).get("p99") or 0) for r in rs]
            f = series(mix, rows)
            lc = len(lines_t) + 1
            lines_t.append(f"'{f}' using 1:2 with linespoints lw 2 lc {lc} title '{mix}, {ulabel(p['users'])} users'")
            lines_l.append(f"'{f}' using 1:3 with linespoints lw 2 lc {lc} title '{mix} p50, {ulabel(p['users'])}'")
            lines_l.append(f"'{f}' using 1:4 with linespoints lw 1 dt 2 lc {lc} title '{mix} p99, {ulabel(p['users'])}'")
    conns = sorted({r["connections"] for p in pops for r in p.get("throughput", {}).get("runs", [])})
    xt = f"set xtics ({', '.join(str(c) for c in conns)})\n" if conns else ""
    plot("throughput_vs_concurrency.png",
         "set title 'throughput against connections (crowd-bench, closed loop, client on the same cores)'\n"
         "set logscale x 2\nset xlabel 'connections'\nset ylabel 'requests/s'\nset yrange [0:*]\n"
         "set key bottom right box opaque\n" + xt, lines_t)
    if lines_l:
        lines_l.append(one_ms)
    plot("latency_vs_concurrency.png",
         "set title 'latency against connections (crowd-bench, client-side, send to last byte)'\n"
         "set logscale x 2\nset logscale y\nset xlabel 'connections'\nset ylabel 'µs (log)'\n" + xt, lines_l)
    shutil.rmtree(plot_dir, ignore_errors=True)
    return made


# ------------------------------------------------------------------ report

def fi(n) -> str:
    return "—" if n is None else f"{n:,.0f}"


def fb(n) -> str:
    if n is None:
        return "—"
    if n >= GIB:
        return f"{n / GIB:,.2f} GiB"
    if n >= MIB:
        return f"{n / MIB:,.1f} MiB"
    return f"{n / 1024:,.1f} KiB"


def fs(s) -> str:
    if s is None:
        return "—"
    return f"{s * 1000:,.0f} ms" if s < 1 else f"{s:,.2f} s"


def fus(x) -> str:
    return "—" if x is None else f"{x:,.0f}"


def md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("*", "\\*")


def md_code(s: str) -> str:
    """Text for inside a code span in a table cell: only the pipe needs escaping."""
    return s.replace("|", "\\|")


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or ("l" + "r" * (len(header) - 1))
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def sizing(report: dict) -> dict:
    """The numbers of the 'Sizing a machine' section, all from this run."""
    m = report["machine"]
    pops = [p for p in report["populations"] if "restore" in p]
    bw = report["args"]["mem_bandwidth_gbs"] * 1e9
    out: dict = {"bandwidth_gbs": report["args"]["mem_bandwidth_gbs"]}
    if not pops:
        return out
    big = max(pops, key=lambda p: p["users"])
    n = big["users"]
    rss = big["restore"]["memory"]["rss"]
    out["ref_users"] = n
    out["rss_per_user"] = rss / n
    if len(pops) >= 2:
        small = min(pops, key=lambda p: p["users"])
        out["marginal_rss_per_user"] = (rss - small["restore"]["memory"]["rss"]) / (n - small["users"])
        out["marginal_from"] = small["users"]
    per_user = out.get("marginal_rss_per_user", out["rss_per_user"])
    out["fixed_rss"] = max(0, rss - per_user * n)
    out["users_per_gib"] = GIB / per_user
    out["peak_demo_per_user"] = big["after_demo"]["memory"]["hwm"] / n
    out["peak_restore_per_user"] = big["restore"]["memory"]["hwm"] / n

    def at(target, get):
        """get(p) at target users: a line through the two largest runs (or proportional to one)."""
        pts = sorted((p["users"], get(p)) for p in pops)
        if len(pts) >= 2:
            (n1, v1), (n2, v2) = pts[-2], pts[-1]
            slope = (v2 - v1) / (n2 - n1)
            if slope > 0:
                return v2 + slope * (target - n2)
        return pts[-1][1] / pts[-1][0] * target
    out["bitmap_per_user"] = big["restore"]["metrics"]["crowd_bitmap_bytes"] / n
    out["snapshot_per_user"] = big["snapshot"]["bytes"] / n
    out["restore_users_per_s"] = n / big["restore"]["ready_s"]
    out["save_users_per_s"] = n / big["snapshot"]["save_s"]
    for target in (100_000_000,):
        out[f"need_{target}"] = {
            "rss": at(target, lambda p: p["restore"]["memory"]["rss"]),
            "peak_demo": at(target, lambda p: p["after_demo"]["memory"]["hwm"]),
            "peak_restore": at(target, lambda p: p["restore"]["memory"]["hwm"]),
            "snapshot": at(target, lambda p: p["snapshot"]["bytes"]),
            "restore_s": at(target, lambda p: p["restore"]["ready_s"]),
        }
    # CPU: server CPU per request at the best throughput point of each mix.
    cpu = {}
    for p in pops:
        for r in p.get("throughput", {}).get("runs", []):
            key = (p["users"], r["mix"])
            if r["throughput_rps"] and (key not in cpu or r["throughput_rps"] > cpu[key]["throughput_rps"]):
                cpu[key] = r
    out["cpu"] = [{"users": u, "mix": mix, "rps": r["throughput_rps"], "connections": r["connections"],
                   "cpu_us": r["server_cpu_us_per_request"], "cores_busy": r["server_cores_busy"],
                   "qps_per_core": 1e6 / r["server_cpu_us_per_request"] if r["server_cpu_us_per_request"] else None,
                   "rps_per_machine_core": r["throughput_rps"] / m["nproc"]}
                  for (u, mix), r in sorted(cpu.items())]
    # Latency: where each query's p50 crosses 1 ms. Bitmap work grows with
    # the users, so past the largest measured population the crossing is
    # extrapolated linearly from it.
    # Model: p50(N) = base + slope * N. With two or more runs, the line through
    # the two largest; with one, base = that run's single-tag count (a
    # cardinality lookup: parse, dictionary, reply), the rest grows with N.
    def floor_us(p):
        one = [r["took_us"]["p50"] for r in p["latency"]["typical"] if r["q"] == "gender:female"]
        return one[0] if one else min(r["took_us"]["p50"] for r in p["latency"]["typical"])

    def crossings(get):
        rows = []
        keys = get(pops[0])
        for i, (name, q, _) in enumerate(keys):
            pts = sorted((p["users"], get(p)[i][2], floor_us(p)) for p in pops if i < len(get(p)))
            over = [u for u, us, _ in pts if us > 1000]
            if over:
                cross = ("measured", over[0])
            else:
                if len(pts) >= 2:
                    (n1, t1, _), (n2, t2, _) = pts[-2], pts[-1]
                    slope = (t2 - t1) / (n2 - n1)
                    base = t2 - slope * n2
                else:
                    n2, t2, base = pts[-1]
                    slope = (t2 - base) / n2
                cross = ("extrapolated", int((1000 - base) / slope) if slope > 0 and base < 1000 else None)
            rows.append({"name": name, "q": q, "p50": {u: t for u, t, _ in pts}, "cross": cross})
        return rows

    out["cross_typical"] = crossings(lambda p: [(r["name"], r["q"], r["took_us"]["p50"])
                                               for r in p["latency"]["typical"]])
    fam_rows = []
    for fam in pops[0]["latency"]["families"]:
        fam_rows += crossings(lambda p, fam=fam: [(f"{fam} {r['terms']}", r["q"], r["took_us"]["p50"])
                                                  for r in p["latency"]["families"].get(fam, [])])
    out["cross_families"] = fam_rows
    # The bandwidth floor of a dense two-tag count.
    out["dense_two_tag_1ms_users"] = int(1e-3 * bw * 8 / 2)
    out["dense_tag_bytes_100m"] = 100_000_000 / 8
    out["dense_two_tag_100m_ms"] = 2 * 100_000_000 / 8 / bw * 1e3
    two = next((r for r in big["latency"]["typical"] if r["q"] == "gender:female AND age:25-29"), None)
    if two:
        bytes_read = 2 * n / 8
        out["two_dense_measured"] = {
            "users": n, "p50_us": two["took_us"]["p50"], "bytes": bytes_read,
            "effective_gbs": bytes_read / (two["took_us"]["p50"] * 1e-6) / 1e9 if two["took_us"]["p50"] else None,
            "fits_l3": m["l3_bytes"] is not None and bytes_read < m["l3_bytes"]}
    return out


def write_report(report: dict, out_dir: str, plots: list[str]) -> str:
    m = report["machine"]
    a = report["args"]
    pops = [p for p in report["populations"] if "restore" in p]
    skipped = [p for p in report["populations"] if "skipped" in p]
    L = []
    w = L.append
    w("# Capacity report\n")
    w("*Generated by `bench/run-capacity-report.sh` (bench/capacity_report.py); rerun it rather than editing "
      "this page.*\n\n")
    w("How much machine crowd needs for how many users: memory, persistence, count latency against users and "
      "query width, throughput against concurrency, ingest and export rates — measured on the synthetic demo "
      "population ([data.md](data.md)) by a real `crowdd`, and a [sizing guide](#sizing-a-machine) computed "
      "from the same run. Every number below comes from the run described here; the raw measurements are in "
      "[capacity/raw.json](capacity/raw.json).\n")
    w("## How it was run\n")
    w("```\n" + report["command"] + "\n```\n")
    w(table(["", ""], [
        ["date", m["date_utc"]],
        ["machine", f"{m['nproc']} CPUs, {m['cpu_model']} (AVX2 {'yes' if m['avx2'] else 'no'}, AVX-512 "
                    f"{'yes' if m['avx512f'] else 'no'}), L3 {l3_text(m)}, {m['mem_total'] / GIB:.1f} GiB RAM "
                    f"({m['mem_available'] / GIB:.1f} GiB available at start), Linux {m['kernel']}"],
        ["load average at start / end", " ".join(m["loadavg_start"]) + " / " + " ".join(report["loadavg_end"])],
        ["crowdd", m["crowdd_version"]],
        ["commit", f"`{m['git_commit'][:12]}`" + (" with uncommitted changes" if m["git_dirty"] else "")],
        ["server", f"`crowdd --threads {a['server_threads']} --data-dir TMP` (`--fsync batch`), demo seed {a['seed']}"],
        ["client", f"Python {m['python']}: a bare keep-alive socket for count and first-page latency, "
                   f"`http.client` for export and ingest; `crowd-bench --threads "
                   f"{a['bench_threads']}` for throughput — on the same {m['nproc']} cores as the server"],
        ["samples", f"{a['samples']} requests a query (fewer when a query's {a['query_budget']} s budget ran out, at "
                    f"least {a['min_samples']}), after 3 unrecorded; crowd-bench {a['bench_duration']} s a point "
                    f"after {a['bench_warmup']} s of warm-up" + (" — **quick mode**" if a["quick"] else "")],
    ], "ll"))
    w("\nThe machine is shared: absolute figures move between identical runs (up to ~40% on this machine kind, "
      "per PERFORMANCE-NOTES); the client competes with the server for the same cores, so the throughput "
      "figures are a floor for a server with cores of its own.\n")
    for s in skipped:
        w(f"\n**{ulabel(s['users'])} users: not run.** {s['skipped']}\n")

    if pops:
        cols = [f"{ulabel(p['users'])} users" for p in pops]
        def row(name, f):
            return [name] + [f(p) for p in pops]
        w("\n## Memory and persistence\n")
        rows = [
            row("tags", lambda p: fi(p["restore"]["healthz"]["tags"])),
            row("(user, tag) assignments", lambda p: fi(p["demo"].get("assignments"))),
            row("`--demo` start to listening (generate + build + first snapshot)", lambda p: fs(p["demo"]["ready_s"])),
            row("… of which generate + bulk build (server log)", lambda p: fs(p["demo"].get("generate_build_s"))),
            row("RSS after `--demo` (peak VmHWM)", lambda p: f"{fb(p['after_demo']['memory']['rss'])} "
                f"({fb(p['after_demo']['memory']['hwm'])})"),
            row("snapshot size (`snapshot.crowd`)", lambda p: fb(p["snapshot"]["bytes"])),
            row("snapshot save (`POST /v1/admin/snapshot`, round trip)", lambda p: fs(p["snapshot"]["save_s"])),
            row("restart to listening (snapshot load)", lambda p: fs(p["restore"]["ready_s"])),
            row("… of which reading the snapshot (server log)", lambda p: fs(p["restore"].get("server_restore_s"))),
            row("snapshot load rate", lambda p: f"{p['snapshot']['bytes'] / MIB / p['restore']['ready_s']:,.0f} MiB/s"),
            row("RSS after restore (peak VmHWM)", lambda p: f"{fb(p['restore']['memory']['rss'])} "
                f"({fb(p['restore']['memory']['hwm'])})"),
            row("RSS at the end of the run", lambda p: fb(p["final"]["memory"]["rss"])),
            row("tag bitmaps (`crowd_bitmap_bytes`)", lambda p: fb(p["restore"]["metrics"]["crowd_bitmap_bytes"])),
            row("**RSS per user** (after restore)", lambda p: f"**{p['restore']['memory']['rss'] / p['users']:.1f} B**"),
            row("bitmap bytes per user", lambda p: f"{p['restore']['metrics']['crowd_bitmap_bytes'] / p['users']:.1f} B"),
            row("bitmap bytes per assignment", lambda p: f"{p['restore']['metrics']['crowd_bitmap_bytes'] / p['demo']['assignments']:.2f} B"
                if p["demo"].get("assignments") else "—"),
            row("snapshot bytes per user", lambda p: f"{p['snapshot']['bytes'] / p['users']:.1f} B"),
            row("RSS per tag", lambda p: fb(p["restore"]["memory"]["rss"] / p["restore"]["healthz"]["tags"])),
            row("bitmap bytes per tag (mean)", lambda p: fb(p["restore"]["metrics"]["crowd_bitmap_bytes"] /
                                                            p["restore"]["healthz"]["tags"])),
            row("users per GiB of RSS", lambda p: f"{GIB / (p['restore']['memory']['rss'] / p['users']) / 1e6:,.1f} M"),
        ]
        w(table([""] + cols, rows))
        w("\nRSS is the server's resident memory (`/proc/PID/status` VmRSS) with the index loaded and idle; peak "
          "(VmHWM) includes the transient memory of building or reading the index. Bitmap bytes are the portable "
          "serialized size of all tag bitmaps (`crowd_bitmap_bytes`); RSS adds the user table (external IDs), the "
          "dictionaries, allocator slack and the process itself. A restart on the data directory reads the "
          "snapshot and replays the (empty) log; the snapshot save is `POST /v1/admin/snapshot` with writes "
          "going on meanwhile.\n")

    ing = report.get("ingest")
    if ing:
        w("\n## Ingest\n")
        w(f"`crowd-gen --users {ing['users']:,} --seed 43` (generated in {fs(ing['generate_s'])}), posted as NDJSON "
          f"to `/v1/ingest` of a fresh, empty server (`--data-dir`, `--fsync batch`) in batches of "
          f"{ing['batch_lines']:,} lines, one request at a time over one connection:\n\n")
        w(table(["", ""], [
            ["NDJSON", f"{fb(ing['bytes'])} in {len(ing['batches'])} requests"],
            ["assignments set", fi(ing["assignments"])],
            ["time (sum of request round trips)", fs(ing["seconds"])],
            ["**assignments per second**", f"**{ing['assignments_per_s']:,.0f}**"],
            ["users per second", f"{ing['users_per_s']:,.0f}"],
            ["NDJSON per second", f"{ing['mb_per_s']:,.0f} MiB/s"],
            ["write-ahead log after the ingest", fb(ing["wal_bytes"])],
            ["RSS after the ingest", fb(ing["memory"]["rss"])],
        ], "lr"))
        w("\nEvery request is one atomic batch: parsed whole, logged, applied, acknowledged after the group-commit "
          "sync. The rate includes the client's sending and the HTTP parsing.\n")

    if pops:
        w("\n## Count latency\n")
        w("`GET /v1/count` over one keep-alive connection, one request at a time. `took_us` is the server's own "
          "time (request read → reply ready); the round trip adds the loopback, HTTP and the Python client (a bare "
          "socket: no header parsing beyond Content-Length). "
          "Cells: p50 / p99 in µs.\n")
        if "latency_vs_users.png" in plots:
            w("\n![count latency against users](capacity/latency_vs_users.png)\n")
        w("\n### The typical queries (bench/measure_counts.py)\n\n")
        hdr = ["query", "terms"]
        for p in pops:
            hdr += [f"{ulabel(p['users'])}: matches", f"{ulabel(p['users'])}: took_us", f"{ulabel(p['users'])}: round trip"]
        rows = []
        for i, q in enumerate(pops[0]["latency"]["typical"]):
            r = [f"{q['name']}: `{md_code(q['q'])}`", str(q["terms"])]
            for p in pops:
                x = p["latency"]["typical"][i]
                r += [f"{x['count'] / p['users'] * 100:.2f}%",
                      f"{fus(x['took_us']['p50'])} / {fus(x['took_us']['p99'])}",
                      f"{fus(x['rtt_us']['p50'])} / {fus(x['rtt_us']['p99'])}"]
            rows.append(r)
        w(table(hdr, rows, "l" + "r" * (len(hdr) - 1)))
        w("\n### Latency against query width\n\n")
        if "latency_vs_width.png" in plots:
            w("![latency against query width](capacity/latency_vs_width.png)\n\n")
        for fam in pops[0]["latency"]["families"]:
            w(f"**{FAMILY_TITLES.get(fam, fam)}**\n\n")
            hdr = ["terms"]
            for p in pops:
                hdr += [f"{ulabel(p['users'])}: matches", f"{ulabel(p['users'])}: took_us",
                        f"{ulabel(p['users'])}: round trip"]
            rows = []
            for i, q in enumerate(pops[0]["latency"]["families"][fam]):
                r = [str(q["terms"])]
                for p in pops:
                    rs = p["latency"]["families"].get(fam, [])
                    if i >= len(rs):
                        r += ["—"] * 3
                        continue
                    x = rs[i]
                    r += [f"{x['count'] / p['users'] * 100:.2f}%",
                          f"{fus(x['took_us']['p50'])} / {fus(x['took_us']['p99'])}",
                          f"{fus(x['rtt_us']['p50'])} / {fus(x['rtt_us']['p99'])}"]
                rows.append(r)
            w(table(hdr, rows))
            longest = pops[0]["latency"]["families"][fam][-1]["q"]
            w(f"\nThe widest: `{md_code(longest[:300])}{'…' if len(longest) > 300 else ''}`\n\n")

    if pops:
        w("\n## Throughput against concurrency\n\n")
        first_tp = pops[0]["throughput"]
        if not first_tp["available"]:
            w(f"Not measured: {first_tp['note']}.\n")
        else:
            for name, note in first_tp.get("mixes", {}).items():
                w(f"- `{name}`: {note}\n")
            w(f"\n`crowd-bench --connections C --threads min(C, {a['bench_threads']}) --duration {a['bench_duration']}` "
              f"(closed loop: each connection sends its next request when the answer arrives). Latency is the "
              f"client's, send to last byte. Server CPU is the crowdd process's user + system time over the run "
              f"(warm-up included) divided by the requests it served.\n\n")
            if "throughput_vs_concurrency.png" in plots:
                w("![throughput against concurrency](capacity/throughput_vs_concurrency.png)\n\n")
            if "latency_vs_concurrency.png" in plots:
                w("![latency against concurrency](capacity/latency_vs_concurrency.png)\n\n")
            for p in pops:
                runs = p["throughput"]["runs"]
                if not runs:
                    continue
                w(f"**{ulabel(p['users'])} users**\n\n")
                rows = []
                for r in runs:
                    lat = r["latency_us"] or {}
                    rows.append([r["mix"], str(r["connections"]), fi(r["throughput_rps"]), fus(lat.get("p50")),
                                 fus(lat.get("p99")), fus(lat.get("p999")), fus(lat.get("max")),
                                 f"{r['server_cores_busy']:.2f}", fus(r["server_cpu_us_per_request"]),
                                 fi(r["errors"])])
                w(table(["mix", "connections", "req/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs",
                         "server cores busy", "server CPU µs/req", "errors"], rows, "lrrrrrrrrr"))
                w("\n")

    if pops:
        w("\n## Export\n\n")
        q = pops[0]["export"]["csv"]["q"]
        w(f"The crowd `{q}` (about half the users), over loopback to a Python client that only counts lines "
      f"(the median of {a['export_passes']} passes a format; a further, untimed pass checks every ID):\n\n")
        rows = [
            row("IDs", lambda p: fi(p["export"]["count"])),
            row("CSV (`GET /v1/ids?format=csv`): time", lambda p: fs(p["export"]["csv"]["seconds"])),
            row("CSV: **IDs per second**", lambda p: f"**{p['export']['csv']['ids_per_s'] / 1e6:,.1f} M**"),
            row("CSV: bytes, rate", lambda p: f"{fb(p['export']['csv']['bytes'])}, "
                f"{p['export']['csv']['mb_per_s']:,.0f} MiB/s"),
            row("CSV: time to the response header", lambda p: fs(p["export"]["csv"]["header_s"])),
            row("Roaring (`format=roaring`): time", lambda p: fs(p["export"]["roaring"]["seconds"])),
            row("Roaring: IDs per second", lambda p: f"{(p['export']['roaring']['ids_per_s'] or 0) / 1e6:,.1f} M"),
            row("Roaring: size, format", lambda p: f"{fb(p['export']['roaring']['bytes'])}, "
                f"{p['export']['roaring']['format']}"),
            row("first page (`POST /v1/ids`, limit 1000): took_us p50 / p99",
                lambda p: f"{fus(p['export']['first_page']['took_us']['p50'])} / "
                          f"{fus(p['export']['first_page']['took_us']['p99'])}"),
            row("first page: round trip p50 / p99",
                lambda p: f"{fus(p['export']['first_page']['rtt_us']['p50'])} / "
                          f"{fus(p['export']['first_page']['rtt_us']['p99'])}"),
        ]
        w(table([""] + cols, rows))
        w("\nA CSV export is decimal formatting on the server (PERFORMANCE-NOTES: ~100M IDs/s a core) plus "
          "chunked transfer and the client's reading; Roaring exports sort the external IDs first.\n")

    w(sizing_section(report))

    w("\n## Checks\n\n")
    w("Facts the run verified independently of the timings (a failure makes the script exit 1):\n\n")
    for ch in report["checks"]:
        w(f"- {'✅' if ch['ok'] else '❌ **FAILED**'} {md_escape(ch['check'])}"
          + (f" — {md_escape(ch['detail'])}" if ch["detail"] and not ch["ok"] else "") + "\n")
    run_s = report["run_s"]
    w(f"\nTotal run time: {fs(run_s) if run_s < 120 else f'{run_s / 60:.1f} min'}.\n")
    path = os.path.join(out_dir, "capacity.md")
    with open(path, "w") as f:
        f.write(tidy_markdown("".join(L)))
    return path


def tidy_markdown(text: str) -> str:
    """Blank lines around headings, tables and code blocks; never two in a row."""
    out: list[str] = []
    fence = False
    for line in text.split("\n"):
        prev = out[-1] if out else ""
        is_table = line.startswith("|")
        if line.startswith("```"):
            if not fence and prev:
                out.append("")
            out.append(line)
            fence = not fence
            if not fence:
                out.append("")
            continue
        if not fence:
            if line.startswith("#") and prev:
                out.append("")
            elif is_table != prev.startswith("|") and prev and line:
                out.append("")
            elif prev.startswith("#") and line:
                out.append("")
        out.append(line)
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n"


def sizing_section(report: dict) -> str:
    s = report["sizing"]
    m = report["machine"]
    L = ["\n## Sizing a machine\n\n"]
    w = L.append
    if "ref_users" not in s:
        w("No population was measured.\n")
        return "".join(L)
    n = s["ref_users"]
    w("### Memory\n\n")
    if "marginal_rss_per_user" in s:
        w(f"Between {ulabel(s['marginal_from'])} and {ulabel(n)} users the restored server's RSS grew by "
          f"**{s['marginal_rss_per_user']:.1f} bytes a user** (at {ulabel(n)}: {s['rss_per_user']:.1f} B a user "
          f"including the fixed ~{fb(s['fixed_rss'])}); ")
    else:
        w(f"At {ulabel(n)} users the restored server held **{s['rss_per_user']:.1f} bytes of RSS a user**; ")
    ref = next((p for p in report["populations"] if p["users"] == n), {})
    assignments = ref.get("demo", {}).get("assignments")
    per_user = f"~{assignments / n:.0f} (user, tag) assignments a user, dated days and value slices included; " \
        if assignments else ""
    w(f"so **one GiB of RAM holds about {s['users_per_gib'] / 1e6:,.1f} M users** of this population ({per_user}"
      f"{s['bitmap_per_user']:.1f} B a user of it is tag bitmaps). Plan for the peaks, not the steady "
      f"state: building the index in-process (`--demo`) peaked at {s['peak_demo_per_user']:.0f} B a user, "
      f"starting from a snapshot at {s['peak_restore_per_user']:.0f} B a user. Disk: "
      f"{s['snapshot_per_user']:.1f} B a user for the snapshot, twice that while a new one is being written "
      f"(the old one is replaced by rename), plus the write-ahead log since the last snapshot.\n\n")
    need = s["need_100000000"]
    margin = lambda b: b * 1.15 + 512 * MIB  # noqa: E731 — the same margin as the run's memory guard
    fits_demo = margin(need["peak_demo"]) < m["mem_total"]
    fits_restore = margin(need["peak_restore"]) < m["mem_total"]
    basis = (f"a straight line through the {ulabel(s['marginal_from'])} and {ulabel(n)} runs"
             if "marginal_rss_per_user" in s else f"proportional to the {ulabel(n)} run")
    w(f"**100M users** (extrapolated: {basis}): about {fb(need['rss'])} resident, peaks of "
      f"{fb(need['peak_restore'])} restoring a snapshot and {fb(need['peak_demo'])} generating the demo, a "
      f"{fb(need['snapshot'])} snapshot (double that of free disk) that loads in about "
      f"{need['restore_s']:,.0f} s. This machine has {m['mem_total'] / GIB:.1f} GiB: with 15% and 512 MiB of "
      f"margin that is {'enough' if fits_restore else 'not enough'} to serve 100M users from a snapshot and "
      f"{'enough' if fits_demo else 'not enough'} to generate them in-process, which the report itself does "
      f"(`--users 1000000,10000000,100000000` measures 10M first, then refuses 100M if MemAvailable is "
      f"short).\n\n")
    w("### CPU\n\n")
    if s.get("cpu"):
        rows = [[ulabel(c["users"]), c["mix"], f"{c['rps']:,.0f} at {c['connections']} connections",
                 f"{c['cores_busy']:.2f}", fus(c["cpu_us"]),
                 f"**{c['qps_per_core']:,.0f}**" if c["qps_per_core"] else "—", f"{c['rps_per_machine_core']:,.0f}"]
                for c in s["cpu"]]
        w(table(["users", "mix", "best throughput", "server cores busy", "server CPU µs/req", "**queries/s per core**",
                 f"req/s ÷ {m['nproc']} cores"], rows, "llrrrrr"))
        w(f"\n*Queries per second per core* is 10⁶ ÷ the server's CPU µs per request: what one core running only "
          f"crowdd answers. The last column divides by all {m['nproc']} cores of this machine, which also ran the "
          f"load generator, so it is a floor. Throughput scales with cores only for queries that are CPU-bound: "
          f"every core shares the same memory bandwidth (~{s['bandwidth_gbs']:g} GB/s on one core here, barely "
          f"more with two, per PERFORMANCE-NOTES).\n\n")
    else:
        w("Not measured in this run (crowd-bench was missing).\n\n")
    w("### Where latency stops being sub-millisecond, and why\n\n")
    two = s.get("two_dense_measured")
    w(f"A dense tag (≥ 6.25% of users: bitset containers) is N/8 bytes: {fb(n / 8)} at {ulabel(n)} users, "
      f"**{s['dense_tag_bytes_100m'] / 1e6:.1f} MB at 100M**. A count of two dense tags reads both, so on one "
      f"core it cannot beat their bytes over the memory bandwidth: at {s['bandwidth_gbs']:g} GB/s (DRAM, one "
      f"core, PERFORMANCE-NOTES) that is **{s['dense_two_tag_100m_ms']:.2f} ms at 100M users**, and a "
      f"two-dense-tag count leaves the sub-millisecond range at about "
      f"**{s['dense_two_tag_1ms_users'] / 1e6:,.0f}M users** (each further dense operand moves that down in "
      f"proportion: k dense tags cross 1 ms at {s['dense_two_tag_1ms_users'] * 2 / 1e6:,.0f}M / k users).")
    if two:
        w(f" Measured here: `gender:female AND age:25-29` at {ulabel(n)} users reads {fb(two['bytes'])} in "
          f"{fus(two['p50_us'])} µs (p50, the whole request: parse, lookup and reply included), an effective "
          f"{two['effective_gbs']:.1f} GB/s"
          + (f"; the two bitmaps fit in the {l3_text(m)} L3, so DRAM bandwidth is not yet what limits it at this "
             f"size." if two["fits_l3"] else "."))
    if m["l3_bytes"] and 2 * s["dense_tag_bytes_100m"] < m["l3_bytes"]:
        w(f" At 100M the pair ({2 * s['dense_tag_bytes_100m'] / 1e6:.0f} MB) would nominally fit in the "
          f"{l3_text(m)} L3, but that cache also holds the rest of the working set and, on a VM, other tenants' "
          f"data: size for DRAM speed.")
    w("\n\nWider queries cross much earlier: a count of k terms reads up to k tags per 2^16-user chunk "
      "(dense ones at N/8 bytes each, few-percent ones as cached bitsets, sparse ones member by member), so "
      "its time grows with users and with width — the AND chains below grow in proportion to their terms, "
      "while cached unions (the city ORs) cost one tag whatever their width. The p50 `took_us` and the "
      "population at which each crosses 1 ms: "
      "*measured* (bold) when a run crossed it, else *extrapolated* (~) on a straight line in users — through "
      "the two largest runs, or, with one run, from the single-tag count's time as the fixed per-request part "
      "(— means no growth with users was measured). Extrapolations far beyond the largest run are rough: "
      "growth steepens once the working set leaves the L3.\n\n")
    pops_users = sorted({u for r in s["cross_typical"] for u in r["p50"]})
    rows = []
    for r in s["cross_typical"] + s["cross_families"]:
        kind, at = r["cross"]
        if not at:
            cell = "—"
        elif kind == "measured":
            cell = f"**{ulabel(at)}**"
        elif at > 100 * n:  # a straight line that far out says nothing
            cell = f"> {ulabel(100 * n)}"
        else:
            cell = f"~{ulabel(_round_sig(at))}"
        rows.append([md_escape(r["name"])] + [fus(r["p50"].get(u)) for u in pops_users] + [cell])
    w(table(["query"] + [f"p50 µs at {ulabel(u)}" for u in pops_users] + ["1 ms at (users)"], rows))
    sub = [r for r in s["cross_typical"] if r["p50"].get(n, 0) < 1000]
    w(f"\nAt {ulabel(n)} users {len(sub)} of the {len(s['cross_typical'])} typical queries answer in under a "
      f"millisecond (p50).")
    if len(pops_users) >= 2:
        a_, b_ = pops_users[0], pops_users[-1]
        ratios = [r["p50"][b_] / r["p50"][a_] for r in s["cross_typical"] if r["p50"].get(a_)]
        if ratios:
            ratios.sort()
            med = ratios[len(ratios) // 2]
            grow = b_ / a_
            how = ("close to proportional: the work is in the bitmaps" if med >= 0.8 * grow else
                   "far less than proportional: at these sizes the fixed per-request part dominates"
                   if med < 0.3 * grow else "less than proportional: part of each request's time is fixed")
            w(f" From {ulabel(a_)} to {ulabel(b_)} users ({grow:g}× the users) the typical queries' p50 grew "
              f"{ratios[0]:.1f}× to {ratios[-1]:.1f}× (median {med:.1f}×), {how}.")
    # The verdict, per typical query.
    limit = 100_000_000
    stay, cross = [], []
    for r in s["cross_typical"]:
        kind, at_ = r["cross"]
        if at_ is None or at_ > limit:
            stay.append(r["name"])
        else:
            cross.append((at_, r["name"], kind))
    if len(pops_users) == 1:
        w(" With a single run these crossings are optimistic: between runs of different sizes latency usually "
          "grows faster than the users once a query's bitmaps no longer fit in the caches, so run at least two "
          "sizes (the default 1M and 10M) before relying on them.")
    w("\n\n**In short**, for sub-millisecond counts (p50, one core per query): ")
    if stay:
        w(f"{', '.join(stay)} {'stays' if len(stay) == 1 else 'stay'} under 1 ms to {ulabel(limit)} users by "
          f"this run's numbers; ")
    if cross:
        cross.sort()
        w("the others leave it at about " + "; ".join(
            f"{('' if kind == 'measured' else '~')}{ulabel(_round_sig(at_))} ({name})" for at_, name, kind in cross)
          + ". ")
    w("Beyond those sizes, shard users across servers (a count is a sum over shards) or cut the per-user work "
      "(docs/operations.md: fused per-chunk evaluation, cached sub-expressions, sums over disjoint fields); "
      "more cores raise throughput, not single-query latency.\n")
    return "".join(L)


def _round_sig(n: int) -> int:
    if n <= 0:
        return n
    p = 10 ** max(0, int(math.log10(n)) - 1)
    return int(round(n / p) * p)


# ------------------------------------------------------------------- main

def parse_args(argv: list[str]):
    p = argparse.ArgumentParser(description="crowd capacity report (see the module docstring)")
    p.add_argument("--build", help="build directory with crowdd, crowd-gen (and crowd-bench)")
    p.add_argument("--from-raw", metavar="RAW_JSON",
                   help="measure nothing: rewrite OUT/capacity.md and the plots from a kept raw.json")
    p.add_argument("--users", default="1000000,10000000",
                   help="comma-separated user counts, ascending (default 1000000,10000000; add 100000000 last)")
    p.add_argument("--out", default=os.path.join(REPO, "docs"), help="writes OUT/capacity.md and OUT/capacity/")
    p.add_argument("--quick", action="store_true", help="few samples and 0.5 s load runs (the ctest smoke run)")
    p.add_argument("--samples", type=int, help="requests a query (default 200, quick 20)")
    p.add_argument("--query-budget", type=float, help="seconds a query at most (default 10, quick 0.5)")
    p.add_argument("--bench-duration", type=float, help="crowd-bench seconds a point (default 10, quick 0.5)")
    p.add_argument("--bench-warmup", type=float, help="crowd-bench warm-up seconds (default 1, quick 0.2)")
    p.add_argument("--bench-threads", type=int, default=1, help="crowd-bench client threads (default 1)")
    p.add_argument("--connections", default="1,2,4,8,16,32")
    p.add_argument("--mixes", default="typical,cheap", help="bench/mixes/NAME.mix names")
    p.add_argument("--widths", default="1,2,4,8,16,30", help="query widths (terms)")
    p.add_argument("--ingest-users", type=int, help="users posted to /v1/ingest (default 200000, quick 5000)")
    p.add_argument("--ingest-batch", type=int, help="NDJSON lines a request (default 50000, quick 1000)")
    p.add_argument("--export-query", default="gender:female")
    p.add_argument("--export-passes", type=int, help="timed exports of each format, median kept (default 5, quick 1)")
    p.add_argument("--server-threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--mem-bandwidth-gbs", type=float, default=18.0,
                   help="DRAM read bandwidth of one core for the sizing section (PERFORMANCE-NOTES: 18)")
    p.add_argument("--tmp", default=None, help="parent of the temporary directories (default: system temp)")
    p.add_argument("--keep-tmp", action="store_true")
    a = p.parse_args(argv)
    q = a.quick
    a.samples = a.samples or (20 if q else 200)
    a.min_samples = min(a.samples, 5 if q else 20)
    a.query_budget = a.query_budget if a.query_budget is not None else (0.5 if q else 10.0)
    a.bench_duration = a.bench_duration or (0.5 if q else 10.0)
    a.bench_warmup = a.bench_warmup if a.bench_warmup is not None else (0.2 if q else 1.0)
    a.ingest_users = a.ingest_users or (5000 if q else 200_000)
    a.export_passes = a.export_passes or (1 if q else 5)
    a.ingest_batch = a.ingest_batch or (1000 if q else 50_000)
    try:
        a.users_list = [int(x) for x in a.users.split(",") if x]
        a.connections = [int(x) for x in a.connections.split(",") if x]
        a.widths = [int(x) for x in a.widths.split(",") if x]
    except ValueError as e:
        p.error(str(e))
    if not a.users_list or min(a.users_list) <= 0 or a.users_list != sorted(a.users_list):
        p.error("--users wants positive counts in ascending order")
    if not a.build and not a.from_raw:
        p.error("--build is required (or --from-raw)")
    return a


def publish(report: dict, out_dir: str, tmp: str, checks: Checks | None) -> str:
    """sizing, plots, capacity.md and raw.json from a finished report."""
    report["sizing"] = sizing(report)
    img_dir = os.path.join(out_dir, "capacity")
    os.makedirs(img_dir, exist_ok=True)
    for old in os.listdir(img_dir):
        if old.endswith(".png"):
            os.unlink(os.path.join(img_dir, old))
    plots = make_plots(report, img_dir, tmp)
    if checks is not None:
        if gnuplot_terminal() is not None:
            for png in ("latency_vs_users.png", "latency_vs_width.png"):
                pth = os.path.join(img_dir, png)
                checks.check(f"plot {png} written", os.path.exists(pth) and os.path.getsize(pth) > 1000)
        report["checks"] = checks.items
        report["run_s"] = time.perf_counter() - T0
    report["plots"] = plots
    path = write_report(report, out_dir, plots)
    with open(os.path.join(img_dir, "raw.json"), "w") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    log(f"wrote {path} and {img_dir}/ ({', '.join(plots) or 'no plots'}, raw.json)")
    return path


def _on_sigterm(signum, frame):
    log("SIGTERM: stopping the servers and removing the temporary files")
    sys.exit(128 + signum)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    if args.from_raw:
        with open(args.from_raw, encoding="utf-8") as f:
            report = json.load(f)
        tmp = tempfile.mkdtemp(prefix="crowd-capacity-", dir=args.tmp)
        try:
            publish(report, args.out, tmp, None)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return 1 if any(not c["ok"] for c in report.get("checks", [])) else 0
    for tool in ("crowdd", "crowd-gen"):
        if not os.access(os.path.join(args.build, tool), os.X_OK):
            print(f"capacity_report: no {args.build}/{tool}: cmake --build {args.build} --target crowdd crowd-gen "
                  f"crowd-bench", file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="crowd-capacity-", dir=args.tmp)
    checks = Checks()
    report: dict = {"args": {k: v for k, v in vars(args).items() if k not in ("users",)}, "populations": []}
    report["args"]["users"] = args.users_list
    report["command"] = os.environ.get("CROWD_CAPACITY_COMMAND") or (
        "python3 " + " ".join([os.path.relpath(__file__, REPO)] + argv))
    try:
        report["machine"] = machine_info(args.build)
        measure_counts = load_measure_counts()
        typical = list(measure_counts.QUERIES)
        mixes = [(name, *resolve_mix(name, tmp, typical)) for name in args.mixes.split(",") if name]
        report["ingest"] = run_ingest(args, tmp, checks)
        for n in args.users_list:
            need = estimate_need(n, report["populations"])
            avail = mem_available()
            free_disk = shutil.disk_usage(tmp).free
            if need["memory_bytes"] > avail or need["disk_bytes"] > free_disk:
                why = (f"It needs about {fb(need['memory_bytes'])} of memory and {fb(need['disk_bytes'])} of disk "
                       f"({need['peak_bytes_per_user']:.0f} B a user at peak and {need['snapshot_bytes_per_user']:.0f} "
                       f"B of snapshot, {need['basis']}, +15% and 512 MiB of margin; two snapshots on disk), but "
                       f"MemAvailable is {fb(avail)} and {fb(free_disk)} of disk is free in {tmp}.")
                log(f"REFUSING {n} users: {why}")
                report["populations"].append({"users": n, "skipped": why, "estimate": need})
                continue
            report["populations"].append(run_population(n, args, tmp, checks, typical, mixes))
        with open("/proc/loadavg") as f:
            report["loadavg_end"] = f.read().split()[:3]
        publish(report, args.out, tmp, checks)
    except (RunError, OSError, http.client.HTTPException, subprocess.SubprocessError) as e:
        log(f"ABORTED: {e}")
        return 1
    finally:
        stop_all()
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = checks.failed()
    if failed:
        log(f"{len(failed)} of {len(checks.items)} checks FAILED: " + "; ".join(c["check"] for c in failed))
        return 1
    log(f"all {len(checks.items)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
