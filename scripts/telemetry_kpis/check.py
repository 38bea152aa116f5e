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

from telemetry_kpis.errors import UserError

if TYPE_CHECKING:
    from telemetry_kpis.definitions import Definitions
    from telemetry_kpis.results import Evaluation, HealthResult, KeyResultResult, QualityResult

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


def gather(
    *,
    definitions_dir: Path | None,
    as_of: date | None,
    quality: bool,
    public: bool,
) -> Checked:
    """Definitions + warehouse → a complete Evaluation (shared by check and report)."""
    from telemetry_kpis.definitions import LIVE_FRESHNESS, load_definitions
    from telemetry_kpis.settings import Settings

    # Definitions first: a mistake in a file is reported before anything heavy is imported.
    definitions = load_definitions(definitions_folder(definitions_dir))
    from telemetry_kpis.evaluate import apply_visibility, evaluate, prepare_kpi_values
    from telemetry_kpis.marts import read_kpi_values, read_newest_execution_at

    settings = Settings.from_env()
    engine = settings.engine(must_exist=True)
    try:
        raw = read_kpi_values(engine)
        moment = as_of_time(as_of)
        computed: dict[str, float | None] = {}
        if any(h.computed for h in definitions.health_metrics):
            newest = read_newest_execution_at(engine, moment)
            computed[LIVE_FRESHNESS] = (
                None if newest is None else (moment - newest).total_seconds() / 3600
            )
    finally:
        engine.dispose()
    day = as_of or moment.date()
    evaluation = evaluate(definitions, prepare_kpi_values(raw), day, computed=computed)
    if quality:
        from telemetry_kpis.quality import run_quality

        evaluation.quality = run_quality(raw)
        evaluation.quality_ran = True
    if public:
        evaluation = apply_visibility(evaluation, definitions)
    return Checked(definitions, evaluation)


# --- rendering --------------------------------------------------------------------------------
@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    footnote: str = ""
    links: list[str | None] | None = None  # per row, for markdown


def _status_cell(status: str) -> str:
    return status.upper() if status != "ok" else "ok"


def _kr_value(kr: KeyResultResult, value: float | None, *, example_mark: bool = False) -> str:
    from telemetry_kpis.formatting import format_value

    if kr.redacted:
        return "(internal)"
    text = format_value(value, kr.kind)
    return text + "*" if kr.example and example_mark else text


def _kr_row(kr: KeyResultResult) -> list[str]:
    from telemetry_kpis.formatting import format_progress

    current = _kr_value(kr, kr.current_value)
    if kr.partial and not kr.redacted:
        current += " (partial)"
    return [
        kr.okr_label,
        kr.goal,
        f"{kr.kpi}/{kr.grain}" if kr.grain else kr.kpi,
        f"{kr.timeframe_start}..{kr.timeframe_end}",
        current,
        _kr_value(kr, kr.start_value, example_mark=True),
        _kr_value(kr, kr.target_value, example_mark=True),
        format_progress(kr.progress),
        format_progress(kr.expected_progress),
        _kr_value(kr, kr.projected_value) if kr.projected_value is not None else "—",
        kr.status,
    ]


def _kr_table(krs: list[KeyResultResult]) -> Table:
    foot = []
    if any(kr.example for kr in krs):
        foot.append("* example start/target value (example: true in the definition)")
    if any(kr.redacted for kr in krs):
        foot.append("(internal): value redacted in the public view")
    headers = ["OKR", "Key result", "Metric", "Timeframe", "Current", "Start", "Target"]
    headers += ["Progress", "Expected", "Projected", "Status"]
    return Table(
        "Key results",
        headers,
        [_kr_row(kr) for kr in krs],
        "; ".join(foot),
        links=[kr.dashboard for kr in krs],
    )


def _health_row(h: HealthResult) -> list[str]:
    from telemetry_kpis.formatting import format_range, format_value

    if h.redacted:
        value, rng = "(internal)", "(internal)"
    else:
        value, rng = format_value(h.value, h.kind), format_range(h)
    if h.redacted and h.breaches:
        details = f"{len(h.breaches)} breach(es), values redacted"
    else:
        details = "; ".join(h.breaches)
    if h.note:
        details = f"{details}; {h.note}" if details else h.note
    return [
        h.key,
        f"{h.metric}/{h.grain}" if h.grain else h.metric,
        str(h.period_end) if h.period_end else ("now" if h.grain is None else "—"),
        value,
        rng,
        "—" if h.change_pct is None else f"{h.change_pct:+.1f}%",
        "—" if h.anomaly_score is None else f"{h.anomaly_score:+.1f}",
        _status_cell(h.status),
        details,
    ]


def _health_table(health: list[HealthResult]) -> Table:
    return Table(
        "Health metrics",
        ["Name", "Metric", "Period", "Value", "Range", "Change", "Robust z", "Status", "Details"],
        [_health_row(h) for h in health],
        links=[h.runbook for h in health],
    )


def _quality_table(quality: list[QualityResult]) -> Table:
    return Table(
        "Data quality (great-expectations on marts.kpi_values)",
        ["Check", "Expectation", "Rows", "Failed", "Status", "Details"],
        [
            [
                q.description,
                q.name,
                str(q.checked),
                str(q.failed),
                _status_cell(q.status),
                q.details,
            ]
            for q in quality
        ],
    )


def tables(evaluation: Evaluation) -> list[Table]:
    """The key result, health metric and (when it ran) data-quality tables, as text cells."""
    result = [_kr_table(evaluation.key_results), _health_table(evaluation.health)]
    if evaluation.quality_ran:
        result.append(_quality_table(evaluation.quality))
    return result


def _header(evaluation: Evaluation) -> str:
    view = ", public view" if evaluation.public else ""
    generated = evaluation.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    return (
        f"kpis check: as of {evaluation.as_of} (generated {generated}{view}) "
        f"— level: {evaluation.level.upper()}"
    )


def _tabulate(rows: list[list[str]], headers: list[str], fmt: str) -> str:
    from tabulate import tabulate

    # cells are already formatted text: no number parsing, nothing stripped
    return tabulate(rows, headers, tablefmt=fmt, disable_numparse=True, preserve_whitespace=True)


def render_text(evaluation: Evaluation) -> str:
    lines = [_header(evaluation)]
    for table in tables(evaluation):
        lines += ["", table.title.upper()]
        if not table.rows:
            lines.append("(none defined)")
            continue
        lines.append(_tabulate(table.rows, table.headers, "plain"))
        if table.footnote:
            lines.append(table.footnote)
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(evaluation: Evaluation) -> str:
    lines = [f"# {_header(evaluation)}"]
    for table in tables(evaluation):
        lines += ["", f"## {table.title}", ""]
        if not table.rows:
            lines.append("(none defined)")
            continue
        headers, rows = table.headers, [[_md_cell(c) for c in row] for row in table.rows]
        if table.links:
            headers = [*headers, "Link"]
            rows = [
                [*row, f"[link]({link})" if link else ""]
                for row, link in zip(rows, table.links, strict=True)
            ]
        lines.append(_tabulate(rows, headers, "github"))
        if table.footnote:
            lines += ["", table.footnote]
    return "\n".join(lines) + "\n"


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
