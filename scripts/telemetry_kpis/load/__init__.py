"""``kpis load``: load Snowplow enriched events from files into the raw tables of the warehouse.

Files are JSON lines (one enriched event per line, keyed by the atomic column names) or
Snowplow enriched TSV (the 131 fields in their standard order, no header), optionally gzipped.
Each file is one load (bookkeeping), written in one transaction with its rejects and its row
in ``raw.load_log``.

One job per module:

- ``contract``: the raw tables, their columns and DDL; ``parse_sql``: the DuckDB SQL that
  classifies and parses lines, the same for both targets;
- ``files``: which files, their format and checksum; ``reader``: the threaded reader that
  turns a file into numbered lines in batches;
- ``writer``: the one interface a load writes through, implemented by ``duckdb_writer``,
  ``postgres_writer`` and ``spark_writer`` (``connections`` opens their connections;
  ``spark_tables`` holds Spark's raw tables and its atomicity by load-id partitions);
- ``bookkeeping``: load ids, moments and load_log rows; ``layout``: creating the raw tables
  and upgrading the previous layout;
- ``loading``: a run of loads (:func:`load_files`); ``results``: what it reports;
  ``progress``: progress bars; ``command``: the ``kpis load`` options and output.

This package re-exports the names callers use, so ``telemetry_kpis.load`` is also the
``kpis load`` command module (HELP, DESCRIPTION, add_arguments, run).
"""

from __future__ import annotations

from telemetry_kpis.load.bookkeeping import (
    LOAD_ID_SEQUENCE,
    LOAD_LOCK_SQL,
    LoadLogRow,
    LoadParams,
    PreviousLoad,
    check_not_future,
)
from telemetry_kpis.load.command import DESCRIPTION, HELP, add_arguments, parse_timestamp, run
from telemetry_kpis.load.contract import (
    EVENT_COLUMN_TYPES,
    EVENTS,
    EXPECTED_COLUMNS,
    LOAD_LOG,
    LOAD_LOG_COLUMN_TYPES,
    LOAD_LOG_COLUMNS,
    REJECTED,
    REJECTED_COLUMN_TYPES,
    REJECTED_COLUMNS,
    TABLE_COLUMNS,
    UPGRADE_COLUMNS,
)
from telemetry_kpis.load.duckdb_writer import STAGING_EVENTS, STAGING_REJECTED, DuckDBWriter
from telemetry_kpis.load.files import (
    FORMAT_SUFFIXES,
    FORMATS,
    detect_format,
    expand_paths,
    sha256_file,
)
from telemetry_kpis.load.layout import ensure_raw_tables
from telemetry_kpis.load.loading import (
    LoadRequest,
    SourceFile,
    WriterFactory,
    load_files,
    load_one,
    open_writer,
)
from telemetry_kpis.load.parse_sql import PARSE_SQL, TSV_FIELD_COUNT
from telemetry_kpis.load.postgres_writer import PostgresWriter
from telemetry_kpis.load.reader import (
    BATCH_BYTES,
    BATCH_ROWS,
    MAX_LINE_BYTES,
    READ_BLOCK,
    REJECT_KEEP_CHARS,
    Batch,
    Reader,
    ReadLimits,
    prefetch,
    read_batches,
)
from telemetry_kpis.load.results import REJECT_SAMPLES, FileResult, LoadFailed, LoadSummary
from telemetry_kpis.load.writer import DuckDBParsing, Writer

__all__ = [
    "BATCH_BYTES",
    "BATCH_ROWS",
    "DESCRIPTION",
    "EVENTS",
    "EVENT_COLUMN_TYPES",
    "EXPECTED_COLUMNS",
    "FORMATS",
    "FORMAT_SUFFIXES",
    "HELP",
    "LOAD_ID_SEQUENCE",
    "LOAD_LOCK_SQL",
    "LOAD_LOG",
    "LOAD_LOG_COLUMNS",
    "LOAD_LOG_COLUMN_TYPES",
    "MAX_LINE_BYTES",
    "PARSE_SQL",
    "READ_BLOCK",
    "REJECTED",
    "REJECTED_COLUMNS",
    "REJECTED_COLUMN_TYPES",
    "REJECT_KEEP_CHARS",
    "REJECT_SAMPLES",
    "STAGING_EVENTS",
    "STAGING_REJECTED",
    "TABLE_COLUMNS",
    "TSV_FIELD_COUNT",
    "UPGRADE_COLUMNS",
    "Batch",
    "DuckDBParsing",
    "DuckDBWriter",
    "FileResult",
    "LoadFailed",
    "LoadLogRow",
    "LoadParams",
    "LoadRequest",
    "LoadSummary",
    "PostgresWriter",
    "PreviousLoad",
    "ReadLimits",
    "Reader",
    "SourceFile",
    "Writer",
    "WriterFactory",
    "add_arguments",
    "check_not_future",
    "detect_format",
    "ensure_raw_tables",
    "expand_paths",
    "load_files",
    "load_one",
    "open_writer",
    "parse_timestamp",
    "prefetch",
    "read_batches",
    "run",
    "sha256_file",
]
