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
               the typical queries (crowd_tools.queries.TYPICAL, as
               tools/measure_counts.py sends them) and for queries of 1..30
               terms (AND chains, OR of city tags), one keep-alive connection
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
  tools/capacity_report.py --build DIR [--users 1000000,10000000] [--out DIR] [--quick]

A user count is refused (and the report says so) when its estimated peak
memory exceeds MemAvailable or its snapshots exceed the free disk; estimates
come from the largest population measured earlier in the same run, so list
100000000 after 10000000. Python 3.11 standard library only.

The parts: measure.py runs the servers and measures, sizing.py derives the
sizing numbers, plot.py draws, write.py writes the page; this module reads
the flags and runs them in that order.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from crowd_tools import REPO
from crowd_tools.client import HttpError
from crowd_tools.log import START, logger
from crowd_tools.server import ServerError, stop_all

from . import measure
from .measure import Checks, RunError
from .plot import gnuplot_terminal, make_plots
from .sizing import sizing
from .write import write_report

log = logger("capacity")


def parse_args(argv: list[str]):
    p = argparse.ArgumentParser(description="crowd capacity report (see the module docstring)")
    p.add_argument("--build", help="build directory with crowdd, crowd-gen (and crowd-bench)")
    p.add_argument("--from-raw", metavar="RAW_JSON",
                   help="measure nothing: rewrite OUT/capacity.md and the plots from a kept raw.json")
    p.add_argument("--users", default="1000000,10000000",
                   help="comma-separated user counts, ascending (default 1000000,10000000; add 100000000 last)")
    p.add_argument("--out", default=str(REPO / "docs"), help="writes OUT/capacity.md and OUT/capacity/")
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
        report["run_s"] = time.perf_counter() - START
    report["plots"] = plots
    path = write_report(report, out_dir, plots)
    with open(os.path.join(img_dir, "raw.json"), "w") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    log(f"wrote {path} and {img_dir}/ ({', '.join(plots) or 'no plots'}, raw.json)")
    return path


def _on_sigterm(signum, frame):
    log("SIGTERM: stopping the servers and removing the temporary files")
    sys.exit(128 + signum)


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
    command = os.environ.get("CROWD_CAPACITY_COMMAND") or (
        "python3 " + " ".join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + argv))
    try:
        report = measure.run(args, tmp, checks, command)
        publish(report, args.out, tmp, checks)
    except (RunError, HttpError, ServerError, OSError, http.client.HTTPException, subprocess.SubprocessError) as e:
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
