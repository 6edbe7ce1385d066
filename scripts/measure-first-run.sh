#!/usr/bin/env bash
# Measures the README's first command as a new user meets it: a fresh clone
# of this repository, the build packages purged, apt's package lists and
# the deb-src entry removed. Prints the seconds from the command's start
# until crowdd's /healthz answers on 127.0.0.1:8080, then stops crowdd.
#
# Destructive on purpose (it uninstalls the compiler and libraries), so it
# runs only with --purge-build-packages; afterwards run
# ./scripts/install-deps.sh to put the test packages back.
set -u
if [ "${1:-}" != "--purge-build-packages" ]; then
  echo "usage: measure-first-run.sh --purge-build-packages  (uninstalls g++, cmake and the -dev packages first)" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then echo "measure-first-run: run as root" >&2; exit 1; fi
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/crowd-first-run.XXXXXX)

purge=(libroaring-dev libroaring0 libsimdjson-dev libsimdjson14 libboost1.81-dev libboost-url1.81-dev
       libboost-url1.81.0 nlohmann-json3-dev libnats-dev libnats3.4 cmake build-essential g++ g++-12 pkg-config
       dpkg-dev)
installed=()
for p in "${purge[@]}"; do dpkg-query -W "$p" >/dev/null 2>&1 && installed+=("$p"); done
[ ${#installed[@]} -gt 0 ] && apt-get purge -y -qq "${installed[@]}" >"$work/purge.log" 2>&1
rm -f /etc/apt/sources.list.d/crowd-deb-src.sources
apt-get clean
rm -rf /var/lib/apt/lists/*

git clone -q "$repo" "$work/crowd"
cd "$work/crowd"
cmd=$(grep -m1 '^\./scripts/install-deps.sh --serve' README.md)
echo "measure-first-run: $cmd"
start=$(date +%s.%N)
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" \
  bash -c "$cmd" >"$work/first-run.log" 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:8080/healthz >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "measure-first-run: the command stopped before serving; see $work/first-run.log" >&2
    exit 1
  fi
  sleep 0.5
done
end=$(date +%s.%N)
echo "measure-first-run: serving after $(echo "$end - $start" | bc) s (log: $work/first-run.log)"
pkill -f "$work/crowd/build/crowdd" || pkill -f "build/crowdd --demo"
wait "$pid" 2>/dev/null
exit 0
