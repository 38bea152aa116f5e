"""``kpis check``: key results, health metrics and data quality on marts.kpi_values.

Reads ``kpi_definitions/*.yml`` and ``marts.kpi_values`` (SQLAlchemy, into pandas), evaluates
every key result (progress, pace, projection, status) and health metric (range, change vs
baseline, robust z-score), runs the great-expectations suites, prints one report and exits
0 (fine), 1 (an alarm, or a warning with ``--fail-on warn``) or 2 (configuration error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_kpis.check_render import render_markdown, render_text
from telemetry_kpis.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from telemetry_kpis.definitions import Definitions
    from telemetry_kpis.results import Evaluation

HELP = "evaluate OKR key results, health metrics and data quality (exit 1 on an alarm)"
DESCRIPTION = """\
Evaluate the key results and health metrics of kpi_definitions/*.yml on marts.kpi_values,
and run the data-quality suites (great-expectations) on that table.

Key result statuses: no data, not started, on track, at risk, off track, achieved, missed.
Health metric and data-quality statuses: ok, warn, alarm. See README "OKRs and health metrics".

exit status: 0 fine, 1 alarm (or warn with --fail-on warn), 2 configuration or usage error.
"""

DEFAULT_DEFINITIONS = "kpi_definitions"
NOTIFY_ENV = "KPIS_NOTIFY_URL"


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``kpis check`` and ``kpis report``."""
    parser.add_argument(
        "--definitions",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"folder of OKR / health metric YAML files (default: {DEFAULT_DEFINITIONS}/ "
        "of the project)",
    )
    parser.add_argument(
        "--as-of",
        metavar="DATE",
        type=parse_date,
        default=None,
        help="evaluate on this date, YYYY-MM-DD (default: today, UTC); later data is ignored",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="public view: leave out internal OKRs, redact the values of internal key results "
        "and health metrics",
    )
    parser.add_argument(
        "--quality",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the great-expectations data-quality suites on kpi_values (default: on)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="output format (default: text, aligned tables)",
    )
    parser.add_argument("--output", metavar="FILE", type=Path, help="write the output to FILE")
    parser.add_argument(
        "--fail-on",
        choices=("warn", "alarm", "never"),
        default="alarm",
        help="exit 1 when the worst status reaches this level (default: alarm)",
    )
    parser.add_argument(
        "--notify",
        metavar="URL",
        default=None,
        help=f"post alarms to this Slack-compatible webhook (default: ${NOTIFY_ENV})",
    )


# --- gathering --------------------------------------------------------------------------------
@dataclass
class Checked:
    definitions: Definitions
    evaluation: Evaluation
    #: prepared kpi_values rows (the report's stickiness section)
    kpi_values: pd.DataFrame | None = None
    #: prepared kpi_drivers rows of ``drivers.driver_keys`` (the report's "What moved")
    drivers: pd.DataFrame | None = None


def definitions_folder(option: Path | None) -> Path:
    if option is not None:
        return option
    local = Path(DEFAULT_DEFINITIONS)
    if local.is_dir():
        return local
    from telemetry_kpis.settings import project_dir

    return project_dir() / DEFAULT_DEFINITIONS


def as_of_time(as_of: date | None) -> datetime:
    """The moment freshness is measured at: the end of the as-of day, or now (naive UTC)."""
    if as_of is not None:
        return datetime.combine(as_of + timedelta(days=1), time())
    return datetime.now(UTC).replace(tzinfo=None)


def segment_series_needed(definitions: Definitions) -> set[tuple[str, str, str]]:
    """(metric, grain, segment kind) of kpi_values_by_segment the health metrics read."""
    needed: set[tuple[str, str, str]] = set()
    for hm in definitions.health_metrics:
        if hm.computed or not hm.grain:
            continue
        if hm.segment_target:
            needed.add((hm.metric, hm.grain, hm.segment_target[0]))
        if hm.anomaly and hm.anomaly.per_segment:
            needed.add((hm.metric, hm.grain, hm.anomaly.per_segment))
    return needed


def gather(
    *,
    definitions_dir: Path | None,
    as_of: date | None,
    quality: bool,
    public: bool,
) -> Checked:
    """Definitions + warehouse → a complete Evaluation (shared by check and report).

    Reads kpi_values, the kpi_values_by_segment series that segment health metrics need (only
    when one is defined) and the kpi_drivers rows that explain a breach or a key result's
    latest period (always read, like kpi_values: marts without it ask for ``kpis build``).
    """
    from telemetry_kpis.definitions import LIVE_FRESHNESS, load_definitions
    from telemetry_kpis.settings import Settings

    # Definitions first: a mistake in a file is reported before anything heavy is imported.
    definitions = load_definitions(definitions_folder(definitions_dir))
    from telemetry_kpis.drivers import attach_contributors, driver_keys, prepare_drivers
    from telemetry_kpis.evaluate import apply_visibility, evaluate, prepare_kpi_values
    from telemetry_kpis.evaluate_segments import prepare_segments
    from telemetry_kpis.marts import (
        read_kpi_drivers,
        read_kpi_values,
        read_kpi_values_by_segment,
        read_newest_execution_at,
    )

    settings = Settings.from_env()
    engine = settings.marts_engine(must_exist=True)
    moment = as_of_time(as_of)
    day = as_of or moment.date()
    try:
        raw = read_kpi_values(engine)
        needed = segment_series_needed(definitions)
        segments = prepare_segments(read_kpi_values_by_segment(engine, needed)) if needed else None
        computed: dict[str, float | None] = {}
        if any(h.computed for h in definitions.health_metrics):
            newest = read_newest_execution_at(engine, moment)
            computed[LIVE_FRESHNESS] = (
                None if newest is None else (moment - newest).total_seconds() / 3600
            )
        kpi_values = prepare_kpi_values(raw)
        evaluation = evaluate(definitions, kpi_values, day, computed=computed, segments=segments)
        drivers = prepare_drivers(read_kpi_drivers(engine, driver_keys(evaluation)))
    finally:
        engine.dispose()
    attach_contributors(evaluation, drivers)
    if quality:
        from telemetry_kpis.quality import run_quality

        evaluation.quality = run_quality(raw)
        evaluation.quality_ran = True
    if public:
        evaluation = apply_visibility(evaluation, definitions)
    return Checked(definitions, evaluation, kpi_values, drivers)


# --- rendering (check_render) -----------------------------------------------------------------
def render(evaluation: Evaluation, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(evaluation.to_dict(), indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(evaluation)
    return render_text(evaluation)


def exit_code(level: str, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    if fail_on == "warn":
        return 1 if level in ("warn", "alarm") else 0
    return 1 if level == "alarm" else 0


def notify_url(option: str | None) -> str | None:
    return option or os.environ.get(NOTIFY_ENV) or None


def run(args: argparse.Namespace) -> int:
    checked = gather(
        definitions_dir=args.definitions,
        as_of=args.as_of,
        quality=args.quality,
        public=args.public,
    )
    evaluation = checked.evaluation
    text = render(evaluation, args.format)
    if args.output:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"kpis check: wrote {args.output} (level: {evaluation.level})")
    else:
        sys.stdout.write(text)
    url = notify_url(args.notify)
    if url:
        from telemetry_kpis.notify import notify

        notify(url, evaluation, source="kpis check")
    return exit_code(evaluation.level, args.fail_on)
