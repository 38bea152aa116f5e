"""The engine-independent form of exported rows (``kpis export``), and its CSV and Parquet.

Each engine returns its own Python types for the same mart (DuckDB doubles and hugeints,
PostgreSQL numerics as Decimal, aware or naive timestamps, numpy or Python booleans): every
value becomes text by one rule per kind (see :func:`cell`), the rows are sorted by those
values, and both files are written from that text, so that the exports of one build are the
same bytes on every target.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

#: Non-integer numbers keep this many significant digits (engines differ in the last bits).
SIGNIFICANT_DIGITS = 12
#: Whole doubles below this are exact: written as integers.
_EXACT_DOUBLE = 2**53
_INT64 = 2**63


def _number(value: float | Decimal) -> str:
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if not number.is_integer():  # e.g. 24.000000000001 and 23.999999999999 are both 24
        number = float(f"{number:.{SIGNIFICANT_DIGITS}g}")
    if number.is_integer() and abs(number) < _EXACT_DOUBLE:
        return str(int(number))
    return repr(float(f"{number:.{SIGNIFICANT_DIGITS}g}"))


def _timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


def kind_of(value: Any) -> str:
    """bool, integer, number, timestamp, date, time or text (None: null)."""
    if value is None:
        return "null"
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy booleans
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "integer" if _number(value).lstrip("-").isdigit() else "number"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    return "text"


def cell(value: Any) -> str | None:
    """A value as engine-independent text (None stays None: null)."""
    kind = kind_of(value)
    if kind == "null":
        return None
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("integer", "number"):
        return str(value) if isinstance(value, int) else _number(value)
    if kind == "timestamp":
        return _timestamp(value)
    if kind in ("date", "time"):
        return str(value.isoformat())
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _column_kind(kinds: set[str]) -> str:
    """One kind per column: integer only when every value is whole (else number)."""
    kinds.discard("null")
    if not kinds:
        return "text"
    if kinds <= {"integer", "number"}:
        return "number" if "number" in kinds else "integer"
    return kinds.pop() if len(kinds) == 1 else "text"


@dataclass(frozen=True)
class Table:
    columns: list[str]
    #: per column: integer, number, bool, date, timestamp, time or text
    kinds: list[str]
    rows: list[tuple[str | None, ...]]


def _sort_key(kinds: list[str]) -> Any:
    numeric = [k in ("integer", "number") for k in kinds]

    def key(row: tuple[str | None, ...]) -> tuple:
        parts: list[tuple] = []
        for value, is_number in zip(row, numeric, strict=True):
            if value is None:
                parts.append((2,))
            elif is_number:
                parsed = Decimal(value.replace("Infinity", "Inf"))
                parts.append((1,) if parsed.is_nan() else (0, parsed))
            else:
                parts.append((0, value))
        return tuple(parts)

    return key


def normalise(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """The rows as text (see :func:`cell`), sorted by every column (numbers by value, text by
    code point, nulls last)."""
    seen: list[set[str]] = [set() for _ in columns]
    cells = []
    for row in rows:
        for i, value in enumerate(row):
            seen[i].add(kind_of(value))
        cells.append(tuple(cell(v) for v in row))
    kinds = [_column_kind(k) for k in seen]
    cells.sort(key=_sort_key(kinds))
    return Table(list(columns), kinds, cells)


def write_csv(table: Table, path: Path) -> None:
    """UTF-8, a header row, ``\\n`` line ends, quotes only where needed, null empty."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows(["" if v is None else v for v in row] for row in table.rows)


_DUCKDB_TYPES = {
    "integer": "BIGINT",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
    "text": "VARCHAR",
}


def _parquet_type(kind: str, rows: list[tuple[str | None, ...]], index: int) -> str:
    if kind == "integer" and any(
        v is not None and not -_INT64 <= int(v) < _INT64 for v in (r[index] for r in rows)
    ):
        return "DOUBLE"  # beyond BIGINT
    return _DUCKDB_TYPES[kind]


def write_parquet(table: Table, path: Path) -> None:
    """The same rows typed (DuckDB writes the file, one thread: the same bytes each time)."""
    import duckdb
    import pandas as pd

    frame = pd.DataFrame(
        [list(r) for r in table.rows],
        columns=[f"c{i}" for i in range(len(table.columns))],
        dtype=object,
    )
    selects = []
    for i, (name, kind) in enumerate(zip(table.columns, table.kinds, strict=True)):
        source = f"c{i}" if kind != "timestamp" else f"rtrim(c{i}, 'Z')"
        quoted = '"' + name.replace('"', '""') + '"'
        selects.append(f"cast({source} as {_parquet_type(kind, table.rows, i)}) as {quoted}")
    connection = duckdb.connect(":memory:")
    try:
        connection.execute("set threads = 1")
        connection.execute("set TimeZone = 'UTC'")
        connection.register("export_rows", frame)
        target = "'" + str(path).replace("'", "''") + "'"
        query = f"select {', '.join(selects)} from export_rows"
        if not table.rows:
            query = f"select {', '.join(selects)} from (select * from export_rows limit 0)"
        connection.execute(f"copy ({query}) to {target} (format parquet)")
    finally:
        connection.close()
