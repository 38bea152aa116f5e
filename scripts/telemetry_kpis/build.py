"""``kpis build``: run ``dbt build`` on the configured target with the repository's profile."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from telemetry_kpis.errors import UserError
from telemetry_kpis.settings import Settings, project_dir

HELP = "run dbt build (seeds, models, tests) on the configured warehouse"
DESCRIPTION = """\
Run `dbt build` on the target chosen by DBT_TARGET with the repository's profiles.yml:
seeds, staging, intermediate and marts models, and every data and unit test, in order.

Runs are incremental: only the loads made since the last build are processed. Use
--full-refresh to rebuild everything from raw.

Output: progress (nodes done / total, elapsed) and a short result: what ran, each warning with
a one-line explanation, each failure with the command that shows more. dbt's full log goes to
logs/dbt.log (DBT_LOG_PATH moves it); --verbose streams it instead.

On DuckDB, a successful build (or run) then publishes the marts schema to a read-only copy for
BI tools, <warehouse stem>_bi.duckdb next to the warehouse (KPIS_BI_DUCKDB_PATH moves it),
swapped in atomically: dashboards keep answering while the next build holds the warehouse.
"""


#: dbt commands that change the marts: after a successful one, DuckDB marts are published.
PUBLISHING_COMMANDS = ("build", "run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild incremental models from raw"
    )
    parser.add_argument(
        "-s", "--select", nargs="+", metavar="SELECTOR", help="dbt node selection (dbt --select)"
    )
    parser.add_argument(
        "--exclude", nargs="+", metavar="SELECTOR", help="dbt node exclusion (dbt --exclude)"
    )
    parser.add_argument(
        "--vars",
        metavar="YAML",
        help="dbt vars as YAML, e.g. '{as_of_date: \"2026-10-31\"}'",
    )
    parser.add_argument(
        "--command",
        dest="dbt_command",
        default="build",
        choices=("build", "run", "test", "seed", "compile", "docs"),
        help="dbt command to run instead of build (docs = docs generate)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="only print errors and a summary")
    output.add_argument(
        "--verbose", "-v", action="store_true", help="stream dbt's own log instead of progress"
    )


def dbt_args(
    settings: Settings,
    command: str = "build",
    *,
    full_refresh: bool = False,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    vars_yaml: str | None = None,
    quiet: bool = False,
    console: bool = True,
    colours: bool = False,
) -> list[str]:
    """The dbt command line for the target (without the leading ``dbt``).

    ``console`` False silences dbt's console (its log file keeps everything); ``colours``
    allows ANSI colours on the console (the log file never has them).
    """
    folder = str(project_dir())
    args = ["docs", "generate"] if command == "docs" else [command]
    flags = ["--no-use-colors-file", "--use-colors" if colours else "--no-use-colors"]
    if not console:
        flags += ["--log-level", "none", "--log-level-file", "debug"]
    elif quiet:
        flags.append("--quiet")
    args = [*flags, *args]
    args += ["--project-dir", folder, "--profiles-dir", folder, "--target", settings.target]
    if full_refresh and command in ("build", "run", "seed"):
        args.append("--full-refresh")
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    if vars_yaml:
        args += ["--vars", vars_yaml]
    return args


def run_dbt(
    settings: Settings, args: list[str], callbacks: list[Callable[[Any], None]] | None = None
) -> tuple[bool, list[Any]]:
    """Run dbt in-process with the target's environment: (every node passed, run results)."""
    from dbt.cli.main import dbtRunner

    previous = dict(os.environ)
    os.environ.update(settings.dbt_env())
    try:
        result = dbtRunner(callbacks=callbacks or []).invoke(args)
    finally:
        os.environ.clear()
        os.environ.update(previous)
    if result.exception is not None:
        from telemetry_kpis.build_output import log_file

        message = _one_line_error(result.exception)
        raise UserError(f"dbt failed: {message} (full log: {log_file(project_dir())})", exit_code=1)
    return bool(result.success), list(getattr(result.result, "results", None) or [])


def release_duckdb(settings: Settings) -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb holds its database (and the file's write lock) in a process-wide environment;
    reading the file again in this process, as publishing does, needs it closed.
    """
    if settings.target != "duckdb":
        return
    import gc

    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = getattr(DuckDBConnectionManager, "_ENV", None)
    if environment is not None and hasattr(environment, "close"):
        environment.close()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()


def _one_line_error(error: BaseException) -> str:
    """dbt's error on one line: its console is silent by default, so this is all we show."""
    return " ".join(str(error).split())


def check_vars(vars_yaml: str | None) -> None:
    """Refuse --vars that is not a YAML mapping before dbt starts (dbt would print its own
    coloured line before its flags take effect)."""
    import yaml

    if vars_yaml is None:
        return
    try:
        value = yaml.safe_load(vars_yaml)
    except yaml.YAMLError as error:
        raise UserError(f"--vars is not valid YAML: {_one_line_error(error)}") from None
    if not isinstance(value, dict):
        raise UserError(
            f"--vars must be a YAML mapping such as '{{as_of_date: 2026-10-31}}', not {vars_yaml!r}"
        )


def check_warehouse(settings: Settings) -> None:
    """Fail with one clear line when the warehouse cannot be reached (before dbt starts).

    Through the bare driver, as `kpis load` connects: importing SQLAlchemy would cost more
    than half a second of a command that hands over to dbt.
    """
    from telemetry_kpis.load.connections import duckdb_connect, pg_connect

    if settings.target == "spark":
        check_spark(settings)
        return
    settings.check_duckdb_file(must_exist=True)
    if settings.target == "duckdb":
        duckdb_connect(settings, path=settings.duckdb_path).close()
    else:
        pg_connect(settings).close()


def check_spark(settings: Settings) -> None:
    """On Spark: pyspark and Java present, the warehouse folder usable, and the rows of
    unfinished loads dropped (dbt reads the raw tables, which have no transactions).

    This starts the process's Spark session with the profile's settings; dbt-spark's session
    method then reuses it (``getOrCreate``).
    """
    import importlib.util

    from telemetry_kpis.load.spark_tables import drop_uncommitted_loads
    from telemetry_kpis.spark_session import SETUP_HINT, spark_session

    if importlib.util.find_spec("pyspark") is None:
        raise UserError(f"DBT_TARGET=spark needs pyspark, which is not installed: {SETUP_HINT}")
    drop_uncommitted_loads(spark_session(settings), command="build")


def run(args: argparse.Namespace) -> int:
    from telemetry_kpis.build_output import Progress, colour_allowed, log_file, summarise

    settings = Settings.from_env()
    check_vars(args.vars)
    check_warehouse(settings)
    started = time.perf_counter()
    progress = None if (args.verbose or args.quiet) else Progress(stream=sys.stdout)
    command = dbt_args(
        settings,
        args.dbt_command,
        full_refresh=args.full_refresh,
        select=args.select,
        exclude=args.exclude,
        vars_yaml=args.vars,
        quiet=args.quiet,
        console=progress is None,
        colours=colour_allowed(sys.stdout),
    )
    try:
        ok, results = run_dbt(settings, command, [progress] if progress else None)
    finally:
        if progress:
            progress.finish()
    elapsed = time.perf_counter() - started
    status = "passed" if ok else "FAILED"
    print(f"kpis build: dbt {args.dbt_command} {status} on {settings.describe()} in {elapsed:.1f}s")
    if args.dbt_command == "docs" and ok:
        target = os.environ.get("DBT_TARGET_PATH") or str(project_dir() / "target")
        print(f"  documentation site: {target}/index.html (catalog.json beside it)")
    if not args.verbose:
        print("\n".join(summarise(results, log_file(project_dir()))))
    if ok and args.dbt_command in PUBLISHING_COMMANDS:
        from telemetry_kpis.publish import publish_marts

        release_duckdb(settings)
        published = publish_marts(settings)
        if published:
            path, tables, seconds = published
            print(f"  published {tables} marts tables for BI tools to {path} in {seconds:.1f}s")
    return 0 if ok else 1
