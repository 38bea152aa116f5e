"""Apache Spark gives DuckDB's numbers, incrementally too (a real local Spark session).

Two corpora, each loaded with `kpis load` and built with `kpis build` on a local Spark
warehouse (DBT_TARGET=spark) and on DuckDB:

* the real CLI sample of ../shared/telemetry: every marts table and the execution-level
  incremental tables equal DuckDB's row for row, `kpis export` writes the same CSV bytes from
  both, and `kpis check`, `summary` and `report` read Spark's marts as DuckDB's;
* a generated noisy corpus (> 20k events: duplicate deliveries, late arrivals, malformed rows,
  unknown schemas) loaded in three batches by upload time, with a Spark build after each: the
  result equals DuckDB's build of all of it, and a Spark `--full-refresh` of the same raw rows
  (running every data test and every unit test on Spark) equals the batches.

Needs pyspark (`make setup-spark`) and Java 17; skipped without them unless
KPIS_REQUIRE_SPARK=1 (CI). About 13 minutes on 2 cores, most of it Spark builds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from conftest import REAL_EVENTS, _query, duckdb_env_for, kpis
from spark_warehouse import BATCH_MARKERS, read_spark_tables, require_spark, spark_env_for

pytestmark = [pytest.mark.spark, pytest.mark.slow]

#: a noisy corpus of about 21k events (its size is asserted)
CORPUS = ("--projects", "100", "--days", "160", "--start-date", "2026-01-05", "--noise")
BATCHES = 3
#: the execution-level incremental tables the marts are built from, compared directly too
INTERMEDIATE_COMPARED = (
    "intermediate.int_cli_executions",
    "intermediate.int_execution_plugins",
    "intermediate.int_execution_pipeline_specs",
)
#: models and seeds only: a batch build that skips the tests (they run on the last build)
NO_TESTS = ("--exclude", "resource_type:test", "resource_type:unit_test")

Tables = dict[str, list[tuple[Any, ...]]]


def _compared_tables(duckdb_env: dict[str, str]) -> list[str]:
    names = _query(
        duckdb_env,
        "select table_name from information_schema.tables"
        " where table_schema = 'marts' order by table_name",
    )[1]
    assert {("kpi_values",), ("fct_cli_executions",), ("kpi_drivers",)} <= set(names)
    return [f"marts.{name}" for (name,) in names] + list(INTERMEDIATE_COMPARED)


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and not isinstance(value, (str, int, bool, float)):
        return float(value)  # decimals
    return value


def _sorted_rows(columns: list[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    keep = [i for i, column in enumerate(columns) if column not in BATCH_MARKERS]
    plain = [tuple(_plain(row[i]) for i in keep) for row in rows]
    return sorted(
        plain,
        key=lambda row: tuple(
            (v is None, type(v).__name__, round(v, 6) if isinstance(v, float) else v) for v in row
        ),
    )


def _duckdb_tables(env: dict[str, str], tables: list[str]) -> Tables:
    result = {}
    for table in tables:
        columns, rows = _query(env, f"select * from {table}")
        result[table] = (columns, _sorted_rows(columns, rows))
    return result


def _spark_tables(env: dict[str, str], tables: list[str], folder: Path) -> Tables:
    return {
        table: (columns, _sorted_rows(columns, rows))
        for table, (columns, rows) in read_spark_tables(env, tables, folder).items()
    }


def _same(got: Any, want: Any) -> bool:
    if isinstance(got, float) and isinstance(want, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    return got == want


def _assert_same_tables(actual: Tables, expected: Tables, label: str) -> None:
    assert actual.keys() == expected.keys(), label
    for table, (columns, want_rows) in expected.items():
        got_columns, got_rows = actual[table]
        assert got_columns == columns, f"{label}: {table} columns\n{got_columns}\n!=\n{columns}"
        assert len(got_rows) == len(want_rows), f"{label}: {table} row count"
        for got, want in zip(got_rows, want_rows, strict=True):
            assert all(map(_same, got, want)), f"{label}: {table}\n{got}\n!=\n{want}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The real sample loaded and built on Spark and on DuckDB (the tests run on Spark in the
    noisy corpus's full refresh)."""
    require_spark()
    folder = tmp_path_factory.mktemp("spark_sample")
    duck = duckdb_env_for(folder / "duckdb")
    spark = spark_env_for(folder / "spark_warehouse")
    for env in (duck, spark):
        kpis("load", str(REAL_EVENTS), "--no-progress", env=env, check=True)
    kpis("build", "--quiet", *NO_TESTS, env=duck, check=True)
    kpis("build", "--quiet", *NO_TESTS, env=spark, check=True)
    return {"folder": folder, "duckdb": duck, "spark": spark}


def test_real_sample_equals_duckdb(sample: dict[str, Any]) -> None:
    tables = _compared_tables(sample["duckdb"])
    expected = _duckdb_tables(sample["duckdb"], tables)
    assert expected["marts.kpi_values"][1], "the sample publishes KPI values"
    actual = _spark_tables(sample["spark"], tables, sample["folder"])
    _assert_same_tables(actual, expected, "real sample: Spark vs DuckDB")


def test_export_equals_duckdb(sample: dict[str, Any]) -> None:
    """`kpis export` of kpi_values writes the same CSV bytes from Spark and from DuckDB."""
    exported = {}
    for engine in ("duckdb", "spark"):
        path = sample["folder"] / f"kpi_values_{engine}.csv"
        kpis("export", "--output", str(path), env=sample[engine], check=True)
        exported[engine] = path.read_bytes()
    assert exported["spark"] == exported["duckdb"]
    assert exported["spark"].count(b"\n") > 1000


def _without_the_clock(check: dict[str, Any]) -> dict[str, Any]:
    """A `kpis check` result without what depends on the moment it ran: its time, and the
    live freshness (hours from the newest execution to now)."""
    check = {key: value for key, value in check.items() if key != "generated_at"}
    for metric in check["health_metrics"]:
        if metric["metric"] == "data_freshness_hours" and metric["grain"] is None:
            metric["value"] = metric["breaches"] = None
    return check


def test_check_summary_and_report_read_spark_marts(sample: dict[str, Any]) -> None:
    """`kpis check` evaluates the same key results and health metrics from Spark's marts,
    `kpis summary` prints the same table, and `kpis report` writes its page from them."""
    results, summaries = {}, {}
    for engine in ("duckdb", "spark"):
        result = kpis("check", "--format", "json", env=sample[engine])
        assert result.returncode in (0, 1), result.stderr[-3000:]  # 1 = an alarm, still read
        results[engine] = _without_the_clock(json.loads(result.stdout))
        summary = kpis("summary", env=sample[engine], check=True)
        summaries[engine] = summary.stdout.splitlines()
    assert len(results["duckdb"]["health_metrics"]) > 3
    assert results["spark"] == results["duckdb"]
    assert summaries["spark"][0].startswith("KPI summary from Spark warehouse")
    assert summaries["spark"][1:] == summaries["duckdb"][1:]

    report = sample["folder"] / "report"
    kpis("report", "--no-quality", "--output-dir", str(report), env=sample["spark"], check=True)
    assert len(list(report.glob("*.png"))) > 5
    assert (report / "index.html").stat().st_size > 1000


def _batches(source: Path, folder: Path) -> list[Path]:
    """The corpus cut into BATCHES files of equal size by upload time (ties kept together)."""
    rows = [json.loads(line) for line in source.read_text().splitlines()]
    rows.sort(key=lambda row: row["uploaded_at"])
    size = math.ceil(len(rows) / BATCHES)
    paths = []
    for number in range(BATCHES):
        path = folder / f"batch_{number + 1}.jsonl"
        part = rows[number * size : (number + 1) * size]
        path.write_text("".join(json.dumps(row) + "\n" for row in part))
        paths.append(path)
    return paths


def test_noisy_batches_equal_duckdb_and_full_refresh(tmp_path: Path) -> None:
    require_spark()
    source = tmp_path / "corpus.jsonl"
    duck = duckdb_env_for(tmp_path / "duckdb")
    spark = spark_env_for(tmp_path / "spark_warehouse")
    kpis("generate", *CORPUS, "--quiet", "--output", str(source), env=duck, check=True)
    events = {json.loads(line).get("event_id") for line in source.read_text().splitlines()}
    assert len(events) > 20_000, len(events)

    paths = _batches(source, tmp_path)
    for path in paths:
        kpis("load", str(path), "--no-progress", env=duck, check=True)
        kpis("load", str(path), "--no-progress", env=spark, check=True)
        kpis("build", "--quiet", *NO_TESTS, env=spark, check=True)
    kpis("build", "--quiet", *NO_TESTS, env=duck, check=True)

    tables = _compared_tables(duck)
    expected = _duckdb_tables(duck, tables)
    batches = _spark_tables(spark, tables, tmp_path)
    _assert_same_tables(batches, expected, f"noisy corpus: Spark ({BATCHES} batches) vs DuckDB")

    # every data test and unit test on Spark, on a full refresh of the same raw rows
    kpis("build", "--quiet", "--full-refresh", env=spark, check=True)
    _assert_same_tables(
        _spark_tables(spark, tables, tmp_path), batches, "noisy corpus: Spark full refresh"
    )
