"""Key result progress and status, and the whole evaluation: pure functions on DataFrames.

Input: the rows of ``marts.kpi_values`` (``metric_name, grain, period_start, period_end, value,
is_complete``) and the validated definitions. No warehouse, no clock: the as-of date is an
argument, so every status can be pinned by a test.

Key results (``evaluate_key_result``), with ``as_of`` the evaluation date:

* **current value**: the value of the latest *complete* period (``is_complete`` and
  ``period_end <= as_of``) that ends by ``min(as_of, timeframe end)``; when no period is
  complete yet, the period in progress is used and flagged ``partial``.
* **progress** = (current - start) / (target - start): 0 at the start value, 1 at the target,
  the same formula when the target is below the start (lower is better). Not clipped. When
  target = start (hold the line) progress is 1 when the current value is on the good side of
  the target (``direction``; by default the metric's registry direction, higher or lower
  is better), else 0.
* **expected progress** = share of the timeframe elapsed on the day the current value was
  measured (its ``period_end``, or ``as_of`` for a partial period): days since start + 1 over
  the timeframe's days, clipped to [0, 1].
* **projected value**: least-squares line through the last ``trend_periods`` complete values
  (default 28 days / 8 weeks / 3 months; at least 2), evaluated at the timeframe end.
* **status** (first rule that matches):

  ============  =====================================================================
  no data       no value at all for the KR up to the as-of date
  not started   as_of is before the timeframe start
  achieved      progress >= 100 % (in the timeframe, or at its end)
  missed        as_of is after the timeframe end and progress < 100 %
  on track      behind pace by at most 10 points (expected - progress <= 0.10), or the
                projection reaches the target by the end
  at risk       behind pace by at most 25 points
  off track     otherwise
  ============  =====================================================================

Health metrics are evaluated in :mod:`telemetry_kpis.evaluate_health`; the result types are in
:mod:`telemetry_kpis.results` and the display formats in :mod:`telemetry_kpis.formatting`. All
are re-exported here, the module the commands and tests import.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pandas as pd

from telemetry_kpis.dashboards.links import dashboard_url
from telemetry_kpis.definitions import (
    DEFAULT_TREND_PERIODS,
    MANUAL,
    Definitions,
    KeyResult,
    Timeframe,
    metrics,
)
from telemetry_kpis.evaluate_health import MIN_HISTORY, evaluate_health_metric, robust_z
from telemetry_kpis.formatting import format_progress, format_range, format_value
from telemetry_kpis.results import (
    EPSILON,
    KR_STATUSES,
    LEVELS,
    Contributor,
    Evaluation,
    HealthResult,
    KeyResultResult,
    QualityResult,
)

__all__ = [
    "EPSILON",
    "CHANGE_COLUMNS",
    "KPI_COLUMNS",
    "KR_STATUSES",
    "LEVELS",
    "MIN_HISTORY",
    "Evaluation",
    "HealthResult",
    "KeyResultResult",
    "QualityResult",
    "apply_visibility",
    "elapsed_share",
    "evaluate",
    "evaluate_health_metric",
    "evaluate_key_result",
    "format_progress",
    "format_range",
    "format_value",
    "kr_status",
    "linear_projection",
    "manual_series",
    "prepare_kpi_values",
    "redact_contributors",
    "progress_of",
    "robust_z",
    "series_for",
]

ON_TRACK_TOLERANCE = 0.10
AT_RISK_TOLERANCE = 0.25

KPI_COLUMNS = ["metric_name", "grain", "period_start", "period_end", "value", "is_complete"]
#: The period-over-period columns of kpi_values (metrics.md "Period over period"); a change %
#: is a fraction (0.12 = +12 %).
CHANGE_COLUMNS = ["previous_value", "change", "change_pct", "year_ago_value", "yoy_change_pct"]


# --- input normalisation ----------------------------------------------------------------------
def prepare_kpi_values(frame: pd.DataFrame) -> pd.DataFrame:
    """kpi_values rows with uniform types, whatever the engine returned.

    ``period_start``/``period_end`` become Timestamps (midnight), ``value`` and the change
    columns floats (NaN for null; PostgreSQL numerics arrive as Decimal), ``is_complete`` a
    bool (null = False). Change columns a frame lacks (a hand-made table) are null.
    """
    missing = [c for c in KPI_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"kpi_values is missing columns: {', '.join(missing)}")
    out = frame[KPI_COLUMNS].copy()
    out["metric_name"] = out["metric_name"].astype(str)
    out["grain"] = out["grain"].astype(str)
    for column in ("period_start", "period_end"):
        out[column] = pd.to_datetime(out[column]).dt.tz_localize(None).dt.normalize()
    for column in ["value", *CHANGE_COLUMNS]:
        values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index)
        out[column] = pd.to_numeric(
            values.map(lambda v: None if v is None else float(v)), errors="coerce"
        ).astype(float)
    out["is_complete"] = out["is_complete"].map(lambda v: bool(v) if pd.notna(v) else False)
    return out.sort_values(["metric_name", "grain", "period_start"]).reset_index(drop=True)


def series_for(kpi_values: pd.DataFrame, metric: str, grain: str, as_of: date) -> pd.DataFrame:
    """One series up to the as-of date: period_start, period_end, value, complete (and the
    change columns of kpi_values, when it has them).

    ``complete`` means the period is complete in the warehouse *and* ends by ``as_of``.
    """
    as_of_ts = pd.Timestamp(as_of)
    rows = kpi_values[
        (kpi_values["metric_name"] == metric)
        & (kpi_values["grain"] == grain)
        & (kpi_values["period_start"] <= as_of_ts)
    ]
    columns = ["period_start", "period_end", "value"]
    out = rows[columns + [c for c in CHANGE_COLUMNS if c in rows.columns]].copy()
    out["complete"] = rows["is_complete"] & (rows["period_end"] <= as_of_ts)
    return out.sort_values("period_start").reset_index(drop=True)


def manual_series(kr: KeyResult, as_of: date) -> pd.DataFrame:
    """The values entered in the file for a ``kpi: manual`` key result, as a series."""
    points = sorted((v.date, v.value) for v in kr.values or [] if v.date <= as_of)
    stamps = [pd.Timestamp(d) for d, _ in points]
    return pd.DataFrame(
        {
            "period_start": pd.Series(stamps, dtype="datetime64[ns]"),
            "period_end": pd.Series(stamps, dtype="datetime64[ns]"),
            "value": pd.Series([v for _, v in points], dtype=float),
            "complete": pd.Series([True] * len(points), dtype=bool),
        }
    )


# --- key results ------------------------------------------------------------------------------
def progress_of(value: float, start: float, target: float, *, increasing: bool = True) -> float:
    """Share of the way from start to target (works when target < start)."""
    if target == start:
        reached = value >= target if increasing else value <= target
        return 1.0 if reached else 0.0
    return (value - start) / (target - start)


def elapsed_share(day: date, timeframe: Timeframe) -> float:
    """Share of the timeframe elapsed at the end of ``day`` (both ends inclusive), in [0, 1]."""
    total = (timeframe.end - timeframe.start).days + 1
    share = ((day - timeframe.start).days + 1) / total
    return min(max(share, 0.0), 1.0)


def linear_projection(points: pd.DataFrame, at: date) -> float | None:
    """Least-squares line through (period_end, value), evaluated at ``at``; None if < 2 points."""
    points = points.dropna(subset=["value"])
    if len(points) < 2:
        return None
    x = (points["period_end"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float)
    y = points["value"].to_numpy(dtype=float)
    if np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    target_x = float((pd.Timestamp(at) - pd.Timestamp("1970-01-01")).days)
    return float(slope * target_x + intercept)


def kr_status(
    *,
    as_of: date,
    timeframe: Timeframe,
    progress: float | None,
    expected: float | None,
    projected_progress: float | None,
) -> str:
    """The status rules of the module docstring."""
    if progress is None:
        return "no data"
    if as_of < timeframe.start:
        return "not started"
    if progress >= 1 - EPSILON:
        return "achieved"
    if as_of > timeframe.end:
        return "missed"
    behind = (expected or 0.0) - progress
    if behind <= ON_TRACK_TOLERANCE + EPSILON or (
        projected_progress is not None and projected_progress >= 1 - EPSILON
    ):
        return "on track"
    if behind <= AT_RISK_TOLERANCE + EPSILON:
        return "at risk"
    return "off track"


def evaluate_key_result(
    kr: KeyResult,
    timeframe: Timeframe,
    series: pd.DataFrame,
    as_of: date,
    *,
    okr_label: str = "",
) -> KeyResultResult:
    """Progress, pace, projection and status of one key result on its series."""
    kind = "count" if kr.kpi == MANUAL else metrics()[kr.kpi].kind
    result = KeyResultResult(
        key=kr.key,
        okr=kr.okr,
        okr_label=okr_label,
        goal=kr.goal,
        kpi=kr.kpi,
        grain=kr.grain,
        kind=kind,
        visibility=kr.visibility,
        example=kr.example,
        dashboard=dashboard_url(kr.key) or kr.dashboard,
        owner=kr.owner,
        timeframe_start=timeframe.start,
        timeframe_end=timeframe.end,
        as_of=as_of,
        start_value=kr.start_value,
        target_value=kr.target_value,
        direction="increase" if kr.increasing else "decrease",
        series=series,
    )
    cutoff = pd.Timestamp(min(as_of, timeframe.end))
    observed = series[(series["period_start"] <= cutoff) & series["value"].notna()]
    complete = observed[observed["complete"] & (observed["period_end"] <= cutoff)]
    if not complete.empty:
        current = complete.iloc[-1]
        measured_on = current["period_end"].date()
    elif not observed.empty:
        current = observed.iloc[-1]
        measured_on = min(current["period_end"].date(), cutoff.date())
        result.partial = True
        result.note = "period in progress (no complete period yet)"
    else:
        result.note = "no value up to the as-of date"
        return result

    result.current_value = float(current["value"])
    result.measured_on = measured_on
    result.period_start = current["period_start"].date()
    _period_changes(result, current)
    increasing = kr.increasing
    result.progress = progress_of(
        result.current_value, kr.start_value, kr.target_value, increasing=increasing
    )
    result.expected_progress = elapsed_share(measured_on, timeframe)

    default_periods = DEFAULT_TREND_PERIODS.get(kr.grain or "month", 3)
    trend = complete.tail(kr.trend_periods or default_periods)
    result.projected_value = linear_projection(trend, timeframe.end)
    if result.projected_value is not None:
        result.projected_progress = progress_of(
            result.projected_value, kr.start_value, kr.target_value, increasing=increasing
        )
    result.status = kr_status(
        as_of=as_of,
        timeframe=timeframe,
        progress=result.progress,
        expected=result.expected_progress,
        projected_progress=result.projected_progress,
    )
    if measured_on < timeframe.start and not result.note:
        result.note = "latest complete period ends before the timeframe starts"
    return result


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _period_changes(result: KeyResultResult | HealthResult, row: pd.Series) -> None:
    """The kpi_values change columns of the evaluated period into ``result``."""
    result.previous_value = _number(row.get("previous_value"))
    result.pop_change_pct = _number(row.get("change_pct"))
    result.year_ago_value = _number(row.get("year_ago_value"))
    result.yoy_change_pct = _number(row.get("yoy_change_pct"))


def _health_changes(result: HealthResult, series: pd.DataFrame) -> None:
    """The change columns of a (whole-metric) health result's evaluated period."""
    if result.segment is not None or result.period_start is None:
        return
    row = series[series["period_start"] == pd.Timestamp(result.period_start)]
    if len(row):
        _period_changes(result, row.iloc[0])


# --- everything -------------------------------------------------------------------------------
def evaluate(
    definitions: Definitions,
    kpi_values: pd.DataFrame,
    as_of: date,
    *,
    computed: dict[str, float | None] | None = None,
    segments: pd.DataFrame | None = None,
    generated_at: datetime | None = None,
) -> Evaluation:
    """Evaluate every key result and health metric on prepared kpi_values rows.

    ``segments``: prepared kpi_values_by_segment rows, for health metrics on a segment or with
    a per-segment anomaly (``evaluate_segments.prepare_segments``); None when not read.
    """
    from telemetry_kpis.evaluate_segments import evaluate_segment_health

    computed = computed or {}
    key_results = []
    for okr in definitions.okrs:
        for kr in definitions.key_results_of(okr):
            if kr.kpi == MANUAL:
                series = manual_series(kr, as_of)
            else:
                series = series_for(kpi_values, kr.kpi, kr.grain or "", as_of)
            key_results.append(
                evaluate_key_result(
                    kr, definitions.timeframe(kr), series, as_of, okr_label=okr.label
                )
            )
    health = []
    for hm in definitions.health_metrics:
        if hm.computed:
            health.append(
                evaluate_health_metric(hm, None, as_of, computed_value=computed.get(hm.metric))
            )
        else:
            series = series_for(kpi_values, hm.metric, hm.grain or "", as_of)
            result = evaluate_segment_health(hm, series, segments, as_of)
            _health_changes(result, series)
            health.append(result)
    return Evaluation(
        as_of=as_of,
        generated_at=generated_at or datetime.now().astimezone(),
        key_results=key_results,
        health=health,
    )


def redact_contributors(contributors: list[Contributor]) -> list[Contributor]:
    """Names and shares of the change only (the public view of an internal metric)."""
    return [replace(c, value=None, previous_value=None, contribution=None) for c in contributors]


def apply_visibility(evaluation: Evaluation, definitions: Definitions) -> Evaluation:
    """The public view: internal OKRs dropped, internal KR and health values redacted.

    A redacted key result keeps its status, progress and pace; its values (current, start,
    target, projected, previous, year ago) are removed and its series is re-expressed as
    progress (0 = start, 1 = target), so a chart shows the trajectory without the numbers.
    Ratios stay (progress, change %, z-scores, a contributor's share of the change); values go
    (a contributor's value and contribution too).
    """
    public_okrs = {o.name for o in definitions.okrs if o.visibility == "public"}
    key_results = []
    for kr in evaluation.key_results:
        if kr.okr not in public_okrs:
            continue
        if kr.visibility == "internal":
            series = kr.series
            start, target = kr.start_value, kr.target_value
            if series is not None and start is not None and target is not None:
                series = series.copy()
                increasing = kr.direction == "increase"
                series["value"] = [
                    progress_of(v, start, target, increasing=increasing) if pd.notna(v) else np.nan
                    for v in series["value"]
                ]
            kr = replace(
                kr,
                start_value=None,
                target_value=None,
                current_value=None,
                projected_value=None,
                previous_value=None,
                year_ago_value=None,
                contributors=redact_contributors(kr.contributors),
                redacted=True,
                series=series,
            )
        key_results.append(kr)
    health = [
        replace(
            h,
            value=None,
            baseline=None,
            range_min=None,
            range_max=None,
            # a breach names the value: only their number stays
            breaches=[f"{len(h.breaches)} breach(es), values redacted"] if h.breaches else [],
            previous_value=None,
            year_ago_value=None,
            anomaly_segments=[replace(s, value=None) for s in h.anomaly_segments],
            contributors=redact_contributors(h.contributors),
            redacted=True,
            series=None,
        )
        if h.visibility == "internal"
        else h
        for h in evaluation.health
    ]
    return replace(evaluation, key_results=key_results, health=health, public=True)
