"""The layout of the raw tables: create them when missing, upgrade the previous layout.

Tables of the previous layout (without ``_load_id``/``_loaded_at``/``load_id``) are upgraded
in place before anything is loaded, so existing warehouses keep their rows: the columns are
appended, old raw rows get ``_load_id`` = the dense rank of their (``uploaded_at``,
``_source_file``) (the load part of the old identity) and ``_loaded_at`` = ``uploaded_at``,
old load_log rows get ids 1..n by ``loaded_at``, old rejects keep a null load_id; new loads
draw ids above all of them. One line on stderr says so.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Any

from telemetry_kpis.atomic import (
    RAW_EVENTS_TABLE,
    RAW_LOAD_LOG_TABLE,
    RAW_REJECTED_TABLE,
    RAW_SCHEMA,
)
from telemetry_kpis.errors import UserError
from telemetry_kpis.load.bookkeeping import LOAD_ID_SEQUENCE, LOAD_LOCK_SQL, MAX_LOAD_ID_SQL
from telemetry_kpis.load.connections import duckdb_connect, pg_connect, scalar
from telemetry_kpis.load.contract import (
    EVENTS,
    EXPECTED_COLUMNS,
    LOAD_LOG,
    TABLE_COLUMNS,
    UPGRADE_COLUMNS,
    ddl,
    quote,
)
from telemetry_kpis.load.results import first_line
from telemetry_kpis.settings import Settings

if TYPE_CHECKING:
    import duckdb
    import psycopg

#: table -> the columns it lacks (to append).
Upgrade = dict[str, list[str]]

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
#: Serialises concurrent first loads into PostgreSQL (CREATE ... IF NOT EXISTS can race).
_DDL_LOCK_SQL = "select pg_advisory_xact_lock(hashtext('telemetry_kpis.load.ddl'))"


def _columns_by_table(rows: list[tuple[Any, ...]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def plan_upgrade(found: dict[str, list[str]]) -> Upgrade:
    """table -> the columns of the load-id layout it lacks (to append); {} when up to date.

    A table lacking any other column was not made by ``kpis load``: a one-line UserError.
    """
    upgrade: Upgrade = {}
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


def _events_backfill(added: list[str]) -> list[tuple[str, str]]:
    if "_load_id" in added:
        # One load id per distinct (_source_file, uploaded_at): every old (file, line,
        # uploaded_at) identity stays unique as (_load_id, _source_line).
        loaded_at = ", _loaded_at = e.uploaded_at" if "_loaded_at" in added else ""
        return [
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
        ]
    if "_loaded_at" in added:
        return [("events", f"update {EVENTS} set _loaded_at = uploaded_at")]
    return []


def upgrade_statements(upgrade: Upgrade, row_key: str) -> list[tuple[str, str]]:
    """(what, SQL) to bring tables of the previous layout to this one, in order.

    ``row_key`` is the engine's physical row id (``rowid`` on DuckDB, ``ctid`` on PostgreSQL),
    to number the rows of raw.load_log, which have no key of their own. ``what`` names the
    statements whose row count is the number of back-filled rows (``events``/``load_log``).
    """
    statements = [
        ("", f"alter table {RAW_SCHEMA}.{table} add column {quote(c)} {TABLE_COLUMNS[table][c]}")
        for table, columns in upgrade.items()
        for c in columns
    ]
    statements += _events_backfill(upgrade.get(RAW_EVENTS_TABLE, []))
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


def upgrade_message(target: str, upgrade: Upgrade, counts: dict[str, int]) -> str:
    added = "; ".join(f"{RAW_SCHEMA}.{t}: {', '.join(c)}" for t, c in upgrade.items())
    return (
        f"kpis load: upgraded the raw tables on {target} to the load-id layout "
        f"(added {added}; back-filled {counts.get('events', 0):,} raw rows and "
        f"{counts.get('load_log', 0):,} load_log rows)"
    )


def ensure_duckdb(connection: duckdb.DuckDBPyConnection, target: str) -> None:
    """Create the raw tables in a DuckDB file, or upgrade them (in one transaction)."""
    for statement in ddl():
        connection.execute(statement)
    found = _columns_by_table(connection.execute(_LAYOUT_SQL, _LAYOUT_PARAMS).fetchall())
    upgrade = plan_upgrade(found)
    if not upgrade:
        return
    counts: dict[str, int] = {}
    connection.begin()
    try:
        for what, statement in upgrade_statements(upgrade, "rowid"):
            result = connection.execute(statement)
            if what:
                row = result.fetchone()
                counts[what] = int(row[0]) if row else 0
        connection.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            connection.rollback()
        raise
    print(upgrade_message(target, upgrade, counts), file=sys.stderr)


def ensure_postgres(connection: psycopg.Connection[tuple[Any, ...]], target: str) -> None:
    """Create the raw tables and the load id sequence in PostgreSQL, or upgrade them."""
    counts: dict[str, int] = {}
    with connection.transaction():
        connection.execute(_DDL_LOCK_SQL)
        had_sequence = scalar(
            connection.execute("select to_regclass(%s) is not null", [LOAD_ID_SEQUENCE]).fetchone()
        )
        for statement in ddl():
            connection.execute(statement)
        connection.execute(f"create sequence if not exists {LOAD_ID_SEQUENCE}")
        rows = connection.execute(_LAYOUT_SQL.replace("?", "%s"), _LAYOUT_PARAMS).fetchall()
        upgrade = plan_upgrade(_columns_by_table(rows))
        if upgrade:
            connection.execute(LOAD_LOCK_SQL)  # no load of this version runs meanwhile
            for what, statement in upgrade_statements(upgrade, "ctid"):
                cursor = connection.execute(statement)
                if what:
                    counts[what] = cursor.rowcount
        if upgrade or not had_sequence:
            # A new sequence (or new ids from the upgrade): start above every id in the tables.
            connection.execute(
                f"select setval(%s, m) from ({MAX_LOAD_ID_SQL} as m) as x where m > 0",
                [LOAD_ID_SEQUENCE],
            )
    if upgrade:
        print(upgrade_message(target, upgrade, counts), file=sys.stderr)


def ensure_raw_tables(settings: Settings) -> None:
    """Create schema ``raw`` and its three tables if missing (and the DuckDB file/folder).

    Tables of the previous layout are upgraded in place (see the module docstring), with one
    line on stderr saying so.
    """
    if settings.target == "duckdb":
        connection = duckdb_connect(settings, path=settings.duckdb_path)
        try:
            ensure_duckdb(connection, settings.describe())
        finally:
            connection.close()
        return
    if settings.target == "spark":
        from telemetry_kpis.load.spark_tables import ensure_spark
        from telemetry_kpis.spark_session import spark_session

        ensure_spark(spark_session(settings))
        return
    import psycopg

    with pg_connect(settings) as pg:
        try:
            ensure_postgres(pg, settings.describe())
        except psycopg.Error as exc:
            raise UserError(
                f"cannot create the raw tables on {settings.describe()}: {first_line(exc)}"
            ) from None
