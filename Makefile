# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv/bin
DOCS_PORT ?= 8080
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo setup setup-spark setup-snowflake test lint docs clean screenshot superset superset-setup

## demo: set up .venv, start a clean ./telemetry_kpis.duckdb, load a sample that ends yesterday,
## build the marts, print the KPIs (re-running replaces the demo warehouse and data/demo/)
demo: setup
	@scripts/dev/demo.sh

## setup: create .venv with the pinned dependencies
setup:
	@scripts/dev/setup.sh

## setup-spark: add Apache Spark (dbt-spark session mode, pyspark; needs Java 17) to .venv,
## for DBT_TARGET=spark
setup-spark:
	@scripts/dev/setup_spark.sh

## setup-snowflake: dbt-snowflake and the fakesnow emulator in their own venv (.snowflake/venv),
## for DBT_TARGET=snowflake or snowflake_emulator (.snowflake/venv/bin/dbt) and the tests
setup-snowflake:
	@scripts/snowflake/setup.sh

## test: every test (the lint hooks, then pytest on DuckDB and PostgreSQL)
test:
	@scripts/dev/run_tests.sh

## lint: the pre-commit hooks on every file (ruff, ruff format, mypy, sqlfluff, YAML, whitespace)
lint: setup
	@scripts/dev/lint.sh

## docs: generate the dbt docs site and serve it on http://127.0.0.1:$(DOCS_PORT)/ (Ctrl-C stops)
docs: setup
	$(VENV)/kpis build --command docs
	@echo "docs: open http://127.0.0.1:$(DOCS_PORT)/ (Ctrl-C stops the server)"
	$(VENV)/dbt docs serve --project-dir . --profiles-dir . --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

## screenshot: regenerate the README's report screenshot from the current warehouse (after make demo)
screenshot: setup
	@scripts/dev/screenshot.sh

## superset: a local Apache Superset (own venv in .superset/) with the generated dashboards
## imported, on http://127.0.0.1:8088 (admin/admin; after make demo or kpis build)
superset: setup
	@scripts/superset/serve.sh

## superset-setup: only install and initialise the local Superset (.superset/venv, .superset/home)
superset-setup:
	@scripts/superset/setup.sh

## clean: remove everything the demo and builds wrote (data/, the DuckDB warehouse, target/, logs/, out/)
clean:
	rm -rf target logs data telemetry_kpis.duckdb telemetry_kpis.duckdb.wal telemetry_kpis.duckdb.tmp telemetry_kpis_bi.duckdb out
