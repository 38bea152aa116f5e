#!/usr/bin/env bash
# `make demo`: a clean DuckDB warehouse (./telemetry_kpis.duckdb) holding a generated sample of
# 150 days that ends yesterday (plus the real CLI sample when ../shared/telemetry has it), its
# marts built, and the KPI summary. Re-running starts over: the demo warehouse and data/demo/
# are replaced, nothing else is touched. KPIS_DEMO_WAREHOUSE and KPIS_DEMO_DATA move them (tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
kpis=.venv/bin/kpis
warehouse=${KPIS_DEMO_WAREHOUSE:-telemetry_kpis.duckdb}
data=${KPIS_DEMO_DATA:-data/demo}
export DBT_TARGET=duckdb KPIS_DUCKDB_PATH="$warehouse"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false GX_ANALYTICS_ENABLED=false DO_NOT_TRACK=1

echo "demo: starting from a clean warehouse (removing $warehouse and $data/)"
rm -rf "$warehouse" "$warehouse.wal" "$warehouse.tmp" "$data"

sample=$data/sample.jsonl.gz
"$kpis" generate --projects 30 --days 150 --end-date yesterday --seed 7 \
  --noise --output "$sample"
files=("$sample")
real=../shared/telemetry/real_cli_events.jsonl
if [ -f "$real" ]; then files=("$real" "$sample"); fi
"$kpis" load "${files[@]}"
"$kpis" build
"$kpis" summary
cat <<'NEXT'

demo: done. Next: `source .venv/bin/activate`, then `kpis check` (key results and health
metrics), `kpis report` (out/report/index.html), `kpis metrics`; README, "Using it".
NEXT
