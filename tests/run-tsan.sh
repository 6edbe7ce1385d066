#!/usr/bin/env bash
# The test suite under ThreadSanitizer (issue 5, item 6).
#
#   cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCROWD_TSAN=ON -DCROWD_BUILD_BENCH=OFF
#   cmake --build build-tsan -j2
#   tests/run-tsan.sh build-tsan [ctest options...]
#
# Extra options go to ctest after the defaults (--output-on-failure -j2), so
# `tests/run-tsan.sh build-tsan -L tsan-ci` or `-R 'index_store|e2e_'` runs a
# subset. TSAN_OPTIONS from the environment are appended, so they win.
#
# The end-to-end tests start build-tsan/crowdd as a child whose stderr goes to
# a temporary file the tests may never show. So every report, from a test or
# from crowdd, is written to BUILD_DIR/tsan-reports/ (log_path), printed at the
# end, and fails the run even when every test passed. Known false positives in
# uninstrumented or library code are suppressed by tests/tsan.supp, each entry
# with its reason; nothing of ours is.
#
# Exit status: ctest's when it failed, else 1 when a report was written, else 0.
set -euo pipefail

if [[ $# -lt 1 || ! -d "$1" ]]; then
  echo "usage: $0 BUILD_DIR [ctest options...]   (BUILD_DIR configured with -DCROWD_TSAN=ON)" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
shift
if ! grep -q '^CROWD_TSAN:BOOL=ON$' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "$0: $build is not a ThreadSanitizer build (configure it with -DCROWD_TSAN=ON)" >&2
  exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
supp="$here/tsan.supp"
reports="$build/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"

# halt_on_error: a process stops at its first report, so a race fails the test
# that caused it. second_deadlock_stack: lock-order reports show both stacks.
export TSAN_OPTIONS="suppressions=$supp halt_on_error=1 second_deadlock_stack=1 log_path=$reports/tsan ${TSAN_OPTIONS:-}"

# GCC 12's TSan runtime cannot map its shadow memory when the kernel
# randomises mmap with more than 28 bits ("FATAL: ThreadSanitizer: unexpected
# memory mapping"); run without address-space randomisation there.
launch=()
if [[ -r /proc/sys/vm/mmap_rnd_bits && $(cat /proc/sys/vm/mmap_rnd_bits) -gt 28 ]]; then
  launch=(setarch "$(uname -m)" -R)
fi

status=0
started=$SECONDS
"${launch[@]}" ctest --test-dir "$build" --output-on-failure -j2 "$@" || status=$?
echo "tests/run-tsan.sh: ctest took $((SECONDS - started)) s"

shopt -s nullglob
found=("$reports"/tsan.*)
if ((${#found[@]} > 0)); then
  for f in "${found[@]}"; do
    echo "==== $f"
    cat "$f"
  done
  echo "tests/run-tsan.sh: ThreadSanitizer wrote ${#found[@]} report file(s) in $reports" >&2
  ((status != 0)) || status=1
else
  echo "tests/run-tsan.sh: no ThreadSanitizer reports"
fi
exit "$status"
