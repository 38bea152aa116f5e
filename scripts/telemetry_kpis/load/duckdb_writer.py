"""The DuckDB writer: loads a file through temporary staging tables, so memory stays flat."""

from __future__ import annotations

import contextlib

from telemetry_kpis.atomic import RAW_COLUMNS
from telemetry_kpis.load.bookkeeping import (
    MAX_LOAD_ID_SQL,
    LoadLogRow,
    PreviousLoad,
    load_log_insert_sql,
    previous_load,
    previous_load_sql,
)
from telemetry_kpis.load.connections import duckdb_connect, scalar
from telemetry_kpis.load.contract import EVENTS, REJECTED, REJECTED_COLUMNS, column_list
from telemetry_kpis.load.layout import ensure_duckdb
from telemetry_kpis.load.writer import DuckDBParsing
from telemetry_kpis.settings import Settings

#: The staging tables of a DuckDB load: temporary, so only the loading connection sees them,
#: they never reach the database file and they vanish with the process if it is killed.
STAGING_EVENTS = "temp.main.load_staging_events"
STAGING_REJECTED = "temp.main.load_staging_rejected"


class DuckDBWriter(DuckDBParsing):
    """Loads a file into DuckDB through staging tables, so that memory stays flat.

    DuckDB keeps what an open transaction wrote in memory until the commit (only partly
    spillable to disk), and a batch registered as a view stays referenced until then too: a
    file written into the raw tables batch by batch in one transaction would need memory
    growing with the file. So each batch is written, and committed, into temporary staging
    tables (DuckDB spills committed rows beyond memory_limit to its temp folder,
    ``<file>.tmp``); then one transaction moves them into raw.snowplow_events and
    raw.snowplow_events_rejected and adds the file's row to raw.load_log. DuckDB streams such
    an ``insert ... select`` to the file. So a file stays atomic: until that commit the raw
    tables hold nothing of it, and a failed or interrupted load only drops the staging tables.
    """

    def __init__(self, settings: Settings) -> None:
        self.connection = duckdb_connect(settings, path=settings.duckdb_path)
        try:
            ensure_duckdb(self.connection, settings.describe())
        except BaseException:
            self.connection.close()
            raise
        self.duck = self.connection
        self._log_row: LoadLogRow | None = None

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
        self._log_row = None

    def commit(self) -> None:
        """Move the staged rows and rejects into the raw tables with the log row, atomically."""
        assert self._log_row is not None, "log() comes before commit()"
        events = column_list(RAW_COLUMNS)
        rejected = column_list(REJECTED_COLUMNS)
        self.connection.begin()
        self.connection.execute(
            f"insert into {EVENTS} ({events}) select {events} from {STAGING_EVENTS}"
        )
        self.connection.execute(
            f"insert into {REJECTED} ({rejected}) select {rejected} from {STAGING_REJECTED}"
        )
        self.connection.execute(load_log_insert_sql("?"), self._log_row.values())
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

    def previous_load(self, checksum: str) -> PreviousLoad | None:
        return previous_load(self.connection.execute(previous_load_sql("?"), [checksum]).fetchone())

    def next_load_id(self) -> int:
        """Above every load id in the file. This process holds the DuckDB file (no other
        writer), and the id is only committed with the file's rows by commit()."""
        return int(scalar(self.connection.execute(MAX_LOAD_ID_SQL).fetchone())) + 1

    def insert_events(self, select_sql: str) -> int:
        # Each batch is its own transaction (autocommit), so DuckDB may spill it to disk.
        row = self.connection.execute(
            f"insert into {STAGING_EVENTS} ({column_list(RAW_COLUMNS)}) {select_sql}"
        ).fetchone()
        return int(row[0]) if row else 0

    def insert_rejects(self, select_sql: str) -> list[tuple[int, str]]:
        rows = self.connection.execute(
            f"insert into {STAGING_REJECTED} ({column_list(REJECTED_COLUMNS)}) {select_sql} "
            "returning line_number, reason"
        ).fetchall()
        return [(int(n), str(r)) for n, r in rows]

    def log(self, row: LoadLogRow) -> None:
        self._log_row = row  # written by commit(), in the transaction of the move
