"""Publish the marts for BI tools: after a DuckDB build, a read-only copy Superset reads.

DuckDB lets one process hold a file read-write and nobody else open it meanwhile, so a
dashboard reading the warehouse fails while ``kpis build`` runs ("Could not set lock on
file"). After every successful build the ``marts`` schema is copied into its own file
(``Settings.bi_duckdb_path``, by default ``<warehouse stem>_bi.duckdb`` next to the
warehouse): written under a temporary name, then swapped in with ``os.replace``, which is
atomic, so a reader always opens either the previous copy or the new one, never half a file.
PostgreSQL needs none of this: readers and a build share the server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from telemetry_kpis.errors import UserError
from telemetry_kpis.settings import Settings

SCHEMA = "marts"


def publish_marts(settings: Settings) -> tuple[Path, int, float] | None:
    """Copy the warehouse's marts into the BI file; (file, tables, seconds), None off DuckDB."""
    if settings.target != "duckdb":
        return None
    import duckdb

    started = time.perf_counter()
    target = settings.bi_duckdb_path
    if target.resolve() == settings.duckdb_path.resolve():
        raise UserError(f"KPIS_BI_DUCKDB_PATH must differ from the warehouse ({target})")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        connection = duckdb.connect(str(temporary))
        try:
            # ATTACH takes no parameters: the path is a quoted SQL string literal
            path_literal = "'" + str(settings.duckdb_path).replace("'", "''") + "'"
            connection.execute(f"attach {path_literal} as warehouse (read_only)")
            tables = [
                row[0]
                for row in connection.execute(
                    "select table_name from information_schema.tables "
                    "where table_catalog = 'warehouse' and table_schema = ? order by 1",
                    [SCHEMA],
                ).fetchall()
            ]
            connection.execute(f"create schema {SCHEMA}")
            for table in tables:
                # names come from the warehouse's catalogue, quoted as identifiers
                quoted = '"' + table.replace('"', '""') + '"'
                connection.execute(
                    f"create table {SCHEMA}.{quoted} as select * from warehouse.{SCHEMA}.{quoted}"
                )
            connection.execute("detach warehouse")
            connection.execute("checkpoint")
        finally:
            connection.close()
        os.replace(temporary, target)
    except (duckdb.Error, OSError) as exc:
        temporary.unlink(missing_ok=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot publish the marts to {target}: {reason}", exit_code=1) from None
    return target, len(tables), time.perf_counter() - started
