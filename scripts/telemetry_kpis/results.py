"""What an evaluation produces: one result per key result, health metric and quality check.

Plain dataclasses shared by the evaluation (evaluate.py, evaluate_health.py, quality.py) and
the outputs (check.py, report/, notify.py); ``to_dict`` is the JSON of ``kpis check``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

KR_STATUSES = ("no data", "not started", "achieved", "missed", "on track", "at risk", "off track")
#: Key result statuses that ``kpis check`` explains with the top contributors of the change.
KR_BREACHING = ("at risk", "off track", "missed")
LEVELS = ("ok", "warn", "alarm")

#: Tolerance of every comparison of values: a float that lands exactly on a bound is inside.
EPSILON = 1e-9


@dataclass
class Contributor:
    """One part of a metric's change against the previous period (a row of marts.kpi_drivers).

    ``driver_kind`` is a segment kind (``environment``, ``os``, ...) or ``lifecycle``;
    ``contribution`` is the signed part of the metric's change, ``share_of_change`` that part
    over the whole change (null when the change is 0). In the public view the values of an
    internal metric are removed (None); the names and shares stay.
    """

    driver_kind: str
    driver: str
    value: float | None
    previous_value: float | None
    contribution: float | None
    share_of_change: float | None

    @property
    def name(self) -> str:
        """``environment=prod``; a lifecycle part by its own name (``churned_projects``)."""
        return (
            self.driver if self.driver_kind == "lifecycle" else f"{self.driver_kind}={self.driver}"
        )

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({**asdict(self), "name": self.name})


@dataclass
class KeyResultResult:
    key: str
    okr: str
    okr_label: str
    goal: str
    kpi: str
    grain: str | None
    kind: str
    visibility: str
    example: bool
    dashboard: str
    owner: str | None
    timeframe_start: date
    timeframe_end: date
    as_of: date
    start_value: float | None
    target_value: float | None
    direction: str = "increase"
    current_value: float | None = None
    measured_on: date | None = None
    partial: bool = False
    progress: float | None = None
    expected_progress: float | None = None
    projected_value: float | None = None
    projected_progress: float | None = None
    status: str = "no data"
    note: str = ""
    redacted: bool = False
    # the evaluated period against the one before and the one a year earlier (kpi_values)
    period_start: date | None = None
    previous_value: float | None = None
    pop_change_pct: float | None = None  # a fraction: 0.12 = +12 %
    year_ago_value: float | None = None
    yoy_change_pct: float | None = None
    contributors: list[Contributor] = field(default_factory=list)
    series: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def breaching(self) -> bool:
        """A key result that needs an explanation: behind pace, or over and missed."""
        return self.status in KR_BREACHING

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass
class HealthResult:
    key: str
    metric: str
    grain: str | None
    kind: str
    severity: str
    runbook: str
    visibility: str
    as_of: date
    period_start: date | None = None
    period_end: date | None = None
    value: float | None = None
    range_min: float | None = None
    range_max: float | None = None
    baseline: float | None = None
    change_pct: float | None = None
    max_drop_pct: float | None = None
    max_rise_pct: float | None = None
    anomaly_score: float | None = None
    anomaly_threshold: float | None = None
    status: str = "ok"
    breaches: list[str] = field(default_factory=list)
    note: str = ""
    redacted: bool = False
    segment: str | None = None  # ``environment=prod`` when the series is one segment's
    previous_value: float | None = None
    pop_change_pct: float | None = None  # vs the previous period, a fraction: 0.12 = +12 %
    year_ago_value: float | None = None
    yoy_change_pct: float | None = None
    #: per-segment anomaly (``anomaly.per_segment``): the segment values beyond the threshold
    anomaly_segments: list[SegmentScore] = field(default_factory=list)
    contributors: list[Contributor] = field(default_factory=list)
    series: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def breaching(self) -> bool:
        return self.status in ("warn", "alarm") and self.period_start is not None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass
class SegmentScore:
    """The robust z-score of one segment value's series (``environment=prod``)."""

    segment: str
    value: float | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass
class QualityResult:
    """One data-quality expectation (filled by quality.py); a failure is an alarm."""

    name: str
    description: str
    success: bool
    checked: int = 0
    failed: int = 0
    details: str = ""

    @property
    def status(self) -> str:
        return "ok" if self.success else "alarm"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


@dataclass
class Evaluation:
    as_of: date
    generated_at: datetime
    key_results: list[KeyResultResult]
    health: list[HealthResult]
    quality: list[QualityResult] = field(default_factory=list)
    quality_ran: bool = False
    public: bool = False

    @property
    def level(self) -> str:
        """Worst of the health statuses and the data-quality results: ok, warn or alarm."""
        statuses = [h.status for h in self.health] + [q.status for q in self.quality]
        return max(statuses, key=LEVELS.index, default="ok")

    @property
    def alarms(self) -> list[HealthResult | QualityResult]:
        return [h for h in self.health if h.status == "alarm"] + [
            q for q in self.quality if not q.success
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "level": self.level,
            "public": self.public,
            "key_results": [k.to_dict() for k in self.key_results],
            "health_metrics": [h.to_dict() for h in self.health],
            "quality": [q.to_dict() for q in self.quality] if self.quality_ran else None,
        }


def _to_dict(result: KeyResultResult | HealthResult) -> dict[str, Any]:
    data = asdict(replace(result, series=None, contributors=[]))
    data.pop("series")
    data["contributors"] = [c.to_dict() for c in result.contributors]
    if isinstance(result, HealthResult):
        data["anomaly_segments"] = [s.to_dict() for s in result.anomaly_segments]
    return _jsonable(data)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        out[key] = value
    return out
