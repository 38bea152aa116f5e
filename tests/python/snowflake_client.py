"""Test helper run by the Snowflake venv's Python (tests/python/test_snowflake.py): talks to the
fakesnow emulator through the real Snowflake connector, and checks Snowflake SQL with sqlglot.

    snowflake_client.py load PORT RAW_JSON   create schema raw and its tables, insert the rows
    snowflake_client.py query PORT SQL       print the rows of a query as JSON (columns, rows)
    snowflake_client.py parse FOLDER         print, as JSON, every .sql file under FOLDER that
                                             sqlglot cannot parse as Snowflake SQL, with the error

RAW_JSON maps each raw table to its ``columns``, SQL ``types`` and ``rows`` (timestamps as ISO
text), as exported from the DuckDB warehouse by the test. Identifiers are unquoted, so they are
Snowflake's upper-case names, which the models' unquoted names resolve to.
"""

from __future__ import annotations

import datetime
import decimal
import json
import sys
from pathlib import Path
from typing import Any

import snowflake.connector

snowflake.connector.paramstyle = "qmark"  # server-side binding: values are never SQL text


def _connect(port: int) -> Any:
    return snowflake.connector.connect(
        host="127.0.0.1",
        port=port,
        protocol="http",
        account="fakesnow",
        user="fake",
        password="snow",
        database="kpis",
        schema="public",
    )


def load(port: int, raw_json: Path) -> None:
    tables = json.loads(raw_json.read_text())
    with _connect(port) as connection, connection.cursor() as cursor:
        cursor.execute("create schema if not exists raw")
        for table, spec in tables.items():
            typed = list(zip(spec["columns"], spec["types"], strict=True))
            columns = ", ".join(f"{c} {t}" for c, t in typed)
            cursor.execute(f"create or replace table raw.{table} ({columns})")
            # One statement per table: the rows as one bound JSON array, flattened (binding
            # thousands of values, or one statement per row, takes seconds on the emulator).
            reads = ", ".join(f'cast(rows.value:"{c}" as {t})' for c, t in typed)
            cursor.execute(
                f"insert into raw.{table} select {reads} "
                "from table(flatten(input => parse_json(?))) as rows",
                [json.dumps([dict(zip(spec["columns"], r, strict=True)) for r in spec["rows"]])],
            )
            cursor.execute(f"select count(*) from raw.{table}")
            count = cursor.fetchone()[0]
            if count != len(spec["rows"]):
                raise SystemExit(f"raw.{table}: {count} rows on fakesnow, {len(spec['rows'])} sent")


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def query(port: int, sql: str) -> None:
    with _connect(port) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        columns = [column[0].lower() for column in cursor.description]
        rows = [[_plain(value) for value in row] for row in cursor.fetchall()]
    json.dump({"columns": columns, "rows": rows}, sys.stdout)


def parse(folder: Path) -> None:
    import sqlglot

    failures = {}
    for path in sorted(folder.rglob("*.sql")):
        try:
            sqlglot.parse_one(path.read_text(), read="snowflake")
        except sqlglot.errors.SqlglotError as error:
            failures[str(path.relative_to(folder))] = str(error)[:2000]
    json.dump(failures, sys.stdout)


def main(argv: list[str]) -> int:
    command, *arguments = argv
    if command == "load":
        load(int(arguments[0]), Path(arguments[1]))
    elif command == "query":
        query(int(arguments[0]), arguments[1])
    elif command == "parse":
        parse(Path(arguments[0]))
    else:
        raise SystemExit(f"unknown command {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
