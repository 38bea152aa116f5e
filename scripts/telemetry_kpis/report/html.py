"""The report page: one self-contained HTML file (inline CSS, charts as base64 PNG, no scripts,
no CDN), so it opens offline and can be mailed or published as is.

The markup is ``templates/report.html`` (Jinja2, autoescaped); this module turns an
evaluation into the plain, formatted values the template lays out.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from telemetry_kpis.report.charts import STATUS_COLOURS

if TYPE_CHECKING:
    import jinja2

    from telemetry_kpis.definitions import OKR, Definitions
    from telemetry_kpis.report.moved import Stickiness, WhatMoved
    from telemetry_kpis.results import Evaluation, HealthResult, KeyResultResult, QualityResult

Charts = Mapping[str, tuple[bytes, str]]


@dataclass(frozen=True)
class Image:
    alt: str
    data: str  # base64 PNG
    file_name: str | None


@dataclass(frozen=True)
class KeyResultCard:
    """A key result as shown; a value of None is redacted (public view)."""

    key: str
    goal: str
    status: str
    metric: str
    start: str
    end: str
    owner: str | None
    dashboard: str
    measured_on: str | None
    current: str | None
    partial: bool
    start_value: str | None
    target_value: str | None
    example: bool
    progress: str
    expected: str
    projected: str | None
    projected_progress: str
    note: str
    chart: Image | None
    moved: Image | None = None
    moved_caption: str = ""


@dataclass(frozen=True)
class StickinessBlock:
    label: str
    month: str | None
    monthly: str
    change: str
    chart: Image | None


@dataclass(frozen=True)
class OkrSection:
    name: str
    label: str
    objective: str
    scope: str
    start: str
    end: str
    tally: list[tuple[str, int]]
    cards: list[KeyResultCard]


@dataclass(frozen=True)
class HealthRow:
    key: str
    label: str
    metric: str
    value: str | None
    range: str | None
    change: str
    z: str
    status: str
    severity: str
    details: str
    runbook: str


@dataclass(frozen=True)
class Page:
    as_of: str
    generated: str
    public: bool
    level: str
    examples: bool
    sections: list[OkrSection]
    health: list[HealthRow]
    health_charts: list[Image | None]
    quality: list[QualityResult] | None
    stickiness: StickinessBlock | None = None


def _image(charts: Charts, key: str, alt: str) -> Image | None:
    png, file_name = charts.get(key, (b"", ""))
    if not png:
        return None
    return Image(alt, base64.b64encode(png).decode("ascii"), file_name or None)


def _kr_card(kr: KeyResultResult, charts: Charts, moved: Mapping[str, WhatMoved]) -> KeyResultCard:
    from telemetry_kpis.definitions import metric_label
    from telemetry_kpis.formatting import format_progress, format_value

    def shown(value: float | None) -> str | None:
        return None if kr.redacted else format_value(value, kr.kind)

    metric = f"{kr.kpi} / {kr.grain}" if kr.grain else kr.kpi
    label = metric_label(kr.kpi)
    return KeyResultCard(
        key=kr.key,
        goal=kr.goal,
        status=kr.status,
        metric=metric if label == kr.kpi else f"{label} · {metric}",
        start=str(kr.timeframe_start),
        end=str(kr.timeframe_end),
        owner=kr.owner,
        dashboard=kr.dashboard,
        measured_on=str(kr.measured_on) if kr.measured_on else None,
        current=shown(kr.current_value),
        partial=kr.partial,
        start_value=shown(kr.start_value),
        target_value=shown(kr.target_value),
        example=kr.example,
        progress=format_progress(kr.progress),
        expected=format_progress(kr.expected_progress),
        projected=shown(kr.projected_value),
        projected_progress=format_progress(kr.projected_progress),
        note=kr.note,
        chart=_image(charts, f"kr:{kr.key}", f"{kr.goal}: chart"),
        moved=_image(charts, f"moved:{kr.key}", f"{kr.goal}: what moved"),
        moved_caption=moved[kr.key].caption if kr.key in moved else "",
    )


def _okr_section(
    okr: OKR, krs: list[KeyResultResult], charts: Charts, moved: Mapping[str, WhatMoved]
) -> OkrSection:
    return OkrSection(
        name=okr.name,
        label=okr.label,
        objective=okr.objective,
        scope=okr.scope,
        start=str(okr.timeframe.start),
        end=str(okr.timeframe.end),
        tally=list(Counter(kr.status for kr in krs).items()),
        cards=[_kr_card(kr, charts, moved) for kr in krs],
    )


def _health_row(h: HealthResult) -> HealthRow:
    from telemetry_kpis.definitions import metric_label
    from telemetry_kpis.formatting import format_range, format_value

    details = "; ".join(h.breaches)  # redacted to their number in the public view
    if h.note:
        details = f"{details}; {h.note}" if details else h.note
    return HealthRow(
        key=h.key,
        label=metric_label(h.metric),
        metric=f"{h.metric}/{h.grain}" if h.grain else h.metric,
        value=None if h.redacted else format_value(h.value, h.kind),
        range=None if h.redacted else format_range(h),
        change="—" if h.change_pct is None else f"{h.change_pct:+.1f}%",
        z="—" if h.anomaly_score is None else f"{h.anomaly_score:+.1f}",
        status=h.status,
        severity="raises an alarm" if h.severity == "alarm" else "raises a warning",
        details=details,
        runbook=h.runbook,
    )


def _stickiness(data: Stickiness | None, charts: Charts) -> StickinessBlock | None:
    from telemetry_kpis.formatting import format_change_pct, format_value

    if data is None:
        return None
    return StickinessBlock(
        label=data.label,
        month=data.month,
        monthly=format_value(data.monthly, "rate"),
        change=format_change_pct(data.month_change_pct),
        chart=_image(charts, "stickiness", f"{data.label}: daily series"),
    )


def page(
    evaluation: Evaluation,
    definitions: Definitions,
    charts: Charts,
    *,
    moved: Mapping[str, WhatMoved] | None = None,
    stickiness: Stickiness | None = None,
) -> Page:
    """What the template shows, every value formatted."""
    moved = moved or {}
    by_okr: dict[str, list[KeyResultResult]] = {}
    for kr in evaluation.key_results:
        by_okr.setdefault(kr.okr, []).append(kr)
    return Page(
        as_of=str(evaluation.as_of),
        generated=evaluation.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip(),
        public=evaluation.public,
        level=evaluation.level,
        examples=any(kr.example for kr in evaluation.key_results),
        sections=[
            _okr_section(okr, by_okr[okr.name], charts, moved)
            for okr in definitions.okrs
            if by_okr.get(okr.name)
        ],
        health=[_health_row(h) for h in evaluation.health],
        health_charts=[
            _image(charts, f"health:{h.key}", f"{h.key}: chart") for h in evaluation.health
        ],
        quality=evaluation.quality if evaluation.quality_ran else None,
        stickiness=_stickiness(stickiness, charts),
    )


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("telemetry_kpis.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["colour"] = lambda status: STATUS_COLOURS.get(status, "#57606a")
    return environment


def render_html(
    evaluation: Evaluation,
    definitions: Definitions,
    charts: Charts,
    *,
    moved: Mapping[str, WhatMoved] | None = None,
    stickiness: Stickiness | None = None,
) -> str:
    """The whole page. ``charts`` maps ``kr:<key>`` / ``health:<key>`` / ``moved:<key>`` /
    ``stickiness`` to (PNG, file name); ``moved`` and ``stickiness`` (report.moved) say what
    the "What moved" charts and the stickiness section show."""
    template = _environment().get_template("report.html")
    return template.render(
        page=page(evaluation, definitions, charts, moved=moved, stickiness=stickiness)
    )
