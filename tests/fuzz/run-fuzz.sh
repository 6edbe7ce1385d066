#!/usr/bin/env bash
# Short fuzz pass (CI): runs every BUILD_DIR/fuzz-<name> for SECONDS on a copy
# of its committed corpus (tests/fuzz/corpus/<name>/, never modified), with
# its dictionary when tests/fuzz/<name>.dict exists. Fails on the first target
# that crashes, leaks, times out or breaks an invariant; the input that did
# it is left in the work directory, whose path is printed.
#
#   tests/fuzz/run-fuzz.sh build-fuzz 30
#
# BUILD_DIR is a CROWD_FUZZ=ON build (Clang; see tests/fuzz/CMakeLists.txt).
# Environment: FUZZ_TARGETS="query wal" to run only some; FUZZ_WORK=DIR to
# keep the work directory (default: a fresh mktemp dir, removed on success).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
targets=${FUZZ_TARGETS:-"query ndjson csv taobao snapshot ids wal"}
work=${FUZZ_WORK:-$(mktemp -d /tmp/crowd-fuzz.XXXXXX)}
mkdir -p "$work"

# Longest input each target is given: a query fits kMaxQueryBytes anyway;
# files are kept small so that each run stays fast.
declare -A max_len=([query]=1024 [ndjson]=2048 [csv]=1024 [taobao]=1024 [snapshot]=8192 [ids]=4096 [wal]=4096)

failed=()
for name in $targets; do
  exe="$build/fuzz-$name"
  if [[ ! -x $exe ]]; then
    echo "run-fuzz: $exe missing (configure with -DCROWD_FUZZ=ON and build fuzz-$name)" >&2
    exit 2
  fi
  corpus="$work/$name"
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp -r "$here/corpus/$name/." "$corpus/"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 -max_len="${max_len[$name]:-4096}"
        -print_final_stats=1 -artifact_prefix="$work/$name-")
  [[ -f $here/$name.dict ]] && args+=(-dict="$here/$name.dict")
  echo "run-fuzz: fuzz-$name for ${seconds}s on a copy of $(ls "$corpus" | wc -l) corpus inputs"
  if "$exe" "${args[@]}" "$corpus" >"$work/$name.log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+[[:space:]]+DONE)' "$work/$name.log" | tr '\n' ' '
    echo
  else
    echo "run-fuzz: fuzz-$name FAILED; last lines of $work/$name.log:" >&2
    grep -v '^#[0-9]' "$work/$name.log" | tail -40 >&2
    ls "$work/$name-"* 2>/dev/null >&2 || true
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  echo "run-fuzz: failed: ${failed[*]} (inputs and logs in $work)" >&2
  exit 1
fi
[[ -n ${FUZZ_WORK:-} ]] || rm -rf "$work"
echo "run-fuzz: all targets ran ${seconds}s without a finding"
