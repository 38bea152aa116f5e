"""Read the marts that ``kpis check`` and ``kpis report`` need, through SQLAlchemy.

Only fixed statements with bound parameters: nothing a user types ever becomes SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from telemetry_kpis.errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy

    from telemetry_kpis.spark_marts import SparkEngine

    #: What the readers run on: a SQLAlchemy engine, or Spark's (spark_marts).
    MartsEngine = sqlalchemy.Engine | SparkEngine

MARTS_SCHEMA = "marts"


#: The columns of marts.kpi_values: the value of each period, and its change against the
#: period before and against the same period a year earlier (metrics.md "Period over period").
KPI_VALUES_COLUMNS = (
    "metric_name",
    "grain",
    "period_start",
    "period_end",
    "value",
    "is_complete",
    "previous_value",
    "change",
    "change_pct",
    "year_ago_value",
    "yoy_change_pct",
)
#: marts.kpi_values_by_segment: one row per (metric, grain, period, segment kind, value).
SEGMENT_COLUMNS = (
    "metric_name",
    "grain",
    "period_start",
    "period_end",
    "segment",
    "segment_value",
    "value",
    "is_complete",
)
#: marts.kpi_drivers: a metric's change against the previous period, split into parts.
DRIVER_COLUMNS = (
    "metric_name",
    "grain",
    "period_start",
    "period_end",
    "is_complete",
    "driver_kind",
    "driver",
    "value",
    "previous_value",
    "contribution",
    "share_of_change",
    "total_change",
)


def _table(name: str, columns: tuple[str, ...]) -> sqlalchemy.TableClause:
    import sqlalchemy as sa

    return sa.table(name, *(sa.column(c) for c in columns), schema=MARTS_SCHEMA)


def _executions_table() -> sqlalchemy.TableClause:
    import sqlalchemy as sa

    return sa.table("fct_cli_executions", sa.column("started_at"), schema=MARTS_SCHEMA)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _rows(
    engine: MartsEngine, statement: sqlalchemy.Executable, name: str
) -> list[tuple[Any, ...]]:
    """Run a fixed statement; a missing table or column is one line asking for a build."""
    import sqlalchemy as sa

    try:
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
    except sa.exc.DBAPIError as exc:
        raise UserError(
            f"cannot read {MARTS_SCHEMA}.{name} ({_first_line(exc)}): run `kpis build` "
            f"first, or check DBT_TARGET and the KPIS_* variables"
        ) from None
    return [tuple(r) for r in rows]


def _read(
    engine: MartsEngine, statement: sqlalchemy.Select, name: str, columns: tuple[str, ...]
) -> pd.DataFrame:
    """The rows of a fixed statement as a DataFrame (see :func:`_rows`)."""
    import pandas as pd

    return pd.DataFrame(_rows(engine, statement, name), columns=list(columns))


def read_table_rows(
    engine: MartsEngine, name: str, columns: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Every row of ``marts.<name>`` (its ``columns``, in that order), as the engine returns
    them (``kpis export``; the name and columns come from :func:`read_marts_columns`)."""
    import sqlalchemy as sa

    table = _table(name, tuple(columns))
    return _rows(engine, sa.select(*table.c), name)


def read_marts_columns(engine: MartsEngine) -> dict[str, list[str]]:
    """Every table of the marts schema and its columns in order ({} when there is none)."""
    import sqlalchemy as sa

    from telemetry_kpis.spark_marts import SparkEngine

    if isinstance(engine, SparkEngine):
        return engine.table_columns(MARTS_SCHEMA)
    statement = sa.text(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = :schema order by table_name, ordinal_position"
    ).bindparams(schema=MARTS_SCHEMA)
    found: dict[str, list[str]] = {}
    for table, column in _rows(engine, statement, "*"):
        found.setdefault(str(table), []).append(str(column))
    return found


def read_kpi_values(engine: MartsEngine) -> pd.DataFrame:
    """Every row of ``marts.kpi_values`` (a few thousand rows), as the engine returns them.

    Nulls are kept (a rate without a denominator is null); ``evaluate.prepare_kpi_values``
    normalises the types for evaluation.
    """
    import sqlalchemy as sa

    table = _table("kpi_values", KPI_VALUES_COLUMNS)
    statement = sa.select(*table.c).order_by(
        table.c.metric_name, table.c.grain, table.c.period_start
    )
    return _read(engine, statement, "kpi_values", KPI_VALUES_COLUMNS)


def read_kpi_values_by_segment(
    engine: MartsEngine, series: Iterable[tuple[str, str, str]]
) -> pd.DataFrame:
    """The rows of ``marts.kpi_values_by_segment`` of the (metric, grain, segment kind) series
    asked for (bound parameters; nothing read when none is asked for)."""
    import sqlalchemy as sa

    wanted = sorted(set(series))
    table = _table("kpi_values_by_segment", SEGMENT_COLUMNS)
    if not wanted:
        return _empty(SEGMENT_COLUMNS)
    keys = (("metric_name", sa.String()), ("grain", sa.String()), ("segment", sa.String()))
    statement = (
        sa.select(*table.c)
        .where(_any_of(table, keys, wanted))
        .order_by(table.c.metric_name, table.c.grain, table.c.segment, table.c.period_start)
    )
    return _read(engine, statement, "kpi_values_by_segment", SEGMENT_COLUMNS)


def read_kpi_drivers(engine: MartsEngine, periods: Iterable[tuple[str, str, date]]) -> pd.DataFrame:
    """The rows of ``marts.kpi_drivers`` of the (metric, grain, period_start) periods asked
    for (bound parameters).

    Read by every ``kpis check``, like kpi_values: a missing table (marts older than the
    code) is one line asking for ``kpis build``, whether or not a breach needs explaining.
    """
    import sqlalchemy as sa

    wanted = sorted(set(periods))
    table = _table("kpi_drivers", DRIVER_COLUMNS)
    if not wanted:
        # still read (no row): a missing table fails every check alike, not only the one
        # with an alarm to explain
        return _read(engine, sa.select(*table.c).limit(0), "kpi_drivers", DRIVER_COLUMNS)
    keys = (("metric_name", sa.String()), ("grain", sa.String()), ("period_start", sa.Date()))
    statement = (
        sa.select(*table.c)
        .where(_any_of(table, keys, wanted))
        .order_by(table.c.metric_name, table.c.grain, table.c.period_start, table.c.driver_kind)
    )
    return _read(engine, statement, "kpi_drivers", DRIVER_COLUMNS)


def _any_of(
    table: sqlalchemy.TableClause,
    keys: tuple[tuple[str, sqlalchemy.types.TypeEngine], ...],
    wanted: list[tuple],
) -> sqlalchemy.ColumnElement[bool]:
    """Rows whose key columns equal one of the ``wanted`` tuples, every value a bound
    parameter (``k<row>_<column>``)."""
    import sqlalchemy as sa

    return sa.or_(
        *(
            sa.and_(
                *(
                    table.c[column] == sa.bindparam(f"k{i}_{j}", value, type_=type_)
                    for j, ((column, type_), value) in enumerate(zip(keys, row, strict=True))
                )
            )
            for i, row in enumerate(wanted)
        )
    )


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=list(columns))


def read_newest_execution_at(engine: MartsEngine, before: datetime) -> datetime | None:
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
