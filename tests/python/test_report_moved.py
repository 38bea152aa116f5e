"""The report's "What moved" (kpi_drivers) and stickiness sections, in process: what is chosen,
what the bar charts draw (read from the figures, not pixels), and that the public view keeps
its redaction (shares, never values, for an internal key result; no stickiness)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO
from kpi_marts import AS_OF, COLUMNS, DRIVER_COLUMNS, make_kpi_values, with_changes
from test_check import SMALL_DEFINITIONS, definitions_dir

OCTOBER = date(2026, 10, 1)


@pytest.fixture
def project() -> Path:
    """The project itself: its registry publishes stickiness, which the report's section needs."""
    document = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    assert "stickiness" in {entry["name"] for entry in document["vars"]["metric_registry"]}
    return REPO


def stickiness_rows() -> pd.DataFrame:
    days = pd.date_range(AS_OF - timedelta(days=120), AS_OF, freq="D")
    rows = [
        ("stickiness", "day", d.date(), d.date(), 0.4 + 0.001 * i, True) for i, d in enumerate(days)
    ]
    for month in pd.date_range(days[0], AS_OF, freq="MS"):
        end = (month + pd.offsets.MonthEnd(0)).date()
        rows.append(
            (
                "stickiness",
                "month",
                month.date(),
                end,
                0.5 if month.month == 10 else 0.45,
                end <= AS_OF,
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def drivers() -> pd.DataFrame:
    """MAP's October change (+6: 244 vs 238) and the pipeline runs' (by environment)."""
    rows = [
        ("active_projects", "lifecycle", "churned_projects", -31.0, 6.0),
        ("active_projects", "lifecycle", "new_active_projects", 39.0, 6.0),
        ("active_projects", "lifecycle", "reactivated_projects", 10.0, 6.0),
        ("active_projects", "lifecycle", "eom_active_without_execution", -12.0, 6.0),
        ("active_projects", "os", "Linux", 7.0, 6.0),
        ("active_projects", "os", "Darwin", -1.0, 6.0),
        ("pipeline_runs", "environment", "dev", 150.0, 1000.0),
        ("pipeline_runs", "environment", "prod", 900.0, 1000.0),
        ("pipeline_runs", "environment", "staging", -50.0, 1000.0),
    ]
    from telemetry_kpis.drivers import prepare_drivers

    return prepare_drivers(
        pd.DataFrame(
            [
                (
                    m,
                    "month",
                    OCTOBER,
                    date(2026, 10, 31),
                    True,
                    kind,
                    driver,
                    5.0,
                    4.0,
                    c,
                    c / total,
                    total,
                )
                for m, kind, driver, c, total in rows
            ],
            columns=DRIVER_COLUMNS,
        )
    )


def checked(tmp_path: Path, public: bool = False):
    from telemetry_kpis.check import Checked
    from telemetry_kpis.definitions import load_definitions
    from telemetry_kpis.evaluate import apply_visibility, evaluate, prepare_kpi_values

    definitions = load_definitions(definitions_dir(tmp_path, SMALL_DEFINITIONS))
    sample = make_kpi_values(first=date(2026, 6, 1))
    # this test's own stickiness series (its October value is asserted), in place of the sample's
    frame = pd.concat([sample[sample["metric_name"] != "stickiness"], stickiness_rows()])
    kpi_values = prepare_kpi_values(with_changes(frame))
    evaluation = evaluate(definitions, kpi_values, AS_OF)
    if public:
        evaluation = apply_visibility(evaluation, definitions)
    return Checked(definitions, evaluation, kpi_values, drivers())


def bars(fig) -> list[tuple[str, float]]:
    """(label, width) of every bar, top to bottom."""
    ax = fig.axes[0]
    labels = {
        tick: label.get_text()
        for tick, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
    }
    found = [(labels[p.get_y() + p.get_height() / 2], p.get_width()) for p in ax.patches]
    return sorted(found, key=lambda item: -[k for k, v in labels.items() if v == item[0]][0])


def test_what_moved_chooses_and_draws_the_contributions(project, tmp_path):
    from telemetry_kpis.report.moved import what_moved, what_moved_figure

    check = checked(tmp_path)
    grow = next(kr for kr in check.evaluation.key_results if kr.key == "map")
    moved = what_moved(grow, check.drivers)
    assert moved is not None and moved.period_start == OCTOBER
    assert bars(what_moved_figure(moved)) == [
        ("new_active_projects", 39.0),
        ("reactivated_projects", 10.0),
        ("eom_active_without_execution", -12.0),
        ("churned_projects", -31.0),
        ("os=Linux", 7.0),  # Darwin moved against the change: left out
    ]
    texts = [t.get_text() for t in what_moved_figure(moved).axes[0].texts]
    assert "+39 (650%)" in texts and "-31 (-517%)" in texts


def test_report_has_what_moved_and_stickiness(project, tmp_path):
    from telemetry_kpis.report.command import write_report

    page, files = write_report(checked(tmp_path), tmp_path / "out")
    names = sorted(p.name for p in files)
    assert {"moved-map.png", "moved-runs.png", "stickiness.png"} <= set(names)
    assert "moved-hidden.png" not in names  # no kpi_drivers rows for its metric: no chart
    html = page.read_text()
    for key in ("map", "runs"):
        block = re.search(rf'<div class="moved" id="moved-{key}">(.*?)</div>\s*</div>', html, re.S)
        assert (
            block and "What moved" in block.group(1) and "data:image/png;base64," in block.group(1)
        )
    assert '<h2 id="stickiness">Stickiness</h2>' in html
    assert "Stickiness (2026-10)" in html and "50.0%" in html


def test_public_report_redacts_what_moved_and_leaves_out_stickiness(project, tmp_path):
    from telemetry_kpis.report.command import write_report
    from telemetry_kpis.report.moved import what_moved, what_moved_figure

    check = checked(tmp_path, public=True)
    runs = next(kr for kr in check.evaluation.key_results if kr.key == "runs")
    assert runs.redacted
    moved = what_moved(runs, check.drivers)
    assert moved is not None and moved.redacted
    assert bars(what_moved_figure(moved)) == [("environment=prod", 0.9), ("environment=dev", 0.15)]
    texts = [t.get_text() for t in what_moved_figure(moved).axes[0].texts]
    assert texts == ["90%", "15%"]  # shares only: no run counts
    page, files = write_report(check, tmp_path / "public")
    html = page.read_text()
    assert "stickiness.png" not in {p.name for p in files} and "Stickiness" not in html
    assert "share of the change" in html and "+900" not in html


def test_report_command_reads_the_drivers(duckdb_env, tmp_path):
    """`kpis report` end to end: kpi_drivers read from the warehouse become MAP's chart."""
    from conftest import kpis
    from kpi_marts import write_marts

    write_marts(duckdb_env, make_kpi_values(), drivers=drivers())
    defs = definitions_dir(tmp_path, SMALL_DEFINITIONS)
    out = tmp_path / "report"
    args = ("report", "--definitions", str(defs), "--as-of", str(AS_OF), "--no-quality")
    result = kpis(*args, "--output-dir", str(out), env=duckdb_env)
    assert result.returncode == 0, result.stderr
    assert (out / "moved-map.png").read_bytes().startswith(b"\x89PNG")
    assert 'id="moved-map"' in (out / "index.html").read_text()
