"""``kpis summary``: the headline KPIs from ``marts.kpi_values``, as a small table.

Which metrics, in which order and under which label, is the metric registry's call
(``summary_order`` / ``summary_label`` in ``models/marts/kpis/kpi_values.yml``): monthly
metrics form the table, one column per month; a headline metric without a monthly series is
shown below it with its latest daily value.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date
from typing import Any

from telemetry_kpis.errors import UserError
from telemetry_kpis.registry import Metric, summary_metrics
from telemetry_kpis.settings import Settings

HELP = "print the headline KPIs of the last months from marts.kpi_values"
DESCRIPTION = """\
Print the headline KPIs of the last few months from marts.kpi_values on the configured
warehouse: the metrics the metric registry (models/marts/kpis/kpi_values.yml) marks with a
summary_order, monthly active projects (the north star) first. A month still in progress is
marked with '*' (evaluated on the as-of date).
"""

MONTHS_QUERY = """\
select metric_name, period_start, value, is_complete
from marts.kpi_values where grain = 'month' order by period_start"""

#: The latest day of each series; bound parameters only, for the registry's daily headline
#: metrics.
LATEST_DAY_QUERY = """\
select period_start, value from marts.kpi_values
where metric_name = :metric and grain = 'day'
order by period_start desc limit 1"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--months", type=int, default=4, help="how many months to show (default 4)")


def _format(value: Any, kind: str) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if kind == "rate":
        return f"{float(value):.1%}"
    if kind == "hours":
        return f"{float(value):.1f}h"
    return f"{float(value):,.0f}"


def _label(metric: Metric) -> str:
    return metric.summary_label or metric.label


def _read(
    settings: Settings, daily: Sequence[Metric]
) -> tuple[list[Any], dict[str, tuple[date, Any]]]:
    """The monthly rows (named rows: SQLAlchemy's, or Spark's), and the latest (day, value)
    of each daily headline metric."""
    import sqlalchemy

    engine = settings.marts_engine(must_exist=True)
    try:
        with engine.connect() as connection:
            rows = list(connection.execute(sqlalchemy.text(MONTHS_QUERY)).all())
            latest = {}
            for metric in daily:
                row = connection.execute(
                    sqlalchemy.text(LATEST_DAY_QUERY), {"metric": metric.name}
                ).first()
                if row is not None:
                    latest[metric.name] = (row.period_start, row.value)
    except sqlalchemy.exc.DBAPIError:
        raise UserError(
            f"marts.kpi_values is missing on {settings.describe()}: run `kpis build` first"
        ) from None
    finally:
        engine.dispose()
    return rows, latest


def month_table(rows: Sequence[Any], monthly: Sequence[Metric], months: int) -> tuple[str, bool]:
    """The table of the last ``months`` months, and whether a month in it is in progress."""
    from tabulate import tabulate

    shown = sorted({row.period_start for row in rows})[-months:]
    complete = {row.period_start: bool(row.is_complete) for row in rows}
    values = {(row.metric_name, row.period_start): row.value for row in rows}
    headers = ["KPI"] + [f"{month:%Y-%m}{'' if complete[month] else '*'}" for month in shown]
    body = [
        [_label(metric)] + [_format(values.get((metric.name, m)), metric.kind) for m in shown]
        for metric in monthly
    ]
    text = tabulate(
        body,
        headers,
        tablefmt="simple",
        colalign=("left", *["right"] * len(shown)),
        disable_numparse=True,
        preserve_whitespace=True,  # the registry's summary labels indent the lifecycle rows
    )
    return text, not all(complete[m] for m in shown)


def run(args: argparse.Namespace) -> int:
    if args.months < 1:
        raise UserError("--months must be at least 1")
    headline = summary_metrics()
    monthly = [m for m in headline if "month" in m.grains]
    daily = [m for m in headline if "month" not in m.grains and "day" in m.grains]
    settings = Settings.from_env()
    rows, latest = _read(settings, daily)
    if not rows:
        raise UserError("marts.kpi_values is empty: load events with `kpis load`, then build")
    table, in_progress = month_table(rows, monthly, args.months)
    print(f"KPI summary from {settings.describe()}")
    print(table)
    if latest:
        print()
    for metric in daily:
        if metric.name in latest:
            day, value = latest[metric.name]
            print(f"{_label(metric)} on {day}: {_format(value, metric.kind)}")
    if in_progress:
        print(
            "* month in progress, evaluated on the as-of date: MAP counts projects with a "
            "qualifying execution\n  this month; new/retained/reactivated/churned count "
            "projects active (rolling window) on that day"
        )
    return 0
