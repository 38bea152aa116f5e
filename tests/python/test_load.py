"""`kpis load`: real files into a real DuckDB file and a real PostgreSQL database."""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import REAL_EVENTS, kpis

from telemetry_kpis.atomic import ATOMIC_COLUMNS, RAW_COLUMNS
from telemetry_kpis.errors import UserError
from telemetry_kpis.load import LoadFailed, ensure_raw_tables, load_files
from telemetry_kpis.settings import Settings

REAL_ROWS = 731


# --- helpers --------------------------------------------------------------------------------
@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The same test on a fresh DuckDB file and on a fresh PostgreSQL database."""
    return request.getfixturevalue(f"{request.param}_env")


@contextlib.contextmanager
def connect(env: dict[str, str], *, read_only: bool = True) -> Iterator[Any]:
    """A native connection to the warehouse of ``env`` (DuckDB file or PostgreSQL)."""
    settings = Settings.from_env(env)
    if settings.target == "duckdb":
        import duckdb

        with duckdb.connect(str(settings.duckdb_path), read_only=read_only) as connection:
            yield connection
        return
    import psycopg

    with psycopg.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        password=settings.pg_password,
        dbname=settings.pg_database,
    ) as connection:
        yield connection


def query(env: dict[str, str], sql: str) -> list[tuple]:
    """Rows of a query on the warehouse of ``env`` (read through the native drivers)."""
    with connect(env) as connection:
        return connection.execute(sql).fetchall()


def scalar(env: dict[str, str], sql: str):
    return query(env, sql)[0][0]


def load(env: dict[str, str], *args: str):
    result = kpis("load", "--no-progress", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def jsonl_to_tsv(source: Path, target: Path) -> int:
    """Snowplow enriched TSV of a JSON-lines file: the 131 fields, null as empty, no header.

    ``uploaded_at`` and ``load_tstamp`` are not TSV fields: they are left out.
    """
    opener = gzip.open if target.suffix == ".gz" else open
    count = 0
    with source.open(encoding="utf-8") as lines, opener(target, "wt", encoding="utf-8") as out:
        for line in lines:
            event = json.loads(line)
            fields = []
            for column in ATOMIC_COLUMNS:
                value = event.get(column)
                assert value is None or isinstance(value, str)
                assert value is None or ("\t" not in value and "\n" not in value)
                fields.append(value or "")
            out.write("\t".join(fields) + "\n")
            count += 1
    return count


ATOMIC_SELECT = ", ".join(f'"{c}"' for c in ATOMIC_COLUMNS)


def differing_rows(env: dict[str, str], file_a: str, file_b: str) -> list[tuple]:
    """Rows (all 131 atomic columns) of one file's load missing from the other's, both ways."""
    sql = (
        f"select {ATOMIC_SELECT} from raw.snowplow_events where _source_file = '{{a}}' "
        f"except select {ATOMIC_SELECT} from raw.snowplow_events where _source_file = '{{b}}'"
    )
    return query(env, sql.format(a=file_a, b=file_b)) + query(env, sql.format(a=file_b, b=file_a))


# --- loading the real sample ----------------------------------------------------------------
def test_real_jsonl_loads_once_then_skips_then_reloads(warehouse_env):
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
    import hashlib

    checksum = hashlib.sha256(REAL_EVENTS.read_bytes()).hexdigest()
    assert {row[2] for row in log} == {checksum}
    assert all(row[0] == REAL_EVENTS.name and row[3] == REAL_ROWS and row[4] == 0 for row in log)
    assert scalar(env, "select count(*) from raw.snowplow_events_rejected") == 0


def test_real_jsonl_values_are_kept_as_sent(duckdb_env):
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
def test_tsv_and_gzipped_tsv_load_the_same_rows_as_jsonl(warehouse_env, tmp_path):
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


def test_gzipped_jsonl_and_format_override(duckdb_env, tmp_path):
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


def test_bad_jsonl_lines_are_rejected_with_their_line_numbers(warehouse_env, tmp_path):
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


def test_bad_tsv_lines_are_rejected(warehouse_env, tmp_path):
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


def test_overlong_lines_and_block_boundaries(duckdb_env, tmp_path, monkeypatch):
    """Tiny read blocks and line limit: lines spanning blocks, an over-long line, a BOM."""
    import telemetry_kpis.load as load_module

    monkeypatch.setattr(load_module, "READ_BLOCK", 1000)
    monkeypatch.setattr(load_module, "MAX_LINE_BYTES", 20_000)
    monkeypatch.setattr(load_module, "BATCH_BYTES", 30_000)
    good = REAL_EVENTS.read_bytes().split(b"\n")[:6]
    path = tmp_path / "long.jsonl"
    long_line = b'{"event_id": "' + b"x" * 50_000 + b'"}'
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join([*good[:3], long_line, *good[3:]]) + b"\n")
    summary = load_files(Settings.from_env(duckdb_env), [path], progress=False)
    result = summary.files[0]
    assert (result.rows_loaded, result.rows_rejected) == (6, 1)
    assert result.reject_samples == [(4, "line_too_long")]
    lines = query(duckdb_env, "select _source_line from raw.snowplow_events order by 1")
    assert [row[0] for row in lines] == [1, 2, 3, 5, 6, 7]


LONG_LINE_CASES = {
    # id: (READ_BLOCK, bytes before the long line, its length, newline after the file's end)
    "ends_in_the_same_block": (8_000, 1_000, 2_000, True),
    "ends_in_the_next_block": (1_000, 100, 1_600, True),
    "ends_several_blocks_later": (1_000, 100, 5_500, True),
    "last_line_without_newline": (1_000, 100, 1_600, False),
    "last_line_several_blocks_without_newline": (1_000, 100, 5_500, False),
    "exactly_the_limit_is_kept": (1_000, 100, 1_500, True),
}


@pytest.mark.parametrize("case", LONG_LINE_CASES.values(), ids=LONG_LINE_CASES.keys())
def test_a_line_longer_than_the_limit_is_rejected_wherever_it_ends(tmp_path, monkeypatch, case):
    """MAX_LINE_BYTES applies to every line, whichever read block it starts and ends in."""
    import telemetry_kpis.load as load_module

    read_block, before, length, final_newline = case
    monkeypatch.setattr(load_module, "READ_BLOCK", read_block)
    monkeypatch.setattr(load_module, "MAX_LINE_BYTES", 1_500)
    monkeypatch.setattr(load_module, "REJECT_KEEP_CHARS", 50)
    # Short lines of 99 bytes (+ newline) up to ``before``, the long line, then short lines
    # (none when the long line is the last one).
    head = [b"h%02d" % i + b"." * 96 for i in range(before // 100)]
    long_line = b"L" + b"x" * (length - 1)
    tail = [] if not final_newline else [b"t%02d" % i + b"." * 96 for i in range(25)]
    data = b"\n".join([*head, long_line, *tail]) + (b"\n" if final_newline else b"")
    assert data.index(long_line) == before
    path = tmp_path / "long.jsonl"
    path.write_bytes(data)

    got = []
    for batch in load_module.read_batches(path):
        reasons = batch.pre_reasons or [None] * len(batch.lines)
        got.extend(zip(batch.line_numbers, batch.lines, reasons, strict=True))
    long_number = len(head) + 1
    expected_long = (
        (long_number, long_line.decode(), None)
        if length <= 1_500
        else (long_number, "L" + "x" * 49, "line_too_long")
    )
    expected = [
        *[(n, line.decode(), None) for n, line in enumerate(head, start=1)],
        expected_long,
        *[(n, line.decode(), None) for n, line in enumerate(tail, start=long_number + 1)],
    ]
    assert got == expected


# --- atomicity ------------------------------------------------------------------------------
def _raw_events_failing_from_line(env: dict[str, str], line: int) -> None:
    """Recreate raw.snowplow_events so that inserting a row of file line >= ``line`` fails."""
    import duckdb

    settings = Settings.from_env(env)
    ensure_raw_tables(settings)
    columns = ", ".join(f'"{c}" text' for c in RAW_COLUMNS[:-5])
    with duckdb.connect(str(settings.duckdb_path)) as connection:
        connection.execute("drop table raw.snowplow_events")
        connection.execute(
            f"create table raw.snowplow_events ({columns}, uploaded_at timestamp, "
            "_source_file text, _source_line bigint, _load_id bigint, _loaded_at timestamp, "
            f"check (_source_line < {line}))"
        )


def test_a_failing_file_leaves_nothing_behind(duckdb_env, tmp_path):
    """A database error in the middle of a file rolls the whole file back."""
    _raw_events_failing_from_line(duckdb_env, 700)
    result = load(duckdb_env, str(REAL_EVENTS))
    assert result.returncode == 1
    assert "rolled back" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert scalar(duckdb_env, "select count(*) from raw.snowplow_events") == 0
    assert scalar(duckdb_env, "select count(*) from raw.load_log") == 0


def test_a_failure_after_many_batches_leaves_nothing_behind(duckdb_env, tmp_path, monkeypatch):
    """Batches already written (rows and rejects) are rolled back with the rest of the file."""
    import telemetry_kpis.load as load_module

    monkeypatch.setattr(load_module, "READ_BLOCK", 64 * 1024)
    monkeypatch.setattr(load_module, "BATCH_BYTES", 200_000)
    lines = REAL_EVENTS.read_bytes().split(b"\n")
    path = tmp_path / "fails_late.jsonl"
    path.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]))  # line 2 is rejected
    _raw_events_failing_from_line(duckdb_env, 700)
    settings = Settings.from_env(duckdb_env)
    batches = []
    unstage = load_module._Loader.unstage

    def counting_unstage(self) -> None:
        batches.append(1)
        unstage(self)

    monkeypatch.setattr(load_module._Loader, "unstage", counting_unstage)
    with pytest.raises(UserError, match="rolled back"):
        load_files(settings, [path], progress=False)
    assert len(batches) >= 10  # the failure came after many batches had been written
    for table in ("snowplow_events", "snowplow_events_rejected", "load_log"):
        assert scalar(duckdb_env, f"select count(*) from raw.{table}") == 0, table
    # The staging tables were temporary: the file holds the raw tables only.
    assert query(duckdb_env, "select table_name from duckdb_tables() order by 1") == [
        ("load_log",),
        ("snowplow_events",),
        ("snowplow_events_rejected",),
    ]


def test_written_batches_are_freed_during_the_load(warehouse_env, monkeypatch):
    """Memory stays flat: a batch's DataFrame is freed once written, not kept until the commit.

    (Registering each batch as a view kept every DataFrame of a file alive until the file's
    transaction ended on DuckDB, i.e. the whole text of the file in memory.)
    """
    import gc
    import weakref

    import telemetry_kpis.load as load_module

    monkeypatch.setattr(load_module, "READ_BLOCK", 64 * 1024)
    monkeypatch.setattr(load_module, "BATCH_BYTES", 200_000)
    counts = {"made": 0, "freed": 0, "most_alive": 0}

    def count_freed() -> None:
        counts["freed"] += 1

    make_frame = load_module._Batch.frame

    def frame(batch):
        df = make_frame(batch)
        counts["made"] += 1
        weakref.finalize(df, count_freed)
        return df

    stage = load_module._Loader.stage

    def counting_stage(self, df) -> None:
        stage(self, df)
        gc.collect()
        counts["most_alive"] = max(counts["most_alive"], counts["made"] - counts["freed"])

    monkeypatch.setattr(load_module._Batch, "frame", frame)
    monkeypatch.setattr(load_module._Loader, "stage", counting_stage)
    summary = load_files(Settings.from_env(warehouse_env), [REAL_EVENTS], progress=False)
    assert summary.rows_loaded == REAL_ROWS
    assert scalar(warehouse_env, "select count(*) from raw.snowplow_events") == REAL_ROWS
    assert counts["made"] >= 10
    # At most: the batch being written, two prefetched, one being prepared by the reader.
    assert counts["most_alive"] <= 4, counts


def write_truncated_gzip(path: Path) -> Path:
    data = gzip.compress(REAL_EVENTS.read_bytes())
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_truncated_gzip_file_is_rolled_back(duckdb_env, tmp_path):
    truncated = write_truncated_gzip(tmp_path / "cut.jsonl.gz")
    result = load(duckdb_env, str(truncated))
    assert result.returncode == 1
    assert "cannot read" in result.stderr and str(truncated) in result.stderr
    assert "nothing of cut.jsonl.gz was kept" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""  # no file was loaded before it
    assert scalar(duckdb_env, "select count(*) from raw.snowplow_events") == 0
    assert scalar(duckdb_env, "select count(*) from raw.load_log") == 0


def test_a_truncated_gzip_after_loaded_files_reports_what_was_kept(duckdb_env, tmp_path):
    """The files before the bad one are committed: the command says so, then fails (exit 1)."""
    first = tmp_path / "a.jsonl"
    first.write_bytes(REAL_EVENTS.read_bytes())
    truncated = write_truncated_gzip(tmp_path / "b_cut.jsonl.gz")
    never = tmp_path / "c.jsonl"
    never.write_bytes(REAL_EVENTS.read_bytes()[:2000].rsplit(b"\n", 1)[0] + b"\n")
    result = load(duckdb_env, str(first), str(truncated), str(never))
    assert result.returncode == 1, result.stderr
    out = result.stdout.splitlines()
    assert len(out) == 2, result.stdout
    assert out[0].startswith(f"a.jsonl: loaded {REAL_ROWS} rows, rejected 0")
    assert out[1].startswith(f"kept: {REAL_ROWS} rows loaded, 0 rejected, 1 file(s) loaded")
    assert "before b_cut.jsonl.gz failed" in out[1]
    err = result.stderr.strip().splitlines()
    assert len(err) == 1, result.stderr
    assert err[0].startswith(f"kpis load: error: cannot read {truncated}: ")
    assert "nothing of b_cut.jsonl.gz was kept" in err[0]
    assert f"the 1 file(s) loaded before it were kept (a.jsonl: {REAL_ROWS} rows)" in err[0]
    assert query(duckdb_env, "select file_name, rows_loaded from raw.load_log") == [
        ("a.jsonl", REAL_ROWS)
    ]
    assert query(
        duckdb_env, "select _source_file, count(*) from raw.snowplow_events group by 1"
    ) == [("a.jsonl", REAL_ROWS)]

    # The Python API keeps the same information: in the message and on the exception.
    again = tmp_path / "d.jsonl"
    again.write_bytes(first.read_bytes())
    with pytest.raises(LoadFailed, match=r"loaded before it were kept \(d\.jsonl") as caught:
        load_files(
            Settings.from_env(duckdb_env), [again, truncated, never], reload=True, progress=False
        )
    assert caught.value.exit_code == 1
    partial = caught.value.summary
    assert partial.failed == truncated
    assert [(f.file_name, f.status, f.rows_loaded) for f in partial.files] == [
        ("d.jsonl", "loaded", REAL_ROWS)
    ]
    assert scalar(duckdb_env, "select count(*) from raw.load_log") == 2


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


def test_each_file_is_a_load_with_its_own_id(warehouse_env, tmp_path):
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


def test_uploaded_at_rules(warehouse_env, tmp_path):
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


def test_uploaded_at_option_in_the_future_is_refused(duckdb_env):
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
def test_concurrent_postgres_loads_get_distinct_ids_and_commit_in_order(postgres_env, tmp_path):
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


def test_raw_tables_of_the_previous_layout_are_upgraded(warehouse_env, tmp_path):
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


def test_upgrade_by_ensure_raw_tables_and_foreign_tables(duckdb_env, capsys):
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


# --- user mistakes --------------------------------------------------------------------------
def test_unreachable_postgres_is_one_clear_line(postgres_env):
    env = dict(postgres_env, KPIS_PG_PORT="1")
    result = load(env, str(REAL_EVENTS))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kpis load: error: cannot reach PostgreSQL")
    assert ":1/" in lines[0]


def test_missing_file_is_named(duckdb_env, tmp_path):
    missing = tmp_path / "nope.jsonl"
    result = load(duckdb_env, str(REAL_EVENTS), str(missing))
    assert result.returncode == 2
    assert result.stderr.strip() == f"kpis load: error: no such file: {missing}"
    assert not Path(duckdb_env["KPIS_DUCKDB_PATH"]).exists()  # nothing was loaded


def test_bad_uploaded_at_option(duckdb_env):
    result = load(duckdb_env, str(REAL_EVENTS), "--uploaded-at", "yesterday")
    assert result.returncode == 2
    assert "--uploaded-at 'yesterday' is not an ISO 8601 timestamp" in result.stderr


def test_duckdb_file_in_a_missing_folder_is_created(duckdb_env, tmp_path):
    path = tmp_path / "new" / "deeper" / "warehouse.duckdb"
    env = dict(duckdb_env, KPIS_DUCKDB_PATH=str(path))
    result = load(env, str(REAL_EVENTS))
    assert result.returncode == 0, result.stderr
    assert path.is_file()
    assert scalar(env, "select count(*) from raw.snowplow_events") == REAL_ROWS


# --- Python API -----------------------------------------------------------------------------
def test_python_api(duckdb_env, tmp_path):
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


def test_help_explains_the_rules(duckdb_env):
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
