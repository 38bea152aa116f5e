"""The ``kpis`` command: one sub-command per job of a data team.

Each sub-command lives in its own module exposing ``HELP`` (one line), ``DESCRIPTION``,
``add_arguments(parser)`` and ``run(args) -> int``. Modules import their heavy libraries inside
``run`` so that ``kpis --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from telemetry_kpis import __version__
from telemetry_kpis.errors import UserError

#: sub-command name -> (module implementing it, one-line help), in the order a user meets them.
#: Only the module of the command being run is imported.
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("telemetry_kpis.generate.command", "write synthetic Meltano telemetry events"),
    "load": ("telemetry_kpis.load", "load Snowplow enriched events (JSONL/TSV) into raw tables"),
    "build": ("telemetry_kpis.build", "run dbt build (seeds, models, tests) on the warehouse"),
    "summary": ("telemetry_kpis.summary", "print the headline KPIs of the last months"),
    "metrics": ("telemetry_kpis.metrics", "list the published metrics (the metric registry)"),
    "check": ("telemetry_kpis.check", "evaluate key results and health metrics; exit 1 on alarm"),
    "report": ("telemetry_kpis.report.command", "write the static HTML report with charts"),
    "export": (
        "telemetry_kpis.export",
        "export a marts table to CSV or Parquet (the same bytes on every target)",
    ),
    "dashboards": (
        "telemetry_kpis.dashboards.command",
        "write the Apache Superset dashboards of the OKRs (an import bundle)",
    ),
    "handbook": (
        "telemetry_kpis.handbook.command",
        "write the public KPI handbook page (Markdown and HTML)",
    ),
}

EPILOG = """\
warehouse (environment variables):
  DBT_TARGET          duckdb (default), postgres or spark
  KPIS_DUCKDB_PATH    DuckDB file (default ./telemetry_kpis.duckdb)
  KPIS_PG_HOST, KPIS_PG_PORT, KPIS_PG_USER, KPIS_PG_PASSWORD, KPIS_PG_DATABASE
  KPIS_SPARK_DIR      Spark warehouse folder (default ./data/spark; `make setup-spark`)

typical run:
  kpis generate --projects 200 --days 120 --output data/sample.jsonl
  kpis load data/sample.jsonl
  kpis build
  kpis summary
  kpis check
"""


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only ``selected``'s module is imported for its options."""
    parser = argparse.ArgumentParser(
        prog="kpis",
        description=(
            "Turn Meltano CLI Snowplow telemetry into KPIs (dbt marts) and track them "
            "against OKR key results and health metrics."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if name != selected:
            subparsers.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(
            name,
            help=help_text,
            description=getattr(module, "DESCRIPTION", help_text),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def _selected_command(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if arg in COMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    for name, value in (
        ("DBT_SEND_ANONYMOUS_USAGE_STATS", "false"),
        ("GX_ANALYTICS_ENABLED", "false"),
        ("DO_NOT_TRACK", "1"),
    ):
        os.environ.setdefault(name, value)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected_command(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except UserError as exc:
        print(f"kpis {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"kpis {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
