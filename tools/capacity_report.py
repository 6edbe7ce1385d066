#!/usr/bin/env python3
"""The capacity report (docs/capacity.md): see tools/capacity/main.py, or --help.

  bench/run-capacity-report.sh BUILD_DIR     # the documented command (builds first)
  tools/capacity_report.py --build DIR [--users 1000000,10000000] [--out DIR] [--quick]
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from capacity.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
