"""What every crowd tool needs to talk to a real crowdd: start one (server.py),
ask it things over HTTP (client.py), read its Roaring exports (roaring.py), and
name the queries the tools send (queries.py, mixes.py).

Python 3.11 standard library only. The tools that use it (tools/*.py) put
tools/ on sys.path by living there.
"""
from pathlib import Path

# The repository root: default build directory, docs/ and bench/mixes/ live under it.
REPO = Path(__file__).resolve().parents[2]
