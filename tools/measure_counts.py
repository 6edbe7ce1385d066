#!/usr/bin/env python3
"""Server-side count latency for the typical queries (crowd_tools.queries.TYPICAL).

Sends each query N times over one keep-alive connection to a running crowdd on
127.0.0.1:PORT and reports the median and p99 of the server's own `took_us`
(so client and network time are excluded). Usage: tools/measure_counts.py PORT [N]
"""
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from crowd_tools.client import Client  # noqa: E402
from crowd_tools.queries import TYPICAL  # noqa: E402


def main() -> int:
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    client = Client(port)
    print(f"{'query':18} {'count':>10} {'p50 us':>8} {'p99 us':>8}")
    for name, q in TYPICAL:
        took = []
        count = None
        for _ in range(n):
            body, _ = client.count(q)
            took.append(body["took_us"])
            count = body["count"]
        took.sort()
        print(f"{name:18} {count:>10} {statistics.median(took):>8.0f} {took[int(0.99 * (len(took) - 1))]:>8}")
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
