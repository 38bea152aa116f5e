"""Charts of the report (matplotlib, Agg backend): PNG bytes, no display, no network."""

from __future__ import annotations

import io
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING

from telemetry_kpis.definitions import metric_label

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from telemetry_kpis.results import HealthResult, KeyResultResult

STATUS_COLOURS = {
    "achieved": "#1a7f37",
    "on track": "#2da44e",
    "at risk": "#bf8700",
    "off track": "#cf222e",
    "missed": "#82071e",
    "not started": "#6e7781",
    "no data": "#6e7781",
    "ok": "#2da44e",
    "warn": "#bf8700",
    "alarm": "#cf222e",
}


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _y_axis(ax: Axes, kind: str, as_progress: bool) -> None:
    """Percent for rates and progress, hours for hours, whole numbers for counts."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if as_progress or kind == "rate":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
    elif kind == "hours":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}h"))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def period_positions(series: pd.DataFrame, as_of: date) -> pd.Series:
    """Where a value is drawn: the middle of its period (of the part up to the as-of date for
    the period in progress), never at the period's end, so a month sits over its own label."""
    import pandas as pd

    end = series["period_end"].clip(upper=pd.Timestamp(as_of))
    return series["period_start"] + (end - series["period_start"]) / 2


def _time_axis(ax: Axes, grain: str | None, positions: pd.Series) -> None:
    """Monthly points get one tick each, labelled by their month ("Sep 2026")."""
    import matplotlib.dates as mdates

    if grain == "month" and 0 < len(positions) <= 24:
        ax.set_xticks(list(positions))
        ax.set_xticklabels([p.strftime("%b %Y") for p in positions])
    else:
        locator = mdates.AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _as_of_line(ax: Axes, as_of: date) -> None:
    import pandas as pd

    ax.axvline(pd.Timestamp(as_of), color="#57606a", lw=0.8, alpha=0.7, label=f"as of {as_of}")
    ax.annotate(
        f"as of {as_of}",
        xy=(pd.Timestamp(as_of), 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(2, -2),
        textcoords="offset points",
        fontsize=7,
        color="#57606a",
        va="top",
    )


def _outside_legend(ax: Axes) -> None:
    """The legend to the right of the plotting area, never over the data."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def key_result_figure(kr: KeyResultResult) -> Figure:
    """The KR's metric over time with start, target, pace and projection lines."""
    import pandas as pd

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.4, 2.9))
    start, end = pd.Timestamp(kr.timeframe_start), pd.Timestamp(kr.timeframe_end)
    lookback = max(end - start, timedelta(days=60))
    series = kr.series if kr.series is not None else pd.DataFrame()
    if not series.empty:
        series = series[(series["period_end"] >= start - lookback)].dropna(subset=["value"])
    # Redacted KRs come as progress (0 = start, 1 = target).
    start_value = 0.0 if kr.redacted else kr.start_value
    target_value = 1.0 if kr.redacted else kr.target_value
    label = metric_label(kr.kpi) if not kr.redacted else "progress"
    positions = pd.Series(dtype="datetime64[ns]")
    if not series.empty:
        positions = period_positions(series, kr.as_of)
        done = series["complete"]
        ax.plot(
            positions[done],
            series["value"][done],
            marker="o",
            markersize=3,
            lw=1.6,
            color="#0969da",
            label=label,
        )
        if (~done).any():
            ax.plot(
                positions[~done],
                series["value"][~done],
                marker="o",
                markersize=4,
                lw=0,
                markerfacecolor="white",
                color="#0969da",
                label="period in progress",
            )
    ax.axhline(start_value, color="#6e7781", lw=1, ls="--", label="start")
    ax.axhline(target_value, color="#1a7f37", lw=1.2, ls="--", label="target")
    ax.plot(
        [start, end], [start_value, target_value], color="#8250df", lw=1.2, ls=":", label="pace"
    )
    if kr.projected_value is not None or (kr.redacted and kr.projected_progress is not None):
        projected = kr.projected_progress if kr.redacted else kr.projected_value
        anchor_value = kr.progress if kr.redacted else kr.current_value
        measured = (
            series[series["period_end"] == pd.Timestamp(kr.measured_on)] if len(series) else series
        )
        anchor_day = period_positions(measured, kr.as_of).iloc[-1] if len(measured) else start
        ax.plot(
            [anchor_day, end],
            [anchor_value, projected],
            color="#fb8500",
            lw=1.2,
            ls="--",
            label="projection",
        )
    _as_of_line(ax, kr.as_of)
    ax.axvspan(start, end, color="#ddf4ff", alpha=0.5, lw=0, label="timeframe")
    _y_axis(ax, kr.kind, kr.redacted)
    _time_axis(ax, kr.grain, positions)
    ax.set_title(
        f"{kr.goal} — {kr.status}",
        fontsize=10,
        color=STATUS_COLOURS.get(kr.status, "#0969da"),
        loc="left",
    )
    ax.grid(alpha=0.25)
    _outside_legend(ax)
    ax.tick_params(labelsize=8)
    return fig


def key_result_chart(kr: KeyResultResult) -> bytes:
    return _png(key_result_figure(kr))


def _gauge(ax: Axes, health: HealthResult, colour: str) -> None:
    """A computed value (data freshness): a thin bar against its expected range and limit."""
    low, high = health.range_min, health.range_max
    value = health.value or 0.0
    limit = max(value, high or 0.0, 1.0)
    if low is not None or high is not None:
        top = high if high is not None else limit * 1.2
        ax.axvspan(low or 0.0, top, color="#2da44e", alpha=0.10, lw=0, label="expected range")
    if high is not None:
        ax.axvline(
            high, color="#cf222e", lw=1, ls="--", label=f"maximum {_value_text(high, health.kind)}"
        )
    if health.value is not None:
        ax.barh([0], [value], color=colour, height=0.35, label="now")
        ax.annotate(
            _value_text(value, health.kind),
            xy=(value, 0),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, limit * 1.25)
    ax.set_ylim(-0.6, 0.6)
    ax.set_yticks([])
    formatter_axis = ax.xaxis
    if health.kind == "hours":
        from matplotlib.ticker import FuncFormatter

        formatter_axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}h"))


def _value_text(value: float, kind: str) -> str:
    return f"{value:.1f}h" if kind == "hours" else f"{value:,.2f}"


def health_figure(health: HealthResult) -> Figure:
    """The health metric's recent series with its expected range, baseline and the latest
    point; a computed value (no series) as a gauge against its range."""
    import pandas as pd

    plt = _pyplot()
    colour = STATUS_COLOURS.get(health.status, "#0969da")
    low, high = health.range_min, health.range_max
    if health.period_end is None:
        fig, ax = plt.subplots(figsize=(8.4, 1.3))
        _gauge(ax, health, colour)
    else:
        fig, ax = plt.subplots(figsize=(8.4, 2.5))
        series = health.series if health.series is not None else pd.DataFrame()
        if not series.empty:
            keep = {"day": 90, "week": 52, "month": 24}.get(health.grain or "day", 90)
            series = series.dropna(subset=["value"]).tail(keep)
        positions = pd.Series(dtype="datetime64[ns]")
        if not series.empty:
            positions = period_positions(series, health.as_of)
            ax.plot(
                positions,
                series["value"],
                lw=1.4,
                color="#0969da",
                label=metric_label(health.metric),
            )
        if low is not None or high is not None:
            bottom, top = ax.get_ylim()
            ax.axhspan(
                low if low is not None else bottom,
                high if high is not None else top,
                color="#2da44e",
                alpha=0.12,
                lw=0,
                label="expected range",
            )
        if health.baseline is not None:
            ax.axhline(health.baseline, color="#6e7781", lw=1, ls="--", label="baseline")
        if health.value is not None:
            latest = series[series["period_end"] == pd.Timestamp(health.period_end)]
            x = (
                period_positions(latest, health.as_of).iloc[-1]
                if len(latest)
                else pd.Timestamp(health.period_end)
            )
            ax.plot(
                [x], [health.value], marker="o", markersize=7, color=colour, lw=0, label="latest"
            )
        _y_axis(ax, health.kind, False)
        _time_axis(ax, health.grain, positions)
    ax.set_title(f"{health.key} — {health.status}", fontsize=10, color=colour, loc="left")
    ax.grid(alpha=0.25)
    _outside_legend(ax)
    ax.tick_params(labelsize=8)
    return fig


def health_chart(health: HealthResult) -> bytes:
    return _png(health_figure(health))
