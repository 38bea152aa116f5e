"""OKRs, key results and health metrics: ``kpi_definitions/*.yml`` → validated models.

Every ``*.yml``/``*.yaml`` file of the folder may hold three lists, ``okrs``, ``key_results``
and ``health_metrics``; the folder is read as one set (a key result may point at an OKR of
another file). Each file is validated by the pydantic models below: field constraints for single
values, a model validator for the rules that tie fields together (a grain the metric is
published at, an end after the start). What spans files (OKR references, unique names) is
checked once every file has parsed. An invalid file fails with one line naming the file, the
field and what was expected, e.g.::

    kpi_definitions/okrs.yml: key_results[2].target_value: expected a number, got 'abc'

The metrics a definition may use are the ``metric_name``s that ``marts.kpi_values`` publishes,
as listed by the metric registry (:func:`metrics`), or ``manual`` for a key result whose values
are entered in the file; ``data_freshness_hours`` without a grain is computed live by
``kpis check`` (see :data:`COMPUTED_METRICS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
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

from telemetry_kpis.errors import UserError
from telemetry_kpis.registry import Grain, Metric, load_registry

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


def __getattr__(name: str) -> dict[str, Metric]:
    # ``METRICS`` stays importable for callers of the older constant, read lazily like metrics().
    if name == "METRICS":
        return metrics()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def metric_label(name: str) -> str:
    """The registry's display name of a metric (``manual`` and unknown names as they are)."""
    metric = metrics().get(name)
    return metric.label if metric else name


class DefinitionError(UserError):
    """An invalid definition file (exit code 2)."""


# --- field types: pydantic constraints, worded for people --------------------------------------
def _describe(value: Any) -> str:
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
                "expected", "expected {what}, got {got}", {"what": what, "got": _describe(value)}
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
    severity: Severity
    runbook: Url
    visibility: Visibility = "internal"
    description: str | None = None

    @property
    def key(self) -> str:
        if self.name:
            return self.name
        return f"{self.metric}_{self.grain}" if self.grain else self.metric

    @property
    def computed(self) -> bool:
        return self.metric in COMPUTED_METRICS and self.grain is None

    def _problems(self) -> Problems:
        if self.computed:
            for field in ("max_drop_pct", "max_rise_pct", "baseline_periods", "anomaly"):
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
        if not any((self.expected_range, self.max_drop_pct, self.max_rise_pct, self.anomaly)):
            yield (
                "expected_range",
                "expected at least one check (expected_range, max_drop_pct, "
                "max_rise_pct or anomaly)",
            )


class DefinitionFile(_Model):
    okrs: list[OKR] = []
    key_results: list[KeyResult] = []
    health_metrics: list[HealthMetric] = []


@dataclass(frozen=True)
class Definitions:
    """Everything in the definitions folder, validated and cross-checked."""

    okrs: tuple[OKR, ...]
    key_results: tuple[KeyResult, ...]
    health_metrics: tuple[HealthMetric, ...]
    folder: Path

    def okr(self, name: str) -> OKR:
        return next(o for o in self.okrs if o.name == name)

    def key_results_of(self, okr: OKR) -> list[KeyResult]:
        return [kr for kr in self.key_results if kr.okr == okr.name]

    def timeframe(self, kr: KeyResult) -> Timeframe:
        return kr.timeframe or self.okr(kr.okr).timeframe

    def series(self) -> set[tuple[str, str]]:
        """(metric_name, grain) pairs that must be read from kpi_values."""
        pairs = {(kr.kpi, kr.grain) for kr in self.key_results if kr.kpi != MANUAL}
        pairs |= {(h.metric, h.grain) for h in self.health_metrics if not h.computed}
        return {(m, g) for m, g in pairs if g}


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "kr"


# --- reading files ----------------------------------------------------------------------------
def _path_text(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


#: pydantic error type -> what the field expected; the offending value is appended.
_EXPECTED = {
    "extra_forbidden": "unknown field (check the spelling)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "model_type": "expected a mapping of fields",
    "model_attributes_type": "expected a mapping of fields",
    "dict_type": "expected a mapping",
    "string_type": "expected a text",
    "string_too_short": "expected a non-empty text",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
}


def _format_error(error: Mapping[str, Any]) -> tuple[str, str]:
    """(field path, message) of one pydantic error."""
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = f", got {_describe(error.get('input'))}"
    if kind == CROSS_FIELD:
        loc += tuple(part for part in ctx["field"].split(".") if part)
        message = str(ctx["message"])
    elif kind == "expected":
        message = str(error["msg"])
    elif kind == "missing":
        message = "missing required field"
    elif kind == "literal_error":
        message = f"expected one of {ctx['expected']}{got}"
    elif kind in _EXPECTED:
        message = _EXPECTED[kind] + got
    else:
        message = str(error["msg"])
    return _path_text(loc), message


class _DefinitionLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys (PyYAML silently keeps the last one).

    Dates stay text until pydantic parses them: PyYAML raises a bare ValueError on 2026-13-01,
    the model names the field instead.
    """

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_DefinitionLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, shown: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{shown}: cannot read the file ({exc})") from None
    try:
        return yaml.load(text, Loader=_DefinitionLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DefinitionError(f"{shown}: {where}invalid YAML ({problem})") from None
    except ValueError as exc:  # a constructor refusing a value
        raise DefinitionError(f"{shown}: invalid YAML value ({exc})") from None


def parse_file(path: Path) -> DefinitionFile:
    """Read and validate one file (everything but the references across files)."""
    shown = _display(path)
    data = _read_yaml(path, shown)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DefinitionError(
            f"{shown}: expected a mapping with okrs, key_results and/or health_metrics, "
            f"got {_describe(data)}"
        )
    metrics()  # a broken registry is a project bug: raise it here, not as a field error
    try:
        return DefinitionFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        field, message = _format_error(errors[0])
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise DefinitionError(f"{shown}: {field}: {message}{more}") from None


def _check_across_files(parsed: list[tuple[Path, DefinitionFile]]) -> None:
    """Unique names and OKR references, which no single file can check."""
    okr_names: set[str] = set()
    for path, content in parsed:
        for i, okr in enumerate(content.okrs):
            if okr.name in okr_names:
                raise DefinitionError(
                    f"{_display(path)}: okrs[{i}].name: expected a unique name, "
                    f"got {okr.name!r} again"
                )
            okr_names.add(okr.name)
    known = ", ".join(sorted(okr_names)) or "none defined"
    kr_keys: set[str] = set()
    health_keys: set[str] = set()
    for path, content in parsed:
        for i, kr in enumerate(content.key_results):
            where = f"{_display(path)}: key_results[{i}]"
            if kr.okr not in okr_names:
                raise DefinitionError(
                    f"{where}.okr: expected the name of an OKR ({known}), got {kr.okr!r}"
                )
            if kr.key in kr_keys:
                raise DefinitionError(
                    f"{where}.name: expected a unique key result name, got {kr.key!r} again"
                )
            kr_keys.add(kr.key)
        for i, hm in enumerate(content.health_metrics):
            if hm.key in health_keys:
                raise DefinitionError(
                    f"{_display(path)}: health_metrics[{i}].name: expected a unique health "
                    f"metric name, got {hm.key!r} again"
                )
            health_keys.add(hm.key)


def load_definitions(folder: Path | str) -> Definitions:
    """Load, validate and cross-check every definition file of ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DefinitionError(f"{_display(folder)}: no such definitions folder")
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    if not files:
        raise DefinitionError(f"{_display(folder)}: no *.yml definition files")
    parsed = [(path, parse_file(path)) for path in files]
    for path, content in parsed:
        if not (content.okrs or content.key_results or content.health_metrics):
            # an empty or comment-only file: most likely a mistake, never silently nothing
            raise DefinitionError(f"no key results or health metrics defined in {_display(path)}")
    _check_across_files(parsed)
    key_results = tuple(k for _, c in parsed for k in c.key_results)
    health_metrics = tuple(h for _, c in parsed for h in c.health_metrics)
    if not key_results and not health_metrics:
        # OKRs alone: a check of nothing would pass silently, so say what is missing instead.
        raise DefinitionError(f"no key results or health metrics defined in {_display(folder)}")
    return Definitions(
        okrs=tuple(o for _, c in parsed for o in c.okrs),
        key_results=key_results,
        health_metrics=health_metrics,
        folder=folder,
    )
