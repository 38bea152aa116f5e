"""Writing the output in parts, in parallel, with the same bytes as one process would write.

The projects are cut into parts of PART_PROJECTS (fixed, so the output never depends on the
number of workers). A worker generates a part straight into the output once every earlier
part is there, and into a spill file until then; spilled parts are copied in by the kernel
as soon as their turn comes. A ``.gz`` output is one gzip member per part (fixed header,
mtime 0), which concatenate into one valid gzip file.
"""

from __future__ import annotations

import gzip
import io
import multiprocessing as mp
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Condition
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from telemetry_kpis.generate.generator import Generator, Options
from telemetry_kpis.generate.output import CHUNK_BYTES

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

PART_PROJECTS = 8  # projects per part


@dataclass(frozen=True)
class Part:
    """Projects ``first`` to ``last`` - 1, the ``index``-th part of the output."""

    index: int
    first: int
    last: int
    options: Options
    gzip: bool
    spill_path: str  # where a worker keeps the part until its turn


@dataclass
class PartResult:
    """What a part produced, for the summary and the ground truth."""

    index: int
    lines: int
    events: int
    executions: int
    noise_counts: dict[str, int]
    noise_rows: list[dict[str, Any]]  # line numbers within the part
    projects: list[dict[str, Any]]  # ground truth


def plan_parts(projects: int, options: Options, gzip: bool, folder: str) -> list[Part]:
    return [
        Part(i, first, min(first + PART_PROJECTS, projects), options, gzip, f"{folder}/part{i:06d}")
        for i, first in enumerate(range(0, projects, PART_PROJECTS))
    ]


def open_text(raw: BinaryIO | gzip.GzipFile | PartSink) -> io.TextIOWrapper:
    """A UTF-8 text writer over the binary file ``raw`` that copies each row only once.

    TextIOWrapper keeps ASCII rows as they are until CHUNK_BYTES are pending, then copies them
    into one bytes object for a single write (no ``"".join`` + ``.encode`` of the batch).
    """
    fh = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)
    fh._CHUNK_SIZE = CHUNK_BYTES  # type: ignore[attr-defined]
    return fh


def run_part(part: Part, out: BinaryIO | None = None) -> PartResult:
    """Generate one part onto ``out`` (one process) or, in a worker, through a PartSink."""
    gen = Generator(part.options)
    truth = []
    raw = out if out is not None else PartSink(part.index, part.spill_path)
    sink: BinaryIO | gzip.GzipFile | PartSink = raw
    if part.gzip:
        sink = gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=1, mtime=0)
    fh = open_text(sink)
    gen.out.fh = fh
    for index in range(part.first, part.last):
        truth.append(gen.simulate(index))
        gen.out.flush(fh)
    fh.flush()
    fh.detach()
    if sink is not raw:
        sink.close()  # ends the gzip member; raw stays open
    raw.flush()
    if isinstance(raw, PartSink):
        raw.finish()
    o = gen.out
    return PartResult(
        index=part.index,
        lines=o.line_base,
        events=o.events,
        executions=o.executions,
        noise_counts=o.noise_counts,
        noise_rows=o.noise_rows,
        projects=truth,
    )


class _Int(Protocol):
    value: int


class _Flags(Protocol):
    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> int: ...
    def __setitem__(self, i: int, v: int) -> None: ...


@dataclass
class Turns:
    """What the workers share: whose turn it is to write in place, and where."""

    cond: Condition  # guards the three below
    next_part: _Int  # the part whose turn it is
    offset: _Int  # where it starts in the output
    ready: _Flags  # per part: 1 if spilled completely, waiting for its turn
    fd: int = -1  # the output, open in this worker


#: set in each worker by ``_init_worker``
_TURNS: Turns | None = None


def _init_worker(turns: Turns, output: str) -> None:
    global _TURNS
    _TURNS = turns
    turns.fd = os.open(output, os.O_WRONLY)


@contextmanager
def part_results(
    parts: list[Part], out: BinaryIO, output: Path, workers: int
) -> Iterator[Iterator[PartResult]]:
    """The results of the parts in order, each written to ``out`` (the open ``output``)."""
    if workers <= 1 or len(parts) <= 1:
        yield (run_part(part, out) for part in parts)
        return
    ctx = mp.get_context("fork")  # workers inherit the modules and lookup tables loaded here
    turns = Turns(
        ctx.Condition(),
        ctx.Value("q", 0, lock=False),
        ctx.Value("q", 0, lock=False),
        ctx.Array("b", len(parts), lock=False),
    )
    pool = ctx.Pool(workers, initializer=_init_worker, initargs=(turns, str(output)))
    try:
        yield pool.imap(run_part, parts)
    finally:
        pool.terminate()
        pool.join()
    if turns.next_part.value != len(parts):
        raise RuntimeError(f"kpis generate: {turns.next_part.value} of {len(parts)} parts written")


def _write_at(fd: int, chunks: list[memoryview], offset: int) -> None:
    """Write ``chunks`` (byte views) at ``offset``, in batches of ``os.pwritev``."""
    views = [c for c in chunks if len(c)]
    while views:
        batch = views[:512]  # IOV_MAX is 1024 on Linux
        n = os.pwritev(fd, batch, offset)
        offset += n
        while n:
            if n >= len(views[0]):
                n -= len(views[0])
                views.pop(0)
            else:
                views[0] = views[0][n:]
                n = 0


class PartSink(io.RawIOBase):
    """Where a worker writes its part: straight into the output once it is the part's turn.

    Parts go into the output in order. Until every earlier part is there, the bytes go to a
    spill file (written and forgotten: no memory held); when the turn comes (checked at each
    write) the spilled bytes are copied in by the kernel and the rest is written in place. A
    part that ends before its turn is copied in by whichever worker closes the gap. Output
    bytes never depend on the timing.
    """

    def __init__(self, part: int, spill_path: str) -> None:
        super().__init__()
        assert _TURNS is not None, "PartSink is for worker processes"
        self.turns = _TURNS
        self.part = part
        self.spill_path = spill_path
        self.spill = os.open(spill_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.spilled = 0
        self.pos = -1  # output offset once this part writes in place

    def _take_turn(self) -> None:
        with self.turns.cond:
            start = self.turns.offset.value
        os.close(self.spill)
        _copy_in(self.spill_path, self.turns.fd, start)
        self.pos = start + self.spilled

    def write(self, data: ReadableBuffer, /) -> int:
        if self.pos < 0 and self.turns.next_part.value == self.part:
            self._take_turn()
        view = memoryview(data).cast("B")
        if self.pos >= 0:
            _write_at(self.turns.fd, [view], self.pos)
            self.pos += len(view)
        else:
            _write_at(self.spill, [view], self.spilled)
            self.spilled += len(view)
        return len(view)

    def finish(self) -> None:
        """The part is complete: hand the turn on, or leave the spill file for its turn."""
        t = self.turns
        with t.cond:
            if self.pos < 0 and t.next_part.value == self.part:
                self._take_turn()
            if self.pos >= 0:
                t.offset.value = self.pos
                t.next_part.value += 1
            else:
                os.close(self.spill)
                t.ready[self.part] = 1
            _drain(os.path.dirname(self.spill_path), t)

    def writable(self) -> bool:
        return True

    @property
    def name(self) -> str:  # what a text writer on top reports as its name
        return self.spill_path


def _copy_in(path: str, fd: int, pos: int) -> int:
    """Copy file ``path`` into ``fd`` at ``pos`` (in the kernel where possible), delete it."""
    with open(path, "rb") as src:
        size = os.fstat(src.fileno()).st_size
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(src.fileno(), fd, size - done, None, pos + done)
                if n <= 0:
                    break
                done += n
        except OSError:
            pass
        while done < size:  # no in-kernel copy here: read and write
            chunk = os.pread(src.fileno(), min(1 << 22, size - done), done)
            _write_at(fd, [memoryview(chunk)], pos + done)
            done += len(chunk)
    os.unlink(path)
    return size


def _drain(folder: str, t: Turns) -> None:
    """Copy in the spilled parts that are next in line (caller holds the condition's lock)."""
    while t.next_part.value < len(t.ready) and t.ready[t.next_part.value]:
        path = os.path.join(folder, f"part{t.next_part.value:06d}")
        t.offset.value += _copy_in(path, t.fd, t.offset.value)
        t.ready[t.next_part.value] = 0
        t.next_part.value += 1
