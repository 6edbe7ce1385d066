"""Units and number formats of the capacity report: sizes, durations, user counts."""
from __future__ import annotations

import math

MIB = 1 << 20
GIB = 1 << 30


def ulabel(n: int) -> str:
    """A user count as 1M, 10M, 20k, 2.5M... (exact numbers otherwise)."""
    for scale, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= scale and n % (scale // 10) == 0:
            v = n / scale
            return f"{v:g}{suffix}"
    return str(n)


def fi(n) -> str:
    """An integer with thousands separators; None as a dash."""
    return "—" if n is None else f"{n:,.0f}"


def fb(n) -> str:
    """Bytes in KiB, MiB or GiB."""
    if n is None:
        return "—"
    if n >= GIB:
        return f"{n / GIB:,.2f} GiB"
    if n >= MIB:
        return f"{n / MIB:,.1f} MiB"
    return f"{n / 1024:,.1f} KiB"


def fs(s) -> str:
    """Seconds as ms below one second."""
    if s is None:
        return "—"
    return f"{s * 1000:,.0f} ms" if s < 1 else f"{s:,.2f} s"


def fus(x) -> str:
    return "—" if x is None else f"{x:,.0f}"


def round_sig(n: int) -> int:
    """n rounded to two significant digits."""
    if n <= 0:
        return n
    p = 10 ** max(0, int(math.log10(n)) - 1)
    return int(round(n / p) * p)


def l3_text(m: dict) -> str:
    """The L3 size of a machine_info() dict."""
    return f"{m['l3_bytes'] / MIB:g} MiB" if m.get("l3_bytes") else (m.get("l3") or "?")
