"""Segments of a metric (``marts.kpi_values_by_segment``): which kinds are published for which
metric. No pandas here: the definitions validate against it before anything heavy is imported
(the series of a segment are cut in :mod:`telemetry_kpis.evaluate_segments`).

The segment kinds and the metrics each is published for are the contract of the dbt model
(metrics.md, "Segments: why a number moved"): execution-level metrics by the execution's
environment, Meltano version, OS and CI flag; project-level metrics by the project's Meltano
version, OS and CI flag at the period's end, and ``active_projects`` by its fish segment too.
A segment value with nothing in a period is absent from the mart: for a count that is 0, for a
rate it is no value.
"""

from __future__ import annotations

#: Every segment kind of kpi_values_by_segment, in display order.
SEGMENT_KINDS = ("environment", "meltano_version", "os", "ci", "fish")

_EXECUTION_KINDS = ("environment", "meltano_version", "os", "ci")
_PROJECT_KINDS = ("meltano_version", "os", "ci")

#: metric_name -> the segment kinds kpi_values_by_segment publishes it by.
PUBLISHED_SEGMENTS: dict[str, tuple[str, ...]] = {
    "pipeline_runs": _EXECUTION_KINDS,
    "successful_pipeline_runs": _EXECUTION_KINDS,
    "unique_pipelines": _EXECUTION_KINDS,
    "pipeline_success_rate": _EXECUTION_KINDS,
    "active_projects": (*_PROJECT_KINDS, "fish"),
    "new_projects": _PROJECT_KINDS,
    "new_active_projects": _PROJECT_KINDS,
    "retained_projects": _PROJECT_KINDS,
    "reactivated_projects": _PROJECT_KINDS,
    "churned_projects": _PROJECT_KINDS,
}


def segment_name(kind: str, value: str) -> str:
    """How a segment is named in every output: ``environment=prod``."""
    return f"{kind}={value}"


def published_segments(metric: str) -> tuple[str, ...]:
    return PUBLISHED_SEGMENTS.get(metric, ())
