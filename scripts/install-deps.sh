#!/usr/bin/env bash
# Installs everything crowd needs to build and test on Debian 12 (with
# --serve: only what building and running crowdd needs), from Debian's
# archive only, then fetches Debian's CRoaring source so the build
# can compile it for this CPU (see cmake/CRoaring.cmake). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -E "$0" "$@"; fi
  echo "install-deps: run as root (or install sudo)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# What building and serving needs (the README's first command passes --serve
# and installs only these), then what the tests, benchmarks and tools add.
serve_packages=(
  build-essential cmake pkg-config dpkg-dev xz-utils ca-certificates curl
  libroaring-dev            # CRoaring headers + Debian's generic build (fallback, and the benchmark baseline)
  libboost1.81-dev          # Asio, Beast, unordered_flat_map, CRC
  libboost-url1.81-dev      # query-string parsing
  nlohmann-json3-dev        # JSON at the edges (tests, tools)
  libsimdjson-dev           # request and NDJSON parsing
  libssl-dev                # libcrypto: SHA-256 (audit log, pushed files), HMAC-SHA256 and RAND_bytes (page cursors, push ids), MD5 and SHA-256 of ID types
  libnats-dev               # the NATS C client: the cluster's write stream on JetStream (docs/cluster.md)
)
test_packages=(
  libgtest-dev libbenchmark-dev
  libhiredis-dev            # the Redis baseline client (bench/)
  python3 gnuplot-nox       # the capacity report and its plots, the push receiver of the activation tests (tools/)
  python3-jsonschema        # the OpenAPI check of every route's answers (tests/openapi/)
  jq                        # the tutorial's commands (docs/tutorial.md, tools/make_tutorial.py)
  etcd-server               # the cluster's control plane (docs/cluster.md): tests start their own members
  nats-server               # the cluster's write stream (JetStream), likewise
)
case "${1:-}" in
  --serve) packages=("${serve_packages[@]}") ;;
  "") packages=("${serve_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: install-deps.sh [--serve]" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
./scripts/fetch-croaring.sh
