#!/usr/bin/env bash
# Runs the per-layer microbenchmarks (bench-layers) pinned to one core, three
# repetitions, and prints the median of each with its rate.
# Usage: bench/run-microbenchmarks.sh [build-dir] [extra benchmark flags...]
#   CROWD_BENCH_USERS=10000000 bench/run-microbenchmarks.sh build   # 10M users
#   bench/run-microbenchmarks.sh build --benchmark_filter=Count      # a subset
# Environment: CROWD_BENCH_USERS (default 1000000), CROWD_BENCH_SEED (42),
# CROWD_BENCH_DIR (temp dir for the snapshot), CROWD_BENCH_CPU (core to pin
# to, default 0). The raw JSON is kept next to the table (path printed).
set -euo pipefail
build=${1:-build}
shift || true
bin="$build/bench-layers"
[[ -x "$bin" ]] || { echo "no $bin: cmake --build $build --target bench-layers" >&2; exit 1; }
cpu=${CROWD_BENCH_CPU:-0}
out=$(mktemp -d)/bench-layers.json
taskset -c "$cpu" "$bin" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json "$@" >&2
python3 - "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ctx = doc["context"]
def rate(v, unit):
    for scale, p in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= scale: return f"{v/scale:.2f} {p}{unit}"
    return f"{v:.0f} {unit}"
print(f"{'benchmark':44} {'real':>12} {'cpu':>10} {'items/s':>12} {'bytes/s':>12}  extra")
for b in doc["benchmarks"]:
    if b.get("aggregate_name") != "median": continue
    name = b["run_name"]
    t = f"{b['real_time']:.1f} {b['time_unit']}"
    c = f"{b['cpu_time']:.1f} {b['time_unit']}"
    items = rate(b["items_per_second"], "/s") if "items_per_second" in b else ""
    by = rate(b["bytes_per_second"], "B/s") if "bytes_per_second" in b else ""
    extra = []
    for k in ("matched", "ids", "lines", "snapshot_MB"):
        if k in b: extra.append(f"{k}={b[k]:.6g}")
    if "ids" in b and "items_per_second" in b:
        extra.append(f"{1e3/b['items_per_second']*1e6:.1f} ms per 1M IDs")
    if name.startswith("BM_Ingest") and "items_per_second" in b:
        extra.append(f"{1e3/b['items_per_second']*1e6:.1f} ms per 1M assignments")
    print(f"{name:44} {t:>12} {c:>10} {items:>12} {by:>12}  {' '.join(extra)}")
print(f"(medians of 3 repetitions, pinned to core {__import__('os').environ.get('CROWD_BENCH_CPU', '0')}; rates from real time for */real_time rows, else from cpu time; "
      f"cpu < real means the core was shared; {ctx.get('num_cpus')} CPUs at "
      f"{ctx.get('mhz_per_cpu')} MHz; raw: {sys.argv[1]})")
PY
