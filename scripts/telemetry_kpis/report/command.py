"""``kpis report``: the OKR and health report as a static HTML page plus PNG charts."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_kpis.errors import UserError

if TYPE_CHECKING:
    from telemetry_kpis.check import Checked
    from telemetry_kpis.load.progress import ProgressBar

HELP = "write a static HTML report of OKRs, key results and health metrics (with charts)"
DESCRIPTION = """\
Evaluate kpi_definitions/*.yml on marts.kpi_values (the same evaluation as `kpis check`) and
write OUTPUT_DIR/index.html: one section per OKR, one card per key result with a chart of its
metric (start, target, pace and projection lines), its status and what moved in its latest
complete period (marts.kpi_drivers), the health metrics with their ranges and alarms,
stickiness, and the data-quality results. The page is self-contained (charts
inlined as PNG, no scripts, no CDN: it opens offline); every chart is also written as a PNG
file next to it.
"""

DEFAULT_OUTPUT_DIR = Path("out/report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from telemetry_kpis.check import add_common_arguments

    add_common_arguments(parser)
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"folder for index.html and the PNG charts (default: {DEFAULT_OUTPUT_DIR})",
    )


def _file_name(prefix: str, key: str) -> str:
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', key)}.png"


def _chart_progress(total: int) -> ProgressBar:
    """A "charts 3/14" bar on a terminal (stderr); nothing when output goes to a file."""
    import sys

    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="kpis report: charts",
        unit="chart",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
        dynamic_ncols=True,
    )


def write_report(checked: Checked, output_dir: Path) -> tuple[Path, list[Path]]:
    """Render the charts and the page into ``output_dir``; return (page, chart files).

    Charts: one per key result, one per health metric shown, a "What moved" per key result
    whose latest complete period has drivers, and stickiness (not in the public view).
    """
    from telemetry_kpis.report.charts import health_chart, key_result_chart
    from telemetry_kpis.report.html import render_html
    from telemetry_kpis.report.moved import (
        stickiness,
        stickiness_chart,
        what_moved,
        what_moved_chart,
    )

    evaluation = checked.evaluation
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {output_dir}: {exc.strerror or exc}") from None
    charts: dict[str, tuple[bytes, str]] = {}
    shown = [h for h in evaluation.health if not h.redacted]
    moved = {
        kr.key: found
        for kr in evaluation.key_results
        if (found := what_moved(kr, checked.drivers)) is not None
    }
    # stickiness is no key result or health metric with a visibility: internal, like them
    sticky = None if evaluation.public else stickiness(checked.kpi_values, evaluation.as_of)
    total = len(evaluation.key_results) + len(shown) + len(moved) + (sticky is not None)
    with _chart_progress(total) as bar:
        for kr in evaluation.key_results:
            charts[f"kr:{kr.key}"] = (key_result_chart(kr), _file_name("kr", kr.key))
            bar.update(1)
            if kr.key in moved:
                name = _file_name("moved", kr.key)
                charts[f"moved:{kr.key}"] = (what_moved_chart(moved[kr.key]), name)
                bar.update(1)
        for health in shown:
            name = _file_name("health", health.key)
            charts[f"health:{health.key}"] = (health_chart(health), name)
            bar.update(1)
        if sticky is not None:
            charts["stickiness"] = (stickiness_chart(sticky), "stickiness.png")
            bar.update(1)
    files = []
    try:
        for png, name in charts.values():
            path = output_dir / name
            path.write_bytes(png)
            files.append(path)
        page = output_dir / "index.html"
        html = render_html(evaluation, checked.definitions, charts, moved=moved, stickiness=sticky)
        page.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write the report to {output_dir}: {exc.strerror or exc}") from None
    return page, files


def run(args: argparse.Namespace) -> int:
    from telemetry_kpis.check import gather

    checked = gather(
        definitions_dir=args.definitions,
        as_of=args.as_of,
        quality=args.quality,
        public=args.public,
    )
    page, files = write_report(checked, args.output_dir)
    print(
        f"kpis report: wrote {page} and {len(files)} chart(s) "
        f"(as of {checked.evaluation.as_of}, level: {checked.evaluation.level})"
    )
    return 0
