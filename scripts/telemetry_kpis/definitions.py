"""OKRs, key results and health metrics: ``kpi_definitions/*.yml`` → validated models.

Every ``*.yml``/``*.yaml`` file of the folder may hold three lists, ``okrs``, ``key_results``
and ``health_metrics``; the folder is read as one set (a key result may point at an OKR of
another file). Files are validated on load (pydantic, then cross-field checks) and an invalid
file fails with one line naming the file, the field and what was expected, e.g.::

    kpi_definitions/okrs.yml: key_results[2].target_value: expected a number, got 'abc'

The metrics a definition may use are the ``metric_name``s that ``marts.kpi_values`` publishes
(:data:`METRICS`, from the publishing contract in ``metrics.md``), ``manual`` for a key result
whose values are entered in the file; ``data_freshness_hours`` without a grain is computed live
by ``kpis check`` (see :data:`COMPUTED_METRICS`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from telemetry_kpis.errors import UserError

Grain = Literal["day", "week", "month"]
Visibility = Literal["public", "internal"]
Severity = Literal["warn", "alarm"]


@dataclass(frozen=True)
class MetricInfo:
    """What a published metric is: its grains and its kind (``count``, ``rate``, ``hours``)."""

    grains: tuple[str, ...]
    kind: str
    description: str


_ALL = ("day", "week", "month")

#: metric_name -> info, for every series of marts.kpi_values (metrics.md, "Publishing contract").
#: Add a metric here when the marts start publishing it; nothing else needs to change.
METRICS: dict[str, MetricInfo] = {
    "active_projects": MetricInfo(("month",), "count", "monthly active projects (MAP)"),
    "daily_active_projects": MetricInfo(("day",), "count", "projects active on the day (28d)"),
    "pipeline_runs": MetricInfo(_ALL, "count", "pipeline runs"),
    "successful_pipeline_runs": MetricInfo(_ALL, "count", "pipeline runs with exit code 0"),
    "unique_pipelines": MetricInfo(_ALL, "count", "distinct pipelines with a run"),
    "new_projects": MetricInfo(_ALL, "count", "projects first seen (with exclusions)"),
    "pipeline_success_rate": MetricInfo(_ALL, "rate", "successful / all pipeline runs"),
    "prod_pipeline_run_share": MetricInfo(
        _ALL, "rate", "share of pipeline runs in the prod environment"
    ),
    "new_active_projects": MetricInfo(("month",), "count", "lifecycle: new active projects"),
    "retained_projects": MetricInfo(("month",), "count", "lifecycle: retained projects"),
    "reactivated_projects": MetricInfo(("month",), "count", "lifecycle: reactivated projects"),
    "churned_projects": MetricInfo(("month",), "count", "lifecycle: churned projects"),
    "new_project_retention_rate": MetricInfo(
        ("month",), "rate", "share of last month's newly active projects still active"
    ),
    "bad_event_share": MetricInfo(("day",), "rate", "quarantined / raw events, by day of load"),
    "data_freshness_hours": MetricInfo(
        ("day",), "hours", "hours between the end of the day and the newest event by then"
    ),
}

#: Health metrics computed by ``kpis check`` itself (when given without a grain) rather than
#: read from kpi_values: the live freshness, now (or the end of the --as-of day) minus the
#: newest execution in marts.fct_cli_executions. With ``grain: day`` the same name reads the
#: kpi_values series instead (freshness at the end of each day, as the marts computed it).
COMPUTED_METRICS: dict[str, MetricInfo] = {
    "data_freshness_hours": MetricInfo(
        (), "hours", "hours between the as-of time and the newest CLI execution"
    ),
}

MANUAL = "manual"

#: Default trailing windows (periods) for baselines, anomaly scores and trends, per grain.
DEFAULT_BASELINE_PERIODS = {"day": 28, "week": 8, "month": 6}
DEFAULT_TREND_PERIODS = {"day": 28, "week": 8, "month": 3}


class DefinitionError(UserError):
    """An invalid definition file (exit code 2)."""


# --- field types with readable errors ---------------------------------------------------------
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


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty text, got {_describe(value)}")
    return value.strip()


def _url(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value.strip()):
        raise ValueError(f"expected an http(s):// link, got {_describe(value)}")
    return value.strip()


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a date (YYYY-MM-DD), got {_describe(value)}")


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ValueError(f"expected a whole number of periods >= 2, got {_describe(value)}")
    return value


def _percent(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise ValueError(f"expected a percentage above 0, got {value!r}")
    return number


Number = Annotated[float, BeforeValidator(_number)]
Text = Annotated[str, BeforeValidator(_text)]
Url = Annotated[str, BeforeValidator(_url)]
Day = Annotated[date, BeforeValidator(_date)]
Periods = Annotated[int, BeforeValidator(_positive_int)]
Percent = Annotated[float, BeforeValidator(_percent)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeframe(_Model):
    start: Day
    end: Day


class OKR(_Model):
    """An objective: ``label`` is what dashboards show (``OKR: <short description>``)."""

    name: Text = Field(description="identifier, referenced by key_results[].okr")
    objective: Text
    scope: Text = Field(description="who owns it: company, a team, a product area")
    label: Text
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
        if self.direction:
            return self.direction == "increase"
        return self.target_value >= self.start_value


class Anomaly(_Model):
    threshold: Number = 3.5
    window: Periods | None = None


class ExpectedRange(_Model):
    min: Number | None = None
    max: Number | None = None


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


# --- loading ----------------------------------------------------------------------------------
def _path_text(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_PYDANTIC_EXPECTED = {
    "missing": "missing required field",
    "extra_forbidden": "unknown field (check the spelling)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "model_type": "expected a mapping of fields",
    "model_attributes_type": "expected a mapping of fields",
    "dict_type": "expected a mapping",
    "string_type": "expected a text",
}


def _format_error(error: Mapping[str, Any]) -> tuple[str, str]:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = error["type"]
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    elif kind == "literal_error":
        message = f"expected one of {error['ctx']['expected']}, got {_describe(error['input'])}"
    elif kind == "missing":
        message = _PYDANTIC_EXPECTED[kind]
    elif kind in _PYDANTIC_EXPECTED:
        message = f"{_PYDANTIC_EXPECTED[kind]}, got {_describe(error.get('input'))}"
    else:
        message = error["msg"]
    return _path_text(loc), message


class _UniqueKeyLoader:
    """A safe YAML loader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    @staticmethod
    def build():  # -> type[yaml.SafeLoader]
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        # Dates stay text until pydantic parses them (PyYAML raises a bare ValueError on
        # 2026-13-01; the field validator names the field instead).
        Loader.yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

        def construct_mapping(loader, node, deep=False):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = loader.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.MarkedYAMLError(
                        problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
                    )
                seen[key] = 1
            return loader.construct_mapping(node, deep=deep)

        Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
        return Loader


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse_file(path: Path) -> DefinitionFile:
    """Read and validate one file (structure and types; no cross-file checks)."""
    import yaml

    shown = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{shown}: cannot read the file ({exc})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader.build())  # noqa: S506 (SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DefinitionError(f"{shown}: {where}invalid YAML ({problem})") from None
    except ValueError as exc:  # a constructor refusing a value
        raise DefinitionError(f"{shown}: invalid YAML value ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DefinitionError(
            f"{shown}: expected a mapping with okrs, key_results and/or health_metrics, "
            f"got {_describe(data)}"
        )
    try:
        return DefinitionFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        field, message = _format_error(errors[0])
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise DefinitionError(f"{shown}: {field}: {message}{more}") from None


def _check_key_result(kr: KeyResult, okr_names: set[str]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if kr.okr not in okr_names:
        known = ", ".join(sorted(okr_names)) or "none defined"
        problems.append(("okr", f"expected the name of an OKR ({known}), got {kr.okr!r}"))
    if kr.kpi == MANUAL:
        if kr.values is None:
            problems.append(("values", "missing required field (kpi: manual needs values)"))
    else:
        if kr.kpi not in METRICS:
            problems.append(("kpi", f"expected `manual` or a metric of kpi_values, got {kr.kpi!r}"))
        elif kr.grain is None:
            problems.append(("grain", "missing required field"))
        elif kr.grain not in METRICS[kr.kpi].grains:
            problems.append(
                (
                    "grain",
                    f"expected one of {', '.join(METRICS[kr.kpi].grains)} for {kr.kpi}, "
                    f"got {kr.grain!r}",
                )
            )
        if kr.values is not None:
            problems.append(("values", "only allowed with kpi: manual"))
    if kr.timeframe and kr.timeframe.end <= kr.timeframe.start:
        problems.append(
            (
                "timeframe.end",
                f"expected a date after start ({kr.timeframe.start}), got {kr.timeframe.end}",
            )
        )
    if (
        kr.direction
        and kr.start_value != kr.target_value
        and kr.increasing != (kr.target_value > kr.start_value)
    ):
        problems.append(
            (
                "direction",
                f"expected {'increase' if kr.target_value > kr.start_value else 'decrease'} "
                f"(target {kr.target_value:g} vs start {kr.start_value:g}), got {kr.direction!r}",
            )
        )
    return problems


def _check_health(hm: HealthMetric) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if hm.computed:
        for field in ("max_drop_pct", "max_rise_pct", "baseline_periods", "anomaly"):
            if getattr(hm, field) is not None:
                problems.append(
                    (
                        field,
                        f"not supported for the live {hm.metric} (only expected_range; "
                        "add grain: day to check the kpi_values series)",
                    )
                )
    elif hm.metric not in METRICS:
        known = ", ".join(METRICS)
        problems.append(("metric", f"expected one of {known}, got {hm.metric!r}"))
    elif hm.grain is None:
        problems.append(("grain", "missing required field"))
    elif hm.grain not in METRICS[hm.metric].grains:
        problems.append(
            (
                "grain",
                f"expected one of {', '.join(METRICS[hm.metric].grains)} for {hm.metric}, "
                f"got {hm.grain!r}",
            )
        )
    rng = hm.expected_range
    if rng is not None:
        if rng.min is None and rng.max is None:
            problems.append(("expected_range", "expected min and/or max"))
        elif rng.min is not None and rng.max is not None and rng.min > rng.max:
            problems.append(
                ("expected_range.max", f"expected a number >= min ({rng.min:g}), got {rng.max:g}")
            )
    if hm.anomaly is not None and hm.anomaly.threshold <= 0:
        problems.append(
            ("anomaly.threshold", f"expected a number above 0, got {hm.anomaly.threshold:g}")
        )
    if not hm.computed and not any(
        (hm.expected_range, hm.max_drop_pct, hm.max_rise_pct, hm.anomaly)
    ):
        problems.append(
            (
                "expected_range",
                "expected at least one check (expected_range, max_drop_pct, "
                "max_rise_pct or anomaly)",
            )
        )
    if hm.computed and hm.expected_range is None:
        problems.append(("expected_range", "missing required field"))
    return problems


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

    okr_names: set[str] = set()
    for path, content in parsed:
        for i, okr in enumerate(content.okrs):
            where = f"{_display(path)}: okrs[{i}]"
            if okr.name in okr_names:
                raise DefinitionError(
                    f"{where}.name: expected a unique name, got {okr.name!r} again"
                )
            if not okr.label.startswith("OKR: ") or len(okr.label) <= 5:
                raise DefinitionError(
                    f"{where}.label: expected 'OKR: <short description>', got {okr.label!r}"
                )
            if okr.timeframe.end <= okr.timeframe.start:
                raise DefinitionError(
                    f"{where}.timeframe.end: expected a date after start "
                    f"({okr.timeframe.start}), got {okr.timeframe.end}"
                )
            okr_names.add(okr.name)

    kr_keys: set[str] = set()
    health_keys: set[str] = set()
    for path, content in parsed:
        for i, kr in enumerate(content.key_results):
            where = f"{_display(path)}: key_results[{i}]"
            for field, message in _check_key_result(kr, okr_names):
                raise DefinitionError(f"{where}.{field}: {message}")
            if kr.key in kr_keys:
                raise DefinitionError(
                    f"{where}.name: expected a unique key result name, got {kr.key!r} again"
                )
            kr_keys.add(kr.key)
        for i, hm in enumerate(content.health_metrics):
            where = f"{_display(path)}: health_metrics[{i}]"
            for field, message in _check_health(hm):
                raise DefinitionError(f"{where}.{field}: {message}")
            if hm.key in health_keys:
                raise DefinitionError(
                    f"{where}.name: expected a unique health metric name, got {hm.key!r} again"
                )
            health_keys.add(hm.key)

    if not kr_keys and not health_keys:
        # An empty or comment-only file (YAML null) parses as a file defining nothing; a
        # check of nothing would pass silently, so say what is missing instead.
        raise DefinitionError(f"no key results or health metrics defined in {_display(folder)}")

    return Definitions(
        okrs=tuple(o for _, c in parsed for o in c.okrs),
        key_results=tuple(k for _, c in parsed for k in c.key_results),
        health_metrics=tuple(h for _, c in parsed for h in c.health_metrics),
        folder=folder,
    )
