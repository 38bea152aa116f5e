"""`kpis handbook`: the public KPI handbook page covers every registry metric, the committed
copy (docs/handbook.md and .html, definitions only) is current, and no value of an internal key
result or health metric reaches the page, whatever the warehouse holds."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from conftest import REPO, kpis
from kpi_marts import AS_OF, make_kpi_values, write_marts
from test_check import definitions_dir, set_value

OCTOBER = date(2026, 10, 1)

#: distinctive numbers: the internal ones must never appear, the public ones must
LEAK_DEFINITIONS = """\
okrs:
  - {name: growth, objective: Grow, label: "OKR: Grow", scope: company,
     timeframe: {start: 2026-10-01, end: 2026-12-31}, visibility: public}
  - {name: secret_okr, objective: Secret, label: "OKR: Secret plans", scope: company,
     timeframe: {start: 2026-10-01, end: 2026-12-31}, visibility: internal}
key_results:
  - {okr: growth, name: runs, goal: More pipeline runs, kpi: pipeline_runs, grain: month,
     start_value: 2917, target_value: 3719, dashboard: "https://bi.example.com/runs",
     owner: Engineering, visibility: public}
  - {okr: growth, name: map, goal: Grow MAP quietly, kpi: active_projects, grain: month,
     start_value: 123457, target_value: 987653, dashboard: "https://bi.example.com/map",
     owner: Product, visibility: internal}
  - {okr: secret_okr, name: hidden, goal: Hidden goal, kpi: unique_pipelines, grain: month,
     start_value: 1, target_value: 424242, dashboard: "https://bi.example.com/hidden",
     visibility: public}
health_metrics:
  - {name: internal_success, metric: pipeline_success_rate, grain: day,
     expected_range: {min: 0.4321, max: 0.9876}, max_drop_pct: 37.77,
     anomaly: {threshold: 6.54, window: 28}, severity: alarm,
     runbook: "https://bi.example.com/runbook"}
  - {name: public_bad_events, metric: bad_event_share, grain: day,
     expected_range: {max: 0.0511}, severity: warn, runbook: "https://bi.example.com/bad",
     visibility: public}
"""
INTERNAL_VALUES = [
    "123457", "123,457", "987653", "987,653", "424242", "424,242", "Secret plans",
    "Hidden goal", "55555", "55,555", "43.2%", "98.8%", "0.4321", "37.77", "6.54",
]  # fmt: skip
PUBLIC_VALUES = ["2,917", "3,719", "3,131", "5.1%", "Grow MAP quietly", "internal_success"]


def test_committed_handbook_is_current(monkeypatch) -> None:
    """docs/handbook.md and .html are `kpis handbook --no-values` of the shipped definitions."""
    monkeypatch.delenv("KPIS_SUPERSET_URL", raising=False)  # the definitions' own links
    from telemetry_kpis.definitions import load_definitions
    from telemetry_kpis.handbook.content import build_page
    from telemetry_kpis.handbook.render import linker, render_html, render_markdown

    page = build_page(REPO, load_definitions(REPO / "kpi_definitions"), None)
    link = linker(REPO, REPO / "docs", None)
    stale = "docs/handbook.* is stale: run `kpis handbook --no-values` and commit the result"
    assert (REPO / "docs" / "handbook.md").read_text() == render_markdown(page, link), stale
    assert (REPO / "docs" / "handbook.html").read_text() == render_html(page, link), stale


def test_every_metric_has_a_section_and_working_links(tmp_path: Path, duckdb_env) -> None:
    from telemetry_kpis.registry import load_registry

    env = dict(duckdb_env, KPIS_SUPERSET_URL="https://superset.example.com/")
    result = kpis("handbook", "--no-values", "--output", str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    markdown = (tmp_path / "handbook.md").read_text()
    # with a Superset configured, each key result links to its generated page
    assert "(https://superset.example.com/superset/dashboard/kpis-kr-grow-map/)" in markdown
    html = (tmp_path / "handbook.html").read_text()
    for metric in load_registry(REPO).values():
        assert f"## {metric.label} (`{metric.name}`)" in markdown
        assert f'<h2 id="{metric.name}">' in html
    # every relative link points at a file of the repository, from the output folder
    targets = re.findall(r"\]\((\.\.[^)#]+)\)", markdown)
    assert len(targets) > 2 * len(load_registry(REPO))
    missing = [t for t in targets if not (tmp_path / t).resolve().is_file()]
    assert not missing, missing


def test_no_internal_value_leaks(tmp_path: Path, duckdb_env) -> None:
    frame = make_kpi_values(first=date(2026, 6, 1))
    frame = set_value(frame, "active_projects", "month", OCTOBER, 55555.0)
    frame = set_value(frame, "pipeline_runs", "month", OCTOBER, 3131.0)
    write_marts(duckdb_env, frame)
    folder = definitions_dir(tmp_path, LEAK_DEFINITIONS)
    out = tmp_path / "page"
    result = kpis(
        "handbook", "--definitions", str(folder), "--as-of", AS_OF.isoformat(),
        "--output", str(out), env=duckdb_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("handbook.md", "handbook.html"):
        text = (out / name).read_text()
        leaked = [value for value in INTERNAL_VALUES if value in text]
        assert not leaked, f"{name} shows internal values: {leaked}"
        missing = [value for value in PUBLIC_VALUES if value not in text]
        assert not missing, f"{name} lacks public facts: {missing}"


def test_unreachable_warehouse_is_one_line(tmp_path: Path, duckdb_env) -> None:
    env = dict(duckdb_env, KPIS_DUCKDB_PATH=str(tmp_path / "missing.duckdb"))
    result = kpis("handbook", "--output", str(tmp_path / "out"), env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
