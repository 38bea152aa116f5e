#!/usr/bin/env bash
# sqlfluff lint with the dbt templater, which compiles the project: on a throwaway DuckDB
# file so that linting never touches a real warehouse. Arguments: files (default: all).
set -euo pipefail
cd "$(dirname "$0")/../.."
lint_dir=$(mktemp -d)
trap 'rm -rf "$lint_dir"' EXIT
export KPIS_DUCKDB_PATH=$lint_dir/lint.duckdb DBT_TARGET=duckdb
if [ "$#" -eq 0 ]; then set -- models analyses; fi
exec .venv/bin/sqlfluff lint --processes 2 "$@"
