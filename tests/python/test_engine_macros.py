"""Engine differences live only in macros/engine/, and every engine there is complete.

* Every macro dispatched in macros/engine/ has a version for each supported engine (DuckDB,
  PostgreSQL, Spark, Snowflake) and a ``default__`` that fails at compile time naming the macro
  to write (engine_not_implemented with its own name).
* The models, the business-rule macros and the data tests contain no engine-specific SQL: none
  of the constructs below, which only some engines read, and no branch on the adapter.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO

ENGINES = ("duckdb", "postgres", "spark", "snowflake")
ENGINE_MACROS = sorted((REPO / "macros" / "engine").glob("*.sql"))

#: constructs that only some engines read (each found in this project's history or the docs)
ENGINE_SPECIFIC = {
    "a :: cast": r"::",
    "double precision (Spark: double)": r"\bdouble\s+precision\b",
    "a `not materialized` CTE": r"\bnot\s+materialized\b",
    "DuckDB JSON functions": r"\bjson_(extract|transform|valid|type)\w*\s*\(",
    "PostgreSQL JSON operators or types": r"->>|#>|\bas\s+jsonb?\b|\bjsonb?_\w+\s*\(",
    "Spark JSON functions": r"\b(try_parse_json|get_json_object|variant_get|try_variant_get)\s*\(",
    "extract(epoch ...)": r"\bextract\s*\(\s*epoch\b",
    "generate_series": r"\bgenerate_series\s*\(",
    "a regular expression operator": r"\brlike\b|\bregexp_\w+\s*\(|\s~\*?\s",
    "an engine's hash function": r"\b(sha2|sha256|md5)\s*\(",
    "DuckDB list functions": r"\b(list_\w+|unnest|generate_subscripts)\s*\(",
    "a branch on the adapter": r"\b(adapter\.type\(\)|target\.type)\b",
}

#: where engine-specific SQL must not be (engine macros are the one place it belongs)
CHECKED_SQL = sorted(
    [
        *(REPO / "models").rglob("*.sql"),
        *(REPO / "macros" / "rules").rglob("*.sql"),
        *(REPO / "tests").glob("*/*.sql"),
    ]
)


def _plain_sql(sql: str) -> str:
    """The SQL text itself: without comments, string literals and Jinja (macro calls are where
    engine differences belong; a Jinja string holding SQL is checked by its rendered model on
    each engine's tests)."""
    sql = re.sub(r"\{#.*?#\}", "", sql, flags=re.S)
    sql = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", sql, flags=re.S)
    sql = re.sub(r"'[^']*'", "''", sql)  # string literals: text, not SQL
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def _dispatched(path: Path) -> list[str]:
    return re.findall(r"adapter\.dispatch\(\s*'(\w+)'\s*,\s*'telemetry_kpis'", path.read_text())


def test_every_engine_macro_has_every_engine() -> None:
    names = [name for path in ENGINE_MACROS for name in _dispatched(path)]
    assert len(names) >= 30, names
    text = "\n".join(path.read_text() for path in ENGINE_MACROS)
    missing = [
        f"{engine}__{name}"
        for name in names
        for engine in ENGINES
        if not re.search(rf"{{%-?\s*macro\s+{engine}__{name}\s*\(", text)
    ]
    assert not missing, f"engine macros without a version: {missing}"


@pytest.mark.parametrize("path", ENGINE_MACROS, ids=lambda path: path.name)
def test_default_versions_fail_naming_the_macro(path: Path) -> None:
    text = path.read_text()
    for name in _dispatched(path):
        body = re.search(
            rf"{{%-?\s*macro\s+default__{name}\s*\(.*?%}}(.*?){{%-?\s*endmacro", text, re.S
        )
        assert body, f"{path.name}: no default__{name}"
        assert f"engine_not_implemented('{name}')" in body.group(1), (
            f"{path.name}: default__{name} must call engine_not_implemented('{name}')"
        )


@pytest.mark.parametrize("path", CHECKED_SQL, ids=lambda path: str(path.relative_to(REPO)))
def test_no_engine_specific_sql_outside_engine_macros(path: Path) -> None:
    sql = _plain_sql(path.read_text())
    found = [label for label, pattern in ENGINE_SPECIFIC.items() if re.search(pattern, sql, re.I)]
    assert not found, f"{path.relative_to(REPO)}: {found} (put it in a macro of macros/engine/)"
