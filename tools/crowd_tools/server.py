"""A crowdd child process on a free loopback port.

  server = Server(build, ["--demo", "20000"], data_dir=tmp, log_path=tmp / "crowdd.log")
  seconds = server.start(timeout=120)   # to the listening line; /healthz answered 200 too
  ... Client(server.port) ...
  code, seconds = server.stop()         # SIGTERM, then SIGKILL after the timeout

crowdd is started with --host 127.0.0.1 --port 0 and tells its port on stdout
("crowdd listening on http://HOST:PORT"); stderr goes to log_path. The child
gets PR_SET_PDEATHSIG, so it never outlives the tool, even a killed one, and
stop_all() stops every server still running (for a tool's `finally`).
"""
from __future__ import annotations

import ctypes
import http.client
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

LISTENING = re.compile(rb"crowdd listening on http://[^\s]*:(\d+)")

_LIVE: set["Server"] = set()
try:
    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ServerError(RuntimeError):
    """crowdd did not start: it exited, or did not listen or answer /healthz in time."""


class Stopped(NamedTuple):
    code: int  # crowdd's exit status; negative: killed by that signal
    seconds: float  # from SIGTERM to exit


def read_proc_status(pid: int) -> dict[str, str]:
    """/proc/PID/status as key -> value text."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


class Server:
    """One crowdd process. argv: crowdd's flags beyond --host/--port/--data-dir/--threads."""

    def __init__(self, build: str | os.PathLike, args: list[str] = (), *, data_dir: str | os.PathLike | None = None,
                 threads: int | None = None, log_path: str | os.PathLike | None = None, name: str = "crowdd"):
        self.name = name
        self.argv = [os.path.join(build, "crowdd"), "--host", "127.0.0.1", "--port", "0"]
        if threads is not None:
            self.argv += ["--threads", str(threads)]
        if data_dir is not None:
            self.argv += ["--data-dir", str(data_dir)]
        self.argv += [str(a) for a in args]
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix=f"{name}-", suffix=".stderr")
            os.close(fd)
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._log = None
        self._drainer: threading.Thread | None = None
        self._listening = threading.Event()
        self._listen_t = 0.0

    def _drain(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            m = LISTENING.search(line)
            if m and not self._listening.is_set():
                self._listen_t = time.perf_counter()
                self.port = int(m.group(1))
                self._listening.set()

    def start(self, timeout: float = 120) -> float:
        """Starts crowdd and waits for its listening line and a 200 from /healthz; returns the seconds from
        exec to the listening line. Raises ServerError (crowdd's stderr in the message) when it exits first
        or `timeout` passes."""
        self._log = open(self.log_path, "wb")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log,
                                     preexec_fn=_die_with_parent)
        _LIVE.add(self)
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        while not self._listening.wait(0.02):
            self._check(t0, timeout, "listening")
        while not self._healthy():
            self._check(t0, timeout, "answering /healthz")
            time.sleep(0.02)
        return self._listen_t - t0

    def _check(self, t0: float, timeout: float, what: str) -> None:
        if self.proc.poll() is not None:
            raise ServerError(f"{self.name}: crowdd exited with {self.proc.returncode} before {what}:\n"
                              f"{self._stderr_excerpt()}")
        if time.perf_counter() - t0 > timeout:
            raise ServerError(f"{self.name}: crowdd not {what} after {timeout:.0f} s:\n{self._stderr_excerpt()}")

    def _stderr_excerpt(self) -> str:
        # Why crowdd stopped is usually its first line (a bad flag is followed
        # by the whole --help) and what it was doing its last, so keep both.
        text = self.stderr()
        if len(text) <= 4000:
            return text
        return f"{text[:1000]}\n[... {len(text) - 3500} bytes ...]\n{text[-2500:]}"

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            return resp.status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr(self) -> str:
        """What crowdd has written to stderr so far."""
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""

    def memory(self) -> dict:
        """Resident memory in bytes: rss (VmRSS), hwm (VmHWM, the peak), rss_anon, rss_file."""
        st = read_proc_status(self.proc.pid)
        kb = lambda k: int(st[k].split()[0]) * 1024 if k in st else None  # noqa: E731
        return {"rss": kb("VmRSS"), "hwm": kb("VmHWM"), "rss_anon": kb("RssAnon"), "rss_file": kb("RssFile")}

    def cpu_seconds(self) -> float:
        """User + system CPU time crowdd has used."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 120) -> Stopped:
        """SIGTERM and wait; SIGKILL when it has not exited after `timeout` seconds. Never started: code 0."""
        if self.proc is None:
            return Stopped(0, 0.0)
        t0 = time.perf_counter()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        _LIVE.discard(self)
        if self._drainer is not None:
            self._drainer.join(5)  # stdout is at its end once crowdd has exited
        if self._drainer is None or not self._drainer.is_alive():
            self.proc.stdout.close()
        if self._log is not None:
            self._log.close()
        return Stopped(self.proc.returncode, time.perf_counter() - t0)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_all(timeout: float = 30) -> None:
    """Stops every Server of this process still running."""
    for s in list(_LIVE):
        s.stop(timeout)
