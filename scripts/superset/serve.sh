#!/usr/bin/env bash
# `make superset`: set up the local Superset (scripts/superset/setup.sh), write the dashboards
# bundle of the configured warehouse (`kpis dashboards`), import it and serve Superset on
# http://127.0.0.1:${SUPERSET_PORT:-8088} (user admin, password admin; Ctrl-C stops it).
# On DuckDB, run `kpis build` (or `make demo`) first: Superset reads the published
# <warehouse>_bi.duckdb. On PostgreSQL with a password, import through the UI instead (it asks
# for the password the bundle does not hold), or set it afterwards under Database Connections.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${KPIS_SUPERSET_VENV:-$ROOT/.superset/venv}
HOME_DIR=${KPIS_SUPERSET_HOME:-$ROOT/.superset/home}
PORT=${SUPERSET_PORT:-8088}
scripts/superset/setup.sh
# shellcheck source=scripts/superset/env.sh
source scripts/superset/env.sh
if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "superset: port $PORT is busy; set SUPERSET_PORT to a free port" >&2
  exit 2
fi
.venv/bin/kpis dashboards --output out/superset
log=$HOME_DIR/import.log
"$VENV/bin/superset" import-dashboards -p out/superset/telemetry_kpis_dashboards.zip -u admin \
  >"$log" 2>&1 || { echo "superset: import failed (log: $log)" >&2; exit 2; }
echo "superset: imported; serving http://127.0.0.1:$PORT/superset/dashboard/kpis-okr-dataops-os/ (admin/admin)" >&2
exec "$VENV/bin/gunicorn" --workers 1 --threads 4 --timeout 120 --bind "127.0.0.1:$PORT" \
  "superset.app:create_app()"
