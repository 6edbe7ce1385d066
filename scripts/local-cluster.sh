#!/usr/bin/env bash
# A local crowd cluster on loopback, for trying and for tests (docs/cluster.md):
# 3 etcd members, 3 nats-server members with JetStream, 4 shards x 2
# replicas of crowdd (--shard K) and 2 routers (crowdd --router), every one
# on free 127.0.0.1 ports, with its data and log under DIR. SHARDS, REPLICAS
# and ROUTERS change the counts; ROUTER_FLAGS and SHARD_FLAGS add flags;
# NATS_MAX_PAYLOAD sets nats-server's max_payload (default 8MB).
#
#   scripts/local-cluster.sh start [DIR]   prints every URL and the pid of
#                                           every process it started
#   scripts/local-cluster.sh stop [DIR]    stops all of them (SIGTERM, then
#                                           SIGKILL after 10 s)
#
# DIR defaults to /tmp/crowd-cluster. Needs build/crowdd (the README's build;
# CROWDD=PATH for another) and etcd-server, nats-server
# (scripts/install-deps.sh). Clients talk to the routers: any router serves
# any request.
set -euo pipefail
cd "$(dirname "$0")/.."

command=${1:-}
dir=${2:-/tmp/crowd-cluster}
crowdd=${CROWDD:-build/crowdd}
shards=${SHARDS:-4}
replicas=${REPLICAS:-2}
routers=${ROUTERS:-2}
cluster=local

free_ports() {  # N free loopback ports, one a line
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

wait_for() {  # URL, what: polls until the URL answers (30 s)
  for _ in $(seq 1 300); do
    if curl -fs -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "local-cluster: $2 did not come up (see $dir/*.log)" >&2
  return 1
}

start() {
  if [[ -e $dir/pids ]]; then
    echo "local-cluster: $dir/pids exists: stop that cluster first (local-cluster.sh stop $dir)" >&2
    exit 1
  fi
  for tool in etcd nats-server; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
      { echo "local-cluster: $tool is not installed (scripts/install-deps.sh)" >&2; exit 1; }
  done
  [[ -x $crowdd ]] || { echo "local-cluster: $crowdd is missing (build it first)" >&2; exit 1; }
  mkdir -p "$dir"
  # A start that fails half way stops what it started.
  trap 'echo "local-cluster: start failed: stopping what was started" >&2; stop >/dev/null 2>&1 || true' ERR
  mapfile -t ports < <(free_ports $((6 + 9 + shards * replicas + routers)))
  # The key sealing ID page cursors, shared by routers and replicas, so that
  # any of them continues a walk another began.
  python3 -c 'import secrets; print(secrets.token_hex(32))' >"$dir/cursor.key"
  chmod 600 "$dir/cursor.key"
  : >"$dir/pids"
  local i p=0

  # etcd: 3 members.
  local initial="" etcd_endpoints=""
  for i in 0 1 2; do
    initial+="${initial:+,}e$i=http://127.0.0.1:${ports[p + 3 + i]}"
    etcd_endpoints+="${etcd_endpoints:+,}127.0.0.1:${ports[p + i]}"
  done
  for i in 0 1 2; do
    etcd --name "e$i" --data-dir "$dir/etcd$i" \
      --listen-client-urls "http://127.0.0.1:${ports[p + i]}" --advertise-client-urls "http://127.0.0.1:${ports[p + i]}" \
      --listen-peer-urls "http://127.0.0.1:${ports[p + 3 + i]}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${ports[p + 3 + i]}" \
      --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token "crowd-$cluster" \
      --log-level warn >"$dir/etcd$i.log" 2>&1 &
    echo "$! etcd$i http://127.0.0.1:${ports[p + i]}" >>"$dir/pids"
  done
  p=$((p + 6))

  # nats-server: 3 members, JetStream, one cluster.
  local nats_bin routes="" nats_urls=""
  nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  for i in 0 1 2; do
    routes+="${routes:+,}nats://127.0.0.1:${ports[p + 3 + i]}"
    nats_urls+="${nats_urls:+,}nats://127.0.0.1:${ports[p + i]}"
  done
  # Messages up to 8 MiB (NATS's advice for the most; the default is 1 MiB):
  # a router cuts a large write into fewer stream messages, and each costs a
  # replica one batch.
  printf 'max_payload: %s\n' "${NATS_MAX_PAYLOAD:-8MB}" >"$dir/nats.conf"
  for i in 0 1 2; do
    "$nats_bin" -c "$dir/nats.conf" -js -sd "$dir/nats$i" -a 127.0.0.1 -p "${ports[p + i]}" -m "${ports[p + 6 + i]}" -n "n$i" \
      --cluster_name "crowd-$cluster" --cluster "nats://127.0.0.1:${ports[p + 3 + i]}" --routes "$routes" \
      >"$dir/nats$i.log" 2>&1 &
    echo "$! nats$i nats://127.0.0.1:${ports[p + i]}" >>"$dir/pids"
  done
  for i in 0 1 2; do wait_for "http://127.0.0.1:${ports[p + 6 + i]}/healthz" "nats$i"; done
  p=$((p + 9))

  # crowdd: shards x replicas.
  local k r port
  for ((k = 0; k < shards; ++k)); do
    for ((r = 0; r < replicas; ++r)); do
      port=${ports[p]}
      p=$((p + 1))
      "$crowdd" --port "$port" --data-dir "$dir/shard$k-$r" --cluster "$cluster" --shard "$k" \
        --nats "$nats_urls" --etcd "$etcd_endpoints" --cursor-key-file "$dir/cursor.key" ${SHARD_FLAGS:-} \
        >"$dir/shard$k-$r.log" 2>&1 &
      echo "$! shard$k-replica$r http://127.0.0.1:$port" >>"$dir/pids"
    done
  done
  while read -r pid name url; do
    case $name in shard*) wait_for "$url/healthz" "$name" ;; esac
  done <"$dir/pids"

  # Routers: the first to start places the partitions on $shards shards.
  local router_urls=""
  for ((r = 0; r < routers; ++r)); do
    port=${ports[p]}
    p=$((p + 1))
    "$crowdd" --router --port "$port" --cluster "$cluster" --shards "$shards" --nats "$nats_urls" \
      --etcd "$etcd_endpoints" --cursor-key-file "$dir/cursor.key" ${ROUTER_FLAGS:-} >"$dir/router$r.log" 2>&1 &
    echo "$! router$r http://127.0.0.1:$port" >>"$dir/pids"
    router_urls+="${router_urls:+ }http://127.0.0.1:$port"
  done
  while read -r pid name url; do
    case $name in router*) wait_for "$url/healthz" "$name" ;; esac
  done <"$dir/pids"
  echo "cluster '$cluster' in $dir:"
  echo "  etcd: $etcd_endpoints"
  echo "  nats: $nats_urls"
  echo "  routers: $router_urls"
  echo "  processes (pid, name, URL):"
  sed 's/^/    /' "$dir/pids"
}

stop() {
  [[ -e $dir/pids ]] || { echo "local-cluster: no cluster in $dir" >&2; exit 1; }
  # crowdd first (routers, replicas), while etcd still answers their lease
  # revocations; then NATS; etcd last, one member at a time (members
  # stopping together wait out failed leader transfers: 7 s, not 0.2 s).
  # Anything still running after 10 s is SIGKILLed.
  stop_group '^router'
  stop_group '^shard'
  stop_group '^nats'
  stop_group '^etcd0$'
  stop_group '^etcd1$'
  stop_group '.'
  rm -f "$dir/pids"
  echo "local-cluster: stopped (data and logs kept in $dir)"
}

running() {  # PID: alive and not a zombie waiting to be reaped (our children outlive this shell)
  kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

stop_group() {  # REGEX of names
  local pid name url
  while read -r pid name url; do
    [[ $name =~ $1 ]] && { kill -TERM "$pid" 2>/dev/null || true; }
  done <"$dir/pids"
  for _ in $(seq 1 100); do
    local alive=0
    while read -r pid name url; do
      [[ $name =~ $1 ]] && running "$pid" && alive=1
    done <"$dir/pids"
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  while read -r pid name url; do
    [[ $name =~ $1 ]] && { kill -KILL "$pid" 2>/dev/null || true; }
  done <"$dir/pids"
  return 0
}

case $command in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
