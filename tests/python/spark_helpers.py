"""Spark-side steps of test_spark_load.py, each run as its own process (one Spark process per
warehouse folder at a time, and none in the pytest process):

    python spark_helpers.py dump OUT.json          the raw tables, as JSON
    python spark_helpers.py fail-after-insert FILE  a load that fails after inserting its rows
    python spark_helpers.py killed FILE             a load whose process dies in the same place

The warehouse is the one of the environment (DBT_TARGET=spark, KPIS_SPARK_DIR).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from telemetry_kpis.load import LoadFailed, load_files
from telemetry_kpis.load.contract import TABLE_COLUMNS
from telemetry_kpis.load.spark_writer import SparkWriter
from telemetry_kpis.settings import Settings
from telemetry_kpis.spark_session import spark_session

#: Columns whose values are the moment of the load (they differ between two loads).
LOAD_MOMENTS = {"_loaded_at", "rejected_at", "loaded_at"}


def compared_columns(table: str) -> list[str]:
    return [c for c in TABLE_COLUMNS[table] if c not in LOAD_MOMENTS]


def _select(table: str, micros: str) -> str:
    """The compared columns of raw.<table>, timestamps as epoch microseconds (``micros``)."""
    types = TABLE_COLUMNS[table]
    columns = [
        f"{micros}(`{c}`)" if types[c] == "timestamp" else f"`{c}`" for c in compared_columns(table)
    ]
    return f"select {', '.join(columns)} from raw.{table}"


def dump(out: Path) -> None:
    spark = spark_session(Settings.from_env())
    tables = {
        t: [list(r) for r in spark.sql(_select(t, "unix_micros")).collect()] for t in TABLE_COLUMNS
    }
    partitions = {
        t: sorted(str(r[0]) for r in spark.sql(f"show partitions raw.{t}").collect())
        for t in ("snowplow_events", "snowplow_events_rejected")
    }
    out.write_text(json.dumps({"tables": tables, "partitions": partitions}))


class FailingWriter(SparkWriter):
    """Fails after the load's rows and rejects are in the raw tables, before its log row."""

    def _write_log(self, row) -> None:  # noqa: ANN001
        events = self.spark.sql(
            f"select count(*) from raw.snowplow_events where _load_id = {self._load_id}"
        ).collect()[0][0]
        print(f"inserted {events} rows of load {self._load_id}", flush=True)
        if sys.argv[1] == "killed":
            os._exit(3)  # no rollback, no cleanup: as if the process were killed
        raise RuntimeError("simulated failure after the insert")


def failing_load(path: Path) -> None:
    try:
        load_files(Settings.from_env(), [path], progress=False, writer_factory=FailingWriter)
    except (RuntimeError, LoadFailed) as exc:
        print(f"failed: {exc}")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "dump":
        dump(Path(sys.argv[2]))
    elif command in ("fail-after-insert", "killed"):
        failing_load(Path(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {command}")
