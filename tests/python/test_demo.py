"""A new user's first hour: `make demo` (scripts/dev/demo.sh), twice, then the README's
"Using it" block exactly as written (only its output paths moved into the test's folder).

The demo's warehouse and data go to a temporary folder (KPIS_DEMO_WAREHOUSE, KPIS_DEMO_DATA),
so the test never touches a developer's own demo.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

from conftest import REPO, duckdb_env_for, kpis, query_rows

KPI_VALUES = (
    "select metric_name, grain, cast(period_start as varchar), value, is_complete "
    "from marts.kpi_values order by 1, 2, 3"
)


def _demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(REPO / "scripts/dev/demo.sh")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def readme_block() -> list[str]:
    """The commands of the README's "Using it" block, one per line, comments dropped."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Using it", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_demo_twice_then_the_readme_block(tmp_path: Path) -> None:
    env = duckdb_env_for(tmp_path)
    env["KPIS_DEMO_WAREHOUSE"] = env["KPIS_DUCKDB_PATH"]
    env["KPIS_DEMO_DATA"] = str(tmp_path / "demo")

    first = _demo(env)
    assert "KPI summary" in first.stdout and "Monthly active projects" in first.stdout
    values = query_rows(env, KPI_VALUES)
    newest = query_rows(env, "select max(collector_tstamp) from raw.snowplow_events")[0][0]
    yesterday = date.fromordinal(datetime.now(UTC).date().toordinal() - 1).isoformat()
    assert str(newest).startswith(yesterday), newest  # the sample ends yesterday

    # a second run starts over: the same numbers, and only its own loads in the warehouse
    second = _demo(env)
    assert "starting from a clean warehouse" in second.stdout
    assert query_rows(env, KPI_VALUES) == values
    loads = query_rows(env, "select count(*), sum(rows_loaded) from raw.load_log")[0]
    assert loads[0] <= 2, loads  # the generated sample (+ the real one when present)
    demo_files = [p.name for p in Path(env["KPIS_DEMO_DATA"]).iterdir()]
    assert demo_files == ["sample.jsonl.gz"]  # the compressed sample only

    check = kpis("check", "--format", "json", "--no-quality", env=env)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr
    evaluation = json.loads(check.stdout)
    assert {h["status"] for h in evaluation["health_metrics"]} == {"ok"}
    statuses = {kr["status"] for kr in evaluation["key_results"]}
    if datetime.now(UTC).date() <= date(2026, 12, 31):  # while the example OKRs' quarter runs
        assert {"on track", "at risk", "achieved"} <= statuses, statuses

    # the README's block, as written, in the repository folder with .venv's commands first
    moved = {
        "data/more.jsonl.gz": str(tmp_path / "more.jsonl.gz"),
        "kpis report": f"kpis report --output-dir {tmp_path / 'report'}",
    }
    env["PATH"] = f"{REPO / '.venv/bin'}:{env['PATH']}"
    ran = []
    for command in readme_block():
        if command.startswith("source "):
            continue
        for old, new in moved.items():
            command = command.replace(old, new)
        result = subprocess.run(
            ["bash", "-c", command], env=env, cwd=REPO, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        ran.append((command, result.stdout))
    assert len(ran) >= 8
    loads_of_more = [out for command, out in ran if command.startswith("kpis load")]
    assert re.search(r"1 file\(s\) loaded", loads_of_more[0])
    assert re.search(r"1 skipped", loads_of_more[1])  # the same file again
    assert (tmp_path / "report" / "index.html").exists()
