"""DBT_TARGET=spark: `kpis load` gives the raw tables a DuckDB load gives (rows, rejects and
their reasons, load_log), skips a file loaded before, and a load that fails or dies after
inserting its rows leaves nothing that counts. (Reading Spark's marts: test_spark.py.)

Spark runs only in subprocesses (one per warehouse folder at a time): `kpis` itself, or
spark_helpers.py for what the CLI cannot do. Skipped without pyspark unless
KPIS_REQUIRE_SPARK=1 (then a failure).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REAL_EVENTS, REPO, duckdb_env_for, query_rows
from load_helpers import REAL_ROWS, load
from spark_helpers import compared_columns
from test_load import write_broken_jsonl

from telemetry_kpis.load.contract import TABLE_COLUMNS

pytestmark = pytest.mark.spark

if importlib.util.find_spec("pyspark") is None:
    if os.environ.get("KPIS_REQUIRE_SPARK") == "1":
        pytest.fail("KPIS_REQUIRE_SPARK=1 but pyspark is not installed (make setup-spark)")
    pytest.skip("pyspark is not installed (make setup-spark)", allow_module_level=True)

HELPERS = Path(__file__).with_name("spark_helpers.py")
UPLOADED_AT = "2026-11-02T10:00:00+02:00"


def spark_env(folder: Path) -> dict[str, str]:
    env = duckdb_env_for(folder)
    env.pop("KPIS_DUCKDB_PATH")
    env.update({"DBT_TARGET": "spark", "KPIS_SPARK_DIR": str(folder / "spark")})
    return env


def helper(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(HELPERS), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    return result


def duckdb_tables(env: dict[str, str]) -> dict[str, list[list[Any]]]:
    """The compared columns of the raw tables on DuckDB, as spark_helpers dumps them."""
    tables = {}
    for table, types in TABLE_COLUMNS.items():
        columns = [
            f'epoch_us("{c}")' if types[c] == "timestamp" else f'"{c}"'
            for c in compared_columns(table)
        ]
        rows = query_rows(env, f"select {', '.join(columns)} from raw.{table}")
        tables[table] = [list(r) for r in rows]
    return tables


def _sorted(rows: list[list[Any]]) -> list[list[Any]]:
    return sorted(rows, key=lambda r: json.dumps(r, default=str))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same files loaded into DuckDB and Spark; on Spark then: a process killed after
    inserting a load's rows, a second load of the first file (skipped), and a load failing
    after its insert. What each step printed, and the raw tables at the end."""
    tmp = tmp_path_factory.mktemp("spark_load")
    broken = tmp / "broken.jsonl"
    write_broken_jsonl(broken)
    extra = tmp / "extra.jsonl"
    extra.write_text("\n".join(REAL_EVENTS.read_text().splitlines()[:20]) + "\n")
    files = [str(REAL_EVENTS), str(broken), "--uploaded-at", UPLOADED_AT]
    duck = duckdb_env_for(tmp / "duckdb")
    spark = spark_env(tmp)
    steps = {
        "duckdb": load(duck, *files),
        "spark": load(spark, *files),
        "killed": helper(spark, "killed", str(extra)),
        "again": load(spark, str(REAL_EVENTS)),
        "failed": helper(spark, "fail-after-insert", str(extra)),
    }
    dump = tmp / "dump.json"
    helper(spark, "dump", str(dump))
    return {"steps": steps, "duckdb": duckdb_tables(duck), "spark": json.loads(dump.read_text())}


def test_spark_load_prints_what_duckdb_prints(loaded: dict[str, Any]) -> None:
    duck, spark = loaded["steps"]["duckdb"], loaded["steps"]["spark"]
    assert duck.returncode == 0 and spark.returncode == 0, spark.stderr
    assert f"real_cli_events.jsonl: loaded {REAL_ROWS} rows, rejected 0" in spark.stdout
    assert "broken.jsonl: loaded 3 rows, rejected 5 (line 3: invalid_json" in spark.stdout
    assert "into Spark warehouse" in spark.stdout
    # per-file lines are the same but for timings
    strip = [line.split(" [")[0] for line in duck.stdout.splitlines()[:2]]
    assert [line.split(" [")[0] for line in spark.stdout.splitlines()[:2]] == strip


@pytest.mark.parametrize("table", list(TABLE_COLUMNS))
def test_spark_raw_tables_equal_duckdb(loaded: dict[str, Any], table: str) -> None:
    """Every column but the load's moment; after the killed and the failed load too."""
    spark_rows = loaded["spark"]["tables"][table]
    duck_rows = loaded["duckdb"][table]
    assert len(duck_rows) == {"snowplow_events": REAL_ROWS + 3}.get(table, len(duck_rows))
    assert _sorted(spark_rows) == _sorted(duck_rows)


def test_second_load_of_a_file_is_skipped(loaded: dict[str, Any]) -> None:
    again = loaded["steps"]["again"]
    assert again.returncode == 0, again.stderr
    assert "real_cli_events.jsonl: skipped, already loaded" in again.stdout


def test_interrupted_loads_leave_nothing_that_counts(loaded: dict[str, Any]) -> None:
    killed, again, failed = (loaded["steps"][k] for k in ("killed", "again", "failed"))
    # the killed process had inserted its rows (load 3) and died before its log row
    assert "inserted 20 rows of load 3" in killed.stdout and killed.returncode == 3
    # the next load dropped them first, and said so on one line
    removed = [line for line in again.stderr.splitlines() if "unfinished" in line]
    assert removed == [
        "kpis load: removed the rows of 1 unfinished load(s) from the raw tables "
        "(load id 3: no raw.load_log row)"
    ]
    # a failure after the insert: rolled back in the process
    assert "inserted 20 rows of load 3" in failed.stdout
    assert "failed: simulated failure after the insert" in failed.stdout
    assert loaded["spark"]["partitions"] == {
        "snowplow_events": ["_load_id=1", "_load_id=2"],
        "snowplow_events_rejected": ["load_id=2"],
    }
