"""Key result progress and status, health checks: pure functions on pandas DataFrames.

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

Health metrics (``evaluate_health_metric``), on the latest complete period with a value:

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
  skipped (noted, not a breach).
* **status**: ``ok``; a breach raises the metric's ``severity`` (``warn`` or ``alarm``); no value
  at all is ``warn`` ("no data").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from telemetry_kpis.definitions import (
    DEFAULT_BASELINE_PERIODS,
    DEFAULT_TREND_PERIODS,
    MANUAL,
    Definitions,
    HealthMetric,
    KeyResult,
    Timeframe,
    metrics,
)

ON_TRACK_TOLERANCE = 0.10
AT_RISK_TOLERANCE = 0.25
MIN_HISTORY = 3
MAD_SCALE = 0.6745
MEAN_AD_SCALE = 1.253314
EPSILON = 1e-9

KR_STATUSES = ("no data", "not started", "achieved", "missed", "on track", "at risk", "off track")
LEVELS = ("ok", "warn", "alarm")

KPI_COLUMNS = ["metric_name", "grain", "period_start", "period_end", "value", "is_complete"]


# --- input normalisation ----------------------------------------------------------------------
def prepare_kpi_values(frame: pd.DataFrame) -> pd.DataFrame:
    """kpi_values rows with uniform types, whatever the engine returned.

    ``period_start``/``period_end`` become Timestamps (midnight), ``value`` a float (NaN for
    null; PostgreSQL numerics arrive as Decimal), ``is_complete`` a bool (null = False).
    """
    missing = [c for c in KPI_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"kpi_values is missing columns: {', '.join(missing)}")
    out = frame[KPI_COLUMNS].copy()
    out["metric_name"] = out["metric_name"].astype(str)
    out["grain"] = out["grain"].astype(str)
    for column in ("period_start", "period_end"):
        out[column] = pd.to_datetime(out[column]).dt.tz_localize(None).dt.normalize()
    out["value"] = pd.to_numeric(
        out["value"].map(lambda v: None if v is None else float(v)), errors="coerce"
    ).astype(float)
    out["is_complete"] = out["is_complete"].map(lambda v: bool(v) if pd.notna(v) else False)
    return out.sort_values(["metric_name", "grain", "period_start"]).reset_index(drop=True)


def series_for(kpi_values: pd.DataFrame, metric: str, grain: str, as_of: date) -> pd.DataFrame:
    """One series up to the as-of date: period_start, period_end, value, complete.

    ``complete`` means the period is complete in the warehouse *and* ends by ``as_of``.
    """
    as_of_ts = pd.Timestamp(as_of)
    rows = kpi_values[
        (kpi_values["metric_name"] == metric)
        & (kpi_values["grain"] == grain)
        & (kpi_values["period_start"] <= as_of_ts)
    ]
    out = rows[["period_start", "period_end", "value"]].copy()
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


# --- results ----------------------------------------------------------------------------------
@dataclass
class KeyResultResult:
    key: str
    okr: str
    okr_label: str
    goal: str
    kpi: str
    grain: str | None
    kind: str
    visibility: str
    example: bool
    dashboard: str
    owner: str | None
    timeframe_start: date
    timeframe_end: date
    as_of: date
    start_value: float | None
    target_value: float | None
    direction: str = "increase"
    current_value: float | None = None
    measured_on: date | None = None
    partial: bool = False
    progress: float | None = None
    expected_progress: float | None = None
    projected_value: float | None = None
    projected_progress: float | None = None
    status: str = "no data"
    note: str = ""
    redacted: bool = False
    series: pd.DataFrame | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(replace(self, series=None))
        data.pop("series")
        return _jsonable(data)


@dataclass
class HealthResult:
    key: str
    metric: str
    grain: str | None
    kind: str
    severity: str
    runbook: str
    visibility: str
    as_of: date
    period_start: date | None = None
    period_end: date | None = None
    value: float | None = None
    range_min: float | None = None
    range_max: float | None = None
    baseline: float | None = None
    change_pct: float | None = None
    max_drop_pct: float | None = None
    max_rise_pct: float | None = None
    anomaly_score: float | None = None
    anomaly_threshold: float | None = None
    status: str = "ok"
    breaches: list[str] = field(default_factory=list)
    note: str = ""
    redacted: bool = False
    series: pd.DataFrame | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(replace(self, series=None))
        data.pop("series")
        return _jsonable(data)


@dataclass
class QualityResult:
    """One data-quality expectation (filled by quality.py); a failure is an alarm."""

    name: str
    description: str
    success: bool
    checked: int = 0
    failed: int = 0
    details: str = ""

    @property
    def status(self) -> str:
        return "ok" if self.success else "alarm"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


@dataclass
class Evaluation:
    as_of: date
    generated_at: datetime
    key_results: list[KeyResultResult]
    health: list[HealthResult]
    quality: list[QualityResult] = field(default_factory=list)
    quality_ran: bool = False
    public: bool = False

    @property
    def level(self) -> str:
        """Worst of the health statuses and the data-quality results: ok, warn or alarm."""
        statuses = [h.status for h in self.health] + [q.status for q in self.quality]
        return max(statuses, key=LEVELS.index, default="ok")

    @property
    def alarms(self) -> list[HealthResult | QualityResult]:
        return [h for h in self.health if h.status == "alarm"] + [
            q for q in self.quality if not q.success
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "level": self.level,
            "public": self.public,
            "key_results": [k.to_dict() for k in self.key_results],
            "health_metrics": [h.to_dict() for h in self.health],
            "quality": [q.to_dict() for q in self.quality] if self.quality_ran else None,
        }


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        out[key] = value
    return out


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
        dashboard=kr.dashboard,
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


# --- health metrics ---------------------------------------------------------------------------
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


def _fmt(value: float, kind: str) -> str:
    return format_value(value, kind)


def evaluate_health_metric(
    hm: HealthMetric,
    series: pd.DataFrame | None,
    as_of: date,
    *,
    computed_value: float | None = None,
) -> HealthResult:
    """Range, change vs baseline and anomaly score of one health metric; ok / warn / alarm."""
    # a computed metric shares its name, and so its kind, with the published series
    info = metrics()[hm.metric]
    rng = hm.expected_range
    result = HealthResult(
        key=hm.key,
        metric=hm.metric,
        grain=hm.grain,
        kind=info.kind,
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
    notes: list[str] = []
    history = np.array([], dtype=float)
    if hm.computed:
        if computed_value is None:
            result.status = "warn"
            result.note = "no data"
            return result
        value = float(computed_value)
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
        value = float(current["value"])
        result.period_start = current["period_start"].date()
        result.period_end = current["period_end"].date()
        history = usable["value"].iloc[:-1].to_numpy(dtype=float)
    result.value = value
    kind = info.kind

    if rng is not None:
        if rng.min is not None and value < rng.min - EPSILON:
            result.breaches.append(f"{_fmt(value, kind)} below the minimum {_fmt(rng.min, kind)}")
        if rng.max is not None and value > rng.max + EPSILON:
            result.breaches.append(f"{_fmt(value, kind)} above the maximum {_fmt(rng.max, kind)}")

    grain = hm.grain or "day"
    if hm.max_drop_pct is not None or hm.max_rise_pct is not None:
        window = history[-(hm.baseline_periods or DEFAULT_BASELINE_PERIODS[grain]) :]
        if len(window) < MIN_HISTORY:
            notes.append(f"baseline skipped ({len(window)} earlier periods, need {MIN_HISTORY})")
        else:
            baseline = float(np.median(window))
            result.baseline = baseline
            if abs(baseline) <= EPSILON:
                notes.append("change undefined (baseline is 0)")
            else:
                change = (value - baseline) / abs(baseline) * 100
                result.change_pct = change
                if hm.max_drop_pct is not None and change < -hm.max_drop_pct - EPSILON:
                    result.breaches.append(
                        f"dropped {-change:.1f}% vs the baseline {_fmt(baseline, kind)} "
                        f"(max {hm.max_drop_pct:g}%)"
                    )
                if hm.max_rise_pct is not None and change > hm.max_rise_pct + EPSILON:
                    result.breaches.append(
                        f"rose {change:.1f}% vs the baseline {_fmt(baseline, kind)} "
                        f"(max {hm.max_rise_pct:g}%)"
                    )

    if hm.anomaly is not None:
        window = history[-(hm.anomaly.window or DEFAULT_BASELINE_PERIODS[grain]) :]
        if len(window) < MIN_HISTORY:
            notes.append(f"anomaly skipped ({len(window)} earlier periods, need {MIN_HISTORY})")
        else:
            score = robust_z(value, window)
            result.anomaly_score = score
            if abs(score) > hm.anomaly.threshold + EPSILON:
                shown = "inf" if math.isinf(score) else f"{score:.1f}"
                result.breaches.append(
                    f"anomaly: robust z {shown} beyond ±{hm.anomaly.threshold:g}"
                )

    result.status = hm.severity if result.breaches else "ok"
    result.note = "; ".join(notes)
    return result


# --- everything -------------------------------------------------------------------------------
def evaluate(
    definitions: Definitions,
    kpi_values: pd.DataFrame,
    as_of: date,
    *,
    computed: dict[str, float | None] | None = None,
    generated_at: datetime | None = None,
) -> Evaluation:
    """Evaluate every key result and health metric on prepared kpi_values rows."""
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
            health.append(evaluate_health_metric(hm, series, as_of))
    return Evaluation(
        as_of=as_of,
        generated_at=generated_at or datetime.now().astimezone(),
        key_results=key_results,
        health=health,
    )


def apply_visibility(evaluation: Evaluation, definitions: Definitions) -> Evaluation:
    """The public view: internal OKRs dropped, internal KR and health values redacted.

    A redacted key result keeps its status, progress and pace; its values (current, start,
    target, projected) are removed and its series is re-expressed as progress (0 = start,
    1 = target), so a chart shows the trajectory without the numbers.
    """
    public_okrs = {o.name for o in definitions.okrs if o.visibility == "public"}
    key_results = []
    for kr in evaluation.key_results:
        if kr.okr not in public_okrs:
            continue
        if kr.visibility == "internal":
            series = kr.series
            if series is not None and kr.start_value is not None:
                series = series.copy()
                increasing = kr.direction == "increase"
                series["value"] = [
                    progress_of(v, kr.start_value, kr.target_value, increasing=increasing)
                    if pd.notna(v)
                    else np.nan
                    for v in series["value"]
                ]
            kr = replace(
                kr,
                start_value=None,
                target_value=None,
                current_value=None,
                projected_value=None,
                redacted=True,
                series=series,
            )
        key_results.append(kr)
    health = [
        replace(
            h, value=None, baseline=None, range_min=None, range_max=None, redacted=True, series=None
        )
        if h.visibility == "internal"
        else h
        for h in evaluation.health
    ]
    return replace(evaluation, key_results=key_results, health=health, public=True)


# --- display ----------------------------------------------------------------------------------
def format_value(value: float | None, kind: str) -> str:
    """A value for people: counts with separators, rates as %, hours with one decimal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f}h"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def format_progress(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.0f}%"


def format_range(health: HealthResult) -> str:
    """``[min, max]``, ``>= min``, ``<= max`` or ``—``."""
    low, high = health.range_min, health.range_max
    if low is not None and high is not None:
        return f"[{format_value(low, health.kind)}, {format_value(high, health.kind)}]"
    if low is not None:
        return f">= {format_value(low, health.kind)}"
    if high is not None:
        return f"<= {format_value(high, health.kind)}"
    return "—"
