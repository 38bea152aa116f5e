"""`kpis load` batch by batch: lines across read blocks, over-long lines, and atomicity (a file
that fails after many batches leaves nothing behind; written batches are freed).

Small ReadLimits make block and batch boundaries reachable with the real sample; an
ObservedWriter (a Writer around the real one) and a CountingReader watch the batches go by.
"""

from __future__ import annotations

import gc
import gzip
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REAL_EVENTS
from load_helpers import ENGINE_PARAMS, REAL_ROWS, load, query, scalar
from pandas import DataFrame

from telemetry_kpis.atomic import RAW_COLUMNS
from telemetry_kpis.errors import UserError
from telemetry_kpis.load import (
    Batch,
    LoadFailed,
    LoadLogRow,
    LoadParams,
    PreviousLoad,
    Reader,
    ReadLimits,
    Writer,
    ensure_raw_tables,
    load_files,
    open_writer,
    read_batches,
)
from telemetry_kpis.settings import Settings

#: Many small batches from the real sample (about 1.2 MB).
SMALL_BATCHES = ReadLimits(read_block=64 * 1024, batch_bytes=200_000)


@pytest.fixture(params=ENGINE_PARAMS)
def warehouse_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The same test on a fresh DuckDB file and on a fresh PostgreSQL database."""
    return request.getfixturevalue(f"{request.param}_env")


def _nothing() -> None:
    pass


class ObservedWriter:
    """A :class:`Writer` that delegates to a real one and reports each staged batch
    (``on_stage``, after staging) and each unstaged one (``on_unstage``, before)."""

    def __init__(
        self,
        inner: Writer,
        on_stage: Callable[[], None] = _nothing,
        on_unstage: Callable[[], None] = _nothing,
    ) -> None:
        self.inner = inner
        self.on_stage = on_stage
        self.on_unstage = on_unstage

    def begin(self) -> None:
        self.inner.begin()

    def previous_load(self, checksum: str) -> PreviousLoad | None:
        return self.inner.previous_load(checksum)

    def next_load_id(self) -> int:
        return self.inner.next_load_id()

    def set_params(self, params: LoadParams) -> None:
        self.inner.set_params(params)

    def stage(self, frame: DataFrame) -> None:
        self.inner.stage(frame)
        self.on_stage()

    def unstage(self) -> None:
        self.on_unstage()
        self.inner.unstage()

    def insert_events(self, select_sql: str) -> int:
        return self.inner.insert_events(select_sql)

    def insert_rejects(self, select_sql: str) -> list[tuple[int, str]]:
        return self.inner.insert_rejects(select_sql)

    def log(self, row: LoadLogRow) -> None:
        self.inner.log(row)

    def commit(self) -> None:
        self.inner.commit()

    def rollback(self) -> None:
        self.inner.rollback()

    def close(self) -> None:
        self.inner.close()


def observed(
    on_stage: Callable[[], None] = _nothing, on_unstage: Callable[[], None] = _nothing
) -> Callable[[Settings], Writer]:
    """A writer factory: the real writer of the settings, observed."""

    def factory(settings: Settings) -> Writer:
        return ObservedWriter(open_writer(settings), on_stage, on_unstage)

    return factory


def test_overlong_lines_and_block_boundaries(duckdb_env: dict[str, str], tmp_path: Path) -> None:
    """Tiny read blocks and line limit: lines spanning blocks, an over-long line, a BOM."""
    limits = ReadLimits(read_block=1000, max_line_bytes=20_000, batch_bytes=30_000)
    good = REAL_EVENTS.read_bytes().split(b"\n")[:6]
    path = tmp_path / "long.jsonl"
    long_line = b'{"event_id": "' + b"x" * 50_000 + b'"}'
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join([*good[:3], long_line, *good[3:]]) + b"\n")
    summary = load_files(
        Settings.from_env(duckdb_env), [path], progress=False, reader=Reader(limits)
    )
    result = summary.files[0]
    assert (result.rows_loaded, result.rows_rejected) == (6, 1)
    assert result.reject_samples == [(4, "line_too_long")]
    lines = query(duckdb_env, "select _source_line from raw.snowplow_events order by 1")
    assert [row[0] for row in lines] == [1, 2, 3, 5, 6, 7]


LONG_LINE_CASES = {
    # id: (read block, bytes before the long line, its length, newline after the file's end)
    "ends_in_the_same_block": (8_000, 1_000, 2_000, True),
    "ends_in_the_next_block": (1_000, 100, 1_600, True),
    "ends_several_blocks_later": (1_000, 100, 5_500, True),
    "last_line_without_newline": (1_000, 100, 1_600, False),
    "last_line_several_blocks_without_newline": (1_000, 100, 5_500, False),
    "exactly_the_limit_is_kept": (1_000, 100, 1_500, True),
}


@pytest.mark.parametrize("case", LONG_LINE_CASES.values(), ids=LONG_LINE_CASES.keys())
def test_a_line_longer_than_the_limit_is_rejected_wherever_it_ends(
    tmp_path: Path, case: tuple[int, int, int, bool]
) -> None:
    """The line limit applies to every line, whichever read block it starts and ends in."""
    read_block, before, length, final_newline = case
    limits = ReadLimits(read_block=read_block, max_line_bytes=1_500, reject_keep_chars=50)
    # Short lines of 99 bytes (+ newline) up to ``before``, the long line, then short lines
    # (none when the long line is the last one).
    head = [b"h%02d" % i + b"." * 96 for i in range(before // 100)]
    long_line = b"L" + b"x" * (length - 1)
    tail = [] if not final_newline else [b"t%02d" % i + b"." * 96 for i in range(25)]
    data = b"\n".join([*head, long_line, *tail]) + (b"\n" if final_newline else b"")
    assert data.index(long_line) == before
    path = tmp_path / "long.jsonl"
    path.write_bytes(data)

    got: list[tuple[int, str, str | None]] = []
    for batch in read_batches(path, limits=limits):
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


def test_a_failing_file_leaves_nothing_behind(duckdb_env: dict[str, str]) -> None:
    """A database error in the middle of a file rolls the whole file back."""
    _raw_events_failing_from_line(duckdb_env, 700)
    result = load(duckdb_env, str(REAL_EVENTS))
    assert result.returncode == 1
    assert "rolled back" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert scalar(duckdb_env, "select count(*) from raw.snowplow_events") == 0
    assert scalar(duckdb_env, "select count(*) from raw.load_log") == 0


def test_a_failure_after_many_batches_leaves_nothing_behind(
    duckdb_env: dict[str, str], tmp_path: Path
) -> None:
    """Batches already written (rows and rejects) are rolled back with the rest of the file."""
    lines = REAL_EVENTS.read_bytes().split(b"\n")
    path = tmp_path / "fails_late.jsonl"
    path.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]))  # line 2 is rejected
    _raw_events_failing_from_line(duckdb_env, 700)
    settings = Settings.from_env(duckdb_env)
    batches: list[int] = []
    with pytest.raises(UserError, match="rolled back"):
        load_files(
            settings,
            [path],
            progress=False,
            reader=Reader(SMALL_BATCHES),
            writer_factory=observed(on_unstage=lambda: batches.append(1)),
        )
    assert len(batches) >= 10  # the failure came after many batches had been written
    for table in ("snowplow_events", "snowplow_events_rejected", "load_log"):
        assert scalar(duckdb_env, f"select count(*) from raw.{table}") == 0, table
    # The staging tables were temporary: the file holds the raw tables only.
    assert query(duckdb_env, "select table_name from duckdb_tables() order by 1") == [
        ("load_log",),
        ("snowplow_events",),
        ("snowplow_events_rejected",),
    ]


@dataclass(frozen=True)
class CountingReader(Reader):
    """A reader that counts the DataFrames it makes (``made``) and those freed (``freed``)."""

    counts: dict[str, int] = field(default_factory=dict)

    def frame(self, batch: Batch) -> DataFrame:
        df = super().frame(batch)
        self.counts["made"] += 1
        weakref.finalize(df, self._count_freed)
        return df

    def _count_freed(self) -> None:
        self.counts["freed"] += 1


def test_written_batches_are_freed_during_the_load(warehouse_env: dict[str, str]) -> None:
    """Memory stays flat: a batch's DataFrame is freed once written, not kept until the commit.

    (A DataFrame still referenced, e.g. by a view, until the file's transaction ends would
    keep the whole text of the file in memory.)
    """
    counts = {"made": 0, "freed": 0, "most_alive": 0}

    def after_stage() -> None:
        gc.collect()
        counts["most_alive"] = max(counts["most_alive"], counts["made"] - counts["freed"])

    summary = load_files(
        Settings.from_env(warehouse_env),
        [REAL_EVENTS],
        progress=False,
        reader=CountingReader(SMALL_BATCHES, counts=counts),
        writer_factory=observed(on_stage=after_stage),
    )
    assert summary.rows_loaded == REAL_ROWS
    assert scalar(warehouse_env, "select count(*) from raw.snowplow_events") == REAL_ROWS
    assert counts["made"] >= 10
    # At most: the batch being written, two prefetched, one being prepared by the reader.
    assert counts["most_alive"] <= 4, counts


def write_truncated_gzip(path: Path) -> Path:
    data = gzip.compress(REAL_EVENTS.read_bytes())
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_truncated_gzip_file_is_rolled_back(duckdb_env: dict[str, str], tmp_path: Path) -> None:
    truncated = write_truncated_gzip(tmp_path / "cut.jsonl.gz")
    result = load(duckdb_env, str(truncated))
    assert result.returncode == 1
    assert "cannot read" in result.stderr and str(truncated) in result.stderr
    assert "nothing of cut.jsonl.gz was kept" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""  # no file was loaded before it
    assert scalar(duckdb_env, "select count(*) from raw.snowplow_events") == 0
    assert scalar(duckdb_env, "select count(*) from raw.load_log") == 0


def test_a_truncated_gzip_after_loaded_files_reports_what_was_kept(
    duckdb_env: dict[str, str], tmp_path: Path
) -> None:
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
