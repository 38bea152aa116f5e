"""Progress bars of ``kpis load`` on stderr (hashing and reading a file)."""

from __future__ import annotations

import sys
from typing import Protocol

#: A file larger than this shows a bar while it is hashed too (smaller ones hash in a blink).
HASH_BAR_MIN_BYTES = 64 * 1024 * 1024


class ProgressBar(Protocol):
    """What the loader needs of a bar (tqdm's): to be told bytes done, and to close."""

    def update(self, n: int) -> object: ...

    def __enter__(self) -> ProgressBar: ...

    def __exit__(self, *exc_info: object) -> object: ...


def progress_bar(show: bool, total: int, desc: str) -> ProgressBar:
    """A byte-counting bar of ``total`` bytes; hidden (a no-op) when not ``show``."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=not show,
        leave=False,
        dynamic_ncols=True,
    )
