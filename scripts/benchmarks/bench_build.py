"""Benchmark the dbt build: full build vs a one-query JSON baseline, +1 day incremental, memory.

For each generated corpus (``kpis generate`` JSONL files, generated once and reused):

1. split it by load time: every day but the last (``base``) and the last day (``last``);
2. load ``base`` into a fresh warehouse (not timed as part of the build);
3. time dbt start-up alone (``dbt parse``), then the full build (``dbt run --full-refresh``:
   every model; data tests are not part of the figure);
4. time the baseline: ONE query that parses, once, every JSON field the models use from every
   raw row (contexts exploded, each context's fields, plugins exploded, the event's fields);
5. load ``last`` and time the incremental build (``dbt run``);
6. peak memory: max RSS of each dbt process (os.wait4), and on PostgreSQL the largest RSS of
   one server process seen while dbt ran (sampled from /proc).

Usage (files under /tmp/kpis/bench by default; the biggest last, in the background):

    python scripts/benchmarks/bench_build.py --engine duckdb events_100k.jsonl events_1m.jsonl
    python scripts/benchmarks/bench_build.py --engine postgres events_100k.jsonl

Prints one table row per corpus and appends it as JSON to <work-dir>/results.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN = {
    "host": os.environ.get("KPIS_PG_HOST", "127.0.0.1"),
    "port": os.environ.get("KPIS_PG_PORT", "54329"),
    "user": os.environ.get("KPIS_PG_USER", "kpis"),
    "password": os.environ.get("KPIS_PG_PASSWORD", "kpis"),
}

# The JSON fields the models read (int_* models), for the baseline query.
CONTEXT_FIELDS = [
    "context_uuid", "project_uuid", "project_uuid_source", "client_uuid",
    "environment_name_hash", "send_anonymous_usage_stats", "parent_context_uuid",
    "meltano_version", "python_version", "is_ci_environment", "command",
    "parent_command_hint", "sub_command",
]  # fmt: skip
PLUGIN_FIELDS = [
    "category", "name_hash", "namespace_hash", "executable_hash", "variant_name_hash",
    "parent_name_hash", "pip_url_hash", "command",
]  # fmt: skip
EVENT_FIELDS = ["event", "type", "exit_code", "setting_name", "changed_from", "changed_to"]


def baseline_sql(engine: str) -> str:
    if engine == "duckdb":
        ctx = ", ".join(
            f"max(json_extract_string(c.value, '$.data.{f}')) as c_{f}" for f in CONTEXT_FIELDS
        )
        plug = ", ".join(
            f"max(json_extract_string(p.value, '$.{f}')) as p_{f}" for f in PLUGIN_FIELDS
        )
        ev = ", ".join(
            f"max(json_extract_string(unstruct_event, '$.data.data.{f}')) as e_{f}"
            for f in EVENT_FIELDS
        )
        return f"""
        with events as (
            select contexts, unstruct_event from raw.snowplow_events
            where json_valid(contexts) and json_valid(unstruct_event)
        ),
        ev as (select count(*) as n, max(json_extract_string(unstruct_event, '$.data.schema'))
               as s, {ev} from events),
        ctx as (select count(*) as n, max(json_extract_string(c.value, '$.schema')) as s,
                {ctx}, max(json_extract_string(c.value, '$.data.options.blocks')) as blocks
                from events, json_each(events.contexts, '$.data') as c),
        plugins as (select count(*) as n, {plug}
                from events, json_each(events.contexts, '$.data') as c,
                     json_each(c.value, '$.data.plugins') as p)
        select * from ev, ctx, plugins
        """
    ctx = ", ".join(f"max(c.value -> 'data' ->> '{f}') as c_{f}" for f in CONTEXT_FIELDS)
    plug = ", ".join(f"max(p.value ->> '{f}') as p_{f}" for f in PLUGIN_FIELDS)
    ev = ", ".join(f"max(u.doc #>> '{{data,data,{f}}}') as e_{f}" for f in EVENT_FIELDS)
    return f"""
    with events as materialized (
        select cast(contexts as jsonb) as contexts, cast(unstruct_event as jsonb) as doc
        from raw.snowplow_events
        where telemetry_kpis.is_valid_json(contexts)
            and telemetry_kpis.is_valid_json(unstruct_event)
    ),
    ev as (select count(*) as n, max(u.doc #>> '{{data,schema}}') as s, {ev} from events as u),
    ctx as (select count(*) as n, max(c.value ->> 'schema') as s, {ctx},
            max(c.value #>> '{{data,options,blocks}}') as blocks
            from events, jsonb_array_elements(events.contexts -> 'data') as c),
    plugins as (select count(*) as n, {plug}
            from events, jsonb_array_elements(events.contexts -> 'data') as c,
                 jsonb_array_elements(case when jsonb_typeof(c.value #> '{{data,plugins}}')
                     = 'array' then c.value #> '{{data,plugins}}' else '[]' end) as p)
    select * from ev, ctx, plugins
    """


def split_by_last_day(path: Path) -> tuple[Path, Path, int, int]:
    """(base, last) files: rows of every load day but the last, and of the last one."""
    base, last = path.with_suffix(".base.jsonl"), path.with_suffix(".last.jsonl")
    if not (base.exists() and last.exists()):
        newest = ""
        with path.open() as handle:
            for line in handle:
                newest = max(newest, json.loads(line)["uploaded_at"][:10])
        with path.open() as src, base.open("w") as b, last.open("w") as lst:
            for line in src:
                (lst if json.loads(line)["uploaded_at"][:10] == newest else b).write(line)
    count = [sum(1 for _ in p.open()) for p in (base, last)]
    return base, last, count[0], count[1]


class PgServerPeak:
    """Largest RSS (MB) of one PostgreSQL server process, sampled from /proc while running."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                if "\nName:\tpostgres" not in "\n" + status:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
            self._stop.wait(0.5)

    def __enter__(self) -> PgServerPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; (seconds, max RSS in MB of that process)."""
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({process.returncode}):\n{out[-4000:]}")
    return seconds, usage.ru_maxrss / 1024


def dbt(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    base = [str(Path(sys.executable).with_name("dbt")), *args, "--quiet"]
    return run([*base, "--project-dir", str(REPO), "--profiles-dir", str(REPO)], env)


def timed_query(engine: str, env: dict[str, str], sql: str) -> float:
    if engine == "duckdb":
        import duckdb

        with duckdb.connect(env["KPIS_DUCKDB_PATH"], read_only=True) as connection:
            connection.execute(f"set memory_limit = '{env['KPIS_DUCKDB_MEMORY_LIMIT']}'")
            started = time.perf_counter()
            connection.execute(sql).fetchall()
            return time.perf_counter() - started
    import psycopg

    with psycopg.connect(**_pg_params(env)) as connection:
        started = time.perf_counter()
        connection.execute(sql).fetchall()
        return time.perf_counter() - started


def _pg_params(env: dict[str, str]) -> dict[str, str]:
    return {
        "host": env["KPIS_PG_HOST"],
        "port": env["KPIS_PG_PORT"],
        "user": env["KPIS_PG_USER"],
        "password": env["KPIS_PG_PASSWORD"],
        "dbname": env["KPIS_PG_DATABASE"],
    }


def prepare_env(engine: str, work: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIS_", "DBT_"))}
    env.update(
        {
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
            "DBT_TARGET": engine,
            "DBT_TARGET_PATH": str(work / f"target_{engine}_{name}"),
            "DBT_LOG_PATH": str(work / f"logs_{engine}_{name}"),
            "KPIS_DUCKDB_MEMORY_LIMIT": os.environ.get("KPIS_DUCKDB_MEMORY_LIMIT", "2GB"),
        }
    )
    if engine == "duckdb":
        path = work / f"bench_{name}.duckdb"
        path.unlink(missing_ok=True)
        env["KPIS_DUCKDB_PATH"] = str(path)
    else:
        import psycopg

        database = f"kpis_bench_{name}"
        with psycopg.connect(**PG_ADMIN, dbname="postgres", autocommit=True) as connection:
            connection.execute(f'drop database if exists "{database}" with (force)')
            connection.execute(f'create database "{database}"')
        env.update({f"KPIS_PG_{k.upper()}": str(v) for k, v in PG_ADMIN.items()})
        env["KPIS_PG_DATABASE"] = database
    return env


def bench(engine: str, corpus: Path, work: Path) -> dict[str, object]:
    name = corpus.name.split(".")[0].removeprefix("events_")
    base, last, base_rows, last_rows = split_by_last_day(corpus)
    env = prepare_env(engine, work, name)
    kpis = [sys.executable, "-m", "telemetry_kpis"]
    load_s, _ = run([*kpis, "load", str(base), "--no-progress"], env)
    dbt(["seed"], env)
    startup_s, _ = dbt(["parse", "--no-partial-parse"], env)
    with PgServerPeak() as server_full:
        full_s, full_rss = dbt(["run", "--full-refresh"], env)
    baseline_s = timed_query(engine, env, baseline_sql(engine))
    run([*kpis, "load", str(last), "--no-progress"], env)
    with PgServerPeak() as server_incr:
        incr_s, incr_rss = dbt(["run"], env)
    result = {
        "engine": engine,
        "corpus": corpus.name,
        "events": base_rows + last_rows,
        "base_rows": base_rows,
        "last_day_rows": last_rows,
        "load_base_s": round(load_s, 1),
        "dbt_startup_s": round(startup_s, 1),
        "full_build_s": round(full_s, 1),
        "baseline_s": round(baseline_s, 1),
        "build_over_baseline": round(full_s / baseline_s, 2),
        "incremental_1day_s": round(incr_s, 1),
        "incremental_over_full": round(incr_s / full_s, 3),
        "dbt_peak_rss_mb": round(max(full_rss, incr_rss)),
        "pg_server_peak_rss_mb": round(max(server_full.peak_mb, server_incr.peak_mb))
        if engine == "postgres"
        else None,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": f"{platform.node()} nproc={os.cpu_count()}",
    }
    with (work / "results.jsonl").open("a") as handle:
        handle.write(json.dumps(result) + "\n")
    if engine == "postgres":
        import psycopg

        with psycopg.connect(**PG_ADMIN, dbname="postgres", autocommit=True) as connection:
            connection.execute(f'drop database if exists "{env["KPIS_PG_DATABASE"]}" with (force)')
    else:
        Path(env["KPIS_DUCKDB_PATH"]).unlink(missing_ok=True)
    return result


COLUMNS = [
    ("engine", "engine"),
    ("events", "events"),
    ("dbt_startup_s", "dbt start-up s"),
    ("full_build_s", "full build s"),
    ("baseline_s", "baseline s"),
    ("build_over_baseline", "build/baseline"),
    ("incremental_1day_s", "+1 day s"),
    ("incremental_over_full", "+1 day/full"),
    ("dbt_peak_rss_mb", "dbt peak RSS MB"),
    ("pg_server_peak_rss_mb", "PG backend peak RSS MB"),
]


def print_row(result: dict[str, object], header: bool) -> None:
    if header:
        print("| " + " | ".join(title for _, title in COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
    print("| " + " | ".join(str(result[key]) for key, _ in COLUMNS) + " |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", help="JSONL files (relative to --data-dir)")
    parser.add_argument("--engine", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/kpis/bench"))
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/kpis/bench/work"))
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    for number, corpus in enumerate(args.corpora):
        print_row(bench(args.engine, args.data_dir / corpus, args.work_dir), header=number == 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
