"""The Spark writer: batches parsed by an in-memory DuckDB, staged as parquet files, written to
the raw tables at the commit, with the load's raw.load_log row last.

Atomicity without transactions (see ``spark_tables``): the load's rows and rejects go into
their own partitions (its load id), and the load counts once its raw.load_log row is written.
A failed load drops its partitions (rollback); a killed one leaves partitions without a log
row, which the next load or build drops first.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_kpis.atomic import RAW_COLUMNS
from telemetry_kpis.load.bookkeeping import LoadLogRow, LoadParams, PreviousLoad
from telemetry_kpis.load.connections import duckdb_connect
from telemetry_kpis.load.contract import (
    EVENTS,
    LOAD_LOG,
    LOAD_LOG_COLUMN_TYPES,
    REJECTED,
    REJECTED_COLUMNS,
    TABLE_COLUMNS,
    column_list,
)
from telemetry_kpis.load.spark_tables import (
    PARTITION_COLUMNS,
    committed_load_ids,
    drop_partition,
    drop_uncommitted_loads,
    ensure_spark,
    max_load_id,
    spark_quote,
)
from telemetry_kpis.load.writer import DuckDBParsing
from telemetry_kpis.settings import Settings
from telemetry_kpis.spark_session import spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _spark_select(table: str, skip: str) -> str:
    """The columns of ``table`` (in Spark's order, without ``skip``) read from staged parquet
    files by name, timestamps cast (DuckDB's naive timestamps arrive as timestamp_ntz)."""
    types = TABLE_COLUMNS[table.split(".")[1]]
    return ", ".join(
        f"cast({spark_quote(c)} as timestamp) as {spark_quote(c)}"
        if types[c] == "timestamp"
        else spark_quote(c)
        for c in types
        if c != skip
    )


def _timestamp_text(value: datetime) -> str:
    """A naive UTC moment as text Spark casts in the session's time zone (UTC)."""
    return value.isoformat(sep=" ")


class SparkWriter(DuckDBParsing):
    """Loads a file into the Spark warehouse: each batch's rows and rejects become parquet
    files in a temporary folder; the commit inserts them into the load's partitions of the raw
    tables (``insert overwrite ... partition``: whatever a killed run left under that id is
    replaced), then writes the raw.load_log row."""

    def __init__(self, settings: Settings) -> None:
        self.spark: SparkSession = spark_session(settings)
        ensure_spark(self.spark)
        self.duck = duckdb_connect(settings)
        self._tmp = tempfile.TemporaryDirectory(prefix="kpis-load-spark-")
        self._folder = Path(self._tmp.name)
        self.duck.execute(f"set temp_directory = '{self._folder / 'duckdb'}'")
        self._batch = 0
        self._load_id: int | None = None
        self._log_row: LoadLogRow | None = None

    def close(self) -> None:
        self.duck.close()
        self._tmp.cleanup()

    # --- the file's "transaction" -------------------------------------------------------
    def begin(self) -> None:
        drop_uncommitted_loads(self.spark)
        self._reset()

    def _reset(self) -> None:
        for name in ("events", "rejected"):
            shutil.rmtree(self._folder / name, ignore_errors=True)
            (self._folder / name).mkdir()
        self._batch = 0
        self._load_id = None
        self._log_row = None

    def commit(self) -> None:
        """The load's rows, then its rejects, then its log row (the moment it counts)."""
        assert self._log_row is not None and self._load_id is not None, "log() before commit()"
        for table, name in ((EVENTS, "events"), (REJECTED, "rejected")):
            folder = self._folder / name
            if not any(folder.iterdir()):
                continue
            column = PARTITION_COLUMNS[table]
            self.spark.sql(
                f"insert overwrite table {table} partition ({spark_quote(column)} = "
                f"{self._load_id}) select {_spark_select(table, column)} "
                f"from parquet.{spark_quote(str(folder))}"
            )
        self._write_log(self._log_row)
        self._reset()

    def _write_log(self, row: LoadLogRow) -> None:
        values = []
        for column, kind in LOAD_LOG_COLUMN_TYPES.items():
            values.append(f"cast(:{column} as {'string' if kind == 'text' else kind})")
        args = {
            c: _timestamp_text(v) if isinstance(v, datetime) else v
            for c, v in zip(LOAD_LOG_COLUMN_TYPES, row.values(), strict=True)
        }
        self.spark.sql(
            f"insert into {LOAD_LOG} ({', '.join(LOAD_LOG_COLUMN_TYPES)}) "
            f"select {', '.join(values)}",
            args=args,
        )

    def rollback(self) -> None:
        """Drop what the load wrote (unless its log row made it count); never raises."""
        load_id = self._load_id
        with contextlib.suppress(Exception):  # the error being handled matters more
            if load_id is not None and load_id not in committed_load_ids(self.spark):
                for table in PARTITION_COLUMNS:
                    drop_partition(self.spark, table, load_id)
        with contextlib.suppress(Exception):
            self._reset()

    # --- bookkeeping --------------------------------------------------------------------
    def previous_load(self, checksum: str) -> PreviousLoad | None:
        rows = self.spark.sql(
            f"select file_name, cast(loaded_at as string) from {LOAD_LOG} "
            "where checksum_sha256 = :checksum order by loaded_at limit 1",
            args={"checksum": checksum},
        ).collect()
        if not rows:
            return None
        return PreviousLoad(str(rows[0][0]), datetime.fromisoformat(str(rows[0][1])))

    def next_load_id(self) -> int:
        """Above every load id in the raw tables (one Spark process per warehouse folder:
        no other load draws one meanwhile)."""
        return max_load_id(self.spark) + 1

    def set_params(self, params: LoadParams) -> None:
        super().set_params(params)
        self._load_id = params.load_id

    # --- batches ------------------------------------------------------------------------
    def _stage(self, name: str, columns: Sequence[str], select_sql: str) -> int:
        """Write the rows of a DuckDB query as the next parquet file of ``name``; how many."""
        self._batch += 1
        path = self._folder / name / f"batch_{self._batch:06d}.parquet"
        row = self.duck.execute(
            f"copy (select * from ({select_sql}) as batch({column_list(columns)})) "
            f"to '{path}' (format parquet)"
        ).fetchone()
        count = int(row[0]) if row else 0
        if count == 0:
            path.unlink(missing_ok=True)
        return count

    def insert_events(self, select_sql: str) -> int:
        return self._stage("events", RAW_COLUMNS, select_sql)

    def insert_rejects(self, select_sql: str) -> list[tuple[int, str]]:
        return self.rejects_through(
            select_sql, lambda sql: self._stage("rejected", REJECTED_COLUMNS, sql)
        )

    def log(self, row: LoadLogRow) -> None:
        self._log_row = row  # written by commit(), last
