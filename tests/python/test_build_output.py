"""What `kpis build` prints: progress and a short result by default (dbt's full log in a
file), dbt's own log with --verbose, and for a failure the node and the command to see more.
A real build of a real DuckDB file; one build serves every check (builds are the slow part)."""

from __future__ import annotations

from pathlib import Path

from conftest import REAL_EVENTS, kpis

ANSI = "\x1b["


def test_build_output_default_verbose_and_failure(duckdb_env: dict[str, str]) -> None:
    env = duckdb_env
    # the real sample plus a little generated telemetry with unknown schema versions (a warning)
    kpis("load", str(REAL_EVENTS), env=env, check=True)
    generated = ["--projects", "3", "--days", "10", "--unknown-version-rate", "0.05", "--load"]
    kpis("generate", *generated, "--start-date", "2026-10-01", env=env, check=True)

    build = kpis("build", env=env)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    out = build.stdout
    assert ANSI not in out + build.stderr and "\r" not in out  # not a terminal: plain lines
    lines = out.splitlines()
    assert len(lines) < 40, out
    # 120 columns, but for the lines that name a path (the warehouse, the log): those are the user's
    folder = str(Path(env["KPIS_DUCKDB_PATH"]).parent)
    assert all(len(line) <= 120 for line in lines if folder not in line), out
    assert "nodes done" in lines[0]
    assert "dbt build passed" in out
    assert " models, " in out and " data tests" in out and " unit tests: " in out
    assert "1 warning" in out
    assert "  warning: test accepted_schema_versions on stg_snowplow__events" in out
    assert "kept and parsed by field name" in out  # the test's description explains it
    log = Path(env["DBT_LOG_PATH"]) / "dbt.log"
    assert f"full dbt log: {log}" in out
    text = log.read_text()
    assert ANSI not in text
    assert text.count(" START ") > 100  # dbt's per-node lines are in the file, not on screen
    assert " START " not in out

    verbose = kpis("build", "--verbose", "--select", "kpi_values", env=env)
    assert verbose.returncode == 0, verbose.stdout[-3000:]
    assert " START sql table model marts.kpi_values " in verbose.stdout
    assert ANSI not in verbose.stdout and "nodes done" not in verbose.stdout

    # a duplicate row in the published table: its unique test fails
    import duckdb

    with duckdb.connect(env["KPIS_DUCKDB_PATH"]) as con:
        con.execute("insert into marts.kpi_values select * from marts.kpi_values limit 1")
    failed = kpis("build", "--command", "test", "--select", "kpi_values", env=env)
    assert failed.returncode == 1, failed.stdout[-3000:]
    assert "dbt test FAILED" in failed.stdout
    failure = next(x for x in failed.stdout.splitlines() if x.startswith("  FAILED: "))
    assert "kpi_values" in failure and "Got 1 result" in failure, failed.stdout
    assert "see more: kpis build --verbose --select " in failed.stdout
