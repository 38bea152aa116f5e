"""What a load reports: one result per file, the run's summary, and the failure of a file.

The texts here are the lines ``kpis load`` prints, and the Python API returns the same
objects, so a caller can tell what was loaded, skipped or kept after a failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from telemetry_kpis.errors import UserError

#: How many rejected lines the summary names per file.
REJECT_SAMPLES = 5
#: How many kept files the message of a failure names.
_KEPT_NAMES = 5


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (its type when it has none): messages stay one line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class FileResult:
    """What happened to one file."""

    path: Path
    file_name: str
    format: str
    checksum_sha256: str
    status: str = "loaded"  # "loaded" or "skipped" (already loaded)
    #: the load this file made (None when skipped) and its moment (_loaded_at, naive UTC)
    load_id: int | None = None
    loaded_at: datetime | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    #: reason -> count of rejected lines
    reject_reasons: dict[str, int] = field(default_factory=dict)
    #: the first rejected lines: (1-based line number, reason)
    reject_samples: list[tuple[int, str]] = field(default_factory=list)
    bytes_read: int = 0
    seconds: float = 0.0
    #: for a skipped file: the name it was loaded under and when
    previous_file_name: str | None = None
    previous_loaded_at: datetime | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows_loaded / self.seconds if self.seconds > 0 else 0.0

    def count_rejects(self, rejects: Iterable[tuple[int, str]]) -> None:
        """Count rejected lines (line number, reason), keeping the first ones as samples."""
        for number, reason in rejects:
            self.rows_rejected += 1
            self.reject_reasons[reason] = self.reject_reasons.get(reason, 0) + 1
            if len(self.reject_samples) < REJECT_SAMPLES:
                self.reject_samples.append((number, reason))

    def describe(self) -> str:
        if self.status == "skipped":
            return self._describe_skipped()
        text = (
            f"{self.file_name}: loaded {self.rows_loaded:,} rows, rejected {self.rows_rejected:,}"
        )
        if self.reject_samples:
            shown = ", ".join(f"line {n}: {reason}" for n, reason in self.reject_samples)
            more = self.rows_rejected - len(self.reject_samples)
            text += f" ({shown}{f', and {more:,} more' if more > 0 else ''})"
        text += (
            f" [{self.format}, load {self.load_id}, "
            f"{self.bytes_read / 1e6:,.1f} MB in {self.seconds:.1f} s, "
            f"{self.rows_per_second:,.0f} rows/s]"
        )
        return text

    def _describe_skipped(self) -> str:
        when = (
            f" at {self.previous_loaded_at:%Y-%m-%d %H:%M:%S} UTC"
            if self.previous_loaded_at
            else ""
        )
        return (
            f"{self.file_name}: skipped, already loaded (sha256 {self.checksum_sha256[:12]}, "
            f"as {self.previous_file_name}{when}); use --reload to load it again"
        )


@dataclass
class LoadSummary:
    """The result of :func:`load_files`: one :class:`FileResult` per path, in order.

    ``uploaded_at`` is the ``--uploaded-at`` given (None: each load's own moment). When a
    file failed, ``failed`` names it and ``files`` holds the files before it (kept).
    """

    target: str
    uploaded_at: datetime | None
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    failed: Path | None = None

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def files_loaded(self) -> int:
        return sum(1 for f in self.files if f.status == "loaded")

    @property
    def files_skipped(self) -> int:
        return sum(1 for f in self.files if f.status == "skipped")

    @property
    def rows_per_second(self) -> float:
        return self.rows_loaded / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        out = [f.describe() for f in self.files]
        if self.failed is not None:
            out.append(
                f"kept: {self.rows_loaded:,} rows loaded, {self.rows_rejected:,} rejected, "
                f"{self.files_loaded} file(s) loaded, {self.files_skipped} skipped before "
                f"{self.failed.name} failed (these loads stay committed), in {self.seconds:.1f} s "
                f"into {self.target}"
            )
            return out
        out.append(
            f"total: {self.rows_loaded:,} rows loaded, {self.rows_rejected:,} rejected, "
            f"{self.files_loaded} file(s) loaded, {self.files_skipped} skipped, "
            f"in {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s) into {self.target}"
        )
        return out

    def kept_note(self) -> str:
        """What stays loaded when a file fails: the files before it (empty when none)."""
        kept = [f for f in self.files if f.status == "loaded"]
        if not kept:
            return ""
        names = ", ".join(f.file_name for f in kept[:_KEPT_NAMES])
        if len(kept) > _KEPT_NAMES:
            names += ", ..."
        return (
            f"; the {len(kept)} file(s) loaded before it were kept ({names}: "
            f"{self.rows_loaded:,} rows)"
        )


class LoadFailed(UserError):
    """A file failed and was rolled back; the files before it stay loaded.

    ``summary`` is the partial :class:`LoadSummary` (``failed`` set, ``files`` = the files
    handled before the failure); the message names the failed file and the kept ones.
    """

    def __init__(self, message: str, summary: LoadSummary, exit_code: int = 1) -> None:
        super().__init__(message, exit_code=exit_code)
        self.summary = summary
