#!/usr/bin/env python3
"""Soak: crowdd under mixed load for a long time, with zero errors and flat memory.

  python3 tools/soak.py --build build --minutes 10          # the documented run (issue 5, item 6)
  python3 tools/soak.py --build build --minutes 0.67 --users 20000 --snapshot-every 10   # the ctest soak.smoke

Starts its own crowdd (a temporary --data-dir, --demo USERS, --fsync batch, plus every --extra-arg) on
127.0.0.1 and runs, all at once:

  readers     counts (GET and POST) of the queries in bench/mixes/typical.mix and edited.mix, first
              pages and cursor walks of first-page.mix, GET /v1/tags, /healthz, /v1/fields, and now and
              then POST /v1/insight and /v1/overlap
  exports     GET /v1/ids?format=csv and format=roaring of demo crowds, read to the end and checked:
              the CSV has exactly X-Crowd-Count distinct IDs, the Roaring body parses to that many
              members, and both equal /v1/count of the same query taken at start (writes never touch
              demo users or demo tags, so these crowds cannot change)
  writers     POST /v1/ingest (NDJSON with values, and CSV), POST /v1/assign (add and remove),
              DELETE /v1/users/{id}, PUT /v1/crowds/{name}, on users and tags of their own ("soak:*",
              a fixed pool of IDs per writer, a fixed set of crowd names), so the index stays the same
              size however long the run; each writer keeps an exact model of its users and pairs, and
              at the end every soak tag's count and the universe are checked against it
  snapshots   POST /v1/admin/snapshot every --snapshot-every seconds
  churn       clients that drop and reopen their connection: every reader and writer reconnects after
              a random number of requests, a churn client does 1-3 requests per connection, and an
              aborting client starts big CSV exports and hangs up after the first 64 KiB

Every answer other than the expected status (200; 201 for a new crowd) is an error, and so is a
transport error on a connection the client did not mean to drop. RSS is read from /proc/PID/status
every --sample-every seconds.

The RSS rule. The load runs in four quarters. The first is warm-up: the union cache fills, glibc's
per-thread arenas and the exporters' buffers reach their working size, and the first snapshot is
written. Growth is median(RSS over the fourth quarter) - median(RSS over the second quarter): medians,
so a snapshot or a big export that happens to be in flight at one sample does not count, and half the
run apart, so a steady leak shows in full. The run fails when growth exceeds --rss-slack-mib (default
32 MiB) plus 5% of the second quarter's median. The writes are stationary by construction (fixed user
pool, tags, crowd names; snapshots keep the log short), so the index does not grow; the slack covers
allocator noise (arenas holding freed memory, a snapshot's section buffers). A leak of 100 bytes a
request at the ~300 requests/s of a 2-core machine is ~9 MiB a minute, so the 5 minutes between the
quarters' middles would show ~45 MiB: above the slack.

Exit status 0 when there was no error and RSS stayed within the rule (--no-rss-check: RSS is reported,
not judged; for sanitizer builds), 1 otherwise, 2 for bad usage.
--token T sends "Authorization: Bearer T" on every request; --extra-arg (repeatable) is passed to
crowdd (e.g. --extra-arg=--tokens --extra-arg=/path/tokens). Python 3.11 standard library only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from crowd_tools import mixes, roaring  # noqa: E402
from crowd_tools.client import Client as HttpClient, parse_metrics, quote as q  # noqa: E402
from crowd_tools.log import logger  # noqa: E402
from crowd_tools.server import Server  # noqa: E402

MIB = 1 << 20
log = logger("soak")


# ---------------------------------------------------------------- queries

# Big demo crowds for exports: tags the writers never touch.
EXPORT_QUERIES = [
    "gender:female AND age:25-29",
    "student:yes AND power:high",
    "兴趣:美妆 AND NOT member:brand_x",
    "tier:1 OR city:hangzhou",
    "aipl:brand_x:*",
]
# Exports that are started and abandoned (the biggest crowds).
ABORT_QUERIES = ["ALL", "gender:female", "NOT gender:female"]
INSIGHT_QUERIES = ["兴趣:美妆 AND member:brand_x", "student:yes", "gender:female AND age:25-29"]
OVERLAP_CROWDS = [
    {"young women": "gender:female AND age:25-29", "beauty": "兴趣:美妆", "members": "member:brand_x"},
    {"students": "student:yes", "high power": "power:high"},
]
CROWD_QUERIES = ["gender:female AND power:high", "student:yes", "member:brand_x AND aipl:brand_x:L",
                 "兴趣:美妆 AND NOT member:brand_x"]


# ---------------------------------------------------------------- bookkeeping

class Stats:
    """Requests and errors by kind, shared by every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.latency: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.error_samples: list[str] = []

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1
            self.latency.setdefault(kind, []).append(seconds)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.error_samples) < 30:
                self.error_samples.append(f"{kind}: {what}")
        log(f"ERROR {kind}: {what[:300]}")

    def total_errors(self) -> int:
        with self.lock:
            return sum(self.errors.values())


class Client:
    """One keep-alive connection that a client may drop and reopen on purpose; every answer counted."""

    def __init__(self, port: int, token: str | None, stats: Stats) -> None:
        self.http = HttpClient(port, token, timeout=120)
        self.stats = stats

    def drop(self) -> None:
        self.http.drop()

    def call(self, kind: str, method: str, target: str, body=None, content_type: str = "application/json",
             expect=(200,)) -> tuple[int, dict, bytes] | None:
        """Sends one request and reads the whole answer; counts it; None (and an error) unless its status is
        in `expect`."""
        try:
            r = self.http.request(method, target, body, content_type)
        except (OSError, http.client.HTTPException) as e:
            self.stats.error(kind, f"{method} {target[:120]}: transport error {type(e).__name__}: {e}")
            return None
        if r.status not in expect:
            self.stats.error(kind, f"{method} {target[:120]}: {r.status} {r.body[:300]!r}")
            return None
        self.stats.ok(kind, r.seconds)
        return r.status, r.headers, r.body


# ---------------------------------------------------------------- clients

class Run:
    def __init__(self, args, server: Server, stats: Stats) -> None:
        self.args = args
        self.server = server
        self.stats = stats
        self.stop = threading.Event()
        self.counts: dict[str, int] = {}  # export query -> /v1/count at start
        self.count_queries = mixes.queries("typical", "count") + mixes.queries("edited", "count")
        self.page_queries = mixes.queries("first-page", "ids")
        self.mismatches = 0

    def client(self) -> Client:
        return Client(self.server.port, self.args.token, self.stats)

    def check(self, kind: str, ok: bool, what: str) -> None:
        if not ok:
            self.stats.error(kind, what)

    # -- readers

    def reader(self, seed: int) -> None:
        rng = random.Random(seed)
        c = self.client()
        until_drop = rng.randint(20, 300)
        while not self.stop.is_set():
            roll = rng.random()
            if roll < 0.30:
                query = rng.choice(self.count_queries)
                c.call("count_get", "GET", f"/v1/count?q={q(query)}")
            elif roll < 0.55:
                query = rng.choice(self.count_queries)
                c.call("count_post", "POST", "/v1/count", json.dumps({"q": query}))
            elif roll < 0.72:
                self.pages(c, rng)
            elif roll < 0.80:
                self.export_csv(c, rng)
            elif roll < 0.86:
                self.export_roaring(c, rng)
            elif roll < 0.89:
                c.call("insight", "POST", "/v1/insight",
                       json.dumps({"q": rng.choice(INSIGHT_QUERIES), "fields": ["gender", "age", "power"], "top": 5}))
            elif roll < 0.92:
                c.call("overlap", "POST", "/v1/overlap", json.dumps({"crowds": rng.choice(OVERLAP_CROWDS)}))
            elif roll < 0.96:
                c.call("tags", "GET", f"/v1/tags?prefix={q(rng.choice(['soak:', 'age:', 'city:', '兴趣:']))}&limit=200")
            elif roll < 0.99:
                c.call("healthz", "GET", "/healthz")
            else:
                c.call("fields", "GET", "/v1/fields")
            until_drop -= 1
            if until_drop <= 0:
                c.drop()
                until_drop = rng.randint(20, 300)
        c.drop()

    def pages(self, c: Client, rng: random.Random) -> None:
        query = rng.choice(self.page_queries)
        cursor = None
        for _ in range(rng.randint(1, 3)):
            r = c.call("ids_page", "POST", "/v1/ids", json.dumps({"q": query, "limit": 1000, "cursor": cursor}))
            if r is None:
                return
            page = json.loads(r[2])
            self.check("ids_page", len(page["ids"]) <= 1000 and len(set(map(str, page["ids"]))) == len(page["ids"]),
                       f"{query}: a page of {len(page['ids'])} IDs with duplicates or over the limit")
            cursor = page["cursor"]
            if cursor is None:
                return

    def export_csv(self, c: Client, rng: random.Random) -> None:
        query = rng.choice(EXPORT_QUERIES)
        r = c.call("export_csv", "GET", f"/v1/ids?q={q(query)}&format=csv")
        if r is None:
            return
        lines = r[2].decode("ascii").splitlines()
        declared = int(r[1].get("x-crowd-count", "-1"))
        self.check("export_csv", len(lines) == declared == self.counts[query] and len(set(lines)) == len(lines),
                   f"{query}: {len(lines)} lines ({len(set(lines))} distinct), X-Crowd-Count {declared}, "
                   f"/v1/count {self.counts[query]}")

    def export_roaring(self, c: Client, rng: random.Random) -> None:
        query = rng.choice(EXPORT_QUERIES)
        r = c.call("export_roaring", "GET", f"/v1/ids?q={q(query)}&format=roaring")
        if r is None:
            return
        declared = int(r[1].get("x-crowd-count", "-1"))
        try:
            n = roaring.decode(r[2], values=False).cardinality
        except roaring.RoaringError as e:
            self.stats.error("export_roaring", f"{query}: unreadable Roaring body: {e}")
            return
        self.check("export_roaring", n == declared == self.counts[query],
                   f"{query}: {n} members, X-Crowd-Count {declared}, /v1/count {self.counts[query]}")

    # -- writers

    def writer(self, index: int, seed: int) -> None:
        rng = random.Random(seed)
        c = self.client()
        base = 10**12 * (index + 1)
        pool = [base + i for i in range(self.args.pool)]
        tags = [f"soak:{index}:{i}" for i in range(40)]
        present: set[int] = set()
        pairs: dict[str, set[int]] = {t: set() for t in tags}
        until_drop = rng.randint(20, 300)
        while not self.stop.is_set():
            roll = rng.random()
            if roll < 0.25:
                lines, adds = [], []
                for u in rng.sample(pool, 50):
                    ts = rng.sample(tags, rng.randint(1, 3))
                    rec = {"id": u, "tags": ts}
                    if rng.random() < 0.3:
                        rec["values"] = {"soak_spend": rng.randint(-1000, 10**6)}
                    lines.append(json.dumps(rec))
                    adds.append((u, ts))
                if c.call("ingest_ndjson", "POST", "/v1/ingest", "\n".join(lines) + "\n", "application/x-ndjson"):
                    for u, ts in adds:
                        present.add(u)
                        for t in ts:
                            pairs[t].add(u)
            elif roll < 0.40:
                adds = [(u, rng.choice(tags)) for u in rng.sample(pool, 50)]
                body = "".join(f"{u},{t}\n" for u, t in adds)
                if c.call("ingest_csv", "POST", "/v1/ingest", body, "text/csv"):
                    for u, t in adds:
                        present.add(u)
                        pairs[t].add(u)
            elif roll < 0.75:
                add = [(u, rng.choice(tags)) for u in rng.sample(pool, 20)]
                held = [(u, t) for t in rng.sample(tags, 5) for u in pairs[t]]
                remove = rng.sample(held, min(20, len(held)))
                body = {"add": [{"id": u, "tags": [t]} for u, t in add],
                        "remove": [{"id": u, "tags": [t]} for u, t in remove]}
                r = c.call("assign", "POST", "/v1/assign", json.dumps(body))
                if r:
                    for u, t in add:
                        present.add(u)
                        pairs[t].add(u)
                    for u, t in remove:
                        pairs[t].discard(u)
            elif roll < 0.93:
                if not present:
                    continue
                u = rng.choice(tuple(present))
                if c.call("delete", "DELETE", f"/v1/users/{u}"):
                    present.discard(u)
                    for t in tags:
                        pairs[t].discard(u)
            else:
                name = f"soak_{index}_{rng.randint(0, 4)}"
                c.call("crowd_put", "PUT", f"/v1/crowds/{name}", json.dumps({"q": rng.choice(CROWD_QUERIES)}),
                       expect=(200, 201))
            until_drop -= 1
            if until_drop <= 0:
                c.drop()
                until_drop = rng.randint(20, 300)
        c.drop()
        self.models[index] = (present, pairs)

    # -- churn, aborts, snapshots

    def churn(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            c = self.client()
            for _ in range(rng.randint(1, 3)):
                c.call("churn", "GET", f"/v1/count?q={q(rng.choice(self.count_queries))}")
            c.drop()
            self.stop.wait(0.05)

    def aborter(self, seed: int) -> None:
        """Starts big CSV exports and hangs up after the first 64 KiB."""
        rng = random.Random(seed)
        http_client = HttpClient(self.server.port, self.args.token, timeout=60)
        while not self.stop.wait(rng.uniform(0.5, 2.0)):
            query = rng.choice(ABORT_QUERIES)
            t0 = time.perf_counter()
            try:
                # Leaving the block closes the connection with unread data in the socket: the kernel
                # answers with a reset.
                with http_client.stream("GET", f"/v1/ids?q={q(query)}&format=csv") as resp:
                    if resp.status != 200:
                        self.stats.error("export_abort", f"{query}: {resp.status} {resp.read()[:300]!r}")
                        continue
                    resp.read(65536)
                    self.stats.ok("export_abort", time.perf_counter() - t0)
            except (OSError, http.client.HTTPException) as e:
                self.stats.error("export_abort", f"{query}: transport error {type(e).__name__}: {e}")

    def snapshotter(self) -> None:
        while not self.stop.wait(self.args.snapshot_every):
            c = self.client()
            c.call("snapshot", "POST", "/v1/admin/snapshot", "")
            c.drop()

    def run(self) -> dict:
        c = self.client()
        for query in EXPORT_QUERIES:
            r = c.call("count_post", "POST", "/v1/count", json.dumps({"q": query}))
            if r is None:
                raise RuntimeError(f"cannot count {query}")
            self.counts[query] = json.loads(r[2])["count"]
        r = c.call("count_post", "POST", "/v1/count", json.dumps({"q": "ALL"}))
        if r is None:
            raise RuntimeError("cannot count ALL")
        demo_users = json.loads(r[2])["count"]
        c.drop()
        log(f"export crowds: {self.counts}; universe {demo_users}")

        self.models: dict[int, tuple] = {}
        rng = random.Random(self.args.seed)
        threads = [threading.Thread(target=self.reader, args=(rng.random(),)) for _ in range(self.args.readers)]
        threads += [threading.Thread(target=self.writer, args=(i, rng.random())) for i in range(self.args.writers)]
        threads += [threading.Thread(target=self.churn, args=(rng.random(),)),
                    threading.Thread(target=self.aborter, args=(rng.random(),)),
                    threading.Thread(target=self.snapshotter)]
        samples: list[tuple[float, int, int]] = []
        duration = self.args.minutes * 60
        t_start = time.perf_counter()
        for t in threads:
            t.start()
        next_report = t_start + 60
        while True:
            now = time.perf_counter()
            if not self.server.alive():
                self.stats.error("server", f"crowdd exited with {self.server.proc.returncode} during the run")
                break
            mem = self.server.memory()
            rss, hwm = mem["rss"], mem["hwm"]
            samples.append((now - t_start, rss, hwm))
            if now >= next_report:
                with self.stats.lock:
                    n = sum(self.stats.requests.values())
                log(f"{n} requests, {self.stats.total_errors()} errors, RSS {rss / MIB:.1f} MiB")
                next_report += 60
            if now - t_start >= duration:
                break
            time.sleep(min(self.args.sample_every, max(0.0, duration - (now - t_start))))
        elapsed = time.perf_counter() - t_start
        self.stop.set()
        for t in threads:
            t.join()
        return {"elapsed": elapsed, "samples": samples, "demo_users": demo_users}

    def verify_writes(self, demo_users: int) -> None:
        """The writers' models against the server, once every client has stopped."""
        c = self.client()
        expected_users = demo_users
        for index, (present, pairs) in sorted(self.models.items()):
            expected_users += len(present)
            for tag, users in pairs.items():
                r = c.call("verify", "POST", "/v1/count", json.dumps({"q": tag, "lenient": True}))
                if r is not None:
                    got = json.loads(r[2])["count"]
                    self.check("verify", got == len(users), f"{tag}: /v1/count {got}, the writer's model {len(users)}")
        r = c.call("verify", "POST", "/v1/count", json.dumps({"q": "ALL"}))
        if r is not None:
            got = json.loads(r[2])["count"]
            self.check("verify", got == expected_users, f"universe: /v1/count {got}, expected {expected_users}")
        # Every connection the clients opened is closed by now (aborted exports included).
        deadline = time.perf_counter() + 10
        while True:
            r = c.call("verify", "GET", "/metrics")
            open_now = parse_metrics(r[2].decode()).get("crowd_open_connections") if r is not None else None
            if open_now is None or open_now <= 1 or time.perf_counter() > deadline:
                break
            time.sleep(0.5)
        self.check("verify", open_now is None or open_now <= 1,
                   f"{open_now} connections still open after every client closed its own")
        c.drop()


# ---------------------------------------------------------------- report

def median(xs: list[int]) -> float:
    return statistics.median(xs) if xs else 0.0


def rss_verdict(samples, slack_mib: float) -> tuple[bool, dict]:
    rss = [s[1] for s in samples]
    n = len(rss)
    q = max(1, n // 4)
    second = rss[q:2 * q]
    last = rss[n - q:]
    m2, m4 = median(second), median(last)
    growth = m4 - m2
    allowed = slack_mib * MIB + 0.05 * m2
    info = {"samples": n, "first": rss[0] if rss else 0, "steady_start": m2, "max": max(rss) if rss else 0,
            "end": rss[-1] if rss else 0, "last_quarter": m4, "growth": growth, "allowed": allowed,
            "hwm": samples[-1][2] if samples else 0}
    return n >= 8 and growth <= allowed, info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build directory holding crowdd")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--users", type=int, default=200000, help="--demo population")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--pool", type=int, default=3000, help="soak user IDs per writer")
    ap.add_argument("--snapshot-every", type=float, default=30.0, help="seconds")
    ap.add_argument("--sample-every", type=float, default=None, help="seconds between RSS samples "
                    "(default: 5, or less for short runs so there are at least 40)")
    ap.add_argument("--rss-slack-mib", type=float, default=32.0)
    ap.add_argument("--no-rss-check", action="store_true",
                    help="report RSS but do not fail on it (sanitizer builds: ASan's quarantine holds freed memory)")
    ap.add_argument("--token", default=None, help="send Authorization: Bearer TOKEN")
    ap.add_argument("--extra-arg", action="append", default=[], help="passed to crowdd; repeatable")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (data, crowdd.log)")
    ap.add_argument("--json", default=None, help="also write the summary as JSON to this file")
    args = ap.parse_args()
    if args.sample_every is None:
        args.sample_every = min(5.0, max(0.5, args.minutes * 60 / 40))
    if not os.access(os.path.join(args.build, "crowdd"), os.X_OK):
        print(f"soak: no crowdd in {args.build}", file=sys.stderr)
        return 2

    workdir = tempfile.mkdtemp(prefix="crowd-soak-")
    server = Server(args.build, ["--demo", str(args.users), "--seed", str(args.seed), "--fsync", "batch"]
                    + list(args.extra_arg), data_dir=os.path.join(workdir, "data"),
                    log_path=os.path.join(workdir, "crowdd.log"))
    stats = Stats()
    failed = []
    try:
        log(f"starting {' '.join(server.argv)}")
        server.start(timeout=600)
        log(f"listening on port {server.port}; {args.minutes:g} min of load")
        run = Run(args, server, stats)
        result = run.run()
        if server.alive():
            run.verify_writes(result["demo_users"])
        code = server.stop().code
        if code != 0:
            failed.append(f"crowdd exited with {code} after SIGTERM")
        internal = [l for l in server.stderr().splitlines() if "internal error" in l]
        if internal:
            failed.append(f"crowdd logged {len(internal)} internal errors, e.g. {internal[0]}")
    except (RuntimeError, OSError) as e:
        failed.append(str(e))
        server.stop()
        result = None
    finally:
        if server.alive():
            server.proc.kill()

    summary = {"minutes": args.minutes, "users": args.users}
    if result is not None:
        elapsed = result["elapsed"]
        total = sum(stats.requests.values())
        print(f"\nsoak: {elapsed / 60:.1f} min, {args.users} demo users, {args.readers} readers, "
              f"{args.writers} writers, churn, aborted exports, a snapshot every {args.snapshot_every:g} s")
        print(f"{'kind':<16}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for kind in sorted(stats.requests):
            lat = sorted(stats.latency.get(kind, [])) or [0.0]
            p = lambda x: lat[min(len(lat) - 1, int(x * len(lat)))] * 1000  # noqa: E731
            print(f"{kind:<16}{stats.requests[kind]:>10}{stats.errors.get(kind, 0):>8}"
                  f"{stats.requests[kind] / elapsed:>9.1f}{p(0.5):>9.2f}{p(0.99):>9.2f}")
        print(f"{'total':<16}{total:>10}{stats.total_errors():>8}{total / elapsed:>9.1f}")
        ok_rss, info = rss_verdict(result["samples"], args.rss_slack_mib)
        print(f"RSS (MiB): at start {info['first'] / MIB:.1f}, steady state (median of the 2nd quarter) "
              f"{info['steady_start'] / MIB:.1f}, max {info['max'] / MIB:.1f}, end {info['end'] / MIB:.1f}, "
              f"median of the last quarter {info['last_quarter'] / MIB:.1f}; growth {info['growth'] / MIB:+.1f} "
              f"(allowed {info['allowed'] / MIB:.1f}); VmHWM {info['hwm'] / MIB:.1f}; {info['samples']} samples")
        series = " ".join(f"{s[1] / MIB:.0f}" for s in result["samples"][:: max(1, len(result["samples"]) // 30)])
        print(f"RSS series (MiB, every {args.sample_every * max(1, len(result['samples']) // 30):.3g} s): {series}")
        if not ok_rss and not args.no_rss_check:
            failed.append(f"RSS grew by {info['growth'] / MIB:.1f} MiB between the second and the last quarter "
                          f"(allowed {info['allowed'] / MIB:.1f})" if info["samples"] >= 8 else "too few RSS samples")
        summary.update({"elapsed_s": elapsed, "requests": stats.requests, "errors": stats.errors,
                        "rss": info, "samples": result["samples"]})
    if stats.total_errors():
        failed.append(f"{stats.total_errors()} errors")
        for e in stats.error_samples:
            print(f"  {e[:400]}")
    summary["failed"] = failed
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    if failed and os.path.exists(server.log_path):
        print("crowdd's stderr, last lines:\n" + "\n".join(server.stderr().splitlines()[-20:]))
    if args.keep:
        print(f"kept {workdir} (crowdd.log, data)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        print("soak FAILED: " + "; ".join(failed))
        return 1
    print("soak passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
