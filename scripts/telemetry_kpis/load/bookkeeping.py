"""Load bookkeeping: load ids, the moments of a load, and its row in raw.load_log.

Each loaded file is one *load*: it gets its own ``load_id`` from a monotonic sequence and its
own moment ``loaded_at`` (UTC, the loader's clock, taken when the load starts), so a run of N
files makes N loads. Loads commit in load_id order (on PostgreSQL each load holds a global
transaction-level advisory lock from before its id is drawn until its commit), so a reader
that has processed every load up to id K and later reads ``_load_id > K`` never misses one.
Ids are never reused after a committed load (a rolled-back load's id may be). Reloading a
file, loading two files of the same name or replaying a batch gives new load ids: a raw row is
identified by (``_load_id``, ``_source_line``), unique across raw.snowplow_events.

PostgreSQL draws ids from the sequence ``raw.load_id_seq`` under the lock (never below
max(load_id) of raw.load_log + 1); DuckDB (one process holds the file) takes
max(load_id, _load_id) + 1 of raw.load_log and raw.snowplow_events in the writing connection.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from telemetry_kpis.atomic import RAW_SCHEMA
from telemetry_kpis.errors import UserError
from telemetry_kpis.load.contract import EVENTS, LOAD_LOG, LOAD_LOG_COLUMNS

#: The PostgreSQL sequence load ids are drawn from (DuckDB takes max + 1, see MAX_LOAD_ID_SQL).
LOAD_ID_SEQUENCE = f"{RAW_SCHEMA}.load_id_seq"
#: Held (transaction-level) by every PostgreSQL load from before its id is drawn until its
#: commit: loads serialise, so they commit in load id order.
LOAD_LOCK_SQL = "select pg_advisory_xact_lock(hashtext('telemetry_kpis.load'))"
#: The largest load id in the raw tables (0 when none): new ids go above it.
MAX_LOAD_ID_SQL = (
    f"select greatest(coalesce((select max(_load_id) from {EVENTS}), 0), "
    f"coalesce((select max(load_id) from {LOAD_LOG}), 0))"
)


def utc_now() -> datetime:
    """Now, as naive UTC (the warehouse columns are timestamps without time zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(value: datetime) -> datetime:
    """``value`` as naive UTC: an offset is applied, a naive value is taken as UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def check_not_future(value: datetime, shown: str, now: datetime | None = None) -> None:
    """A UserError when ``value`` (naive UTC) is later than now: no row reaches the warehouse
    in the future. ``shown`` is the value as the user gave it."""
    now = now or utc_now()
    if value > now:
        raise UserError(
            f"--uploaded-at {shown!r} is later than now ({now:%Y-%m-%d %H:%M:%S} UTC): "
            "uploaded_at must not be in the future"
        )


@dataclass(frozen=True)
class LoadParams:
    """What every raw row and reject of one load carries besides its line."""

    source_file: str
    #: uploaded_at of rows that carry none: --uploaded-at, else ``loaded_at``
    default_uploaded_at: datetime
    #: the load's moment: _loaded_at of its rows, rejected_at of its rejects
    loaded_at: datetime
    load_id: int


@dataclass(frozen=True)
class PreviousLoad:
    """The first load of a file's content (same SHA-256): why the file is skipped."""

    file_name: str
    loaded_at: datetime


@dataclass(frozen=True)
class LoadLogRow:
    """A load's row in raw.load_log, written in the transaction of its rows."""

    file_name: str
    file_path: str
    checksum_sha256: str
    rows_loaded: int
    rows_rejected: int
    #: when the load finished
    loaded_at: datetime
    #: the file's default uploaded_at (LoadParams.default_uploaded_at)
    uploaded_at: datetime
    load_id: int

    def values(self) -> list[Any]:
        """The values in the order of LOAD_LOG_COLUMNS (see :func:`load_log_insert_sql`)."""
        return list(astuple(self))


assert tuple(f.name for f in fields(LoadLogRow)) == LOAD_LOG_COLUMNS


def load_log_insert_sql(placeholder: str) -> str:
    """The insert of a :class:`LoadLogRow`; ``placeholder`` is the driver's (``?``, ``%s``)."""
    return (
        f"insert into {LOAD_LOG} ({', '.join(LOAD_LOG_COLUMNS)}) "
        f"values ({', '.join(placeholder for _ in LOAD_LOG_COLUMNS)})"
    )


def previous_load_sql(placeholder: str) -> str:
    """The query of a checksum's first load (file_name, loaded_at); ``placeholder`` as above."""
    return (
        f"select file_name, loaded_at from {LOAD_LOG} where checksum_sha256 = {placeholder} "
        "order by loaded_at limit 1"
    )


def previous_load(row: tuple[Any, ...] | None) -> PreviousLoad | None:
    """The :class:`PreviousLoad` of a row of :func:`previous_load_sql` (None: no row)."""
    return PreviousLoad(row[0], row[1]) if row else None
