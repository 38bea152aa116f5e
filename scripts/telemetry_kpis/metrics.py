"""``kpis metrics``: the metric registry (every series of marts.kpi_values) as a table.

The Markdown form is the table of the README's "Reading the KPIs from a BI tool" section
(a test keeps the two equal), and the start of a handbook page.
"""

from __future__ import annotations

import argparse

from tabulate import tabulate

from telemetry_kpis.registry import Metric, load_registry

HELP = "list the published metrics (the metric registry) with their grains and definitions"
DESCRIPTION = """\
List every metric marts.kpi_values publishes, from the metric registry (var metric_registry in
dbt_project.yml): name, grains, kind, which direction is better, its one-sentence definition,
and the mart and analysis behind it.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text (default) or markdown (the README's table)",
    )


def _row(metric: Metric, markdown: bool) -> list[str]:
    name = f"`{metric.name}`" if markdown else metric.name
    if not metric.contract:
        name += " (addition)"
    analysis = f"[{metric.analysis}]({metric.analysis})" if markdown else metric.analysis
    return [
        name,
        ", ".join(metric.grains),
        metric.kind,
        metric.direction,
        " ".join(metric.definition.split()),
        f"`{metric.source}`" if markdown else metric.source,
        analysis,
    ]


def registry_table(markdown: bool) -> str:
    """The registry as a text or GitHub-Markdown table, in registry order."""
    headers = ["metric_name", "grains", "kind", "better", "definition", "source", "analysis"]
    rows = [_row(m, markdown) for m in load_registry().values()]
    if markdown:
        return tabulate(rows, headers, tablefmt="github")
    short = [row[:5] for row in rows]
    return tabulate(
        short, headers[:5], tablefmt="simple", maxcolwidths=[None, None, None, None, 70]
    )


def run(args: argparse.Namespace) -> int:
    print(registry_table(markdown=args.format == "markdown"))
    return 0
