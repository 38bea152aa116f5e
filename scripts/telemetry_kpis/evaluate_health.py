"""Health metrics: range, change vs a trailing baseline and anomaly score of one series.

Pure functions on the series ``evaluate.series_for`` cuts from kpi_values (or on the value
``kpis check`` computed live); the as-of date is an argument. On the latest complete period
with a value:

* **range**: breach when the value is below ``expected_range.min`` or above ``max`` (both
  bounds allowed; ``min == max`` accepts exactly that value).
* **change vs baseline**: baseline = median of the ``baseline_periods`` complete values before
  the current one; change % = (value - baseline) / |baseline| * 100; breach below
  ``-max_drop_pct`` or above ``max_rise_pct``. Undefined when the baseline is 0.
* **anomaly**: robust z-score = 0.6745 * (value - median) / MAD over the trailing window (MAD =
  median absolute deviation). When MAD is 0 the mean absolute deviation is used instead
  (z = (value - median) / (1.2533 * meanAD)); when that is 0 too, any other value is an
  infinite score. Breach when |z| > threshold.
* Baseline and anomaly need at least :data:`MIN_HISTORY` earlier values; with fewer they are
  skipped (noted, not a breach): a median of one or two values is noise, not a baseline.
* **status**: ``ok``; a breach raises the metric's ``severity`` (``warn`` or ``alarm``); no value
  at all is ``warn`` ("no data").
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from telemetry_kpis.definitions import DEFAULT_BASELINE_PERIODS, HealthMetric, metrics
from telemetry_kpis.formatting import format_value
from telemetry_kpis.results import EPSILON, HealthResult

MIN_HISTORY = 3
MAD_SCALE = 0.6745
MEAN_AD_SCALE = 1.253314


def robust_z(value: float, history: np.ndarray) -> float:
    """Robust z-score of ``value`` against ``history`` (median/MAD; see module docstring)."""
    median = float(np.median(history))
    deviations = np.abs(history - median)
    mad = float(np.median(deviations))
    if mad > EPSILON:
        return MAD_SCALE * (value - median) / mad
    mean_ad = float(np.mean(deviations))
    if mean_ad > EPSILON:
        return (value - median) / (MEAN_AD_SCALE * mean_ad)
    if abs(value - median) <= EPSILON:
        return 0.0
    return math.copysign(math.inf, value - median)


def _blank_result(hm: HealthMetric, series: pd.DataFrame | None, as_of: date) -> HealthResult:
    rng = hm.expected_range
    return HealthResult(
        key=hm.key,
        metric=hm.metric,
        grain=hm.grain,
        # a computed metric shares its name, and so its kind, with the published series
        kind=metrics()[hm.metric].kind,
        severity=hm.severity,
        runbook=hm.runbook,
        visibility=hm.visibility,
        as_of=as_of,
        range_min=rng.min if rng else None,
        range_max=rng.max if rng else None,
        max_drop_pct=hm.max_drop_pct,
        max_rise_pct=hm.max_rise_pct,
        anomaly_threshold=hm.anomaly.threshold if hm.anomaly else None,
        series=series,
    )


def _range_breaches(hm: HealthMetric, value: float, kind: str) -> list[str]:
    rng = hm.expected_range
    breaches = []
    if rng is not None and rng.min is not None and value < rng.min - EPSILON:
        breaches.append(
            f"{format_value(value, kind)} below the minimum {format_value(rng.min, kind)}"
        )
    if rng is not None and rng.max is not None and value > rng.max + EPSILON:
        breaches.append(
            f"{format_value(value, kind)} above the maximum {format_value(rng.max, kind)}"
        )
    return breaches


def _check_change(result: HealthResult, hm: HealthMetric, history: np.ndarray) -> list[str]:
    """Baseline and change % into ``result`` (breaches included); returns the notes."""
    grain = hm.grain or "day"
    window = history[-(hm.baseline_periods or DEFAULT_BASELINE_PERIODS[grain]) :]
    if len(window) < MIN_HISTORY:
        return [f"baseline skipped ({len(window)} earlier periods, need {MIN_HISTORY})"]
    baseline = float(np.median(window))
    result.baseline = baseline
    if abs(baseline) <= EPSILON:
        return ["change undefined (baseline is 0)"]
    value = result.value or 0.0
    change = (value - baseline) / abs(baseline) * 100
    result.change_pct = change
    shown = format_value(baseline, result.kind)
    if hm.max_drop_pct is not None and change < -hm.max_drop_pct - EPSILON:
        result.breaches.append(
            f"dropped {-change:.1f}% vs the baseline {shown} (max {hm.max_drop_pct:g}%)"
        )
    if hm.max_rise_pct is not None and change > hm.max_rise_pct + EPSILON:
        result.breaches.append(
            f"rose {change:.1f}% vs the baseline {shown} (max {hm.max_rise_pct:g}%)"
        )
    return []


def _check_anomaly(result: HealthResult, hm: HealthMetric, history: np.ndarray) -> list[str]:
    """Robust z-score into ``result`` (breach included); returns the notes."""
    if hm.anomaly is None:
        return []
    grain = hm.grain or "day"
    window = history[-(hm.anomaly.window or DEFAULT_BASELINE_PERIODS[grain]) :]
    if len(window) < MIN_HISTORY:
        return [f"anomaly skipped ({len(window)} earlier periods, need {MIN_HISTORY})"]
    score = robust_z(result.value or 0.0, window)
    result.anomaly_score = score
    threshold = hm.anomaly.threshold
    if abs(score) > threshold + EPSILON:
        shown = "inf" if math.isinf(score) else f"{score:.1f}"
        result.breaches.append(f"anomaly: robust z {shown} beyond ±{threshold:g}")
    return []


def evaluate_health_metric(
    hm: HealthMetric,
    series: pd.DataFrame | None,
    as_of: date,
    *,
    computed_value: float | None = None,
) -> HealthResult:
    """Range, change vs baseline and anomaly score of one health metric; ok / warn / alarm."""
    result = _blank_result(hm, series, as_of)
    history = np.array([], dtype=float)
    if hm.computed:
        if computed_value is None:
            result.status = "warn"
            result.note = "no data"
            return result
        result.value = float(computed_value)
    else:
        usable = (
            series[series["complete"] & series["value"].notna()]
            if series is not None
            else pd.DataFrame()
        )
        if usable.empty:
            result.status = "warn"
            result.note = "no data: no complete period with a value"
            return result
        current = usable.iloc[-1]
        result.value = float(current["value"])
        result.period_start = current["period_start"].date()
        result.period_end = current["period_end"].date()
        history = usable["value"].iloc[:-1].to_numpy(dtype=float)

    result.breaches.extend(_range_breaches(hm, result.value, result.kind))
    notes = []
    if hm.max_drop_pct is not None or hm.max_rise_pct is not None:
        notes += _check_change(result, hm, history)
    notes += _check_anomaly(result, hm, history)
    result.status = hm.severity if result.breaches else "ok"
    result.note = "; ".join(notes)
    return result
