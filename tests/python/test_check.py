"""`kpis check` end to end on a real DuckDB file and a real PostgreSQL database.

The tests write small marts themselves (kpi_marts.py), shaped like the publishing contract, so
they do not depend on the dbt marts. ``make_kpi_values`` and ``write_marts`` are re-exported
for test_report.py, test_notify.py and the others.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, kpis
from kpi_marts import (
    AS_OF,
    make_environment_segments,
    make_kpi_values,
    with_changes,
    write_marts,
)

__all__ = ["AS_OF", "make_kpi_values", "write_marts"]  # shared with the other check tests


def definitions_dir(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "defs"
    folder.mkdir(exist_ok=True)
    (folder / "defs.yml").write_text(text)
    return folder


SMALL_DEFINITIONS = """\
okrs:
  - {name: growth, objective: Grow, label: "OKR: Grow", scope: company,
     timeframe: {start: 2026-10-01, end: 2026-12-31}, visibility: public}
  - {name: secret, objective: Secret, label: "OKR: Secret", scope: company,
     timeframe: {start: 2026-10-01, end: 2026-12-31}}
key_results:
  - {okr: growth, name: map, goal: Increase MAP, kpi: active_projects, grain: month,
     start_value: 200, target_value: 260, dashboard: "https://bi.example.com/map",
     visibility: public}
  - {okr: growth, name: runs, goal: More pipeline runs, kpi: pipeline_runs, grain: month,
     start_value: 8000, target_value: 9000, dashboard: "https://bi.example.com/runs"}
  - {okr: secret, name: hidden, goal: Hidden, kpi: new_active_projects, grain: month,
     start_value: 1, target_value: 2, dashboard: "https://bi.example.com/h", visibility: public}
health_metrics:
  - {name: success, metric: pipeline_success_rate, grain: day,
     expected_range: {min: 0.5, max: 1}, severity: alarm,
     runbook: "https://bi.example.com/runbooks/success"}
  - {name: dap_drop, metric: daily_active_projects, grain: day, max_drop_pct: 10,
     severity: warn, runbook: "https://bi.example.com/runbooks/dap"}
  - {name: freshness, metric: data_freshness_hours, expected_range: {max: 48},
     severity: alarm, runbook: "https://bi.example.com/runbooks/freshness"}
"""


def set_value(frame: pd.DataFrame, metric: str, grain: str, day: date, value) -> pd.DataFrame:
    frame = frame.copy()
    mask = (
        (frame["metric_name"] == metric)
        & (frame["grain"] == grain)
        & (frame["period_start"] == day)
    )
    assert mask.sum() == 1
    frame.loc[mask, "value"] = value
    return frame


def stable(report):
    """The report without its generation time, floats rounded (PostgreSQL numeric holds a
    float8 to 15 significant digits)."""
    if isinstance(report, dict):
        return {k: stable(v) for k, v in report.items() if k != "generated_at"}
    if isinstance(report, list):
        return [stable(v) for v in report]
    if isinstance(report, float):
        return float(f"{report:.9g}")
    return report


def test_sample_kpi_values_follow_the_registry():
    """The sample table publishes registry metrics only, each at exactly its grains."""
    from telemetry_kpis.registry import load_registry

    registry = load_registry()
    frame = make_kpi_values()
    for metric, grains in frame.groupby("metric_name")["grain"].unique().items():
        assert metric in registry, metric
        assert set(grains) == set(registry[metric].grains), metric


# --- end to end on both engines ---------------------------------------------------------------
def test_shipped_definitions_on_duckdb_and_postgres(duckdb_env, postgres_env, tmp_path):
    """Same data in both engines: same statuses and numbers, quality suites pass, exit 0."""
    frame = make_kpi_values()
    outputs = {}
    for name, env in (("duckdb", duckdb_env), ("postgres", postgres_env)):
        write_marts(env, frame, segments=make_environment_segments())
        out = tmp_path / f"{name}.json"
        result = kpis(
            "check",
            "--as-of",
            AS_OF.isoformat(),
            "--format",
            "json",
            "--output",
            str(out),
            env=env,
        )
        assert result.returncode == 0, result.stderr + result.stdout
        assert f"wrote {out}" in result.stdout
        outputs[name] = json.loads(out.read_text())
    assert stable(outputs["duckdb"]) == stable(outputs["postgres"])

    report = outputs["duckdb"]
    assert report["as_of"] == "2026-11-20" and report["level"] == "ok"
    krs = {k["key"]: k for k in report["key_results"]}
    assert {"grow_map", "reduce_churn", "onboard_beta_users"} <= set(krs)
    grow_map = krs["grow_map"]
    assert grow_map["current_value"] == 190 + 6 * 9  # October is month index 9
    assert grow_map["measured_on"] == "2026-10-31"
    assert grow_map["expected_progress"] == pytest.approx(31 / 92)
    assert grow_map["status"] in {"on track", "at risk", "off track", "achieved"}
    assert grow_map["example"] is True
    assert krs["onboard_beta_users"]["kpi"] == "manual"
    health = {h["key"]: h for h in report["health_metrics"]}
    assert health["data_freshness"]["value"] == pytest.approx(14.0)  # Nov 21 00:00 - 10:00
    assert all(h["status"] == "ok" for h in report["health_metrics"])
    assert report["quality"] and all(q["success"] for q in report["quality"])


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_text_table_alarm_and_fail_on(engine, request, tmp_path):
    env = request.getfixturevalue(f"{engine}_env")
    frame = set_value(make_kpi_values(), "pipeline_success_rate", "day", AS_OF, 0.2)
    write_marts(env, frame)
    defs = definitions_dir(tmp_path, SMALL_DEFINITIONS)
    args = ("check", "--definitions", str(defs), "--as-of", "2026-11-20", "--no-quality")
    result = kpis(*args, env=env)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "level: ALARM" in out
    for title in ("KEY RESULTS", "HEALTH METRICS"):
        assert title in out
    assert "DATA QUALITY" not in out  # --no-quality
    line = next(x for x in out.splitlines() if x.startswith("success "))
    assert "ALARM" in line
    # the breach is a note below the health table, named by the metric
    assert re.search(r"^- success: .*20\.0% below the minimum 50\.0%", out, re.MULTILINE), out
    # aligned columns: every row of the KR table has its status at the same offset
    kr_lines = out.split("KEY RESULTS\n")[1].split("\n\n")[0].splitlines()
    offset = kr_lines[0].index("Status")
    # not OKR headings, footnotes
    rows = [x for x in kr_lines[1:] if len(x) > offset and not x.startswith("vs prev:")]
    assert len(rows) == 3
    assert all(x[offset - 2 : offset] == "  " and x[offset] != " " for x in rows)
    assert kpis(*args, "--fail-on", "never", env=env).returncode == 0


def test_warn_only_fails_with_fail_on_warn(duckdb_env, tmp_path):
    frame = make_kpi_values()
    frame = set_value(frame, "daily_active_projects", "day", AS_OF, 100.0)  # ~60% drop
    write_marts(duckdb_env, frame)
    defs = definitions_dir(tmp_path, SMALL_DEFINITIONS)
    args = ("check", "--definitions", str(defs), "--as-of", "2026-11-20", "--no-quality")
    default = kpis(*args, env=duckdb_env)
    assert default.returncode == 0, default.stderr
    assert "level: WARN" in default.stdout
    assert kpis(*args, "--fail-on", "warn", env=duckdb_env).returncode == 1


def test_markdown_and_public_json(duckdb_env, tmp_path):
    write_marts(duckdb_env, make_kpi_values())
    defs = definitions_dir(tmp_path, SMALL_DEFINITIONS)
    base = ("check", "--definitions", str(defs), "--as-of", "2026-11-20", "--no-quality")
    markdown = kpis(*base, "--format", "markdown", env=duckdb_env)
    assert markdown.returncode == 0, markdown.stderr
    assert "## Key results" in markdown.stdout and "## Health metrics" in markdown.stdout
    # a GitHub table row (cells padded to the column width)
    assert re.search(r"^\| OKR: Grow \([0-9.-]+\) +\| Increase MAP +\|", markdown.stdout, re.M)
    assert "[link](https://bi.example.com/runbooks/success)" in markdown.stdout

    public = kpis(*base, "--format", "json", "--public", env=duckdb_env)
    assert public.returncode == 0, public.stderr
    report = json.loads(public.stdout)
    assert report["public"] is True
    krs = {k["key"]: k for k in report["key_results"]}
    assert set(krs) == {"map", "runs"}  # the internal OKR is left out
    assert krs["map"]["current_value"] == 244 and not krs["map"]["redacted"]
    runs = krs["runs"]
    assert runs["redacted"] and runs["current_value"] is None and runs["target_value"] is None
    assert runs["progress"] is not None and runs["status"]
    assert all(h["value"] is None for h in report["health_metrics"])  # health: internal


def test_quality_failure_is_an_alarm(duckdb_env, tmp_path):
    """A daily count 100x its usual level on the newest day (a double load, a generator bug)
    is a great-expectations alarm; value bounds and keys are dbt data tests of kpi_values."""
    frame = make_kpi_values()
    frame = set_value(frame, "pipeline_runs", "day", AS_OF, 35_000.0)  # ~100x a usual day
    write_marts(duckdb_env, frame)
    defs = definitions_dir(tmp_path, SMALL_DEFINITIONS)
    result = kpis(
        "check",
        "--definitions",
        str(defs),
        "--as-of",
        "2026-11-20",
        "--format",
        "json",
        env=duckdb_env,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["level"] == "alarm"
    failed = [q for q in report["quality"] if not q["success"]]
    assert len(failed) == 1 and failed[0]["failed"] == 1
    assert failed[0]["description"].startswith("daily counts: the newest day is at most 10x")
    assert failed[0]["details"].startswith("pipeline_runs on 2026-11-20: 35,000 > bound ")


# --- configuration errors: exit 2, one line --------------------------------------------------
def one_line_error(result, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 or lines[0].startswith("usage:"), result.stderr
    for word in words:
        assert word in result.stderr


def test_missing_warehouse_or_table(duckdb_env, tmp_path):
    one_line_error(kpis("check", "--no-quality", env=duckdb_env), "does not exist")
    import duckdb

    duckdb.connect(duckdb_env["KPIS_DUCKDB_PATH"]).close()  # exists, but no marts
    one_line_error(
        kpis("check", "--no-quality", env=duckdb_env), "cannot read marts.kpi_values", "kpis build"
    )


def test_usage_errors(duckdb_env):
    one_line_error(kpis("check", "--as-of", "yesterday", env=duckdb_env), "expected a date")
    one_line_error(kpis("check", "--format", "xml", env=duckdb_env), "invalid choice")
    one_line_error(kpis("check", "--fail-on", "sometimes", env=duckdb_env), "invalid choice")


def test_freshness_without_executions_table_is_no_data(duckdb_env, tmp_path):
    write_marts(duckdb_env, make_kpi_values(), newest_execution=None)
    defs = definitions_dir(tmp_path, SMALL_DEFINITIONS)
    result = kpis(
        "check",
        "--definitions",
        str(defs),
        "--as-of",
        "2026-11-20",
        "--no-quality",
        "--format",
        "json",
        env=duckdb_env,
    )
    assert result.returncode == 0, result.stderr
    health = {h["key"]: h for h in json.loads(result.stdout)["health_metrics"]}
    assert health["freshness"]["status"] == "warn" and health["freshness"]["note"] == "no data"


def test_rendered_tables_in_process(tmp_path):
    """Text and Markdown tables: same columns and cells; Markdown escapes a `|` in a cell."""
    from telemetry_kpis.check_render import render_markdown, render_text, tables
    from telemetry_kpis.definitions import load_definitions
    from telemetry_kpis.evaluate import evaluate, prepare_kpi_values

    text = SMALL_DEFINITIONS.replace("goal: More pipeline runs", "goal: Runs | more")
    definitions = load_definitions(definitions_dir(tmp_path, text))
    evaluation = evaluate(definitions, prepare_kpi_values(make_kpi_values()), AS_OF, computed={})
    plain, markdown = render_text(evaluation), render_markdown(evaluation)
    for table in tables(evaluation):
        text_table = table.text_view()
        header = next(x for x in plain.splitlines() if x.startswith(text_table.headers[0] + " "))
        assert header.split() == " ".join(text_table.headers).split()
        first = "OKR" if table.groups else table.headers[0]
        md_header = next(x for x in markdown.splitlines() if x.startswith(f"| {first} "))
        md_headers = [*(["OKR"] if table.groups else []), *table.headers, "Link"]
        assert [c.strip() for c in md_header.strip("|").split("|")] == md_headers
        for row in text_table.rows:
            assert all(cell in plain for cell in row[1:])
        # the same notes in both forms
        for note in table.notes:
            assert f"- {note}" in markdown.replace("\\|", "|")
            assert " ".join(note.split()) in " ".join(plain.split())
    assert "Runs \\| more" in markdown and "| Runs | more" not in markdown
    assert "[link](https://bi.example.com/runs)" in markdown


def test_text_output_fits_120_columns_with_every_note(tmp_path):
    """The shipped definitions, with long notes and a public view: no line over 120 columns,
    and the text and Markdown forms carry every note the JSON form has."""
    from telemetry_kpis.check_render import TEXT_WIDTH, render_markdown, render_text
    from telemetry_kpis.definitions import load_definitions
    from telemetry_kpis.evaluate import apply_visibility, evaluate, prepare_kpi_values

    definitions = load_definitions(REPO / "kpi_definitions")
    frame = make_kpi_values(first=date(2025, 10, 1))  # a year back: vs prev and YoY filled
    frame = set_value(frame, "pipeline_success_rate", "day", AS_OF, 0.2)  # a breach note
    frame = set_value(frame, "pipeline_runs", "month", date(2025, 10, 1), 1.0)  # YoY +1e6 %
    evaluation = evaluate(
        definitions,
        prepare_kpi_values(with_changes(frame)),
        AS_OF,
        computed={"data_freshness_hours": 900.0},
    )
    assert any(kr.yoy_change_pct and kr.yoy_change_pct > 1000 for kr in evaluation.key_results)
    for view in (evaluation, apply_visibility(evaluation, definitions)):
        plain, markdown = render_text(view), render_markdown(view)
        widest = max(plain.splitlines(), key=len)
        assert len(widest) <= TEXT_WIDTH == 120, widest
        assert ">+999%" in plain  # a huge change stays narrow
        as_json = view.to_dict()
        notes = [kr["note"] for kr in as_json["key_results"] if kr["note"]]
        notes += [b for h in as_json["health_metrics"] for b in h["breaches"]]
        assert notes, "the fixture must produce notes"
        for note in notes:
            assert " ".join(note.split()) in " ".join(plain.split()), note
            assert note in markdown, note
