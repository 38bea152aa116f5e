"""`kpis dashboards` without a Superset: what the bundle holds, that it is reproducible and
never holds a password, and that the key results' links point at their pages when
KPIS_SUPERSET_URL is set (Superset itself: test_superset.py)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import yaml
from conftest import REPO, duckdb_env_for, kpis
from test_check import make_kpi_values, write_marts

from telemetry_kpis.dashboards.bundle import BUNDLE_NAME, DATASETS, TOP_FOLDER, model_columns
from telemetry_kpis.dashboards.links import HEALTH_SLUG, dashboard_url, kr_slug, okr_slug
from telemetry_kpis.definitions import MANUAL, load_definitions

DEFINITIONS = load_definitions(REPO / "kpi_definitions")


def _bundle(tmp_path: Path, env: dict[str, str], *args: str) -> dict[str, dict]:
    out = tmp_path / "out"
    result = kpis("dashboards", "--output", str(out), *args, env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    with zipfile.ZipFile(out / BUNDLE_NAME) as archive:
        names = archive.namelist()
        assert names == sorted(names) and all(n.startswith(f"{TOP_FOLDER}/") for n in names)
        return {n.removeprefix(f"{TOP_FOLDER}/"): yaml.safe_load(archive.read(n)) for n in names}


def test_bundle_has_a_page_per_key_result_okr_and_health(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    files = _bundle(tmp_path, env)
    assert files["metadata.yaml"]["type"] == "Dashboard"
    dashboards = {d["slug"]: d for n, d in files.items() if n.startswith("dashboards/")}
    expected = {kr_slug(kr.key) for kr in DEFINITIONS.key_results}
    expected |= {okr_slug(o.name) for o in DEFINITIONS.okrs} | {HEALTH_SLUG}
    assert set(dashboards) == expected
    charts = {c["uuid"]: c for n, c in files.items() if n.startswith("charts/")}
    datasets = {d["uuid"]: d for n, d in files.items() if n.startswith("datasets/")}
    databases = [d for n, d in files.items() if n.startswith("databases/")]
    assert {d["table_name"] for d in datasets.values()} == set(DATASETS)
    assert len(databases) == 1 and all(
        d["database_uuid"] == databases[0]["uuid"] for d in datasets.values()
    )
    assert all(c["dataset_uuid"] in datasets for c in charts.values())
    uuids = [d["uuid"] for d in files.values() if "uuid" in d]
    assert len(uuids) == len(set(uuids))
    for kr in DEFINITIONS.key_results:
        page = dashboards[kr_slug(kr.key)]
        blocks = page["position"].values()
        placed = [
            b["meta"]["uuid"] for b in blocks if isinstance(b, dict) and b.get("type") == "CHART"
        ]
        assert all(uuid in charts for uuid in placed)
        markdown = "\n".join(
            b["meta"]["code"] for b in blocks if isinstance(b, dict) and b.get("type") == "MARKDOWN"
        )
        assert kr.goal in markdown and f"/superset/dashboard/{okr_slug(kr.okr)}/" in markdown
        assert "Status rule" in markdown and "docs/handbook.md" in markdown
        if kr.kpi == MANUAL:
            assert placed == []
            continue
        kinds = sorted(charts[u]["viz_type"] for u in placed)
        assert kinds == ["big_number", "echarts_timeseries_line"]
        line = next(charts[u] for u in placed if charts[u]["viz_type"] != "big_number")
        context = json.loads(line["query_context"])
        filters = {f["col"]: f.get("val") for f in context["queries"][0]["filters"]}
        assert filters["metric_name"] == kr.kpi and filters["grain"] == kr.grain
        values = [float(a["value"]) for a in line["params"]["annotation_layers"]]
        assert values == [kr.start_value, kr.target_value]
        native = page["metadata"]["native_filter_configuration"]
        timeframe = DEFINITIONS.timeframe(kr)
        assert native[0]["defaultDataMask"]["filterState"]["value"].startswith(
            f"{timeframe.start} : "
        )
    for okr in DEFINITIONS.okrs:
        text = json.dumps(dashboards[okr_slug(okr.name)]["position"])
        for kr in DEFINITIONS.key_results_of(okr):
            assert f"/superset/dashboard/{kr_slug(kr.key)}/" in text


def test_dataset_columns_are_the_model_yaml_columns(tmp_path: Path) -> None:
    files = _bundle(tmp_path, duckdb_env_for(tmp_path))
    for name, document in files.items():
        if name.startswith("datasets/"):
            _, columns = model_columns(REPO, document["table_name"])
            assert [c["column_name"] for c in document["columns"]] == [c for c, _ in columns]
            types = {c["column_name"]: c["type"] for c in document["columns"]}
            assert types.get("segment_value", "VARCHAR") == "VARCHAR"
            assert types.get("value", "DOUBLE") == "DOUBLE"


def test_bundle_is_byte_identical_and_duckdb_reads_the_published_file(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        kpis("dashboards", "--output", str(out), env=env, check=True)
    assert (first / BUNDLE_NAME).read_bytes() == (second / BUNDLE_NAME).read_bytes()
    files = _bundle(tmp_path, env)
    database = files["databases/telemetry_kpis.yaml"]
    published = tmp_path / "warehouse_bi.duckdb"
    assert database["sqlalchemy_uri"] == f"duckdb:///{published}"
    assert database["sqlalchemy_uri"].startswith("duckdb:////")
    assert database["extra"]["engine_params"]["connect_args"] == {"read_only": True}


def test_postgres_bundle_never_holds_the_password(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    env.update(
        DBT_TARGET="postgres",
        KPIS_PG_HOST="db.internal",
        KPIS_PG_PORT="5433",
        KPIS_PG_USER="kpis_reader",
        KPIS_PG_PASSWORD="s3cret-Pa55",
        KPIS_PG_DATABASE="analytics",
    )
    out = tmp_path / "out"
    kpis("dashboards", "--output", str(out), env=env, check=True)
    raw = zipfile.ZipFile(out / BUNDLE_NAME)
    text = b"".join(raw.read(n) for n in raw.namelist())
    assert b"s3cret" not in text
    files = _bundle(tmp_path, env)
    uri = files["databases/telemetry_kpis.yaml"]["sqlalchemy_uri"]
    assert uri == "postgresql://kpis_reader:XXXXXXXXXX@db.internal:5433/analytics"
    env["KPIS_PG_PASSWORD"] = ""
    files = _bundle(tmp_path, env)
    uri = files["databases/telemetry_kpis.yaml"]["sqlalchemy_uri"]
    assert uri == "postgresql://kpis_reader@db.internal:5433/analytics"


def test_handbook_and_superset_urls_make_absolute_links(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    env["KPIS_SUPERSET_URL"] = "https://superset.example.com/"
    files = _bundle(tmp_path, env, "--handbook-url", "https://example.com/kpis.html")
    page = files[f"dashboards/{kr_slug('grow_map')}.yaml"]
    text = json.dumps(page["position"])
    assert "https://example.com/kpis.html#active_projects" in text
    assert f"https://superset.example.com/superset/dashboard/{okr_slug('dataops_os')}/" in text


def test_dashboard_url_prefers_the_generated_page() -> None:
    assert dashboard_url("grow_map", "https://bi.example.com/x", environ={}) == (
        "https://bi.example.com/x"
    )
    env = {"KPIS_SUPERSET_URL": "https://superset.example.com/"}
    assert dashboard_url("grow_map", "https://bi.example.com/x", environ=env) == (
        "https://superset.example.com/superset/dashboard/kpis-kr-grow-map/"
    )


def test_check_links_key_results_to_their_superset_pages(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    write_marts(env, make_kpi_values())
    args = ("check", "--as-of", "2026-11-20", "--format", "json", "--fail-on", "never")
    plain = json.loads(kpis(*args, env=env, check=True).stdout)
    links = {k["key"]: k["dashboard"] for k in plain["key_results"]}
    assert links["grow_map"] == "https://bi.example.com/dashboards/kpis#active_projects"
    env["KPIS_SUPERSET_URL"] = "https://superset.example.com"
    linked = json.loads(kpis(*args, env=env, check=True).stdout)
    for kr in linked["key_results"]:
        assert kr["dashboard"] == (
            f"https://superset.example.com/superset/dashboard/{kr_slug(kr['key'])}/"
        )
    text = kpis("check", "--as-of", "2026-11-20", "--format", "markdown", env=env).stdout
    assert "https://superset.example.com/superset/dashboard/kpis-kr-grow-map/" in text
