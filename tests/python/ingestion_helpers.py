"""Helpers of the ingestion tests (test_ingestion.py, test_load_sequence.py): fresh
warehouses, `kpis build` with its problems, and marts.kpi_values compared across warehouses."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from conftest import duckdb_env_for, kpis, normal_value, postgres_database_env, query_dicts

ENGINES = ("duckdb", "postgres")
#: every build but the hostile DuckDB one skips the unit tests (they do not depend on data)
FAST_BUILD = ("build", "--quiet", "--exclude", "test_type:unit")
FULL_BUILD = ("build", "--quiet")

EnvFactory = Callable[[str, Path], dict[str, str]]


@contextlib.contextmanager
def warehouse_factory() -> Iterator[EnvFactory]:
    """Factory of fresh warehouses (engine, folder) -> env; databases dropped on exit."""
    with contextlib.ExitStack() as stack:

        def make(engine: str, folder: Path) -> dict[str, str]:
            folder.mkdir(parents=True, exist_ok=True)
            if engine == "duckdb":
                return duckdb_env_for(folder)
            return stack.enter_context(postgres_database_env(folder))

        yield make


def failed_nodes(env: dict[str, str]) -> list[str]:
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


def build(env: dict[str, str], *args: str) -> list[str]:
    """Run `kpis build`; the problems (empty when it exited 0)."""
    result = kpis(*(args or FAST_BUILD), env=env)
    if result.returncode == 0:
        return []
    failed = failed_nodes(env) or [result.stdout[-3000:] + result.stderr[-3000:]]
    return [f"kpis build exited {result.returncode}", *failed]


def assert_build(env: dict[str, str], *args: str) -> None:
    """Run `kpis build`; fail the test with its problems when it did not exit 0."""
    problems = build(env, *args)
    assert not problems, "\n".join(problems)


def kpi_values(env: dict[str, str]) -> list[tuple[Any, ...]]:
    """marts.kpi_values, normalised and sorted, to compare warehouses of either engine."""
    rows = query_dicts(env, "select * from marts.kpi_values")
    assert rows, "marts.kpi_values is empty"
    normal = [tuple((k, normal_value(v)) for k, v in sorted(row.items())) for row in rows]
    return sorted(normal, key=lambda row: tuple((v is None, str(v)) for _, v in row))


def assert_same_kpis(
    actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]], label: str
) -> None:
    if actual == expected:
        return
    extra = [row for row in actual if row not in expected][:5]
    missing = [row for row in expected if row not in actual][:5]
    raise AssertionError(
        f"{label}: marts.kpi_values differ ({len(actual)} vs {len(expected)} rows)\n"
        f"only in the first: {extra}\nonly in the second: {missing}"
    )
