#!/usr/bin/env bash
# Every test of the project: Python lint, SQL lint, and pytest (which builds the dbt project on a
# real DuckDB file and a real PostgreSQL server, runs every dbt data and unit test on both, and
# compares their results). Uses the server in KPIS_PG_* when set; otherwise starts a throwaway
# one with scripts/dev/postgres.sh (needs Debian's postgresql package).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/dev/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false GX_ANALYTICS_ENABLED=false DO_NOT_TRACK=1

if [ -z "${KPIS_PG_HOST:-}" ]; then
  eval "$(scripts/dev/postgres.sh start)"
fi

echo "== ruff (Python lint)"
ruff check scripts tests

echo "== sqlfluff (SQL lint, dbt templater on DuckDB)"
lint_db=$(mktemp -d)/lint.duckdb
KPIS_DUCKDB_PATH=$lint_db DBT_TARGET=duckdb sqlfluff lint models analyses --processes 2

echo "== pytest (DuckDB and PostgreSQL)"
pytest "$@"
