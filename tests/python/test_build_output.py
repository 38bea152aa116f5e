"""What `kpis build` prints: progress and a short result by default (dbt's full log in a
file), dbt's own log with --verbose, and for a failure the node and the command to see more.
A real build of a real DuckDB file; one build serves every check (builds are the slow part)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

from conftest import REAL_EVENTS, kpis

from telemetry_kpis.build_output import Progress

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
    # dbt's own total overcounts (unit tests); the last progress line has the real count
    counts = [re.search(r"(\d+)/(\d+) nodes done", x) for x in lines if "nodes done" in x]
    assert all(counts) and counts[0][1] == "0", out  # type: ignore[index]
    assert counts[-1][1] == counts[-1][2] and int(counts[-1][1]) > 200, out  # type: ignore[index]
    assert len(counts) <= 6, out  # plain output: a line at the start, each quarter, the end
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


def _event(name: str, **data: int) -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(progress: Progress, total: int, nodes: int) -> str:
    for index in range(1, nodes + 1):
        progress(_event("LogStartLine", index=index, total=total))
        progress(_event("NodeFinished"))
    progress.finish()
    stream = progress.stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def test_progress_plain_is_a_few_lines_ending_on_the_real_count() -> None:
    out = _run(Progress(stream=io.StringIO()), total=120, nodes=100)
    assert "\r" not in out and ANSI not in out
    done = [line.split()[2] for line in out.splitlines()]
    assert done == ["0/120", "30/120", "60/120", "90/120", "100/100"], out


def test_progress_on_a_terminal_rewrites_one_line() -> None:
    out = _run(Progress(stream=_Terminal()), total=12, nodes=9)
    assert out.count("\n") == 1 and out.endswith("\n")
    assert out.count("\r") == 11  # the start, each node, the end
    last = out.rstrip("\n").split("\r")[-1]
    assert last.startswith("kpis build: 9/9 nodes done"), repr(out)


def test_bad_vars_refused_before_dbt(duckdb_env: dict[str, str]) -> None:
    result = kpis("build", "--vars", "{as_of_date: [", env=duckdb_env)
    assert result.returncode == 2
    assert "--vars is not valid YAML" in result.stderr + result.stdout
    assert ANSI not in result.stderr + result.stdout


def test_unreachable_warehouse_is_one_line_before_dbt(duckdb_env: dict[str, str]) -> None:
    """The warehouse is checked through the bare driver (no SQLAlchemy) before dbt starts."""
    missing = kpis("build", env=duckdb_env)  # no file yet
    closed_port = kpis(
        "build",
        env={**duckdb_env, "DBT_TARGET": "postgres", "KPIS_PG_HOST": "127.0.0.1",
             "KPIS_PG_PORT": "9"},
    )  # fmt: skip
    for result, expected in [
        (missing, "does not exist: load events with `kpis load` first"),
        (closed_port, "cannot reach PostgreSQL"),
    ]:
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "Running with dbt" not in result.stdout
