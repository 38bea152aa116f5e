"""The corpora of bench_build.py: generated once per size (``--projects`` calibrated to the
size), split at the last event day into ``base`` and ``last`` (see bench_build's docstring)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SIZES = {"100k": 100_000, "1m": 1_000_000, "5m": 5_000_000, "10m": 10_000_000}
GENERATE = ["generate", "--days", "90", "--noise", "--seed", "11", "--quiet"]


def parse_size(text: str) -> int:
    if text in SIZES:
        return SIZES[text]
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text.rstrip("kKmM")) * scale)


def generate(size: str, data_dir: Path) -> Path:
    """events_<size>.jsonl.gz, generated with --projects calibrated to ~size rows (+-10 %)."""
    corpus = data_dir / f"events_{size}.jsonl.gz"
    if corpus.exists():
        return corpus
    target = parse_size(size)
    part = corpus.with_name(f"events_{size}.part.jsonl.gz")
    low: tuple[int, int] | None = None  # (projects, rows) below the target
    high: tuple[int, int] | None = None
    projects = max(10, round(target / 1100))
    for _ in range(8):
        out = subprocess.run(
            [sys.executable, "-m", "telemetry_kpis", *GENERATE, "--projects", str(projects),
             "--output", str(part)],
            cwd=REPO, check=True, capture_output=True, text=True,
        )  # fmt: skip
        found = re.search(r"generated ([\d,]+) rows", out.stdout + out.stderr)
        rows = int(found[1].replace(",", "")) if found else 0
        print(f"calibrate {size}: --projects {projects} -> {rows:,} rows", file=sys.stderr)
        if abs(rows / target - 1) <= 0.1:
            break
        if rows < target:
            low = (projects, rows)
        else:
            high = (projects, rows)
        if low and high:  # interpolate inside the bracket
            projects = round(low[0] + (target - low[1]) * (high[0] - low[0]) / (high[1] - low[1]))
            projects = min(max(projects, low[0] + 1), high[0] - 1)
        else:
            projects = max(1, round(projects * target / rows))
    part.rename(corpus)
    meta = {"size": size, "projects": projects, "rows": rows, "command": ["kpis", *GENERATE]}
    corpus.with_name(f"events_{size}.meta.json").write_text(json.dumps(meta) + "\n")
    return corpus


DERIVED = re.compile(rb'"derived_tstamp":\s*"(\d{4}-\d\d-\d\d)')
UPLOADED = re.compile(rb'"uploaded_at":\s*"([^"]*)"')


def _uploaded(line: bytes) -> dt.datetime | None:
    match = UPLOADED.search(line)
    if not match:
        return None
    try:
        value = dt.datetime.fromisoformat(match[1].decode().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _is_date(text: bytes) -> bool:
    try:
        dt.date.fromisoformat(text.decode())
    except ValueError:
        return False
    return True


def split_by_last_event_day(path: Path) -> tuple[Path, Path, int, int]:
    """(base, last) gz files: rows before the last event day, and the last event day's rows.

    Streams twice (never the whole file in memory). Pass 1: the oldest and newest uploaded_at of
    every derived_tstamp day, hence the last event day, the newest uploaded_at of the base rows
    and the oldest of the last day's rows. Pass 2: writes both files, shifting every last-day
    uploaded_at by the same amount so the oldest is one minute after the newest base row.
    """
    stem = path.name.split(".")[0]
    base, last = path.with_name(f"{stem}.base.jsonl.gz"), path.with_name(f"{stem}.last.jsonl.gz")
    meta = path.with_name(f"{stem}.split.json")
    if base.exists() and last.exists() and meta.exists():
        counts = json.loads(meta.read_text())
        return base, last, counts["base_rows"], counts["last_rows"]
    # One pass: per derived_tstamp day (None: not a date), the oldest and newest uploaded_at.
    days: dict[bytes | None, tuple[dt.datetime, dt.datetime]] = {}
    with gzip.open(path, "rb") as handle:
        for line in handle:
            stamp = _uploaded(line)
            if stamp is None:
                continue
            match = DERIVED.search(line)
            day = match[1] if match else None
            low, high = days.get(day, (stamp, stamp))
            days[day] = (min(low, stamp), max(high, stamp))
    last_day = max(day for day in days if day is not None and _is_date(day))
    oldest_last = days[last_day][0]
    newest_base = max(high for day, (_, high) in days.items() if day != last_day)
    assert newest_base and oldest_last
    shift = max(dt.timedelta(0), newest_base - oldest_last + dt.timedelta(minutes=1))

    def shifted(match: re.Match[bytes]) -> bytes:
        stamp = _uploaded(match[0])
        if stamp is None:
            return match[0]
        new = (stamp + shift).isoformat(sep=" ", timespec="milliseconds")
        return b'"uploaded_at":"' + new.encode() + b'"'

    counts = {"base_rows": 0, "last_rows": 0}
    with (
        gzip.open(path, "rb") as src,
        gzip.open(base, "wb", compresslevel=1) as b,
        gzip.open(last, "wb", compresslevel=1) as lst,
    ):
        for line in src:
            match = DERIVED.search(line)
            if match and match[1] == last_day:
                lst.write(UPLOADED.sub(shifted, line, count=1))
                counts["last_rows"] += 1
            else:
                b.write(line)
                counts["base_rows"] += 1
    counts.update(last_event_day=last_day.decode(), uploaded_at_shift=str(shift))
    meta.write_text(json.dumps(counts) + "\n")
    return base, last, counts["base_rows"], counts["last_rows"]


def corpus_projects(corpus: Path, size: str) -> int | str:
    """--projects of a corpus, from its meta file ("-" for a corpus made by hand without one)."""
    meta = corpus.with_name(f"events_{size}.meta.json")
    return json.loads(meta.read_text())["projects"] if meta.is_file() else "-"
