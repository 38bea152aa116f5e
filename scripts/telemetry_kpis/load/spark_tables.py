"""The raw tables on Spark: parquet tables with the raw contract's columns, and the cleanup
that makes a load atomic without transactions.

Spark's parquet tables have no transactions and no DELETE, so a load is made atomic by its
partitions: raw.snowplow_events is partitioned by ``_load_id`` and
raw.snowplow_events_rejected by ``load_id``, and a load counts once its raw.load_log row
exists, written last. The partitions of a load id without a log row (a load that failed, or
a process killed in the middle of its commit) are dropped by :func:`drop_uncommitted_loads`,
which every load (and ``kpis build``) runs first. One Spark process at a time uses a
warehouse folder (its Derby metastore is locked), so no other load runs meanwhile.

Column names and types follow the contract (text as ``string``); the partition column comes
last in Spark's column order (the dbt models select raw columns by name).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from telemetry_kpis.atomic import (
    RAW_EVENTS_TABLE,
    RAW_LOAD_LOG_TABLE,
    RAW_REJECTED_TABLE,
    RAW_SCHEMA,
)
from telemetry_kpis.errors import UserError
from telemetry_kpis.load.contract import EVENTS, LOAD_LOG, REJECTED, TABLE_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: table -> its partition column (raw.load_log has none: one row per load, written last).
PARTITION_COLUMNS: dict[str, str] = {EVENTS: "_load_id", REJECTED: "load_id"}

_SPARK_TYPES = {"text": "string", "bigint": "bigint", "timestamp": "timestamp"}


def spark_quote(name: str) -> str:
    """A Spark SQL identifier in backticks (some atomic column names are keywords)."""
    return "`" + name.replace("`", "``") + "`"


def spark_ddl() -> list[str]:
    """Statements creating database ``raw`` and its parquet tables when missing."""
    statements = [f"create database if not exists {RAW_SCHEMA}"]
    for table, columns in TABLE_COLUMNS.items():
        name = f"{RAW_SCHEMA}.{table}"
        body = ",\n  ".join(f"{spark_quote(c)} {_SPARK_TYPES[t]}" for c, t in columns.items())
        partition = PARTITION_COLUMNS.get(name)
        partitioned = f" partitioned by ({spark_quote(partition)})" if partition else ""
        statements.append(
            f"create table if not exists {name} (\n  {body}\n) using parquet{partitioned}"
        )
    return statements


def ensure_spark(spark: SparkSession) -> None:
    """Create the raw tables if missing; refuse tables of another shape (one line)."""
    for statement in spark_ddl():
        spark.sql(statement)
    for table in (RAW_EVENTS_TABLE, RAW_REJECTED_TABLE, RAW_LOAD_LOG_TABLE):
        found = set(spark.table(f"{RAW_SCHEMA}.{table}").columns)
        missing = [c for c in TABLE_COLUMNS[table] if c not in found]
        if missing:
            raise UserError(
                f"{RAW_SCHEMA}.{table} exists but lacks column(s) {', '.join(missing[:5])}"
                f"{' ...' if len(missing) > 5 else ''}: it was not created by kpis load; "
                "rename or drop it"
            )


def table_exists(spark: SparkSession, table: str) -> bool:
    return bool(spark.catalog.tableExists(table))


def partition_ids(spark: SparkSession, table: str) -> list[int]:
    """The load ids that have a partition in ``table``."""
    ids = []
    for row in spark.sql(f"show partitions {table}").collect():
        value = str(row[0]).split("=", 1)[1]
        if value.isdigit():
            ids.append(int(value))
    return ids


def committed_load_ids(spark: SparkSession) -> set[int]:
    return {int(r[0]) for r in spark.sql(f"select load_id from {LOAD_LOG}").collect()}


def drop_partition(spark: SparkSession, table: str, load_id: int) -> None:
    column = spark_quote(PARTITION_COLUMNS[table])
    spark.sql(f"alter table {table} drop if exists partition ({column} = {int(load_id)})")


def drop_uncommitted_loads(spark: SparkSession, command: str = "load") -> list[int]:
    """Drop the partitions of load ids without a raw.load_log row; the ids dropped.

    Nothing to do when the raw tables do not exist yet. One line on stderr (from ``kpis
    <command>``) names what was removed.
    """
    if not all(table_exists(spark, t) for t in (*PARTITION_COLUMNS, LOAD_LOG)):
        return []
    committed = committed_load_ids(spark)
    dropped: set[int] = set()
    for table in PARTITION_COLUMNS:
        for load_id in partition_ids(spark, table):
            if load_id not in committed:
                drop_partition(spark, table, load_id)
                dropped.add(load_id)
    if dropped:
        ids = ", ".join(str(i) for i in sorted(dropped))
        print(
            f"kpis {command}: removed the rows of {len(dropped)} unfinished load(s) from the raw "
            f"tables (load id {ids}: no raw.load_log row)",
            file=sys.stderr,
        )
    return sorted(dropped)


def max_load_id(spark: SparkSession) -> int:
    """The largest load id in raw.load_log or a raw partition (0 when none)."""
    ids = [0, *committed_load_ids(spark)]
    for table in PARTITION_COLUMNS:
        ids += partition_ids(spark, table)
    return max(ids)
