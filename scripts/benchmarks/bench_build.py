"""Benchmark the dbt build: full build vs a one-query JSON baseline, +1 day incremental, memory.

For each engine and corpus size (``100k``, ``1m``, ``5m``, ``10m``: ``kpis generate --days 90
--noise --seed 11``, gzipped JSON lines under --data-dir, generated once and reused):

0. generate it if missing: ``--projects`` is calibrated so the row count is within 10 % of the
   size (rows per project grow with the number of projects: whales), recorded in
   ``events_<size>.meta.json``;
1. split it, streaming gz to gz, at the last EVENT day (derived_tstamp date): ``base`` = rows of
   every earlier event day (and rows whose derived_tstamp is not a date), ``last`` = rows of the
   last event day, their uploaded_at shifted to after every base row (so the incremental build
   sees them as new, their order kept);
2. load ``base`` into a fresh warehouse (timed apart: load rows/s, not part of the build);
3. time dbt start-up alone (``dbt run`` selecting no model), then the full build
   (``dbt run --full-refresh``: every model; data tests are not part of the figure); its
   run_results.json is kept as ``run_results_<engine>_<size>.json`` (per-model profile);
4. time the baseline: ONE query that parses, once, every JSON field the models use from every
   raw row (contexts exploded, each context's fields, plugins exploded, the event's fields);
5. load ``last`` and time the incremental build (``dbt run``); its run_results.json is kept as
   ``run_results_<engine>_<size>_plus1day.json`` and its peak RSS is reported on its own;
6. time ``kpis build`` with nothing selected (best of three): what a scheduled build pays before
   dbt's first node (imports, the warehouse check, dbt's start-up with its partial parse);
7. peak memory: max RSS of each dbt process (os.wait4; DuckDB runs inside it, its memory_limit
   is KPIS_DUCKDB_MEMORY_LIMIT, default 1536MB), and on PostgreSQL the largest RSS of one server
   process seen while dbt ran (sampled from /proc); the 1-minute load average is sampled too.

Then, once, ``kpis generate`` to a plain JSONL file (300 projects x 60 days, 2 workers):
events/s.

Usage (a quiet machine; PostgreSQL needs KPIS_PG_* or scripts/dev/postgres.sh's server):

    python scripts/benchmarks/bench_build.py --engine duckdb,postgres 1m
    python scripts/benchmarks/bench_build.py --engine duckdb 5m 10m --no-generate-rate

Prints one table row per engine and size (appended as JSON to <work-dir>/results.jsonl), then
every target of issue 17 that the run measured, with its figure and whether it holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench_corpus import corpus_projects, generate, split_by_last_event_day

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
        # Each JSON value is parsed once: one json_extract with a list of paths per document
        # (contexts, each context, each plugin, unstruct_event), arrays split with unnest (a
        # streaming operator; json_each in a lateral join would hash every contexts text).
        def paths(prefix: str, fields: list[str]) -> str:
            return "[" + ", ".join(f"'{prefix}{f}'" for f in fields) + "]"

        event_paths = paths("$.data.", ["schema"] + [f"data.{f}" for f in EVENT_FIELDS])
        context_paths = paths(
            "$.", ["schema", *(f"data.{f}" for f in CONTEXT_FIELDS), "data.options.blocks"]
        )
        return f"""
        with events as (
            select contexts, unstruct_event from raw.snowplow_events
            where json_valid(contexts) and json_valid(unstruct_event)
        ),
        ev as (
            select count(*) as n,
                max(cast(json_extract_string(unstruct_event, {event_paths}) as varchar)) as f
            from events
        ),
        contexts as (
            select unnest(cast(json_extract(contexts, '$.data') as json[])) as c from events
        ),
        ctx as (
            select json_extract_string(c, {context_paths}) as f,
                json_extract(c, '$.data.plugins') as plugins
            from contexts
        ),
        ctx_agg as (select count(*) as n, max(cast(f as varchar)) as f from ctx),
        plugins as (
            select unnest(cast(plugins as json[])) as p from ctx
            where json_type(plugins) = 'ARRAY'
        ),
        plugin_agg as (
            select count(*) as n,
                max(cast(json_extract_string(p, {paths("$.", PLUGIN_FIELDS)}) as varchar)) as f
            from plugins
        )
        select ev.n, ctx_agg.n, plugin_agg.n, length(ev.f), length(ctx_agg.f), length(plugin_agg.f)
        from ev, ctx_agg, plugin_agg
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


NOTHING = "tag:bench_selects_nothing"  # a selector that matches no node: start-up alone


class Sampler:
    """While running: the 1-minute load average, and (postgres) the largest RSS (MB) of one
    PostgreSQL server process, sampled from /proc every 0.5 s."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.peak_mb = 0.0
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def load(self) -> float:
        return round(sum(self.loads) / len(self.loads), 1) if self.loads else os.getloadavg()[0]

    def _run(self) -> None:
        while not self._stop.is_set():
            self.loads.append(os.getloadavg()[0])
            for pid in os.listdir("/proc") if self.postgres else ():
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

    def __enter__(self) -> Sampler:
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
    """Seconds of ``sql``, run in a child process.

    Not in this process: a child's max RSS (os.wait4) starts from its parent's at fork, so a
    benchmark process that had held DuckDB's buffers would inflate every later dbt figure.
    """
    code = "import sys, bench_build; print(bench_build.query_seconds(*sys.argv[1:]))"
    out = subprocess.run(
        [sys.executable, "-c", code, engine, sql],
        env={**env, "PYTHONPATH": str(Path(__file__).parent)},
        cwd=REPO, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return float(out.stdout.split()[-1])


def query_seconds(engine: str, sql: str) -> float:
    """Seconds of ``sql`` on the warehouse of this process's environment (see timed_query)."""
    env = dict(os.environ)
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


def drop_database(database: str) -> None:
    """Drop a benchmark database; retried, as an autovacuum worker (superuser) can block FORCE."""
    import psycopg

    for attempt in range(6):
        try:
            with psycopg.connect(**PG_ADMIN, dbname="postgres", autocommit=True) as connection:
                connection.execute(f'drop database if exists "{database}" with (force)')
            return
        except psycopg.errors.InsufficientPrivilege:
            time.sleep(5 * (attempt + 1))
    print(f"warning: could not drop database {database}", file=sys.stderr)


def prepare_env(engine: str, work: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIS_", "DBT_"))}
    env.update(
        {
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
            "DBT_TARGET": engine,
            "DBT_TARGET_PATH": str(work / f"target_{engine}_{name}"),
            "DBT_LOG_PATH": str(work / f"logs_{engine}_{name}"),
            "KPIS_DUCKDB_MEMORY_LIMIT": os.environ.get("KPIS_DUCKDB_MEMORY_LIMIT", "1536MB"),
        }
    )
    if engine == "duckdb":
        path = work / f"bench_{name}.duckdb"
        path.unlink(missing_ok=True)
        env["KPIS_DUCKDB_PATH"] = str(path)
    else:
        import psycopg

        database = f"kpis_bench_{name}"
        drop_database(database)
        with psycopg.connect(**PG_ADMIN, dbname="postgres", autocommit=True) as connection:
            connection.execute(f'create database "{database}"')
        env.update({f"KPIS_PG_{k.upper()}": str(v) for k, v in PG_ADMIN.items()})
        env["KPIS_PG_DATABASE"] = database
    return env


def top_models(run_results: Path, count: int = 5) -> list[tuple[str, float]]:
    results = json.loads(run_results.read_text())["results"]
    timed = [(r["unique_id"].split(".")[-1], r["execution_time"]) for r in results]
    return [(name, round(sec, 1)) for name, sec in sorted(timed, key=lambda x: -x[1])[:count]]


def bench(engine: str, size: str, data_dir: Path, work: Path) -> dict[str, Any]:
    corpus = generate(size, data_dir)
    base, last, base_rows, last_rows = split_by_last_event_day(corpus)
    env = prepare_env(engine, work, size)
    kpis = [sys.executable, "-m", "telemetry_kpis"]
    load_s, load_rss = run([*kpis, "load", str(base), "--no-progress"], env)
    dbt(["seed"], env)
    dbt(["parse"], env)  # the manifest the runs below reuse (partial parsing)
    startup_s, _ = dbt(["run", "--select", NOTHING], env)
    with Sampler(engine == "postgres") as full:
        full_s, full_rss = dbt(["run", "--full-refresh"], env)
    profile = work / f"run_results_{engine}_{size}.json"
    shutil.copy(Path(env["DBT_TARGET_PATH"]) / "run_results.json", profile)
    baseline_s = timed_query(engine, env, baseline_sql(engine))
    load_last_s, _ = run([*kpis, "load", str(last), "--no-progress"], env)
    with Sampler(engine == "postgres") as incr:
        incr_s, incr_rss = dbt(["run"], env)
    incr_profile = work / f"run_results_{engine}_{size}_plus1day.json"
    shutil.copy(Path(env["DBT_TARGET_PATH"]) / "run_results.json", incr_profile)
    # What a scheduled `kpis build` pays before dbt's first node: imports, the warehouse check,
    # dbt's start-up (partial parse), nothing selected. Best of three.
    kpis_startup_s = min(
        run([*kpis, "build", "--command", "run", "--select", NOTHING, "--quiet"], env)[0]
        for _ in range(3)
    )
    result = {
        "engine": engine,
        "size": size,
        "events": base_rows + last_rows,
        "base_rows": base_rows,
        "last_day_rows": last_rows,
        "projects": corpus_projects(corpus, size),
        "load_base_s": round(load_s, 1),
        "load_rows_per_s": round(base_rows / load_s),
        "load_last_s": round(load_last_s, 1),
        "load_peak_rss_mb": round(load_rss),
        "dbt_startup_s": round(startup_s, 1),
        "kpis_build_startup_s": round(kpis_startup_s, 1),
        "full_build_s": round(full_s, 1),
        "baseline_s": round(baseline_s, 1),
        "build_over_baseline": round(full_s / baseline_s, 2),
        "sql_over_baseline": round((full_s - startup_s) / baseline_s, 2),
        "incremental_1day_s": round(incr_s, 1),
        "incremental_over_full": round(incr_s / full_s, 3),
        "incremental_sql_over_full_sql": round((incr_s - startup_s) / (full_s - startup_s), 3),
        "dbt_peak_rss_mb": round(max(full_rss, incr_rss)),
        "incremental_peak_rss_mb": round(incr_rss),
        "pg_server_peak_rss_mb": round(max(full.peak_mb, incr.peak_mb))
        if engine == "postgres"
        else "-",
        "load_avg": f"{full.load}/{incr.load}",
        "duckdb_memory_limit": env["KPIS_DUCKDB_MEMORY_LIMIT"] if engine == "duckdb" else "-",
        "top_models": top_models(profile),
        "top_models_1day": top_models(incr_profile),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": f"{platform.node()} nproc={os.cpu_count()}",
    }
    with (work / "results.jsonl").open("a") as handle:
        handle.write(json.dumps(result) + "\n")
    if engine == "postgres":
        drop_database(env["KPIS_PG_DATABASE"])
    else:
        Path(env["KPIS_DUCKDB_PATH"]).unlink(missing_ok=True)
    return result


COLUMNS = [
    ("engine", "engine"),
    ("events", "events"),
    ("dbt_startup_s", "dbt start-up s"),
    ("kpis_build_startup_s", "kpis build start-up s"),
    ("full_build_s", "full build s"),
    ("baseline_s", "baseline s"),
    ("build_over_baseline", "build/baseline"),
    ("incremental_1day_s", "+1 day s"),
    ("incremental_over_full", "+1 day/full"),
    ("dbt_peak_rss_mb", "dbt peak RSS MB"),
    ("incremental_peak_rss_mb", "+1 day peak RSS MB"),
    ("pg_server_peak_rss_mb", "PG backend peak RSS MB"),
    ("load_rows_per_s", "kpis load rows/s"),
    ("load_avg", "load avg full/+1d"),
]


def print_row(result: dict[str, object], header: bool) -> None:
    if header:
        print("| " + " | ".join(title for _, title in COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
    print("| " + " | ".join(str(result[key]) for key, _ in COLUMNS) + " |", flush=True)


def generate_rate(work: Path) -> dict[str, Any]:
    """`kpis generate` to a plain JSONL file (300 projects x 60 days, 2 workers): events/s."""
    out = work / "generate_rate.jsonl"
    seconds, _ = run(
        [sys.executable, "-m", "telemetry_kpis", "generate", "--projects", "300", "--days", "60",
         "--seed", "1", "--start-date", "2026-01-01", "--workers", "2", "--quiet",
         "--output", str(out)],
        dict(os.environ),
    )  # fmt: skip
    with out.open("rb") as handle:
        rows = sum(1 for _ in handle)
    out.unlink()
    return {"rows": rows, "seconds": round(seconds, 1), "events_per_s": round(rows / seconds)}


def target_rows(results: list[dict[str, Any]], generated: dict[str, Any] | None) -> list[str]:
    """The targets of issue 17 this run measured, one Markdown row each: figure, verdict."""
    rows: list[str] = []

    def add(label: str, value: float, target: float, higher_is_better: bool = False) -> None:
        holds = value >= target if higher_is_better else value <= target
        sign = ">=" if higher_is_better else "<="
        verdict = "holds" if holds else "MISSED"
        rows.append(f"| {label} | {value:,} | {sign} {target:,} | {verdict} |")

    for r in results:
        where = f"{r['engine']} {r['size']} ({r['events']:,} events)"
        duck, big = r["engine"] == "duckdb", r["events"] > 2_000_000
        add(f"{where}: full build / baseline, SQL", r["sql_over_baseline"], 2.0 if duck else 2.5)
        if duck:
            add(f"{where}: full build / baseline, total", r["build_over_baseline"], 2.3)
        day_target = (0.05 if big else 0.10) if duck else 0.08
        add(f"{where}: +1 day / full build", r["incremental_over_full"], day_target)
        add(f"{where}: kpis build start-up s", r["kpis_build_startup_s"], 4.0)
        if duck:
            add(f"{where}: dbt peak RSS MB", r["dbt_peak_rss_mb"], 2500 if big else 2000)
    if generated:
        add("kpis generate to a file, events/s", generated["events_per_s"], 100_000, True)
    return rows


def engines(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - {"duckdb", "postgres"})
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected duckdb and/or postgres, not {text!r}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", help="corpus sizes: 100k, 1m, 5m, 10m (or e.g. 250k)")
    parser.add_argument(
        "--engine",
        type=engines,
        default=["duckdb"],
        help="engines, comma-separated, each run on every size: duckdb (default), postgres",
    )
    parser.add_argument(
        "--no-generate-rate", action="store_true", help="skip the `kpis generate` rate row"
    )
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/kpis/bench2"))
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/kpis/bench2/work"))
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for engine in args.engine:
        for size in args.sizes:
            results.append(bench(engine, size, args.data_dir, args.work_dir))
            print_row(results[-1], header=len(results) == 1)
    generated = None if args.no_generate_rate else generate_rate(args.work_dir)
    print("\n| target (issue 17) | measured | target | |\n|---|---|---|---|")
    print("\n".join(target_rows(results, generated)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
