"""The metric registry: every series ``marts.kpi_values`` publishes, read from the project.

The registry is the var ``metric_registry`` of ``dbt_project.yml``, so that dbt (kpi_values, its
publish test, unit tests) and the Python commands read one list.
A malformed registry is a bug of the project, not a user mistake, so it raises ``ValueError``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from telemetry_kpis.settings import project_dir

REGISTRY_FILE = Path("dbt_project.yml")

Grain = Literal["day", "week", "month"]
Kind = Literal["count", "rate", "hours", "ratio"]
#: The segment kinds of marts.kpi_values_by_segment, in display order (metrics.md "Segments").
SegmentKind = Literal["environment", "meltano_version", "os", "ci", "fish"]


class Metric(BaseModel):
    """One published metric: what it measures, at which grains, and how to show it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    grains: tuple[Grain, ...] = Field(min_length=1)
    kind: Kind
    unit: str = Field(min_length=1)
    direction: Literal["higher", "lower"]
    definition: str = Field(min_length=1)
    source: str = Field(min_length=1)
    analysis: str = Field(pattern=r"^analyses/.+\.sql$")
    contract: bool
    segments: tuple[SegmentKind, ...] = ()
    summary_order: int | None = None
    summary_label: str | None = None

    @property
    def description(self) -> str:
        """Alias of :attr:`definition`, for code that reads a metric's ``description``."""
        return self.definition

    @property
    def higher_is_better(self) -> bool:
        """Whether a rise is good news (``direction: higher``)."""
        return self.direction == "higher"


def registry_path(project: Path | None = None) -> Path:
    return (project or project_dir()) / REGISTRY_FILE


@cache
def _load(path: Path) -> dict[str, Metric]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = document["vars"]["metric_registry"]
    metrics = [Metric.model_validate(entry) for entry in entries]
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: a metric is listed twice in metric_registry")
    return {m.name: m for m in metrics}


def load_registry(project: Path | None = None) -> dict[str, Metric]:
    """metric_name -> Metric, in registry (display) order."""
    return _load(registry_path(project).resolve())


def summary_metrics(project: Path | None = None) -> list[Metric]:
    """The metrics ``kpis summary`` shows, in its order."""
    shown = [m for m in load_registry(project).values() if m.summary_order is not None]
    return sorted(shown, key=lambda m: m.summary_order or 0)
