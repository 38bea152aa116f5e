"""Timestamps and UUIDs as text, drawn and formatted fast enough for every row.

A row carries several timestamps and ids, so ``datetime`` and ``uuid`` would dominate the
cost: timestamps come from lookup tables (day, second of the day, millisecond) and UUIDs
from one ``getrandbits`` call of the project's own ``random.Random`` (which also keeps them
reproducible). ``randrange`` draws exactly like ``random.Random.randrange``, faster.
"""

from __future__ import annotations

import datetime as dt
import random

from telemetry_kpis.generate.iglu import sha

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MIN_MS = 60_000

#: a random 128-bit number becomes a UUIDv4 with ``& UUID4_KEEP | UUID4_SET``
UUID4_KEEP = ~(0xF << 76) & ~(0x3 << 62)
UUID4_SET = (4 << 76) | (0x2 << 62)


def randrange(rng: random.Random, start: int, stop: int) -> int:
    """``rng.randrange(start, stop)`` with the same draws, without its argument checks.

    Every command draws several times: this costs a third of the library call.
    """
    n = stop - start
    k = n.bit_length()
    r = rng.getrandbits(k)
    while r >= n:
        r = rng.getrandbits(k)
    return start + r


def uuid4(rng: random.Random) -> str:
    h = "%032x" % (rng.getrandbits(128) & UUID4_KEEP | UUID4_SET)  # noqa: UP031
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid7(rng: random.Random, ms: int) -> str:
    """UUIDv7: 48-bit ms timestamp, version 7, 12 random bits, variant 10, 62 random bits."""
    r = rng.getrandbits(74)
    return "%08x-%04x-%04x-%04x-%012x" % (  # noqa: UP031
        ms >> 16 & 0xFFFFFFFF,
        ms & 0xFFFF,
        0x7000 | r >> 62,
        0x8000 | r >> 48 & 0x3FFF,
        r & 0xFFFFFFFFFFFF,
    )


def derived_uuid(project_id: str) -> str:
    h = sha(project_id)[::2]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


#: "HH:MM:SS." for every second of a day and ".mmm" digits: a timestamp is three lookups
_TWO = [f"{i:02d}" for i in range(60)]
HMS = tuple([f"{_TWO[h]}:{m}:{sec}." for h in range(24) for m in _TWO for sec in _TWO])
MILLI = tuple(f"{i:03d}" for i in range(1000))


class _Days(dict[int, str]):
    """day number since 1970-01-01 -> 'YYYY-MM-DD ' (filled on first use)."""

    def __missing__(self, day: int) -> str:
        text = self[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat() + " "
        return text


DAYS = _Days()


def ts(ms: int) -> str:
    """'YYYY-MM-DD HH:MM:SS.mmm' (UTC) for epoch milliseconds."""
    day, rem = divmod(ms, DAY_MS)
    sec, milli = divmod(rem, 1000)
    return DAYS[day] + HMS[sec] + MILLI[milli]


def iso(ms: int, micro: int = 0) -> str:
    """'YYYY-MM-DDTHH:MM:SS.mmmuuu+00:00' for epoch milliseconds and ``micro`` microseconds."""
    day, rem = divmod(ms, DAY_MS)
    return f"{DAYS[day][:10]}T{HMS[rem // 1000]}{MILLI[rem % 1000]}{micro:03d}+00:00"
