#!/usr/bin/env python3
"""Unit tests of tools/crowd_tools: the Roaring reader against the format's reference files and
against crowdd's own exports, the server runner and the HTTP clients against a real crowdd.

  CROWD_BUILD=build CROWD_SHARED_DATA=../shared/data python3 tools/tests/test_crowd_tools.py

ctest runs it as crowd_tools.unit (tests/CMakeLists.txt), with the build directory of crowdd and
the shared data directory the C++ tests use. Python 3.11 standard library only.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from crowd_tools import mixes, roaring  # noqa: E402
from crowd_tools.client import BareClient, Client, HttpError, quote  # noqa: E402
from crowd_tools.queries import TYPICAL  # noqa: E402
from crowd_tools.server import Server, ServerError  # noqa: E402

BUILD = Path(os.environ.get("CROWD_BUILD", Path(__file__).resolve().parents[2] / "build"))
SHARED = Path(os.environ.get("CROWD_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
FORMAT_FILES = SHARED / "roaring-format"


def spec_32bit_values() -> list[int]:
    """RoaringFormatSpec testdata/README.md: the Java program that wrote bitmapwith(out)runs.bin."""
    return sorted(set(range(0, 100000, 1000)) | {3 * k for k in range(100000, 200000)} | set(range(700000, 800000)))


def spec_bitmap64_values() -> list[int]:
    """testdata64/README.md, bitmap64.bin: evens below 2^16, [2^32, 2^32 + 10^6), and 2^48."""
    return list(range(0, 65536, 2)) + list(range(1 << 32, (1 << 32) + 1000000)) + [1 << 48]


def spec_portable64_values() -> list[int]:
    """testdata64/README.md, portable_bitmap64.bin: the same 32-bit pattern in buckets 0 and 1
    (closed ranges [0, 0x9000] and [0xA000, 0x10000], 0x20000, 0x20005, evens of [0x80000, 0x90000))."""
    out = []
    for i in range(2):
        base = i << 32
        low = (list(range(0, 0x9001)) + list(range(0xA000, 0x10001)) + [0x20000, 0x20005]
               + list(range(0x80000, 0x90000, 2)))
        out += [base | v for v in low]
    return out


class RoaringReferenceFiles(unittest.TestCase):
    """The public format's own reference files, against the programs that wrote them."""

    def read(self, name: str) -> bytes:
        path = FORMAT_FILES / name
        self.assertTrue(path.exists(), f"{path} (set CROWD_SHARED_DATA to the shared data directory)")
        return path.read_bytes()

    def check(self, name: str, fmt: str, expected: list[int]) -> None:
        buf = self.read(name)
        d = roaring.decode(buf)
        self.assertEqual(d.format, fmt)
        self.assertEqual(d.cardinality, len(expected))
        self.assertEqual(d.values, expected)
        self.assertEqual(roaring.cardinality(buf), len(expected))
        self.assertIsNone(roaring.decode(buf, values=False).values)

    def test_32bit_without_runs(self):
        self.check("bitmapwithoutruns.bin", "32-bit", spec_32bit_values())

    def test_32bit_with_runs(self):
        self.check("bitmapwithruns.bin", "32-bit", spec_32bit_values())

    def test_64bit(self):
        self.check("bitmap64.bin", "64-bit", spec_bitmap64_values())

    def test_64bit_portable(self):
        self.check("portable_bitmap64.bin", "64-bit", spec_portable64_values())

    def test_malformed_bodies_are_refused(self):
        for name in ("bitmapwithruns.bin", "bitmapwithoutruns.bin", "portable_bitmap64.bin"):
            buf = self.read(name)
            for bad in (buf[:-1], buf[: len(buf) // 2], buf + b"\0", b"\x01\x02\x03"):
                with self.subTest(name=name, length=len(bad)):
                    with self.assertRaises(roaring.RoaringError):
                        roaring.decode(bad)
                    with self.assertRaises(roaring.RoaringError):
                        roaring.cardinality(bad)
        # A bitset container whose header declares one member more than it holds.
        buf = bytearray(self.read("bitmapwithoutruns.bin"))
        size = int.from_bytes(buf[4:8], "little")
        for i in range(size):
            card = int.from_bytes(buf[8 + 4 * i + 2:8 + 4 * i + 4], "little") + 1
            if card > 4096:
                buf[8 + 4 * i + 2:8 + 4 * i + 4] = card.to_bytes(2, "little")  # card - 1 + 1
                break
        with self.assertRaises(roaring.RoaringError):
            roaring.decode(bytes(buf))

    def test_empty_bitmaps(self):
        empty32 = (12346).to_bytes(4, "little") + (0).to_bytes(4, "little")
        self.assertEqual(roaring.decode(empty32), roaring.Decoded("32-bit", 0, []))
        self.assertEqual(roaring.decode(bytes(8)), roaring.Decoded("64-bit", 0, []))


class AgainstCrowdd(unittest.TestCase):
    """The server runner, the clients and the Roaring reader against a real crowdd on a small demo
    population, with users of 64-bit IDs ingested on top."""

    USERS = 5000
    BIG_IDS = [(1 << 40) + 7, (1 << 40) + 9, (3 << 33) + 1, 2**64 - 1]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="crowd-tools-test-")
        cls.server = Server(BUILD, ["--demo", str(cls.USERS)], data_dir=os.path.join(cls.tmp, "data"), threads=2,
                            log_path=os.path.join(cls.tmp, "crowdd.log"))
        cls.server.start(timeout=60)
        cls.client = Client(cls.server.port, timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.server.stop(30)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_runner_serves_on_its_own_loopback_port(self):
        self.assertGreater(self.server.port, 0)
        self.assertTrue(self.server.alive())
        health, _ = self.client.json("GET", "/healthz")
        self.assertEqual(health["status"], "ok")
        self.assertGreaterEqual(health["users"], self.USERS)
        mem = self.server.memory()
        self.assertGreater(mem["rss"], 1 << 20)
        self.assertGreaterEqual(mem["hwm"], mem["rss"])
        self.assertGreaterEqual(self.server.cpu_seconds(), 0)

    def test_a_second_server_starts_and_stops_cleanly(self):
        with tempfile.TemporaryDirectory() as d:
            other = Server(BUILD, ["--demo", "100"], log_path=os.path.join(d, "log"))
            seconds = other.start(timeout=60)
            self.assertGreater(seconds, 0)
            self.assertNotEqual(other.port, self.server.port)
            c = Client(other.port)
            self.assertEqual(c.count("ALL")[0]["count"], 100)
            c.close()
            stopped = other.stop(30)
            self.assertEqual(stopped.code, 0)
            self.assertFalse(other.alive())
            self.assertIn("crowdd", other.stderr())

    def test_a_server_that_cannot_start_says_why(self):
        with tempfile.TemporaryDirectory() as d:
            bad = Server(BUILD, ["--no-such-flag"], log_path=os.path.join(d, "log"))
            with self.assertRaises(ServerError) as e:
                bad.start(timeout=30)
            self.assertIn("exited", str(e.exception))
            self.assertIn("no-such-flag", str(e.exception))
            bad.stop()

    def test_client_statuses_and_metrics(self):
        with self.assertRaises(HttpError) as e:
            self.client.call("GET", "/v1/count?q=" + quote("gender:female AND ("))
        self.assertEqual(e.exception.status, 400)
        r = self.client.request("GET", "/v1/count?q=" + quote("AND"))
        self.assertEqual(r.status, 400)
        self.assertIn("error", json.loads(r.body))
        before = self.client.metrics()["requests"]
        self.client.count("gender:female")
        self.assertEqual(self.client.metrics()["requests"], before + 1)

    def test_bare_client_agrees_with_client(self):
        raw = BareClient(self.server.port, timeout=60)
        try:
            for _, q in TYPICAL:
                body, seconds = raw.get("/v1/count?q=" + quote(q))
                self.assertEqual(json.loads(body)["count"], self.client.count(q)[0]["count"], q)
                self.assertGreater(seconds, 0)
            with self.assertRaises(HttpError):
                raw.get("/v1/count?q=" + quote("("))
        finally:
            raw.close()

    def test_mix_queries_are_valid_queries(self):
        for name, kind in (("typical", "count"), ("edited", "count"), ("first-page", "ids")):
            queries = mixes.queries(name, kind)
            self.assertTrue(queries, name)
            for q in queries:
                self.client.count(q)  # raises HttpError unless 200

    def roaring_export(self, q: str) -> tuple[roaring.Decoded, int]:
        r = self.client.call("GET", "/v1/ids?q=" + quote(q) + "&format=roaring")
        return roaring.decode(r.body), int(r.headers["x-crowd-count"])

    def test_roaring_exports_hold_the_json_id_lists(self):
        for q in ["gender:female", "student:yes AND power:high", "member:brand_x AND aipl:brand_x:L",
                  "ALL", "gender:female AND NOT gender:female"]:
            with self.subTest(q=q):
                d, declared = self.roaring_export(q)
                ids = sorted(self.client.ids(q))
                # The contract: the 32-bit format when every ID < 2^32 (an empty crowd too), else 64-bit.
                self.assertEqual(d.format, "32-bit" if not ids or ids[-1] < 1 << 32 else "64-bit")
                self.assertEqual(d.values, ids)
                self.assertEqual(d.cardinality, declared)
                self.assertEqual(declared, self.client.count(q)[0]["count"])
                csv = self.client.call("GET", "/v1/ids?q=" + quote(q) + "&format=csv").body.split()
                self.assertEqual(sorted(int(x) for x in csv), ids)

    def test_roaring_export_of_64bit_ids(self):
        small = [11, 12, 4000000000]
        lines = [json.dumps({"id": u, "tags": ["crowd_tools_test:wide"]}) for u in self.BIG_IDS + small]
        self.client.call("POST", "/v1/ingest", "\n".join(lines) + "\n", "application/x-ndjson")
        d, declared = self.roaring_export("crowd_tools_test:wide")
        self.assertEqual(d.format, "64-bit")
        self.assertEqual(d.values, sorted(self.BIG_IDS + small))
        self.assertEqual(declared, len(self.BIG_IDS) + len(small))
        self.assertEqual(sorted(self.client.ids("crowd_tools_test:wide")), d.values)


if __name__ == "__main__":
    if not (BUILD / "crowdd").exists():
        print(f"no crowdd in {BUILD} (set CROWD_BUILD)", file=sys.stderr)
        sys.exit(2)
    unittest.main(verbosity=2)
