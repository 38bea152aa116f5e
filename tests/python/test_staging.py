"""Staging and intermediate layers on real warehouses (DuckDB file and PostgreSQL).

The real Meltano 4.4.1 sample (real_cli_events.jsonl) is loaded with `kpis load` and built with
`kpis build` once per engine; the tests then check, on both engines:

* every CLI command of real_cli_commands.json that emitted execution events is exactly one
  execution with the command, sub-command and exit code its argv implies (``schedule run``:
  the `schedule`/`run` process and its child `run` process, linked by parent_execution_id);
* no text column of any staging, intermediate or marts relation holds a raw IP address;
* both engines give identical contract models;
* bad rows (invalid JSON, bad timestamps, no event id, missing project context, unknown
  events, duplicate copies) end in the quarantine or the duplicates with the right reason, and
  raw = parsed + duplicates + quarantined.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    REAL_COMMANDS,
    REAL_EVENTS,
    duckdb_env_for,
    kpis,
    postgres_database_env,
    query_dicts,
)

ENGINES = ("duckdb", "postgres")
MY_PATHS = ("models/staging/", "models/intermediate/", "tests/staging/")

#: click groups of the Meltano 4 CLI used in the sample: their first argument is a sub-command.
CLI_GROUPS = {"config", "schedule", "job", "state", "environment"}

CONTRACT_MODELS = {
    "int_cli_executions": "execution_id",
    "int_telemetry_events": "event_id",
    "int_execution_plugins": "execution_id, plugin_name_hash, plugin_command",
    "int_telemetry_state_changes": "event_id",
    "stg_snowplow__events": "event_id",
}

#: bookkeeping columns of the incremental models: when the row was (re)processed
BATCH_MARKERS = {"_kept_at", "_batch_at", "_changed_at"}

Query = Callable[[str], list[dict[str, Any]]]


# --------------------------------------------------------------------------------------------
# warehouses


class Warehouse:
    """A built warehouse: its engine, environment and a query function."""

    def __init__(self, engine: str, env: dict[str, str], query: Query) -> None:
        self.engine = engine
        self.env = env
        self.query = query

    def scalar(self, sql: str) -> Any:
        return next(iter(self.query(sql)[0].values()))


@pytest.fixture(scope="module")
def _postgres_databases() -> Iterator[Callable[[Path], dict[str, str]]]:
    """Factory of fresh PostgreSQL databases, all dropped at the end of the module."""
    with contextlib.ExitStack() as stack:
        yield lambda folder: stack.enter_context(postgres_database_env(folder))


def _build(
    engine: str,
    folder: Path,
    files: list[Path],
    pg_factory: Callable[[Path], dict[str, str]],
) -> Warehouse:
    folder.mkdir(parents=True, exist_ok=True)
    env = duckdb_env_for(folder) if engine == "duckdb" else pg_factory(folder)
    query = functools.partial(query_dicts, env)
    kpis("load", *map(str, files), env=env, check=True)
    # The whole project is built (so the marts can be scanned for IP addresses too), but only
    # the nodes of this layer must pass here: the marts have their own tests.
    result = kpis("build", env=env)
    _assert_my_nodes_passed(folder / "dbt_target", result)
    return Warehouse(engine, env, query)


def _assert_my_nodes_passed(target: Path, result: Any) -> None:
    run_results = target / "run_results.json"
    manifest = target / "manifest.json"
    assert run_results.is_file() and manifest.is_file(), (
        f"dbt did not run\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    nodes = json.loads(manifest.read_text())
    by_id = {**nodes["nodes"], **nodes.get("unit_tests", {})}
    failures = []
    seen = 0
    for item in json.loads(run_results.read_text())["results"]:
        node = by_id.get(item["unique_id"], {})
        if not str(node.get("original_file_path", "")).startswith(MY_PATHS):
            continue
        seen += 1
        if item["status"] not in ("success", "pass", "warn"):
            failures.append(f"{item['unique_id']}: {item['status']} {item.get('message')}")
    assert seen > 50, f"only {seen} staging/intermediate nodes ran\n{result.stdout[-4000:]}"
    assert not failures, "\n".join(failures) + "\n" + result.stdout[-6000:]


@pytest.fixture(scope="module")
def real(tmp_path_factory, _postgres_databases) -> dict[str, Warehouse]:
    """The real CLI sample, loaded and built on both engines."""
    return {
        engine: _build(
            engine, tmp_path_factory.mktemp(f"real_{engine}"), [REAL_EVENTS], _postgres_databases
        )
        for engine in ENGINES
    }


# --------------------------------------------------------------------------------------------
# the real CLI sample


def _command_steps() -> list[dict[str, Any]]:
    steps = json.loads(REAL_COMMANDS.read_text())["steps"]
    return [step for step in steps if step.get("kind") == "command"]


def _expected_command(step: dict[str, Any]) -> tuple[str, str | None]:
    """(command, sub_command) implied by argv.

    Global options (`--environment=dev`) come before the command; the first word is the
    command; for a click group (config, schedule, ...) the next word is the sub-command. A
    usage error (the process sent only an exit_event) stops where click stopped parsing: a
    group's context exists before its sub-command is looked up (`config meltano list` ->
    config), a plain command's options are checked before its context exists (`lock --all`
    -> the root group `cli`).
    """
    words = [word for word in step["argv"][1:] if not word.startswith("-")]
    command = words[0]
    is_group = command in CLI_GROUPS
    if step["telemetry_events"] == ["exit_event:2"]:
        return (command, None) if is_group else ("cli", None)
    sub_command = words[1] if is_group and len(words) > 1 else None
    return command, sub_command


@pytest.mark.parametrize("engine", ENGINES)
def test_every_real_command_is_one_execution(real: dict[str, Warehouse], engine: str) -> None:
    warehouse = real[engine]
    executions = {
        row["execution_id"]: row
        for row in warehouse.query("select * from intermediate.int_cli_executions")
    }
    events = {
        row["event_id"]: row
        for row in warehouse.query(
            "select event_id, execution_id, is_execution_event, event_kind"
            " from intermediate.int_telemetry_events"
        )
    }
    matched: set[str] = set()
    checked = 0
    for step in _command_steps():
        ids = step["telemetry_event_ids"]
        missing = [event_id for event_id in ids if event_id not in events]
        assert not missing, f"seq {step['seq']} {step['argv']}: events not parsed: {missing}"
        process_ids = {
            events[event_id]["execution_id"]
            for event_id in ids
            if events[event_id]["is_execution_event"]
        }
        if not process_ids:
            # no telemetry at all, or only the opt-out notice: not an execution
            continue
        checked += 1
        label = f"seq {step['seq']} {' '.join(step['argv'])}"
        assert process_ids <= executions.keys(), f"{label}: no execution for {process_ids}"
        parents = [
            x for x in process_ids if executions[x]["parent_execution_id"] not in process_ids
        ]
        assert len(parents) == 1, f"{label}: {len(parents)} top-level executions"
        execution = executions[parents[0]]
        command, sub_command = _expected_command(step)
        actual = (execution["command"], execution["sub_command"], execution["exit_code"])
        assert actual == (command, sub_command, step["exit_code"]), label
        assert execution["is_success"] == (step["exit_code"] == 0), label
        assert execution["has_exit_event"], label
        children = process_ids - {parents[0]}
        if step["argv"][1:3] == ["schedule", "run"]:
            assert len(children) == 1, f"{label}: the child `run` process is missing"
            child = executions[children.pop()]
            assert (child["command"], child["sub_command"]) == ("run", None), label
            assert child["parent_execution_id"] == execution["execution_id"], label
            assert child["exit_code"] == 0, label
        else:
            assert not children, f"{label}: extra executions {children}"
        matched |= process_ids
    assert checked > 100
    assert matched == executions.keys(), (
        f"executions without a command: {executions.keys() - matched}"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_opt_out_notice_is_a_state_change_not_an_execution(
    real: dict[str, Warehouse], engine: str
) -> None:
    warehouse = real[engine]
    rows = warehouse.query(
        "select setting_name, changed_from, changed_to, execution_id"
        " from intermediate.int_telemetry_state_changes order by event_at"
    )
    opt_changes = [
        (row["changed_from"], row["changed_to"])
        for row in rows
        if row["setting_name"] == "send_anonymous_usage_stats"
    ]
    assert opt_changes == [("true", "false"), ("false", "true")]
    executions = {
        row["execution_id"]
        for row in warehouse.query("select execution_id from intermediate.int_cli_executions")
    }
    # the opt-out notice arrives alone (its command sent nothing else); opting back in arrives
    # with the telemetry of the command that follows.
    assert [
        row["execution_id"] in executions
        for row in rows
        if row["setting_name"] == "send_anonymous_usage_stats"
    ] == [False, True]


@pytest.mark.parametrize("engine", ENGINES)
def test_no_raw_ip_address_downstream_of_the_source(
    real: dict[str, Warehouse], engine: str
) -> None:
    warehouse = real[engine]
    projects = json.loads(REAL_COMMANDS.read_text())["projects"]
    ips = sorted({project["ip"] for project in projects.values()})
    assert len(ips) == 5
    columns = warehouse.query(
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in ('staging', 'intermediate', 'marts', 'reference')"
        " and lower(data_type) in ('text', 'varchar', 'character varying', 'json', 'jsonb')"
        " order by 1, 2, 3"
    )
    relations = {(c["table_schema"], c["table_name"]) for c in columns}
    assert {schema for schema, _ in relations} >= {"staging", "intermediate"}
    assert ("staging", "stg_snowplow__events") in relations
    condition = " or ".join(f"position('{ip}' in cast(\"{{column}}\" as text)) > 0" for ip in ips)
    leaks = []
    for column in columns:
        sql = (
            f'select count(*) as n from "{column["table_schema"]}"."{column["table_name"]}"'
            f" where {condition.format(column=column['column_name'])}"
        )
        if warehouse.scalar(sql):
            leaks.append(f"{column['table_schema']}.{column['table_name']}.{column['column_name']}")
    assert not leaks, f"raw IP addresses found in {leaks}"
    # and the hash is there instead
    assert warehouse.scalar(
        "select count(distinct ip_hash) from staging.stg_snowplow__events"
    ) == len(ips)


def test_engines_give_identical_contract_models(real: dict[str, Warehouse]) -> None:
    for model, order in CONTRACT_MODELS.items():
        schema = "staging" if model.startswith("stg_") else "intermediate"
        results = {}
        for engine, warehouse in real.items():
            rows = warehouse.query(f"select * from {schema}.{model} order by {order}")
            # batch markers (_kept_at, _batch_at) are the time of each engine's own build
            results[engine] = [
                {k: _normal(v) for k, v in row.items() if k not in BATCH_MARKERS} for row in rows
            ]
        assert results["duckdb"] == results["postgres"], model


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------
# bad rows


def _variant(row: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``row`` under a new event id, with ``changes``."""
    new = copy.deepcopy(row)
    new["event_id"] = str(uuid.uuid4())
    new.update(changes)
    return new


def _bad_variants(cli: dict[str, Any], exit_event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One bad or odd row of each kind, by kind, made from a cli_event and an exit_event."""
    contexts = json.loads(cli["contexts"])
    no_project = copy.deepcopy(contexts)
    no_project["data"] = [c for c in no_project["data"] if "/project_context/" not in c["schema"]]
    return {
        "invalid_contexts": _variant(cli, contexts='{"schema": "iglu:x", "data": [{"broken'),
        "invalid_unstruct": _variant(cli, unstruct_event="{not json"),
        "invalid_timestamp": _variant(cli, derived_tstamp="2026-13-45 99:00:00.000"),
        "missing_project_context": _variant(cli, contexts=json.dumps(no_project)),
        "unknown_vendor": _variant(
            cli,
            unstruct_event=cli["unstruct_event"].replace(
                "com.meltano/cli_event", "com.acme/cli_event"
            ),
        ),
        "unknown_type": _variant(cli, event="page_view", unstruct_event=None),
        "legacy_struct": _variant(
            cli,
            event="struct",
            contexts=None,
            unstruct_event=None,
            se_category="meltano elt",
            se_action="meltano elt tap-x target-y",
            se_label="legacy-project-1",
            event_name=None,
        ),
        "struct_2x": _variant(
            cli,
            event="struct",
            unstruct_event=None,
            se_category="meltano init",
            se_action="meltano init p01",
            se_label="p01",
        ),
        "unseen_version": _variant(
            exit_event,
            unstruct_event=exit_event["unstruct_event"].replace(
                "exit_event/jsonschema/1-0-1", "exit_event/jsonschema/1-9-0"
            ),
        ),
    }


def _copies(base: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of base rows 1, 2 and 3: an exact later copy (dropped), a copy uploaded earlier
    with a different collector time (kept, the original is dropped), an invalid copy
    (quarantined, the valid original kept)."""
    later_copy = copy.deepcopy(base[1])
    later_copy["uploaded_at"] = "2026-11-30 00:00:00.000"
    earlier_copy = copy.deepcopy(base[2])
    # an hour earlier upload, a second earlier collector time: still a plausible clock
    earlier_copy["uploaded_at"] = _shift(earlier_copy["uploaded_at"], hours=-1)
    earlier_copy["collector_tstamp"] = _shift(earlier_copy["collector_tstamp"], seconds=-1)
    broken_copy = copy.deepcopy(base[3])
    broken_copy["contexts"] = "{oops"
    broken_copy["uploaded_at"] = "2020-01-01 00:00:00.000"
    return [later_copy, earlier_copy, broken_copy]


def _bad_sample(folder: Path) -> tuple[Path, dict[str, Any]]:
    """A few real events plus one bad row of each kind. Returns the file and expectations."""
    lines = [json.loads(line) for line in REAL_EVENTS.read_text().splitlines()]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in lines:
        by_name.setdefault(row["event_name"], []).append(row)
    cli, exit_event = by_name["cli_event"][0], by_name["exit_event"][0]
    base = [copy.deepcopy(row) for row in lines[:20]]
    rows = _bad_variants(cli, exit_event)
    missing_id = _variant(cli)
    missing_id["event_id"] = None
    later_copy, earlier_copy, broken_copy = _copies(base)
    all_rows = [*base, *rows.values(), missing_id, later_copy, earlier_copy, broken_copy]
    path = folder / "bad_sample.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in all_rows))
    expect = {
        "raw": len(all_rows),
        "rows": rows,
        "quarantine": {
            rows["invalid_contexts"]["event_id"]: "invalid_json",
            rows["invalid_unstruct"]["event_id"]: "invalid_json",
            rows["invalid_timestamp"]["event_id"]: "invalid_timestamp",
            rows["missing_project_context"]["event_id"]: "missing_project_context",
            rows["unknown_vendor"]["event_id"]: "unknown_event",
            rows["unknown_type"]["event_id"]: "unknown_event",
            None: "missing_event_id",
            broken_copy["event_id"]: "invalid_json",
        },
        "duplicates": {base[1]["event_id"]: 1, base[2]["event_id"]: 1},
        "kept_line": {base[1]["event_id"]: 2, base[2]["event_id"]: len(all_rows) - 1},
        "cli_execution": _project_context_uuid(cli),
    }
    return path, expect


def _shift(text: str, **delta: float) -> str:
    """A Snowplow timestamp text moved by a timedelta, in the same format."""
    moved = dt.datetime.fromisoformat(text) + dt.timedelta(**delta)
    return moved.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _project_context_uuid(row: dict[str, Any]) -> str:
    for context in json.loads(row["contexts"])["data"]:
        if "/project_context/" in context["schema"]:
            return context["data"]["context_uuid"]
    raise AssertionError("no project context")


@pytest.fixture(scope="module")
def bad(tmp_path_factory, _postgres_databases) -> tuple[dict[str, Warehouse], dict[str, Any]]:
    folder = tmp_path_factory.mktemp("bad_rows")
    path, expect = _bad_sample(folder)
    warehouses = {
        engine: _build(engine, folder / engine, [path], _postgres_databases) for engine in ENGINES
    }
    return warehouses, expect


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_rows_are_quarantined_with_their_reason(bad, engine: str) -> None:
    warehouses, expect = bad
    warehouse = warehouses[engine]
    quarantine = warehouse.query(
        "select event_id, reason, check_stage, _source_line"
        " from staging.stg_snowplow__events_quarantine"
    )
    reasons = {row["event_id"]: row["reason"] for row in quarantine}
    assert len(quarantine) == len(expect["quarantine"])
    assert reasons == expect["quarantine"]
    parsed = {
        row["event_id"]: row
        for row in warehouse.query(
            "select event_id, duplicate_count, _source_line, event_schema_version"
            " from staging.stg_snowplow__events"
        )
    }
    duplicates = warehouse.query(
        "select event_id, count(*) as n from staging.stg_snowplow__events_duplicates group by 1"
    )
    assert {row["event_id"]: row["n"] for row in duplicates} == expect["duplicates"]
    for event_id, count in expect["duplicates"].items():
        assert parsed[event_id]["duplicate_count"] == count
        assert parsed[event_id]["_source_line"] == expect["kept_line"][event_id]
    # nothing lost
    raw = warehouse.scalar("select count(*) from raw.snowplow_events")
    assert raw == expect["raw"]
    assert raw == len(parsed) + sum(row["n"] for row in duplicates) + len(quarantine)
    # an unseen version of a known event is parsed, not quarantined
    rows = expect["rows"]
    assert parsed[rows["unseen_version"]["event_id"]]["event_schema_version"] == "1-9-0"
    exit_codes = warehouse.query(
        "select exit_code from intermediate.int_exit_events"
        f" where event_id = '{rows['unseen_version']['event_id']}'"
    )
    assert exit_codes and exit_codes[0]["exit_code"] is not None


@pytest.mark.parametrize("engine", ENGINES)
def test_legacy_struct_events_become_executions(bad, engine: str) -> None:
    warehouses, expect = bad
    warehouse = warehouses[engine]
    rows = expect["rows"]
    legacy_id = rows["legacy_struct"]["event_id"]
    executions = {
        row["execution_id"]: row
        for row in warehouse.query("select * from intermediate.int_cli_executions")
    }
    legacy = executions[legacy_id]
    assert legacy["is_legacy_struct"] is True
    assert (legacy["project_id"], legacy["command"]) == ("legacy-project-1", "elt")
    assert legacy["exit_code"] is None and legacy["is_success"] is False
    # a 2.0-2.4 struct event with contexts joins the process of its context_uuid
    struct_2x = warehouse.query(
        "select execution_id, event_kind from intermediate.int_telemetry_events"
        f" where event_id = '{rows['struct_2x']['event_id']}'"
    )
    assert struct_2x == [{"execution_id": expect["cli_execution"], "event_kind": "legacy_struct"}]
    assert rows["struct_2x"]["event_id"] not in executions
    assert executions[expect["cli_execution"]]["command"] == "init"
