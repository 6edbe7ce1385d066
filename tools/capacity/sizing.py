"""The numbers of the report's "Sizing a machine" section, computed from a finished run's
measurements: memory per user, extrapolations to 100M users, CPU per request, and where each
query's p50 crosses one millisecond."""
from __future__ import annotations

from .units import GIB


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
