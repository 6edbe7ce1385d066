"""Progress lines on stderr, stamped with the seconds since the tool started."""
from __future__ import annotations

import sys
import time
from typing import Callable

START = time.perf_counter()


def logger(tag: str) -> Callable[[str], None]:
    """A function printing "[TAG  12.3s] message" to stderr, flushed at once."""

    def log(msg: str) -> None:
        print(f"[{tag} {time.perf_counter() - START:7.1f}s] {msg}", file=sys.stderr, flush=True)

    return log
