"""Ingestion against hostile input: every raw line meets the fate the contract gives it.

The hostile corpus (hostile_corpus.py: real CLI events, each mutated into one kind of bad or
odd row) is loaded with ONE `kpis load` (two JSON-lines files and a TSV file) and built with
ONE `kpis build`, on DuckDB and on PostgreSQL. Then, on both engines:

* the build exits 0 (data tests may warn, never fail: no single raw row may stop a build);
* each kind meets its fate: rejected by the load, quarantined with its reason, a dropped
  duplicate, an execution in marts.fct_cli_executions, or parsed but not an execution;
* no text column of staging, intermediate or marts holds a raw IP address;
* raw = parsed + duplicates + quarantined, and the rejected lines are exactly the rejected kinds;
* marts.kpi_values is identical on both engines.

And the load sequence ("Loads" in docs/metrics.md):

* loading a file, then `--reload`ing it changes no KPI;
* a back-filled half (older uploaded_at) loaded after the newer half gives the same KPIs as one
  load of both;
* a row whose uploaded_at is in the future is rejected and does not stall later loads;
* `dbt source freshness` passes right after a load.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    REAL_EVENTS,
    REPO,
    duckdb_env_for,
    kpis,
    normal_value,
    postgres_database_env,
    query_dicts,
)
from hostile_corpus import HostileCorpus, HostileKind, build_hostile_corpus

ENGINES = ("duckdb", "postgres")
#: every build but the hostile DuckDB one skips the unit tests (they do not depend on data)
FAST_BUILD = ("build", "--quiet", "--exclude", "test_type:unit")
FULL_BUILD = ("build", "--quiet")
TEXT_TYPES = "('text', 'varchar', 'character varying', 'json', 'jsonb')"

EnvFactory = Callable[[str, Path], dict[str, str]]


# --------------------------------------------------------------------------------------------
# warehouses


@pytest.fixture(scope="module")
def new_warehouse() -> Iterator[EnvFactory]:
    """Factory of fresh warehouses (engine, folder) -> env; databases dropped at module end."""
    with contextlib.ExitStack() as stack:

        def make(engine: str, folder: Path) -> dict[str, str]:
            folder.mkdir(parents=True, exist_ok=True)
            if engine == "duckdb":
                return duckdb_env_for(folder)
            return stack.enter_context(postgres_database_env(folder))

        yield make


def _failed_nodes(env: dict[str, str]) -> list[str]:
    """`unique_id: status first line of the message` of every node dbt did not pass."""
    run_results = Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    if not run_results.is_file():
        return ["dbt wrote no run_results.json"]
    failed = []
    for item in json.loads(run_results.read_text())["results"]:
        if item["status"] not in ("success", "pass", "warn", "skipped"):
            # a model's message starts with "Database Error in model x": keep the next line too
            message = [line.strip() for line in (item.get("message") or "").splitlines()]
            text = " | ".join(line for line in message[:2] if line)
            failed.append(f"{item['unique_id']}: {item['status']} {text}")
    return failed


def _build(env: dict[str, str], *args: str) -> list[str]:
    """Run `kpis build`; the problems (empty when it exited 0)."""
    result = kpis(*(args or FAST_BUILD), env=env)
    if result.returncode == 0:
        return []
    failed = _failed_nodes(env) or [result.stdout[-3000:] + result.stderr[-3000:]]
    return [f"kpis build exited {result.returncode}", *failed]


def _assert_build(env: dict[str, str], *args: str) -> None:
    problems = _build(env, *args)
    assert not problems, "\n".join(problems)


def _kpi_values(env: dict[str, str]) -> list[tuple[Any, ...]]:
    rows = query_dicts(env, "select * from marts.kpi_values")
    assert rows, "marts.kpi_values is empty"
    normal = [tuple((k, normal_value(v)) for k, v in sorted(row.items())) for row in rows]
    return sorted(normal, key=lambda row: tuple((v is None, str(v)) for _, v in row))


def _assert_same_kpis(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]], label: str):
    if actual == expected:
        return
    extra = [row for row in actual if row not in expected][:5]
    missing = [row for row in expected if row not in actual][:5]
    raise AssertionError(
        f"{label}: marts.kpi_values differ ({len(actual)} vs {len(expected)} rows)\n"
        f"only in the first: {extra}\nonly in the second: {missing}"
    )


# --------------------------------------------------------------------------------------------
# the hostile corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> HostileCorpus:
    built = build_hostile_corpus(tmp_path_factory.mktemp("hostile_corpus"))
    assert len({kind.name for kind in built.kinds}) >= 40
    return built


@pytest.fixture(scope="module")
def hostile(
    corpus: HostileCorpus, new_warehouse: EnvFactory, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[dict[str, str], list[str]]]:
    """Per engine: the env of the hostile warehouse and the build's problems."""
    built = {}
    for engine in ENGINES:
        env = new_warehouse(engine, tmp_path_factory.mktemp(f"hostile_{engine}"))
        kpis("load", "--no-progress", *map(str, corpus.files), env=env, check=True)
        built[engine] = (env, _build(env, *(FULL_BUILD if engine == "duckdb" else FAST_BUILD)))
    return built


def _table(env: dict[str, str], sql: str) -> list[dict[str, Any]]:
    return query_dicts(env, sql)


class Observed:
    """What the warehouse did with each row, by (file, line) and by event_id."""

    def __init__(self, env: dict[str, str]) -> None:
        self.rejected = {
            (r["source_file"], r["line_number"]): r["reason"]
            for r in _table(
                env, "select source_file, line_number, reason from raw.snowplow_events_rejected"
            )
        }
        self.quarantined = {
            (r["_source_file"], r["_source_line"]): r
            for r in _table(
                env,
                "select event_id, reason, _source_file, _source_line"
                " from staging.stg_snowplow__events_quarantine",
            )
        }
        self.duplicates = _table(
            env,
            "select event_id, _source_file, _source_line"
            " from staging.stg_snowplow__events_duplicates",
        )
        self.duplicate_at = {(r["_source_file"], r["_source_line"]) for r in self.duplicates}
        parsed = _table(
            env, "select event_id, _source_file, _source_line from staging.stg_snowplow__events"
        )
        self.parsed_at = {(r["_source_file"], r["_source_line"]): r["event_id"] for r in parsed}
        self.parsed_ids = {r["event_id"] for r in parsed}
        # the marts are missing when the build failed: the staging fates are still reported
        self.marts_error: str | None = None
        self.executions: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        try:
            self.executions = {
                r["execution_id"]: r for r in _table(env, "select * from marts.fct_cli_executions")
            }
            self.projects = {
                r["project_id"]: r for r in _table(env, "select * from marts.dim_projects")
            }
        except Exception as exc:
            self.marts_error = str(exc).splitlines()[0]

    def fate(self, kind: HostileKind) -> str:
        """The observed fate of the kind's row, in the same words as HostileKind.fate."""
        at = (kind.source_file, kind.source_line)
        if at in self.rejected:
            return f"rejected:{self.rejected[at]}"
        if at in self.quarantined:
            return f"quarantined:{self.quarantined[at]['reason']}"
        if kind.either_copy:
            # one of two identical copies: which one is dropped is not specified
            dropped = sum(r["event_id"] == kind.event_id for r in self.duplicates)
            if kind.event_id not in self.parsed_ids:
                return f"not parsed ({dropped} dropped copies)"
            if dropped != 1:
                return f"parsed with {dropped} dropped copies instead of 1"
            if kind.fate == "duplicate":
                return "duplicate"
        elif at in self.duplicate_at:
            return "duplicate"
        elif at not in self.parsed_at:
            return "nowhere (not rejected, quarantined, dropped nor parsed)"
        if kind.execution_id is None:
            return "parsed"
        if self.marts_error:
            return "parsed (marts missing)"
        if kind.execution_id in self.executions:
            return "execution"
        return "not_execution"


def _expectation_problems(observed: Observed, kind: HostileKind) -> list[str]:
    problems = []
    execution = observed.executions.get(kind.execution_id, {})
    for column, want in kind.execution_expect.items():
        if execution.get(column) != want:
            problems.append(
                f"fct_cli_executions.{column} = {execution.get(column)!r}, not {want!r}"
            )
    project = observed.projects.get(kind.project_id)
    for column, want in kind.project_expect.items():
        if project is None:
            problems.append(f"project {kind.project_id} not in dim_projects")
        elif project.get(column) != want:
            problems.append(f"dim_projects.{column} = {project.get(column)!r}, not {want!r}")
    return problems


@pytest.mark.parametrize("engine", ENGINES)
def test_every_hostile_kind_meets_its_fate(
    hostile: dict[str, tuple[dict[str, str], list[str]]], corpus: HostileCorpus, engine: str
) -> None:
    env, build_problems = hostile[engine]
    problems = [f"build: {line}" for line in build_problems]
    try:
        observed = Observed(env)
    except Exception as exc:  # a table the build did not make
        problems.append(f"cannot read the warehouse: {str(exc).splitlines()[0]}")
        raise AssertionError("\n".join(problems)) from None
    if observed.marts_error:
        problems.append(f"cannot read the marts: {observed.marts_error}")

    for kind in corpus.kinds:
        fate = observed.fate(kind)
        if fate != kind.fate:
            problems.append(f"{kind.name}: expected {kind.fate}, got {fate}")
        elif kind.fate == "execution":
            problems += [f"{kind.name}: {p}" for p in _expectation_problems(observed, kind)]
    for untouched in corpus.untouched_event_ids:
        if untouched not in observed.parsed_ids:
            problems.append(f"untouched real event {untouched} not parsed")

    # blank lines are ignored: no raw row, no rejected line
    raw_at = {
        (r["_source_file"], r["_source_line"])
        for r in query_dicts(env, "select _source_file, _source_line from raw.snowplow_events")
    }
    for at in corpus.blank_lines:
        if at in raw_at or at in observed.rejected:
            problems.append(f"blank line {at} was loaded or rejected")

    # nothing lost: raw = parsed + duplicates + quarantined; rejected = the rejected kinds
    raw = len(raw_at)
    counted = len(observed.parsed_ids) + len(observed.duplicates) + len(observed.quarantined)
    if raw != counted:
        problems.append(
            f"raw {raw} != parsed {len(observed.parsed_ids)} + duplicates "
            f"{len(observed.duplicates)} + quarantined {len(observed.quarantined)}"
        )
    if len(observed.rejected) != corpus.rejected_count:
        problems.append(f"{len(observed.rejected)} rejected lines, not {corpus.rejected_count}")
    if raw + len(observed.rejected) != corpus.line_count:
        problems.append(
            f"raw {raw} + rejected {len(observed.rejected)} != {corpus.line_count} lines"
        )

    problems += _ip_leaks(env, corpus.ip_addresses)
    assert not problems, f"{engine}:\n" + "\n".join(problems)


def _ip_leaks(env: dict[str, str], addresses: tuple[str, ...]) -> list[str]:
    """Text columns of staging, intermediate and marts that hold one of the raw addresses."""
    columns = query_dicts(
        env,
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in ('staging', 'intermediate', 'marts')"
        f" and lower(data_type) in {TEXT_TYPES} order by 1, 2, 3",
    )
    leaks = [
        f"no text column in schema {schema} to scan for raw IP addresses"
        for schema in ("staging", "intermediate", "marts")
        if schema not in {c["table_schema"] for c in columns}
    ]
    condition = " or ".join(
        f"position('{address}' in cast(\"{{column}}\" as text)) > 0" for address in addresses
    )
    for column in columns:
        sql = (
            f'select count(*) as n from "{column["table_schema"]}"."{column["table_name"]}"'
            f" where {condition.format(column=column['column_name'])}"
        )
        if query_dicts(env, sql)[0]["n"]:
            leaks.append(
                f"raw IP address in {column['table_schema']}.{column['table_name']}"
                f".{column['column_name']}"
            )
    return leaks


def test_hostile_kpis_equal_on_both_engines(
    hostile: dict[str, tuple[dict[str, str], list[str]]],
) -> None:
    problems = [f"{engine} build: {p}" for engine, (_, ps) in hostile.items() for p in ps]
    try:
        _assert_same_kpis(
            _kpi_values(hostile["duckdb"][0]),
            _kpi_values(hostile["postgres"][0]),
            "duckdb/postgres",
        )
    except Exception as exc:
        problems.append(str(exc))
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# the load sequence


@pytest.mark.parametrize("engine", ENGINES)
def test_reload_changes_nothing(
    engine: str, new_warehouse: EnvFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    reloaded = new_warehouse(engine, tmp_path_factory.mktemp(f"reload_{engine}"))
    kpis("load", "--no-progress", str(REAL_EVENTS), env=reloaded, check=True)
    kpis("load", "--no-progress", "--reload", str(REAL_EVENTS), env=reloaded, check=True)
    _assert_build(reloaded)
    once = new_warehouse(engine, tmp_path_factory.mktemp(f"once_{engine}"))
    kpis("load", "--no-progress", str(REAL_EVENTS), env=once, check=True)
    _assert_build(once)
    _assert_same_kpis(_kpi_values(reloaded), _kpi_values(once), f"{engine}: reload vs one load")


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
    _assert_build(backfilled)
    kpis("load", "--no-progress", str(older), env=backfilled, check=True)
    _assert_build(backfilled)
    together = new_warehouse(engine, tmp_path_factory.mktemp(f"together_{engine}"))
    kpis("load", "--no-progress", str(newer), str(older), env=together, check=True)
    _assert_build(together)
    _assert_same_kpis(
        _kpi_values(backfilled), _kpi_values(together), f"{engine}: older half loaded later"
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
    _assert_build(later)
    kpis("load", "--no-progress", str(copies), env=later, check=True)
    _assert_build(later)
    together = new_warehouse(engine, tmp_path / "together")
    kpis("load", "--no-progress", str(REAL_EVENTS), str(copies), env=together, check=True)
    _assert_build(together)

    gone = query_dicts(
        later,
        "select count(*) as n from marts.fct_cli_executions"
        f" where execution_id = '{_context_uuid(lone)}'",
    )
    assert gone == [{"n": 0}], "the one-event process is still an execution"
    for table in ("marts.fct_cli_executions", "marts.dim_projects", "marts.kpi_values"):
        got = sorted(
            tuple(normal_value(v) for _, v in sorted(row.items()))
            for row in query_dicts(later, f"select * from {table}")
        )
        want = sorted(
            tuple(normal_value(v) for _, v in sorted(row.items()))
            for row in query_dicts(together, f"select * from {table}")
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
    _assert_build(env)

    later = rows[-20:]
    second = tmp_path / "second.jsonl"
    second.write_text("".join(json.dumps(row) + "\n" for row in later))
    kpis("load", "--no-progress", str(second), env=env, check=True)
    _assert_build(env)
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
