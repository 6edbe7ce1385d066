"""A reader of the portable Roaring format (github.com/RoaringBitmap/RoaringFormatSpec),
the bytes of GET /v1/ids?format=roaring.

crowdd answers with the 32-bit format when every ID is below 2^32 (an empty crowd
too), else with the 64-bit portable format: a u64 count of buckets, then per
bucket, in ascending order, a u32 high half and a 32-bit bitmap of the low halves.

  decode(buf)        -> Decoded(format, cardinality, values): every member, sorted
  decode(buf, values=False)   the same without materialising the members: reads
                     only the headers and skips the containers, O(containers)

Both demand that buf holds exactly one bitmap (trailing bytes are an error) and
raise RoaringError, a ValueError, on anything malformed: a bad cookie, a
truncated body, an offset header that does not match the containers, keys out
of order, or (when decoding values) a container whose members do not match the
cardinality its header declares.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

SERIAL_COOKIE_NO_RUNCONTAINER = 12346
SERIAL_COOKIE = 12347  # in the low 16 bits; the high 16 hold the container count - 1
NO_OFFSET_THRESHOLD = 4  # with run containers, the offset header exists only from this many containers
ARRAY_MAX = 4096  # a non-run container of more members is a bitset
BITSET_BYTES = 8192


class RoaringError(ValueError):
    """The bytes are not one portable Roaring bitmap."""


class Decoded(NamedTuple):
    format: str  # "32-bit" or "64-bit"
    cardinality: int
    values: list[int] | None  # sorted members, or None when not asked for


def _unpack(fmt: str, buf: bytes, pos: int) -> tuple:
    try:
        return struct.unpack_from(fmt, buf, pos)
    except struct.error:
        raise RoaringError(f"truncated bitmap: {struct.calcsize(fmt)} bytes wanted at offset {pos}, "
                           f"{len(buf)} in all") from None


def _bitset_values(block: bytes, base: int) -> list[int]:
    word = int.from_bytes(block, "little")
    out = []
    while word:
        low = word & -word
        out.append(base + low.bit_length() - 1)
        word ^= low
    return out


def _read32(buf: bytes, pos: int, values: list[int] | None, high: int) -> tuple[int, int]:
    """One 32-bit bitmap at buf[pos:]: (cardinality, offset just past it). Appends its members,
    each ORed with `high`, to `values` unless that is None."""
    start = pos
    (cookie,) = _unpack("<I", buf, pos)
    pos += 4
    if cookie & 0xFFFF == SERIAL_COOKIE:
        size = (cookie >> 16) + 1
        run_flags = buf[pos:pos + (size + 7) // 8]
        pos += (size + 7) // 8
        has_offsets = size >= NO_OFFSET_THRESHOLD
    elif cookie == SERIAL_COOKIE_NO_RUNCONTAINER:
        (size,) = _unpack("<I", buf, pos)
        pos += 4
        run_flags = b""
        has_offsets = True
        if size > 1 << 16:
            raise RoaringError(f"{size} containers at offset {start}: at most 65536")
    else:
        raise RoaringError(f"not a portable Roaring bitmap: cookie {cookie:#x} at offset {start}")
    header = _unpack(f"<{2 * size}H", buf, pos)
    pos += 4 * size
    offsets = _unpack(f"<{size}I", buf, pos) if has_offsets else None
    if has_offsets:
        pos += 4 * size
    total = 0
    previous_key = -1
    for i in range(size):
        key, card = header[2 * i], header[2 * i + 1] + 1
        if key <= previous_key:
            raise RoaringError(f"container keys out of order at offset {start}: {key} after {previous_key}")
        previous_key = key
        if offsets is not None and offsets[i] != pos - start:
            raise RoaringError(f"container {i} at offset {pos - start} of its bitmap, the offset header says "
                               f"{offsets[i]}")
        base = high | key << 16
        got: list[int] | None = None
        if run_flags and run_flags[i // 8] >> (i % 8) & 1:
            (n_runs,) = _unpack("<H", buf, pos)
            runs = _unpack(f"<{2 * n_runs}H", buf, pos + 2)
            pos += 2 + 4 * n_runs
            if values is not None:
                got = [v for r in range(n_runs) for v in range(base + runs[2 * r],
                                                              base + runs[2 * r] + runs[2 * r + 1] + 1)]
        elif card > ARRAY_MAX:
            if pos + BITSET_BYTES > len(buf):
                raise RoaringError(f"truncated bitset container at offset {pos}")
            if values is not None:
                got = _bitset_values(buf[pos:pos + BITSET_BYTES], base)
            pos += BITSET_BYTES
        else:
            members = _unpack(f"<{card}H", buf, pos)
            pos += 2 * card
            if values is not None:
                got = [base + v for v in members]
        if got is not None:
            if len(got) != card or any(a >= b for a, b in zip(got, got[1:])):
                raise RoaringError(f"container {i} (key {key}) at offset {start}: {len(got)} members, not "
                                   f"{card} ascending ones")
            values.extend(got)
        total += card
    return total, pos


def _looks_32bit(buf: bytes) -> bool:
    if len(buf) < 4:
        return False
    (cookie,) = struct.unpack_from("<I", buf, 0)
    return cookie == SERIAL_COOKIE_NO_RUNCONTAINER or cookie & 0xFFFF == SERIAL_COOKIE


def decode(buf: bytes, values: bool = True) -> Decoded:
    """The bitmap in buf, 32-bit or 64-bit portable format. A 64-bit body starts with a u64 bucket
    count, whose low half could in principle equal a 32-bit cookie; such a body is read as 64-bit
    when reading it as 32-bit does not consume exactly the buffer."""
    out: list[int] | None = [] if values else None
    as_32bit: RoaringError | None = None
    if _looks_32bit(buf):
        try:
            card, end = _read32(buf, 0, out, 0)
            if end == len(buf):
                return Decoded("32-bit", card, out)
            as_32bit = RoaringError(f"the bitmap ends at offset {end}, the body has {len(buf)} bytes")
        except RoaringError as e:
            as_32bit = e
        if out is not None:
            out.clear()
    try:
        card, end = _read64(buf, out)
    except RoaringError:
        if as_32bit is not None:
            raise as_32bit from None
        raise
    if end != len(buf):
        raise as_32bit or RoaringError(f"the bitmap ends at offset {end}, the body has {len(buf)} bytes")
    return Decoded("64-bit", card, out)


def _read64(buf: bytes, values: list[int] | None) -> tuple[int, int]:
    (buckets,) = _unpack("<Q", buf, 0)
    pos, total, previous = 8, 0, -1
    for _ in range(buckets):
        (high,) = _unpack("<I", buf, pos)
        if high <= previous:
            raise RoaringError(f"64-bit bucket keys out of order at offset {pos}: {high} after {previous}")
        previous = high
        card, pos = _read32(buf, pos + 4, values, high << 32)
        total += card
    return total, pos


def cardinality(buf: bytes) -> int:
    """Members of the bitmap in buf, from its headers only."""
    return decode(buf, values=False).cardinality
