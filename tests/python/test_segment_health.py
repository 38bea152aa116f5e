"""Health metrics on segments (kpi_values_by_segment) and the choice of top contributors
(kpi_drivers), as pure functions on hand-made frames, plus the configuration errors of the new
definition keys and the shipped definitions end to end."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import kpis
from kpi_marts import (
    AS_OF,
    DRIVER_COLUMNS,
    SEGMENT_COLUMNS,
    make_environment_segments,
    make_kpi_values,
    write_marts,
)
from test_check import definitions_dir, one_line_error

from telemetry_kpis.definitions import DefinitionError, load_definitions
from telemetry_kpis.drivers import prepare_drivers, top_contributors
from telemetry_kpis.evaluate import evaluate, prepare_kpi_values
from telemetry_kpis.evaluate_segments import prepare_segments

RUNBOOK = "https://bi.example.com/runbooks/x"


def health_file(tmp_path: Path, *entries: str) -> Path:
    body = "\n".join(f"  - {{{e}, severity: alarm, runbook: '{RUNBOOK}'}}" for e in entries)
    return definitions_dir(tmp_path, f"health_metrics:\n{body}\n")


def evaluate_health(tmp_path: Path, segments: pd.DataFrame, *entries: str):
    definitions = load_definitions(health_file(tmp_path, *entries))
    evaluation = evaluate(
        definitions,
        prepare_kpi_values(make_kpi_values(first=AS_OF - timedelta(days=60))),
        AS_OF,
        segments=prepare_segments(segments),
    )
    return {h.key: h for h in evaluation.health}


def segment_rows(metric: str, value: str, values: dict[date, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [(metric, "day", d, d, "environment", value, v, True) for d, v in values.items()],
        columns=SEGMENT_COLUMNS,
    )


def test_segment_health_reads_the_segment_series(tmp_path):
    """prod has 100 runs a day and a 90 % success rate, and no row on the as-of day: its run
    count is 0 there (a breach), its rate has no value (the day before is evaluated)."""
    days = [AS_OF - timedelta(days=i) for i in range(1, 40)]
    segments = pd.concat(
        [
            segment_rows("pipeline_runs", "prod", {d: 100.0 for d in days}),
            segment_rows("pipeline_success_rate", "prod", {d: 0.9 for d in days}),
            segment_rows("pipeline_runs", "dev", {d: 5.0 for d in [*days, AS_OF]}),
        ]
    )
    results = evaluate_health(
        tmp_path,
        segments,
        "name: runs, metric: pipeline_runs, grain: day, segment: {environment: prod}, "
        "expected_range: {min: 50}",
        "name: rate, metric: pipeline_success_rate, grain: day, segment: {environment: prod}, "
        "expected_range: {min: 0.85}",
    )
    runs, rate = results["runs"], results["rate"]
    assert runs.segment == "environment=prod" and runs.period_end == AS_OF
    assert runs.value == 0.0 and runs.status == "alarm"
    assert runs.breaches == ["0 below the minimum 50"]
    assert runs.previous_value == 100.0 and runs.pop_change_pct == pytest.approx(-1.0)
    assert runs.yoy_change_pct is None  # the series does not reach back a year
    assert rate.period_end == AS_OF - timedelta(days=1) and rate.value == pytest.approx(0.9)
    assert rate.status == "ok" and rate.pop_change_pct == pytest.approx(0.0)


def test_per_segment_anomaly_names_the_segment(tmp_path):
    """prod's success rate falls to 30 % on the as-of day while the whole metric barely moves;
    a segment value seen only on that day has too little history to be scored."""
    segments = make_environment_segments(first=AS_OF - timedelta(days=60))
    prod = (segments["metric_name"] == "pipeline_success_rate") & (
        segments["segment_value"] == "prod"
    )
    segments.loc[prod & (segments["period_start"] == AS_OF), "value"] = 0.3
    fresh = pd.concat(
        [
            segment_rows("pipeline_success_rate", "fresh", {AS_OF: 0.01}),
            segment_rows("pipeline_runs", "fresh", {AS_OF: 50.0}),  # 0 runs on every day before
        ]
    )
    segments = pd.concat([segments, fresh], ignore_index=True)
    entry = (
        "name: success, metric: pipeline_success_rate, grain: day, "
        "anomaly: {threshold: 4, window: 28%s}"
    )
    scored = evaluate_health(tmp_path, segments, entry % ", per_segment: environment")["success"]
    assert scored.status == "alarm"
    assert [s.segment for s in scored.anomaly_segments] == ["environment=prod"]
    assert scored.anomaly_segments[0].score < -4
    (breach,) = scored.breaches
    assert breach.startswith("anomaly in environment=prod: 30.0% (robust z -")
    assert breach.endswith("beyond ±4)")
    assert abs(scored.anomaly_score or 0) < 4  # the whole metric is no anomaly
    plain = evaluate_health(tmp_path, segments, entry % "")["success"]
    assert plain.status == "ok" and plain.anomaly_segments == []
    runs = evaluate_health(
        tmp_path,
        segments,
        "name: runs, metric: pipeline_runs, grain: day, "
        "anomaly: {threshold: 4, per_segment: environment}",
    )["runs"]
    assert runs.status == "ok" and runs.breaches == []  # not "fresh": no history to score


def test_top_contributors_order_direction_and_lifecycle():
    def rows(total, *drivers):
        return [
            (
                "m",
                "day",
                AS_OF,
                AS_OF,
                True,
                kind,
                name,
                1.0,
                1.0,
                c,
                c / total if total else None,
                total,
            )
            for kind, name, c in drivers
        ]

    frame = prepare_drivers(
        pd.DataFrame(
            rows(
                10.0,
                ("os", "b", 3.0),
                ("os", "a", 3.0),
                ("os", "c", 5.0),
                ("os", "d", -1.0),
                ("os", "e", 0.0),
                ("ci", "ci", 1.0),
            )
            + rows(
                -4.0,
                ("lifecycle", "new_active_projects", 2.0),
                ("lifecycle", "churned_projects", -6.0),
            )
            + [("m", "week", AS_OF, AS_OF, True, "os", "x", 1.0, 1.0, None, None, None)],
            columns=DRIVER_COLUMNS,
        )
    )
    # a rise: the largest positive parts first, ties by name, three at most; the fall and the
    # zero left out; kinds in their fixed order (os before ci)
    picked = top_contributors(frame[frame["driver_kind"] != "lifecycle"], "m", "day", AS_OF)
    assert [c.name for c in picked] == ["os=c", "os=a", "os=b", "ci=ci"]
    assert picked[0].share_of_change == pytest.approx(0.5)
    # lifecycle first, every part kept, in the direction of the fall (-4)
    lifecycle = top_contributors(frame[frame["driver_kind"] == "lifecycle"], "m", "day", AS_OF)
    assert [c.name for c in lifecycle] == ["churned_projects", "new_active_projects"]
    assert top_contributors(frame, "m", "week", AS_OF) == []  # no known change
    assert top_contributors(frame, "m", "day", AS_OF - timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (
            "metric: pipeline_runs, grain: day, segment: {env: prod}, expected_range: {min: 1}",
            ["segment.env: expected a segment kind (environment, meltano_version, os, ci, fish)"],
        ),
        (
            "metric: pipeline_runs, grain: day, segment: {fish: x}, expected_range: {min: 1}",
            [
                "segment.fish: pipeline_runs is not published by fish",
                "environment, meltano_version",
            ],
        ),
        (
            "metric: new_projects, grain: day, anomaly: {per_segment: environment}",
            ["anomaly.per_segment: new_projects is not published by environment"],
        ),
        (
            "metric: pipeline_runs, grain: day, segment: {os: Linux, ci: ci}, "
            "expected_range: {min: 1}",
            ["segment: expected exactly one segment kind"],
        ),
        (
            "metric: active_projects, grain: month, segment: {meltano_version: 3.10}, "
            "expected_range: {min: 1}",
            ["segment.meltano_version: expected a segment value as text"],
        ),
        (
            "metric: pipeline_runs, grain: day, segment: {os: Linux}, anomaly: {per_segment: ci}",
            ["anomaly.per_segment: not allowed with segment"],
        ),
    ],
)
def test_segment_configuration_errors_are_one_line(tmp_path, entry, words):
    with pytest.raises(DefinitionError) as raised:
        load_definitions(health_file(tmp_path, entry))
    message = str(raised.value)
    assert "\n" not in message and "health_metrics[0]." in message
    for word in words:
        assert word in message


def test_segment_configuration_error_via_cli(tmp_path, duckdb_env):
    defs = health_file(
        tmp_path,
        "metric: pipeline_runs, grain: day, segment: {region: eu}, expected_range: {min: 1}",
    )
    result = kpis("check", "--definitions", str(defs), "--no-quality", env=duckdb_env)
    one_line_error(result, "segment.region: expected a segment kind")


def test_shipped_segment_health_end_to_end(duckdb_env):
    """The shipped definitions on marts with environment segments: prod's success rate is
    read from its own series, every value of the environment is scored, all is ok."""
    segments = make_environment_segments()
    write_marts(duckdb_env, make_kpi_values(), segments=segments)
    result = kpis(
        "check", "--as-of", str(AS_OF), "--no-quality", "--format", "json", env=duckdb_env
    )
    assert result.returncode == 0, result.stderr
    health = {h["key"]: h for h in json.loads(result.stdout)["health_metrics"]}
    prod = health["prod_pipeline_success_rate_daily"]
    rows = segments[
        (segments["metric_name"] == "pipeline_success_rate") & (segments["segment_value"] == "prod")
    ].set_index("period_start")["value"]
    assert prod["segment"] == "environment=prod" and prod["status"] == "ok"
    assert prod["value"] == pytest.approx(rows[AS_OF])
    assert prod["pop_change_pct"] == pytest.approx(
        (rows[AS_OF] - rows[AS_OF - timedelta(days=1)]) / rows[AS_OF - timedelta(days=1)]
    )
    assert prod["value"] != pytest.approx(health["pipeline_success_rate_daily"]["value"])
    assert health["pipeline_success_rate_daily"]["anomaly_segments"] == []
    assert all(h["status"] == "ok" for h in health.values())
