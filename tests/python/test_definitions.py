"""kpi_definitions: the shipped files load; every kind of mistake fails with file + field.

Each invalid case is checked twice: by ``load_definitions`` (the message) and through the real
``kpis check`` command (exit 2, one line on stderr, no traceback).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, kpis

from telemetry_kpis.definitions import (
    COMPUTED_METRICS,
    DefinitionError,
    load_definitions,
    metrics,
)

VALID = """\
okrs:
  - name: growth
    objective: Grow
    label: "OKR: Grow"
    scope: company
    timeframe: {start: 2026-10-01, end: 2026-12-31}
key_results:
  - okr: growth
    goal: Improve Metric X
    kpi: active_projects
    grain: month
    start_value: 100
    target_value: 200
    dashboard: https://bi.example.com/map
health_metrics:
  - metric: pipeline_success_rate
    grain: day
    expected_range: {min: 0.5, max: 1}
    severity: alarm
    runbook: https://bi.example.com/runbook
"""


def test_shipped_definitions_load():
    definitions = load_definitions(REPO / "kpi_definitions")
    assert [o.objective for o in definitions.okrs] == [
        "Be the DataOps OS",
        "Improve New User Experience (attrition and retention)",
        "Improve Ease of Deployment",
        "Managed service beta",
    ]
    assert all(o.label.startswith("OKR: ") for o in definitions.okrs)
    krs = definitions.key_results
    assert {k.kpi for k in krs} <= {*metrics(), "manual"}
    assert any(k.kpi == "active_projects" and k.grain == "month" for k in krs)
    manual = [k for k in krs if k.kpi == "manual"]
    assert len(manual) == 1 and manual[0].values
    assert all(k.example for k in krs), "shipped start/target values are examples"
    assert any(k.target_value < k.start_value for k in krs)  # a lower-is-better KR
    checked = {h.metric for h in definitions.health_metrics}
    assert {
        "pipeline_success_rate",
        "bad_event_share",
        "data_freshness_hours",
        "daily_active_projects",
    } <= checked
    assert {h.severity for h in definitions.health_metrics} == {"warn", "alarm"}


def test_kr_timeframe_defaults_to_the_okr(tmp_path: Path):
    (tmp_path / "okrs.yml").write_text(VALID)
    definitions = load_definitions(tmp_path)
    kr = definitions.key_results[0]
    assert kr.visibility == "internal"
    assert kr.key == "improve_metric_x"
    assert definitions.timeframe(kr).end.isoformat() == "2026-12-31"


def test_hold_the_line_follows_the_registry_direction(tmp_path: Path):
    """With start = target and no direction, progress is on the metric's good side."""
    held = VALID.replace("target_value: 200", "target_value: 100")
    (tmp_path / "okrs.yml").write_text(held)
    assert load_definitions(tmp_path).key_results[0].increasing  # active_projects: higher
    churn = held.replace("kpi: active_projects", "kpi: churned_projects")
    (tmp_path / "okrs.yml").write_text(churn)
    assert metrics()["churned_projects"].direction == "lower"
    assert not load_definitions(tmp_path).key_results[0].increasing


def test_computed_metrics_are_registry_metrics():
    """A live metric takes its kind and label from the published series of the same name."""
    assert set(COMPUTED_METRICS) <= set(metrics())


def test_definitions_may_span_files(tmp_path: Path):
    okrs, rest = VALID.split("key_results:")
    (tmp_path / "a.yml").write_text(okrs)
    (tmp_path / "b.yaml").write_text("key_results:" + rest)
    definitions = load_definitions(tmp_path)
    assert len(definitions.okrs) == 1 and len(definitions.key_results) == 1


def replace(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new)


KR_FIELDS = "    dashboard: https://bi.example.com/map\n"

# (id, file text, field path expected in the message, words expected in the message)
INVALID = [
    (
        "missing_field",
        replace("    target_value: 200\n", ""),
        "key_results[0].target_value",
        "missing required field",
    ),
    (
        "wrong_type",
        replace("target_value: 200", "target_value: abc"),
        "key_results[0].target_value",
        "expected a number, got 'abc'",
    ),
    (
        "boolean_is_not_a_number",
        replace("start_value: 100", "start_value: true"),
        "key_results[0].start_value",
        "expected a number",
    ),
    (
        "unknown_metric",
        replace("kpi: active_projects", "kpi: monthly_vibes"),
        "key_results[0].kpi",
        "'monthly_vibes'",
    ),
    (
        "grain_not_published_for_metric",
        replace("    grain: month\n", "    grain: day\n"),
        "key_results[0].grain",
        "expected one of month for active_projects, got 'day'",
    ),
    (
        "bad_grain",
        replace("    grain: day\n", "    grain: hour\n"),
        "health_metrics[0].grain",
        "expected one of 'day', 'week' or 'month', got 'hour'",
    ),
    (
        "end_before_start",
        replace(KR_FIELDS, KR_FIELDS + "    timeframe: {start: 2026-12-01, end: 2026-11-01}\n"),
        "key_results[0].timeframe.end",
        "expected a date after start (2026-12-01)",
    ),
    (
        "empty_text",
        replace("goal: Improve Metric X", "goal: '  '"),
        "key_results[0].goal",
        "expected a non-empty text, got '  '",
    ),
    (
        "infinite_number",
        replace("start_value: 100", "start_value: .inf"),
        "key_results[0].start_value",
        "expected a finite number, got inf",
    ),
    (
        "anomaly_threshold_not_positive",
        replace("    severity: alarm\n", "    anomaly: {threshold: 0}\n    severity: alarm\n"),
        "health_metrics[0].anomaly.threshold",
        "expected a number above 0, got 0",
    ),
    (
        "trend_periods_below_two",
        replace(KR_FIELDS, KR_FIELDS + "    trend_periods: 1\n"),
        "key_results[0].trend_periods",
        "expected a whole number of periods >= 2, got 1",
    ),
    (
        "date_as_a_number",
        replace("start: 2026-10-01", "start: 20261001"),
        "okrs[0].timeframe.start",
        "expected a date (YYYY-MM-DD), got 20261001",
    ),
    (
        "range_without_bounds",
        replace("{min: 0.5, max: 1}", "{}"),
        "health_metrics[0].expected_range",
        "expected min and/or max",
    ),
    (
        "okr_end_before_start",
        replace("end: 2026-12-31", "end: 2026-09-30"),
        "okrs[0].timeframe.end",
        "expected a date after start",
    ),
    (
        "bad_date",
        replace("start: 2026-10-01", "start: 2026-13-01"),
        "okrs[0].timeframe.start",
        "expected a date (YYYY-MM-DD), got '2026-13-01'",
    ),
    (
        "bad_severity",
        replace("severity: alarm", "severity: critical"),
        "health_metrics[0].severity",
        "expected one of 'warn' or 'alarm', got 'critical'",
    ),
    (
        "bad_visibility",
        replace(KR_FIELDS, KR_FIELDS + "    visibility: secret\n"),
        "key_results[0].visibility",
        "expected one of 'public' or 'internal'",
    ),
    (
        "unknown_field",
        replace(KR_FIELDS, KR_FIELDS + "    targt_value: 3\n"),
        "key_results[0].targt_value",
        "unknown field",
    ),
    (
        "unknown_okr",
        replace("  - okr: growth", "  - okr: groth"),
        "key_results[0].okr",
        "expected the name of an OKR (growth), got 'groth'",
    ),
    (
        "bad_label",
        replace('label: "OKR: Grow"', "label: Grow"),
        "okrs[0].label",
        "expected 'OKR: <short description>'",
    ),
    (
        "bad_link",
        replace("dashboard: https://bi.example.com/map", "dashboard: bi/map"),
        "key_results[0].dashboard",
        "expected an http(s):// link",
    ),
    (
        "range_min_above_max",
        replace("{min: 0.5, max: 1}", "{min: 0.5, max: 0.4}"),
        "health_metrics[0].expected_range.max",
        "expected a number >= min (0.5)",
    ),
    (
        "health_without_checks",
        replace("    expected_range: {min: 0.5, max: 1}\n", ""),
        "health_metrics[0].expected_range",
        "expected at least one check",
    ),
    (
        "negative_drop",
        replace("    severity: alarm\n", "    max_drop_pct: -5\n    severity: alarm\n"),
        "health_metrics[0].max_drop_pct",
        "expected a percentage above 0",
    ),
    (
        "live_freshness_with_baseline",
        replace(
            "    grain: day\n    expected_range",
            "    max_rise_pct: 50\n    expected_range",
        ).replace("metric: pipeline_success_rate", "metric: data_freshness_hours"),
        "health_metrics[0].max_rise_pct",
        "not supported for the live data_freshness_hours",
    ),
    (
        "freshness_series_grain",
        replace("metric: pipeline_success_rate", "metric: data_freshness_hours").replace(
            "    grain: day\n", "    grain: week\n"
        ),
        "health_metrics[0].grain",
        "expected one of day for data_freshness_hours, got 'week'",
    ),
    (
        "manual_without_values",
        replace("kpi: active_projects\n    grain: month", "kpi: manual"),
        "key_results[0].values",
        "kpi: manual needs values",
    ),
    (
        "values_on_a_metric",
        replace(KR_FIELDS, KR_FIELDS + "    values: [{date: 2026-10-01, value: 1}]\n"),
        "key_results[0].values",
        "only allowed with kpi: manual",
    ),
    (
        "direction_contradicts_target",
        replace(KR_FIELDS, KR_FIELDS + "    direction: decrease\n"),
        "key_results[0].direction",
        "expected increase",
    ),
    (
        "duplicate_okr_name",
        replace(
            "key_results:",
            "  - {name: growth, objective: Again, label: 'OKR: Again', scope: x,\n"
            "     timeframe: {start: 2026-10-01, end: 2026-12-31}}\nkey_results:",
        ),
        "okrs[1].name",
        "expected a unique name, got 'growth' again",
    ),
    (
        "list_expected",
        replace("key_results:\n", "key_results: {}\n").split("  - okr: growth")[0]
        + "health_metrics: []\n",
        "key_results",
        "expected a list",
    ),
    (
        "bad_yaml_syntax",
        replace("    goal: Improve Metric X\n", "    goal: [Improve Metric X\n"),
        "line ",
        "invalid YAML",
    ),
    (
        "duplicate_yaml_key",
        replace("    grain: month\n", "    grain: month\n    grain: month\n"),
        "line 12, column 5",
        "duplicate key 'grain'",
    ),
    (
        "not_a_mapping",
        "- just\n- a list\n",
        "okrs.yml: expected a mapping",
        "got a list",
    ),
]


@pytest.mark.parametrize(
    ("text", "field", "words"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_definition_names_file_and_field(tmp_path: Path, text, field, words):
    (tmp_path / "okrs.yml").write_text(text)
    with pytest.raises(DefinitionError) as raised:
        load_definitions(tmp_path)
    message = str(raised.value)
    assert message.startswith(str(tmp_path / "okrs.yml") + ": "), message
    assert field in message, message
    assert words in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "field", "words"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_definition_via_cli_exits_2_without_traceback(
    tmp_path: Path, duckdb_env, text, field, words
):
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "okrs.yml").write_text(text)
    result = kpis("check", "--definitions", str(folder), "--no-quality", env=duckdb_env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kpis check: error: ")
    assert "okrs.yml" in lines[0] and field in lines[0] and words in lines[0]
    assert result.stdout == ""


def test_missing_or_empty_definitions_folder(tmp_path: Path, duckdb_env):
    with pytest.raises(DefinitionError, match="no such definitions folder"):
        load_definitions(tmp_path / "nope")
    with pytest.raises(DefinitionError, match=r"no \*\.yml definition files"):
        load_definitions(tmp_path)
    result = kpis("report", "--definitions", str(tmp_path / "nope"), env=duckdb_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no such definitions folder" in result.stderr


@pytest.mark.parametrize(
    ("files", "named"),
    [
        pytest.param({"okrs.yml": ""}, "okrs.yml", id="empty_file"),
        pytest.param(
            {"okrs.yml": "# nothing yet\n\n  # still nothing\n"}, "okrs.yml", id="comment_only"
        ),
        pytest.param(
            {"okrs.yml": VALID, "zz.yml": "# todo\n"},
            "zz.yml",
            id="an_empty_file_beside_a_valid_one",
        ),
        pytest.param(
            {"c.yml": VALID.split("key_results:")[0]},
            None,
            id="okrs_without_key_results_or_health_metrics",
        ),
    ],
)
def test_definitions_that_define_nothing(
    tmp_path: Path, duckdb_env, files: dict[str, str], named: str | None
):
    folder = tmp_path / "defs"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    where = folder / named if named else folder
    message = f"no key results or health metrics defined in {where}"
    with pytest.raises(DefinitionError) as caught:
        load_definitions(folder)
    assert str(caught.value) == message
    for command in ("check", "report"):
        result = kpis(command, "--definitions", str(folder), env=duckdb_env)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.strip() == f"kpis {command}: error: {message}", result.stderr
