"""Where the warehouse is: one place, read from the environment, used by every sub-command.

``DBT_TARGET`` chooses the target (``duckdb`` by default, ``postgres`` or ``spark``). DuckDB reads
``KPIS_DUCKDB_PATH`` (default ``./telemetry_kpis.duckdb``); PostgreSQL reads ``KPIS_PG_HOST``,
``KPIS_PG_PORT``, ``KPIS_PG_USER``, ``KPIS_PG_PASSWORD`` and ``KPIS_PG_DATABASE``; Spark (a local
session, ``make setup-spark``) reads ``KPIS_SPARK_DIR`` (default ``./data/spark``: its metastore
and tables). The same
variables feed the dbt profile in ``profiles.yml``, so dbt and the Python code always agree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_kpis.errors import UserError, WarehouseUnavailable

if TYPE_CHECKING:
    import sqlalchemy

    from telemetry_kpis.spark_marts import SparkEngine

SUPPORTED_TARGETS = ("duckdb", "postgres", "spark")

CONFIGURE_HINT = (
    "set DBT_TARGET=duckdb (with KPIS_DUCKDB_PATH), DBT_TARGET=postgres "
    "(with KPIS_PG_HOST, KPIS_PG_PORT, KPIS_PG_USER, KPIS_PG_PASSWORD, KPIS_PG_DATABASE) "
    "or DBT_TARGET=spark (with KPIS_SPARK_DIR)"
)


def project_dir() -> Path:
    """The dbt project folder (the one holding dbt_project.yml).

    ``KPIS_PROJECT_DIR`` wins; otherwise the current folder or one of its parents; otherwise
    the checkout this package was installed from (editable install).
    """
    explicit = os.environ.get("KPIS_PROJECT_DIR")
    if explicit:
        path = Path(explicit).resolve()
        if not (path / "dbt_project.yml").is_file():
            raise UserError(f"KPIS_PROJECT_DIR={explicit} has no dbt_project.yml")
        return path
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").is_file() and (candidate / "profiles.yml").is_file():
            return candidate
    source_checkout = Path(__file__).resolve().parents[2]
    if (source_checkout / "dbt_project.yml").is_file():
        return source_checkout
    raise UserError(
        "cannot find the telemetry-kpis dbt project: run kpis inside the repository "
        "or set KPIS_PROJECT_DIR"
    )


@dataclass(frozen=True)
class Settings:
    """The configured warehouse target."""

    target: str = "duckdb"
    duckdb_path: Path = Path("telemetry_kpis.duckdb")
    #: DuckDB's memory limit (its buffer pool; bigger work spills to disk), as in profiles.yml.
    duckdb_memory_limit: str = "1536MB"
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "kpis"
    pg_password: str = ""
    pg_database: str = "kpis"
    #: The local Spark warehouse: its Derby metastore and its tables (``spark-warehouse``).
    spark_dir: Path = Path("data/spark")
    #: The published copy of the marts that BI tools read (DuckDB only; see ``publish``).
    bi_duckdb_override: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        target = env.get("DBT_TARGET", "duckdb").strip() or "duckdb"
        if target not in SUPPORTED_TARGETS:
            raise UserError(
                f"DBT_TARGET={target!r} is not supported (expected one of "
                f"{', '.join(SUPPORTED_TARGETS)}); {CONFIGURE_HINT}"
            )
        port_text = env.get("KPIS_PG_PORT", "5432")
        try:
            port = int(port_text)
        except ValueError:
            raise UserError(f"KPIS_PG_PORT={port_text!r} is not a port number") from None
        return cls(
            target=target,
            duckdb_path=Path(env.get("KPIS_DUCKDB_PATH", "telemetry_kpis.duckdb")).absolute(),
            duckdb_memory_limit=env.get("KPIS_DUCKDB_MEMORY_LIMIT", "").strip() or "1536MB",
            pg_host=env.get("KPIS_PG_HOST", "127.0.0.1"),
            pg_port=port,
            pg_user=env.get("KPIS_PG_USER", "kpis"),
            pg_password=env.get("KPIS_PG_PASSWORD", ""),
            pg_database=env.get("KPIS_PG_DATABASE", "kpis"),
            spark_dir=Path(env.get("KPIS_SPARK_DIR", "").strip() or "data/spark").absolute(),
            bi_duckdb_override=(
                Path(env["KPIS_BI_DUCKDB_PATH"]).absolute()
                if env.get("KPIS_BI_DUCKDB_PATH", "").strip()
                else None
            ),
            env=env,
        )

    # --- descriptions ---------------------------------------------------------------------
    def describe(self) -> str:
        if self.target == "duckdb":
            return f"DuckDB file {self.duckdb_path}"
        if self.target == "spark":
            return f"Spark warehouse {self.spark_dir}"
        return f"PostgreSQL {self.pg_user}@{self.pg_host}:{self.pg_port}/{self.pg_database}"

    @property
    def bi_duckdb_path(self) -> Path:
        """The DuckDB file BI tools read: ``KPIS_BI_DUCKDB_PATH``, else
        ``<warehouse stem>_bi.duckdb`` next to the warehouse (``kpis build`` publishes it)."""
        if self.bi_duckdb_override is not None:
            return self.bi_duckdb_override
        return self.duckdb_path.with_name(f"{self.duckdb_path.stem}_bi.duckdb")

    def describe_bi(self) -> str:
        """What BI tools read: the published DuckDB file, or the PostgreSQL server."""
        if self.target == "duckdb":
            return f"DuckDB file {self.bi_duckdb_path} (read-only)"
        return self.describe()

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt run that resolves profiles.yml to this target."""
        env = dict(self.env)
        env.update(
            {
                "DBT_TARGET": self.target,
                "KPIS_DUCKDB_PATH": str(self.duckdb_path),
                "KPIS_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
                "KPIS_PG_HOST": self.pg_host,
                "KPIS_PG_PORT": str(self.pg_port),
                "KPIS_PG_USER": self.pg_user,
                "KPIS_PG_PASSWORD": self.pg_password,
                "KPIS_PG_DATABASE": self.pg_database,
                "KPIS_SPARK_DIR": str(self.spark_dir),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DO_NOT_TRACK": "1",
            }
        )
        return env

    # --- connections ----------------------------------------------------------------------
    def sqlalchemy_url(self) -> str:
        if self.target == "duckdb":
            return f"duckdb:///{self.duckdb_path}"
        from sqlalchemy.engine import URL

        return URL.create(
            "postgresql+psycopg",
            username=self.pg_user,
            password=self.pg_password or None,
            host=self.pg_host,
            port=self.pg_port,
            database=self.pg_database,
        ).render_as_string(hide_password=False)

    def marts_engine(self, *, must_exist: bool = True) -> sqlalchemy.Engine | SparkEngine:
        """What the marts readers run their SQLAlchemy statements on: the target's engine,
        or on Spark a :class:`SparkEngine` (the statements compiled to Spark SQL)."""
        if self.target == "spark":
            from telemetry_kpis.spark_marts import SparkEngine

            return SparkEngine.start(self, must_exist=must_exist)
        return self.engine(must_exist=must_exist)

    def engine(self, *, must_exist: bool = True) -> sqlalchemy.Engine:
        """A SQLAlchemy engine for the target, checked to be reachable.

        With ``must_exist`` a missing DuckDB file is an error (reading marts); without it the
        file is created (loading raw data). Spark has none: see :meth:`marts_engine`.
        """
        import sqlalchemy

        if self.target == "spark":
            raise UserError("DBT_TARGET=spark has no SQLAlchemy engine (see marts_engine)")

        self.check_duckdb_file(must_exist)
        connect_args = {} if self.target == "duckdb" else {"connect_timeout": 5}
        engine = sqlalchemy.create_engine(self.sqlalchemy_url(), connect_args=connect_args)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("select 1")
        except Exception as exc:  # driver errors vary; all mean "cannot reach it"
            engine.dispose()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WarehouseUnavailable(
                f"cannot reach {self.describe()}: {reason} ({CONFIGURE_HINT})"
            ) from None
        return engine

    def check_duckdb_file(self, must_exist: bool) -> None:
        """On DuckDB: refuse a missing file when it must exist, else create its folder."""
        if self.target != "duckdb":
            return
        if must_exist and not self.duckdb_path.is_file():
            raise WarehouseUnavailable(
                f"DuckDB file {self.duckdb_path} does not exist: load events with "
                f"`kpis load` first, or point KPIS_DUCKDB_PATH at your warehouse file"
            )
        if self.duckdb_path.parent and not self.duckdb_path.parent.exists():
            self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
