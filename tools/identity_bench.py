#!/usr/bin/env python3
"""Identity benchmarks over HTTP (issue 15), on crowdd --demo N with its demo IDs.

  tools/identity_bench.py --build build [--users 10000000] [--seconds 10] [--json out.json]

One run, one machine, side by side:
  1. memory per ID: /metrics' crowd_id_bytes / crowd_ids per type, at N users;
  2. membership: a mix of POST /v1/membership batches (100 OAID lookups, ~70%
     of demo users, against 10 saved crowds) and the typical count mix, each
     replayed by crowd-bench for --seconds with the same connections: requests/s,
     lookups/s (100 a request), latency p50/p99; and took_us p99 of 2,000
     sequential batches (the server's own time);
  3. matching: one POST /v1/match of 1M SHA-256 hex phones (half of them users'):
     took_us and IDs/s, including the body's parse;
  4. ingest: crowd-gen records of 100k users with their three ID types, and the
     same records without IDs, into fresh servers: records/s each;
  5. restore: --data-dir with the demo, restarted: time to ready.
Nothing is asserted: the numbers go to docs/benchmarks.md and docs/capacity.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crowd_tools.client import BareClient, Client  # noqa: E402
from crowd_tools.mixes import path as mix_path, queries  # noqa: E402
from crowd_tools.server import Server, stop_all  # noqa: E402

LOOKUPS = 100
CROWDS = 10


def log(msg: str) -> None:
    print(f"[identity-bench] {msg}", file=sys.stderr, flush=True)


def crowd_bench(build: Path, port: int, mix: Path, seconds: float, connections: int) -> dict:
    out = subprocess.run([str(build / "crowd-bench"), "--url", f"http://127.0.0.1:{port}", "--mix", str(mix),
                          "--connections", str(connections), "--threads", "1", "--duration", str(seconds),
                          "--warmup", "1", "--json", "-"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def summary(report: dict) -> dict:
    lat = report["latency_us"]
    return {"requests_per_s": round(report["throughput_rps"]), "non_2xx": report["non_2xx"],
            "timeouts": report["timeouts"], "p50_us": lat["p50"], "p99_us": lat["p99"]}


def membership(build: Path, client: Client, port: int, seconds: float, tmp: Path) -> dict:
    count_queries = queries("typical", "count")
    names = []
    for i, q in enumerate(count_queries[:CROWDS]):
        name = f"bench{i}"
        client.call("PUT", f"/v1/crowds/{name}", json.dumps({"q": q}), expect=(200, 201))
        names.append(name)
    page, _ = client.json("POST", "/v1/ids", {"q": "ALL", "id_type": "oaid", "limit": 50000})
    known = page["ids"]
    rng = random.Random(15)
    lines = []
    bodies = []
    for _ in range(300):
        lookups = [rng.choice(known) if rng.random() < 0.7 else
                   "%08x-%04x-%04x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16),
                                                    rng.getrandbits(16), rng.getrandbits(48))
                   for _ in range(LOOKUPS)]
        body = json.dumps({"id_type": "oaid", "lookups": lookups, "crowds": names}, separators=(",", ":"))
        bodies.append(body)
        lines.append(f"1 post /v1/membership {body}")
    mix = tmp / "membership.mix"
    mix.write_text("\n".join(lines) + "\n")

    # The server's own time: sequential batches, one connection.
    bare = BareClient(port)
    took = []
    for i in range(2000):
        raw, _ = bare.request("POST", "/v1/membership", bodies[i % len(bodies)].encode())
        took.append(json.loads(raw)["took_us"])
    bare.close()
    took.sort()
    result = {"took_us_p50": took[len(took) // 2], "took_us_p99": took[int(len(took) * 0.99)]}

    connections = 8
    counts = summary(crowd_bench(build, port, mix_path("typical"), seconds, connections))
    lookups = summary(crowd_bench(build, port, mix, seconds, connections))
    lookups["lookups_per_s"] = lookups["requests_per_s"] * LOOKUPS if lookups["requests_per_s"] else None
    result.update({"connections": connections, "count_mix": counts, "membership_mix": lookups})
    return result


def matching(client: Client) -> dict:
    page, _ = client.json("POST", "/v1/ids", {"q": "ALL", "id_type": "phone_sha256", "limit": 500000})
    ids = page["ids"]
    rng = random.Random(7)
    ids += ["%064x" % rng.getrandbits(256) for _ in range(len(ids))]
    rng.shuffle(ids)
    body = "\n".join(ids) + "\n"
    r = client.call("POST", "/v1/match?id_type=phone_sha256", body, content_type="text/plain")
    got = json.loads(r.body)
    return {"submitted": got["submitted"], "matched": got["matched"], "match_rate": got["match_rate"],
            "took_us": got["took_us"], "ids_per_s": got["submitted"] / (got["took_us"] / 1e6),
            "round_trip_s": r.seconds}


def ingest(build: Path, tmp: Path, users: int) -> dict:
    out = {}
    for with_ids in (False, True):
        path = tmp / f"gen-{int(with_ids)}.ndjson"
        args = [str(build / "crowd-gen"), "--users", str(users), "--out", str(path)]
        if with_ids:
            args.append("--ids")
        subprocess.run(args, check=True, capture_output=True)
        server = Server(build, [])
        server.start()
        try:
            c = Client(server.port)
            for name, body in (("oaid", {"kind": "string"}), ("idfa", {"kind": "string"}),
                               ("phone_sha256", {"kind": "sha256", "normalization": "phone"})):
                c.call("PUT", f"/v1/id-types/{name}", json.dumps(body), expect=(201,))
            lines = path.read_text().splitlines(keepends=True)
            chunk = 10000
            t0 = time.perf_counter()
            for i in range(0, len(lines), chunk):
                c.call("POST", "/v1/ingest", "".join(lines[i:i + chunk]), content_type="application/x-ndjson")
            seconds = time.perf_counter() - t0
            metrics = c.call("GET", "/metrics").body.decode()
        finally:
            server.stop()
        ids = sum(int(n) for n in re.findall(r'^crowd_ids\{[^}]*\} (\d+)$', metrics, re.M))
        out["with_ids" if with_ids else "without_ids"] = {"records": len(lines), "seconds": round(seconds, 2),
                                                           "records_per_s": round(len(lines) / seconds),
                                                           "bytes": path.stat().st_size, "ids": ids}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=Path("build"))
    ap.add_argument("--users", type=int, default=10_000_000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--ingest-users", type=int, default=100_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    build = args.build.resolve()
    report: dict = {"users": args.users}
    with tempfile.TemporaryDirectory(prefix="identity-bench-") as t:
        tmp = Path(t)
        try:
            log(f"crowdd --demo {args.users} with a data directory")
            server = Server(build, ["--demo", str(args.users), "--threads", "2"], data_dir=tmp / "data",
                            log_path=tmp / "crowdd.log")
            report["demo_start_s"] = round(server.start(timeout=3600), 1)
            client = Client(server.port)
            metrics = client.call("GET", "/metrics").body.decode()
            per_type = {}
            for m in re.finditer(r'crowd_ids\{id_type="(\w+)"\} (\d+)', metrics):
                name, n = m.group(1), int(m.group(2))
                b = int(re.search(rf'crowd_id_bytes\{{id_type="{name}"\}} (\d+)', metrics).group(1))
                per_type[name] = {"ids": n, "bytes": b, "bytes_per_id": round(b / n, 1) if n else None}
            report["memory"] = per_type
            log(f"memory: {per_type}")
            report["membership"] = membership(build, client, server.port, args.seconds, tmp)
            log(f"membership: {report['membership']}")
            report["match"] = matching(client)
            log(f"match: {report['match']}")
            client.close()
            server.stop()
            log("restart on the snapshot")
            again = Server(build, ["--threads", "2"], data_dir=tmp / "data", log_path=tmp / "crowdd2.log")
            report["restore_ready_s"] = round(again.start(timeout=3600), 2)
            restored = re.search(r"restored .* in (\d+) ms", (tmp / "crowdd2.log").read_text())
            report["restore_snapshot_ms"] = int(restored.group(1)) if restored else None
            again.stop()
            log(f"restore: {report['restore_ready_s']} s")
            report["ingest"] = ingest(build, tmp, args.ingest_users)
            log(f"ingest: {report['ingest']}")
        finally:
            stop_all()
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
