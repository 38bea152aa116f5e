"""OKRs, key results and health metrics: ``kpi_definitions/*.yml`` → validated models.

Every ``*.yml``/``*.yaml`` file of the folder may hold three lists, ``okrs``, ``key_results``
and ``health_metrics``; the folder is read as one set (a key result may point at an OKR of
another file). Each file is validated by the models of
:mod:`telemetry_kpis.definition_models` (re-exported here); what spans files (OKR references,
unique names) is checked once every file has parsed. An invalid file fails with one line
naming the file, the field and what was expected, e.g.::

    kpi_definitions/okrs.yml: key_results[2].target_value: expected a number, got 'abc'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from telemetry_kpis.definition_models import (
    COMPUTED_METRICS,
    CROSS_FIELD,
    DEFAULT_BASELINE_PERIODS,
    DEFAULT_TREND_PERIODS,
    LIVE_FRESHNESS,
    MANUAL,
    OKR,
    Anomaly,
    DefinitionFile,
    ExpectedRange,
    HealthMetric,
    KeyResult,
    ManualValue,
    Timeframe,
    describe_value,
    metric_label,
    metrics,
    slugify,
)
from telemetry_kpis.errors import UserError
from telemetry_kpis.registry import Metric

__all__ = [
    "COMPUTED_METRICS",
    "DEFAULT_BASELINE_PERIODS",
    "DEFAULT_TREND_PERIODS",
    "LIVE_FRESHNESS",
    "MANUAL",
    "OKR",
    "Anomaly",
    "DefinitionError",
    "DefinitionFile",
    "Definitions",
    "ExpectedRange",
    "HealthMetric",
    "KeyResult",
    "ManualValue",
    "Timeframe",
    "load_definitions",
    "metric_label",
    "metrics",
    "parse_file",
    "slugify",
]


def __getattr__(name: str) -> dict[str, Metric]:
    # ``METRICS``: the registry as a mapping for code that imports the name; read lazily, like
    # metrics(), so that importing this module needs no project.
    if name == "METRICS":
        return metrics()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DefinitionError(UserError):
    """An invalid definition file (exit code 2)."""


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
    got = f", got {describe_value(error.get('input'))}"
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
            f"got {describe_value(data)}"
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
