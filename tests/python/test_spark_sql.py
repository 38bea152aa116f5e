"""The Spark side that needs no Spark: the marts statements as Spark SQL text, Spark literals,
the raw tables' DDL, and the start-up check of `kpis build` without pyspark."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from telemetry_kpis import build, marts
from telemetry_kpis.errors import UserError
from telemetry_kpis.load.spark_tables import spark_ddl
from telemetry_kpis.settings import Settings
from telemetry_kpis.spark_marts import compile_spark, spark_literal


def test_literals_are_spark_literals() -> None:
    assert spark_literal("it's a \\ path") == "'it\\'s a \\\\ path'"
    assert spark_literal(date(2026, 11, 2)) == "DATE '2026-11-02'"
    assert spark_literal(datetime(2026, 11, 2, 8, 0)) == "TIMESTAMP '2026-11-02 08:00:00'"
    assert spark_literal(None) == "NULL" and spark_literal(True) == "TRUE"
    assert spark_literal(3) == "3" and spark_literal(0.25) == "0.25"
    assert spark_literal(Decimal("1.50")) == "CAST('1.50' AS DECIMAL(38, 18))"


def test_marts_statements_compile_to_spark_sql() -> None:
    """The readers' statements: backticks where needed, every bound value inlined."""
    table = marts._table("kpi_drivers", marts.DRIVER_COLUMNS)
    keys = (("metric_name", sa.String()), ("grain", sa.String()), ("period_start", sa.Date()))
    statement = sa.select(table.c.value).where(
        marts._any_of(table, keys, [("o'brien", "day", date(2026, 1, 2))])
    )
    sql = compile_spark(statement)
    assert "marts.kpi_drivers" in sql
    assert "metric_name = 'o\\'brien'" in sql and "period_start = DATE '2026-01-02'" in sql
    assert ":" not in sql and "%(" not in sql
    values = marts._table("kpi_values", marts.KPI_VALUES_COLUMNS)
    assert "`change`" in compile_spark(sa.select(values.c.change))  # a MySQL/Spark keyword
    text = sa.text("select 1 from t where m = :metric limit 1").bindparams(metric="x")
    assert compile_spark(text) == "select 1 from t where m = 'x' limit 1"


def test_raw_tables_are_partitioned_by_load_id() -> None:
    statements = spark_ddl()
    assert statements[0] == "create database if not exists raw"
    events, rejected, log = statements[1:]
    assert events.endswith("using parquet partitioned by (`_load_id`)")
    assert "`event` string" in events and "`uploaded_at` timestamp" in events
    assert rejected.endswith("using parquet partitioned by (`load_id`)")
    assert log.endswith("using parquet") and "`load_id` bigint" in log


def test_build_without_pyspark_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name)
    )
    settings = Settings.from_env({"DBT_TARGET": "spark", "KPIS_SPARK_DIR": str(tmp_path)})
    with pytest.raises(UserError, match="needs pyspark.*make setup-spark"):
        build.check_warehouse(settings)
    with pytest.raises(UserError, match="no SQLAlchemy engine"):
        settings.engine()


def test_kpis_spark_session_has_dbts_settings(tmp_path) -> None:
    """The Spark settings `kpis` starts its session with are the profile's (profiles.yml's
    `spark` target, rendered for one folder): both processes see the same warehouse alike."""
    import yaml
    from jinja2 import Environment

    from telemetry_kpis.settings import project_dir
    from telemetry_kpis.spark_session import spark_conf

    env = {"KPIS_SPARK_DIR": str(tmp_path)}
    jinja = Environment()
    jinja.globals["env_var"] = lambda name, default=None: env.get(name, default)
    jinja.filters["as_number"] = int
    profile = yaml.safe_load(
        jinja.from_string((project_dir() / "profiles.yml").read_text()).render()
    )
    parameters = profile["telemetry_kpis"]["outputs"]["spark"]["server_side_parameters"]
    settings = Settings.from_env({"DBT_TARGET": "spark", **env})
    assert {key: str(value) for key, value in parameters.items()} == spark_conf(settings)
