"""Marts: numbers checked by hand against the real CLI commands, and identical KPIs on DuckDB
and PostgreSQL.

(a) The real Meltano 4.4.1 corpus (real_cli_events.jsonl) is built on each engine and the marts
    are compared with values derived here, by hand, from real_cli_commands.json (argv, exit
    codes, environment variables, project): pipeline runs and unique pipelines per project and
    month, executions per command, CI-only, opted-out and derived-id projects.
(b) One generated corpus (>= 20k events, with noise) is built on both engines; kpi_values must
    be identical (rates within 1e-9), and so must the pipeline ids (hashes of canonical text).
(c) The kind bounds of kpi_values (a dbt data test, not great-expectations) catch a bad value.
"""

from __future__ import annotations

import collections
import json
import math
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import (
    REAL_COMMANDS,
    REAL_EVENTS,
    duckdb_env_for,
    kpis,
    warehouse_env,
)
from conftest import query_rows as query
from test_check import make_kpi_values, set_value, write_marts

MARTS_SELECTION = ["--select", "+path:models/marts", "path:tests/marts"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Command groups: a usage error inside one still reports the group's cli_context.
COMMAND_GROUPS = {"config", "job", "schedule", "state", "environment"}
PIPELINE_COMMANDS = {"run", "el", "elt"}
ENVIRONMENT_SEED_NAMES = {
    line.split(",")[0]
    for line in (Path(__file__).resolve().parents[2] / "seeds" / "environment_names.csv")
    .read_text()
    .splitlines()[1:]
}


def _load_and_build(env: dict[str, str], *files: Path) -> None:
    kpis("load", *map(str, files), env=env, check=True)
    kpis("build", *MARTS_SELECTION, env=env, check=True)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def real_warehouse(request, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The real CLI corpus loaded and built (marts and their tests) on each engine."""
    tmp = tmp_path_factory.mktemp(f"real_{request.param}")
    with warehouse_env(request.param, tmp) as env:
        _load_and_build(env, REAL_EVENTS)
        yield env


# --- (a) values derived by hand from real_cli_commands.json ---------------------------------


class HandTruth:
    """What the marts must say about the real corpus, derived from the commands that ran."""

    def __init__(self) -> None:
        self.executions: collections.Counter[tuple[str, str]] = collections.Counter()
        self.pipeline_runs: collections.Counter[tuple[str, str]] = collections.Counter()
        self.pipeline_run_days: collections.Counter[str] = collections.Counter()
        self.pipelines: dict[tuple[str, str], set] = collections.defaultdict(set)
        self.ci_flags: dict[str, set[bool]] = collections.defaultdict(set)
        self.opted_out_dates: dict[str, str] = {}
        self.derived_ids: set[str] = set()
        self.all_ids: set[str] = set()
        # pipeline runs per (month, segment kind, segment value): environment and ci
        self.segment_runs: collections.Counter[tuple[str, str, str]] = collections.Counter()


def _option(argv: list[str], name: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def derive_by_hand() -> HandTruth:
    truth = HandTruth()
    steps = json.loads(REAL_COMMANDS.read_text())["steps"]
    default_environment: dict[str, str] = collections.defaultdict(lambda: "dev")  # meltano init
    usage_stats: dict[str, str] = {}
    has_derived_id: set[str] = set()
    schedule_jobs: dict[tuple[str, str], str] = {}

    for step in steps:
        if step["kind"] != "command":
            continue
        project, argv, env = step["project"], step["argv"][1:], step["env"]
        words = [arg for arg in argv if not arg.startswith("-")]
        events = step["telemetry_events"]
        reports_derived_id = project in has_derived_id  # set by an earlier command

        # settings change whether telemetry was sent or not
        if words[:3] == ["config", "set", "meltano"] and step["exit_code"] == 0:
            setting, value = words[3], words[4]
            if setting == "default_environment":
                default_environment[project] = value
            elif setting == "send_anonymous_usage_stats":
                usage_stats[project] = value
            elif setting == "project_id" and not UUID.match(value):
                has_derived_id.add(project)
        if words[:2] == ["schedule", "add"]:
            schedule_jobs[(project, words[2])] = _option(argv, "--job")

        if not step["project_uuids_reported"]:
            continue
        project_id = step["project_uuids_reported"][0]
        truth.all_ids.add(project_id)
        if reports_derived_id:
            truth.derived_ids.add(project_id)
        opt_out_notice = "telemetry_state_change_event:send_anonymous_usage_stats" in events
        if opt_out_notice and usage_stats.get(project) == "false":
            truth.opted_out_dates.setdefault(project_id, step["fake_start_utc"][:10])
        if all(e.startswith("telemetry_state_change_event") for e in events):
            continue  # not an execution (the opt-out notice only)

        if events == ["exit_event:2"]:  # usage error: only the group's context survives
            command = words[0] if words[0] in COMMAND_GROUPS else "cli"
        else:
            command = words[0]
        environment = (
            _option(argv, "--environment")
            or env.get("MELTANO_ENVIRONMENT")
            or default_environment[project]
        )
        month = step["fake_start_utc"][:7]
        processes = [(command, words[1:])]
        if words[:2] == ["schedule", "run"]:  # the schedule starts a `meltano run <job>` child
            processes.append(("run", [schedule_jobs[(project, words[2])]]))

        for process_command, arguments in processes:
            truth.executions[(project_id, process_command)] += 1
            truth.ci_flags[project_id].add(env.get("CI") == "true")
            if process_command not in PIPELINE_COMMANDS:
                continue
            if process_command == "run":
                if not arguments:
                    continue  # a run with empty blocks is not a pipeline run
                spec = ("blocks", tuple(arguments))
            else:
                spec = ("plugins", frozenset(arguments))
            truth.pipeline_runs[(project_id, month)] += 1
            known = environment in ENVIRONMENT_SEED_NAMES
            truth.segment_runs[(month, "environment", environment if known else "other")] += 1
            truth.segment_runs[(month, "ci", "ci" if env.get("CI") == "true" else "local")] += 1
            truth.pipeline_run_days[step["fake_start_utc"][:10]] += 1
            truth.pipelines[(project_id, month)].add((environment, spec))
    return truth


@pytest.fixture(scope="module")
def hand() -> HandTruth:
    return derive_by_hand()


def test_hand_derivation_covers_the_corpus(hand: HandTruth) -> None:
    # guard against a hand derivation that silently finds nothing
    assert len(hand.all_ids) == 6  # five folders, p06 reported two ids (init, then derived)
    assert sum(hand.pipeline_runs.values()) > 100
    assert hand.derived_ids and hand.opted_out_dates


def test_pipeline_runs_and_unique_pipelines_per_project_month(real_warehouse, hand) -> None:
    rows = query(
        real_warehouse,
        "select project_id, cast(run_date as varchar), pipeline_id from marts.fct_pipeline_runs",
    )
    runs: collections.Counter[tuple[str, str]] = collections.Counter()
    pipelines: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for project_id, run_date, pipeline_id in rows:
        runs[(project_id, run_date[:7])] += 1
        pipelines[(project_id, run_date[:7])].add(pipeline_id)
    assert dict(runs) == dict(hand.pipeline_runs)
    assert {k: len(v) for k, v in pipelines.items()} == {
        k: len(v) for k, v in hand.pipelines.items()
    }

    # the project-month mart agrees with the runs
    months = query(
        real_warehouse,
        "select project_id, cast(month_start_date as varchar), pipeline_run_count, "
        "unique_pipeline_count from marts.fct_project_months where pipeline_run_count > 0",
    )
    assert {(p, m[:7]): (int(r), int(u)) for p, m, r, u in months} == {
        k: (hand.pipeline_runs[k], len(hand.pipelines[k])) for k in hand.pipeline_runs
    }


def test_monthly_kpis_sum_the_hand_counts(real_warehouse, hand) -> None:
    rows = query(
        real_warehouse,
        "select metric_name, cast(period_start as varchar), value from marts.kpi_values "
        "where grain = 'month' and metric_name in ('pipeline_runs', 'unique_pipelines')",
    )
    published = {(name, start[:7]): value for name, start, value in rows}
    for month in {m for _, m in hand.pipeline_runs}:
        keys = [k for k in hand.pipeline_runs if k[1] == month]
        assert published[("pipeline_runs", month)] == sum(hand.pipeline_runs[k] for k in keys)
        # pipeline ids include the project, so unique pipelines add up across projects
        assert published[("unique_pipelines", month)] == sum(len(hand.pipelines[k]) for k in keys)


def test_segments_and_drivers_of_pipeline_runs_by_hand(real_warehouse, hand) -> None:
    """Monthly pipeline runs by environment and by CI, counted from the commands (argv, the
    project's default environment, the CI variable), are kpi_values_by_segment; each month's
    drivers are the hand counts minus the previous month's, and they add up to the change."""
    segments = query(
        real_warehouse,
        "select cast(period_start as varchar), segment, segment_value, value "
        "from marts.kpi_values_by_segment where metric_name = 'pipeline_runs' "
        "and grain = 'month' and segment in ('environment', 'ci')",
    )
    assert {(m[:7], k, v): n for m, k, v, n in segments} == dict(hand.segment_runs)

    drivers = query(
        real_warehouse,
        "select cast(period_start as varchar), driver_kind, driver, contribution, total_change "
        "from marts.kpi_drivers where metric_name = 'pipeline_runs' and grain = 'month' "
        "and driver_kind in ('environment', 'ci')",
    )
    months = sorted({m for m, _, _ in hand.segment_runs})
    assert len(months) >= 2 and drivers
    for month, kind, driver, contribution, total_change in drivers:
        first_day = date.fromisoformat(month[:10])
        month = month[:7]
        previous = (first_day - timedelta(days=1)).isoformat()[:7]  # the calendar month before
        before = hand.segment_runs[(previous, kind, driver)]
        assert contribution == hand.segment_runs[(month, kind, driver)] - before
        month_total = sum(n for (m, _, _), n in hand.segment_runs.items() if m == month)
        previous_total = sum(n for (m, _, _), n in hand.segment_runs.items() if m == previous)
        assert total_change == (month_total - previous_total) / 2  # two kinds counted


def test_executions_per_command(real_warehouse, hand) -> None:
    rows = query(
        real_warehouse,
        "select project_id, command, count(*) from marts.fct_cli_executions "
        "group by project_id, command",
    )
    assert {(p, c): int(n) for p, c, n in rows} == dict(hand.executions)


def test_ci_only_opted_out_and_id_source(real_warehouse, hand) -> None:
    rows = query(
        real_warehouse,
        "select project_id, is_ci_only, is_opted_out, cast(opted_out_at as varchar), "
        "project_id_source from marts.dim_projects",
    )
    assert {r[0] for r in rows} == hand.all_ids
    ci_only = {r[0] for r in rows if r[1]}
    assert ci_only == {p for p, flags in hand.ci_flags.items() if flags == {True}}
    assert {r[0]: r[3][:10] for r in rows if r[2]} == hand.opted_out_dates
    assert {r[0]: r[4] for r in rows} == {
        p: ("derived" if p in hand.derived_ids else "explicit") for p in hand.all_ids
    }


def test_as_of_date_var_ignores_later_events(tmp_path: Path, hand: HandTruth) -> None:
    env = duckdb_env_for(tmp_path)
    kpis("load", str(REAL_EVENTS), env=env, check=True)
    kpis("build", *MARTS_SELECTION, "--vars", '{as_of_date: "2026-09-15"}', env=env, check=True)
    rows = query(
        env,
        "select grain, cast(period_start as varchar), value, is_complete from marts.kpi_values "
        "where metric_name = 'pipeline_runs'",
    )
    days = {start: value for grain, start, value, _ in rows if grain == "day"}
    months = {start[:7]: (value, done) for grain, start, value, done in rows if grain == "month"}
    assert max(days) == "2026-09-15"  # the series ends on the as-of date
    assert days == {
        day: hand.pipeline_run_days.get(day, 0) for day in days
    }  # every day of the spine, 0 where nothing ran
    assert months["2026-09"] == (
        sum(n for day, n in hand.pipeline_run_days.items() if "2026-09-01" <= day <= "2026-09-15"),
        False,  # the month in progress
    )
    assert months["2026-08"][1] is True
    evaluation = query(
        env,
        "select distinct cast(evaluation_date as varchar) from marts.fct_project_months "
        "where month_start_date = cast('2026-09-01' as date)",
    )
    assert evaluation == [("2026-09-15",)]  # EOM-active is evaluated on the as-of date


# --- (b) the same generated corpus on DuckDB and PostgreSQL -----------------------------------


@pytest.fixture(scope="module")
def generated_corpus(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("generated")
    corpus = tmp / "corpus.jsonl"
    env = duckdb_env_for(tmp)
    kpis(
        "generate",
        "--projects", "120",
        "--days", "90",
        "--seed", "11",
        "--noise",
        "--workers", "1",
        "--quiet",
        "--output", str(corpus),
        env=env,
        check=True,
    )  # fmt: skip
    rows = sum(1 for _ in corpus.open())
    assert rows >= 20_000, f"the generated corpus is too small ({rows} rows)"
    return corpus


# Every published table of the KPI layer, its key columns (as text) and its value columns.
PUBLISHED_KPI_TABLES = {
    "kpi_values": (
        "metric_name, grain, cast(period_start as varchar)",
        "cast(period_end as varchar), is_complete, value, previous_value, change, change_pct, "
        "year_ago_value, yoy_change_pct",
    ),
    "kpi_values_by_segment": (
        "metric_name, grain, cast(period_start as varchar), segment, segment_value",
        "cast(period_end as varchar), is_complete, value",
    ),
    "kpi_drivers": (
        "metric_name, grain, cast(period_start as varchar), driver_kind, driver",
        "cast(period_end as varchar), is_complete, value, previous_value, contribution, "
        "share_of_change, total_change",
    ),
}


def _published_rows(env: dict[str, str], table: str) -> dict[tuple, tuple]:
    keys, values = PUBLISHED_KPI_TABLES[table]
    width = len(keys.split(", "))
    rows = query(env, f"select {keys}, {values} from marts.{table}")
    return {r[:width]: r[width:] for r in rows}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return (a is None and b is None) or (
            a is not None
            and b is not None
            and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]
        )
    return a == b


def test_generated_corpus_gives_identical_kpis_on_duckdb_and_postgres(
    generated_corpus: Path, tmp_path: Path
) -> None:
    """kpi_values (with its period-over-period columns), kpi_values_by_segment and kpi_drivers
    are identical on both engines, row for row (numbers within 1e-9), and so are the pipeline
    ids."""
    results: dict[str, dict[str, dict[tuple, tuple]]] = {}
    pipelines = {}
    for engine in ("duckdb", "postgres"):
        with warehouse_env(engine, tmp_path / engine) as env:
            _load_and_build(env, generated_corpus)
            results[engine] = {t: _published_rows(env, t) for t in PUBLISHED_KPI_TABLES}
            pipelines[engine] = set(
                query(env, "select pipeline_id, project_id, run_count from marts.dim_pipelines")
            )

    for table in PUBLISHED_KPI_TABLES:
        duck, pg = results["duckdb"][table], results["postgres"][table]
        assert len(duck) > 500, f"{table}: only {len(duck)} rows"
        assert set(duck) == set(pg), f"{table}: rows differ between engines"
        differences = [
            (key, row, pg[key])
            for key, row in duck.items()
            if not all(_same(a, b) for a, b in zip(row, pg[key], strict=True))
        ]
        assert not differences, (table, differences[:10])
    assert pipelines["duckdb"] == pipelines["postgres"]


# --- (c) the kind bounds of kpi_values --------------------------------------------------------
KIND_BOUNDS_TEST = "assert_kpi_values_within_kind_bounds"


def test_kind_bounds_test_fails_on_each_out_of_bounds_value(duckdb_env: dict[str, str]) -> None:
    """The dbt test passes on a plausible kpi_values (a null rate, rates of exactly 0 and 1, a
    count of 0, hours) and fails on a rate above 1, a negative count and negative hours, one
    row each. kpi_values is written directly: the test reads the table, not how it was built."""
    import pandas as pd

    day = date(2026, 9, 3)
    frame = make_kpi_values(first=date(2026, 8, 1))
    frame = set_value(frame, "pipeline_success_rate", "day", date(2026, 9, 2), None)
    frame = set_value(frame, "pipeline_success_rate", "day", day, 1.0)
    frame = set_value(frame, "prod_pipeline_run_share", "day", day, 0.0)
    frame = set_value(frame, "new_projects", "day", day, 0.0)
    hours = pd.DataFrame(
        [("data_freshness_hours", "day", d, d, 30.0, True) for d in (date(2026, 9, 2), day)],
        columns=frame.columns,
    )
    good = pd.concat([frame, hours], ignore_index=True)
    run_test = ("build", "--command", "test", "--select", KIND_BOUNDS_TEST)

    write_marts(duckdb_env, good)
    passed = kpis(*run_test, env=duckdb_env)
    assert passed.returncode == 0, passed.stdout[-3000:] + passed.stderr[-3000:]

    bad = set_value(good, "pipeline_success_rate", "week", date(2026, 9, 7), 1.2)
    bad = set_value(bad, "churned_projects", "month", date(2026, 9, 1), -3.0)
    bad = set_value(bad, "data_freshness_hours", "day", day, -0.5)
    write_marts(duckdb_env, bad)
    failed = kpis(*run_test, env=duckdb_env)
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert f"  FAILED: test {KIND_BOUNDS_TEST}: Got 3 results" in failed.stdout

    compiled_dir = Path(duckdb_env["DBT_TARGET_PATH"]) / "compiled"
    compiled = next(compiled_dir.rglob(f"{KIND_BOUNDS_TEST}.sql"))
    rows = query(duckdb_env, f"select * from ({compiled.read_text()}) as failures")
    assert sorted((r[0], r[1], r[2], r[5]) for r in rows) == [
        ("churned_projects", "month", date(2026, 9, 1), "count below 0"),
        ("data_freshness_hours", "day", day, "hours below 0"),
        ("pipeline_success_rate", "week", date(2026, 9, 7), "rate outside [0, 1]"),
    ]
