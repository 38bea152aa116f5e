"""Who a synthetic project is: its archetype, Meltano release, machine, plugins and pipelines.

Everything is drawn from the project's own ``random.Random``, seeded from (seed, project
index), so a project never depends on the others or on how the work is split between
processes; noise draws use a second generator so that noise never changes the clean events.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from telemetry_kpis.generate.catalogue import (
    ARCHETYPES,
    DBTS,
    EXPECTED_SOURCE,
    IP_BLOCKS,
    PLUGIN_POOL,
    PYTHONS,
    SYSTEMS,
    TAPS,
    TARGETS,
    TIMEZONES,
    VERSIONS,
    System,
)
from telemetry_kpis.generate.iglu import sha
from telemetry_kpis.generate.stamps import DAY_MS, HOUR_MS, derived_uuid, uuid4, uuid7

#: a plugin as the CLI reports it: (name, command); Meltano 4 sends [] for extract-load blocks
PluginRef = tuple[str, str | list[str] | None]


@dataclass
class Pipeline:
    blocks: tuple[str, ...]  # as typed: plugin names, `dbt-x:run`, or a job name
    plugins: list[list[PluginRef]]  # per block: [(plugin name, command)]
    job: str | None = None


@dataclass(eq=False)
class Project:
    index: int
    rng: random.Random
    nrng: random.Random  # noise draws only
    archetype: str
    family: str
    version: str
    start_ms: int
    ips: list[str]
    tz: str
    skew_ms: int = 0
    project_id: str = ""
    source: str = "explicit"
    client: str = ""
    env_name: str | None = None
    env_hash: str | None = None  # sha(env_name)
    env_via_option: bool = False
    ci: bool = False
    ci_repo: str = ""
    plugins: list[str] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    system: System = SYSTEMS[0]
    python: str = "3.11.9"
    telemetry_on: bool = True
    pending_change: tuple[str, bool, bool] | None = None  # (setting, from, to): next command
    usage_source: str = "default"
    shell_ms: int = 0
    # ground truth
    truth_commands: dict[str, dict[str, int]] = field(default_factory=dict)
    project_ids: list[str] = field(default_factory=list)
    executions: int = 0
    # encoded texts that only change with the project (see contexts.py)
    cli_cache: dict[tuple[Any, ...], str] = field(default_factory=dict)
    env_pieces: tuple[str, str, str, str, bool] | None = None
    proj_cache: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)
    #: ms -> a fresh context/project id: UUIDv7 for Meltano 3.x/4.x, UUIDv4 before
    new_id: Callable[[int], str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rng = self.rng
        if self.family in ("v4", "v3"):
            self.new_id = partial(uuid7, rng)
        else:
            self.new_id = lambda ms: uuid4(rng)

    def truth(self) -> dict[str, Any]:
        """What the KPIs should find for this project."""
        return {
            "index": self.index,
            "archetype": self.archetype,
            "meltano_version": self.version,
            "project_ids": self.project_ids,
            "expected_id_source": EXPECTED_SOURCE.get(self.archetype, "explicit"),
            "ci": self.ci,
            "environment": self.env_name,
            "ips": self.ips,
            "clock_skew_ms": self.skew_ms,
            "executions": self.executions,
            "commands": self.truth_commands,
            "pipelines": [" ".join(pl.blocks) for pl in self.pipelines],
        }


def make_project(seed: int, index: int, window_start: int, days: int, skew_rate: float) -> Project:
    """Project ``index`` of the run seeded ``seed`` (the order of the draws is the format)."""
    rng = random.Random(f"{seed}:{index}")
    names = list(ARCHETYPES)
    archetype = rng.choices(names, weights=[ARCHETYPES[n] for n in names])[0]
    if archetype == "legacy_2x":
        family = rng.choice(["v20", "v22"])
    elif archetype == "legacy_pre2":
        family = "pre2"
    else:
        family = rng.choices(["v4", "v3", "v25"], weights=[6, 3, 1])[0]
    span = max(1, int(days * (0.9 if archetype != "whale" else 0.5)))
    start = window_start + rng.randrange(span) * DAY_MS + rng.randrange(7, 20) * HOUR_MS
    start += rng.randrange(HOUR_MS)
    block = rng.choice(IP_BLOCKS)
    ips = [block + str(rng.randrange(1, 255))]
    version = rng.choice(VERSIONS[family])
    p = Project(
        index=index,
        rng=rng,
        nrng=random.Random(f"{seed}:{index}:noise"),
        archetype=archetype,
        family=family,
        version=version,
        start_ms=start,
        ips=ips,
        tz=rng.choice(TIMEZONES),
    )
    if p.nrng.random() < skew_rate:
        p.skew_ms = p.nrng.choice([-1, 1]) * p.nrng.randrange(60_000, 900_000)
    p.system = rng.choice(SYSTEMS)
    p.python = rng.choice(PYTHONS)
    p.shell_ms = start - rng.randrange(HOUR_MS, 30 * DAY_MS)
    p.client = p.new_id(start)
    p.project_id = p.new_id(start)
    if archetype in ("random_persisted",) or rng.random() < 0.15:
        p.ips.append(rng.choice(IP_BLOCKS) + str(rng.randrange(1, 255)))
    _add_pipelines(p, rng.randint(3, 6) if archetype == "whale" else rng.randint(1, 2))
    envs = [None, "dev", "prod", "staging"]
    p.env_name = rng.choices(envs, weights=[4, 3, 4, 1])[0]
    p.env_via_option = rng.random() < 0.3
    if archetype in ("ci_only", "ci_derived"):
        p.ci = True
        p.ci_repo = f"org{index}/data-platform"
        p.usage_source = "env"
        p.env_name = "prod"
    if archetype == "ci_derived":
        p.source = "derived"
        p.project_id = derived_uuid(f"acme-{index}-{rng.randrange(10**6)}")
    p.env_hash = sha(p.env_name) if p.env_name else None
    return p


def _add_pipelines(p: Project, count: int) -> None:
    """``count`` tap -> target pipelines, some with a dbt step or a job name."""
    rng = p.rng
    used: list[str] = []
    for _ in range(count):
        tap, target = rng.choice(TAPS), rng.choice(TARGETS)
        blocks: list[str] = [tap, target]
        plugins: list[list[PluginRef]] = [[(tap, None), (target, None)]]
        if target in DBTS and rng.random() < 0.45:
            dbt = DBTS[target]
            cmd = rng.choice(PLUGIN_POOL[dbt][4][:2])
            blocks.append(f"{dbt}:{cmd}")
            plugins.append([(dbt, cmd)])
            used.append(dbt)
        used += [tap, target]
        job = None
        if rng.random() < 0.25:
            job = f"{tap.removeprefix('tap-')}-job"
        p.pipelines.append(Pipeline(tuple(blocks), plugins, job))
    p.plugins = list(dict.fromkeys(used))
