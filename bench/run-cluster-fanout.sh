#!/usr/bin/env bash
# The router's fan-out overhead (docs/cluster.md, docs/benchmarks.md#cluster):
# the same demo population in a single crowdd and in a local cluster
# (scripts/local-cluster.sh: S shards x R replicas behind a router), then
# the same query mixes replayed by crowd-bench against each, alternating
# single / router per mix, so that both see the same machine state. Prints
# one line per (mix, target) and the router / single ratio of the medians.
# Everything it starts it stops on exit.
#
# Usage: bench/run-cluster-fanout.sh [build-dir]        (default: build)
# Environment:
#   CROWD_BENCH_USERS        demo users (default 1000000)
#   CROWD_BENCH_DURATION     seconds measured per run (default 10)
#   CROWD_BENCH_CONNECTIONS  crowd-bench connections (default 1: latency, not throughput)
#   SHARDS, REPLICAS         the cluster's shape (default 4 x 1: on a 2-core
#                            machine a second replica only takes cores)
#   CROWD_BENCH_MIXES        mixes to replay (default: cheap typical edited)
# The cluster's processes share this machine's cores with the single crowdd
# (idle while the router is measured) and with the client.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
bench="$build/crowd-bench"
crowdd="$build/crowdd"
gen="$build/crowd-gen"
for bin in "$bench" "$crowdd" "$gen"; do
  [[ -x "$bin" ]] || { echo "no $bin: cmake --build $build --target crowd-bench crowdd crowd-gen" >&2; exit 1; }
done

users=${CROWD_BENCH_USERS:-1000000}
duration=${CROWD_BENCH_DURATION:-10}
connections=${CROWD_BENCH_CONNECTIONS:-1}
mixes=${CROWD_BENCH_MIXES:-cheap typical edited}
export SHARDS=${SHARDS:-4} REPLICAS=${REPLICAS:-1} ROUTERS=1
work=$(mktemp -d /tmp/crowd-fanout.XXXXXX)
single_pid=""
cleanup() {
  [[ -n $single_pid ]] && { kill "$single_pid" 2>/dev/null; wait "$single_pid" 2>/dev/null || true; }
  [[ -e $work/cluster/pids ]] && "$root/scripts/local-cluster.sh" stop "$work/cluster" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# One --as-of for the file and for both servers: relative windows agree.
as_of=$(date -u +%F)
echo "generating $users demo users" >&2
"$gen" --users "$users" --as-of "$as_of" --out "$work/demo.ndjson"

"$crowdd" --port 0 --as-of "$as_of" --load "$work/demo.ndjson" >"$work/single.out" 2>"$work/single.log" &
single_pid=$!
for _ in $(seq 1 600); do grep -q listening "$work/single.out" 2>/dev/null && break; sleep 0.1; done
single=$(grep -o 'http://[0-9.:]*' "$work/single.out")

CROWDD="$crowdd" ROUTER_FLAGS="--as-of $as_of" SHARD_FLAGS="--as-of $as_of" \
  "$root/scripts/local-cluster.sh" start "$work/cluster" >"$work/cluster.out"
router=$(grep -o 'routers: http://[0-9.:]*' "$work/cluster.out" | cut -d' ' -f2)
echo "loading the same users through the router, 50,000 a request" >&2
split -l 50000 "$work/demo.ndjson" "$work/part."
for part in "$work"/part.*; do
  code=$(curl -s -o "$work/ingest.out" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
    --data-binary "@$part" "$router/v1/ingest")
  [[ $code == 200 ]] || { echo "ingest through the router: $code $(cat "$work/ingest.out")" >&2; exit 1; }
done
single_users=$(curl -s "$single/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"])')
# Wait until every replica has applied everything (reads go to any replica).
for _ in $(seq 1 600); do
  routed_users=$(curl -s "$router/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"])')
  [[ $routed_users == "$single_users" ]] && break
  sleep 0.5
done
echo "single crowdd: $single_users users; cluster ($SHARDS shards x $REPLICAS): $routed_users users" >&2

printf '%-8s %-7s %10s %10s %10s %10s\n' mix target req/s p50_us p99_us errors
for mix in $mixes; do
  declare -A p50=()
  for target in single router; do
    url=$single
    [[ $target == router ]] && url=$router
    "$bench" --url "$url" --mix "$root/bench/mixes/$mix.mix" --connections "$connections" \
      --duration "$duration" --json "$work/$mix.$target.json" >/dev/null 2>&1
    read -r rps med p99 errors < <(python3 - "$work/$mix.$target.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_us"]
print(round(r["throughput_rps"]), lat["p50"], lat["p99"], r.get("errors", 0))
EOF
)
    p50[$target]=$med
    printf '%-8s %-7s %10s %10s %10s %10s\n' "$mix" "$target" "$rps" "$med" "$p99" "$errors"
  done
  python3 -c "print('%-8s router/single p50: %.2fx' % ('$mix', ${p50[router]} / max(1, ${p50[single]})))"
done
