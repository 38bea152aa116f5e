"""Read the marts that ``kpis check`` and ``kpis report`` need, through SQLAlchemy.

Only fixed statements with bound parameters: nothing a user types ever becomes SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from telemetry_kpis.errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy

MARTS_SCHEMA = "marts"


def _kpi_values_table() -> sqlalchemy.TableClause:
    import sqlalchemy as sa

    return sa.table(
        "kpi_values",
        sa.column("metric_name"),
        sa.column("grain"),
        sa.column("period_start"),
        sa.column("period_end"),
        sa.column("value"),
        sa.column("is_complete"),
        schema=MARTS_SCHEMA,
    )


def _executions_table() -> sqlalchemy.TableClause:
    import sqlalchemy as sa

    return sa.table("fct_cli_executions", sa.column("started_at"), schema=MARTS_SCHEMA)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_kpi_values(engine: sqlalchemy.Engine) -> pd.DataFrame:
    """Every row of ``marts.kpi_values`` (a few thousand rows), as the engine returns them.

    Nulls are kept (a rate without a denominator is null); ``evaluate.prepare_kpi_values``
    normalises the types for evaluation.
    """
    import pandas as pd
    import sqlalchemy as sa

    table = _kpi_values_table()
    statement = sa.select(*table.c).order_by(
        table.c.metric_name, table.c.grain, table.c.period_start
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
    except sa.exc.DBAPIError as exc:
        raise UserError(
            f"cannot read {MARTS_SCHEMA}.kpi_values ({_first_line(exc)}): run `kpis build` "
            f"first, or check DBT_TARGET and the KPIS_* variables"
        ) from None
    return pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["metric_name", "grain", "period_start", "period_end", "value", "is_complete"],
    )


def read_newest_execution_at(engine: sqlalchemy.Engine, before: datetime) -> datetime | None:
    """``max(started_at)`` of ``marts.fct_cli_executions`` before ``before`` (naive UTC).

    None when the table is empty or missing (the freshness check then reports "no data").
    """
    import sqlalchemy as sa

    table = _executions_table()
    statement = sa.select(sa.func.max(table.c.started_at)).where(
        table.c.started_at < sa.bindparam("before", before, type_=sa.DateTime())
    )
    try:
        with engine.connect() as connection:
            value = connection.execute(statement).scalar()
    except sa.exc.DBAPIError:
        return None
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if getattr(value, "tzinfo", None) is not None:
        from datetime import UTC

        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
