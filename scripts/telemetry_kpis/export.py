"""``kpis export``: one marts table to a CSV or Parquet file, the same bytes on every target.

The rows are read with the marts readers (any target), normalised by :mod:`export_format`
(engine-independent text for every value, rows sorted by all columns) and written under a
temporary name, then swapped in with ``os.replace``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from telemetry_kpis.errors import UserError

HELP = "export a marts table (default kpi_values) to a CSV or Parquet file"
DESCRIPTION = """\
Export one table of the marts schema (what `kpis build` publishes, e.g. kpi_values) from the
warehouse chosen by DBT_TARGET to a CSV or Parquet file.

The output is deterministic and the same on every target (DuckDB, PostgreSQL, Spark): the
exports of the same build compare equal byte for byte.
  columns   the model's columns, in the model's order (a header row in CSV)
  rows      sorted by every column, first to last (nulls last)
  values    dates YYYY-MM-DD; timestamps ISO 8601 in UTC (YYYY-MM-DDTHH:MM:SS[.ffffff]Z);
            booleans true/false; whole numbers without a decimal point; other numbers
            rounded to 12 significant digits (Python's repr of that double, e.g. 0.885,
            1e-07); text as stored; null is an empty field in CSV
  Parquet   the same values typed: whole-number columns BIGINT, other numbers DOUBLE,
            booleans, dates, timestamps (UTC), text VARCHAR (and a column of only nulls)
The file is written under a temporary name next to it and renamed when complete.

examples:
  kpis export --output out/kpi_values.csv
  kpis export --model kpi_values_by_segment --output out/segments.parquet
  DBT_TARGET=postgres kpis export --output pg.csv && cmp pg.csv out/kpi_values.csv
"""

FORMATS = ("csv", "parquet")
#: file suffix -> format (when --format is not given)
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default="kpi_values",
        metavar="NAME",
        help="the marts table to export (default: kpi_values)",
    )
    parser.add_argument(
        "--output", "-o", required=True, type=Path, metavar="PATH", help="the file to write"
    )
    parser.add_argument(
        "--format",
        dest="file_format",
        metavar="FORMAT",
        help="csv or parquet (default: from the suffix of PATH: .csv, .parquet or .pq)",
    )


def output_format(path: Path, option: str | None) -> str:
    """The format asked for, or the one of the file's suffix; one line when neither fits."""
    if option is not None:
        fmt = option.strip().lower()
        if fmt not in FORMATS:
            raise UserError(f"--format {option!r} is not supported (expected csv or parquet)")
        return fmt
    by_suffix = SUFFIXES.get(path.suffix.lower())
    if by_suffix is None:
        raise UserError(
            f"cannot tell the format of {path} from its suffix: name it .csv or .parquet, "
            "or pass --format csv|parquet"
        )
    return by_suffix


def check_writable(path: Path) -> None:
    """Fail early (before reading the warehouse) when ``path`` cannot be written."""
    if path.is_dir():
        raise UserError(f"cannot write {path}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"cannot write {path}: permission denied")


def read_model(model: str) -> tuple[str, list[str], list[tuple]]:
    """(where, columns, rows) of ``marts.<model>`` on the configured target."""
    from telemetry_kpis.marts import MARTS_SCHEMA, read_marts_columns, read_table_rows
    from telemetry_kpis.settings import Settings

    settings = Settings.from_env()
    engine = settings.marts_engine(must_exist=True)
    try:
        tables = read_marts_columns(engine)
        if not tables:
            raise UserError(
                f"{settings.describe()} has no {MARTS_SCHEMA} tables: run `kpis build` first"
            )
        if model not in tables:
            raise UserError(
                f"unknown model {model!r}: the exportable {MARTS_SCHEMA} models are "
                f"{', '.join(sorted(tables))}"
            )
        columns = tables[model]
        rows = read_table_rows(engine, model, columns)
    finally:
        engine.dispose()
    return settings.describe(), columns, rows


def run(args: argparse.Namespace) -> int:
    from telemetry_kpis.export_format import normalise, write_csv, write_parquet

    path: Path = args.output
    fmt = output_format(path, args.file_format)
    check_writable(path)
    where, columns, rows = read_model(args.model)
    table = normalise(columns, rows)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt == "csv":
            write_csv(table, temporary)
        else:
            write_parquet(table, temporary)
        os.replace(temporary, path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        temporary.unlink(missing_ok=True)
    print(
        f"kpis export: wrote {len(table.rows):,} rows of marts.{args.model} from {where} to {path}"
    )
    return 0
