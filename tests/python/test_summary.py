"""`kpis summary`: the registry's headline metrics as a month table, on a real DuckDB file."""

from __future__ import annotations

import argparse
import re

import pytest
from conftest import kpis
from test_check import make_kpi_values, write_marts

from telemetry_kpis import summary
from telemetry_kpis.registry import load_registry, summary_metrics


def test_summary_shows_the_registry_headline_metrics(duckdb_env):
    write_marts(duckdb_env, make_kpi_values())
    result = kpis("summary", env=duckdb_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("KPI summary from DuckDB file")
    assert re.match(r"^KPI +2026-08 +2026-09 +2026-10 +2026-11\*$", lines[1])
    assert set(lines[2]) == {"-", " "}
    labels = [m.summary_label or m.label for m in summary_metrics() if "month" in m.grains]
    assert labels[0] == "Monthly active projects (MAP)" and "  churned" in labels
    rows = lines[3 : 3 + len(labels)]
    # every headline metric, in the registry's order, with its label (indent kept)
    assert [row[: len(label)] for row, label in zip(rows, labels, strict=True)] == labels
    by_label = {label: row[len(label) :].split() for row, label in zip(rows, labels, strict=True)}
    assert by_label["Monthly active projects (MAP)"] == ["232", "238", "244", "250"]
    assert by_label["Pipeline runs"][2] == "10,818"
    assert by_label["Pipeline success rate"][0] == "88.5%"
    # the footnote says why MAP and the lifecycle counts differ in the month in progress
    assert lines[-2].startswith("* month in progress, evaluated on the as-of date: MAP counts")
    assert lines[-1].endswith("count projects active (rolling window) on that day")
    # a headline metric without a monthly series: its latest day, under the table
    assert re.match(r"^Daily active projects \(28-day window\) on 2026-11-\d\d: [\d,]+$", lines[-3])
    # right-aligned month columns: every value ends where its header ends
    end = lines[1].index("2026-10") + len("2026-10")
    assert all(row[end - 1] != " " and row[end : end + 2] == "  " for row in rows)


def test_daily_headline_metric_is_shown_below_the_table(duckdb_env, monkeypatch, capsys):
    """A headline metric published only by day: its latest value, under the table."""
    write_marts(duckdb_env, make_kpi_values())
    for name, value in duckdb_env.items():
        monkeypatch.setenv(name, value)
    daily = load_registry()["daily_active_projects"].model_copy(
        update={"summary_order": 99, "summary_label": "DAP (28-day window)"}
    )
    monkeypatch.setattr(summary, "summary_metrics", lambda: [*summary_metrics(), daily])
    assert summary.run(argparse.Namespace(months=2)) == 0
    out = capsys.readouterr().out
    assert re.search(r"^DAP \(28-day window\) on 2026-11-20: [\d,]+$", out, re.MULTILINE)
    assert "DAP" not in out.split("\n\n")[0]  # not a row of the month table


def test_summary_without_marts(duckdb_env):
    import duckdb

    duckdb.connect(duckdb_env["KPIS_DUCKDB_PATH"]).close()
    result = kpis("summary", env=duckdb_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "run `kpis build` first" in result.stderr


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [(1234.0, "count", "1,234"), (0.25, "rate", "25.0%"), (None, "count", "-")],
)
def test_summary_formats_by_kind(value, kind, shown):
    assert summary._format(value, kind) == shown
