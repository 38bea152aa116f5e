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

The load sequence ("Loads" in docs/metrics.md) is tested in test_load_sequence.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import kpis, query_dicts
from hostile_corpus import HostileCorpus, HostileKind, build_hostile_corpus
from ingestion_helpers import (
    ENGINES,
    FAST_BUILD,
    FULL_BUILD,
    EnvFactory,
    assert_same_kpis,
    build,
    kpi_values,
    warehouse_factory,
)

TEXT_TYPES = "('text', 'varchar', 'character varying', 'json', 'jsonb')"


@pytest.fixture(scope="module")
def new_warehouse() -> Iterator[EnvFactory]:
    """Factory of fresh warehouses (engine, folder) -> env; databases dropped at module end."""
    with warehouse_factory() as make:
        yield make


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
        built[engine] = (env, build(env, *(FULL_BUILD if engine == "duckdb" else FAST_BUILD)))
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
        self.executions: dict[str | None, dict[str, Any]] = {}
        self.projects: dict[str | None, dict[str, Any]] = {}
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
        assert_same_kpis(
            kpi_values(hostile["duckdb"][0]),
            kpi_values(hostile["postgres"][0]),
            "duckdb/postgres",
        )
    except Exception as exc:
        problems.append(str(exc))
    assert not problems, "\n".join(problems)
