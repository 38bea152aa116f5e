"""Segments of a metric (``marts.kpi_values_by_segment``): which kinds are published for which
metric. No pandas here: the definitions validate against it before anything heavy is imported
(the series of a segment are cut in :mod:`telemetry_kpis.evaluate_segments`).

The kinds each metric is split by are the ``segments`` of its metric registry entry
(dbt_project.yml; a dbt test holds the mart to them), per metrics.md "Segments: why a number
moved": execution-level metrics by the execution's environment, Meltano version, OS and CI
flag; project-level metrics by the project's Meltano version, OS and CI flag at the period's
end, and ``active_projects`` by its fish segment too. A segment value with nothing in a period
is absent from the mart: for a count that is 0, for a rate it is no value.
"""

from __future__ import annotations

from typing import get_args

from telemetry_kpis.registry import SegmentKind, load_registry

#: Every segment kind of kpi_values_by_segment, in display order.
SEGMENT_KINDS: tuple[str, ...] = get_args(SegmentKind)


def segment_name(kind: str, value: str) -> str:
    """How a segment is named in every output: ``environment=prod``."""
    return f"{kind}={value}"


def published_segments(metric: str) -> tuple[str, ...]:
    """The segment kinds the registry publishes ``metric`` by (none for an unknown metric)."""
    entry = load_registry().get(metric)
    return entry.segments if entry else ()
