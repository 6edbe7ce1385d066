#!/usr/bin/env bash
# The capacity report: writes docs/capacity.md, docs/capacity/*.png and
# docs/capacity/raw.json from one run of tools/capacity_report.py.
# Usage: bench/run-capacity-report.sh BUILD_DIR [tools/capacity_report.py flags...]
#   bench/run-capacity-report.sh build                          # 1M and 10M users
#   bench/run-capacity-report.sh build --users 1000000,10000000,100000000
#                                     # and 100M, if MemAvailable allows (it says what it needs)
#   bench/run-capacity-report.sh build --users 20000 --quick --out /tmp/cap   # a smoke run
# It first brings crowdd, crowd-gen and crowd-bench in BUILD_DIR up to date
# (CROWD_CAPACITY_NO_BUILD=1 skips that). Run it on an otherwise idle machine:
# the client shares the cores with the server, and other load skews every figure.
set -euo pipefail
if [[ $# -lt 1 || $1 == -* ]]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
if [[ -z ${CROWD_CAPACITY_NO_BUILD:-} ]]; then
  cmake --build "$build" --target crowdd crowd-gen crowd-bench -j "$(nproc)" >&2
fi
export CROWD_CAPACITY_COMMAND="bench/run-capacity-report.sh $build${*:+ $*}"
exec python3 "$here/../tools/capacity_report.py" --build "$build" "$@"
