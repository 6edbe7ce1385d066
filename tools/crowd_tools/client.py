"""HTTP clients for crowdd on 127.0.0.1.

  Client      one keep-alive connection (http.client), opened on first use and
              reopened after a drop: request() returns any answer, call() only
              the expected status (else HttpError); json(), count(), metrics()
              on top; stream() opens a separate connection for reading a big
              export piece by piece.
  BareClient  keep-alive HTTP/1.1 straight on a socket, for latency loops:
              http.client parses every response header through the email
              package, ~100 µs a request, which would swamp the round trip
              being measured. Content-Length bodies only (no chunked exports).

Transport failures surface as OSError or http.client.HTTPException, with the
connection dropped so the next request opens a new one.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import time
import urllib.parse
from typing import Iterator, NamedTuple


class HttpError(RuntimeError):
    """An answer with a status the caller did not expect."""

    def __init__(self, method: str, target: str, status: int, body: bytes, expected=(200,)):
        super().__init__(f"{method} {target[:200]}: HTTP {status} (wanted {'/'.join(map(str, expected))}): "
                         f"{body[:500]!r}")
        self.status = status
        self.body = body


class Response(NamedTuple):
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    seconds: float  # from sending the request to the last byte of the body


def quote(text: str) -> str:
    """Text for a query-string value (every reserved character escaped, '/' too)."""
    return urllib.parse.quote(text, safe="")


def parse_metrics(text: str) -> dict[str, int]:
    """Prometheus text from GET /metrics: every unlabelled series by name, and "requests", the sum of
    crowd_requests_total over every route but /metrics itself."""
    out: dict[str, int] = {"requests": 0}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        if name.startswith("crowd_requests_total{") and 'route="/metrics"' not in name:
            out["requests"] += int(float(value))
        elif "{" not in name:
            out[name] = int(float(value))
    return out


class Client:
    """One keep-alive connection to crowdd on 127.0.0.1:port.

    token: sent as "Authorization: Bearer TOKEN" on every request. retry_idle: resend a GET once when
    the reused connection turns out closed (crowdd closes keep-alive connections idle for its
    --read-timeout, 30 s by default); off by default, so a tool that judges every failure sees them all.
    """

    def __init__(self, port: int, token: str | None = None, timeout: float = 900, retry_idle: bool = False):
        self.port = port
        self.timeout = timeout
        self.retry_idle = retry_idle
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn: http.client.HTTPConnection | None = None

    def drop(self) -> None:
        """Closes the connection; the next request opens a new one."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    close = drop

    def request(self, method: str, target: str, body: bytes | str | None = None,
                content_type: str = "application/json", headers: dict | None = None) -> Response:
        """Sends one request and reads the whole answer, whatever its status."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        sent = dict(self.headers)
        if body is not None:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            t0 = time.perf_counter()
            try:
                self.conn.request(method, target, body=body, headers=sent)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.drop()
                if attempt == 2 or not (self.retry_idle and reused and method == "GET"):
                    raise
            except (OSError, http.client.HTTPException):
                self.drop()
                raise
        seconds = time.perf_counter() - t0
        got = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self.drop()
        return Response(resp.status, got, data, seconds)

    def call(self, method: str, target: str, body: bytes | str | None = None,
             content_type: str = "application/json", expect=(200,)) -> Response:
        """request(), raising HttpError unless the status is in `expect`."""
        r = self.request(method, target, body, content_type)
        if r.status not in expect:
            raise HttpError(method, target, r.status, r.body, expect)
        return r

    def json(self, method: str, target: str, obj=None) -> tuple[dict, float]:
        """A JSON request (obj, if any, as the body) answered 200: (the answer, seconds)."""
        r = self.call(method, target, json.dumps(obj) if obj is not None else None)
        return json.loads(r.body), r.seconds

    def count(self, q: str) -> tuple[dict, float]:
        """GET /v1/count?q=Q: ({"count": n, "took_us": t, ...}, seconds)."""
        return self.json("GET", "/v1/count?q=" + quote(q))

    def ids(self, q: str) -> list[int]:
        """Every ID of a crowd, walking POST /v1/ids pages of 10,000 with the cursor."""
        out: list[int] = []
        cursor = None
        while True:
            page, _ = self.json("POST", "/v1/ids", {"q": q, "limit": 10000, "cursor": cursor})
            out += [int(i) for i in page["ids"]]
            cursor = page.get("cursor")
            if cursor is None:
                return out

    def metrics(self) -> dict[str, int]:
        """GET /metrics, parsed by parse_metrics()."""
        return parse_metrics(self.call("GET", "/metrics").body.decode())

    @contextlib.contextmanager
    def stream(self, method: str, target: str) -> Iterator[http.client.HTTPResponse]:
        """A request on a connection of its own whose answer is read by the caller, as much as it likes
        (resp.read(n)); the connection is closed on leaving, unread data or not (the kernel then answers
        the server with a reset)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, target, headers=self.headers)
            yield conn.getresponse()
        finally:
            conn.close()


class BareClient:
    """Keep-alive HTTP/1.1 on a bare socket with TCP_NODELAY; answers must carry Content-Length."""

    def __init__(self, port: int, timeout: float = 900):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _recv(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionResetError("the server closed the connection")
        self.buf += data

    def get(self, target: str) -> tuple[bytes, float]:
        return self.request("GET", target)

    def request(self, method: str, target: str, body: bytes = b"") -> tuple[bytes, float]:
        """(the body of a 200 answer, seconds from send to its last byte); HttpError on any other status."""
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        t0 = time.perf_counter()
        self.sock.sendall(head.encode() + b"\r\n" + body)
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._recv()
        head = self.buf[:end]
        m = re.search(rb"\r\ncontent-length:[ \t]*(\d+)", head, re.I)
        if not m:
            raise http.client.HTTPException(f"{method} {target[:200]}: no Content-Length in {head[:300]!r}")
        need = end + 4 + int(m[1])
        while len(self.buf) < need:
            self._recv()
        data, self.buf = self.buf[end + 4:need], self.buf[need:]
        dt = time.perf_counter() - t0
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise HttpError(method, target, status, data)
        return data, dt

    def close(self) -> None:
        self.sock.close()
