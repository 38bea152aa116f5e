"""Issue 16, "why did it move?", in `kpis check`: the change vs the previous period and a year
earlier beside every result, the top contributors of a breach's change (kpi_drivers) in every
output, health metrics on one segment and the per-segment anomaly (kpi_values_by_segment).

Marts are written by hand (kpi_marts.py) into a real DuckDB file; the drivers are hand-chosen
rows, listed out of order, so that the choice and the order of the contributors are the code's.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import kpis
from kpi_marts import (
    AS_OF,
    DRIVER_COLUMNS,
    make_kpi_values,
    with_changes,
    write_marts,
)
from test_check import definitions_dir, one_line_error, set_value

FIRST = date(2025, 10, 1)  # more than a year before AS_OF: YoY has a reference
OCTOBER = date(2026, 10, 1)

DEFINITIONS = """\
okrs:
  - {name: growth, objective: Grow, label: "OKR: Grow", scope: company,
     timeframe: {start: 2026-10-01, end: 2026-12-31}, visibility: public}
key_results:
  - {okr: growth, name: map, goal: Increase MAP, kpi: active_projects, grain: month,
     start_value: 300, target_value: 400, dashboard: "https://bi.example.com/map",
     visibility: public}
health_metrics:
  - {name: success, metric: pipeline_success_rate, grain: day,
     expected_range: {min: 0.5, max: 1}, severity: alarm,
     runbook: "https://bi.example.com/runbooks/success"}
"""


def frame() -> pd.DataFrame:
    """kpi_values with a success rate of 20 % on the as-of day (an alarm)."""
    return set_value(make_kpi_values(first=FIRST), "pipeline_success_rate", "day", AS_OF, 0.2)


def value_of(kpi: pd.DataFrame, metric: str, grain: str, day: date) -> float:
    rows = kpi[
        (kpi["metric_name"] == metric) & (kpi["grain"] == grain) & (kpi["period_start"] == day)
    ]
    return float(rows["value"].iloc[0])


def driver_rows(kpi: pd.DataFrame) -> pd.DataFrame:
    """Hand-chosen kpi_drivers rows, out of order: the success rate's fall on the as-of day by
    environment (shares 60/25/12/8 % with it, -5 % against it) and by OS (one driver at 0); MAP's
    October rise by lifecycle part and by OS."""
    rate_change = 0.2 - value_of(kpi, "pipeline_success_rate", "day", AS_OF - timedelta(days=1))
    map_change = value_of(kpi, "active_projects", "month", OCTOBER) - value_of(
        kpi, "active_projects", "month", date(2026, 9, 1)
    )
    rate = ("pipeline_success_rate", "day", AS_OF, AS_OF, True)
    month = ("active_projects", "month", OCTOBER, date(2026, 10, 31), True)
    rows = [
        (*rate, "environment", "none", -0.05, rate_change),
        (*rate, "environment", "dev", 0.12, rate_change),
        (*rate, "os", "Windows", 0.0, rate_change),
        (*rate, "environment", "other", 0.08, rate_change),
        (*rate, "environment", "prod", 0.60, rate_change),
        (*rate, "os", "Linux", 0.9, rate_change),
        (*rate, "environment", "staging", 0.25, rate_change),
        (*rate, "os", "Darwin", 0.1, rate_change),
        (*month, "os", "Darwin", 2 / 6, map_change),
        (*month, "lifecycle", "churned_projects", -31 / 6, map_change),
        (*month, "lifecycle", "new_active_projects", 39 / 6, map_change),
        (*month, "os", "Windows", -1 / 6, map_change),
        (*month, "lifecycle", "eom_active_without_execution", -12 / 6, map_change),
        (*month, "lifecycle", "reactivated_projects", 10 / 6, map_change),
        (*month, "os", "Linux", 5 / 6, map_change),
    ]
    records = [
        (m, g, s, e, c, kind, driver, 10.0, 9.0, share * total, share, total)
        for (m, g, s, e, c, kind, driver, share, total) in rows
    ]
    return pd.DataFrame(records, columns=DRIVER_COLUMNS)


RATE_ORDER = ["environment=prod", "environment=staging", "environment=dev", "os=Linux", "os=Darwin"]
MAP_ORDER = [
    "new_active_projects",
    "reactivated_projects",
    "eom_active_without_execution",
    "churned_projects",
    "os=Linux",
    "os=Darwin",
]


@pytest.fixture
def warehouse(duckdb_env, tmp_path):
    kpi = frame()
    write_marts(duckdb_env, kpi, drivers=driver_rows(kpi))
    return duckdb_env, definitions_dir(tmp_path, DEFINITIONS), with_changes(kpi)


def check(env, defs: Path, *extra: str):
    args = ("check", "--definitions", str(defs), "--as-of", str(AS_OF), "--no-quality", *extra)
    return kpis(*args, env=env)


def test_json_changes_and_contributors(warehouse):
    env, defs, kpi = warehouse
    result = check(env, defs, "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    success = report["health_metrics"][0]
    previous = value_of(kpi, "pipeline_success_rate", "day", AS_OF - timedelta(days=1))
    year_ago = value_of(kpi, "pipeline_success_rate", "day", AS_OF - timedelta(days=364))
    assert success["previous_value"] == pytest.approx(previous)
    assert success["pop_change_pct"] == pytest.approx((0.2 - previous) / previous)
    assert success["year_ago_value"] == pytest.approx(year_ago)
    assert success["yoy_change_pct"] == pytest.approx((0.2 - year_ago) / year_ago)
    assert [c["name"] for c in success["contributors"]] == RATE_ORDER
    prod = success["contributors"][0]
    assert prod["driver_kind"] == "environment" and prod["driver"] == "prod"
    assert prod["share_of_change"] == pytest.approx(0.6)
    assert prod["contribution"] == pytest.approx(0.6 * (0.2 - previous))

    grow = report["key_results"][0]
    assert grow["status"] == "off track" and grow["period_start"] == "2026-10-01"
    october, september = 190 + 6 * 12, 190 + 6 * 11  # month index from October 2025
    assert grow["current_value"] == october
    assert grow["pop_change_pct"] == pytest.approx((october - september) / september)
    assert grow["yoy_change_pct"] == pytest.approx((october - 190) / 190)
    assert [c["name"] for c in grow["contributors"]] == MAP_ORDER
    assert grow["contributors"][0]["contribution"] == pytest.approx(39.0)


def test_text_and_markdown_show_changes_and_contributors(warehouse):
    env, defs, kpi = warehouse
    previous = value_of(kpi, "pipeline_success_rate", "day", AS_OF - timedelta(days=1))
    change = f"{(0.2 - previous) / previous * 100:+.1f}%"
    prod = f"environment=prod {0.6 * (0.2 - previous) * 100:+.1f} pp (60%)"
    text = check(env, defs).stdout
    assert max(len(line) for line in text.splitlines()) <= 120
    row = next(x for x in text.splitlines() if x.startswith("success "))
    assert change in row.split() and "+37.9%" not in row
    map_row = next(x for x in text.splitlines() if x.startswith("Increase MAP "))
    assert "+2.3%" in map_row.split() and "+37.9%" in map_row.split()  # 262 vs 256 and 190
    flat = " ".join(text.split())
    assert f"- success: top contributors to the {change} change vs the previous period" in flat
    assert f"{prod}, environment=staging" in flat
    assert "environment=other" not in flat and "environment=none" not in flat  # 4th, opposite
    assert "os=Windows" not in flat
    assert "new_active_projects +39 (650%), reactivated_projects +10 (167%)" in flat
    markdown = check(env, defs, "--format", "markdown").stdout
    assert f"- success: top contributors to the {change} change" in markdown
    assert prod in markdown and re.search(r"\| vs prev +\| YoY +\|", markdown)


def test_public_view_keeps_shares_not_values(warehouse):
    env, defs, _ = warehouse
    report = json.loads(check(env, defs, "--format", "json", "--public").stdout)
    success = report["health_metrics"][0]  # internal
    assert success["redacted"] and success["previous_value"] is None
    assert success["pop_change_pct"] is not None
    assert [c["name"] for c in success["contributors"]] == RATE_ORDER
    assert all(c["contribution"] is None and c["value"] is None for c in success["contributors"])
    assert success["contributors"][0]["share_of_change"] == pytest.approx(0.6)
    grow = report["key_results"][0]  # public: values kept
    assert grow["contributors"][0]["contribution"] == pytest.approx(39.0)


def test_webhook_message_names_changes_and_contributors(warehouse, monkeypatch):
    from telemetry_kpis.check import gather
    from telemetry_kpis.notify import build_message

    env, defs, _ = warehouse
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    checked = gather(definitions_dir=defs, as_of=AS_OF, quality=False, public=False)
    text = build_message(checked.evaluation)["text"]
    assert "*success* (pipeline_success_rate/day): 20.0% below the minimum 50.0%" in text
    assert re.search(r"\(vs prev -\d+\.\d%, YoY -\d+\.\d%\)", text), text
    assert "top contributors: environment=prod -" in text
    assert checked.drivers is not None and len(checked.drivers) == 15  # both periods read


def test_missing_drivers_or_change_columns_is_one_line(duckdb_env, tmp_path):
    import duckdb

    defs = definitions_dir(tmp_path, DEFINITIONS)
    write_marts(duckdb_env, make_kpi_values())
    with duckdb.connect(duckdb_env["KPIS_DUCKDB_PATH"]) as connection:
        connection.execute("drop table marts.kpi_drivers")
    one_line_error(check(duckdb_env, defs), "cannot read marts.kpi_drivers", "kpis build")
    write_marts(duckdb_env, make_kpi_values())
    with duckdb.connect(duckdb_env["KPIS_DUCKDB_PATH"]) as connection:
        connection.execute("alter table marts.kpi_values drop column yoy_change_pct")
    one_line_error(check(duckdb_env, defs), "cannot read marts.kpi_values", "kpis build")
