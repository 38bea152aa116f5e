"""Data-quality checks (great-expectations, ephemeral context, pandas) on kpi_values values.

Only the value ranges by registry kind are great-expectations' job; the shape of the table
(unique keys, not-null columns, no gaps, aligned periods, every registry metric published,
counts not null) is tested by dbt (kpi_values.yml, tests/marts/assert_kpi_values_*.sql).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from test_check import make_kpi_values, set_value

from telemetry_kpis.quality import run_quality


@pytest.fixture(scope="module")
def good() -> pd.DataFrame:
    return make_kpi_values(first=date(2026, 8, 1))


def by_description(results):
    return {r.description: r for r in results}


def test_clean_table_passes_every_expectation(good):
    results = run_quality(good)
    assert [r.description for r in results] == ["rates lie in [0, 1]", "counts are >= 0"]
    assert all(r.success for r in results), [r for r in results if not r.success]
    assert all(r.status == "ok" and r.failed == 0 for r in results)
    rates = by_description(results)["rates lie in [0, 1]"]
    counts = by_description(results)["counts are >= 0"]
    assert 0 < rates.checked < len(good) and 0 < counts.checked < len(good)


def test_each_defect_is_found_with_an_example(good):
    frame = set_value(good, "pipeline_success_rate", "week", date(2026, 9, 7), 1.2)
    frame = set_value(frame, "bad_event_share", "day", date(2026, 9, 8), -0.1)
    frame = set_value(frame, "churned_projects", "month", date(2026, 9, 1), -3.0)

    results = by_description(run_quality(frame))
    failed = {d for d, r in results.items() if not r.success}
    assert failed == {"rates lie in [0, 1]", "counts are >= 0"}
    assert all(results[d].status == "alarm" for d in failed)
    rates = results["rates lie in [0, 1]"]
    assert rates.failed == 2
    assert "pipeline_success_rate/week/2026-09-07" in rates.details
    assert "bad_event_share/day/2026-09-08" in rates.details
    assert results["counts are >= 0"].failed == 1
    assert "churned_projects/month/2026-09-01" in results["counts are >= 0"].details


def test_null_rate_is_allowed(good):
    frame = set_value(good, "pipeline_success_rate", "day", date(2026, 9, 2), None)
    assert by_description(run_quality(frame))["rates lie in [0, 1]"].success


def test_kinds_come_from_the_registry(good):
    """A metric is range-checked by its registry kind: hours are neither rates nor counts."""
    frame = set_value(good, "pipeline_runs", "day", date(2026, 9, 2), 0.5)  # a count, fine
    hours = pd.DataFrame(
        [("data_freshness_hours", "day", date(2026, 9, 2), date(2026, 9, 2), 30.0, True)],
        columns=good.columns,
    )
    results = by_description(run_quality(pd.concat([frame, hours])))
    assert all(r.success for r in results.values())
    assert (
        results["counts are >= 0"].checked
        == by_description(run_quality(good))["counts are >= 0"].checked
    )
