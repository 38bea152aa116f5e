"""What the handbook page says, as plain data: one section per registry metric.

Everything comes from the metric registry (dbt_project.yml), the model YAML (the description of
the mart behind each metric), ``kpi_definitions/`` and, when the warehouse is read, the
**public view** of the evaluation (``evaluate.apply_visibility``). The transparency rule holds
by construction: a value reaches the page only from that redacted evaluation, or from a
definition whose ``visibility`` is ``public``; internal OKRs are left out, an internal key
result shows its goal, owner and timeframe but no start, target or current value, and an
internal health metric shows which checks it runs but none of their numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from telemetry_kpis.formatting import format_value
from telemetry_kpis.registry import Metric, load_registry

if TYPE_CHECKING:
    from telemetry_kpis.definitions import Definitions, HealthMetric, KeyResult
    from telemetry_kpis.results import Evaluation

#: the status rule of a key result (README, "How a key result is evaluated"), in one sentence
STATUS_RULE = (
    "achieved at 100 % progress; on track when at most 10 points behind the share of the "
    "timeframe that has passed, or when the trend reaches the target; at risk when at most 25 "
    "points behind; off track otherwise; missed when the timeframe ends below 100 %"
)
INTERNAL = "internal"
MODEL_NAME = re.compile(r"^[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class ModelDoc:
    name: str
    sql_path: str  # relative to the project
    description: str


@dataclass(frozen=True)
class KeyResultLine:
    okr_label: str
    goal: str
    grain: str
    owner: str
    timeframe: str
    start: str
    target: str
    current: str
    status: str
    dashboard: str


@dataclass(frozen=True)
class HealthLine:
    name: str
    grain: str
    checks: str
    severity: str
    runbook: str


@dataclass(frozen=True)
class MetricSection:
    name: str
    label: str
    definition: str
    grains: str
    kind: str
    unit: str
    better: str
    source: str
    model: ModelDoc | None
    analysis: str
    segments: str
    contract: bool
    key_results: list[KeyResultLine] = field(default_factory=list)
    health: list[HealthLine] = field(default_factory=list)


@dataclass(frozen=True)
class HandbookPage:
    as_of: date | None
    sections: list[MetricSection]
    status_rule: str = STATUS_RULE


def _first_sentences(text: str, limit: int = 2) -> str:
    words = " ".join(text.split())
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z])", words)
    return " ".join(sentences[:limit])


@cache
def model_docs(project: Path) -> dict[str, ModelDoc]:
    """model name -> its SQL file and YAML description, from models/**/*.yml."""
    docs: dict[str, ModelDoc] = {}
    for yml in sorted((project / "models").rglob("*.yml")):
        document = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            sql = yml.with_name(f"{model['name']}.sql")
            docs[model["name"]] = ModelDoc(
                name=model["name"],
                sql_path=sql.relative_to(project).as_posix(),
                description=_first_sentences(str(model.get("description") or "")),
            )
    return docs


def _timeframe(definitions: Definitions, kr: KeyResult) -> str:
    frame = definitions.timeframe(kr)
    return f"{frame.start} to {frame.end}"


def _key_result_lines(
    metric: Metric, definitions: Definitions, evaluation: Evaluation | None
) -> list[KeyResultLine]:
    public_okrs = {o.name: o for o in definitions.okrs if o.visibility == "public"}
    results = {r.key: r for r in evaluation.key_results} if evaluation else {}
    lines = []
    for kr in definitions.key_results:
        if kr.kpi != metric.name or kr.okr not in public_okrs:
            continue
        public = kr.visibility == "public"
        result = results.get(kr.key)
        start = format_value(kr.start_value, metric.kind) if public else INTERNAL
        target = format_value(kr.target_value, metric.kind) if public else INTERNAL
        if public and kr.example:
            start, target = f"{start} (example)", f"{target} (example)"
        if result is None:
            current, status = "—", "—"
        else:  # the public view: an internal result has no values left
            current = format_value(result.current_value, metric.kind) if public else INTERNAL
            status = result.status
        lines.append(
            KeyResultLine(
                okr_label=public_okrs[kr.okr].label,
                goal=kr.goal,
                grain=kr.grain or "",
                owner=kr.owner or "—",
                timeframe=_timeframe(definitions, kr),
                start=start,
                target=target,
                current=current,
                status=status,
                dashboard=result.dashboard if result else _dashboard(kr),
            )
        )
    return lines


def _dashboard(kr: KeyResult) -> str:
    """Its generated Superset page under KPIS_SUPERSET_URL, else the definition's link."""
    from telemetry_kpis.dashboards.links import dashboard_url

    return dashboard_url(kr.key, str(kr.dashboard)) or str(kr.dashboard)


def _checks(hm: HealthMetric, kind: str) -> str:
    """The checks a health metric runs; their numbers only when it is public."""
    public = hm.visibility == "public"
    parts = []
    if hm.segment_target:
        parts.append(f"segment {hm.segment_target[0]}={hm.segment_target[1]}")
    if hm.expected_range:
        low, high = hm.expected_range.min, hm.expected_range.max
        shown = (
            f"expected range [{format_value(low, kind)}, {format_value(high, kind)}]"
            if public
            else "expected range (internal)"
        )
        parts.append(shown)
    if hm.max_drop_pct is not None:
        parts.append(f"drop at most {hm.max_drop_pct:g} % vs baseline" if public else "drop limit")
    if hm.max_rise_pct is not None:
        parts.append(f"rise at most {hm.max_rise_pct:g} % vs baseline" if public else "rise limit")
    if hm.anomaly:
        anomaly = f"anomaly |z| <= {hm.anomaly.threshold:g}" if public else "anomaly score"
        if hm.anomaly.per_segment:
            anomaly += f" per {hm.anomaly.per_segment}"
        parts.append(anomaly)
    return "; ".join(parts) or "—"


def _health_lines(metric: Metric, definitions: Definitions) -> list[HealthLine]:
    return [
        HealthLine(
            name=hm.key,
            grain=hm.grain or "—",
            checks=_checks(hm, metric.kind),
            severity=hm.severity,
            runbook=str(hm.runbook),
        )
        for hm in definitions.health_metrics
        if hm.metric == metric.name
    ]


def build_page(
    project: Path, definitions: Definitions, evaluation: Evaluation | None
) -> HandbookPage:
    """The page for every registry metric. ``evaluation`` must be the public view (or None)."""
    if evaluation is not None and not evaluation_is_public(evaluation, definitions):
        raise ValueError("the handbook takes only the public view of an evaluation")
    docs = model_docs(project.resolve())
    sections = []
    for metric in load_registry(project).values():
        match = MODEL_NAME.match(metric.source)
        sections.append(
            MetricSection(
                name=metric.name,
                label=metric.label,
                definition=" ".join(metric.definition.split()),
                grains=", ".join(metric.grains),
                kind=metric.kind,
                unit=metric.unit,
                better=metric.direction,
                source=metric.source,
                model=docs.get(match.group(0)) if match else None,
                analysis=metric.analysis,
                segments=", ".join(metric.segments) or "—",
                contract=metric.contract,
                key_results=_key_result_lines(metric, definitions, evaluation),
                health=_health_lines(metric, definitions),
            )
        )
    return HandbookPage(as_of=evaluation.as_of if evaluation else None, sections=sections)


def evaluation_is_public(evaluation: Evaluation, definitions: Definitions) -> bool:
    """True when no internal key result or health metric of ``evaluation`` still has a value."""
    internal_krs = {kr.key for kr in definitions.key_results if kr.visibility != "public"}
    internal_health = {h.key for h in definitions.health_metrics if h.visibility != "public"}
    return all(
        r.current_value is None and r.start_value is None
        for r in evaluation.key_results
        if r.key in internal_krs
    ) and all(h.value is None for h in evaluation.health if h.key in internal_health)
