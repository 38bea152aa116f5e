"""The load sequence ("Loads" in docs/metrics.md), on DuckDB and on PostgreSQL:

* loading a file, then `--reload`ing it changes no KPI;
* a back-filled half (older uploaded_at) loaded after the newer half gives the same KPIs as one
  load of both;
* a later load of better-ranked, unusable copies removes their events as a full build would;
* a row whose uploaded_at is in the future is rejected and does not stall later loads;
* `dbt source freshness` passes right after a load.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REAL_EVENTS, REPO, duckdb_env_for, kpis, normal_value, query_dicts
from ingestion_helpers import (
    ENGINES,
    EnvFactory,
    assert_build,
    assert_same_kpis,
    kpi_values,
    warehouse_factory,
)


@pytest.fixture(scope="module")
def new_warehouse() -> Iterator[EnvFactory]:
    """Factory of fresh warehouses (engine, folder) -> env; databases dropped at module end."""
    with warehouse_factory() as make:
        yield make


@pytest.mark.parametrize("engine", ENGINES)
def test_reload_changes_nothing(
    engine: str, new_warehouse: EnvFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    reloaded = new_warehouse(engine, tmp_path_factory.mktemp(f"reload_{engine}"))
    kpis("load", "--no-progress", str(REAL_EVENTS), env=reloaded, check=True)
    kpis("load", "--no-progress", "--reload", str(REAL_EVENTS), env=reloaded, check=True)
    assert_build(reloaded)
    once = new_warehouse(engine, tmp_path_factory.mktemp(f"once_{engine}"))
    kpis("load", "--no-progress", str(REAL_EVENTS), env=once, check=True)
    assert_build(once)
    assert_same_kpis(kpi_values(reloaded), kpi_values(once), f"{engine}: reload vs one load")


def _uploaded(row: dict[str, Any]) -> dt.datetime:
    text = str(row.get("uploaded_at") or "").replace("Z", "+00:00")
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return dt.datetime.min
    return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(dt.UTC)


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated corpus split by uploaded_at: (newer half, older half)."""
    folder = tmp_path_factory.mktemp("halves")
    source = folder / "generated.jsonl"
    kpis(
        "generate",
        "--projects", "25",
        "--days", "40",
        "--start-date", "2026-03-01",
        "--noise",
        "--seed", "11",
        "--quiet",
        "--output", str(source),
        env={**os.environ, "DO_NOT_TRACK": "1"},
        check=True,
    )  # fmt: skip
    lines = [line for line in source.read_text().splitlines() if line.strip()]
    rows = [(_uploaded(json.loads(line)).replace(tzinfo=None), line) for line in lines]
    rows.sort(key=lambda item: item[0])
    middle = len(rows) // 2
    while middle < len(rows) and rows[middle][0] == rows[middle - 1][0]:
        middle += 1
    older, newer = folder / "older.jsonl", folder / "newer.jsonl"
    older.write_text("".join(line + "\n" for _, line in rows[:middle]))
    newer.write_text("".join(line + "\n" for _, line in rows[middle:]))
    assert rows[middle - 1][0] < rows[middle][0], "the halves overlap in uploaded_at"
    return newer, older


@pytest.mark.parametrize("engine", ENGINES)
def test_older_half_after_newer_half(
    engine: str,
    halves: tuple[Path, Path],
    new_warehouse: EnvFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    newer, older = halves
    backfilled = new_warehouse(engine, tmp_path_factory.mktemp(f"backfill_{engine}"))
    kpis("load", "--no-progress", str(newer), env=backfilled, check=True)
    assert_build(backfilled)
    kpis("load", "--no-progress", str(older), env=backfilled, check=True)
    assert_build(backfilled)
    together = new_warehouse(engine, tmp_path_factory.mktemp(f"together_{engine}"))
    kpis("load", "--no-progress", str(newer), str(older), env=together, check=True)
    assert_build(together)
    assert_same_kpis(
        kpi_values(backfilled), kpi_values(together), f"{engine}: older half loaded later"
    )


def _without_project_context(row: dict[str, Any]) -> dict[str, Any]:
    """A copy of the row, uploaded a second earlier, whose contexts lost the project context:
    the copy the dedup keeps (earliest upload), and one that cannot be attributed."""
    contexts = json.loads(row["contexts"])
    contexts["data"] = [c for c in contexts["data"] if "/project_context/" not in c["schema"]]
    uploaded = dt.datetime.fromisoformat(row["uploaded_at"]) - dt.timedelta(seconds=1)
    return dict(
        row,
        contexts=json.dumps(contexts),
        uploaded_at=uploaded.isoformat(sep=" ", timespec="milliseconds"),
    )


def _command(row: dict[str, Any]) -> str | None:
    for context in json.loads(row.get("contexts") or '{"data": []}')["data"]:
        if "/cli_context/" in context["schema"] and context["data"].get("command") != "cli":
            return context["data"].get("command")
    return None


def _context_uuid(row: dict[str, Any]) -> str | None:
    for context in json.loads(row.get("contexts") or '{"data": []}')["data"]:
        if "/project_context/" in context["schema"]:
            return context["data"]["context_uuid"]
    return None


@pytest.mark.parametrize("engine", ENGINES)
def test_a_later_better_ranked_unusable_copy_removes_the_event(
    engine: str, new_warehouse: EnvFactory, tmp_path: Path
) -> None:
    """A later load brings an earlier-uploaded copy of events already built, a copy that cannot
    be used (no project context): the events leave every table as a full refresh would have
    it. The copies: the only event of a one-event process (the process disappears), the exit
    event of a pipeline run (the run loses its exit code) and an opt-out notice."""
    rows = [json.loads(line) for line in REAL_EVENTS.read_text().splitlines() if line.strip()]
    by_process: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        by_process.setdefault(_context_uuid(row), []).append(row)
    lone = next(
        events[0]
        for events in by_process.values()
        if len(events) == 1 and events[0]["event_name"] == "exit_event"
    )
    run_exit = next(
        row
        for events in by_process.values()
        if len(events) >= 3 and "run" in {_command(e) for e in events}
        for row in events
        if row["event_name"] == "exit_event"
    )
    opt_out = next(row for row in rows if row["event_name"] == "telemetry_state_change_event")
    copies = tmp_path / "copies.jsonl"
    copies.write_text(
        "".join(json.dumps(_without_project_context(r)) + "\n" for r in (lone, run_exit, opt_out))
    )
    later = new_warehouse(engine, tmp_path / "later")
    kpis("load", "--no-progress", str(REAL_EVENTS), env=later, check=True)
    assert_build(later)
    kpis("load", "--no-progress", str(copies), env=later, check=True)
    assert_build(later)
    together = new_warehouse(engine, tmp_path / "together")
    kpis("load", "--no-progress", str(REAL_EVENTS), str(copies), env=together, check=True)
    assert_build(together)

    gone = query_dicts(
        later,
        "select count(*) as n from marts.fct_cli_executions"
        f" where execution_id = '{_context_uuid(lone)}'",
    )
    assert gone == [{"n": 0}], "the one-event process is still an execution"
    for table in ("marts.fct_cli_executions", "marts.dim_projects", "marts.kpi_values"):
        # sorted by their text: a column may hold nulls beside numbers
        got = sorted(
            (
                tuple(normal_value(v) for _, v in sorted(row.items()))
                for row in query_dicts(later, f"select * from {table}")
            ),
            key=repr,
        )
        want = sorted(
            (
                tuple(normal_value(v) for _, v in sorted(row.items()))
                for row in query_dicts(together, f"select * from {table}")
            ),
            key=repr,
        )
        assert got == want, f"{engine}: {table} after the later copies != one build of both"


def test_future_uploaded_at_does_not_stall_later_loads(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    rows = [json.loads(line) for line in REAL_EVENTS.read_text().splitlines() if line.strip()]
    rows.sort(key=lambda row: row["uploaded_at"])
    future = dict(rows[10], event_id=str(uuid.uuid4()), uploaded_at="2999-01-01 00:00:00")
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps(row) + "\n" for row in [*rows[:5], future, *rows[5:10]]))
    kpis("load", "--no-progress", str(first), env=env, check=True)
    rejected = query_dicts(
        env, "select line_number, reason from raw.snowplow_events_rejected order by 1"
    )
    assert rejected == [{"line_number": 6, "reason": "invalid_uploaded_at"}]
    assert_build(env)

    later = rows[-20:]
    second = tmp_path / "second.jsonl"
    second.write_text("".join(json.dumps(row) + "\n" for row in later))
    kpis("load", "--no-progress", str(second), env=env, check=True)
    assert_build(env)
    parsed = {
        row["event_id"]
        for row in query_dicts(env, "select event_id from staging.stg_snowplow__events")
    }
    missing = [row["event_id"] for row in later if row["event_id"] not in parsed]
    assert not missing, f"{len(missing)} events of the later load were not processed"


def test_source_freshness_passes_after_a_load(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    kpis("load", "--no-progress", str(REAL_EVENTS), env=env, check=True)
    # `kpis build --command` offers build/run/test/seed/compile/docs: run dbt itself
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "source", "freshness", "--profiles-dir", ".", "--project-dir", "."],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, "dbt source freshness failed after a load:\n" + "\n".join(
        line
        for line in result.stdout.splitlines()
        if "ERROR" in line or "WARN" in line or "Error" in line
    )
