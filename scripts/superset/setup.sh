#!/usr/bin/env bash
# A local Apache Superset 6.1 for the generated dashboards (`make superset`), in its own venv:
# Superset pins sqlalchemy<2, pandas<2.2 and numpy<2.3, which the package's .venv cannot share.
#   scripts/superset/setup.sh        # idempotent: installs once, initialises once
# Installs into $KPIS_SUPERSET_VENV (default .superset/venv) and keeps its metadata (SQLite),
# config and admin user in $KPIS_SUPERSET_HOME (default .superset/home); both are git-ignored.
# Uses uv when on PATH (or in .venv), else pip. The admin is admin/admin: a local tool only.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${KPIS_SUPERSET_VENV:-$ROOT/.superset/venv}
HOME_DIR=${KPIS_SUPERSET_HOME:-$ROOT/.superset/home}
PYTHON=${PYTHON:-python3}
PINS=(
  "apache-superset[postgres,duckdb]==6.1.0"
  "flask-caching<2.5"   # 2.5 breaks Superset's app start
  "rich" "cachetools"   # imported by Superset, not declared
  "duckdb==1.5.6"       # the package's version: both must read the same file format
)
stamp_text=$(printf '%s\n' "${PINS[@]}" | sha256sum | cut -c1-16)
fail() { echo "superset setup: $*" >&2; exit 2; }

if [ ! -f "$VENV/.installed-$stamp_text" ]; then
  started=$SECONDS
  echo "superset setup: installing Apache Superset 6.1.0 into $VENV" >&2
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || fail "cannot create $VENV"
  UV=$(command -v uv || true)
  [ -z "$UV" ] && [ -x .venv/bin/uv ] && UV=$ROOT/.venv/bin/uv
  if [ -n "$UV" ]; then
    "$UV" pip install --quiet --python "$VENV/bin/python" "${PINS[@]}" \
      || fail "installing Superset failed (uv pip install ${PINS[*]})"
  else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" \
      || fail "installing Superset failed (pip install ${PINS[*]})"
  fi
  rm -f "$VENV"/.installed-*
  touch "$VENV/.installed-$stamp_text"
  echo "superset setup: installed in $((SECONDS - started)) s" >&2
fi

mkdir -p "$HOME_DIR"
# shellcheck source=scripts/superset/env.sh
source scripts/superset/env.sh
if [ ! -f "$HOME_DIR/.initialised" ]; then
  started=$SECONDS
  echo "superset setup: initialising the metadata database in $HOME_DIR" >&2
  log=$HOME_DIR/setup.log
  {
    "$VENV/bin/superset" db upgrade
    "$VENV/bin/superset" fab create-admin --username admin --firstname Admin \
      --lastname KPIs --email admin@localhost --password admin
    "$VENV/bin/superset" init
  } >"$log" 2>&1 || fail "initialising Superset failed (log: $log)"
  touch "$HOME_DIR/.initialised"
  echo "superset setup: initialised in $((SECONDS - started)) s" >&2
fi
echo "superset setup: ready ($VENV/bin/superset, home $HOME_DIR, user admin/admin)" >&2
