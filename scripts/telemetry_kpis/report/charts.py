"""Charts of the report (matplotlib, Agg backend): PNG bytes, no display, no network."""

from __future__ import annotations

import io
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING

from telemetry_kpis.definitions import metric_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

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


def _y_formatter(kind: str, as_progress: bool) -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    if as_progress or kind == "rate":
        return FuncFormatter(lambda v, _: f"{v * 100:.0f}%")
    if kind == "hours":
        return FuncFormatter(lambda v, _: f"{v:.0f}h")
    return FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.1f}")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def key_result_chart(kr: KeyResultResult) -> bytes:
    """The KR's metric over time with start, target, pace and projection lines."""
    import pandas as pd

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 2.9))
    start, end = pd.Timestamp(kr.timeframe_start), pd.Timestamp(kr.timeframe_end)
    lookback = max(end - start, timedelta(days=60))
    series = kr.series if kr.series is not None else pd.DataFrame()
    if not series.empty:
        series = series[(series["period_end"] >= start - lookback)].dropna(subset=["value"])
    # Redacted KRs come as progress (0 = start, 1 = target).
    start_value = 0.0 if kr.redacted else kr.start_value
    target_value = 1.0 if kr.redacted else kr.target_value
    colour = STATUS_COLOURS.get(kr.status, "#0969da")

    if not series.empty:
        done = series[series["complete"]]
        partial = series[~series["complete"]]
        ax.plot(
            done["period_end"],
            done["value"],
            marker="o",
            markersize=3,
            lw=1.6,
            color="#0969da",
            label=metric_label(kr.kpi) if not kr.redacted else "progress",
        )
        if not partial.empty:
            measured = partial["period_end"].clip(upper=pd.Timestamp(kr.as_of))
            ax.plot(
                measured,
                partial["value"],
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
        anchor_day = pd.Timestamp(kr.measured_on) if kr.measured_on else start
        anchor_value = kr.progress if kr.redacted else kr.current_value
        ax.plot(
            [anchor_day, end],
            [anchor_value, projected],
            color="#fb8500",
            lw=1.2,
            ls="--",
            label="projection",
        )
    ax.axvline(pd.Timestamp(kr.as_of), color="#57606a", lw=0.8, alpha=0.6)
    ax.axvspan(start, end, color="#ddf4ff", alpha=0.5, lw=0)
    ax.yaxis.set_major_formatter(_y_formatter(kr.kind, kr.redacted))
    ax.set_title(f"{kr.goal} — {kr.status}", fontsize=10, color=colour, loc="left")
    ax.grid(alpha=0.25)
    ax.legend(fontsize=7, loc="upper left", ncols=3, frameon=False)
    ax.tick_params(labelsize=8)
    fig.autofmt_xdate()
    return _png(fig)


def health_chart(health: HealthResult) -> bytes:
    """The health metric's recent series with its expected range, baseline and the current point."""
    import pandas as pd

    plt = _pyplot()
    colour = STATUS_COLOURS.get(health.status, "#0969da")
    low, high = health.range_min, health.range_max
    if health.period_end is None:  # a computed value (data freshness): one bar against the range
        fig, ax = plt.subplots(figsize=(7.2, 1.4))
        value = health.value or 0.0
        limit = max(v for v in (value, high or 0.0, 1.0) if v is not None)
        if low is not None or high is not None:
            ax.axvspan(
                low or 0.0,
                high if high is not None else limit * 1.2,
                color="#2da44e",
                alpha=0.12,
                lw=0,
                label="expected range",
            )
        if health.value is not None:
            ax.barh([0], [value], color=colour, height=0.5, label=f"now ({health.status})")
        ax.set_xlim(0, limit * 1.2)
        ax.set_yticks([])
        ax.xaxis.set_major_formatter(_y_formatter(health.kind, False))
    else:
        fig, ax = plt.subplots(figsize=(7.2, 2.5))
        series = health.series if health.series is not None else pd.DataFrame()
        if not series.empty:
            series = series.dropna(subset=["value"])
            keep = {"day": 90, "week": 52, "month": 24}.get(health.grain or "day", 90)
            series = series.tail(keep)
        if not series.empty:
            ax.plot(
                series["period_end"],
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
            ax.plot(
                [pd.Timestamp(health.period_end)],
                [health.value],
                marker="o",
                markersize=7,
                color=colour,
                lw=0,
                label=f"latest ({health.status})",
            )
        ax.yaxis.set_major_formatter(_y_formatter(health.kind, False))
        fig.autofmt_xdate()
    ax.set_title(f"{health.key} — {health.status}", fontsize=10, color=colour, loc="left")
    ax.grid(alpha=0.25)
    ax.legend(fontsize=7, loc="upper left", ncols=4, frameon=False)
    ax.tick_params(labelsize=8)
    return _png(fig)
