"""A local Snowflake emulator for the ``snowflake_emulator`` dbt target (tests, smoke runs).

Run it with the Snowflake venv (``make setup-snowflake``)::

    .snowflake/venv/bin/python scripts/snowflake/fakesnow_server.py PORT

It is fakesnow 0.12.1's HTTP server (Snowflake SQL translated by sqlglot and run by an in-memory
DuckDB) with shims for Snowflake SQL that the package uses and fakesnow lacks or mishandles, each
giving Snowflake's documented meaning:

- ``is_object(v)`` and ``is_varchar(v)``: DuckDB macros on ``json_type`` (fakesnow has neither);
- ``filter(cast(v as array), x -> ...)``: fakesnow turns every ARRAY type into JSON, which
  DuckDB's list_filter refuses; the cast inside a FILTER becomes ``JSON[]`` (a list of JSON);
- ``comment on table ... is $$...'...$$`` (dbt's persist_docs): fakesnow pastes the comment
  into its own SQL unescaped, so a quote in a model description broke it; quotes are doubled;
- ``alter table ... alter "COLUMN" comment $$...$$`` (dbt's persist_docs for columns): fakesnow
  cannot parse it; it is accepted and ignored (column descriptions are not stored);
- a statement fakesnow cannot run answered HTTP 500, which the Snowflake connector retries
  without end (dbt hangs); it is answered as a failed query instead (the connector raises).

The emulator runs Snowflake SQL with DuckDB's semantics: a smoke test, not proof.
"""

from __future__ import annotations

import sys
from typing import Any

import fakesnow.info_schema
import fakesnow.macros
import fakesnow.server
import fakesnow.transforms
import uvicorn
from sqlglot import exp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

#: Statements fakesnow accepts without running them (matched case-insensitively at the start).
_NOP_REGEXES = [r'\s*alter\s+table\s+\S+\s+alter\s+"[^"]+"\s+comment\s']

_SHIM_MACROS = """
CREATE OR REPLACE MACRO {catalog}.is_object(v) AS json_type(v) = 'OBJECT';
CREATE OR REPLACE MACRO {catalog}.is_varchar(v) AS json_type(v) = 'VARCHAR';
"""


def _install_shims() -> None:
    creation_sql = fakesnow.macros.creation_sql
    semi_structured_types = fakesnow.transforms.semi_structured_types

    def creation_sql_with_shims(catalog: str) -> str:
        return creation_sql(catalog) + _SHIM_MACROS.format(catalog=catalog)

    def array_filter_input_as_list(expression: Any) -> Any:
        if (
            isinstance(expression, exp.DataType)
            and expression.this == exp.DataType.Type.ARRAY
            and expression.find_ancestor(exp.ArrayFilter) is not None
        ):
            return exp.DataType.build("JSON[]", dialect="duckdb")
        return semi_structured_types(expression)

    insert_table_comment_sql = fakesnow.info_schema.insert_table_comment_sql

    def insert_table_comment_sql_quoted(catalog: str, schema: str, table: str, comment: Any) -> str:
        quoted = comment.replace("'", "''") if isinstance(comment, str) else comment
        return insert_table_comment_sql(catalog, schema, table, quoted)

    query_request = fakesnow.server.query_request

    async def query_request_failing_fast(request: Request) -> Response:
        response: Response = await query_request(request)
        if response.status_code == 500:
            response.status_code = 200  # the body already says success: false, with the error
        return response

    fakesnow.macros.creation_sql = creation_sql_with_shims
    fakesnow.transforms.semi_structured_types = array_filter_input_as_list
    fakesnow.info_schema.insert_table_comment_sql = insert_table_comment_sql_quoted
    fakesnow.server.shared_fs.nop_regexes = _NOP_REGEXES
    routes = fakesnow.server.app.router.routes
    for index, route in enumerate(routes):
        if isinstance(route, Route) and route.path == "/queries/v1/query-request":
            routes[index] = Route(route.path, query_request_failing_fast, methods=["POST"])


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: fakesnow_server.py PORT", file=sys.stderr)
        return 2
    _install_shims()
    print(f"fakesnow: listening on 127.0.0.1:{argv[0]}", file=sys.stderr, flush=True)
    # uvicorn stops on SIGINT and SIGTERM
    uvicorn.run(fakesnow.server.app, host="127.0.0.1", port=int(argv[0]), log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
