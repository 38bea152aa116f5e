"""What a synthetic project is drawn from: Meltano releases, plugins, systems and archetypes.

The tables follow what the real Meltano CLI reports: each release family pins the Iglu schema
versions of its contexts and events, and the option and exception payloads (templates.json)
are copied from real CLI events, so the generated rows validate against the same schemas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from telemetry_kpis.generate.iglu import sha

_TEMPLATES = json.loads((Path(__file__).with_name("templates.json")).read_text())
#: "command|parent" -> the options of that CLI context, as the real CLI sends them
OPTIONS: dict[str, dict[str, Any]] = _TEMPLATES["options"]
#: exception key -> the exception object of an exception_context
EXCEPTIONS: dict[str, dict[str, Any]] = _TEMPLATES["exceptions"]

EMPTY_TUPLE_HASH = sha("()")  # 2e38e77b...: `meltano run` with no blocks

#: name -> (category, namespace, variant, pip_url, plugin commands)
PLUGIN_POOL: dict[str, tuple[str, str, str, str, tuple[str, ...]]] = {
    "tap-github": ("extractors", "tap_github", "meltanolabs", "meltanolabs-tap-github", ()),
    "tap-postgres": ("extractors", "tap_postgres", "meltanolabs", "meltanolabs-tap-postgres", ()),
    "tap-mysql": ("extractors", "tap_mysql", "transferwise", "pipelinewise-tap-mysql", ()),
    "tap-salesforce": ("extractors", "tap_salesforce", "meltanolabs", "tap-salesforce", ()),
    "tap-hubspot": ("extractors", "tap_hubspot", "meltanolabs", "tap-hubspot", ()),
    "tap-stripe": ("extractors", "tap_stripe", "meltanolabs", "tap-stripe", ()),
    "tap-google-analytics": ("extractors", "tap_google_analytics", "meltanolabs", "tap-ga", ()),
    "tap-csv": ("extractors", "tap_csv", "meltanolabs", "meltanolabs-tap-csv", ()),
    "tap-rest-api-msdk": ("extractors", "tap_rest_api_msdk", "widen", "tap-rest-api-msdk", ()),
    "target-snowflake": ("loaders", "target_snowflake", "meltanolabs", "target-snowflake", ()),
    "target-postgres": ("loaders", "target_postgres", "meltanolabs", "target-postgres", ()),
    "target-bigquery": ("loaders", "target_bigquery", "z3z1ma", "target-bigquery", ()),
    "target-jsonl": ("loaders", "target_jsonl", "andyh1203", "target-jsonl", ()),
    "target-duckdb": ("loaders", "target_duckdb", "jwills", "target-duckdb", ()),
    "meltano-map-transformer": ("mappers", "meltano_map_transform", "meltano", "mapper", ()),
    "dbt-snowflake": (
        "utilities",
        "dbt_snowflake",
        "dbt-labs",
        "dbt-core dbt-snowflake",
        ("run", "test", "build", "deps"),
    ),
    "dbt-postgres": (
        "utilities",
        "dbt_postgres",
        "dbt-labs",
        "dbt-core dbt-postgres",
        ("run", "test", "build", "seed"),
    ),
    "dbt-bigquery": (
        "utilities",
        "dbt_bigquery",
        "dbt-labs",
        "dbt-core dbt-bigquery",
        ("run", "test"),
    ),
    "dbt-duckdb": (
        "utilities",
        "dbt_duckdb",
        "jwills",
        "dbt-core dbt-duckdb",
        ("run", "test", "build"),
    ),
    "sqlfluff": ("utilities", "sqlfluff", "sqlfluff", "sqlfluff", ("lint", "fix")),
    "great_expectations": ("utilities", "great_expectations", "great-expectations", "ge", ("run",)),
    "airflow": ("orchestrators", "airflow", "apache", "apache-airflow", ("scheduler", "webserver")),
}
TAPS = [n for n, p in PLUGIN_POOL.items() if p[0] == "extractors"]
TARGETS = [n for n, p in PLUGIN_POOL.items() if p[0] == "loaders"]
DBTS = {
    "target-snowflake": "dbt-snowflake",
    "target-postgres": "dbt-postgres",
    "target-bigquery": "dbt-bigquery",
    "target-duckdb": "dbt-duckdb",
}

# Meltano version families: (versions, family)
VERSIONS = {
    "v4": ["4.4.1", "4.3.2", "4.2.0", "4.0.3"],
    "v3": ["3.7.8", "3.6.0", "3.5.4", "3.3.2"],
    "v25": ["2.20.0", "2.17.1", "2.10.0", "2.5.0"],
    "v20": ["2.0.3", "2.1.0"],  # cli_context 1-0-0
    "v22": ["2.2.0", "2.3.0", "2.4.0"],
    "pre2": ["1.105.0", "1.99.0", "1.77.0"],
}
#: family -> schema versions (env, project, cli, cli_event, exit) and extras
FAMILY = {
    "v4": ("1-3-0", "1-1-0", "1-1-0", "1-0-1", "1-0-1"),
    "v3": ("1-2-0", "1-1-0", "1-1-0", "1-0-1", "1-0-1"),
    "v25": ("1-1-0", "1-0-0", "1-1-0", "1-0-1", "1-0-0"),
    "v22": ("1-0-0", "1-0-0", "1-1-0", "1-0-0", "1-0-0"),
    "v20": ("1-0-0", "1-0-0", "1-0-0", "1-0-0", "1-0-0"),
}
TRACKER = {
    "v4": "py-1.1.0",
    "v3": "py-1.0.1",
    "v25": "py-0.12.0",
    "v22": "py-0.10.0",
    "v20": "py-0.10.0",
    "pre2": "py-0.8.0",
}
#: commands whose project_context.environment_name_hash is set
ENV_COMMANDS = {"run", "el", "elt", "invoke", "test"}

IP_BLOCKS = ("192.0.2.", "198.51.100.", "203.0.113.")
TIMEZONES = (
    "Etc/UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "Asia/Tokyo",
    "Europe/London",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Australia/Sydney",
)
#: (system name, release, version, machine, Windows edition, freedesktop id, id like, version)
System = tuple[str, str, str, str, str | None, str | None, str | None, str | None]
SYSTEMS: tuple[System, ...] = (
    ("Linux", "6.8.0-45-generic", "#45-Ubuntu SMP", "x86_64", None, "ubuntu", "debian", "24.04"),
    ("Linux", "6.1.0-25-amd64", "#1 SMP Debian", "x86_64", None, "debian", None, "12"),
    ("Darwin", "23.6.0", "Darwin Kernel Version 23.6.0", "arm64", None, None, None, None),
    ("Windows", "10", "10.0.19045", "AMD64", "Professional", None, None, None),
    ("Linux", "5.15.0-1064-azure", "#73-Ubuntu SMP", "x86_64", None, "ubuntu", "debian", "22.04"),
)
PYTHONS = ("3.9.19", "3.10.14", "3.11.9", "3.12.7", "3.13.1")

ARCHETYPES = {
    # name: weight
    "abandoned": 24,
    "poc_dormant_return": 8,
    "steady_daily": 14,
    "steady_weekly": 9,
    "whale": 2,
    "churned": 9,
    "ci_only": 5,
    "ci_derived": 3,
    "opted_out": 5,
    "random_short": 3,
    "random_persisted": 3,
    "legacy_2x": 6,
    "legacy_pre2": 3,
    "explorer": 6,
}

EXPECTED_SOURCE = {
    "random_short": "random",
    "random_persisted": "persisted_random",
    "ci_only": "random",
    "ci_derived": "derived",
}
NOISE_KINDS = (
    "duplicate",
    "late",
    "malformed",
    "no_project",
    "unknown_version",
    "unknown_event",
    "skew",
)
DEFAULT_NOISE = {
    "duplicate": 0.02,
    "late": 0.01,
    "malformed": 0.003,
    "no_project": 0.002,
    "unknown_version": 0.002,
    "unknown_event": 0.001,
    "skew": 0.05,
}
#: exit code -> the exception key of the exit_event's exception_context
EXIT_KEYS = {0: "exit0", 1: "exit1", 2: "exit2"}
