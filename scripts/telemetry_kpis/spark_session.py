"""The local Spark session of ``DBT_TARGET=spark``: the same settings as dbt's (profiles.yml).

dbt-spark's session method starts Spark inside the dbt process with the profile's
``server_side_parameters``; ``kpis load``, ``check``, ``summary``, ``report`` and ``export`` start
one in their own process with :func:`spark_conf`, so both see the same Hive metastore (Derby,
one process at a time) and the same tables under ``KPIS_SPARK_DIR``.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
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
        # The Derby metastore cannot filter partitions on bigint keys (the raw tables' load
        # id): `where _load_id = 3` fails (INTERNAL_ERROR_HIVE_METASTORE_PARTITION_FILTER)
        # unless Spark may list the partitions and filter them itself.
        "spark.sql.hive.metastorePartitionPruningFallbackOnException": "true",
    }


#: Spark's log4j2 configuration: everything at WARN and above into ``spark.log``.
_LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n
"""


def _quiet_logging(folder: Path) -> Path:
    """Write the folder's log4j2 configuration (Spark's log into ``<folder>/spark.log``)."""
    path = folder / "log4j2.properties"
    text = _LOG4J2.format(log=folder / "spark.log")
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def spark_session(settings: Settings) -> SparkSession:
    """Start (or reuse) this process's Spark session on the target's warehouse folder."""
    # pyspark 4.3 warns about pandas 3 on import; the few conversions kpis uses work.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError(
            f"DBT_TARGET=spark needs pyspark, which is not installed: {SETUP_HINT}"
        ) from None
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise UserError(f"DBT_TARGET=spark needs Java 17, which is not on PATH: {SETUP_HINT}")
    try:
        settings.spark_dir.mkdir(parents=True, exist_ok=True)
        log_config = _quiet_logging(settings.spark_dir)
    except OSError as exc:
        raise WarehouseUnavailable(
            f"cannot use the Spark folder {settings.spark_dir}: {exc.strerror or exc}"
        ) from None
    # Derby writes derby.log into the current folder unless told otherwise; Spark's own log
    # (WARNs, the JVM's start-up lines) goes to spark.log in the folder, not to the terminal.
    os.environ.setdefault(
        "SPARK_SUBMIT_OPTS",
        f"-Dderby.stream.error.file={settings.spark_dir}/derby.log "
        f"-Dlog4j2.configurationFile=file:{log_config}",
    )
    builder = SparkSession.builder.appName("telemetry-kpis").enableHiveSupport()
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    # no console progress bars ("[Stage 0:>  ...]"): kpis prints its own progress
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM's errors vary; the first line says what failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseUnavailable(
            f"cannot start Spark on {settings.spark_dir}: {first} (another process may hold "
            "its metastore: one Spark process per KPIS_SPARK_DIR at a time)"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    running = str(session.conf.get("spark.sql.warehouse.dir") or "").removeprefix("file:")
    if Path(running) != Path(spark_conf(settings)["spark.sql.warehouse.dir"]):
        # getOrCreate() returned a session of this process on another folder
        raise UserError(
            f"this process already runs Spark on another warehouse than {settings.spark_dir}"
        )
    return session
