#!/usr/bin/env bash
# crowd side by side with its baselines, one command:
#
#   CROWD_BENCH_USERS=10000000 bench/run-baselines.sh [build-dir] [extra crowd-baselines flags...]
#
# Starts `crowdd --demo N --seed 42 --threads 2` on a free loopback port with a
# temporary --data-dir, waits for /healthz, then runs build/crowd-baselines
# against it: crowd in process, raw CRoaring, crowd over HTTP and Redis 7
# (which crowd-baselines starts and stops itself) on the same population and
# the same count queries, every count cross-checked. Everything started here
# is stopped on exit (trap EXIT), whatever happens.
#
# Environment:
#   CROWD_BENCH_USERS     users in the demo population (default 10000000; the
#                         generation takes about a minute per process at 10M)
#   CROWD_BASELINES_MIX   the mix file (default bench/mixes/typical.mix; only
#                         its count lines are used)
#   CROWD_BASELINES_JSON  where the JSON result goes (default
#                         <build-dir>/baselines-<users>.json)
#   CROWD_BASELINES_DURATION  seconds of each throughput run (default 10)
#   CROWD_BASELINES_CROWD_BENCH=0  skip crowd's own throughput run; otherwise,
#                         when <build-dir>/crowd-bench exists, it runs the mix
#                         against crowdd at 32 connections first and
#                         crowd-baselines prints crowd's throughput as a
#                         multiple of Redis's (target >= 10x)
# Extra flags go to crowd-baselines, e.g. --samples 500. Needs redis-server:
# installed with apt-get when /usr/bin/redis-server is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
build=$(cd "$build" && pwd)
users=${CROWD_BENCH_USERS:-10000000}
seed=42
mix=${CROWD_BASELINES_MIX:-$root/bench/mixes/typical.mix}
json_out=${CROWD_BASELINES_JSON:-$build/baselines-$users.json}

for bin in crowdd crowd-baselines; do
  [[ -x "$build/$bin" ]] || { echo "run-baselines: no $build/$bin (cmake --build $build --target $bin)" >&2; exit 1; }
done
if [[ ! -x /usr/bin/redis-server ]]; then
  echo "run-baselines: installing redis-server (apt-get)" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The package starts a system-wide redis we do not want running.
  $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

tmp=$(mktemp -d /tmp/crowd-baselines-XXXXXX)
crowdd_pid=""
cleanup() {
  if [[ -n "$crowdd_pid" ]] && kill -0 "$crowdd_pid" 2>/dev/null; then
    kill -TERM "$crowdd_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$crowdd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$crowdd_pid" 2>/dev/null || true
    wait "$crowdd_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "run-baselines: starting crowdd --demo $users --seed $seed --threads 2" >&2
"$build/crowdd" --demo "$users" --seed "$seed" --threads 2 --host 127.0.0.1 --port 0 \
  --data-dir "$tmp/data" >"$tmp/crowdd.out" 2>"$tmp/crowdd.err" &
crowdd_pid=$!

# The port, from "crowdd listening on http://H:P".
url=""
for _ in $(seq 1 3000); do
  line=$(grep -m1 -o 'crowdd listening on http://[^ ]*' "$tmp/crowdd.out" 2>/dev/null || true)
  if [[ -n "$line" ]]; then url=${line#crowdd listening on }; break; fi
  kill -0 "$crowdd_pid" 2>/dev/null || { echo "run-baselines: crowdd exited:" >&2; cat "$tmp/crowdd.err" >&2; exit 1; }
  sleep 0.2
done
[[ -n "$url" ]] || { echo "run-baselines: crowdd did not start listening in 600 s" >&2; cat "$tmp/crowdd.err" >&2; exit 1; }
for _ in $(seq 1 300); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$url/healthz" >/dev/null || { echo "run-baselines: $url/healthz does not answer" >&2; exit 1; }
echo "run-baselines: crowdd ready at $url ($(curl -fsS "$url/healthz"))" >&2

# crowd's throughput on the same mix, 32 connections, when the load tool is
# built: crowd-baselines then prints it as a multiple of Redis's.
bench_flags=()
if [[ "${CROWD_BASELINES_CROWD_BENCH:-1}" != 0 && -x "$build/crowd-bench" ]]; then
  echo "run-baselines: crowd-bench, $mix, 32 connections, ${CROWD_BASELINES_DURATION:-10} s" >&2
  "$build/crowd-bench" --url "$url" --mix "$mix" --connections 32 --threads 2 \
    --duration "${CROWD_BASELINES_DURATION:-10}" --warmup 1 --json "$tmp/crowd-bench.json" >&2
  bench_flags=(--crowd-bench-json "$tmp/crowd-bench.json")
fi

"$build/crowd-baselines" --users "$users" --seed "$seed" --mix "$mix" --crowd-url "$url" --json "$json_out" \
  --duration "${CROWD_BASELINES_DURATION:-10}" "${bench_flags[@]}" "$@"
echo "run-baselines: JSON in $json_out" >&2
