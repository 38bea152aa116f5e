"""Snowflake, on the fakesnow emulator (scripts/snowflake/fakesnow_server.py): a smoke test of
the snowflake__ macros, not proof of Snowflake's semantics (the emulator runs Snowflake SQL with
DuckDB's).

(a) `dbt compile` for the snowflake_emulator target, and every compiled model and analysis parses
    as Snowflake SQL (sqlglot); a failure names the file and the parse error.
(b) The real CLI sample, loaded on DuckDB by `kpis load`, is copied into the emulator's raw tables
    (same columns); `dbt build --full-refresh` (seeds, models, data tests) passes there, and
    marts.kpi_values equals the DuckDB build of the same sample row for row (dates as ISO text,
    numbers within 1e-9).

Not covered, and why (emulator limits of fakesnow 0.12.1; see docs/toolchain notes):
- dbt unit tests: dbt-snowflake's unit-test materialisation creates a qualified temporary table
  (`create temporary table db.schema.x`), which the emulator's DuckDB refuses ("TEMPORARY table
  names can only use the temp catalog"). They are excluded (--exclude-resource-type unit_test);
  the data tests run.
- A second, incremental run (merge and delete+insert fail on the emulator for the same reason).
- Semantics the emulator does not reproduce: an impossible date (month 13) raises in its
  try_cast instead of giving NULL (the sample has none); a JSON null element of a flattened array
  comes back as SQL NULL. Functions it lacks are shimmed (is_object, is_varchar, FILTER over an
  ARRAY cast; see the script's docstring).

Skipped, with the reason, when .snowflake/venv is missing (`make setup-snowflake`), unless
KPIS_REQUIRE_SNOWFLAKE is set (CI sets it): then it fails.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE_ENV, REAL_EVENTS, REPO, duckdb_env_for, kpis, query_dicts

VENV = Path(os.environ.get("KPIS_SNOWFLAKE_VENV", REPO / ".snowflake" / "venv"))
PYTHON = VENV / "bin" / "python"
DBT = VENV / "bin" / "dbt"
SERVER = REPO / "scripts" / "snowflake" / "fakesnow_server.py"
CLIENT = Path(__file__).with_name("snowflake_client.py")
INSTALLED = PYTHON.is_file() and DBT.is_file()
REQUIRED = bool(os.environ.get("KPIS_REQUIRE_SNOWFLAKE"))
RAW_TABLES = ("snowplow_events", "snowplow_events_rejected", "load_log")

pytestmark = [
    pytest.mark.snowflake,
    pytest.mark.skipif(
        not INSTALLED and not REQUIRED,
        reason="the Snowflake tooling is not installed: run scripts/snowflake/setup.sh "
        "(make setup-snowflake); KPIS_REQUIRE_SNOWFLAKE=1 turns this skip into a failure",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(args: list[str | Path], env: dict[str, str], what: str, timeout: float = 900) -> str:
    result = subprocess.run(
        [str(a) for a in args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{what} exited {result.returncode}\n--- stdout\n{result.stdout[-8000:]}"
            f"\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result.stdout


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A running fakesnow server; yields the environment of dbt and the client for it."""
    if not INSTALLED:
        pytest.fail(
            f"the Snowflake tooling is not installed ({VENV}): run scripts/snowflake/setup.sh "
            "(KPIS_REQUIRE_SNOWFLAKE is set, so this is not skipped)"
        )
    folder = tmp_path_factory.mktemp("snowflake")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIS_", "DBT_"))}
    env.update(BASE_ENV)
    env.update({"DBT_TARGET": "snowflake_emulator", "KPIS_FAKESNOW_PORT": str(port)})
    env["DBT_LOG_PATH"] = str(folder / "dbt_logs")
    log = (folder / "fakesnow.log").open("w")
    server = subprocess.Popen(
        [str(PYTHON), str(SERVER), str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"fakesnow did not start on port {port}:\n"
                    + (folder / "fakesnow.log").read_text()[-4000:]
                )
            time.sleep(0.2)
        yield env | {"FOLDER": str(folder)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _dbt(env: dict[str, str], target_path: Path, *args: str) -> str:
    return _run(
        [DBT, *args, "--project-dir", REPO, "--profiles-dir", REPO],
        env | {"DBT_TARGET_PATH": str(target_path)},
        f"dbt {args[0]} (snowflake_emulator)",
    )


def test_every_compiled_model_parses_as_snowflake_sql(emulator: dict[str, str]) -> None:
    target = Path(emulator["FOLDER"]) / "compile_target"
    _dbt(emulator, target, "compile")
    compiled = target / "compiled" / "telemetry_kpis"
    models = sorted((compiled / "models").rglob("*.sql"))
    sources = sorted((REPO / "models").rglob("*.sql"))
    compiled_names = {path.stem for path in models}
    assert {path.stem for path in sources} <= compiled_names, "models missing from the compile"
    for folder in ("models", "analyses"):
        failures = json.loads(_run([PYTHON, CLIENT, "parse", compiled / folder], emulator, "parse"))
        assert not failures, "not Snowflake SQL (sqlglot):\n" + "\n\n".join(
            f"{name}: {error}" for name, error in failures.items()
        )


def _raw_rows(duckdb_path: str) -> dict[str, Any]:
    """The raw tables of a DuckDB warehouse: columns, SQL types and rows (timestamps as text)."""
    import duckdb

    from telemetry_kpis.load.contract import TABLE_COLUMNS

    tables: dict[str, Any] = {}
    with duckdb.connect(duckdb_path, read_only=True) as connection:
        for table in RAW_TABLES:
            columns = TABLE_COLUMNS[table]
            quoted = ", ".join(f'"{column}"' for column in columns)
            rows = connection.execute(f"select {quoted} from raw.{table}").fetchall()
            tables[table] = {
                "columns": list(columns),
                "types": list(columns.values()),
                "rows": [
                    [v.isoformat(sep=" ") if hasattr(v, "isoformat") else v for v in row]
                    for row in rows
                ],
            }
    return tables


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory) -> dict[str, str]:
    """The real CLI sample loaded and built (every model and test) on a DuckDB file."""
    env = duckdb_env_for(tmp_path_factory.mktemp("snowflake_duckdb"))
    kpis("load", str(REAL_EVENTS), env=env, check=True)
    kpis("build", env=env, check=True)
    return env


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return float(value)  # Decimal


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return left == right


def test_full_refresh_on_the_emulator_matches_duckdb(
    emulator: dict[str, str], duckdb_build: dict[str, str]
) -> None:
    folder = Path(emulator["FOLDER"])
    raw_json = folder / "raw.json"
    raw_json.write_text(json.dumps(_raw_rows(duckdb_build["KPIS_DUCKDB_PATH"])))
    port = emulator["KPIS_FAKESNOW_PORT"]
    _run([PYTHON, CLIENT, "load", port, raw_json], emulator, "loading the raw tables")

    _dbt(emulator, folder / "build_target", "build", "--full-refresh",
         "--exclude-resource-type", "unit_test")  # fmt: skip

    answer = json.loads(
        _run([PYTHON, CLIENT, "query", port, "select * from marts.kpi_values"], emulator, "query")
    )
    expected = query_dicts(duckdb_build, "select * from marts.kpi_values")
    assert expected, "the DuckDB build has no kpi_values"
    assert answer["columns"] == list(expected[0]), "kpi_values columns differ"

    def key(row: dict[str, Any]) -> tuple[str, ...]:
        return (row["metric_name"], row["grain"], str(_normal(row["period_start"])))

    answer_rows = [dict(zip(answer["columns"], r, strict=True)) for r in answer["rows"]]
    snowflake_rows = {key(row): row for row in answer_rows}
    duckdb_rows = {key(row): row for row in expected}
    assert len(snowflake_rows) == len(answer["rows"]), "duplicate kpi_values keys on Snowflake"
    assert sorted(snowflake_rows) == sorted(duckdb_rows), "different kpi_values rows"
    differences = [
        f"{k} {column}: snowflake {snowflake_rows[k][column]!r}, duckdb {row[column]!r}"
        for k, row in sorted(duckdb_rows.items())
        for column in row
        if not _same(_normal(snowflake_rows[k][column]), _normal(row[column]))
    ]
    assert not differences, f"{len(differences)} values differ:\n" + "\n".join(differences[:40])
