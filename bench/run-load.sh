#!/usr/bin/env bash
# One command for the load numbers: starts crowdd on the demo population,
# replays the bench/mixes with crowd-bench (closed loop at 1 and 32
# connections, then open loop at half the measured throughput), then measures
# the ceiling of this machine's HTTP stack with nginx serving a 60-byte file
# to the same client, and prints crowd's cheap-count throughput as a fraction
# of nginx's (target >= 0.6). Everything it starts it stops on exit.
#
# Usage: bench/run-load.sh [build-dir]          (default: build)
#   CROWD_BENCH_USERS=100000 CROWD_BENCH_DURATION=5 bench/run-load.sh build
# Environment:
#   CROWD_BENCH_USERS          demo users (default 1000000)
#   CROWD_BENCH_DURATION       seconds measured per run (default 10)
#   CROWD_BENCH_WARMUP         seconds of warm-up per run (default 1)
#   CROWD_BENCH_THREADS        crowd-bench client threads (default 2)
#   CROWD_BENCH_SERVER_THREADS crowdd --threads and nginx worker_processes (default 2)
#   CROWD_BENCH_OPEN_FRACTION  open-loop rate as a fraction of the 32-connection
#                              typical throughput (default 0.5)
#   CROWD_BENCH_OUT            directory for the JSON and text results
#                              (default: a new temp dir, printed)
# Client and servers share the machine's cores: on a small machine the
# numbers are a lower bound, and noisy if anything else is running.
set -euo pipefail

build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
bench="$build/crowd-bench"
crowdd="$build/crowdd"
for bin in "$bench" "$crowdd"; do
  [[ -x "$bin" ]] || { echo "no $bin: cmake --build $build --target crowd-bench crowdd" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "run-load.sh needs curl" >&2; exit 1; }
command -v python3 >/dev/null || { echo "run-load.sh needs python3" >&2; exit 1; }

users=${CROWD_BENCH_USERS:-1000000}
duration=${CROWD_BENCH_DURATION:-10}
warmup=${CROWD_BENCH_WARMUP:-1}
threads=${CROWD_BENCH_THREADS:-2}
server_threads=${CROWD_BENCH_SERVER_THREADS:-2}
open_fraction=${CROWD_BENCH_OPEN_FRACTION:-0.5}
out=${CROWD_BENCH_OUT:-$(mktemp -d /tmp/crowd-load.XXXXXX)}
mkdir -p "$out"
work=$(mktemp -d /tmp/crowd-load-work.XXXXXX)

# Stop what we started, by pid, whatever way the script ends.
started=()
# terminate PID: SIGTERM, up to 10 s to exit, then SIGKILL. (A SIGTERM that
# lands between fork and exec is taken by the subshell's copy of our trap
# and lost, so waiting without a limit could hang.)
terminate() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${started[@]}"; do terminate "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# stop PID: stop one of ours now (and forget it, so cleanup cannot signal a
# recycled pid).
stop() {
  local pid=$1 kept=() p
  terminate "$pid"
  for p in "${started[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
  started=("${kept[@]}")
}

# json FILE EXPR: one value out of a crowd-bench report.
json() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# wait_for_http URL PID WHAT: until URL answers 2xx, while PID lives.
wait_for_http() {
  local i
  for ((i = 0; i < 600; i++)); do
    curl -sf -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited before answering $1" >&2; return 1; }
    sleep 0.1
  done
  echo "$3 did not answer $1 within 60 s" >&2
  return 1
}

# load NAME URL [crowd-bench flags...]: one run, report to stdout and $out.
load() {
  local name=$1 url=$2
  shift 2
  echo
  echo "== $name"
  "$bench" --url "$url" --duration "$duration" --warmup "$warmup" --threads "$threads" \
    --json "$out/$name.json" "$@" | tee "$out/$name.txt"
}

# --- crowd ------------------------------------------------------------------
echo "crowdd: generating $users demo users (seed 42), $server_threads threads ..."
: >"$work/crowdd.out"  # exists before the first look, whenever the child opens it
"$crowdd" --demo "$users" --seed 42 --threads "$server_threads" --host 127.0.0.1 --port 0 \
  --data-dir "$work/data" >>"$work/crowdd.out" 2>"$work/crowdd.err" &
crowdd_pid=$!
started+=("$crowdd_pid")
port=
for ((i = 0; i < 6000; i++)); do
  port=$(sed -n 's|^crowdd listening on http://[^ ]*:\([0-9][0-9]*\)$|\1|p' "$work/crowdd.out")
  [[ -n "$port" ]] && break
  kill -0 "$crowdd_pid" 2>/dev/null || { echo "crowdd failed to start:" >&2; cat "$work/crowdd.err" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "crowdd did not print its port within 10 minutes" >&2; exit 1; }
crowd_url="http://127.0.0.1:$port"
wait_for_http "$crowd_url/healthz" "$crowdd_pid" crowdd
cat "$work/crowdd.err"
echo "crowdd: $crowd_url $(curl -s "$crowd_url/healthz")"

load typical-c1 "$crowd_url" --mix "$here/mixes/typical.mix" --connections 1
load cheap-c32 "$crowd_url" --mix "$here/mixes/cheap.mix" --connections 32
load typical-c32 "$crowd_url" --mix "$here/mixes/typical.mix" --connections 32
rate=$(json "$out/typical-c32.json" "max(1.0, round(d['throughput_rps'] * $open_fraction, 1))")
load typical-open "$crowd_url" --mix "$here/mixes/typical.mix" --connections 32 --rate "$rate"

stop "$crowdd_pid"

# --- the nginx ceiling --------------------------------------------------------
nginx=/usr/sbin/nginx
if [[ ! -x "$nginx" ]]; then
  echo "installing nginx-light for the ceiling run ..."
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -q nginx-light >/dev/null
fi
# nginx cannot report a port it picked, so ask the kernel for a free one.
nginx_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/www" "$work/nginx/logs"
printf '%059d\n' 0 >"$work/nginx/www/file"  # 60 bytes, the size of a small JSON answer
# Started as root, nginx's workers run as nobody: they must reach the file.
chmod 755 "$work" "$work/nginx" "$work/nginx/www"
chmod 644 "$work/nginx/www/file"
cat >"$work/nginx/nginx.conf" <<EOF
# Generated by bench/run-load.sh: a static file over keep-alive, nothing else.
daemon off;
worker_processes $server_threads;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  default_type text/plain;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/www;
    location = /file { }
  }
}
EOF
echo 'nginx: serving a 60-byte file'
echo '1 get /file' >"$work/nginx.mix"
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" &
nginx_pid=$!
started+=("$nginx_pid")
wait_for_http "http://127.0.0.1:$nginx_port/file" "$nginx_pid" nginx
load nginx-c32 "http://127.0.0.1:$nginx_port" --mix "$work/nginx.mix" --connections 32

# --- summary ------------------------------------------------------------------
echo
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
runs = ["typical-c1", "cheap-c32", "typical-c32", "typical-open", "nginx-c32"]
docs = {r: json.load(open(os.path.join(out, r + ".json"))) for r in runs}
fmt = lambda v: "-" if v is None else f"{v:.0f}"
print(f"{'run':14} {'mode':6} {'conns':>5} {'req/s':>10} {'p50 us':>8} {'p90 us':>8} {'p99 us':>8} {'p99.9 us':>9} {'max us':>8} {'errors':>7} {'late':>6}")
for r in runs:
    d = docs[r]; l = d["latency_us"]
    print(f"{r:14} {d['mode']:6} {d['connections']:>5} {d['throughput_rps']:>10.0f} {fmt(l['p50']):>8} {fmt(l['p90']):>8} "
          f"{fmt(l['p99']):>8} {fmt(l['p999']):>9} {fmt(l['max']):>8} {d['errors']:>7} {d['behind_schedule'] if d['mode'] == 'open' else '':>6}")
o = docs["typical-open"]; d = o["send_delay_us"]
print(f"\ntypical-open at {o['rate']:.0f} req/s: {o['queued']} requests queued for a free connection, "
      f"{o['late_dispatch']} dispatched late by the client;\n  client-side send delay p50 {fmt(d['p50'])} us, "
      f"p99 {fmt(d['p99'])} us (of latency p99 {fmt(o['latency_us']['p99'])} us)")
ratio = docs["cheap-c32"]["throughput_rps"] / docs["nginx-c32"]["throughput_rps"]
verdict = "meets" if ratio >= 0.6 else "below"
print(f"\ncrowd cheap-count / nginx static-file throughput at 32 connections: {ratio:.2f} ({verdict} the 0.6 target)")
summary = {"runs": docs, "crowd_to_nginx_ratio": ratio}
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=2)
print(f"results: {out}")
PY
