"""`kpis load`: real files into a real DuckDB file and a real PostgreSQL database.

The real sample, TSV, bad lines, user mistakes and the Python API; batches and atomicity are in
test_load_batches.py, load ids and the layout upgrade in test_load_ids.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import REAL_EVENTS, kpis
from load_helpers import ENGINE_PARAMS, REAL_ROWS, jsonl_to_tsv, load, query, scalar

from telemetry_kpis.atomic import ATOMIC_COLUMNS, RAW_COLUMNS
from telemetry_kpis.errors import UserError
from telemetry_kpis.load import ensure_raw_tables, load_files
from telemetry_kpis.settings import Settings


@pytest.fixture(params=ENGINE_PARAMS)
def warehouse_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The same test on a fresh DuckDB file and on a fresh PostgreSQL database."""
    return request.getfixturevalue(f"{request.param}_env")


ATOMIC_SELECT = ", ".join(f'"{c}"' for c in ATOMIC_COLUMNS)


def differing_rows(env: dict[str, str], file_a: str, file_b: str) -> list[tuple[Any, ...]]:
    """Rows (all 131 atomic columns) of one file's load missing from the other's, both ways."""
    sql = (
        f"select {ATOMIC_SELECT} from raw.snowplow_events where _source_file = '{{a}}' "
        f"except select {ATOMIC_SELECT} from raw.snowplow_events where _source_file = '{{b}}'"
    )
    return query(env, sql.format(a=file_a, b=file_b)) + query(env, sql.format(a=file_b, b=file_a))


# --- loading the real sample ----------------------------------------------------------------
def test_real_jsonl_loads_once_then_skips_then_reloads(warehouse_env: dict[str, str]) -> None:
    env = warehouse_env
    first = load(env, str(REAL_EVENTS))
    assert first.returncode == 0, first.stderr
    assert f"loaded {REAL_ROWS} rows, rejected 0" in first.stdout
    assert "rows/s" in first.stdout
    assert scalar(env, "select count(*) from raw.snowplow_events") == REAL_ROWS

    again = load(env, str(REAL_EVENTS))
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout
    assert "total: 0 rows loaded" in again.stdout
    assert scalar(env, "select count(*) from raw.snowplow_events") == REAL_ROWS

    reload = load(env, "--reload", str(REAL_EVENTS))
    assert reload.returncode == 0, reload.stderr
    assert f"loaded {REAL_ROWS} rows" in reload.stdout
    assert scalar(env, "select count(*) from raw.snowplow_events") == 2 * REAL_ROWS
    assert scalar(env, "select count(distinct event_id) from raw.snowplow_events") == REAL_ROWS

    log = query(
        env,
        "select file_name, file_path, checksum_sha256, rows_loaded, rows_rejected "
        "from raw.load_log order by loaded_at",
    )
    assert len(log) == 2

    checksum = hashlib.sha256(REAL_EVENTS.read_bytes()).hexdigest()
    assert {row[2] for row in log} == {checksum}
    assert all(row[0] == REAL_EVENTS.name and row[3] == REAL_ROWS and row[4] == 0 for row in log)
    assert scalar(env, "select count(*) from raw.snowplow_events_rejected") == 0


def test_real_jsonl_values_are_kept_as_sent(duckdb_env: dict[str, str]) -> None:
    """Every key of every line lands in its column unchanged (uploaded_at as a timestamp)."""
    assert load(duckdb_env, str(REAL_EVENTS)).returncode == 0
    bookkeeping = ("_source_file", "_source_line", "_load_id", "_loaded_at")
    columns = [c for c in RAW_COLUMNS if c not in bookkeeping]
    rows = query(
        duckdb_env,
        f"select _source_line, {', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)} "
        "from raw.snowplow_events",
    )
    by_line = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}
    with REAL_EVENTS.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            event = json.loads(line)
            stored = by_line[number]
            uploaded_at = stored.pop("uploaded_at")
            assert uploaded_at == datetime.fromisoformat(event.pop("uploaded_at"))
            assert stored == event
    assert scalar(duckdb_env, "select max(_source_file) from raw.snowplow_events") == (
        REAL_EVENTS.name
    )


# --- TSV ------------------------------------------------------------------------------------
def test_tsv_and_gzipped_tsv_load_the_same_rows_as_jsonl(
    warehouse_env: dict[str, str], tmp_path: Path
) -> None:
    env = warehouse_env
    tsv = tmp_path / "real_cli_events.tsv"
    tsv_gz = tmp_path / "real_cli_events_gz.tsv.gz"
    assert jsonl_to_tsv(REAL_EVENTS, tsv) == REAL_ROWS
    jsonl_to_tsv(REAL_EVENTS, tsv_gz)

    result = load(env, str(REAL_EVENTS), str(tsv), str(tsv_gz), "--uploaded-at", "2026-11-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(f"loaded {REAL_ROWS} rows, rejected 0") == 3, result.stdout
    assert f"total: {3 * REAL_ROWS:,} rows loaded" in result.stdout

    assert differing_rows(env, REAL_EVENTS.name, tsv.name) == []
    assert differing_rows(env, tsv.name, tsv_gz.name) == []
    # TSV rows carry no uploaded_at: --uploaded-at applies; JSON lines keep their own.
    uploaded = query(
        env,
        "select _source_file, min(uploaded_at), max(uploaded_at), count(load_tstamp) "
        "from raw.snowplow_events group by 1 order by 1",
    )
    midnight = datetime(2026, 11, 1)
    assert uploaded == [
        (REAL_EVENTS.name, datetime(2026, 7, 1, 14, 6, 15, 25000), uploaded[0][2], REAL_ROWS),
        (tsv.name, midnight, midnight, 0),
        (tsv_gz.name, midnight, midnight, 0),
    ]


def test_gzipped_jsonl_and_format_override(duckdb_env: dict[str, str], tmp_path: Path) -> None:
    gz = tmp_path / "events.jsonl.gz"
    gz.write_bytes(gzip.compress(REAL_EVENTS.read_bytes()))
    odd_name = tmp_path / "events.export"
    odd_name.write_bytes(REAL_EVENTS.read_bytes()[: REAL_EVENTS.read_bytes().index(b"\n") + 1])

    unknown = load(duckdb_env, str(odd_name))
    assert unknown.returncode == 2
    assert "--format" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1

    result = load(duckdb_env, "--format", "jsonl", str(gz), str(odd_name))
    assert result.returncode == 0, result.stderr
    assert f"events.jsonl.gz: loaded {REAL_ROWS} rows" in result.stdout
    assert "events.export: loaded 1 rows" in result.stdout


# --- bad lines ------------------------------------------------------------------------------
def write_broken_jsonl(path: Path) -> None:
    good = REAL_EVENTS.read_text(encoding="utf-8").splitlines()[:4]
    numbers = json.loads(good[3])
    numbers.pop("uploaded_at")
    numbers["contexts"] = json.loads(numbers["contexts"])  # an object, not JSON text
    numbers.update({"domain_sessionidx": 3, "geo_latitude": 37.5, "br_cookies": True})
    numbers["unknown_key"] = "ignored"
    lines = [
        good[0].encode(),  # 1
        good[1].encode() + b"\r",  # 2: CRLF line ending
        b'{"event_id": "broken", ',  # 3: invalid JSON
        b"",  # 4: blank
        b"   ",  # 5: blank
        b'["an", "array"]',  # 6: not an object
        good[2].replace('"uploaded_at":"', '"uploaded_at":"not a time ').encode(),  # 7
        b'{"event_id": "caf\xe9"}',  # 8: not UTF-8
        json.dumps(numbers).encode(),  # 9: non-string values, no uploaded_at
        b'{"event_id": "nul\\u0000"}',  # 10: a NUL character (PostgreSQL cannot store it)
    ]
    path.write_bytes(b"\n".join(lines))  # no newline after the last line


def test_bad_jsonl_lines_are_rejected_with_their_line_numbers(
    warehouse_env: dict[str, str], tmp_path: Path
) -> None:
    env = warehouse_env
    broken = tmp_path / "broken.jsonl"
    write_broken_jsonl(broken)
    result = load(env, str(broken), "--uploaded-at", "2026-11-02T10:00:00+02:00")
    assert result.returncode == 0, result.stderr
    assert "broken.jsonl: loaded 3 rows, rejected 5" in result.stdout
    assert "line 3: invalid_json" in result.stdout
    assert "line 6: not_an_object" in result.stdout
    rejected = query(
        env,
        "select source_file, line_number, reason, raw_line, rejected_at is not null "
        "from raw.snowplow_events_rejected order by line_number",
    )
    assert [row[1:3] for row in rejected] == [
        (3, "invalid_json"),
        (6, "not_an_object"),
        (7, "invalid_uploaded_at"),
        (8, "invalid_utf8"),
        (10, "nul_character"),
    ]
    assert all(row[0] == "broken.jsonl" and row[4] for row in rejected)
    assert rejected[0][3] == '{"event_id": "broken", '
    assert rejected[3][3] == '{"event_id": "caf\ufffd"}'

    loaded = query(
        env,
        "select _source_line, uploaded_at, domain_sessionidx, geo_latitude, br_cookies, "
        "contexts, unstruct_event from raw.snowplow_events order by _source_line",
    )
    assert [row[0] for row in loaded] == [1, 2, 9]
    line9 = loaded[2]
    assert line9[1] == datetime(2026, 11, 2, 8, 0)  # --uploaded-at, converted to UTC
    assert line9[2:5] == ("3", "37.5", "true")
    assert json.loads(line9[5])["schema"].startswith("iglu:com.snowplowanalytics")
    assert ": " not in line9[5][:40]  # compact JSON
    assert loaded[0][1] != line9[1]  # lines 1-2 keep their own uploaded_at

    log = query(env, "select rows_loaded, rows_rejected from raw.load_log")
    assert log == [(3, 5)]


def test_bad_tsv_lines_are_rejected(warehouse_env: dict[str, str], tmp_path: Path) -> None:
    env = warehouse_env
    tsv = tmp_path / "events.tsv"
    jsonl_to_tsv(REAL_EVENTS, tsv)
    lines = tsv.read_bytes().split(b"\n")[:3]
    broken = tmp_path / "broken.tsv"
    broken.write_bytes(
        lines[0]
        + b"\r\n"  # 1: good, CRLF
        + b"\t".join(lines[1].split(b"\t")[:-1])
        + b"\n"  # 2: 130 fields
        + b"\n"  # 3: blank
        + lines[1]
        + b"\textra\n"  # 4: 132 fields
        + lines[2]
        + b"\n"  # 5: good
    )
    result = load(env, str(broken), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "broken.tsv: loaded 2 rows, rejected 2" in result.stdout
    assert "line 2: wrong_field_count, line 4: wrong_field_count" in result.stdout
    assert query(
        env, "select line_number, reason from raw.snowplow_events_rejected order by 1"
    ) == [(2, "wrong_field_count"), (4, "wrong_field_count")]
    assert query(env, "select _source_line, true_tstamp from raw.snowplow_events order by 1") == [
        (1, None),
        (5, None),
    ]


# --- user mistakes --------------------------------------------------------------------------
def test_unreachable_postgres_is_one_clear_line(postgres_env: dict[str, str]) -> None:
    env = dict(postgres_env, KPIS_PG_PORT="1")
    result = load(env, str(REAL_EVENTS))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kpis load: error: cannot reach PostgreSQL")
    assert ":1/" in lines[0]


def test_missing_file_is_named(duckdb_env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = load(duckdb_env, str(REAL_EVENTS), str(missing))
    assert result.returncode == 2
    assert result.stderr.strip() == f"kpis load: error: no such file: {missing}"
    assert not Path(duckdb_env["KPIS_DUCKDB_PATH"]).exists()  # nothing was loaded


def test_bad_uploaded_at_option(duckdb_env: dict[str, str]) -> None:
    result = load(duckdb_env, str(REAL_EVENTS), "--uploaded-at", "yesterday")
    assert result.returncode == 2
    assert "--uploaded-at 'yesterday' is not an ISO 8601 timestamp" in result.stderr


def test_duckdb_file_in_a_missing_folder_is_created(
    duckdb_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "new" / "deeper" / "warehouse.duckdb"
    env = dict(duckdb_env, KPIS_DUCKDB_PATH=str(path))
    result = load(env, str(REAL_EVENTS))
    assert result.returncode == 0, result.stderr
    assert path.is_file()
    assert scalar(env, "select count(*) from raw.snowplow_events") == REAL_ROWS


# --- Python API -----------------------------------------------------------------------------
def test_python_api(duckdb_env: dict[str, str], tmp_path: Path) -> None:
    settings = Settings.from_env(duckdb_env)
    ensure_raw_tables(settings)
    ensure_raw_tables(settings)  # idempotent
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(REAL_EVENTS.read_bytes())
    (folder / "notes.md").write_text("not events")
    summary = load_files(settings, [folder], uploaded_at=datetime(2026, 11, 3), progress=False)
    assert summary.rows_loaded == REAL_ROWS and summary.rows_rejected == 0
    assert summary.files_loaded == 1 and summary.files[0].status == "loaded"
    again = load_files(settings, [folder / "a.jsonl", REAL_EVENTS], progress=False)
    assert [f.status for f in again.files] == ["skipped", "skipped"]
    assert again.files[1].previous_file_name == "a.jsonl"
    with pytest.raises(UserError, match="no such file"):
        load_files(settings, [tmp_path / "missing.tsv"], progress=False)


def test_help_explains_the_rules(duckdb_env: dict[str, str]) -> None:
    result = kpis("load", "--help", env=duckdb_env)
    assert result.returncode == 0
    for needle in (
        "jsonl",
        "tsv",
        "uploaded_at",
        "SHA-256",
        "--reload",
        "KPIS_DUCKDB_PATH",
        "_load_id, _loaded_at",
        "rejected_at",
        "raw.load_log",
        "invalid_uploaded_at",
        "must not be in the future",
        "upgraded in place",
    ):
        assert needle in result.stdout, needle
