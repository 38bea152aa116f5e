#!/usr/bin/env bash
# Every test of the project: the pre-commit hooks (Python and SQL lint, formatting, types), and
# pytest (which builds the dbt project on a real DuckDB file, a real PostgreSQL server and a real
# local Spark, runs every dbt data and unit test on each, compares their results, and checks the
# Snowflake SQL on the fakesnow emulator; the Spark and Snowflake groups skip without their
# tools unless KPIS_REQUIRE_SPARK=1 / KPIS_REQUIRE_SNOWFLAKE=1). Uses the server in KPIS_PG_*
# when set; otherwise starts a throwaway one with scripts/dev/postgres.sh (needs Debian's
# postgresql package) and stops it at the end (a server that was already running on its port
# is left running).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/dev/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false GX_ANALYTICS_ENABLED=false DO_NOT_TRACK=1

if [ -z "${KPIS_PG_HOST:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p "${KPIS_PG_TEST_PORT:-54329}" 2>/dev/null; then
    trap 'scripts/dev/postgres.sh stop' EXIT
  fi
  eval "$(scripts/dev/postgres.sh start)"
fi

echo "== lint (pre-commit on every file: ruff, ruff format, mypy, sqlfluff, YAML, whitespace)"
scripts/dev/lint.sh

echo "== pytest (DuckDB, PostgreSQL, Spark, the Snowflake emulator)"
pytest "$@"
