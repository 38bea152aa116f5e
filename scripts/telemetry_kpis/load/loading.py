"""Loading files: each file as one load through a :class:`Writer`, atomically, in order.

Every file is loaded in one transaction together with its rejected lines and its row in
``raw.load_log``; a file whose SHA-256 is already in the log is skipped unless ``reload``.
A file that fails is rolled back; the files before it stay loaded and the run stops.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from telemetry_kpis.errors import UserError
from telemetry_kpis.load.bookkeeping import (
    LoadLogRow,
    LoadParams,
    check_not_future,
    naive_utc,
    utc_now,
)
from telemetry_kpis.load.connections import is_database_error
from telemetry_kpis.load.duckdb_writer import DuckDBWriter
from telemetry_kpis.load.files import detect_format, expand_paths, sha256_file
from telemetry_kpis.load.parse_sql import PARSE_SQL
from telemetry_kpis.load.postgres_writer import PostgresWriter
from telemetry_kpis.load.progress import HASH_BAR_MIN_BYTES, progress_bar
from telemetry_kpis.load.reader import Reader
from telemetry_kpis.load.results import FileResult, LoadFailed, LoadSummary, first_line
from telemetry_kpis.load.spark_writer import SparkWriter
from telemetry_kpis.load.writer import Writer
from telemetry_kpis.settings import Settings

#: Opens the writer of a run (see :func:`open_writer`).
WriterFactory = Callable[[Settings], Writer]


@dataclass(frozen=True)
class SourceFile:
    """A file to load and its format (``jsonl`` or ``tsv``)."""

    path: Path
    format: str


@dataclass(frozen=True)
class LoadRequest:
    """What applies to every file of a run."""

    reload: bool = False
    #: uploaded_at of rows that carry none (naive UTC); None: each load's own moment
    uploaded_at: datetime | None = None
    show_progress: bool = False
    reader: Reader = field(default_factory=Reader)


def open_writer(settings: Settings) -> Writer:
    """The writer of the settings' target, its raw tables created or upgraded."""
    try:
        if settings.target == "duckdb":
            return DuckDBWriter(settings)
        if settings.target == "spark":
            return SparkWriter(settings)
        return PostgresWriter(settings)
    except Exception as exc:
        if is_database_error(exc):
            raise UserError(
                f"cannot prepare the raw tables on {settings.describe()}: {first_line(exc)}"
            ) from None
        raise


def _write_batches(
    writer: Writer, source: SourceFile, request: LoadRequest, result: FileResult
) -> None:
    """Parse and write the file's batches (rows, then rejects), counting both in ``result``."""
    events_sql, rejects_sql = PARSE_SQL[source.format]
    with progress_bar(request.show_progress, result.bytes_read, source.path.name) as bar:
        for batch, frame in request.reader.prefetched(source.path, bar.update):
            writer.stage(frame)
            try:
                inserted = writer.insert_events(events_sql)
                result.rows_loaded += inserted
                # Every line is good in the common case: then no second pass is needed.
                rejects = (
                    sorted(writer.insert_rejects(rejects_sql)) if inserted < len(batch) else []
                )
            finally:
                writer.unstage()
            result.count_rejects(rejects)


def _write_load(
    writer: Writer, source: SourceFile, request: LoadRequest, result: FileResult
) -> None:
    """The file as a new load: its id and moment, its rows and rejects, its log row, commit."""
    # After begin(): on PostgreSQL the load lock is held, so ids commit in order.
    result.load_id = load_id = writer.next_load_id()
    result.loaded_at = loaded_at = utc_now()
    params = LoadParams(
        source_file=source.path.name,
        default_uploaded_at=request.uploaded_at or loaded_at,
        loaded_at=loaded_at,
        load_id=load_id,
    )
    writer.set_params(params)
    _write_batches(writer, source, request, result)
    writer.log(
        LoadLogRow(
            file_name=source.path.name,
            file_path=str(source.path.resolve()),
            checksum_sha256=result.checksum_sha256,
            rows_loaded=result.rows_loaded,
            rows_rejected=result.rows_rejected,
            loaded_at=utc_now(),
            uploaded_at=params.default_uploaded_at,
            load_id=load_id,
        )
    )
    writer.commit()


def _failure(exc: BaseException, path: Path) -> UserError | None:
    """The one-line error (exit code 1) of a file that was rolled back; None to re-raise."""
    if is_database_error(exc):
        return UserError(
            f"loading {path} failed and was rolled back (nothing of it was kept): "
            f"{first_line(exc)}",
            exit_code=1,
        )
    if isinstance(exc, UserError):  # an unreadable file (e.g. a truncated .gz)
        return UserError(
            f"{exc}; it was rolled back (nothing of {path.name} was kept)", exit_code=1
        )
    return None


def load_one(writer: Writer, source: SourceFile, request: LoadRequest) -> FileResult:
    """Load one file as one load (its own id and moment), or skip it; rolled back on error."""
    path = source.path
    size = path.stat().st_size
    started = time.perf_counter()
    show_hash_bar = request.show_progress and size > HASH_BAR_MIN_BYTES
    with progress_bar(show_hash_bar, size, f"sha256 {path.name}") as bar:
        checksum = sha256_file(path, bar)
    result = FileResult(
        path=path,
        file_name=path.name,
        format=source.format,
        checksum_sha256=checksum,
        bytes_read=size,
    )
    writer.begin()
    try:
        previous = None if request.reload else writer.previous_load(checksum)
        if previous is None:
            _write_load(writer, source, request, result)
        else:
            writer.rollback()
            result.status = "skipped"
            result.previous_file_name = previous.file_name
            result.previous_loaded_at = previous.loaded_at
    except BaseException as exc:
        writer.rollback()
        error = _failure(exc, path)
        if error is None:
            raise
        raise error from None
    result.seconds = time.perf_counter() - started
    return result


def _import_heavy_libraries() -> None:
    """Import them before the clock starts: rows/s measures loading only."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import tqdm  # noqa: F401


def load_files(
    settings: Settings,
    paths: Sequence[Path],
    *,
    reload: bool = False,
    uploaded_at: datetime | None = None,
    progress: bool = True,
    file_format: str | None = None,
    reader: Reader | None = None,
    writer_factory: WriterFactory | None = None,
) -> LoadSummary:
    """Load files into raw.snowplow_events of the target, one transaction per file.

    ``paths`` may name folders (their .jsonl/.ndjson/.json/.tsv/.txt files, optionally .gz,
    are loaded in name order), each file as its own load (own load id and _loaded_at).
    ``uploaded_at`` (naive = UTC; must not be in the future) is used for rows that carry none;
    by default each load's own moment. ``file_format`` (``jsonl``/``tsv``) overrides the
    extension. A file already in raw.load_log (same SHA-256) is skipped unless ``reload``.
    ``progress`` shows a tqdm bar on stderr when stderr is a terminal. ``reader`` and
    ``writer_factory`` replace how files are read and which writer is opened (default:
    :class:`Reader` and :func:`open_writer`).

    A file that fails is rolled back and raises :class:`LoadFailed` (exit code 1), whose
    message names the files before it (kept: committed) and whose ``summary`` lists them.
    """
    sources = [SourceFile(path, detect_format(path, file_format)) for path in expand_paths(paths)]
    if uploaded_at is not None:
        uploaded_at = naive_utc(uploaded_at)
        check_not_future(uploaded_at, uploaded_at.isoformat(sep=" "))
    _import_heavy_libraries()
    started = time.perf_counter()
    summary = LoadSummary(target=settings.describe(), uploaded_at=uploaded_at)
    request = LoadRequest(
        reload=reload,
        uploaded_at=uploaded_at,
        show_progress=bool(progress) and sys.stderr.isatty(),
        reader=reader or Reader(),
    )
    writer = (writer_factory or open_writer)(settings)
    try:
        for source in sources:
            try:
                result = load_one(writer, source, request)
            except UserError as exc:
                summary.failed = source.path
                summary.seconds = time.perf_counter() - started
                raise LoadFailed(f"{exc}{summary.kept_note()}", summary, exc.exit_code) from None
            summary.files.append(result)
    finally:
        writer.close()
    summary.seconds = time.perf_counter() - started
    return summary
