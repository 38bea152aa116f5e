"""The pydantic models of ``kpi_definitions/*.yml``: OKRs, key results and health metrics.

Single values are checked by field constraints, worded for people by :func:`_expected`; rules
that tie fields of one model together (a grain the metric is published at, an end after the
start) by one model validator, :meth:`_Model._problems`, which names the field to blame.
:mod:`telemetry_kpis.definitions` reads the files and turns errors into one line each.

The metrics a definition may use are the ``metric_name``s that ``marts.kpi_values`` publishes,
as listed by the metric registry (:func:`metrics`), or ``manual`` for a key result whose values
are entered in the file; ``data_freshness_hours`` without a grain is computed live by
``kpis check`` (see :data:`COMPUTED_METRICS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from telemetry_kpis.registry import Grain, Metric, load_registry
from telemetry_kpis.segments import SEGMENT_KINDS, published_segments

Visibility = Literal["public", "internal"]
Severity = Literal["warn", "alarm"]

#: The health metric ``kpis check`` measures itself when it is given without a grain.
LIVE_FRESHNESS = "data_freshness_hours"

#: Health metrics computed by ``kpis check`` (when given without a grain) rather than read from
#: kpi_values, with what is computed: the live freshness is now (or the end of the --as-of day)
#: minus the newest execution in marts.fct_cli_executions. With ``grain: day`` the same name
#: reads the kpi_values series instead. The kind and label are the registry entry's of the same
#: name, so a computed value is shown like the published series.
COMPUTED_METRICS: dict[str, str] = {
    LIVE_FRESHNESS: "hours between the as-of time and the newest CLI execution",
}

MANUAL = "manual"

#: Default trailing windows (periods) for baselines, anomaly scores and trends, per grain.
DEFAULT_BASELINE_PERIODS = {"day": 28, "week": 8, "month": 6}
DEFAULT_TREND_PERIODS = {"day": 28, "week": 8, "month": 3}


def metrics() -> dict[str, Metric]:
    """metric_name -> registry entry, for every series of marts.kpi_values.

    Read from the project on first use, not at import: importing this module must work where
    no project can be found (``kpis --help``, a test collecting modules).
    """
    return load_registry()


def metric_label(name: str) -> str:
    """The registry's display name of a metric (``manual`` and unknown names as they are)."""
    metric = metrics().get(name)
    return metric.label if metric else name


# --- field types: pydantic constraints, worded for people --------------------------------------
def describe_value(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _expected(what: str, *, types: tuple[type, ...] = (object,)) -> WrapValidator:
    """Report any failure of the wrapped constraints as ``expected <what>, got <value>``.

    Pydantic's own messages name the constraint ("greater than 0"); the user needs the meaning
    of the field ("a percentage above 0"). Values that are not one of ``types`` fail before
    pydantic's conversions see them.
    """

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            if not isinstance(value, types):
                raise ValueError(value)
            return handler(value)
        except (ValueError, ValidationError):
            raise PydanticCustomError(
                "expected",
                "expected {what}, got {got}",
                {"what": what, "got": describe_value(value)},
            ) from None

    return WrapValidator(validate)


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^OKR: .+"),
    _expected("'OKR: <short description>'"),
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^https?://\S+$"),
    _expected("an http(s):// link"),
]
# strict: YAML's true/false are no numbers, and "12" in quotes is a text.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Positive = Annotated[
    float, Field(strict=True, allow_inf_nan=False, gt=0), _expected("a number above 0")
]
Percent = Annotated[
    float, Field(strict=True, allow_inf_nan=False, gt=0), _expected("a percentage above 0")
]
Periods = Annotated[int, Field(strict=True, ge=2), _expected("a whole number of periods >= 2")]
# Text or a date only: pydantic would also read a number as seconds since 1970.
Day = Annotated[date, _expected("a date (YYYY-MM-DD)", types=(str, date))]

#: Error type of a rule spanning fields; its ``field`` context names the field to blame.
CROSS_FIELD = "cross_field"

Problems = Iterator[tuple[str, str]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def _problems(self) -> Problems:
        """(field, message) for each broken rule that ties fields together."""
        return iter(())

    @model_validator(mode="after")
    def _fields_agree(self) -> Self:
        for field, message in self._problems():
            # the first problem is enough: the user fixes one line at a time
            raise PydanticCustomError(
                CROSS_FIELD, "{message}", {"field": field, "message": message}
            )
        return self


def _grain_problems(metric: Metric, grain: str | None) -> Problems:
    if grain is None:
        yield "grain", "missing required field"
    elif grain not in metric.grains:
        published = ", ".join(metric.grains)
        yield "grain", f"expected one of {published} for {metric.name}, got {grain!r}"


class Timeframe(_Model):
    start: Day
    end: Day

    def _problems(self) -> Problems:
        if self.end <= self.start:
            yield "end", f"expected a date after start ({self.start}), got {self.end}"


class OKR(_Model):
    """An objective: ``label`` is what dashboards show (``OKR: <short description>``)."""

    name: Text = Field(description="identifier, referenced by key_results[].okr")
    objective: Text
    scope: Text = Field(description="who owns it: company, a team, a product area")
    label: Label
    timeframe: Timeframe
    visibility: Visibility = "internal"
    description: str | None = None


class ManualValue(_Model):
    date: Day
    value: Number


class KeyResult(_Model):
    """A measurable result of an OKR: a kpi_values series (or manual values) from start to target.

    ``start_value``/``target_value`` may be marked ``example: true`` while the team has not
    agreed on real numbers; outputs then flag them.
    """

    okr: Text
    name: Text | None = Field(default=None, description="identifier; default: from the goal")
    goal: Text = Field(description='goal title, e.g. "Improve Metric X"')
    kpi: Text = Field(description="a metric_name of marts.kpi_values, or `manual`")
    grain: Grain | None = None
    start_value: Number
    target_value: Number
    direction: Literal["increase", "decrease"] | None = None
    timeframe: Timeframe | None = Field(default=None, description="default: the OKR's")
    dashboard: Url
    owner: Text | None = None
    visibility: Visibility = "internal"
    example: bool = False
    trend_periods: Periods | None = None
    values: list[ManualValue] | None = Field(default=None, description="kpi: manual only")
    description: str | None = None

    @property
    def key(self) -> str:
        return self.name or slugify(self.goal)

    @property
    def increasing(self) -> bool:
        """Whether a higher value is progress: the ``direction`` given, else the way from start
        to target, else (start = target, hold the line) the metric's registry direction."""
        if self.direction:
            return self.direction == "increase"
        if self.target_value != self.start_value:
            return self.target_value > self.start_value
        metric = metrics().get(self.kpi)
        return metric is None or metric.higher_is_better

    def _problems(self) -> Problems:
        if self.kpi == MANUAL:
            if self.values is None:
                yield "values", "missing required field (kpi: manual needs values)"
        else:
            metric = metrics().get(self.kpi)
            if metric is None:
                yield "kpi", f"expected `manual` or a metric of kpi_values, got {self.kpi!r}"
            else:
                yield from _grain_problems(metric, self.grain)
            if self.values is not None:
                yield "values", "only allowed with kpi: manual"
        rising = self.target_value > self.start_value
        if self.direction and self.start_value != self.target_value and self.increasing != rising:
            yield (
                "direction",
                f"expected {'increase' if rising else 'decrease'} (target "
                f"{self.target_value:g} vs start {self.start_value:g}), got {self.direction!r}",
            )


class Anomaly(_Model):
    threshold: Positive = 3.5
    window: Periods | None = None
    per_segment: Text | None = Field(
        default=None, description="a segment kind: score every value of it, name the breaches"
    )


#: ``segment: {environment: prod}``: exactly one kind and its value, both texts (quote a
#: version: '3.10' is a text, 3.10 a number).
SegmentValue = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    _expected("a segment value as text (quote numbers: '3.10')", types=(str,)),
]


def _segment_kind_problems(metric: str, kind: str, field: str) -> Problems:
    if kind not in SEGMENT_KINDS:
        yield field, f"expected a segment kind ({', '.join(SEGMENT_KINDS)}), got {kind!r}"
        return
    published = published_segments(metric)
    if kind not in published:
        allowed = ", ".join(published) if published else "none"
        yield (
            field,
            f"{metric} is not published by {kind} in kpi_values_by_segment "
            f"(its segment kinds: {allowed})",
        )


class ExpectedRange(_Model):
    min: Number | None = None
    max: Number | None = None

    def _problems(self) -> Problems:
        if self.min is None and self.max is None:
            yield "", "expected min and/or max"
        elif self.min is not None and self.max is not None and self.min > self.max:
            yield "max", f"expected a number >= min ({self.min:g}), got {self.max:g}"


class HealthMetric(_Model):
    """A guard rail on a series: expected range, change vs a trailing baseline, anomaly score."""

    metric: Text
    name: Text | None = None
    grain: Grain | None = None
    expected_range: ExpectedRange | None = None
    max_drop_pct: Percent | None = None
    max_rise_pct: Percent | None = None
    baseline_periods: Periods | None = None
    anomaly: Anomaly | None = None
    segment: dict[str, SegmentValue] | None = Field(
        default=None, description="one segment of the metric, e.g. {environment: prod}"
    )
    severity: Severity
    runbook: Url
    visibility: Visibility = "internal"
    description: str | None = None

    @property
    def key(self) -> str:
        if self.name:
            return self.name
        key = f"{self.metric}_{self.grain}" if self.grain else self.metric
        if self.segment_target:
            key += "_" + slugify("_".join(self.segment_target))
        return key

    @property
    def segment_target(self) -> tuple[str, str] | None:
        """(kind, value) of ``segment``, or None for the metric as a whole."""
        if not self.segment or len(self.segment) != 1:
            return None
        return next(iter(self.segment.items()))

    @property
    def computed(self) -> bool:
        return self.metric in COMPUTED_METRICS and self.grain is None

    def _problems(self) -> Problems:
        if self.computed:
            for field in ("max_drop_pct", "max_rise_pct", "baseline_periods", "anomaly", "segment"):
                if getattr(self, field) is not None:
                    yield (
                        field,
                        f"not supported for the live {self.metric} (only expected_range; "
                        "add grain: day to check the kpi_values series)",
                    )
            if self.expected_range is None:
                yield "expected_range", "missing required field"
            return
        metric = metrics().get(self.metric)
        if metric is None:
            yield "metric", f"expected one of {', '.join(metrics())}, got {self.metric!r}"
        else:
            yield from _grain_problems(metric, self.grain)
            yield from self._segment_problems()
        if not any((self.expected_range, self.max_drop_pct, self.max_rise_pct, self.anomaly)):
            yield (
                "expected_range",
                "expected at least one check (expected_range, max_drop_pct, "
                "max_rise_pct or anomaly)",
            )

    def _segment_problems(self) -> Problems:
        if self.segment is not None:
            if len(self.segment) != 1:
                count = len(self.segment)
                yield (
                    "segment",
                    "expected exactly one segment kind and its value, e.g. "
                    f"{{environment: prod}}, got {count}",
                )
                return
            kind = next(iter(self.segment))
            yield from _segment_kind_problems(self.metric, kind, f"segment.{kind}")
        per_segment = self.anomaly.per_segment if self.anomaly else None
        if per_segment is not None:
            if self.segment is not None:
                yield "anomaly.per_segment", "not allowed with segment (the series is one segment)"
                return
            yield from _segment_kind_problems(self.metric, per_segment, "anomaly.per_segment")


class DefinitionFile(_Model):
    okrs: list[OKR] = []
    key_results: list[KeyResult] = []
    health_metrics: list[HealthMetric] = []


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "kr"
