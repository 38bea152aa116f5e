"""Values for people, the same in every output (check tables, the report, alerts)."""

from __future__ import annotations

import math

from telemetry_kpis.results import HealthResult


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


#: a change beyond this many percent is shown as ``>+999%`` (the JSON keeps the number)
CHANGE_PCT_SHOWN = 999.95


def format_change_pct(value: float | None) -> str:
    """A change as a signed percentage (a fraction in: 0.12 → ``+12.0%``), ``—`` when null;
    beyond ±999.9 % just ``>+999%`` / ``<-999%`` (a column stays narrow)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    percent = value * 100
    if percent >= CHANGE_PCT_SHOWN:
        return ">+999%"
    if percent <= -CHANGE_PCT_SHOWN:
        return "<-999%"
    return f"{percent:+.1f}%"
