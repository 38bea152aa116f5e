"""Shared fixtures: real warehouses (a DuckDB file, a PostgreSQL database) and the `kpis` CLI.

PostgreSQL tests use the server named by KPIS_PG_* (``make test`` starts one when none is
set); each test that asks for ``postgres_env`` gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
REAL_EVENTS = SHARED / "telemetry" / "real_cli_events.jsonl"
REAL_COMMANDS = SHARED / "telemetry" / "real_cli_commands.json"
IGLU = SHARED / "telemetry" / "iglu"

BASE_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PYTHONUNBUFFERED": "1",
}


def kpis(*args: str, env: dict[str, str], check: bool = False, timeout: float = 1800):
    """Run the real `kpis` command (a subprocess) and return the CompletedProcess."""
    result = subprocess.run(
        [sys.executable, "-m", "telemetry_kpis", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"kpis {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIS_", "DBT_"))}
    env.update(BASE_ENV)
    # Separate dbt target/log folders so concurrent runs never share compiled state.
    env["DBT_TARGET_PATH"] = str(tmp_path / "dbt_target")
    env["DBT_LOG_PATH"] = str(tmp_path / "dbt_logs")
    return env


def duckdb_env_for(folder: Path) -> dict[str, str]:
    """Environment for `kpis` on a DuckDB file in ``folder`` (dbt state in ``folder`` too)."""
    env = _base_env(folder)
    env["DBT_TARGET"] = "duckdb"
    env["KPIS_DUCKDB_PATH"] = str(folder / "warehouse.duckdb")
    return env


@contextlib.contextmanager
def postgres_database_env(folder: Path) -> Iterator[dict[str, str]]:
    """Environment for `kpis` on a fresh PostgreSQL database, dropped on exit."""
    import psycopg

    params = _pg_admin_params()
    database = f"kpis_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**params, autocommit=True) as connection:
        connection.execute(f'create database "{database}"')
    env = _base_env(folder)
    env.update(
        {
            "DBT_TARGET": "postgres",
            "KPIS_PG_HOST": str(params["host"]),
            "KPIS_PG_PORT": str(params["port"]),
            "KPIS_PG_USER": str(params["user"]),
            "KPIS_PG_PASSWORD": str(params["password"]),
            "KPIS_PG_DATABASE": database,
        }
    )
    try:
        yield env
    finally:
        _drop_database(params, database)


def _drop_database(params: dict[str, object], database: str) -> None:
    """Drop a test database. ``with (force)`` ends the test's own sessions, but the test role
    may not end an autovacuum worker that happens to be in it: wait for it, a few times."""
    import psycopg

    for attempt in range(8):
        try:
            with psycopg.connect(**params, autocommit=True) as connection:
                connection.execute(f'drop database if exists "{database}" with (force)')
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if attempt == 7:
                raise
            time.sleep(0.5 * (attempt + 1))


@contextlib.contextmanager
def warehouse_env(engine: str, folder: Path) -> Iterator[dict[str, str]]:
    """A fresh warehouse of ``engine`` (duckdb or postgres) for the duration of the block."""
    if engine == "duckdb":
        yield duckdb_env_for(folder)
    else:
        with postgres_database_env(folder) as env:
            yield env


def normal_value(value: Any) -> Any:
    """A warehouse value in a form both engines give alike (floats to 9 places, timestamps and
    dates as ISO text, decimals and other types as text), for comparing results."""
    if isinstance(value, float):
        return round(value, 9)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and not isinstance(value, (str, int, bool)):
        return str(value)
    return value


def query_rows(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on the warehouse an environment points at."""
    return _query(env, sql)[1]


def query_dicts(env: dict[str, str], sql: str) -> list[dict[str, Any]]:
    """Rows (as dicts keyed by column name) of a read-only query on the env's warehouse."""
    names, rows = _query(env, sql)
    return [dict(zip(names, row, strict=True)) for row in rows]


def _query(env: dict[str, str], sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    if env["DBT_TARGET"] == "duckdb":
        import duckdb

        with duckdb.connect(env["KPIS_DUCKDB_PATH"], read_only=True) as connection:
            cursor = connection.execute(sql)
            return [column[0] for column in cursor.description], cursor.fetchall()
    import psycopg

    with psycopg.connect(
        host=env["KPIS_PG_HOST"],
        port=int(env["KPIS_PG_PORT"]),
        user=env["KPIS_PG_USER"],
        password=env["KPIS_PG_PASSWORD"],
        dbname=env["KPIS_PG_DATABASE"],
    ) as connection:
        cursor = connection.execute(sql)
        return [column.name for column in cursor.description], list(cursor.fetchall())


@pytest.fixture
def duckdb_env(tmp_path: Path) -> dict[str, str]:
    """Environment for `kpis` on a fresh DuckDB file."""
    return duckdb_env_for(tmp_path)


def _pg_admin_params() -> dict[str, object]:
    if not os.environ.get("KPIS_PG_HOST"):
        pytest.fail(
            "PostgreSQL tests need a server: set KPIS_PG_HOST/PORT/USER/PASSWORD/DATABASE "
            "or run `make test`, which starts one"
        )
    return {
        "host": os.environ["KPIS_PG_HOST"],
        "port": int(os.environ.get("KPIS_PG_PORT", "5432")),
        "user": os.environ.get("KPIS_PG_USER", "kpis"),
        "password": os.environ.get("KPIS_PG_PASSWORD", ""),
        "dbname": os.environ.get("KPIS_PG_DATABASE", "kpis"),
    }


@pytest.fixture
def postgres_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for `kpis` on a fresh PostgreSQL database (dropped after the test)."""
    with postgres_database_env(tmp_path) as env:
        yield env
