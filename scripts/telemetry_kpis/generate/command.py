"""`kpis generate`: synthetic Meltano CLI telemetry (Snowplow enriched events)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from telemetry_kpis.errors import UserError

if TYPE_CHECKING:
    from telemetry_kpis.generate.generator import Options
    from telemetry_kpis.generate.parts import PartResult

HELP = "generate synthetic Meltano CLI telemetry (Snowplow enriched events)"
DESCRIPTION = """\
Generate synthetic Snowplow enriched events that look like what the real Meltano CLI sends:
the event sequences of every command, the Iglu schema versions of Meltano 1.x to 4.x, and
realistic project lifecycles (abandoned, proof of concept, daily and weekly pipelines, whales,
churn, CI-only, opted-out, random ids, legacy struct events).

Same --seed and arguments => byte-identical output (with --end-date yesterday: on the same
day). The window is --days days from --start-date, or up to and including --end-date. Noise
(--noise or the individual rates) adds duplicate deliveries, late arrivals, malformed rows,
rows without a project context, unknown schema versions and event names, and skewed device
clocks. Noise never changes the ground truth: broken rows are extra copies with a fresh
event_id (listed in --truth). Late and duplicate copies are delivered by the end of the window
at the latest, so a window that ends yesterday holds no row uploaded in the future.

examples:
  kpis generate --projects 200 --days 120 --output data/sample.jsonl --truth data/truth.json
  kpis generate --projects 50 --days 60 --noise --output data/sample.tsv.gz
  kpis generate --projects 100 --load
  kpis generate --projects 30 --days 150 --end-date yesterday --noise -o data/demo/sample.jsonl.gz
"""

DEFAULT_START_DATE = "2026-01-01"

NOISE_FLAGS = {
    "duplicate": "duplicate deliveries (same event_id, later uploaded_at), share of events",
    "late": "late arrivals (uploaded_at days after the event), share of events",
    "malformed": "malformed extra rows (bad JSON, bad derived_tstamp, no event_id), share",
    "no_project": "extra rows without a project context, share of events",
    "unknown_version": "extra rows with an unknown schema version (cli_event 1-0-2), share",
    "unknown_event": "extra rows with an unknown event schema name, share of events",
    "skew": "projects whose device clock is off by minutes, share of projects",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--projects", type=int, default=200, help="number of projects (200)")
    parser.add_argument("--days", type=int, default=90, help="length of the window in days (90)")
    window = parser.add_mutually_exclusive_group()
    window.add_argument(
        "--start-date", help="first day of the window, UTC, YYYY-MM-DD (default 2026-01-01)"
    )
    window.add_argument(
        "--end-date",
        help="last day of the window instead, YYYY-MM-DD or 'yesterday' (UTC): the window is "
        "the --days days up to and including it",
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


class _Bar(Protocol):
    def update(self, n: int) -> object: ...
    def set_postfix(self, **kw: Any) -> None: ...
    def close(self) -> None: ...


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def set_postfix(self, **kw: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(projects: int, progress: bool) -> _Bar:
    if not progress or not sys.stderr.isatty():  # a bar only on a terminal
        return _NoBar()  # tqdm takes 0.15 s to import
    from tqdm import tqdm

    bar: _Bar = tqdm(total=projects, unit="project", file=sys.stderr, leave=False)
    return bar


@dataclass
class _Totals:
    """The parts' results added up in output order."""

    rows: int = 0
    events: int = 0
    executions: int = 0
    noise_counts: dict[str, int] = field(default_factory=dict)
    noise_rows: list[dict[str, Any]] = field(default_factory=list)  # lines in the output
    truth_projects: list[dict[str, Any]] = field(default_factory=list)

    def add(self, res: PartResult) -> None:
        for row in res.noise_rows:
            row["line"] += self.rows
            self.noise_rows.append(row)
        self.rows += res.lines
        self.events += res.events
        self.executions += res.executions
        for k, v in res.noise_counts.items():
            self.noise_counts[k] = self.noise_counts.get(k, 0) + v
        self.truth_projects.extend(res.projects)


def window_start(start_date: str | None, end_date: str | None, days: int) -> str:
    """The first day of the window (YYYY-MM-DD) from --start-date or --end-date and --days."""
    import datetime as dt

    if end_date is None:
        return start_date or DEFAULT_START_DATE
    if end_date == "yesterday":
        end = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    else:
        try:
            end = dt.date.fromisoformat(end_date)
        except ValueError:
            raise UserError(
                f"--end-date {end_date!r} is not a date (YYYY-MM-DD or 'yesterday')"
            ) from None
    return (end - dt.timedelta(days=max(days, 1) - 1)).isoformat()


def _options(
    projects: int, days: int, start_date: str, seed: int, fmt: str, noise: dict[str, float]
) -> Options:
    """The generator options, once the arguments are checked."""
    import datetime as dt

    from telemetry_kpis.generate.generator import Options

    try:
        start = dt.date.fromisoformat(start_date)
    except ValueError:
        raise UserError(f"--start-date {start_date!r} is not a date (YYYY-MM-DD)") from None
    if projects < 1 or projects > 1_000_000:
        raise UserError("--projects must be between 1 and 1000000")
    if days < 1 or days > 3660:
        raise UserError("--days must be between 1 and 3660")
    start_s = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp())
    return Options(seed=seed, days=days, start_ms=start_s * 1000, fmt=fmt, noise=noise)


def _write_all(
    options: Options, projects: int, output: Path, workers: int, progress: bool
) -> _Totals:
    """Generate every part into ``output`` (renamed into place once complete)."""
    import tempfile

    from telemetry_kpis.generate.parts import part_results, plan_parts

    totals = _Totals()
    gz = output.suffix.lower() == ".gz"
    with tempfile.TemporaryDirectory(prefix=".kpis-generate-", dir=output.parent) as tmp:
        parts = plan_parts(projects, options, gz, tmp)
        partial = output.with_name(output.name + ".partial")
        bar = _progress_bar(projects, progress)
        try:
            with open(partial, "wb") as out, part_results(parts, out, partial, workers) as results:
                for res in results:
                    totals.add(res)
                    bar.update(len(res.projects))
                    bar.set_postfix(rows=totals.rows, refresh=False)
        finally:
            bar.close()
        os.replace(partial, output)
    return totals


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
) -> dict[str, Any]:
    """Write the telemetry to ``output``; returns the summary (also the truth if requested)."""
    options = _options(projects, days, start_date, seed, fmt, noise)
    if output.parent and not output.parent.exists():
        output.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    workers = workers or min(4, os.cpu_count() or 1)
    totals = _write_all(options, projects, output, workers, progress)
    elapsed = time.perf_counter() - t0
    summary = {
        "events": totals.events,
        "rows": totals.rows,
        "executions": totals.executions,
        "projects": projects,
        "noise": {k: v for k, v in totals.noise_counts.items() if v},
        "seconds": round(elapsed, 3),
        "rows_per_second": round(totals.rows / elapsed) if elapsed > 0 else None,
        "output": str(output),
        "format": fmt,
    }
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
            "rows": totals.rows,
            "executions": totals.executions,
            "noise_counts": summary["noise"],
            "noise_rows": totals.noise_rows,
            "projects": totals.truth_projects,
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
            start_date=window_start(args.start_date, args.end_date, args.days),
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
