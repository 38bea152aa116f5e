"""The threaded reader: a file's bytes as numbered, decoded lines in batches, one batch ahead.

Python only reads the file in large blocks, splits them into lines and numbers them; DuckDB
validates and parses each batch (see parse_sql). A reader thread prepares the next batch while
the database works on the current one, and batches are bounded in bytes and lines, so memory
stays flat whatever the file size.
"""

from __future__ import annotations

import gzip
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeAlias

from telemetry_kpis.errors import UserError
from telemetry_kpis.load.results import first_line

if TYPE_CHECKING:
    from pandas import DataFrame

#: A batch ends at the first block boundary past this many characters or lines.
BATCH_BYTES = 32 * 1024 * 1024
BATCH_ROWS = 200_000
#: Bytes read from the (decompressed) file at a time.
READ_BLOCK = 8 * 1024 * 1024
#: A longer line is rejected (``line_too_long``) and only its start is kept.
MAX_LINE_BYTES = 64 * 1024 * 1024
REJECT_KEEP_CHARS = 100_000

_UTF8_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ReadLimits:
    """The sizes the reader works with. The defaults keep memory flat at full speed; small
    values make block and line boundaries reachable with small files (tests)."""

    read_block: int = READ_BLOCK
    batch_bytes: int = BATCH_BYTES
    batch_rows: int = BATCH_ROWS
    max_line_bytes: int = MAX_LINE_BYTES
    reject_keep_chars: int = REJECT_KEEP_CHARS


@dataclass
class Batch:
    """Numbered lines of a file; ``pre_reasons`` is None when no line was rejected by Python."""

    line_numbers: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    pre_reasons: list[str | None] | None = None
    size: int = 0

    def extend(self, first_number: int, lines: list[str], reasons: list[str | None] | None) -> None:
        if reasons is not None and self.pre_reasons is None:
            self.pre_reasons = [None] * len(self.lines)
        if self.pre_reasons is not None:
            self.pre_reasons.extend(reasons if reasons is not None else [None] * len(lines))
        self.line_numbers.extend(range(first_number, first_number + len(lines)))
        self.lines.extend(lines)

    def __len__(self) -> int:
        """Lines that are not empty (whitespace-only lines are dropped later, by DuckDB)."""
        return len(self.lines) - self.lines.count("")

    def frame(self) -> DataFrame:
        """The batch as a DataFrame (line_no, line, pre_reason) for DuckDB to scan."""
        import numpy as np
        import pandas as pd

        lines = np.empty(len(self.lines), dtype=object)
        lines[:] = self.lines
        reasons = np.empty(len(self.lines), dtype=object)
        if self.pre_reasons is not None:
            reasons[:] = self.pre_reasons
        return pd.DataFrame(
            {
                "line_no": np.asarray(self.line_numbers, dtype=np.int64),
                "line": pd.Series(lines, dtype=object, copy=False),
                "pre_reason": pd.Series(reasons, dtype=object, copy=False),
            },
            copy=False,
        )


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def _decode_lenient(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _blocks(
    path: Path, limits: ReadLimits, on_bytes: Callable[[int], object] | None = None
) -> Iterator[tuple[str, bytes]]:
    """Blocks of complete lines of a (maybe gzipped) file.

    Yields ``("lines", data)`` where ``data`` holds whole lines joined by ``\n`` (without the
    last newline), or ``("long", start)`` for a line longer than ``limits.max_line_bytes``
    (only its start is kept). ``on_bytes(n)`` is told how many file bytes were consumed
    (compressed ones for a gzip file), for a progress bar.
    """
    with path.open("rb") as raw:
        stream: gzip.GzipFile | BinaryIO = (
            gzip.GzipFile(fileobj=raw, mode="rb") if _is_gzip(path) else raw
        )
        position = 0
        rest = b""
        skipping: bytes | None = None  # start of a too-long line being skipped
        first = True
        while True:
            try:
                block = stream.read(limits.read_block)
            except (OSError, EOFError) as exc:  # corrupt or truncated gzip
                raise UserError(f"cannot read {path}: {first_line(exc)}") from None
            if on_bytes is not None:
                now = raw.tell()
                on_bytes(now - position)
                position = now
            if not block:
                break
            if first:
                first = False
                if block.startswith(_UTF8_BOM):
                    block = block[len(_UTF8_BOM) :]
            if skipping is not None:
                newline = block.find(b"\n")
                if newline < 0:
                    continue
                yield "long", skipping
                skipping = None
                block = block[newline + 1 :]
            cut = block.rfind(b"\n")
            if cut < 0:
                rest += block
            else:
                # The first line began in an earlier block (``rest``) and may end in this one
                # beyond the limit; a large read block may also hold whole over-long lines.
                yield from _long_lines_apart(rest + block[:cut], limits)
                rest = block[cut + 1 :]
            if len(rest) > limits.max_line_bytes:
                skipping, rest = rest[: limits.reject_keep_chars], b""
        if skipping is not None:
            yield "long", skipping
        elif rest:
            yield "lines", rest


def _long_lines_apart(data: bytes, limits: ReadLimits) -> Iterator[tuple[str, bytes]]:
    """``data`` (whole lines joined by ``\n``) as ("lines", ...) and ("long", start) parts.

    Every line of ``data`` is in exactly one part, in order, so line numbers stay right.
    """
    if len(data) <= limits.max_line_bytes:  # the common case: no line can be too long
        yield "lines", data
        return
    segment = 0  # start of the lines not yet yielded
    start = 0
    while start <= len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        if end - start > limits.max_line_bytes:
            if start > segment:
                yield "lines", data[segment : start - 1]
            yield "long", data[start : start + limits.reject_keep_chars]
            segment = end + 1
        start = end + 1
    if segment <= len(data):
        yield "lines", data[segment:]


def _split_lines(data: bytes) -> tuple[list[str], list[str | None] | None]:
    """Decoded lines of a block (a trailing carriage return dropped), and pre-reasons.

    The reasons list is None when the whole block is valid UTF-8 (the fast, common case).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        lines: list[str] = []
        reasons: list[str | None] = []
        for raw_line in data.split(b"\n"):
            if raw_line.endswith(b"\r"):
                raw_line = raw_line[:-1]
            try:
                lines.append(raw_line.decode("utf-8"))
                reasons.append(None)
            except UnicodeDecodeError:
                lines.append(_decode_lenient(raw_line))
                reasons.append("invalid_utf8")
        return lines, reasons
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):
            text = text[:-1]
    return text.split("\n"), None


def read_batches(
    path: Path,
    *,
    on_bytes: Callable[[int], object] | None = None,
    limits: ReadLimits | None = None,
) -> Iterator[Batch]:
    """Numbered (1-based), decoded lines of a file, in batches of about ``batch_bytes``.

    Lines that are not UTF-8 (``invalid_utf8``) or too long (``line_too_long``) carry a
    pre-reason. Blank lines are kept here (they keep their numbers) and dropped by the SQL.
    """
    limits = limits or ReadLimits()
    batch = Batch()
    number = 0
    for kind, data in _blocks(path, limits, on_bytes):
        if kind == "long":
            batch.extend(number + 1, [_decode_lenient(data)], ["line_too_long"])
            batch.size += len(data)
            number += 1
        else:
            lines, reasons = _split_lines(data)
            batch.extend(number + 1, lines, reasons)
            batch.size += len(data)
            number += len(lines)
        if batch.size >= limits.batch_bytes or len(batch.lines) >= limits.batch_rows:
            yield batch
            batch = Batch()
    if batch.lines:
        yield batch


#: What the reader thread hands over: a prepared batch, its error, or None at the end.
_Handover: TypeAlias = "tuple[Batch, DataFrame] | BaseException | None"


def prefetch(
    batches: Iterator[Batch],
    depth: int = 2,
    *,
    prepare: Callable[[Batch], DataFrame] = Batch.frame,
) -> Iterator[tuple[Batch, DataFrame]]:
    """Read and prepare (batch, DataFrame) pairs in a thread while the database works.

    DuckDB and psycopg release the GIL while they run, so reading, decoding and splitting the
    next batch overlaps with parsing and writing the current one (two cores instead of one).
    At most ``depth`` prepared batches wait in memory. Errors of the reader are re-raised here.
    """
    pending: queue.Queue[_Handover] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: _Handover) -> bool:
        while not stop.is_set():
            try:
                pending.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for batch in batches:
                if not put((batch, prepare(batch))):
                    return
            put(None)
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer
            put(exc)

    thread = threading.Thread(target=work, name="kpis-load-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = pending.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Reader:
    """How a load reads its files: the limits, and how a batch becomes a DataFrame.

    A subclass may observe the DataFrames it makes (tests check they are freed once written).
    """

    limits: ReadLimits = field(default_factory=ReadLimits)
    #: prepared batches that may wait for the database
    depth: int = 2

    def frame(self, batch: Batch) -> DataFrame:
        return batch.frame()

    def prefetched(
        self, path: Path, on_bytes: Callable[[int], object] | None = None
    ) -> Iterator[tuple[Batch, DataFrame]]:
        """The file's batches with their DataFrames, prepared by a thread ahead of the caller."""
        batches = read_batches(path, on_bytes=on_bytes, limits=self.limits)
        return prefetch(batches, self.depth, prepare=self.frame)
