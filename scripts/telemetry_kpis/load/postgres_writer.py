"""The PostgreSQL writer: batches parsed by an in-memory DuckDB, sent with ``COPY``."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

from telemetry_kpis.atomic import RAW_COLUMNS
from telemetry_kpis.load.bookkeeping import (
    LOAD_ID_SEQUENCE,
    LOAD_LOCK_SQL,
    LoadLogRow,
    PreviousLoad,
    load_log_insert_sql,
    previous_load,
    previous_load_sql,
)
from telemetry_kpis.load.connections import duckdb_connect, pg_connect, scalar
from telemetry_kpis.load.contract import EVENTS, LOAD_LOG, REJECTED, REJECTED_COLUMNS, column_list
from telemetry_kpis.load.layout import ensure_postgres
from telemetry_kpis.load.writer import DuckDBParsing
from telemetry_kpis.settings import Settings

#: Bytes of the CSV sent to COPY at a time.
_COPY_BLOCK = 1024 * 1024


class PostgresWriter(DuckDBParsing):
    """Loads a file into PostgreSQL in one transaction: DuckDB writes each batch's rows as a
    CSV file, which ``COPY ... FROM STDIN`` streams into the raw tables (the fastest way in)."""

    def __init__(self, settings: Settings) -> None:
        self.pg = pg_connect(settings)
        try:
            ensure_postgres(self.pg, settings.describe())
        except Exception:
            self.pg.close()
            raise
        self.duck = duckdb_connect(settings)
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

    def previous_load(self, checksum: str) -> PreviousLoad | None:
        return previous_load(self.pg.execute(previous_load_sql("%s"), [checksum]).fetchone())

    def next_load_id(self) -> int:
        """The next value of raw.load_id_seq (drawn under the load lock of begin()), never at
        or below a load id already in raw.load_log (e.g. after the sequence was reset)."""
        load_id = int(scalar(self.pg.execute("select nextval(%s)", [LOAD_ID_SEQUENCE]).fetchone()))
        floor = int(
            scalar(self.pg.execute(f"select coalesce(max(load_id), 0) from {LOAD_LOG}").fetchone())
        )
        if load_id <= floor:
            load_id = floor + 1
            self.pg.execute("select setval(%s, %s)", [LOAD_ID_SEQUENCE, load_id])
        return load_id

    def _copy(self, table: str, columns: Sequence[str], select_sql: str) -> int:
        """Stream the rows of a DuckDB query into a PostgreSQL table; the row count."""
        self.duck.execute(f"copy ({select_sql}) to '{self._csv}' (format csv, header false)")
        with self.pg.cursor() as cursor:
            with (
                cursor.copy(
                    f"copy {table} ({column_list(columns)}) from stdin (format csv)"
                ) as copy,
                self._csv.open("rb") as handle,
            ):
                while block := handle.read(_COPY_BLOCK):
                    copy.write(block)
            return cursor.rowcount

    def insert_events(self, select_sql: str) -> int:
        return self._copy(EVENTS, RAW_COLUMNS, select_sql)

    def insert_rejects(self, select_sql: str) -> list[tuple[int, str]]:
        return self.rejects_through(
            select_sql, lambda sql: self._copy(REJECTED, REJECTED_COLUMNS, sql)
        )

    def log(self, row: LoadLogRow) -> None:
        self.pg.execute(load_log_insert_sql("%s"), row.values())
