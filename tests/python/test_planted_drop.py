"""End to end: a generated corpus whose production pipelines fail on its last day. `kpis check`
must raise the pipeline success rate alarm and name `environment=prod` as the top contributor
of the drop (kpi_drivers) and as the segment whose anomaly breached (per_segment)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import duckdb_env_for, kpis

LAST_DAY = "2026-09-30"
PROD_HASH = hashlib.sha256(b"prod").hexdigest()


def plant_prod_failures(source: Path, target: Path, day: str) -> int:
    """Copy the corpus, turning exit code 0 into 1 on the exit events of `prod` executions
    collected on `day`; returns how many events changed."""
    environment = f'\\"environment_name_hash\\":\\"{PROD_HASH}\\"'
    success, failure = '\\"exit_code\\":0', '\\"exit_code\\":1'
    changed = 0
    with source.open() as lines, target.open("w") as out:
        for line in lines:
            if (
                f'"collector_tstamp":"{day}' in line
                and environment in line
                and "exit_event" in line
                and success in line
            ):
                line = line.replace(success, failure)
                changed += 1
            out.write(line)
    return changed


def test_check_names_the_failing_segment(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    corpus, planted = tmp_path / "corpus.jsonl", tmp_path / "planted.jsonl"
    kpis(
        "generate", "--projects", "80", "--days", "60", "--end-date", LAST_DAY, "--seed", "5",
        "--workers", "1", "--quiet", "--output", str(corpus),
        env=env, check=True,
    )  # fmt: skip
    assert plant_prod_failures(corpus, planted, LAST_DAY) >= 5
    kpis("load", str(planted), env=env, check=True)
    kpis("build", env=env, check=True)

    result = kpis("check", "--format", "json", env=env)
    assert result.returncode == 1, result.stderr[-2000:]  # an alarm
    health = {h["key"]: h for h in json.loads(result.stdout)["health_metrics"]}
    success_rate = health["pipeline_success_rate_daily"]
    assert success_rate["status"] == "alarm"
    contributors = success_rate["contributors"]
    assert contributors[0]["name"] == "environment=prod"
    biggest = min(contributors, key=lambda c: c["contribution"])  # the largest fall
    assert biggest["name"] == "environment=prod" and biggest["share_of_change"] > 0.5
    assert any("anomaly in environment=prod" in b for b in success_rate["breaches"])
    assert health["prod_pipeline_success_rate_daily"]["status"] != "ok"
