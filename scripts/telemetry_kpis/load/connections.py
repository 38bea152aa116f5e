"""Connections of a load: DuckDB (the target file, or in memory to parse for PostgreSQL) and
PostgreSQL, opened with the settings the loader relies on and failing with one-line errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telemetry_kpis.errors import UserError, WarehouseUnavailable
from telemetry_kpis.load.results import first_line
from telemetry_kpis.settings import CONFIGURE_HINT, Settings

if TYPE_CHECKING:
    import duckdb
    import psycopg


def scalar(row: tuple[Any, ...] | None) -> Any:
    """The value of a one-value row of an aggregate or function call (never without a row)."""
    assert row is not None, "an aggregate or a function call returns one row"
    return row[0]


def memory_limit(settings: Settings) -> str:
    """KPIS_DUCKDB_MEMORY_LIMIT, checked: it goes into a ``set`` statement as text."""
    limit = settings.duckdb_memory_limit.strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*[KMGT]i?B", limit, flags=re.IGNORECASE):
        raise UserError(
            f"KPIS_DUCKDB_MEMORY_LIMIT={limit!r} is not a memory size (expected e.g. 2GB or 512MB)"
        )
    return limit


def _open_duckdb_file(path: Path) -> duckdb.DuckDBPyConnection:
    import duckdb

    if path.exists() and path.is_dir():
        raise UserError(f"KPIS_DUCKDB_PATH={path} is a folder, not a DuckDB file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseUnavailable(
            f"cannot create the folder of DuckDB file {path}: {first_line(exc)}"
        ) from None
    try:
        return duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise WarehouseUnavailable(f"cannot open DuckDB file {path}: {first_line(exc)}") from None


def duckdb_connect(settings: Settings, *, path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``path`` (its folder created), or in memory when None."""
    import duckdb

    limit = memory_limit(settings)
    connection = duckdb.connect(":memory:") if path is None else _open_duckdb_file(path)
    # The same memory limit as the dbt profile: without it DuckDB would use up to 80 % of the
    # machine instead of spilling to its temp folder (`<file>.tmp`), e.g. the staging tables
    # of a large file (see DuckDBWriter).
    connection.execute(f"set memory_limit = '{limit}'")
    # Offsets in uploaded_at convert to UTC, and timestamps without one are read as UTC.
    connection.execute("set session TimeZone = 'UTC'")
    connection.execute("set enable_progress_bar = false")
    # Lets DuckDB insert with all threads; rows keep _source_line, so order is not needed.
    connection.execute("set preserve_insertion_order = false")
    return connection


def pg_connect(settings: Settings) -> psycopg.Connection[tuple[Any, ...]]:
    """A PostgreSQL connection (autocommit off: a load is one transaction)."""
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
            f"cannot reach {settings.describe()}: {first_line(exc)} ({CONFIGURE_HINT})"
        ) from None


#: (module prefix, class name) of the base classes of the drivers' errors.
_DATABASE_ERRORS = (
    (("duckdb", "_duckdb"), "Error"),
    (("psycopg",), "Error"),
    (("pyspark",), "PySparkException"),
    (("py4j",), "Py4JError"),
)


def is_database_error(exc: BaseException) -> bool:
    """A DuckDB, psycopg or Spark error (without importing the drivers of other targets)."""
    for cls in type(exc).__mro__:
        module = cls.__module__ or ""
        if any(
            module.startswith(prefixes) and cls.__name__ == name
            for prefixes, name in _DATABASE_ERRORS
        ):
            return True
    return False
