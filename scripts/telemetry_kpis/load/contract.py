"""The raw contract: the three raw tables ``kpis load`` writes, their columns and their DDL.

Columns, in order:

- ``raw.snowplow_events``: the 131 atomic columns and ``load_tstamp`` (text), ``uploaded_at``
  (timestamp), ``_source_file`` (text), ``_source_line`` (bigint, 1-based), ``_load_id``
  (bigint), ``_loaded_at`` (timestamp).
- ``raw.snowplow_events_rejected``: ``source_file``, ``line_number``, ``reason``,
  ``raw_line``, ``rejected_at`` (= the load's ``loaded_at``), ``load_id``.
- ``raw.load_log`` (one row per load): ``file_name``, ``file_path``, ``checksum_sha256``,
  ``rows_loaded``, ``rows_rejected``, ``loaded_at`` (when the load finished),
  ``uploaded_at`` (the file's default: ``--uploaded-at`` or the load's moment), ``load_id``.

Both engines get the same tables from the same DDL, so dbt reads one source either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from telemetry_kpis.atomic import (
    RAW_COLUMNS,
    RAW_EVENTS_TABLE,
    RAW_LOAD_LOG_TABLE,
    RAW_REJECTED_TABLE,
    RAW_SCHEMA,
    RAW_TEXT_COLUMNS,
)

EVENTS = f"{RAW_SCHEMA}.{RAW_EVENTS_TABLE}"
REJECTED = f"{RAW_SCHEMA}.{RAW_REJECTED_TABLE}"
LOAD_LOG = f"{RAW_SCHEMA}.{RAW_LOAD_LOG_TABLE}"

#: name -> SQL type of each table's columns, in order. The last columns of each table belong
#: to the load-id layout; a table of the previous layout lacks exactly those (see
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


def quote(name: str) -> str:
    """A SQL identifier, quoted for both engines (some atomic column names are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def column_list(columns: Sequence[str]) -> str:
    """The quoted, comma-separated column list of an insert or a copy."""
    return ", ".join(quote(c) for c in columns)


def ddl() -> list[str]:
    """Statements creating schema ``raw`` and its tables when missing (never altering them)."""
    statements = [f"create schema if not exists {RAW_SCHEMA}"]
    for table, columns in TABLE_COLUMNS.items():
        body = ",\n  ".join(f"{quote(c)} {t}" for c, t in columns.items())
        statements.append(f"create table if not exists {RAW_SCHEMA}.{table} (\n  {body}\n)")
    return statements
