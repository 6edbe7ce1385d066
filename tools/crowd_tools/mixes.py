"""The query mixes of bench/mixes/NAME.mix (format in docs/benchmarks.md): '#' comments and blank
lines ignored, every other line WEIGHT KIND ARG, KIND count|ids|get, ARG the rest of the line."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from . import REPO

MIXES = REPO / "bench" / "mixes"


class Entry(NamedTuple):
    weight: str
    kind: str
    arg: str


def path(name: str) -> Path:
    return MIXES / f"{name}.mix"


def entries(name: str) -> list[Entry]:
    """Every entry of bench/mixes/NAME.mix, in file order (a line without an ARG has arg '')."""
    out = []
    with open(path(name), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            out.append(Entry(*(parts + [""] * (3 - len(parts)))))
    return out


def queries(name: str, kind: str) -> list[str]:
    """The ARGs of NAME.mix's entries of one KIND, each once (weights ignored)."""
    return [e.arg for e in entries(name) if e.kind == kind and e.arg]
