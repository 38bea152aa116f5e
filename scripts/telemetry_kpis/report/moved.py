"""The report's "What moved" and stickiness: what to show (pure) and the figures (matplotlib).

Figures are built by functions that return them, so tests read bars, labels and lines without
looking at pixels; ``charts._png`` turns them into the page's PNG images.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from telemetry_kpis.definitions import metric_label, metrics
from telemetry_kpis.report.charts import _png, _pyplot, _time_axis, period_positions

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from telemetry_kpis.results import Contributor, KeyResultResult

STICKINESS = "stickiness"
#: days of the daily stickiness series drawn
STICKINESS_DAYS = 90
RISE, FALL = "#2da44e", "#cf222e"


@dataclass(frozen=True)
class WhatMoved:
    """The top contributions to a key result's change in its latest complete period."""

    key: str
    label: str
    period_start: date
    kind: str
    redacted: bool  # shares of the change instead of values (public view, internal KR)
    contributors: list[Contributor]

    @property
    def caption(self) -> str:
        unit = "share of the change" if self.redacted else "contribution to the change"
        return (
            f"What moved: {self.label}, period starting {self.period_start} vs the one before "
            f"({unit}; top 3 per segment kind, every lifecycle part)"
        )


def what_moved(kr: KeyResultResult, drivers: pd.DataFrame | None) -> WhatMoved | None:
    """The key result's "What moved", or None without drivers for its latest complete period."""
    from telemetry_kpis.drivers import latest_complete_start, top_contributors
    from telemetry_kpis.evaluate import redact_contributors

    start = latest_complete_start(kr)
    if drivers is None or start is None or not kr.grain:
        return None
    contributors = top_contributors(drivers, kr.kpi, kr.grain, start)
    if not contributors:
        return None
    if kr.redacted:
        contributors = redact_contributors(contributors)
    return WhatMoved(kr.key, metric_label(kr.kpi), start, kr.kind, kr.redacted, contributors)


def bar_values(moved: WhatMoved) -> list[float]:
    """One bar per contributor: its contribution, or its share of the change when redacted."""
    if moved.redacted:
        return [c.share_of_change or 0.0 for c in moved.contributors]
    return [c.contribution or 0.0 for c in moved.contributors]


def what_moved_figure(moved: WhatMoved) -> Figure:
    """Horizontal bars, the first contributor on top; rises green, falls red; each bar labelled
    with its formatted value."""
    from matplotlib.ticker import FuncFormatter

    from telemetry_kpis.drivers import format_contribution, format_share

    plt = _pyplot()
    values = bar_values(moved)
    names = [c.name for c in moved.contributors]
    fig, ax = plt.subplots(figsize=(8.4, 0.5 + 0.28 * len(values)))
    positions = list(range(len(values)))[::-1]  # the first contributor on top
    ax.barh(positions, values, color=[RISE if v >= 0 else FALL for v in values], height=0.6)
    ax.set_yticks(positions)
    ax.set_yticklabels(names, fontsize=8)
    ax.axvline(0, color="#57606a", lw=0.8)
    for y, value, c in zip(positions, values, moved.contributors, strict=True):
        text = format_share(value) if moved.redacted else format_contribution(value, moved.kind)
        if not moved.redacted:
            text += f" ({format_share(c.share_of_change)})"
        ax.annotate(
            text,
            xy=(value, y),
            xytext=(4 if value >= 0 else -4, 0),
            textcoords="offset points",
            ha="left" if value >= 0 else "right",
            va="center",
            fontsize=7,
        )
    if moved.redacted or moved.kind == "rate":
        scale = 100
        suffix = "%" if moved.redacted else " pp"
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * scale:+.0f}{suffix}"))
    ax.margins(x=0.25)
    ax.set_title(f"What moved — {moved.label} ({moved.period_start})", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.25)
    ax.tick_params(labelsize=8)
    return fig


def what_moved_chart(moved: WhatMoved) -> bytes:
    return _png(what_moved_figure(moved))


# --- stickiness -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stickiness:
    """Stickiness for the report: the latest monthly value and the daily series."""

    label: str
    month: str | None  # YYYY-MM of the latest complete month
    monthly: float | None
    month_change_pct: float | None
    daily: pd.DataFrame  # series_for rows of the daily grain, the last STICKINESS_DAYS
    as_of: date


def stickiness(kpi_values: pd.DataFrame | None, as_of: date) -> Stickiness | None:
    """None when the registry or the marts have no stickiness (or no kpi_values was read)."""
    from telemetry_kpis.evaluate import series_for

    metric = metrics().get(STICKINESS)
    if kpi_values is None or metric is None:
        return None
    months = series_for(kpi_values, STICKINESS, "month", as_of)
    days = series_for(kpi_values, STICKINESS, "day", as_of)
    if months.empty and days.empty:
        return None
    done = months[months["complete"] & months["value"].notna()]
    latest = done.iloc[-1] if len(done) else None
    change = latest.get("change_pct") if latest is not None else None
    return Stickiness(
        label=metric.label,
        month=latest["period_start"].strftime("%Y-%m") if latest is not None else None,
        monthly=float(latest["value"]) if latest is not None else None,
        month_change_pct=None if change is None or change != change else float(change),
        daily=days.dropna(subset=["value"]).tail(STICKINESS_DAYS),
        as_of=as_of,
    )


def stickiness_figure(data: Stickiness) -> Figure:
    """The daily series, with the latest monthly value as a dashed line."""
    import pandas as pd

    from telemetry_kpis.report.charts import _outside_legend, _y_axis

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.4, 2.5))
    positions = pd.Series(dtype="datetime64[ns]")
    if not data.daily.empty:
        positions = period_positions(data.daily, data.as_of)
        ax.plot(positions, data.daily["value"], lw=1.4, color="#0969da", label="daily")
    if data.monthly is not None:
        ax.axhline(data.monthly, color="#8250df", lw=1.2, ls="--", label=f"month {data.month}")
    _y_axis(ax, "rate", False)
    _time_axis(ax, "day", positions)
    ax.set_title(data.label, fontsize=10, loc="left")
    ax.grid(alpha=0.25)
    _outside_legend(ax)
    ax.tick_params(labelsize=8)
    return fig


def stickiness_chart(data: Stickiness) -> bytes:
    return _png(stickiness_figure(data))
