"""Data-quality checks (great-expectations, ephemeral context, pandas) on kpi_values values.

great-expectations checks only the distribution of the daily counts: the newest complete day
of each registry count metric with a day grain is at most ``spike_factor`` x the 95th
percentile of its 28 preceding complete days. Every invariant of the table (keys, not-null
columns, no gaps, aligned periods, the registry's metrics, the bounds of each kind) is a dbt
data test (kpi_values.yml, tests/marts/assert_kpi_values_*.sql; the kind bounds are proven in
test_marts.py).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from test_check import AS_OF, make_kpi_values, set_value

from telemetry_kpis.quality import run_quality
from telemetry_kpis.registry import load_registry

DAILY_COUNTS = [m.name for m in load_registry().values() if m.kind == "count" and "day" in m.grains]


@pytest.fixture(scope="module")
def good() -> pd.DataFrame:
    return make_kpi_values(first=date(2026, 8, 1))


def spike_result(frame: pd.DataFrame, **kwargs):
    results = run_quality(frame, **kwargs)
    assert len(results) == 1
    return results[0]


def day_value(frame: pd.DataFrame, metric: str, day: date) -> float:
    mask = (
        (frame["metric_name"] == metric)
        & (frame["grain"] == "day")
        & (frame["period_start"] == day)
    )
    return float(frame.loc[mask, "value"].iloc[0])


def trailing_p95(frame: pd.DataFrame, metric: str, newest: date) -> float:
    """The 95th percentile of the 28 days before ``newest``, derived here independently."""
    days = [newest - timedelta(days=n) for n in range(1, 29)]
    return float(pd.Series([day_value(frame, metric, d) for d in days]).quantile(0.95))


def test_normal_series_passes(good):
    result = spike_result(good)
    assert result.success and result.status == "ok"
    assert result.checked == len(DAILY_COUNTS) == 6  # every daily count of the registry
    assert result.failed == 0 and result.details == ""


def test_spike_of_100x_is_an_alarm_naming_metric_day_value_and_bound(good):
    p95 = trailing_p95(good, "pipeline_runs", AS_OF)
    spike = 100 * p95
    result = spike_result(set_value(good, "pipeline_runs", "day", AS_OF, spike))
    assert not result.success and result.status == "alarm"
    assert result.checked == 6 and result.failed == 1
    assert result.details.startswith("pipeline_runs on 2026-11-20: ")
    assert f"{spike:,.6g} > bound {10 * p95:,.6g}" in result.details
    assert f"10 x p95 {p95:,.6g}" in result.details


def test_bound_is_spike_factor_times_the_trailing_p95(good):
    """At the bound passes, just above it fails; spike_factor moves the bound."""
    bound = 10 * trailing_p95(good, "unique_pipelines", AS_OF)
    assert spike_result(set_value(good, "unique_pipelines", "day", AS_OF, bound)).success
    above = spike_result(set_value(good, "unique_pipelines", "day", AS_OF, bound + 1))
    assert not above.success and "unique_pipelines on 2026-11-20" in above.details

    tripled = set_value(
        good, "new_projects", "day", AS_OF, 3 * trailing_p95(good, "new_projects", AS_OF)
    )
    assert spike_result(tripled).success
    assert not spike_result(tripled, spike_factor=2).success


def test_only_the_28_preceding_days_set_the_bound(good):
    """Older, higher days do not raise the bound: a return to them after 28 quiet days is a
    spike."""
    frame = good
    for n in range(1, 29):
        frame = set_value(frame, "pipeline_runs", "day", AS_OF - timedelta(days=n), 10.0)
    frame = set_value(frame, "pipeline_runs", "day", AS_OF, 260.0)
    result = spike_result(frame)
    assert not result.success
    assert "pipeline_runs on 2026-11-20: 260 > bound 100" in result.details


@pytest.mark.parametrize("preceding, checked", [(6, 0), (7, len(DAILY_COUNTS))])
def test_short_series_is_skipped(preceding, checked):
    """Fewer than 7 preceding days: not checked, even a 100x day; from 7 days it is."""
    short = make_kpi_values(first=AS_OF - timedelta(days=preceding))
    result = spike_result(short)
    assert result.success and result.checked == checked

    spiked = set_value(short, "pipeline_runs", "day", AS_OF, 100_000.0)
    result = spike_result(spiked)
    assert result.success == (checked == 0)
    if checked == 0:
        assert f"pipeline_runs ({preceding} preceding days)" in result.details


def test_zero_percentile_is_skipped(good):
    """A count that was 0 on (almost) every preceding day has no bound to break."""
    frame = good
    for n in range(1, 29):
        frame = set_value(frame, "new_projects", "day", AS_OF - timedelta(days=n), 0.0)
    frame = set_value(frame, "new_projects", "day", AS_OF, 4.0)
    result = spike_result(frame)
    assert result.success and result.checked == len(DAILY_COUNTS) - 1
    assert "new_projects (p95 of the preceding days is 0)" in result.details


def test_only_complete_days_of_daily_counts_are_checked(good):
    """The day in progress, other grains and other kinds are not the newest complete day of a
    daily count; the same value on the newest complete day is a spike."""
    huge = 1_000_000.0
    in_progress = good.copy()
    in_progress.loc[in_progress["period_start"] == AS_OF, "is_complete"] = False
    in_progress = set_value(in_progress, "pipeline_runs", "day", AS_OF, huge)
    in_progress = set_value(in_progress, "pipeline_runs", "month", date(2026, 11, 1), huge)
    in_progress = set_value(
        in_progress, "successful_pipeline_runs", "week", date(2026, 11, 16), huge
    )
    in_progress = set_value(in_progress, "pipeline_success_rate", "day", AS_OF, huge)
    result = spike_result(in_progress)
    assert result.success and result.checked == 6

    previous_day = AS_OF - timedelta(days=1)
    spiked = set_value(in_progress, "pipeline_runs", "day", previous_day, huge)
    result = spike_result(spiked)
    assert not result.success and "pipeline_runs on 2026-11-19" in result.details


def test_value_bounds_are_left_to_dbt(good):
    """A rate above 1 or a negative count is no great-expectations alarm: the dbt test
    assert_kpi_values_within_kind_bounds owns the bounds of each kind."""
    frame = set_value(good, "pipeline_success_rate", "week", date(2026, 9, 7), 1.2)
    frame = set_value(frame, "churned_projects", "month", date(2026, 9, 1), -3.0)
    assert spike_result(frame).success


def test_postgres_decimals_are_read_as_numbers(good):
    """PostgreSQL numerics arrive as Decimal; the check reads them as numbers."""
    from decimal import Decimal

    spiked = set_value(good, "pipeline_runs", "day", AS_OF, 1e6)
    as_decimals = spiked.assign(
        value=spiked["value"].map(lambda v: None if pd.isna(v) else Decimal(str(v)))
    )
    result = spike_result(as_decimals)
    assert not result.success and result.failed == 1
