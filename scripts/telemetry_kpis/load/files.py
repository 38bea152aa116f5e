"""The input files of a load: which files a path names, their format and their checksum."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from telemetry_kpis.errors import UserError
from telemetry_kpis.load.progress import ProgressBar

#: File-name suffixes (before an optional ``.gz``) and the format they mean.
FORMAT_SUFFIXES: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".tsv": "tsv",
    ".txt": "tsv",
}
FORMATS = ("jsonl", "tsv")

#: Bytes hashed at a time.
_HASH_BLOCK = 4 * 1024 * 1024


def detect_format(path: Path, override: str | None = None) -> str:
    """``jsonl`` or ``tsv``: the override, else the file's extension (before ``.gz``)."""
    if override:
        if override not in FORMATS:
            raise UserError(f"unknown format {override!r} (expected jsonl or tsv)")
        return override
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in FORMAT_SUFFIXES:
        return FORMAT_SUFFIXES[suffixes[-1]]
    raise UserError(
        f"cannot tell the format of {path} from its name (expected .jsonl, .ndjson, .json, "
        ".tsv or .txt, optionally .gz): use --format jsonl or --format tsv"
    )


def _known_suffix(path: Path) -> bool:
    try:
        detect_format(path)
    except UserError:
        return False
    return True


def expand_paths(paths: Sequence[Path | str]) -> list[Path]:
    """Files to load: each path as given, or a folder's recognised files (sorted).

    A missing path is a :class:`UserError` naming it (checked before anything is loaded).
    """
    files: list[Path] = []
    missing = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and _known_suffix(p) and not p.name.startswith(".")
            )
            if not found:
                raise UserError(f"folder {path} has no .jsonl/.ndjson/.json/.tsv/.txt(.gz) files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(path))
    if missing:
        raise UserError(f"no such file: {', '.join(missing)}")
    return files


def sha256_file(path: Path, progress: ProgressBar | None = None) -> str:
    """The SHA-256 of the file's bytes (its identity in raw.load_log, whatever its name).

    ``progress`` (a bar) is told how many bytes were hashed.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
            if progress is not None:
                progress.update(len(block))
    return digest.hexdigest()
