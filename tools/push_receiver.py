#!/usr/bin/env python3
"""A receiver of crowd's activation pushes: the other end of the protocol in
activation/webhook_sink.h, kept as a set of IDs and a version in a JSON state
file. Used by the tests and the tutorial; Python's standard library only.

Webhook mode (serves until SIGTERM or SIGINT):

    push_receiver.py --state FILE [--host 127.0.0.1] [--port 0]
                     [--fail-first N] [--hang-first N] [--hang-at K] [--hang-seconds S]
                     [--expect-token T]

prints "push_receiver listening on http://HOST:PORT" once listening. A POST
(any path) is one chunk of a push: chunks are staged until the last, then the
push is applied at once. GET /state answers the state.

File mode, for a file destination's directory of payloads and manifests:

    push_receiver.py --apply-dir DIR --state FILE

applies every *.manifest.json not yet applied, in (version, seq, name) order,
after checking its payload's SHA-256 and line counts; exit 2 on a mismatch.

The state file: {"version", "applied": [push ids], "ids": [sorted],
"requests": POSTs seen, "pushes": [{"push", "mode", "version", "adds",
"removes"}]}, replaced atomically (a temporary file, then os.replace).
"""

import argparse
import csv
import hashlib
import hmac
import io
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MEDIA_TYPES = {"application/x-ndjson": "ndjson", "text/csv": "csv"}


class BadPayload(Exception):
    """A line that is not an add or a remove (answered 400)."""


class Conflict(Exception):
    """A chunk out of order, or a delta for another version (answered 409)."""


def parse_lines(fmt, text, first_chunk):
    """(adds, removes) of a payload's text; `first_chunk` expects the CSV
    header (when there are any lines at all)."""
    adds, removes = [], []

    def take(op, ident, where):
        if op not in ("add", "remove") or not isinstance(ident, str):
            raise BadPayload(f"line {where}: not an add or a remove")
        (adds if op == "add" else removes).append(ident)

    if fmt == "ndjson":
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise BadPayload(f"line {number}: not JSON") from None
            if not isinstance(record, dict):
                raise BadPayload(f"line {number}: not an object")
            take(record.get("op"), record.get("id"), number)
        return adds, removes
    # csv: RFC 4180 -- a quoted field may hold commas, "" and line breaks.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    expect_header = first_chunk
    try:
        for row in reader:
            if not row:
                continue
            if expect_header:
                expect_header = False
                if row != ["op", "id"]:
                    raise BadPayload(f"line {reader.line_num}: the header is not op,id")
                continue
            if len(row) != 2:
                raise BadPayload(f"line {reader.line_num}: not two fields")
            take(row[0], row[1], reader.line_num)
    except csv.Error as e:
        raise BadPayload(f"line {reader.line_num}: {e}") from None
    return adds, removes


class State:
    """The receiver's IDs, version and history; the caller holds the lock."""

    def __init__(self, path):
        self.path = path
        self.version = 0
        self.applied = []
        self.ids = set()
        self.requests = 0
        self.pushes = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            self.version = saved["version"]
            self.applied = saved["applied"]
            self.ids = set(saved["ids"])
            self.requests = saved.get("requests", 0)
            self.pushes = saved.get("pushes", [])

    def apply(self, push_id, mode, version, base_version, adds, removes):
        """Applies a whole push, or raises Conflict leaving everything as it was."""
        if mode == "full":
            self.ids = set(adds)
        else:
            if self.version != base_version:
                raise Conflict("base version mismatch")
            self.ids.difference_update(removes)
            self.ids.update(adds)
        self.version = version
        self.applied.append(push_id)
        self.pushes.append({"push": push_id, "mode": mode, "version": version,
                            "adds": len(adds), "removes": len(removes)})
        self.save()

    def as_json(self):
        return {"version": self.version, "applied": self.applied, "ids": sorted(self.ids),
                "requests": self.requests, "pushes": self.pushes}

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.as_json(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class Receiver:
    """Webhook mode: staging per push id, one lock around all state."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.state = State(args.state)
        self.staging = {}  # push id -> {"chunks", "mode", "version", "base", "adds", "removes"}

    def post(self, headers, body):
        """(status, JSON answer) for one POSTed chunk."""
        with self.lock:
            self.state.requests += 1
            ordinal = self.state.requests
        if self.args.expect_token is not None:
            given = headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.args.expect_token}".encode()):
                return 401, {"error": "unauthorized"}
        if ordinal <= self.args.fail_first:
            return 500, {"error": "failing on purpose (--fail-first)"}
        if ordinal <= self.args.hang_first or ordinal == self.args.hang_at:
            time.sleep(self.args.hang_seconds)
            return 503, {"error": "hung on purpose (--hang-first / --hang-at)"}
        try:
            push_id = headers["X-Crowd-Push"]
            k = int(headers["X-Crowd-Chunk"])
            last = headers["X-Crowd-Last"] == "1"
            mode = headers["X-Crowd-Mode"]
            version = int(headers["X-Crowd-Version"])
            base = int(headers["X-Crowd-Base-Version"])
        except (KeyError, TypeError, ValueError):
            return 400, {"error": "missing or malformed X-Crowd-* headers"}
        if not push_id or k < 1 or mode not in ("full", "delta"):
            return 400, {"error": "malformed X-Crowd-* headers"}
        media = headers.get("Content-Type", "").split(";")[0].strip().lower()
        with self.lock:
            return self.stage(push_id, k, last, (mode, version, base), media, body)

    def stage(self, push_id, k, last, identity, media, body):
        if push_id in self.state.applied:
            return 200, {"status": "already applied"}
        staged = self.staging.get(push_id)
        if k == 1:
            staged = None  # a new attempt of the push: an earlier partial one is void
            self.staging.pop(push_id, None)
        elif staged is not None and k == staged["chunks"]:
            return 200, {"status": "duplicate chunk"}
        elif staged is None or k != staged["chunks"] + 1:
            return 409, {"error": "chunk out of order"}
        if staged is not None and staged["identity"] != identity:
            del self.staging[push_id]
            return 400, {"error": "the push's mode or versions changed between chunks"}
        if media not in MEDIA_TYPES:
            self.staging.pop(push_id, None)
            return 415, {"error": "Content-Type is neither application/x-ndjson nor text/csv"}
        try:
            adds, removes = parse_lines(MEDIA_TYPES[media], body.decode("utf-8"), first_chunk=(k == 1))
        except (BadPayload, UnicodeDecodeError) as e:
            self.staging.pop(push_id, None)
            return 400, {"error": f"chunk {k}: {e}"}
        if staged is None:
            staged = {"chunks": 0, "identity": identity, "adds": [], "removes": []}
            self.staging[push_id] = staged
        staged["chunks"] = k
        staged["adds"].extend(adds)
        staged["removes"].extend(removes)
        if not last:
            return 200, {"status": "staged", "chunk": k}
        del self.staging[push_id]
        mode, version, base = identity
        try:
            self.state.apply(push_id, mode, version, base, staged["adds"], staged["removes"])
        except Conflict as e:
            return 409, {"error": str(e)}
        return 200, {"status": "applied", "version": version}

    def snapshot(self):
        with self.lock:
            return self.state.as_json()


def make_handler(receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            # The body is read whatever the answer, so that the answer is not
            # lost to a reset of a connection with unread data.
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer = receiver.post(self.headers, body)
            self.answer(status, answer)

        def do_GET(self):
            if self.path.split("?")[0] == "/state":
                self.answer(200, receiver.snapshot())
            else:
                self.answer(404, {"error": "only GET /state and POST"})

        def answer(self, status, document):
            data = json.dumps(document).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (a --hang-first answer, typically)

        def log_message(self, format, *args):  # noqa: A002 -- the base class's name
            pass  # quiet: the tests and the tutorial read stdout

    return Handler


def serve(args):
    receiver = Receiver(args)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(receiver))
    server.daemon_threads = True  # a hanging answer must not hold up the exit

    def on_signal(signum, frame):
        # shutdown() waits for serve_forever(), which runs on this very thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host, port = server.server_address[:2]
    print(f"push_receiver listening on http://{host}:{port}", flush=True)
    server.serve_forever(poll_interval=0.1)  # a stop takes effect within 0.1 s
    server.server_close()
    return 0


def fail(message):
    print(f"push_receiver: {message}", file=sys.stderr)
    return 2


def apply_dir(args):
    state = State(args.state)
    manifests = []
    for name in sorted(os.listdir(args.apply_dir)):
        if name.endswith(".manifest.json"):
            try:
                with open(os.path.join(args.apply_dir, name), encoding="utf-8") as f:
                    manifest = json.load(f)
                manifests.append((int(manifest["version"]), int(manifest.get("seq", 0)), name, manifest))
            except (OSError, ValueError, KeyError, TypeError) as e:
                return fail(f"{name}: unreadable manifest ({e.__class__.__name__})")
    # A crowd's pushes in order: by version, then by push number (an erasure
    # push carries the version before it).
    manifests.sort(key=lambda entry: entry[:3])
    applied = skipped = 0
    for _, _, name, m in manifests:
        try:
            outcome = apply_manifest(args.apply_dir, m, state)
        except (OSError, KeyError, TypeError, ValueError) as e:
            return fail(f"{name}: {e.__class__.__name__} {e}")
        if outcome == "skipped":
            skipped += 1
        elif outcome == "applied":
            applied += 1
        else:
            return fail(f"{name}: {outcome}")
    if applied == 0 and not os.path.exists(args.state):
        state.save()
    print(f"push_receiver applied {applied} pushes, skipped {skipped} already applied: "
          f"version {state.version}, {len(state.ids)} ids", flush=True)
    return 0


def apply_manifest(directory, m, state):
    """Returns "applied", "skipped", or why the manifest cannot be applied."""
    if m["push_id"] in state.applied:
        return "skipped"
    payload_name = m["payload"]
    if os.path.basename(payload_name) != payload_name:
        return "payload must be a file name in the directory"
    with open(os.path.join(directory, payload_name), "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != m["sha256"]:
        return "the payload's SHA-256 differs from the manifest's"
    if m.get("bytes") is not None and len(data) != m["bytes"]:
        return "the payload's size differs from the manifest's"
    if m["format"] not in ("ndjson", "csv") or m["mode"] not in ("full", "delta"):
        return "unknown format or mode"
    try:
        adds, removes = parse_lines(m["format"], data.decode("utf-8"), first_chunk=True)
    except (BadPayload, UnicodeDecodeError) as e:
        return str(e)
    if len(adds) != m["adds"] or len(removes) != m["removes"]:
        return "the payload's line counts differ from the manifest's"
    try:
        state.apply(m["push_id"], m["mode"], m["version"], m["base_version"], adds, removes)
    except Conflict as e:
        return str(e)
    return "applied"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", required=True, help="the JSON state file (created when missing)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--fail-first", type=int, default=0, help="answer the first N POSTs 500")
    parser.add_argument("--hang-first", type=int, default=0, help="the first N POSTs hang, then 503")
    parser.add_argument("--hang-at", type=int, default=0,
                        help="the K-th POST hangs, then 503 (a sender killed mid-push, chunks before it staged)")
    parser.add_argument("--hang-seconds", type=float, default=5.0)
    parser.add_argument("--expect-token", help="require Authorization: Bearer T (else 401)")
    parser.add_argument("--apply-dir", help="apply a file destination's directory instead of serving")
    args = parser.parse_args()
    return apply_dir(args) if args.apply_dir else serve(args)


if __name__ == "__main__":
    sys.exit(main())
