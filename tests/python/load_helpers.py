"""Helpers of the `kpis load` tests: native connections to the warehouse, the command itself
and the TSV form of the real sample."""

from __future__ import annotations

import contextlib
import gzip
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest
from conftest import kpis

from telemetry_kpis.atomic import ATOMIC_COLUMNS
from telemetry_kpis.settings import Settings

REAL_ROWS = 731

#: The engines a ``warehouse_env`` fixture runs a test on (PostgreSQL marked as such).
ENGINE_PARAMS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def connect(env: dict[str, str], *, read_only: bool = True) -> Iterator[Any]:
    """A native connection to the warehouse of ``env`` (DuckDB file or PostgreSQL)."""
    settings = Settings.from_env(env)
    if settings.target == "duckdb":
        import duckdb

        with duckdb.connect(str(settings.duckdb_path), read_only=read_only) as connection:
            yield connection
        return
    import psycopg

    with psycopg.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        password=settings.pg_password,
        dbname=settings.pg_database,
    ) as connection:
        yield connection


def query(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the warehouse of ``env`` (read through the native drivers)."""
    with connect(env) as connection:
        return connection.execute(sql).fetchall()


def scalar(env: dict[str, str], sql: str) -> Any:
    return query(env, sql)[0][0]


def load(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `kpis load --no-progress` with ``args``; it never ends in a traceback."""
    result = kpis("load", "--no-progress", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _open_text(path: Path) -> TextIO:
    """``path`` opened for writing text, gzipped when its name ends in .gz."""
    if path.suffix == ".gz":
        return gzip.open(path, "wt", encoding="utf-8")
    return path.open("w", encoding="utf-8")


def jsonl_to_tsv(source: Path, target: Path) -> int:
    """Snowplow enriched TSV of a JSON-lines file: the 131 fields, null as empty, no header.

    ``uploaded_at`` and ``load_tstamp`` are not TSV fields: they are left out.
    """
    count = 0
    with source.open(encoding="utf-8") as lines, _open_text(target) as out:
        for line in lines:
            event = json.loads(line)
            fields = []
            for column in ATOMIC_COLUMNS:
                value = event.get(column)
                assert value is None or isinstance(value, str)
                assert value is None or ("\t" not in value and "\n" not in value)
                fields.append(value or "")
            out.write("\t".join(fields) + "\n")
            count += 1
    return count
