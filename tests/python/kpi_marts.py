"""Synthetic marts for the `kpis check` / `kpis report` tests, in a real warehouse.

``make_kpi_values`` builds a plausible marts.kpi_values (every grain, no gaps);
``write_marts`` writes it (with its period-over-period columns, computed by the rules of
metrics.md "Period over period"), marts.kpi_values_by_segment, marts.kpi_drivers and
marts.fct_cli_executions to the DuckDB file or PostgreSQL database an environment points at,
shaped like the publishing contract, so the tests do not depend on the dbt marts.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from telemetry_kpis import marts

AS_OF = date(2026, 11, 20)
NEWEST_EXECUTION = datetime(2026, 11, 20, 10, 0, 0)
COLUMNS = ["metric_name", "grain", "period_start", "period_end", "value", "is_complete"]
CHANGE_COLUMNS = ["previous_value", "change", "change_pct", "year_ago_value", "yoy_change_pct"]
SEGMENT_COLUMNS = list(marts.SEGMENT_COLUMNS)
DRIVER_COLUMNS = list(marts.DRIVER_COLUMNS)

#: column -> (DuckDB type, PostgreSQL type); values are numeric in PostgreSQL, as dbt builds
#: them from sums and divisions (they arrive in Python as Decimal)
TYPES = {
    "metric_name": ("varchar", "text"),
    "grain": ("varchar", "text"),
    "segment": ("varchar", "text"),
    "segment_value": ("varchar", "text"),
    "driver_kind": ("varchar", "text"),
    "driver": ("varchar", "text"),
    "period_start": ("date", "date"),
    "period_end": ("date", "date"),
    "is_complete": ("boolean", "boolean"),
}
NUMBER_TYPE = ("double", "numeric")


def daily_frame(first: date, as_of: date, seed: int) -> pd.DataFrame:
    """The daily numbers behind make_kpi_values (and its segments)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(first, as_of, freq="D")
    n = len(days)
    t = np.arange(n)
    runs = np.maximum(0, 260 + 0.3 * t + rng.normal(0, 20, n)).round()
    frame = pd.DataFrame(
        {
            "day": days,
            "dap": (180 + 0.25 * t + rng.normal(0, 3, n)).round(),
            "runs": runs,
            "ok": np.minimum(runs, (runs * (0.88 + rng.normal(0, 0.02, n))).round()),
            "prod": np.minimum(runs, (runs * (0.33 + 0.0002 * t)).round()),
            "uniq": np.maximum(0, 40 + rng.normal(0, 4, n)).round(),
            "new": np.maximum(0, 3 + rng.normal(0, 1.5, n)).round(),
            "bad": np.clip(0.01 + rng.normal(0, 0.002, n), 0, 1),
        }
    )
    # drawn last, so the other series keep the values the tests were written against
    frame["exe"] = (95 + 0.12 * t + rng.normal(0, 4, n)).round()
    return frame


def _rate(num, den):
    return num / den if den else None


def make_kpi_values(as_of: date = AS_OF, first: date = date(2026, 1, 1), seed: int = 7):
    """A plausible kpi_values table from ``first`` to ``as_of``: every grain, no gaps."""
    daily = daily_frame(first, as_of, seed)
    rows: list[tuple] = []

    def add(metric, grain, start, end, value):
        value = None if value is None or pd.isna(value) else float(value)
        rows.append((metric, grain, start.date(), end.date(), value, end.date() <= as_of))

    for r in daily.itertuples():
        d = r.day
        add("daily_active_projects", "day", d, d, r.dap)
        add("executing_projects", "day", d, d, r.exe)
        add("stickiness", "day", d, d, _rate(r.exe, r.dap))
        add("pipeline_runs", "day", d, d, r.runs)
        add("successful_pipeline_runs", "day", d, d, r.ok)
        add("pipeline_success_rate", "day", d, d, _rate(r.ok, r.runs))
        add("prod_pipeline_run_share", "day", d, d, _rate(r.prod, r.runs))
        add("unique_pipelines", "day", d, d, r.uniq)
        add("new_projects", "day", d, d, r.new)
        add("bad_event_share", "day", d, d, r.bad)
    for grain, freq in (("week", "W-SUN"), ("month", "M")):
        for i, (period, g) in enumerate(daily.groupby(daily["day"].dt.to_period(freq))):
            s, e = period.start_time.normalize(), period.end_time.normalize()
            runs_ = g["runs"].sum()
            add("pipeline_runs", grain, s, e, runs_)
            add("successful_pipeline_runs", grain, s, e, g["ok"].sum())
            add("pipeline_success_rate", grain, s, e, _rate(g["ok"].sum(), runs_))
            add("prod_pipeline_run_share", grain, s, e, _rate(g["prod"].sum(), runs_))
            add("unique_pipelines", grain, s, e, g["uniq"].sum() * 3)
            add("new_projects", grain, s, e, g["new"].sum())
            # distinct projects over the period: more than any one day, fewer than the sum
            add("executing_projects", grain, s, e, g["exe"].max() + 2 * len(g))
            if grain == "month":
                add("stickiness", grain, s, e, (g["exe"] / g["dap"]).mean())
                add("active_projects", grain, s, e, 190 + 6 * i)
                add("new_active_projects", grain, s, e, 30 + i)
                add("retained_projects", grain, s, e, 150 + 5 * i)
                add("reactivated_projects", grain, s, e, 8 + i % 3)
                add("churned_projects", grain, s, e, 40 - i)
    return pd.DataFrame(rows, columns=COLUMNS)


def make_environment_segments(
    as_of: date = AS_OF, first: date = date(2026, 1, 1), seed: int = 7
) -> pd.DataFrame:
    """kpi_values_by_segment rows of make_kpi_values' daily pipeline metrics by environment:
    prod (its prod share of runs), staging (a fifth) and dev (the rest), each at the day's
    success rate; the counts sum to the totals of kpi_values."""
    daily = daily_frame(first, as_of, seed)
    rows: list[tuple] = []
    for r in daily.itertuples():
        d = r.day.date()
        staging = round(0.2 * r.runs)
        shares = {"prod": r.prod, "staging": staging, "dev": r.runs - r.prod - staging}
        ok_left = r.ok
        for name, runs in shares.items():
            ok = min(runs, round(runs * r.ok / r.runs)) if name != "dev" else ok_left
            ok_left -= ok
            for metric, value in (
                ("pipeline_runs", runs),
                ("successful_pipeline_runs", ok),
                ("pipeline_success_rate", _rate(ok, runs)),
            ):
                if runs:
                    rows.append((metric, "day", d, d, "environment", name, value, d <= as_of))
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def with_changes(frame: pd.DataFrame) -> pd.DataFrame:
    """kpi_values with its period-over-period columns (metrics.md "Period over period")."""
    out = frame[COLUMNS].copy()
    out["period_start"] = pd.to_datetime(out["period_start"])
    out["value"] = out["value"].astype(float)
    out = out.sort_values(["metric_name", "grain", "period_start"]).reset_index(drop=True)
    out["previous_value"] = out.groupby(["metric_name", "grain"])["value"].shift(1)
    out["change"] = out["value"] - out["previous_value"]
    months = out["period_start"] - pd.DateOffset(months=12)
    days = out["period_start"] - pd.Timedelta(days=364)
    out["_ago"] = np.where(out["grain"] == "month", months, days)
    out["_ago"] = pd.to_datetime(out["_ago"])
    ago = out[["metric_name", "grain", "period_start", "value"]].rename(
        columns={"period_start": "_ago", "value": "year_ago_value"}
    )
    out = out.merge(ago, on=["metric_name", "grain", "_ago"], how="left").drop(columns="_ago")

    def pct(value, reference):
        base = reference.where(reference != 0)
        return (value - base) / base.abs()

    out["change_pct"] = pct(out["value"], out["previous_value"])
    out["yoy_change_pct"] = pct(out["value"], out["year_ago_value"])
    out["period_start"] = out["period_start"].dt.date
    return out[COLUMNS + CHANGE_COLUMNS]


def _records(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    typed = frame[columns].astype(object).where(frame[columns].notna(), None)
    return [tuple(r) for r in typed.itertuples(index=False)]


def _write_table(connection, engine: str, name: str, columns: list[str], frame) -> None:
    """Create marts.<name> with the contract's columns and insert the frame's rows."""
    position = 0 if engine == "duckdb" else 1
    ddl = ", ".join(f"{c} {TYPES.get(c, NUMBER_TYPE)[position]}" for c in columns)
    connection.execute(f"drop table if exists marts.{name}")
    connection.execute(f"create table marts.{name} ({ddl})")
    if frame.empty:
        return
    if engine == "duckdb":  # a registered frame: thousands of rows in one statement
        typed = frame[columns].copy()
        for column in columns:
            if column in ("period_start", "period_end"):
                typed[column] = pd.to_datetime(typed[column])
            elif column not in TYPES:
                typed[column] = pd.to_numeric(typed[column], errors="coerce").astype(float)
        connection.register("typed_rows", typed)
        casts = ", ".join(f"cast({c} as {TYPES.get(c, NUMBER_TYPE)[0]})" for c in columns)
        connection.execute(f"insert into marts.{name} select {casts} from typed_rows")
        connection.unregister("typed_rows")
        return
    records = _records(frame, columns)
    marks = ", ".join(["%s"] * len(columns))
    statement = f"insert into marts.{name} values ({marks})"
    with connection.cursor() as cursor:
        cursor.executemany(statement, records)


def write_marts(
    env: dict[str, str],
    frame: pd.DataFrame,
    newest_execution: datetime | None = NEWEST_EXECUTION,
    *,
    segments: pd.DataFrame | None = None,
    drivers: pd.DataFrame | None = None,
) -> None:
    """Create marts.kpi_values (+ by_segment, drivers, fct_cli_executions) in ``env``'s
    warehouse; segments and drivers are empty tables unless given."""
    tables = {
        "kpi_values": (COLUMNS + CHANGE_COLUMNS, with_changes(frame)),
        "kpi_values_by_segment": (
            SEGMENT_COLUMNS,
            segments if segments is not None else pd.DataFrame(columns=SEGMENT_COLUMNS),
        ),
        "kpi_drivers": (
            DRIVER_COLUMNS,
            drivers if drivers is not None else pd.DataFrame(columns=DRIVER_COLUMNS),
        ),
    }
    executions = [("e1", newest_execution)] if newest_execution else []
    engine = env["DBT_TARGET"]
    if engine == "duckdb":
        import duckdb

        connection = duckdb.connect(env["KPIS_DUCKDB_PATH"])
    else:
        import psycopg

        connection = psycopg.connect(
            host=env["KPIS_PG_HOST"],
            port=int(env["KPIS_PG_PORT"]),
            user=env["KPIS_PG_USER"],
            password=env["KPIS_PG_PASSWORD"],
            dbname=env["KPIS_PG_DATABASE"],
            autocommit=True,
        )
    with connection:
        connection.execute("create schema if not exists marts")
        for name, (columns, rows) in tables.items():
            _write_table(connection, engine, name, columns, rows)
        connection.execute("drop table if exists marts.fct_cli_executions")
        connection.execute(
            "create table marts.fct_cli_executions (execution_id varchar, started_at timestamp)"
        )
        if executions:
            marks = "?, ?" if engine == "duckdb" else "%s, %s"
            statement = f"insert into marts.fct_cli_executions values ({marks})"
            if engine == "duckdb":
                connection.executemany(statement, executions)
            else:
                with connection.cursor() as cursor:
                    cursor.executemany(statement, executions)
