"""``kpis handbook``: write the public KPI handbook page (handbook.md and handbook.html)."""

from __future__ import annotations

import argparse
from pathlib import Path

from telemetry_kpis.errors import UserError

HELP = "write the public KPI handbook page (Markdown and HTML) from the registry and definitions"
DESCRIPTION = """\
Write the public "Data Team KPIs" handbook page, handbook.md and a self-contained
handbook.html: for every published metric its definition, grains, the model and the analysis
SQL that compute it (links into the repository), its segments, the key results that track it
(goal, owner, timeframe; start, target and current value only for `visibility: public`), its
health checks and its dashboard link. Generated from the metric registry (dbt_project.yml),
the model YAML and kpi_definitions/; internal OKRs are left out and no value of an internal key
result or health metric is ever written.

examples:
  kpis handbook                         # docs/handbook.{md,html}, current values from the warehouse
  kpis handbook --no-values             # definitions only (no warehouse needed; the committed copy)
  kpis handbook --repo-url https://github.com/acme/telemetry-kpis/blob/main -o public/
"""
DEFAULT_OUTPUT = Path("docs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from telemetry_kpis.check import add_common_arguments

    add_common_arguments(parser)
    parser.set_defaults(public=True, quality=False)
    parser.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"folder for handbook.md and handbook.html (default: {DEFAULT_OUTPUT}/)",
    )
    parser.add_argument(
        "--no-values",
        dest="values",
        action="store_false",
        help="do not read the warehouse: definitions only, no current values",
    )
    parser.add_argument(
        "--repo-url",
        metavar="URL",
        default=None,
        help="link repository files under this URL (default: relative to the output folder)",
    )


def run(args: argparse.Namespace) -> int:
    from telemetry_kpis.check import definitions_folder
    from telemetry_kpis.definitions import load_definitions
    from telemetry_kpis.handbook.content import build_page
    from telemetry_kpis.handbook.render import linker, render_html, render_markdown
    from telemetry_kpis.settings import project_dir

    project = project_dir()
    if args.values:
        from telemetry_kpis.check import gather

        # always the public view: internal values are redacted before the page sees them
        checked = gather(
            definitions_dir=args.definitions, as_of=args.as_of, quality=False, public=True
        )
        definitions, evaluation = checked.definitions, checked.evaluation
    else:
        definitions = load_definitions(definitions_folder(args.definitions))
        evaluation = None
    page = build_page(project, definitions, evaluation)
    output: Path = args.output
    try:
        output.mkdir(parents=True, exist_ok=True)
        link = linker(project, output, args.repo_url)
        markdown, html = output / "handbook.md", output / "handbook.html"
        markdown.write_text(render_markdown(page, link), encoding="utf-8")
        html.write_text(render_html(page, link), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write the handbook to {output}: {exc.strerror or exc}") from None
    print(f"kpis handbook: {len(page.sections)} metrics -> {markdown} and {html}")
    return 0
