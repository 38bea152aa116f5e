#!/usr/bin/env bash
# Add Apache Spark (dbt-spark session mode, pyspark 4.3) to .venv: the optional `spark` extra
# of pyproject.toml (~20 s with uv, ~560 MB). Needs Java 17 (Debian: openjdk-17-jre-headless).
# Then DBT_TARGET=spark selects the local Spark warehouse in KPIS_SPARK_DIR (default data/spark).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/dev/setup.sh
if ! command -v java >/dev/null 2>&1; then
  echo "setup-spark: Java is missing: install Java 17 (Debian: apt-get install openjdk-17-jre-headless)" >&2
  exit 1
fi
UV=$(command -v uv || true)
[ -z "$UV" ] && [ -x .venv/bin/uv ] && UV=.venv/bin/uv
if [ -n "$UV" ]; then
  "$UV" pip install --quiet --python .venv/bin/python -e '.[dev,spark]'
else
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
fi
echo "setup-spark: pyspark $(.venv/bin/python -c 'import pyspark; print(pyspark.__version__)') ready in .venv" >&2
