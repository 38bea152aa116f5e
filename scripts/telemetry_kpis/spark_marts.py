"""Reading the marts on Spark with the SQLAlchemy statements the other targets run.

:class:`SparkEngine` is the small part of a SQLAlchemy ``Engine`` the marts readers use
(``connect()`` as a context manager, ``execute(statement, parameters)`` with ``all()``,
``first()`` and ``scalar()``, ``dispose()``). A statement is compiled to Spark SQL text:
identifiers in backticks (the MySQL dialect's quoting, which Spark shares) and every bound
value rendered as a Spark literal by :func:`spark_literal` (strings escaped, dates and
timestamps typed), then run with ``spark.sql``. So ``marts.py`` keeps one query per mart for
every target. Errors are :class:`SparkQueryError`, a ``sqlalchemy.exc.DBAPIError``, which
the readers already turn into one line asking for ``kpis build``.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from telemetry_kpis.errors import WarehouseUnavailable

if TYPE_CHECKING:
    from pyspark.sql import Row, SparkSession
    from sqlalchemy.engine.interfaces import Dialect
    from sqlalchemy.sql.expression import Executable

    from telemetry_kpis.settings import Settings


class SparkQueryError(sa.exc.DBAPIError):
    """A Spark error while running a marts statement (``orig`` is Spark's exception)."""


def spark_literal(value: Any) -> str:
    """A Python value as a Spark SQL literal (naive datetimes are UTC, the session zone)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"CAST('{value}' AS DOUBLE)"
    if isinstance(value, Decimal):
        return f"CAST('{value}' AS DECIMAL(38, 18))"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


@functools.cache
def spark_dialect() -> Dialect:
    """A SQLAlchemy dialect whose SQL Spark runs: backtick quoting, Spark literals."""
    from sqlalchemy.dialects.mysql.base import MySQLCompiler, MySQLDialect

    class SparkCompiler(MySQLCompiler):
        def render_literal_value(self, value: Any, type_: Any) -> str:
            return spark_literal(value)

    class SparkDialect(MySQLDialect):
        statement_compiler = SparkCompiler

    return SparkDialect()


def compile_spark(statement: Executable) -> str:
    """The statement as Spark SQL text, its bound values inlined as literals."""
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=spark_dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def _utc_rows(rows: list[Row], timestamp_fields: list[str]) -> list[Row]:
    """Spark returns a ``timestamp`` (with the session zone, UTC) as local wall-clock time:
    back to naive UTC, as the other targets give it."""
    if not timestamp_fields:
        return rows
    from pyspark.sql import Row

    fixed = []
    for row in rows:
        values = row.asDict()
        for name in timestamp_fields:
            if isinstance(values[name], datetime):
                values[name] = values[name].astimezone(UTC).replace(tzinfo=None)
        fixed.append(Row(**values))
    return fixed


class SparkResult:
    """The rows of a statement (all fetched: marts reads are small)."""

    def __init__(self, rows: list[Row]) -> None:
        self._rows = rows

    def all(self) -> list[Row]:
        return list(self._rows)

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


class SparkConnection:
    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> SparkResult:
        from pyspark.errors import PySparkException
        from pyspark.sql.types import TimestampType

        if parameters:
            bind = getattr(statement, "bindparams", None) or statement.params  # type: ignore[attr-defined]
            statement = bind(**parameters)
        sql = compile_spark(statement)
        try:
            frame = self.spark.sql(sql)
            rows = frame.collect()
        except PySparkException as exc:
            raise SparkQueryError(sql, None, exc) from None
        stamps = [f.name for f in frame.schema.fields if isinstance(f.dataType, TimestampType)]
        return SparkResult(_utc_rows(rows, stamps))


class SparkEngine:
    """The marts readers' engine on Spark: this process's session (see spark_session)."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    @classmethod
    def start(cls, settings: Settings, *, must_exist: bool = True) -> SparkEngine:
        from telemetry_kpis.spark_session import spark_session

        if must_exist and not (settings.spark_dir / "metastore_db").is_dir():
            raise WarehouseUnavailable(
                f"Spark warehouse {settings.spark_dir} does not exist: load events with "
                "`kpis load` and run `kpis build` first, or point KPIS_SPARK_DIR at your "
                "warehouse folder"
            )
        return cls(spark_session(settings))

    @contextlib.contextmanager
    def connect(self) -> Iterator[SparkConnection]:
        yield SparkConnection(self.spark)

    def dispose(self) -> None:
        """Nothing to release: the session ends with the process."""

    def table_columns(self, schema: str) -> dict[str, list[str]]:
        """table -> its columns in order, for every table of ``schema`` ({} if none)."""
        if not self.spark.catalog.databaseExists(schema):
            return {}
        return {
            table.name: [c.name for c in self.spark.catalog.listColumns(f"{schema}.{table.name}")]
            for table in self.spark.catalog.listTables(schema)
        }
