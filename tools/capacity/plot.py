"""The plotting part of the capacity report: gnuplot PNGs of a finished report's measurements
(latency against users and query width, throughput and latency against connections).
No gnuplot (or no PNG terminal): no plots, and the report says nothing of them."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from crowd_tools.log import logger

from .units import ulabel

log = logger("capacity")


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
