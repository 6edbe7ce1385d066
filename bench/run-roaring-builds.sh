#!/usr/bin/env bash
# Runs the CRoaring microbenchmarks against the native build and Debian's
# binary, interleaved, and prints the medians side by side with the ratio.
# Usage: bench/run-roaring-builds.sh [build-dir] [repetitions]
set -euo pipefail
build=${1:-build}
reps=${2:-5}
out=$(mktemp -d)
for i in $(seq 1 "$reps"); do
  for v in native debian; do
    taskset -c 0 "$build/bench-roaring-$v" --benchmark_format=json --benchmark_min_time=0.2 \
      >"$out/$v-$i.json" 2>/dev/null
  done
done
python3 - "$out" "$reps" <<'PY'
import json, sys, statistics, glob
out, reps = sys.argv[1], int(sys.argv[2])
res = {}
for v in ("native", "debian"):
    for f in glob.glob(f"{out}/{v}-*.json"):
        for b in json.load(open(f))["benchmarks"]:
            res.setdefault(b["name"], {}).setdefault(v, []).append(b["real_time"])
print(f"{'operation (10M users)':34} {'native us':>10} {'debian us':>10} {'debian/native':>14}")
for name, d in res.items():
    n, g = statistics.median(d["native"]), statistics.median(d["debian"])
    print(f"{name:34} {n:10.1f} {g:10.1f} {g/n:13.1f}x")
print(f"(median of {reps} interleaved runs, pinned to core 0)")
PY
