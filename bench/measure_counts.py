#!/usr/bin/env python3
"""Server-side count latency for a handful of typical queries.

Sends each query N times over one keep-alive connection to a running crowdd
and reports the median and p99 of the server's own `took_us` (so client and
network time are excluded). Usage: measure_counts.py PORT [N]
"""
import http.client, json, statistics, sys, urllib.parse

QUERIES = [
    ("1 tag", "gender:female"),
    ("2-term dense", "gender:female AND age:25-29"),
    ("2-term sparse", "member:brand_x AND aipl:brand_x:L"),
    ("3-term mixed", "gender:female AND power:high AND 兴趣:美妆"),
    ("and-not", "兴趣:美妆 AND NOT member:brand_x AND NOT aipl:brand_x:A"),
    ("5-term", "(gender:female AND age:25-29 AND tier:1) OR (student:yes AND NOT power:low)"),
    ("8-term", "gender:female AND (age:25-29 OR age:30-34) AND (tier:1 OR tier:2) AND power:high "
               "AND NOT member:brand_x AND platform:promo_sensitive"),
    ("prefix", "aipl:brand_x:* AND gender:female"),
    ("category prefix", "cat:1003774:* AND NOT gender:male"),
]

def main():
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    conn = http.client.HTTPConnection("127.0.0.1", port)
    print(f"{'query':18} {'count':>10} {'p50 us':>8} {'p99 us':>8}")
    for name, q in QUERIES:
        took = []
        count = None
        for _ in range(n):
            conn.request("GET", "/v1/count?q=" + urllib.parse.quote(q))
            body = json.loads(conn.getresponse().read())
            if "error" in body:
                raise SystemExit(f"{q}: {body}")
            took.append(body["took_us"])
            count = body["count"]
        took.sort()
        print(f"{name:18} {count:>10} {statistics.median(took):>8.0f} {took[int(0.99 * (len(took) - 1))]:>8}")

if __name__ == "__main__":
    main()
