"""`kpis export`: a marts table to CSV and Parquet, the same bytes on DuckDB and PostgreSQL.

One build of the real sample per engine (module fixtures); the error cases need none.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import REAL_EVENTS, duckdb_env_for, kpis, query_rows, warehouse_env

from telemetry_kpis.export_format import cell, normalise

MARTS_SELECTION = ["--select", "+path:models/marts"]


def _built(engine: str, folder: Path) -> Iterator[dict[str, str]]:
    with warehouse_env(engine, folder) as env:
        kpis("load", "--no-progress", str(REAL_EVENTS), env=env, check=True)
        kpis("build", "--quiet", *MARTS_SELECTION, env=env, check=True)
        yield env


@pytest.fixture(scope="module")
def duckdb_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The real sample loaded and its marts built on DuckDB."""
    yield from _built("duckdb", tmp_path_factory.mktemp("export_duckdb"))


@pytest.fixture(scope="module")
def postgres_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The same on PostgreSQL."""
    yield from _built("postgres", tmp_path_factory.mktemp("export_postgres"))


def export(env: dict[str, str], *args: str):
    result = kpis("export", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _exported(env: dict[str, str], path: Path, *args: str) -> bytes:
    result = export(env, "--output", str(path), *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kpis export: wrote "), result.stdout
    return path.read_bytes()


@pytest.mark.postgres
def test_exports_are_the_same_bytes_on_duckdb_and_postgres(
    duckdb_built: dict[str, str], postgres_built: dict[str, str], tmp_path: Path
) -> None:
    duck_csv = _exported(duckdb_built, tmp_path / "duckdb.csv")
    pg_csv = _exported(postgres_built, tmp_path / "postgres.csv")
    assert duck_csv.count(b"\n") > 100
    assert duck_csv == pg_csv
    duck_parquet = _exported(duckdb_built, tmp_path / "duckdb.parquet")
    pg_parquet = _exported(postgres_built, tmp_path / "postgres.parquet")
    assert duck_parquet == pg_parquet
    # every marts model, not only kpi_values
    for model in ("kpi_values_by_segment", "kpi_drivers"):
        a = _exported(duckdb_built, tmp_path / f"d_{model}.csv", "--model", model)
        b = _exported(postgres_built, tmp_path / f"p_{model}.csv", "--model", model)
        assert a == b, model


def test_csv_rows_are_kpi_values(duckdb_built: dict[str, str], tmp_path: Path) -> None:
    text = _exported(duckdb_built, tmp_path / "kpi_values.csv").decode("utf-8")
    assert "\r" not in text and text.endswith("\n")
    header, *rows = list(csv.reader(io.StringIO(text)))
    names = [r[0] for r in query_rows(duckdb_built, "describe marts.kpi_values")]
    assert header == names
    direct = query_rows(duckdb_built, f"select {', '.join(names)} from marts.kpi_values")
    expected = [["" if c is None else c for c in r] for r in normalise(names, direct).rows]
    assert rows == expected
    keys = [(r[0], r[1], r[2]) for r in rows]
    assert keys == sorted(keys)  # metric, grain, period (ISO dates sort as text)
    by_column = dict(zip(header, zip(*rows, strict=True), strict=True))
    assert set(by_column["is_complete"]) <= {"true", "false"}
    assert all(date.fromisoformat(d) for d in by_column["period_start"])
    assert not any(v.endswith(".0") for v in by_column["value"])


def test_parquet_holds_the_csv_values(duckdb_built: dict[str, str], tmp_path: Path) -> None:
    import duckdb

    text = _exported(duckdb_built, tmp_path / "kpi_values.csv").decode("utf-8")
    _exported(duckdb_built, tmp_path / "k.out", "--format", "parquet")
    with duckdb.connect() as connection:
        cursor = connection.execute(f"select * from read_parquet('{tmp_path / 'k.out'}')")
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    header, *csv_rows = list(csv.reader(io.StringIO(text)))
    assert names == header
    assert [["" if (v := cell(c)) is None else v for c in r] for r in rows] == csv_rows


def _one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kpis export: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_user_mistakes_are_one_line(duckdb_built: dict[str, str], tmp_path: Path) -> None:
    env = duckdb_built
    _one_line_error(
        export(env, "--model", "fct_nothing", "--output", str(tmp_path / "x.csv")),
        "unknown model 'fct_nothing'",
        "kpi_values",
        "kpi_drivers",
    )
    _one_line_error(export(env, "--output", str(tmp_path / "x.txt")), "suffix")
    _one_line_error(export(env, "--output", str(tmp_path / "x.csv"), "--format", "xlsx"), "'xlsx'")
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    _one_line_error(export(env, "--output", str(blocker / "x.csv")), "cannot write")
    _one_line_error(export(env, "--output", str(tmp_path), "--format", "csv"), "a folder")
    assert not list(tmp_path.glob(".*.tmp"))


def test_missing_or_unbuilt_warehouse(tmp_path: Path) -> None:
    import duckdb

    env = duckdb_env_for(tmp_path)
    _one_line_error(export(env, "--output", str(tmp_path / "x.csv")), "does not exist")
    duckdb.connect(env["KPIS_DUCKDB_PATH"]).close()
    _one_line_error(export(env, "--output", str(tmp_path / "x.csv")), "run `kpis build` first")
    assert not (tmp_path / "x.csv").exists()


def test_values_are_engine_independent() -> None:
    # what DuckDB, PostgreSQL and Spark return for the same values
    assert cell(0.1 + 0.2) == cell(Decimal("0.3000000000000000")) == "0.3"
    assert cell(232.0) == cell(Decimal("232.000")) == cell(232) == "232"
    assert cell(24.000000000001) == cell(23.9999999999999) == "24"
    assert cell(2 / 3) == cell(Decimal("0.66666666666666666667")) == "0.666666666667"
    assert cell(True) == "true" and cell(None) is None
    naive = datetime(2026, 11, 20, 10, 0)
    aware = datetime(2026, 11, 20, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert cell(naive) == cell(aware) == cell(naive.replace(tzinfo=UTC)) == "2026-11-20T10:00:00Z"
    assert cell(date(2026, 1, 2)) == "2026-01-02"
    table = normalise(["a", "b"], [(10, "x"), (None, "y"), (9.5, "z"), (10, None)])
    assert table.rows == [("9.5", "z"), ("10", "x"), ("10", None), (None, "y")]
    assert table.kinds == ["number", "text"]
