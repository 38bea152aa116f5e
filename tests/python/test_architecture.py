"""The shape of the dbt project, read from dbt's own manifest: layers point one way, the path
from the raw events to kpi_values stays short, and the metric registry is the one list of
published metrics."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASE_ENV, REPO

from telemetry_kpis.registry import load_registry

PROJECT = "telemetry_kpis"
KPI_VALUES = f"model.{PROJECT}.kpi_values"
RAW_EVENTS = f"source.{PROJECT}.snowplow.snowplow_events"
LOAD_QUALITY_MART = f"model.{PROJECT}.fct_load_quality_daily"
#: Models strictly between raw.snowplow_events and kpi_values on the longest path (issue 13).
MAX_MODELS_BETWEEN_RAW_AND_KPI_VALUES = 10


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """`dbt compile` of kpi_values on a throwaway DuckDB file: the manifest and target folder."""
    tmp = tmp_path_factory.mktemp("architecture")
    env = {
        **BASE_ENV,
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp),
        "DBT_TARGET": "duckdb",
        "KPIS_DUCKDB_PATH": str(tmp / "compile.duckdb"),
        "DBT_TARGET_PATH": str(tmp / "target"),
        "DBT_LOG_PATH": str(tmp / "logs"),
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "compile", "--select", "kpi_values",
         "--profiles-dir", str(REPO), "--project-dir", str(REPO), "--quiet"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    manifest = json.loads((tmp / "target" / "manifest.json").read_text())
    return manifest, tmp / "target"


def _models(manifest: dict) -> dict[str, dict]:
    return {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}


def _layer(node: dict) -> str:
    """staging | intermediate | marts: the top folder under models/."""
    return Path(node["original_file_path"]).parts[1]


def test_layers_point_one_way(compiled: tuple[dict, Path]) -> None:
    models = _models(compiled[0])
    backwards = []
    for key, node in models.items():
        for parent in node["depends_on"]["nodes"]:
            if parent not in models:
                continue
            layer, parent_layer = _layer(node), _layer(models[parent])
            if layer == "intermediate" and parent_layer == "marts":
                backwards.append(f"{node['name']} (intermediate) reads mart {parent}")
            if layer == "staging" and parent_layer != "staging":
                backwards.append(f"{node['name']} (staging) reads {parent}")
            if layer == "marts" and parent_layer == "staging" and key != LOAD_QUALITY_MART:
                backwards.append(f"{node['name']} (mart) reads staging model {parent}")
    assert backwards == []


def test_kpi_values_reads_only_marts(compiled: tuple[dict, Path]) -> None:
    models = _models(compiled[0])
    parents = [p for p in models[KPI_VALUES]["depends_on"]["nodes"] if p in models]
    assert parents and all(_layer(models[p]) == "marts" for p in parents), parents


def test_path_from_raw_events_to_kpi_values_is_short(compiled: tuple[dict, Path]) -> None:
    models = _models(compiled[0])

    @functools.cache
    def longest_from_raw(key: str) -> tuple[str, ...]:
        """The longest chain of models from the raw events to `key` (inclusive), or ()."""
        parents = models[key]["depends_on"]["nodes"]
        chains = [(key,)] if RAW_EVENTS in parents else []
        chains += [
            (*longest_from_raw(p), key) for p in parents if p in models and longest_from_raw(p)
        ]
        return max(chains, key=len, default=())

    path = longest_from_raw(KPI_VALUES)
    between = path[:-1]
    assert path and path[-1] == KPI_VALUES
    assert len(between) <= MAX_MODELS_BETWEEN_RAW_AND_KPI_VALUES, " -> ".join(
        k.rsplit(".", 1)[-1] for k in path
    )


def test_every_model_has_a_reader_or_is_a_mart(compiled: tuple[dict, Path]) -> None:
    manifest = compiled[0]
    models = _models(manifest)
    read = {p for n in manifest["nodes"].values() for p in n.get("depends_on", {}).get("nodes", [])}
    orphans = [n["name"] for k, n in models.items() if _layer(n) != "marts" and k not in read]
    assert orphans == []


def test_registry_is_exactly_what_kpi_values_publishes(compiled: tuple[dict, Path]) -> None:
    target = compiled[1]
    sql = target / "compiled" / PROJECT / "models" / "marts" / "kpis" / "kpi_values.sql"
    published = re.findall(r"'(\w+)' as metric_name", sql.read_text())
    registry = load_registry(REPO)
    assert published == list(registry), "kpi_values must publish the registry, in its order"


def test_registry_entries_point_at_real_things(compiled: tuple[dict, Path]) -> None:
    models = {n["name"] for n in _models(compiled[0]).values()}
    for metric in load_registry(REPO).values():
        assert (REPO / metric.analysis).is_file(), f"{metric.name}: no {metric.analysis}"
        source_model = re.split(r"[.\s]", metric.source, maxsplit=1)[0]
        assert source_model in models, f"{metric.name}: source {metric.source!r} is not a model"


def test_readme_metric_table_is_the_registry() -> None:
    from telemetry_kpis.metrics import registry_table

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- metric-registry:start[^\n]*-->\n(.*?)<!-- metric-registry:end -->",
                      readme, re.S)  # fmt: skip
    assert block, "README.md lost its metric-registry markers"
    assert block.group(1).strip() == registry_table(markdown=True).strip(), (
        "README's metric table is stale: paste `kpis metrics --format markdown` between the markers"
    )


def test_unit_test_names_fit_postgres_identifiers(compiled: tuple[dict, Path]) -> None:
    """dbt names a temporary relation after each unit test: PostgreSQL allows 63 bytes."""
    long_names = [name for name in compiled[0]["unit_tests"] if len(name.split(".")[-1]) > 63]
    assert long_names == []


def test_kpis_metrics_lists_the_registry() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "telemetry_kpis", "metrics"],
        env={**BASE_ENV, "PATH": str(Path(sys.executable).parent), "HOME": str(REPO)},
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()[2:] if line[:1].isalpha()]
    assert names == list(load_registry(REPO)), result.stdout
