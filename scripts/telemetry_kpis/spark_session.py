"""The local Spark session of ``DBT_TARGET=spark``: the same settings as dbt's (profiles.yml).

dbt-spark's session method starts Spark inside the dbt process with the profile's
``server_side_parameters``; ``kpis load``, ``check``, ``summary``, ``report`` and ``export`` start
one in their own process with :func:`spark_conf`, so both see the same Hive metastore (Derby,
one process at a time) and the same tables under ``KPIS_SPARK_DIR``.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from telemetry_kpis.errors import UserError, WarehouseUnavailable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from telemetry_kpis.settings import Settings

SETUP_HINT = "run `make setup-spark` (pyspark in .venv; needs Java 17)"


def spark_conf(settings: Settings) -> dict[str, str]:
    """The Spark settings of profiles.yml's ``spark`` target (a test keeps them equal)."""
    env = settings.env
    folder = settings.spark_dir
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.variant.allowDuplicateKeys": "true",
        "spark.sql.warehouse.dir": f"{folder}/spark-warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={folder}/metastore_db;create=true"
        ),
        "spark.driver.memory": env.get("KPIS_SPARK_DRIVER_MEMORY", "2g"),
        "spark.sql.shuffle.partitions": env.get("KPIS_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.ui.enabled": "false",
    }


def spark_session(settings: Settings) -> SparkSession:
    """Start (or reuse) this process's Spark session on the target's warehouse folder."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError(
            f"DBT_TARGET=spark needs pyspark, which is not installed: {SETUP_HINT}"
        ) from None
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise UserError(f"DBT_TARGET=spark needs Java 17, which is not on PATH: {SETUP_HINT}")
    settings.spark_dir.mkdir(parents=True, exist_ok=True)
    # Derby writes derby.log into the current folder unless told otherwise.
    os.environ.setdefault(
        "SPARK_SUBMIT_OPTS", f"-Dderby.stream.error.file={settings.spark_dir}/derby.log"
    )
    builder = SparkSession.builder.appName("telemetry-kpis").enableHiveSupport()
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM's errors vary; the first line says what failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseUnavailable(
            f"cannot start Spark on {settings.spark_dir}: {first} (another process may hold "
            "its metastore: one Spark process per KPIS_SPARK_DIR at a time)"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session
