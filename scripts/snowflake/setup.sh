#!/usr/bin/env bash
# Snowflake tooling (`make setup-snowflake`) in its own venv: dbt-snowflake and the fakesnow
# emulator (Snowflake SQL run by DuckDB 2.0, translated by sqlglot) pin versions that the
# package's .venv cannot share (duckdb 2.0 vs the package's 1.5.6).
#   scripts/snowflake/setup.sh        # idempotent: installs once (stamp file), ~5 s with uv
# Installs into $KPIS_SNOWFLAKE_VENV (default .snowflake/venv, git-ignored). Uses uv when on
# PATH (or in .venv), else pip. Used by tests/python/test_snowflake.py and DBT_TARGET=snowflake
# or snowflake_emulator (profiles.yml).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${KPIS_SNOWFLAKE_VENV:-$ROOT/.snowflake/venv}
PYTHON=${PYTHON:-python3}
PINS=(
  "dbt-core==1.11.16"          # the package's version (dbt_project.yml: >=1.11,<1.12)
  "dbt-snowflake==1.11.6"
  "snowflake-connector-python==4.8.0"
  "fakesnow[server]==0.12.1"   # python -m fakesnow -s -p PORT: a local Snowflake emulator
  "duckdb==2.0.1"              # fakesnow's engine
  "sqlglot==30.22.0"           # fakesnow's translator; also the syntax check of the test
)
stamp_text=$(printf '%s\n' "${PINS[@]}" | sha256sum | cut -c1-16)
fail() { echo "snowflake setup: $*" >&2; exit 2; }

if [ -f "$VENV/.installed-$stamp_text" ]; then exit 0; fi
started=$SECONDS
echo "snowflake setup: installing dbt-snowflake and fakesnow into $VENV" >&2
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || fail "cannot create $VENV"
UV=$(command -v uv || true)
[ -z "$UV" ] && [ -x .venv/bin/uv ] && UV=$ROOT/.venv/bin/uv
if [ -n "$UV" ]; then
  "$UV" pip install --quiet --python "$VENV/bin/python" "${PINS[@]}" \
    || fail "installing failed (uv pip install ${PINS[*]})"
else
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" \
    || fail "installing failed (pip install ${PINS[*]})"
fi
rm -f "$VENV"/.installed-*
touch "$VENV/.installed-$stamp_text"
echo "snowflake setup: ready in $((SECONDS - started)) s ($VENV/bin/dbt, fakesnow)" >&2
