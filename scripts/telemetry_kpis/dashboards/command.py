"""``kpis dashboards``: write the Apache Superset import bundle of the KPI dashboards."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HELP = "write the Apache Superset dashboards (an import bundle) of the OKRs and health metrics"
DESCRIPTION = """\
Write an Apache Superset 6.1 import bundle, OUTPUT/telemetry_kpis_dashboards.zip, generated
from kpi_definitions/*.yml and the metric registry:

  kpis-kr-<key result>   one page per key result: the KPI over time at its grain from
                         marts.kpi_values (start and target as lines), its latest complete
                         value, the goal, owner, timeframe (a time filter preset to it), the
                         status rule and links to the handbook and to the OKR page
  kpis-okr-<okr>         one page per OKR: its key results (links to their pages), their charts
  kpis-health            the health metrics, their expected ranges as lines

and the datasets behind them (marts.kpi_values, kpi_values_by_segment, kpi_drivers,
fct_pipeline_runs, fct_project_months, dim_projects) on one database connection, the
configured warehouse: on DuckDB the published read-only copy of the marts that every
`kpis build` writes (<warehouse>_bi.duckdb, KPIS_BI_DUCKDB_PATH), on PostgreSQL the KPIS_PG_*
server. The bundle never holds a password: with KPIS_PG_PASSWORD set, the URI carries
Superset's mask and the import asks for it (UI), or takes it from the `passwords` field of
POST /api/v1/dashboard/import/. Every object has a stable uuid: importing a newer bundle
updates the dashboards in place. The same inputs give a byte-identical file.

examples:
  kpis dashboards --output out/superset
  superset import-dashboards -p out/superset/telemetry_kpis_dashboards.zip -u admin
  KPIS_SUPERSET_URL=https://superset.example.com kpis dashboards -o out/superset \\
      --handbook-url https://example.com/handbook.html
"""
DEFAULT_OUTPUT = Path("out/superset")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from telemetry_kpis.dashboards.links import HANDBOOK_URL_ENV, SUPERSET_URL_ENV

    parser.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"folder for telemetry_kpis_dashboards.zip (default: {DEFAULT_OUTPUT}/)",
    )
    parser.add_argument(
        "--definitions",
        metavar="DIR",
        type=Path,
        default=None,
        help="key-result definitions folder (default: kpi_definitions/ of the project)",
    )
    parser.add_argument(
        "--handbook-url",
        metavar="URL",
        default=None,
        help=f"public address of docs/handbook.md (default: ${HANDBOOK_URL_ENV}; without it "
        "the pages name the file)",
    )
    parser.add_argument(
        "--superset-url",
        metavar="URL",
        default=None,
        help=f"Superset the bundle goes to, for absolute links between pages (default: "
        f"${SUPERSET_URL_ENV}; without it links are paths inside Superset)",
    )


def run(args: argparse.Namespace) -> int:
    from telemetry_kpis.check import definitions_folder
    from telemetry_kpis.dashboards.bundle import Options, bundle_files, write_bundle
    from telemetry_kpis.dashboards.links import HANDBOOK_URL_ENV, superset_url
    from telemetry_kpis.definitions import load_definitions
    from telemetry_kpis.errors import UserError
    from telemetry_kpis.settings import Settings, project_dir

    definitions = load_definitions(definitions_folder(args.definitions))
    settings = Settings.from_env()
    base = (args.superset_url or "").strip().rstrip("/") or superset_url()
    handbook = (args.handbook_url or os.environ.get(HANDBOOK_URL_ENV, "")).strip() or None
    files = bundle_files(definitions, settings, project_dir(), Options(handbook, base))
    try:
        path = write_bundle(files, args.output)
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    pages = sum(1 for name in files if name.startswith("dashboards/"))
    charts = sum(1 for name in files if name.startswith("charts/"))
    print(
        f"kpis dashboards: wrote {path} ({pages} dashboards, {charts} charts, "
        f"{path.stat().st_size // 1024} KB) reading {settings.describe_bi()}"
    )
    if settings.target == "duckdb" and not settings.bi_duckdb_path.is_file():
        print(f"  note: {settings.bi_duckdb_path} does not exist yet; `kpis build` publishes it")
    return 0
