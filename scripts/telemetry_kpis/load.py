"""``kpis load``: load Snowplow enriched events from files into the raw tables of the warehouse.

Files are JSON lines (one enriched event per line, keyed by the atomic column names) or
Snowplow enriched TSV (the 131 fields in their standard order, no header), optionally gzipped.
Every file is loaded in one transaction together with its rejected lines and its row in
``raw.load_log``; a file whose SHA-256 is already in the log is skipped unless ``reload``.

Each loaded file is one *load*: it gets its own ``load_id`` from a monotonic sequence and its
own moment ``loaded_at`` (UTC, the loader's clock, taken when the load starts), so a run of N
files makes N loads. Loads commit in load_id order (on PostgreSQL each load holds a global
transaction-level advisory lock from before its id is drawn until its commit), so a reader
that has processed every load up to id K and later reads ``_load_id > K`` never misses one.
Ids are never reused after a committed load (a rolled-back load's id may be). Reloading a
file, loading two files of the same name or replaying a batch gives new load ids: a raw row is
identified by (``_load_id``, ``_source_line``), unique across raw.snowplow_events.

The raw tables (columns in order):

- ``raw.snowplow_events``: the 131 atomic columns and ``load_tstamp`` (text), ``uploaded_at``
  (timestamp), ``_source_file`` (text), ``_source_line`` (bigint, 1-based), ``_load_id``
  (bigint), ``_loaded_at`` (timestamp).
- ``raw.snowplow_events_rejected``: ``source_file``, ``line_number``, ``reason``,
  ``raw_line``, ``rejected_at`` (= the load's ``loaded_at``), ``load_id``.
- ``raw.load_log`` (one row per load): ``file_name``, ``file_path``, ``checksum_sha256``,
  ``rows_loaded``, ``rows_rejected``, ``loaded_at`` (when the load finished),
  ``uploaded_at`` (the file's default: ``--uploaded-at`` or the load's moment), ``load_id``.

Load ids: PostgreSQL draws them from the sequence ``raw.load_id_seq`` under the lock (never
below max(load_id) of raw.load_log + 1); DuckDB (one process holds the file) takes
max(load_id, _load_id) + 1 of raw.load_log and raw.snowplow_events in the writing connection.

Tables created by the previous version (without ``_load_id``/``_loaded_at``/``load_id``) are
upgraded in place before anything is loaded: the columns are appended, old raw rows get
``_load_id`` = the dense rank of their (``uploaded_at``, ``_source_file``) (the load part of
the old identity) and ``_loaded_at`` = ``uploaded_at``, old load_log rows get ids 1..n by
``loaded_at``, old rejects keep a null load_id; new loads draw ids above all of them.

How the work is split, for speed: Python only reads the file in large blocks, splits it into
lines and numbers them; DuckDB (the target itself, or an in-memory DuckDB when loading into
PostgreSQL) validates and parses each batch of lines with its vectorised JSON/string functions.
Rows reach DuckDB with ``INSERT ... SELECT`` (into temporary staging tables, then into the raw
tables in one statement, so that memory stays flat: see ``_DuckDBLoader``) and PostgreSQL with
``COPY ... FROM STDIN`` of a CSV that DuckDB writes. The same DuckDB SQL classifies and parses
the lines for both targets, so a file gives the same rows, the same rejects and the same reasons
on either warehouse.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telemetry_kpis.atomic import (
    ATOMIC_COLUMNS,
    RAW_COLUMNS,
    RAW_EVENTS_TABLE,
    RAW_LOAD_LOG_TABLE,
    RAW_REJECTED_TABLE,
    RAW_SCHEMA,
    RAW_TEXT_COLUMNS,
)
from telemetry_kpis.errors import UserError, WarehouseUnavailable
from telemetry_kpis.settings import CONFIGURE_HINT, Settings

if TYPE_CHECKING:
    import duckdb
    import psycopg

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
  DBT_TARGET          duckdb (default) or postgres
  KPIS_DUCKDB_PATH    DuckDB file (default ./telemetry_kpis.duckdb)
  KPIS_PG_HOST, KPIS_PG_PORT, KPIS_PG_USER, KPIS_PG_PASSWORD, KPIS_PG_DATABASE

exit status: 0 when every file was loaded or skipped (rejected lines are reported, not an
error); 1 when a file failed and was rolled back; 2 for a missing file, a bad option or an
unreachable warehouse.

examples:
  kpis load data/events.jsonl.gz
  kpis load exports/*.tsv.gz --uploaded-at 2026-10-01T00:00:00Z
  kpis load data/ --reload --no-progress
"""

#: File-name suffixes (before an optional ``.gz``) and the format they mean.
FORMAT_SUFFIXES: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".tsv": "tsv",
    ".txt": "tsv",
}
FORMATS = ("jsonl", "tsv")

#: A batch ends at the first block boundary past this many characters or lines, so memory
#: stays flat whatever the file size.
BATCH_BYTES = 32 * 1024 * 1024
BATCH_ROWS = 200_000
#: Bytes read from the (decompressed) file at a time.
READ_BLOCK = 8 * 1024 * 1024
#: A longer line is rejected (``line_too_long``) and only its start is kept.
MAX_LINE_BYTES = 64 * 1024 * 1024
REJECT_KEEP_CHARS = 100_000
#: How many rejected lines the summary names per file.
REJECT_SAMPLES = 5

TSV_FIELD_COUNT = len(ATOMIC_COLUMNS)

EVENTS = f"{RAW_SCHEMA}.{RAW_EVENTS_TABLE}"
REJECTED = f"{RAW_SCHEMA}.{RAW_REJECTED_TABLE}"
LOAD_LOG = f"{RAW_SCHEMA}.{RAW_LOAD_LOG_TABLE}"

#: The PostgreSQL sequence load ids are drawn from (DuckDB takes max + 1, see _DuckDBLoader).
LOAD_ID_SEQUENCE = f"{RAW_SCHEMA}.load_id_seq"
#: Held (transaction-level) by every PostgreSQL load from before its id is drawn until its
#: commit: loads serialise, so they commit in load id order.
LOAD_LOCK_SQL = "select pg_advisory_xact_lock(hashtext('telemetry_kpis.load'))"

#: name -> SQL type of each table's columns, in order. The last columns of each table were
#: added by the load-id layout; a table of the previous layout lacks exactly those (see
#: ``UPGRADE_COLUMNS``) and is upgraded in place.
EVENT_COLUMN_TYPES: dict[str, str] = {
    **{c: "text" for c in RAW_TEXT_COLUMNS},
    "uploaded_at": "timestamp",
    "_source_file": "text",
    "_source_line": "bigint",
    "_load_id": "bigint",
    "_loaded_at": "timestamp",
}
REJECTED_COLUMN_TYPES: dict[str, str] = {
    "source_file": "text",
    "line_number": "bigint",
    "reason": "text",
    "raw_line": "text",
    "rejected_at": "timestamp",
    "load_id": "bigint",
}
LOAD_LOG_COLUMN_TYPES: dict[str, str] = {
    "file_name": "text",
    "file_path": "text",
    "checksum_sha256": "text",
    "rows_loaded": "bigint",
    "rows_rejected": "bigint",
    "loaded_at": "timestamp",
    "uploaded_at": "timestamp",
    "load_id": "bigint",
}
assert tuple(EVENT_COLUMN_TYPES) == RAW_COLUMNS

REJECTED_COLUMNS = tuple(REJECTED_COLUMN_TYPES)
LOAD_LOG_COLUMNS = tuple(LOAD_LOG_COLUMN_TYPES)

#: table -> its columns and their types.
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    RAW_EVENTS_TABLE: EVENT_COLUMN_TYPES,
    RAW_REJECTED_TABLE: REJECTED_COLUMN_TYPES,
    RAW_LOAD_LOG_TABLE: LOAD_LOG_COLUMN_TYPES,
}
EXPECTED_COLUMNS: dict[str, tuple[str, ...]] = {t: tuple(c) for t, c in TABLE_COLUMNS.items()}
#: The columns a table of the previous layout may lack: they are appended by the upgrade.
UPGRADE_COLUMNS: dict[str, tuple[str, ...]] = {
    RAW_EVENTS_TABLE: ("_load_id", "_loaded_at"),
    RAW_REJECTED_TABLE: ("load_id",),
    RAW_LOAD_LOG_TABLE: ("load_id",),
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ddl() -> list[str]:
    statements = [f"create schema if not exists {RAW_SCHEMA}"]
    for table, columns in TABLE_COLUMNS.items():
        body = ",\n  ".join(f"{_quote(c)} {t}" for c, t in columns.items())
        statements.append(f"create table if not exists {RAW_SCHEMA}.{table} (\n  {body}\n)")
    return statements


# --- parsing SQL (DuckDB) -----------------------------------------------------------------
# A batch arrives as the DataFrame ``load_batch_frame(line_no, line, pre_reason)``;
# ``pre_reason`` is set by Python for lines it already rejected (bad UTF-8, too long).
# ``load_params(source_file, default_uploaded_at, loaded_at, load_id)`` holds one row per file
# (``loaded_at`` is the load's moment: _loaded_at of its rows, rejected_at of its rejects).
# The EVENTS query of a format inserts the good lines; when it inserted fewer rows than the
# batch has lines, the REJECTS query inserts the others. Both classify every line with the
# same expressions, so a line is either loaded or rejected, never both and never neither.

#: DuckDB's ``from_json`` target type: every atomic column (and uploaded_at) as VARCHAR. A
#: non-string JSON value becomes its JSON text (objects and arrays compact); a missing key null.
_JSON_STRUCT = (
    "{" + ", ".join(f'"{c}": "VARCHAR"' for c in (*RAW_TEXT_COLUMNS, "uploaded_at")) + "}"
)
#: What the REJECTS query parses: only uploaded_at (same rules, much cheaper).
_JSON_STRUCT_UPLOADED_AT = '{"uploaded_at": "VARCHAR"}'
#: Lines that are empty or hold only whitespace are ignored (cheap test first).
_BLANK_CHARS = "chr(9) || chr(11) || chr(12) || chr(13) || chr(32)"
_NOT_BLANK = (
    f"line <> '' and (ascii(line) not in (9, 11, 12, 13, 32) or trim(line, {_BLANK_CHARS}) <> '')"
)
#: JSON whitespace that may precede the opening brace of an object.
_JSON_SPACE = "chr(32) || chr(9) || chr(13) || chr(10)"


def _jsonl_classified(struct: str) -> str:
    """CTEs ending in ``classified(line_no, line, payload, reason)``; reason null = good."""
    return f"""
with frame as (
    select
        cast(line_no as bigint) as line_no,
        cast(line as varchar) as line,
        cast(pre_reason as varchar) as pre_reason
    from load_batch_frame
    where {_NOT_BLANK}
),
parsed as (
    select
        line_no,
        line,
        pre_reason,
        case
            -- json_valid first: from_json raises on malformed JSON (a raw NUL is malformed)
            when pre_reason is null and json_valid(line) then from_json(line, '{struct}')
        end as payload
    from frame
),
classified as (
    select
        line_no,
        line,
        payload,
        case
            when pre_reason is not null then pre_reason
            when contains(line, chr(0)) then 'nul_character'
            when payload is null and not json_valid(line) then 'invalid_json'
            when not starts_with(ltrim(line, {_JSON_SPACE}), '{{') then 'not_an_object'
            when contains(line, '\\u0000') then 'nul_character'
            when payload.uploaded_at is not null
                and try_cast(payload.uploaded_at as timestamptz) is null
                then 'invalid_uploaded_at'
            -- later than the moment of the load: cannot be when the row reached the warehouse
            when cast(try_cast(payload.uploaded_at as timestamptz) as timestamp)
                > (select loaded_at from load_params)
                then 'invalid_uploaded_at'
        end as reason
    from parsed
)"""


_JSONL_EVENTS = f"""{_jsonl_classified(_JSON_STRUCT)}
select
    {", ".join(f"c.payload.{_quote(col)}" for col in RAW_TEXT_COLUMNS)},
    coalesce(
        cast(cast(c.payload.uploaded_at as timestamptz) as timestamp), p.default_uploaded_at
    ),
    p.source_file,
    c.line_no,
    p.load_id,
    p.loaded_at
from classified as c cross join load_params as p
where c.reason is null
"""

_TSV_CLASSIFIED = f"""
with frame as (
    select
        cast(line_no as bigint) as line_no,
        cast(line as varchar) as line,
        cast(pre_reason as varchar) as pre_reason
    from load_batch_frame
    where {_NOT_BLANK}
),
classified as (
    select
        line_no,
        line,
        payload,
        case
            when pre_reason is not null then pre_reason
            when len(payload) <> {TSV_FIELD_COUNT} then 'wrong_field_count'
            when contains(line, chr(0)) then 'nul_character'
        end as reason
    from (
        select
            line_no,
            line,
            pre_reason,
            case when pre_reason is null then string_split(line, chr(9)) end as payload
        from frame
    )
)"""

_TSV_EVENTS = f"""{_TSV_CLASSIFIED}
select
    {", ".join(f"nullif(c.payload[{i}], '')" for i in range(1, TSV_FIELD_COUNT + 1))},
    {", ".join("null" for _ in RAW_TEXT_COLUMNS[TSV_FIELD_COUNT:])},
    p.default_uploaded_at,
    p.source_file,
    c.line_no,
    p.load_id,
    p.loaded_at
from classified as c cross join load_params as p
where c.reason is null
"""

_REJECTS_SELECT = """
select
    p.source_file, c.line_no, c.reason, replace(c.line, chr(0), chr(65533)), p.loaded_at, p.load_id
from classified as c cross join load_params as p
where c.reason is not null
"""

#: format -> (events query, rejects query)
PARSE_SQL = {
    "jsonl": (_JSONL_EVENTS, _jsonl_classified(_JSON_STRUCT_UPLOADED_AT) + _REJECTS_SELECT),
    "tsv": (_TSV_EVENTS, _TSV_CLASSIFIED + _REJECTS_SELECT),
}


# --- results --------------------------------------------------------------------------------
@dataclass
class FileResult:
    """What happened to one file."""

    path: Path
    file_name: str
    format: str
    checksum_sha256: str
    status: str = "loaded"  # "loaded" or "skipped" (already loaded)
    #: the load this file made (None when skipped) and its moment (_loaded_at, naive UTC)
    load_id: int | None = None
    loaded_at: datetime | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    #: reason -> count of rejected lines
    reject_reasons: dict[str, int] = field(default_factory=dict)
    #: the first rejected lines: (1-based line number, reason)
    reject_samples: list[tuple[int, str]] = field(default_factory=list)
    bytes_read: int = 0
    seconds: float = 0.0
    #: for a skipped file: the name it was loaded under and when
    previous_file_name: str | None = None
    previous_loaded_at: datetime | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows_loaded / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        if self.status == "skipped":
            when = (
                f" at {self.previous_loaded_at:%Y-%m-%d %H:%M:%S} UTC"
                if self.previous_loaded_at
                else ""
            )
            return (
                f"{self.file_name}: skipped, already loaded (sha256 {self.checksum_sha256[:12]}, "
                f"as {self.previous_file_name}{when}); use --reload to load it again"
            )
        text = (
            f"{self.file_name}: loaded {self.rows_loaded:,} rows, rejected {self.rows_rejected:,}"
        )
        if self.reject_samples:
            shown = ", ".join(f"line {n}: {reason}" for n, reason in self.reject_samples)
            more = self.rows_rejected - len(self.reject_samples)
            text += f" ({shown}{f', and {more:,} more' if more > 0 else ''})"
        text += (
            f" [{self.format}, load {self.load_id}, "
            f"{self.bytes_read / 1e6:,.1f} MB in {self.seconds:.1f} s, "
            f"{self.rows_per_second:,.0f} rows/s]"
        )
        return text


@dataclass
class LoadSummary:
    """The result of :func:`load_files`: one :class:`FileResult` per path, in order.

    ``uploaded_at`` is the ``--uploaded-at`` given (None: each load's own moment). When a
    file failed, ``failed`` names it and ``files`` holds the files before it (kept).
    """

    target: str
    uploaded_at: datetime | None
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    failed: Path | None = None

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def files_loaded(self) -> int:
        return sum(1 for f in self.files if f.status == "loaded")

    @property
    def files_skipped(self) -> int:
        return sum(1 for f in self.files if f.status == "skipped")

    @property
    def rows_per_second(self) -> float:
        return self.rows_loaded / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        out = [f.describe() for f in self.files]
        if self.failed is not None:
            out.append(
                f"kept: {self.rows_loaded:,} rows loaded, {self.rows_rejected:,} rejected, "
                f"{self.files_loaded} file(s) loaded, {self.files_skipped} skipped before "
                f"{self.failed.name} failed (these loads stay committed), in {self.seconds:.1f} s "
                f"into {self.target}"
            )
            return out
        out.append(
            f"total: {self.rows_loaded:,} rows loaded, {self.rows_rejected:,} rejected, "
            f"{self.files_loaded} file(s) loaded, {self.files_skipped} skipped, "
            f"in {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s) into {self.target}"
        )
        return out


class LoadFailed(UserError):
    """A file failed and was rolled back; the files before it stay loaded.

    ``summary`` is the partial :class:`LoadSummary` (``failed`` set, ``files`` = the files
    handled before the failure); the message names the failed file and the kept ones.
    """

    def __init__(self, message: str, summary: LoadSummary, exit_code: int = 1) -> None:
        super().__init__(message, exit_code=exit_code)
        self.summary = summary


# --- helpers ----------------------------------------------------------------------------------
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
    return _naive_utc(parsed)


def check_not_future(value: datetime, shown: str, now: datetime | None = None) -> None:
    """A UserError when ``value`` (naive UTC) is later than now: no row reaches the warehouse
    in the future. ``shown`` is the value as the user gave it."""
    now = now or _utc_now()
    if value > now:
        raise UserError(
            f"--uploaded-at {shown!r} is later than now ({now:%Y-%m-%d %H:%M:%S} UTC): "
            "uploaded_at must not be in the future"
        )


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def detect_format(path: Path, override: str | None = None) -> str:
    """``jsonl`` or ``tsv``: the override, else the file's extension (before ``.gz``)."""
    if override:
        if override not in FORMATS:
            raise UserError(f"unknown format {override!r} (expected jsonl or tsv)")
        return override
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in FORMAT_SUFFIXES:
        return FORMAT_SUFFIXES[suffixes[-1]]
    raise UserError(
        f"cannot tell the format of {path} from its name (expected .jsonl, .ndjson, .json, "
        ".tsv or .txt, optionally .gz): use --format jsonl or --format tsv"
    )


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def sha256_file(path: Path, progress: Any = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 * 1024 * 1024):
            digest.update(block)
            if progress is not None:
                progress.update(len(block))
    return digest.hexdigest()


def expand_paths(paths: Sequence[Path | str]) -> list[Path]:
    """Files to load: each path as given, or a folder's recognised files (sorted).

    A missing path is a :class:`UserError` naming it (checked before anything is loaded).
    """
    files: list[Path] = []
    missing = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and _known_suffix(p) and not p.name.startswith(".")
            )
            if not found:
                raise UserError(f"folder {path} has no .jsonl/.ndjson/.json/.tsv/.txt(.gz) files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(path))
    if missing:
        raise UserError(f"no such file: {', '.join(missing)}")
    return files


def _known_suffix(path: Path) -> bool:
    try:
        detect_format(path)
    except UserError:
        return False
    return True


@dataclass
class _Batch:
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

    def frame(self) -> Any:
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


def _blocks(path: Path, on_bytes: Any = None) -> Iterator[tuple[str, bytes]]:
    """Blocks of complete lines of a (maybe gzipped) file.

    Yields ``("lines", data)`` where ``data`` holds whole lines joined by ``\n`` (without the
    last newline), or ``("long", start)`` for a line longer than MAX_LINE_BYTES (only its start
    is kept). ``on_bytes(n)`` is told how many file bytes were consumed (compressed ones for a
    gzip file), for a progress bar.
    """
    import gzip

    with path.open("rb") as raw:
        stream: Any = gzip.GzipFile(fileobj=raw, mode="rb") if _is_gzip(path) else raw
        position = 0
        rest = b""
        skipping: bytes | None = None  # start of a too-long line being skipped
        first = True
        while True:
            try:
                block = stream.read(READ_BLOCK)
            except (OSError, EOFError) as exc:  # corrupt or truncated gzip
                raise UserError(f"cannot read {path}: {_first_line(exc)}") from None
            if on_bytes is not None:
                now = raw.tell()
                on_bytes(now - position)
                position = now
            if not block:
                break
            if first:
                first = False
                if block.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark
                    block = block[3:]
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
                # beyond the limit; a large READ_BLOCK may also hold whole over-long lines.
                yield from _long_lines_apart(rest + block[:cut])
                rest = block[cut + 1 :]
            if len(rest) > MAX_LINE_BYTES:
                skipping, rest = rest[:REJECT_KEEP_CHARS], b""
        if skipping is not None:
            yield "long", skipping
        elif rest:
            yield "lines", rest


def _long_lines_apart(data: bytes) -> Iterator[tuple[str, bytes]]:
    """``data`` (whole lines joined by ``\n``) as ("lines", ...) and ("long", start) parts.

    Every line of ``data`` is in exactly one part, in order, so line numbers stay right.
    """
    if len(data) <= MAX_LINE_BYTES:  # the common case: no line can be too long
        yield "lines", data
        return
    segment = 0  # start of the lines not yet yielded
    start = 0
    while start <= len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        if end - start > MAX_LINE_BYTES:
            if start > segment:
                yield "lines", data[segment : start - 1]
            yield "long", data[start : start + REJECT_KEEP_CHARS]
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
        lines, reasons = [], []
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


def read_batches(path: Path, *, on_bytes: Any = None) -> Iterator[_Batch]:
    """Numbered (1-based), decoded lines of a file, in batches of about BATCH_BYTES.

    Lines that are not UTF-8 (``invalid_utf8``) or too long (``line_too_long``) carry a
    pre-reason. Blank lines are kept here (they keep their numbers) and dropped by the SQL.
    """
    batch = _Batch()
    number = 0
    for kind, data in _blocks(path, on_bytes):
        if kind == "long":
            batch.extend(number + 1, [_decode_lenient(data)], ["line_too_long"])
            batch.size += len(data)
            number += 1
        else:
            lines, reasons = _split_lines(data)
            batch.extend(number + 1, lines, reasons)
            batch.size += len(data)
            number += len(lines)
        if batch.size >= BATCH_BYTES or len(batch.lines) >= BATCH_ROWS:
            yield batch
            batch = _Batch()
    if batch.lines:
        yield batch


def prefetch(batches: Iterator[_Batch], depth: int = 2) -> Iterator[tuple[_Batch, Any]]:
    """Read and prepare (batch, DataFrame) pairs in a thread while the database works.

    DuckDB and psycopg release the GIL while they run, so reading, decoding and splitting the
    next batch overlaps with parsing and writing the current one (two cores instead of one).
    At most ``depth`` prepared batches wait in memory. Errors of the reader are re-raised here.
    """
    import queue
    import threading

    pending: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
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
                if not put(("batch", (batch, batch.frame()))):
                    return
            put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer
            put(("error", exc))

    thread = threading.Thread(target=work, name="kpis-load-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = pending.get()
            if kind == "end":
                return
            if kind == "error":
                raise payload
            yield payload
    finally:
        stop.set()
        thread.join(timeout=5)


def _decode_lenient(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


# --- warehouses -----------------------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _duckdb_connect(settings: Settings, *, path: Path | None = None) -> duckdb.DuckDBPyConnection:
    import duckdb

    memory_limit = _memory_limit(settings)
    if path is None:
        connection = duckdb.connect(":memory:")
    else:
        if path.exists() and path.is_dir():
            raise UserError(f"KPIS_DUCKDB_PATH={path} is a folder, not a DuckDB file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseUnavailable(
                f"cannot create the folder of DuckDB file {path}: {_first_line(exc)}"
            ) from None
        try:
            connection = duckdb.connect(str(path))
        except duckdb.Error as exc:
            raise WarehouseUnavailable(
                f"cannot open DuckDB file {path}: {_first_line(exc)}"
            ) from None
    # The same memory limit as the dbt profile: without it DuckDB would use up to 80 % of the
    # machine instead of spilling to its temp folder (`<file>.tmp`), e.g. the staging tables
    # of a large file (see _DuckDBLoader).
    connection.execute(f"set memory_limit = '{memory_limit}'")
    # Offsets in uploaded_at convert to UTC, and timestamps without one are read as UTC.
    connection.execute("set session TimeZone = 'UTC'")
    connection.execute("set enable_progress_bar = false")
    # Lets DuckDB insert with all threads; rows keep _source_line, so order is not needed.
    connection.execute("set preserve_insertion_order = false")
    return connection


def _memory_limit(settings: Settings) -> str:
    limit = settings.duckdb_memory_limit.strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*[KMGT]i?B", limit, flags=re.IGNORECASE):
        raise UserError(
            f"KPIS_DUCKDB_MEMORY_LIMIT={limit!r} is not a memory size (expected e.g. 2GB or 512MB)"
        )
    return limit


def _pg_connect(settings: Settings) -> psycopg.Connection:
    import psycopg

    try:
        return psycopg.connect(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password or None,
            dbname=settings.pg_database,
            connect_timeout=5,
            application_name="kpis load",
        )
    except psycopg.Error as exc:
        raise WarehouseUnavailable(
            f"cannot reach {settings.describe()}: {_first_line(exc)} ({CONFIGURE_HINT})"
        ) from None


def _plan_upgrade(found: dict[str, list[str]]) -> dict[str, list[str]]:
    """table -> the columns of the load-id layout it lacks (to append); {} when up to date.

    A table lacking any other column was not made by ``kpis load``: a one-line UserError.
    """
    upgrade: dict[str, list[str]] = {}
    for table, expected in EXPECTED_COLUMNS.items():
        columns = found.get(table, [])
        missing = [c for c in expected if c not in columns]
        if any(c not in UPGRADE_COLUMNS[table] for c in missing):
            raise UserError(
                f"{RAW_SCHEMA}.{table} exists but lacks column(s) {', '.join(missing[:5])}"
                f"{' ...' if len(missing) > 5 else ''}: it was not created by kpis load; "
                "rename or drop it"
            )
        if missing:
            upgrade[table] = missing
    return upgrade


_LAYOUT_SQL = (
    "select table_name, column_name from information_schema.columns "
    "where table_schema = ? and table_name in (?, ?, ?) order by table_name, ordinal_position"
)
_LAYOUT_PARAMS = [RAW_SCHEMA, RAW_EVENTS_TABLE, RAW_REJECTED_TABLE, RAW_LOAD_LOG_TABLE]

#: The old identity's load part, NULL-safe for an equality (hash) join on both engines
#: (``is not distinct from`` cannot be hashed by PostgreSQL; rows of kpis load have no NULLs).
_OLD_LOAD_KEY = (
    "coalesce(_source_file, '') as file_key, "
    "coalesce(uploaded_at, cast('-infinity' as timestamp)) as uploaded_key"
)


def _upgrade_statements(upgrade: dict[str, list[str]], row_key: str) -> list[tuple[str, str]]:
    """(what, SQL) to bring tables of the previous layout to this one, in order.

    ``row_key`` is the engine's physical row id (``rowid`` on DuckDB, ``ctid`` on PostgreSQL),
    to number the rows of raw.load_log, which have no key of their own. ``what`` names the
    statements whose row count is the number of back-filled rows (``events``/``load_log``).
    """
    statements = [
        ("", f"alter table {RAW_SCHEMA}.{table} add column {_quote(c)} {TABLE_COLUMNS[table][c]}")
        for table, columns in upgrade.items()
        for c in columns
    ]
    added = upgrade.get(RAW_EVENTS_TABLE, [])
    if "_load_id" in added:
        # One load id per distinct (_source_file, uploaded_at): every old (file, line,
        # uploaded_at) identity stays unique as (_load_id, _source_line).
        loaded_at = ", _loaded_at = e.uploaded_at" if "_loaded_at" in added else ""
        statements.append(
            (
                "events",
                f"update {EVENTS} as e set _load_id = r.load_id{loaded_at} from (\n"
                "    select file_key, uploaded_key,\n"
                "        dense_rank() over (order by uploaded_key, file_key) as load_id\n"
                f"    from (select distinct {_OLD_LOAD_KEY} from {EVENTS}) as d\n"
                ") as r\n"
                "where coalesce(e._source_file, '') = r.file_key\n"
                "    and coalesce(e.uploaded_at, cast('-infinity' as timestamp)) = r.uploaded_key",
            )
        )
    elif "_loaded_at" in added:
        statements.append(("events", f"update {EVENTS} set _loaded_at = uploaded_at"))
    if "load_id" in upgrade.get(RAW_LOAD_LOG_TABLE, []):
        statements.append(
            (
                "load_log",
                f"update {LOAD_LOG} as l set load_id = r.load_id from (\n"
                f"    select {row_key} as row_key, row_number() over (\n"
                "        order by loaded_at, file_name, checksum_sha256) as load_id\n"
                f"    from {LOAD_LOG}\n"
                f") as r where l.{row_key} = r.row_key",
            )
        )
    # Old rejects keep a null load_id: nothing to back-fill.
    return statements


def _upgrade_message(target: str, upgrade: dict[str, list[str]], counts: dict[str, int]) -> str:
    added = "; ".join(f"{RAW_SCHEMA}.{t}: {', '.join(c)}" for t, c in upgrade.items())
    return (
        f"kpis load: upgraded the raw tables on {target} to the load-id layout "
        f"(added {added}; back-filled {counts.get('events', 0):,} raw rows and "
        f"{counts.get('load_log', 0):,} load_log rows)"
    )


_MAX_LOAD_ID_SQL = (
    f"select greatest(coalesce((select max(_load_id) from {EVENTS}), 0), "
    f"coalesce((select max(load_id) from {LOAD_LOG}), 0))"
)


def _ensure_duckdb(connection: duckdb.DuckDBPyConnection, target: str) -> None:
    for statement in _ddl():
        connection.execute(statement)
    found: dict[str, list[str]] = {}
    for table, column in connection.execute(_LAYOUT_SQL, _LAYOUT_PARAMS).fetchall():
        found.setdefault(table, []).append(column)
    upgrade = _plan_upgrade(found)
    if not upgrade:
        return
    counts: dict[str, int] = {}
    connection.begin()
    try:
        for what, statement in _upgrade_statements(upgrade, "rowid"):
            result = connection.execute(statement)
            if what:
                row = result.fetchone()
                counts[what] = int(row[0]) if row else 0
        connection.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            connection.rollback()
        raise
    print(_upgrade_message(target, upgrade, counts), file=sys.stderr)


def _ensure_pg(connection: psycopg.Connection, target: str) -> None:
    counts: dict[str, int] = {}
    with connection.transaction():
        # Serialise concurrent first loads (CREATE ... IF NOT EXISTS can race).
        connection.execute("select pg_advisory_xact_lock(hashtext('telemetry_kpis.load.ddl'))")
        had_sequence = connection.execute(
            "select to_regclass(%s) is not null", [LOAD_ID_SEQUENCE]
        ).fetchone()[0]
        for statement in _ddl():
            connection.execute(statement)
        connection.execute(f"create sequence if not exists {LOAD_ID_SEQUENCE}")
        found: dict[str, list[str]] = {}
        rows = connection.execute(_LAYOUT_SQL.replace("?", "%s"), _LAYOUT_PARAMS).fetchall()
        for table, column in rows:
            found.setdefault(table, []).append(column)
        upgrade = _plan_upgrade(found)
        if upgrade:
            connection.execute(LOAD_LOCK_SQL)  # no load of this version runs meanwhile
            for what, statement in _upgrade_statements(upgrade, "ctid"):
                cursor = connection.execute(statement)
                if what:
                    counts[what] = cursor.rowcount
        if upgrade or not had_sequence:
            # A new sequence (or new ids from the upgrade): start above every id in the tables.
            connection.execute(
                f"select setval(%s, m) from ({_MAX_LOAD_ID_SQL} as m) as x where m > 0",
                [LOAD_ID_SEQUENCE],
            )
    if upgrade:
        print(_upgrade_message(target, upgrade, counts), file=sys.stderr)


def ensure_raw_tables(settings: Settings) -> None:
    """Create schema ``raw`` and its three tables if missing (and the DuckDB file/folder).

    Tables of the previous layout are upgraded in place (see the module docstring), with one
    line on stderr saying so.
    """
    if settings.target == "duckdb":
        connection = _duckdb_connect(settings, path=settings.duckdb_path)
        try:
            _ensure_duckdb(connection, settings.describe())
        finally:
            connection.close()
    else:
        import psycopg

        with _pg_connect(settings) as connection:
            try:
                _ensure_pg(connection, settings.describe())
            except psycopg.Error as exc:
                raise UserError(
                    f"cannot create the raw tables on {settings.describe()}: {_first_line(exc)}"
                ) from None


class _Loader:
    """Loads one file at a time into one target, atomically (one transaction per file).

    ``self.duck`` is the DuckDB connection that parses the batches: the target itself for
    DuckDB, an in-memory database for PostgreSQL.
    """

    duck: duckdb.DuckDBPyConnection

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def set_params(
        self, source_file: str, default_uploaded_at: datetime, loaded_at: datetime, load_id: int
    ) -> None:
        self.duck.execute(
            "create or replace temp table load_params as select ?::varchar as source_file, "
            "?::timestamp as default_uploaded_at, ?::timestamp as loaded_at, "
            "?::bigint as load_id",
            [source_file, default_uploaded_at, loaded_at, load_id],
        )

    def stage(self, frame: Any) -> None:
        """Make a batch's DataFrame (see :meth:`_Batch.frame`) the relation load_batch_frame."""
        self.duck.register("load_batch_frame", frame)

    def unstage(self) -> None:
        self.duck.unregister("load_batch_frame")


#: The staging tables of a DuckDB load: temporary, so only the loading connection sees them,
#: they never reach the database file and they vanish with the process if it is killed.
STAGING_EVENTS = "temp.main.load_staging_events"
STAGING_REJECTED = "temp.main.load_staging_rejected"


class _DuckDBLoader(_Loader):
    """Loads a file into DuckDB through staging tables, so that memory stays flat.

    A file used to be written into the raw tables in one transaction, batch by batch. DuckDB
    keeps what an open transaction wrote in memory until the commit (only partly spillable to
    disk), and a batch registered as a view stayed referenced until then too: the memory grew
    with the file (7.9 GB for 0.9M rows, 6 GB of text; a 2.7M-row file failed at 2 GB).

    Now each batch is written, and committed, into temporary staging tables (DuckDB spills
    committed rows beyond memory_limit to its temp folder, ``<file>.tmp``); then one
    transaction moves them into raw.snowplow_events and raw.snowplow_events_rejected and adds
    the file's row to raw.load_log. DuckDB streams such an ``insert ... select`` to the file.
    So a file stays atomic: until that commit the raw tables hold nothing of it, and a failed
    or interrupted load only drops the staging tables.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.connection = _duckdb_connect(settings, path=settings.duckdb_path)
        try:
            _ensure_duckdb(self.connection, settings.describe())
        except BaseException:
            self.connection.close()
            raise
        self.duck = self.connection
        self._log_values: list[Any] | None = None

    def close(self) -> None:
        self.connection.close()

    def begin(self) -> None:
        # The columns and types of the raw tables (not their constraints: the move checks them).
        self.connection.execute(
            f"create or replace temp table {STAGING_EVENTS} as from {EVENTS} limit 0"
        )
        self.connection.execute(
            f"create or replace temp table {STAGING_REJECTED} as from {REJECTED} limit 0"
        )
        self._log_values = None

    def commit(self) -> None:
        """Move the staged rows and rejects into the raw tables with the log row, atomically."""
        assert self._log_values is not None, "log() comes before commit()"
        events = ", ".join(_quote(c) for c in RAW_COLUMNS)
        rejected = ", ".join(REJECTED_COLUMNS)
        self.connection.begin()
        self.connection.execute(
            f"insert into {EVENTS} ({events}) select {events} from {STAGING_EVENTS}"
        )
        self.connection.execute(
            f"insert into {REJECTED} ({rejected}) select {rejected} from {STAGING_REJECTED}"
        )
        self.connection.execute(
            f"insert into {LOAD_LOG} ({', '.join(LOAD_LOG_COLUMNS)}) "
            f"values ({', '.join('?' for _ in LOAD_LOG_COLUMNS)})",
            self._log_values,
        )
        self.connection.commit()
        self._drop_staging()

    def rollback(self) -> None:
        with contextlib.suppress(Exception):  # no transaction open
            self.connection.rollback()
        self._drop_staging()

    def _drop_staging(self) -> None:
        """Free the staging tables' memory and temp files (they are gone at exit anyway)."""
        for table in (STAGING_EVENTS, STAGING_REJECTED):
            with contextlib.suppress(Exception):  # the error being handled matters more
                self.connection.execute(f"drop table if exists {table}")

    def previous_load(self, checksum: str) -> tuple[str, datetime] | None:
        row = self.connection.execute(
            f"select file_name, loaded_at from {LOAD_LOG} where checksum_sha256 = ? "
            "order by loaded_at limit 1",
            [checksum],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def next_load_id(self) -> int:
        """Above every load id in the file. This process holds the DuckDB file (no other
        writer), and the id is only committed with the file's rows by commit()."""
        row = self.connection.execute(_MAX_LOAD_ID_SQL).fetchone()
        return int(row[0]) + 1

    def insert_events(self, select_sql: str) -> int:
        # Each batch is its own transaction (autocommit), so DuckDB may spill it to disk.
        columns = ", ".join(_quote(c) for c in RAW_COLUMNS)
        row = self.connection.execute(
            f"insert into {STAGING_EVENTS} ({columns}) {select_sql}"
        ).fetchone()
        return int(row[0]) if row else 0

    def insert_rejects(self, select_sql: str) -> list[tuple[int, str]]:
        rows = self.connection.execute(
            f"insert into {STAGING_REJECTED} ({', '.join(REJECTED_COLUMNS)}) {select_sql} "
            "returning line_number, reason"
        ).fetchall()
        return [(int(n), str(r)) for n, r in rows]

    def log(self, values: list[Any]) -> None:
        self._log_values = values  # written by commit(), in the transaction of the move


class _PostgresLoader(_Loader):
    def __init__(self, settings: Settings) -> None:
        import tempfile

        super().__init__(settings)
        self.pg = _pg_connect(settings)
        try:
            _ensure_pg(self.pg, settings.describe())
        except Exception:
            self.pg.close()
            raise
        self.duck = _duckdb_connect(settings)
        self._tmp = tempfile.TemporaryDirectory(prefix="kpis-load-")
        self._csv = Path(self._tmp.name) / "batch.csv"

    def close(self) -> None:
        self.duck.close()
        self.pg.close()
        self._tmp.cleanup()

    def begin(self) -> None:
        # psycopg opens the file's transaction with this first statement (autocommit is off).
        # The lock is held until commit or rollback: loads serialise, so a load commits after
        # every load with a smaller id (and two loads of the same file at once: the second
        # waits, then sees the first's log row and skips).
        self.pg.execute(LOAD_LOCK_SQL)

    def commit(self) -> None:
        self.pg.commit()

    def rollback(self) -> None:
        with contextlib.suppress(Exception):  # the error being handled matters more
            self.pg.rollback()

    def previous_load(self, checksum: str) -> tuple[str, datetime] | None:
        row = self.pg.execute(
            f"select file_name, loaded_at from {LOAD_LOG} where checksum_sha256 = %s "
            "order by loaded_at limit 1",
            [checksum],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def next_load_id(self) -> int:
        """The next value of raw.load_id_seq (drawn under the load lock of begin()), never at
        or below a load id already in raw.load_log (e.g. after the sequence was reset)."""
        load_id = int(self.pg.execute("select nextval(%s)", [LOAD_ID_SEQUENCE]).fetchone()[0])
        floor = int(
            self.pg.execute(f"select coalesce(max(load_id), 0) from {LOAD_LOG}").fetchone()[0]
        )
        if load_id <= floor:
            load_id = floor + 1
            self.pg.execute("select setval(%s, %s)", [LOAD_ID_SEQUENCE, load_id])
        return load_id

    def _copy(self, table: str, columns: Sequence[str], select_sql: str) -> int:
        """Stream the rows of a DuckDB query into a PostgreSQL table; the row count."""
        self.duck.execute(f"copy ({select_sql}) to '{self._csv}' (format csv, header false)")
        column_list = ", ".join(_quote(c) for c in columns)
        with self.pg.cursor() as cursor:
            with (
                cursor.copy(f"copy {table} ({column_list}) from stdin (format csv)") as copy,
                self._csv.open("rb") as handle,
            ):
                while block := handle.read(1024 * 1024):
                    copy.write(block)
            return cursor.rowcount

    def insert_events(self, select_sql: str) -> int:
        return self._copy(EVENTS, RAW_COLUMNS, select_sql)

    def insert_rejects(self, select_sql: str) -> list[tuple[int, str]]:
        self.duck.execute(f"create or replace temp table load_rejects as {select_sql}")
        try:
            rows = self.duck.execute(
                "select line_no, reason from load_rejects as r(f, line_no, reason, l, t, i)"
            ).fetchall()
            if rows:
                self._copy(REJECTED, REJECTED_COLUMNS, "select * from load_rejects")
        finally:
            self.duck.execute("drop table if exists load_rejects")
        return [(int(n), str(r)) for n, r in rows]

    def log(self, values: list[Any]) -> None:
        self.pg.execute(
            f"insert into {LOAD_LOG} ({', '.join(LOAD_LOG_COLUMNS)}) "
            f"values ({', '.join('%s' for _ in LOAD_LOG_COLUMNS)})",
            values,
        )


# --- loading --------------------------------------------------------------------------------
def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _is_database_error(exc: BaseException) -> bool:
    """A DuckDB or psycopg error (without importing psycopg for a DuckDB load)."""
    for cls in type(exc).__mro__:
        module = cls.__module__ or ""
        if (module.startswith(("duckdb", "_duckdb")) and cls.__name__ == "Error") or (
            module.startswith("psycopg") and cls.__name__ == "Error"
        ):
            return True
    return False


def _progress_bar(show: bool, total: int, desc: str) -> Any:
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


def _load_one(
    loader: _DuckDBLoader | _PostgresLoader,
    path: Path,
    file_format: str,
    *,
    reload: bool,
    uploaded_at: datetime | None,
    show_progress: bool,
) -> FileResult:
    """Load one file as one load (its own id and moment), or skip it; rolled back on error."""
    size = path.stat().st_size
    started = time.perf_counter()
    with _progress_bar(
        show_progress and size > 64 * 1024 * 1024, size, f"sha256 {path.name}"
    ) as bar:
        checksum = sha256_file(path, bar)
    result = FileResult(
        path=path,
        file_name=path.name,
        format=file_format,
        checksum_sha256=checksum,
        bytes_read=size,
    )
    events_sql, rejects_sql = PARSE_SQL[file_format]
    loader.begin()
    try:
        previous = None if reload else loader.previous_load(checksum)
        if previous is not None:
            loader.rollback()
            result.status = "skipped"
            result.previous_file_name, result.previous_loaded_at = previous
            result.seconds = time.perf_counter() - started
            return result
        # After begin(): on PostgreSQL the load lock is held, so ids commit in order.
        result.load_id = load_id = loader.next_load_id()
        result.loaded_at = loaded_at = _utc_now()
        default_uploaded_at = uploaded_at or loaded_at
        loader.set_params(path.name, default_uploaded_at, loaded_at, load_id)
        with _progress_bar(show_progress, size, path.name) as bar:
            for batch, frame in prefetch(read_batches(path, on_bytes=bar.update)):
                loader.stage(frame)
                try:
                    inserted = loader.insert_events(events_sql)
                    result.rows_loaded += inserted
                    # Every line is good in the common case: then no second pass is needed.
                    rejects = (
                        sorted(loader.insert_rejects(rejects_sql)) if inserted < len(batch) else []
                    )
                finally:
                    loader.unstage()
                for number, reason in rejects:
                    result.rows_rejected += 1
                    result.reject_reasons[reason] = result.reject_reasons.get(reason, 0) + 1
                    if len(result.reject_samples) < REJECT_SAMPLES:
                        result.reject_samples.append((number, reason))
        loader.log(
            [
                path.name,
                str(path.resolve()),
                checksum,
                result.rows_loaded,
                result.rows_rejected,
                _utc_now(),
                default_uploaded_at,
                load_id,
            ]
        )
        loader.commit()
    except BaseException as exc:
        loader.rollback()
        if _is_database_error(exc):
            raise UserError(
                f"loading {path} failed and was rolled back (nothing of it was kept): "
                f"{_first_line(exc)}",
                exit_code=1,
            ) from None
        if isinstance(exc, UserError):  # an unreadable file (e.g. a truncated .gz)
            raise UserError(
                f"{exc}; it was rolled back (nothing of {path.name} was kept)", exit_code=1
            ) from None
        raise
    result.seconds = time.perf_counter() - started
    return result


def load_files(
    settings: Settings,
    paths: Sequence[Path],
    *,
    reload: bool = False,
    uploaded_at: datetime | None = None,
    progress: bool = True,
    file_format: str | None = None,
) -> LoadSummary:
    """Load files into raw.snowplow_events of the target, one transaction per file.

    ``paths`` may name folders (their .jsonl/.ndjson/.json/.tsv/.txt files, optionally .gz,
    are loaded in name order), each file as its own load (own load id and _loaded_at).
    ``uploaded_at`` (naive = UTC; must not be in the future) is used for rows that carry none;
    by default each load's own moment. ``file_format`` (``jsonl``/``tsv``) overrides the
    extension. A file already in raw.load_log (same SHA-256) is skipped unless ``reload``.
    ``progress`` shows a tqdm bar on stderr when stderr is a terminal.

    A file that fails is rolled back and raises :class:`LoadFailed` (exit code 1), whose
    message names the files before it (kept: committed) and whose ``summary`` lists them.
    """
    files = expand_paths(paths)
    formats = {path: detect_format(path, file_format) for path in files}
    if uploaded_at is not None:
        uploaded_at = _naive_utc(uploaded_at)
        check_not_future(uploaded_at, uploaded_at.isoformat(sep=" "))
    # Import the heavy libraries before the clock starts: rows/s measures loading only.
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import tqdm  # noqa: F401

    started = time.perf_counter()
    summary = LoadSummary(target=settings.describe(), uploaded_at=uploaded_at)
    show = bool(progress) and sys.stderr.isatty()
    try:
        loader = (
            _DuckDBLoader(settings) if settings.target == "duckdb" else _PostgresLoader(settings)
        )
    except Exception as exc:
        if _is_database_error(exc):
            raise UserError(
                f"cannot prepare the raw tables on {settings.describe()}: {_first_line(exc)}"
            ) from None
        raise
    try:
        for path in files:
            try:
                result = _load_one(
                    loader,
                    path,
                    formats[path],
                    reload=reload,
                    uploaded_at=uploaded_at,
                    show_progress=show,
                )
            except UserError as exc:
                summary.failed = path
                summary.seconds = time.perf_counter() - started
                raise LoadFailed(f"{exc}{_kept_note(summary)}", summary, exc.exit_code) from None
            summary.files.append(result)
    finally:
        loader.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _kept_note(summary: LoadSummary) -> str:
    """What stays loaded when a file fails: the files before it (empty when none)."""
    kept = [f for f in summary.files if f.status == "loaded"]
    if not kept:
        return ""
    names = ", ".join(f.file_name for f in kept[:5]) + (", ..." if len(kept) > 5 else "")
    return (
        f"; the {len(kept)} file(s) loaded before it were kept ({names}: "
        f"{summary.rows_loaded:,} rows)"
    )


# --- command --------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
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
