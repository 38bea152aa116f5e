# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv/bin
SAMPLE := data/sample.jsonl
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo setup test lint docs clean

## demo: set up .venv, generate a sample, load it into DuckDB, build the marts, print KPIs
demo: setup
	$(VENV)/kpis generate --projects 60 --days 150 --start-date 2026-06-01 --seed 7 --noise --output $(SAMPLE)
	$(VENV)/kpis load $(SAMPLE) ../shared/telemetry/real_cli_events.jsonl
	$(VENV)/kpis build
	$(VENV)/kpis summary

## setup: create .venv with the pinned dependencies
setup:
	@scripts/dev/setup.sh

## test: every test (the lint hooks, then pytest on DuckDB and PostgreSQL)
test:
	@scripts/dev/run_tests.sh

## lint: the pre-commit hooks on every file (ruff, ruff format, mypy, sqlfluff, YAML, whitespace)
lint: setup
	@scripts/dev/lint.sh

## docs: generate the dbt docs site (target/index.html)
docs: setup
	$(VENV)/kpis build --command docs

clean:
	rm -rf target logs data telemetry_kpis.duckdb out
