"""``kpis load``: the command, its options and what it prints.

The work is done by :func:`load_files`; this module turns options into its arguments and its
summary into lines on stdout (errors are raised as UserError: the CLI prints them on stderr).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from telemetry_kpis.errors import UserError
from telemetry_kpis.load.bookkeeping import check_not_future, naive_utc
from telemetry_kpis.load.files import FORMATS
from telemetry_kpis.load.loading import load_files
from telemetry_kpis.load.results import LoadFailed
from telemetry_kpis.settings import Settings

HELP = "load Snowplow enriched events (JSON lines or TSV, optionally .gz) into raw tables"
DESCRIPTION = """\
Load Snowplow enriched events into raw.snowplow_events on the warehouse chosen by DBT_TARGET
(creating the schema `raw` and its tables, and for DuckDB the file and its folder, if missing).

formats (by extension, or forced with --format; gzip is detected from the file's bytes):
  .jsonl .ndjson .json [.gz]  JSON lines: one object per line keyed by the Snowplow atomic
                              column names. Missing keys are null, unknown keys are ignored.
                              Non-string values are stored as their JSON text (objects and
                              arrays as compact JSON; e.g. contexts given as an object).
  .tsv .txt [.gz]             Snowplow enriched TSV: exactly the 131 tab-separated fields in
                              the standard order, no header; an empty field is null; a
                              trailing carriage return is ignored.

loads: each file loaded is one load, with its own load id from a monotonic sequence and its
own moment _loaded_at (UTC, when its load started); a run of N files makes N loads. Loads
commit in load id order (concurrent loads into PostgreSQL wait for each other), and a raw row
is identified by (_load_id, _source_line): reloading a file or loading two files of the same
name gives new ids, never the identity of earlier rows.

uploaded_at (when the row reached the warehouse): the row's own `uploaded_at` (JSON lines)
  when present, else --uploaded-at, else the load's _loaded_at. Timestamps with an offset are
  converted to UTC; without one they are read as UTC. A row's uploaded_at later than its
  load's _loaded_at is rejected (invalid_uploaded_at); --uploaded-at must not be in the future.

bad lines never stop a load: a line that is not valid UTF-8, not valid JSON, not a JSON
object, has the wrong number of TSV fields, holds a NUL character, has an unreadable or
future uploaded_at or is longer than 64 MiB goes to raw.snowplow_events_rejected and is
counted in the summary. Blank lines are ignored.

each file is loaded atomically: its rows, its rejects and its row in raw.load_log are
committed together, so an interrupted load never leaves half a file. A file whose SHA-256 is
already in raw.load_log is skipped ("already loaded"), whatever its name; --reload loads it
again (its rows are then present twice, under a new load id; staging deduplicates events by
event_id). If a file fails (a database error, a truncated .gz), it is rolled back, the files
before it stay loaded (their summary lines are printed) and the command stops.

raw tables (columns in order; created if missing):
  raw.snowplow_events           the 131 atomic columns and load_tstamp (text), uploaded_at,
                                _source_file, _source_line (1-based), _load_id, _loaded_at
  raw.snowplow_events_rejected  source_file, line_number, reason, raw_line, rejected_at
                                (= the load's _loaded_at), load_id
  raw.load_log                  one row per load: file_name, file_path, checksum_sha256
                                (SHA-256 of the file's bytes), rows_loaded, rows_rejected,
                                loaded_at (when the load finished), uploaded_at (the
                                file's default), load_id
  tables of the previous layout (no _load_id/_loaded_at/load_id) are upgraded in place
  first: old raw rows get one load id per (uploaded_at, _source_file) and _loaded_at =
  uploaded_at; old load_log rows get ids 1..n by loaded_at.

warehouse (environment variables):
  DBT_TARGET          duckdb (default), postgres or spark
  KPIS_DUCKDB_PATH    DuckDB file (default ./telemetry_kpis.duckdb)
  KPIS_PG_HOST, KPIS_PG_PORT, KPIS_PG_USER, KPIS_PG_PASSWORD, KPIS_PG_DATABASE
  KPIS_SPARK_DIR      Spark warehouse folder (default ./data/spark). Spark has no
                      transactions: the raw tables are parquet tables partitioned by load
                      id, a load counts once its raw.load_log row is written (last), and
                      the rows of a load without one (failed, killed) are dropped first

exit status: 0 when every file was loaded or skipped (rejected lines are reported, not an
error); 1 when a file failed and was rolled back; 2 for a missing file, a bad option or an
unreachable warehouse.

examples:
  kpis load data/events.jsonl.gz
  kpis load exports/*.tsv.gz --uploaded-at 2026-10-01T00:00:00Z
  kpis load data/ --reload --no-progress
"""


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp as naive UTC (an offset is applied; none means UTC)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"--uploaded-at {text!r} is not an ISO 8601 timestamp "
            "(e.g. 2026-10-01 or 2026-10-01T12:00:00Z)"
        ) from None
    return naive_utc(parsed)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``kpis load`` (see DESCRIPTION)."""
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="event files (.jsonl/.ndjson/.json/.tsv/.txt, optionally .gz) or folders of them",
    )
    parser.add_argument(
        "--format",
        dest="file_format",
        choices=FORMATS,
        help="read every file as this format instead of guessing from its extension",
    )
    parser.add_argument(
        "--uploaded-at",
        metavar="TIMESTAMP",
        help="uploaded_at for rows that carry none (ISO 8601, UTC unless an offset is "
        "given; not in the future; default: the moment each file's load started)",
    )
    parser.add_argument(
        "--reload",
        action="store_true",
        help="load files again even if raw.load_log already has their SHA-256",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is only shown when stderr is a terminal anyway)",
    )


def run(args: argparse.Namespace) -> int:
    """Load the files of the command line; 0 when every file was loaded or skipped."""
    uploaded_at = None
    if args.uploaded_at:
        uploaded_at = parse_timestamp(args.uploaded_at)
        check_not_future(uploaded_at, args.uploaded_at)
    settings = Settings.from_env()
    try:
        summary = load_files(
            settings,
            args.paths,
            reload=args.reload,
            uploaded_at=uploaded_at,
            progress=not args.no_progress,
            file_format=args.file_format,
        )
    except LoadFailed as exc:
        # The files before the failed one are committed: say so before the error line.
        if exc.summary.files:
            for line in exc.summary.lines():
                print(line)
        raise
    for line in summary.lines():
        print(line)
    return 0
