"""Why a number moved: the top contributors of a metric's change (``marts.kpi_drivers``).

``kpi_drivers`` splits the change of a metric against its previous period into parts: per
segment kind (``environment``, ``os``, ...) one row per segment value, and for
``active_projects`` the ``lifecycle`` parts (new, reactivated, churned, ...). Within one kind
the contributions add up to the change (except for ``unique_pipelines``, whose segment values
overlap). :func:`top_contributors` picks, per kind, the drivers that moved most in the direction
of the change; ``kpis check`` shows them for a breaching health metric or key result and
``kpis report`` draws them for every key result. Pure functions on DataFrames.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from telemetry_kpis.marts import DRIVER_COLUMNS
from telemetry_kpis.results import Contributor
from telemetry_kpis.segments import SEGMENT_KINDS

if TYPE_CHECKING:
    from telemetry_kpis.results import Evaluation, HealthResult, KeyResultResult

LIFECYCLE = "lifecycle"
#: contributors shown per driver kind (the lifecycle parts are all shown)
TOP = 3

_NUMBERS = ("value", "previous_value", "contribution", "share_of_change", "total_change")


def prepare_drivers(frame: pd.DataFrame) -> pd.DataFrame:
    """kpi_drivers rows with uniform types (Timestamps, floats with NaN for null, text)."""
    out = frame[list(DRIVER_COLUMNS)].copy()
    for column in ("metric_name", "grain", "driver_kind", "driver"):
        out[column] = out[column].astype(str)
    for column in ("period_start", "period_end"):
        out[column] = pd.to_datetime(out[column]).dt.tz_localize(None).dt.normalize()
    for column in _NUMBERS:
        out[column] = pd.to_numeric(
            out[column].map(lambda v: None if v is None else float(v)), errors="coerce"
        ).astype(float)
    return out.reset_index(drop=True)


def _kind_order(kind: str) -> tuple[int, str]:
    order = (LIFECYCLE, *SEGMENT_KINDS)
    return (order.index(kind), "") if kind in order else (len(order), kind)


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def top_contributors(
    drivers: pd.DataFrame,
    metric: str,
    grain: str,
    period_start: date | pd.Timestamp,
    n: int = TOP,
) -> list[Contributor]:
    """Per driver kind, the ``n`` drivers that moved most in the direction of the change.

    The direction is the sign of the metric's change (``total_change``): for a rise the
    largest positive contributions first, for a fall the most negative first; drivers that
    moved the other way are left out. With no change (0) the largest contributions either
    way, with no known change (null) none. The ``lifecycle`` parts are all kept, in the same
    order. Kinds come lifecycle first, then in :data:`SEGMENT_KINDS` order.
    """
    rows = drivers[
        (drivers["metric_name"] == metric)
        & (drivers["grain"] == grain)
        & (drivers["period_start"] == pd.Timestamp(period_start))
        & drivers["contribution"].notna()
    ]
    result: list[Contributor] = []
    for kind in sorted(rows["driver_kind"].unique(), key=_kind_order):
        part = rows[rows["driver_kind"] == kind]
        total = part["total_change"].dropna()
        if total.empty:
            continue
        change = float(total.iloc[0])
        sign = 1.0 if change > 0 else -1.0 if change < 0 else 0.0
        if kind != LIFECYCLE:
            part = part[part["contribution"] * sign > 0] if sign else part
            part = part[part["contribution"] != 0]
        key = part["contribution"] * sign if sign else part["contribution"].abs()
        part = part.assign(_key=key).sort_values(["_key", "driver"], ascending=[False, True])
        if kind != LIFECYCLE:
            part = part.head(n)
        result += [
            Contributor(
                driver_kind=kind,
                driver=str(row.driver),
                value=_number(row.value),
                previous_value=_number(row.previous_value),
                contribution=_number(row.contribution),
                share_of_change=_number(row.share_of_change),
            )
            for row in part.itertuples()
        ]
    return result


def latest_complete_start(kr: KeyResultResult) -> date | None:
    """The start of a key result's latest complete period with a value (its series)."""
    if kr.series is None or kr.series.empty:
        return None
    done = kr.series[kr.series["complete"] & kr.series["value"].notna()]
    return None if done.empty else done["period_start"].iloc[-1].date()


def _explained(item: KeyResultResult | HealthResult) -> tuple[str, str, date] | None:
    """(metric, grain, period) whose drivers explain a breaching result, or None."""
    from telemetry_kpis.results import HealthResult

    if not item.breaching or item.period_start is None or not item.grain:
        return None
    if isinstance(item, HealthResult):
        if item.segment is not None:  # the drivers are the whole metric's, not the segment's
            return None
        return item.metric, item.grain, item.period_start
    return item.kpi, item.grain, item.period_start


def driver_keys(evaluation: Evaluation) -> set[tuple[str, str, date]]:
    """The (metric, grain, period_start) rows of kpi_drivers the outputs need: the period of
    every breaching result, and the latest complete period of every key result (the report)."""
    keys = set()
    items: list[KeyResultResult | HealthResult] = [*evaluation.key_results, *evaluation.health]
    for item in items:
        explained = _explained(item)
        if explained:
            keys.add(explained)
    for kr in evaluation.key_results:
        start = latest_complete_start(kr)
        if start is not None and kr.grain:
            keys.add((kr.kpi, kr.grain, start))
    return keys


def attach_contributors(evaluation: Evaluation, drivers: pd.DataFrame) -> None:
    """Fill ``contributors`` of every breaching key result and health metric."""
    items: list[KeyResultResult | HealthResult] = [*evaluation.key_results, *evaluation.health]
    for item in items:
        explained = _explained(item)
        if explained:
            item.contributors = top_contributors(drivers, *explained)


# --- text ---------------------------------------------------------------------------------------
def format_contribution(value: float | None, kind: str) -> str:
    """A signed part of a change: percentage points for a rate, hours, or a count."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "rate":
        return f"{value * 100:+.1f} pp"
    if kind == "hours":
        return f"{value:+.1f}h"
    return f"{value:+,.0f}" if float(value).is_integer() else f"{value:+,.1f}"


def format_share(share: float | None) -> str:
    return "—" if share is None or math.isnan(share) else f"{share * 100:.0f}%"


def describe_contributors(contributors: list[Contributor], kind: str) -> str:
    """``environment=prod -10.2 pp (85% of the change), ...``: one text for every output."""
    parts = []
    for c in contributors:
        amount = "" if c.contribution is None else format_contribution(c.contribution, kind) + " "
        parts.append(f"{c.name} {amount}({format_share(c.share_of_change)})")
    return ", ".join(parts)
