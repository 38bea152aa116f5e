"""Health metrics on segments (``marts.kpi_values_by_segment``): a metric's series for one
segment value (``segment: {environment: prod}``) and the anomaly score of every value of a
segment kind (``anomaly: {per_segment: environment}``). Pure functions on DataFrames.

* A **segment series** has the periods of the metric's own series; a period the mart has no
  row for is 0 for a count and no value for a rate (metrics.md "Segments").
* Its change against the previous period and the same period a year earlier follow the rules
  of kpi_values (metrics.md "Period over period"), computed on the segment series.
* **Per-segment anomaly**: the robust z-score of each segment value on the period the metric
  is evaluated on, against its own trailing window (as for the metric). A value needs at least
  :data:`~telemetry_kpis.evaluate_health.MIN_HISTORY` earlier periods in the window *with a row
  in the mart*, so that a segment value that just appeared is not an anomaly of zeros. Each
  value beyond the threshold is a breach that names it (``environment=prod``).
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd

from telemetry_kpis.definitions import DEFAULT_BASELINE_PERIODS, HealthMetric, metrics
from telemetry_kpis.evaluate_health import MIN_HISTORY, evaluate_health_metric, robust_z
from telemetry_kpis.formatting import format_value
from telemetry_kpis.marts import SEGMENT_COLUMNS
from telemetry_kpis.results import EPSILON, HealthResult, SegmentScore
from telemetry_kpis.segments import segment_name


def _number(value: object) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def prepare_segments(frame: pd.DataFrame) -> pd.DataFrame:
    """kpi_values_by_segment rows with uniform types (Timestamps, floats, text)."""
    out = frame[list(SEGMENT_COLUMNS)].copy()
    for column in ("metric_name", "grain", "segment", "segment_value"):
        out[column] = out[column].astype(str)
    for column in ("period_start", "period_end"):
        out[column] = pd.to_datetime(out[column]).dt.tz_localize(None).dt.normalize()
    out["value"] = out["value"].map(_number).astype(float)
    out["is_complete"] = out["is_complete"].map(lambda v: bool(v) if pd.notna(v) else False)
    return out.sort_values(["metric_name", "grain", "segment", "segment_value", "period_start"])


def segment_values(segments: pd.DataFrame, metric: str, grain: str, kind: str) -> list[str]:
    """The values a segment kind takes for a metric and grain, sorted."""
    rows = segments[
        (segments["metric_name"] == metric)
        & (segments["grain"] == grain)
        & (segments["segment"] == kind)
    ]
    return sorted(rows["segment_value"].unique())


def segment_series(
    metric_series: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    metric: str,
    grain: str,
    kind: str,
    value: str,
    count: bool,
) -> pd.DataFrame:
    """One segment value's series on the periods of the metric's own series (``series_for``:
    period_start, period_end, value, complete), plus ``present`` (the mart has a row).

    An absent period is 0 for a count, no value (NaN) otherwise.
    """
    rows = segments[
        (segments["metric_name"] == metric)
        & (segments["grain"] == grain)
        & (segments["segment"] == kind)
        & (segments["segment_value"] == value)
    ]
    by_start = dict(zip(rows["period_start"], rows["value"], strict=True))
    out = metric_series[["period_start", "period_end", "complete"]].copy()
    out["present"] = out["period_start"].map(lambda s: s in by_start).astype(bool)
    values = out["period_start"].map(lambda s: by_start.get(s, 0.0 if count else float("nan")))
    out["value"] = values.astype(float)
    return out[["period_start", "period_end", "value", "complete", "present"]].reset_index(
        drop=True
    )


def year_ago(period_start: date, grain: str) -> pd.Timestamp:
    """The start of the period one year earlier: 364 days, 52 weeks or 12 months before."""
    start = pd.Timestamp(period_start)
    if grain == "month":
        return start - pd.DateOffset(months=12)
    return start - pd.Timedelta(days=364)


def changes_in_series(
    series: pd.DataFrame, period_start: date, grain: str
) -> tuple[float | None, float | None, float | None, float | None]:
    """(previous value, change %, year-ago value, YoY change %) of one period of a series,
    by the rules of kpi_values (metrics.md "Period over period"): the period just before and
    the period a year earlier; a change % is null when its reference is null or 0."""
    by_start = dict(zip(series["period_start"], series["value"], strict=True))
    start = pd.Timestamp(period_start)
    current = by_start.get(start)
    earlier = series[series["period_start"] < start]
    previous = earlier["value"].iloc[-1] if len(earlier) else None
    ago = by_start.get(year_ago(period_start, grain))
    return (
        _clean(previous),
        _change_pct(current, previous),
        _clean(ago),
        _change_pct(current, ago),
    )


def _clean(value: object) -> float | None:
    number = _number(value)
    return None if pd.isna(number) else number


def _change_pct(value: object, reference: object) -> float | None:
    current, base = _clean(value), _clean(reference)
    if current is None or base is None or base == 0:
        return None
    return (current - base) / abs(base)


# --- health metrics ---------------------------------------------------------------------------
def evaluate_segment_health(
    hm: HealthMetric,
    metric_series: pd.DataFrame,
    segments: pd.DataFrame | None,
    as_of: date,
) -> HealthResult:
    """A health metric on its metric's series, or on one segment's (``segment:``), with the
    per-segment anomaly scores when ``anomaly.per_segment`` is set.

    ``metric_series`` is the metric's series (``evaluate.series_for``), whose periods and
    completeness a segment series takes; ``segments`` the prepared kpi_values_by_segment rows
    (None: not read, so a segment health metric has no data).
    """
    grain = hm.grain or "day"
    count = metrics()[hm.metric].kind == "count"
    if hm.segment_target is None:
        result = evaluate_health_metric(hm, metric_series, as_of)
    elif segments is None:
        result = evaluate_health_metric(hm, None, as_of)
        result.note = "no data: kpi_values_by_segment not read"
    else:
        kind, value = hm.segment_target
        series = segment_series(
            metric_series,
            segments,
            metric=hm.metric,
            grain=grain,
            kind=kind,
            value=value,
            count=count,
        )
        result = evaluate_health_metric(hm, series, as_of)
        if result.period_start is not None:
            (
                result.previous_value,
                result.pop_change_pct,
                result.year_ago_value,
                result.yoy_change_pct,
            ) = changes_in_series(series, result.period_start, grain)
    if hm.segment_target is not None:
        result.segment = segment_name(*hm.segment_target)
    if hm.anomaly is not None and hm.anomaly.per_segment and result.period_start is not None:
        _segment_anomalies(result, hm, metric_series, segments, count=count)
    return result


def _segment_anomalies(
    result: HealthResult,
    hm: HealthMetric,
    metric_series: pd.DataFrame,
    segments: pd.DataFrame | None,
    *,
    count: bool,
) -> None:
    """Score every value of ``anomaly.per_segment`` on the evaluated period; breaches in."""
    assert hm.anomaly is not None and hm.anomaly.per_segment and result.period_start
    kind, grain = hm.anomaly.per_segment, hm.grain or "day"
    if segments is None:
        result.note = "; ".join(filter(None, [result.note, "per-segment anomaly: not read"]))
        return
    window_size = hm.anomaly.window or DEFAULT_BASELINE_PERIODS[grain]
    start = pd.Timestamp(result.period_start)
    scores = []
    for value in segment_values(segments, hm.metric, grain, kind):
        series = segment_series(
            metric_series,
            segments,
            metric=hm.metric,
            grain=grain,
            kind=kind,
            value=value,
            count=count,
        )
        usable = series[series["complete"] & series["value"].notna()]
        current = usable[usable["period_start"] == start]
        window = usable[usable["period_start"] < start].tail(window_size)
        if current.empty or int(window["present"].sum()) < MIN_HISTORY:
            continue
        current_value = float(current["value"].iloc[0])
        score = robust_z(current_value, window["value"].to_numpy(dtype=float))
        scores.append(SegmentScore(segment_name(kind, value), current_value, score))
    threshold = hm.anomaly.threshold
    beyond = [s for s in scores if abs(s.score) > threshold + EPSILON]
    beyond.sort(key=lambda s: -abs(s.score))
    result.anomaly_segments = beyond
    for item in beyond:
        shown = "inf" if math.isinf(item.score) else f"{item.score:.1f}"
        result.breaches.append(
            f"anomaly in {item.segment}: {format_value(item.value, result.kind)} "
            f"(robust z {shown} beyond ±{threshold:g})"
        )
    if result.breaches:
        result.status = hm.severity
