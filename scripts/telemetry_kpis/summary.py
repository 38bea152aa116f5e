"""``kpis summary``: the headline KPIs from ``marts.kpi_values``, as a small table."""

from __future__ import annotations

import argparse

from telemetry_kpis.errors import UserError
from telemetry_kpis.settings import Settings

HELP = "print the headline KPIs of the last months from marts.kpi_values"
DESCRIPTION = """\
Print monthly active projects (the north star), pipeline runs, unique pipelines, new projects,
pipeline success rate and the lifecycle of the last few months from marts.kpi_values on the
configured warehouse. A month still in progress is marked with '*' (evaluated on the as-of date).
"""

#: (metric_name, label, kind) in display order; kind drives formatting.
HEADLINE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("active_projects", "Monthly active projects (MAP)", "count"),
    ("new_active_projects", "  new", "count"),
    ("retained_projects", "  retained", "count"),
    ("reactivated_projects", "  reactivated", "count"),
    ("churned_projects", "  churned", "count"),
    ("new_projects", "New projects", "count"),
    ("pipeline_runs", "Pipeline runs", "count"),
    ("unique_pipelines", "Unique pipelines", "count"),
    ("pipeline_success_rate", "Pipeline success rate", "rate"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--months", type=int, default=4, help="how many months to show (default 4)")


def _format(value: float | None, kind: str) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if kind == "rate":
        return f"{value:.1%}"
    return f"{value:,.0f}"


def run(args: argparse.Namespace) -> int:
    import sqlalchemy

    if args.months < 1:
        raise UserError("--months must be at least 1")
    settings = Settings.from_env()
    engine = settings.engine(must_exist=True)
    query = sqlalchemy.text(
        "select metric_name, period_start, period_end, value, is_complete "
        "from marts.kpi_values where grain = 'month' order by period_start"
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
            daily = connection.execute(
                sqlalchemy.text(
                    "select period_start, value from marts.kpi_values "
                    "where metric_name = 'daily_active_projects' and grain = 'day' "
                    "order by period_start desc limit 1"
                )
            ).first()
    except sqlalchemy.exc.DBAPIError:
        raise UserError(
            f"marts.kpi_values is missing on {settings.describe()}: run `kpis build` first"
        ) from None
    finally:
        engine.dispose()
    if not rows:
        raise UserError("marts.kpi_values is empty: load events with `kpis load`, then build")

    months = sorted({row.period_start for row in rows})[-args.months :]
    complete = {row.period_start: bool(row.is_complete) for row in rows}
    values = {(row.metric_name, row.period_start): row.value for row in rows}
    header = ["KPI"] + [f"{month:%Y-%m}{'' if complete[month] else '*'}" for month in months]
    table = [header]
    for metric, label, kind in HEADLINE_METRICS:
        table.append([label] + [_format(values.get((metric, m)), kind) for m in months])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"KPI summary from {settings.describe()}")
    for index, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))
        if index == 0:
            print("  ".join("-" * width for width in widths))
    if daily is not None:
        print(
            f"\nDaily active projects (28-day window) on {daily.period_start}: "
            f"{_format(daily.value, 'count')}"
        )
    if not all(complete[m] for m in months):
        print("* month in progress, evaluated on the as-of date")
    return 0
