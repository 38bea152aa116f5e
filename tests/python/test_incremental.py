"""Incremental builds stay correct: batches of loads give the same marts as one full refresh.

One generated corpus (``kpis generate --noise``: duplicate deliveries, late arrivals, bad rows)
is split by load time (``uploaded_at``) into random batches. Rows close before a cut are sent
to the next batch at random, as a loader that straddles a build would (their upload time is
then older than rows already built: the build must follow the load sequence, not the times).
One whole CLI execution of the first month is held back to the very last batch: a late arrival
for a month that is already closed.

On DuckDB and on PostgreSQL, after ``kpis load`` + ``kpis build`` per batch:

* the late execution lands in its true month (and was absent before);
* a build with no new data changes nothing (every marts.* table identical);
* ``kpis build --full-refresh`` on the same raw data gives identical marts, row for row, and
  identical execution-level incremental tables (``INTERMEDIATE_COMPARED``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import kpis, normal_value, query_rows

SEED = 20261122
BATCHES = 6
#: rows loaded up to this long before a cut may arrive with the next batch
STRADDLE = dt.timedelta(minutes=40)
#: build every batch without the unit tests (they do not depend on data; run once at the end)
BUILD = ("build", "--quiet", "--exclude", "test_type:unit")

Rows = dict[str, list[tuple[Any, ...]]]
#: bookkeeping columns: the dbt run that last changed a row differs between the two ways
BATCH_MARKERS = {"_changed_at"}
#: intermediate tables that must also equal a full refresh row for row (not only via the marts)
INTERMEDIATE_COMPARED = (
    "int_cli_executions",
    "int_execution_plugins",
    "int_execution_pipeline_specs",
)


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", ""))


def _event_time(row: dict[str, Any]) -> dt.datetime | None:
    try:
        return _ts(row["derived_tstamp"])
    except (KeyError, TypeError, ValueError):
        return None


def _execution_id(row: dict[str, Any]) -> str | None:
    if not row.get("contexts"):
        return None
    try:
        contexts = json.loads(row["contexts"])["data"]
    except (ValueError, KeyError, TypeError):
        return None
    for context in contexts:
        if "/project_context/" in context.get("schema", ""):
            return context.get("data", {}).get("context_uuid")
    return None


def _late_execution(rows: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]], dt.datetime]:
    """A process of the first month whose events are all single copies (with an exit event):
    its id, its rows and the first month."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.get("event_id") or ""] = counts.get(row.get("event_id") or "", 0) + 1
    by_execution: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        execution_id = _execution_id(row)
        if execution_id:
            by_execution.setdefault(execution_id, []).append(row)
    first_month = min(t for row in rows if (t := _event_time(row)))
    first_month = first_month.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    candidates = sorted(
        execution_id
        for execution_id, events in by_execution.items()
        if len(events) >= 2
        and all(counts[event.get("event_id") or ""] == 1 for event in events)
        and any("exit_event" in (event.get("unstruct_event") or "") for event in events)
        and all(
            (t := _event_time(event)) is not None
            and t.strftime("%Y-%m") == first_month.strftime("%Y-%m")
            for event in events
        )
    )
    assert candidates, "no execution to hold back"
    late_execution = random.Random(SEED).choice(candidates)
    return late_execution, by_execution[late_execution], first_month


def _batches_by_load_time(
    rows: list[dict[str, Any]], late_rows: list[dict[str, Any]], rng: random.Random
) -> list[list[dict[str, Any]]]:
    """Random cuts by load time; rows just before a cut may straddle into the next batch. The
    late rows go to the last batch."""
    late_ids = {id(row) for row in late_rows}
    ordered = sorted(
        (row for row in rows if id(row) not in late_ids), key=lambda r: r["uploaded_at"]
    )
    low, high = _ts(ordered[0]["uploaded_at"]), _ts(ordered[-1]["uploaded_at"])
    cuts = sorted(low + (high - low) * rng.uniform(0.1, 0.95) for _ in range(BATCHES - 1))
    batches: list[list[dict[str, Any]]] = [[] for _ in range(BATCHES)]
    for row in ordered:
        loaded = _ts(row["uploaded_at"])
        index = sum(loaded >= cut for cut in cuts)
        if index < BATCHES - 1 and cuts[index] - loaded < STRADDLE and rng.random() < 0.5:
            index += 1
        batches[index].append(row)
    batches[-1].extend(late_rows)
    return batches


def _write_batches(
    folder: Path, batches: list[list[dict[str, Any]]], rng: random.Random
) -> list[Path]:
    """One JSON-lines file per batch, its rows shuffled."""
    paths = []
    for number, batch in enumerate(batches, start=1):
        assert batch, f"batch {number} is empty"
        path = folder / f"batch_{number:02d}.jsonl"
        rng.shuffle(batch)
        path.write_text("".join(json.dumps(row) + "\n" for row in batch))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The batch files, the held-back execution and its true month."""
    folder = tmp_path_factory.mktemp("incremental_corpus")
    source = folder / "corpus.jsonl"
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    kpis(
        "generate",
        "--projects", "30",
        "--days", "45",
        "--start-date", "2026-01-10",
        "--noise",
        "--seed", "5",
        "--quiet",
        "--output", str(source),
        env=env,
        check=True,
    )  # fmt: skip
    rows = [json.loads(line) for line in source.read_text().splitlines()]
    assert 2000 < len(rows) < 8000, len(rows)
    for row in rows:
        assert row.get("uploaded_at"), "the generator writes a load time per row"

    # the late execution: moved after every other upload, into the very last batch
    late_execution, late_rows, first_month = _late_execution(rows)
    newest = max(_ts(row["uploaded_at"]) for row in rows)
    for row in late_rows:
        row["uploaded_at"] = (newest + dt.timedelta(hours=1)).isoformat(sep=" ")

    rng = random.Random(SEED)
    paths = _write_batches(folder, _batches_by_load_time(rows, late_rows, rng), rng)
    return {
        "paths": paths,
        "late_execution": late_execution,
        "late_month": first_month.date(),
        "rows": len(rows),
    }


def _query(env: dict[str, str]) -> Callable[[str], list[tuple[Any, ...]]]:
    return functools.partial(query_rows, env)


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, str(type(value)), value) for value in row)


def _marts(query: Callable[[str], list[tuple[Any, ...]]]) -> Rows:
    """Every table and view of schema marts and the INTERMEDIATE_COMPARED tables, sorted."""
    names = [
        row[0]
        for row in query(
            "select table_name from information_schema.tables"
            " where table_schema = 'marts' order by table_name"
        )
    ]
    assert {"kpi_values", "fct_cli_executions", "dim_projects"} <= set(names), names
    # the incremental tables the marts' execution rules are read from, compared directly too
    tables = [f'marts."{name}"' for name in names] + [
        f"intermediate.{name}" for name in INTERMEDIATE_COMPARED
    ]
    result = {}
    for table in tables:
        schema, name = table.replace('"', "").split(".")
        columns = [
            row[0]
            for row in query(
                "select column_name from information_schema.columns"
                f" where table_schema = '{schema}' and table_name = '{name}'"
                " order by ordinal_position"
            )
            if row[0] not in BATCH_MARKERS
        ]
        select = ", ".join(f'"{column}"' for column in columns)
        rows = [
            tuple(normal_value(v) for v in row) for row in query(f"select {select} from {table}")
        ]
        result[table] = sorted(rows, key=_sort_key)
    return result


def _same_value(got: Any, want: Any) -> bool:
    if isinstance(got, float) and isinstance(want, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    return got == want


def _assert_same(actual: Rows, expected: Rows, label: str) -> None:
    assert actual.keys() == expected.keys(), label
    for name in expected:
        assert len(actual[name]) == len(expected[name]), f"{label}: {name} row count"
        for got, want in zip(actual[name], expected[name], strict=True):
            same = len(got) == len(want) and all(map(_same_value, got, want))
            assert same, f"{label}: {name}\n{got}\n!=\n{want}"


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_batches_equal_full_refresh(
    engine: str, corpus: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    env = request.getfixturevalue(f"{engine}_env")
    query = _query(env)
    late = corpus["late_execution"]
    late_month = corpus["late_month"].isoformat()

    for number, path in enumerate(corpus["paths"], start=1):
        kpis("load", str(path), "--no-progress", env=env, check=True)
        if number == len(corpus["paths"]):
            # before the late rows are built: their month is closed and they are unknown
            closed = query(
                "select count(*) from marts.kpi_values where grain = 'month'"
                f" and period_start = '{late_month}' and is_complete"
            )
            assert closed[0][0] > 0, "the late execution's month is not closed yet"
            assert not query(
                f"select 1 from marts.fct_cli_executions where execution_id = '{late}'"
            )
        kpis(*BUILD, env=env, check=True)

    # the late execution lands in its true month
    landed = query(
        "select cast(execution_date as varchar) from marts.fct_cli_executions"
        f" where execution_id = '{late}'"
    )
    assert len(landed) == 1 and landed[0][0][:7] == late_month[:7], landed

    raw = query("select count(*) from raw.snowplow_events")[0][0]
    assert raw == corpus["rows"]
    incremental = _marts(query)

    # a build with no new data changes nothing
    kpis(*BUILD, env=env, check=True)
    _assert_same(_marts(query), incremental, f"{engine}: no-op build")

    # one full refresh of the same raw data gives the same marts (unit tests included)
    kpis("build", "--quiet", "--full-refresh", env=env, check=True)
    _assert_same(_marts(query), incremental, f"{engine}: full refresh vs batches")


def test_corpus_has_late_and_duplicate_rows(corpus: dict[str, Any]) -> None:
    """The corpus exercises what the incremental models must survive."""
    rows = [
        json.loads(line) for path in corpus["paths"] for line in Path(path).read_text().splitlines()
    ]
    ids = [row.get("event_id") for row in rows if row.get("event_id")]
    assert len(ids) - len(set(ids)) >= 10, "too few duplicate deliveries"
    late = [
        row
        for row in rows
        if (t := _event_time(row)) is not None
        and _ts(row["uploaded_at"]) - t > dt.timedelta(days=2)
    ]
    assert len(late) >= 5, "too few late arrivals"
