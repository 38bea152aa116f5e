"""`kpis load` loads: one load id and moment per file, the uploaded_at rules, concurrent loads
into PostgreSQL, and the upgrade of raw tables of the previous layout."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from conftest import REAL_EVENTS
from load_helpers import ENGINE_PARAMS, REAL_ROWS, connect, jsonl_to_tsv, load, query, scalar

from telemetry_kpis.atomic import RAW_COLUMNS
from telemetry_kpis.errors import UserError
from telemetry_kpis.load import ensure_raw_tables, load_files
from telemetry_kpis.settings import Settings


@pytest.fixture(params=ENGINE_PARAMS)
def warehouse_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The same test on a fresh DuckDB file and on a fresh PostgreSQL database."""
    return request.getfixturevalue(f"{request.param}_env")


# --- loads: ids, moments, uploaded_at ---------------------------------------------------------
def assert_raw_identity_unique(env: dict[str, str]) -> None:
    """Every raw row has a load id, and (_load_id, _source_line) is unique across the table."""
    assert scalar(env, "select count(*) from raw.snowplow_events where _load_id is null") == 0
    total = scalar(env, "select count(*) from raw.snowplow_events")
    distinct = scalar(
        env,
        "select count(*) from "
        "(select distinct _load_id, _source_line from raw.snowplow_events) as identities",
    )
    assert distinct == total


def test_each_file_is_a_load_with_its_own_id(warehouse_env: dict[str, str], tmp_path: Path) -> None:
    env = warehouse_env
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "events.jsonl"
    first.write_bytes(REAL_EVENTS.read_bytes())
    # Same name, other content: the first 100 events and a bad line (its reject's load id).
    second = tmp_path / "b" / "events.jsonl"
    head = b"\n".join(REAL_EVENTS.read_bytes().split(b"\n")[:100])
    second.write_bytes(head + b"\n{not json\n")

    run = load(env, str(first), str(second))
    assert run.returncode == 0, run.stderr
    reload = load(env, "--reload", str(first))
    assert reload.returncode == 0, reload.stderr

    log = query(
        env,
        "select load_id, file_path, rows_loaded, rows_rejected, loaded_at, uploaded_at "
        "from raw.load_log order by load_id",
    )
    assert [(row[1], row[2], row[3]) for row in log] == [
        (str(first.resolve()), REAL_ROWS, 0),
        (str(second.resolve()), 100, 1),
        (str(first.resolve()), REAL_ROWS, 0),
    ]
    ids = [row[0] for row in log]
    assert ids[0] < ids[1] < ids[2]  # a new load id per file, and for a reload
    assert f"[jsonl, load {ids[0]}, " in run.stdout and f"[jsonl, load {ids[1]}, " in run.stdout
    assert f"[jsonl, load {ids[2]}, " in reload.stdout

    # Each load's rows carry its id and one moment, which is also its rejects' rejected_at.
    per_load = query(
        env,
        "select _load_id, count(*), count(distinct _loaded_at), min(_loaded_at), "
        "max(_source_file) from raw.snowplow_events group by 1 order by 1",
    )
    assert [(row[0], row[1], row[2], row[4]) for row in per_load] == [
        (ids[0], REAL_ROWS, 1, "events.jsonl"),
        (ids[1], 100, 1, "events.jsonl"),
        (ids[2], REAL_ROWS, 1, "events.jsonl"),
    ]
    moments = [row[3] for row in per_load]
    assert moments[0] < moments[1] < moments[2]
    for (*_, finished, default_uploaded_at), started in zip(log, moments, strict=True):
        assert started <= finished  # log loaded_at: when the load finished
        assert default_uploaded_at == started  # no --uploaded-at: the load's own moment
    assert query(
        env, "select load_id, line_number, reason, rejected_at from raw.snowplow_events_rejected"
    ) == [(ids[1], 101, "invalid_json", moments[1])]
    assert_raw_identity_unique(env)


def test_uploaded_at_rules(warehouse_env: dict[str, str], tmp_path: Path) -> None:
    """A row's own uploaded_at, else --uploaded-at, else the load's moment; never the future."""
    env = warehouse_env
    lines = REAL_EVENTS.read_text(encoding="utf-8").splitlines()[:4]
    events = [json.loads(line) for line in lines]
    events[1]["uploaded_at"] = "2999-01-01T00:00:00Z"  # later than the load: rejected
    events[2].pop("uploaded_at")  # none: the load's moment
    events[3]["uploaded_at"] = "2026-11-30T23:00:00-02:00"  # past, with an offset
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    tsv = tmp_path / "mixed.tsv"
    jsonl_to_tsv(REAL_EVENTS, tsv)

    result = load(env, str(path), str(tsv))
    assert result.returncode == 0, result.stderr
    assert "mixed.jsonl: loaded 3 rows, rejected 1 (line 2: invalid_uploaded_at)" in result.stdout
    rows = query(
        env,
        "select _source_line, uploaded_at, _loaded_at from raw.snowplow_events "
        "where _source_file = 'mixed.jsonl' order by 1",
    )
    loaded_at = rows[0][2]
    assert rows == [
        (1, datetime.fromisoformat(events[0]["uploaded_at"]), loaded_at),
        (3, loaded_at, loaded_at),
        (4, datetime(2026, 12, 1, 1, 0), loaded_at),
    ]
    assert query(
        env,
        "select count(*), count(distinct _loaded_at) from raw.snowplow_events "
        "where _source_file = 'mixed.tsv' and uploaded_at = _loaded_at",
    ) == [(REAL_ROWS, 1)]
    assert query(env, "select line_number, reason from raw.snowplow_events_rejected") == [
        (2, "invalid_uploaded_at")
    ]


def test_uploaded_at_option_in_the_future_is_refused(duckdb_env: dict[str, str]) -> None:
    result = load(duckdb_env, str(REAL_EVENTS), "--uploaded-at", "2999-01-01")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kpis load: error: --uploaded-at '2999-01-01' is later than now")
    assert lines[0].endswith("uploaded_at must not be in the future")
    assert not Path(duckdb_env["KPIS_DUCKDB_PATH"]).exists()  # refused before anything
    with pytest.raises(UserError, match="must not be in the future"):
        load_files(
            Settings.from_env(duckdb_env),
            [REAL_EVENTS],
            uploaded_at=datetime(2999, 1, 1),
            progress=False,
        )


@pytest.mark.postgres
def test_concurrent_postgres_loads_get_distinct_ids_and_commit_in_order(
    postgres_env: dict[str, str], tmp_path: Path
) -> None:
    """Two `kpis load` processes at once: both load, their ids differ, the later id waited."""
    import subprocess
    import sys

    from conftest import REPO

    paths = []
    for name in ("one.jsonl", "two.jsonl"):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(REAL_EVENTS.read_bytes())
    load(postgres_env, str(REAL_EVENTS))  # the raw tables exist: both runs race for the lock
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "telemetry_kpis", "load", "--no-progress", "--reload", str(p)],
            env=postgres_env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in paths
    ]
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        assert f"loaded {REAL_ROWS} rows" in out
    log = query(
        postgres_env,
        "select l.load_id, l.file_name, l.loaded_at, min(e._loaded_at) "
        "from raw.load_log as l left join raw.snowplow_events as e on e._load_id = l.load_id "
        "group by 1, 2, 3 order by 1",
    )
    assert len(log) == 3 and len({row[0] for row in log}) == 3
    assert {row[1] for row in log[1:]} == {"one.jsonl", "two.jsonl"}
    # Serialised by the load lock: the load with the higher id started only after the one
    # before it had finished (so it committed after it).
    for before, after in zip(log, log[1:], strict=False):
        assert before[2] <= after[3], (before, after)
    assert_raw_identity_unique(postgres_env)


# --- upgrading raw tables of the previous layout ------------------------------------------------
#: The raw tables as the previous version of kpis load created them (no load ids).
OLD_DDL = [
    "create schema if not exists raw",
    "create table raw.snowplow_events (\n  "
    + ",\n  ".join(f'"{c}" text' for c in RAW_COLUMNS[:-5])
    + ",\n  uploaded_at timestamp,\n  _source_file text,\n  _source_line bigint\n)",
    "create table raw.snowplow_events_rejected (\n  source_file text,\n  line_number bigint,\n"
    "  reason text,\n  raw_line text,\n  rejected_at timestamp\n)",
    "create table raw.load_log (\n  file_name text,\n  file_path text,\n  checksum_sha256 text,\n"
    "  rows_loaded bigint,\n  rows_rejected bigint,\n  loaded_at timestamp,\n"
    "  uploaded_at timestamp\n)",
]
#: Old raw rows: (event_id, uploaded_at, _source_file, _source_line). The same file loaded
#: twice (old.jsonl at 10:00 and 12:00), another file at 10:00, and a JSON-lines file whose
#: rows carried their own uploaded_at (rows.jsonl): 5 distinct (uploaded_at, file).
OLD_ROWS = [
    ("e1", "2026-10-01 10:00:00", "old.jsonl", 1),
    ("e2", "2026-10-01 10:00:00", "old.jsonl", 2),
    ("e1", "2026-10-01 12:00:00", "old.jsonl", 1),
    ("e2", "2026-10-01 12:00:00", "old.jsonl", 2),
    ("e3", "2026-10-01 10:00:00", "b.tsv", 1),
    ("e4", "2026-09-01 08:00:00", "rows.jsonl", 1),
    ("e5", "2026-09-02 08:00:00", "rows.jsonl", 2),
]
#: Expected _load_id: dense rank of (uploaded_at, _source_file).
OLD_ROW_IDS = {
    ("rows.jsonl", 1): 1,
    ("rows.jsonl", 2): 2,
    ("b.tsv", 1): 3,
    ("old.jsonl", 1, "10"): 4,
    ("old.jsonl", 2, "10"): 4,
    ("old.jsonl", 1, "12"): 5,
    ("old.jsonl", 2, "12"): 5,
}
OLD_LOG = [  # (file_name, loaded_at): inserted out of order
    ("old.jsonl", "2026-10-01 12:00:05"),
    ("rows.jsonl", "2026-10-01 09:00:00"),
    ("old.jsonl", "2026-10-01 10:00:05"),
]


def execute(env: dict[str, str], statements: list[str]) -> None:
    with connect(env, read_only=False) as connection:
        for statement in statements:
            connection.execute(statement)


def create_old_layout(env: dict[str, str]) -> None:
    execute(
        env,
        [
            *OLD_DDL,
            *(
                "insert into raw.snowplow_events (event_id, uploaded_at, _source_file, "
                f"_source_line) values ('{e}', '{u}', '{f}', {n})"
                for e, u, f, n in OLD_ROWS
            ),
            "insert into raw.snowplow_events_rejected values "
            "('old.jsonl', 3, 'invalid_json', '{', '2026-10-01 10:00:05')",
            *(
                "insert into raw.load_log (file_name, file_path, checksum_sha256, rows_loaded, "
                f"rows_rejected, loaded_at, uploaded_at) values ('{f}', '/x/{f}', 'sha-{i}', 2, "
                f"0, '{t}', '{t}')"
                for i, (f, t) in enumerate(OLD_LOG)
            ),
        ],
    )


def columns_of(env: dict[str, str], table: str) -> list[str]:
    return [
        row[0]
        for row in query(
            env,
            "select column_name from information_schema.columns where table_schema = 'raw' "
            f"and table_name = '{table}' order by ordinal_position",
        )
    ]


def test_raw_tables_of_the_previous_layout_are_upgraded(
    warehouse_env: dict[str, str], tmp_path: Path
) -> None:
    env = warehouse_env
    create_old_layout(env)
    result = load(env, str(REAL_EVENTS))
    assert result.returncode == 0, result.stderr
    upgraded = [line for line in result.stderr.splitlines() if "upgraded" in line]
    assert len(upgraded) == 1, result.stderr
    assert upgraded[0].startswith("kpis load: upgraded the raw tables on ")
    assert "back-filled 7 raw rows and 3 load_log rows" in upgraded[0]

    assert columns_of(env, "snowplow_events") == list(RAW_COLUMNS)
    assert columns_of(env, "snowplow_events_rejected")[-2:] == ["rejected_at", "load_id"]
    assert columns_of(env, "load_log")[-2:] == ["uploaded_at", "load_id"]

    old = query(
        env,
        "select _source_file, _source_line, uploaded_at, _load_id, _loaded_at "
        "from raw.snowplow_events where _source_file <> 'real_cli_events.jsonl'",
    )
    assert len(old) == len(OLD_ROWS)
    for file, line, uploaded_at, load_id, loaded_at in old:
        key = (file, line, f"{uploaded_at:%H}") if file == "old.jsonl" else (file, line)
        assert load_id == OLD_ROW_IDS[key], (file, line, uploaded_at, load_id)
        assert loaded_at == uploaded_at
    assert query(env, "select file_name, load_id from raw.load_log order by loaded_at") == [
        ("rows.jsonl", 1),
        ("old.jsonl", 2),
        ("old.jsonl", 3),
        ("real_cli_events.jsonl", 6),  # above every old id: 5 in the raw rows, 3 in the log
    ]
    assert query(env, "select load_id from raw.snowplow_events_rejected") == [(None,)]
    assert scalar(env, "select min(_load_id) from raw.snowplow_events where event_id like 'e%'")
    assert query(
        env,
        "select distinct _load_id from raw.snowplow_events "
        "where _source_file = 'real_cli_events.jsonl'",
    ) == [(6,)]

    again = load(env, "--reload", str(REAL_EVENTS))
    assert again.returncode == 0, again.stderr
    assert "upgraded" not in again.stderr
    assert scalar(env, "select max(load_id) from raw.load_log") == 7
    assert_raw_identity_unique(env)


def test_upgrade_by_ensure_raw_tables_and_foreign_tables(
    duckdb_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.from_env(duckdb_env)
    create_old_layout(duckdb_env)
    ensure_raw_tables(settings)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "upgraded the raw tables" in err[0], err
    ensure_raw_tables(settings)  # up to date: nothing to say
    assert capsys.readouterr().err == ""
    assert columns_of(duckdb_env, "load_log")[-1] == "load_id"

    # A raw table lacking another column was not made by kpis load: still refused.
    execute(
        duckdb_env,
        [
            "drop table raw.snowplow_events",
            "create table raw.snowplow_events (event_id text, uploaded_at timestamp, "
            "_source_file text)",
        ],
    )
    result = load(duckdb_env, str(REAL_EVENTS))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "raw.snowplow_events exists but lacks column(s)" in lines[0]
    assert "it was not created by kpis load" in lines[0]
    assert columns_of(duckdb_env, "snowplow_events") == [
        "event_id",
        "uploaded_at",
        "_source_file",
    ]  # not altered
