#!/usr/bin/env bash
# How long a shard replica takes to come back (docs/cluster.md#failure-and-change,
# docs/benchmarks.md#cluster-recovery): a local cluster of 1 shard x 2
# replicas behind a router is given the demo population through the router,
# then
#   1. replica 0 takes a snapshot, is SIGKILLed and started again on its
#      directory: it loads the snapshot and replays the stream past it;
#   2. replica 1 (no snapshot: all in its write-ahead log) is SIGKILLed and
#      started again: it replays its log;
#   3. a new replica on an empty directory replays the whole stream;
# each timed from the start of the process until it holds every user.
# Everything it starts it stops on exit.
#
# Usage: bench/run-cluster-recovery.sh [build-dir]     (default: build)
# Environment: CROWD_BENCH_USERS (default 10000000).
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
crowdd=$(cd "$build" && pwd)/crowdd
gen="$build/crowd-gen"
users=${CROWD_BENCH_USERS:-10000000}
# A bulk load waits for replicas that are busy applying: a long write timeout,
# and a 503 is sent again under the same Idempotency-Key, as a client would.
export SHARDS=1 REPLICAS=2 ROUTERS=1 CROWDD="$crowdd" ROUTER_FLAGS="--write-timeout-ms 120000" \
  SHARD_FLAGS="--snapshot-log-mb 0"
work=$(mktemp -d /tmp/crowd-recovery.XXXXXX)
extra=()
cleanup() {
  for pid in "${extra[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -e $work/cluster/pids ]] && "$root/scripts/local-cluster.sh" stop "$work/cluster" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
count_at() { curl -s "$1/v1/count?q=ALL" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("count", -1))' 2>/dev/null || echo -1; }
pid_of() { grep " $1 " "$work/cluster/pids" | cut -d' ' -f1; }
url_of() { grep " $1 " "$work/cluster/pids" | cut -d' ' -f3; }
wait_all() {  # URL START: until URL counts every user (at most 2 hours); prints the seconds since START
  local give_up=$((SECONDS + 7200))
  until [[ $(count_at "$1") == "$users" ]]; do
    if ((SECONDS > give_up)); then
      echo "$1 did not reach $users users in 2 hours (at $(count_at "$1"))" >&2
      exit 1
    fi
    sleep 0.05
  done
  python3 -c "print('%.2f' % ($(now) - $2))"
}

as_of=$(date -u +%F)
"$root/scripts/local-cluster.sh" start "$work/cluster" >"$work/cluster.out"
router=$(url_of router0)
# The demo's records are ~1.4 KB of NDJSON each (dated events): 10M users
# are 14 GB, so the file is made and sent 50,000 users at a time, each
# part removed once the router acknowledged it.
echo "generating $users demo users and loading them through the router, 50,000 a request" >&2
mkdir "$work/parts"
"$gen" --users "$users" --as-of "$as_of" | split -l 50000 - "$work/parts/part." &
generator=$!
started=$(now)
sent=0
while (( sent * 50000 < users )); do
  part=$(printf '%s/parts/part.%s' "$work" "$(python3 -c "
import string, sys
n = $sent; a = string.ascii_lowercase
print(a[n // 26] + a[n % 26])")")
  next=$(printf '%s/parts/part.%s' "$work" "$(python3 -c "
import string
n = $sent + 1; a = string.ascii_lowercase
print(a[n // 26 % 26] + a[n % 26] if n < 676 else 'zz')")")
  # A part is complete once split has begun the next one (or the generator ended).
  until [[ -e $next ]] || ! kill -0 "$generator" 2>/dev/null; do sleep 0.2; done
  for _ in 1 2 3 4 5; do
    code=$(curl -s -o "$work/ingest.out" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
      -H "Idempotency-Key: part-$sent" --data-binary "@$part" "$router/v1/ingest")
    [[ $code == 503 ]] || break
  done
  [[ $code == 200 ]] || { echo "ingest of $part: $code $(cat "$work/ingest.out")" >&2; exit 1; }
  rm "$part"
  sent=$((sent + 1))
done
wait "$generator"
echo "ingest through the router: $users users in $(python3 -c "print('%.1f' % ($(now) - $started))") s" >&2
r0=$(url_of shard0-replica0)
r1=$(url_of shard0-replica1)
wait_all "$r0" "$(now)" >/dev/null
wait_all "$r1" "$(now)" >/dev/null

# restart NAME URL WHAT: SIGKILLs the replica NAME and starts it again with
# the same command line; prints how long until it served every user.
restart() {
  local argv
  argv=$(tr '\0' ' ' </proc/"$(pid_of "$1")"/cmdline)
  kill -KILL "$(pid_of "$1")"
  sleep 0.5
  local t
  t=$(now)
  $argv >"$work/$1.again.log" 2>&1 &
  extra+=($!)
  echo "$3: $(wait_all "$2" "$t") s ($(grep -o 'ready in [0-9.]* s' "$work/$1.again.log"))"
}

# 1. Snapshot, SIGKILL, start again.
curl -s -X POST "$r0/v1/admin/snapshot" >/dev/null
restart shard0-replica0 "$r0" "replica restarted on its snapshot"
# 2. Its log alone: a replica that never snapshotted (0: the automatic
#    snapshots of --snapshot-log-mb are off for this run's replicas).
restart shard0-replica1 "$r1" "replica restarted on its log alone"

# 3. A new replica from nothing: the whole stream.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats=$(grep -o 'nats: [^ ]*' "$work/cluster.out" | cut -d' ' -f2)
etcd=$(grep -o 'etcd: [^ ]*' "$work/cluster.out" | cut -d' ' -f2)
t=$(now)
"$crowdd" --port "$port" --data-dir "$work/fresh" --cluster local --shard 0 --nats "$nats" --etcd "$etcd" \
  >"$work/fresh.log" 2>&1 &
extra+=($!)
until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do sleep 0.05; done
echo "new replica from the stream: $(wait_all "http://127.0.0.1:$port" "$t") s"
