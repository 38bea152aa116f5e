"""The one interface a load writes through, whatever the engine: :class:`Writer`.

A writer loads one file at a time into one target, atomically: ``begin``, then the file's
batches (``stage`` a DataFrame, ``insert_events``, maybe ``insert_rejects``, ``unstage``),
``log`` its load_log row and ``commit``; ``rollback`` on any error. Either engine parses the
batches with the same DuckDB SQL (parse_sql) in a DuckDB connection: the target itself for
DuckDB, an in-memory database for PostgreSQL. :class:`DuckDBParsing` is that shared part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from telemetry_kpis.load.bookkeeping import LoadLogRow, LoadParams, PreviousLoad

if TYPE_CHECKING:
    import duckdb
    from pandas import DataFrame


class Writer(Protocol):
    """Writes the loads of one ``kpis load`` run into one warehouse."""

    def begin(self) -> None:
        """Open the file's transaction (on PostgreSQL: wait for the load lock)."""

    def previous_load(self, checksum: str) -> PreviousLoad | None:
        """The first load of this content (SHA-256), if any: the file is then skipped."""

    def next_load_id(self) -> int:
        """A new load id, above every committed one (called after ``begin``)."""

    def set_params(self, params: LoadParams) -> None:
        """What every row and reject of this load carries (``load_params`` for the SQL)."""

    def stage(self, frame: DataFrame) -> None:
        """Make a batch's DataFrame the relation ``load_batch_frame`` the SQL reads."""

    def unstage(self) -> None:
        """Drop the reference to the staged DataFrame, so that its memory is freed."""

    def insert_events(self, select_sql: str) -> int:
        """Insert the good lines of the staged batch; how many."""

    def insert_rejects(self, select_sql: str) -> list[tuple[int, str]]:
        """Insert the rejected lines of the staged batch; their (line number, reason)."""

    def log(self, row: LoadLogRow) -> None:
        """Write the load's raw.load_log row (at the latest in the commit)."""

    def commit(self) -> None:
        """Commit the file: its rows, rejects and log row together."""

    def rollback(self) -> None:
        """Undo the file; never raises (the error being handled matters more)."""

    def close(self) -> None:
        """Release the connections and temporary files."""


class DuckDBParsing:
    """The part of a writer that parses: ``self.duck`` runs the parse SQL on staged batches."""

    duck: duckdb.DuckDBPyConnection

    def set_params(self, params: LoadParams) -> None:
        self.duck.execute(
            "create or replace temp table load_params as select ?::varchar as source_file, "
            "?::timestamp as default_uploaded_at, ?::timestamp as loaded_at, "
            "?::bigint as load_id",
            [params.source_file, params.default_uploaded_at, params.loaded_at, params.load_id],
        )

    def stage(self, frame: DataFrame) -> None:
        self.duck.register("load_batch_frame", frame)

    def unstage(self) -> None:
        self.duck.unregister("load_batch_frame")

    def rejects_through(
        self, select_sql: str, write: Callable[[str], object]
    ) -> list[tuple[int, str]]:
        """The rejected lines of the staged batch (line number, reason), each written by
        ``write`` (given a query over them) when there are any: for writers that stage the
        rejects outside the parsing connection."""
        self.duck.execute(f"create or replace temp table load_rejects as {select_sql}")
        try:
            rows = self.duck.execute(
                "select line_no, reason from load_rejects as r(f, line_no, reason, l, t, i)"
            ).fetchall()
            if rows:
                write("select * from load_rejects")
        finally:
            self.duck.execute("drop table if exists load_rejects")
        return [(int(n), str(r)) for n, r in rows]
