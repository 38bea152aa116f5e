"""Data-quality suites (great-expectations, ephemeral context, pandas) on kpi_values."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from test_check import make_kpi_values, set_value

from telemetry_kpis.quality import run_quality, series_steps


@pytest.fixture(scope="module")
def good() -> pd.DataFrame:
    return make_kpi_values(first=date(2026, 8, 1))


def by_description(results):
    return {r.description: r for r in results}


def test_clean_table_passes_every_expectation(good):
    results = run_quality(good)
    assert len(results) == 12
    assert all(r.success for r in results), [r for r in results if not r.success]
    assert all(r.status == "ok" and r.failed == 0 for r in results)
    rates = by_description(results)["rates lie in [0, 1]"]
    assert 0 < rates.checked < len(good)


def test_each_defect_is_found_with_an_example(good):
    frame = set_value(good, "pipeline_success_rate", "week", date(2026, 9, 7), 1.2)
    frame = set_value(frame, "churned_projects", "month", date(2026, 9, 1), -3.0)
    frame = set_value(frame, "new_projects", "day", date(2026, 9, 2), None)
    gap = (frame["metric_name"] == "unique_pipelines") & (frame["grain"] == "month")
    gap &= frame["period_start"] == date(2026, 10, 1)
    frame = frame[~gap]
    misaligned = (frame["metric_name"] == "new_projects") & (frame["grain"] == "week")
    misaligned &= frame["period_start"] == date(2026, 9, 14)
    frame.loc[misaligned, "period_end"] = date(2026, 9, 21)  # a week of 8 days
    frame["is_complete"] = frame["is_complete"].astype(object)
    frame.loc[frame.index[0], "is_complete"] = None
    frame = pd.concat([frame, frame[frame["grain"] == "month"].head(1)])

    results = by_description(run_quality(frame))
    failed = {d for d, r in results.items() if not r.success}
    assert failed == {
        "(metric_name, grain, period_start) is unique",
        "is_complete is not null",
        "rates lie in [0, 1]",
        "counts are not null",
        "counts are >= 0",
        "no gaps in any series",
        "periods aligned to their grain (Monday weeks, calendar months, period_end)",
    }
    assert all(results[d].status == "alarm" for d in failed)
    assert results["rates lie in [0, 1]"].failed == 1
    assert "pipeline_success_rate/week/2026-09-07" in results["rates lie in [0, 1]"].details
    assert "churned_projects/month/2026-09-01" in results["counts are >= 0"].details
    assert "new_projects/day/2026-09-02" in results["counts are not null"].details
    assert "unique_pipelines/month/2026-11-01" in results["no gaps in any series"].details
    aligned = "periods aligned to their grain (Monday weeks, calendar months, period_end)"
    assert "new_projects/week/2026-09-14" in results[aligned].details


def test_null_rate_is_allowed(good):
    frame = set_value(good, "pipeline_success_rate", "day", date(2026, 9, 2), None)
    assert by_description(run_quality(frame))["rates lie in [0, 1]"].success


def test_series_steps_counts_missing_periods():
    frame = pd.DataFrame(
        {
            "metric_name": ["m"] * 4 + ["w"] * 2,
            "grain": ["month"] * 4 + ["week"] * 2,
            "period_start": pd.to_datetime(
                ["2026-01-01", "2026-02-01", "2026-05-01", "2026-06-01", "2026-09-07", "2026-09-28"]
            ),
            "period_end": pd.to_datetime(
                ["2026-01-31", "2026-02-28", "2026-05-31", "2026-06-30", "2026-09-13", "2026-10-04"]
            ),
        }
    )
    steps = series_steps(frame)
    assert list(steps["missing_periods"]) == [0, 0, 2, 0, 0, 2]
    assert steps["is_aligned"].all()
