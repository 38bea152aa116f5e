"""Spark in tests: a local Spark warehouse per test folder, and its tables read back.

A Spark warehouse is a folder (KPIS_SPARK_DIR: Derby metastore and parquet tables) that one
process at a time may open, so tables are read in a subprocess (one Spark session for all the
tables asked for), never in the pytest process while `kpis` runs.

The Spark tests need pyspark (``make setup-spark``) and Java 17: without them they are skipped,
unless KPIS_REQUIRE_SPARK=1 (CI), which makes them fail instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, _base_env

#: bookkeeping columns that name the dbt run that last wrote a row: they differ between runs
BATCH_MARKERS = {"_changed_at", "_kept_at", "_batch_at", "_loaded_at"}


def require_spark() -> None:
    """Skip (or fail, with KPIS_REQUIRE_SPARK=1) when pyspark or Java is missing."""
    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (make setup-spark)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("Java 17")
    if not missing:
        return
    message = "Spark tests need " + " and ".join(missing)
    if os.environ.get("KPIS_REQUIRE_SPARK") == "1":
        pytest.fail(message + " (KPIS_REQUIRE_SPARK=1)")
    pytest.skip(message)


def spark_env_for(folder: Path) -> dict[str, str]:
    """Environment for `kpis` on a local Spark warehouse in ``folder`` (dbt state too)."""
    env = _base_env(folder)
    env["DBT_TARGET"] = "spark"
    env["KPIS_SPARK_DIR"] = str(folder / "spark")
    return env


_READ_TABLES = """
import datetime, decimal, json, sys
from telemetry_kpis.settings import Settings
from telemetry_kpis.spark_session import spark_session

def plain(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value

session = spark_session(Settings.from_env())
out = {}
for table in sys.argv[2:]:
    frame = session.table(table)
    out[table] = {
        "columns": frame.columns,
        "rows": [[plain(value) for value in row] for row in frame.collect()],
    }
with open(sys.argv[1], "w") as handle:
    json.dump(out, handle)
"""


def read_spark_tables(
    env: dict[str, str], tables: list[str], folder: Path
) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every row of each ``schema.table`` of the Spark warehouse, with its column names."""
    target = folder / "spark_tables.json"
    result = subprocess.run(
        [sys.executable, "-c", _READ_TABLES, str(target), *tables],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    data = json.loads(target.read_text())
    return {
        table: (content["columns"], [tuple(row) for row in content["rows"]])
        for table, content in data.items()
    }
