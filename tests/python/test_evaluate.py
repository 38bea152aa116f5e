"""Key result statuses and health checks, pinned on small DataFrames (no warehouse)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest

from telemetry_kpis.definitions import (
    ExpectedRange,
    HealthMetric,
    KeyResult,
    Timeframe,
)
from telemetry_kpis.evaluate import (
    apply_visibility,
    elapsed_share,
    evaluate_health_metric,
    evaluate_key_result,
    format_value,
    kr_status,
    manual_series,
    prepare_kpi_values,
    progress_of,
    robust_z,
    series_for,
)

Q4 = Timeframe(start=date(2026, 10, 1), end=date(2026, 12, 31))  # 92 days


def kr(start: float = 100, target: float = 200, **extra) -> KeyResult:
    fields = {
        "okr": "o",
        "name": "k",
        "goal": "Improve Metric X",
        "kpi": "active_projects",
        "grain": "month",
        "start_value": start,
        "target_value": target,
        "dashboard": "https://bi.example.com/x",
    }
    fields.update(extra)
    return KeyResult(**fields)


def monthly(values: dict[str, float | None], as_of: date) -> pd.DataFrame:
    """A month series: {'2026-10': 120, ...}; complete when the month ended by as_of."""
    rows = []
    for month, value in values.items():
        start = pd.Timestamp(f"{month}-01")
        end = start + pd.offsets.MonthEnd(0)
        rows.append(("active_projects", "month", start, end, value, end <= pd.Timestamp(as_of)))
    frame = prepare_kpi_values(
        pd.DataFrame(
            rows,
            columns=["metric_name", "grain", "period_start", "period_end", "value", "is_complete"],
        )
    )
    return series_for(frame, "active_projects", "month", as_of)


def daily(values: list[float | None], last: date, metric: str = "pipeline_success_rate"):
    rows = []
    for i, value in enumerate(values):
        day = pd.Timestamp(last - timedelta(days=len(values) - 1 - i))
        rows.append((metric, "day", day, day, value, True))
    frame = prepare_kpi_values(
        pd.DataFrame(
            rows,
            columns=["metric_name", "grain", "period_start", "period_end", "value", "is_complete"],
        )
    )
    return series_for(frame, metric, "day", last)


def health(**extra) -> HealthMetric:
    fields = {
        "metric": "pipeline_success_rate",
        "grain": "day",
        "severity": "alarm",
        "runbook": "https://bi.example.com/runbook",
    }
    fields.update(extra)
    return HealthMetric(**fields)


# --- building blocks --------------------------------------------------------------------------
def test_progress_up_down_and_flat():
    assert progress_of(150, 100, 200) == 0.5
    assert progress_of(250, 100, 200) == 1.5
    assert progress_of(50, 100, 200) == -0.5
    # target below start: lower is better, same formula
    assert progress_of(30, 40, 20) == 0.5
    assert progress_of(45, 40, 20) == -0.25
    # hold the line
    assert progress_of(100, 100, 100) == 1.0
    assert progress_of(99, 100, 100) == 0.0
    assert progress_of(99, 100, 100, increasing=False) == 1.0


def test_elapsed_share_is_inclusive_and_clipped():
    assert elapsed_share(date(2026, 9, 30), Q4) == 0.0
    assert elapsed_share(date(2026, 10, 1), Q4) == pytest.approx(1 / 92)
    assert elapsed_share(date(2026, 10, 31), Q4) == pytest.approx(31 / 92)
    assert elapsed_share(date(2026, 12, 31), Q4) == 1.0
    assert elapsed_share(date(2027, 3, 1), Q4) == 1.0


@pytest.mark.parametrize(
    ("as_of", "progress", "expected", "projected", "status"),
    [
        (date(2026, 11, 15), None, None, None, "no data"),
        (date(2026, 9, 15), 0.9, 0.0, 1.2, "not started"),
        (date(2026, 11, 15), 1.0, 0.5, None, "achieved"),
        (date(2027, 1, 5), 1.0, 1.0, None, "achieved"),
        (date(2027, 1, 5), 0.99, 1.0, None, "missed"),
        (date(2026, 11, 15), 0.40, 0.50, None, "on track"),  # behind exactly 10 points
        (date(2026, 11, 15), 0.39, 0.50, None, "at risk"),
        (date(2026, 11, 15), 0.25, 0.50, None, "at risk"),  # behind exactly 25 points
        (date(2026, 11, 15), 0.24, 0.50, None, "off track"),
        (date(2026, 11, 15), 0.10, 0.50, 1.0, "on track"),  # the trend reaches the target
        (date(2026, 11, 15), 0.10, 0.50, 0.9, "off track"),
        (date(2026, 12, 31), 0.5, 1.0, None, "off track"),  # last day: still in timeframe
        (date(2026, 10, 1), -0.2, 0.0, None, "at risk"),  # first day, moving backwards
    ],
)
def test_status_rules(as_of, progress, expected, projected, status):
    assert (
        kr_status(
            as_of=as_of,
            timeframe=Q4,
            progress=progress,
            expected=expected,
            projected_progress=projected,
        )
        == status
    )


# --- key results on series --------------------------------------------------------------------
def test_on_track_uses_latest_complete_month_and_projects_the_trend():
    as_of = date(2026, 11, 20)
    series = monthly({"2026-08": 100, "2026-09": 110, "2026-10": 130, "2026-11": 150}, as_of)
    result = evaluate_key_result(kr(100, 200), Q4, series, as_of)
    assert result.current_value == 130  # November is in progress
    assert result.measured_on == date(2026, 10, 31)
    assert result.progress == pytest.approx(0.3)
    assert result.expected_progress == pytest.approx(31 / 92)
    assert result.projected_value is not None and result.projected_value > 130
    assert result.status == "on track"
    assert not result.partial


def test_before_the_start_is_not_started():
    as_of = date(2026, 9, 10)
    series = monthly({"2026-07": 100, "2026-08": 120}, as_of)
    result = evaluate_key_result(kr(100, 200), Q4, series, as_of)
    assert result.status == "not started"
    assert result.current_value == 120
    assert result.expected_progress == 0.0


def test_after_the_end_uses_the_last_period_of_the_timeframe():
    as_of = date(2027, 2, 10)
    values = {"2026-10": 150, "2026-11": 180, "2026-12": 210, "2027-01": 90}
    achieved = evaluate_key_result(kr(100, 200), Q4, monthly(values, as_of), as_of)
    assert achieved.current_value == 210  # January is after the timeframe
    assert achieved.status == "achieved"
    values["2026-12"] = 190
    missed = evaluate_key_result(kr(100, 200), Q4, monthly(values, as_of), as_of)
    assert missed.status == "missed"
    assert missed.progress == pytest.approx(0.9)


def test_target_below_start():
    as_of = date(2026, 12, 5)
    lower = kr(40, 20, kpi="churned_projects")
    on_track = evaluate_key_result(lower, Q4, monthly({"2026-10": 35, "2026-11": 28}, as_of), as_of)
    assert on_track.progress == pytest.approx(0.6)
    assert on_track.status == "on track"
    worse = evaluate_key_result(lower, Q4, monthly({"2026-10": 45, "2026-11": 44}, as_of), as_of)
    assert worse.progress == pytest.approx(-0.2)
    assert worse.status == "off track"
    done = evaluate_key_result(lower, Q4, monthly({"2026-10": 30, "2026-11": 19}, as_of), as_of)
    assert done.status == "achieved"


def test_no_data_when_the_series_is_empty_or_all_null():
    as_of = date(2026, 11, 20)
    empty = evaluate_key_result(kr(), Q4, monthly({}, as_of), as_of)
    assert empty.status == "no data" and empty.current_value is None
    nulls = evaluate_key_result(kr(), Q4, monthly({"2026-10": None}, as_of), as_of)
    assert nulls.status == "no data"


def test_data_after_as_of_is_ignored():
    as_of = date(2026, 10, 15)
    series = monthly({"2026-09": 100, "2026-10": 300, "2026-11": 400}, as_of)
    assert series["period_start"].max() == pd.Timestamp("2026-10-01")
    result = evaluate_key_result(kr(100, 200), Q4, series, as_of)
    assert result.current_value == 100  # September: October is not complete on Oct 15


def test_only_a_partial_period_is_flagged():
    as_of = date(2026, 10, 15)
    result = evaluate_key_result(kr(100, 200), Q4, monthly({"2026-10": 120}, as_of), as_of)
    assert result.partial
    assert result.current_value == 120
    assert result.measured_on == as_of
    assert result.projected_value is None  # a single point has no trend


def test_manual_key_result():
    definition = kr(
        0,
        20,
        kpi="manual",
        grain=None,
        values=[
            {"date": date(2026, 10, 15), "value": 3},
            {"date": date(2026, 11, 15), "value": 9},
            {"date": date(2026, 12, 15), "value": 30},  # after as_of: ignored
        ],
    )
    as_of = date(2026, 11, 20)
    series = manual_series(definition, as_of)
    result = evaluate_key_result(definition, Q4, series, as_of)
    assert result.current_value == 9
    assert result.measured_on == date(2026, 11, 15)
    assert result.progress == pytest.approx(0.45)
    assert result.status == "on track"
    early = date(2026, 10, 2)
    assert evaluate_key_result(definition, Q4, manual_series(definition, early), early).status == (
        "no data"
    )


# --- health metrics ---------------------------------------------------------------------------
LAST = date(2026, 11, 20)


def test_range_ok_and_breaches():
    ok = evaluate_health_metric(
        health(expected_range=ExpectedRange(min=0.5, max=1.0)), daily([0.8, 0.5], LAST), LAST
    )
    assert ok.status == "ok" and ok.value == 0.5  # bounds are allowed
    low = evaluate_health_metric(
        health(expected_range=ExpectedRange(min=0.5, max=1.0)), daily([0.8, 0.49], LAST), LAST
    )
    assert low.status == "alarm"
    assert "below the minimum" in low.breaches[0]
    high = evaluate_health_metric(
        health(severity="warn", expected_range=ExpectedRange(max=0.05)),
        daily([0.01, 0.06], LAST, "bad_event_share"),
        LAST,
    )
    assert high.status == "warn" and "above the maximum" in high.breaches[0]


def test_zero_width_range():
    definition = health(expected_range=ExpectedRange(min=1.0, max=1.0))
    assert evaluate_health_metric(definition, daily([1.0], LAST), LAST).status == "ok"
    assert evaluate_health_metric(definition, daily([0.999], LAST), LAST).status == "alarm"


def test_drop_and_rise_vs_baseline():
    history = [100.0] * 10
    drop = health(metric="daily_active_projects", max_drop_pct=10, severity="warn")
    ok = evaluate_health_metric(drop, daily([*history, 90.0], LAST, "daily_active_projects"), LAST)
    assert ok.status == "ok" and ok.change_pct == pytest.approx(-10)  # exactly 10%: allowed
    bad = evaluate_health_metric(drop, daily([*history, 89.0], LAST, "daily_active_projects"), LAST)
    assert bad.status == "warn" and bad.baseline == 100 and "dropped 11.0%" in bad.breaches[0]
    rise = health(metric="daily_active_projects", max_rise_pct=50)
    up = evaluate_health_metric(rise, daily([*history, 151.0], LAST, "daily_active_projects"), LAST)
    assert up.status == "alarm" and "rose 51.0%" in up.breaches[0]


def test_baseline_window_and_short_history():
    definition = health(metric="daily_active_projects", max_drop_pct=10, baseline_periods=3)
    # only the last 3 earlier values (200, 200, 200) count, not the old 10s
    series = daily([10, 10, 10, 200, 200, 200, 185], LAST, "daily_active_projects")
    assert evaluate_health_metric(definition, series, LAST).baseline == 200
    short = evaluate_health_metric(
        definition, daily([200, 100], LAST, "daily_active_projects"), LAST
    )
    assert short.status == "ok" and "baseline skipped" in short.note


def test_baseline_zero_is_undefined():
    definition = health(metric="daily_active_projects", max_rise_pct=10)
    result = evaluate_health_metric(
        definition, daily([0, 0, 0, 0, 5], LAST, "daily_active_projects"), LAST
    )
    assert result.change_pct is None and "baseline is 0" in result.note


def test_robust_z():
    history = pd.Series([10, 11, 9, 10, 12, 8, 10]).to_numpy(dtype=float)
    # median 10, MAD 1 -> z = 0.6745 * (15 - 10) / 1
    assert robust_z(15, history) == pytest.approx(0.6745 * 5)
    # MAD 0 but not all equal: mean absolute deviation fallback
    flat = pd.Series([5, 5, 5, 5, 9]).to_numpy(dtype=float)
    assert robust_z(9, flat) == pytest.approx(4 / (1.253314 * 0.8))
    constant = pd.Series([5.0] * 5).to_numpy()
    assert robust_z(5, constant) == 0
    assert math.isinf(robust_z(6, constant))


def test_anomaly_breach_and_nulls_are_skipped():
    definition = health(anomaly={"threshold": 3.5, "window": 28})
    values = [0.90, 0.91, 0.89, None, 0.90, 0.92, 0.88, 0.90, 0.60]
    result = evaluate_health_metric(definition, daily(values, LAST), LAST)
    assert result.status == "alarm" and result.anomaly_score < -3.5
    assert "anomaly" in result.breaches[0]
    calm = evaluate_health_metric(definition, daily([*values[:-1], 0.9], LAST), LAST)
    assert calm.status == "ok"
    # latest value null (a rate without denominator): the last non-null complete value counts
    latest_null = evaluate_health_metric(definition, daily([*values[:-1], 0.9, None], LAST), LAST)
    assert latest_null.value == 0.9 and latest_null.period_end == LAST - timedelta(days=1)


def test_health_no_data_is_a_warning():
    empty = evaluate_health_metric(health(expected_range={"min": 0.5}), daily([], LAST), LAST)
    assert empty.status == "warn" and "no data" in empty.note
    freshness = HealthMetric(
        metric="data_freshness_hours",
        expected_range={"max": 48},
        severity="alarm",
        runbook="https://bi.example.com/r",
    )
    assert evaluate_health_metric(freshness, None, LAST).status == "warn"
    assert evaluate_health_metric(freshness, None, LAST, computed_value=47.9).status == "ok"
    stale = evaluate_health_metric(freshness, None, LAST, computed_value=72)
    assert stale.status == "alarm" and "72.0h above the maximum 48.0h" in stale.breaches[0]


def test_freshness_series_from_kpi_values():
    definition = HealthMetric(
        metric="data_freshness_hours",
        grain="day",
        expected_range={"max": 48},
        anomaly={"threshold": 3.5},
        severity="alarm",
        runbook="https://bi.example.com/r",
    )
    assert not definition.computed
    series = daily([10, 12, 11, 9, 10, 60], LAST, "data_freshness_hours")
    result = evaluate_health_metric(definition, series, LAST)
    assert result.kind == "hours" and result.value == 60
    assert result.status == "alarm" and len(result.breaches) == 2  # range and anomaly


# --- public view and display ------------------------------------------------------------------
def test_public_view_redacts_internal_values(tmp_path):
    from telemetry_kpis.definitions import load_definitions
    from telemetry_kpis.evaluate import evaluate

    (tmp_path / "d.yml").write_text(
        """
okrs:
  - {name: pub, objective: Public, label: "OKR: Public", scope: company,
     timeframe: {start: 2026-10-01, end: 2026-12-31}, visibility: public}
  - {name: priv, objective: Private, label: "OKR: Private", scope: company,
     timeframe: {start: 2026-10-01, end: 2026-12-31}}
key_results:
  - {okr: pub, name: open, goal: Open, kpi: active_projects, grain: month, start_value: 100,
     target_value: 200, dashboard: "https://x.example.com", visibility: public}
  - {okr: pub, name: closed, goal: Closed, kpi: active_projects, grain: month,
     start_value: 100, target_value: 200, dashboard: "https://x.example.com"}
  - {okr: priv, name: hidden, goal: Hidden, kpi: active_projects, grain: month,
     start_value: 100, target_value: 200, dashboard: "https://x.example.com",
     visibility: public}
"""
    )
    definitions = load_definitions(tmp_path)
    as_of = date(2026, 11, 20)
    frame = monthly({"2026-09": 120, "2026-10": 150}, as_of)
    kpi_values = frame.assign(metric_name="active_projects", grain="month").rename(
        columns={"complete": "is_complete"}
    )
    full = evaluate(definitions, kpi_values, as_of)
    public = apply_visibility(full, definitions)
    assert [k.key for k in public.key_results] == ["open", "closed"]
    open_kr, closed_kr = public.key_results
    assert open_kr.current_value == 150 and not open_kr.redacted
    assert closed_kr.redacted and closed_kr.current_value is None
    assert closed_kr.start_value is None and closed_kr.target_value is None
    assert closed_kr.progress == pytest.approx(0.5) and closed_kr.status == open_kr.status
    # the chart series is re-expressed as progress
    assert list(closed_kr.series["value"]) == pytest.approx([0.2, 0.5])
    assert "150" not in str(closed_kr.to_dict())


def test_format_value():
    assert format_value(1234.0, "count") == "1,234"
    assert format_value(0.8765, "rate") == "87.6%"
    assert format_value(5.25, "hours") == "5.2h"
    assert format_value(None, "count") == "—"
