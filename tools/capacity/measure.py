"""The measuring part of the capacity report: start crowdd on the demo population at each
size and measure it (memory, persistence, count latency, throughput, ingest, export), checking
along the way what can be checked independently. Everything lands in one JSON-able dict per
population; sizing.py, plot.py and write.py turn those into the report.
"""
from __future__ import annotations

import datetime
import json
import math
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time

from crowd_tools import REPO, mixes, roaring
from crowd_tools.client import BareClient, Client, quote
from crowd_tools.log import logger
from crowd_tools.queries import TYPICAL, count_terms, quote_tag
from crowd_tools.server import Server

from .units import MIB, fb, ulabel

log = logger("capacity")

# Fallbacks for the memory/disk guard when no population of at least 1M users
# was measured earlier in the run (deliberately pessimistic; docs/operations.md
# measured ~104 B/user RSS and ~69 B/user of snapshot at 10M).
FALLBACK_PEAK_BYTES_PER_USER = 250
FALLBACK_SNAPSHOT_BYTES_PER_USER = 100


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


def measure_query(client: BareClient, q: str, samples: int, budget_s: float, min_samples: int) -> dict:
    path = "/v1/count?q=" + quote(q)
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
        body, _ = client.json("GET", "/v1/tags?prefix=" + quote(prefix) + "&limit=100000")
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


def export_csv(port: int, q: str, verify_ids: bool) -> dict:
    t0 = time.perf_counter()
    with Client(port).stream("GET", "/v1/ids?q=" + quote(q) + "&format=csv") as resp:
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
    out = {"q": q, "lines": lines, "bytes": nbytes, "seconds": total, "header_s": t_head - t0,
           "ids_per_s": lines / total if total > 0 else None, "mb_per_s": nbytes / MIB / total if total > 0 else None,
           "x_crowd_count": int(header_count) if header_count else None,
           "ends_with_newline": nbytes == 0 or last == b"\n"}
    if ids is not None:
        out["distinct_ids"] = len(ids)
        out["bad_lines"] = bad + (1 if tail.strip() else 0)
    return out


def export_roaring(client: Client, q: str) -> dict:
    r = client.call("GET", "/v1/ids?q=" + quote(q) + "&format=roaring")
    try:
        decoded = roaring.decode(r.body, values=False)
        card, kind, err = decoded.cardinality, decoded.format, None
    except roaring.RoaringError as e:
        card, kind, err = None, None, str(e)
    return {"q": q, "bytes": len(r.body), "seconds": r.seconds, "cardinality": card, "format": kind,
            "parse_error": err, "ids_per_s": card / r.seconds if card and r.seconds > 0 else None,
            "x_crowd_count": int(r.headers.get("x-crowd-count") or -1)}


def first_page(port: int, q: str, samples: int, budget_s: float) -> dict:
    raw = BareClient(port)
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
    path = mixes.path(name)
    if path.exists():
        entries = mixes.entries(name)
        kinds = sorted({e.kind for e in entries if e.kind})
        return str(path), f"bench/mixes/{name}.mix ({len(entries)} weighted entries; kinds: {', '.join(kinds)})"
    stand_in = os.path.join(tmp, f"{name}.mix")
    if name == "typical":
        lines = [f"1 count {q}" for _, q in typical]
    elif name == "cheap":
        lines = ["1 count gender:female", "1 count gender:female AND age:25-29",
                 "1 count member:brand_x AND aipl:brand_x:L"]
    else:
        raise RunError(f"no bench/mixes/{name}.mix")
    with open(stand_in, "w") as f:
        f.write("# written by the capacity report: bench/mixes/%s.mix was missing\n" % name)
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
    srv = Server(args.build, [], data_dir=data_dir, threads=args.server_threads,
                 log_path=os.path.join(tmp, "ingest.stderr"), name="ingest")
    srv.start(120)
    c = Client(srv.port, retry_idle=True)
    batches, seconds, users, pairs = [], 0.0, 0, 0
    for i in range(0, len(lines), args.ingest_batch):
        body = b"\n".join(lines[i:i + args.ingest_batch]) + b"\n"
        ingested = c.call("POST", "/v1/ingest", body, "application/x-ndjson")
        dt = ingested.seconds
        r = json.loads(ingested.body)
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
    srv = Server(args.build, ["--demo", str(n), "--seed", str(args.seed)], data_dir=data_dir,
                 threads=args.server_threads, log_path=os.path.join(tmp, f"demo-{label}.stderr"), name=f"demo-{label}")
    ready = srv.start(start_timeout)
    c = Client(srv.port, retry_idle=True)
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
    srv = Server(args.build, [], data_dir=data_dir, threads=args.server_threads,
                 log_path=os.path.join(tmp, f"restore-{label}.stderr"), name=f"restore-{label}")
    load_s = srv.start(start_timeout)
    c = Client(srv.port, retry_idle=True)
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
    raw = BareClient(srv.port)
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
        "git_commit": run(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
        "git_dirty": bool(run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])),
        "python": platform.python_version(),
    }


def _size_bytes(text: str | None) -> int | None:
    if not text:
        return None
    m = re.fullmatch(r"(\d+)\s*([KMG]?)", text)
    if not m:
        return None
    return int(m[1]) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m[2]]


def run(args, tmp: str, checks: Checks, command: str) -> dict:
    """Every measurement of the run: the machine, ingest, then each population of args.users_list
    that fits the machine (the others recorded as skipped, with the reason)."""
    report: dict = {"args": {k: v for k, v in vars(args).items() if k not in ("users",)}, "populations": []}
    report["args"]["users"] = args.users_list
    report["command"] = command
    report["machine"] = machine_info(args.build)
    typical = list(TYPICAL)
    mix_files = [(name, *resolve_mix(name, tmp, typical)) for name in args.mixes.split(",") if name]
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
        report["populations"].append(run_population(n, args, tmp, checks, typical, mix_files))
    with open("/proc/loadavg") as f:
        report["loadavg_end"] = f.read().split()[:3]
    return report
