"""The text and Markdown forms of ``kpis check`` (the JSON form is ``Evaluation.to_dict``).

Both forms show the same tables and the same notes: a key result's note (e.g. "period in
progress"), a health metric's breaches and note, a data-quality check's details. The text form
fits ``TEXT_WIDTH`` columns: key results are grouped under their OKR (with its timeframe), long
goals wrap, the metric column is left out (the goal or name says it), and what does not fit a
cell is a note below its table. Markdown is one table per
section (an OKR column, a link column) followed by the same notes.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telemetry_kpis.results import Evaluation, HealthResult, KeyResultResult, QualityResult

#: the widest line of the text form (a test holds it on the shipped definitions)
TEXT_WIDTH = 120
#: the widest goal before it wraps in the text form (the key result table is the widest)
WRAP_FIRST_COLUMN = 30
#: the widest health metric name / check description before it wraps
WRAP_NAME_COLUMN = 44


@dataclass
class Table:
    """One section: a header row, text cells, and the notes printed below it."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    footnote: str = ""
    links: list[str | None] | None = None  # per row, for Markdown
    groups: list[str] | None = None  # per row: the text form's sub-heading (the OKR)
    notes: list[str] = field(default_factory=list)
    markdown_only: tuple[str, ...] = ()  # columns the text form leaves out (width)
    wrap: int = WRAP_NAME_COLUMN  # the text form's first column wraps at this width

    def text_view(self) -> Table:
        """The table without its Markdown-only columns."""
        keep = [i for i, h in enumerate(self.headers) if h not in self.markdown_only]
        return Table(
            self.title,
            [self.headers[i] for i in keep],
            [[row[i] for i in keep] for row in self.rows],
            self.footnote,
            self.links,
            self.groups,
            self.notes,
            wrap=self.wrap,
        )


def status_cell(status: str) -> str:
    return status.upper() if status != "ok" else "ok"


def _kr_value(kr: KeyResultResult, value: float | None, *, example_mark: bool = False) -> str:
    from telemetry_kpis.formatting import format_value

    if kr.redacted:
        return "(internal)"
    text = format_value(value, kr.kind)
    return text + "*" if kr.example and example_mark else text


#: the footnote of the two change columns (both tables)
CHANGE_FOOTNOTE = (
    "vs prev: change against the previous period of the grain (MoM for a month); "
    "YoY: against the same period a year earlier"
)


def _changes(item: KeyResultResult | HealthResult) -> list[str]:
    from telemetry_kpis.formatting import format_change_pct

    return [format_change_pct(item.pop_change_pct), format_change_pct(item.yoy_change_pct)]


def contributors_note(item: KeyResultResult | HealthResult) -> str:
    """``<key>: top contributors to the -12.0% change vs the previous period: ...``"""
    from telemetry_kpis.drivers import describe_contributors
    from telemetry_kpis.formatting import format_change_pct

    if not item.contributors:
        return ""
    change = format_change_pct(item.pop_change_pct)
    what = f"the {change} change" if change != "—" else "the change"
    return (
        f"{item.key}: top contributors to {what} vs the previous period "
        f"({item.period_start}): {describe_contributors(item.contributors, item.kind)}"
    )


def _kr_row(kr: KeyResultResult) -> list[str]:
    from telemetry_kpis.formatting import format_progress

    current = _kr_value(kr, kr.current_value)
    if kr.partial and not kr.redacted:
        current += " (partial)"
    start = _kr_value(kr, kr.start_value, example_mark=True)
    target = _kr_value(kr, kr.target_value, example_mark=True)
    return [
        kr.goal,
        f"{kr.kpi}/{kr.grain}" if kr.grain else kr.kpi,
        current,
        *_changes(kr),
        start if start == "(internal)" else f"{start} → {target}",
        format_progress(kr.progress),
        format_progress(kr.expected_progress),
        _kr_value(kr, kr.projected_value) if kr.projected_value is not None else "—",
        kr.status,
    ]


def _kr_table(krs: list[KeyResultResult]) -> Table:
    foot = [CHANGE_FOOTNOTE]
    if any(kr.example for kr in krs):
        foot.append("* example start/target value (example: true in the definition)")
    if any(kr.redacted for kr in krs):
        foot.append("(internal): value redacted in the public view")
    headers = ["Key result", "Metric", "Current", "vs prev", "YoY", "Start → target"]
    headers += ["Progress", "Expected", "Projected", "Status"]
    return Table(
        "Key results",
        headers,
        [_kr_row(kr) for kr in krs],
        "\n".join(foot),
        links=[kr.dashboard for kr in krs],
        groups=[f"{kr.okr_label} ({kr.timeframe_start}..{kr.timeframe_end})" for kr in krs],
        notes=[f"{kr.key}: {kr.note}" for kr in krs if kr.note]
        + [note for kr in krs if (note := contributors_note(kr))],
        markdown_only=("Metric",),
        wrap=WRAP_FIRST_COLUMN,
    )


def _health_details(h: HealthResult) -> str:
    details = "; ".join(h.breaches)  # redacted to their number in the public view
    if h.note:
        details = f"{details}; {h.note}" if details else h.note
    return details


def _health_row(h: HealthResult) -> list[str]:
    from telemetry_kpis.formatting import format_range, format_value

    if h.redacted:
        value, rng = "(internal)", "(internal)"
    else:
        value, rng = format_value(h.value, h.kind), format_range(h)
    metric = f"{h.metric}/{h.grain}" if h.grain else h.metric
    return [
        h.key,
        f"{metric} ({h.segment})" if h.segment else metric,
        str(h.period_end) if h.period_end else ("now" if h.grain is None else "—"),
        value,
        *_changes(h),
        rng,
        "—" if h.change_pct is None else f"{h.change_pct:+.1f}%",
        "—" if h.anomaly_score is None else f"{h.anomaly_score:+.1f}",
        status_cell(h.status),
    ]


def _health_table(health: list[HealthResult]) -> Table:
    return Table(
        "Health metrics",
        ["Name", "Metric", "Period", "Value", "vs prev", "YoY", "Range", "vs baseline"]
        + ["Robust z", "Status"],
        [_health_row(h) for h in health],
        CHANGE_FOOTNOTE + "\nvs baseline: against the median of the trailing periods (%)",
        links=[h.runbook for h in health],
        notes=[f"{h.key}: {_health_details(h)}" for h in health if _health_details(h)]
        + [note for h in health if (note := contributors_note(h))],
        markdown_only=("Metric",),
    )


def _quality_table(quality: list[QualityResult]) -> Table:
    return Table(
        "Data quality (great-expectations on marts.kpi_values)",
        ["Check", "Rows", "Failed", "Status"],
        [[q.description, str(q.checked), str(q.failed), status_cell(q.status)] for q in quality],
        notes=[f"{q.name}: {q.details}" for q in quality if q.details],
    )


def tables(evaluation: Evaluation) -> list[Table]:
    """The key result, health metric and (when it ran) data-quality tables, as text cells."""
    result = [_kr_table(evaluation.key_results), _health_table(evaluation.health)]
    if evaluation.quality_ran:
        result.append(_quality_table(evaluation.quality))
    return result


def header(evaluation: Evaluation) -> str:
    view = ", public view" if evaluation.public else ""
    generated = evaluation.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    return (
        f"kpis check: as of {evaluation.as_of} (generated {generated}{view}) "
        f"— level: {evaluation.level.upper()}"
    )


# --- text -------------------------------------------------------------------------------------
def _text_lines(table: Table) -> list[str]:
    """Aligned rows (one width per column over the whole table), the first column wrapped,
    and the group sub-headings above their rows."""
    wrapped = [textwrap.wrap(row[0], table.wrap) or [""] for row in table.rows]
    widths = [max(len(line) for cell in wrapped for line in cell + [table.headers[0]])]
    widths += [
        max(len(x) for x in [table.headers[i]] + [row[i] for row in table.rows])
        for i in range(1, len(table.headers))
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines, group = [line(table.headers)], None
    for index, row in enumerate(table.rows):
        if table.groups and table.groups[index] != group:
            group = table.groups[index]
            lines.append(group)
        first, *rest = wrapped[index]
        lines.append(line([first, *row[1:]]))
        lines += [line([more] + [""] * (len(row) - 1)) for more in rest]
    return lines


def _wrap_notes(notes: list[str]) -> list[str]:
    return [
        text
        for note in notes
        for text in textwrap.wrap(note, TEXT_WIDTH, initial_indent="- ", subsequent_indent="  ")
    ]


def render_text(evaluation: Evaluation) -> str:
    lines = [header(evaluation)]
    for table in (t.text_view() for t in tables(evaluation)):
        lines += ["", table.title.upper()]
        if not table.rows:
            lines.append("(none defined)")
            continue
        lines += _text_lines(table)
        for footnote in table.footnote.splitlines():
            lines += textwrap.wrap(footnote, TEXT_WIDTH)
        lines += _wrap_notes(table.notes)
    return "\n".join(lines) + "\n"


# --- Markdown ---------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(evaluation: Evaluation) -> str:
    from tabulate import tabulate

    lines = [f"# {header(evaluation)}"]
    for table in tables(evaluation):
        lines += ["", f"## {table.title}", ""]
        if not table.rows:
            lines.append("(none defined)")
            continue
        headers, rows = table.headers, [[_md_cell(c) for c in row] for row in table.rows]
        if table.groups:
            headers = ["OKR", *headers]
            rows = [[_md_cell(g), *row] for g, row in zip(table.groups, rows, strict=True)]
        if table.links:
            headers = [*headers, "Link"]
            rows = [
                [*row, f"[link]({link})" if link else ""]
                for row, link in zip(rows, table.links, strict=True)
            ]
        # cells are already formatted text: no number parsing, nothing stripped
        lines.append(
            tabulate(
                rows, headers, tablefmt="github", disable_numparse=True, preserve_whitespace=True
            )
        )
        if table.footnote:
            for footnote in table.footnote.splitlines():
                lines += ["", footnote]
        if table.notes:
            lines += ["", *(f"- {_md_cell(note)}" for note in table.notes)]
    return "\n".join(lines) + "\n"
