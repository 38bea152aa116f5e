"""`kpis generate`: synthetic Meltano CLI telemetry (Snowplow enriched events)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from telemetry_kpis.errors import UserError

HELP = "generate synthetic Meltano CLI telemetry (Snowplow enriched events)"
DESCRIPTION = """\
Generate synthetic Snowplow enriched events that look like what the real Meltano CLI sends:
the event sequences of every command, the Iglu schema versions of Meltano 1.x to 4.x, and
realistic project lifecycles (abandoned, proof of concept, daily and weekly pipelines, whales,
churn, CI-only, opted-out, random ids, legacy struct events).

Same --seed and arguments => byte-identical output. Noise (--noise or the individual rates)
adds duplicate deliveries, late arrivals, malformed rows, rows without a project context,
unknown schema versions and event names, and skewed device clocks. Noise never changes the
ground truth: broken rows are extra copies with a fresh event_id (listed in --truth).

examples:
  kpis generate --projects 200 --days 120 --output data/sample.jsonl --truth data/truth.json
  kpis generate --projects 50 --days 60 --noise --output data/sample.tsv.gz
  kpis generate --projects 100 --load
"""

NOISE_FLAGS = {
    "duplicate": "duplicate deliveries (same event_id, later uploaded_at), share of events",
    "late": "late arrivals (uploaded_at days after the event), share of events",
    "malformed": "malformed extra rows (bad JSON, bad derived_tstamp, no event_id), share",
    "no_project": "extra rows without a project context, share of events",
    "unknown_version": "extra rows with an unknown schema version (cli_event 1-0-2), share",
    "unknown_event": "extra rows with an unknown event schema name, share of events",
    "skew": "projects whose device clock is off by minutes, share of projects",
}
PART_PROJECTS = 8  # projects per part: fixed, so output never depends on --workers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--projects", type=int, default=200, help="number of projects (200)")
    parser.add_argument("--days", type=int, default=90, help="length of the window in days (90)")
    parser.add_argument(
        "--start-date", default="2026-01-01", help="first day of the window, UTC (2026-01-01)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (42)")
    out = parser.add_argument_group("output")
    out.add_argument("--output", "-o", type=Path, help="file to write (.jsonl, .tsv, + .gz)")
    out.add_argument(
        "--format",
        choices=("jsonl", "tsv"),
        help="output format (default: from the extension; TSV = the 131 enriched fields)",
    )
    out.add_argument(
        "--load", action="store_true", help="load into the configured warehouse (kpis load)"
    )
    out.add_argument("--truth", type=Path, help="write the ground truth (JSON) to this file")
    noise = parser.add_argument_group("noise")
    noise.add_argument("--noise", action="store_true", help="enable every kind at default rate")
    for name, text in NOISE_FLAGS.items():
        noise.add_argument(
            f"--{name.replace('_', '-')}-rate", type=float, default=None, metavar="R", help=text
        )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: CPU count, max 4)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")


def noise_rates(args: argparse.Namespace) -> dict[str, float]:
    from telemetry_kpis.generate.catalogue import DEFAULT_NOISE

    rates = dict(DEFAULT_NOISE) if args.noise else {}
    for name in NOISE_FLAGS:
        value = getattr(args, f"{name}_rate", None)
        if value is None:
            continue
        if not 0 <= value <= 0.5:
            raise UserError(f"--{name.replace('_', '-')}-rate must be between 0 and 0.5")
        rates[name] = value
    return {k: v for k, v in rates.items() if v > 0}


def _format_for(path: Path, explicit: str | None) -> str:
    if explicit:
        return explicit
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if ext in (".tsv", ".txt"):
        return "tsv"
    raise UserError(f"cannot tell the format of {path}: use .jsonl or .tsv, or pass --format")


def _run_part(job: tuple, out=None) -> dict:
    """Generate one part (a fixed range of projects) onto ``out`` or, in a worker, in order.

    ``out`` is the open output (one process). A worker writes through ``_PartSink``: in place
    once every earlier part is in the output, else into a spill file copied in later. A
    ``.gz`` part is always its own gzip member (fixed header, mtime 0).
    """
    import gzip

    from telemetry_kpis.generate.generator import Generator, Settings
    from telemetry_kpis.generate.output import open_text

    part, first, last, cfg, part_path = job
    gen = Generator(
        Settings(
            seed=cfg["seed"],
            days=cfg["days"],
            start_ms=cfg["start_ms"],
            fmt=cfg["fmt"],
            noise=cfg["noise"],
        )
    )
    truth = []
    raw = out if out is not None else _PartSink(part, part_path)
    sink = raw
    if cfg["gzip"]:
        sink = gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=1, mtime=0)
    fh = open_text(sink)
    gen.out.fh = fh
    for index in range(first, last):
        truth.append(gen.simulate(index))
        gen.out.flush(fh)
    fh.flush()
    fh.detach()
    if sink is not raw:
        sink.close()  # ends the gzip member; raw stays open
    raw.flush()
    if out is None:
        raw.finish()
    return {
        "part": part,
        "path": part_path,
        "lines": gen.out.line_base,
        "events": gen.out.events,
        "executions": gen.out.executions,
        "noise_counts": gen.out.noise_counts,
        "noise_rows": gen.out.noise_rows,
        "projects": truth,
    }


#: set in each worker by ``_init_worker``: (condition, next part, output offset, ready flags,
#: output file descriptor)
_SHARED: tuple | None = None


def _init_worker(cond, next_part, offset, ready, output: str) -> None:
    global _SHARED
    _SHARED = (cond, next_part, offset, ready, os.open(output, os.O_WRONLY))


def _write_at(fd: int, chunks: list, offset: int) -> None:
    """Write ``chunks`` (bytes-like objects) at ``offset``, in batches of ``os.pwritev``."""
    views = [memoryview(c) for c in chunks if len(c)]
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


class _PartSink:
    """Where a worker writes its part: straight into the output once it is the part's turn.

    Parts go into the output in order. Until every earlier part is there, the bytes go to a
    spill file (written and forgotten: no memory held); when the turn comes (checked at each
    write) the spilled bytes are copied in by the kernel and the rest is written in place. A
    part that ends before its turn is copied in by whichever worker closes the gap. Output
    bytes never depend on the timing.
    """

    closed = False

    def __init__(self, part: int, spill_path: str) -> None:
        assert _SHARED is not None
        self.part = part
        self.spill_path = spill_path
        self.cond, self.next_part, self.offset, self.ready, self.fd = _SHARED
        self.spill = os.open(spill_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.spilled = 0
        self.pos = -1  # output offset once this part writes in place

    def _take_turn(self) -> None:
        with self.cond:
            start = self.offset.value
        os.close(self.spill)
        _copy_in(self.spill_path, self.fd, start)
        self.pos = start + self.spilled

    def write(self, data) -> int:
        if self.pos < 0 and self.next_part.value == self.part:
            self._take_turn()
        if self.pos >= 0:
            _write_at(self.fd, [data], self.pos)
            self.pos += len(data)
        else:
            _write_at(self.spill, [data], self.spilled)
            self.spilled += len(data)
        return len(data)

    def finish(self) -> None:
        with self.cond:
            if self.pos < 0 and self.next_part.value == self.part:
                self._take_turn()
            if self.pos >= 0:
                self.offset.value = self.pos
                self.next_part.value += 1
            else:
                os.close(self.spill)
                self.ready[self.part] = 1
            _drain(self.spill_path, self.next_part, self.offset, self.ready, self.fd)

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        pass


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
            _write_at(fd, [chunk], pos + done)
            done += len(chunk)
    os.unlink(path)
    return size


def _drain(spill_path: str, next_part, offset, ready, fd: int) -> None:
    """Copy in the spilled parts that are next in line (caller holds the condition's lock)."""
    folder = os.path.dirname(spill_path)
    while next_part.value < len(ready) and ready[next_part.value]:
        path = os.path.join(folder, f"part{next_part.value:06d}")
        offset.value += _copy_in(path, fd, offset.value)
        ready[next_part.value] = 0
        next_part.value += 1


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def set_postfix(self, **kw) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(projects: int, progress: bool):
    if not progress:
        return _NoBar()  # tqdm takes 0.15 s to import
    from tqdm import tqdm

    return tqdm(total=projects, unit="project", file=sys.stderr)


def generate(
    *,
    projects: int,
    days: int,
    start_date: str,
    seed: int,
    output: Path,
    fmt: str,
    noise: dict[str, float],
    truth_path: Path | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> dict:
    """Write the telemetry to ``output``; returns the summary (also the truth if requested)."""
    import datetime as dt
    import json
    import tempfile

    try:
        start = dt.date.fromisoformat(start_date)
    except ValueError:
        raise UserError(f"--start-date {start_date!r} is not a date (YYYY-MM-DD)") from None
    if projects < 1 or projects > 1_000_000:
        raise UserError("--projects must be between 1 and 1000000")
    if days < 1 or days > 3660:
        raise UserError("--days must be between 1 and 3660")
    start_ms = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp())
    cfg = {
        "seed": seed,
        "days": days,
        "start_ms": start_ms * 1000,
        "fmt": fmt,
        "noise": noise,
        "gzip": output.suffix.lower() == ".gz",
    }
    if output.parent and not output.parent.exists():
        output.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    workers = workers or min(4, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix=".kpis-generate-", dir=output.parent) as tmp:
        jobs = [
            (i, first, min(first + PART_PROJECTS, projects), cfg, str(Path(tmp) / f"part{i:06d}"))
            for i, first in enumerate(range(0, projects, PART_PROJECTS))
        ]
        bar = _progress_bar(projects, progress)
        results_iter: object
        pool = None
        direct = not (workers > 1 and len(jobs) > 1)
        summary = {"events": 0, "rows": 0, "executions": 0, "projects": projects}
        noise_counts: dict[str, int] = {}
        noise_rows: list[dict] = []
        truth_projects: list[dict] = []
        line_offset = 0
        partial = output.with_name(output.name + ".partial")
        try:
            with open(partial, "wb") as out:
                if direct:  # one process writes straight into the output
                    results_iter = (_run_part(job, out) for job in jobs)
                else:
                    import multiprocessing as mp

                    # import (and build the lookup tables) once, before the workers fork
                    import telemetry_kpis.generate.generator  # noqa: F401

                    ctx = mp.get_context("fork")
                    next_part = ctx.Value("q", 0, lock=False)
                    shared = (
                        ctx.Condition(),
                        next_part,
                        ctx.Value("q", 0, lock=False),
                        ctx.Array("b", len(jobs), lock=False),
                        str(partial),
                    )
                    pool = ctx.Pool(workers, initializer=_init_worker, initargs=shared)
                    results_iter = pool.imap(_run_part, jobs)
                for res in results_iter:
                    for row in res["noise_rows"]:
                        row["line"] += line_offset
                        noise_rows.append(row)
                    line_offset += res["lines"]
                    summary["rows"] += res["lines"]
                    summary["events"] += res["events"]
                    summary["executions"] += res["executions"]
                    for k, v in res["noise_counts"].items():
                        noise_counts[k] = noise_counts.get(k, 0) + v
                    truth_projects.extend(res["projects"])
                    bar.update(len(res["projects"]))
                    bar.set_postfix(rows=summary["rows"], refresh=False)
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
            bar.close()
        if pool is not None and next_part.value != len(jobs):
            raise RuntimeError(f"kpis generate: {next_part.value} of {len(jobs)} parts written")
        os.replace(partial, output)
    elapsed = time.perf_counter() - t0
    summary.update(
        noise={k: v for k, v in noise_counts.items() if v},
        seconds=round(elapsed, 3),
        rows_per_second=round(summary["rows"] / elapsed) if elapsed > 0 else None,
        output=str(output),
        format=fmt,
    )
    if truth_path is not None:
        truth = {
            "generator": "kpis generate",
            "arguments": {
                "projects": projects,
                "days": days,
                "start_date": start_date,
                "seed": seed,
                "format": fmt,
                "noise": noise,
            },
            "rows": summary["rows"],
            "executions": summary["executions"],
            "noise_counts": summary["noise"],
            "noise_rows": noise_rows,
            "projects": truth_projects,
        }
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        truth_path.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    return summary


def run(args: argparse.Namespace) -> int:
    import tempfile

    noise = noise_rates(args)
    if args.output is None and not args.load:
        raise UserError("nothing to do: pass --output FILE and/or --load")
    progress = not args.quiet
    tmpdir = None
    if args.output is not None:
        output = args.output
        fmt = _format_for(output, args.format)
    else:
        tmpdir = tempfile.TemporaryDirectory(prefix="kpis-generate-")
        output = Path(tmpdir.name) / "generated.jsonl"
        fmt = "jsonl"
    try:
        summary = generate(
            projects=args.projects,
            days=args.days,
            start_date=args.start_date,
            seed=args.seed,
            output=output,
            fmt=fmt,
            noise=noise,
            truth_path=args.truth,
            workers=args.workers,
            progress=progress,
        )
        noise_text = ", ".join(f"{k} {v}" for k, v in sorted(summary["noise"].items())) or "none"
        print(
            f"generated {summary['rows']:,} rows ({summary['events']:,} events, "
            f"{summary['executions']:,} CLI executions, {summary['projects']:,} projects) "
            f"-> {summary['output']} [{fmt}] in {summary['seconds']:.1f}s "
            f"({summary['rows_per_second'] or 0:,} rows/s); noise: {noise_text}"
        )
        if args.truth:
            print(f"ground truth -> {args.truth}")
        if args.load:
            if fmt != "jsonl":
                raise UserError("--load needs JSONL output (it keeps uploaded_at): use .jsonl")
            try:
                from telemetry_kpis.load import load_files
            except ImportError as exc:
                raise UserError(f"the loader is not available: {exc}") from None
            from telemetry_kpis.settings import Settings

            result = load_files(Settings.from_env(), [output], progress=progress)
            print(f"loaded: {result}")
    finally:
        if tmpdir is not None:
            tmpdir.cleanup()
    return 0
